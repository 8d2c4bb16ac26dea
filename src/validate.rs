//! Re-checking a result file against itself: every statistic is re-derived from the raw samples
//! with the same [`derive_timing`] the runner used, work is recounted from the shape, and status,
//! verification, clocks and published peaks are cross-checked. A hand-edited number, a faked
//! throughput or a corrupted sample shows up as a [`Finding`] instead of flowing silently into a
//! comparison. Pure: data in, findings out; [`policy`] wraps it for loaders.

pub mod peaks;
pub mod plausible;
pub mod policy;
pub mod verdicts;

pub use peaks::CatalogPeaks;
pub use policy::{load_checked, Checked, LoadPolicy};

use crate::kernels::{Kernel, KernelConfig};
use crate::results::{
    derive_timing, AdapterRecord, Case, CaseStatus, RateUnit, RawTiming, ResultFile, Timing,
};
use crate::stats::Summary;
use crate::workload::{Dtype, Op, Workload};
use std::collections::BTreeMap;

/// Sides larger than this are not a benchmark shape but a corrupted or hostile file (the runner
/// refuses sides above 2^17).
pub const MAX_PLAUSIBLE_SIDE: u64 = 1 << 20;

/// More samples than this per case are refused before re-deriving: no run takes that many, and
/// the statistics are quadratic in the count.
pub const MAX_SAMPLES: usize = 10_000;

/// A GPU may not take longer than the host waited for it; this fraction of slack covers clock
/// granularity.
pub const GPU_OVER_HOST_SLACK: f64 = 0.10;

pub use crate::results::FAULT_ENV;

/// Which check a finding comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Check {
    /// The run section contradicts itself or the cases.
    Run,
    /// Two cases share an id.
    Duplicate,
    /// The id, shape or kernel configuration do not agree.
    Identity,
    /// Status, reason, verification and timing do not agree.
    Status,
    /// The output check is missing, failed or was edited.
    Verification,
    /// A raw sample is NaN, infinite, zero or negative, or the counts are wrong.
    Samples,
    /// A stored statistic differs from the one re-derived from the samples.
    Statistics,
    /// GPU time exceeds host time, or timestamps without the feature.
    Clocks,
    /// Throughput beyond the published peak of the matched device.
    Peak,
    /// Fault injection was on when the file was written.
    Injected,
}

impl Check {
    /// The check's name as printed.
    pub fn label(self) -> &'static str {
        match self {
            Check::Run => "run",
            Check::Duplicate => "duplicate",
            Check::Identity => "identity",
            Check::Status => "status",
            Check::Verification => "verification",
            Check::Samples => "samples",
            Check::Statistics => "statistics",
            Check::Clocks => "clocks",
            Check::Peak => "peak",
            Check::Injected => "injected",
        }
    }
}

