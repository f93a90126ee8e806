//! Hostile images: a corpus of images whose files try to reach the host — /etc files and mount
//! points as symlinks to a canary directory in the user's home, FIFOs, /dev/zero, huge and
//! sparse files, data after the end of a layer, names that are not UTF-8, symlinked /run,
//! /dev, workdir — plus the applier's own escapes. Each case states what must happen: refused
//! with a one-line error naming the entry, or run confined; and after every case nothing
//! outside the store has changed (the home directory, canary included, is compared file by
//! file). Also: a `run -d` killed at any instant leaves a listed container or nothing.

mod common;

use common::images::{Compression, Entry, Layer, Layout, busybox_layer, host_arch, layer, layer_from_tar};
use common::{Registry, TestHome, code, stderr, stdout};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// What a case must do.
enum Expect {
    /// Exit 0 with stdout containing this.
    Runs(String),
    /// Exit 125 and one `Error:` line containing each of these.
    Refused(&'static [&'static str]),
}

/// Every file under `dir` (not following symlinks) with its type, size and change time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u32, u64, i64, i64)> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = e.path().symlink_metadata().unwrap();
            out.insert(e.path(), (m.mode(), m.len(), m.mtime(), m.mtime_nsec()));
            if m.is_dir() {
                todo.push(e.path());
            }
        }
    }
    out
}

/// One test home with a registry, a canary directory in the home, and the base layer.
struct Bench {
    reg: Registry,
    h: TestHome,
    canary: PathBuf,
    base: Layer,
    n: usize,
}

/// The canary's secret: a passwd- and group-shaped line, so a read of it would show.
const SECRET: &[u8] = b"canaryuser:x:4242:4242::/CANARY-HOME:/bin/sh\ncanarygroup:x:4343:\n";

impl Bench {
    fn new() -> Bench {
        let reg = Registry::start();
        let h = TestHome::new();
        h.use_registry(&reg);
        let canary = h.home().join("canary");
        std::fs::create_dir_all(&canary).unwrap();
        std::fs::write(canary.join("secret"), SECRET).unwrap();
        let u = common::user();
        for p in [&canary, &canary.join("secret")] {
            std::os::unix::fs::chown(p, Some(u.uid), Some(u.gid)).unwrap();
        }
        Bench { reg, h, canary, base: busybox_layer(), n: 0 }
    }

    /// The busybox layer every image starts with.
    fn base(&self) -> Layer {
        Layer { blob: self.base.blob.clone(), diff_id: self.base.diff_id.clone(), media_type: self.base.media_type }
    }

    /// `path` in the canary directory, as an absolute host path.
    fn abs(&self, name: &str) -> String {
        self.canary.join(name).display().to_string()
    }

    /// The same, as a relative symlink target from `depth` directories below a root: enough
    /// `..` to reach the host's / from wherever kiste keeps the layer, then the canary.
    fn rel(&self, name: &str) -> String {
        format!("{}{}", "../".repeat(24), self.abs(name).trim_start_matches('/'))
    }

    /// Pushes busybox + `layers` with `config` extras, pulls it, returns the reference.
    fn image(&mut self, layers: Vec<Layer>, config: serde_json::Value) -> String {
        self.n += 1;
        let dir = common::ScratchDir::new("hostile-layout");
        let mut l = Layout::new(&dir);
        let mut all = vec![self.base()];
        all.extend(layers);
        l.image_configured(&all, host_arch(), config);
        l.finish();
        let name = format!("hostile{}:latest", self.n);
        self.reg.push(&dir, &name, false, None);
        let r = format!("{}/{name}", self.reg.addr());
        self.h.pull(&r);
        r
    }

    fn entries_image(&mut self, entries: &[Entry]) -> String {
        self.image(vec![layer(entries, Compression::Gzip)], serde_json::json!({}))
    }

