//! Statistics over timing samples, in pure code so they can be checked against known answers.
//!
//! Benchmarks report the median with a distribution-free confidence interval rather than a mean
//! or a maximum: GPU timings have long right tails (preemption, clock changes) and a single best
//! run says more about luck than about the device.

mod summary;

pub use summary::{median_ci, Sample, Summary};
