//! Unit newtypes, so a duration is never confused with a throughput and every value prints with
//! its unit. They serialize as plain numbers (seconds, FLOP/s, bytes/s) to keep files readable.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A duration in seconds.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Seconds(pub f64);

/// A rate of floating-point operations per second.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct FlopsPerSec(pub f64);

/// A rate of bytes moved per second.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BytesPerSec(pub f64);

impl Seconds {
    /// The rate at which `amount` units of work were done in this time.
    pub fn rate(self, amount: f64) -> f64 {
        amount / self.0
    }
}

impl FlopsPerSec {
    /// In GFLOP/s, the unit people read.
    pub fn gflops(self) -> f64 {
        self.0 / 1e9
    }
}

impl BytesPerSec {
    /// In GB/s (10^9 bytes per second), the unit datasheets use.
    pub fn gbps(self) -> f64 {
        self.0 / 1e9
    }
}

impl fmt::Display for Seconds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        if s >= 1.0 {
            write!(f, "{s:.3} s")
        } else if s >= 1e-3 {
            write!(f, "{:.3} ms", s * 1e3)
        } else {
            write!(f, "{:.3} µs", s * 1e6)
        }
    }
}

impl fmt::Display for FlopsPerSec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let g = self.gflops();
        if g >= 1000.0 {
            write!(f, "{:.2} TFLOP/s", g / 1000.0)
        } else {
            write!(f, "{g:.2} GFLOP/s")
        }
    }
}

impl fmt::Display for BytesPerSec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} GB/s", self.gbps())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_picks_a_readable_scale() {
        assert_eq!(Seconds(2.5).to_string(), "2.500 s");
        assert_eq!(Seconds(0.0125).to_string(), "12.500 ms");
        assert_eq!(Seconds(3e-6).to_string(), "3.000 µs");
        assert_eq!(FlopsPerSec(1.5e12).to_string(), "1.50 TFLOP/s");
        assert_eq!(FlopsPerSec(2.5e10).to_string(), "25.00 GFLOP/s");
        assert_eq!(BytesPerSec(3.35e12).to_string(), "3350.00 GB/s");
    }

    #[test]
    fn rate_divides_work_by_time() {
        assert_eq!(Seconds(0.5).rate(10.0), 20.0);
    }
}
