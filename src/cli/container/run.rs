//! `run` and `create`: their flags, the options they become, the container ID file, and
//! `run`'s start with Podman's exit codes.

use super::Exit;
use crate::engine::Context;
use crate::engine::container::create::{self, PullPolicy};
use crate::engine::container::spec::RunOptions;
use crate::engine::container::{self as ctr, ContainerError, lifecycle};
use crate::engine::image::platform::Platform;
use crate::engine::image::pull::PullOptions;
use clap::Args;
use std::io::IsTerminal;

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Assign a name to the container
    #[arg(long)]
    name: Option<String>,
    /// Set environment variables (KEY=VALUE, or KEY to copy it from this environment)
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Read environment variables from a file
    #[arg(long)]
    env_file: Vec<std::path::PathBuf>,
    /// Working directory inside the container
    #[arg(short, long)]
    workdir: Option<String>,
    /// Run as USER[:GROUP] (names or numbers)
    #[arg(short, long)]
    user: Option<String>,
    /// Override the image's entrypoint
    #[arg(long)]
    entrypoint: Option<String>,
    /// Container host name
    #[arg(long, short = 'h')]
    hostname: Option<String>,
    /// Remove the container when it exits
    #[arg(long)]
    rm: bool,
    /// Mount the root filesystem read-only
    #[arg(long)]
    read_only: bool,
    /// Network: pasta (the default when installed), slirp4netns, none, host, container:NAME, or
    /// the name of a user-defined network (`kiste network create`)
    #[arg(long, alias = "net", default_value = "")]
    network: String,
    /// Another name for the container on its user-defined network
    #[arg(long = "network-alias", alias = "net-alias")]
    network_alias: Vec<String>,
    /// A fixed IPv4 address on the user-defined network
    #[arg(long)]
    ip: Option<String>,
    /// Publish a port: [HOSTIP:][HOSTPORT:]PORT[/tcp|/udp], ranges as 8080-8081:80-81
    #[arg(short, long)]
    publish: Vec<String>,
    /// Publish every exposed port (image EXPOSE and --expose) to a free host port
    #[arg(short = 'P', long)]
    publish_all: bool,
    /// Expose a port (or range) for -P: PORT[/PROTO]
    #[arg(long)]
    expose: Vec<String>,
    /// DNS server for the container's /etc/resolv.conf (instead of the host's)
    #[arg(long)]
    dns: Vec<String>,
    /// DNS search domain
    #[arg(long)]
    dns_search: Vec<String>,
    /// DNS resolver option
    #[arg(long)]
    dns_option: Vec<String>,
    /// Add NAME:IP to the container's /etc/hosts (IP may be host-gateway)
    #[arg(long)]
    add_host: Vec<String>,
    /// Keep the image's /etc/hosts instead of kiste's
    #[arg(long)]
    no_hosts: bool,
    /// Add a label KEY=VALUE
    #[arg(short, long)]
    label: Vec<String>,
    /// Signal that stops the container
    #[arg(long)]
    stop_signal: Option<String>,
    /// Seconds to wait before killing the container on stop
    #[arg(long)]
    stop_timeout: Option<u64>,
    /// Replace an existing container of the same name
    #[arg(long)]
    replace: bool,
    /// Give the container all capabilities (as rootless Podman means it)
    #[arg(long)]
    privileged: bool,
    /// Add capabilities
    #[arg(long)]
    cap_add: Vec<String>,
    /// Drop capabilities
    #[arg(long)]
    cap_drop: Vec<String>,
    /// Pull policy: missing, always, newer, never
    #[arg(long, default_value = "missing")]
    pull: PullPolicy,
    /// Keep stdin open (accepted; stdin is passed to attached containers)
    #[arg(short, long)]
    interactive: bool,
    /// Allocate a pseudo-terminal for the container
    #[arg(short, long)]
    tty: bool,
    /// Require HTTPS and verify certificates when pulling
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    tls_verify: Option<bool>,
    /// Add the process to more groups (names from the image's /etc/group, or numbers)
    #[arg(long)]
    group_add: Vec<String>,
    /// Add an annotation KEY=VALUE to the container's runtime spec
    #[arg(long)]
    annotation: Vec<String>,
    /// Resource limit NAME=SOFT[:HARD] (nofile, nproc, core, stack, ...; -1 for unlimited)
    #[arg(long)]
    ulimit: Vec<String>,
    /// Set a kernel setting of the container's namespaces, KEY=VALUE (net.*, kernel.shm*, ...)
    #[arg(long)]
    sysctl: Vec<String>,
    /// The container's NIS domain name
    #[arg(long)]
    domainname: Option<String>,
    /// Mount a tmpfs at PATH[:OPTIONS]
    #[arg(long)]
    tmpfs: Vec<String>,
    /// Size of /dev/shm (e.g. 64m, 1g)
    #[arg(long)]
    shm_size: Option<String>,
    /// Run a tiny init as PID 1 that forwards signals and reaps zombies
    #[arg(long)]
    init: bool,
    /// Security options: no-new-privileges, seccomp=unconfined, seccomp=PROFILE.json
    #[arg(long)]
    security_opt: Vec<String>,
    /// Write the container ID to this file
    #[arg(long)]
    cidfile: Option<std::path::PathBuf>,
    /// User namespace: keep-id (your uid and gid keep their numbers inside), or host
    #[arg(long)]
    userns: Option<String>,
    /// Mount a volume or host path: [SOURCE:]CONTAINER-PATH[:OPTIONS] (ro, rw, z, Z, U, O, copy, nocopy, [r]bind, propagation, [no]suid|dev|exec)
    #[arg(short = 'v', long = "volume")]
    volume: Vec<String>,
    /// Mount: type=bind|volume|tmpfs|image,source=...,destination=...[,ro][,bind-propagation=...][,tmpfs-size=...][,tmpfs-mode=...][,U]
    #[arg(long)]
    mount: Vec<String>,
    /// Mount the volumes (and bind mounts) of another container: CONTAINER[:ro|rw]
    #[arg(long)]
    volumes_from: Vec<String>,
    /// How the image's VOLUMEs are mounted: bind (anonymous volumes), tmpfs or ignore
    #[arg(long)]
    image_volume: Option<String>,
    /// With --read-only, mount tmpfs on /run, /tmp and /var/tmp
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    read_only_tmpfs: bool,
    // Resource limits and cgroups (engine/container/limits.rs checks them).
    #[command(flatten)]
    limit: super::limits::LimitFlags,
    /// Accepted and ignored (no longer supported by the kernel)
    #[arg(long, hide = true)]
    kernel_memory: Option<String>,
    /// Do not let the kernel's OOM killer kill the container's processes (cgroup v1)
    #[arg(long)]
    oom_kill_disable: bool,
    /// The container's OOM score adjustment (-1000 to 1000; unprivileged users may only raise it)
    #[arg(long, allow_hyphen_values = true)]
    oom_score_adj: Option<String>,
    /// Cgroups of the container: enabled, disabled, no-conmon, split
    #[arg(long)]
    cgroups: Option<String>,
    /// The (delegated) cgroup to create the container's cgroup in, or a systemd slice
    #[arg(long)]
    cgroup_parent: Option<String>,
    /// Cgroup namespace: host or private
    #[arg(long)]
    cgroupns: Option<String>,
    // Podman-compatibility options (`compat_options`).
    /// Attach to the container's STDIN, STDOUT or STDERR only (repeatable)
    #[arg(short = 'a', long)]
    attach: Vec<String>,
    /// Seconds the container may run before it is killed (0: no limit)
    #[arg(long)]
    timeout: Option<u64>,
    /// Do not show the progress of a pull
    #[arg(short = 'q', long)]
    quiet: bool,
    /// Time zone: local, or a zone such as Europe/Berlin
    #[arg(long)]
    tz: Option<String>,
    /// The umask of the container's processes (octal, default 0022)
    #[arg(long)]
    umask: Option<String>,
    /// Pass kiste's whole environment to the container
    #[arg(long)]
    env_host: bool,
    /// Pass the host's proxy variables (http_proxy, https_proxy, ...; default true)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    http_proxy: Option<bool>,
    /// /etc/passwd entry added when the image lacks the user ($USERNAME, $UID, $GID, $NAME, $HOME)
    #[arg(long)]
    passwd_entry: Option<String>,
    /// /etc/group entry added when the image lacks the group ($GROUPNAME, $GID, $USERNAME)
    #[arg(long)]
    group_entry: Option<String>,
    /// Add a host user's /etc/passwd entry (a name or UID)
    #[arg(long)]
    hostuser: Vec<String>,
    /// Log driver: k8s-file (the default), json-file, none, passthrough
    #[arg(long)]
    log_driver: Option<String>,
    /// Log option: path=FILE, max-size=SIZE, tag=TAG
    #[arg(long)]
    log_opt: Vec<String>,
    /// Containers to start before this one (names or IDs, comma-separated)
    #[arg(long)]
    requires: Vec<String>,
    /// How systemd learns the container is ready: container, conmon, healthy, ignore
    #[arg(long)]
    sdnotify: Option<String>,
    // Health checks (engine/container/health.rs checks them) and the restart policy.
    /// Health check command: a string run by /bin/sh -c, or a JSON array ('["CMD", "/check"]'); none disables
    #[arg(long)]
    health_cmd: Option<String>,
    /// Time between health checks (e.g. 30s; disable: only `healthcheck run`)
    #[arg(long)]
    health_interval: Option<String>,
    /// Failed checks in a row that make the container unhealthy
    #[arg(long)]
    health_retries: Option<String>,
    /// Time after the start in which failed checks do not count
    #[arg(long)]
    health_start_period: Option<String>,
    /// Time between health checks during the start period
    #[arg(long)]
    health_start_interval: Option<String>,
    /// Longest time a check may take
    #[arg(long)]
    health_timeout: Option<String>,
    /// What happens when the container turns unhealthy: none, kill, restart, stop
    #[arg(long)]
    health_on_failure: Option<String>,
    /// Disable the image's health check
    #[arg(long)]
    no_healthcheck: bool,
    /// Restart policy: no, on-failure[:N], always, unless-stopped
    #[arg(long)]
    restart: Option<String>,
    /// Print help (-h is --hostname, as in Podman)
    #[arg(long, action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Image to run
    image: String,
    /// Command and arguments (default: the image's)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RunArgs {
    /// Run in the background and print the container ID
    #[arg(short, long)]
    detach: bool,
    /// Key sequence that detaches from a terminal (default ctrl-p,ctrl-q)
    #[arg(long)]
    detach_keys: Option<String>,
    #[command(flatten)]
    create: CreateArgs,
}

