//! Test images built from files on this machine (busybox-static) as OCI layouts on disk,
//! ready for `Registry::push`: tar layers (gzip, zstd, plain), configs, manifests, indexes,
//! and hostile layers whose entries try to leave the layer root.

use sha2::{Digest, Sha256};
use std::io::Write;
use std::path::Path;

pub const MTIME: u64 = 1_700_000_000;

pub fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        a => a,
    }
}

pub fn other_arch() -> &'static str {
    if host_arch() == "arm64" { "amd64" } else { "arm64" }
}

fn sha(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

#[derive(Clone, Copy)]
pub enum Compression {
    Gzip,
    Zstd,
    None,
}

/// One tar entry of a test layer.
pub enum Entry<'a> {
    Dir(&'a str, u32),
    File(&'a str, &'a [u8], u32),
    Owned(&'a str, &'a [u8], u32, u64),
    Symlink(&'a str, &'a str),
    Hardlink(&'a str, &'a str),
    /// A raw entry name the tar crate would refuse (e.g. with `..`): (name, type, link).
    Raw(&'a [u8], tar::EntryType, &'a [u8]),
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(MTIME);
    h
}

pub fn tar(entries: &[Entry]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            Entry::Dir(p, mode) => {
                let mut h = header(tar::EntryType::Directory, *mode, 0);
                b.append_data(&mut h, p, &[][..]).unwrap();
            }
            Entry::File(p, data, mode) => {
                let mut h = header(tar::EntryType::Regular, *mode, data.len() as u64);
                b.append_data(&mut h, p, *data).unwrap();
            }
            Entry::Owned(p, data, mode, id) => {
                let mut h = header(tar::EntryType::Regular, *mode, data.len() as u64);
                h.set_uid(*id);
                h.set_gid(*id);
                b.append_data(&mut h, p, *data).unwrap();
            }
            Entry::Symlink(p, target) => {
                let mut h = header(tar::EntryType::Symlink, 0o777, 0);
                b.append_link(&mut h, p, target).unwrap();
            }
            Entry::Hardlink(p, target) => {
                let mut h = header(tar::EntryType::Link, 0o644, 0);
                b.append_link(&mut h, p, target).unwrap();
            }
            Entry::Raw(name, kind, link) => {
                let mut h = header(*kind, 0o644, 0);
                let old = h.as_old_mut();
                old.name[..name.len()].copy_from_slice(name);
                old.linkname[..link.len()].copy_from_slice(link);
                h.set_cksum();
                b.append(&h, &[][..]).unwrap();
            }
        }
    }
    b.into_inner().unwrap()
}

pub struct Layer {
    pub blob: Vec<u8>,
    pub diff_id: String,
    pub media_type: &'static str,
}

impl Layer {
    /// The digest of the (compressed) blob, as in the manifest.
    pub fn digest(&self) -> String {
        sha(&self.blob)
    }
}

pub fn layer(entries: &[Entry], c: Compression) -> Layer {
    layer_from_tar(tar(entries), c)
}

/// A layer of an uncompressed tar stream made by hand (sparse entries, trailing data...).
pub fn layer_from_tar(raw: Vec<u8>, c: Compression) -> Layer {
    let diff_id = sha(&raw);
    let (blob, media_type) = match c {
        Compression::Gzip => {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            e.write_all(&raw).unwrap();
            (e.finish().unwrap(), "application/vnd.oci.image.layer.v1.tar+gzip")
        }
        Compression::Zstd => (zstd::encode_all(&raw[..], 3).unwrap(), "application/vnd.oci.image.layer.v1.tar+zstd"),
        Compression::None => (raw, "application/vnd.oci.image.layer.v1.tar"),
    };
    Layer { blob, diff_id, media_type }
}

/// An OCI layout being written.
pub struct Layout<'a> {
    dir: &'a Path,
    manifests: Vec<serde_json::Value>,
}

