//! Running a suite: the [`Backend`] trait that executes one case, and the loop that runs a plan
//! case by case, saving the result file after every case so an interrupted run loses at most the
//! case in flight. The loop is pure apart from that save, and is tested with a fake backend.

use crate::error::Result;
use crate::kernels::KernelConfig;
use crate::results::{self, AdapterRecord, Case, CaseStatus, ResultFile};
use crate::workload::Workload;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
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
        }
    }
}

/// How each case is timed and bounded.
#[derive(Debug, Clone, PartialEq)]
pub struct TimingConfig {
    /// Warm-up time before the samples (clocks ramp, pipelines compile).
    pub warmup: Duration,
    /// Timed samples per case.
    pub samples: usize,
    /// Each sample batches dispatches until it lasts about this long, so that tiny kernels are
    /// not dominated by submission overhead.
    pub target_sample: Duration,
    /// Whether naga's bounds checks stay on.
    pub bounds_checks: bool,
    /// Cap on the bytes a case may allocate.
    pub max_memory: Option<u64>,
    /// How long to wait for the GPU before declaring a case hung.
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

/// Something that can run cases: the wgpu runner, or a deterministic fake in tests.
pub trait Backend {
    /// The adapter cases run on.
    fn adapter(&self) -> &AdapterRecord;
    /// Runs one case to completion. Failures are recorded on the case, never returned: one bad
    /// case must not end the run.
    fn run_case(&mut self, spec: &CaseSpec, timing: &TimingConfig) -> Case;
}

/// Told about progress; the binary draws a progress bar with it.
pub trait Observer {
    /// A case is about to start.
    fn case_started(&mut self, index: usize, total: usize, spec: &CaseSpec);
    /// A case has finished and been saved.
    fn case_finished(&mut self, case: &Case);
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {
    fn case_started(&mut self, _: usize, _: usize, _: &CaseSpec) {}
    fn case_finished(&mut self, _: &Case) {}
}

/// How a suite ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SuiteEnd {
    /// Every planned case was attempted.
    Complete,
    /// Stopped early because `interrupted` was set.
    Interrupted,
}

/// Runs `plan` on `backend`, appending each case to `file` and saving it to `path` after every
/// case. The file is saved once before the first case so even an immediate crash leaves a valid
/// (empty) result file.
pub fn run_suite(
    backend: &mut dyn Backend,
    plan: &[CaseSpec],
    timing: &TimingConfig,
    file: &mut ResultFile,
    path: &Path,
    observer: &mut dyn Observer,
    interrupted: &AtomicBool,
) -> Result<SuiteEnd> {
    results::save_atomic(path, file)?;
    for (index, spec) in plan.iter().enumerate() {
        if interrupted.load(Ordering::SeqCst) {
            return Ok(SuiteEnd::Interrupted);
        }
        observer.case_started(index, plan.len(), spec);
        let case = backend.run_case(spec, timing);
        file.cases.push(case);
        results::save_atomic(path, file)?;
        if let Some(case) = file.cases.last() {
            observer.case_finished(case);
        }
    }
    file.run.complete = true;
    file.run.finished_at = Some(crate::machine::now_rfc3339());
    results::save_atomic(path, file)?;
    Ok(SuiteEnd::Complete)
}
