//! containers-registries.conf(5) (v2, and v1 converted) with its registries.conf.d drop-ins:
//! unqualified-search registries and the [[registry]] insecure/blocked settings. Reads config
//! files only; must not contact registries, read credentials, or write anything.

use super::reference::{self, Reference};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// Holds the system registries.conf and registries.conf.d.
const ETC_CONTAINERS: &str = "/etc/containers";

#[derive(Debug, thiserror::Error)]
pub enum RegistriesError {
    #[error("registries configuration {path}: line {line}: {message}")]
    Syntax { path: String, line: usize, message: String },
    #[error("registries configuration {path}: {message}")]
    Invalid { path: String, message: String },
    #[error("reading registries configuration {path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
}

/// One `[[registry]]` table after validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryEntry {
    /// What the entry applies to: `host[:port][/namespace...][/repo][:tag|@digest]` or
    /// `*.example.com`. Defaults to `location`.
    pub prefix: String,
    /// Where the images really are (`host[:port][/path]`); empty only for wildcard prefixes.
    /// kiste does not rewrite references to it yet.
    pub location: String,
    /// Allow plain HTTP and skip TLS verification.
    pub insecure: bool,
    /// Refuse to pull from it.
    pub blocked: bool,
}

/// The merged registries configuration.
///
/// Parsed and ignored for now: `[[registry.mirror]]` tables, `mirror-by-digest-only`,
/// `[aliases]` (short-name aliases), `short-name-mode` (kiste never prompts; it tries the
/// search registries in order) and `credential-helpers`. Locations are recorded but
/// references are not rewritten to them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RegistriesConf {
    /// `unqualified-search-registries`, in order; empty when none is configured.
    pub unqualified_search: Vec<String>,
    /// `[[registry]]` entries, one per prefix, sorted by prefix.
    pub registries: Vec<RegistryEntry>,
}

/// One file's contribution, keeping "not set" apart from "set to []" for merging.
#[derive(Debug, Default)]
struct FileConf {
    unqualified_search: Option<Vec<String>>,
    registries: Vec<RegistryEntry>,
}

/// The files that make up the configuration, in load order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigSources {
    /// The main registries.conf.
    pub main: PathBuf,
    /// True when the main file was named explicitly ($CONTAINERS_REGISTRIES_CONF): then it
    /// must exist, and no drop-ins are read.
    pub explicit: bool,
    /// Drop-in directories, read in this order.
    pub dirs: Vec<PathBuf>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
struct RawFile {
    unqualified_search_registries: Option<Vec<String>>,
    #[serde(default)]
    registry: Vec<RawRegistry>,
    short_name_mode: Option<String>,
    // Parsed so that a wrong type is reported, otherwise ignored (see RegistriesConf).
    credential_helpers: Option<Vec<String>>,
    aliases: Option<toml::Table>,
    /// The v1 format: [registries.search], [registries.insecure], [registries.block].
    registries: Option<RawV1>,
}

#[derive(Deserialize)]
#[serde(rename_all = "kebab-case")]
struct RawRegistry {
    prefix: Option<String>,
    location: Option<String>,
    #[serde(default)]
    insecure: bool,
    #[serde(default)]
    blocked: bool,
    #[allow(dead_code)]
    #[serde(default)]
    mirror: Vec<toml::Table>,
    #[allow(dead_code)]
    #[serde(default)]
    mirror_by_digest_only: bool,
}

#[derive(Deserialize, Default)]
struct RawV1 {
    #[serde(default)]
    search: RawV1List,
    #[serde(default)]
    insecure: RawV1List,
    #[serde(default)]
    block: RawV1List,
}

#[derive(Deserialize, Default)]
struct RawV1List {
    #[serde(default)]
    registries: Vec<String>,
}

impl RawV1 {
    fn is_empty(&self) -> bool {
        self.search.registries.is_empty() && self.insecure.registries.is_empty() && self.block.registries.is_empty()
    }
}

