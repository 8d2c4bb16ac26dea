//! Simulated data-centre GPUs (`run --simulate PROFILE`): a backend whose adapter record is
//! what the device reports through Vulkan ([`profiles`]) and whose dispatch times come from a
//! speed model ([`model`]). Outputs are real products of low-rank inputs ([`lowrank`]) and go
//! through the same verification as a GPU's, so the O(n²) checks run for real at every size.
//! Its clock is simulated device time plus the real host seconds spent preparing and
//! verifying. A test instrument that lets CI run every GPU-only code path (tiled and
//! cooperative-matrix search spaces, device-sized shapes, 100+ TFLOP/s rates); never a
//! measurement — the file's machine record says `simulated`.
//!
//! By default the simulated device time passes at once, so tests of a 120 s plan take seconds.
//! [`Pacing::RealTime`] (`run --simulate-realtime`) sleeps through it instead, as the host
//! would wait on a real device's fence: the run's wall-clock time is then what it would be on
//! the device, so the share of it spent verifying on the host, and whether the whole run fits
//! its budget, are read off a real clock rather than off the model's.

mod lowrank;
pub mod model;
pub mod profiles;

pub use profiles::{profile, Profile, PROFILE_IDS};

use crate::error::{Error, Result};
use crate::kernels::resource_problem;
use crate::measure::backend::{
    Backend, CaseHandle, CaseSpec, Preparation, ReadyCase, SampleTime, TimingConfig,
};
use crate::measure::verify::{FloatReference, IntReference, MatmulShape};
use crate::results::{AdapterRecord, CaseStatus, Verification};
use crate::workload::{Dtype, Op, Workload};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::time::Instant;

/// Relative jitter of one simulated sample.
const NOISE: f64 = 0.005;

/// Whether simulated device time passes at once or in real time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Pacing {
    /// The clock jumps: a simulated run takes only its host work's time (tests, CI).
    #[default]
    Instant,
    /// The host sleeps through each stretch of simulated device time.
    RealTime,
}

/// A backend that simulates one [`Profile`].
pub struct SimulatedBackend {
    profile: Profile,
    rng: rand_chacha::ChaCha8Rng,
    clock_s: f64,
    pacing: Pacing,
    /// Sustained seconds per dispatch and dispatches per sample of each prepared case.
    prepared: HashMap<CaseHandle, (f64, u32)>,
    next_handle: u64,
    /// The reference and true output of the last matmul workload: tuning trials and the
    /// kernels of one shape reuse its inputs, so the reference is built once per shape.
    last_product: Option<(Workload, Product)>,
}

/// A true output and the reference it is checked against.
enum Product {
    Float(FloatReference, Vec<f32>),
    Int(IntReference, Vec<i32>),
}

impl SimulatedBackend {
    /// The backend of profile `id`; an error naming the known profiles otherwise.
    pub fn new(id: &str, seed: u64, pacing: Pacing) -> Result<Self> {
        let profile = profile(id).ok_or_else(|| {
            Error::Config(format!(
                "--simulate {id}: unknown profile; known: {}",
                PROFILE_IDS.join(", ")
            ))
        })?;
        Ok(SimulatedBackend {
            profile,
            rng: rand_chacha::ChaCha8Rng::seed_from_u64(seed),
            clock_s: 0.0,
            pacing,
            prepared: HashMap::new(),
            next_handle: 0,
            last_product: None,
        })
    }

    /// Why `spec` cannot run on the simulated device, as the wgpu runner would say it.
    fn refusal(&self, spec: &CaseSpec, timing: &TimingConfig) -> Option<(CaseStatus, String)> {
        let adapter = &self.profile.adapter;
        if let Some(reason) = spec.kernel.unsupported_reason(adapter) {
            return Some((CaseStatus::Unsupported, format!("unsupported: {reason}")));
        }
        if let Some(reason) = spec.kernel.shape_problem(&spec.workload) {
            return Some((CaseStatus::Skipped, reason));
        }
        resource_problem(
            &spec.kernel,
            &spec.workload,
            &adapter.limits,
            timing.max_memory,
        )
        .map(|reason| (CaseStatus::Skipped, reason))
    }

    /// Verifies the case's (true) output for real; ceiling kernels get their closed-form
    /// record, as their checks cost nothing next to a matmul's.
    fn verify(&mut self, w: &Workload) -> Result<Verification> {
        if w.op != Op::Matmul {
            return Ok(Verification {
                rel_error: 0.0,
                tolerance: 0.0,
                reference: "simulated_exact".to_string(),
                checked_elements: w.m,
                total_elements: w.m,
                ..Verification::default()
            });
        }
        if self.last_product.as_ref().is_none_or(|(last, _)| last != w) {
            self.last_product = None; // free the previous output before forming the next
            self.last_product = Some((*w, product_of(w)?));
        }
        Ok(match self.last_product.as_ref().map(|(_, p)| p) {
            Some(Product::Float(reference, output)) => reference.check(output),
            Some(Product::Int(reference, output)) => reference.check(output),
            None => return Err(Error::Gpu("simulated product missing".to_string())),
        })
    }
}

