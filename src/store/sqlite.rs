//! The embedded store: one SQLite file, written in WAL mode so readers never wait for an
//! ingest, with a busy timeout so two writers queue instead of failing.

use super::ingest::{
    replaced_meanwhile, resolve_clash, write_order, Clash, PreparedRun, StoredRun,
};
use super::model::{FigureRef, RunFilter, RunPage, RunRow, SeriesRunRef};
use super::packed::{self, NameIds, NamedFigure, Regrouper, SeriesRunRow};
use super::schema::{self, Backfill, Dialect};
use super::sql::{self, Param};
use super::{Database, Insertion, OpenMode};
use crate::error::{Error, Result};
use crate::results::ResultFile;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};
use std::collections::HashMap;
use std::path::Path;

/// A SQLite store.
pub struct SqliteStore {
    connection: Connection,
    location: String,
    /// Ids of the series names this connection saw committed.
    names: NameIds,
}

impl SqliteStore {
    /// Streams the rows of one query to `visit`, one at a time (a store's figures do not fit
    /// in memory at fleet scale); `visit` decodes a row (its error is the driver's) and hands
    /// the decoded row on (its error is the caller's).
    fn for_each_row(
        &mut self,
        (text, params): (String, Vec<Param>),
        visit: &mut dyn FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<Result<()>>,
    ) -> Result<()> {
        let location = self.location.clone();
        let fail = |e: rusqlite::Error| store_error(&location, &e);
        let mut statement = self.connection.prepare(&text).map_err(fail)?;
        let mut rows = statement
            .query(rusqlite::params_from_iter(params.iter().map(bind)))
            .map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            visit(row).map_err(fail)??;
        }
        Ok(())
    }

    /// Opens (or, with [`OpenMode::Create`], creates) the file and brings its schema forward.
    pub fn open(path: &Path, mode: OpenMode) -> Result<SqliteStore> {
        let location = path.display().to_string();
        let fail = |e: rusqlite::Error| store_error(&location, &e);
        if mode == OpenMode::Existing && !path.exists() {
            return Err(Error::Store {
                db: location,
                message: "no store here (create it with `fleetbench store ingest`)".to_string(),
            });
        }
        if let (OpenMode::Create, Some(parent)) = (mode, path.parent()) {
            if !parent.as_os_str().is_empty() && !parent.exists() {
                std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
            }
        }
        let new_file = !path.exists();
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(fail)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(60))
            .map_err(fail)?;
        if new_file {
            // Documents of tens of KB span fewer overflow pages on 16 KiB pages; the size can
            // only be chosen before the first table (and before WAL mode) exists.
            connection
                .execute_batch("PRAGMA page_size = 16384;")
                .map_err(fail)?;
        }
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON; PRAGMA cache_size = -32768;",
            )
            .map_err(fail)?;
        let mut store = SqliteStore {
            connection,
            location,
            names: NameIds::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn fail(&self, e: &rusqlite::Error) -> Error {
        store_error(&self.location, e)
    }

    /// Applies pending migrations in one immediate transaction (a second process waits).
    fn migrate(&mut self) -> Result<()> {
        if self.schema_version().ok() == Some(schema::latest_version()) {
            return Ok(());
        }
        let location = self.location.clone();
        let fail = |e: rusqlite::Error| store_error(&location, &e);
        let tx = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        tx.execute(schema::MIGRATIONS_TABLE, []).map_err(fail)?;
        let current: i64 = tx
            .query_row(sql::SCHEMA_VERSION, [], |r| r.get(0))
            .map_err(fail)?;
        let pending = schema::pending(current).map_err(|message| Error::Store {
            db: location.clone(),
            message,
        })?;
        for migration in pending {
            for statement in migration.statements {
                tx.execute_batch(&schema::render(statement, Dialect::Sqlite))
                    .map_err(fail)?;
            }
            match migration.backfill {
                Some(Backfill::PackSeries) => pack_series(&tx, &location)?,
                None => {}
            }
            for statement in migration.then {
                tx.execute_batch(&schema::render(statement, Dialect::Sqlite))
                    .map_err(fail)?;
            }
            let now = crate::results::now_rfc3339();
            tx.execute(
                sql::RECORD_MIGRATION,
                params![migration.version, migration.name, now],
            )
            .map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }

    fn schema_version(&self) -> rusqlite::Result<i64> {
        self.connection
            .query_row(sql::SCHEMA_VERSION, [], |r| r.get(0))
    }
}

impl Database for SqliteStore {
    fn location(&self) -> &str {
        &self.location
    }

    fn insert_batch(&mut self, runs: &[PreparedRun]) -> Result<Vec<Insertion>> {
        let location = self.location.clone();
        let fail = |e: rusqlite::Error| store_error(&location, &e);
        let figures: Vec<Vec<NamedFigure>> = runs.iter().map(packed::named_figures).collect();
        let missing = self.names.missing(figures.iter().flatten());
        let tx = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        let fresh = packed::checked_ids(&location, resolve_names(&tx, &missing).map_err(fail)?)?;
        let mut outcomes = vec![Insertion::AlreadyStored; runs.len()];
        for i in write_order(runs) {
            let blob = packed::pack(&location, &self.names, &fresh, &figures[i])?;
            outcomes[i] = insert_run(&tx, &runs[i], &blob).map_err(fail)?;
        }
        tx.commit().map_err(fail)?;
        self.names.commit(fresh);
        Ok(outcomes)
    }

    fn runs_page(&mut self, filter: &RunFilter, page: &RunPage) -> Result<Vec<RunRow>> {
        let (text, params) = sql::select_runs(filter, page);
        let mut statement = self.connection.prepare(&text).map_err(|e| self.fail(&e))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(params.iter().map(bind)), |r| {
                sql::run_row(r)
            })
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>());
        rows.map_err(|e| store_error(&self.location, &e))
    }

    fn for_each_figure(
        &mut self,
        filter: &RunFilter,
        visit: &mut dyn FnMut(&FigureRef<'_>) -> Result<()>,
    ) -> Result<()> {
        self.for_each_row(sql::select_figures(filter), &mut |row| {
            Ok(visit(&sql::figure_ref(row)?))
        })
    }

    fn for_each_series(
        &mut self,
        filter: &RunFilter,
        visit: &mut dyn FnMut(&SeriesRunRef<'_>) -> Result<()>,
    ) -> Result<()> {
        let location = self.location.clone();
        let names = {
            let mut statement = self
                .connection
                .prepare(sql::SERIES_NAMES)
                .map_err(|e| self.fail(&e))?;
            let rows = statement
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>());
            packed::dictionary(&location, rows.map_err(|e| self.fail(&e))?)?
        };
        let mut scan = packed::SeriesScan::new(&location, &names);
        self.for_each_row(sql::select_series(filter), &mut |row| scan.row(row, visit))
    }

    fn export(&mut self, key: i64) -> Result<ResultFile> {
        let location = self.location.clone();
        let fail = |e: rusqlite::Error| store_error(&location, &e);
        let header: Option<String> = self
            .connection
            .query_row(sql::RUN_HEADER, [key], |r| r.get(0))
            .optional()
            .map_err(fail)?;
        let header = header.ok_or_else(|| no_run(&location, key))?;
        let document: Option<String> = self
            .connection
            .query_row(sql::RUN_DOCUMENT, [key], |r| r.get(0))
            .optional()
            .map_err(fail)?;
        if let Some(document) = document {
            return super::parse_document(&location, key, &document);
        }
        let mut statement = self.connection.prepare(sql::RUN_CASES).map_err(fail)?;
        let cases = statement
            .query_map([key], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(fail)?;
        super::assemble(&location, key, &header, &cases)
    }
}

/// The store's ids of `names` (sorted), each added first where it is new.
fn resolve_names(tx: &Transaction<'_>, names: &[String]) -> rusqlite::Result<Vec<(String, i64)>> {
    let mut insert = tx.prepare_cached(sql::INSERT_SERIES_NAME)?;
    let mut find = tx.prepare_cached(sql::FIND_SERIES_NAME)?;
    names
        .iter()
        .map(|name| {
            insert.execute([name])?;
            Ok((name.clone(), find.query_row([name], |r| r.get(0))?))
        })
        .collect()
}

/// Migration 4's back-fill: every run of the row-per-figure `unit_series` as one row of
/// `unit_runs`, figures packed.
fn pack_series(tx: &Transaction<'_>, location: &str) -> Result<()> {
    let fail = |e: rusqlite::Error| store_error(location, &e);
    let mut ids = HashMap::new();
    let mut select = tx.prepare(sql::UNPACKED_SERIES).map_err(fail)?;
    let mut rows = select.query([]).map_err(fail)?;
    let (mut regroup, mut previous) = (Regrouper::default(), None);
    while let Some(row) = rows.next().map_err(fail)? {
        let figure = sql::series_ref(row, &mut previous).map_err(fail)?;
        if let Some(run) = regroup.add(&figure) {
            store_packed(tx, location, &run, &mut ids)?;
        }
    }
    match regroup.finish() {
        Some(run) => store_packed(tx, location, &run, &mut ids),
        None => Ok(()),
    }
}

/// One run of the back-fill, its new names added to `ids`.
fn store_packed(
    tx: &Transaction<'_>,
    location: &str,
    run: &SeriesRunRow,
    ids: &mut HashMap<String, u32>,
) -> Result<()> {
    let fail = |e: rusqlite::Error| store_error(location, &e);
    let missing: Vec<String> = packed::names_of(&run.figures)
        .into_iter()
        .filter(|n| !ids.contains_key(*n))
        .map(str::to_string)
        .collect();
    ids.extend(packed::checked_ids(
        location,
        resolve_names(tx, &missing).map_err(fail)?,
    )?);
    let blob = packed::pack(location, &NameIds::default(), ids, &run.figures)?;
    tx.prepare_cached(sql::INSERT_SERIES_RUN)
        .and_then(|mut insert| {
            insert.execute(params![
                run.device,
                run.host,
                run.gpu_index,
                run.started_s,
                run.key,
                run.run_id,
                run.started_at,
                run.driver,
                blob
            ])
        })
        .map_err(fail)?;
    Ok(())
}

/// Stores one run with its document, figures and packed series row (`series`), or says why
/// not; a complete file replaces its run's partial one.
fn insert_run(
    tx: &Transaction<'_>,
    run: &PreparedRun,
    series: &[u8],
) -> rusqlite::Result<Insertion> {
    let mut replaced = false;
    loop {
        if let Some(id) = try_insert_row(tx, run)? {
            insert_contents(tx, id, run, series)?;
            return Ok(if replaced {
                Insertion::Replaced
            } else {
                Insertion::Added
            });
        }
        let same: i64 = tx
            .prepare_cached(sql::FIND_HASH)?
            .query_row([&run.content_hash], |r| r.get(0))?;
        if same > 0 {
            return Ok(Insertion::AlreadyStored);
        }
        let stored = tx
            .prepare_cached(sql::FIND_RUN)?
            .query_row(params![run.run_id, run.host, run.gpu_index], |r| {
                Ok(StoredRun {
                    key: r.get(0)?,
                    content_hash: r.get(1)?,
                    complete: r.get::<_, i64>(2)? != 0,
                })
            })
            .optional()?;
        match resolve_clash(run, stored) {
            Clash::Replace(_) if replaced => return Ok(replaced_meanwhile(run)),
            Clash::Replace(key) => {
                tx.prepare_cached(sql::DELETE_PARTIAL_SERIES)?
                    .execute([key])?;
                tx.prepare_cached(sql::DELETE_PARTIAL_RUN)?.execute([key])?;
                replaced = true;
            }
            Clash::Keep(outcome) => return Ok(outcome),
        }
    }
}

/// The run's row, or `None` when its hash or identity is already stored.
fn try_insert_row(tx: &Transaction<'_>, run: &PreparedRun) -> rusqlite::Result<Option<i64>> {
    tx.prepare_cached(sql::INSERT_RUN)?
        .query_row(
            params![
                run.content_hash,
                run.run_id,
                run.host,
                run.gpu_index,
                run.group.device,
                run.group.driver,
                run.group.backend,
                run.started_at,
                run.started_s,
                i64::from(run.complete),
                run.fleetbench_version,
                run.source,
                crate::results::now_rfc3339(),
                run.case_count as i64,
            ],
            |r| r.get(0),
        )
        .optional()
}

/// The document, figures and series row of the run stored as row `id`.
fn insert_contents(
    tx: &Transaction<'_>,
    id: i64,
    run: &PreparedRun,
    series: &[u8],
) -> rusqlite::Result<()> {
    tx.prepare_cached(sql::INSERT_DOCUMENT)?
        .execute(params![id, run.document])?;
    let mut figure = tx.prepare_cached(sql::INSERT_FIGURE)?;
    for f in &run.figures {
        figure.execute(params![
            id,
            f.metric.label(),
            f.workload.key(),
            f.unit.label(),
            f.kernel,
            f.median.value,
            f.median.low,
            f.median.high,
            f.samples as i64,
        ])?;
    }
    tx.prepare_cached(sql::INSERT_SERIES_RUN)?.execute(params![
        run.group.device,
        run.host,
        run.gpu_index,
        run.started_s,
        id,
        run.run_id,
        run.started_at,
        run.group.driver,
        series
    ])?;
    Ok(())
}

fn bind(param: &Param) -> rusqlite::types::Value {
    match param {
        Param::Text(t) => rusqlite::types::Value::Text(t.clone()),
        Param::Int(i) => rusqlite::types::Value::Integer(*i),
    }
}

impl sql::Columns for rusqlite::Row<'_> {
    type Error = rusqlite::Error;

    fn int(&self, index: usize) -> rusqlite::Result<i64> {
        self.get(index)
    }

    fn real(&self, index: usize) -> rusqlite::Result<f64> {
        self.get(index)
    }

    fn text(&self, index: usize) -> rusqlite::Result<&str> {
        self.get_ref(index)?.as_str().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Text, e.into())
        })
    }

    fn bytes(&self, index: usize) -> rusqlite::Result<&[u8]> {
        self.get_ref(index)?.as_blob().map_err(|e| {
            rusqlite::Error::FromSqlConversionFailure(index, rusqlite::types::Type::Blob, e.into())
        })
    }
}

