//! The measure loop on a real adapter: prepare a case (checks before allocation, buffers and
//! pipeline, one verified dispatch, warm-up by time, dispatches per sample), then take timed
//! samples with pass timestamps and the host clock whenever the suite asks, and release the
//! case when it is done. Every wait — dispatch or read-back — is bounded by `--gpu-timeout`.

use super::backend::{Resident, WgpuBackend};
use super::context::one_line;
use super::prepare::Prepared;
use crate::error::{Error, Result};
use crate::kernels::resource_problem;
use crate::measure::backend::{
    Backend, CaseHandle, CaseSpec, Preparation, ReadyCase, SampleTime, TimingConfig,
};
use crate::results::{AdapterRecord, CaseStatus};
use std::time::Instant;

impl Backend for WgpuBackend {
    fn adapter(&self) -> &AdapterRecord {
        &self.ctx.record
    }

    fn prepare(&mut self, spec: &CaseSpec, timing: &TimingConfig) -> Preparation {
        let checks = timing.bounds_checks;
        self.faults.start_case(&self.ctx.device);
        self.readback_timeout = timing.gpu_timeout;
        // Errors left over from an earlier case must not fail this one.
        if let Ok(mut stale) = self.ctx.uncaptured.lock() {
            stale.clear();
        }
        if let Some((status, reason)) = self.refusal(spec, timing) {
            return Preparation::Finished(Box::new(spec.not_run(status, reason, checks)));
        }
        let start = Instant::now();
        match self.verify_and_warm_up(spec, timing) {
            Ok(Ok((prepared, mut ready))) => {
                let handle = CaseHandle(self.next_handle);
                self.next_handle += 1;
                let per_sample = ready.dispatches_per_sample;
                self.prepared.insert(
                    handle,
                    Resident {
                        prepared,
                        per_sample,
                    },
                );
                ready.handle = handle;
                ready.setup_s = start.elapsed().as_secs_f64();
                Preparation::Ready(Box::new(ready))
            }
            Ok(Err(case)) => Preparation::Finished(Box::new(case)),
            Err(e) => {
                let case = spec.not_run(CaseStatus::Failed, one_line(&e.to_string()), checks);
                Preparation::Finished(Box::new(case))
            }
        }
    }

    fn sample(
        &mut self,
        handle: CaseHandle,
        count: usize,
        timing: &TimingConfig,
    ) -> Result<Vec<SampleTime>> {
        let resident = self
            .prepared
            .get(&handle)
            .ok_or_else(|| Error::Gpu(format!("case {handle:?} is not prepared")))?;
        let (p, per_sample) = (&resident.prepared, resident.per_sample);
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let host = self.submit_batch(p, per_sample, true, timing.gpu_timeout)?;
            let gpu = match &self.timer {
                Some(timer) => {
                    Some(timer.read(&self.ctx.device, &self.ctx.queue, timing.gpu_timeout)?)
                }
                None => None,
            };
            out.push(SampleTime {
                host_s: host / f64::from(per_sample),
                gpu_s: gpu.map(|g| g / f64::from(per_sample)),
            });
        }
        Ok(out)
    }

    fn finish(&mut self, handle: CaseHandle) {
        self.prepared.remove(&handle);
    }

    fn clock_s(&self) -> f64 {
        self.opened.elapsed().as_secs_f64()
    }

    fn runtime_version(&self) -> &str {
        super::WGPU_VERSION
    }
}

impl WgpuBackend {
    /// Why `spec` cannot run here, checked before anything is allocated.
    fn refusal(&self, spec: &CaseSpec, timing: &TimingConfig) -> Option<(CaseStatus, String)> {
        if let Some(reason) = self.lost() {
            return Some((CaseStatus::Failed, reason));
        }
        if let Some(reason) = spec.kernel.unsupported_reason(&self.ctx.record) {
            return Some((CaseStatus::Unsupported, format!("unsupported: {reason}")));
        }
        if let Some(reason) = spec.kernel.shape_problem(&spec.workload) {
            return Some((CaseStatus::Skipped, reason));
        }
        let limits = &self.ctx.record.limits;
        resource_problem(&spec.kernel, &spec.workload, limits, timing.max_memory)
            .map(|reason| (CaseStatus::Skipped, reason))
    }

    /// Prepares buffers and pipeline, checks one dispatch against the reference and warms up.
    /// The inner `Err` is a case that ended with a wrong answer.
    fn verify_and_warm_up(
        &mut self,
        spec: &CaseSpec,
        timing: &TimingConfig,
    ) -> Result<std::result::Result<(Prepared, ReadyCase), crate::results::Case>> {
        let (prepared, check) = self.prepare_case(spec, timing.bounds_checks)?;
        let first = self.submit_batch(&prepared, 1, false, timing.gpu_timeout)?;
        let verification = check(&self.read_output(&prepared)?);
        let mut case = spec.passed(timing.bounds_checks);
        if let Some(why) = verification.failure() {
            case.status = CaseStatus::Failed;
            case.reason = Some(format!("verification failed: {why}"));
            case.verification = Some(verification);
            return Ok(Err(case));
        }
        case.verification = Some(verification);
        let (per_sample, warmup_dispatches, dispatch_s) = self.warm_up(&prepared, first, timing)?;
        let ready = ReadyCase {
            handle: CaseHandle(0),
            case,
            dispatches_per_sample: per_sample,
            warmup_dispatches,
            setup_s: 0.0,
            dispatch_s,
        };
        Ok(Ok((prepared, ready)))
    }

    /// Runs dispatches until the warm-up time has passed, then picks how many dispatches one
    /// sample batches. Returns (dispatches per sample, warm-up dispatches run, seconds of the
    /// last warm-up dispatch).
    fn warm_up(
        &self,
        p: &Prepared,
        first_s: f64,
        timing: &TimingConfig,
    ) -> Result<(u32, u32, f64)> {
        let start = Instant::now();
        let mut per_dispatch = first_s;
        let mut dispatches = 1u32;
        while start.elapsed() < timing.warmup {
            per_dispatch = self.submit_batch(p, 1, false, timing.gpu_timeout)?;
            dispatches += 1;
        }
        let target = timing.target_sample.as_secs_f64();
        let per_sample = (target / per_dispatch.max(1e-9)).ceil().clamp(1.0, 1000.0) as u32;
        Ok((per_sample, dispatches, per_dispatch))
    }
}
