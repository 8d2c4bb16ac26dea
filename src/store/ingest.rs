//! Ingest: result files into the store, each through the checked loader every command uses,
//! file by file in bounded memory.
//!
//! Worker threads read, hash, parse and check files and hand each prepared run to one writer
//! through a bounded channel; the writer stores them in batches, one transaction per batch.
//! At most a few batches of runs are in memory at once, however many files there are.

use super::{Database, Insertion};
use crate::compare::capability::{file_figures, FileFigure};
use crate::error::{Error, Result};
use crate::merge::GroupKey;
use crate::results::{self, ResultFile};
use crate::validate::{self, LoadPolicy, PeakLookup};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;

/// How ingest runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestOptions {
    /// Runs per transaction.
    pub batch: usize,
    /// Threads that read and check files.
    pub workers: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            batch: 256,
            workers: std::thread::available_parallelism().map_or(2, |n| n.get().min(8)),
        }
    }
}

/// A checked result file ready to store: its identity columns, header, cases and figures.
#[derive(Debug, Clone)]
pub struct PreparedRun {
    /// SHA-256 of the file's bytes, hex.
    pub content_hash: String,
    /// The path it was read from.
    pub source: String,
    /// The run id.
    pub run_id: String,
    /// Host name.
    pub host: String,
    /// GPU index on the host.
    pub gpu_index: i64,
    /// Device model, driver and backend, as `merge` groups them.
    pub group: GroupKey,
    /// When the run started (RFC 3339).
    pub started_at: String,
    /// The same, as Unix seconds.
    pub started_s: i64,
    /// Whether every planned case was attempted.
    pub complete: bool,
    /// The fleetbench version that wrote it.
    pub fleetbench_version: String,
    /// The file without its cases, as JSON.
    pub header: String,
    /// Each case's id and compact JSON, in file order.
    pub cases: Vec<(String, String)>,
    /// Capability figures per metric and workload.
    pub figures: Vec<FileFigure>,
}

/// A file that was not stored, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, schemars::JsonSchema)]
pub struct Refusal {
    /// The file.
    pub path: PathBuf,
    /// Why, in one line.
    pub reason: String,
}

/// What an ingest did.
#[derive(Debug, Clone, Default, PartialEq, Serialize, schemars::JsonSchema)]
pub struct IngestReport {
    /// The store, password hidden.
    pub store: String,
    /// Files read.
    pub files: usize,
    /// Runs stored now.
    pub added: usize,
    /// Files already stored (same bytes): nothing added for them.
    pub already_stored: usize,
    /// Files not stored, with the reason.
    pub refused: Vec<Refusal>,
}

/// Reads, hashes and checks one file; refused under the same rules as every loader.
pub fn prepare(path: &Path, peaks: &dyn PeakLookup) -> Result<PreparedRun> {
    let bytes = results::store::read_limited(path)?;
    let content_hash = hex(&Sha256::digest(&bytes));
    let parsed = results::store::parse(path, &bytes)?;
    drop(bytes);
    let checked = validate::policy::apply_policy(path, parsed, LoadPolicy::Refuse, peaks)?;
    from_file(path, content_hash, checked.file)
}

/// A checked file as a run to store.
pub fn from_file(path: &Path, content_hash: String, mut file: ResultFile) -> Result<PreparedRun> {
    let started_s = file
        .run
        .started_at
        .parse::<jiff::Timestamp>()
        .map_err(|e| {
            Error::invalid(
                path,
                format!(
                    "run.started_at '{}' is not a time: {e}",
                    file.run.started_at
                ),
            )
        })?
        .as_second();
    let figures = file_figures(&file);
    let cases = file
        .cases
        .iter()
        .map(|c| Ok((c.id.clone(), to_json(path, c)?)))
        .collect::<Result<Vec<_>>>()?;
    file.cases = Vec::new();
    Ok(PreparedRun {
        content_hash,
        source: path.display().to_string(),
        run_id: file.run.run_id.clone(),
        host: file.machine.hostname.clone(),
        gpu_index: i64::try_from(file.machine.adapter.index).unwrap_or(i64::MAX),
        group: GroupKey::of(&file),
        started_at: file.run.started_at.clone(),
        started_s,
        complete: file.run.complete,
        fleetbench_version: file.machine.fleetbench_version.clone(),
        header: to_json(path, &file)?,
        cases,
        figures,
    })
}

