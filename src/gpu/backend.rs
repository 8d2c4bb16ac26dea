//! The wgpu backend: runs a case — preparation (in `prepare/`), one verified dispatch, warm-up
//! by time, then timed samples with pass timestamps and the host clock — and offers prepared,
//! verified cases to benches.

use super::buffers::read_buffer;
use super::context::{one_line, GpuContext};
use super::faults::Injector;
use super::prepare::{self, Checker, Prepared};
use super::timestamps::PassTimer;
use crate::bench::{Backend, CaseSpec, TimingConfig};
use crate::error::{Error, Result};
use crate::kernels::resource_problem;
use crate::results::{derive_timing, AdapterRecord, Case, CaseStatus, RawTiming};
use std::time::{Duration, Instant};

/// Runs cases on a real adapter through wgpu.
pub struct WgpuBackend {
    pub(crate) ctx: GpuContext,
    pub(crate) timer: Option<PassTimer>,
    faults: Injector,
}

impl WgpuBackend {
    /// Wraps an opened device.
    pub fn new(ctx: GpuContext) -> Self {
        let timer = ctx
            .record
            .timestamp_period_ns
            .filter(|_| ctx.timestamps)
            .map(|p| PassTimer::new(&ctx.device, p));
        WgpuBackend {
            ctx,
            timer,
            faults: Injector::from_env(),
        }
    }

    fn lost(&self) -> Option<String> {
        self.ctx.lost.lock().ok().and_then(|l| l.clone())
    }
}

impl Backend for WgpuBackend {
    fn adapter(&self) -> &AdapterRecord {
        &self.ctx.record
    }

    fn run_case(&mut self, spec: &CaseSpec, timing: &TimingConfig) -> Case {
        let checks = timing.bounds_checks;
        self.faults.start_case(&self.ctx.device);
        // Errors left over from an earlier case must not fail this one.
        if let Ok(mut stale) = self.ctx.uncaptured.lock() {
            stale.clear();
        }
        if let Some(reason) = self.lost() {
            return spec.not_run(CaseStatus::Failed, reason, checks);
        }
        if let Some(reason) = spec.kernel.unsupported_reason(&self.ctx.record) {
            return spec.not_run(
                CaseStatus::Unsupported,
                format!("unsupported: {reason}"),
                checks,
            );
        }
        if let Some(reason) = spec.kernel.shape_problem(&spec.workload) {
            return spec.not_run(CaseStatus::Skipped, reason, checks);
        }
        let limits = &self.ctx.record.limits;
        if let Some(reason) =
            resource_problem(&spec.kernel, &spec.workload, limits, timing.max_memory)
        {
            return spec.not_run(CaseStatus::Skipped, reason, checks);
        }
        match self.measure(spec, timing) {
            Ok(case) => case,
            Err(e) => spec.not_run(CaseStatus::Failed, one_line(&e.to_string()), checks),
        }
    }
}

impl WgpuBackend {
    fn measure(&self, spec: &CaseSpec, timing: &TimingConfig) -> Result<Case> {
        let (prepared, check) = self.prepare_case(spec, timing.bounds_checks)?;
        let first = self.submit_batch(&prepared, 1, false, timing.gpu_timeout)?;
        let bytes = self.read_output(&prepared)?;
        let verification = check(&bytes);
        let mut case = spec.not_run(CaseStatus::Passed, String::new(), timing.bounds_checks);
        case.reason = None;
        if verification.rel_error.is_nan() || verification.rel_error > verification.tolerance {
            case.status = CaseStatus::Failed;
            case.reason = Some(format!(
                "verification failed: relative error {:e} > {:e}",
                verification.rel_error, verification.tolerance
            ));
            case.verification = Some(verification);
            return Ok(case);
        }
        case.verification = Some(verification);
        let (per_sample, warmup_dispatches) = self.warm_up(&prepared, first, timing)?;
        let raw = self.sample(&prepared, per_sample, warmup_dispatches, timing)?;
        case.timing = Some(derive_timing(&spec.workload, raw)?);
        Ok(case)
    }

    /// Builds buffers and pipeline for any case, with validation and out-of-memory errors
    /// captured as errors of this case.
    pub(crate) fn prepare_case(
        &self,
        spec: &CaseSpec,
        checks: bool,
    ) -> Result<(Prepared, Checker)> {
        let device = &self.ctx.device;
        let scope = device.push_error_scope(wgpu::ErrorFilter::OutOfMemory);
        let validation = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let prepared = prepare::prepare(&self.ctx, spec, checks);
        let validation = pollster::block_on(validation.pop());
        let oom = pollster::block_on(scope.pop());
        let prepared = prepared?;
        if let Some(e) = validation {
            return Err(Error::Gpu(format!("validation error: {e}")));
        }
        if let Some(e) = oom {
            return Err(Error::Gpu(format!("out of memory: {e}")));
        }
        self.faults.out_of_memory()?;
        Ok(prepared)
    }

