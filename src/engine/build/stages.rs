//! Stages of a Dockerfile: each FROM's base (an image, `scratch` or an earlier stage) with
//! global ARGs expanded, the `--target` choice, and which stages the target needs through
//! FROM, `COPY --from` and `RUN --mount=from=`, so that unneeded stages are not built.
//! Knows nothing of images beyond their names.

use super::args::{ArgsOnly, BuildArgs, GlobalScope};
use super::dockerfile::Dockerfile;
use super::expand::{Lexer, VarList};
use super::instructions::{ArgDecl, Instruction, Kind};
use super::mounts;
use crate::engine::image::platform::Platform;
use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", if self.line == 0 { format!("{}: {}", self.file, self.msg) } else { format!("{}:{}: {}", self.file, self.line, self.msg) })]
pub struct StageError {
    pub file: String,
    pub line: usize,
    pub msg: String,
}

/// What a stage starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    Scratch,
    /// An image reference, as written after expansion (not yet normalised).
    Image(String),
    /// An earlier stage, by index.
    Stage(usize),
}

/// What `COPY --from` / `RUN --mount=from=` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FromRef {
    Stage(usize),
    /// Neither a stage name nor an index: an image for the executor to pull.
    Image(String),
}

/// A `--from` of one instruction: `mount` is the index among the RUN's `--mount` flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FromUse {
    pub instruction: usize,
    pub mount: Option<usize>,
    pub target: FromRef,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub index: usize,
    pub name: Option<String>,
    /// Line of the FROM.
    pub line: usize,
    /// The FROM as written (for `STEP 1/n: FROM ...`).
    pub source: String,
    pub base: Base,
    /// `--platform` after expansion.
    pub platform: Option<Platform>,
    /// The instructions after FROM.
    pub instructions: Vec<Instruction>,
    /// Every `--from` in the stage, resolved.
    pub froms: Vec<FromUse>,
}

impl Stage {
    /// The resolved `--from` of instruction `i` (mount `m` of a RUN).
    pub fn resolved_from(&self, i: usize, m: Option<usize>) -> Option<&FromRef> {
        self.froms.iter().find(|f| f.instruction == i && f.mount == m).map(|f| &f.target)
    }

    /// The name shown for the stage: its name, else its index.
    pub fn label(&self) -> String {
        self.name.clone().unwrap_or_else(|| self.index.to_string())
    }
}

/// The global ARG declarations (before the first FROM).
pub fn global_args(df: &Dockerfile) -> Vec<ArgDecl> {
    df.instructions
        .iter()
        .take_while(|i| !matches!(i.kind, Kind::From(_)))
        .flat_map(|i| match &i.kind {
            Kind::Arg(a) => a.clone(),
            _ => Vec::new(),
        })
        .collect()
}

/// Splits the Dockerfile into stages and resolves their bases and `--from`s.
pub fn resolve(df: &Dockerfile, global: &GlobalScope, build: &BuildArgs) -> Result<Vec<Stage>, StageError> {
    let lx = Lexer::new(df.escape);
    let err = |line, msg: String| StageError { file: df.file.clone(), line, msg };
    let mut stages: Vec<Stage> = Vec::new();
    for ins in &df.instructions {
        let Kind::From(f) = &ins.kind else {
            if let Some(last) = stages.last_mut() {
                last.instructions.push(ins.clone());
            }
            continue;
        };
        let image = lx.word(&f.image, global.vars()).map_err(|e| err(ins.line, format!("FROM: {e}")))?;
        if image.is_empty() {
            return Err(err(
                ins.line,
                format!("FROM: base name ({}) should not be blank: set the ARG it uses", f.image),
            ));
        }
        let base = if image == "scratch" {
            Base::Scratch
        } else {
            let lower = image.to_lowercase();
            match stages.iter().find(|s| s.name.as_deref() == Some(lower.as_str())) {
                Some(s) => Base::Stage(s.index),
                None => Base::Image(image),
            }
        };
        let platform = match &f.platform {
            None => None,
            Some(p) => {
                let v = lx.word(p, global.vars()).map_err(|e| err(ins.line, format!("FROM: --platform: {e}")))?;
                if v.is_empty() {
                    return Err(err(ins.line, format!("FROM: empty platform from {p:?}: set the ARG it uses")));
                }
                Some(Platform::parse(&v).map_err(|e| err(ins.line, format!("FROM: {e}")))?)
            }
        };
        let index = stages.len();
        let source = ins.source.clone();
        let name = f.name.clone();
        stages.push(Stage { index, name, line: ins.line, source, base, platform, instructions: vec![], froms: vec![] });
    }
    for i in 0..stages.len() {
        let froms = stage_froms(&stages, i, global, build, &lx).map_err(|(line, msg)| err(line, msg))?;
        if let Some(s) = stages.get_mut(i) {
            s.froms = froms;
        }
    }
    Ok(stages)
}

