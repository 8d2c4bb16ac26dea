//! Stored runs as inputs of `compare`, `calibrate` and `report`: a selection (the filter every
//! store query takes, and optionally only each unit's latest run) and the runs it picks, each
//! given back as the result file `store export` writes.
//!
//! The commands then treat those files exactly as files read from disk — the same checks, the
//! same models — so a comparison built from the store cannot drift from one built from files.
//!
//! A selection is written on the command line as the filter flags of `store list` or, for one
//! side of `compare`, as `store:KEY=VALUE,…` with the same names: `device`, `host`, `gpu`,
//! `driver`, `backend`, `since`, `until`, `run` (a run id) and the bare word `latest`.

use super::analysis::{history, History, RegressionSettings};
use super::model::{RunFilter, RunPage, RunRow};
use super::Database;
use crate::error::{Error, Result};
use crate::results::ResultFile;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// The prefix that marks a `compare` argument as a store selection instead of a file path.
pub const PREFIX: &str = "store:";

/// The keys a `store:` selection accepts, in the order [`Selection`]'s display writes them.
pub const KEYS: &str = "device, host, gpu, driver, backend, since, until, run, latest";

/// Which stored runs a command takes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// The runs a query selects.
    pub filter: RunFilter,
    /// Keep only the latest run of each unit (host, GPU index, device) among them.
    pub latest: bool,
}

/// One stored run, as the file `store export` writes, with the name it is shown under.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRun {
    /// `store#KEY (HOST GPU N, STARTED)`: where it came from, and the key `store export --key`
    /// takes.
    pub label: String,
    /// The stored run's row.
    pub row: RunRow,
    /// The file, rebuilt from the store.
    pub file: ResultFile,
}

impl Selection {
    /// This selection narrowed (or overridden, key by key) by `keys`: `device=…,since=…,latest`.
    /// An empty text leaves it as it is.
    pub fn narrow(mut self, keys: &str) -> Result<Selection> {
        for item in keys.split(',').filter(|k| !k.trim().is_empty()) {
            if item.trim() == "latest" {
                self.latest = true;
                continue;
            }
            let Some((key, value)) = item.split_once('=') else {
                return Err(bad_key(keys, &format!("'{item}' is not KEY=VALUE")));
            };
            self.set(keys, key.trim(), value.to_string())?;
        }
        Ok(self)
    }

    fn set(&mut self, keys: &str, key: &str, value: String) -> Result<()> {
        let f = &mut self.filter;
        match key {
            "device" => f.device = Some(value),
            "host" => f.host = Some(value),
            "driver" => f.driver = Some(value),
            "backend" => f.backend = Some(value),
            "run" => f.run_id = Some(value),
            "gpu" => {
                let index = value.trim().parse().map_err(|_| {
                    bad_key(keys, &format!("gpu '{value}' is not a GPU index (0, 1, …)"))
                })?;
                f.gpu_index = Some(index);
            }
            "since" => f.since_s = Some(super::model::parse_time(value.trim(), false)?),
            "until" => f.until_s = Some(super::model::parse_time(value.trim(), true)?),
            other => return Err(bad_key(keys, &format!("unknown key '{other}'"))),
        }
        Ok(())
    }
}

fn bad_key(keys: &str, why: &str) -> Error {
    Error::Config(format!(
        "'{PREFIX}{keys}': {why}; a store selection is KEY=VALUE joined by ',' with the keys {KEYS}"
    ))
}

/// `device=…,host=…,…,latest` in the syntax [`Selection::narrow`] reads (times as RFC 3339),
/// or `every stored run`.
impl fmt::Display for Selection {
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        let f = &self.filter;
        let time = |s: Option<i64>| {
            s.map(|s| {
                jiff::Timestamp::from_second(s).map_or_else(|_| s.to_string(), |t| t.to_string())
            })
        };
        let parts: Vec<String> = [
            ("device", f.device.clone()),
            ("host", f.host.clone()),
            ("gpu", f.gpu_index.map(|g| g.to_string())),
            ("driver", f.driver.clone()),
            ("backend", f.backend.clone()),
            ("since", time(f.since_s)),
            ("until", time(f.until_s)),
            ("run", f.run_id.clone()),
        ]
        .into_iter()
        .filter_map(|(key, value)| value.map(|v| format!("{key}={v}")))
        .chain(self.latest.then(|| "latest".to_string()))
        .collect();
        if parts.is_empty() {
            return out.write_str("every stored run");
        }
        out.write_str(&parts.join(","))
    }
}

