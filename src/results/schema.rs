//! Versioned serde types of the result file. Unknown fields are rejected so a file from another
//! tool or a hand edit fails loudly instead of loading half-understood. Bump
//! [`SCHEMA_VERSION`] on any change that alters meaning.

use crate::stats::Summary;
use crate::workload::{Op, Workload};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub use super::adapter::{CooperativeMatrixShape, DeviceType, MatrixScalar};

/// The version written into every result file.
pub const SCHEMA_VERSION: u32 = 2;

/// One run of `fleetbench run` on one adapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultFile {
    /// Always [`SCHEMA_VERSION`] for files this build writes.
    pub schema_version: u32,
    /// The machine and adapter that produced the file.
    pub machine: Machine,
    /// How the run was configured.
    pub run: RunInfo,
    /// One entry per case, in the order they ran.
    pub cases: Vec<Case>,
}

/// Facts about the machine that change what a measurement means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Machine {
    /// The adapter the cases ran on.
    pub adapter: AdapterRecord,
    /// Host name (for telling cluster nodes apart).
    pub hostname: String,
    /// Operating system name and version.
    pub os: String,
    /// CPU brand string.
    pub cpu_model: String,
    /// Logical CPU count.
    pub cpu_cores: usize,
    /// Installed memory in bytes.
    pub memory_bytes: u64,
    /// The wgpu version fleetbench was built against.
    pub wgpu_version: String,
    /// The fleetbench version that wrote the file.
    pub fleetbench_version: String,
    /// The git revision fleetbench was built from, when known.
    pub git_revision: Option<String>,
    /// When the file was created (RFC 3339, UTC).
    pub created_at: String,
    /// Environment variables that change driver behaviour (`WGPU_*`, `VK_*`, `MESA_*`, `LP_*`, …).
    pub env: BTreeMap<String, String>,
    /// True when the adapter was simulated (`run --simulate`): a test instrument whose
    /// throughputs come from a speed model, never a measurement.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub simulated: bool,
}

/// What wgpu reported about the adapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdapterRecord {
    /// Position in the enumeration order of `fleetbench devices`.
    pub index: usize,
    /// Adapter name, e.g. "NVIDIA H200" or "llvmpipe (LLVM 15.0.6, 256 bits)".
    pub name: String,
    /// Backend: vulkan, metal, dx12, gl.
    pub backend: String,
    /// Device type: discrete_gpu, integrated_gpu, virtual_gpu, cpu, other.
    pub device_type: DeviceType,
    /// PCI vendor id (0x10de NVIDIA, 0x1002 AMD, 0x8086 Intel, 0x10005 Mesa).
    pub vendor_id: u32,
    /// PCI device id.
    pub device_id: u32,
    /// Driver name.
    pub driver: String,
    /// Driver version string.
    pub driver_info: String,
    /// Features that matter to fleetbench, by name (timestamp_query, shader_f16, subgroup,
    /// cooperative_matrix, …).
    pub features: Vec<String>,
    /// Limits that bound what can run.
    pub limits: LimitsRecord,
    /// Nanoseconds per timestamp tick, when timestamps are supported.
    pub timestamp_period_ns: Option<f32>,
    /// Cooperative-matrix configurations the adapter reports. Files written before shapes
    /// were typed hold them as text ("16x16x16 f16->f32"); both forms load.
    pub cooperative_matrix: Vec<CooperativeMatrixShape>,
}

impl AdapterRecord {
    /// Whether the adapter reports the named feature.
    pub fn has_feature(&self, name: &str) -> bool {
        self.features.iter().any(|f| f == name)
    }
}

/// Adapter limits relevant to compute benchmarks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsRecord {
    /// Largest storage-buffer binding, bytes.
    pub max_storage_buffer_binding_size: u64,
    /// Largest buffer, bytes.
    pub max_buffer_size: u64,
    /// Workgroup shared memory, bytes.
    pub max_compute_workgroup_storage_size: u32,
    /// Invocations per workgroup.
    pub max_compute_invocations_per_workgroup: u32,
    /// Workgroups per dispatch dimension.
    pub max_compute_workgroups_per_dimension: u32,
    /// Largest 2D texture side, texels.
    pub max_texture_dimension_2d: u32,
    /// Smallest subgroup size.
    pub min_subgroup_size: u32,
    /// Largest subgroup size.
    pub max_subgroup_size: u32,
}

