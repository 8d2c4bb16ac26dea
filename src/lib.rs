//! fleetbench: how much compute is a GPU, or a fleet of them, really worth?
//!
//! It runs verified WGSL kernels on any adapter wgpu reaches, keeps every raw sample in a
//! versioned result file, and turns files from many machines into measured equivalence ratios.
//! Only [`gpu`] touches wgpu; everything else takes data and returns data, and is tested without
//! a GPU.

#![deny(missing_docs)]

pub mod catalog;
pub mod compare;
pub mod devices;
pub mod equiv;
pub mod error;
pub mod fleet;
pub mod fsio;
pub mod gpu;
pub mod kernels;
pub mod measure;
pub mod merge;
pub mod output;
pub mod projection;
pub mod report;
pub mod results;
pub mod roofline;
pub mod stats;
pub mod store;
pub mod validate;
pub mod workload;

pub use error::{Error, Result};
