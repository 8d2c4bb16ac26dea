//! The same-code view: cases matched on what was computed (kernel family, kernel, op, dtype,
//! shape) and, unless `--allow-mixed`, on how (clock, bounds checks, kernel source). It tracks
//! one machine or one driver over time; across devices whose tuners choose differently it
//! compares little, which is why it is not the default.

use super::figures::{self, measurement_difference, usable, Difference, Quantity};
use super::{CompareConfig, Group, LeftOut, MetricSummary, Reason, ReasonKind, Row};
use crate::catalog::Metric;
use crate::results::Case;
use crate::stats::Runs;
use crate::workload::Workload;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What a case computed: the key cases are matched on across files.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CaseKey {
    /// Kernel family.
    pub family: String,
    /// Kernel id.
    pub kernel: String,
    /// Operation, dtype and shape.
    pub workload: Workload,
}

impl CaseKey {
    /// The key of a case.
    pub fn of(case: &Case) -> CaseKey {
        CaseKey {
            family: case.kernel.family.clone(),
            kernel: case.kernel.id.clone(),
            workload: case.workload,
        }
    }

    /// `kernel/op/dtype/MxNxK`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.kernel, self.workload.key())
    }
}

/// One group's samples of one case: a run per file whose case was measured like the first.
struct Matched<'a> {
    quantity: Quantity,
    case: &'a Case,
}

/// Per file of a group, its cases by key (the first of a repeated key, as a search in file
/// order would find): looked up once per key instead of searched, so matching stays linear in
/// the number of cases.
type CaseIndex<'a> = Vec<(&'a super::LoadedFile, HashMap<CaseKey, &'a Case>)>;

fn index(group: &Group) -> CaseIndex<'_> {
    group
        .files
        .iter()
        .map(|loaded| {
            let mut by_key = HashMap::with_capacity(loaded.file.cases.len());
            for case in &loaded.file.cases {
                by_key.entry(CaseKey::of(case)).or_insert(case);
            }
            (loaded, by_key)
        })
        .collect()
}

/// The group's usable quantity for a key, or why there is none; a run measured differently
/// from the group's first is left out with the reason.
fn matched<'a>(group: &CaseIndex<'a>, key: &CaseKey) -> (Option<Matched<'a>>, Option<Reason>) {
    let mut first: Option<(&Case, &str)> = None;
    let (mut runs, mut reason) = (Vec::new(), None);
    for (loaded, by_key) in group {
        let Some(case) = by_key.get(key).copied() else {
            continue;
        };
        let sample = match usable(case) {
            Ok((_, s)) => s,
            Err(r) => {
                reason.get_or_insert(r);
                continue;
            }
        };
        let path = loaded.path.to_str().unwrap_or("");
        let (reference, reference_path) = *first.get_or_insert((case, path));
        let diffs = measurement_difference(reference, case);
        if diffs.is_empty() {
            runs.push((sample, figures::kernel_label(&case.kernel)));
        } else {
            let detail = format!(
                "run {path} {} from {reference_path}; not pooled",
                Difference::describe(&diffs)
            );
            reason = Some(Reason::new(ReasonKind::MeasuredDifferently, detail));
        }
    }
    let Some((case, _)) = first else {
        return (None, Some(reason.unwrap_or_else(Reason::absent)));
    };
    let unit = crate::results::RateUnit::of(&key.workload).0;
    let quantity = Quantity::from_runs(unit, runs);
    (quantity.map(|quantity| Matched { quantity, case }), reason)
}

/// Rows, summaries and left-out cases of the same-code view.
pub(crate) fn compare(
    groups: &[Group],
    baseline: usize,
    config: &CompareConfig,
) -> (Vec<Row>, Vec<MetricSummary>, Vec<LeftOut>) {
    let indexes: Vec<CaseIndex> = groups.iter().map(index).collect();
    let keys: BTreeSet<&CaseKey> = indexes
        .iter()
        .flat_map(|g| g.iter().flat_map(|(_, by_key)| by_key.keys()))
        .collect();
    let mut rows = Vec::new();
    let mut left_out = Vec::new();
    for key in keys {
        let Some(metric) = Metric::of(&key.workload) else {
            continue;
        };
        let found: Vec<(Option<Matched>, Option<Reason>)> =
            indexes.iter().map(|g| matched(g, key)).collect();
        let mut per_file: Vec<Option<Reason>> = found.iter().map(|f| f.1.clone()).collect();
        if let (Some(base), _) = &found[baseline] {
            for (i, (other, _)) in found.iter().enumerate() {
                let Some(other) = other.as_ref().filter(|_| i != baseline) else {
                    continue;
                };
                let mixed = measurement_difference(base.case, other.case);
                if !mixed.is_empty() && !config.allow_mixed {
                    let why = Reason::new(
                        ReasonKind::MeasuredDifferently,
                        Difference::describe(&mixed),
                    );
                    per_file[i] = Some(why);
                    continue;
                }
                let b = (&base.quantity, base.quantity.figure());
                let o = (&other.quantity, other.quantity.figure());
                let mut row = figures::row(i, metric, key.workload, key.label(), b, o, config);
                row.mixed = mixed;
                let runs = (other.quantity.runs.clone(), base.quantity.runs.clone());
                rows.push((row, runs));
            }
        }
        if per_file.iter().any(Option::is_some) {
            left_out.push(LeftOut {
                metric,
                label: key.label(),
                per_file,
            });
        }
    }
    rows.sort_by(|(a, _), (b, _)| (a.file, a.metric, &a.label).cmp(&(b.file, b.metric, &b.label)));
    let (rows, runs): (Vec<Row>, Vec<(Runs, Runs)>) = rows.into_iter().unzip();
    let summaries = summaries(&rows, &runs, config);
    (rows, summaries, left_out)
}

/// One file's rows of one metric and the runs behind each.
type RowsAndRuns<'a> = (Vec<&'a Row>, Vec<(&'a Runs, &'a Runs)>);

/// Per file and metric, the geometric mean over its matched cases, from the runs behind them.
fn summaries(rows: &[Row], runs: &[(Runs, Runs)], config: &CompareConfig) -> Vec<MetricSummary> {
    let mut by: BTreeMap<(usize, Metric), RowsAndRuns> = BTreeMap::new();
    for (r, (other, base)) in rows.iter().zip(runs) {
        let entry = by.entry((r.file, r.metric)).or_default();
        entry.0.push(r);
        entry.1.push((other, base));
    }
    by.into_iter()
        .map(|((file, metric), (rows, pairs))| {
            figures::summary(file, metric, &rows, &pairs, config)
        })
        .collect()
}
