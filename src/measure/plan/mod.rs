//! The run plan: which cases a `run` measures, with which inputs, how each is sampled and what
//! it is expected to cost — made up front, before the first case, so the run can keep a time
//! budget and say so. The binary only parses flags into a [`Request`]; everything else is here
//! and tested without a GPU.
//!
//! - **Kernels** ([`select_kernels`]): the matmul configurations, ceilings, autotuning and
//!   vendor references that `--kernels` names. Ceilings are sized from the adapter
//!   (`kernels::ceiling_cases`); copy and triad run as their bandwidth search chose
//!   (`tune::tune_bandwidth`, before the plan, so its time counts as tuning); int8 runs tuned
//!   at the f32 shapes; on CPU adapters the host SGEMM references of the f32 shapes are planned
//!   and charged to the budget, and run as the suite's last step.
//! - **Sizes**: `--sizes` as given; otherwise the preset's, where the default preset scales the
//!   matmul side to the device — the largest that fits the adapter's limits, `--max-memory` and
//!   the budget ([`device_side`]) — with the baselines at one moderate size.
//! - **Seeds** ([`case_seed`]): from the run seed and the case id, so a case's inputs do not
//!   depend on its position in the plan.
//! - **Budget** ([`plan`]): estimated time per case from the measured rates (tuning trials, the
//!   host's reference speed); headline cases share what is left after setup and baselines,
//!   and when even their minimum does not fit, baselines and then shapes are cut, each cut
//!   listed. A budget too small for the smallest plan is an error naming the budget that works.
//! - **Header** ([`header`]): the result file as written before the first case.

use crate::error::{Error, Result};
use crate::kernels::{default_matmul_configs, Family, Kernel, KernelConfig};
use crate::measure::backend::{CaseSpec, TimingConfig};
use crate::measure::tune::Tuned;
use crate::measure::verify::{self, MatmulShape};
use crate::results::{LimitsRecord, Machine, ResultFile, RunInfo};
use crate::workload::{Dtype, Op, Workload};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Largest matrix side a plan uses or `--sizes` accepts.
pub const MAX_SIDE: u64 = 1 << 17;
/// Largest side the default preset scales to.
pub const MAX_DEVICE_SIDE: u64 = 16384;
/// Default time budget of a run, seconds.
pub const DEFAULT_BUDGET_S: f64 = 120.0;
/// Default time budget of `--quick`, seconds.
pub const QUICK_BUDGET_S: f64 = 30.0;
/// Warm-up seconds per case (`--warmup`'s default): long enough for clocks to ramp.
pub const DEFAULT_WARMUP_S: f64 = 0.5;
/// Warm-up seconds per case with `--quick`.
pub const QUICK_WARMUP_S: f64 = 0.2;
/// Seconds a run waits for the GPU before a case is declared hung (`--gpu-timeout`'s default).
pub const DEFAULT_GPU_TIMEOUT_S: f64 = 120.0;
/// Default target: the median's 95% interval within ±2%.
pub const DEFAULT_TARGET_HALF_WIDTH: f64 = 0.02;
/// Samples an adaptive case takes before its interval is looked at (design rule: ≥ 10).
pub const MIN_ADAPTIVE_SAMPLES: usize = 10;
/// Samples the default side leaves room for within its share of the budget.
const SIZING_SAMPLES: usize = 40;
/// Samples of a baseline case.
pub const BASELINE_SAMPLES: usize = 10;
/// Fraction of the budget the plan spends; the rest covers what estimates miss.
const BUDGET_USE: f64 = 0.85;
/// Side of the baselines (naive and blocked matmul) in the default preset.
const BASELINE_SIDE: u64 = 512;

/// Square sides of the quick suite, plus one non-square shape.
pub const QUICK_SIZES: &[(u64, u64, u64)] = &[
    (128, 128, 128),
    (256, 256, 256),
    (512, 512, 512),
    (320, 192, 256),
];
/// The shape sweep: squares up to the largest binding any adapter allows, and the projections of
/// a 7B-class transformer layer (hidden 4096, MLP 11008).
pub const SWEEP_SIZES: &[(u64, u64, u64)] = &[
    (256, 256, 256),
    (512, 512, 512),
    (1024, 1024, 1024),
    (2048, 2048, 2048),
    (4096, 4096, 4096),
    (8192, 8192, 8192),
    (16384, 16384, 16384),
    (4096, 11008, 4096),
    (4096, 4096, 11008),
];

