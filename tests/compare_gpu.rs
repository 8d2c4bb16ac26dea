//! Ground truth for `compare` on a real adapter: lavapipe with `LP_NUM_THREADS=1` and `=2`
//! behaves like two devices whose compute differs by about 2×, and one setting run twice like
//! one device measured twice.
//!
//! The machine is shared and noisy, so the runs are interleaved in rounds (1, 2, 2′, 1, 2, 2′,
//! …) and each setting's runs are pooled with `a+b` on the command line: slow drift in the
//! machine's load then hits every side alike. Nothing here asserts a wall-clock time; only
//! ratios of throughputs measured side by side.

mod common;
use common::{fleetbench, gpu_available, tempdir};
use std::path::{Path, PathBuf};

const ROUNDS: usize = 6;

fn run_lavapipe(threads: &str, path: &Path, seed: usize) {
    let out = fleetbench()
        .env("LP_NUM_THREADS", threads)
        .args(["run", "--device", "llvmpipe", "--backend", "vulkan"])
        .args(["--kernels", "matmul_blocked", "--sizes", "256"])
        .args(["--samples", "5", "--warmup", "0.2", "--quiet", "--seed"])
        .arg(seed.to_string())
        .arg("-o")
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pooled(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join("+")
}

fn compare_json(baseline: &str, other: &str) -> serde_json::Value {
    let out = fleetbench()
        .args(["compare", baseline, other, "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn ratio(v: &serde_json::Value) -> (f64, String) {
    let case = &v["cases"][0];
    let r: f64 = case["ratio"].as_str().unwrap().parse().unwrap();
    (r, case["verdict"].as_str().unwrap().to_string())
}

/// Whether lavapipe is among the adapters; with FLEETBENCH_REQUIRE_GPU=1 (CI installs Mesa)
/// its absence is a failure, not a skip.
fn lavapipe_available() -> bool {
    if !gpu_available() {
        return false;
    }
    let out = fleetbench()
        .args(["devices", "--format", "json"])
        .output()
        .unwrap();
    let found = String::from_utf8_lossy(&out.stdout).contains("llvmpipe");
    if !found && std::env::var("FLEETBENCH_REQUIRE_GPU").as_deref() == Ok("1") {
        panic!("FLEETBENCH_REQUIRE_GPU=1 but lavapipe (llvmpipe) is not among the adapters");
    }
    found
}

#[test]
fn lavapipe_threads_double_compute_and_a_repeat_is_not_different() {
    if !lavapipe_available() {
        eprintln!("skipping: no lavapipe adapter");
        return;
    }
    let dir = tempdir();
    let (mut one, mut two, mut two_again) = (Vec::new(), Vec::new(), Vec::new());
    for round in 0..ROUNDS {
        for (index, (threads, list, tag)) in [
            ("1", &mut one, "one"),
            ("2", &mut two, "two"),
            ("2", &mut two_again, "two-again"),
        ]
        .into_iter()
        .enumerate()
        {
            let path = dir.path().join(format!("{tag}-{round}.json"));
            run_lavapipe(threads, &path, round * 3 + index);
            list.push(path);
        }
    }
    let doubled = compare_json(&pooled(&one), &pooled(&two));
    let (r, verdict) = ratio(&doubled);
    assert!(
        (1.5..=2.6).contains(&r) && verdict == "faster",
        "LP_NUM_THREADS 2 vs 1: ratio {r}, verdict {verdict}: {doubled}"
    );
    let same = compare_json(&pooled(&two), &pooled(&two_again));
    let (r, verdict) = ratio(&same);
    assert_eq!(verdict, "~", "same setting twice: ratio {r}: {same}");
}
