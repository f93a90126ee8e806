//! Issue #4: rootless networking — the built-in stack (the default, issue #17), pasta and
//! slirp4netns per container, published TCP/UDP ports reached from the host, -P with EXPOSE,
//! the container's view of its network, the errors a user can cause, and exact cleanup of
//! helpers and ports; user-defined networks (names and aliases by DNS, isolation, --internal,
//! the network commands) and `--network container:NAME`. Issue #17: the built-in stack's
//! outbound TCP, DNS forwarder, ICMP, clients' addresses on published ports, its sandbox.

mod common;

use common::images;
use common::{Registry, TestHome, code, free_port, stdout, wait_until};
use std::io::{Read, Write};
use std::time::Duration;

/// A registry with the net image (busybox, bash, getent, socat; EXPOSE 80/tcp 53/udp), pulled.
fn setup() -> (Registry, TestHome, String) {
    common::pulled("net", images::net)
}

/// busybox httpd serving "hello from NAME" on port 80.
fn httpd(name: &str) -> String {
    format!("mkdir -p /w && echo hello from {name} > /w/index.html && exec httpd -f -p 80 -h /w")
}

/// GET / from addr:port, retried until the server answers (it starts a moment after run -d).
fn fetch(addr: &str, port: u16) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        match std::net::TcpStream::connect((addr, port)) {
            Ok(mut s) => {
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let _ = s.write_all(b"GET / HTTP/1.0\r\nHost: x\r\n\r\n");
                let mut body = String::new();
                let _ = s.read_to_string(&mut body);
                if body.starts_with("HTTP/1.") {
                    return body;
                }
                last = format!("answer {body:?}");
            }
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no HTTP answer from {addr}:{port}: {last}");
}

/// The host's address on the interface of its default route.
fn host_address() -> String {
    let route = std::fs::read_to_string("/proc/net/route").unwrap();
    let iface = route
        .lines()
        .skip(1)
        .find(|l| l.split_whitespace().nth(1) == Some("00000000"))
        .and_then(|l| l.split_whitespace().next())
        .expect("the host has no default route")
        .to_string();
    let out = std::process::Command::new("ip").args(["-4", "-o", "addr", "show", "dev", &iface]).output().unwrap();
    let text = stdout(&out);
    let cidr = text.split_whitespace().skip_while(|w| *w != "inet").nth(1).expect("no IPv4 address").to_string();
    cidr.split('/').next().unwrap().to_string()
}

/// The live network helpers of this home's containers (zombies do not count), the namespace
/// holder of user-defined networks included: pasta names
/// its PID file in the container's directory, slirp4netns runs there, the built-in stack
/// (`kiste __netstack DIR`) names the directory.
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
        // The namespace holder of user-defined networks and the built-in stack run as kiste.
        if rest.split_whitespace().next() == Some("Z")
            || !(["pasta", "passt", "slirp4netns"].iter().any(|n| comm.starts_with(n))
                || cmdline.contains("__network-ns")
                || cmdline.contains("__netstack"))
        {
            continue;
        }
        let cwd = std::fs::read_link(p.join("cwd")).map(|c| c.display().to_string()).unwrap_or_default();
        if cmdline.contains(&root) || cwd.starts_with(&root) {
            found.push(format!("{comm} {}", cmdline.replace('\0', " ")));
        }
    }
    found
}

/// A server on the host's loopback that returns what its first client sends.
fn host_listener() -> (u16, std::thread::JoinHandle<String>) {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        let (mut s, _) = l.accept().unwrap();
        let mut got = String::new();
        s.read_to_string(&mut got).unwrap();
        got
    });
    (port, server)
}

/// Whether a TCP port can be bound on the host (nothing holds it).
fn port_free(port: u16) -> bool {
    std::net::TcpListener::bind(("0.0.0.0", port)).is_ok()
}

#[test]
fn published_port_reaches_httpd_on_loopback_and_the_hosts_address_and_rm_frees_it() {
    let (_reg, h, img) = setup();
    let port = free_port();
    h.ok(&["run", "-d", "--name", "web", "-p", &format!("{port}:80"), &img, "sh", "-c", &httpd("web")]);
    assert!(fetch("127.0.0.1", port).contains("hello from web"));
    assert!(fetch(&host_address(), port).contains("hello from web"));
    // What kiste says about it.
    let ps = h.ok(&["ps"]);
    assert!(ps.contains(&format!("0.0.0.0:{port}->80/tcp")), "{ps}");
    assert_eq!(h.ok(&["port", "web"]), format!("80/tcp -> 0.0.0.0:{port}\n"));
    assert_eq!(h.ok(&["port", "web", "80"]), format!("0.0.0.0:{port}\n"));
    let v: serde_json::Value = serde_json::from_str(&h.ok(&["inspect", "web"])).unwrap();
    let ns = &v[0]["NetworkSettings"];
    assert_eq!(ns["Ports"]["80/tcp"][0]["HostPort"], port.to_string(), "{ns}");
    assert_eq!(ns["IPAddress"], "10.0.2.100", "the built-in network's address: {ns}");
    assert_eq!(v[0]["HostConfig"]["NetworkMode"], "slirp", "the default network: {}", v[0]["HostConfig"]);
    assert_eq!(h.ps_all()[0]["Ports"][0]["host_port"], port);
    assert_eq!(helpers(&h).len(), 1, "one helper for the container: {:?}", helpers(&h));
    // The helper's PID file is run-time state: under XDG_RUNTIME_DIR, not with the bundle.
    let id = v[0]["Id"].as_str().unwrap().to_string();
    let run = h.runtime().join("kiste/containers").join(&id);
    assert!(run.join("net.pid").is_file(), "no net.pid in {}", run.display());
    assert!(!h.data().join("containers").join(&id).join("net.pid").exists());
    // stop frees the port at once; start publishes it again; rm -f frees it.
    h.ok(&["stop", "-t", "0", "web"]);
    assert!(port_free(port), "port {port} still held after stop");
    assert!(helpers(&h).is_empty(), "{:?}", helpers(&h));
    h.ok(&["start", "web"]);
    assert!(fetch("127.0.0.1", port).contains("hello from web"));
    h.ok(&["rm", "-f", "web"]);
    assert!(port_free(port), "port {port} still held after rm -f");
    assert!(helpers(&h).is_empty(), "{:?}", helpers(&h));
    assert!(!run.exists(), "rm left {}", run.display());
}

