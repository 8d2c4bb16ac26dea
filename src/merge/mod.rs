//! Merging result files from a fleet: many units (one result file each, usually one GPU of one
//! node) are grouped by device model, driver and backend, and each case's spread across the
//! units is summarised from per-unit statistics; units that fall well below their siblings are
//! named. Parsed files in, a [`MergeReport`] out (no I/O but its own temporary files);
//! [`Merger`] takes them one at a time so a fleet's files need not be held in memory together. The report is the one model of
//! `fleetbench merge`: `--format json` prints it and `-o` writes it, so both have one shape
//! (`docs/schemas/merge-report.schema.json`); the text, CSV and Markdown tables are laid out
//! from it by [`Tabular`].
//!
//! Every group figure comes from what each unit contributes per case — its median throughput,
//! the upper end of that median's 95% interval and its sample count — never from the pooled
//! samples: the group's centre is the median of the unit medians (with the distribution-free
//! interval of that median over units), each unit's standing is its median over the centre,
//! and the outlier test compares each unit's interval with the centre. So memory grows with the
//! units, not with their samples; the pooled samples are gathered only when asked for (`merge
//! --samples`). A unit, not a sample, is what the fleet question is about: a unit with more
//! samples must not weigh more in the group's centre.
//!
//! **Memory flat in the number of units.** Nothing is kept per unit in memory but 16 bytes
//! for the duplicate check; everything else a unit contributes goes to temporary files (see
//! `spill`) in a private directory under `TMPDIR`, removed when the merge and its report are
//! dropped, on success and on error:
//! - each merged unit's names (host, device index, run id, file: the report lists every unit)
//!   and, per case, 32 bytes of statistics (median, upper end of its interval, sample count,
//!   unit and case) are appended as each file is read;
//! - each case's centre is the *exact* median of the unit medians, and its quartiles and
//!   interval are exact order statistics too: they are selected from the statistics file by
//!   radix selection (`select`: each wanted rank narrows, pass by pass, the range of bit
//!   patterns it lies in from a 256-bin histogram, until its range is small enough to collect
//!   and sort, or holds one value), in passes whose memory is bounded whatever the number of
//!   units; a case whose units all have the same median needs no pass. An external sort would
//!   give the same numbers, but would write the statistics a second time;
//! - one more pass scores every unit (its cases' records follow each other in the file) and
//!   writes the scores to a third file; only the outliers and the few units the tables name
//!   (each case's slowest and fastest) are kept, and one pass over the units' names counts how
//!   many units bear each of their labels;
//! - the report's `units` and `scores` of each group are sequences read back from those files
//!   as they are serialised (`--format json` and `-o` stream them), and the text, CSV and
//!   Markdown tables show only the cases and the outliers. Units keep the order they were
//!   merged in, so no sort is needed and the report is byte for byte the one a merge held in
//!   memory gave.
//!
//! Duplicate runs are found through a 32-bit hash of each run's identity mapped to where its
//! unit's record starts in the units file (8 bytes per merged file, about 1.2 MB in the table
//! at 100,000); a hit is confirmed by reading that record back, so a hash shared by two
//! identities cannot drop a file. The pooled samples of `merge --samples` are still gathered in memory: asking for
//! every sample of a fleet asks for memory that grows with it. Floats stay `f64`, stored as
//! their bits, so every figure is the one computed in memory.

use crate::error::{Error, Result};
use crate::output::{Section, Table, Tabular};
use crate::results::{Case, ResultFile};
use crate::stats::{Interval, Sample};
use finish::{Column, Scored};
use rows::{read_unit, write_unit, write_unit_case, UnitCase, UnitPlace};
pub use rows::{ScoreRows, UnitRows};
use schemars::JsonSchema;
use serde::Serialize;
use spill::{SpillDir, SpillFile, SpillWriter};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod finish;
mod rows;
mod select;
mod spill;

/// Outliers are only named in groups with at least this many units: with two, "below the
/// median" cannot say which of the pair is the odd one.
pub const MIN_UNITS_FOR_OUTLIERS: usize = 3;

/// The default outlier threshold: 10% below the group's centre.
pub const DEFAULT_THRESHOLD: f64 = 0.10;

/// What makes units comparable: the same device model, driver and backend.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
pub struct GroupKey {
    /// Adapter name, e.g. "NVIDIA H200".
    pub device: String,
    /// Driver name and version string.
    pub driver: String,
    /// Backend: vulkan, metal, dx12, gl.
    pub backend: String,
}

impl GroupKey {
    /// The key of the adapter that produced `file`.
    pub fn of(file: &ResultFile) -> Self {
        let adapter = &file.machine.adapter;
        let driver = match adapter.driver_info.trim() {
            "" => adapter.driver.clone(),
            info => format!("{} {info}", adapter.driver),
        };
        GroupKey {
            device: adapter.name.clone(),
            driver,
            backend: adapter.backend.clone(),
        }
    }

