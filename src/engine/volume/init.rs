//! A volume's first-mount preparation (Docker's copy-up) and the chowns `:U` and `uid=`ask
//! for, carried out by the storage helper in the user namespace. Whether the image has a
//! directory at the mount point is first asked of the layers in-process (the in-root walk
//! over the layer stack), so a volume mounted where the image has nothing costs no helper.

use super::{Volume, VolumeError};
use crate::engine::Context;
use crate::storage::inroot::{self, Node, layers::LayerStack};
use crate::storage::volcopy::{ChownRequest, IdCounts, InitJob as HelperJob, InitRequest};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// One volume mounted for the first time at `dest` of an image.
#[derive(Debug, Clone)]
pub struct InitJob {
    pub volume: Volume,
    pub dest: String,
    /// Copy the image directory's contents in (unless `nocopy`).
    pub copy: bool,
}

/// What the layers say about a path, read in-process.
enum Seen {
    NoDir,
    Dir,
    /// Unreadable here (a directory of a subordinate ID): the helper must look.
    Unknown,
}

fn seen(stack: &LayerStack, dest: &str) -> Seen {
    match inroot::walk(stack, Path::new(dest), None) {
        Ok(r) => match r.node {
            Node::Dir(_) => Seen::Dir,
            _ => Seen::NoDir,
        },
        Err(inroot::InRootError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => Seen::NoDir,
        Err(_) => Seen::Unknown,
    }
}

/// Prepares each job's volume unless that was done already (by a concurrent create, say):
/// the owner and mode of the image's directory at `dest`, and (with `copy`, into an empty
/// volume) its contents. `layers` are the image's layer directories, top first; with fewer
/// than two the overlay cannot be made, and the base directory is added by the caller.
pub fn prepare(ctx: &Context, jobs: &[InitJob], layers: &[PathBuf]) -> Result<(), VolumeError> {
    if jobs.is_empty() {
        return Ok(());
    }
    let mut locks = Vec::new();
    let mut todo = Vec::new();
    let stack = LayerStack::new(layers);
    let conn = ctx.db()?;
    for j in jobs {
        locks.push(super::lock_one(ctx, &j.volume.name)?);
        let v = super::get(&conn, &j.volume.name)?;
        if !v.needs_init {
            continue;
        }
        match seen(&stack, &j.dest) {
            Seen::NoDir => super::set_initialized(&conn, &v.name)?,
            Seen::Dir | Seen::Unknown => todo.push(j),
        }
    }
    if todo.is_empty() {
        return Ok(());
    }
    let mountpoint = ctx.paths.runtime.join(format!("mnt-{}", crate::util::nonce()));
    crate::state::paths::make_private_dir(&mountpoint).map_err(crate::engine::ContextError::from)?;
    let req = InitRequest {
        layers: layers.to_vec(),
        mountpoint: mountpoint.clone(),
        fuse: crate::storage::overlay::detect(&ctx.paths.storage(), &ctx.idmap)
            == crate::storage::overlay::OverlayMode::Fuse,
        ids: IdCounts::of(&ctx.idmap),
        jobs: todo.iter().map(|j| HelperJob { dest: j.dest.clone(), data: j.volume.data(ctx), copy: j.copy }).collect(),
    };
    let r = ask::<Vec<bool>>(ctx, "volume-init", &req);
    let _ = crate::storage::layers::remove_paths(&ctx.idmap, &[mountpoint]);
    r.map_err(|e| VolumeError::Invalid(format!("cannot prepare volume {} from the image: {e}", todo[0].volume.name)))?;
    for j in &todo {
        super::set_initialized(&conn, &j.volume.name)?;
    }
    drop(locks);
    Ok(())
}

/// Runs the helper verb `verb` with `req` as JSON on stdin; its JSON answer.
fn ask<T: for<'de> serde::Deserialize<'de>>(
    ctx: &Context,
    verb: &str,
    req: &impl serde::Serialize,
) -> Result<T, String> {
    let input = serde_json::to_vec(req).map_err(|e| e.to_string())?;
    let out = crate::storage::layers::run_helper(&ctx.idmap, &[OsString::from(verb)], Some(&input))
        .map_err(|e| e.to_string())?;
    serde_json::from_slice::<Result<T, String>>(&out).map_err(|e| format!("bad answer from the storage helper: {e}"))?
}

/// Chowns `paths` and everything below them to (uid, gid) as the store's user namespace
/// numbers them (0 is the user, N is subordinate ID N-1).
pub fn chown_paths(ctx: &Context, paths: &[PathBuf], uid: u32, gid: u32) -> Result<(), VolumeError> {
    if paths.is_empty() {
        return Ok(());
    }
    let req = ChownRequest { paths: paths.to_vec(), uid, gid };
    ask::<()>(ctx, "chown", &req).map_err(VolumeError::Invalid)
}

/// Gives a volume's `_data` (new, empty) the owner `uid=`/`gid=` asked for.
pub fn chown_data(ctx: &Context, v: &Volume, uid: u32, gid: u32) -> Result<(), VolumeError> {
    chown_paths(ctx, &[v.data(ctx)], uid, gid).map_err(|e| {
        VolumeError::Invalid(format!(
            "cannot give volume {} the owner {uid}:{gid} ({e}); the IDs must be within your subordinate range",
            v.name
        ))
    })
}
