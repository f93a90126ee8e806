//! Starting kiste's storage helper (or any command) inside a user namespace with the user's
//! mapping: container 0 -> the user, 1..N -> the subuid range, set up with newuidmap/newgidmap.
//! Owns the parent/child handshake only; what the helper does lives in helper.rs.

use super::idmap::{IdMapping, Maps};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, ExitStatus, Stdio};

/// Environment variable that tells the helper which descriptors carry the handshake.
pub const SYNC_ENV: &str = "_KISTE_USERNS_SYNC";
/// Its value's prefix when the child joins the shared namespace open on the descriptor after it.
const JOIN: &str = "join:";

#[derive(Debug, thiserror::Error)]
pub enum UsernsError {
    #[error("{tool} not found; install the \"uidmap\" package")]
    MissingTool { tool: &'static str },
    #[error("cannot start the kiste storage helper: {0}")]
    Spawn(std::io::Error),
    #[error(
        "cannot set up the user namespace: {tool} failed: {detail}; check the ranges for \"{user}\" in /etc/subuid and /etc/subgid"
    )]
    Map { tool: &'static str, detail: String, user: String },
    #[error("the kiste storage helper exited before the user namespace was ready ({0})")]
    HelperDied(String),
}

fn find_tool(name: &'static str) -> Result<std::path::PathBuf, UsernsError> {
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| super::idmap::tool_exists(p))
        .ok_or(UsernsError::MissingTool { tool: name })
}

fn pipe() -> Result<(OwnedFd, OwnedFd), UsernsError> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| UsernsError::Spawn(e.into()))
}

