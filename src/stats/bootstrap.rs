//! Seeded percentile bootstrap for ratios of medians. The seed is fixed by the caller, so a rerun
//! on the same samples prints the same interval (criterion's clock-seeded bootstrap cannot be
//! reproduced; this one can).

use super::interval::{quantile, Interval};
use super::Sample;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Default number of bootstrap resamples: enough for stable 2.5% / 97.5% percentiles.
pub const DEFAULT_RESAMPLES: usize = 2000;
/// Default bootstrap seed.
pub const DEFAULT_SEED: u64 = 0x5eed_f1ee_7be2_00c4;

/// How to bootstrap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapConfig {
    /// Number of resamples (at least 100).
    pub resamples: usize,
    /// Seed of the generator.
    pub seed: u64,
    /// Confidence level, e.g. 0.95.
    pub level: f64,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        BootstrapConfig {
            resamples: DEFAULT_RESAMPLES,
            seed: DEFAULT_SEED,
            level: 0.95,
        }
    }
}

/// The samples of one quantity taken in one or more runs (result files) of one device: the two
/// levels a pooled comparison resamples. Runs are kept apart because samples of one run share
/// that run's conditions (clocks, host load, placement), so the spread between runs is not the
/// spread within them.
#[derive(Debug, Clone, PartialEq)]
pub struct Runs {
    runs: Vec<Sample>,
    pooled: Sample,
}

impl Runs {
    /// The runs of one quantity; `None` when there are none.
    pub fn new(runs: Vec<Sample>) -> Option<Self> {
        let values: Vec<f64> = runs.iter().flat_map(|r| r.sorted().to_vec()).collect();
        let pooled = Sample::new(&values).ok()?;
        Some(Runs { runs, pooled })
    }

    /// One run.
    pub fn single(sample: Sample) -> Self {
        Runs {
            pooled: sample.clone(),
            runs: vec![sample],
        }
    }

    /// Every run's samples.
    pub fn runs(&self) -> &[Sample] {
        &self.runs
    }

    /// All samples of all runs together.
    pub fn pooled(&self) -> &Sample {
        &self.pooled
    }

    /// The median of the pooled samples: the point estimate.
    pub fn median(&self) -> f64 {
        self.pooled.median()
    }
}

/// median(a) ÷ median(b) with a percentile-bootstrap interval: both samples are resampled with
/// replacement, independently, `resamples` times.
pub fn ratio_of_medians(a: &Sample, b: &Sample, config: &BootstrapConfig) -> Interval {
    let (a, b) = (Runs::single(a.clone()), Runs::single(b.clone()));
    geomean_of_ratios(&[(&a, &b)], config)
}

/// The geometric mean over pairs of median(a_i) ÷ median(b_i), each median taken over the pooled
/// runs, with a two-level bootstrap interval: every resample draws each side's runs with
/// replacement, then each drawn run's samples with replacement. With one run per side it is the
/// plain bootstrap of the samples; with several it also covers the spread between runs, which
/// resampling samples alone leaves out. All pairs share the draws of the runs by position (run
/// `j` of every pair is the same result file), so a slow run moves every ratio it enters alike.
///
/// The loops run pair by pair, each pair through every resample, so one pair's samples stay
/// in cache while thousands of medians are drawn from them: the cost grows linearly with the
/// number of pairs instead of slowing down once they no longer fit in cache.
pub fn geomean_of_ratios(pairs: &[(&Runs, &Runs)], config: &BootstrapConfig) -> Interval {
    let point = mean_log_ratio(pairs.iter().map(|(a, b)| (a.median(), b.median())));
    let resamples = config.resamples.max(100);
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let picks_a = RunPicks::draw(pairs.iter().map(|p| p.0), resamples, &mut rng);
    let picks_b = RunPicks::draw(pairs.iter().map(|p| p.1), resamples, &mut rng);
    let mut sums = vec![0.0; resamples];
    let mut buf = Vec::new();
    for (a, b) in pairs {
        for (r, sum) in sums.iter_mut().enumerate() {
            let ma = resampled_median(a, picks_a.of(r), &mut rng, &mut buf);
            let mb = resampled_median(b, picks_b.of(r), &mut rng, &mut buf);
            *sum += (ma / mb).ln();
        }
    }
    let n = pairs.len() as f64;
    let mut draws: Vec<f64> = sums.into_iter().map(|s| s / n).collect();
    draws.sort_by(f64::total_cmp);
    let tail = (1.0 - config.level) / 2.0;
    Interval::new(
        point.exp(),
        quantile(&draws, tail).exp(),
        quantile(&draws, 1.0 - tail).exp(),
        config.level,
    )
}

