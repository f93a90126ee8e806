//! `kiste __exec BUNDLE PID ARGS-JSON`: run another process in a running container — join
//! its cgroups, its user, mount, UTS, IPC, network and PID namespaces (from /proc/PID/ns), fork into the
//! PID namespace, then apply the process attributes and exec as PID 1 was.

use super::process;
use nix::sched::{CloneFlags, setns};
use nix::sys::wait::waitpid;
use nix::unistd::{ForkResult, fork};
use oci_spec::runtime::Spec;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::process::ExitCode;

/// What `exec` changes relative to the container's own process.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct ExecRequest {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    /// Resolved uid and gid, when `-u` was given.
    pub user: Option<(u32, u32)>,
    /// A terminal from the container's /dev/pts; its master goes back over the socket
    /// whose descriptor number follows the request on the command line.
    #[serde(default)]
    pub tty: bool,
}

pub const EXEC: &str = "__exec";
/// `kiste __container-files PID LIMIT FILE...`: prints files of a running container as it sees them.
pub const FILES: &str = "__container-files";

/// Every namespace a process of the container joins, user namespace first (it grants the
/// right to join the others).
const ALL_NAMESPACES: &[(&str, CloneFlags)] = &[
    ("user", CloneFlags::CLONE_NEWUSER),
    ("mnt", CloneFlags::CLONE_NEWNS),
    ("uts", CloneFlags::CLONE_NEWUTS),
    ("ipc", CloneFlags::CLONE_NEWIPC),
    ("net", CloneFlags::CLONE_NEWNET),
    ("pid", CloneFlags::CLONE_NEWPID),
];

/// Joins the namespaces of the container whose PID 1 is `pid` (those that differ from ours).
fn join(pid: &str, which: &[(&str, CloneFlags)]) -> Result<(), String> {
    // Open every namespace first: after joining the mount namespace /proc is the container's.
    let mut fds = Vec::new();
    for (name, flag) in which {
        let p = format!("/proc/{pid}/ns/{name}");
        let same = std::fs::read_link(&p).ok() == std::fs::read_link(format!("/proc/self/ns/{name}")).ok();
        if same {
            continue; // e.g. --network host, or rootful without a user namespace
        }
        let f = std::fs::File::open(&p).map_err(|e| format!("container is not running ({p}: {e})"))?;
        fds.push((f, *flag, name));
    }
    for (f, flag, name) in &fds {
        setns(f, *flag).map_err(|e| format!("cannot join the container's {name} namespace: {e}"))?;
    }
    Ok(())
}

/// Files of the running container whose PID 1 is `pid`, read as its processes see them
/// (through its mounts, a FUSE root included, which only its own user namespace may enter),
/// regular files only, at most `limit` bytes each: None for a missing one.
pub fn read_files(pid: u32, files: &[&str], limit: u64) -> Result<Vec<Option<Vec<u8>>>, String> {
    let out = std::process::Command::new("/proc/self/exe")
        .arg(FILES)
        .arg(pid.to_string())
        .arg(limit.to_string())
        .args(files)
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .output()
        .map_err(|e| format!("cannot read the container's files: {e}"))?;
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stderr);
        return Err(why.trim().trim_start_matches("Error: ").to_string());
    }
    let mut rest = &out.stdout[..];
    let mut got = Vec::new();
    for _ in files {
        let (head, tail) =
            rest.split_at(rest.iter().position(|b| *b == b'\n').ok_or("bad answer from the reader")? + 1);
        let head = std::str::from_utf8(&head[..head.len() - 1]).map_err(|_| "bad answer from the reader")?;
        if head == "-" {
            got.push(None);
            rest = tail;
            continue;
        }
        let n: usize = head.parse().map_err(|_| "bad answer from the reader")?;
        let (data, tail) = tail.split_at(n.min(tail.len()));
        got.push(Some(data.to_vec()));
        rest = tail;
    }
    Ok(got)
}

