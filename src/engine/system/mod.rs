//! The `system` commands: disk usage (`df`), pruning what nothing uses (`prune`), and
//! removing the user's whole store (`reset`). They compose the container and image modules
//! and own no records of their own.

pub mod df;
pub mod prune;
pub mod reset;

use crate::engine::ContextError;
use crate::engine::container::ContainerError;
use crate::engine::image::manage::ManageError;
use crate::engine::image::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum SystemError {
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error(transparent)]
    Container(#[from] ContainerError),
    #[error(transparent)]
    Manage(#[from] ManageError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: String, source: std::io::Error },
}

impl SystemError {
    pub fn io(what: &'static str, path: impl AsRef<std::path::Path>, source: std::io::Error) -> SystemError {
        SystemError::Io { what, path: path.as_ref().display().to_string(), source }
    }
}
