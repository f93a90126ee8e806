//! Issue #3 (last part): `container prune`, `system prune`, `system df` and `system reset`,
//! driven through the real binary as the unprivileged test user.

mod common;

use common::images;
use common::{Registry, TestHome, scratch, stderr, stdout, wait_until};
use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

/// A registry with busybox and the layered image (whose bottom layer is busybox's), and a
/// home that has pulled both. Returns (registry, home, busybox ref, layered ref).
fn setup() -> (Registry, TestHome, String, String) {
    let reg = Registry::start();
    for (name, make) in
        [("busybox:latest", images::busybox as fn(&Path) -> String), ("layered:latest", images::layered)]
    {
        let dir = scratch("layout");
        make(&dir);
        reg.push(&dir, name, false, None);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let h = TestHome::new();
    h.use_registry(&reg);
    let bb = format!("{}/busybox:latest", reg.addr());
    let layered = format!("{}/layered:latest", reg.addr());
    h.pull(&bb);
    h.pull(&layered);
    (reg, h, bb, layered)
}

/// Full IDs of the containers in `ps -a`.
fn container_ids(h: &TestHome) -> BTreeSet<String> {
    h.ps_all().iter().map(|c| c["Id"].as_str().unwrap().to_string()).collect()
}

fn lines(s: &str) -> BTreeSet<String> {
    s.lines().map(str::to_string).collect()
}

/// The rows of `system df --format json`, by type.
fn df(h: &TestHome) -> std::collections::HashMap<String, serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(&h.ok(&["system", "df", "--format", "json"])).unwrap();
    v.as_array().unwrap().iter().map(|r| (r["Type"].as_str().unwrap().to_string(), r.clone())).collect()
}

fn entries(dir: &Path) -> Vec<String> {
    match std::fs::read_dir(dir) {
        Ok(rd) => rd.flatten().map(|e| e.file_name().to_string_lossy().into_owned()).collect(),
        Err(_) => vec![],
    }
}

/// Runs a shell command as the test user (to plant files the way a killed kiste leaves them).
fn as_user(h: &TestHome, script: &str) {
    let o = h.user_command("sh").args(["-c", script]).output().unwrap();
    assert!(o.status.success(), "{script}: {}", stderr(&o));
}

/// Whether `pid` runs (zombies do not: nothing may reap them in a test container).
fn alive(pid: i64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| s.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().next() != Some("Z")))
        .unwrap_or(false)
}

/// Live processes started by kiste for this home (they carry its XDG_RUNTIME_DIR), or in
/// one of the PID namespaces `namespaces`: (pid, command line). The shared user namespace's
/// holder is not counted: it stays, as Podman's pause process.
fn home_processes(h: &TestHome, namespaces: &[String]) -> Vec<(i64, String)> {
    let marker = format!("XDG_RUNTIME_DIR={}", h.runtime().display());
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i64>().ok()) else { continue };
        if !alive(pid) {
            continue;
        }
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let ours = environ.split(|b| *b == 0).any(|v| v == marker.as_bytes());
        let ns = std::fs::read_link(format!("/proc/{pid}/ns/pid")).map(|p| p.display().to_string()).unwrap_or_default();
        if ours || namespaces.contains(&ns) {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if !cmd.contains("__userns-holder") {
                out.push((pid, cmd));
            }
        }
    }
    out
}

fn pid_ns(pid: i64) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/pid")).unwrap().display().to_string()
}

/// Writes 5000 bytes as uid 1000 in a 0700 directory of the container's writable layer: a
/// tree the user cannot read without the user namespace.
const PRIVATE_FILE: &str = "/bin/busybox mkdir -p /tmp/d && /bin/busybox head -c 5000 /dev/zero > /tmp/d/f && \
     /bin/busybox chown -R 1000:1000 /tmp/d && /bin/busybox chmod 700 /tmp/d";

