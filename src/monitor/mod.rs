//! `kiste __monitor ID attached|detached READYFD`: the per-container supervisor. Starts the
//! container through the runtime, records it running, tells the caller on READYFD ("ok PID"
//! or "err CODE MESSAGE"), waits for it, records the exit code and time, and removes it when
//! it was run with --rm. Detached, it sits in its own session and sends output to the log.

use crate::engine::Context;
use crate::engine::container::{self, lifecycle};
use std::io::Write;
use std::os::fd::FromRawFd;
use std::process::{ExitCode, Stdio};

pub const MONITOR: &str = "__monitor";

fn tell(fd: i32, msg: &str) {
    // SAFETY: the caller passed this descriptor to us for this message.
    let mut f = unsafe { std::fs::File::from_raw_fd(fd) };
    let _ = writeln!(f, "{msg}");
}

pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let (Some(id), Some(mode), Some(fd)) = (args.first(), args.get(1), args.get(2).and_then(|f| f.parse::<i32>().ok()))
    else {
        eprintln!("kiste: monitor: bad arguments");
        return ExitCode::from(125);
    };
    // The caller's pipe must not leak into the container (its EOF means "started").
    // SAFETY: fcntl on the descriptor we were given.
    unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    match run(id, mode == "attached", fd) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            tell(fd, &format!("err 125 {}", e.to_string().replace('\n', " ")));
            ExitCode::from(125)
        }
    }
}

fn run(id: &str, attached: bool, fd: i32) -> Result<u8, container::ContainerError> {
    // Orphans of the container are ours to reap, not the (slow) system init's.
    // SAFETY: prctl with plain integer arguments.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
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
    let dir = c.dir(&ctx);
    let stdio = if attached {
        [Stdio::inherit(), Stdio::inherit(), Stdio::inherit()]
    } else {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(c.log_path(&ctx))
            .map_err(|e| container::ContainerError::io("cannot open", c.log_path(&ctx), e))?;
        let log2 = log.try_clone().map_err(|e| container::ContainerError::io("cannot open", c.log_path(&ctx), e))?;
        [Stdio::null(), Stdio::from(log), Stdio::from(log2)]
    };
    let started = crate::runtime::spawn(&ctx.idmap, &dir, stdio)?;
    let mut child = started.child;
    if let Some((code, msg)) = started.failed {
        let _ = child.wait();
        container::set_exited(&conn, &c.id, Some(code as i64))?;
        tell(fd, &format!("err {code} {msg}"));
        if c.kept.rm {
            let _ = lifecycle::remove(&ctx, &c.id, true);
        }
        return Ok(code);
    }
    container::set_running(&conn, &c.id, started.pid as i64, std::process::id() as i64)?;
    drop(conn);
    tell(fd, &format!("ok {}", started.pid));
    let code = loop {
        match child.wait() {
            Ok(st) => {
                use std::os::unix::process::ExitStatusExt;
                break st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0)) as u8;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break 125,
        }
    };
    // Reap whatever else was reparented to us.
    while nix::sys::wait::waitpid(None, Some(nix::sys::wait::WaitPidFlag::WNOHANG))
        .is_ok_and(|s| s != nix::sys::wait::WaitStatus::StillAlive)
    {}
    let conn = ctx.db()?;
    container::set_exited(&conn, &c.id, Some(code as i64))?;
    if c.kept.rm {
        lifecycle::remove(&ctx, &c.id, true)?;
    }
    Ok(code)
}
