//! End-to-end tests of `compare`, `calibrate` and `catalog` on deterministic fake result files
//! (no GPU needed), including every kind of bad input the issue lists.

use crate::common::{fleetbench, repo_path, tempdir};
use fleetbench::equiv::{Provenance, RatiosFile};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A fake result file of `name` at `gflops`, matmul sides 64 and 128 (or `sizes`).
fn fake(dir: &Path, file: &str, name: &str, gflops: f64, seed: u64, sizes: &str) -> PathBuf {
    fake_kernels(
        dir,
        file,
        (name, gflops, seed),
        sizes,
        "matmul_naive,matmul_blocked",
    )
}

/// A fake result file running `kernels`.
fn fake_kernels(
    dir: &Path,
    file: &str,
    (name, gflops, seed): (&str, f64, u64),
    sizes: &str,
    kernels: &str,
) -> PathBuf {
    let path = dir.join(file);
    let out = fleetbench()
        .args([
            "run",
            "--fake",
            &format!("{name}:{gflops}"),
            "--sizes",
            sizes,
            "--kernels",
            kernels,
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
    assert_eq!(v["view"], "capability");
    assert!(v["files"][0]["path"]
        .as_str()
        .unwrap()
        .ends_with("slow.json"));
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "one row per common shape");
    for r in rows {
        let ratio = &r["ratio"];
        assert!((ratio["value"].as_f64().unwrap() - 2.0).abs() < 0.1, "{r}");
        assert!(ratio["low"].as_f64().unwrap() < ratio["high"].as_f64().unwrap());
        // One run per side: the interval covers sampling, not drift between runs.
        assert_eq!(r["verdict"], "undetermined");
        assert_eq!(r["coverage"], "within-run");
        assert!(r["other"]["kernels"][0]
            .as_str()
            .unwrap()
            .starts_with("matmul_"));
    }
    let g = v["summaries"][0]["geomean"]["value"].as_f64().unwrap();
    assert!((g - 2.0).abs() < 0.05);
    assert_eq!(v["summaries"][0]["metric"], "matmul-f32");
    let left_out = v["left_out"].as_array().unwrap();
    assert_eq!(left_out.len(), 1, "{left_out:?}");
    assert_eq!(left_out[0]["label"], "matmul/f32/96x96x96");
    assert_eq!(left_out[0]["per_file"][0]["kind"], "absent");
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

/// Two fake runs of one setting pooled with `+`: the spread between runs is known.
fn pooled(dir: &Path, name: &str, gflops: f64, seed: u64) -> String {
    let runs = [seed, seed + 50].map(|s| {
        let file = format!("{name}-{s}.json");
        fake(dir, &file, "gpu", gflops, s, "64")
            .display()
            .to_string()
    });
    runs.join("+")
}

#[test]
fn threshold_fails_only_on_a_significant_regression() {
    let dir = tempdir();
    let base = pooled(dir.path(), "base", 100.0, 1);
    let slower = pooled(dir.path(), "slower", 80.0, 2);
    let same = pooled(dir.path(), "same", 100.0, 3);
    let compare =
        |args: &[&str], files: &[&str]| fleetbench().args(args).args(files).output().unwrap();
    let out = compare(&["compare", "--threshold", "10"], &[&base, &slower]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("regression"));
    let out = compare(&["compare", "--threshold", "30"], &[&base, &slower]);
    assert_eq!(out.status.code(), Some(0));
    let out = compare(&["compare", "--threshold", "1"], &[&base, &same]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    // --baseline picks the reference column.
    let out = compare(
        &["compare", "--threshold", "10", "--baseline", &slower],
        &[&base, &slower],
    );
    assert_eq!(out.status.code(), Some(0));
}

/// One run per side cannot tell a slowdown from drift between runs: `--threshold` does not
/// gate it, and both the reason and the way to a verdict are said in one line each.
#[test]
fn one_run_per_side_is_not_gated_and_says_why() {
    let dir = tempdir();
    let base = fake(dir.path(), "base.json", "gpu", 100.0, 1, "64");
    let slower = fake(dir.path(), "slower.json", "gpu", 80.0, 2, "64");
    let out = run(&["compare", "--threshold", "10"], &[&base, &slower]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines.contains(&"note: one run per side: the interval covers the sampling within each run, not the drift between runs (20-50% between runs minutes apart on a shared host), so no difference is called significant on it; for a verdict pool interleaved runs of each side with '+' (a1.json+a2.json b1.json+b2.json)"),
        "{err}"
    );
    let gate = lines
        .iter()
        .find(|l| l.starts_with("not gated: matmul-f32 (geometric mean over 1 shapes) in "))
        .unwrap_or_else(|| panic!("{err}"));
    assert!(
        gate.ends_with("on one run per side, which cannot tell it from drift between runs; pool interleaved runs with '+' for a verdict"),
        "{gate}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("undetermined"), "{text}");
}

/// Two files of one run (a copy, same host, device and run id) are one run, not two.
#[test]
fn a_pooled_group_of_one_run_twice_is_refused() {
    let dir = tempdir();
    let a = fake(dir.path(), "a.json", "gpu", 100.0, 1, "64");
    let b = fake(dir.path(), "b.json", "gpu", 100.0, 2, "64");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&a).unwrap()).unwrap();
    // The same run, copied and edited on the way: not identical, but one run.
    v["machine"]["os"] = "Linux (copied)".into();
    let copy = dir.path().join("copy.json");
    std::fs::write(&copy, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let group = format!("{}+{}", a.display(), copy.display());
    let out = fleetbench()
        .args(["compare", &group])
        .arg(&b)
        .output()
        .unwrap();
    assert_one_line_error(
        &out,
        &[
            "copy.json is a duplicate of",
            "a.json (same host, device and run id",
            "a pooled group needs independent runs",
        ],
    );
}

#[test]
fn an_empty_member_of_a_pooled_group_is_named() {
    let dir = tempdir();
    let a = fake(dir.path(), "a.json", "gpu", 100.0, 1, "64");
    let b = fake(dir.path(), "b.json", "gpu", 100.0, 2, "64");
    let out = fleetbench()
        .arg("compare")
        .arg(format!("{}+", a.display()))
        .arg(&b)
        .output()
        .unwrap();
    assert_one_line_error(
        &out,
        &["+': an empty member in a pooled group ('+' joins runs of one device: a.json+b.json)"],
    );
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
        &text.replacen("\"schema_version\": 2", "\"schema_version\": 9", 1),
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
    assert!((h.ratio.value - 3.0).abs() < 0.1, "{h:?}");
    assert!(h.ratio.low < h.ratio.value && h.ratio.value < h.ratio.high);
    let basis = h.capability.as_ref().unwrap();
    assert_eq!(basis.shapes.len(), 2);
    let cpu_row = f.calibrated_ratio("llvmpipe-llvm-15").unwrap();
    assert!((cpu_row.ratio.value - 0.1).abs() < 0.01, "{cpu_row:?}");
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
        &[
            "calibrate",
            "--reference",
            "a100-sxm4-80gb",
            "--metric",
            "bandwidth",
        ],
        &[&a100, &h100],
    );
    assert_one_line_error(
        &out,
        &["a100.json", "h100.json", "no verified bandwidth case"],
    );
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
    let same_code = ["compare", "--same-code", "--format", "json"];
    let out = run(&same_code, &[&a, &b]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["rows"].as_array().unwrap().is_empty());
    let reason = &v["left_out"][0]["per_file"][1];
    assert_eq!(reason["kind"], "measured-differently", "{v}");
    assert!(reason["detail"].as_str().unwrap().contains("bounds checks"));
    let mixed = [
        "compare",
        "--same-code",
        "--allow-mixed",
        "--format",
        "json",
    ];
    let out = run(&mixed, &[&a, &b]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|c| c["mixed"][0] == "bounds-checks"));
    // The capability view compares each file at its best kernel, however it was built.
    let out = run(&["compare", "--format", "json"], &[&a, &b]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 1);
    assert_one_line_error(
        &run(&["compare", "--allow-mixed"], &[&a, &b]),
        &["--same-code"],
    );
}

#[test]
fn json_on_stdout_and_with_o_are_one_model() {
    let dir = tempdir();
    let a = fake(dir.path(), "a.json", "gpu-a", 100.0, 1, "64");
    let b = fake(dir.path(), "b.json", "gpu-b", 150.0, 2, "64");
    let written = dir.path().join("cmp.json");
    let out = fleetbench()
        .args(["compare", "--format", "json", "-o"])
        .arg(&written)
        .args([&a, &b])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&written).unwrap(), out.stdout);
    let again = fleetbench()
        .args(["compare", "-o"])
        .arg(&written)
        .args([&a, &b])
        .output()
        .unwrap();
    assert_one_line_error(&again, &["cmp.json", "already exists"]);
}

