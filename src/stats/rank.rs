//! The Mann–Whitney U (Wilcoxon rank-sum) test: does one sample tend to be larger than the
//! other? Rank-based, so one outlier (a preempted sample) cannot make a difference significant.
//! p-values use the normal approximation with tie and continuity corrections, as R's
//! `wilcox.test(exact = FALSE, correct = TRUE)`.

use super::Sample;
use serde::{Deserialize, Serialize};

/// The outcome of a two-sided rank test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RankTest {
    /// U statistic of the first sample (how many (a, b) pairs have a > b, ties counting ½).
    pub u: f64,
    /// Standardised statistic (continuity-corrected).
    pub z: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Two-sided Mann–Whitney U test of `a` against `b`.
pub fn mann_whitney_u(a: &Sample, b: &Sample) -> RankTest {
    let (n1, n2) = (a.len() as f64, b.len() as f64);
    let (rank_sum_a, tie_term) = rank_sum_first(a.sorted(), b.sorted());
    let u = rank_sum_a - n1 * (n1 + 1.0) / 2.0;
    let n = n1 + n2;
    let mean = n1 * n2 / 2.0;
    let variance = n1 * n2 / 12.0 * ((n + 1.0) - tie_term / (n * (n - 1.0)));
    if variance <= 0.0 {
        // Every value equal: no evidence of any difference.
        return RankTest { u, z: 0.0, p: 1.0 };
    }
    let diff = u - mean;
    let corrected = (diff.abs() - 0.5).max(0.0) * diff.signum();
    let z = corrected / variance.sqrt();
    let p = (2.0 * normal_sf(z.abs())).min(1.0);
    RankTest { u, z, p }
}

/// Sum of the ranks of `a` in the pooled sample (mid-ranks for ties), and Σ(t³ − t) over tie
/// groups.
fn rank_sum_first(a: &[f64], b: &[f64]) -> (f64, f64) {
    let mut pooled: Vec<(f64, bool)> = a.iter().map(|v| (*v, true)).collect();
    pooled.extend(b.iter().map(|v| (*v, false)));
    pooled.sort_by(|x, y| x.0.total_cmp(&y.0));
    let (mut rank_sum, mut tie_term) = (0.0, 0.0);
    let mut i = 0;
    while i < pooled.len() {
        let mut j = i;
        while j + 1 < pooled.len() && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        let mid_rank = (i + j) as f64 / 2.0 + 1.0;
        let t = (j - i + 1) as f64;
        tie_term += t * t * t - t;
        rank_sum += mid_rank * pooled[i..=j].iter().filter(|x| x.1).count() as f64;
        i = j + 1;
    }
    (rank_sum, tie_term)
}

/// P(Z > z) for a standard normal Z.
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// Complementary error function, Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7):
/// ample for deciding significance at the 5% level.
fn erfc(x: f64) -> f64 {
    if x < 0.0 {
        return 2.0 - erfc(-x);
    }
    let t = 1.0 / (1.0 + 0.327_591_1 * x);
    let poly = t
        * (0.254_829_592
            + t * (-0.284_496_736
                + t * (1.421_413_741 + t * (-1.453_152_027 + t * 1.061_405_429))));
    poly * (-x * x).exp()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[f64]) -> Sample {
        Sample::new(v).unwrap()
    }

    #[test]
    fn normal_tail_matches_tables() {
        assert!((normal_sf(0.0) - 0.5).abs() < 1e-7);
        assert!((normal_sf(1.959_964) - 0.025).abs() < 1e-6);
        assert!((normal_sf(-1.0) - 0.841_344_7).abs() < 1e-6);
        assert!((normal_sf(3.0) - 0.001_349_9).abs() < 1e-6);
    }

    #[test]
    fn separated_samples_match_r() {
        // U = 100 of 100 pairs; z = (50 − 0.5)/√175, p = erfc(z/√2) = 0.00018267 (as R's
        // wilcox.test(11:20, 1:10, exact = FALSE)).
        let a: Vec<f64> = (11..=20).map(f64::from).collect();
        let b: Vec<f64> = (1..=10).map(f64::from).collect();
        let t = mann_whitney_u(&s(&a), &s(&b));
        assert_eq!(t.u, 100.0);
        assert!((t.p - 0.000_182_671_7).abs() < 1e-6, "{t:?}");
        let flipped = mann_whitney_u(&s(&b), &s(&a));
        assert_eq!(flipped.u, 0.0);
        assert!((flipped.p - t.p).abs() < 1e-12 && flipped.z < 0.0);
    }

    #[test]
    fn ties_use_mid_ranks_and_the_tie_correction() {
        // By hand: ranks of a are 1, 3, 3, 5.5 (sum 12.5, U = 2.5); tie groups of 3 and 2 give
        // Σ(t³−t) = 30, var = 16/12·(9 − 30/56) = 11.2857, z = (5.5 − 0.5)/3.3594 = 1.48835,
        // p = erfc(z/√2) = 0.136658.
        let t = mann_whitney_u(&s(&[1.0, 2.0, 2.0, 3.0]), &s(&[2.0, 3.0, 4.0, 5.0]));
        assert_eq!(t.u, 2.5);
        assert!((t.z + 1.488_351).abs() < 1e-5, "{t:?}");
        assert!((t.p - 0.136_658).abs() < 1e-5, "{t:?}");
    }

    #[test]
    fn identical_samples_are_not_different() {
        let t = mann_whitney_u(&s(&[3.0; 8]), &s(&[3.0; 8]));
        assert_eq!(t.p, 1.0);
        let t = mann_whitney_u(&s(&[1.0, 3.0, 5.0, 7.0]), &s(&[2.0, 4.0, 6.0, 8.0]));
        assert!(t.p > 0.5, "{t:?}");
    }
}
