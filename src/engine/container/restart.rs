//! Restart policies (`--restart no|on-failure[:N]|always|unless-stopped`): the policy parsed
//! once into an enum, Docker's back-off between restarts, and what the monitor asks when a
//! run of the container has ended (`decide`: restart, and after how long). Records change
//! through the container module; the monitor (src/monitor/restart.rs) waits and starts.

use super::{Container, ContainerError, health};
use crate::engine::Context;
use std::time::Duration;

/// Docker's back-off: the first restart after 100 ms, doubling up to a minute; a run of at
/// least 10 s starts the series again.
pub const FIRST_DELAY: Duration = Duration::from_millis(100);
pub const MAX_DELAY: Duration = Duration::from_secs(60);
pub const RESET_AFTER: Duration = Duration::from_secs(10);

/// When the monitor starts a container again after its PID 1 ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum RestartPolicy {
    #[default]
    No,
    /// After a non-zero exit, at most `max` times (0: without a limit).
    OnFailure {
        max: u32,
    },
    Always,
    /// As `Always`, but a container stopped by the user is not started at boot either.
    UnlessStopped,
}

const FORM: &str = "use no, on-failure[:N] (N restarts, 0 or more), always or unless-stopped";

impl RestartPolicy {
    /// Parses `--restart` (and `update --restart`) as Podman accepts it.
    pub fn parse(s: &str) -> Result<RestartPolicy, ContainerError> {
        let bad = || ContainerError::Invalid(format!("invalid --restart \"{s}\": {FORM}"));
        let (name, count) = match s.split_once(':') {
            Some((n, c)) => (n, Some(c)),
            None => (s, None),
        };
        let p = match name {
            "" | "no" => RestartPolicy::No,
            "on-failure" => RestartPolicy::OnFailure { max: 0 },
            "always" => RestartPolicy::Always,
            "unless-stopped" => RestartPolicy::UnlessStopped,
            _ => return Err(bad()),
        };
        match (p, count) {
            (_, None) => Ok(p),
            (RestartPolicy::OnFailure { .. }, Some(c)) => {
                Ok(RestartPolicy::OnFailure { max: c.trim().parse::<u32>().map_err(|_| bad())? })
            }
            (_, Some(_)) => Err(ContainerError::Invalid(format!(
                "invalid --restart \"{s}\": only on-failure takes a number of restarts; {FORM}"
            ))),
        }
    }

    /// The policy's name, as inspect (`HostConfig.RestartPolicy.Name`) and filters spell it.
    pub fn name(self) -> &'static str {
        match self {
            RestartPolicy::No => "no",
            RestartPolicy::OnFailure { .. } => "on-failure",
            RestartPolicy::Always => "always",
            RestartPolicy::UnlessStopped => "unless-stopped",
        }
    }

    /// The retry limit of on-failure (0 for the others, and for no limit).
    pub fn max_retries(self) -> u32 {
        match self {
            RestartPolicy::OnFailure { max } => max,
            _ => 0,
        }
    }

    /// Whether a run that ended with `code`, after `restarts` restarts so far, is followed
    /// by another (a container stopped by the user never is).
    pub fn restarts_after(self, code: u8, restarts: u32) -> bool {
        match self {
            RestartPolicy::No => false,
            RestartPolicy::OnFailure { max } => code != 0 && (max == 0 || restarts < max),
            RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
        }
    }
}

impl From<RestartPolicy> for String {
    fn from(p: RestartPolicy) -> String {
        match p {
            RestartPolicy::OnFailure { max } if max > 0 => format!("on-failure:{max}"),
            p => p.name().to_string(),
        }
    }
}

impl TryFrom<String> for RestartPolicy {
    type Error = ContainerError;
    fn try_from(s: String) -> Result<RestartPolicy, ContainerError> {
        RestartPolicy::parse(&s)
    }
}

impl std::fmt::Display for RestartPolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&String::from(*self))
    }
}

/// The delay before the next restart, given the previous one (zero: none yet) and how long
/// the run that just ended lasted (Docker's restart manager).
pub fn next_delay(previous: Duration, ran: Duration) -> Duration {
    let previous = if ran >= RESET_AFTER { Duration::ZERO } else { previous };
    let next = if previous.is_zero() { FIRST_DELAY } else { previous.saturating_mul(2) };
    next.min(MAX_DELAY)
}

/// Whether the container's run that ended with `code` is followed by a restart: its
/// health check turned it unhealthy with `--health-on-failure restart` (always), or its
/// policy says so and the user did not stop it.
pub fn wanted(c: &Container, code: u8, unhealthy_restart: bool) -> bool {
    if c.kept.rm {
        return false;
    }
    unhealthy_restart || (!c.kept.stopped_by_user && c.kept.restart.restarts_after(code, c.kept.restart_count))
}

