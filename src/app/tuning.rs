//! The autotuning step of `fleetbench run`: per dtype, reuse the cached choice for this adapter
//! and driver or search the candidates, then hand the plan a configuration per shape.

use anyhow::Context;
use fleetbench::bench::{Backend, TimingConfig};
use fleetbench::kernels::KernelConfig;
use fleetbench::machine;
use fleetbench::results::{CaseStatus, ResultFile, TuningRecord};
use fleetbench::tune::{self, TuneCache};
use fleetbench::workload::{Dtype, Workload};

/// The outcome of tuning one dtype.
pub struct Tuned {
    /// The dtype tuned.
    pub dtype: Dtype,
    /// The search (searched now or read from the cache).
    pub record: TuningRecord,
    /// The candidates the search chose among.
    pub candidates: Vec<KernelConfig>,
}

/// How to tune.
pub struct TuneOptions {
    /// Square side of the tuning workload.
    pub size: u64,
    /// Search even when the cache has an entry.
    pub retune: bool,
    /// Seed of the tuning inputs.
    pub seed: u64,
    /// Print nothing.
    pub quiet: bool,
}

/// Tunes f32 and f16 matmul on `backend`, reading and updating the tuning cache.
pub fn tune_all(
    backend: &mut dyn Backend,
    timing: &TimingConfig,
    opts: &TuneOptions,
) -> anyhow::Result<Vec<Tuned>> {
    let path = tune::default_cache_path();
    let mut cache = match (&path, opts.retune) {
        (Some(p), false) => {
            TuneCache::load(p).context("reading the tuning cache (--retune rebuilds it)")?
        }
        _ => TuneCache {
            version: tune::CACHE_VERSION,
            entries: Default::default(),
        },
    };
    if let Some(p) = path.as_ref().filter(|_| opts.retune) {
        // Keep other adapters' entries when retuning this one.
        if let Ok(old) = TuneCache::load(p) {
            cache.entries = old.entries;
        }
    }
    let env = machine::driver_env(std::env::vars());
    let trial_timing = tune::trial_timing(timing);
    let mut tuned = Vec::new();
    for dtype in [Dtype::F32, Dtype::F16, Dtype::I8] {
        let candidates = tune::candidates(backend.adapter(), dtype);
        let key = tune::cache_key(
            backend.adapter(),
            &env,
            dtype,
            timing.bounds_checks,
            &candidates,
        );
        let cached = (!opts.retune)
            .then(|| cache.entries.get(&key).cloned())
            .flatten()
            .filter(|r| tune::chosen_config(r, &candidates).is_some());
        let record = match cached {
            Some(mut r) => {
                r.from_cache = true;
                Some(r)
            }
            None => {
                if !opts.quiet {
                    eprintln!(
                        "tuning {dtype} matmul: {} candidates at {}^3",
                        candidates.len(),
                        opts.size
                    );
                }
                let w = Workload::matmul(dtype, opts.size, opts.size, opts.size);
                let r = tune::search(
                    backend,
                    &candidates,
                    w,
                    &trial_timing,
                    opts.seed,
                    key.clone(),
                );
                if let Some(r) = &r {
                    cache.entries.insert(key, r.clone());
                }
                r
            }
        };
        if let Some(record) = record {
            tuned.push(Tuned {
                dtype,
                record,
                candidates,
            });
        }
    }
    if let Some(p) = &path {
        if let Err(e) = cache.save(p) {
            eprintln!("warning: tuning cache not saved: {e}");
        }
    }
    Ok(tuned)
}

/// The tuned configuration for `w`: the fastest verified trial whose kernel can run the shape
/// (the winner itself unless the shape rules it out).
pub fn config_for(t: &Tuned, w: &Workload) -> Option<KernelConfig> {
    let mut passed: Vec<_> = t
        .record
        .trials
        .iter()
        .filter(|tr| tr.status == CaseStatus::Passed)
        .filter_map(|tr| tr.median.map(|m| (m, tr)))
        .collect();
    passed.sort_by(|a, b| b.0.total_cmp(&a.0));
    passed.iter().find_map(|(_, tr)| {
        t.candidates
            .iter()
            .find(|c| c.id() == tr.kernel && c.overrides == tr.overrides)
            .filter(|c| c.shape_problem(w).is_none())
            .map(|c| c.clone().into_tuned())
    })
}

/// Puts each dtype's search record on the tuned cases of that dtype.
pub fn attach_records(file: &mut ResultFile, tuned: &[Tuned]) {
    for case in &mut file.cases {
        if !case.id.starts_with("matmul_tuned/") {
            continue;
        }
        if let Some(t) = tuned.iter().find(|t| t.dtype == case.workload.dtype) {
            case.tuning = Some(t.record.clone());
        }
    }
}
