//! Layers as tar streams, in and out of the layer store: committing a directory (a build
//! step's overlay upper dir) as a new layer by renaming it into the store, and streaming
//! stored layers' tars (rebuilt byte for byte from their tar-split record when they have one,
//! else written by `tarwrite`). Both run in the storage helper, inside the user namespace,
//! so that owners come out as image IDs. Knows nothing of images, compression or registries.

use super::StorageError;
use super::layers::{LayerStore, hex, lock_path};
use super::tarsplit::{self, SplitWriter};
use super::tarwrite::{self, WriteOptions};
use crate::state::lock::FileLock;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{AsRawFd, FromRawFd};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::sync::{Arc, Condvar, Mutex};

/// A layer made from a directory by `LayerStore::commit_dir`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CommittedLayer {
    /// `sha256:` of the layer's (uncompressed) tar stream.
    pub diff_id: String,
    /// Bytes of that stream.
    pub size: u64,
    pub warnings: Vec<String>,
}

/// One stored layer's tar as the helper streamed it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ExportedTar {
    /// The layer asked for.
    pub diff_id: String,
    /// `sha256:` of the stream written: the diff ID when the layer was reproduced exactly.
    /// Empty for a directory's tar (`export_dir`): its reader hashes what it keeps.
    pub digest: String,
    pub size: u64,
    /// The stream was rebuilt from the layer's tar-split record.
    pub from_record: bool,
}

#[derive(Serialize, Deserialize)]
struct CommitRequest {
    root: PathBuf,
    locks: PathBuf,
    rootless: bool,
    dir: PathBuf,
    timestamp: Option<i64>,
}

#[derive(Serialize, Deserialize)]
struct CommitResponse {
    layer: Option<CommittedLayer>,
    error: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct ExportJob {
    diff_id: String,
    fd: i32,
    /// A directory to write instead of a stored layer (a container's upper dir).
    #[serde(default)]
    dir: Option<PathBuf>,
}

#[derive(Serialize, Deserialize)]
struct ExportRequest {
    root: PathBuf,
    use_records: bool,
    jobs: Vec<ExportJob>,
}

/// One line of the helper's answer per layer, as each one ends.
#[derive(Serialize, Deserialize)]
struct ExportLine {
    index: usize,
    tar: Option<ExportedTar>,
    error: Option<String>,
}

fn helper_err(e: impl std::fmt::Display) -> StorageError {
    StorageError::Helper(format!("cannot talk to the storage helper: {e}"))
}

impl LayerStore {
    /// Makes the directory `dir` a layer: computes its diff ID (the digest of its tar, which
    /// is not written anywhere), then renames `dir` itself to `<root>/<hex>/diff` under the
    /// layer's lock. When the layer exists already, `dir` is deleted instead. With
    /// `timestamp`, mtimes after it are clamped in the tar and on disk, so the layer exports
    /// to the same digest later. `dir` must be on the store's file system, and nothing may
    /// write to it meanwhile. A killed commit leaves no layer (at most a `.tmp-` directory
    /// that `clean_leftovers` removes).
    #[allow(dead_code)] // called by build's RUN/COPY steps and by commit (issues 13 and 14)
    pub fn commit_dir(&self, dir: &Path, timestamp: Option<i64>) -> Result<CommittedLayer, StorageError> {
        let req = CommitRequest {
            root: self.root.clone(),
            locks: self.locks.clone(),
            rootless: !self.idmap.is_rootful(),
            dir: dir.to_path_buf(),
            timestamp,
        };
        let input = serde_json::to_vec(&req).map_err(|e| StorageError::Helper(e.to_string()))?;
        let out = super::layers::run_helper(&self.idmap, &[OsString::from("commit")], Some(&input))?;
        let resp: CommitResponse = serde_json::from_slice(&out)
            .map_err(|e| StorageError::Helper(format!("bad answer from the storage helper: {e}")))?;
        match (resp.layer, resp.error) {
            (Some(l), None) => Ok(l),
            (_, Some(e)) => Err(StorageError::Helper(e)),
            (None, None) => Err(StorageError::Helper("the storage helper committed nothing".into())),
        }
    }

