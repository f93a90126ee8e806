//! `kiste __monitor ID attached|detached READYFD`: the per-container supervisor. Starts the
//! container through the runtime, records it running, tells the caller on READYFD ("ok PID"
//! or "err CODE MESSAGE"), waits for it, records the exit code and time, and removes it when
//! it was run with --rm. Detached, it sits in its own session and sends output to the log.

use crate::engine::Context;
use crate::engine::container::run::{self as starter, MonitorMode};
use crate::engine::container::{self, lifecycle};
use std::io::Write;
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::{ExitCode, Stdio};

pub mod attach;
pub mod health_timer;
pub mod logfile;
pub mod restart;
pub(crate) mod tty;

pub use attach::{DEFAULT_DETACH_KEYS, parse_detach_keys};

pub use starter::MONITOR;

/// The caller's ready pipe: one line ("ok PID" or "err CODE MESSAGE"), then closed. An
/// attached caller keeps it open after "ok" and reads a second line: "exit CODE" once the
/// record is final (an `--rm` container's files are removed after that, off its path), or
/// "err CODE MESSAGE". Errors after the pipe is closed go to the log of the monitor
/// (tracing). The second field is a lock held until the container has started (a
/// restart's store lock).
pub(crate) struct Ready(Option<std::fs::File>, Option<crate::state::lock::FileLock>);

impl Ready {
    /// "ok PID", the pipe kept open for the exit when the caller is `attached`.
    fn started(&mut self, pid: u32, attached: bool) {
        let msg = format!("ok {pid}");
        match (attached, &mut self.0) {
            (true, Some(f)) => {
                self.1 = None;
                let _ = writeln!(f, "{msg}");
            }
            _ => self.tell(&msg),
        }
    }

    fn tell(&mut self, msg: &str) {
        self.1 = None;
        match self.0.take() {
            Some(mut f) => {
                let _ = writeln!(f, "{msg}");
            }
            None if msg.starts_with("ok ") => {}
            None => tracing::error!("{msg}"),
        }
    }
}

pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let (Some(id), Some(mode), Some(fd)) = (
        args.first(),
        args.get(1).and_then(|m| MonitorMode::from_arg(m)),
        args.get(2).and_then(|f| f.parse::<i32>().ok()),
    ) else {
        crate::util::print_error("monitor: bad arguments");
        return ExitCode::from(125);
    };
    // Nothing the caller left open stays with a monitor that may run for months, nor reaches
    // the container; the ready pipe included (its EOF means "started").
    crate::util::cloexec_from_3();
    ExitCode::from(serve(id, mode, fd))
}

/// Serves container `id` in `mode`, telling the caller on descriptor `fd` (see `Ready`);
/// returns the monitor's exit code. Reached by `kiste __monitor` or, without an exec, in a
/// child forked by the engine (`run::MONITOR_ENTRY`).
pub fn serve(id: &str, mode: MonitorMode, fd: i32) -> u8 {
    // Nor does it keep the caller's working directory busy (a mount that could not be
    // unmounted while the container runs); every path it uses is absolute.
    let _ = std::env::set_current_dir("/");
    // SAFETY: the caller passed this descriptor to us for this message, and nothing else owns it.
    let mut ready = Ready(Some(unsafe { std::fs::File::from_raw_fd(fd) }), None);
    // Ok: the container ran (its caller has its answer); Err: the exit code to end with.
    let ran = match run(id, mode, &mut ready) {
        Ok(code) => Ok(code),
        // The command could not run: the container has ended (and gone, with --rm).
        Err(container::ContainerError::Exec { code, message }) => {
            ready.tell(&crate::util::failure_line(code, &message));
            Err(code)
        }
        Err(e) => {
            discard_if_rm(id);
            ready.tell(&crate::util::failure_line(125, &e.to_string()));
            Err(125)
        }
    };
    // The caller has its answer: the WAL's checkpoint is off its path (see db::tidy_wal).
    crate::state::db::tidy_wal();
    match ran {
        Ok(code) => restart::after_run(id, mode, code),
        Err(code) => code,
    }
}

/// A `--rm` container that could not be started goes, as one that ran and ended would.
fn discard_if_rm(id: &str) {
    let Ok(ctx) = Context::new() else { return };
    let rm = ctx.db().ok().and_then(|conn| container::resolve(&conn, id).ok()).is_some_and(|c| c.kept.rm);
    if rm {
        let _ = lifecycle::remove(&ctx, id, true);
    }
}