fn write_map(pid: u32, idmap: &IdMapping, maps: &Maps) -> Result<(), UsernsError> {
    let map_err = |tool: &'static str, detail: String| UsernsError::Map { tool, detail, user: idmap.user.clone() };
    if idmap.subuid.is_none() || idmap.subgid.is_none() {
        // No subordinate range: map only our own IDs, which needs no setuid helper.
        let w = |file: &str, text: &str| {
            std::fs::write(format!("/proc/{pid}/{file}"), text)
                .map_err(|e| map_err("writing the id map", format!("{file}: {e}")))
        };
        w("setgroups", "deny")?;
        w("uid_map", &IdMapping::single_map(idmap.uid))?;
        return w("gid_map", &IdMapping::single_map(idmap.gid));
    }
    // Both helpers at once: each is a setuid exec of a millisecond or two.
    let mut running = Vec::new();
    // Both found before either starts: none is left running when the other is missing.
    let tools = [("newuidmap", find_tool("newuidmap")?, &maps.uid), ("newgidmap", find_tool("newgidmap")?, &maps.gid)];
    for (tool, bin, map) in tools {
        let child = Command::new(bin)
            .arg(pid.to_string())
            .args(IdMapping::map_args(map))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| map_err(tool, e.to_string()))?;
        running.push((tool, child));
    }
    let mut first_err = None;
    for (tool, child) in running {
        let result = match child.wait_with_output() {
            Ok(out) if out.status.success() => Ok(()),
            Ok(out) => {
                let msg = String::from_utf8_lossy(&out.stderr).trim().replace('\n', "; ");
                Err(map_err(tool, if msg.is_empty() { out.status.to_string() } else { msg }))
            }
            Err(e) => Err(map_err(tool, e.to_string())),
        };
        if let Err(e) = result {
            first_err.get_or_insert(e);
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    Ok(())
}

/// Starts `kiste __storage-helper ARGS` in a new user namespace (or plainly when rootful).
pub fn spawn_helper(idmap: &IdMapping, args: &[OsString], stdin: Stdio, stdout: Stdio) -> Result<Child, UsernsError> {
    spawn_helper_with_fds(idmap, args, stdin, stdout, &[])
}

/// Clears close-on-exec on `fds` in the child (between fork and exec).
pub(crate) fn keep_fds(cmd: &mut Command, fds: Vec<i32>) {
    // SAFETY: only async-signal-safe fcntl calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            for &fd in &fds {
                if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
}

/// As `spawn_helper`, and the helper inherits the descriptors `fds` (e.g. pipes to read layers from).
pub fn spawn_helper_with_fds(
    idmap: &IdMapping,
    args: &[OsString],
    stdin: Stdio,
    stdout: Stdio,
    fds: &[i32],
) -> Result<Child, UsernsError> {
    let mut all = vec![OsString::from(crate::cli::internal::STORAGE_HELPER)];
    all.extend_from_slice(args);
    spawn_process(idmap, &idmap.maps(), &all, stdin, stdout, Stdio::inherit(), fds)
}

/// Starts `/proc/self/exe ARGS` in a new user namespace of `idmap`'s user with `maps`
/// (plainly when rootful), or in the user's shared one when `maps` are the default and its
/// holder is up (`shared_userns`); the child must call `enter_from_parent` first. `fds` are
/// inherited.
pub fn spawn_process(
    idmap: &IdMapping,
    maps: &Maps,
    args: &[OsString],
    stdin: Stdio,
    stdout: Stdio,
    stderr: Stdio,
    fds: &[i32],
) -> Result<Child, UsernsError> {
    if idmap.is_rootful() {
        return spawn_plain(args, [stdin, stdout, stderr], fds, &[]);
    }
    if *maps == idmap.maps()
        && let Some(ns) = idmap.shared_userns.as_deref().and_then(super::shared_userns::open)
    {
        let mut inherit = vec![ns.as_raw_fd()];
        inherit.extend_from_slice(fds);
        let join = format!("{JOIN}{}", ns.as_raw_fd());
        return spawn_plain(args, [stdin, stdout, stderr], &inherit, &[(SYNC_ENV, join)]);
    }
    let mut cmd = Command::new("/proc/self/exe");
    cmd.args(args).stdin(stdin).stdout(stdout).stderr(stderr);
    // Handshake: the child unshares and writes one byte on `ready`; we write the maps and
    // one byte on `go`. Either side closing early aborts the other.
    let (ready_r, ready_w) = pipe()?;
    let (go_r, go_w) = pipe()?;
    let (child_w, child_r) = (ready_w.as_raw_fd(), go_r.as_raw_fd());
    cmd.env(SYNC_ENV, format!("{child_r},{child_w}"));
    let mut inherit = vec![child_r, child_w];
    inherit.extend_from_slice(fds);
    keep_fds(&mut cmd, inherit);
    let mut child = cmd.spawn().map_err(UsernsError::Spawn)?;
    drop(ready_w);
    drop(go_r);
    let abort = |child: &mut Child| {
        let _ = child.kill();
        let _ = child.wait();
    };
    let mut ready = std::fs::File::from(ready_r);
    let mut b = [0u8; 1];
    if !matches!(ready.read(&mut b), Ok(1)) {
        let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
        return Err(UsernsError::HelperDied(status));
    }
    if let Err(e) = write_map(child.id(), idmap, maps) {
        abort(&mut child);
        return Err(e);
    }
    let mut go = std::fs::File::from(go_w);
    if go.write_all(b"1").is_err() {
        let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
        return Err(UsernsError::HelperDied(status));
    }
    Ok(child)
}

/// Starts `/proc/self/exe ARGS` in our own namespaces, with `env` added: for a child that
/// enters an existing user namespace itself (or when rootful).
pub fn spawn_plain(
    args: &[OsString],
    stdio: [Stdio; 3],
    fds: &[i32],
    env: &[(&str, String)],
) -> Result<Child, UsernsError> {
    let [stdin, stdout, stderr] = stdio;
    let mut cmd = Command::new("/proc/self/exe");
    cmd.args(args).stdin(stdin).stdout(stdout).stderr(stderr).env_remove(SYNC_ENV);
    for (k, v) in env {
        cmd.env(k, v);
    }
    keep_fds(&mut cmd, fds.to_vec());
    cmd.spawn().map_err(UsernsError::Spawn)
}

/// Runs `argv` inside the user namespace with inherited stdio (for `kiste unshare`), and
/// meanwhile answers its requests for running containers' roots (see `nsroot`).
pub fn run_in_userns(idmap: &IdMapping, argv: &[OsString]) -> Result<ExitStatus, UsernsError> {
    let mut args: Vec<OsString> = vec!["exec".into(), "--".into()];
    args.extend(argv.iter().cloned());
    let (server, session) = super::nsroot::channel().map_err(UsernsError::Spawn)?;
    // SAFETY: single-threaded CLI; the variable is for the session's processes.
    unsafe { std::env::set_var(super::nsroot::ENV, session.as_raw_fd().to_string()) };
    let mut child = spawn_helper_with_fds(idmap, &args, Stdio::inherit(), Stdio::inherit(), &[session.as_raw_fd()])?;
    drop(session);
    super::nsroot::serve_until_exit(server, &mut child).map_err(UsernsError::Spawn)
}

/// Child side of the handshake, called first thing in the helper: join the shared user
/// namespace, or unshare one, tell the parent, wait for the maps; then become root inside.
pub fn enter_from_parent() -> Result<bool, String> {
    let Some(spec) = std::env::var_os(SYNC_ENV) else { return Ok(false) };
    // SAFETY: removing our own variable while single-threaded at startup.
    unsafe { std::env::remove_var(SYNC_ENV) };
    let spec = spec.to_string_lossy().into_owned();
    if let Some(fd) = spec.strip_prefix(JOIN) {
        let fd = fd.parse::<i32>().map_err(|_| format!("bad {SYNC_ENV} value {spec:?}"))?;
        use std::os::fd::FromRawFd;
        // SAFETY: the parent passed this descriptor to us and nothing else owns it.
        let ns = unsafe { OwnedFd::from_raw_fd(fd) };
        nix::sched::setns(&ns, nix::sched::CloneFlags::CLONE_NEWUSER)
            .map_err(|e| format!("cannot join the shared user namespace: {e}"))?;
        become_root()?;
        return Ok(true);
    }
    let (r, w) = spec
        .split_once(',')
        .and_then(|(r, w)| Some((r.parse::<i32>().ok()?, w.parse::<i32>().ok()?)))
        .ok_or_else(|| format!("bad {SYNC_ENV} value {spec:?}"))?;
    use std::os::fd::FromRawFd;
    // SAFETY: the parent passed these descriptors to us and nothing else owns them.
    let (mut go, mut ready) = unsafe { (std::fs::File::from_raw_fd(r), std::fs::File::from_raw_fd(w)) };
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER).map_err(|e| format!("unshare(CLONE_NEWUSER): {e}"))?;
    ready.write_all(b"1").map_err(|e| format!("handshake: {e}"))?;
    drop(ready);
    let mut b = [0u8; 1];
    if !matches!(go.read(&mut b), Ok(1)) {
        return Err("the parent did not set up the user namespace".into());
    }
    become_root()?;
    Ok(true)
}

/// Takes uid and gid 0 of the user namespace just entered (made or joined).
pub fn become_root() -> Result<(), String> {
    let root = nix::unistd::Uid::from_raw(0);
    let groot = nix::unistd::Gid::from_raw(0);
    nix::unistd::setresgid(groot, groot, groot).map_err(|e| format!("setresgid: {e}"))?;
    nix::unistd::setresuid(root, root, root).map_err(|e| format!("setresuid: {e}"))?;
    // Supplementary groups are unmapped; drop them where the kernel allows it.
    let _ = nix::unistd::setgroups(&[]);
    Ok(())
}
