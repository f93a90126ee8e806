//! PID 1's network device for a user-mode network stack (the `io.kiste.network.tap`
//! annotation): a tap device made in the container's own network namespace — PID 1 is root of
//! the user namespace that owns it — and configured by netlink (MTU, address, default route,
//! loopback). Its descriptor goes to the caller over the console socket; the caller runs the
//! stack behind it. Knows nothing of that stack, of the engine, or of addresses beyond the spec.

use super::init::SetupError;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// What the annotation asks for: `name=eth0,address=10.0.2.100/24,gateway=10.0.2.2,mtu=65520`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapConfig {
    pub name: String,
    pub address: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    pub mtu: u32,
}

impl TapConfig {
    /// The annotation's value for this configuration.
    pub fn annotation(&self) -> String {
        format!("name={},address={}/{},gateway={},mtu={}", self.name, self.address, self.prefix, self.gateway, self.mtu)
    }

    /// Parses the annotation's value; every key is required.
    pub fn parse(value: &str) -> Result<TapConfig, String> {
        let bad = |why: &str| format!("invalid {} annotation \"{value}\": {why}", super::ANN_TAP);
        let (mut name, mut address, mut gateway, mut mtu) = (None, None, None, None);
        for part in value.split(',') {
            let (k, v) = part.split_once('=').ok_or_else(|| bad("use KEY=VALUE pairs"))?;
            match k {
                "name" if !v.is_empty() && v.len() < libc::IFNAMSIZ && !v.contains('/') => name = Some(v.to_string()),
                "address" => {
                    let (ip, p) = v.split_once('/').ok_or_else(|| bad("address needs a prefix length"))?;
                    let ip = ip.parse::<Ipv4Addr>().map_err(|_| bad("address is not an IPv4 address"))?;
                    let p = p.parse::<u8>().ok().filter(|p| (1..=30).contains(p)).ok_or_else(|| bad("bad prefix"))?;
                    address = Some((ip, p));
                }
                "gateway" => gateway = Some(v.parse::<Ipv4Addr>().map_err(|_| bad("gateway is not an IPv4 address"))?),
                "mtu" => {
                    mtu = Some(
                        v.parse::<u32>().ok().filter(|m| (576..=65521).contains(m)).ok_or_else(|| bad("bad mtu"))?,
                    )
                }
                _ => return Err(bad(&format!("unknown or bad key \"{k}\""))),
            }
        }
        match (name, address, gateway, mtu) {
            (Some(name), Some((address, prefix)), Some(gateway), Some(mtu)) => {
                Ok(TapConfig { name, address, prefix, gateway, mtu })
            }
            _ => Err(bad("name, address, gateway and mtu are all required")),
        }
    }
}

/// The tap device a spec asks for, if any.
pub fn from_spec(spec: &oci_spec::runtime::Spec) -> Result<Option<TapConfig>, String> {
    spec.annotations().as_ref().and_then(|a| a.get(super::ANN_TAP)).map(|v| TapConfig::parse(v)).transpose()
}

/// struct ifreq as TUNSETIFF reads it: the name, then the flags (the rest of the union unused).
#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

/// `_IOW('T', 202, int)`.
const TUNSETIFF: libc::c_ulong = 0x4004_54ca;

/// PID 1, in its network namespace: makes the tap device, configures it and the loopback, and
/// returns the device's descriptor (close-on-exec).
pub fn create(cfg: &TapConfig) -> Result<OwnedFd, SetupError> {
    let e = |what: &str, err: std::io::Error| SetupError::new(format!("network device {}: {what}: {err}", cfg.name));
    // SAFETY: open(2) of a constant path; the descriptor is owned below.
    let fd = unsafe { libc::open(c"/dev/net/tun".as_ptr(), libc::O_RDWR | libc::O_CLOEXEC) };
    if fd < 0 {
        let err = std::io::Error::last_os_error();
        return Err(SetupError::new(format!(
            "cannot open /dev/net/tun for the container's network: {err}; it must exist with mode 0666 \
             (mknod /dev/net/tun c 10 200), or use --network pasta or none"
        )));
    }
    // SAFETY: just opened.
    let tap = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut req =
        IfReq { name: [0; libc::IFNAMSIZ], flags: (libc::IFF_TAP | libc::IFF_NO_PI) as libc::c_short, _pad: [0; 22] };
    req.name[..cfg.name.len()].copy_from_slice(cfg.name.as_bytes());
    // SAFETY: TUNSETIFF reads a struct ifreq, which IfReq lays out.
    if unsafe { libc::ioctl(tap.as_raw_fd(), TUNSETIFF, &mut req) } < 0 {
        return Err(e("TUNSETIFF", std::io::Error::last_os_error()));
    }
    let configure = || -> std::io::Result<()> {
        let mut nl = crate::netlink::Netlink::open()?;
        nl.set_mtu(&cfg.name, cfg.mtu)?;
        nl.add_addr(&cfg.name, cfg.address, cfg.prefix)?;
        nl.up(&cfg.name, None)?;
        nl.up("lo", None)?;
        nl.add_default_route(cfg.gateway)
    };
    configure().map_err(|err| e("configure", err))?;
    Ok(tap)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_annotation_round_trips_and_bad_values_are_refused() {
        let c = TapConfig {
            name: "eth0".into(),
            address: Ipv4Addr::new(10, 0, 2, 100),
            prefix: 24,
            gateway: Ipv4Addr::new(10, 0, 2, 2),
            mtu: 65520,
        };
        assert_eq!(c.annotation(), "name=eth0,address=10.0.2.100/24,gateway=10.0.2.2,mtu=65520");
        assert_eq!(TapConfig::parse(&c.annotation()).unwrap(), c);
        for bad in [
            "",
            "name=eth0",
            "name=eth0,address=10.0.2.100,gateway=10.0.2.2,mtu=1500",
            "name=eth0,address=10.0.2.100/24,gateway=x,mtu=1500",
            "name=eth0,address=10.0.2.100/24,gateway=10.0.2.2,mtu=70000",
            "name=a/b,address=10.0.2.100/24,gateway=10.0.2.2,mtu=1500",
            "name=averyveryverylongname,address=10.0.2.100/24,gateway=10.0.2.2,mtu=1500",
            "name=eth0,address=10.0.2.100/24,gateway=10.0.2.2,mtu=1500,color=red",
        ] {
            assert!(TapConfig::parse(bad).is_err(), "{bad}");
        }
    }
}
