//! The layer store: one directory per layer, keyed by diff ID, `<root>/<hex>/diff` holding the
//! unpacked files (beside them `size` and the stream's `tar-split.zst` record). A layer appears by one atomic rename once complete and verified; it vanishes
//! by one rename before its files are deleted. Unpacking and deleting run in the storage
//! helper inside the user namespace. Knows nothing of images or the database.

use super::StorageError;
use super::apply::{ApplyOptions, apply_tar};
use super::idmap::IdMapping;
use crate::state::lock::FileLock;
use serde::{Deserialize, Serialize};
use std::ffi::OsString;
use std::io::{BufReader, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// One layer to unpack: its downloaded (verified) blob and the diff ID it must hash to.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ApplyJob {
    pub blob: PathBuf,
    pub diff_id: String,
    /// When set, the helper reads the compressed layer from this inherited pipe instead of `blob`.
    #[serde(default)]
    pub fd: Option<i32>,
}

/// A layer that is in the store.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AppliedLayer {
    pub diff_id: String,
    /// Bytes of the uncompressed tar stream.
    pub size: u64,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ApplyRequest {
    root: PathBuf,
    locks: PathBuf,
    rootless: bool,
    uid_count: Option<u64>,
    gid_count: Option<u64>,
    jobs: Vec<ApplyJob>,
}

#[derive(Debug, Serialize, Deserialize)]
struct ApplyResponse {
    layers: Vec<AppliedLayer>,
    error: Option<String>,
}

pub struct LayerStore {
    pub(super) root: PathBuf,
    pub(super) locks: PathBuf,
    pub(super) idmap: IdMapping,
}

pub(crate) fn hex(diff_id: &str) -> &str {
    crate::util::digest_hex(diff_id)
}

pub(crate) fn lock_path(locks: &Path, diff_id: &str) -> PathBuf {
    locks.join(format!("layer-{}.lock", hex(diff_id)))
}

impl LayerStore {
    pub fn new(root: PathBuf, locks: PathBuf, idmap: IdMapping) -> LayerStore {
        LayerStore { root, locks, idmap }
    }

    pub fn layer_dir(&self, diff_id: &str) -> PathBuf {
        self.root.join(hex(diff_id))
    }

    /// Where the layer's files are (the overlay lower/upper directory).
    pub fn diff_dir(&self, diff_id: &str) -> PathBuf {
        self.layer_dir(diff_id).join("diff")
    }

    /// True when the layer has a tar-split record: it exports to exactly its diff ID and
    /// `size_of` bytes, so its tar can be streamed where its size must be known first.
    pub fn has_record(&self, diff_id: &str) -> bool {
        self.layer_dir(diff_id).join(super::tarsplit::FILE_NAME).is_file() && self.size_of(diff_id) > 0
    }

    /// True when the layer is complete in the store.
    pub fn exists(&self, diff_id: &str) -> bool {
        self.diff_dir(diff_id).is_dir()
    }

