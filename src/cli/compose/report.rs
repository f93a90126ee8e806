//! The terminal side of the compose commands: progress events as docker compose prints them
//! without a TTY (` Container app-web-1  Started`, on stderr), build output, and container log
//! lines with `SERVICE-N  | ` prefixes, coloured per container on a terminal.

use crate::engine::build::exec::BuildOutput;
use crate::engine::compose::attach::AttachOutput;
use crate::engine::compose::project_state::ProjectContainer;
use crate::engine::compose::report::{Kind, Report};
use crate::monitor::logfile::Record;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::os::fd::AsFd;
use std::process::Stdio;
use std::sync::Mutex;

/// Events and warnings on stderr; quiet drops the events.
pub struct Terminal {
    pub quiet: bool,
    pub progress: bool,
}

impl Terminal {
    pub fn new(quiet: bool) -> Terminal {
        Terminal { quiet, progress: !quiet && std::io::stderr().is_terminal() }
    }
}

struct BuildLines {
    quiet: bool,
}

impl BuildOutput for BuildLines {
    fn say(&mut self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }
    fn run_stdio(&mut self) -> std::io::Result<(Stdio, Stdio)> {
        if self.quiet {
            return Ok((Stdio::null(), Stdio::null()));
        }
        let err = || std::io::stderr().as_fd().try_clone_to_owned().map(Stdio::from);
        Ok((err()?, err()?))
    }
}

impl Report for Terminal {
    fn event(&self, kind: Kind, name: &str, status: &str) {
        if !self.quiet {
            let mut e = std::io::stderr().lock();
            let _ = writeln!(e, " {} {name}  {status}", kind.as_str());
        }
    }
    fn warn(&self, message: &str) {
        crate::util::print_warning(message);
    }
    fn build_output(&self, _service: &str) -> Box<dyn BuildOutput + '_> {
        Box::new(BuildLines { quiet: self.quiet })
    }
    fn pull_progress(&self) -> bool {
        self.progress
    }
}

/// docker compose's colours, in the order it hands them out.
const COLORS: [&str; 10] = ["36", "33", "32", "35", "34", "36;1", "33;1", "32;1", "35;1", "34;1"];

/// Prints container output lines with prefixes (and colours), and exit notes.
pub struct Printer {
    width: usize,
    colors: BTreeMap<String, &'static str>,
    color: bool,
    prefix: bool,
    timestamps: bool,
    out: Mutex<()>,
}

impl Printer {
    /// A printer for `containers` (their prefixes padded to the longest name).
    pub fn new(containers: &[&ProjectContainer], color: bool, prefix: bool, timestamps: bool) -> Printer {
        let names: Vec<String> = containers.iter().map(|c| c.short_name()).collect();
        let width = names.iter().map(String::len).max().unwrap_or(0) + 1;
        let colors = containers.iter().enumerate().map(|(i, c)| (c.c.id.clone(), COLORS[i % COLORS.len()])).collect();
        Printer { width, colors, color, prefix, timestamps, out: Mutex::new(()) }
    }

    fn paint(&self, c: &ProjectContainer, text: &str) -> String {
        match (self.color, self.colors.get(&c.c.id)) {
            (true, Some(code)) => format!("\x1b[{code}m{text}\x1b[0m"),
            _ => text.to_string(),
        }
    }

    fn prefix(&self, c: &ProjectContainer) -> String {
        match self.prefix {
            true => self.paint(c, &format!("{:<w$} | ", c.short_name(), w = self.width)),
            false => String::new(),
        }
    }

    /// One record as a line (stdout or stderr as the container wrote it).
    pub fn record(&self, c: &ProjectContainer, r: &Record) -> std::io::Result<()> {
        let mut line = self.prefix(c).into_bytes();
        if self.timestamps {
            line.extend_from_slice(r.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true).as_bytes());
            line.push(b' ');
        }
        line.extend_from_slice(r.content);
        line.push(b'\n');
        let _held = self.out.lock();
        if r.stream == "stderr" {
            let mut e = std::io::stderr().lock();
            e.write_all(&line).and_then(|_| e.flush())
        } else {
            let mut o = std::io::stdout().lock();
            o.write_all(&line).and_then(|_| o.flush())
        }
    }

    fn note_line(&self, text: &str) {
        let _held = self.out.lock();
        let mut o = std::io::stdout().lock();
        let _ = writeln!(o, "{text}").and_then(|_| o.flush());
    }
}

impl AttachOutput for Printer {
    fn line(&self, c: &ProjectContainer, r: &Record) {
        let _ = self.record(c, r);
    }
    fn exited(&self, c: &ProjectContainer, code: Option<i64>) {
        let code = code.map(|c| c.to_string()).unwrap_or_else(|| "unknown".into());
        self.note_line(&self.paint(c, &format!("{} exited with code {code}", c.short_name())));
    }
    fn note(&self, text: &str) {
        self.note_line(text);
    }
}

/// `--ansi` / `--no-color`: whether output gets colours.
pub fn use_color(ansi: super::Ansi, no_color: bool) -> bool {
    match (no_color, ansi) {
        (true, _) | (_, super::Ansi::Never) => false,
        (_, super::Ansi::Always) => true,
        (_, super::Ansi::Auto) => std::io::stdout().is_terminal(),
    }
}
