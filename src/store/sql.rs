//! The SQL both engines run, written once. Values are always bound as parameters (`$1`, `$2`,
//! … in order of first use, which SQLite and PostgreSQL both read), never formatted into the
//! text; a filter only chooses which fixed conditions to join.

use super::model::RunFilter;

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

/// `SELECT` of [`crate::store::RunRow`]s, with the filter's conditions and parameters.
pub fn select_runs(filter: &RunFilter) -> (String, Vec<Param>) {
    let (conditions, params) = conditions(filter);
    let sql = format!(
        "SELECT {RUN_COLUMNS}, r.complete, \
         r.case_count, r.content_hash, r.source \
         FROM runs r{conditions} ORDER BY r.started_s, r.id"
    );
    (sql, params)
}

/// `SELECT` of [`crate::store::FigureRow`]s, one unit's series after another.
pub fn select_figures(filter: &RunFilter) -> (String, Vec<Param>) {
    let (conditions, params) = conditions(filter);
    let sql = format!(
        "SELECT {RUN_COLUMNS}, f.metric, f.shape, f.unit, f.kernel, f.median, f.low, f.high, \
         f.samples FROM run_figures f JOIN runs r ON r.id = f.run{conditions} \
         ORDER BY r.device, r.host, r.gpu_index, r.started_s, r.id, f.metric, f.shape"
    );
    (sql, params)
}

/// ` WHERE a = $1 AND …` for the filter's set fields, and their values in order.
fn conditions(filter: &RunFilter) -> (String, Vec<Param>) {
    let text = |v: &Option<String>| v.clone().map(Param::Text);
    let candidates = [
        ("r.device = ", text(&filter.device)),
        ("r.host = ", text(&filter.host)),
        ("r.gpu_index = ", filter.gpu_index.map(Param::Int)),
        ("r.driver = ", text(&filter.driver)),
        ("r.backend = ", text(&filter.backend)),
        ("r.started_s >= ", filter.since_s.map(Param::Int)),
        ("r.started_s <= ", filter.until_s.map(Param::Int)),
        ("r.run_id = ", text(&filter.run_id)),
    ];
    let mut clauses = Vec::new();
    let mut params = Vec::new();
    for (column, value) in candidates {
        if let Some(value) = value {
            params.push(value);
            clauses.push(format!("{column}${}", params.len()));
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
        let (sql, params) = select_runs(&filter);
        assert!(
            sql.contains("WHERE r.host = $1 AND r.gpu_index = $2"),
            "{sql}"
        );
        assert!(!sql.contains("DROP"));
        assert_eq!(params.len(), 2);
        let (open, none) = select_figures(&RunFilter::default());
        assert!(!open.contains("WHERE") && none.is_empty());
    }
}
