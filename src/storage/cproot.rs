//! The container side of `cp`: a process whose view is the container's root — joined to a
//! running container's user and mount namespaces (`kiste __container-cp`), or, for a stopped
//! one, the storage helper with the container's overlay and bind mounts mounted in a mount
//! namespace of its own and chrooted into. Paths are resolved with the in-root walk (a symlink
//! in the container resolves inside it, never to the host: the CVE-2019-14271 class); a path
//! is sent as a tar on stdout, or a tar on stdin is applied with the safe applier, with
//! Docker's rules for names (trailing `/.`, existing and missing destinations). Knows nothing
//! of records: the engine says which namespaces or directories make the root.

use super::inroot::{self, Node, Root, Tree};
use super::tarwrite::{Owners, Source, TarWriteError, write_plain};
use super::volcopy::{IdCounts, PutFiles};
use serde::{Deserialize, Serialize};
use std::ffi::{OsStr, OsString};
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Hidden argv[1] of the process that joins a running container for `cp`.
pub const ENTRY: &str = "__container-cp";
/// Exit code of a side whose output was closed by its reader (the other side failed).
pub const CLOSED: u8 = 141;

/// Whose root the copy happens in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CpTarget {
    /// A running container: its PID 1.
    Running { pid: u32 },
    /// A stopped container: its root, mounted for the copy.
    Stopped(StoppedRoot),
}

/// What makes a stopped container's root: its overlay and its bind mounts (volumes).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoppedRoot {
    pub mountpoint: PathBuf,
    /// Lower directories, top first, ':'-joined.
    pub lower: String,
    pub upper: PathBuf,
    pub work: PathBuf,
    pub fuse: bool,
    pub binds: Vec<RootBind>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RootBind {
    pub source: PathBuf,
    pub dest: String,
    pub read_only: bool,
}

/// What the host side of a copy out is.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum HostDest {
    /// A tar on stdout.
    Stdout,
    /// An existing directory: the source goes into it.
    Dir,
    /// An existing file: a file source replaces it (under the name `name`).
    File { name: String },
    /// Missing, in an existing directory: the source is made there as `name`.
    Missing { name: String },
}

/// What the host side of a copy in sends.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum HostSrc {
    /// A tar from stdin, extracted into an existing directory.
    Stdin,
    /// A directory; `contents`: its contents only (`SRC/.`).
    Dir { name: String, contents: bool },
    /// Anything else (a file, a symlink).
    NonDir { name: String },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CpOp {
    /// Write `path` as a tar on stdout.
    Get { path: String, follow: bool, dest: HostDest, owners: Owners },
    /// Apply a tar from stdin at `path`; first answer a `PutPlan` line.
    Put { path: String, src: HostSrc, ids: IdCounts, files: PutFiles },
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CpRequest {
    pub target: CpTarget,
    pub op: CpOp,
    /// How the container path is shown in messages (`web:/data`).
    pub shown: String,
}

/// A copy in's decision, sent before the tar: the name the source must have in the archive
/// (empty: its contents at the top).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PutPlan {
    pub name: String,
}

/// A container path taken apart: the path to walk, and what its spelling asks.
struct Spelled {
    path: String,
    /// Ends with `/` or `/.`: must be a directory (a final symlink is followed).
    dir: bool,
    /// Ends with `/.`: the directory's contents.
    contents: bool,
}

fn spell(p: &str) -> Spelled {
    let contents = p == "." || p.ends_with("/.");
    let dir = contents || p.ends_with('/');
    let mut path = p.trim_end_matches("/.").trim_end_matches('/').to_string();
    while path.ends_with("/.") {
        path = path.trim_end_matches("/.").trim_end_matches('/').to_string();
    }
    if path.is_empty() || path == "." {
        path = "/".into();
    }
    Spelled { path, dir, contents }
}

/// The last component of a container path, if it is a name ("" for the root, `..`, `.`).
fn last_name(path: &str) -> &str {
    match path.rsplit('/').next() {
        Some(n) if n != ".." && n != "." => n,
        _ => "",
    }
}

/// What a path is, in the root.
enum Found {
    Dir { fd: OwnedFd },
    NonDir { parent: OwnedFd, name: OsString },
    Missing { parent: OwnedFd, name: OsString },
}

