//! Fitting a plan to its budget: lay the cases out, estimate each one, share what is left
//! among the headline cases, and cut — baselines first, then shapes — until the minimum fits.

use super::{
    case_seed, default_shapes, device_side, preset_shapes, Preset, Rates, Request,
    BASELINE_SAMPLES, BASELINE_SIDE, BUDGET_USE, MIN_ADAPTIVE_SAMPLES,
};
use crate::error::{Error, Result};
use crate::kernels::{ceiling_cases, resource_problem, KernelConfig};
use crate::measure::backend::CaseSpec;
use crate::measure::rounds::{equal_share, Adaptive, PlannedCase, Sampling, Suite, VendorCase};
use crate::measure::tune::{self, BandwidthTuned, Tuned};
use crate::results::{AdapterRecord, CaseRole, PlanRecord, PlannedCaseRecord, TuningRecord};
use crate::workload::{Dtype, Op, Workload};

/// Fraction of the budget after which adaptive cases stop whatever their share: the rest is
/// for what cannot stop at once (fixed counts, the preparation in flight, the last save). The
/// host references run after the deadline, so their estimate is taken off it as well.
const DEADLINE_USE: f64 = 0.9;

/// Seconds into the suite after which adaptive cases stop: a share of what the budget has left
/// after tuning, less the host references that are measured after every WGSL case (before,
/// a run whose cases took the whole deadline overran its budget by the references' time).
fn deadline_s(left_s: f64, vendor_s: f64) -> f64 {
    (left_s.max(0.0) * DEADLINE_USE - vendor_s).max(0.0)
}

/// A plan fitted to its budget: the suite to run and the record the file keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The suite.
    pub suite: Suite,
    /// Budget, estimates and cuts, for the file and the screen.
    pub record: PlanRecord,
}

/// One rung of the ladder of cuts: the shapes of the headline matmuls (f32, and f16 sized for
/// its own speed) and of the baselines.
#[derive(Debug, Clone, PartialEq)]
struct Layout {
    shapes: Vec<Workload>,
    f16_shapes: Vec<Workload>,
    i8_shapes: Vec<Workload>,
    baseline_shapes: Vec<Workload>,
    cuts: Vec<String>,
}

const NO_BASELINES: &str =
    "baseline kernels (matmul_naive, matmul_blocked): the budget leaves no time for them";

/// The device-sized matmul sides of a plan, one per input type: f16 may be emulated and far
/// slower than f32, or run on faster units; i8 packs four values a word.
#[derive(Debug, Clone, Copy)]
struct Sides {
    f32: u64,
    f16: u64,
    i8: u64,
}

/// The layouts to try, richest first, for the device-sized matmul `sides`. Explicit
/// `--sizes` are never shrunk; only their baselines can go.
fn layouts(request: &Request, sides: Sides) -> Vec<Layout> {
    let layout = |shapes: [Vec<Workload>; 3], baseline_shapes, cuts: &[String]| {
        let [shapes, f16_shapes, i8_shapes] = shapes;
        Layout {
            shapes,
            f16_shapes,
            i8_shapes,
            baseline_shapes,
            cuts: cuts.to_vec(),
        }
    };
    let no_baselines = [NO_BASELINES.to_string()];
    if request.sizes.is_none() && request.preset == Preset::Default {
        let full = [sides.f32, sides.f16, sides.i8].map(default_shapes);
        let base = vec![square(BASELINE_SIDE.min(sides.f32))];
        let mut ladder = vec![
            layout(full.clone(), base, &[]),
            layout(full, Vec::new(), &no_baselines),
        ];
        let (mut n, mut n16, mut n8) = (sides.f32, sides.f16, sides.i8);
        while n >= 256 {
            let cut = format!("matmul shapes other than {n}^3 (f16: {n16}^3, i8: {n8}^3) (budget)");
            let cuts = [NO_BASELINES.to_string(), cut];
            let shapes = [vec![square(n)], vec![square(n16)], vec![square(n8)]];
            ladder.push(layout(shapes, Vec::new(), &cuts));
            n /= 2;
            n16 = (n16 / 2).max(256);
            n8 = (n8 / 2).max(256);
        }
        return ladder;
    }
    let shapes = request
        .sizes
        .clone()
        .unwrap_or_else(|| preset_shapes(request.preset, sides.f32));
    let baselines = match request.preset {
        Preset::Sweep => Vec::new(),
        _ => shapes.clone(),
    };
    let all = [shapes.clone(), shapes.clone(), shapes];
    vec![
        layout(all.clone(), baselines, &[]),
        layout(all, Vec::new(), &no_baselines),
    ]
}

