//! Cross-file comparison: how much one device (or one run) is worth against another, as a
//! typed model that every output format is rendered from.
//!
//! Two views answer two questions:
//! - **capability** (the default, and calibrate's basis): *how much faster is this device?*
//!   For every metric and shape, each file's figure is its best verified case at that
//!   workload, whichever kernel produced it, so devices whose autotuners pick different tiles
//!   are still compared at their best ([`capability`]).
//! - **same code** (`--same-code`): *did this machine or driver change?* Cases are matched on
//!   what was computed and how (kernel, source, bounds checks, clock), as a regression check
//!   over time ([`same_code`]).
//!
//! Runs of one device may be pooled (`a.json+b.json`); their samples stay apart per run, so the
//! two-level bootstrap ([`crate::stats::geomean_of_ratios`]) resamples runs as well as samples
//! and the interval covers the spread between runs. Nothing is dropped silently: every shape or
//! case that could not be compared everywhere is in [`Comparison::left_out`] with the reason.
//!
//! # API summary
//! - [`LoadedFile`] (path, parsed file, device); [`pool`] joins runs of one device into a
//!   [`Group`] (refusing a group that mixes devices).
//! - [`compare`]`(groups, baseline, &CompareConfig)` → [`Comparison`]: `rows` ([`Row`]: per
//!   file, metric and shape or case, each side's [`Figure`], the ratio [`Interval`], the p of
//!   its [`DifferenceTest`], [`Verdict`]), `summaries` ([`MetricSummary`]: geometric mean and max-achievable ratio
//!   per file and metric), `left_out`. [`Comparison::regressions`] is what `--threshold` gates.
//! - [`kernel_label`] names a kernel with its overrides; a case's per-sample throughput is
//!   [`crate::results::Case::throughput_samples`], shared with `merge`.

pub mod capability;
mod figures;
mod load;
pub mod same_code;
mod tables;

pub use figures::{kernel_label, measurement_difference, Difference};
pub use load::{load_groups, load_sources, LoadedGroups, Source};

use crate::catalog::DeviceIdentity;
use crate::catalog::Metric;
use crate::error::{Error, Result};
use crate::results::{CaseStatus, RateUnit, ResultFile};
use crate::stats::{BootstrapConfig, Interval};
use crate::workload::Workload;
use serde::Serialize;
use std::path::PathBuf;

/// A result file with the name it is shown under and its device identity.
#[derive(Debug, Clone)]
pub struct LoadedFile {
    /// The path as given.
    pub path: PathBuf,
    /// The parsed file.
    pub file: ResultFile,
    /// The device it ran on.
    pub device: DeviceIdentity,
}

/// Result files of one device compared as one column: their runs are resampled as runs.
#[derive(Debug, Clone)]
pub struct Group {
    /// The paths joined with `+`, as on the command line.
    pub label: String,
    /// The device every file of the group ran on.
    pub device: DeviceIdentity,
    /// The files, in the order given.
    pub files: Vec<LoadedFile>,
}

/// Joins runs of one device into a group; refuses an empty group or one that mixes devices,
/// naming the files.
pub fn pool(files: Vec<LoadedFile>) -> Result<Group> {
    let Some(first) = files.first() else {
        return Err(Error::Incomparable("an empty group of files".to_string()));
    };
    let label = files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect::<Vec<_>>()
        .join("+");
    if let Some(other) = files.iter().find(|f| f.device.id != first.device.id) {
        return Err(Error::Incomparable(format!(
            "{label}: a pooled group must hold runs of one device, but {} ran on '{}' and {} on '{}'",
            first.path.display(),
            first.device.name,
            other.path.display(),
            other.device.name
        )));
    }
    check_independent_runs(&label, &files)?;
    Ok(Group {
        label,
        device: first.device.clone(),
        files,
    })
}

/// Refuses a group that holds one run twice (the same host, device and run id, as `merge`
/// calls duplicates): its samples would count as two independent runs and narrow the
/// interval that is meant to cover the spread between runs.
fn check_independent_runs(label: &str, files: &[LoadedFile]) -> Result<()> {
    let mut seen: Vec<(crate::merge::RunIdentity, &LoadedFile)> = Vec::new();
    for f in files {
        let identity = crate::merge::RunIdentity::of(&f.file);
        if let Some((_, first)) = seen.iter().find(|(id, _)| *id == identity) {
            return Err(Error::Incomparable(format!(
                "{label}: {} is a duplicate of {} (same host, device and run id {}); a pooled group needs independent runs",
                f.path.display(),
                first.path.display(),
                identity.run_id
            )));
        }
        seen.push((identity, f));
    }
    Ok(())
}

