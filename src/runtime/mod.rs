//! The built-in OCI runtime: reads a bundle's config.json (oci_spec) and makes the process —
//! user namespace with the user's subuid range, mount/pid/uts/ipc/net namespaces, the root
//! filesystem, pivot_root, then exec. Knows nothing about images, names or the CLI.
//!
//! Stages: `spawn` (in the caller) starts `kiste __container-init BUNDLE` through the
//! user-namespace handshake; `init::main` (intermediate) unshares the other namespaces and
//! forks PID 1; `init::container` sets up the root and execs the command.

pub mod cgroup;
pub mod exec;
pub mod init;
mod mounts;
mod process;
pub use process::{CAP_NAMES, cap_name};
pub mod seccomp;
mod syscall_table;
pub mod tap;
mod tinit;

use crate::storage::idmap::{IdMapping, Maps, Triple};
use oci_spec::runtime::Spec;
use std::ffi::OsString;
use std::io::Write;
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Hidden argv[1] of the container init.
pub const INIT: &str = "__container-init";
/// Annotation naming the overlay lower dirs (top first, ':'-joined) to mount at the root.
pub const ANN_LOWER: &str = "io.kiste.overlay.lower";
/// Overlay implementation for the root: "native" (kernel, rootless with userxattr) or "fuse".
pub const ANN_OVERLAY_MODE: &str = "io.kiste.overlay.mode";
/// Extra fuse-overlayfs options (`--userns=keep-id`'s uidmapping/gidmapping).
pub const ANN_FUSE_OPTIONS: &str = "io.kiste.overlay.fuse-options";
/// Set to "1": PID 1 is kiste's own init, which forks the command (`--init`).
pub const ANN_INIT: &str = "io.kiste.init";
/// Annotation naming the container's upper and work dirs (':'-joined).
pub const ANN_UPPER: &str = "io.kiste.overlay.upper";
/// Set to "1" for a `--rm` container (as Podman does): its kernel overlay is mounted
/// `volatile`, so the last exit in the container does not wait for the upper dir to be synced
/// to disk — its contents are thrown away a moment later.
pub const ANN_VOLATILE: &str = "io.kiste.overlay.volatile";
/// PID 1 makes a tap device in its network namespace and sends it over the console socket
/// (see tap.rs for the value); the caller's created hook gets it.
pub const ANN_TAP: &str = "io.kiste.network.tap";

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
    /// The master side of the container's terminal (made inside its own /dev/pts), when asked.
    pub console: Option<std::os::fd::OwnedFd>,
}

/// The user-namespace maps `spec` asks for (the user's default maps when it names none).
fn spec_maps(spec: &Spec, idmap: &IdMapping) -> Maps {
    let triples = |m: &Option<Vec<oci_spec::runtime::LinuxIdMapping>>| -> Option<Vec<Triple>> {
        let m = m.as_ref().filter(|m| !m.is_empty())?;
        Some(m.iter().map(|m| (m.container_id(), m.host_id(), m.size())).collect())
    };
    let default = idmap.maps();
    match spec.linux() {
        Some(l) => Maps {
            uid: triples(l.uid_mappings()).unwrap_or(default.uid),
            gid: triples(l.gid_mappings()).unwrap_or(default.gid),
        },
        None => default,
    }
}

/// Called with PID 1's host PID once its namespaces exist and before its command runs (the
/// OCI "created" state): the caller connects its network, say. PID 1 waits for it, while
/// setting up its root; an error stops the start (PID 1 is killed). The second argument is
/// the tap device PID 1 made when the spec asks for one (`ANN_TAP`).
pub type Created<'a> = &'a mut dyn FnMut(u32, Option<std::os::fd::OwnedFd>) -> Result<(), String>;

