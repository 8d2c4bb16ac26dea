//! `fleetbench validate FILE…`: load each file, re-check it, print every finding. Exit 0 when
//! every file is clean, 1 when one is inconsistent, 2 when one cannot be read. Each bad file also
//! gets exactly one line on stderr naming it and its (first) problem, so scripts and people see
//! the verdict without parsing the table.

use crate::cli::ValidateArgs;
use fleetbench::output;
use fleetbench::validate::verdicts::{judge, FileVerdict, ValidationReport, Verdict};
use fleetbench::validate::CatalogPeaks;
use std::process::ExitCode;

pub fn execute(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    if args.files.is_empty() {
        anyhow::bail!("validate: give at least one result file");
    }
    let peaks = CatalogPeaks::builtin()?;
    let report = ValidationReport {
        files: args.files.iter().map(|p| judge(p, &peaks)).collect(),
    };
    for file in &report.files {
        warn(file);
    }
    output::emit(&output::render(
        &report,
        args.format,
        output::terminal_width(),
    )?)?;
    Ok(ExitCode::from(report.exit_code()))
}

/// The one stderr line of a file that is not clean.
fn warn(file: &FileVerdict) {
    let name = file.path.display();
    match &file.verdict {
        Verdict::Clean { .. } => {}
        Verdict::Unreadable { message } => note!("error: {message}"),
        Verdict::Inconsistent { findings } => {
            let more = match findings.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            let first = &findings[0];
            let problem = match &first.case {
                Some(case) => format!("case {case}: {}", first.message),
                None => first.message.clone(),
            };
            note!("{name}: inconsistent: {problem}{more}");
        }
    }
}
