//! A service's `ports`: the short syntax (`[ip:][host:]container[/proto]`, ranges, IPv6 in
//! brackets) and the long syntax, both read into `PortSpec`s (a range expands to one spec per
//! container port, as compose-go does). No host-side checks here: `up` does those.

use super::forms::{self, Scalar};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::net::IpAddr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
    Sctp,
}

impl Protocol {
    fn parse(s: &str) -> Option<Protocol> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Some(Protocol::Tcp),
            "udp" => Some(Protocol::Udp),
            "sctp" => Some(Protocol::Sctp),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        }
    }
}

/// `ingress` (the default; what a single host means too) or `host`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PortMode {
    #[default]
    Ingress,
    Host,
}

/// Host ports `start..=end`; one port when they are equal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub start: u16,
    pub end: u16,
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.start == self.end { write!(f, "{}", self.start) } else { write!(f, "{}-{}", self.start, self.end) }
    }
}

impl Serialize for PortRange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// One published or exposed container port, in compose's long form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PortSpec {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub mode: PortMode,
    /// Host address to bind; `None` for all.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<IpAddr>,
    /// The container port.
    pub target: u16,
    /// Host port(s); `None` lets the engine choose one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub published: Option<PortRange>,
    pub protocol: Protocol,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_protocol: Option<String>,
}

fn bad(spec: &str, why: &str) -> String {
    format!("invalid port \"{spec}\": {why}")
}

/// `N` or `N-M`, ports 1-65535 (0 only as a host port: "any").
fn parse_range(spec: &str, s: &str, allow_zero: bool) -> Result<PortRange, String> {
    let num = |p: &str| -> Result<u16, String> {
        match p.parse::<u16>() {
            Ok(0) if !allow_zero => Err(bad(spec, "ports are 1-65535, e.g. \"8080:80\"")),
            Ok(n) => Ok(n),
            Err(_) => Err(bad(spec, "ports are numbers 1-65535, e.g. \"8080:80\" or \"127.0.0.1:8080:80/udp\"")),
        }
    };
    let (start, end) = match s.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => (num(s)?, num(s)?),
    };
    if end < start {
        return Err(bad(spec, "a range goes from low to high, e.g. 8000-8010"));
    }
    Ok(PortRange { start, end })
}

/// Parses the short syntax into one spec per container port.
pub fn parse_short(spec: &str) -> Result<Vec<PortSpec>, String> {
    let (rest, protocol) = match spec.rsplit_once('/') {
        Some((r, p)) => (r, Protocol::parse(p).ok_or_else(|| bad(spec, "the protocol must be tcp, udp or sctp"))?),
        None => (spec, Protocol::Tcp),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let (ip, host, container) = match parts.as_slice() {
        [c] => ("", "", *c),
        [h, c] => ("", *h, *c),
        [ip, h, c] => (*ip, *h, *c),
        [ip @ .., h, c] if !ip.is_empty() => (&rest[..ip.iter().map(|p| p.len() + 1).sum::<usize>() - 1], *h, *c),
        _ => return Err(bad(spec, "write [IP:][HOST:]CONTAINER[/PROTOCOL]")),
    };
    let host_ip = match ip.trim_start_matches('[').trim_end_matches(']') {
        "" => None,
        a => Some(a.parse::<IpAddr>().map_err(|_| bad(spec, &format!("\"{a}\" is not an IP address")))?),
    };
    if container.is_empty() {
        return Err(bad(spec, "the container port is missing, e.g. \"8080:80\""));
    }
    let c = parse_range(spec, container, false)?;
    let h = if host.is_empty() { None } else { Some(parse_range(spec, host, true)?) };
    let count = c.end - c.start;
    if let Some(h) = h
        && count > 0
        && h.end - h.start != count
    {
        return Err(bad(spec, "host and container ranges must have the same length, e.g. 8000-8002:80-82"));
    }
    Ok((0..=count)
        .map(|i| PortSpec {
            name: None,
            mode: PortMode::Ingress,
            host_ip,
            target: c.start + i,
            published: h.map(|h| if count == 0 { h } else { PortRange { start: h.start + i, end: h.start + i } }),
            protocol,
            app_protocol: None,
        })
        .collect())
}

/// The long syntax as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LongPort {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    host_ip: Option<String>,
    #[serde(deserialize_with = "forms::scalar")]
    target: String,
    #[serde(default, deserialize_with = "opt_scalar")]
    published: Option<String>,
    #[serde(default)]
    protocol: Option<String>,
    #[serde(default)]
    app_protocol: Option<String>,
}

fn opt_scalar<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<Scalar>::deserialize(d)?.map(|s| s.0))
}

