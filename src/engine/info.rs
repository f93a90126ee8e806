//! Host information for `kiste info`: kernel, rootless mode and ID mappings, the overlay
//! mode, network helpers, cgroup version and delegation, store paths. Reads the system;
//! changes nothing except the overlay-mode cache the storage layer keeps.

use crate::engine::Context;
use crate::storage::overlay;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

/// Finds an executable on PATH.
pub fn which(prog: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin".into());
    std::env::split_paths(&path).map(|d| d.join(prog)).find(|p| {
        use std::os::unix::fs::PermissionsExt;
        p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupLayout {
    /// Only the unified (v2) hierarchy.
    V2,
    /// v1 controllers, possibly with an (empty) unified hierarchy beside them.
    V1 { hybrid: bool },
}

/// Decides the layout from the filesystem type of /sys/fs/cgroup and whether
/// /sys/fs/cgroup/unified exists.
pub fn cgroup_layout(root_is_cgroup2: bool, unified_exists: bool) -> CgroupLayout {
    if root_is_cgroup2 { CgroupLayout::V2 } else { CgroupLayout::V1 { hybrid: unified_exists } }
}

/// The process's cgroup v2 path from the text of /proc/self/cgroup (the `0::` line).
pub fn own_v2_cgroup(proc_self_cgroup: &str) -> Option<String> {
    proc_self_cgroup.lines().find_map(|l| l.strip_prefix("0::")).map(|p| p.to_string())
}

/// Controllers delegated to `uid` on cgroup v2: those listed in the controllers file of
/// the user's own cgroup (or its systemd user-service cgroup) when that directory is
/// owned by the user. Empty when nothing is delegated.
pub fn delegated_controllers(cgroup_dir: &Path, uid: u32) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let owned = std::fs::metadata(cgroup_dir).is_ok_and(|m| m.uid() == uid);
    if !owned && uid != 0 {
        return vec![];
    }
    std::fs::read_to_string(cgroup_dir.join("cgroup.controllers"))
        .map(|s| s.split_whitespace().map(str::to_string).collect())
        .unwrap_or_default()
}

fn is_cgroup2(p: &Path) -> bool {
    nix::sys::statfs::statfs(p).is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
}

fn cgroup_info(uid: u32) -> Value {
    let root = Path::new("/sys/fs/cgroup");
    let layout = cgroup_layout(is_cgroup2(root), root.join("unified").is_dir());
    match layout {
        CgroupLayout::V2 => {
            let own =
                std::fs::read_to_string("/proc/self/cgroup").ok().and_then(|s| own_v2_cgroup(&s)).unwrap_or_default();
            let dir = root.join(own.trim_start_matches('/'));
            let mut ctl = delegated_controllers(&dir, uid);
            if ctl.is_empty() {
                let svc = root.join(format!("user.slice/user-{uid}.slice/user@{uid}.service"));
                ctl = delegated_controllers(&svc, uid);
            }
            json!({"cgroupVersion": "v2", "cgroupManager": "cgroupfs", "cgroupControllers": ctl})
        }
        CgroupLayout::V1 { hybrid } => json!({
            "cgroupVersion": "v1",
            "cgroupHybrid": hybrid,
            "cgroupManager": "cgroupfs",
            // Rootless containers get no cgroup v1 controllers: v1 cannot be delegated safely.
            "cgroupControllers": if uid == 0 { json!(["cpu", "memory", "pids"]) } else { json!([]) },
        }),
    }
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
    if let (Value::Object(h), Value::Object(c)) = (&mut host, cgroup_info(id.uid)) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_parsing() {
        assert_eq!(cgroup_layout(true, false), CgroupLayout::V2);
        assert_eq!(cgroup_layout(false, true), CgroupLayout::V1 { hybrid: true });
        let text = "12:pids:/user.slice\n1:name=systemd:/x\n0::/user.slice/user-1000.slice/session-1.scope\n";
        assert_eq!(own_v2_cgroup(text).as_deref(), Some("/user.slice/user-1000.slice/session-1.scope"));
        assert_eq!(own_v2_cgroup("3:cpu:/\n"), None);
    }

    #[test]
    fn delegation_requires_ownership() {
        let d = std::env::temp_dir().join(format!("kiste-cg-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join("cgroup.controllers"), "cpu memory pids\n").unwrap();
        let me = nix::unistd::geteuid().as_raw();
        assert_eq!(delegated_controllers(&d, me), vec!["cpu", "memory", "pids"]);
        if me == 0 {
            // root sees everything; an unrelated uid owns nothing here
            assert!(delegated_controllers(&d, 4242).is_empty());
        }
        std::fs::remove_dir_all(&d).unwrap();
    }
}
