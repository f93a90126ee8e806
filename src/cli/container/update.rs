//! `update`: a container's limits and restart policy changed, running or not (the engine's
//! container::update applies and records them).

use crate::engine::Context;
use crate::engine::container::{restart::RestartPolicy, update};
use clap::Args;

#[derive(Args, Debug)]
pub struct UpdateArgs {
    #[command(flatten)]
    limit: super::limits::LimitFlags,
    /// Restart policy: no, on-failure[:N], always, unless-stopped
    #[arg(long)]
    restart: Option<String>,
    /// The container (name or ID)
    container: String,
}

pub(super) fn update(a: UpdateArgs) -> anyhow::Result<()> {
    let restart = a.restart.as_deref().map(RestartPolicy::parse).transpose()?;
    let limits = a.limit.args();
    let ctx = Context::new()?;
    for w in update::update(&ctx, &a.container, &limits, restart)? {
        crate::util::print_warning(w);
    }
    // Podman prints the container's ID.
    let c = crate::engine::container::resolve(&*ctx.db()?, &a.container)?;
    println!("{}", c.id);
    Ok(())
}
