//! The registry client: talks the OCI distribution protocol through oci-client (auth
//! challenges, manifests) and streams blobs to disk or into a pipe, checked against their
//! digests. Owns the mapping of protocol failures to user-facing errors; knows nothing of
//! the local store.

use super::auth::Credentials;
use super::reference::Reference;
use futures_util::StreamExt;
use oci_client::client::{ClientConfig, ClientProtocol};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::OciDescriptor;
use oci_client::secrets::RegistryAuth;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const DOCKER_SCHEMA1: &str = "application/vnd.docker.distribution.manifest.v1+prettyjws";
const ACCEPTED: &[&str] = &[OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST];

#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("image \"{reference}\" not found in {registry} (HTTP 404)")]
    NotFound { reference: String, registry: String },
    #[error("cannot reach registry {registry}: {reason}")]
    Unreachable { registry: String, reason: String },
    #[error("authentication required for {registry}: run \"kiste login {registry}\" or pass --creds")]
    AuthRequired { registry: String },
    #[error("authentication to {registry} failed: wrong username or password (HTTP 401)")]
    AuthFailed { registry: String },
    #[error("access to \"{reference}\" denied by {registry} (HTTP 403)")]
    Denied { reference: String, registry: String },
    #[error("blob {digest} from {registry} does not match its digest (got {actual}); the registry's copy is corrupt")]
    DigestMismatch { registry: String, digest: String, actual: String },
    #[error("{what} from {registry}: {reason}")]
    Protocol { registry: String, what: String, reason: String },
    #[error(
        "manifest of \"{reference}\" uses Docker schema 1, which is not supported; push it again with a current client"
    )]
    Schema1 { reference: String },
    #[error(
        "registry {registry} answered in plain HTTP, not HTTPS: use --tls-verify=false, or set insecure = true for it in registries.conf"
    )]
    PlainHttp { registry: String },
    #[error("writing {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("stored blob {path} does not match its digest {digest}")]
    StoredBlobCorrupt { path: PathBuf, digest: String },
    #[error(
        "cannot set up TLS for registry {registry}: no CA certificates were found on this system; install the ca-certificates package or point SSL_CERT_FILE at a certificate bundle"
    )]
    NoCaCertificates { registry: String },
}

/// A connection to one registry, with resolved TLS mode and credentials.
pub struct RegistryClient {
    client: oci_client::Client,
    auth: RegistryAuth,
    has_creds: bool,
    pub registry: String,
    /// "https" or "http" (an insecure registry that does not speak TLS).
    pub(super) scheme: &'static str,
    pub(super) creds: Option<Credentials>,
    insecure: bool,
    /// For the requests kiste makes itself (uploads), with the same TLS settings: made at
    /// first use, as a verifying client reads every system CA certificate (a few ms).
    http: std::sync::OnceLock<reqwest::Client>,
}

/// Options that decide how to reach a registry.
#[derive(Clone, Debug, Default)]
pub struct ConnectOptions {
    /// `--tls-verify=false` or an `insecure = true` entry in registries.conf.
    pub insecure: bool,
    pub creds: Option<Credentials>,
}

fn http_client(insecure: bool) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .danger_accept_invalid_certs(insecure)
        .connect_timeout(Duration::from_secs(10))
        .user_agent(concat!("kiste/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// For an insecure registry, Podman tries HTTPS without verification first and falls back
/// to plain HTTP. Returns true when plain HTTP must be used.
async fn needs_plain_http(registry: &str) -> bool {
    let Ok(c) = http_client(true) else { return true };
    let url = format!("https://{registry}/v2/");
    match c.get(&url).timeout(Duration::from_secs(10)).send().await {
        Ok(_) => false,
        Err(e) => {
            tracing::debug!("https probe of {registry} failed ({e}); using http");
            true
        }
    }
}

pub fn ensure_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

thread_local! {
    /// Set while this thread builds oci-client's client: a panic then is caught and reported.
    static QUIET_PANIC: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `f`, catching a panic without printing it. The process's panic hook is wrapped once,
/// so that it stays quiet only for the thread inside `f`: others still print theirs.
fn catch_quietly<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    static WRAPPED: std::sync::Once = std::sync::Once::new();
    WRAPPED.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET_PANIC.with(std::cell::Cell::get) {
                previous(info);
            }
        }));
    });
    QUIET_PANIC.with(|q| q.set(true));
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    QUIET_PANIC.with(|q| q.set(false));
    caught.map_err(|payload| {
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default()
    })
}

