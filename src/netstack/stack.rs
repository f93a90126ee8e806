//! The network process's event loop: libslirp behind the container's tap device. Frames read
//! from the tap go to `slirp_input`, frames libslirp emits are written to the tap; one poll(2)
//! waits on the tap, PID 1's pidfd (the process ends with the container) and every socket
//! libslirp has open, with the timeout libslirp and its timers ask for. Single-threaded.

use super::ffi::{self, Lib, Slirp};
use super::{Forward, Plan};
use std::cell::{Cell, RefCell};
use std::ffi::{c_char, c_int, c_void};
use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};

/// A timer libslirp asked for.
struct Timer {
    cb: ffi::TimerCb,
    cb_opaque: *mut c_void,
    /// Expiry in milliseconds of `now_ms`'s clock.
    expire: Cell<Option<i64>>,
}

/// What the callbacks reach through libslirp's opaque pointer (shared: libslirp calls back
/// while the loop is inside it).
struct Ctx {
    /// The device (-1 until it is given: frames for it are dropped).
    tap: Cell<RawFd>,
    fds: RefCell<Vec<libc::pollfd>>,
    timers: RefCell<Vec<*mut Timer>>,
}

/// A running stack: libslirp's state and the descriptors it works on.
pub struct Stack {
    lib: Lib,
    slirp: *mut Slirp,
    ctx: Box<Ctx>,
    tap: Option<OwnedFd>,
    frame: Vec<u8>,
}

/// Why the stack could not be made: a forward (by index) whose host side could not be bound,
/// or something else.
pub enum SetupFailure {
    Port(usize, std::io::Error),
    Other(String),
}

fn in_addr(a: Ipv4Addr) -> libc::in_addr {
    libc::in_addr { s_addr: u32::from(a).to_be() }
}

fn now_ns() -> i64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: clock_gettime into a local.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec * 1_000_000_000 + ts.tv_nsec
}

/// A socket address in C form for libslirp.
fn sockaddr(a: &SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: all-zero is a valid sockaddr_storage.
    let mut ss: libc::sockaddr_storage = unsafe { std::mem::zeroed() };
    let len = match a {
        SocketAddr::V4(v4) => {
            let sin = libc::sockaddr_in {
                sin_family: libc::AF_INET as libc::sa_family_t,
                sin_port: v4.port().to_be(),
                sin_addr: in_addr(*v4.ip()),
                sin_zero: [0; 8],
            };
            // SAFETY: sockaddr_storage is larger than sockaddr_in and suitably aligned.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in, sin) };
            std::mem::size_of::<libc::sockaddr_in>()
        }
        SocketAddr::V6(v6) => {
            let sin6 = libc::sockaddr_in6 {
                sin6_family: libc::AF_INET6 as libc::sa_family_t,
                sin6_port: v6.port().to_be(),
                sin6_flowinfo: 0,
                sin6_addr: libc::in6_addr { s6_addr: v6.ip().octets() },
                sin6_scope_id: v6.scope_id(),
            };
            // SAFETY: as above.
            unsafe { std::ptr::write(&mut ss as *mut _ as *mut libc::sockaddr_in6, sin6) };
            std::mem::size_of::<libc::sockaddr_in6>()
        }
    };
    (ss, len as libc::socklen_t)
}

