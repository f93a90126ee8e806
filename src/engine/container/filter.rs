//! `ps --filter` (and `rm`/`start`/`stop`/`kill`/`restart --filter`): Podman's filters parsed
//! once into types, then matched against records. Filters with the same key match when any of
//! them does, except `label` and `label!`, which must all match (as Podman); different keys
//! must all match. Filters on what records do not hold (mounts, exposed ports) are answered at
//! parse time from the bundles and images.

use super::{Container, ContainerError, Stamp, State, health, restart::RestartPolicy};
use crate::engine::Context;
use std::collections::HashSet;

/// One `--filter KEY=VALUE`.
#[derive(Debug, Clone)]
enum Filter {
    /// A prefix of the ID.
    Id(String),
    /// A regular expression matching the name (unanchored, as Podman's).
    Name(regex::Regex),
    /// `label=KEY[=VALUE]`, or `label!=...` with `negate`.
    Label {
        spec: String,
        negate: bool,
    },
    /// A state; None for Podman's states kiste never has (paused, removing...).
    Status(Option<State>),
    /// The image: a substring of its ID, or a regular expression on its name (none when the
    /// value is not one).
    Ancestor(String, Option<regex::Regex>),
    /// Exited with this code.
    Exited(i64),
    /// Created before / after this time (another container's, or `until=` a time).
    Before(Stamp),
    Since(Stamp),
    Until(Stamp),
    /// On this network: a user-defined one's name, or a mode (`pasta`, `none`...).
    Network(String),
    /// Publishes this container port (and protocol, when given).
    Publish(u16, Option<String>),
    /// A regular expression matching the command's first word.
    Command(regex::Regex),
    /// `health=starting|healthy|unhealthy`, or `none` (no health check).
    Health(Option<health::Status>),
    /// `restart-policy=no|on-failure|always|unless-stopped`.
    RestartPolicy(&'static str),
    /// A pod: kiste has none, so nothing matches.
    Pod,
    /// Answered at parse time (`volume=`, `expose=`): the IDs that match, under its key.
    Ids(&'static str, HashSet<String>),
}

impl Filter {
    fn key(&self) -> &'static str {
        match self {
            Filter::Id(_) => "id",
            Filter::Name(_) => "name",
            Filter::Label { negate: false, .. } => "label",
            Filter::Label { negate: true, .. } => "label!",
            Filter::Status(_) => "status",
            Filter::Ancestor(..) => "ancestor",
            Filter::Exited(_) => "exited",
            Filter::Before(_) => "before",
            Filter::Since(_) => "since",
            Filter::Until(_) => "until",
            Filter::Network(_) => "network",
            Filter::Publish(..) => "publish",
            Filter::Command(_) => "command",
            Filter::Health(_) => "health",
            Filter::RestartPolicy(_) => "restart-policy",
            Filter::Pod => "pod",
            Filter::Ids(k, _) => k,
        }
    }

    /// Whether all filters of this key must match (rather than any).
    fn all_must_match(&self) -> bool {
        matches!(self, Filter::Label { .. })
    }

    fn matches(&self, c: &Container, health: Option<health::Status>) -> bool {
        match self {
            Filter::Id(p) => c.id.starts_with(p.as_str()),
            Filter::Name(re) => re.is_match(&c.name),
            Filter::Label { spec, negate } => c.has_label(spec) != *negate,
            Filter::Status(s) => Some(c.state) == *s,
            Filter::Ancestor(a, re) => {
                crate::util::digest_hex(&c.image_id).contains(a.as_str())
                    || re.as_ref().is_some_and(|re| {
                        re.is_match(&c.image_name)
                            || c.image_name.strip_suffix(":latest").is_some_and(|n| re.is_match(n))
                    })
            }
            Filter::Exited(code) => c.state == State::Exited && c.exit_code == Some(*code),
            Filter::Before(t) => c.created < *t,
            Filter::Since(t) => c.created > *t,
            Filter::Until(t) => c.created <= *t,
            Filter::Network(n) => c.kept.network.to_string() == *n || c.kept.networks.iter().any(|a| a.name == *n),
            Filter::Publish(port, proto) => {
                c.kept.ports.iter().any(|m| m.container_port == *port && proto.as_ref().is_none_or(|p| *p == m.proto))
            }
            Filter::Command(re) => c.command.first().is_some_and(|w| re.is_match(w)),
            Filter::Health(h) => health == *h,
            Filter::RestartPolicy(p) => c.kept.restart.name() == *p,
            Filter::Pod => false,
            Filter::Ids(_, ids) => ids.contains(&c.id),
        }
    }
}

/// What the records do not hold, looked up for the filters that need it.
pub trait Facts {
    /// The container's mounts as (source, destination).
    fn mounts(&self, c: &Container) -> Vec<(String, String)>;
    /// The ports its image exposes, as (port, protocol).
    fn exposed(&self, c: &Container) -> Vec<(u16, String)>;
}

/// Facts from the containers' bundles and their images' configs.
pub struct Store<'a>(pub &'a Context);

