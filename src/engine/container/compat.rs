//! The run/create options Podman scripts use that become files, binds and kept settings:
//! `--log-driver`/`--log-opt`, `--tz`, `--passwd-entry`/`--group-entry`/`--hostuser`,
//! `--requires`, `--sdnotify`. Checked here before anything exists; the spec's other parts
//! are `spec.rs`'s, containers.conf defaults `defaults.rs`'s.

use super::ContainerError;
use super::users::UserDb;
use crate::state::containers_conf::LogDriver;
use oci_spec::runtime::{MountBuilder, Spec};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// Where a container's output goes, kept with its record.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct LogConfig {
    pub driver: LogDriver,
    /// `--log-opt path=`: the log file instead of the container's `ctr.log`.
    pub path: Option<PathBuf>,
    /// `--log-opt max-size=` (bytes), as given; shown by `inspect`.
    pub max_size: Option<u64>,
    /// `--log-opt tag=`.
    pub tag: Option<String>,
}

impl LogConfig {
    /// `--log-driver` (else containers.conf's, else k8s-file) and `--log-opt KEY=VALUE`.
    pub fn parse(
        driver: Option<&str>,
        opts: &[String],
        default: Option<LogDriver>,
    ) -> Result<LogConfig, ContainerError> {
        let driver = match driver {
            Some(d) => LogDriver::parse(d).filter(|d| *d != LogDriver::Journald).ok_or_else(|| {
                ContainerError::Invalid(format!(
                    "invalid --log-driver \"{d}\": use k8s-file, json-file, none or passthrough"
                ))
            })?,
            None => default.unwrap_or_default(),
        };
        let mut c = LogConfig { driver, ..Default::default() };
        for o in opts {
            let bad = |why: &str| ContainerError::Invalid(format!("invalid --log-opt \"{o}\": {why}"));
            let (k, v) = o.split_once('=').ok_or_else(|| bad("use KEY=VALUE: path=, max-size= or tag="))?;
            match k {
                "path" if v.starts_with('/') => c.path = Some(PathBuf::from(v)),
                "path" => return Err(bad("the path must be absolute")),
                "max-size" => {
                    c.max_size = Some(
                        super::spec::parse_size(v).filter(|n| *n > 0).ok_or_else(|| bad("use a size such as 10m"))?,
                    )
                }
                "tag" => c.tag = Some(v.to_string()),
                _ => return Err(bad("unknown option; use path=, max-size= or tag=")),
            }
        }
        if c.path.is_some() && !c.driver.keeps_log() {
            return Err(ContainerError::Invalid(format!(
                "--log-opt path= needs a log file; the {} log driver keeps none",
                c.driver.as_str()
            )));
        }
        Ok(c)
    }
}

/// `--sdnotify`: who tells systemd the container is ready.
pub fn check_sdnotify(v: &str) -> Result<String, ContainerError> {
    match v {
        "container" | "conmon" | "healthy" | "ignore" => Ok(v.to_string()),
        _ => Err(ContainerError::Invalid(format!(
            "invalid --sdnotify \"{v}\": use container, conmon, healthy or ignore"
        ))),
    }
}

/// `--requires NAME[,NAME...]`: the IDs of containers that must exist now.
pub fn resolve_requires(conn: &rusqlite::Connection, names: &[String]) -> Result<Vec<String>, ContainerError> {
    let mut ids = Vec::new();
    for n in names.iter().flat_map(|n| n.split(',')).filter(|n| !n.is_empty()) {
        let c = super::resolve(conn, n)?;
        if !ids.contains(&c.id) {
            ids.push(c.id);
        }
    }
    Ok(ids)
}

/// The zone file `--tz` names: `local` is the host's, else one of /usr/share/zoneinfo.
pub fn timezone_file(tz: &str) -> Result<PathBuf, ContainerError> {
    let bad = || {
        ContainerError::Invalid(format!(
            "invalid --tz \"{tz}\": unknown time zone; use local or a name from /usr/share/zoneinfo such as Europe/Berlin"
        ))
    };
    let p = match tz {
        "local" => std::fs::canonicalize("/etc/localtime").map_err(|_| bad())?,
        _ if tz.split('/').any(|c| c == ".." || c.is_empty()) || tz.starts_with('/') => return Err(bad()),
        _ => Path::new("/usr/share/zoneinfo").join(tz),
    };
    if !p.is_file() {
        return Err(bad());
    }
    Ok(p)
}

