//! Resolving a container's mount requests against the host and the stores: bind sources must
//! exist (a missing one is an error naming it, as Podman), named volumes are looked up (and
//! made at `materialize` when missing), anonymous volumes get their names, `--volumes-from`
//! copies another container's mounts, the image's VOLUMEs become anonymous volumes, images
//! for `type=image` are found. Then: the spec's mounts, the record's, and each new volume's
//! first-mount preparation.

use super::{Flag, KeptMount, MountOptions, MountRequest, MountType, Propagation, Source};
use crate::engine::Context;
use crate::engine::container::ContainerError;
use crate::engine::volume::{self, Backing};
use oci_spec::runtime::Mount;
use rusqlite::Connection;
use std::path::{Path, PathBuf};

/// What `run`/`create` said about storage.
#[derive(Debug, Default)]
pub struct PlanInput<'a> {
    pub volumes: &'a [String],
    pub mounts: &'a [String],
    pub volumes_from: &'a [String],
    /// `--tmpfs` (mounted by the spec itself; only their destinations matter here).
    pub tmpfs: &'a [String],
    /// The image's VOLUME paths.
    pub image_volumes: &'a [String],
    /// `--image-volume`: bind (anonymous volumes, the default), tmpfs or ignore.
    pub image_volume_mode: Option<&'a str>,
    pub read_only: bool,
    /// `--read-only-tmpfs` (default true): with `--read-only`, tmpfs on /run, /tmp, /var/tmp.
    pub read_only_tmpfs: bool,
}

/// A mount resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Bind(PathBuf),
    Volume {
        name: String,
        anonymous: bool,
        backing: Backing,
    },
    Tmpfs,
    /// An image's layer directories, top first.
    Image {
        reference: String,
        layers: Vec<PathBuf>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub dest: String,
    pub target: Target,
    pub options: MountOptions,
}

/// A container's storage mounts, parents before children.
#[derive(Debug, Default)]
pub struct Plan {
    pub mounts: Vec<Planned>,
}

fn invalid(msg: String) -> ContainerError {
    ContainerError::Invalid(msg)
}

/// `--tmpfs PATH[:OPTIONS]`'s destination, cleaned.
fn tmpfs_dest(t: &str) -> Option<String> {
    let p = t.split(':').next()?;
    super::parse::clean_dest("--tmpfs", t, p).ok()
}

/// Resolves every request (nothing is created yet: see `materialize`).
pub fn plan(ctx: &Context, conn: &Connection, inp: &PlanInput) -> Result<Plan, ContainerError> {
    let mut asked: Vec<(String, MountRequest)> = Vec::new();
    for v in inp.volumes {
        asked.push((format!("volume \"{v}\""), super::parse::volume(v)?));
    }
    for m in inp.mounts {
        asked.push((format!("--mount \"{m}\""), super::parse::mount(m)?));
    }
    let mut taken: Vec<String> = inp.tmpfs.iter().filter_map(|t| tmpfs_dest(t)).collect();
    let mut out = Vec::new();
    for (given, r) in asked {
        if taken.contains(&r.dest) {
            return Err(invalid(format!(
                "invalid {given}: {} is already a mount destination; mount one thing there",
                r.dest
            )));
        }
        taken.push(r.dest.clone());
        out.push(resolve(ctx, conn, &given, r)?);
    }
    for spec in inp.volumes_from {
        let (name, ro) = super::parse::volumes_from(spec)?;
        let from = crate::engine::container::resolve(conn, &name)?;
        for k in &from.kept.mounts {
            if taken.contains(&k.destination) {
                continue;
            }
            if let Some(p) = from_kept(conn, k, ro)? {
                taken.push(p.dest.clone());
                out.push(p);
            }
        }
    }
    add_image_volumes(ctx, conn, inp, &mut taken, &mut out)?;
    if inp.read_only && inp.read_only_tmpfs {
        for d in ["/run", "/tmp", "/var/tmp"] {
            if !taken.iter().any(|t| t == d) {
                let options = MountOptions { flags: vec![Flag::Exec], ..Default::default() };
                out.push(Planned { dest: d.into(), target: Target::Tmpfs, options });
            }
        }
    }
    // Parents first, so that a mount inside another lands on top of it.
    out.sort_by_key(|p| p.dest.matches('/').count() - usize::from(p.dest == "/"));
    Ok(Plan { mounts: out })
}

