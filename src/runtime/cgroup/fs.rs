//! The filesystem side of cgroups behind a small trait (`CgroupFs`): the real cgroupfs, and
//! an in-memory tree for unit tests that behaves as the kernel does where the back ends
//! depend on it (mkdir/rmdir errors, the no-internal-process rule of `cgroup.subtree_control`).

use std::io;
use std::path::{Path, PathBuf};

/// What the cgroup back ends do to files. Paths are absolute.
pub trait CgroupFs {
    fn read(&self, p: &Path) -> io::Result<String>;
    fn write(&self, p: &Path, data: &str) -> io::Result<()>;
    /// One directory; an existing one is `AlreadyExists`.
    fn mkdir(&self, p: &Path) -> io::Result<()>;
    fn rmdir(&self, p: &Path) -> io::Result<()>;
    fn exists(&self, p: &Path) -> bool;
    /// The owner's uid.
    fn owner(&self, p: &Path) -> io::Result<u32>;
}

/// The host's cgroupfs.
pub struct RealFs;

impl CgroupFs for RealFs {
    fn read(&self, p: &Path) -> io::Result<String> {
        std::fs::read_to_string(p)
    }
    fn write(&self, p: &Path, data: &str) -> io::Result<()> {
        // One write(2) of the whole value: cgroup files take a value per write, and a new
        // file must never be created by mistake.
        use std::io::Write;
        std::fs::OpenOptions::new().write(true).open(p)?.write_all(data.as_bytes())
    }
    fn mkdir(&self, p: &Path) -> io::Result<()> {
        std::fs::create_dir(p)
    }
    fn rmdir(&self, p: &Path) -> io::Result<()> {
        std::fs::remove_dir(p)
    }
    fn exists(&self, p: &Path) -> bool {
        p.exists()
    }
    fn owner(&self, p: &Path) -> io::Result<u32> {
        use std::os::unix::fs::MetadataExt;
        std::fs::metadata(p).map(|m| m.uid())
    }
}

pub fn is_busy(e: &io::Error) -> bool {
    e.raw_os_error() == Some(libc::EBUSY)
}

/// Whether an error means "not yours / not there": the cgroup is not delegated.
pub fn is_denied(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(libc::EACCES) | Some(libc::EPERM) | Some(libc::EROFS) | Some(libc::ENOENT))
}

/// Joins a cgroup-relative path ("/a/b") under a mount point.
pub fn under(mount: &Path, rel: &str) -> PathBuf {
    let rel = rel.trim_start_matches('/');
    if rel.is_empty() { mount.to_path_buf() } else { mount.join(rel) }
}

#[cfg(test)]
pub mod fake {
    //! An in-memory cgroup tree: directories with an owner, files with contents, and a log of
    //! every write. A v2 directory (one with `cgroup.controllers`) refuses to enable
    //! controllers in `cgroup.subtree_control` while its `cgroup.procs` lists processes, and
    //! moves a PID written into a `cgroup.procs` out of every other one, as the kernel does.
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    /// `EBUSY` (rmdir of a cgroup with tasks, subtree_control with processes).
    fn busy() -> io::Error {
        io::Error::from_raw_os_error(libc::EBUSY)
    }

    #[derive(Default)]
    pub struct FakeFs {
        pub dirs: RefCell<BTreeMap<PathBuf, u32>>,
        pub files: RefCell<BTreeMap<PathBuf, String>>,
        pub writes: RefCell<Vec<(PathBuf, String)>>,
        /// The uid that makes new directories (and owns them).
        pub uid: u32,
        /// Files created in each new directory (as the kernel does), with their contents.
        pub new_dir_files: Vec<(&'static str, &'static str)>,
    }

