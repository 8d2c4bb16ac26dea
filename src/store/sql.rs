//! The SQL both engines run, written once. Values are always bound as parameters (`$1`, `$2`,
//! … in order of first use, which SQLite and PostgreSQL both read), never formatted into the
//! text; a filter only chooses which fixed conditions to join.

use super::model::{FigureRef, RunFilter, RunPage, RunRow, SeriesRef, SeriesRun};

/// A bound value, converted by each engine to its own parameter type.
#[derive(Debug, Clone, PartialEq)]
pub enum Param {
    /// Text.
    Text(String),
    /// A 64-bit integer.
    Int(i64),
}

/// Stores one run; returns its id, or no row when its hash or (run id, unit) is stored.
pub const INSERT_RUN: &str = "INSERT INTO runs (content_hash, run_id, host, gpu_index, device, \
     driver, backend, started_at, started_s, complete, fleetbench_version, source, ingested_at, \
     header, case_count) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, '', \
     $14) ON CONFLICT DO NOTHING RETURNING id";

/// Stores a run's document (its header column stays empty: the document has everything).
pub const INSERT_DOCUMENT: &str = "INSERT INTO run_documents (run, body) VALUES ($1, $2)";

/// A stored run's document, if it was stored with one.
pub const RUN_DOCUMENT: &str = "SELECT body FROM run_documents WHERE run = $1";

/// Deletes the partial run a complete file replaces; its cases, figures and document go with
/// it (`ON DELETE CASCADE`).
pub const DELETE_PARTIAL_RUN: &str = "DELETE FROM runs WHERE id = $1 AND complete = 0";

/// Whether a run with this content hash is stored.
pub const FIND_HASH: &str = "SELECT count(*) FROM runs WHERE content_hash = $1";

/// The key, hash and completeness of the stored run of this run id and unit.
pub const FIND_RUN: &str = "SELECT id, content_hash, complete FROM runs \
     WHERE run_id = $1 AND host = $2 AND gpu_index = $3";

/// Stores one capability figure.
pub const INSERT_FIGURE: &str = "INSERT INTO run_figures (run, metric, shape, unit, kernel, \
     median, low, high, samples) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Stores a run's series row: its unit and names, and its figures packed
/// ([`super::packed`]).
pub const INSERT_SERIES_RUN: &str = "INSERT INTO unit_runs (device, host, gpu_index, \
     started_s, run, run_id, started_at, driver, figures) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

/// Deletes the series row of the partial run a complete file replaces (before the run: the
/// series has no foreign key to cascade), found by the series' own key.
pub const DELETE_PARTIAL_SERIES: &str = "DELETE FROM unit_runs \
     WHERE (device, host, gpu_index, started_s, run) IN \
     (SELECT device, host, gpu_index, started_s, id FROM runs WHERE id = $1 AND complete = 0)";

/// Adds a name packed figures refer to, unless it is there.
pub const INSERT_SERIES_NAME: &str =
    "INSERT INTO series_names (name) VALUES ($1) ON CONFLICT (name) DO NOTHING";

/// The id of a name packed figures refer to.
pub const FIND_SERIES_NAME: &str = "SELECT id FROM series_names WHERE name = $1";

/// Every name packed figures refer to, with its id.
pub const SERIES_NAMES: &str = "SELECT id, name FROM series_names";

/// Every row of schema version 3's row-per-figure series, one run's rows together, in the
/// columns [`series_ref`] reads: what migration 4 packs.
pub const UNPACKED_SERIES: &str = "SELECT s.run, s.host, s.gpu_index, s.device, s.started_s, \
     s.metric, s.shape, s.unit, s.median, s.low, s.high, s.run_id, s.started_at, s.driver \
     FROM unit_series s ORDER BY s.device, s.host, s.gpu_index, s.started_s, s.run, s.metric, \
     s.shape";

/// The header of a stored run.
pub const RUN_HEADER: &str = "SELECT header FROM runs WHERE id = $1";

/// The cases of a run stored under schema version 1, in file order.
pub const RUN_CASES: &str = "SELECT body FROM run_cases WHERE run = $1 ORDER BY ordinal";

/// The highest applied migration.
pub const SCHEMA_VERSION: &str = "SELECT coalesce(max(version), 0) FROM schema_migrations";

/// Records an applied migration.
pub const RECORD_MIGRATION: &str =
    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)";

const RUN_COLUMNS: &str = "r.id, r.run_id, r.host, r.gpu_index, r.device, r.driver, r.backend, \
     r.started_at, r.started_s";

/// The filter's fields as conditions on `runs r`, in [`RunFilter`]'s order (`?` is the value).
const RUN_CONDITIONS: [&str; 8] = [
    "r.device = ?",
    "r.host = ?",
    "r.gpu_index = ?",
    "r.driver = ?",
    "r.backend = ?",
    "r.started_s >= ?",
    "r.started_s <= ?",
    "r.run_id = ?",
];

