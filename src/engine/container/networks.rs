//! A container's network at start for the modes that need more than a helper of its own:
//! user-defined networks (join the user's namespace holder, get an address per network,
//! fill in /etc/hosts) and `container:ID` (point config.json at the other container's
//! namespaces). Also `network connect`/`disconnect` of a container. The holder itself and the
//! network definitions belong to engine::network.

use super::{Container, ContainerError, NetAttach};
use crate::engine::Context;
use crate::engine::network::{self, named, nsd};
use std::net::Ipv4Addr;

/// What was assigned on each network, kept in the container's directory while it runs.
pub const ASSIGNED: &str = "networks.json";

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Assigned {
    pub name: String,
    pub id: String,
    pub ip: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub prefix: u8,
    pub aliases: Vec<String>,
    pub interface: String,
}

fn inv(e: impl std::fmt::Display) -> ContainerError {
    ContainerError::Invalid(e.to_string())
}

/// The running holder (locked until the container has joined) for a container on
/// user-defined networks, with the networks' definitions.
pub struct Prepared {
    pub holder: nsd::Holder,
    pub nets: Vec<(NetAttach, named::Network)>,
}

/// Called before the runtime starts: for user-defined networks, the holder to nest in; for
/// `container:ID`, config.json is made to join that container's namespaces.
pub fn prepare(ctx: &Context, c: &Container) -> Result<Option<Prepared>, ContainerError> {
    if let network::NetworkMode::Container(target) = &c.kept.network {
        share_with(ctx, c, target)?;
        return Ok(None);
    }
    if c.kept.network != network::NetworkMode::Bridge {
        return Ok(None);
    }
    let store = named::Store::new(&ctx.paths.data);
    let mut nets = Vec::new();
    for a in &c.kept.networks {
        nets.push((a.clone(), store.get(&a.name).map_err(inv)?));
    }
    Ok(Some(Prepared { holder: holder(ctx)?, nets }))
}

/// The user's namespace holder (started when none runs), locked.
fn holder(ctx: &Context) -> Result<nsd::Holder, ContainerError> {
    let mode = network::outward_mode(&ctx.paths).map_err(inv)?;
    let addrs = network::addresses(&mode).map_err(inv)?;
    nsd::ensure(&ctx.paths.runtime, &ctx.idmap, &mode, addrs.as_ref()).map_err(inv)
}

/// The holder's request to plug container `c` into network `n` as interface `ifname`; it
/// answers there to its name, short ID and aliases.
fn attach_request(
    c: &Container,
    a: &NetAttach,
    n: &named::Network,
    ifname: String,
    default_route: bool,
) -> nsd::Request {
    let mut names = vec![c.name.clone(), crate::util::short_id(&c.id)];
    names.extend(a.aliases.iter().cloned());
    nsd::Request {
        op: "attach".into(),
        id: c.id.clone(),
        network: n.clone(),
        names,
        ip: a.ip,
        ifname,
        default_route,
        ports: Vec::new(),
    }
}

/// The created hook: plugs PID 1's network namespace into every network, records the
/// addresses and writes the container's /etc/hosts.
pub fn join(ctx: &Context, c: &Container, p: &Prepared, pid: u32) -> Result<(), String> {
    let mut assigned = Vec::new();
    for (i, (a, n)) in p.nets.iter().enumerate() {
        let mut req = attach_request(c, a, n, format!("eth{i}"), i == 0);
        // Published ports: we bind them on the host (a clear error when taken), the holder
        // accepts on them (relays datagrams, for UDP) to the container's first address.
        let mut listeners = Vec::new();
        if i == 0 {
            for m in &c.kept.ports {
                listeners.push(network::ports::listen(m, !ctx.idmap.is_rootful()).map_err(|e| e.to_string())?);
                req.ports.push(nsd::Published { port: m.container_port, udp: m.proto == "udp" });
            }
        }
        let ip = p.holder.call(&req, Some(pid), listeners).map_err(|e| e.to_string())?.ok_or("no address assigned")?;
        assigned.push(assignment(a, n, ip, &req.ifname));
    }
    record(ctx, c, &assigned).map_err(|e| e.to_string())
}

