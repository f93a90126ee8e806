use super::*;
use crate::storage::apply::{ApplyOptions, apply_tar};
use crate::storage::tarsplit::{SplitTee, SplitWriter, reassemble};
use std::os::unix::fs::{FileTypeExt, MetadataExt, PermissionsExt};
use std::path::PathBuf;

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("kiste-tarwrite-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn set_mtime(p: &Path, t: i64) {
    let ts = Timespec { tv_sec: t, tv_nsec: 0 };
    rustix::fs::utimensat(
        rustix::fs::CWD,
        p,
        &Timestamps { last_access: ts, last_modification: ts },
        AtFlags::SYMLINK_NOFOLLOW,
    )
    .unwrap();
}

fn set_xattr(p: &Path, k: &str, v: &[u8]) {
    rustix::fs::lsetxattr(p, k, v, XattrFlags::empty()).unwrap();
}

fn tar_of(dir: &Path, opts: &WriteOptions) -> Vec<u8> {
    let mut out = Vec::new();
    write_tree::<_, Vec<u8>>(dir, &mut out, opts, None).unwrap();
    out
}

fn digest(data: &[u8]) -> String {
    crate::util::sha256_bytes(data)
}

/// (path, type, size, mtime, link, xattrs) of an entry.
type Seen = (Vec<u8>, tar::EntryType, u64, u64, Vec<u8>, Vec<(String, Vec<u8>)>);

/// Every entry, in order.
fn entries(data: &[u8]) -> Vec<Seen> {
    let mut a = tar::Archive::new(data);
    a.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let mut x = Vec::new();
            if let Some(p) = e.pax_extensions().unwrap() {
                for ext in p.flatten() {
                    if let Some(k) = ext.key().unwrap().strip_prefix("SCHILY.xattr.") {
                        x.push((k.to_string(), ext.value_bytes().to_vec()));
                    }
                }
            }
            let h = e.header();
            (
                e.path_bytes().into_owned(),
                h.entry_type(),
                e.size(),
                h.mtime().unwrap(),
                e.link_name_bytes().map(|l| l.into_owned()).unwrap_or_default(),
                x,
            )
        })
        .collect()
}

fn names(data: &[u8]) -> Vec<String> {
    entries(data).into_iter().map(|e| String::from_utf8_lossy(&e.0).into_owned()).collect()
}

/// A tree with every kind of entry a layer holds.
fn sample(root: &Path) {
    std::fs::create_dir_all(root.join("a/deep")).unwrap();
    std::fs::create_dir_all(root.join("b")).unwrap();
    std::fs::write(root.join("a/z"), "zzz").unwrap();
    std::fs::write(root.join("a/.hidden"), "h").unwrap();
    std::fs::write(root.join("a/deep/f"), vec![7u8; 3000]).unwrap();
    std::fs::write(root.join("a-b"), "dash").unwrap();
    std::fs::set_permissions(root.join("a-b"), std::fs::Permissions::from_mode(0o4755)).unwrap();
    std::os::unix::fs::symlink("a/z", root.join("link")).unwrap();
    std::fs::hard_link(root.join("a/z"), root.join("hard")).unwrap();
    nix::unistd::mkfifo(&root.join("fifo"), nix::sys::stat::Mode::from_bits_truncate(0o644)).unwrap();
    for p in ["a/z", "a/.hidden", "a/deep/f", "a/deep", "a-b", "link", "fifo", "a", "b"] {
        set_mtime(&root.join(p), 1_600_000_000);
    }
}

