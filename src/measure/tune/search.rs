//! The search: runs every candidate of a space through the [`Backend`] and keeps the fastest
//! one that verified, recording every trial so the result file shows the whole search. Pure:
//! tested with the fake backend.

use super::space::{bandwidth_candidates, quick_bandwidth_candidates};
use crate::kernels::{Kernel, KernelConfig};
use crate::measure::backend::{Backend, CaseSpec, TimingConfig};
use crate::results::{CaseStatus, TuningRecord, TuningTrial};
use crate::workload::{Dtype, Workload};
use std::time::Duration;

/// Searches the bandwidth variants of one ceiling case (copy or triad) on the case's own
/// workload, so the figure is measured at the device-sized buffers. Returns the winner, marked
/// tuned (its case is `copy_tuned/…`), with the whole search. `None` when none verified.
pub fn search_bandwidth(
    backend: &mut dyn Backend,
    workload: Workload,
    kernel: Kernel,
    timing: &TimingConfig,
    seed: u64,
) -> Option<(KernelConfig, TuningRecord)> {
    search_bandwidth_among(
        backend,
        workload,
        kernel,
        &bandwidth_candidates(kernel),
        timing,
        seed,
    )
}

/// [`search_bandwidth`] over the given variants of `kernel`.
fn search_bandwidth_among(
    backend: &mut dyn Backend,
    workload: Workload,
    kernel: Kernel,
    candidates: &[KernelConfig],
    timing: &TimingConfig,
    seed: u64,
) -> Option<(KernelConfig, TuningRecord)> {
    let key = format!("bandwidth|{}|{}", kernel.id(), backend.adapter().name);
    let record = search(
        backend,
        candidates,
        workload,
        &trial_timing(timing),
        seed,
        key,
    )?;
    let chosen = chosen_config(&record, candidates)?.into_tuned();
    Some((chosen, record))
}

/// A bandwidth ceiling whose kernel a search chose: the plan's headline copy or triad case.
#[derive(Debug, Clone, PartialEq)]
pub struct BandwidthTuned {
    /// The ceiling's workload, sized for the adapter.
    pub workload: Workload,
    /// The best verified variant (marked tuned).
    pub kernel: KernelConfig,
    /// The whole search, stored on the case.
    pub record: TuningRecord,
}

/// Runs the bandwidth search of every copy or triad kernel among `ceilings`, at the adapter's
/// ceiling size; a kernel whose search found nothing verified keeps its default case. `quick`
/// searches [`quick_bandwidth_candidates`] only.
pub fn tune_bandwidth(
    backend: &mut dyn Backend,
    ceilings: &[Kernel],
    timing: &TimingConfig,
    seed: u64,
    quick: bool,
) -> Vec<BandwidthTuned> {
    let cases = crate::kernels::ceiling_cases(backend.adapter());
    let mut out = Vec::new();
    for (workload, kernel) in cases {
        let searchable = matches!(kernel.kernel, Kernel::Copy | Kernel::Triad);
        if !searchable || !ceilings.contains(&kernel.kernel) {
            continue;
        }
        let candidates = if quick {
            quick_bandwidth_candidates(kernel.kernel)
        } else {
            bandwidth_candidates(kernel.kernel)
        };
        if let Some((kernel, record)) =
            search_bandwidth_among(backend, workload, kernel.kernel, &candidates, timing, seed)
        {
            out.push(BandwidthTuned {
                workload,
                kernel,
                record,
            });
        }
    }
    out
}

/// A short timing configuration for tuning trials: enough samples for a median, no more.
pub fn trial_timing(base: &TimingConfig) -> TimingConfig {
    TimingConfig {
        warmup: Duration::from_millis(50),
        samples: 3,
        target_sample: Duration::from_millis(10),
        ..base.clone()
    }
}

