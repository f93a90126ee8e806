//! How the project commands tell their caller what they do: one event per resource and step
//! (`Container app-web-1  Started`, as docker compose prints them), warnings, and where a
//! build's output goes. The CLI implements it for the terminal; the engine never prints.

use crate::engine::build::exec::BuildOutput;

/// The kind of resource an event is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Network,
    Container,
    Image,
    Volume,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Network => "Network",
            Kind::Volume => "Volume",
            Kind::Container => "Container",
            Kind::Image => "Image",
        }
    }
}

/// Told of progress by the project commands; called from several threads at once.
pub trait Report: Sync {
    /// `kind name status`, e.g. (Container, "app-web-1", "Started").
    fn event(&self, kind: Kind, name: &str, status: &str);
    fn warn(&self, message: &str);
    /// Where the build of `service` prints (builds run one at a time).
    fn build_output(&self, service: &str) -> Box<dyn BuildOutput + '_>;
    /// Whether pulls show progress bars.
    fn pull_progress(&self) -> bool;
}
