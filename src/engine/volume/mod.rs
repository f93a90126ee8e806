//! Named volumes: their records in the state database (`volumes` table), their directories
//! (`$XDG_DATA_HOME/kiste/volumes/<name>/_data`, as Podman lays them out), the locks that keep
//! a removal from racing a container being created with the volume, and which containers use
//! a volume (their records' mounts). Does not mount anything (the runtime binds `_data` from
//! the spec), does not parse run options (container::mounts does) and does not read images
//! (init.rs asks the storage helper for the first-mount copy-up).

pub mod init;
pub mod io;
pub mod prune;

use crate::engine::container::{self as ctr, ContainerError};
use crate::engine::{Context, ContextError};
use crate::state::lock::FileLock;
use rusqlite::{Connection, OptionalExtension, params};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum VolumeError {
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error("state database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("no volume with name \"{0}\" found: no such volume")]
    NotFound(String),
    #[error("volume \"{0}\" already exists; pick another name, or use --ignore")]
    Exists(String),
    #[error("volume \"{name}\" is being used by container {users}; remove the container first, or use -f")]
    InUse { name: String, users: String },
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error(transparent)]
    Container(Box<ContainerError>),
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: String, source: std::io::Error },
}

impl VolumeError {
    pub fn io(what: &'static str, path: impl AsRef<Path>, source: std::io::Error) -> VolumeError {
        VolumeError::Io { what, path: path.as_ref().display().to_string(), source }
    }
}

impl From<ContainerError> for VolumeError {
    fn from(e: ContainerError) -> VolumeError {
        VolumeError::Container(Box::new(e))
    }
}

/// What backs a volume (the local driver's `type`, `device`, `o` options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Backing {
    /// A directory of its own, `_data`.
    Dir,
    /// A tmpfs mounted for each container (its contents live as long as that container runs).
    Tmpfs { options: Vec<String> },
    /// A directory of the host (`device`), bound.
    Bind { device: PathBuf, options: Vec<String> },
}

/// A volume's options, parsed (they are validated when the volume is created).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeOptions {
    pub backing: Backing,
    /// `o=uid=N,gid=N` (or `--uid`/`--gid`): the owner of `_data`, as container IDs.
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// `nocopy`: never copy an image's directory into it.
    pub nocopy: bool,
}

/// Parses the local driver's options (`type`, `device`, `o`, `copy`, `nocopy`, `uid`, `gid`).
pub fn parse_options(opts: &BTreeMap<String, String>) -> Result<VolumeOptions, VolumeError> {
    let bad = |why: String| VolumeError::Invalid(format!("invalid volume option: {why}"));
    let mut uid = opts.get("uid").map(|v| parse_id("uid", v)).transpose()?;
    let mut gid = opts.get("gid").map(|v| parse_id("gid", v)).transpose()?;
    let mut mount_opts = Vec::new();
    for o in opts.get("o").map(|o| o.split(',').filter(|x| !x.is_empty()).collect::<Vec<_>>()).unwrap_or_default() {
        match o.split_once('=') {
            Some(("uid", v)) => uid = Some(parse_id("uid", v)?),
            Some(("gid", v)) => gid = Some(parse_id("gid", v)?),
            Some(("size" | "mode" | "nr_inodes", _)) | None => mount_opts.push(o.to_string()),
            Some((k, _)) if ["timeout", "inodes", "noquota"].contains(&k) => {}
            Some((k, _)) => {
                return Err(bad(format!("o={k}=... is not supported rootless; use size, mode, uid or gid")));
            }
        }
    }
    for k in opts.keys() {
        if !["type", "device", "o", "copy", "nocopy", "uid", "gid"].contains(&k.as_str()) {
            return Err(bad(format!("unknown option \"{k}\"; use type, device, o, copy or nocopy")));
        }
    }
    let device = opts.get("device").filter(|d| !d.is_empty());
    let backing = match opts.get("type").map(String::as_str).unwrap_or("") {
        "" | "none"
            if device.is_none() && mount_opts.iter().all(|o| ["rw", "ro", "bind", "rbind"].contains(&o.as_str())) =>
        {
            Backing::Dir
        }
        "tmpfs" => {
            if device.is_some_and(|d| d != "tmpfs") {
                return Err(bad("a tmpfs volume takes no device (or device=tmpfs)".into()));
            }
            let mut o = mount_opts;
            o.extend(uid.map(|u| format!("uid={u}")));
            o.extend(gid.map(|g| format!("gid={g}")));
            Backing::Tmpfs { options: o }
        }
        "bind" | "" | "none" => {
            let d = device.ok_or_else(|| bad("a bind volume needs device=/host/path".into()))?;
            let p = Path::new(d);
            if !p.is_absolute() {
                return Err(bad(format!("device \"{d}\" must be an absolute path")));
            }
            if !p.is_dir() {
                return Err(bad(format!("device \"{d}\" is not a directory; create it first")));
            }
            Backing::Bind { device: p.to_path_buf(), options: mount_opts }
        }
        t => {
            return Err(bad(format!(
                "type \"{t}\" needs a mount only root can make; rootless volumes are directories, tmpfs or bind"
            )));
        }
    };
    Ok(VolumeOptions { backing, uid, gid, nocopy: opts.contains_key("nocopy") })
}

