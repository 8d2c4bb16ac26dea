//! The embedded store: one SQLite file, written in WAL mode so readers never wait for an
//! ingest, with a busy timeout so two writers queue instead of failing.

use super::ingest::{conflict_reason, write_order, PreparedRun};
use super::model::{FigureRow, RunFilter, RunRow};
use super::schema::{self, Dialect};
use super::sql::{self, Param};
use super::{Database, Insertion, OpenMode};
use crate::error::{Error, Result};
use crate::results::ResultFile;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, Transaction};
use std::path::Path;

/// A SQLite store.
pub struct SqliteStore {
    connection: Connection,
    location: String,
}

impl SqliteStore {
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
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(path, flags).map_err(fail)?;
        connection
            .busy_timeout(std::time::Duration::from_secs(60))
            .map_err(fail)?;
        connection
            .execute_batch(
                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                 PRAGMA foreign_keys = ON;",
            )
            .map_err(fail)?;
        let mut store = SqliteStore {
            connection,
            location,
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
        let tx = self
            .connection
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(fail)?;
        let mut outcomes = vec![Insertion::AlreadyStored; runs.len()];
        for i in write_order(runs) {
            outcomes[i] = insert_run(&tx, &runs[i]).map_err(fail)?;
        }
        tx.commit().map_err(fail)?;
        Ok(outcomes)
    }

    fn runs(&mut self, filter: &RunFilter) -> Result<Vec<RunRow>> {
        let (text, params) = sql::select_runs(filter);
        let mut statement = self.connection.prepare(&text).map_err(|e| self.fail(&e))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(params.iter().map(bind)), run_row)
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>());
        rows.map_err(|e| store_error(&self.location, &e))
    }

    fn for_each_figure(
        &mut self,
        filter: &RunFilter,
        visit: &mut dyn FnMut(FigureRow) -> Result<()>,
    ) -> Result<()> {
        let (text, params) = sql::select_figures(filter);
        let location = self.location.clone();
        let fail = |e: rusqlite::Error| store_error(&location, &e);
        let mut statement = self.connection.prepare(&text).map_err(fail)?;
        let mut rows = statement
            .query(rusqlite::params_from_iter(params.iter().map(bind)))
            .map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            visit(figure_row(row).map_err(fail)?)?;
        }
        Ok(())
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
        let mut statement = self.connection.prepare(sql::RUN_CASES).map_err(fail)?;
        let cases = statement
            .query_map([key], |r| r.get::<_, String>(0))
            .and_then(|rows| rows.collect::<rusqlite::Result<Vec<_>>>())
            .map_err(fail)?;
        super::assemble(&location, key, &header, &cases)
    }
}

/// Stores one run with its cases and figures, or says why not.
fn insert_run(tx: &Transaction<'_>, run: &PreparedRun) -> rusqlite::Result<Insertion> {
    let id: Option<i64> = tx
        .prepare_cached(sql::INSERT_RUN)?
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
                run.header,
            ],
            |r| r.get(0),
        )
        .optional()?;
    let Some(id) = id else {
        let same: i64 = tx.query_row(sql::FIND_HASH, [&run.content_hash], |r| r.get(0))?;
        if same > 0 {
            return Ok(Insertion::AlreadyStored);
        }
        let stored: Option<String> = tx
            .query_row(
                sql::FIND_RUN,
                params![run.run_id, run.host, run.gpu_index],
                |r| r.get(0),
            )
            .optional()?;
        return Ok(conflict_reason(run, stored));
    };
    let mut case = tx.prepare_cached(sql::INSERT_CASE)?;
    for (ordinal, (case_id, body)) in run.cases.iter().enumerate() {
        case.execute(params![id, ordinal as i64, case_id, body])?;
    }
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
    Ok(Insertion::Added)
}

fn bind(param: &Param) -> rusqlite::types::Value {
    match param {
        Param::Text(t) => rusqlite::types::Value::Text(t.clone()),
        Param::Int(i) => rusqlite::types::Value::Integer(*i),
    }
}

fn run_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RunRow> {
    Ok(RunRow {
        key: r.get(0)?,
        run_id: r.get(1)?,
        host: r.get(2)?,
        gpu_index: r.get(3)?,
        device: r.get(4)?,
        driver: r.get(5)?,
        backend: r.get(6)?,
        started_at: r.get(7)?,
        started_s: r.get(8)?,
        complete: r.get::<_, i64>(9)? != 0,
        cases: r.get(10)?,
        content_hash: r.get(11)?,
        source: r.get(12)?,
    })
}

fn figure_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<FigureRow> {
    Ok(FigureRow {
        key: r.get(0)?,
        run_id: r.get(1)?,
        host: r.get(2)?,
        gpu_index: r.get(3)?,
        device: r.get(4)?,
        driver: r.get(5)?,
        backend: r.get(6)?,
        started_at: r.get(7)?,
        started_s: r.get(8)?,
        metric: r.get(9)?,
        shape: r.get(10)?,
        unit: r.get(11)?,
        kernel: r.get(12)?,
        median: r.get(13)?,
        low: r.get(14)?,
        high: r.get(15)?,
        samples: r.get(16)?,
    })
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
