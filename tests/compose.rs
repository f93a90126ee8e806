//! Issue 16 (items 3-5): `kiste compose up` and the other project commands on real
//! containers, as the unprivileged user: a web + database app (the web image built from a
//! Dockerfile, the database pulled from the local registry, a one-shot init service) reaching
//! each other by service name; ps, logs, exec, run, ls; `up` twice changing nothing;
//! recreating only the changed service; scaling with every replica resolvable; .env and
//! environment interpolation, `:?` errors, profiles; a failing service; a foreground `up`
//! stopped by Ctrl-C and ended by `--exit-code-from`; and `down` leaving nothing behind.

mod common;

use common::images;
use common::{Registry, TestHome, code, free_port, output_within, stderr, stdout, wait_until};
use serde_json::Value;
use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;
use std::time::Duration;

/// One registry for the file, holding the net image (busybox, bash, getent, socat) as net.
fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let reg = Registry::start();
        let dir = common::ScratchDir::new("layout");
        images::net(&dir);
        reg.push(&dir, "net:latest", false, None);
        reg
    })
}

/// A test home using the registry, and a project directory `name` (the project's name)
/// holding `files`, owned by the test user.
struct Project {
    h: TestHome,
    _scratch: common::ScratchDir,
    dir: std::path::PathBuf,
}

fn project(name: &str, files: &[(&str, &str)]) -> Project {
    let reg = registry();
    let h = TestHome::new();
    h.use_registry(reg);
    let scratch = common::ScratchDir::new("compose");
    let dir = scratch.join(name);
    let image = format!("{}/net:latest", reg.addr());
    write_files(&dir, files, &image);
    Project { h, _scratch: scratch, dir }
}

/// Writes `files` (with `@IMAGE@` replaced) into `dir`, owned by the test user.
fn write_files(dir: &Path, files: &[(&str, &str)], image: &str) {
    std::fs::create_dir_all(dir).unwrap();
    for (f, text) in files {
        let p = dir.join(f);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text.replace("@IMAGE@", image)).unwrap();
    }
    if common::is_root() {
        let u = common::user();
        let owner = format!("{}:{}", u.uid, u.gid);
        let top = dir.parent().unwrap();
        assert!(std::process::Command::new("chown").args(["-R", &owner]).arg(top).status().unwrap().success());
    }
}

impl Project {
    /// `kiste compose ARGS` in the project directory with extra environment variables.
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut full = vec!["compose"];
        full.extend_from_slice(args);
        let mut c = self.h.command(&full);
        c.current_dir(&self.dir);
        for (k, v) in env {
            c.env(k, v);
        }
        output_within(&mut c, 180, &format!("kiste compose {args:?}"))
    }

    fn ok(&self, args: &[&str]) -> String {
        self.ok_env(args, &[])
    }

    fn ok_env(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let o = self.run(args, env);
        assert!(o.status.success(), "kiste compose {args:?} failed ({}):\n{}\n{}", o.status, stdout(&o), stderr(&o));
        stdout(&o)
    }

    /// `compose ps -a --format json`: one object a line.
    fn ps(&self) -> Vec<Value> {
        self.ps_env(&[])
    }

    /// `ps` with extra environment (a file with `${VAR:?}` fails to load without it, as in
    /// docker compose).
    fn ps_env(&self, env: &[(&str, &str)]) -> Vec<Value> {
        let out = self.ok_env(&["ps", "-a", "--format", "json"], env);
        out.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }

    /// Container name -> (full ID, state, start time) from kiste's own `ps`.
    fn states(&self) -> std::collections::BTreeMap<String, (String, String, i64)> {
        self.h
            .ps_all()
            .iter()
            .map(|c| {
                let name = c["Names"][0].as_str().unwrap().to_string();
                let id = c["Id"].as_str().unwrap().to_string();
                (name, (id, c["State"].as_str().unwrap().to_string(), c["StartedAt"].as_i64().unwrap_or(0)))
            })
            .collect()
    }
}

