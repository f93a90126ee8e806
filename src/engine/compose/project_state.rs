//! What exists of a project, found by its labels: its containers (records brought up to date),
//! its networks, and every project the user has (`compose ls`). Reads the state database and
//! network definitions; changes nothing but a stale record (as every listing does).

use super::ComposeError;
use super::naming;
use crate::engine::Context;
use crate::engine::container::{self, Container};
use crate::engine::network::named;
use std::collections::BTreeMap;

/// A container of a project, with what its labels say.
#[derive(Debug, Clone)]
pub struct ProjectContainer {
    pub c: Container,
    pub service: String,
    /// `container-number` (1 for one-off containers without one).
    pub number: u32,
    pub oneoff: bool,
    /// The config hash the container was made from.
    pub hash: String,
}

impl ProjectContainer {
    fn from(c: Container) -> ProjectContainer {
        let label = |k: &str| c.kept.labels.get(k).cloned().unwrap_or_default();
        ProjectContainer {
            service: label(naming::SERVICE),
            number: label(naming::NUMBER).parse().unwrap_or(1),
            oneoff: label(naming::ONEOFF).eq_ignore_ascii_case("true"),
            hash: label(naming::CONFIG_HASH),
            c,
        }
    }

    /// `SERVICE-N` or the custom container name: log prefixes and status lines.
    pub fn short_name(&self) -> String {
        naming::short_name(&self.c)
    }
}

/// The project's containers (one-off ones too), sorted by service, then number, then name.
pub fn containers(ctx: &Context, project: &str) -> Result<Vec<ProjectContainer>, ComposeError> {
    let conn = ctx.db()?;
    let mut out = Vec::new();
    for mut c in container::list(&conn)? {
        if c.kept.labels.get(naming::PROJECT).map(String::as_str) != Some(project) {
            continue;
        }
        container::reconcile(ctx, &conn, &mut c)?;
        out.push(ProjectContainer::from(c));
    }
    out.sort_by(|a, b| (&a.service, a.number, &a.c.name).cmp(&(&b.service, b.number, &b.c.name)));
    Ok(out)
}

/// The networks created for the project (by label).
pub fn networks(ctx: &Context, project: &str) -> Result<Vec<named::Network>, ComposeError> {
    let all = named::Store::new(&ctx.paths.data).list()?;
    Ok(all.into_iter().filter(|n| n.labels.get(naming::PROJECT).map(String::as_str) == Some(project)).collect())
}

/// One project as `compose ls` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectSummary {
    pub name: String,
    /// Container count by state (`running`, `exited`, `created`).
    pub states: BTreeMap<&'static str, usize>,
    /// The compose files (the label of the project's first container).
    pub config_files: String,
    pub working_dir: String,
}

impl ProjectSummary {
    /// docker compose's STATUS: `running(2), exited(1)`.
    pub fn status(&self) -> String {
        self.states.iter().map(|(s, n)| format!("{s}({n})")).collect::<Vec<_>>().join(", ")
    }

    pub fn is_running(&self) -> bool {
        self.states.contains_key("running")
    }
}

/// Every project that has containers, by name.
pub fn projects(ctx: &Context) -> Result<Vec<ProjectSummary>, ComposeError> {
    let conn = ctx.db()?;
    let mut by_name: BTreeMap<String, ProjectSummary> = BTreeMap::new();
    for mut c in container::list(&conn)? {
        let Some(name) = c.kept.labels.get(naming::PROJECT).cloned() else { continue };
        container::reconcile(ctx, &conn, &mut c)?;
        let p = by_name.entry(name.clone()).or_insert_with(|| ProjectSummary {
            name,
            config_files: c.kept.labels.get(naming::CONFIG_FILES).cloned().unwrap_or_default(),
            working_dir: c.kept.labels.get(naming::WORKING_DIR).cloned().unwrap_or_default(),
            ..ProjectSummary::default()
        });
        let state = c.state.as_str();
        *p.states.entry(state).or_default() += 1;
    }
    Ok(by_name.into_values().collect())
}
