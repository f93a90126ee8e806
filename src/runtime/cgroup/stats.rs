//! Resource usage of a running container for `stats`: from its cgroup(s) where it has them
//! (found through /proc/PID1/cgroup, so systemd scopes too), else — value by value — from
//! /proc, summed over the processes in PID 1's PID namespace. The second way needs no
//! delegation at all.

// The reading side of `kiste stats` (issue 15, to come): not called by a command yet.
#![allow(dead_code)]

use super::fs::{CgroupFs, under};
use super::{Host, Version};
use std::path::{Path, PathBuf};

/// Where a number came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
pub enum Source {
    #[default]
    Cgroup,
    Proc,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Stats {
    /// CPU time used, nanoseconds.
    pub cpu_ns: u64,
    /// Memory in use (without reclaimable page cache, as docker and podman count it).
    pub memory_usage: u64,
    /// The memory limit, None when unlimited.
    pub memory_limit: Option<u64>,
    pub pids: u64,
    pub block_read: u64,
    pub block_write: u64,
    /// Where the CPU and memory numbers came from.
    pub source: Source,
}

/// The value of `key` in a "key value" per line text (memory.stat, oom_control, cpu.stat).
pub fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok()).flatten()
    })
}

/// A container's usage. `own_cgroup`: the container was given cgroups (its spec has a
/// cgroupsPath); without, it shares the monitor's and /proc is read instead.
pub fn read(fs: &dyn CgroupFs, host: &Host, pid1: u32, own_cgroup: bool) -> Stats {
    let dirs = match own_cgroup {
        true => fs.read(Path::new(&format!("/proc/{pid1}/cgroup"))).map(|t| cgroup_dirs(host, &t)).unwrap_or_default(),
        false => Vec::new(),
    };
    let dir = |ctrl: &str| dirs.iter().find(|(c, _)| c == ctrl).map(|(_, d)| d.clone());
    let read = |d: Option<PathBuf>, f: &str| d.and_then(|d| fs.read(&d.join(f)).ok());
    let mut s = Stats::default();
    let (cpu, mem, limit, pids, io) = match host.version {
        Version::V1 => (
            read(dir("cpuacct"), "cpuacct.usage").and_then(|t| t.trim().parse().ok()),
            read(dir("memory"), "memory.usage_in_bytes").and_then(|t| t.trim().parse::<u64>().ok()).map(|u| {
                let stat = read(dir("memory"), "memory.stat").unwrap_or_default();
                u.saturating_sub(keyed(&stat, "total_inactive_file").unwrap_or(0))
            }),
            read(dir("memory"), "memory.limit_in_bytes").and_then(|t| t.trim().parse::<u64>().ok()),
            read(dir("pids"), "pids.current").and_then(|t| t.trim().parse().ok()),
            read(dir("blkio"), "blkio.throttle.io_service_bytes_recursive").map(|t| blkio_v1(&t)),
        ),
        Version::V2 => (
            read(dir(""), "cpu.stat").and_then(|t| keyed(&t, "usage_usec")).map(|u| u * 1000),
            read(dir(""), "memory.current").and_then(|t| t.trim().parse::<u64>().ok()).map(|u| {
                let stat = read(dir(""), "memory.stat").unwrap_or_default();
                u.saturating_sub(keyed(&stat, "inactive_file").unwrap_or(0))
            }),
            read(dir(""), "memory.max").and_then(|t| t.trim().parse::<u64>().ok()),
            read(dir(""), "pids.current").and_then(|t| t.trim().parse().ok()),
            read(dir(""), "io.stat").map(|t| io_v2(&t)),
        ),
    };
    // Anything the cgroups do not give comes from the processes themselves.
    let procs = (cpu.is_none() || mem.is_none() || pids.is_none()).then(|| from_proc(pid1));
    let p = procs.clone().unwrap_or_default();
    s.cpu_ns = cpu.unwrap_or(p.cpu_ns);
    s.memory_usage = mem.unwrap_or(p.memory_usage);
    // v1 reports "unlimited" as a page-rounded i64::MAX.
    s.memory_limit = limit.filter(|l| *l < (1u64 << 62));
    s.pids = pids.unwrap_or(p.pids);
    let (r, w) = io.unwrap_or((p.block_read, p.block_write));
    (s.block_read, s.block_write) = (r, w);
    s.source = if cpu.is_some() && mem.is_some() { Source::Cgroup } else { Source::Proc };
    s
}

/// (controller name, directory) per line of a /proc/PID/cgroup text; on v2 the name is "".
fn cgroup_dirs(host: &Host, text: &str) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for l in text.lines() {
        let mut f = l.splitn(3, ':');
        let (Some(_), Some(ctrls), Some(path)) = (f.next(), f.next(), f.next()) else { continue };
        match host.version {
            Version::V2 if ctrls.is_empty() => out.push((String::new(), under(&host.root, path))),
            Version::V1 if !ctrls.is_empty() => {
                for c in ctrls.split(',') {
                    out.push((c.to_string(), under(&host.root.join(c), path)));
                }
            }
            _ => {}
        }
    }
    out
}

/// Read and written bytes from blkio.throttle.io_service_bytes_recursive.
fn blkio_v1(text: &str) -> (u64, u64) {
    let (mut r, mut w) = (0, 0);
    for l in text.lines() {
        let f: Vec<&str> = l.split_whitespace().collect();
        if let [_, op, n] = f.as_slice() {
            let n: u64 = n.parse().unwrap_or(0);
            match *op {
                "Read" => r += n,
                "Write" => w += n,
                _ => {}
            }
        }
    }
    (r, w)
}

