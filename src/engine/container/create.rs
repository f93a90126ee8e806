//! `create` (and the first half of `run`): resolve or pull the image, reserve the name, make
//! the container's directories and bundle (config.json, /etc files), record it as created.

use super::spec::{self, RunOptions, SpecInput};
use super::{Container, ContainerError, Kept};
use crate::engine::Context;
use crate::engine::image::{pull, store};
use crate::engine::network::{self, PortMapping};
use std::net::Ipv4Addr;
use std::path::Path;

/// The container's network as decided at create.
struct Net {
    mode: network::NetworkMode,
    ports: Vec<PortMapping>,
    addrs: Option<network::Addrs>,
    /// User-defined networks (mode "bridge"), with the first one's definition.
    networks: Vec<super::NetAttach>,
    first: Option<network::named::Network>,
}

/// `--network NAME[,NAME...]` of user-defined networks, with `--network-alias` and `--ip`
/// (which apply to the first).
fn named_networks(
    ctx: &Context,
    opts: &RunOptions,
) -> Result<(Vec<super::NetAttach>, network::named::Network), ContainerError> {
    let store = network::named::Store::new(&ctx.paths.data);
    let mut list = Vec::new();
    let mut first = None;
    for name in opts.network.split(',') {
        let n = store.get(name).map_err(|e| ContainerError::Invalid(e.to_string()))?;
        if list.iter().any(|a: &super::NetAttach| a.name == n.name) {
            continue;
        }
        list.push(super::NetAttach { name: n.name.clone(), aliases: Vec::new(), ip: None });
        first.get_or_insert(n);
    }
    let first = first.ok_or_else(|| ContainerError::Invalid("--network names no network".into()))?;
    list[0].aliases = opts.network_aliases.clone();
    if let Some(ip) = &opts.ip {
        let ip: std::net::Ipv4Addr =
            ip.parse().map_err(|_| ContainerError::Invalid(format!("invalid --ip \"{ip}\": not an IPv4 address")))?;
        let s = &first.subnets[0];
        if !network::named::contains(&s.subnet, ip) || ip == s.gateway {
            return Err(ContainerError::Invalid(format!(
                "--ip {ip} is not a host address in network {}'s subnet {}",
                first.name, s.subnet
            )));
        }
        list[0].ip = Some(ip);
    }
    Ok((list, first))
}

/// Resolves `--network`, `-p`, `-P`/`--expose` (with the image's ExposedPorts): free host
/// ports are chosen and the given ones checked now, so that a `run` that cannot publish
/// leaves nothing behind.
fn plan_network(ctx: &Context, opts: &RunOptions, cfg: &oci_spec::image::Config) -> Result<Net, ContainerError> {
    let rootless = !ctx.idmap.is_rootful();
    let inv = |e: network::NetError| ContainerError::Invalid(e.to_string());
    let requested = (!opts.network.is_empty()).then_some(opts.network.as_str());
    let (mut mode, networks, first) = match network::resolve_mode(&ctx.paths, requested) {
        Ok(m) => (m, Vec::new(), None),
        Err(network::NetError::NotFound(_)) => {
            let (l, f) = named_networks(ctx, opts)?;
            (network::NetworkMode::Bridge, l, Some(f))
        }
        Err(e) => return Err(inv(e)),
    };
    if let network::NetworkMode::Container(target) = &mode {
        let conn = ctx.db()?;
        let t = super::resolve(&conn, target)?;
        mode = network::NetworkMode::Container(t.id);
    }
    if networks.is_empty() && (opts.ip.is_some() || !opts.network_aliases.is_empty()) {
        return Err(ContainerError::Invalid(
            "--ip and --network-alias need a user-defined network (--network NAME)".into(),
        ));
    }
    let mut ports = Vec::new();
    for p in &opts.publish {
        ports.extend(network::ports::parse(p).map_err(inv)?);
    }
    if opts.publish_all {
        let mut exposed = Vec::new();
        for e in cfg.exposed_ports().iter().flatten().chain(opts.expose.iter()) {
            exposed.extend(network::ports::parse_exposed(e).map_err(inv)?);
        }
        for (port, proto) in exposed {
            if !ports.iter().any(|m: &PortMapping| m.container_port == port && m.proto == proto) {
                ports.push(PortMapping { host_ip: String::new(), host_port: 0, container_port: port, proto });
            }
        }
    } else {
        for e in &opts.expose {
            network::ports::parse_exposed(e).map_err(inv)?;
        }
    }
    if !ports.is_empty() && !mode.has_helper() && mode != network::NetworkMode::Bridge {
        // As Podman: the container runs, without them (its warning, on stderr as it is).
        let ns = match &mode {
            network::NetworkMode::Container(_) => "container".to_string(),
            m => m.to_string(),
        };
        eprintln!("Port mappings have been discarded because \"{ns}\" network namespace mode does not support them");
        ports.clear();
    }
    network::ports::reserve(&mut ports, rootless).map_err(inv)?;
    let addrs = network::addresses(&mode).map_err(inv)?;
    Ok(Net { mode, ports, addrs, networks, first })
}

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

