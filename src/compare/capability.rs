//! The capability view: for every metric and shape, each file's figure is its best verified
//! case at that workload, whichever kernel produced it (the "maximum achievable" idea). Two
//! devices whose autotuners chose different tiles are then compared at their best, and a
//! baseline kernel (naive, register-blocked) enters only where it is a file's best.
//!
//! Vendor-library reference cases (family [`crate::kernels::VENDOR_FAMILY`]) are never part of a WGSL figure.
//! In a pooled group each run contributes its own best case, so the runs stay apart for the
//! two-level bootstrap and a run whose tuner chose differently still counts.

use super::figures::{self, usable, Ceilings, Quantity};
use super::{CompareConfig, Group, LeftOut, MaxAchievable, MetricSummary, Reason, Row};
use super::{EnvironmentChange, VendorRow};
use crate::catalog::Metric;
use crate::error::{Error, Result};
use crate::kernels::VENDOR_FAMILY;
use crate::results::{RateUnit, ResultFile};
use crate::stats::{geomean_of_ratios, Interval, Runs, Sample};
use crate::workload::Workload;
use std::collections::{BTreeMap, BTreeSet};

/// One group's figures per metric and shape, and why a shape it ran has none.
#[derive(Debug, Clone, Default)]
pub(crate) struct Capability {
    pub quantities: BTreeMap<(Metric, Workload), Quantity>,
    /// Vendor-library reference figures, kept apart from the WGSL ones.
    pub vendor: BTreeMap<(Metric, Workload), Quantity>,
    pub unusable: BTreeMap<(Metric, Workload), Reason>,
    pub ceilings: Ceilings,
}

impl Capability {
    /// The best verified case per workload in each file of the group, as one quantity per
    /// workload with a run per file that has it.
    pub fn of(group: &Group) -> Capability {
        let (quantities, mut unusable) = best_per_workload(group, |family| family != VENDOR_FAMILY);
        let (vendor, _) = best_per_workload(group, |family| family == VENDOR_FAMILY);
        unusable.retain(|key, _| !quantities.contains_key(key));
        let ceilings = ceilings(&quantities);
        Capability {
            quantities,
            vendor,
            unusable,
            ceilings,
        }
    }

    /// The metrics the group has a figure for.
    pub fn metrics(&self) -> BTreeSet<Metric> {
        self.quantities.keys().map(|(m, _)| *m).collect()
    }

    /// The metrics the group ran a case for, usable or not.
    fn metrics_tried(&self) -> BTreeSet<Metric> {
        let tried = self.unusable.keys().map(|(m, _)| *m);
        self.metrics().into_iter().chain(tried).collect()
    }

    /// The shapes of one metric, figures and failures alike.
    fn shapes(&self, metric: Metric) -> impl Iterator<Item = Workload> + '_ {
        let keys = self.quantities.keys().chain(self.unusable.keys());
        keys.filter(move |(m, _)| *m == metric).map(|(_, w)| *w)
    }

    /// The figure shown for a shape, with its fraction of the group's measured peak.
    fn figure(&self, metric: Metric, workload: &Workload) -> Option<(&Quantity, super::Figure)> {
        let q = self.quantities.get(&(metric, *workload))?;
        Some((q, self.ceilings.label(metric, workload, q.figure())))
    }

    /// The shape with the highest median of a metric.
    fn best(&self, metric: Metric) -> Option<(&Workload, &Quantity)> {
        self.quantities
            .iter()
            .filter(|((m, _), _)| *m == metric)
            .map(|((_, w), q)| (w, q))
            .max_by(|a, b| a.1.runs.median().total_cmp(&b.1.runs.median()))
    }

    /// Why a shape of a metric has no figure here.
    fn reason(&self, metric: Metric, workload: &Workload) -> Option<Reason> {
        if self.quantities.contains_key(&(metric, *workload)) {
            return None;
        }
        Some(
            self.unusable
                .get(&(metric, *workload))
                .cloned()
                .unwrap_or_else(Reason::absent),
        )
    }
}

