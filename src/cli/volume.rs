//! `kiste volume ...`: named volumes (create, ls, inspect, rm, prune, exists, export, import,
//! mount, reload). Argument handling and output only; engine::volume keeps the volumes.

use super::{Exit, output};
use crate::cli::lazy::Lazy;
use crate::engine::Context;
use crate::engine::volume::{self, VolumeError, prune::Filter};
use crate::template::{Method, Value};
use clap::{Args, Subcommand};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::Stdio;

#[derive(Subcommand, Debug)]
pub enum VolumeCommand {
    /// Create a volume
    Create(Lazy<CreateArgs>),
    /// List volumes
    #[command(alias = "list")]
    Ls(Lazy<LsArgs>),
    /// Show volumes' details (JSON, Podman's keys)
    Inspect {
        volumes: Vec<String>,
        /// Inspect every volume
        #[arg(short, long)]
        all: bool,
        /// json, or a Go template
        #[arg(short, long)]
        format: Option<String>,
    },
    /// Remove volumes
    #[command(alias = "remove")]
    Rm {
        volumes: Vec<String>,
        /// Remove the containers that use them too; a missing volume is not an error
        #[arg(short, long)]
        force: bool,
        /// Remove every volume
        #[arg(short, long)]
        all: bool,
    },
    /// Remove the volumes no container uses
    Prune {
        /// Do not ask for confirmation
        #[arg(short, long)]
        force: bool,
        /// label=KEY[=VALUE], label!=..., until=TIME, anonymous=true|false
        #[arg(long)]
        filter: Vec<String>,
    },
    /// Exit 0 when the volume exists, 1 when it does not
    Exists { volume: String },
    /// Write a volume's contents as a tar (to stdout, which must not be a terminal, or -o)
    Export {
        volume: String,
        /// Write to this file
        #[arg(short, long)]
        output: Option<std::path::PathBuf>,
    },
    /// Fill a volume from a tar file (or - for stdin; gzip and zstd are read too)
    Import { volume: String, source: String },
    /// Print volumes' mount points (inside `kiste unshare`, as Podman)
    Mount {
        #[arg(required = true)]
        volumes: Vec<String>,
    },
    /// Record volume directories that have no record, drop records whose directory is gone
    Reload,
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Name (a random one when none is given)
    name: Option<String>,
    /// Driver: only local
    #[arg(short, long, default_value = "local")]
    driver: String,
    /// Driver option: type=tmpfs|bind, device=PATH, o=OPTIONS (size=, uid=, gid=...), copy, nocopy
    #[arg(short, long = "opt")]
    opt: Vec<String>,
    /// Label KEY=VALUE
    #[arg(short, long)]
    label: Vec<String>,
    /// Succeed (printing the name) when the volume exists
    #[arg(long)]
    ignore: bool,
    /// Owner of the volume's directory (a container uid)
    #[arg(long)]
    uid: Option<u32>,
    /// Group of the volume's directory (a container gid)
    #[arg(long)]
    gid: Option<u32>,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Only names
    #[arg(short, long)]
    quiet: bool,
    /// json, or a Go template
    #[arg(long)]
    format: Option<String>,
    /// name=, label=, label!=, dangling=, driver=, anonymous=, until=
    #[arg(short, long)]
    filter: Vec<String>,
    /// No heading row
    #[arg(short, long)]
    noheading: bool,
}

/// `{{.Labels}}` on volume rows: `k=v,k2=v2`, sorted.
fn labels_text(row: &Value, _: &[Value]) -> Result<Value, String> {
    let Some(Value::Map(m)) = row.get("Labels") else { return Ok(Value::str("")) };
    let text: Vec<String> = m
        .entries()
        .iter()
        .map(|(k, v)| match v {
            Value::Str(v) => format!("{k}={v}"),
            _ => k.clone(),
        })
        .collect();
    Ok(Value::from(text.join(",")))
}

/// `volume ls` rows.
const VOLUMES: output::Shape = output::Shape {
    name: "ls",
    type_name: |_| "volumes.volumeReporter",
    maps: &["Labels", "Options", "Status"],
    times: output::TIMES,
    methods: &[Method { name: "Labels", args: 0, call: labels_text }],
    headings: &[("Name", "volume name")],
    heading_row: true,
    inspect: false,
    optional: &[],
};

