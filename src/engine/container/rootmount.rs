//! `container mount` / `unmount`: a container's root (its overlay, not its volumes) mounted
//! at `merged` in its directory, in the caller's mount namespace — rootless that is the one
//! of a `kiste unshare` session, where it lives until unmounted or the session ends. A
//! stopped container's overlay is mounted anew; a running one's is the very mount its
//! processes see, cloned out of its namespace (`storage::nsroot`).
//! The mount table is the truth of what is mounted (no counter to go stale); a marker file
//! names the session's mount namespace so that `start` and `cp` refuse a root another
//! namespace has mounted (two overlays on one upper directory see each other's changes
//! late or not at all). Knows nothing of the terminal.

use super::{Container, ContainerError};
use crate::engine::Context;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The marker in a container's directory: the inode of the mount namespace holding its root.
const MARKER: &str = "mounted-in";

fn invalid(msg: String) -> ContainerError {
    ContainerError::Invalid(msg)
}

/// Where container `c`'s root is mounted.
pub fn mountpoint(ctx: &Context, c: &Container) -> PathBuf {
    c.dir(ctx).join("merged")
}

/// Mounts container `c`'s root (when it is not already mounted here) and returns where.
pub fn mount(ctx: &Context, c: &Container) -> Result<PathBuf, ContainerError> {
    let at = mountpoint(ctx, c);
    if is_mountpoint(&at) {
        return Ok(at);
    }
    // Another session mounting it (or a start) meanwhile waits, then sees its marker (or
    // the container running); this session's earlier mount is there to return.
    let _lock = super::cp::root_lock(ctx, c)?;
    let c = &super::lifecycle::reload(ctx, &c.id)?;
    if is_mountpoint(&at) {
        return Ok(at);
    }
    check_not_mounted(ctx, c)?;
    std::fs::create_dir_all(&at).map_err(|e| ContainerError::io("cannot create", &at, e))?;
    match c.pid.filter(|_| c.is_running()) {
        Some(pid) => mount_running(c, pid, &at)?,
        None => {
            let root = super::cp::stopped_root_of(ctx, c)?;
            crate::storage::volcopy::mount_overlay(&at, &root.lower, Some((&root.upper, &root.work)), root.fuse)
                .map_err(|e| invalid(format!("cannot mount container {}'s root: {e}", c.name)))?;
        }
    }
    let marker = c.dir(ctx).join(MARKER);
    if let Err(e) = std::fs::write(&marker, own_namespace().to_string()) {
        let _ = nix::mount::umount2(&at, nix::mount::MntFlags::MNT_DETACH);
        return Err(ContainerError::io("cannot write", &marker, e));
    }
    Ok(at)
}

/// Attaches running container `c`'s root mount (PID 1's) at `at`.
fn mount_running(c: &Container, pid: i64, at: &Path) -> Result<(), ContainerError> {
    let fail = |e: String| invalid(format!("cannot mount running container {}'s root: {e}", c.name));
    let tree = crate::storage::nsroot::clone_root(pid as i32).map_err(fail)?;
    crate::storage::nsroot::attach(&tree, at).map_err(|e| fail(e.to_string()))
}

/// Unmounts container `c`'s root here; false when it was not mounted here.
pub fn unmount(ctx: &Context, c: &Container) -> Result<bool, ContainerError> {
    let at = mountpoint(ctx, c);
    if !is_mountpoint(&at) {
        return Ok(false);
    }
    nix::mount::umount2(&at, nix::mount::MntFlags::MNT_DETACH)
        .map_err(|e| invalid(format!("cannot unmount {}: {e}", at.display())))?;
    let _ = std::fs::remove_file(c.dir(ctx).join(MARKER));
    Ok(true)
}

/// The containers whose roots are mounted here, with where.
pub fn mounted(ctx: &Context, all: Vec<Container>) -> Vec<(Container, PathBuf)> {
    all.into_iter()
        .filter_map(|c| {
            let at = mountpoint(ctx, &c);
            is_mountpoint(&at).then_some((c, at))
        })
        .collect()
}

/// Refuses when another mount namespace that still exists has container `c`'s root mounted
/// (a `kiste unshare` session's `kiste mount`); a marker whose namespace is gone is removed.
pub fn check_not_mounted(ctx: &Context, c: &Container) -> Result<(), ContainerError> {
    let marker = c.dir(ctx).join(MARKER);
    let Ok(text) = std::fs::read_to_string(&marker) else { return Ok(()) };
    let Ok(ns) = text.trim().parse::<u64>() else {
        let _ = std::fs::remove_file(&marker);
        return Ok(());
    };
    let here = ns == own_namespace();
    if (here && is_mountpoint(&mountpoint(ctx, c))) || (!here && namespace_alive(ns)) {
        return Err(invalid(format!(
            "container {} is mounted by \"kiste mount\" in a \"kiste unshare\" session; run \"kiste unmount {}\" there (or end the session) first",
            c.name, c.name
        )));
    }
    let _ = std::fs::remove_file(&marker);
    Ok(())
}

/// The inode of this process's mount namespace.
fn own_namespace() -> u64 {
    std::fs::metadata("/proc/self/ns/mnt").map(|m| m.ino()).unwrap_or(0)
}

/// Whether some process (of ours: others' are not readable) is in mount namespace `ns`.
fn namespace_alive(ns: u64) -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else { return false };
    procs
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().bytes().all(|b| b.is_ascii_digit()))
        .any(|e| std::fs::metadata(e.path().join("ns/mnt")).is_ok_and(|m| m.ino() == ns))
}

/// Whether this namespace's mount table has a mount at `p`.
fn is_mountpoint(p: &Path) -> bool {
    let Ok(table) = std::fs::read_to_string("/proc/self/mountinfo") else { return false };
    let want = p.to_string_lossy();
    table.lines().any(|l| l.split(' ').nth(4).is_some_and(|m| unescape(m) == want))
}

/// A mountinfo field with its octal escapes (`\040` for a space) undone.
fn unescape(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let oct = b.get(i + 1..i + 4).filter(|d| b[i] == b'\\' && d.iter().all(|c| (b'0'..=b'7').contains(c)));
        match oct {
            Some(d) => {
                out.push((d[0] - b'0') * 64 + (d[1] - b'0') * 8 + (d[2] - b'0'));
                i += 4;
            }
            None => {
                out.push(b[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape(r"/home/a\040b/merged"), "/home/a b/merged");
        assert_eq!(unescape(r"/x\134y"), r"/x\y");
        assert_eq!(unescape(r"/plain\04"), r"/plain\04");
    }

    #[test]
    fn the_root_is_a_mountpoint_and_a_fresh_directory_is_not() {
        assert!(is_mountpoint(Path::new("/")));
        let d = std::env::temp_dir().join(format!("kiste-rootmount-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        assert!(!is_mountpoint(&d));
        std::fs::remove_dir(&d).unwrap();
    }

    #[test]
    fn this_namespace_is_alive_and_a_made_up_one_is_not() {
        assert!(namespace_alive(own_namespace()));
        assert!(!namespace_alive(1));
    }
}
