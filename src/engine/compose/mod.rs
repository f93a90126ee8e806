//! Compose files -> one resolved, typed project model (`Project`), as docker compose (compose-go)
//! builds it: file discovery, .env, interpolation, include, extends, merging, normalisation,
//! validation, and the `config` rendering. Reads files and the given environment only: creates
//! no container, network or volume, and prints nothing (warnings go back to the caller).
//!
//! YAML crate: serde_norway, the maintained fork of serde_yaml. It has what this module needs
//! and serde-saphyr lacks: an order-preserving `Value` tree (interpolation, include, extends and
//! the override merge all work on the tree before the typed model exists, as the Compose
//! Specification defines them on the tree), tags kept on that tree (`!reset`, `!override`), and
//! anchors/aliases. Merge keys (`<<`) are applied by `yaml.rs` (serde_norway's own
//! `apply_merge` misses merges inside merged mappings).

mod check;
mod dotenv;
mod emit;
mod extends;
mod files;
mod forms;
mod goyaml;
mod include;
mod interpolate;
mod load;
mod merge;
mod model;
mod mounts;
mod parts;
mod paths;
mod ports;
mod resolve;
mod settings;
#[cfg(test)]
mod tests;
mod validate;
mod yaml;

// The model API `compose up`/`down`/... build on; not all of it has a caller yet.
#[allow(unused_imports)]
pub use emit::{Format, render, render_model};
#[allow(unused_imports)]
pub use load::{LoadOptions, Loaded, load, load_model, normalize_project_name};
#[allow(unused_imports)]
pub use model::{External, Ipam, IpamPool, Network, Project, Resource, Service, Volume};
#[allow(unused_imports)]
pub use mounts::{FileMount, MountKind, VolumeMount};
#[allow(unused_imports)]
pub use parts::{
    Build, Condition, Dependency, Deploy, DeployRestart, EnvFile, HealthTest, Healthcheck, Logging, ResourceLimits,
    Resources, ServiceNetwork, Ulimit,
};
#[allow(unused_imports)]
pub use ports::{PortMode, PortRange, PortSpec, Protocol};
#[allow(unused_imports)]
pub use settings::{NetworkMode, PullPolicy, RestartPolicy};

/// Everything that can go wrong turning compose files into a project. Each message is one line
/// naming the file, the key path in compose's form (`services.web.ports[1]`) and the fix.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// No compose file given or found.
    #[error("{0}")]
    NoFile(String),
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    /// The text is not YAML (the parser's message has line and column).
    #[error("{file}: invalid YAML: {message}")]
    Syntax { file: String, message: String },
    /// A value at a key path is wrong: unknown key, wrong type, bad value, missing variable.
    #[error("{}", located(file, path, message))]
    Invalid { file: String, path: String, message: String },
    /// A rule across the whole project is broken (names a key path, not a single file).
    #[error("{0}")]
    Project(String),
}

fn located(file: &str, path: &str, message: &str) -> String {
    [file, path, message].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(": ")
}

impl ComposeError {
    pub(crate) fn invalid(file: &str, path: &str, message: impl Into<String>) -> ComposeError {
        ComposeError::Invalid { file: file.to_string(), path: path.to_string(), message: message.into() }
    }
}
