//! The one mapping from a compose `Service` to the engine's `RunOptions` (what `kiste run`
//! would be given): command, environment, network and aliases, ports, limits, mounts, labels.
//! Pure: reads the model only. What the engine cannot do is an error naming the key path
//! (`services.db.volumes[0].volume.subpath: volume subpaths are not supported yet; ...`), raised only when a
//! project uses it. Volumes become `--mount`/`--volumes-from`, health checks `--health-*`,
//! restart policies `--restart`, as `kiste run` is given them.

use super::model::{Project, Service};
use super::mounts::{FileMount, MountKind, VolumeMount};
use super::parts::HealthTest;
use super::ports::PortSpec;
use super::settings::{NetworkMode, RestartPolicy};
use super::{ComposeError, naming};
use crate::engine::container::NetAttach;
use crate::engine::container::limits::{LimitArgs, Limits};
use crate::engine::container::spec::RunOptions;
use oci_spec::runtime::MountBuilder;
use std::path::PathBuf;

/// Which container of the service is being made.
#[derive(Debug, Clone, Default)]
pub struct Instance {
    /// The container's name.
    pub name: String,
    /// From 1.
    pub number: u32,
    /// A `compose run` container: no service alias, ports only when asked.
    pub oneoff: bool,
    /// Publish the service's `ports` (false for `run` without `--service-ports`).
    pub publish_ports: bool,
    /// The image to run (an ID once images are ensured).
    pub image: String,
    /// The image ID for the image label.
    pub image_id: String,
    /// For `network_mode: service:X`: X's running container (ID).
    pub network_peer: Option<String>,
}

/// A service's container options, and what has to happen around its creation.
#[derive(Debug, Clone, Default)]
pub struct Mapped {
    pub opts: RunOptions,
    /// Every user-defined network with its aliases and address (the engine's create applies
    /// aliases and address to the first only: the caller records the rest).
    pub networks: Vec<NetAttach>,
    /// Host directories of bind mounts to create when missing (`create_host_path`).
    pub host_dirs: Vec<PathBuf>,
    /// Things accepted but not applied, one line each.
    pub warnings: Vec<String>,
}

/// The options of container `inst` of service `s`.
pub fn map(p: &Project, s: &Service, inst: &Instance) -> Result<Mapped, ComposeError> {
    let mut m = Mapped::default();
    let path = format!("services.{}", s.name);
    let o = &mut m.opts;
    o.name = Some(inst.name.clone());
    o.image = inst.image.clone();
    command_part(s, o);
    o.env = s.environment.iter().filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}"))).collect();
    o.workdir = s.working_dir.clone();
    o.user = s.user.clone();
    o.hostname = s.hostname.clone();
    o.domainname = s.domainname.clone();
    o.sysctls = s.sysctls.iter().map(|(k, v)| format!("{k}={v}")).collect();
    o.read_only = s.read_only;
    o.privileged = s.privileged;
    o.cap_add = s.cap_add.clone();
    o.cap_drop = s.cap_drop.clone();
    o.security_opt = s.security_opt.clone();
    o.tty = s.tty;
    o.interactive = s.stdin_open;
    o.init = s.init.unwrap_or(false);
    o.stop_signal = s.stop_signal.clone();
    o.stop_timeout = s.stop_grace_period.map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0));
    o.shm_size = s.shm_size.map(|b| b.to_string());
    o.annotations = s.annotations.iter().map(|(k, v)| format!("{k}={v}")).collect();
    o.ulimits = s.ulimits.iter().map(|(k, u)| format!("{k}={}:{}", u.soft(), u.hard())).collect();
    o.tmpfs = s.tmpfs.clone();
    o.dns = s.dns.clone();
    o.dns_search = s.dns_search.clone();
    o.dns_options = s.dns_opt.clone();
    o.add_hosts = s.extra_hosts.iter().flat_map(|(h, ips)| ips.iter().map(move |ip| format!("{h}:{ip}"))).collect();
    o.expose = s.expose.clone();
    if inst.publish_ports {
        o.publish = s.ports.iter().map(publish_spec).collect();
    }
    o.labels = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let labels = naming::container_labels(p, s, inst.number, inst.oneoff, &inst.image_id);
    o.labels.extend(labels.into_iter().map(|(k, v)| format!("{k}={v}")));
    limits_part(s, &path, &mut m)?;
    network_part(p, s, inst, &path, &mut m)?;
    volumes_part(p, s, &path, &mut m)?;
    files_part(p, s, &path, &mut m)?;
    health_part(s, &mut m.opts);
    restart_part(s, &mut m.opts);
    logging_part(s, &mut m);
    Ok(m)
}