/// Which cases are set against each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum View {
    /// Each file's best verified case per metric and shape, whichever kernel produced it.
    Capability,
    /// Cases that ran the same code, matched by kernel and how they were measured.
    SameCode,
}

/// Options of a comparison.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareConfig {
    /// Which cases are compared.
    pub view: View,
    /// Same-code view: compare cases measured differently (and label them).
    pub allow_mixed: bool,
    /// Bootstrap settings of every interval.
    pub bootstrap: BootstrapConfig,
    /// Significance level of the difference test.
    pub alpha: f64,
}

impl Default for CompareConfig {
    fn default() -> Self {
        CompareConfig {
            view: View::Capability,
            allow_mixed: false,
            bootstrap: BootstrapConfig::default(),
            alpha: 0.05,
        }
    }
}

/// How the intervals and tests were computed, so a reader can reproduce them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Settings {
    /// Confidence level of every interval.
    pub confidence_level: f64,
    /// Bootstrap resamples behind every interval.
    pub bootstrap_resamples: usize,
    /// Seed of the bootstrap.
    pub bootstrap_seed: u64,
    /// Significance level of the difference test.
    pub alpha: f64,
}

/// One compared column: a file or a pooled group of runs of one device.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FileEntry {
    /// The path, or the paths of a pooled group joined with `+`.
    pub path: String,
    /// Run ids of the files, in order.
    pub run_ids: Vec<String>,
    /// Catalog id of the device, or the slug of its adapter name.
    pub device: String,
    /// The adapter name.
    pub device_name: String,
    /// Whether the device is in the catalog.
    pub in_catalog: bool,
    /// True when the files are simulated (`run --simulate`, admitted beside real ones only
    /// with `--allow-simulated`): a test instrument, never a measurement.
    pub simulated: bool,
}

/// One side of a row: a file's figure at one shape (or one case).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Figure {
    /// The kernel of each run's best case (capability) or the matched kernel (same code), with
    /// its overrides; one entry per distinct kernel, in run order.
    pub kernels: Vec<String>,
    /// Median throughput over the pooled samples, in the row's unit.
    pub median: f64,
    /// How many runs the samples come from.
    pub runs: usize,
    /// How many samples there are in all.
    pub samples: usize,
    /// The figure ÷ the same file's best measured FMA peak of this dtype, for matmul figures
    /// when the file measured that peak.
    pub fraction_of_peak: Option<f64>,
    /// The figure is compute-bound (its arithmetic intensity is above the file's measured
    /// ridge point, or no bandwidth was measured) and reaches under half of the measured FMA
    /// peak: our kernel's limit, not the hardware's.
    pub kernel_limited: bool,
}

/// Whether a difference is significant, and in which direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Significantly faster than the baseline.
    Faster,
    /// Significantly slower than the baseline.
    Slower,
    /// No significant difference.
    NotSignificant,
    /// The interval leaves out 1, but it covers only the sampling within one run per side:
    /// the drift between runs (20–50% between runs minutes apart on a shared host) is
    /// unknown, so the difference may be real or may be drift. Pool runs with `+` for a
    /// verdict.
    Undetermined,
}

impl Verdict {
    /// The verdict of a ratio that is or is not significant.
    pub fn of(significant: bool, ratio: f64) -> Verdict {
        match (significant, ratio >= 1.0) {
            (false, _) => Verdict::NotSignificant,
            (true, true) => Verdict::Faster,
            (true, false) => Verdict::Slower,
        }
    }

    /// The verdict of a ratio whose interval and test say `different` on an interval that
    /// covers `coverage`: a difference on the within-run interval alone is undetermined.
    pub fn judge(different: bool, ratio: f64, coverage: Coverage) -> Verdict {
        match (different, coverage) {
            (true, Coverage::WithinRun) => Verdict::Undetermined,
            _ => Verdict::of(different, ratio),
        }
    }

    /// Whether the verdict calls the difference significant.
    pub fn is_significant(self) -> bool {
        matches!(self, Verdict::Faster | Verdict::Slower)
    }
}

