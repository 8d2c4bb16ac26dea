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
use crate::fsio::{self, Found};
use crate::merge::GroupKey;
use crate::results::{self, ResultFile};
use crate::validate::{self, LoadPolicy, PeakLookup};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Condvar, Mutex};

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
    /// Whether ingest was stopped before every file was read: what was read is stored (and
    /// counted above), the rest is not, and the same ingest again stores the rest.
    pub interrupted: bool,
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

/// Stores every result file of `inputs` that passes its checks: an input that is a directory
/// is walked for its `*.json` files ([`fsio::walk_json_each`]), any other input is read as a
/// file. Refused files are listed with the reason (the store's refusals by path, then the
/// walk's skipped entries in walk order), and files already stored are counted, not added
/// again. `progress` is told the running totals after every batch. Once `stop` is set the
/// writer stores the runs it has taken, commits and stops, and the report says it was
/// interrupted (a file is never half stored: each batch is one transaction).
///
/// Memory does not grow with the number of files: one thread walks the inputs and hands each
/// path to the workers as it is found (no list of paths is built), and the prepared runs
/// waiting for the writer are bounded by bytes as well as by count (see [`InFlight`]), as is
/// the writer's batch ([`BATCH_BYTES`]).
pub fn ingest(
    db: &mut dyn Database,
    inputs: &[PathBuf],
    peaks: &(dyn PeakLookup + Sync),
    options: IngestOptions,
    progress: &mut dyn FnMut(&IngestReport),
    stop: &AtomicBool,
) -> Result<IngestReport> {
    let mut report = IngestReport {
        store: db.location().to_string(),
        ..IngestReport::default()
    };
    let workers = options.workers.max(1);
    let found = AtomicUsize::new(0);
    let in_flight = InFlight::new(IN_FLIGHT_BYTES);
    let (path_sender, path_receiver) = mpsc::sync_channel::<PathBuf>(workers * 4);
    // Shared by the workers alone, so the walker stops when they all have.
    let path_receiver = Arc::new(Mutex::new(path_receiver));
    let (sender, receiver) = mpsc::sync_channel::<Prepared>(options.batch.max(1) * 2);
    let skipped = std::thread::scope(|scope| {
        let found_ref = &found;
        let walker = scope.spawn(move || walk_inputs(inputs, &path_sender, found_ref));
        for _ in 0..workers {
            let (sender, paths, in_flight) = (sender.clone(), path_receiver.clone(), &in_flight);
            scope.spawn(move || prepare_each(&paths, peaks, in_flight, &sender));
        }
        drop((sender, path_receiver));
        let close = in_flight.closer();
        let written = write_all(
            db,
            receiver,
            &in_flight,
            (options, stop),
            &found,
            &mut report,
            progress,
        );
        drop(close);
        let (skipped, walked) = walker.join().unwrap_or_else(|_| {
            let stopped = "the walk of the inputs stopped unexpectedly";
            (Vec::new(), Err(Error::Config(stopped.into())))
        });
        written?;
        match walked {
            // The writer stopped taking paths because it was told to stop.
            Err(_) if report.interrupted => Ok(skipped),
            walked => walked.map(|()| skipped),
        }
    })?;
    report.refused.sort_by(|a, b| a.path.cmp(&b.path));
    report.superseded.sort_by(|a, b| a.path.cmp(&b.path));
    // Every file the writer took has one outcome; those handed out but not taken (after a
    // stop) were not read for the store.
    let taken =
        report.added + report.already_stored + report.superseded.len() + report.refused.len();
    report.files = taken + skipped.len();
    report.refused.extend(skipped);
    Ok(report)
}

/// The documents of the runs a batch holds at most (it is committed at `--batch` runs or this
/// many bytes, whichever comes first), so a batch of unusually long runs stays small.
pub const BATCH_BYTES: usize = 8 << 20;

/// The documents of prepared runs waiting for the writer at most: enough to keep the writer
/// busy while workers read on, and no more however many files there are.
const IN_FLIGHT_BYTES: usize = 16 << 20;

/// A path's prepared run, or why it was refused.
type Prepared = (PathBuf, Result<PreparedRun>);

/// Hands every file of `inputs` to the workers in walk order, counting them in `found`;
/// returns the walk's skipped entries as refusals (those it reached, when it was stopped).
fn walk_inputs(
    inputs: &[PathBuf],
    paths: &mpsc::SyncSender<PathBuf>,
    found: &AtomicUsize,
) -> (Vec<Refusal>, Result<()>) {
    let mut skipped = Vec::new();
    let walked = walk_into(inputs, paths, found, &mut skipped);
    (skipped, walked)
}

