//! Which compose files and which environment a project has, in docker compose's order: the
//! process environment, `.env` (or `--env-file`), COMPOSE_FILE, `-f`, or compose.yaml & co.
//! found in the working directory or a parent (plus its override file), and the project
//! directory. Reads the files' text (stdin's for `-`); parses nothing but .env files.

use super::ComposeError;
use super::dotenv;
use super::load::LoadOptions;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const FILE_NAMES: [&str; 4] = ["compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"];
pub const OVERRIDE_NAMES: [&str; 4] =
    ["compose.override.yml", "compose.override.yaml", "docker-compose.override.yml", "docker-compose.override.yaml"];

/// One compose file: its absolute path (or `-`) and text.
#[derive(Debug, Clone)]
pub struct Source {
    pub name: String,
    pub text: String,
}

#[derive(Debug)]
pub struct Found {
    pub project_dir: PathBuf,
    pub sources: Vec<Source>,
    /// Process environment over the .env files' values.
    pub environment: BTreeMap<String, String>,
}

fn absolute(p: &Path, cwd: &Path) -> PathBuf {
    super::paths::clean(&if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) })
}

/// The project directory: `--project-directory`, else the first file's directory, else cwd.
fn project_dir(opts: &LoadOptions, files: &[String]) -> PathBuf {
    if let Some(d) = &opts.project_directory {
        return absolute(d, &opts.cwd);
    }
    files
        .iter()
        .find(|f| *f != "-")
        .and_then(|f| absolute(Path::new(f), &opts.cwd).parent().map(Path::to_path_buf))
        .unwrap_or_else(|| opts.cwd.clone())
}

/// Adds the values of `.env`-style files to `env`, never replacing a variable already set.
pub fn add_env_files(env: &mut BTreeMap<String, String>, files: &[PathBuf]) -> Result<(), ComposeError> {
    let mut values: BTreeMap<String, String> = BTreeMap::new();
    for f in files {
        let name = f.display().to_string();
        if f.is_dir() {
            return Err(ComposeError::Project(format!("env file {name} is a directory: name a file")));
        }
        let text = std::fs::read_to_string(f).map_err(|source| ComposeError::Read { path: name.clone(), source })?;
        let lookup = |k: &str| env.get(k).or_else(|| values.get(k)).cloned();
        let parsed = dotenv::parse(&text, &lookup).map_err(|m| ComposeError::invalid(&name, "", m))?;
        values.extend(parsed);
    }
    for (k, v) in values {
        env.entry(k).or_insert(v);
    }
    Ok(())
}

/// `--env-file`s, else `DIR/.env` when it is a file (and COMPOSE_DISABLE_ENV_FILE is not true).
fn env_files_for(opts: &LoadOptions, dir: &Path, env: &BTreeMap<String, String>) -> Vec<PathBuf> {
    if !opts.env_files.is_empty() {
        return opts.env_files.iter().map(|f| absolute(f, &opts.cwd)).collect();
    }
    if env.get("COMPOSE_DISABLE_ENV_FILE").and_then(|v| super::forms::parse_bool(v)) == Some(true) {
        return vec![];
    }
    let dotenv = dir.join(".env");
    if dotenv.is_file() { vec![dotenv] } else { vec![] }
}

/// The first of `names` present in `dir`, warning when several are.
fn first_present(dir: &Path, names: &[&str], warnings: &mut Vec<String>) -> Option<PathBuf> {
    let present: Vec<PathBuf> = names.iter().map(|n| dir.join(n)).filter(|p| p.exists()).collect();
    if present.len() > 1 {
        let list: Vec<String> = present.iter().map(|p| p.display().to_string()).collect();
        warnings.push(format!(
            "Found multiple config files with supported names: {}; using {}",
            list.join(", "),
            list[0]
        ));
    }
    present.into_iter().next()
}

/// compose.yaml (and its override) in `start` or the nearest parent that has one.
fn find_default(start: &Path, warnings: &mut Vec<String>) -> Result<Vec<String>, ComposeError> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if let Some(main) = first_present(d, &FILE_NAMES, warnings) {
            let mut files = vec![main.display().to_string()];
            if let Some(o) = first_present(d, &OVERRIDE_NAMES, warnings) {
                files.push(o.display().to_string());
            }
            return Ok(files);
        }
        dir = d.parent();
    }
    Err(ComposeError::NoFile(format!(
        "no compose.yaml, compose.yml, docker-compose.yml or docker-compose.yaml in {} or its parents: create one or name it with -f FILE",
        start.display()
    )))
}