/// `__container-files`: joins the container's user and mount namespaces, then prints each
/// file as `LENGTH\n` and its bytes, or `-\n` when missing; fails (one line) on a file that
/// is not a regular file or is too large.
pub fn files_main() -> ExitCode {
    use std::io::Write;
    let args: Vec<String> = std::env::args().skip(2).collect();
    let (Some(pid), Some(limit)) = (args.first(), args.get(1).and_then(|l| l.parse::<u64>().ok())) else {
        return fail(125, "container files: bad arguments");
    };
    if let Err(e) = join(pid, &ALL_NAMESPACES[..2]) {
        return fail(125, e);
    }
    let root = match crate::storage::inroot::Root::open(Path::new("/")) {
        Ok(r) => r,
        Err(e) => return fail(125, e),
    };
    let mut out = Vec::new();
    for f in &args[2..] {
        match root.read_small(Path::new(f), limit) {
            Ok(Some(data)) => {
                out.extend_from_slice(format!("{}\n", data.len()).as_bytes());
                out.extend_from_slice(&data);
            }
            Ok(None) => out.extend_from_slice(b"-\n"),
            Err(e) => return fail(125, e),
        }
    }
    match std::io::stdout().write_all(&out) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(125, e),
    }
}

fn fail(code: u8, msg: impl std::fmt::Display) -> ExitCode {
    crate::util::print_error(msg);
    ExitCode::from(code)
}

pub fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let (Some(bundle), Some(pid), Some(req)) = (args.first(), args.get(1), args.get(2)) else {
        return fail(125, "exec: bad arguments");
    };
    let Ok(req) = serde_json::from_str::<ExecRequest>(req) else { return fail(125, "exec: bad request") };
    let console = args.get(3).and_then(|s| s.parse::<i32>().ok());
    if let Some(c) = console {
        // SAFETY: fcntl on the descriptor we were given; it must not reach the command.
        unsafe { libc::fcntl(c, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
    let spec = match Spec::load(Path::new(bundle).join("config.json")) {
        Ok(s) => s,
        Err(e) => return fail(125, format!("cannot read the container's config.json: {e}")),
    };
    // Into the container's cgroups (its limits count this process too), while still the user.
    if let Some(cg) = spec.linux().as_ref().and_then(|l| l.cgroups_path().clone())
        && spec.linux().as_ref().is_some_and(|l| l.resources().is_some())
        && let Ok(pid1) = pid.parse::<u32>()
        && let Err(e) =
            super::cgroup::join_running(&super::cgroup::RealFs, &super::cgroup::detect(), pid1, &cg.to_string_lossy())
    {
        return fail(125, e);
    }
    if let Err(e) = join(pid, ALL_NAMESPACES) {
        return fail(125, e);
    }
    let Some(mut p) = spec.process().clone() else { return fail(125, "config.json has no process") };
    let mut env = p.env().clone().unwrap_or_default();
    env.extend(req.env.iter().cloned());
    let env = crate::util::merge_env(&[&env]);
    p.set_args(Some(req.args.clone())).set_env(Some(env));
    if let Some(w) = &req.workdir {
        p.set_cwd(w.into());
    }
    if let Some((uid, gid)) = req.user {
        let mut u = p.user().clone();
        u.set_uid(uid).set_gid(gid).set_additional_gids(None);
        p.set_user(u);
    }
    p.set_terminal(Some(req.tty && console.is_some()));
    // The container's seccomp filter applies to exec'd processes too.
    let seccomp = match super::seccomp::compile_spec(&spec) {
        Ok(f) => f,
        Err(e) => return fail(125, e),
    };
    // SAFETY: single-threaded; the child execs or exits.
    match unsafe { fork() } {
        Err(e) => fail(125, format!("fork: {e}")),
        Ok(ForkResult::Child) => {
            let console_ok = match console.filter(|_| req.tty) {
                Some(sock) => super::setup_console(sock, p.user().uid(), p.user().gid()),
                None => Ok(()),
            };
            let code = match console_ok.and_then(|_| process::exec(&p, seccomp.as_ref(), None)) {
                Ok(never) => match never {},
                Err(e) => {
                    crate::util::print_error(&e.message);
                    e.code
                }
            };
            // SAFETY: leave the forked child at once.
            unsafe { libc::_exit(code as i32) }
        }
        Ok(ForkResult::Parent { child }) => {
            if let Some(c) = console {
                // Only the child sends the terminal; EOF tells the caller if it never does.
                // SAFETY: closing our own copy, once.
                unsafe { libc::close(c) };
            }
            wait_for(child)
        }
    }
}

fn wait_for(child: nix::unistd::Pid) -> ExitCode {
    loop {
        match waitpid(child, None) {
            Ok(st) => {
                if let Some((_, code)) = crate::util::ended(&st) {
                    return ExitCode::from(code);
                }
            }
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return fail(125, format!("waitpid: {e}")),
        }
    }
}