impl Facts for Store<'_> {
    fn mounts(&self, c: &Container) -> Vec<(String, String)> {
        let spec = oci_spec::runtime::Spec::load(c.dir(self.0).join("config.json")).ok();
        let mounts = spec.and_then(|s| s.mounts().clone()).unwrap_or_default();
        mounts
            .iter()
            .map(|m| {
                let src = m.source().as_ref().map(|s| s.display().to_string()).unwrap_or_default();
                (src, m.destination().display().to_string())
            })
            .collect()
    }
    fn exposed(&self, c: &Container) -> Vec<(u16, String)> {
        let Ok(conn) = self.0.db() else { return Vec::new() };
        let Ok(rec) = crate::engine::image::store::resolve(&conn, &c.image_id) else { return Vec::new() };
        let cfg: Option<oci_spec::image::ImageConfiguration> = serde_json::from_str(&rec.config).ok();
        let ports = cfg.and_then(|c| c.config().clone()).and_then(|c| c.exposed_ports().clone()).unwrap_or_default();
        ports.iter().flat_map(|p| crate::engine::network::ports::parse_exposed(p).unwrap_or_default()).collect()
    }
}

/// The filters of one `ps`.
#[derive(Debug, Default)]
pub struct PsFilters(Vec<Filter>);

impl PsFilters {
    /// Parses `KEY=VALUE` filters; `before`/`since` name containers of `all`, `volume=` and
    /// `expose=` are answered from `facts`.
    pub fn parse_with(given: &[String], all: &[Container], facts: &dyn Facts) -> Result<PsFilters, ContainerError> {
        let mut out = Vec::new();
        for f in given {
            let bad = |why: &str| ContainerError::Invalid(format!("invalid filter \"{f}\": {why}"));
            let (k, v) = f.split_once('=').ok_or_else(|| bad("use KEY=VALUE"))?;
            let created_of = |v: &str| {
                all.iter()
                    .find(|c| c.name == v || c.id.starts_with(v))
                    .map(|c| c.created)
                    .ok_or_else(|| bad(&format!("no container with name or ID \"{v}\" found: no such container")))
            };
            let re = |v: &str| regex::Regex::new(v).map_err(|e| bad(&format!("not a regular expression: {e}")));
            let port = |v: &str| {
                let (p, proto) = match v.split_once('/') {
                    Some((p, proto)) => (p, Some(proto.to_string())),
                    None => (v, None),
                };
                p.parse::<u16>().map(|p| (p, proto)).map_err(|_| bad("give a port, as 80 or 80/tcp"))
            };
            out.push(match k {
                "id" => Filter::Id(v.to_string()),
                "name" => Filter::Name(re(&v.replace('/', ""))?),
                "label" | "label!" => Filter::Label { spec: v.to_string(), negate: k == "label!" },
                "status" => Filter::Status(match v {
                    "stopped" => Some(State::Exited),
                    "unknown" | "configured" | "removing" | "stopping" => None,
                    v => Some(State::parse(v).ok_or_else(|| {
                        bad("use created, running, restarting, paused, stopped, exited, removing, stopping or unknown")
                    })?),
                }),
                "ancestor" => Filter::Ancestor(v.to_string(), regex::Regex::new(v).ok()),
                "exited" => Filter::Exited(v.parse().map_err(|_| bad("give an exit code"))?),
                "before" => Filter::Before(created_of(v)?),
                "since" => Filter::Since(created_of(v)?),
                "until" => Filter::Until(
                    crate::util::parse_time(v, chrono::Utc::now())
                        .ok_or_else(|| bad("use a time (2006-01-02T15:04:05Z), Unix seconds or a duration (10m)"))
                        .map(|t| Stamp::from_secs(t.timestamp()))?,
                ),
                "network" => Filter::Network(v.to_string()),
                "publish" => {
                    let (p, proto) = port(v)?;
                    Filter::Publish(p, proto)
                }
                "expose" => {
                    let (p, proto) = port(v)?;
                    let ids = all
                        .iter()
                        .filter(|c| {
                            facts.exposed(c).iter().any(|(x, xp)| *x == p && proto.as_ref().is_none_or(|w| w == xp))
                        })
                        .map(|c| c.id.clone())
                        .collect();
                    Filter::Ids("expose", ids)
                }
                "volume" => {
                    let (src, dest) = v.split_once(':').map_or((v, None), |(s, d)| (s, Some(d)));
                    let ids = all
                        .iter()
                        .filter(|c| {
                            facts.mounts(c).iter().any(|(s, d)| match dest {
                                Some(dest) => s == src && d == dest,
                                None => d == src,
                            })
                        })
                        .map(|c| c.id.clone())
                        .collect();
                    Filter::Ids("volume", ids)
                }
                "command" => Filter::Command(re(v)?),
                "health" => Filter::Health(match v {
                    "starting" => Some(health::Status::Starting),
                    "healthy" => Some(health::Status::Healthy),
                    "unhealthy" => Some(health::Status::Unhealthy),
                    "none" => None,
                    _ => return Err(bad("use health=starting, healthy, unhealthy or none")),
                }),
                "restart-policy" => Filter::RestartPolicy(match v {
                    "" | "none" => "no",
                    v => RestartPolicy::parse(v)
                        .map_err(|_| bad("use restart-policy=no, on-failure, always or unless-stopped"))?
                        .name(),
                }),
                "pod" => Filter::Pod,
                _ => {
                    return Err(bad(
                        "use id, name, label, label!, status, ancestor, exited, before, since, until, network, \
                         publish, expose, volume, command, health, restart-policy or pod",
                    ));
                }
            });
        }
        Ok(PsFilters(out))
    }

