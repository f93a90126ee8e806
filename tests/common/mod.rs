//! Test harness: runs the real kiste binary as an unprivileged user (the test user when the
//! runner is root, else the runner), each test in its own HOME/XDG directories, against real
//! registries (Debian's docker-registry) started on free ports of 127.0.0.1.
#![allow(dead_code)]

pub mod images;
mod push;
pub mod token;

pub use push::push_layout;

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The user kiste runs as.
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub subuid_start: u32,
}

pub fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

pub fn user() -> &'static User {
    static U: OnceLock<User> = OnceLock::new();
    U.get_or_init(|| {
        let name = if is_root() {
            std::env::var("KISTE_TEST_USER").expect(
                "running as root: set KISTE_TEST_USER to an unprivileged user with a subuid range (scripts/test.sh does)",
            )
        } else {
            nix::unistd::User::from_uid(nix::unistd::getuid()).unwrap().unwrap().name
        };
        let u = nix::unistd::User::from_name(&name)
            .unwrap()
            .unwrap_or_else(|| panic!("test user {name} does not exist; run scripts/test.sh as root to create it"));
        let subuid = std::fs::read_to_string("/etc/subuid").expect("read /etc/subuid");
        let start = subuid
            .lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.len() == 3 && (f[0] == name || f[0] == u.uid.to_string())).then(|| f[1].parse().unwrap())
            })
            .unwrap_or_else(|| panic!("{name} has no range in /etc/subuid; scripts/test.sh adds one"));
        User { name, uid: u.uid.as_raw(), gid: u.gid.as_raw(), subuid_start: start }
    })
}

/// The kiste binary, copied where the test user can run it when the runner is root (target/
/// may be private to root).
pub fn kiste_bin() -> &'static Path {
    static B: OnceLock<PathBuf> = OnceLock::new();
    B.get_or_init(|| {
        let built = PathBuf::from(env!("CARGO_BIN_EXE_kiste"));
        if !is_root() {
            return built;
        }
        let dir = scratch("bin");
        let dst = dir.join("kiste");
        let tmp = dir.join(".kiste.tmp");
        std::fs::copy(&built, &tmp).unwrap();
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::rename(&tmp, &dst).unwrap();
        dst
    })
}

fn chown_to_user(p: &Path) {
    if is_root() {
        let u = user();
        std::os::unix::fs::chown(p, Some(u.uid), Some(u.gid)).unwrap();
    }
}

fn private_dir(p: &Path, mode: u32) {
    std::fs::create_dir_all(p).unwrap();
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    chown_to_user(p);
}

