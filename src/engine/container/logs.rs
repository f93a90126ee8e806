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
    let driver = c.kept.log.driver;
    if !driver.keeps_log() {
        return Err(ContainerError::Invalid(format!(
            "this container is using the '{}' log driver, cannot read logs: this container is not logging output",
            driver.as_str()
        )));
    }
    read_file(&c.log_path(ctx), q, sink)
}

/// [`read`] on a log file. The file is streamed, never held whole: with `--tail` it first
/// looks back from the end, in growing windows, for where the last lines start.
fn read_file(path: &std::path::Path, q: &LogQuery, sink: &mut Sink) -> Result<u64, ContainerError> {
    let io = |e| ContainerError::io("cannot read", path, e);
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(io(e)),
    };
    let start = match q.tail {
        Some(n) => tail_start(&mut f, q, n).map_err(io)?,
        None => 0,
    };
    f.seek(SeekFrom::Start(start)).map_err(io)?;
    let mut r = std::io::BufReader::with_capacity(64 * 1024, f);
    let mut pos = start;
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = std::io::BufRead::read_until(&mut r, b'\n', &mut line).map_err(io)?;
        // The end, or a record still being written: left for `follow`.
        if n == 0 || line.last() != Some(&b'\n') {
            return Ok(pos);
        }
        pos += n as u64;
        if let Some(rec) = parse(&line[..n - 1])
            && q.wants(&rec)
        {
            sink(&rec).map_err(ContainerError::Output)?;
        }
    }
}

/// The offset of the first record `--tail n` shows: just after the (n+1)th full record that
/// `q` wants, counted from the end (0 when there are not that many).
fn tail_start(f: &mut std::fs::File, q: &LogQuery, n: usize) -> std::io::Result<u64> {
    let len = f.metadata()?.len();
    let mut window: u64 = 64 * 1024;
    loop {
        let from = len.saturating_sub(window);
        let mut buf = vec![0u8; (len - from) as usize];
        f.seek(SeekFrom::Start(from))?;
        f.read_exact(&mut buf)?;
        // A window that starts inside a record skips to the next one.
        let skip = match from {
            0 => 0,
            _ => buf.iter().position(|b| *b == b'\n').map_or(buf.len(), |i| i + 1),
        };
        let body = &buf[skip..];
        let end = body.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let mut offset = 0;
        let mut lines: Vec<(usize, Record)> = Vec::new();
        for l in body[..end].split_inclusive(|b| *b == b'\n') {
            if let Some(r) = parse(&l[..l.len() - 1]).filter(|r| q.wants(r)) {
                lines.push((offset + l.len(), r));
            }
            offset += l.len();
        }
        let mut full = 0;
        if let Some((after, _)) = lines.iter().rev().find(|(_, r)| {
            full += usize::from(r.full);
            full > n
        }) {
            return Ok(from + (skip + after) as u64);
        }
        if from == 0 {
            return Ok(0);
        }
        window *= 4;
    }
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
                sink(r).map_err(ContainerError::Output)?;
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
        if cur.as_ref().is_none_or(|cur| !cur.is_running() && cur.state != super::State::Created) {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// What `read` showed before it streamed: every record parsed, the tail cut from the list.
    fn naive(data: &[u8], q: &LogQuery) -> Vec<String> {
        let (all, _) = records(data);
        let wanted: Vec<&Record> = all.iter().filter(|r| q.wants(r)).collect();
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
        wanted[start..].iter().map(|r| String::from_utf8_lossy(r.content).into_owned()).collect()
    }

    #[test]
    fn tail_and_windows_read_from_the_end_as_the_whole_file() {
        let dir = crate::testutil::tmpdir("logs");
        let path = dir.join("ctr.log");
        let mut data = Vec::new();
        for i in 0..6000 {
            let (stream, tag) = if i % 7 == 0 { ("stderr", 'P') } else { ("stdout", 'F') };
            let sec = i / 100;
            data.extend_from_slice(
                format!(
                    "2026-11-23T10:{:02}:{:02}.000000000Z {stream} {tag} line {i} {}\n",
                    sec / 60,
                    sec % 60,
                    "x".repeat(i % 50)
                )
                .as_bytes(),
            );
        }
        let whole_len = data.len() as u64;
        data.extend_from_slice(b"2026-11-23T11:00:00.000000000Z stdout F still being writ");
        std::fs::write(&path, &data).unwrap();
        let since = chrono::DateTime::parse_from_rfc3339("2026-11-23T10:00:30Z").unwrap();
        let queries = [
            LogQuery::default(),
            LogQuery { tail: Some(0), ..Default::default() },
            LogQuery { tail: Some(1), ..Default::default() },
            LogQuery { tail: Some(5), ..Default::default() },
            LogQuery { tail: Some(4000), ..Default::default() },
            LogQuery { tail: Some(100_000), ..Default::default() },
            LogQuery { tail: Some(10), since: Some(since), until: None },
            LogQuery { tail: None, since: Some(since), until: Some(since + chrono::Duration::seconds(2)) },
        ];
        for q in queries {
            let mut got = Vec::new();
            let end = read_file(&path, &q, &mut |r: &Record| {
                got.push(String::from_utf8_lossy(r.content).into_owned());
                Ok(())
            })
            .unwrap();
            assert_eq!(got, naive(&data, &q), "{q:?}");
            assert_eq!(end, whole_len, "{q:?}");
        }
        assert_eq!(read_file(&dir.join("none.log"), &LogQuery::default(), &mut |_: &Record| Ok(())).unwrap(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
