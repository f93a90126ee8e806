//! Writes a directory tree (or one file) as a tar stream, reading only through descriptors:
//! every name is opened relative to its directory without following symlinks, so a tree that
//! changes while it is read (a running container's) cannot make it read anything outside.
//! Used by `cp`, `volume export` and a volume's first-mount copy-up. Knows nothing of
//! containers; the caller says how owners are written.

use super::idmap::Triple;
use rustix::fs::{AtFlags, FileType, Mode, OFlags};
use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;

/// Files at least this large are sent straight from the file to the output (splice).
const DIRECT_MIN: u64 = 64 << 10;
/// Headers and small files are gathered up to this much before a write.
const BUF_MAX: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum TreeTarError {
    #[error("{path}: {op}: {source}")]
    Io { path: String, op: &'static str, source: std::io::Error },
    #[error("{path} is owned by {kind} {id}, which has no ID on the other side; copy without -a")]
    Unmapped { path: String, kind: &'static str, id: u32 },
    #[error("cannot write the archive: {0}")]
    Output(std::io::Error),
}

/// Maps IDs as seen by the reader to IDs written in the archive: (from, to, count) triples.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdTable {
    pub uid: Vec<Triple>,
    pub gid: Vec<Triple>,
}

fn lookup(map: &[Triple], id: u32) -> Option<u32> {
    map.iter().find_map(|&(from, to, n)| (id >= from && id - from < n).then(|| to + (id - from)))
}

impl IdTable {
    /// `a` then `b`: IDs `a` maps, mapped again by `b` (ranges split as needed).
    pub fn compose(a: &[Triple], b: &[Triple]) -> Vec<Triple> {
        let mut out = Vec::new();
        for &(from, to, n) in a {
            for &(bf, bt, bn) in b {
                let (lo, hi) = (to.max(bf) as u64, (to as u64 + n as u64).min(bf as u64 + bn as u64));
                if lo < hi {
                    out.push((from + (lo - to as u64) as u32, bt + (lo - bf as u64) as u32, (hi - lo) as u32));
                }
            }
        }
        out
    }
    /// The inverse of a map (outside -> inside).
    pub fn invert(m: &[Triple]) -> Vec<Triple> {
        m.iter().map(|&(a, b, n)| (b, a, n)).collect()
    }
}

/// How entries are owned in the archive.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Owners {
    /// The files' owners, mapped by the table (None: as they are).
    Keep(Option<IdTable>),
    /// Everything owned by (uid, gid).
    Fixed(u32, u32),
}

/// A tar stream being written to `out` (a pipe or a file).
pub struct TarWriter {
    out: std::fs::File,
    buf: Vec<u8>,
    owners: Owners,
    /// (dev, inode) of files with several links -> the name they were first written as.
    links: HashMap<(u64, u64), Vec<u8>>,
}

fn io_err<'a>(path: &'a [u8], op: &'static str) -> impl Fn(rustix::io::Errno) -> TreeTarError + use<'a> {
    move |e| TreeTarError::Io { path: String::from_utf8_lossy(path).into_owned(), op, source: e.into() }
}

fn join(prefix: &[u8], name: &[u8]) -> Vec<u8> {
    if prefix.is_empty() {
        return name.to_vec();
    }
    let mut v = prefix.to_vec();
    v.push(b'/');
    v.extend_from_slice(name);
    v
}

impl TarWriter {
    pub fn new(out: std::fs::File, owners: Owners) -> TarWriter {
        TarWriter { out, buf: Vec::with_capacity(BUF_MAX + 512), owners, links: HashMap::new() }
    }

    fn flush_buf(&mut self) -> Result<(), TreeTarError> {
        if !self.buf.is_empty() {
            self.out.write_all(&self.buf).map_err(TreeTarError::Output)?;
            self.buf.clear();
        }
        Ok(())
    }

    fn pad(&mut self, size: u64) {
        let rem = (size % 512) as usize;
        if rem != 0 {
            self.buf.resize(self.buf.len() + 512 - rem, 0);
        }
    }