/// Part of a file as compact JSON, naming the file if that fails.
fn to_json<T: Serialize>(path: &Path, value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| Error::invalid(path, format!("cannot serialize: {e}")))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Stores every file of `paths` that passes its checks; refused files are listed with the
/// reason, and files already stored are counted, not added again. `progress` is told the
/// running totals after every batch.
pub fn ingest(
    db: &mut dyn Database,
    paths: &[PathBuf],
    peaks: &(dyn PeakLookup + Sync),
    options: IngestOptions,
    progress: &mut dyn FnMut(&IngestReport),
) -> Result<IngestReport> {
    let mut report = IngestReport {
        store: db.location().to_string(),
        files: paths.len(),
        ..IngestReport::default()
    };
    let batch_size = options.batch.max(1);
    let next = AtomicUsize::new(0);
    let (sender, receiver) = mpsc::sync_channel::<(usize, Result<PreparedRun>)>(batch_size * 2);
    std::thread::scope(|scope| {
        for _ in 0..options.workers.max(1) {
            let sender = sender.clone();
            let next = &next;
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = paths.get(i) else { break };
                if sender.send((i, prepare(path, peaks))).is_err() {
                    break;
                }
            });
        }
        drop(sender);
        let mut batch = Vec::with_capacity(batch_size);
        for (i, prepared) in receiver {
            match prepared {
                Ok(run) => batch.push(run),
                Err(e) => report.refused.push(refusal(&paths[i], &e)),
            }
            if batch.len() >= batch_size {
                store_batch(db, &mut batch, &mut report)?;
                progress(&report);
            }
        }
        store_batch(db, &mut batch, &mut report)?;
        progress(&report);
        Ok::<(), Error>(())
    })?;
    report.refused.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(report)
}

/// Stores and empties `batch`, counting each outcome.
fn store_batch(
    db: &mut dyn Database,
    batch: &mut Vec<PreparedRun>,
    report: &mut IngestReport,
) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let outcomes = db.insert_batch(batch)?;
    for (run, outcome) in batch.iter().zip(outcomes) {
        match outcome {
            Insertion::Added => report.added += 1,
            Insertion::AlreadyStored => report.already_stored += 1,
            Insertion::Conflict(reason) => report.refused.push(Refusal {
                path: PathBuf::from(&run.source),
                reason,
            }),
        }
    }
    batch.clear();
    Ok(())
}

/// The loader's message without the path it starts with (the refusal names the path).
fn refusal(path: &Path, e: &Error) -> Refusal {
    let message = e.to_string();
    let prefix = format!("{}: ", path.display());
    Refusal {
        path: path.to_path_buf(),
        reason: message
            .strip_prefix(&prefix)
            .unwrap_or(&message)
            .to_string(),
    }
}

/// The order runs are written in within a transaction: by content hash, so concurrent writers
/// of overlapping sets take their row locks in one order and cannot deadlock.
pub(crate) fn write_order(runs: &[PreparedRun]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..runs.len()).collect();
    order.sort_by(|a, b| runs[*a].content_hash.cmp(&runs[*b].content_hash));
    order
}

/// Why a run whose hash is new was not stored: another file of the same run and unit is.
pub(crate) fn conflict_reason(run: &PreparedRun, stored_hash: Option<String>) -> Insertion {
    match stored_hash {
        Some(hash) => Insertion::Conflict(format!(
            "run {} of {} GPU {} is already stored from a different file (sha256 {}…); \
             not replaced",
            run.run_id,
            run.host,
            run.gpu_index,
            &hash[..hash.len().min(12)]
        )),
        // The other file went in and out between our two statements: count it as stored.
        None => Insertion::AlreadyStored,
    }
}

/// Stores one result file at `location` (what `run --store` does once the file is written):
/// the same checks and idempotence as `store ingest`.
pub fn ingest_file(location: &super::Location, path: &Path) -> Result<IngestReport> {
    let peaks = crate::validate::CatalogPeaks::builtin()?;
    let mut db = super::open(location, super::OpenMode::Create)?;
    let options = IngestOptions {
        batch: 1,
        workers: 1,
    };
    ingest(
        db.as_mut(),
        &[path.to_path_buf()],
        &peaks,
        options,
        &mut |_| {},
    )
}