/// Starts the container described by `bundle/config.json` with the given stdio and returns
/// once its command runs (or failed to). The user namespace gets the spec's ID maps.
/// When the spec's process has a terminal, PID 1 creates it in the container's /dev/pts and
/// sends us the master (as runc's --console-socket); its stdio then becomes that terminal.
///
/// With `nest_in` (a PID), the container's user namespace is made inside that process's user
/// namespace instead of the caller's, with the same host IDs: whoever is root there then holds
/// every capability over the container's namespaces (kiste's network namespace holder, which
/// must plug the container into its bridge). A user namespace the spec names by path is joined.
pub fn spawn(
    idmap: &IdMapping,
    bundle: &Path,
    stdio: [Stdio; 3],
    created: Option<Created>,
    nest_in: Option<u32>,
) -> Result<Started, RuntimeError> {
    let spec = Spec::load(bundle.join("config.json"))
        .map_err(|e| RuntimeError::Start(format!("cannot read {}/config.json: {e}", bundle.display())))?;
    let console = spec.process().as_ref().and_then(|p| p.terminal()).unwrap_or(false);
    let tap = tap::from_spec(&spec).map_err(RuntimeError::Start)?.is_some();
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| RuntimeError::Start(e.to_string()))?;
    let mut args = vec![OsString::from(INIT), bundle.as_os_str().to_owned(), OsString::from(w.as_raw_fd().to_string())];
    let mut keep = vec![w.as_raw_fd()];
    // The console socket: the terminal's master and the tap device come over it.
    let sock = if console || tap {
        let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(|e| RuntimeError::Start(e.to_string()))?;
        args.push(OsString::from(theirs.as_raw_fd().to_string()));
        keep.push(theirs.as_raw_fd());
        Some((ours, theirs))
    } else {
        args.push(OsString::from("-"));
        None
    };
    // The gate: PID 1 reads one byte from it before its command runs.
    let gate = match created.is_some() {
        true => {
            let (gr, gw) =
                nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| RuntimeError::Start(e.to_string()))?;
            args.push(OsString::from(gr.as_raw_fd().to_string()));
            keep.push(gr.as_raw_fd());
            Some((gr, gw))
        }
        false => None,
    };
    // The cgroup (limits written) before the container's first process exists; it joins it
    // through these descriptors before forking PID 1, so every process of the container
    // starts inside. Removed again if the start fails.
    let cgroup = create_cgroup(&spec, idmap)?;
    let cgroup_arg = match &cgroup {
        Some((_, fds)) => fds.iter().map(|f| f.as_raw_fd().to_string()).collect::<Vec<_>>().join(","),
        None => "-".to_string(),
    };
    if gate.is_none() {
        args.push(OsString::from("-"));
    }
    args.push(OsString::from(cgroup_arg));
    keep.extend(cgroup.iter().flat_map(|(_, fds)| fds.iter().map(|f| f.as_raw_fd())));
    let sock = ConsoleSock { pair: sock, terminal: console, tap };
    let result = start(&spec, idmap, args, &keep, stdio, (r, w), sock, gate, created, nest_in);
    if let Some((path, fds)) = cgroup {
        drop(fds);
        if result.as_ref().map_or(true, |s| s.failed.is_some()) {
            let host = cgroup::detect();
            let _ = cgroup::Manager::new(&cgroup::RealFs, &host, path).remove();
        }
    }
    result
}

/// The pipe PID 1's PID and failures come back on.
type ReportPipe = (std::os::fd::OwnedFd, std::os::fd::OwnedFd);
type ConsolePair = Option<(std::os::unix::net::UnixStream, std::os::unix::net::UnixStream)>;
type GatePair = Option<(std::os::fd::OwnedFd, std::os::fd::OwnedFd)>;

/// The console socket and what PID 1 sends over it: the terminal's master, the tap device.
struct ConsoleSock {
    pair: ConsolePair,
    terminal: bool,
    tap: bool,
}