    /// Runs kiste with `args`, checks `expect`, and that the home (canary included) is unchanged.
    fn check(&self, case: &str, args: &[&str], expect: &Expect) {
        let before = snapshot(&self.h.home());
        let o = self.h.kiste(args);
        let (out, err) = (stdout(&o), stderr(&o));
        match expect {
            Expect::Runs(want) => {
                let want = want.as_str();
                assert_eq!(code(&o), 0, "{case}: should run confined\nstdout: {out}\nstderr: {err}");
                assert!(out.contains(want), "{case}: stdout lacks {want:?}:\n{out}\nstderr: {err}");
            }
            Expect::Refused(words) => {
                assert_eq!(code(&o), 125, "{case}: should be refused\nstdout: {out}\nstderr: {err}");
                assert!(
                    err.starts_with("Error: ") && err.trim_end().lines().count() == 1,
                    "{case}: not one line: {err}"
                );
                for w in *words {
                    assert!(err.contains(w), "{case}: error lacks {w:?}: {err}");
                }
            }
        }
        assert!(!out.contains("CANARY") && !err.contains("CANARY"), "{case}: the canary was read:\n{out}\n{err}");
        let after = snapshot(&self.h.home());
        assert_eq!(before, after, "{case}: files outside the store changed");
        let left: Vec<_> = std::fs::read_dir(&self.canary).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(left, vec![std::ffi::OsString::from("secret")], "{case}: the canary directory changed");
    }

    /// The containers directory holds exactly the listed containers (no orphan, no .tmp-).
    /// An `--rm` container's monitor removes its files (renamed `.del-ID`) after `run`
    /// returned: those must go within seconds.
    fn assert_no_orphans(&self, case: &str) {
        let listed: Vec<String> = self.h.ps_all().iter().map(|c| c["Id"].as_str().unwrap().to_string()).collect();
        let read = || -> Vec<String> {
            std::fs::read_dir(self.h.data().join("containers"))
                .map(|rd| rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect())
                .unwrap_or_default()
        };
        common::wait_until(10, &format!("{case}: removed containers' files stayed"), || {
            !read().iter().any(|d| d.starts_with(".del-"))
        });
        let dirs = read();
        for d in &dirs {
            assert!(listed.contains(d), "{case}: container directory {d} has no record (listed: {listed:?})");
        }
    }
}

