//! What commands mean, independent of the terminal: images (reference, registry, pull,
//! store), containers, `system` commands and host information. Must not parse argv; prints
//! only progress that a caller asked for.

pub mod build;
pub mod compose;
pub mod container;
pub mod image;
pub mod info;
pub mod network;
pub mod system;
pub mod volume;
use crate::state::{Paths, db, lock::FileLock};
use crate::storage::idmap::IdMapping;
use crate::storage::layers::LayerStore;

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
        let mut idmap = IdMapping::current()?;
        idmap.shared_userns = Some(crate::storage::shared_userns::record_path(&paths.runtime));
        Ok(Context { paths, idmap })
    }

    /// A connection to the state database: this thread's pooled one when it is free.
    pub fn db(&self) -> Result<crate::state::dbpool::Pooled, ContextError> {
        Ok(crate::state::dbpool::take(&self.paths.db_path())?)
    }

    pub fn layer_store(&self) -> Result<LayerStore, ContextError> {
        for d in [self.paths.blobs(), self.paths.locks()] {
            crate::state::paths::make_private_dir(&d)?;
        }
        crate::state::paths::make_store_dir(&self.paths.layers())?;
        Ok(LayerStore::new(self.paths.layers(), self.paths.locks(), self.idmap.clone()))
    }

    /// Takes a lock on `name` in `dir` (created 0700 when missing) with `take`.
    fn lock<T>(
        dir: std::path::PathBuf,
        name: &str,
        take: impl FnOnce(&std::path::Path) -> std::io::Result<T>,
    ) -> Result<T, ContextError> {
        crate::state::paths::make_private_dir(&dir)?;
        let p = dir.join(name);
        take(&p).map_err(|source| ContextError::Lock { path: p.display().to_string(), source })
    }

    /// Held while layers are added and recorded, a container is created or started: many
    /// holders at once.
    pub fn store_lock_shared(&self) -> Result<FileLock, ContextError> {
        Self::lock(self.paths.storage(), "store.lock", FileLock::shared)
    }

    /// Held while layers are deleted, garbage is swept, the store is reset: excludes the above.
    pub fn store_lock_exclusive(&self) -> Result<FileLock, ContextError> {
        Self::lock(self.paths.storage(), "store.lock", FileLock::exclusive)
    }

    /// Held (shared) by every pull from start to end, downloads included. Garbage collection
    /// only tries it (and skips blobs and unrecorded layers while a pull may need them); a
    /// pull waits for it only while a collection runs.
    pub fn pull_in_flight(&self) -> Result<FileLock, ContextError> {
        Self::lock(self.paths.locks(), "pulls.lock", FileLock::shared)
    }

    /// `Some` when no pull is running (held while the caller collects garbage).
    pub fn no_pull_in_flight(&self) -> Result<Option<FileLock>, ContextError> {
        Self::lock(self.paths.locks(), "pulls.lock", FileLock::try_exclusive)
    }

    /// The XDG_RUNTIME_DIR-like base (where containers' auth.json lives).
    pub fn runtime_base(&self) -> Option<&std::path::Path> {
        self.paths.xdg_runtime.as_deref()
    }
}
