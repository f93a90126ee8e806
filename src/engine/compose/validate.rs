//! The Compose Specification's cross-checks on a resolved project, and kiste's limits: every
//! service has an image or a build; what services reference (dependencies, networks, volumes,
//! secrets, configs, network_mode service) exists; no dependency cycle; no container_name with
//! several replicas; only bridge networks and local volumes. Reads nothing.

use super::ComposeError;
use super::model::{Project, Resource, Service};
use super::mounts::MountKind;
use super::settings::NetworkMode;
use std::collections::{BTreeMap, BTreeSet};

/// Checks `p`; dependencies that are absent but not required become warnings.
pub fn project(p: &Project, warnings: &mut Vec<String>) -> Result<(), ComposeError> {
    let file = p.compose_files.join(", ");
    let err = |path: String, msg: String| ComposeError::invalid(&file, &path, msg);
    let mut names: BTreeMap<&str, &str> = BTreeMap::new();
    for (name, s) in &p.services {
        service(p, name, s, warnings).map_err(|(path, msg)| err(path, msg))?;
        if let Some(c) = &s.container_name
            && let Some(other) = names.insert(c, name)
        {
            return Err(err(
                format!("services.{name}.container_name"),
                format!("container name \"{c}\" is already used by service \"{other}\": choose another"),
            ));
        }
    }
    resources(p).map_err(|(path, msg)| err(path, msg))?;
    cycles(p).map_err(|msg| err("depends_on".into(), msg))
}

type Fail = (String, String);

fn service(p: &Project, name: &str, s: &Service, warnings: &mut Vec<String>) -> Result<(), Fail> {
    let at = |k: &str| format!("services.{name}{k}");
    if s.image.is_none() && s.build.is_none() {
        return Err((at(""), "has neither image nor build: add image: NAME or build: DIRECTORY".into()));
    }
    if let Some(b) = &s.build
        && b.dockerfile.is_some()
        && b.dockerfile_inline.is_some()
    {
        return Err((at(".build"), "dockerfile and dockerfile_inline exclude each other: keep one".into()));
    }
    if s.network_mode.is_some() && !s.networks.is_empty() {
        return Err((at(".network_mode"), "network_mode and networks exclude each other: keep one".into()));
    }
    for net in s.networks.keys() {
        if !p.networks.contains_key(net) {
            return Err((
                at(&format!(".networks.{net}")),
                format!("network \"{net}\" is not declared: add it under the top-level networks"),
            ));
        }
    }
    if let Some(NetworkMode::Service(x)) = &s.network_mode
        && !p.services.contains_key(x)
    {
        return Err((
            at(".network_mode"),
            format!("service \"{x}\" is not defined (or not enabled): define it or change network_mode"),
        ));
    }
    dependencies(p, name, s, warnings)?;
    mounts(p, name, s)?;
    limits(name, s)?;
    for (i, e) in s.expose.iter().enumerate() {
        let port = e.split('/').next().unwrap_or_default();
        let ok = port.split('-').all(|n| n.parse::<u16>().is_ok_and(|n| n > 0));
        if !ok || e.split('/').nth(1).is_some_and(|p| !matches!(p, "tcp" | "udp" | "sctp")) {
            return Err((
                at(&format!(".expose[{i}]")),
                format!("invalid port \"{e}\": write PORT[/PROTOCOL], e.g. 80 or 53/udp"),
            ));
        }
    }
    Ok(())
}

fn dependencies(p: &Project, name: &str, s: &Service, warnings: &mut Vec<String>) -> Result<(), Fail> {
    for (dep, d) in &s.depends_on {
        let path = format!("services.{name}.depends_on.{dep}");
        if p.services.contains_key(dep) {
            continue;
        }
        let why = if p.disabled_services.contains_key(dep) {
            format!("service \"{dep}\" is disabled by its profiles: activate one with --profile")
        } else {
            format!("service \"{dep}\" is not defined: define it or remove the dependency")
        };
        if d.required {
            return Err((path, why));
        }
        warnings.push(format!("{path}: {why}; skipping the optional dependency"));
    }
    Ok(())
}

fn mounts(p: &Project, name: &str, s: &Service) -> Result<(), Fail> {
    let mut targets: BTreeMap<String, String> = BTreeMap::new();
    for (i, t) in s.tmpfs.iter().enumerate() {
        let target = t.split(':').next().unwrap_or_default().to_string();
        targets.insert(target, format!("services.{name}.tmpfs[{i}]"));
    }
    for (i, v) in s.volumes.iter().enumerate() {
        let path = format!("services.{name}.volumes[{i}]");
        if let Some(other) = targets.insert(v.target.clone(), path.clone()) {
            return Err((path, format!("target {} is already mounted by {other}: mount each path once", v.target)));
        }
        if let MountKind::Volume { source: Some(vol), .. } = &v.kind
            && !p.volumes.contains_key(vol)
        {
            return Err((path, format!("volume \"{vol}\" is not declared: add it under the top-level volumes")));
        }
    }
    for (kind, list, declared) in [("secrets", &s.secrets, &p.secrets), ("configs", &s.configs, &p.configs)] {
        for (i, m) in list.iter().enumerate() {
            if !declared.contains_key(&m.source) {
                return Err((
                    format!("services.{name}.{kind}[{i}]"),
                    format!(
                        "{} \"{}\" is not declared: add it under the top-level {kind}",
                        &kind[..kind.len() - 1],
                        m.source
                    ),
                ));
            }
        }
    }
    if let Some(b) = &s.build {
        for (i, m) in b.secrets.iter().enumerate() {
            if !p.secrets.contains_key(&m.source) {
                return Err((
                    format!("services.{name}.build.secrets[{i}]"),
                    format!("secret \"{}\" is not declared: add it under the top-level secrets", m.source),
                ));
            }
        }
    }
    Ok(())
}

