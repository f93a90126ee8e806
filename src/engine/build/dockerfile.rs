//! Dockerfile text -> typed instructions (`instructions.rs`), each with its file and line.
//! The `parse-dockerfile` crate finds instructions, flags, JSON forms and directives; here we
//! add what BuildKit does beyond it (heredocs anywhere in RUN, ENV/ARG/LABEL words, flag
//! checks) and turn its errors into one-line `FILE:LINE: ...` messages. No expansion.

use super::flags::{self, FlagKind};
use super::heredoc::{self, Marker};
use super::instructions::{
    CommandLine, Copy, From, HealthConfig, Healthcheck, HereDoc, Instruction, Kind, Run, RunNetwork, Source,
};
use super::words::empty_continuation_warnings;
use super::words::{join_continuations, parse_arg_decls, parse_duration, parse_key_values};
use parse_dockerfile as pd;

/// A parse error: `FILE:LINE: message` (no line when the file as a whole is wrong).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.shown())]
pub struct DockerfileError {
    pub file: String,
    pub line: usize,
    pub msg: String,
}

impl DockerfileError {
    fn shown(&self) -> String {
        if self.line == 0 {
            format!("{}: {}", self.file, self.msg)
        } else {
            format!("{}:{}: {}", self.file, self.line, self.msg)
        }
    }
}

/// A parsed Dockerfile.
#[derive(Debug, Clone, PartialEq)]
pub struct Dockerfile {
    pub file: String,
    /// The escape token (`\` or, with `# escape=`` ` ``, a backtick).
    pub escape: char,
    /// `# syntax=` (accepted and ignored: kiste has one frontend).
    pub syntax: Option<String>,
    pub instructions: Vec<Instruction>,
    /// Things BuildKit warns about (empty continuation lines).
    pub warnings: Vec<String>,
}

pub const INSTRUCTIONS: &[&str] = &[
    "ADD",
    "ARG",
    "CMD",
    "COPY",
    "ENTRYPOINT",
    "ENV",
    "EXPOSE",
    "FROM",
    "HEALTHCHECK",
    "LABEL",
    "MAINTAINER",
    "ONBUILD",
    "RUN",
    "SHELL",
    "STOPSIGNAL",
    "USER",
    "VOLUME",
    "WORKDIR",
];

const COPY_FLAGS: &[(&str, FlagKind)] = &[
    ("from", FlagKind::Value),
    ("chown", FlagKind::Value),
    ("chmod", FlagKind::Value),
    ("link", FlagKind::Bool),
    ("parents", FlagKind::Bool),
    ("exclude", FlagKind::List),
];
const ADD_FLAGS: &[(&str, FlagKind)] = &[
    ("chown", FlagKind::Value),
    ("chmod", FlagKind::Value),
    ("link", FlagKind::Bool),
    ("keep-git-dir", FlagKind::Bool),
    ("checksum", FlagKind::Value),
    ("unpack", FlagKind::Bool),
    ("exclude", FlagKind::List),
];
const RUN_FLAGS: &[(&str, FlagKind)] = &[
    ("mount", FlagKind::List),
    ("network", FlagKind::Value),
    ("security", FlagKind::Value),
    ("device", FlagKind::List),
];
const HEALTH_FLAGS: &[(&str, FlagKind)] = &[
    ("interval", FlagKind::Value),
    ("timeout", FlagKind::Value),
    ("start-period", FlagKind::Value),
    ("start-interval", FlagKind::Value),
    ("retries", FlagKind::Value),
];

/// Parses `text` read from `file` (the name shown in errors).
pub fn parse(text: &str, file: &str) -> Result<Dockerfile, DockerfileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut p = Parser { text, file: file.to_string(), line_starts: line_starts(text), escape: '\\', out: Vec::new() };
    let (escape, syntax) = p.directives()?;
    p.escape = escape;
    let mut pos = 0;
    while let Some(next) = p.run_from(pos)? {
        pos = next;
    }
    p.check_stage_names()?;
    let warnings = empty_continuation_warnings(text, escape);
    Ok(Dockerfile { file: p.file, escape, syntax, instructions: p.out, warnings })
}

fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect()
}

/// Offsets of the text the crate currently parses: a synthetic prefix (escape directive and
/// a FROM, when restarting after heredoc bodies) followed by `text[base..]`.
struct View<'s> {
    synth: &'s str,
    prefix: usize,
    base: usize,
}

