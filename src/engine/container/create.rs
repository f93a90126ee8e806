//! `create` (and the first half of `run`): resolve or pull the image, reserve the name, make
//! the container's directories and bundle (config.json, /etc files), record it as created.

use super::spec::{self, RunOptions, SpecInput};
use super::{Container, ContainerError, Kept};
use crate::engine::Context;
use crate::engine::image::{pull, store};
use std::path::Path;

/// How `--pull` decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PullPolicy {
    Missing,
    Always,
    Never,
}

impl std::str::FromStr for PullPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "missing" => Ok(PullPolicy::Missing),
            "always" | "newer" => Ok(PullPolicy::Always),
            "never" => Ok(PullPolicy::Never),
            o => Err(format!("invalid pull policy \"{o}\": use missing, always, newer or never")),
        }
    }
}

fn write_userdata(dir: &Path, id: &str, hostname: &str, name: &str, image: &str) -> Result<(), ContainerError> {
    let ud = dir.join("userdata");
    std::fs::create_dir_all(&ud).map_err(|e| ContainerError::io("cannot create", &ud, e))?;
    let hosts =
        format!("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{hostname} {name}\n");
    let resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    let resolv: String =
        resolv.lines().filter(|l| !l.trim_start().starts_with("nameserver 127.")).map(|l| format!("{l}\n")).collect();
    let env = format!(
        "engine=\"kiste-{}\"\nname=\"{name}\"\nid=\"{id}\"\nimage=\"{image}\"\nrootless=1\n",
        env!("CARGO_PKG_VERSION")
    );
    for (f, text) in
        [("hosts", hosts), ("hostname", format!("{hostname}\n")), ("resolv.conf", resolv), (".containerenv", env)]
    {
        std::fs::write(ud.join(f), text).map_err(|e| ContainerError::io("cannot write", ud.join(f), e))?;
    }
    Ok(())
}

/// The lowest layer of every container's overlay: the mount points the runtime needs (/proc,
/// /dev, /sys, /run, the /etc files kiste binds). Images that lack them then leave the
/// container's upper directory empty instead of copying up new directories each time —
/// less to create at start and to delete at `rm`. Made once per store, atomically.
fn ensure_base(storage: &Path) -> Result<std::path::PathBuf, ContainerError> {
    let base = storage.join("base-v1");
    if base.is_dir() {
        return Ok(base);
    }
    let tmp = storage.join(format!(".tmp-base-{}", crate::util::nonce()));
    let build = || -> std::io::Result<()> {
        for d in ["proc", "dev", "sys", "run", "etc"] {
            std::fs::create_dir_all(tmp.join(d))?;
        }
        for f in ["etc/hosts", "etc/hostname", "etc/resolv.conf", "run/.containerenv"] {
            std::fs::write(tmp.join(f), b"")?;
        }
        Ok(())
    };
    let r = build().and_then(|_| std::fs::rename(&tmp, &base));
    if let Err(e) = r {
        let _ = std::fs::remove_dir_all(&tmp);
        if !base.is_dir() {
            return Err(ContainerError::io("cannot create", &base, e));
        }
    }
    Ok(base)
}

