//! Context tests on real temporary directories.

use super::*;
use std::collections::HashMap;
use std::os::unix::fs::symlink;

struct Tmp(PathBuf);

impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn tmp(tag: &str) -> Tmp {
    let d = std::env::temp_dir().join(format!("kiste-ctx-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    Tmp(d)
}

fn write(root: &Path, rel: &str, data: &str) {
    let p = root.join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, data).unwrap();
}

fn sample(tag: &str) -> Tmp {
    let t = tmp(tag);
    let r = &t.0;
    write(r, "requirements.txt", "flask\n");
    write(r, "main.py", "print(1)\n");
    write(r, "util.py", "x = 1\n");
    write(r, "src/a/x.txt", "a");
    write(r, "src/b/x.txt", "b");
    write(r, "src/b/y.log", "log");
    write(r, "secret.env", "TOKEN=1");
    write(r, "docs/keep.md", "keep");
    write(r, "docs/drop.md", "drop");
    write(r, ".dockerignore", "*.env\n**/*.log\ndocs\n!docs/keep.md\n");
    symlink("/etc", r.join("etc-link")).unwrap();
    symlink("src/a", r.join("alink")).unwrap();
    t
}

#[test]
fn resolves_paths_wildcards_and_respects_ignores() {
    let t = sample("resolve");
    let c = BuildContext::from_dir(&t.0, None).unwrap();
    assert_eq!(c.resolve_source("requirements.txt").unwrap(), ["requirements.txt"]);
    assert_eq!(c.resolve_source("./*.py").unwrap(), ["main.py", "util.py"]);
    assert_eq!(c.resolve_source("src/*/x.txt").unwrap(), ["src/a/x.txt", "src/b/x.txt"]);
    assert_eq!(c.resolve_source("/src/[ab]").unwrap(), ["src/a", "src/b"]);
    assert_eq!(c.resolve_source(".").unwrap(), [""]);
    assert_eq!(c.resolve_source("docs/keep.md").unwrap(), ["docs/keep.md"]);
    assert!(matches!(c.resolve_source("secret.env"), Err(ContextError::NotFound(_))));
    assert!(matches!(c.resolve_source("docs/drop.md"), Err(ContextError::NotFound(_))));
    assert!(matches!(c.resolve_source("nope/*"), Err(ContextError::NotFound(_))));
    let e = c.resolve_source("../outside").unwrap_err();
    assert_eq!(
        e.to_string(),
        "source \"../outside\" is outside the build context; copy it into the context directory first"
    );
    assert!(matches!(c.resolve_source("src/../../x"), Err(ContextError::Escapes(_))));
    assert_eq!(c.resolve_source("src/../main.py").unwrap(), ["main.py"]);
}

#[test]
fn symlinks_never_leave_the_root() {
    let t = sample("links");
    let c = BuildContext::from_dir(&t.0, None).unwrap();
    assert_eq!(c.scoped("etc-link/passwd").unwrap(), c.root().join("etc/passwd"));
    assert_eq!(c.scoped("alink/x.txt").unwrap(), c.root().join("src/a/x.txt"));
    assert_eq!(c.scoped("src/../../../etc").unwrap(), c.root().join("etc"));
    assert!(matches!(c.resolve_source("etc-link/passwd"), Err(ContextError::NotFound(_))));
}

#[test]
fn checksums_change_exactly_with_content_and_mode() {
    let t = sample("sum");
    let c = BuildContext::from_dir(&t.0, None).unwrap();
    let sum = |s: &str| c.checksum(&c.resolve_source(s).unwrap(), &mut NoCache).unwrap();
    let (req, all, src) = (sum("requirements.txt"), sum("."), sum("src"));
    assert!(req.starts_with("sha256:") && req.len() == 71);
    assert_eq!(sum("."), all, "deterministic");
    write(&t.0, "main.py", "print(2)\n");
    assert_eq!(sum("requirements.txt"), req, "an unrelated source keeps its checksum");
    assert_eq!(sum("src"), src);
    let all2 = sum(".");
    assert_ne!(all2, all, "the context containing the file changes");
    write(&t.0, "secret.env", "TOKEN=2");
    write(&t.0, "src/b/y.log", "more log");
    write(&t.0, "docs/drop.md", "changed");
    assert_eq!(sum("."), all2, "ignored files do not count");
    write(&t.0, "docs/keep.md", "changed");
    assert_ne!(sum("."), all2, "a re-included file counts");
    fs::set_permissions(t.0.join("requirements.txt"), fs::Permissions::from_mode(0o600)).unwrap();
    assert_ne!(sum("requirements.txt"), req, "mode is part of the checksum");
}

#[test]
fn same_content_same_checksum_regardless_of_mtime() {
    let t = sample("mtime");
    let c = BuildContext::from_dir(&t.0, None).unwrap();
    let a = c.checksum(&["main.py".to_string()], &mut NoCache).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    write(&t.0, "main.py", "print(1)\n");
    assert_eq!(c.checksum(&["main.py".to_string()], &mut NoCache).unwrap(), a);
}

#[derive(Default)]
struct Counting {
    map: HashMap<FileKey, [u8; 32]>,
    misses: usize,
}

impl DigestCache for Counting {
    fn get(&self, key: &FileKey) -> Option<[u8; 32]> {
        self.map.get(key).copied()
    }
    fn put(&mut self, key: FileKey, digest: [u8; 32]) {
        self.misses += 1;
        self.map.insert(key, digest);
    }
}

#[test]
fn many_files_one_pass_and_a_digest_cache() {
    let t = tmp("many");
    for i in 0..2000 {
        write(&t.0, &format!("d{}/f{i}.txt", i % 20), &format!("file {i}"));
    }
    let c = BuildContext::from_dir(&t.0, None).unwrap();
    let mut cache = Counting::default();
    let a = c.checksum(&[String::new()], &mut cache).unwrap();
    assert_eq!(cache.misses, 2000);
    let b = c.checksum(&[String::new()], &mut cache).unwrap();
    assert_eq!((a, cache.misses), (b, 2000), "the second pass reads nothing");
}

#[test]
fn tar_context_from_stdin() {
    let t = tmp("tar");
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in [("app/main.py", "print(1)\n"), (".dockerignore", "*.tmp\n"), ("junk.tmp", "x")] {
        let mut h = tar::Header::new_gnu();
        h.set_path(path).unwrap();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_cksum();
        b.append(&h, data.as_bytes()).unwrap();
    }
    let data = b.into_inner().unwrap();
    let rootful = nix::unistd::geteuid().is_root();
    let opts = ApplyOptions {
        rootless: !rootful,
        uid_count: if rootful { None } else { Some(1) },
        gid_count: None,
        owners: true,
    };
    let c = BuildContext::from_tar(&data[..], &t.0, opts).unwrap();
    let root = c.root().to_path_buf();
    assert_eq!(c.resolve_source("app/main.py").unwrap(), ["app/main.py"]);
    assert!(c.is_ignored("junk.tmp"));
    drop(c);
    assert!(!root.exists(), "the unpacked context is removed with the context");

    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.as_old_mut().name[..8].copy_from_slice(b"../evil\0");
    h.set_size(1);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_cksum();
    b.append(&h, &b"x"[..]).unwrap();
    let data = b.into_inner().unwrap();
    let e = BuildContext::from_tar(&data[..], &t.0, opts).unwrap_err();
    assert!(e.to_string().contains("refused"), "{e}");
    assert!(!t.0.join("evil").exists());
}

#[test]
fn go_filepath_match() {
    let cases = [
        ("abc", "abc", true),
        ("*", "abc", true),
        ("*c", "abc", true),
        ("a*", "a", true),
        ("a*/b", "abc/b", true),
        ("a*b*c*d*e*", "axbxcxdxe", true),
        ("ab[c]", "abc", true),
        ("ab[b-d]", "abc", true),
        ("ab[e-g]", "abc", false),
        ("ab[^c]", "abc", false),
        ("ab[^e-g]", "abc", true),
        ("a\\*b", "a*b", true),
        ("a\\*b", "ab", false),
        ("a?b", "a☺b", true),
        ("a???b", "a☺b", false),
        ("[a-ζ]*", "α", true),
        ("[\\]a]", "]", true),
    ];
    for (p, n, want) in cases {
        assert_eq!(go_match(p, n).unwrap(), want, "{p} {n}");
    }
    assert!(go_match("[", "a").is_err());
    assert!(go_match("a\\", "a").is_err());
}
