//! The store's models laid out as tables (text, CSV, Markdown); JSON is serde of the models.
//! Host, device and driver names come from other machines: the table layer escapes control
//! characters and bidi marks in every cell.

use super::analysis::History;
use super::ingest::IngestReport;
use super::model::RunList;
use super::regressions::{Finding, RegressionReport};
use crate::output::{Section, Table, Tabular};

fn sig(value: f64) -> String {
    if value.abs() >= 100.0 {
        format!("{value:.1}")
    } else {
        format!("{value:.3}")
    }
}

impl Tabular for RunList {
    fn sections(&self) -> Vec<Section> {
        let mut table = Table::new(&[
            "key", "run id", "host", "gpu", "device", "driver", "backend", "started", "cases",
        ]);
        for r in &self.runs {
            table.push(vec![
                r.key.to_string(),
                r.run_id.clone(),
                r.host.clone(),
                r.gpu_index.to_string(),
                r.device.clone(),
                r.driver.clone(),
                r.backend.clone(),
                r.started_at.clone(),
                r.cases.to_string(),
            ]);
        }
        let note = format!("{} run(s) in {}", self.runs.len(), self.store);
        vec![Section::titled("stored runs", table).with_note(&note)]
    }
}

impl Tabular for IngestReport {
    fn sections(&self) -> Vec<Section> {
        let mut table = Table::new(&["refused file", "reason"]);
        for r in &self.refused {
            table.push(vec![r.path.display().to_string(), r.reason.clone()]);
        }
        let note = format!(
            "{} file(s): {} added ({} replacing a partial run), {} already stored, {} refused",
            self.files,
            self.added,
            self.replaced,
            self.already_stored,
            self.refused.len()
        );
        let mut sections = vec![Section::titled("ingest", table).with_note(&note)];
        if !self.superseded.is_empty() {
            let mut partial = Table::new(&["partial file not added", "reason"]);
            for r in &self.superseded {
                partial.push(vec![r.path.display().to_string(), r.reason.clone()]);
            }
            sections.push(Section::titled("partial runs", partial));
        }
        sections
    }
}

impl Tabular for History {
    fn sections(&self) -> Vec<Section> {
        let mut out = Vec::new();
        for m in &self.metrics {
            let mut table = Table::new(&[
                "started",
                "run id",
                "unit",
                "driver",
                "shape",
                "median",
                "95% interval",
                "kernel",
            ]);
            for p in &m.points {
                let driver = if p.driver_changed {
                    format!("{} (changed)", p.driver)
                } else {
                    p.driver.clone()
                };
                table.push(vec![
                    p.started_at.clone(),
                    p.run_id.clone(),
                    format!("{} gpu{}", p.host, p.gpu_index),
                    driver,
                    p.shape.clone(),
                    sig(p.figure.value),
                    format!("[{}, {}]", sig(p.figure.low), sig(p.figure.high)),
                    p.kernel.clone(),
                ]);
            }
            let title = format!("{} of {} ({})", m.metric, self.subject, m.unit);
            let mut section = Section::titled(&title, table);
            let steps: Vec<String> = m
                .change_points
                .iter()
                .map(|c| {
                    format!(
                        "step at {} ({}): {} -> {} (x{:.3}, p = {:.2e})",
                        c.started_at,
                        c.run_id,
                        sig(c.before),
                        sig(c.after),
                        c.ratio,
                        c.p
                    )
                })
                .collect();
            if !steps.is_empty() {
                section = section.with_note(&steps.join("; "));
            }
            out.push(section);
        }
        out
    }
}

impl Tabular for RegressionReport {
    fn sections(&self) -> Vec<Section> {
        let mut table = Table::new(&[
            "unit",
            "device",
            "metric",
            "shape",
            "latest",
            "vs own history",
            "vs model",
            "steps",
            "verdict",
        ]);
        for f in &self.findings {
            table.push(row(f));
        }
        let note = format!(
            "{} unit(s), {} series, {} regressed (minimum change {}%, alpha {})",
            self.units,
            self.series,
            self.regressed,
            self.settings.min_change * 100.0,
            self.settings.alpha
        );
        vec![Section::titled("regressions", table).with_note(&note)]
    }
}

fn row(f: &Finding) -> Vec<String> {
    let own = f.own.as_ref().map_or_else(
        || "too few runs".to_string(),
        |o| {
            let basis = if o.against_period {
                format!(" vs period, raw x{:.3}", o.raw_ratio)
            } else {
                String::new()
            };
            format!(
                "x{:.3} of {} runs{basis} (spread {:.1}%, p = {:.2e})",
                o.ratio,
                o.runs,
                o.between_run_spread * 100.0,
                o.p
            )
        },
    );
    let population = f.population.as_ref().map_or_else(
        || "too few units".to_string(),
        |p| format!("x{:.3} of {} units (z {:.1})", p.ratio, p.units, p.robust_z),
    );
    vec![
        format!("{} gpu{}", f.host, f.gpu_index),
        f.device.clone(),
        f.metric.clone(),
        f.shape.clone(),
        format!("{} {}", sig(f.latest), f.unit),
        own,
        population,
        f.change_points.len().to_string(),
        f.verdict.label().to_string(),
    ]
}
