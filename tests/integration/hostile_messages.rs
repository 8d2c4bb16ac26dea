//! Messages that must say the right thing in one line: names from files escaped wherever they
//! reach a terminal, huge numbers short, and errors that name the real problem (a string where
//! a number belongs, a backend this platform lacks, a merge with nothing left to merge).

use crate::common::{fleetbench, tempdir};
use std::path::{Path, PathBuf};
use std::process::Output;

const BIDI: char = '\u{202e}';

fn fake(dir: &Path, file: &str, name: &str, seed: u64) -> PathBuf {
    let path = dir.join(file);
    let out = fleetbench()
        .args(["run", "--fake", &format!("{name}:100"), "--sizes", "64"])
        .args(["--kernels", "matmul_naive", "--samples", "5", "--quiet"])
        .args(["--seed", &seed.to_string(), "-o"])
        .arg(&path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    path
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The one line of a failed command, without its `error: ` prefix.
fn one_line_error(out: &Output) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    err.trim_end()
        .strip_prefix("error: ")
        .unwrap_or_else(|| panic!("{err}"))
        .to_string()
}

#[test]
fn names_with_bidi_overrides_are_escaped_on_every_stderr_line() {
    let dir = tempdir();
    let name = format!("evil{BIDI}gpu");
    let a = fake(dir.path(), "a.json", &name, 1);
    let b = fake(dir.path(), "b.json", &name, 2);
    let calibrate = fleetbench()
        .args(["calibrate", "--reference", &name])
        .args([&a, &b])
        .output()
        .unwrap();
    let merge = fleetbench().arg("merge").args([&a, &b]).output().unwrap();
    for (what, out) in [("calibrate", &calibrate), ("merge", &merge)] {
        let err = stderr(out);
        assert!(!err.contains(BIDI), "{what}: a raw bidi override: {err:?}");
        assert!(err.contains("evil\\u{202e}gpu"), "{what}: {err}");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(!text.contains(BIDI), "{what}: stdout: {text:?}");
    }
    assert!(
        stderr(&calibrate).contains("device 'evil\\u{202e}gpu' is not in the catalog"),
        "{}",
        stderr(&calibrate)
    );
    assert!(
        stderr(&merge).contains(
            "evil\\u{202e}gpu | fleetbench-fake deterministic stand-in | fake: no outlier verdict"
        ),
        "{}",
        stderr(&merge)
    );
}

#[test]
fn an_intensity_outside_its_range_is_refused_with_the_range() {
    let out = fleetbench()
        .args(["project", "data/scenarios/one-h100-four-a100.toml"])
        .args(["--workload", "intensity=1e-320"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(
        one_line_error(&out),
        "--workload: workload intensity 1e-320 is outside 0.001 to 100000 FLOP/byte"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_backend_this_platform_lacks_is_named_as_such() {
    let out = fleetbench()
        .args(["devices", "--backend", "metal"])
        .output()
        .unwrap();
    let line = one_line_error(&out);
    assert!(
        line.starts_with("--backend metal: not available on this platform (this build can use "),
        "{line}"
    );
    assert!(!line.contains("Mesa"), "{line}");
}

#[test]
fn a_merge_with_every_input_skipped_says_why() {
    let dir = tempdir();
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{\"schema_version\": \"2\"}").unwrap();
    let out = fleetbench().arg("merge").arg(&bad).output().unwrap();
    assert_eq!(
        one_line_error(&out),
        format!(
            "no result files to merge among the inputs: 1 skipped ({}: schema_version \"2\" must be a number, as in \"schema_version\": 2)",
            bad.display()
        )
    );
}

/// A fleet file past its size limit (1 MiB, some 18,000 entries; the 16 MiB allowed before took
/// 1.4 GB to project) is refused before it is parsed.
#[test]
fn a_fleet_file_past_its_limit_is_refused_before_parsing() {
    let dir = tempdir();
    let path = dir.path().join("huge.toml");
    let mut text = String::from("version = 1\n\n[[fleet]]\nname = \"big\"\n\n");
    while text.len() <= 1024 * 1024 {
        text.push_str("[[fleet.entry]]\ndevice = \"a100-sxm4-80gb\"\ncount = 1\n\n");
    }
    std::fs::write(&path, text).unwrap();
    let out = fleetbench().arg("project").arg(&path).output().unwrap();
    assert_eq!(
        one_line_error(&out),
        format!(
            "{}: larger than the 1048576-byte limit; is this a fleet file?",
            path.display()
        )
    );
}