/// Resolves `path` inside `root`; a final symlink is followed when `follow`, else it is the
/// thing found. None when a directory on the way is missing.
fn resolve(root: &Root, path: &str, follow: bool) -> Result<Option<Found>, String> {
    let not_found = |e: &inroot::InRootError| matches!(e, inroot::InRootError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound);
    let name = last_name(path);
    if !follow && !name.is_empty() {
        let parent_path = &path[..path.len() - name.len()];
        let parent = match inroot::walk(root, Path::new(parent_path), None) {
            Ok(r) => match r.node {
                Node::Dir(d) => d,
                _ => return Ok(None),
            },
            Err(e) if not_found(&e) => return Ok(None),
            Err(e) => return Err(e.to_string()),
        };
        let os = OsStr::new(name).to_os_string();
        return Ok(Some(match root.lookup(&parent, &os).map_err(|e| format!("{path}: {e}"))? {
            Node::Dir(fd) => Found::Dir { fd },
            Node::Missing => Found::Missing { parent, name: os },
            Node::Link(_) | Node::Other => Found::NonDir { parent, name: os },
        }));
    }
    let r = match inroot::walk(root, Path::new(path), None) {
        Ok(r) => r,
        Err(e) if not_found(&e) => return Ok(None),
        Err(e) => return Err(e.to_string()),
    };
    Ok(Some(match (r.node, r.name) {
        (Node::Dir(fd), _) => Found::Dir { fd },
        (_, None) => return Err(format!("{path}: the root is not a directory")),
        (Node::Missing, Some(name)) => Found::Missing { parent: r.parent, name },
        (Node::Link(_) | Node::Other, Some(name)) => Found::NonDir { parent: r.parent, name },
    }))
}

fn stdout_fd() -> Result<OwnedFd, String> {
    std::io::stdout().as_fd().try_clone_to_owned().map_err(|e| format!("stdout: {e}"))
}

/// Copy out: the tar of `path` on stdout, named as the host side needs.
fn get(root: &Root, path: &str, follow: bool, dest: &HostDest, owners: Owners, shown: &str) -> Result<(), String> {
    let s = spell(path);
    let found = resolve(root, &s.path, follow || s.dir)?;
    let missing = || format!("\"{shown}\" could not be found in the container");
    let found = match found {
        None | Some(Found::Missing { .. }) => return Err(missing()),
        Some(f) => f,
    };
    if s.dir && matches!(found, Found::NonDir { .. }) {
        return Err(format!("\"{shown}\" is not a directory"));
    }
    let base = last_name(&s.path).as_bytes().to_vec();
    let src = match (&found, dest) {
        (Found::Dir { .. }, HostDest::File { .. }) => {
            return Err("destination must be a directory when copying a directory".into());
        }
        (Found::Dir { fd }, HostDest::Dir | HostDest::Stdout) if s.contents || base.is_empty() => {
            Source::Contents { dir: fd, prefix: b"" }
        }
        (Found::Dir { fd }, HostDest::Dir | HostDest::Stdout) => Source::Dir { dir: fd, as_name: &base },
        (Found::Dir { fd }, HostDest::Missing { name }) => Source::Dir { dir: fd, as_name: name.as_bytes() },
        (Found::NonDir { parent, name, .. }, HostDest::Dir | HostDest::Stdout) => {
            Source::Entry { parent, name, as_name: &base }
        }
        (Found::NonDir { parent, name, .. }, HostDest::File { name: to } | HostDest::Missing { name: to }) => {
            Source::Entry { parent, name, as_name: to.as_bytes() }
        }
        (Found::Missing { .. }, _) => return Err(missing()),
    };
    write_plain(src, stdout_fd()?, owners).map(|_| ()).map_err(|e| match e {
        TarWriteError::Output(io) if io.kind() == std::io::ErrorKind::BrokenPipe => "closed".into(),
        e => format!("cannot copy {shown}: {e}"),
    })
}

