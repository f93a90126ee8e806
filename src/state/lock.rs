//! Advisory file locks (flock) used to serialise changes to shared state between
//! concurrent kiste invocations. A lock dies with its process, so a SIGKILL never leaves one held.
//! A lock file may be removed while others wait on it (`system reset` removes the whole store):
//! a lock counts only when the file it was taken on is still the one at its path.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::Path;

/// A held lock; released on drop.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

fn open(path: &Path) -> io::Result<File> {
    OpenOptions::new().read(true).write(true).create(true).truncate(false).mode(0o600).open(path)
}

fn flock(f: &File, op: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: flock on a valid, owned descriptor.
        let r = unsafe { libc::flock(f.as_raw_fd(), op) };
        if r == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// True when `f` is still the file at `path` (not removed or replaced while we waited).
fn still_at(f: &File, path: &Path) -> io::Result<bool> {
    use std::os::unix::fs::MetadataExt;
    let held = f.metadata()?;
    Ok(match std::fs::metadata(path) {
        Ok(now) => now.dev() == held.dev() && now.ino() == held.ino(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => false,
        Err(e) => return Err(e),
    })
}

/// Takes `op` on the file at `path`, again on a new file when the old one was removed
/// meanwhile. `None` when a non-blocking `op` finds the lock busy.
fn lock(path: &Path, op: libc::c_int) -> io::Result<Option<FileLock>> {
    loop {
        let f = open(path)?;
        match flock(&f, op) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => return Ok(None),
            Err(e) => return Err(e),
        }
        if still_at(&f, path)? {
            return Ok(Some(FileLock { _file: f }));
        }
    }
}

fn blocking(path: &Path, op: libc::c_int) -> io::Result<FileLock> {
    lock(path, op)?.ok_or_else(|| io::Error::from_raw_os_error(libc::EWOULDBLOCK))
}

impl FileLock {
    /// Blocks until the exclusive lock on `path` is held.
    pub fn exclusive(path: &Path) -> io::Result<FileLock> {
        blocking(path, libc::LOCK_EX)
    }

    /// Takes the exclusive lock if nobody holds it; `None` when it is busy.
    pub fn try_exclusive(path: &Path) -> io::Result<Option<FileLock>> {
        lock(path, libc::LOCK_EX | libc::LOCK_NB)
    }

    /// Blocks until a shared lock on `path` is held (many holders at once, no exclusive one).
    pub fn shared(path: &Path) -> io::Result<FileLock> {
        blocking(path, libc::LOCK_SH)
    }
}

#[cfg(test)]
mod tests {
    use super::FileLock;

    #[test]
    fn a_lock_on_a_removed_file_is_taken_again_on_the_new_one() {
        let dir = crate::testutil::tmpdir("lock");
        let p = dir.join("x.lock");
        let held = FileLock::exclusive(&p).unwrap();
        let p2 = p.clone();
        let waiter = std::thread::spawn(move || {
            let l = FileLock::exclusive(&p2).unwrap();
            // The waiter ends up holding the file now at the path, not the removed one.
            assert!(super::still_at(&l._file, &p2).unwrap());
        });
        std::thread::sleep(std::time::Duration::from_millis(50));
        std::fs::remove_file(&p).unwrap();
        drop(held);
        waiter.join().unwrap();
        assert!(FileLock::try_exclusive(&p).unwrap().is_some());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
