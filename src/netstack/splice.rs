//! Published TCP ports on a host loopback address, served without the user-mode stack: each
//! connection from the host's loopback is joined by splice(2) to one the relay opens to the
//! container's own loopback, as pasta splices local connections. libslirp copies and
//! checksums every segment and tops out near 1 GB/s on one core; two kernel sockets and a
//! pipe do more than twice that. The container sees the client as 127.0.0.1, the loopback
//! address it came from (other clients, through the stack, keep their own address).
//!
//! The relay is a child of the network process, forked before that confines itself, with the
//! listening sockets it bound. When PID 1 exists it gets PID 1's pidfd, joins the container's
//! user and network namespaces through it (new sockets are then made inside), confines
//! itself as the stack does (sandbox.rs, with a filter of its own) and serves until PID 1
//! ends. Knows nothing of containers or the state database.

use super::Forward;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

/// Whether forward `f` is served by the relay (TCP on an IPv4 loopback address).
pub fn is_local(f: &Forward) -> bool {
    !f.udp && matches!(f.host.ip(), IpAddr::V4(a) if a.is_loopback())
}

/// The relay, seen from the network process: its control socket (PID 1's pidfd goes there).
pub struct Relay {
    ctl: UnixStream,
}

impl Relay {
    /// Hands the relay PID 1's pidfd: it joins PID 1's namespaces and serves.
    pub fn go(&self, pidfd: RawFd) -> io::Result<()> {
        crate::fdpass::send(self.ctl.as_raw_fd(), b"g", &[pidfd])
    }
}

/// Binds the host side of each local forward (`(index, forward)`) and forks the relay with
/// them; Err names the forward whose port could not be bound. None when there is none.
pub fn start(forwards: &[(usize, &Forward)]) -> Result<Option<Relay>, super::stack::SetupFailure> {
    use super::stack::SetupFailure;
    if forwards.is_empty() {
        return Ok(None);
    }
    let mut listeners = Vec::new();
    for (i, f) in forwards {
        listeners.push((listen(&f.host).map_err(|e| SetupFailure::Port(*i, e))?, f.guest_port));
    }
    let failed = |what: &str| SetupFailure::Other(format!("loopback relay: {what}: {}", io::Error::last_os_error()));
    let (ours, theirs) = UnixStream::pair().map_err(|_| failed("socketpair"))?;
    // SAFETY: the network process is single-threaded here; the child runs our code only
    // and leaves with _exit.
    match unsafe { libc::fork() } {
        -1 => Err(failed("fork")),
        0 => {
            drop(ours);
            let code = child(theirs, listeners);
            // SAFETY: ending the forked child without running the parent's exit handlers.
            unsafe { libc::_exit(code) }
        }
        _ => Ok(Some(Relay { ctl: ours })),
    }
}

/// A listening socket on `addr` (SO_REUSEADDR, as libslirp's forwards), non-blocking.
fn listen(addr: &SocketAddr) -> io::Result<OwnedFd> {
    let l = std::net::TcpListener::bind(addr)?;
    l.set_nonblocking(true)?;
    Ok(OwnedFd::from(l))
}

/// The forked relay: closes what it did not bring, waits for PID 1's pidfd, joins PID 1's
/// namespaces, confines itself and serves. Its exit code: 0, or 1 after a message.
fn child(ctl: UnixStream, listeners: Vec<(OwnedFd, u16)>) -> i32 {
    // SAFETY: prctl with integer arguments: the relay dies with the network process.
    unsafe { libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) };
    let mut keep: Vec<RawFd> = listeners.iter().map(|(l, _)| l.as_raw_fd()).collect();
    keep.push(ctl.as_raw_fd());
    super::close_others(&keep);
    let clean = crate::pages::own_clean_file_mappings();
    let pidfd = match crate::fdpass::recv(ctl.as_raw_fd(), &mut [0u8; 1]) {
        Ok((_, fds)) if fds.len() == 1 => fds.into_iter().next(),
        _ => return 0, // the start was called off
    };
    let Some(pidfd) = pidfd else { return 0 };
    drop(ctl);
    // Each connection holds six descriptors.
    crate::util::raise_fd_limit();
    if let Err(e) = join(&pidfd).and_then(|()| super::sandbox::enter_with(&filter())) {
        eprintln!("kiste network: loopback relay: {e}");
        return 1;
    }
    crate::pages::release(&clean);
    match Relayer::new(listeners, pidfd).and_then(Relayer::run) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("kiste network: loopback relay: {e}");
            1
        }
    }
}