    /// One line for tables.
    pub fn label(&self) -> String {
        format!("{} | {} | {}", self.device, self.driver, self.backend)
    }
}

/// What makes two result files the same run: the same host, adapter index and run id. Two
/// such files (a copy, or a file saved again part-way) hold one run's samples, so merging or
/// pooling both would count one run twice.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RunIdentity {
    /// Host name recorded in the file.
    pub host: String,
    /// Adapter index on that host.
    pub device_index: usize,
    /// Run id recorded in the file.
    pub run_id: String,
}

impl RunIdentity {
    /// The identity of the run that wrote `file`.
    pub fn of(file: &ResultFile) -> Self {
        RunIdentity {
            host: file.machine.hostname.clone(),
            device_index: file.machine.adapter.index,
            run_id: file.run.run_id.clone(),
        }
    }

    /// Why a file is left out as a duplicate of `first`.
    pub fn duplicate_reason(first: &Path) -> String {
        format!(
            "duplicate of {} (same host, device and run id)",
            first.display()
        )
    }
}

/// One measured unit: one result file, i.e. one device of one host in one run.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Unit {
    /// Host name recorded in the file.
    pub host: String,
    /// Adapter index on that host.
    pub device_index: usize,
    /// Run id recorded in the file.
    pub run_id: String,
    /// The file it came from.
    pub path: PathBuf,
}

impl Unit {
    fn of(path: &Path, file: &ResultFile) -> Self {
        Unit {
            host: file.machine.hostname.clone(),
            device_index: file.machine.adapter.index,
            run_id: file.run.run_id.clone(),
            path: path.to_path_buf(),
        }
    }

    /// `host:gpuN`, the name an operator looks for.
    pub fn label(&self) -> String {
        format!("{}:gpu{}", self.host, self.device_index)
    }
}

/// A file that was read but left out of the merge, and why.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Skipped {
    /// The file.
    pub path: PathBuf,
    /// Why it was left out, in one line.
    pub reason: String,
}

/// The spread of one case across the units of a group, from each unit's statistics.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct CaseSpread {
    /// Case id (`<kernel>/<workload>`).
    pub case_id: String,
    /// Throughput unit, e.g. "GFLOP/s".
    pub unit: String,
    /// Units that passed this case.
    pub units: usize,
    /// Samples behind the case, summed over its units.
    pub samples: usize,
    /// The group's centre: the median across units of each unit's median throughput, with the
    /// distribution-free 95% interval of that median from the order statistics of the unit
    /// medians (their whole range below 6 units). Every unit counts once, however many
    /// samples it took.
    pub centre: Interval,
    /// The pooled per-sample throughputs of every unit, for calibration downstream; present
    /// only when asked for (`merge --samples`), as they are most of a large fleet's report and
    /// of the merge's memory.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pooled_samples: Option<Vec<f64>>,
    /// First quartile of the unit medians.
    pub q1: f64,
    /// Third quartile of the unit medians.
    pub q3: f64,
    /// Interquartile range of the unit medians.
    pub iqr: f64,
    /// The slowest unit and its median.
    pub slowest: UnitMedian,
    /// The fastest unit and its median.
    pub fastest: UnitMedian,
}

/// One unit's median throughput of a case.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct UnitMedian {
    /// Index into the group's units.
    pub unit: usize,
    /// The unit's median throughput, in the case's unit.
    pub median: f64,
}

/// How one unit compares with its group.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct UnitScore {
    /// Index into the group's units.
    pub unit: usize,
    /// The unit's standing, its % of the group: the median over its cases of (unit median /
    /// the group's centre).
    pub relative: f64,
    /// Cases the unit passed.
    pub cases: usize,
    /// Cases whose whole 95% interval (of the unit's median) lies below the group's centre.
    pub significantly_below: usize,
    /// Whether the unit is named as an outlier.
    pub outlier: bool,
}

/// Everything merged for one device model, driver and backend.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct GroupReport {
    /// The group.
    pub key: GroupKey,
    /// Its units, in input order.
    // Read back from the merge's temporary files as they are printed, never held together.
    #[schemars(with = "Vec<Unit>")]
    pub units: UnitRows,
    /// Spread per case, ordered by case id.
    pub cases: Vec<CaseSpread>,
    /// One score per unit.
    // Likewise read back from the temporary files as printed.
    #[schemars(with = "Vec<UnitScore>")]
    pub scores: ScoreRows,
    /// Why outliers were not judged, when they were not.
    pub note: Option<String>,
    /// The outlier units with their scores, in input order: what the tables and the summary
    /// name (the JSON report has them in `units` and `scores`).
    #[serde(skip)]
    pub outliers: Vec<(Unit, UnitScore)>,
    /// Display names (see [`unit_names`]) of the units the tables name: each case's slowest
    /// and fastest unit and the outliers, by index into the group's units.
    #[serde(skip)]
    pub names: BTreeMap<usize, String>,
}

