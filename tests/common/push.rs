//! Pushes an OCI layout to a test registry over the distribution HTTP API (plain HTTP, optional
//! Basic auth), byte for byte: skopeo would gzip uncompressed layers on the way, and the tests
//! need the registry to serve exactly the blobs, media types and digests that were built.

use base64::Engine as _;
use std::io::{Read, Write};
use std::path::Path;

/// Pushes the image tagged `latest` in the OCI layout `layout` to `registry` (host:port) as
/// `name` (`repo[:tag]`, default tag `latest`). An index is pushed whole with `all`, else only
/// the host platform's image is pushed under the tag (as `skopeo copy` without `--all`).
pub fn push_layout(layout: &Path, registry: &str, name: &str, all: bool, creds: Option<(&str, &str)>) {
    let (repo, tag) = match name.rsplit_once(':') {
        Some((r, t)) if !t.contains('/') => (r, t),
        _ => (name, "latest"),
    };
    let p = Pusher {
        layout,
        registry,
        repo,
        auth: creds.map(|(u, p)| base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))),
    };
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    let manifests = index["manifests"].as_array().expect("index.json has manifests");
    let top = manifests
        .iter()
        .find(|m| m["annotations"]["org.opencontainers.image.ref.name"] == "latest")
        .unwrap_or(&manifests[0]);
    let media_type = top["mediaType"].as_str().unwrap();
    let digest = top["digest"].as_str().unwrap();
    if media_type.ends_with("index.v1+json") || media_type.ends_with("manifest.list.v2+json") {
        let idx: serde_json::Value = serde_json::from_slice(&p.blob(digest)).unwrap();
        let children = idx["manifests"].as_array().unwrap();
        if all {
            for m in children {
                p.manifest(
                    m["digest"].as_str().unwrap(),
                    m["mediaType"].as_str().unwrap(),
                    m["digest"].as_str().unwrap(),
                );
            }
            p.put_manifest(tag, media_type, &p.blob(digest));
        } else {
            let host = children
                .iter()
                .find(|m| m["platform"]["architecture"] == super::images::host_arch())
                .expect("the index has an image for this machine's architecture");
            p.manifest(host["digest"].as_str().unwrap(), host["mediaType"].as_str().unwrap(), tag);
        }
    } else {
        p.manifest(digest, media_type, tag);
    }
}

struct Pusher<'a> {
    layout: &'a Path,
    registry: &'a str,
    repo: &'a str,
    auth: Option<String>,
}

impl Pusher<'_> {
    fn blob(&self, digest: &str) -> Vec<u8> {
        let hex = digest.strip_prefix("sha256:").expect("sha256 digest");
        std::fs::read(self.layout.join("blobs/sha256").join(hex)).unwrap()
    }

    /// Uploads an image's config and layers, then its manifest as `reference`.
    fn manifest(&self, digest: &str, media_type: &str, reference: &str) {
        let manifest = self.blob(digest);
        let m: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        let layers = m["layers"].as_array().unwrap();
        for d in std::iter::once(&m["config"]).chain(layers) {
            self.upload(d["digest"].as_str().unwrap());
        }
        self.put_manifest(reference, media_type, &manifest);
    }

    fn put_manifest(&self, reference: &str, media_type: &str, body: &[u8]) {
        let path = format!("/v2/{}/manifests/{reference}", self.repo);
        let (status, _, text) = self.request("PUT", &path, Some(media_type), body);
        assert_eq!(status, 201, "PUT {path} on {}: {text}", self.registry);
    }

    /// A monolithic blob upload: POST for an upload location, PUT the bytes with the digest.
    fn upload(&self, digest: &str) {
        let data = self.blob(digest);
        let path = format!("/v2/{}/blobs/uploads/", self.repo);
        let (status, location, text) = self.request("POST", &path, None, b"");
        assert_eq!(status, 202, "POST {path} on {}: {text}", self.registry);
        let location = location.expect("upload Location");
        // The location may be absolute (http://host:port/v2/...).
        let rel = location.find("/v2/").map(|i| &location[i..]).unwrap_or(&location);
        let sep = if rel.contains('?') { '&' } else { '?' };
        let put = format!("{rel}{sep}digest={digest}");
        let (status, _, text) = self.request("PUT", &put, Some("application/octet-stream"), &data);
        assert_eq!(status, 201, "PUT blob {digest} on {}: {text}", self.registry);
    }

    /// One HTTP/1.1 request on its own connection: (status, Location header, body).
    fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> (u16, Option<String>, String) {
        let mut s = std::net::TcpStream::connect(self.registry)
            .unwrap_or_else(|e| panic!("connect to registry {}: {e}", self.registry));
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.registry,
            body.len()
        );
        if let Some(ct) = content_type {
            head += &format!("Content-Type: {ct}\r\n");
        }
        if let Some(a) = &self.auth {
            head += &format!("Authorization: Basic {a}\r\n");
        }
        head += "\r\n";
        s.write_all(head.as_bytes()).unwrap();
        s.write_all(body).unwrap();
        let mut resp = Vec::new();
        s.read_to_end(&mut resp).unwrap();
        let text = String::from_utf8_lossy(&resp).into_owned();
        let (headers, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = headers.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let location = headers.lines().find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("location").then(|| v.trim().to_string())
        });
        (status, location, if status >= 300 { text.clone() } else { rest.to_string() })
    }
}