    /// Bytes of a stored layer's tar stream (0 when unknown).
    pub fn size_of(&self, diff_id: &str) -> u64 {
        std::fs::read_to_string(self.layer_dir(diff_id).join("size"))
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0)
    }

    fn helper(&self, args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>, StorageError> {
        let args: Vec<OsString> = args.iter().map(OsString::from).collect();
        run_helper(&self.idmap, &args, input)
    }

    /// Unpacks every job not yet in the store (in parallel, in the user namespace) and returns
    /// one entry per job, in order. Concurrent callers unpack each layer only once.
    pub fn apply(&self, jobs: Vec<ApplyJob>) -> Result<Vec<AppliedLayer>, StorageError> {
        let todo: Vec<ApplyJob> = jobs.iter().filter(|j| !self.exists(&j.diff_id)).cloned().collect();
        let mut done: Vec<AppliedLayer> = Vec::new();
        if !todo.is_empty() {
            super::shared_userns::ensure(&self.idmap, &self.locks);
            let input = serde_json::to_vec(&self.request(todo)).map_err(|e| StorageError::Helper(e.to_string()))?;
            done = parse_response(&self.helper(&["apply"], Some(&input))?)?;
        }
        Ok(jobs
            .iter()
            .map(|j| match done.iter().find(|d| d.diff_id == j.diff_id) {
                Some(d) => d.clone(),
                None => AppliedLayer { diff_id: j.diff_id.clone(), size: self.size_of(&j.diff_id), warnings: vec![] },
            })
            .collect())
    }

    fn request(&self, jobs: Vec<ApplyJob>) -> ApplyRequest {
        let rootful = self.idmap.is_rootful();
        let count = |r: Option<super::idmap::IdRange>| Some(1 + r.map(|r| r.count as u64).unwrap_or(0));
        ApplyRequest {
            root: self.root.clone(),
            locks: self.locks.clone(),
            rootless: !rootful,
            uid_count: if rootful { None } else { count(self.idmap.subuid) },
            gid_count: if rootful { None } else { count(self.idmap.subgid) },
            jobs,
        }
    }

    /// Starts unpacking layers while they download: returns one pipe per diff ID to write the
    /// compressed bytes into (closing it ends the layer). A layer appears in the store only
    /// if its bytes hash to its diff ID; `StreamingApply::finish` reports the outcome.
    pub fn start_streaming(&self, diff_ids: &[String]) -> Result<(StreamingApply, Vec<OwnedFd>), StorageError> {
        // Its helper joins the user's shared namespace rather than having one mapped for it.
        super::shared_userns::ensure(&self.idmap, &self.locks);
        let mut writers = Vec::new();
        let mut readers = Vec::new();
        let mut jobs = Vec::new();
        for (n, d) in diff_ids.iter().enumerate() {
            let (r, w) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC)
                .map_err(|e| StorageError::Helper(format!("cannot create a pipe: {e}")))?;
            // 1 MB rather than 64 kB: a sixteenth of the wake-ups on both sides (~9% of a
            // pull). For the first few only: pipe pages count against a budget the user's
            // processes share (pipe-user-pages-soft, 64 MB by default). Refused, a pipe
            // keeps its 64 kB.
            if n < BIG_PIPES {
                let _ = nix::fcntl::fcntl(&w, nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20));
            }
            jobs.push(ApplyJob { blob: PathBuf::new(), diff_id: d.clone(), fd: Some(r.as_raw_fd()) });
            readers.push(r);
            writers.push(w);
        }
        let input = serde_json::to_vec(&self.request(jobs)).map_err(|e| StorageError::Helper(e.to_string()))?;
        let fds: Vec<i32> = readers.iter().map(|r| r.as_raw_fd()).collect();
        let args = [OsString::from("apply")];
        let mut child = super::userns::spawn_helper_with_fds(&self.idmap, &args, Stdio::piped(), Stdio::piped(), &fds)?;
        drop(readers);
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(&input)
                .map_err(|e| StorageError::Helper(format!("cannot talk to the storage helper: {e}")))?;
        }
        Ok((StreamingApply { child }, writers))
    }

    /// Deletes layers: each disappears atomically (rename), then its files are removed.
    pub fn remove(&self, diff_ids: &[String]) -> Result<(), StorageError> {
        let mut doomed = Vec::new();
        for d in diff_ids {
            let dir = self.layer_dir(d);
            if !dir.exists() {
                continue;
            }
            let _lock =
                FileLock::exclusive(&lock_path(&self.locks, d)).map_err(|e| StorageError::io("lock", &dir, e))?;
            let to = self.root.join(format!(".del-{}-{}", hex(d), crate::util::nonce()));
            match std::fs::rename(&dir, &to) {
                Ok(()) => doomed.push(to),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StorageError::io("cannot remove layer", &dir, e)),
            }
        }
        self.remove_trees(&doomed)
    }

    fn remove_trees(&self, dirs: &[PathBuf]) -> Result<(), StorageError> {
        remove_paths(&self.idmap, dirs)
    }

    /// Removes what killed commands left: unfinished unpacks and half-deleted layers.
    pub fn clean_leftovers(&self) -> Result<(), StorageError> {
        let Ok(rd) = std::fs::read_dir(&self.root) else { return Ok(()) };
        let mut doomed = Vec::new();
        let mut held = Vec::new();
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if name.starts_with(".del-") {
                doomed.push(e.path());
            } else if let Some(rest) = name.strip_prefix(".tmp-") {
                // Busy while a live command unpacks it; its lock tells.
                let hex = rest.split('-').next().unwrap_or_default();
                if let Ok(Some(l)) = FileLock::try_exclusive(&lock_path(&self.locks, hex)) {
                    held.push(l);
                    doomed.push(e.path());
                }
            }
        }
        let r = self.remove_trees(&doomed);
        drop(held);
        r
    }
}

