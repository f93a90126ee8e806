//! A container's storage mounts, typed: `-v`, `--mount`, `--volumes-from`, the image's
//! VOLUMEs and `--read-only-tmpfs` are parsed once (parse.rs) into requests, resolved against
//! the host, the volume store and the image store (plan.rs), and become the spec's mounts,
//! the record's `KeptMount`s (inspect's `Mounts`, `rm -v`, `--volumes-from`, volume users)
//! and the volumes' first-mount preparation. The runtime mounts the spec; nothing here mounts.

pub mod parse;
pub mod plan;

use oci_spec::runtime::{Mount, MountBuilder};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// How a mount propagates (`bind-propagation=`, `-v ...:rslave`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Propagation {
    Private,
    Rprivate,
    Shared,
    Rshared,
    Slave,
    Rslave,
    Unbindable,
    Runbindable,
}

impl Propagation {
    pub fn parse(s: &str) -> Option<Propagation> {
        Some(match s {
            "private" => Propagation::Private,
            "rprivate" => Propagation::Rprivate,
            "shared" => Propagation::Shared,
            "rshared" => Propagation::Rshared,
            "slave" => Propagation::Slave,
            "rslave" => Propagation::Rslave,
            "unbindable" => Propagation::Unbindable,
            "runbindable" => Propagation::Runbindable,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Propagation::Private => "private",
            Propagation::Rprivate => "rprivate",
            Propagation::Shared => "shared",
            Propagation::Rshared => "rshared",
            Propagation::Slave => "slave",
            Propagation::Rslave => "rslave",
            Propagation::Unbindable => "unbindable",
            Propagation::Runbindable => "runbindable",
        }
    }
}

/// A mount flag a user may set (`nosuid`, `exec`...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flag {
    Suid,
    NoSuid,
    Dev,
    NoDev,
    Exec,
    NoExec,
}

impl Flag {
    pub fn parse(s: &str) -> Option<Flag> {
        Some(match s {
            "suid" => Flag::Suid,
            "nosuid" => Flag::NoSuid,
            "dev" => Flag::Dev,
            "nodev" => Flag::NoDev,
            "exec" => Flag::Exec,
            "noexec" => Flag::NoExec,
            _ => return None,
        })
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Flag::Suid => "suid",
            Flag::NoSuid => "nosuid",
            Flag::Dev => "dev",
            Flag::NoDev => "nodev",
            Flag::Exec => "exec",
            Flag::NoExec => "noexec",
        }
    }
    /// The options of one pair, for "given once" checks.
    fn group(self) -> &'static str {
        match self {
            Flag::Suid | Flag::NoSuid => "suid/nosuid",
            Flag::Dev | Flag::NoDev => "dev/nodev",
            Flag::Exec | Flag::NoExec => "exec/noexec",
        }
    }
    fn opposite(self) -> Flag {
        match self {
            Flag::Suid => Flag::NoSuid,
            Flag::NoSuid => Flag::Suid,
            Flag::Dev => Flag::NoDev,
            Flag::NoDev => Flag::Dev,
            Flag::Exec => Flag::NoExec,
            Flag::NoExec => Flag::Exec,
        }
    }
}

/// Options of one mount.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MountOptions {
    pub read_only: bool,
    pub propagation: Option<Propagation>,
    /// `bind` rather than `rbind`: mounts below the source are not carried along.
    pub nonrecursive: bool,
    /// `U`: chown the source to the container's user (through the mapping).
    pub chown: bool,
    /// `copy`/`nocopy`: whether a new volume is filled from the image (default: yes).
    pub copy: Option<bool>,
    /// `O`: an overlay over the source; changes stay in the container.
    pub overlay: bool,
    pub flags: Vec<Flag>,
    /// tmpfs data options (`size=`, `mode=`).
    pub tmpfs: Vec<String>,
}

/// What is mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A host path.
    Bind(PathBuf),
    /// A named volume, or (None) a new anonymous one.
    Volume(Option<String>),
    Tmpfs,
    /// An image's files (read-only unless `rw=true`), by reference.
    Image(String),
}

/// One mount as asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountRequest {
    pub source: Source,
    /// Absolute and cleaned.
    pub dest: String,
    pub options: MountOptions,
}

/// What a mount is, as inspect's `Type` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    #[default]
    Bind,
    Volume,
    Tmpfs,
    Image,
}

impl MountType {
    pub fn as_str(self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Volume => "volume",
            MountType::Tmpfs => "tmpfs",
            MountType::Image => "image",
        }
    }
}

