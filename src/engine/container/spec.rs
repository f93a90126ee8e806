//! Run options + image config -> the OCI runtime spec (config.json) of a container: command
//! (entrypoint/cmd), environment, user, working directory, namespaces, ID mappings, mounts,
//! Podman's default capabilities, masked paths. Pure: users come resolved-ready (`users::UserDb`).

use super::ContainerError;
use super::users::UserDb;
use crate::storage::idmap::IdMapping;
use oci_spec::runtime::{
    Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxIdMappingBuilder, LinuxNamespaceBuilder,
    LinuxNamespaceType, MountBuilder, ProcessBuilder, RootBuilder, Spec, UserBuilder,
};
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

/// What `run`/`create` were asked for.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub name: Option<String>,
    pub image: String,
    pub command: Vec<String>,
    pub entrypoint: Option<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub hostname: Option<String>,
    pub rm: bool,
    pub read_only: bool,
    /// `--network`: none, host, pasta, slirp4netns, container:NAME or a network's name; empty
    /// for the default.
    pub network: String,
    /// `--network-alias`: more names on the user-defined network.
    pub network_aliases: Vec<String>,
    /// `--ip`: a fixed address on the user-defined network.
    pub ip: Option<String>,
    /// `-p`: published ports as given.
    pub publish: Vec<String>,
    /// `-P`: every exposed port to a free host port.
    pub publish_all: bool,
    /// `--expose PORT[/PROTO]`, added to the image's ExposedPorts.
    pub expose: Vec<String>,
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    /// `--add-host NAME:IP`.
    pub add_hosts: Vec<String>,
    /// `--no-hosts`: the image's /etc/hosts stays.
    pub no_hosts: bool,
    pub labels: Vec<String>,
    pub stop_signal: Option<String>,
    pub stop_timeout: Option<u64>,
    pub replace: bool,
    pub privileged: bool,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
    pub tty: bool,
    pub interactive: bool,
    /// `--group-add`: extra groups, names from the image's /etc/group or numbers.
    pub group_add: Vec<String>,
    /// `--annotation KEY=VALUE`.
    pub annotations: Vec<String>,
    /// `--ulimit NAME=SOFT[:HARD]`.
    pub ulimits: Vec<String>,
    /// `--sysctl KEY=VALUE` as given, and containers.conf's defaults (container::sysctl).
    pub sysctls: Vec<String>,
    pub default_sysctls: Vec<String>,
    /// `--domainname`: the UTS namespace's NIS domain name.
    pub domainname: Option<String>,
    /// `--tmpfs PATH[:OPTIONS]`.
    pub tmpfs: Vec<String>,
    /// `--shm-size`: size of /dev/shm.
    pub shm_size: Option<String>,
    /// `--init`: a tiny init as PID 1 that forwards signals and reaps zombies.
    pub init: bool,
    /// `--userns`: "" or "host" (the default mapping), or "keep-id".
    pub userns: Option<String>,
    /// `--security-opt`: no-new-privileges, seccomp=unconfined|FILE.
    pub security_opt: Vec<String>,
    /// `-v`, `--mount`, `--volumes-from` as given (container::mounts parses them).
    pub volumes: Vec<String>,
    pub mounts: Vec<String>,
    pub volumes_from: Vec<String>,
    /// `--image-volume`: bind (the default), tmpfs or ignore.
    pub image_volume: Option<String>,
    /// `--read-only-tmpfs`: with `--read-only`, tmpfs on /run, /tmp and /var/tmp.
    pub read_only_tmpfs: bool,
    /// Set by the image builder: the PID of the build that runs this container (one of its
    /// steps), which `ps` shows only with `--external`.
    pub builder: Option<u32>,
    /// More mounts, as the runtime takes them (the builder's RUN --mount and scripts).
    pub extra_mounts: Vec<oci_spec::runtime::Mount>,
    /// Resource limits and cgroup options (`--memory`, `--cpus`, `--cgroups` ...), checked.
    pub limits: super::limits::Limits,
    // Podman-compatibility options (`compat.rs`) and containers.conf defaults (`defaults.rs`).
    /// `--tz`: local, or a zone of /usr/share/zoneinfo.
    pub tz: Option<String>,
    /// `--umask` (or containers.conf's), octal; 0022 when unset.
    pub umask: Option<String>,
    /// Variables under the image's: containers.conf `env`, the host's proxy variables,
    /// `--env-host` (filled by `defaults::apply`).
    pub base_env: Vec<String>,
    /// `--env-host`: kiste's whole environment goes in.
    pub env_host: bool,
    /// `--http-proxy`: the host's proxy variables go in (default yes).
    pub http_proxy: Option<bool>,
    /// `--passwd-entry`, `--group-entry` templates; `--hostuser` names.
    pub passwd_entry: Option<String>,
    pub group_entry: Option<String>,
    pub hostusers: Vec<String>,
    /// `--log-driver`, `--log-opt`.
    pub log_driver: Option<String>,
    pub log_opts: Vec<String>,
    /// `--requires`: containers started before this one.
    pub requires: Vec<String>,
    /// `--sdnotify`.
    pub sdnotify: Option<String>,
    /// `--timeout`: seconds the container may run before it is killed.
    pub timeout: Option<u64>,
    /// containers.conf `default_capabilities` (instead of Podman's list), from `defaults`.
    pub default_caps: Option<Vec<String>>,
    /// `--cidfile` as given (`ps` shows it).
    pub cidfile: Option<String>,
    /// `--health-*` as given (combined with the image's HEALTHCHECK at create).
    pub health: super::health::HealthArgs,
    /// `--restart`, checked.
    pub restart: super::restart::RestartPolicy,
}

