//! storage.conf as Podman reads it, for what kiste takes from it: the driver and where the
//! store and run-time state live (graphroot, runroot, rootless_storage_path). Reads files
//! only; `paths` decides what the values mean for kiste's directories.

use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The settings found, and the file they came from (for `info` and errors).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct StorageConf {
    /// The file that decided (the user's, `$CONTAINERS_STORAGE_CONF`, or the system's).
    pub file: Option<PathBuf>,
    pub driver: Option<String>,
    pub graphroot: Option<PathBuf>,
    pub runroot: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct FileShape {
    storage: Table,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Table {
    driver: Option<String>,
    graphroot: Option<String>,
    runroot: Option<String>,
    rootless_storage_path: Option<String>,
}

/// Who is asking: Podman reads different keys for rootless users.
pub struct Reader<'a> {
    pub rootless: bool,
    pub uid: u32,
    pub home: &'a Path,
    pub user: &'a str,
    /// `$XDG_CONFIG_HOME/containers` (rootless only).
    pub user_dir: Option<&'a Path>,
}

fn parse(file: &Path) -> Result<Option<Table>, String> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: cannot read it: {e}", file.display())),
    };
    let table: toml::Table =
        text.parse().map_err(|e: toml::de::Error| format!("{}: not valid TOML: {}", file.display(), e.message()))?;
    let shape: FileShape = serde_path_to_error::deserialize(toml::Value::Table(table))
        .map_err(|e| format!("{}: {}: {}", file.display(), e.path(), e.inner()))?;
    Ok(Some(shape.storage))
}

impl Reader<'_> {
    /// `$HOME`, `$UID` and `$USER` in rootless_storage_path, as Podman expands them.
    fn expand(&self, s: &str) -> PathBuf {
        PathBuf::from(
            s.replace("$HOME", &self.home.display().to_string())
                .replace("$UID", &self.uid.to_string())
                .replace("$USER", self.user),
        )
    }

    /// Podman's order: `$CONTAINERS_STORAGE_CONF` alone when set; else the system's file
    /// (/etc/containers, else /usr/share/containers), whose graphroot and runroot name the
    /// rootful store — a rootless user takes only its driver and rootless_storage_path — and
    /// then the user's own file, which overrides every key it sets.
    pub fn load(&self) -> Result<StorageConf, String> {
        let mut out = StorageConf::default();
        if let Some(f) = std::env::var_os("CONTAINERS_STORAGE_CONF").filter(|v| !v.is_empty()) {
            let f = PathBuf::from(f);
            if let Some(t) = parse(&f)? {
                self.take(&mut out, &f, t, true);
            }
            return Ok(out);
        }
        let system = ["/etc/containers/storage.conf", "/usr/share/containers/storage.conf"]
            .iter()
            .map(PathBuf::from)
            .find(|p| p.exists());
        if let Some(f) = system
            && let Some(t) = parse(&f)?
        {
            self.take(&mut out, &f, t, !self.rootless);
        }
        if let Some(f) = self.user_dir.map(|d| d.join("storage.conf"))
            && let Some(t) = parse(&f)?
        {
            self.take(&mut out, &f, t, true);
        }
        Ok(out)
    }

    /// Merges one file's keys; `places` says whether its graphroot and runroot count.
    fn take(&self, out: &mut StorageConf, file: &Path, t: Table, places: bool) {
        out.file = Some(file.to_path_buf());
        if let Some(d) = t.driver.filter(|d| !d.is_empty()) {
            out.driver = Some(d);
        }
        if self.rootless
            && let Some(p) = t.rootless_storage_path.filter(|p| !p.is_empty())
        {
            out.graphroot = Some(self.expand(&p));
        }
        if places {
            if let Some(g) = t.graphroot.filter(|g| !g.is_empty()) {
                out.graphroot = Some(self.expand(&g));
            }
            if let Some(r) = t.runroot.filter(|r| !r.is_empty()) {
                out.runroot = Some(self.expand(&r));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_file_overrides_and_bad_values_name_file_and_key() {
        let dir = crate::testutil::tmpdir("storage-conf");
        let home = dir.join("home");
        let user = home.join(".config/containers");
        std::fs::create_dir_all(&user).unwrap();
        std::fs::write(user.join("storage.conf"), "[storage]\ndriver = \"overlay\"\n").unwrap();
        let r = Reader { rootless: true, uid: 1000, home: &home, user: "u", user_dir: Some(&user) };
        let c = r.load().unwrap();
        assert_eq!(c.driver.as_deref(), Some("overlay"));
        assert_eq!(c.graphroot, None);
        std::fs::write(user.join("storage.conf"), "[storage]\ngraphroot = \"$HOME/g\"\nrunroot = \"/run/x\"\n")
            .unwrap();
        let c = r.load().unwrap();
        assert_eq!(c.graphroot, Some(home.join("g")));
        assert_eq!(c.runroot, Some(PathBuf::from("/run/x")));
        std::fs::write(user.join("storage.conf"), "[storage]\ndriver = 3\n").unwrap();
        let e = r.load().unwrap_err();
        assert!(e.contains("storage.conf") && e.contains("storage.driver"), "{e}");
        std::fs::write(user.join("storage.conf"), "[storage\n").unwrap();
        assert!(r.load().unwrap_err().contains("not valid TOML"));
    }
}