impl Stack {
    /// Makes the stack with the addresses of `plan` and binds each forward's host side; its
    /// device comes later (`set_tap`).
    pub fn new(lib: Lib, plan: &Plan, forwards: &[Forward]) -> Result<Stack, SetupFailure> {
        let ctx = Box::new(Ctx { tap: Cell::new(-1), fds: RefCell::new(Vec::new()), timers: RefCell::new(Vec::new()) });
        // SAFETY: all-zero is valid for the config (null pointers, false, zero addresses).
        let mut cfg: ffi::SlirpConfig = unsafe { std::mem::zeroed() };
        // Version 4 (libslirp 4.7) can turn DHCP off: the device is configured statically.
        cfg.version = if lib.version >= (4, 7) { 4 } else { 3 };
        cfg.in_enabled = true;
        cfg.vnetwork = in_addr(plan.network);
        cfg.vnetmask = in_addr(Ipv4Addr::from(u32::MAX << (32 - u32::from(plan.prefix))));
        cfg.vhost = in_addr(plan.gateway);
        cfg.vnameserver = in_addr(plan.dns);
        // Unused with DHCP off, but libslirp wants it inside the network.
        cfg.vdhcp_start = in_addr(Ipv4Addr::from(u32::from(plan.network) | 15));
        cfg.if_mtu = plan.mtu as usize;
        cfg.if_mru = plan.mtu as usize;
        cfg.disable_dhcp = true;
        let cb = callbacks();
        let opaque = &*ctx as *const Ctx as *mut c_void;
        // SAFETY: the config and callbacks are valid for the call (libslirp copies the config;
        // the callbacks table is static); `opaque` points to ctx, which lives as long as the stack.
        let slirp = unsafe { (lib.new)(&cfg, cb, opaque) };
        if slirp.is_null() {
            return Err(SetupFailure::Other("libslirp could not create the stack".into()));
        }
        let stack = Stack { lib, slirp, ctx, tap: None, frame: vec![0u8; plan.mtu as usize + 14] };
        // Loopback TCP forwards are the relay's (splice.rs).
        for (i, f) in forwards.iter().enumerate().filter(|(_, f)| !super::splice::is_local(f)) {
            stack.forward(plan, f).map_err(|e| SetupFailure::Port(i, e))?;
        }
        Ok(stack)
    }

    fn forward(&self, plan: &Plan, f: &Forward) -> std::io::Result<()> {
        let (host, hlen) = sockaddr(&f.host);
        let (guest, glen) = sockaddr(&SocketAddr::from((plan.guest, f.guest_port)));
        let flags = if f.udp { ffi::HOSTFWD_UDP } else { 0 };
        // SAFETY: both addresses are valid for their lengths during the call.
        let r = unsafe {
            (self.lib.add_hostxfwd)(
                self.slirp,
                (&host as *const libc::sockaddr_storage).cast(),
                hlen,
                (&guest as *const libc::sockaddr_storage).cast(),
                glen,
                flags,
            )
        };
        if r < 0 {
            let e = std::io::Error::last_os_error();
            // libslirp keeps bind's errno; 0 would mean it failed for another reason.
            return Err(if e.raw_os_error() == Some(0) {
                std::io::Error::other("libslirp refused the forward")
            } else {
                e
            });
        }
        Ok(())
    }

    /// The container's device.
    pub fn set_tap(&mut self, tap: OwnedFd) {
        // SAFETY: fcntl on the descriptor we own.
        unsafe {
            let fl = libc::fcntl(tap.as_raw_fd(), libc::F_GETFL);
            libc::fcntl(tap.as_raw_fd(), libc::F_SETFL, fl | libc::O_NONBLOCK);
        }
        self.ctx.tap.set(tap.as_raw_fd());
        self.tap = Some(tap);
    }