/// Resolves every `--from` of stage `i`, expanding with the stage's ARGs over the globals.
fn stage_froms(
    stages: &[Stage],
    i: usize,
    global: &GlobalScope,
    build: &BuildArgs,
    lx: &Lexer,
) -> Result<Vec<FromUse>, (usize, String)> {
    let Some(stage) = stages.get(i) else { return Ok(Vec::new()) };
    let mut args = VarList::new();
    let mut scratch_build = build.clone();
    let mut out = Vec::new();
    for (n, ins) in stage.instructions.iter().enumerate() {
        let scope = ArgsOnly { stage: &args, global };
        let mut resolve_one = |raw: &str, mount: Option<usize>, what: &str| -> Result<(), (usize, String)> {
            let word = lx.word(raw, &scope).map_err(|e| (ins.line, format!("{what}: {e}")))?;
            let target = resolve_from(stages, i, &word).map_err(|m| (ins.line, format!("{what}={word}: {m}")))?;
            out.push(FromUse { instruction: n, mount, target });
            Ok(())
        };
        match &ins.kind {
            Kind::Copy(c) => {
                if let Some(f) = &c.from {
                    resolve_one(f, None, "COPY --from")?;
                }
            }
            Kind::Run(r) => {
                for (m, spec) in r.mounts.iter().enumerate() {
                    if let Some(f) = mounts::from_of(spec) {
                        resolve_one(&f, Some(m), "RUN --mount from")?;
                    }
                }
            }
            Kind::Arg(decls) => {
                for d in decls {
                    let mut st = super::args::StageScope::new(args.clone());
                    if let Ok(Some(v)) = st.declare(d, &mut scratch_build, global, lx) {
                        args.set(&d.name, &v);
                    }
                }
            }
            _ => {}
        }
    }
    Ok(out)
}

/// A `--from` value: a stage index, an earlier stage's name, or an image.
pub fn resolve_from(stages: &[Stage], current: usize, word: &str) -> Result<FromRef, String> {
    if word.is_empty() {
        return Err("empty value: name a stage or an image".into());
    }
    if word.chars().all(|c| c.is_ascii_digit()) {
        let idx: usize = word.parse().map_err(|_| "stage index out of range".to_string())?;
        if idx >= current {
            return Err(format!(
                "stage index {idx} is not an earlier stage (this is stage {current}); use the index of a stage defined above"
            ));
        }
        return Ok(FromRef::Stage(idx));
    }
    let lower = word.to_lowercase();
    match stages.iter().find(|s| s.name.as_deref() == Some(lower.as_str())) {
        Some(s) if s.index < current => Ok(FromRef::Stage(s.index)),
        Some(s) if s.index == current => Err("a stage cannot copy from itself".into()),
        Some(s) => {
            Err(format!("stage {:?} is defined later (line {}); stages can only use earlier stages", lower, s.line))
        }
        None => Ok(FromRef::Image(word.to_string())),
    }
}

/// The stage `--target` names (case-insensitive), or the last stage.
pub fn target_index(stages: &[Stage], target: Option<&str>, file: &str) -> Result<usize, StageError> {
    let err = |msg: String| StageError { file: file.to_string(), line: 0, msg };
    let Some(t) = target else {
        return stages.len().checked_sub(1).ok_or_else(|| err("no stages".into()));
    };
    let lower = t.to_lowercase();
    if let Some(s) = stages.iter().find(|s| s.name.as_deref() == Some(lower.as_str())) {
        return Ok(s.index);
    }
    let names: Vec<&str> = stages.iter().filter_map(|s| s.name.as_deref()).collect();
    Err(err(if names.is_empty() {
        format!("target stage {t:?} not found: the Dockerfile has no named stages (use FROM IMAGE AS NAME)")
    } else {
        format!("target stage {t:?} not found; the stages are: {}", names.join(", "))
    }))
}

