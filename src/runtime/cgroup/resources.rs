//! The spec's `linux.resources` -> the cgroup files to write, for v1 and for v2 (pure: no
//! filesystem). Conversions follow runc and crun: OCI `memory.swap` is memory+swap (v2's
//! memory.swap.max is the swap alone), CPU shares become a v2 weight by crun's curve (1024
//! -> 100), blkio weights 10..1000 become io weights 1..10000.

use super::Controller;
use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxPids, LinuxResources, LinuxThrottleDevice};

/// One value for one cgroup file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Write {
    pub controller: Controller,
    pub file: &'static str,
    pub value: String,
    /// Written only when the file exists (swap accounting may be off): the value was not
    /// asked for explicitly.
    pub if_present: bool,
}

fn w(controller: Controller, file: &'static str, value: impl ToString) -> Write {
    Write { controller, file, value: value.to_string(), if_present: false }
}

/// crun's (and runc's since 1.3) mapping of CPU shares (2..262144) to a v2 weight (1..10000)
/// that keeps the default: 1024 -> 100.
pub fn shares_to_weight(shares: u64) -> u64 {
    match shares {
        0 => 0,
        1..=2 => 1,
        262144.. => 10000,
        s => {
            let l = (s as f64).log2();
            let exponent = (l * l + 125.0 * l) / 612.0 - 7.0 / 34.0;
            10f64.powf(exponent).ceil() as u64
        }
    }
}

/// blkio weight (10..1000) -> io weight (1..10000), as runc converts it.
pub fn blkio_to_io_weight(w: u16) -> u64 {
    if w == 0 { 0 } else { 1 + (u64::from(w).saturating_sub(10)) * 9999 / 990 }
}

fn max_or(v: i64) -> String {
    if v < 0 { "max".into() } else { v.to_string() }
}

/// The cpuset files, the same in both versions.
fn cpuset(c: &LinuxCpu) -> impl Iterator<Item = Write> + '_ {
    [("cpuset.cpus", c.cpus()), ("cpuset.mems", c.mems())]
        .into_iter()
        .filter_map(|(file, v)| v.as_ref().map(|v| w(Controller::Cpuset, file, v)))
}

/// pids.max, the same in both versions (a limit of 0 or less is none).
fn pids_max(p: &LinuxPids) -> Write {
    w(Controller::Pids, "pids.max", max_or(if p.limit() <= 0 { -1 } else { p.limit() }))
}

/// Each throttled device of `b` with the name given for its list; the lists in the order read
/// bps, write bps, read iops, write iops.
fn throttles<'a>(
    b: &'a LinuxBlockIo,
    names: [&'static str; 4],
) -> impl Iterator<Item = (&'static str, &'a LinuxThrottleDevice)> + 'a {
    let lists = [
        b.throttle_read_bps_device(),
        b.throttle_write_bps_device(),
        b.throttle_read_iops_device(),
        b.throttle_write_iops_device(),
    ];
    names.into_iter().zip(lists).flat_map(|(name, list)| list.iter().flatten().map(move |d| (name, d)))
}

/// The v1 files of `res`, in the order they must be written.
pub fn v1(res: &LinuxResources) -> Vec<Write> {
    use Controller::*;
    let mut out = Vec::new();
    if let Some(m) = res.memory() {
        if let Some(l) = m.limit() {
            out.push(w(Memory, "memory.limit_in_bytes", l));
        }
        if let Some(s) = m.swap() {
            // Without swap accounting the file is absent; the implicit default (2x) is then
            // meaningless, an explicit --memory-swap was refused at create.
            out.push(Write { if_present: true, ..w(Memory, "memory.memsw.limit_in_bytes", s) });
        }
        if let Some(r) = m.reservation() {
            out.push(w(Memory, "memory.soft_limit_in_bytes", r));
        }
        if let Some(s) = m.swappiness() {
            out.push(w(Memory, "memory.swappiness", s));
        }
        if m.disable_oom_killer() == Some(true) {
            out.push(w(Memory, "memory.oom_control", 1));
        }
    }
    if let Some(c) = res.cpu() {
        if let Some(s) = c.shares() {
            out.push(w(Cpu, "cpu.shares", s));
        }
        if let Some(p) = c.period() {
            out.push(w(Cpu, "cpu.cfs_period_us", p));
        }
        if let Some(q) = c.quota() {
            out.push(w(Cpu, "cpu.cfs_quota_us", q));
        }
        out.extend(cpuset(c));
    }
    if let Some(p) = res.pids() {
        out.push(pids_max(p));
    }
    if let Some(b) = res.block_io() {
        if let Some(wt) = b.weight() {
            out.push(w(Blkio, "blkio.weight", wt));
        }
        let files = [
            "blkio.throttle.read_bps_device",
            "blkio.throttle.write_bps_device",
            "blkio.throttle.read_iops_device",
            "blkio.throttle.write_iops_device",
        ];
        for (file, d) in throttles(b, files) {
            out.push(w(Blkio, file, format!("{}:{} {}", d.major(), d.minor(), d.rate())));
        }
    }
    out
}

