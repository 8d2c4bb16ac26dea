//! `fleetbench store`: flags → the store library → output. Every message names the store by
//! its redacted location, so a password in a PostgreSQL URL never reaches a terminal or a log.

use crate::cli::{
    StoreAction, StoreArgs, StoreExportArgs, StoreFilterArgs, StoreIngestArgs, StoreListArgs,
    StoreQueryArgs, StoreRegressionArgs,
};
use anyhow::{bail, Context};
use fleetbench::fsio::{self, Overwrite};
use fleetbench::output::{self, escape_control};
use fleetbench::store::analysis::{self, RegressionSettings};
use fleetbench::store::regressions;
use fleetbench::store::{
    self, Database, IngestOptions, IngestReport, Location, OpenMode, RunFilter, RunList,
};
use fleetbench::validate::CatalogPeaks;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

pub fn execute(args: StoreArgs) -> anyhow::Result<ExitCode> {
    let location = Location::resolve(args.db.as_deref())?;
    match args.action {
        StoreAction::Ingest(a) => ingest(&location, a),
        StoreAction::List(a) => list(&location, a),
        StoreAction::History(a) => history(&location, a),
        StoreAction::Regressions(a) => regressions(&location, a),
        StoreAction::Export(a) => export(&location, a),
    }
}

/// `run --store DB`: stores the result file just written, one line on stderr.
pub fn after_run(db: &str, path: &std::path::Path) -> anyhow::Result<()> {
    let report = store::ingest_file(&Location::parse(db), path)?;
    if let Some(refused) = report.refused.first() {
        bail!(
            "{}: not stored in {}: {}",
            path.display(),
            escape_control(&report.store),
            refused.reason
        );
    }
    eprintln!("{}", summary(&report));
    Ok(())
}

fn open(location: &Location, mode: OpenMode) -> anyhow::Result<Box<dyn Database>> {
    Ok(store::open(location, mode)?)
}

