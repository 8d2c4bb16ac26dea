//! `fleetbench store` end to end through the binary, against both backends: an SQLite file and
//! a throwaway PostgreSQL cluster ([`crate::pg_cluster`]). Result files come from the fake
//! backend and are multiplied into units and runs by editing their JSON and re-deriving every
//! statistic, so each file passes the same checks as a real one.

use crate::common::{fleetbench, tempdir};
use crate::pg_cluster::cluster;
use fleetbench::results::{derive_timing, RawTiming, ResultFile};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::OnceLock;

/// One fake-backend result file, made once per test binary.
pub(crate) fn template() -> &'static ResultFile {
    static TEMPLATE: OnceLock<ResultFile> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        let dir = tempdir();
        let path = dir.path().join("template.json");
        let out = fleetbench()
            .args(["run", "--fake", "fleet-gpu:100", "--sizes", "64,96"])
            .args(["--samples", "10", "--seed", "7", "-q", "-o"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        fleetbench::results::load(&path).unwrap()
    })
}

/// Run `run` (0-based, one a day from March 1st) of unit `host`:`gpu`, its samples taking
/// `slowdown` times as long.
pub(crate) fn unit_run(host: &str, gpu: usize, run: usize, slowdown: f64) -> ResultFile {
    let mut file = template().clone();
    file.machine.hostname = host.into();
    file.machine.adapter.index = gpu;
    file.run.run_id = format!("run{run}-{}-{gpu}", fleetbench::results::slug(host));
    file.run.started_at = format!("2026-03-{:02}T10:00:00Z", run + 1);
    file.run.finished_at = Some(format!("2026-03-{:02}T10:05:00Z", run + 1));
    file.machine.created_at = file.run.started_at.clone();
    for case in &mut file.cases {
        let Some(timing) = &case.timing else { continue };
        let slow = |s: &[f64]| s.iter().map(|x| x * slowdown).collect::<Vec<f64>>();
        let raw = RawTiming {
            host_s: slow(&timing.host_s),
            gpu_s: timing.gpu_s.as_deref().map(slow),
            dispatches_per_sample: timing.dispatches_per_sample,
            warmup_dispatches: timing.warmup_dispatches,
        };
        case.timing = Some(derive_timing(&case.workload, raw).unwrap());
    }
    file
}

pub(crate) fn write(path: &Path, file: &ResultFile) {
    std::fs::write(path, serde_json::to_vec_pretty(file).unwrap()).unwrap();
}

pub(crate) fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs `fleetbench store --db DB ARGS`.
pub(crate) fn store(db: &str, args: &[&str]) -> Output {
    fleetbench()
        .env_remove("FLEETBENCH_DB")
        .args(["store", "--db", db])
        .args(args)
        .output()
        .unwrap()
}

