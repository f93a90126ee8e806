//! Registry credentials where Podman and Docker keep them: looking them up in auth.json,
//! ~/.docker/config.json and ~/.dockercfg (with credential helpers), and the login/logout
//! edits of one auth file. Must not talk to registries or parse image references.

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use serde_json::{Map, Value};
use std::fs;
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

/// Docker Hub's key in Docker's config.json, and the address its credential helpers expect.
const DOCKER_HUB_V1: &str = "https://index.docker.io/v1/";

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("auth file {path}: invalid JSON at line {line}, column {column}: {message}")]
    Json { path: String, line: usize, column: usize, message: String },
    #[error("auth file {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("auth file {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("credential helper docker-credential-{helper} (configured in {path}) failed for {server}: {message}")]
    Helper { helper: String, path: String, server: String, message: String },
    #[error("invalid registry key \"{key}\": {reason}")]
    InvalidKey { key: String, reason: String },
}

/// A user name and password (or token) for one registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials").field("username", &self.username).field("password", &"<redacted>").finish()
    }
}

/// The environment values that choose the auth files.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthEnv {
    /// `$REGISTRY_AUTH_FILE`
    pub registry_auth_file: Option<PathBuf>,
    /// `$XDG_CONFIG_HOME` (absolute values only, per the XDG spec)
    pub xdg_config_home: Option<PathBuf>,
    /// `$DOCKER_CONFIG` (a directory holding config.json)
    pub docker_config: Option<PathBuf>,
}

impl AuthEnv {
    pub fn from_process() -> AuthEnv {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        AuthEnv {
            registry_auth_file: var("REGISTRY_AUTH_FILE"),
            xdg_config_home: var("XDG_CONFIG_HOME").filter(|p| p.is_absolute()),
            docker_config: var("DOCKER_CONFIG"),
        }
    }
}

/// One file to search, and whether it is the legacy ~/.dockercfg layout (no "auths" wrapper,
/// keys are URLs or hosts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthFile {
    pub path: PathBuf,
    pub legacy: bool,
}

fn display(p: &Path) -> String {
    p.display().to_string()
}

fn config_home(env: &AuthEnv, home: &Path) -> PathBuf {
    env.xdg_config_home.clone().unwrap_or_else(|| home.join(".config"))
}

/// Where `login` writes by default: $REGISTRY_AUTH_FILE, else
/// `<runtime_dir_base>/containers/auth.json` (Podman's default), else
/// `$XDG_CONFIG_HOME/containers/auth.json` (~/.config when unset).
pub fn auth_file_for_write(home: &Path, runtime_dir_base: Option<&Path>) -> PathBuf {
    auth_file_for_write_in(&AuthEnv::from_process(), home, runtime_dir_base)
}

/// [`auth_file_for_write`] with the environment given.
pub fn auth_file_for_write_in(env: &AuthEnv, home: &Path, runtime_dir_base: Option<&Path>) -> PathBuf {
    if let Some(p) = &env.registry_auth_file {
        return p.clone();
    }
    match runtime_dir_base {
        Some(r) => r.join("containers/auth.json"),
        None => config_home(env, home).join("containers/auth.json"),
    }
}

/// The files searched for credentials, in Podman's order. A file named by `--authfile` or
/// `$REGISTRY_AUTH_FILE` is the only one searched (as in Podman); otherwise:
/// `<runtime_dir_base>/containers/auth.json`, `$XDG_CONFIG_HOME/containers/auth.json`,
/// `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`, and `~/.dockercfg`.
pub fn auth_files(
    env: &AuthEnv,
    home: &Path,
    runtime_dir_base: Option<&Path>,
    explicit: Option<&Path>,
) -> Vec<AuthFile> {
    let file = |p: PathBuf| AuthFile { path: p, legacy: false };
    if let Some(p) = explicit.map(Path::to_path_buf).or_else(|| env.registry_auth_file.clone()) {
        return vec![file(p)];
    }
    let mut out = Vec::with_capacity(4);
    if let Some(r) = runtime_dir_base {
        out.push(file(r.join("containers/auth.json")));
    }
    out.push(file(config_home(env, home).join("containers/auth.json")));
    out.push(file(env.docker_config.clone().unwrap_or_else(|| home.join(".docker")).join("config.json")));
    out.push(AuthFile { path: home.join(".dockercfg"), legacy: true });
    out
}

