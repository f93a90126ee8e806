//! In-root file access: the one place where kiste opens, reads, creates or mounts paths that
//! live inside an image's or a container's root. A path is walked one component at a time
//! from a directory descriptor, never following a symlink on the host: `..` stops at the root,
//! a symlink's target is spliced into the walk (an absolute one restarts at the root). The
//! walk runs over one directory tree (`Root`: a container's root before or after it is
//! mounted, or `/` inside a running one's mount namespace) or over a stack of layer directories with
//! overlay semantics (`layers::LayerStack`). Reads are of regular files only, size-bounded.
//! Nothing else in kiste may open a path of an image or container with host path operations.

pub mod layers;

use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use rustix::io::Errno;
use std::collections::VecDeque;
use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The largest /etc file (passwd, group) kiste reads from an image or a container.
pub const SMALL_FILE_LIMIT: u64 = 1 << 20;

/// How many symlinks one walk may follow (as the kernel's MAXSYMLINKS).
const MAX_LINKS: usize = 40;

#[derive(Debug, thiserror::Error)]
pub enum InRootError {
    #[error("{path} in {root} is {kind}, not a regular file; kiste reads only regular files there")]
    NotRegular { root: String, path: String, kind: &'static str },
    #[error("{path} in {root} is larger than {limit} bytes; kiste does not read files that large there")]
    TooLarge { root: String, path: String, limit: u64 },
    #[error("{path} in {root}: too many levels of symbolic links")]
    Loop { root: String, path: String },
    #[error("{path} in {root}: {what}")]
    Kind { root: String, path: String, what: &'static str },
    #[error("{path} in {root}: {op}: {source}")]
    Io { root: String, path: String, op: &'static str, source: std::io::Error },
}

pub type Result<T> = std::result::Result<T, InRootError>;

/// What a name is, seen from its directory (symlinks not followed).
pub(crate) enum Node<D> {
    Missing,
    Link(OsString),
    Dir(D),
    /// Anything else: a regular file, a device, a FIFO, a socket.
    Other,
}

/// A directory tree the walk can descend: one root directory, or a stack of layers.
pub(crate) trait Tree {
    type Dir;
    fn root(&self) -> std::io::Result<Self::Dir>;
    fn lookup(&self, dir: &Self::Dir, name: &OsStr) -> std::io::Result<Node<Self::Dir>>;
    /// For error messages: what the walk is confined to.
    fn shown(&self) -> String;
}

/// Where a walk ended: the directory holding the last component, its name, and what it is
/// (never a symlink: a final symlink has been followed).
pub(crate) struct Resolved<D> {
    pub parent: D,
    pub name: Option<OsString>,
    pub node: Node<D>,
}

/// Creates what a walk misses: the directories on the way, and the last component.
pub(crate) trait Create<D> {
    fn mkdir(&mut self, dir: &D, name: &OsStr) -> std::io::Result<()>;
}

/// The normal components of `rel` ("." dropped; ".." kept for the walk, which clamps it).
fn components(rel: &Path) -> VecDeque<OsString> {
    rel.as_os_str()
        .as_bytes()
        .split(|b| *b == b'/')
        .filter(|c| !c.is_empty() && *c != b".")
        .map(|c| OsStr::from_bytes(c).to_os_string())
        .collect()
}

/// Walks `rel` inside `tree`. Missing directories on the way are made by `create` (an error
/// without it); the last component may be missing. A final symlink is followed.
pub(crate) fn walk<T: Tree>(
    tree: &T,
    rel: &Path,
    mut create: Option<&mut dyn Create<T::Dir>>,
) -> Result<Resolved<T::Dir>> {
    let shown = || rel.display().to_string();
    let io = |op: &'static str, e: std::io::Error| InRootError::Io { root: tree.shown(), path: shown(), op, source: e };
    let mut stack = vec![tree.root().map_err(|e| io("open the root", e))?];
    let mut todo = components(rel);
    let mut links = 0;
    while let Some(name) = todo.pop_front() {
        if name == ".." {
            if stack.len() > 1 {
                stack.pop();
            }
            continue;
        }
        let last = todo.is_empty();
        let Some(dir) = stack.last() else { return Err(io("walk", Errno::INVAL.into())) };
        let mut node = tree.lookup(dir, &name).map_err(|e| io("look up", e))?;
        if let (Node::Missing, false, Some(c)) = (&node, last, create.as_deref_mut()) {
            match c.mkdir(dir, &name) {
                Ok(()) => {}
                Err(e) if e.raw_os_error() == Some(libc::EEXIST) => {}
                Err(e) => return Err(io("create directory", e)),
            }
            node = tree.lookup(dir, &name).map_err(|e| io("look up", e))?;
        }
        match node {
            Node::Link(target) => {
                links += 1;
                if links > MAX_LINKS {
                    return Err(InRootError::Loop { root: tree.shown(), path: shown() });
                }
                if target.as_bytes().starts_with(b"/") {
                    stack.truncate(1);
                }
                for c in components(Path::new(&target)).into_iter().rev() {
                    todo.push_front(c);
                }
            }
            Node::Dir(d) if !last => stack.push(d),
            Node::Missing if !last => {
                return Err(io("look up", Errno::NOENT.into()));
            }
            Node::Other if !last => {
                return Err(InRootError::Kind {
                    root: tree.shown(),
                    path: shown(),
                    what: "a parent is not a directory",
                });
            }
            node => {
                let parent = stack.pop().ok_or_else(|| io("walk", Errno::INVAL.into()))?;
                return Ok(Resolved { parent, name: Some(name), node });
            }
        }
    }
    // The root itself (or a path that leads back to it).
    stack.truncate(1);
    let parent = stack.pop().ok_or_else(|| io("walk", Errno::INVAL.into()))?;
    let again = tree.root().map_err(|e| io("open the root", e))?;
    Ok(Resolved { parent, name: None, node: Node::Dir(again) })
}

/// The kind of a non-regular file, for messages.
fn kind_name(t: FileType) -> &'static str {
    match t {
        FileType::Directory => "a directory",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Symlink => "a symbolic link",
        _ => "not a regular file",
    }
}

/// Opens `name` in `dir` for reading without following a symlink and without blocking on a
/// FIFO, and reads it whole when it is a regular file of at most `limit` bytes.
pub(crate) fn read_regular(dir: &OwnedFd, name: &OsStr, limit: u64, root: &str, path: &str) -> Result<Vec<u8>> {
    let (file, size) = open_regular(dir, name, root, path)?;
    read_bounded(file, size, limit, root, path)
}

/// Reads `file` (of `size` bytes when opened) whole when it has at most `limit` bytes.
fn read_bounded(file: std::fs::File, size: u64, limit: u64, root: &str, path: &str) -> Result<Vec<u8>> {
    let too_large = || InRootError::TooLarge { root: root.into(), path: path.into(), limit };
    if size > limit {
        return Err(too_large());
    }
    let mut data = Vec::with_capacity(size as usize);
    file.take(limit + 1).read_to_end(&mut data).map_err(|e| InRootError::Io {
        root: root.into(),
        path: path.into(),
        op: "read",
        source: e,
    })?;
    if data.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(data)
}

/// Opens `name` in `dir` for reading when it is a regular file (never a symlink, FIFO or
/// device: checked before opening and again on what was opened); returns it and its size.
pub(crate) fn open_regular(dir: &OwnedFd, name: &OsStr, root: &str, path: &str) -> Result<(std::fs::File, u64)> {
    let io = |op, e: Errno| InRootError::Io { root: root.into(), path: path.into(), op, source: e.into() };
    let not_regular = |t| InRootError::NotRegular { root: root.into(), path: path.into(), kind: kind_name(t) };
    // Type first: devices are not even opened.
    let st = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).map_err(|e| io("stat", e))?;
    let t = FileType::from_raw_mode(st.st_mode);
    if t != FileType::RegularFile {
        return Err(not_regular(t));
    }
    let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, name, flags, Mode::empty()).map_err(|e| io("open", e))?;
    // Again on what was opened: the name may have been replaced meanwhile.
    let st = rustix::fs::fstat(&fd).map_err(|e| io("stat", e))?;
    let t = FileType::from_raw_mode(st.st_mode);
    if t != FileType::RegularFile {
        return Err(not_regular(t));
    }
    Ok((std::fs::File::from(fd), st.st_size as u64))
}

