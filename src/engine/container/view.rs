//! What containers look like from outside: the STATUS text (`Up 5 seconds`), `ps --format
//! json` rows and the fields `ps` templates see, and `inspect`'s document with Podman's keys.
//! Reads records and bundles; changes nothing.

use super::{Container, State, health, networks};
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

fn rfc3339(t: Option<i64>) -> String {
    t.and_then(|t| chrono::DateTime::from_timestamp(t, 0))
        .map(|d| d.to_rfc3339())
        .unwrap_or_else(|| "0001-01-01T00:00:00Z".into())
}

/// `inspect`'s NetworkSettings: published ports by container port, the address and gateway.
fn network_settings(ctx: &Context, c: &Container) -> serde_json::Value {
    let text = |a: Option<std::net::Ipv4Addr>| a.map(|a| a.to_string()).unwrap_or_default();
    // User-defined networks: what the last start assigned, while the container runs.
    let assigned = if c.is_running() { networks::assigned(ctx, c) } else { Vec::new() };
    let mut nets = serde_json::Map::new();
    for a in &c.kept.networks {
        let got = assigned.iter().find(|x| x.name == a.name);
        nets.insert(
            a.name.clone(),
            serde_json::json!({
                "NetworkID": got.map(|g| g.id.clone()).unwrap_or_default(),
                "IPAddress": text(got.map(|g| g.ip)),
                "Gateway": text(got.map(|g| g.gateway)),
                "IPPrefixLen": got.map(|g| g.prefix).unwrap_or(0),
                "Aliases": a.aliases,
            }),
        );
    }
    let first = assigned.first();
    serde_json::json!({
        "Networks": nets,
        "Ports": port_bindings(c),
        "IPAddress": text(c.kept.ip.or(first.map(|g| g.ip))),
        "Gateway": text(c.kept.gateway.or(first.map(|g| g.gateway))),
        "SandboxKey": match (c.pid, c.kept.network.has_helper()) {
            (Some(pid), true) => format!("/proc/{pid}/ns/net"),
            _ => String::new(),
        },
    })
}

/// `HostConfig.Ulimits` as Podman's: `[{Name: RLIMIT_NOFILE, Soft, Hard}]`.
fn ulimits(process: Option<&oci_spec::runtime::Process>) -> serde_json::Value {
    let list = process.and_then(|p| p.rlimits().clone()).unwrap_or_default();
    serde_json::Value::Array(
        list.iter()
            .map(|r| serde_json::json!({"Name": r.typ().to_string(), "Soft": r.soft(), "Hard": r.hard()}))
            .collect(),
    )
}

/// `HostConfig.LogConfig`: the driver, its path, tag and size limit.
fn log_config(ctx: &Context, c: &Container) -> serde_json::Value {
    let l = &c.kept.log;
    serde_json::json!({
        "Type": l.driver.as_str(),
        "Config": null,
        "Path": if l.driver.keeps_log() { c.log_path(ctx).display().to_string() } else { String::new() },
        "Tag": l.tag.clone().unwrap_or_default(),
        "Size": l.max_size.map(crate::util::human_size_compact).unwrap_or_else(|| "0B".into()),
    })
}

/// `HostConfig.PortBindings` (and `NetworkSettings.Ports`): host ports by container port.
fn port_bindings(c: &Container) -> serde_json::Value {
    let mut m = serde_json::Map::new();
    for p in &c.kept.ports {
        let e = m.entry(format!("{}/{}", p.container_port, p.proto)).or_insert_with(|| serde_json::json!([]));
        if let Some(a) = e.as_array_mut() {
            a.push(serde_json::json!({"HostIp": p.host_ip, "HostPort": p.host_port.to_string()}));
        }
    }
    serde_json::Value::Object(m)
}