pub(super) fn no_run(location: &str, key: i64) -> Error {
    Error::Store {
        db: location.to_string(),
        message: format!("no stored run has key {key}"),
    }
}

/// A SQLite error as the store's error; a read-only file says so plainly.
fn store_error(location: &str, e: &rusqlite::Error) -> Error {
    let read_only = matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen)
    );
    let message = if read_only {
        format!("cannot write this store ({e}); ingest needs write access to the file and its directory")
    } else {
        e.to_string()
    };
    Error::Store {
        db: location.to_string(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::default_matmul_configs;
    use crate::measure::backend::{Backend, CaseSpec, TimingConfig};
    use crate::measure::fake::FakeBackend;
    use crate::results::RunInfo;
    use crate::workload::{Dtype, Workload};

    /// A two-case file from the deterministic fake backend.
    fn two_case_file() -> ResultFile {
        let mut backend = FakeBackend::new("fake gpu", 50.0, 0.02, 7);
        let timing = TimingConfig {
            samples: 5,
            ..TimingConfig::default()
        };
        let cases = [64, 96]
            .iter()
            .zip(default_matmul_configs())
            .map(|(side, kernel)| {
                let workload = Workload::matmul(Dtype::F32, *side, *side, *side);
                backend.run_case(
                    &CaseSpec {
                        workload,
                        kernel,
                        seed: 1,
                    },
                    &timing,
                )
            })
            .collect();
        let mut run = RunInfo::new("old-run".into(), 1, 5);
        run.started_at = "2026-01-01T00:00:00Z".into();
        run.finished_at = Some("2026-01-01T00:01:00Z".into());
        run.complete = true;
        let machine = crate::measure::machine::describe(backend.adapter().clone(), "test");
        ResultFile {
            cases,
            ..ResultFile::new(machine, run)
        }
    }

    /// A store as version 1 of the schema left it, holding `file` as header and case rows.
    fn version_one_store(path: &Path, file: &ResultFile) {
        let connection = Connection::open(path).unwrap();
        connection.execute(schema::MIGRATIONS_TABLE, []).unwrap();
        for statement in schema::MIGRATIONS[0].statements {
            let text = schema::render(statement, Dialect::Sqlite);
            connection.execute_batch(&text).unwrap();
        }
        connection
            .execute(sql::RECORD_MIGRATION, params![1, "v1", "2026-01-01"])
            .unwrap();
        let mut header = file.clone();
        header.cases.clear();
        connection
            .execute(
                "INSERT INTO runs (content_hash, run_id, host, gpu_index, device, driver, \
                 backend, started_at, started_s, complete, fleetbench_version, source, \
                 ingested_at, header) VALUES ('h', 'old-run', 'n', 0, 'd', 'v', 'b', \
                 '2026-01-01T00:00:00Z', 0, 1, '0', 's', 'now', ?1)",
                [serde_json::to_string(&header).unwrap()],
            )
            .unwrap();
        for (ordinal, case) in file.cases.iter().enumerate() {
            connection
                .execute(
                    "INSERT INTO run_cases (run, ordinal, case_id, body) VALUES (1, ?1, ?2, ?3)",
                    params![
                        ordinal as i64,
                        case.id,
                        serde_json::to_string(case).unwrap()
                    ],
                )
                .unwrap();
        }
    }

    #[test]
    fn a_version_one_store_is_migrated_and_its_runs_still_export() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        let file = two_case_file();
        version_one_store(&path, &file);
        let mut store = SqliteStore::open(&path, OpenMode::Existing).unwrap();
        assert_eq!(store.schema_version().unwrap(), schema::latest_version());
        let runs = store.runs(&RunFilter::default()).unwrap();
        assert_eq!((runs.len(), runs[0].cases), (1, 2));
        assert_eq!(store.export(runs[0].key).unwrap(), file);
        // A new run goes in as a document beside it, and exports the same way.
        let mut new = file.clone();
        new.run.run_id = "new-run".into();
        let source = dir.path().join("new.json");
        std::fs::write(&source, serde_json::to_vec_pretty(&new).unwrap()).unwrap();
        let peaks = crate::validate::CatalogPeaks::builtin().unwrap();
        let prepared = super::super::ingest::prepare(&source, &peaks).unwrap();
        assert_eq!(
            store.insert_batch(&[prepared]).unwrap(),
            vec![Insertion::Added]
        );
        let runs = store.runs(&RunFilter::default()).unwrap();
        assert_eq!(runs.len(), 2);
        assert_eq!(store.export(runs[1].key).unwrap(), new);
    }
}