/// The significance test behind a row: what its observations are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum DifferenceTest {
    /// Welch's t-test of the log medians of the runs, one value per run: the drift between
    /// runs is its spread.
    WelchTOfRunMedians,
    /// Mann–Whitney U test of the pooled samples, where a side has one run.
    RankTestOfSamples,
}

/// What a ratio's interval covers: the answer to "could this difference be drift?".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Coverage {
    /// Sampling noise within the runs only: a side holds one run, so the spread between runs
    /// is unknown and no difference is called significant on this interval.
    WithinRun,
    /// The spread between runs as well: both sides pool two or more runs, which the two-level
    /// bootstrap resamples.
    BetweenRuns,
}

impl Coverage {
    /// What an interval over runs of these counts covers.
    pub fn of(runs: usize, baseline_runs: usize) -> Coverage {
        if runs >= 2 && baseline_runs >= 2 {
            Coverage::BetweenRuns
        } else {
            Coverage::WithinRun
        }
    }

    /// What an interval over several rows covers: the spread between runs only if every row's
    /// does.
    pub fn all(coverages: impl IntoIterator<Item = Coverage>) -> Coverage {
        let mut all = Coverage::BetweenRuns;
        for c in coverages {
            if c == Coverage::WithinRun {
                all = Coverage::WithinRun;
            }
        }
        all
    }
}

/// Why a single run per side gets no verdict, and how to get one: the one line `compare`
/// prints (stderr and the rows' note) whenever a difference is left undetermined.
pub const UNDETERMINED_NOTE: &str = "one run per side: the interval covers the sampling within each run, not the drift between runs (20-50% between runs minutes apart on a shared host), so no difference is called significant on it; for a verdict pool interleaved runs of each side with '+' (a1.json+a2.json b1.json+b2.json)";

/// One file against the baseline at one shape (capability) or one case (same code).
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Row {
    /// Index of the compared file in [`Comparison::files`].
    pub file: usize,
    /// The metric the workload counts towards.
    pub metric: Metric,
    /// What was computed.
    pub workload: Workload,
    /// `kernel/op/dtype/MxNxK` in the same-code view, `op/dtype/MxNxK` in the capability view.
    pub label: String,
    /// Unit of the medians.
    pub unit: RateUnit,
    /// The baseline's figure.
    pub baseline: Figure,
    /// The compared file's figure.
    pub other: Figure,
    /// Compared ÷ baseline throughput (above 1: faster than the baseline).
    pub ratio: Interval,
    /// Which test gave `p`: Welch's test of the runs' log medians where both sides pool
    /// several runs, the rank test of the samples where a side has one run.
    pub test: DifferenceTest,
    /// Two-sided p-value of that test.
    pub p: f64,
    /// p below alpha and the interval leaves out 1, on an interval that covers the spread
    /// between runs.
    pub significant: bool,
    /// What the interval covers: the sampling within runs only, or the drift between runs.
    pub coverage: Coverage,
    /// The verdict.
    pub verdict: Verdict,
    /// Same-code view with `--allow-mixed`: how the two were measured differently.
    pub mixed: Vec<Difference>,
}

/// One file's figure for one metric against the baseline, over the shapes both have.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MetricSummary {
    /// Index of the compared file.
    pub file: usize,
    /// The metric.
    pub metric: Metric,
    /// Rows (shapes or cases) both files have for this metric.
    pub rows: usize,
    /// Geometric mean of the rows' ratios, with its interval.
    pub geomean: Interval,
    /// The geometric mean's interval leaves out 1 and at least one row is significant, so it
    /// never claims more than its rows do.
    pub significant: bool,
    /// What the geometric mean's interval covers (the spread between runs only if every row's
    /// interval does).
    pub coverage: Coverage,
    /// The verdict of the geometric mean.
    pub verdict: Verdict,
    /// Capability view: best figure over shapes ÷ the baseline's best over shapes.
    pub max_achievable: Option<MaxAchievable>,
}

/// The "maximum achievable" ratio: each file at its best shape of the metric.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MaxAchievable {
    /// Best ÷ best, with its interval.
    pub ratio: Interval,
    /// The compared file's best shape (`op/dtype/MxNxK`) and its median.
    pub shape: String,
    /// Its median throughput.
    pub median: f64,
    /// The baseline's best shape.
    pub baseline_shape: String,
    /// Its median throughput.
    pub baseline_median: f64,
}

