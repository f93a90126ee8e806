//! The calling user's identity and subordinate ID ranges (/etc/subuid, /etc/subgid), and how
//! image IDs map to host IDs. Reads files only; never enters a namespace.

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum IdMapError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
}

/// A contiguous range of host IDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRange {
    pub start: u32,
    pub count: u32,
}

/// Who we are and which IDs we may use: container 0 is the user, 1..=count the subordinate range.
#[derive(Debug, Clone)]
pub struct IdMapping {
    pub uid: u32,
    pub gid: u32,
    pub user: String,
    pub subuid: Option<IdRange>,
    pub subgid: Option<IdRange>,
    /// Where the user's shared user namespace is recorded (`shared_userns`); None: processes
    /// started in a user namespace always map one of their own.
    pub shared_userns: Option<std::path::PathBuf>,
}

/// One line of an ID map: (ID inside, ID outside, count), as newuidmap takes them.
pub type Triple = (u32, u32, u32);

/// The uid and gid maps of a user namespace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Maps {
    pub uid: Vec<Triple>,
    pub gid: Vec<Triple>,
}

/// Finds the first range for `user` (by name or numeric uid) in a subuid/subgid file's text.
pub fn parse_subid(text: &str, user: &str, uid: u32) -> Option<IdRange> {
    let uid_s = uid.to_string();
    text.lines().filter(|l| !l.trim_start().starts_with('#')).find_map(|l| {
        let mut f = l.trim().split(':');
        let (who, start, count) = (f.next()?, f.next()?, f.next()?);
        if who != user && who != uid_s {
            return None;
        }
        let r = IdRange { start: start.trim().parse().ok()?, count: count.trim().parse().ok()? };
        (r.count > 0).then_some(r)
    })
}

fn read_subid(path: &str, user: &str, uid: u32) -> Result<Option<IdRange>, IdMapError> {
    match std::fs::read_to_string(path) {
        Ok(t) => Ok(parse_subid(&t, user, uid)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(IdMapError::Read { path: path.into(), source }),
    }
}

impl IdMapping {
    /// The calling user's mapping. Succeeds without a subordinate range (then only ID 0 is mapped).
    pub fn current() -> Result<IdMapping, IdMapError> {
        let uid = nix::unistd::geteuid().as_raw();
        let gid = nix::unistd::getegid().as_raw();
        let user =
            nix::unistd::User::from_uid(uid.into()).ok().flatten().map(|u| u.name).unwrap_or_else(|| uid.to_string());
        if uid == 0 {
            return Ok(IdMapping { uid, gid, user, subuid: None, subgid: None, shared_userns: None });
        }
        let subuid = read_subid("/etc/subuid", &user, uid)?;
        let subgid = read_subid("/etc/subgid", &user, uid)?;
        Ok(IdMapping { uid, gid, user, subuid, subgid, shared_userns: None })
    }

    pub fn is_rootful(&self) -> bool {
        self.uid == 0
    }

    #[cfg(test)]
    pub fn host_gid(&self, id: u32) -> Option<u32> {
        host_id(self.gid, self.subgid, id)
    }

    /// The default map of one kind: 0 -> own, 1..=count -> the subordinate range.
    pub fn default_map(own: u32, range: Option<IdRange>) -> Vec<Triple> {
        let mut v = vec![(0, own, 1)];
        if let Some(r) = range {
            v.push((1, r.start, r.count));
        }
        v
    }

    /// The maps every store helper and (by default) every container uses.
    pub fn maps(&self) -> Maps {
        Maps { uid: Self::default_map(self.uid, self.subuid), gid: Self::default_map(self.gid, self.subgid) }
    }

    /// Arguments to newuidmap/newgidmap after the pid.
    pub fn map_args(map: &[Triple]) -> Vec<String> {
        map.iter().flat_map(|(c, h, n)| [c.to_string(), h.to_string(), n.to_string()]).collect()
    }

    /// `--userns=keep-id`: our own ID keeps its number, the subordinate range fills 0..own and
    /// the IDs above it. None when the range is too small to hold our ID.
    pub fn keep_id_map(own: u32, range: IdRange) -> Option<Vec<Triple>> {
        if own == 0 || own >= range.count {
            return None;
        }
        Some(vec![(0, range.start, own), (own, own, 1), (own + 1, range.start + own, range.count - own)])
    }

    /// The host uid that image uid `id` is stored as, if it is mapped.
    #[cfg(test)]
    pub fn host_uid(&self, id: u32) -> Option<u32> {
        host_id(self.uid, self.subuid, id)
    }

    /// Text for /proc/PID/uid_map when no helper binary is needed (own ID only).
    pub fn single_map(own: u32) -> String {
        format!("0 {own} 1\n")
    }
}

/// Reads a /proc/PID/uid_map (or gid_map) text: the namespace's map as its reader sees it.
pub fn parse_proc_map(text: &str) -> Vec<Triple> {
    text.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace().map(|x| x.parse::<u32>().ok());
            Some((f.next()??, f.next()??, f.next()??))
        })
        .collect()
}

