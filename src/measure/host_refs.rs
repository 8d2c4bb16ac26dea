//! Vendor-library reference cases: the same workload computed by the vendor's tuned library on
//! the same machine, so a result file can state WGSL ÷ vendor per shape. A reference case is a
//! normal [`Case`] whose kernel family is `vendor` and whose id is `vendor/<library>-<routine>/
//! <workload>`; its kernel record names the library and version. It is never part of a WGSL
//! capability figure.
//!
//! On a CPU adapter the vendor library is the host's tuned SGEMM (the `gemm` crate, in-process,
//! on every core), measured here with raw samples and a verified output. GPU vendor libraries
//! (cuBLAS) are measured by `scripts/vendor-cublas.py`, which writes cases of the same shape.

use crate::kernels::VENDOR_FAMILY;
use crate::measure::backend::TimingConfig;
use crate::measure::verify::{FloatReference, MatmulShape};
use crate::results::{
    derive_timing, AdapterRecord, Case, CaseStatus, KernelRecord, LibraryRecord, RawTiming,
};
use crate::workload::{matmul_inputs, Dtype, Op, Workload};
use sha2::{Digest, Sha256};
use std::time::Instant;

/// Version of the `gemm` crate this build links (from Cargo.lock at build time).
pub const GEMM_VERSION: &str = env!("FLEETBENCH_GEMM_VERSION");

/// Kernel id of the host SGEMM reference.
pub const HOST_SGEMM_ID: &str = "vendor/gemm-sgemm";

/// Whether `case` is a vendor-library reference rather than a WGSL measurement.
pub fn is_vendor(case: &Case) -> bool {
    case.kernel.family == VENDOR_FAMILY
}

/// The workloads the host SGEMM reference runs for a plan on `adapter`: every distinct f32
/// matmul shape of the plan when the adapter is a CPU (the host library then runs on the
/// same cores as the WGSL kernels); none on a GPU, whose library is measured by a script.
pub fn host_reference_workloads(adapter: &AdapterRecord, planned: &[Workload]) -> Vec<Workload> {
    if !adapter.device_type.is_cpu() {
        return Vec::new();
    }
    let mut out: Vec<Workload> = planned
        .iter()
        .filter(|w| w.op == Op::Matmul)
        .map(|w| Workload {
            dtype: Dtype::F32,
            ..*w
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The library record of the host SGEMM.
pub fn host_sgemm_library() -> LibraryRecord {
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    LibraryRecord {
        name: "gemm".to_string(),
        version: GEMM_VERSION.to_string(),
        routine: "sgemm".to_string(),
        notes: format!(
            "Rust crate gemm in-process, row-major C = A·B in f32, {threads} threads (rayon)"
        ),
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

/// C = A·B with the `gemm` crate on every core; `a` is m×k, `b` k×n, `c` m×n, row-major.
fn host_sgemm(a: &[f32], b: &[f32], c: &mut [f32], (m, n, k): (usize, usize, usize)) {
    assert!(a.len() >= m * k && b.len() >= k * n && c.len() >= m * n);
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
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
            gemm::Parallelism::Rayon(threads),
        );
    }
}

/// The case id of the host SGEMM reference on `w`.
pub fn host_sgemm_case_id(w: &Workload) -> String {
    format!("{HOST_SGEMM_ID}/{}", w.key())
}

/// Measures the host SGEMM on `w` (an f32 matmul) like a WGSL case: one verified call, warm-up
/// by time, then `timing.samples` samples of enough calls to last `timing.target_sample`.
pub fn run_host_sgemm(w: &Workload, timing: &TimingConfig, seed: u64) -> Case {
    let mut case = Case {
        id: host_sgemm_case_id(w),
        workload: *w,
        kernel: vendor_record(HOST_SGEMM_ID, host_sgemm_library()),
        status: CaseStatus::Skipped,
        reason: None,
        seed,
        verification: None,
        timing: None,
        tuning: None,
        sampling: None,
    };
    if w.op != Op::Matmul || w.dtype != Dtype::F32 || w.m == 0 || w.n == 0 || w.k == 0 {
        case.reason = Some(format!("the host SGEMM does not compute {}", w.key()));
        return case;
    }
    let bytes = 4 * (w.m * w.k + w.k * w.n + w.m * w.n);
    if let Some(cap) = timing.max_memory.filter(|cap| bytes > *cap) {
        case.reason = Some(format!("needs about {bytes} bytes; --max-memory is {cap}"));
        return case;
    }
    let dims = (w.m as usize, w.n as usize, w.k as usize);
    let (a, b) = matmul_inputs(w.m, w.n, w.k, seed);
    let mut c = vec![f32::NAN; dims.0 * dims.1];
    let first = Instant::now();
    host_sgemm(&a, &b, &mut c, dims);
    let first_s = first.elapsed().as_secs_f64();
    let shape = MatmulShape {
        m: dims.0,
        n: dims.1,
        k: dims.2,
    };
    let verification = FloatReference::new(&a, &b, shape, Dtype::F32.tolerance(), seed)
        .map(|reference| reference.check(&c));
    let failure = match &verification {
        Ok(v) => v.failure(),
        Err(e) => Some(e.to_string()),
    };
    case.verification = verification.ok();
    if let Some(why) = failure {
        case.status = CaseStatus::Failed;
        case.reason = Some(format!("verification failed: {why}"));
        return case;
    }
    let raw = sample_host_sgemm(&a, &b, &mut c, dims, first_s, timing);
    match derive_timing(w, raw) {
        Ok(t) => {
            case.status = CaseStatus::Passed;
            case.timing = Some(t);
        }
        Err(e) => {
            case.status = CaseStatus::Failed;
            case.reason = Some(e.to_string());
        }
    }
    case
}

/// Warm-up by time, then the timed samples (seconds per call).
fn sample_host_sgemm(
    a: &[f32],
    b: &[f32],
    c: &mut [f32],
    dims: (usize, usize, usize),
    first_s: f64,
    timing: &TimingConfig,
) -> RawTiming {
    let start = Instant::now();
    let (mut per_call, mut warmup) = (first_s, 1u32);
    while start.elapsed() < timing.warmup {
        let t = Instant::now();
        host_sgemm(a, b, c, dims);
        per_call = t.elapsed().as_secs_f64();
        warmup += 1;
    }
    let target = timing.target_sample.as_secs_f64();
    let per_sample = (target / per_call.max(1e-9)).ceil().clamp(1.0, 1000.0) as u32;
    let host_s = (0..timing.samples.max(1))
        .map(|_| {
            let t = Instant::now();
            for _ in 0..per_sample {
                host_sgemm(a, b, c, dims);
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
    use crate::results::DeviceType;
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
        let case = run_host_sgemm(&w, &quick(), 7);
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
        let case = run_host_sgemm(&w, &quick(), 1);
        assert_eq!(case.status, CaseStatus::Skipped);
        assert!(case.reason.unwrap().contains("does not compute"));
        let mut capped = quick();
        capped.max_memory = Some(10);
        let case = run_host_sgemm(&Workload::matmul(Dtype::F32, 8, 8, 8), &capped, 1);
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
        cpu.device_type = DeviceType::Cpu;
        assert_eq!(host_reference_workloads(&cpu, &shapes).len(), 2);
        assert!(host_reference_workloads(&fake_adapter("gpu"), &shapes).is_empty());
    }
}
