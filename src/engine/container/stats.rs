//! `stats`: usage samples of running containers — CPU, memory, PIDs and block IO from their
//! cgroups (`runtime::cgroup::stats`) or, for containers without cgroups of their own, from
//! one walk of /proc for all of them; network IO from /proc/PID1/net/dev of each container's
//! namespace — and the rows Podman's `stats` prints and templates see. Reads only.

use super::Container;
use crate::runtime::cgroup;
use std::collections::HashMap;

/// What a container used up to one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Usage {
    pub cpu_ns: u64,
    pub mem_usage: u64,
    /// None: no limit (the machine's memory is shown).
    pub mem_limit: Option<u64>,
    pub pids: u64,
    pub block_read: u64,
    pub block_write: u64,
    /// Received and sent bytes per interface of the container's network namespace.
    pub net: Vec<(String, u64, u64)>,
}

/// One container's usage at `taken_ns` (Unix time, ns).
#[derive(Debug, Clone)]
pub struct Sample {
    pub id: String,
    pub name: String,
    pub running: bool,
    pub usage: Usage,
    pub taken_ns: u64,
    pub started_ns: u64,
}

fn now_ns() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos() as u64).unwrap_or(0)
}

/// Samples `containers` (those not running get zeros).
pub fn sample(containers: &[Container]) -> Vec<Sample> {
    let host = cgroup::detect();
    let running: Vec<(&Container, u32)> =
        containers.iter().filter_map(|c| Some((c, u32::try_from(c.run_pid()?).ok()?))).collect();
    // Containers without cgroups of their own: one pass over /proc for all of them.
    let bare: Vec<u32> = running.iter().filter(|(c, _)| c.kept.cgroup.is_none()).map(|(_, p)| *p).collect();
    let mut from_proc = if bare.is_empty() { HashMap::new() } else { proc_usage(&bare) };
    containers
        .iter()
        .map(|c| {
            let pid = running.iter().find(|(r, _)| r.id == c.id).map(|(_, p)| *p);
            let usage = match pid {
                Some(p) if c.kept.cgroup.is_some() => {
                    let s = cgroup::stats::read(&cgroup::RealFs, &host, p, true);
                    Usage {
                        cpu_ns: s.cpu_ns,
                        mem_usage: s.memory_usage,
                        mem_limit: s.memory_limit,
                        pids: s.pids,
                        block_read: s.block_read,
                        block_write: s.block_write,
                        net: Vec::new(),
                    }
                }
                Some(p) => from_proc.remove(&p).unwrap_or_default(),
                None => Usage::default(),
            };
            let net = match pid {
                Some(p) if c.kept.network != crate::engine::network::NetworkMode::Host => net_dev(p),
                _ => Vec::new(),
            };
            Sample {
                id: c.id.clone(),
                name: c.name.clone(),
                running: pid.is_some(),
                usage: Usage { net, ..usage },
                taken_ns: now_ns(),
                started_ns: c.started_at.map_or(0, |s| s.nanos().max(0) as u64),
            }
        })
        .collect()
}

/// Usage summed over the processes in each PID 1's PID namespace, keyed by PID 1, from one
/// walk of /proc.
fn proc_usage(pid1s: &[u32]) -> HashMap<u32, Usage> {
    let ns_of = |pid: u32| std::fs::read_link(format!("/proc/{pid}/ns/pid")).ok();
    let spaces: Vec<(std::path::PathBuf, u32)> = pid1s.iter().filter_map(|p| Some((ns_of(*p)?, *p))).collect();
    let mut out: HashMap<u32, Usage> = HashMap::new();
    // SAFETY: sysconf with constant names.
    let (tick, page) =
        unsafe { (libc::sysconf(libc::_SC_CLK_TCK).max(1) as u64, libc::sysconf(libc::_SC_PAGESIZE).max(1) as u64) };
    let Ok(entries) = std::fs::read_dir("/proc") else { return out };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let Some(ns) = ns_of(pid) else { continue };
        let Some((_, pid1)) = spaces.iter().find(|(n, _)| *n == ns) else { continue };
        let u = out.entry(*pid1).or_default();
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            u.cpu_ns += stat_ticks(&stat) * 1_000_000_000 / tick;
        }
        if let Ok(statm) = std::fs::read_to_string(format!("/proc/{pid}/statm")) {
            u.mem_usage += statm.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) * page;
        }
        if let Ok(io) = std::fs::read_to_string(format!("/proc/{pid}/io")) {
            let field = |k: &str| io.lines().find_map(|l| l.strip_prefix(k)?.trim().parse::<u64>().ok()).unwrap_or(0);
            u.block_read += field("read_bytes:");
            u.block_write += field("write_bytes:");
        }
        u.pids += 1;
    }
    out
}

