//! `scripts/device-check.sh --dry-run` on the local adapter (lavapipe in CI): everything the
//! H200 check does except CUDA — what travels (repository + binary + loader packages under
//! 48 MiB), binary, loader and ICD decisions, devices, suite, sweep, the vendor script's CPU
//! stand-in, validation — inside its file budget, every result valid.

use crate::common::{gpu_available, repo_path, tempdir};
use std::process::Command;

#[test]
fn the_dry_run_writes_valid_results_within_the_file_budget() {
    if !gpu_available() {
        return;
    }
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("skipping: python3 is not installed");
        return;
    }
    let dir = tempdir();
    let out = dir.path().join("out");
    let status = Command::new("bash")
        .arg(repo_path("scripts/device-check.sh"))
        .args(["--dry-run"])
        .arg(&out)
        .env("FLEETBENCH_BIN", env!("CARGO_BIN_EXE_fleetbench"))
        .env_remove("OUT")
        .output()
        .expect("bash runs the script");
    let log = std::fs::read_to_string(out.join("check.log")).unwrap_or_default();
    assert!(status.status.success(), "{log}");
    let files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(files.len() <= 8, "{files:?}");
    for name in [
        "devices.txt",
        "suite.json",
        "sweep.json",
        "vendor.json",
        "validate.txt",
    ] {
        assert!(
            files.iter().any(|f| f == name),
            "{name} missing: {files:?}\n{log}"
        );
    }
    for name in ["suite.json", "sweep.json", "vendor.json"] {
        let file = fleetbench::results::load(&out.join(name)).unwrap();
        assert!(!file.cases.is_empty(), "{name} has no cases");
    }
    let suite = fleetbench::results::load(&out.join("suite.json")).unwrap();
    if suite.machine.adapter.device_type.is_cpu() {
        assert!(
            suite
                .cases
                .iter()
                .any(fleetbench::measure::host_refs::is_vendor),
            "a CPU adapter's suite carries the host SGEMM reference"
        );
    }
    let validation = std::fs::read_to_string(out.join("validate.txt")).unwrap();
    assert_eq!(validation.matches(" ok ").count(), 3, "{validation}");
    assert!(log.contains("travel size: repository "), "{log}");
    // Only the release profile strips debug info (the CI command is `cargo test --release`).
    if !cfg!(debug_assertions) {
        assert!(
            !log.contains("over the limit"),
            "the release binary must travel: {log}"
        );
    }
    assert!(log.contains("Vulkan loader: "), "{log}");
    assert!(log.contains("Vulkan ICD: "), "{log}");
}

#[test]
fn without_an_output_directory_the_check_refuses_to_start() {
    let status = Command::new("bash")
        .arg(repo_path("scripts/device-check.sh"))
        .env_remove("OUT")
        .output()
        .expect("bash runs the script");
    assert_eq!(status.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&status.stderr).contains("no output directory"));
}

#[test]
fn a_dry_run_over_the_travel_limit_fails_before_measuring() {
    let dir = tempdir();
    let out = dir.path().join("out");
    let status = Command::new("bash")
        .arg(repo_path("scripts/device-check.sh"))
        .arg("--dry-run")
        .arg(&out)
        .env("FLEETBENCH_BIN", env!("CARGO_BIN_EXE_fleetbench"))
        // Smaller than the binary alone.
        .env("TRAVEL_LIMIT_BYTES", "1000")
        .output()
        .expect("bash runs the script");
    let log = std::fs::read_to_string(out.join("check.log")).unwrap_or_default();
    assert_eq!(status.status.code(), Some(1), "{log}");
    assert!(log.contains("(limit 1000)"), "{log}");
    assert!(log.contains("over the limit by "), "{log}");
    assert!(!out.join("suite.json").exists(), "nothing is measured");
}

#[test]
fn the_release_binary_fits_the_travel_limit_with_room_for_the_repository() {
    if cfg!(debug_assertions) {
        eprintln!("skipping: a debug build keeps its debug info; the check is for --release");
        return;
    }
    let binary = std::fs::metadata(env!("CARGO_BIN_EXE_fleetbench"))
        .expect("the binary exists")
        .len();
    // The release profile drops debug info (it was 65.7 MB with line tables); the repository
    // and the loader packages take a few MiB of the 48.
    assert!(
        binary < 32 << 20,
        "the fleetbench binary is {binary} bytes; it must travel under 48 MiB with the rest"
    );
}
