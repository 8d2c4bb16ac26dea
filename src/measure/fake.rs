//! A deterministic stand-in backend: it "runs" cases by drawing seeded timings around a chosen
//! throughput. It lets the whole pipeline (run loop, files, compare, calibrate, project, report)
//! be tested end to end without a GPU; the real runner is still tested on lavapipe.

use crate::error::{Error, Result};
use crate::measure::backend::{
    Backend, CaseHandle, CaseSpec, Preparation, ReadyCase, SampleTime, TimingConfig,
};
use crate::results::{AdapterRecord, CaseStatus, DeviceType, LimitsRecord, RateUnit, Verification};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

/// A fake adapter that reaches `gflops` (or GB/s for bandwidth cases) with relative noise, and
/// optionally drifts over its simulated time.
pub struct FakeBackend {
    record: AdapterRecord,
    rate: f64,
    noise: f64,
    rng: rand_chacha::ChaCha8Rng,
    drift: Option<Drift>,
    /// Simulated seconds since the backend was made: setup and samples advance it.
    clock_s: f64,
    /// Seconds per dispatch and dispatches per sample of each prepared case.
    prepared: HashMap<CaseHandle, (f64, u32)>,
    next_handle: u64,
}

/// A slow periodic change of speed, as clocks, neighbours and temperature give a real device:
/// every dispatch at simulated time `t` takes `1 + amplitude · sin(2π t / period_s)` times as
/// long.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Drift {
    /// Relative size of the change (0.1 for ±10%).
    pub amplitude: f64,
    /// Seconds of one full cycle.
    pub period_s: f64,
}

impl Drift {
    fn factor(&self, t: f64) -> f64 {
        1.0 + self.amplitude * (std::f64::consts::TAU * t / self.period_s).sin()
    }
}

impl FakeBackend {
    /// A fake adapter named `name` running at `rate` units per second ×10^9, with ±`noise`
    /// relative jitter, seeded so runs are repeatable.
    pub fn new(name: &str, rate: f64, noise: f64, seed: u64) -> Self {
        FakeBackend {
            record: fake_adapter(name),
            rate,
            noise,
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(seed),
            drift: None,
            clock_s: 0.0,
            prepared: HashMap::new(),
            next_handle: 0,
        }
    }

    /// The same backend, drifting as `drift` says.
    pub fn with_drift(mut self, drift: Drift) -> Self {
        self.drift = Some(drift);
        self
    }
}

/// An adapter record for a fake device (vendor id 0, backend "fake").
pub fn fake_adapter(name: &str) -> AdapterRecord {
    AdapterRecord {
        index: 0,
        name: name.to_string(),
        backend: "fake".to_string(),
        device_type: DeviceType::Other,
        vendor_id: 0,
        device_id: 0,
        driver: "fleetbench-fake".to_string(),
        driver_info: "deterministic stand-in".to_string(),
        features: vec!["timestamp_query".to_string()],
        limits: LimitsRecord {
            max_storage_buffer_binding_size: 1 << 31,
            max_buffer_size: 1 << 32,
            max_compute_workgroup_storage_size: 32768,
            max_compute_invocations_per_workgroup: 1024,
            max_compute_workgroups_per_dimension: 65535,
            max_texture_dimension_2d: 16384,
            min_subgroup_size: 32,
            max_subgroup_size: 32,
        },
        timestamp_period_ns: Some(1.0),
        cooperative_matrix: Vec::new(),
    }
}

impl Backend for FakeBackend {
    fn adapter(&self) -> &AdapterRecord {
        &self.record
    }

