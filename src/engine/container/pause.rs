//! `pause` and `unpause`: freezing a running container's processes in its own cgroup
//! (`runtime::cgroup`'s freezer) and saying so in its record. The record changes only
//! from the state read and for the same run, under the container's pause lock, so a
//! container that ended or restarted meanwhile is not marked. Does not signal processes.

use super::{Container, ContainerError, State, lifecycle};
use crate::engine::Context;
use crate::runtime::cgroup;
use rusqlite::params;

/// Freezes the container's processes; its record says paused.
pub fn pause(ctx: &Context, id: &str) -> Result<Container, ContainerError> {
    let _lock = lock(ctx, id)?;
    let c = lifecycle::reload(ctx, id)?;
    match c.state {
        State::Running => {}
        State::Paused => return Err(improper(format!("\"{}\" is already paused", c.name))),
        _ => return Err(improper(format!("\"{}\" is not running, can't pause", c.name))),
    }
    freeze(&c, true)?;
    if !set_state(ctx, &c, State::Running, State::Paused)? {
        let _ = freeze(&c, false);
        return Err(improper(format!("\"{}\" ended while it was being paused", c.name)));
    }
    Ok(c)
}

/// Thaws a paused container's processes; its record says running again.
pub fn unpause(ctx: &Context, id: &str) -> Result<Container, ContainerError> {
    let _lock = lock(ctx, id)?;
    let c = lifecycle::reload(ctx, id)?;
    if c.state != State::Paused {
        return Err(improper(format!("\"{}\" is not paused, can't unpause", c.name)));
    }
    resume(ctx, &c)?;
    Ok(c)
}

/// Thaws `c` (read as paused) and records it running: for `unpause`, and for `stop`,
/// `kill` and `rm -f` after they signalled it, so that the signal is acted on.
pub fn resume(ctx: &Context, c: &Container) -> Result<(), ContainerError> {
    freeze(c, false)?;
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

/// Serialises pause and unpause of one container (two `pause`s must not undo each other).
fn lock(ctx: &Context, id: &str) -> Result<crate::state::lock::FileLock, ContainerError> {
    let full = lifecycle::reload(ctx, id)?.id;
    let path = ctx.paths.locks().join(format!("pause-{full}.lock"));
    crate::state::paths::make_private_dir(&ctx.paths.locks()).map_err(crate::engine::ContextError::from)?;
    crate::state::lock::FileLock::exclusive(&path).map_err(|e| ContainerError::io("cannot lock", &path, e))
}

fn improper(what: String) -> ContainerError {
    ContainerError::Invalid(format!("{what}: container state improper"))
}