/// A mount as kept with the container's record: what inspect shows, what `rm -v` removes,
/// what `--volumes-from` copies, what makes a volume "in use".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KeptMount {
    #[serde(rename = "type")]
    pub kind: MountType,
    /// The volume's name, or the image's reference.
    pub name: Option<String>,
    /// The host path mounted (a volume's `_data`, a bind's source; empty for tmpfs).
    pub source: PathBuf,
    pub destination: String,
    pub read_only: bool,
    pub anonymous: bool,
    /// The mount options inspect lists (`rbind`, `nosuid`...).
    pub options: Vec<String>,
    pub propagation: String,
    /// Mounted as an overlay (`O`) over the source.
    pub overlay: bool,
    /// `U` was given.
    pub chown: bool,
}

impl KeptMount {
    /// The volume this mount uses, if it is a volume.
    pub fn volume_name(&self) -> Option<&str> {
        if self.kind == MountType::Volume { self.name.as_deref() } else { None }
    }

    /// Podman's inspect `Mounts` entry (tmpfs mounts are not listed there).
    pub fn inspect_json(&self) -> Option<serde_json::Value> {
        let mut v = serde_json::json!({
            "Type": self.kind.as_str(),
            "Source": self.source,
            "Destination": self.destination,
            "Driver": if self.kind == MountType::Volume { "local" } else { "" },
            "Mode": if self.overlay { "O" } else { "" },
            "Options": self.options,
            "RW": !self.read_only,
            "Propagation": self.propagation,
        });
        match self.kind {
            MountType::Tmpfs => return None,
            MountType::Volume | MountType::Image => {
                if let (Some(m), Some(n)) = (v.as_object_mut(), &self.name) {
                    m.insert("Name".into(), n.clone().into());
                }
            }
            MountType::Bind => {}
        }
        Some(v)
    }

    /// HostConfig.Binds: `SOURCE:DEST:OPTIONS` (the volume's name for volumes).
    pub fn bind_text(&self) -> Option<String> {
        let src = match self.kind {
            MountType::Volume => self.name.clone()?,
            MountType::Bind => self.source.display().to_string(),
            _ => return None,
        };
        let mut opts = vec![if self.read_only { "ro" } else { "rw" }.to_string(), self.propagation.clone()];
        opts.extend(self.options.iter().cloned());
        Some(format!("{src}:{}:{}", self.destination, opts.join(",")))
    }
}

/// The spec options of a bind (or a volume's bind) with the user's options applied.
fn bind_options(o: &MountOptions, defaults: &[Flag]) -> Vec<String> {
    let mut flags: Vec<Flag> = defaults.to_vec();
    for f in &o.flags {
        flags.retain(|x| *x != f.opposite() && x != f);
        flags.push(*f);
    }
    let mut out = vec![if o.nonrecursive { "bind" } else { "rbind" }.to_string()];
    out.extend(flags.iter().map(|f| f.as_str().to_string()));
    out
}

fn propagation(o: &MountOptions) -> Propagation {
    o.propagation.unwrap_or(Propagation::Rprivate)
}

/// A spec bind mount of `source` at `dest`.
pub(crate) fn spec_bind(source: &Path, dest: &str, o: &MountOptions, defaults: &[Flag]) -> Result<Mount, String> {
    let mut options = bind_options(o, defaults);
    options.push(propagation(o).as_str().to_string());
    if o.read_only {
        options.push("ro".into());
    }
    MountBuilder::default()
        .destination(PathBuf::from(dest))
        .typ("bind")
        .source(source)
        .options(options)
        .build()
        .map_err(|e| e.to_string())
}

/// A spec tmpfs at `dest` with Podman's defaults (`rw,noexec,nosuid,nodev`), then `extra`.
pub(crate) fn spec_tmpfs(dest: &str, o: &MountOptions, extra: &[String]) -> Result<Mount, String> {
    let mut flags = vec![Flag::NoExec, Flag::NoSuid, Flag::NoDev];
    for f in &o.flags {
        flags.retain(|x| *x != f.opposite() && x != f);
        flags.push(*f);
    }
    let mut options = vec![if o.read_only { "ro" } else { "rw" }.to_string()];
    options.extend(flags.iter().map(|f| f.as_str().to_string()));
    options.extend(extra.iter().cloned());
    options.extend(o.tmpfs.iter().cloned());
    MountBuilder::default()
        .destination(PathBuf::from(dest))
        .typ("tmpfs")
        .source("tmpfs")
        .options(options)
        .build()
        .map_err(|e| e.to_string())
}

