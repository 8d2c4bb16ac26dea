//! `fleetbench compare`: load and check the files, compare every file with the baseline, print
//! the tables, and exit 1 when `--threshold` is given and a case regressed significantly.

use crate::cli::CompareArgs;
use anyhow::{bail, Context};
use fleetbench::catalog::{identify, Catalog, MatchRules};
use fleetbench::compare::{self, CompareConfig, Comparison, LoadedFile};
use fleetbench::stats::BootstrapConfig;
use fleetbench::table::{Format, Table};
use fleetbench::validate::{CatalogPeaks, LoadPolicy};
use std::path::PathBuf;
use std::process::ExitCode;

/// A validated `compare`.
struct CompareRun {
    groups: Vec<Vec<PathBuf>>,
    baseline: usize,
    threshold: Option<f64>,
    format: Format,
    config: CompareConfig,
    policy: LoadPolicy,
}

pub fn execute(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let run = validate(args)?;
    let files = load_groups(&run.groups, run.policy)?;
    let comparison = compare::compare(&files, run.baseline, &run.config);
    print!("{}", render(&files, &comparison, run.format)?);
    let Some(threshold) = run.threshold else {
        return Ok(ExitCode::SUCCESS);
    };
    let regressions = comparison.regressions(threshold / 100.0);
    for r in &regressions {
        eprintln!(
            "regression: {} in {} is {:.1}% slower than the baseline (p = {:.2e})",
            r.key.label(),
            files[r.file].path.display(),
            (1.0 - r.ratio.value) * 100.0,
            r.test.p
        );
    }
    Ok(if regressions.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn validate(args: CompareArgs) -> anyhow::Result<CompareRun> {
    let mut groups: Vec<Vec<PathBuf>> = args.files.iter().map(|f| split_group(f)).collect();
    let baseline = match &args.baseline {
        None => 0,
        Some(b) => match args.files.iter().position(|f| f == b) {
            Some(i) => i,
            None => {
                groups.insert(0, split_group(b));
                0
            }
        },
    };
    if groups.len() < 2 {
        bail!("compare needs at least two files (or a file and --baseline)");
    }
    if let Some(t) = args.threshold {
        super::bounds::check(
            "--threshold",
            t,
            &super::bounds::THRESHOLD_PCT,
            "a percentage",
        )?;
    }
    super::bounds::check(
        "--resamples",
        args.resamples,
        &super::bounds::RESAMPLES,
        "a count",
    )?;
    let bootstrap = BootstrapConfig {
        resamples: args.resamples,
        seed: args.seed,
        ..BootstrapConfig::default()
    };
    Ok(CompareRun {
        groups,
        baseline,
        threshold: args.threshold,
        format: args.format,
        config: CompareConfig {
            allow_mixed: args.allow_mixed,
            bootstrap,
            ..CompareConfig::default()
        },
        policy: LoadPolicy::from_skip_flag(args.skip_inconsistent),
    })
}

/// `a.json+b.json` pools runs of one device into one column.
fn split_group(arg: &str) -> Vec<PathBuf> {
    arg.split('+').map(PathBuf::from).collect()
}

/// Loads every file, refusing one given twice (the same path, or a copy with identical
/// contents), and pools each group. Every file goes through `validate`'s checks first: an
/// inconsistent file is refused, or with `--skip-inconsistent` its bad cases are dropped with a
/// warning on stderr, so a hand-edited number never reaches a ratio.
pub fn load_groups(groups: &[Vec<PathBuf>], policy: LoadPolicy) -> anyhow::Result<Vec<LoadedFile>> {
    let catalog = Catalog::builtin()?;
    let rules = MatchRules::builtin()?;
    let peaks = CatalogPeaks::builtin()?;
    let mut seen: Vec<(PathBuf, LoadedFile)> = Vec::new();
    let mut out = Vec::new();
    for group in groups {
        let mut loaded = Vec::new();
        for path in group {
            let checked = fleetbench::validate::load_checked(path, policy, &peaks)?;
            for warning in &checked.warnings {
                eprintln!("warning: {warning}");
            }
            let file = checked.file;
            let device = identify(&file.machine.adapter, &rules, &catalog);
            let this = LoadedFile {
                path: path.clone(),
                file,
                device,
            };
            check_not_seen(&this, &mut seen)?;
            loaded.push(this);
        }
        out.extend(compare::pool(loaded));
    }
    Ok(out)
}

fn check_not_seen(this: &LoadedFile, seen: &mut Vec<(PathBuf, LoadedFile)>) -> anyhow::Result<()> {
    let path = &this.path;
    let canonical = path
        .canonicalize()
        .with_context(|| format!("{}", path.display()))?;
    for (other_canonical, other) in seen.iter() {
        if *other_canonical == canonical {
            bail!("{}: the same file is given twice", path.display());
        }
        if other.file == this.file {
            bail!(
                "{}: identical to {} (run_id {}); the same file is given twice",
                path.display(),
                other.path.display(),
                this.file.run.run_id
            );
        }
    }
    seen.push((canonical, this.clone()));
    Ok(())
}

fn render(files: &[LoadedFile], c: &Comparison, format: Format) -> anyhow::Result<String> {
    let tables = compare::tables(files, c);
    let sections = [
        (
            "cases",
            "Matched cases (ratio = file ÷ baseline throughput)",
            &tables.cases,
        ),
        (
            "geomean",
            "Geometric mean over matched cases",
            &tables.geomeans,
        ),
        (
            "unmatched",
            "Cases not compared in every file",
            &tables.unmatched,
        ),
    ];
    if format == Format::Json {
        let mut object = serde_json::Map::new();
        let baseline = files[c.baseline].path.display().to_string();
        object.insert("baseline".to_string(), baseline.into());
        for (key, _, table) in sections {
            let value: serde_json::Value = serde_json::from_str(&table.render(Format::Json))?;
            object.insert(key.to_string(), value);
        }
        return Ok(serde_json::to_string_pretty(&object)? + "\n");
    }
    let mut out = format!("baseline: {}\n", files[c.baseline].path.display());
    for (_, title, table) in sections {
        if table.rows.is_empty() && title.starts_with("Cases not") {
            continue;
        }
        out += &section(title, table, format);
    }
    Ok(out)
}

fn section(title: &str, table: &Table, format: Format) -> String {
    match format {
        Format::Markdown => format!("\n### {title}\n\n{}", table.render(format)),
        Format::Csv => format!("\n# {title}\n{}", table.render(format)),
        _ => format!("\n{title}\n{}", table.render(format)),
    }
}
