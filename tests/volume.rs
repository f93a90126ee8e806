//! Issue #14: data that outlives containers — named and anonymous volumes, bind mounts,
//! `--mount`, `--volumes-from`, the image's VOLUMEs, `kiste cp` both ways, volume commands,
//! and `system df/prune/reset` counting volumes — driven as the unprivileged test user.

mod common;

use common::images::{self, Compression, Layout, busybox_layer, host_arch, layer_from_tar};
use common::{Registry, TestHome, code, stderr, stdout, user};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

/// A tar entry with an owner (the harness's entries are root's).
fn entry(b: &mut tar::Builder<Vec<u8>>, kind: tar::EntryType, path: &str, data: &[u8], mode: u32, id: u64, link: &str) {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(data.len() as u64);
    h.set_uid(id);
    h.set_gid(id);
    h.set_mtime(images::MTIME);
    if kind == tar::EntryType::Symlink {
        b.append_link(&mut h, path, link).unwrap();
    } else {
        b.append_data(&mut h, path, data).unwrap();
    }
}

/// Busybox plus /data (0750, owned by 1000, with files) and VOLUME /vol (with a file).
fn vols(dir: &Path) -> String {
    use tar::EntryType::{Directory as D, Regular as F, Symlink as L};
    let mut b = tar::Builder::new(Vec::new());
    entry(&mut b, D, "data", b"", 0o750, 1000, "");
    entry(&mut b, F, "data/seed.txt", b"seed\n", 0o640, 1000, "");
    entry(&mut b, D, "data/sub", b"", 0o755, 0, "");
    entry(&mut b, F, "data/sub/deep.txt", b"deep\n", 0o644, 0, "");
    entry(&mut b, D, "vol", b"", 0o755, 0, "");
    entry(&mut b, F, "vol/img.txt", b"img\n", 0o644, 0, "");
    entry(&mut b, L, "srv", b"", 0o777, 0, "/data");
    let l = layer_from_tar(b.into_inner().unwrap(), Compression::Gzip);
    let mut lay = Layout::new(dir);
    let (_, id) =
        lay.image_configured(&[busybox_layer(), l], host_arch(), serde_json::json!({"Volumes": {"/vol": {}}}));
    lay.finish();
    id
}

fn setup() -> (Registry, TestHome, String) {
    common::pulled("vols", vols)
}

/// A directory of the test user's (in the test home), mode `mode`.
fn user_dir(h: &TestHome, name: &str, mode: u32) -> std::path::PathBuf {
    let d = h.root.join(name);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(mode)).unwrap();
    if common::is_root() {
        let u = user();
        std::os::unix::fs::chown(&d, Some(u.uid), Some(u.gid)).unwrap();
    }
    d
}

/// Gives a tree the runner made to the test user.
fn chown_tree(p: &Path) {
    if !common::is_root() {
        return;
    }
    let u = user();
    std::os::unix::fs::lchown(p, Some(u.uid), Some(u.gid)).unwrap();
    if p.symlink_metadata().unwrap().is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            chown_tree(&e.unwrap().path());
        }
    }
}

fn one_line_error(err: &str) {
    assert!(err.starts_with("Error: ") && err.trim_end().lines().count() == 1, "not one line: {err}");
}

