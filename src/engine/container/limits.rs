//! Resource limits of `run`/`create`: the flags as typed (`LimitArgs`) -> checked, typed
//! `Limits` (bad input is one line naming the flag and the form it takes, before anything
//! exists) -> the spec's `linux.resources`, `cgroupsPath` and `process.oomScoreAdj` once
//! the host's cgroups say where they can be applied (`setup`). Does not touch cgroupfs:
//! the runtime applies the spec.

use super::ContainerError;
use crate::runtime::cgroup::{self, CgroupsMode, Controller, ManagerKind};
use crate::state::paths::Paths;
use crate::storage::idmap::IdMapping;
use oci_spec::runtime::{
    LinuxBlockIoBuilder, LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResources, LinuxResourcesBuilder,
    LinuxThrottleDevice, LinuxThrottleDeviceBuilder,
};

/// Podman's default `pids_limit` where the pids controller can be used.
pub const DEFAULT_PIDS_LIMIT: i64 = 2048;
/// The smallest memory limit Docker and Podman accept.
pub const MIN_MEMORY: u64 = 6 << 20;

/// The flags as given (strings: every one is checked here, with one message per flag).
#[derive(Debug, Clone, Default)]
pub struct LimitArgs {
    pub memory: Option<String>,
    pub memory_swap: Option<String>,
    pub memory_reservation: Option<String>,
    pub memory_swappiness: Option<String>,
    pub kernel_memory: Option<String>,
    pub cpus: Option<String>,
    pub cpu_shares: Option<String>,
    pub cpu_quota: Option<String>,
    pub cpu_period: Option<String>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    pub pids_limit: Option<String>,
    pub blkio_weight: Option<String>,
    pub device_read_bps: Vec<String>,
    pub device_write_bps: Vec<String>,
    pub device_read_iops: Vec<String>,
    pub device_write_iops: Vec<String>,
    pub oom_kill_disable: bool,
    pub oom_score_adj: Option<String>,
    pub cgroups: Option<String>,
    pub cgroup_parent: Option<String>,
    pub cgroupns: Option<String>,
}

/// `--memory-swap`: memory+swap in bytes, or unlimited (-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Swap {
    Unlimited,
    Total(u64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ThrottleKind {
    ReadBps,
    WriteBps,
    ReadIops,
    WriteIops,
}

/// A `--device-*-bps/iops` limit on one block device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub kind: ThrottleKind,
    pub major: u64,
    pub minor: u64,
    pub rate: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CgroupNs {
    Host,
    Private,
}

/// Checked limits.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Limits {
    pub memory: Option<u64>,
    pub memory_swap: Option<Swap>,
    pub memory_reservation: Option<u64>,
    pub memory_swappiness: Option<u64>,
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<u64>,
    pub cpu_shares: Option<u64>,
    pub cpuset_cpus: Option<String>,
    pub cpuset_mems: Option<String>,
    /// None: the default (containers.conf `pids_limit`, 2048) where pids can be limited;
    /// Some(0): unlimited.
    pub pids_limit: Option<i64>,
    pub blkio_weight: Option<u16>,
    pub throttle: Vec<Throttle>,
    pub oom_kill_disable: bool,
    pub oom_score_adj: Option<i32>,
    pub cgroups: Option<CgroupsMode>,
    pub cgroup_parent: Option<String>,
    pub cgroupns: Option<CgroupNs>,
}

fn bad(flag: &str, value: &str, form: &str) -> ContainerError {
    ContainerError::Invalid(format!("invalid {flag} \"{value}\": {form}"))
}

fn size(flag: &str, v: &str) -> Result<u64, ContainerError> {
    super::spec::parse_size(v).ok_or_else(|| bad(flag, v, "use a size such as 512m or 1g"))
}

fn int<T: std::str::FromStr>(flag: &str, v: &str, form: &str) -> Result<T, ContainerError> {
    v.trim().parse().map_err(|_| bad(flag, v, form))
}

/// CPUs this process may run on ("0-3,6" style lists are checked against them).
fn host_cpus() -> Vec<u32> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/online").unwrap_or_default();
    parse_list(text.trim())
        .unwrap_or_else(|| (0..std::thread::available_parallelism().map_or(1, |n| n.get() as u32)).collect())
}

