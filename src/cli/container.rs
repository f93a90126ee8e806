//! `run`, `create`, `start`, `ps`, `logs`, `stop`, `kill`, `rm`, `wait` and the `container ...`
//! group: flags, then engine calls, then output. No engine logic here.

use super::{Exit, output};
use crate::engine::Context;
use crate::engine::container::create::{self, PullPolicy};
use crate::engine::container::spec::RunOptions;
use crate::engine::container::{self as ctr, ContainerError, lifecycle};
use crate::engine::image::platform::Platform;
use crate::engine::image::pull::PullOptions;
use crate::monitor::logfile::Record;
use clap::{Args, Subcommand};
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
    // Resource limits and cgroups (engine/container/limits.rs checks them).
    /// Memory limit (e.g. 512m, 1g; at least 6m)
    #[arg(short = 'm', long)]
    memory: Option<String>,
    /// Memory plus swap limit (-1: unlimited swap; default twice --memory)
    #[arg(long)]
    memory_swap: Option<String>,
    /// Memory soft limit
    #[arg(long)]
    memory_reservation: Option<String>,
    /// How readily the container's memory is swapped (0 to 100, -1 for the system default)
    #[arg(long, allow_hyphen_values = true)]
    memory_swappiness: Option<String>,
    /// Accepted and ignored (no longer supported by the kernel)
    #[arg(long, hide = true)]
    kernel_memory: Option<String>,
    /// Number of CPUs (e.g. 0.5, 2)
    #[arg(long, allow_hyphen_values = true)]
    cpus: Option<String>,
    /// CPU shares (relative weight; 1024 is the default)
    #[arg(short = 'c', long)]
    cpu_shares: Option<String>,
    /// CPU CFS quota in microseconds per period (-1: none)
    #[arg(long, allow_hyphen_values = true)]
    cpu_quota: Option<String>,
    /// CPU CFS period in microseconds
    #[arg(long)]
    cpu_period: Option<String>,
    /// CPUs the container may run on (0-3, 0,1)
    #[arg(long)]
    cpuset_cpus: Option<String>,
    /// Memory nodes the container may use (0-3, 0,1)
    #[arg(long)]
    cpuset_mems: Option<String>,
    /// Maximum number of processes (-1: unlimited; default 2048 where it can be applied)
    #[arg(long, allow_hyphen_values = true)]
    pids_limit: Option<String>,
    /// Block IO weight (10 to 1000)
    #[arg(long)]
    blkio_weight: Option<String>,
    /// Limit reads from a device (DEVICE:RATE, e.g. /dev/sda:1mb)
    #[arg(long)]
    device_read_bps: Vec<String>,
    /// Limit writes to a device (DEVICE:RATE)
    #[arg(long)]
    device_write_bps: Vec<String>,
    /// Limit read operations per second on a device (DEVICE:IOPS)
    #[arg(long)]
    device_read_iops: Vec<String>,
    /// Limit write operations per second on a device (DEVICE:IOPS)
    #[arg(long)]
    device_write_iops: Vec<String>,
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

#[derive(Args, Debug)]
pub struct PsArgs {
    /// Show all containers, not only running ones
    #[arg(short, long)]
    all: bool,
    /// Show only container IDs
    #[arg(short, long)]
    quiet: bool,
    /// Show the latest container
    #[arg(short, long)]
    latest: bool,
    /// Show the last N containers
    #[arg(short = 'n', long)]
    last: Option<usize>,
    /// Do not truncate IDs and commands
    #[arg(long)]
    no_trunc: bool,
    /// Filter: name=, status=, label=, ancestor=, id=
    #[arg(short, long)]
    filter: Vec<String>,
    /// Output format: json, or a Go template
    #[arg(long)]
    format: Option<String>,
}

