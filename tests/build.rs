//! `kiste build`: the tutorial's Python app (against a python-like image made from the host's
//! python3 and a wheel served by the test as a package index), every instruction, ARG/ENV
//! expansion, multi-stage builds, .dockerignore, the layer cache, failing and killed builds,
//! reproducible IDs, history.

mod common;

use common::images;
use common::{Registry, TestHome, code, stderr, stdout};
use std::io::{Read, Write};
use std::path::Path;
use std::sync::OnceLock;

/// One registry for the whole file holding busybox and the python image (slow to make).
fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(|| {
        let reg = Registry::start();
        for (name, build) in [("busybox", images::busybox as fn(&Path) -> String), ("python", images::python)] {
            let dir = common::ScratchDir::new("layout");
            build(&dir);
            let tag = if name == "python" { "python:3.11-slim" } else { "busybox:latest" };
            reg.push(&dir, tag, false, None);
        }
        reg
    })
}

fn home() -> TestHome {
    let h = TestHome::new();
    h.use_registry(registry());
    h
}

/// A build context directory owned by the test user, with these files.
fn context(files: &[(&str, &str)]) -> common::ScratchDir {
    let d = common::ScratchDir::new("ctx");
    for (name, text) in files {
        let p = d.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, text).unwrap();
    }
    chown_tree(&d);
    d
}

fn chown_tree(d: &Path) {
    if common::is_root() {
        let u = common::user();
        let _ = std::process::Command::new("chown").arg("-R").arg(format!("{}:{}", u.uid, u.gid)).arg(d).status();
    }
}

/// CRC-32 (IEEE), for the zip a wheel is.
fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for b in data {
        c ^= *b as u32;
        for _ in 0..8 {
            c = if c & 1 != 0 { 0xedb8_8320 ^ (c >> 1) } else { c >> 1 };
        }
    }
    !c
}

/// A zip archive of these files, stored (not compressed).
fn zip(files: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let (mut out, mut central) = (Vec::new(), Vec::new());
    for (name, data) in files {
        let offset = out.len() as u32;
        let (crc, len, n) = (crc32(data), data.len() as u32, name.len() as u16);
        let head = |sig: u32, central: bool| {
            let mut h = sig.to_le_bytes().to_vec();
            if central {
                h.extend(20u16.to_le_bytes());
            }
            for v in [20u16, 0, 0, 0, 0] {
                h.extend(v.to_le_bytes());
            }
            h.extend(crc.to_le_bytes());
            h.extend(len.to_le_bytes());
            h.extend(len.to_le_bytes());
            h.extend(n.to_le_bytes());
            h.extend(0u16.to_le_bytes());
            h
        };
        out.extend(head(0x0403_4b50, false));
        out.extend(name.as_bytes());
        out.extend(data);
        let mut c = head(0x0201_4b50, true);
        // Comment length, disk number, internal attributes, external attributes.
        c.extend([0u8; 6]);
        c.extend(0u32.to_le_bytes());
        c.extend(offset.to_le_bytes());
        c.extend(name.as_bytes());
        central.push(c);
    }
    let (start, count) = (out.len() as u32, central.len() as u16);
    let size: usize = central.iter().map(Vec::len).sum();
    for c in central {
        out.extend(c);
    }
    out.extend(0x0605_4b50u32.to_le_bytes());
    out.extend([0u8; 4]);
    out.extend(count.to_le_bytes());
    out.extend(count.to_le_bytes());
    out.extend((size as u32).to_le_bytes());
    out.extend(start.to_le_bytes());
    out.extend(0u16.to_le_bytes());
    out
}

/// The wheel of a tiny package `kistehello` whose greeting() says `text`.
fn wheel(text: &str) -> Vec<u8> {
    let module = format!("def greeting():\n    return {text:?}\n");
    let meta = "Metadata-Version: 2.1\nName: kistehello\nVersion: 1.0\n";
    let wheel = "Wheel-Version: 1.0\nGenerator: kiste-test\nRoot-Is-Purelib: true\nTag: py3-none-any\n";
    let record = "kistehello.py,,\nkistehello-1.0.dist-info/METADATA,,\nkistehello-1.0.dist-info/WHEEL,,\nkistehello-1.0.dist-info/RECORD,,\n";
    zip(&[
        ("kistehello.py", module.into_bytes()),
        ("kistehello-1.0.dist-info/METADATA", meta.as_bytes().to_vec()),
        ("kistehello-1.0.dist-info/WHEEL", wheel.as_bytes().to_vec()),
        ("kistehello-1.0.dist-info/RECORD", record.as_bytes().to_vec()),
    ])
}

