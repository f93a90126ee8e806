//! `load`: images from an archive into the store — docker-archive (Docker's and Podman's,
//! old and new layouts), oci-archive, and the two directory layouts — from a file, a
//! directory or standard input (which is spooled to an unnamed file first, as are compressed
//! archives). Layers are streamed into the store's safe applier, which checks each against
//! its diff ID; an image is recorded only when all its layers are in: a killed or failed
//! load leaves no image.

use super::ArchiveError;
use super::tarfile::Source;
use crate::engine::Context;
use crate::engine::image::reference::Reference;
use crate::engine::image::registry::{DOCKER_MANIFEST, OCI_MANIFEST};
use crate::engine::image::store::{self, NewImage};
use serde::Deserialize;
use serde_json::json;
use std::io::{Read, Seek, Write};
use std::path::PathBuf;

pub enum LoadSource {
    Path(PathBuf),
    Stdin,
}

/// One image found in an archive.
struct Found {
    config: Vec<u8>,
    /// Member names of its layers, bottom first.
    layers: Vec<String>,
    names: Vec<String>,
    /// The manifest to record (None: one is made from the config) and its media type.
    manifest: Option<Vec<u8>>,
    media_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

#[derive(Deserialize)]
struct Descriptor {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    annotations: std::collections::HashMap<String, String>,
    #[serde(default)]
    platform: Option<PlatformDoc>,
}

#[derive(Deserialize)]
struct PlatformDoc {
    #[serde(default)]
    architecture: String,
}

#[derive(Deserialize)]
struct Manifest {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct Index {
    manifests: Vec<Descriptor>,
}

#[derive(Deserialize)]
struct RootFs {
    diff_ids: Vec<String>,
}

#[derive(Deserialize)]
struct ConfigDoc {
    rootfs: RootFs,
    created: Option<String>,
}

/// Loads every image of the archive; returns the names given (or IDs of unnamed images).
pub fn load(ctx: &Context, from: LoadSource) -> Result<Vec<String>, ArchiveError> {
    let source = open(ctx, from)?;
    let found = images(&source)?;
    if found.is_empty() {
        return Err(ArchiveError::Invalid { archive: source.shown(), msg: "holds no image".into() });
    }
    let _in_flight = ctx.pull_in_flight()?;
    let _lock = ctx.store_lock_shared()?;
    let mut loaded = Vec::new();
    for f in found {
        loaded.extend(store_image(ctx, &source, f)?);
    }
    Ok(loaded)
}

/// The archive as an indexed tar (spooled and decompressed as needed) or a directory.
fn open(ctx: &Context, from: LoadSource) -> Result<Source, ArchiveError> {
    let (reader, shown): (Box<dyn Read + Send>, String) = match from {
        LoadSource::Path(p) if p.is_dir() => return Source::dir(&p),
        LoadSource::Path(p) => {
            let f = std::fs::File::open(&p).map_err(|e| ArchiveError::io(&p, e))?;
            let shown = p.display().to_string();
            if !compressed(&f) {
                return Source::tar(f, &shown);
            }
            (Box::new(f), shown)
        }
        LoadSource::Stdin => (Box::new(std::io::stdin()), "standard input".to_string()),
    };
    let mut plain = crate::storage::layers::decompressed(reader)
        .map_err(|e| ArchiveError::Invalid { archive: shown.clone(), msg: format!("cannot read: {e}") })?;
    crate::state::paths::make_private_dir(&ctx.paths.blobs()).map_err(crate::engine::ContextError::from)?;
    let mut spool = crate::engine::image::registry::TempBlob::create(&ctx.paths.blobs())
        .map_err(|e| ArchiveError::io(&ctx.paths.blobs(), e))?;
    std::io::copy(&mut plain, &mut std::io::BufWriter::with_capacity(1 << 20, &mut spool.file).by_ref())
        .map_err(|e| ArchiveError::Invalid { archive: shown.clone(), msg: format!("cannot read: {e}") })?;
    let file = spool.file.try_clone().map_err(|e| ArchiveError::io(&ctx.paths.blobs(), e))?;
    drop(spool);
    Source::tar(file, &shown)
}

/// True when the file starts with gzip or zstd magic (the file is rewound).
fn compressed(mut f: &std::fs::File) -> bool {
    let mut head = [0u8; 4];
    let n = f.read(&mut head).unwrap_or(0);
    let _ = f.rewind();
    n >= 2 && (head.starts_with(&[0x1f, 0x8b]) || head == [0x28, 0xb5, 0x2f, 0xfd])
}

fn images(src: &Source) -> Result<Vec<Found>, ArchiveError> {
    let invalid = |msg: String| ArchiveError::Invalid { archive: src.shown(), msg };
    if src.exists(super::OCI_INDEX) {
        let index: Index = serde_json::from_slice(&src.read_document(super::OCI_INDEX)?)
            .map_err(|e| invalid(format!("index.json: {e}")))?;
        let mut out = Vec::new();
        for d in index.manifests {
            out.extend(oci_image(src, &d, 0)?);
        }
        return Ok(out);
    }
    if !src.exists("manifest.json") {
        return Err(invalid(
            "is neither a docker-archive (manifest.json) nor an OCI layout (index.json); was it written by save?"
                .into(),
        ));
    }
    let doc = src.read_document("manifest.json")?;
    if doc.trim_ascii_start().starts_with(b"{") {
        // containers/image's dir: layout.
        let m: Manifest = serde_json::from_slice(&doc).map_err(|e| invalid(format!("manifest.json: {e}")))?;
        return Ok(vec![from_manifest(src, m, doc, vec![])?]);
    }
    let entries: Vec<DockerEntry> = serde_json::from_slice(&doc).map_err(|e| invalid(format!("manifest.json: {e}")))?;
    entries.into_iter().map(|e| docker_image(src, e)).collect()
}

fn docker_image(src: &Source, e: DockerEntry) -> Result<Found, ArchiveError> {
    let config = src.read_document(&e.config)?;
    let names = e.repo_tags.unwrap_or_default();
    Ok(Found { config, layers: e.layers, names, manifest: None, media_type: DOCKER_MANIFEST.to_string() })
}

/// The image(s) an index entry names (a nested index is followed once).
fn oci_image(src: &Source, d: &Descriptor, depth: u8) -> Result<Vec<Found>, ArchiveError> {
    let invalid = |msg: String| ArchiveError::Invalid { archive: src.shown(), msg };
    let name = blob(&d.digest).ok_or_else(|| invalid(format!("bad digest {:?} in index.json", d.digest)))?;
    let doc = src.read_document(&name)?;
    check_digest(src, &doc, &d.digest)?;
    if d.media_type == super::OCI_INDEX_TYPE || d.media_type.ends_with("manifest.list.v2+json") {
        if depth > 0 {
            return Err(invalid("nested indexes are not supported".into()));
        }
        let index: Index = serde_json::from_slice(&doc).map_err(|e| invalid(format!("{name}: {e}")))?;
        let arch = crate::engine::image::platform::Platform::host().arch;
        let pick = index
            .manifests
            .iter()
            .find(|m| m.platform.as_ref().is_some_and(|p| p.architecture == arch))
            .or(index.manifests.first())
            .ok_or_else(|| invalid(format!("{name}: an empty index")))?;
        return oci_image(src, pick, depth + 1);
    }
    let m: Manifest = serde_json::from_slice(&doc).map_err(|e| invalid(format!("{name}: {e}")))?;
    let mut names = Vec::new();
    for key in [super::REF_NAME, super::CONTAINERD_NAME] {
        if let Some(n) = d.annotations.get(key)
            && !names.contains(n)
            && n.contains([':', '/'])
        {
            names.push(n.clone());
        }
    }
    names.truncate(1);
    Ok(vec![from_manifest(src, m, doc, names)?])
}

fn from_manifest(src: &Source, m: Manifest, doc: Vec<u8>, names: Vec<String>) -> Result<Found, ArchiveError> {
    let invalid = |msg: String| ArchiveError::Invalid { archive: src.shown(), msg };
    let dir_layout = !src.exists(super::OCI_INDEX);
    let name_of = |digest: &str| -> Result<String, ArchiveError> {
        let n = if dir_layout { Some(crate::util::digest_hex(digest).to_string()) } else { blob(digest) };
        n.filter(|_| crate::util::is_sha256_digest(digest)).ok_or_else(|| invalid(format!("bad digest {digest:?}")))
    };
    let config = src.read_document(&name_of(&m.config.digest)?)?;
    check_digest(src, &config, &m.config.digest)?;
    let layers = m.layers.iter().map(|l| name_of(&l.digest)).collect::<Result<Vec<_>, _>>()?;
    let media_type = if m.media_type.is_empty() { OCI_MANIFEST.to_string() } else { m.media_type };
    Ok(Found { config, layers, names, manifest: Some(doc), media_type })
}

fn blob(digest: &str) -> Option<String> {
    crate::util::is_sha256_digest(digest).then(|| format!("blobs/sha256/{}", crate::util::digest_hex(digest)))
}

fn check_digest(src: &Source, data: &[u8], want: &str) -> Result<(), ArchiveError> {
    let got = crate::util::sha256_bytes(data);
    if got != want {
        return Err(ArchiveError::Invalid {
            archive: src.shown(),
            msg: format!("blob {want} hashes to {got}; the archive is corrupt"),
        });
    }
    Ok(())
}

/// Unpacks the image's layers (those not stored yet) and records it.
fn store_image(ctx: &Context, src: &Source, f: Found) -> Result<Vec<String>, ArchiveError> {
    let invalid = |msg: String| ArchiveError::Invalid { archive: src.shown(), msg };
    let cfg: ConfigDoc = serde_json::from_slice(&f.config).map_err(|e| invalid(format!("image config: {e}")))?;
    if cfg.rootfs.diff_ids.len() != f.layers.len() {
        return Err(invalid(format!("{} diff IDs for {} layers", cfg.rootfs.diff_ids.len(), f.layers.len())));
    }
    if let Some(bad) = cfg.rootfs.diff_ids.iter().find(|d| !crate::util::is_sha256_digest(d)) {
        return Err(invalid(format!("bad diff ID {bad:?} in the image config")));
    }
    let store_ = ctx.layer_store()?;
    let pairs: Vec<(String, String)> = cfg.rootfs.diff_ids.iter().cloned().zip(f.layers.iter().cloned()).collect();
    let mut todo: Vec<(String, String)> = Vec::new();
    for (d, m) in &pairs {
        if !store_.exists(d) && !todo.iter().any(|(t, _)| t == d) {
            todo.push((d.clone(), m.clone()));
        }
    }
    unpack(&store_, src, &todo)?;
    let rows: Vec<(String, u64, String)> =
        cfg.rootfs.diff_ids.iter().map(|d| (d.clone(), store_.size_of(d), d.clone())).collect();
    let id = crate::util::sha256_bytes(&f.config);
    let mut names = Vec::new();
    for n in &f.names {
        let r = Reference::parse(n).map_err(|e| invalid(format!("image name {n:?}: {e}")))?;
        names.push(r.to_string());
    }
    let manifest = f.manifest.unwrap_or_else(|| docker_manifest(&f.config, &rows));
    let mut conn = ctx.db()?;
    store::insert(
        &mut conn,
        &NewImage {
            id: &id,
            config: &String::from_utf8_lossy(&f.config),
            manifest: &String::from_utf8_lossy(&manifest),
            manifest_digest: &crate::util::sha256_bytes(&manifest),
            manifest_media_type: &f.media_type,
            created: cfg.created.as_deref(),
            layers: &rows,
            name: names.first().map(String::as_str),
            repo_digests: &[],
        },
    )?;
    for n in names.iter().skip(1) {
        store::tag(&conn, &id, n)?;
    }
    Ok(if names.is_empty() { vec![id] } else { names })
}

/// A Docker schema 2 manifest for an image that came without one (uncompressed layers).
fn docker_manifest(config: &[u8], rows: &[(String, u64, String)]) -> Vec<u8> {
    let layers: Vec<serde_json::Value> = rows
        .iter()
        .map(|(d, s, _)| json!({"mediaType": "application/vnd.docker.image.rootfs.diff.tar", "digest": d, "size": s}))
        .collect();
    serde_json::to_vec(&json!({
        "schemaVersion": 2,
        "mediaType": DOCKER_MANIFEST,
        "config": {"mediaType": super::DOCKER_CONFIG_TYPE, "digest": crate::util::sha256_bytes(config), "size": config.len()},
        "layers": layers,
    }))
    .unwrap_or_default()
}

/// Streams each (diff ID, member) into the applier, several at once.
fn unpack(
    store_: &crate::storage::layers::LayerStore,
    src: &Source,
    todo: &[(String, String)],
) -> Result<(), ArchiveError> {
    if todo.is_empty() {
        return Ok(());
    }
    let diff_ids: Vec<String> = todo.iter().map(|(d, _)| d.clone()).collect();
    // Every member must be there before anything is unpacked.
    let mut readers = Vec::new();
    for (_, m) in todo {
        readers.push(src.open(m)?.0);
    }
    let (unpacking, pipes) = store_.start_streaming(&diff_ids)?;
    let copied: Vec<Result<(), String>> = std::thread::scope(|s| {
        let handles: Vec<_> = readers
            .into_iter()
            .zip(pipes)
            .map(|(mut r, pipe)| {
                s.spawn(move || {
                    let mut w = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::from(pipe));
                    match std::io::copy(&mut r, &mut w).and_then(|_| w.flush()) {
                        Ok(_) => Ok(()),
                        // The applier stopped reading: its own error says why.
                        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                        Err(e) => Err(e.to_string()),
                    }
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("a copy thread panicked".into()))).collect()
    });
    let applied = unpacking.finish();
    for c in copied {
        c.map_err(|msg| ArchiveError::Invalid { archive: src.shown(), msg })?;
    }
    for a in applied? {
        for w in &a.warnings {
            crate::util::print_warning(w);
        }
    }
    Ok(())
}
