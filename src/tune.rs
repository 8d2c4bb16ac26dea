//! Autotuning: a bounded search over kernel families and their `override` constants per adapter
//! and dtype, keeping the candidate with the best median throughput among those whose output
//! verified. Results are cached per adapter, driver and settings, so a later run reuses them
//! (`--retune` searches again). Pure apart from the cache file: the search runs through the
//! [`Backend`] trait, so it is tested with the fake backend.

use crate::bench::{Backend, CaseSpec, TimingConfig};
use crate::error::{Error, Result};
use crate::kernels::{KernelConfig, MATMUL_BLOCKED, MATMUL_COOP_F16, MATMUL_F16, MATMUL_TEX};
use crate::results::{AdapterRecord, CaseStatus, TuningRecord, TuningTrial};
use crate::workload::{Dtype, Workload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The candidates searched for a dtype: every family that computes it, each with a few tile
/// shapes. Texture kernels with large register blocks win on CPU drivers; buffer kernels and
/// cooperative matrices are there for GPUs, where the ranking differs.
pub fn candidates(dtype: Dtype) -> Vec<KernelConfig> {
    match dtype {
        Dtype::F32 => {
            let mut c = vec![
                KernelConfig::new(&MATMUL_BLOCKED, &[("WG_X", 8), ("WG_Y", 8), ("ROWS", 4)]),
                KernelConfig::new(&MATMUL_BLOCKED, &[("WG_X", 8), ("WG_Y", 8), ("ROWS", 8)]),
            ];
            for (ra, cb) in [(1, 4), (2, 2), (2, 4), (4, 2), (4, 4), (8, 4)] {
                c.push(KernelConfig::new(
                    &MATMUL_TEX,
                    &[("WG_X", 8), ("WG_Y", 8), ("RA", ra), ("CB", cb)],
                ));
            }
            c.push(KernelConfig::new(
                &MATMUL_TEX,
                &[("WG_X", 16), ("WG_Y", 16), ("RA", 2), ("CB", 2)],
            ));
            c
        }
        Dtype::F16 => vec![
            KernelConfig::new(&MATMUL_F16, &[("WG_X", 8), ("WG_Y", 8), ("ROWS", 4)]),
            KernelConfig::new(&MATMUL_F16, &[("WG_X", 8), ("WG_Y", 8), ("ROWS", 8)]),
            KernelConfig::new(&MATMUL_COOP_F16, &[("WG_X", 32)]),
        ],
    }
}

/// The key a tuning result is valid under: adapter identity, driver version, dtype, bounds
/// checks, driver-tuning environment variables, and a hash of every candidate's code (so a
/// changed kernel invalidates old entries).
pub fn cache_key(
    adapter: &AdapterRecord,
    env: &BTreeMap<String, String>,
    dtype: Dtype,
    bounds_checks: bool,
    candidates: &[KernelConfig],
) -> String {
    let mut h = Sha256::new();
    for c in candidates {
        h.update(c.source_hash().as_bytes());
    }
    for (k, v) in env {
        h.update(format!("{k}={v};").as_bytes());
    }
    let code: String = h
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!(
        "{}|{}|{:04x}:{:04x}|{} {}|{dtype}|checks={bounds_checks}|{code}",
        adapter.name,
        adapter.backend,
        adapter.vendor_id,
        adapter.device_id,
        adapter.driver,
        adapter.driver_info
    )
}

/// A short timing configuration for tuning trials: enough samples for a median, no more.
pub fn trial_timing(base: &TimingConfig) -> TimingConfig {
    TimingConfig {
        warmup: Duration::from_millis(50),
        samples: 3,
        target_sample: Duration::from_millis(10),
        ..base.clone()
    }
}

/// Runs every candidate on `workload` and records the search. `None` when no candidate passed.
pub fn search(
    backend: &mut dyn Backend,
    candidates: &[KernelConfig],
    workload: Workload,
    timing: &TimingConfig,
    seed: u64,
    key: String,
) -> Option<TuningRecord> {
    let mut trials = Vec::with_capacity(candidates.len());
    for kernel in candidates {
        let spec = CaseSpec {
            workload,
            kernel: kernel.clone(),
            seed,
        };
        let case = backend.run_case(&spec, timing);
        trials.push(TuningTrial {
            kernel: kernel.spec.id.to_string(),
            overrides: kernel.overrides.clone(),
            status: case.status,
            median: case.passed_throughput().map(|s| s.median.value),
            reason: case.reason.clone(),
        });
    }
    let best = trials
        .iter()
        .filter(|t| t.status == CaseStatus::Passed)
        .filter_map(|t| t.median.map(|m| (m, t)))
        .max_by(|a, b| a.0.total_cmp(&b.0))?
        .1;
    Some(TuningRecord {
        key,
        workload,
        chosen_kernel: best.kernel.clone(),
        chosen_overrides: best.overrides.clone(),
        from_cache: false,
        searched_at: crate::machine::now_rfc3339(),
        trials,
    })
}

/// The configuration a record chose, looked up among `candidates`: a cache entry can only
/// select shipped code, never inject its own.
pub fn chosen_config(record: &TuningRecord, candidates: &[KernelConfig]) -> Option<KernelConfig> {
    candidates
        .iter()
        .find(|c| c.spec.id == record.chosen_kernel && c.overrides == record.chosen_overrides)
        .cloned()
}

/// The on-disk tuning cache: one record per key.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TuneCache {
    /// Format version of the cache file.
    pub version: u32,
    /// Records by [`cache_key`].
    pub entries: BTreeMap<String, TuningRecord>,
}

