//! `ps --filter` (and `start --filter`): Podman's filters parsed once into types, then
//! matched against records. Filters with the same key match when any of them does; different
//! keys must all match.

use super::{Container, ContainerError, State, health, restart::RestartPolicy};

/// One `--filter KEY=VALUE`.
#[derive(Debug, Clone, PartialEq)]
enum Filter {
    /// A prefix of the ID.
    Id(String),
    /// A substring of the name (Podman: a regular expression; plain text matches the same).
    Name(String),
    /// `label=KEY[=VALUE]`, or `label!=...` with `negate`.
    Label {
        spec: String,
        negate: bool,
    },
    Status(State),
    /// The image's name (a substring) or ID prefix.
    Ancestor(String),
    /// Exited with this code.
    Exited(i64),
    /// Created before / after this time (another container's).
    Before(i64),
    Since(i64),
    /// On this network: a user-defined one's name, or a mode (`pasta`, `none`...).
    Network(String),
    /// `health=starting|healthy|unhealthy`, or `none` (no health check).
    Health(Option<health::Status>),
    /// `restart-policy=no|on-failure|always|unless-stopped`.
    RestartPolicy(&'static str),
}

impl Filter {
    fn key(&self) -> &'static str {
        match self {
            Filter::Id(_) => "id",
            Filter::Name(_) => "name",
            Filter::Label { negate: false, .. } => "label",
            Filter::Label { negate: true, .. } => "label!",
            Filter::Status(_) => "status",
            Filter::Ancestor(_) => "ancestor",
            Filter::Exited(_) => "exited",
            Filter::Before(_) => "before",
            Filter::Since(_) => "since",
            Filter::Network(_) => "network",
            Filter::Health(_) => "health",
            Filter::RestartPolicy(_) => "restart-policy",
        }
    }

    fn matches(&self, c: &Container, health: Option<health::Status>) -> bool {
        match self {
            Filter::Id(p) => c.id.starts_with(p.as_str()),
            Filter::Name(n) => c.name.contains(n.as_str()),
            Filter::Label { spec, negate } => c.has_label(spec) != *negate,
            Filter::Status(s) => c.state == *s,
            Filter::Ancestor(a) => {
                c.image_name.contains(a.as_str()) || crate::util::digest_hex(&c.image_id).starts_with(a.as_str())
            }
            Filter::Exited(code) => c.state == State::Exited && c.exit_code == Some(*code),
            Filter::Before(t) => c.created < *t,
            Filter::Since(t) => c.created > *t,
            Filter::Network(n) => c.kept.network.to_string() == *n || c.kept.networks.iter().any(|a| a.name == *n),
            Filter::Health(h) => health == *h,
            Filter::RestartPolicy(p) => c.kept.restart.name() == *p,
        }
    }
}

/// The filters of one `ps`.
#[derive(Debug, Default)]
pub struct PsFilters(Vec<Filter>);

impl PsFilters {
    /// Parses `KEY=VALUE` filters; `before`/`since` name containers of `all`.
    pub fn parse(given: &[String], all: &[Container]) -> Result<PsFilters, ContainerError> {
        let mut out = Vec::new();
        for f in given {
            let bad = |why: &str| ContainerError::Invalid(format!("invalid filter \"{f}\": {why}"));
            let (k, v) = f.split_once('=').ok_or_else(|| bad("use KEY=VALUE"))?;
            let created_of = |v: &str| {
                all.iter()
                    .find(|c| c.name == v || c.id.starts_with(v))
                    .map(|c| c.created)
                    .ok_or_else(|| bad(&format!("no container with name or ID \"{v}\"")))
            };
            out.push(match k {
                "id" => Filter::Id(v.to_string()),
                "name" => Filter::Name(v.to_string()),
                "label" | "label!" => Filter::Label { spec: v.to_string(), negate: k == "label!" },
                "status" => {
                    Filter::Status(State::parse(v).ok_or_else(|| bad("use created, running, restarting or exited"))?)
                }
                "ancestor" => Filter::Ancestor(v.to_string()),
                "exited" => Filter::Exited(v.parse().map_err(|_| bad("give an exit code"))?),
                "before" => Filter::Before(created_of(v)?),
                "since" => Filter::Since(created_of(v)?),
                "network" => Filter::Network(v.to_string()),
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
                _ => {
                    return Err(bad(
                        "use id, name, label, label!, status, ancestor, exited, before, since, network, health or restart-policy",
                    ));
                }
            });
        }
        Ok(PsFilters(out))
    }