/// Docker's `--ulimit` names and their OCI rlimit types.
const ULIMITS: [(&str, &str); 16] = [
    ("as", "RLIMIT_AS"),
    ("core", "RLIMIT_CORE"),
    ("cpu", "RLIMIT_CPU"),
    ("data", "RLIMIT_DATA"),
    ("fsize", "RLIMIT_FSIZE"),
    ("locks", "RLIMIT_LOCKS"),
    ("memlock", "RLIMIT_MEMLOCK"),
    ("msgqueue", "RLIMIT_MSGQUEUE"),
    ("nice", "RLIMIT_NICE"),
    ("nofile", "RLIMIT_NOFILE"),
    ("nproc", "RLIMIT_NPROC"),
    ("rss", "RLIMIT_RSS"),
    ("rtprio", "RLIMIT_RTPRIO"),
    ("rttime", "RLIMIT_RTTIME"),
    ("sigpending", "RLIMIT_SIGPENDING"),
    ("stack", "RLIMIT_STACK"),
];

/// Parses `--ulimit NAME=SOFT[:HARD]` (-1 = unlimited) into an OCI rlimit.
pub fn parse_ulimit(s: &str) -> Result<oci_spec::runtime::PosixRlimit, ContainerError> {
    let bad = |why: &str| ContainerError::Invalid(format!("invalid --ulimit \"{s}\": {why}"));
    let (name, vals) = s.split_once('=').ok_or_else(|| bad("use NAME=SOFT[:HARD], e.g. nofile=1024:2048"))?;
    let typ = ULIMITS
        .iter()
        .find(|(n, _)| *n == name)
        .ok_or_else(|| bad("unknown limit name; use one of as, core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack"))?
        .1;
    let num = |v: &str| -> Result<u64, ContainerError> {
        match v {
            "-1" | "unlimited" => Ok(u64::MAX),
            v => v.parse::<u64>().map_err(|_| bad("limits are numbers or -1")),
        }
    };
    let (soft, hard) = match vals.split_once(':') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => (num(vals)?, num(vals)?),
    };
    if soft > hard {
        return Err(bad("the soft limit is above the hard limit"));
    }
    oci_spec::runtime::PosixRlimitBuilder::default()
        .typ(typ.parse::<oci_spec::runtime::PosixRlimitType>().map_err(|_| bad("unknown limit"))?)
        .soft(soft)
        .hard(hard)
        .build()
        .map_err(|e| bad(&e.to_string()))
}