/// Serves the container as `mode` says (see `MonitorMode`).
pub(crate) fn run(id: &str, mode: MonitorMode, ready: &mut Ready) -> Result<u8, container::ContainerError> {
    let attached = mode == MonitorMode::Attached;
    starter::become_subreaper();
    if attached {
        // Ctrl-C goes to the container (the runtime forwards it); we stay to record the end.
        for s in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT] {
            // SAFETY: ignoring signals.
            unsafe { libc::signal(s, libc::SIG_IGN) };
        }
    }
    let ctx = Context::new()?;
    let conn = ctx.db()?;
    let c = container::resolve(&conn, id)?;
    drop(conn);
    // Sockets and helper PID files: run-time state, beside none of the persistent files.
    let run = c.make_run_dir(&ctx)?;
    let log = || -> Result<std::fs::File, container::ContainerError> {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(c.log_path(&ctx))
            .map_err(|e| container::ContainerError::io("cannot open", c.log_path(&ctx), e))
    };
    let mut log_pipes = None;
    let mut stdin_w = None;
    let stdio = if c.kept.tty {
        // PID 1 makes its terminal in its own /dev/pts and sends us the master.
        [Stdio::null(), Stdio::null(), Stdio::null()]
    } else if attached {
        let stdin = if c.kept.interactive { Stdio::inherit() } else { Stdio::null() };
        [stdin, Stdio::inherit(), Stdio::inherit()]
    } else {
        // The waiter copies both into the log, a record per line with its time and stream.
        let pipe = || {
            nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                .map_err(|e| container::ContainerError::Invalid(format!("cannot create a pipe: {e}")))
        };
        let (out_r, out_w) = pipe()?;
        let (err_r, err_w) = pipe()?;
        log_pipes = Some((out_r, err_r));
        // -i: stdin stays open for `attach`, fed through the attach socket.
        let stdin = if c.kept.interactive {
            let (r, w) = pipe()?;
            stdin_w = Some(w);
            Stdio::from(r)
        } else {
            Stdio::null()
        };
        [stdin, Stdio::from(out_w), Stdio::from(err_w)]
    };
    // Bound before the container starts: a caller told "ok" may connect at once. Without it
    // the container could not be attached to, so it does not start.
    let listener = match (c.kept.tty || c.kept.interactive) && !attached {
        true => Some(
            attach::listen(&run)
                .map_err(|e| container::ContainerError::io("cannot create the attach socket in", &run, e))?,
        ),
        false => None,
    };
    let started = starter::start(&ctx, &c, stdio)?;
    ready.started(started.pid, attached);
    // Health checks on a thread where this monitor stays whole; the waiter keeps its own time.
    let _timer = (c.kept.tty || c.kept.interactive || attached)
        .then(|| health_timer::spawn_thread(&c.id, c.kept.health.as_ref()))
        .flatten();
    if let Some(master) = started.console {
        let l = listener.ok_or_else(|| {
            container::ContainerError::Invalid("a terminal container runs detached, behind its attach socket".into())
        })?;
        let clients = attach::serve(master, log()?, &run, l, mode == MonitorMode::Await);
        let code = starter::reap(started.pid as i32);
        let files = starter::record_end(&ctx, &c.id, code);
        attach::tell_exit(clients, code);
        return remove_after(&ctx, files, code);
    }
    // Detached with -i (the stdin pipe and the log pipes are made together).
    if let (Some(w), Some(l)) = (stdin_w, listener)
        && let Some((out, err)) = log_pipes.take()
    {
        // This monitor stays to feed stdin from attach clients.
        std::thread::spawn(move || attach::serve_stdin(l, w));
        logfile::pump(out, err, log()?);
        let code = starter::reap(started.pid as i32);
        let _ = std::fs::remove_file(run.join(attach::SOCKET));
        return starter::finish(&ctx, &c.id, code);
    }
    if !attached {
        // Wait in a fresh, tiny image of ourselves: a detached container may run for months,
        // and this process should cost as little memory as possible meanwhile.
        use std::os::fd::AsRawFd;
        use std::os::unix::process::CommandExt;
        crate::state::db::tidy_wal();
        let mut args = vec![WAIT.to_string(), c.id.clone(), started.pid.to_string()];
        let logf = if log_pipes.is_some() { Some(log()?) } else { None };
        if let (Some((out, err)), Some(logf)) = (&log_pipes, &logf) {
            for fd in [out.as_raw_fd(), err.as_raw_fd(), logf.as_raw_fd()] {
                // SAFETY: fcntl on our own descriptor: the waiter inherits it.
                unsafe { libc::fcntl(fd, libc::F_SETFD, 0) };
                args.push(fd.to_string());
            }
            args.extend(waiter_health_arg(&c));
        }
        let err = std::process::Command::new("/proc/self/exe").args(&args).exec();
        tracing::debug!("monitor re-exec failed, waiting in place: {err}");
        if let (Some((out, err)), Some(logf)) = (log_pipes, logf) {
            logfile::pump(out, err, logf);
        }
    }
    let code = starter::reap(started.pid as i32);
    let mut files = starter::record_end(&ctx, &c.id, code);
    if attached && let Ok(Some(f)) = files.as_mut() {
        // As podman: the caller sees its anonymous volumes gone; only the files go after.
        f.remove_volumes(&ctx);
    }
    if attached && files.is_ok() {
        ready.tell(&format!("exit {code}"));
        // The caller's terminal or pipes are not ours to hold while the files go.
        release_stdio();
    }
    remove_after(&ctx, files, code)
}

/// An `--rm` container's files removed once its end is told (see `run::record_end`).
fn remove_after(
    ctx: &Context,
    files: Result<Option<lifecycle::Unlinked>, container::ContainerError>,
    code: u8,
) -> Result<u8, container::ContainerError> {
    if let Some(f) = files? {
        f.remove_all(ctx)?;
    }
    Ok(code)
}

