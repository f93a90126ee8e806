//! `run`, `create`, `start`, `ps`, `logs`, `exec`, `stop`, `kill`, `rm`, `wait`, `pause`, `stats`,
//! `top`, `update`, `healthcheck` and the `container ...` group: the command enums and
//! dispatch here, each command's flags and output in its own file. No engine logic: records,
//! filters and views come from the engine.

mod commit;
mod cp;
mod exec;
mod healthcheck;
mod lifecycle;
mod limits;
mod logs;
mod mount;
mod ps;
mod run;
mod select;
mod stats;
mod top;
mod update;

use super::Exit;
use crate::cli::lazy::Lazy;
use crate::engine::Context;
use crate::engine::container::{self as ctr, ContainerError, lifecycle as engine_lifecycle};
use clap::Subcommand;
pub use cp::CpArgs;
pub use exec::{AttachArgs, ExecArgs};
pub use lifecycle::{KillArgs, NamesArgs, PauseArgs, PruneArgs, RestartArgs, RmArgs, StartArgs, StopArgs};
pub use logs::LogsArgs;
pub use ps::PsArgs;
pub use run::{CreateArgs, RunArgs};

#[derive(Subcommand, Debug)]
pub enum TopLevel {
    /// Run a process in a running container
    Exec(Lazy<ExecArgs>),
    /// Run a command in a new container
    #[command(disable_help_flag = true)]
    Run(Lazy<RunArgs>),
    /// Create a container without starting it
    #[command(disable_help_flag = true)]
    Create(Lazy<CreateArgs>),
    /// Start created or stopped containers
    Start(Lazy<StartArgs>),
    /// List containers
    Ps(Lazy<PsArgs>),
    /// Show a container's output
    Logs(Lazy<LogsArgs>),
    /// Stop containers (stop signal, then SIGKILL after the timeout)
    Stop(Lazy<StopArgs>),
    /// Send a signal to containers
    Kill(Lazy<KillArgs>),
    /// Remove containers
    Rm(Lazy<RmArgs>),
    /// Wait for containers to exit and print their exit codes
    Wait(Lazy<NamesArgs>),
    /// Stop and start containers again
    Restart(Lazy<RestartArgs>),
    /// Freeze all processes of running containers (the cgroup freezer)
    Pause(Lazy<PauseArgs>),
    /// Resume the processes of paused containers
    Unpause(Lazy<PauseArgs>),
    /// Give a container a new name
    Rename { container: String, name: String },
    /// Show the processes of a running container (DESCRIPTORS: pid, user, args, comm, etime, ...)
    Top {
        container: String,
        /// ps descriptors as Podman takes them: pid,ppid,user,args,comm,etime,time,pcpu,vsz,rss,tty,...
        descriptors: Vec<String>,
    },
    /// Show containers' resource use (CPU, memory, network and block IO, PIDs)
    Stats(Lazy<stats::StatsArgs>),
    /// Change a container's resource limits or restart policy
    Update(Lazy<update::UpdateArgs>),
    /// Run containers' health checks
    #[command(subcommand)]
    Healthcheck(healthcheck::HealthcheckCommand),
    /// Show a container's published ports (all, or where PORT[/PROTO] is published)
    Port { container: String, port: Option<String> },
    /// Attach to a running container's input and output
    Attach(Lazy<AttachArgs>),
    /// Create an image from a container's changes
    Commit(Lazy<commit::CommitArgs>),
    /// Show the files a container (or an image's top layer) added, changed or deleted
    Diff(Lazy<commit::DiffArgs>),
    /// Export a container's file system as a tar archive
    Export(Lazy<commit::ExportArgs>),
    /// Copy files between a container and the host (or a tar on stdin/stdout)
    Cp(Lazy<CpArgs>),
    /// Mount a stopped container's root file system (rootless: inside "kiste unshare")
    Mount(Lazy<mount::MountArgs>),
    /// Unmount a container's root file system
    #[command(alias = "umount")]
    Unmount(Lazy<mount::UnmountArgs>),
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum ContainerCommand {
    #[command(flatten)]
    Top(TopLevel),
    /// List containers
    #[command(name = "list", alias = "ls")]
    List(Lazy<PsArgs>),
    /// Check whether a container exists (exit 0) or not (exit 1)
    Exists { container: String },
    /// Show a container's configuration and state (JSON, Podman's keys)
    Inspect(Lazy<super::image::InspectArgs>),
    /// Remove all containers that are not running
    Prune(Lazy<PruneArgs>),
}

pub fn run_top(c: TopLevel) -> anyhow::Result<()> {
    match c {
        TopLevel::Run(Lazy(a)) => run::run(a),
        TopLevel::Exec(Lazy(a)) => exec::exec(a),
        TopLevel::Create(Lazy(a)) => {
            let ctx = Context::new()?;
            let c = run::do_create(&ctx, a)?;
            println!("{}", c.id);
            Ok(())
        }
        TopLevel::Start(Lazy(a)) => lifecycle::start(a),
        TopLevel::Ps(Lazy(a)) => ps::ps(a),
        TopLevel::Logs(Lazy(a)) => logs::logs(a),
        TopLevel::Stop(Lazy(a)) => lifecycle::stop(a),
        TopLevel::Kill(Lazy(a)) => lifecycle::kill(a),
        TopLevel::Rm(Lazy(a)) => lifecycle::rm(a),
        TopLevel::Restart(Lazy(a)) => lifecycle::restart(a),
        TopLevel::Pause(Lazy(a)) => lifecycle::pause(a, false),
        TopLevel::Unpause(Lazy(a)) => lifecycle::pause(a, true),
        TopLevel::Rename { container, name } => {
            let ctx = Context::new()?;
            Ok(engine_lifecycle::rename(&ctx, &container, &name)?)
        }
        TopLevel::Top { container, descriptors } => top::top(&container, &descriptors),
        TopLevel::Stats(Lazy(a)) => stats::stats(a),
        TopLevel::Update(Lazy(a)) => update::update(a),
        TopLevel::Healthcheck(c) => healthcheck::run(c),
        TopLevel::Port { container, port } => top::ports(&container, port.as_deref()),
        TopLevel::Commit(Lazy(a)) => commit::commit(a),
        TopLevel::Diff(Lazy(a)) => commit::diff(a),
        TopLevel::Export(Lazy(a)) => commit::export(a),
        TopLevel::Attach(Lazy(a)) => exec::attach(a),
        TopLevel::Cp(Lazy(a)) => cp::cp(a),
        TopLevel::Mount(Lazy(a)) => mount::mount(a),
        TopLevel::Unmount(Lazy(a)) => mount::unmount(a),
        TopLevel::Wait(Lazy(a)) => {
            let ctx = Context::new()?;
            for n in &a.containers {
                println!("{}", engine_lifecycle::wait(&ctx, n)?);
            }
            Ok(())
        }
    }
}

pub fn run_group(c: ContainerCommand) -> anyhow::Result<()> {
    match c {
        ContainerCommand::Top(t) => run_top(t),
        ContainerCommand::List(Lazy(a)) => ps::ps(a),
        ContainerCommand::Inspect(Lazy(mut a)) => {
            a.kind = "container".into();
            super::image::inspect(a)
        }
        ContainerCommand::Prune(Lazy(a)) => lifecycle::prune(a),
        ContainerCommand::Exists { container } => {
            let ctx = Context::new()?;
            match ctr::resolve(&*ctx.db()?, &container) {
                Ok(_) => Ok(()),
                Err(ContainerError::NotFound(_)) => Err(Exit(1).into()),
                Err(e) => Err(e.into()),
            }
        }
    }
}
