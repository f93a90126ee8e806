//! The network namespace holder of user-defined networks: one process per user
//! (`kiste __network-ns DIR UPSTREAMS`), started by the first container that joins a
//! user-defined network and gone when the last one has exited. It is root of a user namespace
//! with the user's whole ID mapping and owns one network namespace with a bridge per network in
//! use, connected outward by the built-in stack (on a tap device the holder makes and hands to
//! its starter), pasta or slirp4netns (with nftables masquerading the bridges and isolating
//! them from each other). Containers on these networks make their user namespace
//! inside the holder's (runtime `nest_in`), so the holder may plug a veth into theirs; it
//! answers DNS for container names and aliases on each bridge's gateway address and forwards
//! other names to the host's resolvers.
//!
//! Run-time state in `$XDG_RUNTIME_DIR/kiste/netns/`: `ctl.sock` (requests), `lock`,
//! `holder.pid`, and the outward helper's `net.pid`/`net.log`. Must not touch container records:
//! callers (the monitor, `network connect`) send what it needs.

use super::named::{Network, mask, parse_cidr};
use super::{Addrs, NetError, dns};
use crate::netlink::Netlink;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::net::{Ipv4Addr, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Hidden argv[1] of the holder.
pub const MAIN: &str = "__network-ns";
const CTL: &str = "ctl.sock";
const LOCK: &str = "lock";
const HOLDER_PID: &str = "holder.pid";
/// How long a holder that never had a member waits for its first one.
const IDLE: Duration = Duration::from_secs(20);

/// What a caller asks of the holder (one JSON line; `attach` sends the container's network
/// namespace and a pidfd of its PID 1 along).
#[derive(Debug, Serialize, Deserialize)]
pub struct Request {
    pub op: String,
    pub id: String,
    pub network: Network,
    /// Names the container answers to on this network: its name, aliases, short ID.
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub ip: Option<Ipv4Addr>,
    /// The interface name inside the container (eth0, eth1 ...).
    #[serde(default)]
    pub ifname: String,
    #[serde(default)]
    pub default_route: bool,
    /// The published ports' container side, in the order of their host sockets (TCP
    /// listeners, UDP sockets), which follow the pidfd.
    #[serde(default)]
    pub ports: Vec<Published>,
}

/// A published port's container side.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Published {
    pub port: u16,
    #[serde(default)]
    pub udp: bool,
}

#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Reply {
    pub ip: Option<Ipv4Addr>,
    pub error: Option<String>,
}

/// The holder's directory (under the run-time directory).
pub fn dir(runtime: &Path) -> PathBuf {
    runtime.join("netns")
}

/// A running holder, held locked while a container joins it: it cannot exit meanwhile.
pub struct Holder {
    pub pid: u32,
    dir: PathBuf,
    _lock: crate::state::lock::FileLock,
}

fn err(what: &str, e: impl std::fmt::Display) -> NetError {
    NetError::Helper(format!("{what}: {e}"))
}

