//! A foreground `up`: every container's output followed (each in its own thread) until all
//! have ended; the exit of one stops all with `--abort-on-container-exit`; an interrupt
//! (the caller's Ctrl-C) stops them all gracefully (through the caller's `stop`, which keeps
//! the dependency order), a second one kills them. Returns the exit code docker compose
//! gives. Signals are the caller's: it sends `Event::Interrupt`.

use super::project_state::ProjectContainer;
use crate::engine::Context;
use crate::engine::container::lifecycle;
use crate::engine::container::logs::{self, LogQuery};
use crate::monitor::logfile::Record;
use std::sync::mpsc::{Receiver, Sender};

/// What the attached `up` reacts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// Ctrl-C (or SIGTERM) reached the caller.
    Interrupt,
    /// Container `index` of the list ended, with this exit code if known.
    Ended(usize, Option<i64>),
}

/// The length of container `c`'s log now (where an attached `up` starts showing it).
pub fn log_end(ctx: &Context, c: &ProjectContainer) -> u64 {
    std::fs::metadata(c.c.log_path(ctx)).map(|m| m.len()).unwrap_or(0)
}

/// Where the attached output goes; called from several threads at once.
pub trait AttachOutput: Sync {
    fn line(&self, c: &ProjectContainer, r: &Record);
    /// `web-1 exited with code 0`.
    fn exited(&self, c: &ProjectContainer, code: Option<i64>);
    /// A line of its own (`Attaching to ...`, `Gracefully stopping...`).
    fn note(&self, text: &str);
}

/// One attached container: from where its log is shown.
pub struct Attached {
    pub container: ProjectContainer,
    /// The log offset to show output from: 0 for a container made in this `up`, the log's
    /// length before `up` for one that existed (its earlier runs are not shown again).
    pub from: u64,
}

#[derive(Debug, Clone, Default)]
pub struct AttachOptions {
    /// `--abort-on-container-exit`.
    pub abort_on_exit: bool,
    /// `--exit-code-from SERVICE` (implies abort_on_exit).
    pub exit_code_from: Option<String>,
}

/// Follows `list` until every container has ended. `events` receives the caller's
/// interrupts (`tx` is its sending side, used for the ends too); `stop` stops every
/// container of the list gracefully.
pub fn run(
    ctx: &Context,
    list: &[Attached],
    o: &AttachOptions,
    out: &dyn AttachOutput,
    stop: &(dyn Fn() + Sync),
    (tx, events): (Sender<Event>, Receiver<Event>),
) -> u8 {
    let names: Vec<String> = list.iter().map(|a| a.container.short_name()).collect();
    out.note(&format!("Attaching to {}", names.join(", ")));
    let abort = o.abort_on_exit || o.exit_code_from.is_some();
    let mut code_from = o.exit_code_from.clone();
    std::thread::scope(|scope| {
        for (i, a) in list.iter().enumerate() {
            let tx = tx.clone();
            scope.spawn(move || {
                let c = &a.container;
                let ended = logs::follow(ctx, &c.c.id, a.from, &LogQuery::default(), &mut |r: &Record| {
                    out.line(c, r);
                    Ok(())
                });
                let code = match ended {
                    Ok(Some(end)) => end.exit_code,
                    _ => crate::engine::container::exits::recorded(ctx, &c.c.id).map(i64::from),
                };
                let _ = tx.send(Event::Ended(i, code));
            });
        }
        drop(tx);
        let mut running = list.len();
        let mut stopping = false;
        let mut interrupted = false;
        let mut exit_code: u8 = 0;
        while running > 0 {
            let Ok(ev) = events.recv() else { break };
            match ev {
                Event::Ended(i, code) => {
                    running -= 1;
                    let Some(a) = list.get(i) else { continue };
                    out.exited(&a.container, code);
                    if abort && code_from.is_none() {
                        code_from = Some(a.container.service.clone());
                    }
                    if code_from.as_deref() == Some(a.container.service.as_str()) {
                        exit_code = code.and_then(|c| u8::try_from(c).ok()).unwrap_or(exit_code);
                    }
                    if abort && !stopping && running > 0 {
                        out.note("Aborting on container exit...");
                        stopping = true;
                        scope.spawn(stop);
                    }
                }
                Event::Interrupt if !stopping => {
                    out.note("Gracefully stopping... (press Ctrl+C again to force)");
                    stopping = true;
                    interrupted = true;
                    scope.spawn(stop);
                }
                Event::Interrupt => {
                    interrupted = true;
                    kill_all(ctx, list);
                }
            }
        }
        if interrupted && code_from.is_none() { 130 } else { exit_code }
    })
}

fn kill_all(ctx: &Context, list: &[Attached]) {
    for a in list {
        let _ = lifecycle::kill(ctx, &a.container.c.id, libc::SIGKILL);
    }
}