/// How the run was configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunInfo {
    /// Unique id of this run (also used in default file names).
    pub run_id: String,
    /// The command line, as typed.
    pub command: Vec<String>,
    /// When the run started (RFC 3339, UTC).
    pub started_at: String,
    /// When the last case finished; `None` while the run is in progress or after a crash.
    pub finished_at: Option<String>,
    /// Base seed of the input generator; each case records its own derived seed.
    pub seed: u64,
    /// Warm-up time per case, seconds.
    pub warmup_s: f64,
    /// Timed samples per case.
    pub samples: usize,
    /// True once every planned case has been attempted.
    pub complete: bool,
    /// The plan the run kept: its time budget, the estimated time of every case and what was
    /// cut to keep the budget. Absent in files written before plans were recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plan: Option<PlanRecord>,
    /// How steady the host was over the run, from a host probe before the first case and
    /// after the last; absent in older files and in runs that did not finish.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<HostStability>,
}

/// The same small host computation (an f64 matmul) timed before the first case and after the
/// last: a host whose speed moved during the run (neighbours, thermals, clocks) moved the
/// device's figures too, and a reader can tell a quiet run from a disturbed one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HostStability {
    /// Multiply-adds per second of the probe before the first case.
    pub probe_start_fma_per_s: f64,
    /// Multiply-adds per second of the probe after the last case.
    pub probe_end_fma_per_s: f64,
    /// Relative change from start to end: end / start − 1.
    pub change: f64,
    /// True when the change is within [`HostStability::QUIET_CHANGE`].
    pub quiet: bool,
}

impl HostStability {
    /// The largest relative change of the probe a quiet run shows: a single small probe
    /// varies by a few percent on an idle host, a loaded one moves it by tens of percent.
    pub const QUIET_CHANGE: f64 = 0.15;

    /// The record of two probes (multiply-adds per second).
    pub fn from_probes(start: f64, end: f64) -> Self {
        let change = if start > 0.0 { end / start - 1.0 } else { 0.0 };
        HostStability {
            probe_start_fma_per_s: start,
            probe_end_fma_per_s: end,
            change,
            quiet: change.abs() <= Self::QUIET_CHANGE,
        }
    }
}

/// The time budget of a run and how it was spent, as planned before the first case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRecord {
    /// The budget the run was asked to keep, seconds.
    pub budget_s: f64,
    /// Seconds the plan estimated for everything (tuning included) before the first case.
    pub estimated_s: f64,
    /// Seconds tuning took (searches and cache look-ups).
    pub tuning_s: f64,
    /// The 95% half-width, relative to the median, that adaptive cases sample towards.
    pub target_half_width: f64,
    /// Every planned case with its estimate, in plan order.
    pub cases: Vec<PlannedCaseRecord>,
    /// What the plan left out or shrank to keep the budget, one line each.
    pub cuts: Vec<String>,
}

/// One case of the plan with the time it was expected to take.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlannedCaseRecord {
    /// The case id.
    pub id: String,
    /// Whether the case samples towards the target (headline) or takes a fixed count (baseline).
    pub role: CaseRole,
    /// Estimated seconds: preparation, warm-up and samples.
    pub estimated_s: f64,
}

/// Why a case is in the plan, which decides how it is sampled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseRole {
    /// A figure people compare devices by (tuned matmul, peaks, copy, triad): sampled until its
    /// interval is tight or its share of the budget is spent.
    Headline,
    /// A reference point (naive and register-blocked matmul): a fixed number of samples.
    Baseline,
}

/// How many samples a case took and why it stopped: the evidence behind its interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SamplingRecord {
    /// Fixed count, or adaptive towards a target half-width.
    pub rule: SamplingRule,
    /// The fixed count, or the least an adaptive case takes.
    pub planned: usize,
    /// The target relative 95% half-width of an adaptive case.
    pub target_half_width: Option<f64>,
    /// The relative 95% half-width of the median throughput the samples give.
    pub half_width: f64,
    /// True when an adaptive case stopped above its target: its interval is wider than asked.
    pub noisy: bool,
    /// Why sampling stopped.
    pub stopped: StopReason,
    /// Rounds in which this case took samples.
    pub rounds: usize,
}