/// Why an HTTP client could not be built: no CA certificates (the one way it happens on a
/// working system), or what the TLS library said.
fn tls_setup_error(registry: &str, reason: String) -> RegistryError {
    if reason.contains("No CA certificates") {
        RegistryError::NoCaCertificates { registry: registry.to_string() }
    } else {
        RegistryError::Protocol { registry: registry.to_string(), what: "TLS set-up".into(), reason }
    }
}

/// oci-client's constructor also builds a default reqwest client, which panics rather than
/// fail when the system has no CA certificates (even for a plain-HTTP registry). That
/// panic is caught, unprinted, and becomes an error that says what to install.
fn oci_client(registry: &str, config: ClientConfig) -> Result<oci_client::Client, RegistryError> {
    catch_quietly(|| oci_client::Client::new(config)).map_err(|why| tls_setup_error(registry, why))
}

/// The innermost cause of an error chain, in words (reqwest's own text is "builder error",
/// "error sending request").
fn innermost(e: &dyn std::error::Error) -> String {
    let mut reason = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        reason = s.to_string();
        src = s.source();
    }
    reason
}

impl RegistryClient {
    pub async fn connect(registry: &str, opts: &ConnectOptions) -> Result<RegistryClient, RegistryError> {
        ensure_crypto_provider();
        let protocol = if opts.insecure && needs_plain_http(registry).await {
            ClientProtocol::Http
        } else {
            ClientProtocol::Https
        };
        let scheme = if protocol == ClientProtocol::Http { "http" } else { "https" };
        let config = ClientConfig {
            protocol,
            accept_invalid_certificates: opts.insecure,
            platform_resolver: None,
            connect_timeout: Some(Duration::from_secs(10)),
            read_timeout: Some(Duration::from_secs(60)),
            user_agent: concat!("kiste/", env!("CARGO_PKG_VERSION")),
            ..Default::default()
        };
        let auth = match &opts.creds {
            Some(c) => RegistryAuth::Basic(c.username.clone(), c.password.clone()),
            None => RegistryAuth::Anonymous,
        };
        Ok(RegistryClient {
            client: oci_client(registry, config)?,
            auth,
            has_creds: opts.creds.is_some(),
            registry: registry.to_string(),
            scheme,
            creds: opts.creds.clone(),
            insecure: opts.insecure,
            http: std::sync::OnceLock::new(),
        })
    }

    /// The client for the requests kiste makes itself, built at first use.
    pub(super) fn http(&self) -> Result<&reqwest::Client, RegistryError> {
        if let Some(c) = self.http.get() {
            return Ok(c);
        }
        let built = http_client(self.insecure).map_err(|e| tls_setup_error(&self.registry, innermost(&e)))?;
        Ok(self.http.get_or_init(|| built))
    }

    fn oci_ref(r: &Reference, tag_or_digest: &str) -> oci_client::Reference {
        if tag_or_digest.starts_with("sha256:") {
            oci_client::Reference::with_digest(r.registry.clone(), r.repository.clone(), tag_or_digest.to_string())
        } else {
            oci_client::Reference::with_tag(r.registry.clone(), r.repository.clone(), tag_or_digest.to_string())
        }
    }

    /// Maps an oci-client failure to what the user should read.
    fn map_err(&self, r: &Reference, what: &str, e: OciDistributionError) -> RegistryError {
        let registry = self.registry.clone();
        let reference = r.to_string();
        match e {
            OciDistributionError::RegistryError { envelope, .. } => match envelope.errors.first().map(|e| &e.code) {
                Some(
                    OciErrorCode::ManifestUnknown
                    | OciErrorCode::NameUnknown
                    | OciErrorCode::NotFound
                    | OciErrorCode::BlobUnknown,
                ) => RegistryError::NotFound { reference, registry },
                Some(OciErrorCode::Unauthorized) => self.unauthorized(),
                Some(OciErrorCode::Denied) => RegistryError::Denied { reference, registry },
                _ => RegistryError::Protocol {
                    registry,
                    what: what.into(),
                    reason: envelope.errors.iter().map(|e| e.message.clone()).collect::<Vec<_>>().join("; "),
                },
            },
            OciDistributionError::ServerError { code: 404, .. } => RegistryError::NotFound { reference, registry },
            OciDistributionError::ServerError { code: 403, .. } => RegistryError::Denied { reference, registry },
            OciDistributionError::ServerError { code, message, .. } => RegistryError::Protocol {
                registry,
                what: what.into(),
                reason: format!("HTTP {code}: {}", message.trim()),
            },
            OciDistributionError::UnauthorizedError { .. } => self.unauthorized(),
            OciDistributionError::AuthenticationFailure(_) => RegistryError::AuthFailed { registry },
            OciDistributionError::RequestError(e) => request_error(&registry, what, &e),
            OciDistributionError::DigestError(d) => {
                RegistryError::Protocol { registry, what: what.into(), reason: d.to_string() }
            }
            other => RegistryError::Protocol { registry, what: what.into(), reason: other.to_string() },
        }
    }