/// One file's capability figure at one workload: its best verified WGSL case there (the rule
/// of [`Capability`]), as the results store keeps it per run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FileFigure {
    /// The metric the workload counts towards.
    pub metric: Metric,
    /// The workload.
    pub workload: Workload,
    /// Unit of the median.
    pub unit: RateUnit,
    /// The kernel that was best here, with its overrides.
    pub kernel: String,
    /// Median throughput of the best case, with its distribution-free 95% interval.
    pub median: Interval,
    /// Samples behind the median.
    pub samples: usize,
}

/// Every workload's capability figure of one file: per metric and workload, the verified
/// non-vendor case with the highest median, whichever kernel it is.
pub fn file_figures(file: &ResultFile) -> Vec<FileFigure> {
    let mut best: BTreeMap<(Metric, Workload), FileFigure> = BTreeMap::new();
    for case in &file.cases {
        let Some(metric) = Metric::of(&case.workload) else {
            continue;
        };
        if case.kernel.family == VENDOR_FAMILY {
            continue;
        }
        let Ok((unit, sample)) = usable(case) else {
            continue;
        };
        let key = (metric, case.workload);
        if best
            .get(&key)
            .is_none_or(|b| sample.median() > b.median.value)
        {
            let figure = FileFigure {
                metric,
                workload: case.workload,
                unit,
                kernel: figures::kernel_label(&case.kernel),
                median: sample.summary().median,
                samples: sample.len(),
            };
            best.insert(key, figure);
        }
    }
    best.into_values().collect()
}

type Figures = BTreeMap<(Metric, Workload), Quantity>;

/// The best verified case per workload in each file of the group among the kernel families
/// `wanted` accepts, as one quantity per workload with a run per file that has it; and why a
/// workload tried has no usable case.
fn best_per_workload(
    group: &Group,
    wanted: impl Fn(&str) -> bool,
) -> (Figures, BTreeMap<(Metric, Workload), Reason>) {
    let mut per_run: BTreeMap<(Metric, Workload), Vec<(Sample, String)>> = BTreeMap::new();
    let mut unusable = BTreeMap::new();
    let mut units = BTreeMap::new();
    for loaded in &group.files {
        let mut best: BTreeMap<(Metric, Workload), (Sample, String)> = BTreeMap::new();
        for case in &loaded.file.cases {
            let Some(metric) = Metric::of(&case.workload) else {
                continue;
            };
            if !wanted(&case.kernel.family) {
                continue;
            }
            let key = (metric, case.workload);
            match usable(case) {
                Ok((unit, sample)) => {
                    units.insert(key, unit);
                    let better = best
                        .get(&key)
                        .is_none_or(|b| sample.median() > b.0.median());
                    if better {
                        best.insert(key, (sample, figures::kernel_label(&case.kernel)));
                    }
                }
                Err(reason) => {
                    unusable.entry(key).or_insert(reason);
                }
            }
        }
        for (key, value) in best {
            per_run.entry(key).or_default().push(value);
        }
    }
    let quantities = per_run
        .into_iter()
        .filter_map(|(key, runs)| Some((key, Quantity::from_runs(units[&key], runs)?)))
        .collect();
    (quantities, unusable)
}

fn ceilings(quantities: &Figures) -> Ceilings {
    let best = |metric: Metric| {
        quantities
            .iter()
            .filter(|((m, _), _)| *m == metric)
            .map(|(_, q)| q.runs.median())
            .reduce(f64::max)
    };
    Ceilings {
        peaks: [Metric::PeakF32, Metric::PeakF16]
            .into_iter()
            .filter_map(|m| Some((m, best(m)?)))
            .collect(),
        bandwidth: best(Metric::Bandwidth),
    }
}

