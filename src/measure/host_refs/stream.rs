//! The host bandwidth reference: a copy (`dst = src`) and a STREAM triad (`a = b + s·c`) of the
//! same f32 elements, with the same inputs, as the WGSL copy and triad cases, split over the
//! host threads in contiguous slices. On a CPU adapter the WGSL kernels move the same bytes
//! through the same caches and memory, so WGSL ÷ host says how much of the machine's bandwidth
//! the driver's generated code reaches.

use super::{
    finish_case, over_memory_cap, record_verification, sample_calls, unmeasured_case, vendor_record,
};
use crate::measure::backend::TimingConfig;
use crate::results::{Case, LibraryRecord, Verification};
use crate::workload::{relative_frobenius_error, stream_values, Dtype, Op, Workload, TRIAD_SCALE};
use rayon::prelude::*;
use std::time::Instant;

/// Kernel id of the host copy reference.
pub const HOST_COPY_ID: &str = "vendor/host-copy";

/// Kernel id of the host triad reference.
pub const HOST_TRIAD_ID: &str = "vendor/host-triad";

/// Elements per cache line: each thread's slice starts on a line boundary (of an aligned
/// buffer), so no two threads write the same line.
const LINE_ELEMENTS: usize = 16;

/// The library record of the host stream reference for `op` on `threads` threads.
fn stream_library(op: Op, threads: usize) -> LibraryRecord {
    let (routine, what) = match op {
        Op::Triad => ("triad", "a = b + 3·c"),
        _ => ("copy", "dst.copy_from_slice(src)"),
    };
    LibraryRecord {
        name: "host".to_string(),
        version: env!("CARGO_PKG_VERSION").to_string(),
        routine: routine.to_string(),
        notes: format!(
            "fleetbench's host stream in Rust: {what} in f32, one contiguous slice per thread, \
             {threads} host thread(s) (rayon)"
        ),
        host_threads: Some(u32::try_from(threads).unwrap_or(u32::MAX)),
    }
}

/// Per-thread slice length for `len` elements on `threads` threads, a whole number of lines.
fn slice_len(len: usize, threads: usize) -> usize {
    len.div_ceil(threads.max(1)).div_ceil(LINE_ELEMENTS).max(1) * LINE_ELEMENTS
}

/// `dst = src` over the pool's threads.
fn host_copy(pool: &rayon::ThreadPool, src: &[f32], dst: &mut [f32], threads: usize) {
    let chunk = slice_len(dst.len(), threads);
    pool.install(|| {
        dst.par_chunks_mut(chunk)
            .zip(src.par_chunks(chunk))
            .for_each(|(d, s)| d.copy_from_slice(s));
    });
}

/// `a = b + TRIAD_SCALE·c` over the pool's threads.
fn host_triad(pool: &rayon::ThreadPool, b: &[f32], c: &[f32], a: &mut [f32], threads: usize) {
    let chunk = slice_len(a.len(), threads);
    pool.install(|| {
        a.par_chunks_mut(chunk)
            .zip(b.par_chunks(chunk).zip(c.par_chunks(chunk)))
            .for_each(|(a, (b, c))| {
                for ((a, b), c) in a.iter_mut().zip(b).zip(c) {
                    *a = b + TRIAD_SCALE * c;
                }
            });
    });
}

/// The output check: exact for a copy, within f32 rounding of the f64 triad.
fn check_stream(out: &[f32], b: &[f32], c: Option<&[f32]>) -> Verification {
    let want: Vec<f64> = match c {
        None => b.iter().map(|v| f64::from(*v)).collect(),
        Some(c) => b
            .iter()
            .zip(c)
            .map(|(b, c)| f64::from(*b) + f64::from(TRIAD_SCALE) * f64::from(*c))
            .collect(),
    };
    Verification {
        rel_error: relative_frobenius_error(out, &want),
        tolerance: if c.is_none() { 0.0 } else { 1e-6 },
        reference: "cpu_f64".to_string(),
        checked_elements: out.len() as u64,
        total_elements: out.len() as u64,
        ..Verification::default()
    }
}

