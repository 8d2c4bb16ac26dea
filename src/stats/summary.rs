//! Order statistics of one set of samples: median, spread and the median's confidence interval.

use super::interval::{median_of_sorted, quantile, Interval};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

/// At least two finite, strictly positive values, kept sorted. Durations and throughputs are
/// never zero or negative; a sample that is has been mis-measured and must not be summarised.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    sorted: Vec<f64>,
}

impl Sample {
    /// Checks and sorts `values`.
    pub fn new(values: &[f64]) -> Result<Self> {
        if values.len() < 2 {
            return Err(Error::Samples(format!(
                "{} value(s); at least 2 are needed",
                values.len()
            )));
        }
        if let Some(bad) = values.iter().find(|v| !v.is_finite() || **v <= 0.0) {
            return Err(Error::Samples(format!(
                "value {bad} is not a finite positive number"
            )));
        }
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        Ok(Sample { sorted })
    }

    /// The values in ascending order.
    pub fn sorted(&self) -> &[f64] {
        &self.sorted
    }

    /// How many values there are.
    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    /// Always false: a `Sample` holds at least two values.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The median (mean of the two middle values for an even count).
    pub fn median(&self) -> f64 {
        self.quantile(0.5)
    }

    /// A quantile by linear interpolation between order statistics (type 7, as R and numpy).
    pub fn quantile(&self, q: f64) -> f64 {
        quantile(&self.sorted, q)
    }

    /// Median absolute deviation from the median (unscaled).
    pub fn mad(&self) -> f64 {
        let m = self.median();
        let deviations: Vec<f64> = self.sorted.iter().map(|v| (v - m).abs()).collect();
        median_of(deviations)
    }

    /// The smallest value.
    pub fn min(&self) -> f64 {
        self.sorted[0]
    }

    /// The largest value.
    pub fn max(&self) -> f64 {
        self.sorted[self.sorted.len() - 1]
    }

    /// The summary that result files store.
    pub fn summary(&self) -> Summary {
        let (low, high) = median_ci(&self.sorted, MEDIAN_LEVEL);
        Summary {
            n: self.len(),
            median: Interval::new(self.median(), low, high, MEDIAN_LEVEL),
            min: self.min(),
            max: self.max(),
            mad: self.mad(),
        }
    }
}

fn median_of(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    median_of_sorted(&values)
}

/// Median, extremes, spread and the median's confidence interval of one sample, in the sample's
/// own unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Summary {
    /// Number of values.
    pub n: usize,
    /// The median with its distribution-free 95% confidence interval ([`median_ci`]).
    pub median: Interval,
    /// The smallest value.
    pub min: f64,
    /// The largest value.
    pub max: f64,
    /// Median absolute deviation (unscaled).
    pub mad: f64,
}

/// Confidence level of the median interval that result files store.
pub const MEDIAN_LEVEL: f64 = 0.95;

/// Distribution-free confidence interval of the median from order statistics: the ranks are
/// chosen from the Binomial(n, 1/2) distribution so that the interval covers the true median with
/// at least `level` probability, whatever the distribution. With fewer than 6 values no pair of
/// ranks reaches 95%, so the full range is returned (coverage 1 - 2^(1-n)).
pub fn median_ci(sorted: &[f64], level: f64) -> (f64, f64) {
    let (lower, upper) = median_ci_ranks(sorted.len(), level);
    (sorted[lower], sorted[upper])
}