/// A spec overlay at `dest`: `lower` (top first), and an upper/work pair unless read-only.
pub(crate) fn spec_overlay(
    dest: &str,
    lower: &[PathBuf],
    upper: Option<(&Path, &Path)>,
    o: &MountOptions,
) -> Result<Mount, String> {
    let join = |v: &[PathBuf]| v.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":");
    let mut options = vec![format!("lowerdir={}", join(lower))];
    if let Some((u, w)) = upper {
        options.push(format!("upperdir={}", u.display()));
        options.push(format!("workdir={}", w.display()));
    }
    // The container's user namespace mounts it: the kernel keeps overlay metadata in user.*.
    options.push("userxattr".into());
    options.extend(bind_options(o, &[Flag::NoDev]).into_iter().skip(1));
    if o.read_only || upper.is_none() {
        options.push("ro".into());
    }
    MountBuilder::default()
        .destination(PathBuf::from(dest))
        .typ("overlay")
        .source("overlay")
        .options(options)
        .build()
        .map_err(|e| e.to_string())
}

/// A spec's ID mappings as (container, host, count) triples.
pub(crate) fn spec_triples(m: &Option<Vec<oci_spec::runtime::LinuxIdMapping>>) -> Vec<crate::storage::idmap::Triple> {
    m.iter().flatten().map(|m| (m.container_id(), m.host_id(), m.size())).collect()
}

/// The container's user (the spec's process uid and gid) as the store's user namespace
/// numbers it (what the storage helper chowns to): through the container's maps to the host,
/// then back through the store's.
pub fn storage_owner(
    spec: &oci_spec::runtime::Spec,
    idmap: &crate::storage::idmap::IdMapping,
) -> Result<(u32, u32), crate::engine::container::ContainerError> {
    use crate::storage::idmap::{Triple, compose, invert, lookup};
    let user = spec.process().as_ref().map(|p| (p.user().uid(), p.user().gid())).unwrap_or((0, 0));
    if idmap.is_rootful() {
        return Ok(user);
    }
    let linux = spec.linux().clone().unwrap_or_default();
    let store = idmap.maps();
    let through = |ctr: Vec<Triple>, store: &[Triple], id: u32| lookup(&compose(&ctr, &invert(store)), id);
    let uid = through(spec_triples(linux.uid_mappings()), &store.uid, user.0);
    let gid = through(spec_triples(linux.gid_mappings()), &store.gid, user.1);
    match (uid, gid) {
        (Some(u), Some(g)) => Ok((u, g)),
        _ => Err(crate::engine::container::ContainerError::Invalid(format!(
            "the container's user {}:{} has no ID in your subordinate range; U cannot chown to it",
            user.0, user.1
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_options_apply_user_flags_over_defaults() {
        let o = MountOptions { read_only: true, flags: vec![Flag::Suid], ..Default::default() };
        let m = spec_bind(Path::new("/v"), "/d", &o, &[Flag::NoSuid, Flag::NoDev]).unwrap();
        assert_eq!(m.options().clone().unwrap(), ["rbind", "nodev", "suid", "rprivate", "ro"]);
        let o = MountOptions { nonrecursive: true, propagation: Some(Propagation::Rslave), ..Default::default() };
        let m = spec_bind(Path::new("/v"), "/d", &o, &[]).unwrap();
        assert_eq!(m.options().clone().unwrap(), ["bind", "rslave"]);
        let o = MountOptions { tmpfs: vec!["size=1m".into()], flags: vec![Flag::Exec], ..Default::default() };
        let m = spec_tmpfs("/t", &o, &[]).unwrap();
        assert_eq!(m.options().clone().unwrap(), ["rw", "nosuid", "nodev", "exec", "size=1m"]);
        let m =
            spec_overlay("/i", &[PathBuf::from("/a"), PathBuf::from("/b")], None, &MountOptions::default()).unwrap();
        let opts = m.options().clone().unwrap();
        assert!(opts.contains(&"lowerdir=/a:/b".to_string()) && opts.contains(&"ro".to_string()), "{opts:?}");
    }

    #[test]
    fn kept_mounts_show_podmans_inspect_keys() {
        let k = KeptMount {
            kind: MountType::Volume,
            name: Some("v".into()),
            source: "/data/v/_data".into(),
            destination: "/d".into(),
            options: vec!["nosuid".into(), "nodev".into(), "rbind".into()],
            propagation: "rprivate".into(),
            ..Default::default()
        };
        let j = k.inspect_json().unwrap();
        assert_eq!(j["Name"], "v");
        assert_eq!(j["Driver"], "local");
        assert_eq!(j["RW"], true);
        assert_eq!(k.bind_text().unwrap(), "v:/d:rw,rprivate,nosuid,nodev,rbind");
        let t = KeptMount { kind: MountType::Tmpfs, ..Default::default() };
        assert!(t.inspect_json().is_none());
        let round: KeptMount = serde_json::from_value(serde_json::to_value(&k).unwrap()).unwrap();
        assert_eq!(round, k);
    }
}
