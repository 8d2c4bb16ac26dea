//! `store regressions`: each unit's latest run against its own history and against its
//! model's population (see [`super::analysis`] for why both, and the tests).
//!
//! The figures stream one unit at a time, so memory holds one unit's series plus one small
//! finding per unit and metric, never the whole store.

use super::analysis::{
    change_points, mean, std_dev, ChangePoint, RegressionSettings, SPREAD_FLOOR,
};
use super::model::{FigureRow, RunFilter};
use super::Database;
use crate::error::Result;
use crate::stats::{median_of_sorted, student_t_sf};
use serde::Serialize;
use std::collections::BTreeMap;

/// What a unit's latest figure of a metric says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Slower than its own history or its population, beyond the minimum and significantly.
    Regressed,
    /// Faster than its own history, beyond the minimum and significantly.
    Faster,
    /// Neither.
    Steady,
    /// Too few earlier runs and too small a population to test.
    Untested,
}

impl Verdict {
    /// The word in tables.
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Regressed => "regressed",
            Verdict::Faster => "faster",
            Verdict::Steady => "steady",
            Verdict::Untested => "untested",
        }
    }
}

/// The latest figure against the unit's own earlier runs.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct OwnHistoryTest {
    /// Earlier runs in the baseline (since the last change point).
    pub runs: usize,
    /// Geometric mean of the baseline runs.
    pub baseline: f64,
    /// latest ÷ baseline.
    pub ratio: f64,
    /// Spread between the baseline runs: standard deviation of log figures (≈ relative).
    pub between_run_spread: f64,
    /// The t statistic of the prediction test.
    pub t: f64,
    /// One-sided p of "slower" (of "faster" when the ratio is above 1).
    pub p: f64,
    /// Slower beyond the minimum change, significantly.
    pub regressed: bool,
    /// Faster beyond the minimum change, significantly.
    pub faster: bool,
}

/// The latest figure against the latest figures of every unit of the same model.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct PopulationTest {
    /// Units of the model with this metric and shape.
    pub units: usize,
    /// Their median figure.
    pub median: f64,
    /// latest ÷ that median.
    pub ratio: f64,
    /// (log latest − log median) ÷ (1.4826 · MAD of the logs).
    pub robust_z: f64,
    /// Below the median beyond the minimum change and the z limit.
    pub regressed: bool,
}

/// One unit and metric.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct Finding {
    /// Host name.
    pub host: String,
    /// GPU index.
    pub gpu_index: i64,
    /// Device model.
    pub device: String,
    /// Driver of the latest run.
    pub driver: String,
    /// The latest run's id.
    pub run_id: String,
    /// When it started.
    pub started_at: String,
    /// The metric.
    pub metric: String,
    /// The workload tested: the latest run's best shape of the metric.
    pub shape: String,
    /// Unit of the figures.
    pub unit: String,
    /// The latest figure.
    pub latest: f64,
    /// Against the unit's own history, when it has enough runs.
    pub own: Option<OwnHistoryTest>,
    /// Against the model's population, when it has enough units.
    pub population: Option<PopulationTest>,
    /// Steps on the unit's series at this shape.
    pub change_points: Vec<ChangePoint>,
    /// The verdict.
    pub verdict: Verdict,
}

/// The answer of `store regressions`.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RegressionReport {
    /// The thresholds used.
    pub settings: RegressionSettings,
    /// Units examined.
    pub units: usize,
    /// Unit-and-metric series examined.
    pub series: usize,
    /// Of them, how many regressed.
    pub regressed: usize,
    /// The findings shown: the regressions, or every series when all were asked for.
    pub findings: Vec<Finding>,
}

impl RegressionReport {
    /// Keeps only the regressions among the findings.
    pub fn keep_regressions(&mut self) {
        self.findings.retain(|f| f.verdict == Verdict::Regressed);
    }
}

/// Every unit of `filter`, tested; see the module docs.
pub fn regressions(
    db: &mut dyn Database,
    filter: &RunFilter,
    settings: &RegressionSettings,
) -> Result<RegressionReport> {
    let mut findings = Vec::new();
    let mut unit: Vec<FigureRow> = Vec::new();
    let mut units = 0;
    db.for_each_figure(filter, &mut |row| {
        if unit.first().is_some_and(|first| !first.same_unit(&row)) {
            findings.extend(test_unit(&std::mem::take(&mut unit), settings));
            units += 1;
        }
        unit.push(row);
        Ok(())
    })?;
    if !unit.is_empty() {
        findings.extend(test_unit(&unit, settings));
        units += 1;
    }
    apply_population(&mut findings, settings);
    for f in &mut findings {
        f.verdict = verdict(f);
    }
    findings.sort_by(|a, b| {
        (a.verdict, &a.device, &a.host, a.gpu_index, &a.metric).cmp(&(
            b.verdict,
            &b.device,
            &b.host,
            b.gpu_index,
            &b.metric,
        ))
    });
    Ok(RegressionReport {
        settings: *settings,
        units,
        series: findings.len(),
        regressed: findings
            .iter()
            .filter(|f| f.verdict == Verdict::Regressed)
            .count(),
        findings,
    })
}

