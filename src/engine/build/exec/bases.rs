//! The images a build starts from: FROM and `--from` references resolved in the store, or
//! pulled as `--pull` says, and their configs for the planner; and the sweep of containers
//! left by builds that were killed.

use super::{BuildError, BuildOptions};
use crate::engine::Context;
use crate::engine::build::plan::{BaseImage, BaseImages};
use crate::engine::container::create::PullPolicy;
use crate::engine::image::platform::Platform;
use crate::engine::image::{pull, store};
use serde_json::Value;
use std::collections::BTreeMap;

/// The planner's view of base images; remembers what each reference resolved to.
pub struct Bases<'a> {
    pub ex_images: &'a mut BTreeMap<String, String>,
    pub ctx: &'a Context,
    pub o: &'a BuildOptions,
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array().map(|a| a.iter().filter_map(|s| s.as_str().map(String::from)).collect()).unwrap_or_default()
}

impl BaseImages for Bases<'_> {
    fn config(&mut self, reference: &str, _platform: &Platform) -> Result<BaseImage, String> {
        let id = resolve_image(self.ctx, self.o, reference).map_err(|e| e.to_string())?;
        self.ex_images.insert(reference.to_string(), id.clone());
        let conn = self.ctx.db().map_err(|e| e.to_string())?;
        let rec = store::resolve(&conn, &id).map_err(|e| e.to_string())?;
        let doc: Value = serde_json::from_str(&rec.config).map_err(|e| format!("bad image config: {e}"))?;
        let c = &doc["config"];
        let shell = c.get("Shell").map(strings).filter(|s| !s.is_empty());
        Ok(BaseImage {
            env: strings(&c["Env"]),
            working_dir: c["WorkingDir"].as_str().unwrap_or_default().to_string(),
            user: c["User"].as_str().unwrap_or_default().to_string(),
            shell,
            on_build: strings(&c["OnBuild"]),
        })
    }
}

/// The stored image `r` names, pulled first when the policy says so.
pub fn resolve_image(ctx: &Context, o: &BuildOptions, r: &str) -> Result<String, BuildError> {
    let stored = || -> Result<Option<String>, BuildError> {
        match store::resolve(&*ctx.db()?, r) {
            Ok(rec) => Ok(Some(rec.id)),
            Err(store::StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e.into()),
        }
    };
    match o.pull {
        PullPolicy::Always => Ok(pull::pull(ctx, r, &o.pull_options)?),
        PullPolicy::Never => stored()?.ok_or_else(|| {
            BuildError::Invalid(format!("image \"{r}\" is not in the local store and --pull=never was given"))
        }),
        PullPolicy::Missing => match stored()? {
            Some(id) => Ok(id),
            None => Ok(pull::pull(ctx, r, &o.pull_options)?),
        },
    }
}

/// Removes the step containers of builds that are gone (killed): their processes were
/// stopped by the reconciliation that listing does.
pub fn sweep_stale(ctx: &Context) {
    use crate::engine::container::{self, lifecycle};
    let Ok(conn) = ctx.db() else { return };
    let Ok(list) = container::list_reconciled(ctx, &conn) else { return };
    drop(conn);
    for c in list {
        if c.kept.builder.is_some_and(|pid| !container::alive(pid as i64)) {
            let _ = lifecycle::remove(ctx, &c.id, true);
        }
    }
}
