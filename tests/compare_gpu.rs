//! Ground truth for `compare` on a real adapter: lavapipe with `LP_NUM_THREADS=1` and `=2`
//! behaves like two devices, the second faster while the host gives two cores, and one setting
//! run twice like one device measured twice.
//!
//! Each setting tunes into its own tuning cache (afresh for every attempt), and the slower setting's candidate list is
//! restricted so that the two settings' tuned kernels differ for certain: the capability view
//! must still compare them (each at its best verified kernel) and name both winners. The
//! machine is shared and noisy, so the runs are interleaved in rounds (1, 2, 2′, 2′, 2, 1, …)
//! and each setting's runs are pooled with `a+b`: the two-level bootstrap then resamples runs
//! as well as samples, so the interval covers the drift between runs, and the test between
//! runs takes each run as one observation. Nothing here asserts a
//! wall-clock time; only ratios of throughputs measured side by side.
//!
//! How much faster two threads are is not known in advance, so it is read from the runs
//! themselves: the ratio of the medians of each setting's pooled samples, gathered from the
//! files without `compare`, which the ratio it reports must match. It is not 2: with two cores throughout, the ratio at 256³
//! and 384³ has been 1.35-1.5 in some attempts and up to 2.4 in others, because the two
//! settings run different kernels (tuned at 256³ and run at 384³ too), whose tiles leave
//! 4-12 workgroups for two threads and may not divide 384. A test that assumed a doubling
//! failed every attempt on such a host while `compare` was right.

#[path = "integration/common.rs"]
mod common;
#[path = "support/lavapipe.rs"]
mod lavapipe;
use common::{fleetbench, tempdir};
use lavapipe::{host_parallelism, llvmpipe_backend, parallelism_when_available};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Rounds per attempt: runs per setting, the observations of the test between runs.
const ROUNDS: usize = 5;
/// Attempts until one shows the truth; each takes about 50 s.
const ATTEMPTS: usize = 6;
/// Two threads must get at least this much more work done than one — before the attempt,
/// after each of its rounds — for a failed attempt to have had two cores throughout.
const PARALLEL_ENOUGH: f64 = 1.6;
/// How long to wait for the host to give two cores before an attempt.
const WAIT_FOR_CORES: std::time::Duration = std::time::Duration::from_secs(40);

/// One lavapipe setting: its thread count, its own tuning cache and the backend that exposes
/// Mesa's CPU driver.
struct Setting {
    threads: &'static str,
    cache: PathBuf,
    backend: String,
}

fn run_lavapipe(setting: &Setting, path: &Path, seed: usize) {
    let out = fleetbench()
        .env("LP_NUM_THREADS", setting.threads)
        .env("FLEETBENCH_TUNE_CACHE", &setting.cache)
        .args(["run", "--device", "llvmpipe", "--backend", &setting.backend])
        .args([
            "--kernels",
            "tuned",
            "--sizes",
            "256,384",
            "--tune-size",
            "256",
        ])
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

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// `(kernel, overrides)` of the f32 winner in a tuning cache.
fn f32_winner(cache: &Path) -> (Value, Value) {
    let v = read_json(cache);
    let entries = v["entries"].as_object().unwrap();
    let record = entries
        .values()
        .find(|r| r["workload"]["dtype"] == "f32")
        .expect("an f32 tuning record");
    (
        record["chosen_kernel"].clone(),
        record["chosen_overrides"].clone(),
    )
}

/// Removes `winner` from the f32 record's trials in `cache` and makes the best remaining trial
/// the choice: a restricted candidate list, so the runs that read this cache tune differently.
fn restrict(cache: &Path, winner: &(Value, Value)) {
    let mut v = read_json(cache);
    for record in v["entries"].as_object_mut().unwrap().values_mut() {
        if record["workload"]["dtype"] != "f32" {
            continue;
        }
        let trials = record["trials"].as_array_mut().unwrap();
        trials.retain(|t| (t["kernel"].clone(), t["overrides"].clone()) != *winner);
        let best = trials
            .iter()
            .filter(|t| t["status"] == "passed")
            .max_by(|a, b| {
                let median = |t: &Value| t["median"].as_f64().unwrap_or(0.0);
                median(a).total_cmp(&median(b))
            })
            .expect("another passed candidate")
            .clone();
        record["chosen_kernel"] = best["kernel"].clone();
        record["chosen_overrides"] = best["overrides"].clone();
    }
    std::fs::write(cache, serde_json::to_string_pretty(&v).unwrap()).unwrap();
}

/// Tunes each setting into its own cache; where both chose the same f32 kernel, the
/// one-thread setting's candidates are restricted so the winners differ.
fn tune_apart(dir: &Path, one: &Setting, two: &Setting) {
    run_lavapipe(one, &dir.join("tune-one.json"), 0);
    run_lavapipe(two, &dir.join("tune-two.json"), 1);
    let (w1, w2) = (f32_winner(&one.cache), f32_winner(&two.cache));
    if w1 == w2 {
        restrict(&one.cache, &w2);
    }
    assert_ne!(f32_winner(&one.cache), f32_winner(&two.cache));
}

fn pooled(paths: &[PathBuf]) -> String {
    let names: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();
    names.join("+")
}

fn compare_json(baseline: &str, other: &str) -> Value {
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

/// The f32 matmul capability rows of a comparison.
fn f32_rows(v: &Value) -> Vec<&Value> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["metric"] == "matmul-f32")
        .collect()
}