    /// Starts streaming the tars of stored layers (uncompressed), one pipe per entry of
    /// `diff_ids`. Read each to its end, then `LayerTars::wait` says whether it is complete
    /// and what it hashes to. With `use_records`, layers with a tar-split record are
    /// rebuilt byte for byte (their digest is their diff ID); otherwise, and for layers
    /// without one, `tarwrite` writes the stream.
    pub fn export(&self, diff_ids: &[String], use_records: bool) -> Result<LayerTars, StorageError> {
        for d in diff_ids {
            if !self.exists(d) {
                return Err(StorageError::Helper(format!("layer {d} is not in the store; pull the image again")));
            }
        }
        let sources = diff_ids.iter().map(|d| (d.clone(), None)).collect::<Vec<_>>();
        self.export_sources(sources, use_records)
    }

    /// Streams a directory of overlay changes (a container's upper dir) as a layer tar,
    /// written by `tarwrite` in the user namespace: whiteouts as `.wh.` entries, owners as
    /// image IDs. Nothing may write to `dir` meanwhile for the tar to be one moment's state.
    pub fn export_dir(&self, dir: &Path) -> Result<LayerTars, StorageError> {
        self.export_sources(vec![(String::new(), Some(dir.to_path_buf()))], false)
    }

    fn export_sources(
        &self,
        sources: Vec<(String, Option<PathBuf>)>,
        use_records: bool,
    ) -> Result<LayerTars, StorageError> {
        let count = sources.len();
        let mut readers = Vec::new();
        let mut writers = Vec::new();
        let mut jobs = Vec::new();
        for (diff_id, dir) in sources {
            let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                .map_err(|e| StorageError::Helper(format!("cannot create a pipe: {e}")))?;
            jobs.push(ExportJob { diff_id, fd: w.as_raw_fd(), dir });
            readers.push(Some(File::from(r)));
            writers.push(w);
        }
        let req = ExportRequest { root: self.root.clone(), use_records, jobs };
        let input = serde_json::to_vec(&req).map_err(|e| StorageError::Helper(e.to_string()))?;
        let fds: Vec<i32> = writers.iter().map(|w| w.as_raw_fd()).collect();
        let args = [OsString::from("export")];
        let mut child = super::userns::spawn_helper_with_fds(&self.idmap, &args, Stdio::piped(), Stdio::piped(), &fds)?;
        drop(writers);
        if let Some(mut stdin) = child.stdin.take() {
            stdin.write_all(&input).map_err(helper_err)?;
        }
        let status: Arc<Status> = Arc::new((Mutex::new((vec![None; count], false)), Condvar::new()));
        let stdout = child.stdout.take();
        let st = status.clone();
        std::thread::spawn(move || collect_lines(stdout, &st));
        Ok(LayerTars { child, readers, status })
    }
}

/// Per layer: its outcome once the helper reported it; and whether the helper is done.
type Status = (Mutex<(Vec<Option<Result<ExportedTar, String>>>, bool)>, Condvar);

fn collect_lines(stdout: Option<std::process::ChildStdout>, status: &Status) {
    if let Some(out) = stdout {
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            let Ok(l) = serde_json::from_str::<ExportLine>(&line) else { continue };
            if let Ok(mut s) = status.0.lock()
                && let Some(slot) = s.0.get_mut(l.index)
            {
                *slot = Some(match (l.tar, l.error) {
                    (Some(t), None) => Ok(t),
                    (_, e) => Err(e.unwrap_or_else(|| "no answer".into())),
                });
            }
            status.1.notify_all();
        }
    }
    if let Ok(mut s) = status.0.lock() {
        s.1 = true;
    }
    status.1.notify_all();
}

/// Running layer exports (see `LayerStore::export`).
pub struct LayerTars {
    child: Child,
    readers: Vec<Option<File>>,
    status: Arc<Status>,
}

