//! The merged tree -> the final `Project`: typed, normalised as compose-go normalises
//! (default network, resource names, build defaults, `KEY`-only environment from the project
//! environment, env_file contents, implied dependencies, secret targets), profiles applied,
//! and the specification's cross-checks (validate.rs). Reads env_files, nothing else.

use super::check::{self, definition, section, typed};
use super::load::Setup;
use super::model::{Network, Project, Resource, Service, Volume};
use super::parts::{Condition, Dependency};
use super::settings::NetworkMode;
use super::{ComposeError, dotenv, validate};
use serde::de::DeserializeOwned;
use serde_norway::Mapping;
use std::collections::BTreeMap;

/// Types, normalises and checks `tree`.
pub fn project(mut tree: Mapping, setup: Setup, warnings: &mut Vec<String>) -> Result<Project, ComposeError> {
    let file = setup.files.join(", ");
    let mut p = Project {
        name: setup.name,
        working_dir: setup.working_dir,
        compose_files: setup.files,
        environment: setup.environment,
        extensions: check::split_extensions(&mut tree),
        profiles: setup.profiles,
        ..Project::default()
    };
    let mut services = BTreeMap::new();
    for (key, def) in section(tree.get("services"), &file, "services")? {
        let name = key.as_str().unwrap_or_default().to_string();
        let path = format!("services.{name}");
        let (def, ext) = definition(def, &file, &path)?;
        let mut s: Service = typed(def, &file, &path)?;
        s.name = name.clone();
        s.extensions = ext;
        normalize_service(&mut s, &p, &file)?;
        services.insert(name, s);
    }
    p.networks = entries(&tree, &file, "networks")?;
    p.volumes = entries(&tree, &file, "volumes")?;
    p.secrets = entries(&tree, &file, "secrets")?;
    p.configs = entries(&tree, &file, "configs")?;
    default_network(&mut services, &mut p.networks);
    name_resources(&mut p);
    let (enabled, disabled) = services.into_iter().partition(|(_, s)| active(s, &p.profiles));
    p.services = enabled;
    p.disabled_services = disabled;
    validate::project(&p, warnings)?;
    Ok(p)
}

fn entries<T: DeserializeOwned + Extensible>(
    tree: &Mapping,
    file: &str,
    name: &str,
) -> Result<BTreeMap<String, T>, ComposeError> {
    let mut out = BTreeMap::new();
    for (key, def) in section(tree.get(name), file, name)? {
        let key = key.as_str().unwrap_or_default().to_string();
        let path = format!("{name}.{key}");
        let (def, ext) = definition(def, file, &path)?;
        let mut t: T = typed(def, file, &path)?;
        t.set_extensions(ext);
        out.insert(key, t);
    }
    Ok(out)
}

/// Top-level resources that keep their `x-*` keys.
trait Extensible {
    fn set_extensions(&mut self, ext: Mapping);
}

macro_rules! extensible {
    ($($t:ty),*) => {$(
        impl Extensible for $t {
            fn set_extensions(&mut self, ext: Mapping) {
                self.extensions = ext;
            }
        }
    )*};
}

extensible!(Network, Volume, Resource);

/// A service runs when it has no profiles, or one of them is active (`*` activates all).
fn active(s: &Service, profiles: &[String]) -> bool {
    s.profiles.is_empty() || s.profiles.iter().any(|p| profiles.iter().any(|a| a == p || a == "*"))
}

fn normalize_service(s: &mut Service, p: &Project, file: &str) -> Result<(), ComposeError> {
    let lookup = |k: &str| p.environment.get(k).cloned();
    if let Some(b) = &mut s.build {
        if b.context.is_empty() {
            b.context = p.working_dir.display().to_string();
        }
        if b.dockerfile.is_none() && b.dockerfile_inline.is_none() {
            b.dockerfile = Some("Dockerfile".into());
        }
        b.args = std::mem::take(&mut b.args)
            .into_iter()
            .filter_map(|(k, v)| match v {
                Some(v) => Some((k, Some(v))),
                None => lookup(&k).map(|v| (k, Some(v))),
            })
            .collect();
    }
    for (k, v) in s.environment.iter_mut() {
        if v.is_none() {
            *v = lookup(k);
        }
    }
    load_env_files(s, p, file)?;
    for m in &mut s.secrets {
        if m.target.is_none() {
            m.target = Some(format!("/run/secrets/{}", m.source));
        }
    }
    implied_dependencies(s);
    Ok(())
}

