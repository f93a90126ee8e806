//! `compose build`, `pull`, `push` and `images`: the services' images made, fetched, sent or
//! listed. Flags -> engine::compose::images.

use super::report::Terminal;
use super::{ProjectFlags, fail, load_project, project_or_name};
use crate::cli::output;
use crate::engine::Context;
use crate::engine::compose::images::{self, BuildMode, ImageOptions};
use crate::engine::compose::{Project, Service, verbs};
use crate::engine::image::{manage, store};
use clap::Args;
use std::collections::BTreeMap;

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// Do not use the cache when building
    #[arg(long)]
    no_cache: bool,
    /// Always pull newer versions of base images
    #[arg(long)]
    pull: bool,
    /// Print nothing but errors
    #[arg(short, long)]
    quiet: bool,
    /// Set a build-time variable (KEY=VALUE, or KEY from this environment)
    #[arg(long)]
    build_arg: Vec<String>,
    /// Services (default: all that have a build section)
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PullArgs {
    /// Skip services that have a build section
    #[arg(long)]
    ignore_buildable: bool,
    /// Go on when a pull fails
    #[arg(long)]
    ignore_pull_failures: bool,
    /// Pull without printing progress
    #[arg(short, long)]
    quiet: bool,
    /// Services (default: all)
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PushArgs {
    /// Go on when a push fails
    #[arg(long)]
    ignore_push_failures: bool,
    /// Push without printing progress
    #[arg(short, long)]
    quiet: bool,
    /// Services (default: all)
    services: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImagesArgs {
    /// Only display IDs
    #[arg(short, long)]
    quiet: bool,
    /// Format: table or json
    #[arg(long, default_value = "table")]
    format: String,
    /// Services (default: all)
    services: Vec<String>,
}

/// The services named (all enabled ones when none), in start order.
fn chosen<'a>(p: &'a Project, names: &[String]) -> anyhow::Result<Vec<&'a Service>> {
    for n in names {
        if !p.services.contains_key(n) {
            anyhow::bail!("no such service: \"{n}\"");
        }
    }
    Ok(p.start_order()
        .into_iter()
        .filter(|n| names.is_empty() || names.iter().any(|x| x == n))
        .filter_map(|n| p.service(n))
        .collect())
}

pub(super) fn build(g: &ProjectFlags, a: BuildArgs) -> anyhow::Result<()> {
    let p = load_project(g)?;
    let ctx = Context::new()?;
    let rep = Terminal::new(a.quiet);
    let mut build_args = BTreeMap::new();
    for b in &a.build_arg {
        match b.split_once('=') {
            Some((k, v)) => build_args.insert(k.to_string(), v.to_string()),
            None => std::env::var(b).ok().and_then(|v| build_args.insert(b.clone(), v)),
        };
    }
    let o = ImageOptions {
        build: BuildMode::Always,
        no_cache: a.no_cache,
        pull_bases: a.pull,
        build_args,
        ..ImageOptions::default()
    };
    for s in chosen(&p, &a.services)?.into_iter().filter(|s| s.build.is_some()) {
        images::build(&ctx, &p, s, &o, &rep).map_err(fail)?;
    }
    Ok(())
}

pub(super) fn pull(g: &ProjectFlags, a: PullArgs) -> anyhow::Result<()> {
    let p = load_project(g)?;
    let ctx = Context::new()?;
    let rep = Terminal::new(a.quiet);
    let list: Vec<&Service> = chosen(&p, &a.services)?
        .into_iter()
        .filter(|s| s.image.is_some() && !(a.ignore_buildable && s.build.is_some()))
        .collect();
    if a.ignore_pull_failures {
        for s in list {
            if let Err(e) = images::pull_all(&ctx, &p, &[s], &rep) {
                rep_warn(&format!("service {}: {e}", s.name));
            }
        }
        return Ok(());
    }
    images::pull_all(&ctx, &p, &list, &rep).map(|_| ()).map_err(fail)
}

fn rep_warn(m: &str) {
    crate::util::print_warning(m);
}

pub(super) fn push(g: &ProjectFlags, a: PushArgs) -> anyhow::Result<()> {
    let p = load_project(g)?;
    let ctx = Context::new()?;
    let rep = Terminal::new(a.quiet);
    for s in chosen(&p, &a.services)? {
        match images::push(&ctx, &p, &[s], &rep) {
            Err(e) if a.ignore_push_failures => rep_warn(&format!("service {}: {e}", s.name)),
            r => r.map_err(fail)?,
        }
    }
    Ok(())
}

pub(super) fn images(g: &ProjectFlags, a: ImagesArgs) -> anyhow::Result<()> {
    let (p, _) = project_or_name(g)?;
    let ctx = Context::new()?;
    let conn = ctx.db()?;
    let mut rows = Vec::new();
    for c in verbs::containers(&ctx, &p, &a.services)? {
        let Ok(rec) = store::resolve(&conn, &c.c.image_id) else { continue };
        let name = rec.names.first().cloned().unwrap_or_default();
        let (repo, tag) = if name.is_empty() { ("<none>".into(), "<none>".into()) } else { manage::split_name(&name) };
        rows.push((c.c.name.clone(), repo, tag, rec.id.clone(), rec.size));
    }
    if a.quiet {
        let mut ids: Vec<String> = rows.iter().map(|r| crate::util::short_id(&r.3)).collect();
        ids.dedup();
        ids.iter().for_each(|i| println!("{i}"));
        return Ok(());
    }
    if a.format == "json" {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(c, repo, tag, id, size)| {
                serde_json::json!({"ContainerName": c, "Repository": repo, "Tag": tag, "ID": id, "Size": size})
            })
            .collect();
        return Ok(output::json(&serde_json::Value::Array(v))?);
    }
    let cells: Vec<Vec<String>> = rows
        .into_iter()
        .map(|(c, repo, tag, id, size)| {
            vec![c, repo, tag, crate::util::short_id(&id), crate::util::human_size(size.max(0) as u64)]
        })
        .collect();
    Ok(output::table(&["CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"], &cells)?)
}
