//! `fleetbench validate FILE…`: load each file, re-check it, print every finding. Exit 0 when
//! every file is clean, 1 when one is inconsistent, 2 when one cannot be read. Each bad file also
//! gets exactly one line on stderr naming it and its (first) problem, so scripts and people see
//! the verdict without parsing the table.

use crate::cli::ValidateArgs;
use fleetbench::output::Table;
use fleetbench::results;
use fleetbench::validate::{check_file, CatalogPeaks, Finding, PeakLookup};
use std::path::Path;
use std::process::ExitCode;

/// How one file fared.
enum Verdict {
    Clean(usize),
    Inconsistent(Vec<Finding>),
    Unreadable(String),
}

pub fn execute(args: ValidateArgs) -> anyhow::Result<ExitCode> {
    if args.files.is_empty() {
        anyhow::bail!("validate: give at least one result file");
    }
    let peaks = CatalogPeaks::builtin()?;
    let mut table = Table::new(&["file", "case", "check", "problem"]);
    let mut worst = 0u8;
    for path in &args.files {
        let verdict = judge(path, &peaks);
        worst = worst.max(report(path, &verdict, &mut table));
    }
    print!(
        "{}",
        table.render(args.format, fleetbench::output::terminal_width())
    );
    Ok(ExitCode::from(worst))
}

fn judge(path: &Path, peaks: &dyn PeakLookup) -> Verdict {
    match results::load(path) {
        Err(e) => Verdict::Unreadable(e.to_string()),
        Ok(file) => {
            let findings = check_file(&file, peaks);
            if findings.is_empty() {
                Verdict::Clean(file.cases.len())
            } else {
                Verdict::Inconsistent(findings)
            }
        }
    }
}

/// Adds the verdict's rows, prints its stderr line, and returns its exit code.
fn report(path: &Path, verdict: &Verdict, table: &mut Table) -> u8 {
    let name = path.display().to_string();
    match verdict {
        Verdict::Clean(cases) => {
            table.push(vec![
                name,
                "-".into(),
                "ok".into(),
                format!("{cases} case(s) consistent"),
            ]);
            0
        }
        Verdict::Unreadable(message) => {
            eprintln!("error: {}", one_line(message));
            table.push(vec![
                name,
                "-".into(),
                "unreadable".into(),
                one_line(message),
            ]);
            2
        }
        Verdict::Inconsistent(findings) => {
            let more = match findings.len() {
                1 => String::new(),
                n => format!(" (and {} more)", n - 1),
            };
            eprintln!(
                "{name}: inconsistent: {}{more}",
                one_line(&findings[0].to_string())
            );
            for f in findings {
                let case = f.case.clone().unwrap_or_else(|| "-".into());
                table.push(vec![
                    name.clone(),
                    case,
                    f.check.label().into(),
                    one_line(&f.message),
                ]);
            }
            1
        }
    }
}

/// Hostile files can put newlines in ids and messages; a verdict stays on one line.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}
