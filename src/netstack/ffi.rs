//! libslirp's C interface (slirp/libslirp.h, ABI of 4.x), loaded at run time with dlopen in the
//! network process only: linked the usual way, every kiste process (each command, each idle
//! monitor) would load libslirp, GLib and PCRE2 at start — ~2 ms and their relocated pages
//! each — for a library one process per container uses. Declarations only; no logic.

use std::ffi::{CStr, c_char, c_int, c_void};

/// The library's file name (Debian's `libslirp0`).
pub const LIBRARY: &str = "libslirp.so.0";

/// Opaque stack state.
pub enum Slirp {}

pub const POLL_IN: c_int = 1;
pub const POLL_OUT: c_int = 2;
pub const POLL_PRI: c_int = 4;
pub const POLL_ERR: c_int = 8;
pub const POLL_HUP: c_int = 16;

pub type TimerCb = Option<unsafe extern "C" fn(opaque: *mut c_void)>;
pub type AddPollCb = unsafe extern "C" fn(fd: c_int, events: c_int, opaque: *mut c_void) -> c_int;
pub type GetREventsCb = unsafe extern "C" fn(idx: c_int, opaque: *mut c_void) -> c_int;

/// struct SlirpCb: the application's callbacks (version-4 fields last; unused ones null).
#[repr(C)]
pub struct SlirpCb {
    pub send_packet: unsafe extern "C" fn(buf: *const c_void, len: usize, opaque: *mut c_void) -> isize,
    pub guest_error: unsafe extern "C" fn(msg: *const c_char, opaque: *mut c_void),
    pub clock_get_ns: unsafe extern "C" fn(opaque: *mut c_void) -> i64,
    pub timer_new: unsafe extern "C" fn(cb: TimerCb, cb_opaque: *mut c_void, opaque: *mut c_void) -> *mut c_void,
    pub timer_free: unsafe extern "C" fn(timer: *mut c_void, opaque: *mut c_void),
    pub timer_mod: unsafe extern "C" fn(timer: *mut c_void, expire_time: i64, opaque: *mut c_void),
    pub register_poll_fd: unsafe extern "C" fn(fd: c_int, opaque: *mut c_void),
    pub unregister_poll_fd: unsafe extern "C" fn(fd: c_int, opaque: *mut c_void),
    pub notify: unsafe extern "C" fn(opaque: *mut c_void),
    pub init_completed: Option<unsafe extern "C" fn(slirp: *mut Slirp, opaque: *mut c_void)>,
    pub timer_new_opaque:
        Option<unsafe extern "C" fn(id: c_int, cb_opaque: *mut c_void, opaque: *mut c_void) -> *mut c_void>,
}

/// struct SlirpConfig up to version 4 (libslirp 4.7).
#[repr(C)]
pub struct SlirpConfig {
    pub version: u32,
    pub restricted: c_int,
    pub in_enabled: bool,
    pub vnetwork: libc::in_addr,
    pub vnetmask: libc::in_addr,
    pub vhost: libc::in_addr,
    pub in6_enabled: bool,
    pub vprefix_addr6: libc::in6_addr,
    pub vprefix_len: u8,
    pub vhost6: libc::in6_addr,
    pub vhostname: *const c_char,
    pub tftp_server_name: *const c_char,
    pub tftp_path: *const c_char,
    pub bootfile: *const c_char,
    pub vdhcp_start: libc::in_addr,
    pub vnameserver: libc::in_addr,
    pub vnameserver6: libc::in6_addr,
    pub vdnssearch: *const *const c_char,
    pub vdomainname: *const c_char,
    pub if_mtu: usize,
    pub if_mru: usize,
    pub disable_host_loopback: bool,
    pub enable_emu: bool,
    pub outbound_addr: *const libc::sockaddr_in,
    pub outbound_addr6: *const libc::sockaddr_in6,
    pub disable_dns: bool,
    pub disable_dhcp: bool,
}

pub type NewFn = unsafe extern "C" fn(cfg: *const SlirpConfig, cb: *const SlirpCb, opaque: *mut c_void) -> *mut Slirp;
pub type FillFn = unsafe extern "C" fn(slirp: *mut Slirp, timeout: *mut u32, add: AddPollCb, opaque: *mut c_void);
pub type PollFn = unsafe extern "C" fn(slirp: *mut Slirp, error: c_int, get: GetREventsCb, opaque: *mut c_void);
pub type InputFn = unsafe extern "C" fn(slirp: *mut Slirp, pkt: *const u8, len: c_int);
pub type HostxfwdFn = unsafe extern "C" fn(
    slirp: *mut Slirp,
    haddr: *const libc::sockaddr,
    hlen: libc::socklen_t,
    gaddr: *const libc::sockaddr,
    glen: libc::socklen_t,
    flags: c_int,
) -> c_int;
type VersionFn = unsafe extern "C" fn() -> *const c_char;