fn limits(name: &str, s: &Service) -> Result<(), Fail> {
    let at = |k: &str| format!("services.{name}{k}");
    let Some(d) = &s.deploy else {
        return single_name(name, s);
    };
    if let (Some(a), Some(b)) = (s.scale, d.replicas)
        && a != b
    {
        return Err((at(".scale"), format!("scale ({a}) and deploy.replicas ({b}) differ: set one")));
    }
    if d.mode.as_deref().is_some_and(|m| m != "replicated") {
        return Err((at(".deploy.mode"), "only mode replicated is supported by kiste; remove mode".into()));
    }
    if let Some(l) = &d.resources.limits {
        let same_cpus = s.cpus.is_none() || l.cpus.is_none() || s.cpus == l.cpus;
        let same_mem = s.mem_limit.is_none() || l.memory.is_none() || s.mem_limit == l.memory;
        let same_pids = s.pids_limit.is_none() || l.pids.is_none() || s.pids_limit == l.pids;
        for (same, key, deploy_key) in
            [(same_cpus, "cpus", "cpus"), (same_mem, "mem_limit", "memory"), (same_pids, "pids_limit", "pids")]
        {
            if !same {
                return Err((
                    at(&format!(".{key}")),
                    format!("{key} and deploy.resources.limits.{deploy_key} differ: set one"),
                ));
            }
        }
    }
    if let (Some(r), Some(m)) = (&d.resources.reservations, s.mem_reservation)
        && r.memory.is_some_and(|x| x != m)
    {
        return Err((
            at(".mem_reservation"),
            "mem_reservation and deploy.resources.reservations.memory differ: set one".into(),
        ));
    }
    single_name(name, s)
}

fn single_name(name: &str, s: &Service) -> Result<(), Fail> {
    if s.container_name.is_some() && s.replicas() > 1 {
        return Err((
            format!("services.{name}.container_name"),
            format!(
                "a container name must be unique but the service has {} replicas: remove container_name or scale to 1",
                s.replicas()
            ),
        ));
    }
    Ok(())
}

fn resources(p: &Project) -> Result<(), Fail> {
    for (k, n) in &p.networks {
        if n.driver.as_deref().is_some_and(|d| d != "bridge") {
            return Err((
                format!("networks.{k}.driver"),
                format!(
                    "driver \"{}\" is not supported: kiste networks use bridge",
                    n.driver.as_deref().unwrap_or_default()
                ),
            ));
        }
        if n.external.external && (n.driver.is_some() || !n.ipam.config.is_empty() || n.internal) {
            return Err((
                format!("networks.{k}"),
                "an external network is created elsewhere: remove driver, ipam and internal".into(),
            ));
        }
        for (i, pool) in n.ipam.config.iter().enumerate() {
            if let Some(s) = &pool.subnet
                && !is_ipv4_cidr(s)
            {
                return Err((
                    format!("networks.{k}.ipam.config[{i}].subnet"),
                    format!("invalid subnet \"{s}\": write an IPv4 CIDR such as 10.89.5.0/24"),
                ));
            }
        }
    }
    for (k, v) in &p.volumes {
        if v.driver.as_deref().is_some_and(|d| d != "local") {
            return Err((
                format!("volumes.{k}.driver"),
                format!(
                    "driver \"{}\" is not supported: kiste volumes use local",
                    v.driver.as_deref().unwrap_or_default()
                ),
            ));
        }
    }
    for (kind, map, inline) in [("secrets", &p.secrets, false), ("configs", &p.configs, true)] {
        for (k, r) in map {
            file_object(r, inline).map_err(|m| (format!("{kind}.{k}"), m))?;
        }
    }
    Ok(())
}

fn file_object(r: &Resource, inline: bool) -> Result<(), String> {
    let sources = [r.file.is_some(), r.environment.is_some(), r.content.is_some()].iter().filter(|b| **b).count();
    let choices = if inline { "file, environment or content" } else { "file or environment" };
    if !inline && r.content.is_some() {
        return Err("content is for configs; a secret takes file or environment".into());
    }
    if sources > 1 {
        return Err(format!("{choices} exclude each other: keep one"));
    }
    if sources == 0 && !r.external.external {
        return Err(format!("needs {choices} (or external: true)"));
    }
    Ok(())
}

fn is_ipv4_cidr(s: &str) -> bool {
    s.split_once('/')
        .is_some_and(|(a, n)| a.parse::<std::net::Ipv4Addr>().is_ok() && n.parse::<u8>().is_ok_and(|n| n <= 32))
}

/// A cycle in depends_on, as "a -> b -> a".
fn cycles(p: &Project) -> Result<(), String> {
    fn walk<'a>(
        p: &'a Project,
        name: &'a str,
        stack: &mut Vec<&'a str>,
        done: &mut BTreeSet<&'a str>,
    ) -> Result<(), String> {
        if let Some(i) = stack.iter().position(|s| *s == name) {
            let mut cycle: Vec<&str> = stack[i..].to_vec();
            cycle.push(name);
            return Err(format!("dependency cycle: {}; remove one of these dependencies", cycle.join(" -> ")));
        }
        if !done.insert(name) {
            return Ok(());
        }
        stack.push(name);
        if let Some(s) = p.services.get(name) {
            for d in s.dependencies() {
                walk(p, d, stack, done)?;
            }
        }
        stack.pop();
        Ok(())
    }
    let mut done = BTreeSet::new();
    for name in p.services.keys() {
        walk(p, name, &mut vec![], &mut done)?;
    }
    Ok(())
}
