//! Where a user's containers get cgroups, decided before anything is created: the manager
//! (cgroupfs or systemd), the delegated directory, and for each controller whether the
//! user may use it and why not — with the exact commands an administrator runs to delegate
//! it. Used by `create` (limits that cannot be applied fail there, nothing made) and by
//! `kiste info`. Reads a few files; never writes.
//!
//! Delegated directories: `--cgroup-parent` (or containers.conf `cgroup_parent`) when
//! given. Else on cgroup v1 `/kiste/UID` in every hierarchy (`/kiste` for root), made and
//! chowned to the user by the administrator; on cgroup v2 a transient systemd scope in
//! `user.slice` when systemd and the user's bus are there, else the user's own cgroup when
//! the user owns it.

use super::fs::{CgroupFs, under};
use super::{CgroupError, CgroupPath, Controller, Host, Version, systemd, v2};
use std::path::Path;

/// containers.conf `cgroups` / `--cgroups`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CgroupsMode {
    #[default]
    Enabled,
    NoConmon,
    Split,
    Disabled,
}

impl CgroupsMode {
    /// As `--cgroups` and containers.conf spell it.
    pub fn name(self) -> &'static str {
        match self {
            CgroupsMode::Enabled => "enabled",
            CgroupsMode::NoConmon => "no-conmon",
            CgroupsMode::Split => "split",
            CgroupsMode::Disabled => "disabled",
        }
    }
}

impl std::str::FromStr for CgroupsMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "enabled" => Ok(CgroupsMode::Enabled),
            "no-conmon" => Ok(CgroupsMode::NoConmon),
            "split" => Ok(CgroupsMode::Split),
            "disabled" => Ok(CgroupsMode::Disabled),
            o => Err(format!("invalid --cgroups \"{o}\": use enabled, disabled, no-conmon or split")),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ManagerKind {
    Cgroupfs,
    Systemd,
}

impl ManagerKind {
    pub fn name(self) -> &'static str {
        match self {
            ManagerKind::Cgroupfs => "cgroupfs",
            ManagerKind::Systemd => "systemd",
        }
    }
}

/// What the decision depends on besides the filesystem.
pub struct PlanInput<'a> {
    pub uid: u32,
    pub rootful: bool,
    pub mode: CgroupsMode,
    /// `--cgroup-parent`, else containers.conf `cgroup_parent`.
    pub parent: Option<&'a str>,
    /// containers.conf `[engine] cgroup_manager`.
    pub manager: Option<ManagerKind>,
    /// The text of /proc/self/cgroup.
    pub own: &'a str,
    /// Whether systemd's bus (the user's, or the system's for root) is there.
    pub bus: bool,
}

/// The user's cgroup situation.
#[derive(Debug, Clone)]
pub struct Assessment {
    pub version: Version,
    pub hybrid: bool,
    pub manager: ManagerKind,
    /// cgroupfs: the delegated directory relative to each hierarchy's root; systemd: the slice.
    pub parent: String,
    /// Per controller: usable, or why not (with the way to delegate it).
    pub controllers: Vec<(Controller, Result<(), String>)>,
}

impl Assessment {
    pub fn usable(&self, c: Controller) -> bool {
        self.controllers.iter().any(|(x, r)| *x == c && r.is_ok())
    }
    fn why_not(&self, c: Controller) -> Option<&str> {
        self.controllers.iter().find(|(x, _)| *x == c).and_then(|(_, r)| r.as_ref().err().map(String::as_str))
    }
}

/// The text an administrator runs to give `uid` the v1 hierarchies `cs` under `parent`.
pub fn howto_v1(cs: &[Controller], root: &Path, parent: &str, uid: u32) -> String {
    let names: Vec<&str> = cs.iter().map(|c| c.v1_name()).collect();
    let rel = parent.trim_start_matches('/');
    let r = root.display();
    let mut s = format!(
        "as root run: for c in {}; do mkdir -p {r}/$c/{rel} && chown {uid} {r}/$c/{rel}; done",
        names.join(" ")
    );
    if cs.contains(&Controller::Cpuset) {
        let mut levels = Vec::new();
        let mut acc = String::new();
        for part in rel.split('/').filter(|p| !p.is_empty()) {
            acc = if acc.is_empty() { part.to_string() } else { format!("{acc}/{part}") };
            levels.push(acc.clone());
        }
        s.push_str(&format!(
            "; cd {r}/cpuset && for d in {}; do cat cpuset.cpus > $d/cpuset.cpus && cat cpuset.mems > $d/cpuset.mems; done",
            levels.join(" ")
        ));
    }
    s
}

/// How an administrator delegates v2 controllers to users under systemd.
pub const HOWTO_V2: &str = "as root run: mkdir -p /etc/systemd/system/user@.service.d && printf '[Service]\\nDelegate=memory pids cpu cpuset io\\n' > /etc/systemd/system/user@.service.d/delegate.conf && systemctl daemon-reload, then log in again";

