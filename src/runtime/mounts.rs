//! The container's mounts, inside its own mount namespace: the overlay (or bind) root, the
//! spec's mounts (proc, dev, devpts, shm, mqueue, sys, binds), device nodes bound from the
//! host, pivot_root, masked and read-only paths. Targets are resolved inside the root with
//! openat2 so an image's symlinks cannot redirect a mount outside it.

use super::init::SetupError;
use crate::storage::inroot::{Kind, Root};
use nix::mount::{MntFlags, MsFlags, mount, umount2};
use oci_spec::runtime::{Linux, Spec};
use rustix::fs::{Mode, OFlags};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

fn err(what: &str, e: impl std::fmt::Display) -> SetupError {
    SetupError::new(format!("{what}: {e}"))
}

/// Opens (creating if missing) the mount point `dest` inside `root`, never leaving it (the
/// in-root walk: symlinks are followed inside the root). `file` makes a missing last
/// component a regular file rather than a directory (for binds of files).
fn target(root: &Root, dest: &Path, file: bool) -> Result<OwnedFd, SetupError> {
    let kind = if file { Kind::File } else { Kind::Dir };
    root.open_or_create(dest, kind).map_err(|e| err("mount point", e))
}

fn fd_path(fd: &OwnedFd) -> PathBuf {
    PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()))
}

/// Splits mount options into flags, propagation and data.
fn parse_options(opts: &[String]) -> (MsFlags, MsFlags, String) {
    let mut flags = MsFlags::empty();
    let mut prop = MsFlags::empty();
    let mut data = Vec::new();
    for o in opts {
        match o.as_str() {
            "ro" => flags |= MsFlags::MS_RDONLY,
            "rw" => flags &= !MsFlags::MS_RDONLY,
            "nosuid" => flags |= MsFlags::MS_NOSUID,
            "nodev" => flags |= MsFlags::MS_NODEV,
            "noexec" => flags |= MsFlags::MS_NOEXEC,
            "suid" | "dev" | "exec" | "defaults" => {}
            "bind" => flags |= MsFlags::MS_BIND,
            "rbind" => flags |= MsFlags::MS_BIND | MsFlags::MS_REC,
            "noatime" => flags |= MsFlags::MS_NOATIME,
            "relatime" => flags |= MsFlags::MS_RELATIME,
            "strictatime" => flags |= MsFlags::MS_STRICTATIME,
            "private" => prop |= MsFlags::MS_PRIVATE,
            "rprivate" => prop |= MsFlags::MS_PRIVATE | MsFlags::MS_REC,
            "slave" => prop |= MsFlags::MS_SLAVE,
            "rslave" => prop |= MsFlags::MS_SLAVE | MsFlags::MS_REC,
            "shared" | "rshared" => {}
            other => data.push(other.to_string()),
        }
    }
    (flags, prop, data.join(","))
}

