//! What commands mean, independent of the terminal: images (reference, registry, pull,
//! store) and host information. Must not parse argv; prints only progress that a caller asked for.

pub mod container;
pub mod image;
pub mod info;
use crate::state::{Paths, db, lock::FileLock};
use crate::storage::idmap::IdMapping;
use crate::storage::layers::LayerStore;
use rusqlite::Connection;

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error(transparent)]
    Paths(#[from] crate::state::paths::PathError),
    #[error(transparent)]
    Db(#[from] db::DbError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error(transparent)]
    IdMap(#[from] crate::storage::idmap::IdMapError),
    #[error("cannot lock {path}: {source}")]
    Lock { path: String, source: std::io::Error },
}

/// Everything a command needs to reach the user's state.
pub struct Context {
    pub paths: Paths,
    pub idmap: IdMapping,
}

impl Context {
    /// Finds and creates the user's state directories.
    pub fn new() -> Result<Context, ContextError> {
        let paths = Paths::discover()?;
        paths.ensure()?;
        let idmap = IdMapping::current()?;
        Ok(Context { paths, idmap })
    }

    pub fn db(&self) -> Result<Connection, ContextError> {
        Ok(db::open(&self.paths.db_path())?)
    }

    pub fn layer_store(&self) -> Result<LayerStore, ContextError> {
        for d in [self.paths.layers(), self.paths.blobs(), self.paths.locks()] {
            crate::state::paths::make_private_dir(&d)?;
        }
        Ok(LayerStore::new(self.paths.layers(), self.paths.locks(), self.idmap.clone()))
    }

    fn store_lock_path(&self) -> std::path::PathBuf {
        self.paths.storage().join("store.lock")
    }

    /// Held while layers are added and recorded: many writers at once.
    pub fn store_lock_shared(&self) -> Result<FileLock, ContextError> {
        crate::state::paths::make_private_dir(&self.paths.storage())?;
        let p = self.store_lock_path();
        FileLock::shared(&p).map_err(|source| ContextError::Lock { path: p.display().to_string(), source })
    }

    /// Held while layers are deleted: excludes concurrent adds.
    pub fn store_lock_exclusive(&self) -> Result<FileLock, ContextError> {
        crate::state::paths::make_private_dir(&self.paths.storage())?;
        let p = self.store_lock_path();
        FileLock::exclusive(&p).map_err(|source| ContextError::Lock { path: p.display().to_string(), source })
    }

    /// The XDG_RUNTIME_DIR-like base (where containers' auth.json lives).
    pub fn runtime_base(&self) -> Option<&std::path::Path> {
        if self.paths.rootless { self.paths.runtime.parent() } else { None }
    }
}
