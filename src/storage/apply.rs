//! The safe layer applier: unpacks one (already decompressed) tar stream into an empty layer
//! directory. Every path is resolved with openat2 beneath the layer root without following
//! symlinks, so no entry can write outside it. Knows nothing of digests, locks or registries.

use rustix::fs::{AtFlags, FileType, Mode, OFlags, ResolveFlags, Timespec, Timestamps, XattrFlags};
use rustix::io::Errno;
use std::ffi::{OsStr, OsString};
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

const WHITEOUT_PREFIX: &[u8] = b".wh.";
const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";
/// Entries smaller than this are written without asking how much space is left.
const SPACE_CHECK_MIN: u64 = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    #[error("layer entry \"{entry}\" {reason}; the layer is refused")]
    Unsafe { entry: String, reason: String },
    #[error("layer entry \"{entry}\": {op}: {source}")]
    Io { entry: String, op: &'static str, source: io::Error },
    #[error(
        "layer entry \"{entry}\" is owned by {kind} {id}, outside the {count} IDs of your {file} range; widen the range for your user in {file}"
    )]
    Unmapped { entry: String, kind: &'static str, id: u64, count: u64, file: &'static str },
    #[error("layer is not a valid tar stream: {0}")]
    Tar(io::Error),
    #[error(
        "layer entry \"{entry}\" is {size} bytes, more than the {free} bytes free where the store is ({store}); free some space and pull again"
    )]
    NoSpace { entry: String, size: u64, free: u64, store: String },
}

