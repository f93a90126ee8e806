//! `--sysctl KEY=VALUE` (and containers.conf's `default_sysctls`, compose's `sysctls`): the
//! kernel settings a container may change because they belong to one of its own namespaces
//! (IPC, UTS, network), checked and parsed into the spec's `linux.sysctl`, as Podman allows
//! them. The runtime writes them; this file only decides which are allowed. Pure.

use super::ContainerError;
use crate::engine::network::NetworkMode;
use std::collections::BTreeMap;

/// IPC namespace settings allowed by name.
const IPC_KEYS: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// The namespace a setting belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scope {
    Ipc,
    Uts,
    Net,
}

fn scope(key: &str) -> Option<Scope> {
    if IPC_KEYS.contains(&key) || key.starts_with("fs.mqueue.") {
        Some(Scope::Ipc)
    } else if key == "kernel.domainname" || key == "kernel.hostname" {
        Some(Scope::Uts)
    } else if key.starts_with("net.") {
        Some(Scope::Net)
    } else {
        None
    }
}

/// Why setting `key` is refused for a container on `network`, if it is.
fn refused(key: &str, network: &NetworkMode) -> Option<String> {
    match scope(key) {
        None => Some(format!(
            "sysctl \"{key}\" is not allowed: only settings of the container's own namespaces can be set \
             (net.*, fs.mqueue.*, kernel.shm*, kernel.msg*, kernel.sem, kernel.domainname, kernel.hostname)"
        )),
        Some(Scope::Net) if *network == NetworkMode::Host => Some(format!(
            "sysctl \"{key}\" cannot be set with --network host (the host's network namespace); drop it or use another network"
        )),
        Some(Scope::Net) if matches!(network, NetworkMode::Container(_)) => Some(format!(
            "sysctl \"{key}\" cannot be set with --network container: (another container's network namespace); set it on that container"
        )),
        _ => None,
    }
}

/// Parses `KEY=VALUE`; the key as the kernel names it (dots; slashes read as dots).
fn parse_one(s: &str) -> Result<(String, String), ContainerError> {
    let bad = || ContainerError::Invalid(format!("invalid sysctl \"{s}\": use KEY=VALUE, e.g. net.ipv4.ip_forward=1"));
    let (k, v) = s.split_once('=').ok_or_else(bad)?;
    let k = k.replace('/', ".");
    // Each part a plain name: no empty part, so no "." or ".." in the /proc/sys path.
    if k.split('.').any(|p| p.is_empty() || p.contains(char::is_whitespace)) {
        return Err(bad());
    }
    Ok((k, v.to_string()))
}

/// The settings of a container on `network`: the configured defaults (those not allowed
/// there left out, as Podman does), then what was given (refused when not allowed).
pub fn resolve(
    defaults: &[String],
    given: &[String],
    network: &NetworkMode,
) -> Result<BTreeMap<String, String>, ContainerError> {
    let mut out = BTreeMap::new();
    for d in defaults {
        let (k, v) = parse_one(d)?;
        if refused(&k, network).is_none() {
            out.insert(k, v);
        }
    }
    for g in given {
        let (k, v) = parse_one(g)?;
        if let Some(why) = refused(&k, network) {
            return Err(ContainerError::Invalid(why));
        }
        out.insert(k, v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn namespaced_settings_are_taken_and_others_refused() {
        let got = resolve(
            &s(&["net.ipv4.ping_group_range=0 0"]),
            &s(&["net/core/somaxconn=1024", "kernel.shmmax=65536", "fs.mqueue.msg_max=20"]),
            &NetworkMode::None,
        )
        .unwrap();
        assert_eq!(got["net.ipv4.ping_group_range"], "0 0");
        assert_eq!(got["net.core.somaxconn"], "1024");
        assert_eq!(got.len(), 4);
        for bad in ["vm.swappiness=1", "kernel.pid_max=100", "kernel.shm=1"] {
            let e = resolve(&[], &s(&[bad]), &NetworkMode::None).unwrap_err().to_string();
            assert!(e.contains("is not allowed"), "{bad}: {e}");
        }
        for bad in ["noequals", "=1", " net.x=1", "net..x=1", "net/../../x=1", "net.=1"] {
            let e = resolve(&[], &s(&[bad]), &NetworkMode::None).unwrap_err().to_string();
            assert!(e.contains("use KEY=VALUE"), "{bad}: {e}");
        }
    }

    #[test]
    fn network_settings_need_the_containers_own_network() {
        let host = NetworkMode::Host;
        let got = resolve(&s(&["net.ipv4.ping_group_range=0 0"]), &s(&["kernel.sem=1 2 3 4"]), &host).unwrap();
        assert_eq!(got.keys().collect::<Vec<_>>(), ["kernel.sem"]);
        let e = resolve(&[], &s(&["net.core.somaxconn=1"]), &host).unwrap_err().to_string();
        assert!(e.contains("--network host"), "{e}");
        // Another container's namespace is not this one's to change (defaults left out too).
        let shared = NetworkMode::Container("abc".into());
        let got = resolve(&s(&["net.ipv4.ping_group_range=0 0"]), &[], &shared).unwrap();
        assert!(got.is_empty(), "{got:?}");
        let e = resolve(&[], &s(&["net.core.somaxconn=1"]), &shared).unwrap_err().to_string();
        assert!(e.contains("--network container:"), "{e}");
    }
}
