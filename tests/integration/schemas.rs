//! The committed JSON Schemas match the Rust types, and every committed data file validates
//! against its schema. Regenerate the schemas after changing a type with
//! `FLEETBENCH_UPDATE_SCHEMAS=1 cargo test --release --test integration schemas`.

use crate::common::repo_path;
use fleetbench::report::schemas::{self, SchemaDoc};
use std::path::{Path, PathBuf};

fn validator(doc: &SchemaDoc) -> jsonschema::Validator {
    jsonschema::validator_for(&doc.schema).expect("the generated schema is a valid JSON Schema")
}

/// Schema violations of `instance`, one line each.
fn violations(doc: &SchemaDoc, instance: &serde_json::Value) -> Vec<String> {
    validator(doc)
        .iter_errors(instance)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect()
}

#[test]
fn committed_schemas_match_the_types() {
    let update = std::env::var("FLEETBENCH_UPDATE_SCHEMAS").as_deref() == Ok("1");
    for doc in schemas::all() {
        let path = repo_path(doc.path);
        let generated = doc.to_pretty_json();
        if update {
            std::fs::write(&path, &generated).expect("the schema file can be written");
        }
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == generated,
            "{} is missing or out of date with the Rust types; regenerate it with \
             FLEETBENCH_UPDATE_SCHEMAS=1 cargo test --release --test integration schemas",
            doc.path
        );
    }
}

/// Which schema a committed data file must follow, by what it is: result files live under
/// `results/`; under `data/` a JSON file says its kind in `kind`, and TOML files are fleet
/// files. `None` for formats no JSON Schema describes (CSV tables, Markdown notes).
fn schema_for(relative: &Path, value: &serde_json::Value) -> Option<SchemaDoc> {
    let under_results = relative.starts_with("results");
    match relative.extension().and_then(|e| e.to_str()) {
        Some("json") if under_results => Some(schemas::result_file()),
        Some("json") if value["kind"] == "fleetbench-ratios" => Some(schemas::ratios_file()),
        Some("toml") => Some(schemas::fleet_file()),
        _ => None,
    }
}

/// A data file as JSON: JSON as is, TOML converted; `None` for other formats.
fn as_json(path: &Path) -> Option<serde_json::Value> {
    let text = std::fs::read_to_string(path).expect("the file is readable");
    let shown = path.display();
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => Some(
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{shown}: invalid JSON: {e}")),
        ),
        Some("toml") => {
            let value: toml::Value =
                toml::from_str(&text).unwrap_or_else(|e| panic!("{shown}: invalid TOML: {e}"));
            Some(serde_json::to_value(value).expect("TOML converts to JSON"))
        }
        _ => None,
    }
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

#[test]
fn every_committed_file_under_results_and_data_validates() {
    let root = repo_path("");
    let mut files = Vec::new();
    for dir in ["results", "data"] {
        files_under(&root.join(dir), &mut files);
    }
    let (mut checked, mut not_described) = (0, Vec::new());
    for path in &files {
        let relative = path.strip_prefix(&root).unwrap_or(path);
        let Some(value) = as_json(path) else {
            // CSV tables and Markdown notes are not data a schema describes.
            let is_table_or_note = relative
                .extension()
                .is_some_and(|e| e == "csv" || e == "md");
            assert!(
                is_table_or_note,
                "{}: no schema covers this format",
                relative.display()
            );
            not_described.push(relative.display().to_string());
            continue;
        };
        let doc = schema_for(relative, &value)
            .unwrap_or_else(|| panic!("{}: no schema is known for this file", relative.display()));
        let errors = violations(&doc, &value);
        assert!(
            errors.is_empty(),
            "{} ({}): {errors:#?}",
            relative.display(),
            doc.name
        );
        checked += 1;
    }
    assert!(checked > 0, "no data file was checked");
    eprintln!(
        "{checked} file(s) validated; CSV tables and notes not described by a schema: {not_described:?}"
    );
}

