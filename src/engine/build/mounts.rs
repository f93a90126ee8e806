//! `RUN --mount=...` values (already expanded) parsed into a typed mount, with BuildKit's
//! keys, defaults (bind and secret read-only, cache and tmpfs writable) and checks. Paths are
//! left as written; resolving a relative target against WORKDIR is the plan's job.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MountType {
    Bind,
    Cache,
    Tmpfs,
    Secret,
    Ssh,
}

impl fmt::Display for MountType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MountType::Bind => "bind",
            MountType::Cache => "cache",
            MountType::Tmpfs => "tmpfs",
            MountType::Secret => "secret",
            MountType::Ssh => "ssh",
        })
    }
}

/// `sharing=` of a cache mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sharing {
    #[default]
    Shared,
    Private,
    Locked,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    pub kind: MountType,
    pub target: Option<String>,
    pub source: Option<String>,
    /// A stage name or index, or an image (bind and cache mounts).
    pub from: Option<String>,
    /// `id=` (cache and secret).
    pub id: Option<String>,
    pub readonly: bool,
    pub sharing: Sharing,
    pub mode: Option<u32>,
    pub uid: Option<u32>,
    pub gid: Option<u32>,
    /// tmpfs size in bytes.
    pub size: Option<u64>,
    /// secret/ssh: fail when the secret is missing.
    pub required: bool,
    /// secret: expose as this environment variable instead of a file.
    pub env: Option<String>,
}

const KEYS: &[&str] = &[
    "type",
    "from",
    "source",
    "src",
    "target",
    "dst",
    "destination",
    "readonly",
    "ro",
    "readwrite",
    "rw",
    "id",
    "sharing",
    "required",
    "size",
    "mode",
    "uid",
    "gid",
    "env",
];

/// Splits a CSV line: commas separate fields, double quotes protect commas (`""` is a quote).
pub fn csv_fields(s: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' if quoted && chars.peek() == Some(&'"') => {
                cur.push('"');
                chars.next();
            }
            '"' => quoted = !quoted,
            ',' if !quoted => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    if quoted {
        return Err(format!("unterminated quote in {s:?}"));
    }
    out.push(cur);
    Ok(out)
}

/// The `from=` value of a mount, without checking anything else.
pub fn from_of(s: &str) -> Option<String> {
    csv_fields(s).ok()?.into_iter().find_map(|f| {
        let (k, v) = f.split_once('=')?;
        k.eq_ignore_ascii_case("from").then(|| v.to_string())
    })
}

fn parse_bool(key: &str, v: &str) -> Result<bool, String> {
    match v.to_ascii_lowercase().as_str() {
        "1" | "t" | "true" => Ok(true),
        "0" | "f" | "false" => Ok(false),
        _ => Err(format!("invalid value for {key}: {v:?}; use true or false")),
    }
}

/// A size such as `64m`, `1g` or `1048576` (bytes, binary units as Docker's RAMInBytes).
pub fn parse_size(v: &str) -> Option<u64> {
    let lower = v.trim().to_ascii_lowercase();
    let lower = lower.strip_suffix("ib").or_else(|| lower.strip_suffix('b')).unwrap_or(&lower);
    let split = lower.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(lower.len());
    let (num, unit) = lower.split_at(split);
    let n: f64 = num.parse().ok()?;
    let mult = match unit {
        "" => 1u64,
        "k" => 1 << 10,
        "m" => 1 << 20,
        "g" => 1 << 30,
        "t" => 1 << 40,
        _ => return None,
    };
    Some((n * mult as f64) as u64)
}

