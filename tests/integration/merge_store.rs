//! `fleetbench merge --store DB` with the store's filters: stored runs are merged through the
//! same streaming merger as files, selected by `--device`, `--host`, `--gpu`, `--driver`,
//! `--backend`, `--since` and `--until`.

use crate::cli_merge::{template, unit, write};
use crate::common::{fleetbench, tempdir};
use crate::pg_cluster::{cluster, ADMIN_PASSWORD};
use serde_json::Value;
use std::path::Path;

/// Four units on GPU 0 (`node2` at 1.5× the time) and one on GPU 1 (3×), as files in
/// `results/`, all ingested into `fleet.sqlite`; the store's path.
fn stored_fleet(dir: &Path) -> String {
    let db = dir.join("fleet.sqlite").display().to_string();
    stored_fleet_in(dir, &db);
    db
}

/// The same fleet ingested into `db`.
fn stored_fleet_in(dir: &Path, db: &str) {
    let results = dir.join("results");
    std::fs::create_dir(&results).unwrap();
    let template = template(dir);
    for i in 0..4 {
        let slowdown = if i == 2 { 1.5 } else { 1.0 };
        let host = format!("node{i}");
        write(
            &results.join(format!("{host}.json")),
            &unit(&template, &host, 0, slowdown),
        );
    }
    write(
        &results.join("node9-1.json"),
        &unit(&template, "node9", 1, 3.0),
    );
    let out = fleetbench()
        .args(["store", "--db", db, "ingest"])
        .arg(&results)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn merge(args: &[&str]) -> (Option<i32>, Value, String) {
    let out = fleetbench()
        .arg("merge")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let report = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code(), report, stderr)
}

fn unit_names(report: &Value) -> Vec<String> {
    report["groups"][0]["units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| format!("{}:gpu{}", u["host"].as_str().unwrap(), u["device_index"]))
        .collect()
}

#[test]
fn stored_runs_selected_by_a_filter_are_merged_and_the_slow_unit_named() {
    let dir = tempdir();
    let db = stored_fleet(dir.path());
    check_filtered_merge(&db);
}

#[test]
fn a_postgres_store_merges_the_same_way() {
    let dir = tempdir();
    let url = cluster().fresh_database("merge_store");
    stored_fleet_in(dir.path(), &url);
    check_filtered_merge(&url);
}

/// `--gpu 0` merges the four GPU-0 units and names the slow one; no filter merges all five;
/// `--host` takes one host's.
fn check_filtered_merge(db: &str) {
    let location = db.replace("postgres://", "");
    let location = location.split('@').next_back().unwrap_or_default();
    let (code, report, stderr) = merge(&["--store", db, "--gpu", "0", "--fail-on-outliers"]);
    assert_eq!(code, Some(1), "{stderr}");
    let mut names = unit_names(&report);
    names.sort();
    assert_eq!(
        names,
        ["node0:gpu0", "node1:gpu0", "node2:gpu0", "node3:gpu0"]
    );
    let outliers: Vec<&Value> = report["groups"][0]["scores"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["outlier"] == true)
        .collect();
    assert_eq!(outliers.len(), 1, "{report}");
    let slow = &report["groups"][0]["units"][outliers[0]["unit"].as_u64().unwrap() as usize];
    assert_eq!(slow["host"], "node2");
    let source = slow["path"].as_str().unwrap();
    assert!(source.contains(&format!("{location}#")), "{source}");
    assert!(!source.contains(ADMIN_PASSWORD), "{source}");
    assert!(
        stderr.contains("merged 4 file(s) into 1 group(s)"),
        "{stderr}"
    );
    let (code, report, stderr) = merge(&["--store", db]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(unit_names(&report).len(), 5);
    let (_, report, _) = merge(&["--store", db, "--host", "node9"]);
    assert_eq!(unit_names(&report), ["node9:gpu1"]);
}

#[test]
fn a_stored_run_also_given_as_a_file_is_merged_once() {
    let dir = tempdir();
    let db = stored_fleet(dir.path());
    let file = dir.path().join("results").join("node1.json");
    let (code, report, stderr) = merge(&[file.to_str().unwrap(), "--store", &db, "--gpu", "0"]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(unit_names(&report).len(), 4);
    let skipped = report["skipped"].as_array().unwrap();
    assert_eq!(skipped.len(), 1, "{report}");
    let reason = skipped[0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("duplicate of "), "{reason}");
}

#[test]
fn filters_without_a_store_and_a_filter_matching_nothing_are_errors() {
    let dir = tempdir();
    let db = stored_fleet(dir.path());
    let results = dir.path().join("results");
    let (code, _, stderr) = merge(&[results.to_str().unwrap(), "--host", "node1"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("they need --store DB"), "{stderr}");
    let (code, _, stderr) = merge(&["--store", &db, "--host", "nosuch"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("no stored run matches the filter"),
        "{stderr}"
    );
    assert!(stderr.contains("no result files to merge"), "{stderr}");
    let (code, _, stderr) = merge(&[
        "--store",
        &dir.path().join("none.sqlite").display().to_string(),
    ]);
    assert_eq!(code, Some(2), "{stderr}");
    let (code, _, stderr) = merge(&["--store", &db, "-o", &db, "--force"]);
    assert_eq!(code, Some(2), "{stderr}");
}
