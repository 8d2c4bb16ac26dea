//! `fleetbench calibrate`: result files + catalog → the equivalence table, built on the
//! capability view of `compare`, printed in any format (JSON is the ratios file itself) and,
//! with `-o`, also written as the versioned ratios file (.json) or a table for people (.csv,
//! .md).

use super::store_input::StoreInput;
use crate::cli::CalibrateArgs;
use fleetbench::catalog::Catalog;
use fleetbench::compare::Source;
use fleetbench::equiv::calibrate::{calibrate, CalibrateOptions};
use fleetbench::equiv::Metric;
use fleetbench::measure::machine;
use fleetbench::output;
use fleetbench::stats::BootstrapConfig;
use std::process::ExitCode;

/// Every file, then every run `--store` selects, each in a group of its own (calibrate pools
/// the runs of one device itself).
fn sources(args: &CalibrateArgs) -> anyhow::Result<Vec<Vec<Source>>> {
    let mut sources: Vec<Vec<Source>> = args
        .files
        .iter()
        .map(|f| vec![Source::File(f.clone())])
        .collect();
    if let Some(store) = StoreInput::from_args(&args.store)? {
        let mut db = store.open()?;
        let runs = fleetbench::store::select(db.as_mut(), &store.base)?;
        sources.extend(runs.into_iter().map(|r| vec![Source::from(r)]));
    }
    Ok(sources)
}

pub fn execute(args: CalibrateArgs) -> anyhow::Result<ExitCode> {
    let metric: Metric = args.metric.parse().map_err(anyhow::Error::msg)?;
    let export = args.out.export(&args.files)?;
    let policy = fleetbench::validate::LoadPolicy::from_skip_flag(args.skip_inconsistent);
    let files: Vec<_> = super::load_groups(sources(&args)?, policy)?
        .into_iter()
        .flat_map(|g| g.files)
        .collect();
    fleetbench::results::simulated_inputs(
        files
            .iter()
            .map(|f| (f.path.as_path(), f.file.machine.simulated)),
        args.allow_simulated,
    )?;
    for f in files.iter().filter(|f| !f.device.matched) {
        note!(
            "note: {}: device '{}' is not in the catalog (unmatched); kept as '{}'",
            f.path.display(),
            f.device.name,
            f.device.id
        );
    }
    let without = fleetbench::equiv::calibrate::files_without(&files, metric);
    // When no file has the metric, calibrate refuses them all in one line instead.
    for f in without.iter().filter(|_| without.len() < files.len()) {
        note!(
            "note: {}: no verified {metric} case; it contributes nothing to the table",
            f.path.display()
        );
    }
    let catalog = Catalog::builtin()?;
    let options = CalibrateOptions {
        catalog: &catalog,
        metric,
        reference: &args.reference,
        bootstrap: BootstrapConfig {
            seed: args.seed,
            ..BootstrapConfig::default()
        },
        created_at: machine::now_rfc3339(),
    };
    let ratios = calibrate(files, &options)?;
    // What is written must load again: the same checks `project` applies.
    ratios
        .validate()
        .map_err(|m| anyhow::anyhow!("calibrate built an inconsistent table: {m}"))?;
    if let Some(export) = &export {
        export.write(&ratios)?;
        note!(
            "wrote {} ({} devices)",
            export.path().display(),
            ratios.devices.len()
        );
    }
    let text = output::render(&ratios, args.out.format, output::terminal_width())?;
    output::emit(&text)?;
    Ok(ExitCode::SUCCESS)
}
