//! `compose logs`: the output of the project's containers, each line prefixed with
//! `SERVICE-N  | ` (coloured on a terminal), `-f`, `-t`, `--tail`, `--since`, `--until`.

use super::report::{Printer, use_color};
use super::{ProjectFlags, project_or_name};
use crate::engine::Context;
use crate::engine::compose::{ComposeError, logs, verbs};
use crate::engine::container::logs::LogQuery;
use clap::Args;

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Follow log output
    #[arg(short, long)]
    follow: bool,
    /// Number of lines to show from the end of each container's log (or "all")
    #[arg(short = 'n', long, default_value = "all")]
    tail: String,
    /// Show timestamps
    #[arg(short, long)]
    timestamps: bool,
    /// Show logs since a time, Unix seconds, or a duration before now (10m)
    #[arg(long)]
    since: Option<String>,
    /// Show logs until a time, Unix seconds, or a duration before now
    #[arg(long)]
    until: Option<String>,
    /// Produce monochrome output
    #[arg(long)]
    no_color: bool,
    /// Do not prefix the lines with the container's name
    #[arg(long)]
    no_log_prefix: bool,
    /// Only the container of this number of the service
    #[arg(long)]
    index: Option<u32>,
    /// Services (default: all)
    services: Vec<String>,
}

fn time(flag: &str, s: &str) -> anyhow::Result<chrono::DateTime<chrono::FixedOffset>> {
    crate::util::parse_time(s, chrono::Utc::now()).map(|t| t.fixed_offset()).ok_or_else(|| {
        anyhow::anyhow!(
            "invalid {flag} \"{s}\": use a time (2026-01-02T15:04:05Z), Unix seconds, or a duration such as 10m"
        )
    })
}

pub(super) fn logs(g: &ProjectFlags, a: LogsArgs) -> anyhow::Result<()> {
    let tail = match a.tail.as_str() {
        "all" | "-1" => None,
        n => Some(n.parse::<usize>().map_err(|_| anyhow::anyhow!("invalid --tail \"{n}\": use a number or all"))?),
    };
    let q = LogQuery {
        since: a.since.as_deref().map(|s| time("--since", s)).transpose()?,
        until: a.until.as_deref().map(|s| time("--until", s)).transpose()?,
        tail,
    };
    let (p, _) = project_or_name(g)?;
    let ctx = Context::new()?;
    let list: Vec<_> = verbs::containers(&ctx, &p, &a.services)?
        .into_iter()
        .filter(|c| a.index.is_none_or(|i| c.number == i))
        .collect();
    let printer =
        Printer::new(&list.iter().collect::<Vec<_>>(), use_color(g.ansi, a.no_color), !a.no_log_prefix, a.timestamps);
    match logs::show(&ctx, &list, &q, a.follow, &|c, r| printer.record(c, r)) {
        Err(ComposeError::Container(e)) if e.is_closed_output() => Ok(()),
        r => r.map_err(Into::into),
    }
}
