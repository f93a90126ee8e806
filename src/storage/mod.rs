//! Layers on disk: the user's subordinate ID mapping, the user-namespace helper, the
//! safe tar applier, the tar writer and tar-split records, in-root file access, the layer
//! store (commit and export too), disk usage, and overlay mode detection. Knows nothing of
//! registries or the CLI.

pub mod apply;
pub mod buildcopy;
pub mod cproot;
pub mod helper;
pub mod idmap;
pub mod inroot;
pub mod layerio;
pub mod layers;
pub mod nsroot;
pub mod overlay;
pub mod shared_userns;
pub mod squash;
pub mod tarsplit;
pub mod tarwrite;
pub mod usage;
pub mod userns;
pub mod volcopy;

/// Errors of the storage layer, each naming the thing and the fix.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    #[error(transparent)]
    IdMap(#[from] idmap::IdMapError),
    #[error(transparent)]
    Userns(#[from] userns::UsernsError),
    #[error("{0}")]
    Helper(String),
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: String, source: std::io::Error },
}

impl StorageError {
    pub fn io(what: &'static str, path: impl AsRef<std::path::Path>, source: std::io::Error) -> StorageError {
        StorageError::Io { what, path: path.as_ref().display().to_string(), source }
    }
}