impl<'a> Layout<'a> {
    pub fn new(dir: &'a Path) -> Layout<'a> {
        std::fs::create_dir_all(dir.join("blobs/sha256")).unwrap();
        std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        Layout { dir, manifests: Vec::new() }
    }

    fn blob(&self, data: &[u8]) -> String {
        let d = sha(data);
        std::fs::write(self.dir.join("blobs/sha256").join(&d[7..]), data).unwrap();
        d
    }

    /// Adds an image; returns (manifest digest, config digest = image ID).
    pub fn image(&mut self, layers: &[Layer], arch: &str) -> (String, String) {
        self.image_exposing(layers, arch, &[])
    }

    /// As `image`, with these ExposedPorts (`80/tcp`) in the config.
    pub fn image_exposing(&mut self, layers: &[Layer], arch: &str, exposed: &[&str]) -> (String, String) {
        let exposed: serde_json::Map<String, serde_json::Value> =
            exposed.iter().map(|p| (p.to_string(), serde_json::json!({}))).collect();
        self.image_configured(layers, arch, serde_json::json!({"ExposedPorts": exposed}))
    }

    /// As `image`, with these keys added to (or replacing) the config's `config` section.
    pub fn image_configured(&mut self, layers: &[Layer], arch: &str, extra: serde_json::Value) -> (String, String) {
        let mut run = serde_json::json!({"Cmd": ["/bin/sh"],
            "Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]});
        if let (Some(run), Some(extra)) = (run.as_object_mut(), extra.as_object()) {
            run.extend(extra.clone());
        }
        let config = serde_json::json!({
            "architecture": arch, "os": "linux", "created": "2023-11-14T22:13:20Z",
            "config": run,
            "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
            // One entry per layer, as real images have (buildah refuses a base without).
            "history": layers.iter().map(|_| serde_json::json!({"created": "2023-11-14T22:13:20Z",
                "created_by": "/bin/sh -c #(nop) ADD file in /"})).collect::<Vec<_>>(),
        });
        let config = serde_json::to_vec(&config).unwrap();
        let config_digest = self.blob(&config);
        let layer_descs: Vec<_> = layers
            .iter()
            .map(|l| serde_json::json!({"mediaType": l.media_type, "digest": self.blob(&l.blob), "size": l.blob.len()}))
            .collect();
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
            "layers": layer_descs,
        }))
        .unwrap();
        let md = self.blob(&manifest);
        self.manifests.push(serde_json::json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": md, "size": manifest.len(),
            "platform": {"architecture": arch, "os": "linux"},
        }));
        (md, config_digest)
    }

    /// Writes index.json tagging the image (or, with several, a nested image index) `latest`.
    pub fn finish(self) {
        let top = if self.manifests.len() == 1 {
            let mut m = self.manifests[0].clone();
            m["annotations"] = serde_json::json!({"org.opencontainers.image.ref.name": "latest"});
            m
        } else {
            let index = serde_json::to_vec(&serde_json::json!({
                "schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": self.manifests,
            }))
            .unwrap();
            let d = self.blob(&index);
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.index.v1+json", "digest": d, "size": index.len(),
                "annotations": {"org.opencontainers.image.ref.name": "latest"},
            })
        };
        let index = serde_json::json!({"schemaVersion": 2, "manifests": [top]});
        std::fs::write(self.dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
    }
}

pub fn busybox_layer() -> Layer {
    let bb =
        std::fs::read("/bin/busybox").expect("/bin/busybox missing: install busybox-static (scripts/test.sh does)");
    let mut entries = vec![
        Entry::Dir("bin", 0o755),
        Entry::File("bin/busybox", &bb, 0o755),
        Entry::Dir("etc", 0o755),
        Entry::File("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n", 0o644),
        Entry::File("etc/group", b"root:x:0:\nstaff:x:50:\nnogroup:x:65534:\n", 0o644),
        Entry::Dir("root", 0o700),
        Entry::Dir("tmp", 0o1777),
    ];
    for tool in ["sh", "ls", "cat", "echo", "sleep", "true"] {
        entries.push(Entry::Symlink(Box::leak(format!("bin/{tool}").into_boxed_str()), "busybox"));
    }
    layer(&entries, Compression::Gzip)
}

/// A one-layer busybox image. Returns the image ID.
pub fn busybox(dir: &Path) -> String {
    let mut l = Layout::new(dir);
    let (_, id) = l.image(&[busybox_layer()], host_arch());
    l.finish();
    id
}

/// Busybox plus three layers: files (setuid, uid 1000), then whiteout/opaque/links (zstd),
/// then one file (uncompressed).
pub fn layered(dir: &Path) -> String {
    let l2 = layer(
        &[
            Entry::Dir("data", 0o755),
            Entry::File("data/keep.txt", b"keep\n", 0o644),
            Entry::File("data/gone.txt", b"gone\n", 0o644),
            Entry::Dir("opqdir", 0o755),
            Entry::File("opqdir/old.txt", b"old\n", 0o644),
            Entry::File("data/setuid-bin", b"#!/bin/sh\n", 0o4755),
            Entry::Owned("data/owned1000.txt", b"mine\n", 0o640, 1000),
        ],
        Compression::Gzip,
    );
    let l3 = layer(
        &[
            Entry::Dir("data", 0o755),
            Entry::File("data/.wh.gone.txt", b"", 0o644),
            Entry::Dir("opqdir", 0o755),
            Entry::File("opqdir/.wh..wh..opq", b"", 0o644),
            Entry::File("opqdir/new.txt", b"new\n", 0o644),
            Entry::Symlink("data/link", "keep.txt"),
            Entry::File("data/keep.txt", b"keep\n", 0o644),
            Entry::Hardlink("data/hard", "data/keep.txt"),
        ],
        Compression::Zstd,
    );
    let l4 = layer(&[Entry::Dir("data", 0o755), Entry::File("data/plain.txt", b"plain\n", 0o644)], Compression::None);
    let mut l = Layout::new(dir);
    let (_, id) = l.image(&[busybox_layer(), l2, l3, l4], host_arch());
    l.finish();
    id
}

