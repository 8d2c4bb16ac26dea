//! Reports people look at: SVG charts (roofline, comparison) and one self-contained HTML page
//! that embeds them beside their tables, plus the JSON Schemas of the files fleetbench reads
//! and writes. Everything here is pure — data in, text out; the binary decides where it goes.

pub mod chart;
pub mod comparison;
pub mod document;
pub mod equivalence;
pub mod fleet;
pub mod html;
pub mod roofline;
pub mod schemas;

pub use comparison::ComparisonChart;
pub use roofline::Roofline;
