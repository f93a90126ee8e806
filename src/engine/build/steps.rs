//! One instruction of a stage -> one plan step: arguments expanded where Docker expands
//! them (not RUN/CMD/ENTRYPOINT, which the shell handles), paths resolved against WORKDIR,
//! the stage's running config state (env, workdir, user, shell) updated. No I/O.

use super::args::{BuildArgs, GlobalScope, StageScope};
use super::expand::{Lexer, VarList};
use super::heredoc;
use super::instructions::{CommandLine, Copy, Instruction, Kind, Run, Source};
use super::mounts::{self, MountType};
use super::plan::{
    BaseImage, ConfigChange, CopySource, CopyStep, FromRefKey, Op, PlannedMount, RunScript, RunStep, Step, run_env,
};
use super::stages::{FromRef, Stage};

/// The image config state while a stage's steps are walked.
#[derive(Debug, Clone, PartialEq)]
pub struct StageState {
    pub scope: StageScope,
    pub workdir: String,
    pub user: String,
    pub shell: Vec<String>,
    /// CMD was set in this stage (ENTRYPOINT then keeps it).
    pub cmd_set: bool,
}

fn default_shell() -> Vec<String> {
    vec!["/bin/sh".into(), "-c".into()]
}

impl StageState {
    pub fn scratch() -> StageState {
        StageState {
            scope: StageScope::new(VarList::new()),
            workdir: "/".into(),
            user: String::new(),
            shell: default_shell(),
            cmd_set: false,
        }
    }

    pub fn from_image(img: &BaseImage) -> StageState {
        let workdir = if img.working_dir.is_empty() { "/".to_string() } else { img.working_dir.clone() };
        StageState {
            scope: StageScope::new(VarList::from_env(&img.env)),
            workdir,
            user: img.user.clone(),
            shell: img.shell.clone().unwrap_or_else(default_shell),
            cmd_set: false,
        }
    }

    /// The state a stage built FROM this one starts with: the config, not the ARGs.
    pub fn inherit(&self) -> StageState {
        StageState {
            scope: StageScope::new(self.scope.env().clone()),
            workdir: self.workdir.clone(),
            user: self.user.clone(),
            shell: self.shell.clone(),
            cmd_set: false,
        }
    }

    /// The image config's Env as `KEY=VALUE`.
    pub fn env(&self) -> Vec<String> {
        self.scope.env().to_env()
    }
}

pub struct Ctx<'a> {
    pub lexer: Lexer,
    pub global: &'a GlobalScope,
    pub stage: &'a Stage,
}

