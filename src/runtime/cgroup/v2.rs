//! cgroup v2 on a delegated subtree (the user's own cgroup, a `--cgroup-parent`, or a
//! systemd scope): the controllers the limits need are enabled in the parent's
//! `cgroup.subtree_control` — after moving the parent's processes into a leaf
//! (`kiste-leaf`) when the no-internal-process rule refuses, as podman and crun do — and
//! the container's directory gets the limit files.

use super::fs::{self, CgroupFs};
use super::{CgroupError, resources};
use oci_spec::runtime::LinuxResources;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where the processes that were in a delegated cgroup go when it must enable controllers.
pub const LEAF: &str = "kiste-leaf";

/// Enabled when available, for stats and OOM reporting (cpu.stat needs nothing).
const FOR_STATS: [&str; 2] = ["memory", "pids"];

pub fn create(fs: &dyn CgroupFs, parent: &Path, name: &str, res: &LinuxResources) -> Result<Vec<PathBuf>, CgroupError> {
    let writes = resources::v2(res).map_err(CgroupError::Unsupported)?;
    let needed: BTreeSet<&str> = writes.iter().filter_map(|w| w.controller.v2_name()).collect();
    enable(fs, parent, &needed)?;
    let dir = parent.join(name);
    let made = match fs.mkdir(&dir) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
        Err(e) if fs::is_denied(&e) => {
            return Err(CgroupError::NotDelegated(format!(
                "cannot create the cgroup {}: {e}; {} is not delegated to you",
                dir.display(),
                parent.display()
            )));
        }
        Err(e) => return Err(CgroupError::io("cannot create", &dir, e)),
    };
    for w in &writes {
        if let Err(e) = super::write_one(fs, &dir, w) {
            if made {
                let _ = fs.rmdir(&dir);
            }
            return Err(e);
        }
    }
    Ok(vec![dir])
}

/// Enables in `parent` the controllers `needed` (which must be available there) and those
/// wanted for stats (when available).
pub fn enable(fs: &dyn CgroupFs, parent: &Path, needed: &BTreeSet<&str>) -> Result<(), CgroupError> {
    let sub_path = parent.join("cgroup.subtree_control");
    let on = fs.read(&sub_path).map_err(|e| CgroupError::io("cannot read", &sub_path, e))?;
    let on: BTreeSet<&str> = on.split_whitespace().collect();
    let want: BTreeSet<&str> = needed.iter().copied().chain(FOR_STATS).filter(|c| !on.contains(c)).collect();
    if want.is_empty() {
        return Ok(());
    }
    let avail_path = parent.join("cgroup.controllers");
    let avail = fs.read(&avail_path).map_err(|e| CgroupError::io("cannot read", &avail_path, e))?;
    let avail: BTreeSet<&str> = avail.split_whitespace().collect();
    let missing: Vec<&str> = needed.iter().copied().filter(|c| !on.contains(c) && !avail.contains(c)).collect();
    if !missing.is_empty() {
        return Err(CgroupError::NotDelegated(format!(
            "the {} controller{} not delegated to {}; {}",
            missing.join(", "),
            if missing.len() == 1 { " is" } else { "s are" },
            parent.display(),
            super::plan::HOWTO_V2
        )));
    }
    let line: Vec<String> = want.iter().filter(|c| avail.contains(*c)).map(|c| format!("+{c}")).collect();
    if line.is_empty() {
        return Ok(());
    }
    let line = line.join(" ");
    match fs.write(&sub_path, &line) {
        Ok(()) => Ok(()),
        Err(e) if fs::is_busy(&e) => {
            move_to_leaf(fs, parent)?;
            fs.write(&sub_path, &line).map_err(|e| CgroupError::io("cannot write", &sub_path, e))
        }
        Err(e) if fs::is_denied(&e) => Err(CgroupError::NotDelegated(format!(
            "cannot enable {line} in {}: {e}; the cgroup is not delegated to you",
            sub_path.display()
        ))),
        Err(e) => Err(CgroupError::io("cannot write", &sub_path, e)),
    }
}