/// Joins PID 1's user and network namespaces (only the network one when PID 1 shares ours).
fn join(pidfd: &OwnedFd) -> Result<(), String> {
    // SAFETY: setns on a pidfd we own, in a single-threaded process.
    let both = unsafe { libc::setns(pidfd.as_raw_fd(), libc::CLONE_NEWUSER | libc::CLONE_NEWNET) };
    if both == 0 {
        return Ok(());
    }
    let e = io::Error::last_os_error();
    // SAFETY: as above.
    if e.raw_os_error() == Some(libc::EINVAL) && unsafe { libc::setns(pidfd.as_raw_fd(), libc::CLONE_NEWNET) } == 0 {
        return Ok(());
    }
    Err(format!("cannot join the container's network: {e}"))
}

/// The relay's allowlist: the stack's, without sendto/recvfrom's datagrams or files, with
/// splice, pipes and epoll.
fn filter() -> oci_spec::runtime::LinuxSeccomp {
    use super::sandbox::{allow, allow_if};
    let exec = libc::PROT_EXEC as u64;
    let mut calls = vec![
        allow(&["read", "write", "close", "splice", "pipe2", "shutdown", "connect", "accept4"]),
        allow(&["getsockopt", "setsockopt", "getsockname", "getpeername"]),
        allow(&["epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait"]),
        allow(&["brk", "munmap", "mremap", "madvise", "futex", "rt_sigreturn", "rt_sigprocmask"]),
        allow(&["sigaltstack", "restart_syscall", "getpid", "gettid", "exit", "exit_group", "clock_gettime"]),
        allow_if(&["mmap", "mprotect"], 2, Some(exec), 0),
        allow_if(&["socket"], 0, None, libc::AF_INET as u64),
    ];
    for cmd in [libc::F_GETFL, libc::F_SETFL, libc::F_GETFD, libc::F_SETFD] {
        calls.push(allow_if(&["fcntl"], 1, None, cmd as u64));
    }
    super::sandbox::allowlist(calls)
}

/// Bytes one direction asks to move per splice. The pipe keeps its default size (64 kB):
/// bigger pipes count against the user's pipe-user-pages-soft, shared with all of the
/// user's processes.
const PIPE: usize = 1 << 20;

/// One direction of a connection: from one socket through a pipe to the other.
struct Flow {
    pipe_r: OwnedFd,
    pipe_w: OwnedFd,
    /// Bytes in the pipe, not yet written on.
    pending: usize,
    /// The source has ended (EOF); once the pipe is empty the other side is shut for writing.
    eof: bool,
    shut: bool,
}

impl Flow {
    fn new() -> io::Result<Flow> {
        use nix::fcntl::OFlag;
        let (pipe_r, pipe_w) = nix::unistd::pipe2(OFlag::O_NONBLOCK | OFlag::O_CLOEXEC)?;
        Ok(Flow { pipe_r, pipe_w, pending: 0, eof: false, shut: false })
    }

