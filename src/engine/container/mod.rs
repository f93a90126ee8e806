//! Containers: their records in the state database, their directories, and the lifecycle
//! verbs (one file each). A record's state is reconciled with reality on read: a container
//! whose monitor is gone, or that ran before a reboot, is exited. Does not make processes
//! (the runtime does) and does not supervise them (the monitor does).

pub mod commit;
pub mod compat;
pub mod cp;
pub mod create;
pub mod defaults;
pub mod diff;
pub mod exits;
pub mod filter;
pub mod health;
pub mod inspect;
pub mod lifecycle;
pub mod limits;
pub mod logs;
pub mod monitor_proc;
pub mod mounts;
pub mod networks;
pub mod pause;
pub mod prune;
pub mod restart;
pub mod rootmount;
pub mod run;
pub mod seccomp;
mod seccomp_default;
pub mod spec;
pub mod stats;
pub mod sysctl;
pub mod top;
pub mod update;
pub mod users;
pub mod view;

use crate::engine::{Context, ContextError};
pub use crate::state::stamp::Stamp;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ContainerError {
    #[error(transparent)]
    Context(#[from] ContextError),
    #[error("state database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("no container with name or ID \"{0}\" found: no such container")]
    NotFound(String),
    #[error("the container name \"{0}\" is already in use; remove that container, pick another name, or use --replace")]
    NameInUse(String),
    #[error(
        "cannot remove container {0} as it is running - running or paused containers cannot be removed without force: container state improper"
    )]
    Running(String),
    #[error(transparent)]
    Image(#[from] crate::engine::image::store::StoreError),
    #[error(transparent)]
    Pull(#[from] crate::engine::image::pull::PullError),
    #[error(transparent)]
    Runtime(#[from] crate::runtime::RuntimeError),
    #[error(transparent)]
    Storage(#[from] crate::storage::StorageError),
    #[error(transparent)]
    Archive(#[from] crate::engine::image::archive::ArchiveError),
    #[error(transparent)]
    Volume(#[from] crate::engine::volume::VolumeError),
    #[error("{0}")]
    Invalid(String),
    /// The command could not run: 125 (setup), 126 (cannot execute), 127 (not found).
    #[error("{message}")]
    Exec { code: u8, message: String },
    #[error("{what} {path}: {source}")]
    Io { what: &'static str, path: String, source: std::io::Error },
    /// What is shown (logs, attach) could not be written out.
    #[error("cannot write the output: {0}")]
    Output(std::io::Error),
}

impl ContainerError {
    /// Whether the output was closed by its reader (`logs | head`): the reader has what it
    /// wanted, so the command ends quietly.
    pub fn is_closed_output(&self) -> bool {
        matches!(self, ContainerError::Output(e) if e.kind() == std::io::ErrorKind::BrokenPipe)
    }
    pub fn io(what: &'static str, path: impl AsRef<std::path::Path>, source: std::io::Error) -> ContainerError {
        ContainerError::Io { what, path: path.as_ref().display().to_string(), source }
    }
}

/// Options kept with the record (what `start` and the monitor need later). Missing fields
/// read as Podman's defaults.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default)]
pub struct Kept {
    pub rm: bool,
    pub stop_signal: i32,
    pub stop_timeout: u64,
    pub labels: std::collections::BTreeMap<String, String>,
    pub network: crate::engine::network::NetworkMode,
    pub tty: bool,
    pub interactive: bool,
    /// Published ports, host ports resolved.
    pub ports: Vec<crate::engine::network::PortMapping>,
    /// The container's IPv4 address and gateway, when its network has a helper.
    pub ip: Option<std::net::Ipv4Addr>,
    pub gateway: Option<std::net::Ipv4Addr>,
    /// The user-defined networks it is connected to (network mode "bridge"), first one first.
    pub networks: Vec<NetAttach>,
    /// Its storage mounts (volumes, binds, tmpfs, images), as inspect shows them.
    pub mounts: Vec<mounts::KeptMount>,
    /// A build step's container: the PID of the build running it (`ps --external` shows it).
    pub builder: Option<u32>,
    /// The spec's cgroupsPath, when the container has cgroups of its own.
    pub cgroup: Option<String>,
    /// The kernel's OOM killer killed in the container's cgroup during its last run.
    pub oom_killed: bool,
    /// `--log-driver`, `--log-opt`.
    pub log: compat::LogConfig,
    /// Containers started before this one (`--requires`), by ID.
    pub requires: Vec<String>,
    /// `--sdnotify`, for the systemd integration.
    pub sdnotify: Option<String>,
    /// `--timeout`: seconds the container may run before it is killed.
    pub timeout: Option<u64>,
    /// `--cidfile` as given.
    pub cidfile: Option<String>,
    /// `--tz` (or containers.conf's `tz`).
    pub tz: Option<String>,
    /// `--restart`, carried out by the monitor.
    pub restart: restart::RestartPolicy,
    /// The health check (flags and the image's HEALTHCHECK), run by the monitor's timer.
    pub health: Option<health::HealthConfig>,
    /// Restarts by the policy since the user last started it.
    pub restart_count: u32,
    /// The back-off before the last restart (Docker's, doubling while runs are short).
    pub restart_backoff_ms: u64,
    /// Stopped or killed by the user since the last start: the policy does not restart it.
    pub stopped_by_user: bool,
    /// Options `inspect` shows that leave no trace in the bundle.
    pub host: HostOpts,
}

/// What was asked for at create that `inspect`'s HostConfig shows as given (the rest of it
/// is read from the bundle).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct HostOpts {
    pub dns: Vec<String>,
    pub dns_search: Vec<String>,
    pub dns_options: Vec<String>,
    pub extra_hosts: Vec<String>,
    pub group_add: Vec<String>,
    pub security_opt: Vec<String>,
    pub volumes_from: Vec<String>,
    pub publish_all: bool,
    pub privileged: bool,
    pub userns: Option<String>,
    pub cgroups: Option<String>,
    pub cgroup_parent: Option<String>,
}

/// A connection to a user-defined network, as asked for (the address is assigned at start
/// unless fixed here).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct NetAttach {
    pub name: String,
    pub aliases: Vec<String>,
    pub ip: Option<std::net::Ipv4Addr>,
}

impl Default for Kept {
    fn default() -> Kept {
        Kept {
            rm: false,
            stop_signal: libc::SIGTERM,
            stop_timeout: 10,
            labels: Default::default(),
            network: Default::default(),
            tty: false,
            interactive: false,
            ports: Vec::new(),
            ip: None,
            gateway: None,
            networks: Vec::new(),
            mounts: Vec::new(),
            builder: None,
            cgroup: None,
            oom_killed: false,
            log: Default::default(),
            requires: Vec::new(),
            sdnotify: None,
            timeout: None,
            cidfile: None,
            tz: None,
            restart: Default::default(),
            health: None,
            restart_count: 0,
            restart_backoff_ms: 0,
            stopped_by_user: false,
            host: HostOpts::default(),
        }
    }
}

/// An exclusive lock named `kind` on container `id` (full ID) in the run-time lock
/// directory: `root` while its stopped root is mounted by a copy or `container mount`,
/// `pause` while it is frozen, thawed or signalled.
pub(crate) fn container_lock(
    ctx: &Context,
    kind: &str,
    id: &str,
) -> Result<crate::state::lock::FileLock, ContainerError> {
    debug_assert!(LOCK_KINDS.contains(&kind));
    let path = ctx.paths.locks().join(format!("{kind}-{id}.lock"));
    crate::state::paths::make_private_dir(&ctx.paths.locks()).map_err(ContextError::from)?;
    crate::state::lock::FileLock::exclusive(&path).map_err(|e| ContainerError::io("cannot lock", &path, e))
}

/// The kinds of `container_lock`.
const LOCK_KINDS: [&str; 2] = ["root", "pause"];

/// Removes container `id`'s lock files once its record is gone (a holder keeps its lock on
/// the unlinked file; nothing can look the container up to lock it again).
pub(crate) fn remove_container_locks(ctx: &Context, id: &str) {
    for kind in LOCK_KINDS {
        let _ = std::fs::remove_file(ctx.paths.locks().join(format!("{kind}-{id}.lock")));
    }
}

/// Ends a stopped container's cgroup: whether the kernel's OOM killer struck in it, then
/// its removal (also what a killed monitor left behind). Nothing when it has none.
pub fn end_cgroup(c: &Container) -> bool {
    use crate::runtime::cgroup;
    let Some(path) = c.kept.cgroup.as_deref().and_then(|p| cgroup::CgroupPath::parse(p).ok()) else { return false };
    let host = cgroup::detect();
    let m = cgroup::Manager::new(&cgroup::RealFs, &host, path);
    // A paused container's processes cannot end (v1) until thawed.
    if m.is_frozen() == Some(true) {
        let _ = m.freeze(false);
    }
    let oom = m.oom_kills() > 0;
    if let Err(e) = m.remove() {
        tracing::warn!("container {}: {e}", c.name);
    }
    oom
}

/// A signal by name (`TERM`, `SIGTERM`) or number, as `--stop-signal` and `kill -s` take it.
pub fn parse_signal(s: &str) -> Result<i32, ContainerError> {
    use nix::sys::signal::Signal;
    let bad = || ContainerError::Invalid(format!("invalid signal \"{s}\": use a name such as TERM or a number"));
    if let Ok(n) = s.parse::<i32>() {
        return Signal::try_from(n).map(|sig| sig as i32).map_err(|_| bad());
    }
    let name = s.to_uppercase();
    let name = if name.starts_with("SIG") { name } else { format!("SIG{name}") };
    name.parse::<Signal>().map(|sig| sig as i32).map_err(|_| bad())
}

/// Where a container is in its life, as records and `inspect` spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Created,
    Running,
    /// Between runs: its monitor waits out the back-off of its restart policy.
    Restarting,
    /// Running with its processes frozen (`pause`).
    Paused,
    Exited,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            State::Created => "created",
            State::Running => "running",
            State::Restarting => "restarting",
            State::Paused => "paused",
            State::Exited => "exited",
        }
    }

    /// A state as records (and `ps --filter status=`) spell it.
    pub fn parse(s: &str) -> Option<State> {
        Some(match s {
            "created" => State::Created,
            "running" => State::Running,
            "restarting" => State::Restarting,
            "paused" => State::Paused,
            "exited" => State::Exited,
            _ => return None,
        })
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone)]
pub struct Container {
    pub id: String,
    pub name: String,
    pub image_id: String,
    pub image_name: String,
    pub command: Vec<String>,
    pub created: Stamp,
    pub state: State,
    pub pid: Option<i64>,
    pub monitor_pid: Option<i64>,
    pub exit_code: Option<i64>,
    pub started_at: Option<Stamp>,
    pub finished_at: Option<Stamp>,
    pub boot_id: Option<String>,
    pub kept: Kept,
}

impl Container {
    /// The network addresses kept with the record.
    pub fn addrs(&self) -> Option<crate::engine::network::Addrs> {
        Some(crate::engine::network::Addrs { ip: self.kept.ip?, gateway: self.kept.gateway? })
    }
    pub fn dir(&self, ctx: &Context) -> PathBuf {
        ctx.paths.containers().join(&self.id)
    }
    /// The container's run-time directory (see `Paths::run_containers`); `make_run_dir`
    /// creates it.
    pub fn run_dir(&self, ctx: &Context) -> PathBuf {
        ctx.paths.run_containers().join(&self.id)
    }
    pub fn make_run_dir(&self, ctx: &Context) -> Result<PathBuf, ContainerError> {
        let d = self.run_dir(ctx);
        crate::state::paths::make_private_dir(&d).map_err(ContextError::from)?;
        Ok(d)
    }
    /// The log file the monitor writes (`--log-opt path=`, else `ctr.log` in the
    /// container's directory; /dev/null for the drivers that keep no log).
    pub fn log_path(&self, ctx: &Context) -> PathBuf {
        match (self.kept.log.driver.keeps_log(), &self.kept.log.path) {
            (false, _) => PathBuf::from("/dev/null"),
            (true, Some(p)) => p.clone(),
            (true, None) => self.dir(ctx).join("ctr.log"),
        }
    }
    /// Running (paused too), or between runs under its monitor (restarting): it has a live
    /// monitor, and only `stop` (or its end) makes it exited.
    pub fn is_running(&self) -> bool {
        matches!(self.state, State::Running | State::Restarting | State::Paused)
    }
    /// The PID 1 of its current run: running or paused.
    pub fn run_pid(&self) -> Option<i64> {
        self.pid.filter(|_| matches!(self.state, State::Running | State::Paused))
    }
    /// Whether the container has label `KEY` (any value) or `KEY=VALUE`.
    pub fn has_label(&self, filter: &str) -> bool {
        match filter.split_once('=') {
            Some((k, v)) => self.kept.labels.get(k).is_some_and(|x| x == v),
            None => self.kept.labels.contains_key(filter),
        }
    }
}

pub fn boot_id() -> String {
    std::fs::read_to_string("/proc/sys/kernel/random/boot_id").map(|s| s.trim().to_string()).unwrap_or_default()
}

const COLUMNS: &str = "id, name, image_id, image_name, command, created, state, pid, monitor_pid, exit_code, started_at, finished_at, boot_id, options";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Container> {
    let command: String = r.get(4)?;
    let options: String = r.get(13)?;
    let state: String = r.get(6)?;
    Ok(Container {
        id: r.get(0)?,
        name: r.get(1)?,
        image_id: r.get(2)?,
        image_name: r.get(3)?,
        command: serde_json::from_str(&command).unwrap_or_default(),
        created: r.get(5)?,
        // Only kiste writes states; anything else reads as ended.
        state: State::parse(&state).unwrap_or(State::Exited),
        pid: r.get(7)?,
        monitor_pid: r.get(8)?,
        exit_code: r.get(9)?,
        started_at: r.get(10)?,
        finished_at: r.get(11)?,
        boot_id: r.get(12)?,
        kept: serde_json::from_str(&options).unwrap_or_default(),
    })
}

pub fn insert(conn: &Connection, c: &Container) -> Result<(), ContainerError> {
    let r = conn.execute(
        &format!("INSERT INTO containers ({COLUMNS}) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)"),
        params![
            c.id,
            c.name,
            c.image_id,
            c.image_name,
            serde_json::to_string(&c.command).unwrap_or_default(),
            c.created,
            c.state.as_str(),
            c.pid,
            c.monitor_pid,
            c.exit_code,
            c.started_at,
            c.finished_at,
            c.boot_id,
            serde_json::to_string(&c.kept).unwrap_or_default()
        ],
    );
    match r {
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
            Err(ContainerError::NameInUse(c.name.clone()))
        }
        r => r.map(|_| ()).map_err(Into::into),
    }
}