pub(crate) fn ok(out: Output) -> Output {
    assert!(
        out.status.success(),
        "exit {:?}: {}{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

/// The two backends: a SQLite file in `dir`, and a fresh database `name` in the cluster.
pub(crate) fn backends(dir: &Path, name: &str) -> Vec<String> {
    vec![
        dir.join(format!("{name}.sqlite")).display().to_string(),
        cluster().fresh_database(name),
    ]
}

/// A fleet of `units` units × `runs` runs, one unit's last run slowed by `planted`.
fn fleet(dir: &Path, units: usize, runs: usize, planted: Option<(usize, f64)>) -> PathBuf {
    let out = dir.join("fleet");
    std::fs::create_dir_all(&out).unwrap();
    for u in 0..units {
        for r in 0..runs {
            // ±1% between runs and units, as on a quiet host.
            let mut slowdown = 1.0 + ((u * 7 + r * 13) % 5) as f64 / 250.0 - 0.008;
            if let Some((unit, factor)) = planted {
                if u == unit && r == runs - 1 {
                    slowdown *= factor;
                }
            }
            let mut file = unit_run(&format!("node{u:02}"), u % 4, r, slowdown);
            if u == 1 && r >= 2 {
                file.machine.adapter.driver_info = "updated driver 2.0".into();
            }
            write(&out.join(format!("node{u:02}_r{r}.json")), &file);
        }
    }
    out
}

#[test]
fn ingest_is_idempotent_and_refused_files_are_listed() {
    let dir = tempdir();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    for r in 0..3 {
        write(
            &inputs.join(format!("r{r}.json")),
            &unit_run("n1", 0, r, 1.0),
        );
    }
    std::fs::write(inputs.join("broken.json"), "{\"schema_version\": 2").unwrap();
    let mut edited = serde_json::to_value(unit_run("n2", 0, 0, 1.0)).unwrap();
    edited["cases"][0]["timing"]["throughput"]["median"]["value"] = Value::from(1e9);
    std::fs::write(inputs.join("edited.json"), edited.to_string()).unwrap();
    for db in backends(dir.path(), "idempotent") {
        let first = ok(store(&db, &["ingest", inputs.to_str().unwrap()]));
        let (stdout, stderr) = (text(&first.stdout), text(&first.stderr));
        assert!(
            stderr.contains("5 file(s): 3 added, 0 already stored, 2 refused"),
            "{stderr}"
        );
        assert!(
            stdout.contains("broken.json") && stdout.contains("invalid JSON"),
            "{stdout}"
        );
        assert!(
            stdout.contains("edited.json") && stdout.contains("inconsistent"),
            "{stdout}"
        );
        let again = ok(store(
            &db,
            &["ingest", inputs.join("r0.json").to_str().unwrap()],
        ));
        let again_err = text(&again.stderr);
        assert!(
            again_err.contains("nothing new: all 1 file(s) are already stored"),
            "{again_err}"
        );
        let second = ok(store(&db, &["ingest", inputs.to_str().unwrap()]));
        assert!(text(&second.stderr).contains("0 added, 3 already stored, 2 refused"));
        let list = ok(store(&db, &["list", "--format", "json"]));
        let list: Value = serde_json::from_slice(&list.stdout).unwrap();
        assert_eq!(list["runs"].as_array().unwrap().len(), 3, "{db}");
        let strict = store(&db, &["ingest", "--strict", inputs.to_str().unwrap()]);
        assert_eq!(strict.status.code(), Some(1));
    }
}

#[test]
fn export_round_trips_a_file_that_validates_with_the_same_samples() {
    let dir = tempdir();
    let original = unit_run("exporter", 2, 0, 1.0);
    let source = dir.path().join("source.json");
    write(&source, &original);
    for db in backends(dir.path(), "export") {
        ok(store(&db, &["ingest", source.to_str().unwrap()]));
        let out = dir.path().join("exported.json");
        let _ = std::fs::remove_file(&out);
        let run_id = original.run.run_id.as_str();
        ok(store(&db, &["export", run_id, "-o", out.to_str().unwrap()]));
        let check = fleetbench().arg("validate").arg(&out).output().unwrap();
        assert!(check.status.success(), "{}", text(&check.stdout));
        let exported = fleetbench::results::load(&out).unwrap();
        assert_eq!(exported, original, "{db}");
        let refused = store(&db, &["export", run_id, "-o", out.to_str().unwrap()]);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "an existing file is not overwritten"
        );
        let missing = store(&db, &["export", "no-such-run", "-o", "x.json"]);
        assert!(text(&missing.stderr).contains("no stored run with run id no-such-run"));
    }
}

/// The stored runs' (content hash, case count), from `store list --format json`.
fn stored_runs(db: &str) -> Vec<(String, i64)> {
    let list = ok(store(db, &["list", "--format", "json"]));
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let hash = r["content_hash"].as_str().unwrap().to_string();
            (hash, r["cases"].as_i64().unwrap())
        })
        .collect()
}

fn sha256(path: &Path) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(std::fs::read(path).unwrap()))
}

