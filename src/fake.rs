//! A deterministic stand-in backend: it "runs" cases by drawing seeded timings around a chosen
//! throughput. It lets the whole pipeline (run loop, files, compare, calibrate, project, report)
//! be tested end to end without a GPU; the real runner is still tested on lavapipe.

use crate::bench::{Backend, CaseSpec, TimingConfig};
use crate::results::{
    derive_timing, AdapterRecord, Case, CaseStatus, LimitsRecord, RateUnit, RawTiming, Verification,
};
use rand::{Rng, SeedableRng};

/// A fake adapter that reaches `gflops` (or GB/s for bandwidth cases) with relative noise.
pub struct FakeBackend {
    record: AdapterRecord,
    rate: f64,
    noise: f64,
    rng: rand_chacha::ChaCha8Rng,
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
        }
    }
}

/// An adapter record for a fake device (vendor id 0, backend "fake").
pub fn fake_adapter(name: &str) -> AdapterRecord {
    AdapterRecord {
        index: 0,
        name: name.to_string(),
        backend: "fake".to_string(),
        device_type: "other".to_string(),
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

    fn run_case(&mut self, spec: &CaseSpec, timing: &TimingConfig) -> Case {
        let w = spec.workload;
        if let Some(reason) = spec.kernel.shape_problem(&w) {
            return spec.not_run(CaseStatus::Skipped, reason, timing.bounds_checks);
        }
        let (_, work) = RateUnit::of(&w);
        let ideal = work / self.rate;
        let mut draw = |overhead: f64| -> Vec<f64> {
            (0..timing.samples.max(2))
                .map(|_| ideal * (1.0 + overhead + self.noise * self.rng.random_range(-1.0..1.0)))
                .collect()
        };
        let gpu = draw(0.0);
        let host = draw(0.02);
        let raw = RawTiming {
            host_s: host,
            gpu_s: Some(gpu),
            dispatches_per_sample: 1,
            warmup_dispatches: 1,
        };
        let mut case = spec.not_run(CaseStatus::Passed, String::new(), timing.bounds_checks);
        case.reason = None;
        case.verification = Some(Verification {
            // Integer kernels are exact: their fake error is zero, like a real passing one.
            rel_error: 1e-7f64.min(w.dtype.tolerance()),
            tolerance: w.dtype.tolerance(),
            reference: "fake".to_string(),
            checked_elements: w.m * w.n,
            total_elements: w.m * w.n,
        });
        match derive_timing(&w, raw) {
            Ok(t) => case.timing = Some(t),
            Err(e) => {
                case.status = CaseStatus::Failed;
                case.reason = Some(e.to_string());
            }
        }
        case
    }
}
