//! Small helpers shared by every layer: sha256 digests of streams, crash-safe file
//! writes (write new, fsync, rename), short-id formatting. Knows nothing of images or containers.

use sha2::{Digest, Sha256};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::Path;

/// A writer that hashes everything written through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    pub written: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter { inner, hasher: Sha256::new(), written: 0 }
    }
    /// `sha256:<hex>` of what has been written so far, and the inner writer.
    pub fn finish(self) -> (String, W) {
        (format!("sha256:{}", hex::encode(self.hasher.finalize())), self.inner)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.written += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that hashes everything read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Sha256,
    pub read: u64,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        HashingReader { inner, hasher: Sha256::new(), read: 0 }
    }
    /// `sha256:<hex>` of what has been read so far.
    pub fn digest(&self) -> String {
        format!("sha256:{}", hex::encode(self.hasher.clone().finalize()))
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        self.read += n as u64;
        Ok(n)
    }
}

/// A value unique within this host for naming temporary files (pid, time, counter).
pub fn nonce() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let t = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{}-{t:x}-{}", std::process::id(), N.fetch_add(1, Ordering::Relaxed))
}

/// Marks every descriptor from 3 up close-on-exec, so that nothing a caller left open (a
/// shell's, a CI runner's) reaches a container or outlives this process's exec. Descriptors
/// meant to be passed on are cleared explicitly afterwards.
pub fn cloexec_from_3() {
    // SAFETY: close_range with plain integer arguments only changes descriptor flags.
    let r = unsafe { libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, libc::CLOSE_RANGE_CLOEXEC) };
    if r == 0 {
        return;
    }
    // Kernels before 5.11: one by one.
    let fds: Vec<i32> = std::fs::read_dir("/proc/self/fd")
        .map(|d| d.flatten().filter_map(|e| e.file_name().to_str()?.parse().ok()).collect())
        .unwrap_or_default();
    for fd in fds.into_iter().filter(|fd| *fd > 2) {
        // SAFETY: fcntl on a descriptor number; on one that closed meanwhile it fails harmlessly.
        unsafe { libc::fcntl(fd, libc::F_SETFD, libc::FD_CLOEXEC) };
    }
}

