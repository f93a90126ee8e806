//! The one tar writer for layers: a directory (a stored layer or an overlay upper dir) as a
//! deterministic tar stream — entries in the byte order of their paths (so each directory
//! comes before its contents), owners, modes and mtimes as stat shows them (image IDs inside the user
//! namespace), overlay whiteouts as `.wh.NAME`, opaque directories as `.wh..wh..opq`, hardlinks
//! within the tree as links, `security.capability` and `user.*` xattrs as PAX records. Sparse
//! files are written whole (holes as zeros). Optionally clamps mtimes (reproducible builds) and,
//! when committing, makes the directory match its tar. Also writes plain trees named by
//! descriptors (`write_from`: cp, volume export and copy-up), with owners mapped, and no
//! whiteouts. Knows nothing of digests, the store or containers.

use super::idmap::{IdTable, lookup};
use super::tarsplit::SplitWriter;
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Stat, Timespec, Timestamps, XattrFlags};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

const BLOCK: usize = 512;

/// Xattrs kept for an entry: (name, value), sorted by name.
type Xattrs = Vec<(Vec<u8>, Vec<u8>)>;
const WHITEOUT: &[u8] = b".wh.";
const OPAQUE: &[u8] = b".wh..wh..opq";
/// Where overlay implementations mark a directory opaque (kernel rootful, kernel with
/// userxattr, fuse-overlayfs).
const OPAQUE_XATTRS: &[&str] = &["trusted.overlay.opaque", "user.overlay.opaque", "user.fuseoverlayfs.opaque"];
/// Overlay's own bookkeeping: never part of a layer.
const PRIVATE_XATTRS: &[&str] = &["user.overlay.", "trusted.overlay.", "user.fuseoverlayfs.", "user.containers."];