/// Measures the host copy or triad of `w` (f32, `w.m` elements) on `threads` threads like a
/// WGSL case: one verified call on a poisoned output, warm-up by time, then the samples.
pub fn run_host_stream(w: &Workload, timing: &TimingConfig, seed: u64, threads: usize) -> Case {
    let id = match w.op {
        Op::Triad => HOST_TRIAD_ID,
        _ => HOST_COPY_ID,
    };
    let kernel = vendor_record(id, stream_library(w.op, threads));
    let mut case = unmeasured_case(format!("{id}/{}", w.key()), w, kernel, seed);
    if !matches!(w.op, Op::Copy | Op::Triad) || w.dtype != Dtype::F32 || w.m == 0 {
        case.reason = Some(format!("the host stream does not compute {}", w.key()));
        return case;
    }
    if let Some(reason) = over_memory_cap(w.bytes() as u64, timing) {
        case.reason = Some(reason);
        return case;
    }
    let pool = match rayon::ThreadPoolBuilder::new().num_threads(threads).build() {
        Ok(pool) => pool,
        Err(e) => {
            case.reason = Some(format!("cannot start {threads} host threads: {e}"));
            return case;
        }
    };
    // The same inputs as the WGSL case of the same seed (see `stream_values`).
    let b = stream_values(w.m, seed);
    let c = (w.op == Op::Triad).then(|| stream_values(w.m, seed.wrapping_add(1)));
    let mut out = vec![f32::NAN; b.len()];
    let call = |out: &mut [f32]| match &c {
        None => host_copy(&pool, &b, out, threads),
        Some(c) => host_triad(&pool, &b, c, out, threads),
    };
    let first = Instant::now();
    call(&mut out);
    let first_s = first.elapsed().as_secs_f64();
    if record_verification(&mut case, check_stream(&out, &b, c.as_deref())) {
        let raw = sample_calls(|| call(&mut out), first_s, timing);
        finish_case(&mut case, raw);
    }
    case
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::CaseStatus;
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
    fn copy_and_triad_are_verified_timed_and_record_their_threads() {
        for (op, id) in [(Op::Copy, HOST_COPY_ID), (Op::Triad, HOST_TRIAD_ID)] {
            // An odd length: the last thread's slice is short.
            let case = run_host_stream(&Workload::stream(op, 10_007), &quick(), 5, 2);
            assert_eq!(case.status, CaseStatus::Passed, "{case:?}");
            assert!(case.id.starts_with(id), "{}", case.id);
            let lib = case.kernel.library.as_ref().unwrap();
            assert_eq!(lib.host_threads, Some(2));
            assert!(lib.runs_on_host());
            let v = case.verification.as_ref().unwrap();
            assert!(v.rel_error <= v.tolerance, "{v:?}");
            assert_eq!(v.checked_elements, 10_007);
            assert_eq!(case.timing.as_ref().unwrap().host_s.len(), 3);
        }
    }

    #[test]
    fn a_wrong_output_fails_the_check() {
        let b = stream_values(100, 1);
        let mut out = b.clone();
        assert_eq!(check_stream(&out, &b, None).rel_error, 0.0);
        out[99] += 1.0;
        let v = check_stream(&out, &b, None);
        assert!(v.rel_error > v.tolerance, "{v:?}");
        let c = stream_values(100, 2);
        let v = check_stream(&b, &b, Some(&c));
        assert!(v.rel_error > v.tolerance, "a copy is not a triad: {v:?}");
    }

    #[test]
    fn slices_are_whole_lines_and_cover_everything() {
        for (len, threads) in [(1, 1), (15, 2), (10_007, 2), (1 << 20, 16), (5, 64)] {
            let s = slice_len(len, threads);
            assert_eq!(s % LINE_ELEMENTS, 0);
            assert!(s * threads >= len, "{len} {threads}");
        }
    }

    #[test]
    fn other_workloads_and_capped_memory_are_skipped_with_a_reason() {
        let case = run_host_stream(&Workload::matmul(Dtype::F32, 8, 8, 8), &quick(), 1, 1);
        assert!(case.reason.unwrap().contains("does not compute"));
        let mut capped = quick();
        capped.max_memory = Some(100);
        let case = run_host_stream(&Workload::stream(Op::Triad, 1000), &capped, 1, 1);
        assert!(case.reason.unwrap().contains("--max-memory"));
    }
}