/// Copies a sparse entry (whose holes the tar reader yields as zeros), seeking over every
/// block of zeros instead of writing it, so the file keeps its holes.
fn copy_sparse(src: &mut impl Read, dst: &mut std::fs::File) -> io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    const BLOCK: usize = 64 << 10;
    static ZEROS: [u8; BLOCK] = [0; BLOCK];
    let mut buf = vec![0u8; BLOCK];
    let mut len = 0u64;
    loop {
        let mut n = 0;
        while n < BLOCK {
            match src.read(&mut buf[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if n == 0 {
            break;
        }
        if buf[..n] == ZEROS[..n] {
            dst.seek(SeekFrom::Current(n as i64))?;
        } else {
            dst.write_all(&buf[..n])?;
        }
        len += n as u64;
    }
    // A hole at the end still counts in the size.
    dst.set_len(len)
}

/// Copies an entry's `size` bytes in chunks of up to 1 MiB (io::copy's 8 KiB would mean a
/// write per 8 KiB), reusing `buf`.
fn copy_data(src: &mut impl Read, dst: &mut std::fs::File, size: u64, buf: &mut Vec<u8>) -> io::Result<()> {
    use std::io::Write;
    let want = size.clamp(1, 1 << 20) as usize;
    if buf.len() < want {
        buf.resize(want, 0);
    }
    loop {
        let n = match src.read(&mut buf[..want]) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        dst.write_all(&buf[..n])?;
    }
}

/// How entries are owned and which privileged objects can be created.
#[derive(Debug, Clone, Copy)]
pub struct ApplyOptions {
    /// Running in a user namespace: device nodes and trusted.* xattrs are unavailable.
    pub rootless: bool,
    /// How many uids/gids exist (0 and the subordinate range); `None` = unlimited (rootful).
    pub uid_count: Option<u64>,
    pub gid_count: Option<u64>,
    /// Give entries their archive's owners. Off: everything stays the caller's (a build
    /// context sent on stdin, unpacked outside any user namespace).
    pub owners: bool,
}

/// What one layer produced besides files.
#[derive(Debug, Default)]
pub struct ApplyReport {
    pub warnings: Vec<String>,
    /// Device nodes not made (rootless): the runtime gives containers the host's devices,
    /// so this is worth a debug line, not a warning (Podman says nothing).
    pub skipped_devices: u32,
}

/// Applying a tar of plain files (`cp`, `volume import`, a volume's copy-up) rather than a
/// layer: `.wh.` names are files like any other.
#[derive(Debug, Clone, Copy, Default)]
pub struct FileOptions {
    /// Every entry gets this owner instead of the tar's.
    pub owner: Option<(u32, u32)>,
    /// A directory may replace a non-directory and the other way round (else refused).
    pub overwrite: bool,
}

fn errno(e: Errno) -> io::Error {
    io::Error::from_raw_os_error(e.raw_os_error())
}

/// Splits a tar path into its normal components; `..` anywhere is refused.
pub fn clean_path(raw: &[u8]) -> Result<Vec<OsString>, String> {
    let mut out = Vec::new();
    for c in raw.split(|b| *b == b'/') {
        match c {
            b"" | b"." => {}
            b".." => return Err("contains \"..\" and would leave the layer root".into()),
            c => out.push(OsStr::from_bytes(c).to_os_string()),
        }
    }
    Ok(out)
}

fn join(comps: &[OsString]) -> PathBuf {
    comps.iter().collect()
}

/// What whiteouts and opaque markers become.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Whiteouts {
    /// Overlay's device nodes and opaque xattrs: the result is a layer.
    Keep,
    /// What they hide is removed: the result is a merged tree (a vfs container's root).
    Apply,
}

struct Applier {
    whiteouts: Whiteouts,
    root: OwnedFd,
    root_path: PathBuf,
    opts: ApplyOptions,
    report: ApplyReport,
    /// The last parent directory opened, reused while entries stay in one directory.
    cached: Option<(PathBuf, OwnedFd)>,
    /// Directories whose mtime is set once all their children are written.
    dir_times: Vec<(PathBuf, i64)>,
    unmapped_warned: bool,
    /// Set when applying plain files (see `apply_tar_files`).
    files: Option<FileOptions>,
    /// The copy buffer, reused from file to file.
    buf: Vec<u8>,
}

impl Applier {
    fn fail(entry: &Path, op: &'static str, e: impl Into<io::Error>) -> ApplyError {
        ApplyError::Io { entry: entry.display().to_string(), op, source: e.into() }
    }

    fn unsafe_entry(entry: &Path, reason: impl Into<String>) -> ApplyError {
        ApplyError::Unsafe { entry: entry.display().to_string(), reason: reason.into() }
    }

    /// Opens a directory beneath the root; never follows a symlink, never leaves the root.
    fn open_dir(&self, rel: &Path, entry: &Path) -> Result<Option<OwnedFd>, ApplyError> {
        let path = if rel.as_os_str().is_empty() { Path::new(".") } else { rel };
        let how = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
        match rustix::fs::openat2(
            &self.root,
            path,
            OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
            Mode::empty(),
            how,
        ) {
            Ok(fd) => Ok(Some(fd)),
            Err(Errno::NOENT) => Ok(None),
            Err(Errno::LOOP) | Err(Errno::XDEV) => {
                Err(Self::unsafe_entry(entry, format!("would be written through the symlink in \"{}\"", rel.display())))
            }
            Err(Errno::NOTDIR) => {
                Err(Self::unsafe_entry(entry, format!("has a parent \"{}\" that is not a directory", rel.display())))
            }
            Err(Errno::NOSYS) => Err(Self::fail(entry, "openat2 (needs Linux 5.6 or later)", errno(Errno::NOSYS))),
            Err(e) => Err(Self::fail(entry, "open parent directory", errno(e))),
        }
    }

    /// The parent directory of an entry, created (0755, owned by root) when missing.
    fn parent(&mut self, parent: &[OsString], entry: &Path) -> Result<OwnedFd, ApplyError> {
        let rel = join(parent);
        if let Some((p, fd)) = &self.cached
            && *p == rel
        {
            return fd.try_clone().map_err(|e| Self::fail(entry, "dup", e));
        }
        let fd = match self.open_dir(&rel, entry)? {
            Some(fd) => fd,
            None => {
                for i in 1..=parent.len() {
                    let sub = join(&parent[..i]);
                    if self.open_dir(&sub, entry)?.is_some() {
                        continue;
                    }
                    let up = self.open_dir(&join(&parent[..i - 1]), entry)?.ok_or_else(|| {
                        Self::fail(entry, "create parent directory", io::Error::from(io::ErrorKind::NotFound))
                    })?;
                    match rustix::fs::mkdirat(&up, &parent[i - 1], Mode::from_raw_mode(0o755)) {
                        Ok(()) | Err(Errno::EXIST) => {}
                        Err(e) => return Err(Self::fail(entry, "create parent directory", errno(e))),
                    }
                }
                self.open_dir(&rel, entry)?.ok_or_else(|| {
                    Self::fail(entry, "create parent directory", io::Error::from(io::ErrorKind::NotFound))
                })?
            }
        };
        let dup = fd.try_clone().map_err(|e| Self::fail(entry, "dup", e))?;
        self.cached = Some((rel, dup));
        Ok(fd)
    }

    /// Removes whatever is at `name` (file, link or whole directory tree).
    /// The cached parent is `dir` itself (the entry's), which stays valid.
    fn remove(&self, dir: &OwnedFd, name: &OsStr, entry: &Path) -> Result<(), ApplyError> {
        remove_at(dir, name).map_err(|e| Self::fail(entry, "remove", e))
    }

    fn ids(&mut self, h: &tar::Header, entry: &Path) -> Result<(u32, u32), ApplyError> {
        if let Some(owner) = self.files.and_then(|f| f.owner) {
            return Ok(owner);
        }
        let uid = h.uid().map_err(|e| Self::fail(entry, "read uid", e))?;
        let gid = h.gid().map_err(|e| Self::fail(entry, "read gid", e))?;
        let check = |id: u64, count: Option<u64>, kind, file| match count {
            Some(c) if id >= c => {
                Err(ApplyError::Unmapped { entry: entry.display().to_string(), kind, id, count: c, file })
            }
            _ => Ok(id as u32),
        };
        // Only ID 0 exists without a subordinate range: own everything, as Podman's
        // ignore_chown_errors does, and say so once.
        if self.opts.uid_count == Some(1) || self.opts.gid_count == Some(1) {
            if (uid != 0 || gid != 0) && !self.unmapped_warned {
                self.unmapped_warned = true;
                self.report.warnings.push(
                    "files owned by other users in this image are stored as yours: you have no range in /etc/subuid and /etc/subgid".into(),
                );
            }
            return Ok((0, 0));
        }
        Ok((
            check(uid, self.opts.uid_count, "uid", "/etc/subuid")?,
            check(gid, self.opts.gid_count, "gid", "/etc/subgid")?,
        ))
    }

    fn xattrs<R: Read>(&mut self, e: &mut tar::Entry<R>, entry: &Path) -> Result<Vec<(String, Vec<u8>)>, ApplyError> {
        let mut out = Vec::new();
        if let Some(exts) = e.pax_extensions().map_err(|err| Self::fail(entry, "read pax headers", err))? {
            for ext in exts.flatten() {
                if let Ok(k) = ext.key()
                    && let Some(name) = k.strip_prefix("SCHILY.xattr.")
                {
                    out.push((name.to_string(), ext.value_bytes().to_vec()));
                }
            }
        }
        Ok(out)
    }

    fn set_xattrs(&mut self, fd: &OwnedFd, xattrs: &[(String, Vec<u8>)], entry: &Path) {
        for (name, value) in xattrs {
            let allowed = name.starts_with("user.") || name == "security.capability" || !self.opts.rootless;
            if !allowed || name.starts_with("security.selinux") {
                continue;
            }
            if let Err(e) = rustix::fs::fsetxattr(fd, name.as_str(), value, XattrFlags::empty()) {
                self.report.warnings.push(format!(
                    "layer entry \"{}\": cannot set xattr {name}: {}",
                    entry.display(),
                    errno(e)
                ));
            }
        }
    }

    fn apply_entry<R: Read>(&mut self, mut e: tar::Entry<R>) -> Result<(), ApplyError> {
        let raw = e.path_bytes().into_owned();
        let shown = PathBuf::from(OsStr::from_bytes(&raw));
        let comps = clean_path(&raw).map_err(|r| Self::unsafe_entry(&shown, r))?;
        let kind = e.header().entry_type();
        if kind.is_pax_global_extensions()
            || kind.is_pax_local_extensions()
            || kind.is_gnu_longname()
            || kind.is_gnu_longlink()
        {
            return Ok(());
        }
        let Some((name, parent)) = comps.split_last() else {
            return Ok(()); // the layer root itself ("./"): its directory already exists
        };
        let rel = join(&comps);
        let dir = self.parent(parent, &shown)?;
        // Names are bytes: a whiteout of a name that is not UTF-8 must hide it too.
        let name_b = name.as_bytes();
        if let Some(f) = self.files {
            if !f.overwrite {
                self.refuse_kind_change(&dir, name, kind, &shown)?;
            }
        } else if name_b == OPAQUE_MARKER {
            return match self.whiteouts {
                Whiteouts::Keep => self.mark_opaque(&dir, &shown),
                Whiteouts::Apply => self.clear_dir(&dir, &shown),
            };
        }
        if let Some(hidden) = name_b.strip_prefix(WHITEOUT_PREFIX).filter(|_| self.files.is_none()) {
            let hidden = OsStr::from_bytes(hidden).to_os_string();
            self.remove(&dir, &hidden, &shown)?;
            if self.whiteouts == Whiteouts::Apply {
                return Ok(());
            }
            return rustix::fs::mknodat(&dir, &hidden, FileType::CharacterDevice, Mode::empty(), 0)
                .map_err(|err| Self::fail(&shown, "create whiteout", errno(err)));
        }
        let h = e.header().clone();
        let mode = Mode::from_raw_mode(h.mode().map_err(|err| Self::fail(&shown, "read mode", err))? & 0o7777);
        let mtime = h.mtime().unwrap_or(0) as i64;
        let times = Timestamps {
            last_access: Timespec { tv_sec: mtime, tv_nsec: 0 },
            last_modification: Timespec { tv_sec: mtime, tv_nsec: 0 },
        };
        let xattrs = self.xattrs(&mut e, &shown)?;
        match kind {
            tar::EntryType::Directory => {
                match rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {}
                    Ok(_) => {
                        self.remove(&dir, name, &shown)?;
                        self.mkdir(&dir, name, &shown)?;
                    }
                    Err(_) => self.mkdir(&dir, name, &shown)?,
                }
                let (uid, gid) = self.ids(&h, &shown)?;
                let fd = rustix::fs::openat(
                    &dir,
                    name,
                    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(|err| Self::fail(&shown, "open directory", errno(err)))?;
                self.own_and_mode(&fd, uid, gid, mode, &shown)?;
                self.set_xattrs(&fd, &xattrs, &shown);
                self.dir_times.push((rel, mtime));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                self.remove(&dir, name, &shown)?;
                let (uid, gid) = self.ids(&h, &shown)?;
                let fd = rustix::fs::openat(
                    &dir,
                    name,
                    OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::from_raw_mode(0o600),
                )
                .map_err(|err| Self::fail(&shown, "create file", errno(err)))?;
                // A sparse entry's size is the file's apparent size; its holes stay holes.
                self.ensure_space(e.size(), &shown)?;
                let mut file = std::fs::File::from(fd);
                let e_size = e.size();
                let written = match kind {
                    tar::EntryType::GNUSparse => copy_sparse(&mut e, &mut file),
                    _ => copy_data(&mut e, &mut file, e_size, &mut self.buf),
                };
                written.map_err(|err| Self::fail(&shown, "write file", err))?;
                let fd = OwnedFd::from(file);
                self.own_and_mode(&fd, uid, gid, mode, &shown)?;
                self.set_xattrs(&fd, &xattrs, &shown);
                rustix::fs::futimens(&fd, &times).map_err(|err| Self::fail(&shown, "set times", errno(err)))?;
            }
            tar::EntryType::Symlink => {
                let target = e.link_name_bytes().map(|t| t.into_owned()).unwrap_or_default();
                self.remove(&dir, name, &shown)?;
                rustix::fs::symlinkat(OsStr::from_bytes(&target), &dir, name)
                    .map_err(|err| Self::fail(&shown, "create symlink", errno(err)))?;
                let (uid, gid) = self.ids(&h, &shown)?;
                self.chown_at(&dir, name, uid, gid, &shown)?;
                let _ = rustix::fs::utimensat(&dir, name, &times, AtFlags::SYMLINK_NOFOLLOW);
            }
            tar::EntryType::Link => {
                let target = e.link_name_bytes().map(|t| t.into_owned()).unwrap_or_default();
                let tcomps = clean_path(&target)
                    .map_err(|r| Self::unsafe_entry(&shown, format!("is a hardlink whose target {r}")))?;
                let Some((tname, tparent)) = tcomps.split_last() else {
                    return Err(Self::unsafe_entry(&shown, "is a hardlink to the layer root"));
                };
                if tcomps == comps {
                    return Ok(());
                }
                let tdir = self.open_dir(&join(tparent), &shown)?.ok_or_else(|| {
                    Self::unsafe_entry(
                        &shown,
                        format!("is a hardlink to \"{}\", which is not in this layer", join(&tcomps).display()),
                    )
                })?;
                self.remove(&dir, name, &shown)?;
                match rustix::fs::linkat(&tdir, tname, &dir, name, AtFlags::empty()) {
                    Ok(()) => {}
                    Err(Errno::NOENT) => {
                        return Err(Self::unsafe_entry(
                            &shown,
                            format!("is a hardlink to \"{}\", which is not in this layer", join(&tcomps).display()),
                        ));
                    }
                    Err(err) => return Err(Self::fail(&shown, "create hardlink", errno(err))),
                }
            }
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                self.remove(&dir, name, &shown)?;
                let (ft, dev) = match kind {
                    tar::EntryType::Fifo => (FileType::Fifo, 0),
                    t => {
                        let major = h.device_major().ok().flatten().unwrap_or(0);
                        let minor = h.device_minor().ok().flatten().unwrap_or(0);
                        let ft =
                            if t == tar::EntryType::Char { FileType::CharacterDevice } else { FileType::BlockDevice };
                        (ft, rustix::fs::makedev(major, minor))
                    }
                };
                match rustix::fs::mknodat(&dir, name, ft, mode, dev) {
                    Ok(()) => {}
                    Err(Errno::PERM) if self.opts.rootless && ft != FileType::Fifo => {
                        // As Podman: a device node cannot be made in a user namespace; the
                        // container gets the host's devices from its runtime instead.
                        self.report.skipped_devices += 1;
                        return Ok(());
                    }
                    Err(err) => return Err(Self::fail(&shown, "create device node", errno(err))),
                }
                let (uid, gid) = self.ids(&h, &shown)?;
                self.chown_at(&dir, name, uid, gid, &shown)?;
                let _ = rustix::fs::utimensat(&dir, name, &times, AtFlags::SYMLINK_NOFOLLOW);
            }
            other => {
                self.report
                    .warnings
                    .push(format!("layer entry \"{}\" has unsupported type {other:?}; skipped", shown.display()));
            }
        }
        Ok(())
    }

    /// Plain files without `overwrite`: a directory is not replaced by a non-directory, nor
    /// the other way round.
    fn refuse_kind_change(
        &self,
        dir: &OwnedFd,
        name: &OsStr,
        kind: tar::EntryType,
        entry: &Path,
    ) -> Result<(), ApplyError> {
        let Ok(st) = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) else { return Ok(()) };
        let is_dir = FileType::from_raw_mode(st.st_mode) == FileType::Directory;
        match (is_dir, kind == tar::EntryType::Directory) {
            (true, false) => Err(Self::unsafe_entry(entry, "would replace a directory with a non-directory")),
            (false, true) => Err(Self::unsafe_entry(entry, "would replace a non-directory with a directory")),
            _ => Ok(()),
        }
    }

    /// Refuses an entry of `size` bytes that cannot fit in what is left of the store's file
    /// system, before anything of it is written.
    fn ensure_space(&self, size: u64, entry: &Path) -> Result<(), ApplyError> {
        if size < SPACE_CHECK_MIN {
            return Ok(());
        }
        let st = rustix::fs::fstatvfs(&self.root).map_err(|e| Self::fail(entry, "statvfs", errno(e)))?;
        let free = st.f_bavail.saturating_mul(st.f_frsize);
        if size > free {
            return Err(ApplyError::NoSpace {
                entry: entry.display().to_string(),
                size,
                free,
                store: self.root_path.display().to_string(),
            });
        }
        Ok(())
    }

    fn mkdir(&self, dir: &OwnedFd, name: &OsStr, entry: &Path) -> Result<(), ApplyError> {
        rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(0o700))
            .map_err(|e| Self::fail(entry, "create directory", errno(e)))
    }

    fn chown_at(&self, dir: &OwnedFd, name: &OsStr, uid: u32, gid: u32, entry: &Path) -> Result<(), ApplyError> {
        if !self.opts.owners {
            return Ok(());
        }
        let (u, g) = (rustix::fs::Uid::from_raw(uid), rustix::fs::Gid::from_raw(gid));
        rustix::fs::chownat(dir, name, Some(u), Some(g), AtFlags::SYMLINK_NOFOLLOW)
            .map_err(|e| Self::fail(entry, "chown", errno(e)))
    }

    fn own_and_mode(&self, fd: &OwnedFd, uid: u32, gid: u32, mode: Mode, entry: &Path) -> Result<(), ApplyError> {
        let (u, g) = (rustix::fs::Uid::from_raw(uid), rustix::fs::Gid::from_raw(gid));
        if self.opts.owners {
            rustix::fs::fchown(fd, Some(u), Some(g)).map_err(|e| Self::fail(entry, "chown", errno(e)))?;
        }
        // chmod after chown: chown clears setuid/setgid bits.
        rustix::fs::fchmod(fd, mode).map_err(|e| Self::fail(entry, "chmod", errno(e)))
    }

    /// An opaque directory in a merged tree: what earlier layers put in it goes (its marker
    /// comes before the layer's own children).
    fn clear_dir(&self, dir: &OwnedFd, entry: &Path) -> Result<(), ApplyError> {
        clear_at(dir).map_err(|e| Self::fail(entry, "empty opaque directory", e))
    }

    fn mark_opaque(&mut self, dir: &OwnedFd, entry: &Path) -> Result<(), ApplyError> {
        let fd = rustix::fs::openat(dir, ".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| Self::fail(entry, "open directory", errno(e)))?;
        // Native rootless overlay (userxattr) and fuse-overlayfs read user.overlay.*;
        // rootful overlay reads trusted.overlay.*.
        let name = if self.opts.rootless { "user.overlay.opaque" } else { "trusted.overlay.opaque" };
        rustix::fs::fsetxattr(&fd, name, b"y", XattrFlags::empty())
            .map_err(|e| Self::fail(entry, "mark directory opaque", errno(e)))
    }

    fn finish(&mut self) -> Result<(), ApplyError> {
        self.cached = None;
        // Deepest first, so setting a child's time does not disturb its parent's.
        self.dir_times.sort_by_key(|(p, _)| std::cmp::Reverse(p.components().count()));
        for (rel, mtime) in std::mem::take(&mut self.dir_times) {
            let how = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
            let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
            let Ok(fd) = rustix::fs::openat2(&self.root, &rel, flags, Mode::empty(), how) else { continue };
            let t = Timespec { tv_sec: mtime, tv_nsec: 0 };
            let _ = rustix::fs::futimens(&fd, &Timestamps { last_access: t, last_modification: t });
        }
        Ok(())
    }
}