/// The same on `unit_runs s`, which has every column but the backend.
const SERIES_CONDITIONS: [&str; 8] = [
    "s.device = ?",
    "s.host = ?",
    "s.gpu_index = ?",
    "s.driver = ?",
    "s.run IN (SELECT id FROM runs WHERE backend = ?)",
    "s.started_s >= ?",
    "s.started_s <= ?",
    "s.run_id = ?",
];

/// `SELECT` of [`crate::store::RunRow`]s, with the filter's conditions and parameters, oldest
/// first: the page of them that `page` asks for.
pub fn select_runs(filter: &RunFilter, page: &RunPage) -> (String, Vec<Param>) {
    let (mut conditions, mut params) = conditions(filter, &RUN_CONDITIONS);
    if let Some((started_s, key)) = page.after {
        params.extend([Param::Int(started_s), Param::Int(key)]);
        let n = params.len();
        conditions.push_str(if conditions.is_empty() {
            " WHERE "
        } else {
            " AND "
        });
        conditions.push_str(&format!("(r.started_s, r.id) > (${}, ${n})", n - 1));
    }
    let limit = page
        .limit
        .map(|n| format!(" LIMIT {n}"))
        .unwrap_or_default();
    let sql = format!(
        "SELECT {RUN_COLUMNS}, r.complete, \
         r.case_count, r.content_hash, r.source \
         FROM runs r{conditions} ORDER BY r.started_s, r.id{limit}"
    );
    (sql, params)
}

/// `SELECT` of [`crate::store::FigureRow`]s, one unit's series after another.
pub fn select_figures(filter: &RunFilter) -> (String, Vec<Param>) {
    let (conditions, params) = conditions(filter, &RUN_CONDITIONS);
    let sql = format!(
        "SELECT {RUN_COLUMNS}, f.metric, f.shape, f.unit, f.kernel, f.median, f.low, f.high, \
         f.samples FROM run_figures f JOIN runs r ON r.id = f.run{conditions} \
         ORDER BY r.device, r.host, r.gpu_index, r.started_s, r.id, f.metric, f.shape"
    );
    (sql, params)
}

/// `SELECT` of the series rows (one a run, figures packed), one unit after another in the order
/// of [`select_figures`]; [`series_run`] reads a row.
pub fn select_series(filter: &RunFilter) -> (String, Vec<Param>) {
    let (conditions, params) = conditions(filter, &SERIES_CONDITIONS);
    let sql = format!(
        "SELECT s.run, s.host, s.gpu_index, s.device, s.started_s, s.run_id, s.started_at, \
         s.driver, s.figures FROM unit_runs s{conditions} \
         ORDER BY s.device, s.host, s.gpu_index, s.started_s, s.run"
    );
    (sql, params)
}

/// One result row of either engine, read by column position. The rows of [`select_runs`] and
/// [`select_figures`] are decoded once, here beside their column lists, by [`run_row`] and
/// [`figure_ref`]; each engine only says how it reads a column.
pub trait Columns {
    /// The engine's error.
    type Error;
    /// A 64-bit integer column.
    fn int(&self, index: usize) -> Result<i64, Self::Error>;
    /// A double column.
    fn real(&self, index: usize) -> Result<f64, Self::Error>;
    /// A text column, borrowed from the row.
    fn text(&self, index: usize) -> Result<&str, Self::Error>;
    /// A bytes column (`BLOB`, `bytea`), borrowed from the row.
    fn bytes(&self, index: usize) -> Result<&[u8], Self::Error>;
}

/// A row of [`select_runs`].
pub fn run_row<C: Columns>(r: &C) -> Result<RunRow, C::Error> {
    Ok(RunRow {
        key: r.int(0)?,
        run_id: r.text(1)?.to_string(),
        host: r.text(2)?.to_string(),
        gpu_index: r.int(3)?,
        device: r.text(4)?.to_string(),
        driver: r.text(5)?.to_string(),
        backend: r.text(6)?.to_string(),
        started_at: r.text(7)?.to_string(),
        started_s: r.int(8)?,
        complete: r.int(9)? != 0,
        cases: r.int(10)?,
        content_hash: r.text(11)?.to_string(),
        source: r.text(12)?.to_string(),
    })
}

/// A row of [`select_series`]: the run's key, start, unit and names, and its packed figures,
/// borrowed from the engine's row.
pub fn series_run<C: Columns>(r: &C) -> Result<(i64, i64, SeriesRun<'_>, &[u8]), C::Error> {
    let run = SeriesRun {
        host: r.text(1)?,
        gpu_index: r.int(2)?,
        device: r.text(3)?,
        run_id: r.text(5)?,
        started_at: r.text(6)?,
        driver: r.text(7)?,
    };
    Ok((r.int(0)?, r.int(4)?, run, r.bytes(8)?))
}

