//! Dates as fractional years, the time axis of release years, fleet acquisitions and growth.
//! Kept with the catalog (whose entries carry years) so fleet files and projections read one
//! date format without importing each other.

use std::fmt;
use std::str::FromStr;

/// A point in time as a fractional year (2023.0 is 1 January 2023). A quarter `YYYY-Qn` is
/// read as the first day of that quarter, a date `YYYY-MM-DD` as itself.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub struct YearFraction {
    /// Fractional year.
    pub years: f64,
    label_year: i16,
    label_month: i8,
    label_day: i8,
}

impl YearFraction {
    fn from_date(date: jiff::civil::Date) -> Self {
        let day = f64::from(date.day_of_year() - 1);
        let len = f64::from(date.days_in_year());
        YearFraction {
            years: f64::from(date.year()) + day / len,
            label_year: date.year(),
            label_month: date.month(),
            label_day: date.day(),
        }
    }
}

impl fmt::Display for YearFraction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02}",
            self.label_year, self.label_month, self.label_day
        )
    }
}

impl FromStr for YearFraction {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let bad = || format!("'{s}' is not a date (expected YYYY-MM-DD or YYYY-Qn, e.g. 2023-Q1)");
        if let Some((year, q)) = s
            .split_once(['-', ' '])
            .filter(|(_, q)| q.starts_with(['Q', 'q']))
        {
            let year: i16 = year.parse().map_err(|_| bad())?;
            let quarter: i8 = q[1..].parse().map_err(|_| bad())?;
            if !(1..=4).contains(&quarter) {
                return Err(bad());
            }
            let date = jiff::civil::Date::new(year, 3 * (quarter - 1) + 1, 1).map_err(|_| bad())?;
            return Ok(YearFraction::from_date(date));
        }
        let date: jiff::civil::Date = s.parse().map_err(|_| bad())?;
        Ok(YearFraction::from_date(date))
    }
}
