//! Each run's series figures packed into one binary value, for `store regressions`.
//!
//! **Why packed.** `store regressions` reads every figure of the fleet, one unit after another.
//! With a row per figure (schema migration 3's `unit_series`), a store of 100,000 default runs
//! is 1.4 million rows of fourteen columns, and decoding them through the engine was most of
//! the command's time (0.98 s of wall-clock time on a quiet 2-core host, of which the row
//! decoding, column reads and UTF-8 checks were about two thirds). Schema migration 4 keeps
//! instead one row per run in `unit_runs`: the run's unit and names once, and its figures in
//! one `BLOB` (PostgreSQL: `bytea`) column, so the scan decodes 14 times fewer rows and reads
//! each figure as fixed-width numbers. The metric, shape and rate-unit names, which repeat on
//! every run of a fleet, are kept once in `series_names` and named in the blob by their id.
//! Ingest writes one row a run instead of fourteen, so it costs no more than before, and the
//! store is smaller (the row-per-figure table goes); over 100,000 runs `store regressions`
//! went from about 1 CPU-second to under half of one (`results/store-scale-2026-12.md`).
//!
//! **Why not a packed row per series** (a unit's whole history of one metric in one value):
//! a new run would then rewrite every series of its unit, and ingest appends runs; a row per
//! run is written once, in the transaction that stores the run, and the engine's clustered key
//! (device, host, GPU index, start, run) already gives the runs in the order the test reads.
//!
//! **Layout** (version [`FORMAT`]): one byte, the format; a little-endian `u32`, the number of
//! figures; then per figure three little-endian `u32` name ids (metric, shape, rate unit) and
//! three little-endian IEEE-754 doubles (median, low, high): 36 bytes a figure, 509 bytes for
//! a default run's 14. Figures are sorted by metric, then shape, comparing bytes, which is the
//! order the row-per-figure table gave them in on SQLite (ties between shapes of a metric are
//! broken by it), and now the same on both engines. A value that is not this layout is an error
//! naming the store and the run ([`decode`]), never a panic or a misread figure.

use super::ingest::PreparedRun;
use crate::error::{Error, Result};
use std::collections::{BTreeSet, HashMap};

/// The layout written now, the first byte of every packed value.
pub const FORMAT: u8 = 1;

/// Bytes before the first figure: the format and the count.
const HEADER_BYTES: usize = 5;

/// Bytes of one figure: three `u32` ids and three doubles.
const FIGURE_BYTES: usize = 36;

/// One figure of a packed run: names as ids of the store's `series_names`, numbers as stored.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PackedFigure {
    /// Id of the metric's name.
    pub metric: u32,
    /// Id of the workload's key (its shape).
    pub shape: u32,
    /// Id of the rate unit's label.
    pub unit: u32,
    /// Median throughput.
    pub median: f64,
    /// Lower end of its 95% interval.
    pub low: f64,
    /// Upper end of its 95% interval.
    pub high: f64,
}

/// A figure with its names as text, as ingest and the back-fill of older stores have it.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedFigure {
    /// Metric name.
    pub metric: String,
    /// The workload's key.
    pub shape: String,
    /// Rate unit.
    pub unit: String,
    /// Median throughput.
    pub median: f64,
    /// Lower end of its 95% interval.
    pub low: f64,
    /// Upper end of its 95% interval.
    pub high: f64,
}

/// The series figures of a prepared run, named as the row-per-figure tables name them.
pub fn named_figures(run: &PreparedRun) -> Vec<NamedFigure> {
    run.figures
        .iter()
        .map(|f| NamedFigure {
            metric: f.metric.label().to_string(),
            shape: f.workload.key(),
            unit: f.unit.label().to_string(),
            median: f.median.value,
            low: f.median.low,
            high: f.median.high,
        })
        .collect()
}

/// Every name `figures` use, sorted and without repeats (so writers that add names take their
/// locks in one order).
pub fn names_of<'a>(figures: impl IntoIterator<Item = &'a NamedFigure>) -> BTreeSet<&'a str> {
    let mut names = BTreeSet::new();
    for f in figures {
        names.extend([f.metric.as_str(), f.shape.as_str(), f.unit.as_str()]);
    }
    names
}

