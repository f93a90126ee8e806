//! The container of an image archive (not its layers): reading a tar file by index — regular
//! members by normalised name, symlinks between members resolved inside the archive, nothing
//! ever written by name — and writing one (a tar stream or a directory) member by member.
//! Knows nothing of manifests or the store.

use super::ArchiveError;
use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

/// Where a member's bytes are in the archive file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Member {
    pub offset: u64,
    pub size: u64,
}

/// Where an archive's members come from: a tar file read by index, or a directory (read
/// in-root: a symlink in it cannot lead outside it, a FIFO cannot make a read hang).
pub enum Source {
    Tar { file: File, members: HashMap<String, Member>, links: HashMap<String, String>, shown: String },
    Dir { root: crate::storage::inroot::Root, shown: String },
}

/// Reads `len` bytes at `offset` of a shared file (pread: several readers at once).
pub struct MemberReader<'a> {
    file: &'a File,
    pos: u64,
    end: u64,
}

impl Read for MemberReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.end.saturating_sub(self.pos);
        if left == 0 {
            return Ok(0);
        }
        let want = buf.len().min(usize::try_from(left).unwrap_or(usize::MAX));
        let n = self.file.read_at(&mut buf[..want], self.pos)?;
        if n == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the archive is truncated"));
        }
        self.pos += n as u64;
        Ok(n)
    }
}

/// A member name made relative and clean (`./a//b` -> `a/b`); None for names that leave the
/// archive (`..`, which a hostile archive uses to reach files outside it).
pub fn clean_name(name: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in name.trim_start_matches('/').split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    if parts.is_empty() { None } else { Some(parts.join("/")) }
}

impl Source {
    /// A directory layout (oci-dir, docker-dir).
    pub fn dir(path: &Path) -> Result<Source, ArchiveError> {
        let root = crate::storage::inroot::Root::open(path).map_err(|e| ArchiveError::io(path, e))?;
        Ok(Source::Dir { root, shown: path.display().to_string() })
    }

    /// Indexes the tar file `file` (`shown` names it in errors). Entries with `..` or
    /// absolute names, and an archive that ends early, are refused.
    pub fn tar(file: File, shown: &str) -> Result<Source, ArchiveError> {
        let invalid = |msg: String| ArchiveError::Invalid { archive: shown.to_string(), msg };
        let len = file.metadata().map_err(|e| invalid(e.to_string()))?.len();
        // A spooled file is read from its start, wherever writing left its offset.
        std::io::Seek::rewind(&mut &file).map_err(|e| invalid(e.to_string()))?;
        let mut members = HashMap::new();
        let mut links = HashMap::new();
        let mut ar = tar::Archive::new(&file);
        let entries = ar.entries_with_seek().map_err(|e| invalid(format!("not a tar archive: {e}")))?;
        for entry in entries {
            let entry = entry.map_err(|e| invalid(format!("not a readable tar archive: {e}")))?;
            let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            if raw.starts_with('/') || raw.split('/').any(|c| c == "..") {
                return Err(invalid(format!("entry {raw:?} points outside the archive; the archive is refused")));
            }
            let Some(name) = clean_name(&raw) else { continue };
            let m = Member { offset: entry.raw_file_position(), size: entry.size() };
            match entry.header().entry_type() {
                tar::EntryType::Regular | tar::EntryType::Continuous => {
                    if m.offset.checked_add(m.size).is_none_or(|end| end > len) {
                        return Err(invalid(format!("entry {raw:?} ends after the archive does: it is truncated")));
                    }
                    members.insert(name, m);
                }
                tar::EntryType::Symlink | tar::EntryType::Link => {
                    let target = entry.link_name_bytes().map(|t| String::from_utf8_lossy(&t).into_owned());
                    if let Some(t) = target {
                        links.insert(name, t);
                    }
                }
                _ => {}
            }
        }
        Ok(Source::Tar { file, members, links, shown: shown.to_string() })
    }

    pub fn shown(&self) -> String {
        match self {
            Source::Tar { shown, .. } => shown.clone(),
            Source::Dir { shown, .. } => shown.clone(),
        }
    }

    fn invalid(&self, msg: String) -> ArchiveError {
        ArchiveError::Invalid { archive: self.shown(), msg }
    }