/// Merges KEY=VALUE lists: later entries win, order of first appearance kept.
pub fn merge_env(lists: &[&[String]]) -> Vec<String> {
    let mut order: Vec<String> = Vec::new();
    let mut vals: std::collections::HashMap<String, String> = std::collections::HashMap::new();
    for l in lists {
        for e in l.iter() {
            let (k, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
            if !vals.contains_key(k) {
                order.push(k.to_string());
            }
            vals.insert(k.to_string(), v.to_string());
        }
    }
    order.into_iter().map(|k| format!("{k}={}", vals[&k])).collect()
}

/// Which child ended and its exit code as a shell reports it (128 + N for signal N); None
/// for statuses that are not an end (stopped, continued, still alive).
pub fn ended(status: &nix::sys::wait::WaitStatus) -> Option<(nix::unistd::Pid, u8)> {
    use nix::sys::wait::WaitStatus;
    match *status {
        WaitStatus::Exited(pid, code) => Some((pid, code as u8)),
        WaitStatus::Signaled(pid, sig, _) => Some((pid, 128u8.wrapping_add(sig as u8))),
        _ => None,
    }
}

/// `sha256:<hex>` of `data`.
pub fn sha256_bytes(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// Writes `data` to `path` crash-safely: a temporary file beside it, fsync, rename, fsync dir.
pub fn atomic_write(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    write_replacing(path, data, mode, true)
}

/// Replaces `path` with `data` in one rename, without fsync: for run-time state (PID files,
/// a running container's addresses) that a reader must never see half-written but that
/// means nothing after a crash of the machine anyway. Saves two disk flushes per write.
pub fn replace_file(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    write_replacing(path, data, mode, false)
}

fn write_replacing(path: &Path, data: &[u8], mode: u32, durable: bool) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(&tmp)?;
        f.write_all(data)?;
        if durable {
            f.sync_all()?;
        }
    }
    fs::rename(&tmp, path)?;
    if durable && let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// The hex part of a digest (`sha256:abc` -> `abc`); other strings are returned as they are.
pub fn digest_hex(d: &str) -> &str {
    d.strip_prefix("sha256:").unwrap_or(d)
}

/// A 12-character short ID, as `podman images` shows.
pub fn short_id(d: &str) -> String {
    digest_hex(d).chars().take(12).collect()
}

/// True when `s` is a valid `sha256:<64 hex>` digest.
pub fn is_sha256_digest(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
}

/// Go's `time.Time.String()`: `2006-01-02 15:04:05.999999999 -0700 MST`, the fraction's
/// trailing zeros dropped; a zone without a name shows its offset again (UTC is `UTC`).
pub fn go_time_string(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    let offset = t.format("%z").to_string();
    let zone = if t.offset().local_minus_utc() == 0 { "UTC".to_string() } else { offset.clone() };
    format!("{}{} {offset} {zone}", t.format("%Y-%m-%d %H:%M:%S"), fraction(t))
}

/// Go's RFC3339Nano: `2006-01-02T15:04:05.999999999Z07:00`, UTC as `Z`.
pub fn go_rfc3339(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    let zone = if t.offset().local_minus_utc() == 0 { "Z".to_string() } else { t.format("%:z").to_string() };
    format!("{}{}{zone}", t.format("%Y-%m-%dT%H:%M:%S"), fraction(t))
}

/// `.123` for 123 ms; nothing for a whole second.
fn fraction(t: &chrono::DateTime<chrono::FixedOffset>) -> String {
    use chrono::Timelike;
    match t.nanosecond() % 1_000_000_000 {
        0 => String::new(),
        n => format!(".{n:09}").trim_end_matches('0').to_string(),
    }
}

/// "2 hours ago", as Podman prints ages (go-units' HumanDuration, then " ago").
pub fn human_age(then: chrono::DateTime<chrono::Utc>) -> String {
    let d = (chrono::Utc::now() - then).to_std().unwrap_or_default();
    format!("{} ago", human_duration(d))
}

/// go-units' HumanDuration: "Less than a second", "About a minute", "3 hours", "2 weeks".
pub fn human_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    let minutes = secs / 60;
    // Hours round to the nearest; the larger units count whole ones of those hours.
    let hours = (d.as_secs_f64() / 3600.0 + 0.5) as u64;
    match () {
        _ if secs < 1 => "Less than a second".into(),
        _ if secs == 1 => "1 second".into(),
        _ if secs < 60 => format!("{secs} seconds"),
        _ if minutes == 1 => "About a minute".into(),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => "About an hour".into(),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        _ => format!("{} years", secs / 3600 / 24 / 365),
    }
}

/// `bytes` in decimal units with `digits` significant digits (trailing zeros dropped), the
/// number and unit joined by `sep`.
fn human_bytes(bytes: u64, digits: i32, sep: &str) -> String {
    let units = ["B", "kB", "MB", "GB", "TB", "PB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1000.0 && i < units.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    let whole_digits = if v < 1.0 { 1 } else { v.log10().floor() as i32 + 1 };
    let decimals = (digits - whole_digits).max(0) as usize;
    let mut s = format!("{v:.decimals$}");
    if s.contains('.') {
        s = s.trim_end_matches('0').trim_end_matches('.').to_string();
    }
    format!("{s}{sep}{}", units[i])
}

/// Human size as `podman images` prints it ("5.2 MB", decimal units, 3 significant digits).
pub fn human_size(bytes: u64) -> String {
    human_bytes(bytes, 3, " ")
}

/// Human size as `podman system df` and the prune summaries print it (Docker's go-units:
/// "5.848MB", "0B", 4 significant digits, no space).
pub fn human_size_compact(bytes: u64) -> String {
    human_bytes(bytes, 4, "")
}

/// Seconds in a Go duration ("10m", "1h30m", "1.5h", "300ms").
pub fn go_duration_secs(s: &str) -> Option<f64> {
    let (neg, mut rest) = match s.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if rest == "0" {
        return Some(0.0);
    }
    let mut total = 0.0;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(rest.len());
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit() || c == '.').unwrap_or(rest.len());
        let scale = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return None,
        };
        total += n * scale;
        rest = &rest[unit_len..];
    }
    Some(if neg { -total } else { total })
}

