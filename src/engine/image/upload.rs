//! The upload side of the registry client: push authorisation (anonymous, Basic, or a Bearer
//! token with push scope on the target and pull scope on the repositories blobs are mounted
//! from), blob existence checks, cross-repository mounts, streamed monolithic blob uploads from
//! files (never read into memory), manifest uploads; 5xx answers and broken connections are
//! retried with back-off. Knows nothing of the local store.

use super::registry::{RegistryClient, RegistryError, request_error};
use bytes::Bytes;
use reqwest::{Response, StatusCode};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// How requests of one push authenticate.
#[derive(Clone, Debug)]
pub enum PushAuth {
    Anonymous,
    Basic(String, String),
    Bearer(String),
}

/// How often and how long to wait before trying a failed request again (`--retry`,
/// `--retry-delay`; without a delay: 2 s, doubling).
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    pub attempts: u32,
    pub delay: Option<Duration>,
}

impl Default for Retry {
    fn default() -> Self {
        Retry { attempts: 3, delay: None }
    }
}

/// A blob file to upload: where it is, its digest and size, and whether the upload checks
/// that digest on the way (a blob stored earlier, which may have been damaged since) or not
/// (one the compressor has just written and hashed).
#[derive(Clone, Copy)]
pub struct BlobFile<'a> {
    pub path: &'a Path,
    pub digest: &'a str,
    pub size: u64,
    pub check: bool,
}

/// What a mount request did.
pub enum Mounted {
    Yes,
    /// The registry did not mount; it opened an upload session at this URL instead.
    No(String),
}

/// Either worth another try (5xx, connection lost), or not.
enum Failure {
    Again(RegistryError),
    Final(RegistryError),
}

impl From<RegistryError> for Failure {
    fn from(e: RegistryError) -> Self {
        Failure::Final(e)
    }
}

/// The parameters of a `WWW-Authenticate: Bearer realm="...",service="..."` challenge.
fn bearer_challenge(header: &str) -> Option<Vec<(String, String)>> {
    let rest = header.trim().strip_prefix("Bearer").or_else(|| header.trim().strip_prefix("bearer"))?;
    let mut out = Vec::new();
    let mut chars = rest.trim().chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| *c == ',' || c.is_whitespace()) {
            chars.next();
        }
        let key: String = chars.by_ref().take_while(|c| *c != '=').collect::<String>().trim().to_string();
        if key.is_empty() {
            break;
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut escaped = false;
            for c in chars.by_ref() {
                match (escaped, c) {
                    (false, '\\') => escaped = true,
                    (false, '"') => break,
                    (_, c) => {
                        value.push(c);
                        escaped = false;
                    }
                }
            }
        } else {
            value = chars.by_ref().take_while(|c| *c != ',').collect::<String>().trim().to_string();
        }
        out.push((key.to_ascii_lowercase(), value));
    }
    Some(out)
}

impl RegistryClient {
    fn url(&self, path: &str) -> String {
        format!("{}://{}/v2/{path}", self.scheme, self.registry)
    }

    fn with_auth(&self, req: reqwest::RequestBuilder, auth: &PushAuth) -> reqwest::RequestBuilder {
        match auth {
            PushAuth::Anonymous => req,
            PushAuth::Basic(u, p) => req.basic_auth(u, Some(p)),
            PushAuth::Bearer(t) => req.bearer_auth(t),
        }
    }

