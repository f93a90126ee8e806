//! Tar-split records: a layer's tar stream without its file contents (headers, padding and
//! every byte that is not a regular file's data, verbatim; for each file's data, its path and
//! length), so that the stream can be rebuilt byte for byte from the unpacked layer and hash
//! to the same diff ID. Recorded while a pulled layer is unpacked (`SplitTee`) and while a
//! directory is committed (`tarwrite`); replayed by `reassemble`. Knows nothing of digests.

use std::collections::HashSet;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, OwnedFd};

/// The file name of a layer's record, beside its `diff` directory.
pub const FILE_NAME: &str = "tar-split.zst";

const MAGIC: &[u8; 8] = b"KSPLIT1\n";
const VERBATIM: u8 = 1;
const FILE: u8 = 2;
const END: u8 = 0;
/// Verbatim bytes are written in records of at most this size.
const CHUNK: usize = 1 << 20;
const BLOCK: usize = 512;

#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("tar-split record: {0}")]
    Io(#[from] io::Error),
    #[error("tar-split record is damaged: {0}")]
    Corrupt(String),
    #[error("file \"{path}\" of the layer {reason}")]
    Changed { path: String, reason: String },
}

/// Writes a record: verbatim bytes and file references, in stream order.
pub struct SplitWriter<W: Write> {
    out: zstd::Encoder<'static, W>,
    pending: Vec<u8>,
}

impl<W: Write> SplitWriter<W> {
    pub fn new(out: W) -> io::Result<SplitWriter<W>> {
        let mut out = zstd::Encoder::new(out, 3)?;
        out.write_all(MAGIC)?;
        Ok(SplitWriter { out, pending: Vec::with_capacity(64 << 10) })
    }

    /// Bytes of the stream that are kept as they are.
    pub fn verbatim(&mut self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            let n = (CHUNK - self.pending.len()).min(data.len());
            self.pending.extend_from_slice(&data[..n]);
            data = &data[n..];
            if self.pending.len() >= CHUNK {
                self.flush_pending()?;
            }
        }
        Ok(())
    }

    /// `len` bytes of the stream that are the content of the layer's file `path`.
    pub fn file(&mut self, path: &[u8], len: u64) -> io::Result<()> {
        self.flush_pending()?;
        let plen = u16::try_from(path.len()).map_err(|_| io::Error::other("path longer than 64 KiB"))?;
        self.out.write_all(&[FILE])?;
        self.out.write_all(&len.to_le_bytes())?;
        self.out.write_all(&plen.to_le_bytes())?;
        self.out.write_all(path)
    }

    fn flush_pending(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        self.out.write_all(&[VERBATIM])?;
        self.out.write_all(&(self.pending.len() as u32).to_le_bytes())?;
        self.out.write_all(&self.pending)?;
        self.pending.clear();
        Ok(())
    }

    /// Ends the record and returns the inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.flush_pending()?;
        self.out.write_all(&[END])?;
        self.out.finish()
    }
}

/// Rebuilds a tar stream from its record, reading file contents beneath `root` (never
/// through a symlink, never outside it). Returns the bytes written.
pub fn reassemble(record: impl Read, root: &OwnedFd, out: &mut impl Write) -> Result<u64, SplitError> {
    let mut r = zstd::Decoder::new(record)?;
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic)?;
    if &magic != MAGIC {
        return Err(SplitError::Corrupt("unknown format".into()));
    }
    let mut buf = vec![0u8; CHUNK];
    let mut written = 0u64;
    loop {
        let mut tag = [0u8; 1];
        r.read_exact(&mut tag)?;
        match tag[0] {
            END => return Ok(written),
            VERBATIM => {
                let mut len = [0u8; 4];
                r.read_exact(&mut len)?;
                let len = u32::from_le_bytes(len) as usize;
                if len > CHUNK {
                    return Err(SplitError::Corrupt(format!("verbatim record of {len} bytes")));
                }
                r.read_exact(&mut buf[..len])?;
                out.write_all(&buf[..len])?;
                written += len as u64;
            }
            FILE => {
                let mut len = [0u8; 8];
                r.read_exact(&mut len)?;
                let mut plen = [0u8; 2];
                r.read_exact(&mut plen)?;
                let mut path = vec![0u8; u16::from_le_bytes(plen) as usize];
                r.read_exact(&mut path)?;
                let len = u64::from_le_bytes(len);
                copy_file(root, &path, len, &mut buf, out)?;
                written += len;
            }
            t => return Err(SplitError::Corrupt(format!("unknown record type {t}"))),
        }
    }
}

