//! The store's one schema, as numbered migrations applied in order to SQLite and PostgreSQL
//! alike. Each applied migration is a row of `schema_migrations`, so a store opened by a newer
//! build is brought forward once, and a store written by a newer build than this one is
//! refused rather than misread.
//!
//! The statements are written once, with the words that differ between the engines spelled as
//! placeholders: `{id}` (an auto-numbered 64-bit key), `{real}` (a double), `{blob}` (bytes)
//! and `{without_rowid}` (SQLite's table clustered on its primary key; PostgreSQL has no such
//! clause and keeps the key as an index). What SQL cannot do alike on both engines (packing
//! numbers into bytes) is a [`Backfill`] that each engine runs in Rust, in the migration's
//! transaction, between the statements and the `then` statements.

/// One schema change.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Its number; migrations apply in increasing order.
    pub version: i64,
    /// What it does, stored beside the number.
    pub name: &'static str,
    /// Its statements, with `{id}`, `{real}`, `{blob}` and `{without_rowid}` placeholders.
    pub statements: &'static [&'static str],
    /// Work done in Rust after the statements, if any.
    pub backfill: Option<Backfill>,
    /// Statements run after the back-fill.
    pub then: &'static [&'static str],
}

/// A migration's work in Rust, run by each engine inside the migration's transaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backfill {
    /// Migration 4: every run of `unit_series` (one row per figure) as one row of `unit_runs`
    /// with its figures packed ([`super::packed`]), its names added to `series_names`.
    PackSeries,
}

/// Creates the table of applied migrations (the one statement run before any version check).
pub const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
     version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

/// Every migration, oldest first. A migration, once released, is never edited: a change is a
/// new one.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "runs, their cases with raw samples, and capability figures",
        statements: &[
            // One row per ingested file. The unit is (host, gpu_index, device); driver and backend
            // stay off the unit so a driver change shows as a step in its series.
            "CREATE TABLE runs (
            id {id},
            content_hash TEXT NOT NULL UNIQUE,
            run_id TEXT NOT NULL,
            host TEXT NOT NULL,
            gpu_index BIGINT NOT NULL,
            device TEXT NOT NULL,
            driver TEXT NOT NULL,
            backend TEXT NOT NULL,
            started_at TEXT NOT NULL,
            started_s BIGINT NOT NULL,
            complete BIGINT NOT NULL,
            fleetbench_version TEXT NOT NULL,
            source TEXT NOT NULL,
            ingested_at TEXT NOT NULL,
            header TEXT NOT NULL,
            UNIQUE (run_id, host, gpu_index)
        )",
            "CREATE INDEX runs_by_unit ON runs (device, host, gpu_index, started_s)",
            "CREATE INDEX runs_by_time ON runs (started_s)",
            // Every case as compact JSON, raw samples included: `store export` rebuilds the file.
            "CREATE TABLE run_cases (
            run BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            ordinal BIGINT NOT NULL,
            case_id TEXT NOT NULL,
            body TEXT NOT NULL,
            PRIMARY KEY (run, ordinal)
        )",
            // Per run, metric and workload: the best verified case's median and interval.
            "CREATE TABLE run_figures (
            run BIGINT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
            metric TEXT NOT NULL,
            shape TEXT NOT NULL,
            unit TEXT NOT NULL,
            kernel TEXT NOT NULL,
            median {real} NOT NULL,
            low {real} NOT NULL,
            high {real} NOT NULL,
            samples BIGINT NOT NULL,
            PRIMARY KEY (run, metric, shape)
        )",
        ],
        backfill: None,
        then: &[],
    },
    Migration {
        version: 2,
        name: "each run's file as one compact document, and its case count on the run",
        statements: &[
            // Ingest stores the file's own text, whitespace between tokens removed, instead of
            // serializing header and cases again: the costliest step of ingest, and a row per
            // case. Runs stored under version 1 keep their `run_cases` rows and export from them.
            "CREATE TABLE run_documents (
            run BIGINT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
            body TEXT NOT NULL
        )",
            "ALTER TABLE runs ADD COLUMN case_count BIGINT NOT NULL DEFAULT 0",
            "UPDATE runs SET case_count = (SELECT count(*) FROM run_cases c WHERE c.run = runs.id)",
        ],
        backfill: None,
        then: &[],
    },
    Migration {
        version: 3,
        name: "each unit's series of figures, in unit order, for regressions",
        statements: &[
            // `store regressions` reads every figure of the fleet one unit after another. Read
            // through `runs` and `run_figures`, that is an index walk and two row lookups per
            // figure and seventeen columns; 100,000 runs took 2.75 s. This table holds the same
            // figures with only the columns the test reads, clustered in the order it reads
            // them (SQLite: WITHOUT ROWID, so the scan is one b-tree in key order). Ingest
            // writes it in the transaction that stores the run; no foreign key, so deleting a
            // run does not scan it: the partial-run replacement deletes its rows by key first.
            "CREATE TABLE unit_series (
            device TEXT NOT NULL,
            host TEXT NOT NULL,
            gpu_index BIGINT NOT NULL,
            started_s BIGINT NOT NULL,
            run BIGINT NOT NULL,
            metric TEXT NOT NULL,
            shape TEXT NOT NULL,
            unit TEXT NOT NULL,
            median {real} NOT NULL,
            low {real} NOT NULL,
            high {real} NOT NULL,
            run_id TEXT NOT NULL,
            started_at TEXT NOT NULL,
            driver TEXT NOT NULL,
            PRIMARY KEY (device, host, gpu_index, started_s, run, metric, shape)
        ){without_rowid}",
            "INSERT INTO unit_series (device, host, gpu_index, started_s, run, metric, shape, \
             unit, median, low, high, run_id, started_at, driver) \
             SELECT r.device, r.host, r.gpu_index, r.started_s, r.id, f.metric, f.shape, \
             f.unit, f.median, f.low, f.high, r.run_id, r.started_at, r.driver \
             FROM runs r JOIN run_figures f ON f.run = r.id",
        ],
        backfill: None,
        then: &[],
    },
    Migration {
        version: 4,
        name: "each run's series figures packed into one value, names kept once",
        statements: &[
            // Read a figure a row, `unit_series` still cost 1.4 million rows of fourteen
            // columns for 100,000 runs, most of `store regressions`' time. A row per run with
            // its figures packed (see `store::packed`) is 14 times fewer rows; the names the
            // packed figures use are kept once here.
            "CREATE TABLE series_names (
            id {id},
            name TEXT NOT NULL UNIQUE
        )",
            "CREATE TABLE unit_runs (
            device TEXT NOT NULL,
            host TEXT NOT NULL,
            gpu_index BIGINT NOT NULL,
            started_s BIGINT NOT NULL,
            run BIGINT NOT NULL,
            run_id TEXT NOT NULL,
            started_at TEXT NOT NULL,
            driver TEXT NOT NULL,
            figures {blob} NOT NULL,
            PRIMARY KEY (device, host, gpu_index, started_s, run)
        ){without_rowid}",
        ],
        backfill: Some(Backfill::PackSeries),
        then: &["DROP TABLE unit_series"],
    },
];

