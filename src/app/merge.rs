//! `fleetbench merge`: gather result files from files and directories, load each through the
//! checking loader, merge them, print the report (spread per group, outlier units) in the
//! chosen format, and optionally write the same report as JSON. Every file that is not merged
//! — unreadable, inconsistent, a duplicate — is listed with the reason; none is dropped
//! silently.

use crate::cli::MergeArgs;
use anyhow::{bail, Context};
use fleetbench::merge::{self, MergeReport, Skipped};
use fleetbench::output;
use fleetbench::results::ResultFile;
use fleetbench::validate::{load_checked, CatalogPeaks, LoadPolicy};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// A parsed result file and where it came from.
type Loaded = (PathBuf, ResultFile);

pub fn execute(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let threshold = args.threshold / 100.0;
    merge::check_threshold(threshold).with_context(|| {
        format!(
            "--threshold {}: expected a percentage between 0 and 100",
            args.threshold
        )
    })?;
    check_output(args.output.as_deref(), args.force)?;
    let (files, skipped) = load_all(&args.inputs)?;
    report_skips(&skipped, args.strict)?;
    if files.is_empty() {
        bail!(
            "no result files to merge among the inputs ({} skipped)",
            skipped.len()
        );
    }
    let report = merge::merge(files, skipped, threshold)?;
    output::emit(&output::render(
        &report,
        args.format,
        output::terminal_width(),
    )?)?;
    if let Some(path) = &args.output {
        let json = output::json(&report)?;
        fleetbench::results::store::write_atomic(path, json.as_bytes())?;
        eprintln!("wrote {}", path.display());
    }
    summarize(&report);
    let outliers = report.outliers().len();
    Ok(if outliers > 0 && args.fail_on_outliers {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn check_output(output: Option<&Path>, force: bool) -> anyhow::Result<()> {
    match output {
        Some(p) if p.is_dir() => bail!("{}: is a directory; give a file name with -o", p.display()),
        Some(p) if p.exists() && !force => {
            bail!("{}: already exists (use --force to overwrite)", p.display())
        }
        _ => Ok(()),
    }
}

/// Every input file loaded and checked, or listed as skipped with the reason (a file `compare`
/// would refuse is not merged either). A missing input is an error: a typo in a path must not
/// look like an empty fleet.
fn load_all(inputs: &[PathBuf]) -> anyhow::Result<(Vec<Loaded>, Vec<Skipped>)> {
    let mut candidates = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input)
            .with_context(|| format!("{}: cannot read this input", input.display()))?;
        if meta.is_dir() {
            walk(input, &mut candidates, &mut skipped)?;
        } else {
            candidates.push(input.clone());
        }
    }
    let peaks = CatalogPeaks::builtin()?;
    let mut files = Vec::with_capacity(candidates.len());
    for path in candidates {
        match load_checked(&path, LoadPolicy::Refuse, &peaks) {
            Ok(checked) => files.push((path, checked.file)),
            Err(e) => skipped.push(Skipped {
                reason: e
                    .to_string()
                    .trim_start_matches(&format!("{}: ", path.display()))
                    .to_string(),
                path,
            }),
        }
    }
    Ok((files, skipped))
}

/// Collects `*.json` files under `dir` in name order; everything else is listed as skipped.
fn walk(dir: &Path, found: &mut Vec<PathBuf>, skipped: &mut Vec<Skipped>) -> anyhow::Result<()> {
    let mut entries = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot list the directory", dir.display()))?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("{}: cannot list the directory", dir.display()))?;
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            walk(&path, found, skipped)?;
        } else if name.starts_with(".fleetbench-") && name.ends_with(".tmp") {
            skipped.push(skip(
                path,
                "temporary file of a run that is still writing or crashed",
            ));
        } else if !name.ends_with(".json") {
            skipped.push(skip(path, "not a .json file"));
        } else {
            found.push(path);
        }
    }
    Ok(())
}

fn skip(path: PathBuf, reason: &str) -> Skipped {
    Skipped {
        path,
        reason: reason.to_string(),
    }
}

fn report_skips(skipped: &[Skipped], strict: bool) -> anyhow::Result<()> {
    if let (true, Some(first)) = (strict, skipped.first()) {
        bail!(
            "{}: {} (--strict refuses skipped files; {} in all)",
            first.path.display(),
            first.reason,
            skipped.len()
        );
    }
    Ok(())
}

/// One line per skipped file and per group note, then the counts, on stderr.
fn summarize(report: &MergeReport) {
    for s in &report.skipped {
        eprintln!("skipped {}: {}", s.path.display(), s.reason);
    }
    for g in &report.groups {
        if let Some(note) = &g.note {
            eprintln!("{}: no outlier verdict, {note}", g.key.label());
        }
    }
    let merged: usize = report.groups.iter().map(|g| g.units.len()).sum();
    eprintln!(
        "merged {merged} file(s) into {} group(s), skipped {}; {} outlier(s) at {}% below the group median",
        report.groups.len(),
        report.skipped.len(),
        report.outliers().len(),
        report.threshold * 100.0
    );
}