fn env_list(a: &CreateArgs) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    for f in &a.env_file {
        let text =
            std::fs::read_to_string(f).map_err(|e| anyhow::anyhow!("cannot read env file {}: {e}", f.display()))?;
        for l in text.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')) {
            out.push(expand_env(l));
        }
    }
    out.extend(a.env.iter().map(|e| expand_env(e)));
    Ok(out.into_iter().flatten().collect())
}

/// `KEY=VALUE` as is; `KEY` takes its value from our environment (dropped when unset).
pub(super) fn expand_env(e: &str) -> Option<String> {
    if e.contains('=') { Some(e.to_string()) } else { std::env::var(e).ok().map(|v| format!("{e}={v}")) }
}

pub(super) fn do_create(ctx: &Context, a: CreateArgs) -> anyhow::Result<ctr::Container> {
    let opts = RunOptions {
        name: a.name.clone(),
        image: crate::engine::image::reference::without_transport(&a.image)?.to_string(),
        command: a.command.clone(),
        entrypoint: a.entrypoint.clone(),
        env: env_list(&a)?,
        workdir: a.workdir.clone(),
        user: a.user.clone(),
        hostname: a.hostname.clone(),
        rm: a.rm,
        read_only: a.read_only,
        network: a.network.clone(),
        network_aliases: a.network_alias.clone(),
        ip: a.ip.clone(),
        publish: a.publish.clone(),
        publish_all: a.publish_all,
        expose: a.expose.clone(),
        dns: a.dns.clone(),
        dns_search: a.dns_search.clone(),
        dns_options: a.dns_option.clone(),
        add_hosts: a.add_host.clone(),
        no_hosts: a.no_hosts,
        labels: a.label.clone(),
        stop_signal: a.stop_signal.clone(),
        stop_timeout: a.stop_timeout,
        replace: a.replace,
        privileged: a.privileged,
        cap_add: a.cap_add.clone(),
        cap_drop: a.cap_drop.clone(),
        tty: a.tty,
        interactive: a.interactive,
        group_add: a.group_add.clone(),
        annotations: a.annotation.clone(),
        ulimits: a.ulimit.clone(),
        sysctls: a.sysctl.clone(),
        domainname: a.domainname.clone(),
        tmpfs: a.tmpfs.clone(),
        shm_size: a.shm_size.clone(),
        init: a.init,
        security_opt: a.security_opt.clone(),
        userns: a.userns.clone(),
        volumes: a.volume.clone(),
        mounts: a.mount.clone(),
        volumes_from: a.volumes_from.clone(),
        image_volume: a.image_volume.clone(),
        read_only_tmpfs: a.read_only_tmpfs,
        limits: limit_options(&a)?,
        health: ctr::health::HealthArgs {
            cmd: a.health_cmd.clone(),
            interval: a.health_interval.clone(),
            retries: a.health_retries.clone(),
            start_period: a.health_start_period.clone(),
            start_interval: a.health_start_interval.clone(),
            timeout: a.health_timeout.clone(),
            on_failure: a.health_on_failure.clone(),
            disable: a.no_healthcheck,
        },
        restart: a.restart.as_deref().map(ctr::restart::RestartPolicy::parse).transpose()?.unwrap_or_default(),
        ..Default::default()
    };
    let opts = compat_options(&a, opts);
    if let Some(f) = &a.cidfile
        && f.exists()
    {
        anyhow::bail!("container id file {} exists; make sure no other container uses it, or delete it", f.display());
    }
    let pull = PullOptions {
        platform: Platform::host(),
        tls_verify: a.tls_verify,
        creds: None,
        authfile: None,
        progress: std::io::stderr().is_terminal() && !a.quiet,
    };
    let c = create::create(ctx, &opts, a.pull, &pull)?;
    if let Some(f) = &a.cidfile {
        // Created exclusively: a racing run with the same file loses and removes its container.
        // A file we created but could not fill is removed too, or the next run would refuse.
        let written = match std::fs::OpenOptions::new().write(true).create_new(true).open(f) {
            Ok(mut file) => std::io::Write::write_all(&mut file, c.id.as_bytes()).inspect_err(|_| {
                let _ = std::fs::remove_file(f);
            }),
            Err(e) => Err(e),
        };
        if let Err(e) = written {
            let undone = match lifecycle::remove(ctx, &c.id, true) {
                Ok(_) => String::new(),
                Err(r) => format!(" (and container {} could not be removed: {r})", c.name),
            };
            anyhow::bail!("cannot write the container id file {}: {e}{undone}", f.display());
        }
    }
    Ok(c)
}