/// Runs every candidate on `workload` and records the search. `None` when no candidate passed.
pub fn search(
    backend: &mut dyn Backend,
    candidates: &[KernelConfig],
    workload: Workload,
    timing: &TimingConfig,
    seed: u64,
    key: String,
) -> Option<TuningRecord> {
    let mut trials = Vec::with_capacity(candidates.len());
    for kernel in candidates {
        let spec = CaseSpec {
            workload,
            kernel: kernel.clone(),
            seed,
        };
        let case = backend.run_case(&spec, timing);
        trials.push(TuningTrial {
            kernel: kernel.id().to_string(),
            overrides: kernel.overrides.clone(),
            status: case.status,
            median: case.passed_throughput().map(|s| s.median.value),
            reason: case.reason.clone(),
            verification_host_s: case.verification.as_ref().and_then(|v| v.host_s),
        });
    }
    let best = trials
        .iter()
        .filter(|t| t.status == CaseStatus::Passed)
        .filter_map(|t| t.median.map(|m| (m, t)))
        .max_by(|a, b| a.0.total_cmp(&b.0))?
        .1;
    Some(TuningRecord {
        key,
        workload,
        chosen_kernel: best.kernel.clone(),
        chosen_overrides: best.overrides.clone(),
        from_cache: false,
        searched_at: crate::measure::machine::now_rfc3339(),
        trials,
    })
}

/// The configuration a record chose, looked up among `candidates`: a cache entry can only
/// select shipped code, never inject its own.
pub fn chosen_config(record: &TuningRecord, candidates: &[KernelConfig]) -> Option<KernelConfig> {
    candidates
        .iter()
        .find(|c| c.id() == record.chosen_kernel && c.overrides == record.chosen_overrides)
        .cloned()
}

/// The outcome of tuning one dtype.
#[derive(Debug, Clone, PartialEq)]
pub struct Tuned {
    /// The dtype tuned.
    pub dtype: Dtype,
    /// The search (searched now or read from the cache).
    pub record: TuningRecord,
    /// The candidates the search chose among.
    pub candidates: Vec<KernelConfig>,
}

impl Tuned {
    /// The winner's median throughput at the tuning size: the plan's estimate of what the tuned
    /// kernel reaches.
    pub fn best_rate(&self) -> Option<f64> {
        self.record
            .trials
            .iter()
            .filter(|t| t.status == CaseStatus::Passed)
            .filter_map(|t| t.median)
            .max_by(f64::total_cmp)
    }

    /// The median of the trial of `kernel_id` (any configuration's best), when it passed.
    pub fn rate_of(&self, kernel_id: &str) -> Option<f64> {
        self.record
            .trials
            .iter()
            .filter(|t| t.status == CaseStatus::Passed && t.kernel == kernel_id)
            .filter_map(|t| t.median)
            .max_by(f64::total_cmp)
    }
}

/// The tuned configuration for `w`: the fastest verified trial whose kernel can run the shape
/// (the winner itself unless the shape rules it out).
pub fn config_for(t: &Tuned, w: &Workload) -> Option<KernelConfig> {
    let mut passed: Vec<_> = t
        .record
        .trials
        .iter()
        .filter(|tr| tr.status == CaseStatus::Passed)
        .filter_map(|tr| tr.median.map(|m| (m, tr)))
        .collect();
    passed.sort_by(|a, b| b.0.total_cmp(&a.0));
    passed.iter().find_map(|(_, tr)| {
        t.candidates
            .iter()
            .find(|c| c.id() == tr.kernel && c.overrides == tr.overrides)
            .filter(|c| c.shape_problem(w).is_none())
            .map(|c| c.clone().into_tuned())
    })
}

