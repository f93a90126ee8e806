//! The per-container network helper: starts the built-in stack (crate::netstack, on the tap
//! device PID 1 made), pasta or slirp4netns for a container's PID 1 (whose network namespace
//! the runtime made), has it forward the published ports, records it (PID and start time in
//! `net.pid` in the container's run-time directory) and stops it. The monitor is a child
//! subreaper, so even pasta, which daemonizes, stays its child.

use super::ports::{self, PortMapping};
use super::{Addrs, NetError, NetworkMode};
use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Command, Stdio};

const PIDFILE: &str = "net.pid";
/// What the helper says (errors included) until it runs.
const LOG: &str = "net.log";
const PASTA_PID: &str = "pasta.pid";
/// slirp4netns's API socket, relative to the container's directory (a full path could pass
/// the 108 bytes a socket address holds).
const SLIRP_SOCKET: &str = "slirp.sock";

fn helper_err(what: &str, e: impl std::fmt::Display) -> NetError {
    NetError::Helper(format!("{what}: {e}"))
}

/// The built-in stack's process, started before the container so that it is ready (libslirp
/// loaded, ports bound, confined) when PID 1's device comes: see [`prestart`].
pub struct Prestarted(crate::netstack::Starting);

/// For the built-in stack (`mode`), starts its process now, while the runtime makes the
/// container; None for other modes. A port taken since `create` checked it fails here.
pub fn prestart(
    mode: &NetworkMode,
    ports: &[PortMapping],
    dir: &Path,
    rootless: bool,
) -> Result<Option<Prestarted>, NetError> {
    if *mode != NetworkMode::Builtin {
        return Ok(None);
    }
    start_builtin(ports, dir, rootless).map(Some)
}

/// Starts the built-in stack's process with `ports` forwarded.
fn start_builtin(ports: &[PortMapping], dir: &Path, rootless: bool) -> Result<Prestarted, NetError> {
    ports::check_free(ports, rootless)?;
    let forwards = ports
        .iter()
        .map(|m| {
            let host = crate::netstack::host_addr(&m.host_ip, m.host_port).ok_or_else(|| {
                NetError::Invalid(format!("invalid host address \"{}\" of port {}", m.host_ip, m.host_port))
            })?;
            Ok(crate::netstack::Forward { udp: m.proto == "udp", host, guest_port: m.container_port })
        })
        .collect::<Result<Vec<_>, NetError>>()?;
    let started =
        crate::netstack::spawn(dir, &forwards, create_log(dir)?).map_err(|e| NetError::Helper(e.to_string()))?;
    Ok(Prestarted(started))
}

fn create_log(dir: &Path) -> Result<std::fs::File, NetError> {
    let log_path = dir.join(LOG);
    std::fs::File::create(&log_path).map_err(|e| helper_err(&format!("cannot create {}", log_path.display()), e))
}

/// What the built-in stack needs to attach a container: the tap device PID 1 made, and the
/// process [`prestart`] started (started at attach when None).
#[derive(Default)]
pub struct Device {
    pub tap: Option<std::os::fd::OwnedFd>,
    pub pre: Option<Prestarted>,
}

/// Connects the container whose PID 1 is `pid` to the host through `mode`'s helper and
/// forwards `ports` (`device`: the built-in stack's). Does nothing for modes without a
/// helper. On error no helper is left.
pub fn attach(
    mode: &NetworkMode,
    pid: u32,
    device: Device,
    ports: &[PortMapping],
    dir: &Path,
    addrs: Option<&Addrs>,
    rootless: bool,
) -> Result<(), NetError> {
    if !mode.has_helper() {
        return Ok(());
    }
    let helper = if *mode == NetworkMode::Builtin {
        let pre = match device.pre {
            Some(p) => p,
            None => start_builtin(ports, dir, rootless)?,
        };
        builtin(pid, device.tap, pre, ports, dir, rootless)?
    } else {
        // The ports may have been taken since `create` checked them; the helpers themselves
        // only warn about a port they cannot bind.
        ports::check_free(ports, rootless)?;
        let log = create_log(dir)?;
        if *mode == NetworkMode::Pasta { pasta(pid, ports, dir, addrs, log)? } else { slirp(pid, ports, dir, log)? }
    };
    let log_path = dir.join(LOG);
    let recorded = crate::util::record_process(&dir.join(PIDFILE), helper);
    // Ended, the helper needs no record (a written one names no live process).
    if crate::util::process_start_time(helper).is_none() {
        return Err(NetError::Helper(format!("{mode} exited at once; see {}", log_path.display())));
    }
    recorded.map_err(|e| {
        kill_and_wait(helper);
        helper_err("cannot record the network helper", e)
    })
}

