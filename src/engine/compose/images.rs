//! The images of a project's services: built from `build:` (one at a time, through the image
//! builder) or pulled (in parallel) as `pull_policy`, `--pull`, `--build`/`--no-build` say;
//! pushed; removed by `down --rmi`. Returns image IDs; prints nothing (tells the `Report`).

use super::ComposeError;
use super::model::{Project, Service};
use super::report::{Kind, Report};
use super::settings::PullPolicy;
use crate::engine::Context;
use crate::engine::build::exec::{self, BuildOptions, DockerfileSource, ImageFormat, Secret};
use crate::engine::container::create::PullPolicy as EnginePull;
use crate::engine::image::platform::Platform;
use crate::engine::image::pull::{self, PullOptions};
use crate::engine::image::store;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// `--pull`: overrides each service's `pull_policy`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullOverride {
    Always,
    Missing,
    Never,
    /// Build every service that can be built, pull the others when missing.
    Build,
}

/// `--build` / `--no-build`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BuildMode {
    /// Build images that are missing.
    #[default]
    Missing,
    Always,
    Never,
}

/// How images are made ready.
#[derive(Debug, Clone, Default)]
pub struct ImageOptions {
    pub pull: Option<PullOverride>,
    pub build: BuildMode,
    /// `build --no-cache`.
    pub no_cache: bool,
    /// `build --pull`: pull base images again.
    pub pull_bases: bool,
    /// `build --build-arg`.
    pub build_args: BTreeMap<String, String>,
}

fn pull_options(r: &dyn Report) -> PullOptions {
    PullOptions {
        platform: Platform::host(),
        tls_verify: None,
        creds: None,
        authfile: None,
        progress: r.pull_progress(),
    }
}