fn host_mems() -> Vec<u32> {
    let text = std::fs::read_to_string("/sys/devices/system/node/online").unwrap_or_else(|_| "0".into());
    parse_list(text.trim()).unwrap_or_else(|| vec![0])
}

/// A kernel list ("0-2,5") as numbers; None when malformed.
pub fn parse_list(s: &str) -> Option<Vec<u32>> {
    let mut out = Vec::new();
    for part in s.split(',') {
        match part.split_once('-') {
            Some((a, b)) => {
                let (a, b): (u32, u32) = (a.trim().parse().ok()?, b.trim().parse().ok()?);
                if a > b || b - a > 65536 {
                    return None;
                }
                out.extend(a..=b);
            }
            None => out.push(part.trim().parse().ok()?),
        }
    }
    Some(out)
}

/// Checks a cpuset list against what exists.
fn cpuset(flag: &str, v: &str, have: &[u32], what: &str) -> Result<String, ContainerError> {
    let list = parse_list(v).ok_or_else(|| bad(flag, v, "use a list such as 0-2,4"))?;
    if let Some(n) = list.iter().find(|n| !have.contains(n)) {
        let first = have.first().copied().unwrap_or(0);
        let last = have.last().copied().unwrap_or(0);
        return Err(bad(flag, v, &format!("{what} {n} is not on this host (it has {what}s {first}-{last})")));
    }
    Ok(v.to_string())
}

/// `DEVICE:RATE`: the block device's numbers and the rate.
fn throttle(flag: &str, v: &str, kind: ThrottleKind) -> Result<Throttle, ContainerError> {
    let iops = matches!(kind, ThrottleKind::ReadIops | ThrottleKind::WriteIops);
    let form = if iops { "use DEVICE:IOPS such as /dev/sda:1000" } else { "use DEVICE:RATE such as /dev/sda:1mb" };
    let (dev, rate) = v.rsplit_once(':').ok_or_else(|| bad(flag, v, form))?;
    let rate =
        if iops { int(flag, rate, form)? } else { super::spec::parse_size(rate).ok_or_else(|| bad(flag, v, form))? };
    use std::os::unix::fs::{FileTypeExt, MetadataExt};
    let m = std::fs::metadata(dev).map_err(|e| bad(flag, v, &format!("{dev}: {e}")))?;
    if !m.file_type().is_block_device() {
        return Err(bad(flag, v, &format!("{dev} is not a block device")));
    }
    let (major, minor) = (nix::sys::stat::major(m.rdev()), nix::sys::stat::minor(m.rdev()));
    Ok(Throttle { kind, major, minor, rate })
}

impl Limits {
    /// Checks every flag; warnings (accepted but ignored flags) go to the caller to show.
    pub fn parse(a: &LimitArgs) -> Result<(Limits, Vec<String>), ContainerError> {
        let mut l = Limits::default();
        let mut warnings = Vec::new();
        l.parse_memory(a)?;
        if a.kernel_memory.is_some() {
            warnings.push("the --kernel-memory flag is no longer supported; it is ignored".to_string());
        }
        l.parse_cpu(a)?;
        if let Some(v) = &a.pids_limit {
            let n: i64 = int("--pids-limit", v, "use a number of processes, or -1 for no limit")?;
            l.pids_limit = Some(n.max(0));
        }
        if let Some(v) = &a.blkio_weight {
            let w: u16 = int("--blkio-weight", v, "use a weight from 10 to 1000")?;
            if w != 0 && !(10..=1000).contains(&w) {
                return Err(bad("--blkio-weight", v, "use a weight from 10 to 1000"));
            }
            l.blkio_weight = (w != 0).then_some(w);
        }
        let lists = [
            ("--device-read-bps", &a.device_read_bps, ThrottleKind::ReadBps),
            ("--device-write-bps", &a.device_write_bps, ThrottleKind::WriteBps),
            ("--device-read-iops", &a.device_read_iops, ThrottleKind::ReadIops),
            ("--device-write-iops", &a.device_write_iops, ThrottleKind::WriteIops),
        ];
        for (flag, list, kind) in lists {
            for v in list {
                l.throttle.push(throttle(flag, v, kind)?);
            }
        }
        l.oom_kill_disable = a.oom_kill_disable;
        if let Some(v) = &a.oom_score_adj {
            let n: i32 = int("--oom-score-adj", v, "use a number from -1000 to 1000")?;
            if !(-1000..=1000).contains(&n) {
                return Err(bad("--oom-score-adj", v, "use a number from -1000 to 1000"));
            }
            l.oom_score_adj = Some(n);
        }
        l.parse_cgroup_flags(a)?;
        Ok((l, warnings))
    }

