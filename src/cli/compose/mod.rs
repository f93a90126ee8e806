//! `kiste compose ...`: the compose flags shared by every subcommand (-f, -p,
//! --project-directory, --env-file, --profile, --ansi), loading the project from them, and
//! the subcommands, one file per command or group. Argument handling and output only;
//! engine::compose does the work.

mod config;
mod down;
mod exec;
mod images;
mod info;
mod lifecycle;
mod logs;
mod ps;
mod report;
mod run;
mod up;

use crate::cli::lazy::Lazy;
use crate::engine::compose::{self, ComposeError, LoadOptions, Project};
use anyhow::Context as _;
use clap::{Args, Subcommand, ValueEnum};
use std::io::Read;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ComposeArgs {
    #[command(flatten)]
    pub global: ProjectFlags,
    #[command(subcommand)]
    pub command: ComposeCommand,
}

/// The flags that choose the project, valid before any compose subcommand.
#[derive(Args, Debug, Clone)]
pub struct ProjectFlags {
    /// Compose file (several are merged in order; - reads stdin)
    #[arg(short = 'f', long = "file", value_name = "FILE")]
    pub files: Vec<String>,
    /// Project name (default: the project directory's name)
    #[arg(short = 'p', long)]
    pub project_name: Option<String>,
    /// Project directory (default: the first compose file's directory)
    #[arg(long, value_name = "DIR")]
    pub project_directory: Option<PathBuf>,
    /// Environment file for interpolation (default: .env in the project directory)
    #[arg(long = "env-file", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
    /// Activate a profile
    #[arg(long = "profile", value_name = "PROFILE")]
    pub profiles: Vec<String>,
    /// Colours in output: never, always, auto (on a terminal)
    #[arg(long, value_enum, default_value = "auto")]
    pub ansi: Ansi,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum, PartialEq, Eq)]
pub enum Ansi {
    Never,
    Always,
    #[default]
    Auto,
}

#[derive(Subcommand, Debug)]
pub enum ComposeCommand {
    /// Create and start containers (build or pull images, create networks)
    Up(Lazy<up::UpArgs>),
    /// Stop and remove containers and networks
    Down(Lazy<down::DownArgs>),
    /// List containers
    Ps(Lazy<ps::PsArgs>),
    /// View output from containers
    Logs(Lazy<logs::LogsArgs>),
    /// Execute a command in a running container
    Exec(Lazy<exec::ExecArgs>),
    /// Run a one-off command on a service
    Run(Lazy<run::RunArgs>),
    /// Build or rebuild services
    Build(Lazy<images::BuildArgs>),
    /// Pull service images
    Pull(Lazy<images::PullArgs>),
    /// Push service images
    Push(Lazy<images::PushArgs>),
    /// List images used by the created containers
    Images(Lazy<images::ImagesArgs>),
    /// Create containers for a service
    Create(Lazy<up::CreateArgs>),
    /// Start services
    Start(Lazy<lifecycle::ServicesArgs>),
    /// Stop services
    Stop(Lazy<lifecycle::StopArgs>),
    /// Restart service containers
    Restart(Lazy<lifecycle::StopArgs>),
    /// Force stop service containers
    Kill(Lazy<lifecycle::KillArgs>),
    /// Remove stopped service containers
    Rm(Lazy<lifecycle::RmArgs>),
    /// Pause services (freeze their containers' processes)
    Pause(Lazy<lifecycle::ServicesArgs>),
    /// Unpause services
    Unpause(Lazy<lifecycle::ServicesArgs>),
    /// Block until the containers of services stop; print their exit codes
    Wait(Lazy<lifecycle::WaitArgs>),
    /// Parse, resolve and print the compose model in canonical form
    Config(Lazy<config::ConfigArgs>),
    /// Display the running processes
    Top(Lazy<info::TopArgs>),
    /// Print the public port for a port binding
    Port(Lazy<info::PortArgs>),
    /// List compose projects
    Ls(Lazy<info::LsArgs>),
    /// Show the compose version information
    Version(Lazy<info::VersionArgs>),
}