#[derive(Debug, thiserror::Error)]
pub enum TarWriteError {
    #[error("\"{path}\": {op}: {source}")]
    Io { path: String, op: &'static str, source: io::Error },
    #[error("\"{path}\" {what}, which a layer cannot hold; mount the overlay without redirect_dir and metacopy")]
    Overlay { path: String, what: &'static str },
    #[error("writing the tar stream: {0}")]
    Output(io::Error),
    #[error("\"{path}\" is owned by {kind} {id}, which has no ID on the other side; copy without -a")]
    Unmapped { path: String, kind: &'static str, id: u32 },
}

/// How entries are owned in the tar.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Owners {
    /// The files' owners, mapped by the table (None: as stat shows them).
    Keep(Option<IdTable>),
    /// Everything owned by (uid, gid).
    Fixed(u32, u32),
}

impl Default for Owners {
    fn default() -> Owners {
        Owners::Keep(None)
    }
}

/// How to write.
#[derive(Debug, Clone, Default)]
pub struct WriteOptions {
    /// Clamp every mtime to this many seconds since the epoch (`--timestamp`, SOURCE_DATE_EPOCH).
    pub timestamp: Option<i64>,
    /// Committing: make the directory match its tar (clamped mtimes on disk; whiteouts and
    /// opaque markers that fuse-overlayfs wrote as files become the store's device nodes and
    /// xattr named here), so that it later exports to the same bytes.
    pub commit_opaque_xattr: Option<&'static str>,
    /// How owners are written.
    pub owners: Owners,
    /// Not a layer (cp, volumes): `.wh.` names and 0/0 devices are what they are, overlay
    /// xattrs mean nothing.
    pub plain: bool,
}

/// What `write_from` writes, named by descriptors (never a host path walked).
pub enum Source<'a> {
    /// The entries of a directory, each as `prefix/NAME` (`NAME` with an empty prefix).
    Contents { dir: &'a OwnedFd, prefix: &'a [u8] },
    /// The directory itself as `as_name/`, then everything below it.
    Dir { dir: &'a OwnedFd, as_name: &'a [u8] },
    /// The entry `name` of `parent` (a symlink as itself) as `as_name`, with everything below.
    Entry { parent: &'a OwnedFd, name: &'a OsStr, as_name: &'a [u8] },
}

/// What was written.
#[derive(Debug, Default)]
pub struct Written {
    /// Bytes of the tar stream.
    pub size: u64,
    pub warnings: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Dir,
    File,
    Symlink,
    Fifo,
    Char,
    Block,
    /// A 0/0 character device (or, from fuse-overlayfs, a `.wh.NAME` file).
    Whiteout {
        as_file: bool,
    },
    Socket,
}

struct Child {
    name: Vec<u8>,
    /// The name in the tar: whiteouts get their `.wh.` prefix.
    tar_name: Vec<u8>,
    st: Stat,
    kind: Kind,
}

struct Frame {
    dir: OwnedFd,
    /// The directory's path in the tar, without a trailing slash ("" for the root).
    path: Vec<u8>,
    children: Vec<Child>,
    next: usize,
    /// The mtime its header carries, to put back once its children are done (commit).
    restore_mtime: Option<i64>,
}

fn errno(e: rustix::io::Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

fn show(p: &[u8]) -> String {
    String::from_utf8_lossy(p).into_owned()
}

fn fail(path: &[u8], op: &'static str, e: impl Into<io::Error>) -> TarWriteError {
    TarWriteError::Io { path: show(if path.is_empty() { b"." } else { path }), op, source: e.into() }
}

fn join(dir: &[u8], name: &[u8]) -> Vec<u8> {
    if dir.is_empty() {
        return name.to_vec();
    }
    let mut p = Vec::with_capacity(dir.len() + 1 + name.len());
    p.extend_from_slice(dir);
    p.push(b'/');
    p.extend_from_slice(name);
    p
}

fn kind_of(st: &Stat, name: &[u8], plain: bool) -> Kind {
    match FileType::from_raw_mode(st.st_mode) {
        FileType::Directory => Kind::Dir,
        FileType::RegularFile if !plain && name.starts_with(WHITEOUT) => Kind::Whiteout { as_file: true },
        FileType::RegularFile => Kind::File,
        FileType::Symlink => Kind::Symlink,
        FileType::Fifo => Kind::Fifo,
        FileType::CharacterDevice if !plain && st.st_rdev == 0 => Kind::Whiteout { as_file: false },
        FileType::CharacterDevice => Kind::Char,
        FileType::BlockDevice => Kind::Block,
        _ => Kind::Socket,
    }
}

/// Writes the tar stream of the directory `root` to `out`; records it in `split` too.
pub fn write_tree<W: Write, S: Write>(
    root: &Path,
    out: &mut W,
    opts: &WriteOptions,
    split: Option<&mut SplitWriter<S>>,
) -> Result<Written, TarWriteError> {
    let dir = rustix::fs::open(root, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| TarWriteError::Io { path: root.display().to_string(), op: "open", source: errno(e) })?;
    if opts.commit_opaque_xattr.is_some() {
        // The layer root as the applier makes it; the tar has no entry for it.
        let _ = rustix::fs::fchown(&dir, Some(rustix::fs::Uid::ROOT), Some(rustix::fs::Gid::ROOT));
        let _ = rustix::fs::fchmod(&dir, Mode::from_raw_mode(0o755));
    }
    let mut w = Walker::new(out, split, opts);
    w.walk(dir, Vec::new())?;
    w.finish()
}

/// Writes `src` as a whole tar stream to `out` (ended by its two zero blocks). Every name is
/// opened relative to its directory without following symlinks, so a tree that changes while
/// it is read (a running container's) cannot make it read anything outside.
pub fn write_from<W: Write>(src: Source, out: &mut W, opts: &WriteOptions) -> Result<Written, TarWriteError> {
    let mut w = Walker::<W, Vec<u8>>::new(out, None, opts);
    let reopen = |dir: &OwnedFd, shown: &[u8]| {
        rustix::fs::openat(dir, ".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| fail(shown, "open directory", errno(e)))
    };
    match src {
        Source::Contents { dir, prefix } => w.walk(reopen(dir, prefix)?, prefix.to_vec())?,
        Source::Dir { dir, as_name } => {
            let st = rustix::fs::fstat(dir).map_err(|e| fail(as_name, "stat", errno(e)))?;
            w.top(dir, OsStr::new("."), as_name, Kind::Dir, &st)?;
        }
        Source::Entry { parent, name, as_name } => {
            let st = rustix::fs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| fail(as_name, "stat", errno(e)))?;
            w.top(parent, name, as_name, kind_of(&st, name.as_bytes(), opts.plain), &st)?;
        }
    }
    w.finish()
}

/// `write_from` of a plain tree (cp, volumes) to a descriptor (a pipe or a file), buffered.
pub fn write_plain(src: Source, out: OwnedFd, owners: Owners) -> Result<Written, TarWriteError> {
    let mut w = io::BufWriter::with_capacity(1 << 20, std::fs::File::from(out));
    let opts = WriteOptions { owners, plain: true, ..Default::default() };
    let written = write_from(src, &mut w, &opts)?;
    w.flush().map_err(TarWriteError::Output)?;
    Ok(written)
}

struct Walker<'a, W: Write, S: Write> {
    out: &'a mut W,
    split: Option<&'a mut SplitWriter<S>>,
    opts: &'a WriteOptions,
    written: u64,
    /// (device, inode) of files with several links -> the path written first.
    links: HashMap<(u64, u64), Vec<u8>>,
    buf: Vec<u8>,
    xbuf: Vec<u8>,
    warnings: Vec<String>,
}

/// One entry's header fields.
struct Hdr<'a> {
    path: &'a [u8],
    kind: u8,
    mode: u32,
    uid: u64,
    gid: u64,
    size: u64,
    mtime: i64,
    link: &'a [u8],
    dev: (u32, u32),
    xattrs: &'a [(Vec<u8>, Vec<u8>)],
}

impl<'a, W: Write, S: Write> Walker<'a, W, S> {
    fn new(out: &'a mut W, split: Option<&'a mut SplitWriter<S>>, opts: &'a WriteOptions) -> Self {
        // A deep tree holds one descriptor per level.
        crate::util::raise_fd_limit();
        Walker {
            out,
            split,
            opts,
            written: 0,
            links: HashMap::new(),
            buf: vec![0u8; 1 << 20],
            xbuf: vec![0u8; 64 << 10],
            warnings: Vec::new(),
        }
    }

