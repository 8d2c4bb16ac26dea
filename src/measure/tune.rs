//! Autotuning: a bounded search over kernel families and their `override` constants per adapter
//! and dtype, keeping the candidate with the best median throughput among those whose output
//! verified. Results are cached per adapter, driver and settings, so a later run reuses them
//! (`--retune` searches again). Pure apart from the cache file: the search runs through the
//! [`Backend`] trait, so it is tested with the fake backend.

use crate::error::{Error, Result};
use crate::kernels::{Kernel, KernelConfig};
use crate::measure::backend::{Backend, CaseSpec, TimingConfig};
use crate::results::{AdapterRecord, CaseStatus, MatrixScalar, TuningRecord, TuningTrial};
use crate::workload::{Dtype, Workload};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The candidates searched for a dtype on `adapter`: the families that suit the kind of device
/// (CPU drivers: register blocks fed from textures or buffers, small workgroup tiles; GPUs:
/// workgroup-tiled blocks with register tiles, cooperative matrices), each with several shapes.
/// Shapes the adapter's limits cannot hold stay in the list: the search records them as
/// skipped or unsupported at no cost, so the whole search space is visible in the result file.
pub fn candidates(adapter: &AdapterRecord, dtype: Dtype) -> Vec<KernelConfig> {
    let cpu = adapter.device_type.is_cpu();
    match dtype {
        Dtype::F32 if cpu => cpu_f32_candidates(),
        Dtype::F32 => gpu_f32_candidates(),
        Dtype::F16 => {
            let mut c = f16_candidates(cpu);
            c.extend(coop_candidates(adapter));
            c
        }
        Dtype::I8 => int8_candidates(cpu),
    }
}

fn blocked(kernel: Kernel, wg: u32, rows: u32) -> KernelConfig {
    KernelConfig::new(kernel, &[("WG_X", wg), ("WG_Y", wg), ("ROWS", rows)])
}

/// A workgroup-tiled configuration: block BM×BN, K step BK, register tile TM×TN.
fn tiled(kernel: Kernel, [bm, bn, bk, tm, tn]: [u32; 5]) -> KernelConfig {
    let shape = [("BM", bm), ("BN", bn), ("BK", bk), ("TM", tm), ("TN", tn)];
    KernelConfig::new(kernel, &shape)
}

/// Tile shapes for GPUs: 64×64 to 128×128 blocks, 4×4 to 8×8 register tiles, BK 8 to 32.
const GPU_TILES: [[u32; 5]; 7] = [
    [64, 64, 16, 4, 4],
    [64, 64, 32, 4, 4],
    [64, 64, 16, 8, 8],
    [128, 64, 16, 8, 4],
    [128, 128, 8, 8, 8],
    [128, 128, 16, 8, 8],
    [64, 64, 32, 8, 4],
];

/// Tile shapes for CPU drivers: 64 invocations (eight 8-wide SIMD batches), large register
/// tiles, few barriers per K.
const CPU_TILES: [[u32; 5]; 3] = [[32, 32, 16, 4, 4], [64, 32, 16, 8, 4], [64, 64, 16, 8, 8]];

fn cpu_f32_candidates() -> Vec<KernelConfig> {
    let mut c = vec![
        blocked(Kernel::MatmulBlocked, 8, 4),
        blocked(Kernel::MatmulBlocked, 8, 8),
    ];
    for (ra, cb) in [(1, 4), (2, 2), (2, 4), (4, 2), (4, 4), (8, 4)] {
        c.push(KernelConfig::new(
            Kernel::MatmulTex,
            &[("WG_X", 8), ("WG_Y", 8), ("RA", ra), ("CB", cb)],
        ));
    }
    c.push(KernelConfig::new(
        Kernel::MatmulTex,
        &[("WG_X", 16), ("WG_Y", 16), ("RA", 2), ("CB", 2)],
    ));
    c.extend(CPU_TILES.map(|t| tiled(Kernel::MatmulTiled, t)));
    c
}

fn gpu_f32_candidates() -> Vec<KernelConfig> {
    let mut c: Vec<KernelConfig> = GPU_TILES.map(|t| tiled(Kernel::MatmulTiled, t)).to_vec();
    c.push(blocked(Kernel::MatmulBlocked, 16, 4));
    c.push(KernelConfig::new(
        Kernel::MatmulTex,
        &[("WG_X", 16), ("WG_Y", 16), ("RA", 1), ("CB", 2)],
    ));
    c
}

