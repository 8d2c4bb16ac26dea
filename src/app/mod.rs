//! Wiring: each subcommand turns its parsed flags into a validated config, then calls the
//! library. `anyhow` is used here, at the binary's edge, and nowhere in the library.

/// `eprintln!` for every diagnostic line: names in it come from other machines' files, so
/// control characters and bidi overrides are escaped visibly before they reach a terminal.
macro_rules! note {
    ($($arg:tt)*) => {
        eprintln!("{}", fleetbench::output::escape_control(&format!($($arg)*)))
    };
}

mod bounds;
mod calibrate;
mod catalog;
mod compare;
mod completions;
mod devices;
mod interrupt;
mod merge;
mod progress;
mod project;
mod report;
mod run;
mod store;
mod store_input;
mod validate;

use crate::cli::{Cli, Command, OutputArgs};
use fleetbench::compare::{Group, Source};
use fleetbench::output::Export;
use fleetbench::validate::LoadPolicy;
use std::path::PathBuf;
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

impl OutputArgs {
    /// The checked `-o` target, if any: call before loading inputs, so a file that exists
    /// without `--force`, a bad extension or an output that is one of `inputs` fails at once.
    pub fn export(&self, inputs: &[PathBuf]) -> anyhow::Result<Option<Export>> {
        let Some(path) = &self.output else {
            return Ok(None);
        };
        Ok(Some(Export::check(path, self.force, inputs)?))
    }
}

/// `compare`'s loader for `compare` and `calibrate` (files and stored runs alike), with what it
/// dropped shown on stderr.
fn load_groups(groups: Vec<Vec<Source>>, policy: LoadPolicy) -> anyhow::Result<Vec<Group>> {
    let loaded = fleetbench::compare::load_sources(groups, policy)?;
    for warning in &loaded.warnings {
        note!("warning: {warning}");
    }
    Ok(loaded.groups)
}
