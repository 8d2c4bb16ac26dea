//! Tables people read after a run. Pure: data in, [`Table`] out.

use crate::output::Table;
use crate::results::{CaseStatus, ResultFile};

/// One row per case: status, median throughput with its 95% interval, verification error and
/// whether the two clocks disagreed. Failed cases show no throughput: a wrong answer has none.
pub fn run_summary(file: &ResultFile) -> Table {
    let mut t = Table::new(&[
        "case",
        "status",
        "median",
        "95% CI",
        "unit",
        "rel. error",
        "note",
        "of ALU peak",
    ]);
    for case in &file.cases {
        let of_peak = crate::roofline::efficiency(file, case)
            .map_or("-".to_string(), |e| format!("{:.0}%", e * 100.0));
        let error = case
            .verification
            .as_ref()
            .map_or("-".to_string(), |v| format!("{:.1e}", v.rel_error));
        let (median, ci, unit, note) = match (case.status, &case.timing) {
            (CaseStatus::Passed, Some(timing)) => {
                let s = &timing.throughput;
                let note = if timing.clocks_disagree {
                    format!(
                        "clocks differ by {:.0}%",
                        timing.clock_disagreement.unwrap_or(0.0) * 100.0
                    )
                } else {
                    String::new()
                };
                (
                    format!("{:.2}", s.median.value),
                    format!("[{:.2}, {:.2}]", s.median.low, s.median.high),
                    timing.unit.label().to_string(),
                    note,
                )
            }
            _ => (
                "-".into(),
                "-".into(),
                "-".into(),
                case.reason.clone().unwrap_or_default(),
            ),
        };
        t.push(vec![
            case.id.clone(),
            status_label(case.status).to_string(),
            median,
            ci,
            unit,
            error,
            note,
            of_peak,
        ]);
    }
    t
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
