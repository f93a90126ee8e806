//! Storage-helper verbs for volumes and `cp` (run inside the user namespace, where files of
//! subordinate IDs can be read and chowned): a volume's first-mount preparation (the image
//! directory's owner, mode and contents, read from a read-only overlay of the image's layers
//! through the in-root walk), recursive chown (`:U`), volume export/import, and the host side
//! of `cp` out of a container. Also mounts overlays for the other helpers (a stopped
//! container's root for `cp`). Each verb answers one JSON value on stdout; nothing here
//! touches the database.

use super::apply::{ApplyError, ApplyOptions, FileOptions, apply_tar_files};
use super::inroot::{self, Node, Root};
use super::tarwrite::{Owners, Source, write_plain};
use nix::mount::{MsFlags, mount};
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::io::Read;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A volume's first mount: its data directory and where it goes in the image.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InitJob {
    /// The mount destination, a path in the image.
    pub dest: String,
    /// The volume's `_data`.
    pub data: PathBuf,
    /// Copy the image directory's contents in (when the volume is empty).
    pub copy: bool,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct InitRequest {
    /// The image's layer directories, top first, with at least two entries.
    pub layers: Vec<PathBuf>,
    /// An empty directory to mount them on (in the helper's own mount namespace).
    pub mountpoint: PathBuf,
    pub fuse: bool,
    pub ids: IdCounts,
    pub jobs: Vec<InitJob>,
}

/// How many uids and gids the user namespace has (None: unlimited, rootful).
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct IdCounts {
    pub uid: Option<u64>,
    pub gid: Option<u64>,
}

