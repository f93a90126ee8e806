//! Parsing `-v`, `--mount` and `--volumes-from` as Podman spells them into typed requests.
//! Pure: nothing is looked up here (bind sources, volumes and images are checked by plan.rs).

use super::{Flag, MountOptions, MountRequest, Propagation, Source};
use crate::engine::container::ContainerError;
use std::path::{Path, PathBuf};

fn bad(what: &str, spec: &str, why: impl std::fmt::Display) -> ContainerError {
    ContainerError::Invalid(format!("invalid {what} \"{spec}\": {why}"))
}

/// A container path: absolute, cleaned (`//a/./b/` -> `/a/b`); `..` is refused.
pub fn clean_dest(what: &str, spec: &str, dest: &str) -> Result<String, ContainerError> {
    if !dest.starts_with('/') {
        return Err(bad(what, spec, format!("the container path \"{dest}\" must be absolute, e.g. /data")));
    }
    let mut parts = Vec::new();
    for c in dest.split('/') {
        match c {
            "" | "." => {}
            ".." => return Err(bad(what, spec, format!("the container path \"{dest}\" must not contain \"..\""))),
            c => parts.push(c),
        }
    }
    if parts.is_empty() {
        return Err(bad(what, spec, "cannot mount over the container's root /; pick a directory such as /data"));
    }
    Ok(format!("/{}", parts.join("/")))
}

/// A host path as given: absolute as is, `./x` and `../x` against the working directory.
fn host_path(what: &str, spec: &str, src: &str) -> Result<PathBuf, ContainerError> {
    let p = Path::new(src);
    if p.is_absolute() {
        return Ok(p.to_path_buf());
    }
    let cwd = std::env::current_dir().map_err(|e| bad(what, spec, format!("cannot resolve \"{src}\": {e}")))?;
    Ok(cwd.join(p))
}

/// Applies one `-v` option word (or a `--mount` flag that means the same).
fn volume_word(o: &mut MountOptions, w: &str, seen: &mut Vec<&'static str>) -> Result<(), String> {
    let mut once = |group: &'static str| {
        if seen.contains(&group) {
            Err(format!("only one of the {group} options may be given"))
        } else {
            seen.push(group);
            Ok(())
        }
    };
    match w {
        "ro" | "rw" => {
            once("ro/rw")?;
            o.read_only = w == "ro";
        }
        "z" | "Z" => once("z/Z")?, // SELinux relabelling: nothing to do without SELinux.
        "U" => o.chown = true,
        "O" => o.overlay = true,
        "copy" | "nocopy" => {
            once("copy/nocopy")?;
            o.copy = Some(w == "copy");
        }
        "bind" | "rbind" => {
            once("bind/rbind")?;
            o.nonrecursive = w == "bind";
        }
        w if Propagation::parse(w).is_some() => {
            once("propagation")?;
            o.propagation = Propagation::parse(w);
        }
        w if Flag::parse(w).is_some() => {
            let f = Flag::parse(w).ok_or("")?;
            once(f.group())?;
            o.flags.push(f);
        }
        "idmap" => return Err("idmap mounts are not supported; use U to chown the source instead".into()),
        w => {
            return Err(format!(
                "unknown option \"{w}\"; use ro, rw, z, Z, U, O, copy, nocopy, bind, rbind, [r]private, [r]shared, [r]slave, [no]suid, [no]dev, [no]exec"
            ));
        }
    }
    Ok(())
}

/// `-v [SRC:]DEST[:OPTIONS]`: a host path (starts with `/` or `.`), a volume name, or only
/// the container path (an anonymous volume).
pub fn volume(spec: &str) -> Result<MountRequest, ContainerError> {
    const WHAT: &str = "volume";
    let parts: Vec<&str> = spec.split(':').collect();
    let (src, dest, words) = match parts.as_slice() {
        [dest] => (None, *dest, ""),
        [src, dest] => (Some(*src), *dest, ""),
        [src, dest, opts] => (Some(*src), *dest, *opts),
        _ => return Err(bad(WHAT, spec, "use [SOURCE:]CONTAINER-PATH[:OPTIONS]")),
    };
    let dest = clean_dest(WHAT, spec, dest)?;
    let mut options = MountOptions::default();
    let mut seen = Vec::new();
    for w in words.split(',').filter(|w| !w.is_empty()) {
        volume_word(&mut options, w, &mut seen).map_err(|why| bad(WHAT, spec, why))?;
    }
    let source = match src {
        None => Source::Volume(None),
        Some("") => return Err(bad(WHAT, spec, "the source is empty; give a host path or a volume name")),
        Some(s) if s.starts_with('/') || s.starts_with('.') => Source::Bind(host_path(WHAT, spec, s)?),
        Some(name) => {
            crate::engine::volume::check_name(name).map_err(|e| bad(WHAT, spec, e))?;
            Source::Volume(Some(name.to_string()))
        }
    };
    if options.overlay && !matches!(source, Source::Bind(_)) {
        return Err(bad(WHAT, spec, "O (an overlay over the source) needs a host directory as the source"));
    }
    Ok(MountRequest { source, dest, options })
}

