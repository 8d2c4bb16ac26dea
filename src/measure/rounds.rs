//! Taking a suite's samples in interleaved rounds. Cases are prepared in plan order (each one
//! verified, warmed up and given its first two samples, then saved), and then every prepared
//! case takes a few more samples per round until each has what it needs: drift in clocks,
//! neighbours or temperature over the run then touches every case alike instead of whichever
//! case happened to run during it. Prepared cases stay within a memory budget: the plan is
//! split into consecutive groups that fit, and each group is prepared, sampled and released in
//! turn. The file is saved after every case and every round, so an interrupted run keeps every
//! sample taken so far.
//!
//! Headline cases sample adaptively: at least a minimum, then until the median's 95% interval
//! is within the target half-width or the case's share of the budget is spent, in which case it
//! is marked noisy with its half-width. Time is kept on the backend's own clock (wall time on a
//! real adapter, simulated time on the fake), so the same logic is tested deterministically.

use crate::error::Result;
use crate::kernels::buffer_bytes;
use crate::measure::backend::{
    case_with_samples, failed, Backend, CaseSpec, Observer, Preparation, ReadyCase, SampleTime,
    SuiteEnd, TimingConfig,
};
use crate::results::{self, Case, CaseRole, ResultFile, SamplingRecord, SamplingRule, StopReason};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// Rounds the samples of a case are spread over, when its budget allows.
pub const ROUNDS: usize = 8;
/// Samples every prepared case takes at once, so the file holds a valid interval at once.
pub const FIRST_SAMPLES: usize = 2;
/// The most samples an adaptive case takes, however fast it is.
pub const MAX_ADAPTIVE_SAMPLES: usize = 2000;

/// How many samples a case takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sampling {
    /// Exactly this many.
    Fixed(usize),
    /// Until the interval is tight or the share is spent.
    Adaptive(Adaptive),
}

/// The rule of an adaptive case.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Adaptive {
    /// Samples taken before the interval is looked at.
    pub min: usize,
    /// Relative 95% half-width to reach (0.02 for ±2%).
    pub target_half_width: f64,
    /// Seconds of sampling this case may spend.
    pub share_s: f64,
}

/// One case of a suite, with how it is sampled and what the plan expects it to cost.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCase {
    /// The case.
    pub spec: CaseSpec,
    /// Its sampling rule.
    pub sampling: Sampling,
    /// Headline or baseline.
    pub role: CaseRole,
    /// Estimated seconds (preparation, warm-up, samples); 0 when unknown.
    pub estimate_s: f64,
    /// The tuning search that chose this case's kernel, stored on the case.
    pub tuning: Option<crate::results::TuningRecord>,
}

impl PlannedCase {
    /// A case with its rule; adaptive cases are headline cases, fixed ones baselines.
    pub fn new(spec: CaseSpec, sampling: Sampling) -> Self {
        let role = match sampling {
            Sampling::Fixed(_) => CaseRole::Baseline,
            Sampling::Adaptive(_) => CaseRole::Headline,
        };
        PlannedCase {
            spec,
            sampling,
            role,
            estimate_s: 0.0,
            tuning: None,
        }
    }
}

/// A suite ready to run: its cases, timing and limits.
#[derive(Debug, Clone, PartialEq)]
pub struct Suite {
    /// Cases in plan order.
    pub cases: Vec<PlannedCase>,
    /// How each case is timed.
    pub timing: TimingConfig,
    /// Device bytes prepared cases may hold at once.
    pub resident_bytes: u64,
    /// Seconds after which adaptive cases stop, whatever their share (the run's budget less
    /// what was spent before the suite); `None` for no limit.
    pub deadline_s: Option<f64>,
    /// Vendor-library references, measured on the host after the WGSL cases.
    pub vendor: Vec<VendorCase>,
}