/// What the Podman user-file options ask for.
#[derive(Debug, Default, Clone)]
pub struct UserFiles<'a> {
    pub passwd_entry: Option<&'a str>,
    pub group_entry: Option<&'a str>,
    pub hostusers: &'a [String],
    pub tz: Option<&'a str>,
}

/// Files to write in the container's userdata directory and bind into it.
#[derive(Debug, Default)]
pub struct Extra {
    /// (file name in userdata, destination, contents)
    pub files: Vec<(&'static str, &'static str, Vec<u8>)>,
}

/// A host user's /etc/passwd line (`--hostuser NAME|UID`).
fn host_user_line(u: &str) -> Result<String, ContainerError> {
    let found = match u.parse::<u32>() {
        Ok(uid) => nix::unistd::User::from_uid(uid.into()),
        Err(_) => nix::unistd::User::from_name(u),
    };
    let u = found
        .ok()
        .flatten()
        .ok_or_else(|| ContainerError::Invalid(format!("invalid --hostuser \"{u}\": no such user on this host")))?;
    Ok(format!(
        "{}:x:{}:{}:{}:{}:{}\n",
        u.name,
        u.uid,
        u.gid,
        u.gecos.to_string_lossy(),
        u.dir.display(),
        u.shell.display()
    ))
}

/// Podman's template variables in `--passwd-entry`/`--group-entry`.
fn expand(template: &str, name: &str, uid: u32, gid: u32, home: &str) -> String {
    let mut s = template
        .replace("$USERNAME", name)
        .replace("$GROUPNAME", name)
        .replace("$UID", &uid.to_string())
        .replace("$GID", &gid.to_string())
        .replace("$NAME", name)
        .replace("$HOME", home);
    if !s.ends_with('\n') {
        s.push('\n');
    }
    s
}

/// The files `opts` need for a process running as the spec's user: /etc/passwd and
/// /etc/group with the added entries (on top of `passwd`, the image's or keep-id's), and
/// /etc/localtime for `--tz`.
pub fn user_files(o: &UserFiles, users: &UserDb, passwd: &str, spec: &Spec) -> Result<Extra, ContainerError> {
    let mut extra = Extra::default();
    let (uid, gid, home) = match spec.process() {
        Some(p) => (p.user().uid(), p.user().gid(), p.cwd().display().to_string()),
        None => (0, 0, "/".into()),
    };
    let has = |text: &str, id: u32| text.lines().any(|l| l.split(':').nth(2) == Some(id.to_string().as_str()));
    let name = users.name_of(uid).unwrap_or_else(|| uid.to_string());
    let mut added = String::new();
    for u in o.hostusers {
        added.push_str(&host_user_line(u)?);
    }
    if let Some(t) = o.passwd_entry.filter(|_| !has(passwd, uid)) {
        added.push_str(&expand(t, &name, uid, gid, &home));
    }
    if !added.is_empty() {
        let mut text = passwd.to_string();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&added);
        extra.files.push(("passwd", "/etc/passwd", text.into_bytes()));
    }
    if let Some(t) = o.group_entry.filter(|_| !has(&users.group, gid)) {
        let mut text = users.group.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&expand(t, &name, uid, gid, &home));
        extra.files.push(("group", "/etc/group", text.into_bytes()));
    }
    if let Some(tz) = o.tz {
        let src = timezone_file(tz)?;
        let data = std::fs::read(&src).map_err(|e| ContainerError::io("cannot read", &src, e))?;
        extra.files.push(("localtime", "/etc/localtime", data));
    }
    Ok(extra)
}