pub fn list(conn: &Connection) -> Result<Vec<Container>, ContainerError> {
    let mut st = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM containers ORDER BY created DESC, rowid DESC"))?;
    let v = st.query_map([], row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(v)
}

/// Refuses to make or enter container processes inside a `kiste unshare` session: container
/// processes are made from the user's own namespaces (joining or mapping a user namespace,
/// making cgroups), which a process already inside a user namespace cannot do, whether the
/// session's is the shared one or one of its own. The store itself is the user's there.
pub fn refuse_in_session(what: &str) -> Result<(), ContainerError> {
    match crate::state::paths::in_unshare_session() {
        true => Err(ContainerError::Invalid(format!(
            "cannot {what} inside \"kiste unshare\": container processes are made from outside a user namespace; run it outside the session"
        ))),
        false => Ok(()),
    }
}

/// How many containers each image has (by image ID), for `images`' Containers.
pub fn count_by_image(conn: &Connection) -> Result<std::collections::HashMap<String, i64>, ContainerError> {
    let mut st = conn.prepare_cached("SELECT image_id, count(*) FROM containers GROUP BY image_id")?;
    let v = st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<_, _>>()?;
    Ok(v)
}

/// The container of exactly this name, if any.
pub fn by_name(conn: &Connection, name: &str) -> Result<Option<Container>, ContainerError> {
    let mut st = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM containers WHERE name = ?1"))?;
    Ok(st.query_row([name], row).optional()?)
}

/// Every container, its state brought up to date (see `reconcile`). Container
/// Directories that a killed `create` left without a record are swept on the way.
pub fn list_reconciled(ctx: &Context, conn: &Connection) -> Result<Vec<Container>, ContainerError> {
    let mut list = list(conn)?;
    for c in list.iter_mut() {
        reconcile(ctx, conn, c)?;
    }
    prune::sweep_orphans(ctx, conn, &list)?;
    Ok(list)
}

/// Finds a container by full ID, unique ID prefix or name.
pub fn resolve(conn: &Connection, input: &str) -> Result<Container, ContainerError> {
    let mut st = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM containers WHERE name = ?1 OR id = ?1"))?;
    if let Some(c) = st.query_row([input], row).optional()? {
        return Ok(c);
    }
    if input.len() >= 3 && input.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut st = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM containers WHERE id LIKE ?1"))?;
        let v = st.query_map([format!("{input}%")], row)?.collect::<Result<Vec<_>, _>>()?;
        if v.len() == 1 {
            return Ok(v.into_iter().next().unwrap_or_else(|| unreachable!()));
        }
        if v.len() > 1 {
            return Err(ContainerError::Invalid(format!(
                "more than one container matches \"{input}\"; give more of the ID"
            )));
        }
    }
    Err(ContainerError::NotFound(input.to_string()))
}

