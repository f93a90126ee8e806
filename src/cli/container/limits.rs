//! The resource-limit flags `run`/`create` and `update` share (one definition, flattened
//! into both), and their hand-over to the engine's `LimitArgs`, which checks them. Flags only
//! `run` has (cgroups, OOM settings, kernel memory) stay in run.rs.

use crate::engine::container::limits::LimitArgs;
use clap::Args;

#[derive(Args, Debug, Clone, Default)]
pub struct LimitFlags {
    /// Memory limit (e.g. 512m, 1g; at least 6m)
    #[arg(short = 'm', long)]
    memory: Option<String>,
    /// Memory plus swap limit (-1: unlimited swap; default twice --memory)
    #[arg(long, allow_hyphen_values = true)]
    memory_swap: Option<String>,
    /// Memory soft limit
    #[arg(long)]
    memory_reservation: Option<String>,
    /// How readily the container's memory is swapped (0 to 100, -1 for the system default)
    #[arg(long, allow_hyphen_values = true)]
    memory_swappiness: Option<String>,
    /// Number of CPUs (e.g. 0.5, 2)
    #[arg(long, allow_hyphen_values = true)]
    cpus: Option<String>,
    /// CPU shares (relative weight; 1024 is the default)
    #[arg(short = 'c', long)]
    cpu_shares: Option<String>,
    /// CPU CFS quota in microseconds per period (-1: none)
    #[arg(long, allow_hyphen_values = true)]
    cpu_quota: Option<String>,
    /// CPU CFS period in microseconds
    #[arg(long)]
    cpu_period: Option<String>,
    /// CPUs the container may run on (0-3, 0,1)
    #[arg(long)]
    cpuset_cpus: Option<String>,
    /// Memory nodes the container may use (0-3, 0,1)
    #[arg(long)]
    cpuset_mems: Option<String>,
    /// Maximum number of processes (-1: unlimited; containers get 2048 by default where it can be applied)
    #[arg(long, allow_hyphen_values = true)]
    pids_limit: Option<String>,
    /// Block IO weight (10 to 1000)
    #[arg(long)]
    blkio_weight: Option<String>,
    /// Limit reads from a device (DEVICE:RATE, e.g. /dev/sda:1mb)
    #[arg(long)]
    device_read_bps: Vec<String>,
    /// Limit writes to a device (DEVICE:RATE)
    #[arg(long)]
    device_write_bps: Vec<String>,
    /// Limit read operations per second on a device (DEVICE:IOPS)
    #[arg(long)]
    device_read_iops: Vec<String>,
    /// Limit write operations per second on a device (DEVICE:IOPS)
    #[arg(long)]
    device_write_iops: Vec<String>,
}

impl LimitFlags {
    /// The flags as the engine takes them; what only `run` has is left at its default.
    pub(super) fn args(&self) -> LimitArgs {
        let f = self.clone();
        LimitArgs {
            memory: f.memory,
            memory_swap: f.memory_swap,
            memory_reservation: f.memory_reservation,
            memory_swappiness: f.memory_swappiness,
            cpus: f.cpus,
            cpu_shares: f.cpu_shares,
            cpu_quota: f.cpu_quota,
            cpu_period: f.cpu_period,
            cpuset_cpus: f.cpuset_cpus,
            cpuset_mems: f.cpuset_mems,
            pids_limit: f.pids_limit,
            blkio_weight: f.blkio_weight,
            device_read_bps: f.device_read_bps,
            device_write_bps: f.device_write_bps,
            device_read_iops: f.device_read_iops,
            device_write_iops: f.device_write_iops,
            ..Default::default()
        }
    }
}