/// The search record of `case`'s dtype, for a tuned case: what the file stores beside it.
pub fn record_for<'a>(tuned: &'a [Tuned], spec: &CaseSpec) -> Option<&'a TuningRecord> {
    spec.kernel
        .tuned
        .then(|| tuned.iter().find(|t| t.dtype == spec.workload.dtype))
        .flatten()
        .map(|t| &t.record)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::fake::{fake_adapter, FakeBackend};
    use crate::measure::tune::space::candidates;

    #[test]
    fn search_picks_a_passing_candidate_and_records_every_trial() {
        let mut backend = FakeBackend::new("fake", 100.0, 0.3, 1);
        let cands = candidates(&fake_adapter("gpu"), Dtype::F32);
        let w = Workload::matmul(Dtype::F32, 64, 64, 64);
        let timing = trial_timing(&TimingConfig::default());
        let rec = search(&mut backend, &cands, w, &timing, 3, "k".into()).unwrap();
        assert_eq!(rec.trials.len(), cands.len());
        let best = rec
            .trials
            .iter()
            .filter_map(|t| t.median)
            .fold(f64::MIN, f64::max);
        let chosen = chosen_config(&rec, &cands).unwrap();
        let chosen_trial = rec
            .trials
            .iter()
            .find(|t| t.kernel == chosen.id() && t.overrides == chosen.overrides)
            .unwrap();
        assert_eq!(chosen_trial.median, Some(best));
    }

    #[test]
    fn search_skips_candidates_that_cannot_run_the_shape() {
        let mut backend = FakeBackend::new("fake", 100.0, 0.0, 1);
        // 4x4x4: texture kernels with 8+ rows per invocation cannot run it.
        let w = Workload::matmul(Dtype::F32, 4, 4, 4);
        let timing = trial_timing(&TimingConfig::default());
        let rec = search(
            &mut backend,
            &candidates(&fake_adapter("gpu"), Dtype::F32),
            w,
            &timing,
            3,
            "k".into(),
        )
        .unwrap();
        assert!(rec.trials.iter().any(|t| t.status == CaseStatus::Skipped));
        let winner = rec
            .trials
            .iter()
            .find(|t| t.kernel == rec.chosen_kernel && t.overrides == rec.chosen_overrides)
            .unwrap();
        assert_eq!(winner.status, CaseStatus::Passed);
    }

    #[test]
    fn bandwidth_search_keeps_the_best_verified_variant_and_the_whole_search() {
        let mut backend = FakeBackend::new("fake", 100.0, 0.3, 1);
        let (w, k) = crate::kernels::ceiling_cases(&fake_adapter("fake"))
            .into_iter()
            .find(|(w, _)| w.op == crate::workload::Op::Copy)
            .unwrap();
        let timing = TimingConfig::default();
        let (best, record) = search_bandwidth(&mut backend, w, k.kernel, &timing, 3).unwrap();
        assert!(best.tuned);
        assert_eq!(record.trials.len(), bandwidth_candidates(k.kernel).len());
        let spec = CaseSpec {
            workload: w,
            kernel: best.clone(),
            seed: 0,
        };
        assert!(
            spec.id().starts_with("copy_tuned/copy/f32/"),
            "{}",
            spec.id()
        );
        let fastest = record
            .trials
            .iter()
            .filter_map(|t| t.median)
            .fold(f64::MIN, f64::max);
        let won = record
            .trials
            .iter()
            .find(|t| t.overrides == best.overrides)
            .unwrap();
        assert_eq!(won.median, Some(fastest));
    }

    #[test]
    fn a_cached_choice_must_name_a_shipped_candidate() {
        let cands = candidates(&fake_adapter("gpu"), Dtype::F32);
        let mut rec = TuningRecord {
            key: "k".into(),
            workload: Workload::matmul(Dtype::F32, 8, 8, 8),
            chosen_kernel: cands[4].id().into(),
            chosen_overrides: cands[4].overrides.clone(),
            from_cache: true,
            searched_at: String::new(),
            trials: Vec::new(),
        };
        assert!(chosen_config(&rec, &cands).is_some());
        rec.chosen_overrides.insert("BM".into(), 99.0);
        assert!(chosen_config(&rec, &cands).is_none());
    }
}
