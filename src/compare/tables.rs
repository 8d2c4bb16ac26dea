//! How a [`Comparison`] lays itself out for people: the files, one row per shape or case, one
//! summary per file and metric, and what was left out. "~" marks a difference that is not
//! significant.

use super::{Comparison, Figure, Row, Verdict, View};
use crate::output::{Section, Table, Tabular};
use crate::stats::Interval;

impl Tabular for Comparison {
    fn sections(&self) -> Vec<Section> {
        let mut sections = vec![
            self.files_section(),
            self.rows_section(),
            self.summary_section(),
        ];
        if !self.left_out.is_empty() {
            sections.push(self.left_out_section());
        }
        if !self.vendor.is_empty() {
            sections.push(self.vendor_section());
        }
        if !self.environment_changes.is_empty() {
            sections.push(self.environment_section());
        }
        sections
    }
}

fn ratio(i: &Interval) -> String {
    format!("{:.3}", i.value)
}

fn interval(i: &Interval) -> String {
    format!("[{:.3}, {:.3}]", i.low, i.high)
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Faster => "faster",
        Verdict::Slower => "slower",
        Verdict::NotSignificant => "~",
        Verdict::Undetermined => "undetermined",
    }
}

/// `kernel-limited: 23% of the measured FMA peak` for a figure under half its peak.
fn limit_note(side: &str, f: &Figure) -> Option<String> {
    let fraction = f.fraction_of_peak.filter(|_| f.kernel_limited)?;
    Some(format!(
        "{side} kernel-limited ({:.0}% of its measured FMA peak)",
        fraction * 100.0
    ))
}