/// The live network helpers of this home (pasta, slirp4netns, the namespace holder),
/// zombies not counted — as tests/network.rs finds them.
fn helpers(h: &TestHome) -> Vec<String> {
    let root = h.root.display().to_string();
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let p = e.path();
        let Ok(stat) = std::fs::read_to_string(p.join("stat")) else { continue };
        let Some((head, rest)) = stat.rsplit_once(')') else { continue };
        let comm = head.split_once('(').map(|(_, c)| c).unwrap_or("");
        let cmdline =
            std::fs::read(p.join("cmdline")).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        if rest.split_whitespace().next() == Some("Z")
            || !(["pasta", "passt", "slirp4netns"].iter().any(|n| comm.starts_with(n))
                || cmdline.contains("__network-ns")
                || cmdline.contains("__monitor"))
        {
            continue;
        }
        let cwd = std::fs::read_link(p.join("cwd")).map(|c| c.display().to_string()).unwrap_or_default();
        let environ =
            std::fs::read(p.join("environ")).map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        if cmdline.contains(&root) || cwd.starts_with(&root) || environ.contains(&root) {
            found.push(format!("{comm} {}", cmdline.replace('\0', " ")));
        }
    }
    found
}

/// Nothing of the project is left: no container, no network, no helper process or socket.
fn assert_nothing_left(p: &Project, name: &str) {
    assert!(p.h.ps_all().is_empty(), "containers left: {:?}", p.h.ps_all());
    let nets = p.h.ok(&["network", "ls", "--format", "json"]);
    assert!(!nets.contains(&format!("{name}_")), "networks left: {nets}");
    wait_until(15, "a monitor, the namespace holder or its helper stayed", || helpers(&p.h).is_empty());
    let ctl = p.h.runtime().join("kiste/netns/ctl.sock");
    assert!(!ctl.exists(), "{} left", ctl.display());
    assert!(p.ok(&["ls", "-a", "-q"]).trim().is_empty(), "compose ls still lists a project");
}

/// A bash line that GETs / from NAME:PORT and prints the answer.
fn get(name: &str, port: u16) -> String {
    format!("exec 3<>/dev/tcp/{name}/{port} && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3")
}

const APP: &str = r#"name: shop
services:
  init:
    image: @IMAGE@
    command: ["sh", "-c", "echo init ran; echo rows from the db > /data/index.html"]
    volumes: ["./data:/data"]
  db:
    image: @IMAGE@
    init: true
    command: ["sh", "-c", "echo db ready; exec httpd -f -p 5432 -h /data"]
    volumes: ["./data:/data:ro"]
    depends_on:
      init: {condition: service_completed_successfully}
  web:
    build: ./web
    init: true
    environment:
      GREETING: ${GREETING:-hello}
    ports: ["127.0.0.1:${WEB_PORT}:80"]
    depends_on: [db]
"#;