fn f16_candidates(cpu: bool) -> Vec<KernelConfig> {
    let tiles: &[[u32; 5]] = if cpu { &CPU_TILES } else { &GPU_TILES };
    let mut c = vec![
        blocked(Kernel::MatmulF16, 8, 4),
        blocked(Kernel::MatmulF16, 8, 8),
    ];
    c.extend(tiles.iter().map(|t| tiled(Kernel::MatmulTiledF16, *t)));
    c
}

/// The tile sides the adapter reports for f16 × f16 → f32 cooperative matrices (square 8 or
/// 16, the shapes WGSL can name).
fn coop_tiles(adapter: &AdapterRecord) -> Vec<u32> {
    let mut tiles: Vec<u32> = adapter
        .cooperative_matrix
        .iter()
        .filter(|shape| shape.input == MatrixScalar::F16 && shape.accumulator == MatrixScalar::F32)
        .filter_map(|shape| shape.square_side())
        .filter(|side| matches!(side, 8 | 16))
        .collect();
    tiles.sort_unstable();
    tiles.dedup();
    tiles
}

/// Cooperative-matrix configurations: for every tile side the adapter reports, 2×2 to 4×2
/// subgroups per workgroup with 2×2 to 4×2 accumulator tiles each, K staged two tiles deep,
/// generated for the adapter's subgroup size. An adapter without cooperative matrices gets
/// the 16×16 layout, recorded as unsupported, so every result file shows the family.
fn coop_candidates(adapter: &AdapterRecord) -> Vec<KernelConfig> {
    let mut tiles = coop_tiles(adapter);
    if tiles.is_empty() {
        tiles.push(16);
    }
    let sg = match adapter.limits.max_subgroup_size {
        0 => 32,
        s => s,
    };
    let mut c = Vec::new();
    for tile in tiles {
        for (sgm, sgn, tm, tn) in [(2, 2, 2, 2), (2, 2, 4, 2), (2, 4, 2, 2), (4, 2, 2, 2)] {
            let shape = [
                ("TILE", tile),
                ("SG", sg),
                ("SGM", sgm),
                ("SGN", sgn),
                ("TM", tm),
                ("TN", tn),
                ("BK", 2 * tile),
            ];
            c.push(KernelConfig::new(Kernel::MatmulCoopF16, &shape));
        }
    }
    c
}

fn int8_candidates(cpu: bool) -> Vec<KernelConfig> {
    let wg = if cpu { 8 } else { 16 };
    vec![
        blocked(Kernel::MatmulInt8, wg, 4),
        blocked(Kernel::MatmulInt8, wg, 8),
        blocked(Kernel::MatmulInt8, 8, 2),
    ]
}

/// The bandwidth kernels searched for `kernel` (copy or triad): element widths 4, 2 and 1 in
/// workgroups of 256, and width 4 in workgroups of 64, each with 1, 4 or 16 elements per
/// invocation (fewer, fatter workgroups suit CPU drivers; one element each suits GPUs). The best verified one is the device's bandwidth figure; its case records which
/// won (see [`search_bandwidth`]).
pub fn bandwidth_candidates(kernel: Kernel) -> Vec<KernelConfig> {
    let mut c = Vec::new();
    for (wg, vec) in [(256, 4), (256, 2), (256, 1), (64, 4)] {
        for per in [1, 4, 16] {
            c.push(KernelConfig::new(
                kernel,
                &[("WG_X", wg), ("VEC", vec), ("PER", per)],
            ));
        }
    }
    c
}

/// Searches the bandwidth variants of one ceiling case (copy or triad) on the case's own
/// workload, so the figure is measured at the device-sized buffers. Returns the winner, marked
/// tuned (its case is `copy_tuned/…`), with the whole search. `None` when none verified.
pub fn search_bandwidth(
    backend: &mut dyn Backend,
    workload: Workload,
    kernel: Kernel,
    timing: &TimingConfig,
    seed: u64,
) -> Option<(KernelConfig, TuningRecord)> {
    search_bandwidth_among(
        backend,
        workload,
        kernel,
        &bandwidth_candidates(kernel),
        timing,
        seed,
    )
}

