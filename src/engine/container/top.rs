//! `top CTR [DESCRIPTOR...]`: a running container's processes, found through its PID
//! namespace in the host's /proc, in the columns of psgo's descriptors (Podman's `top`:
//! `pid`, `user`, `args`, `comm`, `etime`, ... or the AIX codes `%p`, `%U` ...). Users and
//! groups are named by the container's own /etc/passwd and /etc/group. Reads only.

use super::ContainerError;
use crate::engine::Context;

/// One column `top` can show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Descriptor {
    Pcpu,
    Group,
    Groups,
    Ppid,
    User,
    Uid,
    Args,
    Comm,
    Rgroup,
    Nice,
    Pid,
    Pgid,
    Etime,
    Ruser,
    Time,
    Tty,
    Vsz,
    CapAmb,
    CapInh,
    CapPrm,
    CapEff,
    CapBnd,
    Seccomp,
    Label,
    Hpid,
    Huser,
    Huid,
    Hgroup,
    Hgroups,
    Rss,
    State,
    Stime,
}

use Descriptor as D;

/// (descriptor, AIX code, name, heading), in psgo's order.
const TABLE: &[(Descriptor, &str, &str, &str)] = &[
    (D::Pcpu, "%C", "pcpu", "%CPU"),
    (D::Group, "%G", "group", "GROUP"),
    (D::Groups, "", "groups", "GROUPS"),
    (D::Ppid, "%P", "ppid", "PPID"),
    (D::User, "%U", "user", "USER"),
    (D::Uid, "", "uid", "UID"),
    (D::Args, "%a", "args", "COMMAND"),
    (D::Comm, "%c", "comm", "COMMAND"),
    (D::Rgroup, "%g", "rgroup", "RGROUP"),
    (D::Nice, "%n", "nice", "NI"),
    (D::Pid, "%p", "pid", "PID"),
    (D::Pgid, "%r", "pgid", "PGID"),
    (D::Etime, "%t", "etime", "ELAPSED"),
    (D::Ruser, "%u", "ruser", "RUSER"),
    (D::Time, "%x", "time", "TIME"),
    (D::Tty, "%y", "tty", "TTY"),
    (D::Vsz, "%z", "vsz", "VSZ"),
    (D::CapAmb, "", "capamb", "AMBIENT CAPS"),
    (D::CapInh, "", "capinh", "INHERITED CAPS"),
    (D::CapPrm, "", "capprm", "PERMITTED CAPS"),
    (D::CapEff, "", "capeff", "EFFECTIVE CAPS"),
    (D::CapBnd, "", "capbnd", "BOUNDING CAPS"),
    (D::Seccomp, "", "seccomp", "SECCOMP"),
    (D::Label, "", "label", "LABEL"),
    (D::Hpid, "", "hpid", "HPID"),
    (D::Huser, "", "huser", "HUSER"),
    (D::Huid, "", "huid", "HUID"),
    (D::Hgroup, "", "hgroup", "HGROUP"),
    (D::Hgroups, "", "hgroups", "HGROUPS"),
    (D::Rss, "", "rss", "RSS"),
    (D::State, "", "state", "STATE"),
    (D::Stime, "", "stime", "STIME"),
];

/// Podman's default columns.
pub const DEFAULT: &[Descriptor] = &[D::User, D::Pid, D::Ppid, D::Pcpu, D::Etime, D::Tty, D::Time, D::Args];

impl Descriptor {
    pub fn heading(self) -> &'static str {
        TABLE.iter().find(|(d, ..)| *d == self).map_or("", |t| t.3)
    }

    fn needs_users(self) -> bool {
        matches!(self, D::User | D::Ruser | D::Group | D::Rgroup | D::Groups)
    }
}

/// The descriptors as given (each argument may hold several, separated by commas or
/// spaces); none given: Podman's default.
pub fn parse_descriptors(given: &[String]) -> Result<Vec<Descriptor>, ContainerError> {
    let words: Vec<&str> = given.iter().flat_map(|g| g.split([',', ' '])).filter(|w| !w.is_empty()).collect();
    if words.is_empty() {
        return Ok(DEFAULT.to_vec());
    }
    words
        .iter()
        .map(|w| {
            TABLE
                .iter()
                .find(|(_, code, name, _)| *name == *w || (!code.is_empty() && code == w))
                .map(|t| t.0)
                .ok_or_else(|| {
                    let names: Vec<&str> = TABLE.iter().map(|t| t.2).collect();
                    ContainerError::Invalid(format!("unknown descriptor \"{w}\": use {}", names.join(", ")))
                })
        })
        .collect()
}

/// What `top` prints: headings and a row per process.
#[derive(Debug)]
pub struct Table {
    pub headings: Vec<&'static str>,
    pub rows: Vec<Vec<String>>,
}

