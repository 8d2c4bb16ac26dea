//! The team store: a PostgreSQL server through the `postgres` crate. Migrations run under an
//! advisory lock so many ingesters starting at once apply them once; every message names the
//! server with its password hidden, and a role without write rights is told so plainly.

use super::ingest::{
    replaced_meanwhile, resolve_clash, write_order, Clash, PreparedRun, StoredRun,
};
use super::model::{FigureRef, RunFilter, RunPage, RunRow, SeriesRunRef};
use super::packed::{self, NameIds, NamedFigure, Regrouper, SeriesRunRow};
use super::schema::{self, Backfill, Dialect};
use super::sql::{self, Param};
use super::{Database, Insertion, Location};
use crate::error::{Error, Result};
use crate::results::ResultFile;
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Transaction};
use std::collections::HashMap;

/// The advisory lock key migrations hold ("fleetbench" in ASCII, truncated to 63 bits).
const MIGRATION_LOCK: i64 = 0x666c_6565_7462_656e;

/// A PostgreSQL store.
pub struct PostgresStore {
    client: Client,
    location: Location,
    shown: String,
    /// Ids of the series names this connection saw committed.
    names: NameIds,
}

impl PostgresStore {
    /// Streams the rows of one query to `visit`, one at a time (a store's figures do not fit
    /// in memory at fleet scale); `visit` decodes a row (its error is the driver's) and hands
    /// the decoded row on (its error is the caller's).
    fn for_each_row(
        &mut self,
        (text, params): (String, Vec<Param>),
        visit: &mut dyn FnMut(&postgres::Row) -> std::result::Result<Result<()>, postgres::Error>,
    ) -> Result<()> {
        use postgres::fallible_iterator::FallibleIterator;
        let values = bind(&params);
        let location = self.location.clone();
        let fail = |e: postgres::Error| pg_error(&location, &e);
        let mut rows = self
            .client
            .query_raw(text.as_str(), refs(&values))
            .map_err(fail)?;
        while let Some(row) = rows.next().map_err(fail)? {
            visit(&row).map_err(fail)??;
        }
        Ok(())
    }

    /// Connects to `url` and brings the schema forward.
    pub fn open(url: &str) -> Result<PostgresStore> {
        let location = Location::Postgres(url.to_string());
        let shown = location.redacted();
        let client = Client::connect(url, NoTls).map_err(|e| pg_error(&location, &e))?;
        let mut store = PostgresStore {
            client,
            location,
            shown,
            names: NameIds::default(),
        };
        store.migrate()?;
        Ok(store)
    }

    fn fail(&self, e: &postgres::Error) -> Error {
        pg_error(&self.location, e)
    }

