//! Container networking: what `--network` means, the per-container helper that connects a
//! container's own network namespace to the host and forwards its published ports — the
//! built-in stack (`slirp`, the default: crate::netstack on a tap device PID 1 makes), or
//! pasta or slirp4netns — and the /etc/hosts and /etc/resolv.conf the container sees.
//! Makes no namespace itself (the runtime does); external helpers join the container's by PID.
//! User-defined networks (definitions in named.rs) are served by one namespace holder per
//! user (nsd.rs) with a bridge per network, veths (crate::netlink) and a DNS responder (dns.rs).

mod dns;
mod helper;
pub mod mode;
pub mod named;
pub mod nsd;
pub mod ports;

use crate::state::paths::Paths;
pub use helper::{Device, attach, prestart, release};
pub use mode::NetworkMode;
pub use ports::PortMapping;
use std::net::Ipv4Addr;

#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Helper(String),
    #[error("network {0} not found; create it with `kiste network create {0}` or see `kiste network ls`")]
    NotFound(String),
}

const PASTA: &str = "pasta";
const SLIRP: &str = "slirp4netns";
/// The built-in stack (crate::netstack): no helper program, the default.
const BUILTIN: &str = "slirp";

/// Resolves `--network` to the mode kept with the container: none, host, slirp, pasta,
/// slirp4netns or `container:NAME` (the name as given; a user-defined network name gives
/// NotFound: the caller looks it up). Without one: containers.conf's
/// `default_rootless_network_cmd` when set (pasta or slirp4netns, as Podman), else the
/// built-in stack (libslirp installed), else pasta when installed, else slirp4netns. A helper
/// that is not installed is named with its package.
pub fn resolve_mode(paths: &Paths, requested: Option<&str>) -> Result<NetworkMode, NetError> {
    let which = crate::engine::info::which;
    let mode = match requested.unwrap_or("") {
        "" | "default" => match configured_default(paths)? {
            Some(m) => m,
            None if crate::netstack::available() => return Ok(NetworkMode::Builtin),
            None if which(PASTA).is_some() => NetworkMode::Pasta,
            None => NetworkMode::Slirp4netns,
        },
        "none" => return Ok(NetworkMode::None),
        "host" => return Ok(NetworkMode::Host),
        BUILTIN if crate::netstack::available() => return Ok(NetworkMode::Builtin),
        BUILTIN => return Err(NetError::Invalid(crate::netstack::missing())),
        PASTA => NetworkMode::Pasta,
        SLIRP => NetworkMode::Slirp4netns,
        other if other.starts_with("container:") => {
            return Ok(NetworkMode::Container(other.trim_start_matches("container:").to_string()));
        }
        // Podman's default network (named::DEFAULT_NETWORK), as a named one.
        "bridge" => return Err(NetError::NotFound("bridge".into())),
        "private" => {
            return Err(NetError::Invalid(
                "network mode \"private\" is not supported; use --network NAME (a network), bridge, slirp, pasta, \
                 slirp4netns, none or host"
                    .into(),
            ));
        }
        other => return Err(NetError::NotFound(other.to_string())),
    };
    let (program, package) = if mode == NetworkMode::Pasta { (PASTA, "passt") } else { (SLIRP, SLIRP) };
    if which(program).is_none() {
        return Err(NetError::Invalid(format!("{program} not found; install the \"{package}\" package")));
    }
    Ok(mode)
}

/// Podman's setting for the default network helper, `[network] default_rootless_network_cmd`
/// in containers.conf: `$CONTAINERS_CONF` alone when set, else /usr/share/containers, then
/// /etc/containers, then the user's (see `Paths::user_containers_config`); the last one set wins.
fn configured_default(paths: &Paths) -> Result<Option<NetworkMode>, NetError> {
    let files: Vec<std::path::PathBuf> = match std::env::var_os("CONTAINERS_CONF").filter(|v| !v.is_empty()) {
        Some(f) => vec![f.into()],
        None => {
            let mut f = vec!["/usr/share/containers/containers.conf".into(), "/etc/containers/containers.conf".into()];
            f.extend(paths.user_containers_config.as_ref().map(|d| d.join("containers.conf")));
            f
        }
    };
    let mut found = None;
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else { continue };
        if let Some(v) = network_cmd_setting(&text) {
            found = Some(match v.as_str() {
                PASTA => NetworkMode::Pasta,
                SLIRP => NetworkMode::Slirp4netns,
                other => {
                    return Err(NetError::Invalid(format!(
                        "{}: default_rootless_network_cmd = \"{other}\" is not a network helper; use \"pasta\" \
                         or \"slirp4netns\"",
                        f.display()
                    )));
                }
            });
        }
    }
    Ok(found)
}