/// Compose's entrypoint and command are lists; the engine's entrypoint is one word, the rest
/// goes before the command (a set entrypoint drops the image's CMD, as in Docker).
fn command_part(s: &Service, o: &mut RunOptions) {
    let command = s.command.clone().unwrap_or_default();
    match &s.entrypoint {
        None => o.command = command,
        Some(ep) => match ep.split_first() {
            None => {
                o.entrypoint = Some(String::new());
                o.command = command;
            }
            Some((first, rest)) => {
                o.entrypoint = Some(first.clone());
                o.command = rest.iter().cloned().chain(command).collect();
            }
        },
    }
}

/// A port in `-p` form: `[IP:][PUBLISHED:]TARGET/PROTO`.
fn publish_spec(ps: &PortSpec) -> String {
    let ip = match ps.host_ip {
        Some(std::net::IpAddr::V6(a)) => format!("[{a}]:"),
        Some(a) => format!("{a}:"),
        None => String::new(),
    };
    let published = ps.published.map(|r| format!("{r}:")).unwrap_or_default();
    let host = if ip.is_empty() || !published.is_empty() { published } else { ":".to_string() };
    format!("{ip}{host}{}/{}", ps.target, ps.protocol.as_str())
}

/// mem_limit, cpus, pids_limit ... and `deploy.resources` into the engine's checked limits.
fn limits_part(s: &Service, path: &str, m: &mut Mapped) -> Result<(), ComposeError> {
    let res = s.deploy.as_ref().map(|d| &d.resources);
    let lim = res.and_then(|r| r.limits.as_ref());
    let resv = res.and_then(|r| r.reservations.as_ref());
    let num = |v: Option<i64>| v.map(|v| v.to_string());
    let args = LimitArgs {
        memory: num(s.mem_limit.or(lim.and_then(|l| l.memory))),
        memory_swap: num(s.memswap_limit),
        memory_reservation: num(s.mem_reservation.or(resv.and_then(|r| r.memory))),
        cpus: s.cpus.or(lim.and_then(|l| l.cpus)).map(|c| c.to_string()),
        cpu_shares: num(s.cpu_shares),
        cpuset_cpus: s.cpuset.clone(),
        pids_limit: num(s.pids_limit.or(lim.and_then(|l| l.pids))),
        ..LimitArgs::default()
    };
    let (limits, warnings) = Limits::parse(&args).map_err(|e| ComposeError::Project(format!("{path}: {e}")))?;
    m.opts.limits = limits;
    m.warnings.extend(warnings);
    Ok(())
}

/// `networks` (user-defined networks with the service name as an alias) or `network_mode`.
fn network_part(p: &Project, s: &Service, inst: &Instance, path: &str, m: &mut Mapped) -> Result<(), ComposeError> {
    let o = &mut m.opts;
    o.network = match &s.network_mode {
        None => String::new(),
        Some(NetworkMode::Bridge) => String::new(),
        Some(NetworkMode::Host) => "host".into(),
        Some(NetworkMode::None) => "none".into(),
        Some(NetworkMode::Container(c)) => format!("container:{c}"),
        Some(NetworkMode::Other(mode)) => mode.clone(),
        Some(NetworkMode::Service(x)) => match &inst.network_peer {
            Some(id) => format!("container:{id}"),
            None => {
                return Err(ComposeError::service(
                    &s.name,
                    format!("{path}.network_mode: service \"{x}\" has no running container to share the network of"),
                ));
            }
        },
    };
    if s.network_mode.is_some() {
        return Ok(());
    }
    for (key, settings) in &s.networks {
        let net = p.networks.get(key).ok_or_else(|| {
            ComposeError::Project(format!("{path}.networks: network \"{key}\" is not defined under networks"))
        })?;
        let mut aliases = Vec::new();
        if !inst.oneoff {
            aliases.push(s.name.clone());
        }
        if let Some(set) = settings {
            aliases.extend(set.aliases.iter().filter(|a| !aliases.contains(a)).cloned().collect::<Vec<_>>());
        }
        let ip = settings.as_ref().and_then(|x| x.ipv4_address);
        m.networks.push(NetAttach { name: net.name.clone(), aliases, ip });
    }
    if let Some(first) = m.networks.first() {
        o.network = m.networks.iter().map(|n| n.name.as_str()).collect::<Vec<_>>().join(",");
        o.network_aliases = first.aliases.clone();
        o.ip = first.ip.map(|ip| ip.to_string());
    }
    Ok(())
}

