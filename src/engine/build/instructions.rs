//! The typed Dockerfile instructions that `dockerfile.rs` produces: one variant per
//! instruction with its flags parsed, arguments still unexpanded (expansion happens per
//! stage in `plan.rs`). Data only; no parsing, no I/O.

use std::fmt;

/// One instruction and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Instruction {
    /// 1-based line of the instruction's keyword.
    pub line: usize,
    /// The instruction as written, continuation lines joined (for `STEP n/m: ...`).
    pub source: String,
    pub kind: Kind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    From(From),
    Run(Run),
    Cmd(CommandLine),
    Entrypoint(CommandLine),
    Env(Vec<KeyValue>),
    Arg(Vec<ArgDecl>),
    Workdir(String),
    Copy(Copy),
    Add(Copy),
    Label(Vec<KeyValue>),
    Expose(Vec<String>),
    User(String),
    Volume(Vec<String>),
    StopSignal(String),
    Healthcheck(Healthcheck),
    Shell(Vec<String>),
    /// The trigger text stored in the image config, and the trigger parsed.
    Onbuild {
        expression: String,
        inner: Box<Instruction>,
    },
    Maintainer(String),
}

impl Kind {
    /// The instruction's keyword in capitals.
    pub fn keyword(&self) -> &'static str {
        match self {
            Kind::From(_) => "FROM",
            Kind::Run(_) => "RUN",
            Kind::Cmd(_) => "CMD",
            Kind::Entrypoint(_) => "ENTRYPOINT",
            Kind::Env(_) => "ENV",
            Kind::Arg(_) => "ARG",
            Kind::Workdir(_) => "WORKDIR",
            Kind::Copy(_) => "COPY",
            Kind::Add(_) => "ADD",
            Kind::Label(_) => "LABEL",
            Kind::Expose(_) => "EXPOSE",
            Kind::User(_) => "USER",
            Kind::Volume(_) => "VOLUME",
            Kind::StopSignal(_) => "STOPSIGNAL",
            Kind::Healthcheck(_) => "HEALTHCHECK",
            Kind::Shell(_) => "SHELL",
            Kind::Onbuild { .. } => "ONBUILD",
            Kind::Maintainer(_) => "MAINTAINER",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct From {
    /// The image as written (`ubuntu:${VER}`, `scratch`, a stage name).
    pub image: String,
    /// `--platform`, unexpanded.
    pub platform: Option<String>,
    /// `AS name`, lowercased as BuildKit does.
    pub name: Option<String>,
}

/// Shell form (a string the shell runs) or exec form (argv).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    Shell(String),
    Exec(Vec<String>),
}

/// A here-document attached to RUN, COPY or ADD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HereDoc {
    /// The delimiter word, quotes removed (also the file name for COPY/ADD).
    pub name: String,
    /// The body, each line ending in `\n`, as written (tabs not yet stripped for `<<-`).
    pub content: String,
    /// False when the delimiter was quoted: no variable expansion in the body.
    pub expand: bool,
    /// `<<-`: leading tabs are stripped from the body.
    pub chomp: bool,
}

impl HereDoc {
    /// The body with leading tabs removed when the heredoc is `<<-`.
    pub fn body(&self) -> String {
        if !self.chomp {
            return self.content.clone();
        }
        self.content.split_inclusive('\n').map(|l| l.trim_start_matches('\t')).collect()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    pub command: CommandLine,
    pub heredocs: Vec<HereDoc>,
    /// `--mount` values as written; parsed after expansion (see `mounts.rs`).
    pub mounts: Vec<String>,
    pub network: Option<RunNetwork>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunNetwork {
    Default,
    None,
    Host,
}

impl fmt::Display for RunNetwork {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RunNetwork::Default => "default",
            RunNetwork::None => "none",
            RunNetwork::Host => "host",
        })
    }
}

/// `KEY=VALUE` of ENV and LABEL, unexpanded. `legacy` is the `ENV KEY VALUE` form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyValue {
    pub key: String,
    pub value: String,
    pub legacy: bool,
}

/// One name of an ARG instruction, with its default if any (unexpanded).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgDecl {
    pub name: String,
    pub default: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A path, glob or (ADD) URL, unexpanded.
    Path(String),
    HereDoc(HereDoc),
}

/// COPY and ADD. Flags that only ADD has stay at their defaults for COPY, and `from` /
/// `parents` stay unset for ADD.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Copy {
    pub sources: Vec<Source>,
    pub dest: String,
    pub from: Option<String>,
    pub chown: Option<String>,
    pub chmod: Option<String>,
    pub link: bool,
    pub parents: bool,
    pub exclude: Vec<String>,
    /// ADD only.
    pub keep_git_dir: Option<bool>,
    pub checksum: Option<String>,
    pub unpack: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Healthcheck {
    /// `HEALTHCHECK NONE`: disable the base image's check.
    None,
    Check(HealthConfig),
}

/// `HEALTHCHECK [options] CMD ...`; durations in nanoseconds, 0 = the runtime's default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthConfig {
    /// As the image config stores it: `["CMD", argv...]` or `["CMD-SHELL", "command"]`.
    pub test: Vec<String>,
    pub interval: u64,
    pub timeout: u64,
    pub start_period: u64,
    pub start_interval: u64,
    pub retries: u32,
}