/// Finds the user's holder or starts one (with `mode`'s outward helper), and locks it.
pub fn ensure(
    runtime: &Path,
    idmap: &crate::storage::idmap::IdMapping,
    mode: &super::NetworkMode,
    addrs: Option<&Addrs>,
) -> Result<Holder, NetError> {
    let d = dir(runtime);
    crate::state::paths::make_private_dir(&d).map_err(|e| err("cannot create the network directory", e))?;
    let lock = crate::state::lock::FileLock::exclusive(&d.join(LOCK)).map_err(|e| err("cannot lock", e))?;
    if let Some(pid) = running_holder(&d) {
        return Ok(Holder { pid, dir: d, _lock: lock });
    }
    // A holder killed hard leaves its outward helper and socket behind.
    super::release(&d, true);
    let _ = std::fs::remove_file(d.join(CTL));
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let upstream: Vec<String> = super::resolv_file(&Default::default(), mode, addrs, &host_resolv)
        .lines()
        .filter_map(|l| l.strip_prefix("nameserver ").map(str::to_string))
        .collect();
    let log = std::fs::File::create(d.join("holder.log")).map_err(|e| err("cannot create holder.log", e))?;
    // The holder says "ready" on its stdout, a socket: with the built-in stack outward, the tap
    // device it made comes along.
    let (r, w) = UnixStream::pair().map_err(|e| err("socketpair", e))?;
    let mut args = vec![MAIN.into(), d.as_os_str().to_owned(), upstream.join(",").into()];
    args.extend(super::tap_annotation(mode).map(|(_, v)| v.into()));
    let mut child = crate::storage::userns::spawn_process(
        idmap,
        &idmap.maps(),
        &args,
        std::process::Stdio::null(),
        std::process::Stdio::from(OwnedFd::from(w)),
        std::process::Stdio::from(log),
        &[],
    )
    .map_err(|e| err("cannot start the network namespace holder", e))?;
    let _ = r.set_read_timeout(Some(Duration::from_secs(20)));
    let (line, mut fds) = recv_request(&r).unwrap_or_default();
    if line.trim() != "ready" {
        let _ = child.kill();
        let _ = child.wait();
        let why = std::fs::read_to_string(d.join("holder.log")).unwrap_or_default();
        return Err(NetError::Helper(format!(
            "the network namespace holder did not start: {}",
            why.lines().last().unwrap_or("no message")
        )));
    }
    let pid = child.id();
    let _ = crate::util::record_process(&d.join(HOLDER_PID), pid);
    if let Err(e) =
        super::attach(mode, pid, super::Device { tap: fds.pop(), pre: None }, &[], &d, addrs, !idmap.is_rootful())
    {
        let _ = child.kill();
        let _ = child.wait();
        return Err(e);
    }
    // The holder stays after this process (a monitor) ends; it is not waited for here.
    drop(child);
    Ok(Holder { pid, dir: d, _lock: lock })
}

/// The PID of the live holder, if there is one. Called under the lock: a holder removes its
/// socket and PID file under it before exiting, so a recorded one that lives still serves (a
/// probe connection would only wake it for an empty request).
fn running_holder(d: &Path) -> Option<u32> {
    let pid = crate::util::recorded_process(&d.join(HOLDER_PID))?;
    d.join(CTL).exists().then_some(pid)
}

impl Holder {
    /// Sends a request (with the container's PID 1 for `attach`) and returns the address.
    pub fn call(
        &self,
        req: &Request,
        pid1: Option<u32>,
        listeners: Vec<OwnedFd>,
    ) -> Result<Option<Ipv4Addr>, NetError> {
        let h = crate::util::DirHandle::open(&self.dir).map_err(|e| err("cannot open the network directory", e))?;
        let mut s =
            UnixStream::connect(h.path(CTL)).map_err(|e| err("cannot reach the network namespace holder", e))?;
        let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
        let mut line = serde_json::to_vec(req).map_err(|e| err("request", e))?;
        line.push(b'\n');
        let mut fds: Vec<OwnedFd> = Vec::new();
        if let Some(pid) = pid1 {
            let ns = std::fs::File::open(format!("/proc/{pid}/ns/net"))
                .map_err(|e| err("cannot open the container's network namespace", e))?;
            fds.push(ns.into());
            let pidfd = rustix::process::Pid::from_raw(pid as i32)
                .ok_or(rustix::io::Errno::SRCH)
                .and_then(|p| rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()))
                .map_err(|e| err("pidfd_open", e))?;
            fds.push(pidfd);
        }
        fds.extend(listeners);
        send_with_fds(&s, &line, &fds).map_err(|e| err("cannot send to the network namespace holder", e))?;
        let mut answer = String::new();
        std::io::BufReader::new(&mut s)
            .read_line(&mut answer)
            .map_err(|e| err("no answer from the network namespace holder", e))?;
        let r: Reply = serde_json::from_str(&answer)
            .map_err(|_| NetError::Helper("the network namespace holder gave no answer; see its holder.log".into()))?;
        match r.error {
            Some(e) => Err(NetError::Invalid(e)),
            None => Ok(r.ip),
        }
    }
}

/// Tells the user's holder, if one runs, that the container left `network` (disconnect).
pub fn detach(runtime: &Path, id: &str, network: &Network) -> Result<(), NetError> {
    let d = dir(runtime);
    let Ok(lock) = crate::state::lock::FileLock::exclusive(&d.join(LOCK)) else { return Ok(()) };
    let Some(pid) = running_holder(&d) else { return Ok(()) };
    let h = Holder { pid, dir: d, _lock: lock };
    let req = Request {
        op: "detach".into(),
        id: id.into(),
        network: network.clone(),
        names: vec![],
        ip: None,
        ifname: String::new(),
        default_route: false,
        ports: vec![],
    };
    h.call(&req, None, vec![]).map(|_| ())
}