fn write_userdata(
    ctx: &Context,
    dir: &Path,
    id: &str,
    names: &network::NameOptions,
    net: &Net,
    image: &str,
) -> Result<(), ContainerError> {
    let ud = dir.join("userdata");
    std::fs::create_dir_all(&ud).map_err(|e| ContainerError::io("cannot create", &ud, e))?;
    let (hostname, name) = (names.hostname, names.name);
    let hosts = match &net.first {
        // The address comes at start (hosts.in is the template); the host is reached through
        // the holder's outward helper unless the network is internal.
        Some(n) => {
            let gateway = match n.internal {
                false => network::outward_mode(&ctx.paths).ok().and_then(|m| network::addresses(&m).ok().flatten()),
                true => None,
            };
            let own = gateway.map(|g| network::Addrs { ip: std::net::Ipv4Addr::new(127, 0, 1, 1), gateway: g.gateway });
            let text = network::hosts_file(names, own.as_ref());
            std::fs::write(ud.join("hosts.in"), &text)
                .map_err(|e| ContainerError::io("cannot write", ud.join("hosts.in"), e))?;
            text
        }
        None => network::hosts_file(names, net.addrs.as_ref()),
    };
    let host_resolv = std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default();
    // On a user-defined network `addrs` carries the network's gateway: its resolver.
    let bridge =
        net.first.as_ref().map(|n| network::Addrs { ip: Ipv4Addr::UNSPECIFIED, gateway: n.subnets[0].gateway });
    let resolv = network::resolv_file(names, &net.mode, bridge.as_ref().or(net.addrs.as_ref()), &host_resolv);
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

/// `--storage-driver vfs`: the root is the container's own copy of the layers (`rootfs`),
/// which the runtime binds instead of mounting an overlay.
fn vfs_root(spec: &mut oci_spec::runtime::Spec, dir: &Path) {
    use crate::runtime::{ANN_FUSE_OPTIONS, ANN_LOWER, ANN_OVERLAY_MODE, ANN_UPPER, ANN_VOLATILE};
    if let Some(mut ann) = spec.annotations().clone() {
        for k in [ANN_LOWER, ANN_UPPER, ANN_OVERLAY_MODE, ANN_FUSE_OPTIONS, ANN_VOLATILE] {
            ann.remove(k);
        }
        spec.set_annotations(Some(ann));
    }
    if let Some(mut root) = spec.root().clone() {
        root.set_path(dir.join("rootfs"));
        spec.set_root(Some(root));
    }
}

/// Copies the layers (`top_first`, kiste's base last) into `dest` in the user namespace, in
/// order, whiteouts removing what they hide: a vfs container's root.
fn copy_layers(ctx: &Context, top_first: &[std::path::PathBuf], dest: &Path) -> Result<(), ContainerError> {
    std::fs::create_dir_all(dest).map_err(|e| ContainerError::io("cannot create", dest, e))?;
    let layers = top_first.iter().rev().cloned().collect();
    ctx.layer_store()?.squash_into(layers, dest, true).map_err(|e| match e {
        crate::storage::StorageError::Helper(why) => {
            ContainerError::Invalid(format!("cannot copy the image into the container (vfs): {why}"))
        }
        e => e.into(),
    })
}

/// The health check: the `--health-*` flags over the image's HEALTHCHECK (Docker's
/// `config.Healthcheck`, which OCI configs do not carry).
fn image_health(opts: &RunOptions, config: &str) -> Result<Option<super::health::HealthConfig>, ContainerError> {
    let raw: serde_json::Value = serde_json::from_str(config).unwrap_or_default();
    super::health::resolve(&opts.health, raw.get("config").and_then(|c| c.get("Healthcheck")))
}

/// Refuses what Podman refuses in the options that the spec takes as they are.
fn check_options(opts: &RunOptions) -> Result<(), ContainerError> {
    if opts.rm && opts.restart != super::restart::RestartPolicy::No {
        return Err(ContainerError::Invalid(format!(
            "invalid --restart \"{}\": the --rm option conflicts with a restart policy; give one of them",
            opts.restart
        )));
    }
    if let Some(e) = opts.env.iter().find(|e| e.split('=').next().is_none_or(str::is_empty)) {
        return Err(ContainerError::Invalid(format!(
            "invalid environment variable \"{e}\": the name is empty; use -e NAME=VALUE"
        )));
    }
    if let Some(w) = opts.workdir.as_deref().filter(|w| !w.starts_with('/')) {
        return Err(ContainerError::Invalid(format!(
            "invalid --workdir \"{w}\": it must be an absolute path inside the container, e.g. /app"
        )));
    }
    Ok(())
}

/// Creates the container and returns its record.
pub fn create(
    ctx: &Context,
    opts: &RunOptions,
    policy: PullPolicy,
    pull_opts: &pull::PullOptions,
) -> Result<Container, ContainerError> {
    // containers.conf's defaults for what was not given (a build's steps keep their own).
    let conf = match opts.builder {
        Some(_) => None,
        None => Some(
            crate::state::containers_conf::ContainersConf::load(ctx.paths.user_containers_config.as_deref())
                .map_err(|e| ContainerError::Invalid(e.to_string()))?,
        ),
    };
    let with_defaults;
    let opts = match conf {
        Some(conf) => {
            let host_env: Vec<(String, String)> = std::env::vars().collect();
            with_defaults = super::defaults::apply(opts, conf, &host_env);
            &with_defaults
        }
        None => opts,
    };
    // containers.conf's log_driver is the default of --log-driver, not a --log-driver: a
    // configured journald is taken where the flag's is refused.
    let conf_log = conf.and_then(|c| c.containers.log_driver);
    let log = super::compat::LogConfig::parse(opts.log_driver.as_deref(), &opts.log_opts, conf_log)?;
    let sdnotify = opts.sdnotify.as_deref().map(super::compat::check_sdnotify).transpose()?;
    let vfs = ctx.paths.driver == crate::state::paths::StorageDriver::Vfs;
    if vfs && opts.userns.as_deref() == Some("keep-id") {
        return Err(ContainerError::Invalid(
            "--userns=keep-id needs the overlay storage driver; run without --storage-driver vfs".into(),
        ));
    }
    let mut conn = ctx.db()?;
    let requires = super::compat::resolve_requires(&conn, &opts.requires)?;
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
    check_options(opts)?;
    let id = super::new_id();
    let name = opts.name.clone().unwrap_or_else(|| super::random_name(&id));
    let config: oci_spec::image::ImageConfiguration = serde_json::from_str(&image.config)
        .map_err(|e| ContainerError::Invalid(format!("image {} has a bad config: {e}", image.id)))?;
    let health = image_health(opts, &image.config)?;
    let layers = ctx.layer_store()?;
    let mut dirs: Vec<std::path::PathBuf> = image.layers.iter().rev().map(|l| layers.diff_dir(l)).collect();
    let base = ensure_base(&ctx.paths.storage())?;
    let cfg = config.config().clone().unwrap_or_default();
    // The spec only asks whether the network is the host's; the resolved mode is kept below.
    let net = plan_network(ctx, opts, &cfg)?;
    let names = network::NameOptions {
        hostname: "",
        name: "",
        add_hosts: &opts.add_hosts,
        dns: &opts.dns,
        dns_search: &opts.dns_search,
        dns_options: &opts.dns_options,
    };
    network::check_names(&names).map_err(|e| ContainerError::Invalid(e.to_string()))?;
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
    let plan = super::mounts::plan::plan(
        ctx,
        &conn,
        &super::mounts::plan::PlanInput {
            volumes: &opts.volumes,
            mounts: &opts.mounts,
            volumes_from: &opts.volumes_from,
            tmpfs: &opts.tmpfs,
            image_volumes: &cfg.volumes().clone().unwrap_or_default(),
            image_volume_mode: opts.image_volume.as_deref(),
            read_only: opts.read_only,
            read_only_tmpfs: opts.read_only_tmpfs,
        },
    )?;
    let user_mounts = plan.spec_mounts(ctx, &dir)?;
    // The image's files decide users and groups; the base only sits under them in the overlay.
    let image_dirs = dirs.clone();
    dirs.push(base);
    let mode = match vfs {
        true => crate::storage::overlay::OverlayMode::Native,
        false => crate::storage::overlay::detect(&ctx.paths.storage(), &ctx.idmap),
    };
    let mode_key = match mode {
        crate::storage::overlay::OverlayMode::Fuse => "fuse",
        _ => "native",
    };
    let users = super::users::UserDb::from_layers(&image_dirs)?;
    let cgroup = super::limits::setup(&ctx.paths, &ctx.idmap, &opts.limits, &id)?;
    let mut spec = spec::build(&SpecInput {
        opts,
        image: &config,
        id: &id,
        idmap: &ctx.idmap,
        layers: &dirs,
        users: &users,
        keep_id,
        ctr_dir: &dir,
        overlay_mode: mode_key,
        network: &net.mode,
        args: args.clone(),
        mounts: &user_mounts,
        cgroup: &cgroup,
    })?;
    let passwd_base = match keep_id {
        true => spec::keep_id_passwd(&users, &ctx.idmap),
        false => users.passwd.clone(),
    };
    let user_files = super::compat::UserFiles {
        passwd_entry: opts.passwd_entry.as_deref(),
        group_entry: opts.group_entry.as_deref(),
        hostusers: &opts.hostusers,
        tz: opts.tz.as_deref(),
    };
    let extra = super::compat::user_files(&user_files, &users, &passwd_base, &spec)?;
    extra.add_mounts(&mut spec, &dir)?;
    if vfs {
        vfs_root(&mut spec, &dir);
    }
    // The built-in network's tap device, made by PID 1 (an annotation runc ignores).
    if let Some((k, v)) = network::tap_annotation(&net.mode) {
        spec.annotations_mut().get_or_insert_with(Default::default).insert(k.to_string(), v);
    }
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
    // Volumes are made (and a new one filled from the image) under the shared volumes lock,
    // held to the record: no volume is removed under a container being made with it.
    let _volumes = crate::engine::volume::lock_shared(ctx)?;
    let made = plan.materialize(ctx, &image_dirs, super::mounts::storage_owner(&spec, &ctx.idmap)?)?;
    let _lock = ctx.store_lock_shared()?;
    store::resolve(&conn, &image.id)?;
    crate::state::paths::make_store_dir(&ctx.paths.containers()).map_err(crate::engine::ContextError::from)?;
    // Held until the record exists: a directory without a record and without this lock's
    // holder was left by a killed create, and the next listing sweeps it.
    crate::state::paths::make_private_dir(&ctx.paths.locks()).map_err(crate::engine::ContextError::from)?;
    let lock_path = super::prune::create_lock_path(ctx, &id);
    let creating = crate::state::lock::FileLock::exclusive(&lock_path)
        .map_err(|e| ContainerError::io("cannot lock", &lock_path, e))?;
    // Build in a temporary directory and rename: a killed create leaves no half container.
    let tmp = ctx.paths.containers().join(format!(".tmp-{id}"));
    std::fs::create_dir_all(&tmp).map_err(|e| ContainerError::io("cannot create", &tmp, e))?;
    let result = (|| {
        for d in ["diff", "work", "merged"] {
            std::fs::create_dir_all(tmp.join(d)).map_err(|e| ContainerError::io("cannot create", tmp.join(d), e))?;
        }
        plan.make_dirs(&tmp).map_err(|e| ContainerError::io("cannot create", tmp.join("ovl"), e))?;
        let hostname = spec.hostname().clone().unwrap_or_default();
        let names = network::NameOptions { hostname: &hostname, name: &name, ..names };
        write_userdata(ctx, &tmp, &id, &names, &net, &image.names.first().cloned().unwrap_or_default())?;
        if keep_id {
            // keep-id: the user exists inside under its own name, as Podman adds it.
            let p = tmp.join("userdata/passwd");
            std::fs::write(&p, spec::keep_id_passwd(&users, &ctx.idmap))
                .map_err(|e| ContainerError::io("cannot write", &p, e))?;
        }
        extra.write(&tmp.join("userdata"))?;
        if vfs {
            copy_layers(ctx, &dirs, &tmp.join("rootfs"))?;
        }
        spec.save(tmp.join("config.json"))
            .map_err(|e| ContainerError::Invalid(format!("cannot write config.json: {e}")))?;
        std::fs::rename(&tmp, &dir).map_err(|e| ContainerError::io("cannot create", &dir, e))
    })();
    if let Err(e) = result {
        let _ = std::fs::remove_dir_all(&tmp);
        let _ = std::fs::remove_file(&lock_path);
        super::mounts::plan::undo(ctx, &made);
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
        created: super::Stamp::now(),
        state: super::State::Created,
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
            network: net.mode.clone(),
            tty: opts.tty,
            interactive: opts.interactive,
            ports: net.ports.clone(),
            ip: net.addrs.as_ref().map(|a| a.ip),
            gateway: net.addrs.as_ref().map(|a| a.gateway),
            networks: net.networks.clone(),
            mounts: plan.kept(ctx, &user_mounts),
            builder: opts.builder,
            cgroup: cgroup.cgroups_path.clone(),
            oom_killed: false,
            log,
            requires,
            sdnotify,
            timeout: opts.timeout,
            cidfile: opts.cidfile.clone(),
            tz: opts.tz.clone(),
            restart: opts.restart,
            health,
            host: host_opts(opts),
            ..Default::default()
        },
    };
    let mut c = c;
    let mut attempt = 0;
    loop {
        match super::insert(&conn, &c) {
            Ok(()) => {
                let _ = std::fs::remove_file(&lock_path);
                drop(creating);
                return Ok(c);
            }
            // A generated name that is taken: generate another.
            Err(ContainerError::NameInUse(_)) if opts.name.is_none() && attempt < 20 => {
                attempt += 1;
                c.name = super::random_name(&super::new_id());
            }
            Err(e) => {
                let _ = crate::storage::layers::remove_paths(&ctx.idmap, &[dir]);
                let _ = std::fs::remove_file(&lock_path);
                super::mounts::plan::undo(ctx, &made);
                return Err(e);
            }
        }
    }
}

/// The options `inspect` shows as given.
fn host_opts(opts: &RunOptions) -> super::HostOpts {
    super::HostOpts {
        dns: opts.dns.clone(),
        dns_search: opts.dns_search.clone(),
        dns_options: opts.dns_options.clone(),
        extra_hosts: opts.add_hosts.clone(),
        group_add: opts.group_add.clone(),
        security_opt: opts.security_opt.clone(),
        volumes_from: opts.volumes_from.clone(),
        publish_all: opts.publish_all,
        privileged: opts.privileged,
        userns: opts.userns.clone(),
        cgroups: opts.limits.cgroups.map(|m| m.name().to_string()),
        cgroup_parent: opts.limits.cgroup_parent.clone(),
    }
}
