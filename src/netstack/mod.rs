//! The built-in container network: a user-mode TCP/IP stack (libslirp, the library slirp4netns
//! is built on) behind a tap device that the container's PID 1 made in its own network
//! namespace. `spawn` runs it as `kiste __netstack`, a re-exec of kiste (a fresh, small image:
//! no copy of its starter's memory), with the forwards, before the container exists: the
//! process loads libslirp, binds the forwards' host ports and confines itself (sandbox.rs)
//! while the runtime makes the container, so none of that is on the start's critical path;
//! `Starting::connect` then hands it PID 1's tap device and a pidfd of PID 1, and it serves
//! (stack.rs) until PID 1 ends. Knows nothing of containers, the CLI or the state database.
//!
//! Why libslirp and not a Rust stack (smoltcp): libslirp already does what a container network
//! needs — NAT of any outbound TCP/UDP connection to host sockets, ICMP echo through ping
//! sockets, a DNS forwarder following the host's resolv.conf, the host's loopback as the
//! gateway, inbound forwards that keep the client's address — and has done it for QEMU and
//! slirp4netns for years; with smoltcp all of that is ours to write. It is loaded with dlopen
//! (ffi.rs), so only this process pays for it. Why a process of its own: a seccomp filter and a
//! mount namespace can confine it without touching the monitor, and it costs ~1 MB.

mod ffi;
mod sandbox;
mod splice;
mod stack;

use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// Hidden argv[1] of the network process.
pub const MAIN: &str = "__netstack";

#[derive(Debug, thiserror::Error)]
pub enum NetstackError {
    /// Forward number `index` could not bind its host side.
    #[error("cannot bind the host side of forward {index}: {error}")]
    Port { index: usize, error: std::io::Error },
    #[error("the network process failed: {0}")]
    Start(String),
}

/// The network the stack serves (slirp4netns's addresses).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    pub network: Ipv4Addr,
    pub prefix: u8,
    /// The stack itself; connections to it reach the host's loopback.
    pub gateway: Ipv4Addr,
    /// The DNS forwarder.
    pub dns: Ipv4Addr,
    /// The container's address.
    pub guest: Ipv4Addr,
    pub mtu: u32,
}

pub const PLAN: Plan = Plan {
    network: Ipv4Addr::new(10, 0, 2, 0),
    prefix: 24,
    gateway: Ipv4Addr::new(10, 0, 2, 2),
    dns: Ipv4Addr::new(10, 0, 2, 3),
    guest: Ipv4Addr::new(10, 0, 2, 100),
    mtu: 65520,
};

/// One published port: connections (or datagrams) to `host` go to the container's `guest_port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forward {
    pub udp: bool,
    pub host: SocketAddr,
    pub guest_port: u16,
}

impl Forward {
    /// `tcp,ADDR:PORT,GUEST` (IPv6 addresses in brackets), as passed on the command line.
    fn arg(&self) -> String {
        format!("{},{},{}", if self.udp { "udp" } else { "tcp" }, self.host, self.guest_port)
    }

    fn parse(s: &str) -> Option<Forward> {
        let mut f = s.splitn(3, ',');
        let udp = match f.next()? {
            "tcp" => false,
            "udp" => true,
            _ => return None,
        };
        Some(Forward { udp, host: f.next()?.parse().ok()?, guest_port: f.next()?.parse().ok()? })
    }
}

/// Whether libslirp can be loaded here (checked without loading it: that costs ~2 ms).
pub fn available() -> bool {
    let dirs = ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/lib64"];
    dirs.iter().any(|d| Path::new(d).join(ffi::LIBRARY).exists())
}

/// Why `available` is false, for an error message.
pub fn missing() -> String {
    format!("{} not found; install the \"libslirp0\" package", ffi::LIBRARY)
}

/// A network process on its way up: it loads libslirp, binds the forwards' host ports and
/// confines itself while the container is being made; `connect` gives it PID 1's device.
/// Dropped unconnected, it is killed.
pub struct Starting {
    child: Option<std::process::Child>,
    ctl: UnixStream,
}

