//! Command-line definitions (clap) and dispatch: argument -> engine call -> output.
//! One file per command group; no engine logic here.

pub mod internal;

use std::process::ExitCode;

pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
