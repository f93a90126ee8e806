//! `volume export` (the volume's contents as a tar, owners as the containers see them) and
//! `volume import` (a tar, plain or compressed, through the safe applier), both in the storage
//! helper: a volume's files may belong to subordinate IDs.

use super::{Backing, VolumeError};
use crate::engine::Context;
use crate::storage::volcopy::{IdCounts, PutFiles, PutRequest};
use std::ffi::OsString;
use std::process::Stdio;

fn dir_volume(ctx: &Context, name: &str) -> Result<super::Volume, VolumeError> {
    let v = super::get(&*ctx.db()?, name)?;
    match v.parsed()?.backing {
        Backing::Dir => Ok(v),
        _ => Err(VolumeError::Invalid(format!(
            "volume {name} is backed by a mount (type=tmpfs or bind), not a directory kiste keeps; copy its files through a container"
        ))),
    }
}

/// Runs a helper verb with `stdin` and `stdout`, its stderr captured: the first error line.
fn run(ctx: &Context, args: &[OsString], stdin: Stdio, stdout: Stdio) -> Result<Vec<u8>, VolumeError> {
    let mut all = vec![OsString::from(crate::cli::internal::STORAGE_HELPER)];
    all.extend_from_slice(args);
    let child =
        crate::storage::userns::spawn_process(&ctx.idmap, &ctx.idmap.maps(), &all, stdin, stdout, Stdio::piped(), &[])
            .map_err(crate::storage::StorageError::from)?;
    let out = child.wait_with_output().map_err(|e| VolumeError::io("cannot wait for", "the storage helper", e))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        let why = why.lines().next().unwrap_or("").trim_start_matches("Error: ").to_string();
        if !why.is_empty() {
            return Err(VolumeError::Invalid(why));
        }
    }
    Ok(out.stdout)
}

/// Writes volume `name`'s contents as a tar to `out`.
pub fn export(ctx: &Context, name: &str, out: Stdio) -> Result<(), VolumeError> {
    let v = dir_volume(ctx, name)?;
    run(ctx, &["vol-export".into(), v.data(ctx).into_os_string()], Stdio::null(), out)?;
    Ok(())
}

/// Extracts the tar read from `input` into volume `name` (owners as in the tar).
pub fn import(ctx: &Context, name: &str, input: Stdio) -> Result<Vec<String>, VolumeError> {
    let v = dir_volume(ctx, name)?;
    let _lock = super::lock_one(ctx, &v.name)?;
    let req = PutRequest {
        dir: v.data(ctx),
        ids: IdCounts::of(&ctx.idmap),
        files: PutFiles { owner: None, overwrite: true },
    };
    let json = serde_json::to_string(&req).map_err(|e| VolumeError::Invalid(e.to_string()))?;
    let out = run(ctx, &["put".into(), json.into()], input, Stdio::piped())?;
    let answer: Result<Vec<String>, String> = serde_json::from_slice(&out)
        .map_err(|e| VolumeError::Invalid(format!("bad answer from the storage helper: {e}")))?;
    let warnings = answer.map_err(|e| VolumeError::Invalid(format!("cannot import into volume {name}: {e}")))?;
    // Filled by hand: its first mount must not copy an image directory over it.
    super::set_initialized(&*ctx.db()?, &v.name)?;
    Ok(warnings)
}
