//! The container process's own attributes, applied last in PID 1 before exec: rlimits,
//! no_new_privs, groups and IDs, capabilities, the seccomp filter (compiled by seccomp.rs),
//! working directory, environment, and the exec itself with Podman's exit codes for a command
//! that cannot run (126) or is missing (127).

use super::init::SetupError;
use super::seccomp::Filters;
use oci_spec::runtime::{Capability, Process};
use std::collections::HashSet;
use std::ffi::CString;

/// Capability names in kernel number order (CAP_CHOWN = 0 ...).
pub const CAP_NAMES: [&str; 41] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// A capability's kernel name ("CAP_CHOWN"), whatever spelling oci-spec prints.
pub fn cap_name(c: &Capability) -> String {
    let s = c.to_string().to_uppercase();
    if s.starts_with("CAP_") { s } else { format!("CAP_{s}") }
}

/// Kernel number of a capability, from its OCI name.
pub fn cap_number(c: &Capability) -> Option<u32> {
    let name = cap_name(c);
    CAP_NAMES.iter().position(|n| *n == name).map(|i| i as u32)
}

fn mask(set: &Option<HashSet<Capability>>) -> u64 {
    set.iter().flatten().filter_map(cap_number).fold(0u64, |m, n| m | (1 << n))
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}
#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}

fn last_cap() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/cap_last_cap")
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(40)
}

/// Drops what is not in the bounding set. Needs CAP_SETPCAP in the effective set, so it
/// runs before the switch to a non-root user clears that set (as runc does).
fn drop_bounding(p: &Process) -> Result<(), SetupError> {
    let Some(caps) = p.capabilities() else { return Ok(()) };
    let bounding = mask(caps.bounding());
    for n in 0..=last_cap() {
        // SAFETY: prctl with plain integer arguments.
        if bounding & (1 << n) == 0 && unsafe { libc::prctl(libc::PR_CAPBSET_DROP, n as libc::c_ulong, 0, 0, 0) } != 0 {
            let e = std::io::Error::last_os_error();
            if e.raw_os_error() != Some(libc::EINVAL) {
                return Err(SetupError::new(format!("drop capability {n} from the bounding set: {e}")));
            }
        }
    }
    Ok(())
}

/// Sets the effective, permitted, inheritable and ambient sets (after the ID change).
fn apply_caps(p: &Process) -> Result<(), SetupError> {
    let Some(caps) = p.capabilities() else { return Ok(()) };
    let last = last_cap();
    let (e, pm, i) = (mask(caps.effective()), mask(caps.permitted()), mask(caps.inheritable()));
    let mut hdr = CapHeader { version: 0x2008_0522, pid: 0 };
    let data = [
        CapData { effective: e as u32, permitted: pm as u32, inheritable: i as u32 },
        CapData { effective: (e >> 32) as u32, permitted: (pm >> 32) as u32, inheritable: (i >> 32) as u32 },
    ];
    // SAFETY: capset with a valid v3 header and two data structs.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) };
    if r != 0 {
        return Err(SetupError::new(format!("capset: {}", std::io::Error::last_os_error())));
    }
    let ambient = mask(caps.ambient());
    for n in 0..=last {
        if ambient & (1 << n) != 0 {
            // SAFETY: prctl with plain integer arguments.
            unsafe { libc::prctl(libc::PR_CAP_AMBIENT, libc::PR_CAP_AMBIENT_RAISE, n as libc::c_ulong, 0, 0) };
        }
    }
    Ok(())
}