impl GroupReport {
    /// The display name of unit `index`, if the tables name it.
    pub fn name(&self, index: usize) -> &str {
        self.names.get(&index).map_or("?", String::as_str)
    }
}

/// The merge of a set of result files.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MergeReport {
    /// The outlier threshold used, as a fraction (0.10 = 10% below the group's centre).
    pub threshold: f64,
    /// One report per group, ordered by key.
    pub groups: Vec<GroupReport>,
    /// Files left out, with the reason.
    pub skipped: Vec<Skipped>,
    /// True when merged files are simulated (`run --simulate`, admitted beside real ones only
    /// with `--allow-simulated`): a test instrument, never a measurement.
    pub simulated: bool,
}

impl MergeReport {
    /// Every outlier unit with its group and score.
    pub fn outliers(&self) -> Vec<(&GroupReport, &Unit, &UnitScore)> {
        self.groups
            .iter()
            .flat_map(|g| g.outliers.iter().map(move |(u, s)| (g, u, s)))
            .collect()
    }

    /// How many units were merged, over all groups.
    pub fn merged_units(&self) -> usize {
        self.groups.iter().map(|g| g.units.len()).sum()
    }
}

/// Checks that an outlier threshold is a fraction strictly between 0 and 1.
pub fn check_threshold(threshold: f64) -> Result<()> {
    if threshold.is_finite() && threshold > 0.0 && threshold < 1.0 {
        Ok(())
    } else {
        Err(Error::Config(format!(
            "outlier threshold {threshold}: expected a fraction between 0 and 1 (exclusive)"
        )))
    }
}

/// Merges parsed files, keeping the pooled samples in the report. Files already skipped while
/// loading are passed in so the report lists every file that is not in it; duplicates and files
/// without a passed case are added there.
pub fn merge(
    files: Vec<(PathBuf, ResultFile)>,
    skipped: Vec<Skipped>,
    threshold: f64,
) -> Result<MergeReport> {
    let mut merger = Merger::new(threshold, true)?;
    for skip in skipped {
        merger.skip(skip);
    }
    for (path, file) in files {
        merger.add(path, &file)?;
    }
    merger.finish()
}

/// A merge fed one file at a time: each file is reduced at once to its unit and, per case, the
/// unit's statistics, which are appended to temporary files (see the module doc) rather than
/// kept; the samples are pooled in memory only when asked for (`keep_samples`, `merge
/// --samples`).
pub struct Merger {
    threshold: f64,
    keep_samples: bool,
    /// The groups in the order first seen (sorted by key at the end), and where each key is.
    groups: Vec<GroupMembers>,
    group_at: HashMap<GroupKey, usize>,
    /// Every group's cases, as columns of unit statistics (indexed by the `stats` records).
    columns: Vec<Column>,
    /// Where each merged run's unit record starts in the `units` file (in units of
    /// [`rows::UNIT_ALIGN`] bytes), by a 32-bit hash of its identity: 8 bytes per merged file
    /// in the table. A hit is confirmed by reading the record back (the identity is its host,
    /// device index and run id), so a hash shared by two identities (about one pair among
    /// 100,000 units) only costs a read; such later identities go to `collided`.
    seen: HashMap<u32, u32>,
    collided: Vec<(u32, u32)>,
    hasher: std::collections::hash_map::RandomState,
    spill: Arc<SpillDir>,
    units_out: SpillWriter,
    stats_out: SpillWriter,
    /// Files skipped before the merge (unreadable, refused by the loader), in the order given.
    skipped: Vec<Skipped>,
    /// Files the merge itself leaves out (duplicates, no passed case), listed after those.
    left_out: Vec<Skipped>,
    /// The simulated files given to [`Merger::add`] (`run --simulate`), and the first real
    /// one: what the refusal of a mix names.
    simulated: Vec<PathBuf>,
    first_real: Option<PathBuf>,
}

/// What the merge keeps of a group in memory: its key, how many units it has, and its cases'
/// columns by case key.
struct GroupMembers {
    key: GroupKey,
    units: u32,
    by_case: BTreeMap<(String, String), usize>,
}