    /// Whether `c` (whose health, shown by `ps`, is `health`) passes: for each key, one of
    /// its filters matches (all, for labels).
    pub fn matches(&self, c: &Container, health: Option<health::Status>) -> bool {
        let mut keys: Vec<&str> = self.0.iter().map(Filter::key).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.iter().all(|k| {
            let mut of_key = self.0.iter().filter(|f| f.key() == *k).peekable();
            match of_key.peek().is_some_and(|f| f.all_must_match()) {
                true => of_key.all(|f| f.matches(c, health)),
                false => of_key.any(|f| f.matches(c, health)),
            }
        })
    }
}

/// Records for unit tests elsewhere in the container module.
#[cfg(test)]
pub(crate) mod tests_support {
    use super::*;

    pub fn ctr(name: &str) -> Container {
        Container {
            id: format!("{name:0<64}"),
            name: name.into(),
            image_id: "sha256:abcdef".into(),
            image_name: "localhost/busybox:latest".into(),
            command: vec![],
            created: Stamp::from_secs(0),
            state: State::Running,
            pid: None,
            monitor_pid: None,
            exit_code: None,
            started_at: None,
            finished_at: None,
            boot_id: None,
            kept: Default::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctr(name: &str, state: State, created: i64) -> Container {
        Container {
            command: vec!["sleep".into(), "9".into()],
            created: Stamp::from_secs(created),
            state,
            exit_code: Some(3),
            ..tests_support::ctr(name)
        }
    }

    struct Fake;
    impl Facts for Fake {
        fn mounts(&self, c: &Container) -> Vec<(String, String)> {
            match c.name.as_str() {
                "web" => vec![("/srv".into(), "/data".into())],
                _ => vec![],
            }
        }
        fn exposed(&self, c: &Container) -> Vec<(u16, String)> {
            match c.name.as_str() {
                "db" => vec![(5432, "tcp".into())],
                _ => vec![],
            }
        }
    }

    #[test]
    fn filters_match_as_podman_combines_them() {
        let mut all =
            vec![ctr("web", State::Running, 10), ctr("db", State::Exited, 20), ctr("job", State::Created, 30)];
        all[0].kept.labels.insert("a".into(), "1".into());
        all[0].kept.labels.insert("b".into(), "2".into());
        all[1].kept.labels.insert("a".into(), "1".into());
        all[0].kept.ports.push(crate::engine::network::PortMapping {
            host_ip: String::new(),
            host_port: 8080,
            container_port: 80,
            proto: "tcp".into(),
        });
        let f = |v: &[&str]| {
            PsFilters::parse_with(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &all, &Fake).unwrap()
        };
        let names =
            |p: &PsFilters| all.iter().filter(|c| p.matches(c, None)).map(|c| c.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&f(&["status=running"])), ["web"]);
        assert_eq!(names(&f(&["status=running", "status=exited"])), ["web", "db"]);
        assert_eq!(names(&f(&["status=stopped"])), ["db"]);
        assert!(names(&f(&["status=paused"])).is_empty());
        assert_eq!(names(&f(&["status=exited", "name=we"])), Vec::<String>::new());
        assert_eq!(names(&f(&["name=^j.b$"])), ["job"]);
        assert_eq!(names(&f(&["exited=3"])), ["db"]);
        assert_eq!(names(&f(&["since=web"])), ["db", "job"]);
        assert_eq!(names(&f(&["until=20"])), ["web", "db"]);
        assert_eq!(names(&f(&["before=job", "ancestor=busybox"])), ["web", "db"]);
        assert_eq!(names(&f(&["ancestor=abc"])), ["web", "db", "job"]);
        assert_eq!(names(&f(&["network=none"])), ["web", "db", "job"]);
        assert_eq!(names(&f(&["label=a=1", "label=b"])), ["web"], "labels must all match");
        assert_eq!(names(&f(&["label!=b"])), ["db", "job"]);
        assert_eq!(names(&f(&["publish=80"])), ["web"]);
        assert!(names(&f(&["publish=80/udp"])).is_empty());
        assert_eq!(names(&f(&["expose=5432/tcp"])), ["db"]);
        assert_eq!(names(&f(&["volume=/data"])), ["web"]);
        assert_eq!(names(&f(&["volume=/srv:/data"])), ["web"]);
        assert!(names(&f(&["volume=/srv"])).is_empty());
        assert_eq!(names(&f(&["command=^sle"])).len(), 3);
        assert!(names(&f(&["health=healthy"])).is_empty() && names(&f(&["pod=p"])).is_empty());
        assert_eq!(names(&f(&["restart-policy=no"])), ["web", "db", "job"]);
        assert!(names(&f(&["restart-policy=always"])).is_empty());
        let parse = |f: &str| PsFilters::parse_with(&[f.to_string()], &all, &Fake);
        assert!(parse("status=bogus").is_err() && parse("nokey").is_err() && parse("name=(").is_err());
        assert!(parse("since=nothere").unwrap_err().to_string().contains("nothere"));
        assert!(parse("restart-policy=sometimes").is_err() && parse("health=sick").is_err());
    }

    #[test]
    fn health_and_restart_policy_filters() {
        let all = vec![ctr("web", State::Running, 10)];
        let f = |v: &str| PsFilters::parse_with(&[v.to_string()], &all, &Fake).unwrap();
        let mut web = all[0].clone();
        web.kept.restart = RestartPolicy::OnFailure { max: 3 };
        assert!(f("restart-policy=on-failure").matches(&web, None));
        assert!(f("health=healthy").matches(&web, Some(health::Status::Healthy)));
        assert!(!f("health=healthy").matches(&web, Some(health::Status::Starting)));
        assert!(f("health=none").matches(&web, None));
        assert!(!f("health=none").matches(&web, Some(health::Status::Healthy)));
    }
}