fn send_with_fds(s: &UnixStream, data: &[u8], fds: &[OwnedFd]) -> std::io::Result<()> {
    let raw: Vec<i32> = fds.iter().map(|f| f.as_raw_fd()).collect();
    crate::fdpass::send(s.as_raw_fd(), data, &raw)
}

/// Reads one request line and the descriptors sent with it.
fn recv_request(s: &UnixStream) -> std::io::Result<(String, Vec<OwnedFd>)> {
    let mut fds = Vec::new();
    let mut data = Vec::new();
    let mut buf = vec![0u8; 65536];
    while !data.contains(&b'\n') {
        let (n, got) = crate::fdpass::recv(s.as_raw_fd(), &mut buf)?;
        fds.extend(got);
        if n == 0 {
            break;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Ok((String::from_utf8_lossy(&data).into_owned(), fds))
}

// ---- the holder process ----

struct Attachment {
    network: String,
    ip: Ipv4Addr,
    names: Vec<String>,
    veth: String,
}

struct Member {
    pidfd: OwnedFd,
    attachments: Vec<Attachment>,
    /// Published ports: host listeners (passed by the monitor) and where they lead.
    listeners: Vec<(std::net::TcpListener, Ipv4Addr, u16)>,
    /// Published UDP ports.
    relays: Vec<UdpRelay>,
}

/// How long a UDP client's flow lives without a datagram either way.
const UDP_FLOW_IDLE: Duration = Duration::from_secs(60);

/// A published UDP port: datagrams from each host client go out of a socket of their own in
/// this namespace to the container, whose answers return to that client from the host port.
struct UdpRelay {
    host: UdpSocket,
    target: std::net::SocketAddrV4,
    flows: BTreeMap<std::net::SocketAddr, (UdpSocket, Instant)>,
    /// One datagram, either way (kept: a relay wakes for every burst).
    buf: Vec<u8>,
}

impl UdpRelay {
    /// Datagrams waiting on the host port, each sent on to the container.
    fn relay_inward(&mut self) {
        while let Ok((n, client)) = self.host.recv_from(&mut self.buf) {
            if !self.flows.contains_key(&client) {
                let Ok(inner) = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)) else { continue };
                if inner.connect(self.target).is_err() || inner.set_nonblocking(true).is_err() {
                    continue;
                }
                self.flows.insert(client, (inner, Instant::now()));
            }
            if let Some((inner, last)) = self.flows.get_mut(&client) {
                let _ = inner.send(&self.buf[..n]);
                *last = Instant::now();
            }
        }
    }

    /// The container's answers on one client's flow, back to that client.
    fn relay_outward(&mut self, client: std::net::SocketAddr) {
        let Some((inner, last)) = self.flows.get_mut(&client) else { return };
        while let Ok(n) = inner.recv(&mut self.buf) {
            let _ = self.host.send_to(&self.buf[..n], client);
            *last = Instant::now();
        }
    }

    fn expire(&mut self) {
        self.flows.retain(|_, (_, last)| last.elapsed() < UDP_FLOW_IDLE);
    }
}

struct Bridge {
    net: Network,
    dns: UdpSocket,
}

struct State {
    dir: PathBuf,
    own_netns: std::fs::File,
    nl: Netlink,
    upstream: Vec<Ipv4Addr>,
    bridges: BTreeMap<String, Bridge>,
    members: BTreeMap<String, Member>,
}

fn fail(msg: impl std::fmt::Display) -> std::process::ExitCode {
    eprintln!("kiste network namespace holder: {msg}");
    std::process::ExitCode::from(125)
}

