//! The built-in OCI runtime: reads a bundle's config.json (oci_spec) and makes the process —
//! user namespace with the user's subuid range, mount/pid/uts/ipc/net namespaces, the root
//! filesystem, pivot_root, then exec. Knows nothing about images, names or the CLI.
//!
//! Stages: `spawn` (in the caller) starts `kiste __container-init BUNDLE` through the
//! user-namespace handshake; `init::main` (intermediate) unshares the other namespaces and
//! forks PID 1; `init::container` sets up the root and execs the command.

pub mod exec;
pub mod init;
mod mounts;
mod process;

use crate::storage::idmap::IdMapping;
use std::ffi::OsString;
use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::Path;
use std::process::Stdio;

/// Hidden argv[1] of the container init.
pub const INIT: &str = "__container-init";
/// Annotation naming the overlay lower dirs (top first, ':'-joined) to mount at the root.
pub const ANN_LOWER: &str = "io.kiste.overlay.lower";
/// Annotation naming the container's upper and work dirs (':'-joined).
pub const ANN_UPPER: &str = "io.kiste.overlay.upper";

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(transparent)]
    Userns(#[from] crate::storage::userns::UsernsError),
    #[error("cannot start the container: {0}")]
    Start(String),
}

/// A started container: the host PID of its PID 1 (reparented to the caller, which must be a
/// child subreaper to wait for it), and why the command could not be executed, if it could not.
pub struct Started {
    pub pid: u32,
    /// (exit code 125/126/127, message) when PID 1 failed before or at exec.
    pub failed: Option<(u8, String)>,
}

/// Starts the container described by `bundle/config.json` with the given stdio and returns
/// once its command runs (or failed to).
pub fn spawn(idmap: &IdMapping, bundle: &Path, stdio: [Stdio; 3]) -> Result<Started, RuntimeError> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| RuntimeError::Start(e.to_string()))?;
    let args = [OsString::from(INIT), bundle.as_os_str().to_owned(), OsString::from(w.as_raw_fd().to_string())];
    let [stdin, stdout, stderr] = stdio;
    let mut child = crate::storage::userns::spawn_process(idmap, &args, stdin, stdout, stderr, &[w.as_raw_fd()])?;
    drop(w);
    // Lines: PID 1's host PID from the intermediate; "err CODE MESSAGE" from PID 1 if it
    // could not exec. EOF once PID 1 has exec'd (close-on-exec) and the intermediate wrote.
    let mut s = String::new();
    let _ = std::fs::File::from(r).read_to_string(&mut s);
    let mut pid = 0;
    let mut failed = None;
    for line in s.lines() {
        if let Some(rest) = line.strip_prefix("err ") {
            let (code, msg) = rest.split_once(' ').unwrap_or((rest, ""));
            failed = Some((code.parse().unwrap_or(125), msg.to_string()));
        } else if let Ok(p) = line.trim().parse() {
            pid = p;
        }
    }
    if pid == 0 && failed.is_none() {
        let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
        return Err(RuntimeError::Start(format!("the container init exited early ({status})")));
    }
    // The intermediate exits once it has reported.
    let _ = child.wait();
    Ok(Started { pid, failed })
}

fn report_line(fd: i32, line: &str) {
    use std::io::Write;
    // SAFETY: the descriptor came from our parent for this purpose; ManuallyDrop keeps it
    // open (the caller decides when it closes).
    let mut f = std::mem::ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd) });
    let _ = f.write_all(line.as_bytes());
}

/// Intermediate: PID 1's host PID, then close our copy.
fn report_pid(fd: i32, pid: i32) {
    report_line(fd, &format!("{pid}\n"));
    // SAFETY: closing our own descriptor.
    unsafe { libc::close(fd) };
}

/// PID 1: why it could not exec.
fn report_error(fd: i32, code: u8, message: &str) {
    report_line(fd, &format!("err {code} {}\n", message.replace('\n', " ")));
}
