//! The tuning cache file: searches are slow, so their records are kept per adapter, driver and
//! settings and reused by later runs (`--retune` searches again). The only part of tuning that
//! touches the file system.

use crate::error::{Error, Result};
use crate::kernels::KernelConfig;
use crate::results::{AdapterRecord, TuningRecord};
use crate::workload::Dtype;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

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
    use crate::measure::backend::TimingConfig;
    use crate::measure::fake::{fake_adapter, FakeBackend};
    use crate::measure::tune::search::{search, trial_timing};
    use crate::measure::tune::space::candidates;
    use crate::workload::Workload;

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
            &candidates(&fake_adapter("gpu"), Dtype::F16),
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
        let f32c = candidates(&fake_adapter("gpu"), Dtype::F32);
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
}
