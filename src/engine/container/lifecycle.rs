//! Lifecycle verbs on a created container: start (through its monitor), stop, kill, wait,
//! remove. Each acts on the record and the processes it names; none holds a lock while a
//! container runs.

use super::{Container, ContainerError};
use crate::engine::Context;
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Starts the container's monitor. Detached: returns once the command runs. Attached: the
/// container shares our stdio and this returns its exit code.
pub fn start(_ctx: &Context, c: &Container, attached: bool) -> Result<u8, ContainerError> {
    if c.is_running() {
        return Ok(0);
    }
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| ContainerError::Invalid(format!("cannot create a pipe: {e}")))?;
    let wfd = w.as_raw_fd();
    let mut cmd = Command::new("/proc/self/exe");
    cmd.args([crate::monitor::MONITOR, &c.id, if attached { "attached" } else { "detached" }, &wfd.to_string()]);
    if !attached {
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    }
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::fcntl(wfd, libc::F_SETFD, 0) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            if !attached && libc::setsid() < 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut monitor = cmd.spawn().map_err(|e| ContainerError::Invalid(format!("cannot start the monitor: {e}")))?;
    drop(w);
    let mut msg = String::new();
    let _ = std::fs::File::from(r).read_to_string(&mut msg);
    let msg = msg.trim();
    if let Some(rest) = msg.strip_prefix("err ") {
        let (code, text) = rest.split_once(' ').unwrap_or((rest, ""));
        let _ = monitor.wait();
        return Err(ContainerError::Exec { code: code.parse().unwrap_or(125), message: text.to_string() });
    }
    if !msg.starts_with("ok ") {
        let status = monitor.wait().map(|s| s.to_string()).unwrap_or_default();
        return Err(ContainerError::Invalid(format!(
            "the container monitor exited before the container started ({status})"
        )));
    }
    if !attached {
        return Ok(0);
    }
    let st = monitor.wait().map_err(|e| ContainerError::Invalid(format!("waiting for the monitor: {e}")))?;
    Ok(st.code().unwrap_or(125) as u8)
}

fn reload(ctx: &Context, id: &str) -> Result<Container, ContainerError> {
    let conn = ctx.db()?;
    let mut c = super::resolve(&conn, id)?;
    super::reconcile(&conn, &mut c)?;
    Ok(c)
}

