//! A running container's root shown in a `kiste unshare` session (`kiste mount` of a running
//! container). Its root is mounted only in its own mount namespace, owned by its own user
//! namespace, which a session (a sibling user namespace) has no rights over. The user
//! outside owns both, so the session's parent serves requests: for each, a forked child
//! joins the container's user and mount namespaces, clones the root mount there
//! (`open_tree`, not recursive: the root without its volumes, /proc or /dev, as Podman's
//! merged directory) and sends the detached mount back; the session attaches it with
//! `move_mount`. It is the container's overlay itself, so changes show both ways at once.
//! Without a server (rootful), the caller clones through a child of its own.
//! Owns the request protocol and the namespace syscalls; knows nothing of records.

use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::Path;
use std::process::{Child, ExitStatus};

/// Names the descriptor of the server's socket in the session.
pub const ENV: &str = "_KISTE_ROOT_CLONER";

const OPEN_TREE_CLONE: libc::c_uint = 1;
const MOVE_MOUNT_F_EMPTY_PATH: libc::c_uint = 4;

/// A datagram socket pair: the server's end (close-on-exec) and the session's (inherited).
pub fn channel() -> io::Result<(OwnedFd, OwnedFd)> {
    let (server, session) = seqpacket_pair()?;
    nix::fcntl::fcntl(&session, nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()))?;
    Ok((server, session))
}

fn seqpacket_pair() -> io::Result<(OwnedFd, OwnedFd)> {
    use nix::sys::socket::{AddressFamily, SockFlag, SockType, socketpair};
    Ok(socketpair(AddressFamily::Unix, SockType::SeqPacket, None, SockFlag::SOCK_CLOEXEC)?)
}

/// Answers the session's requests on `server` until `child` (the session) exits.
pub fn serve_until_exit(server: OwnedFd, child: &mut Child) -> io::Result<ExitStatus> {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    let pid = rustix::process::Pid::from_raw(child.id() as i32).ok_or_else(|| io::Error::other("no child"))?;
    let pidfd = rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty())?;
    loop {
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN), PollFd::new(server.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::NONE) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(e.into()),
            Ok(_) => {}
        }
        let ready = |f: &PollFd| f.revents().is_some_and(|r| !r.is_empty());
        if ready(&fds[0]) {
            return child.wait();
        }
        if ready(&fds[1]) {
            answer(server.as_raw_fd());
        }
    }
}

/// Reads one request (a PID in text, with the socket to answer on) and answers it.
fn answer(server: RawFd) {
    let mut buf = [0u8; 32];
    let Ok((n, mut fds)) = crate::fdpass::recv(server, &mut buf) else { return };
    let (Some(reply), Some(pid)) = (fds.pop(), std::str::from_utf8(&buf[..n]).ok().and_then(|s| s.parse().ok())) else {
        return;
    };
    clone_in_child(pid, reply.as_raw_fd());
}

/// Forks a child that clones the root of process `pid`'s mount namespace and sends the
/// result (`ok` with the mount, or `err MESSAGE`) on `reply`; waits for it.
fn clone_in_child(pid: i32, reply: RawFd) {
    // SAFETY: the child only makes system calls and formats a message before _exit; the
    // callers (the unshare parent, a `kiste mount`) are single-threaded.
    match unsafe { nix::unistd::fork() } {
        Ok(nix::unistd::ForkResult::Child) => {
            let _ = match clone_root_here(pid) {
                Ok(fd) => crate::fdpass::send(reply, b"ok", &[fd.as_raw_fd()]),
                Err(e) => crate::fdpass::send(reply, format!("err {e}").as_bytes(), &[]),
            };
            // SAFETY: leaving the forked child without running the parent's destructors.
            unsafe { libc::_exit(0) }
        }
        Ok(nix::unistd::ForkResult::Parent { child }) => {
            let _ = nix::sys::wait::waitpid(child, None);
        }
        Err(e) => {
            let _ = crate::fdpass::send(reply, format!("err fork: {e}").as_bytes(), &[]);
        }
    }
}

/// Joins process `pid`'s user (unless it is ours) and mount namespaces and clones the
/// root mount there, detached.
fn clone_root_here(pid: i32) -> Result<OwnedFd, String> {
    let open = |n: &str| {
        std::fs::File::open(format!("/proc/{pid}/ns/{n}")).map_err(|e| format!("cannot open /proc/{pid}/ns/{n}: {e}"))
    };
    let ino = |p: &str| std::fs::metadata(p).map(|m| std::os::unix::fs::MetadataExt::ino(&m)).ok();
    let user = open("user")?;
    let mnt = open("mnt")?;
    if ino(&format!("/proc/{pid}/ns/user")) != ino("/proc/self/ns/user") {
        nix::sched::setns(&user, nix::sched::CloneFlags::CLONE_NEWUSER)
            .map_err(|e| format!("cannot join the container's user namespace: {e}"))?;
    }
    nix::sched::setns(&mnt, nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(|e| format!("cannot join the container's mount namespace: {e}"))?;
    let flags = OPEN_TREE_CLONE | libc::O_CLOEXEC as libc::c_uint;
    // SAFETY: open_tree with a NUL-terminated path; the result is a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_open_tree, libc::AT_FDCWD, c"/".as_ptr(), flags) };
    if fd < 0 {
        return Err(format!("cannot clone the container's root mount: {}", io::Error::last_os_error()));
    }
    // SAFETY: the kernel just returned this descriptor; nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// The root mount of running process `pid`'s mount namespace, detached: asked of the
/// `kiste unshare` session's parent when there is one, else cloned by a child of ours.
pub fn clone_root(pid: i32) -> Result<OwnedFd, String> {
    let (mine, theirs) = seqpacket_pair().map_err(|e| format!("socketpair: {e}"))?;
    match std::env::var(ENV).ok().and_then(|v| v.parse::<RawFd>().ok()) {
        Some(server) => {
            crate::fdpass::send(server, pid.to_string().as_bytes(), &[theirs.as_raw_fd()]).map_err(|e| {
                format!("the \"kiste unshare\" session's parent does not answer ({e}); start a new session")
            })?
        }
        None => clone_in_child(pid, theirs.as_raw_fd()),
    }
    drop(theirs);
    let mut buf = [0u8; 512];
    let (n, mut fds) = crate::fdpass::recv(mine.as_raw_fd(), &mut buf).map_err(|e| format!("no answer: {e}"))?;
    let text = String::from_utf8_lossy(&buf[..n]).into_owned();
    match (text.as_str(), fds.pop()) {
        ("ok", Some(fd)) => Ok(fd),
        _ => Err(text.strip_prefix("err ").unwrap_or("no answer").to_string()),
    }
}

/// Attaches the detached mount `tree` at `at` in this mount namespace.
pub fn attach(tree: &OwnedFd, at: &Path) -> io::Result<()> {
    let at = std::ffi::CString::new(at.as_os_str().as_encoded_bytes()).map_err(io::Error::other)?;
    // SAFETY: move_mount with NUL-terminated paths; returns 0 or -1.
    let r = unsafe {
        libc::syscall(
            libc::SYS_move_mount,
            tree.as_raw_fd(),
            c"".as_ptr(),
            libc::AT_FDCWD,
            at.as_ptr(),
            MOVE_MOUNT_F_EMPTY_PATH,
        )
    };
    if r < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}
