//! The rule that keeps simulated result files (`run --simulate`) out of real analyses: a
//! simulated file is a test instrument, never a measurement, so a ratio between it and a real
//! device would be a fiction that reads like a fact.

use crate::error::{Error, Result};
use std::path::Path;

/// The label every output made from simulated files carries.
pub const SIMULATED_LABEL: &str =
    "simulated (run --simulate): a test instrument, never a measurement";

/// Whether the inputs of an analysis are simulated, given each file's path and its
/// `machine.simulated`. A mix of simulated and real files is refused in one line naming the
/// simulated files, unless `allow` (`--allow-simulated`); all-simulated inputs are allowed,
/// and `Ok(true)` tells the caller to label its output "simulated".
pub fn simulated_inputs<'a>(
    files: impl IntoIterator<Item = (&'a Path, bool)>,
    allow: bool,
) -> Result<bool> {
    let (simulated, real): (Vec<_>, Vec<_>) = files.into_iter().partition(|(_, sim)| *sim);
    if simulated.is_empty() {
        return Ok(false);
    }
    if !real.is_empty() && !allow {
        let names: Vec<String> = simulated
            .iter()
            .map(|(p, _)| p.display().to_string())
            .collect();
        return Err(Error::Incomparable(format!(
            "{}: simulated (run --simulate) beside real result files; pass --allow-simulated to use them together",
            names.join(", ")
        )));
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mix_is_refused_unless_allowed_and_simulated_inputs_say_so() {
        let (sim, real) = (Path::new("h200.json"), Path::new("a100.json"));
        assert!(!simulated_inputs([(real, false)], false).unwrap());
        assert!(simulated_inputs([(sim, true), (sim, true)], false).unwrap());
        let refused = simulated_inputs([(real, false), (sim, true)], false).unwrap_err();
        assert_eq!(
            refused.to_string(),
            "h200.json: simulated (run --simulate) beside real result files; pass --allow-simulated to use them together"
        );
        assert!(simulated_inputs([(real, false), (sim, true)], true).unwrap());
    }
}
