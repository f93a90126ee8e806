//! `save`: images from the store into an archive. Each layer leaves as the tar the store
//! rebuilds (byte for byte from its tar-split record, so the image keeps its ID; written
//! anew by the one tar writer where it cannot, the config then naming the new digests),
//! uncompressed as `podman save` writes them. A file target is written beside itself and
//! renamed at the end: a killed save leaves no half archive under the name asked for.

use super::tarfile::Sink;
use super::{ArchiveError, ArchiveFormat};
use crate::engine::Context;
use crate::engine::image::blobs::{self, WrittenLayer};
use crate::engine::image::compress::Compression;
use crate::engine::image::reference;
use crate::engine::image::registry::{DOCKER_MANIFEST, OCI_MANIFEST};
use crate::engine::image::store::{self, ImageRecord};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{Seek, Write};
use std::path::PathBuf;

pub enum SaveTarget {
    /// A file (archive formats) or a directory (dir formats).
    Path(PathBuf),
    /// Standard output (archive formats).
    Stdout,
}

pub struct SaveOptions {
    pub format: ArchiveFormat,
    /// `-m`: every name is an image; without it the names after the first are more tags
    /// for the first image (docker-archive only).
    pub multi_image: bool,
}

/// One image to write and the names it carries in the archive.
struct Saved {
    rec: ImageRecord,
    names: Vec<String>,
}

/// Writes the images `inputs` (names or IDs) as `opts.format` to `target`.
pub fn save(ctx: &Context, inputs: &[String], opts: &SaveOptions, target: SaveTarget) -> Result<(), ArchiveError> {
    let images = resolve(ctx, inputs, opts)?;
    // The layers stay while they are read; no sweep takes the unnamed files meanwhile.
    let _in_flight = ctx.pull_in_flight()?;
    let _lock = ctx.store_lock_shared()?;
    match (target, opts.format.is_dir()) {
        (SaveTarget::Path(dir), true) => {
            prepare_dir(&dir)?;
            write_all(ctx, &images, opts.format, Sink::<std::fs::File>::Dir { root: dir })
        }
        (SaveTarget::Path(path), false) => write_file(ctx, &images, opts.format, &path),
        (SaveTarget::Stdout, false) => {
            let out = std::io::BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
            write_all(ctx, &images, opts.format, Sink::tar(out))
        }
        (SaveTarget::Stdout, true) => Err(ArchiveError::Usage(
            "a directory format cannot be written to standard output; name the directory with -o".into(),
        )),
    }
}

fn resolve(ctx: &Context, inputs: &[String], opts: &SaveOptions) -> Result<Vec<Saved>, ArchiveError> {
    let conn = ctx.db()?;
    let Some((first, rest)) = inputs.split_first() else {
        return Err(ArchiveError::Usage("save needs at least one image".into()));
    };
    if opts.multi_image && opts.format != ArchiveFormat::DockerArchive {
        return Err(ArchiveError::Usage(
            "--multi-image-archive (-m) is only supported with --format docker-archive".into(),
        ));
    }
    let lookup = |input: &String| -> Result<Saved, ArchiveError> {
        let rec = store::resolve(&conn, input)?;
        let names: Vec<String> = rec.names.iter().filter(|n| reference::local_match(input, n)).cloned().collect();
        Ok(Saved { rec, names })
    };
    if opts.multi_image {
        return inputs.iter().map(lookup).collect();
    }
    let mut one = lookup(first)?;
    if !rest.is_empty() && opts.format != ArchiveFormat::DockerArchive {
        return Err(ArchiveError::Usage(format!(
            "more than one name is only supported with --format docker-archive (got {})",
            inputs.join(" ")
        )));
    }
    for tag in rest {
        let r = reference::Reference::parse(tag)
            .map_err(|e| ArchiveError::Usage(format!("invalid tag {tag:?} for the saved image: {e}")))?;
        one.names.push(r.to_string());
    }
    Ok(vec![one])
}

/// A directory target may exist only empty (Podman refuses to mix in other files).
fn prepare_dir(dir: &std::path::Path) -> Result<(), ArchiveError> {
    match std::fs::read_dir(dir) {
        Ok(mut d) => {
            if d.next().is_some() {
                return Err(ArchiveError::Usage(format!(
                    "{} exists and is not empty; name a new or empty directory",
                    dir.display()
                )));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(dir).map_err(|e| ArchiveError::io(dir, e))
        }
        Err(e) => Err(ArchiveError::io(dir, e)),
    }
}

fn write_file(
    ctx: &Context,
    images: &[Saved],
    format: ArchiveFormat,
    path: &std::path::Path,
) -> Result<(), ArchiveError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let tmp = dir.join(format!(".{name}.kiste-{}", crate::util::nonce()));
    let file = std::fs::File::create(&tmp).map_err(|e| ArchiveError::io(path, e))?;
    let res = write_all(ctx, images, format, Sink::tar(std::io::BufWriter::with_capacity(1 << 20, file)))
        .and_then(|_| std::fs::rename(&tmp, path).map_err(|e| ArchiveError::io(path, e)));
    if res.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    res
}

/// Where a blob goes in each layout.
fn blob_name(format: ArchiveFormat, digest: &str, ext: &str) -> String {
    let hex = crate::util::digest_hex(digest);
    match format {
        ArchiveFormat::DockerArchive => format!("{hex}{ext}"),
        ArchiveFormat::DockerDir => hex.to_string(),
        ArchiveFormat::OciArchive | ArchiveFormat::OciDir => format!("blobs/sha256/{hex}"),
    }
}