/// Parses a size as Docker does (`64m`, `1g`, `65536k`, `1024`, binary units) into bytes.
pub fn parse_size(s: &str) -> Option<u64> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1u64 << 10),
        'm' => (&t[..t.len() - 1], 1 << 20),
        'g' => (&t[..t.len() - 1], 1 << 30),
        't' => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num.parse().ok().filter(|n: &f64| n.is_finite() && *n >= 0.0)?;
    Some((n * mult as f64) as u64)
}

/// Parses `--tmpfs PATH[:OPTIONS]` into a mount with Podman's defaults.
fn tmpfs_mount(s: &str) -> Result<oci_spec::runtime::Mount, ContainerError> {
    let (path, opts) = s.split_once(':').unwrap_or((s, ""));
    if !path.starts_with('/') {
        return Err(ContainerError::Invalid(format!(
            "invalid --tmpfs \"{s}\": the path must be absolute, e.g. --tmpfs /run:size=64m"
        )));
    }
    let mut options: Vec<String> = vec!["rw".into(), "noexec".into(), "nosuid".into(), "nodev".into()];
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        let key = o.split('=').next().unwrap_or(o);
        let opposite = match key {
            "exec" => Some("noexec"),
            "noexec" => Some("exec"),
            "suid" => Some("nosuid"),
            "nosuid" => Some("suid"),
            "dev" => Some("nodev"),
            "nodev" => Some("dev"),
            "ro" => Some("rw"),
            "rw" => Some("ro"),
            _ => None,
        };
        options.retain(|x| Some(x.as_str()) != opposite && x.split('=').next() != Some(key));
        options.push(o.to_string());
    }
    MountBuilder::default()
        .destination(PathBuf::from(path))
        .typ("tmpfs")
        .source("tmpfs")
        .options(options)
        .build()
        .map_err(|e| ContainerError::Invalid(format!("invalid --tmpfs \"{s}\": {e}")))
}

/// Podman's default capabilities for containers.
const DEFAULT_CAPS: [&str; 11] = [
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_NET_BIND_SERVICE",
    "CAP_SETFCAP",
    "CAP_SETGID",
    "CAP_SETPCAP",
    "CAP_SETUID",
    "CAP_SYS_CHROOT",
];

/// The process arguments as Docker combines entrypoint and command.
pub fn command(image_ep: &[String], image_cmd: &[String], entrypoint: Option<&str>, cmd: &[String]) -> Vec<String> {
    let ep: Vec<String> = match entrypoint {
        Some("") => vec![],
        Some(e) => vec![e.to_string()],
        None => image_ep.to_vec(),
    };
    let rest: Vec<String> = if !cmd.is_empty() {
        cmd.to_vec()
    } else if entrypoint.is_some() {
        vec![]
    } else {
        image_cmd.to_vec()
    };
    ep.into_iter().chain(rest).collect()
}

fn cap(name: &str) -> Result<Capability, ContainerError> {
    let n = name.to_uppercase();
    n.trim_start_matches("CAP_")
        .parse::<Capability>()
        .map_err(|_| ContainerError::Invalid(format!("unknown capability \"{name}\"")))
}

/// Everything the spec needs besides the options.
pub struct SpecInput<'a> {
    pub opts: &'a RunOptions,
    pub image: &'a oci_spec::image::ImageConfiguration,
    pub id: &'a str,
    pub idmap: &'a IdMapping,
    /// Overlay lower dirs, top first (the image's layers, then kiste's base).
    pub layers: &'a [PathBuf],
    /// The image's /etc/passwd and /etc/group (read from its layers).
    pub users: &'a UserDb,
    /// `--userns=keep-id` (from `keep_id`).
    pub keep_id: bool,
    pub ctr_dir: &'a Path,
    pub overlay_mode: &'a str,
    /// The network mode resolved at create.
    pub network: &'a crate::engine::network::NetworkMode,
    pub args: Vec<String>,
    /// Storage mounts (volumes, binds, tmpfs, images) from container::mounts.
    pub mounts: &'a [oci_spec::runtime::Mount],
    /// Where the limits go (`limits::setup`): resources, cgroupsPath, cgroup namespace.
    pub cgroup: &'a super::limits::CgroupSetup,
}

