//! `ps` (`container list`): the table, `-q`, `--format json|TEMPLATE`, filters.

use crate::cli::output;
use crate::engine::Context;
use crate::engine::container::{self as ctr, filter::PsFilters, view};
use clap::Args;

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
    /// Filter: id=, name=, label=, label!=, status=, ancestor=, exited=, before=, since=, network=,
    /// health=, restart-policy=
    #[arg(short, long)]
    filter: Vec<String>,
    /// Output format: json, or a Go template
    #[arg(long)]
    format: Option<String>,
    /// Also show containers of running builds
    #[arg(long)]
    external: bool,
}

pub(super) fn ps(a: PsArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let conn = ctx.db()?;
    let list = ctr::list_reconciled(&ctx, &conn)?;
    let limit = if a.latest { Some(1) } else { a.last };
    let all = a.all || limit.is_some();
    let filters = PsFilters::parse(&a.filter, &list)?;
    // Each shown container with its health (read once: the STATUS text and health= need it).
    let mut shown: Vec<(ctr::Container, Option<ctr::health::Status>)> = list
        .into_iter()
        .filter(|c| (all || c.is_running()) && (a.external || c.kept.builder.is_none()))
        .map(|c| {
            let h = view::shown_health(&ctx, &c);
            (c, h)
        })
        .filter(|(c, h)| filters.matches(c, *h))
        .collect();
    if let Some(n) = limit {
        shown.truncate(n);
    }
    if output::is_json(a.format.as_deref()) {
        return Ok(output::json(&serde_json::Value::Array(shown.iter().map(|(c, h)| view::ps_json(c, *h)).collect()))?);
    }
    let id = |c: &ctr::Container| if a.no_trunc { c.id.clone() } else { c.id[..12].to_string() };
    if let Some(t) = &a.format {
        return output::templated(
            t,
            &output::PS,
            &shown.iter().map(|(c, h)| view::ps_template(c, id(c), *h)).collect::<Vec<_>>(),
        );
    }
    if a.quiet {
        for (c, _) in &shown {
            println!("{}", id(c));
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|(c, h)| {
            let mut cmd = c.command.join(" ");
            if !a.no_trunc && cmd.chars().count() > 20 {
                cmd = cmd.chars().take(17).collect::<String>() + "...";
            }
            let created =
                chrono::DateTime::from_timestamp(c.created, 0).map(crate::util::human_age).unwrap_or_default();
            let ports = c.kept.ports.iter().map(|m| m.display()).collect::<Vec<_>>().join(", ");
            vec![id(c), c.image_name.clone(), cmd, created, view::status(c, *h), ports, c.name.clone()]
        })
        .collect();
    Ok(output::table(&["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"], &rows)?)
}
