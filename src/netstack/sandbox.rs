//! The network process's confinement, entered once its descriptors are open and its ports
//! bound: a user and mount namespace of its own whose root is an empty tmpfs holding only a
//! read-only /etc (and the directory /etc/resolv.conf links into: libslirp reads the host's
//! resolvers from it for its DNS forwarder), no capabilities, no_new_privs, and a seccomp
//! allowlist: the sockets, poll and memory calls a user-mode stack needs; no bind, listen,
//! exec, kill, ptrace, namespaces or AF_UNIX/netlink sockets; files read-only; nothing mapped
//! executable. This is at least what slirp4netns --enable-sandbox --enable-seccomp gives.

use nix::mount::{MsFlags, mount};
use oci_spec::runtime::{LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArgBuilder, LinuxSeccompOperator, LinuxSyscall};
use std::path::{Path, PathBuf};

fn err(what: &str, e: impl std::fmt::Display) -> String {
    format!("sandbox: {what}: {e}")
}

/// Confines the calling (single-threaded) process for good.
pub fn enter() -> Result<(), String> {
    enter_with(&filter())
}

/// Confines the calling (single-threaded) process for good, with seccomp filter `f`.
pub fn enter_with(f: &LinuxSeccomp) -> Result<(), String> {
    let filter = crate::runtime::seccomp::compile(f).map_err(|e| err("compile the filter", e))?;
    jail()?;
    drop_capabilities()?;
    // SAFETY: prctl with plain integer arguments.
    if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
        return Err(err("no_new_privs", std::io::Error::last_os_error()));
    }
    crate::runtime::seccomp::install(&filter).map_err(|e| err("install the filter", e))
}

/// The directory outside /etc that /etc/resolv.conf resolves into, if any
/// (/run/systemd/resolve with systemd-resolved).
fn resolv_dir() -> Option<PathBuf> {
    let real = std::fs::canonicalize("/etc/resolv.conf").ok()?;
    let dir = real.parent()?;
    (!dir.starts_with("/etc")).then(|| dir.to_path_buf())
}

/// Bind-mounts `src` read-only at `dst` (keeping the flags the kernel locks in a user namespace).
fn bind_ro(src: &Path, dst: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dst).map_err(|e| err(&format!("mkdir {}", dst.display()), e))?;
    mount(Some(src), dst, None::<&str>, MsFlags::MS_BIND | MsFlags::MS_REC, None::<&str>)
        .map_err(|e| err(&format!("bind {}", src.display()), e))?;
    let mut keep = MsFlags::empty();
    if let Ok(st) = nix::sys::statvfs::statvfs(dst) {
        use nix::sys::statvfs::FsFlags;
        for (a, b) in [
            (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
            (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
            (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        ] {
            if st.flags().contains(a) {
                keep |= b;
            }
        }
    }
    let flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY | keep;
    mount(None::<&str>, dst, None::<&str>, flags, None::<&str>)
        .map_err(|e| err(&format!("remount {} read-only", dst.display()), e))
}

/// New user and mount namespaces (the user maps to itself), the root changed to an empty
/// tmpfs with /etc.
fn jail() -> Result<(), String> {
    let (uid, gid) = (nix::unistd::geteuid(), nix::unistd::getegid());
    let resolv = resolv_dir();
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWUSER | nix::sched::CloneFlags::CLONE_NEWNS)
        .map_err(|e| err("unshare", e))?;
    for (file, text) in [
        ("setgroups", "deny".to_string()),
        ("uid_map", format!("{uid} {uid} 1")),
        ("gid_map", format!("{gid} {gid} 1")),
    ] {
        std::fs::write(format!("/proc/self/{file}"), text).map_err(|e| err(&format!("write {file}"), e))?;
    }
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>)
        .map_err(|e| err("make / private", e))?;
    let root = Path::new("/tmp");
    let flags = MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC;
    mount(Some("tmpfs"), root, Some("tmpfs"), flags, Some("size=64k,mode=0755")).map_err(|e| err("mount tmpfs", e))?;
    bind_ro(Path::new("/etc"), &root.join("etc"))?;
    if let Some(d) = resolv {
        bind_ro(&d, &root.join(d.strip_prefix("/").unwrap_or(&d)))?;
    }
    // chroot rather than pivot_root: detaching the old root's copies costs up to milliseconds
    // (an RCU grace period) on the container's start path; without capabilities, with chroot
    // and every namespace call refused by the filter, nothing leads back out.
    nix::unistd::chroot(root).map_err(|e| err("chroot", e))?;
    nix::unistd::chdir("/").map_err(|e| err("chdir /", e))?;
    // The tmpfs root itself read-only too.
    mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | flags, None::<&str>)
        .map_err(|e| err("remount / read-only", e))
}

