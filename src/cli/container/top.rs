//! `top` and `port`: a running container's processes, a container's published ports.

use crate::cli::output;
use crate::engine::Context;
use crate::engine::container::{self as ctr, lifecycle};

pub(super) fn top(name: &str) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let procs = lifecycle::top(&ctx, name)?;
    let hms = |s: u64| format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    let mut rows = Vec::new();
    for p in procs {
        rows.push(vec![
            p.user,
            p.pid.to_string(),
            p.ppid.to_string(),
            format!("{:.3}", p.cpu_percent),
            humantime_secs(p.elapsed_secs),
            p.tty,
            hms(p.cpu_secs),
            p.command,
        ]);
    }
    output::table(&["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"], &rows)?;
    Ok(())
}

/// Elapsed time as Podman's top prints it ("5.123s" style is Go's; we keep whole units).
fn humantime_secs(s: u64) -> String {
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{}s", s / 60, s % 60),
        s => format!("{}h{}m{}s", s / 3600, s / 60 % 60, s % 60),
    }
}

/// `port CTR [PORT[/PROTO]]`: `80/tcp -> 0.0.0.0:8080` per published port, or the host
/// addresses of one container port.
pub(super) fn ports(name: &str, port: Option<&str>) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let c = ctr::resolve(&ctx.db()?, name)?;
    let Some(p) = port else {
        for m in &c.kept.ports {
            println!("{}/{} -> {}:{}", m.container_port, m.proto, m.shown_ip(), m.host_port);
        }
        return Ok(());
    };
    let found = crate::engine::network::ports::published(&c.kept.ports, p)?;
    if found.is_empty() {
        anyhow::bail!("container {} does not publish port {p}", c.name);
    }
    for m in found {
        println!("{}:{}", m.shown_ip(), m.host_port);
    }
    Ok(())
}