impl IdCounts {
    /// The counts of the store's user namespace for `idmap`'s user (0 and the range).
    pub fn of(idmap: &super::idmap::IdMapping) -> IdCounts {
        if idmap.is_rootful() {
            return IdCounts::default();
        }
        let count = |r: Option<super::idmap::IdRange>| Some(1 + r.map_or(0, |r| r.count as u64));
        IdCounts { uid: count(idmap.subuid), gid: count(idmap.subgid) }
    }
    pub fn apply_options(self) -> ApplyOptions {
        ApplyOptions { rootless: in_user_namespace(), uid_count: self.uid, gid_count: self.gid, owners: true }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct ChownRequest {
    pub paths: Vec<PathBuf>,
    pub uid: u32,
    pub gid: u32,
}

/// Extracting a tar from stdin into a directory (the host side of `cp` out, `volume import`).
#[derive(Debug, Serialize, Deserialize)]
pub struct PutRequest {
    pub dir: PathBuf,
    pub ids: IdCounts,
    pub files: PutFiles,
}

/// `FileOptions`, serialisable.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize)]
pub struct PutFiles {
    pub owner: Option<(u32, u32)>,
    pub overwrite: bool,
}

impl From<PutFiles> for FileOptions {
    fn from(p: PutFiles) -> FileOptions {
        FileOptions { owner: p.owner, overwrite: p.overwrite }
    }
}

/// One line for an applier error about files being copied to `dest` (rather than a layer).
pub fn describe_apply_error(e: &ApplyError, dest: &str) -> String {
    match e {
        ApplyError::Unsafe { entry, reason } => format!(
            "archive entry \"{entry}\" {}; nothing more was copied to {dest}",
            reason.replace("the layer root", "the destination").replace("this layer", "this archive")
        ),
        ApplyError::Io { entry, op, source } => format!("cannot copy \"{entry}\" to {dest}: {op}: {source}"),
        ApplyError::Unmapped { entry, kind, id, .. } => {
            format!("archive entry \"{entry}\" is owned by {kind} {id}, which has no ID there; copy without -a")
        }
        ApplyError::Tar(e) => format!("the archive for {dest} is not a valid tar stream: {e}"),
        ApplyError::NoSpace { entry, size, free, .. } => {
            format!("\"{entry}\" ({size} bytes) does not fit in {dest}: {free} bytes are free")
        }
    }
}

/// Prints `answer` as JSON; exit 0 on Ok.
fn answer<T: Serialize>(answer: Result<T, String>) -> ExitCode {
    let ok = answer.is_ok();
    let _ = serde_json::to_writer(std::io::stdout(), &answer);
    if ok { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

fn read_request<T: for<'de> Deserialize<'de>>() -> Result<T, String> {
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).map_err(|e| format!("cannot read the request: {e}"))?;
    serde_json::from_slice(&input).map_err(|e| format!("bad request: {e}"))
}

/// Whether this process runs in a user namespace other than the initial one.
pub(crate) fn in_user_namespace() -> bool {
    let map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
    super::idmap::parse_proc_map(&map) != [(0, 0, u32::MAX)]
}

/// A private mount namespace of our own (mounts made from here vanish with the process).
pub(crate) fn private_mounts() -> Result<(), String> {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).map_err(|e| format!("unshare(CLONE_NEWNS): {e}"))?;
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(|e| format!("make / private: {e}"))
}

/// Mounts an overlay of `lower` (top first, ':'-joined) on `at`: read-only without `upper`
/// (upper and work directories). `fuse` uses fuse-overlayfs instead of the kernel's.
pub(crate) fn mount_overlay(at: &Path, lower: &str, upper: Option<(&Path, &Path)>, fuse: bool) -> Result<(), String> {
    let mut data = format!("lowerdir={lower}");
    if let Some((u, w)) = upper {
        data.push_str(&format!(",upperdir={},workdir={}", u.display(), w.display()));
        // A container that was to be removed (--rm) and was not may have been mounted volatile.
        super::overlay::clear_volatile_marker(w);
    }
    if fuse {
        let out = std::process::Command::new("fuse-overlayfs")
            .args(["-o", &data])
            .arg(at)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .output()
            .map_err(|e| format!("fuse-overlayfs (install the \"fuse-overlayfs\" package): {e}"))?;
        if !out.status.success() {
            let why = String::from_utf8_lossy(&out.stderr).trim().replace('\n', "; ");
            return Err(format!("fuse-overlayfs failed ({}): {why}", out.status));
        }
        return Ok(());
    }
    if in_user_namespace() {
        // The kernel's overlay keeps its metadata in user.* xattrs there (as the runtime's).
        data.push_str(",userxattr");
    }
    let flags = if upper.is_some() { MsFlags::empty() } else { MsFlags::MS_RDONLY };
    mount(Some("overlay"), at, Some("overlay"), flags, Some(data.as_str()))
        .map_err(|e| format!("mount an overlay on {}: {e}", at.display()))
}

/// `volume-init`: for each job, takes the owner and mode of the image's directory at `dest`
/// (when it is one) for `data`, and copies its contents in when asked and `data` is empty.
/// Answers one bool per job: whether the image had a directory there.
pub fn helper_init() -> ExitCode {
    answer(read_request::<InitRequest>().and_then(|req| init_all(&req)))
}

fn init_all(req: &InitRequest) -> Result<Vec<bool>, String> {
    private_mounts()?;
    let lower: Vec<String> = req.layers.iter().map(|p| p.display().to_string()).collect();
    let tmp = req.mountpoint.join("t");
    let upper = match req.fuse {
        // fuse-overlayfs wants an upper directory; nothing is written to it.
        true => {
            for d in ["u", "w", "t"] {
                std::fs::create_dir_all(req.mountpoint.join(d)).map_err(|e| format!("cannot create {d}: {e}"))?;
            }
            Some((req.mountpoint.join("u"), req.mountpoint.join("w")))
        }
        false => {
            std::fs::create_dir_all(&tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
            None
        }
    };
    mount_overlay(&tmp, &lower.join(":"), upper.as_ref().map(|(u, w)| (u.as_path(), w.as_path())), req.fuse)?;
    let root = Root::open(&tmp).map_err(|e| e.to_string())?;
    let mut found = Vec::new();
    for job in &req.jobs {
        found.push(init_one(&root, job, req.ids)?);
    }
    let _ = nix::mount::umount2(&tmp, nix::mount::MntFlags::MNT_DETACH);
    Ok(found)
}

fn init_one(root: &Root, job: &InitJob, ids: IdCounts) -> Result<bool, String> {
    let image_dir = match inroot::walk(root, Path::new(&job.dest), None) {
        Ok(r) => match r.node {
            Node::Dir(fd) => fd,
            _ => return Ok(false),
        },
        Err(inroot::InRootError::Io { source, .. }) if source.kind() == std::io::ErrorKind::NotFound => {
            return Ok(false);
        }
        Err(e) => return Err(e.to_string()),
    };
    let data_fd = open_dir(&job.data)?;
    let st = rustix::fs::fstat(&image_dir).map_err(|e| format!("stat {} in the image: {e}", job.dest))?;
    let (u, g) = (rustix::fs::Uid::from_raw(st.st_uid), rustix::fs::Gid::from_raw(st.st_gid));
    rustix::fs::fchown(&data_fd, Some(u), Some(g)).map_err(|e| format!("chown {}: {e}", job.data.display()))?;
    rustix::fs::fchmod(&data_fd, rustix::fs::Mode::from_raw_mode(st.st_mode & 0o7777))
        .map_err(|e| format!("chmod {}: {e}", job.data.display()))?;
    if job.copy && is_empty(&data_fd)? {
        copy_tree(&image_dir, &job.data, ids).map_err(|e| {
            // Emptied again: the next first mount copies anew instead of finding a part of it.
            let kept = super::apply::clear_at(&data_fd).err().map(|c| format!("; what was copied stays: {c}"));
            format!("copy {} from the image: {e}{}", job.dest, kept.unwrap_or_default())
        })?;
    }
    Ok(true)
}

fn open_dir(p: &Path) -> Result<OwnedFd, String> {
    use rustix::fs::{Mode, OFlags};
    rustix::fs::open(p, OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
        .map_err(|e| format!("open {}: {e}", p.display()))
}

fn is_empty(dir: &OwnedFd) -> Result<bool, String> {
    let d = rustix::fs::Dir::read_from(dir).map_err(|e| format!("read directory: {e}"))?;
    for e in d {
        let e = e.map_err(|e| format!("read directory: {e}"))?;
        if !matches!(e.file_name().to_bytes(), b"." | b"..") {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A pipe with a large buffer (fewer wake-ups per megabyte).
pub(crate) fn big_pipe() -> Result<(OwnedFd, OwnedFd), String> {
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| format!("pipe: {e}"))?;
    // SAFETY: fcntl on a pipe we own.
    unsafe { libc::fcntl(w.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20) };
    Ok((r, w))
}

/// Copies the contents of directory `src` into directory `dst` (owners kept), as a tar
/// stream between a reader and the safe applier.
fn copy_tree(src: &OwnedFd, dst: &Path, ids: IdCounts) -> Result<(), String> {
    let (r, w) = big_pipe()?;
    std::thread::scope(|s| {
        let writer = s.spawn(move || -> Result<(), String> {
            let src = Source::Contents { dir: src, prefix: b"" };
            write_plain(src, w, Owners::Keep(None)).map(|_| ()).map_err(|e| e.to_string())
        });
        let files = FileOptions { owner: None, overwrite: true };
        let applied = apply_tar_files(dst, std::fs::File::from(r), ids.apply_options(), files)
            .map(|_| ())
            .map_err(|e| describe_apply_error(&e, &dst.display().to_string()));
        let wrote = writer.join().map_err(|_| "the reader panicked".to_string())?;
        applied.and(wrote)
    })
}

/// `chown`: chowns each path and everything below it (symlinks themselves, never followed).
pub fn helper_chown() -> ExitCode {
    answer(read_request::<ChownRequest>().and_then(|req| {
        for p in &req.paths {
            chown_tree(p, req.uid, req.gid).map_err(|e| format!("chown {}: {e}", p.display()))?;
        }
        Ok(())
    }))
}

/// The top is the path the user named (a bind's source) or a volume's `_data`; below it every
/// name is taken relative to its directory's descriptor, never through a symlink: a running
/// container may be changing the tree meanwhile.
fn chown_tree(p: &Path, uid: u32, gid: u32) -> std::io::Result<()> {
    use rustix::fs::{Mode, OFlags};
    std::os::unix::fs::lchown(p, Some(uid), Some(gid))?;
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    match rustix::fs::open(p, flags, Mode::empty()) {
        Ok(dir) => chown_below(&dir, uid, gid),
        // Not a directory (or a symlink, chowned itself): nothing below.
        Err(rustix::io::Errno::NOTDIR | rustix::io::Errno::LOOP) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

fn chown_below(dir: &OwnedFd, uid: u32, gid: u32) -> std::io::Result<()> {
    use rustix::fs::{AtFlags, Gid, Mode, OFlags, Uid};
    let (u, g) = (Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)));
    let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    for n in super::apply::dir_names(dir)? {
        // chown clears set-ID bits on files; directories keep theirs.
        match rustix::fs::chownat(dir, &n, u, g, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(()) => {}
            Err(rustix::io::Errno::NOENT) => continue,
            Err(e) => return Err(e.into()),
        }
        match rustix::fs::openat(dir, &n, flags, Mode::empty()) {
            Ok(sub) => chown_below(&sub, uid, gid)?,
            Err(rustix::io::Errno::NOTDIR | rustix::io::Errno::LOOP | rustix::io::Errno::NOENT) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// `vol-export DIR`: the directory's contents as a tar on stdout (owners as they are).
pub fn helper_export(args: &[OsString]) -> ExitCode {
    let Some(dir) = args.first() else { return ExitCode::from(125) };
    let run = || -> Result<(), String> {
        let fd = open_dir(Path::new(dir))?;
        use std::os::fd::AsFd;
        let out = std::io::stdout().as_fd().try_clone_to_owned().map_err(|e| format!("stdout: {e}"))?;
        let src = Source::Contents { dir: &fd, prefix: b"" };
        write_plain(src, out, Owners::Keep(None)).map(|_| ()).map_err(|e| e.to_string())
    };
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            crate::util::print_error(e);
            ExitCode::from(125)
        }
    }
}

/// `put JSON`: applies the tar on stdin (plain or compressed) into the request's directory.
pub fn helper_put(args: &[OsString]) -> ExitCode {
    let req = args
        .first()
        .and_then(|a| a.to_str())
        .ok_or_else(|| "missing request".to_string())
        .and_then(|a| serde_json::from_str::<PutRequest>(a).map_err(|e| format!("bad request: {e}")));
    answer(req.and_then(|req| {
        let input =
            super::layers::decompressed(std::io::stdin()).map_err(|e| format!("cannot read the archive: {e}"))?;
        let (report, _) = apply_tar_files(&req.dir, input, req.ids.apply_options(), req.files.into())
            .map_err(|e| describe_apply_error(&e, &req.dir.display().to_string()))?;
        Ok(report.warnings)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn a_failed_copy_up_leaves_the_volume_empty() {
        let d = std::env::temp_dir().join(format!("kiste-volcopy-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("image/data/sub")).unwrap();
        std::fs::create_dir_all(d.join("vol")).unwrap();
        std::fs::write(d.join("image/data/a"), "a").unwrap();
        std::fs::write(d.join("image/data/sub/b"), "b").unwrap();
        // "sub/b" (after "a") cannot be copied: owned by an ID the volume's side lacks (as
        // root), or unreadable (as anyone else).
        let mut ids = IdCounts::default();
        if nix::unistd::geteuid().is_root() {
            std::os::unix::fs::chown(d.join("image/data/sub/b"), Some(5000), None).unwrap();
            ids.uid = Some(1000);
        } else {
            std::fs::set_permissions(d.join("image/data/sub/b"), std::fs::Permissions::from_mode(0o000)).unwrap();
        }
        let root = Root::open(&d.join("image")).unwrap();
        let job = InitJob { dest: "/data".into(), data: d.join("vol"), copy: true };
        let e = init_one(&root, &job, ids).unwrap_err();
        assert!(e.contains("sub/b") && !e.contains("stays"), "{e}");
        assert_eq!(std::fs::read_dir(d.join("vol")).unwrap().count(), 0, "the part copied is gone");
        assert_eq!(std::fs::read(d.join("image/data/a")).unwrap(), b"a");
        std::fs::set_permissions(d.join("image/data/sub/b"), std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::remove_dir_all(&d).unwrap();
    }
}
