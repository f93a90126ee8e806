//! Image records in the state database: names (tags), repo digests, layers, lookup by
//! name / ID / digest, tag, untag, remove; which compressed blobs hold a layer and which
//! repositories hold a blob (for push). Every change is one transaction. Does not touch layer files.

use super::reference::{self, Reference};
use crate::state::db;
use rusqlite::{Connection, OptionalExtension, params};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0}: image not known")]
    NotFound(String),
    #[error("{input:?} is ambiguous: it matches {count} images; use more of the ID")]
    Ambiguous { input: String, count: usize },
    #[error("{0}")]
    Reference(#[from] reference::ReferenceError),
    #[error(transparent)]
    Db(#[from] db::DbError),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Db(db::DbError::Sql(e))
    }
}

/// One image as the database holds it.
#[derive(Debug, Clone)]
pub struct ImageRecord {
    /// `sha256:<hex>` of the config blob.
    pub id: String,
    pub config: String,
    pub manifest: String,
    pub manifest_digest: String,
    pub manifest_media_type: String,
    pub created: Option<String>,
    /// Uncompressed size of all layers.
    pub size: i64,
    pub added: i64,
    /// Fully qualified names, e.g. `docker.io/library/alpine:latest`.
    pub names: Vec<String>,
    /// `repo@sha256:...`
    pub digests: Vec<String>,
    /// Diff IDs, bottom layer first.
    pub layers: Vec<String>,
}

/// What a new image brings to `insert`.
pub struct NewImage<'a> {
    pub id: &'a str,
    pub config: &'a str,
    pub manifest: &'a str,
    pub manifest_digest: &'a str,
    pub manifest_media_type: &'a str,
    pub created: Option<&'a str>,
    /// (diff ID, uncompressed size, compressed blob digest), bottom first.
    pub layers: &'a [(String, u64, String)],
    pub name: Option<&'a str>,
    pub repo_digests: &'a [String],
}

fn load(conn: &Connection, id: &str) -> Result<Option<ImageRecord>, StoreError> {
    let rec = conn
        .query_row(
            "SELECT id, config, manifest, manifest_digest, manifest_media_type, created, size, added FROM images WHERE id = ?1",
            [id],
            |r| {
                Ok(ImageRecord {
                    id: r.get(0)?,
                    config: r.get(1)?,
                    manifest: r.get(2)?,
                    manifest_digest: r.get(3)?,
                    manifest_media_type: r.get(4)?,
                    created: r.get(5)?,
                    size: r.get(6)?,
                    added: r.get(7)?,
                    names: vec![],
                    digests: vec![],
                    layers: vec![],
                })
            },
        )
        .optional()?;
    let Some(mut rec) = rec else { return Ok(None) };
    rec.names = strings(conn, "SELECT name FROM image_names WHERE image_id = ?1 ORDER BY added, name", id)?;
    rec.digests =
        strings(conn, "SELECT repo || '@' || digest FROM image_digests WHERE image_id = ?1 ORDER BY repo, digest", id)?;
    rec.layers = strings(conn, "SELECT diff_id FROM image_layers WHERE image_id = ?1 ORDER BY idx", id)?;
    Ok(Some(rec))
}

