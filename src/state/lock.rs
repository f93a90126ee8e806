//! Advisory file locks (flock) used to serialise changes to shared state between
//! concurrent kiste invocations. A lock dies with its process, so a SIGKILL never leaves one held.

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

impl FileLock {
    /// Blocks until the exclusive lock on `path` is held.
    pub fn exclusive(path: &Path) -> io::Result<FileLock> {
        let f = open(path)?;
        flock(&f, libc::LOCK_EX)?;
        Ok(FileLock { _file: f })
    }

    /// Takes the exclusive lock if nobody holds it; `None` when it is busy.
    pub fn try_exclusive(path: &Path) -> io::Result<Option<FileLock>> {
        let f = open(path)?;
        match flock(&f, libc::LOCK_EX | libc::LOCK_NB) {
            Ok(()) => Ok(Some(FileLock { _file: f })),
            Err(e) if e.raw_os_error() == Some(libc::EWOULDBLOCK) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

impl FileLock {
    /// Blocks until a shared lock on `path` is held (many holders at once, no exclusive one).
    pub fn shared(path: &Path) -> io::Result<FileLock> {
        let f = open(path)?;
        flock(&f, libc::LOCK_SH)?;
        Ok(FileLock { _file: f })
    }
}
