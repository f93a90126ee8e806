//! `compose up` and `compose create`: flags into `UpOptions`, the engine's `up`, then either
//! back at once (`-d`, `--wait`) or attached: every container's output with prefixes until
//! they all end, Ctrl-C stopping them (a second one killing them) as docker compose does.

use super::report::{Printer, Terminal, use_color};
use super::{ProjectFlags, fail, load_project};
use crate::cli::Exit;
use crate::engine::Context;
use crate::engine::compose::attach::{self, AttachOptions, Attached, Event};
use crate::engine::compose::converge::Recreate;
use crate::engine::compose::images::{BuildMode, ImageOptions, PullOverride};
use crate::engine::compose::project_state;
use crate::engine::compose::up::{self, UpOptions};
use crate::engine::compose::verbs;
use clap::{Args, ValueEnum};
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PullArg {
    Always,
    Missing,
    Never,
    Build,
}

/// The flags `up` and `create` share.
#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Build images before starting containers
    #[arg(long, conflicts_with = "no_build")]
    build: bool,
    /// Do not build an image, even if it is missing
    #[arg(long)]
    no_build: bool,
    /// Recreate containers even if their configuration and image have not changed
    #[arg(long, conflicts_with = "no_recreate")]
    force_recreate: bool,
    /// If containers already exist, do not recreate them
    #[arg(long)]
    no_recreate: bool,
    /// Pull images before running: always, missing, never, build
    #[arg(long, value_enum)]
    pull: Option<PullArg>,
    /// Pull without printing progress
    #[arg(long)]
    quiet_pull: bool,
    /// Remove containers of services not defined in the compose files
    #[arg(long)]
    remove_orphans: bool,
    /// Run NUM containers of SERVICE (overrides scale in the file)
    #[arg(long, value_name = "SERVICE=NUM")]
    scale: Vec<String>,
    /// Services (default: all)
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct UpArgs {
    /// Run containers in the background
    #[arg(short, long)]
    detach: bool,
    /// Do not start linked services
    #[arg(long)]
    no_deps: bool,
    /// Create the containers but do not start them
    #[arg(long)]
    no_start: bool,
    /// Wait for services to be running (and healthy); implies --detach
    #[arg(long)]
    wait: bool,
    /// Maximum seconds to wait with --wait
    #[arg(long, value_name = "SECONDS")]
    wait_timeout: Option<u64>,
    /// Stop all containers if any container stops (incompatible with --detach)
    #[arg(long, conflicts_with = "detach")]
    abort_on_container_exit: bool,
    /// Return the exit code of this service's container (implies --abort-on-container-exit)
    #[arg(long, value_name = "SERVICE", conflicts_with = "detach")]
    exit_code_from: Option<String>,
    /// Seconds to wait for containers to stop before killing them
    #[arg(short, long)]
    timeout: Option<u64>,
    /// Produce monochrome output
    #[arg(long)]
    no_color: bool,
    /// Do not prefix the lines with the container's name
    #[arg(long)]
    no_log_prefix: bool,
    /// Show timestamps
    #[arg(long)]
    timestamps: bool,
    #[command(flatten)]
    create: CreateArgs,
}

fn scale(list: &[String]) -> anyhow::Result<BTreeMap<String, u32>> {
    let mut out = BTreeMap::new();
    for s in list {
        let parsed = s.split_once('=').and_then(|(k, v)| Some((k.to_string(), v.parse::<u32>().ok()?)));
        let (k, n) = parsed.ok_or_else(|| anyhow::anyhow!("invalid --scale \"{s}\": use SERVICE=NUM, e.g. web=3"))?;
        out.insert(k, n);
    }
    Ok(out)
}

fn options(a: &CreateArgs, start: bool, timeout: Option<u64>) -> anyhow::Result<UpOptions> {
    let pull = a.pull.map(|p| match p {
        PullArg::Always => PullOverride::Always,
        PullArg::Missing => PullOverride::Missing,
        PullArg::Never => PullOverride::Never,
        PullArg::Build => PullOverride::Build,
    });
    let build = match (a.build, a.no_build) {
        (true, _) => BuildMode::Always,
        (_, true) => BuildMode::Never,
        _ => BuildMode::Missing,
    };
    let recreate = match (a.force_recreate, a.no_recreate) {
        (true, _) => Recreate::Force,
        (_, true) => Recreate::Never,
        _ => Recreate::Diverged,
    };
    Ok(UpOptions {
        services: a.services.clone(),
        no_deps: false,
        images: ImageOptions { pull, build, ..ImageOptions::default() },
        recreate,
        remove_orphans: a.remove_orphans,
        scale: scale(&a.scale)?,
        start,
        timeout,
    })
}

