//! `cp`: files between a container (running or stopped) and the host, or a tar on stdin or
//! stdout. The container's side runs in the container's root (storage::cproot: joined to a
//! running container's namespaces, or the storage helper over a stopped one's root mounted
//! for the copy); the host's side reads the host's files here, and writes them through the
//! storage helper (owners through the mapping). Docker's rules for names: a directory `SRC/.`
//! copies its contents, a missing destination is created, an existing directory receives
//! the source. Every error is one line.

use super::mounts::spec_triples;
use super::{Container, ContainerError};
use crate::engine::Context;
use crate::storage::cproot::{self, CpOp, CpRequest, CpTarget, HostDest, HostSrc, PutPlan, RootBind, StoppedRoot};
use crate::storage::idmap::{IdTable, Triple, compose, invert};
use crate::storage::tarwrite::{Owners, Source, write_plain};
use crate::storage::volcopy::{IdCounts, PutFiles, PutRequest};
use std::ffi::OsString;
use std::io::{BufRead, Read};
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};

/// One side of a copy, as given on the command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Host(String),
    /// `-`: a tar on stdin or stdout.
    Stdio,
    Container {
        name: String,
        path: String,
    },
}

/// Docker's reading: `-` is stdio; a path starting with `/` or `.` is the host's; otherwise
/// `CONTAINER:PATH` when there is a colon.
pub fn endpoint(s: &str) -> Endpoint {
    if s == "-" {
        return Endpoint::Stdio;
    }
    if s.starts_with('/') || s.starts_with('.') {
        return Endpoint::Host(s.to_string());
    }
    match s.split_once(':') {
        Some((c, p)) if !c.is_empty() => {
            Endpoint::Container { name: c.to_string(), path: if p.is_empty() { "/".into() } else { p.to_string() } }
        }
        _ => Endpoint::Host(s.to_string()),
    }
}

#[derive(Debug, Clone, Copy, Default)]
pub struct CpOptions {
    /// `-a`: keep owners (through the mapping) instead of giving the files to the
    /// destination's user (the container's user going in, you coming out).
    pub archive: bool,
    /// `-L`: follow a symlink given as the source.
    pub follow: bool,
    /// `--overwrite`: a directory may replace a non-directory and the other way round.
    pub overwrite: bool,
}

fn invalid(msg: impl Into<String>) -> ContainerError {
    ContainerError::Invalid(msg.into())
}

pub fn copy(ctx: &Context, src: &Endpoint, dst: &Endpoint, o: CpOptions) -> Result<(), ContainerError> {
    match (src, dst) {
        (Endpoint::Container { .. }, Endpoint::Container { .. }) => {
            Err(invalid("copying between containers is not supported; copy to the host first"))
        }
        (Endpoint::Container { name, path }, host) => copy_out(ctx, name, path, host, o),
        (host, Endpoint::Container { name, path }) => copy_in(ctx, host, name, path, o),
        _ => Err(invalid("one of SRC and DEST must be a container path, CONTAINER:PATH")),
    }
}

/// What the container's side needs to know about the container.
struct Side {
    target: CpTarget,
    /// The container's user namespace, its IDs (what an archive going in may hold).
    ids: IdCounts,
    /// The container's process user (who owns files copied in without -a).
    owner: (u32, u32),
    /// Container IDs -> the store's namespace (files coming out with -a), None: the same.
    to_store: Option<IdTable>,
    /// Host IDs -> container IDs (files going in with -a).
    from_host: IdTable,
    /// Held while a stopped container's root is mounted for the copy.
    _lock: Option<crate::state::lock::FileLock>,
}

