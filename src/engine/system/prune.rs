//! `system prune`: every container that does not run, then the dangling images (all images
//! no container uses with `all`), then the store's garbage — layers and blobs no image owns,
//! and container directories without a record — and, with `volumes`, every unused volume.

use super::SystemError;
use crate::engine::Context;
use crate::engine::container::prune::{self as container_prune, PruneReport};
use crate::engine::image::manage;

/// What `system prune` removed and how many bytes that freed.
#[derive(Debug)]
pub struct SystemPruneReport {
    pub containers: PruneReport,
    pub images: Vec<manage::Pruned>,
    pub volumes: Vec<crate::engine::volume::prune::Pruned>,
    /// Volumes that could not be removed, one line each.
    pub volume_errors: Vec<String>,
    pub reclaimed: u64,
}

pub fn prune(ctx: &Context, all: bool, volumes: bool) -> Result<SystemPruneReport, SystemError> {
    let containers = container_prune::prune(ctx, &[], true)?;
    let images = manage::prune(ctx, all)?;
    {
        let _lock = ctx.store_lock_exclusive()?;
        container_prune::sweep_leftovers(ctx, &*ctx.db()?)?;
    }
    let (volumes, volume_errors) = match volumes {
        true => {
            crate::engine::volume::prune::prune(ctx, &[]).map_err(crate::engine::container::ContainerError::from)?
        }
        false => (Vec::new(), Vec::new()),
    };
    let reclaimed = containers.removed.iter().map(|c| c.size).sum::<u64>()
        + images.iter().map(|i| i.reclaimed).sum::<u64>()
        + volumes.iter().map(|v| v.size).sum::<u64>();
    Ok(SystemPruneReport { containers, images, volumes, volume_errors, reclaimed })
}
