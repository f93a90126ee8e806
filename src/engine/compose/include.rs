//! `include`: other compose projects loaded whole (their own project directory, `.env` or
//! `env_file`, includes, extends and merges, paths resolved there) and their services,
//! networks, volumes, secrets and configs added to the including file; a resource defined on
//! both sides is merged with the including file's definition on top. Cycles are refused.

use super::load::Ctx;
use super::{ComposeError, files, forms, merge, paths, yaml};
use serde::Deserialize;
use serde_norway::{Mapping, Value};
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Include {
    #[serde(deserialize_with = "forms::string_list")]
    path: Vec<String>,
    #[serde(default)]
    project_directory: Option<String>,
    #[serde(default, deserialize_with = "forms::string_list")]
    env_file: Vec<String>,
}

fn entries(v: Value, file: &str) -> Result<Vec<Include>, ComposeError> {
    let Value::Sequence(list) = v else {
        return Err(ComposeError::invalid(
            file,
            "include",
            format!("expected a list of files, got {}", yaml::kind(&v)),
        ));
    };
    list.into_iter()
        .enumerate()
        .map(|(i, e)| {
            let path = format!("include[{i}]");
            match e {
                Value::String(s) => Ok(Include { path: vec![s], project_directory: None, env_file: vec![] }),
                other => serde_path_to_error::deserialize::<_, Include>(other).map_err(|e| {
                    let at = if e.path().to_string() == "." { path.clone() } else { format!("{path}.{}", e.path()) };
                    ComposeError::invalid(
                        file,
                        &at,
                        format!("{}; write a path or {{path, project_directory, env_file}}", e.inner()),
                    )
                }),
            }
        })
        .collect()
}

/// Loads the includes of `tree` (from `file`, relative paths against `base`) into it.
pub fn apply(tree: &mut Mapping, file: &str, base: &Path, ctx: &mut Ctx) -> Result<(), ComposeError> {
    let Some(v) = tree.remove("include") else { return Ok(()) };
    for (i, inc) in entries(v, file)?.into_iter().enumerate() {
        let at = format!("include[{i}]");
        let home = ctx.home();
        let abs = |p: &str| PathBuf::from(paths::abs(p, base, home.as_deref()));
        let files: Vec<PathBuf> = inc.path.iter().map(|p| abs(p)).collect();
        let Some(main) = files.first() else {
            return Err(ComposeError::invalid(file, &at, "path is empty: name the compose file to include"));
        };
        let dir = match &inc.project_directory {
            Some(d) => abs(d),
            None => main.parent().map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
        };
        let main_name = main.display().to_string();
        if ctx.included.contains(&main_name) || main_name == file {
            let mut chain = ctx.included.clone();
            chain.extend([file.to_string(), main_name]);
            return Err(ComposeError::invalid(
                file,
                &at,
                format!("include cycle: {}; remove one of these includes", chain.join(" -> ")),
            ));
        }
        let env_files: Vec<PathBuf> = if inc.env_file.is_empty() {
            Some(dir.join(".env")).filter(|f| f.is_file()).into_iter().collect()
        } else {
            inc.env_file.iter().filter(|f| *f != "/dev/null").map(|f| abs(f)).collect()
        };
        let mut env = ctx.env.clone();
        files::add_env_files(&mut env, &env_files)?;
        let mut sub = Ctx::new(env, ctx.interpolate);
        sub.included = ctx.included.clone();
        sub.included.push(file.to_string());
        let mut parsed = vec![];
        for f in &files {
            let docs = sub.read(f)?;
            parsed.push((f.display().to_string(), docs));
        }
        let imported = sub.merge_files(parsed, &dir);
        for w in std::mem::take(&mut sub.warnings) {
            if !ctx.warnings.contains(&w) {
                ctx.warnings.push(w);
            }
        }
        import(tree, imported?, file)?;
    }
    Ok(())
}

/// Adds the imported resources; one defined on both sides gets the local definition merged
/// over the imported one.
fn import(tree: &mut Mapping, imported: Mapping, file: &str) -> Result<(), ComposeError> {
    for section in ["services", "networks", "volumes", "secrets", "configs"] {
        let Some(Value::Mapping(from)) = imported.get(section).cloned() else { continue };
        let target = tree.entry(section.into()).or_insert_with(|| Value::Mapping(Mapping::new()));
        if target.is_null() {
            *target = Value::Mapping(Mapping::new());
        }
        let Value::Mapping(to) = target else {
            return Err(ComposeError::invalid(file, section, "expected a mapping"));
        };
        for (name, def) in from {
            let key = name.as_str().unwrap_or_default().to_string();
            let merged = match to.remove(&name) {
                None => def,
                Some(local) => merge::merge(def, local, &[section, &key])
                    .map_err(|m| ComposeError::invalid(file, &format!("{section}.{key}"), m))?,
            };
            to.insert(name, merged);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{tmpdir, write};
    use std::collections::BTreeMap;

    #[test]
    fn includes_with_own_dir_and_env() {
        let d = tmpdir("compose-include");
        write(
            &d.join("lib/compose.yaml"),
            "services:\n  db: {image: \"pg:${PGV}\", volumes: [\"./data:/data\"]}\nvolumes: {x: {}}\n",
        );
        write(&d.join("lib/.env"), "PGV=16\n");
        write(&d.join("other/o.yaml"), "services:\n  cache: {image: \"redis:${RV:-7}\"}\n");
        write(&d.join("o.env"), "RV=8\n");
        write(&d.join("third/t.yaml"), "services:\n  t: {build: ./ctx}\n");
        let mut t: Mapping = serde_norway::from_str(
            "include: [lib/compose.yaml, {path: other/o.yaml, env_file: o.env}, {path: [third/t.yaml], project_directory: elsewhere}]\nservices:\n  db: {environment: {A: 1}}\n",
        )
        .unwrap();
        let mut ctx = Ctx::new(BTreeMap::new(), true);
        apply(&mut t, &d.join("compose.yaml").display().to_string(), &d, &mut ctx).unwrap();
        let db = &t["services"]["db"];
        assert_eq!(db["image"], Value::from("pg:16"));
        assert_eq!(db["environment"]["A"], Value::from(1));
        assert_eq!(db["volumes"][0], Value::from(format!("{}:/data", d.join("lib/data").display())));
        assert_eq!(t["services"]["cache"]["image"], Value::from("redis:8"));
        assert!(t["volumes"].get("x").is_some());
        assert_eq!(t["services"]["t"]["build"], Value::from(d.join("elsewhere/ctx").display().to_string()));
        assert!(t.get("include").is_none());
    }

    #[test]
    fn cycles_are_refused() {
        let d = tmpdir("compose-include-cycle");
        write(&d.join("a.yaml"), "include: [b.yaml]\n");
        write(&d.join("b.yaml"), "include: [a.yaml]\n");
        let mut t: Mapping = serde_norway::from_str("include: [b.yaml]\n").unwrap();
        let mut ctx = Ctx::new(BTreeMap::new(), true);
        let e = apply(&mut t, &d.join("a.yaml").display().to_string(), &d, &mut ctx).unwrap_err().to_string();
        assert!(e.contains("include cycle"), "{e}");
    }

    #[test]
    fn bad_entries() {
        let mut ctx = Ctx::new(BTreeMap::new(), true);
        let mut t: Mapping = serde_norway::from_str("include: [{path: a.yaml, projectdir: x}]").unwrap();
        let e = apply(&mut t, "c.yaml", Path::new("/"), &mut ctx).unwrap_err().to_string();
        assert!(e.starts_with("c.yaml: include[0].projectdir: unknown field `projectdir`"), "{e}");
    }
}