/// The stages `target` needs, itself included, in Dockerfile order.
pub fn needed(stages: &[Stage], target: usize) -> Vec<usize> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![target];
    while let Some(i) = todo.pop() {
        if !seen.insert(i) {
            continue;
        }
        let Some(s) = stages.get(i) else { continue };
        if let Base::Stage(b) = s.base {
            todo.push(b);
        }
        for f in &s.froms {
            if let FromRef::Stage(b) = f.target {
                todo.push(b);
            }
        }
    }
    seen.into_iter().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::build::dockerfile::parse;

    fn setup(text: &str, build: &[(&str, &str)]) -> Result<Vec<Stage>, StageError> {
        let df = parse(text, "Dockerfile").unwrap();
        let mut b = BuildArgs::new(build.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        let plat = super::super::args::platform_args(&Platform::host(), &Platform::host());
        let g = GlobalScope::new(&global_args(&df), plat, &mut b, &Lexer::new(df.escape)).unwrap();
        resolve(&df, &g, &b)
    }

    const MULTI: &str = "ARG GO=1.22\nFROM golang:${GO} AS build\nRUN make\nFROM alpine AS test\nCOPY --from=build /app /app\nRUN test\nFROM build AS docs\nRUN doc\nFROM scratch\nCOPY --from=0 /app /app\nCOPY --from=busybox:latest /bin/sh /sh\n";

    #[test]
    fn bases_and_froms() {
        let s = setup(MULTI, &[]).unwrap();
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].base, Base::Image("golang:1.22".into()));
        assert_eq!(s[1].froms, [FromUse { instruction: 0, mount: None, target: FromRef::Stage(0) }]);
        assert_eq!(s[2].base, Base::Stage(0));
        assert_eq!(s[3].base, Base::Scratch);
        assert_eq!(s[3].resolved_from(0, None), Some(&FromRef::Stage(0)));
        assert_eq!(s[3].resolved_from(1, None), Some(&FromRef::Image("busybox:latest".into())));
        assert_eq!(s[0].instructions.len(), 1);
        assert_eq!(s[3].label(), "3");
    }

    #[test]
    fn build_arg_changes_base() {
        let s = setup(MULTI, &[("GO", "1.23")]).unwrap();
        assert_eq!(s[0].base, Base::Image("golang:1.23".into()));
    }

    #[test]
    fn targets_and_needed_stages() {
        let s = setup(MULTI, &[]).unwrap();
        assert_eq!(needed(&s, target_index(&s, None, "Dockerfile").unwrap()), [0, 3]);
        assert_eq!(needed(&s, target_index(&s, Some("test"), "Dockerfile").unwrap()), [0, 1]);
        assert_eq!(needed(&s, target_index(&s, Some("DOCS"), "Dockerfile").unwrap()), [0, 2]);
        let e = target_index(&s, Some("prod"), "Dockerfile").unwrap_err();
        assert_eq!(e.to_string(), "Dockerfile: target stage \"prod\" not found; the stages are: build, test, docs");
        let one = setup("FROM a\n", &[]).unwrap();
        assert!(target_index(&one, Some("x"), "Dockerfile").unwrap_err().to_string().contains("no named stages"));
    }

    #[test]
    fn run_mount_from_is_a_dependency() {
        let s =
            setup("FROM a AS deps\nFROM b AS unused\nFROM c\nRUN --mount=type=bind,from=deps,target=/d ls /d\n", &[])
                .unwrap();
        assert_eq!(s[2].resolved_from(0, Some(0)), Some(&FromRef::Stage(0)));
        assert_eq!(needed(&s, 2), [0, 2]);
    }

    #[test]
    fn from_expands_with_args_as_buildah_does() {
        let text = "ARG SRC=one\nFROM a AS stage_one\nFROM a AS stage_two\nFROM b\nARG PICK=two\nCOPY --from=stage_${SRC} /x /x\nCOPY --from=stage_${PICK} /y /y\n";
        let s = setup(text, &[]).unwrap();
        assert!(s[1].froms.is_empty());
        assert_eq!(s[2].resolved_from(1, None), Some(&FromRef::Stage(0)));
        assert_eq!(s[2].resolved_from(2, None), Some(&FromRef::Stage(1)));
        let s = setup(text, &[("PICK", "one")]).unwrap();
        assert_eq!(s[2].resolved_from(2, None), Some(&FromRef::Stage(0)));
    }

    #[test]
    fn from_errors() {
        let e = setup("FROM a\nCOPY --from=1 /x /x\nFROM b\n", &[]).unwrap_err();
        assert!(e.to_string().starts_with("Dockerfile:2: COPY --from=1: stage index 1 is not an earlier stage"), "{e}");
        let e = setup("FROM a\nCOPY --from=later /x /x\nFROM b AS later\n", &[]).unwrap_err();
        assert!(e.to_string().contains("stage \"later\" is defined later (line 3)"), "{e}");
        let e = setup("ARG IMG\nFROM ${IMG}\n", &[]).unwrap_err();
        assert!(e.to_string().starts_with("Dockerfile:2: FROM: base name (${IMG}) should not be blank"), "{e}");
        let e = setup("FROM --platform=linux a\n", &[]).unwrap_err();
        assert!(e.to_string().starts_with("Dockerfile:1: FROM: invalid platform"), "{e}");
    }

    #[test]
    fn platform_args_in_from() {
        let s = setup("FROM --platform=$BUILDPLATFORM golang AS b\nFROM alpine\n", &[]).unwrap();
        assert_eq!(s[0].platform, Some(Platform::host()));
    }

    #[test]
    fn stage_names_are_case_insensitive_and_later_images_stay_images() {
        let s = setup("FROM alpine AS Base\nFROM BASE\nFROM Alpine\n", &[]).unwrap();
        assert_eq!(s[1].base, Base::Stage(0));
        assert_eq!(s[2].base, Base::Image("Alpine".into()));
    }
}