fn copy_file(root: &OwnedFd, path: &[u8], len: u64, buf: &mut [u8], out: &mut impl Write) -> Result<(), SplitError> {
    use rustix::fs::{Mode, OFlags, ResolveFlags};
    let shown = || String::from_utf8_lossy(path).into_owned();
    let changed = |reason: String| SplitError::Changed { path: shown(), reason };
    let how = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
    let rel = std::ffi::OsStr::from_bytes(path);
    let fd =
        rustix::fs::openat2(root.as_fd(), rel, OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC, Mode::empty(), how)
            .map_err(|e| changed(format!("cannot be opened: {e}")))?;
    let st = rustix::fs::fstat(&fd).map_err(|e| changed(format!("cannot be read: {e}")))?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile || st.st_size as u64 != len
    {
        return Err(changed(format!("is no longer the regular file of {len} bytes that was unpacked")));
    }
    let mut f = std::fs::File::from(fd);
    let mut left = len;
    while left > 0 {
        let want = (buf.len() as u64).min(left) as usize;
        let n = match f.read(&mut buf[..want]) {
            Ok(0) => return Err(changed("became shorter while being read".into())),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(changed(format!("cannot be read: {e}"))),
        };
        out.write_all(&buf[..n])?;
        left -= n as u64;
    }
    Ok(())
}

use std::os::unix::ffi::OsStrExt;

// ---- recording a stream while it is read (pull) ----

/// What the bytes being read belong to.
enum State {
    /// Collecting a 512-byte header.
    Header,
    /// The sparse-map extension blocks of a GNU sparse header, then its data.
    SparseExt { data: u64 },
    /// The content of a PAX or GNU long-name member, kept (and parsed) whole.
    Meta { kind: Meta, left: u64, pad: u64 },
    /// A regular file's data: referenced by path, not kept.
    FileData { left: u64, pad: u64 },
    /// Other data (or padding): kept verbatim.
    Verbatim { left: u64 },
    /// After the end-of-archive marker: everything is kept.
    Trailer,
    /// The stream is not understood: nothing more is recorded.
    Lost,
}

#[derive(Clone, Copy, PartialEq)]
enum Meta {
    Pax,
    Global,
    LongName,
    LongLink,
}

/// A reader that records the tar stream passing through it (see the module comment). The
/// record is usable only if every file's data can later be read back from where the applier
/// put it: a stream that names a path twice, or hides an earlier entry of its own, is not.
pub struct SplitTee<R, W: Write> {
    inner: R,
    writer: Option<SplitWriter<W>>,
    state: State,
    header: Vec<u8>,
    meta: Vec<u8>,
    long_name: Option<Vec<u8>>,
    pax_path: Option<Vec<u8>>,
    pax_size: Option<u64>,
    current: Vec<u8>,
    seen: HashSet<Vec<u8>>,
    problem: Option<String>,
}

impl<R: Read, W: Write> SplitTee<R, W> {
    pub fn new(inner: R, out: W) -> io::Result<SplitTee<R, W>> {
        Ok(SplitTee {
            inner,
            writer: Some(SplitWriter::new(out)?),
            state: State::Header,
            header: Vec::with_capacity(BLOCK),
            meta: Vec::new(),
            long_name: None,
            pax_path: None,
            pax_size: None,
            current: Vec::new(),
            seen: HashSet::new(),
            problem: None,
        })
    }

    pub fn get_ref(&self) -> &R {
        &self.inner
    }

    /// Ends the record: the writer when the record can rebuild the stream, else why not.
    pub fn finish(mut self) -> Result<W, String> {
        if let Some(p) = self.problem.take() {
            return Err(p);
        }
        if !matches!(self.state, State::Trailer) {
            return Err("the stream ended before its end-of-archive marker".into());
        }
        match self.writer.take() {
            Some(w) => w.finish().map_err(|e| e.to_string()),
            None => Err("recording failed".into()),
        }
    }

    fn lose(&mut self, why: impl Into<String>) {
        self.problem.get_or_insert_with(|| why.into());
        self.state = State::Lost;
        self.writer = None;
    }

