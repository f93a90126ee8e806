//! The monitor's health check timer (Podman needs systemd timers; kiste's monitor keeps its
//! own): checks are due every `--health-interval` (every start interval during the start
//! period). Each check is `kiste __healthcheck ID`, a process of its own that execs into the
//! container and records the result (engine::container::health), so the monitor only keeps
//! time. The detached waiter polls with a timeout and spawns it through posix_spawn with an
//! argv made once (`Timer`): it stays tiny between checks. Monitors that stay whole
//! (terminal, -i, attached) run the same schedule on a thread (`TimerThread`).

use crate::engine::Context;
use crate::engine::container::health::{self, HealthConfig};
use std::ffi::CString;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// `__healthcheck ID`: runs the container's check once (the timer's), records the result.
pub const CHECK: &str = "__healthcheck";

/// When checks are due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    interval: Duration,
    start_interval: Duration,
    start_period: Duration,
}

impl Schedule {
    /// None when the check has no timer (`--health-interval disable`).
    pub fn of(cfg: &HealthConfig) -> Option<Schedule> {
        (cfg.interval_ns > 0).then(|| Schedule {
            interval: cfg.interval(),
            start_interval: cfg.start_interval(),
            start_period: cfg.start_period(),
        })
    }

    /// The waiter's argument: the three durations in ms.
    pub fn to_arg(self) -> String {
        format!("{},{},{}", self.interval.as_millis(), self.start_interval.as_millis(), self.start_period.as_millis())
    }

    pub fn from_arg(s: &str) -> Option<Schedule> {
        let mut it = s.split(',').map(|v| v.parse::<u64>().ok().map(Duration::from_millis));
        let (interval, start_interval, start_period) = (it.next()??, it.next()??, it.next()??);
        (!interval.is_zero()).then_some(Schedule { interval, start_interval, start_period })
    }

    /// The wait before the next check, `since_start` after the container started (Docker's:
    /// the start interval within the start period).
    fn period(&self, since_start: Duration) -> Duration {
        let p = if since_start < self.start_period && !self.start_interval.is_zero() {
            self.start_interval
        } else {
            self.interval
        };
        p.max(Duration::from_millis(1))
    }
}

/// The waiter's timer: no allocation after it is made.
pub struct Timer {
    schedule: Schedule,
    start: Instant,
    due: Instant,
    /// The running check, reaped by PID (never PID 1's status).
    child: Option<libc::pid_t>,
    argv: [CString; 3],
}

impl Timer {
    pub fn new(id: &str, schedule: Schedule) -> Option<Timer> {
        let start = Instant::now();
        Some(Timer {
            schedule,
            start,
            due: start + schedule.period(Duration::ZERO),
            child: None,
            argv: [CString::new("/proc/self/exe").ok()?, CString::new(CHECK).ok()?, CString::new(id).ok()?],
        })
    }

    /// Milliseconds until the next check is due (for poll's timeout).
    #[inline(always)]
    pub fn timeout_ms(&self) -> i32 {
        let left = self.due.saturating_duration_since(Instant::now());
        // Rounded up: poll wakes at or after the due time, not just before it.
        (left.as_micros().div_ceil(1000)).min(i32::MAX as u128) as i32
    }

    /// After each wake: reaps a finished check, and starts one when due (unless the last is
    /// still running: checks never overlap).
    #[inline(never)]
    pub fn tick(&mut self) {
        if let Some(pid) = self.child {
            let mut st = 0;
            // SAFETY: waitpid for our own child, without blocking.
            if unsafe { libc::waitpid(pid, &mut st, libc::WNOHANG) } != 0 {
                self.child = None;
            }
        }
        let now = Instant::now();
        if now < self.due {
            return;
        }
        if self.child.is_none() {
            self.child = spawn(&self.argv);
        }
        self.due = now + self.schedule.period(now - self.start);
    }
}

