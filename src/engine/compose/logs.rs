//! The logs of a project's containers: each container's records as `logs` asks for them
//! (`--tail`, `--since`...), and with `follow` every container followed in its own thread
//! until it stops. Records go to one sink with the container they came from; prefixes and
//! colours are the caller's.

use super::ComposeError;
use super::project_state::ProjectContainer;
use crate::engine::Context;
use crate::engine::container::logs::{self, LogQuery};
use crate::monitor::logfile::Record;

/// Receives each record with its container; called from several threads at once.
pub type LogSink<'a> = dyn Fn(&ProjectContainer, &Record) -> std::io::Result<()> + Sync + 'a;

/// Shows the logs of `list`: container after container; with `follow`, all at once until
/// each has stopped.
pub fn show(
    ctx: &Context,
    list: &[ProjectContainer],
    q: &LogQuery,
    follow: bool,
    sink: &LogSink,
) -> Result<(), ComposeError> {
    if !follow {
        for c in list {
            logs::read(ctx, &c.c, q, &mut |r: &Record| sink(c, r))?;
        }
        return Ok(());
    }
    std::thread::scope(|scope| {
        let handles: Vec<_> = list
            .iter()
            .map(|c| {
                scope.spawn(move || -> Result<(), ComposeError> {
                    let mut each = |r: &Record| sink(c, r);
                    let end = logs::read(ctx, &c.c, q, &mut each)?;
                    logs::follow(ctx, &c.c.id, end, &LogQuery { tail: None, ..*q }, &mut each)?;
                    Ok(())
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(Err(ComposeError::Container(e))) if e.is_closed_output() => return Ok(()),
                Ok(r) => r?,
                Err(_) => return Err(ComposeError::Failed("a log reader thread panicked".into())),
            }
        }
        Ok(())
    })
}
