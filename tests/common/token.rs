//! A Bearer-token server for a token-auth registry (the `WWW-Authenticate: Bearer realm=...`
//! flow of Docker Hub and GHCR), run in the test process: `GET /token?service=..&scope=..`
//! answers a JWT signed RS256 with a key made by the `openssl` CLI, its certificate in the
//! header's `x5c` so that the registry checks it against its `rootcertbundle`.
//!
//! Like auth.docker.io: wrong Basic credentials get 401; a request without credentials gets
//! a token granting the requested access to repositories under `public/` and no access
//! (`access: []`) elsewhere, so that the registry then refuses the pull; the right
//! credentials get the requested access everywhere.

use super::scratch;
use base64::Engine as _;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

pub const SERVICE: &str = "kiste-test";
pub const ISSUER: &str = "kiste-test-issuer";

/// One token request as the server saw it.
#[derive(Clone, Debug)]
pub struct TokenRequest {
    pub service: Option<String>,
    pub scopes: Vec<String>,
    /// The Basic credentials sent, decoded (`user:pass`).
    pub basic: Option<String>,
    pub status: u16,
}

pub struct TokenServer {
    pub port: u16,
    pub dir: PathBuf,
    stop: Arc<AtomicBool>,
    requests: Arc<Mutex<Vec<TokenRequest>>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

struct Signer {
    key: PathBuf,
    /// The certificate, DER in standard base64 (the `x5c` entry).
    cert_der_b64: String,
    user: String,
    pass: String,
}

fn b64url(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

impl TokenServer {
    /// Starts the server on a free port of 127.0.0.1, accepting `user`/`pass`.
    pub fn start(user: &str, pass: &str) -> TokenServer {
        let dir = scratch("token");
        let key = dir.join("key.pem");
        let cert = dir.join("cert.pem");
        let out = Command::new("openssl")
            .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=kiste-test-token"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .stdin(Stdio::null())
            .output()
            .expect("openssl not found; install the \"openssl\" package (scripts/test.sh does)");
        assert!(out.status.success(), "openssl req: {}", String::from_utf8_lossy(&out.stderr));
        // A PEM body is the DER in standard base64, wrapped.
        let pem = std::fs::read_to_string(&cert).unwrap();
        let cert_der_b64: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let signer = Arc::new(Signer { key, cert_der_b64, user: user.into(), pass: pass.into() });
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let thread = {
            let (stop, requests) = (stop.clone(), requests.clone());
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    if stop.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(conn) = conn else { continue };
                    let (signer, requests) = (signer.clone(), requests.clone());
                    std::thread::spawn(move || serve(conn, &signer, &requests));
                }
            })
        };
        TokenServer { port, dir, stop, requests, thread: Some(thread) }
    }

    pub fn realm(&self) -> String {
        format!("http://127.0.0.1:{}/token", self.port)
    }

    pub fn cert(&self) -> PathBuf {
        self.dir.join("cert.pem")
    }

    /// The token requests so far.
    pub fn requests(&self) -> Vec<TokenRequest> {
        self.requests.lock().unwrap().clone()
    }

    /// The registry's `auth:` configuration for this server.
    pub fn registry_auth_conf(&self) -> String {
        format!(
            "auth:\n  token:\n    realm: {}\n    service: {SERVICE}\n    issuer: {ISSUER}\n    rootcertbundle: {}\n",
            self.realm(),
            self.cert().display()
        )
    }
}