/// Stores every input file; refused files are listed on stdout, the counts on stderr.
fn ingest(location: &Location, args: StoreIngestArgs) -> anyhow::Result<ExitCode> {
    check_inputs(&args.inputs)?;
    let peaks = CatalogPeaks::builtin()?;
    let mut db = open(location, OpenMode::Create)?;
    let options = IngestOptions {
        batch: args.batch.max(1),
        ..IngestOptions::default()
    };
    let show_progress = std::io::stderr().is_terminal();
    let mut progress = |r: &IngestReport| {
        if show_progress {
            let done = r.added + r.already_stored + r.refused.len() + r.superseded.len();
            eprint!("\ringesting into {}: {done}/{} file(s)", r.store, r.files);
        }
    };
    let interrupted = super::interrupt::install(
        "interrupted: storing the runs read so far, then stopping (Ctrl-C again to stop now)",
        "interrupted again: stopping now; the batch in flight is not stored",
    )?;
    let report = store::ingest(
        db.as_mut(),
        &args.inputs,
        &peaks,
        options,
        &mut progress,
        &interrupted,
    )?;
    if show_progress {
        eprintln!();
    }
    if !report.refused.is_empty()
        || !report.superseded.is_empty()
        || args.format != output::Format::Text
    {
        output::emit(&output::render(
            &report,
            args.format,
            output::terminal_width(),
        )?)?;
    }
    eprintln!("{}", summary(&report));
    if report.interrupted {
        eprintln!("interrupted: the files read are stored, the rest are not; the same ingest again stores the rest");
        return Ok(ExitCode::from(130));
    }
    let refused = !report.refused.is_empty();
    Ok(if refused && args.strict {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn summary(r: &IngestReport) -> String {
    let store = escape_control(&r.store);
    if r.added == 0 && r.already_stored > 0 && r.refused.is_empty() && r.superseded.is_empty() {
        return format!(
            "{store}: nothing new: all {} file(s) are already stored",
            r.already_stored
        );
    }
    let mut line = format!(
        "{store}: {} file(s): {} added, {} already stored, {} refused",
        r.files,
        r.added,
        r.already_stored,
        r.refused.len()
    );
    if r.replaced > 0 {
        line += &format!("; replaced {} partial run(s)", r.replaced);
    }
    if !r.superseded.is_empty() {
        line += &format!(
            "; {} partial file(s) not added: their complete run is stored",
            r.superseded.len()
        );
    }
    line
}

/// Every input must exist: a missing input is an error, not an empty fleet.
fn check_inputs(inputs: &[PathBuf]) -> anyhow::Result<()> {
    for input in inputs {
        std::fs::metadata(input)
            .with_context(|| format!("{}: cannot read this input", input.display()))?;
    }
    Ok(())
}

/// The selection of stored runs the filter flags name (also `merge --store`'s).
pub(crate) fn filter(args: &StoreFilterArgs) -> anyhow::Result<RunFilter> {
    let mut filter = RunFilter {
        device: args.device.clone(),
        host: args.host.clone(),
        gpu_index: args.gpu,
        driver: args.driver.clone(),
        backend: args.backend.clone(),
        ..RunFilter::default()
    };
    if let Some(since) = &args.since {
        filter = filter.since(since).context("--since")?;
    }
    if let Some(until) = &args.until {
        filter = filter.until(until).context("--until")?;
    }
    Ok(filter)
}

fn list(location: &Location, args: StoreListArgs) -> anyhow::Result<ExitCode> {
    let filter = filter(&args.filter)?;
    let mut db = open(location, OpenMode::Existing)?;
    let list = RunList {
        store: db.location().to_string(),
        runs: db.runs(&filter)?,
    };
    output::emit(&output::render(
        &list,
        args.format,
        output::terminal_width(),
    )?)?;
    Ok(ExitCode::SUCCESS)
}

fn history(location: &Location, args: StoreQueryArgs) -> anyhow::Result<ExitCode> {
    let f = &args.filter;
    let subject = match (&f.host, f.gpu, &f.device) {
        (Some(host), Some(gpu), device) => {
            let on = device
                .as_deref()
                .map_or(String::new(), |d| format!(" ({d})"));
            format!("{host} GPU {gpu}{on}")
        }
        (None, None, Some(device)) => device.clone(),
        _ => bail!("store history needs one unit (--host and --gpu) or one model (--device)"),
    };
    let settings = RegressionSettings {
        min_change: args.min_change / 100.0,
        ..RegressionSettings::default()
    };
    settings.check().context("--min-change")?;
    let filter = filter(f)?;
    let mut db = open(location, OpenMode::Existing)?;
    let history = analysis::history(db.as_mut(), &filter, subject, &settings)?;
    if history.metrics.is_empty() {
        bail!(
            "{}: no stored run of {} has a capability figure",
            db.location(),
            escape_control(&history.subject)
        );
    }
    output::emit(&output::render(
        &history,
        args.format,
        output::terminal_width(),
    )?)?;
    Ok(ExitCode::SUCCESS)
}

fn regressions(location: &Location, args: StoreRegressionArgs) -> anyhow::Result<ExitCode> {
    let settings = RegressionSettings {
        min_change: args.min_change / 100.0,
        alpha: args.alpha,
        min_history: args.min_history,
        ..RegressionSettings::default()
    };
    settings.check()?;
    let filter = filter(&args.filter)?;
    let mut db = open(location, OpenMode::Existing)?;
    let mut report = regressions::regressions(db.as_mut(), &filter, &settings)?;
    if !args.all {
        report.keep_regressions();
    }
    output::emit(&output::render(
        &report,
        args.format,
        output::terminal_width(),
    )?)?;
    eprintln!(
        "{}: {} unit(s), {} series, {} regressed",
        db.location(),
        report.units,
        report.series,
        report.regressed
    );
    Ok(if report.regressed > 0 && args.fail_on_regressions {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn export(location: &Location, args: StoreExportArgs) -> anyhow::Result<ExitCode> {
    let overwrite = Overwrite::from_force(args.force);
    fsio::check_target(&args.output, overwrite)?;
    let mut db = open(location, OpenMode::Existing)?;
    let key = match args.key {
        Some(key) => key,
        None => find_key(db.as_mut(), &args)?,
    };
    let file = db.export(key)?;
    fleetbench::results::store::save(&args.output, &file, overwrite)?;
    eprintln!("wrote {}", args.output.display());
    Ok(ExitCode::SUCCESS)
}

/// The key of the one run the run id (and host and GPU, when given) names.
fn find_key(db: &mut dyn Database, args: &StoreExportArgs) -> anyhow::Result<i64> {
    let filter = RunFilter {
        run_id: args.run_id.clone(),
        host: args.host.clone(),
        gpu_index: args.gpu,
        ..RunFilter::default()
    };
    let runs = db.runs(&filter)?;
    let id = escape_control(args.run_id.as_deref().unwrap_or(""));
    match runs.as_slice() {
        [] => bail!("{}: no stored run with run id {id}", db.location()),
        [one] => Ok(one.key),
        many => bail!(
            "{}: {} stored runs have run id {id}; name one with --host and --gpu, or --key",
            db.location(),
            many.len()
        ),
    }
}
