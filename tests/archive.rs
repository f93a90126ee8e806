//! Images in and out of files, as the unprivileged user: `save`/`load` round trips in every
//! format (the image keeps its ID), archives written by containers/image (skopeo, the library
//! `podman save` uses) load, ours read back with skopeo; hostile and truncated archives are
//! refused and leave no image; `import` of a root file system tar with `--change`; `commit`
//! of a container's changes and `diff` of them; `export` | `import`.

mod common;

use common::images::{self, Entry, busybox_layer};
use common::{TestHome, code, stderr, stdout};

fn skopeo(args: &[&str]) -> String {
    let o = std::process::Command::new("skopeo")
        .args(args)
        .output()
        .expect("skopeo not found; install the \"skopeo\" package (scripts/test.sh does)");
    assert!(o.status.success(), "skopeo {args:?}: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Runs `cat FILE` in the image and returns what it printed.
fn cat(h: &TestHome, image: &str, file: &str) -> String {
    h.ok(&["run", "--rm", "--network", "none", image, "cat", file])
}

fn one_error_line(o: &std::process::Output, wants: &[&str]) {
    let err = stderr(o);
    assert_eq!(code(o), 125, "exit code: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(err.starts_with("Error: "), "{err}");
    for w in wants {
        assert!(err.contains(w), "{w:?} in {err}");
    }
}

#[test]
fn save_and_load_round_trip_in_every_format_keeping_the_id() {
    let (_reg, h, r) = common::pulled("layered", images::layered);
    let id = h.inspect(&r)["Id"].as_str().unwrap().to_string();
    let before = cat(&h, &r, "/etc/passwd");
    let dir = h.home();
    for (format, path) in [
        ("docker-archive", dir.join("img.tar")),
        ("oci-archive", dir.join("img-oci.tar")),
        ("oci-dir", dir.join("img-oci")),
        ("docker-dir", dir.join("img-dir")),
    ] {
        let p = path.to_str().unwrap();
        h.ok(&["save", "--format", format, "-o", p, &r]);
        h.ok(&["rmi", &r]);
        let out = h.ok(&["load", "-i", p]);
        if format == "docker-dir" {
            // The dir layout holds no name: the image comes back by ID.
            assert!(out.contains(&format!("Loaded image: sha256:{id}")), "{format}: {out}");
            h.ok(&["tag", &id, &r]);
        } else {
            assert!(out.contains(&format!("Loaded image: {r}")), "{format}: {out}");
        }
        assert_eq!(h.inspect(&r)["Id"], id.as_str(), "{format} keeps the image ID");
        assert_eq!(cat(&h, &r, "/etc/passwd"), before, "{format}");
    }
    // containers/image reads what we wrote.
    let raw = skopeo(&["inspect", "--raw", &format!("docker-archive:{}", dir.join("img.tar").display())]);
    let m: serde_json::Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(m["config"]["digest"], format!("sha256:{id}"));
    skopeo(&["inspect", &format!("oci-archive:{}", dir.join("img-oci.tar").display())]);

    // Standard output and input, and a gzip-compressed archive.
    let saved = h.command(&["save", &r]).output().unwrap();
    assert!(saved.status.success(), "{}", stderr(&saved));
    assert!(saved.stdout.len() > 1 << 20, "the archive went to stdout");
    let gz = dir.join("img.tar.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &saved.stdout).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    h.ok(&["rmi", &r]);
    h.ok(&["load", "-i", gz.to_str().unwrap()]);
    h.ok(&["rmi", &r]);
    let mut c = h.command(&["load"]);
    c.stdin(std::fs::File::open(dir.join("img.tar")).unwrap());
    let o = c.output().unwrap();
    assert!(o.status.success(), "load from stdin: {}", stderr(&o));
    assert_eq!(h.inspect(&r)["Id"], id.as_str());

    // -m: two images in one archive; without it, a second name is a tag.
    h.ok(&["tag", &r, "localhost/second:1"]);
    let multi = dir.join("multi.tar");
    h.ok(&["save", "-m", "-o", multi.to_str().unwrap(), &r, "localhost/second:1"]);
    let o = h.kiste(&["save", "--format", "oci-archive", "-m", "-o", "/dev/null", &r]);
    one_error_line(&o, &["docker-archive"]);
    let o = h.kiste(&["save", "--format", "oci-dir", &r]);
    one_error_line(&o, &["-o"]);
}

#[test]
fn archives_written_by_containers_image_load() {
    // busybox: Docker's layout has no zstd layers, which the layered image has.
    let (reg, h, r) = common::pulled("busybox", images::busybox);
    let id = h.inspect(&r)["Id"].as_str().unwrap().to_string();
    h.ok(&["rmi", &r]);
    let src = format!("docker://{}/busybox:latest", reg.addr());
    let dir = h.home();
    for (kind, file) in [("docker-archive", "skopeo.tar"), ("oci-archive", "skopeo-oci.tar")] {
        let path = dir.join(file);
        let dest = format!("{kind}:{}:localhost/fromskopeo:{kind}", path.display());
        skopeo(&["copy", "--quiet", "--src-tls-verify=false", &src, &dest]);
        let out = h.ok(&["load", "-i", path.to_str().unwrap()]);
        assert!(out.contains(&format!("localhost/fromskopeo:{kind}")), "{out}");
        let name = format!("localhost/fromskopeo:{kind}");
        assert_eq!(h.inspect(&name)["Id"], id.as_str(), "{kind}");
        assert!(cat(&h, &name, "/etc/passwd").contains("root"));
    }
}

#[test]
fn hostile_and_truncated_archives_are_refused_and_leave_no_image() {
    let h = TestHome::new();
    let dir = h.home();
    // An entry that climbs out of the archive.
    let evil = images::tar(&[
        Entry::File("manifest.json", b"[]", 0o644),
        Entry::Raw(b"../../escape", tar::EntryType::Regular, b""),
    ]);
    let p = dir.join("evil.tar");
    std::fs::write(&p, evil).unwrap();
    one_error_line(&h.kiste(&["load", "-i", p.to_str().unwrap()]), &["evil.tar", "outside the archive"]);

    // A real archive cut in half.
    let (_reg, h2, r) = common::pulled("busybox", images::busybox);
    let full = h2.home().join("full.tar");
    h2.ok(&["save", "-o", full.to_str().unwrap(), &r]);
    h2.ok(&["rmi", &r]);
    let bytes = std::fs::read(&full).unwrap();
    let cut = h2.home().join("cut.tar");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let o = h2.kiste(&["load", "-i", cut.to_str().unwrap()]);
    one_error_line(&o, &["cut.tar"]);
    assert!(h2.image_ids().is_empty(), "no half image");

    // A layer whose content does not match the config's diff ID.
    let src = std::fs::File::open(&full).unwrap();
    let mut ar = tar::Archive::new(src);
    let mut b = tar::Builder::new(Vec::new());
    for e in ar.entries().unwrap() {
        let mut e = e.unwrap();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut e, &mut data).unwrap();
        let name = e.path().unwrap().to_path_buf();
        if name.to_string_lossy().ends_with(".tar") {
            data = images::tar(&[Entry::File("other", b"not the layer", 0o644)]);
        }
        let mut hd = e.header().clone();
        hd.set_size(data.len() as u64);
        hd.set_cksum();
        b.append_data(&mut hd, &name, &data[..]).unwrap();
    }
    let forged = h2.home().join("forged.tar");
    std::fs::write(&forged, b.into_inner().unwrap()).unwrap();
    one_error_line(&h2.kiste(&["load", "-i", forged.to_str().unwrap()]), &["diff ID"]);
    assert!(h2.image_ids().is_empty(), "no image from a forged archive");
    let o = h2.kiste(&["load", "-i", "/nonexistent.tar"]);
    one_error_line(&o, &["/nonexistent.tar"]);
}

#[test]
fn import_makes_an_image_of_a_root_file_system() {
    let h = TestHome::new();
    let dir = h.home();
    let root = images::tar(&[Entry::File("hello.txt", b"from the tarball\n", 0o644)]);
    let mut full = Vec::new();
    let bb = busybox_layer();
    // busybox's layer (gzip) then one more file: import takes one tar, so merge by hand.
    let mut dec = flate2::read::GzDecoder::new(&bb.blob[..]);
    std::io::Read::read_to_end(&mut dec, &mut full).unwrap();
    full.truncate(full.len() - 1024);
    full.extend_from_slice(&root);
    let p = dir.join("rootfs.tar");
    std::fs::write(&p, &full).unwrap();
    let id = h.ok(&[
        "import",
        "--change",
        "CMD [\"/bin/cat\", \"/hello.txt\"]",
        "--change",
        "ENV GREETING=hi",
        "-m",
        "made by a test",
        p.to_str().unwrap(),
        "imported",
    ]);
    assert_eq!(id.trim().len(), 64, "{id}");
    let out = h.ok(&["run", "--rm", "--network", "none", "imported"]);
    assert_eq!(out, "from the tarball\n");
    let env = h.ok(&["run", "--rm", "--network", "none", "localhost/imported:latest", "sh", "-c", "echo $GREETING"]);
    assert_eq!(env, "hi\n");
    let hist = h.ok(&["history", "--format", "{{.Comment}}", "imported"]);
    assert!(hist.contains("made by a test"), "{hist}");
    // From standard input, gzip-compressed.
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &full).unwrap();
    let gz = dir.join("rootfs.tar.gz");
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let mut c = h.command(&["import", "-", "fromstdin"]);
    c.stdin(std::fs::File::open(&gz).unwrap());
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let layers = |img: &str| h.inspect(img)["RootFS"]["Layers"].clone();
    assert_eq!(layers("fromstdin"), layers("imported"), "the same tar makes the same layer");
    assert_eq!(stdout(&o).trim().len(), 64);

    // Refused: an escaping entry, a bad --change.
    let evil = images::tar(&[Entry::Raw(b"../../../outside", tar::EntryType::Regular, b"")]);
    let e = dir.join("evil.tar");
    std::fs::write(&e, evil).unwrap();
    one_error_line(&h.kiste(&["import", e.to_str().unwrap(), "evil"]), &["../../../outside"]);
    one_error_line(&h.kiste(&["import", "--change", "RUN rm -rf /", p.to_str().unwrap()]), &["--change", "CMD"]);
    let names = h.ok(&["images", "-a", "--format", "{{.Repository}}"]);
    assert!(!names.contains("evil"), "a refused import leaves no image: {names}");
}

#[test]
fn commit_and_diff_a_containers_changes() {
    let (_reg, h, r) = common::pulled("busybox", images::busybox);
    let script =
        "echo new > /etc/added; echo root2 >> /etc/passwd; rm /etc/group; mkdir -p /srv/app; echo app > /srv/app/f";
    h.ok(&["run", "--name", "c1", "--network", "none", &r, "sh", "-c", script]);
    let diff = h.ok(&["diff", "c1"]);
    for line in ["C /etc", "A /etc/added", "C /etc/passwd", "D /etc/group", "A /srv", "A /srv/app/f"] {
        assert!(diff.lines().any(|l| l == line), "{line:?} in:\n{diff}");
    }
    let json: serde_json::Value = serde_json::from_str(&h.ok(&["diff", "--format", "json", "c1"])).unwrap();
    assert!(json["deleted"].as_array().unwrap().iter().any(|p| p == "/etc/group"), "{json}");

    let id =
        h.ok(&["commit", "-c", "CMD [\"/bin/cat\", \"/etc/added\"]", "-m", "committed", "-a", "Tester", "c1", "snap"]);
    assert_eq!(id.trim().len(), 64, "{id}");
    assert_eq!(h.ok(&["run", "--rm", "--network", "none", "snap"]), "new\n");
    let ls = h.ok(&["run", "--rm", "--network", "none", "snap", "sh", "-c", "cat /srv/app/f; ls /etc"]);
    assert!(ls.starts_with("app\n") && !ls.contains("group"), "{ls}");
    let img = h.inspect("snap");
    assert_eq!(img["Author"], "Tester", "{img}");
    // The image's own diff: its top layer over busybox.
    let idiff = h.ok(&["diff", "snap"]);
    assert!(idiff.lines().any(|l| l == "A /etc/added"), "{idiff}");
    // --squash: the image's layers and the changes as one layer, deletions applied.
    h.ok(&["commit", "--squash", "c1", "squashed"]);
    let layers = h.inspect("squashed")["RootFS"]["Layers"].as_array().unwrap().len();
    assert_eq!(layers, 1, "{}", h.inspect("squashed"));
    // One history entry with a layer, the commit's (history and layers must pair up).
    let hist = h.inspect("squashed")["History"].clone();
    let with_layer = hist.as_array().unwrap().iter().filter(|e| e["empty_layer"] != true).count();
    assert_eq!(with_layer, 1, "{hist}");
    let sq = h.ok(&["run", "--rm", "--network", "none", "squashed", "sh", "-c", "cat /etc/added /srv/app/f; ls /etc"]);
    assert!(sq.starts_with("new\napp\n") && sq.contains("passwd") && !sq.contains("group"), "{sq}");
    // export | import: the container's whole file system as a one-layer image.
    let tar = h.home().join("c1.tar");
    h.ok(&["export", "-o", tar.to_str().unwrap(), "c1"]);
    h.ok(&["import", tar.to_str().unwrap(), "flat"]);
    let flat =
        h.ok(&["run", "--rm", "--network", "none", "flat", "sh", "-c", "cat /etc/added /srv/app/f; ls -ld /tmp"]);
    assert!(flat.starts_with("new\napp\ndrwxrwxrwt"), "{flat}");
    let piped = h.command(&["export", "c1"]).output().unwrap();
    assert!(piped.status.success() && piped.stdout.len() > 1 << 20, "{}", stderr(&piped));
    // The container still runs from its own root.
    h.ok(&["start", "-a", "c1"]);
    let o = h.kiste(&["commit", "nosuch", "x"]);
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    assert!(stderr(&o).contains("nosuch"), "{}", stderr(&o));
}
