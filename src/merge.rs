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
//! units (a few dozen bytes per unit and case), not with their samples; the pooled samples are
//! gathered only when asked for (`merge --samples`). A unit, not a sample, is what the fleet
//! question is about: a unit with more samples must not weigh more in the group's centre.

use crate::error::{Error, Result};
use crate::output::{Section, Table, Tabular};
use crate::results::{Case, ResultFile};
use crate::stats::{median_ci, Interval, Sample, MEDIAN_LEVEL};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
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
    groups: BTreeMap<GroupKey, GroupMembers>,
    seen: HashMap<RunIdentity, PathBuf>,
    /// Files skipped before the merge (unreadable, refused by the loader), in the order given.
    skipped: Vec<Skipped>,
    /// Files the merge itself leaves out (duplicates, no passed case), listed after those.
    left_out: Vec<Skipped>,
    /// The simulated files given to [`Merger::add`] (`run --simulate`), and the first real
    /// one: what the refusal of a mix names.
    simulated: Vec<PathBuf>,
    first_real: Option<PathBuf>,
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
    measured: Vec<UnitCase>,
    pool: Vec<f64>,
}

impl Merger {
    /// An empty merge at `threshold`; `keep_samples` puts the pooled samples into the report.
    pub fn new(threshold: f64, keep_samples: bool) -> Result<Self> {
        check_threshold(threshold)?;
        Ok(Merger {
            threshold,
            keep_samples,
            groups: BTreeMap::new(),
            seen: HashMap::new(),
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
        if let Some(first) = self.seen.get(&identity) {
            let reason = RunIdentity::duplicate_reason(first);
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
        self.seen.insert(identity, path);
        let members = self.groups.entry(GroupKey::of(file)).or_default();
        let index = members.units.len();
        members.units.push(unit);
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

    /// The report of every file added.
    pub fn finish(self) -> Result<MergeReport> {
        let (threshold, keep_samples) = (self.threshold, self.keep_samples);
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

/// Cases are the same workload only if the kernel source and its configuration match too.
fn case_key(case: &Case) -> (String, String) {
    (case.id.clone(), case.kernel.source_hash.clone())
}

/// What one unit contributes to one case: the statistics every group figure is computed from.
#[derive(Debug, Clone, Copy)]
struct UnitCase {
    /// Index into the group's units.
    unit: usize,
    /// The unit's median throughput.
    median: f64,
    /// Upper end of that median's 95% interval: the outlier test asks whether it lies below
    /// the group's centre.
    high: f64,
    /// The unit's sample count.
    samples: usize,
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
            samples: summary.n,
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
) -> Result<(CaseSpread, Vec<UnitCase>)> {
    let measured = case.measured;
    let by_median = |a: &&UnitCase, b: &&UnitCase| a.median.total_cmp(&b.median);
    let of = |m: &UnitCase| UnitMedian {
        unit: m.unit,
        median: m.median,
    };
    let slowest = measured.iter().min_by(by_median).map(of);
    let fastest = measured.iter().max_by(by_median).map(of);
    let (Some(slowest), Some(fastest)) = (slowest, fastest) else {
        return Err(Error::Samples(format!(
            "case {case_id}: no unit measured it"
        )));
    };
    let mut medians: Vec<f64> = measured.iter().map(|m| m.median).collect();
    medians.sort_by(f64::total_cmp);
    let at = |q: f64| crate::stats::quantile(&medians, q);
    let (low, high) = median_ci(&medians, MEDIAN_LEVEL);
    let (q1, q3) = (at(0.25), at(0.75));
    let spread = CaseSpread {
        case_id,
        unit: case.rate_unit,
        units: measured.len(),
        samples: measured.iter().map(|m| m.samples).sum(),
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
fn score_units(
    units: &[Unit],
    cases: &[(CaseSpread, Vec<UnitCase>)],
    threshold: f64,
) -> (Vec<UnitScore>, Option<String>) {
    let judge = units.len() >= MIN_UNITS_FOR_OUTLIERS;
    let mut ratios: Vec<Vec<f64>> = vec![Vec::new(); units.len()];
    let mut below = vec![0usize; units.len()];
    for (spread, measured) in cases {
        let centre = spread.centre.value;
        for m in measured {
            ratios[m.unit].push(m.median / centre);
            below[m.unit] += usize::from(m.high < centre);
        }
    }
    let scores = ratios
        .iter()
        .zip(below)
        .enumerate()
        .map(|(unit, (ratios, below))| {
            let relative = median(ratios);
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
    fn thresholds_outside_zero_to_one_are_refused() {
        for bad in [0.0, 1.0, -0.1, f64::NAN] {
            assert!(merge(vec![], vec![], bad).is_err(), "{bad}");
        }
    }
}
