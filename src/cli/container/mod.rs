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
    Exec(ExecArgs),
    /// Run a command in a new container
    #[command(disable_help_flag = true)]
    Run(RunArgs),
    /// Create a container without starting it
    #[command(disable_help_flag = true)]
    Create(CreateArgs),
    /// Start created or stopped containers
    Start(StartArgs),
    /// List containers
    Ps(PsArgs),
    /// Show a container's output
    Logs(LogsArgs),
    /// Stop containers (stop signal, then SIGKILL after the timeout)
    Stop(StopArgs),
    /// Send a signal to containers
    Kill(KillArgs),
    /// Remove containers
    Rm(RmArgs),
    /// Wait for containers to exit and print their exit codes
    Wait(NamesArgs),
    /// Stop and start containers again
    Restart(RestartArgs),
    /// Freeze all processes of running containers (the cgroup freezer)
    Pause(PauseArgs),
    /// Resume the processes of paused containers
    Unpause(PauseArgs),
    /// Give a container a new name
    Rename { container: String, name: String },
    /// Show the processes of a running container (DESCRIPTORS: pid, user, args, comm, etime, ...)
    Top {
        container: String,
        /// ps descriptors as Podman takes them: pid,ppid,user,args,comm,etime,time,pcpu,vsz,rss,tty,...
        descriptors: Vec<String>,
    },
    /// Show containers' resource use (CPU, memory, network and block IO, PIDs)
    Stats(stats::StatsArgs),
    /// Change a container's resource limits or restart policy
    Update(update::UpdateArgs),
    /// Run containers' health checks
    #[command(subcommand)]
    Healthcheck(healthcheck::HealthcheckCommand),
    /// Show a container's published ports (all, or where PORT[/PROTO] is published)
    Port { container: String, port: Option<String> },
    /// Attach to a running container's input and output
    Attach(AttachArgs),
    /// Create an image from a container's changes
    Commit(commit::CommitArgs),
    /// Show the files a container (or an image's top layer) added, changed or deleted
    Diff(commit::DiffArgs),
    /// Export a container's file system as a tar archive
    Export(commit::ExportArgs),
    /// Copy files between a container and the host (or a tar on stdin/stdout)
    Cp(CpArgs),
    /// Mount a stopped container's root file system (rootless: inside "kiste unshare")
    Mount(mount::MountArgs),
    /// Unmount a container's root file system
    #[command(alias = "umount")]
    Unmount(mount::UnmountArgs),
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum ContainerCommand {
    #[command(flatten)]
    Top(TopLevel),
    /// List containers
    #[command(name = "list", alias = "ls")]
    List(PsArgs),
    /// Check whether a container exists (exit 0) or not (exit 1)
    Exists { container: String },
    /// Show a container's configuration and state (JSON, Podman's keys)
    Inspect(super::image::InspectArgs),
    /// Remove all containers that are not running
    Prune(PruneArgs),
}

pub fn run_top(c: TopLevel) -> anyhow::Result<()> {
    match c {
        TopLevel::Run(a) => run::run(a),
        TopLevel::Exec(a) => exec::exec(a),
        TopLevel::Create(a) => {
            let ctx = Context::new()?;
            let c = run::do_create(&ctx, a)?;
            println!("{}", c.id);
            Ok(())
        }
        TopLevel::Start(a) => lifecycle::start(a),
        TopLevel::Ps(a) => ps::ps(a),
        TopLevel::Logs(a) => logs::logs(a),
        TopLevel::Stop(a) => lifecycle::stop(a),
        TopLevel::Kill(a) => lifecycle::kill(a),
        TopLevel::Rm(a) => lifecycle::rm(a),
        TopLevel::Restart(a) => lifecycle::restart(a),
        TopLevel::Pause(a) => lifecycle::pause(a, false),
        TopLevel::Unpause(a) => lifecycle::pause(a, true),
        TopLevel::Rename { container, name } => {
            let ctx = Context::new()?;
            Ok(engine_lifecycle::rename(&ctx, &container, &name)?)
        }
        TopLevel::Top { container, descriptors } => top::top(&container, &descriptors),
        TopLevel::Stats(a) => stats::stats(a),
        TopLevel::Update(a) => update::update(a),
        TopLevel::Healthcheck(c) => healthcheck::run(c),
        TopLevel::Port { container, port } => top::ports(&container, port.as_deref()),
        TopLevel::Commit(a) => commit::commit(a),
        TopLevel::Diff(a) => commit::diff(a),
        TopLevel::Export(a) => commit::export(a),
        TopLevel::Attach(a) => exec::attach(a),
        TopLevel::Cp(a) => cp::cp(a),
        TopLevel::Mount(a) => mount::mount(a),
        TopLevel::Unmount(a) => mount::unmount(a),
        TopLevel::Wait(a) => {
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
        ContainerCommand::List(a) => ps::ps(a),
        ContainerCommand::Inspect(mut a) => {
            a.kind = "container".into();
            super::image::inspect(a)
        }
        ContainerCommand::Prune(a) => lifecycle::prune(a),
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