/// A read-only or read-write bind of a host path.
fn bind(
    source: &std::path::Path,
    target: &str,
    read_only: bool,
    extra: &[String],
) -> Result<oci_spec::runtime::Mount, ComposeError> {
    let mut options = vec!["rbind".to_string(), if read_only { "ro" } else { "rw" }.to_string()];
    options.extend(extra.iter().cloned());
    MountBuilder::default()
        .destination(PathBuf::from(target))
        .typ("bind")
        .source(source.to_path_buf())
        .options(options)
        .build()
        .map_err(|e| ComposeError::Failed(format!("bind {} on {target}: {e}", source.display())))
}

/// Binds and tmpfs as the runtime takes them; named and anonymous volumes as `--mount
/// type=volume` (a named one by its engine name); `volumes_from` as `--volumes-from`, a service
/// by its first container.
fn volumes_part(p: &Project, s: &Service, path: &str, m: &mut Mapped) -> Result<(), ComposeError> {
    for (i, v) in s.volumes.iter().enumerate() {
        let at = format!("{path}.volumes[{i}]");
        volume(p, v, &at, m)?;
    }
    for (i, f) in s.volumes_from.iter().enumerate() {
        m.opts.volumes_from.push(volumes_from(p, f, &format!("{path}.volumes_from[{i}]"))?);
    }
    Ok(())
}

/// `SERVICE[:ro|rw]` or `container:NAME[:ro|rw]` as `--volumes-from CTR[:ro|rw]`.
fn volumes_from(p: &Project, f: &str, at: &str) -> Result<String, ComposeError> {
    let (source, mode) = match f.rsplit_once(':') {
        Some((src, md)) if md == "ro" || md == "rw" => (src, Some(md)),
        _ => (f, None),
    };
    let ctr = match source.strip_prefix("container:") {
        Some(name) => name.to_string(),
        None => match p.services.get(source) {
            Some(svc) => naming::container_name(&p.name, svc, 1),
            None => {
                return Err(ComposeError::Project(format!(
                    "{at}: service \"{source}\" is not defined; name a service of the project or container:NAME"
                )));
            }
        },
    };
    Ok(match mode {
        Some(md) => format!("{ctr}:{md}"),
        None => ctr,
    })
}

fn volume(p: &Project, v: &VolumeMount, at: &str, m: &mut Mapped) -> Result<(), ComposeError> {
    match &v.kind {
        MountKind::Bind { source, create_host_path, propagation, selinux: _ } => {
            if *create_host_path {
                m.host_dirs.push(source.clone());
            }
            let extra: Vec<String> = propagation.iter().cloned().collect();
            m.opts.extra_mounts.push(bind(source, &v.target, v.read_only, &extra)?);
        }
        MountKind::Tmpfs { size, mode } => {
            let mut opts: Vec<String> = Vec::new();
            opts.extend(size.map(|s| format!("size={s}")));
            opts.extend(mode.map(|md| format!("mode={md:o}")));
            if v.read_only {
                opts.push("ro".into());
            }
            m.opts.tmpfs.push(match opts.is_empty() {
                true => v.target.clone(),
                false => format!("{}:{}", v.target, opts.join(",")),
            });
        }
        MountKind::Volume { source, nocopy, subpath, labels: _ } => {
            if subpath.is_some() {
                return Err(ComposeError::unsupported(format!("{at}.volume.subpath"), "volume subpaths"));
            }
            let mut parts = vec!["type=volume".to_string()];
            if let Some(key) = source {
                let def = p.volumes.get(key).ok_or_else(|| {
                    ComposeError::Project(format!(
                        "{at}: volume \"{key}\" is not defined at the top level; add it under volumes"
                    ))
                })?;
                parts.push(format!("source={}", def.name));
            }
            parts.push(format!("target={}", v.target));
            if v.read_only {
                parts.push("ro".into());
            }
            if *nocopy {
                parts.push("volume-nocopy".into());
            }
            m.opts.mounts.push(parts.join(","));
        }
    }
    Ok(())
}