/// Whether the options ask for `--userns=keep-id`; refuses other modes.
pub fn keep_id(o: &RunOptions, idmap: &IdMapping) -> Result<bool, ContainerError> {
    match o.userns.as_deref() {
        None | Some("") | Some("host") => Ok(false),
        Some("keep-id") => {
            if idmap.is_rootful() {
                return Err(ContainerError::Invalid("--userns=keep-id is for rootless use; run without it".into()));
            }
            let fits = |own, r: Option<crate::storage::idmap::IdRange>| {
                r.and_then(|r| IdMapping::keep_id_map(own, r)).is_some()
            };
            if !fits(idmap.uid, idmap.subuid) || !fits(idmap.gid, idmap.subgid) {
                return Err(ContainerError::Invalid(format!(
                    "--userns=keep-id needs subuid and subgid ranges of more than {} IDs for user {}; widen them in /etc/subuid and /etc/subgid",
                    idmap.uid.max(idmap.gid),
                    idmap.user
                )));
            }
            Ok(true)
        }
        Some(other) => Err(ContainerError::Invalid(format!("unsupported --userns \"{other}\": use keep-id or host"))),
    }
}

/// The keep-id maps of a user whose ranges `keep_id` accepted.
fn keep_id_maps(idmap: &IdMapping) -> crate::storage::idmap::Maps {
    let map = |own, r: Option<crate::storage::idmap::IdRange>| {
        r.and_then(|r| IdMapping::keep_id_map(own, r)).unwrap_or_else(|| IdMapping::default_map(own, r))
    };
    crate::storage::idmap::Maps { uid: map(idmap.uid, idmap.subuid), gid: map(idmap.gid, idmap.subgid) }
}

/// The keep-id user's home, inside as outside (as Podman).
fn keep_id_home() -> String {
    std::env::var("HOME").ok().filter(|h| h.starts_with('/')).unwrap_or_else(|| "/".into())
}

/// The /etc/passwd of a keep-id container: the image's, with the user under its own name.
pub fn keep_id_passwd(users: &UserDb, idmap: &IdMapping) -> String {
    let own = idmap.uid.to_string();
    let mut out: String =
        users.passwd.lines().filter(|l| l.split(':').nth(2) != Some(own.as_str())).map(|l| format!("{l}\n")).collect();
    out.push_str(&format!("{}:*:{}:{}::{}:/bin/sh\n", idmap.user, idmap.uid, idmap.gid, keep_id_home()));
    out
}

/// fuse-overlayfs options that show the layers (stored with the default mapping) with the
/// right owners inside a keep-id user namespace: image root (stored as the user) is 0, image
/// ID n (stored as subordinate ID n-1, which keep-id numbers n-1 below the user's ID and n
/// above it) is n.
fn keep_id_fuse_options(uid: u32, gid: u32, uids: u32, gids: u32) -> String {
    // Triples are ID-as-stored (seen in the namespace) : ID-shown : count.
    let m = |own: u32, count: u32| format!("{own}:0:1:0:1:{own}:{}:{}:{}", own + 1, own + 1, count - own);
    format!("noacl,uidmapping={},gidmapping={}", m(uid, uids), m(gid, gids))
}

