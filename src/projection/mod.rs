//! Fleet projection: a fleet of devices, expressed in units of one reference device.
//!
//! Everything here is pure arithmetic over small input types ([`DeviceFigures`],
//! [`MeasuredRatio`]), so each total, interval and solved remainder can be checked by hand.
//! The binary turns the published catalog and a ratios file into these types.
//!
//! Intervals are carried by interval arithmetic: a total's bounds are the sums of the entries'
//! bounds. Every ratio shares one reference device, so their errors are correlated, and the
//! sum of bounds is the honest (conservative) choice rather than a root-sum-of-squares.

mod basis;
mod claims;
mod growth;
pub mod report;
mod sources;
mod totals;

pub use basis::{attainable, published, Basis, Metric, RatioSources, Workload};
pub use claims::{
    check_multiple, check_ratio_claim, solve_remainder, Multiple, RatioCheck, Solved,
};
pub use growth::{
    doubling_time, growth_between, growth_factor, stock_at, Dated, Growth, YearFraction,
};
pub use sources::{
    figures_from_catalog, figures_from_entry, measured_from_ratios, metric_of, precision_of,
};
pub use totals::{entry_equivalents, total, EntryResult, Holding, Total};

pub use crate::stats::Interval;
use std::collections::BTreeMap;

/// The published figures of one device that a projection needs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeviceFigures {
    /// Catalog id, e.g. `h100-sxm`.
    pub id: String,
    /// Dense peak per compute metric, TFLOP/s (TOPS for INT8).
    pub peaks: BTreeMap<Metric, f64>,
    /// Memory bandwidth, TB/s.
    pub bandwidth_tbs: Option<f64>,
}

impl DeviceFigures {
    /// The published figure for `metric` (bandwidth in TB/s, compute in TFLOP/s).
    pub fn figure(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Bandwidth => self.bandwidth_tbs,
            m => self.peaks.get(&m).copied(),
        }
    }
}

/// A measured ratio of one device to the reference, from a calibration (ratios file).
#[derive(Debug, Clone, PartialEq)]
pub struct MeasuredRatio {
    /// Device id.
    pub device: String,
    /// Metric the ratio was measured for.
    pub metric: Metric,
    /// Ratio with its interval (device / reference).
    pub ratio: Interval,
    /// Where it came from (files, kernel, dtype), shown next to every use.
    pub provenance: String,
}

/// A ratio chosen for one device under one basis, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct RatioUsed {
    /// Device / reference, with interval.
    pub ratio: Interval,
    /// Where the ratio came from.
    pub provenance: String,
}

#[cfg(test)]
mod tests;