/// Starts the network process. `tag` names it in `ps` (a directory of the caller's); its
/// messages go to `log`.
pub fn spawn(tag: &Path, forwards: &[Forward], log: std::fs::File) -> Result<Starting, NetstackError> {
    let fail = |what: &str, e: std::io::Error| NetstackError::Start(format!("{what}: {e}"));
    let (ctl, theirs) = UnixStream::pair().map_err(|e| fail("socketpair", e))?;
    let mut cmd = std::process::Command::new("/proc/self/exe");
    cmd.arg(MAIN)
        .arg(tag)
        .arg(theirs.as_raw_fd().to_string())
        .args(forwards.iter().map(Forward::arg))
        .env_clear()
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(log);
    // Inherited across exec by this child only (ours stay close-on-exec).
    crate::storage::userns::keep_fds(&mut cmd, vec![theirs.as_raw_fd()]);
    let child = cmd.spawn().map_err(|e| fail("cannot start it", e))?;
    Ok(Starting { child: Some(child), ctl })
}

impl Starting {
    /// Waits until the process is up (its ports bound), hands it PID 1's tap device and a
    /// pidfd of PID 1 (it ends with PID 1), and returns its PID (our child).
    pub fn connect(mut self, tap: OwnedFd, pid1: u32) -> Result<u32, NetstackError> {
        wait_ready(&self.ctl)?;
        let pidfd = rustix::process::Pid::from_raw(pid1 as i32)
            .ok_or(rustix::io::Errno::SRCH)
            .and_then(|p| rustix::process::pidfd_open(p, rustix::process::PidfdFlags::empty()))
            .map_err(|e| NetstackError::Start(format!("pidfd_open: {e}")))?;
        crate::fdpass::send(self.ctl.as_raw_fd(), b"go", &[tap.as_raw_fd(), pidfd.as_raw_fd()])
            .map_err(|e| NetstackError::Start(format!("cannot hand it the device: {e}")))?;
        let child = self.child.take().ok_or_else(|| NetstackError::Start("already connected".into()))?;
        Ok(child.id())
    }
}

