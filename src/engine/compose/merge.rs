//! Merging one compose tree over another (override files, `extends`, `include` conflicts) with
//! the Compose Specification's rules: mappings merge, sequences append, scalars are replaced,
//! with compose-go's exceptions by key path; then duplicates in keyed lists are removed (the
//! later entry wins in the earlier one's place). `!reset` removes, `!override` replaces.

use super::mounts;
use serde_norway::{Mapping, Value};

/// A key path split into segments (`services`, `web`, `ports`).
type Path<'a> = [&'a str];

/// `pattern` with `*` for any one segment.
fn matches(path: &Path, pattern: &str) -> bool {
    let pat: Vec<&str> = pattern.split('.').collect();
    pat.len() == path.len() && pat.iter().zip(path).all(|(p, s)| *p == "*" || p == s)
}

fn matches_any(path: &Path, patterns: &[&str]) -> bool {
    patterns.iter().any(|p| matches(path, p))
}

const REPLACED: &[&str] = &["services.*.command", "services.*.entrypoint", "services.*.healthcheck.test"];

const TO_SEQUENCE: &[&str] = &[
    "services.*.annotations",
    "services.*.build.args",
    "services.*.build.labels",
    "services.*.deploy.labels",
    "services.*.dns",
    "services.*.dns_opt",
    "services.*.dns_search",
    "services.*.env_file",
    "services.*.environment",
    "services.*.labels",
    "services.*.sysctls",
    "services.*.tmpfs",
    "networks.*.labels",
    "volumes.*.labels",
];

const TO_MAPPING: &[&str] = &["services.*.networks", "services.*.depends_on"];

/// Merges `over` onto `base` at `path` (segments of the key path).
pub fn merge(base: Value, over: Value, path: &Path) -> Result<Value, String> {
    if let Value::Tagged(t) = &over
        && t.tag == "override"
    {
        return Ok(t.value.clone());
    }
    if super::yaml::is_reset(&over) {
        return Ok(over);
    }
    if over.is_null() && !matches_any(path, TO_MAPPING) {
        return Ok(base);
    }
    if matches_any(path, REPLACED) {
        return Ok(over);
    }
    if matches_any(path, TO_SEQUENCE) {
        let mut seq = to_sequence(base);
        seq.extend(to_sequence(over));
        return Ok(Value::Sequence(seq));
    }
    if matches(path, "services.*.extra_hosts") {
        let mut seq = to_sequence(base);
        for e in to_sequence(over) {
            if !seq.contains(&e) {
                seq.push(e);
            }
        }
        return Ok(Value::Sequence(seq));
    }
    if matches(path, "services.*.build") {
        return merge_mappings(build_mapping(base), build_mapping(over), path).map(Value::Mapping);
    }
    if matches_any(path, TO_MAPPING) {
        let dependency = matches(path, "services.*.depends_on");
        return merge_mappings(to_mapping(base, dependency), to_mapping(over, dependency), path).map(Value::Mapping);
    }
    if matches(path, "services.*.logging") {
        return merge_logging(base, over, path);
    }
    if matches(path, "services.*.ulimits.*") {
        return Ok(over);
    }
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => merge_mappings(b, o, path).map(Value::Mapping),
        (Value::Sequence(mut b), Value::Sequence(o)) => {
            b.extend(o);
            Ok(Value::Sequence(b))
        }
        (Value::Mapping(_) | Value::Sequence(_), other) | (_, other @ (Value::Mapping(_) | Value::Sequence(_))) => {
            Err(format!(
                "cannot override {} with {}: use the same form in both files",
                path.join("."),
                super::yaml::kind(&other)
            ))
        }
        (_, o) => Ok(o),
    }
}

fn merge_mappings(mut base: Mapping, over: Mapping, path: &Path) -> Result<Mapping, String> {
    for (k, v) in over {
        let key = k.as_str().unwrap_or_default().to_string();
        match base.remove(&k) {
            None => {
                base.insert(k, v);
            }
            Some(old) => {
                let mut p: Vec<&str> = path.to_vec();
                p.push(&key);
                let merged = merge(old, v, &p)?;
                base.insert(k, merged);
            }
        }
    }
    Ok(base)
}

fn merge_logging(base: Value, over: Value, path: &Path) -> Result<Value, String> {
    match (base, over) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            let (bd, od) = (b.get("driver").cloned(), o.get("driver").cloned());
            if bd.is_none() || od.is_none() || bd == od {
                merge_mappings(b, o, path).map(Value::Mapping)
            } else {
                Ok(Value::Mapping(o))
            }
        }
        (_, o) => Ok(o),
    }
}

/// Text of a scalar as Go's `%v` prints it.
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Null => String::new(),
        other => serde_norway::to_string(other).unwrap_or_default().trim_end().to_string(),
    }
}