impl Merger {
    /// An empty merge at `threshold`; `keep_samples` puts the pooled samples into the report.
    /// Its temporary files go to a new private directory under `TMPDIR`, removed when the
    /// merge (or the report made from it) is dropped.
    pub fn new(threshold: f64, keep_samples: bool) -> Result<Self> {
        check_threshold(threshold)?;
        let spill = SpillDir::new()?;
        let units_out = spill.create(SpillFile::Units)?;
        let stats_out = spill.create(SpillFile::Stats)?;
        Ok(Merger {
            threshold,
            keep_samples,
            groups: Vec::new(),
            group_at: HashMap::new(),
            columns: Vec::new(),
            seen: HashMap::new(),
            collided: Vec::new(),
            hasher: std::collections::hash_map::RandomState::new(),
            spill: Arc::new(spill),
            units_out,
            stats_out,
            skipped: Vec::new(),
            left_out: Vec::new(),
            simulated: Vec::new(),
            first_real: None,
        })
    }

    /// Makes room for `files` more runs in the duplicate check at once, so it does not grow
    /// (and briefly hold two tables) as they come.
    pub fn expect(&mut self, files: usize) {
        self.seen.reserve(files);
    }

    /// Lists a file that was not merged (e.g. refused while loading).
    pub fn skip(&mut self, skipped: Skipped) {
        self.skipped.push(skipped);
    }

    /// Reduces one parsed file into the merge; the caller may drop the file afterwards. A
    /// duplicate run or a file without a passed case is listed as left out; a passed case
    /// without its samples is an error naming the file.
    pub fn add(&mut self, path: PathBuf, file: &ResultFile) -> Result<()> {
        if file.machine.simulated {
            self.simulated.push(path.clone());
        } else if self.first_real.is_none() {
            self.first_real = Some(path.clone());
        }
        let identity = RunIdentity::of(file);
        let wide = self.hasher.hash_one(&identity);
        let hash = (wide ^ (wide >> 32)) as u32;
        if let Some(first) = self.merged_unit(hash, &identity)? {
            let reason = RunIdentity::duplicate_reason(&first);
            self.left_out.push(Skipped { reason, path });
            return Ok(());
        }
        if !file.cases.iter().any(|c| c.throughput_samples().is_some()) {
            self.left_out.push(Skipped {
                path,
                reason: "no passed case with timings".to_string(),
            });
            return Ok(());
        }
        let measured = unit_cases(&path, file)?;
        let unit = Unit::of(&path, file);
        let group = self.group_of(GroupKey::of(file));
        let place = UnitPlace {
            group: group as u32,
            index: self.groups[group].units,
            cases: u32::try_from(measured.len()).unwrap_or(u32::MAX),
        };
        self.groups[group].units += 1;
        let offset = self.unit_slot()?;
        write_unit(&mut self.units_out, place, &unit)?;
        if let Some(earlier) = self.seen.insert(hash, offset) {
            self.collided.push((hash, earlier));
        }
        for (key, rate_unit, stats, samples) in measured {
            self.add_case(place, key, rate_unit, stats, samples)?;
        }
        Ok(())
    }

    /// Where the next unit record starts, in units of [`rows::UNIT_ALIGN`] bytes.
    fn unit_slot(&self) -> Result<u32> {
        u32::try_from(self.units_out.offset() / rows::UNIT_ALIGN)
            .map_err(|_| Error::Config("more than 32 GiB of unit names in one merge".to_string()))
    }

    /// The index of the group with `key`, made if new.
    fn group_of(&mut self, key: GroupKey) -> usize {
        if let Some(&at) = self.group_at.get(&key) {
            return at;
        }
        self.group_at.insert(key.clone(), self.groups.len());
        self.groups.push(GroupMembers {
            key,
            units: 0,
            by_case: BTreeMap::new(),
        });
        self.groups.len() - 1
    }

    /// Counts one unit's statistics of one case into its column and appends them to the spill.
    fn add_case(
        &mut self,
        place: UnitPlace,
        key: (String, String),
        rate_unit: String,
        mut stats: UnitCase,
        samples: Vec<f64>,
    ) -> Result<()> {
        let group = place.group as usize;
        let id = key.0.clone();
        let next = self.columns.len();
        let column = *self.groups[group].by_case.entry(key).or_insert(next);
        if column == next {
            self.columns.push(Column::new(group, id));
        }
        stats.column = u32::try_from(column).unwrap_or(u32::MAX);
        stats.unit = place.index;
        let members = &mut self.columns[column];
        members.rate_unit = rate_unit;
        members.add(&stats);
        if self.keep_samples {
            members.pool.extend(samples);
        }
        write_unit_case(&mut self.stats_out, &stats)
    }