/// The target of the symlink `name` in `dir`.
pub(crate) fn link_target(dir: &OwnedFd, name: &OsStr) -> std::io::Result<OsString> {
    use std::os::unix::ffi::OsStringExt;
    Ok(OsString::from_vec(rustix::fs::readlinkat(dir, name, Vec::new())?.into_bytes()))
}

/// One directory tree: a container's root (before `pivot_root`, or `/` inside a running
/// container's mount namespace), or any directory treated as a root.
pub struct Root {
    fd: OwnedFd,
    shown: PathBuf,
}

/// What `open_or_create` must find or make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
}

impl Tree for Root {
    type Dir = OwnedFd;

    fn root(&self) -> std::io::Result<OwnedFd> {
        self.fd.try_clone()
    }

    fn lookup(&self, dir: &OwnedFd, name: &OsStr) -> std::io::Result<Node<OwnedFd>> {
        let st = match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) => st,
            Err(Errno::NOENT) => return Ok(Node::Missing),
            Err(e) => return Err(e.into()),
        };
        Ok(match FileType::from_raw_mode(st.st_mode) {
            FileType::Symlink => Node::Link(link_target(dir, name)?),
            FileType::Directory => Node::Dir(rustix::fs::openat(
                dir,
                name,
                OFlags::PATH | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                Mode::empty(),
            )?),
            _ => Node::Other,
        })
    }

    fn shown(&self) -> String {
        self.shown.display().to_string()
    }
}

