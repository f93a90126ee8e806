//! Seccomp in the runtime: compiles the spec's `linux.seccomp` (OCI LinuxSeccomp) to BPF for the
//! native architecture with seccompiler and installs it. Does not choose or filter profiles (the
//! engine does) and does not touch IDs, capabilities or no_new_privs (process.rs orders those).
//!
//! seccompiler gives one program one match action, so a profile is compiled into several: one per
//! action other than allow (e.g. ERRNO ENOSYS for clone3) that returns it where its rules match,
//! strictest first, and last a base program that allows every syscall some rule names and returns
//! the default action for the rest. They are chained into the one filter that is installed: in
//! every program but the last, "allow" becomes "go on with the next program". Names unknown on
//! this architecture are skipped, as libseccomp does; other ABIs (i386, x32, arm) are killed.

use super::syscall_table;
use oci_spec::runtime::{
    LinuxSeccomp, LinuxSeccompAction as A, LinuxSeccompArg, LinuxSeccompFilterFlag, LinuxSeccompOperator,
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter, SeccompRule,
    TargetArch, sock_filter,
};
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error)]
pub enum SeccompError {
    #[error("seccomp: {0}")]
    Unsupported(String),
    #[error("seccomp: cannot compile the profile: {0}")]
    Compile(#[from] seccompiler::BackendError),
    #[error("seccomp: cannot load the filter: {0}")]
    Load(std::io::Error),
}

/// A compiled profile: the BPF program to install, with the spec's filter flags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    program: BpfProgram,
    flags: u32,
}

/// Per syscall number: `None` when some rule matches it unconditionally, else the rules (OR).
type Rules = BTreeMap<i64, Option<Vec<SeccompRule>>>;

const X32_SYSCALL_BIT: u32 = 0x4000_0000;
const RET_K: u16 = 0x06; // BPF_RET | BPF_K
const JA: u16 = 0x05; // BPF_JMP | BPF_JA
/// The kernel's limit on one program (BPF_MAXINSNS).
const MAX_INSNS: usize = 4096;

/// Syscall numbers by name, sorted by name.
type SyscallTable = &'static [(&'static str, i64)];

fn native() -> Result<(TargetArch, SyscallTable), SeccompError> {
    match std::env::consts::ARCH {
        "x86_64" => Ok((TargetArch::x86_64, syscall_table::X86_64)),
        "aarch64" => Ok((TargetArch::aarch64, syscall_table::AARCH64)),
        a => Err(SeccompError::Unsupported(format!("filters are not supported on {a} (only x86_64 and aarch64)"))),
    }
}

fn lookup(table: &[(&str, i64)], name: &str) -> Option<i64> {
    table.binary_search_by(|(n, _)| (*n).cmp(name)).ok().map(|i| table[i].1)
}

fn action(a: A, errno: Option<u32>) -> Result<SeccompAction, SeccompError> {
    let eperm = libc::EPERM as u32;
    Ok(match a {
        A::ScmpActKill | A::ScmpActKillThread => SeccompAction::KillThread,
        A::ScmpActKillProcess => SeccompAction::KillProcess,
        A::ScmpActTrap => SeccompAction::Trap,
        A::ScmpActErrno => SeccompAction::Errno(errno.unwrap_or(eperm)),
        A::ScmpActTrace => SeccompAction::Trace(errno.unwrap_or(eperm)),
        A::ScmpActLog => SeccompAction::Log,
        A::ScmpActAllow => SeccompAction::Allow,
        A::ScmpActNotify => return Err(SeccompError::Unsupported("SCMP_ACT_NOTIFY is not supported".into())),
    })
}

fn condition(a: &LinuxSeccompArg) -> Result<SeccompCondition, SeccompError> {
    use LinuxSeccompOperator as O;
    let index = u8::try_from(a.index())
        .map_err(|_| SeccompError::Unsupported(format!("argument index {} is out of range", a.index())))?;
    // libseccomp compares whole 64-bit arguments; MASKED_EQ is (arg & value) == valueTwo.
    let (op, value) = match a.op() {
        O::ScmpCmpNe => (SeccompCmpOp::Ne, a.value()),
        O::ScmpCmpLt => (SeccompCmpOp::Lt, a.value()),
        O::ScmpCmpLe => (SeccompCmpOp::Le, a.value()),
        O::ScmpCmpEq => (SeccompCmpOp::Eq, a.value()),
        O::ScmpCmpGe => (SeccompCmpOp::Ge, a.value()),
        O::ScmpCmpGt => (SeccompCmpOp::Gt, a.value()),
        O::ScmpCmpMaskedEq => (SeccompCmpOp::MaskedEq(a.value()), a.value_two().unwrap_or(0)),
    };
    Ok(SeccompCondition::new(index, SeccompCmpArgLen::Qword, op, value)?)
}