/// `figures` packed, each name replaced by its id from `id_of`; `None` when a name has no id
/// (the caller resolves every name first).
pub fn encode(figures: &[NamedFigure], id_of: &dyn Fn(&str) -> Option<u32>) -> Option<Vec<u8>> {
    let mut order: Vec<&NamedFigure> = figures.iter().collect();
    order.sort_by(|a, b| (&a.metric, &a.shape).cmp(&(&b.metric, &b.shape)));
    let mut out = Vec::with_capacity(HEADER_BYTES + FIGURE_BYTES * figures.len());
    out.push(FORMAT);
    out.extend_from_slice(&u32::try_from(figures.len()).ok()?.to_le_bytes());
    for f in order {
        for name in [&f.metric, &f.shape, &f.unit] {
            out.extend_from_slice(&id_of(name)?.to_le_bytes());
        }
        for number in [f.median, f.low, f.high] {
            out.extend_from_slice(&number.to_le_bytes());
        }
    }
    Some(out)
}

/// Unpacks `blob` into `out` (cleared first), or says in a few words what is wrong with it.
/// The ids are not checked against the store's names here: the reader looks each new one up
/// and reports one it cannot find.
pub fn decode(blob: &[u8], out: &mut Vec<PackedFigure>) -> Result<(), String> {
    out.clear();
    let (header, body) = blob
        .split_first_chunk::<HEADER_BYTES>()
        .ok_or_else(|| format!("{} bytes, shorter than a header", blob.len()))?;
    if header[0] != FORMAT {
        return Err(format!(
            "layout {} is not one this build reads ({FORMAT})",
            header[0]
        ));
    }
    let count = u32::from_le_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if body.len() != count.saturating_mul(FIGURE_BYTES) {
        return Err(format!(
            "{count} figure(s) need {} bytes after the header, the value has {}",
            count.saturating_mul(FIGURE_BYTES),
            body.len()
        ));
    }
    out.reserve(count);
    for chunk in body.chunks_exact(FIGURE_BYTES) {
        let int = |at: usize| {
            u32::from_le_bytes([chunk[at], chunk[at + 1], chunk[at + 2], chunk[at + 3]])
        };
        let real = |at: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&chunk[at..at + 8]);
            f64::from_le_bytes(bytes)
        };
        out.push(PackedFigure {
            metric: int(0),
            shape: int(4),
            unit: int(8),
            median: real(12),
            low: real(20),
            high: real(28),
        });
    }
    Ok(())
}

/// The store's `series_names`, by id: what the ids of packed figures name.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NameDictionary {
    by_id: HashMap<u32, String>,
}

impl NameDictionary {
    /// Adds the name stored under `id` (a row of `series_names`); an id beyond `u32` cannot be
    /// named by a packed figure and is refused.
    pub fn insert(&mut self, id: i64, name: String) -> Result<(), String> {
        let id = u32::try_from(id).map_err(|_| format!("series name id {id} is out of range"))?;
        self.by_id.insert(id, name);
        Ok(())
    }

    /// The name stored under `id`.
    pub fn name(&self, id: u32) -> Option<&str> {
        self.by_id.get(&id).map(String::as_str)
    }
}

/// The ids of names this connection has seen committed: a store's names never change or go
/// away, so after the first batch of an ingest nearly every name is found here without asking
/// the engine. Names resolved inside a transaction join only once it commits.
#[derive(Debug, Default)]
pub struct NameIds {
    committed: HashMap<String, u32>,
}

impl NameIds {
    /// The names of `figures` without a committed id, sorted.
    pub fn missing<'a>(&self, figures: impl IntoIterator<Item = &'a NamedFigure>) -> Vec<String> {
        names_of(figures)
            .into_iter()
            .filter(|n| !self.committed.contains_key(*n))
            .map(str::to_string)
            .collect()
    }

    /// The id of `name`, from `fresh` (resolved in the open transaction) or committed ones.
    pub fn id(&self, fresh: &HashMap<String, u32>, name: &str) -> Option<u32> {
        self.committed
            .get(name)
            .or_else(|| fresh.get(name))
            .copied()
    }

    /// Keeps the names resolved in a transaction that committed.
    pub fn commit(&mut self, fresh: HashMap<String, u32>) {
        self.committed.extend(fresh);
    }
}

/// A store's id of a name, as an engine returns it, checked to fit a packed figure.
pub fn name_id(id: i64, name: &str) -> Result<u32, String> {
    u32::try_from(id).map_err(|_| format!("the id {id} of series name '{name}' is out of range"))
}