fn drop_capabilities() -> Result<(), String> {
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    const V3: u32 = 0x2008_0522;
    let h = Header { version: V3, pid: 0 };
    let d = [Data { effective: 0, permitted: 0, inheritable: 0 }; 2];
    // SAFETY: capset with a v3 header and two data words, as the kernel expects.
    if unsafe { libc::syscall(libc::SYS_capset, &h as *const Header, d.as_ptr()) } != 0 {
        return Err(err("drop capabilities", std::io::Error::last_os_error()));
    }
    Ok(())
}

pub(super) fn allow(names: &[&str]) -> LinuxSyscall {
    let mut s = LinuxSyscall::default();
    s.set_names(names.iter().map(|n| n.to_string()).collect()).set_action(LinuxSeccompAction::ScmpActAllow);
    s
}

/// `names` allowed when argument `index` masked with `mask` equals `value`.
pub(super) fn allow_if(names: &[&str], index: usize, mask: Option<u64>, value: u64) -> LinuxSyscall {
    let b = LinuxSeccompArgBuilder::default().index(index);
    let arg = match mask {
        Some(m) => b.op(LinuxSeccompOperator::ScmpCmpMaskedEq).value(m).value_two(value),
        None => b.op(LinuxSeccompOperator::ScmpCmpEq).value(value),
    };
    let mut s = allow(names);
    s.set_args(Some(vec![arg.build().unwrap_or_default()]));
    s
}

/// The allowlist; anything else fails with EPERM.
pub fn filter() -> LinuxSeccomp {
    let write_flags = (libc::O_ACCMODE | libc::O_CREAT | libc::O_TRUNC | libc::O_APPEND) as u64;
    let exec = libc::PROT_EXEC as u64;
    let mut calls = vec![
        allow(&["read", "write", "readv", "writev", "close", "lseek", "fstat", "newfstatat", "stat", "statx"]),
        allow(&["connect", "accept", "accept4", "getsockname", "getpeername", "setsockopt", "getsockopt"]),
        allow(&["shutdown", "sendto", "recvfrom", "sendmsg", "recvmsg", "poll", "ppoll"]),
        allow(&["clock_gettime", "clock_getres", "gettimeofday", "brk", "munmap", "mremap", "madvise"]),
        allow(&["futex", "sched_yield", "rt_sigreturn", "rt_sigprocmask", "sigaltstack", "restart_syscall"]),
        allow(&["getrandom", "getpid", "gettid", "exit", "exit_group"]),
        // Files: read-only (the root holds /etc alone).
        allow_if(&["openat"], 2, Some(write_flags), 0),
        allow_if(&["open"], 1, Some(write_flags), 0),
        // Memory: never executable.
        allow_if(&["mmap", "mprotect"], 2, Some(exec), 0),
        // libslirp asks how big a waiting datagram is.
        #[allow(clippy::unnecessary_cast)] // c_ulong here, c_int on some targets
        allow_if(&["ioctl"], 1, None, libc::FIONREAD as u64),
    ];
    for domain in [libc::AF_INET, libc::AF_INET6] {
        calls.push(allow_if(&["socket"], 0, None, domain as u64));
    }
    for cmd in [libc::F_GETFL, libc::F_SETFL, libc::F_GETFD, libc::F_SETFD] {
        calls.push(allow_if(&["fcntl"], 1, None, cmd as u64));
    }
    allowlist(calls)
}