fn fixture(name: &str) -> serde_json::Value {
    let path = repo_path("tests/fixtures/report").join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn result_files_written_by_run_validate() {
    let doc = schemas::result_file();
    for name in ["fake-a.json", "fake-b.json"] {
        assert_eq!(
            violations(&doc, &fixture(name)),
            Vec::<String>::new(),
            "{name}"
        );
    }
}

#[test]
fn the_result_schema_rejects_what_the_loader_rejects() {
    let doc = schemas::result_file();
    let good = fixture("fake-a.json");

    let mut unknown_field = good.clone();
    unknown_field["machine"]["colour"] = "blue".into();
    let mut bad_status = good.clone();
    bad_status["cases"][0]["status"] = "maybe".into();
    let mut missing = good.clone();
    missing.as_object_mut().unwrap().remove("run");
    let mut wrong_type = good;
    wrong_type["cases"][0]["timing"]["host_s"][0] = "fast".into();

    for (what, value) in [
        ("unknown field", unknown_field),
        ("bad status", bad_status),
        ("missing run", missing),
        ("string sample", wrong_type),
    ] {
        assert!(!violations(&doc, &value).is_empty(), "{what} was accepted");
        let bytes = serde_json::to_vec(&value).unwrap();
        assert!(
            fleetbench::results::store::parse(Path::new("x.json"), &bytes).is_err(),
            "{what} was loaded"
        );
    }
}

#[test]
fn the_ratios_and_fleet_schemas_reject_what_their_loaders_reject() {
    let ratios = as_json(&repo_path("data/scenarios/ratios-mamf-bf16.json")).unwrap();
    let fleet = as_json(&repo_path("data/scenarios/one-h100-four-a100.toml")).unwrap();
    let mut bad_ratios = ratios.clone();
    bad_ratios["devices"][0]["calibrated"]["provenance"] = "guessed".into();
    let mut bad_fleet = fleet.clone();
    bad_fleet["fleet"][0]["colour"] = "blue".into();
    assert!(violations(&schemas::ratios_file(), &ratios).is_empty());
    assert!(!violations(&schemas::ratios_file(), &bad_ratios).is_empty());
    assert!(fleetbench::equiv::RatiosFile::parse(
        Path::new("r.json"),
        &serde_json::to_vec(&bad_ratios).unwrap()
    )
    .is_err());
    assert!(violations(&schemas::fleet_file(), &fleet).is_empty());
    assert!(!violations(&schemas::fleet_file(), &bad_fleet).is_empty());
    let bad_toml = toml::to_string(&bad_fleet).unwrap();
    assert!(fleetbench::fleet::FleetFile::parse(Path::new("f.toml"), &bad_toml).is_err());
}

fn stdout_json(args: &[&str]) -> serde_json::Value {
    let out = crate::common::fleetbench().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output parses")
}

/// `compare --format json` in both views, and `calibrate --format json`, validate against
/// their schemas and carry numbers as numbers.
#[test]
fn compare_and_calibrate_json_validate_against_their_schemas() {
    let (a, b) = (fixture_path("fake-a.json"), fixture_path("fake-b.json"));
    for view in [&[][..], &["--same-code"][..]] {
        let mut args = vec!["compare", "--format", "json", a.as_str(), b.as_str()];
        args.extend_from_slice(view);
        let v = stdout_json(&args);
        assert_eq!(violations(&schemas::comparison(), &v), Vec::<String>::new());
        assert!(v["rows"][0]["ratio"]["value"].is_f64(), "{v}");
        assert!(v["summaries"][0]["geomean"]["low"].is_f64(), "{v}");
    }
    let mut bad = stdout_json(&["compare", "--format", "json", &a, &b]);
    bad["rows"][0]["verdict"] = "better".into();
    assert!(!violations(&schemas::comparison(), &bad).is_empty());
    let args = [
        "calibrate",
        "--reference",
        "fake-gpu-a",
        "--format",
        "json",
        a.as_str(),
        b.as_str(),
    ];
    let v = stdout_json(&args);
    assert_eq!(
        violations(&schemas::ratios_file(), &v),
        Vec::<String>::new()
    );
    let row = &v["devices"][1]["calibrated"];
    assert!(row["ratio"]["high"].is_f64(), "{v}");
    assert_eq!(row["provenance"], "measured");
    assert!(row["capability"]["device"]["kernels"][0].is_string(), "{v}");
}

fn fixture_path(name: &str) -> String {
    repo_path("tests/fixtures/report")
        .join(name)
        .display()
        .to_string()
}

/// Every string of `value` that reads as a number, with its JSON path: a number printed as
/// text is what typed models exist to prevent.
fn numbers_as_strings(value: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) if s.trim().parse::<f64>().is_ok() => {
            out.push(format!("{path} = {s:?}"))
        }
        serde_json::Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                numbers_as_strings(item, &format!("{path}/{i}"), out);
            }
        }
        serde_json::Value::Object(members) => {
            for (key, member) in members {
                numbers_as_strings(member, &format!("{path}/{key}"), out);
            }
        }
        _ => {}
    }
}