/// env_file contents under `environment` (which wins); `required: false` files may be absent.
fn load_env_files(s: &mut Service, p: &Project, file: &str) -> Result<(), ComposeError> {
    let mut from_files: BTreeMap<String, String> = BTreeMap::new();
    for (i, ef) in s.env_files.iter().enumerate() {
        let path = format!("services.{}.env_file[{i}]", s.name);
        if !ef.path.exists() {
            if ef.required {
                return Err(ComposeError::invalid(
                    file,
                    &path,
                    format!("env file {} not found: create it or mark it required: false", ef.path.display()),
                ));
            }
            continue;
        }
        if let Some(f) = ef.format.as_deref().filter(|f| *f != "raw" && !f.is_empty()) {
            return Err(ComposeError::invalid(
                file,
                &path,
                format!("unknown env_file format \"{f}\": use raw or leave it out"),
            ));
        }
        let name = ef.path.display().to_string();
        let text =
            std::fs::read_to_string(&ef.path).map_err(|source| ComposeError::Read { path: name.clone(), source })?;
        let pairs = if ef.format.as_deref() == Some("raw") {
            raw_env(&text)
        } else {
            let env = &s.environment;
            let lookup = |k: &str| p.environment.get(k).cloned().or_else(|| env.get(k).cloned().flatten());
            dotenv::parse(&text, &lookup).map_err(|m| ComposeError::invalid(&name, "", m))?
        };
        from_files.extend(pairs);
    }
    for (k, v) in from_files {
        s.environment.entry(k).or_insert(Some(v));
    }
    Ok(())
}

/// `format: raw`: `KEY=VALUE` lines taken literally.
fn raw_env(text: &str) -> Vec<(String, String)> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#'))
        .map(|l| match l.split_once('=') {
            Some((k, v)) => (k.trim().to_string(), v.to_string()),
            None => (l.trim().to_string(), String::new()),
        })
        .collect()
}

/// `network_mode: service:X` and `volumes_from: X` make X a dependency, as compose does.
fn implied_dependencies(s: &mut Service) {
    if let Some(NetworkMode::Service(x)) = &s.network_mode {
        s.depends_on.entry(x.clone()).or_insert(Dependency {
            condition: Condition::Started,
            restart: true,
            required: true,
        });
    }
    for v in &s.volumes_from {
        if v.starts_with("container:") {
            continue;
        }
        let name = v.split(':').next().unwrap_or_default().to_string();
        s.depends_on.entry(name).or_insert(Dependency::started());
    }
}

/// Services with neither `networks` nor `network_mode` join `default`, which then exists.
fn default_network(services: &mut BTreeMap<String, Service>, networks: &mut BTreeMap<String, Network>) {
    let mut uses_default = false;
    for s in services.values_mut() {
        if s.network_mode.is_some() {
            continue;
        }
        if s.networks.is_empty() {
            s.networks.insert("default".into(), None);
        }
        uses_default |= s.networks.contains_key("default");
    }
    if uses_default {
        networks.entry("default".into()).or_default();
    }
}

/// Resources without `name` are `PROJECT_KEY`, or `KEY` when external.
fn name_resources(p: &mut Project) {
    let project = p.name.clone();
    let fill = |name: &mut String, key: &str, external: bool| {
        if name.is_empty() {
            *name = if external { key.to_string() } else { format!("{project}_{key}") };
        }
    };
    for (k, n) in &mut p.networks {
        if let Some(x) = n.external.name.clone().filter(|_| n.name.is_empty()) {
            n.name = x;
        }
        fill(&mut n.name, k, n.external.external);
    }
    for (k, v) in &mut p.volumes {
        if let Some(x) = v.external.name.clone().filter(|_| v.name.is_empty()) {
            v.name = x;
        }
        fill(&mut v.name, k, v.external.external);
    }
    for map in [&mut p.secrets, &mut p.configs] {
        for (k, r) in map.iter_mut() {
            if let Some(x) = r.external.name.clone().filter(|_| r.name.is_empty()) {
                r.name = x;
            }
            fill(&mut r.name, k, r.external.external);
        }
    }
}