/// The bandwidth variants the quick preset searches: width 4 in workgroups of 256, with 1, 4
/// or 16 elements per invocation (each trial moves device-sized buffers, so the full search
/// would take most of a smoke test's budget on a CPU driver).
pub fn quick_bandwidth_candidates(kernel: Kernel) -> Vec<KernelConfig> {
    bandwidth_candidates(kernel)
        .into_iter()
        .filter(|c| c.get("WG_X") == 256 && c.get("VEC") == 4)
        .collect()
}

/// [`search_bandwidth`] over the given variants of `kernel`.
fn search_bandwidth_among(
    backend: &mut dyn Backend,
    workload: Workload,
    kernel: Kernel,
    candidates: &[KernelConfig],
    timing: &TimingConfig,
    seed: u64,
) -> Option<(KernelConfig, TuningRecord)> {
    let key = format!("bandwidth|{}|{}", kernel.id(), backend.adapter().name);
    let record = search(
        backend,
        candidates,
        workload,
        &trial_timing(timing),
        seed,
        key,
    )?;
    let chosen = chosen_config(&record, candidates)?.into_tuned();
    Some((chosen, record))
}

/// A bandwidth ceiling whose kernel a search chose: the plan's headline copy or triad case.
#[derive(Debug, Clone, PartialEq)]
pub struct BandwidthTuned {
    /// The ceiling's workload, sized for the adapter.
    pub workload: Workload,
    /// The best verified variant (marked tuned).
    pub kernel: KernelConfig,
    /// The whole search, stored on the case.
    pub record: TuningRecord,
}

/// Runs the bandwidth search of every copy or triad kernel among `ceilings`, at the adapter's
/// ceiling size; a kernel whose search found nothing verified keeps its default case. `quick`
/// searches [`quick_bandwidth_candidates`] only.
pub fn tune_bandwidth(
    backend: &mut dyn Backend,
    ceilings: &[Kernel],
    timing: &TimingConfig,
    seed: u64,
    quick: bool,
) -> Vec<BandwidthTuned> {
    let cases = crate::kernels::ceiling_cases(backend.adapter());
    let mut out = Vec::new();
    for (workload, kernel) in cases {
        let searchable = matches!(kernel.kernel, Kernel::Copy | Kernel::Triad);
        if !searchable || !ceilings.contains(&kernel.kernel) {
            continue;
        }
        let candidates = if quick {
            quick_bandwidth_candidates(kernel.kernel)
        } else {
            bandwidth_candidates(kernel.kernel)
        };
        if let Some((kernel, record)) =
            search_bandwidth_among(backend, workload, kernel.kernel, &candidates, timing, seed)
        {
            out.push(BandwidthTuned {
                workload,
                kernel,
                record,
            });
        }
    }
    out
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
            kernel: kernel.id().to_string(),
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
        searched_at: crate::measure::machine::now_rfc3339(),
        trials,
    })
}

