//! Merging result files from a fleet: many units (one result file each, usually one GPU of one
//! node) are grouped by device model, driver and backend, and each case's spread across the
//! units is summarised from per-unit statistics; units that fall well below their siblings are
//! named. Pure: parsed files in, a [`MergeReport`] out; [`Merger`] takes them one at a time so
//! a fleet's files need not be held in memory together. The report is the one model of
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
//! **Memory per unit.** What is kept per unit is what the report needs: its [`Unit`] (host,
//! run id, file: the report lists every unit and its score) and, per case, 24 bytes
//! (`UnitCase`: median, upper end of its interval, unit index, sample count), in lists that
//! grow by blocks rather than by doubling. Duplicate runs are found through a hash of each
//! unit's identity pointing at the unit, not through a second copy of its names. About 0.7 KB
//! per unit of an 18-case run (1.4 KB before), so 350,000 units stay far under 1 GiB. It is not
//! flat in the number of units, and a second pass over the files would not make it so: the
//! centre is the exact median of the unit medians (every unit's median of a case is needed
//! before any unit can be scored), and the report itself names every unit with its score.
//! Floats stay `f64`: a narrower type would change the report.

use crate::error::{Error, Result};
use crate::output::{Section, Table, Tabular};
use crate::results::{Case, ResultFile};
use crate::stats::{median_ci, Interval, Sample, MEDIAN_LEVEL};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::hash::BuildHasher;
use std::path::{Path, PathBuf};

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
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct GroupReport {
    /// The group.
    pub key: GroupKey,
    /// Its units, in input order.
    pub units: Vec<Unit>,
    /// Spread per case, ordered by case id.
    pub cases: Vec<CaseSpread>,
    /// One score per unit.
    pub scores: Vec<UnitScore>,
    /// Why outliers were not judged, when they were not.
    pub note: Option<String>,
}

/// The merge of a set of result files.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
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
            .flat_map(|g| {
                g.scores
                    .iter()
                    .filter(|s| s.outlier)
                    .map(move |s| (g, &g.units[s.unit], s))
            })
            .collect()
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
/// unit's statistics ([`UnitCase`]), so neither the parsed files nor their samples are held;
/// the samples are pooled only when asked for (`keep_samples`, `merge --samples`).
pub struct Merger {
    threshold: f64,
    keep_samples: bool,
    /// The groups in the order first seen (sorted by key at the end), and where each key is.
    groups: Vec<(GroupKey, GroupMembers)>,
    group_at: HashMap<GroupKey, usize>,
    /// Where each merged run's unit is, by a hash of its identity: the identity itself is the
    /// unit's (host, device index, run id), compared on a hit, so a fleet's units are not held
    /// twice. Identities whose hash an earlier one has (about one chance in 10^8 at a million
    /// units) go to `collided`.
    seen: HashMap<u64, UnitAt>,
    collided: Vec<(u64, UnitAt)>,
    hasher: std::collections::hash_map::RandomState,
    /// Files skipped before the merge (unreadable, refused by the loader), in the order given.
    skipped: Vec<Skipped>,
    /// Files the merge itself leaves out (duplicates, no passed case), listed after those.
    left_out: Vec<Skipped>,
    /// The simulated files given to [`Merger::add`] (`run --simulate`), and the first real
    /// one: what the refusal of a mix names.
    simulated: Vec<PathBuf>,
    first_real: Option<PathBuf>,
}

/// A unit's place: its group's index in [`Merger`]'s groups, and its index there.
#[derive(Debug, Clone, Copy)]
struct UnitAt {
    group: u32,
    unit: u32,
}

/// What a group keeps of its files: the units, and per case key what each unit contributed.
#[derive(Default)]
struct GroupMembers {
    units: Vec<Unit>,
    by_case: BTreeMap<(String, String), CaseMembers>,
}

/// One case of a group: its rate unit, each unit's statistics, and the pooled samples when the
/// report is to carry them.
#[derive(Default)]
struct CaseMembers {
    rate_unit: String,
    measured: Blocks<UnitCase>,
    pool: Vec<f64>,
}