/// Moves every process of `parent` into `parent/kiste-leaf`: a cgroup with processes may
/// not enable controllers for its children.
fn move_to_leaf(fs: &dyn CgroupFs, parent: &Path) -> Result<(), CgroupError> {
    let leaf = parent.join(LEAF);
    match fs.mkdir(&leaf) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(CgroupError::io("cannot create", &leaf, e)),
    }
    let procs = parent.join("cgroup.procs");
    let pids = fs.read(&procs).map_err(|e| CgroupError::io("cannot read", &procs, e))?;
    let target = leaf.join("cgroup.procs");
    for pid in pids.split_whitespace() {
        match fs.write(&target, pid) {
            Ok(()) => {}
            // Gone meanwhile.
            Err(e) if e.raw_os_error() == Some(libc::ESRCH) => {}
            Err(e) => return Err(CgroupError::io("cannot move a process into", &leaf, e)),
        }
    }
    Ok(())
}

/// The delegated cgroup for a process whose own cgroup is `own`: itself, or its parent when
/// an earlier start moved it into the leaf.
pub fn delegated_of(own: &str) -> &str {
    match own.rsplit_once('/') {
        Some((parent, leaf)) if leaf == LEAF => {
            if parent.is_empty() {
                "/"
            } else {
                parent
            }
        }
        _ => own,
    }
}

#[cfg(test)]
mod tests {
    use super::super::fs::fake::FakeFs;
    use super::super::{CgroupPath, Host, Manager, Version};
    use super::*;
    use oci_spec::runtime::{LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResourcesBuilder};

    fn host() -> Host {
        Host { version: Version::V2, hybrid: false, root: "/cg".into(), systemd: false }
    }

    /// The user's own cgroup /u (owned by 1000) with processes, `avail` delegated to it.
    fn tree(avail: &str) -> FakeFs {
        let mut fs = FakeFs::new(1000);
        fs.dir("/cg", 0).dir("/cg/u", 1000);
        fs.file("/cg/u/cgroup.controllers", avail)
            .file("/cg/u/cgroup.subtree_control", "")
            .file("/cg/u/cgroup.procs", "41\n42\n");
        fs.new_dir_files = vec![
            ("memory.max", "max"),
            ("memory.swap.max", "max"),
            ("pids.max", "max"),
            ("memory.events", "oom_kill 0\n"),
        ];
        fs
    }

    fn res() -> LinuxResources {
        LinuxResourcesBuilder::default()
            .memory(LinuxMemoryBuilder::default().limit(64i64 << 20).swap(128i64 << 20).build().unwrap())
            .pids(LinuxPidsBuilder::default().limit(50).build().unwrap())
            .build()
            .unwrap()
    }

    #[test]
    fn enables_controllers_after_moving_the_parents_processes_into_a_leaf() {
        let fs = tree("cpu memory pids");
        let h = host();
        let m = Manager::new(&fs, &h, CgroupPath::parse("/u/kiste-abc").unwrap());
        let join = m.create(&res(), 1, None).unwrap();
        assert_eq!(join, vec![PathBuf::from("/cg/u/kiste-abc")]);
        assert_eq!(fs.get("/cg/u/cgroup.subtree_control").unwrap(), "memory pids");
        assert_eq!(fs.get("/cg/u/kiste-leaf/cgroup.procs").unwrap(), "41\n42\n");
        assert_eq!(fs.get("/cg/u/cgroup.procs").unwrap().trim(), "");
        assert_eq!(fs.get("/cg/u/kiste-abc/memory.max").unwrap(), "67108864");
        assert_eq!(fs.get("/cg/u/kiste-abc/memory.swap.max").unwrap(), "67108864");
        assert_eq!(fs.get("/cg/u/kiste-abc/pids.max").unwrap(), "50");
        // A second container: nothing to enable, nothing to move.
        let before = fs.writes.borrow().len();
        Manager::new(&fs, &h, CgroupPath::parse("/u/kiste-def").unwrap()).create(&res(), 1, None).unwrap();
        assert_eq!(fs.writes.borrow().len(), before + 3, "only the three limit files");
        assert_eq!(delegated_of("/u/kiste-leaf"), "/u");
        assert_eq!(delegated_of("/u"), "/u");
        m.remove().unwrap();
        assert!(!fs.has_dir("/cg/u/kiste-abc"));
    }

    #[test]
    fn a_controller_not_delegated_is_named_with_the_systemd_drop_in() {
        let fs = tree("cpu memory");
        let h = host();
        let m = Manager::new(&fs, &h, CgroupPath::parse("/u/kiste-abc").unwrap());
        let e = m.create(&res(), 1, None).unwrap_err().to_string();
        assert!(e.contains("pids controller is not delegated") && e.contains("Delegate="), "{e}");
        assert!(!fs.has_dir("/cg/u/kiste-abc"));
    }
}
