//! cgroup v1: the container's directory `<delegated>/<name>` in each hierarchy its limits
//! need, plus memory, cpuacct, pids and freezer when they are delegated too (stats, OOM
//! kills, `pause`). A
//! hierarchy the limits need but the user may not write is an error naming it; one only
//! wanted for stats is skipped. No walks: one mkdir per hierarchy, then the limit files.

use super::fs::{self, CgroupFs, under};
use super::{CgroupError, Controller, resources};
use oci_spec::runtime::LinuxResources;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Joined when delegated, for stats, OOM reporting and pausing, even without a limit.
const WHEN_DELEGATED: [Controller; 4] =
    [Controller::Memory, Controller::Cpuacct, Controller::Pids, Controller::Freezer];

pub fn create(fs: &dyn CgroupFs, root: &Path, rel: &str, res: &LinuxResources) -> Result<Vec<PathBuf>, CgroupError> {
    let writes = resources::v1(res);
    let needed: BTreeSet<Controller> = writes.iter().map(|w| w.controller).collect();
    let mut made = Vec::new();
    let mut join = Vec::new();
    let mut result = Ok(());
    for c in Controller::ALL {
        let required = needed.contains(&c);
        if !required && !WHEN_DELEGATED.contains(&c) {
            continue;
        }
        let mount = root.join(c.v1_name());
        let dir = under(&mount, rel);
        match make(fs, &mount, &dir, &mut made) {
            Ok(()) => {}
            Err(e) if !required && fs::is_denied(&e) => continue,
            Err(e) if fs::is_denied(&e) => {
                result = Err(CgroupError::NotDelegated(format!(
                    "cannot create the {} cgroup {}: {e}; {}",
                    c.v1_name(),
                    dir.display(),
                    super::plan::howto_v1(&[c], root, parent_rel(rel), nix::unistd::geteuid().as_raw())
                )));
                break;
            }
            Err(e) => {
                result = Err(CgroupError::io("cannot create", &dir, e));
                break;
            }
        }
        if let Err(e) = fill(fs, &dir, c, &writes) {
            result = Err(e);
            break;
        }
        join.push(dir);
    }
    if let Err(e) = result {
        for d in made.iter().rev() {
            let _ = fs.rmdir(d);
        }
        return Err(e);
    }
    Ok(join)
}

/// "/a/b/leaf" -> "/a/b".
fn parent_rel(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(p, _)| p)
}