/// Which suite a run measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// The smoke test: small fixed sizes.
    Quick,
    /// Sizes scaled to the device, baselines at one moderate size.
    Default,
    /// The shape sweep, tuned kernels only.
    Sweep,
}

/// The kernels a run measures.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelChoice {
    /// Matmul configurations measured as they are (not tuned).
    pub matmul: Vec<KernelConfig>,
    /// Ceiling kernels (ALU peaks and bandwidth); their sizes come from the adapter.
    pub ceilings: Vec<Kernel>,
    /// Whether the autotuned matmuls (and the bandwidth searches of copy and triad) run.
    pub tune: bool,
    /// Whether the vendor-library references run (the host SGEMM, on CPU adapters).
    pub vendor: bool,
}

/// Matmul kernels runnable by id: the defaults plus every other matmul kernel's default
/// configuration.
fn known_matmul_configs() -> Vec<KernelConfig> {
    let mut all = default_matmul_configs();
    all.push(KernelConfig::new(
        Kernel::MatmulTex,
        &[("WG_X", 8), ("WG_Y", 8), ("RA", 4), ("CB", 4)],
    ));
    all.push(KernelConfig::new(Kernel::MatmulTiled, &[]));
    all.push(KernelConfig::new(
        Kernel::MatmulF16,
        &[("WG_X", 8), ("WG_Y", 8), ("ROWS", 4)],
    ));
    all.push(KernelConfig::new(Kernel::MatmulTiledF16, &[]));
    all.push(KernelConfig::new(Kernel::MatmulCoopF16, &[]));
    all.push(KernelConfig::new(
        Kernel::MatmulInt8,
        &[("WG_X", 8), ("WG_Y", 8), ("ROWS", 4)],
    ));
    all
}

/// The ceiling kernels shipped.
fn ceiling_kernels() -> impl Iterator<Item = Kernel> {
    Kernel::ALL
        .into_iter()
        .filter(|k| k.info().family == Family::Ceiling)
}

/// Ids `--kernels` accepts besides the matmul kernels: the ceilings, `tuned` and `vendor`.
fn is_special_kernel(id: &str) -> bool {
    id == "tuned" || id == "vendor" || ceiling_kernels().any(|k| k.id() == id)
}

/// The kernels `--kernels ids` names (all by default); an unknown id is an error listing the
/// known ones. The sweep measures tuned kernels only.
pub fn select_kernels(ids: &[String], preset: Preset) -> Result<KernelChoice> {
    let ceilings: Vec<Kernel> = ceiling_kernels()
        .filter(|k| ids.is_empty() || ids.iter().any(|id| id.trim() == k.id()))
        .collect();
    let tune = ids.is_empty() || ids.iter().any(|k| k.trim() == "tuned");
    let vendor = ids.is_empty() || ids.iter().any(|k| k.trim() == "vendor");
    if preset == Preset::Sweep {
        return Ok(KernelChoice {
            matmul: Vec::new(),
            ceilings,
            tune,
            vendor,
        });
    }
    let all = known_matmul_configs();
    let mut matmul = Vec::new();
    if ids.is_empty() {
        matmul = default_matmul_configs();
        matmul.push(KernelConfig::new(Kernel::MatmulCoopF16, &[]));
    }
    for id in ids.iter().map(|id| id.trim()) {
        if is_special_kernel(id) {
            continue;
        }
        let found = all.iter().find(|k| k.id() == id).cloned();
        matmul.push(found.ok_or_else(|| unknown_kernel(id, &all))?);
    }
    Ok(KernelChoice {
        matmul,
        ceilings,
        tune,
        vendor,
    })
}

