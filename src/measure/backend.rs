//! Running cases: the [`Backend`] trait that prepares a case once and then takes its timed
//! samples on request, so a suite can take them in interleaved rounds across cases
//! ([`crate::measure::rounds`]), and the [`Observer`] told about its progress. Only types and
//! traits: the round runner and its `run_suite` live in `rounds`, so data flows one way.

use crate::error::Result;
use crate::kernels::KernelConfig;
use crate::results::{derive_timing, AdapterRecord, Case, CaseStatus, PlanRecord, RawTiming};
use crate::workload::Workload;
use std::time::Duration;

/// One case to run: a workload, the kernel that computes it and the seed of its inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseSpec {
    /// What to compute.
    pub workload: Workload,
    /// Which kernel computes it.
    pub kernel: KernelConfig,
    /// Seed of the inputs.
    pub seed: u64,
}

impl CaseSpec {
    /// `<kernel id>/<workload key>`; `<op>_tuned/<workload key>` (`matmul_tuned/…`,
    /// `copy_tuned/…`) for the autotuner's choice.
    pub fn id(&self) -> String {
        if self.kernel.tuned {
            return format!("{}_tuned/{}", self.workload.op, self.workload.key());
        }
        format!("{}/{}", self.kernel.id(), self.workload.key())
    }

    /// A case that did not run, with its reason.
    pub fn not_run(&self, status: CaseStatus, reason: String, bounds_checks: bool) -> Case {
        Case {
            id: self.id(),
            workload: self.workload,
            kernel: self.kernel.record(&self.workload, bounds_checks),
            status,
            reason: Some(reason),
            seed: self.seed,
            verification: None,
            timing: None,
            tuning: None,
            sampling: None,
        }
    }

    /// A case that passed so far: no reason, no timing yet.
    pub fn passed(&self, bounds_checks: bool) -> Case {
        let mut case = self.not_run(CaseStatus::Passed, String::new(), bounds_checks);
        case.reason = None;
        case
    }
}

/// How each case is timed and bounded.
#[derive(Debug, Clone, PartialEq)]
pub struct TimingConfig {
    /// Warm-up time before the samples (clocks ramp, pipelines compile).
    pub warmup: Duration,
    /// Timed samples per case (the least an adaptive case takes).
    pub samples: usize,
    /// Each sample batches dispatches until it lasts about this long, so that tiny kernels are
    /// not dominated by submission overhead.
    pub target_sample: Duration,
    /// Whether naga's bounds checks stay on.
    pub bounds_checks: bool,
    /// Cap on the bytes a case may allocate.
    pub max_memory: Option<u64>,
    /// How long to wait for the GPU (a dispatch, or a read-back) before declaring a case hung.
    pub gpu_timeout: Duration,
}

impl Default for TimingConfig {
    fn default() -> Self {
        TimingConfig {
            warmup: Duration::from_millis(500),
            samples: 10,
            target_sample: Duration::from_millis(20),
            bounds_checks: true,
            max_memory: None,
            gpu_timeout: Duration::from_secs(60),
        }
    }
}

/// Names one prepared case inside the backend that prepared it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CaseHandle(pub u64);

/// A case that compiled, verified and warmed up: what is known before its timed samples.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadyCase {
    /// The handle to take samples with and to finish.
    pub handle: CaseHandle,
    /// The case as it stands: passed, with its verification, no timing yet.
    pub case: Case,
    /// Dispatches batched into one timed submission.
    pub dispatches_per_sample: u32,
    /// Dispatches run during warm-up.
    pub warmup_dispatches: u32,
    /// Seconds the preparation took (compile, upload, verification, warm-up).
    pub setup_s: f64,
    /// Seconds one dispatch took during warm-up: what the plan's estimates are corrected with.
    pub dispatch_s: f64,
}

/// What [`Backend::prepare`] ends with.
#[derive(Debug, Clone, PartialEq)]
pub enum Preparation {
    /// Ready for samples.
    Ready(Box<ReadyCase>),
    /// Ended before any sample (skipped, unsupported, a wrong answer, a GPU error): final.
    Finished(Box<Case>),
}

/// One timed submission, as seconds per dispatch on each clock.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleTime {
    /// Host clock around submit and wait, divided by the dispatches.
    pub host_s: f64,
    /// GPU timestamps around the pass, divided by the dispatches, when the adapter has them.
    pub gpu_s: Option<f64>,
}

