//! Side by side, in one process on the same cores: the best autotuned WGSL f32 matmul on the
//! (software) adapter against a tuned CPU SGEMM (the `gemm` crate, measured as fleetbench's
//! vendor reference), the WGSL FMA-peak kernel against a native 256-bit FMA loop on every core,
//! and the best verified WGSL copy and triad against the host stream reference of the same
//! bytes. The host references use as many threads as lavapipe (`LP_NUM_THREADS`, else every
//! core). Prints the ratios; each matmul ratio, and each winning copy's and triad's, is against
//! the mean of the host reference measured right before and right after the WGSL kernel, so
//! drift on a shared host weighs on both sides.
//!
//! `cargo bench --bench side_by_side` (sizes: `FLEETBENCH_SIDE_SIZES=1024,2048`; copies that
//! fit the caches: `FLEETBENCH_SIDE_STREAM_MIB=1,8`; `FLEETBENCH_SIDE_SKIP=matmul`, `=streams`
//! or `=stream-search` leaves a part out). On a machine
//! whose adapter is a real GPU the ratios compare different hardware and mean little.

use fleetbench::gpu::{open_device, AdapterSelector, WgpuBackend};
use fleetbench::kernels::{ceiling_cases, Kernel, KernelConfig};
use fleetbench::measure::backend::{Backend, CaseSpec, TimingConfig};
use fleetbench::measure::host_refs;
use fleetbench::measure::tune;
use fleetbench::stats::Sample;
use fleetbench::workload::{Dtype, Op, Workload};
use std::time::{Duration, Instant};

fn sizes() -> Vec<u64> {
    std::env::var("FLEETBENCH_SIDE_SIZES")
        .ok()
        .map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .filter(|v: &Vec<u64>| !v.is_empty())
        .unwrap_or_else(|| vec![1024, 2048])
}

fn timing() -> TimingConfig {
    TimingConfig {
        warmup: Duration::from_millis(300),
        samples: 7,
        target_sample: Duration::from_millis(50),
        ..TimingConfig::default()
    }
}

/// Median GFLOP/s of the `gemm` crate's SGEMM on the host references' threads, C = A·B
/// row-major: the same verified, sampled measurement `fleetbench run` records as
/// `vendor/gemm-sgemm/…`.
fn cpu_sgemm_gflops(n: u64) -> f64 {
    let w = Workload::matmul(Dtype::F32, n, n, n);
    let threads = host_refs::host_threads();
    let case = host_refs::run_host_sgemm(&w, &timing(), 5, threads);
    case.passed_throughput()
        .map_or(f64::NAN, |s| s.median.value)
}

/// Median GB/s (bytes read + written) of the host stream reference on `workload` (a copy or
/// triad): the same verified, sampled measurement `fleetbench run` records as
/// `vendor/host-copy/…` and `vendor/host-triad/…`.
fn host_stream_gbps(workload: &Workload) -> f64 {
    let threads = host_refs::host_threads();
    let case = host_refs::run_host_stream(workload, &timing(), 4, threads);
    case.passed_throughput()
        .map_or(f64::NAN, |s| s.median.value)
}

fn median(v: &[f64]) -> f64 {
    Sample::new(v).map(|s| s.median()).unwrap_or(f64::NAN)
}

/// Median GFLOP/s of a native FMA loop on every core: 12 independent 256-bit FMA chains per
/// thread (x86-64 with AVX2+FMA; elsewhere a scalar mul_add loop the compiler vectorises).
fn native_fma_gflops() -> f64 {
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    let iters: u64 = 20_000_000;
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let sums: Vec<f32> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads)
                .map(|t| s.spawn(move || fma_loop(iters, t as f32)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(f32::NAN))
                .collect()
        });
        times.push(start.elapsed().as_secs_f64());
        assert!(
            sums.iter().all(|v| v.is_finite()),
            "the FMA loop's checksum is not finite"
        );
    }
    let flops = threads as f64 * iters as f64 * 12.0 * 8.0 * 2.0;
    flops / median(&times) / 1e9
}

