//! `run --simulate`: every GPU-only code path (workgroup-tiled and cooperative-matrix search
//! spaces, device-sized shapes verified in O(n²), 100+ TFLOP/s rates) runs in CI on simulated
//! data-centre GPUs, and the file says it was simulated.

use crate::common::{fleetbench, run_into, tempdir};
use fleetbench::results::{CaseStatus, DeviceType, ResultFile, VerifyMethod};

fn trial_kernels(file: &ResultFile, dtype: &str) -> Vec<String> {
    file.cases
        .iter()
        .filter(|c| c.workload.dtype.to_string() == dtype)
        .filter_map(|c| c.tuning.as_ref())
        .flat_map(|t| t.trials.iter().map(|trial| trial.kernel.clone()))
        .collect()
}

#[test]
fn every_profile_runs_the_quick_suite_and_says_it_was_simulated() {
    let dir = tempdir();
    for profile in ["h100-sxm", "h200-sxm", "mi300x", "iris-xe"] {
        let path = dir.path().join(format!("{profile}.json"));
        let file = run_into(&["--simulate", profile, "--quick", "--quiet"], &[], &path);
        assert!(file.machine.simulated, "{profile}");
        assert_eq!(file.machine.adapter.backend, "simulated");
        let gpu = file.machine.adapter.device_type;
        assert!(matches!(
            gpu,
            DeviceType::DiscreteGpu | DeviceType::IntegratedGpu
        ));
        assert!(
            file.cases.iter().all(|c| c.status != CaseStatus::Failed),
            "{profile}"
        );
        assert!(trial_kernels(&file, "f32")
            .iter()
            .any(|k| k == "matmul_tiled"));
    }
    let h200 = fleetbench::results::load(&dir.path().join("h200-sxm.json")).unwrap();
    assert!(trial_kernels(&h200, "f16")
        .iter()
        .any(|k| k == "matmul_coop_f16"));
}

#[test]
fn device_sized_shapes_are_verified_in_o_n_squared_at_tensor_rates() {
    let dir = tempdir();
    let path = dir.path().join("h200.json");
    let args = [
        "--simulate",
        "h200-sxm",
        "--kernels",
        "tuned",
        "--sizes",
        "4096",
    ];
    let file = run_into(
        &[&args[..], &["--quiet", "--samples", "10"]].concat(),
        &[],
        &path,
    );
    let mut fastest = 0.0f64;
    for case in file
        .cases
        .iter()
        .filter(|c| c.workload.op.to_string() == "matmul")
    {
        assert_eq!(case.status, CaseStatus::Passed, "{case:?}");
        let v = case.verification.as_ref().unwrap();
        assert_eq!(v.method, VerifyMethod::Freivalds, "{}", case.id);
        fastest = fastest.max(case.timing.as_ref().unwrap().throughput.median.value);
    }
    assert!(fastest > 100_000.0, "{fastest} GFLOP/s");
}

#[test]
fn an_unknown_profile_is_refused_with_the_known_ones() {
    let out = fleetbench()
        .args(["run", "--simulate", "a100", "--quick"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a100") && err.contains("h200-sxm"), "{err}");
}

#[test]
fn real_time_pacing_without_a_simulated_device_is_refused() {
    // `--simulate-realtime` paces simulated device time only: on a GPU it would do nothing.
    let out = fleetbench()
        .args(["run", "--simulate-realtime", "--quick"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--simulate"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
