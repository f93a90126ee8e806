//! Reading a container's log (the monitor writes it; `monitor::logfile` owns the format):
//! the records `logs` asks for (time window, `--tail`), and following new ones while the
//! container runs. Hands records to a sink; printing them is the caller's business.

use super::{Container, ContainerError};
use crate::engine::Context;
use crate::monitor::logfile::{Record, parse};
use std::io::{Read, Seek, SeekFrom};
use std::time::Duration;

/// Which records `logs` shows.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogQuery {
    pub since: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub until: Option<chrono::DateTime<chrono::FixedOffset>>,
    /// The last N lines only.
    pub tail: Option<usize>,
}

impl LogQuery {
    fn wants(&self, r: &Record) -> bool {
        self.since.is_none_or(|t| r.time >= t) && self.until.is_none_or(|t| r.time <= t)
    }
}

pub type Sink<'a> = dyn FnMut(&Record) -> std::io::Result<()> + 'a;

/// The whole records in `data` (a record being written is left for later) and their length.
fn records(data: &[u8]) -> (Vec<Record<'_>>, usize) {
    let end = data.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    (data[..end].split(|b| *b == b'\n').filter_map(parse).collect(), end)
}

/// Hands the records of `c`'s log that `q` asks for to `sink`; returns the byte offset after
/// them, where following starts. A container that never ran detached has an empty log.
pub fn read(ctx: &Context, c: &Container, q: &LogQuery, sink: &mut Sink) -> Result<u64, ContainerError> {
    let path = c.log_path(ctx);
    let data = match std::fs::read(&path) {
        Ok(d) => d,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(ContainerError::io("cannot read", &path, e)),
    };
    let (all, end) = records(&data);
    let wanted: Vec<&Record> = all.iter().filter(|r| q.wants(r)).collect();
    // --tail counts whole lines: start after the (N+1)th full record from the end.
    let start = q.tail.map_or(0, |n| {
        let mut full = 0;
        wanted
            .iter()
            .rposition(|r| {
                full += usize::from(r.full);
                full > n
            })
            .map_or(0, |i| i + 1)
    });
    for r in &wanted[start..] {
        sink(r).map_err(|e| ContainerError::io("cannot write", "the output", e))?;
    }
    Ok(end as u64)
}

/// Hands each record written from byte `pos` on (the start of a line) that `q` wants to
/// `sink` until the container stops running. Returns its record as it ended, or None when it
/// was removed meanwhile (`--rm`).
pub fn follow(
    ctx: &Context,
    id: &str,
    pos: u64,
    q: &LogQuery,
    sink: &mut Sink,
) -> Result<Option<Container>, ContainerError> {
    let c = super::lifecycle::reload(ctx, id)?;
    let path = c.log_path(ctx);
    let mut f = None;
    let mut pos = pos;
    let io = |e: std::io::Error| ContainerError::io("cannot read", &path, e);
    loop {
        if f.is_none() {
            f = std::fs::File::open(&path).ok();
        }
        let mut read_new = |f: &mut std::fs::File| -> Result<usize, ContainerError> {
            let mut buf = Vec::new();
            f.seek(SeekFrom::Start(pos)).map_err(io)?;
            f.read_to_end(&mut buf).map_err(io)?;
            let (recs, end) = records(&buf);
            for r in recs.iter().filter(|r| q.wants(r)) {
                sink(r).map_err(io)?;
            }
            pos += end as u64;
            Ok(end)
        };
        if let Some(f) = f.as_mut()
            && read_new(f)? > 0
        {
            continue;
        }
        let cur = match super::lifecycle::reload(ctx, &c.id) {
            Ok(cur) => Some(cur),
            Err(ContainerError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        if cur.as_ref().is_none_or(|cur| !cur.is_running() && cur.state != "created") {
            // One last read: the container may have written just before exiting (the open
            // file stays readable after an --rm removal).
            if let Some(f) = f.as_mut() {
                read_new(f)?;
            }
            return Ok(cur);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
