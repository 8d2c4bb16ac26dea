//! The hostile ratios-file corpus: every file in tests/hostile-ratios/ contradicts its own
//! numbers or names (a ratio outside its interval, half an interval, a duplicate row, a level of
//! 7, a negative efficiency, a chain through a missing device or itself, a provenance word in
//! the wrong cell, a repeated key) and must make `fleetbench project FLEET --ratios FILE` exit 2
//! with one line naming the file and the problem (tests/hostile-ratios/EXPECTED.tsv).

use crate::common::{assert_one_line_error_naming, corpus, fleetbench, repo_path};

const FLEET: &str = "data/scenarios/one-h100-four-a100.toml";

#[test]
fn every_hostile_ratios_file_gets_a_one_line_error() {
    let files = corpus("tests/hostile-ratios");
    for (path, phrase) in &files {
        let out = fleetbench()
            .arg("project")
            .arg(repo_path(FLEET))
            .arg("--ratios")
            .arg(path)
            .output()
            .unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        assert_one_line_error_naming(&out, &name, phrase);
    }
    assert!(
        files.len() >= 15,
        "only {} hostile ratios files",
        files.len()
    );
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

/// A ratios file whose non-reference rows have no calibrated cell still projects, but says
/// that the calibrated basis has nothing to stand on instead of letting it vanish.
#[test]
fn a_ratios_file_without_calibrated_cells_is_warned_about() {
    let path = repo_path("tests/fixtures/ratios-no-calibrated.json");
    let out = fleetbench()
        .arg("project")
        .arg(repo_path(FLEET))
        .arg("--ratios")
        .arg(&path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let want = format!(
        "warning: {}: no device but the reference 'h100-sxm' has a calibrated ratio (1 other row(s) have none), so the calibrated basis has nothing to project",
        path.display()
    );
    assert!(err.lines().any(|l| l == want), "{err}");
}