/// Removes `name` in `dir` and, when it is a directory, everything below it, by descriptors
/// only: a symlink anywhere in the tree is removed, never followed (the tree may be a running
/// container's, changing meanwhile). A missing `name` is no error.
pub(crate) fn remove_at(dir: &OwnedFd, name: &OsStr) -> io::Result<()> {
    match rustix::fs::unlinkat(dir, name, AtFlags::empty()) {
        Ok(()) | Err(Errno::NOENT) => return Ok(()),
        Err(Errno::ISDIR) => {}
        Err(e) => return Err(errno(e)),
    }
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Ok(sub) => clear_at(&sub)?,
        Err(Errno::NOENT) => return Ok(()),
        // Replaced by a non-directory since the unlink: try once more as that.
        Err(Errno::NOTDIR | Errno::LOOP) => {
            return rustix::fs::unlinkat(dir, name, AtFlags::empty()).map_err(errno);
        }
        Err(e) => return Err(errno(e)),
    }
    match rustix::fs::unlinkat(dir, name, AtFlags::REMOVEDIR) {
        Ok(()) | Err(Errno::NOENT) => Ok(()),
        Err(e) => Err(errno(e)),
    }
}

/// Removes everything in directory `dir` (which stays), as `remove_at`.
pub(crate) fn clear_at(dir: &OwnedFd) -> io::Result<()> {
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
    let fd = rustix::fs::openat(dir, ".", flags, Mode::empty()).map_err(errno)?;
    dir_names(&fd)?.iter().try_for_each(|n| remove_at(&fd, n))
}