pub fn build(inp: &SpecInput) -> Result<Spec, ContainerError> {
    let o = inp.opts;
    let cfg = inp.image.config().clone().unwrap_or_default();
    let bad = |e: oci_spec::OciSpecError| ContainerError::Invalid(format!("cannot build the runtime spec: {e}"));
    let keep_id = inp.keep_id;
    let user_spec =
        o.user.clone().or_else(|| cfg.user().clone().filter(|u| !u.is_empty())).unwrap_or_else(|| "0".into());
    let (uid, gid) =
        if keep_id && o.user.is_none() { (inp.idmap.uid, inp.idmap.gid) } else { inp.users.resolve(&user_spec)? };
    let hostname = o.hostname.clone().unwrap_or_else(|| inp.id[..12].to_string());
    // HOME is in the spec (as Podman does) rather than left to the runtime: runc sets it
    // from the image's /etc/passwd when missing, kiste's runtime does not.
    let default_path = vec![
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".to_string(),
        format!("HOME={}", if keep_id && o.user.is_none() { keep_id_home() } else { inp.users.home_of(uid) }),
    ];
    let image_env = cfg.env().clone().unwrap_or_default();
    let mut extra = vec![format!("HOSTNAME={hostname}"), "container=kiste".to_string()];
    if o.tty {
        extra.push("TERM=xterm".to_string());
    }
    let env = crate::util::merge_env(&[&default_path, &o.base_env, &image_env, &extra, &o.env]);
    let cwd =
        o.workdir.clone().or_else(|| cfg.working_dir().clone().filter(|w| !w.is_empty())).unwrap_or_else(|| "/".into());

    let mut caps: HashSet<Capability> = match &o.default_caps {
        Some(list) => list.iter().map(|c| cap(c)).collect::<Result<_, _>>()?,
        None => DEFAULT_CAPS.iter().map(|c| cap(c)).collect::<Result<_, _>>()?,
    };
    if o.privileged {
        caps = crate::runtime::CAP_NAMES.iter().filter_map(|c| cap(c).ok()).collect();
    }
    for c in &o.cap_add {
        if c.eq_ignore_ascii_case("all") {
            caps = crate::runtime::CAP_NAMES.iter().filter_map(|c| cap(c).ok()).collect();
        } else {
            caps.insert(cap(c)?);
        }
    }
    for c in &o.cap_drop {
        if c.eq_ignore_ascii_case("all") {
            caps.clear();
        } else {
            caps.remove(&cap(c)?);
        }
    }
    let security = super::seccomp::SecurityOpts::parse(&o.security_opt)?;
    let seccomp = super::seccomp::section(&security, o.privileged, &caps)?;
    let running = if uid == 0 { caps.clone() } else { HashSet::new() };
    let capabilities = LinuxCapabilitiesBuilder::default()
        .bounding(caps.clone())
        .effective(running.clone())
        .permitted(running.clone())
        .inheritable(HashSet::new())
        .ambient(HashSet::new())
        .build()
        .map_err(bad)?;
    let process = ProcessBuilder::default()
        .terminal(o.tty)
        .args(inp.args.clone())
        .env(env)
        .cwd(PathBuf::from(&cwd))
        .user(
            UserBuilder::default()
                .uid(uid)
                .gid(gid)
                .additional_gids(inp.users.groups(&o.group_add)?)
                .umask(parse_umask(o.umask.as_deref())?)
                .build()
                .map_err(bad)?,
        )
        .rlimits(o.ulimits.iter().map(|u| parse_ulimit(u)).collect::<Result<Vec<_>, _>>()?)
        .capabilities(capabilities)
        .no_new_privileges(security.no_new_privileges)
        .build()
        .map_err(bad)?;
    let mut process = process;
    process.set_oom_score_adj(super::limits::check_oom_score_adj(&o.limits, inp.idmap)?);

    let mut namespaces =
        vec![LinuxNamespaceType::Pid, LinuxNamespaceType::Ipc, LinuxNamespaceType::Uts, LinuxNamespaceType::Mount];
    if *inp.network != crate::engine::network::NetworkMode::Host {
        namespaces.push(LinuxNamespaceType::Network);
    }
    let rootless = !inp.idmap.is_rootful();
    if rootless {
        namespaces.push(LinuxNamespaceType::User);
    }
    if inp.cgroup.cgroupns_private {
        namespaces.push(LinuxNamespaceType::Cgroup);
    }
    let namespaces = namespaces
        .into_iter()
        .map(|t| LinuxNamespaceBuilder::default().typ(t).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad)?;
    let oci_map = |m: Vec<crate::storage::idmap::Triple>| -> Result<Vec<_>, ContainerError> {
        m.into_iter()
            .map(|(c, h, n)| LinuxIdMappingBuilder::default().container_id(c).host_id(h).size(n).build().map_err(bad))
            .collect()
    };
    let mut linux = LinuxBuilder::default().namespaces(namespaces);
    if rootless {
        let maps = if inp.keep_id { keep_id_maps(inp.idmap) } else { inp.idmap.maps() };
        linux = linux.uid_mappings(oci_map(maps.uid)?).gid_mappings(oci_map(maps.gid)?);
    }
    let defaults = oci_spec::runtime::Linux::default();
    if let Some(s) = seccomp {
        linux = linux.seccomp(s);
    }
    let linux = linux
        .masked_paths(defaults.masked_paths().clone().unwrap_or_default())
        .readonly_paths(defaults.readonly_paths().clone().unwrap_or_default())
        .build()
        .map_err(bad)?;
    // The builder's default adds an empty `resources` section: without limits there is none
    // (a runtime such as runc would otherwise try to manage cgroups for nothing).
    let mut linux = linux;
    linux.set_resources(inp.cgroup.resources.clone());
    linux.set_cgroups_path(inp.cgroup.cgroups_path.as_ref().map(PathBuf::from));
    let sysctls = super::sysctl::resolve(&o.default_sysctls, &o.sysctls, inp.network)?;
    linux.set_sysctl((!sysctls.is_empty()).then(|| sysctls.into_iter().collect()));

    let mut mounts: Vec<oci_spec::runtime::Mount> =
        oci_spec::runtime::get_default_mounts().into_iter().filter(|m| m.typ().as_deref() != Some("cgroup")).collect();
    if rootless && *inp.network == crate::engine::network::NetworkMode::Host {
        // A user namespace may mount sysfs only with a network namespace of its own: without
        // one, bind the host's /sys read-only, as rootless Podman does.
        for m in mounts.iter_mut().filter(|m| m.typ().as_deref() == Some("sysfs")) {
            *m = MountBuilder::default()
                .destination(PathBuf::from("/sys"))
                .typ("bind")
                .source(PathBuf::from("/sys"))
                .options(["rprivate", "nosuid", "noexec", "nodev", "ro", "rbind"].map(String::from).to_vec())
                .build()
                .map_err(bad)?;
        }
    }
    if let Some(size) = &o.shm_size {
        let bytes = parse_size(size).filter(|b| *b > 0).ok_or_else(|| {
            ContainerError::Invalid(format!("invalid --shm-size \"{size}\": use a size such as 64m or 1g"))
        })?;
        for m in mounts.iter_mut().filter(|m| m.destination() == Path::new("/dev/shm")) {
            let mut opts: Vec<String> =
                m.options().clone().unwrap_or_default().into_iter().filter(|o| !o.starts_with("size=")).collect();
            opts.push(format!("size={}k", bytes.div_ceil(1024)));
            m.set_options(Some(opts));
        }
    }
    for t in &o.tmpfs {
        let m = tmpfs_mount(t)?;
        mounts.retain(|x| x.destination() != m.destination());
        mounts.push(m);
    }
    mounts.extend(o.extra_mounts.iter().cloned());
    let userdata = inp.ctr_dir.join("userdata");
    let mut binds = vec![];
    if keep_id {
        binds.push(("passwd", "/etc/passwd"));
    }
    if !o.no_hosts {
        binds.push(("hosts", "/etc/hosts"));
    }
    for m in inp.mounts {
        mounts.retain(|x| x.destination() != m.destination());
        mounts.push(m.clone());
    }
    for (file, dest) in binds.into_iter().chain([
        ("hostname", "/etc/hostname"),
        ("resolv.conf", "/etc/resolv.conf"),
        (".containerenv", "/run/.containerenv"),
    ]) {
        if inp.mounts.iter().any(|m| m.destination() == Path::new(dest)) {
            continue; // the user's own file there wins
        }
        mounts.push(
            MountBuilder::default()
                .destination(PathBuf::from(dest))
                .typ("bind")
                .source(userdata.join(file))
                .options(vec!["rbind".to_string(), "rprivate".to_string()])
                .build()
                .map_err(bad)?,
        );
    }
    if !inp.mounts.is_empty() {
        // Parents before children (stable: the runtime's own order within a depth stays).
        mounts.sort_by_key(|m| m.destination().components().count());
    }
    let mut annotations = HashMap::new();
    let lower: Vec<String> = inp.layers.iter().map(|p| p.display().to_string()).collect();
    annotations.insert(crate::runtime::ANN_LOWER.to_string(), lower.join(":"));
    annotations.insert(
        crate::runtime::ANN_UPPER.to_string(),
        format!("{}:{}", inp.ctr_dir.join("diff").display(), inp.ctr_dir.join("work").display()),
    );
    if keep_id {
        // Only fuse-overlayfs can show the layers with other owners to a rootless user.
        annotations.insert(crate::runtime::ANN_OVERLAY_MODE.to_string(), "fuse".to_string());
        let count = |r: Option<crate::storage::idmap::IdRange>| r.map_or(0, |r| r.count);
        annotations.insert(
            crate::runtime::ANN_FUSE_OPTIONS.to_string(),
            keep_id_fuse_options(inp.idmap.uid, inp.idmap.gid, count(inp.idmap.subuid), count(inp.idmap.subgid)),
        );
    } else {
        annotations.insert(crate::runtime::ANN_OVERLAY_MODE.to_string(), inp.overlay_mode.to_string());
        if o.rm {
            annotations.insert(crate::runtime::ANN_VOLATILE.to_string(), "1".to_string());
        }
    }
    for a in &o.annotations {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| ContainerError::Invalid(format!("invalid --annotation \"{a}\": use KEY=VALUE")))?;
        annotations.insert(k.to_string(), v.to_string());
    }
    if o.init {
        annotations.insert(crate::runtime::ANN_INIT.to_string(), "1".to_string());
    }
    let mut spec = Spec::default();
    spec.set_hostname(Some(hostname))
        .set_domainname(o.domainname.clone())
        .set_root(Some(
            RootBuilder::default().path(inp.ctr_dir.join("merged")).readonly(o.read_only).build().map_err(bad)?,
        ))
        .set_process(Some(process))
        .set_linux(Some(linux))
        .set_mounts(Some(mounts))
        .set_annotations(Some(annotations));
    Ok(spec)
}