/// The rules of one entry: all its conditions together, or — when one argument is compared more
/// than once, which libseccomp cannot AND — each condition alone, as runc does. `[None]` when it
/// has no conditions.
fn entry_rules(args: &[LinuxSeccompArg]) -> Result<Vec<Option<SeccompRule>>, SeccompError> {
    if args.is_empty() {
        return Ok(vec![None]);
    }
    let conds = args.iter().map(condition).collect::<Result<Vec<_>, _>>()?;
    let mut seen = [false; 6];
    let repeated = args.iter().any(|a| std::mem::replace(&mut seen[a.index().min(5)], true));
    if repeated {
        conds.into_iter().map(|c| Ok(Some(SeccompRule::new(vec![c])?))).collect()
    } else {
        Ok(vec![Some(SeccompRule::new(conds)?)])
    }
}

fn add(rules: &mut Rules, nr: i64, rule: &Option<SeccompRule>) {
    match rule {
        None => {
            rules.insert(nr, None);
        }
        Some(r) => {
            if let Some(list) = rules.entry(nr).or_insert_with(|| Some(Vec::new())) {
                list.push(r.clone());
            }
        }
    }
}

fn program(
    rules: Rules,
    mismatch: SeccompAction,
    matched: SeccompAction,
    arch: TargetArch,
) -> Result<BpfProgram, SeccompError> {
    let rules = rules.into_iter().map(|(nr, r)| (nr, r.unwrap_or_default())).collect();
    Ok(SeccompFilter::new(rules, mismatch, matched, arch)?.try_into()?)
}

/// On x86_64 a permissive default would let x32 syscalls (the same numbers with bit 30 set)
/// past every rule: this filter kills them, as libseccomp does for an ABI it was not given.
fn x32_guard() -> BpfProgram {
    const LD_W_ABS: u16 = 0x20; // BPF_LD | BPF_W | BPF_ABS
    const JGE_K: u16 = 0x35; // BPF_JMP | BPF_JGE | BPF_K
    let i = |code, jt, jf, k| sock_filter { code, jt, jf, k };
    vec![
        i(LD_W_ABS, 0, 0, 0), // seccomp_data.nr
        i(JGE_K, 0, 1, X32_SYSCALL_BIT),
        i(RET_K, 0, 0, libc::SECCOMP_RET_KILL_PROCESS),
        i(RET_K, 0, 0, libc::SECCOMP_RET_ALLOW),
    ]
}

/// One program from several: in each but the last, every "allow" return becomes a jump past its
/// end, i.e. to the start of the next one (each starts by loading what it compares). Instruction
/// counts do not change, so no jump inside a program moves. Allow is never a program's match
/// action here but the last's, so an allow return always means "no rule of mine matched".
fn chain(programs: Vec<BpfProgram>) -> Result<BpfProgram, SeccompError> {
    let count = programs.len();
    let mut out = Vec::new();
    for (n, mut p) in programs.into_iter().enumerate() {
        if n + 1 < count {
            let len = p.len();
            for (i, ins) in p.iter_mut().enumerate() {
                if ins.code == RET_K && ins.k == libc::SECCOMP_RET_ALLOW {
                    *ins = sock_filter { code: JA, jt: 0, jf: 0, k: (len - i - 1) as u32 };
                }
            }
        }
        out.append(&mut p);
    }
    if out.len() > MAX_INSNS {
        return Err(SeccompError::Unsupported(format!(
            "the profile needs {} BPF instructions, more than the kernel's {MAX_INSNS}",
            out.len()
        )));
    }
    Ok(out)
}

/// The kernel's precedence of a return value: lower is stricter (KILL_PROCESS is negative).
fn precedence(ret: u32) -> i32 {
    (ret & libc::SECCOMP_RET_ACTION_FULL) as i32
}