    impl FakeFs {
        pub fn new(uid: u32) -> FakeFs {
            FakeFs { uid, ..Default::default() }
        }
        pub fn dir(&self, p: &str, owner: u32) -> &Self {
            self.dirs.borrow_mut().insert(PathBuf::from(p), owner);
            self
        }
        pub fn file(&self, p: &str, text: &str) -> &Self {
            self.files.borrow_mut().insert(PathBuf::from(p), text.to_string());
            self
        }
        pub fn get(&self, p: &str) -> Option<String> {
            self.files.borrow().get(Path::new(p)).cloned()
        }
        pub fn has_dir(&self, p: &str) -> bool {
            self.dirs.borrow().contains_key(Path::new(p))
        }
        fn parent_owner(&self, p: &Path) -> io::Result<u32> {
            let parent = p.parent().ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))?;
            self.dirs.borrow().get(parent).copied().ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
        }
        fn move_pid(&self, procs: &Path, pid: &str) {
            let mut files = self.files.borrow_mut();
            for (p, text) in files.iter_mut() {
                if p.file_name().is_some_and(|n| n == "cgroup.procs") && p != procs {
                    *text = text.lines().filter(|l| l.trim() != pid).map(|l| format!("{l}\n")).collect();
                }
            }
            let e = files.entry(procs.to_path_buf()).or_default();
            e.push_str(&format!("{pid}\n"));
        }
    }

    impl CgroupFs for FakeFs {
        fn read(&self, p: &Path) -> io::Result<String> {
            self.files.borrow().get(p).cloned().ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
        }
        fn write(&self, p: &Path, data: &str) -> io::Result<()> {
            if !self.files.borrow().contains_key(p) {
                return Err(io::Error::from_raw_os_error(libc::ENOENT));
            }
            let owner = self.parent_owner(p)?;
            if owner != self.uid && self.uid != 0 {
                return Err(io::Error::from_raw_os_error(libc::EACCES));
            }
            self.writes.borrow_mut().push((p.to_path_buf(), data.to_string()));
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let dir = p.parent().unwrap_or(Path::new("/"));
            match name.as_str() {
                "cgroup.procs" => {
                    self.move_pid(p, data.trim());
                    return Ok(());
                }
                "cgroup.subtree_control" => {
                    let procs = self.files.borrow().get(&dir.join("cgroup.procs")).cloned().unwrap_or_default();
                    if !procs.trim().is_empty() && data.contains('+') {
                        return Err(busy());
                    }
                    let avail = self.files.borrow().get(&dir.join("cgroup.controllers")).cloned().unwrap_or_default();
                    let mut on: Vec<String> = self
                        .files
                        .borrow()
                        .get(p)
                        .cloned()
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(String::from)
                        .collect();
                    for tok in data.split_whitespace() {
                        let (plus, c) = tok.split_at(1);
                        if !avail.split_whitespace().any(|a| a == c) {
                            return Err(io::Error::from_raw_os_error(libc::ENOENT));
                        }
                        on.retain(|x| x != c);
                        if plus == "+" {
                            on.push(c.to_string());
                        }
                    }
                    self.files.borrow_mut().insert(p.to_path_buf(), on.join(" "));
                    return Ok(());
                }
                _ => {}
            }
            self.files.borrow_mut().insert(p.to_path_buf(), data.to_string());
            Ok(())
        }
        fn mkdir(&self, p: &Path) -> io::Result<()> {
            if self.dirs.borrow().contains_key(p) {
                return Err(io::Error::from_raw_os_error(libc::EEXIST));
            }
            let owner = self.parent_owner(p)?;
            if owner != self.uid && self.uid != 0 {
                return Err(io::Error::from_raw_os_error(libc::EACCES));
            }
            self.dirs.borrow_mut().insert(p.to_path_buf(), self.uid);
            let parent = p.parent().unwrap_or(Path::new("/")).to_path_buf();
            let sub = self.files.borrow().get(&parent.join("cgroup.subtree_control")).cloned();
            for (f, text) in &self.new_dir_files {
                self.files.borrow_mut().insert(p.join(f), text.to_string());
            }
            if let Some(sub) = sub {
                // v2: what the parent enables is what the child may enable.
                self.files.borrow_mut().insert(p.join("cgroup.controllers"), sub);
                self.files.borrow_mut().insert(p.join("cgroup.subtree_control"), String::new());
            }
            self.files.borrow_mut().insert(p.join("cgroup.procs"), String::new());
            Ok(())
        }
        fn rmdir(&self, p: &Path) -> io::Result<()> {
            if !self.dirs.borrow().contains_key(p) {
                return Err(io::Error::from_raw_os_error(libc::ENOENT));
            }
            if self.dirs.borrow().keys().any(|d| d != p && d.starts_with(p)) {
                return Err(busy());
            }
            let procs = self.files.borrow().get(&p.join("cgroup.procs")).cloned().unwrap_or_default();
            if !procs.trim().is_empty() {
                return Err(busy());
            }
            self.dirs.borrow_mut().remove(p);
            self.files.borrow_mut().retain(|f, _| !f.starts_with(p));
            Ok(())
        }
        fn exists(&self, p: &Path) -> bool {
            self.dirs.borrow().contains_key(p) || self.files.borrow().contains_key(p)
        }
        fn owner(&self, p: &Path) -> io::Result<u32> {
            self.dirs.borrow().get(p).copied().ok_or_else(|| io::Error::from_raw_os_error(libc::ENOENT))
        }
    }
}