fn unknown_kernel(id: &str, all: &[KernelConfig]) -> Error {
    let mut known: Vec<&str> = all.iter().map(|k| k.id()).collect();
    known.extend(ceiling_kernels().map(Kernel::id));
    known.push("tuned");
    known.push("vendor");
    Error::Config(format!(
        "--kernels: unknown kernel '{id}' (known: {})",
        known.join(", ")
    ))
}

/// The seed of a case's inputs: a hash of the run seed and the case id, so the same case gets
/// the same inputs in any plan of a run with that seed, wherever it stands.
pub fn case_seed(run_seed: u64, case_id: &str) -> u64 {
    let mut h = Sha256::new();
    h.update(run_seed.to_le_bytes());
    h.update(case_id.as_bytes());
    let digest = h.finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}

/// A run id from its start time and seed: sortable by time, distinct between runs started in
/// the same second with different seeds.
pub fn run_id(started_at: &str, seed: u64) -> String {
    format!("{}-{:08x}", started_at.replace([':', '-'], ""), seed as u32)
}

/// The result file as written before the first case.
pub fn header(
    machine: Machine,
    seed: u64,
    timing: &TimingConfig,
    command: Vec<String>,
) -> ResultFile {
    let started = crate::measure::machine::now_rfc3339();
    let mut run = RunInfo::new(run_id(&started, seed), seed, timing.samples);
    run.started_at = started;
    run.command = command;
    run.warmup_s = timing.warmup.as_secs_f64();
    ResultFile::new(machine, run)
}

/// What a run asks for, once its flags are checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The preset.
    pub preset: Preset,
    /// `--sizes`, which overrides the preset's shapes.
    pub sizes: Option<Vec<Workload>>,
    /// The kernels.
    pub kernels: KernelChoice,
    /// How each case is timed (`samples` is the minimum of adaptive cases).
    pub timing: TimingConfig,
    /// `--samples`: every case takes exactly this many, and sampling is not adaptive.
    pub fixed_samples: Option<usize>,
    /// The time budget, seconds.
    pub budget_s: f64,
    /// Whether the user chose the budget (`--budget`). A chosen budget is kept strictly: a
    /// plan that cannot fit it is an error. A default one gives way: the smallest plan runs
    /// and the cut says so.
    pub budget_chosen: bool,
    /// Target relative 95% half-width of headline cases.
    pub target_half_width: f64,
    /// The run seed.
    pub seed: u64,
}

/// The smallest budget any plan of `request` can keep, before the device is known: the
/// ceilings' warm-up and minimum samples. A budget below it is refused at once.
pub fn minimum_budget_s(request: &Request) -> f64 {
    let t = &request.timing;
    let per_case =
        t.warmup.as_secs_f64() + MIN_ADAPTIVE_SAMPLES as f64 * t.target_sample.as_secs_f64();
    let cases = request.kernels.ceilings.len() + usize::from(request.kernels.tune);
    (per_case * cases.max(1) as f64 / BUDGET_USE).ceil()
}

/// What the plan knows about the device's speed before the first case.
#[derive(Debug, Clone, PartialEq)]
pub struct Rates {
    /// Multiply-adds per second of the host's f64 reference (verification runs on the host).
    pub host_fma_per_s: f64,
    /// Multiply-adds per second of the host's O(n²) float check (large shapes): streaming
    /// passes, timed apart from the cache-resident full reference.
    pub check_macs_per_s: f64,
    /// The same for the exact integer check (timed apart: i8 inputs).
    pub int_check_macs_per_s: f64,
    /// GFLOP/s by kernel id from the tuning trials, and by `tuned/<dtype>` for each winner.
    pub matmul_gflops: BTreeMap<String, f64>,
    /// GFLOP/s assumed for a matmul kernel nothing was measured for.
    pub fallback_gflops: f64,
    /// Multiply-adds per second of the host SGEMM reference (CPU adapters only), for the
    /// estimates of the host references the plan measures after the WGSL cases.
    pub host_sgemm_fma_per_s: f64,
}

/// How many times the f64 reference's speed the host SGEMM is assumed to reach where it was
/// not measured (a low figure: a tuned SGEMM on every core is tens of times faster).
const HOST_SGEMM_SPEEDUP: f64 = 8.0;

