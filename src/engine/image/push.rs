//! `push`: sends a stored image to a registry. Per layer it prefers a blob the registry has
//! (HEAD), then one it can mount from another repository of the same registry, then a blob
//! file in the store (the pulled original, or one compressed by an earlier push), and only
//! then compresses the layer (`blobs`), uploading each blob as soon as it exists; then the
//! config and the manifest (OCI or Docker schema 2) under the tag. Records which blobs the
//! repository now holds. No terminal output except the progress the caller asks for.

use super::auth::{self, Credentials};
use super::blobs::{self, BlobError};
use super::compress::Compression;
use super::reference::{self, Reference};
use super::registries::RegistriesConf;
use super::registry::{self, ConnectOptions, RegistryClient, RegistryError};
use super::store::{self, ImageRecord, LayerBlob};
use super::upload::{BlobFile, Mounted, PushAuth, Retry};
use crate::engine::{Context, ContextError};
use serde::Serialize;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error(transparent)]
    Reference(#[from] reference::ReferenceError),
    #[error(transparent)]
    Registries(#[from] super::registries::RegistriesError),
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Blob(#[from] BlobError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error("{0}")]
    Invalid(String),
    #[error("cannot start the upload runtime: {0}")]
    Runtime(std::io::Error),
}

/// The manifest format to push.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManifestFormat {
    Oci,
    /// Docker image manifest v2, schema 2.
    Docker,
}

#[derive(Clone, Debug, Default)]
pub struct PushOptions {
    /// `--tls-verify`; None means "as registries.conf says".
    pub tls_verify: Option<bool>,
    pub creds: Option<Credentials>,
    pub authfile: Option<PathBuf>,
    /// None: the format of the image's own manifest (as Podman keeps it).
    pub format: Option<ManifestFormat>,
    /// None: gzip.
    pub compression: Option<Compression>,
    pub compression_level: Option<i32>,
    /// Compress anew even when the registry has the layer in another compression. None:
    /// true when `compression` was given (as Podman).
    pub force_compression: Option<bool>,
    pub retry: Retry,
    /// Progress on stderr: bars on a terminal (`Some(true)`), lines otherwise (`Some(false)`).
    pub progress: Option<bool>,
}

/// What was pushed.
#[derive(Debug)]
pub struct Pushed {
    /// `sha256:` of the manifest.
    pub digest: String,
}

/// A blob that holds layer `i`'s tar.
#[derive(Clone, Debug)]
struct Candidate {
    blob: LayerBlob,
    /// The pulled original (its descriptor came from the image's manifest).
    original: bool,
}

/// The blob chosen for a layer, once the registry has it.
#[derive(Clone, Debug)]
struct Placed {
    blob: LayerBlob,
    original: bool,
}

/// Where the destination is: `docker://` and no transport mean a registry.
pub fn destination(image: &str, rec: &ImageRecord, dest: Option<&str>) -> Result<Reference, PushError> {
    let raw = match dest {
        Some(d) => d.to_string(),
        None => rec
            .names
            .iter()
            .find(|n| reference::local_match(image, n))
            .cloned()
            .or_else(|| (!rec.id.contains(image.trim_start_matches("sha256:"))).then(|| image.to_string()))
            .ok_or_else(|| {
                PushError::Invalid(format!(
                    "\"{image}\" is an image ID, not a name; give a destination: kiste push {image} REGISTRY/REPOSITORY[:TAG]"
                ))
            })?,
    };
    let raw = raw.strip_prefix("docker://").unwrap_or(&raw).to_string();
    if let Some((transport, _)) = raw.split_once(':')
        && ["dir", "oci", "oci-archive", "docker-archive", "docker-daemon", "containers-storage"].contains(&transport)
    {
        return Err(PushError::Invalid(format!(
            "transport \"{transport}\" is not supported by kiste push; push to a registry (docker://REGISTRY/REPOSITORY)"
        )));
    }
    let r = Reference::parse(&raw)?;
    if r.digest.is_some() {
        return Err(PushError::Invalid(format!("cannot push to \"{raw}\": a destination names a tag, not a digest")));
    }
    Ok(r)
}

/// Pushes `image` (a name or ID in the store) to `dest` (default: the image's own name).
pub fn push(ctx: &Context, image: &str, dest: Option<&str>, opts: &PushOptions) -> Result<Pushed, PushError> {
    let conn = ctx.db()?;
    let rec = store::resolve(&conn, image)?;
    let target = destination(image, &rec, dest)?;
    let conf = RegistriesConf::load(&ctx.paths.home)?;
    if conf.is_blocked(&target) {
        return Err(PushError::Invalid(format!("registry {} is blocked in registries.conf", target.registry)));
    }
    let insecure = match opts.tls_verify {
        Some(v) => !v,
        None => conf.is_insecure(&target.registry),
    };
    let creds = match &opts.creds {
        Some(c) => Some(c.clone()),
        None => auth::lookup(
            &target.registry,
            &target.repository,
            &ctx.paths.home,
            ctx.runtime_base(),
            opts.authfile.as_deref(),
        )?,
    };
    let docker = match opts.format {
        Some(f) => f == ManifestFormat::Docker,
        None => rec.manifest_media_type == registry::DOCKER_MANIFEST,
    };
    let compression = opts.compression.unwrap_or(Compression::Gzip);
    if docker && compression == Compression::Zstd {
        return Err(PushError::Invalid(
            "zstd compression needs an OCI manifest: use --format oci, or --compression-format gzip".into(),
        ));
    }
    let force = opts.force_compression.unwrap_or(opts.compression.is_some());
    let plan = Plan::new(&conn, &rec, compression, force, docker)?;
    drop(conn);
    // The sweep leaves the store's blobs alone while this push may still read them.
    let _in_flight = ctx.pull_in_flight()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(PushError::Runtime)?;
    let conn_opts = ConnectOptions { insecure, creds };
    rt.block_on(run(ctx, &rec, &target, plan, &conn_opts, opts))
}

/// What is known before talking to the registry.
struct Plan {
    diff_ids: Vec<String>,
    candidates: Vec<Vec<Candidate>>,
    compression: Compression,
    docker: bool,
    /// Repositories of the destination's registry that may hold candidate blobs.
    locations: std::collections::HashMap<String, Vec<String>>,
}

impl Plan {
    fn new(
        conn: &rusqlite::Connection,
        rec: &ImageRecord,
        compression: Compression,
        force: bool,
        docker: bool,
    ) -> Result<Plan, PushError> {
        let originals = original_blobs(rec);
        let mut candidates = Vec::new();
        let mut locations = std::collections::HashMap::new();
        for (i, diff_id) in rec.layers.iter().enumerate() {
            let mut c: Vec<Candidate> = Vec::new();
            if let Some(Some(b)) = originals.get(i)
                && b.diff_id == *diff_id
            {
                c.push(Candidate { blob: b.clone(), original: true });
            }
            for b in store::layer_blobs(conn, diff_id)? {
                if !c.iter().any(|x| x.blob.digest == b.digest) {
                    c.push(Candidate { blob: b, original: false });
                }
            }
            c.retain(|x| {
                let comp = Compression::from_name(&x.blob.compression);
                let fits = if force { comp == Some(compression) } else { comp.is_some() };
                fits && !(docker && comp == Some(Compression::Zstd))
            });
            // The asked-for compression first; originals first among equals.
            c.sort_by_key(|x| (x.blob.compression != compression.name(), !x.original));
            for x in &c {
                locations.insert(x.blob.digest.clone(), store::blob_locations(conn, &x.blob.digest)?);
            }
            candidates.push(c);
        }
        Ok(Plan { diff_ids: rec.layers.clone(), candidates, compression, docker, locations })
    }
}

/// The layer blobs of the image's own (pulled) manifest, by layer index.
fn original_blobs(rec: &ImageRecord) -> Vec<Option<LayerBlob>> {
    #[derive(serde::Deserialize)]
    struct Desc {
        #[serde(rename = "mediaType", default)]
        media_type: String,
        digest: String,
        #[serde(default)]
        size: i64,
    }
    #[derive(serde::Deserialize)]
    struct M {
        #[serde(default)]
        layers: Vec<Desc>,
    }
    let Ok(m) = serde_json::from_str::<M>(&rec.manifest) else { return Vec::new() };
    m.layers
        .into_iter()
        .zip(&rec.layers)
        .map(|(d, diff_id)| {
            let comp = Compression::from_media_type(&d.media_type)?;
            crate::util::is_sha256_digest(&d.digest).then(|| LayerBlob {
                diff_id: diff_id.clone(),
                compression: comp.name().into(),
                digest: d.digest,
                size: d.size.max(0) as u64,
                tar_digest: diff_id.clone(),
            })
        })
        .collect()
}

async fn run(
    ctx: &Context,
    rec: &ImageRecord,
    target: &Reference,
    plan: Plan,
    conn_opts: &ConnectOptions,
    opts: &PushOptions,
) -> Result<Pushed, PushError> {
    let client = RegistryClient::connect(&target.registry, conn_opts).await?;
    let prefix = format!("{}/", target.registry);
    // Repositories of this registry that blobs may be mounted from: the token must allow it.
    let own = rec.digests.iter().filter_map(|d| d.split_once('@')).map(|(r, _)| r.to_string());
    let sources: Vec<String> = plan
        .locations
        .values()
        .flatten()
        .cloned()
        .chain(own)
        .filter_map(|l| l.strip_prefix(&prefix).map(str::to_string))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let auth = client.push_auth(&target.repository, &sources).await?;
    let progress = super::progress::Progress::new(opts.progress);
    progress.line("Getting image source signatures");
    let up = Uploader { ctx, client: &client, auth: &auth, target, retry: opts.retry, progress: &progress };
    // Blobs the registry has or can mount, or that are in the store already.
    let mut placed: Vec<Option<Placed>> = vec![None; plan.diff_ids.len()];
    let mut todo = Vec::new();
    for (i, cands) in plan.candidates.iter().enumerate() {
        match up.place_existing(&plan.diff_ids[i], cands, &plan.locations).await? {
            Some(p) => placed[i] = Some(p),
            None => todo.push(i),
        }
    }
    compress_and_upload(&up, &plan, &todo, &mut placed, opts).await?;
    let placed: Vec<Placed> = placed
        .into_iter()
        .collect::<Option<_>>()
        .ok_or_else(|| PushError::Invalid("a layer was neither found nor uploaded".into()))?;
    let digest = up.finish(rec, &plan, &placed).await?;
    Ok(Pushed { digest })
}

/// Compresses the layers `todo` (in a blocking thread, under the shared store lock) and
/// uploads each blob as soon as it is ready, a few at a time.
async fn compress_and_upload(
    up: &Uploader<'_>,
    plan: &Plan,
    todo: &[usize],
    placed: &mut [Option<Placed>],
    opts: &PushOptions,
) -> Result<(), PushError> {
    if todo.is_empty() {
        return Ok(());
    }
    let sizes = layer_sizes(up.ctx, todo.iter().map(|&i| plan.diff_ids[i].clone()).collect());
    let bars: Vec<Arc<super::progress::Bar>> =
        todo.iter().zip(&sizes).map(|(&i, s)| Arc::new(up.progress.bar(&plan.diff_ids[i], *s))).collect();
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(usize, LayerBlob)>();
    let ids: Vec<String> = todo.iter().map(|&i| plan.diff_ids[i].clone()).collect();
    let (compression, level) = (plan.compression, opts.compression_level);
    let paths = up.ctx.paths.clone();
    let idmap = up.ctx.idmap.clone();
    let bars_c = bars.clone();
    let maker = tokio::task::spawn_blocking(move || -> Result<(), PushError> {
        let ctx = Context { paths, idmap };
        let _lock = ctx.store_lock_shared()?;
        let progress = |k: usize, n: u64| {
            if let Some(b) = bars_c.get(k) {
                b.inc(n)
            }
        };
        blobs::compress_layers(&ctx, &ids, compression, level, &progress, &mut |k, blob| {
            let _ = tx.send((k, blob));
        })?;
        Ok(())
    });
    let mut uploads = futures_util::stream::FuturesUnordered::new();
    let mut open = true;
    use futures_util::StreamExt;
    while open || !uploads.is_empty() {
        tokio::select! {
            got = rx.recv(), if open => match got {
                Some((k, blob)) => {
                    let i = todo[k];
                    let bar = bars[k].clone();
                    uploads.push(async move {
                        let r = up.send_blob(&blob, None, &bar, false).await;
                        (i, blob, r)
                    });
                }
                None => open = false,
            },
            Some((i, blob, r)) = uploads.next(), if !uploads.is_empty() => {
                r?;
                placed[i] = Some(Placed { blob, original: false });
            }
        }
    }
    maker.await.map_err(|e| PushError::Invalid(format!("the compression thread failed: {e}")))??;
    Ok(())
}

/// Uncompressed sizes of stored layers (progress totals), 0 when unknown.
fn layer_sizes(ctx: &Context, ids: Vec<String>) -> Vec<u64> {
    let known = ctx.db().ok().and_then(|c| store::layer_sizes(&c).ok()).unwrap_or_default();
    ids.iter().map(|d| known.get(d).copied().unwrap_or(0)).collect()
}

struct Uploader<'a> {
    ctx: &'a Context,
    client: &'a RegistryClient,
    auth: &'a PushAuth,
    target: &'a Reference,
    retry: Retry,
    progress: &'a super::progress::Progress,
}