/// Makes the container's cgroup from the spec (`linux.resources` with a `cgroupsPath`) and
/// opens the join files (`cgroup::join_file`) the intermediate will write itself into.
fn create_cgroup(
    spec: &Spec,
    idmap: &IdMapping,
) -> Result<Option<(cgroup::CgroupPath, Vec<std::os::fd::OwnedFd>)>, RuntimeError> {
    let Some(linux) = spec.linux() else { return Ok(None) };
    let (Some(res), Some(path)) = (linux.resources(), linux.cgroups_path()) else { return Ok(None) };
    let err = |e: cgroup::CgroupError| RuntimeError::Start(e.to_string());
    let path = cgroup::CgroupPath::parse(&path.to_string_lossy()).map_err(err)?;
    let host = cgroup::detect();
    let mut bus = match &path {
        cgroup::CgroupPath::Systemd { .. } => {
            let addr =
                if idmap.is_rootful() { cgroup::systemd::system_bus_path() } else { cgroup::systemd::user_bus_path() };
            let addr =
                addr.ok_or_else(|| RuntimeError::Start("systemd's bus is not there ($XDG_RUNTIME_DIR/bus)".into()))?;
            Some(cgroup::dbus::Connection::open(&addr).map_err(RuntimeError::Start)?)
        }
        cgroup::CgroupPath::Fs(_) => None,
    };
    let manager = cgroup::Manager::new(&cgroup::RealFs, &host, path.clone());
    let dirs =
        manager.create(res, std::process::id(), bus.as_mut().map(|b| b as &mut dyn cgroup::SystemdBus)).map_err(err)?;
    let mut fds = Vec::new();
    for d in dirs {
        let procs = d.join(cgroup::join_file(&host));
        match std::fs::OpenOptions::new().write(true).custom_flags(libc::O_CLOEXEC).open(&procs) {
            Ok(f) => fds.push(std::os::fd::OwnedFd::from(f)),
            Err(e) => {
                let _ = manager.remove();
                return Err(RuntimeError::Start(format!("cannot open {}: {e}", procs.display())));
            }
        }
    }
    Ok(Some((path, fds)))
}

