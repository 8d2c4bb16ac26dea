//! The results database: result files from a fleet over months, kept with their raw samples,
//! queried for history and regressions.
//!
//! Loose files answer "how do these two runs compare"; a fleet operator also asks "did node 17's
//! GPU 3 get slower since last month". Answering that needs each unit's runs over time and the
//! spread between them, which only a history gives: within-run intervals do not cover drift
//! between runs (clocks, neighbours, drivers).
//!
//! - One trait, [`Database`], two implementations: an embedded SQLite file by default (one file
//!   under the user's data directory, or a path) and PostgreSQL for a team (a `postgres://`
//!   URL). One schema with versioned migrations ([`schema`]) is applied to both, and every
//!   statement is parameterized.
//! - Ingest ([`ingest`]) loads each file through the same checked loader as every other command
//!   ([`crate::validate::policy::apply_policy`]), streams file by file in batched transactions, and is
//!   idempotent by content hash and by (run id, host, GPU index); a complete file replaces the
//!   partial file of its interrupted run.
//! - Each run keeps its whole file as one compact document, every case with its raw samples
//!   (export gives the file back; runs stored under schema version 1 keep a header and a row
//!   per case), and its capability figures per metric and shape ([`crate::compare::capability::file_figures`]),
//!   which history and regressions read without decoding samples (regressions from a copy of
//!   them clustered by unit, `unit_runs`, one row per run with its figures packed
//!   ([`packed`]), written in the same transaction).
//! - Analyses ([`analysis`]) return typed models ([`model`]); formats are rendered at the edge.
//! - Stored runs are inputs of `compare`, `calibrate` and `report` through [`select`]: each comes
//!   back as the file `store export` writes and goes through the same loaders as a file.

pub mod analysis;
pub mod ingest;
pub mod location;
pub mod model;
pub mod packed;
mod postgres;
pub mod regressions;
pub mod schema;
pub mod select;
mod sql;
mod sqlite;
mod tables;

pub use ingest::{ingest, ingest_file, IngestOptions, IngestReport, PreparedRun, Refusal};
pub use location::{redact_args, Location, OpenMode};
pub use model::{
    FigureRef, FigureRow, RunFilter, RunList, RunPage, RunRow, SeriesRef, SeriesRun, SeriesRunRef,
};
pub use select::{select, select_each, Selection, StoredRun};

use crate::error::Result;
use crate::results::ResultFile;

/// What became of one run offered to [`Database::insert_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Insertion {
    /// Stored now.
    Added,
    /// Stored now in place of the partial run of the same run id and unit.
    Replaced,
    /// A run with the same content hash was already there: nothing added.
    AlreadyStored,
    /// A partial file whose complete run is stored: nothing added, with why.
    Superseded(String),
    /// Another file of the same run id and unit is stored (different bytes): refused, with why.
    Conflict(String),
}

/// A results database. Implementations keep the schema of [`schema`] and bind every value as
/// a parameter; both are driven by the same SQL text ([`sql`]).
pub trait Database: Send {
    /// Where the database is, with any password hidden: what every message names.
    fn location(&self) -> &str;
    /// Stores `runs` in one transaction (in content-hash order, so concurrent writers take
    /// their locks in one order), returning each run's outcome in the order given.
    fn insert_batch(&mut self, runs: &[PreparedRun]) -> Result<Vec<Insertion>>;
    /// The runs `filter` selects, oldest first: the part of them `page` asks for.
    fn runs_page(&mut self, filter: &RunFilter, page: &RunPage) -> Result<Vec<RunRow>>;
    /// Every run `filter` selects, oldest first.
    fn runs(&mut self, filter: &RunFilter) -> Result<Vec<RunRow>> {
        self.runs_page(filter, &RunPage::ALL)
    }
    /// Calls `visit` with every capability figure of the runs `filter` selects, ordered by
    /// device, host, GPU index, start time and run: one unit's series after another, so an
    /// analysis can keep one unit at a time.
    /// Each row borrows its text from the engine's current result row (see [`FigureRef`]).
    fn for_each_figure(
        &mut self,
        filter: &RunFilter,
        visit: &mut dyn FnMut(&FigureRef<'_>) -> Result<()>,
    ) -> Result<()>;
    /// Calls `visit` with every run `filter` selects from the units' series, its figures
    /// unpacked (what `store regressions` reads; see [`packed`]), in the order of
    /// [`Database::for_each_figure`]. A damaged packed value is an error naming the store and
    /// the run.
    fn for_each_series(
        &mut self,
        filter: &RunFilter,
        visit: &mut dyn FnMut(&SeriesRunRef<'_>) -> Result<()>,
    ) -> Result<()>;
    /// The stored file of run `key` (its row id), rebuilt from header and cases.
    fn export(&mut self, key: i64) -> Result<ResultFile>;
}

/// Opens the database at `location`, applying pending migrations (a read-only role may open
/// a store whose schema is current).
pub fn open(location: &Location, mode: OpenMode) -> Result<Box<dyn Database>> {
    match location {
        Location::Sqlite(path) => Ok(Box::new(sqlite::SqliteStore::open(path, mode)?)),
        Location::Postgres(url) => Ok(Box::new(postgres::PostgresStore::open(url)?)),
    }
}

/// A stored run's file from its document (runs stored since schema version 2) through the
/// loader's parser, the same as a file read from disk.
fn parse_document(location: &str, key: i64, document: &str) -> Result<ResultFile> {
    let source = std::path::PathBuf::from(format!("{location} (stored run {key})"));
    crate::results::store::parse(&source, document.as_bytes())
}

/// A stored run's file from its header and case bodies (both JSON), as version 1 of the
/// schema kept them.
fn assemble(location: &str, key: i64, header: &str, cases: &[String]) -> Result<ResultFile> {
    let broken = |what: &str, e: serde_json::Error| crate::error::Error::Store {
        db: location.to_string(),
        message: format!("stored run {key}: its {what} does not parse ({e})"),
    };
    let mut file: ResultFile = serde_json::from_str(header).map_err(|e| broken("header", e))?;
    file.cases = cases
        .iter()
        .map(|body| serde_json::from_str(body).map_err(|e| broken("case", e)))
        .collect::<Result<Vec<_>>>()?;
    Ok(file)
}