#[derive(Args, Debug)]
pub struct NamesArgs {
    /// Containers (names or IDs)
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct StopArgs {
    /// Seconds to wait before killing the container
    #[arg(short, long)]
    time: Option<u64>,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct KillArgs {
    /// Signal to send
    #[arg(short, long, default_value = "KILL")]
    signal: String,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct RmArgs {
    /// Stop running containers first
    #[arg(short, long)]
    force: bool,
    /// Remove all containers
    #[arg(short, long)]
    all: bool,
    /// Remove anonymous volumes (none exist yet)
    #[arg(short, long)]
    volumes: bool,
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LogsArgs {
    /// Keep following the output
    #[arg(short, long)]
    follow: bool,
    /// Show only the last N lines
    #[arg(long)]
    tail: Option<usize>,
    /// Show the time of each line
    #[arg(short, long)]
    timestamps: bool,
    /// Show lines written since a time, Unix seconds, or a duration before now (10m)
    #[arg(long)]
    since: Option<String>,
    /// Show lines written until a time, Unix seconds, or a duration before now
    #[arg(long)]
    until: Option<String>,
    container: String,
}

#[derive(Args, Debug)]
pub struct StartArgs {
    /// Attach to the container's output and return its exit code
    #[arg(short, long)]
    attach: bool,
    /// Accepted for Podman's sake: stdin is attached when the container was created with -i
    #[arg(short, long)]
    interactive: bool,
    /// Key sequence that detaches from a terminal (default ctrl-p,ctrl-q)
    #[arg(long)]
    detach_keys: Option<String>,
    #[arg(required = true)]
    containers: Vec<String>,
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// Run in the background
    #[arg(short, long)]
    detach: bool,
    /// Keep stdin open
    #[arg(short, long)]
    interactive: bool,
    /// Allocate a pseudo-terminal
    #[arg(short, long)]
    tty: bool,
    /// Set environment variables
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Run as USER[:GROUP]
    #[arg(short, long)]
    user: Option<String>,
    /// Working directory
    #[arg(short, long)]
    workdir: Option<String>,
    container: String,
    /// Command and arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Subcommand, Debug)]
pub enum TopLevel {
    /// Run a process in a running container
    Exec(ExecArgs),
    /// Run a command in a new container
    Run(RunArgs),
    /// Create a container without starting it
    Create(CreateArgs),
    /// Start created or stopped containers
    Start(StartArgs),
    /// List containers
    Ps(PsArgs),
    /// Show a container's output
    Logs(LogsArgs),
    /// Stop containers (stop signal, then SIGKILL after the timeout)
    Stop(StopArgs),
    /// Send a signal to containers
    Kill(KillArgs),
    /// Remove containers
    Rm(RmArgs),
    /// Wait for containers to exit and print their exit codes
    Wait(NamesArgs),
    /// Stop and start containers again
    Restart(StopArgs),
    /// Give a container a new name
    Rename { container: String, name: String },
    /// Show the processes of a running container
    Top { container: String },
    /// Show a container's published ports (all, or where PORT[/PROTO] is published)
    Port { container: String, port: Option<String> },
    /// Attach to a running container's input and output
    Attach(AttachArgs),
}

#[derive(Args, Debug)]
pub struct AttachArgs {
    /// Do not attach stdin
    #[arg(long)]
    no_stdin: bool,
    /// Forward received signals to the container (non-terminal containers)
    #[arg(long, default_value_t = true, num_args = 0..=1, default_missing_value = "true", require_equals = true, action = clap::ArgAction::Set)]
    sig_proxy: bool,
    /// Key sequence that detaches (default ctrl-p,ctrl-q)
    #[arg(long)]
    detach_keys: Option<String>,
    container: String,
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum ContainerCommand {
    #[command(flatten)]
    Top(TopLevel),
    /// List containers
    #[command(name = "list", alias = "ls")]
    List(PsArgs),
    /// Check whether a container exists (exit 0) or not (exit 1)
    Exists { container: String },
    /// Show a container's configuration and state (JSON, Podman's keys)
    Inspect(super::image::InspectArgs),
    /// Remove all containers that are not running
    Prune(PruneArgs),
}

#[derive(Args, Debug)]
pub struct PruneArgs {
    /// Do not ask for confirmation
    #[arg(short, long)]
    force: bool,
    /// Only some containers: until=TIME (10m, Unix seconds, 2006-01-02), label=KEY[=VALUE], label!=KEY[=VALUE]
    #[arg(long)]
    filter: Vec<String>,
}

pub fn run_top(c: TopLevel) -> anyhow::Result<()> {
    match c {
        TopLevel::Run(a) => run(a),
        TopLevel::Exec(a) => exec(a),
        TopLevel::Create(a) => {
            let ctx = Context::new()?;
            let c = do_create(&ctx, a)?;
            println!("{}", c.id);
            Ok(())
        }
        TopLevel::Start(a) => start(a),
        TopLevel::Ps(a) => ps(a),
        TopLevel::Logs(a) => logs(a),
        TopLevel::Stop(a) => each(&a.containers, |ctx, n| lifecycle::stop(ctx, n, a.time)),
        TopLevel::Kill(a) => {
            let sig = ctr::parse_signal(&a.signal)?;
            each(&a.containers, |ctx, n| lifecycle::kill(ctx, n, sig))
        }
        TopLevel::Rm(a) => rm(a),
        TopLevel::Restart(a) => each(&a.containers, |ctx, n| lifecycle::restart(ctx, n, a.time)),
        TopLevel::Rename { container, name } => {
            let ctx = Context::new()?;
            Ok(lifecycle::rename(&ctx, &container, &name)?)
        }
        TopLevel::Top { container } => top(&container),
        TopLevel::Port { container, port } => ports(&container, port.as_deref()),
        TopLevel::Attach(a) => attach(a),
        TopLevel::Wait(a) => {
            let ctx = Context::new()?;
            for n in &a.containers {
                println!("{}", lifecycle::wait(&ctx, n)?);
            }
            Ok(())
        }
    }
}

pub fn run_group(c: ContainerCommand) -> anyhow::Result<()> {
    match c {
        ContainerCommand::Top(t) => run_top(t),
        ContainerCommand::List(a) => ps(a),
        ContainerCommand::Inspect(mut a) => {
            a.kind = "container".into();
            super::image::inspect(a)
        }
        ContainerCommand::Prune(a) => prune(a),
        ContainerCommand::Exists { container } => {
            let ctx = Context::new()?;
            match ctr::resolve(&ctx.db()?, &container) {
                Ok(_) => Ok(()),
                Err(ContainerError::NotFound(_)) => Err(Exit(1).into()),
                Err(e) => Err(e.into()),
            }
        }
    }
}

/// Runs `f` on each named container, printing the name as Podman does.
fn each(names: &[String], f: impl Fn(&Context, &str) -> Result<(), ContainerError>) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    for n in names {
        f(&ctx, n)?;
        println!("{n}");
    }
    Ok(())
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
fn expand_env(e: &str) -> Option<String> {
    if e.contains('=') { Some(e.to_string()) } else { std::env::var(e).ok().map(|v| format!("{e}={v}")) }
}

fn do_create(ctx: &Context, a: CreateArgs) -> anyhow::Result<ctr::Container> {
    let opts = RunOptions {
        name: a.name.clone(),
        image: a.image.clone(),
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
        tmpfs: a.tmpfs.clone(),
        shm_size: a.shm_size.clone(),
        init: a.init,
        security_opt: a.security_opt.clone(),
        userns: a.userns.clone(),
        limits: limit_options(&a)?,
    };
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
        progress: std::io::stderr().is_terminal(),
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

/// The limit flags, checked (warnings for accepted but ignored ones are shown here).
fn limit_options(a: &CreateArgs) -> Result<ctr::limits::Limits, ContainerError> {
    let args = ctr::limits::LimitArgs {
        memory: a.memory.clone(),
        memory_swap: a.memory_swap.clone(),
        memory_reservation: a.memory_reservation.clone(),
        memory_swappiness: a.memory_swappiness.clone(),
        kernel_memory: a.kernel_memory.clone(),
        cpus: a.cpus.clone(),
        cpu_shares: a.cpu_shares.clone(),
        cpu_quota: a.cpu_quota.clone(),
        cpu_period: a.cpu_period.clone(),
        cpuset_cpus: a.cpuset_cpus.clone(),
        cpuset_mems: a.cpuset_mems.clone(),
        pids_limit: a.pids_limit.clone(),
        blkio_weight: a.blkio_weight.clone(),
        device_read_bps: a.device_read_bps.clone(),
        device_write_bps: a.device_write_bps.clone(),
        device_read_iops: a.device_read_iops.clone(),
        device_write_iops: a.device_write_iops.clone(),
        oom_kill_disable: a.oom_kill_disable,
        oom_score_adj: a.oom_score_adj.clone(),
        cgroups: a.cgroups.clone(),
        cgroup_parent: a.cgroup_parent.clone(),
        cgroupns: a.cgroupns.clone(),
    };
    let (limits, warnings) = ctr::limits::Limits::parse(&args)?;
    for w in warnings {
        eprintln!("kiste: warning: {w}");
    }
    Ok(limits)
}

/// Maps "the command could not run" to Podman's exit codes.
fn exec_exit(e: ContainerError) -> anyhow::Error {
    match e {
        ContainerError::Exec { code, message } => {
            eprintln!("kiste: {message}");
            Exit(code).into()
        }
        e => e.into(),
    }
}

fn run(a: RunArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let keys = detach_keys(a.detach_keys.as_deref())?;
    let c = do_create(&ctx, a.create)?;
    let code = lifecycle::start(&ctx, &c, !a.detach, &keys).map_err(exec_exit)?;
    if a.detach {
        println!("{}", c.id);
        return Ok(());
    }
    if code == 0 { Ok(()) } else { Err(Exit(code).into()) }
}

fn exec(a: ExecArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let opts = lifecycle::ExecOptions {
        args: a.command,
        env: a.env.iter().filter_map(|e| expand_env(e)).collect(),
        workdir: a.workdir,
        user: a.user,
        detach: a.detach,
        tty: a.tty,
        interactive: a.interactive,
    };
    let code = lifecycle::exec(&ctx, &a.container, &opts)?;
    if code == 0 { Ok(()) } else { Err(Exit(code).into()) }
}

fn start(a: StartArgs) -> anyhow::Result<()> {
    if a.attach && a.containers.len() > 1 {
        anyhow::bail!("you cannot start and attach to more than one container at once; start them one by one");
    }
    let keys = detach_keys(a.detach_keys.as_deref())?;
    let ctx = Context::new()?;
    let conn = ctx.db()?;
    for n in &a.containers {
        let c = ctr::resolve(&conn, n)?;
        let code = lifecycle::start(&ctx, &c, a.attach, &keys).map_err(exec_exit)?;
        if a.attach {
            return if code == 0 { Ok(()) } else { Err(Exit(code).into()) };
        }
        println!("{n}");
    }
    Ok(())
}

fn status(c: &ctr::Container) -> String {
    let ago = |t: Option<i64>| {
        t.and_then(|t| chrono::DateTime::from_timestamp(t, 0)).map(crate::util::human_age).unwrap_or_default()
    };
    match c.state.as_str() {
        "running" => format!("Up {}", ago(c.started_at).trim_end_matches(" ago")),
        "exited" => format!("Exited ({}) {}", c.exit_code.unwrap_or(0), ago(c.finished_at)),
        "created" => "Created".into(),
        s => s.to_string(),
    }
}

fn matches(c: &ctr::Container, filter: &str) -> anyhow::Result<bool> {
    let (k, v) = filter.split_once('=').ok_or_else(|| anyhow::anyhow!("invalid filter \"{filter}\": use KEY=VALUE"))?;
    Ok(match k {
        "name" => c.name.contains(v),
        "id" => c.id.starts_with(v),
        "status" => c.state == v,
        "ancestor" => c.image_name.contains(v) || c.image_id.contains(v),
        "label" => c.has_label(v),
        _ => anyhow::bail!("invalid filter \"{k}\": use name, id, status, label or ancestor"),
    })
}

fn ps_json(c: &ctr::Container) -> serde_json::Value {
    serde_json::json!({
        "Id": c.id,
        "Names": [c.name],
        "Image": c.image_name,
        "ImageID": crate::util::digest_hex(&c.image_id),
        "Command": c.command,
        "Created": c.created,
        "State": c.state,
        "Status": status(c),
        "Pid": c.pid.unwrap_or(0),
        "ExitCode": c.exit_code.unwrap_or(0),
        "Exited": c.state == "exited",
        "StartedAt": c.started_at.unwrap_or(0),
        "ExitedAt": c.finished_at.unwrap_or(0),
        "Labels": c.kept.labels,
        "Ports": c.kept.ports.iter().map(|m| serde_json::json!({
            "host_ip": m.host_ip, "container_port": m.container_port, "host_port": m.host_port,
            "range": 1, "protocol": m.proto,
        })).collect::<Vec<_>>(),
    })
}

/// What a `ps --format` template sees: the JSON keys, with the table's text where Podman's
/// and Docker's templates give text (`{{.Names}}` is `web`, not `[web]`).
fn ps_template(c: &ctr::Container, id: String) -> serde_json::Value {
    let mut v = ps_json(c);
    let created = chrono::DateTime::from_timestamp(c.created, 0).unwrap_or_default();
    let networks: Vec<&str> = match c.kept.networks.is_empty() {
        true => vec![c.kept.network.as_str()],
        false => c.kept.networks.iter().map(|n| n.name.as_str()).collect(),
    };
    let text = serde_json::json!({
        "ID": id,
        "Names": c.name,
        "Command": c.command.join(" "),
        "CreatedAt": created.format("%Y-%m-%d %H:%M:%S %z %Z").to_string(),
        "CreatedHuman": crate::util::human_age(created),
        "RunningFor": crate::util::human_age(created),
        "Ports": c.kept.ports.iter().map(|m| m.display()).collect::<Vec<_>>().join(", "),
        "Networks": networks.join(","),
    });
    if let (Some(v), serde_json::Value::Object(t)) = (v.as_object_mut(), text) {
        v.extend(t);
    }
    v
}

/// `port CTR [PORT[/PROTO]]`: `80/tcp -> 0.0.0.0:8080` per published port, or the host
/// addresses of one container port.
fn ports(name: &str, port: Option<&str>) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let c = ctr::resolve(&ctx.db()?, name)?;
    let Some(p) = port else {
        for m in &c.kept.ports {
            println!("{}/{} -> {}:{}", m.container_port, m.proto, m.shown_ip(), m.host_port);
        }
        return Ok(());
    };
    let found = crate::engine::network::ports::published(&c.kept.ports, p)?;
    if found.is_empty() {
        anyhow::bail!("container {} does not publish port {p}", c.name);
    }
    for m in found {
        println!("{}:{}", m.shown_ip(), m.host_port);
    }
    Ok(())
}

fn ps(a: PsArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let conn = ctx.db()?;
    let list = ctr::list_reconciled(&ctx, &conn)?;
    let limit = if a.latest { Some(1) } else { a.last };
    let all = a.all || limit.is_some();
    let mut shown = Vec::new();
    for c in list {
        if !all && !c.is_running() {
            continue;
        }
        let mut ok = true;
        for f in &a.filter {
            ok &= matches(&c, f)?;
        }
        if ok {
            shown.push(c);
        }
    }
    if let Some(n) = limit {
        shown.truncate(n);
    }
    if output::is_json(a.format.as_deref()) {
        return Ok(output::json(&serde_json::Value::Array(shown.iter().map(ps_json).collect()))?);
    }
    let id = |c: &ctr::Container| if a.no_trunc { c.id.clone() } else { c.id[..12].to_string() };
    if let Some(t) = &a.format {
        return output::templated(t, &shown.iter().map(|c| ps_template(c, id(c))).collect::<Vec<_>>());
    }
    if a.quiet {
        for c in &shown {
            println!("{}", id(c));
        }
        return Ok(());
    }
    let rows: Vec<Vec<String>> = shown
        .iter()
        .map(|c| {
            let mut cmd = c.command.join(" ");
            if !a.no_trunc && cmd.chars().count() > 20 {
                cmd = cmd.chars().take(17).collect::<String>() + "...";
            }
            let created =
                chrono::DateTime::from_timestamp(c.created, 0).map(crate::util::human_age).unwrap_or_default();
            let ports = c.kept.ports.iter().map(|m| m.display()).collect::<Vec<_>>().join(", ");
            vec![id(c), c.image_name.clone(), cmd, created, status(c), ports, c.name.clone()]
        })
        .collect();
    Ok(output::table(&["CONTAINER ID", "IMAGE", "COMMAND", "CREATED", "STATUS", "PORTS", "NAMES"], &rows)?)
}

fn rm(a: RmArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let names: Vec<String> = if a.all {
        ctr::list(&ctx.db()?)?.into_iter().map(|c| c.id).collect()
    } else {
        if a.containers.is_empty() {
            anyhow::bail!("give at least one container name or ID, or --all");
        }
        a.containers.clone()
    };
    let mut failed = None;
    for n in &names {
        match lifecycle::remove(&ctx, n, a.force) {
            Ok(c) => println!("{}", if a.all { c.id } else { n.clone() }),
            Err(e) => {
                eprintln!("kiste: {e}");
                failed = Some(e);
            }
        }
    }
    match failed {
        Some(_) => Err(Exit(125).into()),
        None => Ok(()),
    }
}

fn prune(a: PruneArgs) -> anyhow::Result<()> {
    use crate::engine::container::prune::{self, PruneFilter};
    let now = crate::state::db::now();
    let filters = a.filter.iter().map(|f| PruneFilter::parse(f, now)).collect::<Result<Vec<_>, _>>()?;
    if !a.force
        && !super::confirm(
            "WARNING! This will remove all non running containers.\nAre you sure you want to continue? [y/N] ",
        )?
    {
        return Ok(());
    }
    let ctx = Context::new()?;
    let report = prune::prune(&ctx, &filters, false)?;
    super::print_pruned(None, report.removed.iter().map(|c| c.id.as_str()), &report.errors);
    if report.errors.is_empty() { Ok(()) } else { Err(Exit(125).into()) }
}

fn logs(a: LogsArgs) -> anyhow::Result<()> {
    use crate::engine::container::logs::{self, LogQuery};
    let ctx = Context::new()?;
    let c = ctr::resolve(&ctx.db()?, &a.container)?;
    let q = LogQuery {
        since: a.since.as_deref().map(|s| log_time("--since", s)).transpose()?,
        until: a.until.as_deref().map(|s| log_time("--until", s)).transpose()?,
        tail: a.tail,
    };
    // With -t, each line starts with the time of its first record.
    let mut line_start = true;
    let mut show = |r: &Record| -> std::io::Result<()> {
        let stamp = (a.timestamps && line_start)
            .then(|| format!("{} ", r.time.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)));
        line_start = r.full;
        write_record(r, stamp.as_deref())
    };
    let shown = logs::read(&ctx, &c, &q, &mut show).and_then(|end| match a.follow {
        true => logs::follow(&ctx, &c.id, end, &LogQuery { tail: None, ..q }, &mut show).map(|_| end),
        false => Ok(end),
    });
    match shown {
        Err(e) if e.is_closed_output() => Ok(()),
        r => r.map(|_| ()).map_err(Into::into),
    }
}

/// Writes a record's content to stdout or stderr, as the container wrote it.
fn write_record(r: &Record, prefix: Option<&str>) -> std::io::Result<()> {
    use std::io::Write;
    let mut line = Vec::with_capacity(r.content.len() + 40);
    if let Some(p) = prefix {
        line.extend_from_slice(p.as_bytes());
    }
    line.extend_from_slice(r.content);
    if r.full {
        line.push(b'\n');
    }
    if r.stream == "stderr" {
        let mut e = std::io::stderr().lock();
        e.write_all(&line).and_then(|_| e.flush())
    } else {
        let mut o = std::io::stdout().lock();
        o.write_all(&line).and_then(|_| o.flush())
    }
}

/// `--since`/`--until`: a time, Unix seconds, or a duration before now (`util::parse_time`).
fn log_time(flag: &str, s: &str) -> anyhow::Result<chrono::DateTime<chrono::FixedOffset>> {
    crate::util::parse_time(s, chrono::Utc::now()).map(|t| t.fixed_offset()).ok_or_else(|| {
        anyhow::anyhow!(
            "invalid {flag} \"{s}\": use a time (2026-01-02T15:04:05Z), Unix seconds, or a duration such as 10m"
        )
    })
}

fn top(name: &str) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let procs = lifecycle::top(&ctx, name)?;
    let hms = |s: u64| format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60);
    let mut rows = Vec::new();
    for p in procs {
        rows.push(vec![
            p.user,
            p.pid.to_string(),
            p.ppid.to_string(),
            format!("{:.3}", p.cpu_percent),
            humantime_secs(p.elapsed_secs),
            p.tty,
            hms(p.cpu_secs),
            p.command,
        ]);
    }
    output::table(&["USER", "PID", "PPID", "%CPU", "ELAPSED", "TTY", "TIME", "COMMAND"], &rows)?;
    Ok(())
}

/// Elapsed time as Podman's top prints it ("5.123s" style is Go's; we keep whole units).
fn humantime_secs(s: u64) -> String {
    match s {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m{}s", s / 60, s % 60),
        s => format!("{}h{}m{}s", s / 3600, s / 60 % 60, s % 60),
    }
}

fn attach(a: AttachArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let keys = detach_keys(a.detach_keys.as_deref())?;
    let code = lifecycle::attach(&ctx, &a.container, !a.no_stdin, a.sig_proxy, &keys, &mut |r| write_record(r, None))?;
    match code {
        Some(0) | None => Ok(()),
        Some(c) => Err(Exit(c).into()),
    }
}

fn detach_keys(given: Option<&str>) -> anyhow::Result<Vec<u8>> {
    crate::monitor::parse_detach_keys(given.unwrap_or(crate::monitor::DEFAULT_DETACH_KEYS)).map_err(anyhow::Error::msg)
}