/// `--mount type=bind|volume|tmpfs|image,source=...,destination=...,OPTIONS`.
pub fn mount(spec: &str) -> Result<MountRequest, ContainerError> {
    const WHAT: &str = "--mount";
    let mut typ = None;
    let mut src: Option<&str> = None;
    let mut dest: Option<&str> = None;
    let mut options = MountOptions::default();
    let mut seen = Vec::new();
    let mut rw_image = false;
    let fields: Vec<&str> = spec.split(',').filter(|f| !f.is_empty()).collect();
    for f in &fields {
        if let Some(t) = f.strip_prefix("type=") {
            typ = Some(t);
        }
    }
    let typ = typ.ok_or_else(|| bad(WHAT, spec, "give type=bind, volume, tmpfs or image"))?;
    if !["bind", "volume", "tmpfs", "image"].contains(&typ) {
        return Err(bad(WHAT, spec, format!("unsupported type \"{typ}\"; use bind, volume, tmpfs or image")));
    }
    for f in fields {
        let (k, v) = match f.split_once('=') {
            Some((k, v)) => (k, Some(v)),
            None => (f, None),
        };
        let only = |types: &[&str]| {
            if types.contains(&typ) {
                Ok(())
            } else {
                Err(bad(WHAT, spec, format!("{k} does not apply to type={typ}")))
            }
        };
        let flag = |v: Option<&str>| match v.map(str::to_ascii_lowercase).as_deref() {
            None | Some("true") | Some("1") => Ok(true),
            Some("false") | Some("0") => Ok(false),
            Some(_) => Err(bad(WHAT, spec, format!("{k} takes true or false"))),
        };
        match k {
            "type" => {}
            "source" | "src" => {
                only(&["bind", "volume", "image"])?;
                let v = f.split_once('=').map(|x| x.1).unwrap_or("");
                if v.is_empty() {
                    return Err(bad(WHAT, spec, "the source is empty"));
                }
                src = Some(v);
            }
            "destination" | "dst" | "target" | "dest" => {
                dest = Some(f.split_once('=').map(|x| x.1).unwrap_or(""));
            }
            "readonly" | "ro" => {
                once_rw(&mut seen, spec)?;
                options.read_only = flag(v)?;
            }
            "rw" if typ == "image" => rw_image = flag(v)?,
            "rw" => {
                once_rw(&mut seen, spec)?;
                options.read_only = !flag(v)?;
            }
            "bind-propagation" => {
                only(&["bind"])?;
                let p = v.and_then(Propagation::parse).ok_or_else(|| {
                    bad(WHAT, spec, "bind-propagation takes [r]private, [r]shared, [r]slave or [r]unbindable")
                })?;
                options.propagation = Some(p);
            }
            "bind-nonrecursive" => {
                only(&["bind"])?;
                options.nonrecursive = flag(v)?;
            }
            "relabel" | "consistency" => {}
            "U" | "chown" => options.chown = flag(v)?,
            "nocopy" | "volume-nocopy" => {
                only(&["volume"])?;
                options.copy = Some(!flag(v)?);
            }
            "copy" => {
                only(&["volume"])?;
                options.copy = Some(flag(v)?);
            }
            "tmpfs-size" => {
                only(&["tmpfs"])?;
                let v = v.ok_or_else(|| bad(WHAT, spec, "tmpfs-size needs a value"))?;
                crate::engine::container::spec::parse_size(v)
                    .ok_or_else(|| bad(WHAT, spec, format!("tmpfs-size \"{v}\" is not a size such as 64m")))?;
                options.tmpfs.push(format!("size={v}"));
            }
            "tmpfs-mode" => {
                only(&["tmpfs"])?;
                let v = v.ok_or_else(|| bad(WHAT, spec, "tmpfs-mode needs a value"))?;
                u32::from_str_radix(v, 8)
                    .map_err(|_| bad(WHAT, spec, format!("tmpfs-mode \"{v}\" is not an octal mode such as 1777")))?;
                options.tmpfs.push(format!("mode={v}"));
            }
            "tmpcopyup" | "notmpcopyup" => only(&["tmpfs"])?,
            w if v.is_none() => {
                volume_word(&mut options, w, &mut seen).map_err(|why| bad(WHAT, spec, why))?;
            }
            other => {
                return Err(bad(WHAT, spec, format!("unknown option \"{other}\"")));
            }
        }
    }
    let dest = clean_dest(WHAT, spec, dest.ok_or_else(|| bad(WHAT, spec, "give destination=/path"))?)?;
    let source = match typ {
        "bind" => Source::Bind(host_path(
            WHAT,
            spec,
            src.ok_or_else(|| bad(WHAT, spec, "type=bind needs source=/host/path"))?,
        )?),
        "volume" => match src {
            None => Source::Volume(None),
            Some(n) => {
                crate::engine::volume::check_name(n).map_err(|e| bad(WHAT, spec, e))?;
                Source::Volume(Some(n.to_string()))
            }
        },
        "tmpfs" => Source::Tmpfs,
        _ => {
            options.read_only = !rw_image;
            Source::Image(src.ok_or_else(|| bad(WHAT, spec, "type=image needs source=IMAGE"))?.to_string())
        }
    };
    Ok(MountRequest { source, dest, options })
}