/// The Podman-compatibility flags (engine/container/compat.rs checks them at create).
fn compat_options(a: &CreateArgs, o: RunOptions) -> RunOptions {
    RunOptions {
        tz: a.tz.clone(),
        umask: a.umask.clone(),
        env_host: a.env_host,
        http_proxy: a.http_proxy,
        passwd_entry: a.passwd_entry.clone(),
        group_entry: a.group_entry.clone(),
        hostusers: a.hostuser.clone(),
        log_driver: a.log_driver.clone(),
        log_opts: a.log_opt.clone(),
        requires: a.requires.clone(),
        sdnotify: a.sdnotify.clone(),
        timeout: a.timeout.filter(|t| *t > 0),
        cidfile: a.cidfile.as_ref().map(|f| f.display().to_string()),
        ..o
    }
}

/// The limit flags, checked (warnings for accepted but ignored ones are shown here).
fn limit_options(a: &CreateArgs) -> Result<ctr::limits::Limits, ContainerError> {
    let args = ctr::limits::LimitArgs {
        kernel_memory: a.kernel_memory.clone(),
        oom_kill_disable: a.oom_kill_disable,
        oom_score_adj: a.oom_score_adj.clone(),
        cgroups: a.cgroups.clone(),
        cgroup_parent: a.cgroup_parent.clone(),
        cgroupns: a.cgroupns.clone(),
        ..a.limit.args()
    };
    let (limits, warnings) = ctr::limits::Limits::parse(&args)?;
    for w in warnings {
        crate::util::print_warning(w);
    }
    Ok(limits)
}

/// Maps "the command could not run" to Podman's exit codes.
pub(super) fn exec_exit(e: ContainerError) -> anyhow::Error {
    match e {
        ContainerError::Exec { code, message } => {
            crate::util::print_error(&message);
            Exit(code).into()
        }
        e => e.into(),
    }
}

pub(super) fn run(a: RunArgs) -> anyhow::Result<()> {
    if a.detach && !a.create.attach.is_empty() {
        anyhow::bail!("--attach and --detach cannot be used together; drop one of them");
    }
    let streams = lifecycle::Streams::parse(&a.create.attach)?;
    let ctx = Context::new()?;
    let keys = super::exec::detach_keys(a.detach_keys.as_deref())?;
    let c = do_create(&ctx, a.create)?;
    let code = lifecycle::start_with(&ctx, &c, !a.detach, &keys, streams).map_err(exec_exit)?;
    if a.detach {
        println!("{}", c.id);
        return Ok(());
    }
    if code == 0 { Ok(()) } else { Err(Exit(code).into()) }
}