/// One inconsistency.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The case it concerns; `None` for the file as a whole.
    pub case: Option<String>,
    /// Which check found it.
    pub check: Check,
    /// What is wrong, in one line.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.case {
            Some(case) => write!(f, "case {case}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

/// Published peak throughput of an adapter, in the unit's ×10^9 (GFLOP/s or GB/s). The catalog
/// of datasheet figures implements it; tests pass closures.
pub trait PeakLookup {
    /// The datasheet peak for `unit` and `dtype` on `adapter`, or `None` when unknown.
    fn peak(&self, adapter: &AdapterRecord, unit: RateUnit, dtype: Dtype) -> Option<f64>;
}

impl<F> PeakLookup for F
where
    F: Fn(&AdapterRecord, RateUnit, Dtype) -> Option<f64>,
{
    fn peak(&self, adapter: &AdapterRecord, unit: RateUnit, dtype: Dtype) -> Option<f64> {
        self(adapter, unit, dtype)
    }
}

/// A lookup that knows no device: the peak check is then skipped.
pub struct NoPeaks;

impl PeakLookup for NoPeaks {
    fn peak(&self, _: &AdapterRecord, _: RateUnit, _: Dtype) -> Option<f64> {
        None
    }
}

/// Every inconsistency in `file`, file-level findings first, then cases in file order.
pub fn check_file(file: &ResultFile, peaks: &dyn PeakLookup) -> Vec<Finding> {
    let mut out = check_run(file);
    out.extend(plausible::file_findings(file));
    out.extend(check_duplicates(&file.cases));
    let own = plausible::OwnCeilings::of(file);
    for case in &file.cases {
        out.extend(check_case(case, file, &own, peaks));
    }
    out
}

/// Every inconsistency of one case (duplicates are a file-level matter), against the file's
/// own ceilings gathered once ([`plausible::OwnCeilings::of`]).
pub fn check_case(
    case: &Case,
    file: &ResultFile,
    own: &plausible::OwnCeilings,
    peaks: &dyn PeakLookup,
) -> Vec<Finding> {
    let mut problems = Vec::new();
    problems.extend(check_identity(case).map(|m| (Check::Identity, m)));
    problems.extend(check_status(case).map(|m| (Check::Status, m)));
    problems.extend(check_verification(case).map(|m| (Check::Verification, m)));
    if let Some(timing) = &case.timing {
        problems.extend(check_timing(case, timing, file, peaks));
    }
    problems.extend(plausible::case_problems(case, file, own, peaks));
    problems
        .into_iter()
        .map(|(check, message)| Finding {
            case: Some(case.id.clone()),
            check,
            message,
        })
        .collect()
}

fn file_finding(check: Check, message: String) -> Finding {
    Finding {
        case: None,
        check,
        message,
    }
}

fn check_run(file: &ResultFile) -> Vec<Finding> {
    let run = &file.run;
    let mut out = Vec::new();
    if run.samples < 2 {
        out.push(format!(
            "run.samples is {}; at least 2 are needed",
            run.samples
        ));
    }
    if run.complete && run.finished_at.is_none() {
        out.push("run is marked complete but has no finished_at".to_string());
    }
    if !(run.warmup_s.is_finite() && run.warmup_s >= 0.0) {
        out.push(format!("run.warmup_s {} is not a duration", run.warmup_s));
    }
    if run.run_id.trim().is_empty() {
        out.push("run.run_id is empty; every run needs an id to be told apart".to_string());
    }
    if file.cases.is_empty() {
        out.push("the file holds no case: nothing was measured".to_string());
    }
    let mut found: Vec<Finding> = out
        .into_iter()
        .map(|m| file_finding(Check::Run, m))
        .collect();
    if let Some(value) = file.machine.env.get(FAULT_ENV) {
        found.push(file_finding(
            Check::Injected,
            format!("written with {FAULT_ENV}={value}: injected faults, not measurements"),
        ));
    }
    found
}

fn check_duplicates(cases: &[Case]) -> Vec<Finding> {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for case in cases {
        *counts.entry(case.id.as_str()).or_default() += 1;
    }
    counts
        .into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|(id, n)| Finding {
            case: Some(id.to_string()),
            check: Check::Duplicate,
            message: format!("case id appears {n} times; ids must be unique"),
        })
        .collect()
}

/// Element-wise and peak workloads count elements or invocations in `m` (and FMAs in `k`), so
/// they legitimately run to billions; a matmul side past [`MAX_PLAUSIBLE_SIDE`] is absurd.
fn shape_problem(w: &Workload) -> Option<String> {
    let (limit_m, limit_nk) = match w.op {
        Op::Matmul => (MAX_PLAUSIBLE_SIDE, MAX_PLAUSIBLE_SIDE),
        _ => (1 << 40, 1 << 32),
    };
    let bad = w.m == 0 || w.n == 0 || w.k == 0 || w.m > limit_m || w.n > limit_nk || w.k > limit_nk;
    bad.then(|| {
        format!(
            "absurd shape {}x{}x{} for {} (sides must be 1..={limit_m} and 1..={limit_nk})",
            w.m, w.n, w.k, w.op
        )
    })
}

/// What the case says it computed, with what: shape, id, overrides and dispatch, then the
/// source hash it is matched across files by.
fn check_identity(case: &Case) -> Option<String> {
    workload_problem(case).or_else(|| {
        (!is_sha256_hex(&case.kernel.source_hash)).then(|| {
            format!(
                "kernel.source_hash '{}' is not a SHA-256 hash (64 lower-case hex digits)",
                case.kernel.source_hash
            )
        })
    })
}

