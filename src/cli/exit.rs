//! Podman's exit codes for failures, decided from the engine's typed errors at the CLI edge:
//! 1 when `rm`/`rmi`/`volume rm`/`network rm` name something that does not exist, 2 when `rm`
//! meets a running container (or `rmi` an image, `volume rm` a volume in use), 125 for every
//! other kiste error. 126/127
//! (the command could not run) come from the start path itself (`run::exec_exit`).

use crate::engine::container::ContainerError;
use crate::engine::image::{manage::ManageError, store::StoreError};
use crate::engine::network::NetError;
use crate::engine::volume::VolumeError;

/// An error printed as usual that ends the command with `code`.
#[derive(Debug)]
pub struct Coded {
    pub code: u8,
    pub error: anyhow::Error,
}

impl std::fmt::Display for Coded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", super::one_line(&self.error))
    }
}

impl std::error::Error for Coded {}

/// Which removal failed: Podman gives special codes only to these.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// `rm`, `container rm`.
    Rm,
    /// `rmi`, `image rm`.
    Rmi,
    /// `volume rm`.
    VolumeRm,
    /// `network rm`.
    NetworkRm,
}

/// The exit code Podman gives `verb` failing with `e`.
pub fn code(verb: Verb, e: &anyhow::Error) -> u8 {
    if let Some(c) = e.downcast_ref::<Coded>() {
        return c.code;
    }
    let missing = 1;
    match verb {
        Verb::Rm => match e.downcast_ref::<ContainerError>() {
            Some(ContainerError::NotFound(_)) => missing,
            Some(ContainerError::Running(_)) => 2,
            _ => 125,
        },
        Verb::Rmi => match e.downcast_ref::<ManageError>() {
            Some(ManageError::Store(StoreError::NotFound(_))) => missing,
            Some(ManageError::InUse { .. }) => 2,
            _ => match e.downcast_ref::<StoreError>() {
                Some(StoreError::NotFound(_)) => missing,
                _ => 125,
            },
        },
        Verb::VolumeRm => match e.downcast_ref::<VolumeError>() {
            Some(VolumeError::NotFound(_)) => missing,
            Some(VolumeError::InUse { .. }) => 2,
            _ => 125,
        },
        Verb::NetworkRm => match e.downcast_ref::<NetError>() {
            Some(NetError::NotFound(_)) => missing,
            _ => 125,
        },
    }
}

/// `e` ending the command with the code `verb` gives it.
pub fn coded(verb: Verb, e: impl Into<anyhow::Error>) -> anyhow::Error {
    let error = e.into();
    Coded { code: code(verb, &error), error }.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_errors_map_to_podmans_codes() {
        let e = |x: ContainerError| anyhow::Error::from(x);
        assert_eq!(code(Verb::Rm, &e(ContainerError::NotFound("x".into()))), 1);
        assert_eq!(code(Verb::Rm, &e(ContainerError::Running("x".into()))), 2);
        assert_eq!(code(Verb::Rm, &e(ContainerError::Invalid("x".into()))), 125);
        let m = anyhow::Error::from(ManageError::Store(StoreError::NotFound("img".into())));
        assert_eq!(code(Verb::Rmi, &m), 1);
        let used = anyhow::Error::from(ManageError::InUse { id: "i".into(), containers: "c".into() });
        assert_eq!(code(Verb::Rmi, &used), 2);
        assert_eq!(code(Verb::NetworkRm, &anyhow::Error::from(NetError::NotFound("n".into()))), 1);
        assert_eq!(code(Verb::NetworkRm, &anyhow::Error::from(NetError::Invalid("n".into()))), 125);
        assert_eq!(code(Verb::Rmi, &coded(Verb::Rm, ContainerError::Running("x".into()))), 2);
        assert_eq!(code(Verb::VolumeRm, &anyhow::Error::from(VolumeError::NotFound("v".into()))), 1);
        let busy = VolumeError::InUse { name: "v".into(), users: "c".into() };
        assert_eq!(code(Verb::VolumeRm, &anyhow::Error::from(busy)), 2);
        assert_eq!(code(Verb::VolumeRm, &anyhow::Error::from(VolumeError::Invalid("v".into()))), 125);
    }
}
