//! `logs`: the containers' output as they wrote it, `-f`, `-t`, `--tail`, `--since`,
//! `--until`; several containers at once with a prefix per line (`--names`, `--color`).

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
    /// With several containers: prefix lines with the container's name instead of its ID
    #[arg(short, long)]
    names: bool,
    /// With several containers: a color per container
    #[arg(long)]
    color: bool,
    /// The latest created container
    #[arg(short, long)]
    latest: bool,
    #[arg(required_unless_present = "latest")]
    containers: Vec<String>,
}

/// Podman's colors per container, in order.
const COLORS: [&str; 7] = ["\x1b[37m", "\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[35m", "\x1b[36m", "\x1b[32m"];
const RESET: &str = "\x1b[0m";

/// How each line of one container is shown.
struct Prefix {
    /// `ID ` or `NAME ` when several containers are shown.
    who: Option<String>,
    color: Option<&'static str>,
    timestamps: bool,
}

pub(super) fn logs(a: LogsArgs) -> anyhow::Result<()> {
    use crate::engine::container::logs::LogQuery;
    let ctx = Context::new()?;
    let conn = ctx.db()?;
    let list: Vec<ctr::Container> = match a.latest {
        true => ctr::list(&conn)?.into_iter().take(1).collect(),
        false => a.containers.iter().map(|n| ctr::resolve(&conn, n)).collect::<Result<_, _>>()?,
    };
    drop(conn);
    let q = LogQuery {
        since: a.since.as_deref().map(|s| log_time("--since", s)).transpose()?,
        until: a.until.as_deref().map(|s| log_time("--until", s)).transpose()?,
        tail: a.tail,
    };
    let multi = list.len() > 1;
    let prefix = |i: usize, c: &ctr::Container| Prefix {
        who: multi.then(|| if a.names { c.name.clone() } else { c.id[..12].to_string() }),
        color: (multi && a.color).then(|| COLORS[i % COLORS.len()]),
        timestamps: a.timestamps,
    };
    if a.follow && multi {
        // Each container followed on its own thread; lines go out whole.
        return std::thread::scope(|s| {
            let (ctx, q) = (&ctx, &q);
            let handles: Vec<_> = list
                .iter()
                .enumerate()
                .map(|(i, c)| {
                    let p = prefix(i, c);
                    s.spawn(move || show(ctx, c, q, true, &p))
                })
                .collect();
            handles
                .into_iter()
                .try_for_each(|h| h.join().unwrap_or_else(|_| Err(anyhow::anyhow!("a log reader failed"))))
        });
    }
    for (i, c) in list.iter().enumerate() {
        show(&ctx, c, &q, a.follow, &prefix(i, c))?;
    }
    Ok(())
}

/// Shows one container's log (and follows it).
fn show(
    ctx: &Context,
    c: &ctr::Container,
    q: &crate::engine::container::logs::LogQuery,
    follow: bool,
    p: &Prefix,
) -> anyhow::Result<()> {
    use crate::engine::container::logs::{self, LogQuery};
    // With -t, each line starts with the time of its first record.
    let mut line_start = true;
    let mut show = |r: &Record| -> std::io::Result<()> {
        let mut pre = String::new();
        if line_start {
            if let Some(w) = &p.who {
                pre.push_str(w);
                pre.push(' ');
            }
            if p.timestamps {
                pre.push_str(&r.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true));
                pre.push(' ');
            }
        }
        line_start = r.full;
        write_record(r, Some(&pre), p.color)
    };
    let shown = logs::read(ctx, c, q, &mut show).and_then(|end| match follow {
        true => logs::follow(ctx, &c.id, end, &LogQuery { tail: None, ..*q }, &mut show).map(|_| end),
        false => Ok(end),
    });
    match shown {
        Err(e) if e.is_closed_output() => Ok(()),
        r => r.map(|_| ()).map_err(Into::into),
    }
}

/// Writes a record's content to stdout or stderr, as the container wrote it, after
/// `prefix`, in `color` (reset at the end).
pub(super) fn write_record(r: &Record, prefix: Option<&str>, color: Option<&str>) -> std::io::Result<()> {
    use std::io::Write;
    let mut line = Vec::with_capacity(r.content.len() + 48);
    if let Some(c) = color {
        line.extend_from_slice(c.as_bytes());
    }
    if let Some(p) = prefix {
        line.extend_from_slice(p.as_bytes());
    }
    line.extend_from_slice(r.content);
    if color.is_some() {
        line.extend_from_slice(RESET.as_bytes());
    }
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
