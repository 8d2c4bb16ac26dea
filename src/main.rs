//! The `fleetbench` binary: parse, run, and turn any error into one line and a non-zero exit.

mod app;
mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    match app::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // Errors carry names from files (adapters, hosts, fleets): escape what could drive a
            // terminal, as every other diagnostic line does.
            let line = format!("{e:#}");
            eprintln!("error: {}", fleetbench::output::escape_control(&line));
            ExitCode::from(2)
        }
    }
}
