//! The pieces both views share: how two cases' measurement
//! differs, kernel names, a group's samples of one quantity across its runs, and turning two
//! such quantities into a [`Row`] and rows into a [`MetricSummary`].

use super::{
    CompareConfig, Coverage, DifferenceTest, Figure, MetricSummary, Reason, ReasonKind, Row,
    Verdict,
};
use crate::catalog::Metric;
use crate::results::{Case, KernelRecord, RateUnit};
use crate::stats::{geomean_of_ratios, mann_whitney_u, welch_t_test, Runs, Sample};
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

/// One row: `other` against `base`, with the two-level bootstrap interval and the test of
/// [`difference_test`].
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
    let coverage = Coverage::of(other.runs.runs().len(), base.runs.runs().len());
    let (test, p) = difference_test(&base.runs, &other.runs);
    let different = p < config.alpha && ratio.excludes(1.0);
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
        test,
        p,
        significant: verdict.is_significant(),
        coverage,
        verdict,
        mixed: Vec::new(),
    }
}

/// The test behind a row's p-value, and the p-value. Where both sides pool several runs, the
/// runs are the independent observations: Welch's test of their log medians, whose spread is
/// the drift between runs. A rank test of the pooled samples would count every sample as
/// independent and call the drift itself significant (an A/A pair of four runs each, one
/// setting minutes apart, gave p = 0.0005 on it). With one run a side only the samples can be
/// tested, and the row's verdict is left undetermined anyway.
fn difference_test(base: &Runs, other: &Runs) -> (DifferenceTest, f64) {
    let log_medians =
        |runs: &Runs| -> Vec<f64> { runs.runs().iter().map(|r| r.median().ln()).collect() };
    match welch_t_test(&log_medians(base), &log_medians(other)) {
        Some(test) => (DifferenceTest::WelchTOfRunMedians, test.p),
        None => {
            let test = mann_whitney_u(other.pooled(), base.pooled());
            (DifferenceTest::RankTestOfSamples, test.p)
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// One side of a comparison under the drift model of a shared host: each of `runs` runs
    /// sits at its own level, exp(0.05·z) around `rate`, its 20 samples scatter by exp(0.01·z)
    /// around that level.
    fn drifting(rate: f64, runs: usize, seed: u64) -> Runs {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut normal = move || (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
        let samples = (0..runs)
            .map(|_| {
                let level = rate * (0.05 * normal()).exp();
                let values: Vec<f64> = (0..20).map(|_| level * (0.01 * normal()).exp()).collect();
                Sample::new(&values).unwrap()
            })
            .collect();
        Runs::new(samples).unwrap()
    }

    #[test]
    fn a_a_pairs_of_drifting_runs_are_rarely_called_different_and_a_doubling_always_is() {
        // 200 A/A pairs of four runs a side: the test between runs holds false differences
        // near its 5% level (at most 8% allowed), where the rank test of the pooled samples
        // sees the drift itself as a difference in most pairs.
        let (mut between_runs, mut of_samples) = (0, 0);
        for i in 0..200 {
            let (a, b) = (drifting(100.0, 4, 2 * i), drifting(100.0, 4, 2 * i + 1));
            let (test, p) = difference_test(&a, &b);
            assert_eq!(test, DifferenceTest::WelchTOfRunMedians);
            between_runs += usize::from(p < 0.05);
            of_samples += usize::from(mann_whitney_u(a.pooled(), b.pooled()).p < 0.05);
        }
        eprintln!("A/A p < 0.05: between runs {between_runs}/200, of samples {of_samples}/200");
        assert!(between_runs <= 16, "{between_runs}/200");
        assert!(of_samples > 100, "{of_samples}/200");
        for i in 0..50 {
            let (a, b) = (drifting(100.0, 4, 1000 + i), drifting(200.0, 4, 2000 + i));
            assert!(difference_test(&a, &b).1 < 1e-3);
        }
    }

    #[test]
    fn one_run_a_side_is_tested_on_its_samples() {
        let (a, b) = (drifting(100.0, 1, 1), drifting(100.0, 3, 2));
        assert_eq!(difference_test(&a, &b).0, DifferenceTest::RankTestOfSamples);
    }
}
