//! Per-user locations, following the XDG base directories as Podman does.
//! Owns directory creation (0700) and the XDG_RUNTIME_DIR fallback; nothing else.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum PathError {
    #[error("cannot find the home directory: set $HOME")]
    NoHome,
    #[error("cannot create {path}: {source}")]
    Create { path: PathBuf, source: io::Error },
    #[error("{path} is owned by uid {owner}, not by you (uid {uid}); remove it or set XDG_RUNTIME_DIR")]
    NotOwned { path: PathBuf, owner: u32, uid: u32 },
}

/// The three roots of a user's state.
#[derive(Debug, Clone)]
pub struct Paths {
    /// Persistent data: images, layers, containers, the database.
    pub data: PathBuf,
    /// Run-time state that does not survive a reboot.
    pub runtime: PathBuf,
    /// kiste's own configuration directory.
    pub config: PathBuf,
    /// The user's home (for ~/.docker/config.json, ~/.config/containers).
    pub home: PathBuf,
    /// The user's directory of containers configuration (`$XDG_CONFIG_HOME/containers`, else
    /// ~/.config/containers: containers.conf); none as real root, who reads only the system's.
    pub user_containers_config: Option<PathBuf>,
    /// Set when XDG_RUNTIME_DIR was not usable and `runtime` is a fallback.
    pub runtime_fallback: bool,
    pub rootless: bool,
}

fn env_dir(var: &str) -> Option<PathBuf> {
    std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from).filter(|p| p.is_absolute())
}

fn usable_runtime_dir(p: &Path, uid: u32) -> bool {
    match fs::metadata(p) {
        Ok(m) => m.is_dir() && m.uid() == uid && nix::unistd::access(p, nix::unistd::AccessFlags::W_OK).is_ok(),
        Err(_) => false,
    }
}

impl Paths {
    /// Resolves the paths for the calling user without creating anything.
    pub fn discover() -> Result<Paths, PathError> {
        let uid = nix::unistd::geteuid().as_raw();
        let home = env_dir("HOME")
            .or_else(|| nix::unistd::User::from_uid(uid.into()).ok().flatten().map(|u| u.dir))
            .ok_or(PathError::NoHome)?;
        if uid == 0 && std::env::var_os("KISTE_ROOTFUL_AS_USER").is_none() {
            return Ok(Paths {
                data: PathBuf::from("/var/lib/kiste"),
                runtime: PathBuf::from("/run/kiste"),
                config: PathBuf::from("/etc/kiste"),
                home,
                user_containers_config: None,
                runtime_fallback: false,
                rootless: false,
            });
        }
        let data = env_dir("XDG_DATA_HOME").unwrap_or_else(|| home.join(".local/share")).join("kiste");
        let config_home = env_dir("XDG_CONFIG_HOME").unwrap_or_else(|| home.join(".config"));
        // Podman's order: $XDG_RUNTIME_DIR when usable, then /run/user/UID, then a
        // private directory under the temporary directory.
        let mut fallback = false;
        let runtime_base = match env_dir("XDG_RUNTIME_DIR").filter(|p| usable_runtime_dir(p, uid)) {
            Some(p) => p,
            None => {
                let run_user = PathBuf::from(format!("/run/user/{uid}"));
                if usable_runtime_dir(&run_user, uid) {
                    run_user
                } else {
                    fallback = true;
                    let tmp = env_dir("TMPDIR").unwrap_or_else(|| PathBuf::from("/tmp"));
                    tmp.join(format!("kiste-run-{uid}"))
                }
            }
        };
        Ok(Paths {
            data,
            runtime: runtime_base.join("kiste"),
            config: config_home.join("kiste"),
            user_containers_config: Some(config_home.join("containers")),
            home,
            runtime_fallback: fallback,
            rootless: true,
        })
    }

    /// Creates the data and runtime roots (0700). Reports the runtime fallback once,
    /// when its directory is first made.
    pub fn ensure(&self) -> Result<(), PathError> {
        let uid = nix::unistd::geteuid().as_raw();
        if self.runtime_fallback
            && let Some(parent) = self.runtime.parent()
        {
            {
                match fs::DirBuilder::new().mode(0o700).create(parent) {
                    Ok(()) => crate::util::print_warning(format!(
                        "XDG_RUNTIME_DIR is not set or not usable; using {} for run-time state",
                        parent.display()
                    )),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                    Err(source) => return Err(PathError::Create { path: parent.into(), source }),
                }
                let m =
                    fs::symlink_metadata(parent).map_err(|source| PathError::Create { path: parent.into(), source })?;
                if m.uid() != uid || !m.is_dir() {
                    return Err(PathError::NotOwned { path: parent.into(), owner: m.uid(), uid });
                }
            }
        }
        for d in [&self.data, &self.runtime] {
            make_private_dir(d)?;
        }
        Ok(())
    }

    pub fn db_path(&self) -> PathBuf {
        self.data.join("kiste.db")
    }
    pub fn storage(&self) -> PathBuf {
        self.data.join("storage")
    }
    pub fn blobs(&self) -> PathBuf {
        self.data.join("storage/blobs")
    }
    pub fn layers(&self) -> PathBuf {
        self.data.join("storage/layers")
    }
    /// Persistent per-container directories (bundle, upper layer, logs).
    pub fn containers(&self) -> PathBuf {
        self.data.join("containers")
    }
    /// Run-time per-container directories (attach socket, network helper PID files and
    /// log, slirp4netns's API socket): gone with a reboot, as what they name.
    pub fn run_containers(&self) -> PathBuf {
        self.runtime.join("containers")
    }
    pub fn locks(&self) -> PathBuf {
        self.runtime.join("locks")
    }
}

/// Creates `d` and its missing parents; `d` itself gets mode 0700.
pub fn make_private_dir(d: &Path) -> Result<(), PathError> {
    if d.is_dir() {
        return Ok(());
    }
    if let Some(p) = d.parent() {
        fs::create_dir_all(p).map_err(|source| PathError::Create { path: p.into(), source })?;
    }
    match fs::DirBuilder::new().mode(0o700).create(d) {
        Ok(()) => {
            let _ = fs::set_permissions(d, fs::Permissions::from_mode(0o700));
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(PathError::Create { path: d.into(), source }),
    }
}
