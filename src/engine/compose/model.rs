//! The resolved, typed project: `Project` with its `Service`s, networks, volumes, secrets and
//! configs, every short form already normalised (later code never re-parses strings). Field
//! order is compose-go's, so serializing gives docker compose's `config` key order. Building a
//! project (load.rs, resolve.rs) and printing it (emit.rs) live elsewhere.

use super::forms;
use super::mounts::{FileMount, VolumeMount};
use super::parts::{self, Build, Dependency, Deploy, EnvFile, Healthcheck, Logging, ServiceNetwork, Ulimit};
use super::ports::{self, PortSpec};
use super::settings::{NetworkMode, PullPolicy, RestartPolicy};
use serde::de::{self, Deserializer};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::time::Duration;

/// One service, as `up` runs it. `None`/empty means "not set": the image's or engine's default.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Its key under `services`.
    #[serde(skip)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "forms::string_list")]
    pub profiles: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "forms::labels")]
    pub annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "parts::build")]
    pub build: Option<Build>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "forms::scalar_list")]
    pub cap_add: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "forms::scalar_list")]
    pub cap_drop: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "forms::opt_f64",
        serialize_with = "forms::ser_number"
    )]
    pub cpus: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "forms::scalar_opt")]
    pub cpuset: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "forms::opt_i64")]
    pub cpu_shares: Option<i64>,
    /// Replaces the image's CMD; `Some(vec![])` clears it.
    #[serde(default, deserialize_with = "forms::command")]
    pub command: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::mounts::file_mounts")]
    pub configs: Vec<FileMount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_name: Option<String>,
    /// Services this one waits for, with their conditions (also those implied by
    /// `network_mode: service:X` and `volumes_from`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "parts::depends_on")]
    pub depends_on: BTreeMap<String, Dependency>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deploy: Option<Deploy>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "forms::string_list")]
    pub dns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "forms::scalar_list")]
    pub dns_opt: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "forms::string_list")]
    pub dns_search: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domainname: Option<String>,
    /// Replaces the image's ENTRYPOINT; `Some(vec![])` clears it.
    #[serde(default, deserialize_with = "forms::command")]
    pub entrypoint: Option<Vec<String>>,
    /// The container's environment: `env_file` contents overridden by `environment`, with
    /// `KEY`-only entries taken from the project environment. `None` values were not found
    /// there and are left unset.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "forms::env_map")]
    pub environment: BTreeMap<String, Option<String>>,
    /// The files `environment` was completed from (already read; kept for reference).
    #[serde(default, rename = "env_file", skip_serializing, deserialize_with = "parts::env_files")]
    pub env_files: Vec<EnvFile>,
    /// Container ports (`80`, `8000-8010/udp`), not published.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "forms::scalar_list")]
    pub expose: Vec<String>,
    /// Host name -> addresses for /etc/hosts.
    #[serde(
        default,
        skip_serializing_if = "BTreeMap::is_empty",
        deserialize_with = "forms::extra_hosts",
        serialize_with = "forms::ser_hosts"
    )]
    pub extra_hosts: BTreeMap<String, Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Healthcheck>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "forms::opt_bool")]
    pub init: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "forms::labels")]
    pub labels: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logging: Option<Logging>,
    /// Bytes.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "forms::opt_bytes",
        serialize_with = "forms::ser_bytes"
    )]
    pub mem_limit: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "forms::opt_bytes",
        serialize_with = "forms::ser_bytes"
    )]
    pub mem_reservation: Option<i64>,
    /// Bytes; -1 for unlimited swap.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "forms::opt_bytes",
        serialize_with = "forms::ser_bytes"
    )]
    pub memswap_limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_mode: Option<NetworkMode>,
    /// Project network key -> this service's settings there (`None`: no settings). Every
    /// service without `network_mode` is on at least `default`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "parts::service_networks")]
    pub networks: BTreeMap<String, Option<ServiceNetwork>>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "forms::opt_i64")]
    pub pids_limit: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "ports::ports")]
    pub ports: Vec<PortSpec>,
    #[serde(default, skip_serializing_if = "forms::is_false", deserialize_with = "forms::bool_")]
    pub privileged: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_policy: Option<PullPolicy>,
    #[serde(default, skip_serializing_if = "forms::is_false", deserialize_with = "forms::bool_")]
    pub read_only: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restart: Option<RestartPolicy>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "forms::opt_u32")]
    pub scale: Option<u32>,
    /// Secret references; targets default to /run/secrets/SOURCE.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "super::mounts::file_mounts")]
    pub secrets: Vec<FileMount>,
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "forms::scalar_list")]
    pub security_opt: Vec<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "forms::opt_bytes",
        serialize_with = "forms::ser_bytes"
    )]
    pub shm_size: Option<i64>,
    #[serde(default, skip_serializing_if = "forms::is_false", deserialize_with = "forms::bool_")]
    pub stdin_open: bool,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "forms::opt_duration",
        serialize_with = "forms::ser_duration"
    )]
    pub stop_grace_period: Option<Duration>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_signal: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "forms::labels")]
    pub sysctls: BTreeMap<String, String>,
    /// `PATH[:OPTIONS]` entries.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "forms::string_list")]
    pub tmpfs: Vec<String>,
    #[serde(default, skip_serializing_if = "forms::is_false", deserialize_with = "forms::bool_")]
    pub tty: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub ulimits: BTreeMap<String, Ulimit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes: Vec<VolumeMount>,
    /// `SERVICE[:ro|rw]` or `container:NAME[:ro|rw]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volumes_from: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub working_dir: Option<String>,
    /// `x-*` keys, kept for `config`.
    #[serde(skip)]
    pub extensions: serde_norway::Mapping,
}

