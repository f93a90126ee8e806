//! `build` (also `image build` and `buildx build`): flags parsed into `BuildOptions`, the
//! context from a directory or a tar on stdin, the step lines and RUN output on this
//! terminal, `--iidfile`, `-q`. The build itself is `engine::build::exec`.

use super::Exit;
use crate::engine::Context;
use crate::engine::build::exec::{self, BuildOptions, BuildOutput, DockerfileSource, ImageFormat, Secret};
use crate::engine::container::create::PullPolicy;
use crate::engine::image::platform::Platform;
use crate::engine::image::pull::PullOptions;
use anyhow::Context as _;
use clap::Args;
use std::collections::BTreeMap;
use std::io::{IsTerminal, Read};
use std::path::PathBuf;
use std::process::Stdio;

#[derive(Args, Debug)]
pub struct BuildArgs {
    /// The Containerfile or Dockerfile (`-` for standard input); default: Containerfile, then
    /// Dockerfile, in the context
    #[arg(short = 'f', long = "file")]
    file: Option<String>,
    /// Name the image (several allowed)
    #[arg(short = 't', long = "tag")]
    tag: Vec<String>,
    /// A build argument NAME=VALUE (NAME alone takes it from this environment)
    #[arg(long)]
    build_arg: Vec<String>,
    /// A file of NAME=VALUE build arguments
    #[arg(long)]
    build_arg_file: Vec<PathBuf>,
    /// Build this stage (and what it needs) only
    #[arg(long)]
    target: Option<String>,
    /// Run every step again (do not use the layer cache)
    #[arg(long)]
    no_cache: bool,
    /// Pull base images: missing, always, never, newer (`--pull` alone: always)
    #[arg(long, default_value = "missing", num_args = 0..=1, default_missing_value = "always", require_equals = true)]
    pull: String,
    /// Keep each step's image and reuse it in later builds
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", require_equals = true, action = clap::ArgAction::Set)]
    layers: bool,
    /// Squash the layers this build adds into one
    #[arg(long)]
    squash: bool,
    /// Write the image ID to this file
    #[arg(long)]
    iidfile: Option<PathBuf>,
    /// Print only the image ID
    #[arg(short, long)]
    quiet: bool,
    /// Add a label KEY=VALUE to the image
    #[arg(long)]
    label: Vec<String>,
    /// Add an annotation KEY=VALUE to the image's manifest
    #[arg(long)]
    annotation: Vec<String>,
    /// Image format: oci or docker (docker keeps HEALTHCHECK, SHELL, ONBUILD)
    #[arg(long, default_value = "oci")]
    format: String,
    /// The platform to build for (only the host's)
    #[arg(long)]
    platform: Option<String>,
    /// Network of RUN steps: as run --network (default: run's default)
    #[arg(long, default_value = "")]
    network: String,
    /// A secret for RUN --mount=type=secret: id=ID,src=FILE
    #[arg(long)]
    secret: Vec<String>,
    /// Every time in the image set to this Unix time (reproducible builds)
    #[arg(long)]
    timestamp: Option<i64>,
    /// Set an environment variable KEY=VALUE in the image
    #[arg(long)]
    env: Vec<String>,
    /// Keep the image's /etc/hosts in RUN steps
    #[arg(long)]
    no_hosts: bool,
    /// Add NAME:IP to /etc/hosts of RUN steps
    #[arg(long)]
    add_host: Vec<String>,
    /// Resource limit of RUN steps NAME=SOFT[:HARD]
    #[arg(long)]
    ulimit: Vec<String>,
    /// Add capabilities to RUN steps
    #[arg(long)]
    cap_add: Vec<String>,
    /// Drop capabilities from RUN steps
    #[arg(long)]
    cap_drop: Vec<String>,
    /// Remove the step containers (always done; accepted for Podman's sake)
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", require_equals = true, action = clap::ArgAction::Set)]
    rm: bool,
    /// Remove the step containers even after a failure (always done)
    #[arg(long)]
    force_rm: bool,
    /// Require HTTPS and verify certificates when pulling
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    tls_verify: Option<bool>,
    /// Credentials USERNAME[:PASSWORD] for pulling
    #[arg(long)]
    creds: Option<String>,
    /// The context: a directory, or `-` for a tar on standard input
    #[arg(default_value = ".")]
    context: String,
}

/// Step lines on stdout, RUN output on this process's stdout and stderr; nothing but the ID
/// with -q.
struct Terminal {
    quiet: bool,
}

impl BuildOutput for Terminal {
    fn say(&mut self, line: &str) {
        if !self.quiet {
            println!("{line}");
        }
    }

    fn run_stdio(&mut self) -> std::io::Result<(Stdio, Stdio)> {
        use std::io::Write;
        let _ = std::io::stdout().flush();
        if self.quiet {
            return Ok((Stdio::null(), Stdio::null()));
        }
        Ok((
            Stdio::from(std::io::stdout().as_fd().try_clone_to_owned()?),
            Stdio::from(std::io::stderr().as_fd().try_clone_to_owned()?),
        ))
    }
}

