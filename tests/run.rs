//! Issue #3 (first part): running containers rootless — run/create/start, ps, logs, stop,
//! kill, rm, wait — driven through the real binary as the unprivileged test user.

mod common;

use common::images;
use common::{Registry, TestHome, code, stderr, stdout, user, wait_output, wait_until};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

/// A registry with busybox, and a home that has pulled it. Returns the image reference.
fn setup() -> (Registry, TestHome, String) {
    common::pulled("busybox", images::busybox)
}

#[test]
fn run_is_pid1_in_its_own_namespaces_with_the_users_mapping() {
    let (_reg, h, img) = setup();
    let out = h.ok(&[
        "run",
        "--rm",
        &img,
        "sh",
        "-c",
        "echo pid=$$; cat /proc/self/uid_map; /bin/busybox ps -o pid,comm; grep -c ' / / .*volatile' /proc/self/mountinfo",
    ]);
    assert!(out.contains("pid=1\n"), "{out}");
    // A --rm container's overlay is volatile (its upper dir is not synced at exit), as Podman's.
    // Needs the kernel's overlay and Linux 5.10 or later (the test machines'): kiste mounts
    // without `volatile` on older kernels and fuse-overlayfs.
    assert!(out.ends_with("\n1\n"), "the --rm overlay is not mounted volatile: {out}");
    let u = user();
    let maps: Vec<Vec<u64>> = out
        .lines()
        .filter(|l| l.split_whitespace().count() == 3 && l.split_whitespace().all(|w| w.parse::<u64>().is_ok()))
        .map(|l| l.split_whitespace().map(|w| w.parse().unwrap()).collect())
        .collect();
    assert_eq!(maps, vec![vec![0, u.uid as u64, 1], vec![1, u.subuid_start as u64, 65536]], "{out}");
    let procs: Vec<&str> =
        out.lines().skip_while(|l| !l.contains("PID")).skip(1).filter(|l| l.split_whitespace().count() == 2).collect();
    assert_eq!(procs.len(), 2, "only the container's processes are visible: {procs:?}");
    assert!(h.ps_all().is_empty(), "--rm removed the container");
}

#[test]
fn exit_codes_follow_podman() {
    let (_reg, h, img) = setup();
    assert_eq!(code(&h.kiste(&["run", "--rm", &img, "true"])), 0);
    assert_eq!(code(&h.kiste(&["run", "--rm", &img, "sh", "-c", "exit 3"])), 3);
    let o = h.kiste(&["run", "--rm", &img, "nosuchcmd"]);
    assert_eq!(code(&o), 127);
    assert!(String::from_utf8_lossy(&o.stderr).contains("nosuchcmd"));
    let o = h.kiste(&["run", "--rm", &img, "/etc/passwd"]);
    assert_eq!(code(&o), 126, "{}", String::from_utf8_lossy(&o.stderr));
    let (c, err) = h.err(&["run", "--rm", "-u", "nosuchuser", &img, "true"]);
    assert_eq!(c, 125);
    assert!(err.contains("nosuchuser"), "{err}");
    let (c, _) = h.err(&["run", "--rm", "--stop-timeout", "abc", &img, "true"]);
    assert_eq!(c, 125);
    let (c, err) = h.err(&["run", "--rm", "--pull=never", "localhost/nothere", "true"]);
    assert_eq!(c, 125);
    assert!(err.contains("nothere"), "{err}");
    // A --rm container whose start fails in the monitor (here: a broken bundle) goes too.
    let id = h.ok(&["create", "--rm", &img, "true"]).trim().to_string();
    std::fs::write(h.data().join("containers").join(&id).join("config.json"), "{").unwrap();
    let (c, err) = h.err(&["start", &id]);
    assert!(c == 125 && err.contains("config.json"), "{c} {err}");
    assert!(h.ps_all().is_empty(), "nothing left behind: {:?}", h.ps_all());
    let left: Vec<_> =
        std::fs::read_dir(h.data().join("containers")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "container directories left: {left:?}");
}

#[test]
fn env_workdir_user_hostname_entrypoint() {
    let (_reg, h, img) = setup();
    let envfile = h.root.join("envfile");
    std::fs::write(&envfile, "# comment\nFROMFILE=yes\n").unwrap();
    let out = h.ok(&[
        "run",
        "--rm",
        "-e",
        "A=1",
        "--env-file",
        envfile.to_str().unwrap(),
        "-w",
        "/tmp",
        "-u",
        "1000:1000",
        "--hostname",
        "box",
        &img,
        "sh",
        "-c",
        "echo $A $FROMFILE; pwd; /bin/busybox id -u; /bin/busybox id -g; /bin/busybox hostname",
    ]);
    assert_eq!(out.lines().collect::<Vec<_>>(), ["1 yes", "/tmp", "1000", "1000", "box"]);
    let out = h.ok(&["run", "--rm", "--entrypoint", "/bin/echo", &img, "via", "entrypoint"]);
    assert_eq!(out.trim(), "via entrypoint");
    // The image's default command is /bin/sh: with no stdin it exits 0.
    h.ok(&["run", "--rm", &img]);
}

#[test]
fn sysctls_of_the_containers_namespaces_and_its_domain_name() {
    let (_reg, h, img) = setup();
    let out = h.ok(&[
        "run",
        "--rm",
        "--sysctl",
        "net.ipv4.ip_unprivileged_port_start=80",
        "--sysctl",
        "kernel/shmmax=65536",
        "--domainname",
        "example.org",
        &img,
        "cat",
        "/proc/sys/net/ipv4/ip_unprivileged_port_start",
        "/proc/sys/kernel/shmmax",
        "/proc/sys/kernel/domainname",
    ]);
    assert_eq!(out, "80\n65536\nexample.org\n");
    // The host's own settings are untouched.
    let host = std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start").unwrap();
    assert_ne!(host.trim(), "80");
    for (args, want) in [
        (&["--sysctl", "vm.swappiness=1"][..], "vm.swappiness\" is not allowed"),
        (&["--network", "host", "--sysctl", "net.core.somaxconn=64"][..], "--network host"),
        (&["--sysctl", "net/../../x=1"][..], "use KEY=VALUE"),
    ] {
        let mut a = vec!["run", "--rm"];
        a.extend_from_slice(args);
        a.extend_from_slice(&[img.as_str(), "true"]);
        let (c, err) = h.err(&a);
        assert_eq!(c, 125, "{args:?}");
        assert!(err.contains(want) && err.trim().lines().count() == 1, "{args:?}: {err}");
    }
    assert!(h.ps_all().is_empty(), "a refused run leaves no container: {:?}", h.ps_all());
}

