//! `version`, `info`, `unshare` and the `system ...` group.

use super::output;
use crate::engine::Context;
use clap::{Args, Subcommand};
use std::ffi::OsString;

#[derive(Args, Debug)]
pub struct FormatArg {
    /// Output format: json or a Go template
    #[arg(short, long)]
    format: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum TopLevel {
    /// Show the kiste version
    Version(FormatArg),
    /// Show information about the host and the store
    Info(FormatArg),
    /// Run a command in the user namespace kiste uses for the store (as `podman unshare`)
    Unshare {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        command: Vec<OsString>,
    },
}

#[derive(Subcommand, Debug)]
pub enum SystemCommand {
    /// Show information about the host and the store
    Info(FormatArg),
}

pub fn run_top(c: TopLevel) -> anyhow::Result<()> {
    match c {
        TopLevel::Version(f) => version(f),
        TopLevel::Info(f) => info(f),
        TopLevel::Unshare { command } => unshare(command),
    }
}

pub fn run(c: SystemCommand) -> anyhow::Result<()> {
    match c {
        SystemCommand::Info(f) => info(f),
    }
}

fn version(f: FormatArg) -> anyhow::Result<()> {
    let v = serde_json::json!({
        "Client": {
            "Version": env!("CARGO_PKG_VERSION"),
            "APIVersion": env!("CARGO_PKG_VERSION"),
            "GoVersion": "",
            "OsArch": format!("linux/{}", crate::engine::image::platform::go_arch(std::env::consts::ARCH)),
        }
    });
    match f.format.as_deref() {
        Some(fmt) if output::is_json(Some(fmt)) => output::json(&v)?,
        Some(fmt) => output::templated(fmt, &[v])?,
        None => {
            println!("Version:      {}", env!("CARGO_PKG_VERSION"));
            println!("OS/Arch:      {}", v["Client"]["OsArch"].as_str().unwrap_or_default());
        }
    }
    Ok(())
}

fn yaml_like(v: &serde_json::Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match v {
                    serde_json::Value::Object(_) | serde_json::Value::Array(_) => {
                        out.push_str(&format!("{pad}{k}:\n"));
                        yaml_like(v, indent + 2, out);
                    }
                    other => out.push_str(&format!("{pad}{k}: {}\n", scalar(other))),
                }
            }
        }
        serde_json::Value::Array(a) => {
            for v in a {
                match v {
                    serde_json::Value::Object(_) => {
                        out.push_str(&format!("{pad}-\n"));
                        yaml_like(v, indent + 2, out);
                    }
                    other => out.push_str(&format!("{pad}- {}\n", scalar(other))),
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

fn scalar(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => "\"\"".into(),
        o => o.to_string(),
    }
}

fn info(f: FormatArg) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let v = crate::engine::info::gather(&ctx);
    match f.format.as_deref() {
        Some(fmt) if output::is_json(Some(fmt)) => output::json(&v)?,
        Some(fmt) => output::templated(fmt, &[v])?,
        None => {
            let mut s = String::new();
            yaml_like(&v, 0, &mut s);
            print!("{s}");
        }
    }
    Ok(())
}

fn unshare(command: Vec<OsString>) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let argv =
        if command.is_empty() { vec![std::env::var_os("SHELL").unwrap_or_else(|| "/bin/sh".into())] } else { command };
    let status = crate::storage::userns::run_in_userns(&ctx.idmap, &argv)?;
    use std::os::unix::process::ExitStatusExt;
    let code = status.code().unwrap_or_else(|| 128 + status.signal().unwrap_or(0));
    if code == 0 { Ok(()) } else { Err(super::Exit(code as u8).into()) }
}