use std::os::fd::AsFd;

/// `KEY=VALUE` pairs (KEY alone: from this environment, skipped when unset).
fn pairs(list: &[String]) -> Vec<(String, String)> {
    list.iter()
        .filter_map(|a| match a.split_once('=') {
            Some((k, v)) => Some((k.to_string(), v.to_string())),
            None => std::env::var(a).ok().map(|v| (a.clone(), v)),
        })
        .collect()
}

fn build_args(a: &BuildArgs) -> anyhow::Result<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for f in &a.build_arg_file {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("cannot read --build-arg-file {}", f.display()))?;
        let lines: Vec<String> =
            text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).map(String::from).collect();
        out.extend(pairs(&lines));
    }
    out.extend(pairs(&a.build_arg));
    Ok(out)
}

fn secrets(list: &[String]) -> anyhow::Result<Vec<Secret>> {
    list.iter()
        .map(|s| {
            let mut id = None;
            let mut src = None;
            for kv in s.split(',') {
                match kv.split_once('=') {
                    Some(("id", v)) => id = Some(v.to_string()),
                    Some(("src" | "source", v)) => src = Some(PathBuf::from(v)),
                    _ => anyhow::bail!("invalid --secret \"{s}\": use id=ID,src=FILE"),
                }
            }
            let src = src.ok_or_else(|| anyhow::anyhow!("invalid --secret \"{s}\": give src=FILE"))?;
            let id =
                id.unwrap_or_else(|| src.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default());
            if !src.is_file() {
                anyhow::bail!("--secret {id}: {} is not a file", src.display());
            }
            Ok(Secret { id, src })
        })
        .collect()
}

pub fn run(a: BuildArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    if ctx.paths.driver == crate::state::paths::StorageDriver::Vfs {
        anyhow::bail!(
            "kiste build needs the overlay storage driver (its steps run on overlays); run it without --storage-driver vfs"
        );
    }
    let pull: PullPolicy = a.pull.parse().map_err(anyhow::Error::msg)?;
    let format = match a.format.as_str() {
        "oci" => ImageFormat::Oci,
        "docker" => ImageFormat::Docker,
        f => anyhow::bail!("invalid --format \"{f}\": use oci or docker"),
    };
    let platform = match &a.platform {
        Some(p) => Platform::parse(p)?,
        None => Platform::host(),
    };
    if platform != Platform::host() {
        anyhow::bail!("--platform {platform}: kiste builds for the host's platform ({}) only", Platform::host());
    }
    let dockerfile = match a.file.as_deref() {
        Some("-") => {
            let mut t = String::new();
            std::io::stdin().read_to_string(&mut t).context("cannot read the Dockerfile from standard input")?;
            DockerfileSource::Text(t)
        }
        Some(f) => DockerfileSource::File(Some(PathBuf::from(f))),
        None => DockerfileSource::File(None),
    };
    // A context on stdin is unpacked with the safe applier into a directory removed after.
    let stdin_context = match a.context.as_str() {
        "-" => Some(crate::engine::build::context::BuildContext::from_tar(
            std::io::stdin().lock(),
            &ctx.paths.storage(),
            crate::storage::apply::ApplyOptions { rootless: true, uid_count: None, gid_count: None, owners: false },
        )?),
        _ => None,
    };
    let context = match &stdin_context {
        Some(c) => c.root().to_path_buf(),
        None => PathBuf::from(&a.context),
    };
    let timestamp = a.timestamp.or_else(|| std::env::var("SOURCE_DATE_EPOCH").ok().and_then(|v| v.parse().ok()));
    let o = BuildOptions {
        context,
        dockerfile,
        tags: a.tag.clone(),
        build_args: build_args(&a)?,
        target: a.target.clone(),
        no_cache: a.no_cache,
        pull,
        pull_options: PullOptions {
            platform: platform.clone(),
            tls_verify: a.tls_verify,
            creds: a.creds.as_deref().map(super::image::parse_creds).transpose()?,
            authfile: None,
            progress: !a.quiet && std::io::stderr().is_terminal(),
        },
        layers: a.layers,
        squash: a.squash,
        labels: pairs(&a.label),
        annotations: pairs(&a.annotation),
        format,
        platform,
        network: a.network.clone(),
        secrets: secrets(&a.secret)?,
        timestamp,
        env: a.env.clone(),
        no_hosts: a.no_hosts,
        add_hosts: a.add_host.clone(),
        ulimits: a.ulimit.clone(),
        cap_add: a.cap_add.clone(),
        cap_drop: a.cap_drop.clone(),
    };
    let mut out = Terminal { quiet: a.quiet };
    let built = match exec::build(&ctx, &o, &mut out) {
        Ok(b) => b,
        Err(e) => {
            crate::util::print_error(&e);
            return Err(Exit(e.exit_code()).into());
        }
    };
    if let Some(f) = &a.iidfile {
        std::fs::write(f, &built.id).with_context(|| format!("cannot write --iidfile {}", f.display()))?;
    }
    println!("{}", crate::util::digest_hex(&built.id));
    Ok(())
}