/// utime + stime of a /proc/PID/stat text, in clock ticks.
fn stat_ticks(stat: &str) -> u64 {
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    n(11) + n(12)
}

/// Bytes received and sent per interface (loopback left out) in the network namespace of
/// process `pid`.
fn net_dev(pid: u32) -> Vec<(String, u64, u64)> {
    std::fs::read_to_string(format!("/proc/{pid}/net/dev")).map(|t| parse_net_dev(&t)).unwrap_or_default()
}

fn parse_net_dev(text: &str) -> Vec<(String, u64, u64)> {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let name = name.trim();
            let f: Vec<u64> = rest.split_whitespace().filter_map(|v| v.parse().ok()).collect();
            (name != "lo").then(|| Some((name.to_string(), *f.first()?, *f.get(8)?))).flatten()
        })
        .collect()
}

/// The machine's memory, shown as the limit of a container without one (as Podman).
fn total_memory() -> u64 {
    // SAFETY: sysinfo fills the struct we own.
    let mut si: libc::sysinfo = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to our struct.
    if unsafe { libc::sysinfo(&mut si) } != 0 {
        return 0;
    }
    (si.totalram as u64).saturating_mul(si.mem_unit.max(1) as u64)
}

/// Go's `time.Duration` text ("1.5s", "2m3.25s", "250ms", "0s").
pub fn go_duration(ns: u64) -> String {
    fn frac(v: u64, unit: u64, width: usize) -> String {
        let (whole, rest) = (v / unit, v % unit);
        if rest == 0 {
            return whole.to_string();
        }
        let digits = format!("{rest:0width$}");
        format!("{whole}.{}", digits.trim_end_matches('0'))
    }
    match ns {
        0 => "0s".into(),
        n if n < 1_000 => format!("{n}ns"),
        n if n < 1_000_000 => format!("{}µs", frac(n, 1_000, 3)),
        n if n < 1_000_000_000 => format!("{}ms", frac(n, 1_000_000, 6)),
        n => {
            let secs = n / 1_000_000_000;
            let (h, m) = (secs / 3600, secs / 60 % 60);
            let s = frac(n % 60_000_000_000, 1_000_000_000, 9);
            match (h, m) {
                (0, 0) => format!("{s}s"),
                (0, m) => format!("{m}m{s}s"),
                (h, m) => format!("{h}h{m}m{s}s"),
            }
        }
    }
}

/// go-units' BytesSize: binary units, 4 significant digits ("1.5MiB").
fn bytes_size(b: u64) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
    let mut v = b as f64;
    let mut i = 0;
    while v >= 1024.0 && i < units.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    let whole = if v < 1.0 { 1 } else { v.log10().floor() as i32 + 1 };
    let mut s = format!("{v:.prec$}", prec = (4 - whole).max(0) as usize);
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{s}{}", units[i])
}

fn percent(f: f64) -> String {
    format!("{f:.2}%")
}

/// CPU use in percent of one CPU between two points: `cpu` ns used over `wall` ns.
fn cpu_percent(cpu: u64, wall: u64) -> f64 {
    if wall == 0 { 0.0 } else { cpu as f64 / wall as f64 * 100.0 }
}

/// The row Podman's `stats` prints and its templates see (the fields of its
/// `containerStats`): CPU % against `prev` (the same container's last sample; else since its
/// start), AVG CPU % since its start.
pub fn row(s: &Sample, prev: Option<&Sample>, no_trunc: bool) -> serde_json::Value {
    let u = &s.usage;
    let (cpu, avg) = match s.running {
        true => {
            // A restarted container's counters start again: measure from its start then.
            let p = prev.filter(|p| p.usage.cpu_ns <= u.cpu_ns && p.started_ns == s.started_ns);
            let (c0, t0) = p.map_or((0, s.started_ns), |p| (p.usage.cpu_ns, p.taken_ns));
            (
                cpu_percent(u.cpu_ns - c0, s.taken_ns.saturating_sub(t0)),
                cpu_percent(u.cpu_ns, s.taken_ns.saturating_sub(s.started_ns)),
            )
        }
        false => (0.0, 0.0),
    };
    let limit = match s.running {
        true => u.mem_limit.filter(|l| *l > 0).unwrap_or_else(total_memory),
        false => 0,
    };
    let mem_perc = if limit > 0 { u.mem_usage as f64 / limit as f64 * 100.0 } else { 0.0 };
    let (rx, tx) = u.net.iter().fold((0, 0), |(r, t), (_, a, b)| (r + a, t + b));
    let human = crate::util::human_size_compact;
    let network: serde_json::Map<String, serde_json::Value> =
        u.net.iter().map(|(n, r, t)| (n.clone(), serde_json::json!({"RxBytes": r, "TxBytes": t}))).collect();
    let id = if no_trunc { s.id.clone() } else { s.id.chars().take(12).collect() };
    serde_json::json!({
        "ID": id,
        "ContainerID": s.id,
        "Name": s.name,
        "CPUPerc": percent(cpu),
        "CPU": cpu,
        "AVGCPU": percent(avg),
        "AvgCPU": avg,
        "MemUsage": format!("{} / {}", human(u.mem_usage), human(limit)),
        "MemUsageBytes": format!("{} / {}", bytes_size(u.mem_usage), bytes_size(limit)),
        "MemPerc": percent(mem_perc),
        "MemLimit": limit,
        "NetIO": format!("{} / {}", human(rx), human(tx)),
        "Network": network,
        "BlockIO": format!("{} / {}", human(u.block_read), human(u.block_write)),
        "BlockInput": u.block_read,
        "BlockOutput": u.block_write,
        "PIDS": u.pids.to_string(),
        "PIDs": u.pids,
        "UpTime": go_duration(u.cpu_ns),
        "Up": go_duration(u.cpu_ns),
        "CPUNano": u.cpu_ns,
        "Duration": u.cpu_ns,
        "SystemNano": s.taken_ns,
    })
}