fn ratio(r: &Value) -> f64 {
    r["ratio"]["value"].as_f64().unwrap()
}

/// Every f32 sample of the runs in `paths` per workload, as GFLOP/s: the data `compare` reads,
/// gathered here without it.
fn samples_per_shape(paths: &[PathBuf]) -> Vec<(String, Vec<f64>)> {
    let mut per_shape: Vec<(String, Vec<f64>)> = Vec::new();
    for path in paths {
        for case in read_json(path)["cases"].as_array().unwrap() {
            let w = &case["workload"];
            if w["dtype"] != "f32" || case["status"] != "passed" {
                continue;
            }
            let dims = ["m", "n", "k"].map(|d| w[d].as_f64().unwrap());
            let flops = 2.0 * dims.iter().product::<f64>();
            let seconds = case["timing"]["gpu_s"].as_array().unwrap();
            let rates = seconds.iter().map(|s| flops / s.as_f64().unwrap() / 1e9);
            let shape = format!("{}x{}x{}", dims[0], dims[1], dims[2]);
            match per_shape.iter_mut().find(|(s, _)| *s == shape) {
                Some((_, all)) => all.extend(rates),
                None => per_shape.push((shape, rates.collect())),
            }
        }
    }
    per_shape
}

fn median(values: &[f64]) -> f64 {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    }
}

/// How much faster `other`'s runs are than `base`'s at `shape`: the ratio of the medians of
/// their pooled samples.
fn runs_ratio(base: &[(String, Vec<f64>)], other: &[(String, Vec<f64>)], shape: &str) -> f64 {
    let of = |side: &[(String, Vec<f64>)]| {
        let (_, rates) = side
            .iter()
            .find(|(s, _)| s == shape)
            .expect("the shape ran");
        median(rates)
    };
    of(other) / of(base)
}

/// How far `compare`'s ratio may sit from the runs' own: the two are the same arithmetic on
/// the same samples, so only rounding separates them.
const AGREEMENT: f64 = 1e-6;