fn add_image_volumes(
    ctx: &Context,
    conn: &Connection,
    inp: &PlanInput,
    taken: &mut Vec<String>,
    out: &mut Vec<Planned>,
) -> Result<(), ContainerError> {
    let mode = inp.image_volume_mode.unwrap_or("bind");
    if !["bind", "tmpfs", "ignore"].contains(&mode) {
        return Err(invalid(format!("invalid --image-volume \"{mode}\": use bind, tmpfs or ignore")));
    }
    if mode == "ignore" {
        return Ok(());
    }
    let mut paths: Vec<&String> = inp.image_volumes.iter().collect();
    paths.sort();
    for p in paths {
        if p.trim_matches('/').is_empty() {
            continue;
        }
        let dest = super::parse::clean_dest("image VOLUME", p, p)?;
        if taken.contains(&dest) {
            continue;
        }
        taken.push(dest.clone());
        let r = MountRequest {
            source: if mode == "tmpfs" { Source::Tmpfs } else { Source::Volume(None) },
            dest,
            options: MountOptions::default(),
        };
        out.push(resolve(ctx, conn, &format!("image VOLUME \"{p}\""), r)?);
    }
    Ok(())
}

/// One of another container's mounts, for `--volumes-from` (volumes and binds only).
fn from_kept(conn: &Connection, k: &KeptMount, ro: Option<bool>) -> Result<Option<Planned>, ContainerError> {
    let mut options = MountOptions {
        read_only: ro.unwrap_or(k.read_only),
        propagation: Propagation::parse(&k.propagation),
        nonrecursive: k.options.iter().any(|o| o == "bind"),
        overlay: k.overlay,
        ..Default::default()
    };
    options.flags = k.options.iter().filter_map(|o| Flag::parse(o)).collect();
    let target = match (k.kind, &k.name) {
        (MountType::Bind, _) => Target::Bind(k.source.clone()),
        (MountType::Volume, Some(name)) => {
            let v = volume::get(conn, name).map_err(|e| invalid(format!("--volumes-from: {e}")))?;
            Target::Volume { name: v.name.clone(), anonymous: v.anonymous, backing: v.parsed()?.backing }
        }
        _ => return Ok(None),
    };
    Ok(Some(Planned { dest: k.destination.clone(), target, options }))
}

/// Whether the kernel's overlay is what this store mounts (image mounts and `O` need it).
fn native_overlay(ctx: &Context) -> bool {
    crate::storage::overlay::detect(&ctx.paths.storage(), &ctx.idmap) != crate::storage::overlay::OverlayMode::Fuse
}

fn resolve(ctx: &Context, conn: &Connection, given: &str, r: MountRequest) -> Result<Planned, ContainerError> {
    let target = match r.source {
        Source::Bind(p) => {
            if let Err(e) = std::fs::metadata(&p) {
                return Err(invalid(format!(
                    "invalid {given}: the host path \"{}\" {}",
                    p.display(),
                    match e.kind() {
                        std::io::ErrorKind::NotFound => "does not exist; create it first".to_string(),
                        _ => format!("cannot be used: {e}"),
                    }
                )));
            }
            if r.options.overlay && (!native_overlay(ctx) || p.to_string_lossy().contains([',', ':'])) {
                return Err(invalid(format!(
                    "invalid {given}: O needs the kernel's overlay and a source path without ',' or ':'"
                )));
            }
            Target::Bind(p)
        }
        Source::Volume(Some(name)) => match volume::get(conn, &name) {
            Ok(v) => Target::Volume { backing: v.parsed()?.backing, name: v.name, anonymous: v.anonymous },
            Err(volume::VolumeError::NotFound(_)) => Target::Volume { name, anonymous: false, backing: Backing::Dir },
            Err(e) => return Err(e.into()),
        },
        Source::Volume(None) => {
            Target::Volume { name: crate::engine::container::new_id(), anonymous: true, backing: Backing::Dir }
        }
        Source::Tmpfs => Target::Tmpfs,
        Source::Image(reference) => {
            if !native_overlay(ctx) {
                return Err(invalid(format!("invalid {given}: image mounts need the kernel's overlay")));
            }
            let img = crate::engine::image::store::resolve(conn, &reference)
                .map_err(|e| invalid(format!("invalid {given}: {e}; pull the image first")))?;
            let store = ctx.layer_store()?;
            let layers = img.layers.iter().rev().map(|l| store.diff_dir(l)).collect();
            Target::Image { reference, layers }
        }
    };
    Ok(Planned { dest: r.dest, target, options: r.options })
}

