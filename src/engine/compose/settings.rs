//! A service's text-valued settings read into enums once: `restart`, `pull_policy` and
//! `network_mode`, each written back in its compose spelling. No other keys.

use super::forms;
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use std::fmt;
use std::time::Duration;

/// Text-valued enums read from and written as their compose spelling.
macro_rules! text_enum {
    ($t:ty) => {
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<$t, D::Error> {
                let s = String::deserialize(d)?;
                <$t>::parse(&s).map_err(de::Error::custom)
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(&self.to_string())
            }
        }
    };
}

/// `restart:`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartPolicy {
    No,
    Always,
    /// `on-failure[:max-retries]`.
    OnFailure(Option<u32>),
    UnlessStopped,
}

impl RestartPolicy {
    fn parse(s: &str) -> Result<RestartPolicy, String> {
        let bad = || format!("invalid restart \"{s}\": use no, always, on-failure[:N] or unless-stopped");
        match s.split_once(':') {
            None => match s {
                "no" | "" => Ok(RestartPolicy::No),
                "always" => Ok(RestartPolicy::Always),
                "on-failure" => Ok(RestartPolicy::OnFailure(None)),
                "unless-stopped" => Ok(RestartPolicy::UnlessStopped),
                _ => Err(bad()),
            },
            Some(("on-failure", n)) => n.parse().map(|n| RestartPolicy::OnFailure(Some(n))).map_err(|_| bad()),
            Some(_) => Err(bad()),
        }
    }
}

impl fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            RestartPolicy::No => f.write_str("no"),
            RestartPolicy::Always => f.write_str("always"),
            RestartPolicy::OnFailure(None) => f.write_str("on-failure"),
            RestartPolicy::OnFailure(Some(n)) => write!(f, "on-failure:{n}"),
            RestartPolicy::UnlessStopped => f.write_str("unless-stopped"),
        }
    }
}

text_enum!(RestartPolicy);

/// `pull_policy:` (`if_not_present` reads as `missing`, as compose normalises it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PullPolicy {
    Always,
    Never,
    Missing,
    Build,
    /// `daily`, `weekly`, `every_<duration>`: pull when the local image is older than `every`.
    Refresh {
        every: Duration,
        text: String,
    },
}

impl PullPolicy {
    fn parse(s: &str) -> Result<PullPolicy, String> {
        let refresh = |every: Duration| Ok(PullPolicy::Refresh { every, text: s.to_string() });
        match s {
            "always" => Ok(PullPolicy::Always),
            "never" => Ok(PullPolicy::Never),
            "missing" | "if_not_present" => Ok(PullPolicy::Missing),
            "build" => Ok(PullPolicy::Build),
            "daily" => refresh(Duration::from_secs(86400)),
            "weekly" => refresh(Duration::from_secs(7 * 86400)),
            _ => match s.strip_prefix("every_").map(forms::parse_duration) {
                Some(Ok(d)) => refresh(d),
                _ => Err(format!(
                    "invalid pull_policy \"{s}\": use always, never, missing, build, daily, weekly or every_<duration>"
                )),
            },
        }
    }
}

impl fmt::Display for PullPolicy {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            PullPolicy::Always => f.write_str("always"),
            PullPolicy::Never => f.write_str("never"),
            PullPolicy::Missing => f.write_str("missing"),
            PullPolicy::Build => f.write_str("build"),
            PullPolicy::Refresh { text, .. } => f.write_str(text),
        }
    }
}

text_enum!(PullPolicy);

/// `network_mode:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetworkMode {
    Bridge,
    Host,
    None,
    /// Share the network namespace of this service's (first) container.
    Service(String),
    /// Share the network namespace of this container.
    Container(String),
    /// Any other mode the engine knows (`pasta`, `slirp4netns`, ...).
    Other(String),
}

impl NetworkMode {
    fn parse(s: &str) -> Result<NetworkMode, String> {
        let named = |n: &str, what: &str| {
            if n.is_empty() { Err(format!("invalid network_mode \"{s}\": name the {what}")) } else { Ok(n.to_string()) }
        };
        Ok(match s {
            "bridge" => NetworkMode::Bridge,
            "host" => NetworkMode::Host,
            "none" => NetworkMode::None,
            "" => return Err("empty network_mode: remove it or use bridge, host, none or service:NAME".into()),
            _ => match s.split_once(':') {
                Some(("service", n)) => NetworkMode::Service(named(n, "service")?),
                Some(("container", n)) => NetworkMode::Container(named(n, "container")?),
                _ => NetworkMode::Other(s.to_string()),
            },
        })
    }
}

impl fmt::Display for NetworkMode {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self {
            NetworkMode::Bridge => f.write_str("bridge"),
            NetworkMode::Host => f.write_str("host"),
            NetworkMode::None => f.write_str("none"),
            NetworkMode::Service(n) => write!(f, "service:{n}"),
            NetworkMode::Container(n) => write!(f, "container:{n}"),
            NetworkMode::Other(s) => f.write_str(s),
        }
    }
}

text_enum!(NetworkMode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums() {
        assert_eq!(RestartPolicy::parse("on-failure:3"), Ok(RestartPolicy::OnFailure(Some(3))));
        assert!(RestartPolicy::parse("sometimes").is_err());
        assert_eq!(PullPolicy::parse("if_not_present"), Ok(PullPolicy::Missing));
        assert!(matches!(PullPolicy::parse("every_12h"), Ok(PullPolicy::Refresh { .. })));
        assert_eq!(NetworkMode::parse("service:db"), Ok(NetworkMode::Service("db".into())));
        assert_eq!(NetworkMode::parse("container:x").unwrap().to_string(), "container:x");
    }
}
