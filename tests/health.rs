//! Issue #15, the running side: health checks run by the container's own monitor (states in
//! ps and inspect, `healthcheck run`, `--health-on-failure restart`, the image's HEALTHCHECK
//! from `kiste build --format docker`), restart policies (on-failure:N, always, stop ends
//! them, `start --all --filter restart-policy=`), `update` of limits and policy on a running
//! container (OOM kills reported through the restart loop too), `stats` with and without
//! delegated cgroups, and `top` descriptors — as the unprivileged test user, on the cgroup v1
//! directories scripts/test.sh delegates.

mod common;

use common::{Registry, TestHome, code, images, stderr, stdout, user, wait_until};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

/// One registry with busybox for the whole file.
fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let reg = Registry::start();
        let dir = common::ScratchDir::new("layout");
        images::busybox(&dir);
        reg.push(&dir, "busybox:latest", false, None);
        reg
    })
}

/// A home that has pulled busybox; returns it and the image reference.
fn home() -> (TestHome, String) {
    let h = TestHome::new();
    h.use_registry(registry());
    let img = format!("{}/busybox:latest", registry().addr());
    h.pull(&img);
    (h, img)
}

fn inspect(h: &TestHome, name: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&h.ok(&["inspect", name])).unwrap();
    v[0].clone()
}

fn health(h: &TestHome, name: &str) -> String {
    inspect(h, name)["State"]["Health"]["Status"].as_str().unwrap_or("").to_string()
}

/// ps's STATUS column of one container.
fn ps_status(h: &TestHome, name: &str) -> String {
    h.ok(&["ps", "-a", "--filter", &format!("name={name}"), "--format", "{{.Status}}"]).trim().to_string()
}

fn ps_names(h: &TestHome, filter: &str) -> Vec<String> {
    h.ok(&["ps", "-a", "--filter", filter, "--format", "{{.Names}}"]).lines().map(str::to_string).collect()
}

fn conf(h: &TestHome, text: &str) {
    let p = h.home().join(".config/containers/containers.conf");
    std::fs::write(&p, text).unwrap();
    std::os::unix::fs::chown(&p, Some(user().uid), Some(user().gid)).unwrap();
}