/// Cleans an absolute POSIX path (`.`, `..`, repeated `/`).
pub fn clean_abs(p: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in p.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `p` resolved against `dir` (absolute paths stay, relative ones join).
pub fn resolve_path(dir: &str, p: &str) -> String {
    if p.starts_with('/') { clean_abs(p) } else { clean_abs(&format!("{dir}/{p}")) }
}

/// A COPY/ADD destination: absolute, keeping a trailing `/` (and `.` means the directory).
fn resolve_dest(dir: &str, p: &str) -> String {
    let as_dir = p.is_empty() || p == "." || p.ends_with('/') || p.ends_with("/.");
    let mut r = resolve_path(dir, p);
    if as_dir && !r.ends_with('/') {
        r.push('/');
    }
    r
}

fn with_shell(shell: &[String], cl: &CommandLine) -> Vec<String> {
    match cl {
        CommandLine::Exec(a) => a.clone(),
        CommandLine::Shell(s) => shell.iter().cloned().chain(std::iter::once(s.clone())).collect(),
    }
}

/// `EXPOSE` specs -> `PORT/proto` keys (ranges expanded).
pub fn parse_ports(spec: &str) -> Result<Vec<String>, String> {
    let bad = || format!("invalid port {spec:?}: use PORT[-END][/tcp|udp|sctp]");
    let (port, proto) = match spec.split_once('/') {
        Some((p, proto)) => (p, proto.to_ascii_lowercase()),
        None => (spec, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(bad());
    }
    // `[ip:]host:container` is accepted as Docker does: the container port counts.
    let port = port.rsplit(':').next().unwrap_or(port);
    let (lo, hi) = match port.split_once('-') {
        Some((a, b)) => (a, b),
        None => (port, port),
    };
    let lo: u16 = lo.parse().map_err(|_| bad())?;
    let hi: u16 = hi.parse().map_err(|_| bad())?;
    if hi < lo {
        return Err(bad());
    }
    Ok((lo..=hi).map(|p| format!("{p}/{proto}")).collect())
}

/// Turns one instruction into a step, updating `st`. `index` is the instruction's index in
/// the stage (`None` for the base image's ONBUILD triggers).
pub fn step(
    ctx: &Ctx<'_>,
    ins: &Instruction,
    index: Option<usize>,
    st: &mut StageState,
    build: &mut BuildArgs,
) -> Result<Step, String> {
    let lx = &ctx.lexer;
    let word = |s: &str, st: &StageState| lx.word(s, st.scope.visible()).map_err(|e| e.to_string());
    let op = match &ins.kind {
        Kind::Run(r) => Op::Run(run_step(ctx, r, index, st)?),
        Kind::Copy(c) => Op::Copy(copy_step(ctx, c, false, index, st)?),
        Kind::Add(c) => Op::Copy(copy_step(ctx, c, true, index, st)?),
        Kind::Arg(decls) => {
            let mut out = Vec::new();
            for d in decls {
                out.push((d.name.clone(), st.scope.declare(d, build, ctx.global, lx)?));
            }
            Op::Config(ConfigChange::Arg(out))
        }
        Kind::Env(kvs) => {
            let pairs = kvs
                .iter()
                .map(|kv| Ok((word(&kv.key, st)?, word(&kv.value, st)?)))
                .collect::<Result<Vec<_>, String>>()?;
            for (k, v) in &pairs {
                st.scope.set_env(k, v);
            }
            Op::Config(ConfigChange::Env(pairs))
        }
        Kind::Label(kvs) => Op::Config(ConfigChange::Label(
            kvs.iter().map(|kv| Ok((word(&kv.key, st)?, word(&kv.value, st)?))).collect::<Result<_, String>>()?,
        )),
        Kind::Workdir(p) => {
            st.workdir = resolve_path(&st.workdir, &word(p, st)?);
            Op::Config(ConfigChange::Workdir(st.workdir.clone()))
        }
        Kind::User(u) => {
            st.user = word(u, st)?;
            Op::Config(ConfigChange::User(st.user.clone()))
        }
        Kind::Volume(list) => {
            let v = list.iter().map(|p| word(p, st)).collect::<Result<Vec<_>, _>>()?;
            if v.iter().any(|p| p.trim().is_empty()) {
                return Err("paths cannot be empty (check the variables it uses)".into());
            }
            Op::Config(ConfigChange::Volume(v))
        }
        Kind::StopSignal(s) => Op::Config(ConfigChange::StopSignal(word(s, st)?)),
        Kind::Expose(list) => {
            let mut ports = Vec::new();
            for p in list {
                for w in lx.words(p, st.scope.visible()).map_err(|e| e.to_string())? {
                    ports.extend(parse_ports(&w)?);
                }
            }
            Op::Config(ConfigChange::Expose(ports))
        }
        Kind::Cmd(cl) => {
            st.cmd_set = true;
            Op::Config(ConfigChange::Cmd(with_shell(&st.shell, cl)))
        }
        Kind::Entrypoint(cl) => {
            Op::Config(ConfigChange::Entrypoint { argv: with_shell(&st.shell, cl), reset_cmd: !st.cmd_set })
        }
        Kind::Shell(s) => {
            st.shell = s.clone();
            Op::Config(ConfigChange::Shell(s.clone()))
        }
        Kind::Healthcheck(h) => Op::Config(ConfigChange::Healthcheck(h.into())),
        Kind::Onbuild { expression, .. } => Op::Config(ConfigChange::OnBuild(expression.clone())),
        Kind::Maintainer(m) => Op::Config(ConfigChange::Maintainer(m.clone())),
        Kind::From(_) => return Err("FROM inside a stage".into()),
    };
    let created_by = created_by(&op, ins, st);
    let cache_key = format!("kiste-build-v1 {}", serde_json::to_string(&op).map_err(|e| e.to_string())?);
    Ok(Step { line: ins.line, source: ins.source.clone(), onbuild: index.is_none(), op, cache_key, created_by })
}

fn run_step(ctx: &Ctx<'_>, r: &Run, index: Option<usize>, st: &StageState) -> Result<RunStep, String> {
    let mut planned = Vec::new();
    for (m, spec) in r.mounts.iter().enumerate() {
        let expanded = ctx.lexer.word(spec, st.scope.visible()).map_err(|e| e.to_string())?;
        let mut mount = mounts::parse_mount(&expanded).map_err(|e| format!("--mount={expanded}: {e}"))?;
        let from = match (index, &mount.from) {
            (Some(i), Some(_)) => ctx.stage.resolved_from(i, Some(m)).map(FromRefKey::from),
            (None, Some(f)) => Some(FromRefKey::Image(f.clone())),
            _ => None,
        };
        let target = match (mount.kind, &mount.target) {
            (MountType::Secret, None) => format!("/run/secrets/{}", mount.secret_id().unwrap_or_default()),
            (_, Some(t)) => resolve_path(&st.workdir, t),
            (_, None) => String::new(),
        };
        if target == "/" {
            return Err(format!("--mount={expanded}: invalid mount target \"/\""));
        }
        if mount.kind == MountType::Cache && mount.id.is_none() {
            mount.id = Some(target.clone());
        }
        planned.push(PlannedMount { mount, spec: expanded, target, from });
    }
    Ok(RunStep {
        script: run_script(r, &st.shell)?,
        env: run_env(st.scope.visible()),
        workdir: st.workdir.clone(),
        user: st.user.clone(),
        mounts: planned,
        network: r.network.map(Into::into),
    })
}

/// BuildKit's RUN heredoc rules: a lone heredoc runs its body (as a script file when it
/// starts with `#!`); otherwise the line and bodies go to the shell as written.
fn run_script(r: &Run, shell: &[String]) -> Result<RunScript, String> {
    let CommandLine::Shell(line) = &r.command else {
        return Ok(RunScript::Argv(with_shell(shell, &r.command)));
    };
    let Some(first) = r.heredocs.first() else {
        return Ok(RunScript::Argv(with_shell(shell, &r.command)));
    };
    if heredoc::parse_marker(line)?.is_some() {
        let body = first.body();
        if body.starts_with("#!") {
            let path = format!("/dev/pipes/{}", first.name);
            let argv = shell.iter().cloned().chain(std::iter::once(path.clone())).collect();
            return Ok(RunScript::ScriptFile { argv, path, content: body });
        }
        return Ok(RunScript::Argv(shell.iter().cloned().chain(std::iter::once(body)).collect()));
    }
    let mut script = line.clone();
    for d in &r.heredocs {
        script.push('\n');
        script.push_str(&d.content);
        script.push_str(&d.name);
    }
    Ok(RunScript::Argv(shell.iter().cloned().chain(std::iter::once(script)).collect()))
}

fn is_url(s: &str) -> bool {
    s.starts_with("http://") || s.starts_with("https://") || s.starts_with("git@") || s.starts_with("git://")
}

fn copy_step(ctx: &Ctx<'_>, c: &Copy, add: bool, index: Option<usize>, st: &StageState) -> Result<CopyStep, String> {
    let lx = &ctx.lexer;
    let word = |s: &str| lx.word(s, st.scope.visible()).map_err(|e| e.to_string());
    let mut raw = Lexer::new('\\');
    raw.skip_quotes = true;
    let mut sources = Vec::new();
    for s in &c.sources {
        sources.push(match s {
            Source::Path(p) => {
                let w = word(p)?;
                if add && is_url(&w) { CopySource::Url(w) } else { CopySource::Path(w) }
            }
            Source::HereDoc(d) => {
                let body = d.body();
                let data =
                    if d.expand { raw.word(&body, st.scope.visible()).map_err(|e| e.to_string())? } else { body };
                CopySource::Content { name: d.name.clone(), data }
            }
        });
    }
    let from = match (&c.from, index) {
        (None, _) => None,
        (Some(_), Some(i)) => ctx.stage.resolved_from(i, None).map(FromRefKey::from),
        (Some(f), None) => Some(FromRefKey::from(&FromRef::Image(word(f)?))),
    };
    let chmod = match &c.chmod {
        None => None,
        Some(m) => {
            let m = word(m)?;
            Some(
                u32::from_str_radix(&m, 8)
                    .ok()
                    .filter(|v| *v <= 0o7777)
                    .ok_or_else(|| format!("invalid --chmod {m:?}: use an octal mode such as 0755"))?,
            )
        }
    };
    let opt = |o: &Option<String>| o.as_deref().map(word).transpose();
    Ok(CopyStep {
        add,
        sources,
        dest: resolve_dest(&st.workdir, &word(&c.dest)?),
        from,
        chown: opt(&c.chown)?,
        chmod,
        link: c.link,
        parents: c.parents,
        exclude: c.exclude.clone(),
        keep_git_dir: c.keep_git_dir,
        checksum: opt(&c.checksum)?,
        unpack: c.unpack,
    })
}

/// The history entry, in buildah's style.
fn created_by(op: &Op, ins: &Instruction, st: &StageState) -> String {
    match op {
        Op::Run(r) => {
            let argv = match &r.script {
                RunScript::Argv(a) => a.join(" "),
                RunScript::ScriptFile { argv, .. } => argv.join(" "),
            };
            let args: Vec<String> = st.scope.args().to_env();
            if args.is_empty() { argv } else { format!("|{} {} {argv}", args.len(), args.join(" ")) }
        }
        Op::Copy(c) => {
            let kw = if c.add { "ADD" } else { "COPY" };
            let srcs: Vec<&str> = c
                .sources
                .iter()
                .map(|s| match s {
                    CopySource::Path(p) | CopySource::Url(p) => p.as_str(),
                    CopySource::Content { name, .. } => name.as_str(),
                })
                .collect();
            format!("/bin/sh -c #(nop) {kw} {} {}", srcs.join(" "), c.dest)
        }
        Op::Config(_) => format!("/bin/sh -c #(nop) {}", ins.source),
    }
}