/// An empty directory, made once per store: the second lower layer of a read-only overlay
/// of a single directory (the kernel wants two).
pub fn empty_dir(ctx: &Context) -> Result<PathBuf, ContainerError> {
    let d = ctx.paths.storage().join("empty-v1");
    if !d.is_dir() {
        crate::state::paths::make_private_dir(&d).map_err(crate::engine::ContextError::from)?;
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755));
    }
    Ok(d)
}

impl Plan {
    /// Whether any mount needs directories of its own in the container's directory.
    fn own_dirs(&self) -> impl Iterator<Item = (usize, &Planned)> {
        self.mounts.iter().enumerate().filter(|(_, m)| match &m.target {
            Target::Bind(_) => m.options.overlay,
            Target::Image { .. } => !m.options.read_only,
            _ => false,
        })
    }

    /// Makes the upper and work directories of overlay mounts in `ctr_dir` (the container's
    /// directory while it is built).
    pub fn make_dirs(&self, ctr_dir: &Path) -> std::io::Result<()> {
        for (i, _) in self.own_dirs() {
            for d in ["upper", "work"] {
                std::fs::create_dir_all(ctr_dir.join(format!("ovl/{i}/{d}")))?;
            }
        }
        Ok(())
    }

    /// The spec's mounts; `ctr_dir` is the container's final directory.
    pub fn spec_mounts(&self, ctx: &Context, ctr_dir: &Path) -> Result<Vec<Mount>, ContainerError> {
        let mut out = Vec::new();
        let own: Vec<usize> = self.own_dirs().map(|(i, _)| i).collect();
        for (i, m) in self.mounts.iter().enumerate() {
            let (upper, work) = (ctr_dir.join(format!("ovl/{i}/upper")), ctr_dir.join(format!("ovl/{i}/work")));
            let dirs = own.contains(&i).then_some((upper.as_path(), work.as_path()));
            let o = &m.options;
            let built = match &m.target {
                Target::Bind(p) if o.overlay => super::spec_overlay(&m.dest, std::slice::from_ref(p), dirs, o),
                Target::Bind(p) => super::spec_bind(p, &m.dest, o, &[]),
                Target::Volume { name, backing, .. } => match backing {
                    Backing::Dir => super::spec_bind(
                        &volume::volumes_dir(ctx).join(name).join("_data"),
                        &m.dest,
                        o,
                        &[Flag::NoSuid, Flag::NoDev],
                    ),
                    Backing::Bind { device, .. } => super::spec_bind(device, &m.dest, o, &[Flag::NoSuid, Flag::NoDev]),
                    Backing::Tmpfs { options } => super::spec_tmpfs(&m.dest, o, options),
                },
                Target::Tmpfs => super::spec_tmpfs(&m.dest, o, &[]),
                Target::Image { layers, .. } => {
                    let mut lower = layers.clone();
                    if dirs.is_none() && lower.len() < 2 {
                        lower.push(empty_dir(ctx)?);
                    }
                    super::spec_overlay(&m.dest, &lower, dirs, o)
                }
            };
            out.push(built.map_err(|e| invalid(format!("cannot mount {}: {e}", m.dest)))?);
        }
        Ok(out)
    }

