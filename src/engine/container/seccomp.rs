//! `--security-opt` and the container's seccomp section: parses the options, reads Docker/Podman
//! format profiles (the default one from seccomp_default.rs, or `seccomp=FILE`), and filters a
//! profile to the container's capabilities and architecture into the OCI `linux.seccomp`.
//! Does not compile or load filters (the runtime does).

use super::ContainerError;
use super::seccomp_default::{self as table, Act, Cmp};
use crate::runtime::cap_name;
use oci_spec::runtime::{
    Arch, Capability, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg, LinuxSeccompArgBuilder,
    LinuxSeccompFilterFlag, LinuxSeccompOperator, LinuxSyscall,
};
use serde::Deserialize;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

/// Which seccomp profile a container gets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SeccompChoice {
    #[default]
    Default,
    Unconfined,
    File(PathBuf),
}

/// The parsed `--security-opt` values.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecurityOpts {
    pub no_new_privileges: bool,
    pub seccomp: SeccompChoice,
}

impl SecurityOpts {
    /// Podman's spellings: `no-new-privileges[=true|false]`, `seccomp=unconfined|FILE`;
    /// `label=disable` and `apparmor=unconfined` are accepted as what kiste does anyway.
    pub fn parse(opts: &[String]) -> Result<SecurityOpts, ContainerError> {
        let mut out = SecurityOpts::default();
        for o in opts {
            let (key, val) = match o.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (o.as_str(), None),
            };
            match (key, val) {
                ("no-new-privileges", None | Some("true")) => out.no_new_privileges = true,
                ("no-new-privileges", Some("false")) => out.no_new_privileges = false,
                ("seccomp", Some("unconfined")) => out.seccomp = SeccompChoice::Unconfined,
                ("seccomp", Some(f)) if !f.is_empty() => out.seccomp = SeccompChoice::File(PathBuf::from(f)),
                ("label", Some("disable")) | ("apparmor", Some("unconfined")) => {}
                _ => {
                    return Err(ContainerError::Invalid(format!(
                        "invalid --security-opt \"{o}\": use no-new-privileges, seccomp=unconfined or seccomp=PROFILE.json"
                    )));
                }
            }
        }
        Ok(out)
    }
}

