//! Typing compose trees with errors in compose's terms: the key path (`services.web.ports[1]`),
//! unknown keys (with a spelling suggestion) told apart from Compose Specification keys kiste
//! does not support, wrong types with what was expected. Also the per-file check that names
//! the file a bad value came from, before files are merged.

use super::model::{Network, Resource, Service, Volume};
use super::{ComposeError, yaml};
use serde::de::DeserializeOwned;
use serde_norway::{Mapping, Value};

const TOP_LEVEL: [&str; 8] = ["version", "name", "services", "networks", "volumes", "secrets", "configs", "include"];

/// Specification keys kiste refuses, by where they appear (indexes dropped from the path).
const UNSUPPORTED: &[(&str, &[&str])] = &[
    ("", &["models"]),
    (
        "services.*",
        &[
            "attach",
            "blkio_config",
            "cgroup",
            "cgroup_parent",
            "cpu_count",
            "cpu_percent",
            "cpu_period",
            "cpu_quota",
            "cpu_rt_period",
            "cpu_rt_runtime",
            "credential_spec",
            "develop",
            "device_cgroup_rules",
            "devices",
            "external_links",
            "gpus",
            "group_add",
            "ipc",
            "isolation",
            "label_file",
            "links",
            "mac_address",
            "mem_swappiness",
            "models",
            "oom_kill_disable",
            "oom_score_adj",
            "pid",
            "post_start",
            "pre_start",
            "pre_stop",
            "provider",
            "pull_refresh_after",
            "runtime",
            "storage_opt",
            "use_api_socket",
            "userns_mode",
            "uts",
            "volume_driver",
        ],
    ),
    (
        "services.*.build",
        &[
            "additional_contexts",
            "cache_from",
            "cache_to",
            "entitlements",
            "extra_hosts",
            "isolation",
            "no_cache_filter",
            "platforms",
            "privileged",
            "provenance",
            "sbom",
            "shm_size",
            "ulimits",
        ],
    ),
    ("services.*.deploy", &["endpoint_mode", "placement", "rollback_config", "update_config"]),
    ("services.*.deploy.resources.*", &["devices", "generic_resources"]),
    (
        "services.*.networks.*",
        &["interface_name", "ipv6_address", "link_local_ips", "mac_address", "driver_opts", "priority", "gw_priority"],
    ),
    ("networks.*", &["attachable", "enable_ipv4", "enable_ipv6"]),
    ("networks.*.ipam", &["options"]),
    ("networks.*.ipam.config", &["ip_range", "aux_addresses"]),
    ("secrets.*", &["driver", "driver_opts", "template_driver"]),
    ("configs.*", &["template_driver"]),
];

fn matches(segs: &[&str], pattern: &str) -> bool {
    let pat: Vec<&str> = if pattern.is_empty() { vec![] } else { pattern.split('.').collect() };
    pat.len() == segs.len() && pat.iter().zip(segs).all(|(p, s)| *p == "*" || p == s)
}

/// The note for a specification key kiste refuses at `path` (its last segment).
fn unsupported(path: &str) -> Option<String> {
    let no_index: String = path
        .split('[')
        .enumerate()
        .map(|(i, s)| if i == 0 { s } else { s.split_once(']').map_or("", |x| x.1) })
        .collect();
    let segs: Vec<&str> = no_index.split('.').collect();
    let (key, parent) = segs.split_last()?;
    if matches(parent, "services.*.build") && *key == "ssh" {
        return Some("SSH forwarding in builds is not supported by kiste; remove ssh and pass what the build needs as a build secret".into());
    }
    UNSUPPORTED
        .iter()
        .any(|(p, keys)| matches(parent, p) && keys.contains(key))
        .then(|| format!("\"{key}\" is not supported by kiste; remove it"))
}

fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push((prev[j] + usize::from(ca != *cb)).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev.last().copied().unwrap_or(0)
}

/// `unknown key "X": ...` with the nearest known key when one is close.
pub fn unknown_key(key: &str, known: &[&str]) -> String {
    let best = known.iter().map(|k| (distance(key, k), *k)).min().filter(|(d, k)| *d <= 2.max(k.len() / 3));
    match best {
        Some((_, k)) => format!("unknown key \"{key}\": did you mean \"{k}\"? (fix the spelling or remove it)"),
        None => format!("unknown key \"{key}\": remove it or fix its spelling"),
    }
}