#[test]
fn container_prune_keeps_running_containers_and_removes_the_others() {
    let (_reg, h, bb, _) = setup();
    let up = h.ok(&["run", "-d", "--name", "up", &bb, "sleep", "1000"]).trim().to_string();
    h.ok(&["run", "--name", "done", &bb, "true"]);
    h.ok(&["create", "--name", "fresh", &bb, "true"]);
    assert_eq!(
        h.kiste(&["run", "--name", "labeled", "-l", "keep=yes", &bb, "sh", "-c", "exit 3"]).status.code(),
        Some(3)
    );
    let all = container_ids(&h);
    let id_of =
        |name: &str| h.ps_all().iter().find(|c| c["Names"][0] == name).unwrap()["Id"].as_str().unwrap().to_string();
    let (done, fresh, labeled) = (id_of("done"), id_of("fresh"), id_of("labeled"));

    // Asked, and told no (or nothing): nothing goes.
    for answer in ["n\n", ""] {
        let o = h.with_stdin(&["container", "prune"], answer);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).contains("WARNING! This will remove all non running containers."), "{}", stderr(&o));
        assert!(stdout(&o).is_empty());
        assert_eq!(container_ids(&h), all);
    }
    // Filters: only the unlabeled ones; nothing created more than an hour ago.
    let out = h.ok(&["container", "prune", "-f", "--filter", "label!=keep=yes"]);
    assert_eq!(lines(&out), lines(&format!("{done}\n{fresh}\n")), "full IDs, as podman prints them");
    assert_eq!(h.ok(&["container", "prune", "-f", "--filter", "until=1h"]), "");
    // Told yes on stdin.
    let o = h.with_stdin(&["container", "prune"], "y\n");
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("{labeled}\n"));
    let left = h.ps_all();
    assert_eq!(left.len(), 1, "{left:?}");
    assert_eq!(left[0]["Id"], up.as_str());
    assert_eq!(left[0]["State"], "running");
    let dirs = entries(&h.data().join("containers"));
    assert_eq!(dirs, vec![up.clone()], "only the running container's directory is left");
    // Bad filters are refused before anything is asked or removed.
    for bad in ["until=soon", "name=up", "label="] {
        let (c, err) = h.err(&["container", "prune", "-f", "--filter", bad]);
        assert_eq!(c, 125);
        assert!(err.contains("invalid filter"), "{err}");
    }
    h.ok(&["rm", "-f", "up"]);
}

#[test]
fn system_df_counts_images_containers_and_shared_layers_once() {
    let (_reg, h, bb, layered) = setup();
    let size = |img: &str| h.inspect(img)["Size"].as_u64().unwrap();
    let (bb_size, layered_size) = (size(&bb), size(&layered));
    // Layered's bottom layer is busybox's: the images take layered's size on disk.
    let d = df(&h);
    let images = &d["Images"];
    assert_eq!((images["Total"].as_u64(), images["Active"].as_u64()), (Some(2), Some(0)), "{images}");
    assert_eq!(images["RawSize"].as_u64(), Some(layered_size), "busybox {bb_size}, layered {layered_size}: {images}");
    assert_eq!(images["RawReclaimable"], images["RawSize"]);
    assert_eq!(images["Reclaimable"].as_str().unwrap().split(' ').nth(1), Some("(100%)"));
    assert_eq!(d["Containers"]["Total"], 0);
    assert_eq!(d["Local Volumes"]["Size"], "0B");

    h.ok(&["run", "--name", "wrote", &bb, "sh", "-c", PRIVATE_FILE]);
    let up = h.ok(&["run", "-d", "--name", "up", &layered, "sleep", "1000"]);
    let d = df(&h);
    let (images, containers) = (&d["Images"], &d["Containers"]);
    assert_eq!((images["Total"].as_u64(), images["Active"].as_u64()), (Some(2), Some(2)), "{images}");
    assert_eq!(images["RawReclaimable"], 0, "every layer is used by a container's image: {images}");
    assert_eq!((containers["Total"].as_u64(), containers["Active"].as_u64()), (Some(2), Some(1)), "{containers}");
    // The exited container's writable layer holds the 5000-byte file the user cannot read.
    let reclaimable = containers["RawReclaimable"].as_u64().unwrap();
    assert!((5000..20_000).contains(&reclaimable), "{containers}");
    assert!(containers["RawSize"].as_u64().unwrap() >= reclaimable);

    let table = h.ok(&["system", "df"]);
    let rows: Vec<Vec<&str>> =
        table.lines().map(|l| l.split("  ").filter(|c| !c.is_empty()).map(str::trim).collect()).collect();
    assert_eq!(rows[0], ["TYPE", "TOTAL", "ACTIVE", "SIZE", "RECLAIMABLE"], "{table}");
    assert_eq!(rows[1][..3], ["Images", "2", "2"], "{table}");
    assert_eq!(rows[2][..3], ["Containers", "2", "1"], "{table}");
    assert_eq!(rows[3], ["Local Volumes", "0", "0", "0B", "0B (0%)"], "{table}");

    let verbose = h.ok(&["system", "df", "-v"]);
    for want in ["Images space usage:", "Containers space usage:", "Local Volumes space usage:", "wrote", "up"] {
        assert!(verbose.contains(want), "{want} missing:\n{verbose}");
    }
    assert!(verbose.contains(&format!("{}/layered", _reg.addr())), "{verbose}");
    let (c, err) = h.err(&["system", "df", "-v", "--format", "json"]);
    assert_eq!(c, 125);
    assert!(err.contains("--format"), "{err}");
    h.ok(&["rm", "-f", up.trim()]);
}