#[test]
fn mount_points_stay_inside_the_root() {
    let mut b = Bench::new();
    // Each /etc file the runtime mounts over, as an absolute and a relative symlink to the canary.
    for (file, shows) in [
        ("etc/hosts", "localhost"),
        ("etc/resolv.conf", "nameserver"),
        ("etc/hostname", ""),
        ("run/.containerenv", "engine="),
    ] {
        for (how, target) in
            [("absolute", b.abs(file.replace('/', "-").as_str())), ("relative", b.rel(&file.replace('/', "-")))]
        {
            let img = b.entries_image(&[Entry::Dir("run", 0o755), Entry::Symlink(file, &target)]);
            let cat = format!("/{file}");
            b.check(
                &format!("{file} as an {how} symlink"),
                &["run", "--rm", &img, "cat", &cat],
                &Expect::Runs(shows.into()),
            );
        }
    }
    // Whole directories the runtime mounts into, as symlinks to the canary.
    let cases: [(&str, &str, &[&str], Expect); 6] = [
        (
            "/run symlinked",
            "run",
            &["sh", "-c", "test -f /run/.containerenv && echo present"],
            Expect::Runs("present".into()),
        ),
        (
            "/dev symlinked",
            "dev",
            &["sh", "-c", "echo x > /dev/null && ls /dev/null"],
            Expect::Runs("/dev/null".into()),
        ),
        ("/etc symlinked", "etc", &["cat", "/etc/hosts"], Expect::Runs("localhost".into())),
        ("/proc symlinked", "proc", &["cat", "/proc/self/comm"], Expect::Runs("cat".into())),
        ("/sys symlinked", "sys", &["ls", "/sys/kernel"], Expect::Runs("".into())),
        (
            "/scratch symlinked with --tmpfs",
            "scratch",
            &["sh", "-c", "echo hi > /scratch/f && grep -q dir-scratch /proc/mounts && cat /scratch/f"],
            Expect::Runs("hi".into()),
        ),
    ];
    for (case, dir, cmd, expect) in cases {
        let target = b.abs(&format!("dir-{dir}"));
        // (/etc as a symlink hides the image's passwd: fine, the case is about the mounts.)
        let img = b.entries_image(&[Entry::Symlink(dir, &target)]);
        let mut args = vec!["run", "--rm"];
        if dir == "scratch" {
            args.extend(["--tmpfs", "/scratch"]);
        }
        args.push(&img);
        args.extend(cmd);
        b.check(case, &args, &expect);
    }
    // A symlinked workdir, and -w through it: made inside the container.
    let target = b.abs("work");
    let img = b.image(
        vec![layer(&[Entry::Symlink("work", &target)], Compression::Gzip)],
        serde_json::json!({"WorkingDir": "/work/sub"}),
    );
    b.check(
        "image workdir through a symlink",
        &["run", "--rm", &img, "sh", "-c", "pwd"],
        &Expect::Runs("canary/work/sub".into()),
    );
    b.check(
        "-w through a symlink",
        &["run", "--rm", "-w", "/work/x", &img, "sh", "-c", "pwd"],
        &Expect::Runs("canary/work/x".into()),
    );
    // /etc/hosts as a FIFO is mounted over (never opened); as a directory it is refused.
    let img = b.entries_image(&[Entry::Dir("etc", 0o755), Entry::Raw(b"etc/hosts", tar::EntryType::Fifo, b"")]);
    b.check("/etc/hosts as a FIFO", &["run", "--rm", &img, "cat", "/etc/hosts"], &Expect::Runs("localhost".into()));
    let img = b.entries_image(&[Entry::Dir("etc/hosts", 0o755)]);
    b.check(
        "/etc/hosts as a directory",
        &["run", "--rm", &img, "true"],
        &Expect::Refused(&["/etc/hosts", "directory"]),
    );
    b.assert_no_orphans("mount points");
}

#[test]
fn etc_files_are_read_inside_the_image_only() {
    let mut b = Bench::new();
    let (abs, rel) = (b.abs("secret"), b.rel("secret"));
    let as_passwd = |b: &mut Bench, target: &str| {
        b.entries_image(&[
            Entry::Dir("etc", 0o755),
            Entry::Symlink("etc/passwd", target),
            Entry::Symlink("etc/group", target),
        ])
    };
    for (how, target) in [("absolute", abs.as_str()), ("relative", rel.as_str())] {
        let img = as_passwd(&mut b, target);
        b.check(
            &format!("passwd {how}: HOME"),
            &["run", "--rm", &img, "sh", "-c", "echo home=$HOME"],
            &Expect::Runs("home=/\n".into()),
        );
        b.check(
            &format!("passwd {how}: -u NAME"),
            &["run", "--rm", "-u", "canaryuser", &img, "sh", "-c", "id"],
            &Expect::Refused(&["canaryuser", "/etc/passwd"]),
        );
        b.check(
            &format!("group {how}: -u 0:NAME"),
            &["run", "--rm", "-u", "0:canarygroup", &img, "sh", "-c", "id"],
            &Expect::Refused(&["canarygroup", "/etc/group"]),
        );
        b.check(
            &format!("group {how}: --group-add"),
            &["run", "--rm", "--group-add", "canarygroup", &img, "sh", "-c", "id"],
            &Expect::Refused(&["canarygroup"]),
        );
        b.check(
            &format!("passwd {how}: --userns=keep-id"),
            &["run", "--rm", "--userns=keep-id", &img, "cat", "/etc/passwd"],
            &Expect::Runs(format!("{}:", common::user().name)),
        );
    }
    // Not regular files, or too large: refused, naming the file, nothing created.
    let fifo = b.entries_image(&[Entry::Dir("etc", 0o755), Entry::Raw(b"etc/passwd", tar::EntryType::Fifo, b"")]);
    b.check("passwd as a FIFO", &["run", "--rm", &fifo, "true"], &Expect::Refused(&["etc/passwd", "FIFO"]));
    let fifo_g = b.entries_image(&[Entry::Dir("etc", 0o755), Entry::Raw(b"etc/group", tar::EntryType::Fifo, b"")]);
    b.check(
        "group as a FIFO",
        &["run", "--rm", "--group-add", "staff", &fifo_g, "true"],
        &Expect::Refused(&["etc/group", "FIFO"]),
    );
    let zero = b.entries_image(&[Entry::Dir("etc", 0o755), Entry::Symlink("etc/passwd", "/dev/zero")]);
    b.check(
        "passwd -> /dev/zero",
        &["run", "--rm", &zero, "sh", "-c", "echo home=$HOME"],
        &Expect::Runs("home=/\n".into()),
    );
    let big = vec![b'x'; 50 << 20];
    let img = b.entries_image(&[Entry::Dir("etc", 0o755), Entry::File("etc/passwd", &big, 0o644)]);
    b.check("passwd of 50 MB", &["run", "--rm", &img, "true"], &Expect::Refused(&["etc/passwd", "larger than"]));
    let img = b.entries_image(&[Entry::Dir("etc/passwd", 0o755)]);
    b.check("passwd as a directory", &["run", "--rm", &img, "true"], &Expect::Refused(&["etc/passwd", "directory"]));
    let img = b.entries_image(&[Entry::Dir("etc", 0o755), Entry::Symlink("etc/passwd", "passwd")]);
    b.check(
        "passwd as a symlink loop",
        &["run", "--rm", &img, "true"],
        &Expect::Refused(&["etc/passwd", "symbolic links"]),
    );
    b.assert_no_orphans("etc files");
}

