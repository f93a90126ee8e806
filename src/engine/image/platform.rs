//! Platforms (os/arch/variant): the host's, parsing `--platform`, and choosing the
//! matching entry of a manifest list / image index. Pure logic; no I/O.

use std::fmt;

#[derive(Debug, thiserror::Error)]
pub enum PlatformError {
    #[error("invalid platform {0:?}: expected os/arch[/variant], e.g. linux/amd64 or linux/arm/v7")]
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Platform {
    pub os: String,
    pub arch: String,
    pub variant: Option<String>,
}

/// Go's GOARCH name for a Rust target arch, as images use.
pub fn go_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "x86" => "386",
        "aarch64" => "arm64",
        "arm" => "arm",
        "powerpc64" => "ppc64le",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

impl Platform {
    pub fn host() -> Platform {
        let arch = go_arch(std::env::consts::ARCH).to_string();
        let variant = match arch.as_str() {
            "arm" => Some("v7".to_string()),
            _ => None,
        };
        Platform { os: "linux".into(), arch, variant }
    }

    /// Combines `--platform`, `--os`, `--arch` and `--variant` over the host's platform.
    pub fn from_flags(
        platform: Option<&str>,
        os: Option<&str>,
        arch: Option<&str>,
        variant: Option<&str>,
    ) -> Result<Platform, PlatformError> {
        let mut p = match platform {
            Some(s) => Platform::parse(s)?,
            None => Platform::host(),
        };
        if let Some(os) = os {
            p.os = os.to_string();
        }
        if let Some(arch) = arch {
            if arch != p.arch {
                p.variant = None;
            }
            p.arch = arch.to_string();
        }
        if let Some(v) = variant {
            p.variant = Some(v.to_string());
        }
        Ok(p)
    }

    pub fn parse(s: &str) -> Result<Platform, PlatformError> {
        let parts: Vec<&str> = s.split('/').collect();
        if parts.iter().any(|p| p.is_empty()) {
            return Err(PlatformError::Invalid(s.into()));
        }
        match parts.as_slice() {
            [os, arch] => Ok(Platform { os: os.to_string(), arch: arch.to_string(), variant: None }),
            [os, arch, v] => Ok(Platform { os: os.to_string(), arch: arch.to_string(), variant: Some(v.to_string()) }),
            [arch] if *arch != "linux" => Ok(Platform { os: "linux".into(), arch: arch.to_string(), variant: None }),
            _ => Err(PlatformError::Invalid(s.into())),
        }
    }

    /// True when an index entry's platform satisfies this request. A missing variant on
    /// either side matches, except that arm64 treats "v8" and none as the same.
    pub fn matches(&self, os: &str, arch: &str, variant: Option<&str>) -> bool {
        if self.os != os || self.arch != arch {
            return false;
        }
        let norm = |v: Option<&str>| -> Option<String> {
            match (arch, v) {
                ("arm64", Some("v8")) | ("arm64", None) => None,
                (_, v) => v.map(str::to_string),
            }
        };
        match (norm(self.variant.as_deref()), norm(variant)) {
            (Some(want), Some(have)) => want == have,
            _ => true,
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.arch)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let p = Platform::parse("linux/arm/v7").unwrap();
        assert!(p.matches("linux", "arm", Some("v7")));
        assert!(!p.matches("linux", "arm", Some("v6")));
        assert!(!p.matches("linux", "amd64", None));
        let p = Platform::parse("linux/arm64").unwrap();
        assert!(p.matches("linux", "arm64", Some("v8")));
        assert!(Platform::parse("linux/").is_err());
        assert!(Platform::parse("a/b/c/d").is_err());
        let p = Platform::from_flags(None, None, Some("arm64"), None).unwrap();
        assert_eq!(p.to_string(), "linux/arm64");
    }
}