/// The 0-based positions, in `n` sorted values, of the ends of [`median_ci`]: what a caller
/// that selects order statistics without sorting (a fleet merge over a spill file) needs.
/// `n` must be at least 1.
pub fn median_ci_ranks(n: usize, level: f64) -> (usize, usize) {
    let alpha = 1.0 - level;
    // Largest j with P(X < j) = P(X <= j-1) <= alpha/2, X ~ Bin(n, 1/2); ranks are 1-based.
    // ln C(n, i) is updated step by step, so pooled samples of many thousands stay linear.
    let ln_half_n = n as f64 * std::f64::consts::LN_2;
    let mut ln_choose = 0.0;
    let mut cumulative = 0.0;
    let mut j = 0usize;
    for i in 0..n {
        cumulative += (ln_choose - ln_half_n).exp();
        if cumulative > alpha / 2.0 {
            break;
        }
        j = i + 1;
        ln_choose += ((n - i) as f64).ln() - ((i + 1) as f64).ln();
    }
    let lower_rank = j.max(1);
    let upper_rank = (n + 1 - lower_rank).max(lower_rank);
    (lower_rank - 1, upper_rank - 1)
}

/// P(X = k) for X ~ Binomial(n, 1/2), computed in log space so large n does not overflow.
#[cfg(test)]
fn binomial_half_pmf(n: usize, k: usize) -> f64 {
    let ln_choose = ln_factorial(n) - ln_factorial(k) - ln_factorial(n - k);
    (ln_choose - n as f64 * std::f64::consts::LN_2).exp()
}

#[cfg(test)]
fn ln_factorial(n: usize) -> f64 {
    (2..=n).map(|i| (i as f64).ln()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_too_few_and_non_positive_values() {
        assert!(Sample::new(&[1.0]).is_err());
        assert!(Sample::new(&[1.0, 0.0]).is_err());
        assert!(Sample::new(&[1.0, -2.0]).is_err());
        assert!(Sample::new(&[1.0, f64::NAN]).is_err());
        assert!(Sample::new(&[1.0, f64::INFINITY]).is_err());
    }

    #[test]
    fn median_quantiles_and_mad_match_hand_computation() {
        let s = Sample::new(&[5.0, 1.0, 4.0, 2.0, 3.0]).unwrap();
        assert_eq!(s.median(), 3.0);
        assert_eq!(s.quantile(0.25), 2.0);
        assert_eq!(s.min(), 1.0);
        assert_eq!(s.max(), 5.0);
        // deviations 2,1,0,1,2 -> median 1
        assert_eq!(s.mad(), 1.0);
        let even = Sample::new(&[1.0, 2.0, 3.0, 10.0]).unwrap();
        assert_eq!(even.median(), 2.5);
        assert!((even.quantile(0.9) - 7.9).abs() < 1e-12);
    }

    #[test]
    fn median_ci_uses_known_binomial_ranks() {
        // For n = 10 the 95% distribution-free interval is (x(2), x(9)): P(X<=1) = 11/1024.
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(median_ci(&v, 0.95), (2.0, 9.0));
        // For n = 20 it is (x(6), x(15)): P(X<=5) = 0.0207 <= 0.025 < P(X<=6) = 0.0577.
        let v: Vec<f64> = (1..=20).map(f64::from).collect();
        assert_eq!(median_ci(&v, 0.95), (6.0, 15.0));
        // For n = 100 it is (x(40), x(61)).
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(median_ci(&v, 0.95), (40.0, 61.0));
    }

    #[test]
    fn small_samples_fall_back_to_the_range() {
        assert_eq!(median_ci(&[1.0, 2.0, 3.0], 0.95), (1.0, 3.0));
    }

    #[test]
    fn stepwise_ranks_match_the_direct_binomial_sum() {
        for n in 2..300usize {
            let v: Vec<f64> = (1..=n).map(|i| i as f64).collect();
            let mut cumulative = 0.0;
            let mut j = 0;
            for i in 0..n {
                cumulative += binomial_half_pmf(n, i);
                if cumulative > 0.025 {
                    break;
                }
                j = i + 1;
            }
            let lower = j.max(1);
            let upper = (n + 1 - lower).max(lower);
            assert_eq!(median_ci(&v, 0.95), (lower as f64, upper as f64), "n = {n}");
        }
    }

    #[test]
    fn binomial_pmf_sums_to_one() {
        let total: f64 = (0..=30).map(|k| binomial_half_pmf(30, k)).sum();
        assert!((total - 1.0).abs() < 1e-12);
    }
}