/// Re-expresses `map` (container ID -> host ID) relative to a parent user namespace whose own
/// map is `parent` (parent ID -> host ID): the map a namespace nested in the parent needs to
/// give the same host IDs. None when a host ID of `map` is not mapped in the parent.
pub fn translate(map: &[Triple], parent: &[Triple]) -> Option<Vec<Triple>> {
    let mut out = compose(map, &invert(parent));
    let covered: u64 = out.iter().map(|t| t.2 as u64).sum();
    if covered != map.iter().map(|t| t.2 as u64).sum::<u64>() {
        return None;
    }
    out.sort();
    Some(out)
}

/// `a` then `b`: the IDs `a` maps, mapped again by `b` (ranges split as needed; IDs that `b`
/// does not map are left out).
pub fn compose(a: &[Triple], b: &[Triple]) -> Vec<Triple> {
    let mut out = Vec::new();
    for &(from, to, n) in a {
        for &(bf, bt, bn) in b {
            let (lo, hi) = (to.max(bf) as u64, (to as u64 + n as u64).min(bf as u64 + bn as u64));
            if lo < hi {
                out.push((from + (lo - to as u64) as u32, bt + (lo - bf as u64) as u32, (hi - lo) as u32));
            }
        }
    }
    out
}

/// The inverse of a map (its targets to its sources).
pub fn invert(m: &[Triple]) -> Vec<Triple> {
    m.iter().map(|&(a, b, n)| (b, a, n)).collect()
}

/// Where `map` sends `id`, if it maps it.
pub fn lookup(map: &[Triple], id: u32) -> Option<u32> {
    map.iter().find_map(|&(from, to, n)| (id >= from && id - from < n).then(|| to + (id - from)))
}

/// Maps owners as seen on one side to owners on the other: (from, to, count) triples.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct IdTable {
    pub uid: Vec<Triple>,
    pub gid: Vec<Triple>,
}

#[cfg(test)]
fn host_id(own: u32, range: Option<IdRange>, id: u32) -> Option<u32> {
    if id == 0 {
        return Some(own);
    }
    let r = range?;
    (id - 1 < r.count).then(|| r.start + (id - 1))
}

/// True when `path` exists and is executable: used to report missing uidmap tools.
pub fn tool_exists(path: &Path) -> bool {
    nix::unistd::access(path, nix::unistd::AccessFlags::X_OK).is_ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn maps_compose_and_invert() {
        use super::{compose, invert, lookup};
        // Container (keep-id for 1000) -> host, then host -> the store's default namespace.
        let keep = vec![(0, 100000, 1000), (1000, 1000, 1), (1001, 101000, 64536)];
        let t = compose(&keep, &invert(&[(0, 1000, 1), (1, 100000, 65536)]));
        assert_eq!(lookup(&t, 1000), Some(0));
        assert_eq!(lookup(&t, 0), Some(1));
        assert_eq!(lookup(&t, 1001), Some(1001));
    }

    #[test]
    fn maps_translate_into_a_parent_namespace() {
        let parent = vec![(0, 1000, 1), (1, 100000, 65536)];
        assert_eq!(translate(&parent, &parent), Some(vec![(0, 0, 1), (1, 1, 65536)]));
        // keep-id: 0..999 -> subuids, 1000 -> the user, the rest -> subuids above.
        let keep = IdMapping::keep_id_map(1000, IdRange { start: 100000, count: 65536 }).unwrap();
        assert_eq!(translate(&keep, &parent), Some(vec![(0, 1, 1000), (1000, 0, 1), (1001, 1001, 64536)]));
        assert_eq!(translate(&[(0, 5, 1)], &parent), None);
        assert_eq!(parse_proc_map("         0       1000          1\n         1     100000      65536\n"), parent);
    }

    use super::*;

    #[test]
    fn parses_by_name_or_uid() {
        let t = "# comment\nalice:100000:65536\nbob:165536:0\n1002:300000:1000\n";
        assert_eq!(parse_subid(t, "alice", 1000), Some(IdRange { start: 100000, count: 65536 }));
        assert_eq!(parse_subid(t, "bob", 1001), None, "empty range is no range");
        assert_eq!(parse_subid(t, "carol", 1002), Some(IdRange { start: 300000, count: 1000 }));
        assert_eq!(parse_subid("garbage\n", "alice", 1), None);
    }

    #[test]
    fn maps_like_podman() {
        let m = IdMapping {
            uid: 1000,
            gid: 1000,
            user: "u".into(),
            subuid: Some(IdRange { start: 200000, count: 65536 }),
            subgid: Some(IdRange { start: 300000, count: 10 }),
            shared_userns: None,
        };
        assert_eq!(m.host_uid(0), Some(1000));
        assert_eq!(m.host_uid(1), Some(200000));
        assert_eq!(m.host_uid(1000), Some(200999));
        assert_eq!(m.host_uid(65536), Some(265535));
        assert_eq!(m.host_uid(65537), None);
        assert_eq!(m.host_gid(11), None);
        assert_eq!(IdMapping::map_args(&m.maps().uid), ["0", "1000", "1", "1", "200000", "65536"]);
        let keep = IdMapping::keep_id_map(1000, m.subuid.unwrap()).unwrap();
        assert_eq!(IdMapping::map_args(&keep), ["0", "200000", "1000", "1000", "1000", "1", "1001", "201000", "64536"]);
        assert!(IdMapping::keep_id_map(70000, m.subuid.unwrap()).is_none());
    }
}
