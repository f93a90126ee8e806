//! Attaching to a terminal container that runs detached (`run -dt`, `attach`): the socket the
//! monitor serves in the container's run-time directory, its small framed protocol, the client side
//! used by `kiste attach`, and detach keys. Knows nothing about records or images.
//!
//! Frames are `[kind u8][len u32 LE][payload]`. Client to monitor: INPUT bytes for the
//! terminal, RESIZE (rows u16, cols u16). Monitor to client: OUTPUT bytes, then EXIT (the
//! exit code, one byte) when the container has ended.

use std::io::{Read, Write};
use std::os::fd::AsFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;

pub const SOCKET: &str = "attach.sock";
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

pub const INPUT: u8 = 0;
pub const RESIZE: u8 = 1;
pub const OUTPUT: u8 = 0;
pub const EXIT: u8 = 2;

pub fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(5 + payload.len());
    v.push(kind);
    v.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    v.extend_from_slice(payload);
    v
}

/// Splits complete frames off the front of `buf`.
pub fn take_frames(buf: &mut Vec<u8>) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    loop {
        if buf.len() < 5 {
            return out;
        }
        let len = u32::from_le_bytes([buf[1], buf[2], buf[3], buf[4]]) as usize;
        if buf.len() < 5 + len {
            return out;
        }
        let payload = buf[5..5 + len].to_vec();
        out.push((buf[0], payload));
        buf.drain(..5 + len);
    }
}

/// Parses Docker's detach-key syntax ("ctrl-p,ctrl-q", "a,ctrl-@"); "" disables detaching.
pub fn parse_detach_keys(s: &str) -> Result<Vec<u8>, String> {
    if s.is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|k| {
            if let Some(c) = k.strip_prefix("ctrl-") {
                let c = c.as_bytes();
                if c.len() == 1 {
                    let b = c[0].to_ascii_lowercase();
                    match b {
                        b'a'..=b'z' => return Ok(b - b'a' + 1),
                        b'@' => return Ok(0),
                        b'[' => return Ok(27),
                        b'\\' => return Ok(28),
                        b']' => return Ok(29),
                        b'^' => return Ok(30),
                        b'_' => return Ok(31),
                        _ => {}
                    }
                }
            } else if k.len() == 1 {
                return Ok(k.as_bytes()[0]);
            }
            Err(format!("invalid detach keys \"{s}\": use a comma-separated list such as ctrl-p,ctrl-q"))
        })
        .collect()
}

/// Watches input for the detach sequence.
pub struct DetachScanner {
    keys: Vec<u8>,
    matched: usize,
}

impl DetachScanner {
    pub fn new(keys: Vec<u8>) -> DetachScanner {
        DetachScanner { keys, matched: 0 }
    }

    /// Returns the bytes to pass on, and whether the sequence completed. Bytes of a partial
    /// match are held back until it fails, then passed on.
    pub fn feed(&mut self, input: &[u8]) -> (Vec<u8>, bool) {
        if self.keys.is_empty() {
            return (input.to_vec(), false);
        }
        let mut out = Vec::new();
        for &b in input {
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    return (out, true);
                }
            } else {
                out.extend_from_slice(&self.keys[..self.matched]);
                self.matched = 0;
                if b == self.keys[0] {
                    self.matched = 1;
                } else {
                    out.push(b);
                }
            }
        }
        (out, false)
    }
}

/// A RESIZE frame with our terminal's size.
fn winsize_frame() -> Option<Vec<u8>> {
    let ws = super::tty::winsize(std::io::stdin().as_fd())?;
    let mut p = ws.ws_row.to_le_bytes().to_vec();
    p.extend_from_slice(&ws.ws_col.to_le_bytes());
    Some(frame(RESIZE, &p))
}

/// What ended an attach session.
pub enum Ended {
    Exited(u8),
    Detached,
    /// The monitor went away without telling an exit code.
    Lost,
}

/// Connects to a container's attach socket.
fn connect(bundle: &Path) -> std::io::Result<UnixStream> {
    let dir = crate::util::DirHandle::open(bundle)?;
    UnixStream::connect(dir.path(SOCKET))
}

/// The monitor of a detached `-i` container: INPUT frames of each client, in turn, go to the
/// container's stdin.
pub fn serve_stdin(listener: UnixListener, stdin: std::os::fd::OwnedFd) {
    let _ = listener.set_nonblocking(false);
    let mut w = std::fs::File::from(stdin);
    for c in listener.incoming() {
        let Ok(mut c) = c else { continue };
        let mut pending = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match c.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => pending.extend_from_slice(&buf[..n]),
            }
            for (kind, payload) in take_frames(&mut pending) {
                if kind == INPUT && w.write_all(&payload).is_err() {
                    return; // the container closed its stdin
                }
            }
        }
    }
}