/// An index with the host's architecture and another one, each with /arch.txt naming it.
pub fn multiarch(dir: &Path) -> (String, String) {
    let mut l = Layout::new(dir);
    let mut ids = Vec::new();
    for arch in [host_arch(), other_arch()] {
        let content = format!("{arch}\n");
        let lay = layer(&[Entry::File("arch.txt", content.as_bytes(), 0o644)], Compression::Gzip);
        ids.push(l.image(&[lay], arch).1);
    }
    l.finish();
    (ids[0].clone(), ids[1].clone())
}

/// Host programs and the shared libraries they load (as `ldd` lists them), for a test image
/// that needs dynamically linked tools (busybox-static's lookups can crash; busybox has no UDP
/// server): bash, getent, socat.
pub fn host_programs_layer(programs: &[&str]) -> Layer {
    let mut files: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for p in programs {
        let path = ["/usr/bin", "/bin", "/usr/sbin"]
            .iter()
            .map(|d| format!("{d}/{p}"))
            .find(|f| Path::new(f).exists())
            .unwrap_or_else(|| panic!("{p} missing on the host: install it (scripts/test.sh does)"));
        files.insert(path.clone());
        let out = std::process::Command::new("ldd").arg(&path).output().expect("ldd");
        for l in String::from_utf8_lossy(&out.stdout).lines() {
            // "libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x...)" or "/lib64/ld-linux-x86-64.so.2 (0x...)"
            let lib = l.split("=>").last().unwrap_or("").split_whitespace().next().unwrap_or("");
            if lib.starts_with('/') {
                files.insert(lib.to_string());
            }
        }
    }
    let data: Vec<(String, Vec<u8>)> =
        files.into_iter().map(|f| (f.trim_start_matches('/').to_string(), std::fs::read(&f).unwrap())).collect();
    let mut dirs: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for (f, _) in &data {
        let mut d = Path::new(f).parent();
        while let Some(p) = d.filter(|p| !p.as_os_str().is_empty()) {
            dirs.insert(p.display().to_string());
            d = p.parent();
        }
    }
    let mut entries: Vec<Entry> = dirs.iter().map(|d| Entry::Dir(d, 0o755)).collect();
    entries.extend(data.iter().map(|(f, b)| Entry::File(f, b, 0o755)));
    entries.push(Entry::File("etc/nsswitch.conf", b"hosts: files dns\n", 0o644));
    layer(&entries, Compression::Gzip)
}

/// Busybox plus bash, getent and socat from the host; exposes 80/tcp and 53/udp.
pub fn net(dir: &Path) -> String {
    let mut l = Layout::new(dir);
    let (_, id) = l.image_exposing(
        &[busybox_layer(), host_programs_layer(&["bash", "getent", "socat"])],
        host_arch(),
        &["80/tcp", "53/udp"],
    );
    l.finish();
    id
}

/// A one-layer image made of the given entries.
pub fn single(dir: &Path, entries: &[Entry]) -> String {
    let mut l = Layout::new(dir);
    let (_, id) = l.image(&[layer(entries, Compression::Gzip)], host_arch());
    l.finish();
    id
}

/// A benchmark image of at least `mb` MiB of compressed layers: gzip layers of ~20 MiB, each
/// 64 KiB files alternately random and random text (seeded: the same bytes every time).
pub fn big(dir: &Path, mb: usize) -> String {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        // xorshift64*
        state ^= state >> 12;
        state ^= state << 25;
        state ^= state >> 27;
        state.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut layers, mut total) = (Vec::new(), 0);
    while total < mb << 20 {
        let n = layers.len();
        let files: Vec<(String, Vec<u8>)> = (0..320)
            .map(|i| {
                let mut data: Vec<u8> = (0..8192).flat_map(|_| next().to_le_bytes()).collect();
                if i % 2 == 0 {
                    data.iter_mut().for_each(|b| *b = ALPHABET[(*b & 63) as usize]);
                }
                (format!("layer{n}/d{}/f{i}", i % 16), data)
            })
            .collect();
        let dirs: Vec<String> = (0..16).map(|d| format!("layer{n}/d{d}")).collect();
        let top = format!("layer{n}");
        let mut entries = vec![Entry::Dir(&top, 0o755)];
        entries.extend(dirs.iter().map(|d| Entry::Dir(d, 0o755)));
        entries.extend(files.iter().map(|(p, data)| Entry::File(p, data, 0o644)));
        let l = layer(&entries, Compression::Gzip);
        total += l.blob.len();
        layers.push(l);
    }
    let mut l = Layout::new(dir);
    let (_, id) = l.image(&layers, host_arch());
    l.finish();
    id
}