/// Sends datagrams to addr:port until one comes back; returns it.
fn udp_echo(addr: &str, port: u16) -> Option<Vec<u8>> {
    let sock = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let mut buf = [0u8; 64];
    for _ in 0..50 {
        sock.send_to(b"ping", (addr, port)).unwrap();
        if let Ok((n, _)) = sock.recv_from(&mut buf) {
            return Some(buf[..n].to_vec());
        }
    }
    None
}

#[test]
fn udp_echo_through_a_published_udp_port() {
    let (_reg, h, img) = setup();
    // The built-in stack, then pasta through the host's address (Debian 12's pasta loses UDP
    // replies on its loopback path; slirp4netns answers there).
    let port = free_port();
    h.ok(&["run", "-d", "-p", &format!("{port}:53/udp"), &img, "socat", "UDP-RECVFROM:53,fork", "EXEC:cat"]);
    assert_eq!(udp_echo("127.0.0.1", port).as_deref(), Some(&b"ping"[..]), "no UDP echo through the built-in stack");
    assert_eq!(
        udp_echo(&host_address(), port).as_deref(),
        Some(&b"ping"[..]),
        "no UDP echo through the built-in stack"
    );
    let port = free_port();
    let args =
        ["run", "-d", "--network", "pasta", "-p", &format!("{port}:53/udp"), &img, "socat", "UDP-RECVFROM:53,fork"];
    h.ok(&[&args[..], &["EXEC:cat"]].concat());
    assert_eq!(udp_echo(&host_address(), port).as_deref(), Some(&b"ping"[..]), "no UDP echo through pasta");
    let port = free_port();
    h.ok(&[
        "run",
        "-d",
        "--network",
        "slirp4netns",
        "-p",
        &format!("{port}:53/udp"),
        &img,
        "socat",
        "UDP-RECVFROM:53,fork",
        "EXEC:cat",
    ]);
    assert_eq!(udp_echo("127.0.0.1", port).as_deref(), Some(&b"ping"[..]), "no UDP echo through slirp4netns");
    h.ok(&["rm", "-f", "-a"]);
    assert!(helpers(&h).is_empty(), "{:?}", helpers(&h));
}

#[test]
fn publish_all_maps_every_exposed_port_to_a_free_host_port() {
    let (_reg, h, img) = setup();
    h.ok(&["create", "--name", "all", "-P", "--expose", "8080", &img, "true"]);
    let out = h.ok(&["port", "all"]);
    let mut lines: Vec<(String, u16)> = out
        .lines()
        .map(|l| {
            let (ctr, host) = l.split_once(" -> ").unwrap();
            (ctr.to_string(), host.rsplit(':').next().unwrap().parse().unwrap())
        })
        .collect();
    lines.sort();
    let ctr: Vec<&str> = lines.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(ctr, ["53/udp", "80/tcp", "8080/tcp"], "{out}");
    assert!(lines.iter().all(|(_, p)| *p >= 1024), "{out}");
    // Without -P, exposed ports are not published.
    h.ok(&["create", "--name", "none", &img, "true"]);
    assert_eq!(h.ok(&["port", "none"]), "");
}

#[test]
fn slirp4netns_gives_its_own_address_and_publishes_ports() {
    let (_reg, h, img) = setup();
    let port = free_port();
    let addr =
        h.ok(&["run", "--rm", "--network", "slirp4netns", &img, "busybox", "ip", "-4", "-o", "addr", "show", "tap0"]);
    assert!(addr.contains("10.0.2.100/24"), "{addr}");
    h.ok(&[
        "run",
        "-d",
        "--name",
        "s",
        "--network",
        "slirp4netns",
        "-p",
        &format!("{port}:80"),
        &img,
        "sh",
        "-c",
        &httpd("slirp"),
    ]);
    assert!(fetch("127.0.0.1", port).contains("hello from slirp"));
    assert_eq!(h.ok(&["inspect", "--format", "{{.NetworkSettings.IPAddress}}", "s"]).trim(), "10.0.2.100");
    h.ok(&["rm", "-f", "s"]);
    assert!(port_free(port));
    assert!(helpers(&h).is_empty(), "{:?}", helpers(&h));
}

#[test]
fn the_container_reaches_the_host_by_name_and_sees_the_hosts_resolvers() {
    let (_reg, h, img) = setup();
    // A server on the host's loopback: host.containers.internal leads there, with either helper.
    for mode in ["pasta", "slirp4netns"] {
        let (port, server) = host_listener();
        let script = format!("echo hi from {mode} > /dev/tcp/host.containers.internal/{port}");
        let o = h.kiste(&["run", "--rm", "--network", mode, &img, "bash", "-c", &script]);
        assert_eq!(code(&o), 0, "{o:?}");
        assert_eq!(server.join().unwrap(), format!("hi from {mode}\n"));
    }
    // The host's resolvers (none on its loopback), and the names kiste adds.
    let host_ns: Vec<String> = std::fs::read_to_string("/etc/resolv.conf")
        .unwrap()
        .lines()
        .filter(|l| l.starts_with("nameserver") && !l.contains(" 127."))
        .map(String::from)
        .collect();
    let resolv = h.ok(&["run", "--rm", &img, "cat", "/etc/resolv.conf"]);
    if host_ns.is_empty() {
        // Only resolvers on the host's loopback: the built-in stack's DNS forwarder stands in.
        assert_eq!(resolv.lines().filter(|l| l.starts_with("nameserver")).collect::<Vec<_>>(), ["nameserver 10.0.2.3"]);
    }
    for ns in &host_ns {
        assert!(resolv.contains(ns.as_str()), "{ns} missing in {resolv}");
    }
    let o = h.ok(&[
        "run",
        "--rm",
        "--hostname",
        "box",
        "--add-host",
        "db.example:10.9.8.7",
        "--dns",
        "10.1.1.1",
        "--dns-search",
        "example.org",
        &img,
        "sh",
        "-c",
        "getent hosts db.example box host.containers.internal; cat /etc/resolv.conf",
    ]);
    assert!(o.contains("10.9.8.7") && o.contains("db.example"), "{o}");
    assert!(o.lines().any(|l| l.starts_with("10.0.2.100") && l.contains("box")), "{o}");
    assert!(o.contains("host.containers.internal"), "{o}");
    assert!(o.contains("nameserver 10.1.1.1") && o.contains("search example.org"), "{o}");
    // --no-hosts keeps the image's (here: none) /etc/hosts.
    let o = h.kiste(&["run", "--rm", "--no-hosts", &img, "cat", "/etc/hosts"]);
    assert_eq!((code(&o), stdout(&o)), (0, String::new()), "{o:?}");
}