/// One run of the row-per-figure series table, regrouped by the back-fill of migration 4.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRunRow {
    /// The run's key.
    pub key: i64,
    /// Device model.
    pub device: String,
    /// Host name.
    pub host: String,
    /// GPU index.
    pub gpu_index: i64,
    /// Start, Unix seconds.
    pub started_s: i64,
    /// The run id.
    pub run_id: String,
    /// Start, RFC 3339.
    pub started_at: String,
    /// Driver.
    pub driver: String,
    /// Its figures.
    pub figures: Vec<NamedFigure>,
}

/// Regroups the rows of the row-per-figure series (one run's rows together, the run's names
/// on its first row) into whole runs.
#[derive(Debug, Default)]
pub struct Regrouper {
    current: Option<SeriesRunRow>,
}

impl Regrouper {
    /// Takes the next row; gives back the run before it when this row starts another.
    pub fn add(&mut self, row: &super::SeriesRef<'_>) -> Option<SeriesRunRow> {
        let mut done = None;
        if let Some(run) = &row.run {
            done = self.current.take();
            self.current = Some(SeriesRunRow {
                key: row.key,
                device: run.device.to_string(),
                host: run.host.to_string(),
                gpu_index: run.gpu_index,
                started_s: row.started_s,
                run_id: run.run_id.to_string(),
                started_at: run.started_at.to_string(),
                driver: run.driver.to_string(),
                figures: Vec::new(),
            });
        }
        if let Some(current) = &mut self.current {
            current.figures.push(NamedFigure {
                metric: row.metric.to_string(),
                shape: row.shape.to_string(),
                unit: row.unit.to_string(),
                median: row.median,
                low: row.low,
                high: row.high,
            });
        }
        done
    }

    /// The last run.
    pub fn finish(self) -> Option<SeriesRunRow> {
        self.current
    }
}

/// What both engines do with the rows of [`super::sql::select_series`]: unpack each run's
/// figures into one buffer reused from run to run, and hand the run on.
pub(super) struct SeriesScan<'n> {
    location: &'n str,
    names: &'n NameDictionary,
    figures: Vec<PackedFigure>,
}

impl<'n> SeriesScan<'n> {
    /// A scan of the store at `location`, whose names are `names`.
    pub(super) fn new(location: &'n str, names: &'n NameDictionary) -> Self {
        SeriesScan {
            location,
            names,
            figures: Vec::new(),
        }
    }

    /// One row: the engine's error reading it, else the unpacking's or `visit`'s.
    pub(super) fn row<C: super::sql::Columns>(
        &mut self,
        row: &C,
        visit: &mut dyn FnMut(&super::SeriesRunRef<'_>) -> Result<()>,
    ) -> std::result::Result<Result<()>, C::Error> {
        let (key, started_s, run, blob) = super::sql::series_run(row)?;
        if let Err(why) = decode(blob, &mut self.figures) {
            return Ok(Err(damaged(self.location, key, &why)));
        }
        Ok(visit(&super::SeriesRunRef {
            key,
            started_s,
            run,
            figures: &self.figures,
            names: self.names,
        }))
    }
}

/// The error of a packed value that cannot be read: the store is damaged.
pub fn damaged(location: &str, key: i64, why: &str) -> Error {
    Error::Store {
        db: location.to_string(),
        message: format!(
            "stored run {key}: its packed series figures cannot be read ({why}); the store is \
             damaged"
        ),
    }
}

/// `figures` packed with the ids of `ids` and `fresh` (every name resolved first).
pub fn pack(
    location: &str,
    ids: &NameIds,
    fresh: &HashMap<String, u32>,
    figures: &[NamedFigure],
) -> Result<Vec<u8>> {
    encode(figures, &|name| ids.id(fresh, name)).ok_or_else(|| Error::Store {
        db: location.to_string(),
        message: "a series name has no id in the store (resolved in this transaction)".to_string(),
    })
}

/// Names with the ids an engine gave them, checked to fit a packed figure.
pub fn checked_ids(location: &str, resolved: Vec<(String, i64)>) -> Result<HashMap<String, u32>> {
    resolved
        .into_iter()
        .map(|(name, id)| {
            let id = name_id(id, &name).map_err(|message| Error::Store {
                db: location.to_string(),
                message,
            })?;
            Ok((name, id))
        })
        .collect()
}

/// The dictionary of `rows` (id, name), as an engine read them from `series_names`.
pub fn dictionary(location: &str, rows: Vec<(i64, String)>) -> Result<NameDictionary> {
    let mut names = NameDictionary::default();
    for (id, name) in rows {
        names.insert(id, name).map_err(|message| Error::Store {
            db: location.to_string(),
            message,
        })?;
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(metric: &str, shape: &str, median: f64) -> NamedFigure {
        NamedFigure {
            metric: metric.into(),
            shape: shape.into(),
            unit: "GFLOP/s".into(),
            median,
            low: median * 0.99,
            high: f64::from_bits(median.to_bits() + 1),
        }
    }

    fn ids(names: &[&str]) -> HashMap<String, u32> {
        names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.to_string(), 7 + i as u32))
            .collect()
    }