    /// The file of the unit already merged with this identity (whose hash is `hash`), if any.
    fn merged_unit(&mut self, hash: u32, identity: &RunIdentity) -> Result<Option<PathBuf>> {
        let collided = self.collided.iter().filter(|(h, _)| *h == hash);
        let slots: Vec<u32> = self
            .seen
            .get(&hash)
            .into_iter()
            .chain(collided.map(|(_, at)| at))
            .copied()
            .collect();
        if slots.is_empty() {
            return Ok(None);
        }
        self.units_out.flush()?;
        for slot in slots {
            let offset = u64::from(slot) * rows::UNIT_ALIGN;
            let mut input = self.spill.open(SpillFile::Units, offset)?;
            if let Some((_, u)) = read_unit(&mut input)? {
                if u.host == identity.host
                    && u.device_index == identity.device_index
                    && u.run_id == identity.run_id
                {
                    return Ok(Some(u.path));
                }
            }
        }
        Ok(None)
    }

    /// The report of every file added: the passes over the temporary files that select each
    /// case's order statistics, score the units and name the ones the tables show.
    pub fn finish(mut self) -> Result<MergeReport> {
        self.units_out.flush()?;
        self.stats_out.flush()?;
        self.seen = HashMap::new();
        let mut spreads = finish::spreads(&self.spill, &mut self.columns)?;
        if self.keep_samples {
            for (spread, column) in spreads.iter_mut().zip(&mut self.columns) {
                spread.pooled_samples = Some(std::mem::take(&mut column.pool));
            }
        }
        let group_units: Vec<u32> = self.groups.iter().map(|g| g.units).collect();
        let wanted: HashSet<(u32, u32)> = self
            .columns
            .iter()
            .zip(&spreads)
            .flat_map(|(c, s)| [(c.group, s.slowest.unit), (c.group, s.fastest.unit)])
            .map(|(g, u)| (g as u32, u as u32))
            .collect();
        let scored =
            finish::score_units(&self.spill, &spreads, &group_units, self.threshold, &wanted)?;
        let groups = self.group_reports(spreads, scored)?;
        let mut skipped = self.skipped;
        skipped.extend(self.left_out);
        Ok(MergeReport {
            threshold: self.threshold,
            groups,
            skipped,
            simulated: !self.simulated.is_empty(),
        })
    }

    /// The groups' reports, ordered by key, with the names the tables need.
    fn group_reports(&self, spreads: Vec<CaseSpread>, scored: Scored) -> Result<Vec<GroupReport>> {
        let named = scored.named.iter().map(|(&(g, i), u)| (g, i, u));
        let outliers = scored
            .outliers
            .iter()
            .enumerate()
            .flat_map(|(g, list)| list.iter().map(move |(u, s)| (g as u32, s.unit as u32, u)));
        let names = finish::names(&self.spill, named.chain(outliers))?;
        let mut group_names = vec![BTreeMap::new(); self.groups.len()];
        for ((group, index), name) in names {
            group_names[group as usize].insert(index as usize, name);
        }
        let mut spreads: Vec<Option<CaseSpread>> = spreads.into_iter().map(Some).collect();
        let mut reports: Vec<GroupReport> = self
            .groups
            .iter()
            .zip(scored.outliers)
            .enumerate()
            .map(|(g, (members, outliers))| {
                let cases = members
                    .by_case
                    .values()
                    .filter_map(|&c| spreads[c].take())
                    .collect();
                let names = std::mem::take(&mut group_names[g]);
                self.group_report(g, cases, outliers, names)
            })
            .collect();
        reports.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(reports)
    }

    fn group_report(
        &self,
        g: usize,
        cases: Vec<CaseSpread>,
        outliers: Vec<(Unit, UnitScore)>,
        names: BTreeMap<usize, String>,
    ) -> GroupReport {
        let members = &self.groups[g];
        let len = members.units as usize;
        let note = (len < MIN_UNITS_FOR_OUTLIERS).then(|| {
            format!("{len} unit(s): at least {MIN_UNITS_FOR_OUTLIERS} are needed to name outliers")
        });
        GroupReport {
            key: members.key.clone(),
            units: UnitRows {
                spill: Arc::clone(&self.spill),
                group: g as u32,
                len,
            },
            cases,
            scores: ScoreRows {
                spill: Arc::clone(&self.spill),
                group: g as u32,
                len,
            },
            note,
            outliers,
            names,
        }
    }

    /// Refuses simulated files beside real ones unless `allow` (`--allow-simulated`); whether
    /// any file added so far was simulated.
    pub fn check_simulated(&self, allow: bool) -> Result<bool> {
        let simulated = self.simulated.iter().map(|p| (p.as_path(), true));
        let real = self.first_real.iter().map(|p| (p.as_path(), false));
        crate::results::simulated_inputs(simulated.chain(real), allow)
    }
}

/// Cases are the same workload only if the kernel source and its configuration match too.
fn case_key(case: &Case) -> (String, String) {
    (case.id.clone(), case.kernel.source_hash.clone())
}

