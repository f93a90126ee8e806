//! The build plan: Dockerfile + build args + target + platform (+ the base images' configs,
//! looked up through `BaseImages`, which the executor implements) -> the stages to build, in
//! order, each a list of typed steps with expanded arguments and a cache key text. The
//! executor walks it and adds only content checksums and parent IDs. No I/O here.

use super::args::{BuildArgs, GlobalScope, platform_args};
use super::dockerfile::{self, Dockerfile};
use super::expand::{Lexer, VarList};
use super::instructions::{Healthcheck, Instruction, Kind, RunNetwork};
use super::mounts::Mount;
use super::stages::{self, Base, FromRef, Stage};
use super::steps::{self, StageState};
use crate::engine::image::platform::Platform;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    #[error(transparent)]
    Parse(#[from] dockerfile::DockerfileError),
    #[error(transparent)]
    Stage(#[from] stages::StageError),
    /// `FILE:LINE: INSTRUCTION: message`.
    #[error("{file}:{line}: {msg}")]
    Step { file: String, line: usize, msg: String },
    #[error("{file}: {msg}")]
    Global { file: String, msg: String },
}

/// The parts of a base image's config the front end needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BaseImage {
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
    /// Docker-format images may carry a SHELL; `None` = `["/bin/sh", "-c"]`.
    pub shell: Option<Vec<String>>,
    /// ONBUILD triggers, run at the start of a stage built on this image.
    pub on_build: Vec<String>,
}

/// Looks up base images (the executor pulls or reads its store).
pub trait BaseImages {
    fn config(&mut self, reference: &str, platform: &Platform) -> Result<BaseImage, String>;
}

/// What one build is asked to do.
#[derive(Debug, Clone)]
pub struct PlanRequest {
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
    /// `--platform`, or the host's.
    pub platform: Platform,
    /// The platform kiste runs on.
    pub build_platform: Platform,
}

#[derive(Debug, Clone, PartialEq)]
pub struct BuildPlan {
    /// The stages to build, in Dockerfile order; the last is the target.
    pub stages: Vec<PlannedStage>,
    /// `--build-arg`s that no ARG of the built stages declared (podman warns about them).
    pub unused_build_args: Vec<String>,
    /// Proxy build args given: RUN's environment only, never in cache keys or history.
    pub proxy_env: Vec<(String, String)>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlannedStage {
    /// The index in the Dockerfile (what `COPY --from=N` and `FromRef::Stage` use).
    pub index: usize,
    pub name: Option<String>,
    pub base: Base,
    pub platform: Platform,
    pub line: usize,
    /// The FROM as written.
    pub source: String,
    pub steps: Vec<Step>,
    /// The image config state after the last step (env, workdir, user, shell).
    pub end: StageState,
}

/// One step: what to do, where it came from, and what the layer cache keys on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub line: usize,
    /// The instruction as written (`STEP n/m: <source>`).
    pub source: String,
    /// A trigger from the base image's ONBUILD list.
    pub onbuild: bool,
    pub op: Op,
    /// Stable text of the expanded step and the build args it sees; the executor adds the
    /// parent image ID and (COPY/ADD) content checksums.
    pub cache_key: String,
    /// The history entry's `created_by`, as buildah writes it.
    pub created_by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Op {
    Run(RunStep),
    Copy(CopyStep),
    /// Changes only the image config (WORKDIR also makes the directory).
    Config(ConfigChange),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunStep {
    pub script: RunScript,
    /// The container's environment: the config Env, then the stage's ARGs.
    pub env: Vec<String>,
    pub workdir: String,
    pub user: String,
    pub mounts: Vec<PlannedMount>,
    pub network: Option<RunNetworkKind>,
}

/// `--network` of RUN (serialisable mirror of `RunNetwork`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum RunNetworkKind {
    Default,
    None,
    Host,
}

impl From<RunNetwork> for RunNetworkKind {
    fn from(n: RunNetwork) -> Self {
        match n {
            RunNetwork::Default => RunNetworkKind::Default,
            RunNetwork::None => RunNetworkKind::None,
            RunNetwork::Host => RunNetworkKind::Host,
        }
    }
}

/// How a RUN starts its process.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum RunScript {
    /// argv as is (exec form, or the shell followed by the command for shell form).
    Argv(Vec<String>),
    /// A heredoc with a `#!` line: mount `content` at `path` (mode 0755) and run `argv`.
    ScriptFile { argv: Vec<String>, path: String, content: String },
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlannedMount {
    #[serde(skip)]
    pub mount: Mount,
    /// The mount rendered canonically (for the cache key).
    pub spec: String,
    /// Absolute target (relative targets resolved against WORKDIR; secret default applied).
    pub target: String,
    pub from: Option<FromRefKey>,
}

/// Serialisable `FromRef`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum FromRefKey {
    Stage(usize),
    Image(String),
}