/// `--umask`: up to four octal digits (Podman's default 0022 when unset).
pub fn parse_umask(v: Option<&str>) -> Result<u32, ContainerError> {
    let Some(v) = v else { return Ok(0o022) };
    crate::util::octal_umask(v)
        .ok_or_else(|| ContainerError::Invalid(format!("invalid umask \"{v}\": use an octal mask such as 0022")))
}

#[cfg(test)]
mod tests {

    #[test]
    fn umask_is_octal_up_to_0777() {
        assert_eq!(parse_umask(None).unwrap(), 0o022);
        assert_eq!(parse_umask(Some("0077")).unwrap(), 0o077);
        assert_eq!(parse_umask(Some("7")).unwrap(), 0o007);
        for bad in ["", "0088", "1777", "abc", "00777"] {
            assert!(parse_umask(Some(bad)).unwrap_err().to_string().contains("invalid umask"), "{bad}");
        }
    }

    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn entrypoint_and_cmd_combine_like_docker() {
        assert_eq!(command(&s(&["/ep"]), &s(&["a"]), None, &[]), s(&["/ep", "a"]));
        assert_eq!(command(&s(&["/ep"]), &s(&["a"]), None, &s(&["b"])), s(&["/ep", "b"]));
        assert_eq!(command(&s(&["/ep"]), &s(&["a"]), Some("/x"), &[]), s(&["/x"]));
        assert_eq!(command(&[], &s(&["sh"]), Some(""), &s(&["ls"])), s(&["ls"]));
        assert_eq!(command(&[], &s(&["sh"]), None, &[]), s(&["sh"]));
    }

