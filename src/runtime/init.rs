//! `kiste __container-init BUNDLE PIDFD CONSOLEFD|- GATEFD|- CGROUPFDS|-`: the intermediate
//! process joins the container's cgroups (CGROUPFDS: the join files the caller opened, `cgroup::join_file`,
//! comma-separated) and takes its OOM score, enters the user namespace, unshares the
//! container's namespaces, forks PID 1, reports its PID and exits; PID 1 builds the root filesystem, waits at the gate (when given) until the caller has
//! done its part (the network), and execs the command, or reports why it could not:
//! 125 (setup failed), 126 (cannot execute), 127 (not found) as Podman does.

use super::{mounts, process};
use nix::sched::CloneFlags;
use nix::unistd::{ForkResult, fork};
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use std::path::Path;
use std::process::ExitCode;

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    crate::util::print_error(msg);
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
    let cgroup: Vec<i32> = args
        .get(4)
        .and_then(|s| s.to_str())
        .map(|s| s.split(',').filter_map(|f| f.parse().ok()).collect())
        .unwrap_or_default();
    match intermediate(Path::new(bundle), pid_fd, console, gate, &cgroup) {
        Ok(code) => code,
        Err(msg) => {
            // To whoever started the container: our stderr may be the container's log.
            super::report_error(pid_fd, 125, &msg);
            ExitCode::from(125)
        }
    }
}

