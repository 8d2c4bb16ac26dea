//! Seeded percentile bootstrap for ratios of medians. The seed is fixed by the caller, so a rerun
//! on the same samples prints the same interval (criterion's clock-seeded bootstrap cannot be
//! reproduced; this one can).

use super::interval::{median_of_sorted, quantile, Interval};
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

/// median(a) ÷ median(b) with a percentile-bootstrap interval: both samples are resampled with
/// replacement, independently, `resamples` times.
pub fn ratio_of_medians(a: &Sample, b: &Sample, config: &BootstrapConfig) -> Interval {
    geomean_of_ratios(&[(a, b)], config)
}

/// The geometric mean over pairs of median(a_i) ÷ median(b_i), with a bootstrap interval that
/// resamples every pair's samples. One pair gives the plain ratio of medians.
pub fn geomean_of_ratios(pairs: &[(&Sample, &Sample)], config: &BootstrapConfig) -> Interval {
    let point = mean_log_ratio(pairs, |s, _| s.median(), &mut ());
    let mut rng = ChaCha8Rng::seed_from_u64(config.seed);
    let mut scratch = Vec::new();
    let mut draws: Vec<f64> = (0..config.resamples.max(100))
        .map(|_| {
            mean_log_ratio(
                pairs,
                |s, (rng, buf): &mut (&mut ChaCha8Rng, &mut Vec<f64>)| {
                    resampled_median(s, rng, buf)
                },
                &mut (&mut rng, &mut scratch),
            )
        })
        .collect();
    draws.sort_by(f64::total_cmp);
    let tail = (1.0 - config.level) / 2.0;
    Interval::new(
        point.exp(),
        quantile(&draws, tail).exp(),
        quantile(&draws, 1.0 - tail).exp(),
        config.level,
    )
}

fn mean_log_ratio<C>(
    pairs: &[(&Sample, &Sample)],
    mut median: impl FnMut(&Sample, &mut C) -> f64,
    ctx: &mut C,
) -> f64 {
    if pairs.is_empty() {
        return f64::NAN;
    }
    let total: f64 = pairs
        .iter()
        .map(|(a, b)| (median(a, ctx) / median(b, ctx)).ln())
        .sum();
    total / pairs.len() as f64
}

fn resampled_median(s: &Sample, rng: &mut ChaCha8Rng, buf: &mut Vec<f64>) -> f64 {
    let values = s.sorted();
    buf.clear();
    buf.extend((0..values.len()).map(|_| values[rng.random_range(0..values.len())]));
    buf.sort_by(f64::total_cmp);
    median_of_sorted(buf)
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
}
