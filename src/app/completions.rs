//! `fleetbench completions SHELL`: the completion script is generated from the clap definition
//! itself, so it can never offer a flag the binary does not have.

use crate::cli::{Cli, CompletionsArgs};
use clap::CommandFactory;
use std::process::ExitCode;

/// Writes the completion script for the chosen shell to standard output.
pub fn execute(args: CompletionsArgs) -> anyhow::Result<ExitCode> {
    let mut command = Cli::command();
    let name = command.get_name().to_string();
    clap_complete::generate(args.shell, &mut command, name, &mut std::io::stdout());
    Ok(ExitCode::SUCCESS)
}
