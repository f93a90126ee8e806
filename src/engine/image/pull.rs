//! `pull`: resolves a name to candidates, fetches the manifest (choosing a platform from an
//! index), downloads config and layers in parallel with digest checks, streams the layers
//! into the storage layer's unpacker as they arrive (a layer's compressed blob is never
//! written to disk), and records the image in one transaction. No terminal output
//! except the progress display the caller asks for.

use super::auth::{self, Credentials};
use super::platform::Platform;
use super::reference::{self, Reference};
use super::registries::RegistriesConf;
use super::registry::{self, ConnectOptions, RegistryClient, RegistryError};
use super::store::{self, NewImage};
use crate::engine::{Context, ContextError};
use crate::storage::layers::{ApplyJob, LayerStore};
use crate::util::is_sha256_digest;
use oci_client::manifest::OciDescriptor;
use serde::Deserialize;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error(transparent)]
    Reference(#[from] reference::ReferenceError),
    #[error(transparent)]
    Registries(#[from] super::registries::RegistriesError),
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    #[error(transparent)]
    Registry(#[from] RegistryError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error("no image found in the manifest list of \"{reference}\" for platform {platform} (it has: {available})")]
    NoPlatform { reference: String, platform: String, available: String },
    #[error("invalid {what} of \"{reference}\": {reason}")]
    Invalid { reference: String, what: &'static str, reason: String },
    #[error("{0}")]
    Io(String),
    #[error("image \"{input}\" not found in any of the search registries ({tried})")]
    NotFoundAnywhere { input: String, tried: String },
    #[error("cannot start the download runtime: {0}")]
    Runtime(std::io::Error),
    #[error(
        "containers.conf [engine] image_default_transport \"{0}\" is not supported: kiste pulls from registries only; set it to \"docker://\" or remove it"
    )]
    Transport(String),
}

impl PullError {
    fn is_not_found(&self) -> bool {
        matches!(self, PullError::Registry(RegistryError::NotFound { .. }))
    }
}

#[derive(Clone, Debug)]
pub struct PullOptions {
    pub platform: Platform,
    /// `--tls-verify`; None means "as registries.conf says".
    pub tls_verify: Option<bool>,
    pub creds: Option<Credentials>,
    pub authfile: Option<PathBuf>,
    /// Show progress bars (on a terminal, not quiet).
    pub progress: bool,
}

#[derive(Deserialize)]
struct Desc {
    #[serde(rename = "mediaType", default)]
    media_type: String,
    digest: String,
    #[serde(default)]
    size: i64,
    #[serde(default)]
    platform: Option<PlatformJson>,
}

#[derive(Deserialize)]
struct PlatformJson {
    os: String,
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

#[derive(Deserialize)]
struct Manifest {
    config: Desc,
    #[serde(default)]
    layers: Vec<Desc>,
}

#[derive(Deserialize)]
struct Index {
    manifests: Vec<Desc>,
}

#[derive(Deserialize)]
struct ConfigJson {
    #[serde(default)]
    created: Option<String>,
    rootfs: RootFs,
}

#[derive(Deserialize)]
struct RootFs {
    #[serde(default)]
    diff_ids: Vec<String>,
}

/// containers.conf's `image_default_transport` (the transport of names given without one):
/// only registries (`docker://`) are, so any other is refused rather than ignored.
fn default_transport(ctx: &Context) -> Result<(), PullError> {
    let conf = crate::state::containers_conf::ContainersConf::load(ctx.paths.user_containers_config.as_deref());
    match conf.ok().and_then(|c| c.engine.image_default_transport.clone()) {
        Some(t) if !matches!(t.trim(), "" | "docker://" | "docker:") => Err(PullError::Transport(t)),
        _ => Ok(()),
    }
}

/// Pulls `input` and returns the image ID (`sha256:<hex>`).
pub fn pull(ctx: &Context, input: &str, opts: &PullOptions) -> Result<String, PullError> {
    default_transport(ctx)?;
    let conf = RegistriesConf::load(&ctx.paths.home)?;
    let candidates = reference::pull_candidates(input, &conf.search_registries())?;
    let many = candidates.len() > 1;
    let mut last = None;
    for r in &candidates {
        if opts.progress && many {
            eprintln!("Trying to pull {r}...");
        }
        match pull_reference(ctx, &conf, r, opts) {
            Ok(id) => return Ok(id),
            Err(e) if e.is_not_found() && many => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    match last {
        Some(_) => Err(PullError::NotFoundAnywhere {
            input: input.into(),
            tried: candidates.iter().map(|c| c.registry.clone()).collect::<Vec<_>>().join(", "),
        }),
        None => Err(PullError::NotFoundAnywhere { input: input.into(), tried: String::new() }),
    }
}

fn invalid(r: &Reference, what: &'static str, reason: impl ToString) -> PullError {
    PullError::Invalid { reference: r.to_string(), what, reason: reason.to_string() }
}

/// Pulls one fully qualified reference.
pub fn pull_reference(
    ctx: &Context,
    conf: &RegistriesConf,
    r: &Reference,
    opts: &PullOptions,
) -> Result<String, PullError> {
    if conf.is_blocked(r) {
        return Err(invalid(r, "reference", format!("registry {} is blocked in registries.conf", r.registry)));
    }
    // Garbage collection leaves our blobs and not yet recorded layers alone meanwhile.
    let _in_flight = ctx.pull_in_flight()?;
    let insecure = match opts.tls_verify {
        Some(v) => !v,
        None => conf.is_insecure(&r.registry),
    };
    let creds = match &opts.creds {
        Some(c) => Some(c.clone()),
        None => {
            auth::lookup(&r.registry, &r.repository, &ctx.paths.home, ctx.runtime_base(), opts.authfile.as_deref())?
        }
    };
    let layers_store = ctx.layer_store()?;
    let blobs = ctx.paths.blobs();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(PullError::Runtime)?;
    let t0 = std::time::Instant::now();
    // The database is opened (on a first pull: created) while the layers download. The
    // connection goes into this thread's pool, to be taken again under the store lock
    // (if the file is still the one opened); a failure shows there.
    let fetched = std::thread::scope(|s| {
        let opening = s.spawn(|| ctx.db().ok());
        let fetched = rt.block_on(fetch(r, &ConnectOptions { insecure, creds }, opts, &blobs, &layers_store));
        drop(opening.join());
        fetched
    })?;
    drop(rt);

    // Apply and record under the shared store lock, so a concurrent rmi cannot delete a
    // layer between "it exists" and "an image refers to it".
    let _lock = ctx.store_lock_shared()?;
    let jobs: Vec<ApplyJob> = fetched
        .layers
        .iter()
        .map(|l| ApplyJob {
            blob: blobs.join(crate::util::digest_hex(&l.blob_digest)),
            diff_id: l.diff_id.clone(),
            fd: None,
        })
        .collect();
    tracing::debug!("fetched {} in {:?}", r, t0.elapsed());
    let t1 = std::time::Instant::now();
    let applied = layers_store.apply(jobs)?;
    tracing::debug!("applied {} layers in {:?}", applied.len(), t1.elapsed());
    for a in fetched.streamed.iter().chain(&applied) {
        for w in &a.warnings {
            crate::util::print_warning(w);
        }
    }
    let layer_rows: Vec<(String, u64, String)> =
        fetched.layers.iter().zip(&applied).map(|(l, a)| (l.diff_id.clone(), a.size, l.blob_digest.clone())).collect();
    let name = if r.digest.is_none() { Some(r.to_string()) } else { None };
    let mut conn = ctx.db()?;
    store::insert(
        &mut conn,
        &NewImage {
            id: &fetched.config_digest,
            config: &fetched.config,
            manifest: &fetched.manifest,
            manifest_digest: &fetched.manifest_digest,
            manifest_media_type: &fetched.manifest_media_type,
            created: fetched.created.as_deref(),
            layers: &layer_rows,
            name: name.as_deref(),
            repo_digests: &fetched.repo_digests,
        },
    )?;
    // The layers are unpacked and recorded: their compressed blobs are no longer needed.
    for l in &fetched.layers {
        let _ = std::fs::remove_file(blobs.join(crate::util::digest_hex(&l.blob_digest)));
    }
    Ok(fetched.config_digest)
}

struct FetchedLayer {
    diff_id: String,
    blob_digest: String,
}

struct Fetched {
    config_digest: String,
    config: String,
    created: Option<String>,
    manifest: String,
    manifest_digest: String,
    manifest_media_type: String,
    repo_digests: Vec<String>,
    layers: Vec<FetchedLayer>,
    /// Layers unpacked while downloading.
    streamed: Vec<crate::storage::layers::AppliedLayer>,
}

async fn fetch(
    r: &Reference,
    conn: &ConnectOptions,
    opts: &PullOptions,
    blobs: &Path,
    store: &LayerStore,
) -> Result<Fetched, PullError> {
    let client = RegistryClient::connect(&r.registry, conn).await?;
    let (mut body, mut digest, mut media_type) = client.manifest(r, &r.tag_or_digest()).await?;
    let mut repo_digests = vec![format!("{}@{}", r.name(), digest)];
    if media_type == registry::OCI_INDEX || media_type == registry::DOCKER_LIST {
        let index: Index = serde_json::from_slice(&body).map_err(|e| invalid(r, "image index", e))?;
        let chosen = index
            .manifests
            .iter()
            .find(|m| {
                m.platform.as_ref().is_some_and(|p| opts.platform.matches(&p.os, &p.architecture, p.variant.as_deref()))
            })
            .ok_or_else(|| PullError::NoPlatform {
                reference: r.to_string(),
                platform: opts.platform.to_string(),
                available: index
                    .manifests
                    .iter()
                    .filter_map(|m| m.platform.as_ref())
                    .map(|p| match &p.variant {
                        Some(v) => format!("{}/{}/{v}", p.os, p.architecture),
                        None => format!("{}/{}", p.os, p.architecture),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
            })?;
        if !is_sha256_digest(&chosen.digest) {
            return Err(invalid(r, "image index", format!("bad digest {:?}", chosen.digest)));
        }
        let d = chosen.digest.clone();
        (body, digest, media_type) = client.manifest(r, &d).await?;
        repo_digests.push(format!("{}@{}", r.name(), digest));
    }
    if media_type != registry::OCI_MANIFEST && media_type != registry::DOCKER_MANIFEST {
        return Err(invalid(r, "manifest", format!("unsupported media type {media_type}")));
    }
    let manifest: Manifest = serde_json::from_slice(&body).map_err(|e| invalid(r, "manifest", e))?;
    for d in std::iter::once(&manifest.config).chain(&manifest.layers) {
        if !is_sha256_digest(&d.digest) {
            return Err(invalid(r, "manifest", format!("bad digest {:?}", d.digest)));
        }
    }

    // The config: tiny, kept on disk so a re-pull does not fetch it again (checked first:
    // blobs are not fsynced).
    let config_path = blobs.join(crate::util::digest_hex(&manifest.config.digest));
    if !super::blobs::is_intact(&config_path, &manifest.config.digest) {
        client.blob_to_file(r, &descriptor(&manifest.config), blobs).await?;
    }
    let config = std::fs::read_to_string(&config_path)
        .map_err(|e| PullError::Io(format!("reading {}: {e}", config_path.display())))?;
    let cfg: ConfigJson = serde_json::from_str(&config).map_err(|e| invalid(r, "image config", e))?;
    if cfg.rootfs.diff_ids.len() != manifest.layers.len() {
        return Err(invalid(
            r,
            "image config",
            format!("{} diff IDs for {} layers", cfg.rootfs.diff_ids.len(), manifest.layers.len()),
        ));
    }
    if let Some(bad) = cfg.rootfs.diff_ids.iter().find(|d| !is_sha256_digest(d)) {
        return Err(invalid(r, "image config", format!("bad diff ID {bad:?}")));
    }

    // Layers: download in parallel those neither unpacked nor left downloaded (by a load or
    // an older kiste), and unpack them while they arrive (the storage helper reads a pipe per
    // layer).
    let progress = Progress::new(opts.progress);
    let mut wanted = Vec::new();
    for (desc, diff_id) in manifest.layers.iter().zip(&cfg.rootfs.diff_ids) {
        let dest = blobs.join(crate::util::digest_hex(&desc.digest));
        if store.exists(diff_id)
            || super::blobs::is_intact(&dest, &desc.digest)
            || wanted.iter().any(|(d, _): &(&Desc, String)| d.digest == desc.digest)
        {
            progress.skipped(&desc.digest);
            continue;
        }
        wanted.push((desc, diff_id.clone()));
    }
    let mut streamed = Vec::new();
    if !wanted.is_empty() {
        let diff_ids: Vec<String> = wanted.iter().map(|(_, d)| d.clone()).collect();
        let (unpacking, pipes) = store.start_streaming(&diff_ids)?;
        let pipes: Result<Vec<_>, _> = pipes.into_iter().map(tokio::net::unix::pipe::Sender::from_owned_fd).collect();
        let pipes = match pipes {
            Ok(p) => p,
            Err(e) => {
                // The pipes are closed: the unpacker ends.
                let _ = tokio::task::block_in_place(|| unpacking.finish());
                return Err(PullError::Io(format!("cannot stream the layers to the unpacker: {e}")));
            }
        };
        let mut downloads = Vec::new();
        for ((desc, _), pipe) in wanted.into_iter().zip(pipes) {
            let bar = progress.bar(&desc.digest, desc.size);
            let client = &client;
            downloads.push(async move {
                let res = client.blob_to_pipe(r, &descriptor(desc), pipe, |n| bar.inc(n)).await;
                bar.finish();
                res
            });
        }
        let results = futures_util::future::join_all(downloads).await;
        // All pipes are closed now: the helper finishes. A corrupt download is the clearest
        // error, then another failed download (what the unpacker found then only follows
        // from it), then what the unpacker found.
        let unpacked = tokio::task::block_in_place(|| unpacking.finish());
        let mut first_err = None;
        for res in results {
            match res {
                Err(e @ RegistryError::DigestMismatch { .. }) => return Err(e.into()),
                Err(e) => {
                    tracing::debug!("download failed: {e:?}");
                    first_err = first_err.or(Some(e))
                }
                Ok(_) => {}
            }
        }
        if let Some(e) = first_err {
            return Err(e.into());
        }
        streamed = unpacked?;
    }
    progress.done();

    Ok(Fetched {
        config_digest: manifest.config.digest.clone(),
        created: cfg.created.clone(),
        config,
        manifest: String::from_utf8_lossy(&body).into_owned(),
        manifest_digest: digest,
        manifest_media_type: media_type,
        repo_digests,
        streamed,
        layers: manifest
            .layers
            .iter()
            .zip(&cfg.rootfs.diff_ids)
            .map(|(d, diff)| FetchedLayer { diff_id: diff.clone(), blob_digest: d.digest.clone() })
            .collect(),
    })
}

fn descriptor(d: &Desc) -> OciDescriptor {
    OciDescriptor { media_type: d.media_type.clone(), digest: d.digest.clone(), size: d.size, ..Default::default() }
}

/// Progress bars on stderr, or nothing.
struct Progress {
    multi: Option<indicatif::MultiProgress>,
}

struct Bar(Option<indicatif::ProgressBar>);

impl Bar {
    fn inc(&self, n: u64) {
        if let Some(b) = &self.0 {
            b.inc(n);
        }
    }
    fn finish(&self) {
        if let Some(b) = &self.0 {
            b.finish();
        }
    }
}

impl Progress {
    fn new(show: bool) -> Progress {
        Progress { multi: show.then(indicatif::MultiProgress::new) }
    }
    fn skipped(&self, digest: &str) {
        if let Some(m) = &self.multi {
            let _ = m.println(format!("Copying blob {} skipped: already exists", crate::util::short_id(digest)));
        }
    }
    fn bar(&self, digest: &str, size: i64) -> Bar {
        let Some(m) = &self.multi else { return Bar(None) };
        let b = m.add(indicatif::ProgressBar::new(size.max(0) as u64));
        let style = indicatif::ProgressStyle::with_template(
            "Copying blob {msg} [{bar:30}] {bytes} / {total_bytes} {bytes_per_sec}",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> ");
        b.set_style(style);
        b.set_message(crate::util::short_id(digest));
        Bar(Some(b))
    }
    fn done(&self) {
        if let Some(m) = &self.multi {
            let _ = m.println("Writing manifest to image destination");
        }
    }
}
