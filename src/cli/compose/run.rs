//! `compose run`: a one-off container of a service (dependencies started first unless
//! `--no-deps`), attached to this terminal, or detached with `-d`; `--rm` removes it at its
//! end. Its exit code is ours.

use super::exec::expand_env;
use super::report::Terminal;
use super::{ProjectFlags, fail, load_project};
use crate::cli::Exit;
use crate::engine::Context;
use crate::engine::compose::images::{BuildMode, ImageOptions};
use crate::engine::compose::oneoff::{self, OneOff};
use crate::engine::container::{ContainerError, lifecycle};
use clap::Args;
use std::io::IsTerminal;

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Run the container in the background and print its ID
    #[arg(short, long)]
    detach: bool,
    /// Assign a name to the container
    #[arg(long)]
    name: Option<String>,
    /// Override the entrypoint of the image
    #[arg(long)]
    entrypoint: Option<String>,
    /// Set environment variables (KEY=VALUE, or KEY to copy it from this environment)
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Add or override a label
    #[arg(short, long)]
    label: Vec<String>,
    /// Publish a container's port(s) to the host
    #[arg(short, long)]
    publish: Vec<String>,
    /// Publish the service's ports
    #[arg(short = 'P', long)]
    service_ports: bool,
    /// Remove the container when it exits
    #[arg(long)]
    rm: bool,
    /// Do not start linked services
    #[arg(long)]
    no_deps: bool,
    /// Do not allocate a pseudo-terminal
    #[arg(short = 'T', long = "no-TTY", alias = "no-tty")]
    no_tty: bool,
    /// Keep stdin open
    #[arg(short, long)]
    interactive: bool,
    /// Run as USER[:GROUP]
    #[arg(short, long)]
    user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    workdir: Option<String>,
    /// Build the image before starting the container
    #[arg(long)]
    build: bool,
    /// Pull without printing progress
    #[arg(long)]
    quiet_pull: bool,
    /// Service
    service: String,
    /// Command and arguments (default: the service's)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

pub(super) fn run(g: &ProjectFlags, a: RunArgs) -> anyhow::Result<()> {
    let p = load_project(g)?;
    let ctx = Context::new()?;
    let terminal = std::io::stdin().is_terminal();
    let env = a
        .env
        .iter()
        .filter_map(|e| expand_env(e))
        .filter_map(|e| e.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())))
        .collect();
    let o = OneOff {
        service: a.service.clone(),
        command: (!a.command.is_empty()).then(|| a.command.clone()),
        entrypoint: a.entrypoint.as_ref().map(|e| e.split_whitespace().map(String::from).collect()),
        env,
        user: a.user.clone(),
        workdir: a.workdir.clone(),
        name: a.name.clone(),
        publish: a.publish.clone(),
        service_ports: a.service_ports,
        rm: a.rm,
        tty: !a.no_tty && terminal && !a.detach,
        interactive: (a.interactive || terminal) && !a.detach,
        labels: a.label.clone(),
        no_deps: a.no_deps,
        images: ImageOptions {
            build: if a.build { BuildMode::Always } else { BuildMode::Missing },
            ..ImageOptions::default()
        },
    };
    let mut rep = Terminal::new(false);
    rep.progress &= !a.quiet_pull;
    let c = oneoff::create(&ctx, &p, &o, &rep).map_err(fail)?;
    let keys = crate::monitor::parse_detach_keys(crate::monitor::DEFAULT_DETACH_KEYS).map_err(anyhow::Error::msg)?;
    let code = match lifecycle::start(&ctx, &c, !a.detach, &keys) {
        Ok(code) => code,
        Err(ContainerError::Exec { code, message }) => {
            crate::util::print_error(&message);
            code
        }
        Err(e) => return Err(e.into()),
    };
    if a.detach {
        println!("{}", c.id);
        return Ok(());
    }
    if code == 0 { Ok(()) } else { Err(Exit(code).into()) }
}
