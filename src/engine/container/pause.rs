//! `pause` and `unpause`: freezing a running container's processes in its own cgroup
//! (`runtime::cgroup`'s freezer) and saying so in its record. The record changes only
//! from the state read and for the same run, under the container's pause lock, so a
//! container that ended or restarted meanwhile is not marked. `signal` serves `stop`, `kill`
//! and `rm -f`: the signal and the thaw of a paused run under the same lock.

use super::{Container, ContainerError, State, lifecycle};
use crate::engine::Context;
use crate::runtime::cgroup;
use rusqlite::params;

/// Freezes the container's processes; its record says paused.
pub fn pause(ctx: &Context, id: &str) -> Result<Container, ContainerError> {
    let (_lock, c) = locked(ctx, id)?;
    match c.state {
        State::Running => {}
        State::Paused => return Err(improper(format!("\"{}\" is already paused", c.name))),
        _ => return Err(improper(format!("\"{}\" is not running, can't pause", c.name))),
    }
    freeze(&c, true)?;
    match set_state(ctx, &c, State::Running, State::Paused) {
        Ok(true) => Ok(c),
        // Not recorded: not left frozen either.
        r => {
            let _ = freeze(&c, false);
            r?;
            Err(improper(format!("\"{}\" ended while it was being paused", c.name)))
        }
    }
}

/// Thaws a paused container's processes; its record says running again.
pub fn unpause(ctx: &Context, id: &str) -> Result<Container, ContainerError> {
    let (_lock, c) = locked(ctx, id)?;
    if c.state != State::Paused {
        return Err(improper(format!("\"{}\" is not paused, can't unpause", c.name)));
    }
    resume(ctx, &c)?;
    Ok(c)
}

/// Sends `signal` to PID 1 `pid` of container `id` under its pause lock, so that no `pause`
/// comes between the signal and the thaw. With `thaw`, a paused run is thawed after the
/// signal, to act on it (`stop`, `rm -f`, `kill -s KILL`); otherwise the signal stays pending
/// until `unpause`. A container gone meanwhile is fine.
pub fn signal(ctx: &Context, id: &str, pid: i64, signal: i32, thaw: bool) -> Result<(), ContainerError> {
    let (_lock, c) = match locked(ctx, id) {
        Err(ContainerError::NotFound(_)) => return Ok(()),
        r => r?,
    };
    // SAFETY: kill of the PID 1 the live monitor recorded for this run.
    if unsafe { libc::kill(pid as i32, signal) } != 0 {
        let e = std::io::Error::last_os_error();
        if e.raw_os_error() == Some(libc::ESRCH) {
            return Ok(()); // it has just ended
        }
        return Err(ContainerError::Invalid(format!("cannot signal container {}: {e}", c.name)));
    }
    if thaw && c.state == State::Paused && c.pid == Some(pid) {
        resume(ctx, &c)?;
    }
    Ok(())
}

/// Thaws `c` (read as paused, under the pause lock) and records it running. A run that
/// ended meanwhile (on v2 SIGKILL ends a frozen process, and its cgroup goes) needs nothing.
fn resume(ctx: &Context, c: &Container) -> Result<(), ContainerError> {
    if let Err(e) = freeze(c, false) {
        let now = lifecycle::reload(ctx, &c.id);
        if now.is_ok_and(|n| n.state == State::Paused && n.pid == c.pid) {
            return Err(e);
        }
        return Ok(());
    }
    set_state(ctx, c, State::Paused, State::Running)?;
    Ok(())
}

/// Freezes or thaws the container's cgroup, when it has one of its own (no cgroup, no
/// freezer).
fn freeze(c: &Container, on: bool) -> Result<(), ContainerError> {
    let path = c.kept.cgroup.as_deref().and_then(|p| cgroup::CgroupPath::parse(p).ok()).ok_or_else(|| {
        ContainerError::Invalid(format!(
            "container {} has no cgroup of its own, and pausing needs the cgroup freezer: on cgroup v1 an \
             administrator delegates the freezer hierarchy (see kiste info, cgroupControllersUnavailable), \
             on v2 run kiste in a delegated cgroup; then start the container again",
            c.name
        ))
    })?;
    let host = cgroup::detect();
    let verb = if on { "pause" } else { "unpause" };
    let m = cgroup::Manager::new(&cgroup::RealFs, &host, path);
    let m = match c.pid.and_then(|p| u32::try_from(p).ok()) {
        Some(pid1) => m.running(pid1),
        None => m,
    };
    m.freeze(on).map_err(|e| ContainerError::Invalid(format!("cannot {verb} container {}: {e}", c.name)))
}

/// Moves the record from `from` to `to` for the run `c` names; false when it is not
/// that run in that state any more.
fn set_state(ctx: &Context, c: &Container, from: State, to: State) -> Result<bool, ContainerError> {
    let conn = ctx.db()?;
    let n = conn.execute(
        "UPDATE containers SET state=?2 WHERE id=?1 AND state=?3 AND pid IS ?4",
        params![c.id, to.as_str(), from.as_str(), c.pid],
    )?;
    Ok(n == 1)
}

/// The container's pause lock (pause, unpause and signals serialised: two `pause`s must
/// not undo each other, a `stop` must not signal a run that a `pause` then freezes) and
/// its record read under it.
fn locked(ctx: &Context, id: &str) -> Result<(crate::state::lock::FileLock, Container), ContainerError> {
    let full = lifecycle::reload(ctx, id)?.id;
    let lock = super::container_lock(ctx, "pause", &full)?;
    Ok((lock, lifecycle::reload(ctx, &full)?))
}

fn improper(what: String) -> ContainerError {
    ContainerError::Invalid(format!("{what}: container state improper"))
}