#[test]
fn a_named_volume_outlives_its_containers_and_is_filled_from_the_image() {
    let (_reg, h, img) = setup();
    let u = user();
    let out = h.ok(&[
        "run",
        "--rm",
        "-v",
        "store:/data",
        &img,
        "sh",
        "-c",
        "cat /data/seed.txt /data/sub/deep.txt; stat -c %u:%g:%a /data; echo kept > /data/new.txt",
    ]);
    assert_eq!(out, "seed\ndeep\n1000:1000:750\n", "copy-up of content, owner and mode");
    let data = h.data().join("volumes/store/_data");
    assert_eq!(std::fs::metadata(&data).unwrap().uid(), u.subuid_start + 999, "owned by image uid 1000");
    assert_eq!(std::fs::metadata(data.join("new.txt")).unwrap().uid(), u.uid, "written by container root");
    // The next container sees what the last one wrote; the image is not copied again.
    let out = h.ok(&["run", "--rm", "-v", "store:/data", &img, "sh", "-c", "cat /data/new.txt; ls /data | wc -l"]);
    assert_eq!(out, "kept\n3\n");
    let v: serde_json::Value = serde_json::from_str(&h.ok(&["volume", "inspect", "store"])).unwrap();
    assert_eq!(v[0]["Name"], "store");
    assert_eq!(v[0]["Driver"], "local");
    assert_eq!(v[0]["Mountpoint"], data.display().to_string());
    assert_eq!(v[0]["Scope"], "local");
    assert!(v[0]["NeedsCopyUp"].is_null() || v[0]["NeedsCopyUp"] == false, "{v}");
    // nocopy: an empty volume over the image's directory.
    let out = h.ok(&["run", "--rm", "-v", "bare:/data:nocopy", &img, "ls", "-A", "/data"]);
    assert_eq!(out, "");
    // Through a symlink in the image (/srv -> /data): mounted where it resolves, inside.
    let out = h.ok(&["run", "--rm", "-v", "store:/srv", &img, "cat", "/data/new.txt"]);
    assert_eq!(out, "kept\n");
    // :ro refuses writes, also as --mount.
    for args in [["-v", "store:/data:ro"], ["--mount", "type=volume,src=store,dst=/data,ro"]] {
        let mut a = vec!["run", "--rm"];
        a.extend(args);
        a.extend([img.as_str(), "sh", "-c", "echo x > /data/y"]);
        let o = h.kiste(&a);
        assert_ne!(code(&o), 0, "{args:?}");
        assert!(stderr(&o).contains("Read-only file system"), "{args:?}: {}", stderr(&o));
    }
    // inspect's Mounts, with Podman's keys.
    let id = h.ok(&["create", "-v", "store:/data:ro", &img, "true"]).trim().to_string();
    let c: serde_json::Value = serde_json::from_str(&h.ok(&["inspect", &id])).unwrap();
    let m = &c[0]["Mounts"][0];
    assert_eq!(
        (m["Type"].as_str(), m["Name"].as_str(), m["Destination"].as_str()),
        (Some("volume"), Some("store"), Some("/data"))
    );
    assert_eq!(m["RW"], false);
    assert_eq!(m["Source"], data.display().to_string());
    assert_eq!(m["Propagation"], "rprivate");
    assert!(m["Options"].as_array().unwrap().iter().any(|o| o == "nosuid"), "{m}");
    h.ok(&["rm", &id]);
}

