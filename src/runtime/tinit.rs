//! `--init`: kiste itself stays as the container's PID 1, forks the command, forwards the
//! signals it receives to it, reaps every zombie reparented to it, and exits with the command's
//! status (128 + N when a signal killed it). Owns nothing else: the process attributes are set
//! by process.rs before it gets here, so init and command share uid, capabilities and limits.

use super::init::SetupError;
use super::process::exec_error;
use nix::sys::signal::{SigSet, SigmaskHow, Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::{ForkResult, Pid, fork};
use std::ffi::CString;
use std::io::Read;

pub fn run(
    path: &CString,
    args: &[CString],
    env: &[CString],
    cmd: &str,
    close: &[i32],
) -> Result<std::convert::Infallible, SetupError> {
    // Every signal waits in the queue for sigwait; the command gets the old mask back.
    let mut old = SigSet::empty();
    nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::all()), Some(&mut old))
        .map_err(|e| SetupError::new(format!("init: sigprocmask: {e}")))?;
    let (r, w) =
        nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| SetupError::new(format!("init: pipe: {e}")))?;
    let terminal = nix::unistd::isatty(std::io::stdin()).unwrap_or(false);
    // Named before the fork: the command may look at PID 1 at once.
    prctl_name();
    // SAFETY: PID 1 is single-threaded; the child only execs or writes an errno and exits.
    match unsafe { fork() } {
        Err(e) => Err(SetupError::new(format!("init: fork: {e}"))),
        Ok(ForkResult::Child) => {
            drop(r);
            // Its own process group in the foreground: Ctrl-C reaches the command once.
            let _ = nix::unistd::setpgid(Pid::from_raw(0), Pid::from_raw(0));
            if terminal {
                let _ = nix::unistd::tcsetpgrp(std::io::stdin(), nix::unistd::getpid());
            }
            let _ = nix::sys::signal::sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
            let e = nix::unistd::execve(path, args, env).unwrap_err();
            let _ = nix::unistd::write(&w, &(e as i32).to_ne_bytes());
            // SAFETY: leave the forked child without running destructors.
            unsafe { libc::_exit(if e == nix::errno::Errno::ENOENT { 127 } else { 126 }) }
        }
        Ok(ForkResult::Parent { child }) => {
            drop(w);
            let _ = nix::unistd::setpgid(child, child);
            let mut buf = [0u8; 4];
            let mut f = std::fs::File::from(r);
            if let Ok(4) = f.read(&mut buf) {
                let _ = waitpid(child, None);
                return Err(exec_error(cmd, nix::errno::Errno::from_raw(i32::from_ne_bytes(buf))));
            }
            drop(f);
            for fd in close {
                // SAFETY: closing descriptors this process owns; nothing else uses them.
                unsafe { libc::close(*fd) };
            }
            let code = supervise(child);
            // SAFETY: exit without destructors; the kernel ends the rest of the namespace.
            unsafe { libc::_exit(code) }
        }
    }
}

fn prctl_name() {
    let name = c"kiste-init";
    // SAFETY: PR_SET_NAME with a NUL-terminated string.
    unsafe { libc::prctl(libc::PR_SET_NAME, name.as_ptr(), 0, 0, 0) };
}

/// Waits for signals until `child` exits; returns its exit code.
fn supervise(child: Pid) -> i32 {
    let all = SigSet::all();
    loop {
        let Ok(sig) = all.wait() else { continue };
        if sig != Signal::SIGCHLD {
            let _ = kill(child, sig);
            continue;
        }
        loop {
            match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) | Err(_) => break,
                Ok(st) => {
                    if let Some((pid, code)) = crate::util::ended(&st)
                        && pid == child
                    {
                        return code as i32;
                    }
                }
            }
        }
    }
}
