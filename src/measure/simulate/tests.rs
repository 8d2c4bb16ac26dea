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
    let err = SimulatedBackend::new("a100", 1).err().unwrap().to_string();
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
    let copy = Workload {
        op: Op::Copy,
        dtype: Dtype::F32,
        m: 1 << 28,
        n: 1,
        k: 1,
    };
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
    let mut backend = SimulatedBackend::new("h200-sxm", 1).unwrap();
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
    let mut backend = SimulatedBackend::new("mi300x", 1).unwrap();
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