/// Waits until the record says exited (the monitor wrote it) or `limit` passes.
fn wait_exited(ctx: &Context, id: &str, limit: Duration) -> Result<Option<Container>, ContainerError> {
    let until = Instant::now() + limit;
    loop {
        let c = reload(ctx, id)?;
        if !c.is_running() {
            return Ok(Some(c));
        }
        if Instant::now() >= until {
            return Ok(None);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Sends a signal to the container's PID 1.
pub fn kill(ctx: &Context, id: &str, signal: i32) -> Result<(), ContainerError> {
    let c = reload(ctx, id)?;
    let Some(pid) = c.pid.filter(|_| c.is_running()) else {
        return Err(ContainerError::Invalid(format!("container {} is not running; start it first", c.name)));
    };
    // SAFETY: kill of the PID the monitor recorded for this running container.
    if unsafe { libc::kill(pid as i32, signal) } != 0 {
        return Err(ContainerError::Invalid(format!(
            "cannot signal container {}: {}",
            c.name,
            std::io::Error::last_os_error()
        )));
    }
    Ok(())
}

/// Stop signal, then SIGKILL after `timeout` seconds; returns once the container has exited.
pub fn stop(ctx: &Context, id: &str, timeout: Option<u64>) -> Result<(), ContainerError> {
    let c = reload(ctx, id)?;
    if !c.is_running() {
        return Ok(());
    }
    let t = timeout.unwrap_or(c.kept.stop_timeout);
    let _ = kill(ctx, &c.id, c.kept.stop_signal);
    if wait_exited(ctx, &c.id, Duration::from_secs(t))?.is_some() {
        return Ok(());
    }
    let _ = kill(ctx, &c.id, libc::SIGKILL);
    if wait_exited(ctx, &c.id, Duration::from_secs(10))?.is_none() {
        return Err(ContainerError::Invalid(format!("container {} did not exit after SIGKILL", c.name)));
    }
    Ok(())
}

/// Waits for the container to exit and returns its exit code.
pub fn wait(ctx: &Context, id: &str) -> Result<i64, ContainerError> {
    loop {
        if let Some(c) = wait_exited(ctx, id, Duration::from_secs(3600))? {
            return Ok(c.exit_code.unwrap_or(-1));
        }
    }
}

/// Removes a container (stopping it first with `force`): its record and all its files.
pub fn remove(ctx: &Context, id: &str, force: bool) -> Result<Container, ContainerError> {
    let c = reload(ctx, id)?;
    if c.is_running() {
        if !force {
            return Err(ContainerError::Running(c.name.clone()));
        }
        let _ = kill(ctx, &c.id, libc::SIGKILL);
        wait_exited(ctx, &c.id, Duration::from_secs(10))?;
    }
    // The directory disappears first (one rename), then the record, then the files.
    let dir = c.dir(ctx);
    let doomed = ctx.paths.containers().join(format!(".del-{}", c.id));
    let renamed = std::fs::rename(&dir, &doomed).is_ok();
    let conn = ctx.db()?;
    super::delete(&conn, &c.id)?;
    // Most containers leave files we own ourselves: try without the user namespace first.
    if renamed && std::fs::remove_dir_all(&doomed).is_err() {
        crate::storage::layers::remove_paths(&ctx.idmap, &[doomed])?;
    }
    Ok(c)
}

/// What `exec` was asked for.
#[derive(Debug, Default)]
pub struct ExecOptions {
    pub args: Vec<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub detach: bool,
}

/// Runs a process in a running container; returns its exit code (0 at once when detached).
pub fn exec(ctx: &Context, id: &str, o: &ExecOptions) -> Result<u8, ContainerError> {
    let c = reload(ctx, id)?;
    let Some(pid) = c.pid.filter(|_| c.is_running()) else {
        return Err(ContainerError::Invalid(format!("container {} is not running; start it first", c.name)));
    };
    let user = match &o.user {
        Some(u) => {
            let conn = ctx.db()?;
            let img = crate::engine::image::store::resolve(&conn, &c.image_id)?;
            let layers = ctx.layer_store()?;
            let mut dirs = vec![c.dir(ctx).join("diff")];
            dirs.extend(img.layers.iter().rev().map(|l| layers.diff_dir(l)));
            Some(super::spec::resolve_user(u, &dirs)?)
        }
        None => None,
    };
    let req = crate::runtime::exec::ExecRequest {
        args: o.args.clone(),
        env: o.env.clone(),
        workdir: o.workdir.clone(),
        user,
    };
    let json = serde_json::to_string(&req).map_err(|e| ContainerError::Invalid(e.to_string()))?;
    let mut cmd = Command::new("/proc/self/exe");
    cmd.arg(crate::runtime::exec::EXEC).arg(c.dir(ctx)).arg(pid.to_string()).arg(json);
    if o.detach {
        cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
        // SAFETY: setsid between fork and exec.
        unsafe {
            cmd.pre_exec(|| {
                libc::setsid();
                Ok(())
            });
        }
        cmd.spawn().map_err(|e| ContainerError::Invalid(format!("cannot start exec: {e}")))?;
        return Ok(0);
    }
    let st = cmd.status().map_err(|e| ContainerError::Invalid(format!("cannot start exec: {e}")))?;
    use std::os::unix::process::ExitStatusExt;
    Ok(st.code().unwrap_or_else(|| 128 + st.signal().unwrap_or(0)) as u8)
}
