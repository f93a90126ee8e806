//! Docker compose's names and labels: what a project's containers, networks and volumes are
//! called and the `com.docker.compose.*` labels that tie them to their project, so that later
//! commands (and docker-compose-aware tools) find them. Pure: no store access.

use super::model::{Project, Service};
use crate::engine::container::Container;

pub const PROJECT: &str = "com.docker.compose.project";
pub const SERVICE: &str = "com.docker.compose.service";
pub const NUMBER: &str = "com.docker.compose.container-number";
pub const CONFIG_HASH: &str = "com.docker.compose.config-hash";
pub const ONEOFF: &str = "com.docker.compose.oneoff";
pub const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
pub const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
pub const VERSION: &str = "com.docker.compose.version";
pub const DEPENDS_ON: &str = "com.docker.compose.depends_on";
pub const IMAGE: &str = "com.docker.compose.image";
pub const NETWORK: &str = "com.docker.compose.network";
pub const VOLUME: &str = "com.docker.compose.volume";

/// What the version label says: the compose implementation that made the resource.
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// `PROJECT-SERVICE-N`, or the service's `container_name`.
pub fn container_name(project: &str, s: &Service, number: u32) -> String {
    s.container_name_for(project, number)
}

/// A one-off (`compose run`) container's name: `PROJECT-SERVICE-run-<12 hex>`.
pub fn oneoff_name(project: &str, service: &str) -> String {
    let id = crate::engine::container::new_id();
    format!("{project}-{service}-run-{}", &id[..12])
}

/// The labels every container of the project carries.
pub fn container_labels(p: &Project, s: &Service, number: u32, oneoff: bool, image_id: &str) -> Vec<(String, String)> {
    let depends: Vec<String> = s
        .depends_on
        .iter()
        .map(|(name, d)| {
            let cond = serde_json::to_value(d.condition).ok().and_then(|v| v.as_str().map(str::to_string));
            format!("{name}:{}:{}", cond.unwrap_or_default(), d.restart)
        })
        .collect();
    vec![
        (PROJECT.into(), p.name.clone()),
        (SERVICE.into(), s.name.clone()),
        (NUMBER.into(), number.to_string()),
        (CONFIG_HASH.into(), s.config_hash()),
        (ONEOFF.into(), if oneoff { "True" } else { "False" }.into()),
        (WORKING_DIR.into(), p.working_dir.display().to_string()),
        (CONFIG_FILES.into(), p.compose_files.join(",")),
        (VERSION.into(), version().into()),
        (DEPENDS_ON.into(), depends.join(",")),
        (IMAGE.into(), image_id.to_string()),
    ]
}

/// The labels of a network the project creates (`key` is its key under `networks`).
pub fn network_labels(project: &str, key: &str) -> Vec<(String, String)> {
    vec![(PROJECT.into(), project.into()), (NETWORK.into(), key.into()), (VERSION.into(), version().into())]
}

/// The labels of a volume the project creates (`key` is its key under `volumes`).
pub fn volume_labels(project: &str, key: &str) -> Vec<(String, String)> {
    vec![(PROJECT.into(), project.into()), (VOLUME.into(), key.into()), (VERSION.into(), version().into())]
}

/// The name a container shows in log prefixes and status lines: `SERVICE-N`, or its own name
/// when it has a `container_name` (docker compose's "name without project").
pub fn short_name(c: &Container) -> String {
    let label = |k: &str| c.kept.labels.get(k).map(String::as_str).unwrap_or_default();
    let default = format!("{}-{}-{}", label(PROJECT), label(SERVICE), label(NUMBER));
    match c.name == default {
        true => c.name[label(PROJECT).len() + 1..].to_string(),
        false => c.name.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let s = Service { name: "web".into(), ..Service::default() };
        assert_eq!(container_name("app", &s, 2), "app-web-2");
        let named = Service { container_name: Some("front".into()), ..s.clone() };
        assert_eq!(container_name("app", &named, 1), "front");
        let o = oneoff_name("app", "web");
        assert!(o.starts_with("app-web-run-") && o.len() == "app-web-run-".len() + 12, "{o}");
    }
}
