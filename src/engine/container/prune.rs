//! `container prune`: removes every container that is not running (created or exited),
//! optionally filtered (`until=`, `label=`, `label!=`), through the same removal as `rm`; and
//! the sweep of container directories that killed commands left without a record.

use super::{Container, ContainerError, lifecycle};
use crate::engine::Context;

/// One `--filter` of `container prune`, as Podman spells them.
#[derive(Debug, Clone, PartialEq)]
pub enum PruneFilter {
    /// Only containers created before this Unix time.
    Until(i64),
    /// `label=KEY[=VALUE]` (or `label!=...` with `negate`).
    Label { spec: String, negate: bool },
}

impl PruneFilter {
    /// Parses `KEY=VALUE`: `until=10m`, `label=a=b`, `label!=a`.
    pub fn parse(filter: &str, now: i64) -> Result<PruneFilter, ContainerError> {
        let bad = |why: &str| ContainerError::Invalid(format!("invalid filter \"{filter}\": {why}"));
        let (k, v) = filter.split_once('=').ok_or_else(|| bad("use KEY=VALUE"))?;
        match k {
            "until" => crate::util::parse_until(v, now)
                .map(PruneFilter::Until)
                .ok_or_else(|| bad("use a duration (10m, 1h30m), Unix seconds or a date (2006-01-02T15:04:05)")),
            "label" | "label!" if !v.is_empty() => {
                Ok(PruneFilter::Label { spec: v.to_string(), negate: k == "label!" })
            }
            "label" | "label!" => Err(bad("give a label KEY or KEY=VALUE")),
            _ => Err(bad("use until, label or label!")),
        }
    }

    fn matches(&self, c: &Container) -> bool {
        match self {
            PruneFilter::Until(t) => c.created < super::Stamp::from_secs(*t),
            PruneFilter::Label { spec, negate } => c.has_label(spec) != *negate,
        }
    }
}

/// A container that prune removed, with the size its writable layer had.
#[derive(Debug)]
pub struct Pruned {
    pub id: String,
    pub size: u64,
}

/// What prune did: removed containers, and failures (one line each) for those it could not remove.
#[derive(Debug, Default)]
pub struct PruneReport {
    pub removed: Vec<Pruned>,
    pub errors: Vec<String>,
}

/// Removes the containers that do not run and match every filter. With `measure`, reports
/// the size of each one's writable layer (what the removal frees).
pub fn prune(ctx: &Context, filters: &[PruneFilter], measure: bool) -> Result<PruneReport, ContainerError> {
    let conn = ctx.db()?;
    let mut doomed = Vec::new();
    for c in super::list_reconciled(ctx, &conn)? {
        if !c.is_running() && filters.iter().all(|f| f.matches(&c)) {
            doomed.push(c);
        }
    }
    drop(conn);
    let sizes = if measure {
        let uppers: Vec<_> = doomed.iter().map(|c| c.dir(ctx).join("diff")).collect();
        crate::storage::usage::tree_sizes(&ctx.idmap, &uppers)?
    } else {
        vec![0; doomed.len()]
    };
    let mut report = PruneReport::default();
    for (c, size) in doomed.into_iter().zip(sizes) {
        match lifecycle::remove(ctx, &c.id, false) {
            Ok(_) => report.removed.push(Pruned { id: c.id, size }),
            // Started or removed since we looked: not ours to prune any more.
            Err(ContainerError::Running(_) | ContainerError::NotFound(_)) => {}
            Err(e) => report.errors.push(format!("{}: {e}", c.id)),
        }
    }
    Ok(report)
}

/// Removes what killed commands left in the containers directory: half-built (`.tmp-`) and
/// half-deleted (`.del-`) directories, and directories without a record (run-time ones too). The caller holds
/// the exclusive store lock, which `create` holds (shared) from building a directory to
/// recording it.
pub fn sweep_leftovers(ctx: &Context, conn: &rusqlite::Connection) -> Result<(), ContainerError> {
    let known: std::collections::HashSet<String> = super::list(conn)?.into_iter().map(|c| c.id).collect();
    // Run-time directories of removed containers (a remove killed before its last step).
    for e in std::fs::read_dir(ctx.paths.run_containers()).into_iter().flatten().flatten() {
        if !known.contains(e.file_name().to_string_lossy().as_ref()) {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
    let Ok(rd) = std::fs::read_dir(ctx.paths.containers()) else { return Ok(()) };
    let mut doomed = Vec::new();
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with(".tmp-") || name.starts_with(".del-") || !known.contains(&name) {
            doomed.push(e.path());
        }
    }
    Ok(crate::storage::layers::remove_paths(&ctx.idmap, &doomed)?)
}

/// The lock a `create` holds from making a container's directory until its record exists:
/// a directory without a record whose lock is free was left by a killed `create`.
pub fn create_lock_path(ctx: &Context, id: &str) -> std::path::PathBuf {
    ctx.paths.locks().join(format!("create-{id}.lock"))
}

/// Removes container directories that have no record and whose `create` is gone (killed
/// between making the directory and recording it), so a killed `run` leaves nothing that
/// `ps -a` and `rm -a` do not see. Directories of creates still running are left alone.
pub fn sweep_orphans(ctx: &Context, conn: &rusqlite::Connection, known: &[Container]) -> Result<(), ContainerError> {
    let Ok(rd) = std::fs::read_dir(ctx.paths.containers()) else { return Ok(()) };
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let id = name.strip_prefix(".tmp-").unwrap_or(&name);
        let orphan = name.starts_with(".tmp-") || !known.iter().any(|c| c.id == id);
        if !orphan || id.len() != 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let lock = create_lock_path(ctx, id);
        let Ok(Some(held)) = crate::state::lock::FileLock::try_exclusive(&lock) else { continue };
        // Recorded meanwhile (the lock was just released by a create that finished)?
        if !name.starts_with(".tmp-") && super::resolve(conn, id).is_ok() {
            continue;
        }
        crate::storage::layers::remove_paths(&ctx.idmap, &[e.path()])?;
        let _ = std::fs::remove_file(&lock);
        drop(held);
    }
    Ok(())
}