    fn parse_memory(&mut self, a: &LimitArgs) -> Result<(), ContainerError> {
        let sized = |flag: &str, v: &Option<String>| -> Result<Option<u64>, ContainerError> {
            let Some(v) = v else { return Ok(None) };
            let n = size(flag, v)?;
            if n != 0 && n < MIN_MEMORY {
                return Err(bad(flag, v, "the minimum is 6m; use a size such as 512m or 1g"));
            }
            Ok((n != 0).then_some(n))
        };
        self.memory = sized("--memory", &a.memory)?;
        self.memory_reservation = sized("--memory-reservation", &a.memory_reservation)?;
        if let (Some(m), Some(r), Some(v)) = (self.memory, self.memory_reservation, &a.memory_reservation)
            && r > m
        {
            return Err(bad("--memory-reservation", v, "it must not be above --memory"));
        }
        if let Some(v) = &a.memory_swap {
            let swap = match v.trim() {
                "-1" => Swap::Unlimited,
                _ => Swap::Total(size("--memory-swap", v)?),
            };
            match (swap, self.memory) {
                (_, None) => return Err(bad("--memory-swap", v, "it needs --memory (it is memory plus swap)")),
                (Swap::Total(s), Some(m)) if s < m => {
                    return Err(bad("--memory-swap", v, "it is memory plus swap, so at least --memory, or -1"));
                }
                _ => {}
            }
            self.memory_swap = Some(swap);
        }
        if let Some(v) = &a.memory_swappiness {
            let n: i64 = int("--memory-swappiness", v, "use 0 to 100, or -1 for the system default")?;
            if !(-1..=100).contains(&n) {
                return Err(bad("--memory-swappiness", v, "use 0 to 100, or -1 for the system default"));
            }
            self.memory_swappiness = (n >= 0).then_some(n as u64);
        }
        Ok(())
    }

    fn parse_cpu(&mut self, a: &LimitArgs) -> Result<(), ContainerError> {
        if let Some(v) = &a.cpus {
            let n: f64 = int("--cpus", v, "use a positive number of CPUs such as 0.5 or 2")?;
            let have = host_cpus().len() as f64;
            if !n.is_finite() || n < 0.0 || (n > 0.0 && n < 0.01) {
                return Err(bad("--cpus", v, "use a positive number of CPUs such as 0.5 or 2"));
            }
            if n > have {
                return Err(bad("--cpus", v, &format!("this host has {have} CPUs; use 0.01 to {have}")));
            }
            if a.cpu_quota.is_some() || a.cpu_period.is_some() {
                return Err(bad("--cpus", v, "give either --cpus or --cpu-quota/--cpu-period, not both"));
            }
            if n > 0.0 {
                self.cpu_period = Some(100_000);
                self.cpu_quota = Some((n * 100_000.0).round() as i64);
            }
        }
        if let Some(v) = &a.cpu_period {
            let n: u64 = int("--cpu-period", v, "use microseconds from 1000 to 1000000")?;
            if n != 0 && !(1000..=1_000_000).contains(&n) {
                return Err(bad("--cpu-period", v, "use microseconds from 1000 to 1000000"));
            }
            self.cpu_period = (n != 0).then_some(n);
        }
        if let Some(v) = &a.cpu_quota {
            let n: i64 = int("--cpu-quota", v, "use microseconds per period, at least 1000, or -1")?;
            if n > 0 && n < 1000 || n < -1 {
                return Err(bad("--cpu-quota", v, "use microseconds per period, at least 1000, or -1"));
            }
            self.cpu_quota = (n != 0).then_some(n);
        }
        if let Some(v) = &a.cpu_shares {
            let n: u64 = int("--cpu-shares", v, "use a weight from 2 to 262144 (1024 is the default)")?;
            if n != 0 && !(2..=262_144).contains(&n) {
                return Err(bad("--cpu-shares", v, "use a weight from 2 to 262144 (1024 is the default)"));
            }
            self.cpu_shares = (n != 0).then_some(n);
        }
        if let Some(v) = &a.cpuset_cpus {
            self.cpuset_cpus = Some(cpuset("--cpuset-cpus", v, &host_cpus(), "CPU")?);
        }
        if let Some(v) = &a.cpuset_mems {
            self.cpuset_mems = Some(cpuset("--cpuset-mems", v, &host_mems(), "memory node")?);
        }
        Ok(())
    }

