//! `fleetbench merge`: gather result files from files and directories (each loaded through the
//! checking loader) and from a results store (`--store` with filters), merge them one at a time, print the report (spread per group, outlier units) in the
//! chosen format, and optionally write the same report as JSON. Every file that is not merged
//! — unreadable, inconsistent, a duplicate — is listed with the reason; none is dropped
//! silently.

use crate::cli::MergeArgs;
use anyhow::{bail, Context};
use fleetbench::fsio;
use fleetbench::merge::{self, MergeReport, Merger, Skipped};
use fleetbench::output;
use fleetbench::store::{self, Location, OpenMode, RunFilter};
use fleetbench::validate::{load_checked, CatalogPeaks, LoadPolicy};
use std::path::PathBuf;
use std::process::ExitCode;

pub fn execute(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let threshold = args.threshold / 100.0;
    merge::check_threshold(threshold).with_context(|| {
        format!(
            "--threshold {}: expected a percentage between 0 and 100",
            args.threshold
        )
    })?;
    // The target is checked against the named inputs (and a SQLite store) at once, and again
    // against every file found under a named directory.
    let mut named = args.inputs.clone();
    named.extend(args.store.as_deref().and_then(sqlite_path));
    args.out.export(&named)?;
    let (candidates, walk_skipped) = gather(&args.inputs)?;
    let export = args.out.export(&candidates)?;
    let mut merger = Merger::new(threshold, args.samples)?;
    merger.expect(candidates.len());
    let (mut loaded, skipped) = load_all(candidates, walk_skipped, &mut merger)?;
    loaded += load_stored(&args, &mut merger)?;
    report_skips(&skipped, args.strict)?;
    if let (0, Some(first)) = (loaded, skipped.first()) {
        let more = match skipped.len() {
            1 => String::new(),
            n => format!("; and {} more like it", n - 1),
        };
        bail!(
            "no result files to merge among the inputs: {} skipped ({}: {}{more})",
            skipped.len(),
            first.path.display(),
            first.reason
        );
    }
    if loaded == 0 {
        bail!("no result files to merge among the inputs");
    }
    merger.check_simulated(args.allow_simulated)?;
    for skip in skipped {
        merger.skip(skip);
    }
    let report = merger.finish()?;
    output::print(&report, args.out.format, output::terminal_width())?;
    if let Some(export) = &export {
        export.write(&report)?;
        note!("wrote {}", export.path().display());
    }
    summarize(&report);
    let outliers = report.outliers().len();
    Ok(if outliers > 0 && args.fail_on_outliers {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Every input file named or found under a named directory, and the entries of those
/// directories that are not taken. A missing input is an error: a typo in a path must not look
/// like an empty fleet.
fn gather(inputs: &[PathBuf]) -> anyhow::Result<(Vec<PathBuf>, Vec<Skipped>)> {
    let mut candidates = Vec::new();
    let mut skipped = Vec::new();
    for input in inputs {
        let meta = std::fs::metadata(input)
            .with_context(|| format!("{}: cannot read this input", input.display()))?;
        if meta.is_dir() {
            let walked = fsio::walk_json(input)?;
            candidates.extend(walked.files);
            skipped.extend(
                walked
                    .skipped
                    .into_iter()
                    .map(|(path, reason)| Skipped { path, reason }),
            );
        } else {
            candidates.push(input.clone());
        }
    }
    Ok((candidates, skipped))
}

/// Every candidate loaded, checked and reduced into `merger` one at a time (the parsed file is
/// dropped at once, so memory grows with the units and samples, not with the files' size), or
/// listed as skipped with the loader's reason (a file `compare` would refuse is not merged
/// either). Returns how many files were loaded, and the skipped ones.
fn load_all(
    candidates: Vec<PathBuf>,
    mut skipped: Vec<Skipped>,
    merger: &mut Merger,
) -> anyhow::Result<(usize, Vec<Skipped>)> {
    let peaks = CatalogPeaks::builtin()?;
    let mut loaded = 0;
    for path in candidates {
        match load_checked(&path, LoadPolicy::Refuse, &peaks) {
            Ok(checked) => {
                merger.add(path, &checked.file)?;
                loaded += 1;
            }
            Err(e) => skipped.push(Skipped {
                reason: e
                    .to_string()
                    .trim_start_matches(&format!("{}: ", path.display()))
                    .to_string(),
                path,
            }),
        }
    }
    Ok((loaded, skipped))
}

/// The runs `--store` and its filter select, merged one at a time; how many. Without `--store`
/// a filter flag is refused rather than ignored.
fn load_stored(args: &MergeArgs, merger: &mut Merger) -> anyhow::Result<usize> {
    let filter = super::store::filter(&args.filter)?;
    let Some(db) = &args.store else {
        if filter != RunFilter::default() {
            bail!("--device, --host, --gpu, --driver, --backend, --since and --until select stored runs: they need --store DB");
        }
        return Ok(0);
    };
    let mut db = store::open(&Location::parse(db), OpenMode::Existing)?;
    let location = db.location().to_string();
    let mut loaded = 0;
    store::for_each_run_file(db.as_mut(), &filter, &mut |row, file| {
        loaded += 1;
        merger.add(PathBuf::from(format!("{location}#{}", row.key)), &file)
    })?;
    if loaded == 0 {
        note!("{location}: no stored run matches the filter");
    }
    Ok(loaded)
}

/// The file of a SQLite store, which `-o` must not overwrite.
fn sqlite_path(db: &str) -> Option<PathBuf> {
    match Location::parse(db) {
        Location::Sqlite(path) => Some(path),
        Location::Postgres(_) => None,
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
        note!("skipped {}: {}", s.path.display(), s.reason);
    }
    for g in &report.groups {
        if let Some(note) = &g.note {
            note!("{}: no outlier verdict, {note}", g.key.label());
        }
    }
    note!(
        "merged {} file(s) into {} group(s), skipped {}; {} outlier(s) at {}% below the group's centre",
        report.merged_units(),
        report.groups.len(),
        report.skipped.len(),
        report.outliers().len(),
        report.threshold * 100.0
    );
}