/// `attach` to a detached `-i` container without a terminal: our stdin goes to its stdin on a
/// thread (the caller follows the output from the log).
pub fn forward_stdin(bundle: &Path) -> std::io::Result<()> {
    let mut sock = connect(bundle)?;
    std::thread::spawn(move || super::tty::copy_stdin(Vec::new(), |b| sock.write_all(&frame(INPUT, b))));
    Ok(())
}

/// `kiste attach` to a terminal container: our terminal raw, input through the detach-key
/// scanner to the monitor, output to stdout, until the container exits or we detach.
pub fn client(bundle: &Path, stdin: bool, keys: Vec<u8>) -> std::io::Result<Ended> {
    let sock = connect(bundle)?;
    let tty_in = nix::unistd::isatty(std::io::stdin().as_fd()).unwrap_or(false);
    let raw = if stdin && tty_in { super::tty::RawMode::enter() } else { None };
    let detached = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    if let Some(f) = winsize_frame() {
        (&sock).write_all(&f)?;
    }
    // SIGWINCH is ignored by default and so dropped unless blocked in every thread: block it
    // here (the threads below inherit that) and wait for it in one of them.
    let mut winch = nix::sys::signal::SigSet::empty();
    winch.add(nix::sys::signal::Signal::SIGWINCH);
    let old_mask = winch.thread_swap_mask(nix::sys::signal::SigmaskHow::SIG_BLOCK).ok();
    if stdin {
        let mut w = sock.try_clone()?;
        let flag = detached.clone();
        std::thread::spawn(move || {
            if super::tty::copy_stdin(keys, |b| w.write_all(&frame(INPUT, b))) == super::tty::InputEnd::Detached {
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
                let _ = w.shutdown(std::net::Shutdown::Both);
            }
        });
    }
    if tty_in {
        let mut w = sock.try_clone()?;
        std::thread::spawn(move || {
            while winch.wait().is_ok() {
                if let Some(f) = winsize_frame()
                    && w.write_all(&f).is_err()
                {
                    return;
                }
            }
        });
    }
    let mut r = &sock;
    let mut out = std::io::stdout().lock();
    let mut pending = Vec::new();
    let mut buf = [0u8; 8192];
    let ended = loop {
        let n = match r.read(&mut buf) {
            Ok(0) | Err(_) => break Ended::Lost,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        let mut end = None;
        for (kind, payload) in take_frames(&mut pending) {
            match kind {
                OUTPUT => {
                    let _ = out.write_all(&payload).and_then(|_| out.flush());
                }
                EXIT => end = Some(Ended::Exited(payload.first().copied().unwrap_or(0))),
                _ => {}
            }
        }
        if let Some(e) = end {
            break e;
        }
    };
    drop(raw);
    if let Some(m) = old_mask {
        let _ = m.thread_set_mask();
    }
    if detached.load(std::sync::atomic::Ordering::SeqCst) {
        return Ok(Ended::Detached);
    }
    Ok(ended)
}

/// Binds the attach socket in the run-time directory (before the container starts, so that a client
/// told "started" can connect at once).
pub fn listen(bundle: &Path) -> std::io::Result<UnixListener> {
    let _ = std::fs::remove_file(bundle.join(SOCKET));
    let dir = crate::util::DirHandle::open(bundle)?;
    let l = UnixListener::bind(dir.path(SOCKET))?;
    l.set_nonblocking(true)?;
    Ok(l)
}

/// The monitor's side for a detached terminal container: copies the master's output to the
/// log and to every attached client, and clients' input and window sizes to the master, until
/// the container side closes. Returns the clients still attached, to tell them the exit code.
///
/// With `await_client` (an attached `run -t`), the container's output waits in the pty until
/// the first client connects, so that nothing it prints is missed; after 10 s without one
/// the output goes to the log alone.
pub fn serve(
    master: std::os::fd::OwnedFd,
    mut log: std::fs::File,
    bundle: &Path,
    listener: UnixListener,
    await_client: bool,
) -> Vec<UnixStream> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    struct Client {
        sock: UnixStream,
        pending: Vec<u8>,
        gone: bool,
    }
    // Input goes to the terminal on its own thread: a container that does not read its input
    // must not stop this loop from draining its output.
    let (input, queued) = std::sync::mpsc::channel::<Vec<u8>>();
    if let Ok(w) = master.try_clone() {
        std::thread::spawn(move || {
            let mut w = std::fs::File::from(w);
            for data in queued {
                if w.write_all(&data).is_err() {
                    return;
                }
            }
        });
    }
    let mut m = std::fs::File::from(master);
    let mut lines = super::logfile::LineWriter::new("stdout");
    let mut clients: Vec<Client> = Vec::new();
    let mut buf = [0u8; 8192];
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut waiting = await_client;
    loop {
        if waiting && (!clients.is_empty() || std::time::Instant::now() >= give_up) {
            waiting = false;
        }
        let (master_events, ready_listener, ready_clients) = {
            let watch = if waiting { PollFlags::empty() } else { PollFlags::POLLIN };
            let mut fds = vec![PollFd::new(m.as_fd(), watch), PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
            fds.extend(clients.iter().map(|c| PollFd::new(c.sock.as_fd(), PollFlags::POLLIN)));
            let timeout = if waiting { PollTimeout::from(100u16) } else { PollTimeout::NONE };
            match poll(&mut fds, timeout) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => break,
            }
            let events = |f: &PollFd| f.revents().unwrap_or(PollFlags::empty());
            let rc: Vec<bool> = fds[2..].iter().map(|f| !events(f).is_empty()).collect();
            (events(&fds[0]), !events(&fds[1]).is_empty(), rc)
        };
        if !master_events.is_empty() {
            // While waiting, only a hang-up shows: the container ended before anyone came.
            match m.read(&mut buf) {
                // EIO: every slave descriptor is closed, the container has gone.
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    let _ = lines.write(&mut log, &buf[..n]);
                    let f = frame(OUTPUT, &buf[..n]);
                    for c in clients.iter_mut().filter(|c| !c.gone) {
                        c.gone = c.sock.write_all(&f).is_err();
                    }
                }
            }
        }
        for (c, _) in clients.iter_mut().zip(&ready_clients).filter(|(c, ready)| **ready && !c.gone) {
            let n = match c.sock.read(&mut buf) {
                Ok(0) | Err(_) => {
                    c.gone = true;
                    continue;
                }
                Ok(n) => n,
            };
            c.pending.extend_from_slice(&buf[..n]);
            for (kind, payload) in take_frames(&mut c.pending) {
                match kind {
                    INPUT => {
                        let _ = input.send(payload);
                    }
                    RESIZE if payload.len() == 4 => {
                        let ws = libc::winsize {
                            ws_row: u16::from_le_bytes([payload[0], payload[1]]),
                            ws_col: u16::from_le_bytes([payload[2], payload[3]]),
                            ws_xpixel: 0,
                            ws_ypixel: 0,
                        };
                        super::tty::set_winsize(m.as_fd(), &ws);
                    }
                    _ => {}
                }
            }
        }
        // Removed only now: the readiness list above matched the clients by position.
        clients.retain(|c| !c.gone);
        if ready_listener {
            while let Ok((sock, _)) = listener.accept() {
                let _ = sock.set_nonblocking(false);
                // A client that stops reading must not stall the container's output.
                let _ = sock.set_write_timeout(Some(std::time::Duration::from_secs(2)));
                clients.push(Client { sock, pending: Vec::new(), gone: false });
            }
        }
    }
    let _ = lines.flush(&mut log);
    let _ = std::fs::remove_file(bundle.join(SOCKET));
    clients.into_iter().map(|c| c.sock).collect()
}

