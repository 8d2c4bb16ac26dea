//! The result file: what was measured, on what, how, and every raw sample, so any figure can be
//! re-derived and compared later on another machine.

mod adapter;
mod migrate;
pub mod schema;
pub mod simulated;
pub mod store;
pub mod timing;

pub use schema::*;
pub use simulated::{simulated_inputs, SIMULATED_LABEL};
pub use store::{default_path, load, save_atomic, slug, unit_file_name};
pub use timing::{derive_timing, RawTiming};

/// Environment variable that switches on fault injection; files written with it are tests, not
/// measurements. Part of the file's vocabulary (the file records it among the driver
/// settings), so both the GPU runner that reads it and `validate` that flags it import it from
/// here, and the runner never imports an analysis.
pub const FAULT_ENV: &str = "FLEETBENCH_INJECT_FAULTS";

/// The current UTC time as RFC 3339 with second precision: how every time stamp in a file is
/// written. Kept with the file format (not with the measuring side) so the format does not
/// import the code that fills it.
pub fn now_rfc3339() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .map_or_else(|_| jiff::Timestamp::now().to_string(), |t| t.to_string())
}