/// The time a `--since`/`--until`/`until=` value means, as Podman reads it: a Go duration
/// before `now` ("10m", "1h30m"), Unix seconds ("1700000000", "1700000000.5"), an RFC 3339
/// time, or a local date and time ("2024-01-31", "2024-01-31T12:00:00").
pub fn parse_time(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::{DateTime, TimeZone, Utc};
    let v = value.trim();
    if let Some(d) = go_duration_secs(v) {
        let d = chrono::Duration::try_milliseconds((d * 1000.0) as i64)?;
        return now.checked_sub_signed(d);
    }
    if let Ok(secs) = v.parse::<f64>() {
        return DateTime::from_timestamp(secs.floor() as i64, (secs.fract().abs() * 1e9) as u32);
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Some(t.with_timezone(&Utc));
    }
    let local =
        |t: chrono::NaiveDateTime| chrono::Local.from_local_datetime(&t).earliest().map(|t| t.with_timezone(&Utc));
    for fmt in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(v, fmt) {
            return local(t);
        }
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d").ok().and_then(|d| local(d.and_hms_opt(0, 0, 0)?))
}

/// `parse_time` in Unix seconds, for filters on records that keep whole seconds.
pub fn parse_until(value: &str, now: i64) -> Option<i64> {
    parse_time(value, chrono::DateTime::from_timestamp(now, 0)?).map(|t| t.timestamp())
}

/// A directory held open so that names in it can be given as `/proc/self/fd/N/NAME`: short
/// enough for a Unix socket address (107 bytes) however deep the directory is, without
/// changing the working directory of a process that may have threads (or a deleted cwd).
pub struct DirHandle(std::fs::File);

impl DirHandle {
    pub fn open(dir: &Path) -> io::Result<DirHandle> {
        std::fs::File::open(dir).map(DirHandle)
    }
    /// The path of `name` in the directory, valid while this handle lives.
    pub fn path(&self, name: &str) -> std::path::PathBuf {
        use std::os::fd::AsRawFd;
        std::path::PathBuf::from(format!("/proc/self/fd/{}/{name}", self.0.as_raw_fd()))
    }
}

/// The one-line failure report of the start pipes (runtime to monitor, monitor to CLI):
/// `err CODE MESSAGE`, the message on one line.
pub fn failure_line(code: u8, message: &str) -> String {
    format!("err {code} {}", message.replace('\n', " "))
}

/// Reads a `failure_line` back: (exit code, message); None for any other line.
pub fn parse_failure(line: &str) -> Option<(u8, String)> {
    let rest = line.trim_end().strip_prefix("err ")?;
    let (code, msg) = rest.split_once(' ').unwrap_or((rest, ""));
    Some((code.parse().unwrap_or(125), msg.to_string()))
}

/// Prints an error as Podman does (`Error: ` then one line) on stderr; scripts grep for it.
pub fn print_error(message: impl std::fmt::Display) {
    eprintln!("Error: {}", message.to_string().replace('\n', " "));
}

/// The stdout that containers running attached write to: ours, or what it was before
/// `--out`/`--noout` redirected it (see `keep_stdout_for_containers`).
static CONTAINER_STDOUT: std::sync::OnceLock<std::os::fd::OwnedFd> = std::sync::OnceLock::new();

/// Keeps `fd` (the original stdout) for the output of attached containers.
pub fn keep_stdout_for_containers(fd: std::os::fd::OwnedFd) {
    let _ = CONTAINER_STDOUT.set(fd);
}