fn parse_id(what: &str, v: &str) -> Result<u32, VolumeError> {
    v.parse().map_err(|_| {
        VolumeError::Invalid(format!("invalid volume option {what}=\"{v}\": use a number, e.g. {what}=1000"))
    })
}

/// One volume's record.
#[derive(Debug, Clone)]
pub struct Volume {
    pub name: String,
    pub driver: String,
    pub created: crate::state::stamp::Stamp,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    /// Made for one container (an image's VOLUME, `-v /path`): removed with it by `rm -v`/`--rm`.
    pub anonymous: bool,
    /// Not yet mounted: its first mount over an image directory takes that directory's owner
    /// and mode and (unless `nocopy`) its contents (Podman's NeedsCopyUp/NeedsChown).
    pub needs_init: bool,
}

impl Volume {
    /// The volume's directory (`volumes/<name>`).
    pub fn dir(&self, ctx: &Context) -> PathBuf {
        volumes_dir(ctx).join(&self.name)
    }
    /// Where its data is (`volumes/<name>/_data`), Podman's Mountpoint.
    pub fn data(&self, ctx: &Context) -> PathBuf {
        self.dir(ctx).join("_data")
    }
    /// Its options, parsed; a record whose options no longer parse (a device removed since)
    /// reads as a plain directory volume and says so when mounted.
    pub fn parsed(&self) -> Result<VolumeOptions, VolumeError> {
        parse_options(&self.options)
            .map_err(|e| VolumeError::Invalid(format!("volume \"{}\" cannot be mounted: {e}", self.name)))
    }
    pub fn has_label(&self, spec: &str) -> bool {
        match spec.split_once('=') {
            Some((k, v)) => self.labels.get(k).is_some_and(|x| x == v),
            None => self.labels.contains_key(spec),
        }
    }
}

/// `$XDG_DATA_HOME/kiste/volumes`.
pub fn volumes_dir(ctx: &Context) -> PathBuf {
    ctx.paths.data.join("volumes")
}

/// Refuses names Podman refuses: letters, digits, `_ . -`, not starting with a symbol.
pub fn check_name(n: &str) -> Result<(), VolumeError> {
    let ok = n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
        && n.len() <= 255;
    if ok {
        Ok(())
    } else {
        Err(VolumeError::Invalid(format!(
            "invalid volume name \"{n}\": use letters, digits, _ . - (starting with a letter or digit)"
        )))
    }
}

const COLUMNS: &str = "name, driver, created, labels, options, anonymous, needs_init";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Volume> {
    let labels: String = r.get(3)?;
    let options: String = r.get(4)?;
    Ok(Volume {
        name: r.get(0)?,
        driver: r.get(1)?,
        created: r.get(2)?,
        labels: serde_json::from_str(&labels).unwrap_or_default(),
        options: serde_json::from_str(&options).unwrap_or_default(),
        anonymous: r.get::<_, i64>(5)? != 0,
        needs_init: r.get::<_, i64>(6)? != 0,
    })
}

pub fn get(conn: &Connection, name: &str) -> Result<Volume, VolumeError> {
    let mut st = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM volumes WHERE name = ?1"))?;
    st.query_row([name], row).optional()?.ok_or_else(|| VolumeError::NotFound(name.to_string()))
}

pub fn list(conn: &Connection) -> Result<Vec<Volume>, VolumeError> {
    let mut st = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM volumes ORDER BY name"))?;
    let v = st.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(v)
}

/// Records that the volume's first mount has been prepared.
pub fn set_initialized(conn: &Connection, name: &str) -> Result<(), VolumeError> {
    conn.execute("UPDATE volumes SET needs_init = 0 WHERE name = ?1", [name])?;
    Ok(())
}