/// A directory on the store's file system for a layer being made (`diff/`, overlay's `work/`
/// and a place for mount points), named `.tmp-<nonce>-new` and locked so `clean_leftovers`
/// leaves it while it is used; removed on drop (its `diff/` is gone once it became a layer).
pub struct ScratchLayer {
    pub dir: PathBuf,
    idmap: IdMapping,
    _lock: FileLock,
}

impl ScratchLayer {
    pub fn diff(&self) -> PathBuf {
        self.dir.join("diff")
    }
    pub fn work(&self) -> PathBuf {
        self.dir.join("work")
    }
    pub fn mnt(&self) -> PathBuf {
        self.dir.join("mnt")
    }
}

impl Drop for ScratchLayer {
    fn drop(&mut self) {
        let _ = remove_paths(&self.idmap, std::slice::from_ref(&self.dir));
    }
}

impl LayerStore {
    /// A fresh scratch directory for a new layer (see `ScratchLayer`).
    pub fn scratch(&self) -> Result<ScratchLayer, StorageError> {
        let nonce = crate::util::nonce();
        let lock = FileLock::exclusive(&lock_path(&self.locks, &nonce))
            .map_err(|e| StorageError::io("lock", &self.locks, e))?;
        let dir = self.root.join(format!(".tmp-{nonce}-new"));
        for d in ["diff", "work", "mnt"] {
            std::fs::create_dir_all(dir.join(d)).map_err(|e| StorageError::io("cannot create", dir.join(d), e))?;
        }
        Ok(ScratchLayer { dir, idmap: self.idmap.clone(), _lock: lock })
    }
}

/// Runs `kiste __storage-helper ARGS` in the user namespace with `input` on its stdin and
/// returns what it printed. A helper that fails without saying anything is an error.
pub fn run_helper(idmap: &IdMapping, args: &[OsString], input: Option<&[u8]>) -> Result<Vec<u8>, StorageError> {
    let talk = |e: std::io::Error| StorageError::Helper(format!("cannot talk to the storage helper: {e}"));
    let stdin = if input.is_some() { Stdio::piped() } else { Stdio::null() };
    let mut child = super::userns::spawn_helper(idmap, args, stdin, Stdio::piped())?;
    if let (Some(mut w), Some(data)) = (child.stdin.take(), input) {
        w.write_all(data).map_err(talk)?;
    }
    let out = child.wait_with_output().map_err(talk)?;
    if !out.status.success() && out.stdout.is_empty() {
        return Err(StorageError::Helper(format!("the storage helper failed ({})", out.status)));
    }
    Ok(out.stdout)
}

/// Deletes directory trees that may hold files owned by subordinate IDs: plainly first (most
/// of a container's files are the user's own), then inside the user namespace, where the user
/// may remove the rest. Trees that do not exist are fine.
pub fn remove_paths(idmap: &IdMapping, dirs: &[PathBuf]) -> Result<(), StorageError> {
    let left: Vec<&PathBuf> = dirs
        .iter()
        .filter(|d| std::fs::remove_dir_all(d).is_err_and(|e| e.kind() != std::io::ErrorKind::NotFound))
        .collect();
    if left.is_empty() {
        return Ok(());
    }
    let mut args = vec![OsString::from("remove")];
    args.extend(left.iter().map(|d| d.as_os_str().to_owned()));
    let msg = run_helper(idmap, &args, None)?;
    let msg = String::from_utf8_lossy(&msg);
    if !msg.trim().is_empty() {
        return Err(StorageError::Helper(msg.trim().to_string()));
    }
    Ok(())
}

fn parse_response(out: &[u8]) -> Result<Vec<AppliedLayer>, StorageError> {
    let resp: ApplyResponse = serde_json::from_slice(out)
        .map_err(|e| StorageError::Helper(format!("bad answer from the storage helper: {e}")))?;
    match resp.error {
        Some(e) => Err(StorageError::Helper(e)),
        None => Ok(resp.layers),
    }
}

/// How many of a streaming unpack's pipes get 1 MB (8 MB in all).
const BIG_PIPES: usize = 8;

/// A running streaming unpack (see `LayerStore::start_streaming`).
pub struct StreamingApply {
    child: std::process::Child,
}

impl StreamingApply {
    /// Waits for the helper (all pipes must be closed first) and returns the unpacked layers.
    pub fn finish(self) -> Result<Vec<AppliedLayer>, StorageError> {
        let out = self
            .child
            .wait_with_output()
            .map_err(|e| StorageError::Helper(format!("cannot talk to the storage helper: {e}")))?;
        if out.stdout.is_empty() {
            return Err(StorageError::Helper(format!("the storage helper failed ({})", out.status)));
        }
        parse_response(&out.stdout)
    }
}