/// The last thing the helper wrote to its log, for an error message.
fn last_words(dir: &Path) -> String {
    let text = std::fs::read_to_string(dir.join(LOG)).unwrap_or_default();
    let line = text.lines().rev().find(|l| !l.trim().is_empty() && !l.contains("syslog")).unwrap_or("no message");
    line.trim().to_string()
}

/// Hands PID 1's tap device to the built-in stack's process; a port it could not bind gets the
/// same message as at create.
fn builtin(
    pid: u32,
    tap: Option<std::os::fd::OwnedFd>,
    pre: Prestarted,
    ports: &[PortMapping],
    dir: &Path,
    rootless: bool,
) -> Result<u32, NetError> {
    let tap =
        tap.ok_or_else(|| NetError::Helper("the container made no network device for the built-in stack".into()))?;
    pre.0.connect(tap, pid).map_err(|e| match e {
        crate::netstack::NetstackError::Port { index, error } => {
            let m = ports.get(index);
            // The port checks word it as at create; else bind's own error.
            m.and_then(|m| ports::check_free(std::slice::from_ref(m), rootless).err()).unwrap_or_else(|| {
                let what = m.map(|m| format!("{}/{}", m.host_port, m.proto)).unwrap_or_default();
                NetError::Invalid(format!("cannot publish port {what}: {error}"))
            })
        }
        e => NetError::Helper(format!("{e}; see {}", dir.join(LOG).display())),
    })
}

/// pasta's `-t`/`-u` argument for one protocol: `[ADDR/]HOST:CTR,...`, or `none`.
fn pasta_spec(ports: &[PortMapping], proto: &str) -> String {
    let list: Vec<String> = ports
        .iter()
        .filter(|m| m.proto == proto)
        .map(|m| match m.host_ip.as_str() {
            "" => format!("{}:{}", m.host_port, m.container_port),
            ip => format!("{ip}/{}:{}", m.host_port, m.container_port),
        })
        .collect();
    if list.is_empty() { "none".into() } else { list.join(",") }
}

