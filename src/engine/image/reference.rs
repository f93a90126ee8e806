//! Image references as Docker and Podman normalise them: parsing and validation against the
//! distribution grammar, short-name candidates for pulling, and matching user input to stored
//! names. Pure string logic: must not read files, the environment, or talk to a registry.

use std::fmt;

/// The registry that short names resolve to when no other is configured.
pub const DOCKER_HUB: &str = "docker.io";
/// Docker's legacy name for Docker Hub; rewritten to [`DOCKER_HUB`] as Docker does.
const LEGACY_DOCKER_HUB: &str = "index.docker.io";
/// Namespace of Docker Hub's official images ("alpine" -> "library/alpine").
const OFFICIAL_PREFIX: &str = "library/";
const DEFAULT_TAG: &str = "latest";
/// Longest allowed `registry/repository`, as in the distribution reference grammar.
const NAME_MAX: usize = 255;
const TAG_MAX: usize = 128;

#[derive(Debug, thiserror::Error)]
pub enum ReferenceError {
    #[error("parsing reference \"{input}\": invalid reference format: {reason}")]
    Format { input: String, reason: String },
    #[error(
        "short name \"{input}\" cannot be resolved: no unqualified-search registries are defined \
         (set unqualified-search-registries in registries.conf or use a fully qualified name)"
    )]
    NoSearchRegistries { input: String },
}

fn format_err(input: &str, reason: impl Into<String>) -> ReferenceError {
    ReferenceError::Format { input: input.to_string(), reason: reason.into() }
}

/// A fully qualified image reference: `registry/repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Reference {
    /// `host[:port]`, e.g. "docker.io" or "127.0.0.1:5000".
    pub registry: String,
    /// The path inside the registry, e.g. "library/alpine".
    pub repository: String,
    /// The tag; "latest" when the input named neither tag nor digest.
    pub tag: Option<String>,
    /// `sha256:<64 hex>`.
    pub digest: Option<String>,
}

/// The pieces of a reference as written, before the name is qualified.
struct Parts<'a> {
    name: &'a str,
    tag: Option<&'a str>,
    digest: Option<&'a str>,
}

/// Splits `name[:tag][@digest]` and validates the tag and digest syntax.
fn split_parts(input: &str) -> Result<Parts<'_>, ReferenceError> {
    if input.is_empty() {
        return Err(format_err(input, "reference is empty"));
    }
    if input.len() == 64 && input.bytes().all(is_lower_hex) {
        return Err(format_err(input, "cannot specify 64-byte hexadecimal strings as a repository name"));
    }
    let (name_tag, digest) = match input.split_once('@') {
        Some((n, d)) => (n, Some(d)),
        None => (input, None),
    };
    if let Some(d) = digest {
        validate_digest(input, d)?;
    }
    // A ':' after the last '/' separates the tag; an earlier one belongs to host:port.
    let slash = name_tag.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match name_tag[slash..].rfind(':') {
        Some(i) => (&name_tag[..slash + i], Some(&name_tag[slash + i + 1..])),
        None => (name_tag, None),
    };
    if let Some(t) = tag {
        validate_tag(input, t)?;
    }
    if name.is_empty() {
        return Err(format_err(input, "repository name is empty"));
    }
    Ok(Parts { name, tag, digest })
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

fn validate_digest(input: &str, d: &str) -> Result<(), ReferenceError> {
    let Some((algo, hex)) = d.split_once(':') else {
        return Err(format_err(input, format!("digest \"{d}\" must look like sha256:<64 hex digits>")));
    };
    if algo != "sha256" {
        return Err(format_err(input, format!("unsupported digest algorithm \"{algo}\" (only sha256)")));
    }
    if hex.len() != 64 || !hex.bytes().all(is_lower_hex) {
        return Err(format_err(input, format!("digest \"{d}\" must be sha256: followed by 64 lowercase hex digits")));
    }
    Ok(())
}

fn validate_tag(input: &str, t: &str) -> Result<(), ReferenceError> {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let ok = !t.is_empty()
        && t.len() <= TAG_MAX
        && t.bytes().next().is_some_and(word)
        && t.bytes().all(|b| word(b) || b == b'.' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(format_err(
            input,
            format!(
                "tag \"{t}\" must be 1-{TAG_MAX} characters of letters, digits, '_', '.', '-', \
                 not starting with '.' or '-'"
            ),
        ))
    }
}

