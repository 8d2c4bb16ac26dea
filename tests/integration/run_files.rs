//! What `run` writes and refuses: an old result survives a `--force` run until the new one is
//! complete, a file-size limit gives a one-line error instead of a silent death, a fake at the
//! top of its range writes a file `validate` accepts, flags that would do nothing are refused,
//! and the file says how steady the host was.

use crate::common::{fleetbench, tempdir};
use std::path::Path;
use std::process::{Command, Output};

/// A small fake run (three cases, a few kilobytes) into `output`.
fn small_run(output: &Path, extra: &[&str]) -> Command {
    seeded_run(output, 1, extra)
}

/// [`small_run`] with the seed `seed`.
fn seeded_run(output: &Path, seed: u64, extra: &[&str]) -> Command {
    let mut cmd = fleetbench();
    cmd.args(["run", "--fake", "g:50", "--kernels", "matmul_naive"])
        .args(["--sizes", "64,96,128", "--samples", "3", "-q"])
        .arg(format!("--seed={seed}"))
        .arg("-o")
        .arg(output)
        .args(extra);
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `cmd` with writes limited to `bytes` per file, leaving SIGXFSZ as it is: fleetbench
/// must ignore it itself.
fn with_file_size_limit(cmd: &mut Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setrlimit is async-signal-safe, as pre_exec requires.
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_DFL);
            let limit = libc::rlimit {
                rlim_cur: bytes as libc::rlim_t,
                rlim_max: bytes as libc::rlim_t,
            };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_file_size_limit_is_a_one_line_error_and_leaves_no_temporary_file() {
    let dir = tempdir();
    let path = dir.path().join("new.json");
    let mut cmd = small_run(&path, &[]);
    with_file_size_limit(&mut cmd, 1024);
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "killed by a signal? {out:?}");
    assert_eq!(
        stderr(&out),
        format!(
            "error: {}: not written: File too large (os error 27); any existing file is unchanged\n",
            path.display()
        )
    );
    assert!(
        names_in(dir.path()).is_empty(),
        "{:?}",
        names_in(dir.path())
    );
}

#[test]
fn force_keeps_the_old_file_until_the_new_run_is_complete() {
    let dir = tempdir();
    let path = dir.path().join("old.json");
    assert!(small_run(&path, &[]).output().unwrap().status.success());
    let before = std::fs::read(&path).unwrap();
    // Room for the header, not for the finished file: the run fails after its first save.
    let mut cmd = small_run(&path, &["--force"]);
    with_file_size_limit(&mut cmd, 4096);
    let out = cmd.output().unwrap();
    let partial = dir.path().join("old.json.partial");
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        format!(
            "error: {p}: not written: File too large (os error 27); {o} is unchanged; the samples taken so far are in {p}\n",
            p = partial.display(),
            o = path.display()
        )
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    assert_eq!(names_in(dir.path()), ["old.json", "old.json.partial"]);
    // A complete run replaces the old file and its partial beside it.
    let out = seeded_run(&path, 2, &["--force"]).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(names_in(dir.path()), ["old.json"]);
    let file = fleetbench::results::load(&path).unwrap();
    assert_eq!(file.run.seed, 2);
    assert!(file.run.complete);
}