    /// Moves what it can from `src` to `dst`; Err on a broken connection. `urgent`: epoll
    /// reported TCP urgent data, where splice stops.
    fn pump(&mut self, src: RawFd, dst: RawFd, urgent: bool) -> io::Result<()> {
        let flags = libc::SPLICE_F_NONBLOCK | libc::SPLICE_F_MOVE;
        loop {
            if self.pending > 0 {
                match splice(self.pipe_r.as_raw_fd(), dst, self.pending, flags)? {
                    Some(n) => self.pending -= n,
                    None => return Ok(()), // dst is full: wait until it is writable
                }
                continue;
            }
            if self.eof {
                if !self.shut {
                    // SAFETY: shutdown on our own socket.
                    unsafe { libc::shutdown(dst, libc::SHUT_WR) };
                    self.shut = true;
                }
                return Ok(());
            }
            let spliced = match splice(src, self.pipe_w.as_raw_fd(), PIPE, flags)? {
                // Splice also says 0 at urgent data after which the peer ended: read says.
                Some(0) => self.read_through(src)?,
                None if urgent => self.read_through(src)?,
                got => got,
            };
            match spliced {
                Some(0) => self.eof = true,
                Some(n) => self.pending = n,
                None => return Ok(()), // nothing to read
            }
        }
    }

    /// Moves up to a page from `src` into the (empty) pipe with read and write: splice stops
    /// at TCP urgent data, which read steps over as the direct reader's read would. Some(0)
    /// at the end, None when it would block.
    fn read_through(&mut self, src: RawFd) -> io::Result<Option<usize>> {
        let mut page = [0u8; 4096];
        // SAFETY: read into a buffer of the length given.
        let n = unsafe { libc::read(src, page.as_mut_ptr().cast(), page.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.kind() {
                io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
                _ => Err(e),
            };
        }
        let n = n as usize;
        // SAFETY: write from the buffer just filled. An empty pipe always takes a page whole.
        let w = unsafe { libc::write(self.pipe_w.as_raw_fd(), page.as_ptr().cast(), n) };
        if n > 0 && w != n as isize {
            return Err(io::Error::other("an empty pipe did not take a page"));
        }
        Ok(Some(n))
    }
}

/// splice(2): Some(bytes moved), None when it would block.
fn splice(from: RawFd, to: RawFd, len: usize, flags: libc::c_uint) -> io::Result<Option<usize>> {
    // SAFETY: splice between our own descriptors, no offsets.
    let n = unsafe { libc::splice(from, std::ptr::null_mut(), to, std::ptr::null_mut(), len, flags) };
    if n >= 0 {
        return Ok(Some(n as usize));
    }
    let e = io::Error::last_os_error();
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::Interrupted => Ok(None),
        _ => Err(e),
    }
}

/// A client's connection and the relay's own to the container.
struct Pair {
    client: OwnedFd,
    inner: OwnedFd,
    /// The connection to the container is still being made.
    connecting: bool,
    /// client → inner, inner → client.
    flows: [Flow; 2],
}

impl Pair {
    fn done(&self) -> bool {
        self.flows.iter().all(|f| f.shut)
    }

    /// Makes both closes resets: the client and the container learn the other side broke off.
    fn reset(&self) {
        reset(&self.client);
        reset(&self.inner);
    }

    /// Finishes the connect or moves data both ways, each as far as it goes (the sockets are
    /// watched edge-triggered); false once the pair is to be closed.
    fn step(&mut self, events: u32) -> bool {
        let (c, i) = (self.client.as_raw_fd(), self.inner.as_raw_fd());
        if events & libc::EPOLLERR as u32 != 0 {
            if self.connecting {
                self.reset();
            } else {
                self.break_off();
            }
            return false;
        }
        if self.connecting {
            if !connected(i) {
                // Still connecting, or refused (SO_ERROR set).
                if socket_error(i).is_ok_and(|e| e == 0) {
                    return true;
                }
                reset(&self.client);
                return false;
            }
            self.connecting = false;
        }
        let urgent = events & libc::EPOLLPRI as u32 != 0;
        let out = self.flows[0].pump(c, i, urgent);
        let back = self.flows[1].pump(i, c, urgent);
        if out.is_err() || back.is_err() {
            self.break_off();
            return false;
        }
        !self.done()
    }

