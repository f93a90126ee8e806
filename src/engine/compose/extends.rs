//! `extends`: a service built on another one, from the same file or another file (whose
//! relative paths are resolved against that file's directory first), recursively, with the
//! override merge rules; cycles are refused. Works on one file's tree before it is merged.

use super::load::Ctx;
use super::{ComposeError, merge, paths, yaml};
use serde::Deserialize;
use serde_norway::{Mapping, Value};
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Extends {
    service: String,
    #[serde(default)]
    file: Option<String>,
}

/// Where a service is defined: (file, service).
type Chain = Vec<(String, String)>;

/// Applies `extends` to every service of `tree` (from `file`, relative paths against `base`).
pub fn apply(tree: &mut Mapping, file: &str, base: &Path, ctx: &mut Ctx) -> Result<(), ComposeError> {
    let Some(Value::Mapping(services)) = tree.get_mut("services") else { return Ok(()) };
    let names: Vec<String> = services.keys().filter_map(|k| k.as_str().map(str::to_string)).collect();
    for name in names {
        resolve(&name, services, file, base, ctx, &mut vec![])?;
    }
    Ok(())
}

fn parse(v: &Value, file: &str, name: &str) -> Result<Extends, ComposeError> {
    let path = format!("services.{name}.extends");
    match v {
        Value::String(s) => Ok(Extends { service: s.clone(), file: None }),
        Value::Mapping(_) => serde_path_to_error::deserialize(v.clone()).map_err(|e| {
            ComposeError::invalid(file, &path, format!("{}; write extends: {{service: NAME, file: FILE}}", e.inner()))
        }),
        other => Err(ComposeError::invalid(
            file,
            &path,
            format!("expected a service name or {{service, file}}, got {}", yaml::kind(other)),
        )),
    }
}

/// Resolves service `name` of `services` (defined in `file`) in place.
fn resolve(
    name: &str,
    services: &mut Mapping,
    file: &str,
    base: &Path,
    ctx: &mut Ctx,
    chain: &mut Chain,
) -> Result<(), ComposeError> {
    let Some(Value::Mapping(svc)) = services.get(name) else { return Ok(()) };
    let Some(ext) = svc.get("extends") else { return Ok(()) };
    let ext = parse(ext, file, name)?;
    if chain.iter().any(|(f, s)| f == file && s == name) {
        let mut names: Vec<String> = chain.iter().map(|(f, s)| format!("{s} ({f})")).collect();
        names.push(format!("{name} ({file})"));
        return Err(ComposeError::invalid(
            file,
            &format!("services.{name}.extends"),
            format!("circular extends: {}; break the cycle", names.join(" -> ")),
        ));
    }
    chain.push((file.to_string(), name.to_string()));
    let base_service = match &ext.file {
        Some(f) => from_other_file(
            &ext.service,
            name,
            file,
            &PathBuf::from(paths::abs(f, base, ctx.home().as_deref())),
            ctx,
            chain,
        )?,
        None => {
            if !services.contains_key(ext.service.as_str()) {
                return Err(not_found(file, name, &ext.service, file));
            }
            resolve(&ext.service, services, file, base, ctx, chain)?;
            services.get(ext.service.as_str()).cloned().unwrap_or(Value::Null)
        }
    };
    chain.pop();
    let Some(Value::Mapping(mut svc)) = services.get(name).cloned() else { return Ok(()) };
    svc.remove("extends");
    let mut merged = merge::merge(base_service, Value::Mapping(svc), &["services", name])
        .map_err(|m| ComposeError::invalid(file, &format!("services.{name}"), m))?;
    if let Value::Mapping(m) = &mut merged {
        m.remove("extends");
    }
    services.insert(name.into(), merged);
    Ok(())
}

fn not_found(file: &str, name: &str, wanted: &str, in_file: &str) -> ComposeError {
    ComposeError::invalid(
        file,
        &format!("services.{name}.extends"),
        format!("service \"{wanted}\" not found in {in_file}; name a service defined there"),
    )
}

