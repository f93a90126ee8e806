//! A minimal rtnetlink client, shared by the engine and the runtime (a leaf: it uses neither):
//! what the network namespace holder needs to build a bridge and plug a container into it
//! (create bridge and veth links, move a veth end into another network namespace, set a
//! master, bring links up, add addresses and a default route, delete a link), and what PID 1
//! needs to configure its tap device (the MTU too). Works in the network namespace the socket
//! was opened in. Knows nothing of networks or containers.

use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

const RTM_NEWLINK: u16 = 16;
const RTM_DELLINK: u16 = 17;
const RTM_NEWADDR: u16 = 20;
const RTM_NEWROUTE: u16 = 24;
const NLMSG_ERROR: u16 = 2;
const NLM_F_REQUEST: u16 = 1;
const NLM_F_ACK: u16 = 4;
const NLM_F_EXCL: u16 = 0x200;
const NLM_F_CREATE: u16 = 0x400;
const IFLA_IFNAME: u16 = 3;
const IFLA_MTU: u16 = 4;
const IFLA_MASTER: u16 = 10;
const IFLA_LINKINFO: u16 = 18;
const IFLA_NET_NS_FD: u16 = 28;
const IFLA_INFO_KIND: u16 = 1;
const IFLA_INFO_DATA: u16 = 2;
const VETH_INFO_PEER: u16 = 1;
const IFA_ADDRESS: u16 = 1;
const IFA_LOCAL: u16 = 2;
const RTA_GATEWAY: u16 = 5;
const IFF_UP: u32 = 1;

/// A NETLINK_ROUTE socket in the calling thread's network namespace.
pub struct Netlink {
    fd: OwnedFd,
    seq: u32,
}

/// A message under construction: header, fixed part, attributes (nested ones by offset).
struct Msg(Vec<u8>);

