//! Stored runs as inputs: `compare` and `calibrate` from a results store give the models the
//! same files give, selections pick the runs their filters name, an empty selection is one
//! line naming it and the store, and `report --store` draws the history with driver changes
//! marked. Result files come from the fake backend (`run --fake`), edited into units, runs
//! and devices as `store.rs` does.

use crate::common::{fleetbench, tempdir};
use crate::store::{backends, ok, store, text, unit_run, write};
use fleetbench::results::ResultFile;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;

/// Run `run` (started on March `run + 1`) of `host` GPU 0, on an adapter called `device`.
fn device_run(device: &str, host: &str, run: usize, slowdown: f64) -> ResultFile {
    let mut file = unit_run(host, 0, run, slowdown);
    file.machine.adapter.name = device.into();
    file
}

/// Two runs of `fleet-gpu` (a-node) and two of the twice as fast `other-gpu` (b-node), one a
/// day in that order, written as a0, a1, b0, b1.
fn two_devices(dir: &Path) -> Vec<PathBuf> {
    let runs = [
        ("a0", device_run("fleet-gpu", "a-node", 0, 1.0)),
        ("a1", device_run("fleet-gpu", "a-node", 1, 1.01)),
        ("b0", device_run("other-gpu", "b-node", 2, 0.5)),
        ("b1", device_run("other-gpu", "b-node", 3, 0.51)),
    ];
    runs.iter()
        .map(|(name, file)| {
            let path = dir.join(format!("{name}.json"));
            write(&path, file);
            path
        })
        .collect()
}

fn run(args: &[&str]) -> Output {
    fleetbench()
        .env_remove("FLEETBENCH_DB")
        .args(args)
        .output()
        .unwrap()
}

fn json(out: Output) -> Value {
    let out = ok(out);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out.stdout)))
}

/// `value` without the keys that name where an input came from or when the model was made.
fn without_sources(mut value: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("path");
                map.remove("created_at");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut value);
    value
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The run ids of each compared column.
fn run_ids(comparison: &Value) -> Vec<Vec<String>> {
    comparison["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            f["run_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_str().unwrap().to_string())
                .collect()
        })
        .collect()
}

/// A failure in exactly one line on stderr, exit 2.
fn one_line_error(out: &Output) -> String {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    err
}