/// mkdir, reusing a leftover; missing ancestors are made too (root may, a user gets the
/// permission error of the first one it may not make).
fn make(fs: &dyn CgroupFs, mount: &Path, dir: &Path, made: &mut Vec<PathBuf>) -> std::io::Result<()> {
    match fs.mkdir(dir) {
        Ok(()) => {
            made.push(dir.to_path_buf());
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let parent = dir.parent().filter(|p| p.starts_with(mount) && *p != mount).ok_or(e)?;
            make(fs, mount, parent, made)?;
            fs.mkdir(dir)?;
            made.push(dir.to_path_buf());
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// The limit files of one hierarchy; cpuset takes its parent's CPUs and memory nodes when
/// not given (a v1 cpuset without them admits no task).
fn fill(fs: &dyn CgroupFs, dir: &Path, c: Controller, writes: &[resources::Write]) -> Result<(), CgroupError> {
    if c == Controller::Cpuset {
        for file in ["cpuset.cpus", "cpuset.mems"] {
            if writes.iter().any(|w| w.file == file) {
                continue;
            }
            let parent = dir.parent().unwrap_or(dir).join(file);
            let v = fs.read(&parent).map_err(|e| CgroupError::io("cannot read", &parent, e))?;
            if v.trim().is_empty() {
                return Err(CgroupError::NotDelegated(format!(
                    "{} is empty: as root copy cpuset.cpus and cpuset.mems into the delegated directory from its parent",
                    parent.display()
                )));
            }
            let w = resources::Write { controller: c, file, value: v.trim().to_string(), if_present: false };
            super::write_one(fs, dir, &w)?;
        }
    }
    for w in writes.iter().filter(|w| w.controller == c) {
        if w.file == "blkio.weight" && !fs.exists(&dir.join(w.file)) {
            // Kernels with BFQ name it blkio.bfq.weight; without BFQ there is none.
            if !fs.exists(&dir.join("blkio.bfq.weight")) {
                return Err(CgroupError::Unsupported(
                    "--blkio-weight: this kernel's blkio controller has no weight (it needs the BFQ I/O scheduler)"
                        .into(),
                ));
            }
            super::write_one(fs, dir, &resources::Write { file: "blkio.bfq.weight", ..w.clone() })?;
            continue;
        }
        super::write_one(fs, dir, w)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::fs::fake::FakeFs;
    use super::super::{CgroupPath, Host, Manager, Version};
    use super::*;
    use oci_spec::runtime::{LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResourcesBuilder};

    fn host() -> Host {
        Host { version: Version::V1, hybrid: true, root: "/cg".into(), systemd: false }
    }

    /// Hierarchies with /kiste/1000 delegated to uid 1000, except `missing`.
    fn tree(missing: &[&str]) -> FakeFs {
        let fs = FakeFs::new(1000);
        fs.dir("/cg", 0);
        for c in ["memory", "cpu", "cpuacct", "cpuset", "pids", "blkio", "freezer"] {
            fs.dir(&format!("/cg/{c}"), 0).dir(&format!("/cg/{c}/kiste"), 0);
            if !missing.contains(&c) {
                fs.dir(&format!("/cg/{c}/kiste/1000"), 1000);
            }
        }
        fs.file("/cg/cpuset/kiste/1000/cpuset.cpus", "0-1\n").file("/cg/cpuset/kiste/1000/cpuset.mems", "0\n");
        fs
    }

    fn limits() -> LinuxResources {
        LinuxResourcesBuilder::default()
            .memory(LinuxMemoryBuilder::default().limit(64i64 << 20).build().unwrap())
            .cpu(LinuxCpuBuilder::default().quota(50_000i64).period(100_000u64).build().unwrap())
            .pids(LinuxPidsBuilder::default().limit(50).build().unwrap())
            .build()
            .unwrap()
    }

    #[test]
    fn creates_writes_and_removes_in_the_delegated_directories() {
        let mut fs = tree(&[]);
        fs.new_dir_files = vec![
            ("memory.limit_in_bytes", ""),
            ("memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n"),
            ("cpu.cfs_period_us", ""),
            ("cpu.cfs_quota_us", ""),
            ("pids.max", ""),
            ("cpuset.cpus", ""),
            ("cpuset.mems", ""),
        ];
        let h = host();
        let m = Manager::new(&fs, &h, CgroupPath::parse("/kiste/1000/kiste-abc").unwrap());
        let join = m.create(&limits(), 1, None).unwrap();
        let names: Vec<String> = join.iter().map(|p| p.display().to_string()).collect();
        assert_eq!(
            names,
            [
                "/cg/memory/kiste/1000/kiste-abc",
                "/cg/cpu/kiste/1000/kiste-abc",
                "/cg/cpuacct/kiste/1000/kiste-abc",
                "/cg/pids/kiste/1000/kiste-abc",
                "/cg/freezer/kiste/1000/kiste-abc"
            ]
        );
        assert_eq!(fs.get("/cg/memory/kiste/1000/kiste-abc/memory.limit_in_bytes").unwrap(), "67108864");
        // No swap accounting file here: the implicit swap limit is skipped, not an error.
        assert_eq!(fs.get("/cg/cpu/kiste/1000/kiste-abc/cpu.cfs_quota_us").unwrap(), "50000");
        assert_eq!(fs.get("/cg/pids/kiste/1000/kiste-abc/pids.max").unwrap(), "50");
        assert!(!fs.has_dir("/cg/cpuset/kiste/1000/kiste-abc"), "cpuset only when asked for");
        fs.file("/cg/memory/kiste/1000/kiste-abc/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        assert_eq!(m.oom_kills(), 2);
        // `update` rewrites the files of the running container's cgroups.
        let more = LinuxResourcesBuilder::default()
            .pids(LinuxPidsBuilder::default().limit(80).build().unwrap())
            .build()
            .unwrap();
        m.update(&more).unwrap();
        assert_eq!(fs.get("/cg/pids/kiste/1000/kiste-abc/pids.max").unwrap(), "80");
        let cpuset = LinuxResourcesBuilder::default()
            .cpu(LinuxCpuBuilder::default().cpus("0").build().unwrap())
            .build()
            .unwrap();
        assert!(m.update(&cpuset).unwrap_err().to_string().contains("no cpuset cgroup"));
        m.remove().unwrap();
        assert!(!fs.has_dir("/cg/memory/kiste/1000/kiste-abc") && !fs.has_dir("/cg/pids/kiste/1000/kiste-abc"));
    }

    #[test]
    fn a_needed_hierarchy_that_is_not_delegated_fails_and_leaves_nothing() {
        let mut fs = tree(&["pids"]);
        fs.new_dir_files = vec![("memory.limit_in_bytes", ""), ("cpu.cfs_period_us", ""), ("cpu.cfs_quota_us", "")];
        let h = host();
        let m = Manager::new(&fs, &h, CgroupPath::parse("/kiste/1000/kiste-abc").unwrap());
        let e = m.create(&limits(), 1, None).unwrap_err().to_string();
        assert!(e.contains("pids") && e.contains("chown"), "{e}");
        assert!(!fs.has_dir("/cg/memory/kiste/1000/kiste-abc"), "the memory cgroup made before was removed");
        // Only wanted for stats: skipped.
        let only_mem = LinuxResourcesBuilder::default()
            .memory(LinuxMemoryBuilder::default().limit(64i64 << 20).build().unwrap())
            .build()
            .unwrap();
        let mut fs2 = tree(&["pids", "cpuacct", "freezer"]);
        fs2.new_dir_files = vec![("memory.limit_in_bytes", "")];
        let m = Manager::new(&fs2, &h, CgroupPath::parse("/kiste/1000/kiste-abc").unwrap());
        assert_eq!(m.create(&only_mem, 1, None).unwrap().len(), 1);
    }

    #[test]
    fn cpuset_inherits_the_parents_cpus_and_mems() {
        let mut fs = tree(&[]);
        fs.new_dir_files = vec![("cpuset.cpus", ""), ("cpuset.mems", "")];
        let h = host();
        let res = LinuxResourcesBuilder::default()
            .cpu(LinuxCpuBuilder::default().cpus("1").build().unwrap())
            .build()
            .unwrap();
        let m = Manager::new(&fs, &h, CgroupPath::parse("/kiste/1000/kiste-abc").unwrap());
        m.create(&res, 1, None).unwrap();
        assert_eq!(fs.get("/cg/cpuset/kiste/1000/kiste-abc/cpuset.cpus").unwrap(), "1");
        assert_eq!(fs.get("/cg/cpuset/kiste/1000/kiste-abc/cpuset.mems").unwrap(), "0");
    }
}
