//! The simulated devices: their records, their speed model, and real verification of their
//! outputs at device sizes.

use super::*;
use crate::kernels::{default_matmul_configs, Kernel, KernelConfig};
use crate::results::{DeviceType, VerifyMethod};
use std::time::Duration;

fn quick() -> TimingConfig {
    TimingConfig {
        warmup: Duration::from_millis(50),
        samples: 3,
        ..TimingConfig::default()
    }
}

fn spec(kernel: KernelConfig, dtype: Dtype, n: u64) -> CaseSpec {
    CaseSpec {
        workload: Workload::matmul(dtype, n, n, n),
        kernel,
        seed: 3,
    }
}

#[test]
fn every_profile_reports_a_device_of_its_kind() {
    for id in PROFILE_IDS {
        let p = profile(id).unwrap();
        assert_eq!(p.id, id);
        assert_eq!(p.adapter.backend, "simulated");
        assert!(!p.sources.is_empty() && p.fp32_tflops > 0.0);
    }
    let h200 = profile("h200-sxm").unwrap().adapter;
    assert_eq!(h200.device_type, DeviceType::DiscreteGpu);
    assert!(h200.has_feature("cooperative_matrix"));
    assert_eq!(h200.limits.min_subgroup_size, 32);
    let laptop = profile("iris-xe").unwrap().adapter;
    assert_eq!(laptop.device_type, DeviceType::IntegratedGpu);
    assert!(laptop.cooperative_matrix.is_empty());
    let err = SimulatedBackend::new("a100", 1, Pacing::Instant)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("h200-sxm") && err.contains("a100"), "{err}");
}

#[test]
fn the_speed_model_rewards_reuse_and_ramps_its_clocks() {
    let h200 = profile("h200-sxm").unwrap();
    let tiled = |tm: u32, tn: u32| {
        let k = KernelConfig::new(
            Kernel::MatmulTiled,
            &[("BM", 128), ("BN", 128), ("BK", 16), ("TM", tm), ("TN", tn)],
        );
        model::dispatch_s(&h200, &spec(k, Dtype::F32, 8192))
    };
    assert!(tiled(8, 8) < tiled(4, 4));
    assert!(model::slowdown(0.0) > 1.5 && model::slowdown(60.0) < 1.05);
    let copy = Workload::stream(Op::Copy, 1 << 28);
    let naive = default_matmul_configs()[0].clone();
    let t = model::dispatch_s(
        &h200,
        &CaseSpec {
            workload: copy,
            kernel: naive,
            seed: 1,
        },
    );
    let tbs = copy.bytes() / t / 1e12;
    assert!((3.5..4.8).contains(&tbs), "{tbs}");
}

#[test]
fn a_cooperative_matmul_runs_at_tensor_rates_and_is_verified_for_real() {
    let mut backend = SimulatedBackend::new("h200-sxm", 1, Pacing::Instant).unwrap();
    let coop = KernelConfig::new(Kernel::MatmulCoopF16, &[]);
    let case = backend.run_case(&spec(coop, Dtype::F16, 2048), &quick());
    assert_eq!(case.status, CaseStatus::Passed, "{case:?}");
    let v = case.verification.as_ref().unwrap();
    assert_eq!(v.method, VerifyMethod::Freivalds);
    assert!(v.host_s.is_some());
    let rate = case.timing.unwrap().throughput.median.value;
    // Above the FP32 peak (66.9 TFLOP/s): only the matrix units reach this.
    assert!(rate > 66_900.0, "{rate} GFLOP/s");
    assert!(backend.clock_s() > 0.05);
}

#[test]
fn integer_outputs_are_checked_exactly() {
    let mut backend = SimulatedBackend::new("mi300x", 1, Pacing::Instant).unwrap();
    let int8 = KernelConfig::new(Kernel::MatmulInt8, &[]);
    let case = backend.run_case(&spec(int8, Dtype::I8, 1024), &quick());
    assert_eq!(case.status, CaseStatus::Passed, "{case:?}");
    let v = case.verification.unwrap();
    assert_eq!((v.method, v.rel_error), (VerifyMethod::Freivalds, 0.0));
}

#[test]
fn low_rank_products_are_the_true_products() {
    let [a, b, c] = lowrank::float_product(24, 20, 36, 5);
    let want = crate::workload::matmul_reference(&a, &b, 24, 20, 36);
    assert!(c.iter().zip(&want).all(|(g, w)| f64::from(*g) == *w));
    let (a, b, c) = lowrank::int_product(24, 20, 36, 5);
    assert_eq!(c, crate::workload::int8_reference(&a, &b, 24, 20, 36));
}