#[test]
fn bind_mounts_keep_the_users_ownership_and_missing_sources_are_errors() {
    let (_reg, h, img) = setup();
    let u = user();
    let dir = user_dir(&h, "bind", 0o777);
    std::fs::write(dir.join("from-host"), "hello\n").unwrap();
    let out = h.ok(&[
        "run",
        "--rm",
        "-v",
        &format!("{}:/b", dir.display()),
        &img,
        "sh",
        "-c",
        "cat /b/from-host; echo r > /b/root.txt",
    ]);
    assert_eq!(out, "hello\n");
    assert_eq!(std::fs::metadata(dir.join("root.txt")).unwrap().uid(), u.uid, "container root writes as the user");
    h.ok(&["run", "--rm", "-u", "1000", "-v", &format!("{}:/b", dir.display()), &img, "sh", "-c", "echo u > /b/u.txt"]);
    assert_eq!(
        std::fs::metadata(dir.join("u.txt")).unwrap().uid(),
        u.subuid_start + 999,
        "uid 1000 = subuid start + 999"
    );
    // --mount type=bind, read-only.
    let o = h.kiste(&[
        "run",
        "--rm",
        "--mount",
        &format!("type=bind,src={},dst=/b,ro", dir.display()),
        &img,
        "sh",
        "-c",
        "echo > /b/x",
    ]);
    assert_ne!(code(&o), 0);
    assert!(stderr(&o).contains("Read-only"), "{}", stderr(&o));
    // A missing source is an error naming it; nothing is created.
    let missing = h.root.join("no/such/dir");
    let (c, err) = h.err(&["run", "--rm", "-v", &format!("{}:/b", missing.display()), &img, "true"]);
    assert_eq!(c, 125);
    one_line_error(&err);
    assert!(err.contains(&missing.display().to_string()) && err.contains("does not exist"), "{err}");
    assert!(!missing.exists() && !h.root.join("no").exists());
    assert!(h.ps_all().is_empty(), "no container left: {:?}", h.ps_all());
    // :U chowns the source to the container's user through the mapping.
    let own = user_dir(&h, "chowned", 0o755);
    std::fs::write(own.join("f"), "x").unwrap();
    chown_tree(&own);
    let out = h.ok(&[
        "run",
        "--rm",
        "-u",
        "1000:1000",
        "-v",
        &format!("{}:/u:U", own.display()),
        &img,
        "sh",
        "-c",
        "stat -c %u:%g /u /u/f; echo > /u/new",
    ]);
    assert_eq!(out, "1000:1000\n1000:1000\n");
    assert_eq!(std::fs::metadata(&own).unwrap().uid(), u.subuid_start + 999);
    // keep-id: the user's own directory is writable as the same user inside.
    let mine = user_dir(&h, "mine", 0o755);
    let out = h.ok(&[
        "run",
        "--rm",
        "--userns=keep-id",
        "-v",
        &format!("{}:/k", mine.display()),
        &img,
        "sh",
        "-c",
        "id -u; stat -c %u /k; echo k > /k/f",
    ]);
    assert_eq!(out, format!("{0}\n{0}\n", u.uid));
    assert_eq!(std::fs::metadata(mine.join("f")).unwrap().uid(), u.uid);
    // Duplicate destinations and bad options are refused, one line each.
    for args in [
        vec!["-v", "a:/d", "-v", "b:/d"],
        vec!["-v", "a/b:/d"],
        vec!["-v", "v:/d:bogus"],
        vec!["--mount", "type=nfs,dst=/d"],
        vec!["-v", "v:relative"],
    ] {
        let mut a = vec!["run", "--rm"];
        a.extend(args.iter());
        a.extend([img.as_str(), "true"]);
        let (c, err) = h.err(&a);
        assert_eq!(c, 125, "{args:?}");
        one_line_error(&err);
    }
}

#[test]
fn image_volumes_are_anonymous_and_go_with_rm_v_and_run_rm() {
    let (_reg, h, img) = setup();
    let out = h.ok(&["run", "--rm", &img, "sh", "-c", "cat /vol/img.txt; grep ' /vol ' /proc/mounts | wc -l"]);
    assert_eq!(out, "img\n1\n", "the image's VOLUME is a mount with the image's files");
    // Gone when run returns (as podman), though the monitor removes the files after.
    assert_eq!(h.ok(&["volume", "ls", "-q"]), "", "--rm removes the anonymous volume");
    // Kept by a plain rm, removed by rm -v; named volumes stay.
    let id = h.ok(&["run", "-d", "-v", "named:/n", &img, "sleep", "60"]).trim().to_string();
    let vols = h.ok(&["volume", "ls", "-q"]);
    assert_eq!(vols.lines().count(), 2, "{vols}");
    let anon = vols.lines().find(|l| *l != "named").unwrap().to_string();
    assert_eq!(anon.len(), 64);
    let v: serde_json::Value = serde_json::from_str(&h.ok(&["volume", "inspect", &anon])).unwrap();
    assert_eq!(v[0]["Anonymous"], true);
    // In use: volume rm fails naming the container, exit 2; -f removes the container too.
    let o = h.kiste(&["volume", "rm", &anon]);
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert!(stderr(&o).contains(&id[..12]), "{}", stderr(&o));
    h.ok(&["rm", "-f", "-v", &id]);
    assert_eq!(h.ok(&["volume", "ls", "-q"]), "named\n");
    let id = h.ok(&["create", &img, "true"]).trim().to_string();
    h.ok(&["rm", &id]);
    assert_eq!(h.ok(&["volume", "ls", "-q"]).lines().count(), 2, "plain rm keeps the anonymous volume");
    // --image-volume=tmpfs and ignore.
    let out = h.ok(&[
        "run",
        "--rm",
        "--image-volume",
        "tmpfs",
        &img,
        "sh",
        "-c",
        "grep ' /vol ' /proc/mounts | cut -d' ' -f3",
    ]);
    assert_eq!(out, "tmpfs\n");
    let out =
        h.ok(&["run", "--rm", "--image-volume=ignore", &img, "sh", "-c", "grep -c ' /vol ' /proc/mounts || true"]);
    assert_eq!(out, "0\n");
}

