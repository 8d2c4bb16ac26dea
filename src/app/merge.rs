//! `fleetbench merge`: gather result files from files and directories (each loaded through the
//! checking loader) and from a results store (`--store` with filters), merge them one at a time, print the report (spread per group, outlier units) in the
//! chosen format, and optionally write the same report as JSON. Every file that is not merged
//! — unreadable, inconsistent, a duplicate — is listed with the reason; none is dropped
//! silently.

use crate::cli::MergeArgs;
use anyhow::{bail, Context};
use fleetbench::fsio::{self, Found};
use fleetbench::merge::{self, MergeReport, Merger, Skipped};
use fleetbench::output;
use fleetbench::output::Export;
use fleetbench::store::{self, Location, OpenMode, RunFilter, Selection};
use fleetbench::validate::{load_checked, CatalogPeaks, LoadPolicy};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

pub fn execute(args: MergeArgs) -> anyhow::Result<ExitCode> {
    let threshold = args.threshold / 100.0;
    merge::check_threshold(threshold).with_context(|| {
        format!(
            "--threshold {}: expected a percentage between 0 and 100",
            args.threshold
        )
    })?;
    // The target is checked against the named inputs (and a SQLite store) at once, and again
    // against every file found under a named directory as the walk comes to it.
    let mut named = args.inputs.clone();
    named.extend(args.store.as_deref().and_then(sqlite_path));
    let export = args.out.export(&named)?;
    check_inputs(&args.inputs)?;
    let interrupted = super::interrupt::install(
        "interrupted: stopping before the next file; nothing will be written (Ctrl-C again to stop now)",
        "interrupted again: stopping now; merge's temporary directory is left, and the next merge removes it",
    )?;
    let mut merger = Merger::new(threshold, args.samples)?;
    let mut inputs = Inputs {
        merger: &mut merger,
        export: export.as_ref(),
        peaks: CatalogPeaks::builtin()?,
        interrupted: &interrupted,
        loaded: 0,
        walk_skipped: Vec::new(),
        load_skipped: Vec::new(),
    };
    let taken = args.inputs.iter().try_for_each(|input| inputs.take(input));
    let (mut loaded, mut skipped) = (inputs.loaded, inputs.walk_skipped);
    skipped.append(&mut inputs.load_skipped);
    let stored = taken.and_then(|()| load_stored(&args, &mut merger, &interrupted));
    // Returning drops the merger, which removes its temporary files.
    if interrupted.load(Ordering::SeqCst) {
        return Ok(stopped());
    }
    loaded += stored?;
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
    if interrupted.load(Ordering::SeqCst) {
        return Ok(stopped());
    }
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

/// Interrupted by Ctrl-C: nothing was printed or written, and the temporary files are gone.
fn stopped() -> ExitCode {
    note!("interrupted: nothing merged or written");
    ExitCode::from(130)
}

/// Every input must exist before any is read: a typo in a path must not look like an empty
/// fleet.
fn check_inputs(inputs: &[PathBuf]) -> anyhow::Result<()> {
    for input in inputs {
        std::fs::metadata(input)
            .with_context(|| format!("{}: cannot read this input", input.display()))?;
    }
    Ok(())
}

/// The merge of the named files and directories as they are walked: each file loaded, checked
/// and reduced into the merger one at a time (the parsed file is dropped at once, and no list
/// of a directory's files is made), or listed as skipped with the loader's reason (a file
/// `compare` would refuse is not merged either).
struct Inputs<'a> {
    merger: &'a mut Merger,
    export: Option<&'a Export>,
    peaks: CatalogPeaks,
    /// Set by Ctrl-C: the next file is not read.
    interrupted: &'a AtomicBool,
    loaded: usize,
    /// Entries of the directories that are not taken, in walk order.
    walk_skipped: Vec<Skipped>,
    /// Files the loader refused, listed after those.
    load_skipped: Vec<Skipped>,
}

impl Inputs<'_> {
    /// One named input: a file, or every file under a directory.
    fn take(&mut self, input: &Path) -> anyhow::Result<()> {
        let meta = std::fs::metadata(input)
            .with_context(|| format!("{}: cannot read this input", input.display()))?;
        if !meta.is_dir() {
            return Ok(self.load(input.to_path_buf())?);
        }
        fsio::walk_json_each(input, &mut |found| match found {
            Found::File(path) => self.load(path),
            Found::Skipped(path, reason) => {
                self.walk_skipped.push(Skipped { path, reason });
                Ok(())
            }
        })?;
        Ok(())
    }

    /// Loads one file into the merge, or lists it as skipped.
    fn load(&mut self, path: PathBuf) -> fleetbench::Result<()> {
        check_interrupted(self.interrupted)?;
        if let Some(export) = self.export {
            fsio::check_not_input(export.path(), std::slice::from_ref(&path))?;
        }
        match load_checked(&path, LoadPolicy::Refuse, &self.peaks) {
            Ok(checked) => {
                self.merger.add(path, &checked.file)?;
                self.loaded += 1;
            }
            Err(e) => self.load_skipped.push(Skipped {
                reason: e
                    .to_string()
                    .trim_start_matches(&format!("{}: ", path.display()))
                    .to_string(),
                path,
            }),
        }
        Ok(())
    }
}

/// The runs `--store` and its filter select, merged one at a time; how many. Without `--store`
/// a filter flag is refused rather than ignored.
fn load_stored(
    args: &MergeArgs,
    merger: &mut Merger,
    interrupted: &AtomicBool,
) -> anyhow::Result<usize> {
    let filter = super::store::filter(&args.filter)?;
    let Some(db) = &args.store else {
        if filter != RunFilter::default() {
            bail!("--device, --host, --gpu, --driver, --backend, --since and --until select stored runs: they need --store DB");
        }
        return Ok(0);
    };
    let mut db = store::open(&Location::parse(db), OpenMode::Existing)?;
    let location = db.location().to_string();
    let selection = Selection {
        filter,
        latest: false,
    };
    let loaded = store::select_each(db.as_mut(), &selection, &mut |run| {
        check_interrupted(interrupted)?;
        merger.add(
            PathBuf::from(format!("{location}#{}", run.row.key)),
            &run.file,
        )
    })?;
    if loaded == 0 {
        note!("{location}: no stored run matches the filter");
    }
    Ok(loaded)
}

/// An error that ends the walk or the selection once Ctrl-C was pressed (`execute` reports the
/// interruption instead of it).
fn check_interrupted(interrupted: &AtomicBool) -> fleetbench::Result<()> {
    match interrupted.load(Ordering::SeqCst) {
        true => Err(fleetbench::Error::Config("interrupted".into())),
        false => Ok(()),
    }
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