#[test]
fn the_top_of_the_fake_range_writes_a_valid_file_and_above_it_is_refused() {
    let dir = tempdir();
    let path = dir.path().join("fast.json");
    let out = fleetbench()
        .args([
            "run",
            "--fake",
            "fast:50000",
            "--quick",
            "-q",
            "--seed",
            "3",
            "-o",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let out = fleetbench().arg("validate").arg(&path).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let out = fleetbench()
        .args(["run", "--fake", "fast:50001", "-o"])
        .arg(dir.path().join("x.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error: --fake 'fast:50001': GFLOPS must be a number from 0.001 to 50000\n"
    );
}

#[test]
fn flags_that_would_do_nothing_are_refused() {
    let dir = tempdir();
    let o = dir.path().join("x.json");
    let refused = [
        (
            vec!["--target-half-width", "1", "--samples", "5"],
            "error: --target-half-width 1: has no effect with --samples 5 (every case takes exactly 5 samples); give one of them\n",
        ),
        (
            vec!["--kernels", "matmul_naive", "--retune"],
            "error: --retune: has no effect: --kernels selects no tuned kernel (add 'tuned' to tune)\n",
        ),
        (
            vec!["--kernels", "copy", "--tune-size", "512"],
            "error: --tune-size: has no effect: --kernels selects no tuned kernel (add 'tuned' to tune)\n",
        ),
    ];
    for (flags, message) in refused {
        let out = fleetbench()
            .args(["run", "--fake", "g:50", "-o"])
            .arg(&o)
            .args(&flags)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{flags:?}");
        assert_eq!(stderr(&out), message, "{flags:?}");
    }
    assert!(!o.exists());
}

#[test]
fn the_file_says_how_steady_the_host_was() {
    let dir = tempdir();
    let path = dir.path().join("steady.json");
    assert!(small_run(&path, &[]).output().unwrap().status.success());
    let file = fleetbench::results::load(&path).unwrap();
    let host = file.run.host.expect("a host steadiness record");
    assert!(host.probe_start_fma_per_s > 0.0 && host.probe_end_fma_per_s > 0.0);
    let change = host.probe_end_fma_per_s / host.probe_start_fma_per_s - 1.0;
    assert!((host.change - change).abs() < 1e-12);
    assert_eq!(
        host.quiet,
        change.abs() <= fleetbench::results::HostStability::QUIET_CHANGE
    );
}

#[test]
fn help_and_readme_state_the_defaults_the_code_uses() {
    use fleetbench::measure::{plan, GPU_TUNE_SIZE, SMALL_TUNE_SIZE};
    let help = fleetbench().args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let budget = format!(
        "default {}; {} with --quick",
        plan::DEFAULT_BUDGET_S,
        plan::QUICK_BUDGET_S
    );
    let target = format!("(default {})", plan::DEFAULT_TARGET_HALF_WIDTH * 100.0);
    let warmup = format!(
        "(default {}; {} with --quick)",
        plan::DEFAULT_WARMUP_S,
        plan::QUICK_WARMUP_S
    );
    let timeout = format!("[default: {}]", plan::DEFAULT_GPU_TIMEOUT_S);
    for phrase in [&budget, &target, &warmup, &timeout] {
        assert!(
            help.contains(phrase.as_str()),
            "run --help lacks '{phrase}'"
        );
    }
    let merge = fleetbench().args(["merge", "--help"]).output().unwrap();
    let threshold = format!(
        "[default: {}]",
        fleetbench::merge::DEFAULT_THRESHOLD * 100.0
    );
    assert!(String::from_utf8_lossy(&merge.stdout).contains(&threshold));
    let readme = std::fs::read_to_string(crate::common::repo_path("README.md")).unwrap();
    let stated = [
        format!(
            "`--budget SECONDS` (default {}; {} with `--quick`)",
            plan::DEFAULT_BUDGET_S,
            plan::QUICK_BUDGET_S
        ),
        format!(
            "`--target-half-width` percent (default {})",
            plan::DEFAULT_TARGET_HALF_WIDTH * 100.0
        ),
        format!(
            "`--tune-size N` (default {GPU_TUNE_SIZE}; {SMALL_TUNE_SIZE} with `--quick` or on a CPU adapter)"
        ),
        format!(
            "(default {}%)",
            fleetbench::merge::DEFAULT_THRESHOLD * 100.0
        ),
    ];
    let flat = readme.split_whitespace().collect::<Vec<_>>().join(" ");
    for phrase in &stated {
        assert!(flat.contains(phrase.as_str()), "README lacks '{phrase}'");
    }
}
