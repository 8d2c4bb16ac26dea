//! The pieces both views share: how two cases' measurement
//! differs, kernel names, a group's samples of one quantity across its runs, and turning two
//! such quantities into a [`Row`] and rows into a [`MetricSummary`].

use super::{CompareConfig, Coverage, Figure, MetricSummary, Reason, ReasonKind, Row, Verdict};
use crate::catalog::Metric;
use crate::results::{Case, KernelRecord, RateUnit};
use crate::stats::{geomean_of_ratios, mann_whitney_u, Runs, Sample};
use crate::workload::Workload;
use serde::Serialize;

/// A way two cases of one workload were measured differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Difference {
    /// Different clocks (GPU timestamps vs host clock).
    TimingMethod,
    /// Bounds checks compiled in one and not the other.
    BoundsChecks,
    /// Different shader source or override values.
    KernelSource,
}

impl Difference {
    /// The words in tables.
    pub fn label(self) -> &'static str {
        match self {
            Difference::TimingMethod => "timing method",
            Difference::BoundsChecks => "bounds checks",
            Difference::KernelSource => "kernel source",
        }
    }

    /// `differs in a, b` for a list of differences.
    pub fn describe(differences: &[Difference]) -> String {
        let words: Vec<&str> = differences.iter().map(|d| d.label()).collect();
        format!("differs in {}", words.join(", "))
    }
}

/// How two cases' measurement differs; empty when they ran the same code the same way.
pub fn measurement_difference(a: &Case, b: &Case) -> Vec<Difference> {
    let mut diffs = Vec::new();
    let method = |c: &Case| c.timing.as_ref().map(|t| t.headline);
    if method(a) != method(b) {
        diffs.push(Difference::TimingMethod);
    }
    if a.kernel.bounds_checks != b.kernel.bounds_checks {
        diffs.push(Difference::BoundsChecks);
    }
    if a.kernel.source_hash != b.kernel.source_hash {
        diffs.push(Difference::KernelSource);
    }
    diffs
}

/// A kernel's id with its override values, `matmul_tex(CB=4,KU=1,RA=4,SHARE=0,WG_X=8,WG_Y=8)`:
/// what tells two autotuned configurations apart.
pub fn kernel_label(kernel: &KernelRecord) -> String {
    if kernel.overrides.is_empty() {
        return kernel.id.clone();
    }
    let values: Vec<String> = kernel
        .overrides
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    format!("{}({})", kernel.id, values.join(","))
}

/// A case's samples, or why it has none.
pub(crate) fn usable(case: &Case) -> Result<(RateUnit, Sample), Reason> {
    let Some((unit, values)) = case.throughput_samples() else {
        return Err(Reason::not_passed(case.status));
    };
    Sample::new(&values)
        .map(|s| (unit, s))
        .map_err(|e| Reason::new(ReasonKind::UnusableSamples, e.to_string()))
}

/// One group's samples of one quantity, a run per file that has it, and the kernels behind them.
#[derive(Debug, Clone)]
pub(crate) struct Quantity {
    pub unit: RateUnit,
    pub runs: Runs,
    pub kernels: Vec<String>,
}

impl Quantity {
    /// Joins per-run samples (in file order) into one quantity.
    pub fn from_runs(unit: RateUnit, per_run: Vec<(Sample, String)>) -> Option<Quantity> {
        let mut kernels: Vec<String> = Vec::new();
        let mut samples = Vec::new();
        for (sample, kernel) in per_run {
            if !kernels.contains(&kernel) {
                kernels.push(kernel);
            }
            samples.push(sample);
        }
        Some(Quantity {
            unit,
            runs: Runs::new(samples)?,
            kernels,
        })
    }

    /// The figure shown for it, without the ceiling fraction (see [`Ceilings`]).
    pub fn figure(&self) -> Figure {
        Figure {
            kernels: self.kernels.clone(),
            median: self.runs.median(),
            runs: self.runs.runs().len(),
            samples: self.runs.pooled().len(),
            fraction_of_peak: None,
            kernel_limited: false,
        }
    }
}

/// A group's measured ceilings: the best FMA peak per dtype and the best bandwidth, from which
/// a matmul figure's fraction of peak and whether it is compute-bound follow.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ceilings {
    /// Best peak-f32 and peak-f16 medians (GFLOP/s).
    pub peaks: Vec<(Metric, f64)>,
    /// Best bandwidth median (GB/s).
    pub bandwidth: Option<f64>,
}

impl Ceilings {
    /// The figure with its fraction of the measured peak and the kernel-limited label.
    pub fn label(&self, metric: Metric, workload: &Workload, mut figure: Figure) -> Figure {
        let Some(peak_metric) = metric.peak_metric() else {
            return figure;
        };
        let Some((_, peak)) = self.peaks.iter().find(|(m, _)| *m == peak_metric) else {
            return figure;
        };
        let fraction = figure.median / peak;
        let compute_bound = self
            .bandwidth
            .is_none_or(|bw| workload.intensity() >= peak / bw);
        figure.fraction_of_peak = Some(fraction);
        figure.kernel_limited = compute_bound && fraction < KERNEL_LIMITED_BELOW;
        figure
    }
}

/// A compute-bound figure under this fraction of the file's own measured FMA peak is labelled
/// kernel-limited: the hardware did at least twice that on the same run.
pub const KERNEL_LIMITED_BELOW: f64 = 0.5;

/// One row: `other` against `base`, with the two-level bootstrap interval and the rank test.
/// The difference is significant only where both sides pool several runs: with one run on a
/// side the interval covers the sampling within it, not the drift between runs, and a
/// difference it shows is [`Verdict::Undetermined`].
#[allow(clippy::too_many_arguments)]
pub(crate) fn row(
    file: usize,
    metric: Metric,
    workload: Workload,
    label: String,
    (base, base_figure): (&Quantity, Figure),
    (other, other_figure): (&Quantity, Figure),
    config: &CompareConfig,
) -> Row {
    let ratio = geomean_of_ratios(&[(&other.runs, &base.runs)], &config.bootstrap);
    let test = mann_whitney_u(other.runs.pooled(), base.runs.pooled());
    let different = test.p < config.alpha && ratio.excludes(1.0);
    let coverage = Coverage::of(other.runs.runs().len(), base.runs.runs().len());
    let verdict = Verdict::judge(different, ratio.value, coverage);
    Row {
        file,
        metric,
        workload,
        label,
        unit: base.unit,
        baseline: base_figure,
        other: other_figure,
        ratio,
        p: test.p,
        significant: verdict.is_significant(),
        coverage,
        verdict,
        mixed: Vec::new(),
    }
}

/// The geometric mean of one file's rows of one metric, from the quantities behind them.
pub(crate) fn summary(
    file: usize,
    metric: Metric,
    rows: &[&Row],
    pairs: &[(&Runs, &Runs)],
    config: &CompareConfig,
) -> MetricSummary {
    let geomean = geomean_of_ratios(pairs, &config.bootstrap);
    let coverage = Coverage::all(rows.iter().map(|r| r.coverage));
    let rows_differ = rows.iter().any(|r| r.verdict != Verdict::NotSignificant);
    let verdict = Verdict::judge(
        geomean.excludes(1.0) && rows_differ,
        geomean.value,
        coverage,
    );
    MetricSummary {
        file,
        metric,
        rows: rows.len(),
        geomean,
        significant: verdict.is_significant(),
        coverage,
        verdict,
        max_achievable: None,
    }
}