#[cfg(target_arch = "x86_64")]
fn fma_loop(iters: u64, seed: f32) -> f32 {
    if is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma") {
        // SAFETY: the features were detected at run time.
        unsafe { fma_loop_avx2(iters, seed) }
    } else {
        f32::NAN
    }
}

#[cfg(not(target_arch = "x86_64"))]
fn fma_loop(_iters: u64, _seed: f32) -> f32 {
    f32::NAN
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn fma_loop_avx2(iters: u64, seed: f32) -> f32 {
    use std::arch::x86_64::*;
    let m = _mm256_set1_ps(std::hint::black_box(1.0));
    let d = _mm256_set1_ps(std::hint::black_box(1e-7));
    let mut acc = [_mm256_set1_ps(seed); 12];
    for (i, a) in acc.iter_mut().enumerate() {
        *a = _mm256_add_ps(*a, _mm256_set1_ps(i as f32));
    }
    for _ in 0..iters {
        for a in acc.iter_mut() {
            *a = _mm256_fmadd_ps(*a, m, d);
        }
    }
    let mut total = _mm256_setzero_ps();
    for a in acc {
        total = _mm256_add_ps(total, a);
    }
    let mut out = [0.0f32; 8];
    _mm256_storeu_ps(out.as_mut_ptr(), total);
    out.iter().sum()
}

fn wgsl_median(backend: &mut WgpuBackend, spec: &CaseSpec, timing: &TimingConfig) -> Option<f64> {
    let case = backend.run_case(spec, timing);
    match case.passed_throughput() {
        Some(s) => Some(s.median.value),
        None => {
            eprintln!(
                "{}: {:?} {}",
                spec.id(),
                case.status,
                case.reason.unwrap_or_default()
            );
            None
        }
    }
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let ctx = match open_device(&AdapterSelector::Best, None) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("side_by_side: skipped: {e}");
            return;
        }
    };
    let mut backend = WgpuBackend::new(ctx);
    println!("adapter: {}", backend.adapter().name);
    if wanted("peak") {
        compare_peak(&mut backend);
    }
    if wanted("streams") {
        if wanted("stream-search") {
            compare_streams(&mut backend);
        }
        compare_cached_copies(&mut backend);
    }
    if wanted("matmul") {
        compare_matmul(&mut backend);
    }
}

/// Whether `FLEETBENCH_SIDE_SKIP` (comma-separated: peak, streams, stream-search — the
/// device-sized search only, keeping the cache-sized copies —, matmul) leaves `part` in.
fn wanted(part: &str) -> bool {
    let skip = std::env::var("FLEETBENCH_SIDE_SKIP").unwrap_or_default();
    !skip.split(',').any(|s| s.trim() == part)
}

/// The WGSL f32 FMA-peak kernel against the native FMA loop.
fn compare_peak(backend: &mut WgpuBackend) {
    let peak = ceiling_cases(backend.adapter())
        .into_iter()
        .find(|(w, _)| w.op == Op::PeakFma && w.dtype == Dtype::F32);
    if let Some((workload, kernel)) = peak {
        let spec = CaseSpec {
            workload,
            kernel,
            seed: 1,
        };
        let wgsl = wgsl_median(backend, &spec, &timing());
        let native = native_fma_gflops();
        print_ratio(
            "FMA peak f32",
            wgsl,
            native,
            "native 256-bit FMA loop",
            "GFLOP/s",
        );
    }
}

/// The bounds-check settings the matmul comparison runs, from `FLEETBENCH_SIDE_MATMUL_CHECKS`
/// (`on`, `off` or `on,off`; default `on`).
fn matmul_check_settings() -> Vec<bool> {
    let wanted = std::env::var("FLEETBENCH_SIDE_MATMUL_CHECKS").unwrap_or_default();
    let settings: Vec<bool> = wanted
        .split(',')
        .filter_map(|s| match s.trim() {
            "on" => Some(true),
            "off" => Some(false),
            _ => None,
        })
        .collect();
    if settings.is_empty() {
        vec![true]
    } else {
        settings
    }
}

