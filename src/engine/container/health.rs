//! Health checks: `--health-*` flags and the image's HEALTHCHECK resolved once into a
//! `HealthConfig` kept with the record; one check run inside the running container (an exec
//! with a timeout) and recorded in the container's run-time `health.json` (status, failing
//! streak, the last 5 results, Podman's keys); the `--health-on-failure` action. The timer
//! that runs checks is the monitor's (src/monitor/health_timer.rs); this module starts nothing
//! on its own.

use super::{Container, ContainerError, lifecycle, restart};
use crate::engine::Context;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::time::{Duration, Instant};

/// Docker's and Podman's defaults.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(30);
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
pub const DEFAULT_START_INTERVAL: Duration = Duration::from_secs(5);
pub const DEFAULT_RETRIES: u32 = 3;
/// Results kept in the log, and the bytes of output kept per result (Podman's defaults).
pub const MAX_LOG: usize = 5;
pub const MAX_OUTPUT: usize = 500;
/// The smallest interval, timeout or start interval (Docker's).
const MIN_DURATION: Duration = Duration::from_millis(1);

/// The check's command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum HealthTest {
    /// Run as given (`["CMD", ...]`).
    Cmd(Vec<String>),
    /// Run by `/bin/sh -c` (`["CMD-SHELL", "..."]`).
    Shell(String),
}

impl HealthTest {
    /// The argv run in the container.
    pub fn argv(&self) -> Vec<String> {
        match self {
            HealthTest::Cmd(v) => v.clone(),
            HealthTest::Shell(s) => vec!["/bin/sh".into(), "-c".into(), s.clone()],
        }
    }

    /// Docker's `Test` array.
    pub fn docker(&self) -> Vec<String> {
        match self {
            HealthTest::Cmd(v) => std::iter::once("CMD".to_string()).chain(v.iter().cloned()).collect(),
            HealthTest::Shell(s) => vec!["CMD-SHELL".into(), s.clone()],
        }
    }
}

/// `--health-on-failure`: what happens when the container turns unhealthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    #[default]
    None,
    Kill,
    Restart,
    Stop,
}

impl OnFailure {
    pub fn parse(s: &str) -> Result<OnFailure, ContainerError> {
        Ok(match s {
            "none" => OnFailure::None,
            "kill" => OnFailure::Kill,
            "restart" => OnFailure::Restart,
            "stop" => OnFailure::Stop,
            _ => return Err(bad("--health-on-failure", s, "use none, kill, restart or stop")),
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            OnFailure::None => "none",
            OnFailure::Kill => "kill",
            OnFailure::Restart => "restart",
            OnFailure::Stop => "stop",
        }
    }
}

/// A container's health check, durations in nanoseconds as Docker's image config has them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthConfig {
    pub test: HealthTest,
    /// 0: no timer (`--health-interval disable`); checks run only by `healthcheck run`.
    pub interval_ns: u64,
    pub timeout_ns: u64,
    pub start_period_ns: u64,
    pub start_interval_ns: u64,
    pub retries: u32,
    pub on_failure: OnFailure,
}

impl HealthConfig {
    pub fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval_ns)
    }
    pub fn timeout(&self) -> Duration {
        Duration::from_nanos(self.timeout_ns)
    }
    pub fn start_period(&self) -> Duration {
        Duration::from_nanos(self.start_period_ns)
    }
    pub fn start_interval(&self) -> Duration {
        Duration::from_nanos(self.start_interval_ns)
    }

    /// `Config.Healthcheck` of inspect (Docker's schema2 health config).
    pub fn inspect_json(&self) -> serde_json::Value {
        serde_json::json!({
            "Test": self.test.docker(),
            "StartPeriod": self.start_period_ns,
            "StartInterval": self.start_interval_ns,
            "Interval": self.interval_ns,
            "Timeout": self.timeout_ns,
            "Retries": self.retries,
        })
    }
}

/// The `--health-*` flags as given (each checked here, one message per flag).
#[derive(Debug, Clone, Default)]
pub struct HealthArgs {
    pub cmd: Option<String>,
    pub interval: Option<String>,
    pub retries: Option<String>,
    pub start_period: Option<String>,
    pub start_interval: Option<String>,
    pub timeout: Option<String>,
    pub on_failure: Option<String>,
    /// `--no-healthcheck`.
    pub disable: bool,
}