/// `kiste __network-ns DIR UPSTREAMS [TAP]`: entered through the user-namespace handshake;
/// TAP (a runtime tap annotation's value) asks for the built-in stack's device.
pub fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let Some(d) = args.first().map(PathBuf::from) else { return fail("bad arguments") };
    let upstream = args.get(1).map(|s| s.split(',').filter_map(|a| a.parse().ok()).collect()).unwrap_or_default();
    let tap = match args.get(2).map(|t| crate::runtime::tap::TapConfig::parse(t)).transpose() {
        Ok(t) => t,
        Err(e) => return fail(e),
    };
    if let Err(e) = crate::storage::userns::enter_from_parent() {
        return fail(format!("cannot enter the user namespace: {e}"));
    }
    let (mut st, tap) = match setup(&d, upstream, tap.as_ref()) {
        Ok(s) => s,
        Err(e) => return fail(e),
    };
    let listener = match crate::util::DirHandle::open(&d).and_then(|h| UnixListener::bind(h.path(CTL))) {
        Ok(l) => l,
        Err(e) => return fail(format!("cannot create {CTL}: {e}")),
    };
    // Our own session: a terminal's hangup or the caller's process group must not reach us.
    let _ = nix::unistd::setsid();
    // SAFETY: our stdout is the starter's socket; ManuallyDrop leaves it open (replaced below).
    let out = std::mem::ManuallyDrop::new(unsafe { UnixStream::from_raw_fd(1) });
    if let Err(e) = send_with_fds(&out, b"ready\n", tap.as_slice()) {
        return fail(format!("cannot tell the starter: {e}"));
    }
    // The stack behind the device holds it from now on.
    drop(tap);
    // SAFETY: closing our stdout (the caller's pipe) by replacing it with /dev/null.
    unsafe {
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
        if null >= 0 {
            libc::dup2(null, 1);
            libc::close(null);
        }
    }
    serve(&mut st, &listener);
    std::process::ExitCode::SUCCESS
}

/// The holder's namespace, and the tap device (its way out) when `tap` asks for one.
fn setup(
    d: &Path,
    upstream: Vec<Ipv4Addr>,
    tap: Option<&crate::runtime::tap::TapConfig>,
) -> Result<(State, Option<OwnedFd>), String> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("cannot create the network namespace: {e}"))?;
    let own_netns = std::fs::File::open("/proc/thread-self/ns/net").map_err(|e| format!("own namespace: {e}"))?;
    let mut nl = Netlink::open().map_err(|e| format!("netlink: {e}"))?;
    nl.up("lo", None).map_err(|e| e.to_string())?;
    let tap = tap.map(crate::runtime::tap::create).transpose().map_err(|e| e.message)?;
    std::fs::write("/proc/sys/net/ipv4/ip_forward", "1").map_err(|e| format!("cannot enable forwarding: {e}"))?;
    let st =
        State { dir: d.to_path_buf(), own_netns, nl, upstream, bridges: BTreeMap::new(), members: BTreeMap::new() };
    firewall(&st)?;
    Ok((st, tap))
}

/// The nftables rules of the namespace: bridges reach the outside (masqueraded) unless
/// internal, and never each other.
fn ruleset(bridges: &[(&Network, bool)]) -> String {
    let mut fwd = String::new();
    let mut nat = String::new();
    for (n, internal) in bridges {
        // Within one bridge: seen here only where br_netfilter makes bridged traffic pass
        // the IP hooks, which would otherwise drop it.
        fwd += &format!("    iifname \"{0}\" oifname \"{0}\" accept\n", n.network_interface);
        if *internal {
            continue;
        }
        fwd += &format!("    iifname \"{}\" oifname != \"kiste*\" accept\n", n.network_interface);
        for s in &n.subnets {
            nat += &format!("    ip saddr {} oifname != \"kiste*\" masquerade\n", s.subnet);
        }
    }
    format!(
        "table ip kiste\ndelete table ip kiste\ntable ip kiste {{\n  chain forward {{\n    type filter hook forward priority 0; policy drop;\n    ct state established,related accept\n{fwd}  }}\n  chain postrouting {{\n    type nat hook postrouting priority 100;\n{nat}  }}\n}}\n"
    )
}

