//! `start`, `rm`, `container prune`, and the small argument sets of `stop`, `kill`, `wait`,
//! `restart`.

use super::Exit;
use super::select::{self, Select};
use crate::cli::exit::{Coded, Verb, coded};
use crate::engine::Context;
use crate::engine::container::{self as ctr, ContainerError, lifecycle};
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
    #[arg(short, long, visible_alias = "timeout")]
    pub(super) time: Option<u64>,
    #[command(flatten)]
    pub(super) select: Select,
    pub(super) containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RestartArgs {
    /// Seconds to wait before killing the container
    #[arg(short, long, visible_alias = "timeout")]
    pub(super) time: Option<u64>,
    /// Only running containers (with --all)
    #[arg(long)]
    pub(super) running: bool,
    #[command(flatten)]
    pub(super) select: Select,
    pub(super) containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Signal to send
    #[arg(short, long, default_value = "KILL")]
    pub(super) signal: String,
    #[command(flatten)]
    pub(super) select: Select,
    pub(super) containers: Vec<String>,
}

/// `pause` and `unpause`: Podman's --all, --cidfile, --filter, --latest.
#[derive(Args, Debug)]
#[command(mut_arg("ignore", |a| a.hide(true)))]
pub struct PauseArgs {
    #[command(flatten)]
    pub(super) select: Select,
    pub(super) containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Stop running containers first (and ignore containers that do not exist)
    #[arg(short, long)]
    force: bool,
    /// Seconds to wait for a running container to stop before killing it (with --force)
    #[arg(short, long, visible_alias = "timeout")]
    time: Option<u64>,
    /// Remove the containers that depend on these first
    #[arg(long)]
    depend: bool,
    /// Remove the containers' anonymous volumes too
    #[arg(short, long)]
    volumes: bool,
    #[command(flatten)]
    select: Select,
    containers: Vec<String>,
}

/// Podman's `start` has `-a` for --attach and `-i` for --interactive: its --all and
/// --ignore have no short names.
#[derive(Args, Debug)]
#[command(mut_arg("all", |a| a.short(None)), mut_arg("ignore", |a| a.short(None)))]
pub struct StartArgs {
    /// Attach to the container's output and return its exit code
    #[arg(short, long)]
    attach: bool,
    /// Accepted for Podman's sake: stdin is attached when the container was created with -i
    #[arg(short, long)]
    interactive: bool,
    /// Key sequence that detaches from a terminal (default ctrl-p,ctrl-q)
    #[arg(long)]
    detach_keys: Option<String>,
    #[command(flatten)]
    select: Select,
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
    let keys = super::exec::detach_keys(a.detach_keys.as_deref())?;
    let ctx = Context::new()?;
    // As Podman's start --all: the containers not running (and not a running build's).
    let idle = |c: &ctr::Container| !c.is_running() && c.kept.builder.is_none();
    let targets = select::targets(&ctx, &a.containers, &a.select, idle)?;
    if a.attach && targets.len() > 1 {
        anyhow::bail!("you cannot start and attach to more than one container at once; start them one by one");
    }
    for t in targets {
        let code = lifecycle::start(&ctx, &t.container, a.attach, &keys).map_err(super::run::exec_exit)?;
        if a.attach {
            return if code == 0 { Ok(()) } else { Err(Exit(code).into()) };
        }
        println!("{}", t.shown);
    }
    Ok(())
}