#[test]
fn files_written_in_the_container_are_owned_through_the_mapping() {
    let (_reg, h, img) = setup();
    let id = h.ok(&[
        "create",
        "--name",
        "writer",
        &img,
        "sh",
        "-c",
        "echo r > /root-file; /bin/busybox su -s /bin/sh nobody -c true; echo x > /tmp/x",
    ]);
    let id = id.trim().to_string();
    h.ok(&["start", "-a", "writer"]);
    h.ok(&["run", "--name", "w1000", "-u", "1000", &img, "sh", "-c", "echo u > /tmp/by1000"]);
    let diff = h.data().join("containers").join(&id).join("diff");
    let m = std::fs::metadata(diff.join("root-file")).unwrap();
    assert_eq!(m.uid(), user().uid, "container root = the user");
    let c2 = h.ps_all().into_iter().find(|c| c["Names"][0] == "w1000").unwrap();
    let diff2 = h.data().join("containers").join(c2["Id"].as_str().unwrap()).join("diff");
    let m = std::fs::metadata(diff2.join("tmp/by1000")).unwrap();
    assert_eq!(m.uid(), user().subuid_start + 999, "uid 1000 = subuid start + 999");
    h.ok(&["rm", "writer", "w1000"]);
    assert!(!diff.exists() && !diff2.exists(), "rm removes the container's files");
}

#[test]
fn detached_logs_stop_rm() {
    let (_reg, h, img) = setup();
    let id = h.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        &img,
        "sh",
        "-c",
        "echo started; trap 'echo bye; exit 0' TERM; while true; do sleep 0.1; done",
    ]);
    assert_eq!(id.trim().len(), 64);
    let ps = h.ok(&["ps"]);
    let head: Vec<&str> = ps.lines().next().unwrap().split("  ").map(str::trim).filter(|s| !s.is_empty()).collect();
    assert_eq!(head, ["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"]);
    assert!(ps.contains("web") && ps.contains("Up"), "{ps}");
    // Templates see the table's text, as in Podman and Docker.
    let line = h.ok(&["ps", "--format", "{{.ID}} {{.Names}} {{.Status}}"]);
    let want = format!("{} web Up", &id.trim()[..12]);
    assert!(line.starts_with(&want), "{line}");
    let table = h.ok(&["ps", "--format", "table {{.ID}}\\t{{.Names}}"]);
    assert_eq!(table, format!("CONTAINER ID  NAMES\n{}  web\n", &id.trim()[..12]));
    // logs -f follows until the container exits.
    let follower = h.command(&["logs", "-f", "web"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    wait_until(10, "no log output", || h.ok(&["logs", "web"]).contains("started"));
    let root = h.ok(&["exec", "web", "busybox", "grep", " / / ", "/proc/self/mountinfo"]);
    assert!(root.contains("overlay") && !root.contains("volatile"), "a kept container's upper dir is synced: {root}");
    let (c, err) = h.err(&["run", "--name", "web", &img, "true"]);
    assert_eq!(c, 125);
    assert!(err.contains("already in use"), "{err}");
    let (c, err) = h.err(&["rm", "web"]);
    assert_eq!(c, 2, "Podman's code for rm of a running container");
    assert!(err.contains("running"), "{err}");
    h.ok(&["stop", "web"]);
    let followed = stdout(&wait_output(follower, 20, "logs -f did not end with the container"));
    assert_eq!(followed, "started\nbye\n");
    let c = &h.ps_all()[0];
    assert_eq!(c["State"], "exited");
    assert_eq!(c["ExitCode"], 0);
    assert_eq!(h.ok(&["wait", "web"]).trim(), "0");
    h.ok(&["rm", "web"]);
    assert_eq!(h.kiste(&["container", "exists", "web"]).status.code(), Some(1));
}

#[test]
fn stop_escalates_to_sigkill_and_rm_f_stops() {
    let (_reg, h, img) = setup();
    // The container sees SIGTERM (and says so) but does not end; stop must then kill it.
    h.ok(&[
        "run",
        "-d",
        "--name",
        "stubborn",
        &img,
        "sh",
        "-c",
        "trap 'echo got-term' TERM; echo up; while true; do sleep 0.1; done",
    ]);
    wait_until(10, "the container never started", || h.ok(&["logs", "stubborn"]).contains("up"));
    h.ok(&["stop", "-t", "1", "stubborn"]);
    assert_eq!(h.ok(&["logs", "stubborn"]), "up\ngot-term\n", "SIGTERM came first");
    let c = &h.ps_all()[0];
    assert_eq!(c["ExitCode"], 137, "killed: {c}");
    h.ok(&["start", "stubborn"]);
    assert!(h.ok(&["ps", "-q"]).trim().len() == 12);
    h.ok(&["rm", "-f", "stubborn"]);
    assert!(h.ps_all().is_empty());
}

#[test]
fn detached_container_outlives_a_killed_monitor_record_and_rm_d_cleans() {
    let (_reg, h, img) = setup();
    let id = h.ok(&["run", "-d", &img, "sleep", "1000"]).trim().to_string();
    // The monitor is a separate process: kill it with SIGKILL. It answers `run -d` just before it
    // re-execs itself as the waiter, so give it a moment to get there.
    let mut pid = 0;
    wait_until(10, &format!("no monitor process for {id}"), || {
        let out = std::process::Command::new("pgrep").args(["-f", &format!("__monitor-wait {id}")]).output().unwrap();
        pid = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap_or(0);
        pid > 0
    });
    let v: serde_json::Value = serde_json::from_str(&h.ok(&["inspect", &id])).unwrap();
    let pid1 = v[0]["State"]["Pid"].as_i64().unwrap() as i32;
    assert!(pid1 > 0);
    unsafe { libc::kill(pid, libc::SIGKILL) };
    // The next command that reads the record sees the monitor gone, says exited, and stops the
    // orphaned container so that the record is true.
    assert_eq!(h.ps_all()[0]["State"], "exited", "a container without its monitor is exited");
    wait_until(10, "the orphaned PID 1 kept running", || !alive(pid1));
    h.ok(&["rm", &id]);
    assert!(h.ps_all().is_empty());
    // --rm with -d: gone once it exits.
    let id = h.ok(&["run", "-d", "--rm", &img, "true"]).trim().to_string();
    wait_until(10, "--rm container not removed", || code(&h.kiste(&["container", "exists", &id])) != 0);
    assert_eq!(code(&h.kiste(&["container", "exists", &id])), 1);
}

/// Whether `pid` is a live process (zombies, left for a slow PID 1 to reap, count as dead).
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat.rsplit(')').next().and_then(|r| r.split_whitespace().next()) != Some("Z"),
        Err(_) => false,
    }
}