/// A vendor-library reference of the plan (the host SGEMM on a CPU adapter): not a wgpu case,
/// so it runs as the suite's last step, with a fixed sample count and raw samples kept.
#[derive(Debug, Clone, PartialEq)]
pub struct VendorCase {
    /// The f32 matmul, copy or triad it computes.
    pub workload: crate::workload::Workload,
    /// Seed of its inputs.
    pub seed: u64,
    /// Samples it takes.
    pub samples: usize,
    /// Estimated seconds.
    pub estimate_s: f64,
}

impl Suite {
    /// Estimated seconds of the host references, which run after every WGSL case.
    pub fn vendor_estimate_s(&self) -> f64 {
        self.vendor.iter().map(|v| v.estimate_s).sum()
    }

    /// A suite with a 2 GiB residency limit (or `--max-memory`, when lower) and no deadline.
    pub fn new(cases: Vec<PlannedCase>, timing: TimingConfig) -> Self {
        let resident_bytes = timing.max_memory.unwrap_or(u64::MAX).min(2 << 30);
        Suite {
            cases,
            timing,
            resident_bytes,
            deadline_s: None,
            vendor: Vec::new(),
        }
    }
}

/// The share each case gets when `total` is split equally, except that a case whose least
/// exceeds its equal share keeps its least and the others split what remains.
pub fn equal_share(total: f64, mut least: Vec<f64>) -> f64 {
    least.sort_by(|a, b| b.total_cmp(a));
    let mut left = total;
    for (i, l) in least.iter().enumerate() {
        let share = left / (least.len() - i) as f64;
        if *l <= share {
            return share;
        }
        left -= l;
    }
    0.0
}

/// Device bytes a case holds while prepared: its buffers and the output's read-back twin.
pub fn resident_bytes(spec: &CaseSpec) -> u64 {
    let buffers = buffer_bytes(&spec.workload);
    buffers.iter().sum::<u64>() + buffers.last().copied().unwrap_or(0)
}

/// Consecutive ranges of `cases` whose resident bytes fit `limit`; a case larger than the limit
/// on its own gets a group of its own.
pub fn memory_groups(cases: &[PlannedCase], limit: u64) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let (mut start, mut held) = (0, 0u64);
    for (i, case) in cases.iter().enumerate() {
        let bytes = resident_bytes(&case.spec);
        if i > start && held.saturating_add(bytes) > limit {
            groups.push(start..i);
            start = i;
            held = 0;
        }
        held = held.saturating_add(bytes);
    }
    if start < cases.len() {
        groups.push(start..cases.len());
    }
    groups
}

/// A prepared case and the samples it has taken.
struct Active {
    ready: ReadyCase,
    sampling: Sampling,
    samples: Vec<SampleTime>,
    spent_s: f64,
    rounds: usize,
    stopped: Option<StopReason>,
    error: Option<String>,
    released: bool,
}

impl Active {
    /// The case as it stands, with its sampling record.
    fn snapshot(&self) -> Case {
        if let Some(reason) = &self.error {
            return failed(&self.ready.case, reason);
        }
        let mut case = case_with_samples(&self.ready, &self.samples);
        if let Some(t) = &case.timing {
            case.sampling = Some(self.record(t.throughput.median.relative_half_width()));
        }
        case
    }

    fn record(&self, half_width: f64) -> SamplingRecord {
        let (rule, planned, target) = match self.sampling {
            Sampling::Fixed(n) => (SamplingRule::Fixed, n, None),
            Sampling::Adaptive(a) => (SamplingRule::Adaptive, a.min, Some(a.target_half_width)),
        };
        let stopped = self.stopped.unwrap_or(StopReason::Interrupted);
        SamplingRecord {
            rule,
            planned,
            target_half_width: target,
            half_width,
            noisy: target.is_some_and(|t| half_width > t),
            stopped,
            rounds: self.rounds,
        }
    }

    /// Seconds one sample takes.
    fn sample_s(&self) -> f64 {
        (self.ready.dispatch_s * f64::from(self.ready.dispatches_per_sample)).max(1e-9)
    }