impl Merger {
    /// An empty merge at `threshold`; `keep_samples` puts the pooled samples into the report.
    pub fn new(threshold: f64, keep_samples: bool) -> Result<Self> {
        check_threshold(threshold)?;
        Ok(Merger {
            threshold,
            keep_samples,
            groups: Vec::new(),
            group_at: HashMap::new(),
            seen: HashMap::new(),
            collided: Vec::new(),
            hasher: std::collections::hash_map::RandomState::new(),
            skipped: Vec::new(),
            left_out: Vec::new(),
            simulated: Vec::new(),
            first_real: None,
        })
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
        let hash = self.hasher.hash_one(&identity);
        if let Some(first) = self.merged_unit(hash, &identity) {
            let reason = RunIdentity::duplicate_reason(&first.path);
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
        let unit = Unit::of(&path, file);
        let measured = unit_cases(&unit.path, file)?;
        let key = GroupKey::of(file);
        let group = match self.group_at.get(&key) {
            Some(&at) => at,
            None => {
                self.group_at.insert(key.clone(), self.groups.len());
                self.groups.push((key, GroupMembers::default()));
                self.groups.len() - 1
            }
        };
        let members = &mut self.groups[group].1;
        let index = members.units.len() as u32;
        members.units.push(unit);
        let at = UnitAt {
            group: group as u32,
            unit: index,
        };
        if let Some(earlier) = self.seen.insert(hash, at) {
            self.collided.push((hash, earlier));
        }
        for (key, rate_unit, mut stats, samples) in measured {
            stats.unit = index;
            let case = members.by_case.entry(key).or_default();
            case.rate_unit = rate_unit;
            case.measured.push(stats);
            if self.keep_samples {
                case.pool.extend(samples);
            }
        }
        Ok(())
    }

    /// The unit already merged with this identity (whose hash is `hash`), if any.
    fn merged_unit(&self, hash: u64, identity: &RunIdentity) -> Option<&Unit> {
        let collided = self.collided.iter().filter(|(h, _)| *h == hash);
        self.seen
            .get(&hash)
            .into_iter()
            .chain(collided.map(|(_, at)| at))
            .map(|at| &self.groups[at.group as usize].1.units[at.unit as usize])
            .find(|u| {
                u.host == identity.host
                    && u.device_index == identity.device_index
                    && u.run_id == identity.run_id
            })
    }

    /// The report of every file added.
    pub fn finish(mut self) -> Result<MergeReport> {
        let (threshold, keep_samples) = (self.threshold, self.keep_samples);
        self.seen = HashMap::new();
        self.groups.sort_by(|a, b| a.0.cmp(&b.0));
        let groups = self
            .groups
            .into_iter()
            .map(|(key, members)| group_report(key, members, threshold, keep_samples))
            .collect::<Result<Vec<_>>>()?;
        let mut skipped = self.skipped;
        skipped.extend(self.left_out);
        Ok(MergeReport {
            threshold,
            groups,
            skipped,
            simulated: !self.simulated.is_empty(),
        })
    }

    /// Refuses simulated files beside real ones unless `allow` (`--allow-simulated`); whether
    /// any file added so far was simulated.
    pub fn check_simulated(&self, allow: bool) -> Result<bool> {
        let simulated = self.simulated.iter().map(|p| (p.as_path(), true));
        let real = self.first_real.iter().map(|p| (p.as_path(), false));
        crate::results::simulated_inputs(simulated.chain(real), allow)
    }
}

/// A list that grows by doubling up to [`Blocks::BLOCK`] items and then by blocks of that
/// many: a case's per-unit statistics are the bulk of a large merge, and a doubling `Vec` of
/// them holds up to twice their size (1.6 times at 10,000 units), or three times while it
/// moves.
#[derive(Debug)]
struct Blocks<T> {
    blocks: Vec<Vec<T>>,
    len: usize,
}

impl<T> Default for Blocks<T> {
    fn default() -> Self {
        Blocks {
            blocks: Vec::new(),
            len: 0,
        }
    }
}

impl<T> Blocks<T> {
    const BLOCK: usize = 4096;

    fn push(&mut self, item: T) {
        match self.blocks.last_mut() {
            Some(last) if last.len() < Self::BLOCK => last.push(item),
            _ => self.blocks.push(vec![item]),
        }
        self.len += 1;
    }

    fn len(&self) -> usize {
        self.len
    }

    fn get(&self, index: usize) -> Option<&T> {
        self.blocks
            .get(index / Self::BLOCK)?
            .get(index % Self::BLOCK)
    }

