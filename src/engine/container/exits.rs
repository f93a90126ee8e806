//! Exit codes of `--rm` containers, kept a while after their record is gone (as conmon's exit
//! files): `$XDG_RUNTIME_DIR/kiste/exits/<id>`, written by the monitor just before it removes
//! the container, read by `attach` and `wait` that were following it. Owns that directory only.

use crate::engine::Context;
use std::time::Duration;

/// How long an exit file is kept at least; older ones are swept by a later write.
const KEEP: Duration = Duration::from_secs(600);

fn dir(ctx: &Context) -> std::path::PathBuf {
    ctx.paths.runtime.join("exits")
}

/// Records `code` as container `id`'s exit and, one write in 16 (IDs are random hex, the
/// sweep lists and stats the whole directory), sweeps old records. Best effort: losing one
/// only costs a follower the code.
pub fn record(ctx: &Context, id: &str, code: u8) {
    let d = dir(ctx);
    if crate::state::paths::make_private_dir(&d).is_err() {
        return;
    }
    let _ = crate::util::replace_file(&d.join(id), format!("{code}\n").as_bytes(), 0o600);
    if !id.starts_with('0') {
        return;
    }
    let Ok(entries) = std::fs::read_dir(&d) else { return };
    for e in entries.flatten() {
        let old = e.metadata().and_then(|m| m.modified()).is_ok_and(|t| t.elapsed().is_ok_and(|a| a > KEEP));
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The exit code recorded for container `id` (full ID), if any.
pub fn recorded(ctx: &Context, id: &str) -> Option<u8> {
    if id.is_empty() || id.contains('/') {
        return None;
    }
    std::fs::read_to_string(dir(ctx).join(id)).ok()?.trim().parse().ok()
}
