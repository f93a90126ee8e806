//! Issue #3: the bundle kiste writes is a valid OCI runtime spec. A copy of a container's
//! bundle runs under `runc` (rootless, as the test user) and its process sees the same
//! identity, environment, capabilities, namespaces and mounts as under `kiste start -a`.

mod common;

use common::TestHome;
use common::images;
use std::path::{Path, PathBuf};

/// What the container's process reports about itself, one labelled section each.
const PROBE: &str = r#"
echo '== id'; id
echo '== hostname'; hostname
echo '== uid_map'; cat /proc/self/uid_map
echo '== gid_map'; cat /proc/self/gid_map
echo '== env'; env | sort
echo '== pwd'; pwd
echo '== umask'; umask
echo '== status'; grep -E '^(Cap|NoNewPrivs|Seccomp|Groups)' /proc/self/status
echo '== seccomp'; unshare -U true 2>&1; echo "unshare -U: $?"
echo '== rlimits'; ulimit -a
echo '== oom_score_adj'; cat /proc/self/oom_score_adj
echo '== mounts'; sed -E 's/(lower|upper|work)dir=[^,]*,?//g' /proc/self/mounts | sort
echo '== dev'; stat -c '%n %F %u:%g %a' /dev/* | sort
echo '== /etc/hostname'; cat /etc/hostname
echo '== /etc/resolv.conf'; cat /etc/resolv.conf
echo '== /etc/hosts'; cat /etc/hosts
echo '== /run/.containerenv'; cat /run/.containerenv
echo '== root'; touch /probe-written 2>&1 && echo writable
true
"#;

fn runc_bin() -> PathBuf {
    ["/usr/sbin/runc", "/usr/bin/runc", "/usr/local/sbin/runc", "/usr/local/bin/runc"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .expect("runc not found; install the \"runc\" package (scripts/test.sh does)")
}

/// The copy of `bundle` for runc in `copy`: the same config.json, except that runc does not
/// know kiste's overlay annotations, so its root is an empty directory with the overlay of
/// the image's layers (and a fresh upper directory) mounted on `/` as the first mount —
/// inside the container's user namespace, where a rootless overlay must be mounted.
fn runc_bundle(h: &TestHome, bundle: &Path, copy: &Path) {
    let mut spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(bundle.join("config.json")).unwrap()).unwrap();
    let ann = spec["annotations"].clone();
    assert_eq!(
        ann["io.kiste.overlay.mode"], "native",
        "this test mounts the root with the kernel's overlay; the store uses {}",
        ann["io.kiste.overlay.mode"]
    );
    let lower = ann["io.kiste.overlay.lower"].as_str().expect("lower dirs annotation").to_string();
    for d in ["rootfs", "upper", "work"] {
        let st = h.user_command("mkdir").arg("-p").arg(copy.join(d)).status().unwrap();
        assert!(st.success(), "mkdir {}", copy.join(d).display());
    }
    let root = serde_json::json!({
        "destination": "/",
        "type": "overlay",
        "source": "overlay",
        "options": [
            format!("lowerdir={lower}"),
            format!("upperdir={}", copy.join("upper").display()),
            format!("workdir={}", copy.join("work").display()),
            "userxattr",
        ],
    });
    spec["root"]["path"] = serde_json::json!(copy.join("rootfs"));
    spec["mounts"].as_array_mut().expect("mounts").insert(0, root);
    let text = serde_json::to_string_pretty(&spec).unwrap();
    let st = h
        .user_command("sh")
        .arg("-c")
        .arg("cat > \"$0\"")
        .arg(copy.join("config.json"))
        .stdin(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            c.stdin.take().unwrap().write_all(text.as_bytes())?;
            c.wait()
        })
        .unwrap();
    assert!(st.success(), "write the copy's config.json");
}

/// Splits the probe's output into its sections.
fn sections(out: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = Vec::new();
    for line in out.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            v.push((name.to_string(), String::new()));
        } else if let Some((_, body)) = v.last_mut() {
            body.push_str(line);
            body.push('\n');
        }
    }
    v
}

/// Creates a container with `opts` running the probe, runs it with `kiste start -a`, then a
/// copy of its bundle with `runc run`, and compares what the two processes saw.
fn compare(h: &TestHome, runc: &Path, img: &str, name: &str, opts: &[&str]) -> String {
    compare_script(h, runc, img, name, opts, PROBE)
}

/// As `compare`, with another script.
fn compare_script(h: &TestHome, runc: &Path, img: &str, name: &str, opts: &[&str], script: &str) -> String {
    let mut args = vec!["create", "--name", name];
    args.extend_from_slice(opts);
    args.extend_from_slice(&[img, "sh", "-c", script]);
    let id = h.ok(&args);
    let id = id.trim();
    let bundle = h.data().join("containers").join(id);
    let kiste_out = h.ok(&["start", "-a", name]);

    let copy = h.root.join(format!("runc-{name}"));
    runc_bundle(h, &bundle, &copy);
    let o = h
        .user_command(runc)
        .arg("--root")
        .arg(h.root.join("runc-state"))
        .args(["run", "--bundle"])
        .arg(&copy)
        .arg(format!("kiste-{name}"))
        .output()
        .unwrap();
    let runc_out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{name}: runc run failed ({}):\nstderr: {}\nstdout: {runc_out}\nconfig.json: {}",
        o.status,
        String::from_utf8_lossy(&o.stderr),
        std::fs::read_to_string(copy.join("config.json")).unwrap_or_default()
    );
    eprintln!("{name}: kiste start -a:\n{kiste_out}\n{name}: runc run:\n{runc_out}");
    let (k, r) = (sections(&kiste_out), sections(&runc_out));
    let names: Vec<&String> = k.iter().map(|(n, _)| n).collect();
    assert_eq!(names, r.iter().map(|(n, _)| n).collect::<Vec<_>>(), "{name}: kiste:\n{kiste_out}\nrunc:\n{runc_out}");
    let diffs: Vec<String> = k
        .iter()
        .zip(&r)
        .filter(|((_, a), (_, b))| a != b)
        .map(|((n, a), (_, b))| format!("== {n}\n-- kiste:\n{a}-- runc:\n{b}"))
        .collect();
    assert!(diffs.is_empty(), "{name}: the process sees different things under kiste and runc:\n{}", diffs.join("\n"));
    kiste_out
}

#[test]
fn bundle_runs_the_same_under_runc() {
    let runc = runc_bin();
    let (_reg, h, img) = common::pulled("busybox", images::busybox);

    // Defaults: root, its own network namespace.
    let out = compare(&h, &runc, &img, "defaults", &["-w", "/tmp", "-e", "FOO=bar baz"]);
    assert!(out.contains("uid=0(root)") && out.contains("FOO=bar baz\n") && out.contains("HOME=/root\n"), "{out}");
    assert!(out.contains("== root\nwritable\n"), "{out}");

    // A user, capabilities, limits, extra mounts, a read-only root, a hostname. Not
    // --group-add: runc refuses `additionalGids` whenever it runs without root ("cannot set
    // any additional groups in a rootless container"), even with a newgidmap mapping.
    let out = compare(
        &h,
        &runc,
        &img,
        "options",
        &[
            "-u",
            "nobody",
            "--cap-add",
            "NET_RAW",
            "--cap-drop",
            "CHOWN",
            "--ulimit",
            "nofile=100:200",
            "--tmpfs",
            "/scratch:size=1m",
            "--shm-size",
            "2m",
            "--read-only",
            "--hostname",
            "box",
            "--security-opt",
            "no-new-privileges",
        ],
    );
    assert!(out.contains("uid=65534(nobody)") && out.contains("== hostname\nbox\n"), "{out}");
    assert!(!out.contains("writable"), "{out}");
    assert!(out.contains("NoNewPrivs:\t1\n") && out.contains("Seccomp:\t2\n"), "{out}");
    assert!(out.contains("Operation not permitted\nunshare -U: 1\n"), "the default seccomp profile: {out}");
    // Podman's defaults - CHOWN + NET_RAW, also for a non-root user.
    assert!(out.contains("CapBnd:\t00000000800425fa\n"), "{out}");

    // The host's network namespace: no sysfs of its own.
    compare(&h, &runc, &img, "hostnet", &["--network", "host"]);
}

/// Issue #15: runc applies the bundle's cgroup v1 limits in the directories scripts/test.sh
/// delegates to the test user, as kiste does: a 200 MB buffer is OOM-killed under a 64 MB
/// limit, and forks stop at the pids limit, under both.
#[test]
fn runc_applies_the_same_limits() {
    let runc = runc_bin();
    let (_reg, h, img) = common::pulled("busybox", images::busybox);
    let script = "dd if=/dev/zero of=/dev/null bs=200M count=1 2>/dev/null; echo \"== dd $?\"; \
                  (for i in $(seq 40); do sleep 2 & done; wait) 2>/dev/null; echo \"== forks $?\"";
    let out = compare_script(&h, &runc, &img, "limits", &["--memory", "64m", "--pids-limit", "20"], script);
    assert!(out.contains("== dd 137\n"), "the 64 MB limit did not OOM-kill dd: {out}");
    assert!(!out.contains("== forks 0\n"), "40 forks under --pids-limit 20: {out}");
}
