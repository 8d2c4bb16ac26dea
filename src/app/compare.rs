//! `fleetbench compare`: load and check the files, pool `a+b` groups, compare every file with
//! the baseline in the chosen view, print the model (and write it with `-o`), and exit 1 when
//! `--threshold` is given and something regressed significantly.

use super::store_input::StoreInput;
use crate::cli::CompareArgs;
use anyhow::bail;
use fleetbench::compare::{self, CompareConfig, Comparison, Group, Source, View};
use fleetbench::output::{self, Emitted, Export, Format};
use fleetbench::stats::BootstrapConfig;
use fleetbench::store::Selection;
use fleetbench::validate::LoadPolicy;
use std::path::PathBuf;
use std::process::ExitCode;

/// One column of the comparison: files (pooled with `+`) or the runs a store selection picks.
enum Side {
    Files(Vec<PathBuf>),
    /// `store:KEY=VALUE,…`: the argument as given (the column's name) and what it selects.
    Stored {
        arg: String,
        selection: Selection,
    },
}

/// A validated `compare`.
struct CompareRun {
    sides: Vec<Side>,
    store: Option<StoreInput>,
    baseline: usize,
    threshold: Option<f64>,
    format: Format,
    export: Option<Export>,
    config: CompareConfig,
    policy: LoadPolicy,
    allow_simulated: bool,
}

pub fn execute(args: CompareArgs) -> anyhow::Result<ExitCode> {
    let run = validate(args)?;
    let groups = load_sides(&run)?;
    fleetbench::results::simulated_inputs(
        groups
            .iter()
            .flat_map(|g| &g.files)
            .map(|f| (f.path.as_path(), f.file.machine.simulated)),
        run.allow_simulated,
    )?;
    let comparison = compare::compare(&groups, run.baseline, &run.config)?;
    note_missing_metrics(&comparison);
    note_drift(&comparison);
    if let Some(export) = &run.export {
        export.write(&comparison)?;
        note!("wrote {}", export.path().display());
    }
    let text = output::render(&comparison, run.format, output::terminal_width())?;
    if output::emit(&text)? == Emitted::PipeClosed {
        return Ok(ExitCode::SUCCESS);
    }
    let Some(threshold) = run.threshold else {
        return Ok(ExitCode::SUCCESS);
    };
    let regressions = comparison.regressions(threshold / 100.0);
    for r in comparison.undetermined_regressions(threshold / 100.0) {
        note!(
            "not gated: {} in {} is {:.1}% slower than the baseline (ratio {:.3} [{:.3}, {:.3}]) on one run per side, which cannot tell it from drift between runs; pool interleaved runs with '+' for a verdict",
            r.label,
            comparison.files[r.file].path,
            (1.0 - r.ratio.value) * 100.0,
            r.ratio.value,
            r.ratio.low,
            r.ratio.high
        );
    }
    for r in &regressions {
        note!(
            "regression: {} in {} is {:.1}% slower than the baseline (ratio {:.3} [{:.3}, {:.3}])",
            r.label,
            comparison.files[r.file].path,
            (1.0 - r.ratio.value) * 100.0,
            r.ratio.value,
            r.ratio.low,
            r.ratio.high
        );
    }
    Ok(if regressions.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Why a difference got no verdict (one run per side), and ceilings that moved between runs
/// of one setting: both change how far the ratios can be trusted, so both reach stderr.
fn note_drift(c: &Comparison) {
    if c.has_undetermined() {
        note!("note: {}", compare::UNDETERMINED_NOTE);
    }
    for line in c.environment_lines() {
        note!("note: {line}");
    }
}

/// A metric one file lacks is left out of the comparison; say so on stderr as well as in the
/// "not compared" section, so it is never missed.
fn note_missing_metrics(c: &Comparison) {
    for l in c
        .left_out
        .iter()
        .filter(|l| l.label == l.metric.to_string())
    {
        let missing: Vec<&str> = l
            .per_file
            .iter()
            .zip(&c.files)
            .filter(|(r, _)| r.is_some())
            .map(|(_, f)| f.path.as_str())
            .collect();
        note!(
            "note: {} is not compared: missing from {}",
            l.metric,
            missing.join(", ")
        );
    }
}

fn validate(args: CompareArgs) -> anyhow::Result<CompareRun> {
    let store = StoreInput::from_args(&args.store)?;
    let side = |arg: &str| parse_side(arg, store.as_ref());
    let mut sides: Vec<Side> = args
        .files
        .iter()
        .map(|f| side(f))
        .collect::<anyhow::Result<_>>()?;
    let baseline = match &args.baseline {
        None => 0,
        Some(b) => match args.files.iter().position(|f| f == b) {
            Some(i) => i,
            None => {
                sides.insert(0, side(b)?);
                0
            }
        },
    };
    if sides.len() < 2 {
        bail!("compare needs at least two files (or a file and --baseline)");
    }
    if store.is_some() && !sides.iter().any(|s| matches!(s, Side::Stored { .. })) {
        bail!("--store is given, but no side selects stored runs (store:KEY=VALUE,…, e.g. store:host=node17,gpu=3)");
    }
    if let Some(t) = args.threshold {
        super::bounds::check(
            "--threshold",
            t,
            &super::bounds::THRESHOLD_PCT,
            "a percentage",
        )?;
    }
    if args.allow_mixed && !args.same_code {
        bail!("--allow-mixed applies to the same-code view only (add --same-code)");
    }
    let inputs: Vec<PathBuf> = sides
        .iter()
        .filter_map(|s| match s {
            Side::Files(paths) => Some(paths.iter().cloned()),
            Side::Stored { .. } => None,
        })
        .flatten()
        .collect();
    let export = args.out.export(&inputs)?;
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
        sides,
        store,
        baseline,
        threshold: args.threshold,
        format: args.out.format,
        export,
        config: CompareConfig {
            view: if args.same_code {
                View::SameCode
            } else {
                View::Capability
            },
            allow_mixed: args.allow_mixed,
            bootstrap,
            ..CompareConfig::default()
        },
        policy: LoadPolicy::from_skip_flag(args.skip_inconsistent),
        allow_simulated: args.allow_simulated,
    })
}