/// The v2 files of `res`. Errors name what v2 cannot express.
pub fn v2(res: &LinuxResources) -> Result<Vec<Write>, String> {
    use Controller::*;
    let mut out = Vec::new();
    if let Some(m) = res.memory() {
        if let Some(l) = m.limit() {
            out.push(w(Memory, "memory.max", max_or(l)));
        }
        if let Some(s) = m.swap() {
            let swap = match (s, m.limit()) {
                (s, _) if s < 0 => "max".to_string(),
                (s, Some(l)) if l >= 0 => {
                    if s < l {
                        return Err(format!("the memory+swap limit {s} is below the memory limit {l}"));
                    }
                    (s - l).to_string()
                }
                (s, _) => s.to_string(),
            };
            out.push(Write { if_present: true, ..w(Memory, "memory.swap.max", swap) });
        }
        if let Some(r) = m.reservation() {
            out.push(w(Memory, "memory.low", max_or(r)));
        }
    }
    if let Some(c) = res.cpu() {
        if let Some(s) = c.shares().filter(|s| *s > 0) {
            out.push(w(Cpu, "cpu.weight", shares_to_weight(s)));
        }
        if c.quota().is_some() || c.period().is_some() {
            let quota = c.quota().filter(|q| *q > 0).map_or("max".to_string(), |q| q.to_string());
            out.push(w(Cpu, "cpu.max", format!("{quota} {}", c.period().unwrap_or(100_000))));
        }
        out.extend(cpuset(c));
    }
    if let Some(p) = res.pids() {
        out.push(pids_max(p));
    }
    if let Some(b) = res.block_io() {
        if let Some(wt) = b.weight() {
            out.push(w(Blkio, "io.weight", format!("default {}", blkio_to_io_weight(wt))));
        }
        for (key, d) in throttles(b, ["rbps", "wbps", "riops", "wiops"]) {
            out.push(w(Blkio, "io.max", format!("{}:{} {key}={}", d.major(), d.minor(), d.rate())));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::{LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResourcesBuilder};

    fn res() -> LinuxResources {
        LinuxResourcesBuilder::default()
            .memory(LinuxMemoryBuilder::default().limit(64i64 << 20).swap(128i64 << 20).build().unwrap())
            .cpu(LinuxCpuBuilder::default().quota(50_000i64).period(100_000u64).shares(512u64).build().unwrap())
            .pids(LinuxPidsBuilder::default().limit(50).build().unwrap())
            .build()
            .unwrap()
    }

    fn pairs(v: &[Write]) -> Vec<(&str, &str)> {
        v.iter().map(|w| (w.file, w.value.as_str())).collect()
    }

    #[test]
    fn v1_files_in_order() {
        assert_eq!(
            pairs(&v1(&res())),
            vec![
                ("memory.limit_in_bytes", "67108864"),
                ("memory.memsw.limit_in_bytes", "134217728"),
                ("cpu.shares", "512"),
                ("cpu.cfs_period_us", "100000"),
                ("cpu.cfs_quota_us", "50000"),
                ("pids.max", "50"),
            ]
        );
    }

    #[test]
    fn v2_files_convert_swap_shares_and_quota() {
        assert_eq!(
            pairs(&v2(&res()).unwrap()),
            vec![
                ("memory.max", "67108864"),
                ("memory.swap.max", "67108864"),
                ("cpu.weight", "59"),
                ("cpu.max", "50000 100000"),
                ("pids.max", "50"),
            ]
        );
        let bad = LinuxResourcesBuilder::default()
            .memory(LinuxMemoryBuilder::default().limit(64i64 << 20).swap(1i64 << 20).build().unwrap())
            .build()
            .unwrap();
        assert!(v2(&bad).is_err());
    }

    #[test]
    fn block_io_throttles_in_both_versions() {
        use oci_spec::runtime::{LinuxBlockIoBuilder, LinuxThrottleDeviceBuilder};
        let dev = |minor: i64, rate: u64| {
            vec![LinuxThrottleDeviceBuilder::default().major(8).minor(minor).rate(rate).build().unwrap()]
        };
        let b = LinuxBlockIoBuilder::default()
            .weight(500u16)
            .throttle_write_iops_device(dev(3, 40))
            .throttle_read_bps_device(dev(0, 1000))
            .throttle_write_bps_device(dev(1, 2000))
            .throttle_read_iops_device(dev(2, 30))
            .build()
            .unwrap();
        let res = LinuxResourcesBuilder::default().block_io(b).build().unwrap();
        assert_eq!(
            pairs(&v1(&res)),
            vec![
                ("blkio.weight", "500"),
                ("blkio.throttle.read_bps_device", "8:0 1000"),
                ("blkio.throttle.write_bps_device", "8:1 2000"),
                ("blkio.throttle.read_iops_device", "8:2 30"),
                ("blkio.throttle.write_iops_device", "8:3 40"),
            ]
        );
        assert_eq!(
            pairs(&v2(&res).unwrap()),
            vec![
                ("io.weight", "default 4950"),
                ("io.max", "8:0 rbps=1000"),
                ("io.max", "8:1 wbps=2000"),
                ("io.max", "8:2 riops=30"),
                ("io.max", "8:3 wiops=40"),
            ]
        );
    }

    #[test]
    fn weights_match_crun_and_runc() {
        assert_eq!(shares_to_weight(1024), 100);
        assert_eq!(shares_to_weight(2), 1);
        assert_eq!(shares_to_weight(262144), 10000);
        assert_eq!(blkio_to_io_weight(10), 1);
        assert_eq!(blkio_to_io_weight(1000), 10000);
        assert_eq!(blkio_to_io_weight(500), 4950);
    }
}