    /// The end of the archive.
    fn finish(mut self) -> Result<Written, TarWriteError> {
        self.emit(&[0u8; 2 * BLOCK])?;
        Ok(Written { size: self.written, warnings: self.warnings })
    }

    /// Writes one named entry, then everything below it.
    fn top(&mut self, parent: &OwnedFd, name: &OsStr, path: &[u8], kind: Kind, st: &Stat) -> Result<(), TarWriteError> {
        let Some(frame) = self.entry(parent, name.as_bytes(), path, kind, st)? else { return Ok(()) };
        self.descend(vec![frame])
    }

    /// The owner written for a file's (uid, gid).
    fn owner(&self, st: &Stat, path: &[u8]) -> Result<(u64, u64), TarWriteError> {
        let (uid, gid) = (st.st_uid, st.st_gid);
        let t = match &self.opts.owners {
            Owners::Fixed(u, g) => return Ok((*u as u64, *g as u64)),
            Owners::Keep(None) => return Ok((uid as u64, gid as u64)),
            Owners::Keep(Some(t)) => t,
        };
        let unmapped = |kind, id| TarWriteError::Unmapped { path: show(path), kind, id };
        Ok((
            lookup(&t.uid, uid).ok_or_else(|| unmapped("uid", uid))? as u64,
            lookup(&t.gid, gid).ok_or_else(|| unmapped("gid", gid))? as u64,
        ))
    }

    fn commit(&self) -> bool {
        self.opts.commit_opaque_xattr.is_some()
    }

    fn clamp(&self, mtime: i64) -> i64 {
        match self.opts.timestamp {
            Some(t) if mtime > t => t,
            _ => mtime,
        }
    }

