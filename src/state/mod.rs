//! The user's state: where it lives (XDG paths and their fallbacks), the SQLite
//! database of images, tags and layers, and file locks. Knows nothing of registries or tar.

pub mod containers_conf;
pub mod db;
pub mod dbpool;
pub mod lock;
pub mod paths;
pub mod stamp;
pub mod storage_conf;

pub use paths::Paths;
