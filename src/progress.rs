//! The progress bar: the only code that knows about the terminal. It draws on stderr and hides
//! itself when stderr is not a terminal (CI logs, redirection) or when asked to be quiet.

use crate::bench::{CaseSpec, Observer};
use crate::results::Case;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// An [`Observer`] that draws one bar for the whole suite.
pub struct ProgressObserver {
    bar: ProgressBar,
}

impl ProgressObserver {
    /// A bar on stderr, hidden when `quiet`.
    pub fn new(quiet: bool) -> Self {
        let target = if quiet {
            ProgressDrawTarget::hidden()
        } else {
            ProgressDrawTarget::stderr()
        };
        let bar = ProgressBar::with_draw_target(Some(0), target);
        if let Ok(style) =
            ProgressStyle::with_template("{bar:30} {pos}/{len} {elapsed_precise} {msg}")
        {
            bar.set_style(style);
        }
        ProgressObserver { bar }
    }

    /// Removes the bar before the summary is printed.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Observer for ProgressObserver {
    fn case_started(&mut self, index: usize, total: usize, spec: &CaseSpec) {
        self.bar.set_length(total as u64);
        self.bar.set_position(index as u64);
        self.bar.set_message(spec.id());
    }

    fn case_finished(&mut self, _case: &Case) {
        self.bar.inc(1);
    }
}