/// Per group and shape with both: the best WGSL figure ÷ the vendor library's.
pub(crate) fn vendor_rows(caps: &[Capability], config: &CompareConfig) -> Vec<VendorRow> {
    let mut out = Vec::new();
    for (file, cap) in caps.iter().enumerate() {
        for ((metric, w), vendor) in &cap.vendor {
            let Some((wgsl, wgsl_figure)) = cap.figure(*metric, w) else {
                continue;
            };
            out.push(VendorRow {
                file,
                metric: *metric,
                workload: *w,
                label: w.key(),
                unit: vendor.unit,
                wgsl: wgsl_figure,
                vendor: cap.ceilings.label(*metric, w, vendor.figure()),
                ratio: geomean_of_ratios(&[(&wgsl.runs, &vendor.runs)], &config.bootstrap),
            });
        }
    }
    out
}

/// The ceilings whose moves between two runs of one setting say the environment changed.
const CEILINGS: [Metric; 3] = [Metric::PeakF32, Metric::PeakF16, Metric::Bandwidth];

/// What must match for two runs to be "the same setting": adapter model, driver, backend and
/// the driver settings recorded from the environment (`LP_NUM_THREADS`, `MESA_*`, …).
fn setting(group: &Group) -> Option<Setting<'_>> {
    let first = setting_of(group.files.first()?);
    group
        .files
        .iter()
        .all(|f| setting_of(f) == first)
        .then_some(first)
}

/// Adapter model, driver and backend, and the driver settings from the environment.
type Setting<'a> = (crate::merge::GroupKey, &'a BTreeMap<String, String>);

fn setting_of(f: &super::LoadedFile) -> Setting<'_> {
    (crate::merge::GroupKey::of(&f.file), &f.file.machine.env)
}

/// Per file of the baseline's setting: each ceiling (FMA peak, bandwidth) whose best figure
/// differs from the baseline's beyond its interval. Same adapter, driver and settings should
/// give the same ceilings; when they do not, the host changed between the runs (clocks, load,
/// thermals), and every ratio between the two files carries that change.
pub(crate) fn environment_changes(
    groups: &[Group],
    caps: &[Capability],
    baseline: usize,
    config: &CompareConfig,
) -> Vec<EnvironmentChange> {
    let Some(base_setting) = setting(&groups[baseline]) else {
        return Vec::new();
    };
    let base = &caps[baseline];
    let mut out = Vec::new();
    for (file, group) in groups.iter().enumerate().filter(|(i, _)| *i != baseline) {
        if setting(group) != Some(base_setting.clone()) {
            continue;
        }
        let cap = &caps[file];
        for metric in CEILINGS {
            let (Some((_, b)), Some((_, o))) = (base.best(metric), cap.best(metric)) else {
                continue;
            };
            let ratio = geomean_of_ratios(&[(&o.runs, &b.runs)], &config.bootstrap);
            if ratio.excludes(1.0) {
                out.push(EnvironmentChange {
                    file,
                    metric,
                    ratio,
                    unit: b.unit,
                    baseline_median: b.runs.median(),
                    median: o.runs.median(),
                });
            }
        }
    }
    out
}

/// Rows, summaries and left-out shapes of the capability view.
pub(crate) fn compare(
    groups: &[Group],
    caps: &[Capability],
    baseline: usize,
    config: &CompareConfig,
) -> Result<(Vec<Row>, Vec<MetricSummary>, Vec<LeftOut>)> {
    check_shared_metrics(groups, caps, baseline)?;
    let base = &caps[baseline];
    let (mut rows, mut summaries) = (Vec::new(), Vec::new());
    for (i, cap) in caps.iter().enumerate().filter(|(i, _)| *i != baseline) {
        for metric in base.metrics().intersection(&cap.metrics()) {
            let (metric_rows, pairs) = metric_rows(i, *metric, base, cap, config);
            let refs: Vec<&Row> = metric_rows.iter().collect();
            if !refs.is_empty() {
                let mut s = figures::summary(i, *metric, &refs, &pairs, config);
                s.max_achievable = max_achievable(*metric, base, cap, config);
                summaries.push(s);
            }
            rows.extend(metric_rows);
        }
    }
    Ok((rows, summaries, left_out(caps)))
}