/// The newest schema version this build knows.
pub fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The two engines' spellings of the placeholders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// `statement` in `dialect`.
pub fn render(statement: &str, dialect: Dialect) -> String {
    let (id, real, blob, without_rowid) = match dialect {
        Dialect::Sqlite => ("INTEGER PRIMARY KEY", "REAL", "BLOB", " WITHOUT ROWID"),
        Dialect::Postgres => (
            "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
            "DOUBLE PRECISION",
            "BYTEA",
            "",
        ),
    };
    statement
        .replace("{id}", id)
        .replace("{real}", real)
        .replace("{blob}", blob)
        .replace("{without_rowid}", without_rowid)
}

/// The migrations still to apply to a store at `current`, or why this build cannot use it.
pub fn pending(current: i64) -> Result<Vec<Migration>, String> {
    if current > latest_version() {
        return Err(format!(
            "the store's schema is version {current}, newer than this build reads ({}); \
             use a newer fleetbench",
            latest_version()
        ));
    }
    Ok(MIGRATIONS
        .iter()
        .filter(|m| m.version > current)
        .copied()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_and_rendered_per_engine() {
        let versions: Vec<i64> = MIGRATIONS.iter().map(|m| m.version).collect();
        assert!(versions.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(pending(0).unwrap().len(), MIGRATIONS.len());
        assert!(pending(latest_version()).unwrap().is_empty());
        assert!(pending(latest_version() + 1).unwrap_err().contains("newer"));
        let pg = render(MIGRATIONS[0].statements[0], Dialect::Postgres);
        assert!(pg.contains("IDENTITY") && !pg.contains('{'));
        let lite = render(MIGRATIONS[0].statements[4], Dialect::Sqlite);
        assert!(lite.contains("REAL") && !lite.contains('{'));
        let series = MIGRATIONS[2].statements[0];
        assert!(render(series, Dialect::Sqlite).ends_with(") WITHOUT ROWID"));
        let pg = render(series, Dialect::Postgres);
        assert!(pg.ends_with(')') && !pg.contains('{'), "{pg}");
        let packed = MIGRATIONS[3].statements[1];
        assert!(render(packed, Dialect::Postgres).contains("figures BYTEA NOT NULL"));
        assert!(render(packed, Dialect::Sqlite).contains("figures BLOB NOT NULL"));
        assert_eq!(MIGRATIONS[3].backfill, Some(Backfill::PackSeries));
    }
}
