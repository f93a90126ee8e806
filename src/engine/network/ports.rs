//! Published ports: `-p`/`--expose` parsing, the text of `ps`'s PORTS column and `kiste port`,
//! and the host-side checks made before a helper binds (in use, below the unprivileged start).
//! Knows nothing of pasta or slirp4netns.

use super::NetError;
use serde::{Deserialize, Serialize};

/// One host port forwarded to one container port.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortMapping {
    /// Host address to bind; empty for all of them.
    pub host_ip: String,
    pub host_port: u16,
    pub container_port: u16,
    /// "tcp" or "udp".
    pub proto: String,
}

impl PortMapping {
    /// `0.0.0.0:8080->80/tcp`, as Podman's PORTS column.
    pub fn display(&self) -> String {
        format!("{}:{}->{}/{}", self.shown_ip(), self.host_port, self.container_port, self.proto)
    }
    pub fn shown_ip(&self) -> &str {
        if self.host_ip.is_empty() { "0.0.0.0" } else { &self.host_ip }
    }
}

fn bad(spec: &str, why: &str) -> NetError {
    NetError::Invalid(format!("invalid port \"{spec}\": {why}"))
}

fn proto_of(spec: &str, s: &str) -> Result<String, NetError> {
    match s {
        "tcp" | "udp" => Ok(s.to_string()),
        _ => Err(bad(spec, "the protocol must be tcp or udp")),
    }
}

/// `N` or `N-M` (inclusive), ports 1-65535.
fn range(spec: &str, s: &str) -> Result<(u16, u16), NetError> {
    let num = |p: &str| -> Result<u16, NetError> {
        p.parse::<u16>().ok().filter(|n| *n > 0).ok_or_else(|| bad(spec, "ports are numbers from 1 to 65535"))
    };
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (num(a)?, num(b)?);
            if b < a {
                return Err(bad(spec, "a range must go from low to high"));
            }
            Ok((a, b))
        }
        None => num(s).map(|n| (n, n)),
    }
}

/// Parses `-p [hostIP:][hostPort:]containerPort[/tcp|/udp]`, with ranges on either side
/// (`8080-8081:80-81`). A missing host port is 0: the caller picks a free one.
pub fn parse(spec: &str) -> Result<Vec<PortMapping>, NetError> {
    let (rest, proto) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, proto_of(spec, p)?),
        None => (spec, "tcp".to_string()),
    };
    // An IPv6 host address comes in brackets: [::1]:8080:80.
    let (ip, rest) = match rest.strip_prefix('[') {
        Some(r) => {
            let (ip, r) = r.split_once("]:").ok_or_else(|| bad(spec, "use [IPv6]:HOSTPORT:PORT"))?;
            (Some(ip.to_string()), r.to_string())
        }
        None => (None, rest.to_string()),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, host, ctr) = match (ip, parts.as_slice()) {
        (None, [c]) => (String::new(), "", *c),
        (None, [h, c]) => (String::new(), *h, *c),
        (None, [ip, h, c]) => (ip.to_string(), *h, *c),
        (Some(ip), [h, c]) => (ip, *h, *c),
        _ => return Err(bad(spec, "use [hostIP:][hostPort:]containerPort[/tcp|/udp]")),
    };
    if !ip.is_empty() && ip.parse::<std::net::IpAddr>().is_err() {
        return Err(bad(spec, &format!("\"{ip}\" is not an IP address")));
    }
    let (c0, c1) = range(spec, ctr)?;
    let count = c1 - c0;
    let (h0, h1) = if host.is_empty() { (0, 0) } else { range(spec, host)? };
    if h0 != 0 && h1 - h0 != count {
        return Err(bad(spec, "the host and container ranges must have the same length"));
    }
    Ok((0..=count)
        .map(|i| PortMapping {
            host_ip: ip.clone(),
            host_port: if h0 == 0 { 0 } else { h0 + i },
            container_port: c0 + i,
            proto: proto.clone(),
        })
        .collect())
}

/// `--expose PORT[/PROTO]` and an image's ExposedPorts key (`80/tcp`): (port, proto) pairs.
pub fn parse_exposed(spec: &str) -> Result<Vec<(u16, String)>, NetError> {
    let (ports, proto) = match spec.split_once('/') {
        Some((p, proto)) => (p, proto_of(spec, proto)?),
        None => (spec, "tcp".to_string()),
    };
    let (a, b) = range(spec, ports)?;
    Ok((a..=b).map(|p| (p, proto.clone())).collect())
}

/// The mappings of `ports` for a container port given as `PORT[/PROTO]` (`kiste port CTR 80`).
pub fn published<'a>(ports: &'a [PortMapping], spec: &str) -> Result<Vec<&'a PortMapping>, NetError> {
    let wanted = parse_exposed(spec)?;
    Ok(ports.iter().filter(|m| wanted.iter().any(|(n, p)| *n == m.container_port && *p == m.proto)).collect())
}

/// The lowest port an unprivileged user may bind.
pub fn unprivileged_start() -> u16 {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1024)
}

fn bind_addr(m: &PortMapping, port: u16) -> String {
    match m.host_ip.as_str() {
        "" => format!("0.0.0.0:{port}"),
        ip if ip.contains(':') => format!("[{ip}]:{port}"),
        ip => format!("{ip}:{port}"),
    }
}

/// Binds the mapping's host side for a moment: Err names the port and the way out. With
/// host port 0 it returns a free port of the kernel's choosing.
fn probe(m: &PortMapping, rootless: bool) -> Result<u16, NetError> {
    bind(m, rootless).map(|(port, _)| port)
}