/// A side: `store:KEY=VALUE,…` (with `--store`) or files pooled with `+`.
fn parse_side(arg: &str, store: Option<&StoreInput>) -> anyhow::Result<Side> {
    let Some(keys) = arg.strip_prefix(fleetbench::store::select::PREFIX) else {
        return Ok(Side::Files(split_group(arg)?));
    };
    let Some(store) = store else {
        bail!(
            "'{}' selects stored runs: name the store with --store PATH|URL",
            fleetbench::output::escape_control(arg)
        );
    };
    Ok(Side::Stored {
        arg: arg.to_string(),
        selection: store.selection(keys)?,
    })
}

/// Every side loaded through `compare`'s loader: files as given, a store side as the files its
/// runs export to (pooled as runs of one device, so a selection that mixes devices is refused
/// as a `+` group would be), named by its argument.
fn load_sides(run: &CompareRun) -> anyhow::Result<Vec<Group>> {
    let mut db = match &run.store {
        Some(store) => Some(store.open()?),
        None => None,
    };
    let mut sources: Vec<Vec<Source>> = Vec::with_capacity(run.sides.len());
    for side in &run.sides {
        sources.push(match (side, db.as_mut()) {
            (Side::Files(paths), _) => paths.iter().cloned().map(Source::File).collect(),
            (Side::Stored { selection, .. }, Some(db)) => {
                fleetbench::store::select(db.as_mut(), selection)?
                    .into_iter()
                    .map(Source::from)
                    .collect()
            }
            (Side::Stored { arg, .. }, None) => bail!("'{arg}': no store to select from"),
        });
    }
    let mut groups = super::load_groups(sources, run.policy)?;
    for (group, side) in groups.iter_mut().zip(&run.sides) {
        if let Side::Stored { arg, .. } = side {
            group.label = arg.clone();
        }
    }
    Ok(groups)
}

/// `a.json+b.json` pools runs of one device into one column; an empty member (`a.json+`,
/// `+b.json`, `a++b`) is refused by name rather than read as a file called "".
fn split_group(arg: &str) -> anyhow::Result<Vec<PathBuf>> {
    if arg.split('+').any(str::is_empty) {
        bail!(
            "'{}': an empty member in a pooled group ('+' joins runs of one device: a.json+b.json)",
            fleetbench::output::escape_control(arg)
        );
    }
    Ok(arg.split('+').map(PathBuf::from).collect())
}
