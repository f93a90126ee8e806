//! Issues #13/#14: `kiste push` — stored layers leave the machine as tars rebuilt byte for
//! byte (same diff IDs, same image ID), compressed once and remembered, mounted across
//! repositories, through anonymous, Basic and Bearer-token registries on 127.0.0.1.

mod common;

use common::images;
use common::{Registry, TestHome, pulled, scratch};

/// Requests in the registry's access log: (method, path) of every line.
fn requests(reg: &Registry) -> Vec<(String, String, u16)> {
    reg.log()
        .lines()
        .filter_map(|l| {
            let q = l.split('"').nth(1)?;
            let mut f = q.split_whitespace();
            let (method, path) = (f.next()?.to_string(), f.next()?.to_string());
            let status = l.split('"').nth(2)?.split_whitespace().next()?.parse().ok()?;
            Some((method, path, status))
        })
        .collect()
}

/// Blob bytes sent to `repo` (PUTs and PATCHes to its upload sessions).
fn blob_uploads(reg: &Registry, repo: &str) -> usize {
    let prefix = format!("/v2/{repo}/blobs/uploads/");
    requests(reg).iter().filter(|(m, p, _)| (m == "PUT" || m == "PATCH") && p.starts_with(&prefix)).count()
}

fn mounts(reg: &Registry, repo: &str) -> usize {
    let prefix = format!("/v2/{repo}/blobs/uploads/?");
    requests(reg)
        .iter()
        .filter(|(m, p, s)| m == "POST" && p.starts_with(&prefix) && p.contains("mount=") && *s == 201)
        .count()
}

fn skopeo_raw(reference: &str, creds: Option<&str>) -> serde_json::Value {
    let mut c = std::process::Command::new("skopeo");
    c.args(["inspect", "--raw", "--tls-verify=false"]);
    if let Some(cr) = creds {
        c.args(["--creds", cr]);
    }
    let o = c.arg(format!("docker://{reference}")).output().expect("skopeo not found; install the \"skopeo\" package");
    assert!(o.status.success(), "skopeo inspect {reference}: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

/// Pulls `reference` into a fresh home and returns (image ID, content of `file` in it).
fn pull_back(reg: &Registry, reference: &str) -> (String, String, TestHome) {
    let h = TestHome::new();
    h.use_registry(reg);
    let id = h.pull(reference);
    let out = h.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        reference,
        "cat",
        "/data/keep.txt",
        "/data/hard",
        "/opqdir/new.txt",
    ]);
    (id, out, h)
}