    /// One side broke off: what either side sent before goes on first, as far as it can
    /// without waiting (a server's answer before its reset, say, as a direct client would
    /// read it), then both closes are resets.
    fn break_off(&mut self) {
        let (c, i) = (self.client.as_raw_fd(), self.inner.as_raw_fd());
        let _ = self.flows[1].pump(i, c, false);
        let _ = self.flows[0].pump(c, i, false);
        self.reset();
    }
}

/// Whether socket `fd` has a peer (false while its connect is under way or has failed).
fn connected(fd: RawFd) -> bool {
    // SAFETY: getpeername into storage of the size given.
    unsafe {
        let mut ss: libc::sockaddr_storage = std::mem::zeroed();
        let mut len = std::mem::size_of::<libc::sockaddr_storage>() as libc::socklen_t;
        libc::getpeername(fd, (&mut ss as *mut libc::sockaddr_storage).cast(), &mut len) == 0
    }
}

/// Tokens above the connections' (2 per pair slot).
const PIDFD: u64 = u64::MAX;
const LISTENER: u64 = 1 << 62;
const EDGE_IN: u32 = (libc::EPOLLIN | libc::EPOLLET) as u32;
const EDGE_BOTH: u32 = (libc::EPOLLIN | libc::EPOLLPRI | libc::EPOLLOUT | libc::EPOLLRDHUP | libc::EPOLLET) as u32;

/// The relay's event loop.
struct Relayer {
    epoll: OwnedFd,
    listeners: Vec<(OwnedFd, u16)>,
    pidfd: OwnedFd,
    pairs: Vec<Option<Pair>>,
    /// Slots open for new pairs.
    free: Vec<usize>,
    /// Slots closed during the current batch of events: reused only after it, so that an
    /// event already fetched for the old pair never reaches a new one.
    retired: Vec<usize>,
    /// An accept failed for want of descriptors or memory.
    starved: bool,
}

impl Relayer {
    fn new(listeners: Vec<(OwnedFd, u16)>, pidfd: OwnedFd) -> io::Result<Relayer> {
        // SAFETY: epoll_create1 returns a new descriptor or -1.
        let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if ep < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: the kernel just made it; nothing else owns it.
        let epoll = unsafe { OwnedFd::from_raw_fd(ep) };
        let r = Relayer {
            epoll,
            listeners,
            pidfd,
            pairs: Vec::new(),
            free: Vec::new(),
            retired: Vec::new(),
            starved: false,
        };
        r.ctl(libc::EPOLL_CTL_ADD, r.pidfd.as_raw_fd(), libc::EPOLLIN as u32, PIDFD)?;
        for (i, (l, _)) in r.listeners.iter().enumerate() {
            // Edge-triggered: a failed accept (out of descriptors) leaves the connection in
            // the backlog until a pair closes, rather than waking the loop at once.
            r.ctl(libc::EPOLL_CTL_ADD, l.as_raw_fd(), EDGE_IN, LISTENER + i as u64)?;
        }
        Ok(r)
    }

