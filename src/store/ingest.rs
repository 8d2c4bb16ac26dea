//! Ingest: result files into the store, each through the checked loader every command uses,
//! file by file in bounded memory.
//!
//! Worker threads read, hash, parse and check files and hand each prepared run to one writer
//! through a bounded channel; the writer stores them in batches, one transaction per batch.
//! At most a few batches of runs are in memory at once, however many files there are.

use super::{Database, Insertion};
use crate::compare::capability::{file_figures, FileFigure};
use crate::error::{Error, Result};
use crate::fsio::json::{find, Find};
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
    /// The whole file as read, less the whitespace between tokens: every raw sample, in one
    /// text `store export` parses back, at about half a pretty-printed file's bytes and without
    /// serializing the checked file again.
    pub document: String,
    /// How many cases the file has.
    pub case_count: usize,
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
    /// Of those, runs that replaced the partial run of an interrupted run with the same run
    /// id, host and GPU index (its cases and figures went with it).
    pub replaced: usize,
    /// Files already stored (same bytes): nothing added for them.
    pub already_stored: usize,
    /// Partial files whose complete run is already stored: nothing added, with why.
    pub superseded: Vec<Refusal>,
    /// Files not stored, with the reason.
    pub refused: Vec<Refusal>,
}

/// Reads, hashes and checks one file; refused under the same rules as every loader.
pub fn prepare(path: &Path, peaks: &dyn PeakLookup) -> Result<PreparedRun> {
    let bytes = results::store::read_limited(path)?;
    let content_hash = hex(&Sha256::digest(&bytes));
    let parsed = results::store::parse(path, &bytes)?;
    let checked = validate::policy::apply_policy(path, parsed, LoadPolicy::Refuse, peaks)?;
    let document = compact(path, &bytes)?;
    drop(bytes);
    from_file(path, content_hash, document, &checked.file)
}

/// A checked file as a run to store; `document` is its text (see [`PreparedRun::document`]).
pub fn from_file(
    path: &Path,
    content_hash: String,
    document: String,
    file: &ResultFile,
) -> Result<PreparedRun> {
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
    Ok(PreparedRun {
        content_hash,
        source: path.display().to_string(),
        run_id: file.run.run_id.clone(),
        host: file.machine.hostname.clone(),
        gpu_index: i64::try_from(file.machine.adapter.index).unwrap_or(i64::MAX),
        group: GroupKey::of(file),
        started_at: file.run.started_at.clone(),
        started_s,
        complete: file.run.complete,
        fleetbench_version: file.machine.fleetbench_version.clone(),
        document,
        case_count: file.cases.len(),
        figures: file_figures(file),
    })
}

/// JSON text without the whitespace between tokens (the text has already parsed, so its
/// strings are well formed): the same document, from a byte scan that copies whole runs of
/// bytes rather than a serializer.
fn compact(path: &Path, bytes: &[u8]) -> Result<String> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        // Outside a string, every byte below '!' is whitespace in valid JSON.
        let token = find(bytes, i, Find::QuoteOrBelowBang);
        out.extend_from_slice(&bytes[i..token]);
        i = token;
        match bytes.get(i) {
            Some(b'"') => {
                let end = string_end(bytes, i);
                out.extend_from_slice(&bytes[i..end]);
                i = end;
            }
            Some(_) => i += 1 + bytes[i + 1..].iter().take_while(|b| **b < 0x21).count(),
            None => {}
        }
    }
    String::from_utf8(out).map_err(|e| Error::parse(path, format!("not UTF-8 text ({e})")))
}

/// One past the closing quote of the string that opens at `open`.
fn string_end(bytes: &[u8], open: usize) -> usize {
    let mut i = open + 1;
    loop {
        i = find(bytes, i, Find::QuoteOrBackslash);
        match bytes.get(i) {
            Some(b'\\') => i += 2,
            Some(_) => return i + 1,
            None => return bytes.len(),
        }
    }
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
    report.superseded.sort_by(|a, b| a.path.cmp(&b.path));
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
            Insertion::Replaced => {
                report.added += 1;
                report.replaced += 1;
            }
            Insertion::AlreadyStored => report.already_stored += 1,
            Insertion::Superseded(reason) => report.superseded.push(Refusal {
                path: PathBuf::from(&run.source),
                reason,
            }),
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

/// The stored run that holds a new file's identity (run id, host, GPU index).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredRun {
    /// Its row id.
    pub key: i64,
    /// SHA-256 of its file.
    pub content_hash: String,
    /// Whether its run was complete.
    pub complete: bool,
}

/// What becomes of a run whose hash is new but whose identity is taken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Clash {
    /// The stored run is the partial file of an interrupted run and this is its complete
    /// file: delete the stored run (its cases and figures with it), then store this one.
    Replace(i64),
    /// Nothing is stored for this file, for this reason.
    Keep(Insertion),
}

/// Decides a clash: a complete file replaces its run's partial one; a partial file adds
/// nothing beside its complete run; two different files of one state are refused.
pub(crate) fn resolve_clash(run: &PreparedRun, stored: Option<StoredRun>) -> Clash {
    // The other file went in and out between our two statements: count it as stored.
    let Some(stored) = stored else {
        return Clash::Keep(Insertion::AlreadyStored);
    };
    let hash = &stored.content_hash[..stored.content_hash.len().min(12)];
    let unit = format!("run {} of {} GPU {}", run.run_id, run.host, run.gpu_index);
    match (stored.complete, run.complete) {
        (false, true) => Clash::Replace(stored.key),
        (true, false) => Clash::Keep(Insertion::Superseded(format!(
            "{unit} is partial (interrupted) and its complete file is already stored \
             (sha256 {hash}…); nothing added"
        ))),
        _ => Clash::Keep(Insertion::Conflict(format!(
            "{unit} is already stored from a different file (sha256 {hash}…); not replaced"
        ))),
    }
}

/// What to say when a run's identity is taken again right after its partial run was
/// replaced in this transaction (another writer got in between).
pub(crate) fn replaced_meanwhile(run: &PreparedRun) -> Insertion {
    Insertion::Conflict(format!(
        "run {} of {} GPU {} changed in the store while this file was stored; ingest it again",
        run.run_id, run.host, run.gpu_index
    ))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacting_keeps_every_string_byte_and_drops_only_whitespace_between_tokens() {
        let pretty = "{\n  \"a b\": [1, 2.5e-3,\t\"x \\\" y\\\\\"],\r\n  \"c\": {\"d\": null}\n}\n";
        let compacted = compact(Path::new("t.json"), pretty.as_bytes()).unwrap();
        assert_eq!(compacted, r#"{"a b":[1,2.5e-3,"x \" y\\"],"c":{"d":null}}"#);
        let a: serde_json::Value = serde_json::from_str(pretty).unwrap();
        // Every alignment of a quote, backslash and whitespace against the 8-byte words.
        for pad in 0..9 {
            let text = format!(
                "{}[\"{}\\\\\\\"\",  \"é\"\n, 1]",
                " ".repeat(pad),
                "ab".repeat(pad)
            );
            let want = format!("[\"{}\\\\\\\"\",\"é\",1]", "ab".repeat(pad));
            assert_eq!(
                compact(Path::new("t"), text.as_bytes()).unwrap(),
                want,
                "{pad}"
            );
        }
        let b: serde_json::Value = serde_json::from_str(&compacted).unwrap();
        assert_eq!(a, b);
    }
}