/// Pooled groups of two devices, and files without a common metric, are refused in one line
/// naming the files; a metric one file lacks is listed as left out.
#[test]
fn incomparable_files_are_one_line_errors_and_missing_metrics_are_listed() {
    let dir = tempdir();
    let a = fake(dir.path(), "a.json", "gpu-a", 100.0, 1, "64");
    let a2 = fake(dir.path(), "a2.json", "gpu-a", 100.0, 2, "64");
    let z = fake(dir.path(), "z.json", "gpu-z", 100.0, 3, "64");
    let group = |x: &Path, y: &Path| format!("{}+{}", x.display(), y.display());
    let out = fleetbench()
        .args(["compare", &group(&a, &z), &a2.display().to_string()])
        .output()
        .unwrap();
    assert_one_line_error(&out, &["a.json+", "z.json", "one device"]);
    let peak = fake_kernels(
        dir.path(),
        "peak.json",
        ("gpu-p", 100.0, 4),
        "64",
        "peak_fma_f32",
    );
    assert_one_line_error(
        &run(&["compare"], &[&a, &peak]),
        &["a.json", "peak.json", "share no metric"],
    );
    let both = fake_kernels(
        dir.path(),
        "both.json",
        ("gpu-b", 100.0, 5),
        "64",
        "matmul_naive,peak_fma_f32",
    );
    let out = run(&["compare", "--format", "json"], &[&both, &a]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("note: peak-f32 is not compared: missing from"),
        "{}",
        stderr(&out)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["left_out"][0]["label"], "peak-f32");
    assert_eq!(v["left_out"][0]["per_file"][1]["kind"], "absent");
    let pooled = fleetbench()
        .args([
            "compare",
            "--format",
            "json",
            &group(&a, &a2),
            &z.display().to_string(),
        ])
        .output()
        .unwrap();
    assert!(pooled.status.success(), "{}", stderr(&pooled));
    let v: serde_json::Value = serde_json::from_slice(&pooled.stdout).unwrap();
    assert_eq!(v["rows"][0]["baseline"]["runs"], 2);
}