/// Every regular file, directory and symlink under `root` (a host directory), as layer entries
/// at their host paths, leaving out directories named in `skip`.
fn host_tree(
    root: &str,
    skip: &[&str],
    dirs: &mut std::collections::BTreeSet<String>,
    files: &mut Vec<(String, Vec<u8>, u32)>,
    links: &mut Vec<(String, String)>,
) {
    use std::os::unix::fs::PermissionsExt;
    let mut todo = vec![std::path::PathBuf::from(root)];
    while let Some(d) = todo.pop() {
        dirs.insert(d.display().to_string().trim_start_matches('/').to_string());
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            let m = std::fs::symlink_metadata(&p).unwrap();
            let rel = p.display().to_string().trim_start_matches('/').to_string();
            // Debian's: the site customisation lives in /etc, and pip would refuse to install.
            if name == "sitecustomize.py" || name == "EXTERNALLY-MANAGED" {
                continue;
            }
            if m.file_type().is_symlink() {
                links.push((rel, std::fs::read_link(&p).unwrap().display().to_string()));
            } else if m.is_dir() {
                if !skip.contains(&name.as_str()) {
                    todo.push(p);
                }
            } else if m.is_file() {
                files.push((rel, std::fs::read(&p).unwrap(), m.permissions().mode() & 0o777));
            }
        }
    }
}

/// A python:3.11-slim stand-in made from the host's Debian python3 and pip (scripts/test.sh
/// installs python3-pip): busybox, then /usr/bin/python3, its standard library, pip and the
/// libraries they load. Returns the image ID.
pub fn python(dir: &Path) -> String {
    let mut dirs = std::collections::BTreeSet::new();
    let (mut files, mut links) = (Vec::new(), Vec::new());
    let skip = ["test", "tests", "idlelib", "tkinter", "turtledemo", "ensurepip", "lib2to3", "__pycache__"];
    for tree in ["/usr/lib/python3.11", "/usr/lib/python3/dist-packages/pip"] {
        assert!(Path::new(tree).is_dir(), "{tree} missing: install python3 and python3-pip (scripts/test.sh does)");
        host_tree(tree, &skip, &mut dirs, &mut files, &mut links);
    }
    // The interpreter, and every library it or its extension modules load.
    let mut libs: std::collections::BTreeSet<String> = ["/usr/bin/python3.11".to_string()].into();
    let mut objects = vec!["/usr/bin/python3.11".to_string()];
    objects.extend(files.iter().filter(|(f, _, _)| f.ends_with(".so")).map(|(f, _, _)| format!("/{f}")));
    for o in objects {
        let out = std::process::Command::new("ldd").arg(&o).output().expect("ldd");
        for l in String::from_utf8_lossy(&out.stdout).lines() {
            let lib = l.split("=>").last().unwrap_or("").split_whitespace().next().unwrap_or("");
            if lib.starts_with('/') {
                libs.insert(lib.to_string());
            }
        }
    }
    for l in &libs {
        let real = std::fs::canonicalize(l).unwrap();
        files.push((l.trim_start_matches('/').to_string(), std::fs::read(&real).unwrap(), 0o755));
        let mut d = Path::new(l).parent();
        while let Some(p) = d.filter(|p| p.as_os_str().len() > 1) {
            dirs.insert(p.display().to_string().trim_start_matches('/').to_string());
            d = p.parent();
        }
    }
    files.push(("usr/bin/pip".into(), std::fs::read("/usr/bin/pip3").unwrap(), 0o755));
    dirs.insert("usr/bin".into());
    dirs.insert("usr/lib/python3/dist-packages".into());
    let mut entries: Vec<Entry> = dirs.iter().map(|d| Entry::Dir(d, 0o755)).collect();
    entries.extend(files.iter().map(|(f, b, m)| Entry::File(f, b, *m)));
    entries.extend(links.iter().map(|(f, t)| Entry::Symlink(f, t)));
    entries.push(Entry::Symlink("usr/bin/python3", "python3.11"));
    entries.push(Entry::Symlink("usr/bin/python", "python3.11"));
    entries.push(Entry::Symlink("usr/bin/pip3", "pip"));
    let py = layer(&entries, Compression::Gzip);
    let mut l = Layout::new(dir);
    let (_, id) = l.image_configured(
        &[busybox_layer(), py],
        host_arch(),
        serde_json::json!({"Cmd": ["python3"], "Env": [
            "PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8"]}),
    );
    l.finish();
    id
}