fn row_note(r: &Row) -> String {
    let mut notes: Vec<String> = [
        limit_note("baseline", &r.baseline),
        limit_note("file", &r.other),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !r.mixed.is_empty() {
        notes.push(format!(
            "measured differently: {}",
            super::Difference::describe(&r.mixed)
        ));
    }
    notes.join("; ")
}

impl Comparison {
    fn name(&self, file: usize) -> String {
        self.files[file].path.clone()
    }

    fn files_section(&self) -> Section {
        let mut t = Table::new(&["file", "device", "runs", "role"]);
        for (i, f) in self.files.iter().enumerate() {
            let mut device = if f.in_catalog {
                f.device.clone()
            } else {
                format!("{} (not in catalog)", f.device)
            };
            if f.simulated {
                device += " (simulated)";
            }
            let role = if i == self.baseline {
                "baseline"
            } else {
                "compared"
            };
            t.push(vec![
                f.path.clone(),
                device,
                f.run_ids.len().to_string(),
                role.to_string(),
            ]);
        }
        let view = match self.view {
            View::Capability => "capability (each file's best verified kernel per shape)",
            View::SameCode => "same code (cases matched by kernel and how they were measured)",
        };
        let section = Section::titled("Files", t).with_note(&format!("view: {view}"));
        match self.files.iter().any(|f| f.simulated) {
            true => section.with_note(crate::results::SIMULATED_LABEL),
            false => section,
        }
    }

    fn rows_section(&self) -> Section {
        let (title, first) = match self.view {
            View::Capability => ("Per shape (ratio = file ÷ baseline throughput)", "shape"),
            View::SameCode => ("Matched cases (ratio = file ÷ baseline throughput)", "case"),
        };
        let mut t = Table::new(&[
            "metric",
            first,
            "file",
            "unit",
            "baseline",
            "baseline kernel",
            "median",
            "kernel",
            "ratio",
            "95% CI",
            "p",
            "verdict",
            "note",
        ]);
        for r in &self.rows {
            t.push(vec![
                r.metric.to_string(),
                r.label.clone(),
                self.name(r.file),
                r.unit.label().to_string(),
                format!("{:.4}", r.baseline.median),
                r.baseline.kernels.join(" / "),
                format!("{:.4}", r.other.median),
                r.other.kernels.join(" / "),
                ratio(&r.ratio),
                interval(&r.ratio),
                format!("{:.2e}", r.p),
                verdict(r.verdict).to_string(),
                row_note(r),
            ]);
        }
        let section = Section::titled(title, t)
            .with_note("~: not significant (test between runs, or of samples, and interval)");
        if self.has_undetermined() {
            section.with_note(&format!("undetermined: {}", super::UNDETERMINED_NOTE))
        } else {
            section
        }
    }

    /// One line per ceiling that moved between two runs of one setting.
    pub fn environment_lines(&self) -> Vec<String> {
        self.environment_changes
            .iter()
            .map(|c| {
                format!(
                    "environment changed between the runs: {} and {} are the same adapter, driver and settings, but the measured {} ceiling moved {:+.1}% ({:.4} -> {:.4} {}, ratio {:.3} [{:.3}, {:.3}]); every ratio between them carries that change",
                    self.name(self.baseline),
                    self.name(c.file),
                    c.metric,
                    c.percent(),
                    c.baseline_median,
                    c.median,
                    c.unit.label(),
                    c.ratio.value,
                    c.ratio.low,
                    c.ratio.high
                )
            })
            .collect()
    }

    fn environment_section(&self) -> Section {
        let mut t = Table::new(&[
            "file", "ceiling", "baseline", "file's", "unit", "change", "95% CI",
        ]);
        for c in &self.environment_changes {
            t.push(vec![
                self.name(c.file),
                c.metric.to_string(),
                format!("{:.4}", c.baseline_median),
                format!("{:.4}", c.median),
                c.unit.label().to_string(),
                format!("{:+.1}%", c.percent()),
                interval(&c.ratio),
            ]);
        }
        Section::titled(
            "Environment changed between runs of the same adapter, driver and settings",
            t,
        )
        .with_note("the measured ceilings moved beyond their intervals: every ratio between these files carries that change")
    }

    fn summary_section(&self) -> Section {
        let mut t = Table::new(&[
            "file",
            "metric",
            "rows",
            "geomean ratio",
            "95% CI",
            "verdict",
            "max achievable",
            "max 95% CI",
        ]);
        for s in &self.summaries {
            let max = s.max_achievable.as_ref();
            t.push(vec![
                self.name(s.file),
                s.metric.to_string(),
                s.rows.to_string(),
                ratio(&s.geomean),
                interval(&s.geomean),
                verdict(s.verdict).to_string(),
                max.map_or("-".to_string(), |m| ratio(&m.ratio)),
                max.map_or("-".to_string(), |m| interval(&m.ratio)),
            ]);
        }
        let section = Section::titled("Per metric: geometric mean over common rows", t);
        match self.view {
            View::Capability => section.with_note(
                "max achievable: the file's best shape ÷ the baseline's best shape; --threshold gates the geometric means",
            ),
            View::SameCode => section.with_note("--threshold gates each matched case"),
        }
    }

    fn vendor_section(&self) -> Section {
        let mut t = Table::new(&[
            "file", "metric", "shape", "unit", "WGSL", "kernel", "vendor", "library", "ratio",
            "95% CI",
        ]);
        for v in &self.vendor {
            t.push(vec![
                self.name(v.file),
                v.metric.to_string(),
                v.label.clone(),
                v.unit.label().to_string(),
                format!("{:.4}", v.wgsl.median),
                v.wgsl.kernels.join(" / "),
                format!("{:.4}", v.vendor.median),
                v.vendor.kernels.join(" / "),
                ratio(&v.ratio),
                interval(&v.ratio),
            ]);
        }
        Section::titled("WGSL ÷ vendor library per shape (same file)", t)
    }

    fn left_out_section(&self) -> Section {
        let mut headers = vec!["metric".to_string(), "left out".to_string()];
        headers.extend((0..self.files.len()).map(|i| self.name(i)));
        let mut t = Table {
            headers,
            rows: Vec::new(),
        };
        for l in &self.left_out {
            let mut row = vec![l.metric.to_string(), l.label.clone()];
            row.extend(
                l.per_file
                    .iter()
                    .map(|r| r.as_ref().map_or("ok".to_string(), |r| r.line())),
            );
            t.push(row);
        }
        Section::titled("Not compared in every file", t)
    }
}
