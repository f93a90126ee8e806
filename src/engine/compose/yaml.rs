//! YAML text -> the trees the loader works on: every document of a file, aliases expanded,
//! merge keys (`<<`, also inside merged mappings) applied, mapping keys made strings (compose
//! turns `1:` into `"1"`), and only compose's own tags (`!reset`, `!override`) allowed.
//! Knows nothing of compose keys.

use super::ComposeError;
use serde::Deserialize;
use serde_norway::{Mapping, Value};

/// Parses all documents of `text` (null documents skipped); each must be a mapping.
pub fn parse(text: &str, file: &str) -> Result<Vec<Mapping>, ComposeError> {
    let syntax = |e: serde_norway::Error| ComposeError::Syntax { file: file.to_string(), message: e.to_string() };
    let mut docs = vec![];
    for doc in serde_norway::Deserializer::from_str(text) {
        let mut v = Value::deserialize(doc).map_err(syntax)?;
        if v.is_null() {
            continue;
        }
        apply_merges(&mut v).map_err(|m| ComposeError::invalid(file, "", m))?;
        let v = string_keys(v, "").map_err(|(p, m)| ComposeError::invalid(file, &p, m))?;
        check_tags(&v, "").map_err(|(p, m)| ComposeError::invalid(file, &p, m))?;
        match v {
            Value::Mapping(m) => docs.push(m),
            _ => return Err(ComposeError::invalid(file, "", "the top level must be a mapping, e.g. services: ...")),
        }
    }
    Ok(docs)
}

/// Applies `<<` merge keys everywhere: a key of the mapping wins over merged keys, earlier
/// merge sources win over later ones.
pub fn apply_merges(v: &mut Value) -> Result<(), String> {
    match v {
        Value::Mapping(m) => {
            if let Some(mut merge) = m.remove("<<") {
                apply_merges(&mut merge)?;
                let sources = match merge {
                    Value::Mapping(src) => vec![src],
                    Value::Sequence(list) => list
                        .into_iter()
                        .map(|s| match s {
                            Value::Mapping(src) => Ok(src),
                            _ => {
                                Err("a merge key (<<) list may hold only mappings (aliases such as *base)".to_string())
                            }
                        })
                        .collect::<Result<_, _>>()?,
                    _ => return Err("a merge key (<<) takes a mapping or a list of mappings, e.g. <<: *base".into()),
                };
                for src in sources {
                    for (k, val) in src {
                        m.entry(k).or_insert(val);
                    }
                }
            }
            for (_, val) in m.iter_mut() {
                apply_merges(val)?;
            }
        }
        Value::Sequence(s) => {
            for val in s {
                apply_merges(val)?;
            }
        }
        Value::Tagged(t) => apply_merges(&mut t.value)?,
        _ => {}
    }
    Ok(())
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

/// Makes every mapping key a string (numbers and booleans as their text).
fn string_keys(v: Value, path: &str) -> Result<Value, (String, String)> {
    Ok(match v {
        Value::Mapping(m) => {
            let mut out = Mapping::new();
            for (k, val) in m {
                let key = match k {
                    Value::String(s) => s,
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    other => {
                        return Err((path.to_string(), format!("a key must be a string, not {}", kind(&other))));
                    }
                };
                let child = string_keys(val, &join(path, &key))?;
                out.insert(Value::String(key), child);
            }
            Value::Mapping(out)
        }
        Value::Sequence(s) => Value::Sequence(
            s.into_iter()
                .enumerate()
                .map(|(i, e)| string_keys(e, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()?,
        ),
        Value::Tagged(mut t) => {
            t.value = string_keys(t.value, path)?;
            Value::Tagged(t)
        }
        other => other,
    })
}

/// Refuses tags other than compose's `!reset` and `!override`.
fn check_tags(v: &Value, path: &str) -> Result<(), (String, String)> {
    match v {
        Value::Tagged(t) => {
            if !(t.tag == "reset" || t.tag == "override") {
                return Err((path.to_string(), format!("unknown tag {}: compose knows !reset and !override", t.tag)));
            }
            check_tags(&t.value, path)
        }
        Value::Mapping(m) => {
            for (k, val) in m {
                check_tags(val, &join(path, k.as_str().unwrap_or_default()))?;
            }
            Ok(())
        }
        Value::Sequence(s) => s.iter().enumerate().try_for_each(|(i, e)| check_tags(e, &format!("{path}[{i}]"))),
        _ => Ok(()),
    }
}

/// "a string", "a list" ... for messages.
pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Removes tags left after merging: `!reset` drops its key (or list entry), `!override`
/// leaves its value.
pub fn strip_tags(v: &mut Value) {
    match v {
        Value::Mapping(m) => {
            m.retain(|_, val| !is_reset(val));
            for (_, val) in m.iter_mut() {
                strip_tags(val);
            }
        }
        Value::Sequence(s) => {
            s.retain(|val| !is_reset(val));
            s.iter_mut().for_each(strip_tags);
        }
        Value::Tagged(t) => {
            let mut inner = std::mem::take(&mut t.value);
            strip_tags(&mut inner);
            *v = inner;
        }
        _ => {}
    }
}

pub fn is_reset(v: &Value) -> bool {
    matches!(v, Value::Tagged(t) if t.tag == "reset")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Mapping {
        parse(text, "f.yaml").unwrap().into_iter().next().unwrap()
    }

    #[test]
    fn merge_keys_and_aliases() {
        let m = one(
            "x-base: &base {image: a, environment: {A: 1}}\nx-more: &more\n  <<: *base\n  tty: true\nservices:\n  web:\n    <<: [*more]\n    image: b\n",
        );
        let web = &m["services"]["web"];
        assert_eq!(web["image"], Value::from("b"));
        assert_eq!(web["tty"], Value::from(true));
        assert_eq!(web["environment"]["A"], Value::from(1));
        assert!(web.get("<<").is_none());
    }

    #[test]
    fn keys_become_strings() {
        let m = one("sysctls: {1: a, true: b}");
        assert!(m["sysctls"].get("1").is_some() && m["sysctls"].get("true").is_some());
    }

    #[test]
    fn errors() {
        let e = parse("services: [1", "c.yaml").unwrap_err().to_string();
        assert!(e.starts_with("c.yaml: invalid YAML:") && e.contains("line"), "{e}");
        let e = parse("- a", "c.yaml").unwrap_err().to_string();
        assert!(e.contains("top level must be a mapping"), "{e}");
        let e = parse("a: !foo 1", "c.yaml").unwrap_err().to_string();
        assert_eq!(e, "c.yaml: a: unknown tag !foo: compose knows !reset and !override");
        let e = parse("a: {<<: 1}", "c.yaml").unwrap_err().to_string();
        assert!(e.contains("merge key"), "{e}");
    }

    #[test]
    fn documents_and_tags() {
        let docs = parse("a: 1\n---\nb: !reset null\n", "f").unwrap();
        assert_eq!(docs.len(), 2);
        let mut v = Value::Mapping(docs[1].clone());
        strip_tags(&mut v);
        assert!(v.get("b").is_none());
    }
}
