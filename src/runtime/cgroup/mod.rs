//! Cgroups for rootless containers: detection (v1 / v2 / hybrid, systemd), where a user may
//! make cgroups (`plan`: the delegated directory, which controllers and why not), and the
//! `Manager` that makes a container's cgroup from the spec's `linux.resources` and
//! `cgroupsPath`, names the directories its process joins, reads stats, updates limits and
//! removes it. Touches only cgroupfs (and the user's systemd over D-Bus); knows nothing of
//! containers' records, images or the CLI.
//!
//! Why our own module and not youki's libcgroups: libcgroups assumes it may create cgroups
//! where the spec says (v1 rootless is "not supported" there), reaches systemd through its
//! own D-Bus client that always moves the container's PID 1 into a scope, and walks every
//! hierarchy on each call. Kiste needs three things it does not do: v1 directories that an
//! administrator delegated to a user; a systemd scope that holds the monitor and a
//! `container` leaf (so every limit is a plain file write that `cgroup.controllers` allows or
//! refuses, with one code path for v2); and a start path without walks or process spawns.
//! The filesystem is behind `CgroupFs` and systemd behind `SystemdBus`, so every back end is
//! unit-tested against fakes.

pub mod dbus;
mod freezer;
pub mod fs;
pub mod plan;
pub mod resources;
pub mod stats;
pub mod systemd;
mod v1;
mod v2;

pub use fs::{CgroupFs, RealFs};
pub use plan::{Assessment, CgroupsMode, ManagerKind, PlanInput, assess, plan};
pub use systemd::SystemdBus;

use oci_spec::runtime::LinuxResources;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// A controller the limits need cannot be used; the message says how to delegate it.
    #[error("{0}")]
    NotDelegated(String),
    #[error("cgroup {path}: {what}: {source}")]
    Io { what: &'static str, path: String, source: std::io::Error },
    #[error("invalid cgroupsPath \"{0}\": use /PATH (cgroupfs) or SLICE:PREFIX:NAME (systemd)")]
    BadPath(String),
    #[error("systemd: {0}")]
    Systemd(String),
    #[error("{0}")]
    Unsupported(String),
}

impl CgroupError {
    pub fn io(what: &'static str, path: &Path, source: std::io::Error) -> CgroupError {
        CgroupError::Io { what, path: path.display().to_string(), source }
    }
}

/// The controllers kiste uses. v1 names its hierarchies by them; on v2 `Cpuacct` is part of
/// `cpu` (cpu.stat is always there) and `Blkio` is `io`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Controller {
    Memory,
    Cpu,
    Cpuacct,
    Cpuset,
    Pids,
    Blkio,
    /// v1's freezer hierarchy; on v2 every cgroup has `cgroup.freeze` (no controller).
    Freezer,
}

impl Controller {
    pub const ALL: [Controller; 7] = [
        Controller::Memory,
        Controller::Cpu,
        Controller::Cpuacct,
        Controller::Cpuset,
        Controller::Pids,
        Controller::Blkio,
        Controller::Freezer,
    ];

    pub fn v1_name(self) -> &'static str {
        match self {
            Controller::Memory => "memory",
            Controller::Cpu => "cpu",
            Controller::Cpuacct => "cpuacct",
            Controller::Cpuset => "cpuset",
            Controller::Pids => "pids",
            Controller::Blkio => "blkio",
            Controller::Freezer => "freezer",
        }
    }

    /// The v2 controller (None: nothing to enable).
    pub fn v2_name(self) -> Option<&'static str> {
        match self {
            Controller::Memory => Some("memory"),
            Controller::Cpu => Some("cpu"),
            Controller::Cpuacct => None,
            Controller::Cpuset => Some("cpuset"),
            Controller::Pids => Some("pids"),
            Controller::Blkio => Some("io"),
            Controller::Freezer => None,
        }
    }

    /// The name to show for the host's version.
    pub fn name(self, version: Version) -> &'static str {
        match version {
            Version::V1 => self.v1_name(),
            Version::V2 => self.v2_name().unwrap_or("cpu"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V1,
    V2,
}

/// The host's cgroup set-up.
#[derive(Debug, Clone)]
pub struct Host {
    pub version: Version,
    /// v1 controllers with the (controller-less) unified hierarchy beside them.
    pub hybrid: bool,
    /// Where the hierarchies are mounted (/sys/fs/cgroup).
    pub root: PathBuf,
    /// systemd is the init (/run/systemd/system).
    pub systemd: bool,
}

/// Detects the host's layout: one statfs and two stats.
pub fn detect() -> Host {
    let root = PathBuf::from("/sys/fs/cgroup");
    let v2 =
        nix::sys::statfs::statfs(&root).is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC);
    Host {
        version: if v2 { Version::V2 } else { Version::V1 },
        hybrid: !v2 && root.join("unified").is_dir(),
        root,
        systemd: Path::new("/run/systemd/system").is_dir(),
    }
}

