//! Which overlay implementation containers will use: the kernel's native rootless overlay,
//! fuse-overlayfs, or plain copies (vfs). Detects once per kernel and caches the answer in
//! the store. Does not mount container roots (that belongs to the runtime).

use super::idmap::IdMapping;
use std::ffi::OsString;
use std::path::Path;
use std::process::Stdio;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OverlayMode {
    Native,
    Fuse,
    Vfs,
}

impl std::fmt::Display for OverlayMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            OverlayMode::Native => "native overlay",
            OverlayMode::Fuse => "fuse-overlayfs",
            OverlayMode::Vfs => "vfs",
        })
    }
}

impl OverlayMode {
    fn key(self) -> &'static str {
        match self {
            OverlayMode::Native => "native",
            OverlayMode::Fuse => "fuse",
            OverlayMode::Vfs => "vfs",
        }
    }

    fn from_key(s: &str) -> Option<OverlayMode> {
        match s {
            "native" => Some(OverlayMode::Native),
            "fuse" => Some(OverlayMode::Fuse),
            "vfs" => Some(OverlayMode::Vfs),
            _ => None,
        }
    }
}

fn kernel() -> String {
    nix::sys::utsname::uname().map(|u| u.release().to_string_lossy().into_owned()).unwrap_or_default()
}

fn fuse_usable() -> bool {
    let have_bin = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .any(|d| super::idmap::tool_exists(&d.join("fuse-overlayfs")));
    have_bin
        && nix::unistd::access("/dev/fuse", nix::unistd::AccessFlags::R_OK | nix::unistd::AccessFlags::W_OK).is_ok()
}

/// The mode for this store; `KISTE_OVERLAY=native|fuse|vfs` forces one.
pub fn detect(storage_root: &Path, idmap: &IdMapping) -> OverlayMode {
    if let Some(m) = std::env::var("KISTE_OVERLAY").ok().as_deref().and_then(OverlayMode::from_key) {
        return m;
    }
    if idmap.is_rootful() {
        return OverlayMode::Native;
    }
    let cache = storage_root.join("overlay-mode");
    let k = kernel();
    if let Ok(text) = std::fs::read_to_string(&cache)
        && let Some((kern, mode)) = text.trim().split_once(' ')
        && kern == k
        && let Some(m) = OverlayMode::from_key(mode)
    {
        return m;
    }
    let mode = if probe_native(storage_root, idmap) {
        OverlayMode::Native
    } else if fuse_usable() {
        OverlayMode::Fuse
    } else {
        OverlayMode::Vfs
    };
    if storage_root.is_dir() {
        let _ = crate::util::atomic_write(&cache, format!("{k} {}\n", mode.key()).as_bytes(), 0o600);
    }
    mode
}

fn probe_native(storage_root: &Path, idmap: &IdMapping) -> bool {
    let dir = storage_root.join(format!(".probe-{}", crate::util::nonce()));
    if std::fs::create_dir_all(&dir).is_err() {
        return false;
    }
    let args = [OsString::from("probe-overlay"), dir.clone().into_os_string()];
    let ok = super::userns::spawn_helper(idmap, &args, Stdio::null(), Stdio::null())
        .ok()
        .and_then(|mut c| c.wait().ok())
        .is_some_and(|s| s.success());
    let _ = std::fs::remove_dir_all(&dir);
    ok
}

/// Helper side: in a private mount namespace, try a native overlay mount with user xattrs.
pub fn helper_probe(dir: &Path) -> std::process::ExitCode {
    use nix::mount::{MsFlags, mount};
    let fail = std::process::ExitCode::from(1);
    if nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNS).is_err() {
        return fail;
    }
    let _ = mount(None::<&str>, "/", None::<&str>, MsFlags::MS_REC | MsFlags::MS_PRIVATE, None::<&str>);
    let (lower, upper, work, merged) = (dir.join("l"), dir.join("u"), dir.join("w"), dir.join("m"));
    for d in [&lower, &upper, &work, &merged] {
        if std::fs::create_dir_all(d).is_err() {
            return fail;
        }
    }
    let data =
        format!("lowerdir={},upperdir={},workdir={},userxattr", lower.display(), upper.display(), work.display());
    match mount(Some("overlay"), &merged, Some("overlay"), MsFlags::empty(), Some(data.as_str())) {
        Ok(()) => {
            let _ = nix::mount::umount(&merged);
            std::process::ExitCode::SUCCESS
        }
        Err(_) => fail,
    }
}
