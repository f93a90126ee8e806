//! `up` (and `create`): the whole project converged. Everything the project asks for is
//! checked first (nothing exists yet when a key cannot be run); then images are built or
//! pulled, networks created, orphans dealt with, and each service converged in its own
//! thread once its dependencies meet their conditions (started, completed successfully,
//! healthy). A service that fails stops `up` with its name; what was made stays labelled, so
//! `down` removes it. Also `--wait`.

use super::converge::{self, Converged, Recreate, Target};
use super::images::{self, ImageOptions};
use super::model::{Project, Service};
use super::order::{self, Outcome};
use super::parts::Condition;
use super::project_state::{self, ProjectContainer};
use super::report::Report;
use super::run_options::{self, Instance};
use super::volumes;
use super::{ComposeError, networks};
use crate::engine::Context;
use crate::engine::container::health::{self, HealthConfig, Status};
use crate::engine::container::{Container, State, lifecycle};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What `service_healthy` waits beyond a dependency's own health check timing.
const HEALTH_MARGIN: Duration = Duration::from_secs(10);

/// What `up`/`create` were asked for.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// The services named on the command line (empty: all enabled ones).
    pub services: Vec<String>,
    /// `--no-deps`: do not bring up what the named services depend on.
    pub no_deps: bool,
    pub images: ImageOptions,
    pub recreate: Recreate,
    pub remove_orphans: bool,
    /// `--scale SERVICE=N`.
    pub scale: BTreeMap<String, u32>,
    /// false for `create` (`up --no-start`).
    pub start: bool,
    /// Seconds a stop waits before SIGKILL when containers are replaced.
    pub timeout: Option<u64>,
}

/// The project reduced to the services `o` selects.
pub fn selected(p: &Project, names: &[String], no_deps: bool) -> Result<Project, ComposeError> {
    let mut sel = p.clone();
    if !names.is_empty() {
        sel.select(names, !no_deps).map_err(ComposeError::Project)?;
    }
    Ok(sel)
}

/// Converges the project; returns the selected services' containers afterwards.
pub fn up(ctx: &Context, p: &Project, o: &UpOptions, r: &dyn Report) -> Result<Vec<ProjectContainer>, ComposeError> {
    let sel = selected(p, &o.services, o.no_deps)?;
    let order: Vec<&str> = sel.start_order();
    check(&sel, &order, o, r)?;
    let existing = project_state::containers(ctx, &p.name)?;
    orphans(ctx, p, &existing, o, r)?;
    let services: Vec<&Service> = order.iter().filter_map(|n| sel.service(n)).collect();
    let image_ids = images::ensure(ctx, &sel, &services, &o.images, r)?;
    networks::ensure(ctx, &sel, &networks::used(&sel, &order), r)?;
    volumes::ensure(ctx, &sel, r)?;
    let run = Run { ctx, p: &sel, o, r, image_ids, existing, done: Mutex::new(BTreeMap::new()) };
    let waits: BTreeMap<String, Vec<String>> = order
        .iter()
        .filter_map(|n| sel.service(n))
        .map(|s| {
            (s.name.clone(), s.dependencies().filter(|d| sel.services.contains_key(*d)).map(String::from).collect())
        })
        .collect();
    let outcomes = order::run(&waits, |name: &str| run.service(name));
    first_failure(&order, outcomes)?;
    let names: BTreeSet<&str> = order.iter().copied().collect();
    let after = project_state::containers(ctx, &p.name)?;
    Ok(after.into_iter().filter(|c| !c.oneoff && names.contains(c.service.as_str())).collect())
}

/// The error of the first service (in start order) that failed; one that was skipped because
/// of another names it.
fn first_failure(order: &[&str], mut outcomes: BTreeMap<String, Outcome<ComposeError>>) -> Result<(), ComposeError> {
    for name in order {
        if let Some(Outcome::Failed(e)) = outcomes.remove(*name) {
            return Err(e);
        }
    }
    for name in order {
        if let Some(Outcome::Skipped(dep)) = outcomes.get(*name) {
            return Err(ComposeError::service(name, format!("not started: its dependency \"{dep}\" failed")));
        }
    }
    Ok(())
}