/// `stats --format json`: Podman's keys.
pub fn json_row(r: &serde_json::Value) -> serde_json::Value {
    let f = |k: &str| r.get(k).cloned().unwrap_or_default();
    serde_json::json!({
        "id": f("ID"), "name": f("Name"), "cpu_time": f("UpTime"), "cpu_percent": f("CPUPerc"),
        "avg_cpu": f("AVGCPU"), "mem_usage": f("MemUsage"), "mem_percent": f("MemPerc"),
        "net_io": f("NetIO"), "block_io": f("BlockIO"), "pids": f("PIDS"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_as_go_does() {
        assert_eq!(go_duration(0), "0s");
        assert_eq!(go_duration(999), "999ns");
        assert_eq!(go_duration(1_500), "1.5µs");
        assert_eq!(go_duration(250_000_000), "250ms");
        assert_eq!(go_duration(1_500_000_000), "1.5s");
        assert_eq!(go_duration(60_000_000_000), "1m0s");
        assert_eq!(go_duration(123_250_000_000), "2m3.25s");
        assert_eq!(go_duration(3_661_000_000_000), "1h1m1s");
        assert_eq!(bytes_size(1536), "1.5KiB");
        assert_eq!(bytes_size(0), "0B");
    }

    #[test]
    fn net_dev_sums_all_but_loopback() {
        let t = "Inter-|   Receive                                                |  Transmit\n \
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n    \
lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n  \
eth0:    5000      10    0    0    0     0          0         0     7000      12    0    0    0     0       0          0\n";
        assert_eq!(parse_net_dev(t), vec![("eth0".to_string(), 5000, 7000)]);
    }

    #[test]
    fn rows_have_podmans_columns() {
        let s = Sample {
            id: "0123456789abcdef".into(),
            name: "web".into(),
            running: true,
            usage: Usage {
                cpu_ns: 2_000_000_000,
                mem_usage: 64 << 20,
                mem_limit: Some(128 << 20),
                pids: 3,
                net: vec![("eth0".into(), 1000, 2000)],
                ..Default::default()
            },
            taken_ns: 14_000_000_000,
            started_ns: 10_000_000_000,
        };
        let r = row(&s, None, false);
        assert_eq!(r["ID"], "0123456789ab");
        assert_eq!(r["CPUPerc"], "50.00%", "2 s of CPU in 4 s since the start");
        assert_eq!(r["MemPerc"], "50.00%");
        assert_eq!(r["MemUsage"], "67.11MB / 134.2MB");
        assert_eq!(r["NetIO"], "1kB / 2kB");
        assert_eq!((r["PIDS"].as_str(), r["UpTime"].as_str()), (Some("3"), Some("2s")));
        let mut later = s.clone();
        later.usage.cpu_ns += 1_000_000_000;
        later.taken_ns += 4_000_000_000;
        assert_eq!(row(&later, Some(&s), false)["CPUPerc"], "25.00%");
        assert_eq!(json_row(&r)["cpu_percent"], "50.00%");
    }

    #[test]
    fn one_walk_of_proc_finds_our_own_namespace() {
        let me = std::process::id();
        let u = proc_usage(&[me]).remove(&me).unwrap();
        assert!(u.pids >= 1 && u.mem_usage > 0, "{u:?}");
    }
}
