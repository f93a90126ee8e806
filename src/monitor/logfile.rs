//! The container log in Podman's k8s-file format, one record per line:
//! `2026-11-23T09:19:40.123456789Z stdout F text` — F for a full line, P for a part of one
//! (a line longer than the buffer, or output that ended without a newline). The monitor
//! writes it (the waiter copies the container's stdout/stderr pipes, the attach server a
//! terminal's output); `logs` and `attach` read it back. Owns the format only.

use std::io::Write;
use std::os::fd::OwnedFd;

/// Longest line kept whole; longer ones are written in parts.
const MAX_LINE: usize = 16 * 1024;

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
}

/// Turns chunks of one stream's output into log records.
pub struct LineWriter {
    stream: &'static str,
    pending: Vec<u8>,
}

impl LineWriter {
    pub fn new(stream: &'static str) -> LineWriter {
        LineWriter { stream, pending: Vec::new() }
    }

    /// Records every complete line of `data` (and what has waited for it).
    pub fn write(&mut self, log: &mut impl Write, data: &[u8]) -> std::io::Result<()> {
        self.pending.extend_from_slice(data);
        let mut out = Vec::new();
        let ts = now();
        while let Some(i) = self.pending.iter().position(|b| *b == b'\n') {
            record(&mut out, &ts, self.stream, 'F', &self.pending[..i]);
            self.pending.drain(..=i);
        }
        while self.pending.len() >= MAX_LINE {
            record(&mut out, &ts, self.stream, 'P', &self.pending[..MAX_LINE]);
            self.pending.drain(..MAX_LINE);
        }
        log.write_all(&out)
    }

    /// Records what is left without a newline, as a part.
    pub fn flush(&mut self, log: &mut impl Write) -> std::io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut out = Vec::new();
        record(&mut out, &now(), self.stream, 'P', &self.pending);
        self.pending.clear();
        log.write_all(&out)
    }
}

fn record(out: &mut Vec<u8>, ts: &str, stream: &str, tag: char, line: &[u8]) {
    out.extend_from_slice(format!("{ts} {stream} {tag} ").as_bytes());
    out.extend_from_slice(line);
    out.push(b'\n');
}

/// One record read back.
#[derive(Debug, PartialEq)]
pub struct Record<'a> {
    pub time: chrono::DateTime<chrono::FixedOffset>,
    pub stream: &'a str,
    pub full: bool,
    pub content: &'a [u8],
}

/// Parses one line of the log (without its newline).
pub fn parse(line: &[u8]) -> Option<Record<'_>> {
    let mut it = line.splitn(4, |b| *b == b' ');
    let time = chrono::DateTime::parse_from_rfc3339(std::str::from_utf8(it.next()?).ok()?).ok()?;
    let stream = std::str::from_utf8(it.next()?).ok()?;
    let full = match it.next()? {
        b"F" => true,
        b"P" => false,
        _ => return None,
    };
    Some(Record { time, stream, full, content: it.next().unwrap_or(b"") })
}

/// Copies the container's stdout and stderr pipes into the log until both close (when the
/// container's PID namespace has ended, nothing can hold them any more).
pub fn pump(out: OwnedFd, err: OwnedFd, log: std::fs::File) {
    pump_idle(out, err, log, |fds, busy| poll(fds, if busy { 1000 } else { -1 }));
}

pub fn poll(fds: &mut [libc::pollfd], timeout_ms: i32) -> i32 {
    // SAFETY: `fds` is a valid array of pollfd of the length given.
    unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout_ms) }
}

/// [`pump`], waiting through `wait(fds, busy)`, which polls `fds` and returns poll's
/// result: `busy` while output came within the last second (poll for a second at most, so
/// that a quiet second is noticed), else quiet (the waiter gives back the pages it touched
/// before it sleeps). A wait may end early for the caller's own timers (returning 0).
pub fn pump_idle(
    out: OwnedFd,
    err: OwnedFd,
    mut log: std::fs::File,
    mut wait: impl FnMut(&mut [libc::pollfd], bool) -> i32,
) {
    use std::io::Read;
    use std::os::fd::AsRawFd;
    let mut files = [Some(std::fs::File::from(out)), Some(std::fs::File::from(err))];
    let mut writers = [LineWriter::new("stdout"), LineWriter::new("stderr")];
    let mut buf = vec![0u8; 8192];
    let mut busy = true;
    while files.iter().any(Option::is_some) {
        // A closed stream is polled as -1, which poll ignores.
        let mut fds = files.each_ref().map(|f| libc::pollfd {
            fd: f.as_ref().map_or(-1, |f| f.as_raw_fd()),
            events: libc::POLLIN,
            revents: 0,
        });
        let n = wait(&mut fds, busy);
        if n < 0 {
            if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted {
                continue;
            }
            return;
        }
        busy = n > 0;
        for (i, pfd) in fds.iter().enumerate() {
            let Some(f) = files[i].as_mut() else { continue };
            if pfd.revents == 0 {
                continue;
            }
            match f.read(&mut buf) {
                Ok(0) | Err(_) => {
                    let _ = writers[i].flush(&mut log);
                    files[i] = None;
                }
                Ok(n) => {
                    let _ = writers[i].write(&mut log, &buf[..n]);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_with_parts() {
        let mut log = Vec::new();
        let mut w = LineWriter::new("stdout");
        w.write(&mut log, b"one\ntw").unwrap();
        w.write(&mut log, b"o\nthree").unwrap();
        w.flush(&mut log).unwrap();
        let recs: Vec<Record> = log.split(|b| *b == b'\n').filter(|l| !l.is_empty()).filter_map(parse).collect();
        let got: Vec<(&[u8], bool)> = recs.iter().map(|r| (r.content, r.full)).collect();
        assert_eq!(got, vec![(&b"one"[..], true), (&b"two"[..], true), (&b"three"[..], false)]);
        assert!(recs.iter().all(|r| r.stream == "stdout"));
        assert!(parse(b"garbage").is_none());
        assert_eq!(parse(b"2026-11-23T09:19:40.123456789Z stderr F ").unwrap().content, b"");
    }

    #[test]
    fn long_lines_are_split_into_parts() {
        let mut log = Vec::new();
        let mut w = LineWriter::new("stderr");
        w.write(&mut log, &vec![b'x'; MAX_LINE + 10]).unwrap();
        w.write(&mut log, b"\n").unwrap();
        let recs: Vec<Record> = log.split(|b| *b == b'\n').filter(|l| !l.is_empty()).filter_map(parse).collect();
        assert_eq!(recs.len(), 2);
        assert!(!recs[0].full && recs[1].full);
        assert_eq!(recs[0].content.len() + recs[1].content.len(), MAX_LINE + 10);
    }
}