/// Where an attached container's stdout goes: the original stdout when kiste's own output
/// was redirected, else ours.
pub fn container_stdout() -> std::process::Stdio {
    CONTAINER_STDOUT
        .get()
        .and_then(|f| f.try_clone().ok())
        .map(std::process::Stdio::from)
        .unwrap_or_else(std::process::Stdio::inherit)
}

/// The descriptor of [`container_stdout`]: the original stdout, or 1.
pub fn container_stdout_fd() -> i32 {
    use std::os::fd::AsRawFd;
    CONTAINER_STDOUT.get().map_or(1, |f| f.as_raw_fd())
}

/// Prints a warning as Podman does (logrus' `WARN[0000] `) on stderr, never stdout.
pub fn print_warning(message: impl std::fmt::Display) {
    eprintln!("WARN[0000] {}", message.to_string().replace('\n', " "));
}

/// Go's `filepath.Match` for one path component.
pub fn go_match(pattern: &str, name: &str) -> Result<bool, String> {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fn class_at(p: &[char], mut i: usize, c: char) -> Result<(bool, usize), String> {
        let negated = p.get(i) == Some(&'^');
        if negated {
            i += 1;
        }
        let mut hit = false;
        let mut first = true;
        loop {
            let Some(&lo0) = p.get(i) else { return Err("syntax error in pattern".into()) };
            if lo0 == ']' && !first {
                return Ok((hit != negated, i + 1));
            }
            first = false;
            let mut lo = lo0;
            i += 1;
            if lo == '\\' {
                lo = *p.get(i).ok_or("syntax error in pattern")?;
                i += 1;
            }
            let mut hi = lo;
            if p.get(i) == Some(&'-') && p.get(i + 1).is_some_and(|x| *x != ']') {
                hi = p[i + 1];
                i += 2;
                if hi == '\\' {
                    hi = *p.get(i).ok_or("syntax error in pattern")?;
                    i += 1;
                }
            }
            if lo <= c && c <= hi {
                hit = true;
            }
        }
    }
    fn go(p: &[char], n: &[char], pi: usize, ni: usize) -> Result<bool, String> {
        let Some(&c) = p.get(pi) else { return Ok(ni == n.len()) };
        match c {
            '*' => {
                for k in ni..=n.len() {
                    if go(p, n, pi + 1, k)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            '?' => Ok(ni < n.len() && go(p, n, pi + 1, ni + 1)?),
            '[' => {
                let Some(&ch) = n.get(ni) else { return Ok(false) };
                let (ok, next) = class_at(p, pi + 1, ch)?;
                Ok(ok && go(p, n, next, ni + 1)?)
            }
            '\\' => {
                let lit = *p.get(pi + 1).ok_or("syntax error in pattern")?;
                Ok(n.get(ni) == Some(&lit) && go(p, n, pi + 2, ni + 1)?)
            }
            c => Ok(n.get(ni) == Some(&c) && go(p, n, pi + 1, ni + 1)?),
        }
    }
    go(&p, &n, 0, 0)
}

/// A umask as `--umask` and containers.conf give it: up to four octal digits, at most 0777.
pub fn octal_umask(v: &str) -> Option<u32> {
    let m = u32::from_str_radix(v, 8).ok()?;
    (!v.is_empty() && v.len() <= 4 && m <= 0o777).then_some(m)
}

/// Raises this process's soft limit on open descriptors to its hard limit (a deep tree
/// walked, a relay's many connections).
pub fn raise_fd_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let lim = getrlimit(Resource::Nofile);
    if lim.current < lim.maximum {
        let _ = setrlimit(Resource::Nofile, Rlimit { current: lim.maximum, maximum: lim.maximum });
    }
}

/// A process's start time (clock ticks since boot): with the PID it names one process, even
/// after the PID is reused. None when the process is gone or a zombie.
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut f = stat.rsplit_once(')')?.1.split_whitespace();
    if f.next()? == "Z" {
        return None;
    }
    f.nth(18)?.parse().ok()
}