fn square(n: u64) -> Workload {
    Workload::matmul(Dtype::F32, n, n, n)
}

fn is_baseline(kernel: &KernelConfig) -> bool {
    !kernel.tuned && matches!(kernel.id(), "matmul_naive" | "matmul_blocked")
}

/// What tuning found before the plan: the matmul searches and the bandwidth searches.
#[derive(Clone, Copy)]
struct Found<'a> {
    tuned: &'a [Tuned],
    bandwidth: &'a [BandwidthTuned],
}

/// The cases of a layout, in plan order: ceilings (sized for the adapter; copy and triad as
/// their bandwidth search chose), then per shape the measured kernels and the tuned ones.
fn cases_for(
    request: &Request,
    adapter: &AdapterRecord,
    layout: &Layout,
    found: Found,
) -> Vec<Candidate> {
    let tuned = found.tuned;
    let seed = request.seed;
    let spec = |workload: Workload, kernel: KernelConfig| {
        let mut s = CaseSpec {
            workload,
            kernel,
            seed: 0,
        };
        s.seed = case_seed(seed, &s.id());
        s
    };
    let mut out: Vec<Candidate> = ceiling_cases(adapter)
        .into_iter()
        .filter(|(_, k)| request.kernels.ceilings.contains(&k.kernel))
        .map(
            |(w, k)| match found.bandwidth.iter().find(|b| b.kernel.kernel == k.kernel) {
                Some(b) => (
                    spec(b.workload, b.kernel.clone()),
                    CaseRole::Headline,
                    Some(b.record.clone()),
                ),
                None => (spec(w, k), CaseRole::Headline, None),
            },
        )
        .collect();
    let mut f32_shapes = layout.baseline_shapes.clone();
    f32_shapes.extend(
        layout
            .shapes
            .iter()
            .filter(|s| !layout.baseline_shapes.contains(s)),
    );
    let passes = [
        (Dtype::F32, f32_shapes),
        (Dtype::F16, layout.f16_shapes.clone()),
        (Dtype::I8, layout.i8_shapes.clone()),
    ];
    for (dtype, shapes) in passes {
        for shape in shapes {
            let w = Workload { dtype, ..shape };
            let headline = layout.shapes.contains(&shape) || dtype != Dtype::F32;
            let baseline_size = layout.baseline_shapes.contains(&shape);
            for kernel in request.kernels.matmul.iter().filter(|k| k.dtype() == dtype) {
                let role = if is_baseline(kernel) {
                    CaseRole::Baseline
                } else {
                    CaseRole::Headline
                };
                let wanted = match role {
                    CaseRole::Baseline => baseline_size,
                    CaseRole::Headline => headline,
                };
                if wanted {
                    out.push((spec(w, kernel.clone()), role, None));
                }
            }
            for t in tuned.iter().filter(|t| t.dtype == dtype && headline) {
                if let Some(kernel) = tune::config_for(t, &w) {
                    out.push((spec(w, kernel), CaseRole::Headline, Some(t.record.clone())));
                }
            }
        }
    }
    out
}

/// Whether `spec` can run on `adapter` at all: a case that will be recorded as unsupported or
/// skipped costs nothing and takes no share of the budget.
fn runs_on(spec: &CaseSpec, adapter: &AdapterRecord, max_memory: Option<u64>) -> bool {
    let (k, w) = (&spec.kernel, &spec.workload);
    k.unsupported_reason(adapter).is_none()
        && k.shape_problem(w).is_none()
        && resource_problem(k, w, &adapter.limits, max_memory).is_none()
}

type Candidate = (CaseSpec, CaseRole, Option<TuningRecord>);

/// What a case is expected to cost on one adapter.
struct Costing<'a> {
    request: &'a Request,
    adapter: &'a AdapterRecord,
    rates: &'a Rates,
}

impl Costing<'_> {
    fn runs(&self, spec: &CaseSpec) -> bool {
        runs_on(spec, self.adapter, self.request.timing.max_memory)
    }

    /// Seconds before the samples; none for a case that will not run.
    fn setup_s(&self, spec: &CaseSpec) -> f64 {
        if self.runs(spec) {
            self.rates.setup_s(spec, &self.request.timing)
        } else {
            0.0
        }
    }

    /// Samples a case takes at least: the fixed count, or an adaptive case's minimum.
    fn least_samples(&self, role: CaseRole) -> usize {
        match (self.request.fixed_samples, role) {
            (Some(n), _) => n,
            (None, CaseRole::Baseline) => BASELINE_SAMPLES,
            (None, CaseRole::Headline) => MIN_ADAPTIVE_SAMPLES.max(self.request.timing.samples),
        }
    }

    /// Seconds of a case's least samples.
    fn least_sampling_s(&self, spec: &CaseSpec, role: CaseRole) -> f64 {
        if !self.runs(spec) {
            return 0.0;
        }
        self.least_samples(role) as f64 * self.rates.sample_s(spec, &self.request.timing)
    }

    /// The sampling rule of a case, headline cases with `share_s` seconds of samples.
    fn sampling(&self, spec: &CaseSpec, role: CaseRole, share_s: f64) -> Sampling {
        match (self.request.fixed_samples, role) {
            (None, CaseRole::Headline) => Sampling::Adaptive(Adaptive {
                min: self.least_samples(role),
                target_half_width: self.request.target_half_width,
                share_s: share_s.max(self.least_sampling_s(spec, role)),
            }),
            _ => Sampling::Fixed(self.least_samples(role)),
        }
    }
}