/// serde's message made compose's: unknown/unsupported keys, missing keys, wrong types.
fn message(inner: &str, path: &str) -> String {
    if let Some(rest) = inner.strip_prefix("unknown field `") {
        if let Some(note) = unsupported(path) {
            return note;
        }
        let (key, expected) = rest.split_once('`').unwrap_or((rest, ""));
        let known: Vec<&str> = expected.split('`').skip(1).step_by(2).collect();
        return unknown_key(key, &known);
    }
    if let Some(rest) = inner.strip_prefix("missing field `") {
        let key = rest.split('`').next().unwrap_or_default();
        return format!("missing required key \"{key}\": add it");
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = inner.strip_prefix(prefix)
            && let Some((got, expected)) = rest.split_once(", expected ")
        {
            return format!("expected {}, got {got}", plain_expected(expected));
        }
    }
    inner.to_string()
}

/// serde's names for shapes in compose's words.
fn plain_expected(e: &str) -> String {
    if e.starts_with("struct ") || e == "a map" {
        return "a mapping".into();
    }
    e.replace("a sequence", "a list")
        .replace("u16", "a port number")
        .replace("u32", "a number")
        .replace("u64", "a number")
}

fn join(prefix: &str, rest: &str) -> String {
    match (prefix.is_empty(), rest) {
        (_, "." | "") => prefix.to_string(),
        (true, r) => r.to_string(),
        (false, r) if r.starts_with('[') => format!("{prefix}{r}"),
        (false, r) => format!("{prefix}.{r}"),
    }
}

/// Deserializes `v` (found at `prefix` in `file`) into `T`.
pub fn typed<T: DeserializeOwned>(v: Value, file: &str, prefix: &str) -> Result<T, ComposeError> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = join(prefix, &e.path().to_string());
        let msg = message(&e.inner().to_string(), &path);
        ComposeError::invalid(file, &path, msg)
    })
}

/// Removes and returns the `x-*` keys of a mapping.
pub fn split_extensions(m: &mut Mapping) -> Mapping {
    let keys: Vec<Value> = m.keys().filter(|k| k.as_str().is_some_and(|s| s.starts_with("x-"))).cloned().collect();
    keys.into_iter().filter_map(|k| m.remove(&k).map(|v| (k, v))).collect()
}

/// The entries of a top-level section, which must be a mapping (null is empty).
pub fn section(v: Option<&Value>, file: &str, name: &str) -> Result<Mapping, ComposeError> {
    match v {
        None | Some(Value::Null) => Ok(Mapping::new()),
        Some(Value::Mapping(m)) => Ok(m.clone()),
        Some(other) => {
            Err(ComposeError::invalid(file, name, format!("expected a mapping of names, got {}", yaml::kind(other))))
        }
    }
}

/// One definition (a mapping, or null for defaults) minus its `x-*` keys, and those keys.
pub fn definition(v: Value, file: &str, path: &str) -> Result<(Value, Mapping), ComposeError> {
    match v {
        Value::Null => Ok((Value::Mapping(Mapping::new()), Mapping::new())),
        Value::Mapping(mut m) => {
            let ext = split_extensions(&mut m);
            Ok((Value::Mapping(m), ext))
        }
        other => Err(ComposeError::invalid(file, path, format!("expected a mapping, got {}", yaml::kind(&other)))),
    }
}

/// The top-level keys of one file.
fn top_level(tree: &Mapping, file: &str, warnings: &mut Vec<String>) -> Result<(), ComposeError> {
    for k in tree.keys() {
        let key = k.as_str().unwrap_or_default();
        if key == "version" {
            warnings.push(format!("{file}: the attribute `version` is obsolete, it will be ignored, please remove it to avoid potential confusion"));
        } else if !TOP_LEVEL.contains(&key) && !key.starts_with("x-") {
            let msg = unsupported(key).unwrap_or_else(|| unknown_key(key, &TOP_LEVEL));
            return Err(ComposeError::invalid(file, key, msg));
        }
    }
    Ok(())
}

