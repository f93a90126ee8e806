//! Self-tests of the test harness (tests/common), independent of what kiste implements: the
//! registries serve what was pushed, the test images are what the pull tests assume, hostile
//! entries stay hostile, and commands run as the unprivileged test user in a private home.

mod common;

use common::images::{self, Entry};
use common::{Registry, ScratchDir, TestHome, user};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::process::Command;

fn skopeo(args: &[&str]) -> std::process::Output {
    Command::new("skopeo").args(args).output().expect("skopeo not found; install the \"skopeo\" package")
}

fn skopeo_json(args: &[&str]) -> serde_json::Value {
    let o = skopeo(args);
    assert!(o.status.success(), "skopeo {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn sha(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// A layer blob from the registry's storage, checked against its digest, uncompressed.
fn layer_tar(reg: &Registry, desc: &serde_json::Value) -> Vec<u8> {
    let digest = desc["digest"].as_str().unwrap();
    let blob = std::fs::read(reg.blob_path(digest)).expect("blob in the registry's storage");
    assert_eq!(sha(&blob), digest);
    match desc["mediaType"].as_str().unwrap() {
        "application/vnd.oci.image.layer.v1.tar+gzip" => {
            let mut raw = Vec::new();
            flate2::read::GzDecoder::new(&blob[..]).read_to_end(&mut raw).unwrap();
            raw
        }
        "application/vnd.oci.image.layer.v1.tar+zstd" => zstd::decode_all(&blob[..]).unwrap(),
        "application/vnd.oci.image.layer.v1.tar" => blob,
        m => panic!("unexpected layer media type {m}"),
    }
}

/// Entry name -> (type, mode, uid, link name, mtime).
type Listing = BTreeMap<String, (tar::EntryType, u32, u64, String, u64)>;

fn list(tar_bytes: &[u8]) -> Listing {
    let mut a = tar::Archive::new(tar_bytes);
    a.entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            let link = e.link_name_bytes().map(|l| String::from_utf8_lossy(&l).into_owned()).unwrap_or_default();
            let name = String::from_utf8_lossy(&e.path_bytes()).into_owned();
            (name, (h.entry_type(), h.mode().unwrap(), h.uid().unwrap(), link, h.mtime().unwrap()))
        })
        .collect()
}

#[test]
fn registry_serves_pushed_busybox_image() {
    let reg = Registry::start();
    let dir = ScratchDir::new("layout");
    let id = images::busybox(&dir);
    reg.push(&dir, "busybox:latest", false, None);
    let r = format!("docker://{}/busybox:latest", reg.addr());
    let info = skopeo_json(&["inspect", "--tls-verify=false", &r]);
    assert_eq!(info["Architecture"], images::host_arch());
    assert_eq!(info["Os"], "linux");
    let index: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap()).unwrap();
    assert_eq!(info["Digest"], index["manifests"][0]["digest"], "the manifest is served byte for byte");
    let layer = images::busybox_layer();
    assert_eq!(info["Layers"], serde_json::json!([layer.digest()]));
    let manifest = skopeo_json(&["inspect", "--raw", "--tls-verify=false", &r]);
    assert_eq!(manifest["config"]["digest"], id, "the image ID is the config digest");
    let config = skopeo_json(&["inspect", "--config", "--tls-verify=false", &r]);
    assert_eq!(config["rootfs"]["diff_ids"], serde_json::json!([layer.diff_id]));
    assert_eq!(config["config"]["Cmd"], serde_json::json!(["/bin/sh"]));
    // The layer as the pull tests expect it.
    let raw = layer_tar(&reg, &manifest["layers"][0]);
    assert_eq!(sha(&raw), layer.diff_id);
    let l = list(&raw);
    let bb = &l["bin/busybox"];
    assert_eq!((bb.0, bb.1), (tar::EntryType::Regular, 0o755));
    for tool in ["sh", "ls", "cat", "echo", "sleep", "true"] {
        assert_eq!(l[&format!("bin/{tool}")].3, "busybox");
    }
    assert_eq!(l["tmp"].1, 0o1777);
    assert!(l.contains_key("etc/passwd") && l.contains_key("root"));
}

