//! `fleetbench report FILE… -o DIR` (and `--store DB` with filters): load and check every
//! input before writing anything, then write the charts and the page, and list what was
//! written.

use super::store_input::StoreInput;
use crate::cli::ReportArgs;
use anyhow::{bail, Context};
use fleetbench::catalog::{identify, Catalog, MatchRules, Metric};
use fleetbench::equiv::RatiosFile;
use fleetbench::fleet::FleetFile;
use fleetbench::fsio::{self, Overwrite};
use fleetbench::output::{self, Format};
use fleetbench::projection::{
    bases_for, figures_from_catalog, measured_from_ratios, project, Inputs, Projection,
    DEFAULT_METRIC,
};
use fleetbench::report::document::{self, Extras, Input, PAGE};
use fleetbench::report::roofline::PublishedCeilings;
use fleetbench::results::{self, ResultFile};
use fleetbench::store::{self, analysis::RegressionSettings};
use fleetbench::validate::policy::apply_policy;
use fleetbench::validate::{CatalogPeaks, LoadPolicy};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

struct ReportConfig {
    inputs: Vec<Input>,
    extras: Extras,
    dir: PathBuf,
    force: bool,
    format: Format,
}

/// Runs `fleetbench report`.
pub fn execute(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let config = validate(args)?;
    let report = document::build(&config.inputs, &config.extras)?;
    let overwrite = Overwrite::from_force(config.force);
    let listing = report.listing(&config.dir);
    for written in &listing.files {
        refuse_overwrite(&written.path, config.force)?;
    }
    // All or nothing: a write error must not leave some charts and no page.
    let mut files: Vec<(PathBuf, &[u8])> = report
        .charts
        .iter()
        .map(|c| (config.dir.join(&c.file_name), c.figure.svg.as_bytes()))
        .collect();
    files.push((config.dir.join(PAGE), report.html.as_bytes()));
    fsio::write_set(&files, overwrite)?;
    output::emit(&output::render(
        &listing,
        config.format,
        output::terminal_width(),
    )?)?;
    Ok(ExitCode::SUCCESS)
}

fn validate(args: ReportArgs) -> anyhow::Result<ReportConfig> {
    if args.output.exists() && !args.output.is_dir() {
        bail!("{}: is not a directory", args.output.display());
    }
    let loader = InputLoader::new()?;
    let mut inputs = Vec::with_capacity(args.files.len());
    for path in &args.files {
        inputs.push(loader.input(label(path), path, results::load(path)?)?);
    }
    let mut extras = Extras::default();
    if let Some(store) = StoreInput::from_args(&args.store)? {
        from_store(&store, &loader, &mut inputs, &mut extras)?;
    }
    for path in &args.ratios {
        let ratios = RatiosFile::load(path)?;
        if ratios.simulated {
            let label = fleetbench::results::SIMULATED_LABEL;
            note!("note: {}: {label}", path.display());
        }
        extras.ratios.push((label(path), ratios));
    }
    if let Some(path) = &args.fleet {
        let projection = project_fleet(path, &extras.ratios)?;
        extras.fleets.push((label(path), projection));
    }
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("{}: cannot create the directory", args.output.display()))?;
    Ok(ReportConfig {
        inputs,
        extras,
        dir: args.output,
        force: args.force,
        format: args.format,
    })
}

/// Loads inputs with the checks `compare` applies (a file it would refuse is not charted
/// either) and finds their devices' datasheet ceilings.
struct InputLoader {
    catalog: Catalog,
    rules: MatchRules,
    peaks: CatalogPeaks,
}

impl InputLoader {
    fn new() -> anyhow::Result<InputLoader> {
        Ok(InputLoader {
            catalog: Catalog::builtin()?,
            rules: MatchRules::builtin()?,
            peaks: CatalogPeaks::builtin()?,
        })
    }

    /// `file` (read from `path`, or a stored run named by it) as a checked input.
    fn input(&self, label: String, path: &Path, file: ResultFile) -> anyhow::Result<Input> {
        let file = apply_policy(path, file, LoadPolicy::Refuse, &self.peaks)?.file;
        let published = published_ceilings(&file, &self.rules, &self.catalog);
        Ok(Input {
            label,
            file,
            published,
        })
    }
}

/// `--store`: the histories of the selection and, with `--latest`, each unit's latest run as
/// an input, checked as a file is.
fn from_store(
    store: &StoreInput,
    loader: &InputLoader,
    inputs: &mut Vec<Input>,
    extras: &mut Extras,
) -> anyhow::Result<()> {
    let mut db = store.open()?;
    let settings = RegressionSettings::default();
    extras.histories = store::select::histories(db.as_mut(), &store.base, &settings)?;
    extras.store = Some(db.location().to_string());
    if store.base.latest {
        for run in store::select(db.as_mut(), &store.base)? {
            let path = PathBuf::from(&run.label);
            inputs.push(loader.input(run.label, &path, run.file)?);
        }
    }
    Ok(())
}

fn label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn refuse_overwrite(path: &Path, force: bool) -> anyhow::Result<()> {
    Ok(fsio::check_target(path, Overwrite::from_force(force))?)
}

/// Projects a fleet file against the built-in catalog, calibrated with the ratios files whose
/// reference is the fleet's: the same model `fleetbench project` prints, on the file's metric.
fn project_fleet(path: &Path, ratios: &[(String, RatiosFile)]) -> anyhow::Result<Projection> {
    let catalog = Catalog::builtin()?;
    let file = FleetFile::load(path)?;
    let known: Vec<&str> = catalog.entries().iter().map(|e| e.id.as_str()).collect();
    file.check_devices(&known)?;
    let reference = file
        .reference
        .clone()
        .unwrap_or_else(|| "h100-sxm".to_string());
    let metric = match file.metric.as_deref() {
        Some(m) => m
            .parse::<Metric>()
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?,
        None => DEFAULT_METRIC,
    };
    let figures = figures_from_catalog(&catalog);
    let reference_figures = figures.get(&reference).with_context(|| {
        format!(
            "{}: reference '{reference}' is not in the catalog",
            path.display()
        )
    })?;
    let matching: Vec<&RatiosFile> = ratios
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r.reference == reference)
        .collect();
    if !ratios.is_empty() && matching.is_empty() {
        bail!(
            "{}: reference is '{reference}', but no --ratios file is relative to it",
            path.display()
        );
    }
    let measured: Vec<_> = matching
        .into_iter()
        .flat_map(measured_from_ratios)
        .collect();
    let bases = bases_for(metric, &measured, None);
    Ok(project(Inputs {
        file: &file,
        figures: &figures,
        reference: reference_figures,
        measured: &measured,
        bases: &bases,
    }))
}

/// The catalog's FP32 peak and bandwidth for the file's adapter, when it is a catalog device.
fn published_ceilings(
    file: &results::ResultFile,
    rules: &MatchRules,
    catalog: &Catalog,
) -> Option<PublishedCeilings> {
    let identity = identify(&file.machine.adapter, rules, catalog);
    let entry = catalog.get(&identity.id).filter(|_| identity.matched)?;
    Some(PublishedCeilings {
        catalog_id: entry.id.clone(),
        compute: entry.fp32_tflops.map(|t| t * 1000.0),
        bandwidth: entry.bandwidth_tbs.map(|t| t * 1000.0),
    })
}