/// A mapping becomes sorted `K=V` entries (`K` alone for null); a string one entry.
fn to_sequence(v: Value) -> Vec<Value> {
    match v {
        Value::Mapping(m) => {
            let mut seq: Vec<String> = vec![];
            for (k, val) in m {
                let k = text(&k);
                match val {
                    Value::Null => seq.push(k),
                    Value::Sequence(list) => seq.extend(list.iter().map(|e| format!("{k}={}", text(e)))),
                    other => seq.push(format!("{k}={}", text(&other))),
                }
            }
            seq.sort();
            seq.into_iter().map(Value::String).collect()
        }
        Value::Sequence(s) => s,
        Value::Null => vec![],
        other => vec![other],
    }
}

/// A list of names becomes a mapping (depends_on entries get their defaults).
fn to_mapping(v: Value, dependency: bool) -> Mapping {
    match v {
        Value::Mapping(m) => m,
        Value::Sequence(s) => s
            .into_iter()
            .map(|name| {
                let entry = if dependency {
                    let mut d = Mapping::new();
                    d.insert("condition".into(), "service_started".into());
                    d.insert("required".into(), true.into());
                    Value::Mapping(d)
                } else {
                    Value::Null
                };
                (Value::String(text(&name)), entry)
            })
            .collect(),
        _ => Mapping::new(),
    }
}

fn build_mapping(v: Value) -> Mapping {
    match v {
        Value::String(s) => [(Value::from("context"), Value::String(s))].into_iter().collect(),
        Value::Mapping(m) => m,
        _ => Mapping::new(),
    }
}

/// What makes two entries of a keyed list "the same" (the later replaces the earlier).
fn unique_key(path: &Path, entry: &Value) -> Option<String> {
    const KEY_VALUE: &[&str] = &[
        "services.*.annotations",
        "services.*.build.args",
        "services.*.build.labels",
        "services.*.build.tags",
        "services.*.cap_add",
        "services.*.cap_drop",
        "services.*.deploy.labels",
        "services.*.dns",
        "services.*.dns_opt",
        "services.*.dns_search",
        "services.*.environment",
        "services.*.labels",
        "services.*.networks.*.aliases",
        "services.*.profiles",
        "services.*.sysctls",
        "services.*.tmpfs",
        "networks.*.labels",
    ];
    if matches_any(path, KEY_VALUE) {
        let t = text(entry);
        return Some(t.split('=').next().unwrap_or_default().to_string());
    }
    let field = |k: &str| entry.get(k).map(text);
    if matches(path, "services.*.volumes") {
        return match entry {
            Value::String(s) => mounts::split_short(s).ok().map(|(_, t, _)| mounts::clean_target(t)),
            _ => field("target").map(|t| mounts::clean_target(&t)),
        };
    }
    if matches(path, "services.*.ports") {
        return Some(match entry {
            Value::Mapping(_) => format!(
                "{}:{}:{}/{}",
                field("host_ip").unwrap_or_else(|| "0.0.0.0".into()),
                field("published").unwrap_or_default(),
                field("target").unwrap_or_default(),
                field("protocol").unwrap_or_else(|| "tcp".into())
            ),
            other => text(other),
        });
    }
    if matches(path, "services.*.expose") {
        return Some(text(entry));
    }
    if matches(path, "services.*.env_file") {
        return Some(match entry {
            Value::Mapping(_) => field("path").unwrap_or_default(),
            other => text(other),
        });
    }
    for (pattern, prefix) in [("services.*.secrets", "/run/secrets/"), ("services.*.configs", "/")] {
        if matches(path, pattern) {
            return Some(match entry {
                Value::Mapping(_) => {
                    field("target").unwrap_or_else(|| format!("{prefix}{}", field("source").unwrap_or_default()))
                }
                other => format!("{prefix}{}", text(other)),
            });
        }
    }
    None
}

/// Removes redefined entries of keyed lists everywhere in `v` (the later entry takes the
/// earlier one's place).
pub fn enforce_unicity(v: &mut Value, path: &mut Vec<String>) {
    match v {
        Value::Mapping(m) => {
            for (k, val) in m.iter_mut() {
                path.push(k.as_str().unwrap_or_default().to_string());
                enforce_unicity(val, path);
                path.pop();
            }
        }
        Value::Sequence(seq) => {
            let p: Vec<&str> = path.iter().map(String::as_str).collect();
            if unique_key(&p, &Value::Null).is_none() && !is_keyed(&p) {
                return;
            }
            let mut out: Vec<Value> = vec![];
            let mut keys: Vec<Option<String>> = vec![];
            for entry in std::mem::take(seq) {
                let key = unique_key(&p, &entry);
                match key.as_ref().and_then(|k| keys.iter().position(|e| e.as_ref() == Some(k))) {
                    Some(i) => out[i] = entry,
                    None => {
                        keys.push(key);
                        out.push(entry);
                    }
                }
            }
            *seq = out;
        }
        _ => {}
    }
}