#[test]
fn layered_image_has_whiteouts_links_owners_and_three_compressions() {
    let reg = Registry::start();
    let dir = ScratchDir::new("layout");
    images::layered(&dir);
    reg.push(&dir, "layered:latest", false, None);
    let r = format!("docker://{}/layered:latest", reg.addr());
    let manifest = skopeo_json(&["inspect", "--raw", "--tls-verify=false", &r]);
    let config = skopeo_json(&["inspect", "--config", "--tls-verify=false", &r]);
    let descs = manifest["layers"].as_array().unwrap();
    let types: Vec<&str> = descs.iter().map(|d| d["mediaType"].as_str().unwrap()).collect();
    assert_eq!(
        types,
        [
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+gzip",
            "application/vnd.oci.image.layer.v1.tar+zstd",
            "application/vnd.oci.image.layer.v1.tar",
        ]
    );
    let tars: Vec<Vec<u8>> = descs.iter().map(|d| layer_tar(&reg, d)).collect();
    for (i, t) in tars.iter().enumerate() {
        assert_eq!(config["rootfs"]["diff_ids"][i], sha(t), "diff_id of layer {i}");
    }
    let (l2, l3, l4) = (list(&tars[1]), list(&tars[2]), list(&tars[3]));
    assert_eq!(l2["data/setuid-bin"].1, 0o4755);
    assert_eq!((l2["data/owned1000.txt"].1, l2["data/owned1000.txt"].2), (0o640, 1000));
    assert_eq!(l2["data/keep.txt"].4, images::MTIME);
    assert!(l3.contains_key("data/.wh.gone.txt") && l3.contains_key("opqdir/.wh..wh..opq"));
    assert_eq!((l3["data/link"].0, l3["data/link"].3.as_str()), (tar::EntryType::Symlink, "keep.txt"));
    assert_eq!((l3["data/hard"].0, l3["data/hard"].3.as_str()), (tar::EntryType::Link, "data/keep.txt"));
    let names: Vec<&String> = l3.keys().collect();
    assert!(names.contains(&&"data/keep.txt".to_string()), "layer 3 re-adds the hardlink's target");
    assert!(l4.contains_key("data/plain.txt"));
}

#[test]
fn multiarch_index_has_the_host_and_another_platform() {
    let reg = Registry::start();
    let dir = ScratchDir::new("layout");
    let (host_id, other_id) = images::multiarch(&dir);
    reg.push(&dir, "multi:latest", true, None);
    let r = format!("docker://{}/multi:latest", reg.addr());
    let index = skopeo_json(&["inspect", "--raw", "--tls-verify=false", &r]);
    assert_eq!(index["mediaType"], "application/vnd.oci.image.index.v1+json");
    let archs: Vec<&str> = index["manifests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["platform"]["architecture"].as_str().unwrap())
        .collect();
    assert_eq!(archs, [images::host_arch(), images::other_arch()]);
    for (arch, id) in [(images::host_arch(), &host_id), (images::other_arch(), &other_id)] {
        let m = skopeo_json(&["inspect", "--raw", "--tls-verify=false", "--override-arch", arch, &r]);
        // --raw gives the index; resolve the platform's manifest through its digest.
        let entry = m["manifests"].as_array().unwrap().iter().find(|e| e["platform"]["architecture"] == arch).unwrap();
        let by_digest = format!("docker://{}/multi@{}", reg.addr(), entry["digest"].as_str().unwrap());
        let manifest = skopeo_json(&["inspect", "--raw", "--tls-verify=false", &by_digest]);
        assert_eq!(manifest["config"]["digest"], *id);
        let l = list(&layer_tar(&reg, &manifest["layers"][0]));
        assert!(l.contains_key("arch.txt"));
    }
    assert_ne!(host_id, other_id);
}

#[test]
fn auth_registry_requires_credentials() {
    let reg = Registry::start_with_auth("alice", "s3cret");
    let dir = ScratchDir::new("layout");
    images::busybox(&dir);
    reg.push(&dir, "busybox:latest", false, Some(("alice", "s3cret")));
    let r = format!("docker://{}/busybox:latest", reg.addr());
    let anon = skopeo(&["inspect", "--tls-verify=false", "--no-creds", &r]);
    assert!(!anon.status.success());
    let err = String::from_utf8_lossy(&anon.stderr).to_lowercase();
    assert!(err.contains("unauthorized") || err.contains("authentication"), "{err}");
    let wrong = skopeo(&["inspect", "--tls-verify=false", "--creds", "alice:wrong", &r]);
    assert!(!wrong.status.success());
    skopeo_json(&["inspect", "--tls-verify=false", "--creds", "alice:s3cret", &r]);
}

#[test]
fn hostile_entries_keep_their_names() {
    let escape = "../../../../tmp/kiste-escape";
    let t = images::tar(&[
        Entry::Raw(escape.as_bytes(), tar::EntryType::Regular, b""),
        Entry::Symlink("evil", "/tmp/kiste-escape-dir"),
        Entry::File("evil/pwned.txt", b"bad", 0o644),
        Entry::Raw(b"stolen", tar::EntryType::Link, b"/etc/shadow"),
        Entry::Raw(b"stolen2", tar::EntryType::Link, b"../../../../etc/passwd"),
    ]);
    let l = list(&t);
    assert!(l.contains_key(escape), "{l:?}");
    assert_eq!(l["evil"].3, "/tmp/kiste-escape-dir");
    assert!(l.contains_key("evil/pwned.txt"));
    assert_eq!(l["stolen"].3, "/etc/shadow");
    assert_eq!(l["stolen2"].3, "../../../../etc/passwd");
    // GNU tar, too, reads the headers as written (checksums valid).
    let dir = ScratchDir::new("tar");
    std::fs::write(dir.join("t.tar"), &t).unwrap();
    let o = Command::new("tar").arg("-tf").arg(dir.join("t.tar")).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).lines().any(|n| n == escape));
}