/// Tells attached clients the exit code.
pub fn tell_exit(clients: Vec<UnixStream>, code: u8) {
    for mut c in clients {
        let _ = c.write_all(&frame(EXIT, &[code]));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_like_docker() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").unwrap(), vec![16, 17]);
        assert_eq!(parse_detach_keys("a,ctrl-@").unwrap(), vec![b'a', 0]);
        assert_eq!(parse_detach_keys("").unwrap(), Vec::<u8>::new());
        assert!(parse_detach_keys("ctrl-pq").is_err());
        assert!(parse_detach_keys("ab").is_err());
    }

    #[test]
    fn scanner_holds_partial_matches_and_detects_the_sequence() {
        let mut s = DetachScanner::new(vec![16, 17]);
        assert_eq!(s.feed(b"ab\x10"), (b"ab".to_vec(), false));
        assert_eq!(s.feed(b"c"), (b"\x10c".to_vec(), false));
        assert_eq!(s.feed(b"\x10\x10"), (b"\x10".to_vec(), false));
        assert_eq!(s.feed(b"\x11rest"), (Vec::new(), true));
    }

    #[test]
    fn frames_round_trip_in_pieces() {
        let mut buf = frame(OUTPUT, b"hello");
        buf.extend(frame(EXIT, &[3]));
        let mut part = buf[..7].to_vec();
        assert!(take_frames(&mut part).is_empty());
        part.extend_from_slice(&buf[7..]);
        assert_eq!(take_frames(&mut part), vec![(OUTPUT, b"hello".to_vec()), (EXIT, vec![3])]);
        assert!(part.is_empty());
    }
}