/// One case of a file as the merge takes it: key, rate unit, the unit's statistics, and its
/// samples (pooled only with `merge --samples`).
type MeasuredCase = ((String, String), String, UnitCase, Vec<f64>);

/// Every passed case of one file with its throughput samples summarised.
fn unit_cases(path: &Path, file: &ResultFile) -> Result<Vec<MeasuredCase>> {
    let mut measured = Vec::new();
    for case in &file.cases {
        let Some((rate_unit, samples)) = case.throughput_samples() else {
            if case.passed_throughput().is_some() {
                return Err(Error::invalid(
                    path,
                    format!(
                        "case {}: passed, but its headline samples are missing",
                        case.id
                    ),
                ));
            }
            continue;
        };
        let summary = Sample::new(&samples)
            .map_err(|e| Error::invalid(path, format!("case {}: {e}", case.id)))?
            .summary();
        let stats = UnitCase {
            column: 0,
            unit: 0,
            median: summary.median.value,
            high: summary.median.high,
            samples: u32::try_from(summary.n).unwrap_or(u32::MAX),
        };
        measured.push((
            case_key(case),
            rate_unit.label().to_string(),
            stats,
            samples,
        ));
    }
    Ok(measured)
}

/// Display names of a group's units: `host:gpuN`, with the run id added where several units
/// share it (a job array on one node, or pods that each see their GPU as adapter 0).
pub fn unit_names(units: &[Unit]) -> Vec<String> {
    let mut counts: HashMap<String, usize> = HashMap::new();
    for u in units {
        *counts.entry(u.label()).or_default() += 1;
    }
    units
        .iter()
        .map(|u| match counts.get(&u.label()) {
            Some(n) if *n > 1 => format!("{} ({})", u.label(), u.run_id),
            _ => u.label(),
        })
        .collect()
}

impl Tabular for MergeReport {
    /// The spread per group and case, then the outlier units (or a note that there are none).
    fn sections(&self) -> Vec<Section> {
        let mut spread = Section::titled("spread", spread_table(self));
        if self.simulated {
            spread = spread.with_note(crate::results::SIMULATED_LABEL);
        }
        let outliers = outlier_table(self);
        let outliers = if outliers.is_empty() {
            let note = format!(
                "no outlier units ({}% below the group's centre)",
                self.threshold * 100.0
            );
            Section::titled("outliers", outliers).with_note(&note)
        } else {
            Section::titled("outliers", outliers)
        };
        vec![spread, outliers]
    }
}

/// One row per group and case: units and their samples, the group's centre with its interval
/// over units, the spread of the unit medians, and the slowest and fastest unit.
fn spread_table(report: &MergeReport) -> Table {
    let mut t = Table::new(&[
        "group",
        "case",
        "unit",
        "units",
        "samples",
        "centre",
        "95% over units",
        "IQR",
        "slowest",
        "fastest",
    ]);
    for g in &report.groups {
        for c in &g.cases {
            let name = |u: UnitMedian| format!("{} {:.2}", g.name(u.unit), u.median);
            t.push(vec![
                g.key.label(),
                c.case_id.clone(),
                c.unit.clone(),
                c.units.to_string(),
                c.samples.to_string(),
                format!("{:.2}", c.centre.value),
                format!("[{:.2}, {:.2}]", c.centre.low, c.centre.high),
                format!("{:.2}", c.iqr),
                name(c.slowest),
                name(c.fastest),
            ]);
        }
    }
    t
}

