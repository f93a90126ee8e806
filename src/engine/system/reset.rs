//! `system reset`: kills every container and waits for its monitor, ends the shared user
//! namespace's holder, then removes the user's whole store (images, layers, blobs,
//! containers, volumes, the database) and kiste's run-time directory. Under the exclusive
//! store lock, so no pull records, no container is created or started meanwhile.
//! Crash-safe: each directory vanishes by one rename to a `.kiste-reset-*` name beside it
//! before its files are deleted, so a killed reset leaves either the whole store or none; the
//! next reset removes what a killed one left.

use super::SystemError;
use crate::engine::Context;
use crate::engine::container;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const DOOMED_PREFIX: &str = ".kiste-reset-";

/// Removes everything; returns warnings about what could not be done but did not stop it.
pub fn reset(ctx: &Context) -> Result<Vec<String>, SystemError> {
    let mut warnings = Vec::new();
    let lock = ctx.store_lock_exclusive()?;
    if let Err(e) = kill_all(ctx) {
        warnings.push(format!("cannot stop every container: {e}"));
    }
    if let Some(record) = &ctx.idmap.shared_userns {
        crate::storage::shared_userns::stop(record);
    }
    let mut doomed = std::collections::BTreeSet::new();
    for dir in [&ctx.paths.data, &ctx.paths.runtime] {
        let Some(parent) = dir.parent() else { continue };
        let to = parent.join(format!("{DOOMED_PREFIX}{}", crate::util::nonce()));
        match std::fs::rename(dir, &to) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(SystemError::io("cannot remove", dir, e)),
        }
        doomed.extend(leftovers(parent));
    }
    let doomed: Vec<PathBuf> = doomed.into_iter().collect();
    // Layers hold files of subordinate IDs: delete inside the user namespace.
    crate::storage::layers::remove_paths(&ctx.idmap, &doomed).map_err(SystemError::Storage)?;
    drop(lock);
    Ok(warnings)
}

/// What this and killed resets moved aside in `parent`.
fn leftovers(parent: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(parent) else { return vec![] };
    rd.flatten().filter(|e| e.file_name().to_string_lossy().starts_with(DOOMED_PREFIX)).map(|e| e.path()).collect()
}

/// SIGKILLs every running container, then waits until their monitors have recorded the
/// ends and gone (killing monitors that hang), so that nothing writes into the store later.
fn kill_all(ctx: &Context) -> Result<(), SystemError> {
    let conn = ctx.db()?;
    let mut pids = Vec::new();
    let mut monitors = Vec::new();
    for c in container::list_reconciled(ctx, &conn)? {
        // Between runs of a restart policy only the monitor lives: it goes (under the store
        // lock it cannot start the container again meanwhile).
        if c.state == container::State::Restarting
            && let Some(m) = c.monitor_pid
        {
            // SAFETY: kill of the live monitor the record names.
            unsafe { libc::kill(m as i32, libc::SIGKILL) };
            monitors.push(m);
        }
        let Some(pid) = c.run_pid() else { continue };
        // PID 1's namespace dies with it; a paused one is thawed to die.
        let _ = container::pause::signal(ctx, &c.id, pid, libc::SIGKILL, true);
        pids.push(pid);
        monitors.extend(c.monitor_pid);
    }
    drop(conn);
    if !wait_gone(&monitors, Duration::from_secs(10)) {
        for &m in monitors.iter().filter(|m| container::alive(**m)) {
            // SAFETY: kill of a container monitor that did not finish after its container died.
            unsafe { libc::kill(m as i32, libc::SIGKILL) };
        }
        wait_gone(&monitors, Duration::from_secs(2));
    }
    wait_gone(&pids, Duration::from_secs(2));
    Ok(())
}

/// Waits until none of `pids` runs; false when `limit` passed first.
fn wait_gone(pids: &[i64], limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while pids.iter().any(|p| container::alive(*p)) {
        if Instant::now() >= until {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}