impl RawFile {
    fn has_v2(&self) -> bool {
        self.unqualified_search_registries.as_ref().is_some_and(|v| !v.is_empty())
            || !self.registry.is_empty()
            || self.short_name_mode.is_some()
            || self.credential_helpers.as_ref().is_some_and(|v| !v.is_empty())
            || self.aliases.as_ref().is_some_and(|a| !a.is_empty())
    }
}

/// Trims trailing '/' and rejects URL schemes, as containers-image does for locations.
fn clean_location(path: &str, what: &str, s: &str) -> Result<String, RegistriesError> {
    let t = s.trim_end_matches('/');
    if t.starts_with("http://") || t.starts_with("https://") {
        return Err(invalid(path, format!("{what} \"{s}\": URI schemes are not supported; write host[:port][/path]")));
    }
    Ok(t.to_string())
}

fn invalid(path: &str, message: impl Into<String>) -> RegistriesError {
    RegistriesError::Invalid { path: path.to_string(), message: message.into() }
}

/// Parses one file's text; `path` only names it in errors. `drop_in` enforces the v2 format.
fn parse_file(text: &str, path: &str, drop_in: bool) -> Result<FileConf, RegistriesError> {
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        RegistriesError::Syntax { path: path.to_string(), line, message: e.message().trim().to_string() }
    })?;
    if let Some(mode) = &raw.short_name_mode
        && !matches!(mode.as_str(), "disabled" | "enforcing" | "permissive")
    {
        return Err(invalid(
            path,
            format!("invalid short-name-mode \"{mode}\" (use disabled, enforcing or permissive)"),
        ));
    }
    let v1 = raw.registries.as_ref().filter(|v| !v.is_empty());
    if let Some(v1) = v1 {
        if drop_in {
            return Err(invalid(
                path,
                "drop-in files must use the v2 format ([[registry]] tables), not [registries.*]",
            ));
        }
        if raw.has_v2() {
            return Err(invalid(path, "mixing the v1 [registries.*] and v2 formats is not supported"));
        }
        return convert_v1(v1, path);
    }
    let mut registries = Vec::with_capacity(raw.registry.len());
    for r in &raw.registry {
        registries.push(entry_from_raw(r, path)?);
    }
    check_conflicts(&registries, path)?;
    let registries = dedup_first_wins(registries);
    let unqualified_search = match raw.unqualified_search_registries {
        Some(list) => Some(clean_search(&list, path)?),
        None => None,
    };
    Ok(FileConf { unqualified_search, registries })
}

fn entry_from_raw(r: &RawRegistry, path: &str) -> Result<RegistryEntry, RegistriesError> {
    let location = clean_location(path, "location", r.location.as_deref().unwrap_or(""))?;
    let prefix = match r.prefix.as_deref() {
        None | Some("") => {
            if location.is_empty() {
                return Err(invalid(path, "a [[registry]] table sets neither prefix nor location"));
            }
            location.clone()
        }
        Some(p) => {
            let p = clean_location(path, "prefix", p)?;
            if p.starts_with("*.") {
                if p.contains(['/', '@', ':']) {
                    return Err(invalid(
                        path,
                        format!("wildcard prefix \"{p}\" must be of the form *.example.com (no port or path)"),
                    ));
                }
            } else if location.is_empty() {
                return Err(invalid(
                    path,
                    format!("[[registry]] prefix \"{p}\" has no location (only *.example.com prefixes may omit it)"),
                ));
            }
            p
        }
    };
    Ok(RegistryEntry { prefix, location, insecure: r.insecure, blocked: r.blocked })
}

/// containers-image refuses one location listed with different insecure/blocked settings.
fn check_conflicts(entries: &[RegistryEntry], path: &str) -> Result<(), RegistriesError> {
    let key = |e: &RegistryEntry| {
        if e.location.is_empty() { e.prefix.clone() } else { e.location.clone() }
    };
    for (i, a) in entries.iter().enumerate() {
        for b in &entries[i + 1..] {
            if key(a) != key(b) {
                continue;
            }
            let setting = if a.insecure != b.insecure {
                "insecure"
            } else if a.blocked != b.blocked {
                "blocked"
            } else {
                continue;
            };
            return Err(invalid(
                path,
                format!("registry \"{}\" is defined more than once with conflicting '{setting}' settings", key(a)),
            ));
        }
    }
    Ok(())
}