impl LongPort {
    fn into_spec(self) -> Result<PortSpec, String> {
        let t = &self.target;
        let target = parse_range(t, t, false)?;
        if target.start != target.end {
            return Err(bad(t, "target is one container port; use the short syntax for ranges"));
        }
        let published = match self.published.as_deref() {
            None | Some("") => None,
            Some(p) => Some(parse_range(p, p, true)?),
        };
        let mode = match self.mode.as_deref() {
            None | Some("ingress") => PortMode::Ingress,
            Some("host") => PortMode::Host,
            Some(m) => return Err(format!("invalid port mode \"{m}\": use host or ingress")),
        };
        let protocol = match self.protocol.as_deref() {
            None => Protocol::Tcp,
            Some(p) => Protocol::parse(p).ok_or_else(|| format!("invalid protocol \"{p}\": use tcp, udp or sctp"))?,
        };
        let host_ip = match self.host_ip.as_deref() {
            None | Some("") => None,
            Some(a) => Some(a.parse().map_err(|_| format!("invalid host_ip \"{a}\": write an IP address"))?),
        };
        Ok(PortSpec {
            name: self.name,
            mode,
            host_ip,
            target: target.start,
            published,
            protocol,
            app_protocol: self.app_protocol,
        })
    }
}

/// One entry of `ports`: short (string or number) or long (mapping); may expand to several.
struct Entry(Vec<PortSpec>);

impl<'de> Deserialize<'de> for Entry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entry, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Entry;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a port such as \"8080:80\" or a mapping with target and published")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Entry, E> {
                self.visit_str(&v.to_string())
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Entry, E> {
                parse_short(v).map(Entry).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Entry, A::Error> {
                let long = LongPort::deserialize(de::value::MapAccessDeserializer::new(map))?;
                long.into_spec().map(|p| Entry(vec![p])).map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// `ports:` as a whole.
pub fn ports<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<PortSpec>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<PortSpec>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of ports such as [\"8080:80\"]")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(vec![])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = vec![];
            while let Some(Entry(mut e)) = seq.next_element()? {
                out.append(&mut e);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> PortSpec {
        let v = parse_short(s).unwrap();
        assert_eq!(v.len(), 1, "{s}");
        v.into_iter().next().unwrap()
    }

    #[test]
    fn short_forms() {
        let p = one("80");
        assert_eq!((p.target, p.published, p.host_ip, p.protocol), (80, None, None, Protocol::Tcp));
        let p = one("8080:80");
        assert_eq!((p.target, p.published), (80, Some(PortRange { start: 8080, end: 8080 })));
        let p = one("127.0.0.1:8080:80/udp");
        assert_eq!(p.host_ip, Some("127.0.0.1".parse().unwrap()));
        assert_eq!(p.protocol, Protocol::Udp);
        let p = one("[::1]:53:53/udp");
        assert_eq!(p.host_ip, Some("::1".parse().unwrap()));
        let p = one("::1:8080:80");
        assert_eq!(p.host_ip, Some("::1".parse().unwrap()));
        let p = one("127.0.0.1::80");
        assert_eq!((p.published, p.target), (None, 80));
        let p = one("8000-8010:80");
        assert_eq!(p.published, Some(PortRange { start: 8000, end: 8010 }));
        assert_eq!(p.published.unwrap().to_string(), "8000-8010");
    }

    #[test]
    fn ranges_expand() {
        let v = parse_short("8000-8002:80-82").unwrap();
        let got: Vec<(u16, String)> = v.iter().map(|p| (p.target, p.published.unwrap().to_string())).collect();
        assert_eq!(got, vec![(80, "8000".into()), (81, "8001".into()), (82, "8002".into())]);
        assert_eq!(parse_short("3000-3001").unwrap().len(), 2);
    }

    #[test]
    fn short_errors() {
        for s in ["", "abc", "80/icmp", "70000", "8000-8001:80-83", "1.2.3:80:80", "90-80", "0"] {
            let e = parse_short(s).unwrap_err();
            assert!(e.contains("invalid port"), "{s}: {e}");
        }
    }

    #[test]
    fn long_form() {
        let v: serde_norway::Value =
            serde_norway::from_str("[{target: 80, published: 8080, host_ip: 0.0.0.0, protocol: UDP, mode: host}]")
                .unwrap();
        let p = ports(v).unwrap();
        assert_eq!(p[0].published.unwrap().to_string(), "8080");
        assert_eq!((p[0].protocol, p[0].mode), (Protocol::Udp, PortMode::Host));
        let v: serde_norway::Value = serde_norway::from_str("[{target: 80, foo: 1}]").unwrap();
        let e = ports(v).unwrap_err().to_string();
        assert!(e.contains("unknown field `foo`"), "{e}");
    }
}