/// A row of [`UNPACKED_SERIES`], borrowing its text from the engine's row; the run's columns are
/// read only when its key differs from `previous` (the key of the row before), which it
/// becomes.
pub fn series_ref<'r, C: Columns>(
    r: &'r C,
    previous: &mut Option<i64>,
) -> Result<SeriesRef<'r>, C::Error> {
    let key = r.int(0)?;
    let run = if *previous == Some(key) {
        None
    } else {
        *previous = Some(key);
        Some(SeriesRun {
            host: r.text(1)?,
            gpu_index: r.int(2)?,
            device: r.text(3)?,
            run_id: r.text(11)?,
            started_at: r.text(12)?,
            driver: r.text(13)?,
        })
    };
    Ok(SeriesRef {
        key,
        started_s: r.int(4)?,
        metric: r.text(5)?,
        shape: r.text(6)?,
        unit: r.text(7)?,
        median: r.real(8)?,
        low: r.real(9)?,
        high: r.real(10)?,
        run,
    })
}

/// A row of [`select_figures`], borrowing its text from the engine's row.
pub fn figure_ref<C: Columns>(r: &C) -> Result<FigureRef<'_>, C::Error> {
    Ok(FigureRef {
        key: r.int(0)?,
        run_id: r.text(1)?,
        host: r.text(2)?,
        gpu_index: r.int(3)?,
        device: r.text(4)?,
        driver: r.text(5)?,
        backend: r.text(6)?,
        started_at: r.text(7)?,
        started_s: r.int(8)?,
        metric: r.text(9)?,
        shape: r.text(10)?,
        unit: r.text(11)?,
        kernel: r.text(12)?,
        median: r.real(13)?,
        low: r.real(14)?,
        high: r.real(15)?,
        samples: r.int(16)?,
    })
}

/// ` WHERE a = $1 AND …` for the filter's set fields (each written as its entry of `columns`
/// with `?` for the value), and their values in order.
fn conditions(filter: &RunFilter, columns: &[&str; 8]) -> (String, Vec<Param>) {
    let text = |v: &Option<String>| v.clone().map(Param::Text);
    let values = [
        text(&filter.device),
        text(&filter.host),
        filter.gpu_index.map(Param::Int),
        text(&filter.driver),
        text(&filter.backend),
        filter.since_s.map(Param::Int),
        filter.until_s.map(Param::Int),
        text(&filter.run_id),
    ];
    let mut clauses = Vec::new();
    let mut params = Vec::new();
    for (column, value) in columns.iter().zip(values) {
        if let Some(value) = value {
            params.push(value);
            clauses.push(column.replace('?', &format!("${}", params.len())));
        }
    }
    if clauses.is_empty() {
        return (String::new(), params);
    }
    (format!(" WHERE {}", clauses.join(" AND ")), params)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_bind_values_and_never_format_them() {
        let filter = RunFilter {
            host: Some("node'; DROP TABLE runs; --".into()),
            gpu_index: Some(3),
            ..RunFilter::default()
        };
        let (sql, params) = select_runs(&filter, &RunPage::ALL);
        assert!(
            sql.contains("WHERE r.host = $1 AND r.gpu_index = $2"),
            "{sql}"
        );
        assert!(!sql.contains("DROP"));
        assert_eq!(params.len(), 2);
        let page = RunPage {
            after: Some((1_700_000_000, 42)),
            limit: Some(4096),
        };
        let (paged, params) = select_runs(&filter, &page);
        assert!(
            paged.ends_with(
                "WHERE r.host = $1 AND r.gpu_index = $2 AND (r.started_s, r.id) > ($3, $4) \
                 ORDER BY r.started_s, r.id LIMIT 4096"
            ),
            "{paged}"
        );
        assert_eq!(params.len(), 4);
        let (first, none) = select_runs(&RunFilter::default(), &page);
        assert!(first.contains("FROM runs r WHERE (r.started_s, r.id) > ($1, $2) ORDER"));
        assert_eq!(none.len(), 2);
        let (open, none) = select_figures(&RunFilter::default());
        assert!(!open.contains("WHERE") && none.is_empty());
        let by_backend = RunFilter {
            backend: Some("vulkan".into()),
            since_s: Some(5),
            ..filter
        };
        let (series, params) = select_series(&by_backend);
        assert!(
            series.contains(
                "FROM unit_runs s WHERE s.host = $1 AND s.gpu_index = $2 AND s.run IN \
                 (SELECT id FROM runs WHERE backend = $3) AND s.started_s >= $4"
            ),
            "{series}"
        );
        assert_eq!(params.len(), 4);
    }
}
