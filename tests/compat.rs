//! Issue #18: kiste as a drop-in for podman in scripts — exit codes and error phrases,
//! global options, and the per-command options scripts use, driven through the real binary
//! as the unprivileged test user. Each table row is a kiste invocation and what Podman
//! documents for it.

mod common;

use common::images;
use common::{Registry, TestHome, code, stderr, stdout};

fn setup() -> (Registry, TestHome, String) {
    common::pulled("busybox", images::busybox)
}

/// One invocation and what Podman gives for it.
struct Case<'a> {
    args: Vec<&'a str>,
    code: i32,
    /// A phrase stderr must hold (scripts grep for these); "" means stderr must be empty.
    stderr: &'a str,
}

fn check(h: &TestHome, cases: &[Case]) {
    for c in cases {
        let o = h.kiste(&c.args);
        let err = stderr(&o);
        assert_eq!(code(&o), c.code, "kiste {:?}: exit code\nstdout: {}\nstderr: {err}", c.args, stdout(&o));
        if c.stderr.is_empty() {
            assert!(err.is_empty(), "kiste {:?}: stderr should be empty: {err}", c.args);
        } else {
            assert!(err.contains(c.stderr), "kiste {:?}: stderr lacks {:?}: {err}", c.args, c.stderr);
            assert!(err.starts_with("Error: ") || err.contains("\nError: "), "kiste {:?}: {err}", c.args);
        }
    }
}

fn case<'a>(args: &[&'a str], code: i32, stderr: &'a str) -> Case<'a> {
    Case { args: args.to_vec(), code, stderr }
}