    /// The mounts as the record keeps them.
    pub fn kept(&self, ctx: &Context, spec: &[Mount]) -> Vec<KeptMount> {
        self.mounts
            .iter()
            .zip(spec)
            .map(|(m, s)| {
                let (kind, name, source, anonymous) = match &m.target {
                    Target::Bind(p) => (MountType::Bind, None, p.clone(), false),
                    Target::Volume { name, anonymous, .. } => (
                        MountType::Volume,
                        Some(name.clone()),
                        volume::volumes_dir(ctx).join(name).join("_data"),
                        *anonymous,
                    ),
                    Target::Tmpfs => (MountType::Tmpfs, None, PathBuf::new(), false),
                    Target::Image { reference, .. } => {
                        (MountType::Image, Some(reference.clone()), PathBuf::new(), false)
                    }
                };
                let shown: Vec<String> = s
                    .options()
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|o| {
                        !["ro", "rw"].contains(&o.as_str())
                            && Propagation::parse(o).is_none()
                            && !o.contains("dir=")
                            && o != "userxattr"
                    })
                    .collect();
                KeptMount {
                    kind,
                    name,
                    source,
                    destination: m.dest.clone(),
                    read_only: m.options.read_only,
                    anonymous,
                    options: shown,
                    propagation: m.options.propagation.unwrap_or(Propagation::Rprivate).as_str().to_string(),
                    overlay: m.options.overlay,
                    chown: m.options.chown,
                }
            })
            .collect()
    }

    /// Makes what the plan uses: missing named volumes, the anonymous ones; prepares new
    /// volumes from the image (`layers`: its layer directories, top first); chowns `U`
    /// sources to `owner` (the container's user, as the store's namespace numbers it).
    /// Returns the anonymous volumes made (for `undo`).
    pub fn materialize(
        &self,
        ctx: &Context,
        layers: &[PathBuf],
        owner: (u32, u32),
    ) -> Result<Vec<String>, ContainerError> {
        let mut made = Vec::new();
        let r = self.materialize_into(ctx, layers, owner, &mut made);
        if let Err(e) = r {
            undo(ctx, &made);
            return Err(e);
        }
        Ok(made)
    }

    fn materialize_into(
        &self,
        ctx: &Context,
        layers: &[PathBuf],
        owner: (u32, u32),
        made: &mut Vec<String>,
    ) -> Result<(), ContainerError> {
        let mut jobs = Vec::new();
        let mut chowns = Vec::new();
        for m in &self.mounts {
            match &m.target {
                Target::Volume { name, anonymous, .. } => {
                    let v = match (*anonymous, volume::get(&*ctx.db()?, name)) {
                        // Another container's (`--volumes-from`), or named and there.
                        (_, Ok(v)) => v,
                        (true, Err(volume::VolumeError::NotFound(_))) => {
                            let o = volume::CreateOptions {
                                name: Some(name.clone()),
                                anonymous: true,
                                ..Default::default()
                            };
                            let v = volume::create(ctx, &o)?;
                            made.push(v.name.clone());
                            v
                        }
                        (false, Err(volume::VolumeError::NotFound(_))) => volume::ensure(ctx, name)?,
                        (_, Err(e)) => return Err(e.into()),
                    };
                    let parsed = v.parsed()?;
                    if m.options.chown {
                        chowns.push(v.data(ctx));
                    }
                    if v.needs_init && parsed.backing == Backing::Dir {
                        let copy = m.options.copy.unwrap_or(true) && !parsed.nocopy;
                        jobs.push(volume::init::InitJob { volume: v, dest: m.dest.clone(), copy });
                    }
                }
                Target::Bind(p) if m.options.chown => chowns.push(p.clone()),
                _ => {}
            }
        }
        let mut lower = layers.to_vec();
        if lower.len() < 2 {
            lower.push(empty_dir(ctx)?);
        }
        volume::init::prepare(ctx, &jobs, &lower)?;
        volume::init::chown_paths(ctx, &chowns, owner.0, owner.1)?;
        Ok(())
    }
}

/// Removes anonymous volumes a failed create made. No lock is taken (the caller holds the
/// shared one): no container can use a volume only this create knows.
pub fn undo(ctx: &Context, made: &[String]) {
    if made.is_empty() {
        return;
    }
    if let Ok(conn) = ctx.db() {
        for n in made {
            if let Ok(v) = volume::get(&conn, n) {
                let _ = volume::remove_unlocked(ctx, &conn, &v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tmpfs_destinations_are_cleaned() {
        assert_eq!(tmpfs_dest("/run//x/:size=1m").as_deref(), Some("/run/x"));
        assert_eq!(tmpfs_dest("rel"), None);
    }
}
