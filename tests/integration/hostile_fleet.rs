//! The hostile fleet-file corpus: every malformed file in tests/hostile-fleet/ must make
//! `fleetbench project FILE` exit 2 with exactly one line on stderr that names the file and the
//! problem (the phrase in tests/hostile-fleet/EXPECTED.tsv), never a panic.

use crate::common::{assert_one_line_error_naming, corpus, fleetbench};

#[test]
fn every_hostile_fleet_file_gets_a_one_line_error_and_no_panic() {
    for (path, phrase) in corpus("tests/hostile-fleet") {
        let out = fleetbench().arg("project").arg(&path).output().unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        assert_one_line_error_naming(&out, &name, &phrase);
    }
}
