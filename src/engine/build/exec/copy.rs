//! COPY, ADD and WORKDIR's directory as a layer: the sources are listed here (the build
//! context walked with its ignore rules, heredocs and downloads written to the build's
//! scratch directory, or paths of another stage or image), then the storage helper writes
//! them into an overlay of the image so far (`storage::buildcopy`), and the new upper dir
//! becomes the layer. Also the content checksum that keys the cache for COPY/ADD.

use super::{BuildError, Executor};
use crate::engine::build::context::NoCache;
use crate::engine::build::ignore::IgnoreRules;
use crate::engine::build::plan::{CopySource, CopyStep};
use crate::engine::container::users::UserDb;
use crate::storage::buildcopy::{CopyRequest, HostEntry, Sources};
use std::path::{Path, PathBuf};

/// What a COPY copies, before the helper sees it.
pub(super) struct Planned {
    sources: Sources,
    archives: Vec<PathBuf>,
    dest_is_dir: bool,
    /// Checksum of the sources' content (for the cache key).
    pub checksum: String,
}

impl Planned {
    /// Only the destination directory (WORKDIR).
    pub fn mkdir() -> Planned {
        Planned { sources: Sources::None, archives: vec![], dest_is_dir: true, checksum: String::new() }
    }
}

/// Whether a host file is a tar archive ADD unpacks: gzip, zstd, or a plain tar.
fn is_archive(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 262];
    let Ok(mut f) = std::fs::File::open(path) else { return false };
    let n = f.read(&mut head).unwrap_or(0);
    head[..n].starts_with(&[0x1f, 0x8b])
        || head[..n].starts_with(&[0x28, 0xb5, 0x2f, 0xfd])
        || (n >= 262 && &head[257..262] == b"ustar")
}

