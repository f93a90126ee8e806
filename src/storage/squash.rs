//! `build --squash`, `commit --squash` (and a vfs container's root, `merged`): layers merged into one, in the
//! user namespace — each layer written as a tar by the one tar writer and applied in order by
//! the safe applier into an empty directory (so a later layer's whiteouts remove what earlier
//! ones added, and stay as whiteouts for what lies below), which then becomes a layer.
//! Knows nothing of images.

use super::StorageError;
use super::layerio::CommittedLayer;
use super::layers::LayerStore;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Serialize, Deserialize)]
pub struct SquashRequest {
    /// The layers to merge, bottom first.
    pub layers: Vec<PathBuf>,
    /// An empty directory on the store's file system: the merged layer.
    pub dest: PathBuf,
    pub rootless: bool,
    /// Whiteouts remove what they hide instead of being kept: the result is a merged tree
    /// (a vfs container's root), not a layer.
    #[serde(default)]
    pub merged: bool,
}

impl LayerStore {
    /// Applies `layers` (bottom first) in order into the empty directory `dest` through the
    /// storage helper; `merged` as in [`SquashRequest`].
    pub fn squash_into(&self, layers: Vec<PathBuf>, dest: &Path, merged: bool) -> Result<(), StorageError> {
        let req = SquashRequest { layers, dest: dest.to_path_buf(), rootless: !self.idmap.is_rootful(), merged };
        let input = serde_json::to_vec(&req).map_err(|e| StorageError::Helper(e.to_string()))?;
        let answer = super::layers::run_helper(&self.idmap, &["squash".into()], Some(&input))?;
        match String::from_utf8_lossy(&answer).trim() {
            "ok" => Ok(()),
            why => Err(StorageError::Helper(why.to_string())),
        }
    }

    /// The stored layers `diff_ids` (bottom first) as one new layer; `merged` drops the
    /// whiteouts (right when nothing lies below the first).
    pub fn squash_layers(
        &self,
        diff_ids: &[String],
        merged: bool,
        timestamp: Option<i64>,
    ) -> Result<CommittedLayer, StorageError> {
        let scratch = self.scratch()?;
        self.squash_into(diff_ids.iter().map(|d| self.diff_dir(d)).collect(), &scratch.diff(), merged)?;
        self.commit_dir(&scratch.diff(), timestamp)
    }
}

fn squash(req: &SquashRequest) -> Result<(), String> {
    for layer in &req.layers {
        let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
        let dir = layer.clone();
        let writer = std::thread::spawn(move || {
            let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::from(w));
            let opts = super::tarwrite::WriteOptions::default();
            let r = super::tarwrite::write_tree::<_, Vec<u8>>(&dir, &mut out, &opts, None)
                .map_err(|e| e.to_string())
                .and_then(|_| out.flush().map_err(|e| e.to_string()));
            r.map_err(|e| format!("{}: {e}", dir.display()))
        });
        let opts =
            super::apply::ApplyOptions { rootless: req.rootless, uid_count: None, gid_count: None, owners: true };
        let apply = if req.merged { super::apply::apply_tar_merged } else { super::apply::apply_tar };
        let applied = apply(&req.dest, std::fs::File::from(r), opts);
        let written = writer.join().map_err(|_| "the tar writer panicked".to_string())?;
        written?;
        applied.map_err(|e| format!("{}: {e}", layer.display()))?;
    }
    Ok(())
}

/// Helper side: a SquashRequest on stdin, "ok" or the error on stdout.
pub fn helper_squash() -> std::process::ExitCode {
    let mut input = Vec::new();
    let r = std::io::stdin()
        .read_to_end(&mut input)
        .map_err(|e| e.to_string())
        .and_then(|_| serde_json::from_slice::<SquashRequest>(&input).map_err(|e| format!("bad request: {e}")))
        .and_then(|req| squash(&req));
    let msg = r.as_ref().map(|_| "ok".to_string()).unwrap_or_else(|e| e.clone());
    let _ = std::io::stdout().write_all(msg.as_bytes());
    if r.is_ok() { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::from(1) }
}
