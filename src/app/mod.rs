//! Wiring: each subcommand turns its parsed flags into a validated config, then calls the
//! library. `anyhow` is used here, at the binary's edge, and nowhere in the library.

mod bounds;
mod calibrate;
mod catalog;
mod compare;
mod completions;
mod devices;
mod merge;
mod project;
mod report;
mod run;
mod store;
mod validate;

use crate::cli::{Cli, Command};
use std::process::ExitCode;

/// Runs the parsed command line; the exit code says how it went.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Devices(args) => devices::execute(args),
        Command::Run(args) => run::execute(*args),
        Command::Merge(args) => merge::execute(args),
        Command::Report(args) => report::execute(args),
        Command::Completions(args) => completions::execute(args),
        Command::Validate(args) => validate::execute(args),
        Command::Project(args) => project::execute(args),
        Command::Compare(args) => compare::execute(args),
        Command::Calibrate(args) => calibrate::execute(args),
        Command::Catalog(args) => catalog::execute(args),
        Command::Store(args) => store::execute(args),
    }
}