/// One side's run indices for every resample, drawn with replacement up front (as many per
/// resample as the side's largest run count) and kept in one flat array: every pair of a
/// resample uses the same draw, so run `j` of every pair is the same result file.
struct RunPicks {
    per_resample: usize,
    indices: Vec<usize>,
}

impl RunPicks {
    fn draw<'a>(
        side: impl Iterator<Item = &'a Runs>,
        resamples: usize,
        rng: &mut ChaCha8Rng,
    ) -> RunPicks {
        let count = side.map(|r| r.runs.len()).max().unwrap_or(1);
        let indices = (0..resamples)
            .flat_map(|_| draw_indices(count, rng))
            .collect();
        RunPicks {
            per_resample: count,
            indices,
        }
    }

    fn of(&self, resample: usize) -> &[usize] {
        let start = resample * self.per_resample;
        &self.indices[start..start + self.per_resample]
    }
}

fn draw_indices(count: usize, rng: &mut ChaCha8Rng) -> Vec<usize> {
    if count == 1 {
        return vec![0];
    }
    (0..count).map(|_| rng.random_range(0..count)).collect()
}

fn mean_log_ratio(ratios: impl Iterator<Item = (f64, f64)>) -> f64 {
    let (mut total, mut n) = (0.0, 0usize);
    for (a, b) in ratios {
        total += (a / b).ln();
        n += 1;
    }
    if n == 0 {
        return f64::NAN;
    }
    total / n as f64
}

/// The median of the drawn runs' samples, each run resampled with replacement. A quantity that
/// lacks some of the side's runs (a case missing from one file) draws its own runs.
fn resampled_median(runs: &Runs, picks: &[usize], rng: &mut ChaCha8Rng, buf: &mut Vec<f64>) -> f64 {
    let own;
    let picks = if picks.len() == runs.runs.len() {
        picks
    } else {
        own = draw_indices(runs.runs.len(), rng);
        &own
    };
    let total: usize = picks.iter().map(|&p| runs.runs[p].len()).sum();
    if total >= LARGE_SAMPLE {
        return large_sample_median(runs, picks, total, rng, buf);
    }
    buf.clear();
    for &p in picks {
        let values = runs.runs[p].sorted();
        buf.extend((0..values.len()).map(|_| values[rng.random_range(0..values.len())]));
    }
    median_in_place(buf)
}

/// From this many pooled values on, a resample's median is drawn from its large-sample
/// distribution instead of by drawing every value: the work per resample no longer grows with
/// the sample, so a file of 10,000-sample cases compares in seconds, not minutes.
const LARGE_SAMPLE: usize = 256;

/// The median of a resample of `total` values, drawn directly: the count of resampled values
/// at or below the value of rank `j` is Binomial(total, j/total), so the resample's median is
/// the value whose rank is about `total/2 + Z·√total/2` with `Z` standard normal. Resampling
/// each run's samples separately (as the small-sample path does) spreads a little less than
/// this, so the interval errs on the wide side.
fn large_sample_median(
    runs: &Runs,
    picks: &[usize],
    total: usize,
    rng: &mut ChaCha8Rng,
    buf: &mut Vec<f64>,
) -> f64 {
    let z = standard_normal(rng);
    let centre = (total as f64 - 1.0) / 2.0;
    let rank = (centre + z * (total as f64).sqrt() / 2.0).round();
    let rank = rank.clamp(0.0, total as f64 - 1.0) as usize;
    if let [only] = picks {
        return runs.runs[*only].sorted()[rank];
    }
    buf.clear();
    for &p in picks {
        buf.extend_from_slice(runs.runs[p].sorted());
    }
    *buf.select_nth_unstable_by(rank, f64::total_cmp).1
}

