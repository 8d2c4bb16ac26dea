//! The one interval type of the crate and the one quantile rule behind every interval.
//!
//! Every estimate fleetbench reports — a median, a ratio of medians, a geometric mean, a fleet
//! total — is a value with the interval that a stated confidence level gives it, so the same
//! four numbers travel from a result file through compare and calibrate to a projection.

use serde::{Deserialize, Serialize};

/// A point estimate with its confidence interval at `level` (0.95 for 95%).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Interval {
    /// The point estimate.
    pub value: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
    /// Confidence level of the interval, in (0, 1).
    pub level: f64,
}

impl Interval {
    /// An interval at `level` around `value`.
    pub fn new(value: f64, low: f64, high: f64, level: f64) -> Self {
        Interval {
            value,
            low,
            high,
            level,
        }
    }

    /// A value known exactly (a published figure): the interval is the point itself.
    pub fn exact(value: f64) -> Self {
        Interval::new(value, value, value, 1.0)
    }

    /// Whether the interval leaves out `x`.
    pub fn excludes(&self, x: f64) -> bool {
        x < self.low || x > self.high
    }

    /// Whether `low ≤ value ≤ high` and all three are finite: what a file must hold.
    pub fn is_consistent(&self) -> bool {
        [self.value, self.low, self.high]
            .iter()
            .all(|v| v.is_finite())
            && self.low <= self.value
            && self.value <= self.high
            && self.level > 0.0
            && self.level <= 1.0
    }

    /// Half the interval's width relative to the value (0.02 for ±2%); infinite for a zero value.
    pub fn relative_half_width(&self) -> f64 {
        if self.value == 0.0 {
            return f64::INFINITY;
        }
        (self.high - self.low) / 2.0 / self.value.abs()
    }

    /// The interval of `factor · self` (a positive factor keeps the order of the ends).
    pub fn scaled(&self, factor: f64) -> Self {
        let (a, b) = (self.low * factor, self.high * factor);
        Interval::new(self.value * factor, a.min(b), a.max(b), self.level)
    }

    /// The sum of two estimates with interval arithmetic: bounds add. The level is the lower of
    /// the two, since the sum of bounds covers at least that (it is conservative).
    pub fn plus(&self, other: Interval) -> Self {
        Interval::new(
            self.value + other.value,
            self.low + other.low,
            self.high + other.high,
            self.level.min(other.level),
        )
    }

    /// Whether the bounds are wider than rounding noise.
    pub fn has_width(&self) -> bool {
        (self.high - self.low).abs() > 1e-12 * self.value.abs().max(1.0)
    }

    /// The same interval mapped through a monotone increasing function (exp of a log-interval).
    pub fn map(&self, f: impl Fn(f64) -> f64) -> Self {
        Interval::new(f(self.value), f(self.low), f(self.high), self.level)
    }
}

/// Quantile of sorted, non-empty values by linear interpolation between order statistics
/// (type 7, as R and numpy). The only quantile rule in the crate.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    let at = QuantileAt::new(sorted.len(), q);
    at.value(sorted[at.lo], sorted[at.hi])
}

/// Where quantile `q` of `n` sorted values lies: the two order statistics it interpolates
/// between and the weight of the upper one. [`quantile`] is this applied to a sorted slice; a
/// caller that selects order statistics without sorting (a fleet merge over a spill file)
/// applies it to the two values it selected, and gets the same number.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantileAt {
    /// 0-based position of the lower order statistic.
    pub lo: usize,
    /// 0-based position of the upper one (equal to `lo` when the quantile falls on a value).
    pub hi: usize,
    /// The fractional position between them.
    pub fraction: f64,
}

impl QuantileAt {
    /// The positions of quantile `q` (clamped to 0..=1) among `n` values; `n` at least 1.
    pub fn new(n: usize, q: f64) -> Self {
        let pos = q.clamp(0.0, 1.0) * n.saturating_sub(1) as f64;
        let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
        QuantileAt {
            lo,
            hi,
            fraction: pos - lo as f64,
        }
    }

    /// The quantile from the values at `lo` and `hi`.
    pub fn value(&self, low: f64, high: f64) -> f64 {
        low + (high - low) * self.fraction
    }
}

/// The median of sorted, non-empty values.
pub fn median_of_sorted(sorted: &[f64]) -> f64 {
    quantile(sorted, 0.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_interpolates_like_type_7() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert_eq!(quantile(&v, 0.5), 2.5);
        assert!((quantile(&v, 0.25) - 1.75).abs() < 1e-12);
        assert_eq!(median_of_sorted(&[1.0, 5.0, 9.0]), 5.0);
    }

    #[test]
    fn consistency_and_width() {
        let i = Interval::new(100.0, 98.0, 102.0, 0.95);
        assert!(i.is_consistent());
        assert!((i.relative_half_width() - 0.02).abs() < 1e-12);
        assert!(!Interval::new(100.0, 101.0, 102.0, 0.95).is_consistent());
        assert!(!Interval::new(1.0, 0.0, 2.0, 7.0).is_consistent());
        assert!(i.excludes(97.0) && !i.excludes(100.0));
        let s = i.scaled(-1.0);
        assert_eq!((s.low, s.high), (-102.0, -98.0));
        assert_eq!(Interval::exact(3.0).relative_half_width(), 0.0);
    }
}
