//! The hostile fleet-file corpus: every malformed file in tests/hostile-fleet/ must make
//! `fleetbench project FILE` exit 2 with exactly one line on stderr that names the file and the
//! problem (the phrase in tests/hostile-fleet/EXPECTED.tsv), never a panic.

mod common;
use common::{fleetbench, repo_path};
use std::collections::BTreeMap;

fn expectations() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(repo_path("tests/hostile-fleet/EXPECTED.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (name, phrase) = line.split_once('\t').expect("name<TAB>phrase");
            (name.to_string(), phrase.to_string())
        })
        .collect()
}

#[test]
fn every_hostile_fleet_file_gets_a_one_line_error_and_no_panic() {
    let expected = expectations();
    let mut seen = 0;
    for entry in std::fs::read_dir(repo_path("tests/hostile-fleet")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name == "EXPECTED.tsv" {
            continue;
        }
        let phrase = expected
            .get(&name)
            .unwrap_or_else(|| panic!("{name} has no line in EXPECTED.tsv"));
        let out = fleetbench().arg("project").arg(&path).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
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
}
