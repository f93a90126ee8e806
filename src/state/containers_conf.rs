//! containers.conf as Podman reads it: its files in Podman's order (or `$CONTAINERS_CONF`
//! alone), their `.d` drop-ins, `--module` files and `$CONTAINERS_CONF_OVERRIDE`, later files
//! overriding the keys they set, into one typed value with the command line's overrides on
//! top. Unknown keys are tolerated as Podman does; a bad value is one line naming the file
//! and the key. Reads files only: what a setting means is for the code that uses it.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// `--module` names (one a line), passed on to re-executed children.
pub const ENV_MODULES: &str = "_KISTE_MODULES";
/// `--cgroup-manager`, passed on likewise.
pub const ENV_CGROUP_MANAGER: &str = "_KISTE_CGROUP_MANAGER";
/// `--events-backend`, passed on likewise.
pub const ENV_EVENTS_BACKEND: &str = "_KISTE_EVENTS_BACKEND";

#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum ConfError {
    /// A file that is not TOML, or a key with a bad value: `FILE: KEY: why`.
    #[error("{file}: {message}")]
    Bad { file: String, message: String },
    #[error("CONTAINERS_CONF names {0}, which cannot be read ({1}); fix the variable or create the file")]
    Missing(String, String),
    #[error("module \"{0}\" not found in {1}; give an absolute path or put the file there")]
    NoModule(String, String),
}

/// The settings kiste uses; every one is optional (unset: the built-in default).
#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct ContainersConf {
    pub containers: ContainersTable,
    pub engine: EngineTable,
    pub network: NetworkTable,
}

/// `[containers]`: defaults for every container.
#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct ContainersTable {
    pub cgroupns: Option<String>,
    pub cgroups: Option<String>,
    /// A kiste addition: where containers' cgroups go.
    pub cgroup_parent: Option<String>,
    pub default_capabilities: Option<Vec<String>>,
    pub default_sysctls: Option<Vec<String>>,
    pub default_ulimits: Option<Vec<String>>,
    pub dns_options: Option<Vec<String>>,
    pub dns_searches: Option<Vec<String>>,
    pub dns_servers: Option<Vec<String>>,
    pub env: Option<Vec<String>>,
    pub env_host: Option<bool>,
    pub http_proxy: Option<bool>,
    pub init: Option<bool>,
    pub log_driver: Option<LogDriver>,
    pub log_size_max: Option<i64>,
    pub log_tag: Option<String>,
    pub no_hosts: Option<bool>,
    pub pids_limit: Option<i64>,
    pub read_only: Option<bool>,
    pub shm_size: Option<String>,
    pub tz: Option<String>,
    pub umask: Option<String>,
}

/// `[engine]`.
#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct EngineTable {
    pub cgroup_manager: Option<CgroupManager>,
    pub events_logger: Option<EventsLogger>,
    pub image_default_transport: Option<String>,
    pub stop_timeout: Option<u64>,
}

