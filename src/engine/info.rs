//! Host information for `kiste info`: kernel, rootless mode and ID mappings, the overlay
//! mode, network helpers, cgroup version and delegation, store paths. Reads the system;
//! changes nothing except the overlay-mode cache the storage layer keeps.

use crate::engine::Context;
use crate::storage::overlay;
use serde_json::{Value, json};
use std::path::PathBuf;

/// Finds an executable on PATH.
pub fn which(prog: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin".into());
    std::env::split_paths(&path).map(|d| d.join(prog)).find(|p| {
        use std::os::unix::fs::PermissionsExt;
        p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// cgroup version, manager, and per controller whether the user's containers may use it
/// (and why not, with how to delegate it), as `run` would decide.
fn cgroup_info(ctx: &Context) -> Value {
    use crate::engine::container::limits;
    use crate::runtime::cgroup::{self, Controller, Version};
    let host = cgroup::detect();
    let conf = limits::cgroup_conf(&ctx.paths);
    let conf_error = conf.as_ref().err().map(|e| e.to_string());
    let conf = conf.unwrap_or_default();
    let mode = conf.cgroups.unwrap_or_default();
    let mut which: Vec<Controller> = Controller::ALL.to_vec();
    if host.version == Version::V2 {
        which.retain(|c| !matches!(c, Controller::Cpuacct | Controller::Freezer));
    }
    let a = limits::assess(&host, &conf, &ctx.idmap, mode, conf.cgroup_parent.as_deref(), &which);
    let usable: Vec<&str> =
        a.controllers.iter().filter(|(_, r)| r.is_ok()).map(|(c, _)| c.name(host.version)).collect();
    let unavailable: serde_json::Map<String, Value> = a
        .controllers
        .iter()
        .filter_map(|(c, r)| r.as_ref().err().map(|why| (c.name(host.version).to_string(), json!(why))))
        .collect();
    let mut v = json!({
        "cgroupVersion": if host.version == Version::V2 { "v2" } else { "v1" },
        "cgroupManager": a.manager.name(),
        "cgroupParent": a.parent,
        "cgroupsMode": format!("{mode:?}").to_lowercase(),
        "cgroupControllers": usable,
        "cgroupControllersUnavailable": unavailable,
    });
    if a.version == Version::V1 {
        v["cgroupHybrid"] = json!(a.hybrid);
    }
    if let Some(e) = conf_error {
        v["cgroupConfigError"] = json!(e);
    }
    v
}

fn program(name: &str, package: &str) -> Value {
    match which(name) {
        Some(p) => {
            let version = std::process::Command::new(&p)
                .arg("--version")
                .output()
                .ok()
                .map(|o| String::from_utf8_lossy(&o.stdout).lines().next().unwrap_or("").trim().to_string())
                .unwrap_or_default();
            json!({"executable": p, "package": package, "version": version})
        }
        None => {
            json!({"executable": null, "package": package, "missing": format!("install the \"{package}\" package")})
        }
    }
}

fn first_line(path: &str) -> String {
    std::fs::read_to_string(path).map(|s| s.lines().next().unwrap_or("").trim().to_string()).unwrap_or_default()
}

/// Everything `kiste info` shows, with Podman's key names where there is one.
pub fn gather(ctx: &Context) -> Value {
    let uname = nix::sys::utsname::uname().ok();
    let (kernel, arch, hostname) = match &uname {
        Some(u) => (
            u.release().to_string_lossy().into_owned(),
            u.machine().to_string_lossy().into_owned(),
            u.nodename().to_string_lossy().into_owned(),
        ),
        None => Default::default(),
    };
    let id = &ctx.idmap;
    let map = |own: u32, sub: &Option<crate::storage::idmap::IdRange>| {
        let mut v = vec![json!({"container_id": 0, "host_id": own, "size": 1})];
        if let Some(r) = sub {
            v.push(json!({"container_id": 1, "host_id": r.start, "size": r.count}));
        }
        v
    };
    let mode = overlay::detect(&ctx.paths.storage(), id);
    let mut host = json!({
        "arch": crate::engine::image::platform::go_arch(&arch),
        "kernel": kernel,
        "hostname": hostname,
        "os": "linux",
        "distribution": distribution(),
        "rootless": !id.is_rootful(),
        "security": {"rootless": !id.is_rootful()},
        "idMappings": {"uidmap": map(id.uid, &id.subuid), "gidmap": map(id.gid, &id.subgid)},
        "newuidmap": program("newuidmap", "uidmap"),
        "newgidmap": program("newgidmap", "uidmap"),
        "pasta": program("pasta", "passt"),
        "slirp4netns": program("slirp4netns", "slirp4netns"),
        "fuseOverlayfs": program("fuse-overlayfs", "fuse-overlayfs"),
        // What `run` uses without --network (the same decision), "none" when no helper is installed.
        "networkBackend": crate::engine::network::resolve_mode(&ctx.paths, None).unwrap_or_default().to_string(),
        "ociRuntime": {"name": "kiste", "package": "kiste", "path": std::env::current_exe().ok(), "version": env!("CARGO_PKG_VERSION")},
        "bootId": first_line("/proc/sys/kernel/random/boot_id"),
    });
    if let Value::Object(h) = &mut host {
        h.extend(host_facts(ctx));
    }
    if let (Value::Object(h), Value::Object(c)) = (&mut host, cgroup_info(ctx)) {
        h.extend(c);
    }
    let (containers, images) = counts(ctx);
    let driver = ctx.paths.driver;
    json!({
        "host": host,
        "store": {
            "graphRoot": ctx.paths.data,
            "runRoot": ctx.paths.runtime,
            "configFile": ctx.paths.storage_conf.clone().or_else(|| ctx.paths.user_containers_config.as_ref().map(|d| d.join("storage.conf"))),
            "graphDriverName": driver.as_str(),
            "graphOptions": {},
            "graphStatus": match driver {
                crate::state::paths::StorageDriver::Overlay => json!({"mode": mode.to_string()}),
                crate::state::paths::StorageDriver::Vfs => json!({}),
            },
            "containerStore": containers,
            "imageStore": {"number": images},
            "imageCopyTmpDir": ctx.paths.tmpdir,
            "volumePath": ctx.paths.data.join("volumes"),
            "transientStore": false,
            "databasePath": ctx.paths.db_path(),
            "kisteConfigDir": ctx.paths.config,
            "runtimeDirFallback": ctx.paths.runtime_fallback,
        },
        "registries": {"search": crate::engine::image::registries::RegistriesConf::load(&ctx.paths.home).map(|r| r.search_registries()).unwrap_or_default()},
        "plugins": {"log": ["k8s-file", "none", "passthrough"], "network": ["bridge"], "volume": ["local"]},
        "version": {
            "APIVersion": env!("CARGO_PKG_VERSION"),
            "Version": env!("CARGO_PKG_VERSION"),
            "GoVersion": option_env!("KISTE_RUSTC_VERSION").unwrap_or("rustc"),
            "OsArch": format!("linux/{}", crate::engine::image::platform::go_arch(std::env::consts::ARCH)),
            "Os": "linux",
        },
    })
}

/// Podman's `host.distribution`: the os-release ID, VERSION_ID and VERSION_CODENAME.
fn distribution() -> Value {
    let text = std::fs::read_to_string("/etc/os-release").unwrap_or_default();
    let get = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix('='))
            .map(|v| v.trim_matches('"').to_string())
            .unwrap_or_default()
    };
    json!({"distribution": get("ID"), "version": get("VERSION_ID"), "codename": get("VERSION_CODENAME")})
}

/// Podman's store.containerStore counts and the number of images.
fn counts(ctx: &Context) -> (Value, usize) {
    let Ok(conn) = ctx.db() else { return (json!({}), 0) };
    let list = crate::engine::container::list(&conn).unwrap_or_default();
    let running = list.iter().filter(|c| c.is_running()).count();
    let paused = list.iter().filter(|c| c.state == crate::engine::container::State::Paused).count();
    let images = crate::engine::image::store::list(&conn).map(|l| l.len()).unwrap_or(0);
    (
        json!({"number": list.len(), "paused": paused, "running": running - paused, "stopped": list.len() - running}),
        images,
    )
}

/// The rest of Podman's `host` keys: CPUs, memory, uptime, the configured loggers, security.
fn host_facts(ctx: &Context) -> serde_json::Map<String, Value> {
    use crate::state::containers_conf::ContainersConf;
    let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    let mem = |k: &str| -> u64 {
        meminfo
            .lines()
            .find_map(|l| l.strip_prefix(k)?.strip_prefix(':'))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024)
    };
    let up =
        first_line("/proc/uptime").split_whitespace().next().and_then(|s| s.parse::<f64>().ok()).unwrap_or(0.0) as u64;
    let conf = ContainersConf::load(ctx.paths.user_containers_config.as_deref()).ok();
    let events = conf.and_then(|c| c.engine.events_logger).map_or("file", |e| e.as_str());
    let log = conf.and_then(|c| c.containers.log_driver).map_or("k8s-file", |d| d.as_str());
    let caps = conf
        .and_then(|c| c.containers.default_capabilities.clone())
        .map(|c| c.iter().map(|c| format!("CAP_{}", c.trim_start_matches("CAP_"))).collect::<Vec<_>>().join(","));
    let net = crate::engine::network::resolve_mode(&ctx.paths, None).unwrap_or_default().to_string();
    let facts = json!({
        "cpus": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        "memTotal": mem("MemTotal"),
        "memFree": mem("MemAvailable"),
        "swapTotal": mem("SwapTotal"),
        "swapFree": mem("SwapFree"),
        "uptime": format!("{}h {}m {}s", up / 3600, up / 60 % 60, up % 60),
        "eventLogger": events,
        "logDriver": log,
        "databaseBackend": "sqlite",
        "rootlessNetworkCmd": net,
        "serviceIsRemote": false,
        "remoteSocket": {"exists": false, "path": ""},
        "variant": "",
        "security": {
            "rootless": ctx.paths.rootless,
            "capabilities": caps.unwrap_or_else(|| "CAP_CHOWN,CAP_DAC_OVERRIDE,CAP_FOWNER,CAP_FSETID,CAP_KILL,CAP_NET_BIND_SERVICE,CAP_SETFCAP,CAP_SETGID,CAP_SETPCAP,CAP_SETUID,CAP_SYS_CHROOT".into()),
            "seccompEnabled": true,
            "seccompProfilePath": "",
            "selinuxEnabled": false,
            "apparmorEnabled": false,
        },
    });
    match facts {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}