    fn migrate(&mut self) -> Result<()> {
        let current = self
            .client
            .query_one(sql::SCHEMA_VERSION, &[])
            .ok()
            .map(|row| row.get::<_, i64>(0));
        if current == Some(schema::latest_version()) {
            return Ok(());
        }
        let location = self.location.clone();
        let fail = |e: postgres::Error| pg_error(&location, &e);
        let mut tx = self.client.transaction().map_err(fail)?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
            .map_err(fail)?;
        tx.batch_execute(schema::MIGRATIONS_TABLE).map_err(fail)?;
        let current: i64 = tx.query_one(sql::SCHEMA_VERSION, &[]).map_err(fail)?.get(0);
        let pending = schema::pending(current).map_err(|message| Error::Store {
            db: location.redacted(),
            message,
        })?;
        for migration in pending {
            for statement in migration.statements {
                tx.batch_execute(&schema::render(statement, Dialect::Postgres))
                    .map_err(fail)?;
            }
            match migration.backfill {
                Some(Backfill::PackSeries) => pack_series(&mut tx, &location)?,
                None => {}
            }
            for statement in migration.then {
                tx.batch_execute(&schema::render(statement, Dialect::Postgres))
                    .map_err(fail)?;
            }
            let now = crate::results::now_rfc3339();
            tx.execute(
                sql::RECORD_MIGRATION,
                &[&migration.version, &migration.name, &now],
            )
            .map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }

    /// One attempt at storing a batch whose runs have `figures`; a deadlock or serialization
    /// failure (the engine's error, outside) is retried by the caller, a series name that
    /// cannot be packed (the store's error, inside) is not.
    fn try_batch(
        &mut self,
        runs: &[PreparedRun],
        figures: &[Vec<NamedFigure>],
    ) -> std::result::Result<Result<Vec<Insertion>>, postgres::Error> {
        let missing = self.names.missing(figures.iter().flatten());
        let mut tx = self.client.transaction()?;
        let fresh = match packed::checked_ids(&self.shown, resolve_names(&mut tx, &missing)?) {
            Ok(fresh) => fresh,
            Err(e) => return Ok(Err(e)),
        };
        let mut outcomes = vec![Insertion::AlreadyStored; runs.len()];
        for i in write_order(runs) {
            let blob = match packed::pack(&self.shown, &self.names, &fresh, &figures[i]) {
                Ok(blob) => blob,
                Err(e) => return Ok(Err(e)),
            };
            outcomes[i] = insert_run(&mut tx, &runs[i], &blob)?;
        }
        tx.commit()?;
        self.names.commit(fresh);
        Ok(Ok(outcomes))
    }
}

impl Database for PostgresStore {
    fn location(&self) -> &str {
        &self.shown
    }

    fn insert_batch(&mut self, runs: &[PreparedRun]) -> Result<Vec<Insertion>> {
        let figures: Vec<Vec<NamedFigure>> = runs.iter().map(packed::named_figures).collect();
        let mut attempt = 0;
        loop {
            match self.try_batch(runs, &figures) {
                Ok(outcomes) => return outcomes,
                Err(e) if attempt < 5 && retryable(&e) => attempt += 1,
                Err(e) => return Err(self.fail(&e)),
            }
        }
    }

    fn runs_page(&mut self, filter: &RunFilter, page: &RunPage) -> Result<Vec<RunRow>> {
        let (text, params) = sql::select_runs(filter, page);
        let values = bind(&params);
        let rows = self
            .client
            .query(text.as_str(), &refs(&values))
            .map_err(|e| self.fail(&e))?;
        rows.iter()
            .map(|r| sql::run_row(r).map_err(|e| self.fail(&e)))
            .collect()
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
        let rows = self
            .client
            .query(sql::SERIES_NAMES, &[])
            .map_err(|e| self.fail(&e))?;
        let rows = rows
            .iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect::<std::result::Result<Vec<_>, postgres::Error>>()
            .map_err(|e| self.fail(&e))?;
        let names = packed::dictionary(&self.shown, rows)?;
        let shown = self.shown.clone();
        let mut scan = packed::SeriesScan::new(&shown, &names);
        self.for_each_row(sql::select_series(filter), &mut |row| scan.row(row, visit))
    }

