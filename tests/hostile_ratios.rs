//! The hostile ratios-file corpus: every file in tests/hostile-ratios/ contradicts its own
//! numbers or names (a ratio outside its interval, half an interval, a duplicate row, a level of
//! 7, a negative efficiency, a chain through a missing device or itself, a provenance word in
//! the wrong cell, a repeated key) and must make `fleetbench project FLEET --ratios FILE` exit 2
//! with one line naming the file and the problem (tests/hostile-ratios/EXPECTED.tsv).

mod common;
use common::{fleetbench, repo_path};
use std::collections::BTreeMap;

const FLEET: &str = "data/scenarios/one-h100-four-a100.toml";

fn expectations() -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(repo_path("tests/hostile-ratios/EXPECTED.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|line| {
            let (name, phrase) = line.split_once('\t').expect("name<TAB>phrase");
            (name.to_string(), phrase.to_string())
        })
        .collect()
}

#[test]
fn every_hostile_ratios_file_gets_a_one_line_error() {
    let expected = expectations();
    let mut seen = 0;
    for entry in std::fs::read_dir(repo_path("tests/hostile-ratios")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name == "EXPECTED.tsv" {
            continue;
        }
        let phrase = expected
            .get(&name)
            .unwrap_or_else(|| panic!("{name} has no line in EXPECTED.tsv"));
        let out = fleetbench()
            .arg("project")
            .arg(repo_path(FLEET))
            .arg("--ratios")
            .arg(&path)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{name}: {err}");
        assert!(err.contains(&name), "{name}: does not name the file: {err}");
        assert!(
            err.contains(phrase.as_str()),
            "{name}: expected '{phrase}' in: {err}"
        );
        seen += 1;
    }
    assert_eq!(
        seen,
        expected.len(),
        "EXPECTED.tsv lists files that are missing"
    );
    assert!(seen >= 15, "only {seen} hostile ratios files");
}

#[test]
fn a_published_cell_keeps_its_provenance_in_the_projection() {
    let out = fleetbench()
        .args(["project", "--format", "csv"])
        .arg(repo_path(FLEET))
        .arg("--ratios")
        .arg(repo_path("tests/fixtures/ratios-published-cell.json"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a100_calibrated: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("a100") && l.contains("calibrated"))
        .collect();
    assert!(!a100_calibrated.is_empty(), "{text}");
    for line in a100_calibrated {
        assert!(line.contains("published matmul-f16"), "{line}");
        assert!(!line.contains("measured"), "{line}");
    }
}
