//! Issue #2: pulling images into the rootless store, and managing them — driven through the
//! real binary as an unprivileged user against real registries on 127.0.0.1.

mod common;

use common::images::{self, Entry};
use common::{Registry, TestHome, scratch, user};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

fn registry_with(name: &str, build: impl FnOnce(&Path) -> String) -> (Registry, String) {
    let reg = Registry::start();
    let dir = scratch("layout");
    let id = build(&dir);
    reg.push(&dir, name, false, None);
    let _ = std::fs::remove_dir_all(&dir);
    (reg, id)
}

fn assert_nothing_listed(h: &TestHome) {
    assert_eq!(h.image_ids(), Vec::<String>::new(), "no image may be listed after a failed pull");
}

/// Finds `rel` in the union of layers, top first (a whiteout hides it).
fn lookup(dirs: &[PathBuf], rel: &str) -> Option<PathBuf> {
    for d in dirs.iter().rev() {
        let p = d.join(rel);
        if let Ok(m) = std::fs::symlink_metadata(&p) {
            if m.file_type().is_char_device() && m.rdev() == 0 {
                return None;
            }
            return Some(p);
        }
    }
    None
}

#[test]
fn pull_busybox_and_list() {
    let (reg, want) = registry_with("busybox:latest", images::busybox);
    let h = TestHome::new();
    h.use_registry(&reg);
    let full = format!("{}/busybox:latest", reg.addr());
    let out = h.ok(&["pull", &full]);
    assert_eq!(out.trim(), want.trim_start_matches("sha256:"), "not a terminal: only the ID is printed");
    let table = h.ok(&["images"]);
    let head: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(head, ["REPOSITORY", "TAG", "IMAGE", "ID", "CREATED", "SIZE"]);
    assert!(table.contains(&format!("{}/busybox", reg.addr())) && table.contains("latest"), "{table}");
    assert_eq!(h.ok(&["images", "-q"]).trim(), &want[7..19]);
    let json: serde_json::Value = serde_json::from_str(&h.ok(&["images", "--format", "json"])).unwrap();
    assert_eq!(json[0]["Id"], want[7..]);
    // The file is there, with its mode, owned by the user (image uid 0).
    let dirs = h.layer_dirs("busybox");
    let bb = lookup(&dirs, "bin/busybox").expect("bin/busybox unpacked");
    let m = std::fs::metadata(&bb).unwrap();
    assert_eq!(m.len(), std::fs::metadata("/bin/busybox").unwrap().len());
    assert_eq!(m.mode() & 0o7777, 0o755);
    assert_eq!(m.uid(), user().uid);
    assert_eq!(std::fs::read_link(lookup(&dirs, "bin/sh").unwrap()).unwrap(), Path::new("busybox"));
    // A second pull of a present image skips everything and gives the same ID.
    assert_eq!(h.pull(&full), want[7..]);
    // Podman's registry transport is understood; an archive transport is named as refused.
    assert_eq!(h.ok(&["pull", &format!("docker://{full}")]).trim(), &want[7..]);
    assert_eq!(h.ok(&["run", "--rm", &format!("docker://{full}"), "echo", "ran"]).trim(), "ran");
    let (c, err) = h.err(&["pull", "oci-archive:/tmp/img.tar"]);
    assert!(c == 125 && err.contains("\"oci-archive\""), "{c} {err}");
}

#[test]
fn short_name_resolves_through_registries_conf() {
    // Only docker.io adds "library/"; other search registries take the name as it is.
    let (reg, want) = registry_with("busybox:latest", images::busybox);
    let h = TestHome::new();
    h.use_registry(&reg);
    assert_eq!(h.pull("busybox"), want[7..]);
    let v = h.inspect("busybox");
    assert_eq!(v["RepoTags"][0], format!("{}/busybox:latest", reg.addr()));
    let (code, err) = h.err(&["pull", "nosuchimage"]);
    assert_eq!(code, 125);
    assert!(err.contains("nosuchimage") && err.contains(&reg.addr()), "{err}");
}