const WEB_DOCKERFILE: &str = "FROM @IMAGE@
RUN mkdir /w && echo hello from web > /w/index.html
CMD [\"sh\", \"-c\", \"echo web says $GREETING; exec httpd -f -p 80 -h /w\"]
";

/// GET / from the host's 127.0.0.1:port, retried until it answers.
fn fetch(port: u16) -> String {
    use std::io::{Read, Write};
    let mut last = String::new();
    for _ in 0..100 {
        if let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let _ = s.write_all(b"GET / HTTP/1.0\r\n\r\n");
            let _ = s.read_to_string(&mut last);
            if last.starts_with("HTTP/1.") {
                return last;
            }
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no answer on 127.0.0.1:{port}: {last:?}");
}

/// A service's state in `compose ps --format json`'s list.
fn state_of(ps: &[serde_json::Value], svc: &str) -> Option<String> {
    ps.iter().find(|c| c["Service"] == svc).map(|c| c["State"].as_str().unwrap_or_default().to_string())
}

#[test]
fn web_and_database_app() {
    let p = project("shop", &[("compose.yaml", APP), ("web/Dockerfile", WEB_DOCKERFILE), ("data/.keep", "")]);
    let port = free_port().to_string();
    let env = [("WEB_PORT", port.as_str())];
    let o = p.run(&["up", "-d"], &env);
    assert!(o.status.success(), "up -d: {}\n{}", stdout(&o), stderr(&o));
    let events = stderr(&o);
    for e in ["Network shop_default  Created", "Container shop-init-1  Started", "Container shop-web-1  Started"] {
        assert!(events.contains(e), "{e:?} not in:\n{events}");
    }
    // The init service ran to its end before db started; db and web run.
    let ps = p.ps();
    assert_eq!(state_of(&ps, "init").as_deref(), Some("exited"), "{ps:?}");
    assert_eq!(state_of(&ps, "db").as_deref(), Some("running"));
    assert_eq!(state_of(&ps, "web").as_deref(), Some("running"));
    let names: Vec<&str> = ps.iter().map(|c| c["Name"].as_str().unwrap()).collect();
    assert_eq!(names, ["shop-db-1", "shop-init-1", "shop-web-1"]);
    assert!(ps.iter().all(|c| c["Project"] == "shop"));
    // The table, and ps without -a (running only).
    let table = p.ok(&["ps"]);
    assert!(table.starts_with("NAME") && table.contains("SERVICE") && !table.contains("shop-init-1"), "{table}");
    assert_eq!(p.ok(&["ps", "--services"]).lines().collect::<Vec<_>>(), ["db", "web"]);
    // The web service reaches the database by its service name, the host reaches web.
    let hosts = p.ok(&["exec", "-T", "web", "getent", "hosts", "db"]);
    assert!(hosts.starts_with("10."), "db resolves to {hosts:?}");
    let page = p.ok(&["exec", "-T", "web", "bash", "-c", &get("db", 5432)]);
    assert!(page.contains("rows from the db"), "{page}");
    let page = p.ok(&["exec", "-T", "db", "bash", "-c", &get("shop-web-1", 80)]);
    assert!(page.contains("hello from web"), "{page}");
    assert!(fetch(port.parse().unwrap()).contains("hello from web"));
    assert_eq!(p.ok(&["port", "web", "80"]).trim(), format!("127.0.0.1:{port}"));
    // Logs with docker compose's prefixes; exec's exit code and environment.
    let logs = p.ok(&["logs"]);
    for l in ["db-1    | db ready", "init-1  | init ran", "web-1   | web says hello"] {
        assert!(logs.lines().any(|x| x == l), "{l:?} not in:\n{logs}");
    }
    assert_eq!(p.ok(&["logs", "--no-log-prefix", "web"]).trim(), "web says hello");
    let o = p.run(&["exec", "-T", "-e", "X=42", "web", "sh", "-c", "echo $X $GREETING; exit 3"], &[]);
    assert_eq!((code(&o), stdout(&o).trim()), (3, "42 hello"), "{}", stderr(&o));
    let ls = p.ok(&["ls"]);
    assert!(ls.lines().any(|l| l.starts_with("shop") && l.contains("running(2)")), "{ls}");
    // pause and unpause freeze and thaw the service's containers.
    let o = p.run(&["pause", "web"], &[]);
    assert!(stderr(&o).contains("Container shop-web-1  Paused"), "{}", stderr(&o));
    let ps = p.ps();
    assert_eq!(state_of(&ps, "web").as_deref(), Some("paused"), "{ps:?}");
    assert_eq!(state_of(&ps, "db").as_deref(), Some("running"));
    p.ok(&["unpause"]);
    assert_eq!(state_of(&p.ps(), "web").as_deref(), Some("running"));
    assert!(fetch(port.parse().unwrap()).contains("hello from web"));
    // A one-off container: the service's config, its own command, removed with --rm.
    assert_eq!(p.ok_env(&["run", "--rm", "web", "sh", "-c", "echo once $GREETING"], &env).trim(), "once hello");
    assert_eq!(p.ps().len(), 3, "the one-off container was not removed");
    // up again: nothing changes for the running services (the one-shot init runs again, as
    // docker compose does it).
    let before = p.states();
    p.ok_env(&["up", "-d"], &env);
    let after = p.states();
    for n in ["shop-db-1", "shop-web-1"] {
        assert_eq!(before[n], after[n], "{n} was touched by a second up");
    }
    assert_eq!(before["shop-init-1"].0, after["shop-init-1"].0);
    // Changing web's environment recreates web only.
    let changed = [("WEB_PORT", port.as_str()), ("GREETING", "servus")];
    let o = p.run(&["up", "-d"], &changed);
    assert!(o.status.success(), "{}", stderr(&o));
    let again = p.states();
    assert_ne!(again["shop-web-1"].0, after["shop-web-1"].0, "web was not recreated");
    assert_eq!(again["shop-db-1"], after["shop-db-1"], "db was touched");
    assert!(stderr(&o).contains("Container shop-web-1  Recreated"), "{}", stderr(&o));
    wait_until(10, "the new web never logged", || p.ok(&["logs", "web"]).contains("web says servus"));
    // down -v leaves nothing of the project.
    let o = p.run(&["down", "-v"], &env);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_nothing_left(&p, "shop");
}

const SCALED: &str = r#"services:
  web:
    image: @IMAGE@
    init: true
    command: ["sh", "-c", "mkdir -p /w && echo hello from $$(hostname) > /w/index.html && exec httpd -f -p 80 -h /w"]
  client:
    image: @IMAGE@
    init: true
    command: ["sleep", "600"]
"#;

#[test]
fn scaled_replicas_each_reachable() {
    let p = project("scaled", &[("compose.yaml", SCALED)]);
    p.ok(&["up", "-d", "--scale", "web=3"]);
    let ps = p.ps();
    let webs: Vec<&str> = ps.iter().filter(|c| c["Service"] == "web").map(|c| c["Name"].as_str().unwrap()).collect();
    assert_eq!(webs, ["scaled-web-1", "scaled-web-2", "scaled-web-3"]);
    for name in &webs {
        let page = p.ok(&["exec", "-T", "client", "bash", "-c", &get(name, 80)]);
        assert!(page.contains("hello from"), "{name}: {page}");
    }
    // The service name answers with every replica's address.
    let all = p.ok(&["exec", "-T", "client", "getent", "ahostsv4", "web"]);
    let addrs: std::collections::BTreeSet<&str> = all.lines().filter_map(|l| l.split_whitespace().next()).collect();
    assert_eq!(addrs.len(), 3, "{all}");
    // Each replica has its own index for exec.
    let h2 = p.ok(&["exec", "-T", "--index", "2", "web", "sh", "-c", "hostname"]);
    let h1 = p.ok(&["exec", "-T", "web", "sh", "-c", "hostname"]);
    assert_ne!(h1, h2);
    // Back to one: the highest numbers go.
    let o = p.run(&["up", "-d", "--scale", "web=1"], &[]);
    assert!(o.status.success() && stderr(&o).contains("Container scaled-web-3  Removed"), "{}", stderr(&o));
    let left: Vec<String> =
        p.ps().iter().filter(|c| c["Service"] == "web").map(|c| c["Name"].as_str().unwrap().to_string()).collect();
    assert_eq!(left, ["scaled-web-1"]);
    p.ok(&["down"]);
    assert_nothing_left(&p, "scaled");
}

const VARS: &str = r#"services:
  app:
    image: @IMAGE@
    command: ["sh", "-c", "echo tag=${TAG} mode=${MODE:-plain} && sleep 600"]
    init: true
  debug:
    image: @IMAGE@
    profiles: [debug]
    command: ["sleep", "600"]
    init: true
  guarded:
    image: @IMAGE@
    profiles: [strict]
    command: ["echo", "${NEEDED:?set NEEDED to the secret}"]
"#;

#[test]
fn interpolation_profiles_and_errors() {
    let p = project("vars", &[("compose.yaml", VARS), (".env", "TAG=from-dotenv\nMODE=dotenv\n")]);
    // The environment wins over .env.
    let env = [("MODE", "env"), ("NEEDED", "x")];
    p.ok_env(&["up", "-d"], &env);
    wait_until(10, "app never logged", || p.ok_env(&["logs", "app"], &env).contains("tag=from-dotenv mode=env"));
    let services: Vec<String> = p.ps_env(&env).iter().map(|c| c["Service"].as_str().unwrap().to_string()).collect();
    assert_eq!(services, ["app"], "a service of an inactive profile was started");
    // A profile enables its services.
    p.ok_env(&["--profile", "debug", "up", "-d"], &env);
    let services: Vec<String> = p.ps_env(&env).iter().map(|c| c["Service"].as_str().unwrap().to_string()).collect();
    assert_eq!(services, ["app", "debug"]);
    // `:?` stops up with the message and the key path; nothing changes.
    let before = p.states();
    let o = p.run(&["up", "-d"], &[("MODE", "env")]);
    assert_eq!(code(&o), 125);
    let e = stderr(&o);
    assert!(e.contains("set NEEDED to the secret") && e.contains("services.guarded.command"), "{e}");
    assert_eq!(p.states(), before);
    p.ok_env(&["--profile", "debug", "down"], &env);
    assert_nothing_left(&p, "vars");
}

const BROKEN: &str = r#"services:
  good:
    image: @IMAGE@
    init: true
    command: ["sleep", "600"]
  bad:
    image: @IMAGE@
    command: ["/no/such/program"]
  after:
    image: @IMAGE@
    command: ["sleep", "600"]
    depends_on: [bad]
"#;

#[test]
fn a_failing_service_stops_up_and_down_cleans_up() {
    let p = project("broken", &[("compose.yaml", BROKEN)]);
    let o = p.run(&["up", "-d"], &[]);
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    let e = stderr(&o);
    let last = e.lines().last().unwrap_or_default();
    assert!(last.starts_with("Error: service \"bad\"") && last.contains("/no/such/program"), "{e}");
    // What depends on it was not started.
    assert!(!p.ps().iter().any(|c| c["Service"] == "after"), "{:?}", p.ps());
    p.ok(&["down"]);
    assert_nothing_left(&p, "broken");
}

const UNSUPPORTED: &str = r#"services:
  db:
    image: @IMAGE@
    volumes:
      - type: volume
        source: data
        target: /data
        volume:
          subpath: sub
volumes:
  data: {}
"#;

#[test]
fn what_the_engine_lacks_is_refused_before_anything_exists() {
    let p = project("lacking", &[("compose.yaml", UNSUPPORTED)]);
    let o = p.run(&["up", "-d"], &[]);
    assert_eq!(code(&o), 125);
    assert_eq!(
        stderr(&o).trim(),
        "Error: services.db.volumes[0].volume.subpath: volume subpaths are not supported yet; remove the key to run the \
         project",
        "{}",
        stderr(&o)
    );
    assert!(p.h.ps_all().is_empty());
    assert!(!p.h.ok(&["network", "ls"]).contains("lacking_default"));
}

const VOLUMES: &str = r#"services:
  app:
    image: @IMAGE@
    command: ["sleep", "600"]
    volumes: ["data:/data", "/scratch"]
volumes:
  data: {}
"#;

/// The names of the test user's volumes.
fn volume_names(p: &Project) -> Vec<String> {
    p.h.ok(&["volume", "ls", "-q"]).lines().map(str::to_string).collect()
}

#[test]
fn a_named_volume_outlives_down_and_goes_with_down_v() {
    let p = project("vols", &[("compose.yaml", VOLUMES)]);
    p.ok(&["up", "-d"]);
    let names = volume_names(&p);
    assert!(names.contains(&"vols_data".to_string()), "{names:?}");
    assert_eq!(names.len(), 2, "the named and the anonymous volume: {names:?}");
    let first_anon: Vec<String> = names.into_iter().filter(|n| n != "vols_data").collect();
    let inspect: Value = serde_json::from_str(&p.h.ok(&["volume", "inspect", "vols_data"])).unwrap();
    assert_eq!(inspect[0]["Labels"]["com.docker.compose.project"], "vols", "{inspect}");
    p.ok(&["exec", "app", "sh", "-c", "echo kept > /data/f"]);
    p.ok(&["down"]);
    assert!(volume_names(&p).contains(&"vols_data".to_string()), "down removed the named volume");
    p.ok(&["up", "-d"]);
    assert_eq!(p.ok(&["exec", "app", "cat", "/data/f"]).trim(), "kept");
    p.ok(&["down", "-v"]);
    // The first container's anonymous volume was left by the plain down (as docker compose
    // leaves it); down -v took the named one and the anonymous one of the container it removed.
    assert_eq!(volume_names(&p), first_anon);
    assert_nothing_left(&p, "vols");
}

const HEALTHY: &str = r#"services:
  db:
    image: @IMAGE@
    command: ["sh", "-c", "sleep 2; touch /tmp/ready; sleep 600"]
    healthcheck:
      test: ["CMD-SHELL", "[ -e /tmp/ready ]"]
      interval: 500ms
      retries: 20
  app:
    image: @IMAGE@
    command: ["sleep", "600"]
    depends_on:
      db:
        condition: service_healthy
"#;

#[test]
fn service_healthy_waits_for_the_health_check() {
    let p = project("healthy", &[("compose.yaml", HEALTHY)]);
    p.ok(&["up", "-d"]);
    let ps = p.ps();
    let db = ps.iter().find(|c| c["Service"] == "db").unwrap();
    assert_eq!(db["Health"], "healthy", "{ps:?}");
    assert_eq!(db["State"], "running", "{ps:?}");
    let app = ps.iter().find(|c| c["Service"] == "app").unwrap();
    assert_eq!(app["State"], "running", "{ps:?}");
    // The app started after the check passed, which is after the file was made.
    let started = |n: &str| p.states().get(n).map(|s| s.2).unwrap_or(0);
    assert!(started("healthy-app-1") >= started("healthy-db-1") + 2, "{:?}", p.states());
    p.ok(&["down"]);
    assert_nothing_left(&p, "healthy");
}

const EXITS_EARLY: &str = r#"services:
  db:
    image: @IMAGE@
    command: ["sh", "-c", "exit 3"]
    healthcheck:
      test: ["CMD-SHELL", "true"]
      interval: 5s
  app:
    image: @IMAGE@
    command: ["sleep", "600"]
    depends_on:
      db:
        condition: service_healthy
"#;

#[test]
fn service_healthy_fails_when_the_dependency_exits_before_its_first_check() {
    let p = project("early", &[("compose.yaml", EXITS_EARLY)]);
    let t0 = std::time::Instant::now();
    let o = p.run(&["up", "-d"], &[]);
    // Its first check would be due after 5 s: up gives up on the exit, not on a deadline.
    assert!(t0.elapsed() < Duration::from_secs(60), "up took {:?}", t0.elapsed());
    assert_eq!(code(&o), 125, "{}", stderr(&o));
    let e = stderr(&o);
    let last = e.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("Error: service \"app\": depends_on.db: condition service_healthy:")
            && last.contains("of service \"db\" exited (code 3) before it was healthy"),
        "{e}"
    );
    assert!(!p.ps().iter().any(|c| c["Service"] == "app"), "{:?}", p.ps());
    p.ok(&["down"]);
    assert_nothing_left(&p, "early");
}

const FOREGROUND: &str = r#"services:
  server:
    image: @IMAGE@
    command: ["sh", "-c", "trap 'echo server stopping; exit 0' TERM; echo server up; sleep 600 & wait"]
  job:
    image: @IMAGE@
    command: ["sh", "-c", "sleep 1; echo job done; exit 3"]
    profiles: [job]
"#;

#[test]
fn foreground_up_streams_logs_and_stops_on_ctrl_c() {
    let p = project("fg", &[("compose.yaml", FOREGROUND)]);
    // Ctrl-C (SIGINT) stops the services gracefully and up ends.
    let mut c = p.h.command(&["compose", "up"]);
    c.current_dir(&p.dir).stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let child = c.spawn().unwrap();
    let pid = child.id() as i32;
    wait_until(60, "server never ran", || p.states().get("fg-server-1").is_some_and(|s| s.1 == "running"));
    std::thread::sleep(Duration::from_millis(500));
    unsafe { libc::kill(pid, libc::SIGINT) };
    let o = common::wait_output(child, 60, "compose up after SIGINT");
    let out = stdout(&o);
    assert!(out.contains("Attaching to server-1"), "{out}");
    assert!(out.contains("server-1  | server up"), "{out}");
    assert!(out.contains("Gracefully stopping..."), "{out}");
    assert!(out.contains("server-1  | server stopping") && out.contains("server-1 exited with code 0"), "{out}");
    assert_eq!(code(&o), 130, "{}", stderr(&o));
    assert_eq!(p.states()["fg-server-1"].1, "exited");
    // --exit-code-from: the job's code, the server stopped with it.
    let o = p.run(&["--profile", "job", "up", "--exit-code-from", "job"], &[]);
    assert_eq!(code(&o), 3, "{}\n{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("job-1     | job done") && out.contains("Aborting on container exit..."), "{out}");
    assert!(p.states().values().all(|s| s.1 == "exited"));
    p.ok(&["--profile", "job", "down"]);
    assert_nothing_left(&p, "fg");
}
