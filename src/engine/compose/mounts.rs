//! What a service mounts: `volumes` (short `src:dst:mode` and long syntax; bind, named or
//! anonymous volume, tmpfs) read into `VolumeMount`s, and the `secrets`/`configs` references
//! (short name or long form) read into `FileMount`s. Relative bind sources were made absolute
//! on the tree before (paths.rs); nothing here touches the file system.

use super::forms;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// What is mounted at a target.
#[derive(Debug, Clone, PartialEq)]
pub enum MountKind {
    /// A host path (absolute).
    Bind {
        source: PathBuf,
        /// Create the host directory when it is missing (the default).
        create_host_path: bool,
        propagation: Option<String>,
        /// `z` or `Z`.
        selinux: Option<String>,
    },
    /// A named volume (`source` is its key under top-level `volumes`) or, with no source, an
    /// anonymous one.
    Volume {
        source: Option<String>,
        nocopy: bool,
        subpath: Option<String>,
        labels: BTreeMap<String, String>,
    },
    Tmpfs {
        size: Option<i64>,
        mode: Option<u32>,
    },
}

/// One entry of a service's `volumes`.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeMount {
    pub kind: MountKind,
    /// Absolute, cleaned path in the container.
    pub target: String,
    pub read_only: bool,
    pub consistency: Option<String>,
}

const PROPAGATIONS: [&str; 6] = ["rprivate", "private", "rshared", "shared", "rslave", "slave"];

fn bad(spec: &str, why: &str) -> String {
    format!("invalid volume \"{spec}\": {why}")
}