#[test]
fn system_prune_removes_stopped_containers_dangling_images_and_garbage() {
    let (_reg, h, bb, layered) = setup();
    let layered_id = h.inspect(&layered)["Id"].as_str().unwrap().to_string();
    let bb_id = h.inspect(&bb)["Id"].as_str().unwrap().to_string();
    h.ok(&["untag", &layered]);
    let exited = {
        h.ok(&["run", "--name", "exited", &bb, "sh", "-c", PRIVATE_FILE]);
        container_ids(&h).into_iter().next().unwrap()
    };
    let up = h.ok(&["run", "-d", "--name", "up", &bb, "sleep", "1000"]).trim().to_string();
    // What killed commands leave: an unrecorded layer, a stray blob, half-removed containers.
    let garbage_layer = format!("storage/layers/{}", "ab".repeat(32));
    let stray_blob = format!("storage/blobs/{}", "cd".repeat(32));
    as_user(
        &h,
        &format!(
            "cd {} && mkdir -p {garbage_layer}/diff && echo x > {garbage_layer}/diff/f && echo y > {stray_blob} && \
             mkdir -p containers/.del-old containers/.tmp-old containers/{} && echo z > containers/.del-old/f",
            h.data().display(),
            "ef".repeat(32)
        ),
    );

    // Told no: nothing goes.
    let o = h.with_stdin(&["system", "prune"], "n\n");
    assert!(o.status.success());
    assert!(stderr(&o).contains("all stopped containers"), "{}", stderr(&o));
    assert_eq!(container_ids(&h).len(), 2);

    let out = h.ok(&["system", "prune", "-f"]);
    let expected_start = format!("Deleted Containers\n{exited}\nDeleted Images\n{layered_id}\nTotal reclaimed space: ");
    assert!(out.starts_with(&expected_start), "{out}");
    let reclaimed = out.lines().last().unwrap().trim_start_matches("Total reclaimed space: ");
    assert!(reclaimed.ends_with("kB") || reclaimed.ends_with("MB"), "{out}");
    assert_eq!(container_ids(&h), BTreeSet::from([up.clone()]));
    assert_eq!(h.image_ids(), vec![bb_id.clone()], "the named image stays");
    let data = h.data();
    assert!(!data.join(&garbage_layer).exists() && !data.join(&stray_blob).exists());
    assert_eq!(entries(&data.join("containers")), vec![up.clone()]);
    let layers_left = entries(&data.join("storage/layers"));
    assert_eq!(layers_left.len(), 1, "only busybox's layer: {layers_left:?}");

    // -a keeps images a container uses; once it is gone, they go too.
    let out = h.ok(&["system", "prune", "-a", "-f"]);
    assert_eq!(out, "Total reclaimed space: 0B\n");
    assert_eq!(h.image_ids(), vec![bb_id.clone()]);
    h.ok(&["stop", "-t", "0", "up"]);
    let out = h.ok(&["system", "prune", "-a", "-f"]);
    assert!(
        out.starts_with(&format!("Deleted Containers\n{up}\nDeleted Images\n{bb_id}\nTotal reclaimed space: ")),
        "{out}"
    );
    assert!(h.image_ids().is_empty());
    assert!(entries(&data.join("storage/layers")).is_empty());
    assert!(entries(&data.join("storage/blobs")).is_empty());
    assert!(entries(&data.join("containers")).is_empty());
}

