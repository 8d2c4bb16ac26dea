//! Fleet projection: a fleet of devices, expressed in units of one reference device.
//!
//! Everything here is pure arithmetic over small input types ([`DeviceFigures`],
//! [`MeasuredRatio`]), so each total, interval and solved remainder can be checked by hand.
//! [`project`] turns a fleet file into one typed [`Projection`] (entries, totals, claim checks,
//! stock over time; numbers and intervals, no display strings); `fleetbench project` prints it
//! through [`crate::output`] and the report's fleet charts draw the same model.
//!
//! Two vocabularies meet here and stay apart: what was *measured* is a [`Metric`]
//! (`--metric matmul-f16`, a ratios file's metric), what a datasheet *states* is a
//! [`DatasheetFigure`] (a catalog precision or the bandwidth); [`Metric::figure`] maps one to
//! the other. Both, and the [`crate::catalog::YearFraction`] dates, live in the catalog, below
//! this module and the fleet file it reads. [`Regime`] (training, inference, an intensity)
//! places a fleet on the roofline.
//!
//! Intervals are carried by interval arithmetic: a total's bounds are the sums of the entries'
//! bounds. Every ratio shares one reference device, so their errors are correlated, and the
//! sum of bounds is the honest (conservative) choice rather than a root-sum-of-squares.

mod basis;
mod claims;
mod growth;
mod model;
mod project;
mod sources;
mod tables;
mod totals;

pub use basis::{attainable, published, Basis, RatioSources, Regime};
pub use claims::{
    check_multiple, check_ratio_claim, solve_remainder, Multiple, RatioCheck, Solved,
};
pub use growth::{doubling_time, growth_between, growth_factor, stock_at, Dated, Growth};
pub use model::{
    BasisTotal, ClaimCheck, ClaimResult, Difference, EntryRow, GrowthVerdict, Projection,
    StockPoint, Throughput,
};
pub use project::{bases_for, project, Inputs, DEFAULT_METRIC};
pub use sources::{figures_from_catalog, figures_from_entry, measured_from_ratios};
pub use totals::{entry_equivalents, total, EntryResult, Holding, Total};

use crate::catalog::{DatasheetFigure, Metric, Precision};
pub use crate::stats::Interval;
use std::collections::BTreeMap;

/// The published figures of one device that a projection needs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DeviceFigures {
    /// Catalog id, e.g. `h100-sxm`.
    pub id: String,
    /// Dense peak per catalog precision, TFLOP/s (TOPS for INT8).
    pub peaks: BTreeMap<Precision, f64>,
    /// Memory bandwidth, TB/s.
    pub bandwidth_tbs: Option<f64>,
}

impl DeviceFigures {
    /// The published `figure` (bandwidth in TB/s, compute in TFLOP/s).
    pub fn figure(&self, figure: DatasheetFigure) -> Option<f64> {
        match figure {
            DatasheetFigure::Bandwidth => self.bandwidth_tbs,
            DatasheetFigure::Compute(p) => self.peaks.get(&p).copied(),
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
    /// Whether it was calibrated from simulated runs (`run --simulate`): a test instrument.
    pub simulated: bool,
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
