//! The output group every analysis command shares (`-o`, `--force`, `--format`): the target is
//! checked before any input is read, its extension names the file's format, and stdout still
//! gets `--format`.

use crate::common::{assert_one_line_error_naming, fleetbench, run_into, tempdir};
use std::path::Path;

/// The same three commands, each given `extra` before its inputs.
fn commands(input: &str) -> Vec<Vec<String>> {
    let s = |v: &[&str]| v.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        s(&["compare", input, input]),
        s(&["calibrate", input, "--reference", "a100-sxm4-80gb"]),
        s(&["merge", input]),
    ]
}

fn run(args: &[String], output: &Path, force: bool) -> std::process::Output {
    let mut cmd = fleetbench();
    cmd.args(args).arg("-o").arg(output);
    if force {
        cmd.arg("--force");
    }
    cmd.output().unwrap()
}

#[test]
fn the_target_is_refused_before_any_input_is_read() {
    let dir = tempdir();
    let existing = dir.path().join("out.json");
    std::fs::write(&existing, "kept").unwrap();
    let missing_input = dir.path().join("no-such-input.json");
    let missing_input = missing_input.to_str().unwrap();
    for args in commands(missing_input) {
        let out = run(&args, &existing, false);
        assert_one_line_error_naming(&out, "out.json", "already exists");
        let out = run(&args, &dir.path().join("out.txt"), true);
        assert_one_line_error_naming(&out, "out.txt", "expected a .json, .csv or .md file name");
    }
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "kept");
}

#[test]
fn stdout_gets_the_format_and_the_file_its_extension() {
    let dir = tempdir();
    let input = dir.path().join("a.json");
    run_into(
        &[
            "--fake",
            "gpu-a:100",
            "--sizes",
            "32",
            "--samples",
            "6",
            "--quiet",
        ],
        &[],
        &input,
    );
    let input = input.to_str().unwrap().to_string();
    for args in commands(&input) {
        let md = dir.path().join(format!("{}.md", args[0]));
        let out = fleetbench()
            .args(&args)
            .args(["--format", "json", "-o"])
            .arg(&md)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if args[0] == "compare" {
            // The same file twice is refused: the check runs, only after the target's.
            assert!(err.contains("given twice"), "{err}");
            continue;
        }
        assert!(out.status.success(), "{args:?}: {err}");
        let stdout: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(stdout.is_object(), "{args:?}: JSON on stdout");
        let written = std::fs::read_to_string(&md).unwrap();
        assert!(
            written.contains("| ") && written.contains("---"),
            "{written}"
        );
    }
}