    fn ids(&self, st: &rustix::fs::Stat, path: &[u8]) -> Result<(u32, u32), TreeTarError> {
        let (uid, gid) = (st.st_uid, st.st_gid);
        match &self.owners {
            Owners::Fixed(u, g) => Ok((*u, *g)),
            Owners::Keep(None) => Ok((uid, gid)),
            Owners::Keep(Some(t)) => {
                let unmapped =
                    |kind, id| TreeTarError::Unmapped { path: String::from_utf8_lossy(path).into(), kind, id };
                Ok((
                    lookup(&t.uid, uid).ok_or_else(|| unmapped("uid", uid))?,
                    lookup(&t.gid, gid).ok_or_else(|| unmapped("gid", gid))?,
                ))
            }
        }
    }

    /// A GNU long-name (`L`) or long-link (`K`) record for a value over 100 bytes.
    fn long(&mut self, kind: u8, value: &[u8]) {
        let mut h = tar::Header::new_gnu();
        h.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
        h.set_mode(0o644);
        h.set_size(value.len() as u64 + 1);
        h.set_entry_type(tar::EntryType::new(kind));
        h.set_cksum();
        self.buf.extend_from_slice(h.as_bytes());
        self.buf.extend_from_slice(value);
        self.buf.push(0);
        self.pad(value.len() as u64 + 1);
    }

    fn header(
        &mut self,
        kind: tar::EntryType,
        name: &[u8],
        link: Option<&[u8]>,
        st: &rustix::fs::Stat,
        size: u64,
    ) -> Result<(), TreeTarError> {
        let (uid, gid) = self.ids(st, name)?;
        if name.len() > 100 {
            self.long(b'L', name);
        }
        if let Some(l) = link.filter(|l| l.len() > 100) {
            self.long(b'K', l);
        }
        let mut h = tar::Header::new_gnu();
        {
            let old = h.as_old_mut();
            let n = name.len().min(100);
            old.name[..n].copy_from_slice(&name[..n]);
            if let Some(l) = link {
                let n = l.len().min(100);
                old.linkname[..n].copy_from_slice(&l[..n]);
            }
        }
        h.set_entry_type(kind);
        h.set_mode(st.st_mode & 0o7777);
        h.set_uid(uid as u64);
        h.set_gid(gid as u64);
        h.set_size(size);
        h.set_mtime(st.st_mtime.max(0) as u64);
        if matches!(kind, tar::EntryType::Char | tar::EntryType::Block) {
            let _ = h.set_device_major(rustix::fs::major(st.st_rdev));
            let _ = h.set_device_minor(rustix::fs::minor(st.st_rdev));
        }
        h.set_cksum();
        self.buf.extend_from_slice(h.as_bytes());
        if self.buf.len() >= BUF_MAX {
            self.flush_buf()?;
        }
        Ok(())
    }

