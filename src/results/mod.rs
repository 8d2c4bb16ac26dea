//! The result file: what was measured, on what, how, and every raw sample, so any figure can be
//! re-derived and compared later on another machine.

mod adapter;
mod migrate;
pub mod schema;
pub mod store;
pub mod timing;

pub use schema::*;
pub use store::{default_path, load, save_atomic, slug, unit_file_name};
pub use timing::{derive_timing, RawTiming};
