//! What containers look like from outside: the STATUS text (`Up 5 seconds`), `ps --format
//! json` rows and the fields `ps` templates see (`inspect`'s document is inspect.rs).
//! Reads records and bundles; changes nothing.

use super::{Container, State, health};
use crate::engine::Context;

/// Podman's STATUS column: `Up 5 seconds (healthy)`, `Exited (0) 3 minutes ago`,
/// `Restarting (1) 2 seconds ago`, `Created`. `health`: the running container's health.
pub fn status(c: &Container, health: Option<health::Status>) -> String {
    let ago = |t: Option<i64>| {
        t.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map(crate::util::human_age).unwrap_or_default()
    };
    match (c.state, health) {
        (State::Running, Some(h)) => format!("Up {} ({})", ago(c.started_at).trim_end_matches(" ago"), h.as_str()),
        (State::Running, None) => format!("Up {}", ago(c.started_at).trim_end_matches(" ago")),
        (State::Restarting, _) => format!("Restarting ({}) {}", c.exit_code.unwrap_or(0), ago(c.finished_at)),
        (State::Exited, _) => format!("Exited ({}) {}", c.exit_code.unwrap_or(0), ago(c.finished_at)),
        (State::Created, _) => "Created".into(),
        (State::Paused, _) => "Paused".into(),
    }
}

/// A container's disk use as `ps --size` and `inspect --size` show it.
#[derive(Debug, Clone, Copy, Default)]
pub struct Size {
    /// Its writable layer (vfs: its whole root).
    pub rw: u64,
    /// Its image and the writable layer.
    pub root_fs: u64,
}

impl Size {
    /// Podman's text: `12B (virtual 5.37MB)`.
    pub fn text(&self) -> String {
        use crate::util::human_size_compact as h;
        format!("{} (virtual {})", h(self.rw), h(self.root_fs))
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({"rwSize": self.rw, "rootFsSize": self.root_fs})
    }
}

/// The sizes of `list` (measured in the user namespace where the files need it).
pub fn sizes(ctx: &Context, list: &[&Container]) -> Result<Vec<Size>, super::ContainerError> {
    let conn = ctx.db()?;
    let vfs = ctx.paths.driver == crate::state::paths::StorageDriver::Vfs;
    let uppers: Vec<std::path::PathBuf> =
        list.iter().map(|c| c.dir(ctx).join(if vfs { "rootfs" } else { "diff" })).collect();
    let rw = crate::storage::usage::tree_sizes(&ctx.idmap, &uppers)?;
    Ok(list
        .iter()
        .zip(rw)
        .map(|(c, rw)| {
            let image = crate::engine::image::store::resolve(&conn, &c.image_id).map(|r| r.size.max(0) as u64);
            Size { rw, root_fs: rw + if vfs { 0 } else { image.unwrap_or(0) } }
        })
        .collect())
}

const NAMESPACE_KEYS: [(&str, &str); 7] = [
    ("Cgroup", "cgroup"),
    ("IPC", "ipc"),
    ("MNT", "mnt"),
    ("NET", "net"),
    ("PIDNS", "pid"),
    ("User", "user"),
    ("UTS", "uts"),
];

/// Podman's namespace fields, all empty (a container that does not run, or `ps` without --ns).
pub fn namespaces_unknown() -> serde_json::Value {
    serde_json::Value::Object(NAMESPACE_KEYS.iter().map(|(k, _)| (k.to_string(), serde_json::json!(""))).collect())
}

/// The namespaces of a running container's PID 1 (`ps --ns`): inode numbers by Podman's keys.
pub fn namespaces(c: &Container) -> serde_json::Value {
    let Some(pid) = c.pid.filter(|_| c.is_running()) else { return namespaces_unknown() };
    let ns = |n: &str| {
        std::fs::read_link(format!("/proc/{pid}/ns/{n}"))
            .ok()
            .and_then(|l| l.to_str()?.split_once('[').map(|(_, r)| r.trim_end_matches(']').to_string()))
            .unwrap_or_default()
    };
    serde_json::Value::Object(NAMESPACE_KEYS.iter().map(|(k, n)| (k.to_string(), serde_json::json!(ns(n)))).collect())
}

/// The health `ps` shows: that of running containers with a health check.
pub fn shown_health(ctx: &Context, c: &Container) -> Option<health::Status> {
    (c.state == State::Running).then(|| health::status(ctx, c)).flatten()
}

/// A `ps --format json` row.
pub fn ps_json(c: &Container, health: Option<health::Status>) -> serde_json::Value {
    serde_json::json!({
        "AutoRemove": c.kept.rm,
        "CIDFile": c.kept.cidfile.clone().unwrap_or_default(),
        "IsInfra": false,
        "Mounts": [],
        "Namespaces": {},
        "Networks": networks_of(c),
        "Pod": "",
        "PodName": "",
        "Size": null,
        "CreatedAt": chrono::DateTime::from_timestamp(c.created, 0).unwrap_or_default().format("%Y-%m-%d %H:%M:%S %z %Z").to_string(),
        "Id": c.id,
        "Names": [c.name],
        "Image": c.image_name,
        "ImageID": crate::util::digest_hex(&c.image_id),
        "Command": c.command,
        "Created": c.created,
        "State": c.state.as_str(),
        "Status": status(c, health),
        "Pid": c.pid.unwrap_or(0),
        "ExitCode": c.exit_code.unwrap_or(0),
        "Exited": c.state == State::Exited,
        "StartedAt": c.started_at.unwrap_or(0),
        "ExitedAt": c.finished_at.unwrap_or(0),
        "Restarts": c.kept.restart_count,
        "Labels": c.kept.labels,
        "Ports": c.kept.ports.iter().map(|m| serde_json::json!({
            "host_ip": m.host_ip, "container_port": m.container_port, "host_port": m.host_port,
            "range": 1, "protocol": m.proto,
        })).collect::<Vec<_>>(),
    })
}

/// What a `ps --format` template sees: the JSON keys, with the table's text where Podman's
/// and Docker's templates give text (`{{.Names}}` is `web`, not `[web]`).
pub fn ps_template(c: &Container, id: String, health: Option<health::Status>) -> serde_json::Value {
    let mut v = ps_json(c, health);
    let created = chrono::DateTime::from_timestamp(c.created, 0).unwrap_or_default();
    let networks = networks_of(c);
    let text = serde_json::json!({
        "ID": id,
        "Names": c.name,
        "Command": c.command.join(" "),
        "CreatedAt": created.format("%Y-%m-%d %H:%M:%S %z %Z").to_string(),
        "CreatedHuman": crate::util::human_age(created),
        "RunningFor": crate::util::human_age(created),
        "Ports": c.kept.ports.iter().map(|m| m.display()).collect::<Vec<_>>().join(", "),
        "Networks": networks.join(","),
        "Restarts": c.kept.restart_count.to_string(),
    });
    if let (Some(v), serde_json::Value::Object(t)) = (v.as_object_mut(), text) {
        v.extend(t);
    }
    v
}

/// The networks `ps` names: user-defined ones, else the mode.
fn networks_of(c: &Container) -> Vec<String> {
    match c.kept.networks.is_empty() {
        true => vec![c.kept.network.to_string()],
        false => c.kept.networks.iter().map(|n| n.name.clone()).collect(),
    }
}