/// Version of the cache format this build writes and reads.
pub const CACHE_VERSION: u32 = 1;

impl TuneCache {
    /// Reads the cache; a missing file is an empty cache, a damaged one an error naming it.
    pub fn load(path: &Path) -> Result<TuneCache> {
        if matches!(std::fs::symlink_metadata(path), Err(e) if e.kind() == std::io::ErrorKind::NotFound)
        {
            return Ok(TuneCache {
                version: CACHE_VERSION,
                entries: BTreeMap::new(),
            });
        }
        let bytes = crate::fsio::read_bounded(path, crate::fsio::TUNING_CACHE)?;
        let cache: TuneCache = serde_json::from_slice(&bytes)
            .map_err(|e| Error::parse(path, format!("not a tuning cache: {e}")))?;
        if cache.version != CACHE_VERSION {
            return Err(Error::invalid(
                path,
                format!(
                    "tuning cache version {} (this build reads {CACHE_VERSION}); delete it or use --retune",
                    cache.version
                ),
            ));
        }
        Ok(cache)
    }

    /// Writes the cache atomically, creating its directory.
    pub fn save(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let bytes = serde_json::to_vec_pretty(self)
            .map_err(|e| Error::invalid(path, format!("cannot serialise: {e}")))?;
        crate::fsio::write_file(path, &bytes, crate::fsio::Overwrite::Replace)
    }
}

