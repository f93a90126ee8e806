//! The one container starter: a created container's process with its network (a helper for
//! PID 1, or the user-defined networks' holder, joined in the runtime's "created" hook before
//! the command runs), its record made running; then reaping PID 1 and recording the end
//! (network released, exit code, `--rm`). The monitor (run, start) and the image builder
//! (RUN steps) both start containers through here. Whoever calls `start` must be a child
//! subreaper (`become_subreaper`): PID 1 is reparented to it. Knows nothing of terminals or
//! logs: the caller passes the stdio.

use super::{Container, ContainerError, lifecycle};
use crate::engine::Context;
use std::os::fd::OwnedFd;
use std::process::Stdio;

/// How the monitor serves a container (its argv spells it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MonitorMode {
    /// Shares the caller's stdio (never a terminal container: those attach through a socket).
    Attached,
    /// In its own session; output to the log.
    Detached,
    /// Detached, a terminal container whose output waits for the caller to attach.
    Await,
}

impl MonitorMode {
    pub fn as_arg(self) -> &'static str {
        match self {
            MonitorMode::Attached => "attached",
            MonitorMode::Detached => "detached",
            MonitorMode::Await => "await",
        }
    }

    pub fn from_arg(s: &str) -> Option<MonitorMode> {
        Some(match s {
            "attached" => MonitorMode::Attached,
            "detached" => MonitorMode::Detached,
            "await" => MonitorMode::Await,
            _ => return None,
        })
    }
}

/// The hidden argv[1] of the monitor.
pub const MONITOR: &str = "__monitor";

/// The monitor's entry (`monitor::serve`: container ID, mode, ready descriptor -> exit code),
/// registered by the binary at start-up: `lifecycle` forks into it without an exec and
/// without depending on the monitor module.
pub static MONITOR_ENTRY: std::sync::OnceLock<fn(&str, MonitorMode, i32) -> u8> = std::sync::OnceLock::new();

/// A running container: its PID 1 (the caller's child now) and, with a terminal, the master.
pub struct Started {
    pub pid: u32,
    pub console: Option<OwnedFd>,
}