/// One file's rows of one metric (the shapes both it and the baseline have), with the run
/// pairs behind them for the geometric mean.
fn metric_rows<'a>(
    file: usize,
    metric: Metric,
    base: &'a Capability,
    cap: &'a Capability,
    config: &CompareConfig,
) -> (Vec<Row>, Vec<(&'a Runs, &'a Runs)>) {
    let (mut rows, mut pairs) = (Vec::new(), Vec::new());
    let shapes: BTreeSet<Workload> = base.shapes(metric).collect();
    for w in shapes {
        let (Some(b), Some(o)) = (base.figure(metric, &w), cap.figure(metric, &w)) else {
            continue;
        };
        pairs.push((&o.0.runs, &b.0.runs));
        let label = w.key();
        rows.push(figures::row(file, metric, w, label, b, o, config));
    }
    (rows, pairs)
}

fn max_achievable(
    metric: Metric,
    base: &Capability,
    cap: &Capability,
    config: &CompareConfig,
) -> Option<MaxAchievable> {
    let (bw, bq) = base.best(metric)?;
    let (ow, oq) = cap.best(metric)?;
    Some(MaxAchievable {
        ratio: geomean_of_ratios(&[(&oq.runs, &bq.runs)], &config.bootstrap),
        shape: ow.key(),
        median: oq.runs.median(),
        baseline_shape: bw.key(),
        baseline_median: bq.runs.median(),
    })
}

/// Every file must share at least one metric with the baseline, or there is nothing to say.
fn check_shared_metrics(groups: &[Group], caps: &[Capability], baseline: usize) -> Result<()> {
    let names = |c: &Capability| {
        let m: Vec<String> = c.metrics().iter().map(|m| m.to_string()).collect();
        if m.is_empty() {
            "no verified case of any metric".to_string()
        } else {
            m.join(", ")
        }
    };
    let base = &caps[baseline];
    for (i, cap) in caps.iter().enumerate().filter(|(i, _)| *i != baseline) {
        if base.metrics().is_disjoint(&cap.metrics()) {
            return Err(Error::Incomparable(format!(
                "{} and {} share no metric ({} has {}; {} has {})",
                groups[baseline].label,
                groups[i].label,
                groups[baseline].label,
                names(base),
                groups[i].label,
                names(cap)
            )));
        }
    }
    Ok(())
}

/// Metrics missing from some file (one entry per metric), then shapes missing or unusable in
/// some file that has the metric.
fn left_out(caps: &[Capability]) -> Vec<LeftOut> {
    let all: BTreeSet<Metric> = caps.iter().flat_map(|c| c.metrics_tried()).collect();
    let mut out = Vec::new();
    for metric in all {
        let has: Vec<bool> = caps.iter().map(|c| c.metrics().contains(&metric)).collect();
        if has.iter().any(|h| !h) {
            let per_file = caps
                .iter()
                .zip(&has)
                .map(|(c, h)| (!h).then(|| metric_reason(c, metric)))
                .collect();
            out.push(LeftOut {
                metric,
                label: metric.to_string(),
                per_file,
            });
        }
        let shapes: BTreeSet<Workload> = caps.iter().flat_map(|c| c.shapes(metric)).collect();
        for w in shapes {
            let reasons: Vec<Option<Reason>> = caps.iter().map(|c| c.reason(metric, &w)).collect();
            let missing_where_measured = reasons.iter().zip(&has).any(|(r, h)| *h && r.is_some());
            if missing_where_measured {
                let per_file = caps
                    .iter()
                    .zip(reasons)
                    .map(|(c, r)| {
                        r.map(|r| {
                            if c.metrics().contains(&metric) {
                                r
                            } else {
                                metric_reason(c, metric)
                            }
                        })
                    })
                    .collect();
                out.push(LeftOut {
                    metric,
                    label: w.key(),
                    per_file,
                });
            }
        }
    }
    out
}

fn metric_reason(cap: &Capability, metric: Metric) -> Reason {
    match cap.unusable.iter().find(|((m, _), _)| *m == metric) {
        Some((_, r)) => Reason::new(r.kind, format!("no usable case ({})", r.detail)),
        None => Reason::new(super::ReasonKind::Absent, "metric absent"),
    }
}