fn find_in_path(cmd: &str, env: &[String]) -> Option<String> {
    if cmd.contains('/') {
        return Some(cmd.to_string());
    }
    let path = env
        .iter()
        .find_map(|e| e.strip_prefix("PATH="))
        .unwrap_or("/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    path.split(':')
        .map(|d| format!("{}/{cmd}", if d.is_empty() { "." } else { d }))
        .find(|p| std::fs::metadata(p).map(|m| m.is_file()).unwrap_or(false))
}

fn rlimit_resource(name: &str) -> Option<libc::__rlimit_resource_t> {
    Some(match name {
        "RLIMIT_AS" => libc::RLIMIT_AS,
        "RLIMIT_CORE" => libc::RLIMIT_CORE,
        "RLIMIT_CPU" => libc::RLIMIT_CPU,
        "RLIMIT_DATA" => libc::RLIMIT_DATA,
        "RLIMIT_FSIZE" => libc::RLIMIT_FSIZE,
        "RLIMIT_LOCKS" => libc::RLIMIT_LOCKS,
        "RLIMIT_MEMLOCK" => libc::RLIMIT_MEMLOCK,
        "RLIMIT_MSGQUEUE" => libc::RLIMIT_MSGQUEUE,
        "RLIMIT_NICE" => libc::RLIMIT_NICE,
        "RLIMIT_NOFILE" => libc::RLIMIT_NOFILE,
        "RLIMIT_NPROC" => libc::RLIMIT_NPROC,
        "RLIMIT_RSS" => libc::RLIMIT_RSS,
        "RLIMIT_RTPRIO" => libc::RLIMIT_RTPRIO,
        "RLIMIT_RTTIME" => libc::RLIMIT_RTTIME,
        "RLIMIT_SIGPENDING" => libc::RLIMIT_SIGPENDING,
        "RLIMIT_STACK" => libc::RLIMIT_STACK,
        _ => return None,
    })
}

/// Sets up the process and execs its command. With `init`, this process stays as the
/// container's init: it forks the command, forwards signals to it and reaps zombies; the
/// descriptors in `init.close` are closed once the command runs (they signal success).
pub fn exec(
    p: &Process,
    seccomp: Option<&Filters>,
    init: Option<&[i32]>,
) -> Result<std::convert::Infallible, SetupError> {
    // Nothing but stdio reaches the command: a host descriptor inside would be a way out of
    // the root (runc's CVE-2024-21626).
    crate::util::cloexec_from_3();
    if p.terminal().unwrap_or(false) {
        // Our stdio is the pty's slave: make it the controlling terminal of a new session.
        nix::unistd::setsid().map_err(|e| SetupError::new(format!("setsid: {e}")))?;
        // SAFETY: ioctl on our own stdin.
        if unsafe { libc::ioctl(0, libc::TIOCSCTTY, 0) } != 0 {
            return Err(SetupError::new(format!("cannot take the terminal: {}", std::io::Error::last_os_error())));
        }
    }
    for rl in p.rlimits().clone().unwrap_or_default() {
        let Some(res) = rlimit_resource(&rl.typ().to_string()) else {
            return Err(SetupError::new(format!("unknown rlimit {}", rl.typ())));
        };
        let lim = libc::rlimit { rlim_cur: rl.soft(), rlim_max: rl.hard() };
        // SAFETY: setrlimit with a valid struct.
        if unsafe { libc::setrlimit(res, &lim) } != 0 {
            return Err(SetupError::new(format!("setrlimit {}: {}", rl.typ(), std::io::Error::last_os_error())));
        }
    }
    let nnp = p.no_new_privileges().unwrap_or(false);
    // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it now, while this process
    // is still root of its user namespace with every capability (runc does the same). The
    // profile must then allow what follows (setgroups, setresuid, capset, prctl, execve).
    if let Some(f) = seccomp.filter(|_| !nnp) {
        load_seccomp(f)?;
    }
    let user = p.user();
    let (uid, gid) = (user.uid(), user.gid());
    if let Some(mask) = user.umask() {
        // SAFETY: umask only sets this process's file-creation mask.
        unsafe { libc::umask(mask as libc::mode_t) };
    }
    let groups: Vec<nix::unistd::Gid> =
        user.additional_gids().clone().unwrap_or_default().into_iter().map(nix::unistd::Gid::from_raw).collect();
    let _ = nix::unistd::setgroups(&groups);
    drop_bounding(p)?;
    let g = nix::unistd::Gid::from_raw(gid);
    nix::unistd::setresgid(g, g, g).map_err(|e| SetupError::new(format!("setgid {gid}: {e}")))?;
    // Keep capabilities across the uid change; the spec's sets are applied right after.
    // SAFETY: prctl with plain integer arguments.
    unsafe { libc::prctl(libc::PR_SET_KEEPCAPS, 1, 0, 0, 0) };
    let u = nix::unistd::Uid::from_raw(uid);
    nix::unistd::setresuid(u, u, u).map_err(|e| SetupError::new(format!("setuid {uid}: {e}")))?;
    apply_caps(p)?;
    if nnp {
        // SAFETY: prctl with plain integer arguments.
        if unsafe { libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) } != 0 {
            return Err(SetupError::new(format!("no_new_privs: {}", std::io::Error::last_os_error())));
        }
    }
    let cwd = p.cwd();
    if nix::unistd::chdir(cwd).is_err() {
        // Made as the container's user, through symlinks only inside the container.
        use crate::storage::inroot::{Kind, Root};
        let _ = Root::open(std::path::Path::new("/")).and_then(|r| r.open_or_create(cwd, Kind::Dir));
        nix::unistd::chdir(cwd).map_err(|e| SetupError::new(format!("workdir {}: {e}", cwd.display())))?;
    }
    let env = p.env().clone().unwrap_or_default();
    let args = p.args().clone().unwrap_or_default();
    let Some(cmd) = args.first() else {
        return Err(SetupError::new("no command given and the image has none; add one after the image name"));
    };
    let Some(path) = find_in_path(cmd, &env) else {
        return Err(SetupError { code: 127, message: format!("{cmd}: executable file not found in $PATH") });
    };
    let c = |s: &str| CString::new(s).map_err(|_| SetupError::new(format!("argument {s:?} contains a NUL byte")));
    let cpath = c(&path)?;
    let cargs = args.iter().map(|a| c(a)).collect::<Result<Vec<_>, _>>()?;
    let cenv = env.iter().map(|a| c(a)).collect::<Result<Vec<_>, _>>()?;
    // With no_new_privs the filter needs no privilege: load it as the very last step.
    if let Some(f) = seccomp.filter(|_| nnp) {
        load_seccomp(f)?;
    }
    if let Some(close) = init {
        return super::tinit::run(&cpath, &cargs, &cenv, cmd, close);
    }
    Err(exec_error(cmd, nix::unistd::execve(&cpath, &cargs, &cenv).unwrap_err()))
}

fn load_seccomp(f: &Filters) -> Result<(), SetupError> {
    super::seccomp::install(f).map_err(|e| SetupError::new(e.to_string()))
}

/// Podman's exit codes for an exec that failed: 127 not found, 126 cannot execute.
pub fn exec_error(cmd: &str, e: nix::errno::Errno) -> SetupError {
    let code = match e {
        nix::errno::Errno::ENOENT => 127,
        _ => 126,
    };
    SetupError { code, message: format!("{cmd}: {}", std::io::Error::from(e)) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_numbers() {
        assert_eq!(cap_number(&Capability::Chown), Some(0));
        assert_eq!(cap_number(&Capability::NetBindService), Some(10));
        assert_eq!(cap_number(&Capability::SysAdmin), Some(21));
    }
}
