//! Device faults on a real adapter (lavapipe on CI), injected through FLEETBENCH_INJECT_FAULTS:
//! each is recorded on its case with a status and reason, the run goes on, nothing unverified
//! carries a throughput, and the file says faults were injected. Also the resource bounds:
//! adapter limits and `--max-memory` skip a case before anything is allocated.

use crate::common::{fleetbench, gpu_available, tempdir};
use fleetbench::results::{self, CaseStatus};
use std::path::Path;

fn run(dir: &Path, faults: Option<&str>, sizes: &str, extra: &[&str]) -> std::process::Output {
    let mut cmd = fleetbench();
    cmd.args(["run", "--kernels", "matmul_naive", "--samples", "2"])
        .args(["--warmup", "0", "--quiet", "--sizes", sizes])
        .args(extra)
        .arg("-o")
        .arg(dir.join("r.json"));
    match faults {
        Some(spec) => cmd.env("FLEETBENCH_INJECT_FAULTS", spec),
        None => cmd.env_remove("FLEETBENCH_INJECT_FAULTS"),
    };
    cmd.output().unwrap()
}

fn reason(case: &results::Case) -> &str {
    case.reason.as_deref().unwrap_or("")
}

#[test]
fn each_fault_is_recorded_on_its_case_and_the_run_goes_on() {
    if !gpu_available() {
        return;
    }
    let dir = tempdir();
    let spec = "oom@1,dispatch_limit@2,timeout@3,device_lost@5";
    let out = run(dir.path(), Some(spec), "16,20,24,28,32,36", &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let file = results::load(&dir.path().join("r.json")).unwrap();
    assert!(file.run.complete);
    assert_eq!(file.machine.env["FLEETBENCH_INJECT_FAULTS"], spec);
    let statuses: Vec<CaseStatus> = file.cases.iter().map(|c| c.status).collect();
    use CaseStatus::{Failed, Passed};
    assert_eq!(statuses, [Failed, Failed, Failed, Passed, Failed, Failed]);
    let c = &file.cases;
    assert!(reason(&c[0]).contains("out of memory"), "{}", reason(&c[0]));
    assert!(reason(&c[1]).contains("65535"), "{}", reason(&c[1])); // wgpu's own validation
    assert!(reason(&c[2]).contains("timed out"), "{}", reason(&c[2]));
    assert!(reason(&c[4]).contains("device lost"), "{}", reason(&c[4]));
    assert!(reason(&c[5]).contains("device lost"), "{}", reason(&c[5]));
    for case in c.iter().filter(|c| c.status == Failed) {
        assert!(case.passed_throughput().is_none() && case.timing.is_none());
    }
    let validate = fleetbench()
        .arg("validate")
        .arg(dir.path().join("r.json"))
        .output()
        .unwrap();
    assert_eq!(validate.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&validate.stderr).contains("injected"));
}

#[test]
fn adapter_failure_and_bad_fault_specs_are_one_line_errors() {
    let dir = tempdir();
    for (spec, expected) in [
        ("adapter", "adapter creation failed"),
        ("oom@0", "cannot parse"),
    ] {
        let out = run(dir.path(), Some(spec), "16", &[]);
        assert_eq!(out.status.code(), Some(2), "{spec}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains(expected), "{err}");
        assert!(!dir.path().join("r.json").exists());
    }
}

#[test]
fn max_memory_and_adapter_limits_skip_cases_before_allocating() {
    if !gpu_available() {
        return;
    }
    let dir = tempdir();
    // 32³ needs 24 KiB with its read-back copy, 128³ 384 KiB; C of 65536×65536 is 16 GiB, beyond
    // any adapter's binding limit, so it must be skipped, not allocated.
    let out = run(
        dir.path(),
        None,
        "32,128,65536x65536x4",
        &["--max-memory", "100K"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let file = results::load(&dir.path().join("r.json")).unwrap();
    let statuses: Vec<CaseStatus> = file.cases.iter().map(|c| c.status).collect();
    use CaseStatus::{Passed, Skipped};
    assert_eq!(statuses, [Passed, Skipped, Skipped]);
    assert!(
        reason(&file.cases[1]).contains("--max-memory"),
        "{:?}",
        file.cases[1]
    );
    assert!(
        reason(&file.cases[2]).contains("the adapter allows"),
        "{:?}",
        file.cases[2]
    );
}