pub fn run(c: ComposeArgs) -> anyhow::Result<()> {
    let g = &c.global;
    match c.command {
        ComposeCommand::Up(Lazy(a)) => up::up(g, a),
        ComposeCommand::Down(Lazy(a)) => down::down(g, a),
        ComposeCommand::Ps(Lazy(a)) => ps::ps(g, a),
        ComposeCommand::Logs(Lazy(a)) => logs::logs(g, a),
        ComposeCommand::Exec(Lazy(a)) => exec::exec(g, a),
        ComposeCommand::Run(Lazy(a)) => run::run(g, a),
        ComposeCommand::Build(Lazy(a)) => images::build(g, a),
        ComposeCommand::Pull(Lazy(a)) => images::pull(g, a),
        ComposeCommand::Push(Lazy(a)) => images::push(g, a),
        ComposeCommand::Images(Lazy(a)) => images::images(g, a),
        ComposeCommand::Create(Lazy(a)) => up::create(g, a),
        ComposeCommand::Start(Lazy(a)) => lifecycle::start(g, a),
        ComposeCommand::Stop(Lazy(a)) => lifecycle::stop(g, a, false),
        ComposeCommand::Restart(Lazy(a)) => lifecycle::stop(g, a, true),
        ComposeCommand::Kill(Lazy(a)) => lifecycle::kill(g, a),
        ComposeCommand::Rm(Lazy(a)) => lifecycle::rm(g, a),
        ComposeCommand::Pause(Lazy(a)) => lifecycle::pause(g, a, false),
        ComposeCommand::Unpause(Lazy(a)) => lifecycle::pause(g, a, true),
        ComposeCommand::Wait(Lazy(a)) => lifecycle::wait(g, a),
        ComposeCommand::Config(Lazy(a)) => config::config(g, a),
        ComposeCommand::Top(Lazy(a)) => info::top(g, a),
        ComposeCommand::Port(Lazy(a)) => info::port(g, a),
        ComposeCommand::Ls(Lazy(a)) => info::ls(a),
        ComposeCommand::Version(Lazy(a)) => info::version(a),
    }
}

/// The engine's options from the flags and this process.
pub fn load_options(g: &ProjectFlags, interpolate: bool) -> anyhow::Result<LoadOptions> {
    let stdin = if g.files.iter().any(|f| f == "-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("cannot read the compose file from stdin")?;
        Some(text)
    } else {
        None
    };
    Ok(LoadOptions {
        files: g.files.clone(),
        project_name: g.project_name.clone(),
        project_directory: g.project_directory.clone(),
        env_files: g.env_files.clone(),
        profiles: g.profiles.clone(),
        interpolate,
        cwd: std::env::current_dir().context("cannot find the working directory")?,
        environment: std::env::vars().collect(),
        stdin,
    })
}

pub fn print_warnings(warnings: &[String]) {
    for w in warnings {
        crate::util::print_warning(w);
    }
}

/// Loads the project the flags choose, printing the warnings met.
pub fn load_project(g: &ProjectFlags) -> anyhow::Result<Project> {
    let loaded = compose::load(&load_options(g, true)?)?;
    print_warnings(&loaded.warnings);
    Ok(loaded.project)
}

/// The project from its files, or, when no file is found but `-p` names it, the project as
/// its labels know it (`down -p NAME`, `ps -p NAME` work from anywhere). The flag says which.
pub fn project_or_name(g: &ProjectFlags) -> anyhow::Result<(Project, bool)> {
    match compose::load(&load_options(g, true)?) {
        Ok(loaded) => {
            print_warnings(&loaded.warnings);
            Ok((loaded.project, false))
        }
        Err(ComposeError::NoFile(_)) if g.project_name.is_some() => {
            let name = g.project_name.clone().unwrap_or_default();
            if compose::normalize_project_name(&name) != name {
                anyhow::bail!("invalid project name \"{name}\" (-p): use only lowercase letters, digits, '-' and '_'");
            }
            Ok((Project { name, ..Project::default() }, true))
        }
        Err(e) => Err(e.into()),
    }
}

/// An engine error as the CLI shows it (a failed build keeps its exit code).
pub fn fail(e: ComposeError) -> anyhow::Error {
    match e.exit_code() {
        Some(code) if code != 125 => {
            crate::util::print_error(&e);
            super::Exit(code).into()
        }
        _ => e.into(),
    }
}