#[test]
fn network_none_has_only_loopback_and_host_sees_the_hosts_interfaces() {
    let (_reg, h, img) = setup();
    let names = |text: &str| -> Vec<String> {
        let mut v: Vec<String> = text
            .lines()
            .filter_map(|l| l.split(':').nth(1).map(|n| n.trim().split('@').next().unwrap().to_string()))
            .collect();
        v.sort();
        v
    };
    let none = h.ok(&["run", "--rm", "--network", "none", &img, "busybox", "ip", "-o", "link"]);
    assert_eq!(names(&none), ["lo"], "{none}");
    let host = h.ok(&["run", "--rm", "--network", "host", &img, "busybox", "ip", "-o", "link"]);
    let ours = stdout(&std::process::Command::new("ip").args(["-o", "link"]).output().unwrap());
    assert_eq!(names(&host), names(&ours));
    let default = h.ok(&["run", "--rm", &img, "busybox", "ip", "-o", "link"]);
    assert_eq!(names(&default), ["eth0", "lo"], "lo and the built-in network's device: {default}");
    let pasta = h.ok(&["run", "--rm", "--network", "pasta", &img, "busybox", "ip", "-o", "link"]);
    assert_eq!(names(&pasta).len(), 2, "lo and the pasta interface: {pasta}");
    assert_eq!(h.ps_all().len(), 0);
}