#[test]
fn a_complete_file_replaces_its_partial_run_and_a_partial_after_it_adds_nothing() {
    let dir = tempdir();
    let complete = unit_run("interrupted", 1, 0, 1.0);
    let mut partial = complete.clone();
    partial.run.complete = false;
    partial.cases.truncate(complete.cases.len() / 2);
    let other = unit_run("interrupted", 1, 0, 1.01);
    let paths: Vec<PathBuf> = ["partial", "complete", "other"]
        .iter()
        .map(|name| dir.path().join(format!("{name}.json")))
        .collect();
    for (path, file) in paths.iter().zip([&partial, &complete, &other]) {
        write(path, file);
    }
    let [partial_path, complete_path, other_path] = [0, 1, 2].map(|i| paths[i].to_str().unwrap());
    for db in backends(dir.path(), "partial") {
        ok(store(&db, &["ingest", partial_path]));
        let half = partial.cases.len() as i64;
        assert_eq!(stored_runs(&db), vec![(sha256(&paths[0]), half)], "{db}");
        let replace = text(&ok(store(&db, &["ingest", complete_path])).stderr);
        assert!(
            replace.contains("1 added, 0 already stored, 0 refused; replaced 1 partial run"),
            "{replace}"
        );
        let whole = complete.cases.len() as i64;
        assert_eq!(stored_runs(&db), vec![(sha256(&paths[1]), whole)], "{db}");
        let history = ok(store(
            &db,
            &[
                "history",
                "--host",
                "interrupted",
                "--gpu",
                "1",
                "--format",
                "json",
            ],
        ));
        let history: Value = serde_json::from_slice(&history.stdout).unwrap();
        for metric in history["metrics"].as_array().unwrap() {
            assert_eq!(
                metric["points"].as_array().unwrap().len(),
                1,
                "{db}: {metric}"
            );
        }
        let out = dir.path().join("exported.json");
        let _ = std::fs::remove_file(&out);
        ok(store(
            &db,
            &["export", &complete.run.run_id, "-o", out.to_str().unwrap()],
        ));
        assert_eq!(fleetbench::results::load(&out).unwrap(), complete, "{db}");
        let again = text(&ok(store(&db, &["ingest", complete_path])).stderr);
        assert!(
            again.contains("nothing new: all 1 file(s) are already stored"),
            "{again}"
        );
        let late = ok(store(&db, &["ingest", partial_path]));
        let (late_out, late_err) = (text(&late.stdout), text(&late.stderr));
        assert!(
            late_err.contains("0 added, 0 already stored, 0 refused; 1 partial file(s) not added"),
            "{late_err}"
        );
        assert!(
            late_out.contains("partial.json")
                && late_out.contains("its complete file is already stored"),
            "{late_out}"
        );
        let refused = ok(store(&db, &["ingest", other_path]));
        assert!(
            text(&refused.stdout).contains("already stored from a different file"),
            "{}",
            text(&refused.stdout)
        );
        assert_eq!(stored_runs(&db), vec![(sha256(&paths[1]), whole)], "{db}");
    }
    // Both files in one ingest, whatever order they are written in: the complete run stays.
    let both = dir.path().join("both");
    std::fs::create_dir(&both).unwrap();
    write(&both.join("a-partial.json"), &partial);
    write(&both.join("b-complete.json"), &complete);
    for db in backends(dir.path(), "partial_together") {
        ok(store(
            &db,
            &["ingest", "--batch", "1", both.to_str().unwrap()],
        ));
        assert_eq!(
            stored_runs(&db),
            vec![(sha256(&paths[1]), complete.cases.len() as i64)]
        );
        ok(store(&db, &["ingest", both.to_str().unwrap()]));
        assert_eq!(stored_runs(&db).len(), 1, "{db}");
    }
}

/// The findings `store regressions --format json` names.
fn regressions(db: &str) -> (Option<i32>, Vec<Value>) {
    let out = store(
        db,
        &["regressions", "--fail-on-regressions", "--format", "json"],
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("{}{}", text(&out.stdout), text(&out.stderr)));
    (
        out.status.code(),
        report["findings"].as_array().unwrap().clone(),
    )
}

#[test]
fn a_planted_slow_unit_is_the_only_regression_and_an_a_a_sequence_names_none() {
    let dir = tempdir();
    let aa = fleet(&dir.path().join("aa"), 6, 4, None);
    let planted = fleet(&dir.path().join("planted"), 6, 4, Some((3, 1.3)));
    for (db_aa, db_planted) in backends(dir.path(), "aa")
        .into_iter()
        .zip(backends(dir.path(), "planted"))
    {
        ok(store(&db_aa, &["ingest", aa.to_str().unwrap()]));
        let (code, findings) = regressions(&db_aa);
        assert_eq!((code, findings.len()), (Some(0), 0), "{findings:?}");
        ok(store(&db_planted, &["ingest", planted.to_str().unwrap()]));
        let (code, findings) = regressions(&db_planted);
        assert_eq!(code, Some(1));
        assert!(!findings.is_empty());
        for f in &findings {
            assert_eq!(
                (f["host"].as_str(), f["gpu_index"].as_i64()),
                (Some("node03"), Some(3))
            );
            assert_eq!(f["verdict"], "regressed");
            assert!(f["own"]["regressed"] == true && f["population"]["regressed"] == true);
            let ratio = f["own"]["ratio"].as_f64().unwrap();
            assert!((ratio - 1.0 / 1.3).abs() < 0.03, "{ratio}");
        }
        let history = ok(store(
            &db_planted,
            &[
                "history", "--host", "node03", "--gpu", "3", "--format", "csv",
            ],
        ));
        let csv = text(&history.stdout);
        assert!(
            csv.contains("run3-node03-3") && csv.contains("2026-03-04T10:00:00Z"),
            "{csv}"
        );
        let updated = ok(store(
            &db_planted,
            &[
                "history", "--host", "node01", "--gpu", "1", "--format", "json",
            ],
        ));
        let updated: Value = serde_json::from_slice(&updated.stdout).unwrap();
        for metric in updated["metrics"].as_array().unwrap() {
            let changed: Vec<bool> = metric["points"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["driver_changed"] == true)
                .collect();
            assert_eq!(changed, [false, false, true, false], "{metric}");
        }
        let model = ok(store(
            &db_planted,
            &["history", "--device", "fleet-gpu", "--format", "json"],
        ));
        let model: Value = serde_json::from_slice(&model.stdout).unwrap();
        assert_eq!(model["single_unit"], false);
        assert_eq!(model["metrics"][0]["points"].as_array().unwrap().len(), 24);
    }
}