/// Docker Hub's host names all mean one registry when comparing auth keys.
fn normalize_registry(r: &str) -> &str {
    match r {
        "docker.io" | "registry-1.docker.io" | "index.docker.io" => "index.docker.io",
        other => other,
    }
}

/// An auth-file key as a host: URL keys ("https://host/v1/") and legacy keys lose their
/// scheme and path.
fn normalize_key(key: &str, legacy: bool) -> &str {
    let stripped = key.strip_prefix("http://").or_else(|| key.strip_prefix("https://")).unwrap_or(key);
    let host =
        if legacy || stripped.len() != key.len() { stripped.split('/').next().unwrap_or(stripped) } else { stripped };
    normalize_registry(host)
}

/// What one file says about a registry.
#[derive(Debug, PartialEq, Eq)]
pub enum Found {
    Credentials(Credentials),
    /// Ask `docker-credential-<helper>` for `server`. `explicit` is true for a credHelpers
    /// entry naming this registry, false for the catch-all credsStore.
    Helper {
        helper: String,
        server: String,
        explicit: bool,
    },
    Nothing,
}

fn parse_json(text: &str, path: &Path) -> Result<Value, AuthError> {
    serde_json::from_str(text).map_err(|e| AuthError::Json {
        path: display(path),
        line: e.line(),
        column: e.column(),
        message: strip_position(&e.to_string()),
    })
}

/// serde_json appends " at line L column C"; the error already says so.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn b64_lenient() -> GeneralPurpose {
    GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    )
}

/// Decodes one "auths" entry. Entries without usable credentials (Docker writes `{}` when a
/// helper holds the secret; identity tokens are not supported) yield None.
fn decode_entry(entry: &Value, key: &str, path: &Path) -> Result<Option<Credentials>, AuthError> {
    let s = |k: &str| entry.get(k).and_then(Value::as_str).filter(|v| !v.is_empty());
    if let Some(auth) = s("auth") {
        let bytes = b64_lenient().decode(auth.trim()).map_err(|_| AuthError::Invalid {
            path: display(path),
            message: format!("the \"auth\" value of \"{key}\" is not valid base64"),
        })?;
        let text = String::from_utf8_lossy(&bytes);
        return Ok(match text.split_once(':') {
            Some((user, pass)) => {
                Some(Credentials { username: user.to_string(), password: pass.trim_matches('\0').to_string() })
            }
            None => {
                tracing::warn!("auth file {}: the \"auth\" value of \"{key}\" has no ':'; ignoring it", path.display());
                None
            }
        });
    }
    if let (Some(u), Some(p)) = (s("username"), s("password")) {
        return Ok(Some(Credentials { username: u.to_string(), password: p.to_string() }));
    }
    if s("identitytoken").is_some() {
        tracing::debug!("auth file {}: \"{key}\" holds an identity token, which kiste does not use", path.display());
    }
    Ok(None)
}

/// The address Docker's credential helpers know a registry by.
fn helper_server(registry: &str) -> String {
    if normalize_registry(registry) == "index.docker.io" { DOCKER_HUB_V1.to_string() } else { registry.to_string() }
}

