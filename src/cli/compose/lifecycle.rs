//! `compose start`, `stop`, `restart`, `kill`, `rm`, `wait`, `pause` and `unpause`. Flags ->
//! engine::compose::verbs -> events on stderr.

use super::report::Terminal;
use super::{ProjectFlags, fail, load_project, project_or_name};
use crate::cli::Exit;
use crate::engine::Context;
use crate::engine::compose::down::{self, DownOptions};
use crate::engine::compose::verbs;
use crate::engine::container::lifecycle;
use clap::Args;

#[derive(Args, Debug)]
pub struct ServicesArgs {
    /// Services (default: all)
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Seconds to wait for the containers to stop before killing them
    #[arg(short, long)]
    timeout: Option<u64>,
    /// Services (default: all)
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Signal to send
    #[arg(short, long, default_value = "SIGKILL")]
    signal: String,
    /// Accepted for compatibility
    #[arg(long, hide = true)]
    remove_orphans: bool,
    /// Services (default: all)
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    force: bool,
    /// Stop the containers first, if needed
    #[arg(short, long)]
    stop: bool,
    /// Remove the containers' anonymous volumes too
    #[arg(short, long)]
    volumes: bool,
    /// Services (default: all)
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct WaitArgs {
    /// Take the project down when the first container stops
    #[arg(long)]
    down_project: bool,
    /// Services
    #[arg(required = true)]
    services: Vec<String>,
}

pub(super) fn start(g: &ProjectFlags, a: ServicesArgs) -> anyhow::Result<()> {
    let p = load_project(g)?;
    let ctx = Context::new()?;
    verbs::start(&ctx, &p, &a.services, &Terminal::new(false)).map_err(fail)
}

/// `stop`, or `restart` when `again`.
pub(super) fn stop(g: &ProjectFlags, a: StopArgs, again: bool) -> anyhow::Result<()> {
    let (p, _) = project_or_name(g)?;
    let ctx = Context::new()?;
    let rep = Terminal::new(false);
    match again {
        true => verbs::restart(&ctx, &p, &a.services, a.timeout, &rep),
        false => verbs::stop(&ctx, &p, &a.services, a.timeout, &rep),
    }
    .map_err(fail)
}

pub(super) fn kill(g: &ProjectFlags, a: KillArgs) -> anyhow::Result<()> {
    let (p, _) = project_or_name(g)?;
    let ctx = Context::new()?;
    let signal = crate::engine::container::parse_signal(&a.signal)?;
    verbs::kill(&ctx, &p, &a.services, signal, &Terminal::new(false)).map_err(fail)
}

pub(super) fn rm(g: &ProjectFlags, a: RmArgs) -> anyhow::Result<()> {
    let (p, _) = project_or_name(g)?;
    let ctx = Context::new()?;
    let rep = Terminal::new(false);
    let list = verbs::removable(&ctx, &p, &a.services, a.stop, &rep).map_err(fail)?;
    if list.is_empty() {
        eprintln!("No stopped containers");
        return Ok(());
    }
    if !a.force {
        let names: Vec<&str> = list.iter().map(|c| c.c.name.as_str()).collect();
        let q = format!("Going to remove {}\n? Are you sure? (y/N) ", names.join(", "));
        if !crate::cli::confirm(&q)? {
            return Ok(());
        }
    }
    verbs::remove(&ctx, &list, a.volumes, &rep).map_err(fail)
}

/// `pause` (`unpause` when `undo`).
pub(super) fn pause(g: &ProjectFlags, a: ServicesArgs, undo: bool) -> anyhow::Result<()> {
    let (p, _) = project_or_name(g)?;
    let ctx = Context::new()?;
    verbs::pause(&ctx, &p, &a.services, undo, &Terminal::new(false)).map_err(fail)
}

/// Prints each container's exit code as it stops (with `--down-project`, the first stop
/// takes the project down).
pub(super) fn wait(g: &ProjectFlags, a: WaitArgs) -> anyhow::Result<()> {
    let p = load_project(g)?;
    let ctx = Context::new()?;
    let list = verbs::containers(&ctx, &p, &a.services)?;
    if list.is_empty() {
        anyhow::bail!("no containers for the services {}; start them with kiste compose up", a.services.join(", "));
    }
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::scope(|scope| {
        for c in &list {
            let (tx, ctx) = (tx.clone(), &ctx);
            scope.spawn(move || {
                let _ = tx.send(lifecycle::wait(ctx, &c.c.id).map_err(anyhow::Error::from));
            });
        }
        drop(tx);
        let mut last = 0;
        for got in rx.iter() {
            let code = got?;
            println!("{code}");
            last = code;
            if a.down_project {
                let o = DownOptions::default();
                down::down(&ctx, &p, &o, &Terminal::new(false)).map_err(fail)?;
                break;
            }
        }
        match u8::try_from(last) {
            Ok(0) => Ok(()),
            Ok(c) => Err(Exit(c).into()),
            Err(_) => Err(Exit(1).into()),
        }
    })
}
