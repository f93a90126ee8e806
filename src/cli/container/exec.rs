//! `exec` and `attach`: a process in a running container, or the container's own input and
//! output; detach keys.

use super::Exit;
use crate::engine::Context;
use crate::engine::container::lifecycle;
use clap::Args;

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Run in the background
    #[arg(short, long)]
    detach: bool,
    /// Keep stdin open
    #[arg(short, long)]
    interactive: bool,
    /// Allocate a pseudo-terminal
    #[arg(short, long)]
    tty: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Run as USER[:GROUP]
    #[arg(short, long)]
    user: Option<String>,
    /// Working directory
    #[arg(short, long)]
    workdir: Option<String>,
    container: String,
    /// Command and arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// Do not attach stdin
    #[arg(long)]
    no_stdin: bool,
    /// Forward received signals to the container (non-terminal containers)
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", require_equals = true, action = clap::ArgAction::Set)]
    sig_proxy: bool,
    /// Key sequence that detaches (default ctrl-p,ctrl-q)
    #[arg(long)]
    detach_keys: Option<String>,
    container: String,
}

pub(super) fn exec(a: ExecArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let opts = lifecycle::ExecOptions {
        args: a.command,
        env: a.env.iter().filter_map(|e| super::run::expand_env(e)).collect(),
        workdir: a.workdir,
        user: a.user,
        detach: a.detach,
        tty: a.tty,
        interactive: a.interactive,
    };
    let code = lifecycle::exec(&ctx, &a.container, &opts)?;
    if code == 0 { Ok(()) } else { Err(Exit(code).into()) }
}

pub(super) fn attach(a: AttachArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let keys = detach_keys(a.detach_keys.as_deref())?;
    let code = lifecycle::attach(&ctx, &a.container, !a.no_stdin, a.sig_proxy, &keys, &mut |r| {
        super::logs::write_record(r, None, None)
    })?;
    match code {
        Some(0) | None => Ok(()),
        Some(c) => Err(Exit(c).into()),
    }
}

pub(super) fn detach_keys(given: Option<&str>) -> anyhow::Result<Vec<u8>> {
    crate::monitor::parse_detach_keys(given.unwrap_or(crate::monitor::DEFAULT_DETACH_KEYS)).map_err(anyhow::Error::msg)
}
