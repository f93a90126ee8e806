//! `commit`: a container's changes (its overlay upper dir) as a new layer on its image, with
//! `--change` instructions, author and message, recorded as a new image. The layer is written
//! by the one tar writer in the user namespace and unpacked by the safe applier, as an
//! imported tar is; the container keeps running and keeps its upper dir. `--squash` merges
//! the image's layers and that layer into one (storage::squash).

use super::{Container, ContainerError};
use crate::engine::Context;
use crate::engine::build::exec::{ImageFormat, Work, rfc3339};
use crate::engine::image::store;

pub struct CommitOptions {
    pub reference: Option<String>,
    pub changes: Vec<String>,
    pub message: Option<String>,
    pub author: Option<String>,
    pub format: ImageFormat,
    /// Merge the image's layers and the changes into one layer.
    pub squash: bool,
    /// Freeze a running container while its changes are read (`--pause`).
    pub pause: bool,
    /// The container's -v/--mount destinations become VOLUMEs of the image.
    pub include_volumes: bool,
}

/// Commits the container; returns the new image's ID. With `pause`, a running container is
/// frozen while its changes are read and thawed after, whatever the outcome.
pub fn commit(ctx: &Context, c: &Container, opts: &CommitOptions) -> Result<String, ContainerError> {
    if !opts.pause || c.state != super::State::Running {
        return commit_now(ctx, c, opts);
    }
    super::pause::pause(ctx, &c.id)?;
    let r = commit_now(ctx, c, opts);
    // The image exists whatever the thaw says (someone may have stopped or unpaused it).
    if let Err(e) = super::pause::unpause(ctx, &c.id) {
        crate::util::print_warning(format!("container {} after commit: {e}", c.name));
    }
    r
}

fn commit_now(ctx: &Context, c: &Container, opts: &CommitOptions) -> Result<String, ContainerError> {
    let name = match &opts.reference {
        Some(r) => Some(
            crate::engine::image::reference::local_name(r)
                .map_err(|e| ContainerError::Invalid(format!("invalid image name {r:?}: {e}")))?
                .to_string(),
        ),
        None => None,
    };
    let conn = ctx.db()?;
    let rec = store::resolve(&conn, &c.image_id)?;
    let mut work =
        Work::from_record(&rec, &store::layer_sizes(&conn)?).map_err(|e| ContainerError::Invalid(e.to_string()))?;
    let mut changes = opts.changes.clone();
    if opts.include_volumes {
        let dests = c
            .kept
            .mounts
            .iter()
            .filter(|m| m.kind == super::mounts::MountType::Volume || m.kind == super::mounts::MountType::Bind);
        changes.extend(dests.map(|m| format!("VOLUME {}", serde_json::json!([m.destination]))));
    }
    let changes = crate::engine::build::changes::parse(&changes, &work).map_err(ContainerError::Invalid)?;
    let _in_flight = ctx.pull_in_flight()?;
    let _lock = ctx.store_lock_shared()?;
    let layers = ctx.layer_store()?;
    let mut tars = layers.export_dir(&c.dir(ctx).join("diff"))?;
    let reader = tars.take_reader(0).ok_or_else(|| ContainerError::Invalid("the storage helper gave no tar".into()))?;
    let added = crate::engine::image::archive::add_layer(ctx, Box::new(reader), &format!("container {}", c.name));
    let written = tars.wait(0);
    let _ = tars.finish();
    written?;
    let (diff_id, size) = added?;
    let now = rfc3339(chrono::Utc::now().timestamp());
    work.id = None;
    work.add_layer(&diff_id, size);
    work.add_history_comment("", false, &now, opts.message.as_deref().unwrap_or_default());
    if opts.squash {
        // The image's layers and the changes as one layer (nothing below it: no whiteouts);
        // after the commit's own history entry, which stays the one entry with a layer.
        let ids: Vec<String> = work.layers.iter().map(|(d, _)| d.clone()).collect();
        let one = layers.squash_layers(&ids, true, None)?;
        work.squash_from(0, &one.diff_id, one.size);
    }
    if let Some(a) = &opts.author {
        work.set("author", serde_json::json!(a));
    }
    for ch in &changes {
        if let Some(w) = work.apply(ch, opts.format) {
            crate::util::print_warning(w);
        }
    }
    let mut conn = ctx.db()?;
    work.record(&mut conn, opts.format, name.as_deref()).map_err(|e| ContainerError::Invalid(e.to_string()))
}