impl Service {
    /// How many containers `up` runs: `scale`, else `deploy.replicas`, else 1.
    pub fn replicas(&self) -> u32 {
        self.scale.or_else(|| self.deploy.as_ref().and_then(|d| d.replicas)).unwrap_or(1)
    }

    /// The image `up` runs: `image`, else the one `build` makes (`PROJECT-SERVICE`).
    pub fn image_name(&self, project: &str) -> String {
        self.image.clone().unwrap_or_else(|| format!("{project}-{}", self.name))
    }

    /// The name of replica `n` (from 1): `container_name`, else `PROJECT-SERVICE-N`.
    pub fn container_name_for(&self, project: &str, n: u32) -> String {
        self.container_name.clone().unwrap_or_else(|| format!("{project}-{}-{n}", self.name))
    }

    /// What `up` compares to decide whether a container must be recreated (docker compose's
    /// `com.docker.compose.config-hash`): sha256 (hex) of the service's canonical JSON without
    /// build, pull_policy, scale/replicas, depends_on and profiles.
    pub fn config_hash(&self) -> String {
        use sha2::Digest;
        let mut s = self.clone();
        s.build = None;
        s.pull_policy = None;
        s.scale = None;
        if let Some(d) = &mut s.deploy {
            d.replicas = None;
        }
        s.depends_on.clear();
        s.profiles.clear();
        let json = serde_json::to_vec(&s).unwrap_or_default();
        hex::encode(sha2::Sha256::digest(&json))
    }

    /// Services this one depends on, sorted.
    pub fn dependencies(&self) -> impl Iterator<Item = &str> {
        self.depends_on.keys().map(String::as_str)
    }
}

/// An `external` value: `true`/`false`, or the deprecated `{name: N}`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct External {
    pub external: bool,
    pub name: Option<String>,
}

impl<'de> Deserialize<'de> for External {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<External, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Named {
            name: Option<String>,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Named(Named),
            Flag(#[serde(deserialize_with = "forms::bool_")] bool),
        }
        match Form::deserialize(d).map_err(|_| de::Error::custom("external must be true or false"))? {
            Form::Flag(b) => Ok(External { external: b, name: None }),
            Form::Named(n) => Ok(External { external: true, name: n.name }),
        }
    }
}

fn ser_external<S: Serializer>(e: &External, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_bool(e.external)
}

fn not_external(e: &External) -> bool {
    !e.external
}

/// One `ipam.config` entry.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IpamPool {
    /// IPv4 CIDR, e.g. 10.89.5.0/24.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Ipv4Addr>,
}

#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Ipam {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<IpamPool>,
}

impl Ipam {
    fn is_empty(&self) -> bool {
        self.driver.is_none() && self.config.is_empty()
    }
}