/// Checks one interpolated file's keys and value types, naming the file in errors.
pub fn file(tree: &Value, file: &str, warnings: &mut Vec<String>) -> Result<(), ComposeError> {
    let mut tree = tree.clone();
    yaml::strip_tags(&mut tree);
    let Value::Mapping(tree) = tree else { return Ok(()) };
    top_level(&tree, file, warnings)?;
    for (name, def) in section(tree.get("services"), file, "services")? {
        let path = format!("services.{}", name.as_str().unwrap_or_default());
        let (mut def, _) = definition(def, file, &path)?;
        if let Value::Mapping(m) = &mut def {
            m.remove("extends");
        }
        typed::<Service>(def, file, &path)?;
    }
    check_section::<Network>(&tree, file, "networks")?;
    check_section::<Volume>(&tree, file, "volumes")?;
    check_section::<Resource>(&tree, file, "secrets")?;
    check_section::<Resource>(&tree, file, "configs")
}

fn check_section<T: DeserializeOwned>(tree: &Mapping, file: &str, name: &str) -> Result<(), ComposeError> {
    for (key, def) in section(tree.get(name), file, name)? {
        let path = format!("{name}.{}", key.as_str().unwrap_or_default());
        let (def, _) = definition(def, file, &path)?;
        typed::<T>(def, file, &path)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<Vec<String>, String> {
        let v: Value = serde_norway::from_str(text).unwrap();
        let mut w = vec![];
        file(&v, "compose.yaml", &mut w).map(|_| w).map_err(|e| e.to_string())
    }

    #[test]
    fn messages() {
        let cases = [
            (
                "servces: {}",
                "compose.yaml: servces: unknown key \"servces\": did you mean \"services\"? (fix the spelling or remove it)",
            ),
            (
                "services: {web: {image: a, portz: []}}",
                "compose.yaml: services.web.portz: unknown key \"portz\": did you mean \"ports\"? (fix the spelling or remove it)",
            ),
            (
                "services: {web: {image: a, devices: []}}",
                "compose.yaml: services.web.devices: \"devices\" is not supported by kiste; remove it",
            ),
            (
                "services: {web: {build: {context: ., ssh: [default]}}}",
                "compose.yaml: services.web.build.ssh: SSH forwarding in builds is not supported by kiste; remove ssh and pass what the build needs as a build secret",
            ),
            ("services: {web: {image: 5}}", "compose.yaml: services.web.image: expected a string, got integer `5`"),
            (
                "services: {web: {image: a, ports: [\"80\", 99999]}}",
                "compose.yaml: services.web.ports[1]: invalid port \"99999\": ports are numbers 1-65535, e.g. \"8080:80\" or \"127.0.0.1:8080:80/udp\"",
            ),
            (
                "services: {web: {image: a, ports: [{published: 80}]}}",
                "compose.yaml: services.web.ports[0]: missing required key \"target\": add it",
            ),
            (
                "services: {web: {image: a, privileged: maybe}}",
                "compose.yaml: services.web.privileged: invalid boolean \"maybe\": use true or false",
            ),
            ("services: [web]", "compose.yaml: services: expected a mapping of names, got a list"),
            (
                "services: {web: {image: a, cap_add: 5}}",
                "compose.yaml: services.web.cap_add: expected a list, got integer `5`",
            ),
            (
                "services: {web: {image: a, healthcheck: 5}}",
                "compose.yaml: services.web.healthcheck: expected a mapping, got integer `5`",
            ),
            (
                "networks: {n: {ipam: {config: [{subnet: 10.0.0.0/24, ip_range: x}]}}}",
                "compose.yaml: networks.n.ipam.config[0].ip_range: \"ip_range\" is not supported by kiste; remove it",
            ),
            ("services: {web: {image: a, x-custom: 1, extends: b}}\nx-top: 1", ""),
        ];
        for (text, want) in cases {
            match check(text) {
                Ok(_) => assert_eq!(want, "", "{text}"),
                Err(e) => assert_eq!(e, want, "{text}"),
            }
        }
    }

    #[test]
    fn version_warns() {
        let w = check("version: '3.8'\nservices: {}").unwrap();
        assert!(w[0].contains("`version` is obsolete"), "{w:?}");
    }
}