/// Held (shared) by `create` from resolving its volumes to recording the container, and
/// (exclusive) by whatever removes volumes: a volume is never removed under a container that
/// is being made with it.
pub fn lock_shared(ctx: &Context) -> Result<FileLock, VolumeError> {
    lock(ctx, "volumes.lock", FileLock::shared)
}

pub fn lock_exclusive(ctx: &Context) -> Result<FileLock, VolumeError> {
    lock(ctx, "volumes.lock", FileLock::exclusive)
}

/// Held while one volume's contents are prepared (copy-up, chown): concurrent first mounts
/// prepare it once.
pub fn lock_one(ctx: &Context, name: &str) -> Result<FileLock, VolumeError> {
    lock(ctx, &format!("volume-{name}.lock"), FileLock::exclusive)
}

fn lock(
    ctx: &Context,
    file: &str,
    take: impl FnOnce(&Path) -> std::io::Result<FileLock>,
) -> Result<FileLock, VolumeError> {
    crate::state::paths::make_private_dir(&ctx.paths.locks()).map_err(ContextError::from)?;
    let p = ctx.paths.locks().join(file);
    take(&p).map_err(|e| VolumeError::io("cannot lock", &p, e))
}

/// What `volume create` (and a `-v NAME:/path` of a missing volume) asks for.
#[derive(Debug, Clone, Default)]
pub struct CreateOptions {
    /// None: a generated name (64 hex digits).
    pub name: Option<String>,
    pub driver: String,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    pub anonymous: bool,
    /// Succeed, returning the existing volume, when the name is taken.
    pub ignore: bool,
}

/// Creates a volume: its directory first (0700, `_data` 0755), then its record; a killed
/// create leaves at most a directory that the next create of that name reuses.
pub fn create(ctx: &Context, o: &CreateOptions) -> Result<Volume, VolumeError> {
    let driver = if o.driver.is_empty() { "local" } else { o.driver.as_str() };
    if driver != "local" {
        return Err(VolumeError::Invalid(format!(
            "unsupported volume driver \"{driver}\": kiste has the local driver"
        )));
    }
    let name = match &o.name {
        Some(n) => {
            check_name(n)?;
            n.clone()
        }
        None => ctr::new_id(),
    };
    let parsed = parse_options(&o.options)?;
    let conn = ctx.db()?;
    match get(&conn, &name) {
        Ok(v) if o.ignore => return Ok(v),
        Ok(_) => return Err(VolumeError::Exists(name)),
        Err(VolumeError::NotFound(_)) => {}
        Err(e) => return Err(e),
    }
    let v = Volume {
        name,
        driver: driver.to_string(),
        created: crate::state::stamp::Stamp::now(),
        labels: o.labels.clone(),
        options: o.options.clone(),
        anonymous: o.anonymous,
        needs_init: true,
    };
    make_dirs(ctx, &v)?;
    if parsed.uid.is_some() || parsed.gid.is_some() {
        init::chown_data(ctx, &v, parsed.uid.unwrap_or(0), parsed.gid.unwrap_or(0))?;
    }
    let r = conn.execute(
        &format!("INSERT INTO volumes ({COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7)"),
        params![
            v.name,
            v.driver,
            v.created,
            serde_json::to_string(&v.labels).unwrap_or_default(),
            serde_json::to_string(&v.options).unwrap_or_default(),
            v.anonymous as i64,
            v.needs_init as i64
        ],
    );
    match r {
        Ok(_) => Ok(v),
        // Made meanwhile by another command (two `run -v new:/x` at once).
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
            if o.ignore {
                get(&conn, &v.name)
            } else {
                Err(VolumeError::Exists(v.name))
            }
        }
        Err(e) => Err(e.into()),
    }
}

fn make_dirs(ctx: &Context, v: &Volume) -> Result<(), VolumeError> {
    use std::os::unix::fs::DirBuilderExt;
    crate::state::paths::make_store_dir(&volumes_dir(ctx)).map_err(ContextError::from)?;
    crate::state::paths::make_private_dir(&v.dir(ctx)).map_err(ContextError::from)?;
    match std::fs::DirBuilder::new().mode(0o755).create(v.data(ctx)) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(VolumeError::io("cannot create", v.data(ctx), e)),
    }
}

