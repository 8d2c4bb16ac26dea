//! End-to-end tests of `compare`, `calibrate` and `catalog` on deterministic fake result files
//! (no GPU needed), including every kind of bad input the issue lists.

mod common;
use common::{fleetbench, repo_path, tempdir};
use fleetbench::equiv::{Provenance, RatiosFile};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A fake result file of `name` at `gflops`, matmul sides 64 and 128 (or `sizes`).
fn fake(dir: &Path, file: &str, name: &str, gflops: f64, seed: u64, sizes: &str) -> PathBuf {
    let path = dir.join(file);
    let out = fleetbench()
        .args([
            "run",
            "--fake",
            &format!("{name}:{gflops}"),
            "--sizes",
            sizes,
            "--kernels",
            "matmul_naive,matmul_blocked",
        ])
        .args([
            "--samples",
            "12",
            "--quiet",
            "--seed",
            &seed.to_string(),
            "-o",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// Marks a fake file as coming from an NVIDIA adapter so the catalog rules can place it.
fn as_nvidia(path: &Path) {
    let text = std::fs::read_to_string(path).unwrap();
    std::fs::write(
        path,
        text.replace("\"vendor_id\": 0,", "\"vendor_id\": 4318,"),
    )
    .unwrap();
}

fn run(args: &[&str], files: &[&Path]) -> Output {
    fleetbench().args(args).args(files).output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn assert_one_line_error(out: &Output, needles: &[&str]) {
    assert_eq!(out.status.code(), Some(2), "{}", stderr(out));
    let err = stderr(out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: ") && !err.contains("panicked"),
        "{err}"
    );
    for n in needles {
        assert!(err.contains(n), "missing '{n}' in: {err}");
    }
}

#[test]
fn compare_finds_a_known_ratio_and_lists_unmatched_cases() {
    let dir = tempdir();
    let slow = fake(dir.path(), "slow.json", "gpu-a", 100.0, 1, "64,128");
    let fast = fake(dir.path(), "fast.json", "gpu-b", 200.0, 2, "64,128,96");
    let out = run(&["compare", "--format", "json"], &[&slow, &fast]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["baseline"].as_str().unwrap().ends_with("slow.json"));
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for c in cases {
        let r: f64 = c["ratio"].as_str().unwrap().parse().unwrap();
        assert!((r - 2.0).abs() < 0.1, "{c}");
        assert_eq!(c["verdict"], "faster");
    }
    let g: f64 = v["geomean"][0]["geomean ratio"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((g - 2.0).abs() < 0.05);
    let unmatched = v["unmatched"].as_array().unwrap();
    assert_eq!(unmatched.len(), 2, "{unmatched:?}");
    assert!(unmatched
        .iter()
        .all(|u| u["case"].as_str().unwrap().contains("96x96x96")));
    // A rerun prints the same intervals (seeded bootstrap).
    let again = run(&["compare", "--format", "json"], &[&slow, &fast]);
    assert_eq!(out.stdout, again.stdout);
    for format in ["text", "csv", "markdown"] {
        let out = run(&["compare", "--format", format], &[&slow, &fast]);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("96x96x96"),
            "{format}"
        );
    }
}

#[test]
fn threshold_fails_only_on_a_significant_regression() {
    let dir = tempdir();
    let base = fake(dir.path(), "base.json", "gpu", 100.0, 1, "64");
    let slower = fake(dir.path(), "slower.json", "gpu", 80.0, 2, "64");
    let same = fake(dir.path(), "same.json", "gpu", 100.0, 3, "64");
    let out = run(&["compare", "--threshold", "10"], &[&base, &slower]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("regression"));
    let out = run(&["compare", "--threshold", "30"], &[&base, &slower]);
    assert_eq!(out.status.code(), Some(0));
    let out = run(&["compare", "--threshold", "1"], &[&base, &same]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // --baseline picks the reference column.
    let out = fleetbench()
        .args(["compare", "--threshold", "10", "--baseline"])
        .arg(&slower)
        .args([&base, &slower])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn bad_input_is_a_one_line_error_naming_the_file() {
    let dir = tempdir();
    let good = fake(dir.path(), "good.json", "gpu", 100.0, 1, "64");
    let text = std::fs::read_to_string(&good).unwrap();
    let write = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let version = write(
        "v9.json",
        &text.replacen("\"schema_version\": 1", "\"schema_version\": 9", 1),
    );
    let other = write("other.json", "{\"benchmarks\": []}");
    let truncated = write("cut.json", &text[..text.len() / 2]);
    let edited = write(
        "edited.json",
        &text.replacen("\"hostname\"", "\"extra\": 1, \"hostname\"", 1),
    );
    let copy = write("copy.json", &text);
    let missing = dir.path().join("missing.json");
    let cases: [(&Path, &str); 6] = [
        (&version, "schema_version 9 is not supported"),
        (&other, "no schema_version"),
        (&truncated, "invalid JSON"),
        (&edited, "unknown field"),
        (&copy, "given twice"),
        (&missing, "missing.json"),
    ];
    for (bad, why) in cases {
        let out = run(&["compare"], &[&good, bad]);
        let name = bad.file_name().unwrap().to_str().unwrap();
        assert_one_line_error(&out, &[name, why]);
    }
    assert_one_line_error(&run(&["compare"], &[&good, &good]), &["given twice"]);
    assert_one_line_error(
        &run(&["compare", "--threshold=150"], &[&good, &copy]),
        &["--threshold"],
    );
    assert_one_line_error(&run(&["compare"], &[&good]), &["at least two"]);
}

#[test]
fn calibrate_writes_a_ratios_file_with_provenance() {
    let dir = tempdir();
    let a100 = fake(
        dir.path(),
        "a100.json",
        "NVIDIA A100-SXM4-80GB",
        100.0,
        1,
        "64,128",
    );
    let h100 = fake(
        dir.path(),
        "h100.json",
        "NVIDIA H100 80GB HBM3",
        300.0,
        2,
        "64,128",
    );
    let cpu = fake(
        dir.path(),
        "cpu.json",
        "llvmpipe (LLVM 15)",
        10.0,
        3,
        "64,128",
    );
    as_nvidia(&a100);
    as_nvidia(&h100);
    let ratios = dir.path().join("ratios.json");
    let out = fleetbench()
        .args(["calibrate", "--reference", "a100-sxm4-80gb", "-o"])
        .arg(&ratios)
        .args([&a100, &h100, &cpu])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("llvmpipe-llvm-15"),
        "unmatched device is reported"
    );
    let f = RatiosFile::load(&ratios).unwrap();
    assert_eq!(f.reference, "a100-sxm4-80gb");
    let h = f.calibrated_ratio("h100-sxm").unwrap();
    assert_eq!(h.provenance, Provenance::Measured);
    assert!((h.ratio - 3.0).abs() < 0.1, "{h:?}");
    let cpu_row = f.calibrated_ratio("llvmpipe-llvm-15").unwrap();
    assert!((cpu_row.ratio - 0.1).abs() < 0.01, "{cpu_row:?}");
    assert_eq!(
        f.calibrated_ratio("mi300x").unwrap().provenance,
        Provenance::Published
    );
    for ext in ["csv", "md"] {
        let p = dir.path().join(format!("ratios.{ext}"));
        let out = fleetbench()
            .args(["calibrate", "--reference", "a100-sxm4-80gb", "-o"])
            .arg(&p)
            .args([&a100, &h100])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        assert!(std::fs::read_to_string(&p).unwrap().contains("h100-sxm"));
    }
    let out = run(&["calibrate", "--reference", "no-such-gpu"], &[&a100]);
    assert_one_line_error(&out, &["no-such-gpu", "neither"]);
    let out = run(
        &[
            "calibrate",
            "--reference",
            "a100-sxm4-80gb",
            "--metric",
            "flops",
        ],
        &[&a100],
    );
    assert_one_line_error(&out, &["unknown metric"]);
    let out = run(
        &["calibrate", "--reference", "a100-sxm4-80gb", "-o", "x.txt"],
        &[&a100],
    );
    assert_one_line_error(&out, &["x.txt"]);
    let out = fleetbench()
        .args(["calibrate", "--reference", "a100-sxm4-80gb", "-o"])
        .arg(&ratios)
        .arg(&a100)
        .output()
        .unwrap();
    assert_one_line_error(&out, &["already exists"]);
}

#[test]
fn catalog_prints_the_table_and_imports_epoch() {
    let out = run(&["catalog", "--format", "json"], &[]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    for id in [
        "h100-sxm",
        "a100-sxm4-80gb",
        "h200-sxm",
        "mi300x",
        "tpu-v6e",
    ] {
        assert!(ids.contains(&id), "{id}");
    }
    let out = run(&["catalog", "--format", "csv"], &[]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("h100-sxm,H100 SXM5,NVIDIA,2022,33.5,66.9")
    );
    let fixture = repo_path("tests/fixtures/epoch_ml_hardware.csv");
    let out = run(
        &["catalog", "import-epoch", "--format", "json"],
        &[&fixture],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["id"], "example-gpu-x100");
    assert_eq!(v[0]["bf16_fp16_tensor_tflops"], 989.4);
    let not_epoch = repo_path("data/device-match.csv");
    let out = run(&["catalog", "import-epoch"], &[&not_epoch]);
    assert_one_line_error(&out, &["device-match.csv", "not an Epoch"]);
}

#[test]
fn differently_measured_cases_are_compared_only_when_asked_and_labelled() {
    let dir = tempdir();
    let a = fake(dir.path(), "a.json", "gpu", 100.0, 1, "64");
    let b = fake(dir.path(), "b.json", "gpu", 100.0, 2, "64");
    let text = std::fs::read_to_string(&b).unwrap();
    assert!(text.contains("\"bounds_checks\": true"));
    std::fs::write(
        &b,
        text.replace("\"bounds_checks\": true", "\"bounds_checks\": false"),
    )
    .unwrap();
    let out = run(&["compare", "--format", "json"], &[&a, &b]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["cases"].as_array().unwrap().is_empty());
    let reason = v["unmatched"][0][b.display().to_string()]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        reason.contains("measured differently") && reason.contains("bounds checks"),
        "{v}"
    );
    let out = run(&["compare", "--allow-mixed", "--format", "json"], &[&a, &b]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    assert!(cases
        .iter()
        .all(|c| c["note"].as_str().unwrap().contains("bounds checks")));
}

/// A hand-edited median no longer matches its raw samples: compare and calibrate refuse the
/// file, and with --skip-inconsistent drop only that case, saying so.
#[test]
fn inconsistent_files_are_refused_or_their_bad_cases_skipped() {
    let dir = common::tempdir();
    let a = fake(dir.path(), "a.json", "gpu-a", 100.0, 1, "32,64");
    let b = fake(dir.path(), "b.json", "gpu-b", 200.0, 2, "32,64");
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&b).unwrap()).unwrap();
    let median = &mut value["cases"][0]["timing"]["throughput"]["median"];
    *median = serde_json::json!(median.as_f64().unwrap() * 3.0);
    std::fs::write(&b, value.to_string()).unwrap();

    let refused = run(&["compare"], &[&a, &b]);
    assert_one_line_error(&refused, &["b.json", "inconsistent"]);
    let refused = run(&["calibrate", "--reference", "gpu-a"], &[&a, &b]);
    assert_one_line_error(&refused, &["b.json", "inconsistent"]);

    let skipped = run(
        &["compare", "--skip-inconsistent", "--format", "json"],
        &[&a, &b],
    );
    assert_eq!(skipped.status.code(), Some(0), "{}", stderr(&skipped));
    assert!(
        stderr(&skipped).contains("warning: "),
        "{}",
        stderr(&skipped)
    );
    let v: serde_json::Value = serde_json::from_slice(&skipped.stdout).unwrap();
    assert_eq!(v["cases"].as_array().unwrap().len(), 3, "{v}");
}
