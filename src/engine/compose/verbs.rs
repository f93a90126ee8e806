//! The lifecycle verbs on a project's existing containers: start (dependencies first), stop
//! and restart (dependents first), kill, rm, and finding one service's container for exec,
//! port and the like. Services run in parallel where the order allows. Creates nothing.

use super::ComposeError;
use super::converge;
use super::model::Project;
use super::order::{self, Outcome};
use super::project_state::{self, ProjectContainer};
use super::report::{Kind, Report};
use crate::engine::Context;
use crate::engine::container::lifecycle;
use std::collections::BTreeMap;

/// The project's service containers (not one-off) of `services` (all when empty); a named
/// service the project lacks is an error.
pub fn containers(ctx: &Context, p: &Project, services: &[String]) -> Result<Vec<ProjectContainer>, ComposeError> {
    for s in services {
        if !p.services.contains_key(s) && !p.disabled_services.contains_key(s) && !p.services.is_empty() {
            return Err(ComposeError::Project(format!("no such service: \"{s}\"")));
        }
    }
    let all = project_state::containers(ctx, &p.name)?;
    Ok(all.into_iter().filter(|c| !c.oneoff && (services.is_empty() || services.contains(&c.service))).collect())
}

/// Runs `f` on every container, a service's after those of the services it depends on (or,
/// `reverse`, of those that depend on it; disabled services count too); containers of one
/// service in parallel.
pub(super) fn ordered<F>(p: &Project, list: Vec<ProjectContainer>, reverse: bool, f: F) -> Result<(), ComposeError>
where
    F: Fn(&ProjectContainer) -> Result<(), ComposeError> + Sync,
{
    let mut by_service: BTreeMap<String, Vec<ProjectContainer>> = BTreeMap::new();
    for c in list {
        by_service.entry(c.service.clone()).or_default().push(c);
    }
    let mut waits: BTreeMap<String, Vec<String>> = by_service.keys().map(|k| (k.clone(), Vec::new())).collect();
    let services = p.services.values().chain(p.disabled_services.values());
    for s in services.filter(|s| by_service.contains_key(&s.name)) {
        for dep in s.dependencies().filter(|d| by_service.contains_key(*d)) {
            let (waiter, waited) = if reverse { (dep, s.name.as_str()) } else { (s.name.as_str(), dep) };
            if let Some(w) = waits.get_mut(waiter) {
                w.push(waited.to_string());
            }
        }
    }
    let (by_service, f) = (&by_service, &f);
    let outcomes = order::run(&waits, |name: &str| -> Result<(), ComposeError> {
        std::thread::scope(|scope| {
            let list = by_service.get(name).map(Vec::as_slice).unwrap_or_default();
            let handles: Vec<_> = list.iter().map(|c| scope.spawn(move || f(c))).collect();
            for h in handles {
                h.join().unwrap_or_else(|_| Err(ComposeError::Failed("a worker thread panicked".into())))?;
            }
            Ok(())
        })
    });
    for (_, o) in outcomes {
        if let Outcome::Failed(e) = o {
            return Err(e);
        }
    }
    Ok(())
}

/// Starts the stopped containers of `services`.
pub fn start(ctx: &Context, p: &Project, services: &[String], r: &dyn Report) -> Result<(), ComposeError> {
    let list = containers(ctx, p, services)?;
    if list.is_empty() {
        return Err(ComposeError::Project("no containers to start; create them with kiste compose up".into()));
    }
    ordered(p, list, false, |c| {
        if c.c.is_running() {
            return Ok(());
        }
        let s = p.service(&c.service).cloned().unwrap_or_default();
        converge::start(ctx, &super::Service { name: c.service.clone(), ..s }, &c.c, r).map(|_| ())
    })
}

/// Stops the running containers of `services` (dependents first).
pub fn stop(
    ctx: &Context,
    p: &Project,
    services: &[String],
    timeout: Option<u64>,
    r: &dyn Report,
) -> Result<(), ComposeError> {
    let list = containers(ctx, p, services)?;
    ordered(p, list, true, |c| {
        if !c.c.is_running() {
            return Ok(());
        }
        converge::stop(ctx, &c.c, timeout, r)
    })
}

/// Restarts the containers of `services` (stopped ones are started).
pub fn restart(
    ctx: &Context,
    p: &Project,
    services: &[String],
    timeout: Option<u64>,
    r: &dyn Report,
) -> Result<(), ComposeError> {
    let list = containers(ctx, p, services)?;
    ordered(p, list, false, |c| converge::restart(ctx, &c.c, timeout, r))
}

/// Freezes the running containers of `services` (`undo`: thaws the paused ones).
pub fn pause(ctx: &Context, p: &Project, services: &[String], undo: bool, r: &dyn Report) -> Result<(), ComposeError> {
    use crate::engine::container::{State, pause};
    let (from, doing, done) =
        if undo { (State::Paused, "Unpausing", "Unpaused") } else { (State::Running, "Pausing", "Paused") };
    for c in containers(ctx, p, services)?.iter().filter(|c| c.c.state == from) {
        r.event(Kind::Container, &c.c.name, doing);
        match undo {
            true => pause::unpause(ctx, &c.c.id)?,
            false => pause::pause(ctx, &c.c.id)?,
        };
        r.event(Kind::Container, &c.c.name, done);
    }
    Ok(())
}

/// Sends `signal` to the running containers of `services`.
pub fn kill(ctx: &Context, p: &Project, services: &[String], signal: i32, r: &dyn Report) -> Result<(), ComposeError> {
    let list = containers(ctx, p, services)?;
    if !list.iter().any(|c| c.c.is_running()) {
        return Err(ComposeError::Project("no running containers to kill".into()));
    }
    for c in list.iter().filter(|c| c.c.is_running()) {
        r.event(Kind::Container, &c.c.name, "Killing");
        lifecycle::kill(ctx, &c.c.id, signal)?;
        r.event(Kind::Container, &c.c.name, "Killed");
    }
    Ok(())
}

/// The stopped containers `rm` would remove (one-off ones included), after stopping the
/// running ones with `stop_first`.
pub fn removable(
    ctx: &Context,
    p: &Project,
    services: &[String],
    stop_first: bool,
    r: &dyn Report,
) -> Result<Vec<ProjectContainer>, ComposeError> {
    if stop_first {
        stop(ctx, p, services, None, r)?;
    }
    let all = project_state::containers(ctx, &p.name)?;
    Ok(all
        .into_iter()
        .filter(|c| !c.c.is_running() && (services.is_empty() || services.contains(&c.service)))
        .collect())
}

/// Removes the given (stopped) containers.
pub fn remove(ctx: &Context, list: &[ProjectContainer], volumes: bool, r: &dyn Report) -> Result<(), ComposeError> {
    for c in list {
        converge::remove(ctx, &c.c, None, volumes, r)?;
    }
    Ok(())
}

/// Container number `index` (from 1) of `service`, for exec, port and the like.
pub fn one(ctx: &Context, p: &Project, service: &str, index: u32) -> Result<ProjectContainer, ComposeError> {
    let list = containers(ctx, p, &[service.to_string()])?;
    list.into_iter().find(|c| c.number == index).ok_or_else(|| {
        ComposeError::service(
            service,
            format!("has no container number {index}; start it with kiste compose up {service}"),
        )
    })
}