    #[test]
    fn ulimits_sizes_and_tmpfs_parse_like_docker() {
        let r = parse_ulimit("nofile=1024:2048").unwrap();
        assert_eq!((r.typ().to_string(), r.soft(), r.hard()), ("RLIMIT_NOFILE".into(), 1024, 2048));
        assert_eq!(parse_ulimit("core=-1").unwrap().soft(), u64::MAX);
        assert!(parse_ulimit("nofile=2048:1024").is_err());
        assert!(parse_ulimit("bogus=1").unwrap_err().to_string().contains("bogus"));
        assert!(parse_ulimit("nofile").is_err());
        assert_eq!(parse_size("64m"), Some(64 << 20));
        assert_eq!(parse_size("65536k"), Some(64 << 20));
        assert_eq!(parse_size("1GB"), Some(1 << 30));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("abc"), None);
        let m = tmpfs_mount("/scratch:size=1m,exec").unwrap();
        let o = m.options().clone().unwrap();
        assert!(o.contains(&"exec".to_string()) && !o.contains(&"noexec".to_string()), "{o:?}");
        assert!(o.contains(&"size=1m".to_string()));
        assert!(tmpfs_mount("relative").is_err());
    }

    #[test]
    fn rootless_spec_has_home_no_cgroup_section_and_binds_sys_without_a_network_namespace() {
        use crate::storage::idmap::{IdMapping, IdRange};
        let idmap = IdMapping {
            uid: 1000,
            gid: 1000,
            user: "u".into(),
            subuid: Some(IdRange { start: 100000, count: 65536 }),
            subgid: Some(IdRange { start: 100000, count: 65536 }),
            shared_userns: None,
        };
        let image = oci_spec::image::ImageConfiguration::default();
        let spec_for = |network: crate::engine::network::NetworkMode| {
            let opts = RunOptions::default();
            build(&SpecInput {
                opts: &opts,
                image: &image,
                id: "0123456789abcdef",
                idmap: &idmap,
                layers: &[],
                users: &UserDb::default(),
                keep_id: false,
                ctr_dir: Path::new("/nonexistent"),
                overlay_mode: "native",
                network: &network,
                args: s(&["true"]),
                mounts: &[],
                cgroup: &Default::default(),
            })
            .unwrap()
        };
        let sys = |spec: &Spec| {
            let m = spec.mounts().clone().unwrap().into_iter().find(|m| m.destination() == Path::new("/sys")).unwrap();
            (m.typ().clone().unwrap(), m.options().clone().unwrap_or_default())
        };
        let own = spec_for(crate::engine::network::NetworkMode::None);
        assert!(own.linux().as_ref().unwrap().resources().is_none());
        assert!(own.process().as_ref().unwrap().env().as_ref().unwrap().contains(&"HOME=/".to_string()));
        assert_eq!(sys(&own).0, "sysfs");
        let (typ, opts) = sys(&spec_for(crate::engine::network::NetworkMode::Host));
        assert_eq!(typ, "bind");
        assert!(opts.contains(&"rbind".to_string()) && opts.contains(&"ro".to_string()), "{opts:?}");
    }

    #[test]
    fn env_later_wins_keeping_order() {
        let a = s(&["PATH=/bin", "A=1"]);
        let b = s(&["A=2", "B=3"]);
        assert_eq!(crate::util::merge_env(&[&a, &b]), s(&["PATH=/bin", "A=2", "B=3"]));
    }
}