fn side(ctx: &Context, c: &Container) -> Result<Side, ContainerError> {
    let dir = c.dir(ctx);
    let spec = oci_spec::runtime::Spec::load(dir.join("config.json"))
        .map_err(|e| invalid(format!("cannot read container {}'s config.json: {e}", c.name)))?;
    let owner = spec.process().as_ref().map(|p| (p.user().uid(), p.user().gid())).unwrap_or((0, 0));
    let linux = spec.linux().clone().unwrap_or_default();
    let (cu, cg) = (spec_triples(linux.uid_mappings()), spec_triples(linux.gid_mappings()));
    let store = ctx.idmap.maps();
    let identity = vec![(0, 0, u32::MAX)];
    let or_identity = |m: Vec<Triple>| if m.is_empty() { identity.clone() } else { m };
    let count = |m: &[Triple]| m.iter().map(|&(c, _, n)| c as u64 + n as u64).max();
    if let Some(pid) = c.pid.filter(|_| c.is_running()) {
        let to_store = (!cu.is_empty())
            .then(|| IdTable { uid: compose(&cu, &invert(&store.uid)), gid: compose(&cg, &invert(&store.gid)) });
        return Ok(Side {
            target: CpTarget::Running { pid: pid as u32 },
            ids: IdCounts { uid: count(&cu), gid: count(&cg) },
            owner,
            to_store,
            from_host: IdTable { uid: invert(&or_identity(cu)), gid: invert(&or_identity(cg)) },
            _lock: None,
        });
    }
    let lock = root_lock(ctx, c)?;
    super::rootmount::check_not_mounted(ctx, c)?;
    Ok(Side {
        target: CpTarget::Stopped(stopped_root(&spec, &dir)?),
        ids: IdCounts::of(&ctx.idmap),
        owner,
        to_store: None,
        from_host: if ctx.idmap.is_rootful() {
            IdTable { uid: identity.clone(), gid: identity }
        } else {
            IdTable { uid: invert(&store.uid), gid: invert(&store.gid) }
        },
        _lock: Some(lock),
    })
}

/// Held while a stopped container's root is mounted by a copy, and while `container mount`
/// checks and mounts it: one at a time.
pub(super) fn root_lock(ctx: &Context, c: &Container) -> Result<crate::state::lock::FileLock, ContainerError> {
    super::container_lock(ctx, "root", &c.id)
}

/// Container `c`'s root as its config.json makes it (for `container mount`).
pub(super) fn stopped_root_of(ctx: &Context, c: &Container) -> Result<StoppedRoot, ContainerError> {
    let dir = c.dir(ctx);
    let spec = oci_spec::runtime::Spec::load(dir.join("config.json"))
        .map_err(|e| invalid(format!("cannot read container {}'s config.json: {e}", c.name)))?;
    stopped_root(&spec, &dir)
}

/// A stopped container's root as its spec makes it: the overlay and the bind mounts (its
/// volumes, bound files), without the host's /dev, /proc and /sys.
fn stopped_root(spec: &oci_spec::runtime::Spec, dir: &Path) -> Result<StoppedRoot, ContainerError> {
    let ann = spec.annotations().clone().unwrap_or_default();
    let lower = ann.get(crate::runtime::ANN_LOWER).cloned().unwrap_or_default();
    let (upper, work) = ann
        .get(crate::runtime::ANN_UPPER)
        .and_then(|u| u.split_once(':'))
        .map(|(u, w)| (PathBuf::from(u), PathBuf::from(w)))
        .ok_or_else(|| {
            invalid("the container's config.json names no overlay; it cannot be copied from while stopped")
        })?;
    let mut binds = Vec::new();
    for m in spec.mounts().iter().flatten() {
        let opts = m.options().clone().unwrap_or_default();
        let is_bind = m.typ().as_deref() == Some("bind") || opts.iter().any(|o| o == "bind" || o == "rbind");
        let Some(source) = m.source().clone().filter(|_| is_bind) else { continue };
        if ["/dev", "/proc", "/sys"].iter().any(|p| source.starts_with(p)) {
            continue;
        }
        binds.push(RootBind {
            source,
            dest: m.destination().display().to_string(),
            read_only: opts.iter().any(|o| o == "ro"),
        });
    }
    Ok(StoppedRoot {
        mountpoint: dir.join("merged"),
        lower,
        upper,
        work,
        fuse: ann.get(crate::runtime::ANN_OVERLAY_MODE).is_some_and(|m| m == "fuse"),
        binds,
    })
}

