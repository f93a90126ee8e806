//! The image builder's COPY, ADD and WORKDIR as a layer: inside the user namespace, in a
//! private mount namespace, the layers so far are mounted as an overlay with a fresh upper
//! directory (the new layer) and the sources are written into it at the destination —
//! resolved inside the mounted root (`storage::inroot`), so an image's symlinks are followed
//! inside it and never to the host. Sources are host files the caller listed (the build
//! context, downloads, heredocs) or paths inside another image (`COPY --from`), read through
//! an overlay of that image's layers, also inside its root. Owns no cache and no records.

use super::inroot::{Kind, Root};
use super::overlay::{OverlayMode, OverlaySpec};
use rustix::fs::{AtFlags, FileType, Mode, OFlags, Timespec, Timestamps};
use serde::{Deserialize, Serialize};
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// A host file, directory or symlink to write at `rel` under the destination.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HostEntry {
    /// Where it is on the host (a file of the user's: read as is, never through a final symlink).
    pub src: PathBuf,
    /// Its path below the destination ("" for the destination itself, when a file is copied
    /// to a file name).
    pub rel: String,
}

/// Where a COPY takes its sources from.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Sources {
    /// Host entries listed by the caller (parents before children).
    Host(Vec<HostEntry>),
    /// Paths (Go filepath.Match wildcards in the last component) inside an image made of
    /// these layers (top first), each copied as COPY copies a source: a directory's contents.
    Image { layers: Vec<PathBuf>, paths: Vec<String> },
    /// Nothing: only the destination directory is made (WORKDIR).
    None,
}

/// One COPY/ADD/WORKDIR, as the helper gets it on stdin.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CopyRequest {
    /// The layers so far, top first ("" none: scratch).
    pub lower: Vec<PathBuf>,
    /// The new layer's directory and overlay's work directory (empty, same file system).
    pub upper: PathBuf,
    pub work: PathBuf,
    /// Where to mount (an empty directory of kiste's); the source image is mounted beside it.
    pub mount: PathBuf,
    pub overlay: String,
    pub sources: Sources,
    /// Absolute destination inside the root.
    pub dest: String,
    /// The destination is a directory (it ends with `/`, or several sources are copied).
    pub dest_is_dir: bool,
    pub chown: Option<(u32, u32)>,
    pub chmod: Option<u32>,
    /// ADD: host archives (tar, gzip, zstd) to unpack into the destination with the safe applier.
    pub archives: Vec<PathBuf>,
    pub rootless: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("{0}")]
    Io(String),
    #[error(transparent)]
    InRoot(#[from] super::inroot::InRootError),
    #[error("{0}")]
    NotFound(String),
}

fn io(what: impl std::fmt::Display, e: impl std::fmt::Display) -> CopyError {
    CopyError::Io(format!("{what}: {e}"))
}

/// Helper side: reads a CopyRequest on stdin, prints "ok" or the error on stdout.
pub fn helper_copy() -> std::process::ExitCode {
    let mut input = Vec::new();
    let r = std::io::stdin()
        .read_to_end(&mut input)
        .map_err(|e| io("read the request", e))
        .and_then(|_| serde_json::from_slice::<CopyRequest>(&input).map_err(|e| io("bad request", e)))
        .and_then(|req| copy(&req));
    let msg = match &r {
        Ok(()) => "ok".to_string(),
        Err(e) => e.to_string(),
    };
    let _ = std::io::stdout().write_all(msg.as_bytes());
    if r.is_ok() { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::from(1) }
}

fn join_lower(layers: &[PathBuf]) -> String {
    layers.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":")
}

/// Mounts the overlays in a mount namespace of our own, then writes the sources.
fn copy(req: &CopyRequest) -> Result<(), CopyError> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).map_err(|e| io("unshare the mount namespace", e))?;
    nix::mount::mount(
        None::<&str>,
        "/",
        None::<&str>,
        nix::mount::MsFlags::MS_REC | nix::mount::MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| io("make / private", e))?;
    let mode = OverlayMode::from_key(&req.overlay).unwrap_or(OverlayMode::Native);
    let target = req.mount.join("root");
    std::fs::create_dir_all(&target).map_err(|e| io(target.display(), e))?;
    // An empty lower (FROM scratch) is overlay's one requirement: a directory of our own.
    let empty = req.mount.join("empty");
    let lower = if req.lower.is_empty() {
        std::fs::create_dir_all(&empty).map_err(|e| io(empty.display(), e))?;
        empty.display().to_string()
    } else {
        join_lower(&req.lower)
    };
    let (upper, work) = (req.upper.display().to_string(), req.work.display().to_string());
    let spec = OverlaySpec {
        lower: &lower,
        upper: Some((&upper, &work)),
        userxattr: req.rootless,
        volatile: false,
        fuse_options: None,
    };
    super::overlay::mount(mode, &spec, &target).map_err(CopyError::Io)?;
    let root = Root::open(&target)?;
    let mut w = Writer { root, req, dirs: Default::default() };
    let r = w.run();
    drop(w);
    let _ = nix::mount::umount2(&target, nix::mount::MntFlags::MNT_DETACH);
    r
}