pub(super) fn rm(mut a: RmArgs) -> anyhow::Result<()> {
    if a.time.is_some() && !a.force {
        anyhow::bail!("--force option must be specified to use the --time option");
    }
    // As Podman: --force ignores containers that do not exist, --all removes dependents.
    a.select.ignore |= a.force;
    let depend = a.depend || a.select.all;
    let ctx = Context::new()?;
    // Not the containers of running builds (as podman's rm -a): the builds remove them.
    let not_building = |c: &ctr::Container| c.kept.builder.is_none_or(|pid| !ctr::alive(pid as i64));
    let targets = select::targets(&ctx, &a.containers, &a.select, not_building).map_err(|e| coded(Verb::Rm, e))?;
    let mut errors = Vec::new();
    let mut done = Vec::new();
    for t in targets {
        match remove_one(&ctx, &t.container, &a, depend, &mut done) {
            Ok(true) => println!("{}", t.shown),
            Ok(false) => {}
            Err(e) => errors.push(anyhow::Error::from(e)),
        }
    }
    // The code Podman keeps: 1 once a container was missing, else 2 for a running one.
    let codes: Vec<u8> = errors.iter().map(|e| crate::cli::exit::code(Verb::Rm, e)).collect();
    let code = if codes.contains(&1) { 1 } else { codes.last().copied().unwrap_or(125) };
    select::finish(errors).map_err(|error| Coded { code, error }.into())
}

/// Removes `c` (its dependents first with `depend`); false when it was removed already in
/// this command (as another's dependent).
fn remove_one(
    ctx: &Context,
    c: &ctr::Container,
    a: &RmArgs,
    depend: bool,
    done: &mut Vec<String>,
) -> Result<bool, ContainerError> {
    if done.contains(&c.id) {
        return Ok(false);
    }
    let deps = ctr::dependents(&*ctx.db()?, c)?;
    if !deps.is_empty() && !depend {
        let names: Vec<&str> = deps.iter().map(|d| d.name.as_str()).collect();
        return Err(ContainerError::Invalid(format!(
            "container {} has dependent containers which must be removed before it: {}: container already exists",
            c.id,
            names.join(", ")
        )));
    }
    for d in &deps {
        if remove_one(ctx, d, a, depend, done)? {
            println!("{}", d.id);
        }
    }
    match lifecycle::remove_with(ctx, &c.id, a.force, a.volumes, a.time) {
        Ok(_) | Err(ContainerError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    done.push(c.id.clone());
    Ok(true)
}

pub(super) fn stop(a: StopArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let targets = select::targets(&ctx, &a.containers, &a.select, ctr::Container::is_running)?;
    let mut errors = Vec::new();
    for t in targets {
        match lifecycle::stop(&ctx, &t.container.id, a.time) {
            Ok(()) => println!("{}", t.shown),
            Err(e) => errors.push(e.into()),
        }
    }
    select::finish(errors)
}

pub(super) fn kill(a: KillArgs) -> anyhow::Result<()> {
    let sig = ctr::parse_signal(&a.signal)?;
    let ctx = Context::new()?;
    let targets = select::targets(&ctx, &a.containers, &a.select, ctr::Container::is_running)?;
    let mut errors = Vec::new();
    for t in targets {
        match lifecycle::kill(&ctx, &t.container.id, sig) {
            Ok(()) => println!("{}", t.shown),
            Err(e) => errors.push(e.into()),
        }
    }
    select::finish(errors)
}

/// `pause` (`unpause` when `undo`): --all means the running (the paused) containers.
pub(super) fn pause(a: PauseArgs, undo: bool) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let wanted = if undo { ctr::State::Paused } else { ctr::State::Running };
    let targets = select::targets(&ctx, &a.containers, &a.select, |c| c.state == wanted)?;
    let mut errors = Vec::new();
    for t in targets {
        let r = match undo {
            true => ctr::pause::unpause(&ctx, &t.container.id),
            false => ctr::pause::pause(&ctx, &t.container.id),
        };
        match r {
            Ok(_) => println!("{}", t.shown),
            Err(e) => errors.push(e.into()),
        }
    }
    select::finish(errors)
}

pub(super) fn restart(a: RestartArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let running = a.running;
    let targets = select::targets(&ctx, &a.containers, &a.select, |c| !running || c.is_running())?;
    let mut errors = Vec::new();
    for t in targets {
        match lifecycle::restart(&ctx, &t.container.id, a.time) {
            Ok(()) => println!("{}", t.shown),
            Err(e) => errors.push(e.into()),
        }
    }
    select::finish(errors)
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
