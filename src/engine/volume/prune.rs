//! Volume filters (`volume ls --filter`, `volume prune --filter`) as Podman spells them, and
//! `volume prune`: every volume no container uses (created, running or exited), filtered.

use super::{Volume, VolumeError};
use crate::engine::Context;

/// One `--filter KEY=VALUE`.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// `name=`: a substring of the name (Podman: a regular expression; plain text matches the same).
    Name(String),
    Driver(String),
    /// `label=KEY[=VALUE]`, or `label!=` with `negate`.
    Label {
        spec: String,
        negate: bool,
    },
    /// `dangling=true|false`: used by no container.
    Dangling(bool),
    Anonymous(bool),
    /// `until=`: created before this Unix time.
    Until(i64),
}

fn boolean(k: &str, v: &str) -> Result<bool, VolumeError> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(VolumeError::Invalid(format!(
            "\"{v}\" is not a valid value for the \"{k}\" filter - must be true or false"
        ))),
    }
}

impl Filter {
    /// Parses a filter; `prune` accepts fewer keys than `ls`, as Podman.
    pub fn parse(f: &str, now: i64, prune: bool) -> Result<Filter, VolumeError> {
        let bad = |why: &str| VolumeError::Invalid(format!("invalid filter \"{f}\": {why}"));
        let (k, v) = f.split_once('=').ok_or_else(|| bad("use KEY=VALUE"))?;
        let listing_only = matches!(k, "name" | "driver" | "dangling");
        if prune && listing_only {
            return Err(bad("volume prune filters by label, label!, until or anonymous"));
        }
        Ok(match k {
            "name" => Filter::Name(v.to_string()),
            "driver" => Filter::Driver(v.to_string()),
            "label" | "label!" if !v.is_empty() => Filter::Label { spec: v.to_string(), negate: k == "label!" },
            "label" | "label!" => return Err(bad("give a label KEY or KEY=VALUE")),
            "dangling" => Filter::Dangling(boolean(k, v)?),
            "anonymous" => Filter::Anonymous(boolean(k, v)?),
            "until" => Filter::Until(
                crate::util::parse_until(v, now)
                    .ok_or_else(|| bad("use a duration (10m, 1h30m), Unix seconds or a date (2006-01-02T15:04:05)"))?,
            ),
            _ => return Err(bad("use name, driver, label, label!, dangling, anonymous or until")),
        })
    }

    /// Whether `v` passes; `users` is how many containers use it.
    pub fn matches(&self, v: &Volume, users: usize) -> bool {
        match self {
            Filter::Name(n) => v.name.contains(n.as_str()),
            Filter::Driver(d) => v.driver == *d,
            Filter::Label { spec, negate } => v.has_label(spec) != *negate,
            Filter::Dangling(d) => (users == 0) == *d,
            Filter::Anonymous(a) => v.anonymous == *a,
            Filter::Until(t) => v.created < crate::state::stamp::Stamp::from_secs(*t),
        }
    }
}

/// Several filters: AND across keys, OR among values of one key (as Podman).
pub fn matches_all(filters: &[Filter], v: &Volume, users: usize) -> bool {
    let key = |f: &Filter| std::mem::discriminant(f);
    filters.iter().all(|f| filters.iter().filter(|g| key(g) == key(f)).any(|g| g.matches(v, users)))
}

/// A volume prune removed, with the bytes it held.
#[derive(Debug)]
pub struct Pruned {
    pub name: String,
    pub size: u64,
}

/// Removes every volume no container uses that passes `filters`; failures are lines.
pub fn prune(ctx: &Context, filters: &[Filter]) -> Result<(Vec<Pruned>, Vec<String>), VolumeError> {
    let _lock = super::lock_exclusive(ctx)?;
    let conn = ctx.db()?;
    let usage = super::usage(ctx, &conn)?;
    let doomed: Vec<Volume> = super::list(&conn)?
        .into_iter()
        .filter(|v| !usage.contains_key(&v.name) && matches_all(filters, v, 0))
        .collect();
    let dirs: Vec<_> = doomed.iter().map(|v| v.data(ctx)).collect();
    let sizes = crate::storage::usage::tree_sizes(&ctx.idmap, &dirs).unwrap_or_else(|_| vec![0; dirs.len()]);
    let mut removed = Vec::new();
    let mut errors = Vec::new();
    for (v, size) in doomed.into_iter().zip(sizes) {
        match super::remove_unlocked(ctx, &conn, &v) {
            Ok(()) => removed.push(Pruned { name: v.name, size }),
            Err(e) => errors.push(format!("{}: {e}", v.name)),
        }
    }
    // What killed removals left.
    let leftovers: Vec<_> = std::fs::read_dir(super::volumes_dir(ctx))
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(".del-"))
        .map(|e| e.path())
        .collect();
    if let Err(e) = crate::storage::layers::remove_paths(&ctx.idmap, &leftovers) {
        errors.push(e.to_string());
    }
    Ok((removed, errors))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vol(name: &str, anonymous: bool) -> Volume {
        Volume {
            name: name.into(),
            driver: "local".into(),
            created: crate::state::stamp::Stamp::from_secs(100),
            labels: [("app".to_string(), "db".to_string())].into_iter().collect(),
            options: Default::default(),
            anonymous,
            needs_init: false,
        }
    }

    #[test]
    fn filters_as_podman() {
        let f = |s: &str| Filter::parse(s, 1000, false).unwrap();
        let v = vol("data1", false);
        assert!(f("name=ata").matches(&v, 0));
        assert!(f("label=app=db").matches(&v, 0) && !f("label!=app").matches(&v, 0));
        assert!(f("dangling=true").matches(&v, 0) && !f("dangling=1").matches(&v, 2));
        assert!(f("driver=local").matches(&v, 0));
        assert!(f("anonymous=true").matches(&vol("x", true), 0));
        assert!(f("until=500").matches(&v, 0));
        // OR within a key, AND across keys.
        assert!(matches_all(&[f("name=zzz"), f("name=data")], &v, 0));
        assert!(!matches_all(&[f("name=data"), f("dangling=false")], &v, 0));
        assert!(Filter::parse("dangling=maybe", 0, false).unwrap_err().to_string().contains("true or false"));
        assert!(Filter::parse("name=x", 0, true).is_err());
        assert!(Filter::parse("bogus=1", 0, false).is_err());
    }
}
