//! `update`: a container's limits and restart policy changed, running or not (the engine's
//! container::update applies and records them).

use crate::engine::Context;
use crate::engine::container::{limits::LimitArgs, restart::RestartPolicy, update};
use clap::Args;

#[derive(Args, Debug)]
pub struct UpdateArgs {
    /// Memory limit (e.g. 512m, 1g; at least 6m)
    #[arg(short = 'm', long)]
    memory: Option<String>,
    /// Memory plus swap limit (-1: unlimited swap)
    #[arg(long, allow_hyphen_values = true)]
    memory_swap: Option<String>,
    /// Memory soft limit
    #[arg(long)]
    memory_reservation: Option<String>,
    /// How readily the container's memory is swapped (0 to 100)
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
    /// Memory nodes the container may use
    #[arg(long)]
    cpuset_mems: Option<String>,
    /// Maximum number of processes (-1: unlimited)
    #[arg(long, allow_hyphen_values = true)]
    pids_limit: Option<String>,
    /// Block IO weight (10 to 1000)
    #[arg(long)]
    blkio_weight: Option<String>,
    /// Limit reads from a device (DEVICE:RATE)
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
    /// Restart policy: no, on-failure[:N], always, unless-stopped
    #[arg(long)]
    restart: Option<String>,
    /// The container (name or ID)
    container: String,
}

pub(super) fn update(a: UpdateArgs) -> anyhow::Result<()> {
    let restart = a.restart.as_deref().map(RestartPolicy::parse).transpose()?;
    let limits = LimitArgs {
        memory: a.memory,
        memory_swap: a.memory_swap,
        memory_reservation: a.memory_reservation,
        memory_swappiness: a.memory_swappiness,
        cpus: a.cpus,
        cpu_shares: a.cpu_shares,
        cpu_quota: a.cpu_quota,
        cpu_period: a.cpu_period,
        cpuset_cpus: a.cpuset_cpus,
        cpuset_mems: a.cpuset_mems,
        pids_limit: a.pids_limit,
        blkio_weight: a.blkio_weight,
        device_read_bps: a.device_read_bps,
        device_write_bps: a.device_write_bps,
        device_read_iops: a.device_read_iops,
        device_write_iops: a.device_write_iops,
        ..Default::default()
    };
    let ctx = Context::new()?;
    for w in update::update(&ctx, &a.container, &limits, restart)? {
        crate::util::print_warning(w);
    }
    // Podman prints the container's ID.
    let c = crate::engine::container::resolve(&ctx.db()?, &a.container)?;
    println!("{}", c.id);
    Ok(())
}