impl LayerTars {
    /// The tar stream of the `i`th layer asked for (once).
    pub fn take_reader(&mut self, i: usize) -> Option<File> {
        self.readers.get_mut(i).and_then(Option::take)
    }

    /// Waits until the helper has finished the `i`th layer: what it wrote, or why it failed.
    pub fn wait(&self, i: usize) -> Result<ExportedTar, StorageError> {
        let (lock, cv) = &*self.status;
        let mut s = lock.lock().map_err(|_| StorageError::Helper("the export watcher panicked".into()))?;
        loop {
            if let Some(r) = s.0.get(i).cloned().flatten() {
                return r.map_err(StorageError::Helper);
            }
            if s.1 {
                return Err(StorageError::Helper("the storage helper ended before it had written the layer".into()));
            }
            s = cv.wait(s).map_err(|_| StorageError::Helper("the export watcher panicked".into()))?;
        }
    }

    /// Closes what was not read and waits for the helper.
    pub fn finish(mut self) -> Result<(), StorageError> {
        self.readers.clear();
        let status = self.child.wait().map_err(helper_err)?;
        if status.success() {
            Ok(())
        } else {
            Err(StorageError::Helper(format!("the storage helper failed ({status})")))
        }
    }
}

impl Drop for LayerTars {
    fn drop(&mut self) {
        self.readers.clear();
        let _ = self.child.wait();
    }
}

// ---- helper side (runs inside the user namespace) ----

fn read_request<T: for<'de> Deserialize<'de>>() -> Result<T, String> {
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).map_err(|e| e.to_string())?;
    serde_json::from_slice(&input).map_err(|e| format!("bad request: {e}"))
}

/// `commit`: reads a CommitRequest, answers a CommitResponse.
pub fn helper_commit() -> std::process::ExitCode {
    let resp = match read_request::<CommitRequest>().and_then(|r| commit(&r)) {
        Ok(layer) => CommitResponse { layer: Some(layer), error: None },
        Err(e) => CommitResponse { layer: None, error: Some(e) },
    };
    let ok = resp.error.is_none();
    let _ = serde_json::to_writer(std::io::stdout(), &resp);
    if ok { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::from(1) }
}

fn commit(req: &CommitRequest) -> Result<CommittedLayer, String> {
    let shown = req.dir.display();
    let opaque = if req.rootless { "user.overlay.opaque" } else { "trusted.overlay.opaque" };
    let opts = WriteOptions { timestamp: req.timestamp, commit_opaque_xattr: Some(opaque), ..Default::default() };
    let mut split = SplitWriter::new(Vec::new()).map_err(|e| format!("cannot record {shown}: {e}"))?;
    let mut sink = crate::util::HashingWriter::new(std::io::sink());
    let written = tarwrite::write_tree(&req.dir, &mut sink, &opts, Some(&mut split))
        .map_err(|e| format!("cannot commit {shown}: {e}"))?;
    let record = split.finish().map_err(|e| format!("cannot record {shown}: {e}"))?;
    let (diff_id, _) = sink.finish();
    let layer = CommittedLayer { diff_id: diff_id.clone(), size: written.size, warnings: written.warnings };
    let h = hex(&diff_id).to_string();
    let lock = lock_path(&req.locks, &diff_id);
    let _lock = FileLock::exclusive(&lock).map_err(|e| format!("cannot lock {}: {e}", lock.display()))?;
    let final_dir = req.root.join(&h);
    if final_dir.join("diff").is_dir() {
        // The same layer is stored already: this copy is not needed.
        let _ = std::fs::remove_dir_all(&req.dir);
        return Ok(layer);
    }
    if final_dir.exists() {
        // A half-made directory from an old crash (never renamed complete): replace it.
        let _ = std::fs::remove_dir_all(&final_dir);
    }
    let tmp = req.root.join(format!(".tmp-{h}-{}", crate::util::nonce()));
    let made = make_layer_dir(&tmp, &req.dir, &record, written.size)
        .and_then(|_| std::fs::rename(&tmp, &final_dir).map_err(|e| format!("cannot store layer {diff_id}: {e}")));
    if let Err(e) = made {
        // Give the directory back to its owner when it was moved already.
        let _ = std::fs::rename(tmp.join("diff"), &req.dir);
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    Ok(layer)
}

/// `<tmp>/{size, tar-split.zst}`, then `dir` moved in as `<tmp>/diff`.
fn make_layer_dir(tmp: &Path, dir: &Path, record: &[u8], size: u64) -> Result<(), String> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new().mode(0o700).create(tmp).map_err(|e| format!("cannot create {}: {e}", tmp.display()))?;
    std::fs::write(tmp.join("size"), size.to_string()).map_err(|e| format!("cannot write layer size: {e}"))?;
    std::fs::write(tmp.join(tarsplit::FILE_NAME), record).map_err(|e| format!("cannot write layer record: {e}"))?;
    std::fs::rename(dir, tmp.join("diff")).map_err(|e| {
        if e.raw_os_error() == Some(libc::EXDEV) {
            format!(
                "cannot move {} into the layer store {}: they are on different file systems",
                dir.display(),
                tmp.parent().unwrap_or(tmp).display()
            )
        } else {
            format!("cannot move {} into the layer store: {e}", dir.display())
        }
    })
}