/// Decides the manager and the delegated directory, and checks the controllers `which`.
pub fn assess(fs: &dyn CgroupFs, host: &Host, inp: &PlanInput, which: &[Controller]) -> Assessment {
    let own = own_v2(inp.own);
    let systemd_parent = inp.parent.filter(|p| p.ends_with(".slice"));
    let manager = match host.version {
        Version::V1 => ManagerKind::Cgroupfs,
        Version::V2 if inp.mode == CgroupsMode::Split => ManagerKind::Cgroupfs,
        Version::V2 if systemd_parent.is_some() => ManagerKind::Systemd,
        Version::V2 if inp.parent.is_some() => ManagerKind::Cgroupfs,
        Version::V2 => match inp.manager {
            Some(m) => m,
            None if host.systemd && inp.bus => ManagerKind::Systemd,
            None => ManagerKind::Cgroupfs,
        },
    };
    let parent = match (host.version, manager, inp.parent) {
        (_, ManagerKind::Systemd, Some(p)) => p.to_string(),
        (_, ManagerKind::Systemd, None) => if inp.rootful { "machine.slice" } else { "user.slice" }.to_string(),
        (Version::V2, _, Some(p)) if inp.mode != CgroupsMode::Split => p.to_string(),
        (Version::V2, _, _) => v2::delegated_of(own).to_string(),
        (Version::V1, _, Some(p)) => p.to_string(),
        (Version::V1, _, None) if inp.rootful => "/kiste".to_string(),
        (Version::V1, _, None) => format!("/kiste/{}", inp.uid),
    };
    let controllers = match (host.version, manager) {
        (Version::V1, _) => which.iter().map(|c| (*c, check_v1(fs, host, inp, &parent, *c))).collect(),
        (Version::V2, ManagerKind::Systemd) => {
            let dir = if inp.rootful { host.root.clone() } else { systemd::user_manager_cgroup(&host.root, inp.uid) };
            let avail = fs.read(&dir.join("cgroup.controllers")).unwrap_or_default();
            which
                .iter()
                .map(|c| {
                    let ok = c.v2_name().is_none_or(|n| avail.split_whitespace().any(|a| a == n));
                    let why = || format!("systemd does not delegate it to your user manager; {HOWTO_V2}");
                    (*c, if ok { Ok(()) } else { Err(why()) })
                })
                .collect()
        }
        (Version::V2, ManagerKind::Cgroupfs) => check_v2(fs, host, inp, &parent, which),
    };
    Assessment { version: host.version, hybrid: host.hybrid, manager, parent, controllers }
}

/// The process's v2 cgroup from /proc/self/cgroup ("0::PATH").
pub fn own_v2(text: &str) -> &str {
    text.lines().find_map(|l| l.strip_prefix("0::")).map(str::trim).unwrap_or("/")
}

fn check_v1(fs: &dyn CgroupFs, host: &Host, inp: &PlanInput, parent: &str, c: Controller) -> Result<(), String> {
    let mount = host.root.join(c.v1_name());
    if !fs.exists(&mount) {
        return Err(format!("the {} hierarchy is not mounted at {}", c.v1_name(), mount.display()));
    }
    if inp.rootful {
        return Ok(());
    }
    let dir = under(&mount, parent);
    let howto = || howto_v1(&[c], &host.root, parent, inp.uid);
    match fs.owner(&dir) {
        Ok(u) if u == inp.uid => {}
        Ok(u) => return Err(format!("{} belongs to uid {u}, not to you; {}", dir.display(), howto())),
        Err(_) => return Err(format!("{} does not exist; {}", dir.display(), howto())),
    }
    if c == Controller::Cpuset && fs.read(&dir.join("cpuset.cpus")).unwrap_or_default().trim().is_empty() {
        return Err(format!("{}/cpuset.cpus is empty; {}", dir.display(), howto()));
    }
    Ok(())
}

fn check_v2(
    fs: &dyn CgroupFs,
    host: &Host,
    inp: &PlanInput,
    parent: &str,
    which: &[Controller],
) -> Vec<(Controller, Result<(), String>)> {
    let dir = under(&host.root, parent);
    let owned = inp.rootful || fs.owner(&dir).is_ok_and(|u| u == inp.uid);
    let on = fs.read(&dir.join("cgroup.subtree_control")).unwrap_or_default();
    let avail = fs.read(&dir.join("cgroup.controllers")).unwrap_or_default();
    which
        .iter()
        .map(|c| {
            let r = match c.v2_name() {
                _ if !owned => Err(format!(
                    "your cgroup {} is not yours to manage; run kiste from a delegated cgroup (a systemd user \
                     service with Delegate=yes) or give --cgroup-parent a delegated one",
                    dir.display()
                )),
                None => Ok(()),
                Some(n) if on.split_whitespace().chain(avail.split_whitespace()).any(|a| a == n) => Ok(()),
                Some(n) => Err(format!("the {n} controller is not delegated to {}; {HOWTO_V2}", dir.display())),
            };
            (*c, r)
        })
        .collect()
}