/// Low-rank inputs of `w`, their true product and its reference.
fn product_of(w: &Workload) -> Result<Product> {
    let shape = MatmulShape {
        m: w.m as usize,
        n: w.n as usize,
        k: w.k as usize,
    };
    let seed = crate::measure::plan::case_seed(0, &w.key());
    Ok(match w.dtype {
        Dtype::I8 => {
            let (a, b, c) = lowrank::int_product(shape.m, shape.n, shape.k, seed);
            Product::Int(IntReference::new(&a, &b, shape, seed)?, c)
        }
        Dtype::F32 | Dtype::F16 => {
            let [a, b, c] = lowrank::float_product(shape.m, shape.n, shape.k, seed);
            let reference = FloatReference::new(&a, &b, shape, w.dtype.tolerance(), seed)?;
            Product::Float(reference, c)
        }
    })
}

impl Backend for SimulatedBackend {
    fn adapter(&self) -> &AdapterRecord {
        &self.profile.adapter
    }

    fn runtime_version(&self) -> &str {
        "simulated"
    }

    fn is_simulated(&self) -> bool {
        true
    }

    fn prepare(&mut self, spec: &CaseSpec, timing: &TimingConfig) -> Preparation {
        if let Some((status, reason)) = self.refusal(spec, timing) {
            let case = spec.not_run(status, reason, timing.bounds_checks);
            return Preparation::Finished(Box::new(case));
        }
        let host = Instant::now();
        let verification = self.verify(&spec.workload);
        let host_s = host.elapsed().as_secs_f64();
        let mut case = spec.passed(timing.bounds_checks);
        let verification = match verification {
            Ok(v) => v,
            Err(e) => {
                let case = spec.not_run(CaseStatus::Failed, e.to_string(), timing.bounds_checks);
                return Preparation::Finished(Box::new(case));
            }
        };
        if let Some(why) = verification.failure() {
            case.status = CaseStatus::Failed;
            case.reason = Some(format!("verification failed: {why}"));
            case.verification = Some(verification);
            return Preparation::Finished(Box::new(case));
        }
        case.verification = Some(verification);
        Preparation::Ready(Box::new(self.warm_up(spec, case, timing, host_s)))
    }

    fn sample(
        &mut self,
        handle: CaseHandle,
        count: usize,
        _timing: &TimingConfig,
    ) -> Result<Vec<SampleTime>> {
        let (sustained, per_sample) = *self
            .prepared
            .get(&handle)
            .ok_or_else(|| Error::Gpu(format!("case {handle:?} is not prepared")))?;
        let mut out = Vec::with_capacity(count);
        for _ in 0..count {
            let jitter = 1.0 + NOISE * self.rng.random_range(-1.0..1.0);
            let gpu_s = sustained * model::slowdown(self.clock_s) * jitter;
            let host_s = gpu_s * 1.01 + model::DISPATCH_OVERHEAD_S / f64::from(per_sample);
            self.clock_s += host_s * f64::from(per_sample);
            out.push(SampleTime {
                host_s,
                gpu_s: Some(gpu_s),
            });
        }
        self.wait_for_device(out.iter().map(|s| s.host_s).sum::<f64>() * f64::from(per_sample));
        Ok(out)
    }

    fn finish(&mut self, handle: CaseHandle) {
        self.prepared.remove(&handle);
    }

    fn clock_s(&self) -> f64 {
        self.clock_s
    }
}

impl SimulatedBackend {
    /// Sleeps through `seconds` of simulated device work (already on the clock) when paced in
    /// real time; the host's preparation and checks took real time already.
    fn wait_for_device(&self, seconds: f64) {
        if self.pacing == Pacing::RealTime {
            std::thread::sleep(std::time::Duration::from_secs_f64(seconds.max(0.0)));
        }
    }

    /// Warm-up by simulated time (clocks ramp meanwhile), then dispatches per sample; the
    /// clock advances by the warm-up and by the real host seconds of preparation.
    fn warm_up(
        &mut self,
        spec: &CaseSpec,
        case: crate::results::Case,
        timing: &TimingConfig,
        host_s: f64,
    ) -> ReadyCase {
        let sustained = model::dispatch_s(&self.profile, spec);
        self.clock_s += host_s;
        let (start, warmup) = (self.clock_s, timing.warmup.as_secs_f64());
        let mut last = sustained * model::slowdown(self.clock_s);
        self.clock_s += last;
        let mut dispatches = 1u32;
        while self.clock_s - start < warmup && dispatches < 1_000_000 {
            last = sustained * model::slowdown(self.clock_s);
            self.clock_s += last;
            dispatches += 1;
        }
        self.wait_for_device(self.clock_s - start);
        let target = timing.target_sample.as_secs_f64();
        let per_sample = (target / last).ceil().clamp(1.0, 1000.0) as u32;
        let handle = CaseHandle(self.next_handle);
        self.next_handle += 1;
        self.prepared.insert(handle, (sustained, per_sample));
        ReadyCase {
            handle,
            case,
            dispatches_per_sample: per_sample,
            warmup_dispatches: dispatches,
            setup_s: host_s + (self.clock_s - start),
            dispatch_s: last,
        }
    }
}

#[cfg(test)]
mod tests;