/// Records process `pid` in `path` as "PID START" (replacing it whole), so that
/// [`recorded_process`] names that process and no later one with its PID. NotFound when the
/// process has already ended.
pub fn record_process(path: &Path, pid: u32) -> io::Result<()> {
    let start = process_start_time(pid)
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("process {pid} has ended")))?;
    replace_file(path, format!("{pid} {start}\n").as_bytes(), 0o600)
}

/// The PID [`record_process`] wrote to `path`, while that same process lives.
pub fn recorded_process(path: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    let mut f = text.split_whitespace();
    let pid: u32 = f.next()?.parse().ok()?;
    let start: u64 = f.next()?.parse().ok()?;
    (process_start_time(pid) == Some(start)).then_some(pid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_records_name_a_live_process_only() {
        assert!(process_start_time(std::process::id()).is_some());
        assert!(process_start_time(u32::MAX - 1).is_none());
        let dir = crate::testutil::tmpdir("record");
        let rec = dir.join("pid");
        record_process(&rec, std::process::id()).unwrap();
        assert_eq!(recorded_process(&rec), Some(std::process::id()));
        // The same PID with another start time is another process.
        std::fs::write(&rec, format!("{} 1\n", std::process::id())).unwrap();
        assert_eq!(recorded_process(&rec), None);
        assert_eq!(record_process(&rec, u32::MAX - 1).unwrap_err().kind(), io::ErrorKind::NotFound);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn durations_as_go_units_prints_them() {
        let d = std::time::Duration::from_secs;
        let cases = [
            (0, "Less than a second"),
            (1, "1 second"),
            (59, "59 seconds"),
            (60, "About a minute"),
            (119, "About a minute"),
            (120, "2 minutes"),
            (3599, "59 minutes"),
            (3600, "About an hour"),
            (5399, "About an hour"),
            (5400, "2 hours"),
            (19_920, "6 hours"),
            (47 * 3600, "47 hours"),
            (48 * 3600, "2 days"),
            (14 * 86400, "2 weeks"),
            (60 * 86400, "2 months"),
            (730 * 86400, "2 years"),
        ];
        for (secs, want) in cases {
            assert_eq!(human_duration(d(secs)), want, "{secs}s");
        }
    }

    #[test]
    fn failure_lines_round_trip_on_one_line() {
        let l = failure_line(127, "sh: not found\nin $PATH");
        assert_eq!(l, "err 127 sh: not found in $PATH");
        assert_eq!(parse_failure(&format!("{l}\n")), Some((127, "sh: not found in $PATH".into())));
        assert_eq!(parse_failure("12345"), None);
    }

    #[test]
    fn sizes_read_like_podman() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(4_400_000), "4.4 MB");
        assert_eq!(human_size(123_456_789), "123 MB");
        assert_eq!(human_size(12_340_000), "12.3 MB");
        assert_eq!(human_size(1000), "1 kB");
        assert_eq!(human_size_compact(0), "0B");
        assert_eq!(human_size_compact(5_848_123), "5.848MB");
        assert_eq!(human_size_compact(123_456_789), "123.5MB");
        assert_eq!(human_size_compact(999), "999B");
    }

    #[test]
    fn until_reads_durations_timestamps_and_dates() {
        let now = 1_700_000_000;
        assert_eq!(parse_until("10m", now), Some(now - 600));
        assert_eq!(parse_until("1h30m", now), Some(now - 5400));
        assert_eq!(parse_until("1.5h", now), Some(now - 5400));
        assert_eq!(parse_until("1600000000", now), Some(1_600_000_000));
        assert_eq!(parse_until("2023-11-14T22:13:20Z", now), Some(1_700_000_000));
        assert!(parse_until("2023-11-14", now).is_some());
        assert_eq!(parse_until("soon", now), None);
        assert_eq!(parse_until("10x", now), None);
    }

    #[test]
    fn digests() {
        assert!(is_sha256_digest(&sha256_bytes(b"x")));
        assert!(!is_sha256_digest("sha256:abc"));
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
    }
}