impl From<&FromRef> for FromRefKey {
    fn from(f: &FromRef) -> Self {
        match f {
            FromRef::Stage(i) => FromRefKey::Stage(*i),
            FromRef::Image(s) => FromRefKey::Image(s.clone()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum CopySource {
    /// A path or wildcard relative to the context (or the `--from` stage/image root).
    Path(String),
    /// ADD of an http(s) or git URL.
    Url(String),
    /// A heredoc: a file named `name` with `data` (already expanded when it should be).
    Content { name: String, data: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CopyStep {
    pub add: bool,
    pub sources: Vec<CopySource>,
    /// Absolute; a trailing `/` means "into this directory".
    pub dest: String,
    pub from: Option<FromRefKey>,
    pub chown: Option<String>,
    pub chmod: Option<u32>,
    pub link: bool,
    pub parents: bool,
    pub exclude: Vec<String>,
    pub keep_git_dir: Option<bool>,
    pub checksum: Option<String>,
    pub unpack: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ConfigChange {
    Env(Vec<(String, String)>),
    /// CMD as argv (shell form already wrapped in the current SHELL).
    Cmd(Vec<String>),
    /// ENTRYPOINT as argv; `reset_cmd`: no CMD was set in this stage, so the base's is cleared.
    Entrypoint {
        argv: Vec<String>,
        reset_cmd: bool,
    },
    Workdir(String),
    Label(Vec<(String, String)>),
    /// `PORT/proto` keys.
    Expose(Vec<String>),
    User(String),
    Volume(Vec<String>),
    StopSignal(String),
    Healthcheck(HealthcheckKey),
    Shell(Vec<String>),
    OnBuild(String),
    Maintainer(String),
    /// ARG names and values (history only; values reach RUN through `RunStep::env`).
    Arg(Vec<(String, Option<String>)>),
}

/// Serialisable healthcheck: `None` disables the base image's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum HealthcheckKey {
    None,
    Check { test: Vec<String>, interval: u64, timeout: u64, start_period: u64, start_interval: u64, retries: u32 },
}

impl From<&Healthcheck> for HealthcheckKey {
    fn from(h: &Healthcheck) -> Self {
        match h {
            Healthcheck::None => HealthcheckKey::None,
            Healthcheck::Check(c) => HealthcheckKey::Check {
                test: c.test.clone(),
                interval: c.interval,
                timeout: c.timeout,
                start_period: c.start_period,
                start_interval: c.start_interval,
                retries: c.retries,
            },
        }
    }
}

/// Parses `text` and plans the build.
pub fn plan_text(
    text: &str,
    file: &str,
    req: &PlanRequest,
    bases: &mut dyn BaseImages,
) -> Result<BuildPlan, PlanError> {
    let df = dockerfile::parse(text, file)?;
    plan(&df, req, bases)
}

/// Plans the build of a parsed Dockerfile.
pub fn plan(df: &Dockerfile, req: &PlanRequest, bases: &mut dyn BaseImages) -> Result<BuildPlan, PlanError> {
    let lx = Lexer::new(df.escape);
    let mut build = BuildArgs::new(req.build_args.clone());
    let platform = platform_args(&req.platform, &req.build_platform);
    let global = GlobalScope::new(&stages::global_args(df), platform, &mut build, &lx)
        .map_err(|msg| PlanError::Global { file: df.file.clone(), msg: format!("ARG: {msg}") })?;
    let all = stages::resolve(df, &global, &build)?;
    let target = stages::target_index(&all, req.target.as_deref(), &df.file)?;
    let mut planned: Vec<PlannedStage> = Vec::new();
    for i in stages::needed(&all, target) {
        let Some(stage) = all.get(i) else { continue };
        let p = plan_stage(df, stage, &planned, &global, &mut build, req, bases)?;
        planned.push(p);
    }
    Ok(BuildPlan {
        stages: planned,
        unused_build_args: build.unconsumed(),
        proxy_env: build.proxies(),
        warnings: df.warnings.clone(),
    })
}

fn plan_stage(
    df: &Dockerfile,
    stage: &Stage,
    done: &[PlannedStage],
    global: &GlobalScope,
    build: &mut BuildArgs,
    req: &PlanRequest,
    bases: &mut dyn BaseImages,
) -> Result<PlannedStage, PlanError> {
    let step_err = |line: usize, msg: String| PlanError::Step { file: df.file.clone(), line, msg };
    let platform = stage.platform.clone().unwrap_or_else(|| req.platform.clone());
    let (start, triggers) = match &stage.base {
        Base::Scratch => (StageState::scratch(), Vec::new()),
        Base::Stage(j) => match done.iter().find(|p| p.index == *j) {
            Some(p) => (p.end.inherit(), Vec::new()),
            None => {
                return Err(step_err(
                    stage.line,
                    format!("FROM: stage {j} was not planned before stage {}", stage.index),
                ));
            }
        },
        Base::Image(r) => {
            let img = bases.config(r, &platform).map_err(|e| step_err(stage.line, format!("FROM {r}: {e}")))?;
            (StageState::from_image(&img), img.on_build)
        }
    };
    let mut st = start;
    let mut out = Vec::new();
    let ctx = steps::Ctx { lexer: Lexer::new(df.escape), global, stage };
    for trigger in &triggers {
        let ins = parse_trigger(trigger, df.escape).map_err(|m| step_err(stage.line, m))?;
        let step = steps::step(&ctx, &ins, None, &mut st, build).map_err(|m| step_err(stage.line, m))?;
        out.push(Step { onbuild: true, ..step });
    }
    for (n, ins) in stage.instructions.iter().enumerate() {
        let step = steps::step(&ctx, ins, Some(n), &mut st, build)
            .map_err(|m| step_err(ins.line, format!("{}: {m}", ins.kind.keyword())))?;
        out.push(step);
    }
    Ok(PlannedStage {
        index: stage.index,
        name: stage.name.clone(),
        base: stage.base.clone(),
        platform,
        line: stage.line,
        source: stage.source.clone(),
        steps: out,
        end: st,
    })
}

/// Parses one ONBUILD trigger of a base image as an instruction.
fn parse_trigger(trigger: &str, escape: char) -> Result<Instruction, String> {
    let directive = if escape == '`' { "# escape=`\n" } else { "" };
    let text = format!("{directive}FROM scratch\n{trigger}\n");
    let df = dockerfile::parse(&text, "ONBUILD")
        .map_err(|e| format!("base image ONBUILD trigger {trigger:?}: {}", e.msg))?;
    let ins = df.instructions.into_iter().nth(1).ok_or_else(|| format!("empty ONBUILD trigger {trigger:?}"))?;
    if matches!(ins.kind, Kind::From(_) | Kind::Onbuild { .. } | Kind::Maintainer(_)) {
        return Err(format!("{} isn't allowed as an ONBUILD trigger", ins.kind.keyword()));
    }
    Ok(ins)
}

/// The default PATH a RUN gets when its image has none (as buildah and BuildKit do).
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The environment of a RUN: config Env, stage ARGs, and PATH when missing.
pub fn run_env(visible: &VarList) -> Vec<String> {
    let mut v = visible.clone();
    if !v.contains("PATH") {
        v.set("PATH", DEFAULT_PATH);
    }
    v.to_env()
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
