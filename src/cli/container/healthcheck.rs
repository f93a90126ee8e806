//! `healthcheck run CTR`: the container's health check once, now (exit 0 when it passed;
//! 1 and the status printed when it did not, as Podman).

use super::Exit;
use crate::engine::Context;
use crate::engine::container::health;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum HealthcheckCommand {
    /// Run a container's health check now
    Run {
        /// Exit 0 whatever the result
        #[arg(long)]
        ignore_result: bool,
        container: String,
    },
}

pub(super) fn run(c: HealthcheckCommand) -> anyhow::Result<()> {
    let HealthcheckCommand::Run { ignore_result, container } = c;
    let ctx = Context::new()?;
    let Some(checked) = health::run_check(&ctx, &container, health::Trigger::User)? else {
        anyhow::bail!("container {container} stopped while its health check ran");
    };
    if checked.passed {
        return Ok(());
    }
    println!("{}", if checked.status == health::Status::Starting { "starting" } else { "unhealthy" });
    if ignore_result { Ok(()) } else { Err(Exit(1).into()) }
}