/// One row per outlier unit: host, device index, run, how far below its group it is, and the
/// file it came from.
fn outlier_table(report: &MergeReport) -> Table {
    let mut t = Table::new(&[
        "outlier",
        "host",
        "device",
        "run id",
        "group",
        "relative",
        "cases below",
        "file",
    ]);
    for (g, unit, score) in report.outliers() {
        t.push(vec![
            g.name(score.unit).to_string(),
            unit.host.clone(),
            unit.device_index.to_string(),
            unit.run_id.clone(),
            g.key.label(),
            format!("{:.1}%", score.relative * 100.0),
            format!("{}/{}", score.significantly_below, score.cases),
            unit.path.display().to_string(),
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::default_matmul_configs;
    use crate::measure::backend::{Backend, CaseSpec, TimingConfig};
    use crate::measure::fake::FakeBackend;
    use crate::results::RunInfo;
    use crate::workload::{Dtype, Workload};

    /// A result file of a fake `name` at `rate` GFLOP/s on `host`, device `index`.
    fn unit_file(
        name: &str,
        rate: f64,
        host: &str,
        index: usize,
        seed: u64,
    ) -> (PathBuf, ResultFile) {
        let mut backend = FakeBackend::new(name, rate, 0.02, seed);
        let timing = TimingConfig::default();
        let cases = [64, 128]
            .iter()
            .map(|n| CaseSpec {
                workload: Workload::matmul(Dtype::F32, *n, *n, *n),
                kernel: default_matmul_configs()[0].clone(),
                seed,
            })
            .map(|spec| backend.run_case(&spec, &timing))
            .collect();
        let mut machine = crate::measure::machine::describe(backend.adapter().clone(), "test");
        machine.hostname = host.to_string();
        machine.adapter.index = index;
        let mut run = RunInfo::new(format!("run-{seed}"), seed, timing.samples);
        run.complete = true;
        let file = ResultFile {
            cases,
            ..ResultFile::new(machine, run)
        };
        (PathBuf::from(format!("{host}-{index}.json")), file)
    }

    fn fleet(rates: &[f64]) -> Vec<(PathBuf, ResultFile)> {
        rates
            .iter()
            .enumerate()
            .map(|(i, r)| unit_file("gpu-a", *r, &format!("node{}", i / 2), i % 2, i as u64))
            .collect()
    }

    fn json(report: &MergeReport) -> serde_json::Value {
        serde_json::to_value(report).unwrap()
    }

    #[test]
    fn a_large_fleet_gets_the_figures_a_full_sort_gives() {
        // Many units, with ties, so each order statistic is selected from the spill.
        let rates: Vec<f64> = (0..600).map(|i| 80.0 + ((i * 37) % 41) as f64).collect();
        let files = fleet(&rates);
        let mut by_case: BTreeMap<String, Vec<(usize, UnitCase)>> = BTreeMap::new();
        for (i, (path, file)) in files.iter().enumerate() {
            for (key, _, stats, _) in unit_cases(path, file).unwrap() {
                by_case.entry(key.0).or_default().push((i, stats));
            }
        }
        let report = merge(files, vec![], 0.10).unwrap();
        let group = &report.groups[0];
        let scores = group.scores.to_vec().unwrap();
        for case in &group.cases {
            let units = &by_case[&case.case_id];
            let mut medians: Vec<f64> = units.iter().map(|(_, s)| s.median).collect();
            medians.sort_by(f64::total_cmp);
            let q = |p: f64| crate::stats::quantile(&medians, p);
            assert_eq!(case.centre.value, q(0.5));
            assert_eq!((case.q1, case.q3), (q(0.25), q(0.75)));
            let (low, high) = crate::stats::median_ci(&medians, crate::stats::MEDIAN_LEVEL);
            assert_eq!((case.centre.low, case.centre.high), (low, high));
            let by_median =
                |a: &&(usize, UnitCase), b: &&(usize, UnitCase)| a.1.median.total_cmp(&b.1.median);
            let slowest = units.iter().min_by(by_median).unwrap();
            let fastest = units.iter().max_by(by_median).unwrap();
            assert_eq!(case.slowest.unit, slowest.0);
            assert_eq!(case.fastest.unit, fastest.0);
        }
        for (i, score) in scores.iter().enumerate().step_by(97) {
            let mut ratios: Vec<f64> = group
                .cases
                .iter()
                .map(|c| by_case[&c.case_id][i].1.median / c.centre.value)
                .collect();
            ratios.sort_by(f64::total_cmp);
            assert_eq!(
                score.relative,
                crate::stats::median_of_sorted(&ratios),
                "unit {i}"
            );
        }
        assert_eq!(group.units.to_vec().unwrap().len(), 600);
    }

    fn outlier_labels(report: &MergeReport) -> Vec<String> {
        report
            .outliers()
            .iter()
            .map(|(_, u, _)| u.label())
            .collect()
    }

    #[test]
    fn the_slow_unit_is_named_and_the_others_are_not() {
        let report = merge(fleet(&[100.0, 101.0, 70.0, 99.0, 100.5]), vec![], 0.10).unwrap();
        assert_eq!(report.groups.len(), 1);
        assert_eq!(outlier_labels(&report), vec!["node1:gpu0".to_string()]);
        let score = &report.groups[0].scores.to_vec().unwrap()[2];
        assert!((score.relative - 0.7).abs() < 0.05, "{}", score.relative);
    }

    #[test]
    fn a_slowdown_within_the_threshold_is_not_an_outlier() {
        let report = merge(fleet(&[100.0, 101.0, 95.0, 99.0]), vec![], 0.10).unwrap();
        assert!(outlier_labels(&report).is_empty());
        let report = merge(fleet(&[100.0, 101.0, 95.0, 99.0]), vec![], 0.03).unwrap();
        assert_eq!(outlier_labels(&report), vec!["node1:gpu0".to_string()]);
    }

    #[test]
    fn spread_reports_median_iqr_and_extremes_of_unit_medians() {
        let report = merge(fleet(&[100.0, 80.0, 90.0]), vec![], 0.10).unwrap();
        let case = &report.groups[0].cases[0];
        assert_eq!(case.units, 3);
        assert_eq!(case.samples, 30);
        assert_eq!(case.pooled_samples.as_ref().map(Vec::len), Some(30));
        let centre = case.centre.value;
        assert!((centre / 90.0 - 1.0).abs() < 0.03, "{centre}");
        assert!(case.q1 < centre && centre < case.q3);
        // Three units: the interval over units is their whole range.
        assert_eq!(case.centre.low, case.slowest.median);
        assert_eq!(case.centre.high, case.fastest.median);
        assert!((case.iqr - (case.q3 - case.q1)).abs() < 1e-12);
        assert_eq!(case.slowest.unit, 1);
        assert_eq!(case.fastest.unit, 0);
    }

    #[test]
    fn groups_split_by_device_model_and_two_units_are_not_judged() {
        let mut files = fleet(&[100.0, 100.0, 100.0]);
        files.push(unit_file("gpu-b", 10.0, "other", 0, 50));
        files.push(unit_file("gpu-b", 5.0, "other", 1, 51));
        let report = merge(files, vec![], 0.10).unwrap();
        assert_eq!(report.groups.len(), 2);
        let b = &report.groups[1];
        assert_eq!(b.key.device, "gpu-b");
        assert!(b.note.as_deref().unwrap_or("").contains("at least 3"));
        assert!(report.outliers().is_empty());
    }

    #[test]
    fn duplicates_and_files_without_passed_cases_are_listed_as_skipped() {
        let mut files = fleet(&[100.0, 100.0, 100.0]);
        let mut copy = files[0].clone();
        copy.0 = PathBuf::from("copy.json");
        files.push(copy);
        let mut empty = unit_file("gpu-a", 100.0, "node9", 0, 99);
        empty.1.cases.clear();
        files.push(empty);
        // A copy of a unit whose record does not start the units file.
        let mut later = files[2].clone();
        later.0 = PathBuf::from("later-copy.json");
        files.push(later);
        let report = merge(files, vec![], 0.10).unwrap();
        assert_eq!(report.groups[0].units.len(), 3);
        assert_eq!(report.groups[0].units.to_vec().unwrap().len(), 3);
        let reasons: Vec<String> = report.skipped.iter().map(|s| s.reason.clone()).collect();
        assert!(
            reasons[0].starts_with("duplicate of node0-0.json"),
            "{reasons:?}"
        );
        assert_eq!(reasons[1], "no passed case with timings");
        assert!(
            reasons[2].starts_with("duplicate of node1-0.json"),
            "{reasons:?}"
        );
    }

    #[test]
    fn units_sharing_host_and_device_are_told_apart_by_run_id() {
        let files = [
            unit_file("g", 1.0, "a", 0, 1),
            unit_file("g", 1.0, "a", 0, 2),
            unit_file("g", 1.0, "b", 0, 3),
        ];
        let units: Vec<Unit> = files.iter().map(|(p, f)| Unit::of(p, f)).collect();
        assert_eq!(
            unit_names(&units),
            vec!["a:gpu0 (run-1)", "a:gpu0 (run-2)", "b:gpu0"]
        );
    }

    #[test]
    fn a_passed_case_without_its_samples_is_an_error_naming_the_file() {
        let mut files = fleet(&[100.0, 100.0, 100.0]);
        if let Some(t) = files[1].1.cases[0].timing.as_mut() {
            t.gpu_s = None;
        }
        let err = merge(files, vec![], 0.10).unwrap_err().to_string();
        assert!(err.starts_with("node0-1.json: case "), "{err}");
        assert!(err.contains("headline samples are missing"), "{err}");
    }

    #[test]
    fn a_merger_without_samples_reports_the_same_but_the_pooled_samples() {
        let files = fleet(&[100.0, 101.0, 70.0, 99.0]);
        let mut merger = Merger::new(0.10, false).unwrap();
        for (path, file) in &files {
            merger.add(path.clone(), file).unwrap();
        }
        let lean = merger.finish().unwrap();
        let mut full = merge(files, vec![], 0.10).unwrap();
        for case in full.groups.iter_mut().flat_map(|g| g.cases.iter_mut()) {
            assert_eq!(
                case.pooled_samples.take().map(|s| s.len()),
                Some(case.samples)
            );
        }
        assert_eq!(json(&lean), json(&full));
    }

    #[test]
    fn thresholds_outside_zero_to_one_are_refused() {
        for bad in [0.0, 1.0, -0.1, f64::NAN] {
            assert!(merge(vec![], vec![], bad).is_err(), "{bad}");
        }
    }
}