    fn prepare(&mut self, spec: &CaseSpec, timing: &TimingConfig) -> Preparation {
        let w = spec.workload;
        if let Some(reason) = spec.kernel.shape_problem(&w) {
            let case = spec.not_run(CaseStatus::Skipped, reason, timing.bounds_checks);
            return Preparation::Finished(Box::new(case));
        }
        let (_, work) = RateUnit::of(&w);
        let dispatch_s = work / self.rate;
        let mut case = spec.passed(timing.bounds_checks);
        case.verification = Some(Verification {
            // Integer kernels are exact: their fake error is zero, like a real passing one.
            rel_error: 1e-7f64.min(w.dtype.tolerance()),
            tolerance: w.dtype.tolerance(),
            reference: "fake".to_string(),
            checked_elements: w.m * w.n,
            total_elements: w.m * w.n,
            ..Verification::default()
        });
        let target = timing.target_sample.as_secs_f64();
        let per_sample = (target / dispatch_s).ceil().clamp(1.0, 1000.0) as u32;
        let setup_s = timing.warmup.as_secs_f64() + 2.0 * dispatch_s;
        self.clock_s += setup_s;
        let handle = CaseHandle(self.next_handle);
        self.next_handle += 1;
        self.prepared.insert(handle, (dispatch_s, per_sample));
        Preparation::Ready(Box::new(ReadyCase {
            handle,
            case,
            dispatches_per_sample: per_sample,
            warmup_dispatches: 1,
            setup_s,
            dispatch_s,
        }))
    }

    fn sample(
        &mut self,
        handle: CaseHandle,
        count: usize,
        _timing: &TimingConfig,
    ) -> Result<Vec<SampleTime>> {
        let (ideal, per_sample) = *self
            .prepared
            .get(&handle)
            .ok_or_else(|| Error::Gpu(format!("case {handle:?} is not prepared")))?;
        // All GPU jitters first, then all host jitters: the draw order of the original
        // back-to-back fake, so seeded results elsewhere stay what they were.
        let mut jitter = |overhead: f64| -> Vec<f64> {
            (0..count)
                .map(|_| 1.0 + overhead + self.noise * self.rng.random_range(-1.0..1.0))
                .collect()
        };
        let (gpu, host) = (jitter(0.0), jitter(0.02));
        let mut out = Vec::with_capacity(count);
        for (g, h) in gpu.iter().zip(&host) {
            let slowdown = self.drift.map_or(1.0, |d| d.factor(self.clock_s));
            let sample = SampleTime {
                host_s: ideal * slowdown * h,
                gpu_s: Some(ideal * slowdown * g),
            };
            self.clock_s += sample.host_s * f64::from(per_sample);
            out.push(sample);
        }
        Ok(out)
    }

    fn finish(&mut self, handle: CaseHandle) {
        self.prepared.remove(&handle);
    }

    fn clock_s(&self) -> f64 {
        self.clock_s
    }

    fn runtime_version(&self) -> &str {
        "fake"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::default_matmul_configs;
    use crate::workload::{Dtype, Workload};

    fn spec() -> CaseSpec {
        CaseSpec {
            workload: Workload::matmul(Dtype::F32, 64, 64, 64),
            kernel: default_matmul_configs()[0].clone(),
            seed: 1,
        }
    }

    #[test]
    fn a_drifting_device_slows_down_over_simulated_time() {
        let mut steady = FakeBackend::new("a", 100.0, 0.0, 1);
        let mut drifting = FakeBackend::new("a", 100.0, 0.0, 1).with_drift(Drift {
            amplitude: 0.5,
            period_s: 1.0,
        });
        let timing = TimingConfig::default();
        let a = steady.run_case(&spec(), &timing);
        let b = drifting.run_case(&spec(), &timing);
        let (a, b) = (a.timing.unwrap(), b.timing.unwrap());
        assert!(a.gpu_s.unwrap().windows(2).all(|w| w[0] == w[1]));
        assert!(b.gpu_s.unwrap().windows(2).any(|w| w[0] != w[1]));
    }

    #[test]
    fn sampling_a_finished_case_is_an_error() {
        let mut backend = FakeBackend::new("a", 100.0, 0.0, 1);
        let timing = TimingConfig::default();
        let Preparation::Ready(ready) = backend.prepare(&spec(), &timing) else {
            panic!("not ready");
        };
        assert_eq!(backend.sample(ready.handle, 3, &timing).unwrap().len(), 3);
        backend.finish(ready.handle);
        assert!(backend.sample(ready.handle, 1, &timing).is_err());
    }
}