/// Why something could not be compared in one file: a fixed word and a detail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Reason {
    /// The kind of reason.
    pub kind: ReasonKind,
    /// What exactly (the status, the differences, the sample problem).
    pub detail: String,
}

/// Kinds of [`Reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ReasonKind {
    /// The file has no such case, shape or metric.
    Absent,
    /// The case ran but did not pass (failed, skipped, unsupported).
    NotPassed,
    /// The samples cannot be summarised (too few, not positive).
    UnusableSamples,
    /// Same-code view: measured differently from the baseline (or from the group's first
    /// run).
    MeasuredDifferently,
}

impl Reason {
    fn new(kind: ReasonKind, detail: impl Into<String>) -> Self {
        Reason {
            kind,
            detail: detail.into(),
        }
    }

    fn absent() -> Self {
        Reason::new(ReasonKind::Absent, "absent")
    }

    fn not_passed(status: CaseStatus) -> Self {
        Reason::new(ReasonKind::NotPassed, format!("{status:?}").to_lowercase())
    }

    /// One line for tables.
    pub fn line(&self) -> String {
        match self.kind {
            ReasonKind::MeasuredDifferently => format!("measured differently ({})", self.detail),
            _ => self.detail.clone(),
        }
    }
}

/// A shape, case or metric not compared in every file.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct LeftOut {
    /// The metric it belongs to.
    pub metric: Metric,
    /// The shape or case label; the metric's name when the whole metric is missing.
    pub label: String,
    /// Per file: `None` where it is usable, otherwise why not.
    pub per_file: Vec<Option<Reason>>,
}

/// Everything a comparison found: the model `compare` prints in every format and writes
/// with `-o`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Comparison {
    /// Which view this is.
    pub view: View,
    /// Index of the baseline in `files`.
    pub baseline: usize,
    /// The compared files or pooled groups.
    pub files: Vec<FileEntry>,
    /// How intervals and tests were computed.
    pub settings: Settings,
    /// One row per compared file and shape (or case), ordered by file, metric and label.
    pub rows: Vec<Row>,
    /// One summary per compared file and metric.
    pub summaries: Vec<MetricSummary>,
    /// What could not be compared everywhere, and why.
    pub left_out: Vec<LeftOut>,
    /// Capability view: per file and shape where it ran a vendor-library reference, its best
    /// WGSL figure ÷ the library's (never part of a WGSL capability figure).
    pub vendor: Vec<VendorRow>,
    /// Files of the same adapter, driver, backend and driver settings as the baseline whose
    /// measured ceilings differ beyond their intervals: the environment changed between the
    /// runs, and every ratio between them carries that change.
    pub environment_changes: Vec<EnvironmentChange>,
}

/// A measured ceiling (FMA peak or bandwidth) that moved between two runs of one setting.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct EnvironmentChange {
    /// Index of the compared file in [`Comparison::files`].
    pub file: usize,
    /// The ceiling: `peak-f32`, `peak-f16` or `bandwidth`.
    pub metric: Metric,
    /// The file's best figure of the ceiling ÷ the baseline's, with its interval (which leaves
    /// out 1).
    pub ratio: Interval,
    /// Unit of the medians.
    pub unit: RateUnit,
    /// The baseline's best figure.
    pub baseline_median: f64,
    /// The file's best figure.
    pub median: f64,
}

impl EnvironmentChange {
    /// The change as a signed percentage of the baseline's figure (−19 for a ratio of 0.81).
    pub fn percent(&self) -> f64 {
        (self.ratio.value - 1.0) * 100.0
    }
}

/// One file's best WGSL kernel against a vendor library at one shape, on the same device.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct VendorRow {
    /// Index of the file in [`Comparison::files`].
    pub file: usize,
    /// The metric the workload counts towards.
    pub metric: Metric,
    /// What was computed.
    pub workload: Workload,
    /// `op/dtype/MxNxK`.
    pub label: String,
    /// Unit of the medians.
    pub unit: RateUnit,
    /// The file's best verified WGSL figure.
    pub wgsl: Figure,
    /// The vendor library's figure (its kernel names the library and version).
    pub vendor: Figure,
    /// WGSL ÷ vendor, with its interval.
    pub ratio: Interval,
}