pub fn set_running(conn: &Connection, id: &str, pid: i64, monitor: i64) -> Result<(), ContainerError> {
    conn.execute(
        "UPDATE containers SET state='running', pid=?2, monitor_pid=?3, started_at=?4, finished_at=NULL, exit_code=NULL, boot_id=?5 WHERE id=?1",
        params![id, pid, monitor, Stamp::now(), boot_id()],
    )?;
    Ok(())
}

/// Puts back the run columns of `c` as read: a start that failed after recording its PID
/// (PID 1 was killed).
pub fn restore_run(conn: &Connection, c: &Container) -> Result<(), ContainerError> {
    conn.execute(
        "UPDATE containers SET state=?2, pid=?3, monitor_pid=?4, exit_code=?5, started_at=?6, finished_at=?7 WHERE id=?1",
        params![c.id, c.state.as_str(), c.pid, c.monitor_pid, c.exit_code, c.started_at, c.finished_at],
    )?;
    Ok(())
}

pub fn set_exited(conn: &Connection, id: &str, code: Option<i64>) -> Result<(), ContainerError> {
    conn.execute(
        "UPDATE containers SET state='exited', pid=NULL, monitor_pid=NULL, exit_code=?2, finished_at=?3 WHERE id=?1",
        params![id, code, Stamp::now()],
    )?;
    Ok(())
}