/// The best autotuned WGSL f32 matmul against the host SGEMM at every size, for each
/// bounds-check setting asked for.
fn compare_matmul(backend: &mut WgpuBackend) {
    for bounds_checks in matmul_check_settings() {
        let timing = TimingConfig {
            bounds_checks,
            ..timing()
        };
        let checks = if bounds_checks {
            "checked"
        } else {
            "unchecked"
        };
        let Some(best) = search_matmul(backend, &timing, checks) else {
            continue;
        };
        for n in sizes() {
            let w = Workload::matmul(Dtype::F32, n, n, n);
            let spec = CaseSpec {
                workload: w,
                kernel: best.clone(),
                seed: 3,
            };
            // The SGEMM right before and right after the WGSL kernel, averaged, so a load
            // that rises or falls during the pair (a shared host) weighs on both sides alike.
            let cpu_before = cpu_sgemm_gflops(n);
            let wgsl = wgsl_median(backend, &spec, &timing);
            let cpu_after = cpu_sgemm_gflops(n);
            println!(
                "matmul f32 {n}^3 {checks}: gemm crate SGEMM before {cpu_before:.1}, after {cpu_after:.1} GFLOP/s"
            );
            let what = format!("matmul f32 {n}^3 {checks}");
            let cpu = 0.5 * (cpu_before + cpu_after);
            print_ratio(
                &what,
                wgsl,
                cpu,
                "gemm crate SGEMM (mean of before and after)",
                "GFLOP/s",
            );
        }
    }
}

/// Searches the f32 candidates once at the smallest size (the verification of every candidate
/// dominates at large sizes), printing every candidate's median; returns the winner.
fn search_matmul(
    backend: &mut WgpuBackend,
    timing: &TimingConfig,
    checks: &str,
) -> Option<KernelConfig> {
    let candidates = tune::candidates(backend.adapter(), Dtype::F32);
    let n0 = sizes().into_iter().min().unwrap_or(1024);
    let w0 = Workload::matmul(Dtype::F32, n0, n0, n0);
    let trial = tune::trial_timing(timing);
    let record = tune::search(backend, &candidates, w0, &trial, 2, String::new());
    for t in record.iter().flat_map(|r| &r.trials) {
        let median = t
            .median
            .map_or("-".to_string(), |m| format!("{m:.1} GFLOP/s"));
        println!(
            "matmul {n0}^3 {checks} {} {:?}: {median}",
            t.kernel, t.overrides
        );
    }
    let best = record.and_then(|r| tune::chosen_config(&r, &candidates));
    match &best {
        Some(b) => println!(
            "matmul {checks}: best of {} candidates at {n0}^3: {} {:?}",
            candidates.len(),
            b.id(),
            b.overrides
        ),
        None => println!("matmul {checks}: no candidate verified"),
    }
    best
}

