//! The user's shared user namespace (rootless, with a subordinate range): one idle process,
//! `kiste __userns-holder`, keeps a user namespace with the user's default map alive, and
//! `userns::spawn_process` joins it (setns) instead of making a namespace and mapping it with
//! newuidmap and newgidmap — two setuid execs, ~4 ms of every container start and storage
//! helper. Podman's pause process does the same. Owns the holder and its record only.
//!
//! The holder is started by `ensure`, from a command before it forks a monitor (it must not
//! be a monitor's child: monitors reap and end what they leave), in a session of its own;
//! `$XDG_RUNTIME_DIR/kiste/userns` records it (`util::record_process`: PID and start time),
//! and /proc/PID/ns/user is only joined when, opened, its process still started then, so a
//! reused PID is never joined. Whatever is amiss (no record, the holder gone), the
//! caller maps a namespace of its own, as before.

use super::idmap::IdMapping;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{ExitCode, Stdio};

/// Hidden argv[1] of the holder.
pub const HOLDER: &str = "__userns-holder";

/// The record's path in the run-time directory `runtime`.
pub fn record_path(runtime: &Path) -> PathBuf {
    runtime.join("userns")
}

/// The shared namespace, opened, when its holder is up.
pub fn open(record: &Path) -> Option<OwnedFd> {
    let pid = crate::util::recorded_process(record)?;
    let f = std::fs::File::open(format!("/proc/{pid}/ns/user")).ok()?;
    // Checked again after the open: a process that took the PID meanwhile started later.
    (crate::util::recorded_process(record)? == pid).then(|| f.into())
}

/// Starts the holder unless one is up (under a lock: one per run-time directory); best effort.
pub fn ensure(idmap: &IdMapping, locks: &Path) {
    let Some(record) = idmap.shared_userns.as_deref() else { return };
    if idmap.is_rootful() || idmap.subuid.is_none() || idmap.subgid.is_none() || open(record).is_some() {
        return;
    }
    if crate::state::paths::make_private_dir(locks).is_err() {
        return;
    }
    let Ok(_lock) = crate::state::lock::FileLock::exclusive(&locks.join("userns.lock")) else { return };
    if open(record).is_some() {
        return;
    }
    if let Err(e) = start(idmap, record) {
        tracing::debug!("no shared user namespace: {e}");
    }
}

fn start(idmap: &IdMapping, record: &Path) -> Result<(), String> {
    // Its own namespace, mapped the usual way: there is none to join yet.
    let own = IdMapping { shared_userns: None, ..idmap.clone() };
    let mut child = super::userns::spawn_process(
        &own,
        &idmap.maps(),
        &[HOLDER.into()],
        Stdio::null(),
        Stdio::null(),
        Stdio::null(),
        &[],
    )
    .map_err(|e| e.to_string())?;
    // An unrecorded holder would never be joined nor ended: it goes at once.
    crate::util::record_process(record, child.id()).map_err(|e| {
        let _ = child.kill();
        let _ = child.wait();
        format!("cannot record the holder: {e}")
    })
}

/// Ends the holder (`system reset`); containers still in its namespace keep it.
pub fn stop(record: &Path) {
    if let Some(pid) = crate::util::recorded_process(record) {
        // SAFETY: kill of the process whose start time was just checked.
        unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    }
    let _ = std::fs::remove_file(record);
}

/// `kiste __userns-holder`: enters the namespace its starter mapped, leaves the starter's
/// session, directory and every descriptor it inherited (a terminal's, a caller's pipe: it
/// must keep none of them open), gives back its start-up pages, and sleeps until it is
/// signalled.
pub fn holder_main() -> ExitCode {
    if let Err(e) = super::userns::enter_from_parent() {
        crate::util::print_error(format!("user namespace holder: {e}"));
        return ExitCode::from(125);
    }
    // SAFETY: close_range with plain integer arguments; nothing of ours is open above 2.
    unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32) };
    let _ = nix::unistd::setsid();
    let _ = std::env::set_current_dir("/");
    for sig in [libc::SIGINT, libc::SIGHUP, libc::SIGQUIT, libc::SIGPIPE] {
        // SAFETY: ignoring signals with SIG_IGN.
        unsafe { libc::signal(sig, libc::SIG_IGN) };
    }
    let clean = crate::pages::own_clean_file_mappings();
    crate::pages::release(&clean);
    loop {
        nix::unistd::pause();
    }
}