#[test]
fn push_keeps_the_image_id_across_repositories_and_registries() {
    let (reg, h, src) = pulled("layered", images::layered);
    let id = h.inspect(&src)["Id"].as_str().unwrap().to_string();
    let original = skopeo_raw(&src, None);

    // Same registry, another repository: every layer is mounted, nothing is compressed or
    // sent, and the manifest is the original one byte for byte.
    let copy = format!("{}/copy/layered:1", reg.addr());
    let o = h.kiste(&["push", &src, &copy]);
    assert!(o.status.success(), "push: {}", common::stderr(&o));
    assert_eq!(common::stdout(&o), "", "push prints nothing on stdout");
    let err = common::stderr(&o);
    assert!(err.contains("Getting image source signatures") && err.contains("Writing manifest"), "{err}");
    assert_eq!(blob_uploads(&reg, "copy/layered"), 0, "nothing is uploaded:\n{}", reg.log());
    assert_eq!(mounts(&reg, "copy/layered"), 5, "the four layers and the config are mounted:\n{}", reg.log());
    assert_eq!(skopeo_raw(&copy, None), original);

    // Another registry: the layers are compressed anew, their tars rebuilt exactly, so the
    // config and the image ID stay.
    let other = Registry::start();
    let dest = format!("{}/moved/layered:2", other.addr());
    h.ok(&["push", "--tls-verify=false", &src, &format!("docker://{dest}")]);
    let m = skopeo_raw(&dest, None);
    assert_eq!(m["mediaType"], "application/vnd.oci.image.manifest.v1+json", "the original's format is kept");
    assert_eq!(m["config"]["digest"], format!("sha256:{id}"), "same config: same image ID");
    assert_eq!(m["layers"].as_array().unwrap().len(), 4);
    for l in m["layers"].as_array().unwrap() {
        assert_eq!(l["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip");
    }
    let (back_id, content, _h2) = pull_back(&other, &dest);
    assert_eq!(back_id, id);
    assert_eq!(content, "keep\nkeep\nnew\n");
    // skopeo reads what kiste wrote.
    let out = scratch("skopeo-copy");
    let o = std::process::Command::new("skopeo")
        .args(["copy", "--src-tls-verify=false", &format!("docker://{dest}"), &format!("oci:{}:x", out.display())])
        .output()
        .unwrap();
    assert!(o.status.success(), "skopeo copy: {}", String::from_utf8_lossy(&o.stderr));
    let _ = std::fs::remove_dir_all(&out);
}

#[test]
fn a_second_push_sends_no_layer_and_formats_and_compressions() {
    let (reg, h, src) = pulled("layered", images::layered);
    let other = Registry::start();
    let dest = format!("{}/again/layered", other.addr());
    let digest_file = h.root.join("home/digest");
    let df = digest_file.display().to_string();
    h.ok(&["push", "--tls-verify=false", "--digestfile", &df, &src, &dest]);
    let first = std::fs::read_to_string(&digest_file).unwrap();
    assert!(first.starts_with("sha256:") && first.len() == 71, "{first:?}");
    let uploads = blob_uploads(&other, "again/layered");
    assert_eq!(uploads, 5, "four layers and the config:\n{}", other.log());
    // Again: the registry has every blob; none is sent, the digest is the same.
    let o = h.kiste(&["push", "--tls-verify=false", "--digestfile", &df, &src, &dest]);
    assert!(o.status.success(), "{}", common::stderr(&o));
    assert_eq!(blob_uploads(&other, "again/layered"), uploads, "nothing sent again:\n{}", other.log());
    assert_eq!(common::stderr(&o).matches("skipped: already exists").count(), 4, "{}", common::stderr(&o));
    assert_eq!(std::fs::read_to_string(&digest_file).unwrap(), first);
    // A third registry gets the blobs compressed by the first push, from the store: the
    // same manifest.
    let third = Registry::start();
    let dest3 = format!("{}/third/layered", third.addr());
    h.ok(&["push", "-q", "--tls-verify=false", "--digestfile", &df, &src, &dest3]);
    assert_eq!(std::fs::read_to_string(&digest_file).unwrap(), first, "cached blobs give the same manifest");
    // Stored blobs that no longer hash to their digests (same size, one byte changed) are
    // caught while they are sent: each layer is compressed anew, nothing corrupt is
    // committed, and the manifest is the same.
    let mut spoiled = 0;
    for e in std::fs::read_dir(h.data().join("storage/blobs")).unwrap().flatten() {
        let mut b = std::fs::read(e.path()).unwrap();
        if b.len() > 64 {
            let i = b.len() / 2;
            b[i] ^= 0xff;
            std::fs::write(e.path(), &b).unwrap();
            spoiled += 1;
        }
    }
    assert!(spoiled >= 4, "the compressed layers are stored: {spoiled}");
    let fourth = Registry::start();
    let dest4 = format!("{}/fourth/layered", fourth.addr());
    h.ok(&["push", "-q", "--tls-verify=false", "--digestfile", &df, &src, &dest4]);
    assert_eq!(std::fs::read_to_string(&digest_file).unwrap(), first, "compressed anew, the same manifest");
    assert_eq!(pull_back(&fourth, &dest4).0, h.inspect(&src)["Id"].as_str().unwrap());

    // Docker schema 2.
    let dock = format!("{}/docker/layered", other.addr());
    h.ok(&["push", "--tls-verify=false", "--format", "v2s2", &src, &dock]);
    let m = skopeo_raw(&dock, None);
    assert_eq!(m["mediaType"], "application/vnd.docker.distribution.manifest.v2+json");
    assert_eq!(m["config"]["mediaType"], "application/vnd.docker.container.image.v1+json");
    for l in m["layers"].as_array().unwrap() {
        assert_eq!(l["mediaType"], "application/vnd.docker.image.rootfs.diff.tar.gzip");
    }
    // zstd, and pulled back.
    let zs = format!("{}/zstd/layered", other.addr());
    h.ok(&["push", "--tls-verify=false", "--compression-format", "zstd", &src, &zs]);
    let m = skopeo_raw(&zs, None);
    for l in m["layers"].as_array().unwrap() {
        assert_eq!(l["mediaType"], "application/vnd.oci.image.layer.v1.tar+zstd");
    }
    let id = h.inspect(&src)["Id"].as_str().unwrap().to_string();
    assert_eq!(pull_back(&other, &zs).0, id);
    let (code, err) = h.err(&["push", "--format", "v2s2", "--compression-format", "zstd", &src, &zs]);
    assert_eq!(code, 125);
    assert!(err.contains("zstd") && err.contains("--format oci"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    drop(reg);
}

#[test]
fn basic_auth_push() {
    let (_reg, h, src) = pulled("busybox", images::busybox);
    let sec = Registry::start_with_auth("alice", "s3cret");
    let dest = format!("{}/secure/busybox:1", sec.addr());
    let (code, err) = h.err(&["push", "--tls-verify=false", &src, &dest]);
    assert_eq!(code, 125);
    assert!(err.contains("authentication required") && err.contains(&sec.addr()), "{err}");
    let (code, err) = h.err(&["push", "--tls-verify=false", "--creds", "alice:wrong", &src, &dest]);
    assert_eq!(code, 125);
    assert!(err.contains("wrong username or password"), "{err}");
    h.ok(&["push", "--tls-verify=false", "--creds", "alice:s3cret", &src, &dest]);
    // Credentials from login.
    let good =
        h.with_stdin(&["login", "--tls-verify=false", "-u", "alice", "--password-stdin", &sec.addr()], "s3cret\n");
    assert!(good.status.success(), "{}", common::stderr(&good));
    h.ok(&["push", "--tls-verify=false", &src, &format!("{}/secure/other", sec.addr())]);
    assert_eq!(mounts(&sec, "secure/other"), 2, "layer and config mounted from secure/busybox:\n{}", sec.log());
    skopeo_raw(&format!("{}/secure/other", sec.addr()), Some("alice:s3cret"));
}

#[test]
fn bearer_token_push_and_mount() {
    let ts = common::token::TokenServer::start("bob", "t0ken-pass");
    let plain = Registry::start();
    let reg = Registry::start_with_token(&ts, &plain.storage_root());
    let (_src_reg, h, src) = pulled("busybox", images::busybox);
    let diag = || format!("token requests: {:#?}\nregistry log:\n{}", ts.requests(), reg.log());
    let dest = format!("{}/private/busybox:1", reg.addr());
    let (code, err) = h.err(&["push", "--tls-verify=false", &src, &dest]);
    assert_eq!(code, 125, "{}", diag());
    assert!(err.contains("authentication required") || err.contains("denied"), "{err}\n{}", diag());
    let (code, err) = h.err(&["push", "--tls-verify=false", "--creds", "bob:wrong", &src, &dest]);
    assert_eq!(code, 125);
    assert!(err.contains("wrong username or password"), "{err}");
    let o = h.kiste(&["push", "--tls-verify=false", "--creds", "bob:t0ken-pass", &src, &dest]);
    assert!(o.status.success(), "{}\n{}", common::stderr(&o), diag());
    assert!(
        ts.requests()
            .iter()
            .any(|r| r.status == 200 && r.scopes.iter().any(|s| s == "repository:private/busybox:pull,push")),
        "{}",
        diag()
    );
    // Another repository: the token also asks to pull from the first, and the layer is mounted.
    let dest2 = format!("{}/private/copy", reg.addr());
    let o = h.kiste(&["push", "--tls-verify=false", "--creds", "bob:t0ken-pass", &src, &dest2]);
    assert!(o.status.success(), "{}\n{}", common::stderr(&o), diag());
    assert!(
        ts.requests().iter().any(|r| r.scopes.iter().any(|s| s == "repository:private/busybox:pull")
            && r.scopes.iter().any(|s| s == "repository:private/copy:pull,push")),
        "{}",
        diag()
    );
    assert_eq!(mounts(&reg, "private/copy"), 2, "the layer and the config: {}", diag());
    skopeo_raw(&dest2, Some("bob:t0ken-pass"));
}

#[test]
fn push_errors_are_one_line() {
    let (reg, h, src) = pulled("busybox", images::busybox);
    let one = |args: &[&str], want: &[&str]| {
        let (code, err) = h.err(args);
        assert_eq!(code, 125, "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: one line: {err}");
        for w in want {
            assert!(err.contains(w), "{args:?}: {err} lacks {w:?}");
        }
    };
    one(&["push", "nosuchimage", &format!("{}/x", reg.addr())], &["nosuchimage", "image not known"]);
    // A plain-HTTP registry asked for HTTPS says so, for push and pull alike.
    one(&["push", "--tls-verify=true", &src], &["plain HTTP", "--tls-verify=false", "registries.conf"]);
    one(&["pull", "--tls-verify=true", &src], &["plain HTTP", "--tls-verify=false", "registries.conf"]);
    let dead = format!("127.0.0.1:{}/x", common::free_port());
    one(&["push", "--tls-verify=false", "--retry", "0", &src, &dead], &["cannot reach", "127.0.0.1"]);
    one(&["push", &src, "dir:/tmp/x"], &["transport", "dir"]);
    one(&["push", "--format", "v2s1", &src], &["--format"]);
    // Nothing was recorded as an image by the failures.
    assert_eq!(h.image_ids().len(), 1);
}