/// Looks `registry` (and `registry/repository`) up in one file's contents, in
/// containers-image's order: a credHelpers entry for the registry; then "auths" keys from the
/// most specific (`host/ns/repo`, `host/ns`, `host`) down, exact; then any key naming the same
/// host ("https://host/...", and "https://index.docker.io/v1/" for docker.io); lastly Docker's
/// credsStore.
pub fn find_in_text(text: &str, file: &AuthFile, registry: &str, repository: &str) -> Result<Found, AuthError> {
    if text.trim().is_empty() {
        return Ok(Found::Nothing);
    }
    let root = parse_json(text, &file.path)?;
    let Some(root) = root.as_object() else {
        return Err(AuthError::Invalid { path: display(&file.path), message: "top level is not a JSON object".into() });
    };
    let want = normalize_registry(registry);
    let (auths, helpers, store) = if file.legacy {
        (Some(root), None, None)
    } else {
        let obj = |k: &str| -> Result<Option<&Map<String, Value>>, AuthError> {
            match root.get(k) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Object(m)) => Ok(Some(m)),
                Some(_) => Err(AuthError::Invalid {
                    path: display(&file.path),
                    message: format!("\"{k}\" is not a JSON object"),
                }),
            }
        };
        let store = root.get("credsStore").and_then(Value::as_str).filter(|s| !s.is_empty());
        (obj("auths")?, obj("credHelpers")?, store)
    };

    if let Some(h) = helpers {
        let named = h.get(registry).or_else(|| {
            let mut keys: Vec<&String> = h.keys().filter(|k| normalize_key(k, false) == want).collect();
            keys.sort();
            keys.first().and_then(|k| h.get(*k))
        });
        if let Some(helper) = named.and_then(Value::as_str).filter(|s| !s.is_empty()) {
            return Ok(Found::Helper { helper: helper.to_string(), server: helper_server(registry), explicit: true });
        }
    }

    if let Some(auths) = auths {
        let mut keys: Vec<String> = Vec::new();
        if file.legacy || repository.is_empty() {
            keys.push(registry.to_string());
        } else {
            let mut k = format!("{registry}/{repository}");
            loop {
                keys.push(k.clone());
                match k.rfind('/') {
                    Some(i) => k.truncate(i),
                    None => break,
                }
            }
        }
        // The first key present decides, even when its entry is empty (as containers-image).
        let exact = keys.iter().find_map(|k| auths.get(k).map(|v| (k.as_str(), v)));
        let entry = exact.or_else(|| {
            let mut matching: Vec<(&str, &Value)> = auths
                .iter()
                .filter(|(k, _)| normalize_key(k, file.legacy) == want)
                .map(|(k, v)| (k.as_str(), v))
                .collect();
            matching.sort_by(|a, b| a.0.cmp(b.0));
            matching.first().copied()
        });
        if let Some((key, value)) = entry
            && let Some(c) = decode_entry(value, key, &file.path)?
        {
            return Ok(Found::Credentials(c));
        }
    }

    if let Some(store) = store {
        return Ok(Found::Helper { helper: store.to_string(), server: helper_server(registry), explicit: false });
    }
    Ok(Found::Nothing)
}

/// Asks `docker-credential-<helper>` through the docker_credential crate.
fn ask_helper(helper: &str, server: &str, path: &Path) -> Result<Option<Credentials>, AuthError> {
    use docker_credential::{CredentialRetrievalError as E, DockerCredential};
    let config = serde_json::json!({ "credsStore": helper }).to_string();
    let fail = |message: String| AuthError::Helper {
        helper: helper.to_string(),
        path: display(path),
        server: server.to_string(),
        message,
    };
    match docker_credential::get_credential_from_reader(config.as_bytes(), server) {
        Ok(DockerCredential::UsernamePassword(username, password)) => Ok(Some(Credentials { username, password })),
        Ok(DockerCredential::IdentityToken(_)) => {
            tracing::debug!(
                "docker-credential-{helper} returned an identity token for {server}, which kiste does not use"
            );
            Ok(None)
        }
        Err(E::HelperFailure { stdout, stderr, .. }) => {
            let said = |s: &str| s.to_ascii_lowercase().contains("credentials not found");
            if said(&stdout) || said(&stderr) {
                return Ok(None);
            }
            let out = if stderr.trim().is_empty() { stdout } else { stderr };
            Err(fail(out.trim().to_string()))
        }
        Err(E::HelperCommunicationError) => {
            Err(fail(format!("cannot run docker-credential-{helper}; is it installed and on PATH?")))
        }
        Err(e) => Err(fail(e.to_string())),
    }
}

