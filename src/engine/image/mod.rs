//! Images: reference parsing and short-name resolution, registries.conf, credentials,
//! the registry client (download and upload sides), pulling, pushing (compressed layer
//! blobs), and the image records in the state database.

pub mod archive;
pub mod auth;
pub mod blobs;
pub mod compress;
pub mod filter;
pub mod manage;
pub mod platform;
pub mod progress;
pub mod pull;
pub mod push;
pub mod reference;
pub mod registries;
pub mod registry;
pub mod store;
pub mod upload;