#[test]
fn exec_and_top_read_the_container_files_inside_it() {
    let mut b = Bench::new();
    let img = b.entries_image(&[]);
    let id = b.h.ok(&["run", "-d", &img, "sleep", "300"]).trim().to_string();
    let swap = format!(
        "rm /etc/passwd /etc/group && ln -s {} /etc/passwd && ln -s {} /etc/group",
        b.abs("secret"),
        b.rel("secret")
    );
    b.h.ok(&["exec", &id, "sh", "-c", &swap]);
    b.check(
        "exec -u after the container swapped passwd",
        &["exec", "-u", "canaryuser", &id, "sh", "-c", "id"],
        &Expect::Refused(&["canaryuser"]),
    );
    b.check(
        "exec -u 0:NAME after the swap",
        &["exec", "-u", "0:canarygroup", &id, "sh", "-c", "id"],
        &Expect::Refused(&["canarygroup"]),
    );
    b.check("top after the swap", &["top", &id], &Expect::Runs("sleep 300".into()));
    b.h.ok(&["exec", &id, "sh", "-c", "rm /etc/passwd && mkfifo /etc/passwd"]);
    b.check(
        "exec -u with passwd a FIFO",
        &["exec", "-u", "root", &id, "sh", "-c", "id"],
        &Expect::Refused(&["etc/passwd", "FIFO"]),
    );
    b.check("exec -u 0 with passwd a FIFO", &["exec", "-u", "0", &id, "sh", "-c", "id"], &Expect::Refused(&["FIFO"]));
    b.h.ok(&["rm", "-f", &id]);
}

/// A GNU sparse tar entry: `data` at `offset` of a file of apparent size `real`.
fn sparse_tar(path: &str, offset: u64, data: &[u8], real: u64) -> Vec<u8> {
    let put = |dst: &mut [u8; 12], v: u64| {
        *dst = [0; 12];
        dst[0] = 0x80;
        dst[4..].copy_from_slice(&v.to_be_bytes());
    };
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::GNUSparse);
    h.set_path(path).unwrap();
    h.set_size(data.len() as u64);
    h.set_mode(0o644);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(common::images::MTIME);
    let g = h.as_gnu_mut().unwrap();
    put(&mut g.sparse[0].offset, offset);
    put(&mut g.sparse[0].numbytes, data.len() as u64);
    put(&mut g.sparse[1].offset, real);
    put(&mut g.sparse[1].numbytes, 0);
    g.set_real_size(real);
    h.set_cksum();
    let mut raw = h.as_bytes().to_vec();
    raw.extend_from_slice(data);
    raw.resize(raw.len().div_ceil(512) * 512, 0);
    raw.extend_from_slice(&[0u8; 1024]);
    raw
}