/// The rows of the runs `selection` picks, oldest first. An empty selection is an error naming
/// the selection and the store: an empty side would otherwise read as a fleet without results.
pub fn rows(db: &mut dyn Database, selection: &Selection) -> Result<Vec<RunRow>> {
    let rows = picked(db, selection)?;
    if rows.is_empty() {
        return Err(nothing_matches(db, selection));
    }
    Ok(rows)
}

/// The rows `selection` picks, oldest first, none included: the one place a selection is
/// applied.
fn picked(db: &mut dyn Database, selection: &Selection) -> Result<Vec<RunRow>> {
    let rows = db.runs(&selection.filter)?;
    Ok(if selection.latest {
        latest_per_unit(rows)
    } else {
        rows
    })
}

fn nothing_matches(db: &dyn Database, selection: &Selection) -> Error {
    Error::Store {
        db: db.location().to_string(),
        message: format!("no stored run matches the selection {selection}"),
    }
}

/// The runs `selection` picks (oldest first), each exported from the store; see [`rows`].
pub fn select(db: &mut dyn Database, selection: &Selection) -> Result<Vec<StoredRun>> {
    let mut runs = Vec::new();
    select_each(db, selection, &mut |run| {
        runs.push(run);
        Ok(())
    })?;
    if runs.is_empty() {
        return Err(nothing_matches(db, selection));
    }
    Ok(runs)
}

/// [`select`] one run at a time: each picked run is exported and handed to `visit` before the
/// next is read, so a command that reduces runs as they come (`merge --store`) holds one file
/// at a time, not the selection's files. Returns how many runs were handed out; an empty
/// selection is not an error here, the caller says what it means (merge notes it and goes on
/// with its files). The rows are read a page of [`ROWS_PER_PAGE`] at a time (a few hundred
/// bytes a row), so the memory does not grow with the store; `latest` reads all of them, as it
/// needs every unit's runs to pick the last. Pages follow each other by position, not in one
/// snapshot: a run stored while they are read is handed out if it sorts after the page in
/// hand.
pub fn select_each(
    db: &mut dyn Database,
    selection: &Selection,
    visit: &mut dyn FnMut(StoredRun) -> Result<()>,
) -> Result<usize> {
    if selection.latest {
        let rows = picked(db, selection)?;
        return visit_rows(db, rows, visit);
    }
    let mut page = RunPage {
        after: None,
        limit: Some(ROWS_PER_PAGE),
    };
    let mut count = 0;
    loop {
        let rows = db.runs_page(&selection.filter, &page)?;
        let Some(last) = rows.last() else {
            return Ok(count);
        };
        page = page.next(last);
        count += visit_rows(db, rows, visit)?;
    }
}

/// Rows a page of [`select_each`] holds.
const ROWS_PER_PAGE: usize = 4096;

/// Exports each row's run and hands it to `visit`, in order; how many were handed out.
fn visit_rows(
    db: &mut dyn Database,
    rows: Vec<RunRow>,
    visit: &mut dyn FnMut(StoredRun) -> Result<()>,
) -> Result<usize> {
    let count = rows.len();
    for row in rows {
        let file = db.export(row.key)?;
        visit(StoredRun {
            label: label(&row),
            row,
            file,
        })?;
    }
    Ok(count)
}

/// The histories a selection charts: one unit's when it names a host and a GPU index, else
/// one per device model among its runs (a model's population over time). `--latest` is not
/// applied: a history is every run.
pub fn histories(
    db: &mut dyn Database,
    selection: &Selection,
    settings: &RegressionSettings,
) -> Result<Vec<History>> {
    let every_run = Selection {
        latest: false,
        ..selection.clone()
    };
    let rows = rows(db, &every_run)?;
    let filter = &selection.filter;
    if let (Some(host), Some(gpu)) = (&filter.host, filter.gpu_index) {
        let devices: BTreeSet<&str> = rows.iter().map(|r| r.device.as_str()).collect();
        let on: Vec<&str> = devices.into_iter().collect();
        let subject = format!("{host} GPU {gpu} ({})", on.join(", "));
        return Ok(vec![history(db, filter, subject, settings)?]);
    }
    let devices: BTreeSet<String> = rows.into_iter().map(|r| r.device).collect();
    devices
        .into_iter()
        .map(|device| {
            let of_model = RunFilter {
                device: Some(device.clone()),
                ..filter.clone()
            };
            history(db, &of_model, device, settings)
        })
        .collect()
}