fn assignment(a: &NetAttach, n: &named::Network, ip: Ipv4Addr, ifname: &str) -> Assigned {
    let s = &n.subnets[0];
    Assigned {
        name: n.name.clone(),
        id: n.id.clone(),
        ip,
        gateway: s.gateway,
        prefix: named::parse_cidr(&s.subnet).map(|(_, p)| p).unwrap_or(24),
        aliases: a.aliases.clone(),
        interface: ifname.into(),
    }
}

/// Writes networks.json and the container's /etc/hosts with its first address (in place:
/// the file is already bound into the container).
fn record(ctx: &Context, c: &Container, assigned: &[Assigned]) -> std::io::Result<()> {
    let dir = c.dir(ctx);
    crate::util::replace_file(&dir.join(ASSIGNED), &serde_json::to_vec(assigned).unwrap_or_default(), 0o600)?;
    let template = dir.join("userdata/hosts.in");
    if let (Ok(t), Some(first)) = (std::fs::read_to_string(&template), assigned.first()) {
        let mut text = t.replacen("127.0.1.1\t", &format!("{}\t", first.ip), 1);
        for a in &assigned[1..] {
            text += &format!("{}\t{} {}\n", a.ip, c.name, crate::util::short_id(&c.id));
        }
        std::fs::write(dir.join("userdata/hosts"), text)?;
    }
    Ok(())
}

/// The addresses recorded at the last start (empty when none).
pub fn assigned(ctx: &Context, c: &Container) -> Vec<Assigned> {
    std::fs::read(c.dir(ctx).join(ASSIGNED)).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default()
}

/// `--network container:ID`: join the running target's network (and user) namespace, and
/// see its /etc/hosts and /etc/resolv.conf.
fn share_with(ctx: &Context, c: &Container, target: &str) -> Result<(), ContainerError> {
    let conn = ctx.db()?;
    let mut t = super::resolve(&conn, target)
        .map_err(|_| inv(format!("container {target}, whose network --network container: names, no longer exists")))?;
    super::reconcile(ctx, &conn, &mut t)?;
    let Some(pid) = t.pid.filter(|_| t.is_running()) else {
        return Err(inv(format!(
            "container {} is not running; start it first (this container shares its network namespace)",
            t.name
        )));
    };
    let dir = c.dir(ctx);
    let path = dir.join("config.json");
    let mut spec = oci_spec::runtime::Spec::load(&path).map_err(inv)?;
    if let Some(linux) = spec.linux_mut() {
        let mut list = linux.namespaces().clone().unwrap_or_default();
        use oci_spec::runtime::LinuxNamespaceType as T;
        for ns in list.iter_mut() {
            let name = match ns.typ() {
                T::Network => "net",
                T::User => "user",
                _ => continue,
            };
            ns.set_path(Some(format!("/proc/{pid}/ns/{name}").into()));
        }
        linux.set_namespaces(Some(list));
        // Joining the target's user namespace: its maps apply, ours must not be written.
        linux.set_uid_mappings(None);
        linux.set_gid_mappings(None);
    }
    let tmp = dir.join(".config.json.tmp");
    spec.save(&tmp).map_err(inv)?;
    std::fs::rename(&tmp, &path).map_err(|e| ContainerError::io("cannot write", &path, e))?;
    let tdir = t.dir(ctx);
    for f in ["hosts", "resolv.conf"] {
        if let Ok(text) = std::fs::read(tdir.join("userdata").join(f)) {
            let _ = std::fs::write(dir.join("userdata").join(f), text);
        }
    }
    Ok(())
}