/// Enters the user namespace, unshares the others, forks PID 1 and reports its PID.
fn intermediate(
    bundle: &Path,
    pid_fd: i32,
    console: Option<i32>,
    gate: Option<i32>,
    cgroup: &[i32],
) -> Result<ExitCode, String> {
    let spec = Spec::load(bundle.join("config.json"))
        .map_err(|e| format!("cannot read {}/config.json: {e}", bundle.display()))?;
    // Still the user here (a keep-id namespace would make us someone else): every process
    // of the container starts in its cgroups, with its OOM score.
    super::cgroup::join_fds(cgroup)?;
    if let Some(adj) = spec.process().as_ref().and_then(|p| p.oom_score_adj()) {
        std::fs::write("/proc/self/oom_score_adj", adj.to_string())
            .map_err(|e| format!("cannot set the OOM score adjustment to {adj}: {e}"))?;
    }
    match std::env::var(NEST_ENV) {
        Ok(nest) => {
            // SAFETY: removing our own variable while single-threaded at startup.
            unsafe { std::env::remove_var(NEST_ENV) };
            if let Some(code) = nest_user_namespace(&nest)? {
                return Ok(code);
            }
        }
        Err(_) => {
            crate::storage::userns::enter_from_parent().map_err(|e| format!("cannot enter the user namespace: {e}"))?;
        }
    }
    let namespaces = spec.linux().as_ref().and_then(|l| l.namespaces().clone()).unwrap_or_default();
    // Namespaces named by path are joined, the user namespace first: it grants the right to
    // join the others (they belong to it).
    let mut ordered: Vec<_> = namespaces.iter().collect();
    ordered.sort_by_key(|ns| ns.typ() != LinuxNamespaceType::User);
    let mut flags = CloneFlags::empty();
    for ns in ordered {
        let flag = match ns.typ() {
            LinuxNamespaceType::Mount => CloneFlags::CLONE_NEWNS,
            LinuxNamespaceType::Pid => CloneFlags::CLONE_NEWPID,
            LinuxNamespaceType::Uts => CloneFlags::CLONE_NEWUTS,
            LinuxNamespaceType::Ipc => CloneFlags::CLONE_NEWIPC,
            LinuxNamespaceType::Network => CloneFlags::CLONE_NEWNET,
            LinuxNamespaceType::Cgroup => CloneFlags::CLONE_NEWCGROUP,
            LinuxNamespaceType::User => CloneFlags::CLONE_NEWUSER,
            _ => CloneFlags::empty(),
        };
        match ns.path() {
            Some(p) => {
                let f = std::fs::File::open(p).map_err(|e| format!("cannot open namespace {}: {e}", p.display()))?;
                nix::sched::setns(&f, flag).map_err(|e| format!("cannot join namespace {}: {e}", p.display()))?;
                if flag == CloneFlags::CLONE_NEWUSER {
                    crate::storage::userns::become_root()?;
                }
            }
            // The user namespace exists already (made by our parent or just above).
            None if flag != CloneFlags::CLONE_NEWUSER => flags |= flag,
            None => {}
        }
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

/// Set (`PID;UIDMAP;GIDMAP`) when the container's user namespace is to be made inside PID's.
pub const NEST_ENV: &str = "_KISTE_NEST_USERNS";

/// Joins PID's user namespace and forks a child that unshares a new one inside it, whose maps
/// we (root of the parent namespace) write. The child returns None and goes on as the
/// intermediate; we return the child's exit code once it is done.
fn nest_user_namespace(nest: &str) -> Result<Option<ExitCode>, String> {
    let mut parts = nest.split(';');
    let (Some(pid), Some(uids), Some(gids)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(format!("bad {NEST_ENV} value"));
    };
    let parent = std::fs::File::open(format!("/proc/{pid}/ns/user"))
        .map_err(|e| format!("the network namespace holder (PID {pid}) is gone: {e}"))?;
    nix::sched::setns(&parent, CloneFlags::CLONE_NEWUSER)
        .map_err(|e| format!("cannot join the network namespace holder's user namespace: {e}"))?;
    crate::storage::userns::become_root()?;
    let (ready_r, ready_w) = nix::unistd::pipe().map_err(|e| format!("pipe: {e}"))?;
    let (go_r, go_w) = nix::unistd::pipe().map_err(|e| format!("pipe: {e}"))?;
    // SAFETY: single-threaded here; both sides only make system calls before going on.
    match unsafe { fork() } {
        Err(e) => Err(format!("fork: {e}")),
        Ok(ForkResult::Child) => {
            drop(ready_r);
            drop(go_w);
            nix::sched::unshare(CloneFlags::CLONE_NEWUSER).map_err(|e| format!("unshare(CLONE_NEWUSER): {e}"))?;
            nix::unistd::write(&ready_w, b"1").map_err(|e| format!("handshake: {e}"))?;
            let mut b = [0u8; 1];
            if !matches!(nix::unistd::read(&go_r, &mut b), Ok(1)) {
                return Err("the user namespace maps were not written".into());
            }
            crate::storage::userns::become_root()?;
            Ok(None)
        }
        Ok(ForkResult::Parent { child }) => {
            drop(ready_w);
            drop(go_r);
            let mut b = [0u8; 1];
            let mut write_maps = || -> Result<(), String> {
                if !matches!(nix::unistd::read(&ready_r, &mut b), Ok(1)) {
                    return Err("the container's user namespace was not made".into());
                }
                for (kind, map) in [("uid", uids), ("gid", gids)] {
                    let text: String = map.split(',').map(|t| t.replace('-', " ") + "\n").collect();
                    std::fs::write(format!("/proc/{child}/{kind}_map"), text)
                        .map_err(|e| format!("cannot write the container's {kind} map: {e}"))?;
                }
                nix::unistd::write(&go_w, b"1").map(|_| ()).map_err(|e| format!("handshake: {e}"))
            };
            if let Err(e) = write_maps() {
                let _ = nix::sys::signal::kill(child, nix::sys::signal::Signal::SIGKILL);
                let _ = nix::sys::wait::waitpid(child, None);
                return Err(e);
            }
            drop(go_w);
            let code = match nix::sys::wait::waitpid(child, None) {
                Ok(nix::sys::wait::WaitStatus::Exited(_, c)) => c as u8,
                _ => 125,
            };
            Ok(Some(ExitCode::from(code)))
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
    // First, so that the caller starts the network stack while we set up the root.
    if let Some(cfg) = super::tap::from_spec(spec).map_err(SetupError::new)? {
        let sock = console.ok_or_else(|| SetupError::new("a tap device needs the console socket"))?;
        let tap = super::tap::create(&cfg)?;
        super::send_fd(sock, std::os::fd::AsRawFd::as_raw_fd(&tap))
            .map_err(|e| SetupError::new(format!("cannot send the network device: {e}")))?;
    }
    let root = spec.root().as_ref().ok_or_else(|| SetupError::new("config.json has no root"))?;
    // Compiled first: a profile that cannot work fails before any setup.
    let seccomp = super::seccomp::compile_spec(spec).map_err(|e| SetupError::new(e.to_string()))?;
    let rootfs = if root.path().is_absolute() { root.path().clone() } else { bundle.join(root.path()) };
    mounts::setup_root(spec, &rootfs)?;
    if let Some(h) = spec.hostname() {
        nix::unistd::sethostname(h).map_err(|e| SetupError::new(format!("sethostname: {e}")))?;
    }
    if let Some(d) = spec.domainname() {
        set_domainname(d)?;
    }
    mounts::pivot(&rootfs)?;
    if let Some(linux) = spec.linux() {
        // The container's own /proc (its namespaces' settings), before /proc/sys is made
        // read-only.
        write_sysctls(linux)?;
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

/// The UTS namespace's NIS domain name.
fn set_domainname(name: &str) -> Result<(), SetupError> {
    // SAFETY: the pointer and length describe `name`'s bytes for the call.
    let r = unsafe { libc::setdomainname(name.as_ptr().cast(), name.len()) };
    if r != 0 {
        return Err(SetupError::new(format!("setdomainname: {}", std::io::Error::last_os_error())));
    }
    Ok(())
}

/// `linux.sysctl`: each KEY=VALUE written to /proc/sys (keys with dots, as the spec has them):
/// an existing file of procfs only, never created, not through a symlink.
fn write_sysctls(linux: &oci_spec::runtime::Linux) -> Result<(), SetupError> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    for (k, v) in linux.sysctl().iter().flatten() {
        let bad = |why: String| SetupError::new(format!("cannot set sysctl {k}={v}: {why}"));
        if k.split(['.', '/']).any(|p| p.is_empty() || p == "..") {
            return Err(bad("not a sysctl name".into()));
        }
        let path = format!("/proc/sys/{}", k.replace('.', "/"));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .map_err(|e| bad(e.to_string()))?;
        let on_proc =
            nix::sys::statfs::fstatfs(&f).is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::PROC_SUPER_MAGIC);
        if !on_proc {
            return Err(bad(format!("{path} is not on procfs")));
        }
        f.write_all(v.as_bytes()).map_err(|e| bad(e.to_string()))?;
    }
    Ok(())
}

/// Why PID 1 gave up at the gate (its starter closed it: the starter's error is the cause).
pub const CALLED_OFF: &str = "the start was called off before the command ran";

/// Blocks until whoever started us says go (one byte). EOF means the start was called off.
fn wait_at_gate(fd: i32) -> Result<(), SetupError> {
    let mut b = [0u8; 1];
    loop {
        // SAFETY: read into a local buffer from our inherited descriptor.
        let n = unsafe { libc::read(fd, b.as_mut_ptr().cast(), 1) };
        match n {
            1 => break,
            -1 if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => continue,
            _ => return Err(SetupError::new(CALLED_OFF)),
        }
    }
    // SAFETY: closing our own descriptor.
    unsafe { libc::close(fd) };
    Ok(())
}
