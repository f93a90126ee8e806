//! Which containers `rm`, `stop`, `kill` and `restart` act on, as Podman picks them: names
//! and IDs, `--cidfile`, `--all`, `--latest`, `--filter` (`ps`'s keys), `--ignore`.

use crate::engine::Context;
use crate::engine::container::{self as ctr, Container, ContainerError, filter, filter::PsFilters};
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug, Default)]
pub struct Select {
    /// All containers
    #[arg(short, long)]
    pub(super) all: bool,
    /// The latest created container
    #[arg(short, long)]
    pub(super) latest: bool,
    /// Read the container ID from this file
    #[arg(long)]
    pub(super) cidfile: Vec<PathBuf>,
    /// Only containers matching: ps's filters (name=, label=, status=, ...)
    #[arg(long)]
    pub(super) filter: Vec<String>,
    /// Ignore containers (and --cidfile files) that do not exist
    #[arg(short, long)]
    pub(super) ignore: bool,
}

/// One container picked, and what to print for it (the name as given, or the full ID).
pub(super) struct Target {
    pub container: Container,
    pub shown: String,
}

/// The IDs in `--cidfile` files (the first line of each); a missing file is skipped with
/// `--ignore`.
fn cidfile_names(s: &Select) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for f in &s.cidfile {
        match std::fs::read_to_string(f) {
            Ok(text) => out.push(text.lines().next().unwrap_or_default().trim().to_string()),
            Err(e) if s.ignore && e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => anyhow::bail!("reading CIDFile: open {}: {e}", f.display()),
        }
    }
    Ok(out)
}

/// The containers to act on. `with_all` says which ones `--all` means. A name that does not
/// exist is skipped with `--ignore`, else the whole command fails before acting (typed
/// `ContainerError::NotFound`, which `rm` ends with 1).
pub(super) fn targets(
    ctx: &Context,
    names: &[String],
    s: &Select,
    with_all: impl Fn(&Container) -> bool,
) -> anyhow::Result<Vec<Target>> {
    let mut names = names.to_vec();
    names.extend(cidfile_names(s)?);
    if names.is_empty() && !s.all && !s.latest && s.filter.is_empty() {
        if !s.cidfile.is_empty() {
            return Ok(Vec::new());
        }
        anyhow::bail!("you must provide at least one name or id (or --all, --latest, --filter)");
    }
    let conn = ctx.db()?;
    if s.all || s.latest || !s.filter.is_empty() {
        let list = ctr::list_reconciled(ctx, &conn)?;
        let filters = PsFilters::parse_with(&s.filter, &list, &filter::Store(ctx))?;
        let mut picked: Vec<Container> = list
            .iter()
            .filter(|c| {
                (!s.all || with_all(c)) && (s.filter.is_empty() || filters.matches(c, ctr::view::shown_health(ctx, c)))
            })
            .filter(|c| names.is_empty() || names.iter().any(|n| *n == c.id || *n == c.name))
            .cloned()
            .collect();
        if s.latest {
            picked.truncate(1);
        }
        return Ok(picked.into_iter().map(|c| Target { shown: c.id.clone(), container: c }).collect());
    }
    let mut out = Vec::new();
    for n in names {
        match ctr::resolve(&conn, &n) {
            Ok(mut c) => {
                ctr::reconcile(ctx, &conn, &mut c)?;
                if !out.iter().any(|t: &Target| t.container.id == c.id) {
                    out.push(Target { container: c, shown: n });
                }
            }
            Err(ContainerError::NotFound(_)) if s.ignore => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// Prints every error but the last, which ends the command (as Podman's error lists).
pub(super) fn finish(mut errors: Vec<anyhow::Error>) -> anyhow::Result<()> {
    let Some(last) = errors.pop() else { return Ok(()) };
    for e in &errors {
        crate::util::print_error(crate::cli::one_line(e));
    }
    Err(last)
}