#[test]
fn health_states_in_ps_inspect_and_healthcheck_run() {
    let (h, img) = home();
    h.ok(&[
        "run",
        "-d",
        "--name",
        "hc",
        "--health-cmd",
        "test -f /tmp/ok",
        "--health-interval",
        "1s",
        "--health-retries",
        "2",
        &img,
        "sleep",
        "1000",
    ]);
    // No check has run yet: starting.
    assert_eq!(health(&h, "hc"), "starting");
    assert!(ps_status(&h, "hc").ends_with("(starting)"), "{}", ps_status(&h, "hc"));
    assert_eq!(ps_names(&h, "health=starting"), ["hc"]);
    let v = inspect(&h, "hc");
    assert_eq!(v["Config"]["Healthcheck"]["Test"], serde_json::json!(["CMD-SHELL", "test -f /tmp/ok"]));
    assert_eq!(v["Config"]["Healthcheck"]["Interval"], 1_000_000_000u64);
    assert_eq!(v["Config"]["HealthcheckOnFailureAction"], "none");
    // The timer's checks fail twice in a row: unhealthy, with the results logged.
    wait_until(20, "the container never turned unhealthy", || health(&h, "hc") == "unhealthy");
    let st = &inspect(&h, "hc")["State"]["Health"];
    assert!(st["FailingStreak"].as_u64().unwrap() >= 2, "{st}");
    let log = st["Log"].as_array().unwrap();
    assert!(!log.is_empty() && log.len() <= 5, "{st}");
    for key in ["Start", "End", "ExitCode", "Output"] {
        assert!(log[0].get(key).is_some(), "no {key} in {st}");
    }
    assert_eq!(log.last().unwrap()["ExitCode"], 1);
    assert!(ps_status(&h, "hc").starts_with("Up ") && ps_status(&h, "hc").ends_with("(unhealthy)"));
    assert_eq!(ps_names(&h, "health=unhealthy"), ["hc"]);
    let o = h.kiste(&["healthcheck", "run", "hc"]);
    assert_eq!((code(&o), stdout(&o).trim()), (1, "unhealthy"), "{}", stderr(&o));
    assert_eq!(code(&h.kiste(&["healthcheck", "run", "--ignore-result", "hc"])), 0);
    // The check passes once the file exists: healthy at once by `healthcheck run`, and ps says so.
    h.ok(&["exec", "hc", "sh", "-c", "echo > /tmp/ok"]);
    let o = h.kiste(&["healthcheck", "run", "hc"]);
    assert_eq!((code(&o), stdout(&o).as_str()), (0, ""), "{}", stderr(&o));
    assert_eq!(health(&h, "hc"), "healthy");
    assert!(ps_status(&h, "hc").ends_with("(healthy)"), "{}", ps_status(&h, "hc"));
    assert_eq!(ps_names(&h, "health=healthy"), ["hc"]);
    assert_eq!(inspect(&h, "hc")["State"]["Health"]["FailingStreak"], 0);
    // Without a health check: none, and `healthcheck run` is an error.
    h.ok(&["run", "-d", "--name", "plain", &img, "sleep", "1000"]);
    assert_eq!(ps_names(&h, "health=none"), ["plain"]);
    assert!(inspect(&h, "plain")["State"].get("Health").is_none());
    let (c, err) = h.err(&["healthcheck", "run", "plain"]);
    assert_eq!(c, 125);
    assert!(err.contains("no defined healthcheck"), "{err}");
    // A check that takes too long is cut off at its timeout and fails.
    h.ok(&[
        "run",
        "-d",
        "--name",
        "slow",
        "--health-cmd",
        "sleep 30",
        "--health-timeout",
        "1s",
        "--health-interval",
        "disable",
        &img,
        "sleep",
        "1000",
    ]);
    let t = std::time::Instant::now();
    let o = h.kiste(&["healthcheck", "run", "slow"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert!(t.elapsed() < Duration::from_secs(10), "the timeout did not cut the check off");
    let st = &inspect(&h, "slow")["State"]["Health"];
    assert_eq!(st["Log"][0]["ExitCode"], -1, "{st}");
    assert!(st["Log"][0]["Output"].as_str().unwrap().contains("timeout"), "{st}");
    h.ok(&["rm", "-f", "hc", "plain", "slow"]);
}

#[test]
fn unhealthy_with_on_failure_restart_restarts() {
    let (h, img) = home();
    h.ok(&[
        "run",
        "-d",
        "--name",
        "hr",
        "--stop-timeout",
        "1",
        "--health-cmd",
        "test -f /tmp/ok",
        "--health-interval",
        "1s",
        "--health-retries",
        "2",
        "--health-on-failure",
        "restart",
        &img,
        "sleep",
        "1000",
    ]);
    let pid = inspect(&h, "hr")["State"]["Pid"].as_i64().unwrap();
    wait_until(30, "the unhealthy container was never restarted", || {
        let v = inspect(&h, "hr");
        v["RestartCount"].as_u64().unwrap() >= 1 && v["State"]["Status"] == "running" && v["State"]["Pid"] != pid
    });
    assert_eq!(inspect(&h, "hr")["HostConfig"]["RestartPolicy"]["Name"], "no");
    // It keeps being restarted while it stays unhealthy (the health action, not a policy).
    wait_until(30, "no second restart", || inspect(&h, "hr")["RestartCount"].as_u64().unwrap() >= 2);
    // Made healthy (the file stays in its upper layer across restarts; the exec may meet it
    // between two runs), it stays up.
    wait_until(30, "could not exec into the restarting container", || {
        code(&h.kiste(&["exec", "hr", "sh", "-c", "echo > /tmp/ok"])) == 0
    });
    wait_until(20, "never healthy", || health(&h, "hr") == "healthy");
    let n = inspect(&h, "hr")["RestartCount"].as_u64().unwrap();
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(inspect(&h, "hr")["RestartCount"].as_u64().unwrap(), n);
    h.ok(&["rm", "-f", "hr"]);
}

/// A build context owned by the test user.
fn context(files: &[(&str, &str)]) -> common::ScratchDir {
    let d = common::ScratchDir::new("ctx");
    for (name, text) in files {
        std::fs::write(d.join(name), text).unwrap();
    }
    if common::is_root() {
        let u = user();
        for e in std::fs::read_dir(&*d).unwrap().flatten() {
            std::os::unix::fs::chown(e.path(), Some(u.uid), Some(u.gid)).unwrap();
        }
        std::os::unix::fs::chown(&*d, Some(u.uid), Some(u.gid)).unwrap();
    }
    d
}

#[test]
fn the_images_healthcheck_from_a_docker_format_build_is_used() {
    let (h, img) = home();
    let df =
        format!("FROM {img}\nHEALTHCHECK --interval=1s --retries=1 CMD test -f /tmp/ok\nCMD [\"sleep\", \"1000\"]\n");
    let ctx = context(&[("Dockerfile", &df)]);
    h.ok(&["build", "--format", "docker", "-t", "hcimg", &ctx.display().to_string()]);
    h.ok(&["run", "-d", "--name", "fromimg", "hcimg"]);
    let v = inspect(&h, "fromimg");
    assert_eq!(v["Config"]["Healthcheck"]["Test"], serde_json::json!(["CMD-SHELL", "test -f /tmp/ok"]), "{v}");
    assert_eq!(v["Config"]["Healthcheck"]["Retries"], 1);
    wait_until(20, "the image's check never ran", || health(&h, "fromimg") == "unhealthy");
    h.ok(&["exec", "fromimg", "sh", "-c", "echo > /tmp/ok"]);
    wait_until(20, "the image's check never passed", || health(&h, "fromimg") == "healthy");
    // --health-interval overrides the image's, the rest stays; --no-healthcheck removes it.
    h.ok(&["run", "-d", "--name", "over", "--health-interval", "1m", "hcimg"]);
    let hc = &inspect(&h, "over")["Config"]["Healthcheck"];
    assert_eq!((hc["Interval"].as_u64(), hc["Retries"].as_u64()), (Some(60_000_000_000), Some(1)), "{hc}");
    h.ok(&["run", "-d", "--name", "nohc", "--no-healthcheck", "hcimg"]);
    assert!(inspect(&h, "nohc")["State"].get("Health").is_none());
    assert!(!ps_status(&h, "nohc").contains('('), "{}", ps_status(&h, "nohc"));
    h.ok(&["rm", "-f", "fromimg", "over", "nohc"]);
}

#[test]
fn on_failure_3_restarts_three_times_then_stays_exited() {
    let (h, img) = home();
    h.ok(&["run", "-d", "--name", "f3", "--restart", "on-failure:3", &img, "sh", "-c", "echo ran; exit 3"]);
    wait_until(30, "on-failure:3 did not end exited after 3 restarts", || {
        let v = inspect(&h, "f3");
        v["State"]["Status"] == "exited" && v["RestartCount"] == 3
    });
    std::thread::sleep(Duration::from_secs(2));
    let v = inspect(&h, "f3");
    assert_eq!((v["State"]["Status"].as_str(), v["RestartCount"].as_u64()), (Some("exited"), Some(3)), "{v}");
    assert_eq!(v["State"]["ExitCode"], 3);
    assert_eq!(v["HostConfig"]["RestartPolicy"], serde_json::json!({"Name": "on-failure", "MaximumRetryCount": 3}));
    assert_eq!(h.ok(&["logs", "f3"]).matches("ran").count(), 4, "the first run and three restarts");
    assert_eq!(ps_names(&h, "restart-policy=on-failure"), ["f3"]);
    // A clean exit is not a failure.
    h.ok(&["run", "-d", "--name", "ok", "--restart", "on-failure", &img, "true"]);
    wait_until(10, "never exited", || inspect(&h, "ok")["State"]["Status"] == "exited");
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(inspect(&h, "ok")["RestartCount"], 0);
    // An OOM kill is reported through the restart loop: 137, OOMKilled, restarted once.
    let o = h.kiste(&[
        "run",
        "-d",
        "--name",
        "oom",
        "--restart",
        "on-failure:1",
        "--memory",
        "64m",
        &img,
        "busybox",
        "dd",
        "if=/dev/zero",
        "of=/dev/null",
        "bs=200M",
        "count=1",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    wait_until(30, "the OOM-killed container did not end after one restart", || {
        let v = inspect(&h, "oom");
        v["State"]["Status"] == "exited" && v["RestartCount"] == 1
    });
    let v = inspect(&h, "oom");
    assert_eq!((v["State"]["ExitCode"].as_u64(), v["State"]["OOMKilled"].as_bool()), (Some(137), Some(true)), "{v}");
}

fn pid_of(h: &TestHome, name: &str) -> i32 {
    inspect(h, name)["State"]["Pid"].as_i64().unwrap() as i32
}

fn kill9(pid: i32) {
    assert!(pid > 0);
    // SAFETY: kill of a container's PID 1 the test started (the runner may signal it).
    assert_eq!(unsafe { libc::kill(pid, libc::SIGKILL) }, 0, "kill {pid}: {}", std::io::Error::last_os_error());
}

#[test]
fn always_comes_back_and_stop_ends_it() {
    let (h, img) = home();
    h.ok(&["run", "-d", "--name", "al", "--restart", "always", &img, "sleep", "1000"]);
    let pid = pid_of(&h, "al");
    kill9(pid);
    wait_until(20, "the always container did not come back", || {
        let v = inspect(&h, "al");
        v["State"]["Status"] == "running" && v["State"]["Pid"].as_i64() != Some(pid as i64)
    });
    assert_eq!(inspect(&h, "al")["RestartCount"], 1);
    assert!(ps_status(&h, "al").starts_with("Up "), "{}", ps_status(&h, "al"));
    // stop: it stays stopped.
    h.ok(&["stop", "-t", "1", "al"]);
    std::thread::sleep(Duration::from_secs(2));
    let v = inspect(&h, "al");
    assert_eq!((v["State"]["Status"].as_str(), v["RestartCount"].as_u64()), (Some("exited"), Some(1)), "{v}");
    // unless-stopped too; and `kill` counts as the user stopping it.
    h.ok(&["run", "-d", "--name", "us", "--restart", "unless-stopped", &img, "sleep", "1000"]);
    h.ok(&["kill", "us"]);
    wait_until(10, "kill did not end it", || inspect(&h, "us")["State"]["Status"] == "exited");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(inspect(&h, "us")["State"]["Status"], "exited");
    // A crash loop stopped during its back-off stays stopped.
    h.ok(&["run", "-d", "--name", "loop", "--restart", "always", &img, "sh", "-c", "exit 1"]);
    wait_until(20, "no restarts", || inspect(&h, "loop")["RestartCount"].as_u64().unwrap() >= 4);
    h.ok(&["stop", "loop"]);
    let n = inspect(&h, "loop")["RestartCount"].as_u64().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let v = inspect(&h, "loop");
    assert_eq!((v["State"]["Status"].as_str(), v["RestartCount"].as_u64()), (Some("exited"), Some(n)), "{v}");
    // What should run after a reboot: only the always ones.
    h.ok(&["run", "-d", "--name", "plain", &img, "true"]);
    wait_until(10, "plain never ended", || inspect(&h, "plain")["State"]["Status"] == "exited");
    h.ok(&["start", "--all", "--filter", "restart-policy=always"]);
    for (name, want) in
        [("al", "running"), ("loop", "restarting|running|exited"), ("us", "exited"), ("plain", "exited")]
    {
        let st = inspect(&h, name)["State"]["Status"].as_str().unwrap().to_string();
        assert!(want.split('|').any(|w| w == st), "{name}: {st}");
    }
    // A user start begins a new count.
    assert_eq!(inspect(&h, "al")["RestartCount"], 0);
    // The policy of a running container changes with update, and the next end uses it.
    h.ok(&["stop", "loop"]);
    h.ok(&["run", "-d", "--name", "later", &img, "sleep", "1000"]);
    h.ok(&["update", "--restart", "always", "later"]);
    assert_eq!(inspect(&h, "later")["HostConfig"]["RestartPolicy"]["Name"], "always");
    let pid = pid_of(&h, "later");
    kill9(pid);
    wait_until(20, "the updated policy did not restart it", || {
        let v = inspect(&h, "later");
        v["State"]["Status"] == "running" && v["State"]["Pid"].as_i64() != Some(pid as i64)
    });
    h.ok(&["rm", "-f", "-a"]);
    assert!(h.ps_all().is_empty());
}

/// The container's cgroup directory in a v1 hierarchy (scripts/test.sh delegates the parent).
fn ctr_cgroup(hierarchy: &str, id: &str) -> PathBuf {
    let d = Path::new("/sys/fs/cgroup").join(hierarchy).join("kiste").join(user().uid.to_string());
    assert!(d.is_dir(), "{} is missing: run the tests through scripts/test.sh as root", d.display());
    d.join(format!("kiste-{id}"))
}

fn read_num(p: &Path) -> u64 {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).trim().parse().unwrap()
}

#[test]
fn update_memory_takes_effect_on_a_running_container() {
    let (h, img) = home();
    h.ok(&["run", "-d", "--name", "up", "--memory", "256m", &img, "sleep", "1000"]);
    let id = inspect(&h, "up")["Id"].as_str().unwrap().to_string();
    let limit = ctr_cgroup("memory", &id).join("memory.limit_in_bytes");
    assert_eq!(read_num(&limit), 256 << 20);
    // 100 MB fit under 256m.
    assert_eq!(
        code(&h.kiste(&["exec", "up", "busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1"])),
        0
    );
    let out = h.ok(&["update", "--memory", "32m", "--pids-limit", "100", "up"]);
    assert_eq!(out.trim(), id);
    assert_eq!(read_num(&limit), 32 << 20);
    assert_eq!(read_num(&ctr_cgroup("pids", &id).join("pids.max")), 100);
    // Now the same allocation is killed by the kernel's OOM killer.
    let o = h.kiste(&["exec", "up", "busybox", "dd", "if=/dev/zero", "of=/dev/null", "bs=100M", "count=1"]);
    assert_eq!(code(&o), 137, "{}", stderr(&o));
    // Raised again, above memory+swap of before.
    h.ok(&["update", "--memory", "512m", "up"]);
    assert_eq!(read_num(&limit), 512 << 20);
    h.ok(&["update", "--memory", "48m", "up"]);
    // Recorded: a restart keeps the new limit.
    h.ok(&["restart", "-t", "1", "up"]);
    assert_eq!(read_num(&limit), 48 << 20);
    assert_eq!(read_num(&ctr_cgroup("pids", &id).join("pids.max")), 100);
    // Bad input: one line, exit 125, nothing changed.
    for (args, want) in [
        (vec!["update", "--memory", "1x", "up"], "invalid --memory \"1x\": use a size such as 512m or 1g"),
        (vec!["update", "--cpus", "-1", "up"], "invalid --cpus \"-1\""),
        (vec!["update", "--restart", "bogus", "up"], "invalid --restart \"bogus\""),
    ] {
        let (c, err) = h.err(&args);
        assert_eq!(c, 125, "{args:?}: {err}");
        assert!(err.contains(want) && err.trim().lines().count() == 1, "{args:?}: {err}");
    }
    assert_eq!(read_num(&limit), 48 << 20);
    h.ok(&["rm", "-f", "up"]);
}

/// The row of `name` in `stats --no-stream --format json`.
fn stats_row(h: &TestHome, name: &str) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_str(&h.ok(&["stats", "--no-stream", "--format", "json"])).unwrap();
    v.as_array().unwrap().iter().find(|r| r["name"] == name).cloned().unwrap_or_else(|| panic!("no {name} in {v}"))
}

fn percent(v: &serde_json::Value) -> f64 {
    v.as_str().unwrap().trim_end_matches('%').parse().unwrap()
}

/// A busy container shows CPU and memory in use.
fn assert_busy(h: &TestHome, name: &str) {
    // A second of work first.
    std::thread::sleep(Duration::from_millis(1500));
    let r = stats_row(h, name);
    assert!(percent(&r["cpu_percent"]) > 5.0 && percent(&r["avg_cpu"]) > 5.0, "{r}");
    let used = r["mem_usage"].as_str().unwrap().split(" / ").next().unwrap().to_string();
    assert!(used != "0B", "{r}");
    assert!(r["pids"].as_str().unwrap().parse::<u32>().unwrap() >= 1, "{r}");
    assert!(r["cpu_time"].as_str().unwrap() != "0s", "{r}");
}

#[test]
fn stats_of_a_busy_container_with_and_without_delegation() {
    let (h, img) = home();
    let busy = "x=$(busybox seq 100000); while :; do :; done";
    h.ok(&["run", "-d", "--name", "busy", &img, "sh", "-c", busy]);
    let id = inspect(&h, "busy")["Id"].as_str().unwrap().to_string();
    assert!(ctr_cgroup("cpuacct", &id).is_dir(), "the container has no cgroup to read");
    assert_busy(&h, "busy");
    // Podman's table and a template.
    let table = h.ok(&["stats", "--no-stream"]);
    let head: Vec<&str> = table.lines().next().unwrap().split("  ").filter(|s| !s.is_empty()).map(str::trim).collect();
    assert_eq!(
        head,
        ["ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET IO", "BLOCK IO", "PIDS", "CPU TIME", "AVG CPU %"]
    );
    assert!(table.lines().any(|l| l.starts_with(&id[..12]) && l.contains("busy")), "{table}");
    let t = h.ok(&["stats", "--no-stream", "--format", "{{.Name}} {{.PIDS}}", "busy"]);
    assert_eq!(t.trim(), "busy 1", "the busy shell alone: {t}");
    h.ok(&["rm", "-f", "busy"]);
    // Without delegation (cgroups disabled): from /proc of its processes.
    conf(&h, "[containers]\ncgroups = \"disabled\"\n");
    h.ok(&["run", "-d", "--name", "bare", &img, "sh", "-c", busy]);
    let id = inspect(&h, "bare")["Id"].as_str().unwrap().to_string();
    assert!(!ctr_cgroup("cpuacct", &id).exists(), "cgroups = disabled made a cgroup");
    assert_busy(&h, "bare");
    let r = stats_row(&h, "bare");
    assert!(r["mem_usage"].as_str().unwrap().ends_with("B"), "{r}");
    // -a shows stopped containers too, with zeros.
    h.ok(&["run", "--name", "done", &img, "true"]);
    let all = h.ok(&["stats", "-a", "--no-stream", "--format", "{{.Name}} {{.CPUPerc}}"]);
    assert!(all.lines().any(|l| l == "done 0.00%"), "{all}");
    h.ok(&["rm", "-f", "bare", "done"]);
}

#[test]
fn top_shows_the_descriptors_asked_for() {
    let (h, img) = home();
    h.ok(&["run", "-d", "--name", "t", &img, "sleep", "1000"]);
    let out = h.ok(&["top", "t", "pid,comm,args"]);
    let lines: Vec<Vec<&str>> = out.lines().map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(lines[0], ["PID", "COMMAND", "COMMAND"], "{out}");
    assert_eq!(lines[1], ["1", "sleep", "sleep", "1000"], "{out}");
    let out = h.ok(&["top", "t", "%p", "user", "hpid", "ppid"]);
    let row: Vec<&str> = out.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row, ["1", "root", &pid_of(&h, "t").to_string(), "0"], "{out}");
    // Podman's default columns.
    let out = h.ok(&["top", "t"]);
    let head: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(head, ["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"]);
    let (c, err) = h.err(&["top", "t", "pid,bogus"]);
    assert_eq!(c, 125);
    assert!(err.contains("unknown descriptor \"bogus\"") && err.trim().lines().count() == 1, "{err}");
    h.ok(&["rm", "-f", "t"]);
}

#[test]
fn bad_restart_and_health_flags_are_refused_before_anything_exists() {
    let (h, img) = home();
    for (flags, want) in [
        (vec!["--restart", "bogus"], "invalid --restart \"bogus\""),
        (vec!["--restart", "on-failure:-1"], "invalid --restart \"on-failure:-1\""),
        (vec!["--restart", "always:2"], "only on-failure takes a number"),
        (vec!["--health-cmd", "true", "--health-interval", "5x"], "invalid --health-interval \"5x\""),
        (vec!["--health-cmd", "true", "--health-retries", "0"], "invalid --health-retries \"0\""),
        (vec!["--health-cmd", "true", "--health-timeout", "soon"], "invalid --health-timeout \"soon\""),
        (vec!["--health-cmd", "true", "--health-on-failure", "explode"], "invalid --health-on-failure \"explode\""),
        (vec!["--health-cmd", "true", "--no-healthcheck"], "--no-healthcheck"),
        (vec!["--rm", "--restart", "always"], "conflicts"),
    ] {
        let mut args = vec!["run", "-d"];
        args.extend(&flags);
        args.extend([img.as_str(), "true"]);
        let (c, err) = h.err(&args);
        assert_eq!(c, 125, "{flags:?}: {err}");
        assert!(err.contains(want) && err.trim().lines().count() == 1, "{flags:?}: {err}");
    }
    assert!(h.ps_all().is_empty(), "a container was created");
}