/// `[network]`.
#[derive(Debug, Default, Clone, Deserialize, PartialEq)]
#[serde(default)]
pub struct NetworkTable {
    pub default_rootless_network_cmd: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum CgroupManager {
    Systemd,
    Cgroupfs,
}

impl CgroupManager {
    pub fn parse(s: &str) -> Option<CgroupManager> {
        match s {
            "systemd" => Some(CgroupManager::Systemd),
            "cgroupfs" => Some(CgroupManager::Cgroupfs),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EventsLogger {
    File,
    None,
    Journald,
}

impl EventsLogger {
    pub fn parse(s: &str) -> Option<EventsLogger> {
        match s {
            "file" => Some(EventsLogger::File),
            "none" => Some(EventsLogger::None),
            "journald" => Some(EventsLogger::Journald),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            EventsLogger::File => "file",
            EventsLogger::None => "none",
            EventsLogger::Journald => "journald",
        }
    }
}

/// Where a container's output goes (`--log-driver`, `log_driver`).
#[derive(Debug, Clone, Copy, Deserialize, serde::Serialize, PartialEq, Eq, Default)]
pub enum LogDriver {
    /// kiste's log file (Podman's k8s-file format).
    #[default]
    #[serde(rename = "k8s-file")]
    K8sFile,
    /// Accepted as Podman does: the same file.
    #[serde(rename = "json-file")]
    JsonFile,
    /// Podman's default on systemd hosts; kiste keeps its own file instead.
    #[serde(rename = "journald")]
    Journald,
    /// No log: `logs` has nothing to show.
    #[serde(rename = "none")]
    None,
    /// The output goes where kiste's own went (attached runs); no log.
    #[serde(rename = "passthrough")]
    Passthrough,
}

impl LogDriver {
    pub fn parse(s: &str) -> Option<LogDriver> {
        Some(match s {
            "k8s-file" => LogDriver::K8sFile,
            "json-file" => LogDriver::JsonFile,
            "journald" => LogDriver::Journald,
            "none" => LogDriver::None,
            "passthrough" => LogDriver::Passthrough,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            LogDriver::K8sFile => "k8s-file",
            LogDriver::JsonFile => "json-file",
            LogDriver::Journald => "journald",
            LogDriver::None => "none",
            LogDriver::Passthrough => "passthrough",
        }
    }
    /// Whether the container's output is kept in a log file that `logs` reads.
    pub fn keeps_log(self) -> bool {
        !matches!(self, LogDriver::None | LogDriver::Passthrough)
    }
}

/// Where Podman's files are, for one user.
#[derive(Debug, Clone)]
pub struct Sources {
    /// `$XDG_CONFIG_HOME/containers` (none as real root).
    pub user_dir: Option<PathBuf>,
    pub uid: u32,
    /// Directories searched for `--module` names, in order of preference.
    pub module_dirs: Vec<PathBuf>,
}

impl Sources {
    pub fn for_user(user_dir: Option<&Path>) -> Sources {
        let uid = nix::unistd::geteuid().as_raw();
        let mut module_dirs: Vec<PathBuf> = user_dir.map(|d| d.join("containers.conf.modules")).into_iter().collect();
        module_dirs.push("/etc/containers/containers.conf.modules".into());
        module_dirs.push("/usr/share/containers/containers.conf.modules".into());
        Sources { user_dir: user_dir.map(Path::to_path_buf), uid, module_dirs }
    }

    /// The files to read, lowest precedence first (`CONTAINERS_CONF`, `modules` and
    /// `override_file` as the environment gives them).
    pub fn files(
        &self,
        containers_conf: Option<&Path>,
        modules: &[String],
        override_file: Option<&Path>,
    ) -> Result<Vec<PathBuf>, ConfError> {
        let mut files = Vec::new();
        match containers_conf {
            Some(f) => {
                std::fs::metadata(f).map_err(|e| ConfError::Missing(f.display().to_string(), e.kind().to_string()))?;
                files.push(f.to_path_buf());
            }
            None => {
                for base in ["/usr/share/containers", "/etc/containers"] {
                    let base = Path::new(base);
                    files.push(base.join("containers.conf"));
                    files.extend(drop_ins(&base.join("containers.conf.d")));
                    if self.uid == 0 {
                        files.extend(drop_ins(&base.join("containers.rootful.conf.d")));
                    } else {
                        files.extend(drop_ins(&base.join("containers.rootless.conf.d")));
                        files.extend(drop_ins(&base.join(format!("containers.rootless.conf.d/{}", self.uid))));
                    }
                }
                if let Some(d) = &self.user_dir {
                    files.push(d.join("containers.conf"));
                    files.extend(drop_ins(&d.join("containers.conf.d")));
                }
            }
        }
        for m in modules {
            files.push(self.module(m)?);
        }
        files.extend(override_file.map(Path::to_path_buf));
        Ok(files)
    }

    /// A `--module`: an absolute path as it is, else the first module directory that has it.
    pub fn module(&self, name: &str) -> Result<PathBuf, ConfError> {
        let p = Path::new(name);
        if p.is_absolute() {
            return match p.is_file() {
                true => Ok(p.to_path_buf()),
                false => Err(ConfError::NoModule(name.into(), "the file system".into())),
            };
        }
        self.module_dirs.iter().map(|d| d.join(name)).find(|f| f.is_file()).ok_or_else(|| {
            let dirs: Vec<String> = self.module_dirs.iter().map(|d| d.display().to_string()).collect();
            ConfError::NoModule(name.into(), dirs.join(", "))
        })
    }
}

/// The `*.conf` files of a drop-in directory, in name order.
fn drop_ins(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut v: Vec<PathBuf> =
        rd.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|x| x == "conf") && p.is_file()).collect();
    v.sort();
    v
}

/// The 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text.as_bytes().iter().take(at).filter(|b| **b == b'\n').count() + 1
}

/// One file: its table, after checking that every key kiste knows has a good value.
fn read_table(file: &Path) -> Result<Option<toml::Table>, ConfError> {
    let bad = |message: String| ConfError::Bad { file: file.display().to_string(), message };
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(format!("cannot read it: {e}"))),
    };
    let table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        let at = e.span().map(|s| format!(" (line {})", line_of(&text, s.start))).unwrap_or_default();
        bad(format!("not valid TOML{at}: {}", e.message().trim()))
    })?;
    let conf: ContainersConf = serde_path_to_error::deserialize(toml::Value::Table(table.clone()))
        .map_err(|e| bad(format!("{}: {}", e.path(), one_line(e.inner()))))?;
    conf.check().map_err(bad)?;
    Ok(Some(table))
}

