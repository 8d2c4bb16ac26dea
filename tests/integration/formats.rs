//! `--format text|json|csv|markdown` behaves the same on every subcommand that prints a table:
//! the CSV and Markdown renderings of one invocation hold the same number of rows, CSV blocks
//! are rectangular, the JSON parses, and it all runs under a comma-decimal locale. JSON is the
//! command's model, not its tables, so its shape is checked against the command's schema
//! (tests/integration/schemas.rs), not counted in rows here. Every subcommand whose help offers `--format`
//! must be exercised here.

use crate::common::{fleetbench, gpu_available, repo_path, tempdir};

const FORMATS: [&str; 4] = ["text", "json", "csv", "markdown"];

/// Every subcommand whose `--help` lists a `--format` flag.
fn subcommands_with_format() -> Vec<String> {
    let help = fleetbench().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout).into_owned();
    let commands = help
        .split("Commands:")
        .nth(1)
        .and_then(|rest| rest.split("Options:").next())
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string);
    commands
        .filter(|c| {
            let out = fleetbench().args([c.as_str(), "--help"]).output().unwrap();
            String::from_utf8_lossy(&out.stdout).contains("--format <FORMAT>")
        })
        .collect()
}

/// Whether the JSON output parses into an object or an array (a model, not bare text).
fn json_parses(text: &str) -> bool {
    let value: serde_json::Value = serde_json::from_str(text).expect("JSON output parses");
    value.is_object() || value.is_array()
}

/// Data rows of CSV output: blocks are separated by blank lines or `# title` lines, each starts
/// with its header row and every record of a block has the header's width.
fn csv_rows(text: &str) -> usize {
    let mut rows = 0;
    let blocks = text
        .split("\n\n")
        .flat_map(|b| b.split("# ").map(str::to_string));
    for block in blocks {
        let body: String = block
            .lines()
            .filter(|l| !l.trim().is_empty())
            .skip_while(|l| !l.contains(','))
            .map(|l| format!("{l}\n"))
            .collect();
        if body.is_empty() {
            continue;
        }
        let mut reader = csv::ReaderBuilder::new().from_reader(body.as_bytes());
        for record in reader.records() {
            record.expect("CSV blocks are rectangular");
            rows += 1;
        }
    }
    rows
}

fn markdown_rows(text: &str) -> usize {
    let table_lines: Vec<&str> = text.lines().filter(|l| l.starts_with('|')).collect();
    let separators = table_lines.iter().filter(|l| l.starts_with("|---")).count();
    table_lines.len() - 2 * separators
}

/// Runs `args` in every format and checks the renderings against one another.
fn check(name: &str, args: &[String]) {
    let mut outputs = Vec::new();
    for format in FORMATS {
        let out = fleetbench()
            .env("LC_ALL", "de_DE.UTF-8")
            .args(args)
            .args(["--format", format])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{name} --format {format}: {stderr}");
        outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    assert!(!outputs[0].trim().is_empty(), "{name}: empty text output");
    assert!(json_parses(&outputs[1]), "{name}: JSON is not a model");
    let rows = [csv_rows(&outputs[2]), markdown_rows(&outputs[3])];
    assert!(rows[0] > 0, "{name}: no rows");
    assert_eq!(rows[0], rows[1], "{name}: csv and markdown rows differ");
}

#[test]
fn every_table_format_agrees_on_every_subcommand() {
    let tmp = tempdir();
    let fixture = |n: &str| {
        repo_path("tests/fixtures/report")
            .join(n)
            .display()
            .to_string()
    };
    let path = |n: &str| tmp.path().join(n).display().to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let (a, b) = (fixture("fake-a.json"), fixture("fake-b.json"));
    let fleet = repo_path("data/scenarios/one-h100-four-a100.toml")
        .display()
        .to_string();
    let mut cases: Vec<(&str, Vec<String>)> = vec![
        ("catalog", s(&["catalog"])),
        ("compare", s(&["compare", &a, &b])),
        (
            "calibrate",
            s(&[
                "calibrate",
                "--reference",
                "fake-gpu-a",
                "--seed",
                "1",
                &a,
                &b,
            ]),
        ),
        ("project", s(&["project", &fleet])),
        ("merge", s(&["merge", &a, &b])),
        ("validate", s(&["validate", &a, &b])),
        (
            "report",
            s(&["report", &a, "--force", "-o", &path("report")]),
        ),
        (
            "run",
            s(&[
                "run",
                "--fake",
                "gpu:50",
                "--sizes",
                "32",
                "--samples",
                "3",
                "--seed",
                "1",
            ])
            .into_iter()
            .chain(s(&["--quiet", "--force", "-o", &path("run.json")]))
            .collect(),
        ),
    ];
    if gpu_available() {
        cases.push(("devices", s(&["devices"])));
    }
    for command in subcommands_with_format() {
        let covered = cases.iter().any(|(name, _)| *name == command);
        assert!(
            covered || command == "devices",
            "{command} has --format but no check here"
        );
    }
    for (name, args) in &cases {
        check(name, args);
    }
}