#[test]
fn volumes_from_read_only_and_read_only_tmpfs() {
    let (_reg, h, img) = setup();
    h.ok(&["run", "-d", "--name", "src", "-v", "shared:/s", &img, "sleep", "100"]);
    h.ok(&["run", "--rm", "--volumes-from", "src", &img, "sh", "-c", "echo from > /s/x"]);
    assert_eq!(h.ok(&["exec", "src", "cat", "/s/x"]), "from\n");
    let o = h.kiste(&["run", "--rm", "--volumes-from", "src:ro", &img, "sh", "-c", "echo y > /s/y"]);
    assert_ne!(code(&o), 0);
    assert!(stderr(&o).contains("Read-only"), "{}", stderr(&o));
    // --read-only: the root refuses writes; volumes and the read-only tmpfs take them.
    let out = h.ok(&[
        "run",
        "--rm",
        "--read-only",
        "-v",
        "shared:/s",
        &img,
        "sh",
        "-c",
        "touch /nope 2>/dev/null || echo root-ro; echo ok > /s/z && echo > /tmp/t && echo > /run/r && echo written",
    ]);
    assert_eq!(out, "root-ro\nwritten\n");
    let out = h.ok(&[
        "run",
        "--rm",
        "--read-only",
        "--read-only-tmpfs=false",
        &img,
        "sh",
        "-c",
        "touch /tmp/t 2>/dev/null || echo tmp-ro",
    ]);
    assert_eq!(out, "tmp-ro\n");
    h.ok(&["rm", "-f", "src"]);
}

