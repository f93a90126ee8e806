//! `login` and `logout`: read credentials (flags, stdin, or a prompt), verify them against
//! the registry through the engine, and keep them in the auth file.

use crate::cli::lazy::Lazy;
use crate::engine::Context;
use crate::engine::image::auth::{self, Credentials};
use crate::engine::image::reference::Reference;
use crate::engine::image::registries::RegistriesConf;
use crate::engine::image::registry::{ConnectOptions, RegistryClient};
use clap::{Args, Subcommand};
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct LoginArgs {
    /// Username for the registry
    #[arg(short, long)]
    username: Option<String>,
    /// Password for the registry (prefer --password-stdin)
    #[arg(short, long)]
    password: Option<String>,
    /// Read the password from standard input
    #[arg(long)]
    password_stdin: bool,
    /// Require HTTPS and verify certificates (default: as registries.conf says)
    #[arg(long, num_args = 0..=1, default_missing_value = "true", require_equals = true)]
    tls_verify: Option<bool>,
    /// Path of the authentication file
    #[arg(long, env = "REGISTRY_AUTH_FILE")]
    authfile: Option<PathBuf>,
    /// Print the user name stored for the registry
    #[arg(long)]
    get_login: bool,
    registry: String,
}

#[derive(Args, Debug)]
pub struct LogoutArgs {
    /// Remove the credentials of every registry
    #[arg(short, long)]
    all: bool,
    /// Path of the authentication file
    #[arg(long, env = "REGISTRY_AUTH_FILE")]
    authfile: Option<PathBuf>,
    registry: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum LoginCommand {
    /// Log in to a container registry
    Login(Lazy<LoginArgs>),
    /// Log out of a container registry
    Logout(Lazy<LogoutArgs>),
}

pub fn run(c: LoginCommand) -> anyhow::Result<()> {
    match c {
        LoginCommand::Login(Lazy(a)) => login(a),
        LoginCommand::Logout(Lazy(a)) => logout(a),
    }
}

/// "https://host/v2/" or "docker.io/library" -> "host" / "docker.io".
fn registry_host(input: &str) -> String {
    let s = input.trim_start_matches("https://").trim_start_matches("http://");
    let host = s.split('/').next().unwrap_or(s).to_string();
    match host.as_str() {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".into(),
        _ => host,
    }
}

/// Reads a line from the terminal without echo.
pub fn read_password(prompt: &str) -> anyhow::Result<String> {
    use nix::sys::termios::{self, LocalFlags, SetArg};
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        anyhow::bail!("cannot prompt for a password: standard input is not a terminal; use --password-stdin");
    }
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let saved = termios::tcgetattr(&stdin)?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    termios::tcsetattr(&stdin, SetArg::TCSANOW, &quiet)?;
    let mut line = String::new();
    let res = stdin.lock().read_line(&mut line);
    termios::tcsetattr(&stdin, SetArg::TCSANOW, &saved)?;
    eprintln!();
    res?;
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

fn login(a: LoginArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let registry = registry_host(&a.registry);
    let authfile = a.authfile.clone().unwrap_or_else(|| auth::auth_file_for_write(&ctx.paths.home, ctx.runtime_base()));
    if a.get_login {
        let c = auth::lookup(&registry, "", &ctx.paths.home, ctx.runtime_base(), a.authfile.as_deref())?;
        match c {
            Some(c) => println!("{}", c.username),
            None => anyhow::bail!("not logged into {registry}"),
        }
        return Ok(());
    }
    if a.password_stdin && a.password.is_some() {
        anyhow::bail!("--password and --password-stdin are mutually exclusive");
    }
    let username = match a.username.clone() {
        Some(u) => u,
        None => {
            if a.password_stdin || !std::io::stdin().is_terminal() {
                anyhow::bail!("--username is required with --password-stdin or when standard input is not a terminal");
            }
            eprint!("Username: ");
            let _ = std::io::stderr().flush();
            let mut u = String::new();
            std::io::stdin().lock().read_line(&mut u)?;
            u.trim().to_string()
        }
    };
    if username.is_empty() {
        anyhow::bail!("username is empty");
    }
    let password = match (a.password.clone(), a.password_stdin) {
        (Some(p), _) => p,
        (None, true) => {
            let mut p = String::new();
            std::io::stdin().lock().read_line(&mut p)?;
            p.trim_end_matches(['\n', '\r']).to_string()
        }
        (None, false) => read_password("Password: ")?,
    };
    let creds = Credentials { username, password };
    let conf = RegistriesConf::load(&ctx.paths.home)?;
    let insecure = match a.tls_verify {
        Some(v) => !v,
        None => conf.is_insecure(&registry),
    };
    let probe = Reference::parse(&format!("{registry}/kiste/login-probe"))?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    rt.block_on(async {
        let client =
            RegistryClient::connect(&registry, &ConnectOptions { insecure, creds: Some(creds.clone()) }).await?;
        client.check_login(&probe).await
    })?;
    auth::store(&authfile, &registry, &creds)?;
    println!("Login Succeeded!");
    Ok(())
}

fn logout(a: LogoutArgs) -> anyhow::Result<()> {
    let ctx = Context::new()?;
    let authfile = a.authfile.clone().unwrap_or_else(|| auth::auth_file_for_write(&ctx.paths.home, ctx.runtime_base()));
    if a.all {
        auth::remove_all(&authfile)?;
        println!("Removed login credentials for all registries");
        return Ok(());
    }
    let Some(r) = a.registry else {
        anyhow::bail!("registry must be given (or --all)");
    };
    let registry = registry_host(&r);
    if auth::remove(&authfile, &registry)? {
        println!("Removed login credentials for {registry}");
        Ok(())
    } else {
        anyhow::bail!("not logged into {registry}")
    }
}
