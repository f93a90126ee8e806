//! Loading a project from the command line's choices: files found (files.rs), the project
//! name decided, each file parsed, interpolated, checked, its `include`s and `extends`
//! applied, merged over the previous ones, paths resolved; then resolve.rs types it. Also the
//! per-load context that include.rs and extends.rs share. Reads files and stdin text only.

use super::interpolate::{self, Env};
use super::model::Project;
use super::{ComposeError, check, extends, files, include, merge, paths, resolve, yaml};
use serde_norway::{Mapping, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What `kiste compose` was told (its global flags) and the process around it.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-f`, in order; `-` is stdin. Empty: COMPOSE_FILE, else found from `cwd` upwards.
    pub files: Vec<String>,
    /// `-p`.
    pub project_name: Option<String>,
    /// `--project-directory`.
    pub project_directory: Option<PathBuf>,
    /// `--env-file` (replace the project directory's `.env`).
    pub env_files: Vec<PathBuf>,
    /// `--profile`; empty: COMPOSE_PROFILES.
    pub profiles: Vec<String>,
    /// false for `config --no-interpolate`.
    pub interpolate: bool,
    /// The working directory relative paths of flags are taken from.
    pub cwd: PathBuf,
    /// The process environment.
    pub environment: BTreeMap<String, String>,
    /// The text of stdin when a file is `-`.
    pub stdin: Option<String>,
}

/// A loaded project and the warnings met on the way (unset variables, obsolete `version`...),
/// for the caller to print.
#[derive(Debug)]
pub struct Loaded {
    pub project: Project,
    pub warnings: Vec<String>,
}

/// Loads, merges, resolves and checks the project.
pub fn load(opts: &LoadOptions) -> Result<Loaded, ComposeError> {
    let (tree, setup, mut warnings) = load_tree(opts)?;
    let project = resolve::project(tree, setup, &mut warnings)?;
    Ok(Loaded { project, warnings })
}

/// The merged tree before typing (what `config --no-interpolate` prints), with its warnings.
pub fn load_model(opts: &LoadOptions) -> Result<(Mapping, Vec<String>), ComposeError> {
    let (mut tree, setup, warnings) = load_tree(opts)?;
    tree.insert("name".into(), setup.name.into());
    Ok((tree, warnings))
}

/// Everything about the project other than its tree.
pub struct Setup {
    pub name: String,
    pub working_dir: PathBuf,
    pub files: Vec<String>,
    pub environment: BTreeMap<String, String>,
    pub profiles: Vec<String>,
}

fn load_tree(opts: &LoadOptions) -> Result<(Mapping, Setup, Vec<String>), ComposeError> {
    let (found, file_warnings) = files::discover(opts)?;
    let mut env = found.environment;
    let mut ctx = Ctx::new(env.clone(), opts.interpolate);
    ctx.warnings = file_warnings;
    let parsed = found
        .sources
        .iter()
        .map(|s| Ok((s.name.clone(), yaml::parse(&s.text, &s.name)?)))
        .collect::<Result<Vec<_>, ComposeError>>()?;
    let name = project_name(opts, &env, &parsed, &found.project_dir, &mut ctx)?;
    env.insert("COMPOSE_PROJECT_NAME".into(), name.clone());
    ctx.env = env.clone();
    let tree = ctx.merge_files(parsed, &found.project_dir)?;
    let profiles = if opts.profiles.is_empty() {
        env.get("COMPOSE_PROFILES")
            .map(|p| p.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect())
    } else {
        None
    };
    let setup = Setup {
        name,
        working_dir: found.project_dir,
        files: found.sources.into_iter().map(|s| s.name).collect(),
        environment: env,
        profiles: profiles.unwrap_or_else(|| opts.profiles.clone()),
    };
    Ok((tree, setup, ctx.warnings))
}

/// docker compose's rule: lowercase, only `[a-z0-9_-]`, starting with a letter or digit.
pub fn normalize_project_name(s: &str) -> String {
    let lower = s.to_lowercase();
    let kept: String =
        lower.chars().filter(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == '-').collect();
    kept.trim_start_matches(['_', '-']).to_string()
}

fn invalid_name(n: &str, flag: &str) -> ComposeError {
    ComposeError::Project(format!(
        "invalid project name \"{n}\" ({flag}): use only lowercase letters, digits, '-' and '_', starting with a letter or digit"
    ))
}

/// `-p`, else COMPOSE_PROJECT_NAME, else the files' `name:`, else the directory's name.
fn project_name(
    opts: &LoadOptions,
    env: &BTreeMap<String, String>,
    parsed: &[(String, Vec<Mapping>)],
    dir: &Path,
    ctx: &mut Ctx,
) -> Result<String, ComposeError> {
    if let Some(n) = &opts.project_name {
        return if normalize_project_name(n) == *n && !n.is_empty() {
            Ok(n.clone())
        } else {
            Err(invalid_name(n, "-p"))
        };
    }
    if let Some(n) = env.get("COMPOSE_PROJECT_NAME").filter(|n| !n.is_empty()) {
        return if normalize_project_name(n) == *n {
            Ok(n.clone())
        } else {
            Err(invalid_name(n, "COMPOSE_PROJECT_NAME"))
        };
    }
    let mut from_files = None;
    for (file, docs) in parsed {
        for doc in docs {
            if let Some(v) = doc.get("name") {
                let mut v = v.clone();
                if ctx.interpolate {
                    ctx.interpolate(&mut v, "name", file)?;
                }
                match v {
                    Value::String(s) if !s.is_empty() => from_files = Some(normalize_project_name(&s)),
                    Value::String(_) | Value::Null => {}
                    other => {
                        return Err(ComposeError::invalid(
                            file,
                            "name",
                            format!("expected a string, got {}", yaml::kind(&other)),
                        ));
                    }
                }
            }
        }
    }
    let name = from_files.filter(|n| !n.is_empty()).unwrap_or_else(|| {
        normalize_project_name(&dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default())
    });
    if name.is_empty() {
        return Err(ComposeError::Project(format!(
            "project name must not be empty (directory \"{}\"): set one with -p NAME or name: in the compose file",
            dir.display()
        )));
    }
    Ok(name)
}

/// State shared while one (sub-)project's files load: its interpolation environment, the
/// include chain (for cycles) and the warnings so far.
pub struct Ctx {
    pub env: BTreeMap<String, String>,
    pub interpolate: bool,
    pub included: Vec<String>,
    pub warnings: Vec<String>,
}

impl Ctx {
    pub fn new(env: BTreeMap<String, String>, interpolate: bool) -> Ctx {
        Ctx { env, interpolate, included: vec![], warnings: vec![] }
    }

    pub fn home(&self) -> Option<PathBuf> {
        self.env.get("HOME").map(PathBuf::from)
    }

    /// Interpolates `v` (found at `path` in `file`), recording unset variables once.
    pub fn interpolate(&mut self, v: &mut Value, path: &str, file: &str) -> Result<(), ComposeError> {
        let vars = &self.env;
        let lookup = |k: &str| vars.get(k).cloned();
        let mut e = Env { lookup: &lookup, missing: vec![] };
        interpolate::interpolate(v, path, file, &mut e)?;
        for m in e.missing {
            let w = format!("The \"{m}\" variable is not set. Defaulting to a blank string.");
            if !self.warnings.contains(&w) {
                self.warnings.push(w);
            }
        }
        Ok(())
    }

    /// Reads and parses a file that `extends` or `include` names.
    pub fn read(&mut self, path: &Path) -> Result<Vec<Mapping>, ComposeError> {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| ComposeError::Read { path: name.clone(), source })?;
        yaml::parse(&text, &name)
    }

    /// One file's documents interpolated and checked, merged into one tree (no include or
    /// extends applied yet).
    pub fn prepare(&mut self, file: &str, docs: Vec<Mapping>) -> Result<Vec<Mapping>, ComposeError> {
        let mut out = vec![];
        for doc in docs {
            let mut v = Value::Mapping(doc);
            if self.interpolate {
                self.interpolate(&mut v, "", file)?;
                check::file(&v, file, &mut self.warnings)?;
            }
            if let Value::Mapping(m) = v {
                out.push(m);
            }
        }
        Ok(out)
    }

    /// Merges the files of one project in order (each with its includes and extends) and
    /// resolves relative paths against `base`.
    pub fn merge_files(&mut self, parsed: Vec<(String, Vec<Mapping>)>, base: &Path) -> Result<Mapping, ComposeError> {
        let mut acc = Value::Mapping(Mapping::new());
        for (file, docs) in parsed {
            for mut doc in self.prepare(&file, docs)? {
                include::apply(&mut doc, &file, base, self)?;
                extends::apply(&mut doc, &file, base, self)?;
                acc = merge::merge(acc, Value::Mapping(doc), &[]).map_err(|m| ComposeError::invalid(&file, "", m))?;
                merge::enforce_unicity(&mut acc, &mut vec![]);
                yaml::strip_tags(&mut acc);
            }
        }
        let Value::Mapping(mut tree) = acc else {
            return Err(ComposeError::Project("the merged model is not a mapping".into()));
        };
        paths::resolve(&mut tree, base, self.home().as_deref());
        Ok(tree)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names() {
        assert_eq!(normalize_project_name("My App.v2"), "myappv2");
        assert_eq!(normalize_project_name("_-x_y"), "x_y");
        assert_eq!(normalize_project_name("Übung"), "bung");
        assert_eq!(normalize_project_name("---"), "");
    }
}