impl Costing<'_> {
    /// The vendor references of a plan's cases (the host SGEMM on CPU adapters, one per f32
    /// matmul shape), each with its seed and estimated seconds.
    fn vendor(&self, cases: &[Candidate]) -> Vec<VendorCase> {
        if !self.request.kernels.vendor {
            return Vec::new();
        }
        let shapes: Vec<Workload> = cases
            .iter()
            .filter(|c| self.runs(&c.0))
            .map(|c| c.0.workload)
            .collect();
        let samples = self.request.fixed_samples.unwrap_or(BASELINE_SAMPLES);
        let timing = &self.request.timing;
        crate::measure::host_refs::host_reference_workloads(self.adapter, &shapes)
            .into_iter()
            .map(|workload| {
                let id = crate::measure::host_refs::host_reference_case_id(&workload);
                let (check_s, call_s) = self.host_reference_s(&workload);
                let sample_s = call_s.max(timing.target_sample.as_secs_f64());
                let estimate_s = check_s
                    + timing.warmup.as_secs_f64().max(call_s)
                    + (samples + 1) as f64 * sample_s;
                VendorCase {
                    workload,
                    seed: case_seed(self.request.seed, &id),
                    samples,
                    estimate_s,
                }
            })
            .collect()
    }
}

/// Bytes per second assumed of the host stream reference (a copy or triad) before it is
/// measured: a low figure for one memory channel, so the plan errs long.
const HOST_STREAM_BYTES_PER_S: f64 = 2e9;

impl Costing<'_> {
    /// Seconds a host reference of `w` spends checking its output, and per call.
    fn host_reference_s(&self, w: &Workload) -> (f64, f64) {
        if matches!(w.op, Op::Copy | Op::Triad) {
            let call_s = w.bytes() / HOST_STREAM_BYTES_PER_S;
            return (call_s, call_s);
        }
        let fma = (w.m * w.n * w.k) as f64;
        // Checked like a WGSL case of the shape (O(n²) when large), sampled at the host
        // SGEMM's speed.
        let call_s = fma / self.rates.host_sgemm_fma_per_s.max(1.0);
        (self.rates.verification_s(w), call_s)
    }
}

/// The layout's cases with their sampling rules and estimates, or `Err(needed seconds)` when
/// even their minimum does not fit `available_s`. Headline cases that run share equally what
/// the setups and the baselines leave.
fn fit(
    costing: &Costing,
    cases: Vec<Candidate>,
    available_s: f64,
) -> std::result::Result<Vec<PlannedCase>, f64> {
    let setup: f64 = cases.iter().map(|c| costing.setup_s(&c.0)).sum();
    let least: f64 = cases
        .iter()
        .map(|c| costing.least_sampling_s(&c.0, c.1))
        .sum();
    if costing.request.fixed_samples.is_none() && setup + least > available_s {
        return Err(setup + least);
    }
    let baselines: f64 = cases
        .iter()
        .filter(|c| c.1 == CaseRole::Baseline)
        .map(|c| costing.least_sampling_s(&c.0, c.1))
        .sum();
    let least_of_headline: Vec<f64> = cases
        .iter()
        .filter(|c| c.1 == CaseRole::Headline && costing.runs(&c.0))
        .map(|c| costing.least_sampling_s(&c.0, c.1))
        .collect();
    let share = equal_share(available_s - setup - baselines, least_of_headline);
    let planned = cases.into_iter().map(|(spec, role, tuning)| {
        let sampling = costing.sampling(&spec, role, share);
        let sampling_s = match sampling {
            Sampling::Adaptive(a) if costing.runs(&spec) => a.share_s,
            _ => costing.least_sampling_s(&spec, role),
        };
        PlannedCase {
            estimate_s: costing.setup_s(&spec) + sampling_s,
            spec,
            sampling,
            role,
            tuning,
        }
    });
    Ok(planned.collect())
}