pub(super) fn create(g: &ProjectFlags, a: CreateArgs) -> anyhow::Result<()> {
    let p = load_project(g)?;
    let ctx = Context::new()?;
    let o = options(&a, false, None)?;
    let mut rep = Terminal::new(false);
    rep.progress &= !a.quiet_pull;
    up::up(&ctx, &p, &o, &rep).map_err(fail)?;
    Ok(())
}

pub(super) fn up(g: &ProjectFlags, a: UpArgs) -> anyhow::Result<()> {
    if let Some(s) = &a.exit_code_from
        && !a.create.services.is_empty()
        && !a.create.services.contains(s)
    {
        anyhow::bail!("--exit-code-from {s}: service {s} is not among the services started");
    }
    let p = load_project(g)?;
    let ctx = Context::new()?;
    let mut o = options(&a.create, !a.no_start, a.timeout)?;
    o.no_deps = a.no_deps;
    let mut rep = Terminal::new(false);
    rep.progress &= !a.create.quiet_pull;
    let detach = a.detach || a.wait || a.no_start;
    // Attached: Ctrl-C becomes an event from the start.
    let (tx, rx) = std::sync::mpsc::channel();
    if !detach {
        catch_interrupts(tx.clone())?;
    }
    // Where each existing container's log stands: an attached up shows what comes after.
    let before: BTreeMap<String, u64> =
        project_state::containers(&ctx, &p.name)?.iter().map(|c| (c.c.id.clone(), attach::log_end(&ctx, c))).collect();
    let list = up::up(&ctx, &p, &o, &rep).map_err(fail)?;
    if a.wait {
        up::wait_ready(&ctx, &list, a.wait_timeout.map(Duration::from_secs)).map_err(fail)?;
    }
    if detach || list.is_empty() {
        return Ok(());
    }
    let printer =
        Printer::new(&list.iter().collect::<Vec<_>>(), use_color(g.ansi, a.no_color), !a.no_log_prefix, a.timestamps);
    let attached: Vec<Attached> = list
        .into_iter()
        .map(|c| {
            let from = before.get(&c.c.id).copied().unwrap_or(0);
            Attached { container: c, from }
        })
        .collect();
    let ao = AttachOptions { abort_on_exit: a.abort_on_container_exit, exit_code_from: a.exit_code_from.clone() };
    // Stopped as `compose stop` does it: dependents first.
    let services: Vec<String> = attached.iter().map(|x| x.container.service.clone()).collect();
    let stop = || {
        if let Err(e) = verbs::stop(&ctx, &p, &services, a.timeout, &rep) {
            crate::util::print_error(e);
        }
    };
    let code = attach::run(&ctx, &attached, &ao, &printer, &stop, (tx, rx));
    if code == 0 { Ok(()) } else { Err(Exit(code).into()) }
}

/// The write end of the pipe the interrupt handler writes to (-1 before it exists).
static INTERRUPT_PIPE: std::sync::atomic::AtomicI32 = std::sync::atomic::AtomicI32::new(-1);

extern "C" fn on_interrupt(_: libc::c_int) {
    let fd = INTERRUPT_PIPE.load(std::sync::atomic::Ordering::Relaxed);
    // SAFETY: write(2) is async-signal-safe; the byte only wakes the reader.
    unsafe { libc::write(fd, b"x".as_ptr().cast(), 1) };
}

/// Sends an interrupt event for each SIGINT and SIGTERM. A handler (reset to the default in
/// every program we start), not a blocked mask: a mask would be inherited by the monitors
/// and containers started meanwhile, which would then never see their stop signal.
fn catch_interrupts(tx: std::sync::mpsc::Sender<Event>) -> anyhow::Result<()> {
    use nix::sys::signal::{SaFlags, SigAction, SigHandler, SigSet, Signal, sigaction};
    use std::io::Read;
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)?;
    INTERRUPT_PIPE.store(std::os::fd::IntoRawFd::into_raw_fd(w), std::sync::atomic::Ordering::Relaxed);
    let action = SigAction::new(SigHandler::Handler(on_interrupt), SaFlags::SA_RESTART, SigSet::empty());
    for s in [Signal::SIGINT, Signal::SIGTERM] {
        // SAFETY: the handler only calls write(2).
        unsafe { sigaction(s, &action) }?;
    }
    let mut r = std::fs::File::from(r);
    std::thread::spawn(move || {
        let mut b = [0u8; 1];
        while r.read(&mut b).is_ok_and(|n| n == 1) {
            if tx.send(Event::Interrupt).is_err() {
                break;
            }
        }
    });
    Ok(())
}
