//! The hostile Epoch corpus: every file in tests/hostile-epoch/ is a damaged or absurd
//! ml_hardware.csv (truncated, an unterminated quote, ragged rows, NaN, infinite, negative,
//! zero, 400-digit or absurd figures, duplicate ids or columns, impossible dates) and must make
//! `fleetbench catalog import-epoch FILE` exit 2 with one line naming the file, the line and the
//! problem (tests/hostile-epoch/EXPECTED.tsv), instead of printing a different catalog.

use crate::common::{assert_one_line_error_naming, corpus, fleetbench};

#[test]
fn every_hostile_epoch_file_gets_a_one_line_error() {
    let files = corpus("tests/hostile-epoch");
    for (path, phrase) in &files {
        let out = fleetbench()
            .args(["catalog", "import-epoch"])
            .arg(path)
            .output()
            .unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        assert_one_line_error_naming(&out, &name, phrase);
        assert!(out.stdout.is_empty(), "{name}: printed a catalog anyway");
    }
    assert!(
        files.len() >= 14,
        "only {} hostile Epoch files",
        files.len()
    );
}

#[test]
fn the_clean_fixture_still_imports() {
    let out = fleetbench()
        .args(["catalog", "import-epoch", "--format", "json"])
        .arg(crate::common::repo_path(
            "tests/fixtures/epoch_ml_hardware.csv",
        ))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 3);
}