/// Runs `fleetbench ARGS --format json` and returns its stdout parsed; `codes` are the exit
/// statuses the invocation may end with.
fn json_of(args: &[String], codes: &[i32]) -> serde_json::Value {
    let out = crate::common::fleetbench()
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let code = out.status.code().unwrap_or(-1);
    assert!(
        codes.contains(&code),
        "{args:?}: exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: the JSON output does not parse: {e}"))
}

#[test]
fn every_json_output_of_the_model_commands_is_typed_and_follows_its_schema() {
    let tmp = crate::common::tempdir();
    let path = |p: &str| repo_path(p).display().to_string();
    let scenario = |name: &str| path(&format!("data/scenarios/{name}"));
    let fixture = |name: &str| path(&format!("tests/fixtures/report/{name}"));
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let out_dir = tmp.path().join("report").display().to_string();
    let ratios = scenario("ratios-mamf-bf16.json");
    let mut cases: Vec<(SchemaDoc, Vec<String>, Vec<i32>)> = vec![
        (schemas::catalog(), s(&["catalog"]), vec![0]),
        (
            schemas::catalog(),
            s(&[
                "catalog",
                "import-epoch",
                &path("tests/fixtures/epoch_ml_hardware.csv"),
            ]),
            vec![0],
        ),
        (
            schemas::merge_report(),
            s(&["merge", &fixture("fake-a.json"), &fixture("fake-b.json")]),
            vec![0],
        ),
        (
            schemas::validation(),
            s(&[
                "validate",
                &fixture("fake-a.json"),
                &path("tests/hostile/edited-median.json"),
                &path("tests/hostile/empty.json"),
            ]),
            vec![2],
        ),
        (
            schemas::report_listing(),
            s(&["report", &fixture("fake-a.json"), "--force", "-o", &out_dir]),
            vec![0],
        ),
    ];
    for name in [
        "meta-600k-h100e.toml",
        "one-h100-four-a100.toml",
        "tesla-eight-times.toml",
        "epoch-h100e-int8.toml",
        "doubling-since-2023q1.toml",
    ] {
        let args = s(&["project", &scenario(name), "--workload", "inference"]);
        cases.push((schemas::projection(), args, vec![0]));
        let args = s(&["project", &scenario(name), "--ratios", &ratios]);
        cases.push((schemas::projection(), args, vec![0]));
    }
    if crate::common::gpu_available() {
        cases.push((schemas::devices(), s(&["devices"]), vec![0]));
    }
    for (doc, args, codes) in &cases {
        let value = json_of(args, codes);
        let errors = violations(doc, &value);
        assert!(errors.is_empty(), "{args:?} ({}): {errors:#?}", doc.name);
        let mut strings = Vec::new();
        numbers_as_strings(&value, "", &mut strings);
        assert!(
            strings.is_empty(),
            "{args:?}: numbers as strings: {strings:#?}"
        );
    }
}

#[test]
fn the_output_schemas_reject_numbers_written_as_text() {
    let projection = json_of(
        &[
            "project".to_string(),
            repo_path("data/scenarios/meta-600k-h100e.toml")
                .display()
                .to_string(),
        ],
        &[0],
    );
    let mut text = projection.clone();
    text["totals"][0]["equivalents"]["value"] = "600000".into();
    assert!(!violations(&schemas::projection(), &text).is_empty());
    let mut unknown_basis = projection;
    unknown_basis["bases"][0]["basis"]["kind"] = "guessed".into();
    assert!(!violations(&schemas::projection(), &unknown_basis).is_empty());
}
