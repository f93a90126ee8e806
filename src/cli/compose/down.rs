//! `compose down`: flags into `DownOptions` and the engine's `down`. Works from the files, or
//! by name only (`-p NAME` without files: everything labelled with the project goes).

use super::report::Terminal;
use super::{ProjectFlags, fail, project_or_name};
use crate::engine::Context;
use crate::engine::compose::down::{self, DownOptions};
use crate::engine::compose::images::RemoveImages;
use clap::{Args, ValueEnum};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RmiArg {
    Local,
    All,
}

#[derive(Args, Debug)]
pub struct DownArgs {
    /// Remove named volumes declared in the volumes section and anonymous volumes
    #[arg(short, long)]
    volumes: bool,
    /// Remove images used by services: local (built without an image name) or all
    #[arg(long, value_enum)]
    rmi: Option<RmiArg>,
    /// Remove containers of services not defined in the compose files
    #[arg(long)]
    remove_orphans: bool,
    /// Seconds to wait for containers to stop before killing them
    #[arg(short, long)]
    timeout: Option<u64>,
    /// Services (accepted for compatibility: down takes the whole project)
    #[arg(hide = true)]
    services: Vec<String>,
}

pub(super) fn down(g: &ProjectFlags, a: DownArgs) -> anyhow::Result<()> {
    let (p, by_name_only) = project_or_name(g)?;
    let ctx = Context::new()?;
    let o = DownOptions {
        remove_orphans: a.remove_orphans,
        volumes: a.volumes,
        rmi: a.rmi.map(|r| match r {
            RmiArg::Local => RemoveImages::Local,
            RmiArg::All => RemoveImages::All,
        }),
        timeout: a.timeout,
        by_name_only,
    };
    down::down(&ctx, &p, &o, &Terminal::new(false)).map_err(fail)
}