/// Every matmul configuration a run can try (the defaults and the whole search space) at
/// tuning, device and transformer shapes; kernels the device cannot run are left out.
fn every_matmul_case(p: &Profile) -> Vec<CaseSpec> {
    let mut kernels = default_matmul_configs();
    for dtype in [Dtype::F32, Dtype::F16, Dtype::I8] {
        kernels.extend(crate::measure::tune::candidates(&p.adapter, dtype));
    }
    let shapes = [(512, 512, 512), (2048, 2048, 2048), (16384, 16384, 16384)];
    let shapes = shapes
        .into_iter()
        .chain([(4096, 12288, 4096), (8192, 1024, 8192)]);
    let shapes: Vec<_> = shapes.collect();
    kernels.retain(|k| k.unsupported_reason(&p.adapter).is_none());
    kernels
        .iter()
        .flat_map(|k| {
            shapes.iter().map(|&(m, n, kk)| CaseSpec {
                workload: Workload::matmul(k.dtype(), m, n, kk),
                kernel: k.clone(),
                seed: 1,
            })
        })
        .collect()
}

#[test]
fn no_kernel_outruns_the_units_it_runs_on() {
    for id in PROFILE_IDS {
        let p = profile(id).unwrap();
        let cases = every_matmul_case(&p);
        assert!(cases
            .iter()
            .any(|c| c.kernel.kernel == Kernel::MatmulTiledF16));
        for case in cases {
            let w = case.workload;
            let rate = w.flops() / (model::dispatch_s(&p, &case) - model::DISPATCH_OVERHEAD_S);
            let coop = case.kernel.kernel == Kernel::MatmulCoopF16;
            let ceiling = if coop {
                model::matrix_peak(&p)
            } else {
                model::vector_peak(&p, w.dtype)
            };
            let label = format!(
                "{id} {} {:?} {w:?}",
                case.kernel.id(),
                case.kernel.overrides
            );
            assert!(
                rate <= ceiling * (1.0 + 1e-9),
                "{label}: {rate:e} > {ceiling:e}"
            );
        }
    }
    let h200 = profile("h200-sxm").unwrap();
    assert!((model::vector_peak(&h200, Dtype::F16) / 133.8e12 - 1.0).abs() < 1e-12);
    assert!(model::matrix_peak(&h200) > 5.0 * model::vector_peak(&h200, Dtype::F16));
}

#[test]
fn tuning_trials_record_the_seconds_their_checks_took() {
    // Trials are verified like cases (tuning searches at 2048³, where the check is O(n²)), so
    // a file counts their checks too: every candidate that produced an output says how long.
    let mut backend = SimulatedBackend::new("h200-sxm", 1, Pacing::Instant).unwrap();
    let cands = crate::measure::tune::candidates(backend.adapter(), Dtype::F32);
    let w = Workload::matmul(Dtype::F32, 256, 256, 256);
    let record =
        crate::measure::tune::search::search(&mut backend, &cands, w, &quick(), 3, "k".into())
            .unwrap();
    let passed: Vec<_> = record
        .trials
        .iter()
        .filter(|t| t.status == CaseStatus::Passed)
        .collect();
    assert!(!passed.is_empty());
    for trial in passed {
        assert!(
            trial.verification_host_s.is_some_and(|s| s >= 0.0),
            "{trial:?}"
        );
    }
}

#[test]
fn a_device_paced_in_real_time_takes_its_simulated_time() {
    // Sleeping never returns early, so this lower bound holds on any host; an instantly paced
    // backend passes a 0.3 s warm-up in well under a millisecond of real time.
    let mut backend = SimulatedBackend::new("h200-sxm", 1, Pacing::RealTime).unwrap();
    let timing = TimingConfig {
        warmup: Duration::from_millis(300),
        ..quick()
    };
    let naive = default_matmul_configs()[0].clone();
    let started = std::time::Instant::now();
    let case = backend.run_case(&spec(naive, Dtype::F32, 256), &timing);
    assert_eq!(case.status, CaseStatus::Passed, "{case:?}");
    assert!(backend.clock_s() >= 0.3, "{}", backend.clock_s());
    assert!(started.elapsed().as_secs_f64() >= backend.clock_s() - 1e-6);
}
