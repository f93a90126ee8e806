//! A RUN step: a container made from the build's current image (recorded as an intermediate
//! image) through the one container starter, like `kiste run`: the same user namespace,
//! overlay root, seccomp, network and exit codes; its output to the build's output. Its
//! RUN --mount's become bind, overlay and tmpfs mounts; after it, the mount points it made
//! are removed from its upper directory, which then becomes the new layer itself.

use super::{BuildError, Executor};
use crate::engine::build::mounts::MountType;
use crate::engine::build::plan::{PlannedMount, RunNetworkKind, RunScript, RunStep};
use crate::engine::container::create::{self, PullPolicy};
use crate::engine::container::spec::RunOptions;
use crate::engine::container::{lifecycle, run as starter};
use crate::storage::inroot::layers::LayerStack;
use oci_spec::runtime::{Mount, MountBuilder};
use std::path::{Path, PathBuf};
use std::process::Stdio;

fn mount(dest: &str, typ: &str, source: &Path, options: &[&str]) -> Result<Mount, BuildError> {
    MountBuilder::default()
        .destination(PathBuf::from(dest))
        .typ(typ)
        .source(source.to_path_buf())
        .options(options.iter().map(|o| o.to_string()).collect::<Vec<_>>())
        .build()
        .map_err(|e| BuildError::Invalid(format!("cannot describe the mount of {dest}: {e}")))
}

impl Executor<'_> {
    /// The runtime mount for one RUN --mount.
    fn run_mount(&mut self, m: &PlannedMount) -> Result<Option<Mount>, BuildError> {
        let t = m.target.as_str();
        let mm = &m.mount;
        match mm.kind {
            MountType::Tmpfs => {
                let size = mm.size.map(|s| format!("size={s}"));
                let mut opts = vec!["nosuid", "nodev"];
                if let Some(s) = &size {
                    opts.push(s);
                }
                Ok(Some(mount(t, "tmpfs", Path::new("tmpfs"), &opts)?))
            }
            MountType::Cache => {
                let id = mm.id.clone().unwrap_or_else(|| t.to_string());
                let dir = self
                    .ctx
                    .paths
                    .storage()
                    .join("build-cache")
                    .join(crate::util::digest_hex(&crate::util::sha256_bytes(id.as_bytes())));
                std::fs::create_dir_all(&dir).map_err(|e| BuildError::io("cannot create", &dir, e))?;
                let ro = if mm.readonly { "ro" } else { "rw" };
                Ok(Some(mount(t, "bind", &dir, &["rbind", ro])?))
            }
            MountType::Secret => {
                let id = mm.secret_id().unwrap_or_default();
                match self.o.secrets.iter().find(|s| s.id == id) {
                    Some(s) => Ok(Some(mount(t, "bind", &s.src, &["rbind", "ro"])?)),
                    None if mm.required => Err(BuildError::Invalid(format!(
                        "secret \"{id}\" is required by RUN --mount but was not given; pass --secret id={id},src=FILE"
                    ))),
                    None => Ok(None),
                }
            }
            MountType::Bind => self.bind_mount(m).map(Some),
            MountType::Ssh => Err(BuildError::Invalid(
                "RUN --mount=type=ssh is not supported by kiste; copy what the step needs with --secret".into(),
            )),
        }
    }

    /// A bind mount from the context, or a read-only view of a stage or image.
    fn bind_mount(&mut self, m: &PlannedMount) -> Result<Mount, BuildError> {
        let t = m.target.as_str();
        let src = m.mount.source.clone().unwrap_or_else(|| "/".into());
        let ro = if m.mount.readonly { "ro" } else { "rw" };
        match &m.from {
            None => {
                let path = self.context.scoped(src.trim_start_matches('/'))?;
                if !m.mount.readonly {
                    return Err(BuildError::Invalid(format!(
                        "RUN --mount=type=bind,target={t},rw would write into the build context; drop rw"
                    )));
                }
                mount(t, "bind", &path, &["rbind", ro])
            }
            Some(from) => {
                let work = self.image_of(from)?;
                let dirs = self.layer_dirs(&work);
                if dirs.is_empty() {
                    return Err(BuildError::Invalid(format!("RUN --mount from an empty image at {t}")));
                }
                let base = dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(":");
                // Only the root of another image: a sub-path would need that image mounted.
                if !src.trim_matches('/').is_empty() {
                    return Err(BuildError::Invalid(format!(
                        "RUN --mount=type=bind,from=...,source={src}: only the whole image (source=/) can be mounted"
                    )));
                }
                let lower = format!("lowerdir={base}");
                let mut opts = vec![lower.as_str(), "ro"];
                if !self.ctx.idmap.is_rootful() {
                    opts.push("userxattr");
                }
                mount(t, "overlay", Path::new("overlay"), &opts)
            }
        }
    }

    /// Runs one RUN step on `image` (a recorded image) and returns the new layer.
    pub(super) fn run_step(
        &mut self,
        image: &str,
        work_layers: &[PathBuf],
        r: &RunStep,
    ) -> Result<(String, u64), BuildError> {
        let mut mounts = Vec::new();
        for m in &r.mounts {
            if let Some(x) = self.run_mount(m)? {
                mounts.push(x);
            }
        }
        let argv = match &r.script {
            RunScript::Argv(a) => a.clone(),
            RunScript::ScriptFile { argv, path, content } => {
                let file = self.tmp_named("script", content.as_bytes(), 0o755)?;
                mounts.push(mount(path, "bind", &file, &["rbind", "ro"])?);
                argv.clone()
            }
        };
        // Mount points the image lacks: made in the upper dir by the runtime, removed after.
        let stack = LayerStack::new(work_layers);
        let made: Vec<(String, usize)> =
            mounts.iter().map(|m| existing_prefix(&stack, &m.destination().display().to_string())).collect();
        let network = match r.network {
            Some(RunNetworkKind::None) => "none".to_string(),
            Some(RunNetworkKind::Host) => "host".to_string(),
            _ => self.o.network.clone(),
        };
        let mut env = r.env.clone();
        env.extend(self.proxy_env.iter().map(|(k, v)| format!("{k}={v}")));
        let opts = RunOptions {
            name: Some(format!("kiste-build-{}", &crate::util::nonce()[..12])),
            image: image.to_string(),
            command: argv,
            entrypoint: Some(String::new()),
            env,
            workdir: Some(r.workdir.clone()),
            user: (!r.user.is_empty()).then(|| r.user.clone()),
            network,
            no_hosts: self.o.no_hosts,
            add_hosts: self.o.add_hosts.clone(),
            ulimits: self.o.ulimits.clone(),
            cap_add: self.o.cap_add.clone(),
            cap_drop: self.o.cap_drop.clone(),
            builder: Some(std::process::id()),
            extra_mounts: mounts,
            ..Default::default()
        };
        let c = create::create(self.ctx, &opts, PullPolicy::Never, &self.o.pull_options)?;
        let code = self.out.run_stdio().map_err(|e| BuildError::Invalid(format!("build output: {e}"))).and_then(
            |(out, err)| starter::run_to_end(self.ctx, &c, [Stdio::null(), out, err]).map_err(BuildError::from),
        );
        let result = match code {
            Ok(0) => {
                let upper = c.dir(self.ctx).join("diff");
                for (target, keep) in &made {
                    prune_made(&upper, target, *keep);
                }
                self.layers.commit_dir(&upper, self.o.timestamp).map(|l| (l.diff_id, l.size)).map_err(BuildError::from)
            }
            Ok(code) => Err(BuildError::RunFailed { step: String::new(), code }),
            Err(e) => Err(e),
        };
        let _ = lifecycle::remove(self.ctx, &c.id, true);
        result
    }
}