    /// Samples to take in the next round.
    fn next_batch(&self) -> usize {
        let taken = self.samples.len();
        match self.sampling {
            Sampling::Fixed(n) => n
                .saturating_sub(taken)
                .min(n.saturating_sub(FIRST_SAMPLES).div_ceil(ROUNDS).max(1)),
            Sampling::Adaptive(a) => {
                if taken < a.min {
                    return a.min - taken;
                }
                // Grow by half each round, so a quiet case stops soon after its minimum, but
                // never more than an even spread of the share over the rounds allows.
                let spread = (a.share_s / ROUNDS as f64 / self.sample_s()).floor() as usize;
                (taken / 2)
                    .clamp(1, spread.max(1))
                    .min(MAX_ADAPTIVE_SAMPLES - taken)
            }
        }
    }

    /// Why this case should stop now, if it should.
    fn stop_reason(&self, past_deadline: bool) -> Option<StopReason> {
        let taken = self.samples.len();
        match self.sampling {
            Sampling::Fixed(n) => (taken >= n).then_some(StopReason::Count),
            Sampling::Adaptive(a) => {
                let half_width = self
                    .snapshot()
                    .timing
                    .map_or(f64::INFINITY, |t| t.throughput.median.relative_half_width());
                if taken >= a.min && half_width <= a.target_half_width {
                    Some(StopReason::Target)
                } else if taken >= MAX_ADAPTIVE_SAMPLES {
                    Some(StopReason::MaxSamples)
                } else if past_deadline || (taken >= a.min && self.spent_s >= a.share_s) {
                    Some(StopReason::Budget)
                } else {
                    None
                }
            }
        }
    }

    /// Takes `count` samples; an error ends the case as failed. Returns the seconds it took
    /// on the backend's clock.
    fn take(&mut self, backend: &mut dyn Backend, count: usize, timing: &TimingConfig) -> f64 {
        let start = backend.clock_s();
        let taken = backend.sample(self.ready.handle, count, timing);
        let spent = (backend.clock_s() - start).max(0.0);
        match taken {
            Ok(samples) => {
                self.samples.extend(samples);
                self.spent_s += spent;
                self.rounds += 1;
                spent
            }
            Err(e) => {
                self.error = Some(e.to_string());
                self.stopped = Some(StopReason::Count);
                spent
            }
        }
    }

    fn done(&self) -> bool {
        self.stopped.is_some()
    }
}

/// Time accounting and the places a run writes to.
struct Run<'a> {
    backend: &'a mut dyn Backend,
    suite: &'a Suite,
    file: &'a mut ResultFile,
    path: &'a Path,
    observer: &'a mut dyn Observer,
    interrupted: &'a AtomicBool,
    /// The backend's clock when the suite started.
    started_s: f64,
    /// Estimated seconds of the cases not yet finished.
    pending_s: Vec<f64>,
    /// Estimated seconds of the host references not yet measured (they run last, so the time
    /// left that progress reports includes them).
    vendor_pending_s: f64,
}

/// Runs `suite` on `backend`, keeping `file` (saved to `path` at the start, after every case
/// and after every round) in plan order. Marks the file complete when every case ran.
pub fn run(
    backend: &mut dyn Backend,
    suite: &Suite,
    file: &mut ResultFile,
    path: &Path,
    observer: &mut dyn Observer,
    interrupted: &AtomicBool,
) -> Result<SuiteEnd> {
    results::save_atomic(path, file)?;
    let mut run = Run {
        pending_s: suite.cases.iter().map(|c| c.estimate_s).collect(),
        vendor_pending_s: suite.vendor_estimate_s(),
        started_s: backend.clock_s(),
        backend,
        suite,
        file,
        path,
        observer,
        interrupted,
    };
    for group in memory_groups(&suite.cases, suite.resident_bytes) {
        if run.run_group(group)? == SuiteEnd::Interrupted {
            return Ok(SuiteEnd::Interrupted);
        }
    }
    if run.run_vendor()? == SuiteEnd::Interrupted {
        return Ok(SuiteEnd::Interrupted);
    }
    run.file.run.complete = true;
    run.file.run.finished_at = Some(crate::measure::machine::now_rfc3339());
    results::save_atomic(path, run.file)?;
    Ok(SuiteEnd::Complete)
}

