//! `top` and `port`: a running container's processes (in psgo's descriptors), a
//! container's published ports.

use crate::cli::output;
use crate::engine::Context;
use crate::engine::container::{self as ctr, top};

pub(super) fn top(name: &str, descriptors: &[String]) -> anyhow::Result<()> {
    let desc = top::parse_descriptors(descriptors)?;
    let ctx = Context::new()?;
    let t = top::top(&ctx, name, &desc)?;
    output::table(&t.headings, &t.rows)?;
    Ok(())
}

/// `port CTR [PORT[/PROTO]]`: `80/tcp -> 0.0.0.0:8080` per published port, or the host
/// addresses of one container port.
pub(super) fn ports(name: &str, port: Option<&str>) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let c = ctr::resolve(&*ctx.db()?, name)?;
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
