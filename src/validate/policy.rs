//! The one public way in for result files: load, run every check, then either refuse the file
//! or drop the inconsistent cases with a warning. `compare`, `calibrate`, `merge` and `report`
//! all load through it; [`crate::results::load`] is the unchecked parse underneath.
//!
//! How to wire it into a subcommand:
//!
//! ```no_run
//! use fleetbench::validate::{load_checked, CatalogPeaks, LoadPolicy};
//! # fn main() -> fleetbench::Result<()> {
//! let peaks = CatalogPeaks::builtin()?; // once per command, not per file
//! let policy = LoadPolicy::from_skip_flag(false); // e.g. `--skip-inconsistent`
//! let checked = load_checked("results/a.json".as_ref(), policy, &peaks)?;
//! for warning in &checked.warnings {
//!     eprintln!("warning: {warning}");
//! }
//! let file = checked.file; // only consistent cases remain
//! # let _ = file; Ok(()) }
//! ```
//!
//! [`CatalogPeaks`](super::CatalogPeaks) catches throughputs beyond the datasheet peak of the
//! matched device; [`NoPeaks`](super::NoPeaks) skips that check.

use super::{check_file, Finding, PeakLookup};
use crate::error::{Error, Result};
use crate::results::{self, ResultFile};
use std::path::Path;

/// What to do with a file that has inconsistent cases.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LoadPolicy {
    /// Refuse the whole file (the default: a file that lies once is not trusted).
    #[default]
    Refuse,
    /// Drop inconsistent cases, keep the rest, and say which were dropped. Problems of the file
    /// as a whole (its run section, fault injection) still refuse it.
    SkipInconsistent,
}

impl LoadPolicy {
    /// The policy for a `--skip-inconsistent` style flag.
    pub fn from_skip_flag(skip: bool) -> Self {
        if skip {
            LoadPolicy::SkipInconsistent
        } else {
            LoadPolicy::Refuse
        }
    }
}

/// A file that passed its checks under a policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Checked {
    /// The file, with inconsistent cases removed under [`LoadPolicy::SkipInconsistent`].
    pub file: ResultFile,
    /// What was dropped, one line each, naming the file and the case.
    pub warnings: Vec<String>,
}

/// Loads `path` and checks it; see [`LoadPolicy`].
pub fn load_checked(path: &Path, policy: LoadPolicy, peaks: &dyn PeakLookup) -> Result<Checked> {
    let file = results::load(path)?;
    apply_policy(path, file, policy, peaks)
}

/// The policy on an already loaded file; `path` only names it in messages.
pub fn apply_policy(
    path: &Path,
    mut file: ResultFile,
    policy: LoadPolicy,
    peaks: &dyn PeakLookup,
) -> Result<Checked> {
    let findings = check_file(&file, peaks);
    if findings.is_empty() {
        return Ok(Checked {
            file,
            warnings: Vec::new(),
        });
    }
    let file_level = findings.iter().find(|f| f.case.is_none());
    match (policy, file_level) {
        (LoadPolicy::Refuse, _) => Err(refusal(path, &findings)),
        (LoadPolicy::SkipInconsistent, Some(f)) => Err(refusal(path, std::slice::from_ref(f))),
        (LoadPolicy::SkipInconsistent, None) => {
            let bad: Vec<&str> = findings.iter().filter_map(|f| f.case.as_deref()).collect();
            file.cases.retain(|c| !bad.contains(&c.id.as_str()));
            let warnings = findings
                .iter()
                .map(|f| format!("{}: skipped {f}", path.display()))
                .collect();
            Ok(Checked { file, warnings })
        }
    }
}

fn refusal(path: &Path, findings: &[Finding]) -> Error {
    let more = match findings.len() {
        0 | 1 => String::new(),
        n => format!(" (and {} more problem(s))", n - 1),
    };
    let first = findings
        .first()
        .map_or_else(String::new, ToString::to_string);
    Error::invalid(path, format!("inconsistent: {first}{more}"))
}