    #[test]
    fn a_run_round_trips_exactly_sorted_by_metric_then_shape() {
        let figures = vec![
            figure("matmul-f32", "b", 3.5),
            figure("matmul-f16", "z", 1e300),
            figure("matmul-f32", "a", -0.0),
        ];
        let table = ids(&["matmul-f32", "matmul-f16", "a", "b", "z", "GFLOP/s"]);
        let blob = encode(&figures, &|n| table.get(n).copied()).unwrap();
        assert_eq!(blob.len(), HEADER_BYTES + 3 * FIGURE_BYTES);
        let mut back = Vec::new();
        decode(&blob, &mut back).unwrap();
        let mut dictionary = NameDictionary::default();
        for (name, id) in &table {
            dictionary.insert(i64::from(*id), name.clone()).unwrap();
        }
        let named: Vec<NamedFigure> = back
            .iter()
            .map(|p| NamedFigure {
                metric: dictionary.name(p.metric).unwrap().into(),
                shape: dictionary.name(p.shape).unwrap().into(),
                unit: dictionary.name(p.unit).unwrap().into(),
                median: p.median,
                low: p.low,
                high: p.high,
            })
            .collect();
        let expected = vec![figures[1].clone(), figures[2].clone(), figures[0].clone()];
        assert_eq!(named.len(), 3);
        for (got, want) in named.iter().zip(&expected) {
            assert_eq!((&got.metric, &got.shape), (&want.metric, &want.shape));
            assert_eq!(got.median.to_bits(), want.median.to_bits());
            assert_eq!(got.low.to_bits(), want.low.to_bits());
            assert_eq!(got.high.to_bits(), want.high.to_bits());
        }
        assert_eq!(encode(&figures, &|_| None), None);
    }

    #[test]
    fn a_bad_value_is_an_error_saying_what_is_wrong() {
        let table = ids(&["m", "s", "GFLOP/s"]);
        let blob = encode(&[figure("m", "s", 1.0)], &|n| table.get(n).copied()).unwrap();
        let mut out = Vec::new();
        assert!(decode(&[], &mut out)
            .unwrap_err()
            .contains("shorter than a header"));
        let mut other = blob.clone();
        other[0] = 9;
        assert!(decode(&other, &mut out).unwrap_err().contains("layout 9"));
        let cut = &blob[..blob.len() - 1];
        assert!(decode(cut, &mut out).unwrap_err().contains("need 36 bytes"));
        let mut huge = blob.clone();
        huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode(&huge, &mut out).is_err());
        let mut empty = Vec::new();
        decode(&[FORMAT, 0, 0, 0, 0], &mut empty).unwrap();
        assert!(empty.is_empty());
        assert!(NameDictionary::default()
            .insert(1 << 40, "x".into())
            .is_err());
    }

    #[test]
    fn names_resolved_in_a_transaction_count_once_it_commits() {
        let figures = [figure("m", "s", 1.0), figure("m", "t", 2.0)];
        let mut ids = NameIds::default();
        assert_eq!(ids.missing(&figures), vec!["GFLOP/s", "m", "s", "t"]);
        let fresh: HashMap<String, u32> = [("m".to_string(), 1)].into();
        assert_eq!(ids.id(&fresh, "m"), Some(1));
        ids.commit(fresh);
        assert_eq!(ids.id(&HashMap::new(), "m"), Some(1));
        assert_eq!(ids.missing(&figures), vec!["GFLOP/s", "s", "t"]);
    }
}
