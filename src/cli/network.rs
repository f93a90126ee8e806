//! `kiste network ...`: user-defined networks (create, ls, inspect, rm, prune, exists,
//! connect, disconnect). Argument handling and output only; engine::network::named keeps the
//! definitions, engine::container::networks connects containers.

use super::{Exit, output};
use crate::cli::lazy::Lazy;
use crate::engine::Context;
use crate::engine::container::networks;
use crate::engine::network::{NetError, named};
use clap::{Args, Subcommand};

#[derive(Subcommand, Debug)]
pub enum NetworkCommand {
    /// Create a network
    Create(Lazy<CreateArgs>),
    /// List networks
    #[command(alias = "list")]
    Ls(Lazy<LsArgs>),
    /// Show networks' configuration (JSON)
    Inspect {
        #[arg(required = true)]
        networks: Vec<String>,
        /// Go template or json
        #[arg(short, long)]
        format: Option<String>,
    },
    /// Remove networks
    #[command(alias = "remove")]
    Rm {
        #[arg(required = true)]
        networks: Vec<String>,
        /// Remove the containers using them too
        #[arg(short, long)]
        force: bool,
        /// Seconds to wait for those containers to stop before killing them (with --force)
        #[arg(short, long, visible_alias = "timeout")]
        time: Option<u64>,
    },
    /// Remove networks no container uses
    Prune {
        /// Do not ask for confirmation
        #[arg(short, long)]
        force: bool,
    },
    /// Exit 0 when the network exists, 1 when it does not
    Exists { network: String },
    /// Connect a container to a network
    Connect {
        network: String,
        container: String,
        /// Another name for the container on this network
        #[arg(long)]
        alias: Vec<String>,
        /// A fixed IPv4 address on this network
        #[arg(long)]
        ip: Option<std::net::Ipv4Addr>,
    },
    /// Disconnect a container from a network
    Disconnect {
        network: String,
        container: String,
        /// Accepted for compatibility
        #[arg(short, long)]
        force: bool,
    },
}

#[derive(Args, Debug)]
pub struct CreateArgs {
    /// Name (kisteN when none is given)
    name: Option<String>,
    /// Subnet in CIDR form, e.g. 10.89.5.0/24
    #[arg(long)]
    subnet: Option<String>,
    /// Gateway address (the subnet's first address by default)
    #[arg(long)]
    gateway: Option<String>,
    /// No way out: containers reach only each other
    #[arg(long)]
    internal: bool,
    /// Label KEY=VALUE
    #[arg(long)]
    label: Vec<String>,
    /// Driver: only bridge
    #[arg(short, long, default_value = "bridge")]
    driver: String,
    /// Succeed when the network exists already
    #[arg(long)]
    ignore: bool,
}

#[derive(Args, Debug)]
pub struct LsArgs {
    /// Only IDs
    #[arg(short, long)]
    quiet: bool,
    /// Full IDs
    #[arg(long)]
    no_trunc: bool,
    /// json, or a Go template
    #[arg(long)]
    format: Option<String>,
    /// name=, id=, label=, driver=
    #[arg(short, long)]
    filter: Vec<String>,
    /// Do not print the heading row
    #[arg(long)]
    noheading: bool,
}

fn store(ctx: &Context) -> named::Store {
    named::Store::new(&ctx.paths.data)
}

fn value(n: &named::Network) -> serde_json::Value {
    serde_json::to_value(n).unwrap_or_default()
}