impl Rates {
    /// Rates from tuning records and a measured host reference speed.
    pub fn from_tuning(tuned: &[Tuned], host_fma_per_s: f64) -> Self {
        let mut matmul_gflops = BTreeMap::new();
        for t in tuned {
            if let Some(best) = t.best_rate() {
                matmul_gflops.insert(format!("tuned/{}", t.dtype), best);
            }
            for c in &t.candidates {
                if let Some(r) = t.rate_of(c.id()) {
                    matmul_gflops.insert(c.id().to_string(), r);
                }
            }
        }
        Rates {
            host_fma_per_s,
            check_macs_per_s: host_fma_per_s,
            int_check_macs_per_s: host_fma_per_s,
            matmul_gflops,
            fallback_gflops: 10.0,
            host_sgemm_fma_per_s: HOST_SGEMM_SPEEDUP * host_fma_per_s,
        }
    }

    /// The same rates with the host SGEMM reference's measured speed (see
    /// [`crate::measure::host_refs::measure_sgemm_rate`]); a figure that is not positive keeps
    /// the assumed one.
    pub fn with_host_sgemm_rate(mut self, fma_per_s: f64) -> Self {
        if fma_per_s > 0.0 && fma_per_s.is_finite() {
            self.host_sgemm_fma_per_s = fma_per_s;
        }
        self
    }

    /// The same rates with both O(n²) checks charged at `macs_per_s`.
    pub fn with_check_rate(self, macs_per_s: f64) -> Self {
        self.with_check_rates(verify::CheckRates {
            float_macs_per_s: macs_per_s,
            int_macs_per_s: macs_per_s,
        })
    }

    /// The same rates with the O(n²) checks charged at the measured `rates` (see
    /// [`crate::measure::verify::measure_check_rates`]).
    pub fn with_check_rates(mut self, rates: verify::CheckRates) -> Self {
        self.check_macs_per_s = rates.float_macs_per_s;
        self.int_check_macs_per_s = rates.int_macs_per_s;
        self
    }

    /// Host seconds verifying one output of `w` costs: the full reference at the full rate
    /// below the threshold, the O(n²) check at its own rate above it.
    pub fn verification_s(&self, w: &Workload) -> f64 {
        let shape = MatmulShape {
            m: w.m as usize,
            n: w.n as usize,
            k: w.k as usize,
        };
        let integer = w.dtype == Dtype::I8;
        let macs = verify::host_macs(shape, integer);
        let rate = if verify::uses_sampled_check(shape) && integer {
            self.int_check_macs_per_s
        } else if verify::uses_sampled_check(shape) {
            self.check_macs_per_s
        } else {
            self.host_fma_per_s
        };
        macs / rate.max(1.0)
    }

    /// The GFLOP/s expected of `spec`'s matmul kernel.
    fn gflops(&self, spec: &CaseSpec) -> f64 {
        let k = &spec.kernel;
        let tuned_key = format!("tuned/{}", spec.workload.dtype);
        let tuned = self.matmul_gflops.get(&tuned_key).copied();
        let known = if k.tuned {
            tuned
        } else {
            self.matmul_gflops.get(k.id()).copied()
        };
        // The naive kernel is a reference point, a few times slower than the blocked one.
        let blocked = self.matmul_gflops.get("matmul_blocked").copied();
        let guess = blocked.or(tuned).unwrap_or(self.fallback_gflops);
        known.unwrap_or(if k.id() == "matmul_naive" {
            guess / 4.0
        } else {
            guess
        })
    }

    /// Seconds one dispatch of `spec` is expected to take; `None` for ceiling kernels, which
    /// are sized to run near one sample's length.
    fn dispatch_s(&self, spec: &CaseSpec) -> Option<f64> {
        (spec.workload.op == Op::Matmul)
            .then(|| spec.workload.flops() / 1e9 / self.gflops(spec).max(1e-6))
    }

    /// Seconds one timed sample of `spec` is expected to take.
    fn sample_s(&self, spec: &CaseSpec, timing: &TimingConfig) -> f64 {
        let target = timing.target_sample.as_secs_f64();
        self.dispatch_s(spec).map_or(target, |d| d.max(target))
    }

