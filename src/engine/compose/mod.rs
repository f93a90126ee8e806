//! Compose files -> one resolved, typed project model (`Project`), as docker compose (compose-go)
//! builds it: file discovery, .env, interpolation, include, extends, merging, normalisation,
//! validation, and the `config` rendering. Reads files and the given environment only: creates
//! no container, network or volume, and prints nothing (warnings go back to the caller).
//!
//! Running a project (up, down, ps, logs, run, ...) builds on the model: naming.rs (Docker's
//! labels and names), project_state.rs (what exists, found by labels), run_options.rs (the one
//! mapping from a `Service` to the engine's `RunOptions`), images.rs, networks.rs, up.rs and
//! converge.rs, attach.rs (a foreground `up`), down.rs, verbs.rs, logs.rs, oneoff.rs (`run`).
//! Those create and remove containers and networks through engine::container and
//! engine::network; they never shell out to kiste and print nothing (a `Report` is told).
//!
//! YAML crate: serde_norway, the maintained fork of serde_yaml. It has what this module needs
//! and serde-saphyr lacks: an order-preserving `Value` tree (interpolation, include, extends and
//! the override merge all work on the tree before the typed model exists, as the Compose
//! Specification defines them on the tree), tags kept on that tree (`!reset`, `!override`), and
//! anchors/aliases. Merge keys (`<<`) are applied by `yaml.rs` (serde_norway's own
//! `apply_merge` misses merges inside merged mappings).

pub mod attach;
mod check;
pub mod converge;
mod dotenv;
pub mod down;
mod emit;
mod extends;
mod files;
mod forms;
mod goyaml;
pub mod images;
mod include;
mod interpolate;
mod load;
pub mod logs;
mod merge;
mod model;
mod mounts;
pub mod naming;
pub mod networks;
pub mod oneoff;
mod order;
mod parts;
mod paths;
mod ports;
pub mod project_state;
pub mod report;
mod resolve;
pub mod run_options;
mod settings;
#[cfg(test)]
mod tests;
pub mod up;
mod validate;
pub mod verbs;
mod volumes;
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
    /// The project uses something kiste cannot run yet (names the key path and the feature,
    /// a plural noun: "named volumes").
    #[error("{path}: {feature} are not supported yet; remove the key to run the project")]
    Unsupported { path: String, feature: String },
    /// A service could not be brought to the state asked for.
    #[error("service \"{service}\": {message}")]
    Service { service: String, message: String },
    #[error(transparent)]
    Container(#[from] crate::engine::container::ContainerError),
    #[error(transparent)]
    Context(#[from] crate::engine::ContextError),
    #[error(transparent)]
    Build(#[from] crate::engine::build::exec::BuildError),
    #[error(transparent)]
    Pull(#[from] crate::engine::image::pull::PullError),
    #[error(transparent)]
    Push(#[from] crate::engine::image::push::PushError),
    #[error(transparent)]
    Image(#[from] crate::engine::image::manage::ManageError),
    #[error(transparent)]
    Store(#[from] crate::engine::image::store::StoreError),
    #[error(transparent)]
    Network(#[from] crate::engine::network::NetError),
    /// Anything else that stops a command, in one line.
    #[error("{0}")]
    Failed(String),
}

fn located(file: &str, path: &str, message: &str) -> String {
    [file, path, message].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(": ")
}

impl ComposeError {
    pub fn unsupported(path: impl Into<String>, feature: impl Into<String>) -> ComposeError {
        ComposeError::Unsupported { path: path.into(), feature: feature.into() }
    }

    pub fn service(service: &str, message: impl std::fmt::Display) -> ComposeError {
        ComposeError::Service { service: service.to_string(), message: message.to_string() }
    }

    /// The exit code a container gave that made the command fail (a build's RUN), else None.
    pub fn exit_code(&self) -> Option<u8> {
        match self {
            ComposeError::Build(b) => Some(b.exit_code()),
            _ => None,
        }
    }

    pub(crate) fn invalid(file: &str, path: &str, message: impl Into<String>) -> ComposeError {
        ComposeError::Invalid { file: file.to_string(), path: path.to_string(), message: message.into() }
    }
}