/// Global options `g` before `args`.
fn with<'a>(g: &[&'a str], args: &[&'a str]) -> Vec<&'a str> {
    [g, args].concat()
}

fn names(h: &TestHome, args: &[&str]) -> Vec<String> {
    h.ok(args).lines().map(|l| l.trim().to_string()).filter(|l| !l.is_empty()).collect()
}

#[test]
fn errors_and_exit_codes_follow_podman() {
    let (_reg, h, img) = setup();
    h.ok(&["run", "-d", "--name", "up", &img, "sleep", "1000"]);
    h.ok(&["create", "--name", "idle", "-v", "busy:/data", &img, "true"]);
    const GONE: &str = "no container with name or ID \"nosuch\" found: no such container";
    check(
        &h,
        &[
            case(&["rm", "nosuch"], 1, GONE),
            case(&["container", "rm", "nosuch"], 1, GONE),
            case(&["rm", "-f", "nosuch"], 0, ""),
            case(&["rm", "--ignore", "nosuch"], 0, ""),
            case(&["rm", "up"], 2, "container state improper"),
            // A missing container wins over a running one (Podman keeps 1).
            case(&["rm", "up", "nosuch"], 1, GONE),
            case(&["rm", "-t", "0", "idle"], 125, "--force option must be specified to use the --time option"),
            case(&["rmi", "nosuch"], 1, "image not known"),
            case(&["image", "rm", "nosuch"], 1, "image not known"),
            case(&["rmi", "-f", "nosuch"], 0, ""),
            case(&["network", "rm", "nosuch"], 1, "network not found"),
            case(&["volume", "rm", "nosuch"], 1, "no volume with name \"nosuch\" found: no such volume"),
            case(&["volume", "rm", "busy"], 2, "is being used by container"),
            case(&["volume", "rm", "busy", "nosuch"], 1, "no such volume"),
            case(&["volume", "rm", "-f", "nosuch"], 0, ""),
            case(&["stop", "nosuch"], 125, GONE),
            case(&["stop", "--ignore", "nosuch"], 0, ""),
            case(&["kill", "--ignore", "nosuch"], 0, ""),
            case(&["stop"], 125, "at least one name or id"),
            case(&["inspect", "--type", "container", "nosuch"], 125, "no such"),
        ],
    );
    // The refused removals changed nothing.
    assert_eq!(names(&h, &["ps", "-a", "--format", "{{.Names}}", "--sort", "names"]), ["idle", "up"]);
    assert_eq!(h.ok(&["rm", "-f", "-t", "0", "up"]).trim(), "up");
}

#[test]
fn the_cleanup_idiom_removes_running_stopped_and_ignores_missing() {
    let (_reg, h, img) = setup();
    h.ok(&["run", "-d", "--name", "up1", &img, "sleep", "1000"]);
    h.ok(&["run", "-d", "--name", "up2", &img, "sleep", "1000"]);
    h.ok(&["run", "--name", "done", &img, "true"]);
    h.ok(&["create", "--name", "fresh", &img, "true"]);
    let o = h.kiste(&["rm", "-t", "0", "up1", "nosuch", "done", "--force", "--ignore"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().collect::<Vec<_>>(), ["up1", "done"]);
    let o = h.kiste(&["rm", "-t", "0", "--all", "--force", "--ignore"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o).lines().count(), 2, "the two left, by ID: {}", stdout(&o));
    assert!(h.ps_all().is_empty(), "{:?}", h.ps_all());
    // Nothing left: the idiom still succeeds.
    assert_eq!(code(&h.kiste(&["rm", "-t", "0", "--all", "--force", "--ignore"])), 0);
}

#[test]
fn rm_stop_kill_start_pick_containers_as_podman() {
    let (_reg, h, img) = setup();
    for n in ["a1", "a2", "b1"] {
        h.ok(&["run", "-d", "--name", n, "-l", &format!("grp={}", &n[..1]), &img, "sleep", "1000"]);
    }
    let cid = h.root.join("cid");
    h.ok(&["create", "--cidfile", cid.to_str().unwrap(), "--name", "byfile", &img, "true"]);
    let running = |h: &TestHome| names(h, &["ps", "--format", "{{.Names}}", "--sort", "names"]);

    // --filter picks by ps's keys; the full IDs are printed.
    let stopped = names(&h, &["stop", "-t", "0", "--filter", "label=grp=a"]);
    assert_eq!(stopped.len(), 2, "{stopped:?}");
    assert!(stopped.iter().all(|s| s.len() == 64), "{stopped:?}");
    assert_eq!(running(&h), ["b1"]);
    // start --all starts the ones not running (byfile runs `true` and ends again).
    assert_eq!(names(&h, &["start", "--all"]).len(), 3);
    common::wait_until(30, "a1, a2 and b1 run", || running(&h) == ["a1", "a2", "b1"]);
    assert_eq!(names(&h, &["kill", "--filter", "name=a2"]).len(), 1);
    common::wait_until(30, "a2 killed", || running(&h) == ["a1", "b1"]);
    assert_eq!(names(&h, &["stop", "--all", "-t", "0"]).len(), 2);
    assert!(running(&h).is_empty());
    // --cidfile, and a missing cidfile with --ignore.
    let gone = h.root.join("gone");
    let out = h.ok(&["rm", "--cidfile", cid.to_str().unwrap(), "--cidfile", gone.to_str().unwrap(), "--ignore"]);
    assert_eq!(out.trim().len(), 64, "{out}");
    let (c, err) = h.err(&["rm", "--cidfile", gone.to_str().unwrap()]);
    assert_eq!(c, 125);
    assert!(err.contains("CIDFile") && err.contains("gone"), "{err}");
    // rm --filter.
    assert_eq!(names(&h, &["rm", "--filter", "label=grp=b"]).len(), 1);
    assert_eq!(names(&h, &["ps", "-a", "--format", "{{.Names}}", "--sort", "names"]), ["a1", "a2"]);
}

#[test]
fn ps_options_scripts_use() {
    let (_reg, h, img) = setup();
    // Back to back: times are kept to the nanosecond, so since=/before= tell them apart.
    h.ok(&["run", "--name", "zeta", "-l", "role=db", &img, "true"]);
    assert_eq!(code(&h.kiste(&["run", "--name", "alpha", &img, "sh", "-c", "exit 3"])), 3);
    h.ok(&["run", "-d", "--name", "mid", &img, "sleep", "1000"]);
    let ps = |args: &[&str]| {
        let mut a = vec!["ps", "-a", "--format", "{{.Names}}"];
        a.extend_from_slice(args);
        names(&h, &a)
    };
    assert_eq!(ps(&[]), ["mid", "alpha", "zeta"], "newest first");
    assert_eq!(ps(&["--sort", "names"]), ["alpha", "mid", "zeta"]);
    assert_eq!(ps(&["--last", "2"]), ["mid", "alpha"]);
    assert_eq!(ps(&["--filter", "status=exited", "--sort", "names"]), ["alpha", "zeta"]);
    assert_eq!(ps(&["--filter", "exited=3"]), ["alpha"]);
    assert_eq!(ps(&["--filter", "label=role=db"]), ["zeta"]);
    assert_eq!(ps(&["--filter", "name=^mi"]), ["mid"]);
    assert_eq!(ps(&["--filter", "since=zeta", "--sort", "names"]), ["alpha", "mid"]);
    assert_eq!(ps(&["--filter", "before=alpha"]), ["zeta"]);
    // --noheading: the rows only; a single-value option given twice takes the last.
    let table = h.ok(&["ps", "-a", "--noheading"]);
    assert_eq!(table.lines().count(), 3, "{table}");
    assert!(!table.contains("CONTAINER ID"), "{table}");
    assert_eq!(ps(&["--sort", "id", "--sort", "names"]), ["alpha", "mid", "zeta"]);
    let (c, err) = h.err(&["ps", "--filter", "nosuchkey=1"]);
    assert_eq!(c, 125);
    assert!(err.contains("nosuchkey"), "{err}");
    // Templates see Podman's psReporter: its methods over the ListContainer struct, which
    // is what {{json .}} prints; times are Go times.
    let f = "{{.ID}}|{{len .Id}}|{{.Names}}|{{json .Names}}|{{.Command}}|{{.Created.Unix}}|{{.CreatedAt}}|{{.Status}}";
    let row = h.ok(&["ps", "--filter", "name=mid", "--format", f]);
    let parts: Vec<&str> = row.trim_end().split('|').collect();
    assert_eq!(parts[0].len(), 12, "{row}");
    assert_eq!(parts[1..5], ["64", "mid", "\"mid\"", "sleep 1000"], "{row}");
    assert!(parts[5].parse::<i64>().is_ok_and(|t| t > 1_700_000_000), "{row}");
    let go_time = regex::Regex::new(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC$").unwrap();
    assert!(go_time.is_match(parts[6]), "{row}");
    assert!(parts[7].starts_with("Up "), "{row}");
    let v: serde_json::Value =
        serde_json::from_str(&h.ok(&["ps", "--filter", "name=mid", "--format", "{{json .}}"])).unwrap();
    assert_eq!(v["Names"], serde_json::json!(["mid"]), "{v}");
    assert_eq!(v["Command"], serde_json::json!(["sleep", "1000"]), "{v}");
    assert!(v["Created"].as_str().is_some_and(|t| t.ends_with('Z')) && v.get("ID").is_none(), "{v}");
    let created = h.ok(&["inspect", "--format", "{{.Created}}|{{.State.FinishedAt}}", "mid"]);
    let (created, finished) = created.trim_end().split_once('|').unwrap();
    assert!(go_time.is_match(created), "{created}");
    assert_eq!(finished, "0001-01-01 00:00:00 +0000 UTC");
}

#[test]
fn inspect_has_podmans_keys_and_templates_read_them() {
    let (_reg, h, img) = setup();
    let opts = ["--dns", "9.9.9.9", "--cap-add", "SYS_ADMIN", "--shm-size", "32m", "--add-host", "db:10.1.2.3"];
    let mut args = vec!["create", "--name", "keys"];
    args.extend(opts);
    args.extend([img.as_str(), "true"]);
    h.ok(&args);
    let f = "{{.HostConfig.Dns}} {{.HostConfig.CapAdd}} {{.HostConfig.ShmSize}} {{.HostConfig.ExtraHosts}} \
             {{.State.Health}} {{json .State.Health}}";
    let got = h.ok(&["inspect", "--format", f, "keys"]);
    assert_eq!(got.trim(), "[9.9.9.9] [CAP_SYS_ADMIN] 33554432 [db:10.1.2.3] <nil> null");
    let v: serde_json::Value = serde_json::from_str(&h.ok(&["inspect", "keys"])).unwrap();
    let c = &v[0];
    for k in ["ImageDigest", "BoundingCaps", "EffectiveCaps", "StaticDir", "OCIConfigPath", "Dependencies", "ExecIDs"] {
        assert!(c.get(k).is_some(), "{k} missing");
    }
    for k in ["OciVersion", "CgroupPath", "CheckpointedAt", "Paused"] {
        assert!(c["State"].get(k).is_some(), "State.{k} missing");
    }
    let host = [
        "CpuShares",
        "CpuQuota",
        "NanoCpus",
        "Memory",
        "MemorySwap",
        "PidsLimit",
        "BlkioWeight",
        "IpcMode",
        "PidMode",
        "UTSMode",
        "CgroupMode",
        "SecurityOpt",
        "Tmpfs",
        "CapDrop",
        "GroupAdd",
        "OomScoreAdj",
        "Privileged",
        "PublishAllPorts",
        "Ulimits",
        "Devices",
        "Runtime",
        "ConsoleSize",
    ];
    for k in host {
        assert!(c["HostConfig"].get(k).is_some(), "HostConfig.{k} missing");
    }
    assert_eq!(c["HostConfig"]["CapDrop"], serde_json::json!(["CAP_AUDIT_WRITE", "CAP_MKNOD", "CAP_NET_RAW"]));
    // --umask: the container's processes and exec's.
    h.ok(&["run", "-d", "--name", "masked", "--umask", "0077", &img, "sleep", "600"]);
    assert_eq!(h.ok(&["exec", "masked", "sh", "-c", "umask"]).trim(), "0077");
    assert_eq!(h.ok(&["inspect", "--format", "{{.Config.Umask}}", "masked"]).trim(), "0077");
    assert_eq!(h.ok(&["run", "--rm", &img, "sh", "-c", "umask"]).trim(), "0022");
    let (c, e) = h.err(&["run", "--rm", "--umask", "99", &img, "true"]);
    assert!(c == 125 && e.contains("invalid umask"), "{c} {e}");
    h.ok(&["rm", "-f", "-t", "0", "masked"]);
    // info's Go field names, as Podman's templates use them.
    let cg = h.ok(&["info", "--format", "{{.Host.CgroupsVersion}} {{.Store.GraphRoot}}"]);
    assert!(cg.starts_with("v1 /") || cg.starts_with("v2 /"), "{cg}");
}

#[test]
fn images_and_network_ls_options_scripts_use() {
    let (_reg, h, img) = setup();
    h.ok(&["tag", &img, "localhost/other:v1"]);
    let table = h.ok(&["images", "--noheading"]);
    assert_eq!(table.lines().count(), 2, "{table}");
    assert!(!table.contains("REPOSITORY"), "{table}");
    let repos = |args: &[&str]| {
        let mut a = vec!["images", "--format", "{{.Repository}}:{{.Tag}}"];
        a.extend_from_slice(args);
        names(&h, &a)
    };
    // As Podman: the filter picks images, and an image shows all its names.
    assert_eq!(repos(&["--filter", "reference=localhost/other"]).len(), 2);
    assert_eq!(repos(&["--filter", "reference=*other*"]).len(), 2);
    assert!(repos(&["--filter", "reference=nothere"]).is_empty());
    assert!(repos(&["--filter", "reference=*other*", "--filter", "label=none=x"]).is_empty());
    assert_eq!(repos(&["--filter", "dangling=true"]), Vec::<String>::new());
    assert_eq!(repos(&["--filter", "dangling=false"]).len(), 2);
    let sorted = repos(&["--sort", "repository"]);
    assert!(sorted.len() == 2 && sorted[0] < sorted[1], "{sorted:?}");
    let by_tag = repos(&["--sort", "tag"]);
    assert_eq!(by_tag.iter().map(|r| r.rsplit(':').next().unwrap()).collect::<Vec<_>>(), ["latest", "v1"]);
    let (c, err) = h.err(&["images", "--filter", "bogus=1"]);
    assert_eq!(c, 125);
    assert!(err.contains("bogus"), "{err}");
    // Podman's imageReporter: methods print, {{json .}} is the summary with repository/tag.
    let f = "{{.ReadOnly}} {{.Dangling}} {{.Containers}} {{.CreatedSince}}|{{json .}}";
    let row = h.ok(&["images", "--filter", "reference=localhost/other", "--format", f]);
    let line = row.lines().find(|l| l.contains("\"repository\":\"localhost/other\"")).unwrap_or_default();
    let (text, json) = line.split_once('|').unwrap();
    assert!(text.starts_with("false false 0 ") && text.ends_with(" ago"), "{row}");
    let v: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!((v["repository"].as_str(), v["tag"].as_str()), (Some("localhost/other"), Some("v1")), "{v}");
    assert!(v["Id"].as_str().is_some_and(|i| i.len() == 64) && v["Size"].is_i64(), "{v}");
    let id = h.ok(&["images", "-q", "--no-trunc", "localhost/other"]);
    assert!(id.starts_with("sha256:") && id.trim_end().len() == 71, "{id}");
    h.ok(&["network", "create", "scripted"]);
    let nets = h.ok(&["network", "ls", "--noheading"]);
    let names: Vec<&str> = nets.lines().filter_map(|l| l.split_whitespace().nth(1)).collect();
    assert_eq!(names, ["podman", "scripted"], "{nets}");
}

#[test]
fn logs_of_several_containers_are_prefixed() {
    let (_reg, h, img) = setup();
    // Detached: kiste keeps the log of containers that ran detached.
    let one_id = h.ok(&["run", "-d", "--name", "one", &img, "echo", "first"]);
    h.ok(&["run", "-d", "--name", "two", &img, "echo", "second"]);
    h.ok(&["wait", "one", "two"]);
    let out = h.ok(&["logs", "--names", "one", "two"]);
    assert_eq!(out.lines().collect::<Vec<_>>(), ["one first", "two second"], "{out}");
    let out = h.ok(&["logs", "one", "two"]);
    assert_eq!(out.lines().next(), Some(format!("{} first", &one_id.trim()[..12]).as_str()), "{out}");
    assert_eq!(h.ok(&["logs", "one"]), "first\n", "a single container: no prefix");
    // --log-driver none: no log, and logs says which driver.
    h.ok(&["run", "-d", "--name", "quiet", "--log-driver", "none", &img, "echo", "lost"]);
    let (c, err) = h.err(&["logs", "quiet"]);
    assert_eq!(c, 125);
    assert!(err.contains("'none' log driver"), "{err}");
}

#[test]
fn global_options_stores_and_output() {
    let (reg, h, img) = setup();
    let (root_a, run_a) = (h.root.join("store-a"), h.root.join("run-a"));
    let (root_b, run_b) = (h.root.join("store-b"), h.root.join("run-b"));
    let a: Vec<&str> = vec!["--root", root_a.to_str().unwrap(), "--runroot", run_a.to_str().unwrap()];
    let b: Vec<&str> = vec!["--root", root_b.to_str().unwrap(), "--runroot", run_b.to_str().unwrap()];
    // Two stores on one account, used alternately; neither sees the other or the default.
    h.ok(&with(&a, &["pull", &img]));
    h.ok(&with(&a, &["run", "--name", "in-a", &img, "true"]));
    h.ok(&with(&b, &["pull", &img]));
    h.ok(&with(&b, &["run", "-d", "--name", "in-b", &img, "sleep", "1000"]));
    h.ok(&with(&a, &["run", "--name", "in-a2", &img, "true"]));
    let ps = |g: &[&str]| names(&h, &with(g, &["ps", "-a", "--format", "{{.Names}}", "--sort", "names"]));
    assert_eq!(ps(&a), ["in-a", "in-a2"]);
    assert_eq!(ps(&b), ["in-b"]);
    assert!(ps(&[]).is_empty());
    assert!(root_a.join("containers").is_dir() && root_b.join("containers").is_dir());
    // Global options may come after the command too.
    assert_eq!(names(&h, &["ps", "-a", "--format", "{{.Names}}", "--root", root_b.to_str().unwrap()]), ["in-b"]);
    h.ok(&with(&b, &["rm", "-f", "-t", "0", "in-b"]));

    // storage.conf (CONTAINERS_STORAGE_CONF) names the store: graphroot holds kiste's.
    let conf = h.root.join("storage.conf");
    let graph = h.root.join("graph");
    std::fs::write(&conf, format!("[storage]\ndriver = \"overlay\"\ngraphroot = \"{}\"\n", graph.display())).unwrap();
    let o = h.command(&["pull", &img]).env("CONTAINERS_STORAGE_CONF", &conf).output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(graph.join("kiste").is_dir(), "the store is under graphroot");

    // --storage-driver vfs runs containers from plain copies.
    let root_vfs = h.root.join("store-vfs");
    let vfs = ["--root", root_vfs.to_str().unwrap(), "--storage-driver", "vfs"];
    h.ok(&with(&vfs, &["pull", &img]));
    assert_eq!(h.ok(&with(&vfs, &["run", "--rm", &img, "echo", "copied"])), "copied\n");
    drop(reg);

    // --noout, --out FILE; --events-backend, --cgroup-manager accepted; remote options refused.
    assert_eq!(h.ok(&["--noout", "images"]), "");
    let out = h.root.join("out.txt");
    assert_eq!(h.ok(&["--out", out.to_str().unwrap(), "images", "--format", "{{.Repository}}"]), "");
    assert!(std::fs::read_to_string(&out).unwrap().contains("busybox"));
    h.ok(&["--events-backend", "none", "--cgroup-manager", "cgroupfs", "ps"]);
    h.ok(&["--events-backend", "file", "ps"]);
    let (c, err) = h.err(&["--storage-driver", "btrfs", "ps"]);
    assert_eq!(c, 125);
    assert!(err.contains("btrfs"), "{err}");
    for flag in [vec!["--url", "unix:///run/podman.sock"], vec!["--connection", "x"], vec!["--remote"]] {
        let (c, err) = h.err(&with(&flag, &["ps"]));
        assert_eq!(c, 125, "{flag:?}");
        assert!(err.contains(flag[0]) && err.contains("no service"), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn behaviours_scripts_rely_on() {
    let (_reg, h, img) = setup();
    // rmi -f of one of several names removes that name only.
    h.ok(&["tag", &img, "other:v1"]);
    h.ok(&["rmi", "-f", "other:v1"]);
    assert_eq!(code(&h.kiste(&["image", "exists", &img])), 0, "the image went with one of its names");
    assert_eq!(code(&h.kiste(&["image", "exists", "other:v1"])), 1);
    // -p with a network mode that cannot publish: Podman's warning, and the container runs.
    let o = h.kiste(&["run", "--rm", "-p", "8080:80", "--network", "none", &img, "true"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(stderr(&o).contains("Port mappings have been discarded"), "{}", stderr(&o));
    // stop of an --rm container whose PID 1 ignores SIGTERM: the warning, success, and gone.
    h.ok(&["run", "-d", "--rm", "--name", "gone", &img, "sleep", "600"]);
    let o = h.kiste(&["stop", "-t", "1", "gone"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        stderr(&o).contains("StopSignal SIGTERM failed to stop container gone in 1 seconds, resorting to SIGKILL"),
        "{}",
        stderr(&o)
    );
    assert_eq!(code(&h.kiste(&["container", "exists", "gone"])), 1);
    // version and info with Podman's fields and keys.
    let v = h.ok(&["version"]);
    for f in ["Version:", "API Version:", "Built:", "OS/Arch:"] {
        assert!(v.lines().any(|l| l.starts_with(f)), "{f} not in:\n{v}");
    }
    let j: serde_json::Value = serde_json::from_str(&h.ok(&["version", "--format", "json"])).unwrap();
    assert!(j["Client"]["Version"].is_string(), "{j}");
    let i: serde_json::Value = serde_json::from_str(&h.ok(&["info", "--format", "json"])).unwrap();
    for (a, b) in [("host", "cgroupVersion"), ("host", "ociRuntime"), ("store", "graphRoot"), ("store", "runRoot")] {
        assert!(!i[a][b].is_null(), "{a}.{b} missing");
    }
}

#[test]
fn containers_conf_defaults_apply_to_every_container() {
    let (_reg, h, img) = setup();
    let conf = h.home().join(".config/containers/containers.conf");
    std::fs::write(
        &conf,
        "[containers]\nenv = [\"FROM_CONF=yes\"]\numask = \"0027\"\ntz = \"Asia/Tokyo\"\ndns_servers = [\"192.0.2.53\"]\n\
         no_hosts = true\n",
    )
    .unwrap();
    let out = h.ok(&[
        "run",
        "--rm",
        &img,
        "sh",
        "-c",
        "echo $FROM_CONF $(date +%Z); umask; grep nameserver /etc/resolv.conf",
    ]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines, ["yes JST", "0027", "nameserver 192.0.2.53"], "{out}");
    // Flags win over the configuration.
    let out =
        h.ok(&["run", "--rm", "--umask", "0002", "-e", "FROM_CONF=flag", &img, "sh", "-c", "echo $FROM_CONF; umask"]);
    assert_eq!(out.lines().collect::<Vec<_>>(), ["flag", "0002"], "{out}");
    // [engine] image_default_transport: registries are the one transport kiste has.
    std::fs::write(&conf, "[engine]\nimage_default_transport = \"docker://\"\n").unwrap();
    h.ok(&["pull", &img]);
    std::fs::write(&conf, "[engine]\nimage_default_transport = \"oci-archive:\"\n").unwrap();
    let (c, err) = h.err(&["pull", &img]);
    assert_eq!(c, 125);
    assert!(err.contains("image_default_transport \"oci-archive:\"") && err.lines().count() == 1, "{err}");
}
