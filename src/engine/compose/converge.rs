//! One service brought to its wanted state: as many containers as it has replicas, each made
//! from the service's current config (compared by the config-hash label and the image ID),
//! others recreated, extra ones removed, and (unless only creating) all of them started.
//! Replicas are handled in parallel. Uses engine::container's create and lifecycle only.

use super::model::{Project, Service};
use super::project_state::ProjectContainer;
use super::report::{Kind, Report};
use super::run_options::{self, Instance, Mapped};
use super::{ComposeError, naming};
use crate::engine::Context;
use crate::engine::container::create::{self, PullPolicy};
use crate::engine::container::{self as ctr, Container, lifecycle};
use crate::engine::image::platform::Platform;
use crate::engine::image::pull::PullOptions;

/// When existing containers are replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recreate {
    /// When their config or image changed.
    #[default]
    Diverged,
    /// Always (`--force-recreate`).
    Force,
    /// Never (`--no-recreate`).
    Never,
}

/// What to do with one service.
pub struct Target<'a> {
    pub project: &'a Project,
    pub service: &'a Service,
    pub image_id: String,
    pub replicas: u32,
    /// Its existing (not one-off) containers.
    pub existing: Vec<ProjectContainer>,
    /// For `network_mode: service:X`: X's first container.
    pub network_peer: Option<String>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    pub recreate: Recreate,
    /// Start the containers (false: `create`).
    pub start: bool,
    /// Seconds a stop waits before SIGKILL (None: the container's own).
    pub timeout: Option<u64>,
}

/// What converging did.
#[derive(Debug, Default)]
pub struct Converged {
    /// The service's containers afterwards, by number.
    pub containers: Vec<Container>,
    /// Some container was made anew from a changed config.
    pub recreated: bool,
    /// Containers that run now and did not before (started or recreated).
    pub started: Vec<String>,
}

/// What happens to replica `number`.
enum Action {
    Keep(ProjectContainer),
    Create(u32),
    Recreate(ProjectContainer),
}

/// Brings service `t` to its wanted state.
pub fn converge(ctx: &Context, t: &Target, o: &Options, r: &dyn Report) -> Result<Converged, ComposeError> {
    let hash = t.service.config_hash();
    let mut existing = t.existing.clone();
    existing.sort_by_key(|c| c.number);
    let mut actions = Vec::new();
    let mut extra = Vec::new();
    for c in existing {
        let wanted = c.number >= 1 && c.number <= t.replicas && !actions.iter().any(|a| number(a) == c.number);
        if !wanted {
            extra.push(c);
            continue;
        }
        let diverged = c.hash != hash || c.c.image_id != t.image_id;
        actions.push(match o.recreate {
            Recreate::Force => Action::Recreate(c),
            Recreate::Diverged if diverged => Action::Recreate(c),
            _ => Action::Keep(c),
        });
    }
    for n in 1..=t.replicas {
        if !actions.iter().any(|a| number(a) == n) {
            actions.push(Action::Create(n));
        }
    }
    actions.sort_by_key(number);
    // Scaled down: the highest numbers go first, before new ones may take their addresses.
    for c in extra.iter().rev() {
        remove(ctx, &c.c, o.timeout, false, r)?;
    }
    let results: Vec<Result<(Container, bool, bool), ComposeError>> = std::thread::scope(|scope| {
        let handles: Vec<_> = actions.into_iter().map(|a| scope.spawn(move || apply(ctx, t, o, a, r))).collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err(ComposeError::Failed("a worker thread panicked".into()))))
            .collect()
    });
    let mut out = Converged::default();
    for res in results {
        let (c, recreated, started) = res?;
        out.recreated |= recreated;
        if started {
            out.started.push(c.id.clone());
        }
        out.containers.push(c);
    }
    Ok(out)
}

fn number(a: &Action) -> u32 {
    match a {
        Action::Keep(c) | Action::Recreate(c) => c.number,
        Action::Create(n) => *n,
    }
}

/// Carries out one action; returns the container, whether it was recreated, and whether it
/// was started now.
fn apply(
    ctx: &Context,
    t: &Target,
    o: &Options,
    a: Action,
    r: &dyn Report,
) -> Result<(Container, bool, bool), ComposeError> {
    let (c, recreated) = match a {
        Action::Keep(c) => (c.c, false),
        Action::Create(n) => (create_one(ctx, t, n, r)?, false),
        Action::Recreate(old) => (recreate(ctx, t, o, old, r)?, true),
    };
    if !o.start {
        return Ok((c, recreated, false));
    }
    if c.is_running() {
        r.event(Kind::Container, &c.name, "Running");
        return Ok((c, recreated, false));
    }
    let c = start(ctx, t.service, &c, r)?;
    Ok((c, recreated, true))
}

/// Starts a created or stopped container of service `s`; a failure names the service.
pub fn start(ctx: &Context, s: &Service, c: &Container, r: &dyn Report) -> Result<Container, ComposeError> {
    r.event(Kind::Container, &c.name, "Starting");
    match lifecycle::start(ctx, c, false, &[]) {
        Ok(_) => {}
        Err(ctr::ContainerError::Exec { code, message }) => {
            return Err(ComposeError::service(
                &s.name,
                format!("container {} failed to start: {message} (exit code {code})", c.name),
            ));
        }
        Err(e) => return Err(ComposeError::service(&s.name, format!("container {} failed to start: {e}", c.name))),
    }
    r.event(Kind::Container, &c.name, "Started");
    Ok(ctr::resolve(&*ctx.db()?, &c.id)?)
}

