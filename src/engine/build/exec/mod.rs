//! The build executor: walks the build plan (`build::plan`) and makes the image. Each RUN is a
//! container started through the one container starter (`run.rs`), each COPY/ADD (and a
//! WORKDIR that must make its directory) a layer written by the storage helper (`copy.rs`),
//! each config instruction a change of the config (`image.rs`); every step's result is
//! recorded as an intermediate image under its cache key (`cache.rs`), so the next build with
//! the same inputs reuses it. Prints Podman's step lines to the output it is given; the CLI
//! owns the terminal. A failed or killed build tags nothing and leaves no container.

mod bases;
mod cache;
mod copy;
mod image;
mod options;
mod run;

use crate::engine::Context;
use crate::engine::build::context::{BuildContext, ContextError};
use crate::engine::build::plan::{self, ConfigChange, FromRefKey, Op, PlanError, PlanRequest, Step};
use crate::engine::build::stages::Base;
use crate::engine::image::store;
use crate::storage::layers::LayerStore;
pub use image::{Work, rfc3339};
pub use options::{BuildOptions, BuildOutput, DockerfileSource, ImageFormat, Secret};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error(transparent)]
    Container(#[from] crate::engine::container::ContainerError),
    #[error(transparent)]
    Store(#[from] store::StoreError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error(transparent)]
    Pull(#[from] crate::engine::image::pull::PullError),
    #[error(transparent)]
    Engine(#[from] crate::engine::ContextError),
    #[error("state database: {0}")]
    Db(#[from] rusqlite::Error),
    /// A RUN whose command failed: Podman's wording, with the step.
    #[error("error building at STEP \"{step}\": exit status {code}")]
    RunFailed { step: String, code: u8 },
    #[error("{0}")]
    Invalid(String),
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: String, source: std::io::Error },
}

impl BuildError {
    pub fn io(what: &'static str, path: impl AsRef<Path>, source: std::io::Error) -> BuildError {
        BuildError::Io { what, path: path.as_ref().display().to_string(), source }
    }

    /// The exit code `build` ends with: a RUN's own, as Podman reports it, else 125.
    pub fn exit_code(&self) -> u8 {
        match self {
            BuildError::RunFailed { code, .. } => *code,
            _ => 125,
        }
    }
}

/// What a build made.
pub struct Built {
    pub id: String,
    pub names: Vec<String>,
}

/// One build in progress.
pub struct Executor<'a> {
    ctx: &'a Context,
    o: &'a BuildOptions,
    out: &'a mut dyn BuildOutput,
    context: BuildContext,
    layers: LayerStore,
    /// Built stages' images, by their index in the Dockerfile.
    stages: BTreeMap<usize, Work>,
    /// Images named in FROM/--from, resolved (pulled when needed), by reference.
    images: BTreeMap<String, String>,
    /// Intermediate images of this build not to keep (`--layers=false`).
    transient: Vec<String>,
    proxy_env: Vec<(String, String)>,
    /// The time every step of this build records.
    created: String,
    /// Scratch files (scripts, heredocs, downloads), removed at the end.
    tmp: PathBuf,
    tmp_count: usize,
    /// The last step's cache key and image (what the final image is made from).
    last_key: String,
    /// How many layers the last built stage's base had (what `--squash` leaves alone).
    target_base_layers: usize,
    last_id: Option<String>,
}

/// Builds the image `o` describes; prints its steps to `out`.
pub fn build(ctx: &Context, o: &BuildOptions, out: &mut dyn BuildOutput) -> Result<Built, BuildError> {
    crate::engine::build::exec::bases::sweep_stale(ctx);
    let (text, file) = dockerfile_text(o)?;
    let dockerfile_path = match &o.dockerfile {
        DockerfileSource::File(Some(p)) => Some(p.clone()),
        _ => None,
    };
    let context = BuildContext::from_dir(&o.context, dockerfile_path.as_deref())?;
    let tmp = ctx.paths.storage().join(format!(".build-{}", crate::util::nonce()));
    let mut ex = Executor {
        ctx,
        o,
        out,
        context,
        layers: ctx.layer_store()?,
        stages: BTreeMap::new(),
        images: BTreeMap::new(),
        transient: Vec::new(),
        proxy_env: Vec::new(),
        created: rfc3339(o.timestamp.unwrap_or_else(crate::state::db::now)),
        tmp,
        tmp_count: 0,
        last_key: String::new(),
        last_id: None,
        target_base_layers: 0,
    };
    let r = ex.run(&text, &file);
    let _ = std::fs::remove_dir_all(&ex.tmp);
    if !ex.o.layers || r.is_err() {
        ex.drop_transient(r.as_ref().ok().map(|b| b.id.as_str()));
    }
    r
}

/// The Dockerfile's text and the name errors give it.
fn dockerfile_text(o: &BuildOptions) -> Result<(String, String), BuildError> {
    let read = |p: &Path| {
        std::fs::read_to_string(p).map_err(|e| BuildError::Invalid(format!("cannot read {}: {e}", p.display())))
    };
    match &o.dockerfile {
        DockerfileSource::Text(t) => Ok((t.clone(), "Dockerfile".into())),
        DockerfileSource::File(Some(p)) => {
            // As podman: relative to the current directory, else to the context.
            let p = if p.exists() || p.is_absolute() { p.clone() } else { o.context.join(p) };
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            Ok((read(&p)?, name))
        }
        DockerfileSource::File(None) => {
            for name in ["Containerfile", "Dockerfile"] {
                let p = o.context.join(name);
                if p.is_file() {
                    return Ok((read(&p)?, name.into()));
                }
            }
            Err(BuildError::Invalid(format!(
                "no Containerfile or Dockerfile in {}; give one with -f",
                o.context.display()
            )))
        }
    }
}

impl Executor<'_> {
    fn run(&mut self, text: &str, file: &str) -> Result<Built, BuildError> {
        let req = PlanRequest {
            build_args: self.o.build_args.clone(),
            target: self.o.target.clone(),
            platform: self.o.platform.clone(),
            build_platform: crate::engine::image::platform::Platform::host(),
        };
        let plan = {
            let mut bases = bases::Bases { ex_images: &mut self.images, ctx: self.ctx, o: self.o };
            plan::plan_text(text, file, &req, &mut bases)?
        };
        for a in &plan.unused_build_args {
            crate::util::print_warning(format!("one or more build args were not consumed: [{a}]"));
        }
        self.proxy_env = plan.proxy_env.clone();
        let mut last = None;
        let count = plan.stages.len();
        for (n, stage) in plan.stages.iter().enumerate() {
            let prefix = if count > 1 { format!("[{}/{count}] ", n + 1) } else { String::new() };
            let work = self.stage(stage, &prefix)?;
            self.stages.insert(stage.index, work.clone());
            last = Some(work);
        }
        let work = last.ok_or_else(|| BuildError::Invalid(format!("{file}: no stage to build")))?;
        self.commit_final(work)
    }

    /// Builds one stage and returns its image (recorded).
    fn stage(&mut self, stage: &plan::PlannedStage, prefix: &str) -> Result<Work, BuildError> {
        let total = stage.steps.len() + 1;
        self.out.say(&format!("{prefix}STEP 1/{total}: {}", stage.source));
        let mut work =
            match &stage.base {
                Base::Scratch => Work::scratch(&stage.platform),
                Base::Stage(i) => self.stages.get(i).cloned().ok_or_else(|| {
                    BuildError::Invalid(format!("stage {i} was not built before stage {}", stage.index))
                })?,
                Base::Image(r) => self.image_work(r)?,
            };
        self.target_base_layers = work.layers.len();
        let mut key = work.id.clone().unwrap_or_else(|| "scratch".into());
        for (k, step) in stage.steps.iter().enumerate() {
            self.out.say(&format!("{prefix}STEP {}/{total}: {}", k + 2, step.source));
            let (w, next) = self.step(work, &key, step)?;
            work = w;
            key = next;
            if let Some(id) = &work.id {
                self.out.say(&format!("--> {}", &crate::util::digest_hex(id)[..12]));
            }
        }
        if work.id.is_none() {
            let mut conn = self.ctx.db()?;
            let id = work.record(&mut conn, self.o.format, None)?;
            self.transient.push(id);
        }
        self.last_key = key;
        self.last_id = work.id.clone();
        Ok(work)
    }

    /// The work image of a base image (pulled while planning).
    fn image_work(&self, r: &str) -> Result<Work, BuildError> {
        let id = self.images.get(r).ok_or_else(|| BuildError::Invalid(format!("image {r} was not resolved")))?;
        let conn = self.ctx.db()?;
        let rec = store::resolve(&conn, id)?;
        Work::from_record(&rec, &store::layer_sizes(&conn)?)
    }

    /// The image of `COPY --from` / `RUN --mount from`: a built stage, or an image.
    fn image_of(&mut self, f: &FromRefKey) -> Result<Work, BuildError> {
        match f {
            FromRefKey::Stage(i) => {
                self.stages.get(i).cloned().ok_or_else(|| BuildError::Invalid(format!("stage {i} is not built yet")))
            }
            FromRefKey::Image(r) => {
                if !self.images.contains_key(r) {
                    let id = bases::resolve_image(self.ctx, self.o, r)?;
                    self.images.insert(r.clone(), id);
                }
                self.image_work(r)
            }
        }
    }

    /// The layer directories of an image, top first.
    fn layer_dirs(&self, w: &Work) -> Vec<PathBuf> {
        w.layers.iter().rev().map(|(d, _)| self.layers.diff_dir(d)).collect()
    }

    /// Runs (or takes from the cache) one step; returns the new image and its cache key.
    fn step(&mut self, work: Work, parent_key: &str, step: &Step) -> Result<(Work, String), BuildError> {
        let planned = match &step.op {
            Op::Copy(c) => Some(self.plan_copy(c)?),
            _ => None,
        };
        let content = planned.as_ref().map(|p| p.checksum.clone()).unwrap_or_default();
        let key = cache::key(parent_key, &step.cache_key, &content);
        let use_cache = self.o.layers && !self.o.no_cache;
        if use_cache {
            let conn = self.ctx.db()?;
            if let Some(id) = cache::lookup(&conn, &key)? {
                let rec = store::resolve(&conn, &id)?;
                self.out.say(&format!("--> Using cache {}", crate::util::digest_hex(&id)));
                return Ok((Work::from_record(&rec, &store::layer_sizes(&conn)?)?, key));
            }
        }
        let parent_id = work.id.clone();
        let mut next = work.clone();
        next.id = None;
        let layer = match &step.op {
            Op::Config(change) => self.config_step(&mut next, change)?,
            Op::Run(r) => {
                let mut base_work = work.clone();
                let base = self.recorded(&mut base_work)?;
                let dirs = self.layer_dirs(&work);
                Some(self.run_step(&base, &dirs, r).map_err(|e| match e {
                    BuildError::RunFailed { code, .. } => BuildError::RunFailed { step: step.source.clone(), code },
                    e => e,
                })?)
            }
            Op::Copy(c) => {
                let dirs = self.layer_dirs(&work);
                let p = planned.ok_or_else(|| BuildError::Invalid("COPY was not planned".into()))?;
                Some(self.copy_layer(&dirs, p, &c.dest, c.chown.as_deref(), c.chmod)?)
            }
        };
        if let Some((diff_id, size)) = &layer {
            next.add_layer(diff_id, *size);
        }
        next.add_history(&step.created_by, layer.is_none(), &self.created);
        let mut conn = self.ctx.db()?;
        let id = next.record(&mut conn, self.o.format, None)?;
        cache::record(&conn, &key, &id, parent_id.as_deref())?;
        if !self.o.layers {
            self.transient.push(id);
        }
        Ok((next, key))
    }

    /// Records `w` if it is not yet (a RUN's container is made from a stored image).
    fn recorded(&mut self, w: &mut Work) -> Result<String, BuildError> {
        if let Some(id) = &w.id {
            return Ok(id.clone());
        }
        let mut conn = self.ctx.db()?;
        let id = w.record(&mut conn, self.o.format, None)?;
        self.transient.push(id.clone());
        Ok(id)
    }

    /// A config instruction; WORKDIR also makes its directory (a layer) when the image has none.
    fn config_step(&mut self, w: &mut Work, change: &ConfigChange) -> Result<Option<(String, u64)>, BuildError> {
        if let Some(warning) = w.apply(change, self.o.format) {
            crate::util::print_warning(warning);
        }
        let ConfigChange::Workdir(dir) = change else { return Ok(None) };
        let dirs = self.layer_dirs(w);
        if crate::storage::inroot::layers::LayerStack::new(&dirs).exists(Path::new(dir)) {
            return Ok(None);
        }
        let p = copy::Planned::mkdir();
        let user = w.doc["config"]["User"].as_str().filter(|u| !u.is_empty()).map(String::from);
        self.copy_layer(&dirs, p, dir, user.as_deref(), None).map(Some)
    }

    /// The final image: the target stage with --label/--env/--annotation, squashed when
    /// asked, recorded with its names.
    fn commit_final(&mut self, mut work: Work) -> Result<Built, BuildError> {
        let extra = !self.o.labels.is_empty() || !self.o.env.is_empty() || self.o.squash;
        if extra {
            for (k, v) in &self.o.labels {
                work.apply(&ConfigChange::Label(vec![(k.clone(), v.clone())]), self.o.format);
            }
            for e in &self.o.env {
                let (k, v) = e.split_once('=').unwrap_or((e.as_str(), ""));
                work.set_env(k, v);
            }
            if self.o.squash {
                self.squash(&mut work)?;
            }
            work.id = None;
        }
        let names: Vec<String> = self.o.tags.iter().map(|t| normalise_tag(t)).collect::<Result<_, _>>()?;
        self.out.say(&format!("COMMIT {}", self.o.tags.first().cloned().unwrap_or_default()));
        let mut conn = self.ctx.db()?;
        let id = match &work.id {
            Some(id) => id.clone(),
            None => {
                let parent = self.last_id.clone();
                let id = work.record(&mut conn, self.o.format, None)?;
                // Linked to the step it was made from, so prune knows it needs that step.
                let key = cache::key(&self.last_key, "final", &id);
                cache::record(&conn, &key, &id, parent.as_deref())?;
                id
            }
        };
        for n in &names {
            store::tag(&conn, &id, n)?;
        }
        self.transient.retain(|t| *t != id);
        self.out.say(&format!("--> {}", &crate::util::digest_hex(&id)[..12]));
        for n in &names {
            self.out.say(&format!("Successfully tagged {n}"));
        }
        Ok(Built { id, names })
    }

    /// `--squash`: the layers this build added to the target stage's base become one; the
    /// history keeps its entries, all but the last marked empty.
    fn squash(&mut self, work: &mut Work) -> Result<(), BuildError> {
        let base = self.target_base_layers.min(work.layers.len());
        if work.layers.len() - base <= 1 {
            return Ok(());
        }
        let ids: Vec<String> = work.layers[base..].iter().map(|(d, _)| d.clone()).collect();
        let l = self.layers.squash_layers(&ids, false, self.o.timestamp).map_err(|e| match e {
            crate::storage::StorageError::Helper(why) => BuildError::Invalid(format!("--squash: {why}")),
            e => e.into(),
        })?;
        work.squash_from(base, &l.diff_id, l.size);
        Ok(())
    }

    /// Removes this build's intermediate images (`--layers=false`, or after a failure),
    /// except `keep`. Images other builds use stay (rmi refuses them).
    fn drop_transient(&mut self, keep: Option<&str>) {
        for id in std::mem::take(&mut self.transient) {
            if Some(id.as_str()) != keep {
                let _ = crate::engine::image::manage::remove(self.ctx, &id, false);
            }
        }
    }

    /// Writes `data` to a new file of the scratch directory.
    fn tmp_named(&mut self, name: &str, data: &[u8], mode: u32) -> Result<PathBuf, BuildError> {
        use std::os::unix::fs::PermissionsExt;
        self.tmp_count += 1;
        let dir = self.tmp.join(self.tmp_count.to_string());
        std::fs::create_dir_all(&dir).map_err(|e| BuildError::io("cannot create", &dir, e))?;
        let p = dir.join(name.trim_start_matches('/').replace('/', "_"));
        std::fs::write(&p, data).map_err(|e| BuildError::io("cannot write", &p, e))?;
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode))
            .map_err(|e| BuildError::io("cannot write", &p, e))?;
        Ok(p)
    }
}

/// A `-t` name as Podman stores it: short names under `localhost/`, `:latest` added.
fn normalise_tag(t: &str) -> Result<String, BuildError> {
    crate::engine::image::reference::local_name(t)
        .map(|r| r.to_string())
        .map_err(|e| BuildError::Invalid(format!("invalid tag \"{t}\": {e}")))
}