fn bad(flag: &str, value: &str, form: &str) -> ContainerError {
    ContainerError::Invalid(format!("invalid {flag} \"{value}\": {form}"))
}

/// A Go duration (`30s`, `1m30s`, `500ms`) in nanoseconds.
fn duration(flag: &str, v: &str, form: &str) -> Result<u64, ContainerError> {
    let secs = crate::util::go_duration_secs(v.trim()).filter(|s| s.is_finite()).ok_or_else(|| bad(flag, v, form))?;
    if secs < 0.0 {
        return Err(bad(flag, v, form));
    }
    Ok((secs * 1e9).round() as u64)
}

/// A duration that must be at least `MIN_DURATION`.
fn positive(flag: &str, v: &str) -> Result<u64, ContainerError> {
    let form = "use a duration of at least 1ms such as 30s or 1m30s";
    let ns = duration(flag, v, form)?;
    if ns < MIN_DURATION.as_nanos() as u64 {
        return Err(bad(flag, v, form));
    }
    Ok(ns)
}

/// `--health-cmd` as Podman reads it: a JSON array (`["CMD", ...]`, `["CMD-SHELL", "..."]`,
/// or the argv itself) or a string for `/bin/sh -c`; `CMD a b` and `NONE` as words. None:
/// no check (NONE).
fn parse_cmd(s: &str) -> Result<Option<HealthTest>, ContainerError> {
    let empty =
        || bad("--health-cmd", s, "give a command, e.g. \"curl -f http://localhost/\" or '[\"CMD\", \"/check\"]'");
    let (arr, is_arr) = match serde_json::from_str::<Vec<String>>(s) {
        Ok(a) => (a, true),
        Err(_) => (s.splitn(2, ' ').map(str::to_string).collect::<Vec<_>>(), false),
    };
    let Some(first) = arr.first().map(|f| f.to_uppercase()) else { return Err(empty()) };
    let test = match first.as_str() {
        "NONE" => return Ok(None),
        "CMD" => {
            let words: Vec<String> =
                if is_arr { arr[1..].to_vec() } else { s.split_whitespace().skip(1).map(str::to_string).collect() };
            HealthTest::Cmd(words)
        }
        "CMD-SHELL" => HealthTest::Shell(arr[1..].join(" ")),
        _ if is_arr && arr.len() > 1 => HealthTest::Cmd(arr),
        _ => HealthTest::Shell(arr.join(" ")),
    };
    match &test {
        HealthTest::Cmd(v) if v.first().is_none_or(|c| c.is_empty()) => Err(empty()),
        HealthTest::Shell(c) if c.trim().is_empty() => Err(empty()),
        _ => Ok(Some(test)),
    }
}

/// The image's `config.Healthcheck`: Some(None) for `["NONE"]`, None when it has none.
fn image_test(hc: &serde_json::Value) -> Option<Option<HealthTest>> {
    let test: Vec<String> = serde_json::from_value(hc.get("Test")?.clone()).ok()?;
    let (first, rest) = test.split_first()?;
    match first.as_str() {
        "NONE" => Some(None),
        "CMD" if !rest.is_empty() => Some(Some(HealthTest::Cmd(rest.to_vec()))),
        "CMD-SHELL" if !rest.is_empty() => Some(Some(HealthTest::Shell(rest.join(" ")))),
        _ => None,
    }
}