    fn iter(&self) -> impl Iterator<Item = &T> {
        self.blocks.iter().flatten()
    }
}

/// Cases are the same workload only if the kernel source and its configuration match too.
fn case_key(case: &Case) -> (String, String) {
    (case.id.clone(), case.kernel.source_hash.clone())
}

/// What one unit contributes to one case: the statistics every group figure is computed from.
#[derive(Debug, Clone, Copy)]
struct UnitCase {
    /// The unit's median throughput.
    median: f64,
    /// Upper end of that median's 95% interval: the outlier test asks whether it lies below
    /// the group's centre.
    high: f64,
    /// Index into the group's units.
    unit: u32,
    /// The unit's sample count.
    samples: u32,
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

fn group_report(
    key: GroupKey,
    members: GroupMembers,
    threshold: f64,
    keep_samples: bool,
) -> Result<GroupReport> {
    let cases = members
        .by_case
        .into_iter()
        .map(|((id, _), case)| case_spread(id, case, keep_samples))
        .collect::<Result<Vec<_>>>()?;
    let units = members.units;
    let (scores, note) = score_units(&units, &cases, threshold);
    Ok(GroupReport {
        key,
        units,
        cases: cases.into_iter().map(|(c, _)| c).collect(),
        scores,
        note,
    })
}

fn case_spread(
    case_id: String,
    case: CaseMembers,
    keep_samples: bool,
) -> Result<(CaseSpread, Blocks<UnitCase>)> {
    let measured = case.measured;
    let by_median = |a: &&UnitCase, b: &&UnitCase| a.median.total_cmp(&b.median);
    let of = |m: &UnitCase| UnitMedian {
        unit: m.unit as usize,
        median: m.median,
    };
    let slowest = measured.iter().min_by(by_median).map(of);
    let fastest = measured.iter().max_by(by_median).map(of);
    let (Some(slowest), Some(fastest)) = (slowest, fastest) else {
        return Err(Error::Samples(format!(
            "case {case_id}: no unit measured it"
        )));
    };
    let mut medians = Vec::with_capacity(measured.len());
    medians.extend(measured.iter().map(|m| m.median));
    medians.sort_by(f64::total_cmp);
    let at = |q: f64| crate::stats::quantile(&medians, q);
    let (low, high) = median_ci(&medians, MEDIAN_LEVEL);
    let (q1, q3) = (at(0.25), at(0.75));
    let spread = CaseSpread {
        case_id,
        unit: case.rate_unit,
        units: measured.len(),
        samples: measured.iter().map(|m| m.samples as usize).sum(),
        centre: Interval::new(at(0.5), low, high, MEDIAN_LEVEL),
        pooled_samples: keep_samples.then_some(case.pool),
        q1,
        q3,
        iqr: q3 - q1,
        slowest,
        fastest,
    };
    Ok((spread, measured))
}

/// Median of any non-empty list (NaN for none).
fn median(values: &[f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    crate::stats::median_of_sorted(&sorted)
}

/// Scores every unit against the group's centre of each case it ran. A unit is an outlier when
/// its median ratio is below `1 - threshold` *and* on most of its cases its whole 95% interval
/// lies below the centre, so one noisy sample cannot name a healthy GPU.
///
/// Each case lists its units in increasing index (units are numbered as they are added), so
/// the units are scored one after another with a cursor per case rather than a list of ratios
/// per unit held for all of them.
fn score_units(
    units: &[Unit],
    cases: &[(CaseSpread, Blocks<UnitCase>)],
    threshold: f64,
) -> (Vec<UnitScore>, Option<String>) {
    let judge = units.len() >= MIN_UNITS_FOR_OUTLIERS;
    let mut cursors = vec![0usize; cases.len()];
    let mut ratios = Vec::with_capacity(cases.len());
    let scores = (0..units.len())
        .map(|unit| {
            ratios.clear();
            let mut below = 0usize;
            for ((spread, measured), cursor) in cases.iter().zip(&mut cursors) {
                let centre = spread.centre.value;
                while let Some(m) = measured.get(*cursor).filter(|m| m.unit as usize == unit) {
                    ratios.push(m.median / centre);
                    below += usize::from(m.high < centre);
                    *cursor += 1;
                }
            }
            let relative = median(&ratios);
            let outlier = judge && relative < 1.0 - threshold && below * 2 > ratios.len();
            UnitScore {
                unit,
                relative,
                cases: ratios.len(),
                significantly_below: below,
                outlier,
            }
        })
        .collect();
    let note = (!judge).then(|| {
        format!(
            "{} unit(s): at least {MIN_UNITS_FOR_OUTLIERS} are needed to name outliers",
            units.len()
        )
    });
    (scores, note)
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
        let names = unit_names(&g.units);
        for c in &g.cases {
            let name = |u: UnitMedian| format!("{} {:.2}", names[u.unit], u.median);
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
            unit_names(&g.units)[score.unit].clone(),
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
        let score = &report.groups[0].scores[2];
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
        let report = merge(files, vec![], 0.10).unwrap();
        assert_eq!(report.groups[0].units.len(), 3);
        let reasons: Vec<String> = report.skipped.iter().map(|s| s.reason.clone()).collect();
        assert!(
            reasons[0].starts_with("duplicate of node0-0.json"),
            "{reasons:?}"
        );
        assert_eq!(reasons[1], "no passed case with timings");
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
        assert_eq!(lean, full);
    }

    #[test]
    fn blocks_keep_order_and_index_across_block_boundaries() {
        let mut blocks = Blocks::default();
        let n = 2 * Blocks::<usize>::BLOCK + 17;
        for i in 0..n {
            blocks.push(i);
        }
        assert_eq!(blocks.len(), n);
        assert_eq!(blocks.blocks.len(), 3);
        assert!(blocks.iter().copied().eq(0..n));
        for i in [0, Blocks::<usize>::BLOCK - 1, Blocks::<usize>::BLOCK, n - 1] {
            assert_eq!(blocks.get(i), Some(&i));
        }
        assert_eq!(blocks.get(n), None);
    }

    #[test]
    fn thresholds_outside_zero_to_one_are_refused() {
        for bad in [0.0, 1.0, -0.1, f64::NAN] {
            assert!(merge(vec![], vec![], bad).is_err(), "{bad}");
        }
    }
}