impl Drop for Starting {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The network process: the device and pidfd its starter sends (None: the start was called off).
fn receive_fds(s: &UnixStream) -> Option<(OwnedFd, OwnedFd)> {
    let (_, fds) = crate::fdpass::recv(s.as_raw_fd(), &mut [0u8; 2]).ok()?;
    let [tap, pidfd] = <[OwnedFd; 2]>::try_from(fds).ok()?;
    Some((tap, pidfd))
}

/// The process's one line: `ok`, `port INDEX ERRNO` or `err MESSAGE`.
fn wait_ready(ctl: &UnixStream) -> Result<(), NetstackError> {
    let _ = ctl.set_read_timeout(Some(Duration::from_secs(10)));
    let mut line = String::new();
    let _ = BufReader::new(ctl).read_line(&mut line);
    let line = line.trim();
    let mut w = line.splitn(3, ' ');
    match (w.next(), w.next(), w.next()) {
        (Some("ok"), _, _) => Ok(()),
        (Some("port"), Some(i), Some(errno)) => Err(NetstackError::Port {
            index: i.parse().unwrap_or(0),
            error: std::io::Error::from_raw_os_error(errno.parse().unwrap_or(libc::EIO)),
        }),
        (Some("err"), _, _) => Err(NetstackError::Start(line.trim_start_matches("err ").to_string())),
        _ => Err(NetstackError::Start("it exited, or did not start within 10 s".into())),
    }
}

/// The stack, the loopback relay if any, and the clean pages to give back once serving.
type Ready = (stack::Stack, Option<splice::Relay>, Vec<(usize, usize)>);

/// `kiste __netstack TAG CTLFD [FORWARD...]`.
pub fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(3).collect();
    let Some(ctl) = args.first().and_then(|s| s.parse::<i32>().ok()).filter(|f| *f > 2) else {
        eprintln!("kiste network: bad arguments");
        return std::process::ExitCode::from(125);
    };
    // SAFETY: our starter passed this socket for this purpose; nothing else owns it.
    let ctl = unsafe { UnixStream::from_raw_fd(ctl) };
    close_others(&[ctl.as_raw_fd()]);
    let tell = |line: &str| {
        let _ = (&ctl).write_all(format!("{line}\n").as_bytes());
    };
    let Some(forwards) = args[1..].iter().map(|a| Forward::parse(a)).collect::<Option<Vec<_>>>() else {
        tell("err bad forward arguments");
        return std::process::ExitCode::from(125);
    };
    // Err: the line for the starter.
    let setup = || -> Result<Ready, String> {
        // Forked first: the relay's image is then this small process, without libslirp.
        let local: Vec<(usize, &Forward)> = forwards.iter().enumerate().filter(|(_, f)| splice::is_local(f)).collect();
        let line = |f: stack::SetupFailure| match f {
            stack::SetupFailure::Port(i, e) => format!("port {i} {}", e.raw_os_error().unwrap_or(libc::EIO)),
            stack::SetupFailure::Other(m) => format!("err {m}"),
        };
        let relay = splice::start(&local).map_err(line)?;
        let lib = ffi::load().map_err(|e| format!("err {e}"))?;
        let s = stack::Stack::new(lib, &PLAN, &forwards).map_err(line)?;
        // Read while /proc is still there.
        let clean = crate::pages::own_clean_file_mappings();
        sandbox::enter().map_err(|e| format!("err {e}"))?;
        Ok((s, relay, clean))
    };
    let (mut s, relay, clean) = match setup() {
        Ok(s) => s,
        Err(line) => {
            tell(&line);
            return std::process::ExitCode::from(125);
        }
    };
    tell("ok");
    let Some((tap, pidfd)) = receive_fds(&ctl) else {
        return std::process::ExitCode::SUCCESS;
    };
    drop(ctl);
    if let Some(r) = &relay
        && let Err(e) = r.go(pidfd.as_raw_fd())
    {
        eprintln!("kiste network: cannot start the loopback relay: {e}");
    }
    s.set_tap(tap);
    crate::pages::release(&clean);
    s.run(pidfd);
    std::process::ExitCode::SUCCESS
}

/// Closes every descriptor but stdio and `keep` (the monitor's are close-on-exec already;
/// this holds whatever else a starter might leak).
fn close_others(keep: &[i32]) {
    let Ok(dir) = std::fs::read_dir("/proc/self/fd") else { return };
    let open: Vec<i32> = dir.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect();
    for fd in open {
        if fd > 2 && !keep.contains(&fd) {
            // SAFETY: closing a descriptor nothing in this fresh process uses (the directory
            // iterator's own is closed by now: the listing was collected first).
            unsafe { libc::close(fd) };
        }
    }
}

/// A host address and port as a forward's host side (`""` is every IPv4 address).
pub fn host_addr(ip: &str, port: u16) -> Option<SocketAddr> {
    let ip: IpAddr = if ip.is_empty() { IpAddr::V4(Ipv4Addr::UNSPECIFIED) } else { ip.parse().ok()? };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwards_survive_the_command_line() {
        for f in [
            Forward { udp: false, host: "0.0.0.0:8080".parse().unwrap(), guest_port: 80 },
            Forward { udp: true, host: "[::1]:5353".parse().unwrap(), guest_port: 53 },
        ] {
            assert_eq!(Forward::parse(&f.arg()), Some(f));
        }
        assert_eq!(Forward::parse("sctp,1.2.3.4:1,2"), None);
        assert_eq!(Forward::parse("tcp,1.2.3.4,2"), None);
        assert_eq!(host_addr("", 80), Some("0.0.0.0:80".parse().unwrap()));
        assert_eq!(host_addr("::1", 80), Some("[::1]:80".parse().unwrap()));
        assert_eq!(host_addr("nope", 80), None);
    }
}
