//! Images: reference parsing and short-name resolution, registries.conf, credentials,
//! the registry client, pulling, and the image records in the state database.

pub mod auth;
pub mod manage;
pub mod platform;
pub mod pull;
pub mod reference;
pub mod registries;
pub mod registry;
pub mod store;