    /// The member a name leads to, following links inside the archive (Docker's old format
    /// links repeated layers to their first copy).
    fn find(&self, name: &str) -> Option<Member> {
        let Source::Tar { members, links, .. } = self else { return None };
        let mut name = clean_name(name)?;
        for _ in 0..16 {
            if let Some(m) = members.get(&name) {
                return Some(*m);
            }
            let target = links.get(&name)?;
            name = if target.starts_with('/') {
                clean_name(target)?
            } else {
                let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
                // `..` may climb to the archive's top, not above it.
                let joined = format!("{dir}/{target}");
                if joined.split('/').filter(|c| *c == "..").count() > dir.split('/').filter(|c| !c.is_empty()).count() {
                    return None;
                }
                clean_name(&joined)?
            };
        }
        None
    }

    pub fn exists(&self, name: &str) -> bool {
        match self {
            Source::Tar { .. } => self.find(name).is_some(),
            Source::Dir { root, .. } => {
                clean_name(name).is_some_and(|n| matches!(root.open_regular(Path::new(&n)), Ok(Some(_))))
            }
        }
    }

    /// A member's bytes as a reader and its size.
    pub fn open(&self, name: &str) -> Result<(Box<dyn Read + Send + '_>, u64), ArchiveError> {
        let missing = || self.invalid(format!("{name} is missing from the archive"));
        match self {
            Source::Tar { file, .. } => {
                let m = self.find(name).ok_or_else(missing)?;
                Ok((Box::new(MemberReader { file, pos: m.offset, end: m.offset + m.size }), m.size))
            }
            Source::Dir { root, .. } => {
                let rel = clean_name(name).ok_or_else(missing)?;
                let opened = root.open_regular(Path::new(&rel)).map_err(|e| self.invalid(e.to_string()))?;
                let (f, size) = opened.ok_or_else(missing)?;
                Ok((Box::new(f), size))
            }
        }
    }

    /// A small member (config, manifest, index) read whole.
    pub fn read_document(&self, name: &str) -> Result<Vec<u8>, ArchiveError> {
        let (r, size) = self.open(name)?;
        if size > super::MAX_DOCUMENT {
            return Err(self.invalid(format!("{name} is {size} bytes, too large for an image document")));
        }
        let mut out = Vec::with_capacity(size as usize);
        r.take(super::MAX_DOCUMENT).read_to_end(&mut out).map_err(|e| self.invalid(format!("{name}: {e}")))?;
        Ok(out)
    }
}

/// Where `save` writes members: a tar stream or a directory.
pub enum Sink<W: Write> {
    Tar { out: W, dirs: std::collections::HashSet<String> },
    Dir { root: PathBuf },
}

impl<W: Write> Sink<W> {
    pub fn tar(out: W) -> Sink<W> {
        Sink::Tar { out, dirs: Default::default() }
    }

    fn header(name: &str, size: u64, kind: tar::EntryType) -> io::Result<tar::Header> {
        let mut h = tar::Header::new_ustar();
        h.set_path(name)?;
        h.set_size(size);
        h.set_mode(if kind == tar::EntryType::Directory { 0o755 } else { 0o644 });
        h.set_mtime(0);
        h.set_entry_type(kind);
        h.set_cksum();
        Ok(h)
    }

    /// Directory entries for the parents of `name` not written yet (tar only).
    fn parents(&mut self, name: &str) -> io::Result<()> {
        match self {
            Sink::Tar { out, dirs } => {
                let mut at = 0;
                while let Some(i) = name[at..].find('/') {
                    let dir = format!("{}/", &name[..at + i]);
                    at += i + 1;
                    if dirs.insert(dir.clone()) {
                        out.write_all(Self::header(&dir, 0, tar::EntryType::Directory)?.as_bytes())?;
                    }
                }
                Ok(())
            }
            Sink::Dir { root } => match Path::new(name).parent() {
                Some(p) if !p.as_os_str().is_empty() => std::fs::create_dir_all(root.join(p)),
                _ => Ok(()),
            },
        }
    }

    /// Adds a member of `size` bytes read from `data`.
    pub fn add(&mut self, name: &str, size: u64, data: &mut dyn Read) -> io::Result<()> {
        self.parents(name)?;
        match self {
            Sink::Tar { out, .. } => {
                out.write_all(Self::header(name, size, tar::EntryType::Regular)?.as_bytes())?;
                let n = io::copy(&mut data.take(size), out)?;
                if n != size {
                    return Err(io::Error::new(io::ErrorKind::UnexpectedEof, format!("{name}: {n} of {size} bytes")));
                }
                let pad = (512 - size % 512) % 512;
                out.write_all(&vec![0u8; pad as usize])
            }
            Sink::Dir { root } => {
                let mut f = File::create(root.join(name))?;
                io::copy(&mut data.take(size), &mut f)?;
                Ok(())
            }
        }
    }