/// How a case's sample count is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SamplingRule {
    /// Exactly `planned` samples.
    Fixed,
    /// At least `planned`, then until the target half-width or the case's budget share.
    Adaptive,
}

/// Why a case stopped taking samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// It took its fixed count.
    Count,
    /// Its interval reached the target.
    Target,
    /// Its share of the budget was spent first.
    Budget,
    /// It reached the most samples a case may take.
    MaxSamples,
    /// The run was interrupted.
    Interrupted,
}

/// Outcome of one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Output verified; timings are a result.
    Passed,
    /// Ran, but the output was wrong or the run failed part-way; no throughput is reported.
    Failed,
    /// Not run (too large for the adapter, or over `--max-memory`); `reason` says why.
    Skipped,
    /// The adapter lacks a feature this case needs; `reason` says which.
    Unsupported,
}

/// One kernel on one workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Case {
    /// `<kernel id>/<workload key>`, unique within a file.
    pub id: String,
    /// What was computed.
    pub workload: Workload,
    /// Which kernel computed it, configured how.
    pub kernel: KernelRecord,
    /// Outcome.
    pub status: CaseStatus,
    /// Why the case did not pass, in one line.
    pub reason: Option<String>,
    /// Seed of this case's inputs.
    pub seed: u64,
    /// Check of the output against the CPU reference.
    pub verification: Option<Verification>,
    /// Raw samples and their statistics; present only when the case ran.
    pub timing: Option<Timing>,
    /// When the kernel configuration was chosen by the autotuner: the search that chose it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tuning: Option<TuningRecord>,
    /// How the samples were taken and whether the interval reached its target; absent in files
    /// written before sampling was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampling: Option<SamplingRecord>,
}

/// An autotuning search: which candidates were tried on which workload, how each did, and
/// which one won (the best median throughput among verified candidates).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TuningRecord {
    /// The adapter, driver and settings the search is valid for (the cache key).
    pub key: String,
    /// The workload candidates were measured on.
    pub workload: Workload,
    /// Kernel id of the winner.
    pub chosen_kernel: String,
    /// Override values of the winner.
    pub chosen_overrides: BTreeMap<String, f64>,
    /// True when this record was read from the tuning cache instead of searched in this run.
    pub from_cache: bool,
    /// When the search ran (RFC 3339, UTC).
    pub searched_at: String,
    /// Every candidate tried, in order.
    pub trials: Vec<TuningTrial>,
}

/// One candidate of a tuning search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TuningTrial {
    /// Kernel id.
    pub kernel: String,
    /// Override values.
    pub overrides: BTreeMap<String, f64>,
    /// Outcome (only passed candidates can win).
    pub status: CaseStatus,
    /// Median throughput in the workload's unit, when it passed.
    pub median: Option<f64>,
    /// Why it did not pass.
    pub reason: Option<String>,
    /// Host seconds spent verifying this candidate's output (its share of the reference's
    /// build included), so a file accounts for every check a run makes, tuning's too; in a
    /// record read from the tuning cache (`from_cache`), those of the search that made it.
    /// Absent for candidates that produced no output and in files written before it was
    /// recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification_host_s: Option<f64>,
}

impl ResultFile {
    /// A file of the current schema with no cases yet: the header a run writes before its first
    /// case, so even an immediate crash leaves a valid file.
    pub fn new(machine: Machine, run: RunInfo) -> Self {
        ResultFile {
            schema_version: SCHEMA_VERSION,
            machine,
            run,
            cases: Vec::new(),
        }
    }
}

impl RunInfo {
    /// A run started now with `seed` and `samples` per case, not yet complete and without a
    /// command line, warm-up or plan (callers fill in what they have).
    pub fn new(run_id: String, seed: u64, samples: usize) -> Self {
        RunInfo {
            run_id,
            command: Vec::new(),
            started_at: super::now_rfc3339(),
            finished_at: None,
            seed,
            warmup_s: 0.0,
            samples,
            complete: false,
            plan: None,
            host: None,
        }
    }
}

impl Case {
    /// Whether this is a vendor-library reference (kernel family `vendor`, a library record)
    /// rather than a WGSL measurement: never an adapter's WGSL figure or ceiling.
    pub fn is_vendor_reference(&self) -> bool {
        self.kernel.family == "vendor"
    }

