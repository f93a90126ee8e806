//! `cp`: its flags and the two endpoints (`CONTAINER:PATH`, a host path, `-`); the copy
//! itself is engine::container::cp.

use crate::engine::Context;
use crate::engine::container::cp::{self, CpOptions};
use clap::Args;

#[derive(Args, Debug)]
pub struct CpArgs {
    /// Keep the files' owners (through the ID mapping) instead of giving them to the
    /// destination's user (the container's user going in, you coming out)
    #[arg(short, long)]
    archive: bool,
    /// Follow a symbolic link given as SRC_PATH
    #[arg(short = 'L', long)]
    follow_link: bool,
    /// Let a directory replace a non-directory and the other way round
    #[arg(long)]
    overwrite: bool,
    /// CONTAINER:SRC_PATH, a host path, or - for a tar on stdin
    src: String,
    /// CONTAINER:DEST_PATH, a host path, or - for a tar on stdout
    dest: String,
}

pub(super) fn cp(a: CpArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let o = CpOptions { archive: a.archive, follow: a.follow_link, overwrite: a.overwrite };
    Ok(cp::copy(&ctx, &cp::endpoint(&a.src), &cp::endpoint(&a.dest), o)?)
}
