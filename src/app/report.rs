//! `fleetbench report FILE… -o DIR`: load and check every input before writing anything, then
//! write the charts and the page, and list what was written.

use crate::cli::ReportArgs;
use anyhow::{bail, Context};
use fleetbench::report::document::{self, Input};
use fleetbench::results::{self, store::write_atomic};
use fleetbench::table::{Format, Table};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The page's file name inside the output directory.
const PAGE: &str = "index.html";

struct ReportConfig {
    inputs: Vec<Input>,
    dir: PathBuf,
    force: bool,
    format: Format,
}

/// Runs `fleetbench report`.
pub fn execute(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let config = validate(args)?;
    let report = document::build(&config.inputs)?;
    let mut outputs: Vec<(String, &str, &str)> = report
        .charts
        .iter()
        .map(|c| {
            let kind = c.figure.kind.as_str();
            (c.file_name.clone(), kind, c.figure.caption.as_str())
        })
        .collect();
    outputs.push((
        PAGE.to_string(),
        "page",
        "charts and tables, self-contained",
    ));
    for (name, _, _) in &outputs {
        refuse_overwrite(&config.dir.join(name), config.force)?;
    }
    for chart in &report.charts {
        write_atomic(
            &config.dir.join(&chart.file_name),
            chart.figure.svg.as_bytes(),
        )?;
    }
    write_atomic(&config.dir.join(PAGE), report.html.as_bytes())?;
    let mut table = Table::new(&["file", "kind", "shows"]);
    for (name, kind, caption) in outputs {
        let path = config.dir.join(name).display().to_string();
        table.push(vec![path, kind.to_string(), caption.to_string()]);
    }
    print!("{}", table.render(config.format));
    Ok(ExitCode::SUCCESS)
}

fn validate(args: ReportArgs) -> anyhow::Result<ReportConfig> {
    if args.output.exists() && !args.output.is_dir() {
        bail!("{}: is not a directory", args.output.display());
    }
    let mut inputs = Vec::with_capacity(args.files.len());
    for path in &args.files {
        let file = results::load(path)?;
        inputs.push(Input {
            label: label(path),
            file,
        });
    }
    std::fs::create_dir_all(&args.output)
        .with_context(|| format!("{}: cannot create the directory", args.output.display()))?;
    Ok(ReportConfig {
        inputs,
        dir: args.output,
        force: args.force,
        format: args.format,
    })
}

fn label(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

fn refuse_overwrite(path: &Path, force: bool) -> anyhow::Result<()> {
    if path.exists() && !force {
        bail!(
            "{}: already exists (use --force to overwrite)",
            path.display()
        );
    }
    Ok(())
}
