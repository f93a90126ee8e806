//! Lifecycle verbs on a created container: start (through its monitor), stop, kill, wait,
//! remove. Each acts on the record and the processes it names; none holds a lock while a
//! container runs.

use super::run::MonitorMode;
use super::{Container, ContainerError, State};
use crate::engine::Context;
use std::io::BufRead;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Which of an attached container's streams are connected to ours (`run --attach`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streams {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
}

impl Default for Streams {
    fn default() -> Streams {
        Streams { stdin: true, stdout: true, stderr: true }
    }
}

impl Streams {
    /// `--attach stdin|stdout|stderr` (repeatable, or comma-separated); none given: all.
    pub fn parse(given: &[String]) -> Result<Streams, ContainerError> {
        if given.is_empty() {
            return Ok(Streams::default());
        }
        let mut s = Streams { stdin: false, stdout: false, stderr: false };
        for v in given.iter().flat_map(|g| g.split(',')) {
            match v.to_ascii_lowercase().as_str() {
                "stdin" => s.stdin = true,
                "stdout" => s.stdout = true,
                "stderr" => s.stderr = true,
                _ => {
                    return Err(ContainerError::Invalid(format!(
                        "invalid --attach \"{v}\": use stdin, stdout or stderr"
                    )));
                }
            }
        }
        Ok(s)
    }
}

/// Starts the container's monitor. Detached: returns once the command runs. Attached: the
/// container shares our stdio and this returns its exit code; a terminal container runs
/// detached under its monitor and we attach to it at once, so `detach_keys` leave it running.
pub fn start(ctx: &Context, c: &Container, attach: bool, detach_keys: &[u8]) -> Result<u8, ContainerError> {
    start_with(ctx, c, attach, detach_keys, Streams::default())
}

/// [`start`] with only `streams` connected when attached. The containers it `--requires`
/// are started first.
pub fn start_with(
    ctx: &Context,
    c: &Container,
    attach: bool,
    detach_keys: &[u8],
    streams: Streams,
) -> Result<u8, ContainerError> {
    start_required(ctx, c, &mut vec![c.id.clone()])?;
    // Until the monitor has recorded the container running, under the shared store lock:
    // `system reset` (exclusive) then finds every container that runs.
    let lock = ctx.store_lock_shared()?;
    let c = &reload(ctx, &c.id)?;
    if c.state == State::Paused {
        return Err(ContainerError::Invalid(format!(
            "cannot start paused container {}; use kiste unpause: container state improper",
            c.name
        )));
    }
    if c.is_running() {
        return Ok(0);
    }
    // Started by the user: its restart policy applies again, counting from zero.
    super::restart::reset_for_start(ctx, c)?;
    let through_socket = attach && c.kept.tty;
    let attached = attach && !through_socket;
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| ContainerError::Invalid(format!("cannot create a pipe: {e}")))?;
    let mode = match (attached, through_socket) {
        (true, _) => MonitorMode::Attached,
        (false, true) => MonitorMode::Await,
        (false, false) => MonitorMode::Detached,
    };
    // Before the monitor exists: the holder must not be its child.
    crate::storage::shared_userns::ensure(&ctx.idmap, &ctx.paths.locks());
    let monitor = super::monitor_proc::start(&c.id, mode, w, streams)?;
    let mut told = std::io::BufReader::new(std::fs::File::from(r));
    let mut msg = String::new();
    let _ = told.read_line(&mut msg);
    let msg = msg.trim();
    if let Some((code, message)) = crate::util::parse_failure(msg) {
        let _ = monitor.wait();
        return Err(ContainerError::Exec { code, message });
    }
    if !msg.starts_with("ok ") {
        let status = monitor.wait().map(|c| format!("exit status {c}")).unwrap_or_else(|e| e.to_string());
        return Err(ContainerError::Invalid(format!(
            "the container monitor exited before the container started ({status})"
        )));
    }
    drop(lock);
    if let (Some(secs), Some(pid)) = (c.kept.timeout, msg.strip_prefix("ok ").and_then(|p| p.trim().parse().ok())) {
        start_timer(c, pid, secs);
    }
    if through_socket {
        // The monitor runs on in its own session; reap it later rather than wait here.
        drop(monitor);
        return Ok(attach_socket(ctx, c, c.kept.interactive, detach_keys)?.unwrap_or(0));
    }
    if !attached {
        return Ok(0);
    }
    // The monitor says "exit CODE" once the record is final; it removes an `--rm`
    // container's files after that, on its own.
    let mut end = String::new();
    let _ = told.read_line(&mut end);
    if let Some(code) = end.trim().strip_prefix("exit ").and_then(|c| c.parse::<u8>().ok()) {
        return Ok(code);
    }
    if let Some((code, message)) = crate::util::parse_failure(end.trim()) {
        let _ = monitor.wait();
        return Err(ContainerError::Exec { code, message });
    }
    monitor.wait()
}