/// Two threads against one: every f32 capability row is present, names both winning kernels
/// (which differ), shows a significant speed-up, and its ratio is the one the runs show; the
/// geometric mean is significant too.
fn check_faster(v: &Value, one: &[PathBuf], two: &[PathBuf]) -> Result<(), String> {
    let rows = f32_rows(v);
    if rows.len() != 2 {
        return Err(format!(
            "expected 2 f32 capability rows, got {}",
            rows.len()
        ));
    }
    let (base_runs, other_runs) = (samples_per_shape(one), samples_per_shape(two));
    for r in rows {
        let (base, other) = (&r["baseline"]["kernels"], &r["other"]["kernels"]);
        assert!(
            base.as_array().is_some_and(|k| !k.is_empty()) && base != other,
            "the row must name both winning kernels, and they differ: {r}"
        );
        let w = &r["workload"];
        let shape = format!("{}x{}x{}", w["m"], w["n"], w["k"]);
        let truth = runs_ratio(&base_runs, &other_runs, &shape);
        eprintln!(
            "{}: compare {:.3} ({}), the runs {truth:.3}",
            r["label"],
            ratio(r),
            r["verdict"]
        );
        if (ratio(r) / truth - 1.0).abs() > AGREEMENT {
            return Err(format!(
                "{}: compare's ratio {:.3} is not the runs' {truth:.3}",
                r["label"],
                ratio(r)
            ));
        }
        if r["verdict"] != "faster" {
            return Err(format!(
                "{}: ratio {:.3} ({}, the runs show {truth:.3}), {base} vs {other}",
                r["label"],
                ratio(r),
                r["verdict"]
            ));
        }
    }
    let g = v["summaries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["metric"] == "matmul-f32")
        .ok_or("no f32 summary")?;
    let geomean = g["geomean"]["value"].as_f64().unwrap();
    if g["verdict"] != "faster" {
        return Err(format!(
            "f32 geometric mean {geomean:.3} ({})",
            g["verdict"]
        ));
    }
    Ok(())
}

/// One setting against itself: no capability row and no summary is significant.
fn check_no_difference(v: &Value) -> Result<(), String> {
    let rows = v["rows"].as_array().unwrap();
    if f32_rows(v).is_empty() {
        return Err("the A/A comparison has no f32 row".to_string());
    }
    let significant: Vec<String> = rows
        .iter()
        .chain(v["summaries"].as_array().unwrap())
        .filter(|r| r["verdict"] != "not-significant")
        .map(|r| r.to_string())
        .collect();
    if significant.is_empty() {
        Ok(())
    } else {
        Err(format!("same setting twice: {significant:?}"))
    }
}

/// Interleaved rounds of LP_NUM_THREADS = 1, 2 and 2 again (the order reversed every other
/// round, so drift in the host cannot favour one side), pooled per setting and compared. The
/// host's parallelism is read after every round into `readings`.
fn attempt(
    dir: &Path,
    n: usize,
    settings: [&Setting; 3],
    readings: &mut Vec<f64>,
) -> Result<(), String> {
    let mut runs: [Vec<PathBuf>; 3] = Default::default();
    for round in 0..ROUNDS {
        let mut order = [0, 1, 2];
        if round % 2 == 1 {
            order.reverse();
        }
        for side in order {
            let path = dir.join(format!("{side}-{n}-{round}.json"));
            run_lavapipe(
                settings[side],
                &path,
                ((n * ROUNDS + round) * 3 + side) + 10,
            );
            runs[side].push(path);
        }
        readings.push(host_parallelism());
    }
    check_faster(
        &compare_json(&pooled(&runs[0]), &pooled(&runs[1])),
        &runs[0],
        &runs[1],
    )?;
    check_no_difference(&compare_json(&pooled(&runs[1]), &pooled(&runs[2])))
}

/// On shared machines (CI runners among them) the CPU capacity swings from second to second,
/// and lavapipe splits each dispatch across its threads, so one starved CPU makes two threads
/// no faster than one for a while: a starved stretch inside an attempt pulls the
/// one-against-two ratio down, and the spread it adds between runs leaves a real speed-up
/// not significant. So the host's parallelism is read before each attempt and after each of
/// its rounds, and a failed attempt is reported as not counting unless the host gave two
/// cores throughout. Starvation can hide the truth but not show it — a significant speed-up,
/// beside an A/A pair that is not different — so an attempt that shows it passes the test
/// whatever the readings. The test fails when no attempt shows the truth.
#[test]
fn lavapipe_two_threads_outrun_one_by_what_the_runs_show_and_a_repeat_is_not_different() {
    let Some(backend) = llvmpipe_backend() else {
        eprintln!("skipping: no lavapipe adapter");
        return;
    };
    let (mut failures, mut not_counted) = (Vec::new(), Vec::new());
    for n in 0..ATTEMPTS {
        // Each attempt tunes afresh: which kernel wins at 256³ and how it scales from one
        // thread to two varies with the tuning, so one unlucky tuning must not fail them all.
        let dir = tempdir();
        let setting = |threads: &'static str| Setting {
            threads,
            cache: dir.path().join(format!("tune-cache-{threads}.json")),
            backend: backend.clone(),
        };
        let (one, two) = (setting("1"), setting("2"));
        tune_apart(dir.path(), &one, &two);
        let mut readings = vec![parallelism_when_available(PARALLEL_ENOUGH, WAIT_FOR_CORES)];
        let Err(why) = attempt(dir.path(), n, [&one, &two, &two], &mut readings) else {
            return;
        };
        let seen: Vec<String> = readings.iter().map(|p| format!("{p:.2}")).collect();
        let line = format!("attempt {n} (host parallelism {}): {why}", seen.join(", "));
        eprintln!("{line}");
        if readings.iter().all(|&p| p >= PARALLEL_ENOUGH) {
            failures.push(line);
        } else {
            not_counted.push(line);
        }
    }
    panic!(
        "the ground truth did not show in any attempt; with two cores throughout: {failures:?}; \
         without (the host starved lavapipe during the attempt): {not_counted:?}"
    );
}
