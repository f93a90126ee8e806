//! Hidden entry points used when kiste re-executes itself (the storage helper inside a
//! user namespace). They run before logging or any thread starts.

use std::process::ExitCode;

/// Name of the hidden argv[1] that starts the storage helper.
pub const STORAGE_HELPER: &str = "__storage-helper";

pub fn dispatch_early() -> Option<ExitCode> {
    let arg = std::env::args_os().nth(1)?;
    if arg == STORAGE_HELPER {
        return Some(crate::storage::helper::main());
    }
    if arg == crate::storage::shared_userns::HOLDER {
        return Some(crate::storage::shared_userns::holder_main());
    }
    if arg == crate::monitor::WAIT {
        return Some(crate::monitor::wait_main());
    }
    if arg == crate::monitor::EXIT {
        return Some(crate::monitor::exit_main());
    }
    if arg == crate::monitor::MONITOR {
        return Some(crate::monitor::main());
    }
    if arg == crate::monitor::restart::RESTART {
        return Some(crate::monitor::restart::restart_main());
    }
    if arg == crate::monitor::health_timer::CHECK {
        return Some(crate::monitor::health_timer::check_main());
    }
    if arg == crate::runtime::exec::EXEC {
        return Some(crate::runtime::exec::main());
    }
    if arg == crate::netstack::MAIN {
        return Some(crate::netstack::main());
    }
    if arg == crate::runtime::exec::FILES {
        return Some(crate::runtime::exec::files_main());
    }
    if arg == crate::storage::cproot::ENTRY {
        return Some(crate::storage::cproot::main_running());
    }
    if arg == crate::engine::network::nsd::MAIN {
        return Some(crate::engine::network::nsd::main());
    }
    if arg == crate::engine::container::lifecycle::TIMEOUT {
        return Some(crate::engine::container::lifecycle::timeout_main());
    }
    if arg == crate::runtime::INIT {
        return Some(crate::runtime::init::main());
    }
    None
}
