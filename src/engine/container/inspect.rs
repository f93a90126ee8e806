//! `inspect` of a container: Podman's document (State, Config, HostConfig, NetworkSettings,
//! GraphDriver, Mounts...) from the record, its kept options and its bundle's config.json.
//! Reads only; knows nothing of the terminal or of templates.

use super::{Container, State, health, networks};
use crate::engine::Context;
use crate::state::stamp::rfc3339;
use oci_spec::runtime::{LinuxNamespaceType, Spec};

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
    let prefix = first.map(|g| g.prefix).unwrap_or(0);
    serde_json::json!({
        "EndpointID": "",
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPPrefixLen": prefix,
        "MacAddress": "",
        "Bridge": "",
        "SandboxID": "",
        "HairpinMode": false,
        "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
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
    let ud = dir.join("userdata");
    let caps = caps(process.as_ref());
    let image_digest = ctx
        .db()
        .ok()
        .and_then(|conn| crate::engine::image::store::resolve(&conn, &c.image_id).ok())
        .map(|r| r.manifest_digest)
        .unwrap_or_default();
    serde_json::json!({
        "Id": c.id,
        "Created": rfc3339(Some(c.created)),
        "Path": c.command.first(),
        "Args": c.command.iter().skip(1).collect::<Vec<_>>(),
        "State": state_json(ctx, c, spec.as_ref()),
        "Image": crate::util::digest_hex(&c.image_id),
        "ImageDigest": image_digest,
        "ImageName": c.image_name,
        "Rootfs": "",
        "Pod": "",
        "ResolvConfPath": ud.join("resolv.conf"),
        "HostnamePath": ud.join("hostname"),
        "HostsPath": ud.join("hosts"),
        "StaticDir": dir,
        "OCIConfigPath": dir.join("config.json"),
        "OCIRuntime": "kiste",
        "ConmonPidFile": "",
        "PidFile": "",
        "Name": c.name,
        "RestartCount": c.kept.restart_count,
        "Driver": ctx.paths.driver.as_str(),
        "MountLabel": "",
        "ProcessLabel": "",
        "AppArmorProfile": "",
        "EffectiveCaps": caps,
        "BoundingCaps": caps,
        "ExecIDs": [],
        "LogPath": c.log_path(ctx),
        "Config": config_json(c, spec.as_ref(), &ann),
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
        "Dependencies": c.kept.requires,
        "NetworkSettings": network_settings(ctx, c),
        "Namespace": "",
        "IsInfra": false,
        "IsService": false,
        "HostConfig": host_config(ctx, c, spec.as_ref(), &ann),
    })
}

/// `inspect`'s Config.
fn config_json(
    c: &Container,
    spec: Option<&Spec>,
    ann: &std::collections::HashMap<String, String>,
) -> serde_json::Value {
    let process = spec.and_then(|s| s.process().as_ref());
    let user = process.map(|p| format!("{}:{}", p.user().uid(), p.user().gid())).unwrap_or_default();
    serde_json::json!({
        "Hostname": spec.and_then(|s| s.hostname().clone()).unwrap_or_default(),
        "Domainname": spec.and_then(|s| s.domainname().clone()).unwrap_or_default(),
        "User": user,
        "Env": process.and_then(|p| p.env().clone()).unwrap_or_default(),
        "Cmd": c.command,
        "Image": c.image_name,
        "WorkingDir": process.map(|p| p.cwd().display().to_string()).unwrap_or_default(),
        "Labels": c.kept.labels,
        "StopSignal": super::lifecycle::signal_name(c.kept.stop_signal),
        "StopTimeout": c.kept.stop_timeout,
        "Timeout": c.kept.timeout.unwrap_or(0),
        "Tty": c.kept.tty,
        "OpenStdin": c.kept.interactive,
        "Entrypoint": Vec::<String>::new(),
        "Timezone": c.kept.tz.clone().unwrap_or_default(),
        "Umask": format!("{:04o}", process.and_then(|p| p.user().umask()).unwrap_or(0o022)),
        "Volumes": null,
        "SdNotifyMode": c.kept.sdnotify.clone().unwrap_or_else(|| "container".into()),
        "Healthcheck": c.kept.health.as_ref().map(|h| h.inspect_json()),
        "HealthcheckOnFailureAction": c.kept.health.as_ref().map_or("none", |h| h.on_failure.name()),
        "Annotations": ann
            .iter()
            .filter(|(k, _)| !k.starts_with("io.kiste.overlay."))
            .collect::<std::collections::BTreeMap<_, _>>(),
    })
}

/// Docker's default capabilities: Podman's `CapAdd`/`CapDrop` are the container's bounding
/// set against them.
const DOCKER_CAPS: [&str; 14] = [
    "CAP_AUDIT_WRITE",
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_MKNOD",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_RAW",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
];

/// The process's bounding capabilities, sorted (`CAP_CHOWN`, ...).
fn caps(process: Option<&oci_spec::runtime::Process>) -> Vec<String> {
    let set = process.and_then(|p| p.capabilities().as_ref()).and_then(|c| c.bounding().clone()).unwrap_or_default();
    let mut v: Vec<String> = set.iter().map(|c| format!("CAP_{c}")).collect();
    v.sort();
    v
}

/// `inspect`'s HostConfig: the kept options, namespaces and limits as Podman names them.
fn host_config(
    ctx: &Context,
    c: &Container,
    spec: Option<&Spec>,
    ann: &std::collections::HashMap<String, String>,
) -> serde_json::Value {
    let process = spec.and_then(|s| s.process().as_ref());
    let linux = spec.and_then(|s| s.linux().as_ref());
    let h = &c.kept.host;
    let bounding = caps(process);
    let cap_add: Vec<&String> = bounding.iter().filter(|c| !DOCKER_CAPS.contains(&c.as_str())).collect();
    let cap_drop: Vec<&str> = DOCKER_CAPS.iter().copied().filter(|d| !bounding.iter().any(|c| c == d)).collect();
    let mut v = serde_json::json!({
        "Binds": c.kept.mounts.iter().filter_map(|m| m.bind_text()).collect::<Vec<_>>(),
        "CgroupManager": "cgroupfs",
        "CgroupMode": if has_ns(linux, LinuxNamespaceType::Cgroup) { "private" } else { "host" },
        "ContainerIDFile": c.kept.cidfile.clone().unwrap_or_default(),
        "LogConfig": log_config(ctx, c),
        "NetworkMode": c.kept.network.to_string(),
        "PortBindings": port_bindings(c),
        "RestartPolicy": {
            "Name": c.kept.restart.name(),
            "MaximumRetryCount": c.kept.restart.max_retries(),
        },
        "AutoRemove": c.kept.rm,
        "VolumesFrom": (!h.volumes_from.is_empty()).then_some(&h.volumes_from),
        "CapAdd": cap_add,
        "CapDrop": cap_drop,
        "Dns": h.dns,
        "DnsOptions": h.dns_options,
        "DnsSearch": h.dns_search,
        "ExtraHosts": h.extra_hosts,
        "GroupAdd": h.group_add,
        "IpcMode": if has_ns(linux, LinuxNamespaceType::Ipc) { "shareable" } else { "host" },
        "Cgroups": h.cgroups.clone().unwrap_or_else(|| "default".into()),
        "OomScoreAdj": process.and_then(|p| p.oom_score_adj()).unwrap_or(0),
        "PidMode": if has_ns(linux, LinuxNamespaceType::Pid) { "private" } else { "host" },
        "Privileged": h.privileged,
        "PublishAllPorts": h.publish_all,
        "ReadonlyRootfs": spec.and_then(|s| s.root().as_ref().and_then(|r| r.readonly())).unwrap_or(false),
        "SecurityOpt": h.security_opt,
        "Tmpfs": tmpfs(c),
        "UTSMode": if has_ns(linux, LinuxNamespaceType::Uts) { "private" } else { "host" },
        "UsernsMode": h.userns.clone().unwrap_or_default(),
        "ShmSize": shm_size(spec),
        "CgroupParent": h.cgroup_parent.clone().unwrap_or_default(),
        "Ulimits": ulimits(process),
        "Init": ann.get(crate::runtime::ANN_INIT).is_some_and(|v| v == "1"),
    });
    for more in [resources(linux), unused_host_fields()] {
        if let (Some(o), serde_json::Value::Object(r)) = (v.as_object_mut(), more) {
            o.extend(r);
        }
    }
    v
}

/// HostConfig keys of settings kiste does not have (Podman's values for them unset).
fn unused_host_fields() -> serde_json::Value {
    serde_json::json!({
        "VolumeDriver": "",
        "Cgroup": "",
        "Links": null,
        "Runtime": "oci",
        "ConsoleSize": [0, 0],
        "Isolation": "",
        "Devices": [],
        "DiskQuota": 0,
        "CpuCount": 0,
        "CpuPercent": 0,
        "IOMaximumIOps": 0,
        "IOMaximumBandwidth": 0,
        "CgroupConf": null,
    })
}

fn has_ns(linux: Option<&oci_spec::runtime::Linux>, t: LinuxNamespaceType) -> bool {
    linux.and_then(|l| l.namespaces().as_ref()).is_some_and(|ns| ns.iter().any(|n| n.typ() == t))
}

/// `--tmpfs` and tmpfs mounts: destination -> options.
fn tmpfs(c: &Container) -> serde_json::Value {
    let m: serde_json::Map<String, serde_json::Value> = c
        .kept
        .mounts
        .iter()
        .filter(|m| m.kind == super::mounts::MountType::Tmpfs)
        .map(|m| (m.destination.clone(), serde_json::json!(m.options.join(","))))
        .collect();
    serde_json::Value::Object(m)
}

/// The size of /dev/shm in bytes (its mount's `size=`), Podman's default when unset.
fn shm_size(spec: Option<&Spec>) -> u64 {
    let shm = spec.and_then(|s| s.mounts().as_ref()).and_then(|ms| {
        ms.iter().find(|m| m.destination() == std::path::Path::new("/dev/shm")).and_then(|m| m.options().clone())
    });
    shm.iter().flatten().find_map(|o| o.strip_prefix("size=").and_then(super::spec::parse_size)).unwrap_or(65_536_000)
}

/// The limits in the spec, with Podman's HostConfig keys (0 / empty when not limited).
fn resources(linux: Option<&oci_spec::runtime::Linux>) -> serde_json::Value {
    let r = linux.and_then(|l| l.resources().as_ref());
    let mem = r.and_then(|r| r.memory().as_ref());
    let cpu = r.and_then(|r| r.cpu().as_ref());
    let quota = cpu.and_then(|c| c.quota()).unwrap_or(0);
    let period = cpu.and_then(|c| c.period()).unwrap_or(0);
    serde_json::json!({
        "Memory": mem.and_then(|m| m.limit()).unwrap_or(0),
        "MemoryReservation": mem.and_then(|m| m.reservation()).unwrap_or(0),
        "MemorySwap": mem.and_then(|m| m.swap()).unwrap_or(0),
        "MemorySwappiness": mem.and_then(|m| m.swappiness()).unwrap_or(0),
        "KernelMemory": 0,
        "OomKillDisable": mem.and_then(|m| m.disable_oom_killer()).unwrap_or(false),
        "CpuShares": cpu.and_then(|c| c.shares()).unwrap_or(0),
        "CpuPeriod": period,
        "CpuQuota": quota,
        "CpuRealtimePeriod": cpu.and_then(|c| c.realtime_period()).unwrap_or(0),
        "CpuRealtimeRuntime": cpu.and_then(|c| c.realtime_runtime()).unwrap_or(0),
        "CpusetCpus": cpu.and_then(|c| c.cpus().clone()).unwrap_or_default(),
        "CpusetMems": cpu.and_then(|c| c.mems().clone()).unwrap_or_default(),
        "NanoCpus": if quota > 0 && period > 0 { (quota as u128 * 1_000_000_000 / period as u128) as u64 } else { 0 },
        "PidsLimit": r.and_then(|r| r.pids().as_ref()).map(|p| p.limit()).unwrap_or(0),
        "BlkioWeight": r.and_then(|r| r.block_io().as_ref()).and_then(|b| b.weight()).unwrap_or(0),
        "BlkioWeightDevice": null,
        "BlkioDeviceReadBps": null,
        "BlkioDeviceWriteBps": null,
        "BlkioDeviceReadIOps": null,
        "BlkioDeviceWriteIOps": null,
    })
}

/// `inspect`'s State, with `Health` (Podman's keys) when the container has a health check.
fn state_json(ctx: &Context, c: &Container, spec: Option<&Spec>) -> serde_json::Value {
    let mut v = serde_json::json!({
        "OciVersion": spec.map(|s| s.version().clone()).unwrap_or_default(),
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
        "CgroupPath": c.kept.cgroup.clone().unwrap_or_default(),
        "CheckpointedAt": rfc3339(None),
        "RestoredAt": rfc3339(None),
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