fn read_optional(path: &Path) -> Result<Option<String>, AuthError> {
    match fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(AuthError::Io { path: display(path), source: e }),
    }
}

/// Finds credentials for `registry` (a host[:port]) and `repository` ("" for the registry
/// as a whole) in Podman's search order; see [`auth_files`] and [`find_in_text`]. Missing
/// files are skipped. A broken file is reported only when no other file has credentials,
/// as Podman does.
pub fn lookup(
    registry: &str,
    repository: &str,
    home: &Path,
    runtime_dir_base: Option<&Path>,
    explicit_authfile: Option<&Path>,
) -> Result<Option<Credentials>, AuthError> {
    lookup_in(&AuthEnv::from_process(), registry, repository, home, runtime_dir_base, explicit_authfile)
}

/// [`lookup`] with the environment given.
pub fn lookup_in(
    env: &AuthEnv,
    registry: &str,
    repository: &str,
    home: &Path,
    runtime_dir_base: Option<&Path>,
    explicit_authfile: Option<&Path>,
) -> Result<Option<Credentials>, AuthError> {
    let mut first_err: Option<AuthError> = None;
    for file in auth_files(env, home, runtime_dir_base, explicit_authfile) {
        let found = read_optional(&file.path)
            .and_then(|t| t.map_or(Ok(Found::Nothing), |t| find_in_text(&t, &file, registry, repository)));
        let result = match found {
            Ok(Found::Credentials(c)) => Ok(Some(c)),
            Ok(Found::Helper { helper, server, explicit }) => match ask_helper(&helper, &server, &file.path) {
                Err(e) if !explicit => {
                    // A credsStore applies to every registry; a broken one must not stop
                    // anonymous pulls of public images.
                    tracing::warn!("{e}");
                    Ok(None)
                }
                other => other,
            },
            Ok(Found::Nothing) => Ok(None),
            Err(e) => Err(e),
        };
        match result {
            Ok(Some(c)) => {
                if let Some(e) = first_err {
                    tracing::warn!("{e}");
                }
                tracing::debug!("credentials for {registry} found in {}", file.path.display());
                return Ok(Some(c));
            }
            Ok(None) => {}
            Err(e) => {
                tracing::debug!("{e}");
                first_err.get_or_insert(e);
            }
        }
    }
    match first_err {
        Some(e) => Err(e),
        None => Ok(None),
    }
}

/// Checks a key for `store`/`remove` as containers-image does: host[:port] or
/// host[:port]/namespace[/repo], no scheme, tag or digest.
fn validate_key(key: &str) -> Result<(), AuthError> {
    let bad = |reason: &str| Err(AuthError::InvalidKey { key: key.to_string(), reason: reason.to_string() });
    if key.is_empty() {
        return bad("it is empty");
    }
    if key.starts_with("http://") || key.starts_with("https://") {
        return bad("leave out the http(s):// scheme");
    }
    if key.contains('@') {
        return bad("it must not contain a digest ('@')");
    }
    if let Some((_, rest)) = key.split_once('/')
        && rest.contains(':')
    {
        return bad("it must not contain a tag (':' after host[:port])");
    }
    if key.chars().any(char::is_whitespace) {
        return bad("it must not contain whitespace");
    }
    Ok(())
}

/// Reads an auth file for editing: its top-level object (empty when the file is missing).
fn read_for_edit(path: &Path) -> Result<Option<Map<String, Value>>, AuthError> {
    let Some(text) = read_optional(path)? else {
        return Ok(None);
    };
    if text.trim().is_empty() {
        return Ok(Some(Map::new()));
    }
    match parse_json(&text, path)? {
        Value::Object(m) => Ok(Some(m)),
        _ => Err(AuthError::Invalid { path: display(path), message: "top level is not a JSON object".into() }),
    }
}