/// Decides the files, project directory and environment, and reads the files.
pub fn discover_with_warnings(opts: &LoadOptions, warnings: &mut Vec<String>) -> Result<Found, ComposeError> {
    let mut env = opts.environment.clone();
    env.entry("PWD".into()).or_insert_with(|| opts.cwd.display().to_string());
    let explicit: Vec<String> = opts
        .files
        .iter()
        .map(|f| if f == "-" { f.clone() } else { absolute(Path::new(f), &opts.cwd).display().to_string() })
        .collect();
    // The .env of the directory known so far may set COMPOSE_FILE.
    let first_dir = project_dir(opts, &explicit);
    let first_env_files = env_files_for(opts, &first_dir, &env);
    add_env_files(&mut env, &first_env_files)?;
    let files = if !explicit.is_empty() {
        explicit
    } else if let Some(list) = env.get("COMPOSE_FILE").filter(|l| !l.is_empty()) {
        let sep = env.get("COMPOSE_PATH_SEPARATOR").filter(|s| !s.is_empty()).map_or(":", String::as_str);
        list.split(sep).map(|f| absolute(Path::new(f), &opts.cwd).display().to_string()).collect()
    } else {
        let start = opts.project_directory.as_ref().map_or_else(|| opts.cwd.clone(), |d| absolute(d, &opts.cwd));
        find_default(&start, warnings)?
    };
    let dir = project_dir(opts, &files);
    if dir != first_dir {
        let more = env_files_for(opts, &dir, &env);
        add_env_files(&mut env, &more)?;
    }
    let mut sources = vec![];
    for f in files {
        let text = if f == "-" {
            opts.stdin.clone().unwrap_or_default()
        } else {
            std::fs::read_to_string(&f).map_err(|source| ComposeError::Read { path: f.clone(), source })?
        };
        sources.push(Source { name: f, text });
    }
    Ok(Found { project_dir: dir, sources, environment: env })
}

/// `discover_with_warnings` for callers that collect warnings elsewhere.
pub fn discover(opts: &LoadOptions) -> Result<(Found, Vec<String>), ComposeError> {
    let mut w = vec![];
    let found = discover_with_warnings(opts, &mut w)?;
    Ok((found, w))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{tmpdir, write};

    fn opts(cwd: &Path) -> LoadOptions {
        LoadOptions { cwd: cwd.to_path_buf(), interpolate: true, ..LoadOptions::default() }
    }

    #[test]
    fn finds_file_in_parent_with_override() {
        let d = tmpdir("compose-files-parent");
        write(&d.join("proj/compose.yaml"), "services: {}\n");
        write(&d.join("proj/compose.override.yml"), "services: {}\n");
        write(&d.join("proj/.env"), "A=from-dotenv\nB=file\n");
        std::fs::create_dir_all(d.join("proj/sub/deeper")).unwrap();
        let mut o = opts(&d.join("proj/sub/deeper"));
        o.environment.insert("B".into(), "process".into());
        let (f, _) = discover(&o).unwrap();
        assert_eq!(f.project_dir, d.join("proj"));
        let names: Vec<&str> = f.sources.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(
            names,
            [d.join("proj/compose.yaml").to_str().unwrap(), d.join("proj/compose.override.yml").to_str().unwrap()]
        );
        assert_eq!(f.environment["A"], "from-dotenv");
        assert_eq!(f.environment["B"], "process");
    }

    #[test]
    fn preference_order_and_warning() {
        let d = tmpdir("compose-files-order");
        write(&d.join("docker-compose.yml"), "a: 1\n");
        write(&d.join("compose.yml"), "a: 2\n");
        let (f, w) = discover(&opts(&d)).unwrap();
        assert_eq!(f.sources[0].text, "a: 2\n");
        assert!(w[0].contains("multiple config files"), "{w:?}");
    }

    #[test]
    fn compose_file_variable_and_separator() {
        let d = tmpdir("compose-files-env");
        write(&d.join("a.yaml"), "x: 1\n");
        write(&d.join("b/c.yaml"), "x: 2\n");
        write(&d.join(".env"), "COMPOSE_FILE=a.yaml;b/c.yaml\nCOMPOSE_PATH_SEPARATOR=;\n");
        let (f, _) = discover(&opts(&d)).unwrap();
        assert_eq!(f.sources.len(), 2);
        assert_eq!(f.sources[1].text, "x: 2\n");
        assert_eq!(f.project_dir, d);
    }

    #[test]
    fn explicit_files_stdin_and_env_files() {
        let d = tmpdir("compose-files-explicit");
        write(&d.join("sub/x.yaml"), "x: 1\n");
        write(&d.join("sub/.env"), "FROM=sub\n");
        write(&d.join("my.env"), "FROM=mine\nOTHER=1\n");
        let mut o = opts(&d);
        o.files = vec!["sub/x.yaml".into(), "-".into()];
        o.stdin = Some("y: 2\n".into());
        let (f, _) = discover(&o).unwrap();
        assert_eq!(f.project_dir, d.join("sub"));
        assert_eq!(f.sources[1].name, "-");
        assert_eq!(f.environment["FROM"], "sub");
        o.env_files = vec!["my.env".into()];
        let (f, _) = discover(&o).unwrap();
        assert_eq!(f.environment["FROM"], "mine");
        o.env_files = vec!["missing.env".into()];
        assert!(discover(&o).unwrap_err().to_string().contains("missing.env"));
    }

    #[test]
    fn nothing_found() {
        let d = tmpdir("compose-files-none");
        let e = discover(&opts(&d)).unwrap_err().to_string();
        assert!(e.starts_with("no compose.yaml") && e.contains("-f FILE"), "{e}");
    }
}
