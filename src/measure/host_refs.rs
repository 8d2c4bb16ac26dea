//! Vendor-library reference cases: the same workload computed by the vendor's tuned library on
//! the same machine, so a result file can state WGSL ÷ vendor per shape. A reference case is a
//! normal [`Case`] whose kernel family is `vendor` and whose id is `vendor/<library>-<routine>/
//! <workload>`; its kernel record names the library and version. It is never part of a WGSL
//! capability figure.
//!
//! On a CPU adapter the references run on the host: the host's tuned SGEMM (the `gemm` crate)
//! for every f32 matmul shape, and a multi-threaded copy and triad of the same bytes as the WGSL
//! bandwidth cases ([`stream`]), each with raw samples and a verified output. They use as many
//! threads as the adapter does ([`host_threads`]: lavapipe's `LP_NUM_THREADS`, else every core),
//! so WGSL ÷ vendor compares the same cores; the thread count is recorded in the case, which
//! `validate` then checks against host limits instead of the adapter's ceilings. GPU vendor
//! libraries (cuBLAS) are measured by `scripts/vendor-cublas.py`, which writes cases of the
//! same shape.

mod stream;

pub use stream::{run_host_stream, HOST_COPY_ID, HOST_TRIAD_ID};

use crate::kernels::VENDOR_FAMILY;
use crate::measure::backend::TimingConfig;
use crate::measure::verify::{FloatReference, MatmulShape};
use crate::results::{
    derive_timing, AdapterRecord, Case, CaseStatus, KernelRecord, LibraryRecord, RawTiming,
    Verification,
};
use crate::workload::{matmul_inputs, Dtype, Op, Workload};
use sha2::{Digest, Sha256};
use std::time::Instant;

/// Version of the `gemm` crate this build links (from Cargo.lock at build time).
pub const GEMM_VERSION: &str = env!("FLEETBENCH_GEMM_VERSION");

/// Kernel id of the host SGEMM reference.
pub const HOST_SGEMM_ID: &str = "vendor/gemm-sgemm";

/// The variable lavapipe (llvmpipe) reads for its number of worker threads.
pub const LAVAPIPE_THREADS_ENV: &str = "LP_NUM_THREADS";

/// Whether `case` is a vendor-library reference rather than a WGSL measurement.
pub fn is_vendor(case: &Case) -> bool {
    case.is_vendor_reference()
}

/// Threads the host references use: as many as the CPU adapter computes with, so that WGSL ÷
/// vendor compares the same cores. lavapipe uses `LP_NUM_THREADS` threads (0 means it works on
/// the calling thread), else one per core; more than the cores adds nothing.
pub fn host_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |p| p.get());
    threads_for(std::env::var(LAVAPIPE_THREADS_ENV).ok().as_deref(), cores)
}

/// [`host_threads`] for a given `LP_NUM_THREADS` value and core count; a value that is not a
/// number leaves every core, as lavapipe itself ignores it.
pub fn threads_for(lavapipe_threads: Option<&str>, cores: usize) -> usize {
    let cores = cores.max(1);
    match lavapipe_threads.and_then(|v| v.trim().parse::<usize>().ok()) {
        Some(n) => n.clamp(1, cores),
        None => cores,
    }
}

/// Whether a plan on `adapter` measures host references: on a CPU adapter, whose kernels run on
/// the same cores; not on a GPU, whose library is measured by a script.
pub fn runs_host_references(adapter: &AdapterRecord) -> bool {
    adapter.device_type.is_cpu()
}