#[test]
fn twenty_parallel_runs_all_show_in_ps() {
    let (_reg, h, img) = setup();
    let piped = std::process::Stdio::piped;
    let children: Vec<_> = (0..20)
        .map(|i| {
            h.command(&["run", "-d", "--name", &format!("c{i}"), &img, "sleep", "1000"])
                .stdout(piped())
                .stderr(piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let running = h.ok(&["ps", "-q"]);
    assert_eq!(running.lines().count(), 20, "{running}");
    h.ok(&["rm", "-f", "-a"]);
    assert!(h.ps_all().is_empty());
}

#[test]
fn image_in_use_is_not_removed() {
    let (_reg, h, img) = setup();
    h.ok(&["create", "--name", "user1", &img, "true"]);
    let (c, err) = h.err(&["rmi", &img]);
    assert_eq!(c, 2, "Podman's code for rmi of an image in use");
    assert!(err.contains("user1"), "{err}");
    h.ok(&["rmi", "-f", &img]);
    assert!(h.ps_all().is_empty(), "rmi -f removed the container too");
}

#[test]
fn exec_joins_the_running_container() {
    let (_reg, h, img) = setup();
    h.ok(&[
        "run",
        "-d",
        "--name",
        "target",
        "--hostname",
        "inside",
        &img,
        "sh",
        "-c",
        "echo mark > /tmp/mark; sleep 1000",
    ]);
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = h.kiste(&["exec", "target", "cat", "/tmp/mark"]);
        if o.status.success() {
            assert_eq!(stdout(&o), "mark\n", "sees the container's root");
            break;
        }
        assert!(Instant::now() < deadline, "exec never worked: {}", String::from_utf8_lossy(&o.stderr));
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = h.ok(&[
        "exec",
        "target",
        "sh",
        "-c",
        "/bin/busybox hostname; /bin/busybox ps -o pid,comm | /bin/busybox grep -c '^ *1 '; true",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "inside");
    assert_eq!(lines[1], "1", "sees the container's PID 1: {out}");
    let out = h.ok(&[
        "exec",
        "-u",
        "1000",
        "-e",
        "V=9",
        "-w",
        "/tmp",
        "target",
        "sh",
        "-c",
        "/bin/busybox id -u; echo $V; pwd",
    ]);
    assert_eq!(out, "1000\n9\n/tmp\n");
    assert_eq!(code(&h.kiste(&["exec", "target", "sh", "-c", "exit 4"])), 4);
    assert_eq!(code(&h.kiste(&["exec", "target", "nosuch"])), 127);
    h.ok(&["stop", "-t", "0", "target"]);
    let (c, err) = h.err(&["exec", "target", "true"]);
    assert_eq!(c, 125);
    assert!(err.contains("not running"), "{err}");
}

#[test]
fn after_a_reboot_running_containers_show_as_exited() {
    let (_reg, h, img) = setup();
    let id = h.ok(&["run", "-d", &img, "sleep", "1000"]).trim().to_string();
    let pid = h.ps_all()[0]["Pid"].as_i64().unwrap() as i32;
    // A reboot gives a new boot ID: pretend the record comes from an earlier boot.
    let db = rusqlite::Connection::open(h.data().join("kiste.db")).unwrap();
    db.busy_timeout(Duration::from_secs(10)).unwrap();
    db.execute("UPDATE containers SET boot_id = 'an-earlier-boot' WHERE id = ?1", [&id]).unwrap();
    drop(db);
    let c = &h.ps_all()[0];
    assert_eq!(c["State"], "exited", "{c}");
    assert!(h.ok(&["ps", "-q"]).trim().is_empty());
    h.ok(&["rm", "-f", &id]);
    // The pretend reboot left the real process running: end it.
    unsafe { libc::kill(pid, libc::SIGKILL) };
}

#[test]
fn inspect_shows_containers_with_podman_keys() {
    let (_reg, h, img) = setup();
    let id = h.ok(&["run", "-d", "--name", "insp", "-l", "a=b", &img, "sleep", "1000"]).trim().to_string();
    let v: serde_json::Value = serde_json::from_str(&h.ok(&["inspect", "insp"])).unwrap();
    let c = &v[0];
    assert_eq!(c["Id"], id);
    assert_eq!(c["Name"], "insp");
    assert_eq!(c["State"]["Running"], true);
    assert!(c["State"]["Pid"].as_i64().unwrap() > 0);
    assert_eq!(c["Config"]["Labels"]["a"], "b");
    assert_eq!(c["Path"], "sleep");
    assert!(c["GraphDriver"]["Data"]["UpperDir"].as_str().unwrap().ends_with("/diff"));
    assert_eq!(h.ok(&["container", "inspect", "--format", "{{.State.Status}}", "insp"]).trim(), "running");
    let labels = h.ok(&[
        "inspect",
        "--format",
        "{{.Config.Labels.a}} {{index .Config.Labels \"a\"}} {{.Config.Labels.x}}",
        "insp",
    ]);
    assert_eq!(labels, "b b <no value>\n");
    // `image inspect` does not see containers; `inspect` finds images too.
    assert_eq!(h.err(&["image", "inspect", "insp"]).0, 125);
    let v: serde_json::Value = serde_json::from_str(&h.ok(&["inspect", &img])).unwrap();
    assert!(v[0]["RootFS"].is_object());
    h.ok(&["rm", "-f", "insp"]);
}

#[test]
fn interactive_terminal() {
    use std::io::Write;
    let (_reg, h, img) = setup();
    let (mut child, mut m) = on_pty(&h, &["run", "--rm", "-it", &img, "sh"]);
    m.write_all(b"/bin/busybox tty; /bin/busybox stty size; echo $TERM; exit 7\n").unwrap();
    // Until the shell has gone (EIO once every slave is closed).
    let text = read_pty(&m, None);
    assert_eq!(wait_child(&mut child), 7, "{text}");
    assert!(text.contains("/dev/pts/0"), "the terminal comes from the container's /dev/pts: {text}");
    assert!(text.contains("30 100"), "window size propagated: {text}");
    assert!(text.contains("xterm"), "{text}");
}

#[test]
fn ulimit_tmpfs_shm_group_add_annotation_and_cidfile() {
    let (_reg, h, img) = setup();
    let out = h.ok(&[
        "run",
        "--rm",
        "--ulimit",
        "nofile=100:200",
        "--tmpfs",
        "/scratch:size=1m",
        "--shm-size",
        "2m",
        "--group-add",
        "7",
        "--group-add",
        "staff",
        &img,
        "sh",
        "-c",
        "ulimit -n; ulimit -Hn; grep -E ' /(scratch|dev/shm) ' /proc/mounts; grep Groups /proc/self/status",
    ]);
    assert!(out.starts_with("100\n200\n"), "{out}");
    assert!(out.contains("tmpfs /scratch tmpfs rw,nosuid,nodev,noexec,relatime,size=1024k"), "{out}");
    assert!(out.contains("/dev/shm tmpfs") && out.contains("size=2048k"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("Groups:") && l.split_whitespace().skip(1).collect::<Vec<_>>() == ["7", "50"]),
        "{out}"
    );

    let cid = h.root.join("cid");
    let id = h.ok(&["create", "--cidfile", cid.to_str().unwrap(), "--annotation", "org.example=yes", &img, "true"]);
    assert_eq!(std::fs::read_to_string(&cid).unwrap(), id.trim());
    let info: serde_json::Value = serde_json::from_str(&h.ok(&["inspect", id.trim()])).unwrap();
    assert_eq!(info[0]["Config"]["Annotations"]["org.example"], "yes", "{info}");

    // Bad input: one clear line, exit 125, and no container left behind.
    for (args, want) in [
        (vec!["create", "--cidfile", cid.to_str().unwrap(), &img, "true"], "exists"),
        (vec!["run", "--ulimit", "nofile=abc", &img, "true"], "--ulimit"),
        (vec!["run", "--ulimit", "bogus=1", &img, "true"], "bogus"),
        (vec!["run", "--tmpfs", "relative", &img, "true"], "--tmpfs"),
        (vec!["run", "--shm-size", "lots", &img, "true"], "--shm-size"),
        (vec!["run", "--group-add", "nosuchgroup", &img, "true"], "nosuchgroup"),
        (vec!["run", "--annotation", "novalue", &img, "true"], "--annotation"),
    ] {
        let o = h.kiste(&args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(code(&o), 125, "{args:?}: {err}");
        assert!(err.contains(want) && err.trim().lines().count() == 1, "{args:?}: {err}");
    }
    assert_eq!(h.ps_all().len(), 1, "only the created container remains");
}

#[test]
fn init_forwards_signals_and_reaps() {
    let (_reg, h, img) = setup();
    // The command is PID 2 under kiste's init; an orphaned grandchild gets reaped.
    let out = h.ok(&[
        "run",
        "--rm",
        "--init",
        &img,
        "sh",
        "-c",
        "cat /proc/1/comm; echo pid=$$; (sleep 0.2 &); sleep 0.5; /bin/busybox ps -o pid,stat,comm",
    ]);
    assert!(out.starts_with("kiste-init\npid=2\n"), "{out}");
    assert!(!out.lines().any(|l| l.split_whitespace().nth(1).is_some_and(|s| s.starts_with('Z'))), "{out}");
    // sleep as PID 1 would ignore SIGTERM; under init it gets it and stop needs no SIGKILL.
    let id = h.ok(&["run", "-d", "--init", &img, "sleep", "1000"]);
    h.ok(&["stop", "-t", "30", id.trim()]);
    let info: serde_json::Value = serde_json::from_str(&h.ok(&["inspect", id.trim()])).unwrap();
    assert_eq!(info[0]["State"]["ExitCode"], 143, "SIGTERM ended it, not the SIGKILL after the timeout: {info}");
    assert_eq!(info[0]["HostConfig"]["Init"], true);
    // Exit codes pass through init.
    assert_eq!(code(&h.kiste(&["run", "--rm", "--init", &img, "sh", "-c", "exit 3"])), 3);
    assert_eq!(code(&h.kiste(&["run", "--rm", "--init", &img, "nosuchcommand"])), 127);
}

#[test]
fn restart_rename_and_top() {
    let (_reg, h, img) = setup();
    h.ok(&["run", "-d", "--name", "one", &img, "sh", "-c", "echo started; exec sleep 1000"]);
    // Until the shell has exec'd sleep, top shows the shell.
    let until = Instant::now() + Duration::from_secs(10);
    let mut top = h.ok(&["top", "one"]);
    while top.contains("sh -c") && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
        top = h.ok(&["top", "one"]);
    }
    let mut lines = top.lines();
    let head: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(head, ["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"], "{top}");
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split_whitespace().collect()).collect();
    assert_eq!(rows.len(), 1, "{top}");
    assert_eq!((rows[0][0], rows[0][1], rows[0][2]), ("root", "1", "0"), "{top}");
    assert_eq!(rows[0][7..], ["sleep", "1000"], "{top}");

    h.ok(&["run", "-d", "--name", "other", &img, "sleep", "1000"]);
    let o = h.kiste(&["rename", "one", "other"]);
    assert_eq!(code(&o), 125);
    assert!(String::from_utf8_lossy(&o.stderr).contains("already in use"), "{o:?}");
    assert_eq!(code(&h.kiste(&["rename", "nosuch", "x"])), 125);
    assert_eq!(code(&h.kiste(&["rename", "one", "bad/name"])), 125);
    h.ok(&["rename", "one", "two"]);
    let names: Vec<String> = h.ps_all().iter().map(|c| c["Names"][0].as_str().unwrap().to_string()).collect();
    assert!(names.contains(&"two".to_string()) && !names.contains(&"one".to_string()), "{names:?}");

    let pid = |h: &TestHome| -> i64 {
        let v: serde_json::Value = serde_json::from_str(&h.ok(&["inspect", "two"])).unwrap();
        v[0]["State"]["Pid"].as_i64().unwrap()
    };
    let before = pid(&h);
    h.ok(&["restart", "-t", "0", "two"]);
    let after = pid(&h);
    assert!(after > 0 && after != before, "restart runs a new process ({before} -> {after})");
    // The restarted shell prints its line a moment after restart returns.
    let until = Instant::now() + Duration::from_secs(10);
    while h.ok(&["logs", "two"]) != "started\nstarted\n" && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(h.ok(&["logs", "two"]), "started\nstarted\n");
    h.ok(&["rm", "-f", "-a"]);
    assert_eq!(code(&h.kiste(&["top", "two"])), 125);
}

/// Runs `kiste args` on a new pty; returns the child and the master.
fn on_pty(h: &TestHome, args: &[&str]) -> (std::process::Child, std::fs::File) {
    use std::os::fd::{AsRawFd, FromRawFd};
    let (mut master, mut slave) = (0, 0);
    let ws = libc::winsize { ws_row: 30, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0 };
    assert_eq!(unsafe { libc::openpty(&mut master, &mut slave, std::ptr::null_mut(), std::ptr::null(), &ws) }, 0);
    let slave = unsafe { std::fs::File::from_raw_fd(slave) };
    let mut cmd = h.command(args);
    cmd.stdin(slave.try_clone().unwrap()).stdout(slave.try_clone().unwrap()).stderr(slave.try_clone().unwrap());
    let sfd = slave.as_raw_fd();
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            libc::setsid();
            libc::ioctl(sfd, libc::TIOCSCTTY, 0);
            Ok(())
        });
    }
    let child = cmd.spawn().unwrap();
    drop(cmd);
    drop(slave);
    (child, unsafe { std::fs::File::from_raw_fd(master) })
}

