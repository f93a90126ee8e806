//! The build context: a directory (or a tar stream applied with the safe tar applier into a
//! temporary directory), its ignore rules, COPY/ADD sources resolved inside it with Go
//! `filepath.Match` wildcards, and a content checksum per source for the layer cache.
//! Reads files only; never writes outside its own temporary directory.

use super::ignore::{self, IgnoreError, IgnoreRules};
use crate::storage::apply::{ApplyOptions, apply_tar};
use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    #[error("{0}")]
    Ignore(#[from] IgnoreError),
    #[error("build context {path}: {source}")]
    Io { path: String, source: std::io::Error },
    #[error("build context from standard input: {0}")]
    Tar(#[from] crate::storage::apply::ApplyError),
    #[error("source {0:?} is outside the build context; copy it into the context directory first")]
    Escapes(String),
    #[error("source {0:?} not found in the build context (check the path and .dockerignore)")]
    NotFound(String),
    #[error("invalid source pattern {0:?}: {1}")]
    Pattern(String, String),
}

fn io(path: &Path, source: std::io::Error) -> ContextError {
    ContextError::Io { path: path.display().to_string(), source }
}

/// A build context on disk.
#[derive(Debug)]
pub struct BuildContext {
    root: PathBuf,
    rules: IgnoreRules,
    /// Set when the context was unpacked from a tar stream; removed on drop.
    temp: Option<PathBuf>,
}

impl Drop for BuildContext {
    fn drop(&mut self) {
        if let Some(t) = &self.temp {
            let _ = fs::remove_dir_all(t);
        }
    }
}

/// Remembers content digests by file identity, so unchanged files are not read again
/// (the executor may keep one on disk); `NoCache` reads every file.
pub trait DigestCache {
    fn get(&self, key: &FileKey) -> Option<[u8; 32]>;
    fn put(&mut self, key: FileKey, digest: [u8; 32]);
}

/// A file's identity for the digest cache.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FileKey {
    pub path: PathBuf,
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i128,
    pub ctime_ns: i128,
}

pub struct NoCache;

impl DigestCache for NoCache {
    fn get(&self, _: &FileKey) -> Option<[u8; 32]> {
        None
    }
    fn put(&mut self, _: FileKey, _: [u8; 32]) {}
}

impl BuildContext {
    /// A context directory; `dockerfile` locates a `<Dockerfile>.dockerignore`.
    pub fn from_dir(dir: &Path, dockerfile: Option<&Path>) -> Result<BuildContext, ContextError> {
        let root = fs::canonicalize(dir).map_err(|e| io(dir, e))?;
        if !root.is_dir() {
            return Err(io(dir, std::io::Error::from(std::io::ErrorKind::NotADirectory)));
        }
        let rules = IgnoreRules::load(&root, dockerfile)?;
        Ok(BuildContext { root, rules, temp: None })
    }