/// Cleans an absolute path as Go's path.Clean does (no `.`/`..`/double slashes).
pub fn clean_target(t: &str) -> String {
    let mut parts: Vec<&str> = vec![];
    for p in t.split('/') {
        match p {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    format!("/{}", parts.join("/"))
}

fn check_target(spec: &str, t: &str) -> Result<String, String> {
    if !t.starts_with('/') {
        return Err(bad(spec, &format!("the target \"{t}\" must be an absolute path in the container")));
    }
    Ok(clean_target(t))
}

/// Whether a short-syntax source is a host path (`.`, `/`, `~`) rather than a volume name.
pub fn is_host_path(source: &str) -> bool {
    source.starts_with(['.', '/', '~'])
}

/// Splits the short syntax into (source, target, options); a lone part is the target.
pub fn split_short(spec: &str) -> Result<(&str, &str, Option<&str>), String> {
    let parts: Vec<&str> = spec.split(':').collect();
    if parts.iter().any(|p| p.is_empty()) {
        return Err(bad(spec, "empty section between colons; write SOURCE:TARGET[:MODE]"));
    }
    match parts.as_slice() {
        [t] => Ok(("", t, None)),
        [s, t] => Ok((s, t, None)),
        [s, t, o] => Ok((s, t, Some(o))),
        _ => Err(bad(spec, "too many colons; write SOURCE:TARGET[:MODE]")),
    }
}

/// Parses `[SOURCE:]TARGET[:OPTIONS]`.
pub fn parse_short(spec: &str) -> Result<VolumeMount, String> {
    let (source, target, options) = split_short(spec)?;
    let target = check_target(spec, target)?;
    let (mut read_only, mut nocopy, mut propagation, mut selinux) = (false, false, None, None);
    for o in options.unwrap_or("").split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" => read_only = true,
            "rw" => read_only = false,
            "nocopy" => nocopy = true,
            "z" | "Z" => selinux = Some(o.to_string()),
            "cached" | "delegated" | "consistent" => {}
            p if PROPAGATIONS.contains(&p) => propagation = Some(p.to_string()),
            _ => {
                return Err(bad(spec, &format!("unknown option \"{o}\"; use ro, rw, z, Z, nocopy or a propagation")));
            }
        }
    }
    let kind = if is_host_path(source) {
        MountKind::Bind { source: PathBuf::from(source), create_host_path: true, propagation, selinux }
    } else {
        if propagation.is_some() || selinux.is_some() {
            return Err(bad(spec, "z, Z and propagation options apply to host paths only"));
        }
        let source = (!source.is_empty()).then(|| source.to_string());
        MountKind::Volume { source, nocopy, subpath: None, labels: BTreeMap::new() }
    };
    Ok(VolumeMount { kind, target, read_only, consistency: None })
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BindOpts {
    #[serde(default)]
    propagation: Option<String>,
    #[serde(default, deserialize_with = "forms::opt_bool")]
    create_host_path: Option<bool>,
    #[serde(default)]
    selinux: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct VolumeOpts {
    #[serde(default, deserialize_with = "forms::bool_")]
    nocopy: bool,
    #[serde(default)]
    subpath: Option<String>,
    #[serde(default, deserialize_with = "forms::labels")]
    labels: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TmpfsOpts {
    #[serde(default, deserialize_with = "forms::opt_bytes")]
    size: Option<i64>,
    #[serde(default, deserialize_with = "file_mode")]
    mode: Option<u32>,
}

/// The long syntax as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LongVolume {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    source: Option<String>,
    target: String,
    #[serde(default, deserialize_with = "forms::bool_")]
    read_only: bool,
    #[serde(default)]
    consistency: Option<String>,
    #[serde(default)]
    bind: Option<BindOpts>,
    #[serde(default)]
    volume: Option<VolumeOpts>,
    #[serde(default)]
    tmpfs: Option<TmpfsOpts>,
}

impl LongVolume {
    fn into_mount(self) -> Result<VolumeMount, String> {
        let target = check_target(&self.target, &self.target)?;
        let source = self.source.filter(|s| !s.is_empty());
        let extra = |name: &str, set: bool| {
            if set {
                Err(format!("\"{name}\" options do not apply to a {} mount; remove them", self.kind))
            } else {
                Ok(())
            }
        };
        let kind = match self.kind.as_str() {
            "bind" => {
                extra("volume", self.volume.is_some())?;
                extra("tmpfs", self.tmpfs.is_some())?;
                let b = self.bind.unwrap_or_default();
                let source = source.ok_or("a bind mount needs a source path; add source: ./dir")?;
                if let Some(p) = b.propagation.as_deref().filter(|p| !PROPAGATIONS.contains(p)) {
                    return Err(format!("invalid propagation \"{p}\": use one of {}", PROPAGATIONS.join(", ")));
                }
                if let Some(s) = b.selinux.as_deref().filter(|s| !matches!(*s, "z" | "Z")) {
                    return Err(format!("invalid selinux \"{s}\": use z or Z"));
                }
                let create_host_path = b.create_host_path.unwrap_or(true);
                MountKind::Bind {
                    source: source.into(),
                    create_host_path,
                    propagation: b.propagation,
                    selinux: b.selinux,
                }
            }
            "volume" => {
                extra("bind", self.bind.is_some())?;
                extra("tmpfs", self.tmpfs.is_some())?;
                let v = self.volume.unwrap_or_default();
                MountKind::Volume { source, nocopy: v.nocopy, subpath: v.subpath, labels: v.labels }
            }
            "tmpfs" => {
                extra("bind", self.bind.is_some())?;
                extra("volume", self.volume.is_some())?;
                if source.is_some() {
                    return Err("a tmpfs mount has no source; remove it".into());
                }
                let t = self.tmpfs.unwrap_or_default();
                MountKind::Tmpfs { size: t.size, mode: t.mode }
            }
            "npipe" | "cluster" | "image" => {
                return Err(format!(
                    "volume type \"{}\" is not supported by kiste; use bind, volume or tmpfs",
                    self.kind
                ));
            }
            t => return Err(format!("invalid volume type \"{t}\": use bind, volume or tmpfs")),
        };
        Ok(VolumeMount { kind, target, read_only: self.read_only, consistency: self.consistency })
    }
}

impl<'de> Deserialize<'de> for VolumeMount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<VolumeMount, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = VolumeMount;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a volume such as \"data:/var/lib/data\" or a mapping with type, source and target")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<VolumeMount, E> {
                parse_short(v).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<VolumeMount, A::Error> {
                let long = LongVolume::deserialize(de::value::MapAccessDeserializer::new(map))?;
                long.into_mount().map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for VolumeMount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        let kind = match self.kind {
            MountKind::Bind { .. } => "bind",
            MountKind::Volume { .. } => "volume",
            MountKind::Tmpfs { .. } => "tmpfs",
        };
        m.serialize_entry("type", kind)?;
        match &self.kind {
            MountKind::Bind { source, .. } => m.serialize_entry("source", source)?,
            MountKind::Volume { source: Some(source), .. } => m.serialize_entry("source", source)?,
            _ => {}
        }
        m.serialize_entry("target", &self.target)?;
        if self.read_only {
            m.serialize_entry("read_only", &true)?;
        }
        if let Some(c) = &self.consistency {
            m.serialize_entry("consistency", c)?;
        }
        match &self.kind {
            MountKind::Bind { create_host_path, propagation, selinux, .. } => {
                let mut b = serde_norway::Mapping::new();
                if let Some(s) = selinux {
                    b.insert("selinux".into(), s.as_str().into());
                }
                if let Some(p) = propagation {
                    b.insert("propagation".into(), p.as_str().into());
                }
                if !create_host_path {
                    b.insert("create_host_path".into(), false.into());
                }
                m.serialize_entry("bind", &b)?;
            }
            MountKind::Volume { nocopy, subpath, labels, .. } => {
                let mut v = serde_norway::Mapping::new();
                if !labels.is_empty() {
                    v.insert("labels".into(), serde_norway::to_value(labels).unwrap_or_default());
                }
                if *nocopy {
                    v.insert("nocopy".into(), true.into());
                }
                if let Some(p) = subpath {
                    v.insert("subpath".into(), p.as_str().into());
                }
                m.serialize_entry("volume", &v)?;
            }
            MountKind::Tmpfs { size, mode } => {
                let mut t = serde_norway::Mapping::new();
                if let Some(sz) = size {
                    t.insert("size".into(), sz.to_string().into());
                }
                if let Some(md) = mode {
                    t.insert("mode".into(), (*md).into());
                }
                if !t.is_empty() {
                    m.serialize_entry("tmpfs", &t)?;
                }
            }
        }
        m.end()
    }
}

/// A file mode: an integer, or octal text (`"0440"`), as compose-go reads it.
pub fn file_mode<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match Option::<forms::Scalar>::deserialize(d)? {
        None => Ok(None),
        Some(forms::Scalar(s)) => {
            let parsed = match s.parse::<u32>() {
                Ok(n) if !s.starts_with('0') || s == "0" => Some(n),
                _ => u32::from_str_radix(s.trim_start_matches("0o"), 8).ok(),
            };
            parsed
                .filter(|m| *m <= 0o7777)
                .map(Some)
                .ok_or_else(|| de::Error::custom(format!("invalid mode \"{s}\": write an octal mode such as \"0440\"")))
        }
    }
}

