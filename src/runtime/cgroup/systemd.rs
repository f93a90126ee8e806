//! cgroup v2 under systemd: a transient scope `PREFIX-NAME.scope` of the user's manager
//! (the system's when root) with `Delegate=yes`, started for the caller (the container's
//! monitor). Inside the delegated scope the monitor moves to a `supervisor` leaf and the
//! container gets a `container` leaf, whose limits are plain v2 files (v2.rs): the
//! controllers systemd delegated decide what works, and the monitor never counts against
//! the container's limits. Starting the scope for the monitor rather than for PID 1 keeps
//! it working from a login session with keep-id (systemd's user manager asks the system
//! manager to move processes outside its tree, which only allows the user's own processes).

use super::fs::{CgroupFs, under};
use super::{CgroupError, SCOPE_CONTAINER, SCOPE_SUPERVISOR, v2};
use oci_spec::runtime::LinuxResources;
use std::path::{Path, PathBuf};

/// A property value of a transient unit, as systemd types them on D-Bus.
#[derive(Debug, Clone, PartialEq)]
pub enum Prop {
    Str(String),
    Bool(bool),
    U32s(Vec<u32>),
}

/// What kiste asks of systemd.
pub trait SystemdBus {
    /// `StartTransientUnit(name, "fail", props, [])`, then waits until its job is done.
    /// Err carries systemd's error name first (`org.freedesktop.systemd1.UnitExists: ...`).
    fn start_transient_unit(&mut self, name: &str, props: &[(&str, Prop)]) -> Result<(), String>;
}

/// The properties of a container's scope.
pub fn scope_props(slice: &str, unit: &str, pid: u32) -> Vec<(&'static str, Prop)> {
    vec![
        ("Description", Prop::Str(format!("kiste container {}", unit.trim_end_matches(".scope")))),
        ("Slice", Prop::Str(slice.to_string())),
        ("PIDs", Prop::U32s(vec![pid])),
        ("Delegate", Prop::Bool(true)),
        ("CollectMode", Prop::Str("inactive-or-failed".into())),
        ("DefaultDependencies", Prop::Bool(false)),
    ]
}

pub fn create(
    fs: &dyn CgroupFs,
    root: &Path,
    bus: &mut dyn SystemdBus,
    slice: &str,
    unit: &str,
    self_pid: u32,
    res: &LinuxResources,
) -> Result<Vec<PathBuf>, CgroupError> {
    let props = scope_props(slice, unit, self_pid);
    // A scope of the same name that is still going away (the previous run of this
    // container just ended) is waited for, briefly.
    let mut attempt = 0;
    loop {
        match bus.start_transient_unit(unit, &props) {
            Ok(()) => break,
            Err(e) if e.starts_with("org.freedesktop.systemd1.UnitExists") && attempt < 50 => {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
            Err(e) => return Err(CgroupError::Systemd(format!("cannot start the scope {unit}: {e}"))),
        }
    }
    let scope = own_scope(fs, root, unit)
        .ok_or_else(|| CgroupError::Systemd(format!("systemd started {unit} but did not move the monitor into it")))?;
    let supervisor = scope.join(SCOPE_SUPERVISOR);
    match fs.mkdir(&supervisor) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(CgroupError::io("cannot create", &supervisor, e)),
    }
    let procs = supervisor.join("cgroup.procs");
    fs.write(&procs, &self_pid.to_string()).map_err(|e| CgroupError::io("cannot move the monitor into", &procs, e))?;
    v2::create(fs, &scope, SCOPE_CONTAINER, res)
}

/// The scope's directory when the calling process is in it (or in its supervisor leaf).
pub fn own_scope(fs: &dyn CgroupFs, root: &Path, unit: &str) -> Option<PathBuf> {
    scope_of_process(fs, root, unit, "self", SCOPE_SUPERVISOR)
}

/// The scope's directory from the container's PID 1, which sits in its `container` leaf.
pub fn scope_of(fs: &dyn CgroupFs, root: &Path, unit: &str, pid1: u32) -> Option<PathBuf> {
    scope_of_process(fs, root, unit, &pid1.to_string(), SCOPE_CONTAINER)
}

/// Scope `unit`'s directory when process `pid` (a number or "self") is in it or in its
/// `leaf` child.
fn scope_of_process(fs: &dyn CgroupFs, root: &Path, unit: &str, pid: &str, leaf: &str) -> Option<PathBuf> {
    let text = fs.read(Path::new(&format!("/proc/{pid}/cgroup"))).ok()?;
    let own = super::plan::own_v2(&text);
    let scope = own.strip_suffix(&format!("/{leaf}")).unwrap_or(own);
    scope.ends_with(&format!("/{unit}")).then(|| under(root, scope))
}

/// The user manager's own cgroup (what it can delegate): user@UID.service.
pub fn user_manager_cgroup(root: &Path, uid: u32) -> PathBuf {
    root.join(format!("user.slice/user-{uid}.slice/user@{uid}.service"))
}

/// The address of the user's bus: $DBUS_SESSION_BUS_ADDRESS's unix path, else
/// $XDG_RUNTIME_DIR/bus; None when neither is there.
pub fn user_bus_path() -> Option<PathBuf> {
    if let Some(p) = std::env::var("DBUS_SESSION_BUS_ADDRESS").ok().and_then(|a| super::dbus::unix_path(&a)) {
        return Some(p);
    }
    let p = PathBuf::from(std::env::var_os("XDG_RUNTIME_DIR")?).join("bus");
    p.exists().then_some(p)
}