    pub(super) fn unauthorized(&self) -> RegistryError {
        if self.has_creds {
            RegistryError::AuthFailed { registry: self.registry.clone() }
        } else {
            RegistryError::AuthRequired { registry: self.registry.clone() }
        }
    }

    /// Fetches a manifest (or index) by tag or digest. Returns its bytes, digest and media type.
    pub async fn manifest(
        &self,
        r: &Reference,
        tag_or_digest: &str,
    ) -> Result<(Vec<u8>, String, String), RegistryError> {
        let oref = Self::oci_ref(r, tag_or_digest);
        let (body, digest) = self
            .client
            .pull_manifest_raw(&oref, &self.auth, ACCEPTED)
            .await
            .map_err(|e| self.map_err(r, "manifest", e))?;
        let media_type = manifest_media_type(&body);
        if media_type == DOCKER_SCHEMA1 {
            return Err(RegistryError::Schema1 { reference: r.to_string() });
        }
        Ok((body.to_vec(), digest, media_type))
    }

    /// Streams blob `digest` into `dir/<hex>`, verified. The file appears under its final
    /// name only when complete and verified (O_TMPFILE + linkat, else temp + rename).
    pub async fn blob_to_file(
        &self,
        r: &Reference,
        desc: &OciDescriptor,
        dir: &Path,
    ) -> Result<PathBuf, RegistryError> {
        let dest = dir.join(crate::util::digest_hex(&desc.digest));
        let io_err = |source| RegistryError::Io { path: dest.clone(), source };
        let mut chunks = self.blob_chunks(r, desc).await?;
        let mut tmp = TempBlob::create(dir).map_err(io_err)?;
        let mut w = io::BufWriter::with_capacity(256 * 1024, &mut tmp.file);
        while let Some(chunk) = chunks.next().await? {
            w.write_all(&chunk).map_err(io_err)?;
        }
        w.flush().map_err(io_err)?;
        drop(w);
        // No fsync: a SIGKILL loses nothing written, and a reused blob is re-verified (pull.rs).
        tmp.persist(&dest).map_err(io_err)?;
        Ok(dest)
    }

    /// Streams blob `digest` into `pipe` (the layer unpacker) as its reader takes it, and
    /// nowhere else: the unpacked layer is what is kept. A pipe whose reader went away is
    /// dropped and the download goes on to its end, so that a corrupt blob is still named.
    /// Ok only when the whole blob came and matched its digest.
    pub async fn blob_to_pipe(
        &self,
        r: &Reference,
        desc: &OciDescriptor,
        pipe: tokio::net::unix::pipe::Sender,
        mut progress: impl FnMut(u64),
    ) -> Result<(), RegistryError> {
        use tokio::io::AsyncWriteExt;
        let mut chunks = self.blob_chunks(r, desc).await?;
        let mut pipe = Some(pipe);
        while let Some(chunk) = chunks.next().await? {
            if let Some(p) = pipe.as_mut()
                && p.write_all(&chunk).await.is_err()
            {
                pipe = None;
            }
            progress(chunk.len() as u64);
        }
        Ok(())
    }