/// The volume `name`, made (with default options) when missing: `-v NAME:/path` as Podman.
pub fn ensure(ctx: &Context, name: &str) -> Result<Volume, VolumeError> {
    match get(&*ctx.db()?, name) {
        Err(VolumeError::NotFound(_)) => {
            create(ctx, &CreateOptions { name: Some(name.to_string()), ignore: true, ..Default::default() })
        }
        r => r,
    }
}

/// The containers (any state) whose mounts name volume `name`: (ID, name).
pub fn users(conn: &Connection, name: &str) -> Result<Vec<(String, String)>, VolumeError> {
    Ok(ctr::list(conn)?
        .into_iter()
        .filter(|c| c.kept.mounts.iter().any(|m| m.volume_name() == Some(name)))
        .map(|c| (c.id, c.name))
        .collect())
}

/// Every container's volumes: volume name -> (containers using it, of them running).
pub fn usage(ctx: &Context, conn: &Connection) -> Result<BTreeMap<String, (usize, usize)>, VolumeError> {
    let mut out: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    for c in ctr::list_reconciled(ctx, conn)? {
        let mut seen = std::collections::BTreeSet::new();
        for n in c.kept.mounts.iter().filter_map(|m| m.volume_name()) {
            if seen.insert(n) {
                let e = out.entry(n.to_string()).or_default();
                e.0 += 1;
                e.1 += c.is_running() as usize;
            }
        }
    }
    Ok(out)
}

fn describe_users(users: &[(String, String)]) -> String {
    users.iter().map(|(id, n)| format!("{n} ({})", &id[..12.min(id.len())])).collect::<Vec<_>>().join(", ")
}

/// Removes volume `name`. In use: refused naming the containers, or with `force` those
/// containers are removed first (stopped if they run), as Podman does.
pub fn remove(ctx: &Context, name: &str, force: bool) -> Result<(), VolumeError> {
    let _lock = lock_exclusive(ctx)?;
    let conn = ctx.db()?;
    let v = get(&conn, name)?;
    let using = users(&conn, &v.name)?;
    if !using.is_empty() {
        if !force {
            return Err(VolumeError::InUse { name: v.name, users: describe_users(&using) });
        }
        for (id, _) in &using {
            match ctr::lifecycle::remove_container(ctx, id, true, None) {
                Ok(_) | Err(ContainerError::NotFound(_)) => {}
                Err(e) => return Err(e.into()),
            }
        }
    }
    remove_unlocked(ctx, &conn, &v)
}

/// Removes a volume nobody uses; the caller holds the exclusive volumes lock. The directory
/// vanishes first (one rename), then the record, then the files (in the user namespace:
/// they may belong to subordinate IDs).
pub(crate) fn remove_unlocked(ctx: &Context, conn: &Connection, v: &Volume) -> Result<(), VolumeError> {
    let dir = v.dir(ctx);
    let doomed = volumes_dir(ctx).join(format!(".del-{}-{}", v.name, crate::util::nonce()));
    match std::fs::rename(&dir, &doomed) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(VolumeError::io("cannot remove", &dir, e)),
    }
    conn.execute("DELETE FROM volumes WHERE name = ?1", [&v.name])?;
    crate::storage::layers::remove_paths(&ctx.idmap, &[doomed])?;
    let _ = std::fs::remove_file(ctx.paths.locks().join(format!("volume-{}.lock", v.name)));
    Ok(())
}

/// After container `c` is gone: removes its anonymous volumes that no other container uses
/// (`rm -v`, `--rm`). Failures are returned as lines; the container is gone either way.
pub fn remove_anonymous_of(ctx: &Context, mounts: &[ctr::mounts::KeptMount]) -> Vec<String> {
    let names: Vec<&str> = mounts.iter().filter(|m| m.anonymous).filter_map(|m| m.volume_name()).collect();
    if names.is_empty() {
        return Vec::new();
    }
    let mut errors = Vec::new();
    let run = || -> Result<(), VolumeError> {
        let _lock = lock_exclusive(ctx)?;
        let conn = ctx.db()?;
        for n in names {
            if !users(&conn, n)?.is_empty() {
                continue;
            }
            match get(&conn, n) {
                Ok(v) => {
                    if let Err(e) = remove_unlocked(ctx, &conn, &v) {
                        errors.push(format!("cannot remove volume {n}: {e}"));
                    }
                }
                Err(VolumeError::NotFound(_)) => {}
                Err(e) => errors.push(format!("cannot remove volume {n}: {e}")),
            }
        }
        Ok(())
    };
    if let Err(e) = run() {
        errors.push(e.to_string());
    }
    errors
}

