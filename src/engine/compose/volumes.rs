//! A project's named volumes: `up` creates the non-external ones (labelled with the project
//! and key, an existing one kept), `down -v` removes those labelled with the project and the
//! anonymous volumes of the containers it removed. Uses the volume engine; touches no
//! containers.

use super::ComposeError;
use super::model::Project;
use super::naming;
use super::report::{Kind, Report};
use crate::engine::Context;
use crate::engine::container::mounts::KeptMount;
use crate::engine::volume::{self, VolumeError};

/// Creates the project's volumes that do not exist yet; an external one must exist.
pub fn ensure(ctx: &Context, p: &Project, r: &dyn Report) -> Result<(), ComposeError> {
    for (key, v) in &p.volumes {
        let exists = match volume::get(&*ctx.db()?, &v.name) {
            Ok(_) => true,
            Err(VolumeError::NotFound(_)) => false,
            Err(e) => return Err(failed(e)),
        };
        if exists {
            continue;
        }
        if v.external.external {
            return Err(ComposeError::Project(format!(
                "volumes.{key}: external volume \"{}\" not found; create it with kiste volume create",
                v.name
            )));
        }
        r.event(Kind::Volume, &v.name, "Creating");
        let mut labels = v.labels.clone();
        labels.extend(naming::volume_labels(&p.name, key));
        let o = volume::CreateOptions {
            name: Some(v.name.clone()),
            driver: v.driver.clone().unwrap_or_default(),
            labels,
            options: v.driver_opts.clone(),
            anonymous: false,
            ignore: true,
        };
        volume::create(ctx, &o).map_err(failed)?;
        r.event(Kind::Volume, &v.name, "Created");
    }
    Ok(())
}

/// `down -v`: the volumes labelled with project `project`, and the anonymous ones of the
/// removed containers (`mounts`) no container uses any more.
pub fn remove(ctx: &Context, project: &str, mounts: &[KeptMount], r: &dyn Report) -> Result<(), ComposeError> {
    for w in volume::remove_anonymous_of(ctx, mounts) {
        r.warn(&w);
    }
    let label = format!("{}={project}", naming::PROJECT);
    let ours: Vec<String> = volume::list(&*ctx.db()?)
        .map_err(failed)?
        .into_iter()
        .filter(|v| v.has_label(&label))
        .map(|v| v.name)
        .collect();
    for name in ours {
        r.event(Kind::Volume, &name, "Removing");
        match volume::remove(ctx, &name, false) {
            Ok(()) | Err(VolumeError::NotFound(_)) => r.event(Kind::Volume, &name, "Removed"),
            Err(e) => r.warn(&format!("cannot remove volume {name}: {e}")),
        }
    }
    Ok(())
}

fn failed(e: VolumeError) -> ComposeError {
    ComposeError::Failed(e.to_string())
}