/// Reads the master on a thread until `want` appears (or the session ends); fails after 30 s.
fn read_until(m: &std::fs::File, want: &str) -> String {
    read_pty(m, Some(want))
}

/// Reads the master on a thread (so that a hang fails the test instead of stalling the suite)
/// until `want` appears, or with None until the session ends; fails after 30 s.
fn read_pty(m: &std::fs::File, want: Option<&str>) -> String {
    use std::io::Read;
    let mut m = m.try_clone().unwrap();
    let want = want.map(String::from);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = m.read(&mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
            if want.as_ref().is_some_and(|w| String::from_utf8_lossy(&out).contains(w.as_str())) {
                break;
            }
        }
        let _ = tx.send(String::from_utf8_lossy(&out).into_owned());
    });
    rx.recv_timeout(Duration::from_secs(30)).expect("terminal output did not arrive within 30 s")
}

fn wait_child(child: &mut std::process::Child) -> i32 {
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st.code().unwrap_or(-1);
        }
        if Instant::now() > until {
            let _ = child.kill();
            panic!("kiste attach did not end within 30 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn attach_to_a_terminal_container_and_detach_with_keys() {
    use std::io::Write;
    let (_reg, h, img) = setup();
    let id = h.ok(&["run", "-dit", "--name", "t", &img, "sh"]);
    let (mut child, mut m) = on_pty(&h, &["attach", "t"]);
    m.write_all(b"echo hi-$((6*7))\n").unwrap();
    let out = read_until(&m, "hi-42");
    assert!(out.contains("hi-42"), "{out}");
    m.write_all(&[16, 17]).unwrap(); // ctrl-p ctrl-q
    assert_eq!(wait_child(&mut child), 0, "detach exits 0");
    assert_eq!(h.ps_all()[0]["State"], "running", "the container runs on after a detach");
    // Custom keys, and the exit code comes back through attach.
    let (mut child, mut m) = on_pty(&h, &["attach", "--detach-keys", "ctrl-x", "t"]);
    m.write_all(b"echo again-$((1+1))\n").unwrap();
    assert!(read_until(&m, "again-2").contains("again-2"));
    m.write_all(b"exit 5\n").unwrap();
    assert_eq!(wait_child(&mut child), 5);
    assert!(h.ok(&["logs", id.trim()]).contains("hi-42"), "output also reaches the log");
    assert_eq!(code(&h.kiste(&["attach", "--detach-keys", "bogus", "t"])), 125);
    assert_eq!(code(&h.kiste(&["attach", "t"])), 125, "not running any more");
}

#[test]
fn attach_to_a_plain_container_follows_output_and_returns_its_code() {
    let (_reg, h, img) = setup();
    h.ok(&[
        "run",
        "-d",
        "--name",
        "p",
        &img,
        "sh",
        "-c",
        "echo before; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo late; exit 4",
    ]);
    let until = Instant::now() + Duration::from_secs(20);
    while !h.ok(&["logs", "p"]).contains("before") {
        assert!(Instant::now() < until, "the container's first line never reached the log");
        std::thread::sleep(Duration::from_millis(50));
    }
    let child = h.command(&["attach", "p"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    h.ok(&["exec", "p", "sh", "-c", "echo > /tmp/go"]);
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 4);
    assert_eq!(stdout(&o), "late\n", "attach shows output from the moment it attached");
    // A --rm container is gone when it ends; attach and wait following it still get its code.
    h.ok(&["run", "-d", "--rm", "--name", "r", &img, "sh", "-c", "while [ ! -e /tmp/go ]; do sleep 0.1; done; exit 3"]);
    let attach = h.command(&["attach", "r"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    let wait = h.command(&["wait", "r"]).stdout(std::process::Stdio::piped()).spawn().unwrap();
    std::thread::sleep(Duration::from_secs(2));
    h.ok(&["exec", "r", "sh", "-c", "echo > /tmp/go"]);
    assert_eq!(code(&attach.wait_with_output().unwrap()), 3, "attach to a --rm container");
    let w = wait.wait_with_output().unwrap();
    assert_eq!((code(&w), stdout(&w).trim().to_string()), (0, "3".to_string()), "wait on a --rm container");
    wait_until(20, "the --rm container was never removed", || code(&h.kiste(&["container", "exists", "r"])) != 0);
}

#[test]
fn run_it_detaches_with_keys_and_runs_on() {
    use std::io::Write;
    let (_reg, h, img) = setup();
    let (mut child, mut m) = on_pty(&h, &["run", "-it", "--name", "d", "--detach-keys", "ctrl-a,d", &img, "sh"]);
    m.write_all(b"echo up-$((40+2))\n").unwrap();
    assert!(read_until(&m, "up-42").contains("up-42"));
    m.write_all(&[1, b'd']).unwrap();
    assert_eq!(wait_child(&mut child), 0);
    assert_eq!(h.ps_all()[0]["State"], "running");
    let (mut child, mut m) = on_pty(&h, &["attach", "d"]);
    m.write_all(b"exit 9\n").unwrap();
    assert_eq!(wait_child(&mut child), 9);
    assert_eq!(h.ps_all()[0]["State"], "exited");
}

#[test]
fn exec_it_gets_a_terminal_in_the_container() {
    use std::io::Write;
    let (_reg, h, img) = setup();
    h.ok(&["run", "-d", "--name", "e", &img, "sleep", "1000"]);
    let (mut child, mut m) = on_pty(&h, &["exec", "-it", "e", "sh"]);
    m.write_all(b"/bin/busybox tty; /bin/busybox stty size; exit 3\n").unwrap();
    let out = read_until(&m, "30 100");
    assert_eq!(wait_child(&mut child), 3, "{out}");
    assert!(out.contains("/dev/pts/"), "{out}");
    // Without -i: output only; the command's exit code comes back.
    let o = h.kiste(&["exec", "-t", "e", "sh", "-c", "/bin/busybox tty && exit 4"]);
    assert_eq!(code(&o), 4, "{o:?}");
    assert!(stdout(&o).contains("/dev/pts/"), "{o:?}");
    assert_eq!(code(&h.kiste(&["exec", "-t", "e", "nosuchcommand"])), 127);
}

#[test]
fn rm_cleans_up_even_when_the_caller_is_killed() {
    let (_reg, h, img) = setup();
    let mut child = h.command(&["run", "--rm", "--name", "k", &img, "sleep", "2"]).spawn().unwrap();
    let until = Instant::now() + Duration::from_secs(20);
    while !h.ps_all().iter().any(|c| c["State"] == "running") {
        assert!(Instant::now() < until, "the container never ran");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL: the CLI gets no chance to clean up
    child.wait().unwrap();
    while !h.ps_all().is_empty() {
        assert!(Instant::now() < until, "the --rm container was not removed: {:?}", h.ps_all());
        std::thread::sleep(Duration::from_millis(50));
    }
    // The record goes first, then the files (renamed to .del-ID at once): wait for those too.
    let left = || -> Vec<std::ffi::OsString> {
        std::fs::read_dir(h.data().join("containers"))
            .map(|d| d.flatten().map(|e| e.file_name()).collect())
            .unwrap_or_default()
    };
    while !left().is_empty() {
        assert!(Instant::now() < until, "files left behind: {:?}", left());
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn logs_keep_streams_times_and_partial_lines() {
    let (_reg, h, img) = setup();
    h.ok(&["run", "-d", "--name", "l", &img, "sh", "-c", "echo one; echo two >&2; printf three"]);
    h.ok(&["wait", "l"]);
    let o = h.kiste(&["logs", "l"]);
    assert_eq!(stdout(&o), "one\nthree", "stdout records go to stdout, a last line without newline stays so");
    assert_eq!(String::from_utf8_lossy(&o.stderr), "two\n", "stderr records go to stderr");
    let t = h.ok(&["logs", "-t", "--tail", "1", "l"]);
    let (stamp, rest) = t.split_once(' ').unwrap();
    assert!(chrono::DateTime::parse_from_rfc3339(stamp).is_ok(), "{t}");
    assert_eq!(rest, "three", "--tail 1 is the last line: {t}");
    assert_eq!(h.ok(&["logs", "--since", "1h", "l"]), "one\nthree");
    assert_eq!(h.ok(&["logs", "--until", "1h", "l"]), "", "nothing was written an hour ago");
    let future = (chrono::Utc::now() + chrono::Duration::hours(1)).to_rfc3339();
    assert_eq!(h.ok(&["logs", "--since", &future, "l"]), "");
    let o = h.kiste(&["logs", "--since", "yesterday", "l"]);
    assert_eq!(code(&o), 125);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--since"), "{o:?}");
    // A reader that stops early (`logs | head -1`) ends `logs` quietly.
    h.ok(&[
        "run",
        "-d",
        "--name",
        "big",
        &img,
        "sh",
        "-c",
        "i=1; while [ $i -le 100000 ]; do echo $i; i=$((i+1)); done",
    ]);
    h.ok(&["wait", "big"]);
    let mut child = h
        .command(&["logs", "big"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 2];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    assert_eq!(&first, b"1\n");
    drop(child.stdout.take());
    let o = wait_output(child, 30, "logs with its reader gone");
    assert_eq!((code(&o), stderr(&o)), (0, String::new()), "logs into a closed pipe");
}

/// `Seccomp:` and `NoNewPrivs:` from /proc/self/status, then whether a new user namespace can
/// be made (`unshare -U`: allowed by capabilities alone, refused by Docker's default profile).
const SECURITY_PROBE: &str = "/bin/busybox grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status; \
     /bin/busybox unshare -U true 2>&1; echo unshare=$?";

#[test]
fn seccomp_default_profile_and_security_opts() {
    let (_reg, h, img) = setup();
    let run = |opts: &[&str]| {
        let mut args = vec!["run", "--rm"];
        args.extend_from_slice(opts);
        args.extend_from_slice(&[&img, "sh", "-c", SECURITY_PROBE]);
        h.ok(&args)
    };
    // The default profile: filtered, without no_new_privs, and the syscall is refused (EPERM).
    let out = run(&[]);
    assert!(out.contains("Seccomp:\t2\n") && out.contains("NoNewPrivs:\t0\n"), "{out}");
    assert!(out.contains("Operation not permitted") && out.contains("unshare=1"), "{out}");
    // Also for a non-root user (the filter is loaded before the uid changes).
    let out = run(&["-u", "1000"]);
    assert!(out.contains("Seccomp:\t2\n") && out.contains("unshare=1"), "{out}");
    // Unconfined, and --privileged as Podman: no filter, and the same call works.
    for opts in [&["--security-opt", "seccomp=unconfined"][..], &["--privileged"]] {
        let out = run(opts);
        assert!(out.contains("Seccomp:\t0\n") && out.contains("unshare=0"), "{opts:?}: {out}");
    }
    // CAP_SYS_ADMIN brings unshare/mount/setns back into the profile.
    assert!(run(&["--cap-add", "SYS_ADMIN"]).contains("unshare=0"));
    // no-new-privileges: the filter is loaded last, after no_new_privs.
    let out = run(&["--security-opt", "no-new-privileges"]);
    assert!(out.contains("Seccomp:\t2\n") && out.contains("NoNewPrivs:\t1\n") && out.contains("unshare=1"), "{out}");
    assert!(h.ps_all().is_empty());
}

#[test]
fn seccomp_profile_files_and_bad_security_opts() {
    let (_reg, h, img) = setup();
    // A Docker-format deny-list profile: mkdir answers EACCES, everything else is allowed.
    let profile = h.root.join("deny-mkdir.json");
    std::fs::write(
        &profile,
        r#"{"defaultAction": "SCMP_ACT_ALLOW",
            "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13}]}"#,
    )
    .unwrap();
    let opt = format!("seccomp={}", profile.display());
    let out = h.ok(&[
        "run",
        "--rm",
        "--security-opt",
        &opt,
        &img,
        "sh",
        "-c",
        "/bin/busybox mkdir /tmp/d 2>&1; echo mkdir=$?; /bin/busybox unshare -U true; echo unshare=$?",
    ]);
    assert!(out.contains("Permission denied") && out.contains("mkdir=1") && out.contains("unshare=0"), "{out}");
    // Bad profiles and options: one line naming the problem, exit 125, nothing left behind.
    let bad = h.root.join("bad.json");
    std::fs::write(&bad, r#"{"defaultAction": "SCMP_ACT_SOMETIMES"}"#).unwrap();
    let missing = h.root.join("missing.json");
    for (opt, says) in [
        (format!("seccomp={}", bad.display()), bad.display().to_string()),
        (format!("seccomp={}", missing.display()), missing.display().to_string()),
        ("apparmor=strict".to_string(), "apparmor=strict".to_string()),
    ] {
        let (c, err) = h.err(&["run", "--rm", "--security-opt", &opt, &img, "true"]);
        assert_eq!(c, 125, "{opt}: {err}");
        assert!(err.contains(&says) && err.trim().lines().count() == 1, "{opt}: {err}");
        let (c, _) = h.err(&["create", "--security-opt", &opt, &img, "true"]);
        assert_eq!(c, 125);
    }
    assert!(h.ps_all().is_empty(), "nothing left behind: {:?}", h.ps_all());
    let left: Vec<_> =
        std::fs::read_dir(h.data().join("containers")).unwrap().flatten().map(|e| e.file_name()).collect();
    assert!(left.is_empty(), "container directories left: {left:?}");
}

#[test]
fn exec_gets_the_containers_seccomp_filter() {
    let (_reg, h, img) = setup();
    h.ok(&["run", "-d", "--name", "f", &img, "sleep", "1000"]);
    h.ok(&["run", "-d", "--name", "u", "--security-opt", "seccomp=unconfined", &img, "sleep", "1000"]);
    let out = h.ok(&["exec", "f", "sh", "-c", SECURITY_PROBE]);
    assert!(out.contains("Seccomp:\t2\n") && out.contains("unshare=1"), "{out}");
    let out = h.ok(&["exec", "-u", "1000", "f", "sh", "-c", SECURITY_PROBE]);
    assert!(out.contains("Seccomp:\t2\n") && out.contains("unshare=1"), "{out}");
    let out = h.ok(&["exec", "u", "sh", "-c", SECURITY_PROBE]);
    assert!(out.contains("Seccomp:\t0\n") && out.contains("unshare=0"), "{out}");
    h.ok(&["rm", "-f", "f", "u"]);
}

#[test]
fn userns_keep_id_keeps_the_users_ids_and_shows_image_owners() {
    let (_reg, h, img) = setup();
    let u = user();
    let out = h.ok(&[
        "run",
        "--rm",
        "--userns=keep-id",
        &img,
        "sh",
        "-c",
        "id -u; id -g; cat /proc/self/uid_map; ls -ln /bin/busybox; echo x > /tmp/f && ls -ln /tmp/f; grep :x\\* /etc/passwd; grep \"^$(id -un):\" /etc/passwd",
    ]);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(u.uid.to_string().as_str()), "{out}");
    assert_eq!(lines.next(), Some(u.gid.to_string().as_str()), "{out}");
    let maps: Vec<Vec<u64>> = out
        .lines()
        .filter(|l| l.split_whitespace().count() == 3 && l.split_whitespace().all(|w| w.parse::<u64>().is_ok()))
        .map(|l| l.split_whitespace().map(|w| w.parse().unwrap()).collect())
        .collect();
    let (uid, start) = (u.uid as u64, u.subuid_start as u64);
    assert_eq!(maps, vec![vec![0, start, uid], vec![uid, uid, 1], vec![uid + 1, start + uid, 65536 - uid]], "{out}");
    let owner = |name: &str| -> Vec<String> {
        let l = out.lines().find(|l| l.ends_with(name)).unwrap_or_else(|| panic!("{name} missing: {out}"));
        l.split_whitespace().skip(2).take(2).map(String::from).collect()
    };
    assert_eq!(owner("/bin/busybox"), ["0", "0"], "image root's files are root's inside: {out}");
    assert_eq!(owner("/tmp/f"), [u.uid.to_string(), u.gid.to_string()], "{out}");
    assert!(out.contains(&format!(":*:{}:{}:", u.uid, u.gid)), "the user is in /etc/passwd: {out}");
    let o = h.kiste(&["run", "--rm", "--userns=auto", &img, "true"]);
    assert_eq!(code(&o), 125);
    assert!(String::from_utf8_lossy(&o.stderr).contains("--userns"), "{o:?}");
}

#[test]
fn attach_feeds_the_stdin_of_a_detached_interactive_container() {
    use std::io::Write;
    let (_reg, h, img) = setup();
    h.ok(&["run", "-di", "--name", "i", &img, "sh", "-c", "read a; echo got:$a; read b; echo got:$b; exit 6"]);
    let mut child = h
        .command(&["attach", "i"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(b"one\ntwo\n").unwrap();
    drop(input);
    let o = wait_output(child, 20, "attach did not end with the container");
    assert_eq!(stdout(&o), "got:one\ngot:two\n");
    assert_eq!(code(&o), 6, "{o:?}");
    assert_eq!(h.ok(&["logs", "i"]), "got:one\ngot:two\n");
}

#[test]
fn descriptors_left_open_by_the_caller_do_not_reach_the_container() {
    use std::os::fd::AsRawFd;
    let (_reg, h, img) = setup();
    let dir = std::fs::File::open("/").unwrap();
    let fd = dir.as_raw_fd();
    let mut cmd = h.command(&["run", "--rm", &img, "sh", "-c", "/bin/busybox ls /proc/self/fd"]);
    // SAFETY: dup2 between fork and exec, onto a number the child does not use otherwise.
    unsafe {
        std::os::unix::process::CommandExt::pre_exec(&mut cmd, move || {
            if libc::dup2(fd, 9) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let o = cmd.output().unwrap();
    assert_eq!(code(&o), 0, "{o:?}");
    let fds: Vec<String> = stdout(&o).split_whitespace().map(String::from).collect();
    assert!(!fds.contains(&"9".to_string()), "the host's / reached the container as fd 9: {fds:?}");
    assert!(fds.len() <= 4, "only stdio and ls's own directory: {fds:?}");
}

#[test]
fn attach_passes_window_resizes_on() {
    use std::io::Write;
    use std::os::fd::AsRawFd;
    let (_reg, h, img) = setup();
    h.ok(&["run", "-dit", "--name", "w", &img, "sh"]);
    let (mut child, mut m) = on_pty(&h, &["attach", "w"]);
    m.write_all(b"/bin/busybox stty size\n").unwrap();
    assert!(read_until(&m, "30 100").contains("30 100"), "the first size arrives");
    // Resizing our terminal sends SIGWINCH to attach, which passes the new size on.
    let ws = libc::winsize { ws_row: 41, ws_col: 121, ws_xpixel: 0, ws_ypixel: 0 };
    assert_eq!(unsafe { libc::ioctl(m.as_raw_fd(), libc::TIOCSWINSZ, &ws) }, 0);
    let until = Instant::now() + Duration::from_secs(20);
    let mut seen = String::new();
    while !seen.contains("41 121") {
        assert!(Instant::now() < until, "the new size never reached the container: {seen}");
        m.write_all(b"/bin/busybox stty size\n").unwrap();
        seen = read_until(&m, "\n");
        std::thread::sleep(Duration::from_millis(100));
    }
    m.write_all(b"exit 0\n").unwrap();
    assert_eq!(wait_child(&mut child), 0);
}

#[test]
fn keep_id_user_is_known_to_exec_and_top() {
    let (_reg, h, img) = setup();
    let u = user();
    h.ok(&["run", "-d", "--name", "k", "--userns=keep-id", &img, "sleep", "1000"]);
    // exec -u by name: the name is only in the container's own /etc/passwd.
    assert_eq!(h.ok(&["exec", "-u", &u.name, "k", "sh", "-c", "id -u"]).trim(), u.uid.to_string());
    let top = h.ok(&["top", "k"]);
    let row: Vec<&str> = top.lines().nth(1).unwrap_or_default().split_whitespace().collect();
    assert_eq!(row.first().copied(), Some(u.name.as_str()), "top maps the host uid back inside: {top}");
}

#[test]
fn a_terminal_container_starts_from_a_deleted_working_directory() {
    let (_reg, h, img) = setup();
    let gone = h.home().join("gone");
    std::fs::create_dir(&gone).unwrap();
    let script = format!(
        "cd {g} && rmdir {g} && exec {k} run -dit --name t {img} sh",
        g = gone.display(),
        k = common::kiste_bin().display()
    );
    let o = common::output_within(h.user_command("sh").args(["-c", &script]), 60, "run -dit from a deleted directory");
    assert_eq!(code(&o), 0, "{o:?}");
    assert_eq!(h.ps_all()[0]["State"], "running");
    h.ok(&["rm", "-f", "t"]);
}