/// Copy in: decides where the source goes (answering a `PutPlan` line), then applies the
/// tar from stdin there.
fn put(root: &Root, path: &str, src: &HostSrc, ids: IdCounts, files: PutFiles, shown: &str) -> Result<(), String> {
    let s = spell(path);
    let found = resolve(root, &s.path, true)?;
    let gone = || format!("\"{shown}\" could not be found in the container");
    let (into, name): (OwnedFd, String) = match (found, src) {
        (None, _) => return Err(gone()),
        (Some(Found::Missing { .. }), _) if s.dir => return Err(gone()),
        (Some(Found::Dir { fd }), HostSrc::Stdin) => (fd, String::new()),
        (Some(_), HostSrc::Stdin) => return Err("destination must be a directory when copying from stdin".into()),
        (Some(Found::Dir { fd }), HostSrc::Dir { name, contents }) => {
            (fd, if *contents { String::new() } else { name.clone() })
        }
        (Some(Found::Dir { fd }), HostSrc::NonDir { name }) => (fd, name.clone()),
        (Some(Found::NonDir { .. }), HostSrc::Dir { .. }) => {
            return Err("destination must be a directory when copying a directory".into());
        }
        (Some(Found::NonDir { parent, name, .. } | Found::Missing { parent, name }), _) => {
            (parent, String::from_utf8_lossy(name.as_bytes()).into_owned())
        }
    };
    let mut out = std::io::stdout();
    let line = serde_json::to_string(&PutPlan { name }).map_err(|e| e.to_string())?;
    out.write_all(format!("{line}\n").as_bytes()).and_then(|_| out.flush()).map_err(|e| format!("stdout: {e}"))?;
    // The applier works below its root's path: "." once we stand in the directory, so that
    // no path of the container is ever given to the kernel from outside it.
    rustix::process::fchdir(&into).map_err(|e| format!("cannot enter {shown}: {e}"))?;
    let stdin = std::io::stdin().as_fd().try_clone_to_owned().map_err(|e| format!("stdin: {e}"))?;
    let input: Box<dyn std::io::Read + Send> = match src {
        HostSrc::Stdin => super::layers::decompressed(std::fs::File::from(stdin))
            .map_err(|e| format!("cannot read the archive: {e}"))?,
        _ => Box::new(std::io::BufReader::with_capacity(1 << 20, std::fs::File::from(stdin))),
    };
    super::apply::apply_tar_files(Path::new("."), input, ids.apply_options(), files.into())
        .map(|_| ())
        .map_err(|e| super::volcopy::describe_apply_error(&e, shown))
}

fn serve(req: &CpRequest) -> Result<(), String> {
    let root = Root::open(Path::new("/")).map_err(|e| e.to_string())?;
    match &req.op {
        CpOp::Get { path, follow, dest, owners } => get(&root, path, *follow, dest, owners.clone(), &req.shown),
        CpOp::Put { path, src, ids, files } => put(&root, path, src, *ids, *files, &req.shown),
    }
}

fn finish(r: Result<(), String>) -> ExitCode {
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e == "closed" => ExitCode::from(CLOSED),
        Err(e) => {
            crate::util::print_error(e);
            ExitCode::from(125)
        }
    }
}

fn request(arg: Option<&OsString>) -> Result<CpRequest, String> {
    let a = arg.and_then(|a| a.to_str()).ok_or("cp: missing request")?;
    serde_json::from_str(a).map_err(|e| format!("cp: bad request: {e}"))
}

/// `kiste __container-cp REQUEST`: joins the running container's user and mount namespaces,
/// becomes root there, and serves the request with `/` the container's root.
pub fn main_running() -> ExitCode {
    let args: Vec<OsString> = std::env::args_os().skip(2).collect();
    let run = || -> Result<(), String> {
        let req = request(args.first())?;
        let CpTarget::Running { pid } = req.target else { return Err("cp: not a running container".into()) };
        join(pid)?;
        serve(&req)
    };
    finish(run())
}

/// Joins the user namespace (first: it grants the rest) and the mount namespace of `pid`;
/// `/` and the working directory become the container's.
fn join(pid: u32) -> Result<(), String> {
    use nix::sched::{CloneFlags, setns};
    let mut fds = Vec::new();
    for (name, flag) in [("user", CloneFlags::CLONE_NEWUSER), ("mnt", CloneFlags::CLONE_NEWNS)] {
        let p = format!("/proc/{pid}/ns/{name}");
        if std::fs::read_link(&p).ok() == std::fs::read_link(format!("/proc/self/ns/{name}")).ok() {
            continue;
        }
        let f = std::fs::File::open(&p).map_err(|e| format!("the container is not running ({p}: {e})"))?;
        fds.push((f, flag, name));
    }
    for (f, flag, name) in &fds {
        setns(f, *flag).map_err(|e| format!("cannot join the container's {name} namespace: {e}"))?;
    }
    super::userns::become_root()
}