fn is_keyed(p: &Path) -> bool {
    matches_any(
        p,
        &[
            "services.*.volumes",
            "services.*.ports",
            "services.*.expose",
            "services.*.env_file",
            "services.*.secrets",
            "services.*.configs",
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn y(s: &str) -> Value {
        serde_norway::from_str(s).unwrap()
    }

    fn merged(base: &str, over: &str) -> Value {
        let mut v = merge(y(base), y(over), &[]).unwrap();
        enforce_unicity(&mut v, &mut vec![]);
        super::super::yaml::strip_tags(&mut v);
        v
    }

    #[test]
    fn scalars_replace_mappings_merge_lists_append() {
        let v = merged(
            "services: {web: {image: a, cap_add: [A], deploy: {replicas: 1, labels: {x: 1}}}}",
            "services: {web: {image: b, cap_add: [B, A], deploy: {replicas: 2}}, db: {image: d}}",
        );
        assert_eq!(
            v,
            y("services: {web: {image: b, cap_add: [A, B], deploy: {replicas: 2, labels: {x: 1}}}, db: {image: d}}")
        );
    }

    #[test]
    fn commands_are_replaced() {
        let v = merged("services: {w: {command: [a, b], entrypoint: x}}", "services: {w: {command: [c]}}");
        assert_eq!(v["services"]["w"]["command"], y("[c]"));
    }

    #[test]
    fn environment_and_labels_merge_by_key() {
        let v = merged(
            "services: {w: {environment: {A: 1, B: 2}, labels: [x=1]}}",
            "services: {w: {environment: [B=3, C], labels: {x: 2, y: 3}}}",
        );
        assert_eq!(v["services"]["w"]["environment"], y("[A=1, B=3, C]"));
        assert_eq!(v["services"]["w"]["labels"], y("[x=2, y=3]"));
    }

    #[test]
    fn ports_volumes_by_key() {
        let v = merged(
            "services: {w: {ports: [\"80:80\", {target: 81, published: 81}], volumes: [\"a:/data\", \"/x\"]}}",
            "services: {w: {ports: [\"80:80\", \"90:90\"], volumes: [{type: volume, source: b, target: /data/}]}}",
        );
        assert_eq!(v["services"]["w"]["ports"], y("[\"80:80\", {target: 81, published: 81}, \"90:90\"]"));
        assert_eq!(v["services"]["w"]["volumes"], y("[{type: volume, source: b, target: /data/}, /x]"));
    }

    #[test]
    fn depends_on_and_networks_lists_become_maps() {
        let v = merged(
            "services: {w: {depends_on: [db], networks: [front], build: ./app}}",
            "services: {w: {depends_on: {db: {condition: service_healthy}, q: {condition: service_started}}, networks: {back: {aliases: [b]}}, build: {target: prod}}}",
        );
        let w = &v["services"]["w"];
        assert_eq!(w["depends_on"]["db"], y("{condition: service_healthy, required: true}"));
        assert_eq!(w["networks"], y("{front: null, back: {aliases: [b]}}"));
        assert_eq!(w["build"], y("{context: ./app, target: prod}"));
    }

    #[test]
    fn reset_and_override_tags() {
        let v = merged(
            "services: {w: {ports: [\"80\"], environment: {A: 1}, labels: {a: 1}}}",
            "services: {w: {ports: !reset [], environment: !override {B: 2}}}",
        );
        let w = &v["services"]["w"];
        assert!(w.get("ports").is_none());
        assert_eq!(w["environment"], y("{B: 2}"));
        assert_eq!(w["labels"], y("{a: 1}"));
    }

    #[test]
    fn form_mismatch_is_an_error() {
        let e = merge(y("services: {w: {ports: [\"80\"]}}"), y("services: {w: {ports: \"80\"}}"), &[]).unwrap_err();
        assert!(e.starts_with("cannot override services.w.ports with a string"), "{e}");
    }

    #[test]
    fn logging_same_driver_merges_other_driver_replaces() {
        let v = merged(
            "services: {w: {logging: {driver: a, options: {x: 1}}}}",
            "services: {w: {logging: {driver: a, options: {y: 2}}}}",
        );
        assert_eq!(v["services"]["w"]["logging"]["options"], y("{x: 1, y: 2}"));
        let v =
            merged("services: {w: {logging: {driver: a, options: {x: 1}}}}", "services: {w: {logging: {driver: b}}}");
        assert_eq!(v["services"]["w"]["logging"], y("{driver: b}"));
    }
}