    fn keep(&mut self, data: &[u8]) {
        if let Some(w) = self.writer.as_mut()
            && let Err(e) = w.verbatim(data)
        {
            self.lose(format!("cannot write the record: {e}"));
        }
    }

    /// Feeds bytes that the reader returned.
    fn feed(&mut self, mut data: &[u8]) {
        while !data.is_empty() {
            data = match self.state {
                State::Lost => return,
                State::Trailer => {
                    self.keep(data);
                    return;
                }
                State::Header | State::SparseExt { .. } => self.feed_header(data),
                State::Meta { .. } => self.feed_meta(data),
                State::FileData { .. } => self.feed_file(data),
                State::Verbatim { left } => {
                    let n = (left.min(data.len() as u64)) as usize;
                    self.keep(&data[..n]);
                    self.state =
                        if left == n as u64 { State::Header } else { State::Verbatim { left: left - n as u64 } };
                    &data[n..]
                }
            };
        }
    }

    fn feed_header<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        let n = (BLOCK - self.header.len()).min(data.len());
        self.header.extend_from_slice(&data[..n]);
        if self.header.len() == BLOCK {
            let block = std::mem::take(&mut self.header);
            self.keep(&block);
            match self.state {
                State::SparseExt { data } => {
                    // The last byte of the map block's 504..505 says whether another follows.
                    self.state = if block.get(504).copied().unwrap_or(0) != 0 {
                        State::SparseExt { data }
                    } else {
                        State::Verbatim { left: padded(data) }
                    };
                }
                _ => self.header_done(&block),
            }
            self.header = Vec::with_capacity(BLOCK);
        }
        &data[n..]
    }

    fn feed_meta<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        let State::Meta { kind, left, pad } = self.state else { return data };
        let n = (left.min(data.len() as u64)) as usize;
        self.keep(&data[..n]);
        if self.meta.len() < (4 << 20) {
            self.meta.extend_from_slice(&data[..n]);
        }
        let left = left - n as u64;
        if left > 0 {
            self.state = State::Meta { kind, left, pad };
        } else {
            let meta = std::mem::take(&mut self.meta);
            match kind {
                Meta::Pax => self.parse_pax(&meta),
                Meta::LongName => {
                    let mut name = meta;
                    if name.last() == Some(&0) {
                        name.pop();
                    }
                    self.long_name = Some(name);
                }
                Meta::Global | Meta::LongLink => {}
            }
            self.state = if pad > 0 { State::Verbatim { left: pad } } else { State::Header };
        }
        &data[n..]
    }

    fn feed_file<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        let State::FileData { left, pad } = self.state else { return data };
        let n = (left.min(data.len() as u64)) as usize;
        let left = left - n as u64;
        if left > 0 {
            self.state = State::FileData { left, pad };
        } else {
            self.state = if pad > 0 { State::Verbatim { left: pad } } else { State::Header };
        }
        &data[n..]
    }

    fn parse_pax(&mut self, meta: &[u8]) {
        let mut rest = meta;
        while !rest.is_empty() {
            let Some(sp) = rest.iter().position(|b| *b == b' ') else { break };
            let Some(len) = std::str::from_utf8(&rest[..sp]).ok().and_then(|s| s.parse::<usize>().ok()) else { break };
            if len <= sp || len > rest.len() {
                break;
            }
            let rec = &rest[sp + 1..len];
            let rec = rec.strip_suffix(b"\n").unwrap_or(rec);
            if let Some(eq) = rec.iter().position(|b| *b == b'=') {
                let (k, v) = (&rec[..eq], &rec[eq + 1..]);
                match k {
                    b"path" => self.pax_path = Some(v.to_vec()),
                    b"size" => self.pax_size = std::str::from_utf8(v).ok().and_then(|s| s.parse().ok()),
                    _ => {}
                }
            }
            rest = &rest[len..];
        }
    }

    /// A complete header block: decide what follows it.
    fn header_done(&mut self, block: &[u8]) {
        if block.iter().all(|b| *b == 0) {
            self.state = State::Trailer;
            return;
        }
        let Some(size) = number(&block[124..136]) else {
            return self.lose("a header has an unreadable size");
        };
        let magic = &block[257..265];
        let ustar = &magic[..6] == b"ustar\0" && &magic[6..8] == b"00";
        let gnu = magic == b"ustar  \0";
        let kind = block[156];
        if ustar || gnu {
            let meta = match kind {
                b'x' => Some(Meta::Pax),
                b'g' => Some(Meta::Global),
                b'L' => Some(Meta::LongName),
                b'K' => Some(Meta::LongLink),
                _ => None,
            };
            if let Some(kind) = meta {
                self.meta.clear();
                let pad = padded(size) - size;
                self.state = if size > 0 { State::Meta { kind, left: size, pad } } else { State::Header };
                return;
            }
        }
        let size = self.pax_size.take().unwrap_or(size);
        let path = match (self.long_name.take(), self.pax_path.take()) {
            (Some(n), _) => n,
            (None, Some(p)) => p,
            (None, None) => header_path(block, ustar),
        };
        self.entry(kind, gnu, block, path, size);
    }

    fn entry(&mut self, kind: u8, gnu: bool, block: &[u8], raw_path: Vec<u8>, size: u64) {
        let Ok(comps) = super::apply::clean_path(&raw_path) else {
            return self.lose("an entry leaves the layer");
        };
        let path: Vec<u8> = comps.iter().map(|c| c.as_bytes()).collect::<Vec<_>>().join(&b'/');
        if path.is_empty() {
            self.state = State::Verbatim { left: padded(size) };
            return;
        }
        if !self.seen.insert(path.clone()) {
            return self.lose(format!("the stream names \"{}\" twice", String::from_utf8_lossy(&path)));
        }
        // A whiteout of something this stream itself wrote hides it on disk.
        let name = path.rsplit(|b| *b == b'/').next().unwrap_or_default();
        if let Some(hidden) = name.strip_prefix(b".wh.".as_slice())
            && hidden != b".wh..opq"
        {
            let mut target = path[..path.len() - name.len()].to_vec();
            target.extend_from_slice(hidden);
            let mut under = target.clone();
            under.push(b'/');
            if self.seen.iter().any(|s| *s == target || s.starts_with(&under)) {
                return self.lose("the stream whites out one of its own entries");
            }
        }
        match kind {
            b'0' | 0 | b'7' if size > 0 => {
                if let Some(w) = self.writer.as_mut()
                    && let Err(e) = w.file(&path, size)
                {
                    return self.lose(format!("cannot write the record: {e}"));
                }
                self.current = path;
                self.state = State::FileData { left: size, pad: padded(size) - size };
            }
            b'S' if gnu && block.get(482).copied().unwrap_or(0) != 0 => self.state = State::SparseExt { data: size },
            _ => self.state = State::Verbatim { left: padded(size) },
        }
        if matches!(self.state, State::Verbatim { left: 0 }) {
            self.state = State::Header;
        }
    }
}