/// Something that can run cases: the wgpu runner, or a deterministic fake in tests. A case is
/// prepared once, sampled any number of times (in rounds interleaved with other cases), then
/// finished, which frees what it holds.
pub trait Backend {
    /// The adapter cases run on.
    fn adapter(&self) -> &AdapterRecord;
    /// Compiles, allocates, uploads, runs one verified dispatch, warms up and chooses the
    /// dispatches per sample. Failures are recorded on the finished case, never returned: one
    /// bad case must not end the run.
    fn prepare(&mut self, spec: &CaseSpec, timing: &TimingConfig) -> Preparation;
    /// Takes `count` timed samples of a prepared case. An error fails that case only.
    fn sample(
        &mut self,
        handle: CaseHandle,
        count: usize,
        timing: &TimingConfig,
    ) -> Result<Vec<SampleTime>>;
    /// Releases a prepared case's buffers and pipeline.
    fn finish(&mut self, handle: CaseHandle);
    /// Seconds since the backend was opened, on the clock its work runs by: wall time for a
    /// real adapter, simulated time for the fake. Budgets are kept on this clock.
    fn clock_s(&self) -> f64;
    /// The GPU runtime's version, recorded in the file (`wgpu_version`). The trait cannot name
    /// wgpu (only `gpu/` does), so the backend says it; stand-ins say what they are.
    fn runtime_version(&self) -> &str {
        "none"
    }

    /// True for a simulated device (`run --simulate`): its file says so, and analyses refuse
    /// it beside real measurements.
    fn is_simulated(&self) -> bool {
        false
    }

    /// Runs one case to completion, its samples back to back (tuning trials, benches, tests).
    fn run_case(&mut self, spec: &CaseSpec, timing: &TimingConfig) -> Case {
        let ready = match self.prepare(spec, timing) {
            Preparation::Finished(case) => return *case,
            Preparation::Ready(ready) => ready,
        };
        let samples = self.sample(ready.handle, timing.samples.max(2), timing);
        self.finish(ready.handle);
        match samples {
            Ok(samples) => case_with_samples(&ready, &samples),
            Err(e) => failed(&ready.case, &e.to_string()),
        }
    }
}

/// The case a ready case and its samples make: its timing derived from the raw samples, or a
/// failure when they cannot be summarised.
pub fn case_with_samples(ready: &ReadyCase, samples: &[SampleTime]) -> Case {
    let gpu: Option<Vec<f64>> = samples.iter().map(|s| s.gpu_s).collect();
    let raw = RawTiming {
        host_s: samples.iter().map(|s| s.host_s).collect(),
        gpu_s: gpu.filter(|g| !g.is_empty()),
        dispatches_per_sample: ready.dispatches_per_sample,
        warmup_dispatches: ready.warmup_dispatches,
    };
    match derive_timing(&ready.case.workload, raw) {
        Ok(timing) => Case {
            timing: Some(timing),
            ..ready.case.clone()
        },
        Err(e) => failed(&ready.case, &e.to_string()),
    }
}

/// `case` marked failed with a one-line reason and no timing: a failed case has no throughput.
pub fn failed(case: &Case, reason: &str) -> Case {
    Case {
        status: CaseStatus::Failed,
        reason: Some(reason.split_whitespace().collect::<Vec<_>>().join(" ")),
        timing: None,
        sampling: None,
        ..case.clone()
    }
}

/// Told about progress; the binary draws a progress bar and plain lines with it.
pub trait Observer {
    /// A case is about to be prepared; `remaining_s` is the plan's estimate of what is left.
    fn case_started(&mut self, index: usize, total: usize, spec: &CaseSpec, remaining_s: f64);
    /// A case has ended (all its samples taken, or it ended before any) and been saved.
    fn case_finished(&mut self, case: &Case, remaining_s: f64);
    /// A round of samples across the prepared cases has been taken and saved.
    fn round_finished(&mut self, _round: usize, _active: usize, _remaining_s: f64) {}
    /// The plan is made, before its first case: budget, estimates and cuts, with a short label
    /// per planned case in the record's order.
    fn planned(&mut self, _plan: &PlanRecord, _labels: &[String]) {}
    /// A step worth a line for a user watching (a search starting or done).
    fn note(&mut self, _line: &str) {}
    /// Something went wrong that does not stop the run (the tuning cache was not saved).
    fn warning(&mut self, _line: &str) {}
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {
    fn case_started(&mut self, _: usize, _: usize, _: &CaseSpec, _: f64) {}
    fn case_finished(&mut self, _: &Case, _: f64) {}
}

/// How a suite ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuiteEnd {
    /// Every planned case was attempted.
    Complete,
    /// Stopped early because `interrupted` was set.
    Interrupted,
}
