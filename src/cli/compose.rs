//! `kiste compose ...`: the compose flags shared by every subcommand (-f, -p,
//! --project-directory, --env-file, --profile), loading the project from them, and the
//! subcommands (`config`). Argument handling and output only; engine::compose does the work.

use crate::engine::compose::{self, Format, LoadOptions, Project};
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
}

#[derive(Subcommand, Debug)]
pub enum ComposeCommand {
    /// Parse, resolve and print the compose model in canonical form
    Config(ConfigArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OutputFormat {
    Yaml,
    Json,
}

#[derive(Args, Debug)]
pub struct ConfigArgs {
    /// Only these services (and what they depend on)
    services: Vec<String>,
    /// Print the service names, one per line
    #[arg(long = "services")]
    list_services: bool,
    /// Print the volume names, one per line
    #[arg(long)]
    volumes: bool,
    /// Print the network names, one per line
    #[arg(long)]
    networks: bool,
    /// Print the profile names, one per line
    #[arg(long)]
    profiles: bool,
    /// Print the image names, one per line
    #[arg(long)]
    images: bool,
    /// Output format
    #[arg(long, value_enum, default_value = "yaml")]
    format: OutputFormat,
    /// Only validate the configuration, print nothing
    #[arg(short, long)]
    quiet: bool,
    /// Do not interpolate variables (prints the merged, unresolved model)
    #[arg(long)]
    no_interpolate: bool,
    /// Write the model to this file instead of stdout
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
}

pub fn run(c: ComposeArgs) -> anyhow::Result<()> {
    match c.command {
        ComposeCommand::Config(a) => config(&c.global, a),
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

fn print_warnings(warnings: &[String]) {
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

fn config(g: &ProjectFlags, a: ConfigArgs) -> anyhow::Result<()> {
    let format = match a.format {
        OutputFormat::Yaml => Format::Yaml,
        OutputFormat::Json => Format::Json,
    };
    if a.no_interpolate && !(a.list_services || a.volumes || a.networks || a.profiles || a.images) {
        let (tree, warnings) = compose::load_model(&load_options(g, false)?)?;
        print_warnings(&warnings);
        return emit(&a, &compose::render_model(&tree, format));
    }
    let mut p = load_project(g)?;
    if !a.services.is_empty() {
        p.select(&a.services, true).map_err(anyhow::Error::msg)?;
    }
    let lines: Option<Vec<String>> = if a.list_services {
        Some(p.start_order().into_iter().map(str::to_string).collect())
    } else if a.volumes {
        Some(p.volumes.keys().cloned().collect())
    } else if a.networks {
        Some(p.networks.keys().cloned().collect())
    } else if a.profiles {
        let all = p.services.values().chain(p.disabled_services.values());
        let set: std::collections::BTreeSet<&String> = all.flat_map(|s| s.profiles.iter()).collect();
        Some(set.into_iter().cloned().collect())
    } else if a.images {
        Some(p.start_order().iter().filter_map(|n| p.service(n)).map(|s| s.image_name(&p.name)).collect())
    } else {
        None
    };
    match lines {
        Some(l) if !a.quiet => {
            l.iter().for_each(|l| println!("{l}"));
            Ok(())
        }
        Some(_) => Ok(()),
        None => emit(&a, &compose::render(&p, format)),
    }
}

fn emit(a: &ConfigArgs, text: &str) -> anyhow::Result<()> {
    if a.quiet {
        return Ok(());
    }
    match &a.output {
        Some(path) => std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