#[test]
fn system_reset_removes_everything_and_kiste_works_afterwards() {
    let (_reg, h, bb, layered) = setup();
    h.ok(&["run", "--name", "wrote", &bb, "sh", "-c", PRIVATE_FILE]);
    let up = h.ok(&["run", "-d", "--name", "up", &layered, "sleep", "1000"]).trim().to_string();
    h.ok(&["exec", "-d", "up", "sleep", "999"]);
    let c = h.ps_all().into_iter().find(|c| c["Id"] == up.as_str()).unwrap();
    let pid = c["Pid"].as_i64().unwrap();
    let ns = vec![pid_ns(pid)];
    let before = home_processes(&h, &ns);
    assert!(before.len() >= 3, "monitor, sleep, exec'd sleep: {before:?}");

    // Told no, or nothing: exit 0 and nothing removed.
    for answer in ["n\n", ""] {
        let o = h.with_stdin(&["system", "reset"], answer);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(stderr(&o).contains("WARNING! This will remove:"), "{}", stderr(&o));
        assert_eq!(h.image_ids().len(), 2);
        assert_eq!(container_ids(&h).len(), 2);
        assert!(alive(pid));
    }

    let o = h.kiste(&["system", "reset", "-f"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).is_empty(), "{}", stdout(&o));
    let data_home = h.root.join("data");
    assert_eq!(entries(&data_home), Vec::<String>::new(), "files left under XDG_DATA_HOME");
    assert_eq!(entries(&h.runtime()), Vec::<String>::new(), "files left under XDG_RUNTIME_DIR");
    let left = home_processes(&h, &ns);
    assert!(left.is_empty(), "processes left: {left:?}");
    assert!(!alive(pid));

    // An empty store that works.
    assert!(h.image_ids().is_empty());
    assert!(h.ps_all().is_empty());
    h.pull(&bb);
    assert_eq!(h.ok(&["run", "--rm", &bb, "echo", "again"]), "again\n");
    h.ok(&["system", "reset", "-f"]);
    assert!(entries(&data_home).is_empty());
}

#[test]
fn a_killed_reset_leaves_a_store_that_works_and_the_next_reset_finishes() {
    let (_reg, h, bb, layered) = setup();
    h.ok(&["run", "--name", "wrote", &bb, "sh", "-c", PRIVATE_FILE]);
    let data_home = h.root.join("data");
    // What a reset killed between its rename and the deletion leaves: the old store, moved aside.
    as_user(&h, &format!("mv {}/kiste {}/.kiste-reset-killed", data_home.display(), data_home.display()));
    assert!(h.image_ids().is_empty(), "the moved store is gone for kiste");
    h.pull(&bb);
    h.ok(&["system", "reset", "-f"]);
    assert_eq!(entries(&data_home), Vec::<String>::new());

    // Real kills at several points of a reset.
    for delay_ms in [0u64, 5, 20, 60, 150] {
        h.pull(&bb);
        h.pull(&layered);
        h.ok(&["run", "--name", "w", &bb, "sh", "-c", PRIVATE_FILE]);
        h.ok(&["run", "-d", "--name", "up", &bb, "sleep", "1000"]);
        let mut child = h.command(&["system", "reset", "-f"]).spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        // Whatever the kill left, kiste answers, and the next reset removes it all.
        h.ok(&["images"]);
        h.ok(&["ps", "-a"]);
        h.ok(&["system", "reset", "-f"]);
        assert_eq!(entries(&data_home), Vec::<String>::new(), "after a kill at {delay_ms} ms");
        assert_eq!(entries(&h.runtime()), Vec::<String>::new(), "after a kill at {delay_ms} ms");
        // A storage helper that the killed reset started may still be finishing its deletion.
        wait_until(10, &format!("processes left after a kill at {delay_ms} ms"), || home_processes(&h, &[]).is_empty());
    }
}