impl Drop for TokenServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'%' if i + 2 < b.len() => {
                match std::str::from_utf8(&b[i + 1..i + 3]).ok().and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn respond(mut conn: TcpStream, status: u16, body: &str) {
    let reason = match status {
        200 => "OK",
        401 => "Unauthorized",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let mut head = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    if status == 401 {
        head += "WWW-Authenticate: Basic realm=\"kiste-test-token\"\r\n";
    }
    head += "\r\n";
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body.as_bytes());
}

fn serve(conn: TcpStream, signer: &Signer, requests: &Mutex<Vec<TokenRequest>>) {
    let _ = conn.set_read_timeout(Some(std::time::Duration::from_secs(10)));
    let mut r = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if r.read_line(&mut line).is_err() || line.is_empty() {
        return; // The wake-up connection of Drop, or a client that went away.
    }
    let target = line.split_whitespace().nth(1).unwrap_or_default().to_string();
    let mut basic = None;
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).is_err() || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':')
            && k.trim().eq_ignore_ascii_case("authorization")
            && let Some(b) = v.trim().strip_prefix("Basic ")
        {
            let dec = base64::engine::general_purpose::STANDARD.decode(b.trim()).unwrap_or_default();
            basic = Some(String::from_utf8_lossy(&dec).into_owned());
        }
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut req = TokenRequest { service: None, scopes: Vec::new(), basic: basic.clone(), status: 0 };
    for kv in query.split('&').filter(|s| !s.is_empty()) {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        match k {
            "service" => req.service = Some(percent_decode(v)),
            "scope" => req.scopes.extend(percent_decode(v).split(' ').map(str::to_string)),
            _ => {}
        }
    }
    let (status, body) = if path != "/token" {
        (404, r#"{"errors":[{"code":"NOT_FOUND","message":"no such endpoint"}]}"#.to_string())
    } else if req.service.as_deref() != Some(SERVICE) {
        (400, r#"{"errors":[{"code":"UNSUPPORTED","message":"unknown service"}]}"#.to_string())
    } else {
        let authed = match &basic {
            None => false,
            Some(c) if *c == format!("{}:{}", signer.user, signer.pass) => true,
            Some(_) => {
                let body = r#"{"details":"incorrect username or password"}"#.to_string();
                req.status = 401;
                requests.lock().unwrap().push(req);
                return respond(conn, 401, &body);
            }
        };
        let access: Vec<serde_json::Value> = req
            .scopes
            .iter()
            .filter_map(|s| {
                // repository:NAME:ACTIONS (NAME may hold a port-less path; no ':' in it).
                let mut f = s.splitn(3, ':');
                let (typ, name, actions) = (f.next()?, f.next()?, f.next()?);
                (typ == "repository" && (authed || name.starts_with("public/"))).then(|| {
                    let actions: Vec<&str> = actions.split(',').filter(|a| matches!(*a, "pull" | "push")).collect();
                    serde_json::json!({"type": "repository", "name": name, "actions": actions})
                })
            })
            .collect();
        let sub = if authed { signer.user.as_str() } else { "" };
        let token = sign(signer, sub, access);
        (200, serde_json::json!({"token": token, "access_token": token, "expires_in": 300}).to_string())
    };
    req.status = status;
    requests.lock().unwrap().push(req);
    respond(conn, status, &body);
}

/// A JWT for `sub` granting `access`, signed RS256 by `openssl dgst -sha256 -sign`.
fn sign(signer: &Signer, sub: &str, access: Vec<serde_json::Value>) -> String {
    static JTI: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let header = serde_json::json!({"typ": "JWT", "alg": "RS256", "x5c": [signer.cert_der_b64]});
    let claims = serde_json::json!({
        "iss": ISSUER,
        "sub": sub,
        "aud": SERVICE,
        "exp": now + 300,
        "nbf": now - 10,
        "iat": now,
        "jti": format!("kiste-{}-{}", std::process::id(), JTI.fetch_add(1, Ordering::SeqCst)),
        "access": access,
    });
    let input = format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
    let mut child = Command::new("openssl")
        .args(["dgst", "-sha256", "-sign"])
        .arg(&signer.key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run openssl dgst");
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "openssl dgst -sign: {}", String::from_utf8_lossy(&out.stderr));
    format!("{input}.{}", b64url(&out.stdout))
}
