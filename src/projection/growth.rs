//! Compute stock over time: dated entries, the growth factor between two dates and the
//! doubling time it implies.

use super::Interval;
use crate::catalog::YearFraction;

/// An amount of reference-equivalents acquired at a time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dated {
    /// When it was acquired.
    pub acquired: YearFraction,
    /// Reference-equivalents, with interval.
    pub equivalents: Interval,
}

/// Growth between two dates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Growth {
    /// Stock at the first date.
    pub from: Interval,
    /// Stock at the second date.
    pub to: Interval,
    /// `to / from`, bounds from the extreme combinations.
    pub factor: Option<Interval>,
    /// Years for the stock to double at that constant rate (`None` if it did not grow).
    pub doubling_years: Option<f64>,
}

/// The stock at `t`: everything acquired on or before `t`.
pub fn stock_at(entries: &[Dated], t: YearFraction) -> Interval {
    entries
        .iter()
        .filter(|e| e.acquired.years <= t.years)
        .fold(Interval::exact(0.0), |acc, e| acc.plus(e.equivalents))
}

/// Growth factor `to / from`; `None` when the starting stock is zero. The bounds pair the low
/// end with the high start and vice versa, so they never understate the spread.
pub fn growth_factor(from: Interval, to: Interval) -> Option<Interval> {
    if from.low <= 0.0 || from.value <= 0.0 {
        return None;
    }
    Some(Interval::new(
        to.value / from.value,
        to.low / from.high,
        to.high / from.low,
        to.level.min(from.level),
    ))
}

/// Doubling time of steady exponential growth by `factor` over `years`:
/// `years × ln 2 / ln factor`; `None` unless `factor > 1` and `years > 0`.
pub fn doubling_time(factor: f64, years: f64) -> Option<f64> {
    (factor > 1.0 && years > 0.0).then(|| years * std::f64::consts::LN_2 / factor.ln())
}

/// The growth of `entries` between `from` and `to`.
pub fn growth_between(entries: &[Dated], from: YearFraction, to: YearFraction) -> Growth {
    let (s0, s1) = (stock_at(entries, from), stock_at(entries, to));
    let factor = growth_factor(s0, s1);
    let doubling_years = factor.and_then(|f| doubling_time(f.value, to.years - from.years));
    Growth {
        from: s0,
        to: s1,
        factor,
        doubling_years,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> YearFraction {
        s.parse().unwrap()
    }

    #[test]
    fn quarters_are_their_first_day() {
        assert_eq!(at("2023-Q1").years, 2023.0);
        // 2024 is a leap year: 1 October is day 275, (275 - 1) / 366.
        assert!((at("2024-Q4").years - (2024.0 + 274.0 / 366.0)).abs() < 1e-12);
        assert_eq!(at("2023-q3").to_string(), "2023-07-01");
        assert!("2023-Q5".parse::<YearFraction>().is_err());
        assert!("2023-02-30".parse::<YearFraction>().is_err());
        assert!("soon".parse::<YearFraction>().is_err());
    }

    #[test]
    fn doubling_time_by_hand() {
        // 20x in 1.5 years: 1.5 × 0.693147 / 2.995732 = 0.347067 years (4.16 months).
        let d = doubling_time(20.0, 1.5).unwrap();
        assert!((d - 0.347_067).abs() < 1e-6, "{d}");
        assert_eq!(doubling_time(1.0, 2.0), None);
        assert_eq!(doubling_time(0.5, 2.0), None);
    }

    #[test]
    fn stock_and_growth_between_dates() {
        let entries = [
            Dated {
                acquired: at("2022-Q4"),
                equivalents: Interval::exact(250_000.0),
            },
            Dated {
                acquired: at("2024-07-01"),
                equivalents: Interval::new(350_000.0, 300_000.0, 400_000.0, 0.95),
            },
        ];
        let g = growth_between(&entries, at("2023-Q1"), at("2025-Q1"));
        assert_eq!(g.from.value, 250_000.0);
        assert_eq!(g.to.value, 600_000.0);
        let f = g.factor.unwrap();
        assert!((f.value - 2.4).abs() < 1e-12);
        assert!((f.low - 2.2).abs() < 1e-12 && (f.high - 2.6).abs() < 1e-12);
        // 2 years × ln 2 / ln 2.4 = 1.583488 years.
        assert!((g.doubling_years.unwrap() - 1.583_488).abs() < 1e-6);
        assert_eq!(stock_at(&entries, at("2020-Q1")).value, 0.0);
        assert!(growth_between(&entries, at("2020-Q1"), at("2025-Q1"))
            .factor
            .is_none());
    }
}