fn padded(size: u64) -> u64 {
    size.div_ceil(BLOCK as u64) * BLOCK as u64
}

/// The path in a header block as tar readers take it (ustar prefix/name, else name).
fn header_path(block: &[u8], ustar: bool) -> Vec<u8> {
    let cut = |f: &[u8]| f[..f.iter().position(|b| *b == 0).unwrap_or(f.len())].to_vec();
    let name = cut(&block[..100]);
    let prefix = if ustar { cut(&block[345..500]) } else { Vec::new() };
    if prefix.is_empty() && !name.contains(&b'\\') {
        return name;
    }
    let mut p = prefix;
    if !p.is_empty() {
        p.push(b'/');
    }
    p.extend_from_slice(&name);
    p
}

/// A numeric header field: octal text or base-256 (high bit set).
pub fn number(field: &[u8]) -> Option<u64> {
    if field.first().is_some_and(|b| b & 0x80 != 0) {
        let tail = &field[field.len().saturating_sub(8)..];
        return Some(tail.iter().fold(0u64, |a, b| (a << 8) | *b as u64));
    }
    let end = field.iter().position(|b| *b == 0).unwrap_or(field.len());
    let text = std::str::from_utf8(&field[..end]).ok()?.trim();
    if text.is_empty() {
        return Some(0);
    }
    u64::from_str_radix(text, 8).ok()
}

impl<R: Read, W: Write> Read for SplitTee<R, W> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.feed(&buf[..n]);
        Ok(n)
    }
}