    fn export(&mut self, key: i64) -> Result<ResultFile> {
        let header = self
            .client
            .query_opt(sql::RUN_HEADER, &[&key])
            .map_err(|e| self.fail(&e))?
            .ok_or_else(|| super::sqlite::no_run(&self.shown, key))?
            .get::<_, String>(0);
        let document = self
            .client
            .query_opt(sql::RUN_DOCUMENT, &[&key])
            .map_err(|e| self.fail(&e))?;
        if let Some(row) = document {
            return super::parse_document(&self.shown, key, row.get::<_, &str>(0));
        }
        let cases: Vec<String> = self
            .client
            .query(sql::RUN_CASES, &[&key])
            .map_err(|e| self.fail(&e))?
            .iter()
            .map(|r| r.get(0))
            .collect();
        super::assemble(&self.shown, key, &header, &cases)
    }
}

/// The store's ids of `names` (sorted, so concurrent writers adding the same names take their
/// locks in one order), each added first where it is new.
fn resolve_names(
    tx: &mut Transaction<'_>,
    names: &[String],
) -> std::result::Result<Vec<(String, i64)>, postgres::Error> {
    let mut ids = Vec::with_capacity(names.len());
    for name in names {
        tx.execute(sql::INSERT_SERIES_NAME, &[name])?;
        let id: i64 = tx.query_one(sql::FIND_SERIES_NAME, &[name])?.try_get(0)?;
        ids.push((name.clone(), id));
    }
    Ok(ids)
}

/// Rows of the row-per-figure series read at a time by migration 4's back-fill.
const BACKFILL_ROWS: i32 = 10_000;

/// Migration 4's back-fill: every run of the row-per-figure `unit_series` as one row of
/// `unit_runs`, figures packed; the rows are read through a portal, some thousands at a time,
/// so the runs can be written on the same connection in between.
fn pack_series(tx: &mut Transaction<'_>, location: &Location) -> Result<()> {
    let fail = |e: postgres::Error| pg_error(location, &e);
    let mut ids = HashMap::new();
    let portal = tx.bind(sql::UNPACKED_SERIES, &[]).map_err(fail)?;
    let (mut regroup, mut previous) = (Regrouper::default(), None);
    loop {
        let rows = tx.query_portal(&portal, BACKFILL_ROWS).map_err(fail)?;
        if rows.is_empty() {
            break;
        }
        for row in &rows {
            let figure = sql::series_ref(row, &mut previous).map_err(fail)?;
            if let Some(run) = regroup.add(&figure) {
                store_packed(tx, location, &run, &mut ids)?;
            }
        }
    }
    match regroup.finish() {
        Some(run) => store_packed(tx, location, &run, &mut ids),
        None => Ok(()),
    }
}

/// One run of the back-fill, its new names added to `ids`.
fn store_packed(
    tx: &mut Transaction<'_>,
    location: &Location,
    run: &SeriesRunRow,
    ids: &mut HashMap<String, u32>,
) -> Result<()> {
    let fail = |e: postgres::Error| pg_error(location, &e);
    let shown = location.redacted();
    let missing: Vec<String> = packed::names_of(&run.figures)
        .into_iter()
        .filter(|n| !ids.contains_key(*n))
        .map(str::to_string)
        .collect();
    ids.extend(packed::checked_ids(
        &shown,
        resolve_names(tx, &missing).map_err(fail)?,
    )?);
    let blob = packed::pack(&shown, &NameIds::default(), ids, &run.figures)?;
    tx.execute(
        sql::INSERT_SERIES_RUN,
        &[
            &run.device,
            &run.host,
            &run.gpu_index,
            &run.started_s,
            &run.key,
            &run.run_id,
            &run.started_at,
            &run.driver,
            &blob,
        ],
    )
    .map_err(fail)?;
    Ok(())
}

/// Stores one run with its document, figures and packed series row (`series`), or says why
/// not; a complete file replaces its run's partial one.
fn insert_run(
    tx: &mut Transaction<'_>,
    run: &PreparedRun,
    series: &[u8],
) -> std::result::Result<Insertion, postgres::Error> {
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
        let same: i64 = tx.query_one(sql::FIND_HASH, &[&run.content_hash])?.get(0);
        if same > 0 {
            return Ok(Insertion::AlreadyStored);
        }
        let stored = tx
            .query_opt(sql::FIND_RUN, &[&run.run_id, &run.host, &run.gpu_index])?
            .map(|r| StoredRun {
                key: r.get(0),
                content_hash: r.get(1),
                complete: r.get::<_, i64>(2) != 0,
            });
        match resolve_clash(run, stored) {
            Clash::Replace(_) if replaced => return Ok(replaced_meanwhile(run)),
            Clash::Replace(key) => {
                tx.execute(sql::DELETE_PARTIAL_SERIES, &[&key])?;
                tx.execute(sql::DELETE_PARTIAL_RUN, &[&key])?;
                replaced = true;
            }
            Clash::Keep(outcome) => return Ok(outcome),
        }
    }
}