#[test]
fn compare_and_calibrate_from_a_store_give_the_models_of_the_same_files() {
    let dir = tempdir();
    let files = two_devices(dir.path());
    let [a0, a1, b0, b1] = [0, 1, 2, 3].map(|i| path_str(&files[i]));
    let pooled = [format!("{a0}+{a1}"), format!("{b0}+{b1}")];
    let from_files = json(run(&[
        "compare", &pooled[0], &pooled[1], "--format", "json",
    ]));
    let ratios_from_files = json(run(&[
        "calibrate",
        a0,
        a1,
        b0,
        b1,
        "--reference",
        "fleet-gpu",
        "--format",
        "json",
    ]));
    // The models are not empty: other-gpu runs twice as fast.
    let summaries = from_files["summaries"].as_array().unwrap();
    assert!(!summaries.is_empty());
    for s in summaries {
        let ratio = s["geomean"]["value"].as_f64().unwrap();
        assert!((ratio - 1.98).abs() < 0.1, "{s}");
    }
    let other = ratios_from_files["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == "other-gpu")
        .unwrap();
    let measured = other["measured"]["ratio"]["value"].as_f64().unwrap();
    assert!((measured - 1.98).abs() < 0.1, "{other}");
    for db in backends(dir.path(), "inputs") {
        ok(store(&db, &["ingest", path_str(dir.path())]));
        let from_store = json(run(&[
            "compare",
            "--store",
            &db,
            "store:device=fleet-gpu",
            "store:device=other-gpu",
            "--format",
            "json",
        ]));
        assert_eq!(from_store["files"][0]["path"], "store:device=fleet-gpu");
        assert_eq!(
            without_sources(from_store),
            without_sources(from_files.clone()),
            "{db}"
        );
        let ratios_from_store = json(run(&[
            "calibrate",
            "--store",
            &db,
            "--reference",
            "fleet-gpu",
            "--format",
            "json",
        ]));
        assert_eq!(
            without_sources(ratios_from_store),
            without_sources(ratios_from_files.clone()),
            "{db}"
        );
        let empty = run(&[
            "compare",
            "--store",
            &db,
            "store:device=no-such-gpu",
            "store:device=other-gpu",
        ]);
        let err = one_line_error(&empty);
        assert!(
            err.contains("no stored run matches the selection device=no-such-gpu"),
            "{err}"
        );
        assert!(!err.contains(crate::pg_cluster::ADMIN_PASSWORD), "{err}");
        let expected_db = if db.starts_with("postgres") {
            "***"
        } else {
            db.as_str()
        };
        assert!(err.contains(expected_db), "{err}");
    }
}

#[test]
fn selections_pick_the_runs_their_filters_name() {
    let dir = tempdir();
    let files = two_devices(dir.path());
    let db = dir.path().join("fleet.sqlite");
    let db = path_str(&db);
    ok(store(db, &["ingest", path_str(dir.path())]));
    let ids = |args: &[&str]| {
        let mut all = vec!["compare", "--store", db, "--format", "json"];
        all.extend_from_slice(args);
        run_ids(&json(run(&all)))
    };
    let [a0, a1, b0, b1] = [
        "run0-a-node-0",
        "run1-a-node-0",
        "run2-b-node-0",
        "run3-b-node-0",
    ];
    assert_eq!(
        ids(&[
            "store:device=fleet-gpu,until=2026-03-01",
            "store:device=fleet-gpu,since=2026-03-02"
        ]),
        [vec![a0], vec![a1]]
    );
    assert_eq!(
        ids(&[
            "--latest",
            "store:device=fleet-gpu",
            "store:device=other-gpu"
        ]),
        [vec![a1], vec![b1]]
    );
    // The flags narrow every side; a side's own keys come on top.
    assert_eq!(
        ids(&["--host", "a-node", "store:until=2026-03-01", "store:latest"]),
        [vec![a0], vec![a1]]
    );
    // A file beside a store side, and a side given as --baseline.
    let a0_file = path_str(&files[0]);
    assert_eq!(
        ids(&[a0_file, "--baseline", "store:host=b-node,gpu=0"]),
        [vec![b0, b1], vec![a0]]
    );
    // One run on both sides is the same file twice.
    let twice = run(&["compare", "--store", db, a0_file, "store:run=run0-a-node-0"]);
    assert!(one_line_error(&twice).contains("given twice"));
    let mixed = run(&["compare", "--store", db, a0_file, "store:since=2026-03-02"]);
    assert!(one_line_error(&mixed).contains("one device"));
    let no_store = run(&["compare", a0_file, "store:host=b-node"]);
    assert!(one_line_error(&no_store).contains("--store PATH|URL"));
    let flag_only = run(&["calibrate", a0_file, "--reference", "fleet-gpu", "--latest"]);
    assert!(one_line_error(&flag_only).contains("--store"));
    let bad_key = run(&["compare", "--store", db, a0_file, "store:colour=red"]);
    assert!(one_line_error(&bad_key).contains("unknown key 'colour'"));
    let empty = run(&[
        "calibrate",
        "--store",
        db,
        "--device",
        "no-such-gpu",
        "--since",
        "2026-03-02",
        "--reference",
        "fleet-gpu",
    ]);
    let err = one_line_error(&empty);
    assert!(
        err.contains(db)
            && err.contains(
                "no stored run matches the selection device=no-such-gpu,since=2026-03-02T00:00:00Z"
            ),
        "{err}"
    );
}

#[test]
fn a_simulated_stored_run_beside_real_ones_is_refused_unless_allowed() {
    let dir = tempdir();
    let real = dir.path().join("real.json");
    write(&real, &device_run("fleet-gpu", "a-node", 0, 1.0));
    let mut simulated = device_run("other-gpu", "sim-node", 1, 0.5);
    simulated.machine.simulated = true;
    let sim = dir.path().join("sim.json");
    write(&sim, &simulated);
    let db = dir.path().join("sim.sqlite");
    let db = path_str(&db);
    ok(store(db, &["ingest", path_str(&real), path_str(&sim)]));
    let sides = ["store:host=a-node", "store:host=sim-node"];
    let refused = run(&["compare", "--store", db, sides[0], sides[1]]);
    assert!(one_line_error(&refused).contains("--allow-simulated"));
    let allowed = json(run(&[
        "compare",
        "--store",
        db,
        sides[0],
        sides[1],
        "--allow-simulated",
        "--format",
        "json",
    ]));
    assert_eq!(allowed["files"][1]["simulated"], true);
}

/// Unit n1 GPU 0 runs four times, its driver updated from the third run; n2 GPU 1 twice.
fn history_store(dir: &Path) -> String {
    let inputs = dir.join("history");
    std::fs::create_dir_all(&inputs).unwrap();
    for r in 0..4 {
        let mut file = unit_run("n1", 0, r, 1.0 + r as f64 / 100.0);
        if r >= 2 {
            file.machine.adapter.driver_info = "updated driver 2.0".into();
        }
        write(&inputs.join(format!("n1_{r}.json")), &file);
    }
    for r in 0..2 {
        write(
            &inputs.join(format!("n2_{r}.json")),
            &unit_run("n2", 1, r, 1.0),
        );
    }
    let db = dir.join("history.sqlite").display().to_string();
    ok(store(&db, &["ingest", path_str(&inputs)]));
    db
}

/// The kinds of the files a `report --format json` listing names.
fn kinds(listing: &Value) -> Vec<String> {
    listing["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn report_from_a_store_charts_the_history_with_driver_changes_marked() {
    let dir = tempdir();
    let db = history_store(dir.path());
    let out = dir.path().join("unit");
    let listing = json(run(&[
        "report",
        "--store",
        &db,
        "--host",
        "n1",
        "--gpu",
        "0",
        "-o",
        path_str(&out),
        "--format",
        "json",
    ]));
    let kinds_written = kinds(&listing);
    assert!(
        kinds_written.iter().all(|k| k == "history" || k == "page"),
        "{kinds_written:?}"
    );
    let charts: Vec<String> = listing["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["kind"] == "history")
        .map(|f| std::fs::read_to_string(f["path"].as_str().unwrap()).unwrap())
        .collect();
    assert!(!charts.is_empty());
    for svg in &charts {
        assert!(
            svg.contains("updated driver 2.0"),
            "the new driver is named"
        );
        assert!(
            svg.contains("driver changed since the unit"),
            "and the mark explained"
        );
    }
    let page = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(page.contains("id=\"history\"") && page.contains("updated driver 2.0 (changed)"));
    assert!(page.contains(&db), "the page names the store");

    // A model's population; --latest also charts each unit's latest run as a file.
    let fleet = dir.path().join("fleet");
    let listing = json(run(&[
        "report",
        "--store",
        &db,
        "--device",
        "fleet-gpu",
        "--latest",
        "-o",
        path_str(&fleet),
        "--format",
        "json",
    ]));
    let kinds_written = kinds(&listing);
    let count = |kind: &str| kinds_written.iter().filter(|k| *k == kind).count();
    assert_eq!(count("roofline"), 2, "{kinds_written:?}");
    assert!(
        count("history") >= 1 && count("comparison") == 1,
        "{kinds_written:?}"
    );
    let page = std::fs::read_to_string(fleet.join("index.html")).unwrap();
    assert!(
        page.contains("store#") && page.contains("n2 GPU 1"),
        "latest runs named"
    );

    let nothing = dir.path().join("nothing");
    let empty = run(&[
        "report",
        "--store",
        &db,
        "--host",
        "n9",
        "-o",
        path_str(&nothing),
    ]);
    assert!(one_line_error(&empty).contains("no stored run matches the selection host=n9"));
    assert!(!nothing.join("index.html").exists());
}
