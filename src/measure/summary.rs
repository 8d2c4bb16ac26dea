//! The run summary as a typed model ([`RunSummary`]: numbers as numbers, rendered as JSON or
//! as a table that fits an 80-column terminal), and short case labels for narrow tables, built
//! from a case's typed kernel and workload. Pure: data in, models and tables out. It lives with
//! the run because [`super::run`] returns it; the report page lists each file's cases with it.

use crate::output::{Section, Table, Tabular};
use crate::results::{Case, CaseStatus, RateUnit, ResultFile};
use crate::stats::Interval;
use crate::workload::{Op, Workload};
use serde::Serialize;

/// What a run measured, one row per case, with the plan's budget and cuts.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct RunSummary {
    /// The run's id.
    pub run_id: String,
    /// The adapter's name.
    pub adapter: String,
    /// The time budget the run kept, seconds, when it had one.
    pub budget_s: Option<f64>,
    /// Seconds the plan estimated.
    pub estimated_s: Option<f64>,
    /// What the plan cut to keep the budget.
    pub cuts: Vec<String>,
    /// One row per case, in the file's order.
    pub cases: Vec<CaseRow>,
}

/// One case of the run summary.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
pub struct CaseRow {
    /// Full case id, as in the file.
    pub id: String,
    /// The id shortened for tables.
    pub short_id: String,
    /// Outcome.
    pub status: CaseStatus,
    /// Median throughput with its 95% interval; only for verified cases.
    pub median: Option<Interval>,
    /// Unit of `median`.
    pub unit: Option<RateUnit>,
    /// Relative 95% half-width of the median.
    pub half_width: Option<f64>,
    /// Timed samples taken.
    pub samples: usize,
    /// True when the case sampled towards a target and stopped above it.
    pub noisy: bool,
    /// Relative error of the verified output.
    pub rel_error: Option<f64>,
    /// Median over the file's ALU ceiling of the same dtype (matmul only).
    pub of_alu_peak: Option<f64>,
    /// Whether the host and GPU clocks disagreed beyond the limit.
    pub clocks_disagree: bool,
    /// Why the case did not pass, or a warning about its clocks.
    pub note: Option<String>,
}

impl RunSummary {
    /// The summary of `file`.
    pub fn of(file: &ResultFile) -> Self {
        let plan = file.run.plan.as_ref();
        RunSummary {
            run_id: file.run.run_id.clone(),
            adapter: file.machine.adapter.name.clone(),
            budget_s: plan.map(|p| p.budget_s),
            estimated_s: plan.map(|p| p.estimated_s),
            cuts: plan.map(|p| p.cuts.clone()).unwrap_or_default(),
            cases: file.cases.iter().map(|c| case_row(file, c)).collect(),
        }
    }

    /// The cases as one table narrow enough for an 80-column terminal: short ids, short
    /// status words and units, flags in one column. Reasons go under the table
    /// ([`RunSummary::reasons`]); full values are in JSON and the file.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&["case", "status", "median", "unit", "±95%", "n", "note"]);
        for row in &self.cases {
            let mut note = Vec::new();
            if row.noisy {
                note.push("noisy".to_string());
            }
            if let Some(e) = row.of_alu_peak {
                note.push(format!("{:.0}%pk", e * 100.0));
            }
            if row.clocks_disagree {
                note.push("clocks".to_string());
            }
            t.push(vec![
                row.short_id.clone(),
                short_status(row.status).to_string(),
                row.median
                    .map_or("-".to_string(), |m| format!("{:.2}", m.value)),
                row.unit.map_or("-", short_unit).to_string(),
                row.half_width
                    .map_or("-".to_string(), |v| format!("{:.1}%", v * 100.0)),
                row.samples.to_string(),
                note.join(" "),
            ]);
        }
        t
    }

    /// Why cases did not pass, one line per reason with the cases it applies to.
    pub fn reasons(&self) -> Vec<String> {
        let mut grouped: Vec<(String, Vec<&str>)> = Vec::new();
        for row in self.cases.iter().filter(|r| r.status != CaseStatus::Passed) {
            let label = status_label(row.status);
            let note = row.note.as_deref().unwrap_or("no reason recorded");
            let reason = if note.starts_with(label) {
                note.to_string()
            } else {
                format!("{label}: {note}")
            };
            match grouped.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, ids)) => ids.push(&row.short_id),
                None => grouped.push((reason, vec![&row.short_id])),
            }
        }
        grouped
            .into_iter()
            .map(|(reason, ids)| format!("{} — {reason}", ids.join(", ")))
            .collect()
    }
}

/// A status in at most five letters, for narrow tables (files spell it out).
fn short_status(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Passed => "ok",
        CaseStatus::Failed => "FAIL",
        CaseStatus::Skipped => "skip",
        CaseStatus::Unsupported => "unsup",
    }
}

/// A unit in four letters, for narrow tables.
fn short_unit(unit: RateUnit) -> &'static str {
    match unit {
        RateUnit::Gflops => "GF/s",
        RateUnit::Gbps => "GB/s",
    }
}

impl Tabular for RunSummary {
    fn sections(&self) -> Vec<Section> {
        let mut notes = self.reasons();
        if let (Some(budget), Some(estimate)) = (self.budget_s, self.estimated_s) {
            notes.push(format!(
                "budget {budget:.0} s, planned {estimate:.0} s; full case ids are in the file"
            ));
        }
        notes.push(
            "±95%: half-width of the median's interval; noisy: stopped above its target".into(),
        );
        notes.extend(self.cuts.iter().map(|c| format!("cut: {c}")));
        let mut section = Section::untitled(self.table());
        for line in notes.iter().flat_map(|n| wrap(n, NOTE_WIDTH)) {
            section = section.with_note(&line);
        }
        vec![section]
    }
}