impl View<'_> {
    fn orig(&self, off: usize) -> usize {
        off.saturating_sub(self.prefix) + self.base
    }

    fn slice(&self, r: std::ops::Range<usize>) -> &str {
        self.synth.get(r).unwrap_or_default()
    }
}

struct Parser<'t> {
    text: &'t str,
    file: String,
    line_starts: Vec<usize>,
    escape: char,
    out: Vec<Instruction>,
}

/// What converting one instruction produced: the instruction, and when heredoc bodies were
/// read past what the crate consumed, the offset to continue parsing at.
struct Converted {
    ins: Instruction,
    resume: Option<usize>,
}

impl Parser<'_> {
    fn line_of(&self, off: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= off)
    }

    fn err(&self, line: usize, msg: impl Into<String>) -> DockerfileError {
        DockerfileError { file: self.file.clone(), line, msg: msg.into() }
    }

    /// Reads the parser directives at the top (`# syntax=`, `# escape=`, `# check=`).
    fn directives(&self) -> Result<(char, Option<String>), DockerfileError> {
        let (mut escape, mut syntax, mut seen) = ('\\', None, Vec::new());
        for (i, line) in self.text.lines().enumerate() {
            let Some(body) = line.strip_prefix('#') else { break };
            let Some((key, value)) = body.split_once('=') else { break };
            let key = key.trim().to_ascii_lowercase();
            if !matches!(key.as_str(), "syntax" | "escape" | "check") {
                break;
            }
            if seen.contains(&key) {
                return Ok(('\\', None));
            }
            let value = value.trim().to_string();
            if key == "escape" {
                escape = match value.as_str() {
                    "\\" => '\\',
                    "`" => '`',
                    _ => return Err(self.err(i + 1, format!("invalid escape token {value:?}: use \\ or `"))),
                };
            } else if key == "syntax" {
                syntax = Some(value);
            }
            seen.push(key);
        }
        Ok((escape, syntax))
    }

    /// Parses from `base` on; returns where to continue when heredoc bodies interrupted.
    fn run_from(&mut self, base: usize) -> Result<Option<usize>, DockerfileError> {
        let restart = base > 0;
        let mut prefix = String::new();
        if restart {
            if self.escape == '`' {
                prefix.push_str("# escape=`\n");
            }
            prefix.push_str("FROM scratch\n");
        }
        let synth = format!("{prefix}{}", self.text.get(base..).unwrap_or_default());
        let view = View { synth: &synth, prefix: prefix.len(), base };
        let prefix_lines = prefix.matches('\n').count();
        let first_line = self.line_of(base);
        let map_line = move |l: usize| (l + first_line).saturating_sub(prefix_lines + 1).max(1);
        let iter = pd::parse_iter(&synth).map_err(|e| self.crate_error(&e, map_line(e.line())))?;
        let mut skip = restart;
        for item in iter {
            let ins = item.map_err(|e| {
                let line = if e.line() == 0 { 0 } else { map_line(e.line()) };
                self.crate_error(&e, line)
            })?;
            if std::mem::take(&mut skip) {
                continue;
            }
            let c = self.convert(&ins, &view)?;
            self.out.push(c.ins);
            if let Some(next) = c.resume {
                return Ok(Some(next));
            }
        }
        Ok(None)
    }

    fn crate_error(&self, e: &pd::Error, line: usize) -> DockerfileError {
        let msg = format!("{e:#}");
        let msg = if let Some(word) = msg.strip_prefix("unknown instruction '").and_then(|m| m.strip_suffix('\'')) {
            match flags::suggest(word, INSTRUCTIONS) {
                Some(s) => format!("unknown instruction {word:?} (did you mean {s}?)"),
                None => format!("unknown instruction {word:?}: see the Dockerfile reference for the instructions"),
            }
        } else if msg == "FROM instruction requires at least one argument" {
            "FROM requires an image name (FROM IMAGE [AS NAME])".into()
        } else if let Some(kw) = msg.strip_suffix(" instruction requires at least two arguments") {
            format!("{kw} requires at least one source and a destination")
        } else if let Some(kw) = msg.strip_suffix(" instruction requires at least one argument") {
            format!("{kw} requires at least one argument")
        } else if let Some(kw) = msg.strip_suffix(" instruction requires exactly one argument") {
            format!("{kw} requires exactly one argument")
        } else if msg == "expected FROM" {
            "instruction before the first FROM: a Dockerfile must start with FROM (only ARG may come before it)".into()
        } else if msg == "expected at least one FROM instruction" {
            "no FROM instruction: a Dockerfile needs at least one FROM".into()
        } else if msg == "expected JSON array" {
            "SHELL requires a JSON array, e.g. SHELL [\"/bin/bash\", \"-c\"]".into()
        } else if msg == "expected AS" || msg == "expected newline or eof" {
            "FROM takes an image and an optional \"AS name\" (FROM IMAGE [AS NAME])".into()
        } else {
            msg
        };
        self.err(line, msg)
    }

    fn convert(&self, ins: &pd::Instruction<'_>, v: &View<'_>) -> Result<Converted, DockerfileError> {
        let start = keyword_span(ins).start;
        let line = self.line_of(v.orig(start));
        let end = line_part_end(ins);
        let line_end = v.synth.get(end..).and_then(|r| r.find('\n')).map_or(v.synth.len(), |i| end + i + 1);
        let source = join_continuations(v.slice(start..line_end), self.escape).trim().to_string();
        let e = |msg: String| self.err(line, msg);
        let markers = if matches!(ins, pd::Instruction::Run(_) | pd::Instruction::Copy(_) | pd::Instruction::Add(_)) {
            heredoc::markers_in_line(&source).map_err(|m| e(format!("{}: {m}", keyword_of(ins))))?
        } else {
            Vec::new()
        };
        let (docs, docs_end) = if markers.is_empty() {
            (Vec::new(), None)
        } else {
            let (docs, end) = heredoc::collect_bodies(self.text, v.orig(line_end), &markers).map_err(e)?;
            (docs, Some(end))
        };
        let kind = self.kind(ins, v, &source, &markers, docs).map_err(|m| e(format!("{}: {m}", keyword_of(ins))))?;
        let resume = match (docs_end, crate_heredocs(ins)) {
            (Some(end), n) if n != markers.len() => Some(end),
            _ => None,
        };
        Ok(Converted { ins: Instruction { line, source, kind }, resume })
    }

    fn kind(
        &self,
        ins: &pd::Instruction<'_>,
        v: &View<'_>,
        source: &str,
        markers: &[Marker],
        docs: Vec<HereDoc>,
    ) -> Result<Kind, String> {
        let esc = self.escape;
        Ok(match ins {
            pd::Instruction::From(f) => {
                let fl = flags::check(&raw_flags(&f.options), &[("platform", FlagKind::Value)], esc)?;
                let name = f.as_.as_ref().map(|(_, n)| n.value.to_lowercase());
                Kind::From(From { image: f.image.value.to_string(), platform: fl.value("platform"), name })
            }
            pd::Instruction::Run(r) => {
                let fl = flags::check(&raw_flags(&r.options), RUN_FLAGS, esc)?;
                if let Some(s) = fl.value("security") {
                    return Err(format!(
                        "--security={s} is not supported: kiste builds rootless and cannot grant insecure privileges; remove the flag"
                    ));
                }
                if !fl.list("device").is_empty() {
                    return Err("--device is not supported by kiste build; remove the flag".into());
                }
                let network = fl.value("network").map(|n| parse_network(&n)).transpose()?;
                let after_flags = r.options.last().map_or(r.run.span.end, |f| f.span().end);
                let command = match command_line(&r.arguments, v, esc) {
                    CommandLine::Shell(_) => {
                        let raw = v.slice(after_flags..command_end(&r.arguments).max(after_flags));
                        CommandLine::Shell(join_continuations(raw, esc).trim().to_string())
                    }
                    exec => exec,
                };
                if matches!(&command, CommandLine::Shell(s) if s.is_empty()) {
                    return Err("requires a command (RUN COMMAND or RUN [\"executable\", \"arg\"])".into());
                }
                Kind::Run(Run { command, heredocs: docs, mounts: fl.list("mount"), network })
            }
            pd::Instruction::Cmd(c) => Kind::Cmd(command_line(&c.arguments, v, esc)),
            pd::Instruction::Entrypoint(c) => Kind::Entrypoint(command_line(&c.arguments, v, esc)),
            pd::Instruction::Env(a) => Kind::Env(parse_key_values(&a.arguments.value, "ENV", esc)?),
            pd::Instruction::Label(a) => Kind::Label(parse_key_values(&a.arguments.value, "LABEL", esc)?),
            pd::Instruction::Arg(a) => Kind::Arg(parse_arg_decls(&a.arguments.value, esc)?),
            pd::Instruction::Workdir(a) => Kind::Workdir(a.arguments.value.to_string()),
            pd::Instruction::User(a) => Kind::User(a.arguments.value.to_string()),
            pd::Instruction::Stopsignal(a) => Kind::StopSignal(a.arguments.value.to_string()),
            pd::Instruction::Maintainer(a) => Kind::Maintainer(a.name.value.to_string()),
            pd::Instruction::Expose(a) => Kind::Expose(a.arguments.iter().map(|s| s.value.to_string()).collect()),
            pd::Instruction::Shell(a) => Kind::Shell(a.arguments.iter().map(|s| s.value.to_string()).collect()),
            pd::Instruction::Volume(a) => {
                let list: Vec<String> = match &a.arguments {
                    pd::JsonOrStringArray::Json(j) => j.value.iter().map(|s| s.value.trim().to_string()).collect(),
                    pd::JsonOrStringArray::String(s) => s.iter().map(|s| s.value.to_string()).collect(),
                };
                if list.iter().any(String::is_empty) {
                    return Err("paths cannot be empty".into());
                }
                Kind::Volume(list)
            }
            pd::Instruction::Healthcheck(h) => Kind::Healthcheck(healthcheck(h, v, esc)?),
            pd::Instruction::Copy(c) => {
                let fl = flags::check(&raw_flags(&c.options), COPY_FLAGS, esc)?;
                Kind::Copy(copy_args(&fl, &c.src, &c.dest.value, markers, docs)?)
            }
            pd::Instruction::Add(c) => {
                let fl = flags::check(&raw_flags(&c.options), ADD_FLAGS, esc)?;
                Kind::Add(copy_args(&fl, &c.src, &c.dest.value, markers, docs)?)
            }
            pd::Instruction::Onbuild(o) => self.onbuild(&o.instruction, v, source)?,
            _ => return Err("this instruction is not supported".into()),
        })
    }

    fn onbuild(&self, inner: &pd::Instruction<'_>, v: &View<'_>, source: &str) -> Result<Kind, String> {
        let kw = keyword_of(inner);
        if matches!(kw, "FROM" | "MAINTAINER" | "ONBUILD") {
            return Err(format!("{kw} isn't allowed as an ONBUILD trigger"));
        }
        let expression = source.get(7..).unwrap_or_default().trim_start().to_string();
        let converted = self.convert(inner, v).map_err(|e| e.msg)?;
        if converted.resume.is_some() {
            return Err("here-documents in ONBUILD triggers are not supported; write the trigger without one".into());
        }
        Ok(Kind::Onbuild { expression, inner: Box::new(converted.ins) })
    }

    fn check_stage_names(&self) -> Result<(), DockerfileError> {
        let mut seen: Vec<(&str, usize)> = Vec::new();
        for ins in &self.out {
            let Kind::From(From { name: Some(name), .. }) = &ins.kind else { continue };
            let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c));
            if !valid {
                return Err(self.err(
                    ins.line,
                    format!("FROM: invalid stage name {name:?}: start with a letter and use letters, digits, \"-\", \"_\" or \".\""),
                ));
            }
            if let Some((_, first)) = seen.iter().find(|(n, _)| n == name) {
                return Err(self.err(
                    ins.line,
                    format!(
                        "FROM: duplicate stage name {name:?} (first used on line {first}): give each stage its own name"
                    ),
                ));
            }
            seen.push((name, ins.line));
        }
        Ok(())
    }
}