/// The run's row, or `None` when its hash or identity is already stored.
fn try_insert_row(
    tx: &mut Transaction<'_>,
    run: &PreparedRun,
) -> std::result::Result<Option<i64>, postgres::Error> {
    let now = crate::results::now_rfc3339();
    let complete = i64::from(run.complete);
    let case_count = run.case_count as i64;
    let row = tx.query_opt(
        sql::INSERT_RUN,
        &[
            &run.content_hash,
            &run.run_id,
            &run.host,
            &run.gpu_index,
            &run.group.device,
            &run.group.driver,
            &run.group.backend,
            &run.started_at,
            &run.started_s,
            &complete,
            &run.fleetbench_version,
            &run.source,
            &now,
            &case_count,
        ],
    )?;
    Ok(row.map(|r| r.get(0)))
}

/// The document, figures and series row of the run stored as row `id`.
fn insert_contents(
    tx: &mut Transaction<'_>,
    id: i64,
    run: &PreparedRun,
    series: &[u8],
) -> std::result::Result<(), postgres::Error> {
    tx.execute(sql::INSERT_DOCUMENT, &[&id, &run.document])?;
    let figure = tx.prepare(sql::INSERT_FIGURE)?;
    for f in &run.figures {
        let samples = f.samples as i64;
        tx.execute(
            &figure,
            &[
                &id,
                &f.metric.label(),
                &f.workload.key(),
                &f.unit.label(),
                &f.kernel,
                &f.median.value,
                &f.median.low,
                &f.median.high,
                &samples,
            ],
        )?;
    }
    tx.execute(
        sql::INSERT_SERIES_RUN,
        &[
            &run.group.device,
            &run.host,
            &run.gpu_index,
            &run.started_s,
            &id,
            &run.run_id,
            &run.started_at,
            &run.group.driver,
            &series,
        ],
    )?;
    Ok(())
}

/// Owned parameter values of the engine's types.
fn bind(params: &[Param]) -> Vec<Box<dyn ToSql + Sync>> {
    params
        .iter()
        .map(|p| -> Box<dyn ToSql + Sync> {
            match p {
                Param::Text(t) => Box::new(t.clone()),
                Param::Int(i) => Box::new(*i),
            }
        })
        .collect()
}

fn refs(values: &[Box<dyn ToSql + Sync>]) -> Vec<&(dyn ToSql + Sync)> {
    values.iter().map(|v| v.as_ref()).collect()
}

impl sql::Columns for postgres::Row {
    type Error = postgres::Error;

    fn int(&self, index: usize) -> std::result::Result<i64, postgres::Error> {
        self.try_get(index)
    }

    fn real(&self, index: usize) -> std::result::Result<f64, postgres::Error> {
        self.try_get(index)
    }

    fn text(&self, index: usize) -> std::result::Result<&str, postgres::Error> {
        self.try_get(index)
    }

    fn bytes(&self, index: usize) -> std::result::Result<&[u8], postgres::Error> {
        self.try_get(index)
    }
}

fn retryable(e: &postgres::Error) -> bool {
    matches!(
        e.code(),
        Some(c) if *c == SqlState::T_R_DEADLOCK_DETECTED || *c == SqlState::T_R_SERIALIZATION_FAILURE
    )
}

/// A driver error as the store's error: the server's own message where there is one (the
/// crate's `Display` alone says only "db error"), a role without rights told what it lacks,
/// and any password the URL holds removed.
fn pg_error(location: &Location, e: &postgres::Error) -> Error {
    let detail = match e.as_db_error() {
        Some(db) => db.message().to_string(),
        None => {
            let mut text = e.to_string();
            let mut source = std::error::Error::source(e);
            while let Some(cause) = source {
                text += &format!(": {cause}");
                source = cause.source();
            }
            text
        }
    };
    let message = if e.code() == Some(&SqlState::INSUFFICIENT_PRIVILEGE) {
        format!(
            "this database role may not write ({detail}); ingest needs INSERT on the store's \
             tables, queries need only SELECT"
        )
    } else {
        detail
    };
    Error::Store {
        db: location.redacted(),
        message: location.hide(&message),
    }
}