    /// Serves until PID 1 (`pidfd`) has ended or the device is gone.
    pub fn run(mut self, pidfd: OwnedFd) {
        let opaque = &*self.ctx as *const Ctx as *mut c_void;
        let tap = self.ctx.tap.get();
        loop {
            {
                let mut fds = self.ctx.fds.borrow_mut();
                fds.clear();
                fds.push(libc::pollfd { fd: tap, events: libc::POLLIN, revents: 0 });
                fds.push(libc::pollfd { fd: pidfd.as_raw_fd(), events: libc::POLLIN, revents: 0 });
            }
            let mut timeout: u32 = u32::MAX;
            // SAFETY: the stack is live; add_poll only touches ctx.fds, borrowed in the callback.
            unsafe { (self.lib.pollfds_fill)(self.slirp, &mut timeout, add_poll, opaque) };
            // With no socket open libslirp has nothing to time out: sleep until the container
            // sends (it would wake us every second otherwise).
            let idle = self.ctx.fds.borrow().len() == 2;
            let wait = self.timer_wait(if idle { u32::MAX } else { timeout });
            let (n, tap_ready, ended) = {
                let mut fds = self.ctx.fds.borrow_mut();
                // SAFETY: poll on our own array.
                let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, wait) };
                (n, fds[0].revents, fds[1].revents != 0)
            };
            if n < 0 && std::io::Error::last_os_error().kind() != std::io::ErrorKind::Interrupted {
                eprintln!("kiste network: poll: {}", std::io::Error::last_os_error());
                return;
            }
            if ended {
                return;
            }
            // SAFETY: as for fill; get_revents reads ctx.fds.
            unsafe { (self.lib.pollfds_poll)(self.slirp, (n < 0) as c_int, get_revents, opaque) };
            self.run_timers();
            if tap_ready & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
                return;
            }
            if tap_ready & libc::POLLIN != 0 && !self.read_frames(tap) {
                return;
            }
        }
    }

    /// Feeds the frames waiting on the device to libslirp (a bounded batch: sockets get their
    /// turn). False once the device is gone.
    fn read_frames(&mut self, tap: RawFd) -> bool {
        for _ in 0..64 {
            // SAFETY: read into our own buffer.
            let n = unsafe { libc::read(tap, self.frame.as_mut_ptr().cast(), self.frame.len()) };
            if n < 0 {
                let e = std::io::Error::last_os_error();
                return matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted);
            }
            if n == 0 {
                return false;
            }
            // SAFETY: the frame is valid for n bytes during the call.
            unsafe { (self.lib.input)(self.slirp, self.frame.as_ptr(), n as c_int) };
        }
        true
    }

    /// poll(2)'s timeout: libslirp's (ms, u32::MAX for none) or the next timer, if sooner.
    fn timer_wait(&self, slirp_ms: u32) -> c_int {
        let now = now_ns() / 1_000_000;
        let next = self
            .ctx
            .timers
            .borrow()
            .iter()
            // SAFETY: the pointers in the list are live timers (freed only through timer_free,
            // which removes them).
            .filter_map(|t| unsafe { (**t).expire.get() })
            .min()
            .map(|at| (at - now).clamp(0, i32::MAX as i64) as c_int);
        let slirp = if slirp_ms == u32::MAX { None } else { Some(slirp_ms.min(i32::MAX as u32) as c_int) };
        match (next, slirp) {
            (Some(a), Some(b)) => a.min(b),
            (Some(a), None) | (None, Some(a)) => a,
            (None, None) => -1,
        }
    }

    fn run_timers(&self) {
        let now = now_ns() / 1_000_000;
        let due: Vec<(ffi::TimerCb, *mut c_void)> = self
            .ctx
            .timers
            .borrow()
            .iter()
            .filter_map(|t| {
                // SAFETY: live timers, as in timer_wait.
                let t = unsafe { &**t };
                match t.expire.get() {
                    Some(at) if at <= now => {
                        t.expire.set(None);
                        Some((t.cb, t.cb_opaque))
                    }
                    _ => None,
                }
            })
            .collect();
        for (cb, arg) in due {
            if let Some(cb) = cb {
                // SAFETY: libslirp's callback with the argument it gave with it.
                unsafe { cb(arg) };
            }
        }
    }
}

/// The callbacks table (static: libslirp keeps the pointer).
fn callbacks() -> &'static ffi::SlirpCb {
    static CB: ffi::SlirpCb = ffi::SlirpCb {
        send_packet,
        guest_error,
        clock_get_ns,
        timer_new,
        timer_free,
        timer_mod,
        register_poll_fd: no_fd,
        unregister_poll_fd: no_fd,
        notify,
        init_completed: None,
        timer_new_opaque: None,
    };
    &CB
}

