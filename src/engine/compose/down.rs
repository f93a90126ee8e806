//! `down`: the project's containers stopped (dependents before what they depend on, the rest
//! in parallel) and removed, one-off ones too; then its networks, with `-v` its volumes, with
//! `--rmi` its images. Containers of services no longer in the files are orphans: removed
//! with `--remove-orphans` (or when the project is known only by name), else named.

use super::converge;
use super::images::{self, RemoveImages};
use super::model::Project;
use super::project_state::{self, ProjectContainer};
use super::report::Report;
use super::{ComposeError, networks, verbs, volumes};
use crate::engine::Context;

#[derive(Debug, Clone, Default)]
pub struct DownOptions {
    pub remove_orphans: bool,
    /// `-v`: named volumes declared by the project and anonymous ones.
    pub volumes: bool,
    pub rmi: Option<RemoveImages>,
    /// Seconds a stop waits before SIGKILL (None: each container's own).
    pub timeout: Option<u64>,
    /// The project is known by name only (no compose file): everything labelled goes.
    pub by_name_only: bool,
}

/// Takes the project down.
pub fn down(ctx: &Context, p: &Project, o: &DownOptions, r: &dyn Report) -> Result<(), ComposeError> {
    let all = project_state::containers(ctx, &p.name)?;
    let known = |s: &str| p.services.contains_key(s) || p.disabled_services.contains_key(s);
    let (mut ours, orphans): (Vec<ProjectContainer>, Vec<ProjectContainer>) =
        all.into_iter().partition(|c| c.oneoff || known(&c.service));
    if o.remove_orphans || o.by_name_only {
        ours.extend(orphans);
    } else {
        warn_orphans(&orphans.iter().collect::<Vec<_>>(), r);
    }
    let mounts: Vec<_> = ours.iter().flat_map(|c| c.c.kept.mounts.iter().cloned()).collect();
    // Each service's containers after those of the services that depend on it.
    verbs::ordered(p, ours, true, |c| converge::remove(ctx, &c.c, o.timeout, o.volumes, r))?;
    let busy = networks::remove(ctx, &p.name, r)?;
    for n in busy {
        r.warn(&format!("network {n} is still in use by containers not removed (orphans); it was kept"));
    }
    if o.volumes {
        volumes::remove(ctx, &p.name, &mounts, r)?;
    }
    if let Some(which) = o.rmi {
        images::remove(ctx, p, which, r)?;
    }
    Ok(())
}

/// docker compose's warning naming the containers of services the files no longer have.
pub(super) fn warn_orphans(orphans: &[&ProjectContainer], r: &dyn Report) {
    if orphans.is_empty() {
        return;
    }
    let names: Vec<&str> = orphans.iter().map(|c| c.c.name.as_str()).collect();
    r.warn(&format!(
        "Found orphan containers ({}) for this project. If you removed or renamed this service in your compose \
         file, you can run this command with the --remove-orphans flag to clean it up.",
        names.join(", ")
    ));
}
