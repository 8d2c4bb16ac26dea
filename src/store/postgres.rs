//! The team store: a PostgreSQL server through the `postgres` crate. Migrations run under an
//! advisory lock so many ingesters starting at once apply them once; every message names the
//! server with its password hidden, and a role without write rights is told so plainly.

use super::ingest::{
    replaced_meanwhile, resolve_clash, write_order, Clash, PreparedRun, StoredRun,
};
use super::model::{FigureRef, RunFilter, RunRow, SeriesRef};
use super::schema::{self, Dialect};
use super::sql::{self, Param};
use super::{Database, Insertion, Location};
use crate::error::{Error, Result};
use crate::results::ResultFile;
use postgres::error::SqlState;
use postgres::types::ToSql;
use postgres::{Client, NoTls, Transaction};

/// The advisory lock key migrations hold ("fleetbench" in ASCII, truncated to 63 bits).
const MIGRATION_LOCK: i64 = 0x666c_6565_7462_656e;

/// A PostgreSQL store.
pub struct PostgresStore {
    client: Client,
    location: Location,
    shown: String,
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
            let now = crate::results::now_rfc3339();
            tx.execute(
                sql::RECORD_MIGRATION,
                &[&migration.version, &migration.name, &now],
            )
            .map_err(fail)?;
        }
        tx.commit().map_err(fail)
    }

    /// One attempt at storing a batch; a deadlock or serialization failure is retried by the
    /// caller.
    fn try_batch(
        &mut self,
        runs: &[PreparedRun],
    ) -> std::result::Result<Vec<Insertion>, postgres::Error> {
        let mut tx = self.client.transaction()?;
        let mut outcomes = vec![Insertion::AlreadyStored; runs.len()];
        for i in write_order(runs) {
            outcomes[i] = insert_run(&mut tx, &runs[i])?;
        }
        tx.commit()?;
        Ok(outcomes)
    }
}

impl Database for PostgresStore {
    fn location(&self) -> &str {
        &self.shown
    }

    fn insert_batch(&mut self, runs: &[PreparedRun]) -> Result<Vec<Insertion>> {
        let mut attempt = 0;
        loop {
            match self.try_batch(runs) {
                Ok(outcomes) => return Ok(outcomes),
                Err(e) if attempt < 5 && retryable(&e) => attempt += 1,
                Err(e) => return Err(self.fail(&e)),
            }
        }
    }

    fn runs(&mut self, filter: &RunFilter) -> Result<Vec<RunRow>> {
        let (text, params) = sql::select_runs(filter);
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
        visit: &mut dyn FnMut(&SeriesRef<'_>) -> Result<()>,
    ) -> Result<()> {
        let mut previous = None;
        self.for_each_row(sql::select_series(filter), &mut |row| {
            Ok(visit(&sql::series_ref(row, &mut previous)?))
        })
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

/// Stores one run with its document and figures, or says why not; a complete file replaces
/// its run's partial one.
fn insert_run(
    tx: &mut Transaction<'_>,
    run: &PreparedRun,
) -> std::result::Result<Insertion, postgres::Error> {
    let mut replaced = false;
    loop {
        if let Some(id) = try_insert_row(tx, run)? {
            insert_contents(tx, id, run)?;
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

/// The document, figures and series rows of the run stored as row `id`.
fn insert_contents(
    tx: &mut Transaction<'_>,
    id: i64,
    run: &PreparedRun,
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
    tx.execute(sql::INSERT_SERIES, &[&id])?;
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
