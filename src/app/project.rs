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
    bases_for, figures_from_catalog, measured_from_ratios, project, DeviceFigures, Inputs,
    MeasuredRatio, Regime, DEFAULT_METRIC,
};
use std::path::Path;
use std::process::ExitCode;

/// The validated command.
struct Config {
    file: FleetFile,
    reference: String,
    metric: Metric,
    regime: Option<Regime>,
    measured: Vec<MeasuredRatio>,
    /// Devices the ratios files name that the catalog lacks (e.g. `llvmpipe-…`): they have no
    /// datasheet figures, only their measured ratios.
    uncatalogued: Vec<String>,
    format: Format,
}

pub fn execute(args: ProjectArgs) -> anyhow::Result<ExitCode> {
    let catalog = Catalog::builtin()?;
    let config = validate(args, &catalog)?;
    let mut figures = figures_from_catalog(&catalog);
    for id in &config.uncatalogued {
        figures.entry(id.clone()).or_insert_with(|| DeviceFigures {
            id: id.clone(),
            ..DeviceFigures::default()
        });
    }
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
    let ratio_files = args
        .ratios
        .iter()
        .map(|p| Ok((p.as_path(), RatiosFile::load(p)?)))
        .collect::<anyhow::Result<Vec<_>>>()?;
    for (path, ratios) in &ratio_files {
        for warning in ratios.warnings() {
            note!("warning: {}: {warning}", path.display());
        }
        if ratios.simulated {
            let label = fleetbench::results::SIMULATED_LABEL;
            note!("note: {}: {label}", path.display());
        }
    }
    let mut known: Vec<&str> = catalog.entries().iter().map(|e| e.id.as_str()).collect();
    let uncatalogued = uncatalogued(&ratio_files, &known);
    known.extend(uncatalogued.iter().map(String::as_str));
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
        Some(m) => m
            .parse::<Metric>()
            .map_err(|e| anyhow::anyhow!("--metric: {e}"))?,
        None => DEFAULT_METRIC,
    };
    let regime = args
        .workload
        .as_deref()
        .map(str::parse::<Regime>)
        .transpose()
        .map_err(|e| anyhow::anyhow!("--workload: {e}"))?;
    let measured = check_ratios(&ratio_files, &reference)?;
    Ok(Config {
        file,
        reference,
        metric,
        regime,
        measured,
        uncatalogued,
        format: args.format,
    })
}

/// Device ids of the ratios files (the reference included) that are not catalog ids, so a
/// slug `calibrate` kept for an unmatched device can be used in the fleet file and as the
/// reference.
fn uncatalogued(files: &[(&Path, RatiosFile)], catalog_ids: &[&str]) -> Vec<String> {
    let mut ids: Vec<String> = files
        .iter()
        .flat_map(|(_, f)| f.devices.iter().map(|d| d.device.clone()))
        .filter(|id| !catalog_ids.contains(&id.as_str()))
        .collect();
    ids.sort();
    ids.dedup();
    ids
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

/// Every ratios file must be relative to the projection's reference, and no two may speak
/// for the same metric.
fn check_ratios(
    files: &[(&Path, RatiosFile)],
    reference: &str,
) -> anyhow::Result<Vec<MeasuredRatio>> {
    let mut measured = Vec::new();
    let mut seen: Vec<(Metric, &Path)> = Vec::new();
    for (path, file) in files {
        let path = *path;
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
        measured.extend(measured_from_ratios(file));
    }
    Ok(measured)
}
