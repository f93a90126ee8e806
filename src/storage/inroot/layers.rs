//! In-root access over a stack of layer directories, as overlayfs would merge them (top layer
//! first): whiteouts (0/0 character devices) hide lower names, opaque directories
//! (`user.overlay.opaque` / `trusted.overlay.opaque` = "y") hide lower contents, a non-directory
//! stops the merge of lower directories. Used before a container's root is mounted (its
//! /etc/passwd at `create`). Read-only: nothing is created in layers here.

use super::{InRootError, Node, Result, Tree, walk};
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};

/// Layer directories, top first.
pub struct LayerStack {
    layers: Vec<PathBuf>,
}

fn open_dir(dir: &OwnedFd, name: &OsStr) -> std::io::Result<OwnedFd> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    Ok(rustix::fs::openat(dir, name, flags, Mode::empty())?)
}

fn is_opaque(dir: &OwnedFd) -> bool {
    let mut buf = [0u8; 4];
    ["user.overlay.opaque", "trusted.overlay.opaque"]
        .iter()
        .any(|attr| matches!(rustix::fs::fgetxattr(dir, *attr, &mut buf), Ok(1) if buf[0] == b'y'))
}

/// What `name` is in one layer's directory.
enum Seen {
    Absent,
    Whiteout,
    Link,
    Dir,
    Other,
}

fn seen(dir: &OwnedFd, name: &OsStr) -> std::io::Result<Seen> {
    let st = match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) => st,
        Err(Errno::NOENT) => return Ok(Seen::Absent),
        Err(e) => return Err(e.into()),
    };
    Ok(match FileType::from_raw_mode(st.st_mode) {
        FileType::CharacterDevice if st.st_rdev == 0 => Seen::Whiteout,
        FileType::Symlink => Seen::Link,
        FileType::Directory => Seen::Dir,
        _ => Seen::Other,
    })
}

impl Tree for LayerStack {
    /// The directory's descriptor in each layer where it is visible, top first.
    type Dir = Vec<OwnedFd>;

    fn root(&self) -> std::io::Result<Vec<OwnedFd>> {
        self.layers
            .iter()
            .map(|l| {
                let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
                Ok(rustix::fs::open(l, flags, Mode::empty())?)
            })
            .collect()
    }

    fn lookup(&self, dir: &Vec<OwnedFd>, name: &OsStr) -> std::io::Result<Node<Vec<OwnedFd>>> {
        for (i, fd) in dir.iter().enumerate() {
            match seen(fd, name)? {
                Seen::Absent => continue,
                Seen::Whiteout => return Ok(Node::Missing),
                Seen::Link => return Ok(Node::Link(super::link_target(fd, name)?)),
                Seen::Other => return Ok(Node::Other),
                Seen::Dir => {
                    let top = open_dir(fd, name)?;
                    let mut merged = vec![];
                    let mut opaque = is_opaque(&top);
                    merged.push(top);
                    for lower in dir.iter().skip(i + 1) {
                        if opaque {
                            break;
                        }
                        match seen(lower, name)? {
                            Seen::Absent => continue,
                            Seen::Dir => {
                                let d = open_dir(lower, name)?;
                                opaque = is_opaque(&d);
                                merged.push(d);
                            }
                            _ => break,
                        }
                    }
                    return Ok(Node::Dir(merged));
                }
            }
        }
        Ok(Node::Missing)
    }

    fn shown(&self) -> String {
        match self.layers.first() {
            Some(top) => format!("the image's layers (top {})", top.display()),
            None => "an image without layers".into(),
        }
    }
}

impl LayerStack {
    pub fn new(layers_top_first: &[PathBuf]) -> LayerStack {
        LayerStack { layers: layers_top_first.to_vec() }
    }

    /// Whether `rel` exists in the merged view (symlinks followed inside it).
    pub fn exists(&self, rel: &Path) -> bool {
        !self.layers.is_empty() && matches!(walk(self, rel, None), Ok(r) if !matches!(r.node, Node::Missing))
    }

    /// Reads `rel` of the merged view when it is a regular file of at most `limit` bytes; None
    /// when it (or a directory on its way) does not exist.
    pub fn read_small(&self, rel: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
        if self.layers.is_empty() {
            return Ok(None);
        }
        let path = rel.display().to_string();
        let r = match walk(self, rel, None) {
            Ok(r) => r,
            Err(InRootError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let name = match (&r.node, r.name) {
            (Node::Missing, _) => return Ok(None),
            (Node::Other, Some(name)) => name,
            _ => {
                return Err(InRootError::NotRegular { root: self.shown(), path, kind: "a directory" });
            }
        };
        // The topmost layer that has it is the one the merged view shows.
        for fd in &r.parent {
            if !matches!(seen(fd, &name), Ok(Seen::Absent)) {
                return super::read_regular(fd, &name, limit, &self.shown(), &path).map(Some);
            }
        }
        Ok(None)
    }
}
