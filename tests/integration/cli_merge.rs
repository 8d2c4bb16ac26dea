//! `fleetbench merge` and the cluster naming of `fleetbench run`, end to end through the binary.
//! Result files come from the fake backend (no GPU needed) and are multiplied into a fleet by
//! editing their JSON, so hundreds of units cost milliseconds to make.

use crate::common::{fleetbench, gpu_available, tempdir};
use fleetbench::results::{derive_timing, RawTiming, ResultFile};
use serde_json::Value;
use std::path::Path;

/// One real fake-backend result file, parsed.
pub(crate) fn template(dir: &Path) -> Value {
    let path = dir.join("template.json");
    let out = fleetbench()
        .args([
            "run",
            "--fake",
            "fleet-gpu:100",
            "--sizes",
            "64,96",
            "--samples",
            "10",
        ])
        .args(["--seed", "7", "-q", "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    std::fs::remove_file(&path).unwrap();
    value
}

/// A copy of `template` for unit `host:gpu<index>` whose samples take `slowdown` times as long,
/// its statistics re-derived from them as a run would (merge loads through the checks).
pub(crate) fn unit(template: &Value, host: &str, index: usize, slowdown: f64) -> Value {
    let mut file: ResultFile = serde_json::from_value(template.clone()).unwrap();
    file.machine.hostname = host.into();
    file.machine.adapter.index = index;
    file.run.run_id = format!("run-{host}-{index}");
    for case in &mut file.cases {
        let Some(timing) = &case.timing else { continue };
        let slow = |s: &[f64]| s.iter().map(|x| x * slowdown).collect::<Vec<f64>>();
        let raw = RawTiming {
            host_s: slow(&timing.host_s),
            gpu_s: timing.gpu_s.as_deref().map(slow),
            dispatches_per_sample: timing.dispatches_per_sample,
            warmup_dispatches: timing.warmup_dispatches,
        };
        case.timing = Some(derive_timing(&case.workload, raw).unwrap());
    }
    serde_json::to_value(file).unwrap()
}

pub(crate) fn write(path: &Path, value: &Value) {
    std::fs::write(path, serde_json::to_vec(value).unwrap()).unwrap();
}

#[test]
fn three_hundred_units_merge_and_only_the_slow_one_is_named() {
    let dir = tempdir();
    let results = dir.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let template = template(dir.path());
    for i in 0..300 {
        let (host, index) = (format!("node{:03}", i / 4), i % 4);
        // ±1% spread between healthy units; node041:gpu2 is 25% slower.
        let slowdown = if (host.as_str(), index) == ("node041", 2) {
            1.25
        } else {
            1.0 + ((i * 37) % 11) as f64 / 500.0 - 0.01
        };
        let name = format!("{host}_gpu{index}.json");
        write(
            &results.join(name),
            &unit(&template, &host, index, slowdown),
        );
    }
    let merged = dir.path().join("merged.json");
    let out = fleetbench()
        .args(["merge", "--fail-on-outliers", "--format", "csv", "-o"])
        .arg(&merged)
        .arg(&results)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("merged 300 file(s) into 1 group(s), skipped 0; 1 outlier(s)"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("node041:gpu2,node041,2,run-node041-2"),
        "{stdout}"
    );
    let report: Value = serde_json::from_slice(&std::fs::read(&merged).unwrap()).unwrap();
    let group = &report["groups"][0];
    assert_eq!(group["units"].as_array().unwrap().len(), 300);
    let outliers: Vec<&Value> = group["scores"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["outlier"] == true)
        .collect();
    assert_eq!(outliers.len(), 1);
    let unit = &group["units"][outliers[0]["unit"].as_u64().unwrap() as usize];
    assert_eq!(
        (unit["host"].as_str(), unit["device_index"].as_u64()),
        (Some("node041"), Some(2))
    );
    let case = &group["cases"][0];
    assert_eq!(case["units"], 300);
    assert_eq!(case["samples"], 3000);
    assert!(case.get("pooled_samples").is_none(), "{case}");
    with_samples_the_report_only_gains_the_pooled_samples(&results, &report);
}

/// `--samples` adds each case's pooled samples to the JSON report and changes nothing else.
fn with_samples_the_report_only_gains_the_pooled_samples(results: &Path, report: &Value) {
    let out = fleetbench()
        .args(["merge", "--samples", "--format", "json"])
        .arg(results)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut full: Value = serde_json::from_slice(&out.stdout).unwrap();
    for case in full["groups"][0]["cases"].as_array_mut().unwrap() {
        let samples = case.as_object_mut().unwrap().remove("pooled_samples");
        let samples = samples.unwrap_or_default();
        assert_eq!(
            samples.as_array().map(Vec::len),
            case["samples"].as_u64().map(|n| n as usize)
        );
    }
    assert_eq!(&full, report);
}

#[test]
fn files_that_are_not_merged_are_listed_with_the_reason() {
    let dir = tempdir();
    let results = dir.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let template = template(dir.path());
    for i in 0..3 {
        write(
            &results.join(format!("n{i}.json")),
            &unit(&template, "n", i, 1.0),
        );
    }
    let mut newer = unit(&template, "n", 9, 1.0);
    newer["schema_version"] = 99.into();
    write(&results.join("newer.json"), &newer);
    let mut edited = unit(&template, "n", 8, 1.0);
    edited["cases"][0]["timing"]["throughput"]["median"]["value"] = 1e9.into();
    write(&results.join("edited.json"), &edited);
    std::fs::write(results.join("notes.txt"), "hello").unwrap();
    std::fs::write(results.join("broken.json"), "{\"schema_version\": 1").unwrap();
    std::fs::write(results.join(".fleetbench-abc.tmp"), "{").unwrap();
    let out = fleetbench().arg("merge").arg(&results).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    for expected in [
        "newer.json: schema_version 99 is not supported",
        "edited.json: inconsistent: case ",
        "notes.txt: not a .json file",
        "broken.json: invalid JSON",
        ".fleetbench-abc.tmp: temporary file",
        "merged 3 file(s) into 1 group(s), skipped 5",
    ] {
        assert!(
            stderr.contains(expected),
            "missing '{expected}' in {stderr}"
        );
    }
    let strict = fleetbench()
        .args(["merge", "--strict"])
        .arg(&results)
        .output()
        .unwrap();
    assert_eq!(strict.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&strict.stderr).contains("--strict refuses skipped files"));
}

#[test]
fn inputs_without_any_result_file_are_an_error() {
    let dir = tempdir();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let out = fleetbench().arg("merge").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no result files to merge"));
    let missing = fleetbench()
        .arg("merge")
        .arg(dir.path().join("nope"))
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("nope: cannot read this input"));
    let bad = fleetbench()
        .args(["merge", "--threshold", "150"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--threshold 150"));
}

/// `run --unique-name` as a scheduler task would call it.
fn cluster_run(dir: &Path, rank: Option<&str>, host: &str) -> std::process::Output {
    let mut cmd = fleetbench();
    cmd.args([
        "run",
        "--fake",
        "g:10",
        "--sizes",
        "32",
        "--samples",
        "2",
        "-q",
    ])
    .args([
        "--device-from-env",
        "TEST_RANK",
        "--host-from-env",
        "TEST_HOST",
        "--unique-name",
    ])
    .arg("--output-dir")
    .arg(dir)
    .env("TEST_HOST", host)
    .env_remove("TEST_RANK");
    if let Some(rank) = rank {
        cmd.env("TEST_RANK", rank);
    }
    cmd.output().unwrap()
}

#[test]
fn cluster_tasks_write_distinct_files_into_one_directory() {
    let dir = tempdir();
    let shared = dir.path().join("shared");
    for (rank, host) in [
        ("0", "node-a"),
        ("1", "node-a"),
        ("0", "node-b"),
        ("0", "node-b"),
    ] {
        let out = cluster_run(&shared, Some(rank), host);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let mut names: Vec<String> = std::fs::read_dir(&shared)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(names[0].starts_with("node-a_gpu0_") && names[1].starts_with("node-a_gpu1_"));
    assert!(names[2].starts_with("node-b_gpu0_") && names[3].starts_with("node-b_gpu0_"));
}

#[test]
fn bad_rank_variables_and_unwritable_directories_stop_the_task() {
    let dir = tempdir();
    let unset = cluster_run(dir.path(), None, "h");
    assert_eq!(unset.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&unset.stderr).contains("TEST_RANK: the variable is not set"));
    for bad in ["", "-1", "gpu0"] {
        let out = cluster_run(dir.path(), Some(bad), "h");
        assert_eq!(out.status.code(), Some(2), "{bad}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("is not a device index"),
            "{bad}"
        );
    }
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let out = cluster_run(&file.join("sub"), Some("0"), "h");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot create the output directory"));
    assert!(
        std::fs::read_dir(dir.path()).unwrap().count() == 1,
        "nothing else was written"
    );
}

#[test]
fn a_rank_beyond_the_adapters_is_refused_with_the_variable_named() {
    if !gpu_available() {
        return;
    }
    let dir = tempdir();
    let out = fleetbench()
        .args([
            "run",
            "--quick",
            "--device-from-env",
            "TEST_RANK",
            "--unique-name",
            "-q",
        ])
        .arg("--output-dir")
        .arg(dir.path())
        .env("TEST_RANK", "999")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--device-from-env TEST_RANK=999") && stderr.contains("no such adapter"),
        "{stderr}"
    );
}

#[test]
fn json_on_stdout_is_the_report_written_with_o() {
    let dir = tempdir();
    let results = dir.path().join("results");
    std::fs::create_dir(&results).unwrap();
    let template = template(dir.path());
    for i in 0..3 {
        let slowdown = if i == 2 { 1.5 } else { 1.0 };
        write(
            &results.join(format!("n{i}.json")),
            &unit(&template, "n", i, slowdown),
        );
    }
    let merged = dir.path().join("merged.json");
    let out = fleetbench()
        .args(["merge", "--format", "json", "-o"])
        .arg(&merged)
        .arg(&results)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    let written: Value = serde_json::from_slice(&std::fs::read(&merged).unwrap()).unwrap();
    assert_eq!(printed, written);
    let case = &printed["groups"][0]["cases"][0];
    assert!(case["centre"]["value"].is_f64() && case["centre"]["low"].is_f64());
    assert_eq!(case["slowest"]["unit"], 2);
    assert_eq!(printed["groups"][0]["scores"][2]["outlier"], true);
}

/// A merge of 2,000 files under its own `TMPDIR`, sent `signal` once its temporary directory
/// is in use (its owner file locked and in place): its output, the report path it was asked
/// to write, and the `TMPDIR`.
fn signalled_merge(
    dir: &Path,
    signal: libc::c_int,
) -> (std::process::Output, std::path::PathBuf, std::path::PathBuf) {
    let fleet = dir.join("fleet");
    let tmp = dir.join("tmp");
    std::fs::create_dir_all(&fleet).unwrap();
    std::fs::create_dir_all(&tmp).unwrap();
    let template = template(dir);
    for i in 0..2000 {
        let host = format!("node{i:04}");
        write(
            &fleet.join(format!("{host}.json")),
            &unit(&template, &host, 0, 1.0),
        );
    }
    let report = dir.join("report.json");
    let mut child = fleetbench()
        .arg("merge")
        .arg(&fleet)
        .arg("-o")
        .arg(&report)
        .env("TMPDIR", &tmp)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !walk_names(&tmp).iter().any(|n| n.ends_with("owner.lock")) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "merge ended before it could be stopped"
        );
        assert!(
            started.elapsed().as_secs() < 60,
            "no temporary directory appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let pid = libc::pid_t::try_from(child.id()).unwrap();
    // SAFETY: kill(2) with a live child's pid and a valid signal number has no memory effects.
    assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill failed");
    (child.wait_with_output().unwrap(), report, tmp)
}

fn spill_dirs(tmp: &Path) -> usize {
    std::fs::read_dir(tmp).unwrap().count()
}

/// Ctrl-C, and SIGTERM as a batch scheduler sends it, stop a merge cleanly.
#[test]
fn ctrl_c_or_sigterm_stops_a_merge_writes_nothing_and_removes_its_temporary_files() {
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let dir = tempdir();
        let (out, report, tmp) = signalled_merge(dir.path(), signal);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "signal {signal}: {stderr}");
        assert!(stderr.contains("nothing merged or written"), "{stderr}");
        assert!(
            out.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(!report.exists());
        assert_eq!(
            spill_dirs(&tmp),
            0,
            "the temporary directory is left behind"
        );
    }
}

/// A merge killed outright leaves its temporary directory; the next merge removes it.
#[test]
fn the_next_merge_removes_what_a_killed_merge_left() {
    let dir = tempdir();
    let (out, report, tmp) = signalled_merge(dir.path(), libc::SIGKILL);
    assert_eq!(out.status.code(), None, "killed by the signal");
    assert!(!report.exists());
    assert_eq!(spill_dirs(&tmp), 1, "a killed merge cannot clean up");
    let one = dir.path().join("fleet").join("node0000.json");
    crate::store::ok(
        fleetbench()
            .arg("merge")
            .arg(&one)
            .env("TMPDIR", &tmp)
            .output()
            .unwrap(),
    );
    let left: Vec<_> = walk_names(&tmp);
    assert_eq!(
        spill_dirs(&tmp),
        0,
        "the killed merge's directory is left: {left:?}"
    );
}

/// Every path under `dir`, as text.
fn walk_names(dir: &Path) -> Vec<String> {
    let mut names = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return names; // removed while it was walked
    };
    for e in entries.flatten() {
        names.push(e.path().display().to_string());
        if e.path().is_dir() {
            names.extend(walk_names(&e.path()));
        }
    }
    names
}
