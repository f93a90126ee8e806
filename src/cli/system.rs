//! `version`, `info`, `unshare` and the `system ...` group (`info`, `df`, `prune`, `reset`).

use super::output;
use crate::cli::lazy::Lazy;
use crate::engine::Context;
use clap::{Args, Subcommand};
use std::ffi::OsString;

#[derive(Args, Debug)]
pub struct FormatArg {
    /// Output format: json or a Go template
    #[arg(short, long)]
    format: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum TopLevel {
    /// Show the kiste version
    Version(FormatArg),
    /// Show information about the host and the store
    Info(FormatArg),
    /// Run a command in the user namespace kiste uses for the store (as `podman unshare`)
    Unshare {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<OsString>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SystemCommand {
    /// Show information about the host and the store
    Info(FormatArg),
    /// Show disk usage of images, containers and volumes
    Df(Lazy<DfArgs>),
    /// Remove stopped containers, dangling (with -a: unused) images and unused layers (with
    /// --volumes: unused volumes)
    Prune(Lazy<PruneArgs>),
    /// Remove all containers, images, layers and state: back to an empty store
    Reset {
        /// Do not ask for confirmation
        #[arg(short, long)]
        force: bool,
    },
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    all: bool,
    /// Do not ask for confirmation
    #[arg(short, long)]
    force: bool,
    /// Remove the volumes no container uses too
    #[arg(long)]
    volumes: bool,
}

#[derive(Args, Debug)]
pub struct DfArgs {
    /// Show every image and container
    #[arg(short, long)]
    verbose: bool,
    /// Output format: json or a Go template
    #[arg(long)]
    format: Option<String>,
}

pub fn run_top(c: TopLevel) -> anyhow::Result<()> {
    match c {
        TopLevel::Version(f) => version(f),
        TopLevel::Info(f) => info(f),
        TopLevel::Unshare { command } => unshare(command),
    }
}

pub fn run(c: SystemCommand) -> anyhow::Result<()> {
    match c {
        SystemCommand::Info(f) => info(f),
        SystemCommand::Df(Lazy(a)) => df(a),
        SystemCommand::Prune(Lazy(a)) => prune(a),
        SystemCommand::Reset { force } => reset(force),
    }
}

/// `version`'s fields as Podman's (GoVersion names the Rust compiler; Built is when the
/// binary was written).
fn version_json() -> serde_json::Value {
    let built = std::env::current_exe()
        .and_then(std::fs::metadata)
        .and_then(|m| m.modified())
        .map(chrono::DateTime::<chrono::Local>::from)
        .ok();
    serde_json::json!({
        "Client": {
            "APIVersion": env!("CARGO_PKG_VERSION"),
            "Version": env!("CARGO_PKG_VERSION"),
            "GoVersion": option_env!("KISTE_RUSTC_VERSION").unwrap_or("rustc"),
            "GitCommit": "",
            "BuiltTime": built.map(|b| b.format("%a %b %e %H:%M:%S %Y").to_string()).unwrap_or_default(),
            "Built": built.map(|b| b.timestamp()).unwrap_or(0),
            "BuildOrigin": "",
            "OsArch": format!("linux/{}", crate::engine::image::platform::go_arch(std::env::consts::ARCH)),
            "Os": "linux",
        }
    })
}

fn version(f: FormatArg) -> anyhow::Result<()> {
    let v = version_json();
    match f.format.as_deref() {
        // As Podman: one line of JSON.
        Some(fmt) if output::is_json(Some(fmt)) => println!("{v}"),
        // No server: Podman answers `.Server.X` with the client's X.
        Some(fmt) if fmt.contains(".Server.") => {
            output::templated_one(&fmt.replace(".Server.", "."), &output::VERSION, &v["Client"])?
        }
        Some(fmt) => output::templated_one(fmt, &output::VERSION, &v)?,
        None => {
            let c = &v["Client"];
            let field = |k: &str| c[k].as_str().map(String::from).unwrap_or_else(|| c[k].to_string());
            for (label, value) in [
                ("Client:", "kiste".to_string()),
                ("Version:", field("Version")),
                ("API Version:", field("APIVersion")),
                ("Go Version:", field("GoVersion")),
                ("Built:", field("BuiltTime")),
                ("OS/Arch:", field("OsArch")),
            ] {
                println!("{label:<14}{value}");
            }
        }
    }
    Ok(())
}

fn yaml_like(v: &serde_json::Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match v {
                    serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        yaml_like(v, indent + 2, out);
                    }
                    other => out.push_str(&format!("{pad}{k}: {}\n", scalar(other))),
                }
            }
        }
        serde_json::Value::Array(a) => {
            for v in a {
                match v {
                    serde_json::Value::Object(_) => {
                        out.push_str(&format!("{pad}-\n"));
                        yaml_like(v, indent + 2, out);
                    }
                    other => out.push_str(&format!("{pad}- {}\n", scalar(other))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "\"\"".into(),
        o => o.to_string(),
    }
}

fn info(f: FormatArg) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let v = crate::engine::info::gather(&ctx);
    match f.format.as_deref() {
        Some(fmt) if output::is_json(Some(fmt)) => output::json(&v)?,
        Some(fmt) => {
            // Podman's Go field for host.cgroupVersion is CgroupsVersion (templates use it).
            let mut v = v;
            if let Some(h) = v.get_mut("host").and_then(|h| h.as_object_mut())
                && let Some(cg) = h.get("cgroupVersion").cloned()
            {
                h.insert("CgroupsVersion".into(), cg);
            }
            output::templated_one(fmt, &output::INFO, &v)?
        }
        None => {
            let mut s = String::new();
            yaml_like(&v, 0, &mut s);
            print!("{s}");
        }
    }
    Ok(())
}

fn unshare(command: Vec<OsString>) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let argv =
        if command.is_empty() { vec![std::env::var_os("SHELL").unwrap_or_else(|| "/bin/sh".into())] } else { command };
    let status = crate::storage::userns::run_in_userns(&ctx.idmap, &argv)?;
    use std::os::unix::process::ExitStatusExt;
    let code = status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    if code == 0 { Ok(()) } else { Err(super::Exit(code as u8).into()) }
}

/// The context of a command that works on the store's mounts (`mount`, `volume mount`):
/// rootless only inside `kiste unshare`, where uid 0 is the user (their store is meant, not
/// root's), as Podman's.
pub(crate) fn unshare_context(command: &str) -> anyhow::Result<Context> {
    // The store is the user's there (`Paths::discover`).
    let in_unshare = crate::state::paths::in_unshare_session();
    let ctx = Context::new()?;
    if !ctx.idmap.is_rootful() && !in_unshare {
        anyhow::bail!(
            "cannot run \"kiste {command}\" rootless outside the user namespace; run it in \"kiste unshare\""
        );
    }
    Ok(ctx)
}

fn percent(part: u64, whole: u64) -> u64 {
    if whole == 0 { 0 } else { (part as f64 / whole as f64 * 100.0).round() as u64 }
}

fn df(a: DfArgs) -> anyhow::Result<()> {
    use crate::engine::system::df;
    use crate::util::human_size_compact as size;
    if a.verbose && a.format.is_some() {
        anyhow::bail!("cannot combine --format and --verbose; use one of them");
    }
    let ctx = Context::new()?;
    let usage = df::usage(&ctx)?;
    if a.verbose {
        return df_verbose(&usage);
    }
    let rows = [
        ("Images", usage.images_summary()),
        ("Containers", usage.containers_summary()),
        ("Local Volumes", usage.volumes_summary()),
    ];
    let reclaimable = |s: &df::Summary| format!("{} ({}%)", size(s.reclaimable), percent(s.reclaimable, s.size));
    if let Some(fmt) = &a.format {
        let values: Vec<serde_json::Value> = rows
            .iter()
            .map(|(t, s)| {
                serde_json::json!({
                    "Type": t, "Total": s.total, "Active": s.active, "RawSize": s.size,
                    "RawReclaimable": s.reclaimable, "TotalCount": s.total,
                    "Size": size(s.size), "Reclaimable": reclaimable(s),
                })
            })
            .collect();
        if output::is_json(Some(fmt)) {
            return Ok(output::json(&serde_json::Value::Array(values))?);
        }
        return output::templated(fmt, &output::DF, &values);
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|(t, s)| vec![t.to_string(), s.total.to_string(), s.active.to_string(), size(s.size), reclaimable(s)])
        .collect();
    Ok(output::table(&["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], &table)?)
}

fn df_verbose(usage: &crate::engine::system::df::Usage) -> anyhow::Result<()> {
    use crate::util::{human_age, human_size_compact as size};
    let age = |t: chrono::DateTime<chrono::Utc>| human_age(t).trim_end_matches(" ago").to_string();
    let mut images = Vec::new();
    for i in &usage.images {
        let names: Vec<(String, String)> = if i.names.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            i.names.iter().map(|n| crate::engine::image::manage::split_name(n)).collect()
        };
        for (repo, tag) in names {
            images.push(vec![
                repo,
                tag,
                crate::util::short_id(&i.id),
                age(i.created),
                size(i.size),
                size(i.shared),
                size(i.unique),
                i.containers.to_string(),
            ]);
        }
    }
    println!("Images space usage:\n");
    output::table(
        &["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE", "SHARED SIZE", "UNIQUE SIZE", "CONTAINERS"],
        &images,
    )?;
    let containers: Vec<Vec<String>> = usage
        .containers
        .iter()
        .map(|u| {
            let c = &u.container;
            vec![
                c.id[..12].to_string(),
                crate::util::short_id(&c.image_id),
                c.command.join(" "),
                c.kept.mounts.iter().filter(|m| m.volume_name().is_some()).count().to_string(),
                size(u.size),
                age(c.created.datetime()),
                c.state.to_string(),
                c.name.clone(),
            ]
        })
        .collect();
    println!("\nContainers space usage:\n");
    output::table(
        &["CONTAINER ID", "IMAGE", "COMMAND", "LOCAL VOLUMES", "SIZE", "CREATED", "STATUS", "NAMES"],
        &containers,
    )?;
    println!("\nLocal Volumes space usage:\n");
    let volumes: Vec<Vec<String>> =
        usage.volumes.iter().map(|v| vec![v.name.clone(), v.links.to_string(), size(v.size)]).collect();
    Ok(output::table(&["VOLUME NAME", "LINKS", "SIZE"], &volumes)?)
}

fn prune(a: PruneArgs) -> anyhow::Result<()> {
    if !a.force {
        let images = if a.all {
            "all images without at least one container associated with them"
        } else {
            "all dangling images"
        };
        let volumes = if a.volumes { "\t- all volumes not used by at least one container\n" } else { "" };
        let question = format!(
            "WARNING! This command removes:\n\t- all stopped containers\n{volumes}\t- {images}\n\t- all layers and downloaded blobs no image uses\n\nAre you sure you want to continue? [y/N] "
        );
        if !super::confirm(&question)? {
            return Ok(());
        }
    }
    let ctx = Context::new()?;
    let r = crate::engine::system::prune::prune(&ctx, a.all, a.volumes)?;
    super::print_pruned(
        Some("Deleted Containers"),
        r.containers.removed.iter().map(|c| c.id.as_str()),
        &r.containers.errors,
    );
    if !r.volumes.is_empty() || !r.volume_errors.is_empty() {
        println!("Deleted Volumes");
        r.volumes.iter().for_each(|v| println!("{}", v.name));
        r.volume_errors.iter().for_each(crate::util::print_error);
    }
    super::print_pruned(Some("Deleted Images"), r.images.iter().map(|i| i.id.as_str()), &[]);
    println!("Total reclaimed space: {}", crate::util::human_size_compact(r.reclaimed));
    if r.containers.errors.is_empty() && r.volume_errors.is_empty() { Ok(()) } else { Err(super::Exit(125).into()) }
}

fn reset(force: bool) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    if !force {
        let question = format!(
            "WARNING! This will remove:\n        - all containers\n        - all images\n        - all volumes\n        - all layers and downloaded blobs\n        - the state database\n        - the data directory: {:?}\n        - the run-time directory: {:?}\nAre you sure you want to continue? [y/N] ",
            ctx.paths.data, ctx.paths.runtime
        );
        if !super::confirm(&question)? {
            return Ok(());
        }
    }
    for w in crate::engine::system::reset::reset(&ctx)? {
        crate::util::print_warning(w);
    }
    Ok(())
}