/// Between runs: PID 1 has ended and `monitor` waits to start it again.
pub fn set_restarting(conn: &Connection, id: &str, monitor: i64) -> Result<(), ContainerError> {
    conn.execute(
        "UPDATE containers SET state='restarting', pid=NULL, monitor_pid=?2 WHERE id=?1",
        params![id, monitor],
    )?;
    Ok(())
}

/// Sets some fields of the kept options in one statement, leaving the others as they are
/// (the monitor, `stop` and `update` change different fields of one record concurrently).
pub fn set_kept_fields(
    conn: &Connection,
    id: &str,
    fields: &[(&str, serde_json::Value)],
) -> Result<(), ContainerError> {
    if fields.is_empty() {
        return Ok(());
    }
    let mut sql = String::from("UPDATE containers SET options=json_set(options");
    let mut values: Vec<String> = vec![id.to_string()];
    for (key, v) in fields {
        // Keys are our field names: plain identifiers.
        if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(ContainerError::Invalid(format!("bad option name {key}")));
        }
        values.push(v.to_string());
        sql.push_str(&format!(", '$.{key}', json(?{})", values.len()));
    }
    sql.push_str(") WHERE id=?1");
    conn.execute(&sql, rusqlite::params_from_iter(values.iter()))?;
    Ok(())
}