/// Read and written bytes from io.stat.
fn io_v2(text: &str) -> (u64, u64) {
    let (mut r, mut w) = (0, 0);
    for kv in text.split_whitespace() {
        if let Some(n) = kv.strip_prefix("rbytes=") {
            r += n.parse().unwrap_or(0);
        } else if let Some(n) = kv.strip_prefix("wbytes=") {
            w += n.parse().unwrap_or(0);
        }
    }
    (r, w)
}

/// Usage summed over the processes in PID 1's PID namespace (and those nested in it).
pub fn from_proc(pid1: u32) -> Stats {
    let mut s = Stats { source: Source::Proc, ..Default::default() };
    let Ok(ns) = std::fs::read_link(format!("/proc/{pid1}/ns/pid")) else { return s };
    // SAFETY: sysconf with constant names.
    let (tick, page) =
        unsafe { (libc::sysconf(libc::_SC_CLK_TCK).max(1) as u64, libc::sysconf(libc::_SC_PAGESIZE).max(1) as u64) };
    let Ok(entries) = std::fs::read_dir("/proc") else { return s };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
        let mine = pid == pid1 || std::fs::read_link(format!("/proc/{pid}/ns/pid")).is_ok_and(|l| l == ns);
        if !mine {
            continue;
        }
        if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            s.cpu_ns += proc_cpu_ticks(&stat) * 1_000_000_000 / tick;
        }
        if let Ok(statm) = std::fs::read_to_string(format!("/proc/{pid}/statm")) {
            s.memory_usage += statm.split_whitespace().nth(1).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0) * page;
        }
        if let Ok(io) = std::fs::read_to_string(format!("/proc/{pid}/io")) {
            s.block_read +=
                io.lines().find_map(|l| l.strip_prefix("read_bytes: ")?.trim().parse::<u64>().ok()).unwrap_or(0);
            s.block_write +=
                io.lines().find_map(|l| l.strip_prefix("write_bytes: ")?.trim().parse::<u64>().ok()).unwrap_or(0);
        }
        s.pids += 1;
    }
    s
}

/// utime + stime (fields 14 and 15) of a /proc/PID/stat text.
fn proc_cpu_ticks(stat: &str) -> u64 {
    let Some((_, rest)) = stat.rsplit_once(')') else { return 0 };
    let f: Vec<&str> = rest.split_whitespace().collect();
    // rest starts at field 3 (state).
    let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    n(11) + n(12)
}

#[cfg(test)]
mod tests {
    use super::super::fs::fake::FakeFs;
    use super::*;

    #[test]
    fn v1_stats_from_the_cgroups_of_pid1() {
        let fs = FakeFs::new(0);
        fs.file(
            "/proc/4242/cgroup",
            "4:memory:/kiste/1000/kiste-a\n2:cpuacct:/kiste/1000/kiste-a\n8:pids:/kiste/1000/kiste-a\n0::/\n",
        )
        .file("/cg/memory/kiste/1000/kiste-a/memory.usage_in_bytes", "10000000\n")
        .file("/cg/memory/kiste/1000/kiste-a/memory.stat", "cache 5\ntotal_inactive_file 1000000\n")
        .file("/cg/memory/kiste/1000/kiste-a/memory.limit_in_bytes", "67108864\n")
        .file("/cg/cpuacct/kiste/1000/kiste-a/cpuacct.usage", "123456789\n")
        .file("/cg/pids/kiste/1000/kiste-a/pids.current", "3\n");
        let h = Host { version: Version::V1, hybrid: true, root: "/cg".into(), systemd: false };
        let s = read(&fs, &h, 4242, true);
        assert_eq!((s.cpu_ns, s.memory_usage, s.memory_limit, s.pids), (123456789, 9000000, Some(67108864), 3));
        assert_eq!(s.source, Source::Cgroup);
    }

    #[test]
    fn v2_stats_and_parsers() {
        let fs = FakeFs::new(0);
        fs.file("/proc/7/cgroup", "0::/u/kiste-a\n")
            .file("/cg/u/kiste-a/cpu.stat", "usage_usec 2500\nuser_usec 2000\n")
            .file("/cg/u/kiste-a/memory.current", "4096\n")
            .file("/cg/u/kiste-a/memory.stat", "anon 4096\ninactive_file 0\n")
            .file("/cg/u/kiste-a/memory.max", "max\n")
            .file("/cg/u/kiste-a/pids.current", "1\n")
            .file("/cg/u/kiste-a/io.stat", "8:0 rbytes=10 wbytes=20 rios=1 wios=2\n8:16 rbytes=1 wbytes=2\n");
        let h = Host { version: Version::V2, hybrid: false, root: "/cg".into(), systemd: false };
        let s = read(&fs, &h, 7, true);
        assert_eq!((s.cpu_ns, s.memory_usage, s.memory_limit, s.pids), (2_500_000, 4096, None, 1));
        assert_eq!((s.block_read, s.block_write), (11, 22));
        assert_eq!(blkio_v1("8:0 Read 5\n8:0 Write 7\n8:0 Total 12\nTotal 12\n"), (5, 7));
        assert_eq!(proc_cpu_ticks("1 (a b) S 0 1 1 0 -1 0 0 0 0 0 30 12 0 0 20 0"), 42);
    }

    #[test]
    fn without_a_cgroup_the_processes_are_summed() {
        // Our own process stands in for a container's PID 1: its namespace holds us at least.
        let me = std::process::id();
        let s = read(&super::super::RealFs, &super::super::detect(), me, false);
        assert_eq!(s.source, Source::Proc);
        assert!(s.pids >= 1 && s.memory_usage > 0, "{s:?}");
    }
}
