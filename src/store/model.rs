//! What the store gives back: runs, their capability figures, and the selection of runs a
//! query asks for. Plain typed rows (serde, numbers as numbers); formats are rendered at the
//! edge.

use super::packed::{NameDictionary, PackedFigure};
use crate::error::{Error, Result};
use serde::Serialize;

/// Which runs a query takes. Every field narrows the selection; `None` leaves it open.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunFilter {
    /// The device model: the adapter name as reported (e.g. "NVIDIA H100 80GB HBM3").
    pub device: Option<String>,
    /// The host name.
    pub host: Option<String>,
    /// The GPU index on its host.
    pub gpu_index: Option<i64>,
    /// Driver name and version, as `store list` shows it.
    pub driver: Option<String>,
    /// Backend: vulkan, metal, dx12, gl.
    pub backend: Option<String>,
    /// Runs started at or after this time (Unix seconds).
    pub since_s: Option<i64>,
    /// Runs started at or before this time (Unix seconds).
    pub until_s: Option<i64>,
    /// One stored run by run id.
    pub run_id: Option<String>,
}

/// Which part of the runs a filter selects a query returns, in their order (start time, then
/// the store's id): those after `after`, at most `limit` of them. What lets a command that
/// reduces runs one at a time (`merge --store`) hold a page of rows rather than all of them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunPage {
    /// `(started_s, key)` of the last run of the previous page.
    pub after: Option<(i64, i64)>,
    /// The most runs returned.
    pub limit: Option<usize>,
}

impl RunPage {
    /// Every run.
    pub const ALL: RunPage = RunPage {
        after: None,
        limit: None,
    };

    /// The page after this one, whose last run was `last`.
    pub fn next(&self, last: &RunRow) -> RunPage {
        RunPage {
            after: Some((last.started_s, last.key)),
            limit: self.limit,
        }
    }
}

impl RunFilter {
    /// Sets `since_s` from a date (`2026-03-01`, midnight UTC) or an RFC 3339 time.
    pub fn since(mut self, text: &str) -> Result<Self> {
        self.since_s = Some(parse_time(text, false)?);
        Ok(self)
    }

    /// Sets `until_s` from a date (the whole day counts) or an RFC 3339 time.
    pub fn until(mut self, text: &str) -> Result<Self> {
        self.until_s = Some(parse_time(text, true)?);
        Ok(self)
    }
}

/// Unix seconds of an RFC 3339 time, or of a date's first (or, with `end_of_day`, last)
/// second in UTC.
pub fn parse_time(text: &str, end_of_day: bool) -> Result<i64> {
    if let Ok(ts) = text.parse::<jiff::Timestamp>() {
        return Ok(ts.as_second());
    }
    let date: jiff::civil::Date = text.parse().map_err(|_| {
        Error::Config(format!(
            "'{text}' is not a date (2026-03-01) or an RFC 3339 time (2026-03-01T12:00:00Z)"
        ))
    })?;
    let start = date
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|e| Error::Config(format!("'{text}': {e}")))?
        .timestamp()
        .as_second();
    Ok(if end_of_day { start + 86_399 } else { start })
}

/// One stored run.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RunRow {
    /// The store's own id of the run (what `store export --key` takes).
    pub key: i64,
    /// The run id written by `fleetbench run`.
    pub run_id: String,
    /// Host name.
    pub host: String,
    /// GPU index on the host.
    pub gpu_index: i64,
    /// Device model (adapter name).
    pub device: String,
    /// Driver name and version.
    pub driver: String,
    /// Backend.
    pub backend: String,
    /// When the run started (RFC 3339, as in the file).
    pub started_at: String,
    /// The same, as Unix seconds.
    pub started_s: i64,
    /// Whether every planned case was attempted.
    pub complete: bool,
    /// Cases stored.
    pub cases: i64,
    /// SHA-256 of the file's bytes, hex.
    pub content_hash: String,
    /// The path the file was ingested from.
    pub source: String,
}

/// One capability figure of one stored run, with the run's identity.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct FigureRow {
    /// The store's id of the run.
    pub key: i64,
    /// The run id.
    pub run_id: String,
    /// Host name.
    pub host: String,
    /// GPU index on the host.
    pub gpu_index: i64,
    /// Device model.
    pub device: String,
    /// Driver name and version.
    pub driver: String,
    /// Backend.
    pub backend: String,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// The same, as Unix seconds.
    pub started_s: i64,
    /// Metric name (`matmul-f32`, `bandwidth`, …).
    pub metric: String,
    /// The workload (`op/dtype/MxNxK`).
    pub shape: String,
    /// Unit of the figure.
    pub unit: String,
    /// The best kernel there, with its overrides.
    pub kernel: String,
    /// Median throughput.
    pub median: f64,
    /// Lower end of its 95% interval.
    pub low: f64,
    /// Upper end of its 95% interval.
    pub high: f64,
    /// Samples behind it.
    pub samples: i64,
}

impl FigureRow {
    /// Whether two rows belong to the same unit (host, GPU index, device).
    pub fn same_unit(&self, other: &FigureRow) -> bool {
        self.host == other.host && self.gpu_index == other.gpu_index && self.device == other.device
    }
}