    fn parse_cgroup_flags(&mut self, a: &LimitArgs) -> Result<(), ContainerError> {
        if let Some(v) = &a.cgroups {
            self.cgroups = Some(v.parse().map_err(ContainerError::Invalid)?);
        }
        if let Some(v) = &a.cgroup_parent {
            self.cgroup_parent = Some(check_parent("--cgroup-parent", v)?);
        }
        self.cgroupns = match a.cgroupns.as_deref() {
            None => None,
            Some("host") => Some(CgroupNs::Host),
            Some("private") => Some(CgroupNs::Private),
            Some(o) => return Err(bad("--cgroupns", o, "use host or private")),
        };
        if self.cgroups == Some(CgroupsMode::Split) && self.cgroup_parent.is_some() {
            return Err(ContainerError::Invalid("--cgroups=split cannot be used with --cgroup-parent".into()));
        }
        if self.cgroups == Some(CgroupsMode::Disabled) && self.cgroup_parent.is_some() {
            return Err(ContainerError::Invalid("--cgroup-parent cannot be used with --cgroups=disabled".into()));
        }
        Ok(())
    }

    /// The limits the user asked for, each with the flag that asked (for error messages),
    /// without the default pids limit.
    fn requested(&self) -> Vec<(Controller, &'static str)> {
        let mut v = Vec::new();
        let mut add = |on: bool, c, flag| {
            if on {
                v.push((c, flag));
            }
        };
        add(self.memory.is_some(), Controller::Memory, "--memory");
        add(self.memory_swap.is_some(), Controller::Memory, "--memory-swap");
        add(self.memory_reservation.is_some(), Controller::Memory, "--memory-reservation");
        add(self.memory_swappiness.is_some(), Controller::Memory, "--memory-swappiness");
        add(self.oom_kill_disable, Controller::Memory, "--oom-kill-disable");
        add(self.cpu_quota.is_some() || self.cpu_period.is_some(), Controller::Cpu, "--cpus/--cpu-quota");
        add(self.cpu_shares.is_some(), Controller::Cpu, "--cpu-shares");
        add(self.cpuset_cpus.is_some(), Controller::Cpuset, "--cpuset-cpus");
        add(self.cpuset_mems.is_some(), Controller::Cpuset, "--cpuset-mems");
        add(self.pids_limit.is_some_and(|p| p > 0), Controller::Pids, "--pids-limit");
        add(self.blkio_weight.is_some(), Controller::Blkio, "--blkio-weight");
        add(!self.throttle.is_empty(), Controller::Blkio, "--device-read-bps/--device-write-bps");
        v
    }

