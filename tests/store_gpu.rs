//! Ground truth for `store regressions` on a real adapter: four units (lavapipe runs recorded
//! under four host names) measured in interleaved rounds, three normal rounds and then a
//! fourth. In the planted sequence one unit runs its fourth round with `LP_NUM_THREADS=1`: it
//! must be the only unit named. In the A/A sequence the fourth round is normal: no unit may be
//! named, although the host's speed drifts by tens of percent between rounds minutes apart —
//! the drift every unit shares must not read as every unit regressing.
//!
//! Both sequences share their first three rounds (each store gets them ingested), so a whole
//! attempt is five rounds. A unit named in an A/A sequence whose round had the host's two
//! cores by every reading is let through once (the readings are taken between runs and miss a
//! dip inside one); a second such false alarm fails the test at once. A unit the host starved
//! during its own A/A run really did run slower (the A/A truth is for a quiet host), so
//! an A/A round around which the host did not give two cores does not count, and neither does
//! a planted round that is not named (the slowdown is only real while the host gives lavapipe
//! two cores, and a between-run spread estimated from three runs on a host whose speed swings
//! is wide): the attempt is tried again, up to [`ATTEMPTS`] times, and the test fails when no
//! attempt gets both right. Each failed attempt is reported with the host's parallelism around
//! every run of its last two rounds, which tells a busy host from a blind test. Nothing here asserts a
//! wall-clock time.

#[path = "integration/common.rs"]
mod common;
#[path = "support/lavapipe.rs"]
mod lavapipe;
use common::{fleetbench, tempdir};
use lavapipe::{host_parallelism, llvmpipe_backend, parallelism_when_available};
use serde_json::Value;
use std::path::Path;

const UNITS: usize = 4;
/// Normal rounds before the last one: the own history the last run is tested against.
const HISTORY_ROUNDS: usize = 3;
/// The unit slowed in the planted sequence.
const SLOWED: usize = 2;
/// Planted rounds tried before the test fails. Six, as compare_gpu: with a between-run spread
/// estimated from three runs, the slowed unit at half speed went unnamed in 5 of 9 attempts in
/// one stretch on this host (p up to 0.057 with the spread at 24%), and two runs here needed
/// all of four attempts.
const ATTEMPTS: usize = 6;
/// Two threads must get at least this much more work done than one, before and after a
/// round, for the host to have given lavapipe two cores.
const PARALLEL_ENOUGH: f64 = 1.6;
/// How long to wait for the host to give two cores before the planted round.
const WAIT_FOR_CORES: std::time::Duration = std::time::Duration::from_secs(30);

