//! `diff`: what a container changed in its root (its upper dir) or what an image's top layer
//! changed over the layers below, as Podman lists it: `A` added, `C` changed, `D` deleted,
//! one path each. The changes are read from the layer tar the one tar writer makes (in the
//! user namespace, so nothing is unreadable), and looked up in the lower layers in-root.

use super::{Container, ContainerError};
use crate::engine::Context;
use crate::engine::image::store::{self, ImageRecord};
use crate::storage::inroot::layers::LayerStack;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Added,
    Changed,
    Deleted,
}

impl ChangeKind {
    pub fn letter(self) -> char {
        match self {
            ChangeKind::Added => 'A',
            ChangeKind::Changed => 'C',
            ChangeKind::Deleted => 'D',
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub kind: ChangeKind,
    /// Absolute path inside the root.
    pub path: String,
}

/// What `kiste diff NAME` compares: the container of that name, else the image.
pub fn of(ctx: &Context, name: &str) -> Result<Vec<Change>, ContainerError> {
    let conn = ctx.db()?;
    match super::resolve(&conn, name) {
        Ok(c) => container(ctx, &c),
        Err(ContainerError::NotFound(_)) => {
            let rec = store::resolve(&conn, name).map_err(|_| {
                ContainerError::Invalid(format!(
                    "{name}: no container or image with this name or ID; see kiste ps -a and kiste images"
                ))
            })?;
            image(ctx, &rec)
        }
        Err(e) => Err(e),
    }
}

/// The container's changes over its image.
pub fn container(ctx: &Context, c: &Container) -> Result<Vec<Change>, ContainerError> {
    let conn = ctx.db()?;
    let rec = store::resolve(&conn, &c.image_id)?;
    let layers = ctx.layer_store()?;
    let lower = stack(&layers, &rec, rec.layers.len());
    let tars = layers.export_dir(&c.dir(ctx).join("diff"))?;
    read_changes(tars, &lower)
}

/// The image's top layer's changes over the layers below it.
pub fn image(ctx: &Context, rec: &ImageRecord) -> Result<Vec<Change>, ContainerError> {
    let Some(top) = rec.layers.last() else { return Ok(Vec::new()) };
    let _lock = ctx.store_lock_shared()?;
    let layers = ctx.layer_store()?;
    let lower = stack(&layers, rec, rec.layers.len() - 1);
    let tars = layers.export(std::slice::from_ref(top), true)?;
    read_changes(tars, &lower)
}

/// The first `n` layers of the image, top first.
fn stack(store: &crate::storage::layers::LayerStore, rec: &ImageRecord, n: usize) -> LayerStack {
    let dirs: Vec<PathBuf> = rec.layers.iter().take(n).rev().map(|d| store.diff_dir(d)).collect();
    LayerStack::new(&dirs)
}

fn read_changes(
    mut tars: crate::storage::layerio::LayerTars,
    lower: &LayerStack,
) -> Result<Vec<Change>, ContainerError> {
    let reader = tars.take_reader(0).ok_or_else(|| ContainerError::Invalid("the storage helper gave no tar".into()))?;
    let listed = list(reader, lower);
    let written = tars.wait(0);
    let _ = tars.finish();
    written?;
    listed
}

fn list(reader: std::fs::File, lower: &LayerStack) -> Result<Vec<Change>, ContainerError> {
    let bad = |e: std::io::Error| ContainerError::Invalid(format!("reading the changes: {e}"));
    let mut ar = tar::Archive::new(std::io::BufReader::with_capacity(1 << 20, reader));
    let mut out = Vec::new();
    for entry in ar.entries().map_err(bad)? {
        let entry = entry.map_err(bad)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        if let Some(c) = classify(&raw, lower) {
            out.push(c);
        }
    }
    Ok(out)
}

/// One tar entry as a change; None for the root itself and opaque-directory markers.
fn classify(raw: &str, lower: &LayerStack) -> Option<Change> {
    let rel = raw.trim_start_matches("./").trim_end_matches('/');
    if rel.is_empty() || rel == "." {
        return None;
    }
    let (dir, base) = rel.rsplit_once('/').unwrap_or(("", rel));
    if base == ".wh..wh..opq" {
        return None;
    }
    let join = |name: &str| if dir.is_empty() { format!("/{name}") } else { format!("/{dir}/{name}") };
    if let Some(gone) = base.strip_prefix(".wh.") {
        return Some(Change { kind: ChangeKind::Deleted, path: join(gone) });
    }
    let kind = if lower.exists(Path::new(rel)) { ChangeKind::Changed } else { ChangeKind::Added };
    Some(Change { kind, path: join(base) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_become_changes() {
        let base = std::env::temp_dir().join(format!("kiste-diff-{}", crate::util::nonce()));
        std::fs::create_dir_all(base.join("etc")).unwrap();
        std::fs::write(base.join("etc/passwd"), "root:x:0:0::/root:/bin/sh\n").unwrap();
        let lower = LayerStack::new(std::slice::from_ref(&base));
        let kinds: Vec<String> = ["./", "etc/", "etc/passwd", "etc/new", "etc/.wh.group", "tmp/", "tmp/.wh..wh..opq"]
            .iter()
            .filter_map(|e| classify(e, &lower))
            .map(|c| format!("{} {}", c.kind.letter(), c.path))
            .collect();
        assert_eq!(kinds, ["C /etc", "C /etc/passwd", "A /etc/new", "D /etc/group", "A /tmp"]);
        let _ = std::fs::remove_dir_all(&base);
    }
}