/// Within one file the first entry for a prefix wins (later ones could never match).
fn dedup_first_wins(entries: Vec<RegistryEntry>) -> Vec<RegistryEntry> {
    let mut out: Vec<RegistryEntry> = Vec::with_capacity(entries.len());
    for e in entries {
        if !out.iter().any(|o| o.prefix == e.prefix) {
            out.push(e);
        }
    }
    out.sort_by(|a, b| a.prefix.cmp(&b.prefix));
    out
}

fn clean_search(list: &[String], path: &str) -> Result<Vec<String>, RegistriesError> {
    let mut out = Vec::with_capacity(list.len());
    for s in list {
        let r = clean_location(path, "unqualified-search-registries entry", s)?;
        if !reference::is_valid_registry(&r) {
            return Err(invalid(
                path,
                format!("invalid unqualified-search-registries entry \"{s}\": must be host[:port]"),
            ));
        }
        out.push(r);
    }
    Ok(out)
}

fn convert_v1(v1: &RawV1, path: &str) -> Result<FileConf, RegistriesError> {
    let mut entries: Vec<RegistryEntry> = Vec::new();
    let mut get = |loc: &str| -> Result<usize, RegistriesError> {
        let loc = clean_location(path, "registry", loc)?;
        if loc.is_empty() {
            return Err(invalid(path, "empty registry name in [registries.*]"));
        }
        Ok(match entries.iter().position(|e| e.location == loc) {
            Some(i) => i,
            None => {
                entries.push(RegistryEntry { prefix: loc.clone(), location: loc, insecure: false, blocked: false });
                entries.len() - 1
            }
        })
    };
    let mut blocked = Vec::new();
    for b in &v1.block.registries {
        blocked.push(get(b)?);
    }
    let mut insecure = Vec::new();
    for i in &v1.insecure.registries {
        insecure.push(get(i)?);
    }
    for i in blocked {
        entries[i].blocked = true;
    }
    for i in insecure {
        entries[i].insecure = true;
    }
    let search = if v1.search.registries.is_empty() { None } else { Some(clean_search(&v1.search.registries, path)?) };
    Ok(FileConf { unqualified_search: search, registries: dedup_first_wins(entries) })
}

/// containers-image's prefix match: a `*.domain` prefix matches any subdomain in the host
/// part; any other prefix must be followed in `reference` by nothing, ':', '/' or '@'.
fn prefix_matches(reference: &str, prefix: &str) -> bool {
    if let Some(domain) = prefix.strip_prefix('*') {
        // domain is ".example.com"
        let Some(i) = reference.find(domain) else {
            return false;
        };
        if reference[..i].contains('/') {
            return false;
        }
        let end = i + domain.len();
        return end == reference.len() || matches!(reference.as_bytes()[end], b':' | b'/' | b'@');
    }
    match reference.strip_prefix(prefix) {
        Some("") => true,
        Some(rest) => rest.starts_with([':', '/', '@']),
        None => false,
    }
}

/// The entry with the longest prefix; on a tie the first (entries are sorted by prefix), as
/// containers-image picks.
fn longest<'a>(entries: impl Iterator<Item = &'a RegistryEntry>) -> Option<&'a RegistryEntry> {
    let mut best: Option<&RegistryEntry> = None;
    for e in entries {
        if best.is_none_or(|b| e.prefix.len() > b.prefix.len()) {
            best = Some(e);
        }
    }
    best
}

impl FileConf {
    /// Merges a later file: search registries replace if set; registries by prefix.
    fn merge(&mut self, later: FileConf) {
        if later.unqualified_search.is_some() {
            self.unqualified_search = later.unqualified_search;
        }
        for e in later.registries {
            match self.registries.iter_mut().find(|o| o.prefix == e.prefix) {
                Some(o) => *o = e,
                None => self.registries.push(e),
            }
        }
        self.registries.sort_by(|a, b| a.prefix.cmp(&b.prefix));
    }