/// The configuration a record chose, looked up among `candidates`: a cache entry can only
/// select shipped code, never inject its own.
pub fn chosen_config(record: &TuningRecord, candidates: &[KernelConfig]) -> Option<KernelConfig> {
    candidates
        .iter()
        .find(|c| c.id() == record.chosen_kernel && c.overrides == record.chosen_overrides)
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

/// The outcome of tuning one dtype.
#[derive(Debug, Clone, PartialEq)]
pub struct Tuned {
    /// The dtype tuned.
    pub dtype: Dtype,
    /// The search (searched now or read from the cache).
    pub record: TuningRecord,
    /// The candidates the search chose among.
    pub candidates: Vec<KernelConfig>,
}

impl Tuned {
    /// The winner's median throughput at the tuning size: the plan's estimate of what the tuned
    /// kernel reaches.
    pub fn best_rate(&self) -> Option<f64> {
        self.record
            .trials
            .iter()
            .filter(|t| t.status == CaseStatus::Passed)
            .filter_map(|t| t.median)
            .max_by(f64::total_cmp)
    }

    /// The median of the trial of `kernel_id` (any configuration's best), when it passed.
    pub fn rate_of(&self, kernel_id: &str) -> Option<f64> {
        self.record
            .trials
            .iter()
            .filter(|t| t.status == CaseStatus::Passed && t.kernel == kernel_id)
            .filter_map(|t| t.median)
            .max_by(f64::total_cmp)
    }
}

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

/// The search record of `case`'s dtype, for a tuned case: what the file stores beside it.
pub fn record_for<'a>(tuned: &'a [Tuned], spec: &CaseSpec) -> Option<&'a TuningRecord> {
    spec.kernel
        .tuned
        .then(|| tuned.iter().find(|t| t.dtype == spec.workload.dtype))
        .flatten()
        .map(|t| &t.record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::fake::{fake_adapter, FakeBackend};
    use crate::results::DeviceType;

    #[test]
    fn search_picks_a_passing_candidate_and_records_every_trial() {
        let mut backend = FakeBackend::new("fake", 100.0, 0.3, 1);
        let cands = candidates(&fake_adapter("gpu"), Dtype::F32);
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
            .find(|t| t.kernel == chosen.id() && t.overrides == chosen.overrides)
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
            &candidates(&fake_adapter("gpu"), Dtype::F32),
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
    fn bandwidth_search_keeps_the_best_verified_variant_and_the_whole_search() {
        let mut backend = FakeBackend::new("fake", 100.0, 0.3, 1);
        let (w, k) = crate::kernels::ceiling_cases(&fake_adapter("fake"))
            .into_iter()
            .find(|(w, _)| w.op == crate::workload::Op::Copy)
            .unwrap();
        let timing = TimingConfig::default();
        let (best, record) = search_bandwidth(&mut backend, w, k.kernel, &timing, 3).unwrap();
        assert!(best.tuned);
        assert_eq!(record.trials.len(), bandwidth_candidates(k.kernel).len());
        let spec = CaseSpec {
            workload: w,
            kernel: best.clone(),
            seed: 0,
        };
        assert!(
            spec.id().starts_with("copy_tuned/copy/f32/"),
            "{}",
            spec.id()
        );
        let fastest = record
            .trials
            .iter()
            .filter_map(|t| t.median)
            .fold(f64::MIN, f64::max);
        let won = record
            .trials
            .iter()
            .find(|t| t.overrides == best.overrides)
            .unwrap();
        assert_eq!(won.median, Some(fastest));
    }

    #[test]
    fn the_search_space_follows_the_adapter() {
        let mut cpu = fake_adapter("cpu");
        cpu.device_type = DeviceType::Cpu;
        let mut gpu = fake_adapter("gpu");
        gpu.device_type = DeviceType::DiscreteGpu;
        let families = |a: &AdapterRecord| -> Vec<Kernel> {
            candidates(a, Dtype::F32).iter().map(|c| c.kernel).collect()
        };
        assert!(families(&cpu).contains(&Kernel::MatmulTex));
        let on_gpu = families(&gpu);
        assert!(on_gpu.iter().filter(|k| **k == Kernel::MatmulTiled).count() >= 6);
        let big = candidates(&gpu, Dtype::F32)
            .into_iter()
            .find(|c| c.get("BM") == 128 && c.get("BN") == 128)
            .unwrap();
        assert!(big.unsupported_reason(&gpu).is_none());
        gpu.limits.max_compute_workgroup_storage_size = 8192;
        assert!(big
            .unsupported_reason(&gpu)
            .unwrap()
            .contains("workgroup memory"));
        assert!(candidates(&gpu, Dtype::I8)
            .iter()
            .all(|c| c.kernel == Kernel::MatmulInt8));
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

    #[test]
    fn a_cached_choice_must_name_a_shipped_candidate() {
        let cands = candidates(&fake_adapter("gpu"), Dtype::F32);
        let mut rec = TuningRecord {
            key: "k".into(),
            workload: Workload::matmul(Dtype::F32, 8, 8, 8),
            chosen_kernel: cands[4].id().into(),
            chosen_overrides: cands[4].overrides.clone(),
            from_cache: true,
            searched_at: String::new(),
            trials: Vec::new(),
        };
        assert!(chosen_config(&rec, &cands).is_some());
        rec.chosen_overrides.insert("BM".into(), 99.0);
        assert!(chosen_config(&rec, &cands).is_none());
    }
}