pub fn run(c: NetworkCommand) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    match c {
        NetworkCommand::Create(Lazy(a)) => {
            if a.driver != "bridge" {
                anyhow::bail!("unsupported network driver \"{}\": only bridge", a.driver);
            }
            let o = named::CreateOptions {
                name: a.name,
                subnet: a.subnet,
                gateway: a.gateway,
                internal: a.internal,
                labels: a.label,
                ignore: a.ignore,
            };
            println!("{}", store(&ctx).create(&o)?.name);
            Ok(())
        }
        NetworkCommand::Ls(Lazy(a)) => ls(&ctx, a),
        NetworkCommand::Inspect { networks, format } => {
            let s = store(&ctx);
            let mut found = Vec::new();
            let mut missing = None;
            for n in &networks {
                match s.get(n) {
                    Ok(n) => found.push(value(&n)),
                    Err(e) => {
                        crate::util::print_error(&e);
                        missing = Some(e);
                    }
                }
            }
            match format.as_deref() {
                Some(f) if !output::is_json(Some(f)) => output::templated(f, &output::INSPECT, &found)?,
                _ => output::json(&serde_json::Value::Array(found))?,
            }
            match missing {
                Some(_) => Err(Exit(125).into()),
                None => Ok(()),
            }
        }
        NetworkCommand::Rm { networks, force, time: _ } => {
            use super::exit::{Verb, code};
            let mut codes = Vec::new();
            for n in &networks {
                // Looked up first: a missing network ends the command with 1, in Podman's words.
                let removed = store(&ctx)
                    .get(n)
                    .map_err(|e| match e {
                        NetError::NotFound(_) => anyhow::Error::from(e)
                            .context(format!("unable to find network with name or ID {n}: network not found")),
                        e => e.into(),
                    })
                    .and_then(|_| Ok(networks::remove_network(&ctx, n, force)?));
                match removed {
                    Ok(name) => println!("{name}"),
                    Err(e) => {
                        crate::util::print_error(&e);
                        codes.push(code(Verb::NetworkRm, &e));
                    }
                }
            }
            match codes.last() {
                Some(_) if codes.contains(&1) => Err(Exit(1).into()),
                Some(c) => Err(Exit(*c).into()),
                None => Ok(()),
            }
        }
        NetworkCommand::Prune { force } => {
            if !force
                && !super::confirm(
                    "WARNING! This will remove all networks not used by at least one container.\nAre you sure you want to continue? [y/N] ",
                )?
            {
                return Ok(());
            }
            let (removed, errors) = networks::prune_networks(&ctx)?;
            for n in removed {
                println!("{n}");
            }
            for e in &errors {
                crate::util::print_error(e);
            }
            if errors.is_empty() { Ok(()) } else { Err(Exit(125).into()) }
        }
        NetworkCommand::Exists { network } => match store(&ctx).get(&network) {
            Ok(_) => Ok(()),
            Err(NetError::NotFound(_)) => Err(Exit(1).into()),
            Err(e) => Err(e.into()),
        },
        NetworkCommand::Connect { network, container, alias, ip } => {
            Ok(networks::connect(&ctx, &network, &container, &alias, ip)?)
        }
        NetworkCommand::Disconnect { network, container, .. } => Ok(networks::disconnect(&ctx, &network, &container)?),
    }
}

fn ls(ctx: &Context, a: LsArgs) -> anyhow::Result<()> {
    let mut list = store(ctx).list()?;
    list.retain(|n| a.filter.iter().all(|f| named::matches(n, f)));
    let id = |n: &named::Network| if a.no_trunc { n.id.clone() } else { crate::util::short_id(&n.id) };
    if a.quiet {
        for n in &list {
            println!("{}", id(n));
        }
        return Ok(());
    }
    let values: Vec<serde_json::Value> = list.iter().map(value).collect();
    match a.format.as_deref() {
        Some(f) if output::is_json(Some(f)) => output::json(&serde_json::Value::Array(values))?,
        Some(f) => {
            // Podman's ListPrintReports: `{{.ID}}` is the short ID unless --no-trunc.
            let rows: Vec<serde_json::Value> = list
                .iter()
                .zip(values)
                .map(|(n, mut v)| {
                    v[crate::template::METHODS] = serde_json::json!({ "ID": id(n) });
                    v
                })
                .collect();
            output::templated(f, &output::Shape { heading_row: !a.noheading, ..output::NETWORKS }, &rows)?
        }
        None => {
            let rows: Vec<Vec<String>> = list.iter().map(|n| vec![id(n), n.name.clone(), n.driver.clone()]).collect();
            output::table(if a.noheading { &[] } else { &["NETWORK ID", "NAME", "DRIVER"] }, &rows)?;
        }
    }
    Ok(())
}
