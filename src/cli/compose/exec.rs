//! `compose exec`: a command in a running container of a service (`--index` picks the
//! replica); a terminal by default when stdin is one, `-T` for none.

use super::{ProjectFlags, load_project};
use crate::cli::Exit;
use crate::engine::Context;
use crate::engine::compose::verbs;
use crate::engine::container::lifecycle;
use clap::Args;
use std::io::IsTerminal;

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Run the command in the background
    #[arg(short, long)]
    detach: bool,
    /// Do not allocate a pseudo-terminal
    #[arg(short = 'T', long = "no-tty")]
    no_tty: bool,
    /// Set environment variables (KEY=VALUE, or KEY to copy it from this environment)
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Run as USER[:GROUP]
    #[arg(short, long)]
    user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    workdir: Option<String>,
    /// The container number of the service (when it has several)
    #[arg(long, default_value_t = 1)]
    index: u32,
    /// Accepted for compatibility (exec runs with the container's privileges)
    #[arg(long)]
    privileged: bool,
    /// Service
    service: String,
    /// Command and arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// `KEY=VALUE` as is; `KEY` takes its value from our environment (dropped when unset).
pub(super) fn expand_env(e: &str) -> Option<String> {
    if e.contains('=') { Some(e.to_string()) } else { std::env::var(e).ok().map(|v| format!("{e}={v}")) }
}

pub(super) fn exec(g: &ProjectFlags, a: ExecArgs) -> anyhow::Result<()> {
    let p = load_project(g)?;
    let ctx = Context::new()?;
    let c = verbs::one(&ctx, &p, &a.service, a.index)?;
    if !c.c.is_running() {
        anyhow::bail!("service \"{}\" is not running: container {} is {}", a.service, c.c.name, c.c.state);
    }
    let terminal = std::io::stdin().is_terminal();
    let opts = lifecycle::ExecOptions {
        args: a.command,
        env: a.env.iter().filter_map(|e| expand_env(e)).collect(),
        workdir: a.workdir,
        user: a.user,
        detach: a.detach,
        tty: !a.no_tty && terminal,
        interactive: terminal,
    };
    let code = lifecycle::exec(&ctx, &c.c.id, &opts)?;
    if code == 0 { Ok(()) } else { Err(Exit(code).into()) }
}