fn auths_mut<'a>(root: &'a mut Map<String, Value>, path: &Path) -> Result<&'a mut Map<String, Value>, AuthError> {
    let v = root.entry("auths").or_insert_with(|| Value::Object(Map::new()));
    if v.is_null() {
        *v = Value::Object(Map::new());
    }
    v.as_object_mut()
        .ok_or_else(|| AuthError::Invalid { path: display(path), message: "\"auths\" is not a JSON object".into() })
}

/// Writes the file crash-safely with mode 0600, creating its directory (0700). A symlinked
/// auth file is written through to its target.
fn write_file(path: &Path, root: &Map<String, Value>) -> Result<(), AuthError> {
    let target = match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    };
    let io_err = |e: io::Error| AuthError::Io { path: display(&target), source: e };
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io_err)?;
    }
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    serde::Serialize::serialize(root, &mut ser)
        .map_err(|e| AuthError::Invalid { path: display(&target), message: e.to_string() })?;
    out.push(b'\n');
    crate::util::atomic_write(&target, &out, 0o600).map_err(io_err)
}

/// Records credentials for `registry` (host[:port] or host[:port]/namespace) in `path`,
/// keeping everything else in the file. The entry is `{"auth": base64("user:password")}`.
pub fn store(path: &Path, registry: &str, creds: &Credentials) -> Result<(), AuthError> {
    validate_key(registry)?;
    let mut root = read_for_edit(path)?.unwrap_or_default();
    let auth = STANDARD.encode(format!("{}:{}", creds.username, creds.password));
    let mut entry = Map::new();
    entry.insert("auth".into(), Value::String(auth));
    auths_mut(&mut root, path)?.insert(registry.to_string(), Value::Object(entry));
    write_file(path, &root)
}

/// Removes the entry for exactly `registry` from `path`; true when there was one.
/// Credentials held by credential helpers are not touched.
pub fn remove(path: &Path, registry: &str) -> Result<bool, AuthError> {
    validate_key(registry)?;
    let Some(mut root) = read_for_edit(path)? else {
        return Ok(false);
    };
    let removed = match root.get_mut("auths").and_then(Value::as_object_mut) {
        Some(auths) => auths.remove(registry).is_some(),
        None => false,
    };
    if removed {
        write_file(path, &root)?;
    }
    Ok(removed)
}

