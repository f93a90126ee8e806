//! Command-line definitions (clap) and dispatch: argument -> engine call -> output.
//! One file per command group; no engine logic here. Errors become one line on stderr
//! and Podman's exit codes (125 for kiste's own errors).

mod archive;
mod build;
mod compose;
mod container;
mod docs;
pub mod exit;
mod globals;
mod image;
pub mod internal;
mod lazy;
mod login;
mod network;
mod output;
mod push;
mod system;
mod volume;

use crate::cli::lazy::Lazy;
use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// An error that carries its own exit code (e.g. `image exists` answering 1).
#[derive(Debug)]
pub struct Exit(pub u8);

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit status {}", self.0)
    }
}
impl std::error::Error for Exit {}

#[derive(Parser, Debug)]
#[command(
    name = "kiste",
    version,
    about = "Manage pods, containers and images — rootless, daemonless",
    disable_help_subcommand = true,
    propagate_version = true,
    args_override_self = true
)]
pub struct Cli {
    /// Log messages at and above this level: trace, debug, info, warn, error
    #[arg(long, global = true, default_value = "warn", value_parser = ["trace", "debug", "info", "warn", "error", "fatal", "panic"])]
    pub log_level: String,

    #[command(flatten)]
    pub globals: globals::GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Define and run multi-container applications (compose files)
    Compose(Lazy<compose::ComposeArgs>),
    #[command(flatten)]
    Container(container::TopLevel),
    /// Manage containers
    #[command(name = "container", subcommand)]
    Container_(container::ContainerCommand),
    #[command(flatten)]
    Image(image::TopLevel),
    /// Manage images
    #[command(name = "image", subcommand)]
    Image_(image::ImageCommand),
    #[command(flatten)]
    Login(login::LoginCommand),
    /// Push an image to a registry
    Push(Lazy<push::PushArgs>),
    /// Manage user-defined networks
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Manage volumes
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
    /// Docker's buildx: `buildx build` is `build`
    #[command(subcommand)]
    Buildx(BuildxCommand),
    #[command(flatten)]
    System(system::TopLevel),
    /// Manage kiste itself
    #[command(name = "system", subcommand)]
    System_(system::SystemCommand),
    /// Generate shell completion scripts
    Completion { shell: clap_complete::Shell },
    /// Write man pages and completion scripts (for maintainers)
    #[command(name = "__generate-docs", hide = true)]
    GenerateDocs { man: std::path::PathBuf, completions: std::path::PathBuf },
}

#[derive(Subcommand, Debug)]
pub enum BuildxCommand {
    /// Build an image from a Containerfile or Dockerfile
    Build(Lazy<build::BuildArgs>),
}

fn init_logging(level: &str) {
    let level = match level {
        "fatal" | "panic" => "error",
        l => l,
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("KISTE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("kiste={level}")));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).without_time().try_init();
}

pub fn main() -> ExitCode {
    let cli = match parse() {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            return match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    let _ = e.print();
                    ExitCode::SUCCESS
                }
                _ => {
                    let args: Vec<String> = std::env::args().skip(1).collect();
                    crate::util::print_error(clap_error_line(&e.render().to_string(), &args));
                    ExitCode::from(125)
                }
            };
        }
    };
    init_logging(&cli.log_level);
    let _ = crate::engine::container::run::MONITOR_ENTRY.set(crate::monitor::serve);
    if let Err(e) = globals::apply(&cli.globals) {
        crate::util::print_error(one_line(&e));
        return ExitCode::from(125);
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            if let Some(Exit(code)) = e.downcast_ref::<Exit>() {
                return ExitCode::from(*code);
            }
            if let Some(c) = e.downcast_ref::<exit::Coded>() {
                crate::util::print_error(c);
                return ExitCode::from(c.code);
            }
            crate::util::print_error(one_line(&e));
            ExitCode::from(125)
        }
    }
}

/// The command line parsed. The definitions are not dropped: freeing hundreds of them one by
/// one, just before the process exits, only costs time.
fn parse() -> Result<Cli, clap::Error> {
    use clap::{CommandFactory, FromArgMatches};
    let mut cmd = Cli::command();
    let parsed = match cmd.try_get_matches_from_mut(std::env::args_os()) {
        Ok(mut m) => Cli::from_arg_matches_mut(&mut m).map_err(|e| e.format(&mut cmd)),
        Err(e) => Err(e),
    };
    std::mem::forget(cmd);
    parsed
}