/// A standard normal draw (Box–Muller).
fn standard_normal(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// The median of unsorted values by selection, linear rather than a sort's n log n: a
/// bootstrap takes thousands of medians of samples that can hold 10,000 values each.
fn median_in_place(values: &mut [f64]) -> f64 {
    let n = values.len();
    let (lower, upper, _) = values.select_nth_unstable_by(n / 2, f64::total_cmp);
    let upper = *upper;
    if n % 2 == 1 {
        return upper;
    }
    let below = lower.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (below + upper) / 2.0
}

/// Geometric mean of positive values; `None` when empty or any value is not positive.
pub fn geometric_mean(values: &[f64]) -> Option<f64> {
    if values.is_empty() || values.iter().any(|v| !(v.is_finite() && *v > 0.0)) {
        return None;
    }
    let mean_log = values.iter().map(|v| v.ln()).sum::<f64>() / values.len() as f64;
    Some(mean_log.exp())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_distr_free::lognormal_sample;

    /// Seeded log-normal-ish samples without an extra crate: exp(sigma * sum of uniforms).
    mod rand_distr_free {
        use rand::{Rng, SeedableRng};
        pub fn lognormal_sample(median: f64, sigma: f64, n: usize, seed: u64) -> Vec<f64> {
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            (0..n)
                .map(|_| {
                    // Irwin–Hall: sum of 12 uniforms − 6 is close to a standard normal.
                    let z: f64 = (0..12).map(|_| rng.random::<f64>()).sum::<f64>() - 6.0;
                    median * (sigma * z).exp()
                })
                .collect()
        }
    }

    #[test]
    fn large_samples_get_the_interval_of_exact_resampling() {
        // 400 values are above the threshold; 255 copies of the same sample below it are
        // resampled value by value. Both intervals must agree to within a few per cent.
        let big = lognormal_sample(100.0, 0.1, 400, 5);
        let small: Vec<f64> = big.iter().step_by(2).take(200).copied().collect();
        let config = BootstrapConfig::default();
        let one = Sample::new(&[1.0, 1.0]).unwrap();
        let width = |v: &[f64]| {
            let i = ratio_of_medians(&Sample::new(v).unwrap(), &one, &config);
            (i.high - i.low) * (v.len() as f64).sqrt()
        };
        let (fast, exact) = (width(&big), width(&small));
        assert!((fast / exact - 1.0).abs() < 0.35, "{fast} vs {exact}");
    }

    #[test]
    fn selection_gives_the_sorted_median() {
        for values in [
            vec![3.0, 1.0, 2.0],
            vec![4.0, 1.0, 3.0, 2.0],
            vec![5.0, 5.0],
        ] {
            let mut sorted = values.clone();
            sorted.sort_by(f64::total_cmp);
            let want = crate::stats::median_of_sorted(&sorted);
            assert_eq!(median_in_place(&mut values.clone()), want, "{values:?}");
        }
    }

    #[test]
    fn geometric_mean_matches_known_values() {
        assert_eq!(geometric_mean(&[2.0, 8.0]), Some(4.0));
        assert!((geometric_mean(&[1.0, 10.0, 100.0]).unwrap() - 10.0).abs() < 1e-12);
        assert_eq!(geometric_mean(&[]), None);
        assert_eq!(geometric_mean(&[1.0, 0.0]), None);
    }

    #[test]
    fn exact_ratio_of_constant_samples() {
        let a = Sample::new(&[4.0; 10]).unwrap();
        let b = Sample::new(&[2.0; 10]).unwrap();
        let e = ratio_of_medians(&a, &b, &BootstrapConfig::default());
        assert_eq!((e.value, e.low, e.high), (2.0, 2.0, 2.0));
    }

    #[test]
    fn interval_covers_a_known_ratio_and_is_reproducible() {
        let a = Sample::new(&lognormal_sample(200.0, 0.05, 30, 1)).unwrap();
        let b = Sample::new(&lognormal_sample(100.0, 0.05, 30, 2)).unwrap();
        let config = BootstrapConfig::default();
        let e = ratio_of_medians(&a, &b, &config);
        assert!(e.low < 2.0 && 2.0 < e.high, "{e:?}");
        assert!(e.high / e.low < 1.15, "too wide: {e:?}");
        assert!(e.excludes(1.0));
        assert_eq!(e, ratio_of_medians(&a, &b, &config));
        let other = BootstrapConfig { seed: 9, ..config };
        assert_ne!(e, ratio_of_medians(&a, &b, &other));
    }

    #[test]
    fn same_distribution_includes_one() {
        let a = Sample::new(&lognormal_sample(100.0, 0.05, 30, 3)).unwrap();
        let b = Sample::new(&lognormal_sample(100.0, 0.05, 30, 4)).unwrap();
        let e = ratio_of_medians(&a, &b, &BootstrapConfig::default());
        assert!(!e.excludes(1.0), "{e:?}");
    }

    #[test]
    fn geomean_of_two_cases() {
        let s = |v: f64| Sample::new(&[v; 5]).unwrap();
        let (a1, b1, a2, b2) = (s(2.0), s(1.0), s(8.0), s(1.0));
        let [a1, b1, a2, b2] = [a1, b1, a2, b2].map(Runs::single);
        let e = geomean_of_ratios(&[(&a1, &b1), (&a2, &b2)], &BootstrapConfig::default());
        assert!((e.value - 4.0).abs() < 1e-12);
    }

    #[test]
    fn coverage_is_near_the_level() {
        // 200 synthetic experiments with a true ratio of 1.5: a 95% interval should cover it in
        // roughly 95% of them (allow 85%..100% for 200 trials and the bootstrap's small-n bias).
        let config = BootstrapConfig {
            resamples: 400,
            ..BootstrapConfig::default()
        };
        let covered = (0..200u64)
            .filter(|i| {
                let a = Sample::new(&lognormal_sample(150.0, 0.1, 25, 2 * i)).unwrap();
                let b = Sample::new(&lognormal_sample(100.0, 0.1, 25, 2 * i + 1)).unwrap();
                !ratio_of_medians(&a, &b, &config).excludes(1.5)
            })
            .count();
        assert!((170..=200).contains(&covered), "{covered}/200");
    }

    /// The drift model: every run of a device sits at its own level, exp(0.03·z) around the
    /// true throughput (the host's load and clocks change between runs), and its samples scatter
    /// by exp(0.01·z) around that level. Pooling `runs` such runs gives one side of a comparison.
    fn drifting_runs(runs: usize, samples: usize, seed: u64) -> Runs {
        let levels = lognormal_sample(100.0, 0.03, runs, seed);
        let runs = levels
            .iter()
            .enumerate()
            .map(|(j, level)| {
                let values = lognormal_sample(*level, 0.01, samples, seed * 1000 + j as u64 + 1);
                Sample::new(&values).unwrap()
            })
            .collect();
        Runs::new(runs).unwrap()
    }

    #[test]
    fn a_a_pairs_of_drifting_runs_are_significant_at_about_the_nominal_rate() {
        // 200 A/A pairs, four runs of 12 samples per side. Resampling the runs as well as their
        // samples keeps false differences near the nominal 5% (at most 10% allowed); resampling
        // the pooled samples alone sees only the 1% within-run scatter and calls most pairs
        // different.
        let config = BootstrapConfig {
            resamples: 1000,
            ..BootstrapConfig::default()
        };
        let (mut nested, mut samples_only) = (0, 0);
        for i in 0..200u64 {
            let a = drifting_runs(4, 12, 2 * i + 1);
            let b = drifting_runs(4, 12, 2 * i + 2);
            if geomean_of_ratios(&[(&a, &b)], &config).excludes(1.0) {
                nested += 1;
            }
            if ratio_of_medians(a.pooled(), b.pooled(), &config).excludes(1.0) {
                samples_only += 1;
            }
        }
        eprintln!("false differences: two-level {nested}/200, samples only {samples_only}/200");
        assert!(
            nested <= 20,
            "two-level bootstrap: {nested}/200 significant"
        );
        assert!(
            samples_only > 20,
            "samples only: {samples_only}/200 significant"
        );
    }

    #[test]
    fn one_run_per_side_is_the_plain_bootstrap() {
        let a = Sample::new(&lognormal_sample(200.0, 0.05, 30, 1)).unwrap();
        let b = Sample::new(&lognormal_sample(100.0, 0.05, 30, 2)).unwrap();
        let config = BootstrapConfig::default();
        let (ra, rb) = (Runs::single(a.clone()), Runs::single(b.clone()));
        assert_eq!(
            ratio_of_medians(&a, &b, &config),
            geomean_of_ratios(&[(&ra, &rb)], &config)
        );
        let two = Runs::new(vec![a.clone(), a.clone()]).unwrap();
        assert_eq!(two.pooled().len(), 60);
        assert_eq!(two.median(), a.median());
    }
}