/// Makes the caller a child subreaper: PID 1 and every orphan of the container become its
/// children (reaped by `reap`, not by the system's slow init).
pub fn become_subreaper() {
    // SAFETY: prctl with plain integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

/// Starts the created container `c` with `stdio` and records it running. When its command
/// cannot run (125 setup, 126 cannot execute, 127 not found) the container has ended: its
/// record says so (or it is gone, with `--rm`) and `ContainerError::Exec` says why.
pub fn start(ctx: &Context, c: &Container, stdio: [Stdio; 3]) -> Result<Started, ContainerError> {
    super::refuse_in_session("start a container")?;
    // Held until the record says running: a `container mount` waits, then sees it running.
    let _root = super::cp::root_lock(ctx, c)?;
    super::rootmount::check_not_mounted(ctx, c)?;
    let run = c.make_run_dir(ctx)?;
    let rootless = !ctx.idmap.is_rootful();
    let addrs = c.addrs();
    // User-defined networks: the namespace holder, locked (it stays) until we have joined.
    let prepared = super::networks::prepare(ctx, c)?;
    // The built-in network's process comes up (ports bound) while the container is made.
    let mut pre = crate::engine::network::prestart(&c.kept.network, &c.kept.ports, &run, rootless)
        .map_err(|e| ContainerError::Invalid(e.to_string()))?;
    let connects = c.kept.network.has_helper() || prepared.is_some();
    let mut recorded = false;
    // Before the command runs (PID 1 waits at the gate): its network, then its PID in the
    // record. A starter killed before this leaves a PID 1 that gives up at the closed gate;
    // killed after, a record that names the process, so nothing runs unrecorded.
    let mut created = |pid: u32, tap| -> Result<(), String> {
        if connects {
            match &prepared {
                Some(p) => super::networks::join(ctx, c, p, pid)?,
                None => {
                    let device = crate::engine::network::Device { tap, pre: pre.take() };
                    let n = &c.kept.network;
                    crate::engine::network::attach(n, pid, device, &c.kept.ports, &run, addrs.as_ref(), rootless)
                        .map_err(|e| e.to_string())?
                }
            }
        }
        let conn = ctx.db().map_err(|e| e.to_string())?;
        super::set_running(&conn, &c.id, pid as i64, std::process::id() as i64).map_err(|e| e.to_string())?;
        recorded = true;
        Ok(())
    };
    let nest_in = prepared.as_ref().map(|p| p.holder.pid);
    let started = crate::runtime::spawn(&ctx.idmap, &c.dir(ctx), stdio, Some(&mut created), nest_in);
    drop(prepared);
    let started = started.inspect_err(|_| {
        crate::engine::network::release(&run, true);
        if recorded && let Ok(conn) = ctx.db() {
            let _ = super::restore_run(&conn, c);
        }
    })?;
    if let Some((code, message)) = started.failed {
        if started.pid != 0 {
            let _ = reap(started.pid as i32);
        }
        crate::engine::network::release(&run, true);
        super::set_exited(&*ctx.db()?, &c.id, Some(code as i64))?;
        if c.kept.rm {
            let _ = lifecycle::remove(ctx, &c.id, true);
        }
        return Err(ContainerError::Exec { code, message });
    }
    // Each run's health starts over (`starting`, no results), as Podman's.
    if let Err(e) = super::health::reset(ctx, c) {
        tracing::warn!("container {}: {e}", c.name);
    }
    Ok(Started { pid: started.pid, console: started.console })
}

/// Waits for PID 1 (reparented to the caller) and returns its exit code, reaping other
/// orphans too.
pub fn reap(pid: i32) -> u8 {
    use nix::sys::wait::waitpid;
    let pid1 = nix::unistd::Pid::from_raw(pid);
    loop {
        match waitpid(None, None) {
            Ok(st) => {
                if let Some((p, code)) = crate::util::ended(&st)
                    && p == pid1
                {
                    return code;
                }
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return 255,
        }
    }
}

/// Records the end of container `id`: its network released (ports free again once the
/// record says exited), the exit code, and `--rm` carried out (leaving the code in an exit
/// file for an `attach` or `wait` that was following it).
pub fn finish(ctx: &Context, id: &str, code: u8) -> Result<u8, ContainerError> {
    if let Some(files) = record_end(ctx, id, code)? {
        files.remove_all(ctx)?;
    }
    Ok(code)
}

/// As [`finish`], up to the point where the record is final: an `--rm` container is then
/// gone from the store (its name free) and its files are returned for the caller to remove
/// once it has told whoever waits for the exit code.
pub fn record_end(ctx: &Context, id: &str, code: u8) -> Result<Option<lifecycle::Unlinked>, ContainerError> {
    let conn = ctx.db()?;
    let mut c = super::resolve(&conn, id)?;
    // Without published ports nothing needs its end awaited: not waiting for pasta to
    // tear down (tens of ms) keeps `run --rm` fast.
    crate::engine::network::release(&c.run_dir(ctx), !c.kept.ports.is_empty());
    // The cgroup goes with the run; an OOM kill in it is kept for inspect.
    if c.kept.cgroup.is_some() || c.kept.oom_killed {
        let oom = super::end_cgroup(&c);
        if oom != c.kept.oom_killed && !c.kept.rm {
            c.kept.oom_killed = oom;
            super::set_kept(&conn, id, &c.kept)?;
        }
    }
    if c.kept.rm {
        // One write: the record goes (no "exited" first); the code stays in its exit file.
        super::exits::record(ctx, &c.id, code);
        drop(conn);
        return lifecycle::unlink(ctx, &c).map(Some);
    }
    super::set_exited(&conn, id, Some(code as i64))?;
    Ok(None)
}

/// Runs the created container `c` to its end with `stdio` in this process (made a subreaper)
/// and returns its exit code: the image builder's RUN steps.
#[allow(dead_code)] // the image builder comes next
pub fn run_to_end(ctx: &Context, c: &Container, stdio: [Stdio; 3]) -> Result<u8, ContainerError> {
    become_subreaper();
    let started = start(ctx, c, stdio)?;
    let code = reap(started.pid as i32);
    finish(ctx, &c.id, code)
}
