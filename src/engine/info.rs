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
        which.retain(|c| *c != Controller::Cpuacct);
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
        "distribution": first_line("/etc/os-release").trim_start_matches("PRETTY_NAME=").trim_matches('"'),
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
        "ociRuntime": {"name": "kiste", "path": std::env::current_exe().ok(), "version": env!("CARGO_PKG_VERSION")},
        "bootId": first_line("/proc/sys/kernel/random/boot_id"),
    });
    if let (Value::Object(h), Value::Object(c)) = (&mut host, cgroup_info(ctx)) {
        h.extend(c);
    }
    json!({
        "host": host,
        "store": {
            "graphRoot": ctx.paths.storage(),
            "runRoot": ctx.paths.runtime,
            "configFile": ctx.paths.config.join("kiste.conf"),
            "graphDriverName": "overlay",
            "graphStatus": {"mode": mode.to_string()},
            "databasePath": ctx.paths.db_path(),
            "runtimeDirFallback": ctx.paths.runtime_fallback,
        },
        "version": {"Version": env!("CARGO_PKG_VERSION"), "OsArch": format!("linux/{}", crate::engine::image::platform::go_arch(std::env::consts::ARCH))},
    })
}
