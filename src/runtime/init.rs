//! `kiste __container-init BUNDLE PIDFD CONSOLEFD|- GATEFD|-`: the intermediate process (already
//! in the user namespace) unshares the container's namespaces, forks PID 1, reports its PID and
//! exits; PID 1 builds the root filesystem, waits at the gate (when given) until the caller has
//! done its part (the network), and execs the command, or reports why it could not:
//! 125 (setup failed), 126 (cannot execute), 127 (not found) as Podman does.

use super::{mounts, process};
use nix::sched::CloneFlags;
use nix::unistd::{ForkResult, fork};
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use std::path::Path;
use std::process::ExitCode;

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("kiste: {msg}");
    ExitCode::from(125)
}

pub fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(2).collect();
    let (Some(bundle), Some(pid_fd)) = (args.first(), args.get(1).and_then(|s| s.to_str()?.parse::<i32>().ok())) else {
        return fail("container init: bad arguments");
    };
    // "-" when absent.
    let fd_arg = |i: usize| args.get(i).and_then(|s| s.to_str()?.parse::<i32>().ok());
    let (console, gate) = (fd_arg(2), fd_arg(3));
    match intermediate(Path::new(bundle), pid_fd, console, gate) {
        Ok(code) => code,
        Err(msg) => {
            // To whoever started the container: our stderr may be the container's log.
            super::report_error(pid_fd, 125, &msg);
            ExitCode::from(125)
        }
    }
}

/// Enters the user namespace, unshares the others, forks PID 1 and reports its PID.
fn intermediate(bundle: &Path, pid_fd: i32, console: Option<i32>, gate: Option<i32>) -> Result<ExitCode, String> {
    crate::storage::userns::enter_from_parent().map_err(|e| format!("cannot enter the user namespace: {e}"))?;
    let spec = Spec::load(bundle.join("config.json"))
        .map_err(|e| format!("cannot read {}/config.json: {e}", bundle.display()))?;
    let mut flags = CloneFlags::empty();
    let namespaces = spec.linux().as_ref().and_then(|l| l.namespaces().clone()).unwrap_or_default();
    for ns in &namespaces {
        if let Some(p) = ns.path() {
            // Running in ours instead would be silently wrong (the host's network, say).
            return Err(format!(
                "joining an existing {:?} namespace ({}) is not supported by kiste's runtime",
                ns.typ(),
                p.display()
            ));
        }
        flags |= match ns.typ() {
            LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
            LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
            LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
            LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
            LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
            LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
            _ => CloneFlags::empty(), // the user namespace exists already
        };
    }
    nix::sched::unshare(flags).map_err(|e| format!("cannot create the container's namespaces: {e}"))?;
    if gate.is_some() {
        // The caller's helpers join PID 1's namespaces through /proc/PID/ns while it sets up,
        // which needs it dumpable; the change of user ID on entering the namespace made us not
        // (with keep-id container root is not the user). Only we run in the container until
        // exec, which sets dumpable again by its own rules.
        // SAFETY: prctl with plain integer arguments.
        unsafe { libc::prctl(libc::PR_SET_DUMPABLE, 1, 0, 0, 0) };
    }
    // SAFETY: single-threaded here; the child only performs setup and exec.
    match unsafe { fork() } {
        Err(e) => Err(format!("fork: {e}")),
        Ok(ForkResult::Child) => {
            // Our copy of the report pipe closes on a successful exec; on failure it carries
            // the reason to whoever started the container.
            // SAFETY: fcntl on an inherited descriptor.
            unsafe { libc::fcntl(pid_fd, libc::F_SETFD, libc::FD_CLOEXEC) };
            for fd in console.iter().chain(gate.iter()) {
                // SAFETY: as above.
                unsafe { libc::fcntl(*fd, libc::F_SETFD, libc::FD_CLOEXEC) };
            }
            let code = match container(bundle, &spec, console, gate, pid_fd) {
                Ok(never) => match never {},
                Err(e) => {
                    super::report_error(pid_fd, e.code, &e.message);
                    e.code
                }
            };
            // SAFETY: leave the forked child without running the parent's destructors.
            unsafe { libc::_exit(code as i32) }
        }
        Ok(ForkResult::Parent { child }) => {
            super::report_pid(pid_fd, child.as_raw());
            // Nothing left to do here: PID 1 is reparented to the monitor (a child
            // subreaper), which waits for it directly. One process less per container.
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Why PID 1 could not become the command.
pub struct SetupError {
    pub code: u8,
    pub message: String,
}

impl SetupError {
    pub fn new(message: impl Into<String>) -> SetupError {
        SetupError { code: 125, message: message.into() }
    }
}

/// PID 1: root filesystem, hostname, process attributes, exec.
fn container(
    bundle: &Path,
    spec: &Spec,
    console: Option<i32>,
    gate: Option<i32>,
    report: i32,
) -> Result<std::convert::Infallible, SetupError> {
    let root = spec.root().as_ref().ok_or_else(|| SetupError::new("config.json has no root"))?;
    // Compiled first: a profile that cannot work fails before any setup.
    let seccomp = super::seccomp::compile_spec(spec).map_err(|e| SetupError::new(e.to_string()))?;
    let rootfs = if root.path().is_absolute() { root.path().clone() } else { bundle.join(root.path()) };
    mounts::setup_root(spec, &rootfs)?;
    if let Some(h) = spec.hostname() {
        nix::unistd::sethostname(h).map_err(|e| SetupError::new(format!("sethostname: {e}")))?;
    }
    mounts::pivot(&rootfs)?;
    if let Some(linux) = spec.linux() {
        mounts::mask_and_protect(linux)?;
    }
    if root.readonly().unwrap_or(false) {
        mounts::remount_root_readonly()?;
    }
    let p = spec.process().as_ref().ok_or_else(|| SetupError::new("config.json has no process"))?;
    if let Some(sock) = console.filter(|_| p.terminal().unwrap_or(false)) {
        super::setup_console(sock, p.user().uid(), p.user().gid())?;
    }
    if let Some(g) = gate {
        wait_at_gate(g)?;
    }
    let init = spec.annotations().as_ref().is_some_and(|a| a.get(super::ANN_INIT).is_some_and(|v| v == "1"));
    process::exec(p, seccomp.as_ref(), init.then_some(&[report][..]))
}

/// Blocks until whoever started us says go (one byte). EOF means the start was called off.
fn wait_at_gate(fd: i32) -> Result<(), SetupError> {
    let mut b = [0u8; 1];
    loop {
        // SAFETY: read into a local buffer from our inherited descriptor.
        let n = unsafe { libc::read(fd, b.as_mut_ptr().cast(), 1) };
        match n {
            1 => break,
            -1 if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => continue,
            _ => return Err(SetupError::new("the start was called off before the command ran")),
        }
    }
    // SAFETY: closing our own descriptor.
    unsafe { libc::close(fd) };
    Ok(())
}