    fn ctl(&self, op: libc::c_int, fd: RawFd, events: u32, token: u64) -> io::Result<()> {
        let mut ev = libc::epoll_event { events, u64: token };
        // SAFETY: epoll_ctl on our descriptors with a valid event.
        if unsafe { libc::epoll_ctl(self.epoll.as_raw_fd(), op, fd, &mut ev) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    /// Serves until PID 1 has ended.
    fn run(mut self) -> io::Result<()> {
        let mut events = vec![libc::epoll_event { events: 0, u64: 0 }; 64];
        loop {
            // SAFETY: the array is valid for its length.
            let n = unsafe { libc::epoll_wait(self.epoll.as_raw_fd(), events.as_mut_ptr(), 64, -1) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            for ev in events.iter().take(n as usize) {
                // Copies: the struct is packed.
                let (token, what) = (ev.u64, ev.events);
                match token {
                    PIDFD => return Ok(()),
                    t if t >= LISTENER => self.accept((t - LISTENER) as usize),
                    t => self.serve((t / 2) as usize, what),
                }
            }
            let closed = !self.retired.is_empty();
            self.free.append(&mut self.retired);
            if self.starved && closed {
                self.starved = false;
                for i in 0..self.listeners.len() {
                    self.accept(i);
                }
            }
        }
    }

    /// Accepts what waits on listener `i`, each with a connection of its own to the container.
    fn accept(&mut self, i: usize) {
        let (l, port) = (self.listeners[i].0.as_raw_fd(), self.listeners[i].1);
        loop {
            // SAFETY: accept4 without the peer's address.
            let fd = unsafe {
                libc::accept4(l, std::ptr::null_mut(), std::ptr::null_mut(), libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC)
            };
            if fd < 0 {
                match io::Error::last_os_error().raw_os_error() {
                    Some(libc::EINTR | libc::ECONNABORTED) => continue,
                    Some(libc::EAGAIN) => return,
                    // Out of descriptors or memory: the connection waits in the backlog, taken
                    // once a pair has closed (no new edge may come for it).
                    _ => {
                        self.starved = true;
                        return;
                    }
                }
            }
            // SAFETY: the kernel just made it; nothing else owns it.
            let client = unsafe { OwnedFd::from_raw_fd(fd) };
            if let Err(e) = self.open(client, port) {
                eprintln!("kiste network: loopback relay: {e}");
                if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE | libc::ENOMEM | libc::ENOBUFS)) {
                    // As a failed accept: the rest wait until a pair closes.
                    self.starved = true;
                    return;
                }
            }
        }
    }

    /// Starts the container side of `client`'s connection, to the container's loopback port.
    /// A client that cannot be served is reset (it learns at once), whatever the cause.
    fn open(&mut self, client: OwnedFd, port: u16) -> io::Result<()> {
        let parts = connect_local(port).and_then(|c| {
            c.map(|(inner, connecting)| Ok((inner, connecting, [Flow::new()?, Flow::new()?]))).transpose()
        });
        let (inner, connecting, flows) = match parts {
            Ok(Some(p)) => p,
            Ok(None) => {
                reset(&client);
                return Ok(());
            }
            Err(e) => {
                reset(&client);
                return Err(e);
            }
        };
        let mut pair = Pair { client, inner, connecting, flows };
        let slot = self.free.pop().unwrap_or_else(|| {
            self.pairs.push(None);
            self.pairs.len() - 1
        });
        // Edge-triggered both ways from the start: `step` always goes as far as it can.
        let watched = self
            .ctl(libc::EPOLL_CTL_ADD, pair.client.as_raw_fd(), EDGE_BOTH, slot as u64 * 2)
            .and_then(|()| self.ctl(libc::EPOLL_CTL_ADD, pair.inner.as_raw_fd(), EDGE_BOTH, slot as u64 * 2 + 1));
        // Data the client sent before it was watched is read now.
        if watched.is_err() {
            pair.reset();
        }
        if watched.is_ok() && pair.step(0) {
            self.pairs[slot] = Some(pair);
        } else {
            self.retired.push(slot);
        }
        watched
    }

    /// Moves what both directions of pair `slot` can (`events`: what epoll reported); closes
    /// it once both have ended or on an error.
    fn serve(&mut self, slot: usize, events: u32) {
        if let Some(Some(p)) = self.pairs.get_mut(slot)
            && !p.step(events)
        {
            self.pairs[slot] = None;
            self.retired.push(slot);
        }
    }
}

/// A socket connecting (true) or connected to `port` on the container's loopback; None
/// when the connection was refused at once.
fn connect_local(port: u16) -> io::Result<Option<(OwnedFd, bool)>> {
    // SAFETY: socket(2) in this thread's (the container's) network namespace.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel just made it.
    let inner = unsafe { OwnedFd::from_raw_fd(fd) };
    let to = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr { s_addr: u32::from(std::net::Ipv4Addr::LOCALHOST).to_be() },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: connect with a sockaddr_in of the size given.
    let r = unsafe { libc::connect(inner.as_raw_fd(), (&to as *const libc::sockaddr_in).cast(), len) };
    if r == 0 {
        return Ok(Some((inner, false)));
    }
    match io::Error::last_os_error().raw_os_error() {
        Some(libc::EINPROGRESS) => Ok(Some((inner, true))),
        _ => Ok(None),
    }
}

/// The pending error of socket `fd` (SO_ERROR).
fn socket_error(fd: RawFd) -> io::Result<i32> {
    let mut v: libc::c_int = 0;
    let mut len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: getsockopt into an int of the size given.
    let r = unsafe {
        libc::getsockopt(fd, libc::SOL_SOCKET, libc::SO_ERROR, (&mut v as *mut libc::c_int).cast(), &mut len)
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(v)
}

/// Makes the close of `fd` a reset (the client learns the container refused or broke off).
fn reset(fd: &OwnedFd) {
    let l = libc::linger { l_onoff: 1, l_linger: 0 };
    let len = std::mem::size_of::<libc::linger>() as libc::socklen_t;
    // SAFETY: setsockopt with a linger of the size given.
    unsafe {
        libc::setsockopt(fd.as_raw_fd(), libc::SOL_SOCKET, libc::SO_LINGER, (&l as *const libc::linger).cast(), len)
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_tcp_on_an_ipv4_loopback_address_is_local() {
        let f = |udp: bool, host: &str| Forward { udp, host: host.parse().unwrap(), guest_port: 80 };
        assert!(is_local(&f(false, "127.0.0.1:8080")));
        assert!(is_local(&f(false, "127.0.0.2:8080")));
        assert!(!is_local(&f(true, "127.0.0.1:8080")));
        assert!(!is_local(&f(false, "0.0.0.0:8080")));
        assert!(!is_local(&f(false, "[::1]:8080")));
        assert!(!is_local(&f(false, "192.168.1.5:8080")));
    }

    /// A relay in this process's own network namespace: listener `i` forwards to `ports[i]`
    /// on 127.0.0.1; it serves until the returned pipe end is dropped.
    fn relay(ports: &[u16]) -> (Vec<u16>, OwnedFd, std::thread::JoinHandle<io::Result<()>>) {
        let mut listeners = Vec::new();
        let mut fronts = Vec::new();
        for &p in ports {
            let l = listen(&"127.0.0.1:0".parse().unwrap()).unwrap();
            let std_l = std::net::TcpListener::from(l);
            fronts.push(std_l.local_addr().unwrap().port());
            listeners.push((OwnedFd::from(std_l), p));
        }
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills the array on success.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: just made; owned here alone. The read end stands for PID 1's pidfd: it
        // becomes readable when the write end is closed.
        let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let t = std::thread::spawn(move || Relayer::new(listeners, r)?.run());
        (fronts, w, t)
    }

    #[test]
    fn the_relay_passes_on_what_a_direct_connection_would() {
        use std::io::{Read, Write};
        let server = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = server.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for c in server.incoming().flatten() {
                std::thread::spawn(move || {
                    let mut w = c.try_clone().unwrap();
                    let _ = std::io::copy(&mut &c, &mut w);
                    let _ = w.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        // A server that answers at once and closes with the request unread (a reset).
        let hasty = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let hasty_port = hasty.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for mut c in hasty.incoming().flatten() {
                let _ = c.read(&mut [0u8; 1]);
                let _ = c.write_all(b"413 too large");
            }
        });
        let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let (fronts, stop, relay) = relay(&[port, dead, hasty_port]);
        // Connections that open and close in quick succession, several at a time: slots are
        // freed and reused while other pairs' events are in flight.
        let clients: Vec<_> = (0..8u8)
            .map(|k| {
                let front = fronts[0];
                std::thread::spawn(move || {
                    for n in 0..50u32 {
                        let data: Vec<u8> = (0..20_000u32).map(|i| (i ^ n) as u8 ^ k).collect();
                        let mut s = std::net::TcpStream::connect(("127.0.0.1", front)).unwrap();
                        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
                        let mut w = s.try_clone().unwrap();
                        let sent = data.clone();
                        let writer = std::thread::spawn(move || {
                            w.write_all(&sent).unwrap();
                            w.shutdown(std::net::Shutdown::Write).unwrap();
                        });
                        let mut back = Vec::new();
                        s.read_to_end(&mut back).unwrap();
                        writer.join().unwrap();
                        assert!(back == data, "client {k}, connection {n}: {} bytes of {}", back.len(), data.len());
                    }
                })
            })
            .collect();
        // Meanwhile others break off with a reset, data still in flight.
        let resetters: Vec<_> = (0..2)
            .map(|_| {
                let front = fronts[0];
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let mut s = std::net::TcpStream::connect(("127.0.0.1", front)).unwrap();
                        let _ = s.write_all(&[7u8; 100_000]);
                        reset(&OwnedFd::from(s));
                    }
                })
            })
            .collect();
        for c in clients.into_iter().chain(resetters) {
            c.join().unwrap();
        }
        // Urgent data is stepped over, as a direct reader's read would, and the rest follows.
        let mut s = std::net::TcpStream::connect(("127.0.0.1", fronts[0])).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
        s.write_all(b"hello").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        // SAFETY: send of one byte from a valid buffer on our socket.
        assert_eq!(unsafe { libc::send(s.as_raw_fd(), b"!".as_ptr().cast(), 1, libc::MSG_OOB) }, 1);
        s.write_all(b"world").unwrap();
        s.shutdown(std::net::Shutdown::Write).unwrap();
        let mut back = Vec::new();
        s.read_to_end(&mut back).unwrap();
        assert_eq!(String::from_utf8_lossy(&back), "helloworld");
        // An answer sent just before the server's reset reaches the client before the reset.
        for n in 0..20 {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", fronts[2])).unwrap();
            s.set_read_timeout(Some(std::time::Duration::from_secs(10))).unwrap();
            let _ = s.write_all(&[1u8; 200_000]);
            let mut back = Vec::new();
            let _ = s.read_to_end(&mut back);
            assert_eq!(String::from_utf8_lossy(&back), "413 too large", "connection {n}");
        }
        // Nothing listens behind the second: the client's connection ends at once.
        let mut s = std::net::TcpStream::connect(("127.0.0.1", fronts[1])).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
        let r = s.read(&mut [0u8; 1]);
        assert!(
            matches!(r, Ok(0))
                || r.as_ref().is_err_and(|e| !matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut)),
            "{r:?}"
        );
        drop(stop);
        relay.join().unwrap().unwrap();
    }

    #[test]
    fn a_flow_moves_everything_and_shuts_its_destination_after_the_end() {
        use std::io::{Read, Write};
        let (mut a, b) = UnixStream::pair().unwrap();
        let (c, mut d) = UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        c.set_nonblocking(true).unwrap();
        let data: Vec<u8> = (0..300_000u32).map(|i| i as u8).collect();
        let writer = {
            let data = data.clone();
            std::thread::spawn(move || {
                a.write_all(&data).unwrap();
                a.shutdown(std::net::Shutdown::Write).unwrap();
            })
        };
        let reader = std::thread::spawn(move || {
            let mut got = Vec::new();
            d.read_to_end(&mut got).unwrap();
            got
        });
        let mut f = Flow::new().unwrap();
        while !f.shut {
            f.pump(b.as_raw_fd(), c.as_raw_fd(), false).unwrap();
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        writer.join().unwrap();
        assert_eq!(reader.join().unwrap(), data);
    }
}