impl Msg {
    fn new(typ: u16, flags: u16, fixed: &[u8]) -> Msg {
        let mut b = vec![0u8; 16];
        b[4..6].copy_from_slice(&typ.to_ne_bytes());
        b[6..8].copy_from_slice(&(flags | NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
        b.extend_from_slice(fixed);
        Msg(b)
    }
    fn align(&mut self) {
        while !self.0.len().is_multiple_of(4) {
            self.0.push(0);
        }
    }
    fn attr(&mut self, typ: u16, data: &[u8]) -> &mut Msg {
        self.align();
        self.0.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
        self.0.extend_from_slice(&typ.to_ne_bytes());
        self.0.extend_from_slice(data);
        self.align();
        self
    }
    fn str_attr(&mut self, typ: u16, s: &str) -> &mut Msg {
        let mut d = s.as_bytes().to_vec();
        d.push(0);
        self.attr(typ, &d)
    }
    /// Starts a nested attribute; `end` fills in its length.
    fn begin(&mut self, typ: u16) -> usize {
        self.align();
        let at = self.0.len();
        self.0.extend_from_slice(&[0, 0]);
        self.0.extend_from_slice(&typ.to_ne_bytes());
        at
    }
    fn end(&mut self, at: usize) {
        let len = (self.0.len() - at) as u16;
        self.0[at..at + 2].copy_from_slice(&len.to_ne_bytes());
    }
    fn raw(&mut self, data: &[u8]) {
        self.0.extend_from_slice(data);
    }
}

/// struct ifinfomsg: family, type, index, flags, change.
fn ifinfo(index: i32, flags: u32, change: u32) -> [u8; 16] {
    let mut b = [0u8; 16];
    b[4..8].copy_from_slice(&index.to_ne_bytes());
    b[8..12].copy_from_slice(&flags.to_ne_bytes());
    b[12..16].copy_from_slice(&change.to_ne_bytes());
    b
}

/// The index of interface `name` in the calling thread's network namespace.
pub fn index(name: &str) -> io::Result<i32> {
    let c = std::ffi::CString::new(name).map_err(io::Error::other)?;
    // SAFETY: if_nametoindex reads a NUL-terminated string.
    let i = unsafe { libc::if_nametoindex(c.as_ptr()) };
    if i == 0 { Err(io::Error::new(io::ErrorKind::NotFound, format!("no interface {name}"))) } else { Ok(i as i32) }
}

impl Netlink {
    pub fn open() -> io::Result<Netlink> {
        // SAFETY: plain socket(2); the descriptor is owned below.
        let fd = unsafe { libc::socket(libc::AF_NETLINK, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::NETLINK_ROUTE) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: we just created it.
        Ok(Netlink { fd: unsafe { OwnedFd::from_raw_fd(fd) }, seq: 0 })
    }

    /// Sends one request and waits for its acknowledgement.
    fn call(&mut self, mut m: Msg, what: &str) -> io::Result<()> {
        self.seq += 1;
        let len = m.0.len() as u32;
        m.0[0..4].copy_from_slice(&len.to_ne_bytes());
        m.0[8..12].copy_from_slice(&self.seq.to_ne_bytes());
        // SAFETY: send from a valid buffer on our socket (the kernel is the default peer).
        let n = unsafe { libc::send(self.fd.as_raw_fd(), m.0.as_ptr().cast(), m.0.len(), 0) };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = vec![0u8; 8192];
        loop {
            // SAFETY: recv into our own buffer.
            let n = unsafe { libc::recv(self.fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) };
            if n < 0 {
                let e = io::Error::last_os_error();
                if e.kind() == io::ErrorKind::Interrupted {
                    continue;
                }
                return Err(e);
            }
            let mut off = 0usize;
            while off + 16 <= n as usize {
                let mlen = u32::from_ne_bytes(buf[off..off + 4].try_into().unwrap_or_default()) as usize;
                let typ = u16::from_ne_bytes([buf[off + 4], buf[off + 5]]);
                let seq = u32::from_ne_bytes(buf[off + 8..off + 12].try_into().unwrap_or_default());
                if typ == NLMSG_ERROR && seq == self.seq && off + 20 <= n as usize {
                    let err = i32::from_ne_bytes(buf[off + 16..off + 20].try_into().unwrap_or_default());
                    if err == 0 {
                        return Ok(());
                    }
                    let e = io::Error::from_raw_os_error(-err);
                    return Err(io::Error::new(e.kind(), format!("{what}: {e}")));
                }
                if mlen < 16 {
                    break;
                }
                off += (mlen + 3) & !3;
            }
        }
    }

    /// Creates a bridge named `name`.
    pub fn add_bridge(&mut self, name: &str) -> io::Result<()> {
        let mut m = Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifinfo(0, 0, 0));
        m.str_attr(IFLA_IFNAME, name);
        let li = m.begin(IFLA_LINKINFO);
        m.str_attr(IFLA_INFO_KIND, "bridge");
        m.end(li);
        self.call(m, &format!("create bridge {name}"))
    }

    /// Creates a veth pair: `name` here, `peer` in the network namespace `peer_ns` (a
    /// descriptor of it).
    pub fn add_veth(&mut self, name: &str, peer: &str, peer_ns: RawFd) -> io::Result<()> {
        let mut m = Msg::new(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, &ifinfo(0, 0, 0));
        m.str_attr(IFLA_IFNAME, name);
        let li = m.begin(IFLA_LINKINFO);
        m.str_attr(IFLA_INFO_KIND, "veth");
        let data = m.begin(IFLA_INFO_DATA);
        let p = m.begin(VETH_INFO_PEER);
        m.raw(&ifinfo(0, 0, 0));
        m.str_attr(IFLA_IFNAME, peer);
        m.attr(IFLA_NET_NS_FD, &(peer_ns as u32).to_ne_bytes());
        m.end(p);
        m.end(data);
        m.end(li);
        self.call(m, &format!("create veth pair {name}/{peer}"))
    }

    /// Brings a link up, optionally enslaving it to `master` first.
    pub fn up(&mut self, name: &str, master: Option<&str>) -> io::Result<()> {
        let mut m = Msg::new(RTM_NEWLINK, 0, &ifinfo(index(name)?, IFF_UP, IFF_UP));
        if let Some(b) = master {
            m.attr(IFLA_MASTER, &(index(b)? as u32).to_ne_bytes());
        }
        self.call(m, &format!("bring {name} up"))
    }

    /// Sets the MTU of link `name`.
    pub fn set_mtu(&mut self, name: &str, mtu: u32) -> io::Result<()> {
        let mut m = Msg::new(RTM_NEWLINK, 0, &ifinfo(index(name)?, 0, 0));
        m.attr(IFLA_MTU, &mtu.to_ne_bytes());
        self.call(m, &format!("set the MTU of {name} to {mtu}"))
    }

    pub fn delete(&mut self, name: &str) -> io::Result<()> {
        let m = Msg::new(RTM_DELLINK, 0, &ifinfo(index(name)?, 0, 0));
        self.call(m, &format!("delete {name}"))
    }

    /// Adds `addr/prefix` to link `name`.
    pub fn add_addr(&mut self, name: &str, addr: Ipv4Addr, prefix: u8) -> io::Result<()> {
        let idx = index(name)? as u32;
        let mut fixed = [0u8; 8];
        fixed[0] = libc::AF_INET as u8;
        fixed[1] = prefix;
        fixed[4..8].copy_from_slice(&idx.to_ne_bytes());
        let mut m = Msg::new(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, &fixed);
        m.attr(IFA_LOCAL, &addr.octets());
        m.attr(IFA_ADDRESS, &addr.octets());
        self.call(m, &format!("add address {addr}/{prefix} to {name}"))
    }

    /// Adds the default route through `gateway`.
    pub fn add_default_route(&mut self, gateway: Ipv4Addr) -> io::Result<()> {
        // struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags.
        let fixed =
            [libc::AF_INET as u8, 0, 0, 0, libc::RT_TABLE_MAIN, libc::RTPROT_BOOT, 0, libc::RTN_UNICAST, 0, 0, 0, 0];
        let mut m = Msg::new(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_EXCL, &fixed);
        m.attr(RTA_GATEWAY, &gateway.octets());
        self.call(m, &format!("add the default route via {gateway}"))
    }
}