/// Points stdin, stdout and stderr at /dev/null: whoever reads our output has its end.
fn release_stdio() {
    if let Ok(null) = std::fs::OpenOptions::new().read(true).write(true).open("/dev/null") {
        use std::os::fd::AsRawFd;
        for fd in 0..3 {
            // SAFETY: dup2 of our own descriptor onto the standard ones.
            unsafe { libc::dup2(null.as_raw_fd(), fd) };
        }
    }
}

/// The waiter's health schedule argument, when the container's check has a timer.
fn waiter_health_arg(c: &container::Container) -> Option<String> {
    c.kept.health.as_ref().and_then(health_timer::Schedule::of).map(|s| s.to_arg())
}

/// Records the end (see `run::finish`) in a fresh context: the waiter re-execs into here.
fn finish(id: &str, code: u8) -> Result<u8, container::ContainerError> {
    starter::finish(&Context::new()?, id, code)
}

/// `__monitor-wait ID PID`: the monitor while the container runs. Touches as little as
/// possible, then becomes `__monitor-exit ID CODE` to record the end.
pub const WAIT: &str = "__monitor-wait";
/// `__monitor-exit ID CODE`
pub const EXIT: &str = "__monitor-exit";

pub fn wait_main() -> ExitCode {
    let mut args = std::env::args().skip(2);
    let (Some(id), Some(pid)) = (args.next(), args.next().and_then(|p| p.parse::<i32>().ok())) else {
        return ExitCode::from(125);
    };
    let fd = |s: Option<String>| s.and_then(|s| s.parse::<i32>().ok());
    if let (Some(out), Some(err), Some(log)) = (fd(args.next()), fd(args.next()), fd(args.next())) {
        // SAFETY: the monitor passed us these descriptors: the read ends of the log pipes
        // and the log, open for appending. No database until the end: less memory.
        let (out, err, log) =
            unsafe { (OwnedFd::from_raw_fd(out), OwnedFd::from_raw_fd(err), std::fs::File::from_raw_fd(log)) };
        // Not for the health checks this waiter starts.
        crate::util::cloexec_from_3();
        let timer = args
            .next()
            .and_then(|a| health_timer::Schedule::from_arg(&a))
            .and_then(|s| health_timer::Timer::new(&id, s));
        pump_waiting(out, err, log, timer);
    }
    CleanPages::default().release();
    let code = starter::reap(pid);
    use std::os::unix::process::CommandExt;
    let _ = std::process::Command::new("/proc/self/exe").args([EXIT, &id, &code.to_string()]).exec();
    match finish(&id, code) {
        Ok(c) => ExitCode::from(restart::carry_on(&id, c)),
        Err(_) => ExitCode::from(125),
    }
}

/// The waiter's loop: the container's output into the log; between outputs it sleeps with
/// its pages given back, waking when the health check `timer` is due.
fn pump_waiting(out: OwnedFd, err: OwnedFd, log: std::fs::File, mut timer: Option<health_timer::Timer>) {
    let mut pages = CleanPages::default();
    logfile::pump_idle(out, err, log, |fds, busy| {
        let due = timer.as_ref().map_or(-1, |t| t.timeout_ms());
        let n = if busy {
            logfile::poll(fds, if due < 0 { 1000 } else { due.min(1000) })
        } else {
            pages.release_and_poll(fds, due)
        };
        if let Some(t) = timer.as_mut() {
            t.tick();
        }
        n
    });
}

/// The clean, file-backed pages this waiter touched (program text and read-only data still
/// in the page cache): it may wait for months and needs almost none of them, so it gives them
/// back whenever it is about to wait (the kernel maps them back in windows of up to 128 kB
/// around each touch, so the path from the release to the sleep is kept short); any it
/// does need fault back in. Only read-only mappings without anonymous pages are released
/// (crate::pages), so nothing can be lost. The mappings are read once; the waiter maps
/// nothing new later.
#[derive(Default)]
struct CleanPages(Option<Vec<(usize, usize)>>);

impl CleanPages {
    #[inline(always)]
    fn release(&mut self) {
        crate::pages::release(self.0.get_or_insert_with(crate::pages::own_clean_file_mappings));
    }

    /// Releases the pages, then sleeps in poll(2) on `fds` (`timeout_ms`: -1 for none).
    #[inline(never)]
    fn release_and_poll(&mut self, fds: &mut [libc::pollfd], timeout_ms: i32) -> i32 {
        self.release();
        // SAFETY: `fds` is a valid array of pollfd of the length given.
        unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) }
    }
}

pub fn exit_main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let (Some(id), Some(code)) = (args.first(), args.get(1).and_then(|c| c.parse::<u8>().ok())) else {
        return ExitCode::from(125);
    };
    let end = finish(id, code);
    crate::state::db::tidy_wal();
    match end {
        // The detached monitor carries on with the container's restart policy.
        Ok(c) => ExitCode::from(restart::carry_on(id, c)),
        Err(e) => {
            crate::util::print_error(format!("monitor: {e}"));
            ExitCode::from(code)
        }
    }
}