/// A package index on the host (pip's --find-links page and the wheel); returns its port.
fn package_index(whl: Vec<u8>) -> u16 {
    let l = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = l.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let mut s = s;
            let mut buf = [0u8; 4096];
            let n = s.read(&mut buf).unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]);
            let path = req.split_whitespace().nth(1).unwrap_or("/").to_string();
            let (ctype, body) = if path.ends_with(".whl") {
                ("application/octet-stream", whl.clone())
            } else {
                ("text/html", b"<html><body><a href=\"kistehello-1.0-py3-none-any.whl\">kistehello-1.0-py3-none-any.whl</a></body></html>".to_vec())
            };
            let head = format!("HTTP/1.0 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n", body.len());
            let _ = s.write_all(head.as_bytes()).and_then(|_| s.write_all(&body));
        }
    });
    port
}

const PYTHON_APP: &str = "FROM python:3.11-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
ENV FLASK_ENV=production
EXPOSE 5000
CMD [\"python\", \"main.py\"]
";

const MAIN_PY: &str = "import http.server, kistehello
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (kistehello.greeting() + ' ' + __import__('os').environ['FLASK_ENV']).encode()
        self.send_response(200); self.send_header('Content-Length', str(len(body))); self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(('0.0.0.0', 5000), H).serve_forever()
";

fn http_get(port: u16) -> Option<String> {
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(5))).ok()?;
    s.write_all(b"GET / HTTP/1.0\r\n\r\n").ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    Some(out)
}

fn cache_hits(out: &str) -> usize {
    out.lines().filter(|l| l.starts_with("--> Using cache")).count()
}

#[test]
fn the_python_app_builds_serves_and_rebuilds_from_cache() {
    let h = home();
    let index = package_index(wheel("hello from a wheel"));
    let req = format!(
        "--no-index\n--trusted-host host.containers.internal\n--find-links http://host.containers.internal:{index}/\nkistehello\n"
    );
    let ctx = context(&[("Dockerfile", PYTHON_APP), ("requirements.txt", &req), ("main.py", MAIN_PY)]);
    let dir = ctx.display().to_string();
    let out = h.ok(&["build", "-t", "app", &dir]);
    assert!(out.contains("STEP 1/8: FROM python:3.11-slim"), "{out}");
    assert!(out.contains("STEP 4/8: RUN pip install --no-cache-dir -r requirements.txt"), "{out}");
    assert!(out.contains("Successfully installed kistehello"), "pip's output is streamed:\n{out}");
    assert!(out.contains("COMMIT app") && out.contains("Successfully tagged localhost/app:latest"), "{out}");
    let id = out.lines().last().unwrap().to_string();
    assert_eq!(id.len(), 64, "{out}");
    // It serves.
    let port = common::free_port();
    h.ok(&["run", "-d", "--name", "web", "-p", &format!("{port}:5000"), "app"]);
    common::wait_until(30, "the app never answered", || {
        http_get(port).is_some_and(|r| r.contains("hello from a wheel production"))
    });
    h.ok(&["rm", "-f", "web"]);
    // Nothing changed: every step from the cache, the same image.
    let again = h.ok(&["build", "-t", "app", &dir]);
    assert_eq!(cache_hits(&again), 7, "{again}");
    assert_eq!(again.lines().last().unwrap(), id);
    // One source file touched: COPY . . and after run again, pip stays cached.
    std::fs::write(ctx.join("main.py"), format!("{MAIN_PY}\n# changed\n")).unwrap();
    let third = h.ok(&["build", "-t", "app", &dir]);
    assert_eq!(cache_hits(&third), 3, "WORKDIR, COPY requirements.txt and RUN pip are cached:\n{third}");
    assert!(!third.contains("Successfully installed"), "{third}");
    assert_ne!(third.lines().last().unwrap(), id);
    // The build's step containers are gone.
    assert!(h.ok(&["ps", "-a", "--external", "-q"]).trim().is_empty());
}