    /// The blob's bytes as they come. oci-client hashes them and ends the stream with an
    /// error unless they match the digest: that one hash is the check.
    async fn blob_chunks<'a>(
        &'a self,
        r: &Reference,
        desc: &'a OciDescriptor,
    ) -> Result<BlobChunks<'a>, RegistryError> {
        let oref = Self::oci_ref(r, &desc.digest);
        let stream = self.client.pull_blob_stream(&oref, desc).await.map_err(|e| self.map_err(r, "blob", e))?;
        Ok(BlobChunks { stream, received: 0, registry: &self.registry, desc })
    }

    /// Checks credentials against the registry (`GET /v2/` with them), as `login` does.
    pub async fn check_login(&self, probe: &Reference) -> Result<(), RegistryError> {
        let oref = Self::oci_ref(probe, "latest");
        match self.client.auth(&oref, &self.auth, oci_client::RegistryOperation::Pull).await {
            Ok(_) => {}
            Err(e) => return Err(self.map_err(probe, "login", e)),
        }
        // With Basic auth oci-client does not itself test the password: ask /v2/.
        let scheme = if needs_plain_http(&self.registry).await { "http" } else { "https" };
        let c = http_client(true).map_err(|e| request_error(&self.registry, "login", &e))?;
        let mut req = c.get(format!("{scheme}://{}/v2/", self.registry));
        if let RegistryAuth::Basic(u, p) = &self.auth {
            req = req.basic_auth(u, Some(p));
        }
        let resp = req.send().await.map_err(|e| request_error(&self.registry, "login", &e))?;
        let bearer = resp
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|h| h.to_str().ok())
            .is_some_and(|h| h.to_ascii_lowercase().starts_with("bearer"));
        match resp.status().as_u16() {
            200..=299 => Ok(()),
            // A token registry answers 401 to /v2/ whatever the password; the token request
            // in auth() above already succeeded.
            401 if bearer => Ok(()),
            401 => Err(self.unauthorized()),
            code => Err(RegistryError::Protocol {
                registry: self.registry.clone(),
                what: "login".into(),
                reason: format!("HTTP {code}"),
            }),
        }
    }
}

/// True when a TLS handshake got a plain HTTP answer (rustls reads "HTTP/1.1 ..." as a
/// record of an invalid content type).
fn is_plain_http_answer(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.to_string().contains("InvalidContentType") {
            return true;
        }
        if let Some(io) = err.downcast_ref::<io::Error>()
            && let Some(inner) = io.get_ref()
            && inner.to_string().contains("InvalidContentType")
        {
            return true;
        }
        cur = err.source();
    }
    false
}

pub(super) fn request_error(registry: &str, what: &str, e: &reqwest::Error) -> RegistryError {
    if is_plain_http_answer(e) {
        return RegistryError::PlainHttp { registry: registry.into() };
    }
    if e.is_connect() || e.is_timeout() {
        RegistryError::Unreachable { registry: registry.into(), reason: innermost(e) }
    } else {
        RegistryError::Protocol { registry: registry.into(), what: what.into(), reason: e.to_string() }
    }
}

/// The media type of a manifest body: its mediaType field, else guessed from its keys.
pub fn manifest_media_type(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    if let Some(mt) = v.get("mediaType").and_then(|m| m.as_str()) {
        return mt.to_string();
    }
    if v.get("manifests").is_some() {
        OCI_INDEX.into()
    } else if v.get("schemaVersion").and_then(|s| s.as_i64()) == Some(1) {
        DOCKER_SCHEMA1.into()
    } else {
        OCI_MANIFEST.into()
    }
}

/// A blob's body, verified by oci-client as it ends, with the bytes received so far.
struct BlobChunks<'a> {
    stream: oci_client::client::SizedStream,
    received: u64,
    registry: &'a str,
    desc: &'a OciDescriptor,
}

impl BlobChunks<'_> {
    /// The next chunk; None at the verified end. A digest mismatch becomes our error, with
    /// the digest the bytes had.
    async fn next(&mut self) -> Result<Option<bytes::Bytes>, RegistryError> {
        let (registry, desc) = (self.registry.to_string(), self.desc);
        let protocol = |reason| RegistryError::Protocol {
            registry: registry.clone(),
            what: format!("blob {}", desc.digest),
            reason,
        };
        match self.stream.next().await {
            None => Ok(None),
            Some(Ok(chunk)) => {
                self.received += chunk.len() as u64;
                // More than the descriptor's size can never match its digest: a registry
                // sending without end is stopped here, not when the disk is full.
                if desc.size > 0 && self.received > desc.size as u64 {
                    return Err(protocol(format!("more than the {} bytes the manifest gives", desc.size)));
                }
                Ok(Some(chunk))
            }
            Some(Err(e)) => match e.get_ref().and_then(|i| i.downcast_ref::<oci_client::errors::DigestError>()) {
                Some(oci_client::errors::DigestError::VerificationError { actual, .. }) => {
                    Err(RegistryError::DigestMismatch { registry, digest: desc.digest.clone(), actual: actual.clone() })
                }
                _ => Err(protocol(e.to_string())),
            },
        }
    }
}

/// A blob file being written (downloaded, or compressed for a push) that has no name until
/// it is complete.
pub(crate) struct TempBlob {
    pub(crate) file: File,
    named: Option<PathBuf>,
}

