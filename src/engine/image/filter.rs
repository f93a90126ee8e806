//! `images --filter`: Podman's (libimage's) image filters parsed once into types, then matched
//! against records: every filter must match, except `reference=`, where one positive match
//! is enough; `KEY!=VALUE` negates any of them.

use super::reference;
use super::store::ImageRecord;
use std::collections::HashSet;

#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    #[error("invalid image filter \"{0}\": must be in the format \"filter=value or filter!=value\"")]
    Form(String),
    #[error("invalid image filter \"{filter}\": {why}")]
    Value { filter: String, why: String },
}

#[derive(Debug, Clone)]
enum Test {
    /// Created after / before this time (Unix seconds).
    Since(i64),
    Before(i64),
    /// Used by containers (or not).
    Containers(bool),
    /// No names and no children.
    Dangling(bool),
    /// A prefix of the ID.
    Id(String),
    /// One of its repo digests or its manifest digest.
    Digest(String),
    /// No names, but children (a build's cache).
    Intermediate(bool),
    Label(String),
    /// kiste's images are never read-only nor manifest lists.
    ReadOnly(bool),
    Manifest(bool),
}

/// What matching needs besides the record.
pub struct Facts<'a> {
    /// IDs of images that other images were built on.
    pub parents: &'a HashSet<String>,
    /// IDs of images that containers use.
    pub used: &'a HashSet<String>,
}

/// The filters of one `images`.
#[derive(Debug, Default)]
pub struct ImageFilters {
    tests: Vec<(Test, bool)>,
    wanted_refs: Vec<String>,
    unwanted_refs: Vec<String>,
}

/// Go's `path.Match`: `*`, `?` and classes never match a `/`.
fn path_match(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<&str>, Vec<&str>) = (pattern.split('/').collect(), name.split('/').collect());
    p.len() == n.len() && p.iter().zip(&n).all(|(p, n)| crate::util::go_match(p, n).unwrap_or(false))
}

/// The forms of a stored name libimage matches a reference pattern against.
fn candidates(name: &str) -> Vec<String> {
    let mut out = vec![name.to_string()];
    let Ok(r) = reference::Reference::parse(name) else { return out };
    let path = r.repository.clone();
    let trimmed = format!("{}/{}", r.registry, r.repository);
    let last = |s: &str| s.rsplit('/').next().unwrap_or(s).to_string();
    out.push(path.clone());
    out.push(last(name));
    if name != trimmed
        && let Some(suffix) = name.strip_prefix(&trimmed)
    {
        out.push(trimmed.clone());
        out.push(format!("{path}{suffix}"));
        out.push(last(&trimmed));
    }
    out
}

/// Whether `rec` is what `value` names (as `images NAME` finds it) or one of its names
/// matches `value` as a pattern.
fn reference_matches(rec: &ImageRecord, value: &str) -> bool {
    let hex = crate::util::digest_hex(&rec.id);
    if value.len() >= 3 && hex.starts_with(value.trim_start_matches("sha256:")) {
        return true;
    }
    rec.names.iter().any(|n| reference::local_match(value, n) || candidates(n).iter().any(|c| path_match(value, c)))
}

impl ImageFilters {
    /// Parses `KEY=VALUE` / `KEY!=VALUE`; `since`/`before` name images found by `created_of`.
    pub fn parse(given: &[String], created_of: &dyn Fn(&str) -> Option<i64>) -> Result<ImageFilters, FilterError> {
        let mut out = ImageFilters::default();
        for f in given {
            let (key, value, negate) = match f.split_once("!=") {
                Some((k, v)) => (k, v, true),
                None => f.split_once('=').map(|(k, v)| (k, v, false)).ok_or_else(|| FilterError::Form(f.clone()))?,
            };
            let bad = |why: &str| FilterError::Value { filter: f.clone(), why: why.into() };
            let boolean = |v: &str| match v {
                "true" => Ok(true),
                "false" => Ok(false),
                _ => Err(bad("use true or false")),
            };
            let image_time = |v: &str| created_of(v).ok_or_else(|| bad(&format!("{v}: image not known")));
            let test = match key {
                "reference" => {
                    match negate {
                        true => out.unwanted_refs.push(value.into()),
                        false => out.wanted_refs.push(value.into()),
                    }
                    continue;
                }
                "since" | "after" => Test::Since(image_time(value)?),
                "before" => Test::Before(image_time(value)?),
                "until" => Test::Before(
                    crate::util::parse_time(value, chrono::Utc::now())
                        .ok_or_else(|| bad("use a time (2006-01-02T15:04:05Z), Unix seconds or a duration (10m)"))?
                        .timestamp(),
                ),
                "containers" => Test::Containers(boolean(value)?),
                "dangling" => Test::Dangling(boolean(value)?),
                "intermediate" => Test::Intermediate(boolean(value)?),
                "readonly" => Test::ReadOnly(boolean(value)?),
                "manifest" => Test::Manifest(boolean(value)?),
                "id" => Test::Id(value.trim_start_matches("sha256:").to_string()),
                "digest" => Test::Digest(value.to_string()),
                "label" => Test::Label(value.to_string()),
                _ => return Err(FilterError::Form(key.to_string())),
            };
            out.tests.push((test, negate));
        }
        Ok(out)
    }

