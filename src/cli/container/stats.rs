//! `stats`: containers' resource use, once (`--no-stream`) or every `--interval` seconds,
//! as Podman's table, `--format json` or a Go template. Samples and rows come from
//! engine::container::stats.

use crate::cli::output;
use crate::engine::Context;
use crate::engine::container::{self as ctr, stats};
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub struct StatsArgs {
    /// Show all containers (only running ones by default)
    #[arg(short, long)]
    all: bool,
    /// Show the latest container
    #[arg(short, long)]
    latest: bool,
    /// Print one sample and end
    #[arg(long)]
    no_stream: bool,
    /// Do not clear the screen between samples
    #[arg(long)]
    no_reset: bool,
    /// Do not truncate IDs
    #[arg(long)]
    no_trunc: bool,
    /// Seconds between samples
    #[arg(short, long, default_value = "5")]
    interval: String,
    /// Output format: json, or a Go template
    #[arg(long)]
    format: Option<String>,
    /// Containers (names or IDs); default: every running one
    containers: Vec<String>,
}

/// Podman's table: its template and headings.
const DEFAULT_FORMAT: &str = "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDS}}\t{{.UpTime}}\t{{.AVGCPU}}";

const SHAPE: output::Shape = output::Shape {
    name: "stats",
    type_name: |_| "containers.containerStats",
    maps: &["Network"],
    times: &[],
    methods: &[],
    headings: &[
        ("ID", "ID"),
        ("UpTime", "CPU TIME"),
        ("CPUPerc", "CPU %"),
        ("AVGCPU", "Avg CPU %"),
        ("MemUsage", "MEM USAGE / LIMIT"),
        ("MemUsageBytes", "MEM USAGE / LIMIT"),
        ("MemPerc", "MEM %"),
        ("NetIO", "NET IO"),
        ("BlockIO", "BLOCK IO"),
        ("PIDS", "PIDS"),
    ],
    heading_row: true,
    inspect: false,
    optional: &[],
};

pub(super) fn stats(a: StatsArgs) -> anyhow::Result<()> {
    if [a.all, a.latest, !a.containers.is_empty()].iter().filter(|x| **x).count() > 1 {
        anyhow::bail!("--all, --latest and containers cannot be used together; give one of them");
    }
    let interval: u64 =
        a.interval.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
            anyhow::anyhow!("invalid --interval \"{}\": use a number of seconds, 1 or more", a.interval)
        })?;
    let ctx = Context::new()?;
    let mut prev: Vec<stats::Sample> = Vec::new();
    loop {
        let list = chosen(&ctx, &a)?;
        let samples = stats::sample(&list);
        let rows: Vec<serde_json::Value> =
            samples.iter().map(|s| stats::row(s, prev.iter().find(|p| p.id == s.id), a.no_trunc)).collect();
        if !a.no_stream && !a.no_reset {
            // Podman's screen reset: clear, cursor home.
            print!("\x1b[2J\x1b[H");
        }
        show(&a, &rows)?;
        if a.no_stream {
            return Ok(());
        }
        std::io::stdout().flush()?;
        prev = samples;
        std::thread::sleep(std::time::Duration::from_secs(interval));
    }
}

/// The containers to sample now (a stream picks up containers started since).
fn chosen(ctx: &Context, a: &StatsArgs) -> anyhow::Result<Vec<ctr::Container>> {
    let conn = ctx.db()?;
    if !a.containers.is_empty() {
        let mut out = Vec::new();
        for n in &a.containers {
            let mut c = ctr::resolve(&conn, n)?;
            ctr::reconcile(ctx, &conn, &mut c)?;
            out.push(c);
        }
        return Ok(out);
    }
    let list = ctr::list_reconciled(ctx, &conn)?;
    let list = list.into_iter().filter(|c| c.kept.builder.is_none());
    Ok(match (a.latest, a.all) {
        (true, _) => list.take(1).collect(),
        (false, true) => list.collect(),
        (false, false) => list.filter(|c| c.run_pid().is_some()).collect(),
    })
}

fn show(a: &StatsArgs, rows: &[serde_json::Value]) -> anyhow::Result<()> {
    if output::is_json(a.format.as_deref()) {
        return Ok(output::json(&serde_json::Value::Array(rows.iter().map(stats::json_row).collect()))?);
    }
    output::templated(a.format.as_deref().unwrap_or(DEFAULT_FORMAT), &SHAPE, rows)
}