#[test]
fn layered_image_whiteouts_links_modes_and_owners() {
    let (reg, want) = registry_with("layered:latest", images::layered);
    let h = TestHome::new();
    h.use_registry(&reg);
    assert_eq!(h.pull(&format!("{}/layered", reg.addr())), want[7..]);
    let dirs = h.layer_dirs("layered");
    assert_eq!(dirs.len(), 4);
    let u = user();
    let read =
        |rel: &str| std::fs::read_to_string(lookup(&dirs, rel).unwrap_or_else(|| panic!("{rel} missing"))).unwrap();
    assert_eq!(read("data/keep.txt"), "keep\n");
    assert_eq!(read("data/plain.txt"), "plain\n");
    assert!(lookup(&dirs, "data/gone.txt").is_none(), "whiteout hides gone.txt");
    let wh = std::fs::symlink_metadata(dirs[2].join("data/gone.txt")).unwrap();
    assert!(wh.file_type().is_char_device() && wh.rdev() == 0, "whiteout is a 0/0 character device");
    // Opaque: layer 3's opqdir is marked, so old.txt below is hidden.
    let mut buf = [0u8; 8];
    let path = std::ffi::CString::new(dirs[2].join("opqdir").into_os_string().into_encoded_bytes()).unwrap();
    let n =
        unsafe { libc::lgetxattr(path.as_ptr(), c"user.overlay.opaque".as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
    assert_eq!(&buf[..n.max(0) as usize], b"y", "opqdir is opaque");
    assert!(!dirs[2].join("opqdir/.wh..wh..opq").exists());
    assert_eq!(std::fs::read_to_string(dirs[2].join("opqdir/new.txt")).unwrap(), "new\n");
    // Modes and owners as the container will see them.
    let suid = std::fs::metadata(lookup(&dirs, "data/setuid-bin").unwrap()).unwrap();
    assert_eq!(suid.mode() & 0o7777, 0o4755);
    assert_eq!(suid.uid(), u.uid);
    let owned = std::fs::metadata(lookup(&dirs, "data/owned1000.txt").unwrap()).unwrap();
    assert_eq!(
        (owned.uid(), owned.gid()),
        (u.subuid_start + 999, u.subuid_start + 999),
        "image uid 1000 -> subuid+999"
    );
    assert_eq!(owned.mode() & 0o777, 0o640);
    assert_eq!(owned.mtime(), images::MTIME as i64);
    // Links.
    assert_eq!(std::fs::read_link(dirs[2].join("data/link")).unwrap(), Path::new("keep.txt"));
    let (a, b) = (
        std::fs::metadata(dirs[2].join("data/hard")).unwrap(),
        std::fs::metadata(dirs[2].join("data/keep.txt")).unwrap(),
    );
    assert_eq!(a.ino(), b.ino(), "hardlink shares the inode");
    // Sizes and digests are reported.
    let v = h.inspect(&want[7..19]);
    assert_eq!(v["RootFS"]["Layers"].as_array().unwrap().len(), 4);
    assert!(v["Size"].as_u64().unwrap() > 0);
}

#[test]
fn index_resolves_to_host_platform_and_arch_flag() {
    let reg = Registry::start();
    let dir = scratch("layout");
    let (host_id, other_id) = images::multiarch(&dir);
    reg.push(&dir, "multi:latest", true, None);
    let h = TestHome::new();
    h.use_registry(&reg);
    let r = format!("{}/multi:latest", reg.addr());
    assert_eq!(h.pull(&r), host_id[7..]);
    let dirs = h.layer_dirs(&r);
    assert_eq!(std::fs::read_to_string(dirs[0].join("arch.txt")).unwrap().trim(), images::host_arch());
    assert_eq!(h.inspect(&r)["Architecture"], images::host_arch());
    assert_eq!(h.pull_with(&["--arch", images::other_arch(), &r]), other_id[7..]);
    let dirs = h.layer_dirs(&other_id[7..]);
    assert_eq!(std::fs::read_to_string(dirs[0].join("arch.txt")).unwrap().trim(), images::other_arch());
    let (code, err) = h.err(&["pull", "--platform", "linux/s390x", &r]);
    assert_eq!(code, 125);
    assert!(err.contains("s390x"), "{err}");
}

trait PullWith {
    fn pull_with(&self, args: &[&str]) -> String;
}
impl PullWith for TestHome {
    fn pull_with(&self, args: &[&str]) -> String {
        let mut a = vec!["pull"];
        a.extend_from_slice(args);
        self.ok(&a).lines().last().unwrap().to_string()
    }
}

#[test]
fn tag_untag_rmi_prune_and_exists() {
    let (reg, id) = registry_with("busybox:latest", images::busybox);
    let h = TestHome::new();
    h.use_registry(&reg);
    let full = format!("{}/busybox:latest", reg.addr());
    h.pull(&full);
    let layer = h.layer_dirs(&full).pop().unwrap();
    h.ok(&["tag", &full, "mine:v1"]);
    assert!(h.ok(&["images"]).contains("localhost/mine"));
    let short = &id[7..19];
    let (code, err) = h.err(&["rmi", short]);
    assert_eq!(code, 125);
    assert!(err.contains("more than one") || err.contains("force"), "{err}");
    assert!(h.ok(&["rmi", "localhost/mine:v1"]).contains("Untagged: localhost/mine:v1"));
    assert_eq!(h.kiste(&["image", "exists", &full]).status.code(), Some(0));
    h.ok(&["untag", &full]);
    // Untagged but still present: dangling; prune removes it and its layer.
    assert_eq!(h.image_ids(), vec![id[7..].to_string()]);
    h.ok(&["image", "prune", "-f"]);
    assert!(h.image_ids().is_empty());
    assert!(!layer.exists(), "layer removed with its last image");
    assert_eq!(h.kiste(&["image", "exists", &full]).status.code(), Some(1));
    // rmi by full ID after a new pull; -f with several names.
    h.pull(&full);
    h.ok(&["tag", &full, "other"]);
    let out = h.ok(&["rmi", "-f", short]);
    assert!(out.contains(&format!("Deleted: {}", &id[7..])), "{out}");
    assert!(h.image_ids().is_empty());
    // As Podman: a missing image is exit 1 for rmi.
    let (code, err) = h.err(&["rmi", "nothere"]);
    assert_eq!(code, 1);
    assert!(err.contains("nothere"), "{err}");
}

#[test]
fn unknown_image_and_unreachable_registry() {
    let reg = Registry::start();
    let h = TestHome::new();
    h.use_registry(&reg);
    let (code, err) = h.err(&["pull", &format!("{}/nope:latest", reg.addr())]);
    assert_eq!(code, 125);
    assert!(err.contains("not found") && err.contains(&reg.addr()), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    let dead = format!("127.0.0.1:{}", common::free_port());
    let (code, err) = h.err(&["pull", "--tls-verify=false", &format!("{dead}/x:latest")]);
    assert_eq!(code, 125);
    assert!(err.contains(&dead), "{err}");
    assert_nothing_listed(&h);
}

/// Without any CA certificate (SSL_CERT_FILE and SSL_CERT_DIR point at nothing), a pull
/// ends with a one-line error that says what to install, not a panic (the registry client's
/// library panics there); for a secure and an insecure registry alike.
#[test]
fn no_ca_certificates_is_a_clear_error() {
    let reg = Registry::start();
    let h = TestHome::new();
    h.use_registry(&reg);
    let image = format!("{}/nope:latest", reg.addr());
    for tls in ["--tls-verify=true", "--tls-verify=false"] {
        let mut cmd = h.command(&["pull", tls, &image]);
        cmd.env("SSL_CERT_FILE", "/nonexistent/ca.pem").env("SSL_CERT_DIR", "/nonexistent/certs");
        let out = common::output_within(&mut cmd, 120, "kiste pull without CA certificates");
        let err = common::stderr(&out);
        assert_eq!(common::code(&out), 125, "{tls}: {err}");
        assert!(err.contains("no CA certificates") && err.contains("ca-certificates"), "{tls}: {err}");
        assert!(!err.contains("panicked"), "{tls}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{tls}: one line: {err}");
    }
    assert_nothing_listed(&h);
}

#[test]
fn basic_auth_login_logout() {
    let reg = Registry::start_with_auth("alice", "s3cret");
    let dir = scratch("layout");
    images::busybox(&dir);
    reg.push(&dir, "busybox:latest", false, Some(("alice", "s3cret")));
    let h = TestHome::new();
    h.use_registry(&reg);
    let r = format!("{}/busybox:latest", reg.addr());
    let (code, err) = h.err(&["pull", &r]);
    assert_eq!(code, 125);
    assert!(err.to_lowercase().contains("auth"), "{err}");
    let bad = h.with_stdin(&["login", "-u", "alice", "--password-stdin", &reg.addr()], "wrong\n");
    assert_eq!(bad.status.code(), Some(125), "{}", String::from_utf8_lossy(&bad.stderr));
    let good = h.with_stdin(&["login", "-u", "alice", "--password-stdin", &reg.addr()], "s3cret\n");
    assert!(good.status.success(), "{}", String::from_utf8_lossy(&good.stderr));
    assert!(String::from_utf8_lossy(&good.stdout).contains("Login Succeeded!"));
    let auth = h.runtime().join("containers/auth.json");
    assert_eq!(std::fs::metadata(&auth).unwrap().mode() & 0o777, 0o600);
    h.pull(&r);
    h.ok(&["logout", &reg.addr()]);
    h.ok(&["rmi", &r]);
    assert_eq!(h.err(&["pull", &r]).0, 125);
    // --creds works without login.
    h.ok(&["pull", "--creds", "alice:s3cret", &r]);
}

#[test]
fn corrupt_blob_is_refused() {
    let reg = Registry::start();
    let dir = scratch("layout");
    images::busybox(&dir);
    let layer = images::busybox_layer();
    reg.push(&dir, "busybox:latest", false, None);
    let blob = {
        let d = format!("sha256:{}", hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&layer.blob)));
        reg.blob_path(&d)
    };
    let mut bytes = std::fs::read(&blob).expect("layer blob in registry storage");
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let h = TestHome::new();
    h.use_registry(&reg);
    let (code, err) = h.err(&["pull", &format!("{}/busybox:latest", reg.addr())]);
    assert_eq!(code, 125);
    assert!(err.contains("digest"), "{err}");
    assert_nothing_listed(&h);
    let blobs = h.data().join("storage/blobs");
    let leftovers: Vec<_> =
        std::fs::read_dir(&blobs).map(|r| r.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    assert!(!leftovers.iter().any(|n| n.to_string_lossy().starts_with(&layer.diff_id[7..12])), "{leftovers:?}");
}

fn hostile(name: &str, entries: &[Entry], escape: &Path) {
    let reg = Registry::start();
    let dir = scratch("layout");
    images::single(&dir, entries);
    reg.push(&dir, &format!("{name}:latest"), false, None);
    let h = TestHome::new();
    h.use_registry(&reg);
    let (code, err) = h.err(&["pull", &format!("{}/{name}:latest", reg.addr())]);
    assert_eq!(code, 125, "{err}");
    assert!(err.contains("refused") || err.contains("not in this layer"), "{err}");
    assert!(!escape.exists(), "{} was written outside the store", escape.display());
    assert_nothing_listed(&h);
    // No unfinished layer directory stays behind.
    let layers = h.data().join("storage/layers");
    let left: Vec<_> =
        std::fs::read_dir(&layers).map(|r| r.flatten().map(|e| e.file_name()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "left in layers/: {left:?}");
}

#[test]
fn layer_with_dotdot_entries_is_refused() {
    let target = scratch("escape").join("dotdot.txt");
    let name = format!("../../../../../../..{}", target.display());
    hostile("dotdot", &[Entry::Raw(name.as_bytes(), tar::EntryType::Regular, b"")], &target);
}

#[test]
fn absolute_symlink_escape_is_refused() {
    let outside = scratch("escape");
    std::fs::set_permissions(&outside, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let target = outside.join("pwned.txt");
    hostile(
        "abssymlink",
        &[Entry::Symlink("evil", outside.to_str().unwrap()), Entry::File("evil/pwned.txt", b"bad", 0o644)],
        &target,
    );
}

#[test]
fn hardlink_to_outside_is_refused() {
    let outside = scratch("escape");
    let secret = outside.join("secret");
    std::fs::write(&secret, "secret").unwrap();
    let stolen_marker = outside.join("never");
    for link in [format!("../../../../../../..{}", secret.display()), secret.display().to_string()] {
        hostile("hardlink", &[Entry::Raw(b"stolen", tar::EntryType::Link, link.as_bytes())], &stolen_marker);
    }
    assert_eq!(std::fs::metadata(&secret).unwrap().nlink(), 1, "no link was made to the outside file");
}

#[test]
fn concurrent_pulls_store_once() {
    let (reg, id) = registry_with("layered:latest", images::layered);
    let h = TestHome::new();
    h.use_registry(&reg);
    let r = format!("{}/layered:latest", reg.addr());
    let piped = std::process::Stdio::piped;
    let children: Vec<_> =
        (0..2).map(|_| h.command(&["pull", &r]).stdout(piped()).stderr(piped()).spawn().unwrap()).collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "concurrent pull failed: {}", String::from_utf8_lossy(&o.stderr));
    }
    assert_eq!(h.image_ids(), vec![id[7..].to_string()]);
    let layers = std::fs::read_dir(h.data().join("storage/layers")).unwrap().flatten().count();
    assert_eq!(layers, 4, "each layer stored once");
}

#[test]
fn killed_pull_leaves_no_half_image_and_next_pull_works() {
    // An image big enough (~40 MiB) that SIGKILL lands during downloads and unpacking: the
    // delays are fractions of a full pull's time on this machine.
    let (reg, id) = registry_with("big:latest", |d| images::big(d, 40));
    let r = format!("{}/big:latest", reg.addr());
    let full = {
        let h = TestHome::new();
        h.use_registry(&reg);
        let t = std::time::Instant::now();
        assert_eq!(h.pull(&r), id[7..]);
        t.elapsed()
    };
    let h = TestHome::new();
    h.use_registry(&reg);
    let mut interrupted = 0;
    for tenths in [1, 3, 5, 7, 9] {
        let null = std::process::Stdio::null;
        let mut c = h.command(&["pull", &r]).stdout(null()).stderr(null()).spawn().unwrap();
        std::thread::sleep(full * tenths / 10);
        if c.try_wait().unwrap().is_none() {
            interrupted += 1;
        }
        let _ = c.kill();
        let _ = c.wait();
        for listed in h.image_ids() {
            // Whatever is listed is complete: every layer directory exists.
            for d in h.layer_dirs(&listed) {
                assert!(d.is_dir(), "listed image {listed} lacks layer {}", d.display());
            }
            h.ok(&["rmi", "-f", &listed]);
        }
    }
    assert!(interrupted > 0, "no pull was killed before it finished (a full pull took {full:?})");
    assert_eq!(h.pull(&r), id[7..]);
    h.ok(&["rmi", &r]);
    let left: Vec<_> =
        std::fs::read_dir(h.data().join("storage/layers")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "leftovers of killed pulls were cleaned: {left:?}");
}

#[test]
fn version_and_info() {
    let h = TestHome::new();
    assert!(h.ok(&["version"]).contains(env!("CARGO_PKG_VERSION")));
    let info: serde_json::Value = serde_json::from_str(&h.ok(&["info", "--format", "json"])).unwrap();
    assert_eq!(info["host"]["rootless"], true);
    let uidmap = &info["host"]["idMappings"]["uidmap"];
    assert_eq!(uidmap[1]["host_id"], user().subuid_start);
    assert!(info["store"]["graphRoot"].as_str().unwrap().starts_with(h.data().to_str().unwrap()));
    let mode = info["store"]["graphStatus"]["mode"].as_str().unwrap();
    assert!(["native overlay", "fuse-overlayfs", "vfs"].contains(&mode), "{mode}");
    let (code, err) = h.err(&["pull"]);
    assert_eq!(code, 125, "{err}");
    assert_eq!(h.kiste(&["images", "--help"]).status.code(), Some(0));
}

#[test]
fn rootful_pull_keeps_image_owners() {
    assert!(common::is_root(), "the suite runs as root in CI (scripts/test.sh); this test needs it");
    let (reg, want) = registry_with("layered:latest", images::layered);
    let h = TestHome::new();
    h.use_registry(&reg);
    let r = format!("{}/layered:latest", reg.addr());
    let o = h.command_as_root(&["pull", &r]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), &want[7..]);
    let o = h.command_as_root(&["image", "inspect", &r]).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let upper = PathBuf::from(v[0]["GraphDriver"]["Data"]["LowerDir"].as_str().unwrap().split(':').nth(1).unwrap());
    let owned = std::fs::metadata(upper.join("data/owned1000.txt")).unwrap();
    assert_eq!((owned.uid(), owned.gid()), (1000, 1000), "root keeps the image's owners");
    let opaque = std::ffi::CString::new(
        PathBuf::from(v[0]["GraphDriver"]["Data"]["LowerDir"].as_str().unwrap().split(':').next().unwrap())
            .join("opqdir")
            .into_os_string()
            .into_encoded_bytes(),
    )
    .unwrap();
    let mut buf = [0u8; 4];
    let n = unsafe { libc::lgetxattr(opaque.as_ptr(), c"trusted.overlay.opaque".as_ptr(), buf.as_mut_ptr().cast(), 4) };
    assert_eq!(n, 1, "rootful opaque directories use trusted.overlay.opaque");
}

#[test]
fn runtime_dir_fallback_is_reported_once() {
    let h = TestHome::new();
    let tmp = h.root.join("tmp");
    std::fs::create_dir_all(&tmp).unwrap();
    std::fs::set_permissions(&tmp, std::os::unix::fs::PermissionsExt::from_mode(0o1777)).unwrap();
    let run = |args: &[&str]| {
        let mut c = h.command(args);
        c.env_remove("XDG_RUNTIME_DIR").env("TMPDIR", &tmp);
        c.output().unwrap()
    };
    let first = run(&["images"]);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let msg = String::from_utf8_lossy(&first.stderr);
    assert!(
        msg.contains("XDG_RUNTIME_DIR") && msg.contains(&format!("kiste-run-{}", user().uid)),
        "no fallback reported (does /run/user/{} exist? it is used instead): {msg}",
        user().uid
    );
    let second = run(&["images"]);
    assert!(second.status.success(), "{}", String::from_utf8_lossy(&second.stderr));
    assert!(second.stderr.is_empty(), "reported once: {}", String::from_utf8_lossy(&second.stderr));
    let m = std::fs::metadata(tmp.join(format!("kiste-run-{}", user().uid))).unwrap();
    assert_eq!(m.mode() & 0o777, 0o700);
}

/// A registry requiring Bearer tokens (the Docker Hub / GHCR flow): an anonymous token for a
/// public repository, a token for credentials (`login`, `--creds`) checked by the token
/// server, and one clear line with exit 125 for wrong or missing credentials.
#[test]
fn bearer_token_auth_anonymous_and_with_credentials() {
    let ts = common::token::TokenServer::start("bob", "t0ken-pass");
    // The image goes in through a plain registry on the storage the token registry serves.
    let plain = Registry::start();
    let dir = scratch("layout");
    let want = images::busybox(&dir).trim_start_matches("sha256:").to_string();
    plain.push(&dir, "public/busybox:latest", false, None);
    plain.push(&dir, "private/busybox:latest", false, None);
    let _ = std::fs::remove_dir_all(&dir);
    let reg = Registry::start_with_token(&ts, &plain.storage_root());
    let diag = || format!("token requests: {:#?}\nregistry log:\n{}", ts.requests(), reg.log());
    let h = TestHome::new();
    h.use_registry(&reg);
    let public = format!("{}/public/busybox:latest", reg.addr());
    let private = format!("{}/private/busybox:latest", reg.addr());
    let one_line = |what: &str, (code, err): (i32, String)| {
        assert_eq!(code, 125, "{what}: {err}\n{}", diag());
        assert_eq!(err.trim().lines().count(), 1, "{what}: one line: {err}");
        err
    };

    // Anonymous: the token server issues a pull token without credentials.
    let o = h.kiste(&["pull", &public]);
    assert!(o.status.success(), "anonymous pull: {}\n{}", String::from_utf8_lossy(&o.stderr), diag());
    assert_eq!(String::from_utf8_lossy(&o.stdout).lines().last(), Some(want.as_str()));
    let reqs = ts.requests();
    assert!(
        reqs.iter().any(|r| r.basic.is_none()
            && r.status == 200
            && r.service.as_deref() == Some(common::token::SERVICE)
            && r.scopes.iter().any(|s| s == "repository:public/busybox:pull")),
        "no anonymous token request for public/busybox: {reqs:#?}"
    );
    h.ok(&["rmi", &public]);

    // The anonymous token grants nothing on the private repository: the registry refuses.
    let err = one_line("private, anonymous", h.err(&["pull", &private]));
    assert!(err.contains("authentication required") && err.contains(&reg.addr()), "{err}");
    assert_nothing_listed(&h);

    // Wrong credentials: the token server answers 401.
    let err = one_line("--creds wrong", h.err(&["pull", "--creds", "bob:wrong", &private]));
    assert!(err.contains("wrong username or password") && err.contains(&reg.addr()), "{err}");
    assert_nothing_listed(&h);
    assert!(ts.requests().iter().any(|r| r.basic.as_deref() == Some("bob:wrong") && r.status == 401));
    let bad = h.with_stdin(&["login", "-u", "bob", "--password-stdin", &reg.addr()], "wrong\n");
    let err = one_line("login wrong", (bad.status.code().unwrap_or(-1), String::from_utf8_lossy(&bad.stderr).into()));
    assert!(err.contains("wrong username or password"), "{err}");
    assert!(!h.runtime().join("containers/auth.json").exists(), "a failed login stores nothing");

    // The right credentials, from login (auth.json), then from --creds.
    let good = h.with_stdin(&["login", "-u", "bob", "--password-stdin", &reg.addr()], "t0ken-pass\n");
    assert!(good.status.success(), "login: {}\n{}", String::from_utf8_lossy(&good.stderr), diag());
    assert!(String::from_utf8_lossy(&good.stdout).contains("Login Succeeded!"));
    let o = h.kiste(&["pull", &private]);
    assert!(o.status.success(), "pull after login: {}\n{}", String::from_utf8_lossy(&o.stderr), diag());
    assert_eq!(h.image_ids(), vec![want.clone()]);
    assert!(
        ts.requests().iter().any(|r| r.basic.as_deref() == Some("bob:t0ken-pass")
            && r.status == 200
            && r.scopes.iter().any(|s| s == "repository:private/busybox:pull")),
        "no token request with the credentials: {:#?}",
        ts.requests()
    );
    h.ok(&["logout", &reg.addr()]);
    h.ok(&["rmi", &private]);
    one_line("private after logout", h.err(&["pull", &private]));
    assert_nothing_listed(&h);
    let o = h.kiste(&["pull", "--creds", "bob:t0ken-pass", &private]);
    assert!(o.status.success(), "pull --creds: {}\n{}", String::from_utf8_lossy(&o.stderr), diag());
    assert_eq!(h.image_ids(), vec![want]);
}