/// Compiles the section for this machine.
pub fn compile(s: &LinuxSeccomp) -> Result<Filters, SeccompError> {
    let (arch, table) = native()?;
    let default = action(s.default_action(), s.default_errno_ret())?;
    let default_ret = u32::from(default.clone());
    let mut named = Rules::new();
    // Keyed by (precedence, return value): strictest first.
    let mut by_action: BTreeMap<(i32, u32), (SeccompAction, Rules)> = BTreeMap::new();
    for call in s.syscalls().iter().flatten() {
        let act = action(call.action(), call.errno_ret())?;
        let ret = u32::from(act.clone());
        if ret == default_ret {
            continue; // says what the default says
        }
        let rules = entry_rules(call.args().as_deref().unwrap_or_default())?;
        for nr in call.names().iter().filter_map(|n| lookup(table, n)) {
            for r in &rules {
                add(&mut named, nr, r);
                if act != SeccompAction::Allow {
                    let group = by_action.entry((precedence(ret), ret)).or_insert_with(|| (act.clone(), Rules::new()));
                    add(&mut group.1, nr, r);
                }
            }
        }
    }
    let mut programs = Vec::new();
    let permissive = matches!(default, SeccompAction::Allow | SeccompAction::Log | SeccompAction::Trace(_));
    if permissive && arch == TargetArch::x86_64 {
        programs.push(x32_guard());
    }
    for (act, rules) in by_action.into_values() {
        programs.push(program(rules, SeccompAction::Allow, act, arch)?);
    }
    if default != SeccompAction::Allow {
        programs.push(program(named, default, SeccompAction::Allow, arch)?);
    }
    let mut flags = 0;
    for f in s.flags().iter().flatten() {
        flags |= match f {
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => {
                return Err(SeccompError::Unsupported(
                    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is not supported".into(),
                ));
            }
        } as u32;
    }
    Ok(Filters { program: chain(programs)?, flags })
}

/// The filters of a spec, `None` when it has no seccomp section.
pub fn compile_spec(spec: &oci_spec::runtime::Spec) -> Result<Option<Filters>, SeccompError> {
    spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()).map(compile).transpose()
}

#[repr(C)]
struct SockFprog {
    len: libc::c_ushort,
    filter: *const sock_filter,
}