    /// The spec's resources for these limits with `pids` as the pids limit (None: none).
    pub fn to_resources(&self, pids: Option<i64>) -> Result<Option<LinuxResources>, ContainerError> {
        let e = |e: oci_spec::OciSpecError| ContainerError::Invalid(format!("cannot build the resources: {e}"));
        let mut r = LinuxResourcesBuilder::default();
        let mut any = false;
        if self.memory.is_some()
            || self.memory_reservation.is_some()
            || self.memory_swappiness.is_some()
            || self.oom_kill_disable
        {
            let mut m = LinuxMemoryBuilder::default();
            if let Some(v) = self.memory {
                m = m.limit(v as i64);
                // Docker's and Podman's default: as much swap as memory.
                m = m.swap(match self.memory_swap {
                    None => 2 * v as i64,
                    Some(Swap::Unlimited) => -1,
                    Some(Swap::Total(s)) => s as i64,
                });
            }
            if let Some(v) = self.memory_reservation {
                m = m.reservation(v as i64);
            }
            if let Some(v) = self.memory_swappiness {
                m = m.swappiness(v);
            }
            if self.oom_kill_disable {
                m = m.disable_oom_killer(true);
            }
            r = r.memory(m.build().map_err(e)?);
            any = true;
        }
        let cpu_any = self.cpu_quota.is_some()
            || self.cpu_period.is_some()
            || self.cpu_shares.is_some()
            || self.cpuset_cpus.is_some()
            || self.cpuset_mems.is_some();
        if cpu_any {
            let mut c = LinuxCpuBuilder::default();
            if let Some(v) = self.cpu_quota {
                c = c.quota(v);
            }
            if let Some(v) = self.cpu_period {
                c = c.period(v);
            }
            if let Some(v) = self.cpu_shares {
                c = c.shares(v);
            }
            if let Some(v) = &self.cpuset_cpus {
                c = c.cpus(v.clone());
            }
            if let Some(v) = &self.cpuset_mems {
                c = c.mems(v.clone());
            }
            r = r.cpu(c.build().map_err(e)?);
            any = true;
        }
        if let Some(p) = pids {
            r = r.pids(LinuxPidsBuilder::default().limit(p).build().map_err(e)?);
            any = true;
        }
        if self.blkio_weight.is_some() || !self.throttle.is_empty() {
            let list = |k: ThrottleKind| -> Result<Vec<LinuxThrottleDevice>, ContainerError> {
                self.throttle
                    .iter()
                    .filter(|t| t.kind == k)
                    .map(|t| {
                        LinuxThrottleDeviceBuilder::default()
                            .major(t.major as i64)
                            .minor(t.minor as i64)
                            .rate(t.rate)
                            .build()
                            .map_err(e)
                    })
                    .collect()
            };
            let mut b = LinuxBlockIoBuilder::default();
            if let Some(w) = self.blkio_weight {
                b = b.weight(w);
            }
            for (k, v) in [
                (ThrottleKind::ReadBps, list(ThrottleKind::ReadBps)?),
                (ThrottleKind::WriteBps, list(ThrottleKind::WriteBps)?),
                (ThrottleKind::ReadIops, list(ThrottleKind::ReadIops)?),
                (ThrottleKind::WriteIops, list(ThrottleKind::WriteIops)?),
            ] {
                if v.is_empty() {
                    continue;
                }
                b = match k {
                    ThrottleKind::ReadBps => b.throttle_read_bps_device(v),
                    ThrottleKind::WriteBps => b.throttle_write_bps_device(v),
                    ThrottleKind::ReadIops => b.throttle_read_iops_device(v),
                    ThrottleKind::WriteIops => b.throttle_write_iops_device(v),
                };
            }
            r = r.block_io(b.build().map_err(e)?);
            any = true;
        }
        if !any {
            return Ok(None);
        }
        r.build().map(Some).map_err(e)
    }
}

/// A cgroup parent: an absolute cgroupfs path or a systemd slice.
fn check_parent(flag: &str, v: &str) -> Result<String, ContainerError> {
    let ok = (v.starts_with('/') && !v.split('/').any(|c| c == "..")) || (v.ends_with(".slice") && !v.contains('/'));
    if !ok {
        return Err(bad(
            flag,
            v,
            "use an absolute cgroup path such as /kiste/1000, or a systemd slice such as user.slice",
        ));
    }
    Ok(v.trim_end_matches('/').to_string())
}

/// The cgroup settings of containers.conf (the last file that sets each wins).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CgroupConf {
    pub cgroups: Option<CgroupsMode>,
    pub cgroup_parent: Option<String>,
    pub cgroupns: Option<CgroupNs>,
    pub pids_limit: Option<i64>,
    pub cgroup_manager: Option<ManagerKind>,
}