/// A top-level network.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Network {
    /// The engine's network name: `name`, else `PROJECT_KEY` (the key itself when external).
    #[serde(default)]
    pub name: String,
    /// Only `bridge`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "forms::labels")]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Ipam::is_empty")]
    pub ipam: Ipam,
    /// Created outside the project; `up` only checks it exists.
    #[serde(default, skip_serializing_if = "not_external", serialize_with = "ser_external")]
    pub external: External,
    #[serde(default, skip_serializing_if = "forms::is_false", deserialize_with = "forms::bool_")]
    pub internal: bool,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "forms::labels")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip)]
    pub extensions: serde_norway::Mapping,
}

/// A top-level volume.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    /// The engine's volume name: `name`, else `PROJECT_KEY` (the key itself when external).
    #[serde(default)]
    pub name: String,
    /// Only `local`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "forms::labels")]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "not_external", serialize_with = "ser_external")]
    pub external: External,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "forms::labels")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip)]
    pub extensions: serde_norway::Mapping,
}

/// A top-level secret or config: its content comes from a file, an environment variable,
/// inline `content` (configs only), or it is external.
#[derive(Debug, Clone, PartialEq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Resource {
    #[serde(default)]
    pub name: String,
    /// Absolute after resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<PathBuf>,
    /// The variable of the project environment holding the content.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, skip_serializing_if = "not_external", serialize_with = "ser_external")]
    pub external: External,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty", deserialize_with = "forms::labels")]
    pub labels: BTreeMap<String, String>,
    #[serde(skip)]
    pub extensions: serde_norway::Mapping,
}

/// A loaded project.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Project {
    pub name: String,
    /// The project directory (relative paths were resolved against it).
    pub working_dir: PathBuf,
    /// The compose files, absolute (`-` for stdin), in merge order.
    pub compose_files: Vec<String>,
    /// The interpolation environment: process environment over the .env files, plus
    /// COMPOSE_PROJECT_NAME.
    pub environment: BTreeMap<String, String>,
    /// The services whose profiles are active.
    pub services: BTreeMap<String, Service>,
    /// Services left out by profiles (a command naming one explicitly may enable it).
    pub disabled_services: BTreeMap<String, Service>,
    pub networks: BTreeMap<String, Network>,
    pub volumes: BTreeMap<String, Volume>,
    pub secrets: BTreeMap<String, Resource>,
    pub configs: BTreeMap<String, Resource>,
    /// The active profiles.
    pub profiles: Vec<String>,
    /// Top-level `x-*` keys.
    pub extensions: serde_norway::Mapping,
}

impl Project {
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.services.get(name)
    }

    /// The enabled services in start order: every service after the ones it depends on,
    /// otherwise by name. Dependencies outside the enabled set are skipped.
    pub fn start_order(&self) -> Vec<&str> {
        let mut done: BTreeSet<&str> = BTreeSet::new();
        let mut order = vec![];
        for name in self.services.keys() {
            self.visit(name, &mut done, &mut order);
        }
        order
    }

    fn visit<'a>(&'a self, name: &'a str, done: &mut BTreeSet<&'a str>, order: &mut Vec<&'a str>) {
        let Some(s) = self.services.get(name) else { return };
        if !done.insert(name) {
            return;
        }
        for dep in s.dependencies() {
            self.visit(dep, done, order);
        }
        order.push(name);
    }

    /// Keeps `names` (enabling disabled ones, as naming a service on the command line does)
    /// and, with `with_dependencies`, what they depend on; the other services are dropped.
    pub fn select(&mut self, names: &[String], with_dependencies: bool) -> Result<(), String> {
        let mut keep: BTreeSet<String> = BTreeSet::new();
        let mut todo: Vec<String> = names.to_vec();
        while let Some(n) = todo.pop() {
            if let Some(s) = self.disabled_services.remove(&n) {
                self.services.insert(n.clone(), s);
            }
            let Some(s) = self.services.get(&n) else {
                return Err(format!("no such service: \"{n}\""));
            };
            if with_dependencies {
                todo.extend(s.dependencies().filter(|d| !keep.contains(*d)).map(str::to_string));
            }
            keep.insert(n);
        }
        self.services.retain(|k, _| keep.contains(k));
        Ok(())
    }
}