    /// Writes `name` in `dir` (a symlink as itself) under the archive name `as_name`;
    /// directories with everything below them.
    pub fn add(&mut self, dir: &impl AsFd, name: &OsStr, as_name: &[u8]) -> Result<(), TreeTarError> {
        let shown = as_name;
        let st = rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW).map_err(io_err(shown, "stat"))?;
        let t = FileType::from_raw_mode(st.st_mode);
        if t != FileType::Directory && st.st_nlink > 1 {
            let key = (st.st_dev, st.st_ino);
            if let Some(first) = self.links.get(&key).cloned() {
                return self.header(tar::EntryType::Link, as_name, Some(&first), &st, 0);
            }
            self.links.insert(key, as_name.to_vec());
        }
        match t {
            FileType::Directory => {
                let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC;
                let fd = rustix::fs::openat(dir, name, flags, Mode::empty()).map_err(io_err(shown, "open"))?;
                let st = rustix::fs::fstat(&fd).map_err(io_err(shown, "stat"))?;
                let mut dname = as_name.to_vec();
                dname.push(b'/');
                self.header(tar::EntryType::Directory, &dname, None, &st, 0)?;
                self.add_contents(&fd, as_name)
            }
            FileType::RegularFile => self.file(dir, name, as_name),
            FileType::Symlink => {
                let target = rustix::fs::readlinkat(dir, name, Vec::new()).map_err(io_err(shown, "read link"))?;
                self.header(tar::EntryType::Symlink, as_name, Some(target.as_bytes()), &st, 0)
            }
            FileType::Fifo => self.header(tar::EntryType::Fifo, as_name, None, &st, 0),
            FileType::CharacterDevice => self.header(tar::EntryType::Char, as_name, None, &st, 0),
            FileType::BlockDevice => self.header(tar::EntryType::Block, as_name, None, &st, 0),
            // Sockets cannot be archived (as tar itself skips them).
            _ => Ok(()),
        }
    }

    fn file(&mut self, dir: &impl AsFd, name: &OsStr, as_name: &[u8]) -> Result<(), TreeTarError> {
        let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
        let fd = rustix::fs::openat(dir, name, flags, Mode::empty()).map_err(io_err(as_name, "open"))?;
        let st = rustix::fs::fstat(&fd).map_err(io_err(as_name, "stat"))?;
        if FileType::from_raw_mode(st.st_mode) != FileType::RegularFile {
            // Replaced since it was looked at: skip rather than read a FIFO or a device.
            return Ok(());
        }
        let size = st.st_size.max(0) as u64;
        self.header(tar::EntryType::Regular, as_name, None, &st, size)?;
        let file = std::fs::File::from(fd);
        let read_err = |e: std::io::Error| TreeTarError::Io {
            path: String::from_utf8_lossy(as_name).into_owned(),
            op: "read",
            source: e,
        };
        let copied = if size >= DIRECT_MIN {
            self.flush_buf()?;
            self.send(&file, size).map_err(|e| match e.kind() {
                std::io::ErrorKind::BrokenPipe => TreeTarError::Output(e),
                _ => read_err(e),
            })?
        } else {
            let start = self.buf.len();
            (&file).take(size).read_to_end(&mut self.buf).map_err(read_err)?;
            (self.buf.len() - start) as u64
        };
        // A file that shrank while it was read is padded: the archive stays well-formed.
        if copied < size {
            self.flush_buf()?;
            std::io::copy(&mut std::io::repeat(0).take(size - copied), &mut self.out).map_err(TreeTarError::Output)?;
        }
        self.pad(size);
        if self.buf.len() >= BUF_MAX {
            self.flush_buf()?;
        }
        Ok(())
    }

    /// Writes the directory `fd` itself as `as_name`, then everything below it.
    pub fn add_dir(&mut self, fd: &OwnedFd, as_name: &[u8]) -> Result<(), TreeTarError> {
        let st = rustix::fs::fstat(fd).map_err(io_err(as_name, "stat"))?;
        let mut dname = as_name.to_vec();
        dname.push(b'/');
        self.header(tar::EntryType::Directory, &dname, None, &st, 0)?;
        self.add_contents(fd, as_name)
    }

    /// Sends up to `size` bytes of `file` to the output: by sendfile (the kernel moves them),
    /// else by reads and writes of 1 MiB. Returns how many were sent (fewer: it shrank).
    fn send(&mut self, file: &std::fs::File, size: u64) -> std::io::Result<u64> {
        let mut sent = 0u64;
        while sent < size {
            let chunk = (size - sent).min(1 << 30) as usize;
            match rustix::fs::sendfile(&self.out, file, None, chunk) {
                Ok(0) => return Ok(sent),
                Ok(n) => sent += n as u64,
                Err(rustix::io::Errno::INTR) => {}
                Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) if sent == 0 => break,
                Err(e) => return Err(e.into()),
            }
        }
        if sent == size {
            return Ok(sent);
        }
        let mut buf = vec![0u8; (size - sent).min(1 << 20) as usize];
        while sent < size {
            let want = ((size - sent) as usize).min(buf.len());
            let n = match (&*file).read(&mut buf[..want]) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            self.out.write_all(&buf[..n])?;
            sent += n as u64;
        }
        Ok(sent)
    }

    /// Writes every entry of the directory `dir` (named `prefix/NAME`, or `NAME` with an
    /// empty prefix), sorted by name.
    pub fn add_contents(&mut self, dir: &OwnedFd, prefix: &[u8]) -> Result<(), TreeTarError> {
        let reading = rustix::fs::openat(dir, ".", OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
            .map_err(io_err(prefix, "open"))?;
        let mut names: Vec<OsString> = Vec::new();
        let d = rustix::fs::Dir::read_from(&reading).map_err(io_err(prefix, "read directory"))?;
        for e in d {
            let e = e.map_err(io_err(prefix, "read directory"))?;
            let n = e.file_name().to_bytes();
            if n != b"." && n != b".." {
                names.push(OsStr::from_bytes(n).to_os_string());
            }
        }
        names.sort();
        for n in names {
            let as_name = join(prefix, n.as_bytes());
            self.add(dir, &n, &as_name)?;
        }
        Ok(())
    }

    /// Ends the archive (two zero records) and returns the output.
    pub fn finish(mut self) -> Result<std::fs::File, TreeTarError> {
        self.buf.extend_from_slice(&[0u8; 1024]);
        self.flush_buf()?;
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_round_trips_through_the_applier() {
        use std::os::unix::fs::{MetadataExt, symlink};
        let d = std::env::temp_dir().join(format!("kiste-treetar-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        let src = d.join("src");
        let long = "x".repeat(150);
        std::fs::create_dir_all(src.join("sub").join(&long)).unwrap();
        std::fs::write(src.join("a"), b"small").unwrap();
        std::fs::write(src.join("sub/big"), vec![7u8; 300_000]).unwrap();
        std::fs::write(src.join(".wh.plain"), b"not a whiteout").unwrap();
        std::fs::hard_link(src.join("a"), src.join("sub/a-again")).unwrap();
        symlink("/etc/passwd", src.join("sub").join(&long).join("link")).unwrap();
        let (r, w) = nix::unistd::pipe().unwrap();
        let root = rustix::fs::open(&src, OFlags::PATH | OFlags::DIRECTORY, Mode::empty()).unwrap();
        let writer = std::thread::spawn(move || {
            let mut t = TarWriter::new(std::fs::File::from(w), Owners::Fixed(0, 0));
            t.add_contents(&root, b"").unwrap();
            t.finish().unwrap();
        });
        let dst = d.join("dst");
        std::fs::create_dir_all(&dst).unwrap();
        let rootful = nix::unistd::geteuid().is_root();
        let opts = crate::storage::apply::ApplyOptions {
            rootless: !rootful,
            uid_count: if rootful { None } else { Some(1) },
            gid_count: None,
        };
        let me = (nix::unistd::geteuid().as_raw(), nix::unistd::getegid().as_raw());
        let files = crate::storage::apply::FileOptions { owner: Some(me), overwrite: false };
        crate::storage::apply::apply_tar_files(&dst, std::fs::File::from(r), opts, files).unwrap();
        writer.join().unwrap();
        assert_eq!(std::fs::read(dst.join("a")).unwrap(), b"small");
        assert_eq!(std::fs::read(dst.join("sub/big")).unwrap(), vec![7u8; 300_000]);
        assert_eq!(std::fs::read(dst.join(".wh.plain")).unwrap(), b"not a whiteout");
        assert_eq!(
            std::fs::metadata(dst.join("sub/a-again")).unwrap().ino(),
            std::fs::metadata(dst.join("a")).unwrap().ino()
        );
        assert_eq!(
            std::fs::read_link(dst.join("sub").join(&long).join("link")).unwrap(),
            std::path::Path::new("/etc/passwd")
        );
        std::fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn id_tables_compose_and_invert() {
        // Container (keep-id for 1000) -> host, then host -> the store's default namespace.
        let keep = vec![(0, 100000, 1000), (1000, 1000, 1), (1001, 101000, 64536)];
        let default_inv = IdTable::invert(&[(0, 1000, 1), (1, 100000, 65536)]);
        let t = IdTable::compose(&keep, &default_inv);
        assert_eq!(lookup(&t, 1000), Some(0));
        assert_eq!(lookup(&t, 0), Some(1));
        assert_eq!(lookup(&t, 1001), Some(1001));
    }
}