/// The (resolved) service `wanted` of another file, its paths made absolute.
fn from_other_file(
    wanted: &str,
    name: &str,
    file: &str,
    path: &Path,
    ctx: &mut Ctx,
    chain: &mut Chain,
) -> Result<Value, ComposeError> {
    let other = path.display().to_string();
    let docs = ctx.read(path)?;
    let mut tree = Value::Mapping(Mapping::new());
    for doc in ctx.prepare(&other, docs)? {
        tree = merge::merge(tree, Value::Mapping(doc), &[]).map_err(|m| ComposeError::invalid(&other, "", m))?;
    }
    yaml::strip_tags(&mut tree);
    let dir = path.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf);
    let Value::Mapping(mut tree) = tree else { return Err(not_found(file, name, wanted, &other)) };
    let Some(Value::Mapping(services)) = tree.get_mut("services") else {
        return Err(not_found(file, name, wanted, &other));
    };
    if !services.contains_key(wanted) {
        return Err(not_found(file, name, wanted, &other));
    }
    resolve(wanted, services, &other, &dir, ctx, chain)?;
    let only: Mapping =
        [(Value::from(wanted), services.get(wanted).cloned().unwrap_or(Value::Null))].into_iter().collect();
    let mut wrapper: Mapping = [(Value::from("services"), Value::Mapping(only))].into_iter().collect();
    paths::resolve(&mut wrapper, &dir, ctx.home().as_deref());
    Ok(wrapper.get("services").and_then(|s| s.get(wanted)).cloned().unwrap_or(Value::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{tmpdir, write};
    use std::collections::BTreeMap;

    fn run(text: &str, dir: &Path) -> Result<Mapping, ComposeError> {
        let mut ctx = Ctx::new(BTreeMap::new(), true);
        let mut t: Mapping = serde_norway::from_str(text).unwrap();
        apply(&mut t, "compose.yaml", dir, &mut ctx)?;
        Ok(t)
    }

    fn y(s: &str) -> Value {
        serde_norway::from_str(s).unwrap()
    }

    #[test]
    fn same_file_chain() {
        let t = run(
            "services:\n  base: {image: a, environment: {A: 1}, command: [x]}\n  mid: {extends: base, environment: {B: 2}}\n  top: {extends: {service: mid}, command: [y], image: b}\n",
            Path::new("/p"),
        )
        .unwrap();
        let top = &t["services"]["top"];
        assert_eq!(top["image"], y("b"));
        assert_eq!(top["command"], y("[y]"));
        assert_eq!(top["environment"], y("[A=1, B=2]"));
        assert!(top.get("extends").is_none());
    }

    #[test]
    fn other_file_paths_are_its_own() {
        let d = tmpdir("compose-extends-file");
        write(
            &d.join("common/base.yaml"),
            "services:\n  app: {build: ., env_file: app.env, extends: root}\n  root: {image: r, labels: [l=1]}\n",
        );
        let t =
            run("services:\n  web: {extends: {file: common/base.yaml, service: app}, ports: [\"80\"]}\n", &d).unwrap();
        let web = &t["services"]["web"];
        assert_eq!(web["build"], Value::from(d.join("common").display().to_string()));
        assert_eq!(web["env_file"], Value::from(d.join("common/app.env").display().to_string()));
        assert_eq!(web["image"], y("r"));
        assert_eq!(web["ports"], y("[\"80\"]"));
    }

    #[test]
    fn errors() {
        let e = run("services:\n  a: {extends: b}\n  b: {extends: a}\n", Path::new("/p")).unwrap_err().to_string();
        assert!(e.contains("circular extends"), "{e}");
        let e = run("services:\n  a: {extends: nope}\n", Path::new("/p")).unwrap_err().to_string();
        assert_eq!(
            e,
            "compose.yaml: services.a.extends: service \"nope\" not found in compose.yaml; name a service defined there"
        );
        let e = run("services:\n  a: {extends: {servce: x}}\n", Path::new("/p")).unwrap_err().to_string();
        assert!(e.starts_with("compose.yaml: services.a.extends: unknown field `servce`"), "{e}");
        let e =
            run("services:\n  a: {extends: {file: none.yaml, service: x}}\n", Path::new("/nonexistent")).unwrap_err();
        assert!(e.to_string().contains("cannot read /nonexistent/none.yaml"), "{e}");
    }
}
