//! Which variables a Dockerfile word sees, as BuildKit scopes them: global ARGs (before the
//! first FROM) only in FROM lines, a stage's ARGs from their declaration on, ENV and the base
//! image's Env, `--build-arg` values for declared ARGs, the predefined proxy args and the
//! automatic platform args. Owns no expansion rules (see `expand.rs`).

use super::expand::{Lexer, VarList, Vars};
use super::instructions::ArgDecl;
use crate::engine::image::platform::Platform;
use std::collections::{BTreeMap, BTreeSet};

/// Build args usable without an ARG instruction; they reach RUN's environment only, and
/// stay out of the history and cache keys unless declared.
pub const PROXY_ARGS: &[&str] = &[
    "HTTP_PROXY",
    "http_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "FTP_PROXY",
    "ftp_proxy",
    "NO_PROXY",
    "no_proxy",
    "ALL_PROXY",
    "all_proxy",
];

/// The automatic platform args, in the global scope of every build.
pub fn platform_args(target: &Platform, build: &Platform) -> VarList {
    let mut v = VarList::new();
    for (prefix, p) in [("TARGET", target), ("BUILD", build)] {
        v.set(&format!("{prefix}PLATFORM"), &p.to_string());
        v.set(&format!("{prefix}OS"), &p.os);
        v.set(&format!("{prefix}ARCH"), &p.arch);
        v.set(&format!("{prefix}VARIANT"), p.variant.as_deref().unwrap_or(""));
    }
    v
}

/// `--build-arg` values and which of them some ARG consumed.
#[derive(Debug, Clone, Default)]
pub struct BuildArgs {
    values: BTreeMap<String, String>,
    consumed: BTreeSet<String>,
}

impl BuildArgs {
    pub fn new(values: BTreeMap<String, String>) -> BuildArgs {
        BuildArgs { values, consumed: BTreeSet::new() }
    }

    /// The value for a declared ARG, marking it consumed.
    fn take(&mut self, name: &str) -> Option<String> {
        let v = self.values.get(name).cloned();
        if v.is_some() {
            self.consumed.insert(name.to_string());
        }
        v
    }

    /// Proxy args given on the command line (for RUN's environment), in a stable order.
    pub fn proxies(&self) -> Vec<(String, String)> {
        PROXY_ARGS.iter().filter_map(|k| self.values.get(*k).map(|v| (k.to_string(), v.clone()))).collect()
    }

    /// Build args that no ARG of the built stages declared (podman warns about them).
    pub fn unconsumed(&self) -> Vec<String> {
        self.values
            .keys()
            .filter(|k| !self.consumed.contains(*k) && !PROXY_ARGS.contains(&k.as_str()))
            .cloned()
            .collect()
    }
}

/// The global scope: platform args, then the ARGs before the first FROM.
#[derive(Debug, Clone)]
pub struct GlobalScope {
    vars: VarList,
}

impl GlobalScope {
    /// Evaluates the global ARGs in order; a default may use the ones before it.
    pub fn new(decls: &[ArgDecl], platform: VarList, build: &mut BuildArgs, lx: &Lexer) -> Result<GlobalScope, String> {
        let mut vars = platform;
        for d in decls {
            let value = match (build.take(&d.name), &d.default) {
                (Some(v), _) => Some(v),
                (None, Some(def)) => Some(lx.word(def, &vars).map_err(|e| e.to_string())?),
                (None, None) => None,
            };
            // Declared without a value: a platform arg of that name keeps its value.
            if let Some(v) = value {
                vars.set(&d.name, &v);
            }
        }
        Ok(GlobalScope { vars })
    }

    pub fn vars(&self) -> &VarList {
        &self.vars
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars.get(name)
    }
}

/// A stage's variables while its instructions are walked in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageScope {
    /// The image config's Env: the base's Env and the stage's ENVs.
    env: VarList,
    /// What words and RUN see: `env` plus the ARGs in scope, last assignment wins.
    visible: VarList,
    /// The ARGs declared in this stage that have a value, in declaration order.
    args: VarList,
}

impl StageScope {
    pub fn new(base_env: VarList) -> StageScope {
        StageScope { visible: base_env.clone(), env: base_env, args: VarList::new() }
    }

    /// `ARG name[=default]`: the build arg if given, else the default (expanded with what is
    /// visible now), else the global ARG's value. Returns the value, if any.
    pub fn declare(
        &mut self,
        decl: &ArgDecl,
        build: &mut BuildArgs,
        global: &GlobalScope,
        lx: &Lexer,
    ) -> Result<Option<String>, String> {
        let value = match (build.take(&decl.name), &decl.default) {
            (Some(v), _) => Some(v),
            (None, Some(def)) => Some(lx.word(def, &self.visible).map_err(|e| e.to_string())?),
            (None, None) => global.get(&decl.name).map(str::to_string),
        };
        if let Some(v) = &value {
            self.visible.set(&decl.name, v);
            self.args.set(&decl.name, v);
        }
        Ok(value)
    }

    /// `ENV key=value` (already expanded).
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.set(key, value);
        self.visible.set(key, value);
    }

    /// The variables words are expanded with.
    pub fn visible(&self) -> &VarList {
        &self.visible
    }

    /// The image config's Env so far.
    pub fn env(&self) -> &VarList {
        &self.env
    }

    /// The stage's ARG values so far (part of a RUN step's environment and cache key).
    pub fn args(&self) -> &VarList {
        &self.args
    }
}