/// The system bus (root's containers).
pub fn system_bus_path() -> Option<PathBuf> {
    let p = std::env::var("DBUS_SYSTEM_BUS_ADDRESS")
        .ok()
        .and_then(|a| super::dbus::unix_path(&a))
        .unwrap_or_else(|| PathBuf::from("/run/dbus/system_bus_socket"));
    p.exists().then_some(p)
}

#[cfg(test)]
pub mod tests {
    use super::super::fs::fake::FakeFs;
    use super::super::{CgroupPath, Host, Manager, Version};
    use super::*;
    use oci_spec::runtime::{LinuxMemoryBuilder, LinuxResourcesBuilder};

    /// Plays systemd: records the call, makes the scope under the user manager's tree and
    /// moves the PID there.
    pub struct FakeBus<'a> {
        pub fs: &'a FakeFs,
        pub calls: Vec<(String, Vec<(String, Prop)>)>,
        pub refuse: Option<String>,
    }

    impl SystemdBus for FakeBus<'_> {
        fn start_transient_unit(&mut self, name: &str, props: &[(&str, Prop)]) -> Result<(), String> {
            self.calls.push((name.to_string(), props.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()));
            if let Some(e) = &self.refuse {
                return Err(e.clone());
            }
            let rel = format!("/user.slice/user-1000.slice/user@1000.service/user.slice/{name}");
            let dir = format!("/cg{rel}");
            self.fs.dir(&dir, 1000);
            self.fs
                .file(&format!("{dir}/cgroup.controllers"), "cpu memory pids")
                .file(&format!("{dir}/cgroup.subtree_control",), "")
                .file(&format!("{dir}/cgroup.procs"), "77\n")
                .file("/proc/self/cgroup", &format!("0::{rel}\n"));
            Ok(())
        }
    }

    fn tree() -> FakeFs {
        let mut fs = FakeFs::new(1000);
        fs.dir("/cg", 0);
        fs.new_dir_files = vec![("memory.max", "max"), ("memory.events", "low 0\noom_kill 1\n")];
        fs
    }

    #[test]
    fn scope_for_the_monitor_with_a_container_leaf() {
        let fs = tree();
        let h = Host { version: Version::V2, hybrid: false, root: "/cg".into(), systemd: true };
        let mut bus = FakeBus { fs: &fs, calls: vec![], refuse: None };
        let res = LinuxResourcesBuilder::default()
            .memory(LinuxMemoryBuilder::default().limit(512i64 << 20).build().unwrap())
            .build()
            .unwrap();
        let m = Manager::new(&fs, &h, CgroupPath::parse("user.slice:kiste:abc").unwrap());
        let join = m.create(&res, 77, Some(&mut bus)).unwrap();
        let scope = "/cg/user.slice/user-1000.slice/user@1000.service/user.slice/kiste-abc.scope";
        assert_eq!(join, vec![PathBuf::from(format!("{scope}/container"))]);
        let (name, props) = &bus.calls[0];
        assert_eq!(name, "kiste-abc.scope");
        assert!(props.contains(&("PIDs".into(), Prop::U32s(vec![77]))));
        assert!(props.contains(&("Delegate".into(), Prop::Bool(true))));
        assert!(props.contains(&("Slice".into(), Prop::Str("user.slice".into()))));
        // The monitor left the scope's own cgroup for its leaf, so controllers could be enabled.
        assert_eq!(fs.get(&format!("{scope}/supervisor/cgroup.procs")).unwrap(), "77\n");
        assert_eq!(fs.get(&format!("{scope}/cgroup.subtree_control")).unwrap(), "memory pids");
        assert_eq!(fs.get(&format!("{scope}/container/memory.max")).unwrap(), "536870912");
        // Outside the scope (the CLI's update, pause), PID 1's cgroup names it.
        fs.file("/proc/self/cgroup", "0::/user.slice/user-1000.slice/session-1.scope\n");
        fs.file("/proc/88/cgroup", &format!("0::{}/container\n", scope.trim_start_matches("/cg")));
        assert!(m.dirs().is_empty(), "found without a PID 1");
        let outside = Manager::new(&fs, &h, CgroupPath::parse("user.slice:kiste:abc").unwrap()).running(88);
        assert_eq!(outside.dirs()[0].1, PathBuf::from(format!("{scope}/container")));
        // The monitor, inside, finds the container's leaf later (OOM kills, removal).
        fs.file("/proc/self/cgroup", &format!("0::{}/supervisor\n", scope.trim_start_matches("/cg")));
        assert_eq!(m.oom_kills(), 1);
        m.remove().unwrap();
        assert!(!fs.has_dir(&format!("{scope}/container")));
    }

    #[test]
    fn systemd_errors_are_reported() {
        let fs = tree();
        let h = Host { version: Version::V2, hybrid: false, root: "/cg".into(), systemd: true };
        let mut bus =
            FakeBus { fs: &fs, calls: vec![], refuse: Some("org.freedesktop.DBus.Error.AccessDenied: no".into()) };
        let m = Manager::new(&fs, &h, CgroupPath::parse("user.slice:kiste:abc").unwrap());
        let e = m.create(&LinuxResources::default(), 77, Some(&mut bus)).unwrap_err().to_string();
        assert!(e.contains("kiste-abc.scope") && e.contains("AccessDenied"), "{e}");
    }
}