fn strings(conn: &Connection, sql: &str, arg: &str) -> Result<Vec<String>, StoreError> {
    let mut st = conn.prepare_cached(sql)?;
    let rows = st.query_map([arg], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Every image, newest first.
pub fn list(conn: &Connection) -> Result<Vec<ImageRecord>, StoreError> {
    let ids = {
        let mut st = conn.prepare("SELECT id FROM images ORDER BY COALESCE(created, ''), added DESC")?;
        let rows = st.query_map([], |r| r.get::<_, String>(0))?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    let mut out = Vec::new();
    for id in ids.iter().rev() {
        if let Some(r) = load(conn, id)? {
            out.push(r);
        }
    }
    Ok(out)
}

/// Finds the image the user means by `input`: a full or short ID (unique prefix), a
/// name (fully qualified, or a short name matched as Podman does), or `name@digest`.
pub fn resolve(conn: &Connection, input: &str) -> Result<ImageRecord, StoreError> {
    let not_found = || StoreError::NotFound(input.to_string());
    let hex = input.strip_prefix("sha256:").unwrap_or(input);
    if hex.len() >= 3 && hex.len() <= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()) {
        let mut st = conn.prepare_cached("SELECT id FROM images WHERE id LIKE ?1")?;
        let ids: Vec<String> = st.query_map([format!("sha256:{hex}%")], |r| r.get(0))?.collect::<Result<_, _>>()?;
        match ids.len() {
            1 => return load(conn, &ids[0])?.ok_or_else(not_found),
            0 => {}
            count => return Err(StoreError::Ambiguous { input: input.into(), count }),
        }
    }
    // name@digest: match the stored repo digests.
    if let Some((name, digest)) = input.split_once('@') {
        let mut st = conn.prepare_cached("SELECT repo, image_id FROM image_digests WHERE digest = ?1")?;
        let rows: Vec<(String, String)> =
            st.query_map([digest], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
        for (repo, id) in rows {
            if reference::local_match(name, &format!("{repo}:latest")) || repo == name {
                return load(conn, &id)?.ok_or_else(not_found);
            }
        }
        return Err(not_found());
    }
    // A name: exact fully qualified match first, then Podman's short-name matching.
    if let Ok(r) = Reference::parse(input) {
        let full = r.to_string();
        if let Some(id) = conn
            .query_row("SELECT image_id FROM image_names WHERE name = ?1", [&full], |r| r.get::<_, String>(0))
            .optional()?
        {
            return load(conn, &id)?.ok_or_else(not_found);
        }
    }
    let mut st = conn.prepare_cached("SELECT name, image_id FROM image_names ORDER BY added DESC")?;
    let rows: Vec<(String, String)> = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    for (name, id) in rows {
        if reference::local_match(input, &name) {
            return load(conn, &id)?.ok_or_else(not_found);
        }
    }
    Err(not_found())
}

/// Records a complete image in one transaction. The layers must already be on disk.
/// A name that pointed at another image moves to this one (as a re-pull does).
pub fn insert(conn: &mut Connection, img: &NewImage) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let now = db::now();
    let size: u64 = img.layers.iter().map(|l| l.1).sum();
    for (diff_id, lsize, blob) in img.layers {
        tx.execute(
            "INSERT INTO layers(diff_id, size, blob_digest, added) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT(diff_id) DO NOTHING",
            params![diff_id, *lsize as i64, blob, now],
        )?;
    }
    tx.execute(
        "INSERT INTO images(id, config, manifest, manifest_digest, manifest_media_type, created, size, added)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT(id) DO UPDATE SET manifest = excluded.manifest, manifest_digest = excluded.manifest_digest,
             manifest_media_type = excluded.manifest_media_type",
        params![
            img.id,
            img.config,
            img.manifest,
            img.manifest_digest,
            img.manifest_media_type,
            img.created,
            size as i64,
            now
        ],
    )?;
    tx.execute("DELETE FROM image_layers WHERE image_id = ?1", [img.id])?;
    for (i, (diff_id, _, _)) in img.layers.iter().enumerate() {
        tx.execute(
            "INSERT INTO image_layers(image_id, idx, diff_id) VALUES (?1, ?2, ?3)",
            params![img.id, i as i64, diff_id],
        )?;
    }
    if let Some(name) = img.name {
        tx.execute(
            "INSERT INTO image_names(name, image_id, added) VALUES (?1, ?2, ?3)
             ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, added = excluded.added",
            params![name, img.id, now],
        )?;
    }
    for rd in img.repo_digests {
        if let Some((repo, digest)) = rd.split_once('@') {
            tx.execute(
                "INSERT INTO image_digests(repo, digest, image_id) VALUES (?1, ?2, ?3)
                 ON CONFLICT(repo, digest) DO UPDATE SET image_id = excluded.image_id",
                params![repo, digest, img.id],
            )?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// Adds a name to an image (moving it from any other image).
pub fn tag(conn: &Connection, id: &str, name: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO image_names(name, image_id, added) VALUES (?1, ?2, ?3)
         ON CONFLICT(name) DO UPDATE SET image_id = excluded.image_id, added = excluded.added",
        params![name, id, db::now()],
    )?;
    Ok(())
}

/// Removes names from an image: the given one, or all when `name` is None. Returns the
/// names removed.
pub fn untag(conn: &Connection, id: &str, name: Option<&str>) -> Result<Vec<String>, StoreError> {
    let names = strings(conn, "SELECT name FROM image_names WHERE image_id = ?1 ORDER BY name", id)?;
    let gone: Vec<String> = match name {
        None => names,
        Some(n) => names.into_iter().filter(|s| s == n || reference::local_match(n, s)).take(1).collect(),
    };
    for n in &gone {
        conn.execute("DELETE FROM image_names WHERE name = ?1", [n])?;
    }
    Ok(gone)
}

/// Deletes an image record and returns the layers no other image uses any more, with their
/// sizes (their rows are deleted too; the caller removes their directories).
pub fn remove(conn: &mut Connection, id: &str) -> Result<Vec<(String, u64)>, StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    tx.execute("DELETE FROM images WHERE id = ?1", [id])?;
    let orphans = {
        let mut st =
            tx.prepare("SELECT diff_id, size FROM layers WHERE diff_id NOT IN (SELECT diff_id FROM image_layers)")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?;
        rows.collect::<Result<Vec<_>, _>>()?
    };
    for (l, _) in &orphans {
        tx.execute("DELETE FROM layers WHERE diff_id = ?1", [l])?;
        tx.execute("DELETE FROM layer_blobs WHERE diff_id = ?1", [l])?;
    }
    tx.commit()?;
    Ok(orphans)
}

/// Every layer the database knows, with its size (uncompressed bytes).
pub fn layer_sizes(conn: &Connection) -> Result<std::collections::HashMap<String, u64>, StoreError> {
    let mut st = conn.prepare("SELECT diff_id, size FROM layers")?;
    let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?.max(0) as u64)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The parent of every image a build recorded (a step's image and the one it was built on),
/// from the build cache's records.
pub fn parents(conn: &Connection) -> Result<std::collections::HashMap<String, String>, StoreError> {
    let mut st = conn.prepare("SELECT image_id, parent_id FROM build_cache WHERE parent_id IS NOT NULL")?;
    let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Unnamed images that named images were built on (through their parents): a build's cache,
/// kept by `image prune`, hidden by `images` (shown with -a).
pub fn needed_intermediates(
    conn: &Connection,
    recs: &[ImageRecord],
) -> Result<std::collections::HashSet<String>, StoreError> {
    let parents = parents(conn)?;
    let mut needed = std::collections::HashSet::new();
    for r in recs.iter().filter(|r| !r.names.is_empty()) {
        let mut cur = parents.get(&r.id);
        while let Some(p) = cur {
            if !needed.insert(p.clone()) {
                break;
            }
            cur = parents.get(p);
        }
    }
    Ok(needed)
}

/// A compressed blob known to hold a stored layer's tar (pushed before, so not compressed
/// again): `tar_digest` is the digest of the tar it holds — the layer's diff ID unless the
/// layer could not be reproduced byte for byte.
#[derive(Debug, Clone, PartialEq)]
pub struct LayerBlob {
    pub diff_id: String,
    /// "gzip", "zstd" or "none".
    pub compression: String,
    pub digest: String,
    pub size: u64,
    pub tar_digest: String,
}

/// The blobs recorded for a layer, newest first.
pub fn layer_blobs(conn: &Connection, diff_id: &str) -> Result<Vec<LayerBlob>, StoreError> {
    let mut st = conn.prepare_cached(
        "SELECT compression, digest, size, tar_digest FROM layer_blobs WHERE diff_id = ?1 ORDER BY added DESC, digest",
    )?;
    let rows = st.query_map([diff_id], |r| {
        Ok(LayerBlob {
            diff_id: diff_id.to_string(),
            compression: r.get(0)?,
            digest: r.get(1)?,
            size: r.get::<_, i64>(2)?.max(0) as u64,
            tar_digest: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn record_layer_blob(conn: &Connection, b: &LayerBlob) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO layer_blobs(diff_id, compression, digest, size, tar_digest, added) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(diff_id, compression, digest) DO UPDATE SET added = excluded.added",
        params![b.diff_id, b.compression, b.digest, b.size as i64, b.tar_digest, db::now()],
    )?;
    Ok(())
}

/// The blobs recorded for layers that images still use: files the garbage sweep keeps, so
/// that the next push does not compress them again.
pub fn recorded_blob_digests(conn: &Connection) -> Result<std::collections::HashSet<String>, StoreError> {
    let mut st = conn.prepare("SELECT b.digest FROM layer_blobs b JOIN layers l ON l.diff_id = b.diff_id")?;
    let rows = st.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Repositories (`registry/repository`) known to hold a blob: where kiste pushed it, and for a
/// pulled image's original blobs, the repositories it was pulled from.
pub fn blob_locations(conn: &Connection, digest: &str) -> Result<Vec<String>, StoreError> {
    let mut out = strings(conn, "SELECT repo FROM blob_locations WHERE digest = ?1 ORDER BY added DESC, repo", digest)?;
    let mut st = conn.prepare_cached(
        "SELECT DISTINCT d.repo FROM image_digests d JOIN image_layers l ON l.image_id = d.image_id
         JOIN layers y ON y.diff_id = l.diff_id WHERE y.blob_digest = ?1 ORDER BY d.repo",
    )?;
    let pulled: Vec<String> = st.query_map([digest], |r| r.get(0))?.collect::<Result<_, _>>()?;
    for p in pulled {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

pub fn record_blob_location(conn: &Connection, digest: &str, repo: &str) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO blob_locations(digest, repo, added) VALUES (?1, ?2, ?3)
         ON CONFLICT(digest, repo) DO UPDATE SET added = excluded.added",
        params![digest, repo, db::now()],
    )?;
    Ok(())
}