    /// Seconds `spec` is expected to spend before its samples: the host reference, uploads,
    /// warm-up and the verified dispatch.
    fn setup_s(&self, spec: &CaseSpec, timing: &TimingConfig) -> f64 {
        let w = &spec.workload;
        let host = match w.op {
            Op::Matmul => self.verification_s(w),
            _ => w.bytes() / 1e9,
        };
        let dispatch = self
            .dispatch_s(spec)
            .unwrap_or(timing.target_sample.as_secs_f64());
        host + timing.warmup.as_secs_f64().max(dispatch) + 2.0 * dispatch
    }
}

/// The host's f64 reference speed, timed on a small matmul (a few milliseconds).
pub fn measure_host_rate() -> f64 {
    let n = 160u64;
    let (a, b) = crate::workload::matmul_inputs(n, n, n, 1);
    let start = std::time::Instant::now();
    let c = crate::workload::matmul_reference(&a, &b, n as usize, n as usize, n as usize);
    let seconds = start.elapsed().as_secs_f64().max(1e-6);
    std::hint::black_box(c);
    (n * n * n) as f64 / seconds
}

/// The largest square side (a multiple of 256, at most [`MAX_DEVICE_SIDE`]) whose `dtype`
/// matmul fits the adapter's buffers and textures, `--max-memory`, and a per-case time `cap_s`
/// at the tuned kernel's expected speed. Each dtype gets its own side: f16 may be emulated and
/// far slower than f32, or run on faster units.
pub fn device_side(
    limits: &LimitsRecord,
    max_memory: Option<u64>,
    rates: &Rates,
    cap_s: f64,
    timing: &TimingConfig,
    dtype: Dtype,
) -> u64 {
    let binding = limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size);
    let fits = |n: u64| {
        let matrix = 4 * n * n;
        matrix <= binding
            && max_memory.is_none_or(|m| 4 * matrix <= m)
            && n <= u64::from(limits.max_texture_dimension_2d)
    };
    let mut side = 256;
    for n in (256..=MAX_DEVICE_SIDE).step_by(256) {
        // Room for a few times the minimum samples: a long dispatch that leaves time for ten
        // samples only would give a wide interval.
        let spec = tuned_spec(Workload::matmul(dtype, n, n, n));
        let cost =
            rates.setup_s(&spec, timing) + SIZING_SAMPLES as f64 * rates.sample_s(&spec, timing);
        if fits(n) && cost <= cap_s {
            side = n;
        }
    }
    side
}

/// A tuned case of `workload`, for estimates (the kernel stands for whichever the tuner chose).
fn tuned_spec(workload: Workload) -> CaseSpec {
    CaseSpec {
        workload,
        kernel: default_matmul_configs()[1].clone().into_tuned(),
        seed: 0,
    }
}

/// The matmul shapes of the default preset at side `n`: n³, (n/2)³ and a transformer-like
/// rectangle in the proportions of 768×1536×512.
pub fn default_shapes(n: u64) -> Vec<Workload> {
    // f32 shapes; the plan gives each case its kernel's dtype.
    let round = |x: u64| (x / 64).max(1) * 64;
    let mut shapes = vec![Workload::matmul(Dtype::F32, n, n, n)];
    if n >= 512 {
        shapes.push(Workload::matmul(Dtype::F32, n / 2, n / 2, n / 2));
    }
    shapes.push(Workload::matmul(
        Dtype::F32,
        round(n * 3 / 8),
        round(n * 3 / 4),
        round(n / 4),
    ));
    shapes
}

fn preset_shapes(preset: Preset, side: u64) -> Vec<Workload> {
    let list = |sizes: &[(u64, u64, u64)]| {
        sizes
            .iter()
            .map(|&(m, n, k)| Workload::matmul(Dtype::F32, m, n, k))
            .collect()
    };
    match preset {
        Preset::Quick => list(QUICK_SIZES),
        Preset::Sweep => list(SWEEP_SIZES),
        Preset::Default => default_shapes(side),
    }
}

mod budget;
pub use budget::{plan, Planned};

#[cfg(test)]
mod tests;
