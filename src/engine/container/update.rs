//! `update`: new limits (`--memory`, `--cpus`, `--pids-limit` ...) and a new restart policy
//! for an existing container. Limits are checked as `run` checks them, written into the
//! running container's cgroup (`cgroup::Manager::update`) and into its config.json, so the
//! next start (a restart included) keeps them; the policy goes into the record, where the
//! monitor reads it when the container next ends.

use super::limits::{self, LimitArgs, Limits};
use super::restart::RestartPolicy;
use super::{Container, ContainerError};
use crate::engine::Context;
use crate::runtime::cgroup;
use oci_spec::runtime::{LinuxResources, Spec};

/// Applies the limits in `args` (those given) and `restart` to container `id`; returns the
/// warnings to show (flags accepted but ignored).
pub fn update(
    ctx: &Context,
    id: &str,
    args: &LimitArgs,
    restart: Option<RestartPolicy>,
) -> Result<Vec<String>, ContainerError> {
    let c = super::lifecycle::reload(ctx, id)?;
    let (l, warnings) = Limits::parse(args)?;
    if let Some(p) = restart
        && p != RestartPolicy::No
        && c.kept.rm
    {
        return Err(ContainerError::Invalid(format!(
            "invalid --restart \"{p}\": container {} was created with --rm, which a restart policy conflicts with",
            c.name
        )));
    }
    if let Some(delta) = l.to_resources(l.pids_limit)? {
        apply_limits(ctx, &c, &l, &delta)?;
    }
    if let Some(p) = restart {
        super::set_kept_fields(&*ctx.db()?, &c.id, &[("restart", serde_json::json!(p))])?;
    }
    Ok(warnings)
}

/// Writes `delta` (the limits given) into the running container's cgroup, then merges it
/// into config.json's `linux.resources`.
fn apply_limits(ctx: &Context, c: &Container, l: &Limits, delta: &LinuxResources) -> Result<(), ContainerError> {
    let path = c.dir(ctx).join("config.json");
    let bad_spec = |e: &dyn std::fmt::Display| ContainerError::Invalid(format!("cannot read {}: {e}", path.display()));
    let mut spec = Spec::load(&path).map_err(|e| bad_spec(&e))?;
    let mut linux = spec.linux().clone().unwrap_or_default();
    // Where the limits can go (each controller's delegation checked as at create).
    let setup = limits::setup(&ctx.paths, &ctx.idmap, l, &c.id)?;
    let cgroups_path = match (linux.cgroups_path(), setup.cgroups_path) {
        (Some(p), _) => p.to_string_lossy().into_owned(),
        (None, _) if c.is_running() => {
            return Err(ContainerError::Invalid(format!(
                "container {} runs without a cgroup of its own, so its limits cannot change now; stop it, update it, and start it again",
                c.name
            )));
        }
        (None, Some(p)) => p,
        (None, None) => {
            return Err(ContainerError::Invalid(
                "the limits cannot be applied: containers.conf disables cgroups (cgroups = \"disabled\")".into(),
            ));
        }
    };
    if let Some(pid1) = c.run_pid().and_then(|p| u32::try_from(p).ok()) {
        let host = cgroup::detect();
        let cg = cgroup::CgroupPath::parse(&cgroups_path).map_err(|e| ContainerError::Invalid(e.to_string()))?;
        let m = cgroup::Manager::new(&cgroup::RealFs, &host, cg).running(pid1);
        let failed =
            |e: cgroup::CgroupError| ContainerError::Invalid(format!("cannot update container {}: {e}", c.name));
        // v1 refuses a memory limit above memory+swap: raise memory+swap first when it grows.
        if let Some(swap_only) = swap_only(delta) {
            let _ = m.update(&swap_only);
        }
        m.update(delta).map_err(failed)?;
    }
    let merged = merge(linux.resources().as_ref(), delta)?;
    linux.set_resources(Some(merged)).set_cgroups_path(Some(cgroups_path.clone().into()));
    spec.set_linux(Some(linux));
    let text = serde_json::to_vec_pretty(&spec).map_err(|e| bad_spec(&e))?;
    crate::util::atomic_write(&path, &text, 0o600).map_err(|e| ContainerError::io("cannot write", &path, e))?;
    if c.kept.cgroup.is_none() {
        super::set_kept_fields(&*ctx.db()?, &c.id, &[("cgroup", serde_json::json!(cgroups_path))])?;
    }
    Ok(())
}

/// The memory+swap limit of `delta` alone, when it has one.
fn swap_only(delta: &LinuxResources) -> Option<LinuxResources> {
    let swap = delta.memory().as_ref()?.swap()?;
    let mem = oci_spec::runtime::LinuxMemoryBuilder::default().swap(swap).build().ok()?;
    oci_spec::runtime::LinuxResourcesBuilder::default().memory(mem).build().ok()
}

/// `base` with every value `delta` sets replaced (lists of devices as a whole).
fn merge(base: Option<&LinuxResources>, delta: &LinuxResources) -> Result<LinuxResources, ContainerError> {
    fn overlay(base: &mut serde_json::Value, top: &serde_json::Value) {
        match (base, top) {
            (serde_json::Value::Object(b), serde_json::Value::Object(t)) => {
                for (k, v) in t {
                    overlay(b.entry(k.clone()).or_insert(serde_json::Value::Null), v);
                }
            }
            (b, t) => *b = t.clone(),
        }
    }
    let e = |e: serde_json::Error| ContainerError::Invalid(format!("cannot merge the limits: {e}"));
    let mut v = serde_json::to_value(base.cloned().unwrap_or_default()).map_err(e)?;
    overlay(&mut v, &serde_json::to_value(delta).map_err(e)?);
    serde_json::from_value(v).map_err(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(f: impl FnOnce(&mut LimitArgs)) -> LinuxResources {
        let mut a = LimitArgs::default();
        f(&mut a);
        let (l, _) = Limits::parse(&a).unwrap();
        l.to_resources(l.pids_limit).unwrap().unwrap()
    }

    #[test]
    fn new_limits_replace_only_what_they_set() {
        let base = limits(|a| {
            a.memory = Some("256m".into());
            a.cpus = Some("1".into());
            a.pids_limit = Some("100".into());
        });
        let m = merge(Some(&base), &limits(|a| a.memory = Some("32m".into()))).unwrap();
        assert_eq!(m.memory().unwrap().limit(), Some(32 << 20));
        assert_eq!(m.memory().unwrap().swap(), Some(64 << 20));
        assert_eq!(m.cpu().as_ref().unwrap().quota(), Some(100_000), "the CPU limit stays");
        assert_eq!(m.pids().unwrap().limit(), 100);
        let m = merge(Some(&m), &limits(|a| a.pids_limit = Some("-1".into()))).unwrap();
        assert_eq!(m.pids().unwrap().limit(), 0, "unlimited, written as max");
        assert_eq!(merge(None, &base).unwrap(), base);
        let s = swap_only(&limits(|a| a.memory = Some("32m".into()))).unwrap();
        assert_eq!((s.memory().unwrap().swap(), s.memory().unwrap().limit()), (Some(64 << 20), None));
    }
}