/// Notes are wrapped to this many columns, so they fit an 80-column terminal like the table.
const NOTE_WIDTH: usize = 78;

/// `text` broken at spaces into lines of at most `width` characters (a longer word stands alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

fn case_row(file: &ResultFile, case: &Case) -> CaseRow {
    let timing = case
        .timing
        .as_ref()
        .filter(|_| case.status == CaseStatus::Passed);
    let note = match timing {
        Some(t) if t.clocks_disagree => Some(format!(
            "host and GPU clocks differ by {:.0}%",
            t.clock_disagreement.unwrap_or(0.0) * 100.0
        )),
        Some(_) => None,
        None => case.reason.clone(),
    };
    let median = timing.map(|t| t.throughput.median);
    CaseRow {
        id: case.id.clone(),
        short_id: case_label(case),
        status: case.status,
        median,
        unit: timing.map(|t| t.unit),
        half_width: median.map(|m| m.relative_half_width()),
        samples: timing.map_or(0, |t| t.host_s.len()),
        noisy: case.sampling.as_ref().is_some_and(|s| s.noisy),
        rel_error: case.verification.as_ref().map(|v| v.rel_error),
        of_alu_peak: vector_peak_fraction(file, case),
        clocks_disagree: timing.is_some_and(|t| t.clocks_disagree),
        note,
    }
}

/// The case's median over the file's ALU (vector FMA) ceiling; none for a cooperative-matrix
/// kernel, which runs on matrix units the vector ceiling does not bound (a simulated H200's
/// tuned f16 kernel shows 339% of it), and no file measures a matrix-unit ceiling.
fn vector_peak_fraction(file: &ResultFile, case: &Case) -> Option<f64> {
    let matrix_units = case.kernel.family == crate::kernels::Family::CooperativeMatrix.as_str();
    if matrix_units {
        return None;
    }
    crate::roofline::efficiency(file, case)
}

/// A case label short enough for a narrow table, from the case's kernel id, whether the
/// autotuner chose it, and its workload: the tuned f32 matmul at 1024³ is `tuned f32 1024³`,
/// a tuned cooperative-matrix kernel says so (`tuned coop_f16 4096³`: it runs on matrix units),
/// the host SGEMM at 512³ `vendor/gemm-sgemm f32 512³`; ceilings keep their kernel id (`copy`,
/// `peak_fma_f16`, `copy_tuned`).
pub fn short_label(kernel_id: &str, tuned: bool, w: &Workload) -> String {
    if w.op != Op::Matmul {
        return if tuned {
            format!("{}_tuned", w.op)
        } else {
            kernel_id.to_string()
        };
    }
    let plain = kernel_id.strip_prefix("matmul_").unwrap_or(kernel_id);
    let kernel = match tuned {
        true if plain.starts_with("coop") => format!("tuned {plain}"),
        true => "tuned".to_string(),
        false => plain.to_string(),
    };
    let shape = if w.m == w.n && w.n == w.k {
        format!("{}³", w.m)
    } else {
        format!("{}x{}x{}", w.m, w.n, w.k)
    };
    if kernel.ends_with(&format!("_{}", w.dtype)) {
        return format!("{kernel} {shape}");
    }
    format!("{kernel} {} {shape}", w.dtype)
}

/// [`short_label`] of a case in a file: a tuned case carries the search that chose it.
pub fn case_label(case: &Case) -> String {
    short_label(&case.kernel.id, case.tuning.is_some(), &case.workload)
}

/// One row per case as a table (for the report page, which lists each file's cases).
pub fn run_summary(file: &ResultFile) -> Table {
    RunSummary::of(file).table()
}

/// The lower-case name of a status, as files spell it.
pub fn status_label(status: CaseStatus) -> &'static str {
    match status {
        CaseStatus::Passed => "passed",
        CaseStatus::Failed => "failed",
        CaseStatus::Skipped => "skipped",
        CaseStatus::Unsupported => "unsupported",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_labels_shorten_for_narrow_tables() {
        use crate::workload::Dtype;
        let square = |d, n| Workload::matmul(d, n, n, n);
        assert_eq!(
            short_label("matmul_tiled", true, &square(Dtype::F32, 1024)),
            "tuned f32 1024³"
        );
        assert_eq!(
            short_label(
                "matmul_naive",
                false,
                &Workload::matmul(Dtype::F16, 768, 1536, 512)
            ),
            "naive f16 768x1536x512"
        );
        assert_eq!(
            short_label("vendor/gemm-sgemm", false, &square(Dtype::F32, 512)),
            "vendor/gemm-sgemm f32 512³"
        );
        assert_eq!(
            short_label("matmul_coop_f16", false, &square(Dtype::F16, 64)),
            "coop_f16 64³"
        );
        let (copy, _) = crate::kernels::ceiling_cases(&crate::measure::fake::fake_adapter("x"))
            .into_iter()
            .find(|(w, _)| w.op == Op::Copy)
            .unwrap();
        assert_eq!(
            short_label("matmul_coop_f16", true, &square(Dtype::F16, 4096)),
            "tuned coop_f16 4096³"
        );
        assert_eq!(short_label("copy", false, &copy), "copy");
        assert_eq!(short_label("copy", true, &copy), "copy_tuned");
    }

    #[test]
    fn notes_wrap_at_spaces() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert_eq!(wrap("toolongword x", 4), ["toolongword", "x"]);
        assert!(wrap("", 10).is_empty());
    }
}