/// Starts the container's side with `op`.
fn spawn_side(
    ctx: &Context,
    side: &Side,
    op: CpOp,
    shown: &str,
    stdin: Stdio,
    stdout: Stdio,
) -> Result<Child, ContainerError> {
    let req = CpRequest { target: side.target.clone(), op, shown: shown.to_string() };
    let json = serde_json::to_string(&req).map_err(|e| invalid(e.to_string()))?;
    let spawned = match &side.target {
        CpTarget::Running { .. } => std::process::Command::new("/proc/self/exe")
            .arg(cproot::ENTRY)
            .arg(&json)
            .stdin(stdin)
            .stdout(stdout)
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| invalid(format!("cannot start the copy: {e}")))?,
        CpTarget::Stopped(_) => {
            let args = [OsString::from(crate::cli::internal::STORAGE_HELPER), "ctr-cp".into(), json.into()];
            crate::storage::userns::spawn_process(
                &ctx.idmap,
                &ctx.idmap.maps(),
                &args,
                stdin,
                stdout,
                Stdio::piped(),
                &[],
            )
            .map_err(crate::storage::StorageError::from)?
        }
    };
    Ok(spawned)
}

/// How a side ended: its exit code and first error line.
struct Ended {
    code: i32,
    error: String,
}

fn wait(child: Child) -> Result<Ended, ContainerError> {
    let out = child.wait_with_output().map_err(|e| invalid(format!("waiting for the copy: {e}")))?;
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim_start_matches("Error: ").to_string();
    Ok(Ended { code: out.status.code().unwrap_or(125), error: line })
}

/// The first failure of two sides, the one whose output was closed coming last.
fn outcome(first: Ended, second: Ended) -> Result<(), ContainerError> {
    for e in [&first, &second] {
        if e.code != 0 && e.code != cproot::CLOSED as i32 {
            let msg =
                if e.error.is_empty() { format!("the copy failed (exit code {})", e.code) } else { e.error.clone() };
            return Err(invalid(msg));
        }
    }
    if first.code != 0 || second.code != 0 {
        return Err(invalid("the copy was cut short: one side closed the stream"));
    }
    Ok(())
}

fn find(ctx: &Context, name: &str) -> Result<Container, ContainerError> {
    let conn = ctx.db()?;
    let mut c = super::resolve(&conn, name)?;
    super::reconcile(ctx, &conn, &mut c)?;
    Ok(c)
}

fn base_name(p: &str) -> String {
    Path::new(p.trim_end_matches('/')).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// Where a copy out lands on the host: the state of `p` and the directory the tar goes into.
fn host_dest(p: &str) -> Result<(HostDest, PathBuf), ContainerError> {
    let gone = |why: String| invalid(format!("\"{p}\" could not be found on the host: {why}"));
    let path = Path::new(p);
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Ok((HostDest::Dir, path.to_path_buf())),
        Ok(_) if p.ends_with('/') => Err(invalid(format!("\"{p}\" is not a directory"))),
        Ok(_) => Ok((HostDest::File { name: base_name(p) }, parent_of(path))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if p.ends_with('/') {
                return Err(gone("no such directory".into()));
            }
            let parent = parent_of(path);
            if !parent.is_dir() {
                return Err(gone(format!("its directory {} does not exist", parent.display())));
            }
            Ok((HostDest::Missing { name: base_name(p) }, parent))
        }
        Err(e) => Err(invalid(format!("cannot use \"{p}\": {e}"))),
    }
}