// ---- helper side (runs inside the user namespace) ----

/// Reads an ApplyRequest on stdin, unpacks, writes an ApplyResponse on stdout.
pub fn helper_apply() -> std::process::ExitCode {
    let mut input = Vec::new();
    let resp = match std::io::stdin()
        .read_to_end(&mut input)
        .map_err(|e| e.to_string())
        .and_then(|_| serde_json::from_slice::<ApplyRequest>(&input).map_err(|e| format!("bad request: {e}")))
    {
        Ok(req) => match apply_all(&req) {
            Ok(layers) => ApplyResponse { layers, error: None },
            Err(e) => ApplyResponse { layers: vec![], error: Some(e) },
        },
        Err(e) => ApplyResponse { layers: vec![], error: Some(e) },
    };
    let ok = resp.error.is_none();
    let _ = serde_json::to_writer(std::io::stdout(), &resp);
    if ok { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::from(1) }
}

fn apply_all(req: &ApplyRequest) -> Result<Vec<AppliedLayer>, String> {
    // Streamed layers are read as they arrive: each needs its own reader at once.
    let threads = if req.jobs.iter().any(|j| j.fd.is_some()) {
        req.jobs.len()
    } else {
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2).min(req.jobs.len()).max(1)
    };
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: std::sync::Mutex<Vec<Option<Result<AppliedLayer, String>>>> =
        std::sync::Mutex::new(req.jobs.iter().map(|_| None).collect());
    let failed = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    if i >= req.jobs.len() || failed.load(std::sync::atomic::Ordering::SeqCst) {
                        break;
                    }
                    let r = apply_one(req, &req.jobs[i]);
                    if r.is_err() {
                        failed.store(true, std::sync::atomic::Ordering::SeqCst);
                    }
                    if let Ok(mut v) = results.lock() {
                        v[i] = Some(r);
                    }
                }
            });
        }
    });
    let results = results.into_inner().map_err(|_| "a layer worker panicked".to_string())?;
    let mut out = Vec::new();
    for r in results.into_iter().flatten() {
        out.push(r?);
    }
    Ok(out)
}

/// A reader of the uncompressed bytes of a compressed layer (gzip, zstd or plain, by magic).
pub fn decompressed(src: impl Read + Send + 'static) -> std::io::Result<Box<dyn Read + Send>> {
    let mut r = BufReader::with_capacity(1 << 18, src);
    let mut head = Vec::with_capacity(4);
    // A pipe may deliver fewer than 4 bytes per read: collect the magic, then put it back.
    while head.len() < 4 {
        let mut b = [0u8; 4];
        let n = r.read(&mut b[..4 - head.len()])?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&b[..n]);
    }
    let r = BufReader::with_capacity(1 << 18, std::io::Cursor::new(head.clone()).chain(r));
    Ok(if head.starts_with(&[0x1f, 0x8b]) {
        Box::new(flate2::bufread::MultiGzDecoder::new(r))
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Box::new(zstd::stream::read::Decoder::with_buffer(r)?)
    } else {
        Box::new(r)
    })
}

fn apply_one(req: &ApplyRequest, job: &ApplyJob) -> Result<AppliedLayer, String> {
    // Owned first, so that every early return closes a streamed pipe (its writer then
    // stops sending to us rather than blocking).
    let source: std::fs::File = match job.fd {
        // SAFETY: the parent passed this pipe for this job alone.
        Some(fd) => unsafe { std::os::fd::FromRawFd::from_raw_fd(fd) },
        None => {
            std::fs::File::open(&job.blob).map_err(|e| format!("cannot read layer blob {}: {e}", job.blob.display()))?
        }
    };
    let h = hex(&job.diff_id).to_string();
    let final_dir = req.root.join(&h);
    let lock = lock_path(&req.locks, &job.diff_id);
    let _lock = FileLock::exclusive(&lock).map_err(|e| format!("cannot lock {}: {e}", lock.display()))?;
    let read_size = || std::fs::read_to_string(final_dir.join("size")).ok().and_then(|s| s.trim().parse().ok());
    if final_dir.join("diff").is_dir() {
        return Ok(AppliedLayer { diff_id: job.diff_id.clone(), size: read_size().unwrap_or(0), warnings: vec![] });
    }
    let tmp = req.root.join(format!(".tmp-{h}-{}", crate::util::nonce()));
    let r = unpack_into(req, job, source, &tmp);
    match r {
        Ok(layer) => {
            if final_dir.exists() {
                // A half-made directory from an old crash (never renamed complete): replace it.
                let _ = std::fs::remove_dir_all(&final_dir);
            }
            std::fs::rename(&tmp, &final_dir).map_err(|e| {
                let _ = std::fs::remove_dir_all(&tmp);
                format!("cannot store layer {}: {e}", job.diff_id)
            })?;
            Ok(layer)
        }
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            Err(e)
        }
    }
}