    /// Finds how to push to `repository` (and mount blobs from `sources`, repositories of
    /// this registry): asks `/v2/` for its challenge and gets a token if it wants one.
    pub async fn push_auth(&self, repository: &str, sources: &[String]) -> Result<PushAuth, RegistryError> {
        let resp = self
            .http()?
            .get(self.url(""))
            .timeout(Duration::from_secs(30))
            .send()
            .await
            .map_err(|e| request_error(&self.registry, "push", &e))?;
        let basic = self.creds.as_ref().map(|c| PushAuth::Basic(c.username.clone(), c.password.clone()));
        if resp.status() != StatusCode::UNAUTHORIZED {
            return Ok(basic.unwrap_or(PushAuth::Anonymous));
        }
        let challenge = resp
            .headers()
            .get(reqwest::header::WWW_AUTHENTICATE)
            .and_then(|h| h.to_str().ok())
            .and_then(bearer_challenge);
        let Some(params) = challenge else {
            return basic.ok_or_else(|| self.unauthorized());
        };
        let get = |k: &str| params.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let realm = get("realm").ok_or_else(|| RegistryError::Protocol {
            registry: self.registry.clone(),
            what: "push".into(),
            reason: "Bearer challenge without a realm".into(),
        })?;
        let mut query: Vec<(&str, String)> = Vec::new();
        if let Some(s) = get("service") {
            query.push(("service", s));
        }
        query.push(("scope", format!("repository:{repository}:pull,push")));
        for s in sources.iter().filter(|s| *s != repository) {
            query.push(("scope", format!("repository:{s}:pull")));
        }
        let mut req = self.http()?.get(&realm).query(&query).timeout(Duration::from_secs(30));
        if let Some(c) = &self.creds {
            req = req.basic_auth(&c.username, Some(&c.password));
        }
        let resp = req.send().await.map_err(|e| request_error(&self.registry, "token", &e))?;
        match resp.status().as_u16() {
            200..=299 => {}
            401 | 403 if self.creds.is_some() => {
                return Err(RegistryError::AuthFailed { registry: self.registry.clone() });
            }
            401 | 403 => return Err(self.unauthorized()),
            code => {
                return Err(RegistryError::Protocol {
                    registry: self.registry.clone(),
                    what: "token".into(),
                    reason: format!("HTTP {code} from {realm}"),
                });
            }
        }
        let body: serde_json::Value = resp.json().await.map_err(|e| request_error(&self.registry, "token", &e))?;
        let token = body.get("token").or_else(|| body.get("access_token")).and_then(|t| t.as_str());
        match token {
            Some(t) if !t.is_empty() => Ok(PushAuth::Bearer(t.to_string())),
            _ => Err(RegistryError::Protocol {
                registry: self.registry.clone(),
                what: "token".into(),
                reason: format!("no token in the answer of {realm}"),
            }),
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or `retry` is used up.
    async fn retrying<T, F, Fut>(&self, retry: Retry, mut attempt: F) -> Result<T, RegistryError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Failure>>,
    {
        let mut delay = retry.delay.unwrap_or(Duration::from_secs(2));
        let mut left = retry.attempts;
        loop {
            match attempt().await {
                Ok(v) => return Ok(v),
                Err(Failure::Final(e)) => return Err(e),
                Err(Failure::Again(e)) if left == 0 => return Err(e),
                Err(Failure::Again(e)) => {
                    tracing::info!("{e}; trying again in {delay:?}");
                    tokio::time::sleep(delay).await;
                    left -= 1;
                    if retry.delay.is_none() {
                        delay *= 2;
                    }
                }
            }
        }
    }

    fn sent(&self, what: &str, r: Result<Response, reqwest::Error>) -> Result<Response, Failure> {
        match r {
            Ok(resp) if resp.status().is_server_error() => Err(Failure::Again(RegistryError::Protocol {
                registry: self.registry.clone(),
                what: what.into(),
                reason: format!("HTTP {}", resp.status().as_u16()),
            })),
            Ok(resp) => Ok(resp),
            Err(e) => {
                let err = request_error(&self.registry, what, &e);
                if matches!(err, RegistryError::PlainHttp { .. }) || e.is_builder() {
                    Err(Failure::Final(err))
                } else {
                    Err(Failure::Again(err))
                }
            }
        }
    }

    /// The user-facing error for an unexpected answer.
    async fn refused(&self, what: &str, reference: &str, resp: Response) -> RegistryError {
        let code = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        let msg = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| {
                let errs = v.get("errors")?.as_array()?.clone();
                Some(
                    errs.iter()
                        .filter_map(|e| e.get("message").and_then(|m| m.as_str()).map(str::to_string))
                        .collect::<Vec<_>>()
                        .join("; "),
                )
            })
            .filter(|m| !m.is_empty())
            .unwrap_or_else(|| body.trim().chars().take(200).collect());
        match code {
            401 => self.unauthorized(),
            403 => RegistryError::Denied { reference: reference.into(), registry: self.registry.clone() },
            _ => RegistryError::Protocol {
                registry: self.registry.clone(),
                what: what.into(),
                reason: format!("HTTP {code}: {}", msg.replace('\n', " ")),
            },
        }
    }

    /// Whether `repository` has blob `digest`.
    pub async fn has_blob(
        &self,
        auth: &PushAuth,
        repository: &str,
        digest: &str,
        retry: Retry,
    ) -> Result<bool, RegistryError> {
        let url = self.url(&format!("{repository}/blobs/{digest}"));
        self.retrying(retry, || async {
            let resp = self.sent("blob check", self.with_auth(self.http()?.head(&url), auth).send().await)?;
            match resp.status().as_u16() {
                200..=299 => Ok(true),
                404 => Ok(false),
                _ => Err(Failure::Final(self.refused("blob check", repository, resp).await)),
            }
        })
        .await
    }

    /// Asks the registry to mount blob `digest` of repository `from` into `repository`.
    pub async fn mount_blob(
        &self,
        auth: &PushAuth,
        repository: &str,
        digest: &str,
        from: &str,
        retry: Retry,
    ) -> Result<Mounted, RegistryError> {
        let url = self.url(&format!("{repository}/blobs/uploads/"));
        self.retrying(retry, || async {
            let req = self.http()?.post(&url).query(&[("mount", digest), ("from", from)]).header("Content-Length", "0");
            let resp = self.sent("blob mount", self.with_auth(req, auth).send().await)?;
            match resp.status().as_u16() {
                201 => Ok(Mounted::Yes),
                202 => Ok(Mounted::No(self.location(&url, &resp)?)),
                _ => Err(Failure::Final(self.refused("blob mount", repository, resp).await)),
            }
        })
        .await
    }

    fn location(&self, base: &str, resp: &Response) -> Result<String, Failure> {
        let loc = resp.headers().get(reqwest::header::LOCATION).and_then(|l| l.to_str().ok());
        let joined = loc.and_then(|l| reqwest::Url::parse(base).ok()?.join(l).ok());
        joined.map(|u| u.to_string()).ok_or_else(|| {
            Failure::Final(RegistryError::Protocol {
                registry: self.registry.clone(),
                what: "blob upload".into(),
                reason: "no upload location in the answer".into(),
            })
        })
    }

    /// Uploads `blob` to `repository`, streaming it in one PUT and, when asked, hashing it on
    /// the way (`StoredBlobCorrupt`, nothing committed, when it does not match), reporting
    /// the bytes read to `progress`. `session` is an upload URL the registry opened already
    /// (a refused mount); a retry opens a new one.
    pub async fn upload_blob(
        &self,
        auth: &PushAuth,
        repository: &str,
        blob: &BlobFile<'_>,
        session: Option<String>,
        retry: Retry,
        progress: Arc<dyn Fn(u64) + Send + Sync>,
    ) -> Result<(), RegistryError> {
        let BlobFile { path, digest, size, check } = *blob;
        let start_url = self.url(&format!("{repository}/blobs/uploads/"));
        let session = std::sync::Mutex::new(session);
        self.retrying(retry, || async {
            let opened = session.lock().ok().and_then(|mut s| s.take());
            let location = match opened {
                Some(l) => l,
                None => {
                    let req = self.with_auth(self.http()?.post(&start_url).header("Content-Length", "0"), auth);
                    let resp = self.sent("blob upload", req.send().await)?;
                    if resp.status() != StatusCode::ACCEPTED {
                        return Err(Failure::Final(self.refused("blob upload", repository, resp).await));
                    }
                    self.location(&start_url, &resp)?
                }
            };
            let mut url = reqwest::Url::parse(&location).map_err(|e| {
                Failure::Final(RegistryError::Protocol {
                    registry: self.registry.clone(),
                    what: "blob upload".into(),
                    reason: format!("bad upload location {location}: {e}"),
                })
            })?;
            url.query_pairs_mut().append_pair("digest", digest);
            let file = tokio::fs::File::open(path)
                .await
                .map_err(|e| Failure::Final(RegistryError::Io { path: path.to_path_buf(), source: e }))?;
            let corrupt = Arc::new(AtomicBool::new(false));
            let want = check.then_some(digest);
            let body = reqwest::Body::wrap_stream(file_chunks(file, want, progress.clone(), corrupt.clone()));
            let req = self
                .http()?
                .put(url)
                .header("Content-Type", "application/octet-stream")
                .header("Content-Length", size.to_string())
                .body(body);
            let sent = self.with_auth(req, auth).send().await;
            if corrupt.load(Ordering::Relaxed) {
                let (path, digest) = (path.to_path_buf(), digest.to_string());
                return Err(Failure::Final(RegistryError::StoredBlobCorrupt { path, digest }));
            }
            let resp = self.sent(&format!("blob {digest}"), sent)?;
            match resp.status().as_u16() {
                201 | 204 => Ok(()),
                _ => Err(Failure::Final(self.refused(&format!("blob {digest}"), repository, resp).await)),
            }
        })
        .await
    }

    /// Uploads a small blob (an image config) from memory.
    pub async fn upload_bytes(
        &self,
        auth: &PushAuth,
        repository: &str,
        data: &[u8],
        digest: &str,
        retry: Retry,
    ) -> Result<(), RegistryError> {
        let start_url = self.url(&format!("{repository}/blobs/uploads/"));
        let data = Bytes::copy_from_slice(data);
        self.retrying(retry, || async {
            let req = self.with_auth(self.http()?.post(&start_url).header("Content-Length", "0"), auth);
            let resp = self.sent("blob upload", req.send().await)?;
            if resp.status() != StatusCode::ACCEPTED {
                return Err(Failure::Final(self.refused("blob upload", repository, resp).await));
            }
            let location = self.location(&start_url, &resp)?;
            let mut url = reqwest::Url::parse(&location).map_err(|e| {
                Failure::Final(RegistryError::Protocol {
                    registry: self.registry.clone(),
                    what: "blob upload".into(),
                    reason: format!("bad upload location {location}: {e}"),
                })
            })?;
            url.query_pairs_mut().append_pair("digest", digest);
            let req = self.http()?.put(url).header("Content-Type", "application/octet-stream").body(data.clone());
            let resp = self.sent(&format!("blob {digest}"), self.with_auth(req, auth).send().await)?;
            match resp.status().as_u16() {
                201 | 204 => Ok(()),
                _ => Err(Failure::Final(self.refused(&format!("blob {digest}"), repository, resp).await)),
            }
        })
        .await
    }

    /// Uploads a manifest as `reference` (a tag or its digest) of `repository`.
    pub async fn put_manifest(
        &self,
        auth: &PushAuth,
        repository: &str,
        reference: &str,
        media_type: &str,
        body: &[u8],
        retry: Retry,
    ) -> Result<(), RegistryError> {
        let url = self.url(&format!("{repository}/manifests/{reference}"));
        let body = Bytes::copy_from_slice(body);
        self.retrying(retry, || async {
            let req = self.http()?.put(&url).header("Content-Type", media_type).body(body.clone());
            let resp = self.sent("manifest", self.with_auth(req, auth).send().await)?;
            match resp.status().as_u16() {
                200..=299 => Ok(()),
                _ => Err(Failure::Final(self.refused("manifest", repository, resp).await)),
            }
        })
        .await
    }
}

/// The file as a stream of chunks, each counted by `seen` as it is read, checked against
/// `digest` (when given) on the way: the last chunk is held back until the whole file has
/// hashed to it, so a stored blob that does not match ends the body with an error (and sets
/// `corrupt`) before a registry could take it.
fn file_chunks(
    file: tokio::fs::File,
    digest: Option<&str>,
    seen: Arc<dyn Fn(u64) + Send + Sync>,
    corrupt: Arc<AtomicBool>,
) -> impl futures_util::Stream<Item = std::io::Result<Bytes>> + Send + 'static {
    use sha2::Digest;
    use tokio::io::AsyncReadExt;
    struct Reading {
        file: tokio::fs::File,
        /// The hash so far and the hex digest it must end as.
        check: Option<(sha2::Sha256, String)>,
        held: Option<Bytes>,
        seen: Arc<dyn Fn(u64) + Send + Sync>,
        corrupt: Arc<AtomicBool>,
    }
    let check = digest.map(|d| (sha2::Sha256::new(), d.strip_prefix("sha256:").unwrap_or(d).to_string()));
    let first = Reading { file, check, held: None, seen, corrupt };
    futures_util::stream::unfold(Some(first), |state| async move {
        let mut st = state?;
        loop {
            let mut buf = vec![0u8; 512 << 10];
            match st.file.read(&mut buf).await {
                Err(e) => return Some((Err(e), None)),
                Ok(0) => {
                    if let Some((hasher, want)) = st.check.take()
                        && hex::encode(hasher.finalize()) != want
                    {
                        st.corrupt.store(true, Ordering::Relaxed);
                        let e =
                            std::io::Error::new(std::io::ErrorKind::InvalidData, "blob file does not match its digest");
                        return Some((Err(e), None));
                    }
                    return st.held.take().map(|last| (Ok(last), None));
                }
                Ok(n) => {
                    buf.truncate(n);
                    if let Some((hasher, _)) = st.check.as_mut() {
                        hasher.update(&buf);
                    }
                    (st.seen)(n as u64);
                    if let Some(before) = st.held.replace(Bytes::from(buf)) {
                        return Some((Ok(before), Some(st)));
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn bearer_challenges_are_parsed() {
        let p = super::bearer_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:a/b:pull,push""#,
        )
        .unwrap();
        assert_eq!(p[0], ("realm".into(), "https://auth.docker.io/token".into()));
        assert_eq!(p[1], ("service".into(), "registry.docker.io".into()));
        assert_eq!(p[2], ("scope".into(), "repository:a/b:pull,push".into()));
        assert!(super::bearer_challenge(r#"Basic realm="x""#).is_none());
    }
}
