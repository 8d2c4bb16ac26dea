//! `fleetbench calibrate`: result files + catalog → the equivalence table, written as the
//! versioned ratios file (.json) or a table for people (.csv, .md).

use crate::cli::CalibrateArgs;
use anyhow::bail;
use fleetbench::catalog::Catalog;
use fleetbench::equiv::calibrate::{calibrate, CalibrateOptions};
use fleetbench::equiv::Metric;
use fleetbench::fsio::{self, Overwrite};
use fleetbench::machine;
use fleetbench::stats::BootstrapConfig;
use fleetbench::table::Format;
use std::path::PathBuf;
use std::process::ExitCode;

/// Where the table goes.
enum Output {
    Stdout(Format),
    File(PathBuf, Format),
}

pub fn execute(args: CalibrateArgs) -> anyhow::Result<ExitCode> {
    let metric: Metric = args.metric.parse().map_err(anyhow::Error::msg)?;
    let output = output(&args)?;
    let groups: Vec<Vec<PathBuf>> = args.files.iter().map(|f| vec![f.clone()]).collect();
    let policy = fleetbench::validate::LoadPolicy::from_skip_flag(args.skip_inconsistent);
    let files = super::compare::load_groups(&groups, policy)?;
    for f in files.iter().filter(|f| !f.device.matched) {
        eprintln!(
            "note: {}: device '{}' is not in the catalog (unmatched); kept as '{}'",
            f.path.display(),
            f.device.name,
            f.device.id
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
    match output {
        Output::Stdout(format) => print!("{}", ratios.table().render(format)),
        Output::File(path, format) => {
            let text = match format {
                Format::Json => ratios.to_json()?,
                format => ratios.table().render(format),
            };
            fsio::write_file(&path, text.as_bytes(), Overwrite::from_force(args.force))?;
            eprintln!(
                "wrote {} ({} devices)",
                path.display(),
                ratios.devices.len()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn output(args: &CalibrateArgs) -> anyhow::Result<Output> {
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
