//! Images in and out of files, without a registry: `save` (docker-archive, oci-archive,
//! oci-dir, docker-dir), `load` (those, and what `docker save` and `podman save` write) and
//! `import` (a root file system tar as a one-layer image). Archives are hostile input: they
//! are read by index, never unpacked by name; layers go through the store's safe applier.
//! Must not touch the terminal: the CLI says where bytes go and prints what comes back.

mod import;
mod layer;
mod load;
mod save;
mod tarfile;

pub use import::{ImportOptions, ImportSource, import};
pub use layer::add_layer;
pub use load::{LoadSource, load};
pub use save::{SaveOptions, SaveTarget, save};

/// The layouts `save` writes and `load` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArchiveFormat {
    /// `docker save`'s tar: manifest.json, `<id>.json`, `<diff id>.tar`.
    DockerArchive,
    /// An OCI image layout in a tar.
    OciArchive,
    /// An OCI image layout in a directory.
    OciDir,
    /// containers/image's `dir:` transport (a manifest and blobs named by digest).
    DockerDir,
}

impl ArchiveFormat {
    pub fn parse(s: &str) -> Option<ArchiveFormat> {
        match s {
            "docker-archive" => Some(ArchiveFormat::DockerArchive),
            "oci-archive" => Some(ArchiveFormat::OciArchive),
            "oci-dir" => Some(ArchiveFormat::OciDir),
            "docker-dir" => Some(ArchiveFormat::DockerDir),
            _ => None,
        }
    }

    pub fn is_dir(self) -> bool {
        matches!(self, ArchiveFormat::OciDir | ArchiveFormat::DockerDir)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error(transparent)]
    Context(#[from] crate::engine::ContextError),
    #[error(transparent)]
    Store(#[from] super::store::StoreError),
    #[error(transparent)]
    Blob(#[from] super::blobs::BlobError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error("{path}: {msg}")]
    Io { path: String, msg: String },
    /// The archive is not what it says: names the archive and what is wrong.
    #[error("{archive}: {msg}")]
    Invalid { archive: String, msg: String },
    #[error("{0}")]
    Usage(String),
}

impl ArchiveError {
    pub(crate) fn io(path: &std::path::Path, e: impl std::fmt::Display) -> ArchiveError {
        ArchiveError::Io { path: path.display().to_string(), msg: e.to_string() }
    }
}

pub(crate) const OCI_LAYOUT: &str = "oci-layout";
pub(crate) const OCI_INDEX: &str = "index.json";
pub(crate) const OCI_INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";
pub(crate) const OCI_CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
pub(crate) const DOCKER_CONFIG_TYPE: &str = "application/vnd.docker.container.image.v1+json";
pub(crate) const REF_NAME: &str = "org.opencontainers.image.ref.name";
pub(crate) const CONTAINERD_NAME: &str = "io.containerd.image.name";
pub(crate) const DIR_VERSION: &str = "Directory Transport Version: 1.1\n";
/// A config or manifest larger than this is not read (they are kilobytes).
pub(crate) const MAX_DOCUMENT: u64 = 16 << 20;