/// Starts what `c` requires (and what that requires), detached, unless it runs.
fn start_required(ctx: &Context, c: &Container, seen: &mut Vec<String>) -> Result<(), ContainerError> {
    for id in &c.kept.requires {
        if seen.contains(id) {
            continue;
        }
        seen.push(id.clone());
        let r = reload(ctx, id).map_err(|e| match e {
            ContainerError::NotFound(_) => ContainerError::Invalid(format!(
                "container {} requires container {id}, which no longer exists; remove {} and create it again",
                c.name, c.name
            )),
            e => e,
        })?;
        start_required(ctx, &r, seen)?;
        if !r.is_running() {
            start(ctx, &r, false, &[])?;
        }
    }
    Ok(())
}

/// Hidden argv[1] of the `--timeout` timer: `__timeout ID PID SECONDS`.
pub const TIMEOUT: &str = "__timeout";

/// `--timeout`: a small detached process that kills the container's PID 1 (`pid`) after
/// `secs`, unless it has ended by then.
fn start_timer(c: &Container, pid: i64, secs: u64) {
    let mut cmd = Command::new("/proc/self/exe");
    cmd.args([TIMEOUT, &c.id, &pid.to_string(), &secs.to_string()]);
    cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: setsid between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    if let Err(e) = cmd.spawn() {
        crate::util::print_warning(format!("container {}: cannot start its --timeout timer: {e}", c.name));
    }
}

/// The timer's process (see [`start_timer`]).
pub fn timeout_main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let (Some(id), Some(pid), Some(secs)) =
        (args.first(), args.get(1).and_then(|p| p.parse::<i64>().ok()), args.get(2).and_then(|s| s.parse().ok()))
    else {
        return std::process::ExitCode::from(125);
    };
    std::thread::sleep(Duration::from_secs(secs));
    let Ok(ctx) = Context::new() else { return std::process::ExitCode::from(125) };
    if let Ok(c) = reload(&ctx, id)
        && c.is_running()
        && c.pid == Some(pid)
    {
        let _ = kill(&ctx, id, libc::SIGKILL);
    }
    std::process::ExitCode::SUCCESS
}

/// The record of container `id` as it is now (a dead monitor's container made exited).
pub fn reload(ctx: &Context, id: &str) -> Result<Container, ContainerError> {
    let conn = ctx.db()?;
    let mut c = super::resolve(&conn, id)?;
    super::reconcile(ctx, &conn, &mut c)?;
    Ok(c)
}