/// Runs pasta, which configures the container's interface as a copy of the host's, then
/// goes to the background (its first process exits once the network is up).
fn pasta(
    pid: u32,
    ports: &[PortMapping],
    dir: &Path,
    addrs: Option<&Addrs>,
    log: std::fs::File,
) -> Result<u32, NetError> {
    let pidfile = dir.join(PASTA_PID);
    let _ = std::fs::remove_file(&pidfile);
    let mut cmd = Command::new("pasta");
    cmd.args(["--config-net", "--quiet", "-T", "none", "-U", "none"])
        .arg("-t")
        .arg(pasta_spec(ports, "tcp"))
        .arg("-u")
        .arg(pasta_spec(ports, "udp"))
        .arg("-P")
        .arg(&pidfile);
    if !super::host_has_ipv6() {
        // Without IPv6 on the host there is nothing to copy; skipping it saves pasta's
        // IPv6 set-up time.
        cmd.arg("-4");
    }
    if let Some(a) = addrs {
        // DNS queries to the gateway reach the host's resolver (one on the host's loopback too).
        cmd.arg("--dns-forward").arg(a.gateway.to_string());
    }
    let status = cmd
        .arg(pid.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .map_err(|e| helper_err("cannot run pasta (install the \"passt\" package)", e))?;
    if !status.success() {
        return Err(NetError::Helper(format!("pasta could not connect the container: {}", last_words(dir))));
    }
    let text = std::fs::read_to_string(&pidfile).unwrap_or_default();
    text.trim()
        .parse()
        .map_err(|_| NetError::Helper(format!("pasta wrote no PID to {}: {}", pidfile.display(), last_words(dir))))
}

/// Runs slirp4netns (it stays in the foreground, our child), waits until it reports the
/// interface configured, then asks it over its API socket to forward each port.
fn slirp(pid: u32, ports: &[PortMapping], dir: &Path, log: std::fs::File) -> Result<u32, NetError> {
    use std::os::unix::process::CommandExt;
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| helper_err("cannot create a pipe", e))?;
    let _ = std::fs::remove_file(dir.join(SLIRP_SOCKET));
    let wfd = w.as_raw_fd();
    let mut cmd = Command::new("slirp4netns");
    cmd.args(["--configure", "--mtu=65520", "--api-socket", SLIRP_SOCKET])
        .arg(format!("--ready-fd={wfd}"))
        .arg(pid.to_string())
        .arg("tap0")
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log);
    // SAFETY: fcntl on the pipe's write end between fork and exec: slirp4netns keeps it.
    unsafe {
        cmd.pre_exec(move || {
            if libc::fcntl(wfd, libc::F_SETFD, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child =
        cmd.spawn().map_err(|e| helper_err("cannot run slirp4netns (install the \"slirp4netns\" package)", e))?;
    drop(w);
    let fail = |child: &mut std::process::Child, msg: String| {
        let _ = child.kill();
        let _ = child.wait();
        NetError::Helper(msg)
    };
    let mut ready = std::fs::File::from(r);
    let mut pfd = [nix::poll::PollFd::new(std::os::fd::AsFd::as_fd(&ready), nix::poll::PollFlags::POLLIN)];
    let polled = nix::poll::poll(&mut pfd, nix::poll::PollTimeout::from(10_000u16)).unwrap_or(0);
    let mut b = [0u8; 1];
    if polled == 0 || ready.read(&mut b).unwrap_or(0) == 0 {
        let msg = format!("slirp4netns could not connect the container: {}", last_words(dir));
        return Err(fail(&mut child, msg));
    }
    for m in ports {
        if let Err(e) = slirp_forward(dir, m) {
            let msg = format!("slirp4netns could not forward port {}/{}: {e}", m.host_port, m.proto);
            return Err(fail(&mut child, msg));
        }
    }
    Ok(child.id())
}

fn slirp_forward(dir: &Path, m: &PortMapping) -> std::io::Result<()> {
    let d = crate::util::DirHandle::open(dir)?;
    let mut s = std::os::unix::net::UnixStream::connect(d.path(SLIRP_SOCKET))?;
    let req = serde_json::json!({"execute": "add_hostfwd", "arguments": {
        "proto": m.proto, "host_addr": m.shown_ip(), "host_port": m.host_port, "guest_port": m.container_port}});
    s.write_all(req.to_string().as_bytes())?;
    s.shutdown(std::net::Shutdown::Write)?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    if answer.contains("\"error\"") || !answer.contains("\"return\"") {
        return Err(std::io::Error::other(answer.trim().to_string()));
    }
    Ok(())
}

fn kill_and_wait(pid: u32) {
    // Its children hold ports too (the built-in stack's loopback relay); they die with it
    // (PR_SET_PDEATHSIG), and are waited for below.
    let (start, children) = (crate::util::process_start_time(pid), children_of(pid));
    // SAFETY: kill of the helper we started (checked by start time by the callers).
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    // Our child (slirp4netns, or pasta reparented to us as subreaper): reap it. Else wait
    // for it to go, so that its ports are free when we return.
    if nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid as i32), None).is_err() {
        wait_gone(pid, start);
    }
    for (child, start) in children {
        wait_gone(child, Some(start));
    }
}

/// The children of process `pid` with their start times.
fn children_of(pid: u32) -> Vec<(u32, u64)> {
    let list = std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    list.split_whitespace()
        .filter_map(|c| c.parse().ok())
        .filter_map(|c| Some((c, crate::util::process_start_time(c)?)))
        .collect()
}

/// Waits (up to a second) until the process `pid` that started at `start` has ended (a
/// zombie has closed its ports); a PID taken by another process since is not waited for.
fn wait_gone(pid: u32, start: Option<u64>) {
    for _ in 0..200 {
        if start.is_none() || crate::util::process_start_time(pid) != start {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Stops the container's network helper, if it still runs, and forgets it; with `wait`,
/// returns once it is gone (its ports free). Safe to call more than once and from any
/// command (the record names the process exactly).
pub fn release(dir: &Path, wait: bool) {
    let path = dir.join(PIDFILE);
    if let Some(pid) = crate::util::recorded_process(&path) {
        if wait {
            kill_and_wait(pid);
        } else {
            // SAFETY: kill of the helper named by PID and start time.
            unsafe { libc::kill(pid as i32, libc::SIGKILL) };
        }
    }
    let _ = std::fs::remove_file(&path);
    for f in [PASTA_PID, SLIRP_SOCKET] {
        let _ = std::fs::remove_file(dir.join(f));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pasta_port_specs() {
        let m = |ip: &str, h, c, p: &str| PortMapping {
            host_ip: ip.into(),
            host_port: h,
            container_port: c,
            proto: p.into(),
        };
        let ports = [m("", 8080, 80, "tcp"), m("127.0.0.1", 8443, 443, "tcp"), m("", 5353, 53, "udp")];
        assert_eq!(pasta_spec(&ports, "tcp"), "8080:80,127.0.0.1/8443:443");
        assert_eq!(pasta_spec(&ports, "udp"), "5353:53");
        assert_eq!(pasta_spec(&ports[..1], "udp"), "none");
    }
}