/// Empties "auths" in `path`, keeping its other keys; a missing file is fine.
/// Credential helpers (credHelpers, credsStore) are left as they are.
pub fn remove_all(path: &Path) -> Result<(), AuthError> {
    let Some(mut root) = read_for_edit(path)? else {
        return Ok(());
    };
    root.insert("auths".into(), Value::Object(Map::new()));
    write_file(path, &root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{tmpdir, write};
    use std::os::unix::fs::PermissionsExt;

    fn creds(u: &str, p: &str) -> Credentials {
        Credentials { username: u.into(), password: p.into() }
    }

    fn b64(s: &str) -> String {
        STANDARD.encode(s)
    }

    fn found(text: &str, legacy: bool, registry: &str, repo: &str) -> Found {
        let file = AuthFile { path: PathBuf::from("/test/auth.json"), legacy };
        match find_in_text(text, &file, registry, repo) {
            Ok(f) => f,
            Err(e) => panic!("{e}"),
        }
    }

    fn user_of(f: Found) -> String {
        match f {
            Found::Credentials(c) => format!("{}:{}", c.username, c.password),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn file_order_follows_podman() {
        let home = Path::new("/home/u");
        let run = Path::new("/run/user/1000");
        let env = AuthEnv::default();
        let files: Vec<(String, bool)> =
            auth_files(&env, home, Some(run), None).into_iter().map(|f| (display(&f.path), f.legacy)).collect();
        assert_eq!(
            files,
            [
                ("/run/user/1000/containers/auth.json".to_string(), false),
                ("/home/u/.config/containers/auth.json".to_string(), false),
                ("/home/u/.docker/config.json".to_string(), false),
                ("/home/u/.dockercfg".to_string(), true),
            ]
        );
        let env2 = AuthEnv {
            registry_auth_file: None,
            xdg_config_home: Some("/xdg".into()),
            docker_config: Some("/dc".into()),
        };
        let files: Vec<PathBuf> = auth_files(&env2, home, None, None).into_iter().map(|f| f.path).collect();
        assert_eq!(
            files,
            [PathBuf::from("/xdg/containers/auth.json"), "/dc/config.json".into(), "/home/u/.dockercfg".into()]
        );
        let env3 = AuthEnv { registry_auth_file: Some("/r.json".into()), ..AuthEnv::default() };
        assert_eq!(auth_files(&env3, home, Some(run), None), [AuthFile { path: "/r.json".into(), legacy: false }]);
        assert_eq!(
            auth_files(&env3, home, Some(run), Some(Path::new("/a.json"))),
            [AuthFile { path: "/a.json".into(), legacy: false }]
        );

        assert_eq!(auth_file_for_write_in(&env, home, Some(run)), run.join("containers/auth.json"));
        assert_eq!(auth_file_for_write_in(&env, home, None), home.join(".config/containers/auth.json"));
        assert_eq!(auth_file_for_write_in(&env2, home, None), PathBuf::from("/xdg/containers/auth.json"));
        assert_eq!(auth_file_for_write_in(&env3, home, Some(run)), PathBuf::from("/r.json"));
    }

    #[test]
    fn keys_most_specific_first() {
        let text = format!(
            r#"{{"auths": {{
                "quay.io": {{"auth": "{}"}},
                "quay.io/ns": {{"auth": "{}"}},
                "quay.io/ns/repo": {{"auth": "{}"}}
            }}}}"#,
            b64("host:h"),
            b64("ns:n"),
            b64("repo:r")
        );
        assert_eq!(user_of(found(&text, false, "quay.io", "ns/repo")), "repo:r");
        assert_eq!(user_of(found(&text, false, "quay.io", "ns/other")), "ns:n");
        assert_eq!(user_of(found(&text, false, "quay.io", "x/y")), "host:h");
        assert_eq!(user_of(found(&text, false, "quay.io", "")), "host:h");
        assert_eq!(found(&text, false, "quay.io:443", "ns/repo"), Found::Nothing);
        assert_eq!(found(&text, false, "other.io", "x"), Found::Nothing);
        // Legacy files only know hosts.
        let legacy = format!(r#"{{"https://quay.io/v1/": {{"auth": "{}"}}}}"#, b64("old:o"));
        assert_eq!(user_of(found(&legacy, true, "quay.io", "ns/repo")), "old:o");
    }

    #[test]
    fn docker_hub_and_url_keys() {
        let text = format!(r#"{{"auths": {{"https://index.docker.io/v1/": {{"auth": "{}"}}}}}}"#, b64("hub:pw"));
        assert_eq!(user_of(found(&text, false, "docker.io", "library/alpine")), "hub:pw");
        assert_eq!(user_of(found(&text, false, "registry-1.docker.io", "")), "hub:pw");
        let text = format!(r#"{{"auths": {{"https://localhost:5000": {{"auth": "{}"}}}}}}"#, b64("u:p:with:colons"));
        assert_eq!(user_of(found(&text, false, "localhost:5000", "a/b")), "u:p:with:colons");
        let text = format!(r#"{{"auths": {{"docker.io": {{"auth": "{}"}}}}}}"#, b64("podman:pw"));
        assert_eq!(user_of(found(&text, false, "docker.io", "library/alpine")), "podman:pw");
        // Unpadded base64 and plain username/password fields.
        let unpadded = b64("ab:c").trim_end_matches('=').to_string();
        let text = format!(
            r#"{{"auths": {{"x.io": {{"auth": "{unpadded}"}}, "y.io": {{"username": "u", "password": "p"}}}}}}"#
        );
        assert_eq!(user_of(found(&text, false, "x.io", "")), "ab:c");
        assert_eq!(user_of(found(&text, false, "y.io", "")), "u:p");
    }

    #[test]
    fn helpers_and_markers() {
        let text =
            r#"{"auths": {"gcr.io": {}, "quay.io": {}}, "credHelpers": {"gcr.io": "gcloud"}, "credsStore": "pass"}"#;
        assert_eq!(
            found(text, false, "gcr.io", "p/i"),
            Found::Helper { helper: "gcloud".into(), server: "gcr.io".into(), explicit: true }
        );
        assert_eq!(
            found(text, false, "quay.io", "x"),
            Found::Helper { helper: "pass".into(), server: "quay.io".into(), explicit: false }
        );
        assert_eq!(
            found(text, false, "docker.io", "x"),
            Found::Helper { helper: "pass".into(), server: DOCKER_HUB_V1.into(), explicit: false }
        );
        // An empty marker without any helper means nothing here.
        assert_eq!(found(r#"{"auths": {"quay.io": {}}}"#, false, "quay.io", ""), Found::Nothing);
        assert_eq!(found(r#"{"auths": {"quay.io": {"identitytoken": "t"}}}"#, false, "quay.io", ""), Found::Nothing);
        assert_eq!(
            found(&format!(r#"{{"auths": {{"q.io": {{"auth": "{}"}}}}}}"#, b64("nocolon")), false, "q.io", ""),
            Found::Nothing
        );
        assert_eq!(found("", false, "q.io", ""), Found::Nothing);
        assert_eq!(found("{}", false, "q.io", ""), Found::Nothing);
    }

    #[test]
    fn errors_name_the_file() {
        let file = AuthFile { path: PathBuf::from("/home/u/.docker/config.json"), legacy: false };
        let e = find_in_text("{\n\"auths\": {\n  \"x\": ,\n}}", &file, "x", "").err().map(|e| e.to_string());
        let e = e.unwrap_or_default();
        assert!(e.starts_with("auth file /home/u/.docker/config.json: invalid JSON at line 3"), "{e}");
        let e = find_in_text(r#"{"auths": {"x": {"auth": "!!!"}}}"#, &file, "x", "").err().map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("not valid base64"));
        let e = find_in_text(r#"{"auths": []}"#, &file, "x", "").err().map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("\"auths\" is not a JSON object"));
        let e = find_in_text("[1]", &file, "x", "").err().map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("not a JSON object"));
    }

    #[test]
    fn lookup_searches_files_in_order() {
        let home = tmpdir("auth-lookup");
        let run = home.join("run");
        let env = AuthEnv::default();
        let get = |reg: &str, repo: &str, explicit: Option<&Path>| match lookup_in(
            &env,
            reg,
            repo,
            &home,
            Some(&run),
            explicit,
        ) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(get("quay.io", "x", None), None);
        write(
            &home.join(".docker/config.json"),
            &format!(r#"{{"auths": {{"quay.io": {{"auth": "{}"}}}}}}"#, b64("docker:d")),
        );
        assert_eq!(get("quay.io", "x", None), Some(creds("docker", "d")));
        write(
            &home.join(".config/containers/auth.json"),
            &format!(r#"{{"auths": {{"quay.io": {{"auth": "{}"}}}}}}"#, b64("xdg:x")),
        );
        assert_eq!(get("quay.io", "x", None), Some(creds("xdg", "x")));
        write(
            &run.join("containers/auth.json"),
            &format!(r#"{{"auths": {{"quay.io/x": {{"auth": "{}"}}}}}}"#, b64("run:r")),
        );
        assert_eq!(get("quay.io", "x", None), Some(creds("run", "r")));
        assert_eq!(get("quay.io", "y", None), Some(creds("xdg", "x")));
        write(&home.join(".dockercfg"), &format!(r#"{{"https://legacy.io/v1/": {{"auth": "{}"}}}}"#, b64("legacy:l")));
        assert_eq!(get("legacy.io", "x", None), Some(creds("legacy", "l")));

        // An explicit file is the only one searched; missing means no credentials.
        assert_eq!(get("quay.io", "x", Some(&home.join("none.json"))), None);

        // A broken file is reported only when nothing else has credentials.
        write(&run.join("containers/auth.json"), "{ not json");
        assert_eq!(get("quay.io", "x", None), Some(creds("xdg", "x")));
        let e = lookup_in(&env, "nowhere.io", "", &home, Some(&run), None).err().map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("invalid JSON at line 1"));
        let _ = fs::remove_dir_all(&home);
    }

    #[test]
    fn store_remove_round_trip() {
        let dir = tmpdir("auth-store");
        let path = dir.join("sub/containers/auth.json");
        let Ok(()) = store(&path, "localhost:5000", &creds("alice", "s3cr:et")) else { panic!("store") };
        let mode = fs::metadata(&path).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        assert_eq!(mode, 0o600);
        let dmode = fs::metadata(path.parent().unwrap_or(&dir)).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
        assert_eq!(dmode, 0o700);
        let text = fs::read_to_string(&path).unwrap_or_default();
        assert_eq!(user_of(found(&text, false, "localhost:5000", "a")), "alice:s3cr:et");

        // Other keys survive edits.
        write(
            &path,
            &format!(
                r#"{{"auths": {{"quay.io": {{"auth": "{}"}}}}, "credHelpers": {{"gcr.io": "gcloud"}}, "HttpHeaders": {{"X": "1"}}}}"#,
                b64("q:q")
            ),
        );
        let Ok(()) = store(&path, "docker.io", &creds("bob", "pw")) else { panic!("store") };
        let Ok(()) = store(&path, "docker.io", &creds("bob", "pw2")) else { panic!("store") };
        let v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap_or_default()).unwrap_or(Value::Null);
        assert_eq!(v["credHelpers"]["gcr.io"], "gcloud");
        assert_eq!(v["HttpHeaders"]["X"], "1");
        assert_eq!(v["auths"]["quay.io"]["auth"], b64("q:q"));
        assert_eq!(v["auths"]["docker.io"]["auth"], b64("bob:pw2"));

        assert!(matches!(remove(&path, "docker.io"), Ok(true)));
        assert!(matches!(remove(&path, "docker.io"), Ok(false)));
        assert!(matches!(remove(&dir.join("missing.json"), "docker.io"), Ok(false)));
        let v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap_or_default()).unwrap_or(Value::Null);
        assert!(v["auths"].get("docker.io").is_none());
        assert_eq!(v["auths"]["quay.io"]["auth"], b64("q:q"));

        assert!(remove_all(&path).is_ok());
        let v: Value = serde_json::from_str(&fs::read_to_string(&path).unwrap_or_default()).unwrap_or(Value::Null);
        assert_eq!(v["auths"], serde_json::json!({}));
        assert_eq!(v["credHelpers"]["gcr.io"], "gcloud");
        assert!(remove_all(&dir.join("missing.json")).is_ok());
        assert!(!dir.join("missing.json").exists());

        // Namespaced keys are allowed; schemes, tags and digests are not.
        assert!(store(&path, "quay.io/ns", &creds("n", "n")).is_ok());
        for bad in ["", "https://quay.io", "quay.io/ns:tag", "quay.io@sha256:x", "a b"] {
            assert!(matches!(store(&path, bad, &creds("n", "n")), Err(AuthError::InvalidKey { .. })), "{bad}");
        }

        // A corrupt file is never overwritten.
        write(&path, "{ broken");
        assert!(matches!(store(&path, "x.io", &creds("a", "b")), Err(AuthError::Json { .. })));
        assert_eq!(fs::read_to_string(&path).unwrap_or_default(), "{ broken");
        let _ = fs::remove_dir_all(&dir);
    }

    #[test]
    fn debug_hides_password() {
        assert!(!format!("{:?}", creds("u", "hunter2")).contains("hunter2"));
    }
}