/// The options of replica `number` (the mapping, with this container's name and image).
pub fn mapped(t: &Target, number: u32, name: String) -> Result<Mapped, ComposeError> {
    let inst = Instance {
        name,
        number,
        oneoff: false,
        publish_ports: true,
        image: t.image_id.clone(),
        image_id: t.image_id.clone(),
        network_peer: t.network_peer.clone(),
    };
    run_options::map(t.project, t.service, &inst)
}

/// Creates a container from mapped options: host directories of binds made, every
/// network's aliases recorded.
pub fn create_mapped(ctx: &Context, m: &Mapped) -> Result<Container, ComposeError> {
    for d in &m.host_dirs {
        if !d.exists() {
            std::fs::create_dir_all(d)
                .map_err(|e| ComposeError::Failed(format!("cannot create {} for a bind mount: {e}", d.display())))?;
        }
    }
    let pull =
        PullOptions { platform: Platform::host(), tls_verify: None, creds: None, authfile: None, progress: false };
    let mut c = create::create(ctx, &m.opts, PullPolicy::Never, &pull)?;
    // The engine's create gives aliases and an address on the first network only.
    if m.networks.len() > 1 {
        c.kept.networks = m.networks.clone();
        ctr::set_kept(&*ctx.db()?, &c.id, &c.kept)?;
    }
    Ok(c)
}

fn create_one(ctx: &Context, t: &Target, number: u32, r: &dyn Report) -> Result<Container, ComposeError> {
    let name = naming::container_name(&t.project.name, t.service, number);
    let m = mapped(t, number, name.clone())?;
    r.event(Kind::Container, &name, "Creating");
    let c = create_mapped(ctx, &m).map_err(|e| ComposeError::service(&t.service.name, e))?;
    r.event(Kind::Container, &name, "Created");
    Ok(c)
}

/// Replaces `old` by a container from the current config: old stopped and moved aside, new
/// created (old renamed back when that fails), old removed.
fn recreate(
    ctx: &Context,
    t: &Target,
    o: &Options,
    old: ProjectContainer,
    r: &dyn Report,
) -> Result<Container, ComposeError> {
    let name = old.c.name.clone();
    r.event(Kind::Container, &name, "Recreate");
    lifecycle::stop(ctx, &old.c.id, o.timeout)?;
    wait_ports_released(&old.c.kept.ports);
    let aside = format!("{}_{name}", crate::util::short_id(&old.c.id));
    lifecycle::rename(ctx, &old.c.id, &aside)?;
    let m = mapped(t, old.number, naming::container_name(&t.project.name, t.service, old.number));
    let created = m.and_then(|m| create_mapped(ctx, &m));
    let c = match created {
        Ok(c) => c,
        Err(e) => {
            let _ = lifecycle::rename(ctx, &old.c.id, &name);
            return Err(ComposeError::service(&t.service.name, e));
        }
    };
    lifecycle::remove(ctx, &old.c.id, true)?;
    r.event(Kind::Container, &name, "Recreated");
    Ok(c)
}

/// The stopped container's port helpers let go of its host ports a moment after it exits;
/// the new container publishes the same ports, so wait for them (at most 5 s, then let create
/// report what is still taken).
fn wait_ports_released(ports: &[crate::engine::network::PortMapping]) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(5);
    while crate::engine::network::ports::check_free(ports, false).is_err() && std::time::Instant::now() < until {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Stops (gracefully, `timeout` or its own) and removes a container; with `volumes` its
/// anonymous volumes too.
pub fn remove(
    ctx: &Context,
    c: &Container,
    timeout: Option<u64>,
    volumes: bool,
    r: &dyn Report,
) -> Result<(), ComposeError> {
    if c.is_running() {
        stop(ctx, c, timeout, r)?;
    }
    r.event(Kind::Container, &c.name, "Removing");
    match lifecycle::remove_with(ctx, &c.id, true, volumes, None) {
        Ok(_) | Err(ctr::ContainerError::NotFound(_)) => {}
        Err(e) => return Err(e.into()),
    }
    r.event(Kind::Container, &c.name, "Removed");
    Ok(())
}

/// Stops a container gracefully (`timeout` or its own), told as `Stopping` and `Stopped`.
pub fn stop(ctx: &Context, c: &Container, timeout: Option<u64>, r: &dyn Report) -> Result<(), ComposeError> {
    r.event(Kind::Container, &c.name, "Stopping");
    lifecycle::stop(ctx, &c.id, timeout)?;
    r.event(Kind::Container, &c.name, "Stopped");
    Ok(())
}

/// Restarts a container (a stopped one is started), told as `Restarting` and `Started`.
pub fn restart(ctx: &Context, c: &Container, timeout: Option<u64>, r: &dyn Report) -> Result<(), ComposeError> {
    r.event(Kind::Container, &c.name, "Restarting");
    lifecycle::restart(ctx, &c.id, timeout)?;
    r.event(Kind::Container, &c.name, "Started");
    Ok(())
}