impl TempBlob {
    pub(crate) fn create(dir: &Path) -> io::Result<TempBlob> {
        match OpenOptions::new().read(true).write(true).custom_flags(libc::O_TMPFILE).mode(0o600).open(dir) {
            Ok(file) => Ok(TempBlob { file, named: None }),
            Err(_) => {
                let p = dir.join(format!(".partial-{}-{}", std::process::id(), crate::util::nonce()));
                let file = OpenOptions::new().read(true).write(true).create_new(true).mode(0o600).open(&p)?;
                Ok(TempBlob { file, named: Some(p) })
            }
        }
    }

    /// Gives the file its name `dest` (an existing file of that name is kept: same digest).
    pub(crate) fn persist(mut self, dest: &Path) -> io::Result<()> {
        let res = match self.named.take() {
            Some(p) => fs::rename(&p, dest),
            None => {
                let src = format!("/proc/self/fd/{}", self.file.as_raw_fd());
                match nix::unistd::linkat(
                    nix::fcntl::AT_FDCWD,
                    src.as_str(),
                    nix::fcntl::AT_FDCWD,
                    dest,
                    nix::fcntl::AtFlags::AT_SYMLINK_FOLLOW,
                ) {
                    Ok(()) => Ok(()),
                    // Another pull or push stored it first (whoever reuses a blob checks it).
                    Err(nix::errno::Errno::EEXIST) => Ok(()),
                    Err(e) => Err(io::Error::from(e)),
                }
            }
        };
        if let Some(d) = dest.parent().and_then(|d| File::open(d).ok()) {
            let _ = d.sync_all();
        }
        res
    }
}

impl Drop for TempBlob {
    fn drop(&mut self) {
        if let Some(p) = self.named.take() {
            let _ = fs::remove_file(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_while_building_the_client_becomes_the_matching_error() {
        assert_eq!(catch_quietly(|| 7), Ok(7));
        let why = catch_quietly(|| -> u8 { panic!("Client::new(): No CA certificates were loaded from the system") })
            .unwrap_err();
        assert!(matches!(tls_setup_error("r", why), RegistryError::NoCaCertificates { .. }));
        let why = catch_quietly(|| -> u8 { panic!("something else") }).unwrap_err();
        assert!(
            matches!(tls_setup_error("r", why), RegistryError::Protocol { ref reason, .. } if reason == "something else")
        );
        // Only the catching thread was quiet.
        assert!(!QUIET_PANIC.with(std::cell::Cell::get));
    }

    /// A chunk reader of `items` for blob `desc` of registry "r".
    fn chunks(items: Vec<io::Result<bytes::Bytes>>, desc: &OciDescriptor) -> BlobChunks<'_> {
        let stream = futures_util::stream::iter(items).boxed();
        let stream = oci_client::client::SizedStream { content_length: None, digest_header_value: None, stream };
        BlobChunks { stream, received: 0, registry: "r", desc }
    }

    fn bytes(parts: &[&'static [u8]]) -> Vec<io::Result<bytes::Bytes>> {
        parts.iter().map(|p| Ok(bytes::Bytes::from_static(p))).collect()
    }

    #[test]
    fn a_blob_is_cut_off_past_its_size_and_a_mismatch_names_both_digests() {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let desc = OciDescriptor { digest: "sha256:ab".into(), size: 6, ..Default::default() };
        let got = rt.block_on(async {
            let mut c = chunks(bytes(&[b"abc", b"def"]), &desc);
            (c.next().await.unwrap(), c.next().await.unwrap(), c.next().await.unwrap())
        });
        assert_eq!((got.0.as_deref(), got.1.as_deref(), got.2), (Some(&b"abc"[..]), Some(&b"def"[..]), None));
        let over = rt.block_on(async {
            let mut c = chunks(bytes(&[b"abcd", b"efg"]), &desc);
            c.next().await.unwrap();
            c.next().await
        });
        assert!(
            matches!(over, Err(RegistryError::Protocol { ref reason, .. }) if reason.contains("6 bytes")),
            "{over:?}"
        );
        let mismatch = rt.block_on(async {
            let e = oci_client::errors::DigestError::VerificationError {
                expected: "sha256:ab".into(),
                actual: "sha256:cd".into(),
            };
            chunks(vec![Err(io::Error::other(e))], &desc).next().await
        });
        assert!(
            matches!(mismatch, Err(RegistryError::DigestMismatch { ref actual, .. }) if actual == "sha256:cd"),
            "{mismatch:?}"
        );
    }
}