/// The cgroup settings of containers.conf (`state::containers_conf`, the one reader):
/// `[containers] cgroups`, `cgroupns`, `pids_limit`, `cgroup_parent` (a kiste addition) and
/// `[engine] cgroup_manager` (or `--cgroup-manager`).
pub fn cgroup_conf(paths: &Paths) -> Result<CgroupConf, ContainerError> {
    use crate::state::containers_conf::ContainersConf;
    let c = ContainersConf::load(paths.user_containers_config.as_deref())
        .map_err(|e| ContainerError::Invalid(e.to_string()))?;
    conf_cgroups(c)
}

fn conf_cgroups(c: &crate::state::containers_conf::ContainersConf) -> Result<CgroupConf, ContainerError> {
    use crate::state::containers_conf::CgroupManager;
    let t = &c.containers;
    let cgroups = match &t.cgroups {
        Some(v) => Some(v.parse().map_err(|_| {
            ContainerError::Invalid(format!(
                "containers.conf: cgroups = \"{v}\": use enabled, disabled, no-conmon or split"
            ))
        })?),
        None => None,
    };
    Ok(CgroupConf {
        cgroups,
        cgroup_parent: t.cgroup_parent.as_deref().map(|v| check_parent("cgroup_parent", v)).transpose()?,
        cgroupns: t.cgroupns.as_deref().map(|v| if v == "private" { CgroupNs::Private } else { CgroupNs::Host }),
        pids_limit: t.pids_limit.map(|n| n.max(0)),
        cgroup_manager: c.engine.cgroup_manager.map(|m| match m {
            CgroupManager::Cgroupfs => ManagerKind::Cgroupfs,
            CgroupManager::Systemd => ManagerKind::Systemd,
        }),
    })
}

/// What the spec gets.
#[derive(Debug, Default)]
pub struct CgroupSetup {
    pub resources: Option<LinuxResources>,
    pub cgroups_path: Option<String>,
    pub cgroupns_private: bool,
}

/// Decides where the limits go and checks they can be applied: every requested limit's
/// controller must be usable (else the error says how to delegate it) unless cgroups are
/// disabled in containers.conf (the limits are then ignored, with a warning). The default
/// pids limit applies only where pids is usable. No cgroup at all when nothing is limited
/// and pids cannot be: runc is then not asked to manage cgroups for nothing.
pub fn setup(paths: &Paths, idmap: &IdMapping, l: &Limits, id: &str) -> Result<CgroupSetup, ContainerError> {
    let conf = cgroup_conf(paths)?;
    let host = cgroup::detect();
    let v2 = host.version == cgroup::Version::V2;
    let cgroupns_private = l.cgroupns.or(conf.cgroupns).unwrap_or(if v2 { CgroupNs::Private } else { CgroupNs::Host })
        == CgroupNs::Private;
    let mut l = l.clone();
    drop_unsupported(&mut l, &host);
    let requested = l.requested();
    let mode = l.cgroups.or(conf.cgroups).unwrap_or_default();
    if mode == CgroupsMode::Disabled {
        if let Some((_, flag)) = requested.first() {
            if l.cgroups == Some(CgroupsMode::Disabled) {
                return Err(ContainerError::Invalid(format!("{flag} cannot be applied with --cgroups=disabled")));
            }
            crate::util::print_warning(format!(
                "containers.conf sets cgroups = \"disabled\": {flag} and other limits are ignored"
            ));
        }
        return Ok(CgroupSetup { cgroupns_private, ..Default::default() });
    }
    let mut which: Vec<Controller> = requested.iter().map(|(c, _)| *c).collect();
    which.push(Controller::Pids);
    which.dedup();
    let parent = l.cgroup_parent.clone().or(conf.cgroup_parent.clone());
    let a = assess(&host, &conf, idmap, mode, parent.as_deref(), &which);
    let pids = match l.pids_limit {
        Some(0) => None,
        Some(n) => Some(n),
        None => Some(conf.pids_limit.unwrap_or(DEFAULT_PIDS_LIMIT)).filter(|n| *n > 0 && a.usable(Controller::Pids)),
    };
    let Some(resources) = l.to_resources(pids)? else {
        return Ok(CgroupSetup { cgroupns_private, ..Default::default() });
    };
    let needed: Vec<(Controller, String)> = requested.iter().map(|(c, f)| (*c, f.to_string())).collect();
    let path = cgroup::plan(&a, id, &needed).map_err(|e| ContainerError::Invalid(e.to_string()))?;
    Ok(CgroupSetup { resources: Some(resources), cgroups_path: Some(path.to_spec()), cgroupns_private })
}

