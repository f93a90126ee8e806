//! The monitor's side of restart policies: once a run of the container has ended and been
//! recorded, the policy (engine::container::restart::decide) says whether it starts again;
//! the monitor waits out the back-off (cut short by `stop`, which marks the record) and
//! starts it through its own `run` — the one starter — then serves it as before. An
//! attached monitor (its caller waits for the exit code) hands the container to a detached
//! one, `__monitor-restart ID CODE`.

use super::Ready;
use crate::engine::Context;
use crate::engine::container::run::MonitorMode;
use crate::engine::container::{self, ContainerError, restart};
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `__monitor-restart ID CODE`: a detached monitor for a container whose run just ended.
pub const RESTART: &str = "__monitor-restart";

/// A run of container `id` served in `mode` ended with `code` and is recorded: restart it
/// as its policy says. Returns this monitor's exit code.
pub fn after_run(id: &str, mode: MonitorMode, code: u8) -> u8 {
    match mode {
        MonitorMode::Attached => {
            hand_over(id, code);
            code
        }
        MonitorMode::Detached | MonitorMode::Await => carry_on(id, code),
    }
}

/// Whether the container's policy (or its health action) may start it again.
fn may_restart(id: &str, code: u8) -> bool {
    let Ok(ctx) = Context::new() else { return false };
    let Ok(c) = ctx.db().map_err(ContainerError::from).and_then(|conn| container::resolve(&conn, id)) else {
        return false;
    };
    let health_restart = c.kept.health.as_ref().is_some_and(|h| h.on_failure == container::health::OnFailure::Restart);
    restart::wanted(&c, code, health_restart)
}

/// The attached monitor's caller gets the exit code now; a detached monitor carries on.
fn hand_over(id: &str, code: u8) {
    use std::os::unix::process::CommandExt;
    use std::process::{Command, Stdio};
    if !may_restart(id, code) {
        return;
    }
    let mut cmd = Command::new("/proc/self/exe");
    cmd.args([RESTART, id, &code.to_string()]).stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null());
    // SAFETY: only setsid between fork and exec.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
    if let Err(e) = cmd.spawn() {
        tracing::error!("container {id}: cannot start a monitor to restart it: {e}");
    }
}

pub fn restart_main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let (Some(id), Some(code)) = (args.first(), args.get(1).and_then(|c| c.parse::<u8>().ok())) else {
        return ExitCode::from(125);
    };
    crate::util::cloexec_from_3();
    let _ = std::env::set_current_dir("/");
    crate::engine::container::run::become_subreaper();
    ExitCode::from(carry_on(id, code))
}

/// Restarts the container while its policy says so; returns the last run's exit code.
pub fn carry_on(id: &str, mut code: u8) -> u8 {
    loop {
        let Ok(ctx) = Context::new() else { return code };
        let delay = match restart::decide(&ctx, id, code, std::process::id()) {
            Ok(Some(d)) => d,
            Ok(None) => return code,
            Err(e) => {
                tracing::warn!("container {id}: cannot restart: {e}");
                return code;
            }
        };
        if !wait_out(&ctx, id, delay) {
            stay_exited(&ctx, id);
            return code;
        }
        // As `start` does: under the shared store lock until it runs (`system reset` then
        // finds it running); `run` lets go of it once started.
        let lock = ctx.store_lock_shared().ok();
        if !restart::still_wanted(&ctx, id) {
            stay_exited(&ctx, id);
            return code;
        }
        match super::run(id, MonitorMode::Detached, &mut Ready(None, lock)) {
            // It ran and ended (a monitor that stays whole), or could not start (recorded).
            Ok(c) | Err(ContainerError::Exec { code: c, .. }) => code = c,
            Err(e) => {
                tracing::warn!("container {id}: cannot restart: {e}");
                stay_exited(&ctx, id);
                return 125;
            }
        }
    }
}

/// Waits `delay` unless the user stops or removes the container meanwhile (checked every
/// 100 ms); false when the restart is no longer wanted.
fn wait_out(ctx: &Context, id: &str, delay: Duration) -> bool {
    let until = Instant::now() + delay;
    loop {
        if !restart::still_wanted(ctx, id) {
            return false;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return true;
        }
        std::thread::sleep(left.min(Duration::from_millis(100)));
    }
}

/// Between runs no longer: exited with the last run's code.
fn stay_exited(ctx: &Context, id: &str) {
    let Ok(conn) = ctx.db() else { return };
    if let Ok(c) = container::resolve(&conn, id)
        && c.state == container::State::Restarting
    {
        let _ = container::set_exited(&conn, id, c.exit_code);
    }
}