/// True when `s` is a valid registry `host[:port]` in the distribution grammar: DNS name or IPv4
/// address (components of letters, digits and inner '-', joined by '.'), or `[IPv6]`.
pub fn is_valid_registry(s: &str) -> bool {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let Some((v6, after)) = rest.split_once(']') else {
            return false;
        };
        if v6.parse::<std::net::Ipv6Addr>().is_err() {
            return false;
        }
        match after {
            "" => return true,
            p => match p.strip_prefix(':') {
                Some(port) => ("", Some(port)),
                None => return false,
            },
        }
    } else {
        match s.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if let Some(p) = port
        && (p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    if s.starts_with('[') {
        return true;
    }
    !host.is_empty()
        && host.split('.').all(|c| {
            let b = c.as_bytes();
            !b.is_empty()
                && b.iter().all(|&x| x.is_ascii_alphanumeric() || x == b'-')
                && b[0] != b'-'
                && b[b.len() - 1] != b'-'
        })
}

/// One path component: `[a-z0-9]+` runs joined by '.', '_', "__" or any run of '-'.
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum_lower(b[0]) || !is_alnum_lower(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum_lower(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum_lower(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = matches!(sep, "." | "_" | "__") || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn validate_repository(input: &str, registry: &str, repo: &str) -> Result<(), ReferenceError> {
    if repo.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(format_err(input, format!("repository name ({repo}) must be lowercase")));
    }
    if let Some(bad) = repo.split('/').find(|c| !valid_path_component(c)) {
        return Err(format_err(
            input,
            format!(
                "repository name component \"{bad}\" must be lowercase letters and digits, \
                 separated by '.', '_', '__' or '-'"
            ),
        ));
    }
    if registry.len() + 1 + repo.len() > NAME_MAX {
        return Err(format_err(input, format!("repository name must not be more than {NAME_MAX} characters")));
    }
    Ok(())
}

/// Splits a written name into registry and repository the way Docker does, with kiste's
/// (and Podman's) notion of a short name: no '/' or a first component that is not a host.
fn split_registry(name: &str) -> (String, String) {
    let (registry, repo) = match name.split_once('/') {
        Some((first, rest)) if !is_short_name_str(name) => {
            let reg = if first == LEGACY_DOCKER_HUB { DOCKER_HUB } else { first };
            (reg, rest)
        }
        _ => (DOCKER_HUB, name),
    };
    // Note: "registry-1.docker.io" is left alone, as Docker leaves it; only index.docker.io is
    // Docker Hub's alias in reference normalisation (auth.rs treats both as Docker Hub).
    let repo = if registry == DOCKER_HUB && !repo.contains('/') {
        format!("{OFFICIAL_PREFIX}{repo}")
    } else {
        repo.to_string()
    };
    (registry.to_string(), repo)
}

fn is_short_name_str(s: &str) -> bool {
    match s.split_once('/') {
        None => true,
        Some((first, _)) => !(first.contains(['.', ':']) || first == "localhost"),
    }
}

/// `s` without podman's `docker://` transport (a registry: what kiste pulls from). Another
/// transport is refused, naming it: kiste reads archives with `load` and `import` instead.
pub fn without_transport(s: &str) -> Result<&str, ReferenceError> {
    if let Some(rest) = s.strip_prefix("docker://") {
        return Ok(rest);
    }
    // `dir:` and `oci:` take a path; `oci:latest` stays the image "oci", tag "latest".
    let transports = ["containers-storage", "docker-archive", "docker-daemon", "oci-archive"];
    match s.split_once(':') {
        Some((t, rest)) if transports.contains(&t) || (["dir", "oci"].contains(&t) && rest.contains('/')) => {
            Err(format_err(
                s,
                format!("transport \"{t}\" is not supported here; name a registry image (docker://) or use kiste load"),
            ))
        }
        _ => Ok(s),
    }
}

impl Reference {
    /// Parses and fully qualifies a reference: "alpine" -> docker.io/library/alpine:latest,
    /// "user/x" -> docker.io/user/x:latest, "index.docker.io/x" -> docker.io/library/x:latest.
    /// The tag defaults to "latest" only when there is no digest.
    pub fn parse(s: &str) -> Result<Reference, ReferenceError> {
        let parts = split_parts(s)?;
        let (registry, repository) = split_registry(parts.name);
        if !is_valid_registry(&registry) {
            return Err(format_err(s, format!("invalid registry host \"{registry}\"")));
        }
        validate_repository(s, &registry, &repository)?;
        Ok(Reference::from_parts(registry, repository, &parts))
    }

    fn from_parts(registry: String, repository: String, parts: &Parts<'_>) -> Reference {
        let tag = match (parts.tag, parts.digest) {
            (Some(t), _) => Some(t.to_string()),
            (None, Some(_)) => None,
            (None, None) => Some(DEFAULT_TAG.to_string()),
        };
        Reference { registry, repository, tag, digest: parts.digest.map(str::to_string) }
    }

    /// True when `s` names no registry: its first '/'-separated component has no '.' or ':'
    /// and is not "localhost" (a name without '/' is always short).
    pub fn is_short_name(s: &str) -> bool {
        // Look only at the name: a digest or tag contains ':' but says nothing about the host.
        let name = s.split_once('@').map_or(s, |(n, _)| n);
        is_short_name_str(name)
    }

    /// `registry/repository`, e.g. "docker.io/library/alpine".
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// What to ask the registry for: the digest if there is one, else the tag.
    pub fn tag_or_digest(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.clone(),
            (None, Some(t)) => t.clone(),
            (None, None) => DEFAULT_TAG.to_string(),
        }
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Reference::parse(s)
    }
}

/// The references to try, in order, when pulling `input`. A fully qualified name yields
/// itself; a short name yields one candidate per unqualified-search registry (Docker Hub gets
/// the "library/" prefix for one-component names). Short-name aliases are not applied here.
pub fn pull_candidates(input: &str, search_registries: &[String]) -> Result<Vec<Reference>, ReferenceError> {
    if !Reference::is_short_name(input) {
        return Ok(vec![Reference::parse(input)?]);
    }
    let parts = split_parts(input)?;
    if search_registries.is_empty() {
        return Err(ReferenceError::NoSearchRegistries { input: input.to_string() });
    }
    let mut out: Vec<Reference> = Vec::with_capacity(search_registries.len());
    for reg in search_registries {
        let registry = if reg == LEGACY_DOCKER_HUB { DOCKER_HUB } else { reg.as_str() };
        if !is_valid_registry(registry) {
            return Err(format_err(input, format!("unqualified-search registry \"{reg}\" is not a valid host[:port]")));
        }
        let repository = if registry == DOCKER_HUB && !parts.name.contains('/') {
            format!("{OFFICIAL_PREFIX}{}", parts.name)
        } else {
            parts.name.to_string()
        };
        validate_repository(input, registry, &repository)?;
        let r = Reference::from_parts(registry.to_string(), repository, &parts);
        if !out.contains(&r) {
            out.push(r);
        }
    }
    Ok(out)
}

/// A name for an image made here (build -t, commit, import) as Podman stores it: short
/// names under `localhost/`, `:latest` added.
pub fn local_name(t: &str) -> Result<Reference, ReferenceError> {
    if Reference::is_short_name(t) { Reference::parse(&format!("localhost/{t}")) } else { Reference::parse(t) }
}

/// True when the stored, fully qualified `stored_name` (e.g. "127.0.0.1:5000/busybox:latest")
/// is what the user meant by `input`, as Podman matches local images: equal after
/// normalisation, or `input` is a short name ("busybox", "busybox:1", "library/alpine") that
/// equals the stored name's trailing path components with the same tag ("latest" if none).
pub fn local_match(input: &str, stored_name: &str) -> bool {
    let Ok(stored) = Reference::parse(stored_name) else {
        return input == stored_name;
    };
    if !Reference::is_short_name(input) {
        return Reference::parse(input).is_ok_and(|r| r == stored);
    }
    let Ok(parts) = split_parts(input) else {
        return false;
    };
    if parts.name.bytes().any(|b| b.is_ascii_uppercase()) {
        return false;
    }
    let want_tag = match (parts.tag, parts.digest) {
        (Some(t), _) => Some(t),
        (None, Some(_)) => None,
        (None, None) => Some(DEFAULT_TAG),
    };
    if want_tag.is_some() && stored.tag.as_deref() != want_tag {
        return false;
    }
    if parts.digest.is_some() && stored.digest.as_deref() != parts.digest {
        return false;
    }
    let full = stored.name();
    full.strip_suffix(parts.name).is_some_and(|head| head.ends_with('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn p(s: &str) -> Reference {
        match Reference::parse(s) {
            Ok(r) => r,
            Err(e) => panic!("{s}: {e}"),
        }
    }

    fn err(s: &str) -> String {
        match Reference::parse(s) {
            Ok(r) => panic!("{s} parsed as {r}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn the_docker_transport_is_dropped_and_others_are_named() {
        assert_eq!(without_transport("docker://alpine:3").unwrap(), "alpine:3");
        assert_eq!(without_transport("localhost:5000/a").unwrap(), "localhost:5000/a");
        let e = without_transport("oci-archive:/tmp/x.tar").unwrap_err().to_string();
        assert!(e.contains("\"oci-archive\"") && e.contains("kiste load"), "{e}");
        assert!(without_transport("dir:/tmp/img").is_err());
        assert_eq!(without_transport("oci:latest").unwrap(), "oci:latest");
    }

    #[test]
    fn qualifies_short_names_like_docker() {
        assert_eq!(p("alpine").to_string(), "docker.io/library/alpine:latest");
        assert_eq!(p("alpine:3.19").to_string(), "docker.io/library/alpine:3.19");
        assert_eq!(p("user/x").to_string(), "docker.io/user/x:latest");
        assert_eq!(p("library/alpine").to_string(), "docker.io/library/alpine:latest");
        assert_eq!(p("a/b/c:d").to_string(), "docker.io/a/b/c:d");
        let r = p("alpine");
        assert_eq!(r.registry, "docker.io");
        assert_eq!(r.repository, "library/alpine");
        assert_eq!(r.tag.as_deref(), Some("latest"));
        assert_eq!(r.digest, None);
    }

    #[test]
    fn docker_hub_aliases() {
        assert_eq!(p("docker.io/alpine").to_string(), "docker.io/library/alpine:latest");
        assert_eq!(p("index.docker.io/alpine").to_string(), "docker.io/library/alpine:latest");
        assert_eq!(p("index.docker.io/u/x:1").to_string(), "docker.io/u/x:1");
        assert_eq!(p("docker.io/library/alpine").name(), "docker.io/library/alpine");
        // Docker leaves registry-1.docker.io as written.
        assert_eq!(p("registry-1.docker.io/u/x").registry, "registry-1.docker.io");
    }

    #[test]
    fn hosts_ports_and_localhost() {
        let r = p("host:5000/ns/name:tag");
        assert_eq!((r.registry.as_str(), r.repository.as_str()), ("host:5000", "ns/name"));
        assert_eq!(r.tag.as_deref(), Some("tag"));
        assert_eq!(p("host:5000/name").to_string(), "host:5000/name:latest");
        assert_eq!(p("localhost/x").to_string(), "localhost/x:latest");
        let r = p("localhost:5000/a/b:c");
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "a/b");
        assert_eq!(r.tag.as_deref(), Some("c"));
        let r = p("127.0.0.1:5000/busybox");
        assert_eq!(r.registry, "127.0.0.1:5000");
        assert_eq!(r.repository, "busybox");
        assert_eq!(r.to_string(), "127.0.0.1:5000/busybox:latest");
        assert_eq!(p("quay.io/podman/hello").registry, "quay.io");
        assert_eq!(p("[::1]:5000/x:y").registry, "[::1]:5000");
        assert_eq!(p("[fe80::1]/x").registry, "[fe80::1]");
        assert_eq!(p("Registry.Example.COM/x").registry, "Registry.Example.COM");
        // Bare "localhost" without a path is a Docker Hub name, as in Docker.
        assert_eq!(p("localhost").to_string(), "docker.io/library/localhost:latest");
    }

    #[test]
    fn digests() {
        let r = p(&format!("name@{D}"));
        assert_eq!(r.to_string(), format!("docker.io/library/name@{D}"));
        assert_eq!(r.tag, None);
        assert_eq!(r.tag_or_digest(), D);
        let r = p(&format!("name:tag@{D}"));
        assert_eq!(r.tag.as_deref(), Some("tag"));
        assert_eq!(r.digest.as_deref(), Some(D));
        assert_eq!(r.tag_or_digest(), D);
        assert_eq!(r.to_string(), format!("docker.io/library/name:tag@{D}"));
        let r = p(&format!("localhost:5000/a/b@{D}"));
        assert_eq!(r.registry, "localhost:5000");
        assert_eq!(r.repository, "a/b");
        assert_eq!(r.tag, None);
        assert!(err("name@sha256:abc").contains("64 lowercase hex"));
        assert!(err(&format!("name@{}", D.to_uppercase().replace("SHA256", "sha256"))).contains("lowercase hex"));
        assert!(err(&format!("name@md5:{}", &D[7..])).contains("unsupported digest algorithm"));
        assert!(err("name@").contains("digest"));
        assert!(err(&format!("name@{D}@{D}")).contains("digest"));
    }

    #[test]
    fn tag_or_digest_and_name() {
        let r = p("alpine");
        assert_eq!(r.tag_or_digest(), "latest");
        assert_eq!(r.name(), "docker.io/library/alpine");
        assert_eq!(p("x:v1.2-rc_3").tag_or_digest(), "v1.2-rc_3");
        assert_eq!(
            "alpine".parse::<Reference>().map(|r| r.to_string()).ok().as_deref(),
            Some("docker.io/library/alpine:latest")
        );
    }

    #[test]
    fn rejects_bad_input() {
        let e = err("Alpine");
        assert!(e.contains("must be lowercase"), "{e}");
        assert!(e.contains("\"Alpine\""), "{e}");
        assert!(e.starts_with("parsing reference \"Alpine\": invalid reference format:"), "{e}");
        assert!(err("user/Alpine").contains("must be lowercase"));
        assert!(err("Foo/bar").contains("must be lowercase"));
        assert!(err("quay.io/Foo/bar").contains("must be lowercase"));
        assert!(err("").contains("empty"));
        assert!(err("alpine:").contains("tag"));
        assert!(err("alpine:-x").contains("tag"));
        assert!(err("alpine:.x").contains("tag"));
        assert!(err(&format!("alpine:{}", "a".repeat(129))).contains("tag"));
        assert!(Reference::parse(&format!("alpine:{}", "a".repeat(128))).is_ok());
        assert!(Reference::parse("alpine:a/b").is_err());
        assert!(err("a//b").contains("component"));
        assert!(err("a/b/").contains("component"));
        assert!(err("-a").contains("component"));
        assert!(err("a..b").contains("component"));
        assert!(err("a___b").contains("component"));
        assert!(err("a b").contains("component"));
        assert!(Reference::parse("a__b").is_ok());
        assert!(Reference::parse("a---b.c_d").is_ok());
        assert!(err("host:port/x").contains("registry"));
        assert!(err("host:/x").contains("registry"));
        assert!(err("-host.com/x").contains("registry"));
        assert!(err("[zz]:5000/x").contains("registry"));
        assert!(err("quay.io/").contains("component") || err("quay.io/").contains("empty"));
        assert!(err(&"0123456789abcdef".repeat(4)).contains("64-byte"));
        let long = format!("quay.io/{}", "a".repeat(250));
        assert!(err(&long).contains("255"));
    }

    #[test]
    fn short_names() {
        for s in ["alpine", "alpine:3", "user/x", "library/alpine", "a/b/c", "Foo/bar"] {
            assert!(Reference::is_short_name(s), "{s}");
        }
        assert!(Reference::is_short_name(&format!("alpine@{D}")));
        assert!(Reference::is_short_name(&format!("alpine:1@{D}")));
        for s in [
            "localhost/x",
            "localhost:5000/x",
            "quay.io/x",
            "host:5000/x",
            "127.0.0.1:5000/x",
            "[::1]/x",
            "docker.io/x",
        ] {
            assert!(!Reference::is_short_name(s), "{s}");
        }
    }

    fn regs(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn candidates_for_short_names() {
        let c = pull_candidates("alpine", &regs(&["quay.io", "docker.io"])).unwrap_or_default();
        let c: Vec<String> = c.iter().map(|r| r.to_string()).collect();
        assert_eq!(c, ["quay.io/alpine:latest", "docker.io/library/alpine:latest"]);

        let c = pull_candidates("user/x:1", &regs(&["docker.io", "localhost:5000"])).unwrap_or_default();
        let c: Vec<String> = c.iter().map(|r| r.to_string()).collect();
        assert_eq!(c, ["docker.io/user/x:1", "localhost:5000/user/x:1"]);

        let c = pull_candidates(&format!("busybox@{D}"), &regs(&["127.0.0.1:5000"])).unwrap_or_default();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].to_string(), format!("127.0.0.1:5000/busybox@{D}"));
        assert_eq!(c[0].tag, None);

        // index.docker.io in the list means Docker Hub; duplicates collapse.
        let c = pull_candidates("alpine", &regs(&["index.docker.io", "docker.io"])).unwrap_or_default();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].to_string(), "docker.io/library/alpine:latest");
    }

    #[test]
    fn candidates_for_qualified_names_and_errors() {
        let c = pull_candidates("localhost:5000/a/b:c", &regs(&["quay.io"])).unwrap_or_default();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].to_string(), "localhost:5000/a/b:c");
        let c = pull_candidates("docker.io/alpine", &[]).unwrap_or_default();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].to_string(), "docker.io/library/alpine:latest");

        assert!(matches!(pull_candidates("alpine", &[]), Err(ReferenceError::NoSearchRegistries { .. })));
        assert!(pull_candidates("Alpine", &regs(&["docker.io"])).is_err());
        assert!(pull_candidates("alpine", &regs(&["bad host"])).is_err());
        // Host names are case-insensitive, so an uppercase registry is fine.
        let c = pull_candidates("Quay.io/x", &regs(&["docker.io"])).unwrap_or_default();
        assert_eq!(c.first().map(|r| r.registry.as_str()), Some("Quay.io"));
    }

    #[test]
    fn local_matching() {
        let hub = "docker.io/library/alpine:latest";
        assert!(local_match("alpine", hub));
        assert!(local_match("alpine:latest", hub));
        assert!(local_match("library/alpine", hub));
        assert!(local_match("docker.io/alpine", hub));
        assert!(local_match("docker.io/library/alpine:latest", hub));
        assert!(local_match("index.docker.io/library/alpine", hub));
        assert!(!local_match("alpine:3", hub));
        assert!(!local_match("pine", hub));
        assert!(!local_match("other/alpine", hub));
        assert!(!local_match("quay.io/alpine", hub));
        assert!(!local_match("Alpine", hub));

        let local = "127.0.0.1:5000/busybox:latest";
        assert!(local_match("busybox", local));
        assert!(local_match("busybox:latest", local));
        assert!(local_match("127.0.0.1:5000/busybox", local));
        assert!(!local_match("127.0.0.1:5001/busybox", local));
        assert!(!local_match("busybox:1.36", local));
        assert!(!local_match("box", local));

        let deep = "localhost:5000/a/b:c";
        assert!(local_match("b:c", deep));
        assert!(local_match("a/b:c", deep));
        assert!(local_match("localhost:5000/a/b:c", deep));
        assert!(!local_match("b", deep));
        assert!(!local_match("localhost/a/b:c", deep));

        // Digests: only when the stored name carries the same one.
        let with_digest = format!("quay.io/x/y@{D}");
        assert!(local_match(&format!("y@{D}"), &with_digest));
        assert!(local_match(&format!("quay.io/x/y@{D}"), &with_digest));
        assert!(!local_match("y", &with_digest));
        assert!(!local_match(&format!("busybox@{D}"), local));

        // An unparsable stored name only matches itself.
        assert!(local_match("weird name", "weird name"));
        assert!(!local_match("alpine", "weird name"));
    }
}