#[test]
fn test_home_runs_commands_as_the_test_user() {
    let u = user();
    let h = TestHome::new();
    let reg = Registry::start();
    h.use_registry(&reg);
    let script = "id -u; id -g; id -G; echo \"$HOME|$XDG_DATA_HOME|$XDG_CONFIG_HOME|$XDG_RUNTIME_DIR|$USER\"; \
                  stat -c %a:%u \"$XDG_RUNTIME_DIR\" \"$HOME\"; env | wc -l; test -x \"$1\" && echo runnable; \
                  touch \"$HOME/w\" && echo writable; cat \"$XDG_CONFIG_HOME/containers/registries.conf\"";
    let o = h.user_command("sh").args(["-c", script, "sh", common::kiste_bin().to_str().unwrap()]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8(o.stdout).unwrap();
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], u.uid.to_string());
    assert_eq!(lines[1], u.gid.to_string());
    assert_eq!(lines[2], u.gid.to_string(), "supplementary groups cleared");
    let paths = format!(
        "{}|{}|{}|{}|{}",
        h.home().display(),
        h.root.join("data").display(),
        h.home().join(".config").display(),
        h.runtime().display(),
        u.name
    );
    assert_eq!(lines[3], paths);
    assert_eq!(lines[4], format!("700:{}", u.uid), "XDG_RUNTIME_DIR is private to the user");
    assert_eq!(lines[5], format!("755:{}", u.uid));
    // HOME USER XDG_* x4 PATH, plus what sh itself exports (PWD, SHLVL, _).
    assert!(lines[6].trim().parse::<u32>().unwrap() <= 10, "environment cleared: {out}");
    assert_eq!(&lines[7..9], ["runnable", "writable"]);
    assert!(out.contains(&format!("unqualified-search-registries = [\"{}\"]", reg.addr())), "{out}");
    assert!(out.contains("insecure = true"), "{out}");
    let root = h.root.clone();
    drop(h);
    assert!(!root.exists(), "the home is removed on drop");
}

#[test]
fn registry_stops_on_drop_and_free_ports_are_free() {
    let reg = Registry::start();
    let port = reg.port;
    let dir = reg.dir.clone();
    assert!(dir.join("config.yml").exists());
    drop(reg);
    assert!(std::net::TcpStream::connect(("127.0.0.1", port)).is_err(), "registry still listening");
    assert!(!dir.exists());
    let free = common::free_port();
    assert!(std::net::TcpListener::bind(("127.0.0.1", free)).is_ok(), "free_port gave a port in use: {free}");
}

#[test]
fn kiste_binary_copy_is_world_executable() {
    let bin = common::kiste_bin();
    let m = std::fs::metadata(bin).unwrap();
    assert_eq!(m.mode() & 0o755, 0o755, "{}", bin.display());
    assert_eq!(m.len(), std::fs::metadata(env!("CARGO_BIN_EXE_kiste")).unwrap().len());
    if common::is_root() {
        assert!(bin.starts_with(std::env::temp_dir()), "copied out of target/: {}", bin.display());
        let parent = std::fs::metadata(bin.parent().unwrap()).unwrap();
        assert_eq!(parent.mode() & 0o777, 0o755);
    }
}
