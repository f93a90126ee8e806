//! `save`, `load` and `import` (also under `image`): Podman's flags, then one engine call
//! each. Owns where the bytes come from and go to (files, stdin/stdout, terminals); no
//! engine logic here.

use crate::engine::Context;
use crate::engine::image::archive::{
    self, ArchiveFormat, ImportOptions, ImportSource, LoadSource, SaveOptions, SaveTarget,
};
use clap::Args;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct SaveArgs {
    /// Write to this file (a directory for oci-dir and docker-dir) instead of stdout
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// docker-archive (default), oci-archive, oci-dir or docker-dir
    #[arg(long, default_value = "docker-archive")]
    format: String,
    /// Every name is an image (docker-archive); without it, further names tag the first
    #[arg(short = 'm', long)]
    multi_image_archive: bool,
    /// Compress layers (dir formats; accepted, layers are written uncompressed)
    #[arg(long)]
    compress: bool,
    /// Suppress progress output
    #[arg(short, long)]
    quiet: bool,
    /// Images to save
    #[arg(required = true)]
    images: Vec<String>,
}

#[derive(Args, Debug)]
pub struct LoadArgs {
    /// Read from this file or directory instead of stdin
    #[arg(short, long)]
    input: Option<PathBuf>,
    /// Suppress progress output
    #[arg(short, long)]
    quiet: bool,
}

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Apply a Dockerfile instruction to the image config (CMD, ENV, ...)
    #[arg(short, long)]
    change: Vec<String>,
    /// Comment for the history entry
    #[arg(short, long)]
    message: Option<String>,
    /// Suppress output
    #[arg(short, long)]
    quiet: bool,
    /// Platform of the image (only the host's)
    #[arg(long, hide = true)]
    os: Option<String>,
    #[arg(long, hide = true)]
    arch: Option<String>,
    #[arg(long, hide = true)]
    variant: Option<String>,
    /// A tar file, an http(s) URL, or - for stdin
    source: String,
    /// Name for the new image
    reference: Option<String>,
}

pub fn save(a: SaveArgs) -> anyhow::Result<()> {
    let format = ArchiveFormat::parse(&a.format).ok_or_else(|| {
        anyhow::anyhow!("unknown --format {:?}: use docker-archive, oci-archive, oci-dir or docker-dir", a.format)
    })?;
    let target = match a.output {
        Some(p) => SaveTarget::Path(p),
        None if format.is_dir() => {
            anyhow::bail!("--format {} writes a directory: name it with -o", a.format)
        }
        None if std::io::stdout().is_terminal() => {
            anyhow::bail!("refusing to save to terminal. Use -o flag or redirect")
        }
        None => SaveTarget::Stdout,
    };
    let ctx = Context::new()?;
    let opts = SaveOptions { format, multi_image: a.multi_image_archive };
    archive::save(&ctx, &a.images, &opts, target)?;
    Ok(())
}

pub fn load(a: LoadArgs) -> anyhow::Result<()> {
    let from = match a.input {
        Some(p) if p.as_os_str() == "-" => LoadSource::Stdin,
        Some(p) => LoadSource::Path(p),
        None if std::io::stdin().is_terminal() => {
            anyhow::bail!("cannot read an archive from a terminal: use -i FILE or redirect stdin")
        }
        None => LoadSource::Stdin,
    };
    let ctx = Context::new()?;
    let names = archive::load(&ctx, from)?;
    for n in names {
        println!("Loaded image: {n}");
    }
    Ok(())
}

pub fn import(a: ImportArgs) -> anyhow::Result<()> {
    let host = crate::engine::image::platform::Platform::host();
    for (flag, v, want) in [("--os", &a.os, host.os.as_str()), ("--arch", &a.arch, host.arch.as_str())] {
        if let Some(v) = v
            && v != want
        {
            anyhow::bail!("{flag} {v:?} is not this host's ({want}); kiste imports for the host's platform only");
        }
    }
    let source = if a.source == "-" {
        ImportSource::Stdin
    } else if a.source.starts_with("http://") || a.source.starts_with("https://") {
        ImportSource::Url(a.source.clone())
    } else {
        ImportSource::Path(PathBuf::from(&a.source))
    };
    let ctx = Context::new()?;
    let opts = ImportOptions { source, reference: a.reference, changes: a.change, message: a.message };
    let id = archive::import(&ctx, &opts)?;
    println!("{}", crate::util::digest_hex(&id));
    Ok(())
}