/// The spec's `cgroupsPath`: a path under each hierarchy's root (cgroupfs) or runc's
/// `SLICE:PREFIX:NAME` for a systemd scope `PREFIX-NAME.scope` in SLICE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CgroupPath {
    Fs(String),
    Systemd { slice: String, prefix: String, name: String },
}

impl CgroupPath {
    pub fn parse(s: &str) -> Result<CgroupPath, CgroupError> {
        let bad = || CgroupError::BadPath(s.to_string());
        if s.starts_with('/') {
            if s.split('/').any(|c| c == "..") {
                return Err(bad());
            }
            return Ok(CgroupPath::Fs(s.trim_end_matches('/').to_string()));
        }
        let mut parts = s.split(':');
        match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(slice), Some(prefix), Some(name), None) if !name.is_empty() && !name.contains('/') => {
                Ok(CgroupPath::Systemd { slice: slice.into(), prefix: prefix.into(), name: name.into() })
            }
            _ => Err(bad()),
        }
    }

    /// The spec's text.
    pub fn to_spec(&self) -> String {
        match self {
            CgroupPath::Fs(p) => p.clone(),
            CgroupPath::Systemd { slice, prefix, name } => format!("{slice}:{prefix}:{name}"),
        }
    }
}

/// The leaf a systemd scope's container processes go to; `supervisor` holds the monitor.
pub const SCOPE_CONTAINER: &str = "container";
pub const SCOPE_SUPERVISOR: &str = "supervisor";

/// A container's cgroup(s).
pub struct Manager<'a> {
    pub fs: &'a dyn CgroupFs,
    pub host: &'a Host,
    pub path: CgroupPath,
    /// PID 1 of the running container: how a caller outside its systemd scope (the CLI's
    /// `update`, `pause`) finds the scope.
    pub pid1: Option<u32>,
}

