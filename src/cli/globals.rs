//! Podman's global options: where the store and run-time state are (`--root`, `--runroot`,
//! `--storage-driver`, `--tmpdir`), containers.conf (`--module`, `--config`),
//! `--cgroup-manager`, `--events-backend`, stdout (`--noout`, `--out`), and the remote options
//! kiste refuses. Checked once at start and passed on, in `_KISTE_*` variables, to the kiste
//! processes this one starts (monitor, helpers), which read them where the defaults are found.

use crate::state::containers_conf::{self, Sources};
use crate::state::paths;
use clap::Args;
use std::os::fd::AsFd;
use std::path::PathBuf;

#[derive(Args, Debug, Default)]
pub struct GlobalArgs {
    /// Store directory: images, layers, containers, the database
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
    /// Run-time state directory (sockets, locks; gone after a reboot)
    #[arg(long, global = true, value_name = "DIR")]
    pub runroot: Option<PathBuf>,
    /// How containers' root filesystems are made: overlay, or vfs (plain copies, for file
    /// systems without overlay)
    #[arg(long, global = true, value_name = "DRIVER", value_parser = ["overlay", "vfs"])]
    pub storage_driver: Option<String>,
    /// Storage driver option (accepted; kiste's drivers take none)
    #[arg(long, global = true, value_name = "OPTION", hide = true)]
    pub storage_opt: Vec<String>,
    /// Directory for temporary files
    #[arg(long, global = true, value_name = "DIR")]
    pub tmpdir: Option<PathBuf>,
    /// Print nothing on stdout (a container's own output still shows)
    #[arg(long, global = true)]
    pub noout: bool,
    /// Write stdout to FILE (a container's own output still shows)
    #[arg(long, global = true, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Where events are recorded: file, none, or journald
    #[arg(long, global = true, value_name = "BACKEND", value_parser = ["file", "none", "journald"])]
    pub events_backend: Option<String>,
    /// Cgroup manager for containers' cgroups: cgroupfs or systemd
    #[arg(long, global = true, value_name = "MANAGER", value_parser = ["cgroupfs", "systemd"])]
    pub cgroup_manager: Option<String>,
    /// Load a containers.conf module (a name in containers.conf.modules, or a path)
    #[arg(long, global = true, value_name = "MODULE")]
    pub module: Vec<String>,
    /// Read this containers.conf instead of the usual files (as $CONTAINERS_CONF)
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Podman service URL: refused (kiste has no service)
    #[arg(long, global = true, value_name = "URL", hide = true)]
    pub url: Option<String>,
    /// Podman system connection: refused (kiste has no service)
    #[arg(long, global = true, value_name = "NAME", hide = true)]
    pub connection: Option<String>,
    /// Podman remote mode: refused (kiste has no service)
    #[arg(long, global = true, hide = true)]
    pub remote: bool,
}

/// Sets a variable for this process and the kiste processes it starts.
fn pass_on(key: &str, value: impl AsRef<std::ffi::OsStr>) {
    // SAFETY: called from `cli::main` right after parsing, before any thread exists.
    unsafe { std::env::set_var(key, value) };
}

/// An absolute form of a path given on the command line.
fn absolute(p: &std::path::Path) -> anyhow::Result<PathBuf> {
    std::path::absolute(p).map_err(|e| anyhow::anyhow!("invalid path {}: {e}", p.display()))
}

/// Checks the global options and puts them in effect (see the module comment).
pub fn apply(g: &GlobalArgs) -> anyhow::Result<()> {
    let remote = match (g.remote, &g.url, &g.connection) {
        (true, _, _) => Some("--remote"),
        (_, Some(_), _) => Some("--url"),
        (_, _, Some(_)) => Some("--connection"),
        _ => None,
    };
    if let Some(flag) = remote {
        anyhow::bail!("{flag} is not supported: kiste has no service to connect to; run the command without it");
    }
    if let Some(r) = &g.root {
        pass_on(paths::ENV_ROOT, absolute(r)?);
    }
    if let Some(r) = &g.runroot {
        pass_on(paths::ENV_RUNROOT, absolute(r)?);
    }
    if let Some(d) = &g.storage_driver {
        pass_on(paths::ENV_DRIVER, d);
    }
    if let Some(t) = &g.tmpdir {
        pass_on(paths::ENV_TMPDIR, absolute(t)?);
    }
    if let Some(c) = &g.config {
        let c = absolute(c)?;
        if !c.is_file() {
            anyhow::bail!("--config {}: no such file; give a containers.conf file", c.display());
        }
        pass_on("CONTAINERS_CONF", c);
    }
    if !g.module.is_empty() {
        let p = paths::Paths::discover()?;
        let sources = Sources::for_user(p.user_containers_config.as_deref());
        for m in &g.module {
            sources.module(m)?;
        }
        pass_on(containers_conf::ENV_MODULES, g.module.join("\n"));
    }
    if let Some(m) = &g.cgroup_manager {
        pass_on(containers_conf::ENV_CGROUP_MANAGER, m);
    }
    if let Some(e) = &g.events_backend {
        if e == "journald" && !std::path::Path::new("/run/systemd/journal/socket").exists() {
            anyhow::bail!(
                "--events-backend journald: the systemd journal is not running here (no /run/systemd/journal/socket); use file or none"
            );
        }
        pass_on(containers_conf::ENV_EVENTS_BACKEND, e);
    }
    if g.noout {
        redirect_stdout(std::fs::OpenOptions::new().write(true).open("/dev/null"), "/dev/null")?;
    } else if let Some(f) = &g.out {
        redirect_stdout(std::fs::File::create(f), &f.display().to_string())?;
    }
    Ok(())
}

/// Points our stdout at `file`, keeping the original for the output of containers that run
/// attached (`run`, `exec`), which Podman leaves alone.
fn redirect_stdout(file: std::io::Result<std::fs::File>, shown: &str) -> anyhow::Result<()> {
    let file = file.map_err(|e| anyhow::anyhow!("cannot open {shown} for the output: {e}"))?;
    let original =
        std::io::stdout().as_fd().try_clone_to_owned().map_err(|e| anyhow::anyhow!("cannot keep stdout: {e}"))?;
    crate::util::keep_stdout_for_containers(original);
    nix::unistd::dup2_stdout(&file).map_err(|e| anyhow::anyhow!("cannot redirect stdout to {shown}: {e}"))?;
    Ok(())
}