    fn finish(self) -> RegistriesConf {
        RegistriesConf { unqualified_search: self.unqualified_search.unwrap_or_default(), registries: self.registries }
    }
}

/// Which files Podman reads for a rootless user: `$CONTAINERS_REGISTRIES_CONF` alone if set;
/// else the user's registries.conf (under `xdg_config_home`, default ~/.config) with only the
/// user's registries.conf.d when it exists; else the system file with the system and then the
/// user's drop-in directories. `etc_containers` is /etc/containers outside tests.
fn sources_in(
    home: &Path,
    env_conf: Option<&Path>,
    xdg_config_home: Option<&Path>,
    etc_containers: &Path,
) -> ConfigSources {
    let user_dir = xdg_config_home.map_or_else(|| home.join(".config"), Path::to_path_buf).join("containers");
    let user_conf = user_dir.join("registries.conf");
    let user_drop_ins = user_dir.join("registries.conf.d");
    if let Some(p) = env_conf {
        // Podman still reads the drop-in directories here; kiste reads only the named file, so
        // that a test or a script gets exactly the configuration it points at.
        return ConfigSources { main: p.to_path_buf(), explicit: true, dirs: vec![] };
    }
    if user_conf.exists() {
        return ConfigSources { main: user_conf, explicit: false, dirs: vec![user_drop_ins] };
    }
    ConfigSources {
        main: etc_containers.join("registries.conf"),
        explicit: false,
        dirs: vec![etc_containers.join("registries.conf.d"), user_drop_ins],
    }
}

/// The `.conf` files of a drop-in directory in name order; a missing directory is empty.
fn drop_in_files(dir: &Path) -> Result<Vec<PathBuf>, RegistriesError> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
        Err(e) => {
            return Err(RegistriesError::Io { path: dir.to_path_buf(), source: e });
        }
    };
    let mut files = Vec::new();
    for entry in rd {
        let entry = entry.map_err(|e| RegistriesError::Io { path: dir.to_path_buf(), source: e })?;
        let path = entry.path();
        let is_conf = path.extension().is_some_and(|x| x == "conf");
        // Follow symlinks, skip sub-directories.
        if is_conf && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads a file; None when it does not exist.
fn read_optional(path: &Path) -> Result<Option<String>, RegistriesError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(RegistriesError::Io { path: path.to_path_buf(), source: e }),
    }
}

