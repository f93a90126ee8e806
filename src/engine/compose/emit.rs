//! `compose config` output: the resolved project (or the unresolved tree) as docker compose
//! prints it — YAML in go-yaml's style (2-space indent, sequences indented under their key,
//! double quotes for text that would read as another type) or JSON; `name` first, compose-go's
//! key order, `$` written as `$$` so the output reads back unchanged. Only formats text.

use super::goyaml;
use super::model::Project;
use serde_norway::{Mapping, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Yaml,
    Json,
}

fn to_value<T: serde::Serialize>(t: &T) -> Value {
    serde_norway::to_value(t).unwrap_or(Value::Null)
}

/// Appends a resource's `x-*` keys (YAML only: compose-go leaves them out of JSON), sorted
/// as go-yaml writes an inline Go map.
fn with_extensions(mut v: Value, ext: &Mapping, format: Format) -> Value {
    if let (Value::Mapping(m), Format::Yaml) = (&mut v, format) {
        let mut ext = Value::Mapping(ext.clone());
        sort_deep(&mut ext, Format::Yaml);
        if let Value::Mapping(ext) = ext {
            m.extend(ext);
        }
    }
    v
}

/// Orders a mapping's keys as Go prints a map: go-yaml's natural order for YAML, byte order
/// for JSON.
fn sort_keys(m: &mut Mapping, format: Format) {
    let mut entries: Vec<(Value, Value)> = std::mem::take(m).into_iter().collect();
    let key = |e: &(Value, Value)| e.0.as_str().unwrap_or_default().to_string();
    match format {
        Format::Yaml => entries.sort_by(|a, b| goyaml::natural_cmp(&key(a), &key(b))),
        Format::Json => entries.sort_by_key(key),
    }
    *m = entries.into_iter().collect();
}

/// `sort_keys` at every level (values that are Go maps throughout: extensions, the raw model).
fn sort_deep(v: &mut Value, format: Format) {
    match v {
        Value::Mapping(m) => {
            sort_keys(m, format);
            m.values_mut().for_each(|x| sort_deep(x, format));
        }
        Value::Sequence(s) => s.iter_mut().for_each(|x| sort_deep(x, format)),
        _ => {}
    }
}

/// The mapping at `path` under `m`, if there is one.
fn map_at<'a>(m: &'a mut Mapping, path: &[&str]) -> Option<&'a mut Mapping> {
    let (first, rest) = path.split_first()?;
    let Value::Mapping(inner) = m.get_mut(*first)? else { return None };
    if rest.is_empty() { Some(inner) } else { map_at(inner, rest) }
}

/// The fields of the model that are Go maps (struct fields keep their order).
const SERVICE_MAPS: &[&[&str]] = &[
    &["annotations"],
    &["depends_on"],
    &["environment"],
    &["labels"],
    &["networks"],
    &["sysctls"],
    &["ulimits"],
    &["build", "args"],
    &["build", "labels"],
    &["deploy", "labels"],
    &["logging", "options"],
];
const RESOURCE_MAPS: &[&[&str]] = &[&["driver_opts"], &["labels"]];

/// Puts the Go-map fields of a serialized service or resource in go-yaml's order.
fn order_maps(v: &mut Value, fields: &[&[&str]]) {
    let Value::Mapping(m) = v else { return };
    for path in fields {
        if let Some(inner) = map_at(m, path) {
            sort_keys(inner, Format::Yaml);
        }
    }
    if let Some(Value::Sequence(vols)) = m.get_mut("volumes") {
        for vol in vols.iter_mut().filter_map(|x| if let Value::Mapping(x) = x { Some(x) } else { None }) {
            if let Some(labels) = map_at(vol, &["volume", "labels"]) {
                sort_keys(labels, Format::Yaml);
            }
        }
    }
}

/// Inserts `key` (when missing) at its place in `order`, as a Go struct field that JSON
/// never omits.
fn insert_ordered(m: &mut Mapping, key: &str, value: Value, order: &[&str]) {
    if m.contains_key(key) {
        return;
    }
    let rank = |k: &str| order.iter().position(|o| *o == k).unwrap_or(order.len());
    let mine = rank(key);
    let mut out = Mapping::new();
    let mut placed = false;
    for (k, v) in std::mem::take(m) {
        if !placed && rank(k.as_str().unwrap_or_default()) > mine {
            out.insert(key.into(), value.clone());
            placed = true;
        }
        out.insert(k, v);
    }
    if !placed {
        out.insert(key.into(), value);
    }
    *m = out;
}

