//! `compose run`: a one-off container of a service (`PROJECT-SERVICE-run-ID`, labelled
//! oneoff), its dependencies brought up first unless `--no-deps`, the service's command,
//! entrypoint, environment... overridden as asked; ports published only with
//! `--service-ports` or `-p`. Creates it; the caller starts it attached or detached.

use super::converge;
use super::images::{self, ImageOptions};
use super::model::Project;
use super::report::Report;
use super::run_options::{self, Instance};
use super::up::{self, UpOptions};
use super::{ComposeError, naming};
use crate::engine::Context;
use crate::engine::container::Container;

/// What `run` was asked for.
#[derive(Debug, Clone, Default)]
pub struct OneOff {
    pub service: String,
    /// Replaces the service's command when given.
    pub command: Option<Vec<String>>,
    pub entrypoint: Option<Vec<String>>,
    /// `-e KEY=VALUE` (added to the service's environment).
    pub env: Vec<(String, String)>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub name: Option<String>,
    /// `-p`: more ports to publish.
    pub publish: Vec<String>,
    /// `--service-ports`: publish the service's own ports.
    pub service_ports: bool,
    pub rm: bool,
    pub tty: bool,
    pub interactive: bool,
    /// `-l KEY=VALUE`.
    pub labels: Vec<String>,
    pub no_deps: bool,
    pub images: ImageOptions,
}

/// Brings up the dependencies, then creates the one-off container.
pub fn create(ctx: &Context, p: &Project, o: &OneOff, r: &dyn Report) -> Result<Container, ComposeError> {
    let full = p;
    let p = up::selected(full, std::slice::from_ref(&o.service), false)?;
    let mut s = p
        .service(&o.service)
        .cloned()
        .ok_or_else(|| ComposeError::Project(format!("no such service: \"{}\"", o.service)))?;
    let deps: Vec<String> = s.dependencies().filter(|d| p.services.contains_key(*d)).map(String::from).collect();
    if !o.no_deps && !deps.is_empty() {
        let uo = UpOptions { services: deps, start: true, images: o.images.clone(), ..UpOptions::default() };
        up::up(ctx, full, &uo, r)?;
    }
    if let Some(c) = &o.command {
        s.command = Some(c.clone());
    }
    if let Some(e) = &o.entrypoint {
        s.entrypoint = Some(e.clone());
    }
    for (k, v) in &o.env {
        s.environment.insert(k.clone(), Some(v.clone()));
    }
    s.user = o.user.clone().or(s.user);
    s.working_dir = o.workdir.clone().or(s.working_dir);
    s.tty = o.tty;
    s.stdin_open = o.interactive;
    let image_id = images::ensure(ctx, &p, &[&s], &o.images, r)?.remove(&s.name).unwrap_or_default();
    let inst = Instance {
        name: o.name.clone().unwrap_or_else(|| naming::oneoff_name(&p.name, &s.name)),
        number: 1,
        oneoff: true,
        publish_ports: o.service_ports,
        image: image_id.clone(),
        image_id,
        network_peer: peer(ctx, &p, &s)?,
    };
    let mut m = run_options::map(&p, &s, &inst)?;
    for w in &m.warnings {
        r.warn(w);
    }
    m.opts.publish.extend(o.publish.iter().cloned());
    m.opts.rm = o.rm;
    m.opts.labels.extend(o.labels.iter().cloned());
    converge::create_mapped(ctx, &m)
}

/// For `network_mode: service:X`: X's first running container.
fn peer(ctx: &Context, p: &Project, s: &super::Service) -> Result<Option<String>, ComposeError> {
    let Some(super::NetworkMode::Service(x)) = &s.network_mode else { return Ok(None) };
    let list = super::verbs::containers(ctx, p, std::slice::from_ref(x))?;
    Ok(list.into_iter().find(|c| c.c.is_running()).map(|c| c.c.id))
}