    /// Header and padding bytes: written and kept verbatim in the record.
    fn emit(&mut self, bytes: &[u8]) -> Result<(), TarWriteError> {
        self.out.write_all(bytes).map_err(TarWriteError::Output)?;
        if let Some(s) = self.split.as_mut() {
            s.verbatim(bytes).map_err(TarWriteError::Output)?;
        }
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Writes the entries of `root`, named below `path` ("" for none).
    fn walk(&mut self, root: OwnedFd, path: Vec<u8>) -> Result<(), TarWriteError> {
        let (children, _) = self.list(&root, &path)?;
        self.descend(vec![Frame { dir: root, path, children, next: 0, restore_mtime: None }])
    }

    fn descend(&mut self, mut stack: Vec<Frame>) -> Result<(), TarWriteError> {
        while let Some(top) = stack.last_mut() {
            let Some(child) = top.children.get(top.next) else {
                if let Some(done) = stack.pop()
                    && let Some(m) = done.restore_mtime
                {
                    set_mtime_fd(&done.dir, m);
                }
                continue;
            };
            let path = join(&top.path, &child.tar_name);
            let (st, kind, name) = (child.st, child.kind, child.name.clone());
            top.next += 1;
            let parent = top.dir.try_clone().map_err(|e| fail(&path, "dup", e))?;
            if let Some(frame) = self.entry(&parent, &name, &path, kind, &st)? {
                stack.push(frame);
            }
        }
        Ok(())
    }

    /// Lists a directory: its children sorted by tar name, and whether a `.wh..wh..opq`
    /// file marks it opaque (removed when committing).
    fn list(&mut self, dir: &OwnedFd, path: &[u8]) -> Result<(Vec<Child>, bool), TarWriteError> {
        let mut out = Vec::new();
        let mut marker = false;
        let mut rd = rustix::fs::Dir::read_from(dir).map_err(|e| fail(path, "read directory", errno(e)))?;
        while let Some(ent) = rd.read() {
            let ent = ent.map_err(|e| fail(path, "read directory", errno(e)))?;
            let name = ent.file_name().to_bytes();
            if name == b"." || name == b".." {
                continue;
            }
            let name = name.to_vec();
            let st = rustix::fs::statat(dir, OsStr::from_bytes(&name), AtFlags::SYMLINK_NOFOLLOW)
                .map_err(|e| fail(&join(path, &name), "stat", errno(e)))?;
            let kind = kind_of(&st, &name, self.opts.plain);
            if name == OPAQUE && kind == (Kind::Whiteout { as_file: true }) {
                marker = true;
                if self.commit() {
                    let _ = rustix::fs::unlinkat(dir, OsStr::from_bytes(&name), AtFlags::empty());
                }
                continue;
            }
            let tar_name = match kind {
                Kind::Whiteout { as_file: false } => [WHITEOUT, &name].concat(),
                _ => name.clone(),
            };
            out.push(Child { name, tar_name, st, kind });
        }
        // The order of the paths' bytes, as the tar spells them (directories with their slash).
        let key = |c: &Child| {
            let mut k = c.tar_name.clone();
            if c.kind == Kind::Dir {
                k.push(b'/');
            }
            k
        };
        out.sort_by_cached_key(|c| (key(c), c.name.clone()));
        // A whiteout both as a device and as a `.wh.` file: one entry.
        let mut i = 1;
        while i < out.len() {
            if out[i].tar_name == out[i - 1].tar_name {
                let dup = out.remove(i);
                if self.commit() && dup.kind == (Kind::Whiteout { as_file: true }) {
                    let _ = rustix::fs::unlinkat(dir, OsStr::from_bytes(&dup.name), AtFlags::empty());
                }
            } else {
                i += 1;
            }
        }
        Ok((out, marker))
    }

    /// Writes one entry; a directory returns its frame, to be walked next.
    fn entry(
        &mut self,
        parent: &OwnedFd,
        name: &[u8],
        path: &[u8],
        kind: Kind,
        st: &Stat,
    ) -> Result<Option<Frame>, TarWriteError> {
        let mtime = self.clamp(st.st_mtime);
        let clamped = mtime != st.st_mtime;
        let (uid, gid) = self.owner(st, path)?;
        let mut h = Hdr {
            path,
            kind: b'0',
            mode: st.st_mode & 0o7777,
            uid,
            gid,
            size: 0,
            mtime,
            link: b"",
            dev: (0, 0),
            xattrs: &[],
        };
        let os_name = OsStr::from_bytes(name);
        match kind {
            Kind::Dir => return self.dir(parent, os_name, h, clamped).map(Some),
            Kind::File => return self.file(parent, os_name, h, st, clamped).map(|_| None),
            Kind::Whiteout { as_file } => {
                h.mode = 0o600;
                self.header(&h)?;
                if self.commit() {
                    self.fix_whiteout(parent, name, path, as_file, st, mtime);
                }
                return Ok(None);
            }
            Kind::Socket => {
                self.warnings.push(format!("\"{}\" is a socket, which a layer cannot hold; skipped", show(path)));
                return Ok(None);
            }
            Kind::Symlink => h.kind = b'2',
            Kind::Fifo => h.kind = b'6',
            Kind::Char | Kind::Block => {
                h.kind = if kind == Kind::Char { b'3' } else { b'4' };
                h.dev = (rustix::fs::major(st.st_rdev), rustix::fs::minor(st.st_rdev));
            }
        }
        let target;
        let first;
        if let Some(f) = self.hardlink(st, path) {
            first = f;
            h.kind = b'1';
            h.link = &first;
        } else if kind == Kind::Symlink {
            target =
                rustix::fs::readlinkat(parent, os_name, Vec::new()).map_err(|e| fail(path, "readlink", errno(e)))?;
            h.link = target.as_bytes();
        }
        self.header(&h)?;
        if clamped && self.commit() {
            set_mtime_at(parent, os_name, mtime);
        }
        Ok(None)
    }

    /// The path this inode was first written under, when it has several links.
    fn hardlink(&mut self, st: &Stat, path: &[u8]) -> Option<Vec<u8>> {
        if st.st_nlink < 2 {
            return None;
        }
        let key = (st.st_dev, st.st_ino);
        match self.links.get(&key) {
            Some(first) => Some(first.clone()),
            None => {
                self.links.insert(key, path.to_vec());
                None
            }
        }
    }

    fn dir(&mut self, parent: &OwnedFd, name: &OsStr, h: Hdr, clamped: bool) -> Result<Frame, TarWriteError> {
        let path = h.path.to_vec();
        let fd = rustix::fs::openat(
            parent,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| fail(&path, "open directory", errno(e)))?;
        let (xattrs, opaque_xattr) = self.xattrs(&fd, &path)?;
        let (children, marker) = self.list(&fd, &path)?;
        let with_slash = [path.as_slice(), b"/"].concat();
        let h = Hdr { kind: b'5', path: &with_slash, xattrs: &xattrs, ..h };
        self.header(&h)?;
        if opaque_xattr || marker {
            let marker_path = join(&path, OPAQUE);
            let m = Hdr { path: &marker_path, kind: b'0', xattrs: &[], mode: h.mode & 0o777, ..h };
            self.header(&m)?;
            if let (Some(x), true) = (self.opts.commit_opaque_xattr, marker) {
                rustix::fs::fsetxattr(&fd, x, b"y", XattrFlags::empty())
                    .map_err(|e| fail(&path, "mark directory opaque", errno(e)))?;
            }
        }
        let touched =
            self.commit() && (clamped || marker || children.iter().any(|c| c.kind == Kind::Whiteout { as_file: true }));
        Ok(Frame { dir: fd, path, children, next: 0, restore_mtime: touched.then_some(h.mtime) })
    }

    fn file(&mut self, parent: &OwnedFd, name: &OsStr, h: Hdr, st: &Stat, clamped: bool) -> Result<(), TarWriteError> {
        let path = h.path.to_vec();
        if let Some(first) = self.hardlink(st, &path) {
            return self.header(&Hdr { kind: b'1', link: &first, ..h });
        }
        // Not blocking on (nor reading) a FIFO or a device put in the file's place meanwhile.
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(parent, name, flags, Mode::empty()).map_err(|e| fail(&path, "open", errno(e)))?;
        let now = rustix::fs::fstat(&fd).map_err(|e| fail(&path, "stat", errno(e)))?;
        if FileType::from_raw_mode(now.st_mode) != FileType::RegularFile {
            return Err(fail(&path, "open", io::Error::other("replaced while it was archived")));
        }
        let (xattrs, _) = self.xattrs(&fd, &path)?;
        let h = Hdr { size: st.st_size as u64, xattrs: &xattrs, ..h };
        self.header(&h)?;
        self.content(fd, &path, h.size)?;
        if clamped && self.commit() {
            set_mtime_at(parent, name, h.mtime);
        }
        Ok(())
    }

    /// Copies exactly `size` bytes of the file, then the padding.
    fn content(&mut self, fd: OwnedFd, path: &[u8], size: u64) -> Result<(), TarWriteError> {
        let mut f = std::fs::File::from(fd);
        let mut left = size;
        while left > 0 {
            let want = (self.buf.len() as u64).min(left) as usize;
            let n = match f.read(&mut self.buf[..want]) {
                Ok(0) => return Err(fail(path, "read", io::Error::other("the file shrank while it was archived"))),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(fail(path, "read", e)),
            };
            self.out.write_all(&self.buf[..n]).map_err(TarWriteError::Output)?;
            left -= n as u64;
        }
        self.written += size;
        if let Some(s) = self.split.as_mut()
            && size > 0
        {
            s.file(path, size).map_err(TarWriteError::Output)?;
        }
        let pad = (BLOCK - (size % BLOCK as u64) as usize) % BLOCK;
        self.emit(&[0u8; BLOCK][..pad])
    }

    /// The xattrs a layer keeps (sorted by name), and whether one marks the directory opaque.
    fn xattrs(&mut self, fd: &OwnedFd, path: &[u8]) -> Result<(Xattrs, bool), TarWriteError> {
        let n = match rustix::fs::flistxattr(fd, &mut self.xbuf[..]) {
            Ok(n) => n,
            Err(rustix::io::Errno::NOTSUP) => return Ok((Vec::new(), false)),
            Err(e) => return Err(fail(path, "list xattrs", errno(e))),
        };
        let names: Vec<Vec<u8>> =
            self.xbuf[..n].split(|b| *b == 0).filter(|s| !s.is_empty()).map(|s| s.to_vec()).collect();
        let mut out = Vec::new();
        let mut opaque = false;
        let mut value = vec![0u8; 64 << 10];
        for name in names {
            let Ok(key) = std::str::from_utf8(&name) else { continue };
            let private = PRIVATE_XATTRS.iter().any(|p| key.starts_with(p));
            let wanted = key == "security.capability" || (key.starts_with("user.") && !private);
            let opq = !self.opts.plain && OPAQUE_XATTRS.contains(&key);
            // Not a layer (plain): overlay's markers are nobody's business.
            if !self.opts.plain && key.ends_with(".overlay.redirect") {
                return Err(TarWriteError::Overlay { path: show(path), what: "was renamed by overlay (redirect_dir)" });
            }
            if !self.opts.plain && key.ends_with(".overlay.metacopy") {
                return Err(TarWriteError::Overlay {
                    path: show(path),
                    what: "holds only metadata (overlay metacopy)",
                });
            }
            if !wanted && !opq {
                continue;
            }
            let len = match rustix::fs::fgetxattr(fd, key, &mut value[..]) {
                Ok(l) => l,
                Err(rustix::io::Errno::NODATA) => continue,
                Err(e) => return Err(fail(path, "read xattr", errno(e))),
            };
            if opq {
                opaque |= value[..len] == *b"y";
            } else {
                out.push((name, value[..len].to_vec()));
            }
        }
        out.sort();
        Ok((out, opaque))
    }

    /// Committing: a fuse-overlayfs `.wh.NAME` file becomes the device node NAME, as the
    /// applier stores whiteouts (same owner and mtime, so the tar stays the same).
    fn fix_whiteout(&mut self, parent: &OwnedFd, name: &[u8], path: &[u8], as_file: bool, st: &Stat, mtime: i64) {
        let target = match (as_file, name.strip_prefix(WHITEOUT)) {
            (true, Some(t)) => t,
            _ => {
                if mtime != st.st_mtime {
                    set_mtime_at(parent, OsStr::from_bytes(name), mtime);
                }
                return;
            }
        };
        let t = OsStr::from_bytes(target);
        let made = rustix::fs::mknodat(parent, t, FileType::CharacterDevice, Mode::empty(), 0)
            .and_then(|_| {
                rustix::fs::chownat(
                    parent,
                    t,
                    Some(rustix::fs::Uid::from_raw(st.st_uid)),
                    Some(rustix::fs::Gid::from_raw(st.st_gid)),
                    AtFlags::SYMLINK_NOFOLLOW,
                )
            })
            .and_then(|_| rustix::fs::unlinkat(parent, OsStr::from_bytes(name), AtFlags::empty()));
        match made {
            Ok(()) => set_mtime_at(parent, t, mtime),
            Err(e) => self.warnings.push(format!("cannot store the whiteout \"{}\" as a device node: {e}", show(path))),
        }
    }

    /// Writes one header (preceded by a PAX header when a field does not fit ustar).
    fn header(&mut self, h: &Hdr) -> Result<(), TarWriteError> {
        let mut pax = Vec::new();
        let name = ustar_name(h.path);
        if name.is_none() {
            pax_record(&mut pax, b"path", h.path);
        }
        let link_fits = h.link.len() <= 100 && h.link.iter().all(|b| (1..0x80).contains(b));
        if !link_fits {
            pax_record(&mut pax, b"linkpath", h.link);
        }
        let big = |v: u64, max: u64| v > max;
        if big(h.size, 0o777_7777_7777) {
            pax_record(&mut pax, b"size", h.size.to_string().as_bytes());
        }
        if big(h.uid, 0o777_7777) {
            pax_record(&mut pax, b"uid", h.uid.to_string().as_bytes());
        }
        if big(h.gid, 0o777_7777) {
            pax_record(&mut pax, b"gid", h.gid.to_string().as_bytes());
        }
        if h.mtime < 0 || h.mtime > 0o777_7777_7777 {
            pax_record(&mut pax, b"mtime", h.mtime.to_string().as_bytes());
        }
        if std::str::from_utf8(h.path).is_err() || std::str::from_utf8(h.link).is_err() {
            pax_record(&mut pax, b"hdrcharset", b"BINARY");
        }
        for (k, v) in h.xattrs {
            pax_record(&mut pax, &[b"SCHILY.xattr.".as_slice(), k].concat(), v);
        }
        if !pax.is_empty() {
            let ph = Hdr {
                path: b"././@PaxHeader",
                kind: b'x',
                mode: 0o644,
                uid: 0,
                gid: 0,
                size: pax.len() as u64,
                mtime: 0,
                link: b"",
                dev: (0, 0),
                xattrs: &[],
            };
            self.emit(&ustar_block(&ph, (b"", b"././@PaxHeader")))?;
            let pad = (BLOCK - pax.len() % BLOCK) % BLOCK;
            pax.resize(pax.len() + pad, 0);
            self.emit(&pax)?;
        }
        let fallback = sanitized(h.path);
        let (prefix, name) = name.unwrap_or((b"", &fallback));
        let link_field = if link_fits { h.link } else { b"" };
        let block = ustar_block(&Hdr { link: link_field, ..*h }, (prefix, name));
        self.emit(&block)
    }
}

/// The path as ustar (prefix, name) fields, when it fits them in plain ASCII.
fn ustar_name(path: &[u8]) -> Option<(&[u8], &[u8])> {
    if path.is_empty() || !path.iter().all(|b| (1..0x80).contains(b)) {
        return None;
    }
    if path.len() <= 100 {
        return Some((b"", path));
    }
    // Split at a slash: prefix up to 155 bytes, name up to 100 (and not empty).
    let start = path.len().saturating_sub(101);
    (start..path.len().min(156))
        .find(|&i| path[i] == b'/' && path.len() - i - 1 <= 100 && i + 1 < path.len())
        .map(|i| (&path[..i], &path[i + 1..]))
}

/// What a reader that ignores PAX shows: the tail of the path, ASCII only.
fn sanitized(path: &[u8]) -> Vec<u8> {
    let tail = &path[path.len().saturating_sub(100)..];
    tail.iter().map(|b| if (1..0x80).contains(b) { *b } else { b'_' }).collect()
}

fn octal(field: &mut [u8], v: u64) {
    // Digits fill the field but its last byte, which stays NUL; too large a value is 0 (PAX has it).
    let width = field.len() - 1;
    let text = format!("{v:0width$o}");
    if text.len() == width {
        field[..width].copy_from_slice(text.as_bytes());
    } else {
        field[..width].fill(b'0');
    }
}

fn ustar_block(h: &Hdr, (prefix, name): (&[u8], &[u8])) -> [u8; BLOCK] {
    let mut b = [0u8; BLOCK];
    b[..name.len().min(100)].copy_from_slice(&name[..name.len().min(100)]);
    octal(&mut b[100..108], h.mode as u64);
    octal(&mut b[108..116], if h.uid > 0o777_7777 { 0 } else { h.uid });
    octal(&mut b[116..124], if h.gid > 0o777_7777 { 0 } else { h.gid });
    octal(&mut b[124..136], if h.size > 0o777_7777_7777 { 0 } else { h.size });
    octal(&mut b[136..148], if h.mtime < 0 || h.mtime > 0o777_7777_7777 { 0 } else { h.mtime as u64 });
    b[156] = h.kind;
    b[157..157 + h.link.len().min(100)].copy_from_slice(&h.link[..h.link.len().min(100)]);
    b[257..263].copy_from_slice(b"ustar\0");
    b[263..265].copy_from_slice(b"00");
    if h.kind == b'3' || h.kind == b'4' {
        octal(&mut b[329..337], h.dev.0 as u64);
        octal(&mut b[337..345], h.dev.1 as u64);
    }
    b[345..345 + prefix.len().min(155)].copy_from_slice(&prefix[..prefix.len().min(155)]);
    b[148..156].fill(b' ');
    let sum: u32 = b.iter().map(|x| *x as u32).sum();
    let ck = format!("{sum:06o}\0 ");
    b[148..156].copy_from_slice(&ck.as_bytes()[..8]);
    b
}

/// Appends one PAX record: "LEN key=value\n", LEN counting itself.
fn pax_record(out: &mut Vec<u8>, key: &[u8], value: &[u8]) {
    let base = key.len() + value.len() + 3;
    let mut len = base + base.to_string().len();
    if len.to_string().len() + base != len {
        len = base + len.to_string().len();
    }
    out.extend_from_slice(len.to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(key);
    out.push(b'=');
    out.extend_from_slice(value);
    out.push(b'\n');
}

fn times(mtime: i64) -> Timestamps {
    let t = Timespec { tv_sec: mtime, tv_nsec: 0 };
    Timestamps { last_access: t, last_modification: t }
}

fn set_mtime_at(dir: &OwnedFd, name: &OsStr, mtime: i64) {
    let _ = rustix::fs::utimensat(dir.as_fd(), name, &times(mtime), AtFlags::SYMLINK_NOFOLLOW);
}

fn set_mtime_fd(fd: &OwnedFd, mtime: i64) {
    let _ = rustix::fs::futimens(fd, &times(mtime));
}

#[cfg(test)]
#[path = "tarwrite_tests.rs"]
mod tests;