/// Parses one `--mount` value.
pub fn parse_mount(s: &str) -> Result<Mount, String> {
    let mut m = Mount {
        kind: MountType::Bind,
        target: None,
        source: None,
        from: None,
        id: None,
        readonly: true,
        sharing: Sharing::Shared,
        mode: None,
        uid: None,
        gid: None,
        size: None,
        required: false,
        env: None,
    };
    let (mut ro_set, mut sharing_set) = (false, false);
    for field in csv_fields(s)? {
        let (key, value) = match field.split_once('=') {
            Some((k, v)) => (k.to_ascii_lowercase(), Some(v.to_string())),
            None => (field.to_ascii_lowercase(), None),
        };
        let Some(value) = value else {
            match key.as_str() {
                "readonly" | "ro" => (m.readonly, ro_set) = (true, true),
                "readwrite" | "rw" => (m.readonly, ro_set) = (false, true),
                "required" if matches!(m.kind, MountType::Secret | MountType::Ssh) => m.required = true,
                "required" => return Err(format!("unexpected key 'required' for mount type '{}'", m.kind)),
                _ => return Err(format!("invalid field {field:?}: use key=value")),
            }
            continue;
        };
        let num = |v: &str, radix| u32::from_str_radix(v, radix).map_err(|_| format!("invalid value {v:?} for {key}"));
        match key.as_str() {
            "type" => {
                m.kind = match value.to_ascii_lowercase().as_str() {
                    "bind" => MountType::Bind,
                    "cache" => MountType::Cache,
                    "tmpfs" => MountType::Tmpfs,
                    "secret" => MountType::Secret,
                    "ssh" => MountType::Ssh,
                    _ => {
                        return Err(format!("unsupported mount type {value:?}: use bind, cache, tmpfs, secret or ssh"));
                    }
                }
            }
            "from" => m.from = Some(value),
            "source" | "src" => m.source = Some(value),
            "target" | "dst" | "destination" => m.target = Some(value),
            "readonly" | "ro" => (m.readonly, ro_set) = (parse_bool(&key, &value)?, true),
            "readwrite" | "rw" => (m.readonly, ro_set) = (!parse_bool(&key, &value)?, true),
            "required" if matches!(m.kind, MountType::Secret | MountType::Ssh) => {
                m.required = parse_bool(&key, &value)?
            }
            "size" if m.kind == MountType::Tmpfs => {
                m.size = Some(parse_size(&value).ok_or_else(|| format!("invalid value for size: {value:?}"))?)
            }
            "required" | "size" => return Err(format!("unexpected key '{key}' for mount type '{}'", m.kind)),
            "id" => m.id = Some(value),
            "sharing" => {
                sharing_set = true;
                m.sharing = match value.to_ascii_lowercase().as_str() {
                    "shared" => Sharing::Shared,
                    "private" => Sharing::Private,
                    "locked" => Sharing::Locked,
                    _ => return Err(format!("unsupported sharing value {value:?}: use shared, private or locked")),
                }
            }
            "mode" => m.mode = Some(num(&value, 8)?),
            "uid" => m.uid = Some(num(&value, 10)?),
            "gid" => m.gid = Some(num(&value, 10)?),
            "env" => m.env = Some(value),
            _ => {
                let hint =
                    super::flags::suggest(&key, KEYS).map(|s| format!(" (did you mean {s}?)")).unwrap_or_default();
                return Err(format!("unexpected key '{key}' in '{field}'{hint}"));
            }
        }
    }
    check(&mut m, ro_set, sharing_set)?;
    Ok(m)
}

fn check(m: &mut Mount, ro_set: bool, sharing_set: bool) -> Result<(), String> {
    if !matches!(m.kind, MountType::Secret | MountType::Ssh | MountType::Cache) {
        for (name, set) in [("mode", m.mode.is_some()), ("uid", m.uid.is_some()), ("gid", m.gid.is_some())] {
            if set {
                return Err(format!("{name} not allowed for \"{}\" type mounts", m.kind));
            }
        }
    }
    if !ro_set {
        m.readonly = !matches!(m.kind, MountType::Cache | MountType::Tmpfs);
    }
    if sharing_set && m.kind != MountType::Cache {
        return Err(format!("sharing is only for cache mounts, not \"{}\"", m.kind));
    }
    if m.kind == MountType::Secret {
        if m.from.is_some() {
            return Err("secret mount should not have a from".into());
        }
        if m.source.is_none() && m.target.is_none() && m.id.is_none() {
            return Err("invalid secret mount: give id=ID (and optionally target=PATH)".into());
        }
        if m.source.is_some() && m.id.is_some() {
            return Err("secret mount: give id= or source=, not both".into());
        }
    }
    if matches!(m.kind, MountType::Bind | MountType::Cache | MountType::Tmpfs) && m.target.is_none() {
        return Err(format!("{} mount needs target=PATH", m.kind));
    }
    Ok(())
}