/// The names in the directory open for reading as `dir` ("." and ".." left out).
pub(crate) fn dir_names(dir: &OwnedFd) -> io::Result<Vec<OsString>> {
    let mut names = Vec::new();
    for e in rustix::fs::Dir::read_from(dir).map_err(errno)? {
        let n = e.map_err(errno)?.file_name().to_bytes().to_vec();
        if n != b"." && n != b".." {
            names.push(OsString::from_vec(n));
        }
    }
    Ok(names)
}

/// Applies the tar stream `reader` into the empty directory `root` and returns the reader
/// (so the caller can hash the stream to its end).
pub fn apply_tar<R: Read>(root: &Path, reader: R, opts: ApplyOptions) -> Result<(ApplyReport, R), ApplyError> {
    apply(root, reader, opts, Whiteouts::Keep, None)
}

/// [`apply_tar`] onto a merged tree: whiteouts and opaque markers remove what they hide
/// instead of being stored (a vfs container's root made from its image's layers in order).
pub fn apply_tar_merged<R: Read>(root: &Path, reader: R, opts: ApplyOptions) -> Result<(ApplyReport, R), ApplyError> {
    apply(root, reader, opts, Whiteouts::Apply, None)
}

/// As `apply_tar`, for a tar of plain files into an existing directory (`cp`, `volume
/// import`, copy-up): no whiteouts, owners as `files` says, kind changes refused unless asked.
pub fn apply_tar_files<R: Read>(
    root: &Path,
    reader: R,
    opts: ApplyOptions,
    files: FileOptions,
) -> Result<(ApplyReport, R), ApplyError> {
    apply(root, reader, opts, Whiteouts::Keep, Some(files))
}

