//! Unit tests of in-root access: hostile symlinks, FIFOs, sizes, overlay semantics.

use super::layers::LayerStack;
use super::*;
use crate::testutil::{tmpdir, write};
use std::os::unix::fs::symlink;

/// A root with a canary outside it: (root, canary directory).
fn setup(name: &str) -> (PathBuf, PathBuf) {
    let d = tmpdir(name);
    let root = d.join("root");
    let canary = d.join("canary");
    std::fs::create_dir_all(root.join("etc")).unwrap();
    write(&canary.join("secret"), "host secret\n");
    (root, canary)
}

#[test]
fn reads_stay_inside_the_root() {
    let (root, canary) = setup("inroot-read");
    let r = Root::open(&root).unwrap();
    symlink(canary.join("secret"), root.join("etc/passwd")).unwrap();
    symlink("../../../../../../../../canary/secret", root.join("etc/group")).unwrap();
    assert_eq!(r.read_small(Path::new("etc/passwd"), 100).unwrap(), None);
    assert_eq!(r.read_small(Path::new("/etc/group"), 100).unwrap(), None);
    // A symlink inside the root is followed there.
    write(&root.join("data/passwd"), "root:x:0:0::/root:/bin/sh\n");
    std::fs::remove_file(root.join("etc/passwd")).unwrap();
    symlink("/data/passwd", root.join("etc/passwd")).unwrap();
    assert_eq!(r.read_small(Path::new("etc/passwd"), 100).unwrap().unwrap(), b"root:x:0:0::/root:/bin/sh\n");
    // Through a symlinked directory, and with `..` clamped at the root.
    symlink("/data", root.join("etc/d")).unwrap();
    assert!(r.read_small(Path::new("etc/d/passwd"), 100).unwrap().is_some());
    assert!(r.read_small(Path::new("../../../data/passwd"), 100).unwrap().is_some());
}

#[test]
fn reads_refuse_fifos_devices_loops_and_big_files() {
    let (root, _canary) = setup("inroot-refuse");
    let r = Root::open(&root).unwrap();
    nix::unistd::mkfifo(&root.join("etc/passwd"), nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    let e = r.read_small(Path::new("etc/passwd"), 100).unwrap_err().to_string();
    assert!(e.contains("FIFO") && e.contains("etc/passwd"), "{e}");
    symlink("/dev/zero", root.join("etc/zero")).unwrap();
    assert_eq!(r.read_small(Path::new("etc/zero"), 100).unwrap(), None, "/dev/zero is not in the root");
    symlink("loop", root.join("etc/loop")).unwrap();
    let e = r.read_small(Path::new("etc/loop"), 100).unwrap_err().to_string();
    assert!(e.contains("symbolic links"), "{e}");
    write(&root.join("etc/group"), &"x".repeat(101));
    let e = r.read_small(Path::new("etc/group"), 100).unwrap_err().to_string();
    assert!(e.contains("larger than 100 bytes"), "{e}");
    let e = r.read_small(Path::new("etc"), 100).unwrap_err().to_string();
    assert!(e.contains("directory"), "{e}");
}

#[test]
fn mount_points_are_made_inside_the_root() {
    let (root, canary) = setup("inroot-mount");
    let r = Root::open(&root).unwrap();
    // Absolute and relative symlinks to a canary path: the file appears inside the root.
    symlink(canary.join("hosts"), root.join("etc/hosts")).unwrap();
    symlink("../../../../../../canary/resolv.conf", root.join("etc/resolv.conf")).unwrap();
    r.open_or_create(Path::new("/etc/hosts"), Kind::File).unwrap();
    r.open_or_create(Path::new("/etc/resolv.conf"), Kind::File).unwrap();
    assert!(!canary.join("hosts").exists() && !canary.join("resolv.conf").exists());
    assert!(root.join(canary.strip_prefix("/").unwrap()).join("hosts").is_file());
    assert!(root.join("canary/resolv.conf").is_file());
    // A symlinked directory on the way.
    symlink(&canary, root.join("run")).unwrap();
    r.open_or_create(Path::new("/run/.containerenv"), Kind::File).unwrap();
    assert!(!canary.join(".containerenv").exists());
    // Existing files and directories are used as they are; kinds must match.
    write(&root.join("etc/hostname"), "old\n");
    r.open_or_create(Path::new("/etc/hostname"), Kind::File).unwrap();
    assert_eq!(std::fs::read_to_string(root.join("etc/hostname")).unwrap(), "old\n");
    assert!(r.open_or_create(Path::new("/etc"), Kind::File).is_err());
    assert!(r.open_or_create(Path::new("/etc/hostname"), Kind::Dir).is_err());
    r.open_or_create(Path::new("/a/b/c"), Kind::Dir).unwrap();
    assert!(root.join("a/b/c").is_dir());
    // A FIFO as a mount point is not opened for reading (no hang).
    nix::unistd::mkfifo(&root.join("etc/fifo"), nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    r.open_or_create(Path::new("/etc/fifo"), Kind::File).unwrap();
    let left: Vec<_> = std::fs::read_dir(&canary).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(left, vec![std::ffi::OsString::from("secret")]);
}

fn whiteout(path: &Path) {
    // A 0/0 character device needs privilege: tests that need one run only as root.
    nix::sys::stat::mknod(path, nix::sys::stat::SFlag::S_IFCHR, nix::sys::stat::Mode::empty(), 0).unwrap();
}

#[test]
fn layer_stacks_merge_as_overlay_does() {
    let d = tmpdir("inroot-layers");
    let (top, mid, low) = (d.join("top"), d.join("mid"), d.join("low"));
    for l in [&top, &mid, &low] {
        std::fs::create_dir_all(l.join("etc")).unwrap();
    }
    write(&low.join("etc/passwd"), "low\n");
    write(&low.join("etc/group"), "low-group\n");
    write(&low.join("usr/lib/os-release"), "low-os\n");
    write(&mid.join("etc/passwd"), "mid\n");
    let stack = LayerStack::new(&[top.clone(), mid.clone(), low.clone()]);
    let read = |p: &str| stack.read_small(Path::new(p), 1000).unwrap().map(|v| String::from_utf8(v).unwrap());
    assert_eq!(read("etc/passwd").as_deref(), Some("mid\n"));
    assert_eq!(read("etc/group").as_deref(), Some("low-group\n"));
    // A symlink in an upper layer resolves through the merged view.
    symlink("../usr/lib/os-release", top.join("etc/os-release")).unwrap();
    assert_eq!(read("etc/os-release").as_deref(), Some("low-os\n"));
    // Escapes resolve inside the stack.
    symlink("/../../../../../../../etc/shadow", top.join("etc/hostname")).unwrap();
    assert_eq!(read("etc/hostname"), None);
    if nix::unistd::geteuid().is_root() {
        whiteout(&top.join("etc/group"));
        assert_eq!(read("etc/group"), None);
    }
    // An opaque directory hides what is below it.
    std::fs::create_dir_all(mid.join("usr/lib")).unwrap();
    if rustix::fs::setxattr(mid.join("usr"), "user.overlay.opaque", b"y", rustix::fs::XattrFlags::empty()).is_ok() {
        assert_eq!(read("usr/lib/os-release"), None);
    }
    assert_eq!(LayerStack::new(&[]).read_small(Path::new("etc/passwd"), 10).unwrap(), None);
}
