//! What containers look like from outside: the STATUS text (`Up 5 seconds`), `ps --format
//! json` rows and the fields `ps` templates see (`inspect`'s document is inspect.rs).
//! Reads records and bundles; changes nothing.

use super::{Container, Stamp, State, health};
use crate::engine::Context;

/// Podman's STATUS column: `Up 5 seconds (healthy)`, `Exited (0) 3 minutes ago`,
/// `Restarting (1) 2 seconds ago`, `Created`. `health`: the running container's health.
pub fn status(c: &Container, health: Option<health::Status>) -> String {
    let ago = |t: Option<Stamp>| t.map(Stamp::ago).unwrap_or_default();
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

/// A container's namespaces as `ps --ns` shows them: Podman's method name, its JSON key
/// (in `Namespaces`), and the name under /proc/PID/ns.
const NAMESPACE_KEYS: [(&str, &str, &str); 7] = [
    ("Cgroup", "Cgroup", "cgroup"),
    ("IPC", "Ipc", "ipc"),
    ("MNT", "Mnt", "mnt"),
    ("NET", "Net", "net"),
    ("PIDNS", "Pidns", "pid"),
    ("User", "User", "user"),
    ("UTS", "Uts", "uts"),
];

/// The namespaces of a running container's PID 1 (`ps --ns`): Podman's method names with
/// the inode numbers; empty for a container that does not run, or when not to `read` them.
pub fn namespaces(c: &Container, read: bool) -> Vec<(&'static str, &'static str, String)> {
    let pid = c.pid.filter(|_| read && c.is_running());
    let ns = |n: &str| {
        let link = pid.and_then(|pid| std::fs::read_link(format!("/proc/{pid}/ns/{n}")).ok());
        link.and_then(|l| l.to_str()?.split_once('[').map(|(_, r)| r.trim_end_matches(']').to_string()))
            .unwrap_or_default()
    };
    NAMESPACE_KEYS.iter().map(|(method, key, n)| (*method, *key, ns(n))).collect()
}

/// The health `ps` shows: that of running containers with a health check.
pub fn shown_health(ctx: &Context, c: &Container) -> Option<health::Status> {
    (c.state == State::Running).then(|| health::status(ctx, c)).flatten()
}

/// Go's zero time in Unix seconds: Podman's `StartedAt`/`ExitedAt` of what never happened.
const ZERO_UNIX: i64 = -62_135_596_800;

/// What `ps` shows of one container besides its record.
pub struct PsRow<'a> {
    pub c: &'a Container,
    pub health: Option<health::Status>,
    /// Disk use, with `--size`.
    pub size: Option<Size>,
    /// The namespaces, with `--ns`.
    pub ns: bool,
}

impl PsRow<'_> {
    /// Podman's `ListContainer`, which both `--format json` and templates start from.
    fn list_container(&self) -> serde_json::Value {
        let c = self.c;
        let ns: serde_json::Map<String, serde_json::Value> = match self.ns {
            true => namespaces(c, true)
                .into_iter()
                .filter(|(_, _, v)| !v.is_empty())
                .map(|(_, k, v)| (k.into(), v.into()))
                .collect(),
            false => serde_json::Map::new(),
        };
        serde_json::json!({
            "AutoRemove": c.kept.rm,
            "Command": c.command,
            "Created": c.created.rfc3339(),
            "CreatedAt": "",
            "CIDFile": c.kept.cidfile.clone().unwrap_or_default(),
            "Exited": c.state == State::Exited,
            "ExitedAt": c.finished_at.map_or(ZERO_UNIX, Stamp::secs),
            "ExitCode": c.exit_code.unwrap_or(0),
            "ExposedPorts": null,
            "Id": c.id,
            "Image": c.image_name,
            "ImageID": crate::util::digest_hex(&c.image_id),
            "IsInfra": false,
            "Labels": (!c.kept.labels.is_empty()).then_some(&c.kept.labels),
            "Mounts": [],
            "Names": [c.name],
            "Namespaces": ns,
            "Networks": networks_of(c),
            "Pid": c.pid.filter(|_| c.is_running()).unwrap_or(0),
            "Pod": "",
            "PodName": "",
            "Ports": (!c.kept.ports.is_empty()).then(|| c.kept.ports.iter().map(|m| serde_json::json!({
                "host_ip": m.host_ip, "container_port": m.container_port, "host_port": m.host_port,
                "range": 1, "protocol": m.proto,
            })).collect::<Vec<_>>()),
            "Restarts": c.kept.restart_count,
            "Size": self.size.map(|s| s.json()),
            "StartedAt": c.started_at.map_or(ZERO_UNIX, Stamp::secs),
            "State": c.state.as_str(),
            "Status": self.health.map_or("", |h| h.as_str()),
        })
    }

    /// A `ps --format json` row: `Created` in Unix seconds, `CreatedAt` an age, `Status`
    /// the column's text (Podman's jsonOut).
    pub fn json(&self) -> serde_json::Value {
        let mut v = self.list_container();
        v["Created"] = serde_json::json!(self.c.created.secs());
        v["CreatedAt"] = serde_json::json!(self.c.created.ago());
        v["Status"] = serde_json::json!(status(self.c, self.health));
        v
    }

    /// What a `ps` template sees: the `ListContainer` with the methods of Podman's
    /// psReporter (`{{.Names}}` is `web`, `{{.ID}}` the short ID, `{{json .}}` the struct).
    pub fn template(&self, no_trunc: bool) -> serde_json::Value {
        let c = self.c;
        let cut = |id: &str| if no_trunc { id.to_string() } else { id.chars().take(12).collect() };
        let mut command = c.command.join(" ");
        if !no_trunc && command.len() > 17 {
            command = command.chars().take(17).collect::<String>() + "...";
        }
        let mut methods = serde_json::json!({
            "ID": cut(&c.id),
            "ImageID": cut(crate::util::digest_hex(&c.image_id)),
            "Pod": "",
            "Status": status(c, self.health),
            "Restarts": c.kept.restart_count.to_string(),
            "RunningFor": c.created.ago(),
            "CreatedHuman": c.created.ago(),
            "CreatedAt": c.created.go_string(),
            "Command": command,
            "Size": self.size.map(|s| s.text()).unwrap_or_default(),
            "Names": c.name,
            "Networks": networks_of(c).join(","),
            "Ports": c.kept.ports.iter().map(|m| m.display()).collect::<Vec<_>>().join(", "),
        });
        for (method, _, v) in namespaces(c, self.ns) {
            methods[method] = v.into();
        }
        let mut v = self.list_container();
        v[crate::template::METHODS] = methods;
        v
    }
}

/// The networks `ps` names: user-defined ones, else the mode.
fn networks_of(c: &Container) -> Vec<String> {
    match c.kept.networks.is_empty() {
        true => vec![c.kept.network.to_string()],
        false => c.kept.networks.iter().map(|n| n.name.clone()).collect(),
    }
}
