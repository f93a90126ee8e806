//! The typed pieces of a service that have their own shape: build, healthcheck, deploy,
//! depends_on entries (and their condition), networks entries, ulimits, env_file entries,
//! logging. Each reads every form compose allows and serializes in compose-go's canonical form
//! and key order.

use super::forms;
use super::mounts::{self, FileMount};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// `build:` (string form = context only).
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Build {
    /// Absolute directory after resolution, or a remote context (git URL, `http(s)://`).
    #[serde(default)]
    pub context: String,
    /// Relative to the context unless absolute; "Dockerfile" when neither this nor
    /// `dockerfile_inline` is set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dockerfile_inline: Option<String>,
    /// Build arguments; `None` is an argument named without a value and not found in the
    /// environment (the Dockerfile's default applies).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "forms::env_map")]
    pub args: BTreeMap<String, Option<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "forms::labels")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "forms::is_false", deserialize_with = "forms::bool_")]
    pub no_cache: bool,
    #[serde(default, skip_serializing_if = "forms::is_false", deserialize_with = "forms::bool_")]
    pub pull: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "mounts::file_mounts")]
    pub secrets: Vec<FileMount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "forms::string_list")]
    pub tags: Vec<String>,
}

/// `build:` in either form.
pub fn build<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Build>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Build>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a build context path or a mapping with context, dockerfile, args ...")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Build { context: v.to_string(), ..Build::default() }))
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            Build::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }
    d.deserialize_any(V)
}

/// What a health check runs.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum HealthTest {
    /// No `test`: the image's check (if any) with these timings.
    #[default]
    Inherit,
    /// `["NONE"]`: checks disabled.
    None,
    /// `["CMD", args...]`: run directly.
    Cmd(Vec<String>),
    /// A string or `["CMD-SHELL", command]`: run with `/bin/sh -c`.
    Shell(String),
}

impl HealthTest {
    fn is_inherit(&self) -> bool {
        *self == HealthTest::Inherit
    }
}

impl<'de> Deserialize<'de> for HealthTest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<HealthTest, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HealthTest;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a command string or a list starting with CMD, CMD-SHELL or NONE")
            }
            fn visit_unit<E: de::Error>(self) -> Result<HealthTest, E> {
                Ok(HealthTest::Inherit)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<HealthTest, E> {
                Ok(HealthTest::Shell(v.to_string()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<HealthTest, A::Error> {
                let mut words = vec![];
                while let Some(forms::Scalar(s)) = seq.next_element()? {
                    words.push(s);
                }
                let (first, rest) = words.split_first().ok_or_else(|| de::Error::custom(NO_KIND))?;
                match first.as_str() {
                    "NONE" => Ok(HealthTest::None),
                    "CMD" => Ok(HealthTest::Cmd(rest.to_vec())),
                    "CMD-SHELL" => Ok(HealthTest::Shell(rest.join(" "))),
                    _ => Err(de::Error::custom(NO_KIND)),
                }
            }
        }
        d.deserialize_any(V)
    }
}

const NO_KIND: &str =
    "healthcheck.test must start with \"CMD\", \"CMD-SHELL\" or \"NONE\", e.g. [\"CMD\", \"pg_isready\"]";

impl Serialize for HealthTest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let list: Vec<&str> = match self {
            HealthTest::Inherit => vec![],
            HealthTest::None => vec!["NONE"],
            HealthTest::Cmd(args) => std::iter::once("CMD").chain(args.iter().map(String::as_str)).collect(),
            HealthTest::Shell(c) => vec!["CMD-SHELL", c],
        };
        s.collect_seq(list)
    }
}

/// `healthcheck:`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Healthcheck {
    #[serde(default, skip_serializing_if = "HealthTest::is_inherit")]
    pub test: HealthTest,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "forms::opt_duration",
        serialize_with = "forms::ser_duration"
    )]
    pub timeout: Option<Duration>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "forms::opt_duration",
        serialize_with = "forms::ser_duration"
    )]
    pub interval: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "forms::opt_u64")]
    pub retries: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "forms::opt_duration",
        serialize_with = "forms::ser_duration"
    )]
    pub start_period: Option<Duration>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "forms::opt_duration",
        serialize_with = "forms::ser_duration"
    )]
    pub start_interval: Option<Duration>,
    #[serde(default, skip_serializing_if = "forms::is_false", deserialize_with = "forms::bool_")]
    pub disable: bool,
}

impl Healthcheck {
    /// `disable: true` or `test: ["NONE"]`.
    pub fn is_disabled(&self) -> bool {
        self.disable || self.test == HealthTest::None
    }
}

