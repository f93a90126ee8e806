//! Helpers shared by unit tests: private scratch directories and file writing. Test-only;
//! touches nothing outside the system's temporary directory.

use std::fs;
use std::path::{Path, PathBuf};

/// A fresh, empty directory under the temporary directory, unique to this call.
pub fn tmpdir(name: &str) -> PathBuf {
    // Unique per call: tests run on several threads of one process and may share a name.
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let d = std::env::temp_dir().join(format!("kiste-unit-{}-{n}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    if let Err(e) = fs::create_dir_all(&d) {
        panic!("{}: {e}", d.display());
    }
    d
}

/// Writes `text` to `path`, making its parent directories.
pub fn write(path: &Path, text: &str) {
    if let Some(p) = path.parent() {
        let _ = fs::create_dir_all(p);
    }
    if let Err(e) = fs::write(path, text) {
        panic!("{}: {e}", path.display());
    }
}
