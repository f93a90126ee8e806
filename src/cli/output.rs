//! Output helpers shared by commands: aligned tables, JSON, and the small subset of Go
//! templates that scripts use with `--format` (`{{.Field}}`, `{{json .}}`, `table ...`).

use serde_json::Value;
use std::io::Write;

/// Prints rows as a table aligned like Podman's (columns separated by 2+ spaces).
pub fn table(headers: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut tw = tabwriter::TabWriter::new(std::io::stdout().lock()).padding(2).minwidth(2);
    if !headers.is_empty() {
        writeln!(tw, "{}", headers.join("\t"))?;
    }
    for r in rows {
        writeln!(tw, "{}", r.join("\t"))?;
    }
    tw.flush()
}

pub fn json(v: &Value) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)
}

/// True when `--format` asks for JSON.
pub fn is_json(format: Option<&str>) -> bool {
    matches!(format.map(str::trim), Some("json") | Some("{{json .}}"))
}

fn lookup<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    let mut cur = v;
    for part in path.split('.').filter(|p| !p.is_empty()) {
        cur = match cur {
            Value::Object(m) => {
                m.get(part).or_else(|| m.iter().find(|(k, _)| k.eq_ignore_ascii_case(part)).map(|(_, v)| v))?
            }
            _ => return None,
        };
    }
    Some(cur)
}

fn plain(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "<no value>".into(),
        Value::Array(a) => format!("[{}]", a.iter().map(plain).collect::<Vec<_>>().join(" ")),
        Value::Object(_) => {
            let mut s = String::from("map[");
            if let Value::Object(m) = v {
                s.push_str(&m.iter().map(|(k, v)| format!("{k}:{}", plain(v))).collect::<Vec<_>>().join(" "));
            }
            s.push(']');
            s
        }
        other => other.to_string(),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("template {template:?}: {reason}")]
pub struct TemplateError {
    template: String,
    reason: String,
}

/// Renders a Go-template-like `--format` for one value.
pub fn render(template: &str, v: &Value) -> Result<String, TemplateError> {
    let t = template.strip_prefix("table ").unwrap_or(template);
    let t = t.replace("\\t", "\t").replace("\\n", "\n");
    let mut out = String::new();
    let mut rest = t.as_str();
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find("}}")
            .ok_or_else(|| TemplateError { template: template.into(), reason: "unclosed {{".into() })?;
        let expr = after[..end].trim();
        let err = |reason: &str| TemplateError { template: template.into(), reason: reason.into() };
        if expr == "json ." || expr == "json" {
            out.push_str(&serde_json::to_string(v).unwrap_or_default());
        } else if let Some(path) = expr.strip_prefix("json ") {
            let x = lookup(v, path.trim()).ok_or_else(|| err(&format!("no field {}", path.trim())))?;
            out.push_str(&serde_json::to_string(x).unwrap_or_default());
        } else if let Some(path) = expr.strip_prefix('.') {
            let x = lookup(v, path).ok_or_else(|| err(&format!("can't evaluate field {path}")))?;
            out.push_str(&plain(x));
        } else {
            return Err(err(&format!("unsupported expression {{{{{expr}}}}}")));
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Prints each value through `template`, one per line. A `table` template gets a header
/// line made of its field names, as Podman does.
pub fn templated(template: &str, values: &[Value]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    if template.starts_with("table ") {
        let header =
            template.strip_prefix("table ").unwrap_or(template).replace("{{.", "").replace("}}", "").to_uppercase();
        let mut tw = tabwriter::TabWriter::new(&mut out).padding(2);
        writeln!(tw, "{}", header.replace("\\T", "\t"))?;
        for v in values {
            writeln!(tw, "{}", render(template, v)?)?;
        }
        tw.flush()?;
        return Ok(());
    }
    for v in values {
        writeln!(out, "{}", render(template, v)?)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_fields_and_json() {
        let v = serde_json::json!({"ID": "abc", "Config": {"Cmd": ["sh", "-c"]}, "n": 3});
        assert_eq!(render("{{.ID}} {{.n}}", &v).unwrap(), "abc 3");
        assert_eq!(render("{{.Config.Cmd}}", &v).unwrap(), "[sh -c]");
        assert_eq!(render("{{json .Config.Cmd}}", &v).unwrap(), "[\"sh\",\"-c\"]");
        assert!(render("{{.Nope}}", &v).is_err());
        assert!(render("{{.ID", &v).is_err());
    }
}