/// `secrets` and `configs` backed by files: bound read-only at their targets.
fn files_part(p: &Project, s: &Service, path: &str, m: &mut Mapped) -> Result<(), ComposeError> {
    let kinds = [("secrets", &s.secrets, &p.secrets, "/run/secrets/"), ("configs", &s.configs, &p.configs, "/")];
    for (kind, refs, defs, base) in kinds {
        for (i, r) in refs.iter().enumerate() {
            let at = format!("{path}.{kind}[{i}]");
            let def = defs.get(&r.source).ok_or_else(|| {
                ComposeError::Project(format!("{at}: {kind} \"{}\" is not defined at the top level", r.source))
            })?;
            let Some(file) = &def.file else {
                return Err(ComposeError::unsupported(at, format!("{kind} from environment, content or external")));
            };
            file_options(r, &at, m);
            let target = r.target.clone().unwrap_or_else(|| format!("{base}{}", r.source));
            let target = if target.starts_with('/') { target } else { format!("{base}{target}") };
            m.opts.extra_mounts.push(bind(file, &target, true, &[])?);
        }
    }
    Ok(())
}

fn file_options(r: &FileMount, at: &str, m: &mut Mapped) {
    if r.uid.is_some() || r.gid.is_some() || r.mode.is_some() {
        m.warnings.push(format!("{at}: uid, gid and mode are ignored: the file is bound as it is on the host"));
    }
}

/// The service's healthcheck as `--health-*` (combined with the image's HEALTHCHECK at
/// create, as the flags are): `disable` or `test: NONE` as `--no-healthcheck`.
fn health_part(s: &Service, o: &mut RunOptions) {
    let Some(h) = &s.healthcheck else { return };
    if h.is_disabled() {
        o.health.disable = true;
        return;
    }
    let go = |d: Option<std::time::Duration>| d.map(|d| format!("{}ms", d.as_millis()));
    o.health.cmd = match &h.test {
        HealthTest::Inherit | HealthTest::None => None,
        HealthTest::Shell(cmd) => Some(cmd.clone()),
        HealthTest::Cmd(argv) => {
            let mut list = vec!["CMD".to_string()];
            list.extend(argv.iter().cloned());
            serde_json::to_string(&list).ok()
        }
    };
    o.health.interval = go(h.interval);
    o.health.timeout = go(h.timeout);
    o.health.start_period = go(h.start_period);
    o.health.start_interval = go(h.start_interval);
    o.health.retries = h.retries.map(|n| n.to_string());
}

/// `restart`, else `deploy.restart_policy` (condition on-failure with max_attempts, any as
/// always, none as no).
fn restart_part(s: &Service, o: &mut RunOptions) {
    use crate::engine::container::restart::RestartPolicy as Engine;
    if let Some(r) = s.restart {
        o.restart = match r {
            RestartPolicy::No => Engine::No,
            RestartPolicy::Always => Engine::Always,
            RestartPolicy::OnFailure(max) => Engine::OnFailure { max: max.unwrap_or(0) },
            RestartPolicy::UnlessStopped => Engine::UnlessStopped,
        };
        return;
    }
    let Some(d) = s.deploy.as_ref().and_then(|d| d.restart_policy.as_ref()) else { return };
    o.restart = match d.condition.as_deref() {
        Some("none") => Engine::No,
        Some("on-failure") => {
            Engine::OnFailure { max: d.max_attempts.and_then(|n| u32::try_from(n).ok()).unwrap_or(0) }
        }
        // "any", as Swarm's default.
        _ => Engine::Always,
    };
}

