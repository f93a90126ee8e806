//! Starting a container's monitor process: forked from this one and entering
//! `run::MONITOR_ENTRY` (no exec of kiste, no second start-up: the usual case), or
//! re-executed as `kiste __monitor ID MODE FD` when this process has other threads (a fork
//! copies only the calling one), has a database connection open (SQLite's lock state must
//! not cross a fork), or no entry is registered. Owns the process, its stdio and
//! its session; what a monitor does belongs to the monitor.

use super::ContainerError;
use super::lifecycle::Streams;
use super::run::{MONITOR, MONITOR_ENTRY, MonitorMode};
use std::os::fd::{AsRawFd, OwnedFd};
use std::process::{Command, Stdio};

/// The monitor, a child of this process.
pub enum MonitorProc {
    Forked(nix::unistd::Pid),
    Spawned(std::process::Child),
}

impl MonitorProc {
    /// Waits for the monitor; its exit code (125 when it died of a signal).
    pub fn wait(self) -> Result<u8, ContainerError> {
        let err = |e: String| ContainerError::Invalid(format!("waiting for the monitor: {e}"));
        match self {
            MonitorProc::Spawned(mut c) => Ok(c.wait().map_err(|e| err(e.to_string()))?.code().unwrap_or(125) as u8),
            MonitorProc::Forked(pid) => loop {
                match nix::sys::wait::waitpid(pid, None) {
                    Ok(nix::sys::wait::WaitStatus::Exited(_, code)) => return Ok(code as u8),
                    Ok(nix::sys::wait::WaitStatus::Signaled(..)) => return Ok(125),
                    Ok(_) => continue,
                    Err(nix::errno::Errno::EINTR) => continue,
                    Err(e) => return Err(err(e.to_string())),
                }
            },
        }
    }
}

/// Starts the monitor of container `id` in `mode`; it answers on `ready` (see the monitor's
/// `Ready`). Attached, it gets the caller's stdio as `streams` says; else /dev/null and a
/// session of its own.
pub fn start(id: &str, mode: MonitorMode, ready: OwnedFd, streams: Streams) -> Result<MonitorProc, ContainerError> {
    let attached = mode == MonitorMode::Attached;
    let streams = if attached { streams } else { Streams { stdin: false, stdout: false, stderr: false } };
    match MONITOR_ENTRY.get() {
        Some(entry) if single_threaded() && crate::state::dbpool::close_all() => fork(*entry, id, mode, ready, streams),
        _ => spawn(id, mode, ready, streams),
    }
}

/// Whether this process has one thread: only then may its child go on without an exec.
fn single_threaded() -> bool {
    std::fs::read_dir("/proc/self/task").map(|d| d.count() == 1).unwrap_or(false)
}

fn fork(
    entry: fn(&str, MonitorMode, i32) -> u8,
    id: &str,
    mode: MonitorMode,
    ready: OwnedFd,
    streams: Streams,
) -> Result<MonitorProc, ContainerError> {
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .map_err(|e| ContainerError::Invalid(format!("cannot open /dev/null: {e}")))?;
    let out = crate::util::container_stdout_fd();
    let n = null.as_raw_fd();
    let stdio =
        [if streams.stdin { 0 } else { n }, if streams.stdout { out } else { n }, if streams.stderr { 2 } else { n }];
    // SAFETY: this process has a single thread (checked), so the child may run Rust code.
    match unsafe { nix::unistd::fork() } {
        Err(e) => Err(ContainerError::Invalid(format!("cannot start the monitor: {e}"))),
        Ok(nix::unistd::ForkResult::Parent { child }) => Ok(MonitorProc::Forked(child)),
        Ok(nix::unistd::ForkResult::Child) => {
            for (to, from) in stdio.into_iter().enumerate() {
                if from != to as i32 {
                    // SAFETY: dup2 between descriptors this process holds.
                    unsafe { libc::dup2(from, to as i32) };
                }
            }
            if mode != MonitorMode::Attached {
                // SAFETY: plain system call.
                unsafe { libc::setsid() };
            }
            // Nothing the caller holds (its store lock, its files) stays with the monitor.
            let keep = ready.as_raw_fd();
            close_from_3_but(keep);
            std::mem::forget(ready);
            std::mem::forget(null);
            let code = entry(id, mode, keep);
            // No destructors or buffered output of the caller's: they are the caller's.
            // SAFETY: ends this process.
            unsafe { libc::_exit(i32::from(code)) }
        }
    }
}

/// Closes every descriptor from 3 up except `keep`.
fn close_from_3_but(keep: i32) {
    let close_range = |lo: u32, hi: u32| {
        // SAFETY: close_range with plain integer arguments.
        unsafe { libc::syscall(libc::SYS_close_range, lo, hi, 0u32) == 0 }
    };
    let k = keep as u32;
    let ok = (k <= 3 || close_range(3, k - 1)) && close_range(k + 1, u32::MAX);
    if ok {
        return;
    }
    // Kernels before 5.11: one by one.
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default();
    for fd in fds.into_iter().filter(|fd| *fd > 2 && *fd != keep) {
        // SAFETY: closing a descriptor number of our own.
        unsafe { libc::close(fd) };
    }
}

fn spawn(id: &str, mode: MonitorMode, ready: OwnedFd, streams: Streams) -> Result<MonitorProc, ContainerError> {
    let wfd = ready.as_raw_fd();
    let mut cmd = Command::new("/proc/self/exe");
    cmd.args([MONITOR, id, mode.as_arg(), &wfd.to_string()]);
    let pick = |on: bool, ours: fn() -> Stdio| if on { ours() } else { Stdio::null() };
    cmd.stdin(pick(streams.stdin, Stdio::inherit))
        .stdout(pick(streams.stdout, crate::util::container_stdout))
        .stderr(pick(streams.stderr, Stdio::inherit));
    let attached = mode == MonitorMode::Attached;
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            if libc::fcntl(wfd, libc::F_SETFD, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            if !attached && libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let child = cmd.spawn().map_err(|e| ContainerError::Invalid(format!("cannot start the monitor: {e}")))?;
    drop(ready);
    Ok(MonitorProc::Spawned(child))
}