/// One quick run of `unit` (recorded as host `node<unit>`) with `threads` lavapipe threads.
fn run_unit(backend: &str, unit: usize, threads: &str, seed: usize, path: &Path) {
    let out = fleetbench()
        .env("UNIT_HOST", format!("node{unit}"))
        .env("LP_NUM_THREADS", threads)
        .args(["run", "--device", "llvmpipe", "--backend", backend])
        .args(["--host-from-env", "UNIT_HOST"])
        .args(["--kernels", "peak_fma_f32,matmul_tiled", "--sizes", "384"])
        .args(["--samples", "7", "--warmup", "0.1", "--quick", "--quiet"])
        .arg("--seed")
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

/// The host's parallelism around every run of the A/A round and of the planted round: the two
/// rounds whose truths need two cores (a load shared by every unit in the history rounds is
/// what the period reference takes out). A starved stretch inside a round slows the one unit
/// running then, so a reading is taken before each run and after the round's last.
#[derive(Debug, Clone, Default)]
struct Readings {
    aa: Vec<f64>,
    planted: Vec<f64>,
}

impl Readings {
    fn aa_counts(&self) -> bool {
        self.aa.iter().all(|&p| p >= PARALLEL_ENOUGH)
    }

    fn planted_counts(&self) -> bool {
        self.planted.iter().all(|&p| p >= PARALLEL_ENOUGH)
    }

    fn describe(&self) -> String {
        let list = |v: &[f64]| {
            v.iter()
                .map(|p| format!("{p:.2}"))
                .collect::<Vec<_>>()
                .join(" ")
        };
        format!("A/A {}; planted {}", list(&self.aa), list(&self.planted))
    }
}

/// Five rounds of every unit, the order rotated each round so no unit is always first: rounds
/// 0–2 into `common/`, round 3 into `aa/` (normal), round 4 into `planted/` (the slowed unit
/// with one thread).
fn measure(backend: &str, dir: &Path, attempt: usize) -> Readings {
    for sub in ["common", "aa", "planted"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
    }
    let mut readings = Readings::default();
    for round in 0..HISTORY_ROUNDS + 2 {
        let (sub, mut watched) = match round {
            r if r < HISTORY_ROUNDS => ("common", None),
            r if r == HISTORY_ROUNDS => ("aa", Some(&mut readings.aa)),
            _ => ("planted", Some(&mut readings.planted)),
        };
        for step in 0..UNITS {
            if let Some(w) = watched.as_deref_mut() {
                w.push(if step == 0 {
                    parallelism_when_available(PARALLEL_ENOUGH, WAIT_FOR_CORES)
                } else {
                    host_parallelism()
                });
            }
            let unit = (step + round) % UNITS;
            let slowed = sub == "planted" && unit == SLOWED;
            let threads = if slowed { "1" } else { "2" };
            let seed = 1 + (attempt * 10 + round) * UNITS + unit;
            let path = dir.join(sub).join(format!("r{round}-node{unit}.json"));
            run_unit(backend, unit, threads, seed, &path);
        }
        if let Some(w) = watched {
            w.push(host_parallelism());
        }
    }
    readings
}

/// Ingests `sequence` on top of the shared rounds into a fresh store; its regressions (every
/// finding) and the exit status of `--fail-on-regressions`.
fn regressions(dir: &Path, sequence: &str) -> (Option<i32>, Vec<Value>) {
    let db = dir.join(format!("{sequence}.sqlite"));
    let ingest = fleetbench()
        .arg("store")
        .arg("--db")
        .arg(&db)
        .arg("ingest")
        .arg(dir.join("common"))
        .arg(dir.join(sequence))
        .output()
        .unwrap();
    assert!(
        ingest.status.success(),
        "{}",
        String::from_utf8_lossy(&ingest.stderr)
    );
    let out = fleetbench()
        .arg("store")
        .arg("--db")
        .arg(&db)
        .args([
            "regressions",
            "--all",
            "--fail-on-regressions",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!("{}", String::from_utf8_lossy(&out.stderr));
    });
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    (out.status.code(), findings)
}

/// Host, metric, ratio against the period and verdict of a finding, for messages.
fn describe(f: &Value) -> String {
    format!(
        "{} {} x{:.3} (raw x{:.3}, against period {}) {}",
        f["host"],
        f["metric"],
        f["own"]["ratio"],
        f["own"]["raw_ratio"],
        f["own"]["against_period"],
        f["verdict"]
    )
}

fn regressed(findings: &[Value]) -> Vec<&Value> {
    findings
        .iter()
        .filter(|f| f["verdict"] == "regressed")
        .collect()
}

/// Every unit's own history was tested against its period, and the sequence names exactly
/// `expected` (no unit, or the slowed one).
fn check(
    sequence: &str,
    (code, findings): (Option<i32>, Vec<Value>),
    expected: Option<&str>,
) -> Result<(), String> {
    let all: Vec<String> = findings.iter().map(describe).collect();
    let untested = findings
        .iter()
        .any(|f| f["own"].is_null() || f["own"]["against_period"] != true);
    if findings.len() < UNITS || untested {
        return Err(format!(
            "{sequence}: every unit's history must be tested against its period: {all:?}"
        ));
    }
    let named: Vec<&str> = regressed(&findings)
        .iter()
        .filter_map(|f| f["host"].as_str())
        .collect();
    let right = match expected {
        None => named.is_empty() && code == Some(0),
        Some(unit) => !named.is_empty() && named.iter().all(|h| *h == unit) && code == Some(1),
    };
    if right {
        Ok(())
    } else {
        Err(format!(
            "{sequence}: expected {expected:?} named, exit {code:?}: {all:?}"
        ))
    }
}

/// How an attempt went.
struct Attempt {
    /// Both sequences right, or what was wrong.
    outcome: Result<(), String>,
    /// The host's parallelism around the runs of its last two rounds.
    readings: Readings,
    /// The A/A sequence named a unit although every reading around its runs saw two cores.
    unexcused_false_alarm: bool,
}

fn attempt(backend: &str, dir: &Path, n: usize) -> Attempt {
    let readings = measure(backend, dir, n);
    let slowed = format!("node{SLOWED}");
    let aa = check("A/A", regressions(dir, "aa"), None);
    let unexcused_false_alarm = aa.is_err() && readings.aa_counts();
    let planted = check("planted", regressions(dir, "planted"), Some(&slowed));
    Attempt {
        outcome: aa.and(planted),
        readings,
        unexcused_false_alarm,
    }
}

/// A/A false alarms with two cores by every reading that fail the test at once. One is let
/// through: the readings are taken between runs, and a dip inside a run goes unseen (one CI
/// run's A/A named a unit whose peak ran at 0.59 of its history with readings of 1.88-2.01
/// before and after every run). A second in the same test is not a host event.
const UNEXCUSED_FALSE_ALARMS: usize = 2;

#[test]
fn a_unit_slowed_to_one_thread_is_the_only_regression_and_an_a_a_sequence_names_none() {
    let Some(backend) = llvmpipe_backend() else {
        eprintln!("skipping: no lavapipe adapter");
        return;
    };
    let (mut failures, mut false_alarms) = (Vec::new(), 0);
    for n in 0..ATTEMPTS {
        let dir = tempdir();
        let Attempt {
            outcome,
            readings,
            unexcused_false_alarm,
        } = attempt(&backend, dir.path(), n);
        let Err(why) = outcome else { return };
        let busy = if readings.aa_counts() && readings.planted_counts() {
            ""
        } else {
            " (the host did not give two cores)"
        };
        let line = format!(
            "attempt {n} (host parallelism {}{busy}): {why}",
            readings.describe()
        );
        eprintln!("{line}");
        failures.push(line);
        false_alarms += usize::from(unexcused_false_alarm);
        assert!(
            false_alarms < UNEXCUSED_FALSE_ALARMS,
            "{false_alarms} A/A false alarms with two cores by every reading: {failures:?}"
        );
    }
    panic!("no attempt named none in A/A and the slowed unit alone when planted: {failures:?}");
}