/// [`walk_inputs`], its skipped entries pushed onto `skipped`.
fn walk_into(
    inputs: &[PathBuf],
    paths: &mpsc::SyncSender<PathBuf>,
    found: &AtomicUsize,
    skipped: &mut Vec<Refusal>,
) -> Result<()> {
    // Only a writer that failed or was told to stop stops taking paths; a failure's error is
    // the one reported.
    let send = |path: PathBuf| {
        found.fetch_add(1, Ordering::Relaxed);
        paths
            .send(path)
            .map_err(|_| Error::Config("ingest stopped before every file was read".into()))
    };
    for input in inputs {
        let walked = if input.is_dir() {
            fsio::walk_json_each(input, &mut |item| match item {
                Found::File(path) => send(path),
                Found::Skipped(path, reason) => {
                    skipped.push(Refusal { path, reason });
                    Ok(())
                }
            })
        } else {
            send(input.clone())
        };
        walked?;
    }
    Ok(())
}

/// A worker: prepares paths until there are none, or nobody takes the runs any more.
fn prepare_each(
    paths: &Mutex<mpsc::Receiver<PathBuf>>,
    peaks: &(dyn PeakLookup + Sync),
    in_flight: &InFlight,
    sender: &mpsc::SyncSender<Prepared>,
) {
    loop {
        let next = match paths.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(path) = next else { return };
        let prepared = prepare(&path, peaks);
        let bytes = prepared.as_ref().map_or(0, |run| run.document.len());
        if !in_flight.acquire(bytes) || sender.send((path, prepared)).is_err() {
            return;
        }
    }
}

/// The writer: stores prepared runs in batches of at most `options.batch` runs and
/// [`BATCH_BYTES`] bytes of documents, and lists the refused files; once `stop` is set it
/// stores the batch in hand and stops taking runs (dropping the receiver stops the workers and
/// the walk).
fn write_all(
    db: &mut dyn Database,
    receiver: mpsc::Receiver<Prepared>,
    in_flight: &InFlight,
    (options, stop): (IngestOptions, &AtomicBool),
    found: &AtomicUsize,
    report: &mut IngestReport,
    progress: &mut dyn FnMut(&IngestReport),
) -> Result<()> {
    let batch_size = options.batch.max(1);
    let mut batch = Vec::with_capacity(batch_size);
    let mut batch_bytes = 0;
    for (path, prepared) in receiver {
        if stop.load(Ordering::SeqCst) {
            report.interrupted = true;
            break;
        }
        match prepared {
            Ok(run) => {
                in_flight.release(run.document.len());
                batch_bytes += run.document.len();
                batch.push(run);
            }
            Err(e) => report.refused.push(refusal(&path, &e)),
        }
        if batch.len() >= batch_size || batch_bytes >= BATCH_BYTES {
            store_batch(db, &mut batch, report)?;
            batch_bytes = 0;
            report.files = found.load(Ordering::Relaxed);
            progress(report);
        }
    }
    store_batch(db, &mut batch, report)?;
    report.files = found.load(Ordering::Relaxed);
    progress(report);
    Ok(())
}

/// The bytes of prepared runs between the workers and the writer: a worker waits before
/// handing on a run that would take them over the limit (one run alone always passes, so a
/// file near the size limit cannot stall ingest), and the writer gives them back as it takes
/// each run.
struct InFlight {
    limit: usize,
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl InFlight {
    fn new(limit: usize) -> Self {
        InFlight {
            limit,
            state: Mutex::new((0, false)),
            changed: Condvar::new(),
        }
    }

    /// Waits until `bytes` fit; false once the writer has stopped.
    fn acquire(&self, bytes: usize) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        while !state.1 && state.0 > 0 && state.0 + bytes > self.limit {
            state = match self.changed.wait(state) {
                Ok(s) => s,
                Err(_) => return false,
            };
        }
        state.0 += bytes;
        !state.1
    }

    fn release(&self, bytes: usize) {
        if let Ok(mut state) = self.state.lock() {
            state.0 = state.0.saturating_sub(bytes);
            self.changed.notify_all();
        }
    }

    /// Wakes and stops every waiting worker when dropped (the writer is done, or failed).
    fn closer(&self) -> impl Drop + '_ {
        struct Close<'a>(&'a InFlight);
        impl Drop for Close<'_> {
            fn drop(&mut self) {
                if let Ok(mut state) = self.0.state.lock() {
                    state.1 = true;
                }
                self.0.changed.notify_all();
            }
        }
        Close(self)
    }
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
        &AtomicBool::new(false),
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

    #[test]
    fn runs_in_flight_wait_for_room_one_always_passes_and_closing_frees_every_waiter() {
        let in_flight = InFlight::new(100);
        assert!(in_flight.acquire(150), "one run alone passes");
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| in_flight.acquire(10));
            std::thread::sleep(std::time::Duration::from_millis(20));
            assert!(!waiter.is_finished(), "over the limit: waits");
            in_flight.release(150);
            assert!(waiter.join().unwrap(), "room made: passes");
        });
        assert!(in_flight.acquire(90));
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| in_flight.acquire(50));
            drop(in_flight.closer());
            assert!(!waiter.join().unwrap(), "the writer stopped: refused");
        });
        assert!(!in_flight.acquire(1));
    }
}