impl Executor<'_> {
    /// Lists the sources of `c` and their checksum.
    pub(super) fn plan_copy(&mut self, c: &CopyStep) -> Result<Planned, BuildError> {
        if let Some(from) = &c.from {
            let work = self.image_of(from)?;
            let paths: Vec<String> = c
                .sources
                .iter()
                .map(|s| match s {
                    CopySource::Path(p) => Ok(p.clone()),
                    _ => Err(BuildError::Invalid("COPY --from takes paths only".into())),
                })
                .collect::<Result<_, _>>()?;
            let checksum = crate::util::sha256_bytes(
                format!("{}\n{}", work.id.clone().unwrap_or_default(), paths.join("\n")).as_bytes(),
            );
            let layers = self.layer_dirs(&work);
            let many = paths.len() > 1 || paths.iter().any(|p| p.contains(['*', '?', '[']));
            return Ok(Planned {
                sources: Sources::Image { layers, paths },
                archives: vec![],
                dest_is_dir: c.dest.ends_with('/') || many,
                checksum,
            });
        }
        let excludes = IgnoreRules::new(&c.exclude, "--exclude")
            .map_err(|e| BuildError::Invalid(format!("COPY --exclude: {e}")))?;
        let mut entries = Vec::new();
        let mut archives = Vec::new();
        let mut resolved = Vec::new();
        let mut extra = String::new();
        let mut count = 0;
        let mut dirs = false;
        for s in &c.sources {
            match s {
                CopySource::Path(p) => {
                    let found = self.context.resolve_source(p)?;
                    count += found.len();
                    for rel in found {
                        let host = self.follow_top(&rel)?;
                        dirs |= host.is_dir();
                        if c.add && c.unpack != Some(false) && host.is_file() && is_archive(&host) {
                            archives.push(host);
                        } else {
                            self.list_context(&rel, &host, c, &excludes, &mut entries)?;
                        }
                        resolved.push(rel);
                    }
                }
                CopySource::Content { name, data } => {
                    count += 1;
                    let f = self.tmp_named(name, data.as_bytes(), 0o644)?;
                    extra.push_str(&crate::util::sha256_bytes(data.as_bytes()));
                    entries.push(HostEntry { src: f, rel: name.clone() });
                }
                CopySource::Url(u) => {
                    count += 1;
                    let (f, digest) = self.download(u)?;
                    extra.push_str(&digest);
                    let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                    entries.push(HostEntry { src: f, rel: name });
                }
            }
        }
        let dest_is_dir = c.dest.ends_with('/') || count > 1;
        // One file (not a directory's contents) to a name: the helper may write it as that name.
        if !dest_is_dir && !dirs && entries.len() == 1 && archives.is_empty() {
            entries[0].rel = String::new();
        }
        let checksum = format!("{}{extra}", self.context.checksum(&resolved, &mut NoCache)?);
        Ok(Planned { sources: Sources::Host(entries), archives, dest_is_dir, checksum })
    }

    /// A context path with a final symlink followed inside the context (as COPY does for the
    /// sources it names).
    fn follow_top(&self, rel: &str) -> Result<PathBuf, BuildError> {
        let p = self.context.scoped(rel)?;
        if std::fs::symlink_metadata(&p).is_ok_and(|m| m.file_type().is_symlink()) {
            return Ok(self.context.scoped(&format!("{rel}/."))?);
        }
        Ok(p)
    }

    /// The entries of one resolved context source: a file as itself, a directory's contents
    /// (with `--parents`, the path too), ignored and excluded paths left out.
    fn list_context(
        &self,
        rel: &str,
        host: &Path,
        c: &CopyStep,
        excludes: &IgnoreRules,
        out: &mut Vec<HostEntry>,
    ) -> Result<(), BuildError> {
        let base = if c.parents { rel.trim_matches('/').to_string() } else { String::new() };
        if !host.is_dir() {
            let name = Path::new(rel).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let at = if c.parents { base } else { name };
            out.push(HostEntry { src: host.to_path_buf(), rel: at });
            return Ok(());
        }
        if !base.is_empty() {
            out.push(HostEntry { src: host.to_path_buf(), rel: base.clone() });
        }
        let mut stack = vec![(host.to_path_buf(), rel.trim_matches('/').to_string(), base)];
        while let Some((dir, ctx_rel, dest_rel)) = stack.pop() {
            let mut names: Vec<_> = std::fs::read_dir(&dir)
                .map_err(|e| BuildError::io("cannot read", &dir, e))?
                .flatten()
                .map(|e| e.file_name())
                .collect();
            names.sort();
            let mut subdirs = Vec::new();
            for n in names {
                let n = n.to_string_lossy().into_owned();
                let crel = if ctx_rel.is_empty() { n.clone() } else { format!("{ctx_rel}/{n}") };
                let drel = if dest_rel.is_empty() { n.clone() } else { format!("{dest_rel}/{n}") };
                let path = dir.join(&n);
                let is_dir = std::fs::symlink_metadata(&path).is_ok_and(|m| m.is_dir());
                let ignored = self.context.is_ignored(&crel) || excludes.matches(&drel);
                if ignored && !(is_dir && self.context.rules().may_include_under(&crel)) {
                    continue;
                }
                if !ignored {
                    out.push(HostEntry { src: path.clone(), rel: drel.clone() });
                }
                if is_dir {
                    subdirs.push((path, crel, drel));
                }
            }
            stack.extend(subdirs.into_iter().rev());
        }
        Ok(())
    }

    /// Runs the COPY planned as `p` (or WORKDIR's mkdir, with `Sources::None`) on `work_layers`
    /// and returns the new layer.
    pub(super) fn copy_layer(
        &mut self,
        work_layers: &[PathBuf],
        p: Planned,
        dest: &str,
        chown: Option<&str>,
        chmod: Option<u32>,
    ) -> Result<(String, u64), BuildError> {
        let chown = match chown {
            Some(spec) => Some(UserDb::from_layers(work_layers)?.resolve(spec)?),
            None => None,
        };
        let scratch = self.layers.scratch()?;
        let mode = crate::storage::overlay::detect(&self.ctx.paths.storage(), &self.ctx.idmap);
        let req = CopyRequest {
            lower: work_layers.to_vec(),
            upper: scratch.diff(),
            work: scratch.work(),
            mount: scratch.mnt(),
            overlay: if mode == crate::storage::overlay::OverlayMode::Fuse { "fuse" } else { "native" }.into(),
            sources: p.sources,
            dest: dest.to_string(),
            dest_is_dir: p.dest_is_dir,
            chown,
            chmod,
            archives: p.archives,
            rootless: !self.ctx.idmap.is_rootful(),
        };
        let input = serde_json::to_vec(&req).map_err(|e| BuildError::Invalid(e.to_string()))?;
        let answer = crate::storage::layers::run_helper(&self.ctx.idmap, &["copy".into()], Some(&input))?;
        let answer = String::from_utf8_lossy(&answer);
        if answer.trim() != "ok" {
            return Err(BuildError::Invalid(answer.trim().to_string()));
        }
        let l = self.layers.commit_dir(&scratch.diff(), self.o.timestamp)?;
        Ok((l.diff_id, l.size))
    }

    /// ADD of a URL: downloaded into the scratch directory (mode 0600, as Docker); its
    /// digest keys the cache.
    fn download(&mut self, url: &str) -> Result<(PathBuf, String), BuildError> {
        if !url.starts_with("http://") && !url.starts_with("https://") {
            return Err(BuildError::Invalid(format!("ADD {url}: only http and https URLs are supported")));
        }
        let name = url.rsplit('/').next().filter(|n| !n.is_empty() && !n.contains('?')).unwrap_or("download");
        let bad = |e: String| BuildError::Invalid(format!("ADD {url}: {e}"));
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| bad(e.to_string()))?;
        let bytes = rt
            .block_on(async {
                let r = reqwest::get(url).await?.error_for_status()?;
                r.bytes().await
            })
            .map_err(|e| bad(e.to_string()))?;
        let digest = crate::util::sha256_bytes(&bytes);
        let f = self.tmp_named(name, &bytes, 0o600)?;
        Ok((f, digest))
    }
}
