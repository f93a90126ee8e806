//! `pull`, `images`, `rmi`, `tag`, `untag`, `inspect` and the `image ...` group: flags,
//! then one engine call, then output. No engine logic here.

use super::output;
use crate::cli::lazy::Lazy;
use crate::engine::Context;
use crate::engine::image::auth::Credentials;
use crate::engine::image::manage;
use crate::engine::image::platform::Platform;
use crate::engine::image::pull::{self, PullOptions};
use crate::engine::image::store;
use anyhow::Context as _;
use clap::{Args, Subcommand};
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct PullArgs {
    /// Suppress progress output
    #[arg(short, long)]
    quiet: bool,
    /// Require HTTPS and verify certificates (default: as registries.conf says)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    tls_verify: Option<bool>,
    /// Pull for this platform (os/arch[/variant]) instead of the host's
    #[arg(long)]
    platform: Option<String>,
    /// Use ARCH instead of the host's architecture
    #[arg(long)]
    arch: Option<String>,
    /// Use OS instead of linux
    #[arg(long)]
    os: Option<String>,
    /// Use VARIANT instead of the default for the architecture
    #[arg(long)]
    variant: Option<String>,
    /// Credentials USERNAME[:PASSWORD] for the registry
    #[arg(long)]
    creds: Option<String>,
    /// Path of the authentication file
    #[arg(long, env = "REGISTRY_AUTH_FILE")]
    authfile: Option<PathBuf>,
    /// Pull every tag of the repository (not supported yet)
    #[arg(short = 'a', long, hide = true)]
    all_tags: bool,
    /// Image to pull
    #[arg(required = true)]
    images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ImagesArgs {
    /// Show all images (including intermediate ones)
    #[arg(short, long)]
    all: bool,
    /// Show only image IDs
    #[arg(short, long)]
    quiet: bool,
    /// Show digests
    #[arg(long)]
    digests: bool,
    /// Do not truncate output
    #[arg(long)]
    no_trunc: bool,
    /// Do not print column headings
    #[arg(short, long)]
    noheading: bool,
    /// Output format: json or a Go template
    #[arg(long)]
    format: Option<String>,
    /// Filter: reference=, before=, since=, until=, dangling=, intermediate=, label=, id=,
    /// digest=, containers=, readonly= (KEY!=VALUE negates)
    #[arg(short, long)]
    filter: Vec<String>,
    /// Sort by: created (newest first), id, repository, size, tag
    #[arg(long, value_enum, default_value = "created")]
    sort: ImageSort,
    /// Only images whose name matches
    name: Option<String>,
}

/// `images --sort` keys (Podman's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImageSort {
    Created,
    Id,
    Repository,
    Size,
    Tag,
}