/// `inspect` output for a container, with Podman's key names.
pub fn inspect_json(ctx: &Context, c: &Container) -> serde_json::Value {
    let dir = c.dir(ctx);
    let spec = oci_spec::runtime::Spec::load(dir.join("config.json")).ok();
    let process = spec.as_ref().and_then(|s| s.process().clone());
    let ann = spec.as_ref().and_then(|s| s.annotations().clone()).unwrap_or_default();
    let env = process.as_ref().and_then(|p| p.env().clone()).unwrap_or_default();
    let user = process.as_ref().map(|p| format!("{}:{}", p.user().uid(), p.user().gid())).unwrap_or_default();
    let cwd = process.as_ref().map(|p| p.cwd().display().to_string()).unwrap_or_default();
    let ud = dir.join("userdata");
    serde_json::json!({
        "Id": c.id,
        "Created": rfc3339(Some(c.created)),
        "Path": c.command.first(),
        "Args": c.command.iter().skip(1).collect::<Vec<_>>(),
        "State": state_json(ctx, c),
        "Image": crate::util::digest_hex(&c.image_id),
        "ImageName": c.image_name,
        "Rootfs": "",
        "ResolvConfPath": ud.join("resolv.conf"),
        "HostnamePath": ud.join("hostname"),
        "HostsPath": ud.join("hosts"),
        "Name": c.name,
        "RestartCount": c.kept.restart_count,
        "Driver": ctx.paths.driver.as_str(),
        "OCIRuntime": "kiste",
        "LogPath": c.log_path(ctx),
        "Config": {
            "Hostname": spec.as_ref().and_then(|s| s.hostname().clone()).unwrap_or_default(),
            "User": user,
            "Env": env,
            "Cmd": c.command,
            "Image": c.image_name,
            "WorkingDir": cwd,
            "Labels": c.kept.labels,
            "StopSignal": super::lifecycle::signal_name(c.kept.stop_signal),
            "StopTimeout": c.kept.stop_timeout,
            "Timeout": c.kept.timeout.unwrap_or(0),
            "Tty": c.kept.tty,
            "OpenStdin": c.kept.interactive,
            "Entrypoint": Vec::<String>::new(),
            "Timezone": c.kept.tz.clone().unwrap_or_default(),
            "Umask": "0022",
            "Domainname": "",
            "Volumes": null,
            "SdNotifyMode": c.kept.sdnotify.clone().unwrap_or_else(|| "container".into()),
            "Healthcheck": c.kept.health.as_ref().map(|h| h.inspect_json()),
            "HealthcheckOnFailureAction": c.kept.health.as_ref().map_or("none", |h| h.on_failure.name()),
            "Annotations": ann
                .iter()
                .filter(|(k, _)| !k.starts_with("io.kiste.overlay."))
                .collect::<std::collections::BTreeMap<_, _>>(),
        },
        "GraphDriver": {
            "Name": ctx.paths.driver.as_str(),
            "Data": {
                "LowerDir": ann.get(crate::runtime::ANN_LOWER).cloned().unwrap_or_default(),
                "UpperDir": dir.join("diff"),
                "WorkDir": dir.join("work"),
                "MergedDir": dir.join("merged"),
            }
        },
        "Mounts": c.kept.mounts.iter().filter_map(|m| m.inspect_json()).collect::<Vec<_>>(),
        "NetworkSettings": network_settings(ctx, c),
        "HostConfig": {
            "AutoRemove": c.kept.rm,
            "NetworkMode": c.kept.network.to_string(),
            "Init": ann.get(crate::runtime::ANN_INIT).is_some_and(|v| v == "1"),
            "Ulimits": ulimits(process.as_ref()),
            "LogConfig": log_config(ctx, c),
            "ReadonlyRootfs": spec.as_ref().and_then(|s| s.root().as_ref().and_then(|r| r.readonly())).unwrap_or(false),
            "PortBindings": port_bindings(c),
            "Links": null,
            "Privileged": false,
            "Binds": c.kept.mounts.iter().filter_map(|m| m.bind_text()).collect::<Vec<_>>(),
            "RestartPolicy": {
                "Name": c.kept.restart.name(),
                "MaximumRetryCount": c.kept.restart.max_retries(),
            },
        },
    })
}

/// `inspect`'s State, with `Health` (Podman's keys) when the container has a health check.
fn state_json(ctx: &Context, c: &Container) -> serde_json::Value {
    let mut v = serde_json::json!({
        "Status": c.state.as_str(),
        "Running": matches!(c.state, State::Running | State::Restarting),
        "Paused": c.state == State::Paused,
        "Restarting": c.state == State::Restarting,
        "OOMKilled": c.kept.oom_killed,
        "Dead": false,
        "Pid": c.pid.unwrap_or(0),
        "ConmonPid": c.monitor_pid.unwrap_or(0),
        "ExitCode": c.exit_code.unwrap_or(0),
        "Error": "",
        "StartedAt": rfc3339(c.started_at),
        "FinishedAt": rfc3339(c.finished_at),
    });
    if c.kept.health.is_some()
        && let Some(m) = v.as_object_mut()
    {
        let st = match health::read_state(&c.run_dir(ctx)) {
            Some(st) => serde_json::to_value(st).unwrap_or_default(),
            // Never run yet: Podman's empty results.
            None => serde_json::json!({"Status": if c.state == State::Running { "starting" } else { "" },
                "FailingStreak": 0, "Log": null}),
        };
        m.insert("Health".into(), st);
    }
    v
}