/// A value's error without the key path toml appends on its own line (we name the key).
fn one_line(e: &toml::de::Error) -> String {
    e.message().trim().replace('\n', " ")
}

/// Later keys replace earlier ones; tables merge key by key.
fn merge(into: &mut toml::Table, from: toml::Table) {
    for (k, v) in from {
        match (into.get_mut(&k), v) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            (_, v) => {
                into.insert(k, v);
            }
        }
    }
}

impl ContainersConf {
    /// Values that have a type but not every value of it.
    fn check(&self) -> Result<(), String> {
        let c = &self.containers;
        let one_of = |key: &str, v: &Option<String>, allowed: &[&str]| match v {
            Some(v) if !allowed.contains(&v.as_str()) => Err(format!("{key} = \"{v}\": use {}", allowed.join(", "))),
            _ => Ok(()),
        };
        one_of("containers.cgroupns", &c.cgroupns, &["host", "private"])?;
        one_of("containers.cgroups", &c.cgroups, &["enabled", "disabled", "no-conmon", "split"])?;
        if let Some(u) = &c.umask
            && crate::util::octal_umask(u).is_none()
        {
            return Err(format!("containers.umask = \"{u}\": use an octal mask such as 0022"));
        }
        if let Some(t) = &c.tz
            && t.is_empty()
        {
            return Err("containers.tz = \"\": use local or a zone such as Europe/Berlin".into());
        }
        Ok(())
    }

    /// Reads `files` in order (missing ones are skipped) and applies the command line's
    /// overrides (`_KISTE_CGROUP_MANAGER`, `_KISTE_EVENTS_BACKEND`, checked by the CLI).
    pub fn from_files(files: &[PathBuf]) -> Result<ContainersConf, ConfError> {
        let mut merged = toml::Table::new();
        for f in files {
            if let Some(t) = read_table(f)? {
                merge(&mut merged, t);
            }
        }
        let mut conf: ContainersConf = serde_path_to_error::deserialize(toml::Value::Table(merged)).map_err(|e| {
            ConfError::Bad { file: "containers.conf".into(), message: format!("{}: {}", e.path(), one_line(e.inner())) }
        })?;
        if let Some(m) = std::env::var(ENV_CGROUP_MANAGER).ok().as_deref().and_then(CgroupManager::parse) {
            conf.engine.cgroup_manager = Some(m);
        }
        if let Some(e) = std::env::var(ENV_EVENTS_BACKEND).ok().as_deref().and_then(EventsLogger::parse) {
            conf.engine.events_logger = Some(e);
        }
        Ok(conf)
    }

    /// The files Podman would read for this process (`$CONTAINERS_CONF`, `--module`s,
    /// `$CONTAINERS_CONF_OVERRIDE` included).
    pub fn files_for(user_dir: Option<&Path>) -> Result<Vec<PathBuf>, ConfError> {
        let env_path = |v: &str| std::env::var_os(v).filter(|v| !v.is_empty()).map(PathBuf::from);
        let modules: Vec<String> = std::env::var(ENV_MODULES)
            .unwrap_or_default()
            .lines()
            .filter(|l| !l.is_empty())
            .map(String::from)
            .collect();
        Sources::for_user(user_dir).files(
            env_path("CONTAINERS_CONF").as_deref(),
            &modules,
            env_path("CONTAINERS_CONF_OVERRIDE").as_deref(),
        )
    }