/// `export`: reads an ExportRequest, streams each layer into its descriptor (all at once,
/// one thread each), and prints one ExportLine per layer as it ends.
pub fn helper_export() -> std::process::ExitCode {
    let req: ExportRequest = match read_request() {
        Ok(r) => r,
        Err(e) => {
            let _ = serde_json::to_writer(std::io::stdout(), &ExportLine { index: 0, tar: None, error: Some(e) });
            return std::process::ExitCode::from(1);
        }
    };
    let stdout = Mutex::new(std::io::stdout());
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for (index, job) in req.jobs.iter().enumerate() {
            let (stdout, failed, req) = (&stdout, &failed, &req);
            s.spawn(move || {
                // SAFETY: the parent passed this pipe for this job alone.
                let out = unsafe { File::from_raw_fd(job.fd) };
                let r = match &job.dir {
                    Some(dir) => export_dir(dir, out),
                    None => export_one(&req.root, &job.diff_id, req.use_records, out),
                };
                let line = match r {
                    Ok(tar) => ExportLine { index, tar: Some(tar), error: None },
                    Err(e) => {
                        failed.store(true, std::sync::atomic::Ordering::SeqCst);
                        ExportLine { index, tar: None, error: Some(e) }
                    }
                };
                if let (Ok(text), Ok(mut o)) = (serde_json::to_string(&line), stdout.lock()) {
                    let _ = writeln!(o, "{text}");
                    let _ = o.flush();
                }
            });
        }
    });
    if failed.load(std::sync::atomic::Ordering::SeqCst) {
        std::process::ExitCode::from(1)
    } else {
        std::process::ExitCode::SUCCESS
    }
}

fn export_one(root: &Path, diff_id: &str, use_records: bool, out: File) -> Result<ExportedTar, String> {
    let short = crate::util::short_id(diff_id);
    let layer = root.join(hex(diff_id));
    let diff = layer.join("diff");
    let mut w = crate::util::HashingWriter::new(std::io::BufWriter::with_capacity(1 << 20, out));
    let record = if use_records { File::open(layer.join(tarsplit::FILE_NAME)).ok() } else { None };
    let from_record = record.is_some();
    match record {
        Some(rec) => {
            use rustix::fs::{Mode, OFlags};
            let fd = rustix::fs::open(&diff, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty())
                .map_err(|e| format!("layer {short}: cannot open {}: {e}", diff.display()))?;
            tarsplit::reassemble(std::io::BufReader::new(rec), &fd, &mut w)
                .map_err(|e| format!("layer {short}: {e}"))?;
        }
        None => {
            tarwrite::write_tree::<_, Vec<u8>>(&diff, &mut w, &WriteOptions::default(), None)
                .map_err(|e| format!("layer {short}: {e}"))?;
        }
    }
    w.flush().map_err(|e| format!("layer {short}: writing the tar stream: {e}"))?;
    let size = w.written;
    let (digest, _) = w.finish();
    Ok(ExportedTar { diff_id: diff_id.to_string(), digest, size, from_record })
}