#[test]
fn entries_are_sorted_depth_first_with_links_and_modes() {
    let d = scratch("order");
    let root = d.join("root");
    sample(&root);
    let data = tar_of(&root, &WriteOptions::default());
    // Sorted by the paths' bytes ("a-b" < "a/"), each directory before its contents.
    assert_eq!(names(&data), ["a-b", "a/", "a/.hidden", "a/deep/", "a/deep/f", "a/z", "b/", "fifo", "hard", "link"]);
    let es = entries(&data);
    let by = |n: &str| es.iter().find(|e| e.0 == n.as_bytes()).unwrap().clone();
    assert_eq!(by("a/deep/f").2, 3000);
    assert_eq!(by("hard").1, tar::EntryType::Link);
    assert_eq!(by("hard").4, b"a/z", "the second name of an inode links to the first");
    assert_eq!(by("a/z").1, tar::EntryType::Regular);
    assert_eq!(by("link").1, tar::EntryType::Symlink);
    assert_eq!(by("link").4, b"a/z");
    assert_eq!(by("fifo").1, tar::EntryType::Fifo);
    let mut a = tar::Archive::new(&data[..]);
    let modes: Vec<u32> = a.entries().unwrap().map(|e| e.unwrap().header().mode().unwrap()).collect();
    assert_eq!(modes[0], 0o4755, "setuid kept");
    assert_eq!(data.len() % 512, 0);
    assert!(data.ends_with(&[0u8; 1024]));
    // Deterministic: the same tree gives the same bytes.
    assert_eq!(digest(&data), digest(&tar_of(&root, &WriteOptions::default())));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn whiteouts_and_opaque_directories_in_every_overlay_form() {
    let d = scratch("wh");
    let root = d.join("root");
    std::fs::create_dir_all(root.join("opq")).unwrap();
    std::fs::create_dir_all(root.join("fuseopq")).unwrap();
    std::fs::write(root.join("opq/new"), "n").unwrap();
    // Kernel overlay: a 0/0 character device, and the opaque xattr.
    rustix::fs::mknodat(rustix::fs::CWD, root.join("gone"), FileType::CharacterDevice, Mode::empty(), 0).unwrap();
    set_xattr(&root.join("opq"), "user.overlay.opaque", b"y");
    // fuse-overlayfs without mknod: `.wh.` files, and a marker file beside its xattr.
    std::fs::write(root.join(".wh.old"), "").unwrap();
    std::fs::write(root.join("fuseopq/.wh..wh..opq"), "").unwrap();
    set_xattr(&root.join("fuseopq"), "user.fuseoverlayfs.opaque", b"y");
    let data = tar_of(&root, &WriteOptions::default());
    assert_eq!(
        names(&data),
        [".wh.gone", ".wh.old", "fuseopq/", "fuseopq/.wh..wh..opq", "opq/", "opq/.wh..wh..opq", "opq/new"]
    );
    for e in entries(&data).iter().filter(|e| e.0.starts_with(b".wh.")) {
        assert_eq!((e.1, e.2), (tar::EntryType::Regular, 0), "whiteouts are empty files");
    }
    assert!(entries(&data).iter().all(|e| e.5.is_empty()), "overlay's own xattrs stay out");
    // The tar applies to the same whiteouts and opaque markers.
    let back = d.join("back");
    std::fs::create_dir_all(&back).unwrap();
    apply_tar(&back, &data[..], apply_opts()).unwrap();
    let m = std::fs::symlink_metadata(back.join("old")).unwrap();
    assert!(m.file_type().is_char_device() && m.rdev() == 0);
    std::fs::remove_dir_all(&d).unwrap();
}

fn apply_opts() -> ApplyOptions {
    let rootful = nix::unistd::geteuid().is_root();
    ApplyOptions { rootless: !rootful, uid_count: if rootful { None } else { Some(1) }, gid_count: None, owners: true }
}

#[test]
fn committing_makes_the_directory_match_its_tar() {
    let d = scratch("commit");
    let root = d.join("root");
    std::fs::create_dir_all(root.join("fuseopq")).unwrap();
    std::fs::write(root.join(".wh.old"), "").unwrap();
    std::fs::write(root.join("fuseopq/.wh..wh..opq"), "").unwrap();
    std::fs::write(root.join("fuseopq/kept"), "k").unwrap();
    std::fs::write(root.join("new"), "n").unwrap();
    set_mtime(&root.join("new"), 2_000_000_000);
    let opts = WriteOptions {
        timestamp: Some(1_700_000_000),
        commit_opaque_xattr: Some("user.overlay.opaque"),
        ..Default::default()
    };
    let first = tar_of(&root, &opts);
    // The directory now holds the store's forms and the clamped times...
    let m = std::fs::symlink_metadata(root.join("old")).unwrap();
    assert!(m.file_type().is_char_device() && m.rdev() == 0, "the .wh. file became a device node");
    assert!(!root.join(".wh.old").exists() && !root.join("fuseopq/.wh..wh..opq").exists());
    assert_eq!(rustix::fs::getxattr(root.join("fuseopq"), "user.overlay.opaque", &mut [0u8; 4][..]).unwrap(), 1);
    assert_eq!(std::fs::metadata(root.join("new")).unwrap().mtime(), 1_700_000_000);
    assert!(std::fs::metadata(root.join("fuseopq")).unwrap().mtime() <= 1_700_000_000);
    // ...so that exporting it later, without a timestamp, gives the same bytes.
    let again = tar_of(&root, &WriteOptions::default());
    assert_eq!(names(&first), names(&again));
    assert_eq!(digest(&first), digest(&again));
    assert!(entries(&first).iter().all(|e| e.3 <= 1_700_000_000), "every mtime clamped");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn xattrs_long_and_binary_names() {
    let d = scratch("names");
    let root = d.join("root");
    let long_dir = "d".repeat(120);
    let long_file = format!("{long_dir}/{}", "f".repeat(90));
    let very_long = format!("{long_dir}/{}/{}", "e".repeat(150), "g".repeat(60));
    std::fs::create_dir_all(root.join(&long_dir)).unwrap();
    std::fs::create_dir_all(root.join(Path::new(&very_long).parent().unwrap())).unwrap();
    std::fs::write(root.join(&long_file), "long").unwrap();
    std::fs::write(root.join(&very_long), "very").unwrap();
    let binary = OsStr::from_bytes(b"n\xff-\xc3\xa9");
    std::fs::write(root.join(binary), "bin").unwrap();
    std::os::unix::fs::symlink("t".repeat(200), root.join("longlink")).unwrap();
    std::fs::write(root.join("x"), "x").unwrap();
    set_xattr(&root.join("x"), "user.keep", b"v\x00al");
    set_xattr(&root.join("x"), "user.overlay.origin", b"drop");
    let data = tar_of(&root, &WriteOptions::default());
    let es = entries(&data);
    let paths: Vec<Vec<u8>> = es.iter().map(|e| e.0.clone()).collect();
    assert!(paths.contains(&long_file.clone().into_bytes()), "prefix/name split");
    assert!(paths.contains(&very_long.clone().into_bytes()), "PAX path");
    assert!(paths.contains(&b"n\xff-\xc3\xa9".to_vec()), "names are bytes");
    let link = es.iter().find(|e| e.0 == b"longlink").unwrap();
    assert_eq!(link.4, "t".repeat(200).into_bytes());
    let x = es.iter().find(|e| e.0 == b"x").unwrap();
    assert_eq!(x.5, vec![("user.keep".to_string(), b"v\x00al".to_vec())]);
    // Round trip through the applier: the same tree, the same tar.
    let back = d.join("back");
    std::fs::create_dir_all(&back).unwrap();
    apply_tar(&back, &data[..], apply_opts()).unwrap();
    assert_eq!(std::fs::read(back.join(binary)).unwrap(), b"bin");
    assert_eq!(digest(&tar_of(&back, &WriteOptions::default())), digest(&data));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn round_trip_through_the_applier_gives_the_same_tree() {
    let d = scratch("roundtrip");
    let root = d.join("root");
    sample(&root);
    let data = tar_of(&root, &WriteOptions::default());
    let back = d.join("back");
    std::fs::create_dir_all(&back).unwrap();
    apply_tar(&back, &data[..], apply_opts()).unwrap();
    assert_eq!(std::fs::read(back.join("a/deep/f")).unwrap(), vec![7u8; 3000]);
    assert_eq!(std::fs::metadata(back.join("hard")).unwrap().ino(), std::fs::metadata(back.join("a/z")).unwrap().ino());
    assert_eq!(std::fs::metadata(back.join("a/deep")).unwrap().mtime(), 1_600_000_000);
    assert_eq!(digest(&tar_of(&back, &WriteOptions::default())), digest(&data));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn timestamps_are_clamped() {
    let d = scratch("clamp");
    let root = d.join("root");
    std::fs::create_dir_all(root.join("dir")).unwrap();
    std::fs::write(root.join("old"), "o").unwrap();
    std::fs::write(root.join("dir/new"), "n").unwrap();
    set_mtime(&root.join("old"), 1_000);
    set_mtime(&root.join("dir/new"), 2_000_000_000);
    let opts = WriteOptions { timestamp: Some(1_500_000_000), ..Default::default() };
    let es = entries(&tar_of(&root, &opts));
    let mt = |n: &[u8]| es.iter().find(|e| e.0 == n).unwrap().3;
    assert_eq!(mt(b"old"), 1_000, "older times stay");
    assert_eq!(mt(b"dir/new"), 1_500_000_000);
    assert_eq!(mt(b"dir/"), 1_500_000_000, "the directory was changed just now");
    assert_eq!(std::fs::metadata(root.join("dir/new")).unwrap().mtime(), 2_000_000_000, "export leaves files alone");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn split_records_rebuild_the_stream() {
    let d = scratch("split");
    let root = d.join("root");
    sample(&root);
    let mut out = Vec::new();
    let mut split = SplitWriter::new(Vec::new()).unwrap();
    write_tree(&root, &mut out, &WriteOptions::default(), Some(&mut split)).unwrap();
    let record = split.finish().unwrap();
    assert!(record.len() < out.len());
    let fd = rustix::fs::open(&root, OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
    let mut again = Vec::new();
    reassemble(&record[..], &fd, &mut again).unwrap();
    assert_eq!(digest(&again), digest(&out));
    // A changed file is noticed, not copied.
    std::fs::write(root.join("a/deep/f"), "short").unwrap();
    let err = reassemble(&record[..], &fd, &mut Vec::new()).unwrap_err().to_string();
    assert!(err.contains("a/deep/f"), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}

/// A stream from another writer (GNU long names, PAX, padding after the end) recorded while
/// the applier unpacks it is rebuilt byte for byte from the unpacked files.
#[test]
fn a_recorded_foreign_stream_is_rebuilt_from_the_unpacked_layer() {
    let d = scratch("tee");
    let mut b = tar::Builder::new(Vec::new());
    let long = format!("{}/file", "x".repeat(150));
    let mut h = tar::Header::new_gnu();
    h.set_mode(0o644);
    h.set_size(0);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(1_700_000_000);
    h.set_entry_type(tar::EntryType::Directory);
    b.append_data(&mut h.clone(), "dir/", &[][..]).unwrap();
    h.set_entry_type(tar::EntryType::Regular);
    h.set_size(5);
    b.append_data(&mut h.clone(), "dir/a", &b"hello"[..]).unwrap();
    h.set_size(4);
    b.append_data(&mut h.clone(), &long, &b"long"[..]).unwrap();
    b.append_pax_extensions([("user.x", &b"y"[..])].iter().map(|(k, v)| (*k, *v))).unwrap();
    h.set_size(0);
    b.append_data(&mut h.clone(), "dir/.wh.gone", &[][..]).unwrap();
    let mut raw = b.into_inner().unwrap();
    raw.extend_from_slice(&[0u8; 2048]);
    let root = d.join("root");
    std::fs::create_dir_all(&root).unwrap();
    let tee = SplitTee::new(&raw[..], Vec::new()).unwrap();
    let (_, mut tee) = apply_tar(&root, tee, apply_opts()).unwrap();
    std::io::copy(&mut tee, &mut std::io::sink()).unwrap();
    let record = tee.finish().unwrap();
    let fd = rustix::fs::open(&root, OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
    let mut again = Vec::new();
    reassemble(&record[..], &fd, &mut again).unwrap();
    assert_eq!(again.len(), raw.len());
    assert!(again == raw, "the rebuilt stream differs");
    // A stream that names a path twice cannot be rebuilt from disk: no record.
    let mut b = tar::Builder::new(Vec::new());
    h.set_size(1);
    b.append_data(&mut h.clone(), "twice", &b"1"[..]).unwrap();
    b.append_data(&mut h.clone(), "twice", &b"2"[..]).unwrap();
    let raw = b.into_inner().unwrap();
    let root2 = d.join("root2");
    std::fs::create_dir_all(&root2).unwrap();
    let (_, mut tee) = apply_tar(&root2, SplitTee::new(&raw[..], Vec::new()).unwrap(), apply_opts()).unwrap();
    std::io::copy(&mut tee, &mut std::io::sink()).unwrap();
    assert!(tee.finish().unwrap_err().contains("twice"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn a_plain_tree_round_trips_through_the_applier() {
    use std::os::unix::fs::symlink;
    let d = scratch("plain");
    let src = d.join("src");
    let long = "x".repeat(150);
    std::fs::create_dir_all(src.join("sub").join(&long)).unwrap();
    std::fs::write(src.join("a"), b"small").unwrap();
    std::fs::write(src.join("sub/big"), vec![7u8; 3_000_000]).unwrap();
    std::fs::write(src.join(".wh.plain"), b"not a whiteout").unwrap();
    std::fs::hard_link(src.join("a"), src.join("sub/a-again")).unwrap();
    symlink("/etc/passwd", src.join("sub").join(&long).join("link")).unwrap();
    let (r, w) = nix::unistd::pipe().unwrap();
    let root = rustix::fs::open(&src, OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
    let writer = std::thread::spawn(move || {
        // Named below "top": the directory itself comes first.
        write_plain(Source::Dir { dir: &root, as_name: b"top" }, w, Owners::Fixed(0, 0)).unwrap();
    });
    let dst = d.join("dst");
    std::fs::create_dir_all(&dst).unwrap();
    let opts = apply_opts();
    let me = (nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw());
    let files = crate::storage::apply::FileOptions { owner: Some(me), overwrite: false };
    crate::storage::apply::apply_tar_files(&dst, std::fs::File::from(r), opts, files).unwrap();
    writer.join().unwrap();
    let top = dst.join("top");
    assert_eq!(std::fs::read(top.join("a")).unwrap(), b"small");
    assert_eq!(std::fs::read(top.join("sub/big")).unwrap(), vec![7u8; 3_000_000]);
    assert_eq!(std::fs::read(top.join(".wh.plain")).unwrap(), b"not a whiteout");
    assert_eq!(
        std::fs::metadata(top.join("sub/a-again")).unwrap().ino(),
        std::fs::metadata(top.join("a")).unwrap().ino()
    );
    assert_eq!(std::fs::read_link(top.join("sub").join(&long).join("link")).unwrap(), Path::new("/etc/passwd"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn plain_owners_are_mapped_and_an_unmapped_owner_is_named() {
    let d = scratch("owners");
    std::fs::write(d.join("f"), b"x").unwrap();
    let me = nix::unistd::geteuid().as_raw();
    let g = nix::unistd::getegid().as_raw();
    let dir = rustix::fs::open(&d, OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
    let table = IdTable { uid: vec![(me, 7, 1)], gid: vec![(g, 8, 1)] };
    let opts = WriteOptions { owners: Owners::Keep(Some(table)), plain: true, ..Default::default() };
    let mut out = Vec::new();
    write_from(Source::Contents { dir: &dir, prefix: b"p" }, &mut out, &opts).unwrap();
    let mut a = tar::Archive::new(out.as_slice());
    let e = a.entries().unwrap().next().unwrap().unwrap();
    assert_eq!(e.path_bytes().as_ref(), b"p/f");
    assert_eq!((e.header().uid().unwrap(), e.header().gid().unwrap()), (7, 8));
    let opts = WriteOptions { owners: Owners::Keep(Some(IdTable::default())), plain: true, ..Default::default() };
    let err = write_from(Source::Contents { dir: &dir, prefix: b"" }, &mut Vec::new(), &opts).unwrap_err();
    assert!(matches!(err, TarWriteError::Unmapped { kind: "uid", .. }), "{err}");
    std::fs::remove_dir_all(&d).unwrap();
}
