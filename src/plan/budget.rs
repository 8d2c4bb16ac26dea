//! Fitting a plan to its budget: lay the cases out, estimate each one, share what is left
//! among the headline cases, and cut — baselines first, then shapes — until the minimum fits.

use super::{
    case_seed, device_side, preset_shapes, Preset, Rates, Request, BASELINE_SAMPLES, BASELINE_SIDE,
    BUDGET_USE, MIN_ADAPTIVE_SAMPLES,
};
use crate::bench::CaseSpec;
use crate::error::{Error, Result};
use crate::kernels::resource_problem;
use crate::kernels::KernelConfig;
use crate::results::{AdapterRecord, CaseRole, PlanRecord, PlannedCaseRecord, TuningRecord};
use crate::suite::{Adaptive, PlannedCase, Sampling, Suite};
use crate::tune::{self, Tuned};
use crate::workload::{Dtype, Workload};

/// A plan fitted to its budget: the suite to run and the record the file keeps.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    /// The suite.
    pub suite: Suite,
    /// Budget, estimates and cuts, for the file and the screen.
    pub record: PlanRecord,
}

/// One rung of the ladder of cuts: the shapes of the headline matmuls and of the baselines.
#[derive(Debug, Clone, PartialEq)]
struct Layout {
    shapes: Vec<Workload>,
    baseline_shapes: Vec<Workload>,
    cuts: Vec<String>,
}

/// The layouts to try, richest first. Explicit `--sizes` are never shrunk; only their
/// baselines can go.
fn layouts(request: &Request, side: u64) -> Vec<Layout> {
    let no_baselines =
        "baseline kernels (matmul_naive, matmul_blocked): the budget leaves no time for them";
    let layout = |shapes: Vec<Workload>, baseline_shapes, cuts: Vec<String>| Layout {
        shapes,
        baseline_shapes,
        cuts,
    };
    let given = request.sizes.clone();
    let Some(shapes) = given.or_else(|| {
        (request.preset != Preset::Default).then(|| preset_shapes(request.preset, side))
    }) else {
        let full = preset_shapes(Preset::Default, side);
        let base = vec![square(BASELINE_SIDE.min(side))];
        let mut ladder = vec![
            layout(full.clone(), base, Vec::new()),
            layout(full, Vec::new(), vec![no_baselines.to_string()]),
        ];
        let mut n = side;
        while n >= 256 {
            let cut = format!("matmul shapes other than {n}^3 (budget)");
            ladder.push(layout(
                vec![square(n)],
                Vec::new(),
                vec![no_baselines.to_string(), cut],
            ));
            n /= 2;
        }
        return ladder;
    };
    let baselines = if request.preset == Preset::Sweep {
        Vec::new()
    } else {
        shapes.clone()
    };
    vec![
        layout(shapes.clone(), baselines, Vec::new()),
        layout(shapes, Vec::new(), vec![no_baselines.to_string()]),
    ]
}

fn square(n: u64) -> Workload {
    Workload::matmul(Dtype::F32, n, n, n)
}

fn is_baseline(kernel: &KernelConfig) -> bool {
    !kernel.tuned && matches!(kernel.spec.id, "matmul_naive" | "matmul_blocked")
}

/// The cases of a layout, in plan order: ceilings, then per shape the measured kernels and the
/// tuned ones.
fn cases_for(
    request: &Request,
    layout: &Layout,
    tuned: &[Tuned],
) -> Vec<(CaseSpec, CaseRole, Option<TuningRecord>)> {
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
    let mut out: Vec<_> = request
        .kernels
        .ceilings
        .iter()
        .map(|(w, k)| (spec(*w, k.clone()), CaseRole::Headline, None))
        .collect();
    let mut shapes = layout.baseline_shapes.clone();
    shapes.extend(
        layout
            .shapes
            .iter()
            .filter(|s| !shapes.contains(s))
            .copied()
            .collect::<Vec<_>>(),
    );
    for shape in shapes {
        let in_headline = layout.shapes.contains(&shape);
        let in_baseline = layout.baseline_shapes.contains(&shape);
        for kernel in &request.kernels.matmul {
            let w = Workload {
                dtype: kernel.spec.dtype,
                ..shape
            };
            let baseline = is_baseline(kernel);
            if (baseline && in_baseline) || (!baseline && in_headline) {
                let role = if baseline {
                    CaseRole::Baseline
                } else {
                    CaseRole::Headline
                };
                out.push((spec(w, kernel.clone()), role, None));
            }
        }
        for t in tuned.iter().filter(|_| in_headline) {
            let w = Workload {
                dtype: t.dtype,
                ..shape
            };
            if let Some(kernel) = tune::config_for(t, &w) {
                out.push((spec(w, kernel), CaseRole::Headline, Some(t.record.clone())));
            }
        }
    }
    out
}

