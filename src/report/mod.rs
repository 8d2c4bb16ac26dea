//! Reports people look at: SVG charts (roofline, comparison, equivalence, fleet totals and
//! stock, a store's history) and one self-contained HTML page that embeds them beside their tables, plus the JSON
//! Schemas of the files fleetbench reads and writes and of every command's JSON output.
//! Charts draw the models the commands print (the fleet charts draw
//! [`crate::projection::Projection`]) and put their legends in a strip under the plot
//! ([`chart::draw_svg_with_legend`]). Everything here is pure — data in, text out; the binary
//! decides where it goes.

pub mod chart;
pub mod comparison;
pub mod document;
pub mod equivalence;
pub mod fleet;
pub mod history;
pub mod html;
pub mod roofline;
pub mod schemas;

pub use comparison::ComparisonChart;
pub use roofline::Roofline;