/// Asked by the monitor (PID `monitor`) once a run that ended with `code` is recorded:
/// None when the container stays exited; else the back-off to wait, with the record now
/// `restarting` under this monitor and its restart counted.
pub fn decide(ctx: &Context, id: &str, code: u8, monitor: u32) -> Result<Option<Duration>, ContainerError> {
    let conn = ctx.db()?;
    let c = super::resolve(&conn, id)?;
    let unhealthy_restart = c.kept.health.as_ref().is_some_and(|h| h.on_failure == health::OnFailure::Restart)
        && health::status(ctx, &c) == Some(health::Status::Unhealthy);
    if !wanted(&c, code, unhealthy_restart) {
        return Ok(None);
    }
    let ran = c.started_at.map_or(Duration::ZERO, super::Stamp::elapsed);
    let delay = next_delay(Duration::from_millis(c.kept.restart_backoff_ms), ran);
    super::set_kept_fields(
        &conn,
        id,
        &[
            ("restart_count", serde_json::json!(c.kept.restart_count.saturating_add(1))),
            ("restart_backoff_ms", serde_json::json!(delay.as_millis() as u64)),
        ],
    )?;
    super::set_restarting(&conn, id, i64::from(monitor))?;
    Ok(Some(delay))
}

/// Whether a restart the monitor waits for is still wanted: the user has not stopped or
/// removed the container meanwhile.
pub fn still_wanted(ctx: &Context, id: &str) -> bool {
    let Ok(conn) = ctx.db() else { return false };
    super::resolve(&conn, id).is_ok_and(|c| c.state == super::State::Restarting && !c.kept.stopped_by_user)
}

/// The user stopped (or killed) the container: its policy does not bring it back.
pub fn mark_stopped(ctx: &Context, id: &str) -> Result<(), ContainerError> {
    super::set_kept_fields(&*ctx.db()?, id, &[("stopped_by_user", serde_json::json!(true))])
}

/// The user starts the container: a new series of restarts (Podman resets the count).
pub fn reset_for_start(ctx: &Context, c: &Container) -> Result<(), ContainerError> {
    // Nothing to reset (a new container): no write.
    if !c.kept.stopped_by_user && c.kept.restart_count == 0 && c.kept.restart_backoff_ms == 0 {
        return Ok(());
    }
    let id = &c.id;
    super::set_kept_fields(
        &*ctx.db()?,
        id,
        &[
            ("stopped_by_user", serde_json::json!(false)),
            ("restart_count", serde_json::json!(0)),
            ("restart_backoff_ms", serde_json::json!(0)),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policies_parse_as_podman_spells_them() {
        assert_eq!(RestartPolicy::parse("no").unwrap(), RestartPolicy::No);
        assert_eq!(RestartPolicy::parse("").unwrap(), RestartPolicy::No);
        assert_eq!(RestartPolicy::parse("on-failure").unwrap(), RestartPolicy::OnFailure { max: 0 });
        assert_eq!(RestartPolicy::parse("on-failure:3").unwrap(), RestartPolicy::OnFailure { max: 3 });
        assert_eq!(RestartPolicy::parse("always").unwrap(), RestartPolicy::Always);
        assert_eq!(RestartPolicy::parse("unless-stopped").unwrap(), RestartPolicy::UnlessStopped);
        for bad in ["bogus", "on-failure:-1", "on-failure:x", "always:3", "Always"] {
            let e = RestartPolicy::parse(bad).unwrap_err().to_string();
            assert!(e.starts_with(&format!("invalid --restart \"{bad}\": ")) && e.contains("on-failure[:N]"), "{e}");
        }
        // Kept in records as text, read back the same.
        for p in ["no", "on-failure", "on-failure:2", "always", "unless-stopped"] {
            let v = serde_json::to_value(RestartPolicy::parse(p).unwrap()).unwrap();
            assert_eq!(v, serde_json::json!(p));
            assert_eq!(serde_json::from_value::<RestartPolicy>(v).unwrap().to_string(), p);
        }
    }

    #[test]
    fn which_ends_are_restarted() {
        let f3 = RestartPolicy::OnFailure { max: 3 };
        assert!(f3.restarts_after(1, 0) && f3.restarts_after(137, 2));
        assert!(!f3.restarts_after(1, 3), "three restarts, then it stays exited");
        assert!(!f3.restarts_after(0, 0), "a clean exit is not a failure");
        assert!(RestartPolicy::OnFailure { max: 0 }.restarts_after(1, 1000));
        assert!(RestartPolicy::Always.restarts_after(0, 99) && RestartPolicy::UnlessStopped.restarts_after(0, 0));
        assert!(!RestartPolicy::No.restarts_after(1, 0));
        let mut c = crate::engine::container::filter::tests_support::ctr("web");
        c.kept.restart = RestartPolicy::Always;
        assert!(wanted(&c, 0, false));
        c.kept.stopped_by_user = true;
        assert!(!wanted(&c, 0, false), "stop ends an always policy");
        assert!(wanted(&c, 0, true), "an unhealthy --health-on-failure restart comes back even so");
        c.kept.rm = true;
        assert!(!wanted(&c, 0, true));
    }

    #[test]
    fn back_off_doubles_to_a_minute_and_resets_after_ten_seconds() {
        let quick = Duration::from_secs(1);
        let mut d = Duration::ZERO;
        let mut seen = Vec::new();
        for _ in 0..12 {
            d = next_delay(d, quick);
            seen.push(d.as_millis());
        }
        assert_eq!(&seen[..5], &[100, 200, 400, 800, 1600]);
        assert_eq!(*seen.last().unwrap(), 60_000);
        assert_eq!(next_delay(Duration::from_secs(60), Duration::from_secs(10)), FIRST_DELAY);
    }
}