/// `network connect NET CTR`: records the network with the container and, when it runs,
/// plugs it in at once.
pub fn connect(
    ctx: &Context,
    net: &str,
    ctr: &str,
    aliases: &[String],
    ip: Option<Ipv4Addr>,
) -> Result<(), ContainerError> {
    let n = named::Store::new(&ctx.paths.data).get(net).map_err(inv)?;
    let conn = ctx.db()?;
    let mut c = super::resolve(&conn, ctr)?;
    super::reconcile(ctx, &conn, &mut c)?;
    if c.kept.network != network::NetworkMode::Bridge {
        return Err(inv(format!(
            "container {} uses network mode {}; only containers on user-defined networks can be connected to more",
            c.name, c.kept.network
        )));
    }
    if c.kept.networks.iter().any(|a| a.name == n.name) {
        return Err(inv(format!("container {} is already connected to network {}", c.name, n.name)));
    }
    let a = NetAttach { name: n.name.clone(), aliases: aliases.to_vec(), ip };
    if let Some(pid) = c.pid.filter(|_| c.is_running()) {
        let holder = holder(ctx)?;
        let mut assigned = assigned(ctx, &c);
        let ifname =
            format!("eth{}", (0..).find(|i| !assigned.iter().any(|x| x.interface == format!("eth{i}"))).unwrap_or(0));
        let req = attach_request(&c, &a, &n, ifname.clone(), false);
        let got =
            holder.call(&req, Some(pid as u32), Vec::new()).map_err(inv)?.ok_or_else(|| inv("no address assigned"))?;
        assigned.push(assignment(&a, &n, got, &ifname));
        let _ = record(ctx, &c, &assigned);
    }
    c.kept.networks.push(a);
    super::set_kept(&conn, &c.id, &c.kept)
}

/// `network disconnect NET CTR`.
pub fn disconnect(ctx: &Context, net: &str, ctr: &str) -> Result<(), ContainerError> {
    let n = named::Store::new(&ctx.paths.data).get(net).map_err(inv)?;
    let conn = ctx.db()?;
    let mut c = super::resolve(&conn, ctr)?;
    super::reconcile(ctx, &conn, &mut c)?;
    if !c.kept.networks.iter().any(|a| a.name == n.name) {
        return Err(inv(format!("container {} is not connected to network {}", c.name, n.name)));
    }
    if c.kept.networks.len() == 1 {
        return Err(inv(format!(
            "network {} is the only network of container {}; remove the container or connect another network first",
            n.name, c.name
        )));
    }
    if c.is_running() {
        nsd::detach(&ctx.paths.runtime, &c.id, &n).map_err(inv)?;
        let left: Vec<Assigned> = assigned(ctx, &c).into_iter().filter(|a| a.name != n.name).collect();
        let _ = crate::util::replace_file(
            &c.dir(ctx).join(ASSIGNED),
            &serde_json::to_vec(&left).unwrap_or_default(),
            0o600,
        );
    }
    c.kept.networks.retain(|a| a.name != n.name);
    super::set_kept(&conn, &c.id, &c.kept)
}

/// Containers (name or ID) connected to network `name`.
pub fn users(conn: &rusqlite::Connection, name: &str) -> Result<Vec<Container>, ContainerError> {
    Ok(super::list(conn)?.into_iter().filter(|c| c.kept.networks.iter().any(|a| a.name == name)).collect())
}

/// `network rm`: refuses a network in use unless `force`, which removes its containers first.
/// Returns the network's name.
pub fn remove_network(ctx: &Context, input: &str, force: bool) -> Result<String, ContainerError> {
    let store = named::Store::new(&ctx.paths.data);
    let n = store.get(input).map_err(inv)?;
    // Before anything is touched: `rm -f` must not remove the containers of a network that stays.
    named::check_removable(&n.name).map_err(inv)?;
    let users = users(&*ctx.db()?, &n.name)?;
    if !users.is_empty() && !force {
        let names: Vec<&str> = users.iter().map(|c| c.name.as_str()).collect();
        return Err(inv(format!(
            "network {} is used by container(s) {}; remove them first or use --force",
            n.name,
            names.join(", ")
        )));
    }
    for c in users {
        super::lifecycle::remove(ctx, &c.id, true)?;
    }
    store.remove(&n.name).map_err(inv)?;
    Ok(n.name)
}

/// `network prune`: removes the networks no container uses; (removed names, errors).
pub fn prune_networks(ctx: &Context) -> Result<(Vec<String>, Vec<String>), ContainerError> {
    let store = named::Store::new(&ctx.paths.data);
    let conn = ctx.db()?;
    let (mut removed, mut errors) = (Vec::new(), Vec::new());
    for n in store.list().map_err(inv)? {
        if named::check_removable(&n.name).is_ok() && users(&conn, &n.name)?.is_empty() {
            match store.remove(&n.name) {
                Ok(()) => removed.push(n.name),
                Err(e) => errors.push(e.to_string()),
            }
        }
    }
    Ok((removed, errors))
}
