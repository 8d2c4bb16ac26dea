//! `fleetbench project`: validate every input (fleet file, reference, metric, workload,
//! ratios file) before computing anything, then print the projection model in the chosen
//! format.

use crate::cli::ProjectArgs;
use anyhow::Context;
use fleetbench::catalog::Catalog;
use fleetbench::equiv::{Metric, RatiosFile};
use fleetbench::fleet::{unknown_device_message, FleetFile};
use fleetbench::output::{self, Format};
use fleetbench::projection::{
    bases_for, figures_from_catalog, measured_from_ratios, parse_metric, project, Inputs,
    MeasuredRatio, Regime, DEFAULT_METRIC,
};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The validated command.
struct Config {
    file: FleetFile,
    reference: String,
    metric: Metric,
    regime: Option<Regime>,
    measured: Vec<MeasuredRatio>,
    format: Format,
}

pub fn execute(args: ProjectArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin()?;
    let config = validate(args, &catalog)?;
    let figures = figures_from_catalog(&catalog);
    let reference = figures
        .get(&config.reference)
        .context("the reference has no catalog figures")?;
    let bases = bases_for(config.metric, &config.measured, config.regime);
    let projection = project(Inputs {
        file: &config.file,
        figures: &figures,
        reference,
        measured: &config.measured,
        bases: &bases,
    });
    let text = output::render(&projection, config.format, output::terminal_width())?;
    // A closed pipe (`| head`) ends quietly: there is nothing left to print.
    output::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}

fn validate(args: ProjectArgs, catalog: &Catalog) -> anyhow::Result<Config> {
    let file = FleetFile::load(&args.fleet)?;
    let known: Vec<&str> = catalog.entries().iter().map(|e| e.id.as_str()).collect();
    file.check_devices(&known)?;
    if let Some(r) = args.reference.as_deref().filter(|r| !known.contains(r)) {
        anyhow::bail!("--reference: {}", unknown_device_message(r, &known));
    }
    let reference = reference_of(&file, args.reference)?;
    if !known.contains(&reference.as_str()) {
        anyhow::bail!(
            "{}: reference {}",
            file.path.display(),
            unknown_device_message(&reference, &known)
        );
    }
    let metric = match args.metric.as_deref().or(file.metric.as_deref()) {
        Some(m) => parse_metric(m).map_err(|e| anyhow::anyhow!("--metric: {e}"))?,
        None => DEFAULT_METRIC,
    };
    let regime = args
        .workload
        .as_deref()
        .map(str::parse::<Regime>)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--workload: {e}"))?;
    let measured = load_ratios(&args.ratios, &reference)?;
    Ok(Config {
        file,
        reference,
        metric,
        regime,
        measured,
        format: args.format,
    })
}

/// The reference: `--reference`, else the file's, else `h100-sxm`. A file that states amounts
/// in its own reference's equivalents cannot be re-based by a flag: the amounts would silently
/// change meaning.
fn reference_of(file: &FleetFile, flag: Option<String>) -> anyhow::Result<String> {
    let own = file
        .reference
        .clone()
        .unwrap_or_else(|| "h100-sxm".to_string());
    match flag {
        Some(r) if r != own && file.states_equivalents() => anyhow::bail!(
            "--reference {r}: {} states amounts in {own}-equivalents, which would change meaning; project it with reference {own}",
            file.path.display()
        ),
        Some(r) => Ok(r),
        None => Ok(own),
    }
}

/// Loads every ratios file; each must be relative to the projection's reference, and no two
/// may speak for the same metric.
fn load_ratios(paths: &[PathBuf], reference: &str) -> anyhow::Result<Vec<MeasuredRatio>> {
    let mut measured = Vec::new();
    let mut seen: Vec<(Metric, &Path)> = Vec::new();
    for path in paths {
        let file = RatiosFile::load(path)?;
        if file.reference != reference {
            anyhow::bail!(
                "{}: ratios are relative to '{}', but this projection's reference is '{reference}' (use --reference {} or a ratios file for {reference})",
                path.display(),
                file.reference,
                file.reference
            );
        }
        let metric = file.metric;
        if let Some((_, other)) = seen.iter().find(|(m, _)| *m == metric) {
            anyhow::bail!(
                "{}: a second ratios file for {metric} (already given: {})",
                path.display(),
                other.display()
            );
        }
        seen.push((metric, path));
        measured.extend(measured_from_ratios(&file));
    }
    Ok(measured)
}