/// A [`FigureRow`] whose text borrows from the database's current result row: what
/// [`super::Database::for_each_figure`] hands out, so a reader that keeps only some of a row
/// (or none of it) does not allocate its nine strings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FigureRef<'a> {
    /// The store's id of the run.
    pub key: i64,
    /// The run id.
    pub run_id: &'a str,
    /// Host name.
    pub host: &'a str,
    /// GPU index on the host.
    pub gpu_index: i64,
    /// Device model.
    pub device: &'a str,
    /// Driver name and version.
    pub driver: &'a str,
    /// Backend.
    pub backend: &'a str,
    /// When the run started (RFC 3339).
    pub started_at: &'a str,
    /// The same, as Unix seconds.
    pub started_s: i64,
    /// Metric name.
    pub metric: &'a str,
    /// The workload.
    pub shape: &'a str,
    /// Unit of the figure.
    pub unit: &'a str,
    /// The best kernel there.
    pub kernel: &'a str,
    /// Median throughput.
    pub median: f64,
    /// Lower end of its 95% interval.
    pub low: f64,
    /// Upper end of its 95% interval.
    pub high: f64,
    /// Samples behind it.
    pub samples: i64,
}

impl FigureRef<'_> {
    /// The row with its text copied out.
    pub fn to_row(&self) -> FigureRow {
        FigureRow {
            key: self.key,
            run_id: self.run_id.to_string(),
            host: self.host.to_string(),
            gpu_index: self.gpu_index,
            device: self.device.to_string(),
            driver: self.driver.to_string(),
            backend: self.backend.to_string(),
            started_at: self.started_at.to_string(),
            started_s: self.started_s,
            metric: self.metric.to_string(),
            shape: self.shape.to_string(),
            unit: self.unit.to_string(),
            kernel: self.kernel.to_string(),
            median: self.median,
            low: self.low,
            high: self.high,
            samples: self.samples,
        }
    }
}

/// One figure of a unit's series, a row at a time (the row-per-figure `unit_series` table of
/// schema version 3, which migration 4 packs, and [`crate::store::regressions::FleetTest`]):
/// the columns of [`FigureRow`] that the test needs, text borrowed from the row. The run's own
/// columns come with the first row of each run only (`run`), since the rows of a run follow
/// each other.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesRef<'a> {
    /// The store's id of the run.
    pub key: i64,
    /// When the run started, as Unix seconds.
    pub started_s: i64,
    /// Metric name.
    pub metric: &'a str,
    /// The workload.
    pub shape: &'a str,
    /// Unit of the figure.
    pub unit: &'a str,
    /// Median throughput.
    pub median: f64,
    /// Lower end of its 95% interval.
    pub low: f64,
    /// Upper end of its 95% interval.
    pub high: f64,
    /// The run's unit and names on the first row of a run; `None` on the rows after it that
    /// have the same `key`.
    pub run: Option<SeriesRun<'a>>,
}

/// The unit and names of the run of a [`SeriesRef`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SeriesRun<'a> {
    /// Host name.
    pub host: &'a str,
    /// GPU index on the host.
    pub gpu_index: i64,
    /// Device model.
    pub device: &'a str,
    /// The run id.
    pub run_id: &'a str,
    /// When the run started (RFC 3339).
    pub started_at: &'a str,
    /// Driver name and version.
    pub driver: &'a str,
}

/// One run of a unit's series as `store regressions` reads it (the store's `unit_runs`, in
/// unit order): the run's unit and names, and its figures unpacked with names as ids of
/// `names` (see [`super::packed`]).
#[derive(Debug, Clone, Copy)]
pub struct SeriesRunRef<'a> {
    /// The store's id of the run.
    pub key: i64,
    /// When the run started, as Unix seconds.
    pub started_s: i64,
    /// The run's unit and names.
    pub run: SeriesRun<'a>,
    /// Its figures, sorted by metric and shape.
    pub figures: &'a [PackedFigure],
    /// What the figures' name ids stand for.
    pub names: &'a NameDictionary,
}

impl<'a> From<&'a FigureRow> for SeriesRef<'a> {
    fn from(row: &'a FigureRow) -> Self {
        SeriesRef {
            key: row.key,
            started_s: row.started_s,
            metric: &row.metric,
            shape: &row.shape,
            unit: &row.unit,
            median: row.median,
            low: row.low,
            high: row.high,
            run: Some(SeriesRun {
                host: &row.host,
                gpu_index: row.gpu_index,
                device: &row.device,
                run_id: &row.run_id,
                started_at: &row.started_at,
                driver: &row.driver,
            }),
        }
    }
}

/// The answer of `store list`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RunList {
    /// The store, password hidden.
    pub store: String,
    /// The runs, oldest first.
    pub runs: Vec<RunRow>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_cover_whole_days_and_times_are_exact() {
        let start = parse_time("2026-03-01", false).unwrap();
        assert_eq!(parse_time("2026-03-01", true).unwrap(), start + 86_399);
        assert_eq!(
            parse_time("2026-03-01T00:00:10Z", false).unwrap(),
            start + 10
        );
        assert!(parse_time("last tuesday", false)
            .unwrap_err()
            .to_string()
            .contains("not a date"));
    }
}