/// The last run of each unit among `rows`, in the order given (oldest first from the store).
pub fn latest_per_unit(rows: Vec<RunRow>) -> Vec<RunRow> {
    let mut last: BTreeMap<(String, i64, String), usize> = BTreeMap::new();
    for (i, row) in rows.iter().enumerate() {
        let unit = (row.host.clone(), row.gpu_index, row.device.clone());
        let newer = last
            .get(&unit)
            .is_none_or(|&j| (row.started_s, row.key) >= (rows[j].started_s, rows[j].key));
        if newer {
            last.insert(unit, i);
        }
    }
    let mut keep: Vec<usize> = last.into_values().collect();
    keep.sort_unstable();
    rows.into_iter()
        .enumerate()
        .filter(|(i, _)| keep.binary_search(i).is_ok())
        .map(|(_, row)| row)
        .collect()
}

fn label(row: &RunRow) -> String {
    format!(
        "store#{} ({} GPU {}, {})",
        row.key, row.host, row.gpu_index, row.started_at
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: i64, host: &str, started_s: i64) -> RunRow {
        RunRow {
            key,
            run_id: format!("r{key}"),
            host: host.into(),
            gpu_index: 0,
            device: "gpu".into(),
            driver: "d".into(),
            backend: "vulkan".into(),
            started_at: String::new(),
            started_s,
            complete: true,
            cases: 1,
            content_hash: String::new(),
            source: String::new(),
        }
    }

    #[test]
    fn keys_narrow_the_filter_and_display_reads_back() {
        let base = Selection {
            filter: RunFilter {
                backend: Some("vulkan".into()),
                device: Some("A".into()),
                ..RunFilter::default()
            },
            latest: false,
        };
        let s = base
            .narrow("device=NVIDIA H100 80GB HBM3,gpu=3,since=2026-11-01,latest")
            .unwrap();
        assert_eq!(s.filter.device.as_deref(), Some("NVIDIA H100 80GB HBM3"));
        assert_eq!(s.filter.backend.as_deref(), Some("vulkan"));
        assert_eq!(s.filter.gpu_index, Some(3));
        assert!(s.latest);
        let shown = s.to_string();
        assert_eq!(
            shown,
            "device=NVIDIA H100 80GB HBM3,gpu=3,backend=vulkan,since=2026-11-01T00:00:00Z,latest"
        );
        assert_eq!(Selection::default().narrow(&shown).unwrap(), s);
        assert_eq!(Selection::default().to_string(), "every stored run");
        assert_eq!(
            Selection::default().narrow("").unwrap(),
            Selection::default()
        );
    }

    #[test]
    fn a_bad_key_is_refused_with_the_keys_there_are() {
        for (keys, why) in [
            ("colour=red", "unknown key 'colour'"),
            ("host", "'host' is not KEY=VALUE"),
            ("gpu=first", "not a GPU index"),
            ("since=yesterday", "not a date"),
        ] {
            let e = Selection::default().narrow(keys).unwrap_err().to_string();
            assert!(e.contains(why), "{keys}: {e}");
        }
        let e = Selection::default().narrow("x=1").unwrap_err().to_string();
        assert!(e.contains("store:x=1") && e.contains(KEYS), "{e}");
    }

    #[test]
    fn latest_keeps_each_units_last_run_in_time_order() {
        let rows = vec![
            row(1, "a", 10),
            row(2, "b", 20),
            row(3, "a", 30),
            row(4, "c", 5),
        ];
        let keys: Vec<i64> = latest_per_unit(rows).iter().map(|r| r.key).collect();
        assert_eq!(keys, [2, 3, 4]);
    }
}
