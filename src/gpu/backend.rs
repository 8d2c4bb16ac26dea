//! The wgpu backend: the device, the pass timer and the cases prepared between rounds;
//! preparation of every kernel family lives in `prepare/`, the measure loop (prepare, sample,
//! finish) in `measure.rs`. Here: the scoped preparation, batched submission, bounded waits and
//! read-back, and prepared, verified cases for benches.

use super::buffers::read_buffer;
use super::context::GpuContext;
use super::faults::Injector;
use super::prepare::{self, Checker, Prepared};
use super::timestamps::PassTimer;
use crate::error::{Error, Result};
use crate::measure::backend::{CaseHandle, CaseSpec};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A prepared case held between rounds, with the dispatches one of its samples batches. It
/// lives here, beside the map that holds it, so the measure loop imports this file and not the
/// other way round.
pub(crate) struct Resident {
    pub(crate) prepared: Prepared,
    pub(crate) per_sample: u32,
}

/// Runs cases on a real adapter through wgpu.
pub struct WgpuBackend {
    pub(crate) ctx: GpuContext,
    pub(crate) timer: Option<PassTimer>,
    pub(crate) faults: Injector,
    /// Cases prepared and not yet finished, by handle.
    pub(crate) prepared: HashMap<CaseHandle, Resident>,
    pub(crate) next_handle: u64,
    /// How long a read-back may wait for the GPU (the run's `--gpu-timeout`).
    pub(crate) readback_timeout: Duration,
    /// When the backend was made: the clock budgets are kept on.
    pub(crate) opened: Instant,
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
            prepared: HashMap::new(),
            next_handle: 0,
            readback_timeout: Duration::from_secs(600),
            opened: Instant::now(),
        }
    }

    pub(crate) fn lost(&self) -> Option<String> {
        self.ctx.lost.lock().ok().and_then(|l| l.clone())
    }
}

impl WgpuBackend {
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
        read_buffer(
            &self.ctx.device,
            &p.readback,
            p.out_bytes,
            self.readback_timeout,
        )
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
        if let Some(why) = v.failure() {
            return Err(Error::Gpu(format!(
                "{}: verification failed: {why}",
                spec.id()
            )));
        }
        Ok(PreparedCase { inner })
    }

    /// Runs `count` dispatches in one pass; returns GPU time from pass timestamps when the
    /// adapter has them, else host time around submit and wait.
    pub fn time_dispatches(&self, case: &PreparedCase, count: u32) -> Result<Duration> {
        let host = self.submit_batch(&case.inner, count, true, Duration::from_secs(600))?;
        let seconds = match &self.timer {
            Some(timer) => {
                timer.read(&self.ctx.device, &self.ctx.queue, Duration::from_secs(600))?
            }
            None => host,
        };
        Ok(Duration::from_secs_f64(seconds))
    }
}
