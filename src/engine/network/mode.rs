//! The network mode of a container, parsed once from `--network` (or read back from its
//! record) into a type: what gives it its network, and what that implies (a helper to start,
//! a namespace of its own). Kept in records as Podman's strings.

use std::fmt;

/// How a container is connected.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum NetworkMode {
    /// Only `lo`.
    #[default]
    None,
    /// The host's network namespace.
    Host,
    /// The built-in stack (crate::netstack) connects the container's own namespace through a
    /// tap device PID 1 makes (the default when libslirp is installed).
    Builtin,
    /// pasta connects the container's own namespace.
    Pasta,
    /// slirp4netns connects the container's own namespace.
    Slirp4netns,
    /// The network namespace of another container (its ID, once resolved).
    Container(String),
    /// User-defined networks (the container's record names them).
    Bridge,
}

impl NetworkMode {
    /// Whether a helper process (the built-in stack, pasta, slirp4netns) connects the container.
    pub fn has_helper(&self) -> bool {
        matches!(self, NetworkMode::Builtin | NetworkMode::Pasta | NetworkMode::Slirp4netns)
    }

    /// The mode as a record and `inspect` spell it; None for a string that is no mode.
    pub fn from_record(s: &str) -> Option<NetworkMode> {
        Some(match s {
            "none" => NetworkMode::None,
            "host" => NetworkMode::Host,
            "slirp" => NetworkMode::Builtin,
            "pasta" => NetworkMode::Pasta,
            "slirp4netns" => NetworkMode::Slirp4netns,
            "bridge" => NetworkMode::Bridge,
            other => NetworkMode::Container(other.strip_prefix("container:")?.to_string()),
        })
    }
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NetworkMode::None => f.write_str("none"),
            NetworkMode::Host => f.write_str("host"),
            NetworkMode::Builtin => f.write_str("slirp"),
            NetworkMode::Pasta => f.write_str("pasta"),
            NetworkMode::Slirp4netns => f.write_str("slirp4netns"),
            NetworkMode::Container(id) => write!(f, "container:{id}"),
            NetworkMode::Bridge => f.write_str("bridge"),
        }
    }
}

impl serde::Serialize for NetworkMode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for NetworkMode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<NetworkMode, D::Error> {
        let s = String::deserialize(d)?;
        NetworkMode::from_record(&s).ok_or_else(|| serde::de::Error::custom(format!("unknown network mode \"{s}\"")))
    }
}

#[cfg(test)]
mod tests {
    use super::NetworkMode;

    #[test]
    fn modes_round_trip_through_their_record_strings() {
        for m in [
            NetworkMode::None,
            NetworkMode::Host,
            NetworkMode::Builtin,
            NetworkMode::Pasta,
            NetworkMode::Slirp4netns,
            NetworkMode::Container("abc".into()),
            NetworkMode::Bridge,
        ] {
            assert_eq!(NetworkMode::from_record(&m.to_string()), Some(m.clone()));
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(serde_json::from_str::<NetworkMode>(&json).unwrap(), m);
        }
        assert_eq!(NetworkMode::from_record("bogus"), None);
        assert!(NetworkMode::Pasta.has_helper() && !NetworkMode::Bridge.has_helper());
    }
}