/// Refuses, before anything is made, what cannot run: keys the engine lacks, a fixed
/// container name with several replicas. (Whether a `service_healthy` dependency has a health
/// check is known only once its container exists: the image's HEALTHCHECK counts.)
fn check(p: &Project, order: &[&str], o: &UpOptions, r: &dyn Report) -> Result<(), ComposeError> {
    for name in o.scale.keys() {
        if !p.services.contains_key(name) {
            return Err(ComposeError::Project(format!("--scale {name}: no such service: \"{name}\"")));
        }
    }
    let mut warned = BTreeSet::new();
    for s in order.iter().filter_map(|n| p.service(n)) {
        let inst = Instance { name: "check".into(), number: 1, publish_ports: true, ..Instance::default() };
        let m = match run_options::map(p, s, &inst) {
            // A peer container exists only once its service runs.
            Err(ComposeError::Service { .. }) if matches!(s.network_mode, Some(super::NetworkMode::Service(_))) => {
                continue;
            }
            r => r?,
        };
        for w in m.warnings {
            if warned.insert(w.clone()) {
                r.warn(&w);
            }
        }
        if s.container_name.is_some() && replicas(s, o) > 1 {
            return Err(ComposeError::Project(format!(
                "services.{}.container_name: a fixed name allows one container; remove it to scale the service",
                s.name
            )));
        }
    }
    Ok(())
}

fn replicas(s: &Service, o: &UpOptions) -> u32 {
    o.scale.get(&s.name).copied().unwrap_or_else(|| s.replicas())
}

/// Containers of services the project no longer has: removed with `--remove-orphans`,
/// otherwise named in a warning.
fn orphans(
    ctx: &Context,
    p: &Project,
    existing: &[ProjectContainer],
    o: &UpOptions,
    r: &dyn Report,
) -> Result<(), ComposeError> {
    let known = |s: &str| p.services.contains_key(s) || p.disabled_services.contains_key(s);
    let found: Vec<&ProjectContainer> = existing.iter().filter(|c| !c.oneoff && !known(&c.service)).collect();
    if found.is_empty() {
        return Ok(());
    }
    if !o.remove_orphans {
        super::down::warn_orphans(&found, r);
        return Ok(());
    }
    for c in found {
        converge::remove(ctx, &c.c, o.timeout, false, r)?;
    }
    Ok(())
}

/// One `up` in progress, shared by the services' threads.
struct Run<'a> {
    ctx: &'a Context,
    p: &'a Project,
    o: &'a UpOptions,
    r: &'a dyn Report,
    image_ids: BTreeMap<String, String>,
    existing: Vec<ProjectContainer>,
    /// What converging each finished service did.
    done: Mutex<BTreeMap<String, Converged>>,
}