    /// Submits `count` dispatches in one pass and waits; returns host seconds for the whole
    /// submission. With `timed`, the pass carries timestamps and they are resolved.
    pub(crate) fn submit_batch(
        &self,
        p: &Prepared,
        count: u32,
        timed: bool,
        timeout: Duration,
    ) -> Result<f64> {
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        let timer = self.timer.as_ref().filter(|_| timed);
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor {
                label: Some("matmul"),
                timestamp_writes: timer.map(PassTimer::writes),
            });
            pass.set_pipeline(&p.pipeline);
            pass.set_bind_group(0, &p.bind_group, &[]);
            let limit = self.ctx.record.limits.max_compute_workgroups_per_dimension;
            let [x, y, z] = self.faults.dispatch(p.dispatch, limit);
            for _ in 0..count {
                pass.dispatch_workgroups(x, y, z);
            }
        }
        if let Some(t) = timer {
            t.resolve(&mut encoder);
        }
        let start = Instant::now();
        let index = self.ctx.queue.submit([encoder.finish()]);
        self.wait(Some(index), timeout)?;
        Ok(start.elapsed().as_secs_f64())
    }

    fn wait(&self, index: Option<wgpu::SubmissionIndex>, timeout: Duration) -> Result<()> {
        let poll = wgpu::PollType::Wait {
            submission_index: index,
            timeout: Some(timeout),
        };
        // A lost device or a validation error explains a failed wait better than the wait does.
        let polled = self.ctx.device.poll(poll);
        if let Some(lost) = self.lost() {
            return Err(Error::Gpu(lost));
        }
        let first_error = self.ctx.uncaptured.lock().ok().and_then(|mut v| {
            let first = v.first().cloned();
            v.clear();
            first
        });
        if let Some(err) = first_error {
            return Err(Error::Gpu(err));
        }
        polled.map_err(|e| Error::Gpu(format!("waiting for the GPU: {e}")))?;
        self.faults.timeout(timeout)
    }

    pub(crate) fn read_output(&self, p: &Prepared) -> Result<Vec<u8>> {
        let mut encoder = self.ctx.device.create_command_encoder(&Default::default());
        encoder.copy_buffer_to_buffer(&p.output, 0, &p.readback, 0, p.out_bytes);
        self.ctx.queue.submit([encoder.finish()]);
        read_buffer(&self.ctx.device, &p.readback, p.out_bytes)
    }

    /// Runs dispatches until the warm-up time has passed, then picks how many dispatches one
    /// sample batches. Returns (dispatches per sample, warm-up dispatches run).
    fn warm_up(&self, p: &Prepared, first_s: f64, timing: &TimingConfig) -> Result<(u32, u32)> {
        let start = Instant::now();
        let mut per_dispatch = first_s;
        let mut dispatches = 1u32;
        while start.elapsed() < timing.warmup {
            per_dispatch = self.submit_batch(p, 1, false, timing.gpu_timeout)?;
            dispatches += 1;
        }
        let target = timing.target_sample.as_secs_f64();
        let per_sample = (target / per_dispatch.max(1e-9)).ceil().clamp(1.0, 1000.0) as u32;
        Ok((per_sample, dispatches))
    }

    fn sample(
        &self,
        p: &Prepared,
        per_sample: u32,
        warmup: u32,
        timing: &TimingConfig,
    ) -> Result<RawTiming> {
        let mut host_s = Vec::with_capacity(timing.samples);
        let mut gpu_s = self
            .timer
            .as_ref()
            .map(|_| Vec::with_capacity(timing.samples));
        for _ in 0..timing.samples {
            let host = self.submit_batch(p, per_sample, true, timing.gpu_timeout)?;
            host_s.push(host / f64::from(per_sample));
            if let (Some(timer), Some(gpu)) = (&self.timer, gpu_s.as_mut()) {
                let seconds = timer.read(&self.ctx.device, &self.ctx.queue)?;
                gpu.push(seconds / f64::from(per_sample));
            }
        }
        Ok(RawTiming {
            host_s,
            gpu_s,
            dispatches_per_sample: per_sample,
            warmup_dispatches: warmup,
        })
    }
}

/// A case whose output has been verified once, ready for timed dispatches.
pub struct PreparedCase {
    inner: Prepared,
}

impl WgpuBackend {
    /// Prepares `spec`, runs it once and checks the output; a wrong answer is an error, so a
    /// bench never times a broken kernel.
    pub fn prepare_verified(&self, spec: &CaseSpec, bounds_checks: bool) -> Result<PreparedCase> {
        if let Some(reason) = spec.kernel.unsupported_reason(&self.ctx.record) {
            return Err(Error::Gpu(format!("{}: unsupported: {reason}", spec.id())));
        }
        if let Some(reason) = spec.kernel.shape_problem(&spec.workload) {
            return Err(Error::Gpu(format!("{}: {reason}", spec.id())));
        }
        let (inner, check) = self.prepare_case(spec, bounds_checks)?;
        self.submit_batch(&inner, 1, false, Duration::from_secs(600))?;
        let v = check(&self.read_output(&inner)?);
        if v.rel_error.is_nan() || v.rel_error > v.tolerance {
            return Err(Error::Gpu(format!(
                "{}: verification failed: relative error {:e} > {:e}",
                spec.id(),
                v.rel_error,
                v.tolerance
            )));
        }
        Ok(PreparedCase { inner })
    }

    /// Runs `count` dispatches in one pass; returns GPU time from pass timestamps when the
    /// adapter has them, else host time around submit and wait.
    pub fn time_dispatches(&self, case: &PreparedCase, count: u32) -> Result<Duration> {
        let host = self.submit_batch(&case.inner, count, true, Duration::from_secs(600))?;
        let seconds = match &self.timer {
            Some(timer) => timer.read(&self.ctx.device, &self.ctx.queue)?,
            None => host,
        };
        Ok(Duration::from_secs_f64(seconds))
    }
}