#[test]
fn volume_commands_as_podman() {
    let (_reg, h, img) = setup();
    assert_eq!(h.ok(&["volume", "create", "--label", "app=db", "-o", "o=uid=1000,gid=1000", "dbdata"]), "dbdata\n");
    assert_eq!(h.ok(&["volume", "create", "--ignore", "dbdata"]), "dbdata\n");
    let (c, err) = h.err(&["volume", "create", "dbdata"]);
    assert_eq!(c, 125);
    assert!(err.contains("already exists"), "{err}");
    let (c, err) = h.err(&["volume", "create", "a/b"]);
    assert_eq!(c, 125);
    one_line_error(&err);
    assert!(err.contains("a/b"), "{err}");
    let generated = h.ok(&["volume", "create"]).trim().to_string();
    assert_eq!(generated.len(), 64);
    h.ok(&["volume", "create", "-o", "type=tmpfs", "-o", "o=size=1m", "scratch"]);
    assert_eq!(code(&h.kiste(&["volume", "exists", "dbdata"])), 0);
    assert_eq!(code(&h.kiste(&["volume", "exists", "nope"])), 1);
    let u = user();
    assert_eq!(std::fs::metadata(h.data().join("volumes/dbdata/_data")).unwrap().uid(), u.subuid_start + 999);
    // ls: table, -q, filters, formats.
    let table = h.ok(&["volume", "ls"]);
    assert!(
        table.starts_with("DRIVER")
            && table.contains("VOLUME NAME")
            && table.contains("local")
            && table.contains("dbdata"),
        "{table}"
    );
    assert_eq!(h.ok(&["volume", "ls", "-q", "--filter", "label=app=db"]), "dbdata\n");
    assert_eq!(h.ok(&["volume", "ls", "-q", "--filter", "name=scr"]), "scratch\n");
    assert_eq!(
        h.ok(&["volume", "ls", "--format", "{{.Name}} {{.Driver}} {{.Labels}}", "--filter", "label=app"]),
        "dbdata local app=db\n"
    );
    let j: serde_json::Value = serde_json::from_str(&h.ok(&["volume", "ls", "--format", "json"])).unwrap();
    assert_eq!(j.as_array().unwrap().len(), 3);
    assert_eq!(h.ok(&["volume", "inspect", "--format", "{{.Name}}:{{.Labels.app}}", "dbdata"]), "dbdata:db\n");
    // The tmpfs volume is a tmpfs in the container.
    let out = h.ok(&["run", "--rm", "-v", "scratch:/t", &img, "sh", "-c", "grep ' /t ' /proc/mounts | cut -d' ' -f3"]);
    assert_eq!(out, "tmpfs\n");
    // In use: dangling=false, rm refused (exit 2) naming the container; prune spares it.
    h.ok(&["create", "--name", "user1", "-v", "dbdata:/db", &img, "true"]);
    assert_eq!(h.ok(&["volume", "ls", "-q", "--filter", "dangling=false", "--filter", "anonymous=false"]), "dbdata\n");
    let o = h.kiste(&["volume", "rm", "dbdata"]);
    assert_eq!(code(&o), 2);
    one_line_error(&stderr(&o));
    assert!(stderr(&o).contains("user1"), "{}", stderr(&o));
    let o = h.kiste(&["volume", "rm", "nope"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_eq!(code(&h.kiste(&["volume", "rm", "-f", "nope"])), 0);
    let pruned = h.ok(&["volume", "prune", "-f"]);
    assert!(pruned.contains("scratch") && pruned.contains(&generated) && !pruned.contains("dbdata"), "{pruned}");
    assert_eq!(h.ok(&["volume", "ls", "-q", "--filter", "anonymous=false"]), "dbdata\n");
    // export | import, owners kept.
    h.ok(&[
        "run",
        "--rm",
        "-v",
        "dbdata:/db",
        &img,
        "sh",
        "-c",
        "mkdir /db/d && echo x > /db/d/f && chown 7:7 /db/d/f",
    ]);
    let tarball = h.root.join("db.tar");
    h.ok(&["volume", "export", "-o", tarball.to_str().unwrap(), "dbdata"]);
    h.ok(&["volume", "create", "copy"]);
    h.ok(&["volume", "import", "copy", tarball.to_str().unwrap()]);
    let out = h.ok(&["run", "--rm", "-v", "copy:/c", &img, "sh", "-c", "cat /c/d/f; stat -c %u /c/d/f"]);
    assert_eq!(out, "x\n7\n");
    // mount: only inside `kiste unshare`.
    let (c, err) = h.err(&["volume", "mount", "copy"]);
    assert_eq!(c, 125);
    assert!(err.contains("unshare"), "{err}");
    let kiste = common::kiste_bin().display().to_string();
    let out = h.ok(&["unshare", &kiste, "volume", "mount", "copy"]);
    assert_eq!(out.trim(), h.data().join("volumes/copy/_data").display().to_string());
    // rm -f of a volume in use removes the container too.
    h.ok(&["volume", "rm", "-f", "dbdata"]);
    assert!(h.ps_all().is_empty(), "{:?}", h.ps_all());
    assert_eq!(h.ok(&["volume", "ls", "-q", "--filter", "anonymous=false"]), "copy\n");
    // reload: a directory without a record gets one, a record without its directory goes.
    let vols = h.data().join("volumes").display().to_string();
    h.ok(&["unshare", "sh", "-c", &format!("mkdir -p {vols}/restored/_data && rm -rf {vols}/copy")]);
    assert_eq!(h.ok(&["volume", "reload"]), "Added:\nrestored\nRemoved:\ncopy\n");
    assert_eq!(h.ok(&["volume", "ls", "-q", "--filter", "anonymous=false"]), "restored\n");
    assert_eq!(h.ok(&["volume", "reload"]), "");
}

#[test]
fn cp_in_and_out_of_running_and_stopped_containers() {
    let (_reg, h, img) = setup();
    let u = user();
    let host = user_dir(&h, "host", 0o755);
    std::fs::write(host.join("file.txt"), "file\n").unwrap();
    std::fs::create_dir_all(host.join("tree/sub")).unwrap();
    std::fs::write(host.join("tree/sub/leaf"), "leaf\n").unwrap();
    std::os::unix::fs::symlink("sub/leaf", host.join("tree/link")).unwrap();
    chown_tree(&host);
    let out_dir = user_dir(&h, "out", 0o755);
    let p = |x: &Path| x.display().to_string();
    // Running.
    h.ok(&["run", "-d", "--name", "run1", "-v", "cpvol:/vol2", &img, "sleep", "300"]);
    h.ok(&["cp", &p(&host.join("file.txt")), "run1:/tmp/"]);
    h.ok(&["cp", &p(&host.join("tree")), "run1:/tmp/newtree"]);
    h.ok(&["cp", &p(&host.join("tree")), "run1:/tmp"]);
    h.ok(&["cp", &format!("{}/.", p(&host.join("tree"))), "run1:/vol2"]);
    let out = h.ok(&["exec", "run1", "sh", "-c", "cat /tmp/file.txt /tmp/newtree/sub/leaf /tmp/tree/sub/leaf /vol2/sub/leaf; readlink /tmp/tree/link; stat -c %u /tmp/file.txt"]);
    assert_eq!(out, "file\nleaf\nleaf\nleaf\nsub/leaf\n0\n");
    h.ok(&[
        "exec",
        "run1",
        "sh",
        "-c",
        "mkdir -p /out/d && echo o > /out/d/f && ln -s /etc/passwd /out/abs && chown 1000:1000 /out/d/f",
    ]);
    h.ok(&["cp", "run1:/out/d", &p(&out_dir)]);
    assert_eq!(std::fs::read_to_string(out_dir.join("d/f")).unwrap(), "o\n");
    assert_eq!(std::fs::metadata(out_dir.join("d/f")).unwrap().uid(), u.uid, "owned by the user without -a");
    h.ok(&["cp", "-a", "run1:/out/d/f", &p(&out_dir.join("kept"))]);
    assert_eq!(
        std::fs::metadata(out_dir.join("kept")).unwrap().uid(),
        u.subuid_start + 999,
        "-a keeps owners through the mapping"
    );
    h.ok(&["cp", "run1:/out/abs", &p(&out_dir)]);
    assert_eq!(
        std::fs::read_link(out_dir.join("abs")).unwrap(),
        Path::new("/etc/passwd"),
        "a symlink is copied as itself"
    );
    h.ok(&["cp", "-L", "run1:/out/abs", &p(&out_dir.join("followed"))]);
    assert!(
        std::fs::read_to_string(out_dir.join("followed")).unwrap().starts_with("root:"),
        "-L: the container's passwd"
    );
    // Docker's rules: a directory onto a file, a missing parent, a file spelled as a directory.
    for (src, dst, word) in [
        ("run1:/out/d", p(&out_dir.join("kept")), "directory"),
        ("run1:/out/d/f", p(&out_dir.join("no/such")), "could not be found"),
        ("run1:/nope", p(&out_dir), "could not be found"),
        ("run1:/out/d/f/", p(&out_dir), "not a directory"),
    ] {
        let (c, err) = h.err(&["cp", src, &dst]);
        assert_eq!(c, 125, "{src} {dst}");
        one_line_error(&err);
        assert!(err.contains(word), "{src} -> {dst}: {err}");
    }
    // A tar round trip: out to stdout, in from stdin.
    let o = h.kiste(&["cp", "run1:/out/d", "-"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let mut child = h.command(&["cp", "-", "run1:/tmp"]).stdin(std::process::Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &o.stdout).unwrap();
    assert!(child.wait().unwrap().success());
    assert_eq!(h.ok(&["exec", "run1", "cat", "/tmp/d/f"]), "o\n");
    // Stopped: the same, and the container's volume is seen at its path.
    h.ok(&["stop", "-t", "0", "run1"]);
    h.ok(&["cp", &p(&host.join("file.txt")), "run1:/vol2/in-stopped.txt"]);
    h.ok(&["cp", "run1:/vol2/sub", &p(&out_dir.join("from-stopped"))]);
    assert_eq!(std::fs::read_to_string(out_dir.join("from-stopped/leaf")).unwrap(), "leaf\n");
    h.ok(&["cp", "run1:/tmp/file.txt", &p(&out_dir.join("stopped-file"))]);
    assert_eq!(std::fs::read_to_string(out_dir.join("stopped-file")).unwrap(), "file\n");
    let out = h.ok(&["run", "--rm", "-v", "cpvol:/v", &img, "cat", "/v/in-stopped.txt"]);
    assert_eq!(out, "file\n");
    // A hostile tar on stdin: refused naming the entry, one line.
    let raw = images::tar(&[images::Entry::Raw(b"../../escape", tar::EntryType::Regular, b"")]);
    let mut child = h
        .command(&["cp", "-", "run1:/tmp"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), &raw).unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 125);
    one_line_error(&stderr(&o));
    assert!(stderr(&o).contains("escape") && stderr(&o).contains(".."), "{}", stderr(&o));
    // A read-only destination is named.
    let id = h.ok(&["run", "-d", "-v", "cpvol:/ro:ro", &img, "sleep", "60"]).trim().to_string();
    let (c, err) = h.err(&["cp", &p(&host.join("file.txt")), &format!("{id}:/ro/")]);
    assert_eq!(c, 125);
    one_line_error(&err);
    assert!(err.contains("/ro") && err.contains("Read-only"), "{err}");
    h.ok(&["rm", "-f", &id, "run1"]);
    let _ = stdout;
}

#[test]
fn system_df_prune_and_reset_count_volumes() {
    let (_reg, h, img) = setup();
    h.ok(&["run", "--rm", "-v", "big:/b", &img, "sh", "-c", "dd if=/dev/zero of=/b/f bs=1024 count=2048 2>/dev/null"]);
    h.ok(&["create", "-v", "used:/u", &img, "true"]);
    let df: serde_json::Value = serde_json::from_str(&h.ok(&["system", "df", "--format", "json"])).unwrap();
    let vols = df.as_array().unwrap().iter().find(|r| r["Type"] == "Local Volumes").unwrap().clone();
    // big, used, and the anonymous volume of the image's VOLUME for the created container.
    assert_eq!(vols["Total"], 3, "{df}");
    assert_eq!(vols["Active"], 2, "{df}");
    assert!(vols["RawSize"].as_u64().unwrap() >= 2 << 20, "{df}");
    assert!(vols["RawReclaimable"].as_u64().unwrap() >= 2 << 20, "{df}");
    let verbose = h.ok(&["system", "df", "-v"]);
    assert!(verbose.contains("big") && verbose.contains("used"), "{verbose}");
    let out = h.ok(&["system", "prune", "-f", "--volumes"]);
    assert!(out.contains("Deleted Volumes") && out.contains("big"), "{out}");
    // The container was pruned first, so its volume went too.
    assert_eq!(h.ok(&["volume", "ls", "-q"]), "");
    h.ok(&["volume", "create", "left"]);
    h.ok(&["system", "reset", "-f"]);
    assert!(!h.data().join("volumes").exists());
    assert_eq!(h.ok(&["volume", "ls", "-q"]), "");
}

/// `kiste mount` of a running container gives its live root: what its processes wrote is
/// there, what the session writes they see, owners as inside; unmounting leaves it running.
#[test]
fn a_running_containers_mount_is_its_live_root() {
    let (_reg, h, img) = setup();
    let k = common::kiste_bin().display().to_string();
    h.ok(&["run", "-d", "--name", "r1", &img, "sleep", "300"]);
    h.ok(&["exec", "r1", "sh", "-c", "echo inside > /tmp/a"]);
    let script = format!(
        "p=$({k} mount r1) || exit 9; cat $p/tmp/a; echo outside > $p/tmp/b; stat -c %u $p/tmp/a; \
         {k} unmount r1 >/dev/null || exit 8; test -e $p/tmp/a && exit 7; echo end"
    );
    let o = h.kiste(&["unshare", "sh", "-c", &script]);
    assert_eq!(stdout(&o), "inside\n0\nend\n", "stderr: {}", stderr(&o));
    assert_eq!(h.ok(&["exec", "r1", "cat", "/tmp/b"]), "outside\n");
    assert_eq!(h.ok(&["inspect", "--format", "{{.State.Status}}", "r1"]), "running\n");
    // Inside a session the store is the user's (as Podman's); making or entering container
    // processes from there is refused in one line.
    assert_eq!(h.ok(&["unshare", &k, "ps", "--format", "{{.Names}}"]), "r1\n");
    let (c, err) = h.err(&["unshare", &k, "exec", "r1", "true"]);
    assert_eq!(c, 125);
    assert!(err.contains("inside \"kiste unshare\"") && err.lines().count() == 1, "{err}");
    h.ok(&["rm", "-f", "-t", "0", "r1"]);
}

#[test]
fn container_mount_in_an_unshare_session() {
    let (_reg, h, img) = setup();
    let k = common::kiste_bin().display().to_string();
    h.ok(&["create", "--name", "m1", &img, "cat", "/m.txt"]);
    let id = h.ok(&["inspect", "--format", "{{.Id}}", "m1"]).trim().to_string();
    let (c, err) = h.err(&["mount", "m1"]);
    assert_eq!(c, 125);
    assert!(err.contains("kiste unshare") && err.lines().count() == 1, "{err}");
    // In one session: mount, write through the mount, list, unmount.
    let script = format!(
        "p=$({k} mount m1) || exit 9; echo $p; echo mounted > $p/m.txt; test -x $p/bin/busybox || exit 8; \
         {k} mount; {k} container umount m1; {k} mount; echo end"
    );
    let o = h.kiste(&["unshare", "sh", "-c", &script]);
    let (out, err) = (stdout(&o), stderr(&o));
    let merged = h.data().join(format!("containers/{id}/merged")).display().to_string();
    let want = format!("{merged}\n{}  {merged}\n{id}\nend\n", &id[..12]);
    assert_eq!(out, want, "stderr: {err}");
    // The change is in the container's root.
    assert_eq!(h.ok(&["start", "-a", "m1"]), "mounted\n");
    // A session that holds the mount keeps start (and cp) away until it ends.
    let mut session = h
        .command(&["unshare", "sh", "-c", &format!("{k} mount m1 >/dev/null && echo ready && read x; exit 0")])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(session.stdout.take().unwrap()), &mut line).unwrap();
    assert_eq!(line, "ready\n");
    let (c, err) = h.err(&["start", "m1"]);
    assert_eq!(c, 125);
    assert!(err.contains("kiste unmount m1"), "{err}");
    let (c, _) = h.err(&["cp", "m1:/m.txt", "-"]);
    assert_eq!(c, 125);
    drop(session.stdin.take());
    assert!(session.wait().unwrap().success());
    // The session is gone, and its mount with it.
    assert_eq!(h.ok(&["start", "-a", "m1"]), "mounted\n");
    let (c, err) = h.err(&["unshare", "sh", "-c", &format!("{k} unmount m1")]);
    assert_eq!(c, 125);
    assert!(err.contains("not mounted"), "{err}");
}
