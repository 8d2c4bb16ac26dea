//! Statistics over timing samples, in pure code so they can be checked against known answers.
//!
//! Benchmarks report the median with a distribution-free confidence interval rather than a mean
//! or a maximum: GPU timings have long right tails (preemption, clock changes) and a single best
//! run says more about luck than about the device. Comparisons between machines use a seeded
//! bootstrap of the ratio of medians and a rank test, both robust to such tails.

mod bootstrap;
mod interval;
mod rank;
mod student;
mod summary;
mod welch;

pub use bootstrap::{
    geomean_of_ratios, geometric_mean, ratio_of_medians, BootstrapConfig, Runs, DEFAULT_RESAMPLES,
    DEFAULT_SEED,
};
pub use interval::{median_of_sorted, quantile, Interval, QuantileAt};
pub use rank::{mann_whitney_u, normal_sf, RankTest};
pub use student::student_t_sf;
pub use summary::{median_ci, median_ci_ranks, Sample, Summary, MEDIAN_LEVEL};
pub use welch::{welch_t_test, WelchTest};
