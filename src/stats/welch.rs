//! Welch's t-test: do two groups of values differ in mean, when each group's spread is
//! estimated from its own handful of values? It is the test between *runs*: a comparison that
//! pools runs of each side has one value per run (the log of its median), and the runs — not
//! the thousands of samples inside them — are the independent observations. A rank test of the
//! pooled samples treats every sample as independent, so any drift between runs makes it
//! significant (p ≈ 10⁻⁴ for two runs of the same setting minutes apart on a shared host).

use super::student_t_sf;
use serde::{Deserialize, Serialize};

/// The outcome of a two-sided Welch test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WelchTest {
    /// mean(b) − mean(a) over the standard error of that difference.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Two-sided Welch test of the means of `a` and `b`, each with at least two values. `None`
/// with fewer: one value estimates no spread, and no test can be made on it.
pub fn welch_t_test(a: &[f64], b: &[f64]) -> Option<WelchTest> {
    if a.len() < 2 || b.len() < 2 {
        return None;
    }
    let (va, vb) = (variance_of_mean(a), variance_of_mean(b));
    let difference = mean(b) - mean(a);
    let se = (va + vb).sqrt();
    if se == 0.0 || !se.is_finite() {
        // Every run of both sides gave the same figure (a deterministic backend): the
        // difference is exact, so it is either none or certain.
        let p = if difference == 0.0 { 1.0 } else { 0.0 };
        let t = if difference == 0.0 {
            0.0
        } else {
            difference.signum() * f64::INFINITY
        };
        return Some(WelchTest {
            t,
            df: f64::INFINITY,
            p,
        });
    }
    let df = (va + vb).powi(2)
        / (va.powi(2) / (a.len() as f64 - 1.0) + vb.powi(2) / (b.len() as f64 - 1.0));
    let t = difference / se;
    let p = (2.0 * student_t_sf(t.abs(), df)).min(1.0);
    Some(WelchTest { t, df, p })
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The sample variance over n: the squared standard error of the group's mean.
fn variance_of_mean(values: &[f64]) -> f64 {
    let m = mean(values);
    let n = values.len() as f64;
    values.iter().map(|v| (v - m).powi(2)).sum::<f64>() / (n - 1.0) / n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_a_hand_computed_welch_test() {
        // a: mean 2, s² = 1 (n 3); b: mean 5, s² = 20/3 (n 4). se² = 1/3 + 5/3 = 2;
        // df = 2² / ((1/3)²/2 + (5/3)²/3); t = 3/√2; two-sided p ≈ 0.098.
        let test = welch_t_test(&[1.0, 2.0, 3.0], &[2.0, 4.0, 6.0, 8.0]).unwrap();
        assert!((test.t - 3.0 / 2f64.sqrt()).abs() < 1e-12, "{test:?}");
        assert!(
            (test.df - 4.0 / (1.0 / 18.0 + 25.0 / 27.0)).abs() < 1e-9,
            "{test:?}"
        );
        assert!((0.09..0.11).contains(&test.p), "{test:?}");
        let reversed = welch_t_test(&[2.0, 4.0, 6.0, 8.0], &[1.0, 2.0, 3.0]).unwrap();
        assert_eq!((reversed.t, reversed.p), (-test.t, test.p));
    }

    #[test]
    fn one_value_a_side_gives_no_test_and_exact_equal_groups_give_p_one() {
        assert!(welch_t_test(&[1.0], &[1.0, 2.0]).is_none());
        assert_eq!(welch_t_test(&[3.0, 3.0], &[3.0, 3.0]).unwrap().p, 1.0);
        assert_eq!(welch_t_test(&[3.0, 3.0], &[4.0, 4.0]).unwrap().p, 0.0);
    }
}
