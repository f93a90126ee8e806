//! Pausing a container's processes with the cgroup freezer: v1 writes `freezer.state`
//! (FROZEN / THAWED; FREEZING while the kernel still works on it) in the container's own
//! freezer cgroup, v2 writes `cgroup.freeze` and reads `frozen` in `cgroup.events`. Only
//! those files of the container's cgroup; whether the record says paused is the engine's.

use super::{CgroupError, Controller, Manager, Version};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long the kernel may take to stop every task (a task in an uninterruptible sleep
/// holds a v1 freeze in FREEZING).
const SETTLE: Duration = Duration::from_secs(2);

impl Manager<'_> {
    /// Freezes (`on`) or thaws the container's processes and returns once the kernel says it
    /// took. A freeze that does not settle is undone, and is an error.
    pub fn freeze(&self, on: bool) -> Result<(), CgroupError> {
        self.freeze_within(on, SETTLE)
    }

    fn freeze_within(&self, on: bool, settle: Duration) -> Result<(), CgroupError> {
        let dir = self.freezer_dir()?;
        let (file, value, done) = request(self.host.version, on);
        let path = dir.join(file);
        self.fs.write(&path, value).map_err(|e| CgroupError::io("cannot write", &path, e))?;
        let until = Instant::now() + settle;
        let mut nap = Duration::from_micros(100);
        while self.frozen_at(&dir) != Some(done) {
            if Instant::now() >= until {
                if on {
                    let (_, thaw, _) = request(self.host.version, false);
                    let _ = self.fs.write(&path, thaw);
                }
                return Err(CgroupError::Unsupported(format!(
                    "the container's processes did not {} within {:?} (a process in uninterruptible sleep?); try again",
                    if on { "stop" } else { "resume" },
                    settle
                )));
            }
            std::thread::sleep(nap);
            nap = (nap * 2).min(Duration::from_millis(20));
        }
        Ok(())
    }

    /// Whether the container's processes are frozen; None when it has no freezer cgroup.
    pub fn is_frozen(&self) -> Option<bool> {
        self.frozen_at(&self.freezer_dir().ok()?)
    }

    /// The directory with the container's freezer files; an error says why there is none.
    fn freezer_dir(&self) -> Result<PathBuf, CgroupError> {
        let dirs = self.dirs();
        let dir = dirs.into_iter().find(|(c, _)| *c == Controller::Freezer).map(|(_, d)| d);
        match (dir, &self.path) {
            (Some(d), _) if self.fs.exists(&d) => Ok(d),
            (Some(d), super::CgroupPath::Fs(rel)) if self.host.version == Version::V1 => {
                let parent = rel.rsplit_once('/').map_or("", |(p, _)| p);
                let howto = super::plan::howto_v1(
                    &[Controller::Freezer],
                    &self.host.root,
                    parent,
                    nix::unistd::geteuid().as_raw(),
                );
                Err(CgroupError::NotDelegated(format!(
                    "the container has no freezer cgroup ({} does not exist): the freezer hierarchy was not \
                     delegated to you when it started; {howto}, then restart the container",
                    d.display()
                )))
            }
            _ => Err(CgroupError::Unsupported("the container's cgroup is gone".into())),
        }
    }

    fn frozen_at(&self, dir: &Path) -> Option<bool> {
        match self.host.version {
            Version::V1 => match self.fs.read(&dir.join("freezer.state")).ok()?.trim() {
                "FROZEN" => Some(true),
                "THAWED" => Some(false),
                // FREEZING: neither yet.
                _ => None,
            },
            Version::V2 => {
                let events = self.fs.read(&dir.join("cgroup.events")).ok()?;
                super::stats::keyed(&events, "frozen").map(|n| n == 1)
            }
        }
    }
}

/// The file to write, its value, and the state that says it took.
fn request(v: Version, on: bool) -> (&'static str, &'static str, bool) {
    match (v, on) {
        (Version::V1, true) => ("freezer.state", "FROZEN", true),
        (Version::V1, false) => ("freezer.state", "THAWED", false),
        (Version::V2, true) => ("cgroup.freeze", "1", true),
        (Version::V2, false) => ("cgroup.freeze", "0", false),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fs::fake::FakeFs;
    use super::super::{CgroupPath, Host};
    use super::*;

    fn host(version: Version) -> Host {
        Host { version, hybrid: version == Version::V1, root: "/cg".into(), systemd: false }
    }

    #[test]
    fn v1_freezes_and_thaws_through_freezer_state() {
        let fs = FakeFs::new(1000);
        fs.dir("/cg/freezer/kiste/1000", 1000).dir("/cg/freezer/kiste/1000/kiste-a", 1000);
        fs.file("/cg/freezer/kiste/1000/kiste-a/freezer.state", "THAWED\n");
        let h = host(Version::V1);
        let m = Manager::new(&fs, &h, CgroupPath::Fs("/kiste/1000/kiste-a".into()));
        assert_eq!(m.is_frozen(), Some(false));
        m.freeze(true).unwrap();
        assert_eq!(m.is_frozen(), Some(true));
        m.freeze(false).unwrap();
        let w: Vec<String> = fs.writes.borrow().iter().map(|(_, v)| v.clone()).collect();
        assert_eq!(w, ["FROZEN", "THAWED"]);
    }

    #[test]
    fn v1_without_a_freezer_cgroup_says_how_to_delegate_it() {
        let fs = FakeFs::new(1000);
        fs.dir("/cg/memory/kiste/1000/kiste-a", 1000);
        let h = host(Version::V1);
        let m = Manager::new(&fs, &h, CgroupPath::Fs("/kiste/1000/kiste-a".into()));
        let e = m.freeze(true).unwrap_err().to_string();
        assert!(e.contains("/cg/freezer/kiste/1000") && e.contains("chown"), "{e}");
        assert_eq!(m.is_frozen(), None);
    }

    #[test]
    fn v2_writes_cgroup_freeze_and_waits_for_the_event() {
        let fs = FakeFs::new(1000);
        fs.dir("/cg/user/kiste-a", 1000);
        // The fake kernel: cgroup.events already reports the state asked for.
        fs.file("/cg/user/kiste-a/cgroup.freeze", "0")
            .file("/cg/user/kiste-a/cgroup.events", "populated 1\nfrozen 1\n");
        let h = host(Version::V2);
        let m = Manager::new(&fs, &h, CgroupPath::Fs("/user/kiste-a".into()));
        m.freeze(true).unwrap();
        assert_eq!(fs.get("/cg/user/kiste-a/cgroup.freeze").unwrap(), "1");
        assert_eq!(m.is_frozen(), Some(true));
    }

    #[test]
    fn a_freeze_that_does_not_settle_is_undone() {
        let fs = FakeFs::new(1000);
        fs.dir("/cg/user/kiste-a", 1000);
        fs.file("/cg/user/kiste-a/cgroup.freeze", "0").file("/cg/user/kiste-a/cgroup.events", "frozen 0\n");
        let h = host(Version::V2);
        let m = Manager::new(&fs, &h, CgroupPath::Fs("/user/kiste-a".into()));
        let e = m.freeze_within(true, Duration::from_millis(30)).unwrap_err().to_string();
        assert!(e.contains("did not stop"), "{e}");
        assert_eq!(fs.get("/cg/user/kiste-a/cgroup.freeze").unwrap(), "0");
    }
}