/// The flags checked, then combined with the image's HEALTHCHECK (`image`: its
/// `config.Healthcheck`): the flags override the image's values, `--no-healthcheck` and
/// `--health-cmd NONE` disable it. None: the container has no health check.
pub fn resolve(a: &HealthArgs, image: Option<&serde_json::Value>) -> Result<Option<HealthConfig>, ContainerError> {
    let interval = match a.interval.as_deref() {
        Some("disable") => Some(0),
        Some(v) => {
            let ns = duration("--health-interval", v, "use a duration such as 30s or 1m30s, or disable")?;
            if ns != 0 && ns < MIN_DURATION.as_nanos() as u64 {
                return Err(bad("--health-interval", v, "use a duration of at least 1ms, or disable"));
            }
            Some(ns)
        }
        None => None,
    };
    let timeout = a.timeout.as_deref().map(|v| positive("--health-timeout", v)).transpose()?;
    let start_interval = a.start_interval.as_deref().map(|v| positive("--health-start-interval", v)).transpose()?;
    let start_period = a
        .start_period
        .as_deref()
        .map(|v| duration("--health-start-period", v, "use a duration of 0s or more such as 30s"))
        .transpose()?;
    let retries = match a.retries.as_deref() {
        Some(v) => Some(
            v.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad("--health-retries", v, "use a number of 1 or more"))?,
        ),
        None => None,
    };
    let on_failure = a.on_failure.as_deref().map(OnFailure::parse).transpose()?.unwrap_or_default();
    let cmd = a.cmd.as_deref().map(parse_cmd).transpose()?;
    if a.disable {
        if a.cmd.is_some() {
            return Err(ContainerError::Invalid(
                "--no-healthcheck and --health-cmd cannot be used together; give one of them".into(),
            ));
        }
        return Ok(None);
    }
    let from_image = image.filter(|v| v.is_object());
    let test = match cmd {
        Some(t) => t,
        None => from_image.and_then(image_test).flatten(),
    };
    let Some(test) = test else { return Ok(None) };
    let img_ns = |key: &str| from_image.and_then(|v| v.get(key)?.as_u64()).filter(|n| *n > 0);
    let ns = |d: Duration| d.as_nanos() as u64;
    Ok(Some(HealthConfig {
        test,
        interval_ns: interval.or_else(|| img_ns("Interval")).unwrap_or(ns(DEFAULT_INTERVAL)),
        timeout_ns: timeout.or_else(|| img_ns("Timeout")).unwrap_or(ns(DEFAULT_TIMEOUT)),
        start_period_ns: start_period.or_else(|| img_ns("StartPeriod")).unwrap_or(0),
        start_interval_ns: start_interval.or_else(|| img_ns("StartInterval")).unwrap_or(ns(DEFAULT_START_INTERVAL)),
        retries: retries.or_else(|| img_ns("Retries").and_then(|n| u32::try_from(n).ok())).unwrap_or(DEFAULT_RETRIES),
        on_failure,
    }))
}

/// A container's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Starting,
    Healthy,
    Unhealthy,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Starting => "starting",
            Status::Healthy => "healthy",
            Status::Unhealthy => "unhealthy",
        }
    }
}

/// One check's result (Podman's `HealthCheckLog`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct LogEntry {
    pub start: String,
    pub end: String,
    /// 0 passed, 1 failed, -1 timed out (as Podman records them).
    pub exit_code: i32,
    pub output: String,
}

/// The container's health as `inspect` shows it (`State.Health`, Podman's keys).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HealthState {
    pub status: Status,
    pub failing_streak: u32,
    pub log: Vec<LogEntry>,
}

impl HealthState {
    /// Adds a result: a pass makes the container healthy; a failure outside the start
    /// period counts, and `retries` of them in a row make it unhealthy.
    pub fn record(&mut self, entry: LogEntry, in_start_period: bool, retries: u32) {
        if entry.exit_code == 0 {
            self.status = Status::Healthy;
            self.failing_streak = 0;
        } else if !in_start_period {
            self.failing_streak = self.failing_streak.saturating_add(1);
            if self.failing_streak >= retries {
                self.status = Status::Unhealthy;
            }
        }
        self.log.push(entry);
        if self.log.len() > MAX_LOG {
            self.log.drain(..self.log.len() - MAX_LOG);
        }
    }
}

const STATE_FILE: &str = "health.json";
const LOCK_FILE: &str = "health.lock";

/// The recorded health of the container whose run-time directory is `run`.
pub fn read_state(run: &Path) -> Option<HealthState> {
    serde_json::from_slice(&std::fs::read(run.join(STATE_FILE)).ok()?).ok()
}

fn write_state(run: &Path, st: &HealthState) -> Result<(), ContainerError> {
    let p = run.join(STATE_FILE);
    let text = serde_json::to_vec(st).map_err(|e| ContainerError::Invalid(e.to_string()))?;
    crate::util::replace_file(&p, &text, 0o600).map_err(|e| ContainerError::io("cannot write", &p, e))
}