    /// The configuration of this process, read once (the files do not change under a
    /// command); `user_dir` is `Paths::user_containers_config`.
    pub fn load(user_dir: Option<&Path>) -> Result<&'static ContainersConf, ConfError> {
        static CONF: OnceLock<Result<ContainersConf, ConfError>> = OnceLock::new();
        CONF.get_or_init(|| Self::from_files(&Self::files_for(user_dir)?)).as_ref().map_err(Clone::clone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{tmpdir, write};

    #[test]
    fn later_files_override_keys_and_unknown_keys_are_tolerated() {
        let d = tmpdir("conf-merge");
        write(
            &d.join("a.conf"),
            "[containers]\nread_only = true\nenv = [\"A=1\"]\nunknown_key = 3\n[engine]\ncgroup_manager = \"systemd\"\n[machine]\ncpus = 2\n",
        );
        write(
            &d.join("b.conf"),
            "[containers]\nenv = [\"B=2\"]\npids_limit = 100\n[network]\ndefault_rootless_network_cmd = \"slirp4netns\"\n",
        );
        let c = ContainersConf::from_files(&[d.join("a.conf"), d.join("missing.conf"), d.join("b.conf")]).unwrap();
        assert_eq!(c.containers.read_only, Some(true));
        assert_eq!(c.containers.env, Some(vec!["B=2".to_string()]));
        assert_eq!(c.containers.pids_limit, Some(100));
        assert_eq!(c.engine.cgroup_manager, Some(CgroupManager::Systemd));
        assert_eq!(c.network.default_rootless_network_cmd.as_deref(), Some("slirp4netns"));
    }

    #[test]
    fn a_bad_value_is_one_line_naming_file_and_key() {
        let d = tmpdir("conf-bad");
        let cases = [
            ("[containers]\npids_limit = \"many\"\n", "containers.pids_limit"),
            ("[engine]\ncgroup_manager = \"nope\"\n", "engine.cgroup_manager"),
            ("[containers]\nlog_driver = \"syslog\"\n", "containers.log_driver"),
            ("[containers]\numask = \"999\"\n", "containers.umask"),
            ("[containers]\ncgroupns = \"x\"\n", "containers.cgroupns"),
            ("[containers\n", "not valid TOML (line 1)"),
        ];
        for (text, want) in cases {
            let f = d.join("c.conf");
            write(&f, text);
            let e = ContainersConf::from_files(std::slice::from_ref(&f)).unwrap_err().to_string();
            assert!(e.starts_with(&f.display().to_string()) && e.contains(want) && !e.contains('\n'), "{text}: {e}");
        }
    }

    #[test]
    fn files_in_podmans_order_with_drop_ins_and_modules() {
        let d = tmpdir("conf-order");
        let user = d.join("user");
        write(&user.join("containers.conf.d/20-b.conf"), "");
        write(&user.join("containers.conf.d/10-a.conf"), "");
        write(&user.join("containers.conf.d/ignored.txt"), "");
        write(&user.join("containers.conf.modules/m.conf"), "");
        let s = Sources {
            user_dir: Some(user.clone()),
            uid: 1000,
            module_dirs: vec![user.join("containers.conf.modules")],
        };
        let files = s.files(None, &["m.conf".into()], Some(Path::new("/o.conf"))).unwrap();
        let n = files.len();
        assert_eq!(files[0], Path::new("/usr/share/containers/containers.conf"));
        assert_eq!(
            &files[n - 5..],
            &[
                user.join("containers.conf"),
                user.join("containers.conf.d/10-a.conf"),
                user.join("containers.conf.d/20-b.conf"),
                user.join("containers.conf.modules/m.conf"),
                PathBuf::from("/o.conf"),
            ]
        );
        // CONTAINERS_CONF alone (with modules and the override after it).
        write(&d.join("only.conf"), "");
        assert_eq!(s.files(Some(&d.join("only.conf")), &[], None).unwrap(), [d.join("only.conf")]);
        assert!(matches!(s.files(Some(&d.join("nope.conf")), &[], None), Err(ConfError::Missing(..))));
        assert!(matches!(s.module("nope.conf"), Err(ConfError::NoModule(..))));
    }
}