/// The value of `default_rootless_network_cmd` in the `[network]` table of a containers.conf
/// text (a TOML string), if set there.
fn network_cmd_setting(text: &str) -> Option<String> {
    let mut table = String::new();
    let mut value = None;
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        if let Some(t) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            table = t.trim().to_string();
        } else if table == "network"
            && let Some((k, v)) = line.split_once('=')
            && k.trim() == "default_rootless_network_cmd"
        {
            value = Some(v.trim().trim_matches(|c| c == '"' || c == '\'').to_string());
        }
    }
    value
}

/// The outward helper of user-defined networks: the default helper (see [`resolve_mode`]).
pub fn outward_mode(paths: &Paths) -> Result<NetworkMode, NetError> {
    resolve_mode(paths, None)
}

/// The runtime annotation (key, value) that has PID 1 make the tap device of `mode`, if any.
pub fn tap_annotation(mode: &NetworkMode) -> Option<(&'static str, String)> {
    let p = crate::netstack::PLAN;
    let tap = crate::runtime::tap::TapConfig {
        name: BUILTIN_IFACE.into(),
        address: p.guest,
        prefix: p.prefix,
        gateway: p.gateway,
        mtu: p.mtu,
    };
    (*mode == NetworkMode::Builtin).then(|| (crate::runtime::ANN_TAP, tap.annotation()))
}

/// The built-in stack's interface in the container: eth0, as Docker, Podman's bridge networks
/// and pasta (copying a typical host) name it; slirp4netns's tap0 is the exception.
const BUILTIN_IFACE: &str = "eth0";

/// The container's address and its gateway (which also reaches the host's loopback:
/// `host.containers.internal`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addrs {
    pub ip: Ipv4Addr,
    pub gateway: Ipv4Addr,
}

/// slirp4netns's fixed addresses (its defaults with --configure).
const SLIRP_ADDRS: Addrs = Addrs { ip: Ipv4Addr::new(10, 0, 2, 100), gateway: Ipv4Addr::new(10, 0, 2, 2) };
const SLIRP_DNS: &str = "10.0.2.3";

/// The addresses a mode gives the container. pasta copies the host's address and gateway
/// (of the interface with the default route) into the container.
pub fn addresses(mode: &NetworkMode) -> Result<Option<Addrs>, NetError> {
    match mode {
        NetworkMode::Slirp4netns => Ok(Some(SLIRP_ADDRS)),
        NetworkMode::Builtin => {
            Ok(Some(Addrs { ip: crate::netstack::PLAN.guest, gateway: crate::netstack::PLAN.gateway }))
        }
        NetworkMode::Pasta => {
            let route = std::fs::read_to_string("/proc/net/route").unwrap_or_default();
            let (iface, gateway) = default_route(&route).ok_or_else(|| {
                NetError::Invalid(
                    "pasta needs a default route on the host, and there is none; use --network none".into(),
                )
            })?;
            let ip = interface_ipv4(&iface).ok_or_else(|| {
                NetError::Invalid(format!("the host's default interface {iface} has no IPv4 address for pasta to copy"))
            })?;
            Ok(Some(Addrs { ip, gateway }))
        }
        _ => Ok(None),
    }
}

/// The interface and gateway of the first default route in /proc/net/route's text.
fn default_route(table: &str) -> Option<(String, Ipv4Addr)> {
    table.lines().skip(1).find_map(|l| {
        let f: Vec<&str> = l.split_whitespace().collect();
        if f.len() < 3 || f[1] != "00000000" {
            return None;
        }
        // The kernel prints the address as a host-order (little-endian here) hex number.
        let gw = u32::from_str_radix(f[2], 16).ok()?;
        Some((f[0].to_string(), Ipv4Addr::from(gw.to_le_bytes())))
    })
}

fn interface_ipv4(iface: &str) -> Option<Ipv4Addr> {
    nix::ifaddrs::getifaddrs().ok()?.find_map(|a| {
        if a.interface_name != iface {
            return None;
        }
        a.address.as_ref()?.as_sockaddr_in().map(|s| s.ip())
    })
}

/// Whether the host has a global IPv6 address (else pasta runs IPv4 only: faster).
pub(crate) fn host_has_ipv6() -> bool {
    std::fs::read_to_string("/proc/net/if_inet6")
        .map(|t| t.lines().any(|l| l.split_whitespace().nth(3) == Some("00") && !l.ends_with(" lo")))
        .unwrap_or(false)
}

/// What the container's /etc/hosts and /etc/resolv.conf are made from.
#[derive(Debug, Default, Clone, Copy)]
pub struct NameOptions<'a> {
    pub hostname: &'a str,
    pub name: &'a str,
    /// `--add-host NAME:IP` (IP may be `host-gateway`).
    pub add_hosts: &'a [String],
    pub dns: &'a [String],
    pub dns_search: &'a [String],
    pub dns_options: &'a [String],
}

