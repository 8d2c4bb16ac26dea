//! Progress on stderr: the only code that knows about the terminal. On a terminal it draws one
//! bar with the plan's estimate of the time left; when stderr is not a terminal (CI logs, a
//! batch job's log file) it prints one plain line per finished case instead, so a log still
//! says how far the run is and how long it will take. `--quiet` silences both.

use fleetbench::measure::backend::{CaseSpec, Observer};
use fleetbench::measure::summary::{case_label, short_label, status_label};
use fleetbench::results::{Case, PlanRecord};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// An [`Observer`] that reports on stderr.
pub struct ProgressObserver {
    bar: Option<ProgressBar>,
    lines: bool,
    finished: usize,
    total: usize,
    quiet: bool,
}

impl ProgressObserver {
    /// A bar on a terminal, plain lines otherwise, nothing when `quiet`.
    pub fn new(quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed_precise} {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        ProgressObserver {
            bar,
            lines: !quiet && !terminal,
            finished: 0,
            total: 0,
            quiet,
        }
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `1m05s` or `42s`: how long is left, to the second.
pub fn eta(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

impl Observer for ProgressObserver {
    fn case_started(&mut self, _index: usize, total: usize, spec: &CaseSpec, remaining_s: f64) {
        self.total = total;
        if let Some(bar) = &self.bar {
            bar.set_length(total as u64);
            bar.set_position(self.finished as u64);
            let label = short_label(spec.kernel.id(), spec.kernel.tuned, &spec.workload);
            bar.set_message(format!("ETA {} {label}", eta(remaining_s)));
        }
    }

    fn case_finished(&mut self, case: &Case, remaining_s: f64) {
        self.finished += 1;
        if let Some(bar) = &self.bar {
            bar.set_position(self.finished as u64);
            bar.set_message(format!("ETA {}", eta(remaining_s)));
        }
        if self.lines {
            eprintln!(
                "[{}/{}] {} {} (about {} left)",
                self.finished,
                self.total,
                case_label(case),
                status_label(case.status),
                eta(remaining_s)
            );
        }
    }

    /// The plan before the first case: its estimate against the budget, each case's estimate
    /// and every cut.
    fn planned(&mut self, plan: &PlanRecord, labels: &[String]) {
        if self.quiet {
            return;
        }
        eprintln!(
            "plan: {} cases, about {:.0} s of a {:.0} s budget (tuning {:.0} s)",
            plan.cases.len(),
            plan.estimated_s,
            plan.budget_s,
            plan.tuning_s
        );
        for (case, label) in plan.cases.iter().zip(labels) {
            eprintln!("  {label:<28} ~{:>5.1} s", case.estimated_s);
        }
        for cut in &plan.cuts {
            eprintln!("cut: {cut}");
        }
    }

    fn note(&mut self, line: &str) {
        if !self.quiet {
            eprintln!("{line}");
        }
    }

    fn warning(&mut self, line: &str) {
        eprintln!("warning: {line}");
    }

    fn round_finished(&mut self, round: usize, active: usize, remaining_s: f64) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "ETA {} round {round}, {active} case(s) sampling",
                eta(remaining_s)
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::eta;

    #[test]
    fn eta_reads_as_minutes_and_seconds() {
        assert_eq!(eta(42.4), "42s");
        assert_eq!(eta(65.0), "1m05s");
        assert_eq!(eta(-3.0), "0s");
    }
}