#[allow(clippy::too_many_arguments)]
fn start(
    spec: &Spec,
    idmap: &IdMapping,
    args: Vec<OsString>,
    keep: &[i32],
    stdio: [Stdio; 3],
    (r, w): ReportPipe,
    sock: ConsoleSock,
    gate: GatePair,
    created: Option<Created>,
    nest_in: Option<u32>,
) -> Result<Started, RuntimeError> {
    let ConsoleSock { pair: sock, terminal: console, tap } = sock;
    let joins_user = spec.linux().as_ref().and_then(|l| l.namespaces().as_ref()).is_some_and(|n| {
        n.iter().any(|ns| ns.typ() == oci_spec::runtime::LinuxNamespaceType::User && ns.path().is_some())
    });
    let mut child = match nest_in {
        Some(parent) if !idmap.is_rootful() => {
            let env = nest_env(parent, &spec_maps(spec, idmap))?;
            crate::storage::userns::spawn_plain(&args, stdio, keep, &[(init::NEST_ENV, env)])?
        }
        _ if joins_user => crate::storage::userns::spawn_plain(&args, stdio, keep, &[])?,
        _ => {
            let [stdin, stdout, stderr] = stdio;
            crate::storage::userns::spawn_process(idmap, &spec_maps(spec, idmap), &args, stdin, stdout, stderr, keep)?
        }
    };
    drop(w);
    let sock = sock.map(|(ours, theirs)| {
        drop(theirs);
        ours
    });
    let gate = gate.map(|(gr, gw)| {
        drop(gr);
        gw
    });
    // Lines: PID 1's host PID from the intermediate; "err CODE MESSAGE" from PID 1 if it
    // could not exec. EOF once PID 1 has exec'd (close-on-exec) and the intermediate wrote.
    let mut report = std::io::BufReader::new(std::fs::File::from(r));
    let mut pid = 0;
    let mut failed = None;
    while pid == 0 && read_report(&mut report, &mut pid, &mut failed) {}
    let tap_fd = match (tap, &sock) {
        (true, Some(s)) if pid != 0 && failed.is_none() => match receive_with_timeout(s, Duration::from_secs(10)) {
            Ok(fd) => Some(fd),
            Err(e) => {
                // PID 1 could not make it (and says why), or is gone.
                let own = own_failure(&mut report, Duration::from_secs(2));
                // SAFETY: kill of the PID the intermediate just reported.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                let _ = child.wait();
                return match own {
                    Some(f) => Ok(Started { pid, failed: Some(f), console: None }),
                    None => Err(RuntimeError::Start(format!("no network device from the container: {e}"))),
                };
            }
        },
        _ => None,
    };
    if let (Some(hook), Some(gate)) = (created, gate)
        && pid != 0
        && failed.is_none()
    {
        if let Err(msg) = hook(pid, tap_fd) {
            // PID 1 may have failed on its own meanwhile (its root, its hostname...), which is
            // then why the hook failed too: that cause is the one to report. Closing the gate
            // tells a PID 1 that got there to give up.
            drop(gate);
            let own = own_failure(&mut report, Duration::from_secs(2));
            // SAFETY: kill of the PID the intermediate just reported.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
            let _ = child.wait();
            return match own {
                Some(f) => Ok(Started { pid, failed: Some(f), console: None }),
                None => Err(RuntimeError::Start(msg)),
            };
        }
        let _ = std::fs::File::from(gate).write_all(b"g");
    }
    while read_report(&mut report, &mut pid, &mut failed) {}
    if pid == 0 && failed.is_none() {
        let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
        return Err(RuntimeError::Start(format!("the container init exited early ({status})")));
    }
    // The intermediate exits once it has reported.
    let _ = child.wait();
    let console = match (sock, &failed) {
        (Some(s), None) if console => {
            let fd = receive_fd(&s).map_err(|e| {
                // PID 1 runs without anyone to talk to it: it must not stay.
                // SAFETY: kill of the PID the intermediate just reported.
                unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                RuntimeError::Start(format!("no terminal from the container: {e}"))
            })?;
            Some(fd)
        }
        _ => None,
    };
    Ok(Started { pid, failed, console })
}

/// Reads one line of the start report (a PID, or PID 1's failure); false at EOF.
fn read_report(
    report: &mut std::io::BufReader<std::fs::File>,
    pid: &mut u32,
    failed: &mut Option<(u8, String)>,
) -> bool {
    let mut line = String::new();
    if std::io::BufRead::read_line(report, &mut line).unwrap_or(0) == 0 {
        return false;
    }
    if let Some(f) = crate::util::parse_failure(&line) {
        *failed = Some(f);
    } else if let Ok(p) = line.trim().parse() {
        *pid = p;
    }
    true
}

/// Waits at most `limit` for PID 1 to report a failure of its own (not "called off").
fn own_failure(report: &mut std::io::BufReader<std::fs::File>, limit: Duration) -> Option<(u8, String)> {
    use std::io::BufRead;
    let deadline = Instant::now() + limit;
    loop {
        if report.buffer().is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            let mut fds = [libc::pollfd { fd: report.get_ref().as_raw_fd(), events: libc::POLLIN, revents: 0 }];
            // SAFETY: poll on one valid descriptor we own.
            if unsafe { libc::poll(fds.as_mut_ptr(), 1, left.as_millis() as libc::c_int) } <= 0 {
                return None;
            }
        }
        let mut line = String::new();
        if report.read_line(&mut line).unwrap_or(0) == 0 {
            return None;
        }
        if let Some(f) = crate::util::parse_failure(&line).filter(|(_, m)| m != init::CALLED_OFF) {
            return Some(f);
        }
    }
}