/// The user's cgroup situation on `host` for the controllers `which` (see `cgroup::assess`).
pub fn assess(
    host: &cgroup::Host,
    conf: &CgroupConf,
    idmap: &IdMapping,
    mode: CgroupsMode,
    parent: Option<&str>,
    which: &[Controller],
) -> cgroup::Assessment {
    let own = std::fs::read_to_string("/proc/self/cgroup").unwrap_or_default();
    let bus = host.version == cgroup::Version::V2
        && host.systemd
        && if idmap.is_rootful() { cgroup::systemd::system_bus_path() } else { cgroup::systemd::user_bus_path() }
            .is_some();
    let input = cgroup::PlanInput {
        uid: idmap.uid,
        rootful: idmap.is_rootful(),
        mode,
        parent,
        manager: conf.cgroup_manager,
        own: &own,
        bus,
    };
    cgroup::assess(&cgroup::RealFs, host, &input, which)
}

/// Settings this host's cgroups cannot express: warned about and dropped, as Podman does.
fn drop_unsupported(l: &mut Limits, host: &cgroup::Host) {
    let warn = |w: &str| crate::util::print_warning(w);
    match host.version {
        cgroup::Version::V2 => {
            if l.memory_swappiness.take().is_some() {
                warn("--memory-swappiness is not supported on cgroup v2; it is ignored");
            }
            if std::mem::take(&mut l.oom_kill_disable) {
                warn("--oom-kill-disable is not supported on cgroup v2; it is ignored");
            }
        }
        cgroup::Version::V1 => {
            let memsw = host.root.join("memory/memory.memsw.limit_in_bytes");
            if matches!(l.memory_swap, Some(Swap::Total(_))) && !memsw.exists() {
                warn(
                    "the kernel does not account swap (no memory.memsw.limit_in_bytes); memory is limited without swap",
                );
                l.memory_swap = None;
            }
        }
    }
}

