//! Local image management: remove (untag or delete, with layer garbage collection), prune,
//! tag, and the Podman-shaped JSON of `inspect` and `images`. Works on the store and layer
//! directories; never talks to a registry.

use super::reference::Reference;
use super::store::{self, ImageRecord, StoreError};
use crate::engine::{Context, ContextError};
use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum ManageError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error(transparent)]
    Reference(#[from] super::reference::ReferenceError),
    #[error("unable to delete image \"{id}\" by ID with more than one tag ({names}): please force removal")]
    MultipleTags { id: String, names: String },
    #[error("image {id} is in use by container(s) {containers}: remove them first, or use -f to remove them too")]
    InUse { id: String, containers: String },
    #[error(transparent)]
    Container(#[from] Box<crate::engine::container::ContainerError>),
    #[error("state database: {0}")]
    Db(#[from] rusqlite::Error),
}

/// IDs and names of the containers made from image `id`.
fn users(conn: &rusqlite::Connection, id: &str) -> Result<Vec<(String, String)>, ManageError> {
    crate::engine::container::using_image(conn, id).map_err(|e| ManageError::Container(Box::new(e)))
}

fn in_use(rec: &ImageRecord, used: &[(String, String)]) -> ManageError {
    let names: Vec<String> = used.iter().map(|(_, n)| n.clone()).collect();
    ManageError::InUse { id: crate::util::short_id(&rec.id), containers: names.join(", ") }
}

/// What `rmi` did to one image.
#[derive(Debug, Default)]
pub struct Removal {
    pub untagged: Vec<String>,
    pub deleted: Option<String>,
}

/// `rmi INPUT`: a name removes that name (even with `force`, as Podman), and the image with
/// its last name; an ID removes the image (with `force` even when it has several names).
pub fn remove(ctx: &Context, input: &str, force: bool) -> Result<Removal, ManageError> {
    let mut conn = ctx.db()?;
    let rec = store::resolve(&conn, input)?;
    let by_id = rec.id.trim_start_matches("sha256:").starts_with(input.trim_start_matches("sha256:"));
    let mut out = Removal::default();
    if !by_id && rec.names.len() > 1 {
        out.untagged = store::untag(&conn, &rec.id, Some(input))?;
        return Ok(out);
    }
    if by_id && rec.names.len() > 1 && !force {
        return Err(ManageError::MultipleTags { id: crate::util::short_id(&rec.id), names: rec.names.join(", ") });
    }
    let used = users(&conn, &rec.id)?;
    if !used.is_empty() {
        if !force {
            return Err(in_use(&rec, &used));
        }
        for (cid, _) in used {
            crate::engine::container::lifecycle::remove(ctx, &cid, true).map_err(Box::new)?;
        }
    }
    out.untagged = rec.names.clone();
    delete_image(ctx, &mut conn, &rec)?;
    out.deleted = Some(rec.id.clone());
    Ok(out)
}

/// Deletes the record, then the layers no other image uses, then orphaned directories.
/// Returns the bytes freed (the sizes of the deleted layers).
fn delete_image(ctx: &Context, conn: &mut rusqlite::Connection, rec: &ImageRecord) -> Result<u64, ManageError> {
    let layers = ctx.layer_store()?;
    let _lock = ctx.store_lock_exclusive()?;
    // Checked again under the lock: `create` holds it (shared) from resolving the image to
    // recording the container, so no container can appear after this check.
    let used = users(conn, &rec.id)?;
    if !used.is_empty() {
        return Err(in_use(rec, &used));
    }
    let orphans = store::remove(conn, &rec.id)?;
    let ids: Vec<String> = orphans.iter().map(|(d, _)| d.clone()).collect();
    layers.remove(&ids)?;
    let _ = std::fs::remove_file(ctx.paths.blobs().join(crate::util::digest_hex(&rec.id)));
    sweep_locked(ctx, conn)?;
    Ok(orphans.iter().map(|(_, size)| size).sum())
}

/// Removes what no image owns: leftovers of killed pulls and removals, and — while no pull
/// runs that may still record them — layer directories the database does not know and
/// blobs that are neither the config of a known image nor a layer blob kept for the next
/// push (layer blobs of pulls that were killed before recording). The caller holds the
/// exclusive store lock.
fn sweep_locked(ctx: &Context, conn: &rusqlite::Connection) -> Result<(), ManageError> {
    let layers = ctx.layer_store()?;
    layers.clean_leftovers()?;
    let Some(_no_pulls) = ctx.no_pull_in_flight()? else { return Ok(()) };
    let known = store::layer_sizes(conn)?;
    let mut unknown = Vec::new();
    if let Ok(rd) = std::fs::read_dir(ctx.paths.layers()) {
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let id = format!("sha256:{name}");
            if crate::util::is_sha256_digest(&id) && !known.contains_key(&id) {
                unknown.push(id);
            }
        }
    }
    if !unknown.is_empty() {
        layers.remove(&unknown)?;
    }
    let images: std::collections::HashSet<String> = store::list(conn)?.into_iter().map(|r| r.id).collect();
    let pushed = store::recorded_blob_digests(conn)?;
    if let Ok(rd) = std::fs::read_dir(ctx.paths.blobs()) {
        for e in rd.flatten() {
            let id = format!("sha256:{}", e.file_name().to_string_lossy());
            if !images.contains(&id) && !pushed.contains(&id) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    Ok(())
}

/// An image that prune deleted, and the bytes its deletion freed (layers no other image uses).
#[derive(Debug)]
pub struct Pruned {
    pub id: String,
    pub reclaimed: u64,
}

/// `image prune`: removes images without names (all unused images with `all`), then sweeps
/// the store's garbage.
pub fn prune(ctx: &Context, all: bool) -> Result<Vec<Pruned>, ManageError> {
    let mut conn = ctx.db()?;
    let mut removed = Vec::new();
    let recs = store::list(&conn)?;
    // A build's cache that named images were built on stays (unless -a).
    let needed = store::needed_intermediates(&conn, &recs)?;
    for rec in recs {
        if (all || (rec.names.is_empty() && !needed.contains(&rec.id))) && users(&conn, &rec.id)?.is_empty() {
            match delete_image(ctx, &mut conn, &rec) {
                // A container was made from it meanwhile: it stays.
                Err(ManageError::InUse { .. }) => {}
                r => removed.push(Pruned { id: rec.id, reclaimed: r? }),
            }
        }
    }
    let _lock = ctx.store_lock_exclusive()?;
    sweep_locked(ctx, &conn)?;
    Ok(removed)
}

/// `tag SRC NEW...`
pub fn tag(ctx: &Context, src: &str, new: &[String]) -> Result<(), ManageError> {
    let conn = ctx.db()?;
    let rec = store::resolve(&conn, src)?;
    for n in new {
        // Podman names a short tag target under localhost/.
        let r = if Reference::is_short_name(n) {
            Reference::parse(&format!("localhost/{n}"))?
        } else {
            Reference::parse(n)?
        };
        store::tag(&conn, &rec.id, &r.to_string())?;
    }
    Ok(())
}

/// `untag IMG [NAME...]`: without names, removes all of them.
pub fn untag(ctx: &Context, img: &str, names: &[String]) -> Result<Vec<String>, ManageError> {
    let conn = ctx.db()?;
    let rec = store::resolve(&conn, img)?;
    if names.is_empty() {
        return Ok(store::untag(&conn, &rec.id, None)?);
    }
    let mut gone = Vec::new();
    for n in names {
        let removed = store::untag(&conn, &rec.id, Some(n))?;
        if removed.is_empty() {
            return Err(StoreError::NotFound(format!("{n}: tag of image {}", crate::util::short_id(&rec.id))).into());
        }
        gone.extend(removed);
    }
    Ok(gone)
}

fn parsed(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or(Value::Null)
}

/// `repo:tag` names split for the REPOSITORY / TAG columns.
pub fn split_name(name: &str) -> (String, String) {
    match name.rfind(':') {
        Some(i) if !name[i..].contains('/') => (name[..i].to_string(), name[i + 1..].to_string()),
        _ => (name.to_string(), "latest".to_string()),
    }
}

fn created_unix(rec: &ImageRecord) -> i64 {
    rec.created
        .as_deref()
        .and_then(|c| chrono::DateTime::parse_from_rfc3339(c).ok())
        .map(|d| d.timestamp())
        .unwrap_or(rec.added)
}

/// Podman's `image inspect` object.
pub fn inspect_json(ctx: &Context, rec: &ImageRecord) -> Result<Value, ManageError> {
    let layers = ctx.layer_store()?;
    let config = parsed(&rec.config);
    let manifest = parsed(&rec.manifest);
    let dirs: Vec<String> = rec.layers.iter().rev().map(|l| layers.diff_dir(l).display().to_string()).collect();
    let mut data = serde_json::Map::new();
    if let Some(top) = dirs.first() {
        data.insert("UpperDir".into(), json!(top));
        data.insert("WorkDir".into(), json!(top.trim_end_matches("/diff").to_string() + "/work"));
    }
    if dirs.len() > 1 {
        data.insert("LowerDir".into(), json!(dirs[1..].join(":")));
    }
    let cfg = config.get("config").cloned().unwrap_or(json!({}));
    Ok(json!({
        "Id": crate::util::digest_hex(&rec.id),
        "Digest": rec.manifest_digest,
        "RepoTags": rec.names,
        "RepoDigests": rec.digests,
        "Parent": "",
        "Comment": config.get("comment").cloned().unwrap_or(json!("")),
        "Created": config.get("created").cloned().unwrap_or(Value::Null),
        "Config": cfg,
        "Version": config.get("docker_version").cloned().unwrap_or(json!("")),
        "Author": config.get("author").cloned().unwrap_or(json!("")),
        "Architecture": config.get("architecture").cloned().unwrap_or(json!("")),
        "Os": config.get("os").cloned().unwrap_or(json!("")),
        "Variant": config.get("variant").cloned().unwrap_or(Value::Null),
        "Size": rec.size,
        "VirtualSize": rec.size,
        "GraphDriver": { "Name": "overlay", "Data": data },
        "RootFS": { "Type": "layers", "Layers": rec.layers },
        "Labels": cfg.get("Labels").cloned().unwrap_or(Value::Null),
        "Annotations": manifest.get("annotations").cloned().unwrap_or(json!({})),
        "ManifestType": rec.manifest_media_type,
        "User": cfg.get("User").cloned().unwrap_or(json!("")),
        "History": config.get("history").cloned().unwrap_or(json!([])),
        "NamesHistory": rec.names,
    }))
}

/// One element of `images --format json`, with Podman's keys.
pub fn list_json(rec: &ImageRecord) -> Value {
    let config = parsed(&rec.config);
    let created = created_unix(rec);
    json!({
        "Id": crate::util::digest_hex(&rec.id),
        "ParentId": "",
        "RepoTags": rec.names,
        "RepoDigests": rec.digests,
        "Size": rec.size,
        "SharedSize": 0,
        "VirtualSize": rec.size,
        "Labels": config.pointer("/config/Labels").cloned().unwrap_or(Value::Null),
        "Containers": 0,
        "Arch": config.get("architecture").cloned().unwrap_or(Value::Null),
        "Os": config.get("os").cloned().unwrap_or(Value::Null),
        "Names": rec.names,
        "Digest": rec.manifest_digest,
        "History": rec.names,
        "Created": created,
        "CreatedAt": crate::engine::container::Stamp::from_secs(created).rfc3339(),
    })
}

/// The image's creation time for the CREATED column.
pub fn created_at(rec: &ImageRecord) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(created_unix(rec), 0).unwrap_or_default()
}

/// One row of `history`: a step of the image's making, newest first.
#[derive(Debug, Clone, serde::Serialize)]
pub struct HistoryRow {
    /// The image's ID on the newest row, `<missing>` on the others (as Podman without
    /// intermediate images).
    pub id: String,
    pub created: Option<chrono::DateTime<chrono::Utc>>,
    pub created_by: String,
    pub size: u64,
    pub comment: String,
    pub empty_layer: bool,
}

/// The history in the image's config, with each non-empty step's layer size.
pub fn history(ctx: &Context, input: &str) -> Result<Vec<HistoryRow>, ManageError> {
    let conn = ctx.db()?;
    let rec = store::resolve(&conn, input)?;
    let sizes = store::layer_sizes(&conn)?;
    let config: Value = serde_json::from_str(&rec.config).unwrap_or(Value::Null);
    let entries = config["history"].as_array().cloned().unwrap_or_default();
    // Layers the history does not account for are the oldest (a base image without history).
    let described = entries.iter().filter(|h| !h["empty_layer"].as_bool().unwrap_or(false)).count();
    let unaccounted = rec.layers.len().saturating_sub(described);
    let mut layers = rec.layers.iter();
    let mut rows: Vec<HistoryRow> = layers
        .by_ref()
        .take(unaccounted)
        .map(|l| HistoryRow {
            id: "<missing>".into(),
            created: None,
            created_by: String::new(),
            size: sizes.get(l).copied().unwrap_or(0),
            comment: String::new(),
            empty_layer: false,
        })
        .collect();
    for h in &entries {
        let empty = h["empty_layer"].as_bool().unwrap_or(false);
        let size = if empty { 0 } else { layers.next().and_then(|l| sizes.get(l)).copied().unwrap_or(0) };
        rows.push(HistoryRow {
            id: "<missing>".into(),
            created: h["created"]
                .as_str()
                .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.to_utc()),
            created_by: h["created_by"].as_str().unwrap_or_default().to_string(),
            size,
            comment: h["comment"].as_str().unwrap_or_default().to_string(),
            empty_layer: empty,
        });
    }
    rows.reverse();
    if let Some(first) = rows.first_mut() {
        first.id = rec.id.clone();
    }
    Ok(rows)
}
