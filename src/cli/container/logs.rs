//! `logs`: the container's output as it wrote it, `-f`, `-t`, `--tail`, `--since`, `--until`.

use crate::engine::Context;
use crate::engine::container as ctr;
use crate::monitor::logfile::Record;
use clap::Args;

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Keep following the output
    #[arg(short, long)]
    follow: bool,
    /// Show only the last N lines
    #[arg(long)]
    tail: Option<usize>,
    /// Show the time of each line
    #[arg(short, long)]
    timestamps: bool,
    /// Show lines written since a time, Unix seconds, or a duration before now (10m)
    #[arg(long)]
    since: Option<String>,
    /// Show lines written until a time, Unix seconds, or a duration before now
    #[arg(long)]
    until: Option<String>,
    container: String,
}

pub(super) fn logs(a: LogsArgs) -> anyhow::Result<()> {
    use crate::engine::container::logs::{self, LogQuery};
    let ctx = Context::new()?;
    let c = ctr::resolve(&ctx.db()?, &a.container)?;
    let q = LogQuery {
        since: a.since.as_deref().map(|s| log_time("--since", s)).transpose()?,
        until: a.until.as_deref().map(|s| log_time("--until", s)).transpose()?,
        tail: a.tail,
    };
    // With -t, each line starts with the time of its first record.
    let mut line_start = true;
    let mut show = |r: &Record| -> std::io::Result<()> {
        let stamp = (a.timestamps && line_start)
            .then(|| format!("{} ", r.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)));
        line_start = r.full;
        write_record(r, stamp.as_deref())
    };
    let shown = logs::read(&ctx, &c, &q, &mut show).and_then(|end| match a.follow {
        true => logs::follow(&ctx, &c.id, end, &LogQuery { tail: None, ..q }, &mut show).map(|_| end),
        false => Ok(end),
    });
    match shown {
        Err(e) if e.is_closed_output() => Ok(()),
        r => r.map(|_| ()).map_err(Into::into),
    }
}

/// Writes a record's content to stdout or stderr, as the container wrote it.
pub(super) fn write_record(r: &Record, prefix: Option<&str>) -> std::io::Result<()> {
    use std::io::Write;
    let mut line = Vec::with_capacity(r.content.len() + 40);
    if let Some(p) = prefix {
        line.extend_from_slice(p.as_bytes());
    }
    line.extend_from_slice(r.content);
    if r.full {
        line.push(b'\n');
    }
    if r.stream == "stderr" {
        let mut e = std::io::stderr().lock();
        e.write_all(&line).and_then(|_| e.flush())
    } else {
        let mut o = std::io::stdout().lock();
        o.write_all(&line).and_then(|_| o.flush())
    }
}

/// `--since`/`--until`: a time, Unix seconds, or a duration before now (`util::parse_time`).
fn log_time(flag: &str, s: &str) -> anyhow::Result<chrono::DateTime<chrono::FixedOffset>> {
    crate::util::parse_time(s, chrono::Utc::now()).map(|t| t.fixed_offset()).ok_or_else(|| {
        anyhow::anyhow!(
            "invalid {flag} \"{s}\": use a time (2026-01-02T15:04:05Z), Unix seconds, or a duration such as 10m"
        )
    })
}