/// A stage's ARGs only (no ENV, no base Env) over the global scope: what `COPY --from` and
/// `RUN --mount=from=` are expanded with, as buildah does, so stage dependencies are known
/// before any base image is looked at.
pub struct ArgsOnly<'a> {
    pub stage: &'a VarList,
    pub global: &'a GlobalScope,
}

impl Vars for ArgsOnly<'_> {
    fn get(&self, name: &str) -> Option<&str> {
        self.stage.get(name).or_else(|| self.global.get(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lx() -> Lexer {
        Lexer::new('\\')
    }

    fn decl(name: &str, default: Option<&str>) -> ArgDecl {
        ArgDecl { name: name.into(), default: default.map(str::to_string) }
    }

    fn plat() -> VarList {
        let p = Platform { os: "linux".into(), arch: "arm".into(), variant: Some("v7".into()) };
        platform_args(&p, &Platform { os: "linux".into(), arch: "amd64".into(), variant: None })
    }

    #[test]
    fn platform_args_are_set() {
        let v = plat();
        assert_eq!(v.get("TARGETPLATFORM"), Some("linux/arm/v7"));
        assert_eq!(v.get("TARGETVARIANT"), Some("v7"));
        assert_eq!(v.get("BUILDARCH"), Some("amd64"));
        assert_eq!(v.get("BUILDVARIANT"), Some(""));
    }

    #[test]
    fn global_args_take_build_args_and_earlier_defaults() {
        let mut b = BuildArgs::new([("VER".to_string(), "3.19".to_string())].into());
        let g = GlobalScope::new(
            &[decl("VER", Some("3.18")), decl("IMG", Some("alpine:${VER}")), decl("NONE", None)],
            plat(),
            &mut b,
            &lx(),
        )
        .unwrap();
        assert_eq!(g.get("IMG"), Some("alpine:3.19"));
        assert_eq!(g.get("NONE"), None);
        assert_eq!(g.get("TARGETARCH"), Some("arm"));
        assert!(b.unconsumed().is_empty());
    }

    #[test]
    fn stage_arg_without_default_takes_the_global_value() {
        let mut b = BuildArgs::default();
        let g = GlobalScope::new(&[decl("V", Some("1"))], VarList::new(), &mut b, &lx()).unwrap();
        let mut s = StageScope::new(VarList::new());
        assert_eq!(s.visible().get("V"), None, "global ARGs are not visible in a stage until declared");
        assert_eq!(s.declare(&decl("V", None), &mut b, &g, &lx()).unwrap().as_deref(), Some("1"));
        assert_eq!(s.visible().get("V"), Some("1"));
        assert_eq!(s.env().get("V"), None, "ARGs are not persisted into the image Env");
    }

    #[test]
    fn build_arg_beats_default_and_env_overrides_arg() {
        let mut b = BuildArgs::new([("A".to_string(), "cli".to_string())].into());
        let g = GlobalScope::new(&[], VarList::new(), &mut b, &lx()).unwrap();
        let mut s = StageScope::new(VarList::from_env(&["PATH=/bin".into()]));
        s.declare(&decl("A", Some("default")), &mut b, &g, &lx()).unwrap();
        assert_eq!(s.visible().get("A"), Some("cli"));
        s.set_env("A", "env");
        assert_eq!(s.visible().get("A"), Some("env"));
        assert_eq!(s.env().to_env(), ["PATH=/bin", "A=env"]);
        assert_eq!(s.args().to_env(), ["A=cli"]);
    }

    #[test]
    fn arg_defaults_expand_with_what_is_visible() {
        let mut b = BuildArgs::default();
        let g = GlobalScope::new(&[], VarList::new(), &mut b, &lx()).unwrap();
        let mut s = StageScope::new(VarList::from_env(&["HOME=/root".into()]));
        s.declare(&decl("CACHE", Some("$HOME/.cache")), &mut b, &g, &lx()).unwrap();
        assert_eq!(s.visible().get("CACHE"), Some("/root/.cache"));
        assert!(s.declare(&decl("X", Some("${NOPE:?set it}")), &mut b, &g, &lx()).is_err());
    }

    #[test]
    fn undeclared_build_args_and_proxies() {
        let mut b = BuildArgs::new(
            [("HTTP_PROXY".to_string(), "http://p:3128".to_string()), ("TYPO".to_string(), "1".to_string())].into(),
        );
        let _ = GlobalScope::new(&[], VarList::new(), &mut b, &lx()).unwrap();
        assert_eq!(b.unconsumed(), ["TYPO"]);
        assert_eq!(b.proxies(), [("HTTP_PROXY".to_string(), "http://p:3128".to_string())]);
    }

    #[test]
    fn args_only_scope_for_from_flags() {
        let mut b = BuildArgs::default();
        let g = GlobalScope::new(&[decl("SRC", Some("builder"))], VarList::new(), &mut b, &lx()).unwrap();
        let stage = VarList::new();
        let v = ArgsOnly { stage: &stage, global: &g };
        assert_eq!(lx().word("stage_${SRC}", &v).unwrap(), "stage_builder");
    }
}
