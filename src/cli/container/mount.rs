//! `mount` and `unmount` (`umount`, `container mount/unmount`): a stopped container's root
//! mounted where it can be read and changed, as Podman's. Rootless only inside `kiste
//! unshare`, whose mount namespace keeps the mount; the engine (container::rootmount) mounts.

use crate::cli::output;
use crate::engine::Context;
use crate::engine::container::{self as ctr, rootmount};
use clap::Args;

#[derive(Args, Debug)]
pub struct MountArgs {
    /// Containers to mount; none lists the mounted ones
    containers: Vec<String>,
    /// Mount every container
    #[arg(short, long)]
    all: bool,
    /// Print the mounted containers as json
    #[arg(long)]
    format: Option<String>,
    /// Do not truncate container IDs
    #[arg(long = "no-trunc", alias = "notruncate")]
    no_trunc: bool,
}

#[derive(Args, Debug)]
pub struct UnmountArgs {
    /// Containers to unmount
    containers: Vec<String>,
    /// Unmount every mounted container
    #[arg(short, long)]
    all: bool,
    /// Unmount even if others use the mount (kiste keeps no mount counter: always)
    #[arg(short, long)]
    force: bool,
}

pub(super) fn mount(a: MountArgs) -> anyhow::Result<()> {
    if a.format.as_deref().is_some_and(|f| !output::is_json(Some(f))) {
        anyhow::bail!("unsupported --format {:?} for mount: use json", a.format.unwrap_or_default());
    }
    let ctx = crate::cli::system::unshare_context("mount")?;
    let conn = ctx.db()?;
    let targets = match (a.all, a.containers.is_empty()) {
        (true, _) => ctr::list(&conn)?,
        (false, true) => return list(&ctx, &a),
        (false, false) => a.containers.iter().map(|n| ctr::resolve(&conn, n)).collect::<Result<Vec<_>, _>>()?,
    };
    let one = !a.all && targets.len() == 1;
    for c in &targets {
        let at = rootmount::mount(&ctx, c)?;
        if one {
            println!("{}", at.display());
        } else {
            println!("{} {}", c.id, at.display());
        }
    }
    Ok(())
}

/// The containers mounted in this namespace: `ID  MOUNTPOINT`, or json.
fn list(ctx: &Context, a: &MountArgs) -> anyhow::Result<()> {
    let found = rootmount::mounted(ctx, ctr::list(&*ctx.db()?)?);
    if a.format.is_some() {
        let rows: Vec<serde_json::Value> =
            found.iter().map(|(c, at)| serde_json::json!({"id": c.id, "names": [c.name], "mountpoint": at})).collect();
        return Ok(output::json(&serde_json::Value::Array(rows))?);
    }
    for (c, at) in &found {
        let id = if a.no_trunc { &c.id[..] } else { &c.id[..c.id.len().min(12)] };
        println!("{id}  {}", at.display());
    }
    Ok(())
}

pub(super) fn unmount(a: UnmountArgs) -> anyhow::Result<()> {
    let _ = a.force;
    if a.all != a.containers.is_empty() {
        anyhow::bail!("give container names or --all (not both)");
    }
    let ctx = crate::cli::system::unshare_context("unmount")?;
    let conn = ctx.db()?;
    let targets = match a.all {
        true => rootmount::mounted(&ctx, ctr::list(&conn)?).into_iter().map(|(c, _)| c).collect(),
        false => a.containers.iter().map(|n| ctr::resolve(&conn, n)).collect::<Result<Vec<_>, _>>()?,
    };
    for c in &targets {
        if !rootmount::unmount(&ctx, c)? {
            anyhow::bail!("container {} is not mounted here; mount it with \"kiste mount {}\"", c.name, c.name);
        }
        println!("{}", c.id);
    }
    Ok(())
}
