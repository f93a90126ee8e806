//! `system df`: what images, containers and volumes take on disk. An image's size is the sum
//! of its layers; shared layers count once in the images' total. A container's size is its
//! writable layer (the overlay upper directory); a volume's, its directory.

use super::SystemError;
use crate::engine::Context;
use crate::engine::container;
use crate::engine::image::store;
use std::collections::{HashMap, HashSet};

/// One image's share of the store.
#[derive(Debug)]
pub struct ImageUsage {
    pub id: String,
    pub names: Vec<String>,
    pub created: chrono::DateTime<chrono::Utc>,
    pub size: u64,
    /// Bytes of its layers that other images use too.
    pub shared: u64,
    /// Bytes only this image uses.
    pub unique: u64,
    /// Containers made from it (any state).
    pub containers: usize,
}

/// One container's writable layer.
#[derive(Debug)]
pub struct ContainerUsage {
    pub container: container::Container,
    pub size: u64,
}

/// One volume's directory and how many containers use it.
#[derive(Debug)]
pub struct VolumeUsage {
    pub name: String,
    pub links: usize,
    pub size: u64,
}

/// Totals for one row of the summary table.
#[derive(Debug, Default, Clone, Copy)]
pub struct Summary {
    pub total: usize,
    pub active: usize,
    pub size: u64,
    pub reclaimable: u64,
}

#[derive(Debug)]
pub struct Usage {
    pub images: Vec<ImageUsage>,
    pub containers: Vec<ContainerUsage>,
    pub volumes: Vec<VolumeUsage>,
    /// Diff ID -> uncompressed size.
    layer_sizes: HashMap<String, u64>,
    /// Image ID -> its diff IDs.
    layers_of: HashMap<String, Vec<String>>,
}

impl Usage {
    /// Images: active when a container uses them; all layers once; reclaimable are the
    /// layers no active image uses (what `system prune -a` would free).
    pub fn images_summary(&self) -> Summary {
        let all: HashSet<&String> = self.layers_of.values().flatten().collect();
        let active: HashSet<&String> = self
            .images
            .iter()
            .filter(|i| i.containers > 0)
            .filter_map(|i| self.layers_of.get(&i.id))
            .flatten()
            .collect();
        let bytes =
            |set: &mut dyn Iterator<Item = &&String>| set.map(|l| self.layer_sizes.get(*l).copied().unwrap_or(0)).sum();
        Summary {
            total: self.images.len(),
            active: self.images.iter().filter(|i| i.containers > 0).count(),
            size: bytes(&mut all.iter()),
            reclaimable: bytes(&mut all.iter().filter(|l| !active.contains(**l))),
        }
    }

    /// Volumes: active when a container uses them; the others are reclaimable.
    pub fn volumes_summary(&self) -> Summary {
        Summary {
            total: self.volumes.len(),
            active: self.volumes.iter().filter(|v| v.links > 0).count(),
            size: self.volumes.iter().map(|v| v.size).sum(),
            reclaimable: self.volumes.iter().filter(|v| v.links == 0).map(|v| v.size).sum(),
        }
    }

    /// Containers: active when running; the writable layers of the others are reclaimable.
    pub fn containers_summary(&self) -> Summary {
        Summary {
            total: self.containers.len(),
            active: self.containers.iter().filter(|c| c.container.is_running()).count(),
            size: self.containers.iter().map(|c| c.size).sum(),
            reclaimable: self.containers.iter().filter(|c| !c.container.is_running()).map(|c| c.size).sum(),
        }
    }
}

/// Gathers the usage of every image and container.
pub fn usage(ctx: &Context) -> Result<Usage, SystemError> {
    let conn = ctx.db()?;
    let layer_sizes = store::layer_sizes(&conn)?;
    let records = store::list(&conn)?;
    let containers = container::list_reconciled(ctx, &conn)?;
    drop(conn);
    let mut users: HashMap<&str, usize> = HashMap::new();
    for c in &containers {
        *users.entry(c.image_id.as_str()).or_default() += 1;
    }
    let mut images_per_layer: HashMap<&str, usize> = HashMap::new();
    for r in &records {
        for l in r.layers.iter().collect::<HashSet<_>>() {
            *images_per_layer.entry(l.as_str()).or_default() += 1;
        }
    }
    let images = records
        .iter()
        .map(|r| {
            let shared = r
                .layers
                .iter()
                .collect::<HashSet<_>>()
                .into_iter()
                .filter(|l| images_per_layer.get(l.as_str()).copied().unwrap_or(0) > 1)
                .map(|l| layer_sizes.get(l).copied().unwrap_or(0))
                .sum::<u64>();
            let size = r.size.max(0) as u64;
            ImageUsage {
                id: r.id.clone(),
                names: r.names.clone(),
                created: crate::engine::image::manage::created_at(r),
                size,
                shared,
                unique: size.saturating_sub(shared),
                containers: users.get(r.id.as_str()).copied().unwrap_or(0),
            }
        })
        .collect();
    let volumes = volume_usage(ctx, &containers)?;
    let uppers: Vec<_> = containers.iter().map(|c| c.dir(ctx).join("diff")).collect();
    let sizes = crate::storage::usage::tree_sizes(&ctx.idmap, &uppers)?;
    let containers =
        containers.into_iter().zip(sizes).map(|(container, size)| ContainerUsage { container, size }).collect();
    let layers_of = records.into_iter().map(|r| (r.id, r.layers)).collect();
    Ok(Usage { images, containers, volumes, layer_sizes, layers_of })
}

/// Every volume's size (its `_data`; 0 for tmpfs and bind volumes) and users.
fn volume_usage(ctx: &Context, containers: &[container::Container]) -> Result<Vec<VolumeUsage>, SystemError> {
    use crate::engine::volume;
    let list = volume::list(&*ctx.db()?).map_err(container::ContainerError::from)?;
    let dirs: Vec<_> = list
        .iter()
        .map(|v| match v.parsed().map(|p| p.backing) {
            Ok(volume::Backing::Dir) => v.data(ctx),
            _ => std::path::PathBuf::from("/nonexistent-kiste-volume"),
        })
        .collect();
    let sizes = crate::storage::usage::tree_sizes(&ctx.idmap, &dirs)?;
    Ok(list
        .into_iter()
        .zip(sizes)
        .map(|(v, size)| {
            let links =
                containers.iter().filter(|c| c.kept.mounts.iter().any(|m| m.volume_name() == Some(&v.name))).count();
            VolumeUsage { name: v.name, links, size }
        })
        .collect())
}