impl Run<'_> {
    /// Measures the vendor references, saving the file after each.
    fn run_vendor(&mut self) -> Result<SuiteEnd> {
        for v in &self.suite.vendor {
            if self.is_interrupted() {
                return Ok(SuiteEnd::Interrupted);
            }
            let timing = TimingConfig {
                samples: v.samples,
                ..self.suite.timing.clone()
            };
            let mut case =
                crate::measure::host_refs::run_host_reference(&v.workload, &timing, v.seed);
            if let Some(t) = &case.timing {
                case.sampling = Some(SamplingRecord {
                    rule: SamplingRule::Fixed,
                    planned: v.samples,
                    target_half_width: None,
                    half_width: t.throughput.median.relative_half_width(),
                    noisy: false,
                    stopped: StopReason::Count,
                    rounds: 1,
                });
            }
            self.file.cases.push(case);
            self.vendor_pending_s = (self.vendor_pending_s - v.estimate_s).max(0.0);
            self.save()?;
        }
        Ok(SuiteEnd::Complete)
    }

    fn remaining_s(&self) -> f64 {
        self.pending_s.iter().sum::<f64>() + self.vendor_pending_s
    }

    fn is_interrupted(&self) -> bool {
        self.interrupted.load(Ordering::SeqCst)
    }

    fn past_deadline(&self) -> bool {
        let spent = self.backend.clock_s() - self.started_s;
        self.suite.deadline_s.is_some_and(|d| spent >= d)
    }

    fn save(&mut self) -> Result<()> {
        results::save_atomic(self.path, self.file)
    }

    /// Prepares, samples in rounds and releases the cases of one memory group.
    fn run_group(&mut self, group: std::ops::Range<usize>) -> Result<SuiteEnd> {
        let base = self.file.cases.len();
        let mut active: Vec<(usize, Active)> = Vec::new();
        let mut end = SuiteEnd::Complete;
        for index in group.clone() {
            if self.is_interrupted() {
                end = SuiteEnd::Interrupted;
                break;
            }
            if let Some(a) = self.prepare(index)? {
                active.push((index - group.start, a));
            }
        }
        self.rebalance(&mut active, group.end);
        let mut round = 0;
        while end == SuiteEnd::Complete && active.iter().any(|(_, a)| !a.done()) {
            round += 1;
            end = self.round(&mut active, base, group.start)?;
            let open = active.iter().filter(|(_, a)| !a.done()).count();
            self.observer
                .round_finished(round, open, self.remaining_s());
        }
        for (slot, a) in active.iter_mut().filter(|(_, a)| !a.released) {
            self.backend.finish(a.ready.handle);
            a.released = true;
            self.file.cases[base + *slot] = a.snapshot();
        }
        self.save()?;
        Ok(end)
    }

    /// Sets the adaptive shares again from what preparing measured — each case's real sample
    /// time, and the time left before the deadline less what later groups expect to need — so
    /// an estimate that was off by a factor does not cost the budget.
    fn rebalance(&self, active: &mut [(usize, Active)], group_end: usize) {
        let Some(deadline) = self.suite.deadline_s else {
            return;
        };
        let spent = self.backend.clock_s() - self.started_s;
        let later: f64 = self.pending_s[group_end..].iter().sum();
        let mut left = deadline - spent - later;
        let mut least = Vec::new();
        for (_, a) in active.iter().filter(|(_, a)| !a.done()) {
            let taken = a.samples.len();
            match a.sampling {
                Sampling::Fixed(n) => left -= n.saturating_sub(taken) as f64 * a.sample_s(),
                Sampling::Adaptive(r) => {
                    least.push(r.min.saturating_sub(taken) as f64 * a.sample_s())
                }
            }
        }
        let share = equal_share(left, least);
        for (_, a) in active.iter_mut().filter(|(_, a)| !a.done()) {
            let least = match a.sampling {
                Sampling::Adaptive(r) => {
                    r.min.saturating_sub(a.samples.len()) as f64 * a.sample_s()
                }
                Sampling::Fixed(_) => continue,
            };
            let spent = a.spent_s;
            if let Sampling::Adaptive(r) = &mut a.sampling {
                r.share_s = spent + share.max(least);
            }
        }
    }

    /// Prepares case `index`, takes its first samples and saves it; `None` when it ended.
    fn prepare(&mut self, index: usize) -> Result<Option<Active>> {
        let planned = &self.suite.cases[index];
        let total = self.suite.cases.len();
        let remaining = self.remaining_s();
        self.observer
            .case_started(index, total, &planned.spec, remaining);
        let timing = &self.suite.timing;
        let ready = match self.backend.prepare(&planned.spec, timing) {
            Preparation::Finished(mut case) => {
                case.tuning = planned.tuning.clone();
                self.file.cases.push(*case);
                self.save()?;
                self.pending_s[index] = 0.0;
                let remaining = self.remaining_s();
                let case = &self.file.cases[self.file.cases.len() - 1];
                self.observer.case_finished(case, remaining);
                return Ok(None);
            }
            Preparation::Ready(mut ready) => {
                ready.case.tuning = planned.tuning.clone();
                *ready
            }
        };
        let mut active = Active {
            ready,
            sampling: planned.sampling,
            samples: Vec::new(),
            spent_s: 0.0,
            rounds: 0,
            stopped: None,
            error: None,
            released: false,
        };
        active.take(self.backend, FIRST_SAMPLES, timing);
        active.stopped = active.stopped.or(active.stop_reason(self.past_deadline()));
        let estimate = self.pending_s[index];
        self.pending_s[index] = (estimate - active.ready.setup_s - active.spent_s).max(0.0);
        self.file.cases.push(active.snapshot());
        self.save()?;
        if active.done() {
            self.release(&mut active, index, self.file.cases.len() - 1);
        }
        Ok(Some(active))
    }

    /// Frees a case that has all its samples and tells the observer.
    fn release(&mut self, a: &mut Active, index: usize, position: usize) {
        self.backend.finish(a.ready.handle);
        a.released = true;
        self.pending_s[index] = 0.0;
        let remaining = self.remaining_s();
        self.observer
            .case_finished(&self.file.cases[position], remaining);
    }

    /// One round: every open case takes its next batch; then the file is saved.
    fn round(
        &mut self,
        active: &mut [(usize, Active)],
        base: usize,
        first: usize,
    ) -> Result<SuiteEnd> {
        let timing = &self.suite.timing;
        let mut finished = Vec::new();
        for (slot, a) in active.iter_mut().filter(|(_, a)| !a.done()) {
            if self.is_interrupted() {
                self.save()?;
                return Ok(SuiteEnd::Interrupted);
            }
            let batch = a.next_batch();
            let spent = a.take(self.backend, batch, timing);
            let pending = &mut self.pending_s[first + *slot];
            *pending = (*pending - spent).max(0.0);
            a.stopped = a.stopped.or(a.stop_reason(self.past_deadline()));
            self.file.cases[base + *slot] = a.snapshot();
            if a.done() {
                finished.push(*slot);
            }
        }
        self.save()?;
        for (slot, a) in active.iter_mut().filter(|(s, _)| finished.contains(s)) {
            self.release(a, first + *slot, base + *slot);
        }
        Ok(SuiteEnd::Complete)
    }
}

