//! `push` and `image push`: flags (Podman's), then one engine call. Progress goes to stderr;
//! nothing is printed on stdout. No engine logic here.

use crate::engine::Context;
use crate::engine::image::compress::Compression;
use crate::engine::image::push::{self, ManifestFormat, PushOptions};
use crate::engine::image::upload::Retry;
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct PushArgs {
    /// Path of the authentication file
    #[arg(long, env = "REGISTRY_AUTH_FILE")]
    authfile: Option<PathBuf>,
    /// Compression of layers that are compressed for this push: gzip or zstd (default gzip)
    #[arg(long, value_parser = ["gzip", "zstd", "zstd:chunked"])]
    compression_format: Option<String>,
    /// Compression level (gzip 1-9, default 2; zstd 1-20, default 3)
    #[arg(long)]
    compression_level: Option<i32>,
    /// Credentials USERNAME[:PASSWORD] for the registry
    #[arg(long)]
    creds: Option<String>,
    /// Write the digest of the pushed manifest to this file
    #[arg(long)]
    digestfile: Option<PathBuf>,
    /// Ignored (as by Podman)
    #[arg(long, hide = true)]
    disable_content_trust: bool,
    /// Compress anew even when the registry has a layer in another compression
    /// (default: true with --compression-format)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    force_compression: Option<bool>,
    /// Manifest type: oci, v2s2 (or docker); default: the image's own
    #[arg(short, long)]
    format: Option<String>,
    /// Suppress progress output
    #[arg(short, long)]
    quiet: bool,
    /// Discard the image's signatures (kiste stores none)
    #[arg(long)]
    remove_signatures: bool,
    /// Number of times to retry a failed request
    #[arg(long, default_value_t = 3)]
    retry: u32,
    /// Delay between retries (e.g. 2s; default: 2 s, doubling)
    #[arg(long)]
    retry_delay: Option<String>,
    /// Sign the image (not supported)
    #[arg(long, hide = true)]
    sign_by: Option<String>,
    /// Sign the image with sigstore (not supported)
    #[arg(long, hide = true)]
    sign_by_sigstore: Option<String>,
    /// Sign the image with a sigstore key (not supported)
    #[arg(long, hide = true)]
    sign_by_sigstore_private_key: Option<String>,
    /// Passphrase of the signing key (not supported)
    #[arg(long, hide = true)]
    sign_passphrase_file: Option<String>,
    /// Encrypt layers (not supported)
    #[arg(long, hide = true)]
    encryption_key: Option<String>,
    /// Require HTTPS and verify certificates (default: as registries.conf says)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    tls_verify: Option<bool>,
    /// Image to push (name or ID)
    image: String,
    /// Where to push it: [docker://]REGISTRY/REPOSITORY[:TAG] (default: the image's name)
    destination: Option<String>,
}

/// A Go-style duration: "500ms", "2s", "1m", "1h" (a bare number is seconds).
fn parse_duration(s: &str) -> anyhow::Result<std::time::Duration> {
    let bad = || anyhow::anyhow!("invalid --retry-delay {s:?}: use a duration such as 2s or 500ms");
    let split = s.find(|c: char| !c.is_ascii_digit() && c != '.').unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    std::time::Duration::try_from_secs_f64(secs).map_err(|_| bad())
}

pub fn run(a: PushArgs) -> anyhow::Result<()> {
    let unsupported = [
        ("--sign-by", a.sign_by.is_some()),
        ("--sign-by-sigstore", a.sign_by_sigstore.is_some()),
        ("--sign-by-sigstore-private-key", a.sign_by_sigstore_private_key.is_some()),
        ("--sign-passphrase-file", a.sign_passphrase_file.is_some()),
        ("--encryption-key", a.encryption_key.is_some()),
    ];
    if let Some((flag, _)) = unsupported.iter().find(|(_, set)| *set) {
        anyhow::bail!("{flag} is not supported by kiste push; push without it");
    }
    let _ = (a.disable_content_trust, a.remove_signatures);
    let format = match a.format.as_deref() {
        None => None,
        Some("oci") => Some(ManifestFormat::Oci),
        Some("v2s2" | "docker") => Some(ManifestFormat::Docker),
        Some(f) => anyhow::bail!("invalid --format {f:?}: use oci or v2s2"),
    };
    let compression = match a.compression_format.as_deref() {
        None => None,
        Some("zstd:chunked") => {
            crate::util::print_warning("zstd:chunked is pushed as plain zstd");
            Some(Compression::Zstd)
        }
        Some(c) => Compression::from_name(c),
    };
    if let Some(l) = a.compression_level {
        let (lo, hi) = if compression == Some(Compression::Zstd) { (1, 20) } else { (1, 9) };
        if !(lo..=hi).contains(&l) {
            anyhow::bail!("invalid --compression-level {l}: use {lo} to {hi}");
        }
    }
    let opts = PushOptions {
        tls_verify: a.tls_verify,
        creds: a.creds.as_deref().map(super::image::parse_creds).transpose()?,
        authfile: a.authfile,
        format,
        compression,
        compression_level: a.compression_level,
        force_compression: a.force_compression,
        retry: Retry { attempts: a.retry, delay: a.retry_delay.as_deref().map(parse_duration).transpose()? },
        progress: (!a.quiet).then(|| std::io::stderr().is_terminal()),
    };
    let ctx = Context::new()?;
    let pushed = push::push(&ctx, &a.image, a.destination.as_deref(), &opts)?;
    if let Some(path) = &a.digestfile {
        std::fs::write(path, &pushed.digest)
            .map_err(|e| anyhow::anyhow!("cannot write --digestfile {}: {e}", path.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        assert_eq!(super::parse_duration("2s").unwrap().as_millis(), 2000);
        assert_eq!(super::parse_duration("500ms").unwrap().as_millis(), 500);
        assert_eq!(super::parse_duration("1m").unwrap().as_secs(), 60);
        assert!(super::parse_duration("soon").is_err());
    }
}