impl Uploader<'_> {
    /// A candidate the registry has, can mount, or that is in the store to upload.
    async fn place_existing(
        &self,
        diff_id: &str,
        cands: &[Candidate],
        locations: &std::collections::HashMap<String, Vec<String>>,
    ) -> Result<Option<Placed>, PushError> {
        let repo = &self.target.repository;
        let prefix = format!("{}/", self.target.registry);
        let mut session = None;
        for c in cands {
            let d = &c.blob.digest;
            if self.client.has_blob(self.auth, repo, d, self.retry).await? {
                self.progress.line(&format!("Copying blob {} skipped: already exists", crate::util::short_id(diff_id)));
                return Ok(Some(Placed { blob: c.blob.clone(), original: c.original }));
            }
            let sources = locations.get(d).into_iter().flatten().filter_map(|l| l.strip_prefix(&prefix));
            for from in sources.filter(|f| *f != repo.as_str()) {
                match self.client.mount_blob(self.auth, repo, d, from, self.retry).await? {
                    Mounted::Yes => {
                        self.progress.line(&format!(
                            "Copying blob {} skipped: already exists (mounted from {from})",
                            crate::util::short_id(diff_id)
                        ));
                        return Ok(Some(Placed { blob: c.blob.clone(), original: c.original }));
                    }
                    Mounted::No(s) => session = session.or(Some(s)),
                }
            }
        }
        // A stored blob file of the right size is sent; the upload checks its digest on the way.
        for c in cands {
            let path = blobs::blob_path(self.ctx, &c.blob.digest);
            match std::fs::metadata(&path).map(|m| m.len()) {
                Ok(n) if n == c.blob.size => {}
                // A blob file gets its name only complete: another size is damage, and left
                // there it would be kept over the fresh copy compressed next (and sent unchecked).
                Ok(_) => {
                    let _ = std::fs::remove_file(&path);
                    continue;
                }
                Err(_) => continue,
            }
            let bar = self.progress.bar(diff_id, c.blob.size);
            match self.send_blob(&c.blob, session.take(), &bar, true).await {
                Ok(()) => return Ok(Some(Placed { blob: c.blob.clone(), original: c.original })),
                Err(PushError::Registry(RegistryError::StoredBlobCorrupt { .. })) => {
                    tracing::debug!("stored blob {} is corrupt: removed, compressing the layer anew", c.blob.digest);
                    let _ = std::fs::remove_file(&path);
                }
                Err(e) => return Err(e),
            }
        }
        Ok(None)
    }

    /// Uploads a blob file of the store; `check`: its digest is checked on the way (a blob
    /// stored by an earlier pull or push, not one just compressed).
    async fn send_blob(
        &self,
        blob: &LayerBlob,
        session: Option<String>,
        bar: &super::progress::Bar,
        check: bool,
    ) -> Result<(), PushError> {
        let repo = &self.target.repository;
        let path = blobs::blob_path(self.ctx, &blob.digest);
        if !self.client.has_blob(self.auth, repo, &blob.digest, self.retry).await? {
            bar.uploading(blob.size);
            let b = bar.handle();
            let progress: Arc<dyn Fn(u64) + Send + Sync> = Arc::new(move |n| b.inc(n));
            let file = BlobFile { path: &path, digest: &blob.digest, size: blob.size, check };
            self.client.upload_blob(self.auth, repo, &file, session, self.retry, progress).await?;
        }
        bar.done();
        Ok(())
    }

    /// The config (diff IDs rewritten where layers hash differently now), then the manifest.
    async fn finish(&self, rec: &ImageRecord, plan: &Plan, placed: &[Placed]) -> Result<String, PushError> {
        let repo = &self.target.repository;
        let tar_digests: Vec<String> = placed.iter().map(|p| p.blob.tar_digest.clone()).collect();
        let rewritten = blobs::rewrite_diff_ids(&rec.config, &tar_digests);
        if rewritten.is_some() {
            crate::util::print_warning(format!(
                "layers of {} cannot be reproduced byte for byte (unpacked by an older kiste): the pushed image gets a new ID",
                crate::util::short_id(&rec.id)
            ));
        }
        let config = rewritten.clone().unwrap_or_else(|| rec.config.clone());
        let config_digest = blobs::sha256(config.as_bytes());
        self.progress.line(&format!("Copying config {}", crate::util::short_id(&config_digest)));
        if !self.client.has_blob(self.auth, repo, &config_digest, self.retry).await?
            && !self.mount_config(rec, &config_digest).await?
        {
            self.client.upload_bytes(self.auth, repo, config.as_bytes(), &config_digest, self.retry).await?;
        }
        self.progress.line("Writing manifest to image destination");
        let own = if plan.docker { registry::DOCKER_MANIFEST } else { registry::OCI_MANIFEST };
        let reuse = rewritten.is_none() && rec.manifest_media_type == own && placed.iter().all(|p| p.original);
        let (body, media_type) = if reuse {
            (rec.manifest.clone().into_bytes(), own.to_string())
        } else {
            manifest(plan.docker, &config_digest, config.len() as u64, placed)?
        };
        let tag = self.target.tag.clone().unwrap_or_else(|| "latest".into());
        self.client.put_manifest(self.auth, repo, &tag, &media_type, &body, self.retry).await?;
        let digest = blobs::sha256(&body);
        self.record(placed, &config_digest);
        Ok(digest)
    }

    /// Mounts the config from a repository of the same registry that holds it (the image's
    /// own, or one it was pushed to).
    async fn mount_config(&self, rec: &ImageRecord, digest: &str) -> Result<bool, PushError> {
        let prefix = format!("{}/", self.target.registry);
        let mut from: Vec<String> =
            rec.digests.iter().filter_map(|d| d.split_once('@')).map(|(r, _)| r.to_string()).collect();
        if let Ok(conn) = self.ctx.db() {
            from.extend(store::blob_locations(&conn, digest)?);
        }
        from.dedup();
        for repo in from.iter().filter_map(|r| r.strip_prefix(&prefix)).filter(|r| *r != self.target.repository) {
            if let Mounted::Yes =
                self.client.mount_blob(self.auth, &self.target.repository, digest, repo, self.retry).await?
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Remembers that the repository holds these blobs (for later HEADs and mounts).
    fn record(&self, placed: &[Placed], config: &str) {
        let Ok(conn) = self.ctx.db() else { return };
        let repo = self.target.name();
        for d in placed.iter().map(|p| p.blob.digest.as_str()).chain([config]) {
            if let Err(e) = store::record_blob_location(&conn, d, &repo) {
                tracing::debug!("cannot record that {repo} holds {d}: {e}");
            }
        }
    }
}

#[derive(Serialize)]
struct Descriptor<'a> {
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    digest: &'a str,
    size: u64,
}