/// The workloads the host references run for a plan on `adapter` (see
/// [`runs_host_references`]): every distinct f32 matmul shape (host SGEMM) and every copy or
/// triad (host stream) of the plan.
pub fn host_reference_workloads(adapter: &AdapterRecord, planned: &[Workload]) -> Vec<Workload> {
    if !runs_host_references(adapter) {
        return Vec::new();
    }
    let mut out: Vec<Workload> = planned
        .iter()
        .filter_map(|w| match w.op {
            Op::Matmul => Some(Workload {
                dtype: Dtype::F32,
                ..*w
            }),
            Op::Copy | Op::Triad if w.dtype == Dtype::F32 => Some(*w),
            _ => None,
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The kernel id of the host reference on `w`: SGEMM for a matmul, the host stream otherwise.
pub fn host_reference_kernel_id(w: &Workload) -> &'static str {
    match w.op {
        Op::Copy => HOST_COPY_ID,
        Op::Triad => HOST_TRIAD_ID,
        Op::Matmul | Op::PeakFma => HOST_SGEMM_ID,
    }
}

/// The case id of the host reference on `w`.
pub fn host_reference_case_id(w: &Workload) -> String {
    format!("{}/{}", host_reference_kernel_id(w), w.key())
}

/// Measures the host reference of `w` (see [`host_reference_workloads`]) on [`host_threads`].
pub fn run_host_reference(w: &Workload, timing: &TimingConfig, seed: u64) -> Case {
    let threads = host_threads();
    match w.op {
        Op::Copy | Op::Triad => run_host_stream(w, timing, seed, threads),
        Op::Matmul | Op::PeakFma => run_host_sgemm(w, timing, seed, threads),
    }
}

/// The library record of the host SGEMM on `threads` threads.
pub fn host_sgemm_library(threads: usize) -> LibraryRecord {
    LibraryRecord {
        name: "gemm".to_string(),
        version: GEMM_VERSION.to_string(),
        routine: "sgemm".to_string(),
        notes: format!(
            "Rust crate gemm in-process, row-major C = A·B in f32, {threads} host thread(s)"
        ),
        host_threads: Some(u32::try_from(threads).unwrap_or(u32::MAX)),
    }
}

/// The kernel record of a vendor case: no WGSL, so the hash covers the library's identity.
pub fn vendor_record(id: &str, library: LibraryRecord) -> KernelRecord {
    let mut h = Sha256::new();
    h.update(format!("{}|{}|{}", library.name, library.version, library.routine).as_bytes());
    KernelRecord {
        id: id.to_string(),
        family: VENDOR_FAMILY.to_string(),
        source_hash: h.finalize().iter().map(|b| format!("{b:02x}")).collect(),
        overrides: Default::default(),
        workgroup_size: [1, 1, 1],
        dispatch: [1, 1, 1],
        bounds_checks: false,
        layout_note: None,
        library: Some(library),
    }
}

/// C = A·B with the `gemm` crate on `threads` threads; `a` is m×k, `b` k×n, `c` m×n, row-major.
fn host_sgemm(
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    (m, n, k): (usize, usize, usize),
    threads: usize,
) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    let parallelism = if threads > 1 {
        gemm::Parallelism::Rayon(threads)
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the assertion above keeps every access in bounds; the strides describe
    // row-major matrices (column stride 1, row stride = columns).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.as_mut_ptr(),
            1,
            n as isize,
            false,
            a.as_ptr(),
            1,
            k as isize,
            b.as_ptr(),
            1,
            n as isize,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

/// Multiply-adds per second of the host SGEMM on `threads` threads, the best of a few calls at
/// a small square size (milliseconds in all), for the plan's estimates of the host references.
/// Small shapes run below the large ones' speed, so the estimates err long.
pub fn measure_sgemm_rate(threads: usize) -> f64 {
    const SIDE: usize = 384;
    let (a, b) = matmul_inputs(SIDE as u64, SIDE as u64, SIDE as u64, 1);
    let mut c = vec![0.0f32; SIDE * SIDE];
    let mut best = f64::INFINITY;
    for _ in 0..4 {
        let start = Instant::now();
        host_sgemm(&a, &b, &mut c, (SIDE, SIDE, SIDE), threads);
        best = best.min(start.elapsed().as_secs_f64());
    }
    std::hint::black_box(&c);
    (SIDE * SIDE * SIDE) as f64 / best.max(1e-9)
}

/// The case id of the host SGEMM reference on `w`.
pub fn host_sgemm_case_id(w: &Workload) -> String {
    format!("{HOST_SGEMM_ID}/{}", w.key())
}

/// A reference case not yet measured: skipped until it passes or fails.
fn unmeasured_case(id: String, w: &Workload, kernel: KernelRecord, seed: u64) -> Case {
    Case {
        id,
        workload: *w,
        kernel,
        status: CaseStatus::Skipped,
        reason: None,
        seed,
        verification: None,
        timing: None,
        tuning: None,
        sampling: None,
    }
}

/// Why a reference needing `bytes` may not run under `--max-memory`, if it may not.
fn over_memory_cap(bytes: u64, timing: &TimingConfig) -> Option<String> {
    let cap = timing.max_memory.filter(|cap| bytes > *cap)?;
    Some(format!("needs about {bytes} bytes; --max-memory is {cap}"))
}

/// Records a verified reference's samples, or why they cannot be used.
fn finish_case(case: &mut Case, raw: RawTiming) {
    match derive_timing(&case.workload, raw) {
        Ok(t) => {
            case.status = CaseStatus::Passed;
            case.timing = Some(t);
        }
        Err(e) => {
            case.status = CaseStatus::Failed;
            case.reason = Some(e.to_string());
        }
    }
}

/// Stores the output check; false (and the case failed) when the output is wrong, whose speed
/// is not a result.
fn record_verification(case: &mut Case, verification: Verification) -> bool {
    let failure = verification.failure();
    case.verification = Some(verification);
    if let Some(why) = &failure {
        case.status = CaseStatus::Failed;
        case.reason = Some(format!("verification failed: {why}"));
    }
    failure.is_none()
}

/// Measures the host SGEMM on `w` (an f32 matmul) like a WGSL case on `threads` threads: one
/// verified call, warm-up by time, then `timing.samples` samples of enough calls to last
/// `timing.target_sample`.
pub fn run_host_sgemm(w: &Workload, timing: &TimingConfig, seed: u64, threads: usize) -> Case {
    let kernel = vendor_record(HOST_SGEMM_ID, host_sgemm_library(threads));
    let mut case = unmeasured_case(host_sgemm_case_id(w), w, kernel, seed);
    if w.op != Op::Matmul || w.dtype != Dtype::F32 || w.m == 0 || w.n == 0 || w.k == 0 {
        case.reason = Some(format!("the host SGEMM does not compute {}", w.key()));
        return case;
    }
    if let Some(reason) = over_memory_cap(4 * (w.m * w.k + w.k * w.n + w.m * w.n), timing) {
        case.reason = Some(reason);
        return case;
    }
    let dims = (w.m as usize, w.n as usize, w.k as usize);
    let (a, b) = matmul_inputs(w.m, w.n, w.k, seed);
    let mut c = vec![f32::NAN; dims.0 * dims.1];
    let first = Instant::now();
    host_sgemm(&a, &b, &mut c, dims, threads);
    let first_s = first.elapsed().as_secs_f64();
    let shape = MatmulShape {
        m: dims.0,
        n: dims.1,
        k: dims.2,
    };
    let verification = match FloatReference::new(&a, &b, shape, Dtype::F32.tolerance(), seed) {
        Ok(reference) => reference.check(&c),
        Err(e) => {
            case.status = CaseStatus::Failed;
            case.reason = Some(format!("verification failed: {e}"));
            return case;
        }
    };
    if record_verification(&mut case, verification) {
        let raw = sample_calls(
            || host_sgemm(&a, &b, &mut c, dims, threads),
            first_s,
            timing,
        );
        finish_case(&mut case, raw);
    }
    case
}

/// Warm-up by time, then the timed samples (seconds per call) of `call`, whose first call
/// took `first_s`.
fn sample_calls(mut call: impl FnMut(), first_s: f64, timing: &TimingConfig) -> RawTiming {
    let start = Instant::now();
    let (mut per_call, mut warmup) = (first_s, 1u32);
    while start.elapsed() < timing.warmup {
        let t = Instant::now();
        call();
        per_call = t.elapsed().as_secs_f64();
        warmup += 1;
    }
    let target = timing.target_sample.as_secs_f64();
    let per_sample = (target / per_call.max(1e-9)).ceil().clamp(1.0, 1000.0) as u32;
    let host_s = (0..timing.samples.max(1))
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_sample {
                call();
            }
            t.elapsed().as_secs_f64() / f64::from(per_sample)
        })
        .collect();
    RawTiming {
        host_s,
        gpu_s: None,
        dispatches_per_sample: per_sample,
        warmup_dispatches: warmup,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::fake::fake_adapter;
    use std::time::Duration;

    fn quick() -> TimingConfig {
        TimingConfig {
            warmup: Duration::ZERO,
            samples: 3,
            target_sample: Duration::from_millis(1),
            ..TimingConfig::default()
        }
    }

    #[test]
    fn host_sgemm_is_verified_timed_and_named() {
        let w = Workload::matmul(Dtype::F32, 48, 40, 24);
        let case = run_host_sgemm(&w, &quick(), 7, 2);
        assert_eq!(case.status, CaseStatus::Passed, "{case:?}");
        assert_eq!(case.id, "vendor/gemm-sgemm/matmul/f32/48x40x24");
        assert!(is_vendor(&case));
        let lib = case.kernel.library.as_ref().unwrap();
        assert_eq!((lib.name.as_str(), lib.routine.as_str()), ("gemm", "sgemm"));
        assert!(lib.version.starts_with("0."), "{}", lib.version);
        let v = case.verification.unwrap();
        assert!(v.rel_error < 1e-5, "{v:?}");
        assert_eq!(case.timing.unwrap().host_s.len(), 3);
    }

    #[test]
    fn other_workloads_are_skipped_with_a_reason() {
        let w = Workload::matmul(Dtype::F16, 8, 8, 8);
        let case = run_host_sgemm(&w, &quick(), 1, 1);
        assert_eq!(case.status, CaseStatus::Skipped);
        assert!(case.reason.unwrap().contains("does not compute"));
        let mut capped = quick();
        capped.max_memory = Some(10);
        let case = run_host_sgemm(&Workload::matmul(Dtype::F32, 8, 8, 8), &capped, 1, 1);
        assert!(case.reason.unwrap().contains("--max-memory"));
    }

    #[test]
    fn only_cpu_adapters_get_host_references() {
        let shapes = [
            Workload::matmul(Dtype::F32, 64, 64, 64),
            Workload::matmul(Dtype::F16, 64, 64, 64),
            Workload::matmul(Dtype::F32, 32, 64, 16),
        ];
        let mut cpu = fake_adapter("cpu");
        cpu.device_type = crate::results::DeviceType::Cpu;
        assert_eq!(host_reference_workloads(&cpu, &shapes).len(), 2);
        assert!(host_reference_workloads(&fake_adapter("gpu"), &shapes).is_empty());
        let copy = Workload::stream(Op::Copy, 1 << 20);
        let triad = Workload::stream(Op::Triad, 1 << 20);
        let peak = Workload {
            op: Op::PeakFma,
            ..copy
        };
        let refs = host_reference_workloads(&cpu, &[copy, triad, peak, copy]);
        assert_eq!(
            refs,
            vec![copy, triad],
            "one stream reference per shape, no peak"
        );
        assert!(host_reference_case_id(&copy).starts_with("vendor/host-copy/copy/f32/"));
        assert!(host_reference_case_id(&triad).starts_with("vendor/host-triad/triad/"));
        assert!(host_reference_case_id(&shapes[0]).starts_with("vendor/gemm-sgemm/matmul/"));
    }

    #[test]
    fn host_threads_follow_lavapipe_within_the_cores() {
        assert_eq!(threads_for(None, 16), 16);
        assert_eq!(threads_for(Some("1"), 16), 1);
        assert_eq!(threads_for(Some(" 4 "), 16), 4);
        assert_eq!(
            threads_for(Some("64"), 16),
            16,
            "more than the cores adds nothing"
        );
        assert_eq!(
            threads_for(Some("0"), 16),
            1,
            "0: lavapipe works on one thread"
        );
        assert_eq!(threads_for(Some("many"), 2), 2);
        assert_eq!(threads_for(None, 0), 1);
        let case = run_host_sgemm(&Workload::matmul(Dtype::F32, 16, 16, 16), &quick(), 3, 1);
        let lib = case.kernel.library.unwrap();
        assert_eq!(lib.host_threads, Some(1));
        assert!(lib.notes.contains("1 host thread"), "{}", lib.notes);
    }
}