/// IDs and names of the containers made from image `image_id`.
pub fn using_image(conn: &Connection, image_id: &str) -> Result<Vec<(String, String)>, ContainerError> {
    let mut st = conn.prepare_cached("SELECT id, name FROM containers WHERE image_id = ?1")?;
    let v = st.query_map([image_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(v)
}

/// The containers that need `c`: those that `--requires` it or share its network namespace.
pub fn dependents(conn: &Connection, c: &Container) -> Result<Vec<Container>, ContainerError> {
    let shares = crate::engine::network::NetworkMode::Container(c.id.clone());
    Ok(list(conn)?
        .into_iter()
        .filter(|d| d.id != c.id && (d.kept.requires.contains(&c.id) || d.kept.network == shares))
        .collect())
}

/// Refuses names Podman refuses.
pub fn check_name(n: &str) -> Result<(), ContainerError> {
    let ok = !n.is_empty()
        && n.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && n.chars().all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(ContainerError::Invalid(format!("invalid container name \"{n}\": use letters, digits, _ . -")))
    }
}

pub fn set_name(conn: &Connection, id: &str, name: &str) -> Result<(), ContainerError> {
    match conn.execute("UPDATE containers SET name=?2 WHERE id=?1", params![id, name]) {
        Err(rusqlite::Error::SqliteFailure(e, _)) if e.code == rusqlite::ErrorCode::ConstraintViolation => {
            Err(ContainerError::NameInUse(name.to_string()))
        }
        r => r.map(|_| ()).map_err(Into::into),
    }
}

/// Replaces the options kept with the record (`network connect`/`disconnect`).
pub fn set_kept(conn: &Connection, id: &str, kept: &Kept) -> Result<(), ContainerError> {
    let text = serde_json::to_string(kept).map_err(|e| ContainerError::Invalid(e.to_string()))?;
    conn.execute("UPDATE containers SET options=?2 WHERE id=?1", params![id, text])?;
    Ok(())
}

pub fn delete(conn: &Connection, id: &str) -> Result<(), ContainerError> {
    conn.execute("DELETE FROM containers WHERE id=?1", [id])?;
    Ok(())
}

/// Whether `pid` runs (a zombie does not).
pub fn alive(pid: i64) -> bool {
    // A zombie is not alive: its monitor is gone even if PID 1 of this VM has not reaped it.
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => s.rsplit_once(')').and_then(|(_, rest)| rest.split_whitespace().next()).is_some_and(|st| st != "Z"),
        Err(_) => false,
    }
}