impl Mount {
    /// The secret's ID: `id=`, else `source=`, else the target's base name.
    pub fn secret_id(&self) -> Option<String> {
        self.id
            .clone()
            .or_else(|| self.source.clone())
            .or_else(|| self.target.as_deref().and_then(|t| t.rsplit('/').find(|c| !c.is_empty())).map(str::to_string))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_mount_defaults_to_writable() {
        let m = parse_mount("type=cache,target=/root/.cache/pip,id=pip,sharing=locked,mode=0755,uid=1000").unwrap();
        assert_eq!(m.kind, MountType::Cache);
        assert!(!m.readonly);
        assert_eq!(
            (m.id.as_deref(), m.sharing, m.mode, m.uid),
            (Some("pip"), Sharing::Locked, Some(0o755), Some(1000))
        );
    }

    #[test]
    fn bind_mount_defaults_to_readonly() {
        let m = parse_mount("target=/src,from=build,source=/out").unwrap();
        assert_eq!(m.kind, MountType::Bind);
        assert!(m.readonly);
        assert_eq!(m.from.as_deref(), Some("build"));
        let m = parse_mount("type=bind,target=/src,rw").unwrap();
        assert!(!m.readonly);
        let m = parse_mount("type=bind,dst=/src,readwrite=true").unwrap();
        assert!(!m.readonly);
    }

    #[test]
    fn secrets_and_tmpfs() {
        let m = parse_mount("type=secret,id=npmrc,required,env=NPM_TOKEN").unwrap();
        assert!(m.required && m.readonly);
        assert_eq!(m.secret_id().as_deref(), Some("npmrc"));
        assert_eq!(parse_mount("type=secret,target=/run/secrets/tok").unwrap().secret_id().as_deref(), Some("tok"));
        let m = parse_mount("type=tmpfs,target=/tmp,size=64m").unwrap();
        assert_eq!(m.size, Some(64 << 20));
        assert!(!m.readonly);
    }

    #[test]
    fn errors() {
        let cases = [
            ("type=nfs,target=/x", "unsupported mount type \"nfs\""),
            ("type=cache", "cache mount needs target=PATH"),
            ("type=bind,target=/x,mode=0700", "mode not allowed for \"bind\" type mounts"),
            ("type=secret,from=x,id=a", "secret mount should not have a from"),
            ("type=secret", "invalid secret mount"),
            ("type=cache,target=/x,trget=/y", "did you mean target?"),
            ("type=bind,target=/x,required", "unexpected key 'required' for mount type 'bind'"),
            ("type=bind,target=/x,sharing=locked", "sharing is only for cache mounts"),
            ("type=tmpfs,target=/x,size=lots", "invalid value for size"),
            ("type=cache,target=/x,uid=root", "invalid value \"root\" for uid"),
            ("type=cache,target=/x,ro=maybe", "invalid value for ro"),
            ("type=cache,target", "invalid field \"target\""),
        ];
        for (input, want) in cases {
            let e = parse_mount(input).unwrap_err();
            assert!(e.contains(want), "{input}: {e}");
        }
    }

    #[test]
    fn csv_and_from() {
        assert_eq!(csv_fields("a=1,\"b=x,y\",c").unwrap(), ["a=1", "b=x,y", "c"]);
        assert_eq!(csv_fields("a=\"q\"\"q\"").unwrap(), ["a=q\"q"]);
        assert!(csv_fields("a=\"open").is_err());
        assert_eq!(from_of("type=bind,FROM=build,target=/x").as_deref(), Some("build"));
        assert_eq!(from_of("type=cache,target=/x"), None);
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("512"), Some(512));
        assert_eq!(parse_size("1.5kb"), Some(1536));
    }
}