/// `PID;UIDMAP;GIDMAP` for the intermediate: the process whose user namespace to nest in and
/// the container's maps relative to it (`inside-outside-count`, comma-separated).
fn nest_env(parent: u32, maps: &Maps) -> Result<String, RuntimeError> {
    let mut parts = vec![parent.to_string()];
    for (kind, want) in [("uid", &maps.uid), ("gid", &maps.gid)] {
        let text = std::fs::read_to_string(format!("/proc/{parent}/{kind}_map"))
            .map_err(|e| RuntimeError::Start(format!("cannot read the network namespace holder's {kind} map: {e}")))?;
        let inner =
            crate::storage::idmap::translate(want, &crate::storage::idmap::parse_proc_map(&text)).ok_or_else(|| {
                RuntimeError::Start(format!(
                    "the container's {kind} map does not fit in the network namespace holder's user namespace"
                ))
            })?;
        parts.push(inner.iter().map(|(c, h, n)| format!("{c}-{h}-{n}")).collect::<Vec<_>>().join(","));
    }
    Ok(parts.join(";"))
}

/// `receive_fd` that gives up after `limit` (PID 1 sends its tap device first thing).
fn receive_with_timeout(
    sock: &std::os::unix::net::UnixStream,
    limit: Duration,
) -> std::io::Result<std::os::fd::OwnedFd> {
    sock.set_read_timeout(Some(limit))?;
    let fd = receive_fd(sock);
    sock.set_read_timeout(None)?;
    fd
}

/// The one descriptor sent over the console socket (PID 1 sends one per message).
pub(crate) fn receive_fd(sock: &std::os::unix::net::UnixStream) -> std::io::Result<std::os::fd::OwnedFd> {
    let (_, fds) = crate::fdpass::recv(sock.as_raw_fd(), &mut [0u8; 1])?;
    fds.into_iter().next().ok_or_else(|| std::io::Error::other("no descriptor received"))
}

/// PID 1: sends a descriptor (the terminal master, the tap device) over the console socket.
fn send_fd(sock: i32, fd: i32) -> std::io::Result<()> {
    crate::fdpass::send(sock, b"f", &[fd])
}

/// PID 1, after pivot_root: a terminal from the container's own /dev/pts, its master sent to
/// the monitor, its slave as our stdio (owned by the process's user).
pub(crate) fn setup_console(sock: i32, uid: u32, gid: u32) -> Result<(), init::SetupError> {
    use rustix::fs::{Mode, OFlags};
    let e = |what: &str, err: std::io::Error| init::SetupError::new(format!("terminal: {what}: {err}"));
    let master = rustix::fs::open("/dev/ptmx", OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|er| e("open /dev/ptmx", er.into()))?;
    let mut unlock: libc::c_int = 0;
    let mut n: libc::c_uint = 0;
    // SAFETY: pty ioctls on the master we just opened, with valid pointers.
    unsafe {
        if libc::ioctl(master.as_raw_fd(), libc::TIOCSPTLCK, &mut unlock) != 0
            || libc::ioctl(master.as_raw_fd(), libc::TIOCGPTN, &mut n) != 0
        {
            return Err(e("unlock", std::io::Error::last_os_error()));
        }
    }
    let slave_path = format!("/dev/pts/{n}");
    let slave = rustix::fs::open(slave_path.as_str(), OFlags::RDWR | OFlags::NOCTTY, Mode::empty())
        .map_err(|er| e(&slave_path, er.into()))?;
    let _ = rustix::fs::fchown(&slave, Some(rustix::fs::Uid::from_raw(uid)), Some(rustix::fs::Gid::from_raw(gid)));
    send_fd(sock, master.as_raw_fd()).map_err(|er| e("send to the monitor", er))?;
    for target in 0..3 {
        // SAFETY: dup2 onto our own standard descriptors.
        if unsafe { libc::dup2(slave.as_raw_fd(), target) } < 0 {
            return Err(e("dup2", std::io::Error::last_os_error()));
        }
    }
    Ok(())
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
    report_line(fd, &format!("{}\n", crate::util::failure_line(code, message)));
}