fn once_rw(seen: &mut Vec<&'static str>, spec: &str) -> Result<(), ContainerError> {
    if seen.contains(&"ro/rw") {
        return Err(bad("--mount", spec, "give readonly/ro/rw once"));
    }
    seen.push("ro/rw");
    Ok(())
}

/// `--volumes-from CTR[:ro|rw|z|Z]`: the container and whether its mounts are forced ro/rw.
pub fn volumes_from(spec: &str) -> Result<(String, Option<bool>), ContainerError> {
    const WHAT: &str = "--volumes-from";
    let (ctr, opts) = spec.split_once(':').unwrap_or((spec, ""));
    if ctr.is_empty() {
        return Err(bad(WHAT, spec, "give a container name or ID"));
    }
    let mut ro = None;
    for o in opts.split(',').filter(|o| !o.is_empty()) {
        match o {
            "ro" | "rw" if ro.is_some() => return Err(bad(WHAT, spec, "give ro or rw once")),
            "ro" => ro = Some(true),
            "rw" => ro = Some(false),
            "z" | "Z" => {}
            o => return Err(bad(WHAT, spec, format!("unknown option \"{o}\"; use ro, rw, z or Z"))),
        }
    }
    Ok((ctr.to_string(), ro))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dash_v_as_podman_reads_it() {
        let r = volume("data:/srv//x/:ro,Z,nocopy").unwrap();
        assert_eq!(r.source, Source::Volume(Some("data".into())));
        assert_eq!(r.dest, "/srv/x");
        assert!(r.options.read_only && r.options.copy == Some(false));
        let r = volume("/host/dir:/d:U,rslave,noexec").unwrap();
        assert_eq!(r.source, Source::Bind("/host/dir".into()));
        assert!(r.options.chown && r.options.propagation == Some(Propagation::Rslave));
        assert_eq!(r.options.flags, vec![Flag::NoExec]);
        assert_eq!(volume("/anon").unwrap().source, Source::Volume(None));
        let r = volume("./rel:/x").unwrap();
        assert!(matches!(r.source, Source::Bind(p) if p.is_absolute() && p.ends_with("rel")));
        for (spec, word) in [
            ("a/b:/x", "volume name"),
            ("vol:rel", "absolute"),
            ("vol:/x:ro,rw", "only one"),
            ("vol:/x:bogus", "bogus"),
            (":/x", "empty"),
            ("a:/b:ro:extra", "[SOURCE:]"),
            ("vol:/a/../b", ".."),
            ("vol:/x:O", "host directory"),
        ] {
            let e = volume(spec).unwrap_err().to_string();
            assert!(e.contains(word) && e.contains(spec), "{spec}: {e}");
        }
    }

    #[test]
    fn dash_dash_mount_as_podman_reads_it() {
        let r = mount("type=bind,src=/h,dst=/c,ro,bind-propagation=rshared").unwrap();
        assert_eq!((r.source, r.dest.as_str()), (Source::Bind("/h".into()), "/c"));
        assert!(r.options.read_only && r.options.propagation == Some(Propagation::Rshared));
        let r = mount("type=volume,source=v,target=/d,volume-nocopy,U=true").unwrap();
        assert!(r.options.copy == Some(false) && r.options.chown);
        assert_eq!(mount("type=volume,dst=/d").unwrap().source, Source::Volume(None));
        let r = mount("type=tmpfs,dst=/t,tmpfs-size=64m,tmpfs-mode=1770").unwrap();
        assert_eq!(r.options.tmpfs, vec!["size=64m".to_string(), "mode=1770".to_string()]);
        let r = mount("type=image,src=busybox,dst=/img").unwrap();
        assert!(r.options.read_only && r.source == Source::Image("busybox".into()));
        assert!(!mount("type=image,src=busybox,dst=/img,rw=true").unwrap().options.read_only);
        assert!(mount("type=bind,src=/h,dst=/c,readonly=false").is_ok_and(|r| !r.options.read_only));
        for (spec, word) in [
            ("src=/h,dst=/c", "type="),
            ("type=nfs,dst=/c", "nfs"),
            ("type=bind,dst=/c", "source"),
            ("type=tmpfs,src=x,dst=/c", "does not apply"),
            ("type=bind,src=/h,dst=/c,tmpfs-size=1m", "does not apply"),
            ("type=bind,src=/h", "destination"),
            ("type=tmpfs,dst=/t,tmpfs-mode=9z", "octal"),
            ("type=bind,src=/h,dst=/c,frob=1", "frob"),
        ] {
            let e = mount(spec).unwrap_err().to_string();
            assert!(e.contains(word), "{spec}: {e}");
        }
    }

    #[test]
    fn volumes_from_options() {
        assert_eq!(volumes_from("db").unwrap(), ("db".into(), None));
        assert_eq!(volumes_from("db:ro,z").unwrap(), ("db".into(), Some(true)));
        assert!(volumes_from("db:ro,rw").is_err());
        assert!(volumes_from(":ro").is_err());
    }
}
