//! `compose ps`: the project's containers in docker compose's table (NAME IMAGE COMMAND
//! SERVICE CREATED STATUS PORTS), `-q`, `--services`, `--format json` (one object a line, as
//! docker compose prints it) or a template, `--status`/`--filter status=`.

use super::{ProjectFlags, project_or_name};
use crate::cli::output::{self, Shape};
use crate::engine::Context;
use crate::engine::compose::project_state::{self, ProjectContainer};
use crate::engine::container::view;
use clap::Args;
use serde_json::{Value, json};

#[derive(Args, Debug)]
pub struct PsArgs {
    /// Show all containers, stopped and one-off ones too
    #[arg(short, long)]
    all: bool,
    /// Only display IDs
    #[arg(short, long)]
    quiet: bool,
    /// Display services
    #[arg(long)]
    services: bool,
    /// Format: table, json, or a Go template
    #[arg(long)]
    format: Option<String>,
    /// Filter services by status: created, running, exited
    #[arg(long)]
    status: Vec<String>,
    /// Filter by a property (supported: status=STATUS)
    #[arg(long)]
    filter: Option<String>,
    /// Do not truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Services (default: all)
    service: Vec<String>,
}

/// `ps` template fields.
const PS: Shape = Shape {
    name: "ps",
    type_name: |_| "formatter.ContainerContext",
    maps: &["Labels"],
    times: &[],
    methods: &[],
    headings: &[("ID", "container id"), ("RunningFor", "created")],
    heading_row: true,
    inspect: false,
    optional: &[],
};

pub(super) fn ps(g: &ProjectFlags, a: PsArgs) -> anyhow::Result<()> {
    let mut status = a.status.clone();
    if let Some(f) = &a.filter {
        match f.split_once('=') {
            Some(("status", v)) => status.push(v.to_string()),
            _ => anyhow::bail!("invalid --filter \"{f}\": the supported filter is status=STATUS"),
        }
    }
    let (p, _) = project_or_name(g)?;
    for s in &a.service {
        if !p.services.is_empty() && !p.services.contains_key(s) {
            anyhow::bail!("no such service: {s}");
        }
    }
    let ctx = Context::new()?;
    let mut list: Vec<ProjectContainer> = project_state::containers(&ctx, &p.name)?
        .into_iter()
        .filter(|c| a.service.is_empty() || a.service.contains(&c.service))
        .filter(|c| match status.is_empty() {
            true => a.all || (c.c.is_running() && !c.oneoff),
            false => status.iter().any(|s| s == c.c.state.as_str()),
        })
        .collect();
    list.sort_by(|x, y| x.c.name.cmp(&y.c.name));
    let id = |c: &ProjectContainer| if a.no_trunc { c.c.id.clone() } else { c.c.id[..12].to_string() };
    if a.quiet {
        list.iter().for_each(|c| println!("{}", id(c)));
        return Ok(());
    }
    if a.services {
        let mut seen: Vec<&str> = Vec::new();
        for c in &list {
            if !seen.contains(&c.service.as_str()) {
                seen.push(&c.service);
                println!("{}", c.service);
            }
        }
        return Ok(());
    }
    let rows: Vec<Value> = list.iter().map(|c| row(&ctx, c, id(c))).collect();
    match a.format.as_deref() {
        None | Some("table") => table(&rows, a.no_trunc),
        Some("json") => {
            for r in &rows {
                println!("{r}");
            }
            Ok(())
        }
        Some(t) => output::templated(t, &PS, &rows),
    }
}

fn table(rows: &[Value], no_trunc: bool) -> anyhow::Result<()> {
    let text = |r: &Value, k: &str| r[k].as_str().unwrap_or_default().to_string();
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let command = text(r, "Command");
            let shown = match !no_trunc && command.chars().count() > 20 {
                true => command.chars().take(19).collect::<String>() + "…",
                false => command,
            };
            let cmd = serde_json::to_string(&shown).unwrap_or_default();
            vec![
                text(r, "Name"),
                text(r, "Image"),
                cmd,
                text(r, "Service"),
                text(r, "RunningFor"),
                text(r, "Status"),
                text(r, "Ports"),
            ]
        })
        .collect();
    Ok(output::table(&["NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS"], &cells)?)
}

/// One container as docker compose's `ps --format json` shows it.
fn row(ctx: &Context, pc: &ProjectContainer, id: String) -> Value {
    let c = &pc.c;
    let command = c.command.join(" ");
    let networks: Vec<String> =
        crate::engine::container::networks::assigned(ctx, c).into_iter().map(|a| a.name).collect();
    let networks =
        if networks.is_empty() { c.kept.networks.iter().map(|n| n.name.clone()).collect() } else { networks };
    let labels: Vec<String> = c.kept.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let health = view::shown_health(ctx, c);
    json!({
        "Command": command,
        "CreatedAt": c.created.go_string(),
        "ExitCode": c.exit_code.unwrap_or(0),
        "Health": health.map_or("", |h| h.as_str()),
        "ID": id,
        "Image": c.image_name,
        "Labels": labels.join(","),
        "LocalVolumes": "0",
        "Mounts": "",
        "Name": c.name,
        "Names": c.name,
        "Networks": networks.join(","),
        "Ports": c.kept.ports.iter().map(|m| m.display()).collect::<Vec<_>>().join(", "),
        "Project": c.kept.labels.get(crate::engine::compose::naming::PROJECT).cloned().unwrap_or_default(),
        "Publishers": c.kept.ports.iter().map(|m| json!({
            "URL": m.shown_ip(), "TargetPort": m.container_port, "PublishedPort": m.host_port, "Protocol": m.proto,
        })).collect::<Vec<_>>(),
        "RunningFor": c.created.ago(),
        "Service": pc.service,
        "Size": 0,
        "State": c.state.as_str(),
        "Status": view::status(c, health),
    })
}
