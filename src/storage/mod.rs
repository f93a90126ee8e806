//! Layers on disk: the user's subordinate ID mapping, the user-namespace helper, the
//! safe tar applier, the layer store, and overlay mode detection. Knows nothing of registries or the CLI.

pub mod apply;
pub mod helper;
pub mod idmap;
pub mod layers;
pub mod overlay;
pub mod userns;
