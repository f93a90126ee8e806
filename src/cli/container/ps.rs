//! `ps` (`container list`): the table, `-q`, `--format json|TEMPLATE`, filters, Podman's
//! `--sort`, `--size`, `--ns`, `--pod`, `--noheading`.

use crate::cli::output;
use crate::engine::Context;
use crate::engine::container::{self as ctr, filter, filter::PsFilters, view};
use clap::{Args, ValueEnum};

/// `ps --sort` keys (Podman's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SortKey {
    Command,
    Created,
    Id,
    Image,
    Names,
    Runningfor,
    Size,
    Status,
}

#[derive(Args, Debug)]
pub struct PsArgs {
    /// Show all containers, not only running ones
    #[arg(short, long)]
    all: bool,
    /// Show only container IDs
    #[arg(short, long)]
    quiet: bool,
    /// Show the latest container
    #[arg(short, long)]
    latest: bool,
    /// Show the last N containers
    #[arg(short = 'n', long)]
    last: Option<usize>,
    /// Do not truncate IDs and commands
    #[arg(long)]
    no_trunc: bool,
    /// Filter: id=, name=, label=, label!=, status=, ancestor=, exited=, before=, since=,
    /// until=, network=, volume=, publish=, expose=, command=, health=, restart-policy=, pod=
    #[arg(short, long)]
    filter: Vec<String>,
    /// Output format: json, or a Go template
    #[arg(long)]
    format: Option<String>,
    /// Also show containers of running builds
    #[arg(long)]
    external: bool,
    /// Do not print the heading row
    #[arg(long)]
    noheading: bool,
    /// Sort by: command, created, id, image, names, runningfor, size, status
    #[arg(long, value_enum, default_value = "created")]
    sort: SortKey,
    /// Show each container's size (its writable layer, and with its image)
    #[arg(short, long)]
    size: bool,
    /// Show the namespaces of each container's PID 1
    #[arg(long)]
    ns: bool,
    /// Show the pod of each container (kiste has no pods: empty)
    #[arg(short, long)]
    pod: bool,
    /// Accepted for Podman's sake: states are always checked
    #[arg(long, hide = true)]
    sync: bool,
}

/// One shown container with its health (read once: the STATUS text and `health=` need it)
/// and, when asked for, its size.
struct Row {
    c: ctr::Container,
    health: Option<ctr::health::Status>,
    size: Option<view::Size>,
}

/// Sorts rows (the list is newest first already) by `key`.
fn sort(rows: &mut [Row], key: SortKey) {
    match key {
        SortKey::Created => {}
        SortKey::Runningfor => rows.sort_by_key(|r| std::cmp::Reverse(r.c.started_at.unwrap_or(r.c.created))),
        SortKey::Command => rows.sort_by_key(|r| r.c.command.join(" ")),
        SortKey::Id => rows.sort_by(|a, b| a.c.id.cmp(&b.c.id)),
        SortKey::Image => rows.sort_by(|a, b| a.c.image_name.cmp(&b.c.image_name)),
        SortKey::Names => rows.sort_by(|a, b| a.c.name.cmp(&b.c.name)),
        SortKey::Status => rows.sort_by_key(|r| view::status(&r.c, r.health)),
        SortKey::Size => rows.sort_by_key(|r| r.size.map_or(0, |s| s.rw)),
    }
}

/// The containers `ps` shows, filtered, limited and sorted.
fn rows(ctx: &Context, a: &PsArgs) -> anyhow::Result<Vec<Row>> {
    let conn = ctx.db()?;
    let list = ctr::list_reconciled(ctx, &conn)?;
    let limit = if a.latest { Some(1) } else { a.last };
    let all = a.all || limit.is_some();
    let filters = PsFilters::parse_with(&a.filter, &list, &filter::Store(ctx))?;
    let mut shown: Vec<(ctr::Container, Option<ctr::health::Status>)> = list
        .into_iter()
        .filter(|c| (all || c.is_running()) && (a.external || c.kept.builder.is_none()))
        .map(|c| {
            let h = view::shown_health(ctx, &c);
            (c, h)
        })
        .filter(|(c, h)| filters.matches(c, *h))
        .collect();
    if let Some(n) = limit {
        shown.truncate(n);
    }
    let sizes = match a.size || a.sort == SortKey::Size {
        true => view::sizes(ctx, &shown.iter().map(|(c, _)| c).collect::<Vec<_>>())?.into_iter().map(Some).collect(),
        false => vec![None; shown.len()],
    };
    let mut rows: Vec<Row> = shown.into_iter().zip(sizes).map(|((c, health), size)| Row { c, health, size }).collect();
    sort(&mut rows, a.sort);
    Ok(rows)
}

/// A row as `ps` shows it with these flags.
fn shown<'r>(r: &'r Row, a: &PsArgs) -> view::PsRow<'r> {
    view::PsRow { c: &r.c, health: r.health, size: r.size.filter(|_| a.size), ns: a.ns }
}

pub(super) fn ps(a: PsArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let rows = rows(&ctx, &a)?;
    let shown = |r| shown(r, &a);
    if output::is_json(a.format.as_deref()) {
        let values = rows.iter().map(|r| shown(r).json()).collect();
        return Ok(output::json(&serde_json::Value::Array(values))?);
    }
    let id = |c: &ctr::Container| if a.no_trunc { c.id.clone() } else { c.id[..12].to_string() };
    if let Some(t) = &a.format {
        let values: Vec<serde_json::Value> = rows.iter().map(|r| shown(r).template(a.no_trunc)).collect();
        return output::templated(t, &output::Shape { heading_row: !a.noheading, ..output::PS }, &values);
    }
    if a.quiet {
        for r in &rows {
            println!("{}", id(&r.c));
        }
        return Ok(());
    }
    if a.ns {
        return ns_table(&rows, &id, a.noheading);
    }
    let mut headers = vec!["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"];
    if a.pod {
        headers.extend(["POD ID", "PODNAME"]);
    }
    if a.size {
        headers.push("SIZE");
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|Row { c, health, size }| {
            let mut cmd = c.command.join(" ");
            if !a.no_trunc && cmd.len() > 17 {
                cmd = cmd.chars().take(17).collect::<String>() + "...";
            }
            let created = c.created.ago();
            let ports = c.kept.ports.iter().map(|m| m.display()).collect::<Vec<_>>().join(", ");
            let mut r =
                vec![id(c), c.image_name.clone(), cmd, created, view::status(c, *health), ports, c.name.clone()];
            if a.pod {
                r.extend([String::new(), String::new()]);
            }
            if let Some(s) = size.filter(|_| a.size) {
                r.push(s.text());
            }
            r
        })
        .collect();
    Ok(output::table(if a.noheading { &[] } else { &headers }, &table)?)
}

/// `ps --ns`: Podman's namespace columns.
fn ns_table(rows: &[Row], id: &dyn Fn(&ctr::Container) -> String, noheading: bool) -> anyhow::Result<()> {
    let headers = ["CONTAINER ID", "NAMES", "PID", "CGROUPNS", "IPC", "MNT", "NET", "PIDNS", "USERNS", "UTS"];
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|Row { c, .. }| {
            let mut r = vec![id(c), c.name.clone(), c.pid.filter(|_| c.is_running()).unwrap_or(0).to_string()];
            r.extend(view::namespaces(c, true).into_iter().map(|(_, _, v)| v));
            r
        })
        .collect();
    Ok(output::table(if noheading { &[] } else { &headers }, &table)?)
}
