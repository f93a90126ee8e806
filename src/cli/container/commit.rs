//! `commit`, `diff` and `export`: a container's changes as a new image, as a list
//! (`A`/`C`/`D` lines or JSON), and its whole file system as a tar (cp's container side).
//! Flags as Podman's; no engine logic here.

use crate::engine::Context;
use crate::engine::build::exec::ImageFormat;
use crate::engine::container::{self as ctr, commit as engine_commit, diff as engine_diff};
use clap::Args;

#[derive(Args, Debug)]
pub struct CommitArgs {
    /// Author of the image
    #[arg(short, long)]
    author: Option<String>,
    /// Apply a Dockerfile instruction to the image config (CMD, ENV, ...)
    #[arg(short, long)]
    change: Vec<String>,
    /// Image format: oci (default) or docker
    #[arg(short, long, default_value = "oci")]
    format: String,
    /// Declare the container's -v/--mount destinations as the image's VOLUMEs (their data
    /// stays out of the image)
    #[arg(long)]
    include_volumes: bool,
    /// Commit message (a history comment)
    #[arg(short, long)]
    message: Option<String>,
    /// Pause the running container while committing (needs the cgroup freezer)
    #[arg(short, long, num_args = 0..=1, default_missing_value = "true", require_equals = true, action = clap::ArgAction::Set, default_value_t = false)]
    pause: bool,
    /// Print only the image ID
    #[arg(short, long)]
    quiet: bool,
    /// Squash the image's layers into one
    #[arg(short, long)]
    squash: bool,
    /// Write the image ID to this file
    #[arg(long)]
    iidfile: Option<std::path::PathBuf>,
    container: String,
    /// Name for the new image
    image: Option<String>,
}

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// Write to this file instead of stdout
    #[arg(short, long)]
    output: Option<std::path::PathBuf>,
    container: String,
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// Output as json
    #[arg(long)]
    format: Option<String>,
    /// Container (or image) to compare
    name: String,
}

pub(super) fn commit(a: CommitArgs) -> anyhow::Result<()> {
    let format = match a.format.as_str() {
        "oci" => ImageFormat::Oci,
        "docker" => ImageFormat::Docker,
        f => anyhow::bail!("unknown --format {f:?}: use oci or docker"),
    };
    let ctx = Context::new()?;
    let c = ctr::resolve(&*ctx.db()?, &a.container)?;
    let opts = engine_commit::CommitOptions {
        reference: a.image,
        changes: a.change,
        message: a.message,
        author: a.author,
        format,
        squash: a.squash,
        pause: a.pause,
        include_volumes: a.include_volumes,
    };
    let id = engine_commit::commit(&ctx, &c, &opts)?;
    let hex = crate::util::digest_hex(&id);
    if let Some(p) = a.iidfile {
        std::fs::write(&p, &id).map_err(|e| anyhow::anyhow!("cannot write --iidfile {}: {e}", p.display()))?;
    }
    println!("{hex}");
    Ok(())
}

pub(super) fn diff(a: DiffArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let changes = engine_diff::of(&ctx, &a.name)?;
    match a.format.as_deref() {
        None => {
            for c in changes {
                println!("{} {}", c.kind.letter(), c.path);
            }
        }
        Some("json") => {
            let pick = |k: engine_diff::ChangeKind| -> Vec<&str> {
                changes.iter().filter(|c| c.kind == k).map(|c| c.path.as_str()).collect()
            };
            let doc = serde_json::json!({
                "changed": pick(engine_diff::ChangeKind::Changed),
                "added": pick(engine_diff::ChangeKind::Added),
                "deleted": pick(engine_diff::ChangeKind::Deleted),
            });
            println!("{}", serde_json::to_string_pretty(&doc)?);
        }
        Some(f) => anyhow::bail!("unknown --format {f:?}: diff supports json"),
    }
    Ok(())
}

pub(super) fn export(a: ExportArgs) -> anyhow::Result<()> {
    use std::io::IsTerminal;
    use std::os::fd::AsRawFd;
    let ctx = Context::new()?;
    ctr::resolve(&*ctx.db()?, &a.container)?;
    let src = ctr::cp::Endpoint::Container { name: a.container.clone(), path: "/.".into() };
    let opts = ctr::cp::CpOptions { archive: true, ..Default::default() };
    let Some(path) = a.output else {
        if std::io::stdout().is_terminal() {
            anyhow::bail!("refusing to export to terminal. Use -o flag or redirect");
        }
        return Ok(ctr::cp::copy(&ctx, &src, &ctr::cp::Endpoint::Stdio, opts)?);
    };
    // The tar goes to stdout, which becomes a file beside the target, renamed when complete.
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.kiste-{}", crate::util::nonce()));
    let file = std::fs::File::create(&tmp).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    // SAFETY: dup2 onto descriptor 1 with a descriptor we own; nothing else writes stdout.
    if unsafe { libc::dup2(file.as_raw_fd(), 1) } < 0 {
        anyhow::bail!("cannot write {}: {}", path.display(), std::io::Error::last_os_error());
    }
    let r = ctr::cp::copy(&ctx, &src, &ctr::cp::Endpoint::Stdio, opts).map_err(anyhow::Error::from).and_then(|_| {
        std::fs::rename(&tmp, &path).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
    });
    if r.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    r
}