/// `volume inspect` objects.
const INSPECT: output::Shape = output::Shape {
    name: "inspect",
    type_name: |_| "define.InspectVolumeData",
    maps: &["Labels", "Options", "Status"],
    times: output::TIMES,
    methods: &[],
    headings: &[],
    heading_row: true,
    inspect: false,
    optional: &[],
};

fn key_values(what: &str, list: &[String]) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for kv in list {
        let (k, v) = kv.split_once('=').unwrap_or((kv.as_str(), ""));
        if k.is_empty() {
            anyhow::bail!("invalid {what} \"{kv}\": use KEY=VALUE");
        }
        out.insert(k.to_string(), v.to_string());
    }
    Ok(out)
}

pub fn run(c: VolumeCommand) -> anyhow::Result<()> {
    if let VolumeCommand::Mount { volumes } = &c {
        return mount(volumes);
    }
    let ctx = Context::new()?;
    match c {
        VolumeCommand::Create(Lazy(a)) => create(&ctx, a),
        VolumeCommand::Ls(Lazy(a)) => ls(&ctx, a),
        VolumeCommand::Inspect { volumes, all, format } => inspect(&ctx, volumes, all, format),
        VolumeCommand::Rm { volumes, force, all } => rm(&ctx, volumes, force, all),
        VolumeCommand::Prune { force, filter } => prune(&ctx, force, &filter),
        VolumeCommand::Exists { volume } => match volume::get(&*ctx.db()?, &volume) {
            Ok(_) => Ok(()),
            Err(VolumeError::NotFound(_)) => Err(Exit(1).into()),
            Err(e) => Err(e.into()),
        },
        VolumeCommand::Export { volume, output } => export(&ctx, &volume, output),
        VolumeCommand::Import { volume, source } => import(&ctx, &volume, &source),
        VolumeCommand::Mount { .. } => Ok(()),
        VolumeCommand::Reload => {
            let (added, removed) = volume::reload(&ctx)?;
            for (heading, names) in [("Added", added), ("Removed", removed)] {
                if !names.is_empty() {
                    println!("{heading}:");
                    names.iter().for_each(|n| println!("{n}"));
                }
            }
            Ok(())
        }
    }
}

fn create(ctx: &Context, a: CreateArgs) -> anyhow::Result<()> {
    let mut options = key_values("--opt", &a.opt)?;
    if let Some(u) = a.uid {
        options.insert("uid".into(), u.to_string());
    }
    if let Some(g) = a.gid {
        options.insert("gid".into(), g.to_string());
    }
    let o = volume::CreateOptions {
        name: a.name,
        driver: a.driver,
        labels: key_values("--label", &a.label)?,
        options,
        anonymous: false,
        ignore: a.ignore,
    };
    println!("{}", volume::create(ctx, &o)?.name);
    Ok(())
}

fn ls(ctx: &Context, a: LsArgs) -> anyhow::Result<()> {
    if a.quiet && a.format.is_some() {
        anyhow::bail!("quiet and format flags cannot be used together");
    }
    let now = crate::state::db::now();
    let filters = a.filter.iter().map(|f| Filter::parse(f, now, false)).collect::<Result<Vec<_>, _>>()?;
    let conn = ctx.db()?;
    let usage = volume::usage(ctx, &conn)?;
    let list: Vec<_> = volume::list(&conn)?
        .into_iter()
        .filter(|v| {
            let users = usage.get(&v.name).map_or(0, |u| u.0);
            volume::prune::matches_all(&filters, v, users)
        })
        .collect();
    if a.quiet {
        list.iter().for_each(|v| println!("{}", v.name));
        return Ok(());
    }
    let values: Vec<serde_json::Value> =
        list.iter().map(|v| volume::inspect_json(ctx, v, usage.get(&v.name).copied().unwrap_or_default())).collect();
    match a.format.as_deref() {
        Some(f) if output::is_json(Some(f)) => output::json(&serde_json::Value::Array(values))?,
        Some(f) => output::templated(f, &output::Shape { heading_row: !a.noheading, ..VOLUMES }, &values)?,
        None => {
            let rows: Vec<Vec<String>> = list.iter().map(|v| vec![v.driver.clone(), v.name.clone()]).collect();
            let headers: &[&str] = if a.noheading { &[] } else { &["DRIVER", "VOLUME NAME"] };
            output::table(headers, &rows)?;
        }
    }
    Ok(())
}