/// `store regressions` reads the series table that ingest keeps; fed instead every figure of
/// the stored runs as `store history` reads them (runs joined with their figures), the same
/// test must give the same report, on both engines, after a partial run was replaced too.
#[test]
fn regressions_from_the_series_table_equal_the_test_of_every_stored_figure() {
    use fleetbench::store::analysis::RegressionSettings;
    use fleetbench::store::regressions::{regressions, FleetTest};
    use fleetbench::store::{Location, OpenMode, RunFilter};
    let dir = tempdir();
    let planted = fleet(&dir.path().join("planted"), 6, 4, Some((2, 1.3)));
    let complete = unit_run("node05", 1, 4, 1.0);
    let mut partial = complete.clone();
    partial.run.complete = false;
    partial.cases.truncate(complete.cases.len() / 2);
    let (partial_path, complete_path) = (dir.path().join("p.json"), dir.path().join("c.json"));
    write(&partial_path, &partial);
    write(&complete_path, &complete);
    let settings = RegressionSettings::default();
    for db in backends(dir.path(), "series") {
        for input in [planted.as_path(), &partial_path, &complete_path] {
            ok(store(&db, &["ingest", input.to_str().unwrap()]));
        }
        let mut store = fleetbench::store::open(&Location::parse(&db), OpenMode::Existing).unwrap();
        for filter in [
            RunFilter::default(),
            RunFilter {
                backend: Some(template().machine.adapter.backend.clone()),
                since_s: Some(0),
                ..RunFilter::default()
            },
        ] {
            let from_series = regressions(store.as_mut(), &filter, &settings).unwrap();
            let mut direct = FleetTest::new(settings);
            store
                .for_each_figure(&filter, &mut |row| {
                    direct.add(row.to_row());
                    Ok(())
                })
                .unwrap();
            let direct = direct.finish();
            assert_eq!(from_series, direct, "{db}");
            assert_eq!((direct.units, direct.regressed > 0), (6, true), "{db}");
        }
    }
}

/// Runs `sql` on a store of either engine as its owner, bypassing fleetbench: how the tests
/// below make an older store, or damage one.
fn execute(db: &str, sql: &str) {
    if let Err(e) = try_execute(db, sql) {
        panic!("{sql}: {e}");
    }
}

/// [`execute`], its error given back.
fn try_execute(db: &str, sql: &str) -> Result<(), String> {
    if db.starts_with("postgres://") {
        let mut client = postgres::Client::connect(db, postgres::NoTls).unwrap();
        client.batch_execute(sql).map_err(|e| e.to_string())
    } else {
        let connection = rusqlite::Connection::open(db).unwrap();
        connection.execute_batch(sql).map_err(|e| e.to_string())
    }
}

/// The one number `sql` selects from a store of either engine.
fn count(db: &str, sql: &str) -> i64 {
    if db.starts_with("postgres://") {
        let mut client = postgres::Client::connect(db, postgres::NoTls).unwrap();
        client.query_one(sql, &[]).unwrap().get(0)
    } else {
        let connection = rusqlite::Connection::open(db).unwrap();
        connection.query_row(sql, [], |r| r.get(0)).unwrap()
    }
}

/// `bytes` as a binary literal of the store's engine.
fn blob_literal(db: &str, bytes: &[u8]) -> String {
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    if db.starts_with("postgres://") {
        format!("'\\x{hex}'::bytea")
    } else {
        format!("X'{hex}'")
    }
}

/// Takes a store of the current schema back to what version 3 left: figures a row each in
/// `unit_series` (filled by migration 3's own statement, as version 3's ingest wrote them), no
/// packed series.
fn as_schema_version_3(db: &str) {
    use fleetbench::store::schema::{render, Dialect, MIGRATIONS};
    let dialect = if db.starts_with("postgres://") {
        Dialect::Postgres
    } else {
        Dialect::Sqlite
    };
    let mut sql: Vec<String> = MIGRATIONS[2]
        .statements
        .iter()
        .map(|s| render(s, dialect))
        .collect();
    sql.push("DROP TABLE unit_runs".into());
    sql.push("DROP TABLE series_names".into());
    sql.push("DELETE FROM schema_migrations WHERE version = 4".into());
    execute(db, &sql.join(";\n"));
}

