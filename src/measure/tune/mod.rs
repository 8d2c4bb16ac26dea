//! Autotuning: a bounded search over kernel families and their `override` constants per adapter
//! and dtype, keeping the candidate with the best median throughput among those whose output
//! verified. Results are cached per adapter, driver and settings, so a later run reuses them
//! (`--retune` searches again). Pure apart from the cache file: the search runs through the
//! [`Backend`] trait, so it is tested with the fake backend.
//!
//! - [`space`]: the candidates worth trying, from the adapter's facts;
//! - [`search`](mod@search): running them and keeping the best verified one;
//! - [`cache`]: the file that keeps searches between runs.

pub mod cache;
pub mod search;
pub mod space;

pub use cache::{cache_key, default_cache_path, TuneCache, CACHE_VERSION};
pub use search::{
    chosen_config, config_for, record_for, search, search_bandwidth, trial_timing, tune_bandwidth,
    BandwidthTuned, Tuned,
};
pub use space::{bandwidth_candidates, candidates, quick_bandwidth_candidates};

use crate::error::Result;
use crate::measure::backend::{Backend, TimingConfig};
use crate::workload::{Dtype, Workload};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// How to tune.
#[derive(Debug, Clone, PartialEq)]
pub struct TuneOptions {
    /// Square side of the tuning workload.
    pub size: u64,
    /// Search even when the cache has an entry.
    pub retune: bool,
    /// Seed of the tuning inputs.
    pub seed: u64,
    /// The tuning cache to read and update; `None` tunes without one.
    pub cache: Option<PathBuf>,
}

/// What tuning did, for the binary to tell the user.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct TuneReport {
    /// One entry per dtype tuned.
    pub tuned: Vec<Tuned>,
    /// The bandwidth searches (tuned copy and triad), one per searched ceiling.
    pub bandwidth: Vec<BandwidthTuned>,
    /// The searches run, e.g. "f32 matmul: 9 candidates at 512^3".
    pub searched: Vec<String>,
    /// Why the cache could not be saved, if it could not.
    pub cache_warning: Option<String>,
}

/// Reads the cache at `opts.cache` (keeping other adapters' entries when retuning); a missing
/// file is an empty cache.
fn open_cache(opts: &TuneOptions) -> Result<TuneCache> {
    let empty = TuneCache {
        version: CACHE_VERSION,
        entries: BTreeMap::new(),
    };
    match &opts.cache {
        Some(p) if !opts.retune => TuneCache::load(p),
        Some(p) => Ok(TuneCache::load(p).unwrap_or(empty)),
        None => Ok(empty),
    }
}

/// Tunes f32, f16 and int8 matmul on `backend`: per dtype, the cached choice for this adapter, driver
/// and settings, or a search of the candidates (whose record then enters the cache).
pub fn tune_all(
    backend: &mut dyn Backend,
    timing: &TimingConfig,
    opts: &TuneOptions,
) -> Result<TuneReport> {
    let mut cache = open_cache(opts)?;
    let env = crate::measure::machine::driver_env(std::env::vars());
    let trial = trial_timing(timing);
    let mut report = TuneReport::default();
    for dtype in [Dtype::F32, Dtype::F16, Dtype::I8] {
        let candidates = candidates(backend.adapter(), dtype);
        let key = cache_key(
            backend.adapter(),
            &env,
            dtype,
            timing.bounds_checks,
            &candidates,
        );
        let cached = (!opts.retune)
            .then(|| cache.entries.get(&key).cloned())
            .flatten()
            .filter(|r| chosen_config(r, &candidates).is_some());
        let record = match cached {
            Some(mut r) => {
                r.from_cache = true;
                Some(r)
            }
            None => {
                report.searched.push(format!(
                    "{dtype} matmul: {} candidates at {}^3",
                    candidates.len(),
                    opts.size
                ));
                let w = Workload::matmul(dtype, opts.size, opts.size, opts.size);
                let r = search(backend, &candidates, w, &trial, opts.seed, key.clone());
                if let Some(r) = &r {
                    cache.entries.insert(key, r.clone());
                }
                r
            }
        };
        if let Some(record) = record {
            report.tuned.push(Tuned {
                dtype,
                record,
                candidates,
            });
        }
    }
    if let Some(p) = &opts.cache {
        report.cache_warning = cache.save(p).err().map(|e| e.to_string());
    }
    Ok(report)
}