fn apply<R: Read>(
    root: &Path,
    reader: R,
    opts: ApplyOptions,
    whiteouts: Whiteouts,
    files: Option<FileOptions>,
) -> Result<(ApplyReport, R), ApplyError> {
    let root_fd = rustix::fs::open(root, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| Applier::fail(root, "open layer directory", errno(e)))?;
    let mut a = Applier {
        whiteouts,
        root: root_fd,
        root_path: root.to_path_buf(),
        opts,
        report: ApplyReport::default(),
        cached: None,
        dir_times: Vec::new(),
        unmapped_warned: false,
        files,
        buf: Vec::new(),
    };
    let mut archive = tar::Archive::new(reader);
    {
        let entries = archive.entries().map_err(ApplyError::Tar)?;
        for entry in entries {
            let entry = entry.map_err(ApplyError::Tar)?;
            a.apply_entry(entry)?;
        }
    }
    a.finish()?;
    Ok((a.report, archive.into_inner()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merged_trees_remove_what_whiteouts_and_opaque_markers_hide() {
        let d = scratch("merged");
        let root = d.join("root");
        std::fs::create_dir_all(&root).unwrap();
        let lower = tar_with(|b| {
            b.append(&header(tar::EntryType::Directory, "dir/", 0), &[][..]).unwrap();
            b.append(&header(tar::EntryType::Regular, "dir/old", 1), &b"x"[..]).unwrap();
            b.append(&header(tar::EntryType::Regular, "gone", 1), &b"x"[..]).unwrap();
            b.append(&header(tar::EntryType::Regular, "kept", 1), &b"x"[..]).unwrap();
        });
        apply_tar_merged(&root, &lower[..], opts()).unwrap();
        let upper = tar_with(|b| {
            b.append(&header(tar::EntryType::Directory, "dir/", 0), &[][..]).unwrap();
            b.append(&header(tar::EntryType::Regular, "dir/.wh..wh..opq", 0), &[][..]).unwrap();
            b.append(&header(tar::EntryType::Regular, "dir/new", 1), &b"y"[..]).unwrap();
            b.append(&header(tar::EntryType::Regular, ".wh.gone", 0), &[][..]).unwrap();
        });
        apply_tar_merged(&root, &upper[..], opts()).unwrap();
        let mut names: Vec<String> =
            std::fs::read_dir(&root).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        names.sort();
        assert_eq!(names, ["dir", "kept"]);
        let inside: Vec<String> = std::fs::read_dir(root.join("dir"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(inside, ["new"]);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn trees_are_removed_without_following_their_symlinks() {
        use std::os::unix::fs::symlink;
        let d = scratch("remove");
        let root = d.join("root");
        std::fs::create_dir_all(d.join("outside/sub")).unwrap();
        std::fs::write(d.join("outside/sub/keep"), "x").unwrap();
        std::fs::create_dir_all(root.join("tree/deep/er")).unwrap();
        std::fs::write(root.join("tree/deep/er/f"), "x").unwrap();
        symlink(d.join("outside"), root.join("tree/abs")).unwrap();
        symlink("../../outside", root.join("tree/deep/rel")).unwrap();
        let fd = rustix::fs::open(&root, OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
        remove_at(&fd, OsStr::new("tree")).unwrap();
        assert!(!root.join("tree").exists() && root.exists());
        remove_at(&fd, OsStr::new("missing")).unwrap();
        // A directory entry replacing a directory that holds a link to the outside.
        std::fs::create_dir_all(root.join("dir")).unwrap();
        symlink(d.join("outside"), root.join("dir/out")).unwrap();
        let files = FileOptions { owner: None, overwrite: true };
        let t = tar_with(|b| b.append(&header(tar::EntryType::Regular, "dir", 1), &b"y"[..]).unwrap());
        apply_tar_files(&root, &t[..], opts(), files).unwrap();
        assert_eq!(std::fs::read(root.join("dir")).unwrap(), b"y");
        std::fs::write(root.join("leftover"), "x").unwrap();
        clear_at(&fd).unwrap();
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
        assert_eq!(std::fs::read(d.join("outside/sub/keep")).unwrap(), b"x");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn clean_refuses_dotdot() {
        assert_eq!(clean_path(b"./a//b/./c").unwrap(), ["a", "b", "c"]);
        assert_eq!(clean_path(b"/etc/passwd").unwrap(), ["etc", "passwd"]);
        assert!(clean_path(b"a/../../x").is_err());
        assert!(clean_path(b"..").is_err());
        assert!(clean_path(b"./").unwrap().is_empty());
    }

    fn tar_with(build: impl FnOnce(&mut tar::Builder<Vec<u8>>)) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        build(&mut b);
        b.into_inner().unwrap()
    }

    fn header(kind: tar::EntryType, path: &str, size: u64) -> tar::Header {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(kind);
        h.set_path(path).unwrap();
        h.set_size(size);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        h
    }

    fn scratch(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kiste-apply-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("root")).unwrap();
        d
    }

    /// Unprivileged unit tests own everything as the calling user: one ID.
    fn opts() -> ApplyOptions {
        let rootful = nix::unistd::geteuid().is_root();
        ApplyOptions {
            rootless: !rootful,
            uid_count: if rootful { None } else { Some(1) },
            gid_count: None,
            owners: true,
        }
    }

    #[test]
    fn writes_files_links_and_whiteouts() {
        let d = scratch("basic");
        let data = tar_with(|b| {
            let mut h = header(tar::EntryType::Regular, "a/b/file.txt", 5);
            h.set_mode(0o4755);
            h.set_cksum();
            b.append(&h, &b"hello"[..]).unwrap();
            let mut l = header(tar::EntryType::Symlink, "a/link", 0);
            l.set_link_name("b/file.txt").unwrap();
            l.set_cksum();
            b.append(&l, &[][..]).unwrap();
            let mut hl = header(tar::EntryType::Link, "a/hard", 0);
            hl.set_link_name("a/b/file.txt").unwrap();
            hl.set_cksum();
            b.append(&hl, &[][..]).unwrap();
            b.append(&header(tar::EntryType::Regular, "a/.wh.gone", 0), &[][..]).unwrap();
        });
        let root = d.join("root");
        apply_tar(&root, &data[..], opts()).unwrap();
        use std::os::unix::fs::{FileTypeExt, MetadataExt};
        assert_eq!(std::fs::read(root.join("a/b/file.txt")).unwrap(), b"hello");
        let m = std::fs::metadata(root.join("a/b/file.txt")).unwrap();
        assert_eq!(m.mode() & 0o7777, 0o4755);
        assert_eq!(m.mtime(), 1_700_000_000);
        assert_eq!(std::fs::read_link(root.join("a/link")).unwrap(), Path::new("b/file.txt"));
        assert_eq!(std::fs::metadata(root.join("a/hard")).unwrap().ino(), m.ino());
        let w = std::fs::symlink_metadata(root.join("a/gone")).unwrap();
        assert!(w.file_type().is_char_device() && w.rdev() == 0);
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn refuses_writes_through_symlinks_and_outside_hardlinks() {
        let d = scratch("escape");
        let outside = d.join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        let data = tar_with(|b| {
            let mut l = header(tar::EntryType::Symlink, "evil", 0);
            l.set_link_name(outside.to_str().unwrap()).unwrap();
            l.set_cksum();
            b.append(&l, &[][..]).unwrap();
            b.append(&header(tar::EntryType::Regular, "evil/pwned", 3), &b"bad"[..]).unwrap();
        });
        let err = apply_tar(&d.join("root"), &data[..], opts()).unwrap_err();
        assert!(err.to_string().contains("symlink"), "{err}");
        assert!(!outside.join("pwned").exists());

        let d2 = scratch("hardlink");
        std::fs::write(d2.join("secret"), "s").unwrap();
        let data = tar_with(|b| {
            let mut hl = header(tar::EntryType::Link, "stolen", 0);
            hl.set_link_name(d2.join("secret").to_str().unwrap()).unwrap();
            hl.set_cksum();
            b.append(&hl, &[][..]).unwrap();
        });
        let err = apply_tar(&d2.join("root"), &data[..], opts()).unwrap_err();
        assert!(err.to_string().contains("not in this layer"), "{err}");
        assert!(!d2.join("root/stolen").exists());
        std::fs::remove_dir_all(&d).unwrap();
        std::fs::remove_dir_all(&d2).unwrap();
    }

    /// A GNU sparse entry: `data` at `offset`, apparent size `real`.
    fn sparse_entry(path: &str, offset: u64, data: &[u8], real: u64) -> (tar::Header, Vec<u8>) {
        let put = |dst: &mut [u8; 12], v: u64| {
            // Binary (base-256) numbers: high bit set, big-endian in the last 8 bytes.
            *dst = [0; 12];
            dst[0] = 0x80;
            dst[4..].copy_from_slice(&v.to_be_bytes());
        };
        let mut h = header(tar::EntryType::GNUSparse, path, data.len() as u64);
        let g = h.as_gnu_mut().unwrap();
        put(&mut g.sparse[0].offset, offset);
        put(&mut g.sparse[0].numbytes, data.len() as u64);
        put(&mut g.sparse[1].offset, real);
        put(&mut g.sparse[1].numbytes, 0);
        g.set_real_size(real);
        h.set_cksum();
        let mut padded = data.to_vec();
        padded.resize(data.len().div_ceil(512) * 512, 0);
        (h, padded)
    }

    #[test]
    fn sparse_files_keep_their_holes() {
        use std::os::unix::fs::MetadataExt;
        let d = scratch("sparse");
        let real = 256u64 << 20;
        let (h, data) = sparse_entry("big", 128 << 20, b"middle", real);
        let mut raw = Vec::new();
        raw.extend_from_slice(h.as_bytes());
        raw.extend_from_slice(&data);
        raw.extend_from_slice(&[0u8; 1024]);
        let root = d.join("root");
        apply_tar(&root, &raw[..], opts()).unwrap();
        let m = std::fs::metadata(root.join("big")).unwrap();
        assert_eq!(m.len(), real);
        assert!(m.blocks() * 512 < 1 << 20, "{} bytes allocated for a sparse file", m.blocks() * 512);
        let content = std::fs::read(root.join("big")).unwrap();
        assert_eq!(&content[128 << 20..(128 << 20) + 6], b"middle");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn an_entry_larger_than_the_free_space_is_refused_first() {
        let d = scratch("nospace");
        let (h, data) = sparse_entry("huge", 0, b"x", 1 << 60);
        let mut raw = Vec::new();
        raw.extend_from_slice(h.as_bytes());
        raw.extend_from_slice(&data);
        raw.extend_from_slice(&[0u8; 1024]);
        let err = apply_tar(&d.join("root"), &raw[..], opts()).unwrap_err().to_string();
        assert!(err.contains("\"huge\"") && err.contains("free"), "{err}");
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn whiteouts_of_names_that_are_not_utf8_hide_them() {
        use std::os::unix::ffi::OsStrExt;
        let d = scratch("wh-bytes");
        let root = d.join("root");
        let name = OsStr::from_bytes(b"n\xff-file");
        std::fs::write(root.join(name), "lower").unwrap();
        let mut h = header(tar::EntryType::Regular, "x", 0);
        h.as_old_mut().name[..11].copy_from_slice(b".wh.n\xff-file");
        h.set_cksum();
        let mut raw = h.as_bytes().to_vec();
        raw.extend_from_slice(&[0u8; 1024]);
        apply_tar(&root, &raw[..], opts()).unwrap();
        let m = std::fs::symlink_metadata(root.join(name)).unwrap();
        use std::os::unix::fs::FileTypeExt;
        assert!(m.file_type().is_char_device(), "the whiteout did not replace the file");
        std::fs::remove_dir_all(&d).unwrap();
    }
}