/// A directory's tar (no record: it is not a stored layer). Not hashed here: commit and
/// diff read the stream, and commit's reader hashes it as it stores the layer.
fn export_dir(dir: &Path, out: File) -> Result<ExportedTar, String> {
    let shown = dir.display();
    let mut w = std::io::BufWriter::with_capacity(1 << 20, out);
    let written = tarwrite::write_tree::<_, Vec<u8>>(dir, &mut w, &WriteOptions::default(), None)
        .map_err(|e| format!("{shown}: {e}"))?;
    w.flush().map_err(|e| format!("{shown}: writing the tar stream: {e}"))?;
    Ok(ExportedTar { diff_id: String::new(), digest: String::new(), size: written.size, from_record: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn upper(dir: &Path) {
        std::fs::create_dir_all(dir.join("app/sub")).unwrap();
        std::fs::write(dir.join("app/main.py"), "print('hi')\n").unwrap();
        std::fs::write(dir.join("app/sub/data"), vec![3u8; 10_000]).unwrap();
        // fuse-overlayfs's whiteout file, made a device node by the commit.
        std::fs::write(dir.join("app/.wh.removed"), "").unwrap();
    }

    /// The helper's side, run as the calling user (no user namespace: the files are ours).
    #[test]
    fn commit_moves_the_directory_into_the_store_once_and_it_exports_to_its_diff_id() {
        let base = std::env::temp_dir().join(format!("kiste-commit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&base);
        let (root, locks) = (base.join("layers"), base.join("locks"));
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&locks).unwrap();
        let req = |dir: &Path| CommitRequest {
            root: root.clone(),
            locks: locks.clone(),
            rootless: !nix::unistd::geteuid().is_root(),
            dir: dir.to_path_buf(),
            timestamp: Some(1_700_000_000),
        };
        let first = base.join("upper1");
        upper(&first);
        let layer = commit(&req(&first)).unwrap();
        assert!(crate::util::is_sha256_digest(&layer.diff_id));
        assert!(!first.exists(), "the directory itself became the layer");
        let stored = root.join(hex(&layer.diff_id));
        assert_eq!(std::fs::read_to_string(stored.join("diff/app/main.py")).unwrap(), "print('hi')\n");
        assert_eq!(std::fs::read_to_string(stored.join("size")).unwrap(), layer.size.to_string());
        assert!(stored.join(tarsplit::FILE_NAME).exists());
        for use_records in [true, false] {
            let out = base.join("out.tar");
            let tar = export_one(&root, &layer.diff_id, use_records, File::create(&out).unwrap()).unwrap();
            assert_eq!(tar.from_record, use_records);
            assert_eq!(
                tar.digest,
                layer.diff_id,
                "exported {} the record",
                if use_records { "with" } else { "without" }
            );
            assert_eq!(tar.size, layer.size);
            assert_eq!(std::fs::metadata(&out).unwrap().len(), layer.size);
        }
        // The same content again: the same layer; the second directory is dropped.
        let second = base.join("upper2");
        upper(&second);
        let again = commit(&req(&second)).unwrap();
        assert_eq!(again.diff_id, layer.diff_id);
        assert!(!second.exists());
        let names: Vec<_> = std::fs::read_dir(&root).unwrap().flatten().map(|e| e.file_name()).collect();
        assert_eq!(names.len(), 1, "one layer, no leftovers: {names:?}");
        let _ = std::fs::remove_dir_all(&base);
    }
}