/// Installs the filter on the calling thread. Without no_new_privs this needs CAP_SYS_ADMIN in
/// the current user namespace.
pub fn install(f: &Filters) -> Result<(), SeccompError> {
    if f.program.is_empty() {
        return Ok(()); // an allow-everything profile
    }
    let prog = SockFprog { len: f.program.len() as libc::c_ushort, filter: f.program.as_ptr() };
    // SAFETY: seccompiler's sock_filter is the kernel's struct sock_filter (repr C); the kernel
    // copies the program during the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            f.flags as libc::c_ulong,
            &prog as *const SockFprog,
        )
    };
    if r != 0 {
        return Err(SeccompError::Load(std::io::Error::last_os_error()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::container::seccomp::{SecurityOpts, section};
    use oci_spec::runtime::Capability;
    use std::collections::HashSet;

    fn default_section(extra: &[Capability]) -> LinuxSeccomp {
        let mut caps: HashSet<Capability> =
            [Capability::Chown, Capability::Setuid, Capability::Setgid, Capability::SysChroot].into();
        caps.extend(extra.iter().copied());
        section(&SecurityOpts::default(), false, &caps).unwrap().unwrap()
    }

    #[test]
    fn tables_match_libc() {
        let (_, table) = native().unwrap();
        for (name, nr) in [
            ("read", libc::SYS_read),
            ("execve", libc::SYS_execve),
            ("clone", libc::SYS_clone),
            ("clone3", libc::SYS_clone3),
            ("unshare", libc::SYS_unshare),
            ("personality", libc::SYS_personality),
            ("socket", libc::SYS_socket),
            ("fchmodat2", libc::SYS_fchmodat2),
        ] {
            assert_eq!(lookup(table, name), Some(nr), "{name}");
        }
        assert_eq!(lookup(table, "no_such_syscall"), None);
        assert!(syscall_table::X86_64.windows(2).all(|w| w[0].0 < w[1].0), "sorted for binary search");
        assert!(syscall_table::AARCH64.windows(2).all(|w| w[0].0 < w[1].0), "sorted for binary search");
    }

    #[test]
    fn default_profile_compiles_to_one_small_program() {
        let f = compile(&default_section(&[])).unwrap();
        let g = compile(&default_section(&[Capability::SysAdmin])).unwrap();
        eprintln!("default profile: {} instructions, with CAP_SYS_ADMIN {}", f.program.len(), g.program.len());
        assert!(f.program.len() < MAX_INSNS);
        // Without CAP_SYS_ADMIN the clone3 ENOSYS program comes first, chained into the base one,
        // whose allow returns are the only ones left.
        let returns = |f: &Filters, k: u32| f.program.iter().filter(|i| i.code == RET_K && i.k == k).count();
        let enosys = libc::SECCOMP_RET_ERRNO | libc::ENOSYS as u32;
        assert_eq!((returns(&f, enosys), returns(&g, enosys)), (1, 0));
        assert!(returns(&f, libc::SECCOMP_RET_ALLOW) > 0);
    }

    #[test]
    fn unknown_names_are_skipped_and_bad_sections_refused() {
        let mut s = default_section(&[]);
        let mut calls = s.syscalls().clone().unwrap();
        calls[0].set_names(vec!["no_such_syscall".into(), "read".into()]);
        s.set_syscalls(Some(calls.clone()));
        assert!(compile(&s).is_ok());
        calls[0].set_action(A::ScmpActNotify);
        s.set_syscalls(Some(calls));
        assert!(compile(&s).unwrap_err().to_string().contains("NOTIFY"));
    }

    /// Runs `f` in a forked child under the filters (no_new_privs, so no privilege is needed) and
    /// returns its exit code.
    fn in_child(filters: &Filters, f: fn() -> i32) -> i32 {
        // SAFETY: the child only makes raw syscalls and leaves with _exit.
        match unsafe { libc::fork() } {
            0 => unsafe {
                libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
                if install(filters).is_err() {
                    libc::_exit(99);
                }
                libc::_exit(f())
            },
            pid => {
                let mut status = 0;
                // SAFETY: waiting for our own child.
                unsafe { libc::waitpid(pid, &mut status, 0) };
                if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 128 + libc::WTERMSIG(status) }
            }
        }
    }

    fn errno_of(r: libc::c_long) -> i32 {
        if r < 0 { std::io::Error::last_os_error().raw_os_error().unwrap_or(0) } else { 0 }
    }

    #[test]
    fn the_default_profile_denies_what_docker_denies() {
        let f = compile(&default_section(&[])).unwrap();
        // Each check returns 0 when the kernel answered as the profile says.
        let checks: [fn() -> i32; 6] = [
            // Allowed: getpid; personality query.
            || unsafe { (libc::syscall(libc::SYS_getpid) <= 0) as i32 },
            || unsafe { (errno_of(libc::syscall(libc::SYS_personality, 0xffff_ffffu64)) != 0) as i32 },
            // Denied with EPERM: a new user namespace (no CAP_SYS_ADMIN), another personality,
            // an AF_VSOCK socket.
            || unsafe { (errno_of(libc::syscall(libc::SYS_unshare, libc::CLONE_NEWUSER)) != libc::EPERM) as i32 },
            || unsafe { (errno_of(libc::syscall(libc::SYS_personality, 0x0006u64)) != libc::EPERM) as i32 },
            || unsafe {
                (errno_of(libc::syscall(libc::SYS_socket, libc::AF_VSOCK, libc::SOCK_STREAM, 0)) != libc::EPERM) as i32
            },
            // clone3 says ENOSYS so that libc falls back to clone.
            || unsafe { (errno_of(libc::syscall(libc::SYS_clone3, 0usize, 0usize)) != libc::ENOSYS) as i32 },
        ];
        for (i, c) in checks.iter().enumerate() {
            assert_eq!(in_child(&f, *c), 0, "check {i}");
        }
    }

    #[test]
    fn a_denylist_profile_works_and_kills_x32() {
        let s: LinuxSeccomp = serde_json::from_str(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5},
                {"names": ["uname"], "action": "SCMP_ACT_ERRNO"},
                {"names": ["getpgid"], "action": "SCMP_ACT_ERRNO", "args": [
                    {"index": 0, "value": 7, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]}]}"#,
        )
        .unwrap();
        let f = compile(&s).unwrap();
        let checks: [fn() -> i32; 5] = [
            || unsafe { (errno_of(libc::syscall(libc::SYS_getppid)) != libc::EIO) as i32 },
            || unsafe { (errno_of(libc::syscall(libc::SYS_uname, 0usize)) != libc::EPERM) as i32 },
            // The same argument compared twice: either value matches (runc's OR).
            || unsafe { (errno_of(libc::syscall(libc::SYS_getpgid, 8)) != libc::EPERM) as i32 },
            || unsafe { (errno_of(libc::syscall(libc::SYS_getpgid, 0)) != 0) as i32 },
            || unsafe { (libc::syscall(libc::SYS_getpid) <= 0) as i32 },
        ];
        for (i, c) in checks.iter().enumerate() {
            assert_eq!(in_child(&f, *c), 0, "check {i}");
        }
        if std::env::consts::ARCH == "x86_64" {
            let killed = in_child(&f, || unsafe { libc::syscall(0x4000_0000 | libc::SYS_getpid) as i32 });
            assert_eq!(killed, 128 + libc::SIGSYS);
        }
    }

    #[test]
    fn the_strictest_matching_rule_wins() {
        let s: LinuxSeccomp = serde_json::from_str(
            r#"{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
                {"names": ["getppid"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5},
                {"names": ["getppid"], "action": "SCMP_ACT_KILL_PROCESS"},
                {"names": ["getpgid"], "action": "SCMP_ACT_LOG"}]}"#,
        )
        .unwrap();
        let f = compile(&s).unwrap();
        assert_eq!(in_child(&f, || unsafe { libc::syscall(libc::SYS_getppid) as i32 }), 128 + libc::SIGSYS);
        assert_eq!(in_child(&f, || unsafe { (libc::syscall(libc::SYS_getpgid, 0) <= 0) as i32 }), 0);
    }
}