/// The local image called `name`, if any (its ID).
pub fn local(ctx: &Context, name: &str) -> Result<Option<String>, ComposeError> {
    match store::resolve(&*ctx.db()?, name) {
        Ok(rec) => Ok(Some(rec.id)),
        Err(store::StoreError::NotFound(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// What to do for one service's image.
enum Step {
    Have(String),
    Build,
    Pull,
}

fn decide(ctx: &Context, p: &Project, s: &Service, o: &ImageOptions) -> Result<Step, ComposeError> {
    let name = s.image_name(&p.name);
    let have = local(ctx, &name)?;
    if s.build.is_some() {
        let always = o.build == BuildMode::Always
            || s.pull_policy == Some(PullPolicy::Build)
            || o.pull == Some(PullOverride::Build);
        return match (have, always, o.build) {
            (Some(id), false, _) | (Some(id), _, BuildMode::Never) => Ok(Step::Have(id)),
            (None, _, BuildMode::Never) => Err(ComposeError::service(
                &s.name,
                format!(
                    "image \"{name}\" is not built yet and --no-build was given; run kiste compose build {}",
                    s.name
                ),
            )),
            _ => Ok(Step::Build),
        };
    }
    let policy = match (o.pull, &s.pull_policy) {
        (Some(PullOverride::Always), _) => PullPolicy::Always,
        (Some(PullOverride::Never), _) => PullPolicy::Never,
        (Some(PullOverride::Missing | PullOverride::Build), _) | (None, None) => PullPolicy::Missing,
        (None, Some(p)) => p.clone(),
    };
    match (policy, have) {
        (PullPolicy::Always, _) => Ok(Step::Pull),
        (PullPolicy::Build, _) => Err(ComposeError::service(
            &s.name,
            "pull_policy is build but the service has no build section; add one or change pull_policy",
        )),
        (_, Some(id)) => Ok(Step::Have(id)),
        (PullPolicy::Never, None) => Err(ComposeError::service(
            &s.name,
            format!("image \"{name}\" is not in the local store and pull_policy is never; pull it first"),
        )),
        (_, None) => Ok(Step::Pull),
    }
}

/// Makes the images of `services` ready: builds (one by one) and pulls (all at once) what is
/// needed. Returns service -> image ID.
pub fn ensure(
    ctx: &Context,
    p: &Project,
    services: &[&Service],
    o: &ImageOptions,
    r: &dyn Report,
) -> Result<BTreeMap<String, String>, ComposeError> {
    let mut ids = BTreeMap::new();
    let mut to_pull: Vec<&Service> = Vec::new();
    for s in services {
        match decide(ctx, p, s, o)? {
            Step::Have(id) => {
                ids.insert(s.name.clone(), id);
            }
            Step::Build => {
                ids.insert(s.name.clone(), build(ctx, p, s, o, r)?);
            }
            Step::Pull => to_pull.push(s),
        }
    }
    ids.extend(pull_all(ctx, p, &to_pull, r)?);
    Ok(ids)
}

/// Pulls the images of `services` in parallel (each image once).
pub fn pull_all(
    ctx: &Context,
    p: &Project,
    services: &[&Service],
    r: &dyn Report,
) -> Result<BTreeMap<String, String>, ComposeError> {
    let mut names: Vec<String> = services.iter().map(|s| s.image_name(&p.name)).collect();
    names.sort();
    names.dedup();
    let opts = pull_options(r);
    let results: Vec<(String, Result<String, ComposeError>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = names
            .iter()
            .map(|n| {
                let opts = &opts;
                scope.spawn(move || {
                    r.event(Kind::Image, n, "Pulling");
                    let got = pull::pull(ctx, n, opts).map_err(ComposeError::from);
                    if got.is_ok() {
                        r.event(Kind::Image, n, "Pulled");
                    }
                    (n.clone(), got)
                })
            })
            .collect();
        handles.into_iter().filter_map(|h| h.join().ok()).collect()
    });
    let mut by_name = BTreeMap::new();
    for (n, got) in results {
        by_name.insert(n, got?);
    }
    let mut out = BTreeMap::new();
    for s in services {
        if let Some(id) = by_name.get(&s.image_name(&p.name)) {
            out.insert(s.name.clone(), id.clone());
        }
    }
    Ok(out)
}

/// Whether a build context is a remote one (git, http).
fn remote(context: &str) -> bool {
    context.contains("://") || context.starts_with("git@")
}

/// Builds service `s`'s image (named `s.image_name`, with `build.tags` too); returns its ID.
pub fn build(
    ctx: &Context,
    p: &Project,
    s: &Service,
    o: &ImageOptions,
    r: &dyn Report,
) -> Result<String, ComposeError> {
    let Some(b) = &s.build else {
        return Err(ComposeError::service(&s.name, "has no build section"));
    };
    let path = format!("services.{}.build", s.name);
    if remote(&b.context) {
        return Err(ComposeError::unsupported(format!("{path}.context"), "remote build contexts"));
    }
    let context = PathBuf::from(&b.context);
    let dockerfile = match (&b.dockerfile_inline, &b.dockerfile) {
        (Some(text), _) => DockerfileSource::Text(text.clone()),
        (None, Some(f)) => DockerfileSource::File(Some(context.join(f))),
        (None, None) => DockerfileSource::File(None),
    };
    let mut secrets = Vec::new();
    for (i, m) in b.secrets.iter().enumerate() {
        let file = p.secrets.get(&m.source).and_then(|d| d.file.clone()).ok_or_else(|| {
            ComposeError::unsupported(format!("{path}.secrets[{i}]"), "build secrets that are not files")
        })?;
        secrets.push(Secret { id: m.target.clone().unwrap_or_else(|| m.source.clone()), src: file });
    }
    let mut build_args: BTreeMap<String, String> =
        b.args.iter().filter_map(|(k, v)| v.clone().map(|v| (k.clone(), v))).collect();
    build_args.extend(o.build_args.clone());
    let name = s.image_name(&p.name);
    let bo = BuildOptions {
        context,
        dockerfile,
        tags: std::iter::once(name.clone()).chain(b.tags.iter().cloned()).collect(),
        build_args,
        target: b.target.clone(),
        no_cache: b.no_cache || o.no_cache,
        pull: if b.pull || o.pull_bases { EnginePull::Always } else { EnginePull::Missing },
        pull_options: pull_options(r),
        layers: true,
        squash: false,
        labels: b.labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        annotations: Vec::new(),
        format: ImageFormat::Oci,
        platform: Platform::host(),
        network: b.network.clone().filter(|n| n != "default").unwrap_or_default(),
        secrets,
        timestamp: None,
        env: Vec::new(),
        no_hosts: false,
        add_hosts: Vec::new(),
        ulimits: Vec::new(),
        cap_add: Vec::new(),
        cap_drop: Vec::new(),
    };
    r.event(Kind::Image, &name, "Building");
    let mut out = r.build_output(&s.name);
    let built = exec::build(ctx, &bo, &mut *out)?;
    r.event(Kind::Image, &name, "Built");
    Ok(built.id)
}

/// Pushes the images of the services that are built (`build:`) to their registries.
pub fn push(ctx: &Context, p: &Project, services: &[&Service], r: &dyn Report) -> Result<(), ComposeError> {
    use crate::engine::image::push;
    for s in services.iter().filter(|s| s.build.is_some() || s.image.is_some()) {
        let name = s.image_name(&p.name);
        if s.image.is_none() {
            r.warn(&format!("service {} has no image name to push to; add image: REGISTRY/NAME:TAG", s.name));
            continue;
        }
        r.event(Kind::Image, &name, "Pushing");
        let opts = push::PushOptions { progress: Some(r.pull_progress()), ..push::PushOptions::default() };
        push::push(ctx, &name, None, &opts)?;
        r.event(Kind::Image, &name, "Pushed");
    }
    Ok(())
}

/// `down --rmi`: which images go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RemoveImages {
    /// Only those built with the default name (no `image:`).
    Local,
    All,
}

/// Removes the services' images as `down --rmi` asks; images still in use are kept with a
/// warning.
pub fn remove(ctx: &Context, p: &Project, which: RemoveImages, r: &dyn Report) -> Result<(), ComposeError> {
    let mut names: Vec<String> = p
        .services
        .values()
        .filter(|s| which == RemoveImages::All || s.image.is_none())
        .map(|s| s.image_name(&p.name))
        .collect();
    names.sort();
    names.dedup();
    for n in names {
        if local(ctx, &n)?.is_none() {
            continue;
        }
        match crate::engine::image::manage::remove(ctx, &n, false) {
            Ok(_) => r.event(Kind::Image, &n, "Removed"),
            Err(e) => r.warn(&format!("image {n} kept: {e}")),
        }
    }
    Ok(())
}