    /// The headline throughput summary, only for verified cases: a failed case's speed is never
    /// a result.
    pub fn passed_throughput(&self) -> Option<&Summary> {
        match (self.status, &self.timing) {
            (CaseStatus::Passed, Some(t)) => Some(&t.throughput),
            _ => None,
        }
    }

    /// Per-sample throughput of a passed case from its headline clock, in the unit of its
    /// workload; `None` for a case that did not pass or lacks its headline samples. Every
    /// analysis that resamples throughput (compare, calibrate, merge) reads it here.
    pub fn throughput_samples(&self) -> Option<(RateUnit, Vec<f64>)> {
        self.passed_throughput()?;
        let timing = self.timing.as_ref()?;
        let seconds = match timing.headline {
            TimingMethod::GpuTimestamps => timing.gpu_s.as_ref()?,
            TimingMethod::HostClock => &timing.host_s,
        };
        let (unit, work) = RateUnit::of(&self.workload);
        Some((unit, seconds.iter().map(|s| work / s).collect()))
    }
}

/// How a kernel was configured: enough to tell whether two cases ran the same code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KernelRecord {
    /// Kernel id, e.g. `matmul_blocked`.
    pub id: String,
    /// Kernel family (storage buffers, textures, cooperative matrix, …).
    pub family: String,
    /// SHA-256 of the WGSL source and the override values, hex.
    pub source_hash: String,
    /// Values of the `override` constants.
    pub overrides: BTreeMap<String, f64>,
    /// Workgroup size.
    pub workgroup_size: [u32; 3],
    /// Workgroups dispatched.
    pub dispatch: [u32; 3],
    /// Whether naga's runtime bounds checks were compiled in.
    pub bounds_checks: bool,
    /// Any layout change of the inputs made before the timed dispatches, and whether it was
    /// timed; `None` when inputs are used as generated.
    pub layout_note: Option<String>,
    /// For a vendor-library reference case (family `vendor`): the library measured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub library: Option<LibraryRecord>,
}

/// A vendor library a reference case measured, named so a reader can find the same build.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LibraryRecord {
    /// Library name, e.g. `gemm` (Rust crate) or `cuBLAS`.
    pub name: String,
    /// Its version as the library reports it.
    pub version: String,
    /// The routine measured, e.g. `sgemm`, `hgemm`, `int_mm`, `memcpy_d2d`.
    pub routine: String,
    /// How it was called (precision modes, threads, through which front end).
    pub notes: String,
    /// Threads the library ran on when it ran on the host CPU rather than on the adapter. A
    /// host reference is checked against host limits, never against the adapter's ceilings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_threads: Option<u32>,
}

impl LibraryRecord {
    /// Whether the library ran on the host CPU. Files written before `host_threads` existed
    /// name the host SGEMM only by its crate, `gemm`.
    pub fn runs_on_host(&self) -> bool {
        self.host_threads.is_some() || self.name == "gemm"
    }
}

/// The output checked against a CPU reference in f64. Fields after `total_elements` came with
/// the O(n²) checks; files written before them load with their defaults (a full check).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Verification {
    /// ‖C_gpu − C_ref‖_F / ‖C_ref‖_F (or the analogous checksum error for ceiling kernels).
    pub rel_error: f64,
    /// The largest error accepted for this dtype.
    pub tolerance: f64,
    /// What the output was checked against.
    pub reference: String,
    /// Output elements compared.
    pub checked_elements: u64,
    /// Output elements in total.
    pub total_elements: u64,
    /// How the output was checked.
    #[serde(default)]
    pub method: VerifyMethod,
    /// The worst error of one checked element (or one projected row sum) relative to the root
    /// mean square of its reference values: a single wrong element hardly moves `rel_error` of
    /// a large output, but it stands out here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_error: Option<f64>,
    /// The largest `element_error` accepted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub element_tolerance: Option<f64>,
    /// Output elements that were NaN or infinite (the whole output is scanned).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub non_finite_elements: u64,
    /// Random vectors the output was projected on (Freivalds' check); 0 for a full check.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub vectors: u64,
    /// Entries of each projection vector are drawn from 0..`vector_range` (exact integer
    /// checks: a wrong output escapes one vector with probability at most 1/`vector_range`);
    /// absent for float checks (entries s·(1+u), see `measure::verify`) and in files written
    /// before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vector_range: Option<u64>,
    /// Output rows recomputed exactly and compared element by element (sampled checks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rows_checked: Vec<u64>,
    /// Output columns recomputed exactly and compared element by element (sampled checks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub columns_checked: Vec<u64>,
    /// Seed the vectors, rows and columns were drawn from, so the check can be repeated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_seed: Option<u64>,
    /// Host seconds spent building the reference and checking this output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_s: Option<f64>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

