//! User-defined networks: their definitions (one JSON file per network in
//! `$XDG_DATA_HOME/kiste/networks/`, written atomically under a lock), subnet and bridge-name
//! choice, and what `network create/ls/inspect/rm` read and write. Podman's default network
//! `podman` (also `--network bridge`) is always there without a file, and cannot be removed. Knows nothing about
//! containers or namespaces: callers check which containers use a network.

use super::NetError;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

/// One subnet of a network (Podman's key names).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Subnet {
    pub subnet: String,
    pub gateway: Ipv4Addr,
}

/// A network as `network inspect` shows it (Podman's key names).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Network {
    pub name: String,
    pub id: String,
    pub driver: String,
    /// The bridge in the network namespace holder.
    pub network_interface: String,
    pub created: String,
    pub subnets: Vec<Subnet>,
    pub ipv6_enabled: bool,
    pub internal: bool,
    pub dns_enabled: bool,
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
}

/// Parses `A.B.C.D/P` into the network address and prefix (host bits must be zero).
pub fn parse_cidr(s: &str) -> Result<(Ipv4Addr, u8), NetError> {
    let bad = |why: &str| NetError::Invalid(format!("invalid subnet \"{s}\": {why}"));
    let (a, p) = s.split_once('/').ok_or_else(|| bad("use ADDRESS/PREFIX, e.g. 10.89.5.0/24"))?;
    let a: Ipv4Addr = a.parse().map_err(|_| bad("not an IPv4 address (IPv6 is not supported yet)"))?;
    let p: u8 = p.parse().map_err(|_| bad("the prefix length is not a number"))?;
    if !(8..=30).contains(&p) {
        return Err(bad("the prefix length must be between 8 and 30"));
    }
    if u32::from(a) & !mask(p) != 0 {
        return Err(bad(&format!("host bits are set; did you mean {}/{p}?", Ipv4Addr::from(u32::from(a) & mask(p)))));
    }
    Ok((a, p))
}

pub fn mask(prefix: u8) -> u32 {
    if prefix == 0 { 0 } else { u32::MAX << (32 - prefix) }
}

/// Whether `ip` lies in `subnet`.
pub fn contains(subnet: &str, ip: Ipv4Addr) -> bool {
    parse_cidr(subnet).is_ok_and(|(a, p)| u32::from(ip) & mask(p) == u32::from(a))
}

fn overlaps(a: &str, b: &str) -> bool {
    match (parse_cidr(a), parse_cidr(b)) {
        (Ok((x, p)), Ok((y, q))) => {
            let m = mask(p.min(q));
            u32::from(x) & m == u32::from(y) & m
        }
        _ => false,
    }
}

/// What `network create` was asked for.
#[derive(Debug, Default)]
pub struct CreateOptions {
    pub name: Option<String>,
    pub subnet: Option<String>,
    pub gateway: Option<String>,
    pub internal: bool,
    pub labels: Vec<String>,
    pub ignore: bool,
}

/// Podman's default network: listed always, `--network bridge` means it.
pub const DEFAULT_NETWORK: &str = "podman";

/// The default network as Podman defines it (10.88.0.0/16, bridge podman0, Podman's ID).
fn default_network() -> Network {
    Network {
        name: DEFAULT_NETWORK.into(),
        id: "2f259bab93aaaaa2542ba43ef33eb990d0999ee1b9924b557b7be53c0b7a1bb9".into(),
        driver: "bridge".into(),
        network_interface: "podman0".into(),
        created: chrono::Utc::now().to_rfc3339(),
        subnets: vec![Subnet { subnet: "10.88.0.0/16".into(), gateway: Ipv4Addr::new(10, 88, 0, 1) }],
        ipv6_enabled: false,
        internal: false,
        dns_enabled: true,
        labels: Default::default(),
    }
}

/// Refuses the default network, which `rm` and `prune` leave (checked before they touch its
/// containers).
pub fn check_removable(name: &str) -> Result<(), NetError> {
    match name == DEFAULT_NETWORK {
        true => Err(NetError::Invalid(format!("default network {name} cannot be removed"))),
        false => Ok(()),
    }
}

/// Names a network may not take: they mean modes of `--network`.
const RESERVED: [&str; 7] = ["none", "host", "pasta", "slirp4netns", "bridge", "private", "default"];

pub fn check_name(n: &str) -> Result<(), NetError> {
    let ok = n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && n.len() <= 128;
    if !ok {
        return Err(NetError::Invalid(format!("invalid network name \"{n}\": use letters, digits, _ . -")));
    }
    if RESERVED.contains(&n) {
        return Err(NetError::Invalid(format!("network name \"{n}\" is reserved for a network mode; choose another")));
    }
    Ok(())
}