impl Extra {
    /// Binds the files (from `ctr_dir`/userdata) into the spec, replacing binds of the same
    /// destinations (keep-id's /etc/passwd).
    pub fn add_mounts(&self, spec: &mut Spec, ctr_dir: &Path) -> Result<(), ContainerError> {
        let mut mounts = spec.mounts().clone().unwrap_or_default();
        for (file, dest, _) in &self.files {
            mounts.retain(|m| m.destination() != Path::new(dest));
            let mut options = vec!["rbind".to_string(), "rprivate".to_string()];
            if *dest == "/etc/localtime" {
                options.push("ro".into());
            }
            mounts.push(
                MountBuilder::default()
                    .destination(PathBuf::from(dest))
                    .typ("bind")
                    .source(ctr_dir.join("userdata").join(file))
                    .options(options)
                    .build()
                    .map_err(|e| ContainerError::Invalid(format!("cannot build the runtime spec: {e}")))?,
            );
        }
        spec.set_mounts(Some(mounts));
        Ok(())
    }

    /// Writes the files into `userdata`.
    pub fn write(&self, userdata: &Path) -> Result<(), ContainerError> {
        for (file, _, data) in &self.files {
            let p = userdata.join(file);
            std::fs::write(&p, data).map_err(|e| ContainerError::io("cannot write", &p, e))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_options_parse_as_podman_takes_them() {
        let c = LogConfig::parse(Some("json-file"), &["max-size=10m".into(), "tag=web".into()], None).unwrap();
        assert_eq!((c.driver, c.max_size, c.tag.as_deref()), (LogDriver::JsonFile, Some(10 << 20), Some("web")));
        assert_eq!(LogConfig::parse(None, &[], Some(LogDriver::None)).unwrap().driver, LogDriver::None);
        // containers.conf's journald (Podman's default on systemd hosts) is taken; the flag is not.
        assert_eq!(LogConfig::parse(None, &[], Some(LogDriver::Journald)).unwrap().driver, LogDriver::Journald);
        assert!(LogConfig::parse(Some("journald"), &[], None).is_err());
        assert_eq!(LogConfig::parse(None, &["path=/tmp/x.log".into()], None).unwrap().path, Some("/tmp/x.log".into()));
        for (d, o) in [
            (Some("syslog"), ""),
            (None, "path=rel"),
            (None, "bogus=1"),
            (None, "max-size=x"),
            (Some("none"), "path=/x"),
        ] {
            let opts: Vec<String> = if o.is_empty() { vec![] } else { vec![o.into()] };
            assert!(LogConfig::parse(d, &opts, None).is_err(), "{d:?} {o}");
        }
        assert!(check_sdnotify("conmon").is_ok() && check_sdnotify("x").is_err());
    }

    #[test]
    fn passwd_and_group_entries_only_where_missing() {
        let users = UserDb { passwd: "root:x:0:0::/root:/bin/sh\n".into(), group: "root:x:0:\n".into() };
        let mut spec = Spec::default();
        let mut p = spec.process().clone().unwrap();
        let mut u = p.user().clone();
        u.set_uid(1234);
        u.set_gid(99);
        p.set_user(u);
        spec.set_process(Some(p));
        let o = UserFiles {
            passwd_entry: Some("$USERNAME:x:$UID:$GID:$NAME:$HOME:/bin/false"),
            group_entry: Some("$GROUPNAME:x:$GID:$USERNAME"),
            ..Default::default()
        };
        let e = user_files(&o, &users, &users.passwd, &spec).unwrap();
        let text = |n: &str| String::from_utf8(e.files.iter().find(|f| f.0 == n).unwrap().2.clone()).unwrap();
        assert!(text("passwd").ends_with("1234:x:1234:99:1234:/:/bin/false\n"), "{}", text("passwd"));
        assert!(text("group").ends_with("1234:x:99:1234\n"), "{}", text("group"));
        // Root exists in the image: no entry.
        let root = Spec::default();
        assert!(user_files(&o, &users, &users.passwd, &root).unwrap().files.iter().all(|f| f.0 != "passwd"));
        assert!(timezone_file("../etc/passwd").is_err() && timezone_file("No/Such_Zone").is_err());
    }
}