/// `deploy.resources.limits` / `.reservations`.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceLimits {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "forms::opt_f64",
        serialize_with = "forms::ser_number"
    )]
    pub cpus: Option<f64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "forms::opt_bytes",
        serialize_with = "forms::ser_bytes"
    )]
    pub memory: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "forms::opt_i64")]
    pub pids: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<ResourceLimits>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reservations: Option<ResourceLimits>,
}

impl Resources {
    fn is_empty(&self) -> bool {
        self.limits.is_none() && self.reservations.is_none()
    }
}

/// `deploy.restart_policy` (Swarm's form; `up` maps it to the engine's restart policy).
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DeployRestart {
    /// none, on-failure or any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "forms::opt_duration",
        serialize_with = "forms::ser_duration"
    )]
    pub delay: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "forms::opt_u64")]
    pub max_attempts: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "forms::opt_duration",
        serialize_with = "forms::ser_duration"
    )]
    pub window: Option<Duration>,
}

/// `deploy:` (the parts that mean something without Swarm).
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Deploy {
    /// Only `replicated` (the default) is accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "forms::opt_u32")]
    pub replicas: Option<u32>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "forms::labels")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Resources::is_empty")]
    pub resources: Resources,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart_policy: Option<DeployRestart>,
}

/// When a dependency counts as ready.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub enum Condition {
    /// `service_started`: the container runs.
    #[default]
    #[serde(rename = "service_started")]
    Started,
    /// `service_healthy`: its health check passed.
    #[serde(rename = "service_healthy")]
    Healthy,
    /// `service_completed_successfully`: it exited 0.
    #[serde(rename = "service_completed_successfully")]
    CompletedSuccessfully,
}

impl<'de> Deserialize<'de> for Condition {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Condition, D::Error> {
        let s = String::deserialize(d)?;
        match s.as_str() {
            "service_started" => Ok(Condition::Started),
            "service_healthy" => Ok(Condition::Healthy),
            "service_completed_successfully" => Ok(Condition::CompletedSuccessfully),
            _ => Err(de::Error::custom(format!(
                "invalid condition \"{s}\": use service_started, service_healthy or service_completed_successfully"
            ))),
        }
    }
}

/// One `depends_on` entry.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Dependency {
    #[serde(default)]
    pub condition: Condition,
    /// Restart this service when the dependency is restarted by compose.
    #[serde(default, skip_serializing_if = "forms::is_false", deserialize_with = "forms::bool_")]
    pub restart: bool,
    /// When false, a missing or disabled dependency is skipped with a warning.
    #[serde(default = "yes", deserialize_with = "forms::bool_")]
    pub required: bool,
}

fn yes() -> bool {
    true
}

impl Dependency {
    pub fn started() -> Dependency {
        Dependency { condition: Condition::Started, restart: false, required: true }
    }
}

/// `depends_on:` as a list of names or a map of name -> entry.
pub fn depends_on<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Dependency>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = BTreeMap<String, Dependency>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of service names or a map of service name to {condition, required}")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(name) = seq.next_element::<String>()? {
                out.insert(name, Dependency::started());
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((k, v)) = map.next_entry::<String, Option<Dependency>>()? {
                out.insert(k, v.unwrap_or_else(Dependency::started));
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// A service's settings on one network.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceNetwork {
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "forms::string_list")]
    pub aliases: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipv4_address: Option<Ipv4Addr>,
}

/// `networks:` of a service: a list of names or a map of name -> settings (null allowed).
pub fn service_networks<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, Option<ServiceNetwork>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = BTreeMap<String, Option<ServiceNetwork>>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a list of network names or a map of network name to {aliases, ipv4_address}")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(BTreeMap::new())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some(name) = seq.next_element::<String>()? {
                out.insert(name, None);
            }
            Ok(out)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut out = BTreeMap::new();
            while let Some((k, v)) = map.next_entry::<String, Option<ServiceNetwork>>()? {
                out.insert(k, v);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// One `ulimits` entry: a single value (soft = hard) or soft and hard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ulimit {
    Single(i64),
    SoftHard { soft: i64, hard: i64 },
}