/// Makes missing directories of a walk (0755).
struct MkdirInRoot;

impl Create<OwnedFd> for MkdirInRoot {
    fn mkdir(&mut self, dir: &OwnedFd, name: &OsStr) -> std::io::Result<()> {
        rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o755)).map_err(Into::into)
    }
}

impl Root {
    /// Opens `dir` (a path kiste itself chose: a bundle's rootfs, `/` in a container) as a root.
    pub fn open(dir: &Path) -> Result<Root> {
        let fd =
            rustix::fs::open(dir, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()).map_err(|e| {
                InRootError::Io { root: dir.display().to_string(), path: "/".into(), op: "open", source: e.into() }
            })?;
        Ok(Root { fd, shown: dir.to_path_buf() })
    }

    /// Reads `rel` when it is a regular file of at most `limit` bytes; None when it (or a
    /// directory on its way) does not exist.
    pub fn read_small(&self, rel: &Path, limit: u64) -> Result<Option<Vec<u8>>> {
        let Some((file, size)) = self.open_regular(rel)? else { return Ok(None) };
        read_bounded(file, size, limit, &self.shown(), &rel.display().to_string()).map(Some)
    }

    /// Opens `rel` for reading when it is a regular file (symlinks on the way resolved inside
    /// the root); None when it does not exist. Returns the file and its size.
    pub fn open_regular(&self, rel: &Path) -> Result<Option<(std::fs::File, u64)>> {
        let r = match walk(self, rel, None) {
            Ok(r) => r,
            Err(InRootError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        match (r.node, r.name) {
            (Node::Missing, _) => Ok(None),
            (Node::Dir(_), _) | (_, None) => Err(InRootError::NotRegular {
                root: self.shown(),
                path: rel.display().to_string(),
                kind: "a directory",
            }),
            (_, Some(name)) => open_regular(&r.parent, &name, &self.shown(), &rel.display().to_string()).map(Some),
        }
    }

    /// Whether `rel` is a directory (symlinks followed inside the root).
    pub fn is_dir(&self, rel: &Path) -> bool {
        matches!(walk(self, rel, None), Ok(Resolved { node: Node::Dir(_), .. }))
    }

    /// The names in directory `rel`, sorted.
    pub fn list(&self, rel: &Path) -> Result<Vec<OsString>> {
        let shown = rel.display().to_string();
        let io = |op, e: std::io::Error| InRootError::Io { root: self.shown(), path: shown.clone(), op, source: e };
        let Resolved { node: Node::Dir(d), .. } = walk(self, rel, None)? else {
            return Err(InRootError::Kind { root: self.shown(), path: shown, what: "is not a directory" });
        };
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(&d, ".", flags, Mode::empty()).map_err(|e| io("open", e.into()))?;
        let mut names = Vec::new();
        for e in rustix::fs::Dir::read_from(&fd).map_err(|e| io("read", e.into()))? {
            let e = e.map_err(|e| io("read", e.into()))?;
            let n = e.file_name().to_bytes();
            if n != b"." && n != b".." {
                names.push(OsStr::from_bytes(n).to_os_string());
            }
        }
        names.sort();
        Ok(names)
    }

    /// The directory holding `rel` (symlinks on the way followed inside the root) and the
    /// last component's name, not followed.
    pub fn parent_of(&self, rel: &Path) -> Result<(OwnedFd, OsString)> {
        let shown = rel.display().to_string();
        let name = rel.file_name().map(OsStr::to_os_string).ok_or_else(|| InRootError::Kind {
            root: self.shown(),
            path: shown.clone(),
            what: "names no file",
        })?;
        let parent = rel.parent().unwrap_or(Path::new(""));
        match walk(self, parent, None)? {
            Resolved { node: Node::Dir(d), .. } => Ok((d, name)),
            _ => Err(InRootError::Kind { root: self.shown(), path: shown, what: "a parent is not a directory" }),
        }
    }

    /// The paths matching `pattern` (Go filepath.Match in each component), sorted.
    pub fn expand(&self, pattern: &str) -> Result<Vec<String>> {
        let mut found = vec![String::new()];
        for c in pattern.split('/').filter(|c| !c.is_empty() && *c != ".") {
            let mut next = Vec::new();
            for base in &found {
                if !c.contains(['*', '?', '[', '\\']) {
                    next.push(format!("{base}/{c}"));
                    continue;
                }
                let Ok(names) = self.list(Path::new(base)) else { continue };
                for n in names {
                    let n = n.to_string_lossy();
                    if crate::util::go_match(c, &n).unwrap_or(false) {
                        next.push(format!("{base}/{n}"));
                    }
                }
            }
            found = next;
        }
        Ok(found
            .into_iter()
            .map(|f| if f.is_empty() { "/".to_string() } else { f })
            .filter(|f| {
                matches!(
                    walk(self, Path::new(f), None),
                    Ok(Resolved { node: Node::Dir(_) | Node::Other, .. }) | Ok(Resolved { node: Node::Link(_), .. })
                )
            })
            .collect())
    }

    /// An `O_PATH` descriptor of `rel` (a mount point, a working directory), made when missing
    /// (directories on the way 0755, a file 0644 created exclusively): symlinks on the way,
    /// the last one too, are followed inside the root, so what is used is always inside it.
    pub fn open_or_create(&self, rel: &Path, kind: Kind) -> Result<OwnedFd> {
        let shown = rel.display().to_string();
        let io = |op, e: std::io::Error| InRootError::Io { root: self.shown(), path: shown.clone(), op, source: e };
        for _attempt in 0..MAX_LINKS {
            let r = walk(self, rel, Some(&mut MkdirInRoot))?;
            let Some(name) = r.name else {
                return match kind {
                    Kind::Dir => self.root().map_err(|e| io("open", e)),
                    Kind::File => {
                        Err(InRootError::Kind { root: self.shown(), path: shown, what: "the root is not a file" })
                    }
                };
            };
            match (r.node, kind) {
                (Node::Missing, Kind::Dir) => match rustix::fs::mkdirat(&r.parent, &name, Mode::from_raw_mode(0o755)) {
                    Ok(()) | Err(Errno::EXIST) => continue,
                    Err(e) => return Err(io("create directory", e.into())),
                },
                (Node::Missing, Kind::File) => {
                    let flags = OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::WRONLY | OFlags::CLOEXEC;
                    match rustix::fs::openat(&r.parent, &name, flags, Mode::from_raw_mode(0o644)) {
                        Ok(_) | Err(Errno::EXIST) => continue,
                        Err(e) => return Err(io("create file", e.into())),
                    }
                }
                (Node::Dir(d), Kind::Dir) => return Ok(d),
                (Node::Dir(_), Kind::File) => {
                    return Err(InRootError::Kind {
                        root: self.shown(),
                        path: shown,
                        what: "is a directory, where a file is needed",
                    });
                }
                (Node::Other, Kind::Dir) => {
                    return Err(InRootError::Kind {
                        root: self.shown(),
                        path: shown,
                        what: "is not a directory, where a directory is needed",
                    });
                }
                (Node::Other, Kind::File) => {
                    let flags = OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                    return rustix::fs::openat(&r.parent, &name, flags, Mode::empty())
                        .map_err(|e| io("open", e.into()));
                }
                (Node::Link(_), _) => return Err(io("walk", Errno::INVAL.into())),
            }
        }
        Err(InRootError::Loop { root: self.shown(), path: shown })
    }
}

#[cfg(test)]
mod tests;