/// `--oom-score-adj` for an unprivileged user: not below kiste's own value (the kernel
/// refuses to lower it without privilege).
pub fn check_oom_score_adj(l: &Limits, idmap: &IdMapping) -> Result<Option<i32>, ContainerError> {
    let Some(want) = l.oom_score_adj else { return Ok(None) };
    if !idmap.is_rootful() {
        let own: i32 =
            std::fs::read_to_string("/proc/self/oom_score_adj").ok().and_then(|s| s.trim().parse().ok()).unwrap_or(0);
        if want < own {
            return Err(ContainerError::Invalid(format!(
                "invalid --oom-score-adj \"{want}\": an unprivileged user may only raise it; use {own} to 1000"
            )));
        }
    }
    Ok(Some(want))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(f: impl FnOnce(&mut LimitArgs)) -> Result<Limits, String> {
        let mut a = LimitArgs::default();
        f(&mut a);
        Limits::parse(&a).map(|(l, _)| l).map_err(|e| e.to_string())
    }

    #[test]
    fn bad_input_names_the_flag_and_the_form() {
        let e = parse(|a| a.memory = Some("1x".into())).unwrap_err();
        assert_eq!(e, "invalid --memory \"1x\": use a size such as 512m or 1g");
        let e = parse(|a| a.memory = Some("4m".into())).unwrap_err();
        assert!(e.contains("--memory \"4m\"") && e.contains("minimum is 6m"), "{e}");
        let e = parse(|a| a.cpus = Some("-1".into())).unwrap_err();
        assert!(e.starts_with("invalid --cpus \"-1\": use a positive number"), "{e}");
        let e = parse(|a| a.cpuset_cpus = Some("4096".into())).unwrap_err();
        assert!(e.contains("--cpuset-cpus \"4096\"") && e.contains("CPU 4096 is not on this host"), "{e}");
        let e = parse(|a| a.memory_swap = Some("1g".into())).unwrap_err();
        assert!(e.contains("needs --memory"), "{e}");
        let e = parse(|a| {
            a.memory = Some("1g".into());
            a.memory_swap = Some("512m".into())
        })
        .unwrap_err();
        assert!(e.contains("at least --memory"), "{e}");
        assert!(parse(|a| a.pids_limit = Some("many".into())).unwrap_err().contains("--pids-limit"));
        assert!(parse(|a| a.blkio_weight = Some("5".into())).unwrap_err().contains("10 to 1000"));
        assert!(
            parse(|a| a.device_read_bps = vec!["/etc/passwd:1mb".into()]).unwrap_err().contains("not a block device")
        );
        assert!(parse(|a| a.cgroups = Some("maybe".into())).unwrap_err().contains("--cgroups"));
        assert!(parse(|a| a.cgroup_parent = Some("rel".into())).unwrap_err().contains("--cgroup-parent"));
        assert!(parse(|a| a.oom_score_adj = Some("2000".into())).unwrap_err().contains("-1000 to 1000"));
        assert!(
            parse(|a| {
                a.cpus = Some("1".into());
                a.cpu_quota = Some("50000".into())
            })
            .unwrap_err()
            .contains("not both")
        );
    }

    #[test]
    fn limits_become_the_specs_resources() {
        let l = parse(|a| {
            a.memory = Some("512m".into());
            a.cpus = Some("0.5".into());
            a.cpu_shares = Some("512".into());
            a.memory_reservation = Some("256m".into());
        })
        .unwrap();
        assert_eq!((l.cpu_quota, l.cpu_period), (Some(50_000), Some(100_000)));
        let r = l.to_resources(Some(2048)).unwrap().unwrap();
        let m = r.memory().unwrap();
        assert_eq!((m.limit(), m.swap(), m.reservation()), (Some(512 << 20), Some(1024 << 20), Some(256 << 20)));
        let c = r.cpu().as_ref().unwrap();
        assert_eq!((c.quota(), c.period(), c.shares()), (Some(50_000), Some(100_000), Some(512)));
        assert_eq!(r.pids().unwrap().limit(), 2048);
        assert!(Limits::default().to_resources(None).unwrap().is_none());
        let l = parse(|a| {
            a.memory = Some("1g".into());
            a.memory_swap = Some("-1".into())
        })
        .unwrap();
        assert_eq!(l.to_resources(None).unwrap().unwrap().memory().unwrap().swap(), Some(-1));
        assert_eq!(parse(|a| a.pids_limit = Some("-1".into())).unwrap().pids_limit, Some(0));
        assert_eq!(parse_list("0-2,5"), Some(vec![0, 1, 2, 5]));
        assert_eq!(parse_list("3-1"), None);
    }

    #[test]
    fn containers_conf_cgroup_settings() {
        use crate::state::containers_conf::ContainersConf;
        let d = crate::testutil::tmpdir("limits-conf");
        let f = d.join("c.conf");
        let read = |text: &str| {
            crate::testutil::write(&f, text);
            ContainersConf::from_files(std::slice::from_ref(&f)).map_err(|e| e.to_string())
        };
        let c = conf_cgroups(&read(
            "[containers]\ncgroups = \"disabled\"\npids_limit = 100\ncgroup_parent = \"/kiste/x\"\n[engine]\ncgroup_manager = \"cgroupfs\"\n",
        ).unwrap())
        .unwrap();
        assert_eq!(c.cgroups, Some(CgroupsMode::Disabled));
        assert_eq!((c.pids_limit, c.cgroup_parent.as_deref()), (Some(100), Some("/kiste/x")));
        assert_eq!(c.cgroup_manager, Some(ManagerKind::Cgroupfs));
        assert!(read("[containers]\ncgroups = \"sometimes\"\n").unwrap_err().contains("containers.cgroups"));
        let bad_parent = read("[containers]\ncgroup_parent = \"rel\"\n").unwrap();
        assert!(conf_cgroups(&bad_parent).unwrap_err().to_string().contains("cgroup_parent"));
    }
}