fn parent_of(p: &Path) -> PathBuf {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn copy_out(ctx: &Context, name: &str, path: &str, host: &Endpoint, o: CpOptions) -> Result<(), ContainerError> {
    let c = find(ctx, name)?;
    let side = side(ctx, &c)?;
    let shown = format!("{}:{path}", c.name);
    let owners = Owners::Keep(if o.archive { side.to_store.clone() } else { None });
    if *host == Endpoint::Stdio {
        let op = CpOp::Get { path: path.to_string(), follow: o.follow, dest: HostDest::Stdout, owners };
        let child = spawn_side(ctx, &side, op, &shown, Stdio::null(), Stdio::inherit())?;
        let e = wait(child)?;
        return outcome(e, Ended { code: 0, error: String::new() });
    }
    let Endpoint::Host(p) = host else { return Err(invalid("no host path")) };
    let (dest, dir) = host_dest(p)?;
    let (r, w) = crate::storage::volcopy::big_pipe().map_err(invalid)?;
    let op = CpOp::Get { path: path.to_string(), follow: o.follow, dest, owners };
    let producer = spawn_side(ctx, &side, op, &shown, Stdio::null(), Stdio::from(w))?;
    let req = PutRequest {
        dir: dir.clone(),
        ids: IdCounts::of(&ctx.idmap),
        files: PutFiles { owner: (!o.archive).then_some((0, 0)), overwrite: o.overwrite },
    };
    let json = serde_json::to_string(&req).map_err(|e| invalid(e.to_string()))?;
    let args = [OsString::from(crate::cli::internal::STORAGE_HELPER), "put".into(), json.into()];
    let consumer = crate::storage::userns::spawn_process(
        &ctx.idmap,
        &ctx.idmap.maps(),
        &args,
        Stdio::from(r),
        Stdio::piped(),
        Stdio::piped(),
        &[],
    )
    .map_err(crate::storage::StorageError::from);
    let consumer = match consumer {
        Ok(c) => c,
        Err(e) => {
            let _ = wait(producer);
            return Err(e.into());
        }
    };
    let made = wait(producer)?;
    let put = consumer.wait_with_output().map_err(|e| invalid(format!("waiting for the copy: {e}")))?;
    let answer: Result<Vec<String>, String> = serde_json::from_slice(&put.stdout)
        .unwrap_or_else(|_| Err(String::from_utf8_lossy(&put.stderr).trim().trim_start_matches("Error: ").to_string()));
    let put_end = match &answer {
        Ok(_) => Ended { code: 0, error: String::new() },
        Err(e) => Ended { code: 125, error: format!("cannot copy to \"{p}\": {e}") },
    };
    outcome(made, put_end)?;
    for w in answer.unwrap_or_default() {
        crate::util::print_warning(w);
    }
    Ok(())
}

/// What a host path sends into a container.
fn host_src(p: &str, follow: bool) -> Result<(HostSrc, PathBuf), ContainerError> {
    let contents = p == "." || p.ends_with("/.");
    let dir_spelled = contents || p.ends_with('/');
    let path = Path::new(p);
    let meta = if follow || dir_spelled { std::fs::metadata(path) } else { std::fs::symlink_metadata(path) };
    let m = meta.map_err(|e| invalid(format!("\"{p}\" could not be found on the host: {e}")))?;
    let real = if follow || dir_spelled {
        std::fs::canonicalize(path).map_err(|e| invalid(format!("cannot resolve \"{p}\": {e}")))?
    } else {
        path.to_path_buf()
    };
    if m.is_dir() {
        let name = base_name(&real.display().to_string());
        return Ok((HostSrc::Dir { contents: contents || name.is_empty(), name }, real));
    }
    if dir_spelled {
        return Err(invalid(format!("\"{p}\" is not a directory")));
    }
    Ok((HostSrc::NonDir { name: base_name(p) }, real))
}

/// Writes the host's `real` (as `src` describes it) as a tar named by `plan` into `out`.
fn send(real: &Path, src: &HostSrc, plan: &PutPlan, out: OwnedFd, owners: Owners) -> Result<(), String> {
    use rustix::fs::{Mode, OFlags};
    let open = |p: &Path, flags: OFlags| {
        rustix::fs::open(p, flags | OFlags::CLOEXEC, Mode::empty())
            .map_err(|e| format!("cannot open {}: {e}", p.display()))
    };
    // A larger pipe: fewer wake-ups of the reader per megabyte.
    // SAFETY: fcntl on the pipe we own.
    unsafe { libc::fcntl(std::os::fd::AsRawFd::as_raw_fd(&out), libc::F_SETPIPE_SZ, 1 << 20) };
    let fd;
    let parent;
    let src = match src {
        HostSrc::Dir { .. } => {
            fd = open(real, OFlags::RDONLY | OFlags::DIRECTORY)?;
            match plan.name.as_str() {
                "" => Source::Contents { dir: &fd, prefix: b"" },
                n => Source::Dir { dir: &fd, as_name: n.as_bytes() },
            }
        }
        _ => {
            parent = open(&parent_of(real), OFlags::PATH | OFlags::DIRECTORY)?;
            let name = real.file_name().ok_or_else(|| format!("{} names no file", real.display()))?;
            Source::Entry { parent: &parent, name, as_name: plan.name.as_bytes() }
        }
    };
    write_plain(src, out, owners).map(|_| ()).map_err(|e| e.to_string())
}

fn copy_in(ctx: &Context, host: &Endpoint, name: &str, path: &str, o: CpOptions) -> Result<(), ContainerError> {
    let c = find(ctx, name)?;
    let side = side(ctx, &c)?;
    let shown = format!("{}:{path}", c.name);
    let (src, real) = match host {
        Endpoint::Stdio => (HostSrc::Stdin, PathBuf::new()),
        Endpoint::Host(p) => host_src(p, o.follow)?,
        Endpoint::Container { .. } => return Err(invalid("no host path")),
    };
    let files = PutFiles { owner: (!o.archive).then_some(side.owner), overwrite: o.overwrite };
    let op = CpOp::Put { path: path.to_string(), src: src.clone(), ids: side.ids, files };
    let stdin = if src_is_stdin(&src) { Stdio::inherit() } else { Stdio::piped() };
    let mut child = spawn_side(ctx, &side, op, &shown, stdin, Stdio::piped())?;
    let to_child = child.stdin.take();
    let mut lines = std::io::BufReader::new(child.stdout.take().ok_or_else(|| invalid("no answer from the copy"))?);
    let mut line = String::new();
    let _ = lines.read_line(&mut line);
    let Ok(plan) = serde_json::from_str::<PutPlan>(line.trim()) else {
        drop(to_child);
        let e = wait(child)?;
        return outcome(e, Ended { code: 0, error: String::new() });
    };
    let sent = match to_child {
        Some(pipe) => {
            let owners = Owners::Keep(o.archive.then(|| side.from_host.clone()));
            send(&real, &src, &plan, OwnedFd::from(pipe), owners)
        }
        None => Ok(()),
    };
    let mut rest = Vec::new();
    let _ = lines.read_to_end(&mut rest);
    let e = wait(child)?;
    outcome(e, Ended { code: 0, error: String::new() })?;
    sent.map_err(|e| invalid(format!("cannot copy to {shown}: {e}")))
}

fn src_is_stdin(s: &HostSrc) -> bool {
    matches!(s, HostSrc::Stdin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_read_as_docker_reads_them() {
        assert_eq!(endpoint("-"), Endpoint::Stdio);
        assert_eq!(endpoint("web:/data"), Endpoint::Container { name: "web".into(), path: "/data".into() });
        assert_eq!(endpoint("web:"), Endpoint::Container { name: "web".into(), path: "/".into() });
        assert_eq!(endpoint("./a:b"), Endpoint::Host("./a:b".into()));
        assert_eq!(endpoint("/x:y"), Endpoint::Host("/x:y".into()));
        assert_eq!(endpoint("plain"), Endpoint::Host("plain".into()));
        assert_eq!(base_name("/a/b/"), "b");
        assert_eq!(base_name("/"), "");
    }
}