impl Ulimit {
    pub fn soft(&self) -> i64 {
        match self {
            Ulimit::Single(v) | Ulimit::SoftHard { soft: v, .. } => *v,
        }
    }
    pub fn hard(&self) -> i64 {
        match self {
            Ulimit::Single(v) | Ulimit::SoftHard { hard: v, .. } => *v,
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SoftHard {
    #[serde(deserialize_with = "req_i64")]
    soft: i64,
    #[serde(deserialize_with = "req_i64")]
    hard: i64,
}

fn req_i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    forms::opt_i64(d)?.ok_or_else(|| de::Error::custom("a number is required"))
}

impl<'de> Deserialize<'de> for Ulimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Ulimit, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ulimit;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a mapping with soft and hard")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Ulimit, E> {
                Ok(Ulimit::Single(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Ulimit, E> {
                i64::try_from(v).map(Ulimit::Single).map_err(|_| E::custom("ulimit too large"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Ulimit, E> {
                v.parse().map(Ulimit::Single).map_err(|_| E::custom(format!("invalid ulimit \"{v}\": write a number")))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Ulimit, A::Error> {
                let sh = SoftHard::deserialize(de::value::MapAccessDeserializer::new(map))?;
                if sh.soft > sh.hard {
                    return Err(de::Error::custom("soft is above hard: make soft <= hard"));
                }
                Ok(Ulimit::SoftHard { soft: sh.soft, hard: sh.hard })
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Ulimit {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        match self {
            Ulimit::Single(v) => s.serialize_i64(*v),
            Ulimit::SoftHard { soft, hard } => {
                let mut m = s.serialize_map(Some(2))?;
                m.serialize_entry("soft", soft)?;
                m.serialize_entry("hard", hard)?;
                m.end()
            }
        }
    }
}

/// One `env_file` entry.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvFile {
    /// Absolute after resolution.
    pub path: PathBuf,
    /// A missing required file is an error; a missing optional one is skipped.
    #[serde(default = "yes", deserialize_with = "forms::bool_")]
    pub required: bool,
    #[serde(default)]
    pub format: Option<String>,
}

/// `env_file:` as a path, a list of paths, or a list of {path, required, format}.
pub fn env_files<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<EnvFile>, D::Error> {
    struct Entry(EnvFile);
    impl<'de> Deserialize<'de> for Entry {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entry, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Entry;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a path or a mapping with path and required")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Entry, E> {
                    Ok(Entry(EnvFile { path: v.into(), required: true, format: None }))
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Entry, A::Error> {
                    EnvFile::deserialize(de::value::MapAccessDeserializer::new(map)).map(Entry)
                }
            }
            d.deserialize_any(V)
        }
    }
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Vec<EnvFile>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a path or a list of paths")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(vec![])
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(vec![EnvFile { path: v.into(), required: true, format: None }])
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = vec![];
            while let Some(Entry(e)) = seq.next_element()? {
                out.push(e);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// `logging:` (kept for `config`; kiste's log driver is its own).
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Logging {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "forms::labels")]
    pub options: BTreeMap<String, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(s: &str) -> serde_norway::Value {
        serde_norway::from_str(s).unwrap()
    }

    #[test]
    fn build_forms() {
        let b = build(val("./app")).unwrap().unwrap();
        assert_eq!(b.context, "./app");
        let b = build(val("{context: ., args: [A=1, B], tags: t:1}")).unwrap().unwrap();
        assert_eq!(b.args.get("A"), Some(&Some("1".into())));
        assert_eq!(b.args.get("B"), Some(&None));
        assert_eq!(b.tags, vec!["t:1"]);
        let e = build(val("{context: ., ssh: [default]}")).unwrap_err().to_string();
        assert!(e.contains("unknown field `ssh`"), "{e}");
    }

    #[test]
    fn healthcheck_forms() {
        let h: Healthcheck =
            Deserialize::deserialize(val("{test: curl -f x, interval: 1m30s, retries: \"3\"}")).unwrap();
        assert_eq!(h.test, HealthTest::Shell("curl -f x".into()));
        assert_eq!(h.interval, Some(Duration::from_secs(90)));
        assert_eq!(h.retries, Some(3));
        let h: Healthcheck = Deserialize::deserialize(val("{test: [NONE]}")).unwrap();
        assert!(h.is_disabled());
        let h: Healthcheck = Deserialize::deserialize(val("{test: [CMD, pg_isready, -U, x]}")).unwrap();
        assert_eq!(h.test, HealthTest::Cmd(vec!["pg_isready".into(), "-U".into(), "x".into()]));
        assert!(Healthcheck::deserialize(val("{test: [RUN, x]}")).is_err());
    }

    #[test]
    fn depends_on_forms() {
        let d = depends_on(val("[db, cache]")).unwrap();
        assert_eq!(d["db"], Dependency::started());
        let d = depends_on(val("{db: {condition: service_healthy, restart: true}}")).unwrap();
        assert_eq!(d["db"], Dependency { condition: Condition::Healthy, restart: true, required: true });
        assert!(depends_on(val("{db: {condition: healthy}}")).is_err());
    }

    #[test]
    fn ulimits_and_env_files() {
        let u: BTreeMap<String, Ulimit> =
            Deserialize::deserialize(val("{nproc: 65535, nofile: {soft: 1, hard: 2}}")).unwrap();
        assert_eq!(u["nproc"].soft(), 65535);
        assert_eq!(u["nofile"].hard(), 2);
        let e = env_files(val("[a.env, {path: b.env, required: false}]")).unwrap();
        assert!(e[0].required && !e[1].required);
    }
}
