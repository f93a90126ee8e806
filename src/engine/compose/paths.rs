//! Relative host paths in a compose tree made absolute against a base directory, where
//! compose-go does it: build contexts, env_file, extends.file, bind-mount sources (short and long
//! syntax), secret/config files, and local volumes' bind `device`. `~` is the user's home.
//! Touches no file; remote build contexts (URLs, git) are left alone.

use serde_norway::{Mapping, Value};
use std::path::{Component, Path, PathBuf};

/// Resolves the paths of one compose tree in place.
pub fn resolve(tree: &mut Mapping, base: &Path, home: Option<&Path>) {
    let r = Resolver { base, home };
    if let Some(Value::Mapping(services)) = tree.get_mut("services") {
        for (_, svc) in services.iter_mut() {
            if let Value::Mapping(svc) = svc {
                r.service(svc);
            }
        }
    }
    for section in ["secrets", "configs"] {
        if let Some(Value::Mapping(m)) = tree.get_mut(section) {
            for (_, def) in m.iter_mut() {
                if let Some(Value::String(f)) = def.get_mut("file") {
                    *f = r.abs(f);
                }
            }
        }
    }
    if let Some(Value::Mapping(volumes)) = tree.get_mut("volumes") {
        for (_, def) in volumes.iter_mut() {
            r.volume_device(def);
        }
    }
}

struct Resolver<'a> {
    base: &'a Path,
    home: Option<&'a Path>,
}

impl Resolver<'_> {
    fn service(&self, svc: &mut Mapping) {
        match svc.get_mut("build") {
            Some(Value::String(c)) => *c = self.context(c),
            Some(Value::Mapping(b)) => {
                if let Some(Value::String(c)) = b.get_mut("context") {
                    *c = self.context(c);
                }
            }
            _ => {}
        }
        match svc.get_mut("env_file") {
            Some(Value::String(f)) => *f = self.abs(f),
            Some(Value::Sequence(list)) => {
                for e in list {
                    match e {
                        Value::String(f) => *f = self.abs(f),
                        Value::Mapping(m) => {
                            if let Some(Value::String(f)) = m.get_mut("path") {
                                *f = self.abs(f);
                            }
                        }
                        _ => {}
                    }
                }
            }
            _ => {}
        }
        if let Some(Value::Mapping(ext)) = svc.get_mut("extends")
            && let Some(Value::String(f)) = ext.get_mut("file")
        {
            *f = self.abs(f);
        }
        if let Some(Value::Sequence(vols)) = svc.get_mut("volumes") {
            for v in vols {
                self.mount(v);
            }
        }
    }

    /// A bind source in either syntax (a short entry keeps its form).
    fn mount(&self, v: &mut Value) {
        match v {
            Value::String(spec) => {
                let source = spec.split(':').next().unwrap_or_default();
                if spec.contains(':') && super::mounts::is_host_path(source) {
                    let rest = spec[source.len()..].to_string();
                    *spec = format!("{}{rest}", self.abs(source));
                }
            }
            Value::Mapping(m) => {
                if m.get("type").and_then(Value::as_str) == Some("bind")
                    && let Some(Value::String(s)) = m.get_mut("source")
                {
                    *s = self.abs(s);
                }
            }
            _ => {}
        }
    }

    fn volume_device(&self, def: &mut Value) {
        let Value::Mapping(def) = def else { return };
        if def.get("driver").and_then(Value::as_str) != Some("local") {
            return;
        }
        let Some(Value::Mapping(opts)) = def.get_mut("driver_opts") else { return };
        if opts.get("o").and_then(Value::as_str) == Some("bind")
            && let Some(Value::String(dev)) = opts.get_mut("device")
        {
            *dev = self.abs(dev);
        }
    }

    /// Build contexts that are URLs, git remotes or `service:` references stay as written.
    fn context(&self, c: &str) -> String {
        let remote = ["https://", "http://", "git://", "ssh://", "github.com/", "git@"];
        if c.contains("://") || c.starts_with("service:") || remote.iter().any(|p| c.starts_with(p)) {
            return c.to_string();
        }
        self.abs(c)
    }

    fn abs(&self, p: &str) -> String {
        abs(p, self.base, self.home)
    }
}

/// `p` made absolute against `base` (`~` expanded), lexically cleaned.
pub fn abs(p: &str, base: &Path, home: Option<&Path>) -> String {
    if p.is_empty() {
        return String::new();
    }
    let expanded = match (p.strip_prefix('~'), home) {
        (Some(rest), Some(h)) if rest.is_empty() || rest.starts_with('/') => {
            PathBuf::from(format!("{}{rest}", h.display()))
        }
        _ => PathBuf::from(p),
    };
    let joined = if expanded.is_absolute() { expanded } else { base.join(expanded) };
    clean(&joined).display().to_string()
}

/// Removes `.` and resolves `..` lexically, as Go's filepath.Clean does.
pub fn clean(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() { PathBuf::from(".") } else { out }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_where_compose_does() {
        let mut t: Mapping = serde_norway::from_str(
            r#"
services:
  web:
    build: ./app
    env_file: [.env.web, {path: ../shared.env, required: false}]
    volumes: ["./data:/data:ro", "named:/n", "/abs:/abs", "~/cache:/c", {type: bind, source: ./src, target: /src}, {type: volume, source: v, target: /v}]
  api:
    build: {context: "git@github.com:x/y.git"}
    extends: {file: base.yaml, service: b}
secrets: {s: {file: ./s.txt}}
volumes: {dev: {driver: local, driver_opts: {o: bind, type: none, device: ./dev}}}
"#,
        )
        .unwrap();
        resolve(&mut t, Path::new("/p/q"), Some(Path::new("/home/u")));
        let web = &t["services"]["web"];
        assert_eq!(web["build"], Value::from("/p/q/app"));
        assert_eq!(web["env_file"][0], Value::from("/p/q/.env.web"));
        assert_eq!(web["env_file"][1]["path"], Value::from("/p/shared.env"));
        let vols: Vec<String> = (0..4).map(|i| web["volumes"][i].as_str().unwrap().to_string()).collect();
        assert_eq!(vols, ["/p/q/data:/data:ro", "named:/n", "/abs:/abs", "/home/u/cache:/c"]);
        assert_eq!(web["volumes"][4]["source"], Value::from("/p/q/src"));
        assert_eq!(web["volumes"][5]["source"], Value::from("v"));
        assert_eq!(t["services"]["api"]["build"]["context"], Value::from("git@github.com:x/y.git"));
        assert_eq!(t["services"]["api"]["extends"]["file"], Value::from("/p/q/base.yaml"));
        assert_eq!(t["secrets"]["s"]["file"], Value::from("/p/q/s.txt"));
        assert_eq!(t["volumes"]["dev"]["driver_opts"]["device"], Value::from("/p/q/dev"));
    }
}