/// The container's cgroupsPath when every controller in `needed` (with the flag that needs
/// it) is usable; the error names the first one that is not and how to delegate it.
pub fn plan(a: &Assessment, id: &str, needed: &[(Controller, String)]) -> Result<CgroupPath, CgroupError> {
    for (c, flag) in needed {
        if let Some(why) = a.why_not(*c) {
            return Err(CgroupError::NotDelegated(format!(
                "{flag} needs the {} cgroup controller, which you may not use: {why}; or set cgroups = \"disabled\" \
                 in containers.conf to run without limits",
                c.name(a.version)
            )));
        }
    }
    Ok(match a.manager {
        ManagerKind::Systemd => {
            CgroupPath::Systemd { slice: a.parent.clone(), prefix: "kiste".into(), name: id.to_string() }
        }
        ManagerKind::Cgroupfs => CgroupPath::Fs(format!("{}/kiste-{id}", a.parent.trim_end_matches('/'))),
    })
}

#[cfg(test)]
mod tests {
    use super::super::fs::fake::FakeFs;
    use super::*;

    fn input(own: &str) -> PlanInput<'_> {
        PlanInput {
            uid: 1000,
            rootful: false,
            mode: CgroupsMode::Enabled,
            parent: None,
            manager: None,
            own,
            bus: false,
        }
    }

    #[test]
    fn v1_uses_the_conventional_directory_and_says_how_to_make_it() {
        let fs = FakeFs::new(1000);
        fs.dir("/cg/memory", 0).dir("/cg/memory/kiste/1000", 1000).dir("/cg/pids", 0).dir("/cg/cpuset", 0);
        fs.dir("/cg/cpuset/kiste/1000", 1000).file("/cg/cpuset/kiste/1000/cpuset.cpus", "\n");
        let host = Host { version: Version::V1, hybrid: true, root: "/cg".into(), systemd: false };
        let all = [Controller::Memory, Controller::Pids, Controller::Cpuset];
        let a = assess(&fs, &host, &input("0::/\n"), &all);
        assert_eq!((a.manager, a.parent.as_str()), (ManagerKind::Cgroupfs, "/kiste/1000"));
        assert!(a.usable(Controller::Memory) && !a.usable(Controller::Pids) && !a.usable(Controller::Cpuset));
        let p = plan(&a, "abc", &[(Controller::Memory, "--memory".into())]).unwrap();
        assert_eq!(p, CgroupPath::Fs("/kiste/1000/kiste-abc".into()));
        let e = plan(&a, "abc", &[(Controller::Pids, "--pids-limit".into())]).unwrap_err().to_string();
        assert!(
            e.starts_with("--pids-limit needs the pids cgroup controller")
                && e.contains("mkdir -p /cg/$c/kiste/1000 && chown 1000 /cg/$c/kiste/1000")
                && !e.contains('\n'),
            "{e}"
        );
        let e = plan(&a, "abc", &[(Controller::Cpuset, "--cpuset-cpus".into())]).unwrap_err().to_string();
        assert!(e.contains("for d in kiste kiste/1000; do cat cpuset.cpus"), "{e}");
    }

    #[test]
    fn v2_picks_systemd_when_its_bus_is_there_else_the_own_cgroup() {
        let fs = FakeFs::new(1000);
        fs.dir("/cg/user.slice/user-1000.slice/user@1000.service", 1000)
            .file("/cg/user.slice/user-1000.slice/user@1000.service/cgroup.controllers", "cpu memory pids");
        fs.dir("/cg/u", 1000).file("/cg/u/cgroup.controllers", "memory").file("/cg/u/cgroup.subtree_control", "");
        let host = Host { version: Version::V2, hybrid: false, root: "/cg".into(), systemd: true };
        let which = [Controller::Memory, Controller::Cpuset];
        let mut inp = input("0::/u/kiste-leaf\n");
        inp.bus = true;
        let a = assess(&fs, &host, &inp, &which);
        assert_eq!((a.manager, a.parent.as_str()), (ManagerKind::Systemd, "user.slice"));
        assert!(a.usable(Controller::Memory) && !a.usable(Controller::Cpuset));
        assert_eq!(
            plan(&a, "abc", &[]).unwrap(),
            CgroupPath::Systemd { slice: "user.slice".into(), prefix: "kiste".into(), name: "abc".into() }
        );
        inp.bus = false;
        let a = assess(&fs, &host, &inp, &which);
        assert_eq!((a.manager, a.parent.as_str()), (ManagerKind::Cgroupfs, "/u"));
        assert!(a.usable(Controller::Memory) && !a.usable(Controller::Cpuset));
        let e = plan(&a, "abc", &[(Controller::Cpuset, "--cpuset-cpus".into())]).unwrap_err().to_string();
        assert!(e.contains("cpuset controller is not delegated to /cg/u") && e.contains("Delegate="), "{e}");
        // Not the user's cgroup at all.
        let fs2 = FakeFs::new(1000);
        fs2.dir("/cg/session.scope", 0).file("/cg/session.scope/cgroup.controllers", "memory");
        let a = assess(&fs2, &host, &input("0::/session.scope\n"), &which);
        assert!(!a.usable(Controller::Memory));
    }
}