/// Pushes busybox + `layer` and pulls it; returns (exit code, stderr).
fn pull_layer(b: &mut Bench, l: Layer) -> (i32, String, String) {
    b.n += 1;
    let dir = common::ScratchDir::new("hostile-layout");
    let mut lay = Layout::new(&dir);
    lay.image(&[b.base(), l], host_arch());
    lay.finish();
    let name = format!("pulled{}:latest", b.n);
    b.reg.push(&dir, &name, false, None);
    let r = format!("{}/{name}", b.reg.addr());
    let o = b.h.kiste(&["pull", &r]);
    (code(&o), stderr(&o), r)
}

#[test]
fn layers_cannot_exhaust_the_disk_or_escape() {
    let mut b = Bench::new();
    let before = snapshot(&b.h.home());
    // A declared sparse file larger than any disk: refused before anything is written.
    let (c, err, _) = pull_layer(&mut b, layer_from_tar(sparse_tar("huge", 0, b"x", 1 << 50), Compression::Gzip));
    assert_eq!(c, 125, "{err}");
    assert!(err.contains("\"huge\"") && err.contains("free"), "{err}");
    // A sparse file that fits keeps its holes.
    let (c, err, r) =
        pull_layer(&mut b, layer_from_tar(sparse_tar("sparse", 512 << 20, b"tail", 1 << 30), Compression::Zstd));
    assert_eq!(c, 0, "{err}");
    let top = b.h.layer_dirs(&r).pop().unwrap().join("sparse");
    let m = std::fs::metadata(&top).unwrap();
    assert_eq!(m.len(), 1 << 30);
    assert!(m.blocks() * 512 < 1 << 20, "a sparse file took {} bytes", m.blocks() * 512);
    // Gigabytes of zeros after the end of the archive are not read to the end.
    let mut raw = common::images::tar(&[Entry::File("small", b"x", 0o644)]);
    raw.resize(raw.len() + (1 << 30), 0);
    let t0 = std::time::Instant::now();
    let (c, err, _) = pull_layer(&mut b, layer_from_tar(raw, Compression::Zstd));
    assert_eq!(c, 125, "{err}");
    assert!(err.contains("after the end of its tar archive"), "{err}");
    eprintln!("trailing zeros refused in {:?}", t0.elapsed());
    // A whiteout of a name that is not UTF-8 hides it.
    let lower = layer(
        &[Entry::Dir("data", 0o755), Entry::Raw(b"data/n\xff-file", tar::EntryType::Regular, b"")],
        Compression::Gzip,
    );
    let upper = layer(
        &[Entry::Dir("data", 0o755), Entry::Raw(b"data/.wh.n\xff-file", tar::EntryType::Regular, b"")],
        Compression::Gzip,
    );
    let img = b.image(vec![lower, upper], serde_json::json!({}));
    b.check("non-UTF-8 whiteout", &["run", "--rm", &img, "sh", "-c", "ls -A /data | wc -l"], &Expect::Runs("0".into()));
    // The applier's escapes, each refused naming the entry.
    let outside = b.abs("applied");
    let rel_out = b.rel("applied");
    let escapes: Vec<(&str, Vec<Entry>, &str)> = vec![
        ("dotdot entry", vec![Entry::Raw(b"../../../../../../escape", tar::EntryType::Regular, b"")], "\"..\""),
        (
            "file through an absolute symlink",
            vec![Entry::Symlink("evil", &outside), Entry::File("evil/pwned", b"x", 0o644)],
            "symlink",
        ),
        (
            "file through a relative symlink",
            vec![Entry::Symlink("evil", &rel_out), Entry::File("evil/pwned", b"x", 0o644)],
            "symlink",
        ),
        (
            "hardlink to an absolute path",
            vec![Entry::Raw(b"stolen", tar::EntryType::Link, b"/etc/shadow")],
            "not in this layer",
        ),
        ("hardlink with ..", vec![Entry::Raw(b"stolen", tar::EntryType::Link, b"../../../etc/shadow")], "\"..\""),
        (
            "whiteout through a symlink",
            vec![Entry::Symlink("evil", &outside), Entry::File("evil/.wh.secret", b"", 0o644)],
            "symlink",
        ),
        (
            "opaque marker through a symlink",
            vec![Entry::Symlink("evil", &outside), Entry::File("evil/.wh..wh..opq", b"", 0o644)],
            "symlink",
        ),
    ];
    for (case, entries, word) in escapes {
        let (c, err, _) = pull_layer(&mut b, layer(&entries, Compression::Gzip));
        assert_eq!(c, 125, "{case}: {err}");
        assert!(err.starts_with("Error: ") && err.contains(word), "{case}: {err}");
    }
    assert_eq!(before, snapshot(&b.h.home()), "files outside the store changed");
    assert!(!Path::new(&outside).exists());
}