impl Comparison {
    /// What `--threshold` gates: significantly slower than the baseline by more than
    /// `threshold` (a fraction, 0.05 = 5%). Same-code view: each matched case. Capability
    /// view: each metric's geometric mean over shapes.
    pub fn regressions(&self, threshold: f64) -> Vec<Regression> {
        self.slower_than(threshold, Verdict::Slower)
    }

    /// What `--threshold` would gate if one run per side could settle it: slower by more than
    /// `threshold` on the within-run interval alone ([`Verdict::Undetermined`]). Not gated; the
    /// command says so and how to get a verdict.
    pub fn undetermined_regressions(&self, threshold: f64) -> Vec<Regression> {
        self.slower_than(threshold, Verdict::Undetermined)
    }

    fn slower_than(&self, threshold: f64, verdict: Verdict) -> Vec<Regression> {
        let slower = |v: Verdict, ratio: &Interval| v == verdict && ratio.value < 1.0 - threshold;
        match self.view {
            View::SameCode => self
                .rows
                .iter()
                .filter(|r| slower(r.verdict, &r.ratio))
                .map(|r| Regression {
                    file: r.file,
                    label: r.label.clone(),
                    ratio: r.ratio,
                })
                .collect(),
            View::Capability => self
                .summaries
                .iter()
                .filter(|s| slower(s.verdict, &s.geomean))
                .map(|s| Regression {
                    file: s.file,
                    label: format!("{} (geometric mean over {} shapes)", s.metric, s.rows),
                    ratio: s.geomean,
                })
                .collect(),
        }
    }

    /// Whether some difference was left undetermined because a side holds one run.
    pub fn has_undetermined(&self) -> bool {
        let rows = self.rows.iter().map(|r| r.verdict);
        let summaries = self.summaries.iter().map(|s| s.verdict);
        rows.chain(summaries).any(|v| v == Verdict::Undetermined)
    }

    /// The summary of one file and metric.
    pub fn summary(&self, file: usize, metric: Metric) -> Option<&MetricSummary> {
        self.summaries
            .iter()
            .find(|s| s.file == file && s.metric == metric)
    }
}

/// A significant slowdown beyond the threshold.
#[derive(Debug, Clone, PartialEq)]
pub struct Regression {
    /// Index of the slower file.
    pub file: usize,
    /// The case, or the metric's geometric mean.
    pub label: String,
    /// Its ratio to the baseline.
    pub ratio: Interval,
}

/// Compares every group against `groups[baseline]` in the configured view. Errors (one line
/// naming the files) when there are fewer than two groups or, in the capability view, when a
/// file shares no metric with the baseline.
pub fn compare(groups: &[Group], baseline: usize, config: &CompareConfig) -> Result<Comparison> {
    if groups.len() < 2 || baseline >= groups.len() {
        return Err(Error::Incomparable(
            "compare needs at least two files (or a file and --baseline)".to_string(),
        ));
    }
    let caps: Vec<capability::Capability> = groups.iter().map(capability::Capability::of).collect();
    let (rows, summaries, left_out) = match config.view {
        View::Capability => capability::compare(groups, &caps, baseline, config)?,
        View::SameCode => same_code::compare(groups, baseline, config),
    };
    let vendor = match config.view {
        View::Capability => capability::vendor_rows(&caps, config),
        View::SameCode => Vec::new(),
    };
    let environment_changes = capability::environment_changes(groups, &caps, baseline, config);
    Ok(Comparison {
        view: config.view,
        baseline,
        files: groups.iter().map(file_entry).collect(),
        settings: Settings {
            confidence_level: config.bootstrap.level,
            bootstrap_resamples: config.bootstrap.resamples,
            bootstrap_seed: config.bootstrap.seed,
            alpha: config.alpha,
        },
        rows,
        summaries,
        left_out,
        vendor,
        environment_changes,
    })
}

fn file_entry(g: &Group) -> FileEntry {
    FileEntry {
        path: g.label.clone(),
        run_ids: g.files.iter().map(|f| f.file.run.run_id.clone()).collect(),
        device: g.device.id.clone(),
        device_name: g.device.name.clone(),
        in_catalog: g.device.matched,
        simulated: g.files.iter().any(|f| f.file.machine.simulated),
    }
}

#[cfg(test)]
pub(crate) mod tests;