impl<'a> Manager<'a> {
    pub fn new(fs: &'a dyn CgroupFs, host: &'a Host, path: CgroupPath) -> Manager<'a> {
        Manager { fs, host, path, pid1: None }
    }

    /// The manager of a running container whose PID 1 is `pid1`.
    pub fn running(self, pid1: u32) -> Manager<'a> {
        Manager { pid1: Some(pid1), ..self }
    }

    /// Makes the cgroup and writes the limits; returns the directories whose [`join_file`]
    /// the container's first process must join (before it forks PID 1). `self_pid` is the
    /// caller (the monitor), which a systemd scope is started for: it then sits in the
    /// scope's `supervisor` leaf, the container in its `container` leaf.
    pub fn create(
        &self,
        res: &LinuxResources,
        self_pid: u32,
        bus: Option<&mut dyn SystemdBus>,
    ) -> Result<Vec<PathBuf>, CgroupError> {
        match (&self.path, self.host.version) {
            (CgroupPath::Fs(rel), Version::V1) => v1::create(self.fs, &self.host.root, rel, res),
            (CgroupPath::Fs(rel), Version::V2) => {
                let (parent, name) = split_leaf(rel)?;
                v2::create(self.fs, &under(&self.host.root, parent), name, res)
            }
            (CgroupPath::Systemd { .. }, Version::V1) => {
                Err(CgroupError::Unsupported("a systemd cgroupsPath needs cgroup v2".into()))
            }
            (CgroupPath::Systemd { slice, prefix, name }, Version::V2) => {
                let bus = bus.ok_or_else(|| CgroupError::Systemd("no connection to systemd".into()))?;
                let unit = format!("{prefix}-{name}.scope");
                systemd::create(self.fs, &self.host.root, bus, slice, &unit, self_pid, res)
            }
        }
    }

    /// Where each controller's files of the container are (existing or not). A systemd
    /// scope's path is known inside it (the monitor), else through the running PID 1.
    pub fn dirs(&self) -> Vec<(Controller, PathBuf)> {
        match (&self.path, self.host.version) {
            (CgroupPath::Fs(rel), Version::V1) => {
                Controller::ALL.iter().map(|c| (*c, under(&self.host.root.join(c.v1_name()), rel))).collect()
            }
            (CgroupPath::Fs(rel), Version::V2) => {
                Controller::ALL.iter().map(|c| (*c, under(&self.host.root, rel))).collect()
            }
            (CgroupPath::Systemd { prefix, name, .. }, _) => {
                let unit = format!("{prefix}-{name}.scope");
                let scope = systemd::own_scope(self.fs, &self.host.root, &unit)
                    .or_else(|| systemd::scope_of(self.fs, &self.host.root, &unit, self.pid1?));
                match scope {
                    Some(scope) => Controller::ALL.iter().map(|c| (*c, scope.join(SCOPE_CONTAINER))).collect(),
                    None => Vec::new(),
                }
            }
        }
    }

    /// Writes new limits into the existing cgroup (`update`, issue 15, to come).
    #[allow(dead_code)]
    pub fn update(&self, res: &LinuxResources) -> Result<(), CgroupError> {
        let dirs = self.dirs();
        let dir_of = |c: Controller| dirs.iter().find(|(x, _)| *x == c).map(|(_, d)| d.clone());
        let writes = match self.host.version {
            Version::V1 => resources::v1(res),
            Version::V2 => resources::v2(res).map_err(CgroupError::Unsupported)?,
        };
        for w in &writes {
            let Some(dir) = dir_of(w.controller).filter(|d| self.fs.exists(d)) else {
                return Err(CgroupError::Unsupported(format!(
                    "the container has no {} cgroup; it was started without that limit",
                    w.controller.name(self.host.version)
                )));
            };
            write_one(self.fs, &dir, w)?;
        }
        Ok(())
    }

    /// How many times the kernel's OOM killer killed in the container's cgroup.
    pub fn oom_kills(&self) -> u64 {
        let dirs = self.dirs();
        let Some((_, dir)) = dirs.iter().find(|(c, _)| *c == Controller::Memory) else { return 0 };
        let file = match self.host.version {
            Version::V1 => "memory.oom_control",
            Version::V2 => "memory.events",
        };
        self.fs.read(&dir.join(file)).ok().and_then(|t| stats::keyed(&t, "oom_kill")).unwrap_or(0)
    }

    /// Removes the container's cgroup(s); missing ones are fine. Retries briefly while the
    /// kernel still counts exiting tasks (EBUSY).
    pub fn remove(&self) -> Result<(), CgroupError> {
        let mut dirs: Vec<PathBuf> = self.dirs().into_iter().map(|(_, d)| d).collect();
        dirs.dedup();
        for d in dirs {
            remove_dir(self.fs, &d)?;
        }
        Ok(())
    }
}

/// rmdir with a bounded wait for tasks that are still exiting.
fn remove_dir(fs: &dyn CgroupFs, d: &Path) -> Result<(), CgroupError> {
    for attempt in 0..50 {
        match fs.rmdir(d) {
            Ok(()) => return Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) if fs::is_busy(&e) && attempt < 49 => std::thread::sleep(std::time::Duration::from_millis(10)),
            Err(e) => return Err(CgroupError::io("cannot remove", d, e)),
        }
    }
    Ok(())
}

/// Splits "/a/b/leaf" into ("/a/b", "leaf").
fn split_leaf(rel: &str) -> Result<(&str, &str), CgroupError> {
    match rel.rsplit_once('/') {
        Some((parent, name)) if !name.is_empty() => Ok((parent, name)),
        _ => Err(CgroupError::BadPath(rel.to_string())),
    }
}

pub use fs::under;

/// Writes one value; a missing optional file is skipped.
fn write_one(fs: &dyn CgroupFs, dir: &Path, w: &resources::Write) -> Result<(), CgroupError> {
    let p = dir.join(w.file);
    if w.if_present && !fs.exists(&p) {
        return Ok(());
    }
    fs.write(&p, &w.value).map_err(|e| CgroupError::Io {
        what: "cannot write",
        path: format!("{} ({})", p.display(), w.value),
        source: e,
    })
}

