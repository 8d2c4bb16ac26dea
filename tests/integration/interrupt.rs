//! Interrupting `fleetbench run` part-way on a real adapter: after SIGKILL the file on disk is
//! still valid and holds every case that had finished; after SIGINT the run finishes the case in
//! flight, says so, exits non-zero and leaves a valid, consistent file marked incomplete, and so
//! after SIGTERM.

use crate::common::{fleetbench, gpu_available, tempdir};
use fleetbench::results::{self, CaseStatus, ResultFile};
use fleetbench::validate::{check_file, NoPeaks};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

/// Thirty small cases; warm-up makes each last a fraction of a second on lavapipe.
fn start_run(path: &Path) -> Child {
    let sizes: Vec<String> = (16..46).map(|s| s.to_string()).collect();
    fleetbench()
        .args(["run", "--kernels", "matmul_naive", "--samples", "3"])
        .args(["--warmup", "0.2", "--quiet", "--sizes", &sizes.join(",")])
        .arg("-o")
        .arg(path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until the file on disk holds at least `cases` cases; returns what it held.
fn wait_for_cases(path: &Path, cases: usize, child: &mut Child) -> ResultFile {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if let Ok(file) = results::load(path) {
            if file.cases.len() >= cases {
                return file;
            }
        }
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(
            Instant::now() < deadline,
            "no progress on {}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The file after the signal must be valid, incomplete, consistent, and start with every case
/// seen before it.
fn check_survivor(path: &Path, before: &ResultFile) -> ResultFile {
    let after = results::load(path).expect("the file on disk is valid after the signal");
    assert!(!after.run.complete);
    assert!(after.cases.len() >= before.cases.len());
    assert!(after.cases.len() < 30, "the run was not interrupted");
    assert_eq!(after.cases[..before.cases.len()], before.cases[..]);
    for case in &after.cases {
        assert_eq!(case.status, CaseStatus::Passed, "{case:?}");
    }
    assert!(
        check_file(&after, &NoPeaks).is_empty(),
        "{:?}",
        check_file(&after, &NoPeaks)
    );
    after
}

#[test]
fn sigkill_leaves_a_valid_file_with_every_finished_case() {
    if !gpu_available() {
        return;
    }
    let dir = tempdir();
    let path = dir.path().join("r.json");
    let mut child = start_run(&path);
    let before = wait_for_cases(&path, 2, &mut child);
    child.kill().unwrap();
    child.wait().unwrap();
    check_survivor(&path, &before);
}

/// SIGINT (Ctrl-C), and SIGTERM as a batch scheduler sends it at a job's time limit.
#[test]
fn sigint_or_sigterm_finishes_the_case_in_flight_and_exits_non_zero() {
    if !gpu_available() {
        return;
    }
    for signal in [libc::SIGINT, libc::SIGTERM] {
        let dir = tempdir();
        let path = dir.path().join("r.json");
        let mut child = start_run(&path);
        let before = wait_for_cases(&path, 2, &mut child);
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        // SAFETY: kill(2) with a live child's pid and a valid signal number has no memory
        // effects.
        let sent = unsafe { libc::kill(pid, signal) };
        assert_eq!(sent, 0, "kill failed");
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "signal {signal}: {stderr}");
        assert!(stderr.contains("interrupted"), "{stderr}");
        let after = check_survivor(&path, &before);
        assert!(stderr.contains(&format!("{} finished case(s) are saved", after.cases.len())));
    }
}