#[test]
fn ports_that_cannot_be_published_fail_clearly_and_leave_nothing() {
    let (_reg, h, img) = setup();
    let taken = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let (c, err) = h.err(&["run", "-d", "--name", "x", "-p", &format!("{port}:80"), &img, "true"]);
    assert_eq!(c, 125, "{err}");
    assert!(err.contains(&port.to_string()) && err.contains("already in use"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let start: u16 =
        std::fs::read_to_string("/proc/sys/net/ipv4/ip_unprivileged_port_start").unwrap().trim().parse().unwrap();
    assert!(start > 80, "this test needs the usual unprivileged port start (1024), not {start}");
    let (c, err) = h.err(&["run", "-p", "80:80", &img, "true"]);
    assert_eq!(c, 125, "{err}");
    assert!(err.contains("80") && err.contains("net.ipv4.ip_unprivileged_port_start"), "{err}");
    for bad in ["abc", "8080:80/sctp", "70000:80"] {
        let (c, err) = h.err(&["run", "-p", bad, &img, "true"]);
        assert_eq!(c, 125, "{bad}: {err}");
        assert!(err.contains(bad), "{err}");
    }
    let (c, err) = h.err(&["run", "--network", "nosuchnet", &img, "true"]);
    assert_eq!(c, 125, "{err}");
    assert!(err.contains("nosuchnet"), "{err}");
    // As Podman: ports with --network none are discarded with its warning; the run goes on.
    let o = h.kiste(&["run", "--rm", "--network", "none", "-p", "8080:80", &img, "true"]);
    let err = common::stderr(&o);
    assert!(o.status.success() && err.contains("Port mappings have been discarded"), "{err}");
    assert_eq!(h.ps_all(), Vec::<serde_json::Value>::new());
    assert!(helpers(&h).is_empty());
    // A port taken between create and start: start fails, nothing runs, the port stays free
    // for its owner.
    let later = free_port();
    h.ok(&["create", "--name", "late", "-p", &format!("{later}:80"), &img, "true"]);
    let squatter = std::net::TcpListener::bind(("0.0.0.0", later)).unwrap();
    let (c, err) = h.err(&["start", "late"]);
    assert_eq!(c, 125, "{err}");
    assert!(err.contains("already in use"), "{err}");
    assert!(helpers(&h).is_empty(), "{:?}", helpers(&h));
    drop(squatter);
    h.ok(&["rm", "late"]);
    // A command that cannot run, after the built-in stack was started, bound the port and got
    // PID 1's device: the stack goes with PID 1 and the port is free again.
    let port = free_port();
    let (c, err) = h.err(&["run", "--rm", "-p", &format!("{port}:80"), &img, "no-such-command"]);
    assert_eq!(c, 127, "{err}");
    assert!(helpers(&h).is_empty(), "{:?}", helpers(&h));
    assert!(port_free(port), "port {port} still bound after a start that failed");
    drop(taken);
}

#[test]
fn killed_containers_and_monitors_leave_no_helper_or_port() {
    let (_reg, h, img) = setup();
    let port = free_port();
    let id = h.ok(&["run", "-d", "-p", &format!("{port}:80"), &img, "sh", "-c", &httpd("k")]).trim().to_string();
    fetch("127.0.0.1", port);
    let pid = h.ps_all()[0]["Pid"].as_i64().unwrap() as i32;
    // SIGKILL to the container's PID 1: its monitor sees it end and stops the helper.
    unsafe { libc::kill(pid, libc::SIGKILL) };
    wait_until(10, "the record never read exited", || h.ps_all()[0]["State"] == "exited");
    assert!(port_free(port));
    assert!(helpers(&h).is_empty(), "{:?}", helpers(&h));
    h.ok(&["rm", &id]);
    // SIGKILL to the monitor: the next command that reads the record stops the container and
    // its helper.
    let id = h.ok(&["run", "-d", "-p", &format!("{port}:80"), &img, "sh", "-c", &httpd("m")]).trim().to_string();
    fetch("127.0.0.1", port);
    let v: serde_json::Value = serde_json::from_str(&h.ok(&["inspect", &id])).unwrap();
    let monitor_pid = v[0]["State"]["ConmonPid"].as_i64().unwrap() as i32;
    assert!(monitor_pid > 0);
    unsafe { libc::kill(monitor_pid, libc::SIGKILL) };
    assert_eq!(h.ps_all()[0]["State"], "exited");
    assert!(port_free(port), "port {port} still held after ps saw the monitor gone");
    assert!(helpers(&h).is_empty(), "{:?}", helpers(&h));
    h.ok(&["rm", "-f", "-a"]);
    let left: Vec<_> =
        std::fs::read_dir(h.data().join("containers")).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "container files left: {left:?}");
}

/// A bash script that GETs / from NAME:80 through /dev/tcp (a dynamically linked client: the
/// static busybox crashes on name lookups).
fn get_script(name: &str) -> String {
    format!("exec 3<>/dev/tcp/{name}/80 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3 && cat <&3")
}

/// Waits until `ctr` can GET / from `name` and returns the answer.
fn get_from(h: &TestHome, ctr: &str, name: &str) -> String {
    let mut last = String::new();
    wait_until(15, &format!("{ctr} never reached {name}"), || {
        let o = h.kiste(&["exec", ctr, "bash", "-c", &get_script(name)]);
        last = stdout(&o);
        last.contains("hello from")
    });
    last
}

/// The address `inspect` shows for the container on `net`.
fn ip_on(h: &TestHome, ctr: &str, net: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(&h.ok(&["inspect", ctr])).unwrap();
    v[0]["NetworkSettings"]["Networks"][net]["IPAddress"].as_str().unwrap_or_default().to_string()
}

/// No holder, outward helper or holder socket is left once the last container is gone.
fn assert_holder_gone(h: &TestHome) {
    wait_until(15, "the network namespace holder or its helper stayed", || helpers(h).is_empty());
    let ctl = h.runtime().join("kiste/netns/ctl.sock");
    assert!(!ctl.exists(), "{} left", ctl.display());
}

#[test]
fn containers_on_a_network_reach_each_other_by_name_and_alias() {
    let (_reg, h, img) = setup();
    assert_eq!(h.ok(&["network", "create", "front"]).trim(), "front");
    // The client first: a container started later must become resolvable for it.
    h.ok(&["run", "-d", "--name", "client", "--network", "front", &img, "sleep", "600"]);
    h.ok(&[
        "run",
        "-d",
        "--name",
        "web",
        "--network",
        "front",
        "--network-alias",
        "www",
        &img,
        "sh",
        "-c",
        &httpd("web"),
    ]);
    let ip = ip_on(&h, "web", "front");
    assert!(ip.starts_with("10.89."), "web's address on front: {ip:?}");
    // The holder and its built-in stack outward are seen while containers use them (so "gone"
    // below means gone).
    let running = helpers(&h);
    assert!(
        running.iter().any(|p| p.contains("__network-ns")) && running.iter().any(|p| p.contains("__netstack")),
        "{running:?}"
    );
    for name in ["web", "www", ip.as_str()] {
        assert!(get_from(&h, "client", name).contains("hello from web"));
    }
    let o = h.ok(&["exec", "client", "getent", "hosts", "web"]);
    assert_eq!(o.split_whitespace().next(), Some(ip.as_str()), "{o}");
    // The container's own /etc/hosts names it with its address; its resolver is the network's.
    let hosts = h.ok(&["exec", "web", "cat", "/etc/hosts", "/etc/resolv.conf"]);
    assert!(hosts.lines().any(|l| l.starts_with(&format!("{ip}\t")) && l.contains("web")), "{hosts}");
    let gateway = format!("nameserver {}", ip.rsplit_once('.').unwrap().0.to_string() + ".1");
    assert!(hosts.contains(&gateway), "{hosts}");
    // Names outside the network still resolve through the host's resolvers (not asserted:
    // this machine may have none); a removed container stops resolving.
    h.ok(&["rm", "-f", "web"]);
    let o = h.kiste(&["exec", "client", "getent", "hosts", "web"]);
    assert_eq!(code(&o), 2, "web still resolves after rm: {o:?}");
    // SIGKILL of the last member's PID 1: the holder sees it end and goes, with its stack.
    let pid = h.ps_all()[0]["Pid"].as_i64().unwrap() as i32;
    assert!(pid > 0);
    unsafe { libc::kill(pid, libc::SIGKILL) };
    assert_holder_gone(&h);
    h.ok(&["rm", "-f", "-a"]);
}

#[test]
fn networks_are_isolated_and_internal_ones_have_no_way_out() {
    let (_reg, h, img) = setup();
    for args in
        [&["network", "create", "a"][..], &["network", "create", "b"], &["network", "create", "--internal", "sealed"]]
    {
        h.ok(args);
    }
    h.ok(&["run", "-d", "--name", "web", "--network", "a", &img, "sh", "-c", &httpd("a")]);
    h.ok(&["run", "-d", "--name", "peer", "--network", "a", &img, "sleep", "600"]);
    h.ok(&["run", "-d", "--name", "other", "--network", "b", &img, "sleep", "600"]);
    h.ok(&["run", "-d", "--name", "inside", "--network", "sealed", &img, "sleep", "600"]);
    let ip = ip_on(&h, "web", "a");
    // Reachable on its own network (so the failures below are the isolation's).
    get_from(&h, "peer", &ip);
    for ctr in ["other", "inside"] {
        let o = h.kiste(&["exec", ctr, "busybox", "timeout", "3", "bash", "-c", &get_script(&ip)]);
        assert_ne!(code(&o), 0, "{ctr} reached web on another network: {o:?}");
        assert!(!stdout(&o).contains("hello"), "{o:?}");
        let o = h.kiste(&["exec", ctr, "getent", "hosts", "web"]);
        assert_eq!(code(&o), 2, "{ctr} resolves a container of another network: {o:?}");
    }
    // The way out: a server on the host's loopback through host.containers.internal.
    let (port, server) = host_listener();
    let script = format!("echo out from a > /dev/tcp/host.containers.internal/{port}");
    let o = h.kiste(&["exec", "peer", "bash", "-c", &script]);
    assert_eq!(code(&o), 0, "{o:?}");
    assert_eq!(server.join().unwrap(), "out from a\n");
    // An internal network has no route out, not even to the host's address.
    let o = h.kiste(&["exec", "inside", "busybox", "ip", "route"]);
    assert!(!stdout(&o).contains("default"), "{o:?}");
    let script = format!("echo x > /dev/tcp/{}/{port}", host_address());
    let o = h.kiste(&["exec", "inside", "busybox", "timeout", "3", "bash", "-c", &script]);
    assert_ne!(code(&o), 0, "{o:?}");
    h.ok(&["rm", "-f", "-a"]);
    assert_holder_gone(&h);
}

#[test]
fn network_commands_and_their_errors() {
    let (_reg, h, img) = setup();
    let o = h.ok(&[
        "network",
        "create",
        "--subnet",
        "10.123.4.0/24",
        "--gateway",
        "10.123.4.254",
        "--label",
        "team=x",
        "lab",
    ]);
    assert_eq!(o.trim(), "lab");
    let v: serde_json::Value = serde_json::from_str(&h.ok(&["network", "inspect", "lab"])).unwrap();
    assert_eq!(v[0]["name"], "lab");
    assert_eq!(v[0]["driver"], "bridge");
    assert_eq!(v[0]["subnets"][0]["subnet"], "10.123.4.0/24");
    assert_eq!(v[0]["subnets"][0]["gateway"], "10.123.4.254");
    assert_eq!(v[0]["labels"]["team"], "x");
    assert_eq!(v[0]["internal"], false);
    let id = v[0]["id"].as_str().unwrap().to_string();
    let ls = h.ok(&["network", "ls"]);
    assert!(ls.starts_with("NETWORK ID") && ls.contains(&id[..12]) && ls.contains("lab"), "{ls}");
    assert_eq!(h.ok(&["network", "ls", "-q", "--filter", "label=team=x"]).trim(), &id[..12]);
    assert!(h.ok(&["network", "ls", "-q", "--filter", "name=zzz"]).trim().is_empty());
    assert_eq!(code(&h.kiste(&["network", "exists", "lab"])), 0);
    assert_eq!(code(&h.kiste(&["network", "exists", "nope"])), 1);
    // Errors: one line, 125, nothing made.
    for (args, want) in [
        (&["network", "create", "lab"][..], "already used"),
        (&["network", "create", "--subnet", "10.123.4.128/25", "x1"], "overlaps"),
        (&["network", "create", "--subnet", "10.1.2.3", "x2"], "invalid subnet"),
        (&["network", "create", "--subnet", "10.9.9.0/24", "--gateway", "10.9.8.1", "x3"], "not a host address"),
        (&["network", "create", "host"], "reserved"),
        (&["network", "rm", "podman"], "default network podman cannot be removed"),
        (&["network", "inspect", "nope"], "not found"),
        (&["run", "--rm", "--network", "nope", &img, "true"], "network nope not found"),
        (&["run", "--rm", "--network", "lab", "--ip", "10.9.9.9", &img, "true"], "not a host address"),
        (&["run", "--rm", "--ip", "10.123.4.9", &img, "true"], "need a user-defined network"),
        (&["run", "--rm", "--network", "lab", "-p", "8080:80/sctp", &img, "true"], "must be tcp or udp"),
    ] {
        let (c, e) = h.err(args);
        assert_eq!(c, 125, "{args:?}: {e}");
        assert!(e.contains(want) && e.trim().lines().count() == 1, "{args:?}: {e}");
    }
    // Podman's default network is always there; --network bridge means it.
    // (sorted by name: lab, podman)
    assert_eq!(h.ok(&["network", "ls", "-q"]).lines().collect::<Vec<_>>(), [&id[..12], "2f259bab93aa"]);
    let addrs = h.ok(&["run", "--rm", "--network", "bridge", &img, "busybox", "ip", "-o", "-4", "addr"]);
    assert!(addrs.contains("inet 10.88."), "{addrs}");
    // rm -f of the default network touches none of its containers.
    h.ok(&["run", "-d", "--name", "ondefault", "--network", "podman", &img, "sleep", "600"]);
    let (c, e) = h.err(&["network", "rm", "-f", "podman"]);
    assert!(c == 125 && e.contains("cannot be removed"), "{c} {e}");
    assert_eq!(h.ok(&["inspect", "--format", "{{.State.Status}}", "ondefault"]).trim(), "running");
    h.ok(&["rm", "-f", "-t", "0", "ondefault"]);
    assert!(h.ps_all().is_empty());
    // A fixed address, and one taken twice.
    h.ok(&["run", "-d", "--name", "fixed", "--network", "lab", "--ip", "10.123.4.7", &img, "sleep", "600"]);
    assert_eq!(ip_on(&h, "fixed", "lab"), "10.123.4.7");
    let (c, e) =
        h.err(&["run", "-d", "--name", "twin", "--network", "lab", "--ip", "10.123.4.7", &img, "sleep", "600"]);
    assert_eq!(c, 125, "{e}");
    assert!(e.contains("10.123.4.7 is already in use"), "{e}");
    h.ok(&["rm", "-f", "twin"]);
    // connect / disconnect a running container.
    h.ok(&["network", "create", "lab2"]);
    h.ok(&["network", "connect", "--alias", "second", "lab2", "fixed"]);
    let addrs = h.ok(&["exec", "fixed", "busybox", "ip", "-o", "-4", "addr"]);
    assert!(addrs.contains("eth1") && addrs.contains("10.89."), "{addrs}");
    h.ok(&["run", "-d", "--name", "probe", "--network", "lab2", &img, "sleep", "600"]);
    let o = h.ok(&["exec", "probe", "getent", "hosts", "second"]);
    assert!(o.starts_with("10.89."), "{o}");
    let (c, e) = h.err(&["network", "connect", "lab2", "fixed"]);
    assert!(c == 125 && e.contains("already connected"), "{e}");
    h.ok(&["network", "disconnect", "lab2", "fixed"]);
    let addrs = h.ok(&["exec", "fixed", "busybox", "ip", "-o", "-4", "addr"]);
    assert!(!addrs.contains("eth1"), "{addrs}");
    let o = h.kiste(&["exec", "probe", "getent", "hosts", "second"]);
    assert_eq!(code(&o), 2, "{o:?}");
    // rm refuses a network in use, -f removes its containers; prune removes unused ones.
    let (c, e) = h.err(&["network", "rm", "lab"]);
    assert!(c == 125 && e.contains("used by") && e.contains("fixed"), "{e}");
    assert_eq!(h.ok(&["network", "rm", "-f", "lab"]).trim(), "lab");
    assert!(h.ps_all().iter().all(|c| c["Names"][0] != "fixed"));
    h.ok(&["rm", "-f", "probe"]);
    assert_eq!(h.ok(&["network", "prune", "-f"]).trim(), "lab2");
    assert_eq!(h.ok(&["network", "ls", "-q"]).trim(), "2f259bab93aa");
    assert_holder_gone(&h);
}

#[test]
fn network_container_shares_another_containers_network() {
    let (_reg, h, img) = setup();
    h.ok(&["run", "-d", "--name", "web", &img, "sh", "-c", &httpd("shared")]);
    let mut body = String::new();
    wait_until(15, "no answer on the shared loopback", || {
        let o = h.kiste(&["run", "--rm", "--network", "container:web", &img, "bash", "-c", &get_script("127.0.0.1")]);
        body = stdout(&o);
        body.contains("hello from shared")
    });
    // The same interfaces as the target.
    let theirs = h.ok(&["exec", "web", "busybox", "ip", "-o", "-4", "addr"]);
    let ours = h.ok(&["run", "--rm", "--net", "container:web", &img, "busybox", "ip", "-o", "-4", "addr"]);
    assert_eq!(ours, theirs);
    h.ok(&["stop", "-t", "0", "web"]);
    let (c, e) = h.err(&["run", "--rm", "--network", "container:web", &img, "true"]);
    assert!(c == 125 && e.contains("web is not running"), "{e}");
    let (c, e) = h.err(&["run", "--rm", "--network", "container:nosuch", &img, "true"]);
    assert!(c == 125 && e.contains("nosuch"), "{e}");
    h.ok(&["rm", "-f", "-a"]);
    assert!(helpers(&h).is_empty(), "{:?}", helpers(&h));
}

#[test]
fn a_port_published_from_a_user_defined_network_reaches_the_container() {
    let (_reg, h, img) = setup();
    h.ok(&["network", "create", "pub"]);
    let port = free_port();
    let id = h
        .ok(&["run", "-d", "--network", "pub", "-p", &format!("{port}:80"), &img, "sh", "-c", &httpd("pub")])
        .trim()
        .to_string();
    assert!(fetch("127.0.0.1", port).contains("hello from pub"));
    assert!(fetch(&host_address(), port).contains("hello from pub"));
    assert_eq!(h.ok(&["port", &id]).trim(), format!("80/tcp -> 0.0.0.0:{port}"));
    // Taken by this container: another one cannot have it.
    let (c, e) = h.err(&["run", "-d", "--network", "pub", "-p", &format!("{port}:80"), &img, "true"]);
    assert!(c == 125 && e.contains("already in use"), "{e}");
    // UDP: datagrams relayed to the container, answers back to each sender.
    let udp = free_port();
    h.ok(&[
        "run",
        "-d",
        "--network",
        "pub",
        "-p",
        &format!("{udp}:53/udp"),
        &img,
        "socat",
        "UDP-RECVFROM:53,fork",
        "EXEC:cat",
    ]);
    assert_eq!(udp_echo("127.0.0.1", udp).as_deref(), Some(&b"ping"[..]), "no UDP echo on loopback");
    assert_eq!(udp_echo(&host_address(), udp).as_deref(), Some(&b"ping"[..]), "no UDP echo on the host's address");
    h.ok(&["rm", "-f", "-a"]);
    wait_until(10, "the published port stayed bound after rm", || port_free(port));
    wait_until(10, "the published UDP port stayed bound after rm", || {
        std::net::UdpSocket::bind(("0.0.0.0", udp)).is_ok()
    });
    assert_holder_gone(&h);
}

#[test]
fn containers_conf_chooses_the_default_helper() {
    let (_reg, h, img) = setup();
    let conf = h.home().join(".config/containers/containers.conf");
    std::fs::write(&conf, "[network]\ndefault_rootless_network_cmd = \"slirp4netns\"\n").unwrap();
    let mode = |id: &str| {
        let v: serde_json::Value = serde_json::from_str(&h.ok(&["inspect", id.trim()])).unwrap();
        v[0]["HostConfig"]["NetworkMode"].as_str().unwrap_or_default().to_string()
    };
    let id = h.ok(&["run", "-d", &img, "sleep", "100"]);
    assert_eq!(mode(&id), "slirp4netns");
    assert!(helpers(&h).iter().any(|p| p.contains("slirp4netns")), "{:?}", helpers(&h));
    // --network still wins over the setting.
    let other = h.ok(&["run", "-d", "--network", "pasta", &img, "sleep", "100"]);
    assert_eq!(mode(&other), "pasta");
    h.ok(&["rm", "-f", "-a"]);
    std::fs::write(&conf, "[network]\ndefault_rootless_network_cmd = \"vde\"\n").unwrap();
    let (c, e) = h.err(&["run", "--rm", &img, "true"]);
    assert!(c == 125 && e.contains("containers.conf") && e.contains("\"vde\""), "{c} {e}");
    assert!(h.ps_all().is_empty());
    assert!(helpers(&h).is_empty(), "{:?}", helpers(&h));
}

/// The built-in stack's process for container `id` (its PID from net.pid).
fn netstack_pid(h: &TestHome, id: &str) -> i32 {
    let f = h.runtime().join("kiste/containers").join(id.trim()).join("net.pid");
    let text = std::fs::read_to_string(&f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    text.split_whitespace().next().unwrap().parse().unwrap()
}

/// The loopback relay: the network process's child.
fn relay_pid(net: i32) -> i32 {
    let children = std::fs::read_to_string(format!("/proc/{net}/task/{net}/children")).unwrap();
    children.split_whitespace().next().expect("the loopback relay").parse().unwrap()
}

#[test]
fn the_built_in_network_reaches_the_host_answers_pings_and_is_confined() {
    let (_reg, h, img) = setup();
    // The device PID 1 made: eth0 with slirp4netns's addresses, its MTU, the default route.
    let script = "ip -4 -o addr show eth0; ip route; ip -o link show eth0";
    let o = h.ok(&["run", "--rm", "--network", "slirp", &img, "busybox", "sh", "-c", script]);
    assert!(o.contains("10.0.2.100/24") && o.contains("default via 10.0.2.2") && o.contains("mtu 65520"), "{o}");
    // Outbound TCP to a server on the host's loopback through host.containers.internal.
    let (port, server) = host_listener();
    let script = format!("echo hi from the stack > /dev/tcp/host.containers.internal/{port}");
    let o = h.kiste(&["run", "--rm", &img, "bash", "-c", &script]);
    assert_eq!(code(&o), 0, "{o:?}");
    assert_eq!(server.join().unwrap(), "hi from the stack\n");
    // ICMP echo: the gateway answers itself; the host's address through the stack's ping
    // socket, which the host allows to the user's group by net.ipv4.ping_group_range.
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").unwrap();
    let (lo, hi) = range.split_once(char::is_whitespace).unwrap();
    let gid = common::user().gid;
    assert!(
        lo.trim().parse::<u32>().unwrap() <= gid && gid <= hi.trim().parse::<u32>().unwrap(),
        "net.ipv4.ping_group_range ({}) must include the test user's group {gid}: scripts/test.sh sets it",
        range.trim()
    );
    for target in ["10.0.2.2".to_string(), host_address()] {
        let o =
            h.kiste(&["run", "--rm", "--cap-add", "NET_RAW", &img, "busybox", "ping", "-c", "1", "-W", "5", &target]);
        assert!(stdout(&o).contains("1 packets received"), "no echo from {target}: {o:?}");
    }
    // Its confinement, seen from outside: no capabilities, no_new_privs, a seccomp filter, a
    // root holding /etc only, and no descriptor but its own. The same for the relay of its
    // loopback port (its child, in the container's network namespace).
    let ports = [format!("{}:80", free_port()), format!("127.0.0.1:{}:80", free_port())];
    let id = h.ok(&["run", "-d", "-p", &ports[0], "-p", &ports[1], &img, "sleep", "600"]);
    let pid = netstack_pid(&h, &id);
    let relay = relay_pid(pid);
    let net_of = |p: i32| std::fs::read_link(format!("/proc/{p}/ns/net")).unwrap();
    let pid1 = h.ok(&["inspect", "--format", "{{.State.Pid}}", id.trim()]).trim().parse::<i32>().unwrap();
    assert_eq!(net_of(relay), net_of(pid1), "the relay makes its connections in the container's namespace");
    for p in [pid, relay] {
        let status = std::fs::read_to_string(format!("/proc/{p}/status")).unwrap();
        for want in ["CapEff:\t0000000000000000", "CapPrm:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2"] {
            assert!(status.contains(want), "{want} missing:\n{status}");
        }
        let mut root: Vec<String> = std::fs::read_dir(format!("/proc/{p}/root"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        root.sort();
        assert!(
            root.first().map(String::as_str) == Some("etc") && root.iter().all(|d| d == "etc" || d == "run"),
            "{root:?}"
        );
        for e in std::fs::read_dir(format!("/proc/{p}/fd")).unwrap() {
            let target = std::fs::read_link(e.unwrap().path()).unwrap().display().to_string();
            let known = ["/dev/null", "net.log", "anon_inode:[pidfd]", "anon_inode:[eventpoll]", "socket:[", "tun"];
            assert!(known.iter().any(|k| target.contains(k)), "unexpected descriptor {target}");
        }
    }
    // It ends with the container, even with no monitor left to stop it and no command run:
    // SIGKILL of the monitor, then of PID 1.
    let v: serde_json::Value = serde_json::from_str(&h.ok(&["inspect", id.trim()])).unwrap();
    let (monitor, pid1) = (v[0]["State"]["ConmonPid"].as_i64().unwrap(), v[0]["State"]["Pid"].as_i64().unwrap());
    assert!(monitor > 0 && pid1 > 0);
    unsafe { libc::kill(monitor as i32, libc::SIGKILL) };
    unsafe { libc::kill(pid1 as i32, libc::SIGKILL) };
    for p in [pid, relay] {
        wait_until(10, "the network process or its relay outlived its container", || {
            !std::path::Path::new(&format!("/proc/{p}")).exists()
                || std::fs::read_to_string(format!("/proc/{p}/stat")).is_ok_and(|s| s.contains(") Z "))
        });
    }
    h.ok(&["rm", "-f", "-a"]);
    assert!(helpers(&h).is_empty(), "{:?}", helpers(&h));
}

/// A DNS server on `addr`:53 that answers A queries for `name` with `answer` (and everything
/// else with no records); counts the queries it saw for `name`.
fn dns_server(
    addr: std::net::Ipv4Addr,
    name: &'static str,
    answer: [u8; 4],
) -> (std::sync::Arc<std::sync::atomic::AtomicUsize>, std::sync::Arc<std::sync::atomic::AtomicBool>) {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
    let sock = std::net::UdpSocket::bind((addr, 53)).expect("bind a DNS server on the loopback (needs root)");
    sock.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
    let (seen, stop) = (std::sync::Arc::new(AtomicUsize::new(0)), std::sync::Arc::new(AtomicBool::new(false)));
    let (seen2, stop2) = (seen.clone(), stop.clone());
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while !stop2.load(Ordering::Relaxed) {
            let Ok((n, from)) = sock.recv_from(&mut buf) else { continue };
            let q = &buf[..n];
            // The question: labels from byte 12, then type and class.
            let (mut i, mut labels) = (12, Vec::new());
            while i < n && q[i] != 0 {
                let l = q[i] as usize;
                labels.push(String::from_utf8_lossy(&q[i + 1..(i + 1 + l).min(n)]).to_lowercase());
                i += 1 + l;
            }
            let end = i + 5;
            if end > n {
                continue;
            }
            let qtype = u16::from_be_bytes([q[i + 1], q[i + 2]]);
            let hit = labels.join(".") == name;
            if hit {
                seen2.fetch_add(1, Ordering::Relaxed);
            }
            let with_answer = hit && qtype == 1;
            let mut r = q[..2].to_vec();
            r.extend_from_slice(&[0x81, 0x80, 0, 1, 0, with_answer as u8, 0, 0, 0, 0]);
            r.extend_from_slice(&q[12..end]);
            if with_answer {
                r.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
                r.extend_from_slice(&answer);
            }
            let _ = sock.send_to(&r, from);
        }
    });
    (seen, stop)
}

#[test]
fn the_built_in_network_forwards_dns_to_the_hosts_resolver() {
    assert!(common::is_root(), "the suite runs as root in CI (scripts/test.sh); this test needs it");
    let (_reg, h, img) = setup();
    // A resolver of our own on a loopback address of this test, named by an /etc/resolv.conf
    // bound over the host's in a mount namespace of kiste's (so nothing leaves the machine).
    let pid = std::process::id();
    let addr = std::net::Ipv4Addr::new(127, 53, (pid >> 8) as u8, (pid as u8).max(1));
    let (seen, stop) = dns_server(addr, "kiste-dns-test.example", [192, 0, 2, 123]);
    let resolv = common::scratch("resolv").join("resolv.conf");
    std::fs::write(&resolv, format!("nameserver {addr}\n")).unwrap();
    let run = |args: &[&str]| {
        let inner = h.command(args);
        let mut c = std::process::Command::new("unshare");
        c.args([
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            "mount --bind \"$0\" /etc/resolv.conf && exec \"$@\"",
        ])
        .arg(&resolv)
        .arg(inner.get_program())
        .args(inner.get_args())
        .env_clear()
        .envs(inner.get_envs().filter_map(|(k, v)| Some((k, v?))))
        .stdin(std::process::Stdio::null());
        common::output_within(&mut c, 120, "kiste run in a mount namespace")
    };
    // The container's resolver is the stack's forwarder, which asks the host's (ours).
    let o = run(&["run", "--rm", &img, "sh", "-c", "cat /etc/resolv.conf; getent hosts kiste-dns-test.example"]);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    assert_eq!(code(&o), 0, "{o:?}");
    let out = stdout(&o);
    assert!(out.contains("nameserver 10.0.2.3"), "{out}");
    assert!(out.lines().any(|l| l.starts_with("192.0.2.123") && l.contains("kiste-dns-test.example")), "{out}");
    assert!(seen.load(std::sync::atomic::Ordering::Relaxed) > 0, "the query never reached the host's resolver");
}

/// Connects to addr:port until the server answers; returns what it sent.
fn first_answer(addr: &str, port: u16) -> String {
    let mut last = String::new();
    for _ in 0..100 {
        match std::net::TcpStream::connect((addr, port)) {
            Ok(mut s) => {
                s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                let mut got = String::new();
                let _ = s.read_to_string(&mut got);
                if !got.is_empty() {
                    return got.trim().to_string();
                }
                last = "an empty answer".into();
            }
            Err(e) => last = e.to_string(),
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("no answer from {addr}:{port}: {last}");
}

#[test]
fn a_loopback_port_carries_both_directions_whole_and_refuses_when_nothing_listens() {
    let (_reg, h, img) = setup();
    let port = free_port();
    let publish = format!("127.0.0.1:{port}:80");
    // Nothing listens yet: the client's connection is reset or closed, not left hanging.
    h.ok(&[
        "run",
        "-d",
        "--name",
        "echo",
        "-p",
        &publish,
        &img,
        "sh",
        "-c",
        "sleep 2; exec socat TCP-LISTEN:80,fork EXEC:cat",
    ]);
    let mut early = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    early.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 1];
    let r = early.read(&mut buf);
    let ended = matches!(r, Ok(0))
        || r.as_ref()
            .is_err_and(|e| !matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut));
    assert!(ended, "a connection to no server must end at once: {r:?}");
    // 8 MB each way through the splice relay, the end of each direction passed on.
    let data: Vec<u8> = (0..8u32 << 20).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let echoed = || -> std::io::Result<std::net::TcpStream> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", port))?;
        s.write_all(b"x")?;
        s.set_read_timeout(Some(Duration::from_secs(1)))?;
        let mut one = [0u8; 1];
        match s.read(&mut one)? {
            1 => Ok(s),
            _ => Err(std::io::Error::other("closed without an answer")),
        }
    };
    let mut s = None;
    wait_until(30, "the echo server never answered", || {
        s = echoed().ok();
        s.is_some()
    });
    let mut s = s.unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut w = s.try_clone().unwrap();
    let sent = data.clone();
    let writer = std::thread::spawn(move || {
        w.write_all(&sent).unwrap();
        w.shutdown(std::net::Shutdown::Write).unwrap();
    });
    let mut back = Vec::new();
    s.read_to_end(&mut back).unwrap();
    writer.join().unwrap();
    assert!(back == data, "{} bytes came back of {}", back.len(), data.len());
    h.ok(&["rm", "-f", "echo"]);
    assert!(port_free(port), "rm left the port bound");
    // A client that resets while the server is not reading (its data stuck in the relay)
    // leaves no busy relay behind.
    let id =
        h.ok(&["run", "-d", "--name", "sink", "-p", &publish, &img, "socat", "TCP-LISTEN:80,fork", "EXEC:sleep 600"]);
    let net = netstack_pid(&h, &id);
    let relay = relay_pid(net);
    let mut s = None;
    wait_until(10, "no connection to the sink", || {
        s = std::net::TcpStream::connect(("127.0.0.1", port)).ok();
        s.is_some()
    });
    let mut s = s.unwrap();
    s.set_write_timeout(Some(Duration::from_millis(500))).unwrap();
    let chunk = vec![0u8; 1 << 20];
    while s.write_all(&chunk).is_ok() {} // until the server's window and the relay's pipe are full
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    let fd = std::os::fd::AsRawFd::as_raw_fd(&s);
    // SAFETY: setsockopt on our socket with a linger of the size given.
    unsafe { libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_LINGER, (&linger as *const libc::linger).cast(), 8) };
    drop(s);
    let cpu = || {
        let stat = std::fs::read_to_string(format!("/proc/{relay}/stat")).unwrap();
        let f: Vec<u64> = stat.rsplit_once(')').unwrap().1.split_whitespace().filter_map(|x| x.parse().ok()).collect();
        f[10] + f[11] // utime + stime, in clock ticks
    };
    std::thread::sleep(Duration::from_millis(200));
    let before = cpu();
    std::thread::sleep(Duration::from_secs(1));
    let spent = cpu() - before;
    assert!(spent < 20, "the relay spent {spent} ticks of CPU in a second after the client's reset");
    h.ok(&["rm", "-f", "sink"]);
    assert!(port_free(port), "rm left the port bound");
    assert!(helpers(&h).is_empty(), "{:?}", helpers(&h));
}