/// A store written before the series were packed (schema version 3) is brought forward when
/// it is opened: its runs are packed from the row-per-figure table, which goes, and
/// `store regressions` answers exactly as over the same runs ingested now; later ingests add to
/// it as to any store.
#[test]
fn a_version_3_store_is_back_filled_and_gives_the_same_regressions() {
    let dir = tempdir();
    let planted = fleet(&dir.path().join("planted"), 6, 4, Some((2, 1.3)));
    let all = ["regressions", "--all", "--format", "json"];
    for db in backends(dir.path(), "backfill") {
        ok(store(&db, &["ingest", planted.to_str().unwrap()]));
        let now = ok(store(&db, &all)).stdout;
        as_schema_version_3(&db);
        let migrated = ok(store(&db, &all)).stdout;
        assert_eq!(text(&migrated), text(&now), "{db}");
        let report: Value = serde_json::from_slice(&migrated).unwrap();
        assert_eq!(report["units"].as_u64(), Some(6), "{db}");
        // The row-per-figure table is gone, every run packed.
        assert!(
            try_execute(&db, "SELECT count(*) FROM unit_series").is_err(),
            "{db}"
        );
        assert_eq!(count(&db, "SELECT count(*) FROM unit_runs"), 24, "{db}");
        let extra = dir.path().join("extra.json");
        write(&extra, &unit_run("node99", 0, 0, 1.0));
        ok(store(&db, &["ingest", extra.to_str().unwrap()]));
        let report: Value = serde_json::from_slice(&ok(store(&db, &all)).stdout).unwrap();
        assert_eq!(report["units"].as_u64(), Some(7), "{db}");
    }
}

/// A packed series value that is not the layout, or names a name the store lacks, makes
/// `store regressions` fail with one line naming the store and the run, never a panic.
#[test]
fn a_damaged_packed_series_is_an_error_naming_the_store_and_run() {
    let dir = tempdir();
    let fleet = fleet(&dir.path().join("fleet"), 4, 3, None);
    let unknown_name = fleetbench::store::packed::encode(
        &[fleetbench::store::packed::NamedFigure {
            metric: "m".into(),
            shape: "s".into(),
            unit: "u".into(),
            median: 1.0,
            low: 1.0,
            high: 1.0,
        }],
        &|_| Some(4_000_000),
    )
    .unwrap();
    let damage: [(&[u8], &str); 2] = [
        (&[1, 9, 0], "shorter than a header"),
        (
            &unknown_name,
            "name id 4000000 is not in the store's series names",
        ),
    ];
    for db in backends(dir.path(), "damaged") {
        ok(store(&db, &["ingest", fleet.to_str().unwrap()]));
        for (bytes, why) in damage {
            let set = format!(
                "UPDATE unit_runs SET figures = {} WHERE run = (SELECT min(run) FROM unit_runs)",
                blob_literal(&db, bytes)
            );
            execute(&db, &set);
            let out = store(&db, &["regressions"]);
            let err = text(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{err}");
            assert!(err.contains(why) && err.contains("stored run"), "{err}");
            assert!(err.contains("the store is damaged"), "{err}");
            assert!(!err.contains("panicked") && !err.contains("adm1n"), "{err}");
            let shown = db.replace(crate::pg_cluster::ADMIN_PASSWORD, "***");
            let at = shown.split('@').next_back().unwrap_or(&shown);
            assert!(err.contains(at), "{err}");
        }
    }
}

#[test]
fn hostile_names_are_stored_intact_and_shown_escaped() {
    let dir = tempdir();
    let host = "node'\"; DROP TABLE runs; --\u{1b}[2J\u{202e}gpu\u{7}";
    let mut file = unit_run(host, 0, 0, 1.0);
    file.machine.adapter.driver_info = "drv\r\nfake line".into();
    let path = dir.path().join("hostile.json");
    write(&path, &file);
    for db in backends(dir.path(), "hostile") {
        ok(store(&db, &["ingest", path.to_str().unwrap()]));
        let listed = text(&ok(store(&db, &["list"])).stdout);
        assert!(
            !listed.contains('\u{1b}') && !listed.contains('\u{202e}'),
            "{listed}"
        );
        assert!(listed.contains("\\u{1b}[2J\\u{202e}gpu\\u{7}"), "{listed}");
        let json = ok(store(&db, &["list", "--format", "json", "--host", host]));
        let json: Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(json["runs"][0]["host"], host);
        let out = dir.path().join("back.json");
        let _ = std::fs::remove_file(&out);
        let run_id = file.run.run_id.as_str();
        ok(store(&db, &["export", run_id, "-o", out.to_str().unwrap()]));
        assert_eq!(fleetbench::results::load(&out).unwrap(), file);
    }
}

#[test]
fn a_postgres_password_is_never_printed() {
    let dir = tempdir();
    let c = cluster();
    let good = c.fresh_database("secrets");
    let path = dir.path().join("one.json");
    write(&path, &unit_run("n", 0, 0, 1.0));
    let wrong = c.url_as(crate::pg_cluster::ADMIN, "wr0ng-pa55word", "secrets");
    let failed = store(&wrong, &["ingest", path.to_str().unwrap()]);
    let err = text(&failed.stderr);
    assert_eq!(failed.status.code(), Some(2), "{err}");
    assert!(
        err.contains("***") && !err.contains("wr0ng-pa55word"),
        "{err}"
    );
    let stored = ok(store(&good, &["ingest", path.to_str().unwrap()]));
    let all = text(&stored.stdout) + &text(&stored.stderr);
    assert!(!all.contains(crate::pg_cluster::ADMIN_PASSWORD), "{all}");
    let env = fleetbench()
        .env("FLEETBENCH_DB", &good)
        .args(["store", "regressions"])
        .output()
        .unwrap();
    let all = text(&env.stdout) + &text(&env.stderr);
    assert!(
        env.status.success() && !all.contains(crate::pg_cluster::ADMIN_PASSWORD),
        "{all}"
    );
}

#[test]
fn a_read_only_role_can_query_and_is_refused_ingest() {
    let dir = tempdir();
    let c = cluster();
    let admin = c.fresh_database("readonly");
    let path = dir.path().join("one.json");
    write(&path, &unit_run("n", 0, 0, 1.0));
    ok(store(&admin, &["ingest", path.to_str().unwrap()]));
    c.admin(
        "readonly",
        "DROP ROLE IF EXISTS fleet_reader; \
         CREATE ROLE fleet_reader LOGIN PASSWORD 'reader-pw'; \
         GRANT SELECT ON ALL TABLES IN SCHEMA public TO fleet_reader;",
    );
    let reader = c.url_as("fleet_reader", "reader-pw", "readonly");
    let listed = ok(store(&reader, &["list", "--format", "json"]));
    let listed: Value = serde_json::from_slice(&listed.stdout).unwrap();
    assert_eq!(listed["runs"].as_array().unwrap().len(), 1);
    let tested = ok(store(
        &reader,
        &["regressions", "--all", "--format", "json"],
    ));
    let tested: Value = serde_json::from_slice(&tested.stdout).unwrap();
    assert_eq!(tested["units"].as_u64(), Some(1));
    let other = dir.path().join("two.json");
    write(&other, &unit_run("n", 0, 1, 1.0));
    let refused = store(&reader, &["ingest", other.to_str().unwrap()]);
    let err = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(2), "{err}");
    assert!(err.contains("this database role may not write"), "{err}");
    assert!(!err.contains("reader-pw"), "{err}");
}