/// A scratch directory, world-readable (for registries and image layouts), named
/// `kiste-test-TAG-PID-N` in the temporary directory.
pub fn scratch(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    static SWEPT: OnceLock<()> = OnceLock::new();
    SWEPT.get_or_init(sweep_stale_scratch);
    let d = std::env::temp_dir().join(format!(
        "kiste-test-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    d
}

/// A scratch directory removed on drop (derefs to its path).
pub struct ScratchDir(pub PathBuf);

impl ScratchDir {
    pub fn new(tag: &str) -> ScratchDir {
        ScratchDir(scratch(tag))
    }
}

impl std::ops::Deref for ScratchDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for ScratchDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Removes the scratch directories of test processes that have gone: a killed or panicking
/// test binary never runs the destructors of its statics (the binary copy) or its leftovers.
fn sweep_stale_scratch() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix("kiste-test-") else { continue };
        // TAG-PID-N (older runs: bin-PID).
        let parts: Vec<&str> = rest.rsplit('-').collect();
        let pid = match parts.as_slice() {
            [n, pid, _, ..] if n.parse::<u32>().is_ok() && pid.parse::<u32>().is_ok() => pid,
            [pid, ..] => pid,
            [] => continue,
        };
        let Ok(pid) = pid.parse::<u32>() else { continue };
        if pid != std::process::id() && !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

/// One test's user environment: HOME and XDG directories of its own.
pub struct TestHome {
    pub root: PathBuf,
}

impl TestHome {
    pub fn new() -> TestHome {
        let root = scratch("home");
        chown_to_user(&root);
        for (d, mode) in [("home", 0o755), ("home/.config/containers", 0o755), ("data", 0o700), ("run", 0o700)] {
            private_dir(&root.join(d), mode);
        }
        private_dir(&root.join("home/.config"), 0o755);
        TestHome { root }
    }

    pub fn home(&self) -> PathBuf {
        self.root.join("home")
    }
    pub fn data(&self) -> PathBuf {
        self.root.join("data/kiste")
    }
    pub fn runtime(&self) -> PathBuf {
        self.root.join("run")
    }

    /// Writes registries.conf: `registry` is the short-name search registry and insecure.
    pub fn use_registry(&self, registry: &Registry) {
        let p = self.home().join(".config/containers/registries.conf");
        std::fs::write(
            &p,
            format!(
                "unqualified-search-registries = [\"{a}\"]\n\n[[registry]]\nlocation = \"{a}\"\ninsecure = true\n",
                a = registry.addr()
            ),
        )
        .unwrap();
        chown_to_user(&p);
    }

    /// A command running kiste as the test user in this environment.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = self.user_command(kiste_bin());
        c.args(args);
        c
    }

    /// A command running `program` as the test user (setpriv when the runner is root, groups
    /// cleared) with only this environment's variables and stdin from /dev/null.
    pub fn user_command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = if is_root() {
            let u = user();
            let mut c = Command::new("setpriv");
            c.arg(format!("--reuid={}", u.uid))
                .arg(format!("--regid={}", u.gid))
                .arg("--clear-groups")
                .arg("--")
                .arg(program);
            c
        } else {
            Command::new(program)
        };
        c.env_clear()
            .env("HOME", self.home())
            .env("USER", &user().name)
            .env("XDG_DATA_HOME", self.root.join("data"))
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_RUNTIME_DIR", self.runtime())
            .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::null());
        c
    }

    /// kiste run by the real root (the runner must be root), with this home's XDG paths.
    pub fn command_as_root(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_kiste"));
        c.args(args)
            .env_clear()
            .env("HOME", self.home())
            .env("KISTE_ROOTFUL_AS_USER", "1")
            .env("XDG_DATA_HOME", self.root.join("data"))
            .env("XDG_CONFIG_HOME", self.home().join(".config"))
            .env("XDG_RUNTIME_DIR", self.runtime())
            .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
            .stdin(Stdio::null());
        c
    }

    /// Runs kiste to its end (at most two minutes: a hang fails the test, it does not stall
    /// the suite).
    pub fn kiste(&self, args: &[&str]) -> Output {
        output_within(&mut self.command(args), 120, &format!("kiste {args:?}"))
    }

    /// Runs kiste, asserts success, returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.kiste(args);
        assert!(
            o.status.success(),
            "kiste {args:?} failed ({}):\nstdout: {}\nstderr: {}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    }

    /// Runs kiste, asserts failure, returns (exit code, stderr).
    pub fn err(&self, args: &[&str]) -> (i32, String) {
        let o = self.kiste(args);
        assert!(!o.status.success(), "kiste {args:?} should have failed:\n{}", String::from_utf8_lossy(&o.stdout));
        (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
    }

    /// Runs kiste with `input` on stdin.
    pub fn with_stdin(&self, args: &[&str], input: &str) -> Output {
        let mut child =
            self.command(args).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
        child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
        wait_output(child, 120, &format!("kiste {args:?}"))
    }

    /// `ps -a --format json`: every container.
    pub fn ps_all(&self) -> Vec<serde_json::Value> {
        serde_json::from_str::<serde_json::Value>(&self.ok(&["ps", "-a", "--format", "json"]))
            .unwrap()
            .as_array()
            .unwrap()
            .clone()
    }

    /// Pulls and returns the image ID (the last line of stdout).
    pub fn pull(&self, reference: &str) -> String {
        let out = self.ok(&["pull", reference]);
        let id = out.lines().last().unwrap_or_default().to_string();
        assert!(id.len() == 64 && id.bytes().all(|b| b.is_ascii_hexdigit()), "pull printed {out:?}");
        id
    }

    /// The quiet image list.
    pub fn image_ids(&self) -> Vec<String> {
        // As Podman, --no-trunc prints the full "sha256:..." ID.
        self.ok(&["images", "-q", "--no-trunc"]).lines().map(|l| l.trim_start_matches("sha256:").to_string()).collect()
    }

    pub fn inspect(&self, image: &str) -> serde_json::Value {
        let v: serde_json::Value = serde_json::from_str(&self.ok(&["image", "inspect", image])).unwrap();
        v[0].clone()
    }

    /// The diff directories of an image, bottom layer first.
    pub fn layer_dirs(&self, image: &str) -> Vec<PathBuf> {
        let v = self.inspect(image);
        let data = &v["GraphDriver"]["Data"];
        let mut dirs: Vec<PathBuf> = data["LowerDir"]
            .as_str()
            .unwrap_or_default()
            .split(':')
            .filter(|s| !s.is_empty())
            .map(PathBuf::from)
            .collect();
        dirs.reverse();
        dirs.push(PathBuf::from(data["UpperDir"].as_str().expect("UpperDir")));
        dirs
    }
}

impl TestHome {
    /// Live `kiste __userns-holder` processes started for this home (they carry its
    /// XDG_RUNTIME_DIR).
    pub fn userns_holders(&self) -> Vec<i32> {
        let marker = format!("XDG_RUNTIME_DIR={}", self.runtime().display());
        let Ok(dir) = std::fs::read_dir("/proc") else { return Vec::new() };
        dir.flatten()
            .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
            .filter(|pid| {
                let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
                String::from_utf8_lossy(&cmd).contains("__userns-holder")
                    && env.split(|b| *b == 0).any(|v| v == marker.as_bytes())
            })
            .collect()
    }
}

impl Drop for TestHome {
    fn drop(&mut self) {
        // A failed test may leave containers running: they (and their network helpers) go first.
        if self.data().join("containers").is_dir() {
            let _ = self.kiste(&["rm", "-f", "-a"]);
        }
        // The shared user namespaces' holders (kiste's pause process) end with the home: the
        // one of its run-time directory and those of any --runroot a test gave.
        for pid in self.userns_holders() {
            // SAFETY: kill of a holder started for this home (command line and environment checked).
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        if is_root() {
            let _ = std::fs::remove_dir_all(&self.root);
        } else {
            // Files owned by subordinate IDs can only be removed inside the namespace.
            let root = self.root.display().to_string();
            let _ = self.command(&["unshare", "rm", "-rf", &root]).output();
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }
}

/// The exit code (-1 when a signal ended the process).
pub fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// Waits for `child` at most `secs`, collecting what it writes to piped stdout/stderr; on
/// timeout kills it and fails the test, naming `what`.
pub fn wait_output(mut child: Child, secs: u64, what: &str) -> Output {
    let drain = |p: Option<Box<dyn Read + Send>>| {
        p.map(|mut r| {
            std::thread::spawn(move || {
                let mut v = Vec::new();
                let _ = r.read_to_end(&mut v);
                v
            })
        })
    };
    let out = drain(child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let err = drain(child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for a child") {
            break st;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not end within {secs} s");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let join =
        |h: Option<std::thread::JoinHandle<Vec<u8>>>| h.map(|h| h.join().unwrap_or_default()).unwrap_or_default();
    Output { status, stdout: join(out), stderr: join(err) }
}

/// Runs `cmd` with piped output, at most `secs` (see `wait_output`).
pub fn output_within(cmd: &mut Command, secs: u64, what: &str) -> Output {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap_or_else(|e| panic!("{what}: {e}"));
    wait_output(child, secs, what)
}

/// Polls `cond` until it holds; fails the test with `what` after `secs`.
pub fn wait_until(secs: u64, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    while !cond() {
        assert!(std::time::Instant::now() < deadline, "{what}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A CNCF distribution registry on 127.0.0.1, stopped on drop.
pub struct Registry {
    child: Child,
    pub dir: PathBuf,
    pub port: u16,
    storage: PathBuf,
}

/// A registry holding the image `build` writes, as `name:latest`, and a home (using that
/// registry) that has pulled it. Returns the image reference with the registry.
pub fn pulled(name: &str, build: fn(&Path) -> String) -> (Registry, TestHome, String) {
    let reg = Registry::start();
    let dir = scratch("layout");
    build(&dir);
    reg.push(&dir, &format!("{name}:latest"), false, None);
    let _ = std::fs::remove_dir_all(&dir);
    let h = TestHome::new();
    h.use_registry(&reg);
    let r = format!("{}/{name}:latest", reg.addr());
    h.pull(&r);
    (reg, h, r)
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Registry {
    pub fn start() -> Registry {
        Self::start_inner(None)
    }

    pub fn start_with_auth(user: &str, pass: &str) -> Registry {
        Self::start_inner(Some((user, pass)))
    }

    /// A registry requiring Bearer tokens from `token`, serving the storage root `storage`
    /// (another registry's, which it does not remove: push there first). It logs at info
    /// level, where it says why it refuses a token.
    pub fn start_with_token(token: &token::TokenServer, storage: &Path) -> Registry {
        Self::start_conf(scratch("registry"), token.registry_auth_conf(), "info", Some(storage.to_path_buf()))
    }

    fn start_inner(auth: Option<(&str, &str)>) -> Registry {
        let dir = scratch("registry");
        let mut auth_conf = String::new();
        if let Some((u, p)) = auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", u, p])
                .output()
                .expect("htpasswd not found; install the \"apache2-utils\" package (scripts/test.sh does)");
            assert!(out.status.success(), "htpasswd: {}", String::from_utf8_lossy(&out.stderr));
            std::fs::write(dir.join("htpasswd"), &out.stdout).unwrap();
            auth_conf =
                format!("auth:\n  htpasswd:\n    realm: kiste-test\n    path: {}\n", dir.join("htpasswd").display());
        }
        Self::start_conf(dir, auth_conf, "error", None)
    }

    fn start_conf(dir: PathBuf, auth_conf: String, log_level: &str, storage: Option<PathBuf>) -> Registry {
        let bin = Path::new("/usr/bin/docker-registry");
        assert!(
            bin.exists(),
            "/usr/bin/docker-registry not found; install the \"docker-registry\" package (scripts/test.sh does)"
        );
        let storage = storage.unwrap_or_else(|| dir.join("data"));
        // The free port may be taken again before the registry binds it: then it exits, retry.
        for attempt in 1..=3 {
            let port = free_port();
            let conf = format!(
                "version: 0.1\nlog:\n  level: {log_level}\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:{port}\n{auth_conf}",
                storage.display()
            );
            std::fs::write(dir.join("config.yml"), conf).unwrap();
            let log = std::fs::File::create(dir.join("log")).unwrap();
            // Through a shell that ends the registry when its standard input closes: at Drop,
            // or when this test process exits (a registry kept in a static is never dropped).
            let child = Command::new("sh")
                .args(["-c", REGISTRY_WATCH, bin.to_str().unwrap()])
                .arg(dir.join("config.yml"))
                .stdin(Stdio::piped())
                .stdout(log.try_clone().unwrap())
                .stderr(log)
                .spawn()
                .expect("start docker-registry");
            let mut r = Registry { child, dir: dir.clone(), port, storage: storage.clone() };
            let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
            loop {
                if r.answers() {
                    return r;
                }
                let log = || std::fs::read_to_string(dir.join("log")).unwrap_or_default();
                if let Some(status) = r.child.try_wait().unwrap() {
                    assert!(attempt < 3, "docker-registry exited ({status}) on port {port}:\n{}", log());
                    std::mem::forget(r); // Nothing to kill; the directory is reused.
                    break;
                }
                assert!(
                    std::time::Instant::now() < deadline,
                    "docker-registry did not answer GET /v2/ on 127.0.0.1:{port} within 20 s:\n{}",
                    log()
                );
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        }
        unreachable!()
    }

    /// Whether `GET /v2/` gets an HTTP answer (200, or 401 with auth).
    fn answers(&self) -> bool {
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else { return false };
        let _ = s.set_read_timeout(Some(std::time::Duration::from_secs(2)));
        let mut buf = [0u8; 12];
        s.write_all(b"GET /v2/ HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").is_ok()
            && s.read_exact(&mut buf).is_ok()
            && buf.starts_with(b"HTTP/1.")
            && matches!(&buf[9..12], b"200" | b"401")
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Pushes an OCI layout's image tagged `latest` as `name` (`repo[:tag]`), blobs as built;
    /// `all` pushes every image of an index (multi-arch). See `push_layout`.
    pub fn push(&self, layout: &Path, name: &str, all: bool, creds: Option<(&str, &str)>) {
        push_layout(layout, &self.addr(), name, all, creds);
    }

    /// The registry's storage root directory (filesystem driver).
    pub fn storage_root(&self) -> PathBuf {
        self.storage.clone()
    }

    /// What the registry logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    /// Path of a blob in the registry's storage (to corrupt it, say).
    pub fn blob_path(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.storage_root().join(format!("docker/registry/v2/blobs/sha256/{}/{hex}/data", &hex[..2]))
    }
}

/// `sh -c REGISTRY_WATCH BIN CONFIG`: serves until standard input closes, then stops the
/// registry; exits with the registry's status when it ends first.
const REGISTRY_WATCH: &str = r#"exec 3<&0
"$0" serve "$1" </dev/null 3<&- &
pid=$!
( read _ <&3; kill $pid 2>/dev/null ) &
watch=$!
exec 3<&-
wait $pid
st=$?
kill $watch 2>/dev/null
exit $st"#;

impl Drop for Registry {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