#[derive(Serialize)]
struct Manifest<'a> {
    #[serde(rename = "schemaVersion")]
    schema_version: u32,
    #[serde(rename = "mediaType")]
    media_type: &'a str,
    config: Descriptor<'a>,
    layers: Vec<Descriptor<'a>>,
}

/// A new manifest for the config and layer blobs: (body, media type).
fn manifest(docker: bool, config: &str, config_size: u64, placed: &[Placed]) -> Result<(Vec<u8>, String), PushError> {
    let (mt, config_mt) = if docker {
        (registry::DOCKER_MANIFEST, "application/vnd.docker.container.image.v1+json")
    } else {
        (registry::OCI_MANIFEST, "application/vnd.oci.image.config.v1+json")
    };
    let mut layers = Vec::new();
    for p in placed {
        let comp = Compression::from_name(&p.blob.compression).unwrap_or(Compression::Gzip);
        let lmt = comp.media_type(docker).ok_or_else(|| {
            PushError::Invalid("a zstd layer cannot go in a Docker manifest: use --format oci".into())
        })?;
        layers.push(Descriptor { media_type: lmt, digest: &p.blob.digest, size: p.blob.size });
    }
    let m = Manifest {
        schema_version: 2,
        media_type: mt,
        config: Descriptor { media_type: config_mt, digest: config, size: config_size },
        layers,
    };
    let body = serde_json::to_vec_pretty(&m).map_err(|e| PushError::Invalid(e.to_string()))?;
    Ok((body, mt.to_string()))
}