/// A new run of the container starts `starting`, without old results (as Podman).
pub fn reset(ctx: &Context, c: &Container) -> Result<(), ContainerError> {
    if c.kept.health.is_none() {
        return Ok(());
    }
    write_state(&c.run_dir(ctx), &HealthState::default())
}

/// The container's health: None without a health check; `starting` until a check says more.
pub fn status(ctx: &Context, c: &Container) -> Option<Status> {
    c.kept.health.as_ref()?;
    Some(read_state(&c.run_dir(ctx)).map(|s| s.status).unwrap_or_default())
}

/// What asked for a check: the monitor's timer skips a check while another one runs; the
/// user's waits for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    Timer,
    User,
}

/// One check's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checked {
    pub passed: bool,
    pub status: Status,
}

/// Runs the container's check once, records the result and, when it is unhealthy, carries
/// out `--health-on-failure`. None: skipped (the timer's, while another check runs), or the
/// run it checked ended meanwhile (the result is not recorded).
pub fn run_check(ctx: &Context, id: &str, trigger: Trigger) -> Result<Option<Checked>, ContainerError> {
    let c = lifecycle::reload(ctx, id)?;
    let Some(cfg) = c.kept.health.clone() else {
        return Err(ContainerError::Invalid(format!("container {} has no defined healthcheck", c.name)));
    };
    match (c.state, trigger) {
        // Its timer waits while it is paused.
        (super::State::Paused, Trigger::Timer) => return Ok(None),
        (super::State::Paused, Trigger::User) => {
            return Err(ContainerError::Invalid(format!("container {} is paused; unpause it first", c.name)));
        }
        _ => {}
    }
    let Some(pid) = c.pid.filter(|_| c.state == super::State::Running) else {
        return Err(ContainerError::Invalid(format!("container {} is not running", c.name)));
    };
    let run = c.make_run_dir(ctx)?;
    let lock_path = run.join(LOCK_FILE);
    let lock = match trigger {
        Trigger::Timer => crate::state::lock::FileLock::try_exclusive(&lock_path),
        Trigger::User => crate::state::lock::FileLock::exclusive(&lock_path).map(Some),
    }
    .map_err(|e| ContainerError::io("cannot lock", &lock_path, e))?;
    let Some(lock) = lock else { return Ok(None) };
    let start = chrono::Utc::now();
    let (exit_code, output) = exec_check(ctx, &c, pid, &cfg)?;
    let end = chrono::Utc::now();
    let now = lifecycle::reload(ctx, id)?;
    if now.pid != Some(pid) || now.state != super::State::Running {
        return Ok(None);
    }
    let started = c.started_at.map_or(start, super::Stamp::datetime);
    let in_start_period = start < started + chrono::Duration::from_std(cfg.start_period()).unwrap_or_default();
    let mut st = read_state(&run).unwrap_or_default();
    let time = |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true);
    st.record(LogEntry { start: time(start), end: time(end), exit_code, output }, in_start_period, cfg.retries);
    write_state(&run, &st)?;
    drop(lock);
    if st.status == Status::Unhealthy {
        act(ctx, &c, cfg.on_failure);
    }
    Ok(Some(Checked { passed: exit_code == 0, status: st.status }))
}

/// Runs the check's command in the container (as `exec` does) with its timeout: the exit
/// code as Podman records it (0, 1, or -1 on timeout) and the first `MAX_OUTPUT` bytes of
/// its stdout and stderr together.
fn exec_check(ctx: &Context, c: &Container, pid: i64, cfg: &HealthConfig) -> Result<(i32, String), ContainerError> {
    use std::os::unix::process::CommandExt;
    let req = crate::runtime::exec::ExecRequest { args: cfg.test.argv(), ..Default::default() };
    let json = serde_json::to_string(&req).map_err(|e| ContainerError::Invalid(e.to_string()))?;
    let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
        .map_err(|e| ContainerError::Invalid(format!("cannot create a pipe: {e}")))?;
    let w2 = w.try_clone().map_err(|e| ContainerError::Invalid(format!("cannot create a pipe: {e}")))?;
    let mut cmd = std::process::Command::new("/proc/self/exe");
    cmd.arg(crate::runtime::exec::EXEC)
        .arg(c.dir(ctx))
        .arg(pid.to_string())
        .arg(json)
        .stdin(std::process::Stdio::null())
        .stdout(w)
        .stderr(w2)
        // Its own process group: a check that times out goes with everything it started.
        .process_group(0);
    let mut child = cmd.spawn().map_err(|e| ContainerError::Invalid(format!("cannot run the healthcheck: {e}")))?;
    drop(cmd);
    let deadline = Instant::now() + cfg.timeout();
    let (output, eof) = read_until(r, deadline);
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) if eof => break Some(st),
            Ok(None) | Ok(Some(_)) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(5)),
            _ => break None,
        }
    };
    let Some(status) = status else {
        // SAFETY: kill of the process group of the child we started (its ID is the group's).
        unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
        let _ = child.wait();
        let t = super::stats::go_duration(cfg.timeout_ns);
        return Ok((-1, format!("healthcheck command exceeded timeout of {t}")));
    };
    Ok((if status.success() { 0 } else { 1 }, output))
}