/// How much may follow a layer's end-of-archive marker (padding to the tar record size).
const TRAILER_LIMIT: u64 = 1 << 20;

fn unpack_into(req: &ApplyRequest, job: &ApplyJob, source: std::fs::File, tmp: &Path) -> Result<AppliedLayer, String> {
    let diff = tmp.join("diff");
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(tmp)
        .and_then(|_| std::fs::DirBuilder::new().mode(0o755).create(&diff))
        .map_err(|e| format!("cannot create {}: {e}", diff.display()))?;
    let reader = decompressed(source).map_err(|e| format!("cannot read layer {}: {e}", job.diff_id))?;
    let hashing = crate::util::HashingReader::new(reader);
    // The stream without its file contents, to rebuild it byte for byte when the layer
    // leaves the machine again (push, save): its diff ID stays the same.
    let record = tmp.join(super::tarsplit::FILE_NAME);
    let record_out: Box<dyn Write + Send> = match std::fs::File::create(&record) {
        Ok(f) => Box::new(std::io::BufWriter::with_capacity(256 << 10, f)),
        Err(_) => Box::new(std::io::sink()),
    };
    let tee = super::tarsplit::SplitTee::new(hashing, record_out)
        .map_err(|e| format!("cannot record layer {}: {e}", job.diff_id))?;
    let opts =
        ApplyOptions { rootless: req.rootless, uid_count: req.uid_count, gid_count: req.gid_count, owners: true };
    let (report, mut rest) =
        apply_tar(&diff, tee, opts).map_err(|e| format!("layer {}: {e}", crate::util::short_id(&job.diff_id)))?;
    // Hash what follows the end-of-archive marker too: the diff ID covers the whole stream.
    // Tar writers pad to at most a few records; more is not read (it could be gigabytes).
    let after = std::io::copy(&mut (&mut rest).take(TRAILER_LIMIT + 1), &mut std::io::sink())
        .map_err(|e| format!("layer {}: cannot decompress: {e}", crate::util::short_id(&job.diff_id)))?;
    if after > TRAILER_LIMIT {
        return Err(format!(
            "layer {} has more than {} bytes after the end of its tar archive; the layer is refused",
            crate::util::short_id(&job.diff_id),
            TRAILER_LIMIT
        ));
    }
    let got = rest.get_ref().digest();
    if got != job.diff_id {
        return Err(format!(
            "layer {} does not match its diff ID (got {got}); the image is corrupt, ask its publisher or pull again",
            job.diff_id
        ));
    }
    let size = rest.get_ref().read;
    match rest.finish().and_then(|mut w| w.flush().map_err(|e| e.to_string())) {
        Ok(()) => {}
        Err(why) => {
            tracing::debug!("layer {}: no tar-split record: {why}", job.diff_id);
            let _ = std::fs::remove_file(&record);
        }
    }
    std::fs::write(tmp.join("size"), size.to_string()).map_err(|e| format!("cannot write layer size: {e}"))?;
    if report.skipped_devices > 0 {
        tracing::debug!("layer {}: {} device nodes skipped (rootless)", job.diff_id, report.skipped_devices);
    }
    Ok(AppliedLayer { diff_id: job.diff_id.clone(), size, warnings: report.warnings })
}

/// Deletes the given trees (helper side); prints failures on stdout.
pub fn helper_remove(paths: &[OsString]) -> std::process::ExitCode {
    let mut failed = Vec::new();
    for p in paths {
        match std::fs::remove_dir_all(p) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => failed.push(format!("cannot remove {}: {e}", Path::new(p).display())),
        }
    }
    if failed.is_empty() {
        std::process::ExitCode::SUCCESS
    } else {
        print!("{}", failed.join("; "));
        std::process::ExitCode::from(1)
    }
}
