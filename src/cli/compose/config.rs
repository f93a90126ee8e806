//! `compose config`: the resolved model (YAML or JSON, as docker compose prints it) or lists
//! of its services, volumes, networks, profiles, images.

use super::{ProjectFlags, load_options, load_project, print_warnings};
use crate::engine::compose::{self, Format};
use anyhow::Context as _;
use clap::{Args, ValueEnum};
use std::path::PathBuf;

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

pub(super) fn config(g: &ProjectFlags, a: ConfigArgs) -> anyhow::Result<()> {
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
