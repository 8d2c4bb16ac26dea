//! `fleetbench calibrate`: result files + catalog → the equivalence table, built on the
//! capability view of `compare`, printed in any format (JSON is the ratios file itself) or
//! written as the versioned ratios file (.json) or a table for people (.csv, .md).

use crate::cli::CalibrateArgs;
use anyhow::bail;
use fleetbench::catalog::Catalog;
use fleetbench::equiv::calibrate::{calibrate, CalibrateOptions};
use fleetbench::equiv::Metric;
use fleetbench::fsio::{self, Overwrite};
use fleetbench::measure::machine;
use fleetbench::output::{self, Format};
use fleetbench::stats::BootstrapConfig;
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the table goes.
enum Output {
    Stdout(Format),
    File(PathBuf, Format),
}

pub fn execute(args: CalibrateArgs) -> anyhow::Result<ExitCode> {
    let metric: Metric = args.metric.parse().map_err(anyhow::Error::msg)?;
    let out = output_target(&args)?;
    let groups: Vec<Vec<PathBuf>> = args.files.iter().map(|f| vec![f.clone()]).collect();
    let policy = fleetbench::validate::LoadPolicy::from_skip_flag(args.skip_inconsistent);
    let files: Vec<_> = super::compare::load_groups(&groups, policy)?
        .into_iter()
        .flat_map(|g| g.files)
        .collect();
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
    let width = output::terminal_width();
    match out {
        Output::Stdout(format) => {
            output::emit(&output::render(&ratios, format, width)?)?;
        }
        Output::File(path, format) => {
            let text = output::render(&ratios, format, None)?;
            fsio::write_file(&path, text.as_bytes(), Overwrite::from_force(args.force))?;
            note!(
                "wrote {} ({} devices)",
                path.display(),
                ratios.devices.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn output_target(args: &CalibrateArgs) -> anyhow::Result<Output> {
    let Some(path) = &args.output else {
        return Ok(Output::Stdout(args.format));
    };
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let format = match ext.to_ascii_lowercase().as_str() {
        "json" => Format::Json,
        "csv" => Format::Csv,
        "md" | "markdown" => Format::Markdown,
        _ => bail!(
            "-o {}: expected a .json, .csv or .md file name",
            path.display()
        ),
    };
    fsio::check_target(path, Overwrite::from_force(args.force))?;
    fsio::check_not_input(path, &args.files)?;
    Ok(Output::File(path.clone(), format))
}
