//! A real one-node Slurm cluster on localhost runs `scripts/slurm/fleetbench.sbatch` as a job
//! array of four lavapipe tasks, one of them slowed (`LP_NUM_THREADS=1` and two busy loops, see
//! tests/slurm/slow-task.sh); the merged files must name the slowed unit, and only it, as an
//! outlier. Four units rather than three, so that the group median lies between two healthy
//! units and a healthy unit could be wrongly flagged: with three, the median is always a
//! healthy unit and "the others are not flagged" could not fail.
//!
//! The tasks run one at a time (`--array=0-3%1`) so they do not compete with each other for the
//! two cores: the slowdown is the only intended difference between them. The threshold is 40%,
//! well inside the slowed task's loss (about two thirds on an idle 2-core machine: 0.35 of the
//! group's centre in one run) and outside the run-to-run noise of the healthy ones, which on this
//! kind of shared host has reached 29% below the centre (0.71, with the other two at 1.29) for
//! tasks run one after another; at 25% that healthy task was flagged. A job whose verdicts come
//! out wrong is run again, up to [`ATTEMPTS`] times, with every attempt's verdicts printed.
//!
//! Needs root and Debian's slurmd slurmctld slurm-client munge (installed on CI by
//! .ci/install.d/40-slurm.sh). Without them the test skips, unless FLEETBENCH_REQUIRE_GPU=1 or
//! FLEETBENCH_REQUIRE_SLURM=1 asks for it to fail instead.

#[path = "integration/common.rs"]
mod common;
use common::{fleetbench, gpu_available, repo_path, tempdir};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Stops the daemons `cluster.sh start` started, however the test ends.
struct Cluster {
    dir: PathBuf,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(repo_path("tests/slurm/cluster.sh"))
            .arg("stop")
            .arg(&self.dir)
            .status();
    }
}

fn slurm_usable() -> bool {
    let root = Command::new("id")
        .arg("-u")
        .output()
        .map(|o| o.stdout == b"0\n");
    let tools = ["slurmctld", "slurmd", "sbatch", "munged"].iter().all(|t| {
        Command::new("sh")
            .args(["-c", &format!("command -v {t}")])
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let usable = root.unwrap_or(false) && tools;
    let required = ["FLEETBENCH_REQUIRE_GPU", "FLEETBENCH_REQUIRE_SLURM"]
        .iter()
        .any(|v| std::env::var(v).as_deref() == Ok("1"));
    assert!(usable || !required, "a Slurm test was required, but root or the Slurm packages (slurmd slurmctld slurm-client munge) are missing");
    if !usable {
        eprintln!("skipping: needs root and slurmd slurmctld slurm-client munge");
    }
    usable
}

fn start_cluster(dir: &Path) -> Cluster {
    let status = Command::new(repo_path("tests/slurm/cluster.sh"))
        .arg("start")
        .arg(dir)
        .status()
        .unwrap();
    let cluster = Cluster {
        dir: dir.to_path_buf(),
    };
    assert!(status.success(), "the test cluster did not start");
    cluster
}

/// Submits the array and waits for it; on failure shows every task's output.
fn submit(dir: &Path, results: &Path) {
    let out = Command::new("timeout")
        .arg("900")
        .args([
            "sbatch",
            "--wait",
            "--array=0-3%1",
            "--job-name=fleetbench-test",
            "-o",
        ])
        .arg(dir.join("task-%a.out"))
        .arg(repo_path("scripts/slurm/fleetbench.sbatch"))
        .arg(results)
        .args([
            // Three compute-bound cases with 20 samples each: the outlier rule needs the slowed
            // unit's 95% interval below the group median on most cases, and with 10 samples that
            // interval (ranks 2 to 9) is too wide for a unit competing with busy loops.
            "--sizes",
            "256,320,384",
            "--kernels",
            "matmul_blocked",
            "--samples",
            "20",
        ])
        .env("SLURM_CONF", dir.join("slurm.conf"))
        .env("NODEVICE_SELECT", "1")
        .env("FLEETBENCH", repo_path("tests/slurm/slow-task.sh"))
        .env("FLEETBENCH_REAL_BIN", env!("CARGO_BIN_EXE_fleetbench"))
        .env("FLEETBENCH_SLOW_TASK", "1")
        .env_remove("LP_NUM_THREADS")
        .output()
        .unwrap();
    if !out.status.success() {
        let logs: Vec<String> = (0..4)
            .map(|i| std::fs::read_to_string(dir.join(format!("task-{i}.out"))).unwrap_or_default())
            .collect();
        panic!(
            "sbatch failed: {}\n{}\ntask output:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            logs.join("\n---\n")
        );
    }
}

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// One job array merged: the slowed unit must be the one outlier and `--fail-on-outliers` must
/// exit 1. What the files and the report hold is asserted; whether the host's noise let the
/// verdicts come out right is returned, so an attempt can be tried again.
fn one_job(scratch: &Path, n: usize) -> Result<(), String> {
    let results = scratch.join(format!("shared-results-{n}"));
    submit(scratch, &results);
    let merged = scratch.join(format!("merged-{n}.json"));
    let out = fleetbench()
        .args(["merge", "--threshold", "40", "--fail-on-outliers", "-o"])
        .arg(&merged)
        .arg(&results)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = read_json(&merged);
    let group = &report["groups"][0];
    let units = group["units"].as_array().unwrap();
    assert_eq!(units.len(), 4, "{stderr}");
    let mut verdicts = Vec::new();
    for (unit, score) in units.iter().zip(group["scores"].as_array().unwrap()) {
        let file = read_json(Path::new(unit["path"].as_str().unwrap()));
        let slowed = file["machine"]["env"]["LP_NUM_THREADS"] == "1";
        verdicts.push((slowed, score["outlier"] == true, score["relative"].clone()));
    }
    eprintln!("attempt {n}: (slowed, flagged, relative throughput) per unit: {verdicts:?}");
    assert_eq!(verdicts.iter().filter(|v| v.0).count(), 1, "{verdicts:?}");
    if verdicts
        .iter()
        .any(|(slowed, flagged, _)| slowed != flagged)
    {
        return Err(format!("attempt {n}: {verdicts:?}"));
    }
    assert_eq!(out.status.code(), Some(1), "--fail-on-outliers: {stderr}");
    Ok(())
}

/// Job arrays tried before the test fails. Tasks run one after another on a shared host, so a
/// healthy task that the host starved for its whole run is as slow as the slowed one; a merge
/// that cannot tell them apart fails every attempt.
const ATTEMPTS: usize = 3;

#[test]
fn a_slurm_job_array_flags_the_slowed_unit_and_only_it() {
    if !gpu_available() || !slurm_usable() {
        return;
    }
    let scratch = tempdir();
    let _cluster = start_cluster(scratch.path());
    let mut failures = Vec::new();
    for n in 0..ATTEMPTS {
        match one_job(scratch.path(), n) {
            Ok(()) => return,
            Err(why) => failures.push(why),
        }
    }
    panic!("no job array named the slowed unit alone: {failures:?}");
}
