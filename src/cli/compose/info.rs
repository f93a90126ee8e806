//! `compose top`, `port`, `ls` and `version`: read-only views of a project, of every project,
//! and of kiste's compose itself.

use super::{ProjectFlags, load_project, project_or_name};
use crate::cli::output;
use crate::engine::Context;
use crate::engine::compose::{naming, project_state, verbs};
use crate::engine::container::top;
use clap::Args;

#[derive(Args, Debug)]
pub struct TopArgs {
    /// Services (default: all)
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PortArgs {
    /// tcp or udp
    #[arg(long, default_value = "tcp")]
    protocol: String,
    /// The container number of the service (when it has several)
    #[arg(long, default_value_t = 1)]
    index: u32,
    service: String,
    /// The container port
    private_port: u16,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Show all projects, stopped ones too
    #[arg(short, long)]
    all: bool,
    /// Only display project names
    #[arg(short, long)]
    quiet: bool,
    /// Format: table or json
    #[arg(long, default_value = "table")]
    format: String,
    /// Filter: name=NAME
    #[arg(long)]
    filter: Vec<String>,
}

#[derive(Args, Debug)]
pub struct VersionArgs {
    /// Show only the version number
    #[arg(long)]
    short: bool,
    /// Format: pretty or json
    #[arg(short, long, default_value = "pretty")]
    format: String,
}

pub(super) fn top(g: &ProjectFlags, a: TopArgs) -> anyhow::Result<()> {
    let (p, _) = project_or_name(g)?;
    let ctx = Context::new()?;
    use top::Descriptor as D;
    let desc = [D::User, D::Pid, D::Ppid, D::Pcpu, D::Stime, D::Tty, D::Time, D::Args];
    for c in verbs::containers(&ctx, &p, &a.services)?.into_iter().filter(|c| c.c.is_running()) {
        let t = top::top(&ctx, &c.c.id, &desc)?;
        println!("{}", c.c.name);
        output::table(&["UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"], &t.rows)?;
        println!();
    }
    Ok(())
}

pub(super) fn port(g: &ProjectFlags, a: PortArgs) -> anyhow::Result<()> {
    let p = load_project(g)?;
    let ctx = Context::new()?;
    let c = verbs::one(&ctx, &p, &a.service, a.index)?;
    let found = c.c.kept.ports.iter().find(|m| m.container_port == a.private_port && m.proto == a.protocol);
    match found {
        Some(m) => {
            println!("{}:{}", m.shown_ip(), m.host_port);
            Ok(())
        }
        None => anyhow::bail!("no port {}/{} published for service {}", a.private_port, a.protocol, a.service),
    }
}

pub(super) fn ls(a: LsArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let mut names = Vec::new();
    for f in &a.filter {
        match f.split_once('=') {
            Some(("name", v)) => names.push(v.to_string()),
            _ => anyhow::bail!("invalid --filter \"{f}\": the supported filter is name=NAME"),
        }
    }
    let list: Vec<_> = project_state::projects(&ctx)?
        .into_iter()
        .filter(|p| a.all || p.is_running())
        .filter(|p| names.is_empty() || names.iter().any(|n| p.name.contains(n.as_str())))
        .collect();
    if a.quiet {
        list.iter().for_each(|p| println!("{}", p.name));
        return Ok(());
    }
    if a.format == "json" {
        let v: Vec<serde_json::Value> = list
            .iter()
            .map(|p| serde_json::json!({"Name": p.name, "Status": p.status(), "ConfigFiles": p.config_files}))
            .collect();
        return Ok(output::json(&serde_json::Value::Array(v))?);
    }
    let rows: Vec<Vec<String>> =
        list.iter().map(|p| vec![p.name.clone(), p.status(), p.config_files.clone()]).collect();
    Ok(output::table(&["NAME", "STATUS", "CONFIG FILES"], &rows)?)
}

pub(super) fn version(a: VersionArgs) -> anyhow::Result<()> {
    let v = naming::version();
    match (a.short, a.format.as_str()) {
        (true, _) => println!("{v}"),
        (false, "json") => println!("{}", serde_json::json!({ "version": format!("v{v}") })),
        _ => println!("kiste compose version v{v}"),
    }
    Ok(())
}
