//! A container's users and groups, from its /etc/passwd and /etc/group: `-u NAME[:GROUP]`,
//! `--group-add`, HOME, user names for `top`, the keep-id passwd. The files are read through
//! in-root access (`storage::inroot`: inside the image, or inside the running container
//! through `runtime::exec::read_files`; regular files only, bounded); this module parses what
//! it was given and touches no path itself.

use super::ContainerError;
use crate::storage::inroot::{InRootError, SMALL_FILE_LIMIT, layers::LayerStack};
use std::path::{Path, PathBuf};

/// The passwd and group files of an image or a running container ("" when absent).
#[derive(Debug, Default, Clone)]
pub struct UserDb {
    pub passwd: String,
    pub group: String,
}

fn text(read: Result<Option<Vec<u8>>, InRootError>) -> Result<String, ContainerError> {
    let bytes = read.map_err(|e| ContainerError::Invalid(e.to_string()))?;
    Ok(bytes.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default())
}

impl UserDb {
    /// From an image's layer directories (top first), as the merged root will show them.
    pub fn from_layers(layers_top_first: &[PathBuf]) -> Result<UserDb, ContainerError> {
        let stack = LayerStack::new(layers_top_first);
        Ok(UserDb {
            passwd: text(stack.read_small(Path::new("etc/passwd"), SMALL_FILE_LIMIT))?,
            group: text(stack.read_small(Path::new("etc/group"), SMALL_FILE_LIMIT))?,
        })
    }

    /// From a running container, as its process `pid` sees them (its mounts included).
    pub fn from_process(pid: u32) -> Result<UserDb, ContainerError> {
        let files = crate::runtime::exec::read_files(pid, &["etc/passwd", "etc/group"], SMALL_FILE_LIMIT)
            .map_err(ContainerError::Invalid)?;
        let text = |f: Option<&Option<Vec<u8>>>| {
            f.and_then(|f| f.as_ref()).map(|b| String::from_utf8_lossy(b).into_owned()).unwrap_or_default()
        };
        Ok(UserDb { passwd: text(files.first()), group: text(files.get(1)) })
    }

    /// The fields of the first line of `file` that `want` accepts.
    fn entry(file: &str, want: impl Fn(&[&str]) -> bool) -> Option<Vec<&str>> {
        file.lines().map(|l| l.split(':').collect::<Vec<_>>()).find(|f| want(f))
    }

    fn by_name(name: &str) -> impl Fn(&[&str]) -> bool + '_ {
        move |f| f.first() == Some(&name)
    }

    /// An entry whose uid (passwd) or gid (group) field is `id`.
    fn by_id(id: u32) -> impl Fn(&[&str]) -> bool {
        move |f| f.get(2).and_then(|v| v.parse::<u32>().ok()) == Some(id)
    }

    fn num(entry: &[&str], i: usize) -> Option<u32> {
        entry.get(i)?.parse().ok()
    }

    fn group_id(&self, name: &str) -> Option<u32> {
        Self::num(&Self::entry(&self.group, Self::by_name(name))?, 2)
    }

    /// Resolves `user[:group]` (names or numbers) as Podman does: a numeric user without an
    /// entry gets group 0.
    pub fn resolve(&self, spec: &str) -> Result<(u32, u32), ContainerError> {
        let (u, g) = match spec.split_once(':') {
            Some((u, g)) => (u, Some(g)),
            None => (spec, None),
        };
        let (uid, mut gid) = match u.parse::<u32>() {
            Ok(n) => (n, Self::entry(&self.passwd, Self::by_id(n)).and_then(|e| Self::num(&e, 3)).unwrap_or(0)),
            Err(_) => {
                let e = Self::entry(&self.passwd, Self::by_name(u));
                e.and_then(|e| Some((Self::num(&e, 2)?, Self::num(&e, 3)?))).ok_or_else(|| {
                    ContainerError::Invalid(format!(
                        "unable to find user {u}: no matching entries in the container's /etc/passwd"
                    ))
                })?
            }
        };
        if let Some(g) = g.filter(|g| !g.is_empty()) {
            gid = match g.parse::<u32>() {
                Ok(n) => n,
                Err(_) => self.group_id(g).ok_or_else(|| {
                    ContainerError::Invalid(format!(
                        "unable to find group {g}: no matching entries in the container's /etc/group"
                    ))
                })?,
            };
        }
        Ok((uid, gid))
    }

    /// `--group-add` entries as numbers (names from /etc/group).
    pub fn groups(&self, groups: &[String]) -> Result<Vec<u32>, ContainerError> {
        groups
            .iter()
            .map(|g| match g.parse::<u32>() {
                Ok(n) => Ok(n),
                Err(_) if g == "keep-groups" => Err(ContainerError::Invalid(
                    "--group-add keep-groups is not supported by kiste; name the groups instead".into(),
                )),
                Err(_) => self.group_id(g).ok_or_else(|| {
                    ContainerError::Invalid(format!(
                        "unable to find group {g}: no matching entries in the container's /etc/group"
                    ))
                }),
            })
            .collect()
    }

    /// The name of `uid`.
    pub fn name_of(&self, uid: u32) -> Option<String> {
        Self::entry(&self.passwd, Self::by_id(uid))?.first().map(|s| s.to_string())
    }

    /// The home directory of `uid`; "/" without an entry, as Podman.
    pub fn home_of(&self, uid: u32) -> String {
        Self::entry(&self.passwd, Self::by_id(uid))
            .and_then(|e| e.get(5).filter(|h| !h.is_empty()).map(|h| h.to_string()))
            .unwrap_or_else(|| "/".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> UserDb {
        UserDb {
            passwd: "root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/app:/bin/sh\n".into(),
            group: "root:x:0:\nstaff:x:50:\n".into(),
        }
    }

    #[test]
    fn users_and_groups_resolve_like_podman() {
        let d = db();
        assert_eq!(d.resolve("app").unwrap(), (1000, 1001));
        assert_eq!(d.resolve("app:staff").unwrap(), (1000, 50));
        assert_eq!(d.resolve("1000").unwrap(), (1000, 1001));
        assert_eq!(d.resolve("42:7").unwrap(), (42, 7));
        assert_eq!(d.resolve("42").unwrap(), (42, 0));
        assert!(d.resolve("nosuchuser").unwrap_err().to_string().contains("nosuchuser"));
        assert!(d.resolve("app:nogroup").unwrap_err().to_string().contains("nogroup"));
        assert_eq!(d.groups(&["staff".into(), "7".into()]).unwrap(), vec![50, 7]);
        assert!(d.groups(&["keep-groups".into()]).is_err());
        assert_eq!(d.home_of(1000), "/app");
        assert_eq!(d.home_of(42), "/");
        assert_eq!(d.name_of(0).as_deref(), Some("root"));
        assert_eq!(d.name_of(5), None);
        assert_eq!(UserDb::default().resolve("0").unwrap(), (0, 0));
    }

    #[test]
    fn image_files_come_from_the_layers() {
        let d = crate::testutil::tmpdir("users-layers");
        crate::testutil::write(&d.join("etc/passwd"), "app:x:7:8::/srv:/bin/sh\n");
        let db = UserDb::from_layers(std::slice::from_ref(&d)).unwrap();
        assert_eq!(db.resolve("app").unwrap(), (7, 8));
        assert_eq!(db.group, "");
    }
}