#[test]
fn killed_run_leaves_a_listed_container_or_nothing() {
    let mut b = Bench::new();
    let img = b.entries_image(&[]);
    // Kill times spread over the whole of an uninterrupted `run -d` (measured here), the first
    // 5 ms (start-up) twice as densely.
    let t0 = std::time::Instant::now();
    b.h.ok(&["run", "-d", &img, "true"]);
    let whole = t0.elapsed().as_micros() as u64;
    for i in 0..80u64 {
        let mut child =
            b.h.command(&["run", "-d", &img, "true"])
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap();
        let us = if i % 3 == 0 { (i * 173) % 5_000 } else { (i * 7919) % whole.max(1) };
        std::thread::sleep(std::time::Duration::from_micros(us));
        let _ = child.kill();
        let _ = child.wait();
    }
    b.assert_no_orphans("after killed runs");
    b.h.ok(&["rm", "-a", "-f"]);
    let left: Vec<_> = std::fs::read_dir(b.h.data().join("containers"))
        .map(|rd| rd.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "left after rm -a: {left:?}");
}

#[test]
fn directories_of_killed_creates_are_swept_and_live_ones_kept() {
    use std::os::fd::AsRawFd;
    let b = Bench::new();
    let u = common::user();
    let containers = b.h.data().join("containers");
    let own = |p: &Path| {
        std::fs::create_dir_all(p).unwrap();
        let mut d = Some(p);
        while let Some(x) = d.filter(|x| x.starts_with(b.h.data())) {
            std::os::unix::fs::chown(x, Some(u.uid), Some(u.gid)).unwrap();
            d = x.parent();
        }
    };
    let (tmp, bare, live) = (format!(".tmp-{}", "a".repeat(64)), "b".repeat(64), "c".repeat(64));
    for d in [&tmp, &bare, &live] {
        own(&containers.join(d).join("userdata"));
    }
    // A create that still runs holds its lock: its directory stays.
    let locks = b.h.runtime().join("kiste/locks");
    std::fs::create_dir_all(&locks).unwrap();
    let lock_path = locks.join(format!("create-{live}.lock"));
    let lock = std::fs::File::create(&lock_path).unwrap();
    for p in [b.h.runtime().join("kiste"), locks.clone(), lock_path.clone()] {
        std::os::unix::fs::chown(&p, Some(u.uid), Some(u.gid)).unwrap();
    }
    // SAFETY: flock on a file we own.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    assert!(b.h.ps_all().is_empty());
    let names = || -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(&containers)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    };
    assert_eq!(names(), vec![live.clone()], "ps -a must sweep what killed creates left, and only that");
    drop(lock);
    b.h.ok(&["rm", "-a"]);
    assert!(names().is_empty(), "rm -a must sweep a directory whose create is gone");
}

