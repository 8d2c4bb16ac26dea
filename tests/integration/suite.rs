//! The run loop with the deterministic fake backend: saving after every case, the finished
//! flag, interruption, and a schema round trip — all without a GPU.

use fleetbench::kernels::default_matmul_configs;
use fleetbench::measure::backend::{CaseSpec, Silent, SuiteEnd, TimingConfig};
use fleetbench::measure::fake::FakeBackend;
use fleetbench::measure::rounds::run_suite;
use fleetbench::results::{self, CaseStatus, ResultFile, RunInfo};
use fleetbench::workload::{Dtype, Workload};
use std::sync::atomic::AtomicBool;

fn empty_file(backend: &FakeBackend) -> ResultFile {
    use fleetbench::measure::backend::Backend;
    let mut run = RunInfo::new("t".into(), 1, 10);
    run.command = vec!["fleetbench".into()];
    run.started_at = "2026-01-01T00:00:00Z".into();
    ResultFile::new(
        fleetbench::measure::machine::describe(backend.adapter().clone(), "test"),
        run,
    )
}

fn plan() -> Vec<CaseSpec> {
    let mut plan = Vec::new();
    for size in [64, 128] {
        for kernel in default_matmul_configs() {
            plan.push(CaseSpec {
                workload: Workload::matmul(Dtype::F32, size, size, size),
                kernel,
                seed: size,
            });
        }
    }
    plan
}

/// Runs the plan on a fake backend into a fresh file; returns how it ended and what was saved.
fn run(interrupted: bool) -> (SuiteEnd, ResultFile, ResultFile) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    let mut backend = FakeBackend::new("fake gpu", 100.0, 0.01, 3);
    let mut file = empty_file(&backend);
    let flag = AtomicBool::new(interrupted);
    let timing = TimingConfig::default();
    let end = run_suite(
        &mut backend,
        &plan(),
        &timing,
        &mut file,
        &path,
        &mut Silent,
        &flag,
    )
    .unwrap();
    (end, file, results::load(&path).unwrap())
}

#[test]
fn a_complete_suite_saves_every_case_and_round_trips() {
    let (end, file, loaded) = run(false);
    assert_eq!(end, SuiteEnd::Complete);
    assert_eq!(loaded, file);
    assert!(loaded.run.complete && loaded.run.finished_at.is_some());
    assert_eq!(loaded.cases.len(), 4);
    for case in &loaded.cases {
        assert_eq!(case.status, CaseStatus::Passed);
        let median = case.timing.as_ref().unwrap().throughput.median.value;
        assert!((median - 100.0).abs() < 3.0, "{median}");
    }
}

#[test]
fn an_interrupted_suite_leaves_a_valid_incomplete_file() {
    let (end, _, loaded) = run(true);
    assert_eq!(end, SuiteEnd::Interrupted);
    assert!(!loaded.run.complete);
    assert!(loaded.cases.is_empty());
}

#[test]
fn unknown_fields_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.json");
    let backend = FakeBackend::new("fake gpu", 100.0, 0.01, 3);
    let mut value = serde_json::to_value(empty_file(&backend)).unwrap();
    value["surprise"] = serde_json::json!(1);
    std::fs::write(&path, value.to_string()).unwrap();
    let err = results::load(&path).unwrap_err().to_string();
    assert!(err.contains("r.json") && err.contains("surprise"), "{err}");
}
