//! End-to-end tests of `devices` and `run` on a real adapter (lavapipe on CI).

use crate::common::{fleetbench, gpu_available, run_into, tempdir};
use fleetbench::results::CaseStatus;

#[test]
fn devices_lists_an_adapter() {
    if !gpu_available() {
        return;
    }
    let out = fleetbench().args(["devices"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("vulkan") || text.contains("metal") || text.contains("dx12"),
        "{text}"
    );
}

#[test]
fn quick_run_writes_a_verified_result_file() {
    if !gpu_available() {
        return;
    }
    let dir = tempdir();
    let path = dir.path().join("r.json");
    let args = [
        "--quick",
        "--kernels",
        "matmul_naive,matmul_blocked",
        "--sizes",
        "64,48x80x32",
        "--samples",
        "5",
        "--warmup",
        "0.05",
        "--quiet",
    ];
    let file = run_into(&args, &[], &path);
    assert!(file.run.complete);
    assert_eq!(file.cases.len(), 4);
    for case in &file.cases {
        assert_eq!(case.status, CaseStatus::Passed, "{case:?}");
        let v = case.verification.as_ref().unwrap();
        assert!(v.rel_error <= 1e-4);
        let t = case.timing.as_ref().unwrap();
        assert_eq!(t.host_s.len(), 5);
        // Throughput must be the work divided by the headline median time.
        let times = t.gpu_s.as_ref().unwrap_or(&t.host_s);
        let mut sorted = times.clone();
        sorted.sort_by(f64::total_cmp);
        let gflop = case.workload.flops() / 1e9;
        assert!(t.throughput.median.value > 0.0);
        assert!((t.throughput.max - gflop / sorted[0]).abs() <= 1e-9 * t.throughput.max);
    }
}

#[test]
fn existing_output_is_not_overwritten_without_force() {
    let dir = tempdir();
    let path = dir.path().join("r.json");
    std::fs::write(&path, "keep me").unwrap();
    let out = fleetbench()
        .args(["run", "--fake", "x:10", "--sizes", "8", "--quiet", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "keep me");
}

#[test]
fn bad_flags_give_one_line_errors() {
    for args in [
        vec!["run", "--sizes", "0"],
        vec!["run", "--sizes", "12x"],
        vec!["run", "--samples", "1"],
        vec!["run", "--max-memory", "lots"],
        vec!["run", "--kernels", "nope"],
        vec!["run", "--device-from-env", "FLEETBENCH_SURELY_UNSET_VAR"],
    ] {
        let out = fleetbench().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(err.starts_with("error: "), "{err}");
        assert!(!err.contains("panicked"));
    }
}

#[test]
fn bad_device_is_a_clear_error() {
    if !gpu_available() {
        return;
    }
    let dir = tempdir();
    for device in ["99", "no-such-gpu-name"] {
        let out = fleetbench()
            .args(["run", "--quick", "--device", device, "-o"])
            .arg(dir.path().join("x.json"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--device"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
}

#[test]
fn unwritable_output_is_a_clear_error() {
    let out = fleetbench()
        .args([
            "run",
            "--fake",
            "x:10",
            "--sizes",
            "8",
            "--quiet",
            "-o",
            "/proc/fleetbench/x.json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/proc/fleetbench"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn an_io_error_names_the_file_once() {
    let dir = tempdir();
    let blocker = dir.path().join("file");
    std::fs::write(&blocker, "x").unwrap();
    let out = fleetbench()
        .args(["run", "--fake", "x:10", "--sizes", "8", "--quiet", "-o"])
        .arg(blocker.join("r.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("file"), "{err}");
}

#[test]
fn no_adapter_at_all_says_how_to_get_a_software_driver() {
    // Point the Vulkan loader at a driver list that does not exist: no Vulkan adapter remains.
    let out = fleetbench()
        .env("VK_ICD_FILENAMES", "/nonexistent/icd.json")
        .env("VK_DRIVER_FILES", "/nonexistent/icd.json")
        .args(["devices", "--backend", "vulkan"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("mesa-vulkan-drivers"), "{err}");
}

#[test]
fn bad_budgets_name_the_smallest_budget_that_works() {
    for budget in ["0", "-5", "NaN", "inf", "1"] {
        let out = fleetbench()
            .args(["run", "--fake", "x:10", "--quiet"])
            .arg(format!("--budget={budget}"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{budget}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{budget}: {err}");
        assert!(
            err.contains("--budget") && err.contains("at least"),
            "{err}"
        );
    }
}

#[test]
fn the_default_run_keeps_its_budget_and_prints_a_typed_summary_that_fits() {
    let dir = tempdir();
    let path = dir.path().join("r.json");
    let out = fleetbench()
        .env("COLUMNS", "80")
        .args(["run", "--fake", "x:50", "--seed", "3", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Not a terminal: the plan and one plain line per case, with time left.
    assert!(
        stderr.contains("plan: ") && stderr.contains("120 s budget"),
        "{stderr}"
    );
    assert!(stderr.contains("left)"), "{stderr}");
    let text = String::from_utf8_lossy(&out.stdout);
    for line in text.lines() {
        assert!(
            line.chars().count() <= 80,
            "{} columns: {line}",
            line.chars().count()
        );
    }
    let file = fleetbench::results::load(&path).unwrap();
    let plan = file.run.plan.as_ref().unwrap();
    assert_eq!(plan.budget_s, 120.0);
    assert!(plan.estimated_s <= 120.0);
    assert_eq!(plan.cases.len(), file.cases.len());
    for case in &file.cases {
        let s = case.sampling.as_ref().unwrap();
        assert!(s.half_width <= 0.02 || s.noisy, "{}: {s:?}", case.id);
    }
    let json = fleetbench()
        .args([
            "run", "--fake", "x:50", "--seed", "3", "--format", "json", "--force", "-o",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(json.status.success());
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(value["cases"][0]["median"]["value"].is_f64(), "{value}");
    assert!(value["cases"][0]["samples"].is_u64());
    let schema = fleetbench::report::schemas::run_summary().schema;
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| e.to_string())
        .collect();
    assert!(errors.is_empty(), "{errors:?}");
}
