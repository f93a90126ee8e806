//! kiste: a rootless, daemonless container tool.
//! This file owns process start-up only: argument parsing, logging, dispatch, and
//! mapping errors to Podman's exit codes. It must not contain command logic.

mod cli;
mod engine;
mod fdpass;
mod monitor;
mod netlink;
mod netstack;
mod pages;
mod runtime;
mod state;
mod storage;
mod template;
#[cfg(test)]
mod testutil;
mod util;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Hidden re-exec entry points (user-namespace helpers) must run before anything
    // can start a thread: unshare(CLONE_NEWUSER) refuses multi-threaded callers.
    if let Some(code) = cli::internal::dispatch_early() {
        return code;
    }
    cli::main()
}