    /// Whether `rec` (created at `created`, Unix seconds) passes.
    pub fn matches(&self, rec: &ImageRecord, created: i64, facts: &Facts) -> bool {
        if self.unwanted_refs.iter().any(|v| reference_matches(rec, v)) {
            return false;
        }
        if !self.wanted_refs.is_empty() && !self.wanted_refs.iter().any(|v| reference_matches(rec, v)) {
            return false;
        }
        self.tests.iter().all(|(t, negate)| self.test(t, rec, created, facts) != *negate)
    }

    fn test(&self, t: &Test, rec: &ImageRecord, created: i64, facts: &Facts) -> bool {
        let unnamed = rec.names.is_empty();
        match t {
            Test::Since(at) => created > *at,
            Test::Before(at) => created < *at,
            Test::Containers(want) => facts.used.contains(&rec.id) == *want,
            Test::Dangling(want) => (unnamed && !facts.parents.contains(&rec.id)) == *want,
            Test::Intermediate(want) => (unnamed && facts.parents.contains(&rec.id)) == *want,
            Test::Id(p) => crate::util::digest_hex(&rec.id).starts_with(p.as_str()),
            Test::Digest(d) => rec.manifest_digest == *d || rec.digests.iter().any(|x| x.ends_with(&format!("@{d}"))),
            Test::Label(spec) => {
                let config: serde_json::Value = serde_json::from_str(&rec.config).unwrap_or_default();
                let labels = config.pointer("/config/Labels");
                match spec.split_once('=') {
                    Some((k, v)) => labels.and_then(|l| l.get(k)).and_then(|x| x.as_str()) == Some(v),
                    None => labels.and_then(|l| l.get(spec.as_str())).is_some(),
                }
            }
            Test::ReadOnly(want) | Test::Manifest(want) => !*want,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(id: &str, names: &[&str], labels: &str) -> ImageRecord {
        ImageRecord {
            id: format!("sha256:{id:0<64}"),
            config: format!("{{\"config\":{{\"Labels\":{labels}}}}}"),
            manifest: String::new(),
            manifest_digest: "sha256:feed".into(),
            manifest_media_type: String::new(),
            created: None,
            size: 0,
            added: 0,
            names: names.iter().map(|s| s.to_string()).collect(),
            digests: vec![],
            layers: vec![],
        }
    }

    #[test]
    fn image_filters_as_libimage() {
        let imgs = [
            (rec("aa", &["docker.io/library/busybox:latest"], "{\"app\":\"x\"}"), 10),
            (rec("bb", &["localhost/web:1.0", "quay.io/team/web:2"], "null"), 20),
            (rec("cc", &[], "null"), 30),
            (rec("dd", &[], "null"), 40),
        ];
        let parents: HashSet<String> = [imgs[3].0.id.clone()].into();
        let used: HashSet<String> = [imgs[1].0.id.clone()].into();
        let facts = Facts { parents: &parents, used: &used };
        let created_of = |n: &str| if n == "web" { Some(20) } else { None };
        let ids = |f: &[&str]| {
            let p = ImageFilters::parse(&f.iter().map(|s| s.to_string()).collect::<Vec<_>>(), &created_of).unwrap();
            imgs.iter()
                .filter(|(r, t)| p.matches(r, *t, &facts))
                .map(|(r, _)| r.id[7..9].to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(ids(&["reference=busybox"]), ["aa"]);
        assert_eq!(ids(&["reference=docker.io/library/*"]), ["aa"]);
        assert_eq!(ids(&["reference=web:*"]), ["bb"]);
        assert_eq!(ids(&["reference=*/web"]), ["bb"]);
        assert_eq!(ids(&["reference=busybox", "reference=web"]), ["aa", "bb"]);
        assert_eq!(ids(&["reference!=busybox", "dangling=false"]), ["bb", "dd"]);
        assert_eq!(ids(&["dangling=true"]), ["cc"]);
        assert_eq!(ids(&["intermediate=true"]), ["dd"]);
        assert_eq!(ids(&["label=app=x"]), ["aa"]);
        assert_eq!(ids(&["label=app"]), ["aa"]);
        assert_eq!(ids(&["id=bb"]), ["bb"]);
        assert_eq!(ids(&["since=web"]), ["cc", "dd"]);
        assert_eq!(ids(&["before=web"]), ["aa"]);
        assert_eq!(ids(&["containers=true"]), ["bb"]);
        assert_eq!(ids(&["readonly=false"]).len(), 4);
        assert!(ids(&["readonly=true"]).is_empty());
        assert_eq!(ids(&["until=25"]), ["aa", "bb"]);
        assert_eq!(ids(&["digest=sha256:feed"]).len(), 4);
        assert!(ImageFilters::parse(&["bogus=1".into()], &created_of).is_err());
        assert!(ImageFilters::parse(&["dangling=maybe".into()], &created_of).is_err());
        assert!(
            ImageFilters::parse(&["since=nope".into()], &created_of)
                .unwrap_err()
                .to_string()
                .contains("image not known")
        );
        assert!(ImageFilters::parse(&["noequals".into()], &created_of).is_err());
    }
}