/// `volume reload`: directories without a record get one (a killed create, a restored
/// backup); records whose directory is gone are removed. Returns (added, removed).
pub fn reload(ctx: &Context) -> Result<(Vec<String>, Vec<String>), VolumeError> {
    let _lock = lock_exclusive(ctx)?;
    let conn = ctx.db()?;
    let known = list(&conn)?;
    let mut added = Vec::new();
    for e in std::fs::read_dir(volumes_dir(ctx)).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') || check_name(&name).is_err() || known.iter().any(|v| v.name == name) {
            continue;
        }
        if e.path().join("_data").is_dir() {
            conn.execute(
                &format!("INSERT OR IGNORE INTO volumes ({COLUMNS}) VALUES (?1,'local',?2,'{{}}','{{}}',0,0)"),
                params![name, crate::state::stamp::Stamp::now()],
            )?;
            added.push(name);
        }
    }
    let mut removed = Vec::new();
    for v in known {
        if !v.data(ctx).is_dir() && !matches!(v.parsed().map(|p| p.backing), Ok(Backing::Tmpfs { .. })) {
            if !users(&conn, &v.name)?.is_empty() {
                continue;
            }
            conn.execute("DELETE FROM volumes WHERE name = ?1", [&v.name])?;
            removed.push(v.name);
        }
    }
    Ok((added, removed))
}

/// Podman's inspect (and `volume ls --format json`) document of a volume.
pub fn inspect_json(ctx: &Context, v: &Volume, usage: (usize, usize)) -> serde_json::Value {
    let created = v.created.rfc3339();
    let parsed = parse_options(&v.options).ok();
    let mut doc = serde_json::json!({
        "Name": v.name,
        "Driver": v.driver,
        "Mountpoint": match parsed.as_ref().map(|p| &p.backing) {
            Some(Backing::Bind { device, .. }) => device.clone(),
            _ => v.data(ctx),
        },
        "CreatedAt": created,
        "Labels": v.labels,
        "Scope": "local",
        "Options": v.options,
        "MountCount": usage.1,
        "NeedsCopyUp": v.needs_init && !parsed.as_ref().is_some_and(|p| p.nocopy),
        "NeedsChown": v.needs_init,
        "LockNumber": 0,
    });
    if let Some(m) = doc.as_object_mut() {
        if v.anonymous {
            m.insert("Anonymous".into(), true.into());
        }
        if let Some(p) = &parsed {
            if let Some(u) = p.uid.filter(|u| *u != 0) {
                m.insert("UID".into(), u.into());
            }
            if let Some(g) = p.gid.filter(|g| *g != 0) {
                m.insert("GID".into(), g.into());
            }
        }
    }
    doc
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(kv: &[(&str, &str)]) -> BTreeMap<String, String> {
        kv.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn names_and_options_are_checked_like_podman() {
        assert!(check_name("data_1.x-y").is_ok());
        for bad in ["", "a/b", "-x", ".hidden", "a b", "../x"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_options(&opts(&[])).unwrap().backing, Backing::Dir);
        let t = parse_options(&opts(&[("type", "tmpfs"), ("device", "tmpfs"), ("o", "size=2m,uid=1000")])).unwrap();
        assert_eq!(t.backing, Backing::Tmpfs { options: vec!["size=2m".into(), "uid=1000".into()] });
        assert_eq!(t.uid, Some(1000));
        let d = parse_options(&opts(&[("o", "uid=5,gid=6")])).unwrap();
        assert_eq!((d.backing, d.uid, d.gid), (Backing::Dir, Some(5), Some(6)));
        assert!(parse_options(&opts(&[("nocopy", "")])).unwrap().nocopy);
        let e = parse_options(&opts(&[("type", "nfs"), ("device", "srv:/x")])).unwrap_err().to_string();
        assert!(e.contains("nfs") && e.contains("rootless"), "{e}");
        assert!(parse_options(&opts(&[("bogus", "1")])).unwrap_err().to_string().contains("bogus"));
        assert!(parse_options(&opts(&[("type", "bind"), ("device", "/nonexistent-kiste")])).is_err());
        let b = parse_options(&opts(&[("type", "bind"), ("device", "/tmp"), ("o", "bind")])).unwrap();
        assert!(matches!(b.backing, Backing::Bind { .. }));
        assert!(parse_options(&opts(&[("o", "uid=x")])).unwrap_err().to_string().contains("uid"));
    }
}