/// `target` and how many of its leading components exist in the image (those stay).
fn existing_prefix(stack: &LayerStack, target: &str) -> (String, usize) {
    let comps: Vec<&str> = target.split('/').filter(|c| !c.is_empty()).collect();
    let mut keep = 0;
    for i in 1..=comps.len() {
        let p = comps[..i].join("/");
        if !stack.exists(Path::new(&p)) {
            break;
        }
        keep = i;
    }
    (target.to_string(), keep)
}

/// Removes the empty mount point `target` and its empty parents from a container's upper
/// dir, down to the first `keep` components (which the image has). Never follows a symlink:
/// the upper dir is the container's to write.
fn prune_made(upper: &Path, target: &str, keep: usize) {
    use rustix::fs::{AtFlags, Mode, OFlags, ResolveFlags};
    let comps: Vec<&str> = target.split('/').filter(|c| !c.is_empty()).collect();
    let Ok(root) = rustix::fs::open(upper, OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC, Mode::empty()) else {
        return;
    };
    for end in (keep + 1..=comps.len()).rev() {
        let parent = comps[..end - 1].join("/");
        let parent = if parent.is_empty() { ".".to_string() } else { parent };
        let how = ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS;
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        let Ok(dir) = rustix::fs::openat2(&root, parent.as_str(), flags, Mode::empty(), how) else { return };
        let name = comps[end - 1];
        let removed = match rustix::fs::statat(&dir, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(st) if rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::Directory => {
                rustix::fs::unlinkat(&dir, name, AtFlags::REMOVEDIR).is_ok()
            }
            Ok(st)
                if rustix::fs::FileType::from_raw_mode(st.st_mode) == rustix::fs::FileType::RegularFile
                    && st.st_size == 0 =>
            {
                rustix::fs::unlinkat(&dir, name, AtFlags::empty()).is_ok()
            }
            _ => false,
        };
        if !removed {
            return;
        }
    }
}