#[test]
fn volumes_and_cp_stay_inside_the_root() {
    let mut b = Bench::new();
    let u = common::user();
    // Host scratch outside the home (the home is compared file by file), the test user's.
    let out = common::ScratchDir::new("hostile-cp");
    std::os::unix::fs::chown(&*out, Some(u.uid), Some(u.gid)).unwrap();
    let src = out.join("src.txt");
    std::fs::write(&src, "from host\n").unwrap();
    std::os::unix::fs::chown(&src, Some(u.uid), Some(u.gid)).unwrap();
    // -v and a bind over a mount destination that is a symlink to the canary.
    for (how, target) in [("absolute", b.abs("")), ("relative", b.rel(""))] {
        let img = b.entries_image(&[Entry::Symlink("data", &target)]);
        b.check(
            &format!("-v over /data as an {how} symlink"),
            &["run", "--rm", "-v", "hv:/data", &img, "sh", "-c", "echo x > /data/f && ls /data"],
            &Expect::Runs("f".into()),
        );
        let bind = format!("{}:/data", out.display());
        b.check(
            &format!("a bind over /data as an {how} symlink"),
            &["run", "--rm", "-v", &bind, &img, "cat", "/data/src.txt"],
            &Expect::Runs("from host".into()),
        );
    }
    // An image VOLUME that is a symlink to the canary: its volume is mounted inside and
    // filled from inside only (there is nothing at the path there).
    for (how, target) in [("absolute", b.abs("")), ("relative", b.rel(""))] {
        let img = b.image(
            vec![layer(&[Entry::Symlink("vol", &target)], Compression::Gzip)],
            serde_json::json!({"Volumes": {"/vol": {}}}),
        );
        b.check(
            &format!("image VOLUME as an {how} symlink"),
            &["run", "--rm", &img, "sh", "-c", "ls -A /vol | wc -l; echo x > /vol/w"],
            &Expect::Runs("0".into()),
        );
        b.check(
            &format!("a new named volume over an {how} symlinked VOLUME"),
            &["run", "--rm", "-v", &format!("cv{how}:/vol"), &img, "sh", "-c", "ls -A /vol | wc -l"],
            &Expect::Runs("0".into()),
        );
    }
    // cp from and into a container whose /data is a symlink to the canary: resolved inside.
    let img = b.entries_image(&[Entry::Symlink("data", &b.abs(""))]);
    let id = b.h.ok(&["run", "-d", &img, "sleep", "300"]).trim().to_string();
    for state in ["running", "stopped"] {
        let file = out.join(format!("{state}-secret"));
        b.check(
            &format!("cp of a file through the symlink ({state})"),
            &["cp", &format!("{id}:/data/secret"), &file.display().to_string()],
            &Expect::Refused(&["could not be found"]),
        );
        assert!(!file.exists(), "{state}: nothing copied");
        b.check(
            &format!("cp -L of the symlink ({state})"),
            &["cp", "-L", &format!("{id}:/data"), &out.join(format!("{state}-followed")).display().to_string()],
            &Expect::Refused(&["could not be found"]),
        );
        let linkdir = out.join(format!("{state}-link"));
        std::fs::create_dir_all(&linkdir).unwrap();
        std::os::unix::fs::chown(&linkdir, Some(u.uid), Some(u.gid)).unwrap();
        b.check(
            &format!("cp of the symlink itself ({state})"),
            &["cp", &format!("{id}:/data"), &linkdir.display().to_string()],
            &Expect::Runs("".into()),
        );
        assert_eq!(std::fs::read_link(linkdir.join("data")).unwrap(), Path::new(&b.abs("")), "{state}");
        for dest in ["/data/", "/data/new"] {
            b.check(
                &format!("cp into {dest} through the symlink ({state})"),
                &["cp", &src.display().to_string(), &format!("{id}:{dest}")],
                &Expect::Refused(&["could not be found"]),
            );
        }
        b.h.ok(&["stop", "-t", "0", &id]);
    }
    b.h.ok(&["rm", "-f", &id]);
    b.assert_no_orphans("volumes and cp");
}