#[test]
fn reset_during_concurrent_runs_leaves_no_unknown_container() {
    let (_reg, h, bb, _) = setup();
    // Resets at several points of the runs' lives: before, while and after they start.
    for delay_ms in [0u64, 40, 120, 250] {
        if h.image_ids().is_empty() {
            h.pull(&bb);
        }
        h.ok(&["run", "-d", "--name", "first", &bb, "sleep", "1000"]);
        let mut runs: Vec<_> = (0..3)
            .map(|i| {
                h.command(&["run", "-d", "--name", &format!("c{i}"), &bb, "sleep", "1000"])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        std::thread::sleep(Duration::from_millis(delay_ms));
        let reset = h.kiste(&["system", "reset", "-f"]);
        assert!(reset.status.success(), "{}", stderr(&reset));
        for r in runs.iter_mut() {
            let _ = r.wait();
        }
        // Runs that lost the race failed; those that won are in the new store and running.
        // No container runs that the store does not know.
        wait_until(10, &format!("running containers and monitors differ after a reset at {delay_ms} ms"), || {
            let running = h.ps_all().iter().filter(|c| c["State"] == "running").count();
            let monitors = home_processes(&h, &[]).into_iter().filter(|(_, cmd)| cmd.contains("__monitor")).count();
            running == monitors
        });
        h.ok(&["system", "reset", "-f"]);
        assert!(home_processes(&h, &[]).is_empty(), "{:?}", home_processes(&h, &[]));
    }
}

/// The holder's PID as this home's record has it, and its user namespace.
fn userns_holder(h: &TestHome) -> Option<(i64, String)> {
    let text = std::fs::read_to_string(h.runtime().join("kiste/userns")).ok()?;
    let pid: i64 = text.split_whitespace().next()?.parse().ok()?;
    let ns = std::fs::read_link(format!("/proc/{pid}/ns/user")).ok()?;
    Some((pid, ns.display().to_string()))
}

#[test]
fn containers_share_one_user_namespace_whose_holder_is_replaced_and_reset_ends() {
    let (_reg, h, bb, _) = setup();
    // `ls -l` of the link: its target is the last word.
    let target = |l: String| l.trim().rsplit(' ').next().unwrap_or_default().to_string();
    let userns = || target(h.ok(&["run", "--rm", "--network", "none", &bb, "ls", "-l", "/proc/self/ns/user"]));
    let (first, second) = (userns(), userns());
    assert_eq!(first, second, "containers join the shared namespace");
    // Nothing of the removed containers stays in the run-time directory's locks (the monitor
    // removes an `--rm` container's files once `run` has its exit code).
    let container_locks = || -> Vec<String> {
        std::fs::read_dir(h.runtime().join("kiste/locks"))
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("root-") || n.starts_with("pause-"))
            .collect()
    };
    wait_until(10, "the removed containers' lock files to go", || container_locks().is_empty());
    let (pid, ns) = userns_holder(&h).expect("a started container leaves the holder's record");
    assert!(alive(pid), "the holder runs");
    assert_eq!(first, ns, "it is the recorded holder's namespace");
    // The map inside is the user's usual one; --userns=keep-id still gets a namespace of its own.
    let map = h.ok(&["run", "--rm", "--network", "none", &bb, "cat", "/proc/self/uid_map"]);
    let uid = common::user().uid.to_string();
    assert_eq!(map.split_whitespace().take(3).collect::<Vec<_>>(), ["0", uid.as_str(), "1"], "{map}");
    let keep =
        h.ok(&["run", "--rm", "--network", "none", "--userns", "keep-id", &bb, "ls", "-l", "/proc/self/ns/user"]);
    let keep = target(keep);
    assert!(keep.starts_with("user:[") && keep != first, "{keep}");
    // A killed holder is replaced by the next start.
    // SAFETY: kill of the holder's PID just read from the record and checked alive.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    wait_until(10, "the killed holder to end", || !alive(pid));
    let after = userns();
    let (pid2, ns2) = userns_holder(&h).expect("a new holder");
    assert_ne!(pid2, pid);
    assert_eq!(after, ns2, "the container joined the new holder's namespace");
    // `system reset` ends it.
    h.ok(&["system", "reset", "-f"]);
    wait_until(10, "reset to end the holder", || !alive(pid2) && h.userns_holders().is_empty());
    assert!(!h.runtime().join("kiste/userns").exists());
}