fn workload_problem(case: &Case) -> Option<String> {
    let w = &case.workload;
    if let Some(problem) = shape_problem(w) {
        return Some(problem);
    }
    // The autotuner's pick is named `<op>_tuned/…` so machines compare their best kernels.
    let name = if case.tuning.is_some() {
        format!("{}_tuned", w.op)
    } else {
        case.kernel.id.clone()
    };
    let expected = format!("{name}/{}", w.key());
    if case.id != expected {
        return Some(format!(
            "id does not match kernel and shape (expected {expected})"
        ));
    }
    let kernel = Kernel::from_id(&case.kernel.id);
    let implausible = case
        .kernel
        .overrides
        .iter()
        .find(|(name, value)| !plausible(kernel, name, **value));
    if let Some((name, value)) = implausible {
        return Some(format!(
            "override {name} = {value} is not a whole number from 1 to {MAX_OVERRIDE}"
        ));
    }
    let kernel = kernel?;
    let config = KernelConfig {
        kernel,
        overrides: case.kernel.overrides.clone(),
        tuned: case.tuning.is_some(),
    };
    let dispatch = config.dispatch(w);
    (dispatch != case.kernel.dispatch).then(|| {
        format!(
            "dispatch {:?} does not cover the shape ({dispatch:?} expected)",
            case.kernel.dispatch
        )
    })
}