/// The overlay (from the bundle's annotations) or a bind of the root directory onto itself.
fn mount_root(spec: &Spec, rootfs: &Path) -> Result<(), SetupError> {
    use crate::storage::overlay::{OverlayMode, OverlaySpec};
    let ann = spec.annotations().clone().unwrap_or_default();
    match (ann.get(super::ANN_LOWER), ann.get(super::ANN_UPPER)) {
        (Some(lower), Some(upper)) => {
            let (upper, work) = upper.split_once(':').ok_or_else(|| SetupError::new("bad overlay annotation"))?;
            let mode = match ann.get(super::ANN_OVERLAY_MODE).map(String::as_str) {
                Some("fuse") => OverlayMode::Fuse,
                _ => OverlayMode::Native,
            };
            let userxattr = spec
                .linux()
                .as_ref()
                .and_then(|l| l.namespaces().as_ref())
                .is_some_and(|ns| ns.iter().any(|n| n.typ() == oci_spec::runtime::LinuxNamespaceType::User));
            let o = OverlaySpec {
                lower,
                upper: Some((upper, work)),
                userxattr,
                volatile: ann.get(super::ANN_VOLATILE).is_some_and(|v| v == "1"),
                fuse_options: ann.get(super::ANN_FUSE_OPTIONS).map(String::as_str),
            };
            crate::storage::overlay::mount(mode, &o, rootfs)
                .map_err(|e| SetupError::new(format!("the root filesystem: {e}")))
        }
        _ => mount(Some(rootfs), rootfs, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
            .map_err(|e| err(&format!("bind {}", rootfs.display()), e)),
    }
}

pub fn setup_root(spec: &Spec, rootfs: &Path) -> Result<(), SetupError> {
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(|e| err("make / private", e))?;
    mount_root(spec, rootfs)?;
    let root = Root::open(rootfs).map_err(|e| err("open the root", e))?;
    for m in spec.mounts().clone().unwrap_or_default() {
        let typ = m.typ().clone().unwrap_or_default();
        let opts = m.options().clone().unwrap_or_default();
        let (flags, prop, data) = parse_options(&opts);
        let source = m.source().clone().unwrap_or_default();
        let dest = m.destination();
        if typ == "cgroup" || typ == "cgroup2" {
            continue; // cgroups come with resource limits
        }
        let is_bind = flags.contains(MsFlags::MS_BIND) || typ == "bind";
        let file = is_bind && source.metadata().map(|md| !md.is_dir()).unwrap_or(false);
        let t = target(&root, dest, file)?;
        let tp = fd_path(&t);
        let data = (!data.is_empty()).then_some(data.as_str());
        if is_bind {
            mount(Some(&source), &tp, None::<&str>, flags & (MsFlags::MS_BIND | MsFlags::MS_REC), None::<&str>)
                .map_err(|e| err(&format!("bind {} on {}", source.display(), dest.display()), e))?;
            let rest = flags & !(MsFlags::MS_BIND | MsFlags::MS_REC);
            if !rest.is_empty() {
                let t2 = target(&root, dest, file)?;
                remount(&fd_path(&t2), rest)?;
            }
        } else {
            let r = mount(Some(&source), &tp, Some(typ.as_str()), flags, data);
            if let Err(e) = r {
                if typ == "sysfs" {
                    // Without its own network namespace a user namespace may not mount sysfs:
                    // bind the host's, read-only, as rootless Podman does.
                    mount(Some("/sys"), &tp, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
                        .map_err(|e| err("bind /sys", e))?;
                    let t2 = target(&root, dest, false)?;
                    remount(
                        &fd_path(&t2),
                        MsFlags::MS_RDONLY | MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
                    )?;
                } else if typ == "mqueue" {
                    continue;
                } else {
                    return Err(err(&format!("mount {typ} on {}", dest.display()), e));
                }
            }
        }
        if !prop.is_empty() {
            let _ = mount(None::<&str>, &tp, None::<&str>, prop, None::<&str>);
        }
        if dest == Path::new("/dev") {
            devices(&root)?;
        }
    }
    Ok(())
}

/// Remounts a bind mount with `flags`, keeping the flags the kernel locks in a user namespace.
fn remount(path: &Path, flags: MsFlags) -> Result<(), SetupError> {
    let mut keep = MsFlags::empty();
    if let Ok(st) = nix::sys::statvfs::statvfs(path) {
        use nix::sys::statvfs::FsFlags;
        let f = st.flags();
        for (a, b) in [
            (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
            (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
            (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
            (FsFlags::ST_RDONLY, MsFlags::MS_RDONLY),
        ] {
            if f.contains(a) {
                keep |= b;
            }
        }
    }
    mount(None::<&str>, path, None::<&str>, MsFlags::MS_REMOUNT | MsFlags::MS_BIND | flags | keep, None::<&str>)
        .map_err(|e| err(&format!("remount {}", path.display()), e))
}

/// Device nodes a rootless container gets: bind mounts of the host's.
fn devices(root: &Root) -> Result<(), SetupError> {
    for d in ["null", "zero", "full", "random", "urandom", "tty"] {
        let host = Path::new("/dev").join(d);
        if !host.exists() {
            continue;
        }
        let t = target(root, &Path::new("/dev").join(d), true)?;
        mount(Some(&host), &fd_path(&t), None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .map_err(|e| err(&format!("bind {}", host.display()), e))?;
    }
    let dev = target(root, Path::new("/dev"), false)?;
    let dir = rustix::fs::openat(&dev, ".", OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| err("open /dev", e))?;
    for (name, to) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
        ("ptmx", "pts/ptmx"),
    ] {
        let _ = rustix::fs::symlinkat(to, &dir, name);
    }
    Ok(())
}

pub fn pivot(rootfs: &Path) -> Result<(), SetupError> {
    nix::unistd::chdir(rootfs).map_err(|e| err("chdir to the root", e))?;
    nix::unistd::pivot_root(".", ".").map_err(|e| err("pivot_root", e))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| err("detach the old root", e))?;
    nix::unistd::chdir("/").map_err(|e| err("chdir /", e))
}

pub fn mask_and_protect(linux: &Linux) -> Result<(), SetupError> {
    // Paths the container lacks need no masking; any other failure leaves a path open that
    // the spec says must not be, so the container does not start (as runc).
    for p in linux.masked_paths().clone().unwrap_or_default() {
        let path = Path::new(&p);
        let done = match std::fs::symlink_metadata(path) {
            Ok(m) if m.is_dir() => mount(Some("tmpfs"), path, Some("tmpfs"), MsFlags::MS_RDONLY, None::<&str>),
            Ok(_) => mount(Some("/dev/null"), path, None::<&str>, MsFlags::MS_BIND, None::<&str>),
            Err(_) => continue,
        };
        done.map_err(|e| err(&format!("mask {p}"), e))?;
    }
    for p in linux.readonly_paths().clone().unwrap_or_default() {
        let path = Path::new(&p);
        if !path.exists() {
            continue;
        }
        mount(Some(path), path, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
            .map_err(|e| err(&format!("bind {p} read-only"), e))?;
        remount(path, MsFlags::MS_RDONLY)?;
    }
    Ok(())
}

pub fn remount_root_readonly() -> Result<(), SetupError> {
    remount(Path::new("/"), MsFlags::MS_RDONLY)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_split_into_flags_and_data() {
        let o = |v: &[&str]| parse_options(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        let (f, p, d) = o(&["nosuid", "noexec", "mode=755", "size=65536k", "rprivate", "ro"]);
        assert!(f.contains(MsFlags::MS_NOSUID | MsFlags::MS_NOEXEC | MsFlags::MS_RDONLY));
        assert!(p.contains(MsFlags::MS_PRIVATE | MsFlags::MS_REC));
        assert_eq!(d, "mode=755,size=65536k");
        let (f, _, _) = o(&["rbind", "ro", "rw"]);
        assert!(f.contains(MsFlags::MS_BIND | MsFlags::MS_REC) && !f.contains(MsFlags::MS_RDONLY));
    }
}
