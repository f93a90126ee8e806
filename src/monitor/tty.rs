//! The monitor's side of a container's terminal (-t): the caller's terminal in raw mode
//! while attached, window-size propagation (SIGWINCH) and the copy loops between the caller
//! (or the log) and the master that PID 1 sent us.

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use std::io::{Read, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::sync::atomic::{AtomicBool, Ordering};

static WINCH: AtomicBool = AtomicBool::new(false);

extern "C" fn on_winch(_: libc::c_int) {
    WINCH.store(true, Ordering::SeqCst);
}

/// The size of the terminal on `fd`.
pub fn winsize(fd: BorrowedFd) -> Option<libc::winsize> {
    let mut ws = libc::winsize { ws_row: 0, ws_col: 0, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCGWINSZ with a valid winsize struct.
    (unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCGWINSZ, &mut ws) } == 0).then_some(ws)
}

/// Resizes the terminal on `fd`.
pub fn set_winsize(fd: BorrowedFd, ws: &libc::winsize) {
    // SAFETY: TIOCSWINSZ with a valid winsize struct.
    unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSWINSZ, ws) };
}

fn copy_winsize(from: BorrowedFd, to: BorrowedFd) {
    if let Some(ws) = winsize(from) {
        set_winsize(to, &ws);
    }
}

/// How a copy of our stdin ended.
#[derive(Debug, PartialEq, Eq)]
pub enum InputEnd {
    Eof,
    /// The detach keys were typed.
    Detached,
    /// The other side stopped taking input.
    Broken,
}

/// Copies our stdin to `write` until end of input, a failed write, or the detach sequence
/// `keys` (none: never); the bytes of the sequence are not passed on.
pub fn copy_stdin(keys: Vec<u8>, mut write: impl FnMut(&[u8]) -> std::io::Result<()>) -> InputEnd {
    let mut scan = super::attach::DetachScanner::new(keys);
    let mut stdin = std::io::stdin().lock();
    let mut buf = [0u8; 8192];
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) | Err(_) => return InputEnd::Eof,
            Ok(n) => n,
        };
        let (pass, done) = scan.feed(&buf[..n]);
        if !pass.is_empty() && write(&pass).is_err() {
            return InputEnd::Broken;
        }
        if done {
            return InputEnd::Detached;
        }
    }
}

/// Sizes the container's terminal like our stdin, when that is a terminal.
pub fn size_from_stdin(master: &OwnedFd) {
    let stdin = std::io::stdin();
    if nix::unistd::isatty(stdin.as_fd()).unwrap_or(false) {
        copy_winsize(stdin.as_fd(), master.as_fd());
    }
}

/// The caller's terminal in raw mode until dropped.
pub struct RawMode {
    saved: nix::sys::termios::Termios,
}

impl RawMode {
    pub fn enter() -> Option<RawMode> {
        use nix::sys::termios::{SetArg, cfmakeraw, tcgetattr, tcsetattr};
        let stdin = std::io::stdin();
        let saved = tcgetattr(stdin.as_fd()).ok()?;
        let mut raw = saved.clone();
        cfmakeraw(&mut raw);
        tcsetattr(stdin.as_fd(), SetArg::TCSANOW, &raw).ok()?;
        Some(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = nix::sys::termios::tcsetattr(std::io::stdin().as_fd(), nix::sys::termios::SetArg::TCSANOW, &self.saved);
    }
}

/// Copies our stdin to the master in a thread (when `input`), and the master's output to
/// `out` until the container side closes. Resizes the pty when our terminal is resized.
pub fn pump(master: OwnedFd, input: bool, mut out: impl Write) {
    if input && let Ok(m) = master.try_clone() {
        std::thread::spawn(move || {
            let mut w = std::fs::File::from(m);
            if copy_stdin(Vec::new(), |b| w.write_all(b)) == InputEnd::Eof {
                // End of input: send EOF (^D) as a terminal would.
                let _ = w.write_all(&[4]);
            }
        });
    }
    // SAFETY: the handler only stores to an atomic.
    unsafe { libc::signal(libc::SIGWINCH, on_winch as *const () as libc::sighandler_t) };
    let mut r = std::fs::File::from(master);
    let mut buf = [0u8; 8192];
    loop {
        if WINCH.swap(false, Ordering::SeqCst) {
            copy_winsize(std::io::stdin().as_fd(), r.as_fd());
        }
        let mut fds = [PollFd::new(r.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(200u16)) {
            Ok(0) | Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
            Ok(_) => {}
        }
        match r.read(&mut buf) {
            // EIO: every slave descriptor is closed, the container has gone.
            Ok(0) | Err(_) => return,
            Ok(n) => {
                if out.write_all(&buf[..n]).and_then(|_| out.flush()).is_err() {
                    return;
                }
            }
        }
    }
}