    pub fn add_bytes(&mut self, name: &str, data: &[u8]) -> io::Result<()> {
        self.add(name, data.len() as u64, &mut &data[..])
    }

    /// Ends the archive (two zero blocks) and hands back the writer.
    pub fn finish(self) -> io::Result<Option<W>> {
        match self {
            Sink::Tar { mut out, .. } => {
                out.write_all(&[0u8; 1024])?;
                out.flush()?;
                Ok(Some(out))
            }
            Sink::Dir { .. } => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cleaned_and_escapes_refused() {
        assert_eq!(clean_name("./a//b/").as_deref(), Some("a/b"));
        assert_eq!(clean_name("a/../b").as_deref(), Some("b"));
        assert_eq!(clean_name("../x"), None);
        assert_eq!(clean_name("./"), None);
    }

    fn archive(entries: &[(&str, &[u8])], links: &[(&str, &str)]) -> File {
        let mut sink = Sink::tar(Vec::new());
        for (n, d) in entries {
            sink.add_bytes(n, d).unwrap();
        }
        let mut bytes = match sink.finish().unwrap() {
            Some(b) => b,
            None => unreachable!(),
        };
        bytes.truncate(bytes.len() - 1024);
        for (n, t) in links {
            let mut h = tar::Header::new_ustar();
            h.set_path(n).unwrap();
            h.set_link_name(t).unwrap();
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_size(0);
            h.set_cksum();
            bytes.extend_from_slice(h.as_bytes());
        }
        bytes.extend_from_slice(&[0u8; 1024]);
        let mut f = tempfile_in_tmp();
        f.write_all(&bytes).unwrap();
        f
    }

    fn tempfile_in_tmp() -> File {
        let p = std::env::temp_dir().join(format!("kiste-tarfile-{}", crate::util::nonce()));
        let f = std::fs::OpenOptions::new().read(true).write(true).create_new(true).open(&p).unwrap();
        std::fs::remove_file(&p).unwrap();
        f
    }

    #[test]
    fn members_are_read_by_index_and_links_stay_inside() {
        let f = archive(
            &[("a/layer.tar", b"hello"), ("manifest.json", b"[]")],
            &[("b/layer.tar", "../a/layer.tar"), ("c/layer.tar", "../../../etc/passwd")],
        );
        let src = Source::tar(f, "test.tar").unwrap();
        let mut s = String::new();
        src.open("./b/layer.tar").unwrap().0.read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
        assert!(src.exists("manifest.json"));
        assert!(src.open("c/layer.tar").is_err());
        assert!(src.open("../manifest.json").is_err());
    }

    #[test]
    fn a_directory_layout_is_read_inside_itself() {
        let base = std::env::temp_dir().join(format!("kiste-tarfile-dir-{}", crate::util::nonce()));
        std::fs::create_dir_all(base.join("layout/blobs")).unwrap();
        std::fs::write(base.join("secret"), "host file").unwrap();
        std::fs::write(base.join("layout/index.json"), "{}").unwrap();
        std::os::unix::fs::symlink("../../secret", base.join("layout/blobs/up")).unwrap();
        std::os::unix::fs::symlink(base.join("secret"), base.join("layout/abs")).unwrap();
        let src = Source::dir(&base.join("layout")).unwrap();
        assert_eq!(src.read_document("index.json").unwrap(), b"{}");
        assert!(src.open("blobs/up").is_err() && src.open("abs").is_err(), "links stay inside the layout");
        assert!(!src.exists("abs"));
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn escaping_and_truncated_archives_are_refused() {
        let mut h = tar::Header::new_gnu();
        h.set_path("x").unwrap();
        h.as_gnu_mut().unwrap().name[..5].copy_from_slice(b"../x\0");
        h.set_size(0);
        h.set_cksum();
        let mut f = tempfile_in_tmp();
        f.write_all(h.as_bytes()).unwrap();
        f.write_all(&[0u8; 1024]).unwrap();
        let e = Source::tar(f, "evil.tar").err().unwrap().to_string();
        assert!(e.contains("outside the archive"), "{e}");

        let mut sink = Sink::tar(Vec::new());
        sink.add_bytes("big", &[7u8; 4096]).unwrap();
        let bytes = sink.finish().unwrap().unwrap();
        let mut f = tempfile_in_tmp();
        f.write_all(&bytes[..2048]).unwrap();
        assert!(Source::tar(f, "cut.tar").is_err());
    }
}
