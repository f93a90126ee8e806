//! `import`: a root file system tar (a file, a URL or standard input; plain, gzip or zstd)
//! as a one-layer image, with `--change` instructions and a history comment. The tar is
//! spooled to an unnamed file while it is hashed (its diff ID), then unpacked by the store's
//! safe applier: an entry that escapes its root is refused as in a pulled layer.

use super::ArchiveError;
use crate::engine::Context;
use crate::engine::build::exec::{ImageFormat, Work};
use crate::engine::image::platform::Platform;
use crate::engine::image::registry::TempBlob;
use std::io::{Read, Seek, Write};

pub enum ImportSource {
    Path(std::path::PathBuf),
    Url(String),
    Stdin,
}

pub struct ImportOptions {
    pub source: ImportSource,
    pub reference: Option<String>,
    pub changes: Vec<String>,
    pub message: Option<String>,
}

/// Imports the tar and returns the new image's ID.
pub fn import(ctx: &Context, opts: &ImportOptions) -> Result<String, ArchiveError> {
    let name = match &opts.reference {
        Some(r) => Some(
            crate::engine::image::reference::local_name(r)
                .map_err(|e| ArchiveError::Usage(format!("invalid image name {r:?}: {e}")))?
                .to_string(),
        ),
        None => None,
    };
    let mut work = Work::scratch(&Platform::host());
    let changes = crate::engine::build::changes::parse(&opts.changes, &work).map_err(ArchiveError::Usage)?;
    let (reader, shown) = open_source(ctx, &opts.source)?;
    let _in_flight = ctx.pull_in_flight()?;
    let _lock = ctx.store_lock_shared()?;
    let (diff_id, size) = super::layer::add_layer(ctx, reader, &shown)?;
    let now = crate::engine::build::exec::rfc3339(chrono::Utc::now().timestamp());
    work.add_layer(&diff_id, size);
    let comment = opts.message.clone().unwrap_or_else(|| "imported from tarball".into());
    work.add_history_comment("", false, &now, &comment);
    for c in &changes {
        if let Some(w) = work.apply(c, ImageFormat::Oci) {
            crate::util::print_warning(w);
        }
    }
    let mut conn = ctx.db()?;
    work.record(&mut conn, ImageFormat::Oci, name.as_deref()).map_err(|e| ArchiveError::Usage(e.to_string()))
}

/// The tar's bytes and how to name it in errors.
fn open_source(ctx: &Context, source: &ImportSource) -> Result<(Box<dyn Read + Send>, String), ArchiveError> {
    Ok(match source {
        ImportSource::Path(p) => {
            (Box::new(std::fs::File::open(p).map_err(|e| ArchiveError::io(p, e))?), p.display().to_string())
        }
        ImportSource::Stdin => (Box::new(std::io::stdin()), "standard input".into()),
        ImportSource::Url(u) => (download(ctx, u)?, u.clone()),
    })
}

/// A URL's body in an unnamed file (http and https).
fn download(ctx: &Context, url: &str) -> Result<Box<dyn Read + Send>, ArchiveError> {
    let fail = |msg: String| ArchiveError::Invalid { archive: url.to_string(), msg };
    let _ = rustls::crypto::ring::default_provider().install_default();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| fail(e.to_string()))?;
    let mut tmp = TempBlob::create(&ctx.paths.blobs()).map_err(|e| ArchiveError::io(&ctx.paths.blobs(), e))?;
    rt.block_on(async {
        use futures_util::StreamExt;
        let client = reqwest::Client::builder().build().map_err(|e| fail(e.to_string()))?;
        let resp = client.get(url).send().await.map_err(|e| fail(format!("cannot download: {e}")))?;
        if !resp.status().is_success() {
            return Err(fail(format!("cannot download: HTTP {}", resp.status())));
        }
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| fail(format!("cannot download: {e}")))?;
            tmp.file.write_all(&chunk).map_err(|e| fail(e.to_string()))?;
        }
        Ok(())
    })?;
    tmp.file.rewind().map_err(|e| fail(e.to_string()))?;
    let f = tmp.file.try_clone().map_err(|e| fail(e.to_string()))?;
    Ok(Box::new(f))
}