#[test]
fn instructions_land_in_the_image_config() {
    let h = home();
    let df = r#"# syntax=docker/dockerfile:1
ARG BASE=busybox
FROM ${BASE} AS base
ARG GREETING=hello
ENV WHO=world PATH_EXTRA=/opt/bin
ENV MSG="${GREETING} ${WHO}" UNSET=${NOPE:-fallback} SET=${WHO:+yes}
LABEL org.example.msg="$MSG" version=1
WORKDIR /srv/$WHO
RUN echo "$MSG" > greeting && echo "$GREETING" > arg
USER 1000:1000
EXPOSE 8080/tcp 53/udp
VOLUME ["/data"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --timeout=2s --retries=4 CMD ["true"]
SHELL ["/bin/sh", "-ec"]
ONBUILD RUN echo child
ENTRYPOINT ["/bin/sh", "-c"]
CMD ["cat greeting"]
"#;
    let ctx = context(&[("Dockerfile", df)]);
    let out =
        h.ok(&["build", "--format", "docker", "--build-arg", "GREETING=hi", "-t", "conf", &ctx.display().to_string()]);
    assert!(out.lines().any(|l| l.starts_with("STEP 1/16: FROM")), "{out}");
    let v = h.inspect("conf");
    let c = &v["Config"];
    let env: Vec<&str> = c["Env"].as_array().unwrap().iter().map(|e| e.as_str().unwrap()).collect();
    for want in ["WHO=world", "MSG=hi world", "UNSET=fallback", "SET=yes"] {
        assert!(env.contains(&want), "{want} not in {env:?}");
    }
    assert!(!env.iter().any(|e| e.starts_with("GREETING=")), "ARG values stay out of the image: {env:?}");
    assert_eq!(c["Labels"]["org.example.msg"], "hi world");
    assert_eq!(c["WorkingDir"], "/srv/world");
    assert_eq!(c["User"], "1000:1000");
    assert!(c["ExposedPorts"].get("8080/tcp").is_some() && c["ExposedPorts"].get("53/udp").is_some());
    assert!(c["Volumes"].get("/data").is_some());
    assert_eq!(c["StopSignal"], "SIGINT");
    assert_eq!(c["Entrypoint"], serde_json::json!(["/bin/sh", "-c"]));
    assert_eq!(c["Cmd"], serde_json::json!(["cat greeting"]));
    // RUN saw the ARG and the ENV; the layer holds what it wrote; the default CMD runs.
    assert_eq!(h.ok(&["run", "--rm", "--user", "0", "conf"]).trim(), "hi world");
    assert_eq!(h.ok(&["run", "--rm", "--user", "0", "conf", "cat arg"]).trim(), "hi");
    // history: one entry per step, podman's columns.
    let hist = h.ok(&["history", "--no-trunc", "conf"]);
    assert!(hist.starts_with("ID") && hist.contains("CREATED BY"), "{hist}");
    assert!(hist.lines().nth(1).unwrap().contains("CMD [\"cat greeting\"]"), "newest first:\n{hist}");
    assert!(hist.contains("echo \"$MSG\" > greeting"), "{hist}");
}

#[test]
fn multi_stage_builds_only_what_the_target_needs() {
    let h = home();
    let df = "FROM busybox AS builder
RUN echo built > /artifact
FROM busybox AS broken
RUN exit 9
FROM busybox AS final
COPY --from=builder /artifact /copied
COPY --from=0 /artifact /by-index
FROM final AS debug
RUN echo debug > /debug
";
    let ctx = context(&[("Containerfile", df)]);
    let dir = ctx.display().to_string();
    let out = h.ok(&["build", "--target", "final", "-t", "ms", &dir]);
    assert!(!out.contains("exit 9"), "the broken stage is not needed by final:\n{out}");
    assert_eq!(h.ok(&["run", "--rm", "ms", "cat", "/copied", "/by-index"]), "built\nbuilt\n");
    let (c, err) = h.err(&["build", "--target", "nosuch", &dir]);
    assert_eq!(c, 125);
    assert!(err.contains("nosuch") && err.contains("builder"), "{err}");
}

#[test]
fn dockerignore_exceptions_and_copy_semantics() {
    let h = home();
    let df = "FROM busybox
COPY . /ctx/
COPY sub /into
COPY one.txt /renamed.txt
COPY *.txt /txt/
RUN find /ctx /into /txt /renamed.txt | sort
";
    let ctx = context(&[
        ("Dockerfile", df),
        (".dockerignore", "*.log\n!keep.log\nsecret/\n**/tmp\n"),
        ("one.txt", "1"),
        ("two.txt", "2"),
        ("a.log", "no"),
        ("keep.log", "yes"),
        ("secret/key", "k"),
        ("sub/x", "x"),
        ("sub/tmp", "t"),
    ]);
    let out = h.ok(&["build", "-t", "ign", &ctx.display().to_string()]);
    for want in
        ["/ctx/keep.log", "/ctx/one.txt", "/ctx/sub/x", "/into/x", "/renamed.txt", "/txt/one.txt", "/txt/two.txt"]
    {
        assert!(out.lines().any(|l| l == want), "{want} missing:\n{out}");
    }
    for gone in ["/ctx/a.log", "/ctx/secret", "/ctx/sub/tmp", "/into/tmp"] {
        assert!(!out.lines().any(|l| l == gone), "{gone} should be ignored:\n{out}");
    }
    let ctx2 = context(&[("Dockerfile", "FROM busybox\nCOPY ../etc/passwd /x\n")]);
    let (c, err) = h.err(&["build", &ctx2.display().to_string()]);
    assert_eq!(c, 125);
    assert!(err.contains("outside the build context"), "{err}");
}

#[test]
fn a_failing_run_names_its_step_and_leaves_nothing() {
    let h = home();
    let ctx = context(&[("Dockerfile", "FROM busybox\nRUN echo visible-output; exit 7\n")]);
    let o = h.kiste(&["build", "-t", "fails", &ctx.display().to_string()]);
    assert_eq!(code(&o), 7, "podman reports the RUN's status:\n{}", stderr(&o));
    assert!(stdout(&o).contains("visible-output"));
    assert!(
        stderr(&o).contains("error building at STEP \"RUN echo visible-output; exit 7\": exit status 7"),
        "{}",
        stderr(&o)
    );
    assert_eq!(h.kiste(&["image", "exists", "fails"]).status.code(), Some(1), "no tagged half image");
    assert!(h.ok(&["ps", "-a", "--external", "-q"]).trim().is_empty(), "no leftover container");
    let bad = context(&[("Dockerfile", "FROM busybox\nRUNN true\n")]);
    let (c, err) = h.err(&["build", &bad.display().to_string()]);
    assert_eq!(c, 125);
    assert!(err.contains("Dockerfile:2") && err.contains("RUNN"), "{err}");
}

#[test]
fn a_killed_build_leaves_a_usable_store() {
    let h = home();
    let ctx = context(&[("Dockerfile", "FROM busybox\nRUN sleep 37\n")]);
    let dir = ctx.display().to_string();
    let mut child = h.command(&["build", "-t", "killed", &dir]).stdout(std::process::Stdio::null()).spawn().unwrap();
    // Wait until the RUN step runs, then kill the build outright.
    common::wait_until(60, "the RUN step never started", || {
        h.ok(&["ps", "-a", "--external", "-q"]).lines().count() == 1
    });
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(h.kiste(&["image", "exists", "killed"]).status.code(), Some(1));
    let ctx2 = context(&[("Dockerfile", "FROM busybox\nRUN echo fine\n")]);
    let out = h.ok(&["build", "-t", "next", &ctx2.display().to_string()]);
    assert!(out.contains("fine"), "{out}");
    // The next build swept the killed one's step container (and stopped its process).
    common::wait_until(20, "the killed build's step container stayed", || {
        h.ok(&["ps", "-a", "--external", "-q"]).trim().is_empty()
    });
    // Its processes end with it (SIGKILL to PID 1 takes its PID namespace down).
    let running = || -> Vec<String> {
        let out = std::process::Command::new("pgrep").args(["-f", "sleep 37"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(|p| p.trim().to_string())
            .filter(|p| std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| !s.contains(") Z ")))
            .collect()
    };
    common::wait_until(10, "the killed build's RUN process still runs", || running().is_empty());
}

#[test]
fn timestamps_make_builds_reproducible_across_stores() {
    let ctx = context(&[("Dockerfile", "FROM busybox\nCOPY f /f\nRUN echo x > /made\nENV A=1\n"), ("f", "content")]);
    let dir = ctx.display().to_string();
    let ids: Vec<String> = (0..2)
        .map(|_| {
            let h = home();
            let out = h.ok(&["build", "--timestamp", "1700000000", "-t", "repro", &dir]);
            out.lines().last().unwrap().to_string()
        })
        .collect();
    assert_eq!(ids[0], ids[1], "two empty stores, one Dockerfile and context, one --timestamp");
}

#[test]
fn heredocs_cache_mounts_secrets_and_stdin() {
    let h = home();
    let df = "FROM busybox
RUN <<EOF
echo heredoc-line-1 > /h
echo heredoc-line-2 >> /h
EOF
COPY <<EOF /conf.txt
from a heredoc
EOF
RUN --mount=type=cache,target=/cache echo cached >> /cache/log && cat /cache/log | wc -l > /count
RUN --mount=type=secret,id=tok cat /run/secrets/tok > /tok-copy
";
    let ctx = context(&[("Dockerfile", df)]);
    let secret = ctx.join("secret.txt");
    std::fs::write(&secret, "s3cret").unwrap();
    chown_tree(&ctx);
    let sec = format!("id=tok,src={}", secret.display());
    h.ok(&["build", "--secret", &sec, "-t", "here", &ctx.display().to_string()]);
    assert_eq!(
        h.ok(&["run", "--rm", "here", "cat", "/h", "/conf.txt", "/tok-copy"]),
        "heredoc-line-1\nheredoc-line-2\nfrom a heredoc\ns3cret"
    );
    // The secret's mount point is not in the image.
    assert_eq!(code(&h.kiste(&["run", "--rm", "here", "sh", "-c", "test -e /run/secrets/tok"])), 1);
    // The cache mount persists between builds (no layer cache: the step runs again).
    h.ok(&["build", "--no-cache", "--secret", &sec, "-t", "here", &ctx.display().to_string()]);
    assert_eq!(h.ok(&["run", "--rm", "here", "cat", "/count"]).trim(), "2");
    // A Dockerfile on stdin.
    let o = h.with_stdin(
        &["build", "-f", "-", "-t", "fromstdin", &ctx.display().to_string()],
        "FROM busybox\nRUN echo stdin-df\n",
    );
    assert!(stdout(&o).contains("stdin-df"), "{}", stderr(&o));
}

#[test]
fn run_steps_reach_a_server_on_the_host() {
    let h = home();
    let l = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut buf = [0u8; 1024];
        let _ = s.read(&mut buf);
        let body = "from-the-host\n";
        let reply = format!("HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}", body.len());
        s.write_all(reply.as_bytes()).unwrap();
    });
    // busybox-static's name lookups can crash: the address comes from /etc/hosts by awk.
    let df = format!(
        "FROM busybox\nRUN wget -q -O /got http://$(awk '/host.containers.internal/{{print $1}}' /etc/hosts):{port}/\n"
    );
    let ctx = context(&[("Dockerfile", &df)]);
    h.ok(&["build", "-t", "net", &ctx.display().to_string()]);
    server.join().unwrap();
    assert_eq!(h.ok(&["run", "--rm", "net", "cat", "/got"]).trim(), "from-the-host");
}

#[test]
fn squash_merges_the_new_layers_into_one() {
    let h = home();
    let df = "FROM busybox\nRUN echo a > /a && echo keep > /k\nRUN rm /a && echo b > /b\nRUN rm /bin/echo\n";
    let ctx = context(&[("Dockerfile", df)]);
    h.ok(&["build", "--squash", "-t", "sq", &ctx.display().to_string()]);
    let base = h.inspect("busybox")["RootFS"]["Layers"].as_array().map(Vec::len).unwrap_or(0);
    let layers = h.inspect("sq")["RootFS"]["Layers"].as_array().unwrap().len();
    assert_eq!(layers, base + 1, "the three RUN layers became one");
    assert_eq!(h.ok(&["run", "--rm", "sq", "cat", "/k", "/b"]), "keep\nb\n");
    assert_eq!(code(&h.kiste(&["run", "--rm", "sq", "sh", "-c", "test -e /a || test -e /bin/echo"])), 1);
}