/// Whether `text` is what `run` writes as a source hash: SHA-256 as 64 lower-case hex digits.
/// Cases are matched across files by it, so a made-up one would match nothing or anything.
fn is_sha256_hex(text: &str) -> bool {
    text.len() == 64
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Tile and workgroup overrides larger than this are corrupt, not configurations.
const MAX_OVERRIDE: f64 = 65536.0;

/// Whether an override value can size a workgroup or a tile: a zero would divide by zero when
/// the dispatch is recomputed.
/// A size or count from 1 up, or 0 for a switch that is off by default (`TEX` 0: inputs from
/// buffers), since such a kernel records its switches among its overrides too.
fn plausible(kernel: Option<Kernel>, name: &str, value: f64) -> bool {
    let off_by_default = kernel
        .and_then(|k| k.param(name))
        .is_some_and(|p| p.default == 0);
    let lowest = if off_by_default { 0.0 } else { 1.0 };
    value.fract() == 0.0 && (lowest..=MAX_OVERRIDE).contains(&value)
}

fn check_status(case: &Case) -> Option<String> {
    let has_reason = case.reason.as_deref().is_some_and(|r| !r.trim().is_empty());
    match case.status {
        CaseStatus::Passed if case.timing.is_none() => Some("passed but has no timing".to_string()),
        CaseStatus::Passed if case.verification.is_none() => {
            Some("passed but its output was never verified".to_string())
        }
        CaseStatus::Passed => None,
        _ if !has_reason => Some(format!("{:?} without a reason", case.status)),
        CaseStatus::Skipped | CaseStatus::Unsupported if case.timing.is_some() => {
            Some(format!("{:?} but carries timings", case.status))
        }
        _ => None,
    }
}

fn check_verification(case: &Case) -> Option<String> {
    let v = case.verification.as_ref()?;
    let w = &case.workload;
    if !(v.rel_error.is_finite() && v.rel_error >= 0.0) && case.status == CaseStatus::Passed {
        return Some(format!("passed with relative error {}", v.rel_error));
    }
    // Ceiling kernels check tighter than the dtype allows (their sums are exact); a looser
    // tolerance than the dtype's would let a wrong kernel pass.
    if !(v.tolerance >= 0.0 && v.tolerance <= w.dtype.tolerance()) {
        return Some(format!(
            "tolerance {:e} is looser than the {} tolerance {:e}",
            v.tolerance,
            w.dtype,
            w.dtype.tolerance()
        ));
    }
    if case.status == CaseStatus::Passed && v.rel_error > v.tolerance {
        return Some(format!(
            "passed with relative error {:e} above the tolerance {:e}",
            v.rel_error, v.tolerance
        ));
    }
    // Ceiling kernels verify a checksum, so only a matmul's element count follows from its shape.
    let outputs = w.m.checked_mul(w.n);
    let count_wrong = w.op == Op::Matmul && outputs != Some(v.total_elements);
    if count_wrong || v.checked_elements > v.total_elements {
        return Some(format!(
            "checked {} of {} output elements, but the shape has {}",
            v.checked_elements,
            v.total_elements,
            outputs.map_or_else(|| "too many".to_string(), |n| n.to_string())
        ));
    }
    if case.status == CaseStatus::Passed {
        if let Some(why) = v.failure() {
            return Some(format!("passed with {why}"));
        }
    }
    None
}

type Problem = (Check, String);

fn check_timing(
    case: &Case,
    timing: &Timing,
    file: &ResultFile,
    peaks: &dyn PeakLookup,
) -> Vec<Problem> {
    if let Some(problem) = check_samples(timing, case, file.run.samples) {
        return vec![(Check::Samples, problem)];
    }
    let mut out = Vec::new();
    out.extend(rederive(&case.workload, timing).map(|m| (Check::Statistics, m)));
    out.extend(check_clocks(timing, &file.machine.adapter).map(|m| (Check::Clocks, m)));
    let peak = peaks::case_peak(case, file, timing.unit, peaks);
    let whose = match peaks::host_reference_threads(case, file) {
        Some(threads) => format!("host peak of {threads} thread(s)"),
        None => "published peak".to_string(),
    };
    out.extend(check_peak(timing, peak, &whose).map(|m| (Check::Peak, m)));
    out
}

/// Why `taken` samples do not fit how the case says it was sampled (or, for files without a
/// sampling record, the run's fixed count).
fn sample_count_problem(
    taken: usize,
    sampling: Option<&crate::results::SamplingRecord>,
    planned: usize,
) -> Option<String> {
    use crate::results::{SamplingRule, StopReason};
    let Some(s) = sampling else {
        return (taken != planned)
            .then(|| format!("{taken} host samples but the run took {planned} per case"));
    };
    let least = match (s.rule, s.stopped) {
        (_, StopReason::Interrupted | StopReason::Budget) => 2,
        _ => s.planned,
    };
    if taken < least || (s.rule == SamplingRule::Fixed && taken > s.planned) {
        return Some(format!(
            "{taken} host samples but the case's sampling record planned {} ({:?}, stopped: {:?})",
            s.planned, s.rule, s.stopped
        ));
    }
    if s.target_half_width
        .is_some_and(|t| s.noisy != (s.half_width > t))
    {
        return Some(format!(
            "noisy is {} but the half-width {} and target {:?} say otherwise",
            s.noisy, s.half_width, s.target_half_width
        ));
    }
    None
}

fn check_samples(timing: &Timing, case: &Case, planned: usize) -> Option<String> {
    let host = &timing.host_s;
    if host.len() > MAX_SAMPLES {
        return Some(format!(
            "{} samples; more than {MAX_SAMPLES} is not a real run",
            host.len()
        ));
    }
    if let Some(problem) = sample_count_problem(host.len(), case.sampling.as_ref(), planned) {
        return Some(problem);
    }
    if let Some(gpu) = &timing.gpu_s {
        if gpu.len() != host.len() {
            return Some(format!(
                "{} GPU samples but {} host samples",
                gpu.len(),
                host.len()
            ));
        }
    }
    if timing.dispatches_per_sample == 0 {
        return Some("zero dispatches per sample".to_string());
    }
    bad_sample("host_s", host).or_else(|| bad_sample("gpu_s", timing.gpu_s.as_deref()?))
}

fn bad_sample(name: &str, values: &[f64]) -> Option<String> {
    let (index, value) = values
        .iter()
        .enumerate()
        .find(|(_, v)| !(v.is_finite() && **v > 0.0))?;
    Some(format!(
        "{name}[{index}] is {value}; a duration must be finite and positive"
    ))
}

/// Recomputes the statistics and names the first stored figure that differs.
fn rederive(workload: &Workload, stored: &Timing) -> Option<String> {
    let raw = RawTiming {
        host_s: stored.host_s.clone(),
        gpu_s: stored.gpu_s.clone(),
        dispatches_per_sample: stored.dispatches_per_sample,
        warmup_dispatches: stored.warmup_dispatches,
    };
    let fresh = match derive_timing(workload, raw) {
        Ok(t) => t,
        Err(e) => return Some(format!("samples cannot be summarised: {e}")),
    };
    if fresh.unit != stored.unit {
        return Some(format!(
            "unit {} does not fit a {} workload ({} expected)",
            stored.unit.label(),
            workload.op,
            fresh.unit.label()
        ));
    }
    if fresh.headline != stored.headline {
        return Some(format!(
            "headline {:?} but the samples make it {:?}",
            stored.headline, fresh.headline
        ));
    }
    let pairs = [
        (
            "throughput",
            Some(&stored.throughput),
            Some(&fresh.throughput),
        ),
        ("host", Some(&stored.host), Some(&fresh.host)),
        ("gpu", stored.gpu.as_ref(), fresh.gpu.as_ref()),
    ];
    for (name, s, f) in pairs {
        if let Some(m) = summary_mismatch(name, s, f) {
            return Some(m);
        }
    }
    disagreement_mismatch(stored, &fresh)
}

fn summary_mismatch(
    name: &str,
    stored: Option<&Summary>,
    fresh: Option<&Summary>,
) -> Option<String> {
    let (s, f) = match (stored, fresh) {
        (None, None) => return None,
        (Some(s), Some(f)) => (s, f),
        (s, _) => {
            let has = if s.is_some() { "has" } else { "lacks" };
            return Some(format!(
                "{name} summary: the file {has} one, the samples disagree"
            ));
        }
    };
    if s.n != f.n {
        return Some(format!("{name}.n is {} but there are {} samples", s.n, f.n));
    }
    let fields = [
        ("median.value", s.median.value, f.median.value),
        ("min", s.min, f.min),
        ("max", s.max, f.max),
        ("mad", s.mad, f.mad),
        ("median.low", s.median.low, f.median.low),
        ("median.high", s.median.high, f.median.high),
        ("median.level", s.median.level, f.median.level),
    ];
    let (field, stored, derived) = fields.into_iter().find(|(_, a, b)| !close(*a, *b))?;
    Some(format!(
        "stored {name}.{field} {stored} but the samples and shape give {derived}"
    ))
}

fn disagreement_mismatch(stored: &Timing, fresh: &Timing) -> Option<String> {
    let same = match (stored.clock_disagreement, fresh.clock_disagreement) {
        (None, None) => true,
        (Some(a), Some(b)) => close(a, b),
        _ => false,
    };
    if !same || stored.clocks_disagree != fresh.clocks_disagree {
        return Some(format!(
            "stored clock disagreement {:?}/{} but the samples give {:?}/{}",
            stored.clock_disagreement,
            stored.clocks_disagree,
            fresh.clock_disagreement,
            fresh.clocks_disagree
        ));
    }
    None
}

/// Equal up to rounding in the last bits (JSON round-trips are exact; this allows for other
/// writers).
fn close(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

fn check_clocks(timing: &Timing, adapter: &AdapterRecord) -> Option<String> {
    let gpu = timing.gpu.as_ref()?;
    if !adapter.has_feature("timestamp_query") {
        return Some("GPU timestamps from an adapter without timestamp_query".to_string());
    }
    (gpu.median.value > timing.host.median.value * (1.0 + GPU_OVER_HOST_SLACK)).then(|| {
        format!(
            "GPU median {:e} s exceeds the host median {:e} s it was waited for",
            gpu.median.value, timing.host.median.value
        )
    })
}

/// A best sample above `peak`, the ceiling named by `whose`.
fn check_peak(timing: &Timing, peak: Option<f64>, whose: &str) -> Option<String> {
    let peak = peak?;
    let best = timing.throughput.max;
    (best > peak).then(|| {
        format!(
            "throughput {best:.1} {} exceeds the {whose} {peak:.1}",
            timing.unit.label()
        )
    })
}

#[cfg(test)]
mod tests;