fn parse_network(n: &str) -> Result<RunNetwork, String> {
    match n {
        "default" => Ok(RunNetwork::Default),
        "none" => Ok(RunNetwork::None),
        "host" => Ok(RunNetwork::Host),
        _ => Err(format!("invalid --network {n:?}: use default, none or host")),
    }
}

fn raw_flags(options: &[pd::Flag<'_>]) -> Vec<(String, Option<String>)> {
    options.iter().map(|f| (f.name.value.to_string(), f.value.as_ref().map(|v| v.value.to_string()))).collect()
}

fn command_line(c: &pd::Command<'_>, v: &View<'_>, esc: char) -> CommandLine {
    match c {
        pd::Command::Exec(a) => CommandLine::Exec(a.value.iter().map(|s| s.value.to_string()).collect()),
        pd::Command::Shell(s) => {
            CommandLine::Shell(join_continuations(v.slice(s.span.clone()), esc).trim().to_string())
        }
        _ => CommandLine::Shell(String::new()),
    }
}

fn healthcheck(h: &pd::HealthcheckInstruction<'_>, v: &View<'_>, esc: char) -> Result<Healthcheck, String> {
    let pd::HealthcheckArguments::Cmd { arguments, .. } = &h.arguments else {
        return Ok(Healthcheck::None);
    };
    let fl = flags::check(&raw_flags(&h.options), HEALTH_FLAGS, esc)?;
    let test = match command_line(arguments, v, esc) {
        CommandLine::Exec(a) if !a.is_empty() => std::iter::once("CMD".to_string()).chain(a).collect(),
        CommandLine::Shell(s) if !s.is_empty() => vec!["CMD-SHELL".to_string(), s],
        _ => return Err("CMD requires a command (HEALTHCHECK CMD COMMAND)".into()),
    };
    let dur = |name: &str| -> Result<u64, String> {
        let Some(s) = fl.value(name) else { return Ok(0) };
        let d =
            parse_duration(&s).ok_or_else(|| format!("invalid --{name} {s:?}: use a duration such as 30s or 1m30s"))?;
        if d != 0 && d < 1_000_000 {
            return Err(format!("--{name} {s:?} is less than 1ms"));
        }
        Ok(d)
    };
    let retries = match fl.value("retries") {
        None => 0,
        Some(s) => s.parse::<u32>().map_err(|_| format!("invalid --retries {s:?}: use a whole number, 0 or more"))?,
    };
    Ok(Healthcheck::Check(HealthConfig {
        test,
        interval: dur("interval")?,
        timeout: dur("timeout")?,
        start_period: dur("start-period")?,
        start_interval: dur("start-interval")?,
        retries,
    }))
}

fn copy_args(
    fl: &flags::Flags,
    src: &[pd::Source<'_>],
    dest: &str,
    markers: &[Marker],
    docs: Vec<HereDoc>,
) -> Result<Copy, String> {
    if heredoc::parse_marker(dest)?.is_some() {
        return Err("cannot accept a heredoc as the destination".into());
    }
    let mut docs = docs.into_iter();
    let mut sources = Vec::new();
    for s in src {
        match s {
            pd::Source::Path(p) => sources.push(Source::Path(p.value.to_string())),
            pd::Source::HereDoc(_) => {
                let d = docs.next().ok_or("cannot read a here-document source")?;
                sources.push(Source::HereDoc(d));
            }
            _ => return Err("unsupported source".into()),
        }
    }
    debug_assert!(markers.len() >= sources.iter().filter(|s| matches!(s, Source::HereDoc(_))).count());
    Ok(Copy {
        sources,
        dest: dest.to_string(),
        from: fl.value("from"),
        chown: fl.value("chown"),
        chmod: fl.value("chmod"),
        link: fl.bool("link").unwrap_or(false),
        parents: fl.bool("parents").unwrap_or(false),
        exclude: fl.list("exclude"),
        keep_git_dir: fl.bool("keep-git-dir"),
        checksum: fl.value("checksum"),
        unpack: fl.bool("unpack"),
    })
}

/// How many heredocs the crate itself consumed for this instruction.
fn crate_heredocs(ins: &pd::Instruction<'_>) -> usize {
    match ins {
        pd::Instruction::Run(r) => r.here_docs.len(),
        pd::Instruction::Copy(c) => c.src.iter().filter(|s| matches!(s, pd::Source::HereDoc(_))).count(),
        pd::Instruction::Add(c) => c.src.iter().filter(|s| matches!(s, pd::Source::HereDoc(_))).count(),
        _ => 0,
    }
}

fn keyword_of(ins: &pd::Instruction<'_>) -> &'static str {
    match ins {
        pd::Instruction::Add(_) => "ADD",
        pd::Instruction::Arg(_) => "ARG",
        pd::Instruction::Cmd(_) => "CMD",
        pd::Instruction::Copy(_) => "COPY",
        pd::Instruction::Entrypoint(_) => "ENTRYPOINT",
        pd::Instruction::Env(_) => "ENV",
        pd::Instruction::Expose(_) => "EXPOSE",
        pd::Instruction::From(_) => "FROM",
        pd::Instruction::Healthcheck(_) => "HEALTHCHECK",
        pd::Instruction::Label(_) => "LABEL",
        pd::Instruction::Maintainer(_) => "MAINTAINER",
        pd::Instruction::Onbuild(_) => "ONBUILD",
        pd::Instruction::Run(_) => "RUN",
        pd::Instruction::Shell(_) => "SHELL",
        pd::Instruction::Stopsignal(_) => "STOPSIGNAL",
        pd::Instruction::User(_) => "USER",
        pd::Instruction::Volume(_) => "VOLUME",
        pd::Instruction::Workdir(_) => "WORKDIR",
        _ => "instruction",
    }
}

fn keyword_span(ins: &pd::Instruction<'_>) -> pd::Span {
    match ins {
        pd::Instruction::Add(i) => i.add.span.clone(),
        pd::Instruction::Arg(i) => i.arg.span.clone(),
        pd::Instruction::Cmd(i) => i.cmd.span.clone(),
        pd::Instruction::Copy(i) => i.copy.span.clone(),
        pd::Instruction::Entrypoint(i) => i.entrypoint.span.clone(),
        pd::Instruction::Env(i) => i.env.span.clone(),
        pd::Instruction::Expose(i) => i.expose.span.clone(),
        pd::Instruction::From(i) => i.from.span.clone(),
        pd::Instruction::Healthcheck(i) => i.healthcheck.span.clone(),
        pd::Instruction::Label(i) => i.label.span.clone(),
        pd::Instruction::Maintainer(i) => i.maintainer.span.clone(),
        pd::Instruction::Onbuild(i) => i.onbuild.span.clone(),
        pd::Instruction::Run(i) => i.run.span.clone(),
        pd::Instruction::Shell(i) => i.shell.span.clone(),
        pd::Instruction::Stopsignal(i) => i.stopsignal.span.clone(),
        pd::Instruction::User(i) => i.user.span.clone(),
        pd::Instruction::Volume(i) => i.volume.span.clone(),
        pd::Instruction::Workdir(i) => i.workdir.span.clone(),
        _ => 0..0,
    }
}

fn command_end(c: &pd::Command<'_>) -> usize {
    match c {
        pd::Command::Exec(a) => a.span.end,
        pd::Command::Shell(s) => s.span.end,
        _ => 0,
    }
}

/// The end of the instruction's own line(s), before any heredoc bodies.
fn line_part_end(ins: &pd::Instruction<'_>) -> usize {
    let kw = keyword_span(ins).end;
    let end = match ins {
        pd::Instruction::Add(i) => i.dest.span.end,
        pd::Instruction::Copy(i) => i.dest.span.end,
        pd::Instruction::Arg(i) => i.arguments.span.end,
        pd::Instruction::Env(i) => i.arguments.span.end,
        pd::Instruction::Label(i) => i.arguments.span.end,
        pd::Instruction::User(i) => i.arguments.span.end,
        pd::Instruction::Workdir(i) => i.arguments.span.end,
        pd::Instruction::Stopsignal(i) => i.arguments.span.end,
        pd::Instruction::Maintainer(i) => i.name.span.end,
        pd::Instruction::Cmd(i) => command_end(&i.arguments),
        pd::Instruction::Entrypoint(i) => command_end(&i.arguments),
        pd::Instruction::Run(i) => command_end(&i.arguments),
        pd::Instruction::Expose(i) => i.arguments.last().map_or(kw, |a| a.span.end),
        pd::Instruction::Shell(i) => i.arguments.last().map_or(kw, |a| a.span.end),
        pd::Instruction::Volume(i) => match &i.arguments {
            pd::JsonOrStringArray::Json(j) => j.span.end,
            pd::JsonOrStringArray::String(s) => s.last().map_or(kw, |a| a.span.end),
        },
        pd::Instruction::From(i) => i.as_.as_ref().map_or(i.image.span.end, |(_, n)| n.span.end),
        pd::Instruction::Healthcheck(i) => match &i.arguments {
            pd::HealthcheckArguments::Cmd { arguments, .. } => command_end(arguments),
            pd::HealthcheckArguments::None { none, .. } => none.span.end,
            _ => kw,
        },
        pd::Instruction::Onbuild(i) => line_part_end(&i.instruction),
        _ => kw,
    };
    end.max(kw)
}

#[cfg(test)]
#[path = "dockerfile_tests.rs"]
mod tests;
