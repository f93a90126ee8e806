//! The health of a project's container, as `depends_on: condition: service_healthy` and
//! `up --wait` ask for it. PLUG-IN POINT: the engine has no health checks yet (the health
//! helper adds `State.Health`); until the lead wires `status` to it, it answers None and a
//! project that needs health fails with a clear error. Reads nothing today.

use crate::engine::Context;

/// A container's health, as Docker and Podman report it.
#[allow(dead_code)] // the variants come with the health checks
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthStatus {
    Starting,
    Healthy,
    Unhealthy,
}

/// The health of container `id`; None when it has no health check (or the engine has none).
pub fn status(_ctx: &Context, _id: &str) -> Option<HealthStatus> {
    // PLUG-IN: read the container's health (State.Health.Status) once the engine has it.
    None
}

/// Whether the engine runs health checks at all (false until the plug-in above is wired).
pub const AVAILABLE: bool = false;

/// The error for a project that needs health checks while the engine has none.
pub fn unavailable(path: &str) -> super::ComposeError {
    super::ComposeError::unsupported(path, "health checks")
}