impl RegistriesConf {
    /// Loads the configuration as Podman does for a rootless user (see [`RegistriesConf::sources`]),
    /// merging drop-ins as containers-registries.conf.d(5) describes. A missing file is not an
    /// error, except a `$CONTAINERS_REGISTRIES_CONF` that names one (Podman fails then too).
    pub fn load(home: &Path) -> Result<RegistriesConf, RegistriesError> {
        let env_conf = std::env::var_os("CONTAINERS_REGISTRIES_CONF").filter(|v| !v.is_empty()).map(PathBuf::from);
        let xdg = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute());
        Self::load_from(&Self::sources(home, env_conf.as_deref(), xdg.as_deref()))
    }

    /// The files [`RegistriesConf::load`] reads, from the given environment values.
    pub fn sources(home: &Path, env_conf: Option<&Path>, xdg_config_home: Option<&Path>) -> ConfigSources {
        sources_in(home, env_conf, xdg_config_home, Path::new(ETC_CONTAINERS))
    }

    /// Loads and merges the given files.
    pub fn load_from(src: &ConfigSources) -> Result<RegistriesConf, RegistriesError> {
        let mut conf = match read_optional(&src.main)? {
            Some(text) => parse_file(&text, &src.main.display().to_string(), false)?,
            None if src.explicit => {
                return Err(RegistriesError::Io {
                    path: src.main.clone(),
                    source: std::io::Error::new(
                        std::io::ErrorKind::NotFound,
                        "file named by $CONTAINERS_REGISTRIES_CONF does not exist",
                    ),
                });
            }
            None => FileConf::default(),
        };
        for dir in &src.dirs {
            for file in drop_in_files(dir)? {
                // A file removed since the listing is not an error.
                if let Some(text) = read_optional(&file)? {
                    conf.merge(parse_file(&text, &file.display().to_string(), true)?);
                }
            }
        }
        Ok(conf.finish())
    }

    /// Parses one registries.conf text (v2, or v1 converted to v2).
    #[cfg_attr(not(test), allow(dead_code))] // for callers with the text in hand; tests use it
    pub fn parse(text: &str) -> Result<RegistriesConf, RegistriesError> {
        Ok(parse_file(text, "registries.conf", false)?.finish())
    }

    /// The registries to try for a short name, in order. When none is configured this is
    /// ["docker.io"]: Docker's behaviour, where Podman would refuse the short name instead.
    pub fn search_registries(&self) -> Vec<String> {
        if self.unqualified_search.is_empty() {
            vec![reference::DOCKER_HUB.to_string()]
        } else {
            self.unqualified_search.clone()
        }
    }

    /// The entry with the longest prefix matching `reference` (a host, a name, or a full
    /// reference string), as containers-image's FindRegistry.
    pub fn find(&self, reference: &str) -> Option<&RegistryEntry> {
        longest(self.registries.iter().filter(|e| prefix_matches(reference, &e.prefix)))
    }

    /// True when the registry host should be reached over plain HTTP / without TLS
    /// verification: the longest-prefix entry matching the host, or an entry whose location
    /// is that host, says `insecure = true`.
    pub fn is_insecure(&self, registry: &str) -> bool {
        longest(self.registries.iter().filter(|e| prefix_matches(registry, &e.prefix) || e.location == registry))
            .is_some_and(|e| e.insecure)
    }

    /// True when the longest-prefix entry matching the reference is `blocked = true`.
    pub fn is_blocked(&self, reference: &Reference) -> bool {
        self.find(&reference.to_string()).is_some_and(|e| e.blocked)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{tmpdir, write};
    use std::fs;

    fn conf(text: &str) -> RegistriesConf {
        match RegistriesConf::parse(text) {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        }
    }

    fn r(s: &str) -> Reference {
        match Reference::parse(s) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn search_registries_default_to_docker_hub() {
        let c = conf("");
        assert!(c.unqualified_search.is_empty());
        assert_eq!(c.search_registries(), ["docker.io"]);
        let c = conf("unqualified-search-registries = [\"quay.io\", \"localhost:5000/\", \"docker.io\"]\n");
        assert_eq!(c.search_registries(), ["quay.io", "localhost:5000", "docker.io"]);
    }

    #[test]
    fn registry_tables() {
        let c = conf(
            r#"
unqualified-search-registries = ["docker.io"]
short-name-mode = "enforcing"
credential-helpers = ["containers-auth.json"]

[[registry]]
location = "127.0.0.1:5000"
insecure = true

[[registry]]
prefix = "example.com/foo"
location = "mirror.example.com/bar"
blocked = true
[[registry.mirror]]
location = "m1.example.com"
insecure = true

[[registry]]
prefix = "*.internal.test"
insecure = true

[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
"#,
        );
        assert_eq!(c.registries.len(), 3);
        assert!(c.is_insecure("127.0.0.1:5000"));
        assert!(!c.is_insecure("127.0.0.1:5001"));
        assert!(!c.is_insecure("127.0.0.1"));
        assert!(c.is_insecure("a.internal.test"));
        assert!(c.is_insecure("a.b.internal.test:443"));
        assert!(!c.is_insecure("internal.test"));
        assert!(!c.is_insecure("xinternal.test"));
        assert!(!c.is_insecure("m1.example.com")); // mirrors are ignored
        assert!(c.is_blocked(&r("example.com/foo/img:1")));
        assert!(c.is_blocked(&r("example.com/foo")));
        assert!(!c.is_blocked(&r("example.com/foobar")));
        assert!(!c.is_blocked(&r("example.com/other")));
        assert!(!c.is_blocked(&r("alpine")));
        // location match counts for insecure
        let c = conf("[[registry]]\nprefix = \"docker.io\"\nlocation = \"cache.local:5000\"\ninsecure = true\n");
        assert!(c.is_insecure("cache.local:5000"));
    }

    #[test]
    fn longest_prefix_wins() {
        let c = conf(
            r#"
[[registry]]
location = "example.com"
blocked = true
[[registry]]
location = "example.com/ok"
[[registry]]
prefix = "*.example.com"
insecure = true
[[registry]]
location = "a.example.com"
"#,
        );
        assert!(c.is_blocked(&r("example.com/x")));
        assert!(!c.is_blocked(&r("example.com/ok/x")));
        assert!(c.is_blocked(&r("example.com/okay")));
        assert!(c.is_insecure("b.example.com"));
        // Equal lengths: the first in prefix order ("*." sorts before letters) wins.
        assert!(c.is_insecure("a.example.com"));
        let c = conf(
            "[[registry]]\nprefix = \"*.example.com\"\ninsecure = true\n[[registry]]\nlocation = \"deep.a.example.com\"\n",
        );
        assert!(!c.is_insecure("deep.a.example.com"));
        assert!(c.is_insecure("other.a.example.com"));
        assert_eq!(c.find("deep.a.example.com/x:1").map(|e| e.location.as_str()), Some("deep.a.example.com"));
        assert_eq!(c.find("nothing.test"), None);
    }

    #[test]
    fn prefix_matching_rules() {
        assert!(prefix_matches("example.com", "example.com"));
        assert!(prefix_matches("example.com/a", "example.com"));
        assert!(prefix_matches("example.com:5000", "example.com")); // as containers-image
        assert!(prefix_matches("example.com/a@sha256:x", "example.com/a"));
        assert!(prefix_matches("example.com/a:tag", "example.com/a"));
        assert!(!prefix_matches("example.com.evil", "example.com"));
        assert!(!prefix_matches("example.co", "example.com"));
        assert!(prefix_matches("x.example.com/a", "*.example.com"));
        assert!(!prefix_matches("example.com/x.example.com", "*.example.com"));
        assert!(!prefix_matches("x.example.community", "*.example.com"));
    }

    #[test]
    fn v1_format() {
        let c = conf(
            "[registries.search]\nregistries = ['quay.io', 'docker.io']\n\
             [registries.insecure]\nregistries = ['localhost:5000']\n\
             [registries.block]\nregistries = ['evil.com']\n",
        );
        assert_eq!(c.search_registries(), ["quay.io", "docker.io"]);
        assert!(c.is_insecure("localhost:5000"));
        assert!(c.is_blocked(&r("evil.com/x")));
        assert!(!c.is_blocked(&r("quay.io/x")));
        let e = RegistriesConf::parse(
            "unqualified-search-registries = ['a.io']\n[registries.search]\nregistries = ['b.io']\n",
        );
        assert!(e.is_err_and(|e| e.to_string().contains("mixing")));
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = RegistriesConf::parse("unqualified-search-registries = [\"a.io\"]\n\n[[registry]\nlocation = 1\n");
        let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("registries.conf: line 3"), "{msg}");
        let e = RegistriesConf::parse("[[registry]]\nlocation = \"a.io\"\ninsecure = \"yes\"\n");
        let msg = e.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(msg.contains("line 3"), "{msg}");
        for bad in [
            "unqualified-search-registries = [\"https://quay.io\"]",
            "unqualified-search-registries = [\"quay.io/ns\"]",
            "[[registry]]\ninsecure = true",
            "[[registry]]\nprefix = \"example.com\"",
            "[[registry]]\nprefix = \"*.example.com/x\"",
            "[[registry]]\nlocation = \"http://example.com\"",
            "short-name-mode = \"sometimes\"",
            "[[registry]]\nlocation = \"a.io\"\ninsecure = true\n[[registry]]\nprefix = \"b\"\nlocation = \"a.io\"\n",
        ] {
            assert!(RegistriesConf::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn duplicate_prefix_first_wins() {
        let c = conf(
            "[[registry]]\nlocation = \"a.io\"\nblocked = true\n[[registry]]\nprefix = \"a.io\"\nlocation = \"b.io\"\n",
        );
        assert_eq!(c.registries.len(), 1);
        assert!(c.is_blocked(&r("a.io/x")));
    }

    #[test]
    fn sources_follow_podman_order() {
        let home = tmpdir("registries-sources");
        let etc = home.join("etc");
        let s = sources_in(&home, None, None, &etc);
        assert_eq!(s.main, etc.join("registries.conf"));
        assert_eq!(s.dirs, [etc.join("registries.conf.d"), home.join(".config/containers/registries.conf.d")]);
        write(&home.join(".config/containers/registries.conf"), "");
        let s = sources_in(&home, None, None, &etc);
        assert_eq!(s.main, home.join(".config/containers/registries.conf"));
        assert_eq!(s.dirs, [home.join(".config/containers/registries.conf.d")]);
        let xdg = home.join("xdg");
        let s = sources_in(&home, None, Some(&xdg), &etc);
        assert_eq!(s.main, etc.join("registries.conf"));
        assert_eq!(s.dirs[1], xdg.join("containers/registries.conf.d"));
        let s = sources_in(&home, Some(Path::new("/x/r.conf")), Some(&xdg), &etc);
        assert_eq!(s, ConfigSources { main: PathBuf::from("/x/r.conf"), explicit: true, dirs: vec![] });
        let _ = fs::remove_dir_all(&home);
    }

    #[test]
    fn drop_ins_merge_in_order() {
        let home = tmpdir("registries-dropins");
        let etc = home.join("etc");
        write(
            &etc.join("registries.conf"),
            "unqualified-search-registries = [\"quay.io\"]\n[[registry]]\nlocation = \"a.io\"\nblocked = true\n",
        );
        write(
            &etc.join("registries.conf.d/10-a.conf"),
            "[[registry]]\nlocation = \"a.io\"\n[[registry]]\nlocation = \"b.io\"\ninsecure = true\n",
        );
        write(&etc.join("registries.conf.d/20-b.conf"), "unqualified-search-registries = [\"docker.io\"]\n");
        write(&etc.join("registries.conf.d/30-ignored.txt"), "this is not toml [");
        write(&etc.join("registries.conf.d/sub.conf/x.conf"), "not toml [");
        write(
            &home.join(".config/containers/registries.conf.d/00-user.conf"),
            "[[registry]]\nlocation = \"c.io\"\nblocked = true\n",
        );
        let c = RegistriesConf::load_from(&sources_in(&home, None, None, &etc));
        let c = match c {
            Ok(c) => c,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(c.search_registries(), ["docker.io"]);
        assert!(!c.is_blocked(&r("a.io/x")));
        assert!(c.is_insecure("b.io"));
        assert!(c.is_blocked(&r("c.io/x")));

        // A broken drop-in is named in the error; v1 is refused in drop-ins.
        write(&etc.join("registries.conf.d/40-bad.conf"), "[[registry]]\nlocation = \n");
        let e = RegistriesConf::load_from(&sources_in(&home, None, None, &etc)).err().map(|e| e.to_string());
        let e = e.unwrap_or_default();
        assert!(e.contains("40-bad.conf") && e.contains("line 2"), "{e}");
        write(&etc.join("registries.conf.d/40-bad.conf"), "[registries.search]\nregistries = ['x.io']\n");
        let e = RegistriesConf::load_from(&sources_in(&home, None, None, &etc)).err().map(|e| e.to_string());
        assert!(e.unwrap_or_default().contains("v2"));

        // Missing files: fine, unless named explicitly.
        let empty = sources_in(&home.join("nohome"), None, None, &home.join("noetc"));
        assert_eq!(RegistriesConf::load_from(&empty).ok(), Some(RegistriesConf::default()));
        let explicit = sources_in(&home, Some(&home.join("missing.conf")), None, &etc);
        assert!(RegistriesConf::load_from(&explicit).is_err());
        let _ = fs::remove_dir_all(&home);
    }
}
