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

#[cfg(test)]
pub fn sha256_bytes(data: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(data)))
}

/// Writes `data` to `path` crash-safely: a temporary file beside it, fsync, rename, fsync dir.
pub fn atomic_write(path: &Path, data: &[u8], mode: u32) -> io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    {
        let mut f = fs::OpenOptions::new().write(true).create(true).truncate(true).mode(mode).open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    if let Ok(d) = File::open(dir) {
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

/// "2 hours ago", as Podman prints ages.
pub fn human_age(then: chrono::DateTime<chrono::Utc>) -> String {
    let secs = (chrono::Utc::now() - then).num_seconds().max(0);
    let (n, unit) = match secs {
        s if s < 1 => return "Less than a second ago".into(),
        s if s < 60 => (s, "second"),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86400 => (s / 3600, "hour"),
        s if s < 86400 * 7 => (s / 86400, "day"),
        s if s < 86400 * 30 => (s / (86400 * 7), "week"),
        s if s < 86400 * 365 => (s / (86400 * 30), "month"),
        s => (s / (86400 * 365), "year"),
    };
    if n == 1 {
        let article = if unit == "hour" { "An" } else { "A" };
        format!("{article} {unit} ago")
    } else {
        format!("{n} {unit}s ago")
    }
}

/// Human size as Podman prints it ("5.2 MB", decimal units, 3 significant digits).
pub fn human_size(bytes: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = bytes as f64;
    let mut i = 0;
    while v >= 1000.0 && i < units.len() - 1 {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{bytes} B")
    } else {
        let s = if v >= 100.0 {
            format!("{v:.0}")
        } else if v >= 10.0 {
            format!("{v:.1}")
        } else {
            format!("{v:.2}")
        };
        let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
        format!("{s} {}", units[i])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_podman() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(4_400_000), "4.4 MB");
        assert_eq!(human_size(123_456_789), "123 MB");
        assert_eq!(human_size(12_340_000), "12.3 MB");
    }

    #[test]
    fn digests() {
        assert!(is_sha256_digest(&sha256_bytes(b"x")));
        assert!(!is_sha256_digest("sha256:abc"));
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
    }
}