/// A filter allowing `calls`; anything else fails with EPERM.
pub(super) fn allowlist(calls: Vec<LinuxSyscall>) -> LinuxSeccomp {
    let mut s = LinuxSeccomp::default();
    s.set_default_action(LinuxSeccompAction::ScmpActErrno)
        .set_default_errno_ret(Some(libc::EPERM as u32))
        .set_syscalls(Some(calls));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// In a forked child (raw system calls only after the fork), installs the filter and
    /// tries what the stack does and what it must not; the exit code names the first surprise.
    #[test]
    fn the_filter_allows_the_stack_and_refuses_the_rest() {
        let f = crate::runtime::seccomp::compile(&filter()).unwrap();
        let path = c"/proc/self/stat";
        let unix_path = c"/tmp";
        // SAFETY: the child makes raw system calls only and leaves with _exit.
        match unsafe { libc::fork() } {
            0 => unsafe {
                let eperm = |r: libc::c_long| r < 0 && *libc::__errno_location() == libc::EPERM;
                let code = (|| {
                    if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0
                        || crate::runtime::seccomp::install(&f).is_err()
                    {
                        return 1;
                    }
                    let s = libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0);
                    if s < 0 {
                        return 2;
                    }
                    let fd = libc::openat(libc::AT_FDCWD, path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
                    if fd < 0 {
                        return 3;
                    }
                    if libc::fcntl(s, libc::F_SETFL, libc::O_NONBLOCK) != 0 {
                        return 4;
                    }
                    let mut n: libc::c_int = 0;
                    if libc::ioctl(s, libc::FIONREAD, &mut n) != 0 {
                        return 5;
                    }
                    if !eperm(libc::socket(libc::AF_UNIX, libc::SOCK_STREAM, 0) as _) {
                        return 10;
                    }
                    if !eperm(libc::socket(libc::AF_NETLINK, libc::SOCK_RAW, 0) as _) {
                        return 11;
                    }
                    if !eperm(
                        libc::openat(libc::AT_FDCWD, unix_path.as_ptr(), libc::O_WRONLY | libc::O_CREAT, 0o600) as _
                    ) {
                        return 12;
                    }
                    let sa = libc::sockaddr_in {
                        sin_family: libc::AF_INET as u16,
                        sin_port: 0,
                        sin_addr: libc::in_addr { s_addr: 0 },
                        sin_zero: [0; 8],
                    };
                    if !eperm(libc::bind(s, &sa as *const _ as *const libc::sockaddr, 16) as _)
                        || !eperm(libc::listen(s, 1) as _)
                    {
                        return 13;
                    }
                    let p = libc::mmap(
                        std::ptr::null_mut(),
                        4096,
                        libc::PROT_READ | libc::PROT_EXEC,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                        -1,
                        0,
                    );
                    if p != libc::MAP_FAILED || *libc::__errno_location() != libc::EPERM {
                        return 14;
                    }
                    let p = libc::mmap(
                        std::ptr::null_mut(),
                        4096,
                        libc::PROT_READ | libc::PROT_WRITE,
                        libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                        -1,
                        0,
                    );
                    if p == libc::MAP_FAILED {
                        return 6;
                    }
                    if !eperm(libc::mprotect(p, 4096, libc::PROT_READ | libc::PROT_EXEC) as _) {
                        return 15;
                    }
                    if !eperm(libc::kill(1, 0) as _) || !eperm(libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0)) {
                        return 16;
                    }
                    if !eperm(libc::unshare(libc::CLONE_NEWUSER) as _)
                        || !eperm(libc::fcntl(s, libc::F_DUPFD, 100) as _)
                    {
                        return 17;
                    }
                    if !eperm(libc::ioctl(s, libc::TIOCSTI, &n) as _) {
                        return 18;
                    }
                    let argv = [std::ptr::null::<libc::c_char>()];
                    if !eperm(libc::execve(c"/bin/true".as_ptr(), argv.as_ptr(), argv.as_ptr()) as _) {
                        return 19;
                    }
                    0
                })();
                libc::_exit(code)
            },
            pid => {
                assert!(pid > 0);
                let mut status = 0;
                // SAFETY: waiting for our own child.
                assert_eq!(unsafe { libc::waitpid(pid, &mut status, 0) }, pid);
                assert!(libc::WIFEXITED(status), "the child died: {status:#x}");
                assert_eq!(libc::WEXITSTATUS(status), 0, "see the numbered checks in the test");
            }
        }
    }
}