/// Whether `spec` can run on `adapter` at all: a case that will be recorded as unsupported or
/// skipped costs nothing and takes no share of the budget.
fn runs_on(spec: &CaseSpec, adapter: &AdapterRecord, max_memory: Option<u64>) -> bool {
    let (k, w) = (&spec.kernel, &spec.workload);
    k.spec.unsupported_reason(adapter).is_none()
        && k.shape_problem(w).is_none()
        && resource_problem(k, w, &adapter.limits, max_memory).is_none()
}

type Candidate = (CaseSpec, CaseRole, Option<TuningRecord>);

/// The layout's cases with their sampling rules and estimates, or `Err(needed seconds)` when
/// even their minimum does not fit `available_s`.
fn fit(
    request: &Request,
    adapter: &AdapterRecord,
    cases: Vec<Candidate>,
    rates: &Rates,
    available_s: f64,
) -> std::result::Result<Vec<PlannedCase>, f64> {
    let timing = &request.timing;
    let runs = |s: &CaseSpec| runs_on(s, adapter, timing.max_memory);
    let setup_of = |s: &CaseSpec| {
        if runs(s) {
            rates.setup_s(s, timing)
        } else {
            0.0
        }
    };
    let setup: f64 = cases.iter().map(|(s, _, _)| setup_of(s)).sum();
    let cost = |(s, role, _): &Candidate| -> f64 {
        if !runs(s) {
            return 0.0;
        }
        let n = match (request.fixed_samples, role) {
            (Some(n), _) => n,
            (None, CaseRole::Baseline) => BASELINE_SAMPLES,
            (None, CaseRole::Headline) => MIN_ADAPTIVE_SAMPLES.max(timing.samples),
        };
        n as f64 * rates.sample_s(s, timing)
    };
    let minimum = setup + cases.iter().map(cost).sum::<f64>();
    if request.fixed_samples.is_none() && minimum > available_s {
        return Err(minimum);
    }
    let headline = cases
        .iter()
        .filter(|c| c.1 == CaseRole::Headline)
        .count()
        .max(1);
    let baseline_cost: f64 = cases
        .iter()
        .filter(|c| c.1 == CaseRole::Baseline)
        .map(cost)
        .sum();
    let share = (available_s - setup - baseline_cost) / headline as f64;
    Ok(cases
        .into_iter()
        .map(|c| {
            let sampling = match (request.fixed_samples, c.1) {
                (Some(n), _) => Sampling::Fixed(n),
                (None, CaseRole::Baseline) => Sampling::Fixed(BASELINE_SAMPLES),
                (None, CaseRole::Headline) => Sampling::Adaptive(Adaptive {
                    min: MIN_ADAPTIVE_SAMPLES.max(timing.samples),
                    target_half_width: request.target_half_width,
                    share_s: share.max(cost(&c)),
                }),
            };
            let samples_s = match sampling {
                Sampling::Fixed(_) => cost(&c),
                Sampling::Adaptive(a) => a.share_s,
            };
            let (spec, role, tuning) = c;
            let estimate_s = if runs(&spec) {
                setup_of(&spec) + samples_s
            } else {
                0.0
            };
            PlannedCase {
                estimate_s,
                spec,
                sampling,
                role,
                tuning,
            }
        })
        .collect())
}

/// Plans `request` on `adapter`, after `spent_s` seconds of tuning: the richest
/// layout whose minimum fits the budget, with the cuts that took. An error when none fits, naming
/// the budget that would.
pub fn plan(
    request: &Request,
    adapter: &AdapterRecord,
    tuned: &[Tuned],
    rates: &Rates,
    spent_s: f64,
) -> Result<Planned> {
    let available = (request.budget_s - spent_s).max(0.0) * BUDGET_USE;
    let timing = &request.timing;
    let side = device_side(
        &adapter.limits,
        timing.max_memory,
        rates,
        available / 10.0,
        timing,
    );
    let mut needed = f64::INFINITY;
    for layout in layouts(request, side) {
        let cases = cases_for(request, &layout, tuned);
        match fit(request, adapter, cases, rates, available) {
            Ok(cases) => return Ok(planned(request, cases, layout.cuts, spent_s)),
            Err(n) => needed = needed.min(n),
        }
    }
    Err(Error::Config(format!(
        "--budget {}: too small for this adapter; the smallest plan needs about {:.0} s (tuning took {:.0} s)",
        request.budget_s,
        (needed / BUDGET_USE + spent_s).ceil(),
        spent_s
    )))
}

fn planned(request: &Request, cases: Vec<PlannedCase>, cuts: Vec<String>, spent_s: f64) -> Planned {
    let estimated: f64 = cases.iter().map(|c| c.estimate_s).sum::<f64>() + spent_s;
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
            .collect(),
        cuts,
    };
    let mut suite = Suite::new(cases, request.timing.clone());
    if request.fixed_samples.is_none() {
        suite.deadline_s = Some((request.budget_s - spent_s).max(0.0) * 0.95);
    }
    Planned { suite, record }
}