#[test]
fn published_ports_on_the_built_in_network_show_the_clients_address() {
    let (_reg, h, img) = setup();
    let (lo, all, udp) = (free_port(), free_port(), free_port());
    // Servers that answer each client with the address they see it from.
    let servers = "socat TCP-LISTEN:80,fork,reuseaddr SYSTEM:'echo $SOCAT_PEERADDR' & \
                   exec socat UDP-RECVFROM:53,fork SYSTEM:'echo $SOCAT_PEERADDR'";
    let (p_lo, p_all, p_udp) = (format!("127.0.0.1:{lo}:80"), format!("{all}:80"), format!("{udp}:53/udp"));
    h.ok(&["run", "-d", "--name", "peer", "-p", &p_lo, "-p", &p_all, "-p", &p_udp, &img, "sh", "-c", servers]);
    // A client on the host's loopback, through a loopback port, is spliced to the container's
    // loopback (as pasta does) and shows as 127.0.0.1; any other client as itself.
    let host = host_address();
    assert_eq!(first_answer("127.0.0.1", lo), "127.0.0.1");
    assert_eq!(first_answer(&host, all), host);
    assert!(std::net::TcpStream::connect((host.as_str(), lo)).is_err(), "the 127.0.0.1 port answers on {host}");
    let seen = |addr: &str| udp_echo(addr, udp).map(|b| String::from_utf8_lossy(&b).trim().to_string());
    // Datagrams go through the stack: the host's loopback shows as the gateway (the address
    // that means the host's loopback inside).
    assert_eq!(seen("127.0.0.1").as_deref(), Some("10.0.2.2"));
    assert_eq!(seen(&host), Some(host.clone()));
    h.ok(&["rm", "-f", "peer"]);
    assert!(port_free(lo) && port_free(all), "rm left a port bound");
    assert!(std::net::UdpSocket::bind(("0.0.0.0", udp)).is_ok(), "rm left the UDP port bound");
    assert!(helpers(&h).is_empty(), "{:?}", helpers(&h));
}