/// clap's error (several lines: the problem, tips, usage) as one line: the problem, and
/// where to read about the command given in `args` (`see 'kiste run --help'`).
fn clap_error_line(rendered: &str, args: &[String]) -> String {
    let first = rendered.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("invalid arguments");
    let problem = first.strip_prefix("error: ").unwrap_or(first);
    format!("{problem}; see '{} --help'", command_path(args))
}

/// The subcommands named at the start of `args` (argv without the program), as `kiste a b`.
fn command_path(args: &[String]) -> String {
    use clap::CommandFactory;
    let mut cmd = Cli::command();
    let mut path = vec!["kiste".to_string()];
    for a in args.iter().filter(|a| !a.starts_with('-')) {
        let Some(sub) = cmd.find_subcommand(a).cloned() else { break };
        path.push(sub.get_name().to_string());
        cmd = sub;
    }
    path.join(" ")
}

/// The error and its causes on one line, without repeating a cause the message already has.
pub(crate) fn one_line(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.contains(&c) {
            out.push_str(": ");
            out.push_str(&c);
        }
    }
    out.replace('\n', " ")
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Compose(Lazy(c)) => compose::run(c),
        Command::Container(c) => container::run_top(c),
        Command::Container_(c) => container::run_group(c),
        Command::Image(c) => image::run_top(c),
        Command::Image_(c) => image::run(c),
        Command::Login(c) => login::run(c),
        Command::Push(Lazy(a)) => push::run(a),
        Command::Network(c) => network::run(c),
        Command::Volume(c) => volume::run(c),
        Command::Buildx(BuildxCommand::Build(Lazy(a))) => build::run(a),
        Command::System(c) => system::run_top(c),
        Command::System_(c) => system::run(c),
        Command::Completion { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "kiste", &mut std::io::stdout());
            Ok(())
        }
        Command::GenerateDocs { man, completions } => docs::generate(&man, &completions),
    }
}

/// Prints what a prune removed, one ID a line (under `heading` when something was removed, as
/// `system prune` does), then the failures on stderr.
pub fn print_pruned<'a>(heading: Option<&str>, ids: impl Iterator<Item = &'a str>, errors: &[String]) {
    let mut ids = ids.peekable();
    if let Some(h) = heading
        && (ids.peek().is_some() || !errors.is_empty())
    {
        println!("{h}");
    }
    for id in ids {
        println!("{}", crate::util::digest_hex(id));
    }
    for e in errors {
        crate::util::print_error(e);
    }
}

/// Asks a yes/no question on stderr, reading the answer from stdin; EOF means no.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    use std::io::Write;
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn line(args: &[&str]) -> String {
        let e = Cli::try_parse_from(args).unwrap_err();
        let rest: Vec<String> = args[1..].iter().map(|a| a.to_string()).collect();
        clap_error_line(&e.render().to_string(), &rest)
    }

    #[test]
    fn the_command_line_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn a_single_value_option_given_twice_takes_the_last() {
        let cli =
            Cli::try_parse_from(["kiste", "--root", "/a", "--root", "/b", "ps", "--format", "x", "--format", "y"])
                .unwrap();
        assert_eq!(cli.globals.root.as_deref(), Some(std::path::Path::new("/b")));
        assert!(Cli::try_parse_from(["kiste", "run", "--rm", "--rm", "--name", "a", "--name", "b", "img"]).is_ok());
        assert!(Cli::try_parse_from(["kiste", "ps", "--root", "/x", "-a"]).is_ok(), "global options anywhere");
    }

    #[test]
    fn clap_errors_become_one_line_naming_the_command() {
        let l = line(&["kiste", "run", "--stop-timeout", "abc", "img"]);
        assert!(l.contains("--stop-timeout") && l.ends_with("see 'kiste run --help'") && !l.contains('\n'), "{l}");
        let l = line(&["kiste", "run", "--pull", "bogus", "img"]);
        assert!(l.contains("bogus") && l.contains("missing, always"), "{l}");
        let l = line(&["kiste", "network", "create", "--bogus"]);
        assert!(l.contains("--bogus") && l.ends_with("see 'kiste network create --help'"), "{l}");
        let l = line(&["kiste", "nosuchcommand"]);
        assert!(l.contains("nosuchcommand") && l.ends_with("see 'kiste --help'"), "{l}");
    }
}