/// posix_spawn of `argv` with our environment; None when it fails (the next one is tried
/// when due).
fn spawn(argv: &[CString; 3]) -> Option<libc::pid_t> {
    unsafe extern "C" {
        static environ: *const *mut libc::c_char;
    }
    let ptrs: [*mut libc::c_char; 4] =
        [argv[0].as_ptr() as *mut _, argv[1].as_ptr() as *mut _, argv[2].as_ptr() as *mut _, std::ptr::null_mut()];
    let mut pid: libc::pid_t = 0;
    // SAFETY: a NUL-terminated argv of valid C strings and the process's own environment.
    let r = unsafe { libc::posix_spawn(&mut pid, ptrs[0], std::ptr::null(), std::ptr::null(), ptrs.as_ptr(), environ) };
    (r == 0).then_some(pid)
}

/// The timer of a monitor that stays whole: a thread that ends when this is dropped.
pub struct TimerThread {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: std::thread::Thread,
}

impl Drop for TimerThread {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        self.thread.unpark();
    }
}

/// Starts the timer thread for container `id` when its check has a timer.
pub fn spawn_thread(id: &str, cfg: Option<&HealthConfig>) -> Option<TimerThread> {
    use std::sync::atomic::Ordering;
    let schedule = Schedule::of(cfg?)?;
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (flag, id) = (stop.clone(), id.to_string());
    let handle = std::thread::spawn(move || {
        let start = Instant::now();
        let mut due = start + schedule.period(Duration::ZERO);
        loop {
            let now = Instant::now();
            if flag.load(Ordering::SeqCst) {
                return;
            }
            if now < due {
                std::thread::park_timeout(due - now);
                continue;
            }
            // Its status may be taken by the monitor's reaper first: either way it has ended.
            if let Ok(mut child) = std::process::Command::new("/proc/self/exe").args([CHECK, &id]).spawn() {
                let _ = child.wait();
            }
            let now = Instant::now();
            due = now + schedule.period(now - start);
        }
    });
    Some(TimerThread { stop, thread: handle.thread().clone() })
}

/// `__healthcheck ID`: one check for the timer; a check still running makes this one skip.
pub fn check_main() -> ExitCode {
    crate::util::cloexec_from_3();
    let Some(id) = std::env::args().nth(2) else { return ExitCode::from(125) };
    let r = Context::new().map_err(Into::into).and_then(|ctx| health::run_check(&ctx, &id, health::Trigger::Timer));
    match r {
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => {
            crate::util::print_error(format!("healthcheck of {id}: {e}"));
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_round_trips_and_uses_the_start_interval_in_the_start_period() {
        let s = Schedule {
            interval: Duration::from_secs(30),
            start_interval: Duration::from_secs(5),
            start_period: Duration::from_secs(60),
        };
        assert_eq!(Schedule::from_arg(&s.to_arg()), Some(s));
        assert_eq!(Schedule::from_arg("0,5000,0"), None, "no interval, no timer");
        assert_eq!(Schedule::from_arg("x"), None);
        assert_eq!(s.period(Duration::from_secs(10)), Duration::from_secs(5));
        assert_eq!(s.period(Duration::from_secs(61)), Duration::from_secs(30));
        let t = Timer::new("abc", s).unwrap();
        assert!((4990..=5000).contains(&t.timeout_ms()), "{}", t.timeout_ms());
    }

    #[test]
    fn the_timer_spawns_when_due_and_reaps_its_child() {
        let s = Schedule {
            interval: Duration::from_millis(1),
            start_interval: Duration::ZERO,
            start_period: Duration::ZERO,
        };
        let mut t = Timer::new("x", s).unwrap();
        // A harmless program for the test: /bin/true with our argv.
        t.argv[0] = CString::new("/bin/true").unwrap();
        std::thread::sleep(Duration::from_millis(2));
        t.tick();
        let pid = t.child.expect("a check was started");
        for _ in 0..200 {
            std::thread::sleep(Duration::from_millis(5));
            t.tick();
            if t.child != Some(pid) {
                return;
            }
        }
        panic!("the finished check was never reaped");
    }
}
