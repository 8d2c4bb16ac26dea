//! A prepared, verified case that code outside the runner (criterion benches, the side-by-side
//! comparison) can dispatch repeatedly and time with the GPU's own clock.

use super::matmul::{Prepared, WgpuBackend};
use crate::bench::CaseSpec;
use crate::error::{Error, Result};
use std::time::Duration;

/// A case whose output has been verified once, ready for timed dispatches.
pub struct PreparedCase {
    inner: Prepared,
}

impl WgpuBackend {
    /// Prepares `spec`, runs it once and checks the output; a wrong answer is an error, so a
    /// bench never times a broken kernel.
    pub fn prepare_verified(&self, spec: &CaseSpec, bounds_checks: bool) -> Result<PreparedCase> {
        if let Some(reason) = spec.kernel.spec.unsupported_reason(&self.ctx.record) {
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
            Some(timer) => {
                timer.read(&self.ctx.device, &self.ctx.queue, Duration::from_secs(600))?
            }
            None => host,
        };
        Ok(Duration::from_secs_f64(seconds))
    }
}
