//! The published catalog: dense datasheet figures per precision for the GPUs fleets are made of,
//! and the rules that map an adapter reported by wgpu to one of them.
//!
//! The table lives in `data/gpu-catalog.csv` and the matching rules in `data/device-match.csv`;
//! both are embedded in the binary so a result file can be placed without any other file. Only
//! dense figures enter the table: vendors often print the 2:4-sparse figure (exactly 2× dense),
//! and a ratio that mixes the two is wrong by a factor of two.
//!
//! # API summary (kept stable; new items are added, none renamed)
//! - [`Catalog::builtin`] → the embedded table; [`Catalog::get`] by stable id (`h100-sxm`,
//!   `a100-sxm4-80gb`, `h200-sxm`, `mi300x`, …); [`Catalog::entries`]; [`Catalog::resolve`]
//!   accepts an id or a device name.
//! - [`CatalogEntry`]: `id`, `name`, `vendor`, `year`, dense figures through
//!   [`CatalogEntry::dense`] with a [`Precision`] (TFLOP/s, TOPS for INT8), `memory_gb`,
//!   `bandwidth_tbs`, `tdp_w`, `unverified` (precisions whose figure is uncertain), `sources`,
//!   `notes`.
//! - [`identify`] / [`DeviceIdentity`]: an adapter (vendor id, device id, name) → a catalog id, or
//!   the adapter's own slug with `matched: false`.
//! - [`import_epoch`]: Epoch AI's `ml_hardware.csv` → entries of the same schema.
//! - [`Metric`] (what is measured, with its one parser) and [`DatasheetFigure`] (what a
//!   datasheet states), joined by [`Metric::figure`]; [`YearFraction`], the one date type of
//!   fleet files and projections. They live here, below every analysis, so `compare`, `equiv`,
//!   `fleet` and `projection` share them without importing each other.
//! - [`CatalogListing`]: what `fleetbench catalog` prints — the entries themselves as JSON
//!   (figures as numbers or null), one row per entry for people.

mod entry;
mod epoch;
mod listing;
mod matching;
mod metric;
mod year;

pub use entry::{Catalog, CatalogEntry, Precision};
pub use epoch::{import_epoch, parse_epoch};
pub use listing::CatalogListing;
pub use matching::{identify, DeviceIdentity, MatchRule, MatchRules};
pub use metric::{DatasheetFigure, Metric};
pub use year::YearFraction;