/// The project as docker compose's model tree.
fn tree(p: &Project, format: Format) -> Mapping {
    let mut top = Mapping::new();
    top.insert("name".into(), p.name.as_str().into());
    let mut services = Mapping::new();
    for (name, s) in &p.services {
        let mut v = to_value(s);
        if format == Format::Yaml {
            order_maps(&mut v, SERVICE_MAPS);
        }
        let mut v = with_extensions(v, &s.extensions, format);
        if let Value::Mapping(m) = &mut v {
            if format == Format::Yaml {
                m.retain(|k, val| !(val.is_null() && matches!(k.as_str(), Some("command" | "entrypoint"))));
            } else if let Some(Value::Mapping(d)) = m.get_mut("deploy") {
                let order = ["mode", "replicas", "labels", "resources", "restart_policy"];
                insert_ordered(d, "resources", Value::Mapping(Mapping::new()), &order);
            }
        }
        services.insert(name.as_str().into(), v);
    }
    sort_keys(&mut services, format);
    top.insert("services".into(), Value::Mapping(services));
    let mut section = |key: &str, entries: Vec<(&String, Value)>| {
        if !entries.is_empty() {
            let mut m: Mapping = entries
                .into_iter()
                .map(|(k, mut v)| {
                    if format == Format::Yaml {
                        order_maps(&mut v, RESOURCE_MAPS);
                    }
                    (Value::from(k.as_str()), v)
                })
                .collect();
            sort_keys(&mut m, format);
            top.insert(key.into(), Value::Mapping(m));
        }
    };
    section(
        "networks",
        p.networks
            .iter()
            .map(|(k, n)| {
                let mut v = with_extensions(to_value(n), &n.extensions, format);
                if let (Format::Json, Value::Mapping(m)) = (format, &mut v) {
                    let order = ["name", "driver", "driver_opts", "ipam", "external", "internal", "labels"];
                    insert_ordered(m, "ipam", Value::Mapping(Mapping::new()), &order);
                }
                (k, v)
            })
            .collect(),
    );
    section(
        "volumes",
        p.volumes.iter().map(|(k, v)| (k, with_extensions(to_value(v), &v.extensions, format))).collect(),
    );
    section(
        "secrets",
        p.secrets.iter().map(|(k, v)| (k, with_extensions(to_value(v), &v.extensions, format))).collect(),
    );
    section(
        "configs",
        p.configs.iter().map(|(k, v)| (k, with_extensions(to_value(v), &v.extensions, format))).collect(),
    );
    let mut ext = Value::Mapping(p.extensions.clone());
    sort_deep(&mut ext, format);
    if let Value::Mapping(ext) = ext {
        top.extend(ext);
    }
    top
}

/// The resolved project as text.
pub fn render(p: &Project, format: Format) -> String {
    let mut top = tree(p, format);
    let text = match format {
        Format::Yaml => goyaml::write(&Value::Mapping(top)),
        Format::Json => {
            // compose-go writes JSON's top level from a Go map.
            sort_keys(&mut top, Format::Json);
            json(&Value::Mapping(top))
        }
    };
    text.replace('$', "$$")
}

/// The unresolved tree (`--no-interpolate`), keys sorted as Go prints a map.
pub fn render_model(tree: &Mapping, format: Format) -> String {
    let mut v = Value::Mapping(tree.clone());
    sort_deep(&mut v, format);
    match format {
        Format::Yaml => goyaml::write(&v),
        Format::Json => json(&v),
    }
}

// ---- JSON as Go's json.MarshalIndent(v, "", "  ") ----

fn json(v: &Value) -> String {
    let mut out = String::new();
    json_value(&mut out, v, 0);
    out.push('\n');
    out
}

/// A JSON string as Go's encoding/json writes it (`<`, `>`, `&` and U+2028/9 escaped).
fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in serde_json::to_string(s).unwrap_or_default().chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

fn json_value(out: &mut String, v: &Value, indent: usize) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&json_string(s)),
        Value::Sequence(s) if s.is_empty() => out.push_str("[]"),
        Value::Mapping(m) if m.is_empty() => out.push_str("{}"),
        Value::Sequence(s) => {
            out.push_str("[\n");
            for (i, item) in s.iter().enumerate() {
                out.push_str(&" ".repeat(indent + 2));
                json_value(out, item, indent + 2);
                out.push_str(if i + 1 < s.len() { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(indent));
            out.push(']');
        }
        Value::Mapping(m) => {
            out.push_str("{\n");
            for (i, (k, val)) in m.iter().enumerate() {
                out.push_str(&" ".repeat(indent + 2));
                out.push_str(&json_string(k.as_str().unwrap_or_default()));
                out.push_str(": ");
                json_value(out, val, indent + 2);
                out.push_str(if i + 1 < m.len() { ",\n" } else { "\n" });
            }
            out.push_str(&" ".repeat(indent));
            out.push('}');
        }
        Value::Tagged(t) => json_value(out, &t.value, indent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_layout() {
        let v: Value = serde_norway::from_str("a: {b: [1, \"x\"], c: {}, d: null}").unwrap();
        assert_eq!(
            json(&v),
            "{\n  \"a\": {\n    \"b\": [\n      1,\n      \"x\"\n    ],\n    \"c\": {},\n    \"d\": null\n  }\n}\n"
        );
        assert_eq!(json_string("a<b>&\"c\""), r#""a\u003cb\u003e\u0026\"c\"""#);
    }
}