    /// A context sent as a tar stream (`kiste build -`), unpacked under `parent` with the
    /// safe applier (no `..`, no writes through symlinks).
    pub fn from_tar<R: Read>(reader: R, parent: &Path, opts: ApplyOptions) -> Result<BuildContext, ContextError> {
        let dir = parent.join(format!(".build-context-{}-{}", std::process::id(), nanos()));
        fs::create_dir_all(&dir).map_err(|e| io(&dir, e))?;
        let mut ctx = BuildContext { root: dir.clone(), rules: IgnoreRules::default(), temp: Some(dir.clone()) };
        apply_tar(&dir, reader, opts)?;
        ctx.rules = IgnoreRules::load(&dir, None)?;
        Ok(ctx)
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn rules(&self) -> &IgnoreRules {
        &self.rules
    }

    /// Whether a context-relative path is excluded by the ignore file.
    pub fn is_ignored(&self, rel: &str) -> bool {
        self.rules.matches(rel)
    }

    /// Resolves a COPY/ADD source to context-relative paths (wildcards expanded, sorted,
    /// ignored entries dropped). Symlinks on the way are followed but never out of the root.
    pub fn resolve_source(&self, source: &str) -> Result<Vec<String>, ContextError> {
        let cleaned = ignore::clean(&format!("/{source}"));
        if source.split('/').filter(|c| *c == "..").count() > 0 && escapes(source) {
            return Err(ContextError::Escapes(source.to_string()));
        }
        let comps: Vec<&str> = cleaned.split('/').filter(|c| !c.is_empty()).collect();
        let mut found = vec![String::new()];
        for c in &comps {
            let mut next = Vec::new();
            for base in &found {
                if has_meta(c) {
                    let dir = self.scoped(base)?;
                    let Ok(rd) = fs::read_dir(&dir) else { continue };
                    let mut names: Vec<String> =
                        rd.flatten().filter_map(|e| e.file_name().into_string().ok()).collect();
                    names.sort();
                    for n in names {
                        if go_match(c, &n).map_err(|e| ContextError::Pattern(source.into(), e))? {
                            next.push(join(base, &n));
                        }
                    }
                } else {
                    next.push(join(base, c));
                }
            }
            found = next;
        }
        let mut out = Vec::new();
        for rel in found {
            let exists = fs::symlink_metadata(self.scoped(&rel)?).is_ok();
            if exists && (rel.is_empty() || !self.is_ignored(&rel)) {
                out.push(rel);
            }
        }
        if out.is_empty() {
            return Err(ContextError::NotFound(source.to_string()));
        }
        Ok(out)
    }

    /// The host path of a context-relative path, symlinks resolved inside the root.
    pub fn scoped(&self, rel: &str) -> Result<PathBuf, ContextError> {
        let mut todo: Vec<String> = rel.split('/').filter(|c| !c.is_empty()).rev().map(str::to_string).collect();
        let mut cur: Vec<String> = Vec::new();
        let mut links = 0;
        while let Some(c) = todo.pop() {
            match c.as_str() {
                "." => continue,
                ".." => {
                    cur.pop();
                    continue;
                }
                _ => {}
            }
            let candidate = self.root.join(cur.join("/")).join(&c);
            match fs::symlink_metadata(&candidate) {
                Ok(m) if m.file_type().is_symlink() && !todo.is_empty() => {
                    links += 1;
                    if links > 40 {
                        return Err(io(&candidate, std::io::Error::from_raw_os_error(libc::ELOOP)));
                    }
                    let target = fs::read_link(&candidate).map_err(|e| io(&candidate, e))?;
                    let t = target.to_string_lossy().to_string();
                    if t.starts_with('/') {
                        cur.clear();
                    }
                    todo.extend(t.split('/').filter(|c| !c.is_empty()).rev().map(str::to_string));
                }
                _ => cur.push(c),
            }
        }
        Ok(self.root.join(cur.join("/")))
    }

    /// The content checksum of the given sources (context-relative, as `resolve_source`
    /// returns them): names, types, modes, sizes, file contents and link targets, directory
    /// trees recursively in sorted order, ignored entries left out.
    pub fn checksum(&self, sources: &[String], cache: &mut dyn DigestCache) -> Result<String, ContextError> {
        let mut h = Sha256::new();
        for rel in sources {
            h.update(b"source\0");
            h.update(rel.as_bytes());
            h.update(b"\0");
            let path = self.scoped(rel)?;
            self.hash_entry(&path, rel, ".", &mut h, cache)?;
        }
        Ok(format!("sha256:{}", hex::encode(h.finalize())))
    }

    fn hash_entry(
        &self,
        path: &Path,
        ctx_rel: &str,
        name: &str,
        h: &mut Sha256,
        cache: &mut dyn DigestCache,
    ) -> Result<(), ContextError> {
        let m = fs::symlink_metadata(path).map_err(|e| io(path, e))?;
        let ft = m.file_type();
        let kind = if ft.is_dir() {
            "d"
        } else if ft.is_symlink() {
            "l"
        } else if ft.is_file() {
            "f"
        } else {
            "o"
        };
        h.update(format!("{name}\0{kind}\0{:o}\0", m.permissions().mode() & 0o7777).as_bytes());
        if ft.is_file() {
            h.update(format!("{}\0", m.len()).as_bytes());
            h.update(file_digest(path, &m, cache)?);
        } else if ft.is_symlink() {
            let t = fs::read_link(path).map_err(|e| io(path, e))?;
            h.update(t.as_os_str().as_encoded_bytes());
        } else if ft.is_dir() {
            let mut names: Vec<std::ffi::OsString> =
                fs::read_dir(path).map_err(|e| io(path, e))?.flatten().map(|e| e.file_name()).collect();
            names.sort();
            for n in names {
                let Some(ns) = n.to_str() else { continue };
                let child_rel = join(ctx_rel, ns);
                if self.is_ignored(&child_rel) && !self.rules.may_include_under(&child_rel) {
                    continue;
                }
                let child_path = path.join(&n);
                let child_name = if name == "." { ns.to_string() } else { format!("{name}/{ns}") };
                if self.is_ignored(&child_rel) && !fs::symlink_metadata(&child_path).is_ok_and(|m| m.is_dir()) {
                    continue;
                }
                self.hash_entry(&child_path, &child_rel, &child_name, h, cache)?;
            }
        }
        h.update(b"\n");
        Ok(())
    }
}

fn file_digest(path: &Path, m: &fs::Metadata, cache: &mut dyn DigestCache) -> Result<[u8; 32], ContextError> {
    let key = FileKey {
        path: path.to_path_buf(),
        dev: m.dev(),
        ino: m.ino(),
        size: m.len(),
        mtime_ns: i128::from(m.mtime()) * 1_000_000_000 + i128::from(m.mtime_nsec()),
        ctime_ns: i128::from(m.ctime()) * 1_000_000_000 + i128::from(m.ctime_nsec()),
    };
    if let Some(d) = cache.get(&key) {
        return Ok(d);
    }
    let mut f = fs::File::open(path).map_err(|e| io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = f.read(&mut buf).map_err(|e| io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(buf.get(..n).unwrap_or_default());
    }
    let d: [u8; 32] = h.finalize().into();
    cache.put(key, d);
    Ok(d)
}

fn nanos() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0)
}

fn join(base: &str, name: &str) -> String {
    if base.is_empty() { name.to_string() } else { format!("{base}/{name}") }
}

/// Whether a relative source climbs above the context root.
fn escapes(source: &str) -> bool {
    let mut depth: i64 = 0;
    for c in source.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                depth -= 1;
                if depth < 0 {
                    return true;
                }
            }
            _ => depth += 1,
        }
    }
    false
}

fn has_meta(c: &str) -> bool {
    c.contains(['*', '?', '[', '\\'])
}

pub use crate::util::go_match;

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;