impl Run<'_> {
    fn service(&self, name: &str) -> Result<(), ComposeError> {
        let s = self.p.service(name).ok_or_else(|| ComposeError::Project(format!("no such service: \"{name}\"")))?;
        if self.o.start {
            self.dependencies_ready(s)?;
        }
        let image_id = self.image_ids.get(name).cloned().unwrap_or_default();
        let t = Target {
            project: self.p,
            service: s,
            image_id,
            replicas: replicas(s, self.o),
            existing: self.existing.iter().filter(|c| !c.oneoff && c.service == name).cloned().collect(),
            network_peer: self.peer(s),
        };
        let co = converge::Options { recreate: self.o.recreate, start: self.o.start, timeout: self.o.timeout };
        let converged = converge::converge(self.ctx, &t, &co, self.r)?;
        if self.o.start {
            self.restart_if_dependency_recreated(s, &converged)?;
        }
        if let Ok(mut d) = self.done.lock() {
            d.insert(name.to_string(), converged);
        }
        Ok(())
    }

    /// The containers of a finished dependency.
    fn containers_of(&self, name: &str) -> Vec<Container> {
        self.done.lock().map(|d| d.get(name).map(|c| c.containers.clone()).unwrap_or_default()).unwrap_or_default()
    }

    fn peer(&self, s: &Service) -> Option<String> {
        match &s.network_mode {
            Some(super::NetworkMode::Service(x)) => self.containers_of(x).first().map(|c| c.id.clone()),
            _ => None,
        }
    }

    /// Waits until every dependency meets its condition (it has started by now).
    fn dependencies_ready(&self, s: &Service) -> Result<(), ComposeError> {
        for (dep, d) in &s.depends_on {
            if !self.p.services.contains_key(dep) {
                continue;
            }
            let at = format!("depends_on.{dep}");
            match d.condition {
                Condition::Started => {}
                Condition::CompletedSuccessfully => {
                    for c in self.containers_of(dep) {
                        let code = lifecycle::wait(self.ctx, &c.id)?;
                        if code != 0 {
                            return Err(ComposeError::service(
                                &s.name,
                                format!(
                                    "{at}: service \"{dep}\" did not complete successfully (container {} exited with code {code})",
                                    c.name
                                ),
                            ));
                        }
                    }
                }
                Condition::Healthy => {
                    for c in self.containers_of(dep) {
                        wait_healthy(self.ctx, &c, &s.name, dep, &at)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// `depends_on: {X: {restart: true}}`: when X was recreated, this service's containers
    /// that kept running are restarted.
    fn restart_if_dependency_recreated(&self, s: &Service, mine: &Converged) -> Result<(), ComposeError> {
        let recreated = |dep: &str| self.done.lock().map(|d| d.get(dep).is_some_and(|c| c.recreated)).unwrap_or(false);
        if !s.depends_on.iter().any(|(dep, d)| d.restart && recreated(dep)) {
            return Ok(());
        }
        for c in mine.containers.iter().filter(|c| !mine.started.contains(&c.id)) {
            converge::restart(self.ctx, c, self.o.timeout, self.r)?;
        }
        Ok(())
    }
}

/// Waits for container `c` (of service `dep`) to report healthy. It fails when the container
/// has no health check, turns unhealthy or exits first, or is still starting past
/// `healthy_bound` (its checks would have decided by then).
fn wait_healthy(ctx: &Context, c: &Container, service: &str, dep: &str, at: &str) -> Result<(), ComposeError> {
    let fail = |what: String| ComposeError::service(service, format!("{at}: condition service_healthy: {what}"));
    let Some(cfg) = &c.kept.health else {
        return Err(fail(format!("container {} has no health check; add a healthcheck to service \"{dep}\"", c.name)));
    };
    let bound = healthy_bound(cfg);
    let until = Instant::now() + bound;
    loop {
        let now = lifecycle::reload(ctx, &c.id)?;
        if now.state == State::Exited {
            let code = now.exit_code.map_or_else(|| "unknown".to_string(), |n| n.to_string());
            return Err(fail(format!(
                "container {} of service \"{dep}\" exited (code {code}) before it was healthy",
                c.name
            )));
        }
        match health::status(ctx, &now) {
            Some(Status::Healthy) => return Ok(()),
            Some(Status::Unhealthy) => {
                return Err(fail(format!("container {} of service \"{dep}\" is unhealthy", c.name)));
            }
            Some(Status::Starting) | None => {}
        }
        if Instant::now() >= until {
            return Err(fail(format!(
                "container {} of service \"{dep}\" is not healthy after {}s; check its healthcheck",
                c.name,
                bound.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// How long a running container can stay `starting`: its start period, then `retries`
/// failing checks (each an interval and a timeout) and one more, with a margin for the
/// monitor's timer.
fn healthy_bound(cfg: &HealthConfig) -> Duration {
    let round = cfg.interval().saturating_add(cfg.timeout());
    cfg.start_period().saturating_add(round.saturating_mul(cfg.retries.saturating_add(1))).saturating_add(HEALTH_MARGIN)
}

/// `up --wait`: every container runs (or ended with 0) and, when it has a health check, is
/// healthy, within `timeout`.
pub fn wait_ready(
    ctx: &Context,
    containers: &[ProjectContainer],
    timeout: Option<Duration>,
) -> Result<(), ComposeError> {
    let until = timeout.map(|t| Instant::now() + t);
    for pc in containers {
        loop {
            let c = lifecycle::reload(ctx, &pc.c.id)?;
            let healthy = match health::status(ctx, &c) {
                None | Some(Status::Healthy) => true,
                Some(Status::Unhealthy) => {
                    return Err(ComposeError::service(&pc.service, format!("container {} is unhealthy", c.name)));
                }
                Some(Status::Starting) => false,
            };
            match (c.is_running(), c.exit_code) {
                (true, _) if healthy => break,
                (false, Some(0)) => break,
                (false, code) if c.state != State::Created => {
                    return Err(ComposeError::service(
                        &pc.service,
                        format!("container {} exited with code {}", c.name, code.unwrap_or(-1)),
                    ));
                }
                _ => {}
            }
            if until.is_some_and(|u| Instant::now() >= u) {
                return Err(ComposeError::service(
                    &pc.service,
                    format!("container {} is not ready after the --wait-timeout", c.name),
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}