/// Waits until the record says exited (the monitor wrote it) or `limit` passes.
fn wait_exited(ctx: &Context, id: &str, limit: Duration) -> Result<Option<Container>, ContainerError> {
    let until = Instant::now() + limit;
    loop {
        let c = reload(ctx, id)?;
        if !c.is_running() {
            return Ok(Some(c));
        }
        if Instant::now() >= until {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A signal's name as Podman prints it (`SIGTERM`).
pub(super) fn signal_name(sig: i32) -> String {
    nix::sys::signal::Signal::try_from(sig).map(|s| s.as_str().to_string()).unwrap_or_else(|_| sig.to_string())
}

/// Sends a signal to the container's PID 1. As in Podman, a container the user signalled
/// is not brought back by its restart policy. A paused container keeps the signal pending,
/// except SIGKILL: it is thawed to die.
pub fn kill(ctx: &Context, id: &str, signal: i32) -> Result<(), ContainerError> {
    let c = reload(ctx, id)?;
    let Some(pid) = c.run_pid() else {
        return Err(ContainerError::Invalid(format!("container {} is not running; start it first", c.name)));
    };
    super::restart::mark_stopped(ctx, &c.id)?;
    super::pause::signal(ctx, &c.id, pid, signal, signal == libc::SIGKILL)
}

/// Stop signal, then SIGKILL after `timeout` seconds (with Podman's warning); returns once
/// the container has exited, and an `--rm` container once it is gone. Its restart policy
/// does not bring it back (a monitor between runs sees the mark and ends).
pub fn stop(ctx: &Context, id: &str, timeout: Option<u64>) -> Result<(), ContainerError> {
    let c = reload(ctx, id)?;
    if !c.is_running() {
        return Ok(());
    }
    super::restart::mark_stopped(ctx, &c.id)?;
    stop_until_exited(ctx, &c.id, c.kept.stop_signal, timeout.unwrap_or(c.kept.stop_timeout))?;
    wait_removed(ctx, &c)
}

/// An `--rm` container that has ended: until its monitor has removed its record (a few
/// seconds at most), so that it is gone when `stop` returns. One still there by then is left
/// to its monitor.
fn wait_removed(ctx: &Context, c: &Container) -> Result<(), ContainerError> {
    if !c.kept.rm {
        return Ok(());
    }
    let until = Instant::now() + Duration::from_secs(5);
    while Instant::now() < until {
        match reload(ctx, &c.id) {
            Err(ContainerError::NotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
    Ok(())
}

/// Ends runs until the record says exited (or is gone): one that a restart began meanwhile too.
fn stop_until_exited(ctx: &Context, id: &str, signal: i32, timeout: u64) -> Result<(), ContainerError> {
    let until = Instant::now() + Duration::from_secs(timeout + 30);
    loop {
        let c = match reload(ctx, id) {
            Err(ContainerError::NotFound(_)) => return Ok(()),
            r => r?,
        };
        match (c.state, c.pid) {
            _ if !c.is_running() => return Ok(()),
            (State::Running | State::Paused, Some(pid)) => halt(ctx, &c, pid, signal, timeout)?,
            _ => std::thread::sleep(Duration::from_millis(10)),
        }
        if Instant::now() >= until {
            return Err(ContainerError::Invalid(format!(
                "container {} is still restarting; its monitor did not end, try again",
                c.name
            )));
        }
    }
}

/// Ends the current run without marking the container stopped (`--health-on-failure
/// restart`): the monitor decides what follows.
pub fn end_run(ctx: &Context, id: &str, timeout: Option<u64>) -> Result<(), ContainerError> {
    let c = reload(ctx, id)?;
    let Some(pid) = c.pid.filter(|_| c.state == State::Running) else { return Ok(()) };
    halt(ctx, &c, pid, c.kept.stop_signal, timeout.unwrap_or(c.kept.stop_timeout))
}

/// Ends the run of `c` whose PID 1 is `pid`: `signal`, then SIGKILL after `timeout` s with
/// Podman's warning (at once when `timeout` is 0); returns once the record no longer names
/// that PID 1 running. A paused container is thawed after the first signal, to act on it.
fn halt(ctx: &Context, c: &Container, pid: i64, signal: i32, timeout: u64) -> Result<(), ContainerError> {
    let send = |sig: i32| {
        if let Err(e) = super::pause::signal(ctx, &c.id, pid, sig, true) {
            crate::util::print_warning(e.to_string());
        }
    };
    if timeout > 0 && signal != libc::SIGKILL {
        send(signal);
        if run_ended(ctx, &c.id, pid, Duration::from_secs(timeout))? {
            return Ok(());
        }
        crate::util::print_warning(format!(
            "StopSignal {} failed to stop container {} in {timeout} seconds, resorting to SIGKILL",
            signal_name(signal),
            c.name
        ));
    }
    send(libc::SIGKILL);
    if run_ended(ctx, &c.id, pid, Duration::from_secs(10))? {
        return Ok(());
    }
    Err(ContainerError::Invalid(format!("container {} did not exit after SIGKILL", c.name)))
}

/// Waits until the record no longer names `pid` as the running PID 1 (or is gone), at
/// most `limit`.
fn run_ended(ctx: &Context, id: &str, pid: i64, limit: Duration) -> Result<bool, ContainerError> {
    let until = Instant::now() + limit;
    loop {
        let c = match reload(ctx, id) {
            Err(ContainerError::NotFound(_)) => return Ok(true),
            r => r?,
        };
        if c.run_pid() != Some(pid) {
            return Ok(true);
        }
        if Instant::now() >= until {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits for the container to exit and returns its exit code.
pub fn wait(ctx: &Context, id: &str) -> Result<i64, ContainerError> {
    let full = reload(ctx, id)?.id;
    loop {
        match wait_exited(ctx, &full, Duration::from_secs(3600)) {
            Ok(Some(c)) => return Ok(c.exit_code.unwrap_or(-1)),
            Ok(None) => {}
            // Removed with --rm while we waited: its exit file tells how it ended.
            Err(ContainerError::NotFound(n)) => {
                return super::exits::recorded(ctx, &full).map(i64::from).ok_or(ContainerError::NotFound(n));
            }
            Err(e) => return Err(e),
        }
    }
}

/// Removes a container (stopping it first with `force`): its record and all its files; its
/// anonymous volumes too when it was made with `--rm` (Podman's `run --rm`).
pub fn remove(ctx: &Context, id: &str, force: bool) -> Result<Container, ContainerError> {
    remove_with(ctx, id, force, false, None)
}

/// As `remove`; `volumes` (`rm -v`) removes its anonymous volumes that no other container
/// uses, whatever it was made with (one that cannot be removed is a warning). With `force`
/// and `timeout`, a running container gets its stop signal and `timeout` seconds first
/// (`rm -f -t N`), else SIGKILL at once.
pub fn remove_with(
    ctx: &Context,
    id: &str,
    force: bool,
    volumes: bool,
    timeout: Option<u64>,
) -> Result<Container, ContainerError> {
    let c = remove_container(ctx, id, force, timeout)?;
    if volumes || c.kept.rm {
        for w in crate::engine::volume::remove_anonymous_of(ctx, &c.kept.mounts) {
            crate::util::print_warning(w);
        }
    }
    Ok(c)
}

/// The container alone (record and files); its volumes stay. `timeout` as in
/// [`remove_with`]; an `--rm` container that its monitor removes meanwhile counts as removed.
pub(crate) fn remove_container(
    ctx: &Context,
    id: &str,
    force: bool,
    timeout: Option<u64>,
) -> Result<Container, ContainerError> {
    let c = reload(ctx, id)?;
    if c.is_running() {
        if !force {
            return Err(ContainerError::Running(c.name.clone()));
        }
        super::restart::mark_stopped(ctx, &c.id)?;
        let (signal, t) = match timeout {
            Some(t) => (c.kept.stop_signal, t),
            None => (libc::SIGKILL, 0),
        };
        if let Err(e) = stop_until_exited(ctx, &c.id, signal, t) {
            return Err(ContainerError::Invalid(format!("{e}; nothing was removed, try again")));
        }
        match reload(ctx, &c.id) {
            Err(ContainerError::NotFound(_)) => return Ok(c),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
    }
    // A cgroup a killed monitor left (the monitor removes it when the container ends).
    super::end_cgroup(&c);
    unlink(ctx, &c)?.remove(ctx)?;
    Ok(c)
}

/// A container gone from the store (its record deleted, its directory renamed aside) whose
/// files are still on disk; `remove` deletes them. One killed before that leaves a `.del-`
/// directory that `container prune` sweeps.
#[must_use]
pub struct Unlinked {
    id: String,
    doomed: std::path::PathBuf,
    run: std::path::PathBuf,
    mounts: Vec<super::mounts::KeptMount>,
    anonymous_volumes: bool,
}

/// Takes ended container `c` out of the store: the directory first (one rename), then the
/// record. Its name is free once this returns.
pub(crate) fn unlink(ctx: &Context, c: &Container) -> Result<Unlinked, ContainerError> {
    let dir = c.dir(ctx);
    let doomed = ctx.paths.containers().join(format!(".del-{}", c.id));
    match std::fs::rename(&dir, &doomed) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(ContainerError::io("cannot remove", &dir, e)),
    }
    super::delete(&*ctx.db()?, &c.id)?;
    Ok(Unlinked {
        id: c.id.clone(),
        doomed,
        run: c.run_dir(ctx),
        mounts: c.kept.mounts.clone(),
        anonymous_volumes: c.kept.rm,
    })
}

impl Unlinked {
    /// Deletes the files (and, for an `--rm` container, its anonymous volumes: see
    /// [`Unlinked::remove_all`]).
    pub fn remove(self, ctx: &Context) -> Result<(), ContainerError> {
        // Overlay's work/work (and a volatile mount's marker under it) is made with mode 0;
        // it is ours: opened up, the plain removal usually does it all without the user
        // namespace.
        use std::os::unix::fs::PermissionsExt;
        // Parents first: a mode-0 directory hides what is under it.
        let marker = std::path::Path::new("work").join(crate::storage::overlay::VOLATILE_MARKER);
        let mut closed: Vec<&std::path::Path> = marker.ancestors().take_while(|d| d.components().count() > 1).collect();
        closed.reverse();
        for d in closed {
            let _ = std::fs::set_permissions(self.doomed.join(d), std::fs::Permissions::from_mode(0o700));
        }
        crate::storage::layers::remove_paths(&ctx.idmap, &[self.doomed])?;
        let _ = std::fs::remove_dir_all(&self.run);
        super::remove_container_locks(ctx, &self.id);
        Ok(())
    }

    /// The anonymous volumes of an `--rm` container that nothing else uses (a failure there is
    /// a warning); once.
    pub fn remove_volumes(&mut self, ctx: &Context) {
        if std::mem::take(&mut self.anonymous_volumes) {
            for w in crate::engine::volume::remove_anonymous_of(ctx, &self.mounts) {
                crate::util::print_warning(w);
            }
        }
    }

    /// The anonymous volumes (see [`Unlinked::remove_volumes`]), then the files.
    pub fn remove_all(mut self, ctx: &Context) -> Result<(), ContainerError> {
        self.remove_volumes(ctx);
        self.remove(ctx)
    }
}

/// What `exec` was asked for.
#[derive(Debug, Default)]
pub struct ExecOptions {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub detach: bool,
    pub tty: bool,
    pub interactive: bool,
}

/// Runs a process in a running container; returns its exit code (0 at once when detached).
pub fn exec(ctx: &Context, id: &str, o: &ExecOptions) -> Result<u8, ContainerError> {
    super::refuse_in_session("exec into a container")?;
    let c = reload(ctx, id)?;
    if c.state == State::Paused {
        return Err(ContainerError::Invalid(format!(
            "container {} is paused; unpause it before exec: container state improper",
            c.name
        )));
    }
    let Some(pid) = c.pid.filter(|_| c.is_running()) else {
        return Err(ContainerError::Invalid(format!("container {} is not running; start it first", c.name)));
    };
    // Names as the container sees them now (it may have changed its own files).
    let user = match &o.user {
        Some(u) => Some(super::users::UserDb::from_process(pid as u32)?.resolve(u)?),
        None => None,
    };
    let req = crate::runtime::exec::ExecRequest {
        args: o.args.clone(),
        env: o.env.clone(),
        workdir: o.workdir.clone(),
        user,
        tty: o.tty && !o.detach,
    };
    let json = serde_json::to_string(&req).map_err(|e| ContainerError::Invalid(e.to_string()))?;
    let mut cmd = Command::new("/proc/self/exe");
    cmd.arg(crate::runtime::exec::EXEC).arg(c.dir(ctx)).arg(pid.to_string()).arg(json);
    if o.detach {
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        // SAFETY: setsid between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        cmd.spawn().map_err(|e| ContainerError::Invalid(format!("cannot start exec: {e}")))?;
        return Ok(0);
    }
    let st = if req.tty {
        exec_on_terminal(cmd, o.interactive)?
    } else {
        cmd.stdout(crate::util::container_stdout());
        cmd.status().map_err(|e| ContainerError::Invalid(format!("cannot start exec: {e}")))?
    };
    use std::os::unix::process::ExitStatusExt;
    Ok(st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0)) as u8)
}

/// `exec -t`: the process gets a terminal from the container's /dev/pts; we copy between it
/// and our stdio (raw mode while interactive on a terminal).
fn exec_on_terminal(mut cmd: Command, interactive: bool) -> Result<std::process::ExitStatus, ContainerError> {
    let bad = |e: std::io::Error| ContainerError::Invalid(format!("cannot start exec: {e}"));
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().map_err(bad)?;
    let fd = theirs.as_raw_fd();
    cmd.arg(fd.to_string()).stdin(Stdio::null()).stdout(Stdio::null());
    // SAFETY: only fcntl between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().map_err(bad)?;
    drop(theirs);
    let Ok(master) = crate::runtime::receive_fd(&ours) else {
        // It failed before making the terminal and said why on stderr.
        return child.wait().map_err(bad);
    };
    crate::monitor::tty::size_from_stdin(&master);
    let raw = if interactive { crate::monitor::tty::RawMode::enter() } else { None };
    crate::monitor::tty::pump(master, interactive, std::io::stdout());
    drop(raw);
    child.wait().map_err(bad)
}

/// Stops the container when it runs, then starts it again detached.
pub fn restart(ctx: &Context, id: &str, timeout: Option<u64>) -> Result<(), ContainerError> {
    stop(ctx, id, timeout)?;
    let c = reload(ctx, id)?;
    start(ctx, &c, false, &[]).map(|_| ())
}

/// Gives the container a new name (unique per user, as at create).
pub fn rename(ctx: &Context, id: &str, new: &str) -> Result<(), ContainerError> {
    super::check_name(new)?;
    let c = reload(ctx, id)?;
    let conn = ctx.db()?;
    super::set_name(&conn, &c.id, new)
}

/// Attaches to a terminal container through its monitor's socket; None when detached.
fn attach_socket(ctx: &Context, c: &Container, stdin: bool, keys: &[u8]) -> Result<Option<u8>, ContainerError> {
    use crate::monitor::attach::{Ended, client};
    match client(&c.run_dir(ctx), stdin, keys.to_vec()) {
        Ok(Ended::Exited(code)) => Ok(Some(code)),
        Ok(Ended::Detached) => Ok(None),
        Ok(Ended::Lost) => Ok(Some(
            wait_exited(ctx, &c.id, Duration::from_secs(2))?.and_then(|c| c.exit_code).map_or(125, |c| c as u8),
        )),
        Err(e) => Err(ContainerError::Invalid(format!(
            "cannot attach to container {}: {e} (only containers started detached with -t serve attach)",
            c.name
        ))),
    }
}

/// `attach`: a terminal container through its monitor's socket (input, resize, detach keys);
/// otherwise its output from now on, with SIGINT/SIGTERM forwarded when `sig_proxy`.
/// Returns the exit code, or None when the user detached.
/// Output of a plain container goes to `sink` as log records.
pub fn attach(
    ctx: &Context,
    id: &str,
    stdin: bool,
    sig_proxy: bool,
    keys: &[u8],
    sink: &mut super::logs::Sink,
) -> Result<Option<u8>, ContainerError> {
    let c = reload(ctx, id)?;
    if !c.is_running() {
        return Err(ContainerError::Invalid(format!(
            "you can only attach to running containers; start {} first",
            c.name
        )));
    }
    if c.kept.tty {
        return attach_socket(ctx, &c, stdin, keys);
    }
    if sig_proxy && let Some(pid) = c.pid {
        use nix::sys::signal::{SigSet, Signal};
        let mut set = SigSet::empty();
        for s in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT] {
            set.add(s);
        }
        let _ = set.thread_block();
        std::thread::spawn(move || {
            while let Ok(s) = set.wait() {
                // SAFETY: kill of the container's PID 1 recorded by its monitor.
                unsafe { libc::kill(pid as i32, s as i32) };
            }
        });
    }
    // Output from here on; measured before any input can make the container answer.
    let start = std::fs::metadata(c.log_path(ctx)).map(|m| m.len()).unwrap_or(0);
    if stdin && c.kept.interactive {
        crate::monitor::attach::forward_stdin(&c.run_dir(ctx))
            .map_err(|e| ContainerError::Invalid(format!("cannot attach to the input of container {}: {e}", c.name)))?;
    }
    let ended = super::logs::follow(ctx, &c.id, start, &super::logs::LogQuery::default(), sink)?;
    // Removed with --rm at its end: the monitor left the exit code in an exit file.
    let code = match ended {
        Some(e) => e.exit_code.map(|x| x as u8),
        None => super::exits::recorded(ctx, &c.id),
    };
    Ok(Some(code.unwrap_or(0)))
}