/// Where the cache lives: `$FLEETBENCH_TUNE_CACHE`, else `$XDG_CACHE_HOME/fleetbench/tune.json`,
/// else `~/.cache/fleetbench/tune.json`; `None` when none of those is set.
pub fn default_cache_path() -> Option<PathBuf> {
    let var = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(p) = var("FLEETBENCH_TUNE_CACHE") {
        return Some(PathBuf::from(p));
    }
    let base = var("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| var("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("fleetbench").join("tune.json"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake::{fake_adapter, FakeBackend};

    #[test]
    fn search_picks_a_passing_candidate_and_records_every_trial() {
        let mut backend = FakeBackend::new("fake", 100.0, 0.3, 1);
        let cands = candidates(Dtype::F32);
        let w = Workload::matmul(Dtype::F32, 64, 64, 64);
        let timing = trial_timing(&TimingConfig::default());
        let rec = search(&mut backend, &cands, w, &timing, 3, "k".into()).unwrap();
        assert_eq!(rec.trials.len(), cands.len());
        let best = rec
            .trials
            .iter()
            .filter_map(|t| t.median)
            .fold(f64::MIN, f64::max);
        let chosen = chosen_config(&rec, &cands).unwrap();
        let chosen_trial = rec
            .trials
            .iter()
            .find(|t| t.kernel == chosen.spec.id && t.overrides == chosen.overrides)
            .unwrap();
        assert_eq!(chosen_trial.median, Some(best));
    }

    #[test]
    fn search_skips_candidates_that_cannot_run_the_shape() {
        let mut backend = FakeBackend::new("fake", 100.0, 0.0, 1);
        // 4x4x4: texture kernels with 8+ rows per invocation cannot run it.
        let w = Workload::matmul(Dtype::F32, 4, 4, 4);
        let timing = trial_timing(&TimingConfig::default());
        let rec = search(
            &mut backend,
            &candidates(Dtype::F32),
            w,
            &timing,
            3,
            "k".into(),
        )
        .unwrap();
        assert!(rec.trials.iter().any(|t| t.status == CaseStatus::Skipped));
        let winner = rec
            .trials
            .iter()
            .find(|t| t.kernel == rec.chosen_kernel && t.overrides == rec.chosen_overrides)
            .unwrap();
        assert_eq!(winner.status, CaseStatus::Passed);
    }

    #[test]
    fn cache_round_trips_and_rejects_damage() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub").join("tune.json");
        let mut cache = TuneCache::load(&path).unwrap();
        assert!(cache.entries.is_empty());
        let mut backend = FakeBackend::new("fake", 100.0, 0.0, 1);
        let w = Workload::matmul(Dtype::F16, 64, 64, 64);
        let timing = trial_timing(&TimingConfig::default());
        let rec = search(
            &mut backend,
            &candidates(Dtype::F16),
            w,
            &timing,
            3,
            "k".into(),
        )
        .unwrap();
        cache.entries.insert("k".into(), rec.clone());
        cache.save(&path).unwrap();
        assert_eq!(TuneCache::load(&path).unwrap().entries["k"], rec);
        std::fs::write(&path, b"{ not json").unwrap();
        let err = TuneCache::load(&path).unwrap_err().to_string();
        assert!(err.contains("tune.json"), "{err}");
    }

    #[cfg(unix)]
    #[test]
    fn a_device_as_the_cache_is_refused_not_read_or_replaced() {
        for dev in ["/dev/zero", "/dev/full"] {
            let path = Path::new(dev);
            let e = TuneCache::load(path).unwrap_err().to_string();
            assert!(e.contains("is a character device"), "{e}");
            let e = TuneCache::default().save(path).unwrap_err().to_string();
            assert!(e.contains("not a regular file"), "{e}");
        }
    }

    #[test]
    fn cache_key_changes_with_driver_settings_and_code() {
        let a = fake_adapter("gpu");
        let env = BTreeMap::new();
        let f32c = candidates(Dtype::F32);
        let base = cache_key(&a, &env, Dtype::F32, true, &f32c);
        assert_ne!(base, cache_key(&a, &env, Dtype::F32, false, &f32c));
        assert_ne!(base, cache_key(&a, &env, Dtype::F16, true, &f32c));
        assert_ne!(base, cache_key(&a, &env, Dtype::F32, true, &f32c[1..]));
        let mut env2 = BTreeMap::new();
        env2.insert("LP_NATIVE_VECTOR_WIDTH".to_string(), "512".to_string());
        assert_ne!(base, cache_key(&a, &env2, Dtype::F32, true, &f32c));
        let mut b = a.clone();
        b.driver_info = "other".into();
        assert_ne!(base, cache_key(&b, &env, Dtype::F32, true, &f32c));
    }

    #[test]
    fn a_cached_choice_must_name_a_shipped_candidate() {
        let cands = candidates(Dtype::F32);
        let mut rec = TuningRecord {
            key: "k".into(),
            workload: Workload::matmul(Dtype::F32, 8, 8, 8),
            chosen_kernel: "matmul_tex".into(),
            chosen_overrides: cands[4].overrides.clone(),
            from_cache: true,
            searched_at: String::new(),
            trials: Vec::new(),
        };
        assert!(chosen_config(&rec, &cands).is_some());
        rec.chosen_overrides.insert("RA".into(), 99.0);
        assert!(chosen_config(&rec, &cands).is_none());
    }
}