/// One finding per metric of the unit's latest run, tested against its own series.
fn test_unit(rows: &[FigureRow], settings: &RegressionSettings) -> Vec<Finding> {
    let Some(latest_run) = rows.iter().map(|r| (r.started_s, r.key)).max() else {
        return Vec::new();
    };
    let latest_rows: Vec<&FigureRow> = rows
        .iter()
        .filter(|r| (r.started_s, r.key) == latest_run)
        .collect();
    let mut best: BTreeMap<&str, &FigureRow> = BTreeMap::new();
    for row in latest_rows {
        if best
            .get(row.metric.as_str())
            .is_none_or(|b| row.median > b.median)
        {
            best.insert(&row.metric, row);
        }
    }
    best.into_values()
        .map(|latest| {
            let series: Vec<&FigureRow> = rows
                .iter()
                .filter(|r| r.metric == latest.metric && r.shape == latest.shape)
                .collect();
            finding(latest, &series, settings)
        })
        .collect()
}

/// The finding of one metric: `series` is the unit's runs at the latest's shape, oldest first,
/// ending with the latest.
fn finding(latest: &FigureRow, series: &[&FigureRow], settings: &RegressionSettings) -> Finding {
    let logs: Vec<f64> = series.iter().map(|r| r.median.ln()).collect();
    let owned: Vec<FigureRow> = series.iter().map(|r| (*r).clone()).collect();
    let change_points = change_points(&logs, settings)
        .iter()
        .map(|s| s.at(&owned))
        .collect();
    Finding {
        host: latest.host.clone(),
        gpu_index: latest.gpu_index,
        device: latest.device.clone(),
        driver: latest.driver.clone(),
        run_id: latest.run_id.clone(),
        started_at: latest.started_at.clone(),
        metric: latest.metric.clone(),
        shape: latest.shape.clone(),
        unit: latest.unit.clone(),
        latest: latest.median,
        own: own_history(latest, &logs, settings),
        population: None,
        change_points,
        verdict: Verdict::Untested,
    }
}

/// The prediction test of the last log figure against the earlier ones since their last step.
fn own_history(
    latest: &FigureRow,
    logs: &[f64],
    settings: &RegressionSettings,
) -> Option<OwnHistoryTest> {
    let (y, earlier) = logs.split_last()?;
    let start = change_points(earlier, settings)
        .last()
        .map_or(0, |s| s.index)
        .min(earlier.len());
    let baseline = if earlier.len() - start >= settings.min_history {
        &earlier[start..]
    } else {
        earlier
    };
    if baseline.len() < settings.min_history {
        return None;
    }
    let n = baseline.len() as f64;
    let m = mean(baseline);
    let spread = std_dev(baseline);
    let within = within_run_spread(latest);
    let se = (spread.max(SPREAD_FLOOR).powi(2) * (1.0 + 1.0 / n) + within * within).sqrt();
    let t = (y - m) / se;
    let ratio = (y - m).exp();
    let p = if ratio < 1.0 {
        student_t_sf(-t, n - 1.0)
    } else {
        student_t_sf(t, n - 1.0)
    };
    let significant = p < settings.alpha;
    Some(OwnHistoryTest {
        runs: baseline.len(),
        baseline: m.exp(),
        ratio,
        between_run_spread: spread,
        t,
        p,
        regressed: significant && ratio <= 1.0 - settings.min_change,
        faster: significant && ratio >= 1.0 + settings.min_change,
    })
}

/// The latest figure's own uncertainty as a log standard error, from its 95% interval.
fn within_run_spread(row: &FigureRow) -> f64 {
    if row.low > 0.0 && row.high >= row.low {
        (row.high / row.low).ln() / (2.0 * 1.96)
    } else {
        0.0
    }
}

/// Tests each finding against the latest figures of its model at the same metric and shape.
fn apply_population(findings: &mut [Finding], settings: &RegressionSettings) {
    let mut groups: BTreeMap<(String, String, String), Vec<f64>> = BTreeMap::new();
    for f in findings.iter() {
        let key = (f.device.clone(), f.metric.clone(), f.shape.clone());
        groups.entry(key).or_default().push(f.latest.ln());
    }
    let stats: BTreeMap<_, _> = groups
        .into_iter()
        .filter(|(_, logs)| logs.len() >= settings.min_population)
        .map(|(key, mut logs)| {
            logs.sort_by(f64::total_cmp);
            let median = median_of_sorted(&logs);
            let mut deviations: Vec<f64> = logs.iter().map(|v| (v - median).abs()).collect();
            deviations.sort_by(f64::total_cmp);
            (
                key,
                (logs.len(), median, 1.4826 * median_of_sorted(&deviations)),
            )
        })
        .collect();
    for f in findings.iter_mut() {
        let key = (f.device.clone(), f.metric.clone(), f.shape.clone());
        let Some(&(units, median, scale)) = stats.get(&key) else {
            continue;
        };
        let diff = f.latest.ln() - median;
        let robust_z = diff / scale.max(SPREAD_FLOOR);
        let ratio = diff.exp();
        f.population = Some(PopulationTest {
            units,
            median: median.exp(),
            ratio,
            robust_z,
            regressed: ratio <= 1.0 - settings.min_change && robust_z < -settings.population_z,
        });
    }
}

fn verdict(f: &Finding) -> Verdict {
    let own_regressed = f.own.as_ref().is_some_and(|o| o.regressed);
    let population_regressed = f.population.as_ref().is_some_and(|p| p.regressed);
    if own_regressed || population_regressed {
        Verdict::Regressed
    } else if f.own.as_ref().is_some_and(|o| o.faster) {
        Verdict::Faster
    } else if f.own.is_none() && f.population.is_none() {
        Verdict::Untested
    } else {
        Verdict::Steady
    }
}
