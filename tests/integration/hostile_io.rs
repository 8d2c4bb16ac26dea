//! Hostile file-system inputs and outputs, for every command that reads or writes: FIFOs and
//! `/dev/zero` given as inputs are refused without blocking or reading (created here at run
//! time, never committed), a non-regular `-o` is never replaced, two runs racing for one output
//! cannot both succeed, `merge -o` cannot replace its own input, a full disk keeps the old file,
//! `run --fake` never touches the tuning cache, and numeric flags outside their range are refused
//! with the range. Every case checks one line on stderr and a non-zero status.
#![cfg(unix)]

use crate::common::{fleetbench, repo_path, tempdir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs `cmd`, killing it if it is still running after a minute: a loader that blocks on a FIFO
/// or reads `/dev/zero` forever fails the test instead of hanging it.
fn run_bounded(mut cmd: Command) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after a minute (blocked or unbounded): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Exit 2, one line on stderr, containing every phrase.
fn assert_refused(out: &Output, phrases: &[&str]) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    for p in phrases {
        assert!(err.contains(p), "expected '{p}' in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

fn is_fifo(path: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::symlink_metadata(path)
        .map(|m| m.file_type().is_fifo())
        .unwrap_or(false)
}

fn fake_run(output: &Path, extra: &[&str]) -> Command {
    let mut cmd = fleetbench();
    cmd.args([
        "run",
        "--fake",
        "hostile gpu:50",
        "--kernels",
        "matmul_naive",
        "--sizes",
        "64",
        "--samples",
        "3",
        "--seed",
        "1",
        "-q",
        "-o",
    ])
    .arg(output)
    .args(extra);
    cmd
}

/// Each loader with a FIFO and with `/dev/zero`: (argument list with `{}` for the input).
fn loaders() -> Vec<Vec<String>> {
    let fleet = repo_path("data/scenarios/one-h100-four-a100.toml");
    let fleet = fleet.to_str().unwrap();
    [
        vec!["validate", "{}"],
        vec!["compare", "{}", "{}"],
        vec!["calibrate", "{}", "--reference", "h100-sxm"],
        vec!["report", "{}", "-o", "OUTDIR"],
        vec!["project", "{}"],
        vec!["project", fleet, "--ratios", "{}"],
        vec!["catalog", "import-epoch", "{}"],
    ]
    .into_iter()
    .map(|v| v.into_iter().map(str::to_string).collect())
    .collect()
}

#[test]
fn fifos_and_dev_zero_are_refused_by_every_loader_without_blocking() {
    let dir = tempdir();
    let fifo = dir.path().join("input.json");
    mkfifo(&fifo);
    let outdir = dir.path().join("report");
    for input in [fifo.as_path(), Path::new("/dev/zero")] {
        for args in loaders() {
            let args: Vec<String> = args
                .iter()
                .map(|a| {
                    a.replace("{}", input.to_str().unwrap())
                        .replace("OUTDIR", outdir.to_str().unwrap())
                })
                .collect();
            let mut cmd = fleetbench();
            cmd.args(&args);
            let out = run_bounded(cmd);
            let kind = if input == fifo {
                "is a named pipe (FIFO), not a regular file"
            } else {
                "is a character device, not a regular file"
            };
            assert_refused(&out, &[kind]);
        }
    }
}

#[test]
fn merge_lists_fifos_and_never_walks_out_of_its_tree() {
    let dir = tempdir();
    let tree = dir.path().join("tree");
    std::fs::create_dir(&tree).unwrap();
    let out = run_bounded(fake_run(&tree.join("a.json"), &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    mkfifo(&tree.join("pipe.json"));
    std::os::unix::fs::symlink("..", tree.join("up")).unwrap();
    std::os::unix::fs::symlink(&tree, tree.join("loop")).unwrap();
    std::fs::write(dir.path().join("outside.json"), "not json").unwrap();
    let mut cmd = fleetbench();
    cmd.arg("merge").arg(&tree);
    let out = run_bounded(cmd);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("pipe.json: a named pipe (FIFO), not a regular file"),
        "{err}"
    );
    assert!(
        err.contains("up: a symbolic link out of the directory"),
        "{err}"
    );
    assert!(
        err.contains("loop: a symbolic link to a directory"),
        "{err}"
    );
    assert!(!err.contains("outside.json"), "{err}");
    assert!(err.contains("merged 1 file(s)"), "{err}");
}

#[test]
fn a_non_regular_output_is_never_replaced() {
    let dir = tempdir();
    let input = dir.path().join("a.json");
    let out = run_bounded(fake_run(&input, &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    let fifo = dir.path().join("out.json");
    mkfifo(&fifo);
    let commands: Vec<Vec<&str>> = vec![
        vec!["merge", "IN", "-o", "OUT", "--force"],
        vec![
            "calibrate",
            "IN",
            "--reference",
            "hostile gpu",
            "-o",
            "OUT",
            "--force",
        ],
    ];
    for args in commands {
        let mut cmd = fleetbench();
        for a in args {
            match a {
                "IN" => cmd.arg(&input),
                "OUT" => cmd.arg(&fifo),
                a => cmd.arg(a),
            };
        }
        let out = run_bounded(cmd);
        assert_refused(
            &out,
            &["out.json", "is a named pipe (FIFO), not a regular file"],
        );
        assert!(is_fifo(&fifo));
    }
    let out = run_bounded(fake_run(&fifo, &["--force"]));
    assert_refused(&out, &["out.json", "not a regular file"]);
    assert!(is_fifo(&fifo));
}

#[test]
fn of_two_runs_racing_for_one_output_exactly_one_succeeds() {
    let dir = tempdir();
    let path = dir.path().join("same.json");
    let spawn = || {
        fake_run(&path, &[])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let ok = outs.iter().filter(|o| o.status.success()).count();
    assert_eq!(ok, 1, "{} / {}", stderr(&outs[0]), stderr(&outs[1]));
    let loser = outs.iter().find(|o| !o.status.success()).unwrap();
    assert!(
        stderr(loser).contains("already exists"),
        "{}",
        stderr(loser)
    );
    fleetbench::results::load(&path).unwrap();
}

#[test]
fn merge_cannot_replace_one_of_its_inputs() {
    let dir = tempdir();
    let input = dir.path().join("a.json");
    let out = run_bounded(fake_run(&input, &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    let before = std::fs::read(&input).unwrap();
    let spelled = dir.path().join(".").join("a.json");
    for target in [&input, &spelled] {
        let mut cmd = fleetbench();
        cmd.arg("merge")
            .arg(dir.path())
            .arg("-o")
            .arg(target)
            .arg("--force");
        assert_refused(&run_bounded(cmd), &["is also an input"]);
    }
    let mut cmd = fleetbench();
    cmd.args(["calibrate", "--reference", "hostile gpu", "--force", "-o"])
        .arg(&input)
        .arg(&input);
    assert_refused(&run_bounded(cmd), &["is also an input"]);
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

/// Runs `cmd` with writes limited to `bytes` per file, which fails writes the way a full disk
/// does (EFBIG instead of ENOSPC, with SIGXFSZ ignored so the write returns an error).
fn with_file_size_limit(cmd: &mut Command, bytes: u64) {
    use std::os::unix::process::CommandExt;
    unsafe {
        cmd.pre_exec(move || {
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
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

#[test]
fn run_force_onto_a_full_disk_keeps_the_old_file() {
    let dir = tempdir();
    let path = dir.path().join("old.json");
    let out = run_bounded(fake_run(&path, &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    let before = std::fs::read(&path).unwrap();
    let mut cmd = fake_run(&path, &["--force"]);
    with_file_size_limit(&mut cmd, 512);
    let out = run_bounded(cmd);
    assert_refused(
        &out,
        &["old.json.partial: not written", "old.json is unchanged"],
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);
    let names: Vec<PathBuf> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(
        names,
        vec![path.clone()],
        "no temporary file is left behind"
    );
}

#[test]
fn a_fake_run_never_touches_the_tuning_cache() {
    let dir = tempdir();
    let cache = dir.path().join("tune.json");
    let mut cmd = fleetbench();
    cmd.env("FLEETBENCH_TUNE_CACHE", &cache)
        .args([
            "run",
            "--fake",
            "hostile gpu:50",
            "--quick",
            "--samples",
            "3",
            "-q",
            "-o",
        ])
        .arg(dir.path().join("r.json"));
    let out = run_bounded(cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !cache.exists(),
        "a fake adapter was written into the tuning cache"
    );
}

#[test]
fn numeric_flags_outside_their_range_are_refused_with_the_range() {
    let dir = tempdir();
    let file = dir.path().join("a.json");
    let out = run_bounded(fake_run(&file, &[]));
    assert!(out.status.success(), "{}", stderr(&out));
    let f = file.to_str().unwrap();
    let o = dir.path().join("new.json");
    let o = o.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["run", "--fake", "g:50", "-o", o, "--gpu-timeout", "1e20"],
            "from 0.001 to 86400",
        ),
        (
            vec!["run", "--fake", "g:50", "-o", o, "--gpu-timeout", "NaN"],
            "from 0.001 to 86400",
        ),
        (
            vec!["run", "--fake", "g:50", "-o", o, "--samples", "4294967296"],
            "from 2 to 10000",
        ),
        (
            vec!["run", "--fake", "g:50", "-o", o, "--samples", "10001"],
            "from 2 to 10000",
        ),
        (
            vec!["run", "--fake", "g:50", "-o", o, "--warmup", "1e9"],
            "from 0 to 3600",
        ),
        (
            vec!["run", "--fake", "g:50", "-o", o, "--max-memory", "2048T"],
            "1024T",
        ),
        (
            vec!["run", "--fake", "g:1e12", "-o", o],
            "from 0.001 to 50000",
        ),
        (
            vec!["compare", f, f, "--resamples", "1000000000"],
            "from 100 to 100000",
        ),
        (vec!["compare", f, f, "--threshold", "1e9"], "from 0 to 100"),
        (vec!["merge", f, "--threshold=-5"], "between 0 and 100"),
    ];
    for (args, range) in cases {
        let mut cmd = fleetbench();
        cmd.args(&args);
        let out = run_bounded(cmd);
        assert_refused(&out, &[range]);
        assert!(!Path::new(o).exists(), "{args:?} wrote a file");
    }
    // The largest accepted --samples gives a file validate accepts.
    let mut cmd = fleetbench();
    cmd.args([
        "run",
        "--fake",
        "g:50",
        "--kernels",
        "matmul_naive",
        "--sizes",
        "16",
    ])
    .args(["--samples", "10000", "--warmup", "0", "-q", "-o", o]);
    let out = run_bounded(cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    let mut cmd = fleetbench();
    cmd.arg("validate").arg(o);
    let out = run_bounded(cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}