/// Reads `r` until EOF or `deadline`, keeping the first `MAX_OUTPUT` bytes: the text and
/// whether EOF came.
fn read_until(r: std::os::fd::OwnedFd, deadline: Instant) -> (String, bool) {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    let mut f = std::fs::File::from(r);
    let mut kept = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return (text(&kept), false);
        }
        let mut pfd = libc::pollfd { fd: f.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: one valid pollfd.
        let n = unsafe { libc::poll(&mut pfd, 1, left.as_millis().min(i32::MAX as u128) as i32 + 1) };
        if n <= 0 {
            continue;
        }
        match f.read(&mut buf) {
            Ok(0) | Err(_) => return (text(&kept), true),
            Ok(n) => kept.extend_from_slice(&buf[..n.min(MAX_OUTPUT.saturating_sub(kept.len()))]),
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `--health-on-failure` for a container that just turned unhealthy. `restart` ends the run
/// without marking it stopped: the monitor sees the unhealthy state and starts it again.
fn act(ctx: &Context, c: &Container, on_failure: OnFailure) {
    let r = match on_failure {
        OnFailure::None => Ok(()),
        OnFailure::Kill => restart::mark_stopped(ctx, &c.id).and_then(|_| lifecycle::kill(ctx, &c.id, libc::SIGKILL)),
        OnFailure::Stop => lifecycle::stop(ctx, &c.id, None),
        OnFailure::Restart => lifecycle::end_run(ctx, &c.id, None),
    };
    if let Err(e) = r {
        tracing::warn!("container {}: --health-on-failure {}: {e}", c.name, on_failure.name());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(f: impl FnOnce(&mut HealthArgs)) -> HealthArgs {
        let mut a = HealthArgs::default();
        f(&mut a);
        a
    }

    #[test]
    fn health_cmd_forms_as_podman_reads_them() {
        let t = |s: &str| parse_cmd(s).unwrap();
        assert_eq!(t("curl -f http://x/ || exit 1"), Some(HealthTest::Shell("curl -f http://x/ || exit 1".into())));
        assert_eq!(t("true"), Some(HealthTest::Shell("true".into())));
        assert_eq!(t(r#"["CMD", "/check", "-q"]"#), Some(HealthTest::Cmd(vec!["/check".into(), "-q".into()])));
        assert_eq!(t(r#"["CMD-SHELL", "test -f /ok"]"#), Some(HealthTest::Shell("test -f /ok".into())));
        assert_eq!(t(r#"["/check", "-q"]"#), Some(HealthTest::Cmd(vec!["/check".into(), "-q".into()])));
        assert_eq!(t(r#"["/check"]"#), Some(HealthTest::Shell("/check".into())));
        assert_eq!(t("CMD /check  -q"), Some(HealthTest::Cmd(vec!["/check".into(), "-q".into()])));
        assert_eq!(t("CMD-SHELL test -f /ok"), Some(HealthTest::Shell("test -f /ok".into())));
        assert_eq!(t("none"), None);
        assert!(parse_cmd("").is_err());
        assert!(parse_cmd("[]").is_err());
        assert!(parse_cmd("CMD").is_err());
        assert_eq!(HealthTest::Shell("x".into()).argv(), ["/bin/sh", "-c", "x"]);
    }

    #[test]
    fn flags_override_the_images_healthcheck() {
        let img = serde_json::json!({"Test": ["CMD-SHELL", "test -f /ok"], "Interval": 2_000_000_000u64,
            "Retries": 5, "StartPeriod": 0});
        let c = resolve(&HealthArgs::default(), Some(&img)).unwrap().unwrap();
        assert_eq!(c.test, HealthTest::Shell("test -f /ok".into()));
        assert_eq!((c.interval(), c.retries, c.timeout()), (Duration::from_secs(2), 5, DEFAULT_TIMEOUT));
        let c = resolve(&args(|a| a.interval = Some("1s".into())), Some(&img)).unwrap().unwrap();
        assert_eq!((c.interval(), c.retries), (Duration::from_secs(1), 5));
        assert_eq!(resolve(&args(|a| a.disable = true), Some(&img)).unwrap(), None);
        assert_eq!(resolve(&args(|a| a.cmd = Some("NONE".into())), Some(&img)).unwrap(), None);
        let none = serde_json::json!({"Test": ["NONE"]});
        assert_eq!(resolve(&HealthArgs::default(), Some(&none)).unwrap(), None);
        assert_eq!(resolve(&HealthArgs::default(), None).unwrap(), None);
        let c = resolve(&args(|a| a.cmd = Some("true".into())), None).unwrap().unwrap();
        assert_eq!((c.interval(), c.retries, c.start_interval()), (DEFAULT_INTERVAL, 3, DEFAULT_START_INTERVAL));
        assert_eq!(c.inspect_json()["Test"], serde_json::json!(["CMD-SHELL", "true"]));
        let c = resolve(
            &args(|a| {
                a.cmd = Some("true".into());
                a.interval = Some("disable".into());
                a.on_failure = Some("restart".into())
            }),
            None,
        )
        .unwrap()
        .unwrap();
        assert_eq!((c.interval_ns, c.on_failure), (0, OnFailure::Restart));
    }

    #[test]
    fn bad_flags_name_the_flag_and_the_form() {
        let e = |f: fn(&mut HealthArgs)| resolve(&args(f), None).unwrap_err().to_string();
        assert_eq!(
            e(|a| a.interval = Some("5x".into())),
            "invalid --health-interval \"5x\": use a duration such as 30s or 1m30s, or disable"
        );
        assert!(e(|a| a.timeout = Some("0s".into())).starts_with("invalid --health-timeout \"0s\""));
        assert!(e(|a| a.retries = Some("0".into())).contains("--health-retries \"0\": use a number of 1 or more"));
        assert!(e(|a| a.start_period = Some("-1s".into())).contains("--health-start-period"));
        assert!(e(|a| a.start_interval = Some("x".into())).contains("--health-start-interval"));
        assert!(e(|a| a.on_failure = Some("explode".into())).contains("use none, kill, restart or stop"));
        let both = e(|a| {
            a.disable = true;
            a.cmd = Some("true".into())
        });
        assert!(both.contains("--no-healthcheck") && both.contains("--health-cmd"), "{both}");
    }

    #[test]
    fn results_turn_a_container_unhealthy_after_the_retries() {
        let fail = || LogEntry { exit_code: 1, ..Default::default() };
        let pass = || LogEntry { exit_code: 0, ..Default::default() };
        let mut st = HealthState::default();
        assert_eq!(st.status, Status::Starting);
        st.record(fail(), true, 2);
        st.record(fail(), true, 2);
        assert_eq!((st.status, st.failing_streak), (Status::Starting, 0), "the start period does not count");
        st.record(fail(), false, 2);
        assert_eq!((st.status, st.failing_streak), (Status::Starting, 1));
        st.record(fail(), false, 2);
        assert_eq!((st.status, st.failing_streak), (Status::Unhealthy, 2));
        st.record(pass(), false, 2);
        assert_eq!((st.status, st.failing_streak), (Status::Healthy, 0));
        for _ in 0..10 {
            st.record(pass(), false, 2);
        }
        assert_eq!(st.log.len(), MAX_LOG);
        let v = serde_json::to_value(&st).unwrap();
        assert_eq!(v["Status"], "healthy");
        assert!(v["Log"][0].get("ExitCode").is_some() && v.get("FailingStreak").is_some(), "{v}");
    }
}
