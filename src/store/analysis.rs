//! What a fleet operator asks of the store: a unit's (or a model's) capability figures over
//! time, and which units got slower.
//!
//! A regression test between two single runs sees only within-run sampling noise, yet two runs
//! minutes apart can differ by tens of percent on a busy host. So each unit's latest figure is
//! tested against its own earlier runs, with the spread *between* those runs estimated from the
//! history (a prediction-interval t-test on log figures), and against the latest figures of the
//! other units of its model (a robust z-score). A change is named only when it is both larger
//! than a practical minimum and statistically significant. Change points on a unit's series
//! (binary segmentation with a two-sample t-test between segments) show steps such as a driver
//! update; the own-history baseline is the segment since the last one.

use super::model::{FigureRow, RunFilter};
use super::Database;
use crate::error::{Error, Result};
use crate::stats::{student_t_sf, Interval, MEDIAN_LEVEL};
use serde::Serialize;
use std::collections::BTreeMap;

/// Thresholds of the regression verdict.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RegressionSettings {
    /// The smallest relative change that matters (0.05 for 5%).
    pub min_change: f64,
    /// Significance level of the tests.
    pub alpha: f64,
    /// Earlier runs a unit needs before its own history is tested.
    pub min_history: usize,
    /// Units of the model (this one included) needed before the population is tested.
    pub min_population: usize,
    /// Robust z below which a unit is out of its population.
    pub population_z: f64,
}

impl Default for RegressionSettings {
    fn default() -> Self {
        RegressionSettings {
            min_change: 0.05,
            alpha: 0.01,
            min_history: 3,
            min_population: 5,
            population_z: 3.0,
        }
    }
}

impl RegressionSettings {
    /// Refuses thresholds that cannot mean anything.
    pub fn check(&self) -> Result<()> {
        if !(self.min_change > 0.0 && self.min_change < 1.0) {
            return Err(Error::Config(format!(
                "minimum change {} must be between 0 and 100 percent",
                self.min_change * 100.0
            )));
        }
        if !(self.alpha > 0.0 && self.alpha < 0.5) {
            return Err(Error::Config(format!(
                "significance level {} must be between 0 and 0.5",
                self.alpha
            )));
        }
        if self.min_history < 2 {
            return Err(Error::Config(
                "at least 2 earlier runs are needed to estimate the spread between runs".into(),
            ));
        }
        Ok(())
    }
}

/// One run's figure in a series.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct HistoryPoint {
    /// The run id.
    pub run_id: String,
    /// When it started.
    pub started_at: String,
    /// Host name.
    pub host: String,
    /// GPU index.
    pub gpu_index: i64,
    /// Driver name and version.
    pub driver: String,
    /// True when the driver differs from this unit's previous run.
    pub driver_changed: bool,
    /// The workload of the figure (the run's best shape of the metric).
    pub shape: String,
    /// The best kernel there.
    pub kernel: String,
    /// Median throughput with its 95% interval.
    pub figure: Interval,
    /// Samples behind it.
    pub samples: i64,
}

/// A step in a series: the median before and after, and how sure the split is.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct ChangePoint {
    /// Index in the series of the first run after the step.
    pub index: usize,
    /// That run's id.
    pub run_id: String,
    /// When it started.
    pub started_at: String,
    /// Geometric mean of the figures of the segment before.
    pub before: f64,
    /// Geometric mean of the segment after.
    pub after: f64,
    /// after ÷ before.
    pub ratio: f64,
    /// Two-sided p of the t-test between the two segments.
    pub p: f64,
}

/// One metric's series.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct MetricHistory {
    /// The metric.
    pub metric: String,
    /// Unit of the figures.
    pub unit: String,
    /// Runs, oldest first.
    pub points: Vec<HistoryPoint>,
    /// Steps found in the series (one unit's history only).
    pub change_points: Vec<ChangePoint>,
}

/// The answer of `store history`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct History {
    /// What the history is of: `host GPU n (device)` or a device model.
    pub subject: String,
    /// True for one unit, false for a device model's population.
    pub single_unit: bool,
    /// Every metric's series.
    pub metrics: Vec<MetricHistory>,
}

/// Each metric's capability figure (its best shape in each run) over time for the runs of
/// `filter`; change points when they are one unit's runs.
pub fn history(
    db: &mut dyn Database,
    filter: &RunFilter,
    subject: String,
    settings: &RegressionSettings,
) -> Result<History> {
    let mut rows = Vec::new();
    db.for_each_figure(filter, &mut |row| {
        rows.push(row.to_row());
        Ok(())
    })?;
    let single_unit = rows.windows(2).all(|w| w[0].same_unit(&w[1]));
    let mut per_metric: BTreeMap<String, Vec<FigureRow>> = BTreeMap::new();
    for row in best_per_run(rows) {
        per_metric.entry(row.metric.clone()).or_default().push(row);
    }
    let metrics = per_metric
        .into_iter()
        .map(|(metric, mut rows)| {
            rows.sort_by_key(|a| (a.started_s, a.key));
            metric_history(metric, &rows, single_unit, settings)
        })
        .collect();
    Ok(History {
        subject,
        single_unit,
        metrics,
    })
}