/// One process as /proc shows it.
struct Proc {
    host_pid: u32,
    stat: Vec<String>,
    status: String,
    cmdline: Vec<u8>,
    label: String,
}

impl Proc {
    fn read(host_pid: u32) -> Option<Proc> {
        let stat_text = std::fs::read_to_string(format!("/proc/{host_pid}/stat")).ok()?;
        let (head, rest) = stat_text.rsplit_once(')')?;
        // stat[0] is the state (field 3); comm (field 2) goes last.
        let mut stat: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
        stat.push(head.split_once('(').map(|(_, c)| c.to_string()).unwrap_or_default());
        Some(Proc {
            host_pid,
            stat,
            status: std::fs::read_to_string(format!("/proc/{host_pid}/status")).ok()?,
            cmdline: std::fs::read(format!("/proc/{host_pid}/cmdline")).unwrap_or_default(),
            label: std::fs::read_to_string(format!("/proc/{host_pid}/attr/current"))
                .map(|s| s.trim_end_matches(['\0', '\n']).to_string())
                .unwrap_or_default(),
        })
    }

    /// A /proc/PID/stat field by its number in proc(5) (3 = state).
    fn stat_num(&self, field: usize) -> u64 {
        self.stat.get(field.wrapping_sub(3)).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    fn status(&self, key: &str) -> &str {
        self.status.lines().find_map(|l| l.strip_prefix(key)?.strip_prefix(':')).map(str::trim).unwrap_or("")
    }

    /// The `n`th number of a status line (Uid: real effective saved fs).
    fn status_id(&self, key: &str, n: usize) -> u32 {
        self.status(key).split_whitespace().nth(n).and_then(|v| v.parse().ok()).unwrap_or(0)
    }

    /// The last value of an NS... line: the ID as the container sees it.
    fn ns_last(&self, key: &str) -> String {
        self.status(key).split_whitespace().last().unwrap_or("0").to_string()
    }
}

/// What every row needs: the container's ID maps, its users and groups, the clock.
struct Env {
    uid_map: String,
    gid_map: String,
    users: super::users::UserDb,
    hz: u64,
    boot: i64,
    now: f64,
}

/// The container's processes in the columns `desc`.
pub fn top(ctx: &Context, id: &str, desc: &[Descriptor]) -> Result<Table, ContainerError> {
    let c = super::lifecycle::reload(ctx, id)?;
    let Some(pid1) = c.run_pid() else {
        return Err(ContainerError::Invalid(format!("container {} is not running; start it first", c.name)));
    };
    let ns = std::fs::read_link(format!("/proc/{pid1}/ns/pid"))
        .map_err(|e| ContainerError::Invalid(format!("cannot read the PID namespace of container {}: {e}", c.name)))?;
    let users = match desc.iter().any(|d| d.needs_users()) {
        true => super::users::UserDb::from_process(pid1 as u32)?,
        false => Default::default(),
    };
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let env = Env {
        uid_map: std::fs::read_to_string(format!("/proc/{pid1}/uid_map")).unwrap_or_default(),
        gid_map: std::fs::read_to_string(format!("/proc/{pid1}/gid_map")).unwrap_or_default(),
        users,
        // SAFETY: sysconf with a constant.
        hz: unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64,
        boot: stat.lines().find_map(|l| l.strip_prefix("btime ")?.trim().parse().ok()).unwrap_or(0),
        now: std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64()),
    };
    let mut procs = Vec::new();
    for e in std::fs::read_dir("/proc").map_err(|e| ContainerError::io("cannot read", "/proc", e))?.flatten() {
        let Some(host_pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if std::fs::read_link(format!("/proc/{host_pid}/ns/pid")).ok().as_ref() != Some(&ns) {
            continue;
        }
        procs.extend(Proc::read(host_pid));
    }
    procs.sort_by_key(|p| p.ns_last("NSpid").parse::<u64>().unwrap_or(0));
    let rows = procs.iter().map(|p| desc.iter().map(|d| cell(p, *d, &env, &ns)).collect()).collect();
    Ok(Table { headings: desc.iter().map(|d| d.heading()).collect(), rows })
}

/// One column of one process.
fn cell(p: &Proc, d: Descriptor, env: &Env, ns: &std::path::Path) -> String {
    let start = env.boot as f64 + p.stat_num(22) as f64 / env.hz as f64;
    let elapsed = (env.now - start).max(0.0);
    let cpu_secs = (p.stat_num(14) + p.stat_num(15)) / env.hz;
    let uid = |n: usize| inside_id(&env.uid_map, p.status_id("Uid", n));
    let gid = |n: usize| inside_id(&env.gid_map, p.status_id("Gid", n));
    let user = |u: u32| env.users.name_of(u).unwrap_or_else(|| u.to_string());
    let group = |g: u32| group_name(&env.users.group, g).unwrap_or_else(|| g.to_string());
    let groups = |inside: bool| {
        let list: Vec<String> = p
            .status("Groups")
            .split_whitespace()
            .filter_map(|g| g.parse::<u32>().ok())
            .map(|g| if inside { group(inside_id(&env.gid_map, g)) } else { host_group(g) })
            .collect();
        list.join(",")
    };
    match d {
        D::Pcpu => format!("{:.3}", if elapsed > 0.0 { 100.0 * cpu_secs as f64 / elapsed } else { 0.0 }),
        D::Group => group(gid(1)),
        D::Groups => groups(true),
        D::Ppid => ns_ppid(p.stat_num(4), ns),
        D::User => user(uid(1)),
        D::Uid => uid(1).to_string(),
        D::Args => match p.cmdline.is_empty() {
            true => format!("[{}]", p.status("Name")),
            false => String::from_utf8_lossy(&p.cmdline).trim_end_matches('\0').replace('\0', " "),
        },
        D::Comm => p.stat.last().cloned().unwrap_or_default(),
        D::Rgroup => group(gid(0)),
        D::Nice => p.stat.get(19 - 3).cloned().unwrap_or_default(),
        D::Pid => p.ns_last("NSpid"),
        D::Pgid => p.ns_last("NSpgid"),
        D::Etime => super::stats::go_duration(elapsed as u64 * 1_000_000_000),
        D::Ruser => user(uid(0)),
        D::Time => super::stats::go_duration(cpu_secs * 1_000_000_000),
        D::Tty => tty(p.stat_num(7)),
        D::Vsz => (p.stat_num(23) / 1024).to_string(),
        D::CapAmb => caps(p.status("CapAmb")),
        D::CapInh => caps(p.status("CapInh")),
        D::CapPrm => caps(p.status("CapPrm")),
        D::CapEff => caps(p.status("CapEff")),
        D::CapBnd => caps(p.status("CapBnd")),
        D::Seccomp => match p.status("Seccomp") {
            "0" => "disabled",
            "1" => "strict",
            "2" => "filter",
            _ => "?",
        }
        .to_string(),
        D::Label => p.label.clone(),
        D::Hpid => p.host_pid.to_string(),
        D::Huser => host_user(p.status_id("Uid", 1)),
        D::Huid => p.status_id("Uid", 1).to_string(),
        D::Hgroup => host_group(p.status_id("Gid", 1)),
        D::Hgroups => groups(false),
        // SAFETY: sysconf with a constant.
        D::Rss => (p.stat_num(24) * unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(1) as u64 / 1024).to_string(),
        D::State => p.stat.first().cloned().unwrap_or_default(),
        D::Stime => chrono::DateTime::from_timestamp(start as i64, 0)
            .map(|t| t.with_timezone(&chrono::Local).format("%Y-%m-%d %H:%M:%S %z").to_string())
            .unwrap_or_default(),
    }
}

/// The parent's PID as the container sees it (0 when the parent is outside).
fn ns_ppid(host_ppid: u64, ns: &std::path::Path) -> String {
    let inside = std::fs::read_link(format!("/proc/{host_ppid}/ns/pid")).ok().is_some_and(|l| l == ns);
    let nspid = || {
        let s = std::fs::read_to_string(format!("/proc/{host_ppid}/status")).ok()?;
        s.lines().find_map(|l| l.strip_prefix("NSpid:"))?.split_whitespace().last().map(str::to_string)
    };
    if inside { nspid().unwrap_or_else(|| "0".into()) } else { "0".into() }
}

/// The terminal of a tty_nr ("pts/N", "?" for none).
fn tty(nr: u64) -> String {
    let (major, minor) = ((nr >> 8) & 0xfff, (nr & 0xff) | ((nr >> 12) & 0xfff00));
    match (nr, major) {
        (0, _) => "?".into(),
        (_, 136..=143) => format!("pts/{}", (major - 136) * 256 + minor),
        (_, 4) if minor < 64 => format!("tty{minor}"),
        _ => "?".into(),
    }
}

/// Capability names of a hex mask, as psgo prints them ("full", "none", or a sorted list).
fn caps(hex: &str) -> String {
    const NAMES: [&str; 41] = [
        "CHOWN",
        "DAC_OVERRIDE",
        "DAC_READ_SEARCH",
        "FOWNER",
        "FSETID",
        "KILL",
        "SETGID",
        "SETUID",
        "SETPCAP",
        "LINUX_IMMUTABLE",
        "NET_BIND_SERVICE",
        "NET_BROADCAST",
        "NET_ADMIN",
        "NET_RAW",
        "IPC_LOCK",
        "IPC_OWNER",
        "SYS_MODULE",
        "SYS_RAWIO",
        "SYS_CHROOT",
        "SYS_PTRACE",
        "SYS_PACCT",
        "SYS_ADMIN",
        "SYS_BOOT",
        "SYS_NICE",
        "SYS_RESOURCE",
        "SYS_TIME",
        "SYS_TTY_CONFIG",
        "MKNOD",
        "LEASE",
        "AUDIT_WRITE",
        "AUDIT_CONTROL",
        "SETFCAP",
        "MAC_OVERRIDE",
        "MAC_ADMIN",
        "SYSLOG",
        "WAKE_ALARM",
        "BLOCK_SUSPEND",
        "AUDIT_READ",
        "PERFMON",
        "BPF",
        "CHECKPOINT_RESTORE",
    ];
    let Ok(mask) = u64::from_str_radix(hex, 16) else { return "?".into() };
    if mask == (1 << NAMES.len()) - 1 {
        return "full".into();
    }
    let mut names: Vec<&str> =
        (0..64).filter(|i| mask >> i & 1 == 1).map(|i| NAMES.get(i).copied().unwrap_or("unknown")).collect();
    if names.is_empty() {
        return "none".into();
    }
    names.sort_unstable();
    names.join(",")
}

/// The name of group `gid` in a group file's text.
fn group_name(group: &str, gid: u32) -> Option<String> {
    group.lines().find_map(|l| {
        let f: Vec<&str> = l.split(':').collect();
        (f.get(2)?.parse::<u32>().ok()? == gid).then(|| f.first().map(|n| n.to_string())).flatten()
    })
}

fn host_user(uid: u32) -> String {
    nix::unistd::User::from_uid(uid.into()).ok().flatten().map_or_else(|| uid.to_string(), |u| u.name)
}

fn host_group(gid: u32) -> String {
    nix::unistd::Group::from_gid(gid.into()).ok().flatten().map_or_else(|| gid.to_string(), |g| g.name)
}

/// The container's view of a host ID, through an ID map as /proc shows it ("inside outside
/// count" lines); 65534 (nobody) when unmapped.
fn inside_id(map: &str, host: u32) -> u32 {
    map.lines()
        .find_map(|l| {
            let f: Vec<u32> = l.split_whitespace().filter_map(|v| v.parse().ok()).collect();
            let (inside, outside, count) = (*f.first()?, *f.get(1)?, *f.get(2)?);
            (host >= outside && host - outside < count).then(|| inside + (host - outside))
        })
        .unwrap_or(65534)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_ids_map_back_inside() {
        let map = "         0       1000          1\n         1     100000      65536\n";
        assert_eq!(inside_id(map, 1000), 0);
        assert_eq!(inside_id(map, 100999), 1000);
        assert_eq!(inside_id(map, 5), 65534);
    }

    #[test]
    fn descriptors_parse_as_podman_takes_them() {
        let p = |v: &[&str]| parse_descriptors(&v.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(p(&["pid,comm,args"]).unwrap(), vec![D::Pid, D::Comm, D::Args]);
        assert_eq!(p(&["pid", "%U", "hpid"]).unwrap(), vec![D::Pid, D::User, D::Hpid]);
        assert_eq!(p(&[]).unwrap(), DEFAULT.to_vec());
        let e = p(&["pid,bogus"]).unwrap_err().to_string();
        assert!(e.starts_with("unknown descriptor \"bogus\": use pcpu, group,") && !e.contains('\n'), "{e}");
        assert_eq!(D::Comm.heading(), "COMMAND");
        assert_eq!(D::Etime.heading(), "ELAPSED");
    }

    #[test]
    fn columns_from_proc_texts() {
        assert_eq!(caps("0000000000000000"), "none");
        assert_eq!(caps("000001ffffffffff"), "full");
        assert_eq!(caps("0000000000000003"), "CHOWN,DAC_OVERRIDE");
        assert_eq!(tty(0), "?");
        assert_eq!(tty(136 << 8), "pts/0");
        assert_eq!(tty((136 << 8) | 3), "pts/3");
        assert_eq!(group_name("root:x:0:\nstaff:x:50:a\n", 50).as_deref(), Some("staff"));
        // Our own process, read as top reads container processes.
        let me = Proc::read(std::process::id()).unwrap();
        assert_eq!(
            me.stat.last().map(String::as_str),
            std::fs::read_to_string("/proc/self/comm").ok().as_deref().map(str::trim)
        );
        assert!(me.stat_num(22) > 0, "start time");
        assert_eq!(me.ns_last("NSpid"), std::process::id().to_string());
    }
}