/// The best verified copy and triad variants at the device-sized ceiling workloads, with
/// naga's bounds checks on and off, against the host stream reference of the same bytes on the
/// same threads: each variant against the mean of the host measured before and after the
/// search, the winner re-measured against the mean of the host right before and right after it.
fn compare_streams(backend: &mut WgpuBackend) {
    let streams: Vec<_> = ceiling_cases(backend.adapter())
        .into_iter()
        .filter(|(w, _)| matches!(w.op, Op::Copy | Op::Triad))
        .collect();
    for (workload, kernel) in streams {
        for bounds_checks in [true, false] {
            let timing = TimingConfig {
                bounds_checks,
                ..timing()
            };
            let checks = if bounds_checks {
                "checked"
            } else {
                "unchecked"
            };
            let what = format!("{} {} MiB {checks}", workload.op, (workload.m * 4) >> 20);
            // The host reference before and after the search, so every variant's ratio has a
            // reference from the same minutes of this (possibly shared) machine.
            let host_before = host_stream_gbps(&workload);
            let found = tune::search_bandwidth(backend, workload, kernel.kernel, &timing, 4);
            let host_around = 0.5 * (host_before + host_stream_gbps(&workload));
            let Some((best, record)) = found else {
                println!("{what}: no variant verified");
                continue;
            };
            for t in &record.trials {
                let median = t.median.map_or("-".to_string(), |m| {
                    format!("{m:.1} GB/s, {:.1}% of host", 100.0 * m / host_around)
                });
                println!("{what} variant {}: {median}", variant_name(&t.overrides));
            }
            let winner = variant_name(&best.overrides);
            let spec = CaseSpec {
                workload,
                kernel: best,
                seed: 4,
            };
            // The host right before and right after the winner, averaged (as for matmul).
            let before = host_stream_gbps(&workload);
            let case = backend.run_case(&spec, &timing);
            let wgsl = case.passed_throughput().map(|s| s.median.value);
            let after = host_stream_gbps(&workload);
            println!("{what} winner {winner}: host before {before:.1}, after {after:.1} GB/s");
            let against = format!(
                "host {} on {} thread(s) (mean of before and after)",
                workload.op,
                host_refs::host_threads()
            );
            print_ratio(&what, wgsl, 0.5 * (before + after), &against, "GB/s");
        }
    }
}

/// A bandwidth variant's parameters in one short line: `WG_X=256 VEC=4 PER=1 TEX=1`.
fn variant_name(overrides: &std::collections::BTreeMap<String, f64>) -> String {
    ["WG_X", "VEC", "PER", "TEX"]
        .iter()
        .map(|k| format!("{k}={}", overrides.get(*k).copied().unwrap_or(0.0)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Copies of `FLEETBENCH_SIDE_STREAM_MIB` (comma-separated MiB per buffer, e.g. `1,8`: sizes
/// that fit a core's L2 or the shared L3) with the default buffer-fed kernel, the texture-fed
/// one and the 64-bit one, each against the host copy of the same bytes measured right after:
/// a kernel whose rate does not rise when the bytes fit a cache is bound by its instructions.
fn compare_cached_copies(backend: &mut WgpuBackend) {
    let sizes: Vec<u64> = std::env::var("FLEETBENCH_SIDE_STREAM_MIB")
        .ok()
        .map(|s| s.split(',').filter_map(|v| v.trim().parse().ok()).collect())
        .unwrap_or_default();
    for mib in sizes {
        let workload = Workload::stream(Op::Copy, (mib << 20) / 4);
        let variants = [
            [("WG_X", 256), ("VEC", 4), ("PER", 1), ("TEX", 0)],
            [("WG_X", 256), ("VEC", 4), ("PER", 1), ("TEX", 1)],
            [("WG_X", 1024), ("VEC", 8), ("PER", 4), ("TEX", 0)],
        ];
        for values in variants {
            let kernel = KernelConfig::new(Kernel::Copy, &values);
            let what = format!("copy {mib} MiB {}", variant_name(&kernel.overrides));
            let spec = CaseSpec {
                workload,
                kernel,
                seed: 4,
            };
            let wgsl = wgsl_median(backend, &spec, &timing());
            let host = host_stream_gbps(&workload);
            let against = format!("host copy on {} thread(s)", host_refs::host_threads());
            print_ratio(&what, wgsl, host, &against, "GB/s");
        }
    }
}

fn print_ratio(what: &str, wgsl: Option<f64>, native: f64, against: &str, unit: &str) {
    match wgsl {
        Some(g) => println!(
            "{what}: WGSL {g:.1} {unit}, {against} {native:.1} {unit}, ratio {:.1}%",
            100.0 * g / native
        ),
        None => println!("{what}: WGSL case did not pass; {against} {native:.1} {unit}"),
    }
}