/// Runs `plan` on `backend` with `timing.samples` samples per case, taken in interleaved
/// rounds, saving `file` to `path` before the first case and after every case and round.
pub fn run_suite(
    backend: &mut dyn Backend,
    plan: &[CaseSpec],
    timing: &TimingConfig,
    file: &mut ResultFile,
    path: &Path,
    observer: &mut dyn Observer,
    interrupted: &AtomicBool,
) -> Result<SuiteEnd> {
    let cases: Vec<PlannedCase> = plan
        .iter()
        .map(|spec| PlannedCase::new(spec.clone(), Sampling::Fixed(timing.samples.max(2))))
        .collect();
    let suite = Suite::new(cases, timing.clone());
    run(backend, &suite, file, path, observer, interrupted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::default_matmul_configs;
    use crate::measure::backend::{CaseHandle, Silent};
    use crate::measure::fake::{Drift, FakeBackend};
    use crate::results::{CaseStatus, RunInfo};
    use crate::workload::{Dtype, Workload};

    /// A fake backend that logs which case each `sample` call served.
    struct Recording {
        inner: FakeBackend,
        calls: Vec<CaseHandle>,
    }

    impl Backend for Recording {
        fn adapter(&self) -> &crate::results::AdapterRecord {
            self.inner.adapter()
        }
        fn prepare(&mut self, spec: &CaseSpec, timing: &TimingConfig) -> Preparation {
            self.inner.prepare(spec, timing)
        }
        fn sample(
            &mut self,
            handle: CaseHandle,
            count: usize,
            timing: &TimingConfig,
        ) -> Result<Vec<SampleTime>> {
            self.calls.push(handle);
            self.inner.sample(handle, count, timing)
        }
        fn finish(&mut self, handle: CaseHandle) {
            self.inner.finish(handle);
        }
        fn clock_s(&self) -> f64 {
            self.inner.clock_s()
        }
    }

    fn spec(side: u64, kernel: usize) -> CaseSpec {
        CaseSpec {
            workload: Workload::matmul(Dtype::F32, side, side, side),
            kernel: default_matmul_configs()[kernel].clone(),
            seed: side,
        }
    }

    fn adaptive(share_s: f64) -> Sampling {
        Sampling::Adaptive(Adaptive {
            min: 10,
            target_half_width: 0.02,
            share_s,
        })
    }

    fn file(backend: &dyn Backend) -> ResultFile {
        let machine = crate::measure::machine::describe(backend.adapter().clone(), "test");
        ResultFile::new(machine, RunInfo::new("t".into(), 1, 10))
    }

    /// Runs `cases` and returns how it ended, the file in memory and the file on disk.
    fn run_on(
        backend: &mut dyn Backend,
        cases: Vec<PlannedCase>,
        stop: bool,
    ) -> (SuiteEnd, ResultFile, ResultFile) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        let mut out = file(backend);
        let suite = Suite::new(cases, TimingConfig::default());
        let flag = AtomicBool::new(stop);
        let end = run(backend, &suite, &mut out, &path, &mut Silent, &flag).unwrap();
        (end, out, results::load(&path).unwrap())
    }

    #[test]
    fn samples_are_taken_in_rounds_across_cases() {
        let mut backend = Recording {
            inner: FakeBackend::new("fake", 100.0, 0.01, 1),
            calls: Vec::new(),
        };
        let cases = (0..3)
            .map(|i| PlannedCase::new(spec(64 + 16 * i, 0), Sampling::Fixed(10)))
            .collect();
        let (end, mem, disk) = run_on(&mut backend, cases, false);
        assert_eq!(end, SuiteEnd::Complete);
        assert_eq!(mem, disk);
        assert!(disk.run.complete);
        // After each case's first samples, the calls go round: a, b, c, a, b, c, ...
        let rounds = &backend.calls[3..];
        assert!(rounds.len() >= 3 * 5, "{:?}", backend.calls);
        for window in rounds.chunks(3) {
            let mut handles = window.to_vec();
            handles.sort_by_key(|h| h.0);
            handles.dedup();
            assert_eq!(handles.len(), window.len(), "{:?}", backend.calls);
        }
        for case in &disk.cases {
            assert_eq!(case.timing.as_ref().unwrap().host_s.len(), 10);
            let s = case.sampling.as_ref().unwrap();
            assert_eq!(
                (s.rule, s.stopped),
                (SamplingRule::Fixed, StopReason::Count)
            );
            assert!(s.rounds >= 5);
        }
    }

    #[test]
    fn drift_touches_interleaved_cases_alike() {
        let drift = Drift {
            amplitude: 0.3,
            period_s: 4.0,
        };
        let median = |c: &Case| c.timing.as_ref().unwrap().throughput.median.value;
        let spread = |cases: &[Case]| {
            let m: Vec<f64> = cases.iter().map(median).collect();
            let (lo, hi) = m
                .iter()
                .fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(*x), b.max(*x)));
            hi / lo - 1.0
        };
        let specs: Vec<CaseSpec> = (0..4).map(|i| spec(256, i % 2)).collect();
        let timing = TimingConfig::default();
        let mut one_by_one = FakeBackend::new("fake", 100.0, 0.0, 1).with_drift(drift);
        let back_to_back: Vec<Case> = specs
            .iter()
            .map(|s| one_by_one.run_case(s, &timing))
            .collect();
        let mut rounds = FakeBackend::new("fake", 100.0, 0.0, 1).with_drift(drift);
        let cases = specs
            .into_iter()
            .map(|s| PlannedCase::new(s, Sampling::Fixed(10)))
            .collect();
        let (_, _, interleaved) = run_on(&mut rounds, cases, false);
        let (apart, together) = (spread(&back_to_back), spread(&interleaved.cases));
        assert!(
            together < apart / 2.0,
            "interleaved {together}, back to back {apart}"
        );
    }

    #[test]
    fn a_quiet_case_stops_at_its_target_and_a_noisy_one_is_marked() {
        let mut quiet = FakeBackend::new("fake", 100.0, 0.001, 1);
        let (_, _, file) = run_on(
            &mut quiet,
            vec![PlannedCase::new(spec(128, 1), adaptive(10.0))],
            false,
        );
        let s = file.cases[0].sampling.clone().unwrap();
        assert_eq!(s.stopped, StopReason::Target);
        assert!(!s.noisy && s.half_width <= 0.02);
        assert_eq!(file.cases[0].timing.as_ref().unwrap().host_s.len(), 10);

        let mut noisy = FakeBackend::new("fake", 100.0, 0.5, 1);
        let (_, _, file) = run_on(
            &mut noisy,
            vec![PlannedCase::new(spec(128, 1), adaptive(0.5))],
            false,
        );
        let case = &file.cases[0];
        let s = case.sampling.clone().unwrap();
        assert_eq!(s.stopped, StopReason::Budget);
        assert!(s.noisy && s.half_width > 0.02, "{s:?}");
        let stored = case
            .timing
            .as_ref()
            .unwrap()
            .throughput
            .median
            .relative_half_width();
        assert_eq!(s.half_width, stored);
        assert!(crate::validate::check_file(&file, &crate::validate::NoPeaks).is_empty());
    }

    #[test]
    fn a_noisy_case_samples_more_than_its_minimum_within_its_share() {
        let mut backend = FakeBackend::new("fake", 100.0, 0.1, 2);
        let (_, _, file) = run_on(
            &mut backend,
            vec![PlannedCase::new(spec(128, 1), adaptive(5.0))],
            false,
        );
        let n = file.cases[0].timing.as_ref().unwrap().host_s.len();
        assert!(n > 10, "{n}");
        // 128³ at 100 GFLOP/s is ~42 µs; batched to 20 ms samples, 5 s hold about 250.
        assert!(n < 400, "{n}");
    }

    #[test]
    fn the_deadline_stops_adaptive_cases() {
        let mut backend = FakeBackend::new("fake", 100.0, 0.3, 1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        let mut out = file(&backend);
        let cases = vec![PlannedCase::new(spec(128, 1), adaptive(1000.0))];
        let mut suite = Suite::new(cases, TimingConfig::default());
        suite.deadline_s = Some(2.0);
        let flag = AtomicBool::new(false);
        run(&mut backend, &suite, &mut out, &path, &mut Silent, &flag).unwrap();
        assert!(backend.clock_s() < 4.0, "{}", backend.clock_s());
        assert_eq!(
            out.cases[0].sampling.as_ref().unwrap().stopped,
            StopReason::Budget
        );
    }

    #[test]
    fn an_interrupted_suite_keeps_what_it_has_and_is_incomplete() {
        let mut backend = FakeBackend::new("fake", 100.0, 0.01, 1);
        let cases = vec![PlannedCase::new(spec(64, 0), Sampling::Fixed(10))];
        let (end, _, disk) = run_on(&mut backend, cases, true);
        assert_eq!(end, SuiteEnd::Interrupted);
        assert!(!disk.run.complete && disk.cases.is_empty());
    }

    #[test]
    fn cases_that_end_before_sampling_keep_their_place() {
        let mut backend = FakeBackend::new("fake", 100.0, 0.01, 1);
        // The blocked kernel cannot run 5x6x8 (N not a multiple of its rows): skipped.
        let odd = CaseSpec {
            workload: Workload::matmul(Dtype::F32, 5, 6, 8),
            ..spec(8, 1)
        };
        let cases = vec![
            PlannedCase::new(spec(64, 0), Sampling::Fixed(4)),
            PlannedCase::new(odd, Sampling::Fixed(4)),
            PlannedCase::new(spec(96, 0), Sampling::Fixed(4)),
        ];
        let (_, _, disk) = run_on(&mut backend, cases, false);
        let statuses: Vec<CaseStatus> = disk.cases.iter().map(|c| c.status).collect();
        assert_eq!(
            statuses,
            [CaseStatus::Passed, CaseStatus::Skipped, CaseStatus::Passed]
        );
    }

    #[test]
    fn shares_are_equal_unless_a_case_needs_more() {
        assert_eq!(equal_share(9.0, vec![1.0, 1.0, 1.0]), 3.0);
        assert_eq!(equal_share(9.0, vec![5.0, 1.0, 1.0]), 2.0);
        assert_eq!(equal_share(1.0, vec![5.0, 1.0]), 0.0);
    }

    #[test]
    fn shares_follow_the_measured_speed_when_the_estimate_was_wrong() {
        // Planned shares of 1000 s each, but 20 s until the deadline: the suite keeps it.
        let mut backend = FakeBackend::new("fake", 100.0, 0.3, 1);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        let mut out = file(&backend);
        let cases = (0..3)
            .map(|i| PlannedCase::new(spec(128 + 32 * i, 1), adaptive(1000.0)))
            .collect();
        let mut suite = Suite::new(cases, TimingConfig::default());
        suite.deadline_s = Some(20.0);
        let flag = AtomicBool::new(false);
        run(&mut backend, &suite, &mut out, &path, &mut Silent, &flag).unwrap();
        assert!(backend.clock_s() < 22.0, "{}", backend.clock_s());
        let counts: Vec<usize> = out
            .cases
            .iter()
            .map(|c| c.timing.as_ref().unwrap().host_s.len())
            .collect();
        // Each got about a third of the time, not the first one all of it.
        let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
        assert!(*hi < 2 * *lo, "{counts:?}");
    }

    #[test]
    fn prepared_cases_are_grouped_within_the_memory_limit() {
        let cases: Vec<PlannedCase> = [64, 64, 512, 64]
            .iter()
            .map(|&n| PlannedCase::new(spec(n, 0), Sampling::Fixed(2)))
            .collect();
        let one = resident_bytes(&cases[0].spec);
        let big = resident_bytes(&cases[2].spec);
        assert_eq!(memory_groups(&cases, u64::MAX), vec![0..4]);
        assert_eq!(memory_groups(&cases, 2 * one), vec![0..2, 2..3, 3..4]);
        assert_eq!(memory_groups(&cases, big + one), vec![0..2, 2..4]);
    }
}