impl Verification {
    /// Why the output is wrong, in one line; `None` when every check passed.
    pub fn failure(&self) -> Option<String> {
        if self.non_finite_elements > 0 {
            return Some(format!(
                "{} of {} output elements are NaN or infinite",
                self.non_finite_elements, self.total_elements
            ));
        }
        if self.rel_error.is_nan() || self.rel_error > self.tolerance {
            return Some(format!(
                "relative error {:e} > {:e}",
                self.rel_error, self.tolerance
            ));
        }
        match (self.element_error, self.element_tolerance) {
            (Some(e), Some(t)) if e.is_nan() || e > t => {
                Some(format!("element error {e:e} > {t:e}"))
            }
            _ => None,
        }
    }

    /// Whether every check passed.
    pub fn passed(&self) -> bool {
        self.failure().is_none()
    }
}

/// How an output was checked.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum VerifyMethod {
    /// Every element against a full reference product (O(n³) for a matmul).
    #[default]
    Full,
    /// Freivalds' projections on seeded random vectors, seeded rows and columns recomputed
    /// exactly, and a NaN/Inf scan of the whole output (O(n²)).
    Freivalds,
    /// A closed-form checksum per invocation (ALU ceiling kernels).
    Checksum,
}

/// Which clock a throughput was derived from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TimingMethod {
    /// GPU timestamp queries at compute-pass boundaries.
    GpuTimestamps,
    /// Host monotonic clock around submit and wait.
    HostClock,
}

/// The unit a case's throughput is expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub enum RateUnit {
    /// 10^9 floating-point operations per second.
    #[serde(rename = "GFLOP/s")]
    Gflops,
    /// 10^9 bytes per second.
    #[serde(rename = "GB/s")]
    Gbps,
}

impl RateUnit {
    /// The unit a workload's throughput is measured in, and the amount of work per run in it.
    pub fn of(workload: &Workload) -> (RateUnit, f64) {
        match workload.op {
            Op::Matmul | Op::PeakFma => (RateUnit::Gflops, workload.flops() / 1e9),
            Op::Copy | Op::Triad => (RateUnit::Gbps, workload.bytes() / 1e9),
        }
    }

    /// The unit as printed.
    pub fn label(self) -> &'static str {
        match self {
            RateUnit::Gflops => "GFLOP/s",
            RateUnit::Gbps => "GB/s",
        }
    }
}

/// Raw samples and their statistics. Every sample is seconds per dispatch: one submission of
/// `dispatches_per_sample` dispatches, divided by that count.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Timing {
    /// Which method the throughput comes from.
    pub headline: TimingMethod,
    /// Dispatches recorded into each timed submission.
    pub dispatches_per_sample: u32,
    /// Warm-up dispatches run before the samples.
    pub warmup_dispatches: u32,
    /// Host-clock seconds per dispatch, one per sample.
    pub host_s: Vec<f64>,
    /// GPU-timestamp seconds per dispatch, one per sample, when the adapter has timestamps.
    pub gpu_s: Option<Vec<f64>>,
    /// Statistics of `host_s`.
    pub host: Summary,
    /// Statistics of `gpu_s`.
    pub gpu: Option<Summary>,
    /// Unit of `throughput`.
    pub unit: RateUnit,
    /// Statistics of the per-sample throughput from the headline method.
    pub throughput: Summary,
    /// |median host − median GPU| / median GPU, when both exist.
    pub clock_disagreement: Option<f64>,
    /// True when `clock_disagreement` exceeds [`DISAGREEMENT_LIMIT`].
    pub clocks_disagree: bool,
}

/// Host and GPU medians further apart than this fraction are flagged.
pub const DISAGREEMENT_LIMIT: f64 = 0.10;
