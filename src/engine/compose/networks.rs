//! A project's networks: the ones its services use are created (`PROJECT_default`, ...) with
//! compose's labels, external ones are checked, and `down` removes the project's own. Only
//! network definitions: the namespace holder comes and goes with the containers.

use super::model::{Network, Project};
use super::report::{Kind, Report};
use super::{ComposeError, naming, project_state};
use crate::engine::Context;
use crate::engine::container::networks as ctr_networks;
use crate::engine::network::{NetError, named};
use std::collections::BTreeSet;

/// The keys of the networks `services` use.
pub fn used<'a>(p: &'a Project, services: &[&str]) -> BTreeSet<&'a str> {
    services
        .iter()
        .filter_map(|s| p.service(s))
        .flat_map(|s| s.networks.keys())
        .filter_map(|k| p.networks.get_key_value(k).map(|(k, _)| k.as_str()))
        .collect()
}

/// Creates (or checks) the networks `keys` of the project.
pub fn ensure(ctx: &Context, p: &Project, keys: &BTreeSet<&str>, r: &dyn Report) -> Result<(), ComposeError> {
    let store = named::Store::new(&ctx.paths.data);
    for key in keys {
        let Some(n) = p.networks.get(*key) else { continue };
        ensure_one(&store, p, key, n, r)?;
    }
    Ok(())
}

fn ensure_one(store: &named::Store, p: &Project, key: &str, n: &Network, r: &dyn Report) -> Result<(), ComposeError> {
    let path = format!("networks.{key}");
    match store.get(&n.name) {
        Ok(found) => {
            if n.external.external {
                return Ok(());
            }
            let owner = found.labels.get(naming::PROJECT).map(String::as_str).unwrap_or("");
            if owner != p.name {
                return Err(ComposeError::Project(format!(
                    "{path}: network {} exists but was not created for project {}; remove it, \
                     or declare it with external: true to use it",
                    n.name, p.name
                )));
            }
            Ok(())
        }
        Err(NetError::NotFound(_)) if n.external.external => Err(ComposeError::Project(format!(
            "{path}: network {} is declared external but does not exist; create it with `kiste network create {}`",
            n.name, n.name
        ))),
        Err(NetError::NotFound(_)) => create(store, p, key, n, &path, r),
        Err(e) => Err(e.into()),
    }
}

fn create(
    store: &named::Store,
    p: &Project,
    key: &str,
    n: &Network,
    path: &str,
    r: &dyn Report,
) -> Result<(), ComposeError> {
    if let Some(d) = n.driver.as_deref().filter(|d| *d != "bridge") {
        return Err(ComposeError::unsupported(
            format!("{path}.driver"),
            format!("network drivers other than bridge (\"{d}\")"),
        ));
    }
    if n.ipam.config.len() > 1 {
        return Err(ComposeError::unsupported(format!("{path}.ipam.config"), "several subnets on one network"));
    }
    let pool = n.ipam.config.first();
    let mut labels: Vec<String> = n.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    labels.extend(naming::network_labels(&p.name, key).into_iter().map(|(k, v)| format!("{k}={v}")));
    let o = named::CreateOptions {
        name: Some(n.name.clone()),
        subnet: pool.and_then(|c| c.subnet.clone()),
        gateway: pool.and_then(|c| c.gateway).map(|g| g.to_string()),
        internal: n.internal,
        labels,
        // Another `up` of the same project may create it at the same time.
        ignore: true,
    };
    r.event(Kind::Network, &n.name, "Creating");
    store.create(&o)?;
    r.event(Kind::Network, &n.name, "Created");
    Ok(())
}

/// Removes the project's own networks that no container uses any more; returns the names of
/// those still in use.
pub fn remove(ctx: &Context, project: &str, r: &dyn Report) -> Result<Vec<String>, ComposeError> {
    let conn = ctx.db()?;
    let store = named::Store::new(&ctx.paths.data);
    let mut busy = Vec::new();
    for n in project_state::networks(ctx, project)? {
        if !ctr_networks::users(&conn, &n.name)?.is_empty() {
            busy.push(n.name);
            continue;
        }
        r.event(Kind::Network, &n.name, "Removing");
        match store.remove(&n.name) {
            Ok(()) | Err(NetError::NotFound(_)) => r.event(Kind::Network, &n.name, "Removed"),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(busy)
}