/// Plans `request` on `adapter`, after `spent_s` seconds of tuning: the richest
/// layout whose minimum fits the budget, with the cuts that took. An error when none fits, naming
/// the budget that would.
pub fn plan(
    request: &Request,
    adapter: &AdapterRecord,
    tuned: &[Tuned],
    bandwidth: &[BandwidthTuned],
    rates: &Rates,
    spent_s: f64,
) -> Result<Planned> {
    let found = Found { tuned, bandwidth };
    let available = (request.budget_s - spent_s).max(0.0) * BUDGET_USE;
    let timing = &request.timing;
    let side_of = |dtype| {
        let cap = available / 10.0;
        device_side(
            &adapter.limits,
            timing.max_memory,
            rates,
            cap,
            timing,
            dtype,
        )
    };
    let sides = Sides {
        f32: side_of(Dtype::F32),
        f16: side_of(Dtype::F16),
        i8: side_of(Dtype::I8),
    };
    let costing = Costing {
        request,
        adapter,
        rates,
    };
    let mut needed = f64::INFINITY;
    for layout in layouts(request, sides) {
        let cases = cases_for(request, adapter, &layout, found);
        let vendor = costing.vendor(&cases);
        let vendor_s: f64 = vendor.iter().map(|v| v.estimate_s).sum();
        match fit(&costing, cases, available - vendor_s) {
            Ok(cases) => return Ok(planned(request, cases, vendor, layout.cuts, spent_s)),
            Err(n) => needed = needed.min(n + vendor_s),
        }
    }
    let needed_s = (needed / BUDGET_USE + spent_s).ceil();
    if !request.budget_chosen && needed_s.is_finite() {
        return stretched(request, adapter, found, rates, spent_s, needed_s);
    }
    Err(Error::Config(format!(
        "--budget {}: too small for this adapter; the smallest plan needs about {needed_s:.0} s (tuning took {spent_s:.0} s)",
        request.budget_s,
    )))
}

/// The smallest plan, when the default budget cannot hold any plan after tuning (a slow or
/// loaded host): the user did not choose that budget, so the run goes on with every cut the
/// ladder has, at the budget the smallest plan needs, and says so.
fn stretched(
    request: &Request,
    adapter: &AdapterRecord,
    found: Found<'_>,
    rates: &Rates,
    spent_s: f64,
    needed_s: f64,
) -> Result<Planned> {
    let relaxed = Request {
        budget_s: needed_s,
        budget_chosen: true,
        ..request.clone()
    };
    let mut planned = plan(
        &relaxed,
        adapter,
        found.tuned,
        found.bandwidth,
        rates,
        spent_s,
    )?;
    planned.record.cuts.push(format!(
        "budget: the default {:.0} s cannot hold any plan after {spent_s:.0} s of tuning on this host; the smallest plan runs in about {needed_s:.0} s (give --budget to make the budget strict)",
        request.budget_s
    ));
    Ok(planned)
}

fn planned(
    request: &Request,
    cases: Vec<PlannedCase>,
    vendor: Vec<VendorCase>,
    cuts: Vec<String>,
    spent_s: f64,
) -> Planned {
    let estimated: f64 = cases.iter().map(|c| c.estimate_s).sum::<f64>()
        + vendor.iter().map(|v| v.estimate_s).sum::<f64>()
        + spent_s;
    let record = PlanRecord {
        budget_s: request.budget_s,
        estimated_s: estimated,
        tuning_s: spent_s,
        target_half_width: request.target_half_width,
        cases: cases
            .iter()
            .map(|c| PlannedCaseRecord {
                id: c.spec.id(),
                role: c.role,
                estimated_s: c.estimate_s,
            })
            .chain(vendor.iter().map(|v| PlannedCaseRecord {
                id: crate::measure::host_refs::host_reference_case_id(&v.workload),
                role: CaseRole::Baseline,
                estimated_s: v.estimate_s,
            }))
            .collect(),
        cuts,
    };
    let largest = cases
        .iter()
        .map(|c| crate::measure::rounds::resident_bytes(&c.spec))
        .max()
        .unwrap_or(0);
    let mut suite = Suite::new(cases, request.timing.clone());
    suite.vendor = vendor;
    // Large cases interleave at least in pairs, unless --max-memory says otherwise.
    if request.timing.max_memory.is_none() {
        suite.resident_bytes = suite.resident_bytes.max(largest.saturating_mul(2));
    }
    if request.fixed_samples.is_none() {
        suite.deadline_s = Some(deadline_s(
            request.budget_s - spent_s,
            suite.vendor_estimate_s(),
        ));
    }
    Planned { suite, record }
}