fn firewall(st: &State) -> Result<(), String> {
    let list: Vec<(&Network, bool)> = st.bridges.values().map(|b| (&b.net, b.net.internal)).collect();
    let text = ruleset(&list);
    let nft = crate::engine::info::which("nft").ok_or("nft not found; install the \"nftables\" package")?;
    let mut child = std::process::Command::new(nft)
        .args(["-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run nft: {e}"))?;
    if let Some(mut i) = child.stdin.take() {
        let _ = i.write_all(text.as_bytes());
    }
    let out = child.wait_with_output().map_err(|e| format!("nft: {e}"))?;
    if !out.status.success() {
        return Err(format!("nft failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(())
}

fn serve(st: &mut State, listener: &UnixListener) {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let started = Instant::now();
    let mut had_members = false;
    loop {
        // Exit once the last member is gone (or none came), unless a caller holds the lock
        // (it is about to join) or is already waiting on the socket.
        if st.members.is_empty()
            && (had_members || started.elapsed() > IDLE)
            && let Ok(Some(_lock)) = crate::state::lock::FileLock::try_exclusive(&st.dir.join(LOCK))
        {
            let mut probe = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
            if !matches!(poll(&mut probe, PollTimeout::ZERO), Ok(n) if n > 0) {
                let _ = std::fs::remove_file(st.dir.join(CTL));
                let _ = std::fs::remove_file(st.dir.join(HOLDER_PID));
                super::release(&st.dir, false);
                return;
            }
        }
        let ids: Vec<String> = st.members.keys().cloned().collect();
        let nets: Vec<String> = st.bridges.keys().cloned().collect();
        let ports: Vec<(String, usize)> =
            st.members.iter().flat_map(|(id, m)| (0..m.listeners.len()).map(move |i| (id.clone(), i))).collect();
        // UDP: each relay's host socket (no client) and each of its flows (a client).
        let udp: Vec<(String, usize, Option<std::net::SocketAddr>)> = st
            .members
            .iter()
            .flat_map(|(id, m)| {
                m.relays.iter().enumerate().flat_map(move |(i, r)| {
                    std::iter::once((id.clone(), i, None)).chain(r.flows.keys().map(move |c| (id.clone(), i, Some(*c))))
                })
            })
            .collect();
        let (ready_ctl, ready_dns, ended, ready_udp) = {
            let mut fds = vec![PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
            fds.extend(nets.iter().map(|n| PollFd::new(st.bridges[n].dns.as_fd(), PollFlags::POLLIN)));
            fds.extend(ids.iter().map(|i| PollFd::new(st.members[i].pidfd.as_fd(), PollFlags::POLLIN)));
            fds.extend(
                ports.iter().map(|(id, i)| PollFd::new(st.members[id].listeners[*i].0.as_fd(), PollFlags::POLLIN)),
            );
            fds.extend(udp.iter().map(|(id, i, client)| {
                let r = &st.members[id].relays[*i];
                let fd = match client {
                    None => r.host.as_fd(),
                    Some(c) => r.flows[c].0.as_fd(),
                };
                PollFd::new(fd, PollFlags::POLLIN)
            }));
            match poll(&mut fds, PollTimeout::from(1000u16)) {
                Ok(_) => {}
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => return,
            }
            let ready = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
            let dns: Vec<String> =
                nets.iter().enumerate().filter(|(i, _)| ready(&fds[1 + i])).map(|(_, n)| n.clone()).collect();
            let ended: Vec<String> = ids
                .iter()
                .enumerate()
                .filter(|(i, _)| ready(&fds[1 + nets.len() + i]))
                .map(|(_, n)| n.clone())
                .collect();
            let base = 1 + nets.len() + ids.len();
            let conns: Vec<&(String, usize)> =
                ports.iter().enumerate().filter(|(i, _)| ready(&fds[base + i])).map(|(_, p)| p).collect();
            let base = base + ports.len();
            let ready_udp: Vec<&(String, usize, Option<std::net::SocketAddr>)> =
                udp.iter().enumerate().filter(|(i, _)| ready(&fds[base + i])).map(|(_, u)| u).collect();
            for (id, i) in conns {
                let (l, ip, port) = &st.members[id].listeners[*i];
                while let Ok((client, _)) = l.accept() {
                    let target = (*ip, *port);
                    std::thread::spawn(move || proxy(client, target));
                }
            }
            (ready(&fds[0]), dns, ended, ready_udp)
        };
        for (id, i, client) in ready_udp {
            if let Some(r) = st.members.get_mut(id).and_then(|m| m.relays.get_mut(*i)) {
                match client {
                    None => r.relay_inward(),
                    Some(c) => r.relay_outward(*c),
                }
            }
        }
        for r in st.members.values_mut().flat_map(|m| m.relays.iter_mut()) {
            r.expire();
        }
        for id in ended {
            if let Some(m) = st.members.remove(&id) {
                for a in m.attachments {
                    let _ = st.nl.delete(&a.veth);
                    drop_bridge_if_unused(st, &a.network);
                }
            }
        }
        for n in ready_dns {
            answer_dns(st, &n);
        }
        if ready_ctl && let Ok((conn, _)) = listener.accept() {
            let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
            let reply = match recv_request(&conn) {
                Ok((line, fds)) => match serde_json::from_str::<Request>(&line) {
                    Ok(req) => handle(st, req, fds),
                    Err(e) => Reply { ip: None, error: Some(format!("bad request: {e}")) },
                },
                Err(e) => Reply { ip: None, error: Some(format!("cannot read the request: {e}")) },
            };
            had_members |= !st.members.is_empty();
            let mut line = serde_json::to_vec(&reply).unwrap_or_default();
            line.push(b'\n');
            let _ = (&conn).write_all(&line);
        }
    }
}

fn handle(st: &mut State, req: Request, fds: Vec<OwnedFd>) -> Reply {
    let r = match req.op.as_str() {
        "attach" => attach(st, &req, fds),
        "detach" => {
            if let Some(m) = st.members.get_mut(&req.id) {
                let (gone, keep): (Vec<Attachment>, Vec<Attachment>) =
                    m.attachments.drain(..).partition(|a| a.network == req.network.name);
                m.attachments = keep;
                for a in gone {
                    let _ = st.nl.delete(&a.veth);
                }
            }
            drop_bridge_if_unused(st, &req.network.name);
            Ok(None)
        }
        o => Err(format!("unknown request {o}")),
    };
    match r {
        Ok(ip) => Reply { ip, error: None },
        Err(e) => Reply { ip: None, error: Some(e) },
    }
}

fn drop_bridge_if_unused(st: &mut State, network: &str) {
    let used = st.members.values().any(|m| m.attachments.iter().any(|a| a.network == network));
    if !used && let Some(b) = st.bridges.remove(network) {
        let _ = st.nl.delete(&b.net.network_interface);
        if let Err(e) = firewall(st) {
            eprintln!("kiste network namespace holder: {e}");
        }
    }
}

fn ensure_bridge(st: &mut State, net: &Network) -> Result<(), String> {
    if let Some(b) = st.bridges.get(&net.name) {
        if b.net.id == net.id {
            return Ok(());
        }
        // The network was removed and made again under the same name.
        return Err(format!("network {} was recreated while containers still use the old one", net.name));
    }
    let s = net.subnets.first().ok_or_else(|| format!("network {} has no subnet", net.name))?;
    let (_, prefix) = parse_cidr(&s.subnet).map_err(|e| e.to_string())?;
    let iface = &net.network_interface;
    // A leftover of an earlier use of the name (a network removed and another made).
    let _ = st.nl.delete(iface);
    st.nl.add_bridge(iface).map_err(|e| e.to_string())?;
    let set = |nl: &mut Netlink| -> std::io::Result<()> {
        nl.add_addr(iface, s.gateway, prefix)?;
        nl.up(iface, None)
    };
    set(&mut st.nl).map_err(|e| e.to_string())?;
    let dns =
        UdpSocket::bind((s.gateway, 53)).map_err(|e| format!("cannot listen for DNS on {}:53: {e}", s.gateway))?;
    let _ = dns.set_nonblocking(true);
    st.bridges.insert(net.name.clone(), Bridge { net: net.clone(), dns });
    if let Err(e) = firewall(st) {
        st.bridges.remove(&net.name);
        let _ = st.nl.delete(iface);
        return Err(e);
    }
    Ok(())
}

fn attach(st: &mut State, req: &Request, fds: Vec<OwnedFd>) -> Result<Option<Ipv4Addr>, String> {
    let mut fds = fds.into_iter();
    let (Some(netns), Some(pidfd)) = (fds.next(), fds.next()) else {
        return Err("attach needs the container's network namespace and process".into());
    };
    let net = &req.network;
    if st.members.get(&req.id).is_some_and(|m| m.attachments.iter().any(|a| a.network == net.name)) {
        return Err(format!("the container is already connected to network {}", net.name));
    }
    ensure_bridge(st, net)?;
    let s = &net.subnets[0];
    let (base, prefix) = parse_cidr(&s.subnet).map_err(|e| e.to_string())?;
    let used: Vec<Ipv4Addr> = st
        .members
        .values()
        .flat_map(|m| m.attachments.iter())
        .filter(|a| a.network == net.name)
        .map(|a| a.ip)
        .collect();
    let last = u32::from(base) | !mask(prefix);
    let ip = match req.ip {
        Some(ip) => {
            if !super::named::contains(&s.subnet, ip) || ip == s.gateway || u32::from(ip) == last || ip == base {
                return Err(format!(
                    "IP {ip} is not a free host address in network {}'s subnet {}",
                    net.name, s.subnet
                ));
            }
            if used.contains(&ip) {
                return Err(format!("IP {ip} is already in use on network {}; pick another --ip", net.name));
            }
            ip
        }
        None => (u32::from(base) + 1..last)
            .map(Ipv4Addr::from)
            .find(|a| *a != s.gateway && !used.contains(a))
            .ok_or_else(|| format!("network {} has no free address left", net.name))?,
    };
    let n = st.members.get(&req.id).map(|m| m.attachments.len()).unwrap_or(0);
    let veth = format!("vk{}{}", &req.id[..req.id.len().min(10)], n);
    let _ = st.nl.delete(&veth);
    st.nl.add_veth(&veth, &req.ifname, netns.as_raw_fd()).map_err(|e| e.to_string())?;
    let inside = configure_inside(
        st,
        &netns,
        &req.ifname,
        ip,
        prefix,
        (req.default_route && !net.internal).then_some(s.gateway),
    );
    let plug = inside.and_then(|_| st.nl.up(&veth, Some(&net.network_interface)).map_err(|e| e.to_string()));
    if let Err(e) = plug {
        let _ = st.nl.delete(&veth);
        drop_bridge_if_unused(st, &net.name);
        return Err(e);
    }
    let a = Attachment {
        network: net.name.clone(),
        ip,
        names: req.names.iter().map(|n| n.to_ascii_lowercase()).collect(),
        veth,
    };
    let m = st.members.entry(req.id.clone()).or_insert(Member {
        pidfd,
        attachments: Vec::new(),
        listeners: Vec::new(),
        relays: Vec::new(),
    });
    m.attachments.push(a);
    for (fd, p) in fds.zip(req.ports.iter()) {
        if p.udp {
            let host = UdpSocket::from(fd);
            let _ = host.set_nonblocking(true);
            m.relays.push(UdpRelay {
                host,
                target: std::net::SocketAddrV4::new(ip, p.port),
                flows: BTreeMap::new(),
                buf: vec![0; 65536],
            });
        } else {
            let l = std::net::TcpListener::from(fd);
            let _ = l.set_nonblocking(true);
            m.listeners.push((l, ip, p.port));
        }
    }
    Ok(Some(ip))
}

/// Inside the container's network namespace (this thread visits it): address, link up,
/// loopback up, default route.
fn configure_inside(
    st: &State,
    netns: &OwnedFd,
    ifname: &str,
    ip: Ipv4Addr,
    prefix: u8,
    gateway: Option<Ipv4Addr>,
) -> Result<(), String> {
    nix::sched::setns(netns, nix::sched::CloneFlags::CLONE_NEWNET)
        .map_err(|e| format!("cannot enter the container's network namespace: {e}"))?;
    let r = (|| -> std::io::Result<()> {
        let mut nl = Netlink::open()?;
        nl.add_addr(ifname, ip, prefix)?;
        nl.up(ifname, None)?;
        nl.up("lo", None)?;
        if let Some(g) = gateway {
            nl.add_default_route(g)?;
        }
        Ok(())
    })();
    let back = nix::sched::setns(&st.own_netns, nix::sched::CloneFlags::CLONE_NEWNET);
    if let Err(e) = back {
        // Staying in a container's namespace would be wrong for everything after.
        eprintln!("kiste network namespace holder: cannot return to its own namespace: {e}");
        std::process::exit(125);
    }
    r.map_err(|e| e.to_string())
}

/// Answers the queries waiting on network `name`'s DNS socket.
fn answer_dns(st: &State, name: &str) {
    let Some(b) = st.bridges.get(name) else { return };
    let mut buf = [0u8; 1500];
    while let Ok((n, from)) = b.dns.recv_from(&mut buf) {
        let p = &buf[..n];
        let Some(q) = dns::parse_query(p) else { continue };
        let ips: Vec<Ipv4Addr> = st
            .members
            .values()
            .flat_map(|m| m.attachments.iter())
            .filter(|a| a.network == name && a.names.contains(&q.name))
            .map(|a| a.ip)
            .collect();
        if !ips.is_empty() {
            let _ = b.dns.send_to(&dns::reply(p, &q, &ips, 0), from);
        } else if b.net.internal || st.upstream.is_empty() || !q.name.contains('.') {
            let _ = b.dns.send_to(&dns::reply(p, &q, &[], dns::NXDOMAIN), from);
        } else if let Ok(sock) = b.dns.try_clone() {
            let (query, upstream) = (p.to_vec(), st.upstream.clone());
            std::thread::spawn(move || forward(&sock, &query, from, &upstream));
        }
    }
}

/// One connection to a published port: to the container's address (from this namespace),
/// bytes copied both ways until each side has closed.
fn proxy(client: std::net::TcpStream, target: (Ipv4Addr, u16)) {
    use std::net::{Shutdown, TcpStream};
    let _ = client.set_nonblocking(false);
    let Ok(server) = TcpStream::connect_timeout(&target.into(), Duration::from_secs(10)) else { return };
    let (Ok(mut c2), Ok(mut s2)) = (client.try_clone(), server.try_clone()) else { return };
    let up = std::thread::spawn(move || {
        let _ = std::io::copy(&mut c2, &mut s2);
        let _ = s2.shutdown(Shutdown::Write);
    });
    let (mut c, mut s) = (client, server);
    let _ = std::io::copy(&mut s, &mut c);
    let _ = c.shutdown(Shutdown::Write);
    let _ = up.join();
}

/// Asks the host's resolvers in turn and relays the first answer.
fn forward(reply_on: &UdpSocket, query: &[u8], client: std::net::SocketAddr, upstream: &[Ipv4Addr]) {
    let Ok(s) = UdpSocket::bind((Ipv4Addr::UNSPECIFIED, 0)) else { return };
    let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
    let mut buf = [0u8; 4096];
    for u in upstream {
        if s.send_to(query, (*u, 53)).is_err() {
            continue;
        }
        if let Ok((n, _)) = s.recv_from(&mut buf) {
            let _ = reply_on.send_to(&buf[..n], client);
            return;
        }
    }
    if let Some(q) = dns::parse_query(query) {
        let _ = reply_on.send_to(&dns::reply(query, &q, &[], dns::SERVFAIL), client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_isolate_bridges_and_keep_internal_ones_in() {
        let store = std::env::temp_dir().join(format!("kiste-nsd-test-{}", crate::util::nonce()));
        let s = super::super::named::Store::new(&store);
        let a = s.create(&super::super::named::CreateOptions { name: Some("a".into()), ..Default::default() }).unwrap();
        let b = s
            .create(&super::super::named::CreateOptions {
                name: Some("b".into()),
                internal: true,
                ..Default::default()
            })
            .unwrap();
        let r = ruleset(&[(&a, false), (&b, true)]);
        assert!(r.contains("policy drop"), "{r}");
        assert!(r.contains(&format!("iifname \"{}\" oifname != \"kiste*\" accept", a.network_interface)), "{r}");
        assert!(!r.contains(&format!("iifname \"{}\" oifname !=", b.network_interface)), "{r}");
        assert!(r.contains(&format!("iifname \"{0}\" oifname \"{0}\" accept", b.network_interface)), "{r}");
        assert!(r.contains("ip saddr 10.89.1.0/24 oifname != \"kiste*\" masquerade"), "{r}");
        assert!(!r.contains("10.89.2.0/24"), "{r}");
        let _ = std::fs::remove_dir_all(&store);
    }
}