/// The context behind libslirp's opaque pointer.
///
/// # Safety
/// `opaque` must be the pointer given to slirp_new (a live Ctx).
unsafe fn ctx<'a>(opaque: *mut c_void) -> &'a Ctx {
    // SAFETY: the caller's contract.
    unsafe { &*(opaque as *const Ctx) }
}

unsafe extern "C" fn send_packet(buf: *const c_void, len: usize, opaque: *mut c_void) -> isize {
    // SAFETY: libslirp passes our context and a frame valid for `len` bytes.
    let c = unsafe { ctx(opaque) };
    // A full device queue (or none yet) drops the frame: TCP retransmits, as over a real link.
    // SAFETY: write from libslirp's buffer to the device.
    let n = unsafe { libc::write(c.tap.get(), buf, len) };
    if n < 0 { len as isize } else { n }
}

unsafe extern "C" fn guest_error(msg: *const c_char, _opaque: *mut c_void) {
    if !msg.is_null() {
        // SAFETY: a NUL-terminated message from libslirp.
        let m = unsafe { std::ffi::CStr::from_ptr(msg) }.to_string_lossy();
        eprintln!("kiste network: the container sent a bad packet: {m}");
    }
}

unsafe extern "C" fn clock_get_ns(_opaque: *mut c_void) -> i64 {
    now_ns()
}

unsafe extern "C" fn timer_new(cb: ffi::TimerCb, cb_opaque: *mut c_void, opaque: *mut c_void) -> *mut c_void {
    let t = Box::into_raw(Box::new(Timer { cb, cb_opaque, expire: Cell::new(None) }));
    // SAFETY: our context.
    unsafe { ctx(opaque) }.timers.borrow_mut().push(t);
    t.cast()
}

unsafe extern "C" fn timer_free(timer: *mut c_void, opaque: *mut c_void) {
    let t = timer as *mut Timer;
    // SAFETY: our context.
    let c = unsafe { ctx(opaque) };
    let mut list = c.timers.borrow_mut();
    if let Some(i) = list.iter().position(|p| *p == t) {
        list.swap_remove(i);
        // SAFETY: made by timer_new with Box::into_raw, freed once (removed from the list).
        drop(unsafe { Box::from_raw(t) });
    }
}

unsafe extern "C" fn timer_mod(timer: *mut c_void, expire_ms: i64, _opaque: *mut c_void) {
    // SAFETY: a timer made by timer_new and not freed (libslirp's contract).
    unsafe { &*(timer as *const Timer) }.expire.set(Some(expire_ms));
}

unsafe extern "C" fn no_fd(_fd: c_int, _opaque: *mut c_void) {}

unsafe extern "C" fn notify(_opaque: *mut c_void) {}

unsafe extern "C" fn add_poll(fd: c_int, events: c_int, opaque: *mut c_void) -> c_int {
    let mut ev = 0;
    for (s, p) in [(ffi::POLL_IN, libc::POLLIN), (ffi::POLL_OUT, libc::POLLOUT), (ffi::POLL_PRI, libc::POLLPRI)] {
        if events & s != 0 {
            ev |= p;
        }
    }
    // SAFETY: our context.
    let mut fds = unsafe { ctx(opaque) }.fds.borrow_mut();
    fds.push(libc::pollfd { fd, events: ev, revents: 0 });
    (fds.len() - 1) as c_int
}

unsafe extern "C" fn get_revents(idx: c_int, opaque: *mut c_void) -> c_int {
    // SAFETY: our context.
    let fds = unsafe { ctx(opaque) }.fds.borrow();
    let Some(p) = usize::try_from(idx).ok().and_then(|i| fds.get(i)) else { return 0 };
    let mut r = 0;
    for (p_ev, s) in [
        (libc::POLLIN, ffi::POLL_IN),
        (libc::POLLOUT, ffi::POLL_OUT),
        (libc::POLLPRI, ffi::POLL_PRI),
        (libc::POLLERR, ffi::POLL_ERR),
        (libc::POLLHUP, ffi::POLL_HUP),
    ] {
        if p.revents & p_ev != 0 {
            r |= s;
        }
    }
    r
}
