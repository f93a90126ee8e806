//! Compressed blobs of stored layers, for images that leave the machine (push, save): each
//! layer's tar streamed from the store (rebuilt byte for byte where it has a tar-split
//! record), compressed on every core into `storage/blobs/<hex>` with its digest and size
//! computed on the way, and recorded (layer + compression -> blob) so that the next push or
//! save finds it instead of compressing again. Knows nothing of registries.

use super::compress::{Compression, ParallelWriter};
use super::registry::TempBlob;
use super::store::{self, LayerBlob};
use crate::engine::{Context, ContextError};
use crate::util::HashingWriter;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error("compressing layer {layer}: {source}")]
    Io { layer: String, source: io::Error },
}

/// `sha256:<hex>` of bytes in memory (configs, manifests).
pub fn sha256(data: &[u8]) -> String {
    use sha2::Digest;
    format!("sha256:{}", hex::encode(sha2::Sha256::digest(data)))
}

/// Where a blob's file is in the store.
pub fn blob_path(ctx: &Context, digest: &str) -> PathBuf {
    ctx.paths.blobs().join(crate::util::digest_hex(digest))
}

/// True when the file exists and hashes to `digest` (blobs are not fsynced: after a crash a
/// file may exist with lost contents). A file that does not is removed.
pub fn is_intact(path: &Path, digest: &str) -> bool {
    let Ok(f) = std::fs::File::open(path) else { return false };
    let mut r = crate::util::HashingReader::new(io::BufReader::with_capacity(1 << 18, f));
    let ok = io::copy(&mut r, &mut io::sink()).is_ok() && r.digest() == digest;
    if !ok {
        let _ = std::fs::remove_file(path);
    }
    ok
}

/// Counts the bytes read through it.
struct Counting<R, F: FnMut(u64)> {
    inner: R,
    seen: F,
}

impl<R: Read, F: FnMut(u64)> Read for Counting<R, F> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        (self.seen)(n as u64);
        Ok(n)
    }
}

/// One stored layer written out as a blob file that has no name yet.
pub struct WrittenLayer {
    pub diff_id: String,
    /// Digest and size of the blob (the compressed bytes; the tar itself for `None`).
    pub digest: String,
    pub size: u64,
    /// Digest of the tar stream that went in: the diff ID unless the layer had to be
    /// written anew (then the image's config needs this one).
    pub tar_digest: String,
    pub file: TempBlob,
}

/// Compresses the stored layers `diff_ids` (one after the other, each on every core) into
/// blobs in the store and records them. Calls `progress(i, bytes)` as layer `i`'s tar is
/// read and `ready(i, blob)` as soon as its blob is complete. The caller holds the store lock
/// (shared) so that the layers stay, and the pulls lock so that no sweep takes the blobs.
pub fn compress_layers(
    ctx: &Context,
    diff_ids: &[String],
    compression: Compression,
    level: Option<i32>,
    progress: &(dyn Fn(usize, u64) + Sync),
    ready: &mut dyn FnMut(usize, LayerBlob),
) -> Result<(), BlobError> {
    let conn = ctx.db()?;
    write_layers(ctx, diff_ids, compression, level, progress, &mut |i, w| {
        let blob = LayerBlob {
            diff_id: w.diff_id,
            compression: compression.name().into(),
            digest: w.digest,
            size: w.size,
            tar_digest: w.tar_digest,
        };
        keep(ctx, &conn, w.file, &blob)?;
        ready(i, blob);
        Ok(())
    })
}

/// Streams the stored layers `diff_ids` out of the store (rebuilt from their tar-split
/// records where they reproduce, written anew where not), compresses each into an unnamed
/// file in `storage/blobs/`, and hands it to `ready(i, layer)`, which names or reads it.
pub fn write_layers(
    ctx: &Context,
    diff_ids: &[String],
    compression: Compression,
    level: Option<i32>,
    progress: &(dyn Fn(usize, u64) + Sync),
    ready: &mut dyn FnMut(usize, WrittenLayer) -> Result<(), BlobError>,
) -> Result<(), BlobError> {
    let layers = ctx.layer_store()?;
    let mut redo = Vec::new();
    let mut tars = layers.export(diff_ids, true)?;
    for (i, diff_id) in diff_ids.iter().enumerate() {
        let Some(reader) = tars.take_reader(i) else { continue };
        let (file, digest, size) = compress_one(ctx, reader, compression, level, diff_id, &mut |n| progress(i, n))?;
        let tar = tars.wait(i)?;
        if tar.from_record && tar.digest != *diff_id {
            tracing::info!("layer {diff_id} did not rebuild from its record (got {}); writing it anew", tar.digest);
            redo.push(i);
            continue;
        }
        ready(i, WrittenLayer { diff_id: diff_id.clone(), digest, size, tar_digest: tar.digest, file })?;
    }
    tars.finish()?;
    if redo.is_empty() {
        return Ok(());
    }
    let again: Vec<String> = redo.iter().filter_map(|&i| diff_ids.get(i).cloned()).collect();
    let mut tars = layers.export(&again, false)?;
    for (k, &i) in redo.iter().enumerate() {
        let Some(reader) = tars.take_reader(k) else { continue };
        let diff_id = &again[k];
        let (file, digest, size) = compress_one(ctx, reader, compression, level, diff_id, &mut |n| progress(i, n))?;
        let tar = tars.wait(k)?;
        ready(i, WrittenLayer { diff_id: diff_id.clone(), digest, size, tar_digest: tar.digest, file })?;
    }
    tars.finish()?;
    Ok(())
}

fn compress_one(
    ctx: &Context,
    reader: std::fs::File,
    compression: Compression,
    level: Option<i32>,
    diff_id: &str,
    seen: &mut dyn FnMut(u64),
) -> Result<(TempBlob, String, u64), BlobError> {
    let io_err = |source| BlobError::Io { layer: diff_id.to_string(), source };
    let mut tmp = TempBlob::create(&ctx.paths.blobs()).map_err(io_err)?;
    let hashing = HashingWriter::new(BufWriter::with_capacity(1 << 20, &mut tmp.file));
    let mut w = ParallelWriter::new(hashing, compression, level).map_err(io_err)?;
    let mut r = Counting { inner: reader, seen };
    io::copy(&mut r, &mut w).map_err(io_err)?;
    let hashing = w.finish().map_err(io_err)?;
    let size = hashing.written;
    let (digest, mut buffered) = hashing.finish();
    buffered.flush().map_err(io_err)?;
    drop(buffered);
    Ok((tmp, digest, size))
}

/// Names the blob file by its digest and records it.
fn keep(ctx: &Context, conn: &rusqlite::Connection, tmp: TempBlob, blob: &LayerBlob) -> Result<(), BlobError> {
    tmp.persist(&blob_path(ctx, &blob.digest))
        .map_err(|source| BlobError::Io { layer: blob.diff_id.clone(), source })?;
    store::record_layer_blob(conn, blob)?;
    Ok(())
}

/// The config with its `rootfs.diff_ids` replaced (when layers were written anew and hash
/// differently); None when nothing changes.
pub fn rewrite_diff_ids(config: &str, diff_ids: &[String]) -> Option<String> {
    let mut v: serde_json::Value = serde_json::from_str(config).ok()?;
    let ids = v.get_mut("rootfs")?.get_mut("diff_ids")?;
    let new = serde_json::Value::Array(diff_ids.iter().map(|d| serde_json::Value::String(d.clone())).collect());
    if *ids == new {
        return None;
    }
    *ids = new;
    serde_json::to_string(&v).ok()
}
