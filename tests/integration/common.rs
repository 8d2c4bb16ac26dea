//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The `fleetbench` binary under test.
pub fn fleetbench() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fleetbench"));
    cmd.env("NODEVICE_SELECT", "1");
    // Never let a test read or write the user's tuning cache.
    cmd.env(
        "FLEETBENCH_TUNE_CACHE",
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("fleetbench-test-tune-cache.json"),
    );
    cmd
}

/// Whether a GPU adapter (lavapipe counts) is available. When the environment sets
/// `FLEETBENCH_REQUIRE_GPU=1` (CI does), a missing adapter fails the test instead of skipping it:
/// a GPU test that silently skips on CI tests nothing.
pub fn gpu_available() -> bool {
    let out = fleetbench()
        .args(["devices", "--format", "json"])
        .output()
        .expect("the fleetbench binary runs");
    let found = out.status.success()
        && serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|v| v.as_array().map(|a| !a.is_empty()))
            .unwrap_or(false);
    if !found && std::env::var("FLEETBENCH_REQUIRE_GPU").as_deref() == Ok("1") {
        panic!(
            "FLEETBENCH_REQUIRE_GPU=1 but no adapter was found: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    if !found {
        eprintln!("skipping: no GPU adapter (set FLEETBENCH_REQUIRE_GPU=1 to make this fail)");
    }
    found
}

/// A fresh temporary directory, removed when dropped.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory can be created")
}

/// Path of a file in the repository.
pub fn repo_path(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// Runs `fleetbench run ARGS -o PATH` with `envs`, insists it succeeded (showing its stderr
/// when not), and loads the result file it wrote.
pub fn run_into(
    args: &[&str],
    envs: &[(&str, &std::path::Path)],
    path: &std::path::Path,
) -> fleetbench::results::ResultFile {
    let mut cmd = fleetbench();
    for (key, value) in envs {
        cmd.env(key, value);
    }
    let out = cmd
        .arg("run")
        .args(args)
        .arg("-o")
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    fleetbench::results::load(path).unwrap()
}

/// The files of a hostile corpus directory with the phrase its `EXPECTED.tsv` gives each
/// (`name<TAB>phrase`, `#` comments). A file without a line, or a line without a file, fails.
pub fn corpus(dir: &str) -> Vec<(PathBuf, String)> {
    let dir = repo_path(dir);
    let manifest = std::fs::read_to_string(dir.join("EXPECTED.tsv")).unwrap();
    let expected: std::collections::BTreeMap<String, String> = manifest
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (name, phrase) = line.split_once('\t').expect("name<TAB>phrase");
            (name.to_string(), phrase.to_string())
        })
        .collect();
    let mut files: Vec<(PathBuf, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap() != "EXPECTED.tsv")
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let phrase = expected
                .get(&name)
                .unwrap_or_else(|| panic!("{name} has no line in EXPECTED.tsv"))
                .clone();
            (p, phrase)
        })
        .collect();
    files.sort();
    assert_eq!(
        files.len(),
        expected.len(),
        "EXPECTED.tsv lists missing files"
    );
    files
}

/// Exit 2 and one line on stderr that names `name` and contains `phrase`; never a panic.
pub fn assert_one_line_error_naming(out: &std::process::Output, name: &str, phrase: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{name}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{name}: {err}");
    assert!(err.contains(name), "{name}: does not name the file: {err}");
    assert!(
        err.contains(phrase),
        "{name}: expected '{phrase}' in: {err}"
    );
    assert!(!err.contains("panicked"), "{name}: {err}");
}
