//! The hostile corpus: every malformed or inconsistent file in tests/hostile/ must make
//! `fleetbench validate` exit non-zero with exactly one line on stderr that names the file and
//! the problem, and never panic. tests/hostile/EXPECTED.tsv says, for each file, which exit code
//! (1 inconsistent, 2 unreadable) and which phrase to expect; a file without a line fails.

use crate::common::{fleetbench, repo_path};
use std::collections::BTreeMap;

/// File name → (exit code, phrase) from the manifest.
fn expectations() -> BTreeMap<String, (i32, String)> {
    let text = std::fs::read_to_string(repo_path("tests/hostile/EXPECTED.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 3, "bad manifest line: {line}");
            let code = fields[1].parse().expect("exit code");
            (fields[0].to_string(), (code, fields[2].to_string()))
        })
        .collect()
}

#[test]
fn every_hostile_file_gets_a_one_line_error_and_no_panic() {
    let expected = expectations();
    let dir = repo_path("tests/hostile");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name == "EXPECTED.tsv" {
            continue;
        }
        let (code, phrase) = expected
            .get(&name)
            .unwrap_or_else(|| panic!("{name} has no line in EXPECTED.tsv"));
        let out = fleetbench().arg("validate").arg(&path).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(*code), "{name}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: {err}");
        assert!(
            err.contains(&name),
            "{name}: message does not name the file: {err}"
        );
        assert!(
            err.contains(phrase.as_str()),
            "{name}: expected '{phrase}' in: {err}"
        );
        assert!(!err.contains("panicked"), "{name}: {err}");
        seen += 1;
    }
    assert_eq!(
        seen,
        expected.len(),
        "EXPECTED.tsv lists files that are missing"
    );
    assert!(seen >= 30, "only {seen} hostile files");
}

#[test]
fn the_clean_fixture_validates_and_many_files_give_the_worst_code() {
    let clean = repo_path("tests/fixtures/validate/clean.json");
    let out = fleetbench().arg("validate").arg(&clean).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    let inconsistent = repo_path("tests/hostile/edited-median.json");
    let unreadable = repo_path("tests/hostile/empty.json");
    let out = fleetbench()
        .arg("validate")
        .args([&clean, &inconsistent])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let out = fleetbench()
        .args(["validate", "--format", "json"])
        .args([&unreadable, &clean, &inconsistent])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let statuses: Vec<&serde_json::Value> = report["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["verdict"]["status"])
        .collect();
    assert_eq!(statuses, ["unreadable", "clean", "inconsistent"]);
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 2);
}

#[test]
fn an_oversized_file_is_refused_before_it_is_read() {
    let dir = crate::common::tempdir();
    let path = dir.path().join("huge.json");
    let file = std::fs::File::create(&path).unwrap();
    // Sparse: no disk space is used, and the size check must refuse it without reading it.
    file.set_len(fleetbench::results::store::MAX_FILE_BYTES + 1)
        .unwrap();
    let out = fleetbench().arg("validate").arg(&path).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(err.contains("huge.json") && err.contains("limit"), "{err}");
}
