//! The `fleetbench` binary: parse, run, and turn any error into one line and a non-zero exit.

mod app;
mod cli;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    ignore_file_size_signal();
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

/// Under a file-size limit (`ulimit -f`) a write past it raises SIGXFSZ, whose default action
/// kills the process without a word and leaves its temporary file behind. Ignored, the write
/// fails with EFBIG instead, which the writers report in one line (naming the file) after
/// removing their temporary file.
fn ignore_file_size_signal() {
    #[cfg(unix)]
    // SAFETY: setting a signal's disposition to SIG_IGN installs no handler code, and this runs
    // first in main, before any thread is started.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
    }
}