/// Helper verb `ctr-cp REQUEST` (in the user namespace): mounts the stopped container's root
/// in a mount namespace of our own, then serves the request in a child chrooted into it; the
/// root is unmounted (a fuse-overlayfs daemon ends) once the child is done.
pub fn helper_stopped(args: &[OsString]) -> ExitCode {
    let req = match request(args.first()) {
        Ok(r) => r,
        Err(e) => return finish(Err(e)),
    };
    let CpTarget::Stopped(root) = &req.target else { return finish(Err("cp: not a stopped container".into())) };
    if let Err(e) = mount_root(root) {
        return finish(Err(format!("cannot mount the container's root: {e}")));
    }
    // SAFETY: single-threaded here; the child serves and exits.
    let code = match unsafe { nix::unistd::fork() } {
        Err(e) => finish(Err(format!("fork: {e}"))),
        Ok(nix::unistd::ForkResult::Child) => {
            let r = nix::unistd::chroot(&root.mountpoint)
                .and_then(|_| nix::unistd::chdir("/"))
                .map_err(|e| format!("cannot enter the container's root: {e}"))
                .and_then(|_| serve(&req));
            let code = match r {
                Ok(()) => 0,
                Err(e) if e == "closed" => CLOSED,
                Err(e) => {
                    crate::util::print_error(e);
                    125
                }
            };
            let _ = std::io::stdout().flush();
            // SAFETY: leave the forked child at once.
            unsafe { libc::_exit(code as i32) }
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => match nix::sys::wait::waitpid(child, None) {
            Ok(st) => crate::util::ended(&st).map(|(_, c)| ExitCode::from(c)).unwrap_or(ExitCode::from(125)),
            Err(e) => finish(Err(format!("waitpid: {e}"))),
        },
    };
    let _ = nix::mount::umount2(&root.mountpoint, nix::mount::MntFlags::MNT_DETACH);
    code
}

/// The overlay, then each bind at its destination made inside the root (as the runtime).
fn mount_root(r: &StoppedRoot) -> Result<(), String> {
    use nix::mount::{MsFlags, mount};
    super::volcopy::private_mounts()?;
    super::volcopy::mount_overlay(&r.mountpoint, &r.lower, Some((&r.upper, &r.work)), r.fuse)?;
    let root = Root::open(&r.mountpoint).map_err(|e| e.to_string())?;
    for b in &r.binds {
        let kind = match b.source.is_dir() {
            true => inroot::Kind::Dir,
            false => inroot::Kind::File,
        };
        let t = root.open_or_create(Path::new(&b.dest), kind).map_err(|e| e.to_string())?;
        let tp = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&t));
        mount(Some(&b.source), tp.as_str(), None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
            .map_err(|e| format!("bind {} on {}: {e}", b.source.display(), b.dest))?;
        if b.read_only {
            let t = root.open_or_create(Path::new(&b.dest), kind).map_err(|e| e.to_string())?;
            let tp = format!("/proc/self/fd/{}", std::os::fd::AsRawFd::as_raw_fd(&t));
            let locked = nix::sys::statvfs::statvfs(tp.as_str())
                .map(|s| {
                    use nix::sys::statvfs::FsFlags;
                    let mut f = MsFlags::empty();
                    for (a, b) in [
                        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
                        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
                        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
                    ] {
                        if s.flags().contains(a) {
                            f |= b;
                        }
                    }
                    f
                })
                .unwrap_or(MsFlags::empty());
            let flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY | locked;
            mount(None::<&str>, tp.as_str(), None::<&str>, flags, None::<&str>)
                .map_err(|e| format!("remount {} read-only: {e}", b.dest))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_say_what_docker_means() {
        let s = spell("/data/.");
        assert!(s.contents && s.dir && s.path == "/data");
        let s = spell("/data/");
        assert!(!s.contents && s.dir && s.path == "/data");
        let s = spell("/");
        assert!(s.dir && s.path == "/");
        let s = spell("/./.");
        assert!(s.contents && s.path == "/");
        assert_eq!(last_name("/a/b"), "b");
        assert_eq!(last_name("/a/.."), "");
        assert_eq!(last_name("/"), "");
    }

    #[test]
    fn paths_resolve_inside_the_root_and_links_stay_links() {
        use std::os::unix::fs::symlink;
        let d = std::env::temp_dir().join(format!("kiste-cproot-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(d.join("root/data")).unwrap();
        std::fs::create_dir_all(d.join("canary")).unwrap();
        std::fs::write(d.join("canary/secret"), "host").unwrap();
        symlink(d.join("canary"), d.join("root/data/out")).unwrap();
        std::fs::write(d.join("root/data/f"), "x").unwrap();
        let root = Root::open(&d.join("root")).unwrap();
        // The link itself, not followed.
        assert!(matches!(resolve(&root, "/data/out", false).unwrap(), Some(Found::NonDir { .. })));
        // Followed, it resolves inside the root, where the canary is not.
        assert!(resolve(&root, "/data/out/secret", true).unwrap().is_none());
        assert!(matches!(resolve(&root, "/data/out", true).unwrap(), Some(Found::Missing { .. }) | None));
        assert!(matches!(resolve(&root, "/data/f", false).unwrap(), Some(Found::NonDir { .. })));
        assert!(matches!(resolve(&root, "/data/new", true).unwrap(), Some(Found::Missing { .. })));
        assert!(resolve(&root, "/nope/new", true).unwrap().is_none());
        assert!(matches!(resolve(&root, "/", false).unwrap(), Some(Found::Dir { .. })));
        std::fs::remove_dir_all(&d).unwrap();
    }
}