/// A seccomp profile in Docker's / Podman's JSON format (a superset of the OCI section).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    default_action: Option<LinuxSeccompAction>,
    default_errno_ret: Option<u32>,
    architectures: Option<Vec<Arch>>,
    arch_map: Option<Vec<ArchMap>>,
    flags: Option<Vec<LinuxSeccompFilterFlag>>,
    listener_path: Option<String>,
    syscalls: Option<Vec<Syscall>>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ArchMap {
    architecture: Arch,
    sub_architectures: Option<Vec<Arch>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Syscall {
    name: Option<String>,
    names: Option<Vec<String>>,
    action: Option<LinuxSeccompAction>,
    errno_ret: Option<u32>,
    args: Option<Vec<Arg>>,
    includes: Option<Filter>,
    excludes: Option<Filter>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Arg {
    index: usize,
    value: u64,
    #[serde(default)]
    value_two: u64,
    op: LinuxSeccompOperator,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Filter {
    caps: Option<Vec<String>>,
    arches: Option<Vec<String>>,
    min_kernel: Option<String>,
}

/// The host as a profile sees it.
pub struct Target {
    /// Go's name of the architecture (amd64, arm64), as profiles' includes/excludes use it.
    pub go_arch: &'static str,
    pub arch: Arch,
    pub kernel: Option<(u32, u32)>,
}

impl Target {
    pub fn host() -> Target {
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").ok().and_then(|r| kernel_version(&r));
        match std::env::consts::ARCH {
            "aarch64" => Target { go_arch: "arm64", arch: Arch::ScmpArchAarch64, kernel },
            _ => Target { go_arch: "amd64", arch: Arch::ScmpArchX86_64, kernel },
        }
    }
}

/// "6.1.0-18-amd64" -> (6, 1)
fn kernel_version(s: &str) -> Option<(u32, u32)> {
    let mut it = s.trim().split(['.', '-', '+']);
    let major = it.next()?.parse().ok()?;
    let minor = it.next().and_then(|m| m.parse().ok()).unwrap_or(0);
    Some((major, minor))
}

/// The default profile as a `Profile`.
pub fn default_profile() -> Profile {
    let syscalls = table::RULES
        .iter()
        .map(|r| {
            let (action, errno_ret) = match r.action {
                Act::Allow => (LinuxSeccompAction::ScmpActAllow, None),
                Act::Errno(e) => (LinuxSeccompAction::ScmpActErrno, Some(e)),
            };
            let strings = |v: &[&str]| (!v.is_empty()).then(|| v.iter().map(|s| s.to_string()).collect());
            let args = r
                .args
                .iter()
                .map(|c| {
                    let (index, value, value_two, op) = match *c {
                        Cmp::Eq(i, v) => (i, v, 0, LinuxSeccompOperator::ScmpCmpEq),
                        Cmp::Ne(i, v) => (i, v, 0, LinuxSeccompOperator::ScmpCmpNe),
                        Cmp::MaskedEq(i, m, v) => (i, m, v, LinuxSeccompOperator::ScmpCmpMaskedEq),
                    };
                    Arg { index: index as usize, value, value_two, op }
                })
                .collect();
            Syscall {
                names: strings(r.names),
                action: Some(action),
                errno_ret,
                args: Some(args),
                includes: Some(Filter {
                    caps: strings(r.caps),
                    arches: strings(r.arches),
                    min_kernel: r.min_kernel.map(|(a, b)| format!("{a}.{b}")),
                }),
                excludes: Some(Filter { caps: strings(r.without_caps), ..Filter::default() }),
                ..Syscall::default()
            }
        })
        .collect();
    Profile {
        default_action: Some(LinuxSeccompAction::ScmpActErrno),
        default_errno_ret: Some(table::DEFAULT_ERRNO),
        arch_map: Some(vec![
            ArchMap {
                architecture: Arch::ScmpArchX86_64,
                sub_architectures: Some(vec![Arch::ScmpArchX86, Arch::ScmpArchX32]),
            },
            ArchMap { architecture: Arch::ScmpArchAarch64, sub_architectures: Some(vec![Arch::ScmpArchArm]) },
        ]),
        syscalls: Some(syscalls),
        ..Profile::default()
    }
}

/// Reads a profile file; every problem is one line naming the file.
pub fn read_profile(path: &Path) -> Result<Profile, ContainerError> {
    let bad = |m: String| ContainerError::Invalid(format!("seccomp profile {}: {m}", path.display()));
    let text = std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}")))?;
    let p: Profile = serde_json::from_slice(&text).map_err(|e| bad(format!("not a valid profile: {e}")))?;
    p.validate().map_err(bad)?;
    Ok(p)
}

impl Profile {
    fn validate(&self) -> Result<(), String> {
        if self.architectures.as_ref().is_some_and(|a| !a.is_empty())
            && self.arch_map.as_ref().is_some_and(|a| !a.is_empty())
        {
            return Err("both \"architectures\" and \"archMap\" are given; use one".into());
        }
        if self.listener_path.is_some() {
            return Err("\"listenerPath\" (SCMP_ACT_NOTIFY agents) is not supported".into());
        }
        let syscalls = self.syscalls.as_deref().unwrap_or_default();
        if self.default_action.is_none() && !syscalls.is_empty() {
            return Err("\"defaultAction\" is missing".into());
        }
        check_action(self.default_action.unwrap_or_default(), self.default_errno_ret, "defaultAction")?;
        for (i, s) in syscalls.iter().enumerate() {
            let what = format!("syscalls[{i}]");
            match (&s.name, s.names.as_deref().unwrap_or_default()) {
                (Some(_), [_, ..]) => return Err(format!("{what}: both \"name\" and \"names\" are given; use one")),
                (None, []) => return Err(format!("{what}: no syscall names")),
                _ => {}
            }
            let Some(action) = s.action else { return Err(format!("{what}: \"action\" is missing")) };
            check_action(action, s.errno_ret, &what)?;
            for a in s.args.as_deref().unwrap_or_default() {
                if a.index > 5 {
                    return Err(format!("{what}: argument index {} is out of range (0-5)", a.index));
                }
            }
            for f in [&s.includes, &s.excludes].into_iter().flatten() {
                if let Some(k) = &f.min_kernel
                    && kernel_version(k).is_none()
                {
                    return Err(format!("{what}: minKernel \"{k}\" is not a kernel version"));
                }
            }
            if s.excludes.as_ref().is_some_and(|e| e.min_kernel.is_some()) {
                return Err(format!("{what}: \"minKernel\" in \"excludes\" is not supported"));
            }
        }
        Ok(())
    }

    /// The OCI section for a container with bounding capabilities `caps` on `target`, the way
    /// Podman and Docker filter a profile: an entry counts when the container has all of its
    /// `includes.caps`, none of its `excludes.caps`, and the architecture and kernel match.
    /// `None` for an empty profile (no default action and no syscalls: unconfined).
    pub fn resolve(&self, caps: &HashSet<Capability>, target: &Target) -> Option<LinuxSeccomp> {
        let syscalls = self.syscalls.as_deref().unwrap_or_default();
        let default_action = self.default_action?;
        let caps: HashSet<String> = caps.iter().map(cap_name).collect();
        let has = |c: &String| caps.contains(&c.to_uppercase());
        let mut arches = self.architectures.clone().unwrap_or_default();
        for m in self.arch_map.iter().flatten().filter(|m| m.architecture == target.arch) {
            arches.push(m.architecture);
            arches.extend(m.sub_architectures.iter().flatten().copied());
        }
        let mut out = Vec::new();
        for s in syscalls {
            let empty = Filter::default();
            let (inc, exc) = (s.includes.as_ref().unwrap_or(&empty), s.excludes.as_ref().unwrap_or(&empty));
            if exc.arches.iter().flatten().any(|a| a == target.go_arch)
                || exc.caps.iter().flatten().any(has)
                || inc.arches.as_ref().is_some_and(|a| !a.is_empty() && !a.iter().any(|a| a == target.go_arch))
                || !inc.caps.iter().flatten().all(has)
            {
                continue;
            }
            if let (Some(min), Some(kernel)) = (inc.min_kernel.as_deref().and_then(kernel_version), target.kernel)
                && kernel < min
            {
                continue;
            }
            let names = match &s.name {
                Some(n) => vec![n.clone()],
                None => s.names.clone().unwrap_or_default(),
            };
            let args: Vec<LinuxSeccompArg> = s
                .args
                .iter()
                .flatten()
                .map(|a| {
                    let arg = LinuxSeccompArgBuilder::default().index(a.index).value(a.value).op(a.op);
                    let arg = if a.value_two != 0 || a.op == LinuxSeccompOperator::ScmpCmpMaskedEq {
                        arg.value_two(a.value_two)
                    } else {
                        arg
                    };
                    arg.build().unwrap_or_default()
                })
                .collect();
            let mut call = LinuxSyscall::default();
            call.set_names(names)
                .set_action(s.action.unwrap_or_default())
                .set_errno_ret(s.errno_ret)
                .set_args((!args.is_empty()).then_some(args));
            out.push(call);
        }
        let mut section = LinuxSeccomp::default();
        section
            .set_default_action(default_action)
            .set_default_errno_ret(self.default_errno_ret)
            .set_architectures((!arches.is_empty()).then_some(arches))
            .set_flags(self.flags.clone().filter(|f| !f.is_empty()))
            .set_syscalls(Some(out));
        Some(section)
    }
}

fn check_action(a: LinuxSeccompAction, errno: Option<u32>, what: &str) -> Result<(), String> {
    match a {
        LinuxSeccompAction::ScmpActNotify => Err(format!("{what}: SCMP_ACT_NOTIFY is not supported")),
        LinuxSeccompAction::ScmpActErrno | LinuxSeccompAction::ScmpActTrace => Ok(()),
        _ if errno.is_some() => {
            Err(format!("{what}: an errno return is only valid with SCMP_ACT_ERRNO or SCMP_ACT_TRACE"))
        }
        _ => Ok(()),
    }
}

/// The `linux.seccomp` section for a container: none when unconfined (asked, or `--privileged`
/// without an explicit profile, as Podman does), else the chosen profile filtered to `caps`
/// (the bounding set: what the container's processes can ever hold).
pub fn section(
    opts: &SecurityOpts,
    privileged: bool,
    caps: &HashSet<Capability>,
) -> Result<Option<LinuxSeccomp>, ContainerError> {
    let target = Target::host();
    Ok(match &opts.seccomp {
        SeccompChoice::Unconfined => None,
        SeccompChoice::Default if privileged => None,
        SeccompChoice::Default => default_profile().resolve(caps, &target),
        SeccompChoice::File(f) => read_profile(f)?.resolve(caps, &target),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amd64() -> Target {
        Target { go_arch: "amd64", arch: Arch::ScmpArchX86_64, kernel: Some((6, 1)) }
    }

    fn caps(names: &[&str]) -> HashSet<Capability> {
        names.iter().map(|n| n.parse().unwrap()).collect()
    }

    /// Every (name, action, errno, args) the section gives for `name`.
    fn rules_for(s: &LinuxSeccomp, name: &str) -> Vec<(LinuxSeccompAction, Option<u32>, Vec<LinuxSeccompArg>)> {
        s.syscalls()
            .iter()
            .flatten()
            .filter(|c| c.names().iter().any(|n| n == name))
            .map(|c| (c.action(), c.errno_ret(), c.args().clone().unwrap_or_default()))
            .collect()
    }

    const PODMAN_DEFAULT: &[&str] = &[
        "CHOWN",
        "DAC_OVERRIDE",
        "FOWNER",
        "FSETID",
        "KILL",
        "NET_BIND_SERVICE",
        "SETFCAP",
        "SETGID",
        "SETPCAP",
        "SETUID",
        "SYS_CHROOT",
    ];

    #[test]
    fn default_profile_for_default_caps() {
        let s = default_profile().resolve(&caps(PODMAN_DEFAULT), &amd64()).unwrap();
        assert_eq!(s.default_action(), LinuxSeccompAction::ScmpActErrno);
        assert_eq!(s.default_errno_ret(), Some(1));
        assert_eq!(
            s.architectures().clone().unwrap(),
            vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
        );
        assert_eq!(rules_for(&s, "read").len(), 1);
        assert_eq!(rules_for(&s, "arch_prctl").len(), 1, "amd64 only entries are in");
        assert!(rules_for(&s, "set_tls").is_empty(), "arm only entries are out");
        // CAP_SYS_CHROOT is a default capability; CAP_SYS_ADMIN, CAP_SYS_PTRACE are not.
        assert_eq!(rules_for(&s, "chroot").len(), 1);
        for n in ["mount", "umount2", "unshare", "setns", "kcmp", "reboot", "open_by_handle_at"] {
            assert!(rules_for(&s, n).is_empty(), "{n} is not allowed");
        }
        // ptrace is allowed from kernel 4.8 on (by the minKernel entry), not by CAP_SYS_PTRACE.
        assert_eq!(rules_for(&s, "ptrace").len(), 1);
        // clone without namespace flags; clone3 says ENOSYS.
        let clone = rules_for(&s, "clone");
        assert_eq!(clone.len(), 1);
        assert_eq!(clone[0].2[0].op(), LinuxSeccompOperator::ScmpCmpMaskedEq);
        assert_eq!(clone[0].2[0].value(), 0x7E02_0000);
        assert_eq!(clone[0].2[0].value_two(), Some(0));
        assert_eq!(rules_for(&s, "clone3"), vec![(LinuxSeccompAction::ScmpActErrno, Some(38), vec![])]);
        // socket: all families but AF_VSOCK; personality: five values.
        let socket = rules_for(&s, "socket");
        assert_eq!((socket[0].2[0].op(), socket[0].2[0].value()), (LinuxSeccompOperator::ScmpCmpNe, 40));
        assert_eq!(rules_for(&s, "personality").len(), 5);
    }

    #[test]
    fn capabilities_add_their_syscalls() {
        let mut c = caps(PODMAN_DEFAULT);
        c.insert(Capability::SysAdmin);
        c.insert(Capability::SysPtrace);
        c.remove(&Capability::SysChroot);
        let s = default_profile().resolve(&c, &amd64()).unwrap();
        for n in ["mount", "umount2", "unshare", "setns", "kcmp", "pidfd_getfd"] {
            assert_eq!(rules_for(&s, n).len(), 1, "{n}");
        }
        assert!(rules_for(&s, "chroot").is_empty(), "dropped CAP_SYS_CHROOT takes chroot");
        // With CAP_SYS_ADMIN clone and clone3 are allowed outright.
        assert_eq!(rules_for(&s, "clone"), vec![(LinuxSeccompAction::ScmpActAllow, None, vec![])]);
        assert_eq!(rules_for(&s, "clone3"), vec![(LinuxSeccompAction::ScmpActAllow, None, vec![])]);
    }

    #[test]
    fn architecture_and_kernel_filters() {
        let arm = Target { go_arch: "arm64", arch: Arch::ScmpArchAarch64, kernel: Some((4, 4)) };
        let s = default_profile().resolve(&caps(PODMAN_DEFAULT), &arm).unwrap();
        assert_eq!(s.architectures().clone().unwrap(), vec![Arch::ScmpArchAarch64, Arch::ScmpArchArm]);
        assert!(rules_for(&s, "arch_prctl").is_empty());
        assert_eq!(rules_for(&s, "set_tls").len(), 1);
        assert!(rules_for(&s, "ptrace").is_empty(), "kernel 4.4 is older than the entry's 4.8");
        assert_eq!(kernel_version("6.18.44-fc-v669"), Some((6, 18)));
        assert_eq!(kernel_version("5.10"), Some((5, 10)));
        assert_eq!(kernel_version("x"), None);
    }

    fn parse(json: &str) -> Result<Profile, String> {
        let p: Profile = serde_json::from_str(json).map_err(|e| e.to_string())?;
        p.validate()?;
        Ok(p)
    }

    #[test]
    fn docker_format_converts() {
        let p = parse(
            r#"{
                "defaultAction": "SCMP_ACT_ERRNO",
                "defaultErrnoRet": 38,
                "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]},
                            {"architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null}],
                "syscalls": [
                    {"names": ["read", "write"], "action": "SCMP_ACT_ALLOW", "args": null, "comment": ""},
                    {"name": "socket", "action": "SCMP_ACT_ERRNO", "errnoRet": 22,
                     "args": [{"index": 0, "value": 16, "valueTwo": 0, "op": "SCMP_CMP_EQ"}],
                     "excludes": {"caps": ["CAP_AUDIT_WRITE"]}},
                    {"names": ["mount"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_ADMIN"]}},
                    {"names": ["modify_ldt"], "action": "SCMP_ACT_ALLOW", "includes": {"arches": ["arm64"]}},
                    {"names": ["kcmp"], "action": "SCMP_ACT_LOG", "includes": {"minKernel": "4.8"}}
                ]
            }"#,
        )
        .unwrap();
        let s = p.resolve(&caps(PODMAN_DEFAULT), &amd64()).unwrap();
        assert_eq!(s.default_errno_ret(), Some(38));
        assert_eq!(s.architectures().clone().unwrap(), vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86]);
        let names: Vec<Vec<String>> = s.syscalls().iter().flatten().map(|c| c.names().clone()).collect();
        assert_eq!(names, vec![vec!["read".to_string(), "write".into()], vec!["socket".into()], vec!["kcmp".into()]]);
        let socket = &rules_for(&s, "socket")[0];
        assert_eq!((socket.0, socket.1, socket.2[0].value_two()), (LinuxSeccompAction::ScmpActErrno, Some(22), None));
        // With CAP_AUDIT_WRITE the socket entry goes.
        let s = p.resolve(&caps(&["AUDIT_WRITE"]), &amd64()).unwrap();
        assert!(rules_for(&s, "socket").is_empty());
        // The section is valid OCI: it survives a round trip through serde.
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(serde_json::from_str::<LinuxSeccomp>(&json).unwrap(), s);
    }

    #[test]
    fn empty_profile_is_unconfined() {
        assert!(parse("{}").unwrap().resolve(&HashSet::new(), &amd64()).is_none());
    }

    #[test]
    fn bad_profiles_are_refused() {
        for (json, says) in [
            ("[", "EOF"),
            (r#"{"defaultAction": "SCMP_ACT_FOO"}"#, "unknown variant"),
            (
                r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOPE"}]}"#,
                "unknown variant",
            ),
            (r#"{"syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW"}]}"#, "defaultAction"),
            (r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"action": "SCMP_ACT_ALLOW"}]}"#, "no syscall names"),
            (
                r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"name": "a", "names": ["b"], "action": "SCMP_ACT_ALLOW"}]}"#,
                "both",
            ),
            (r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a"]}]}"#, "action"),
            (
                r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}"#,
                "out of range",
            ),
            (
                r#"{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_SOMETIMES"}]}]}"#,
                "unknown variant",
            ),
            (
                r#"{"defaultAction": "SCMP_ACT_ALLOW", "errnoRet": 1, "syscalls": [{"names": ["a"], "action": "SCMP_ACT_NOTIFY"}]}"#,
                "NOTIFY",
            ),
            (
                r#"{"defaultAction": "SCMP_ACT_KILL", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]}"#,
                "errno",
            ),
            (
                r#"{"defaultAction": "SCMP_ACT_KILL", "architectures": ["SCMP_ARCH_X86_64"], "archMap": [{"architecture": "SCMP_ARCH_X86_64"}]}"#,
                "archMap",
            ),
            (
                r#"{"defaultAction": "SCMP_ACT_KILL", "syscalls": [{"names": ["a"], "action": "SCMP_ACT_ALLOW", "includes": {"minKernel": "new"}}]}"#,
                "minKernel",
            ),
        ] {
            let e = parse(json).map(|_| ()).unwrap_err();
            assert!(e.contains(says), "{json}: {e}");
        }
    }

    #[test]
    fn security_opts() {
        let s = |v: &[&str]| SecurityOpts::parse(&v.iter().map(|x| x.to_string()).collect::<Vec<_>>());
        assert_eq!(s(&[]).unwrap(), SecurityOpts::default());
        let o = s(&["no-new-privileges", "seccomp=unconfined"]).unwrap();
        assert!(o.no_new_privileges);
        assert_eq!(o.seccomp, SeccompChoice::Unconfined);
        assert!(!s(&["no-new-privileges=true", "no-new-privileges=false"]).unwrap().no_new_privileges);
        assert_eq!(s(&["seccomp=/p.json"]).unwrap().seccomp, SeccompChoice::File("/p.json".into()));
        assert!(s(&["label=disable", "apparmor=unconfined"]).is_ok());
        for bad in ["seccomp", "seccomp=", "no-new-privileges=maybe", "mask=/x", "label=type:x"] {
            assert!(s(&[bad]).unwrap_err().to_string().contains(bad), "{bad}");
        }
    }

    #[test]
    fn privileged_is_unconfined_unless_a_profile_is_named() {
        let all = caps(PODMAN_DEFAULT);
        assert!(section(&SecurityOpts::default(), true, &all).unwrap().is_none());
        assert!(section(&SecurityOpts::default(), false, &all).unwrap().is_some());
        let o = SecurityOpts { seccomp: SeccompChoice::Unconfined, ..SecurityOpts::default() };
        assert!(section(&o, false, &all).unwrap().is_none());
        let o = SecurityOpts { seccomp: SeccompChoice::File("/nonexistent/p.json".into()), ..SecurityOpts::default() };
        let e = section(&o, true, &all).unwrap_err().to_string();
        assert!(e.contains("/nonexistent/p.json") && !e.contains('\n'), "{e}");
    }
}