/// Creates the container and returns its record.
pub fn create(
    ctx: &Context,
    opts: &RunOptions,
    policy: PullPolicy,
    pull_opts: &pull::PullOptions,
) -> Result<Container, ContainerError> {
    if !["none", "host"].contains(&opts.network.as_str()) {
        return Err(ContainerError::Invalid(format!(
            "network mode \"{}\" is not supported yet; use --network none or --network host",
            opts.network
        )));
    }
    let mut conn = ctx.db()?;
    let image = match (policy, store::resolve(&conn, &opts.image)) {
        (PullPolicy::Always, _) | (PullPolicy::Missing, Err(store::StoreError::NotFound(_))) => {
            let id = pull::pull(ctx, &opts.image, pull_opts)?;
            conn = ctx.db()?;
            store::resolve(&conn, &id)?
        }
        (PullPolicy::Never, Err(store::StoreError::NotFound(_))) => {
            return Err(ContainerError::Invalid(format!(
                "image \"{}\" is not in the local store and --pull=never was given; pull it first",
                opts.image
            )));
        }
        (_, r) => r?,
    };
    if let Some(n) = &opts.name {
        super::check_name(n)?;
    }
    let id = super::new_id();
    let name = opts.name.clone().unwrap_or_else(|| super::random_name(&id));
    let config: oci_spec::image::ImageConfiguration = serde_json::from_str(&image.config)
        .map_err(|e| ContainerError::Invalid(format!("image {} has a bad config: {e}", image.id)))?;
    let layers = ctx.layer_store()?;
    let mut dirs: Vec<std::path::PathBuf> = image.layers.iter().rev().map(|l| layers.diff_dir(l)).collect();
    let base = ensure_base(&ctx.paths.storage())?;
    let cfg = config.config().clone().unwrap_or_default();
    // --stop-signal, else the image's StopSignal, else SIGTERM (as Podman).
    let stop_signal = match opts.stop_signal.as_deref().or(cfg.stop_signal().as_deref()) {
        Some(s) => super::parse_signal(s)?,
        None => libc::SIGTERM,
    };
    let args = spec::command(
        &cfg.entrypoint().clone().unwrap_or_default(),
        &cfg.cmd().clone().unwrap_or_default(),
        opts.entrypoint.as_deref(),
        &opts.command,
    );
    if args.is_empty() {
        return Err(ContainerError::Invalid(
            "no command given and the image has none; add one after the image name".into(),
        ));
    }
    let dir = ctx.paths.containers().join(&id);
    let keep_id = spec::keep_id(opts, &ctx.idmap)?;
    // The image's files decide users and groups; the base only sits under them in the overlay.
    let image_dirs = dirs.clone();
    dirs.push(base);
    let mode = crate::storage::overlay::detect(&ctx.paths.storage(), &ctx.idmap);
    let mode_key = match mode {
        crate::storage::overlay::OverlayMode::Fuse => "fuse",
        _ => "native",
    };
    let spec = spec::build(&SpecInput {
        opts,
        image: &config,
        id: &id,
        idmap: &ctx.idmap,
        layers: &dirs,
        image_layers: &image_dirs,
        keep_id,
        ctr_dir: &dir,
        overlay_mode: mode_key,
        args: args.clone(),
    })?;
    // --replace: only once everything the user gave has been checked, and only a container
    // of exactly that name (never one whose ID happens to start with it).
    if opts.replace
        && let Some(n) = &opts.name
        && let Some(old) = super::by_name(&conn, n)?
    {
        super::lifecycle::remove(ctx, &old.id, true)?;
    }
    // From here to the record, under the shared store lock: the image cannot be deleted
    // meanwhile, and a garbage sweep (exclusive) never sees our directory without its record.
    let _lock = ctx.store_lock_shared()?;
    let conn = ctx.db()?;
    store::resolve(&conn, &image.id)?;
    crate::state::paths::make_private_dir(&ctx.paths.containers()).map_err(crate::engine::ContextError::from)?;
    // Build in a temporary directory and rename: a killed create leaves no half container.
    let tmp = ctx.paths.containers().join(format!(".tmp-{id}"));
    std::fs::create_dir_all(&tmp).map_err(|e| ContainerError::io("cannot create", &tmp, e))?;
    let result = (|| {
        for d in ["diff", "work", "merged"] {
            std::fs::create_dir_all(tmp.join(d)).map_err(|e| ContainerError::io("cannot create", tmp.join(d), e))?;
        }
        let hostname = spec.hostname().clone().unwrap_or_default();
        write_userdata(&tmp, &id, &hostname, &name, &image.names.first().cloned().unwrap_or_default())?;
        if keep_id {
            // keep-id: the user exists inside under its own name, as Podman adds it.
            let p = tmp.join("userdata/passwd");
            std::fs::write(&p, spec::keep_id_passwd(&image_dirs, &ctx.idmap))
                .map_err(|e| ContainerError::io("cannot write", &p, e))?;
        }
        spec.save(tmp.join("config.json"))
            .map_err(|e| ContainerError::Invalid(format!("cannot write config.json: {e}")))?;
        std::fs::rename(&tmp, &dir).map_err(|e| ContainerError::io("cannot create", &dir, e))
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    let labels = opts
        .labels
        .iter()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l.as_str(), ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    let c = Container {
        id: id.clone(),
        name,
        image_id: image.id.clone(),
        image_name: image.names.first().cloned().unwrap_or_else(|| image.id.clone()),
        command: args,
        created: crate::state::db::now(),
        state: "created".into(),
        pid: None,
        monitor_pid: None,
        exit_code: None,
        started_at: None,
        finished_at: None,
        boot_id: None,
        kept: Kept {
            rm: opts.rm,
            stop_signal,
            stop_timeout: opts.stop_timeout.unwrap_or(10),
            labels,
            network: opts.network.clone(),
            tty: opts.tty,
            interactive: opts.interactive,
        },
    };
    let mut c = c;
    let mut attempt = 0;
    loop {
        match super::insert(&conn, &c) {
            Ok(()) => return Ok(c),
            // A generated name that is taken: generate another.
            Err(ContainerError::NameInUse(_)) if opts.name.is_none() && attempt < 20 => {
                attempt += 1;
                c.name = super::random_name(&super::new_id());
            }
            Err(e) => {
                let _ = crate::storage::layers::remove_paths(&ctx.idmap, &[dir]);
                return Err(e);
            }
        }
    }
}
