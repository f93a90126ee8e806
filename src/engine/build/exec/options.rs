//! What `kiste build` was asked for, parsed into types by the CLI; and where its output goes.

use crate::engine::container::create::PullPolicy;
use crate::engine::image::platform::Platform;
use crate::engine::image::pull::PullOptions;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;

/// The image format written: OCI (podman's default) or Docker's (which keeps HEALTHCHECK,
/// ONBUILD and SHELL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Oci,
    Docker,
}

/// `--secret id=ID,src=FILE`.
#[derive(Debug, Clone)]
pub struct Secret {
    pub id: String,
    pub src: PathBuf,
}

/// Where the Dockerfile comes from.
#[derive(Debug, Clone)]
pub enum DockerfileSource {
    /// `-f FILE`, or None: Containerfile, then Dockerfile, in the context.
    File(Option<PathBuf>),
    /// `-f -`: the text, read by the CLI.
    Text(String),
}

#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// The context directory (a context on stdin has been unpacked into one by then).
    pub context: PathBuf,
    pub dockerfile: DockerfileSource,
    /// Names to give the image (`-t`), as given.
    pub tags: Vec<String>,
    pub build_args: BTreeMap<String, String>,
    pub target: Option<String>,
    pub no_cache: bool,
    pub pull: PullPolicy,
    pub pull_options: PullOptions,
    /// `--layers`: keep each step's image and reuse it next time.
    pub layers: bool,
    pub squash: bool,
    pub labels: Vec<(String, String)>,
    pub annotations: Vec<(String, String)>,
    pub format: ImageFormat,
    pub platform: Platform,
    /// `--network` for RUN steps, as `run --network` takes it ("" = the default).
    pub network: String,
    pub secrets: Vec<Secret>,
    /// `--timestamp` or SOURCE_DATE_EPOCH: every time in the image (and layer mtimes) clamped.
    pub timestamp: Option<i64>,
    /// `--env K=V`: set in the image's config.
    pub env: Vec<String>,
    pub no_hosts: bool,
    pub add_hosts: Vec<String>,
    pub ulimits: Vec<String>,
    pub cap_add: Vec<String>,
    pub cap_drop: Vec<String>,
}

/// Where a build prints: its own lines (`STEP 1/3: ...`) and its RUN steps' output.
pub trait BuildOutput {
    fn say(&mut self, line: &str);
    /// stdout and stderr for a RUN step's process.
    fn run_stdio(&mut self) -> std::io::Result<(Stdio, Stdio)>;
}