/// Checks `--add-host` and `--dns` values (at create, before anything is written).
pub fn check_names(o: &NameOptions) -> Result<(), NetError> {
    for h in o.add_hosts {
        let (name, ip) = h.split_once(':').ok_or_else(|| {
            NetError::Invalid(format!("invalid --add-host \"{h}\": use NAME:IP (IP may be host-gateway)"))
        })?;
        if name.is_empty() || (ip != "host-gateway" && ip.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_err())
        {
            return Err(NetError::Invalid(format!("invalid --add-host \"{h}\": \"{ip}\" is not an IP address")));
        }
    }
    for d in o.dns {
        if d.parse::<std::net::IpAddr>().is_err() && d != "none" {
            return Err(NetError::Invalid(format!("invalid --dns \"{d}\": not an IP address")));
        }
    }
    Ok(())
}

/// The container's /etc/hosts: localhost, its own name on its address, the host as
/// `host.containers.internal`, then `--add-host` entries.
pub fn hosts_file(o: &NameOptions, addrs: Option<&Addrs>) -> String {
    let mut s = String::from("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
    let own = addrs.map(|a| a.ip.to_string()).unwrap_or_else(|| "127.0.1.1".into());
    s += &format!("{own}\t{} {}\n", o.hostname, o.name);
    if let Some(a) = addrs {
        s += &format!("{}\thost.containers.internal host.docker.internal\n", a.gateway);
    }
    for h in o.add_hosts {
        if let Some((name, ip)) = h.split_once(':') {
            let ip = match (ip, addrs) {
                ("host-gateway", Some(a)) => a.gateway.to_string(),
                ("host-gateway", None) => "127.0.0.1".to_string(),
                (ip, _) => ip.trim_matches(['[', ']']).to_string(),
            };
            s += &format!("{ip}\t{name}\n");
        }
    }
    s
}

/// The container's /etc/resolv.conf: `--dns` servers, else the host's. Those on the host's
/// loopback cannot be reached from the container: the built-in stack's or slirp4netns's
/// forwarder (10.0.2.3), or for pasta the gateway (whose DNS queries pasta forwards to the host's resolver), stands in for them.
/// On a user-defined network (BRIDGE, `addrs` holding its gateway) the network's own resolver
/// on the gateway answers instead of the host's, without the host's search domains (a
/// container name would be asked upstream with them first).
pub fn resolv_file(o: &NameOptions, mode: &NetworkMode, addrs: Option<&Addrs>, host_resolv: &str) -> String {
    let mut servers: Vec<String> = o.dns.iter().filter(|d| *d != "none").cloned().collect();
    let own_resolver = *mode == NetworkMode::Bridge && o.dns.is_empty();
    if let (true, Some(a)) = (own_resolver, addrs) {
        servers.push(a.gateway.to_string());
    }
    let mut search: Vec<String> = o.dns_search.to_vec();
    let mut options: Vec<String> = o.dns_options.to_vec();
    let mut loopback = false;
    for l in host_resolv.lines() {
        let mut f = l.split_whitespace();
        match (f.next(), o.dns.is_empty() && !own_resolver) {
            (Some("nameserver"), true) => {
                if let Some(ip) = f.next() {
                    let is_loop = ip.parse::<std::net::IpAddr>().map(|a| a.is_loopback()).unwrap_or(false);
                    if is_loop {
                        loopback = true;
                    } else {
                        servers.push(ip.to_string());
                    }
                }
            }
            (Some("search"), _) if o.dns_search.is_empty() && !own_resolver => search.extend(f.map(String::from)),
            (Some("options"), _) if o.dns_options.is_empty() => options.extend(f.map(String::from)),
            _ => {}
        }
    }
    if servers.is_empty() && loopback {
        match (mode, addrs) {
            (NetworkMode::Slirp4netns, _) => servers.push(SLIRP_DNS.to_string()),
            (NetworkMode::Builtin, _) => servers.push(crate::netstack::PLAN.dns.to_string()),
            (NetworkMode::Pasta, Some(a)) => servers.push(a.gateway.to_string()),
            _ => {}
        }
    }
    let mut s = String::new();
    if !search.is_empty() {
        s += &format!("search {}\n", search.join(" "));
    }
    for n in servers {
        s += &format!("nameserver {n}\n");
    }
    if !options.is_empty() {
        s += &format!("options {}\n", options.join(" "));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_helper_setting_is_read_from_the_network_table_only() {
        let conf = "[engine]\ndefault_rootless_network_cmd = \"pasta\"\n\n[network]\n\
                    # default_rootless_network_cmd = \"pasta\"\n  default_rootless_network_cmd = 'slirp4netns' # ours\n\
                    [machine]\n";
        assert_eq!(network_cmd_setting(conf).as_deref(), Some("slirp4netns"));
        assert_eq!(network_cmd_setting("[network]\n#default_rootless_network_cmd = \"pasta\"\n"), None);
    }

    #[test]
    fn only_the_built_in_network_asks_for_a_tap_device() {
        let (k, v) = tap_annotation(&NetworkMode::Builtin).unwrap();
        assert_eq!(k, crate::runtime::ANN_TAP);
        let tap = crate::runtime::tap::TapConfig::parse(&v).unwrap();
        assert_eq!(
            (tap.name.as_str(), tap.address, tap.gateway),
            ("eth0", Ipv4Addr::new(10, 0, 2, 100), Ipv4Addr::new(10, 0, 2, 2))
        );
        assert_eq!(addresses(&NetworkMode::Builtin).unwrap(), Some(Addrs { ip: tap.address, gateway: tap.gateway }));
        for m in
            [NetworkMode::Pasta, NetworkMode::Slirp4netns, NetworkMode::None, NetworkMode::Host, NetworkMode::Bridge]
        {
            assert!(tap_annotation(&m).is_none(), "{m}");
        }
        assert!(NetworkMode::Builtin.has_helper());
    }

    #[test]
    fn default_route_is_read_from_the_kernel_table() {
        let t = "Iface\tDestination\tGateway \tFlags\n\
                 eth0\t0002000C0\t00000000\t0001\n\
                 eth0\t00000000\t010200C0\t0003\n";
        assert_eq!(default_route(t), Some(("eth0".into(), Ipv4Addr::new(192, 0, 2, 1))));
        assert_eq!(default_route("Iface\tDestination\n"), None);
    }

    #[test]
    fn hosts_and_resolv_files() {
        let add = ["db:10.1.2.3".to_string(), "gw:host-gateway".to_string()];
        let o = NameOptions { hostname: "h", name: "web", add_hosts: &add, ..Default::default() };
        let a = Addrs { ip: Ipv4Addr::new(192, 0, 2, 2), gateway: Ipv4Addr::new(192, 0, 2, 1) };
        let h = hosts_file(&o, Some(&a));
        assert!(h.contains("192.0.2.2\th web\n"), "{h}");
        assert!(h.contains("192.0.2.1\thost.containers.internal"), "{h}");
        assert!(h.contains("10.1.2.3\tdb\n") && h.contains("192.0.2.1\tgw\n"), "{h}");
        assert!(hosts_file(&o, None).contains("127.0.1.1\th web\n"));

        let host = "search example.org\nnameserver 127.0.0.53\nnameserver 10.0.0.1\noptions edns0\n";
        let r = resolv_file(&o, &NetworkMode::Pasta, Some(&a), host);
        assert_eq!(r, "search example.org\nnameserver 10.0.0.1\noptions edns0\n");
        assert_eq!(
            resolv_file(&o, &NetworkMode::Slirp4netns, None, "nameserver 127.0.0.53\n"),
            "nameserver 10.0.2.3\n"
        );
        assert_eq!(resolv_file(&o, &NetworkMode::Pasta, Some(&a), "nameserver 127.0.0.53\n"), "nameserver 192.0.2.1\n");
        assert_eq!(resolv_file(&o, &NetworkMode::None, None, "nameserver 127.0.0.53\n"), "");
        assert_eq!(resolv_file(&o, &NetworkMode::Builtin, None, "nameserver 127.0.0.53\n"), "nameserver 10.0.2.3\n");
        assert_eq!(
            resolv_file(&o, &NetworkMode::Builtin, None, host),
            "search example.org\nnameserver 10.0.0.1\noptions edns0\n"
        );
        let net = Addrs { ip: Ipv4Addr::UNSPECIFIED, gateway: Ipv4Addr::new(10, 89, 1, 1) };
        assert_eq!(resolv_file(&o, &NetworkMode::Bridge, Some(&net), host), "nameserver 10.89.1.1\noptions edns0\n");
        let dns = ["1.1.1.1".to_string()];
        let o = NameOptions { dns: &dns, ..o };
        assert_eq!(
            resolv_file(&o, &NetworkMode::Pasta, Some(&a), host),
            "search example.org\nnameserver 1.1.1.1\noptions edns0\n"
        );
        assert!(check_names(&o).is_ok());
        let bad = ["nocolon".to_string()];
        assert!(check_names(&NameOptions { add_hosts: &bad, ..Default::default() }).is_err());
        assert!(check_names(&NameOptions { dns: &bad, ..Default::default() }).is_err());
    }
}