fn inspect(ctx: &Context, names: Vec<String>, all: bool, format: Option<String>) -> anyhow::Result<()> {
    let conn = ctx.db()?;
    let usage = volume::usage(ctx, &conn)?;
    let names = match (all, names.is_empty()) {
        (true, true) => volume::list(&conn)?.into_iter().map(|v| v.name).collect(),
        (false, false) => names,
        (true, false) => anyhow::bail!("give volume names or --all, not both"),
        (false, true) => anyhow::bail!("give at least one volume name, or --all"),
    };
    let mut found = Vec::new();
    let mut missing = false;
    for n in &names {
        match volume::get(&conn, n) {
            Ok(v) => found.push(volume::inspect_json(ctx, &v, usage.get(&v.name).copied().unwrap_or_default())),
            Err(e) => {
                crate::util::print_error(&e);
                missing = true;
            }
        }
    }
    match format.as_deref() {
        Some(f) if !output::is_json(Some(f)) => output::templated(f, &INSPECT, &found)?,
        _ => output::json(&serde_json::Value::Array(found))?,
    }
    if missing { Err(Exit(125).into()) } else { Ok(()) }
}

fn rm(ctx: &Context, names: Vec<String>, force: bool, all: bool) -> anyhow::Result<()> {
    let names = match (all, names.is_empty()) {
        (true, true) => volume::list(&*ctx.db()?)?.into_iter().map(|v| v.name).collect(),
        (false, false) => names,
        _ => anyhow::bail!("choose either one or more volumes or --all"),
    };
    use super::exit::{Verb, code};
    let mut codes = Vec::new();
    for n in &names {
        match volume::remove(ctx, n, force) {
            Ok(()) => println!("{n}"),
            Err(VolumeError::NotFound(_)) if force => {}
            Err(e) => {
                crate::util::print_error(&e);
                codes.push(code(Verb::VolumeRm, &e.into()));
            }
        }
    }
    // As `rm`: 1 once a volume was missing, else the last failure's code.
    match codes.last() {
        Some(_) if codes.contains(&1) => Err(Exit(1).into()),
        Some(c) => Err(Exit(*c).into()),
        None => Ok(()),
    }
}

fn prune(ctx: &Context, force: bool, filter: &[String]) -> anyhow::Result<()> {
    let now = crate::state::db::now();
    let filters = filter.iter().map(|f| Filter::parse(f, now, true)).collect::<Result<Vec<_>, _>>()?;
    if !force
        && !super::confirm(
            "WARNING! This will remove all volumes not used by at least one container.\nAre you sure you want to continue? [y/N] ",
        )?
    {
        return Ok(());
    }
    let (removed, errors) = volume::prune::prune(ctx, &filters)?;
    removed.iter().for_each(|p| println!("{}", p.name));
    errors.iter().for_each(crate::util::print_error);
    if errors.is_empty() { Ok(()) } else { Err(Exit(125).into()) }
}

fn export(ctx: &Context, name: &str, output: Option<std::path::PathBuf>) -> anyhow::Result<()> {
    let out = match output {
        Some(p) => {
            Stdio::from(std::fs::File::create(&p).map_err(|e| anyhow::anyhow!("cannot create {}: {e}", p.display()))?)
        }
        None if std::io::stdout().is_terminal() => {
            anyhow::bail!("cannot write to terminal, use command-line redirection or the --output flag")
        }
        None => Stdio::inherit(),
    };
    Ok(volume::io::export(ctx, name, out)?)
}

fn import(ctx: &Context, name: &str, source: &str) -> anyhow::Result<()> {
    let input = match source {
        "-" => Stdio::inherit(),
        p => Stdio::from(std::fs::File::open(p).map_err(|e| anyhow::anyhow!("cannot open {p}: {e}"))?),
    };
    for w in volume::io::import(ctx, name, input)? {
        crate::util::print_warning(w);
    }
    Ok(())
}

/// `volume mount`: rootless, only inside `kiste unshare` (where the paths are usable), as
/// Podman. There uid 0 is the user: the user's own store is meant, not root's.
fn mount(names: &[String]) -> anyhow::Result<()> {
    let ctx = &super::system::unshare_context("volume mount")?;
    let conn = ctx.db()?;
    for n in names {
        let v = volume::get(&conn, n)?;
        let path = match v.parsed()?.backing {
            volume::Backing::Bind { device, .. } => device,
            _ => v.data(ctx),
        };
        println!("{}", path.display());
    }
    Ok(())
}