/// Makes a record true: running containers whose monitor died, or that ran before this
/// boot, become exited.
pub fn reconcile(ctx: &Context, conn: &Connection, c: &mut Container) -> Result<(), ContainerError> {
    if !c.is_running() {
        return Ok(());
    }
    let same_boot = c.boot_id.as_deref() == Some(boot_id().as_str());
    if same_boot && c.monitor_pid.is_some_and(alive) {
        return Ok(());
    }
    if same_boot && let Some(pid) = c.pid.filter(|p| alive(*p)) {
        // The monitor was killed: the container is orphaned. Stop it so the record is true.
        // SAFETY: plain kill of a process we started.
        unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    }
    // Between runs the last run's exit code is known; a run cut short has none.
    let code = if c.state == State::Restarting { c.exit_code } else { None };
    // Only the record as read: its monitor may have written the end (and its exit code)
    // since, or started the next run.
    let changed = conn.execute(
        "UPDATE containers SET state='exited', pid=NULL, monitor_pid=NULL, exit_code=?2, finished_at=?3 \
         WHERE id=?1 AND state=?4 AND monitor_pid IS ?5",
        params![c.id, code, Stamp::now(), c.state.as_str(), c.monitor_pid],
    )?;
    if changed == 0 {
        *c = resolve(conn, &c.id)?;
        return Ok(());
    }
    // Its network helper too (after a reboot, the record names no live process), and its cgroup.
    crate::engine::network::release(&c.run_dir(ctx), true);
    end_cgroup(c);
    c.state = State::Exited;
    c.pid = None;
    c.monitor_pid = None;
    Ok(())
}

pub fn new_id() -> String {
    let mut b = [0u8; 32];
    if let Ok(mut f) = std::fs::File::open("/dev/urandom") {
        use std::io::Read;
        let _ = f.read_exact(&mut b);
    }
    hex::encode(b)
}

/// Docker-style generated names: adjective_noun.
pub fn random_name(id: &str) -> String {
    const A: [&str; 16] = [
        "brave", "calm", "eager", "fancy", "gentle", "happy", "jolly", "keen", "lucid", "merry", "nifty", "proud",
        "quirky", "sharp", "tender", "witty",
    ];
    const N: [&str; 16] = [
        "babbage", "curie", "darwin", "euler", "fermat", "gauss", "hopper", "kepler", "lovelace", "noether", "pascal",
        "ritchie", "shannon", "thompson", "turing", "wozniak",
    ];
    let b = hex::decode(&id[..4]).unwrap_or_else(|_| vec![0, 0]);
    format!("{}_{}", A[(b[0] % 16) as usize], N[(b[1] % 16) as usize])
}