/// Writes into the mounted root.
struct Writer<'a> {
    root: Root,
    req: &'a CopyRequest,
    /// Directories below the destination already opened, by their relative path.
    dirs: std::collections::HashMap<String, OwnedFd>,
}

impl Writer<'_> {
    fn run(&mut self) -> Result<(), CopyError> {
        let dest = self.req.dest.trim_end_matches('/');
        let dest = if dest.is_empty() { "/" } else { dest };
        match &self.req.sources {
            Sources::None => {
                let fd = self.root.open_or_create(Path::new(dest), Kind::Dir)?;
                // An O_PATH descriptor cannot be chowned: the directory itself, opened.
                let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
                let dir = rustix::fs::openat(&fd, ".", flags, Mode::empty()).map_err(|e| io(dest, e))?;
                self.own(&dir, None)?;
            }
            Sources::Host(entries) => self.host(dest, entries)?,
            Sources::Image { layers, paths } => self.image(dest, layers, paths)?,
        }
        for a in &self.req.archives {
            let d = self.root.open_or_create(Path::new(dest), Kind::Dir)?;
            let at = PathBuf::from(format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&d)));
            let f = std::fs::File::open(a).map_err(|e| io(a.display(), e))?;
            let reader = super::layers::decompressed(f).map_err(|e| io(a.display(), e))?;
            let opts = super::apply::ApplyOptions {
                rootless: self.req.rootless,
                uid_count: None,
                gid_count: None,
                owners: true,
            };
            super::apply::apply_tar(&at, reader, opts).map_err(|e| io(a.display(), e))?;
        }
        Ok(())
    }

    /// The destination directory, or, copying one file to a name that is not a directory,
    /// the directory of that name.
    fn host(&mut self, dest: &str, entries: &[HostEntry]) -> Result<(), CopyError> {
        let single_file = entries.len() == 1 && entries[0].rel.is_empty();
        if single_file && !self.req.dest_is_dir && !self.is_dir(dest) {
            let (parent, name) = split(dest);
            let dir = self.root.open_or_create(Path::new(parent), Kind::Dir)?;
            return self.put_host(&dir, OsStr::new(name), &entries[0].src);
        }
        let base = self.root.open_or_create(Path::new(dest), Kind::Dir)?;
        self.dirs.insert(String::new(), base);
        for e in entries {
            let name = Path::new(&e.src).file_name().map(OsStr::to_os_string).unwrap_or_default();
            let (parent, leaf) = match e.rel.rsplit_once('/') {
                Some((p, l)) => (p.to_string(), OsString::from(l)),
                None if e.rel.is_empty() => (String::new(), name),
                None => (String::new(), OsString::from(&e.rel)),
            };
            let dir = self.dir(dest, &parent)?;
            self.put_host(&dir, &leaf, &e.src)?;
        }
        Ok(())
    }

    fn is_dir(&self, dest: &str) -> bool {
        self.root.is_dir(Path::new(dest))
    }

    /// The directory `rel` below the destination, made (and owned) when missing.
    fn dir(&mut self, dest: &str, rel: &str) -> Result<OwnedFd, CopyError> {
        if let Some(fd) = self.dirs.get(rel) {
            return fd.try_clone().map_err(|e| io(rel, e));
        }
        let full = format!("{dest}/{rel}");
        let fd = self.root.open_or_create(Path::new(&full), Kind::Dir)?;
        self.dirs.insert(rel.to_string(), fd.try_clone().map_err(|e| io(rel, e))?);
        Ok(fd)
    }

    /// Writes the host entry `src` as `name` in `dir`: a directory, a file or a symlink.
    fn put_host(&mut self, dir: &OwnedFd, name: &OsStr, src: &Path) -> Result<(), CopyError> {
        let st = std::fs::symlink_metadata(src).map_err(|e| io(src.display(), e))?;
        let times = mtime(&st);
        use std::os::unix::fs::MetadataExt;
        let mode = st.mode() & 0o7777;
        if st.is_dir() {
            let fd = self.mkdir(dir, name, mode)?;
            return self.finish(&fd, mode, times);
        }
        self.clear(dir, name)?;
        if st.file_type().is_symlink() {
            let target = std::fs::read_link(src).map_err(|e| io(src.display(), e))?;
            rustix::fs::symlinkat(&target, dir, name).map_err(|e| io(src.display(), e))?;
            let (uid, gid) = self.req.chown.unwrap_or((0, 0));
            let _ = rustix::fs::chownat(
                dir,
                name,
                Some(rustix::fs::Uid::from_raw(uid)),
                Some(rustix::fs::Gid::from_raw(gid)),
                AtFlags::SYMLINK_NOFOLLOW,
            );
            return Ok(());
        }
        let input = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(src)
            .map_err(|e| io(src.display(), e))?;
        let out = self.create(dir, name)?;
        let mut out = std::fs::File::from(out);
        std::io::copy(&mut std::io::BufReader::with_capacity(1 << 16, input), &mut out)
            .map_err(|e| io(format!("copy {}", src.display()), e))?;
        self.finish(&OwnedFd::from(out), mode, times)
    }

    /// Copies paths of another image (mounted read-only beside ours) as COPY does.
    fn image(&mut self, dest: &str, layers: &[PathBuf], paths: &[String]) -> Result<(), CopyError> {
        let target = self.req.mount.join("source");
        std::fs::create_dir_all(&target).map_err(|e| io(target.display(), e))?;
        let lower = join_lower(layers);
        let mode = OverlayMode::from_key(&self.req.overlay).unwrap_or(OverlayMode::Native);
        let spec = OverlaySpec {
            lower: &lower,
            upper: None,
            userxattr: self.req.rootless,
            volatile: false,
            fuse_options: None,
        };
        super::overlay::mount(mode, &spec, &target).map_err(CopyError::Io)?;
        let src = Root::open(&target)?;
        let mut found = Vec::new();
        for p in paths {
            let got = src.expand(p)?;
            if got.is_empty() {
                return Err(CopyError::NotFound(format!("source {p:?} not found in the image it is copied from")));
            }
            found.extend(got);
        }
        let single_file = found.len() == 1 && !src.is_dir(Path::new(&found[0]));
        if single_file && !self.req.dest_is_dir && !self.is_dir(dest) {
            let (parent, name) = split(dest);
            let dir = self.root.open_or_create(Path::new(parent), Kind::Dir)?;
            return self.copy_tree(&src, Path::new(&found[0]), &dir, OsStr::new(name));
        }
        let base = self.root.open_or_create(Path::new(dest), Kind::Dir)?;
        for f in &found {
            if src.is_dir(Path::new(f)) {
                // A directory's contents, not the directory itself.
                for child in src.list(Path::new(f))? {
                    self.copy_tree(&src, &Path::new(f).join(&child), &base, &child)?;
                }
            } else {
                let name = Path::new(f).file_name().map(OsStr::to_os_string).unwrap_or_default();
                self.copy_tree(&src, Path::new(f), &base, &name)?;
            }
        }
        let _ = nix::mount::umount2(&target, nix::mount::MntFlags::MNT_DETACH);
        Ok(())
    }

    /// Copies `rel` of the source root (not following a final symlink) as `name` in `dir`.
    fn copy_tree(&mut self, src: &Root, rel: &Path, dir: &OwnedFd, name: &OsStr) -> Result<(), CopyError> {
        let (parent, leaf) = src.parent_of(rel)?;
        let st = rustix::fs::statat(&parent, &leaf, AtFlags::SYMLINK_NOFOLLOW).map_err(|e| io(rel.display(), e))?;
        let mode = st.st_mode & 0o7777;
        let times = Timestamps {
            last_access: Timespec { tv_sec: st.st_mtime, tv_nsec: st.st_mtime_nsec as _ },
            last_modification: Timespec { tv_sec: st.st_mtime, tv_nsec: st.st_mtime_nsec as _ },
        };
        match FileType::from_raw_mode(st.st_mode) {
            FileType::Directory => {
                let fd = self.mkdir(dir, name, mode)?;
                for child in src.list(rel)? {
                    self.copy_tree(src, &rel.join(&child), &fd, &child)?;
                }
                self.finish(&fd, mode, times)
            }
            FileType::Symlink => {
                self.clear(dir, name)?;
                let target = super::inroot::link_target(&parent, &leaf).map_err(|e| io(rel.display(), e))?;
                rustix::fs::symlinkat(&target, dir, name).map_err(|e| io(rel.display(), e))?;
                let (uid, gid) = self.req.chown.unwrap_or((0, 0));
                let _ = rustix::fs::chownat(
                    dir,
                    name,
                    Some(rustix::fs::Uid::from_raw(uid)),
                    Some(rustix::fs::Gid::from_raw(gid)),
                    AtFlags::SYMLINK_NOFOLLOW,
                );
                Ok(())
            }
            FileType::RegularFile => {
                self.clear(dir, name)?;
                let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
                let input =
                    rustix::fs::openat(&parent, &leaf, flags, Mode::empty()).map_err(|e| io(rel.display(), e))?;
                let out = self.create(dir, name)?;
                let mut out = std::fs::File::from(out);
                std::io::copy(&mut std::fs::File::from(input), &mut out).map_err(|e| io(rel.display(), e))?;
                self.finish(&OwnedFd::from(out), mode, times)
            }
            // Devices, FIFOs, sockets of an image are not copied (a rootless build cannot make
            // devices; the others mean nothing in an image).
            _ => Ok(()),
        }
    }

    /// A directory `name` in `dir`: kept when there is one, else made (whatever else is
    /// there replaced).
    fn mkdir(&self, dir: &OwnedFd, name: &OsStr, mode: u32) -> Result<OwnedFd, CopyError> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        if let Ok(fd) = rustix::fs::openat(dir, name, flags, Mode::empty()) {
            return Ok(fd);
        }
        self.clear(dir, name)?;
        rustix::fs::mkdirat(dir, name, Mode::from_raw_mode(mode)).map_err(|e| io(name.to_string_lossy(), e))?;
        rustix::fs::openat(dir, name, flags, Mode::empty()).map_err(|e| io(name.to_string_lossy(), e))
    }

    /// Removes a non-directory at `name` (a directory stays: a file replacing it fails then).
    fn clear(&self, dir: &OwnedFd, name: &OsStr) -> Result<(), CopyError> {
        match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if FileType::from_raw_mode(st.st_mode) != FileType::Directory => {
                rustix::fs::unlinkat(dir, name, AtFlags::empty()).map_err(|e| io(name.to_string_lossy(), e))
            }
            _ => Ok(()),
        }
    }

    fn create(&self, dir: &OwnedFd, name: &OsStr) -> Result<OwnedFd, CopyError> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
        rustix::fs::openat(dir, name, flags, Mode::from_raw_mode(0o600)).map_err(|e| io(name.to_string_lossy(), e))
    }

    /// Owner (--chown, else root), mode (--chmod, else the source's) and time of a copy.
    fn finish(&self, fd: &OwnedFd, mode: u32, times: Timestamps) -> Result<(), CopyError> {
        self.own(fd, Some(mode))?;
        let _ = rustix::fs::futimens(fd, &times);
        Ok(())
    }

    fn own(&self, fd: &OwnedFd, mode: Option<u32>) -> Result<(), CopyError> {
        let (uid, gid) = self.req.chown.unwrap_or((0, 0));
        rustix::fs::fchown(fd, Some(rustix::fs::Uid::from_raw(uid)), Some(rustix::fs::Gid::from_raw(gid)))
            .map_err(|e| io("chown", e))?;
        if let Some(m) = self.req.chmod.or(mode) {
            rustix::fs::fchmod(fd, Mode::from_raw_mode(m)).map_err(|e| io("chmod", e))?;
        }
        Ok(())
    }
}

fn mtime(st: &std::fs::Metadata) -> Timestamps {
    use std::os::unix::fs::MetadataExt;
    let t = Timespec { tv_sec: st.mtime(), tv_nsec: st.mtime_nsec() as _ };
    Timestamps { last_access: t, last_modification: t }
}

/// `/a/b/c` -> (`/a/b`, `c`).
fn split(dest: &str) -> (&str, &str) {
    match dest.rsplit_once('/') {
        Some(("", n)) => ("/", n),
        Some((p, n)) => (p, n),
        None => ("/", dest),
    }
}