/// Whether network `n` passes a `network ls --filter` (name=, id=, driver=, label=K[=V]);
/// unknown keys pass.
pub fn matches(n: &Network, filter: &str) -> bool {
    let (k, v) = filter.split_once('=').unwrap_or((filter, ""));
    match k {
        "name" => n.name.contains(v),
        "id" => n.id.starts_with(v),
        "driver" => n.driver == v,
        "label" => match v.split_once('=') {
            Some((lk, lv)) => n.labels.get(lk).is_some_and(|x| x == lv),
            None => n.labels.contains_key(v),
        },
        _ => true,
    }
}

/// Reads a definition; one without a valid subnet is refused here, so that every user can
/// take `subnets[0]` as a CIDR.
fn parse(text: &str) -> Result<Network, String> {
    let n: Network = serde_json::from_str(text).map_err(|e| e.to_string())?;
    match n.subnets.first() {
        Some(s) if parse_cidr(&s.subnet).is_ok() && !n.id.is_empty() => Ok(n),
        _ => Err("no valid subnet".into()),
    }
}

/// The directory of network definitions.
pub struct Store {
    dir: PathBuf,
}

impl Store {
    pub fn new(data: &Path) -> Store {
        Store { dir: data.join("networks") }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    fn lock(&self) -> Result<crate::state::lock::FileLock, NetError> {
        std::fs::create_dir_all(&self.dir).map_err(|e| io_err("cannot create", &self.dir, e))?;
        crate::state::lock::FileLock::exclusive(&self.dir.join(".lock"))
            .map_err(|e| io_err("cannot lock", &self.dir, e))
    }

    /// Every network, the default one included.
    pub fn list(&self) -> Result<Vec<Network>, NetError> {
        let mut v = vec![default_network()];
        let rd = match std::fs::read_dir(&self.dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(v),
            Err(e) => return Err(io_err("cannot read", &self.dir, e)),
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "json")
                && let Ok(text) = std::fs::read_to_string(&p)
                && let Ok(n) = parse(&text)
                && n.name != DEFAULT_NETWORK
            {
                v.push(n);
            }
        }
        v.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(v)
    }

    /// A network by name, full ID or unique ID prefix; `bridge` is the default network.
    pub fn get(&self, input: &str) -> Result<Network, NetError> {
        if input == DEFAULT_NETWORK || input == "bridge" {
            return Ok(default_network());
        }
        if check_name(input).is_ok()
            && let Ok(text) = std::fs::read_to_string(self.path(input))
        {
            return parse(&text).map_err(|e| {
                NetError::Invalid(format!("network {input} is damaged ({e}); delete {}", self.path(input).display()))
            });
        }
        let all = self.list()?;
        let found: Vec<&Network> = all.iter().filter(|n| n.id.starts_with(input) && input.len() >= 3).collect();
        match found.as_slice() {
            [one] => Ok((*one).clone()),
            [] => Err(NetError::NotFound(input.to_string())),
            _ => Err(NetError::Invalid(format!("network ID \"{input}\" is ambiguous; give more of it or the name"))),
        }
    }

    /// Creates a network; picks a free 10.89.N.0/24 subnet and a bridge name when none is given.
    pub fn create(&self, o: &CreateOptions) -> Result<Network, NetError> {
        let _lock = self.lock()?;
        let existing = self.list()?;
        let name = match &o.name {
            Some(n) => n.clone(),
            None => {
                (1..).map(|i| format!("kiste{i}")).find(|n| !existing.iter().any(|e| &e.name == n)).unwrap_or_default()
            }
        };
        check_name(&name)?;
        if let Some(e) = existing.iter().find(|e| e.name == name) {
            if o.ignore {
                return Ok(e.clone());
            }
            return Err(NetError::Invalid(format!(
                "network name {name} already used: network already exists; remove it with `kiste network rm {name}` or pick another name"
            )));
        }
        let subnet = match &o.subnet {
            Some(s) => {
                let (a, p) = parse_cidr(s)?;
                let s = format!("{a}/{p}");
                if let Some(e) = existing.iter().find(|e| e.subnets.iter().any(|x| overlaps(&x.subnet, &s))) {
                    return Err(NetError::Invalid(format!(
                        "subnet {s} overlaps with network {}'s; choose another --subnet",
                        e.name
                    )));
                }
                s
            }
            None => (1..=255u32)
                .map(|i| format!("10.89.{i}.0/24"))
                .find(|s| !existing.iter().any(|e| e.subnets.iter().any(|x| overlaps(&x.subnet, s))))
                .ok_or_else(|| NetError::Invalid("no free subnet left in 10.89.0.0/16; give --subnet".into()))?,
        };
        let (net, prefix) = parse_cidr(&subnet)?;
        let gateway = match &o.gateway {
            Some(g) => {
                let g: Ipv4Addr = g
                    .parse()
                    .map_err(|_| NetError::Invalid(format!("invalid gateway \"{g}\": not an IPv4 address")))?;
                let host = u32::from(g) & !mask(prefix);
                if !contains(&subnet, g) || host == 0 || host == !mask(prefix) {
                    return Err(NetError::Invalid(format!("gateway {g} is not a host address in subnet {subnet}")));
                }
                g
            }
            None => Ipv4Addr::from(u32::from(net) + 1),
        };
        let mut labels = std::collections::BTreeMap::new();
        for l in &o.labels {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            labels.insert(k.to_string(), v.to_string());
        }
        let iface = (0..)
            .map(|i| format!("kiste{i}"))
            .find(|n| !existing.iter().any(|e| &e.network_interface == n))
            .unwrap_or_default();
        let n = Network {
            id: {
                use sha2::Digest;
                hex::encode(sha2::Sha256::digest(format!("{name}{}", crate::util::nonce()).as_bytes()))
            },
            name,
            driver: "bridge".into(),
            network_interface: iface,
            created: chrono::Utc::now().to_rfc3339(),
            subnets: vec![Subnet { subnet, gateway }],
            ipv6_enabled: false,
            internal: o.internal,
            dns_enabled: true,
            labels,
        };
        let text = serde_json::to_vec_pretty(&n).map_err(|e| NetError::Invalid(e.to_string()))?;
        let p = self.path(&n.name);
        crate::util::atomic_write(&p, &text, 0o600).map_err(|e| io_err("cannot write", &p, e))?;
        Ok(n)
    }

