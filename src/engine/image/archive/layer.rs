//! One new layer from a tar stream whose digest is not known in advance (`import`, a
//! container's `commit`): the stream, decompressed, is spooled to an unnamed file while it
//! is hashed, then streamed into the store's safe applier under that diff ID. The caller
//! holds the pulls lock and the store lock (shared) until the image is recorded.

use super::ArchiveError;
use crate::engine::Context;
use crate::engine::image::registry::TempBlob;
use std::io::{Read, Seek, Write};

/// Adds the tar `reader` (plain, gzip or zstd) as a layer; returns its diff ID and size.
/// `shown` names the source in errors.
pub fn add_layer(ctx: &Context, reader: Box<dyn Read + Send>, shown: &str) -> Result<(String, u64), ArchiveError> {
    let (mut spool, diff_id, size) = spool(ctx, reader, shown)?;
    let store = ctx.layer_store()?;
    if store.exists(&diff_id) {
        return Ok((diff_id, size));
    }
    let (unpacking, pipes) = store.start_streaming(std::slice::from_ref(&diff_id))?;
    let copied = match pipes.into_iter().next() {
        Some(pipe) => {
            let mut w = std::fs::File::from(pipe);
            spool.file.rewind().and_then(|_| std::io::copy(&mut spool.file, &mut w)).map(|_| ())
        }
        None => Ok(()),
    };
    let applied = unpacking.finish()?;
    if let Err(e) = copied
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(ArchiveError::Invalid { archive: shown.to_string(), msg: e.to_string() });
    }
    for a in applied {
        for w in &a.warnings {
            crate::util::print_warning(w);
        }
    }
    Ok((diff_id, size))
}

/// The tar, decompressed, in an unnamed file; its digest and size.
fn spool(ctx: &Context, reader: Box<dyn Read + Send>, shown: &str) -> Result<(TempBlob, String, u64), ArchiveError> {
    let bad =
        |e: std::io::Error| ArchiveError::Invalid { archive: shown.to_string(), msg: format!("cannot read: {e}") };
    let mut plain = crate::storage::layers::decompressed(reader).map_err(bad)?;
    let blobs = ctx.paths.blobs();
    crate::state::paths::make_private_dir(&blobs).map_err(crate::engine::ContextError::from)?;
    let mut tmp = TempBlob::create(&blobs).map_err(|e| ArchiveError::io(&blobs, e))?;
    let mut w = crate::util::HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, &mut tmp.file));
    std::io::copy(&mut plain, &mut w).map_err(bad)?;
    let size = w.written;
    let (digest, mut inner) = w.finish();
    inner.flush().map_err(bad)?;
    drop(inner);
    if size == 0 {
        return Err(ArchiveError::Invalid {
            archive: shown.to_string(),
            msg: "is empty; a tar archive is needed".into(),
        });
    }
    Ok((tmp, digest, size))
}