/// The functions used, resolved from the loaded library.
pub struct Lib {
    pub new: NewFn,
    pub pollfds_fill: FillFn,
    pub pollfds_poll: PollFn,
    pub input: InputFn,
    pub add_hostxfwd: HostxfwdFn,
    /// (major, minor) of the library.
    pub version: (u32, u32),
}

pub const HOSTFWD_UDP: c_int = 1;

/// Loads the library, or says which package brings it.
pub fn load() -> Result<Lib, String> {
    let name = std::ffi::CString::new(LIBRARY).map_err(|e| e.to_string())?;
    // SAFETY: dlopen of a library by name; it stays loaded for the life of the process.
    let h = unsafe { libc::dlopen(name.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
    if h.is_null() {
        return Err(format!("cannot load {LIBRARY}: {}; install the \"libslirp0\" package", dl_error()));
    }
    let sym = |n: &CStr| -> Result<*mut c_void, String> {
        // SAFETY: dlsym on the handle just opened.
        let p = unsafe { libc::dlsym(h, n.as_ptr()) };
        if p.is_null() { Err(format!("{LIBRARY} has no {}: it is older than 4.5", n.to_string_lossy())) } else { Ok(p) }
    };
    // SAFETY: each symbol has the C type declared in slirp/libslirp.h, which these types copy.
    unsafe {
        let version = std::mem::transmute::<*mut c_void, VersionFn>(sym(c"slirp_version_string")?);
        let text = CStr::from_ptr(version()).to_string_lossy().into_owned();
        let mut nums = text.split('.').map(|n| n.parse::<u32>().unwrap_or(0));
        let version = (nums.next().unwrap_or(0), nums.next().unwrap_or(0));
        Ok(Lib {
            new: std::mem::transmute::<*mut c_void, NewFn>(sym(c"slirp_new")?),
            pollfds_fill: std::mem::transmute::<*mut c_void, FillFn>(sym(c"slirp_pollfds_fill")?),
            pollfds_poll: std::mem::transmute::<*mut c_void, PollFn>(sym(c"slirp_pollfds_poll")?),
            input: std::mem::transmute::<*mut c_void, InputFn>(sym(c"slirp_input")?),
            add_hostxfwd: std::mem::transmute::<*mut c_void, HostxfwdFn>(sym(c"slirp_add_hostxfwd")?),
            version,
        })
    }
}

fn dl_error() -> String {
    // SAFETY: dlerror returns a thread-local string or null.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        return "unknown error".into();
    }
    // SAFETY: non-null, NUL-terminated.
    unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    /// The offsets a C compiler gives slirp/libslirp.h 4.7 on x86_64 and aarch64 (LP64).
    #[test]
    fn struct_layouts_match_the_c_header() {
        assert_eq!(offset_of!(SlirpConfig, restricted), 4);
        assert_eq!(offset_of!(SlirpConfig, vnetwork), 12);
        assert_eq!(offset_of!(SlirpConfig, in6_enabled), 24);
        assert_eq!(offset_of!(SlirpConfig, vprefix_len), 44);
        assert_eq!(offset_of!(SlirpConfig, vhost6), 48);
        assert_eq!(offset_of!(SlirpConfig, vhostname), 64);
        assert_eq!(offset_of!(SlirpConfig, vdhcp_start), 96);
        assert_eq!(offset_of!(SlirpConfig, vnameserver), 100);
        assert_eq!(offset_of!(SlirpConfig, vdnssearch), 120);
        assert_eq!(offset_of!(SlirpConfig, if_mtu), 136);
        assert_eq!(offset_of!(SlirpConfig, disable_host_loopback), 152);
        assert_eq!(offset_of!(SlirpConfig, enable_emu), 153);
        assert_eq!(offset_of!(SlirpConfig, outbound_addr), 160);
        assert_eq!(offset_of!(SlirpConfig, disable_dns), 176);
        assert_eq!(offset_of!(SlirpConfig, disable_dhcp), 177);
        assert_eq!(size_of::<SlirpConfig>(), 184);
        assert_eq!(offset_of!(SlirpCb, timer_new_opaque), 80);
        assert_eq!(size_of::<SlirpCb>(), 88);
    }
}