    pub fn remove(&self, name: &str) -> Result<(), NetError> {
        check_removable(name)?;
        let _lock = self.lock()?;
        let p = self.path(name);
        std::fs::remove_file(&p).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => NetError::NotFound(name.to_string()),
            _ => io_err("cannot remove", &p, e),
        })
    }
}

fn io_err(what: &str, p: &Path, e: std::io::Error) -> NetError {
    NetError::Invalid(format!("{what} {}: {e}", p.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subnets_are_checked() {
        assert_eq!(parse_cidr("10.89.3.0/24").unwrap(), (Ipv4Addr::new(10, 89, 3, 0), 24));
        assert!(parse_cidr("10.89.3.1/24").unwrap_err().to_string().contains("10.89.3.0/24"));
        assert!(parse_cidr("10.89.3.0").is_err() && parse_cidr("10.89.3.0/31").is_err());
        assert!(contains("10.89.3.0/24", Ipv4Addr::new(10, 89, 3, 9)));
        assert!(!contains("10.89.3.0/24", Ipv4Addr::new(10, 89, 4, 9)));
        assert!(overlaps("10.89.0.0/16", "10.89.7.0/24") && !overlaps("10.89.1.0/24", "10.89.2.0/24"));
        assert!(check_name("host").is_err() && check_name("-x").is_err() && check_name("my_net.1").is_ok());
    }

    #[test]
    fn create_picks_free_subnets_and_bridges() {
        let dir = std::env::temp_dir().join(format!("kiste-net-test-{}", crate::util::nonce()));
        let s = Store::new(&dir);
        let a = s.create(&CreateOptions { name: Some("a".into()), ..Default::default() }).unwrap();
        let b = s.create(&CreateOptions { name: Some("b".into()), internal: true, ..Default::default() }).unwrap();
        assert_eq!(a.subnets[0].subnet, "10.89.1.0/24");
        assert_eq!(a.subnets[0].gateway, Ipv4Addr::new(10, 89, 1, 1));
        assert_eq!(b.subnets[0].subnet, "10.89.2.0/24");
        assert_ne!(a.network_interface, b.network_interface);
        assert!(s.create(&CreateOptions { name: Some("a".into()), ..Default::default() }).is_err());
        let o = CreateOptions { name: Some("c".into()), subnet: Some("10.89.2.0/24".into()), ..Default::default() };
        assert!(s.create(&o).unwrap_err().to_string().contains("overlaps"));
        let o = CreateOptions {
            name: Some("d".into()),
            subnet: Some("192.168.77.0/24".into()),
            gateway: Some("192.168.78.1".into()),
            ..Default::default()
        };
        assert!(s.create(&o).is_err());
        assert_eq!(s.get("b").unwrap().id, b.id);
        assert!(matches(&b, "name=b") && matches(&b, "driver=bridge") && !matches(&b, "label=team"));
        assert!(matches(&b, &format!("id={}", &b.id[..6])) && !matches(&a, "name=b"));
        assert_eq!(s.get(&a.id[..12]).unwrap().name, "a");
        s.remove("a").unwrap();
        // A damaged definition is an error naming the file, never a panic later.
        let bad = r#"{"name":"bad","id":"x","driver":"bridge","network_interface":"k9","created":"",
            "subnets":[],"ipv6_enabled":false,"internal":false,"dns_enabled":true}"#;
        std::fs::write(dir.join("networks/bad.json"), bad).unwrap();
        assert!(s.get("bad").unwrap_err().to_string().contains("bad.json"));
        assert!(s.list().unwrap().iter().all(|n| n.name != "bad"));
        assert!(matches!(s.get("a"), Err(NetError::NotFound(_))));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