#[derive(Args, Debug)]
pub struct RmiArgs {
    /// Remove the image by ID even when it has several names, with its containers; ignore
    /// images that do not exist
    #[arg(short, long)]
    force: bool,
    /// Remove all images
    #[arg(short, long)]
    all: bool,
    /// Do not fail when an image does not exist
    #[arg(short, long)]
    ignore: bool,
    images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct TagArgs {
    image: String,
    #[arg(required = true)]
    names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct UntagArgs {
    image: String,
    names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct InspectArgs {
    /// Output format: json (default) or a Go template
    #[arg(short, long)]
    format: Option<String>,
    /// What to inspect: container, image, network, volume, pod or all
    #[arg(short = 't', long = "type", default_value = "all")]
    pub(super) kind: String,
    /// Show containers' sizes (SizeRw, SizeRootFs)
    #[arg(short, long)]
    size: bool,
    #[arg(required = true)]
    names: Vec<String>,
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Remove all unused images, not just dangling ones
    #[arg(short, long)]
    pub all: bool,
    /// Do not ask for confirmation
    #[arg(short, long)]
    pub force: bool,
}

/// Image commands that also exist at the top level.
#[derive(Subcommand, Debug)]
pub enum TopLevel {
    /// Pull an image from a registry
    Pull(Lazy<PullArgs>),
    /// List images in local storage
    Images(Lazy<ImagesArgs>),
    /// Remove one or more images
    Rmi(Lazy<RmiArgs>),
    /// Add names to an image
    Tag(Lazy<TagArgs>),
    /// Remove names from an image
    Untag(Lazy<UntagArgs>),
    /// Show details of images
    Inspect(Lazy<InspectArgs>),
    /// Build an image from a Containerfile or Dockerfile
    Build(Box<super::build::BuildArgs>),
    /// Show how an image was made, step by step
    History(Lazy<HistoryArgs>),
    /// Save images to an archive
    Save(Lazy<super::archive::SaveArgs>),
    /// Load images from an archive
    Load(Lazy<super::archive::LoadArgs>),
    /// Create an image from a tarball of a root file system
    Import(Lazy<super::archive::ImportArgs>),
}

#[derive(Args, Debug)]
pub struct HistoryArgs {
    /// Sizes in bytes, times as they are (not "5 minutes ago")
    #[arg(short = 'H', long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", require_equals = true, action = clap::ArgAction::Set)]
    human: bool,
    /// Do not truncate IDs and commands
    #[arg(long)]
    no_trunc: bool,
    /// Show only IDs
    #[arg(short, long)]
    quiet: bool,
    /// Output format: json or a Go template
    #[arg(long)]
    format: Option<String>,
    image: String,
}

#[derive(Subcommand, Debug)]
pub enum ImageCommand {
    /// Pull an image from a registry
    Pull(Lazy<PullArgs>),
    /// Push an image to a registry
    Push(Lazy<super::push::PushArgs>),
    /// List images in local storage
    #[command(alias = "list")]
    Ls(Lazy<ImagesArgs>),
    /// Remove one or more images
    Rm(Lazy<RmiArgs>),
    /// Add names to an image
    Tag(Lazy<TagArgs>),
    /// Remove names from an image
    Untag(Lazy<UntagArgs>),
    /// Show details of images
    Inspect(Lazy<InspectArgs>),
    /// Remove unused images
    Prune(Lazy<PruneArgs>),
    /// Exit 0 when the image exists locally, 1 when it does not
    Exists { image: String },
    /// Build an image from a Containerfile or Dockerfile
    Build(Lazy<super::build::BuildArgs>),
    /// Show how an image was made, step by step
    History(Lazy<HistoryArgs>),
    /// Save images to an archive
    Save(Lazy<super::archive::SaveArgs>),
    /// Load images from an archive
    Load(Lazy<super::archive::LoadArgs>),
    /// Create an image from a tarball of a root file system
    Import(Lazy<super::archive::ImportArgs>),
}

pub fn run_top(c: TopLevel) -> anyhow::Result<()> {
    match c {
        TopLevel::Pull(Lazy(a)) => pull_cmd(a),
        TopLevel::Images(Lazy(a)) => images(a),
        TopLevel::Rmi(Lazy(a)) => rmi(a),
        TopLevel::Tag(Lazy(a)) => tag(a),
        TopLevel::Untag(Lazy(a)) => untag(a),
        TopLevel::Inspect(Lazy(a)) => inspect(a),
        TopLevel::Build(a) => super::build::run(*a),
        TopLevel::History(Lazy(a)) => history(a),
        TopLevel::Save(Lazy(a)) => super::archive::save(a),
        TopLevel::Load(Lazy(a)) => super::archive::load(a),
        TopLevel::Import(Lazy(a)) => super::archive::import(a),
    }
}

pub fn run(c: ImageCommand) -> anyhow::Result<()> {
    match c {
        ImageCommand::Pull(Lazy(a)) => pull_cmd(a),
        ImageCommand::Push(Lazy(a)) => super::push::run(a),
        ImageCommand::Ls(Lazy(a)) => images(a),
        ImageCommand::Rm(Lazy(a)) => rmi(a),
        ImageCommand::Tag(Lazy(a)) => tag(a),
        ImageCommand::Untag(Lazy(a)) => untag(a),
        ImageCommand::Inspect(Lazy(mut a)) => {
            a.kind = "image".into();
            inspect(a)
        }
        ImageCommand::Prune(Lazy(a)) => prune(a),
        ImageCommand::Exists { image } => exists(&image),
        ImageCommand::Build(Lazy(a)) => super::build::run(a),
        ImageCommand::History(Lazy(a)) => history(a),
        ImageCommand::Save(Lazy(a)) => super::archive::save(a),
        ImageCommand::Load(Lazy(a)) => super::archive::load(a),
        ImageCommand::Import(Lazy(a)) => super::archive::import(a),
    }
}

pub fn parse_creds(s: &str) -> anyhow::Result<Credentials> {
    match s.split_once(':') {
        Some((u, p)) if !u.is_empty() => Ok(Credentials { username: u.into(), password: p.into() }),
        None if !s.is_empty() => {
            let p = super::login::read_password(&format!("Password for {s}: "))?;
            Ok(Credentials { username: s.into(), password: p })
        }
        _ => anyhow::bail!("invalid --creds {s:?}: expected USERNAME[:PASSWORD]"),
    }
}

fn pull_cmd(a: PullArgs) -> anyhow::Result<()> {
    if a.all_tags {
        anyhow::bail!("--all-tags is not supported yet; pull each tag by name");
    }
    let platform =
        Platform::from_flags(a.platform.as_deref(), a.os.as_deref(), a.arch.as_deref(), a.variant.as_deref())?;
    let creds = a.creds.as_deref().map(parse_creds).transpose()?;
    let opts = PullOptions {
        platform,
        tls_verify: a.tls_verify,
        creds,
        authfile: a.authfile,
        progress: !a.quiet && std::io::stderr().is_terminal(),
    };
    let ctx = Context::new()?;
    for img in &a.images {
        let img = crate::engine::image::reference::without_transport(img)?;
        let id = pull::pull(&ctx, img, &opts)?;
        println!("{}", crate::util::digest_hex(&id));
    }
    Ok(())
}

/// What an `images` template sees of one name of `r`: Podman's imageReporter, the image's
/// summary with its `repository` and `tag`, and the methods that print it.
fn template_row(r: &store::ImageRecord, users: i64, repo: String, tag: String, id: String) -> serde_json::Value {
    let mut v = manage::list_json(r);
    v["Containers"] = users.into();
    if let Some(o) = v.as_object_mut() {
        o.remove("CreatedAt");
        o.insert("repository".into(), repo.into());
        o.insert("tag".into(), tag.into());
    }
    let created = manage::created_at(r);
    let at = crate::util::go_time_string(&created.fixed_offset());
    v[crate::template::METHODS] = serde_json::json!({
        "ID": id,
        "Created": crate::util::human_age(created),
        "CreatedSince": crate::util::human_age(created),
        "CreatedAt": at,
        "CreatedTime": at,
        "Size": crate::util::human_size(r.size.max(0) as u64),
        "History": r.names.join(", "),
        // Fields Podman leaves out of JSON when false.
        "ReadOnly": false,
        "Dangling": r.names.is_empty(),
    });
    v
}

fn images(a: ImagesArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let conn = ctx.db()?;
    let mut recs = store::list(&conn)?;
    // A build's cache (unnamed images with children) only with -a, as Podman.
    if !a.all {
        let parents: std::collections::HashSet<String> = store::parents(&conn)?.into_values().collect();
        recs.retain(|r| !r.names.is_empty() || !parents.contains(&r.id));
    }
    // `images NAME` is `--filter reference=NAME`, as Podman's (every tag of a repository).
    let filters: Vec<String> =
        a.name.iter().map(|n| format!("reference={n}")).chain(a.filter.iter().cloned()).collect();
    if !filters.is_empty() {
        filter_images(&conn, &mut recs, &filters)?;
    }
    recs.sort_by_key(|r| std::cmp::Reverse(manage::created_at(r)));
    match a.sort {
        ImageSort::Id => recs.sort_by(|x, y| x.id.cmp(&y.id)),
        ImageSort::Size => recs.sort_by_key(|r| r.size),
        _ => {}
    }
    let users = crate::engine::container::count_by_image(&conn)?;
    let users = |r: &store::ImageRecord| users.get(&r.id).copied().unwrap_or(0);
    if output::is_json(a.format.as_deref()) {
        let json = |r| {
            let mut v = manage::list_json(r);
            v["Containers"] = users(r).into();
            v
        };
        return Ok(output::json(&serde_json::Value::Array(recs.iter().map(json).collect()))?);
    }
    let id_of = |id: &str| match a.no_trunc {
        true => format!("sha256:{}", crate::util::digest_hex(id)),
        false => crate::util::short_id(id),
    };
    if a.quiet {
        let mut seen = std::collections::HashSet::new();
        for r in &recs {
            if seen.insert(&r.id) {
                println!("{}", id_of(&r.id));
            }
        }
        return Ok(());
    }
    // One row per name; an image without names shows as <none>.
    let mut rows = Vec::new();
    for r in &recs {
        let names: Vec<(String, String)> = if r.names.is_empty() {
            vec![("<none>".into(), "<none>".into())]
        } else {
            r.names.iter().map(|n| manage::split_name(n)).collect()
        };
        for (repo, tag) in names {
            rows.push(template_row(r, users(r), repo, tag, id_of(&r.id)));
        }
    }
    let text = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    match a.sort {
        ImageSort::Repository => rows.sort_by_key(|v| text(v, "repository")),
        ImageSort::Tag => rows.sort_by_key(|v| text(v, "tag")),
        _ => {}
    }
    if let Some(f) = &a.format {
        return output::templated(f, &output::Shape { heading_row: !a.noheading, ..output::IMAGES }, &rows);
    }
    let s = |v: &serde_json::Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    let m = |v: &serde_json::Value, k: &str| s(&v[crate::template::METHODS], k);
    let mut headers = vec!["REPOSITORY", "TAG"];
    if a.digests {
        headers.push("DIGEST");
    }
    headers.extend(["IMAGE ID", "CREATED", "SIZE"]);
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|v| {
            let mut r = vec![s(v, "repository"), s(v, "tag")];
            if a.digests {
                r.push(s(v, "Digest"));
            }
            r.extend([m(v, "ID"), m(v, "Created"), m(v, "Size")]);
            r
        })
        .collect();
    output::table(if a.noheading { &[] } else { &headers }, &table)?;
    Ok(())
}

/// Keeps the images that pass `images --filter`.
fn filter_images(
    conn: &rusqlite::Connection,
    recs: &mut Vec<store::ImageRecord>,
    given: &[String],
) -> anyhow::Result<()> {
    use crate::engine::image::filter::{Facts, ImageFilters};
    let created_of = |n: &str| store::resolve(conn, n).ok().map(|r| manage::created_at(&r).timestamp());
    let filters = ImageFilters::parse(given, &created_of)?;
    let parents: std::collections::HashSet<String> = store::parents(conn)?.into_values().collect();
    let used: std::collections::HashSet<String> =
        crate::engine::container::list(conn)?.into_iter().map(|c| c.image_id).collect();
    let facts = Facts { parents: &parents, used: &used };
    recs.retain(|r| filters.matches(r, manage::created_at(r).timestamp(), &facts));
    Ok(())
}

fn rmi(a: RmiArgs) -> anyhow::Result<()> {
    use super::exit::{Coded, Verb};
    if a.all && !a.images.is_empty() {
        anyhow::bail!("when using the --all switch, you may not pass any images names or IDs");
    }
    let ctx = Context::new()?;
    let mut targets = a.images.clone();
    if a.all {
        let conn = ctx.db()?;
        targets = store::list(&conn)?.into_iter().map(|r| r.id).collect();
    } else if targets.is_empty() {
        anyhow::bail!("image name or ID must be specified");
    }
    // As Podman: --force ignores images that do not exist.
    let ignore = a.ignore || a.force;
    let mut errors = Vec::new();
    for t in &targets {
        match manage::remove(&ctx, t, a.force || a.all) {
            Ok(r) => {
                for n in r.untagged {
                    println!("Untagged: {n}");
                }
                if let Some(id) = r.deleted {
                    println!("Deleted: {}", crate::util::digest_hex(&id));
                }
            }
            Err(manage::ManageError::Store(store::StoreError::NotFound(_))) if ignore => {}
            Err(e) => errors.push(anyhow::Error::from(e)),
        }
    }
    let code = errors.last().map(|e| super::exit::code(Verb::Rmi, e)).unwrap_or(125);
    let Some(last) = errors.pop() else { return Ok(()) };
    for e in &errors {
        crate::util::print_error(super::one_line(e));
    }
    Err(Coded { code, error: last }.into())
}

fn tag(a: TagArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    manage::tag(&ctx, &a.image, &a.names)?;
    Ok(())
}

fn untag(a: UntagArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    manage::untag(&ctx, &a.image, &a.names)?;
    Ok(())
}

pub(super) fn inspect(a: InspectArgs) -> anyhow::Result<()> {
    let kind = a.kind.as_str();
    if !["image", "container", "network", "volume", "pod", "all"].contains(&kind) {
        anyhow::bail!("invalid --type {}: use container, image, network, volume, pod or all", a.kind);
    }
    let ctx = Context::new()?;
    let conn = ctx.db()?;
    let networks = crate::engine::network::named::Store::new(&ctx.paths.data);
    let mut values = Vec::new();
    let mut failed = None;
    for n in &a.names {
        // As Podman: containers first, then images, then networks.
        if matches!(kind, "container" | "all")
            && let Ok(mut c) = crate::engine::container::resolve(&conn, n)
        {
            crate::engine::container::reconcile(&ctx, &conn, &mut c)?;
            let mut v = crate::engine::container::inspect::inspect_json(&ctx, &c);
            if a.size {
                let s = crate::engine::container::view::sizes(&ctx, &[&c])?.pop().unwrap_or_default();
                v["SizeRw"] = serde_json::json!(s.rw);
                v["SizeRootFs"] = serde_json::json!(s.root_fs);
            }
            values.push(v);
            continue;
        }
        if matches!(kind, "image" | "all")
            && let Ok(rec) = store::resolve(&conn, n)
        {
            values.push(manage::inspect_json(&ctx, &rec)?);
            continue;
        }
        if matches!(kind, "network" | "all")
            && let Ok(net) = networks.get(n)
        {
            values.push(serde_json::to_value(&net).unwrap_or_default());
            continue;
        }
        failed = Some(match kind {
            "container" => anyhow::anyhow!("no such container {n:?}"),
            "image" => anyhow::Error::from(store::StoreError::NotFound(n.clone())),
            "network" => anyhow::anyhow!("unable to find network with name or ID {n}: network not found"),
            "volume" => anyhow::anyhow!("no volume with name {n:?} found: no such volume"),
            "pod" => anyhow::anyhow!("no pod with name or ID {n} found: no such pod"),
            _ => anyhow::anyhow!("no such object: {n:?}"),
        });
    }
    match a.format.as_deref() {
        Some(f) if !output::is_json(Some(f)) => output::templated(f, &output::INSPECT, &values)?,
        _ => output::json(&serde_json::Value::Array(values))?,
    }
    match failed {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn prune(a: PruneArgs) -> anyhow::Result<()> {
    if !a.force {
        let what = if a.all { "all images not in use by containers" } else { "all dangling images" };
        if !super::confirm(&format!(
            "WARNING! This command removes {what}.\nAre you sure you want to continue? [y/N] "
        ))? {
            return Ok(());
        }
    }
    let ctx = Context::new()?;
    for p in manage::prune(&ctx, a.all).context("image prune")? {
        println!("{}", crate::util::digest_hex(&p.id));
    }
    Ok(())
}

fn exists(image: &str) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let conn = ctx.db()?;
    match store::resolve(&conn, image) {
        Ok(_) => Ok(()),
        Err(store::StoreError::NotFound(_)) => Err(super::Exit(1).into()),
        Err(e) => Err(e.into()),
    }
}

/// `history IMAGE`: Podman's columns ID, CREATED, CREATED BY, SIZE, COMMENT, newest first.
fn history(a: HistoryArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let rows = manage::history(&ctx, &a.image)?;
    let id = |r: &manage::HistoryRow| match (r.id.as_str(), a.no_trunc) {
        ("<missing>", _) => r.id.clone(),
        (i, true) => i.to_string(),
        (i, false) => crate::util::short_id(i),
    };
    let json = |r: &manage::HistoryRow| {
        serde_json::json!({
            "id": crate::util::digest_hex(&r.id), "created": r.created, "CreatedBy": r.created_by,
            "size": r.size, "comment": r.comment, "ID": id(r), "Size": crate::util::human_size(r.size),
            "Created": r.created.map(crate::util::human_age).unwrap_or_default(), "Comment": r.comment,
        })
    };
    if output::is_json(a.format.as_deref()) {
        return Ok(output::json(&serde_json::Value::Array(rows.iter().map(json).collect()))?);
    }
    if let Some(t) = &a.format {
        return output::templated(t, &output::HISTORY, &rows.iter().map(json).collect::<Vec<_>>());
    }
    if a.quiet {
        for r in &rows {
            println!("{}", id(r));
        }
        return Ok(());
    }
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let mut by = r.created_by.clone();
            if !a.no_trunc && by.chars().count() > 45 {
                by = by.chars().take(42).collect::<String>() + "...";
            }
            let created = match (r.created, a.human) {
                (Some(t), true) => crate::util::human_age(t),
                (Some(t), false) => t.to_rfc3339(),
                (None, _) => String::new(),
            };
            let size = if a.human { crate::util::human_size(r.size) } else { r.size.to_string() };
            vec![id(r), created, by, size, r.comment.clone()]
        })
        .collect();
    Ok(output::table(&["ID", "CREATED", "CREATED BY", "SIZE", "COMMENT"], &table)?)
}