/// kiste keeps one log format; other drivers are noted.
fn logging_part(s: &Service, m: &mut Mapped) {
    let driver = s.logging.as_ref().and_then(|l| l.driver.as_deref());
    if let Some(d) = driver.filter(|d| !["json-file", "k8s-file", "local"].contains(d)) {
        m.warnings.push(format!(
            "services.{}.logging.driver \"{d}\" is ignored: kiste keeps the container log in its own file",
            s.name
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::compose::{LoadOptions, load};

    fn project(yaml: &str) -> Project {
        let dir = crate::testutil::tmpdir("compose-map");
        std::fs::write(dir.join("compose.yaml"), yaml).unwrap();
        let o =
            LoadOptions { cwd: dir.clone(), interpolate: true, project_name: Some("app".into()), ..Default::default() };
        let p = load(&o).unwrap().project;
        let _ = std::fs::remove_dir_all(&dir);
        p
    }

    fn inst(n: u32) -> Instance {
        Instance {
            name: format!("app-web-{n}"),
            number: n,
            publish_ports: true,
            image: "img".into(),
            ..Default::default()
        }
    }

    #[test]
    fn maps_the_common_keys() {
        let p = project(
            "services:\n  web:\n    image: busybox\n    entrypoint: [/bin/sh, -c]\n    command: [echo hi]\n    \
             environment: {A: '1', B: null}\n    ports: ['8080:80', '127.0.0.1::53/udp']\n    \
             networks: {default: {aliases: [www]}, back: null}\n    stop_grace_period: 1500ms\n    \
             mem_limit: 64m\n    volumes: [/tmp:/host:ro, {type: tmpfs, target: /scratch, tmpfs: {size: 1024}}]\n\
             networks:\n  back: {}\n",
        );
        let m = map(&p, p.service("web").unwrap(), &inst(2)).unwrap();
        let o = &m.opts;
        assert_eq!(o.entrypoint.as_deref(), Some("/bin/sh"));
        assert_eq!(o.command, vec!["-c", "echo hi"]);
        assert_eq!(o.env, vec!["A=1"]);
        assert_eq!(o.publish, vec!["8080:80/tcp", "127.0.0.1::53/udp"]);
        assert_eq!(o.network, "app_back,app_default");
        assert_eq!(m.networks[1].aliases, vec!["web", "www"]);
        assert_eq!(m.networks[0].aliases, vec!["web"]);
        assert_eq!(o.stop_timeout, Some(2));
        assert_eq!(o.tmpfs, vec!["/scratch:size=1024"]);
        assert_eq!(o.extra_mounts.len(), 1);
        assert!(o.labels.contains(&"com.docker.compose.container-number=2".to_string()));
        assert!(o.labels.iter().any(|l| l.starts_with("com.docker.compose.config-hash=")));
    }

    #[test]
    fn volumes_health_and_restart_become_run_options() {
        let p = project(
            "services:\n  db:\n    image: x\n    volumes: ['data:/var/lib/db:ro', /anon]\n    \
             volumes_from: ['web:ro', 'container:other']\n    \
             healthcheck: {test: [CMD, pg_isready, -q], interval: 1s500ms, retries: 3}\n    \
             deploy: {restart_policy: {condition: on-failure, max_attempts: 4}}\n  web:\n    image: x\n    \
             restart: always\n    healthcheck: {test: exit 0}\nvolumes:\n  data: {}\n",
        );
        let o = map(&p, p.service("db").unwrap(), &inst(1)).unwrap().opts;
        assert_eq!(o.mounts, vec!["type=volume,source=app_data,target=/var/lib/db,ro", "type=volume,target=/anon"]);
        assert_eq!(o.volumes_from, vec!["app-web-1:ro", "other"]);
        assert_eq!(o.health.cmd.as_deref(), Some(r#"["CMD","pg_isready","-q"]"#));
        assert_eq!(o.health.interval.as_deref(), Some("1500ms"));
        assert_eq!(o.health.retries.as_deref(), Some("3"));
        assert_eq!(o.restart, crate::engine::container::restart::RestartPolicy::OnFailure { max: 4 });
        let o = map(&p, p.service("web").unwrap(), &inst(1)).unwrap().opts;
        assert_eq!(o.health.cmd.as_deref(), Some("exit 0"));
        assert_eq!(o.restart, crate::engine::container::restart::RestartPolicy::Always);
        let p = project("services:\n  db:\n    image: x\n    healthcheck: {disable: true}\n");
        assert!(map(&p, p.service("db").unwrap(), &inst(1)).unwrap().opts.health.disable);
        let p = project(
            "services:\n  db:\n    image: x\n    domainname: d.example\n    sysctls: {net.core.somaxconn: 1024}\n",
        );
        let o = map(&p, p.service("db").unwrap(), &inst(1)).unwrap().opts;
        assert_eq!(
            (o.sysctls, o.domainname.as_deref()),
            (vec!["net.core.somaxconn=1024".to_string()], Some("d.example"))
        );
    }
}