/// A hand-edited median no longer matches its raw samples: compare and calibrate refuse the
/// file, and with --skip-inconsistent drop only that case, saying so.
#[test]
fn inconsistent_files_are_refused_or_their_bad_cases_skipped() {
    let dir = crate::common::tempdir();
    let a = fake(dir.path(), "a.json", "gpu-a", 100.0, 1, "32,64");
    let b = fake(dir.path(), "b.json", "gpu-b", 200.0, 2, "32,64");
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&b).unwrap()).unwrap();
    let median = &mut value["cases"][0]["timing"]["throughput"]["median"]["value"];
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
    assert_eq!(v["rows"].as_array().unwrap().len(), 2, "{v}");
}

/// Marks a result file as made by `run --simulate`.
fn as_simulated(path: &Path) {
    let mut file = fleetbench::results::load(path).unwrap();
    file.machine.simulated = true;
    fleetbench::results::save_atomic(path, &file).unwrap();
}

#[test]
fn simulated_files_beside_real_ones_are_refused_unless_allowed() {
    let dir = tempdir();
    let a100 = fake(
        dir.path(),
        "a100.json",
        "NVIDIA A100-SXM4-80GB",
        200.0,
        1,
        "64",
    );
    let h200 = fake(dir.path(), "h200.json", "NVIDIA H200", 400.0, 2, "64");
    as_nvidia(&a100);
    as_nvidia(&h200);
    as_simulated(&h200);
    let refused = format!(
        "error: {}: simulated (run --simulate) beside real result files; pass --allow-simulated to use them together",
        h200.display()
    );
    let ratios = dir.path().join("ratios.json");
    let ratios_arg = ratios.to_str().unwrap();
    let commands: [&[&str]; 3] = [
        &["compare"],
        &[
            "calibrate",
            "--reference",
            "a100-sxm4-80gb",
            "-o",
            ratios_arg,
        ],
        &["merge"],
    ];
    for args in commands {
        let out = run(args, &[&a100, &h200]);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stderr(&out));
        assert_eq!(stderr(&out).trim_end(), refused, "{args:?}");
        let allowed = [args, &["--allow-simulated"]].concat();
        let out = run(&allowed, &[&a100, &h200]);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        if args[0] != "calibrate" {
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains(fleetbench::results::SIMULATED_LABEL),
                "{text}"
            );
        }
    }
    let json_args = ["compare", "--allow-simulated", "--format", "json"];
    let out = run(&json_args, &[&a100, &h200]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["files"][0]["simulated"], false, "{}", stderr(&out));
    assert_eq!(json["files"][1]["simulated"], true);
    assert!(RatiosFile::load(&ratios).unwrap().simulated);
}
