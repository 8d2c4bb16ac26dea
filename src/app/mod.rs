//! Wiring: each subcommand turns its parsed flags into a validated config, then calls the
//! library. `anyhow` is used here, at the binary's edge, and nowhere in the library.

mod devices;
mod run;
mod tuning;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

/// Runs the parsed command line; the exit code says how it went.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Devices(args) => devices::execute(args),
        Command::Run(args) => run::execute(*args),
    }
}
