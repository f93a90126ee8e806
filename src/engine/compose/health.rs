//! The health of a project's container, as `depends_on: condition: service_healthy` and
//! `up --wait` ask for it: the engine's health state (container::health). Reads only.

use crate::engine::Context;
use crate::engine::container::{self, health};

/// A container's health, as Docker and Podman report it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthStatus {
    Starting,
    Healthy,
    Unhealthy,
}

/// The health of container `id`; None when it has no health check (or is gone).
pub fn status(ctx: &Context, id: &str) -> Option<HealthStatus> {
    let c = container::resolve(&ctx.db().ok()?, id).ok()?;
    Some(match health::status(ctx, &c)? {
        health::Status::Starting => HealthStatus::Starting,
        health::Status::Healthy => HealthStatus::Healthy,
        health::Status::Unhealthy => HealthStatus::Unhealthy,
    })
}