/// Binds a mapping's host side and keeps it (a user-defined network's published port: the
/// namespace holder accepts on the TCP listener, or relays the UDP socket's datagrams).
pub fn listen(m: &PortMapping, rootless: bool) -> Result<std::os::fd::OwnedFd, NetError> {
    bind(m, rootless).map(|(_, socket)| socket)
}

/// Binds the host side: the port got, and the bound socket (a TCP listener or a UDP socket).
fn bind(m: &PortMapping, rootless: bool) -> Result<(u16, std::os::fd::OwnedFd), NetError> {
    let start = unprivileged_start();
    if rootless && m.host_port != 0 && m.host_port < start {
        return Err(NetError::Invalid(format!(
            "cannot publish port {}/{}: ports below {start} are privileged (net.ipv4.ip_unprivileged_port_start); \
             use a host port of {start} or more (-p {start}:{}), or lower the sysctl",
            m.host_port, m.proto, m.container_port
        )));
    }
    let addr = bind_addr(m, m.host_port);
    let bound = if m.proto == "udp" {
        std::net::UdpSocket::bind(&addr).and_then(|s| Ok((s.local_addr()?.port(), s.into())))
    } else {
        std::net::TcpListener::bind(&addr).and_then(|l| Ok((l.local_addr()?.port(), l.into())))
    };
    match bound {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::AddrInUse => Err(NetError::Invalid(format!(
            "cannot publish port {}/{}: {addr} is already in use on the host; choose another host port",
            m.host_port, m.proto
        ))),
        Err(e) if e.kind() == std::io::ErrorKind::AddrNotAvailable => Err(NetError::Invalid(format!(
            "cannot publish port {}/{}: {} is not an address of this host",
            m.host_port, m.proto, m.host_ip
        ))),
        Err(e) => Err(NetError::Invalid(format!("cannot publish port {}/{} on {addr}: {e}", m.host_port, m.proto))),
    }
}

/// Checks every mapping's host side and fills in free ports for those without one. Two
/// mappings of the same host port and protocol are refused.
pub fn reserve(ports: &mut [PortMapping], rootless: bool) -> Result<(), NetError> {
    for i in 0..ports.len() {
        let got = probe(&ports[i], rootless)?;
        ports[i].host_port = got;
        let m = &ports[i];
        if let Some(o) = ports[..i].iter().find(|o| o.host_port == m.host_port && o.proto == m.proto) {
            return Err(NetError::Invalid(format!(
                "host port {}/{} is published twice (to {} and {})",
                m.host_port, m.proto, o.container_port, m.container_port
            )));
        }
    }
    Ok(())
}

/// Checks the host side again just before a helper binds (the port may have been taken since
/// the container was created).
pub fn check_free(ports: &[PortMapping], rootless: bool) -> Result<(), NetError> {
    ports.iter().try_for_each(|m| probe(m, rootless).map(|_| ()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(ip: &str, h: u16, c: u16, p: &str) -> PortMapping {
        PortMapping { host_ip: ip.into(), host_port: h, container_port: c, proto: p.into() }
    }

    #[test]
    fn port_specs_parse_as_podman_reads_them() {
        assert_eq!(parse("80").unwrap(), [one("", 0, 80, "tcp")]);
        assert_eq!(parse("8080:80").unwrap(), [one("", 8080, 80, "tcp")]);
        assert_eq!(parse("127.0.0.1:8080:80/udp").unwrap(), [one("127.0.0.1", 8080, 80, "udp")]);
        assert_eq!(parse("127.0.0.1::80").unwrap(), [one("127.0.0.1", 0, 80, "tcp")]);
        assert_eq!(parse("[::1]:8080:80").unwrap(), [one("::1", 8080, 80, "tcp")]);
        assert_eq!(parse("8080-8081:80-81").unwrap(), [one("", 8080, 80, "tcp"), one("", 8081, 81, "tcp")]);
        for bad in ["", "0", "70000", "8080:80/sctp", "a:b:c:d", "8080-8082:80-81", "9-8", "x.y:1:2"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_exposed("53/udp").unwrap(), [(53, "udp".to_string())]);
        assert_eq!(parse_exposed("80-81").unwrap(), [(80, "tcp".to_string()), (81, "tcp".to_string())]);
        assert_eq!(one("", 8080, 80, "tcp").display(), "0.0.0.0:8080->80/tcp");
        let ports = [one("", 8080, 80, "tcp"), one("", 5353, 53, "udp")];
        assert_eq!(published(&ports, "80").unwrap(), [&ports[0]]);
        assert_eq!(published(&ports, "53/udp").unwrap(), [&ports[1]]);
        assert!(published(&ports, "53").unwrap().is_empty());
    }

    #[test]
    fn reserve_refuses_a_port_in_use_and_fills_free_ones() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let taken = l.local_addr().unwrap().port();
        let mut ports = vec![one("127.0.0.1", taken, 80, "tcp")];
        let e = reserve(&mut ports, true).unwrap_err().to_string();
        assert!(e.contains(&taken.to_string()) && e.contains("in use"), "{e}");
        let mut ports = vec![one("127.0.0.1", 0, 80, "tcp"), one("127.0.0.1", 0, 53, "udp")];
        reserve(&mut ports, true).unwrap();
        assert!(ports.iter().all(|p| p.host_port > 0), "{ports:?}");
        if unprivileged_start() > 1 {
            let mut low = vec![one("", 1, 80, "tcp")];
            let e = reserve(&mut low, true).unwrap_err().to_string();
            assert!(e.contains("ip_unprivileged_port_start"), "{e}");
        }
        let free = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut twice = vec![one("127.0.0.1", free, 80, "tcp"), one("127.0.0.1", free, 81, "tcp")];
        let e = reserve(&mut twice, true).unwrap_err().to_string();
        assert!(e.contains("twice"), "{e}");
    }
}