#[test]
fn sixteen_concurrent_postgres_ingesters_lose_and_duplicate_nothing() {
    use sha2::Digest;
    let dir = tempdir();
    let db = cluster().fresh_database("concurrent");
    let files: Vec<PathBuf> = (0..48)
        .map(|i| {
            let path = dir.path().join(format!("f{i:02}.json"));
            write(&path, &unit_run(&format!("host{i:02}"), i % 4, i / 16, 1.0));
            path
        })
        .collect();
    // Eight ingesters of disjoint sixths, eight of overlapping windows of twenty.
    let sets: Vec<Vec<&PathBuf>> = (0..8)
        .map(|k| files[k * 6..k * 6 + 6].iter().collect())
        .chain((0..8).map(|k| files.iter().cycle().skip(k * 5).take(20).collect()))
        .collect();
    let children: Vec<_> = sets
        .iter()
        .map(|set| {
            fleetbench()
                .args(["store", "--db", &db, "ingest", "--batch", "3"])
                .args(set.iter().map(|p| p.as_os_str()))
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        ok(child.wait_with_output().unwrap());
    }
    let list = ok(store(&db, &["list", "--format", "json"]));
    let list: Value = serde_json::from_slice(&list.stdout).unwrap();
    let mut stored: Vec<String> = list["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["content_hash"].as_str().unwrap().to_string())
        .collect();
    stored.sort();
    let mut expected: Vec<String> = files
        .iter()
        .map(|p| format!("{:x}", sha2::Sha256::digest(std::fs::read(p).unwrap())))
        .collect();
    expected.sort();
    assert_eq!(stored, expected);
}

#[test]
fn run_with_store_writes_the_file_then_stores_it_without_recording_a_password() {
    let dir = tempdir();
    for (i, db) in backends(dir.path(), "runstore").into_iter().enumerate() {
        let path = dir.path().join(format!("run{i}.json"));
        let out = fleetbench()
            .args([
                "run",
                "--fake",
                "fleet-gpu:100",
                "--sizes",
                "64",
                "--samples",
                "10",
            ])
            .args(["-q", "--store", &db, "-o"])
            .arg(&path)
            .output()
            .unwrap();
        let err = text(&out.stderr);
        assert!(out.status.success(), "{err}");
        assert!(err.contains("1 added"), "{err}");
        assert!(!err.contains(crate::pg_cluster::ADMIN_PASSWORD), "{err}");
        let file = fleetbench::results::load(&path).unwrap();
        let recorded = file.run.command.join(" ");
        assert!(
            !recorded.contains(crate::pg_cluster::ADMIN_PASSWORD),
            "{recorded}"
        );
        let list = ok(store(&db, &["list", "--format", "json"]));
        let list: Value = serde_json::from_slice(&list.stdout).unwrap();
        assert_eq!(list["runs"][0]["run_id"], file.run.run_id.as_str());
    }
}

/// `store ingest --format json` of `inputs` into `db`, with `extra` flags, as JSON.
fn ingest_report(db: &str, extra: &[&str], inputs: &[&Path]) -> Value {
    let mut args = vec!["ingest", "--format", "json"];
    args.extend_from_slice(extra);
    args.extend(inputs.iter().map(|p| p.to_str().unwrap()));
    let out = ok(store(db, &args));
    let mut report: Value = serde_json::from_slice(&out.stdout).unwrap();
    report["store"] = Value::Null;
    report
}

fn refused_paths(report: &Value) -> Vec<String> {
    report["refused"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["path"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn ingest_of_a_tree_lists_refusals_and_counts_in_the_same_order_at_any_batch_size() {
    let dir = tempdir();
    let tree = dir.path().join("in");
    std::fs::create_dir_all(tree.join("b")).unwrap();
    write(&tree.join("a.json"), &unit_run("n1", 0, 0, 1.0));
    write(&tree.join("b/c.json"), &unit_run("n1", 0, 1, 1.0));
    std::fs::write(tree.join("b/notes.txt"), "").unwrap();
    std::fs::write(tree.join("b/.fleetbench-x.tmp"), "").unwrap();
    std::fs::write(tree.join("broken.json"), "{\"schema_version\": 2").unwrap();
    std::fs::write(tree.join("z.txt"), "").unwrap();
    let extra = dir.path().join("extra.json");
    write(&extra, &unit_run("n1", 0, 2, 1.0));
    let inputs = [tree.as_path(), extra.as_path()];
    let p = |rel: &str| tree.join(rel).display().to_string();
    for (i, db) in backends(dir.path(), "tree").into_iter().enumerate() {
        let report = ingest_report(&db, &[], &inputs);
        assert_eq!(
            (
                &report["files"],
                &report["added"],
                &report["already_stored"]
            ),
            (&Value::from(7), &Value::from(3), &Value::from(0)),
            "{report}"
        );
        // The store's refusals by path, then the walk's skipped entries in walk order.
        let want = [
            p("broken.json"),
            p("b/.fleetbench-x.tmp"),
            p("b/notes.txt"),
            p("z.txt"),
        ];
        assert_eq!(refused_paths(&report), want, "{report}");
        let list = ok(store(&db, &["list", "--format", "json"]));
        let list: Value = serde_json::from_slice(&list.stdout).unwrap();
        let mut sources: Vec<&str> = list["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|run| run["source"].as_str().unwrap())
            .collect();
        sources.sort();
        let extra_source = extra.display().to_string();
        assert_eq!(sources, [extra_source, p("a.json"), p("b/c.json")], "{db}");
        // One run a batch gives the same report in a fresh store.
        let other = if i == 0 {
            dir.path().join("tree-one.sqlite").display().to_string()
        } else {
            cluster().fresh_database("tree_one")
        };
        assert_eq!(ingest_report(&other, &["--batch", "1"], &inputs), report);
        let again = ingest_report(&db, &[], &inputs);
        assert_eq!(
            (&again["added"], &again["already_stored"]),
            (&Value::from(0), &Value::from(3))
        );
        assert_eq!(refused_paths(&again), want);
    }
}

#[test]
fn ingest_of_a_directory_larger_than_the_walks_sort_chunk_takes_every_file_once() {
    let dir = tempdir();
    let tree = dir.path().join("many");
    std::fs::create_dir(&tree).unwrap();
    // More names than the walk sorts in memory at once (8,192), so it sorts them in runs.
    let n = 8192 + 100;
    let mut refused = Vec::new();
    for i in (0..n).rev() {
        let path = tree.join(format!("f{i:05}.json"));
        if i % 4000 == 7 {
            write(&path, &unit_run("n1", 0, i / 4000, 1.0));
        } else {
            std::fs::write(&path, "{}").unwrap();
            refused.push(path.display().to_string());
        }
    }
    refused.sort();
    let db = dir.path().join("many.sqlite").display().to_string();
    let report = ingest_report(&db, &["--batch", "2"], &[tree.as_path()]);
    assert_eq!(
        (&report["files"], &report["added"]),
        (&Value::from(n), &Value::from(3)),
        "{}",
        report["added"]
    );
    assert_eq!(refused_paths(&report), refused);
}

/// Runs read a page at a time (what `merge --store` does) are the runs read at once, in the
/// same order, with or without a filter: pages split ties in start time (here five units' runs
/// start at the same second) by the store's id, so no run is skipped or read twice.
#[test]
fn runs_read_page_by_page_are_the_runs_read_at_once() {
    use fleetbench::store::{open, Location, OpenMode, RunFilter, RunPage};
    let dir = tempdir();
    let fleet = fleet(dir.path(), 5, 4, None);
    for db in backends(dir.path(), "pages") {
        ok(store(&db, &["ingest", fleet.to_str().unwrap()]));
        let mut store = open(&Location::parse(&db), OpenMode::Existing).unwrap();
        let on_gpu_1 = RunFilter {
            gpu_index: Some(1),
            ..RunFilter::default()
        };
        for filter in [RunFilter::default(), on_gpu_1] {
            let at_once = store.runs(&filter).unwrap();
            for limit in [1, 3, 7, at_once.len(), at_once.len() + 1] {
                let mut paged = Vec::new();
                let mut page = RunPage {
                    after: None,
                    limit: Some(limit),
                };
                loop {
                    let rows = store.runs_page(&filter, &page).unwrap();
                    assert!(rows.len() <= limit);
                    let Some(last) = rows.last() else { break };
                    page = page.next(last);
                    paged.extend(rows);
                }
                let keys = |rows: &[fleetbench::store::RunRow]| -> Vec<i64> {
                    rows.iter().map(|r| r.key).collect()
                };
                assert_eq!(keys(&paged), keys(&at_once), "{db}, pages of {limit}");
            }
            assert!(!at_once.is_empty());
        }
    }
}

/// The one number `sql` selects, or `None` while the store cannot answer yet (its schema not
/// made).
fn try_count(db: &str, sql: &str) -> Option<i64> {
    if db.starts_with("postgres://") {
        let mut client = postgres::Client::connect(db, postgres::NoTls).ok()?;
        client.query_one(sql, &[]).ok().map(|row| row.get(0))
    } else {
        let connection = rusqlite::Connection::open(db).ok()?;
        connection.query_row(sql, [], |r| r.get(0)).ok()
    }
}

/// The number before `word` in `text` ("… 12 added, …").
fn number_before(text: &str, word: &str) -> usize {
    let at = text
        .find(word)
        .unwrap_or_else(|| panic!("no {word:?} in {text}"));
    let digits: String = text[..at]
        .trim_end()
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.chars().rev().collect::<String>().parse().unwrap()
}

/// An ingest stopped by SIGINT or SIGTERM (a scheduler's cancel) once it has stored runs
/// commits what it read, says so and exits 130; the store then holds exactly the runs it
/// reported, and the same ingest again stores the rest.
#[test]
fn an_interrupted_ingest_keeps_what_it_stored_and_the_same_ingest_stores_the_rest() {
    const FILES: usize = 2000;
    let dir = tempdir();
    let inputs = dir.path().join("in");
    std::fs::create_dir(&inputs).unwrap();
    for i in 0..FILES {
        let file = unit_run(&format!("node{:04}", i / 4), i % 4, 0, 1.0);
        write(&inputs.join(format!("u{i:04}.json")), &file);
    }
    // A link to a directory, which the walk skips and lists as refused: first in its order.
    std::os::unix::fs::symlink(&inputs, inputs.join("a-link")).unwrap();
    let runs = "SELECT count(*) FROM runs";
    for (db, signal) in backends(dir.path(), "stopped")
        .into_iter()
        .zip([libc::SIGINT, libc::SIGTERM])
    {
        let mut child = fleetbench()
            .env_remove("FLEETBENCH_DB")
            .args(["store", "--db", &db, "ingest", "--batch", "1"])
            .arg(&inputs)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        while try_count(&db, runs).unwrap_or(0) == 0 {
            assert!(
                child.try_wait().unwrap().is_none(),
                "ingest ended before any run was seen stored"
            );
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        let pid = libc::pid_t::try_from(child.id()).unwrap();
        // SAFETY: kill(2) with a live child's pid and a valid signal number has no memory effects.
        assert_eq!(unsafe { libc::kill(pid, signal) }, 0, "kill failed");
        let out = child.wait_with_output().unwrap();
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(130), "{db}: {stderr}");
        assert!(
            stderr.contains("interrupted: the files read are stored"),
            "{stderr}"
        );
        let added = number_before(&stderr, "added");
        assert!(added > 0 && added < FILES, "{db}: {stderr}");
        assert!(
            stderr.contains(&format!(
                "{} file(s): {added} added, 0 already stored, 1 refused",
                added + 1
            )),
            "{db}: the files taken and the link: {stderr}"
        );
        assert!(
            text(&out.stdout).contains("a-link"),
            "{}",
            text(&out.stdout)
        );
        assert_eq!(
            count(&db, runs),
            added as i64,
            "{db}: the store holds what was reported"
        );
        let again = text(&ok(store(&db, &["ingest", inputs.to_str().unwrap()])).stderr);
        assert!(
            again.contains(&format!(
                "{} file(s): {} added, {added} already stored, 1 refused",
                FILES + 1,
                FILES - added
            )),
            "{db}: {again}"
        );
        assert_eq!(count(&db, runs), FILES as i64);
    }
}