fn write_all<W: Write>(
    ctx: &Context,
    images: &[Saved],
    format: ArchiveFormat,
    mut sink: Sink<W>,
) -> Result<(), ArchiveError> {
    let out_err = |e: std::io::Error| ArchiveError::Io { path: "the archive".into(), msg: e.to_string() };
    // Every layer once, bottom first.
    let mut diff_ids: Vec<String> = Vec::new();
    for s in images {
        for d in &s.rec.layers {
            if !diff_ids.contains(d) {
                diff_ids.push(d.clone());
            }
        }
    }
    // diff ID -> (tar digest, size) of what was written.
    let mut written: HashMap<String, (String, u64)> = HashMap::new();
    blobs::write_layers(ctx, &diff_ids, Compression::None, None, &|_, _| {}, &mut |_, mut w: WrittenLayer| {
        let io = |e: std::io::Error| blobs::BlobError::Io { layer: w.diff_id.clone(), source: e };
        w.file.file.rewind().map_err(io)?;
        let mut reader = std::io::BufReader::with_capacity(1 << 20, &w.file.file);
        sink.add(&blob_name(format, &w.digest, ".tar"), w.size, &mut reader).map_err(io)?;
        written.insert(w.diff_id.clone(), (w.digest.clone(), w.size));
        Ok(())
    })?;
    let mut entries = Vec::new();
    for s in images {
        let layers: Vec<(String, u64)> =
            s.rec.layers.iter().map(|d| written.get(d).cloned().unwrap_or((d.clone(), 0))).collect();
        let tar_ids: Vec<String> = layers.iter().map(|l| l.0.clone()).collect();
        let config = blobs::rewrite_diff_ids(&s.rec.config, &tar_ids).unwrap_or_else(|| s.rec.config.clone());
        let config_id = blobs::sha256(config.as_bytes());
        sink.add_bytes(&blob_name(format, &config_id, ".json"), config.as_bytes()).map_err(out_err)?;
        entries.push(Entry { config_id, config_size: config.len() as u64, layers, names: s.names.clone() });
    }
    finish_layout(&mut sink, format, &entries).map_err(out_err)?;
    sink.finish().map_err(out_err)?;
    Ok(())
}

/// What the index files need of one written image.
struct Entry {
    config_id: String,
    config_size: u64,
    /// (digest, size) of each layer as written.
    layers: Vec<(String, u64)>,
    names: Vec<String>,
}

fn finish_layout<W: Write>(sink: &mut Sink<W>, format: ArchiveFormat, entries: &[Entry]) -> std::io::Result<()> {
    match format {
        ArchiveFormat::DockerArchive => {
            let manifest: Vec<Value> = entries
                .iter()
                .map(|e| {
                    json!({
                        "Config": blob_name(format, &e.config_id, ".json"),
                        "RepoTags": e.names,
                        "Layers": e.layers.iter().map(|l| blob_name(format, &l.0, ".tar")).collect::<Vec<_>>(),
                    })
                })
                .collect();
            sink.add_bytes("manifest.json", &serde_json::to_vec(&manifest).unwrap_or_default())
        }
        ArchiveFormat::DockerDir => {
            let Some(e) = entries.first() else { return Ok(()) };
            let m = manifest(e, true);
            sink.add_bytes("manifest.json", &m)?;
            sink.add_bytes("version", super::DIR_VERSION.as_bytes())
        }
        ArchiveFormat::OciArchive | ArchiveFormat::OciDir => {
            let mut descs = Vec::new();
            for e in entries {
                let m = manifest(e, false);
                let digest = blobs::sha256(&m);
                sink.add_bytes(&blob_name(format, &digest, ""), &m)?;
                let mut d = json!({"mediaType": OCI_MANIFEST, "digest": digest, "size": m.len()});
                if let Some(n) = e.names.first() {
                    d["annotations"] = json!({super::REF_NAME: n, super::CONTAINERD_NAME: n});
                }
                descs.push(d);
            }
            let index = json!({"schemaVersion": 2, "mediaType": super::OCI_INDEX_TYPE, "manifests": descs});
            sink.add_bytes(super::OCI_LAYOUT, br#"{"imageLayoutVersion":"1.0.0"}"#)?;
            sink.add_bytes(super::OCI_INDEX, &serde_json::to_vec(&index).unwrap_or_default())
        }
    }
}

/// An image manifest for uncompressed layers (Docker schema 2 or OCI).
fn manifest(e: &Entry, docker: bool) -> Vec<u8> {
    let (mt, config_mt) =
        if docker { (DOCKER_MANIFEST, super::DOCKER_CONFIG_TYPE) } else { (OCI_MANIFEST, super::OCI_CONFIG_TYPE) };
    let layer_mt = Compression::None.media_type(docker).unwrap_or_default();
    let layers: Vec<Value> =
        e.layers.iter().map(|(d, s)| json!({"mediaType": layer_mt, "digest": d, "size": s})).collect();
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": mt,
        "config": {"mediaType": config_mt, "digest": e.config_id, "size": e.config_size},
        "layers": layers,
    }))
    .unwrap_or_default()
}
