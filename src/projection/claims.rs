//! Claim checks: a stated remainder solved in a chosen device, "one X equals N Ys" metric by
//! metric, and "A is F times B" with an implied growth base.

use super::growth::doubling_time;
use super::{DeviceFigures, Interval};
use crate::catalog::DatasheetFigure;

/// An open remainder of a stated total, expressed as a count of one device.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Solved {
    /// Stated total minus the computed known part, in reference-equivalents.
    pub remainder: Interval,
    /// How many of the chosen device make up the remainder.
    pub count: Interval,
}

/// Solves `stated_total = known + n × ratio` for `n`. The remainder's bounds come from the
/// known part's (`T − hi`, `T − lo`); the count's pair the low remainder with the high ratio.
/// A negative remainder means the known part alone exceeds the stated total.
pub fn solve_remainder(stated_total: f64, known: Interval, ratio: Interval) -> Solved {
    let remainder = Interval::new(
        stated_total - known.value,
        stated_total - known.high,
        stated_total - known.low,
        known.level,
    );
    let count = Interval::new(
        remainder.value / ratio.value,
        remainder.low / ratio.high,
        remainder.high / ratio.low,
        remainder.level.min(ratio.level),
    );
    Solved { remainder, count }
}

/// One line of a "one X equals N Ys" check.
#[derive(Debug, Clone, PartialEq)]
pub struct RatioCheck {
    /// The figure of X (first) and of Y (second); they differ for a mixed comparison.
    pub figures: (DatasheetFigure, DatasheetFigure),
    /// X's figure over Y's.
    pub ratio: f64,
    /// `ratio / claimed − 1`: how far the datasheet lies from the claim.
    pub off_by: f64,
}

/// Checks "one `device` equals `claimed` × `of`" for each same-figure pair both devices have a
/// figure for, then for each listed mixed pair (e.g. FP8 of X against BF16 of Y).
pub fn check_ratio_claim(
    device: &DeviceFigures,
    of: &DeviceFigures,
    claimed: f64,
    mixed: &[(DatasheetFigure, DatasheetFigure)],
) -> Vec<RatioCheck> {
    let same = DatasheetFigure::ALL.iter().map(|f| (*f, *f));
    same.chain(mixed.iter().copied())
        .filter_map(|(a, b)| {
            let ratio = device.figure(a)? / of.figure(b)?;
            Some(RatioCheck {
                figures: (a, b),
                ratio,
                off_by: ratio / claimed - 1.0,
            })
        })
        .collect()
}

/// "Our total is `factor` times theirs", optionally with "they grow `growth`× in `months`".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Multiple {
    /// The other party's implied total: `total / factor`.
    pub implied: f64,
    /// Their implied starting base: `implied / growth`.
    pub base: Option<f64>,
    /// Doubling time of that growth, in months.
    pub doubling_months: Option<f64>,
}

/// Works out what "`total` is `factor` times theirs" implies; `None` unless `factor > 0`.
pub fn check_multiple(total: f64, factor: f64, growth: Option<(f64, f64)>) -> Option<Multiple> {
    if factor <= 0.0 {
        return None;
    }
    let implied = total / factor;
    let base = growth.filter(|(g, _)| *g > 0.0).map(|(g, _)| implied / g);
    let doubling_months = growth.and_then(|(g, months)| doubling_time(g, months));
    Some(Multiple {
        implied,
        base,
        doubling_months,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remainder_by_hand() {
        // 600k stated, 350k known exactly, A100 = 312 / 989.4 of an H100 (BF16):
        // 250000 × 989.4 / 312 = 792788.46.
        let s = solve_remainder(
            600_000.0,
            Interval::exact(350_000.0),
            Interval::exact(312.0 / 989.4),
        );
        assert_eq!(s.remainder.value, 250_000.0);
        assert!((s.count.value - 792_788.461_5).abs() < 0.01, "{:?}", s);
    }

    #[test]
    fn remainder_bounds_pair_extremes() {
        let known = Interval::new(100.0, 90.0, 110.0, 0.95);
        let ratio = Interval::new(0.5, 0.4, 0.625, 0.95);
        let s = solve_remainder(300.0, known, ratio);
        assert_eq!((s.remainder.low, s.remainder.high), (190.0, 210.0));
        // value 200 / 0.5 = 400; lo 190 / 0.625 = 304; hi 210 / 0.4 = 525.
        assert!((s.count.value - 400.0).abs() < 1e-9);
        assert!((s.count.low - 304.0).abs() < 1e-9);
        assert!((s.count.high - 525.0).abs() < 1e-9);
    }

    #[test]
    fn multiple_and_growth_base() {
        // 600k / 8 = 75k; 75k / 20 = 3.75k; 18 × ln 2 / ln 20 = 4.164808 months.
        let m = check_multiple(600_000.0, 8.0, Some((20.0, 18.0))).unwrap();
        assert_eq!(m.implied, 75_000.0);
        assert_eq!(m.base, Some(3_750.0));
        assert!((m.doubling_months.unwrap() - 4.164_808).abs() < 1e-5);
        assert!(check_multiple(1.0, 0.0, None).is_none());
    }
}