fn metric_history(
    metric: String,
    rows: &[FigureRow],
    single_unit: bool,
    settings: &RegressionSettings,
) -> MetricHistory {
    let mut last_driver: BTreeMap<(String, i64, String), String> = BTreeMap::new();
    let points: Vec<HistoryPoint> = rows
        .iter()
        .map(|r| {
            let unit = (r.host.clone(), r.gpu_index, r.device.clone());
            let previous = last_driver.insert(unit, r.driver.clone());
            point(r, previous.is_some_and(|d| d != r.driver))
        })
        .collect();
    let change_points = if single_unit {
        let logs: Vec<f64> = rows.iter().map(|r| r.median.ln()).collect();
        change_points(&logs, settings)
            .into_iter()
            .map(|cp| cp.at(&rows[cp.index].run_id, &rows[cp.index].started_at))
            .collect()
    } else {
        Vec::new()
    };
    MetricHistory {
        metric,
        unit: rows.first().map_or_else(String::new, |r| r.unit.clone()),
        points,
        change_points,
    }
}

fn point(r: &FigureRow, driver_changed: bool) -> HistoryPoint {
    HistoryPoint {
        run_id: r.run_id.clone(),
        started_at: r.started_at.clone(),
        host: r.host.clone(),
        gpu_index: r.gpu_index,
        driver: r.driver.clone(),
        driver_changed,
        shape: r.shape.clone(),
        kernel: r.kernel.clone(),
        figure: Interval::new(r.median, r.low, r.high, MEDIAN_LEVEL),
        samples: r.samples,
    }
}

/// Per run and metric, the figure of its best shape (the "maximum achievable" figure).
pub(super) fn best_per_run(rows: Vec<FigureRow>) -> Vec<FigureRow> {
    let mut best: BTreeMap<(i64, String), FigureRow> = BTreeMap::new();
    for row in rows {
        let key = (row.key, row.metric.clone());
        if best.get(&key).is_none_or(|b| row.median > b.median) {
            best.insert(key, row);
        }
    }
    best.into_values().collect()
}

/// A step found by [`change_points`]: where, the segment means (logs) and p.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Split {
    pub index: usize,
    pub before: f64,
    pub after: f64,
    pub p: f64,
}

impl Split {
    /// The step as shown, named by the run at its index (its run id and start time).
    pub(super) fn at(&self, run_id: &str, started_at: &str) -> ChangePoint {
        ChangePoint {
            index: self.index,
            run_id: run_id.to_string(),
            started_at: started_at.to_string(),
            before: self.before.exp(),
            after: self.after.exp(),
            ratio: (self.after - self.before).exp(),
            p: self.p,
        }
    }
}

/// Steps in a series of log figures by binary segmentation: the split with the largest t
/// between two segments of at least two runs, kept when its change reaches the minimum and
/// its p the level, then the same within each side.
pub(super) fn change_points(logs: &[f64], settings: &RegressionSettings) -> Vec<Split> {
    let mut found = Vec::new();
    segment(logs, 0, settings, &mut found);
    found.sort_by_key(|s| s.index);
    found
}

fn segment(logs: &[f64], offset: usize, settings: &RegressionSettings, found: &mut Vec<Split>) {
    if logs.len() < 4 {
        return;
    }
    let best = (2..=logs.len() - 2)
        .map(|k| (k, two_sample_t(&logs[..k], &logs[k..])))
        .max_by(|a, b| a.1 .0.abs().total_cmp(&b.1 .0.abs()));
    let Some((k, (_, p))) = best else { return };
    let (before, after) = (mean(&logs[..k]), mean(&logs[k..]));
    let large = ((after - before).exp() - 1.0).abs() >= settings.min_change;
    if !(large && p < settings.alpha) {
        return;
    }
    found.push(Split {
        index: offset + k,
        before,
        after,
        p,
    });
    segment(&logs[..k], offset, settings, found);
    segment(&logs[k..], offset + k, settings, found);
}

/// Pooled two-sample t statistic and its two-sided p.
pub(super) fn two_sample_t(a: &[f64], b: &[f64]) -> (f64, f64) {
    let (na, nb) = (a.len() as f64, b.len() as f64);
    let pooled = ((sum_sq(a) + sum_sq(b)) / (na + nb - 2.0)).sqrt();
    let se = pooled.max(SPREAD_FLOOR) * (1.0 / na + 1.0 / nb).sqrt();
    let t = (mean(b) - mean(a)) / se;
    (t, (2.0 * student_t_sf(t.abs(), na + nb - 2.0)).min(1.0))
}

/// The smallest spread between runs assumed (0.1% in log terms): identical figures (a
/// deterministic fake backend) would otherwise make any difference infinitely significant;
/// the practical minimum change still decides those.
pub(super) const SPREAD_FLOOR: f64 = 1e-3;

pub(super) fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

fn sum_sq(values: &[f64]) -> f64 {
    let m = mean(values);
    values.iter().map(|v| (v - m) * (v - m)).sum()
}

/// Sample standard deviation (n − 1).
pub(super) fn std_dev(values: &[f64]) -> f64 {
    (sum_sq(values) / (values.len() as f64 - 1.0)).sqrt()
}