/// A service's reference to a top-level secret or config.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FileMount {
    /// The key under top-level `secrets`/`configs`.
    pub source: String,
    /// Where it appears in the container (secrets default to /run/secrets/SOURCE after
    /// resolution; configs to /SOURCE when `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "opt_text")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "opt_text")]
    pub gid: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "file_mode",
        serialize_with = "ser_mode"
    )]
    pub mode: Option<u32>,
}

fn opt_text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(Option::<forms::Scalar>::deserialize(d)?.map(|s| s.0))
}

fn ser_mode<S: Serializer>(m: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
    match m {
        Some(m) => s.serialize_str(&format!("0{m:o}")),
        None => s.serialize_none(),
    }
}

/// A list of secret/config references, each a name or a long form.
pub fn file_mounts<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<FileMount>, D::Error> {
    struct Entry(FileMount);
    impl<'de> Deserialize<'de> for Entry {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Entry, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Entry;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str("a name or a mapping with source and target")
                }
                fn visit_str<E: de::Error>(self, v: &str) -> Result<Entry, E> {
                    Ok(Entry(FileMount { source: v.to_string(), target: None, uid: None, gid: None, mode: None }))
                }
                fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Entry, A::Error> {
                    FileMount::deserialize(de::value::MapAccessDeserializer::new(map)).map(Entry)
                }
            }
            d.deserialize_any(V)
        }
    }
    let list: Option<Vec<Entry>> = Deserialize::deserialize(d)?;
    Ok(list.unwrap_or_default().into_iter().map(|e| e.0).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_forms() {
        let m = parse_short("data:/var/lib/data").unwrap();
        assert!(matches!(&m.kind, MountKind::Volume { source: Some(s), .. } if s == "data"));
        assert_eq!(m.target, "/var/lib/data");
        let m = parse_short("/abs/src:/dst/:ro,z").unwrap();
        assert!(m.read_only);
        assert_eq!(m.target, "/dst");
        assert_eq!(
            m.kind,
            MountKind::Bind {
                source: "/abs/src".into(),
                create_host_path: true,
                propagation: None,
                selinux: Some("z".into())
            }
        );
        let m = parse_short("/anon").unwrap();
        assert_eq!(m.kind, MountKind::Volume { source: None, nocopy: false, subpath: None, labels: BTreeMap::new() });
        let m = parse_short("cache:/c:nocopy").unwrap();
        assert!(matches!(m.kind, MountKind::Volume { nocopy: true, .. }));
    }

    #[test]
    fn short_errors() {
        for s in ["a:b", "a::/b", "a:/b:c:d", "a:/b:bogus", "name:/b:z"] {
            assert!(parse_short(s).unwrap_err().starts_with("invalid volume"), "{s}");
        }
    }

    #[test]
    fn long_forms() {
        let v: serde_norway::Value = serde_norway::from_str(
            "[{type: tmpfs, target: /tmp, tmpfs: {size: 64m, mode: \"01777\"}}, {type: bind, source: /s, target: /t, bind: {create_host_path: false}}]",
        )
        .unwrap();
        let m: Vec<VolumeMount> = Deserialize::deserialize(v).unwrap();
        assert_eq!(m[0].kind, MountKind::Tmpfs { size: Some(64 << 20), mode: Some(0o1777) });
        assert!(matches!(m[1].kind, MountKind::Bind { create_host_path: false, .. }));
        let v: serde_norway::Value = serde_norway::from_str("{type: bind, target: /t}").unwrap();
        assert!(VolumeMount::deserialize(v).unwrap_err().to_string().contains("needs a source"));
    }

    #[test]
    fn file_mount_forms() {
        let v: serde_norway::Value =
            serde_norway::from_str("[token, {source: cert, target: /c, mode: 0o440}]").unwrap();
        let m = file_mounts(v).unwrap();
        assert_eq!(m[0].source, "token");
        assert_eq!(m[1].mode, Some(0o440));
        let v: serde_norway::Value = serde_norway::from_str("[{source: c, mode: \"0440\"}]").unwrap();
        assert_eq!(file_mounts(v).unwrap()[0].mode, Some(0o440));
    }
}
