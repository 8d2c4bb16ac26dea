//! The equivalence ("ratios") file: for one metric and one reference device, every device's
//! ratio to the reference — published, measured with its interval, and the calibrated value a
//! projection should use — each cell saying where it came from.
//!
//! # API summary (kept stable; new items are added, none renamed)
//! - [`RatiosFile`] (versioned by [`RATIOS_SCHEMA_VERSION`], tagged `"kind":
//!   "fleetbench-ratios"`): `metric`, `reference`, `devices: Vec<DeviceRatios>`, provenance of
//!   the inputs. [`RatiosFile::load`] validates; [`RatiosFile::to_json`]; [`RatiosFile::table`]
//!   renders CSV/Markdown for people; [`RatiosFile::device`] and
//!   [`RatiosFile::calibrated_ratio`] look a device up by id.
//! - [`DeviceRatios`]: `device` (catalog id or slug), `published`, `measured`, `efficiency`,
//!   `calibrated`, each an optional [`RatioCell`] (`ratio` as an [`crate::stats::Interval`],
//!   `provenance`, `via`, `note`, and for measured ratios the [`CapabilityBasis`]: common
//!   shapes, each side's winning kernels, kernel-limited labels, max-achievable ratio).
//! - [`Provenance`]: `published`, `measured`, `chained` (measured against `via`, times `via`'s
//!   published ratio), `published_adjusted` (published × measured efficiency).
//! - [`Metric`]: `matmul-f32`, `matmul-f16`, `matmul-int8`, `peak-f32`, `peak-f16`,
//!   `bandwidth` — the one metric vocabulary of the crate.
//! - [`calibrate`](calibrate::calibrate) builds a file from result files and the catalog.
//!
//! A ratio r for device X means "one X does the work of r reference devices" on this metric.

pub mod calibrate;
mod file;
pub mod names;

/// The metric vocabulary lives in the catalog; re-exported because every ratios file names one.
pub use crate::catalog::Metric;
pub use file::{
    CapabilityBasis, CapabilitySide, DeviceRatios, InputRecord, Provenance, RatioCell, RatiosFile,
    RATIOS_KIND, RATIOS_SCHEMA_VERSION,
};
