//! Which overlay implementation containers will use: the kernel's native rootless overlay,
//! fuse-overlayfs, or plain copies (vfs). Detects once per kernel and caches the answer in
//! the store; and the one way an overlay is mounted (container roots by the runtime, the
//! image builder's COPY by the storage helper), in the caller's mount namespace.

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
    pub fn key(self) -> &'static str {
        match self {
            OverlayMode::Native => "native",
            OverlayMode::Fuse => "fuse",
            OverlayMode::Vfs => "vfs",
        }
    }

    pub fn from_key(s: &str) -> Option<OverlayMode> {
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

/// What to mount: lower dirs (top first, ':'-joined as overlay takes them), the upper and
/// work dirs (none for a read-only view), and fuse-overlayfs's extra options.
#[derive(Debug, Clone, Default)]
pub struct OverlaySpec<'a> {
    pub lower: &'a str,
    pub upper: Option<(&'a str, &'a str)>,
    /// In a user namespace the kernel's overlay keeps its metadata in user.* xattrs.
    pub userxattr: bool,
    /// The upper dir is thrown away after use: the kernel's overlay need not sync it.
    pub volatile: bool,
    pub fuse_options: Option<&'a str>,
}

/// Mounts the overlay `o` on `target` with the kernel (`Native`) or fuse-overlayfs (`Fuse`).
pub fn mount(mode: OverlayMode, o: &OverlaySpec, target: &Path) -> Result<(), String> {
    let mut data = format!("lowerdir={}", distinct_lower(o.lower));
    if let Some((upper, work)) = o.upper {
        data.push_str(&format!(",upperdir={upper},workdir={work}"));
    }
    if mode == OverlayMode::Fuse {
        if let Some(extra) = o.fuse_options {
            data.push(',');
            data.push_str(extra);
        }
        return mount_fuse(&data, target);
    }
    if o.userxattr {
        data.push_str(",userxattr");
    }
    if let Some((_, work)) = o.upper {
        clear_volatile_marker(Path::new(work));
        if o.volatile {
            data.push_str(",volatile");
        }
    }
    let flags = if o.upper.is_none() { nix::mount::MsFlags::MS_RDONLY } else { nix::mount::MsFlags::empty() };
    match nix::mount::mount(Some("overlay"), target, Some("overlay"), flags, Some(data.as_str())) {
        // A kernel before 5.10 does not know `volatile`: the mount is made without it.
        Err(nix::errno::Errno::EINVAL) if o.volatile && o.upper.is_some() => {
            let data = data.replace(",volatile", "");
            nix::mount::mount(Some("overlay"), target, Some("overlay"), flags, Some(data.as_str()))
        }
        r => r,
    }
    .map_err(|e| format!("mount the overlay: {e}"))
}

/// Where a volatile mount leaves its marker, under the work dir ("maybe not synced before a
/// crash"). While it is there the kernel refuses any mount with that work dir.
pub const VOLATILE_MARKER: &str = "work/incompat/volatile";

/// Removes the marker a volatile mount left in work dir `work`: only `--rm` containers are
/// mounted volatile, and their upper dir is thrown away anyway.
pub fn clear_volatile_marker(work: &Path) {
    let _ = std::fs::remove_dir_all(work.join(VOLATILE_MARKER));
}

/// The lower dirs with repeats dropped, the topmost kept. Layers are stored by diff ID, so an
/// image whose steps made the same layer twice (two empty `RUN`s) names one directory twice,
/// which the kernel refuses (ELOOP, overlapping layers). The view is the same: every path of
/// the lower copy is in the upper one, which lies above everything in between.
fn distinct_lower(lower: &str) -> String {
    let mut seen = std::collections::HashSet::new();
    lower.split(':').filter(|d| seen.insert(*d)).collect::<Vec<_>>().join(":")
}

/// fuse-overlayfs with `opts`. Its chatter ("unknown argument ignored: ...") is shown only
/// when the mount fails: kept in a memfd, not a pipe, which the daemon it leaves behind
/// would hold open forever.
fn mount_fuse(opts: &str, target: &Path) -> Result<(), String> {
    use std::io::{Read, Seek};
    let log = nix::sys::memfd::memfd_create(c"fuse-overlayfs", nix::sys::memfd::MFdFlags::MFD_CLOEXEC)
        .map(std::fs::File::from)
        .map_err(|e| format!("memfd: {e}"))?;
    let log_w = log.try_clone().map_err(|e| format!("memfd: {e}"))?;
    let st = std::process::Command::new("fuse-overlayfs")
        .args(["-o", opts])
        .arg(target)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log_w)
        .status()
        .map_err(|e| format!("fuse-overlayfs (install the \"fuse-overlayfs\" package): {e}"))?;
    if st.success() {
        return Ok(());
    }
    let mut why = String::new();
    let mut log = log;
    let _ = log.seek(std::io::SeekFrom::Start(0)).and_then(|_| log.read_to_string(&mut why));
    Err(format!("fuse-overlayfs failed ({st}): {}", why.trim().replace('\n', "; ")))
}

#[cfg(test)]
mod tests {
    #[test]
    fn repeated_lower_dirs_keep_the_topmost() {
        assert_eq!(super::distinct_lower("/l/a:/l/b:/l/a:/l/c:/l/b"), "/l/a:/l/b:/l/c");
        assert_eq!(super::distinct_lower("/l/a"), "/l/a");
    }
}
