//! `start`, `rm`, `container prune`, and the small argument sets of `stop`, `kill`, `wait`,
//! `restart`.

use super::Exit;
use crate::engine::Context;
use crate::engine::container::{self as ctr, lifecycle};
use clap::Args;

#[derive(Args, Debug)]
pub struct NamesArgs {
    /// Containers (names or IDs)
    #[arg(required = true)]
    pub(super) containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Seconds to wait before killing the container
    #[arg(short, long)]
    pub(super) time: Option<u64>,
    #[arg(required = true)]
    pub(super) containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Signal to send
    #[arg(short, long, default_value = "KILL")]
    pub(super) signal: String,
    #[arg(required = true)]
    pub(super) containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Stop running containers first
    #[arg(short, long)]
    force: bool,
    /// Remove all containers
    #[arg(short, long)]
    all: bool,
    /// Remove the containers' anonymous volumes too
    #[arg(short, long)]
    volumes: bool,
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Attach to the container's output and return its exit code
    #[arg(short, long)]
    attach: bool,
    /// Start every container that is not running (with --filter: those that match)
    #[arg(long)]
    all: bool,
    /// With --all: only containers that match (ps's filters, e.g. restart-policy=always)
    #[arg(short, long)]
    filter: Vec<String>,
    /// Accepted for Podman's sake: stdin is attached when the container was created with -i
    #[arg(short, long)]
    interactive: bool,
    /// Key sequence that detaches from a terminal (default ctrl-p,ctrl-q)
    #[arg(long)]
    detach_keys: Option<String>,
    #[arg(required_unless_present = "all")]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    force: bool,
    /// Only some containers: until=TIME (10m, Unix seconds, 2006-01-02), label=KEY[=VALUE], label!=KEY[=VALUE]
    #[arg(long)]
    filter: Vec<String>,
}

pub(super) fn start(a: StartArgs) -> anyhow::Result<()> {
    if a.all && !a.containers.is_empty() {
        anyhow::bail!("--all and container names cannot be used together; give one of them");
    }
    if !a.filter.is_empty() && !a.all {
        anyhow::bail!("--filter selects among all containers; add --all");
    }
    if a.attach && (a.containers.len() > 1 || a.all) {
        anyhow::bail!("you cannot start and attach to more than one container at once; start them one by one");
    }
    let keys = super::exec::detach_keys(a.detach_keys.as_deref())?;
    let ctx = Context::new()?;
    let conn = ctx.db()?;
    let names = match a.all {
        true => all_to_start(&ctx, &conn, &a.filter)?,
        false => a.containers.clone(),
    };
    for n in &names {
        let c = ctr::resolve(&conn, n)?;
        let code = lifecycle::start(&ctx, &c, a.attach, &keys).map_err(super::run::exec_exit)?;
        if a.attach {
            return if code == 0 { Ok(()) } else { Err(Exit(code).into()) };
        }
        println!("{n}");
    }
    Ok(())
}

/// `start --all [--filter ...]`: the IDs of the containers that are not running and match
/// (what should run again after a reboot: `--filter restart-policy=always`).
fn all_to_start(ctx: &Context, conn: &rusqlite::Connection, filter: &[String]) -> anyhow::Result<Vec<String>> {
    let list = ctr::list_reconciled(ctx, conn)?;
    let filters = ctr::filter::PsFilters::parse(filter, &list)?;
    Ok(list
        .into_iter()
        .filter(|c| !c.is_running() && c.kept.builder.is_none() && filters.matches(c, None))
        .map(|c| c.id)
        .rev()
        .collect())
}

pub(super) fn rm(a: RmArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let names: Vec<String> = if a.all {
        // Not the containers of running builds (as podman's rm -a): the builds remove them.
        let all = ctr::list_reconciled(&ctx, &ctx.db()?)?;
        all.into_iter().filter(|c| c.kept.builder.is_none_or(|pid| !ctr::alive(pid as i64))).map(|c| c.id).collect()
    } else {
        if a.containers.is_empty() {
            anyhow::bail!("give at least one container name or ID, or --all");
        }
        a.containers.clone()
    };
    let mut failed = None;
    for n in &names {
        match lifecycle::remove_with(&ctx, n, a.force, a.volumes) {
            Ok(c) => println!("{}", if a.all { c.id } else { n.clone() }),
            Err(e) => {
                crate::util::print_error(&e);
                failed = Some(e);
            }
        }
    }
    match failed {
        Some(_) => Err(Exit(125).into()),
        None => Ok(()),
    }
}

pub(super) fn prune(a: PruneArgs) -> anyhow::Result<()> {
    use crate::engine::container::prune::{self, PruneFilter};
    let now = crate::state::db::now();
    let filters = a.filter.iter().map(|f| PruneFilter::parse(f, now)).collect::<Result<Vec<_>, _>>()?;
    if !a.force
        && !crate::cli::confirm(
            "WARNING! This will remove all non running containers.\nAre you sure you want to continue? [y/N] ",
        )?
    {
        return Ok(());
    }
    let ctx = Context::new()?;
    let report = prune::prune(&ctx, &filters, false)?;
    crate::cli::print_pruned(None, report.removed.iter().map(|c| c.id.as_str()), &report.errors);
    if report.errors.is_empty() { Ok(()) } else { Err(Exit(125).into()) }
}
