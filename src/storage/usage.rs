//! Disk usage of directory trees (a container's writable layer), counted as containers/storage
//! does: the sizes of everything but directories, each hard-linked inode once. Trees with
//! entries the user cannot read (owned by subordinate IDs) are measured by the storage helper
//! inside the user namespace. Reads only; knows nothing of images or containers.

use super::StorageError;
use super::idmap::IdMapping;
use std::collections::HashSet;
use std::ffi::OsString;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

fn walk(dir: &Path, seen: &mut HashSet<(u64, u64)>, total: &mut u64) -> io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let m = match e.metadata() {
            Ok(m) => m,
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        };
        if m.nlink() > 1 && !m.is_dir() && !seen.insert((m.dev(), m.ino())) {
            continue;
        }
        if m.is_dir() {
            walk(&e.path(), seen, total)?;
        } else {
            *total += m.len();
        }
    }
    Ok(())
}

/// The size of the tree at `path`; 0 when it does not exist.
pub fn tree_size(path: &Path) -> io::Result<u64> {
    let mut total = 0;
    match walk(path, &mut HashSet::new(), &mut total) {
        Err(e) if e.kind() == io::ErrorKind::NotFound && !path.exists() => Ok(0),
        r => r.map(|_| total),
    }
}

/// The sizes of the trees at `paths`, in order: measured directly, and those we may not read
/// all of by one storage helper in the user namespace.
pub fn tree_sizes(idmap: &IdMapping, paths: &[PathBuf]) -> Result<Vec<u64>, StorageError> {
    let mut sizes = Vec::with_capacity(paths.len());
    let mut denied = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        match tree_size(p) {
            Ok(n) => sizes.push(n),
            Err(e) if e.kind() == io::ErrorKind::PermissionDenied => {
                sizes.push(0);
                denied.push(i);
            }
            Err(e) => return Err(StorageError::io("cannot measure", p, e)),
        }
    }
    if denied.is_empty() {
        return Ok(sizes);
    }
    let mut args = vec![OsString::from("du")];
    args.extend(denied.iter().map(|&i| paths[i].clone().into_os_string()));
    let out = super::layers::run_helper(idmap, &args, None)?;
    let answer: Result<Vec<u64>, String> = serde_json::from_slice(&out)
        .map_err(|e| StorageError::Helper(format!("bad answer from the storage helper: {e}")))?;
    let measured = answer.map_err(StorageError::Helper)?;
    for (i, n) in denied.into_iter().zip(measured) {
        sizes[i] = n;
    }
    Ok(sizes)
}

/// Helper side: prints the sizes of `paths` as JSON (`{"Ok":[...]}` or `{"Err":"..."}`).
pub fn helper_du(paths: &[OsString]) -> std::process::ExitCode {
    let answer: Result<Vec<u64>, String> = paths
        .iter()
        .map(|p| tree_size(Path::new(p)).map_err(|e| format!("cannot measure {}: {e}", Path::new(p).display())))
        .collect();
    let ok = answer.is_ok();
    let _ = serde_json::to_writer(std::io::stdout(), &answer);
    if ok { std::process::ExitCode::SUCCESS } else { std::process::ExitCode::from(1) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn counts_files_once_and_not_directories() {
        let d = std::env::temp_dir().join(format!("kiste-usage-test-{}", std::process::id()));
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("a"), vec![0u8; 1000]).unwrap();
        std::fs::write(d.join("sub/b"), vec![0u8; 24]).unwrap();
        std::fs::hard_link(d.join("a"), d.join("sub/a-link")).unwrap();
        assert_eq!(super::tree_size(&d).unwrap(), 1024);
        assert_eq!(super::tree_size(&d.join("missing")).unwrap(), 0);
        std::fs::remove_dir_all(&d).unwrap();
    }
}