    /// Whether `c` (whose health, shown by `ps`, is `health`) passes: for each key, one of
    /// its filters matches.
    pub fn matches(&self, c: &Container, health: Option<health::Status>) -> bool {
        let mut keys: Vec<&str> = self.0.iter().map(Filter::key).collect();
        keys.sort_unstable();
        keys.dedup();
        keys.iter().all(|k| self.0.iter().filter(|f| f.key() == *k).any(|f| f.matches(c, health)))
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
            created: 0,
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
            id: format!("{name:0<64}"),
            name: name.into(),
            image_id: "sha256:abcdef".into(),
            image_name: "localhost/busybox:latest".into(),
            command: vec![],
            created,
            state,
            pid: None,
            monitor_pid: None,
            exit_code: Some(3),
            started_at: None,
            finished_at: None,
            boot_id: None,
            kept: Default::default(),
        }
    }

    #[test]
    fn filters_match_as_podman_combines_them() {
        let all = vec![ctr("web", State::Running, 10), ctr("db", State::Exited, 20), ctr("job", State::Created, 30)];
        let f = |v: &[&str]| PsFilters::parse(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &all).unwrap();
        let names =
            |p: &PsFilters| all.iter().filter(|c| p.matches(c, None)).map(|c| c.name.clone()).collect::<Vec<_>>();
        assert_eq!(names(&f(&["status=running"])), ["web"]);
        assert_eq!(names(&f(&["status=running", "status=exited"])), ["web", "db"]);
        assert_eq!(names(&f(&["status=exited", "name=we"])), Vec::<String>::new());
        assert_eq!(names(&f(&["exited=3"])), ["db"]);
        assert_eq!(names(&f(&["since=web"])), ["db", "job"]);
        assert_eq!(names(&f(&["before=job", "ancestor=busybox"])), ["web", "db"]);
        assert_eq!(names(&f(&["ancestor=abc"])), ["web", "db", "job"]);
        assert_eq!(names(&f(&["network=none"])), ["web", "db", "job"]);
        assert!(PsFilters::parse(&["status=bogus".into()], &all).is_err());
        assert!(PsFilters::parse(&["nokey".into()], &all).is_err());
        assert!(PsFilters::parse(&["since=nothere".into()], &all).unwrap_err().to_string().contains("nothere"));
        assert_eq!(names(&f(&["restart-policy=no"])), ["web", "db", "job"]);
        assert_eq!(names(&f(&["restart-policy=always"])), Vec::<String>::new());
        assert!(PsFilters::parse(&["restart-policy=sometimes".into()], &all).is_err());
        assert!(PsFilters::parse(&["health=sick".into()], &all).is_err());
    }

    #[test]
    fn health_and_restart_policy_filters() {
        let all = vec![ctr("web", State::Running, 10)];
        let f = |v: &str| PsFilters::parse(&[v.to_string()], &all).unwrap();
        let mut web = all[0].clone();
        web.kept.restart = RestartPolicy::OnFailure { max: 3 };
        assert!(f("restart-policy=on-failure").matches(&web, None));
        assert!(f("health=healthy").matches(&web, Some(health::Status::Healthy)));
        assert!(!f("health=healthy").matches(&web, Some(health::Status::Starting)));
        assert!(f("health=none").matches(&web, None));
        assert!(!f("health=none").matches(&web, Some(health::Status::Healthy)));
    }
}