/// The file a single-threaded process writes "0" into to join a cgroup. v1: `tasks` —
/// moving the caller's only thread is moving the process (our joiners are freshly exec'd,
/// single-threaded: the runtime's intermediate and `__exec`), and it skips the kernel's
/// global threadgroup lock, whose write side waits out an RCU grace period. v2 has
/// `cgroup.procs` only.
pub fn join_file(host: &Host) -> &'static str {
    match host.version {
        Version::V1 => "tasks",
        Version::V2 => "cgroup.procs",
    }
}

/// The container's first process (the runtime's intermediate, single-threaded) joins its
/// cgroups: "0" into each [`join_file`] the caller opened for it (the caller's credentials apply, not ours:
/// in a keep-id user namespace we are no longer the user).
pub fn join_fds(fds: &[i32]) -> Result<(), String> {
    for fd in fds {
        // SAFETY: write of a 1-byte buffer to a descriptor our caller passed us for this.
        let n = unsafe { libc::write(*fd, b"0".as_ptr().cast(), 1) };
        if n != 1 {
            return Err(format!("cannot join the container's cgroup: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: closing our own inherited descriptor.
        unsafe { libc::close(*fd) };
    }
    Ok(())
}

/// Joins the calling (single-threaded) process to the cgroups of a running container
/// (`exec`): those of its PID 1 that are the container's own (`cgroups_path`), found
/// through /proc/PID/cgroup.
pub fn join_running(fs: &dyn CgroupFs, host: &Host, pid1: u32, cgroups_path: &str) -> Result<(), String> {
    let path = CgroupPath::parse(cgroups_path).map_err(|e| e.to_string())?;
    let text =
        fs.read(Path::new(&format!("/proc/{pid1}/cgroup"))).map_err(|e| format!("the container is gone: {e}"))?;
    let own = |p: &str| match &path {
        CgroupPath::Fs(rel) => p == rel,
        CgroupPath::Systemd { prefix, name, .. } => p.ends_with(&format!("/{prefix}-{name}.scope/{SCOPE_CONTAINER}")),
    };
    for line in text.lines() {
        let mut f = line.splitn(3, ':');
        let (Some(_), Some(ctrls), Some(p)) = (f.next(), f.next(), f.next()) else { continue };
        if !own(p) {
            continue;
        }
        let mount = match (host.version, ctrls.split(',').next()) {
            (Version::V2, _) if ctrls.is_empty() => host.root.clone(),
            (Version::V1, Some(c)) if !c.is_empty() && !c.starts_with("name=") => host.root.join(c),
            _ => continue,
        };
        let procs = under(&mount, p).join(join_file(host));
        fs.write(&procs, "0").map_err(|e| format!("cannot join the container's cgroup {}: {e}", procs.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_joins_the_containers_own_cgroups_only() {
        let fs = fs::fake::FakeFs::new(1000);
        fs.dir("/cg/memory/k/kiste-a", 1000).dir("/cg/pids/k/kiste-a", 1000);
        fs.file("/cg/memory/k/kiste-a/tasks", "9\n").file("/cg/pids/k/kiste-a/tasks", "9\n");
        fs.file("/proc/9/cgroup", "8:pids:/k/kiste-a\n4:memory:/k/kiste-a\n3:cpuset:/\n1:name=systemd:/\n0::/\n");
        let h = Host { version: Version::V1, hybrid: true, root: "/cg".into(), systemd: false };
        join_running(&fs, &h, 9, "/k/kiste-a").unwrap();
        let w: Vec<String> = fs.writes.borrow().iter().map(|(p, _)| p.display().to_string()).collect();
        assert_eq!(w, ["/cg/pids/k/kiste-a/tasks", "/cg/memory/k/kiste-a/tasks"]);
    }

    #[test]
    fn cgroups_path_parses_both_forms() {
        assert_eq!(CgroupPath::parse("/kiste/1000/kiste-ab").unwrap(), CgroupPath::Fs("/kiste/1000/kiste-ab".into()));
        assert_eq!(
            CgroupPath::parse("user.slice:kiste:ab").unwrap(),
            CgroupPath::Systemd { slice: "user.slice".into(), prefix: "kiste".into(), name: "ab".into() }
        );
        assert!(CgroupPath::parse("relative").is_err());
        assert!(CgroupPath::parse("/a/../b").is_err());
        assert_eq!(CgroupPath::parse("user.slice:kiste:ab").unwrap().to_spec(), "user.slice:kiste:ab");
    }
}
