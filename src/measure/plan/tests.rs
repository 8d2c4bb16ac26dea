//! The plan without a GPU: seeds, sizes, baselines, budget, cuts and the budget error.

use super::*;
use crate::measure::fake::{fake_adapter, FakeBackend};
use crate::measure::rounds::Sampling;
use crate::measure::tune::{self, TuneOptions};
use crate::results::{CaseRole, DeviceType};

fn request(preset: Preset, budget_s: f64) -> Request {
    Request {
        budget_chosen: true,
        preset,
        sizes: None,
        kernels: select_kernels(&[], preset).unwrap(),
        timing: TimingConfig::default(),
        fixed_samples: None,
        budget_s,
        target_half_width: DEFAULT_TARGET_HALF_WIDTH,
        seed: 7,
    }
}

/// Tuning records from a fake device of `gflops`.
fn tuned(gflops: f64) -> Vec<Tuned> {
    let mut backend = FakeBackend::new("fake", gflops, 0.01, 1);
    let opts = TuneOptions {
        size: 256,
        retune: true,
        seed: 1,
        cache: None,
    };
    tune::tune_all(&mut backend, &TimingConfig::default(), &opts)
        .unwrap()
        .tuned
}

fn make(req: &Request, gflops: f64, host_fma_per_s: f64) -> Result<Planned> {
    let t = tuned(gflops);
    let rates = Rates::from_tuning(&t, host_fma_per_s);
    plan(req, &fake_adapter("fake"), &t, &[], &rates, 1.0)
}

fn ids(p: &Planned) -> Vec<String> {
    p.suite.cases.iter().map(|c| c.spec.id()).collect()
}

#[test]
fn a_case_seed_depends_on_the_run_seed_and_the_case_not_its_position() {
    let all = make(&request(Preset::Quick, 60.0), 50.0, 1e9).unwrap();
    let mut fewer = request(Preset::Quick, 60.0);
    fewer.kernels.ceilings.clear();
    let fewer = make(&fewer, 50.0, 1e9).unwrap();
    let seed_of = |p: &Planned, id: &str| {
        p.suite
            .cases
            .iter()
            .find(|c| c.spec.id() == id)
            .map(|c| c.spec.seed)
    };
    let id = "matmul_naive/matmul/f32/256x256x256";
    assert!(seed_of(&all, id).is_some());
    assert_eq!(seed_of(&all, id), seed_of(&fewer, id));
    assert_eq!(case_seed(7, id), seed_of(&all, id).unwrap());
    assert_ne!(case_seed(7, id), case_seed(8, id));
    assert_ne!(
        case_seed(7, id),
        case_seed(7, "matmul_blocked/matmul/f32/256x256x256")
    );
}

#[test]
fn the_default_plan_scales_sizes_to_the_device() {
    let slow = make(&request(Preset::Default, 120.0), 40.0, 1e9).unwrap();
    let fast = make(&request(Preset::Default, 120.0), 40_000.0, 1e12).unwrap();
    let side = |p: &Planned| {
        p.suite
            .cases
            .iter()
            .filter(|c| c.spec.kernel.tuned)
            .map(|c| c.spec.workload.m)
            .max()
            .unwrap()
    };
    assert!((512..=2048).contains(&side(&slow)), "{}", side(&slow));
    assert!(side(&fast) >= 8192, "{}", side(&fast));
}

#[test]
fn sizes_stay_within_the_adapter_and_max_memory() {
    let mut req = request(Preset::Default, 120.0);
    req.timing.max_memory = Some(64 << 20);
    let p = make(&req, 40_000.0, 1e12).unwrap();
    for c in p
        .suite
        .cases
        .iter()
        .filter(|c| c.spec.workload.op == Op::Matmul)
    {
        assert!(
            crate::measure::rounds::resident_bytes(&c.spec) <= 64 << 20,
            "{}",
            c.spec.id()
        );
    }
}

#[test]
fn baselines_run_at_one_moderate_size_and_headline_cases_sample_adaptively() {
    let p = make(&request(Preset::Default, 120.0), 40.0, 1e9).unwrap();
    let baselines: Vec<_> = p
        .suite
        .cases
        .iter()
        .filter(|c| c.role == CaseRole::Baseline)
        .collect();
    assert_eq!(baselines.len(), 2, "{:?}", ids(&p));
    assert!(baselines.iter().all(|c| c.spec.workload.m == 512));
    assert!(baselines
        .iter()
        .all(|c| c.sampling == Sampling::Fixed(BASELINE_SAMPLES)));
    let headline = p
        .suite
        .cases
        .iter()
        .filter(|c| c.role == CaseRole::Headline);
    for c in headline {
        let Sampling::Adaptive(a) = c.sampling else {
            panic!("{} is not adaptive", c.spec.id());
        };
        assert_eq!(a.target_half_width, 0.02);
        assert!(a.share_s > 0.0);
    }
    assert!(p.record.cuts.is_empty(), "{:?}", p.record.cuts);
    assert!(p.record.estimated_s <= 120.0, "{}", p.record.estimated_s);
    assert_eq!(p.record.cases.len(), p.suite.cases.len());
}

#[test]
fn explicit_sizes_and_samples_are_kept_as_given() {
    let mut req = request(Preset::Default, 120.0);
    req.sizes = Some(vec![Workload::matmul(Dtype::F32, 64, 64, 64)]);
    req.fixed_samples = Some(3);
    let p = make(&req, 40.0, 1e9).unwrap();
    assert!(p
        .suite
        .cases
        .iter()
        .filter(|c| c.spec.workload.op == Op::Matmul)
        .all(|c| c.spec.workload.m == 64));
    assert!(ids(&p).iter().any(|id| id.starts_with("matmul_naive/")));
    assert!(p
        .suite
        .cases
        .iter()
        .all(|c| c.sampling == Sampling::Fixed(3)));
    assert_eq!(p.suite.deadline_s, None);
}

#[test]
fn a_tight_budget_cuts_baselines_and_shapes_but_keeps_headline_cases() {
    let roomy = make(&request(Preset::Default, 120.0), 40.0, 1e9).unwrap();
    let tight = make(&request(Preset::Default, needed_budget() + 0.5), 40.0, 1e9).unwrap();
    assert!(!tight.record.cuts.is_empty());
    assert!(tight.record.cuts.iter().any(|c| c.contains("baseline")));
    let headline = |p: &Planned| {
        p.suite
            .cases
            .iter()
            .filter(|c| c.role == CaseRole::Headline)
            .map(|c| c.spec.kernel.id())
            .collect::<std::collections::BTreeSet<_>>()
    };
    // Every headline kernel (ceilings, tuned) is still measured, on fewer shapes.
    assert_eq!(headline(&tight), headline(&roomy));
    assert!(tight.suite.cases.len() < roomy.suite.cases.len());
}

/// The budget the error for a 2 s budget names.
fn needed_budget() -> f64 {
    let err = make(&request(Preset::Default, 2.0), 40.0, 1e9)
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("--budget 2: too small"), "{err}");
    err.split("needs about ")
        .nth(1)
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap()
}

#[test]
fn a_budget_too_small_for_any_plan_names_the_one_that_works() {
    let needed = needed_budget();
    assert!(needed > 2.0);
    assert!(make(&request(Preset::Default, needed + 1.0), 40.0, 1e9).is_ok());
}

#[test]
fn the_static_minimum_budget_covers_the_ceilings() {
    let req = request(Preset::Default, 120.0);
    let least = minimum_budget_s(&req);
    assert!(least >= 4.0 * 0.5, "{least}");
    assert!(least < 30.0, "{least}");
}

#[test]
fn the_header_is_an_empty_incomplete_file_of_this_schema() {
    let machine = crate::measure::machine::describe(fake_adapter("x"), "test");
    let file = header(
        machine,
        42,
        &TimingConfig::default(),
        vec!["fleetbench".into()],
    );
    assert_eq!(file.schema_version, crate::results::SCHEMA_VERSION);
    assert!(file.cases.is_empty() && !file.run.complete);
    assert!(
        file.run.run_id.ends_with("-0000002a"),
        "{}",
        file.run.run_id
    );
    assert_eq!(file.run.warmup_s, 0.5);
}

#[test]
fn cases_the_adapter_cannot_run_take_no_share() {
    // The fake adapter lacks shader_f16 and cooperative matrices.
    let p = make(&request(Preset::Default, 120.0), 40.0, 1e9).unwrap();
    let coop: Vec<_> = p
        .suite
        .cases
        .iter()
        .filter(|c| c.spec.kernel.id() == "matmul_coop_f16")
        .collect();
    assert!(!coop.is_empty());
    assert!(coop.iter().all(|c| c.estimate_s == 0.0));
    // What they would have had goes to the cases that run: the plan fills its share of the
    // budget (85% of what tuning left, plus tuning's second).
    let expected = (120.0 - 1.0) * 0.85 + 1.0;
    assert!(
        (p.record.estimated_s - expected).abs() < 0.01,
        "{}",
        p.record.estimated_s
    );
}

#[test]
fn the_plan_has_device_sized_ceilings_tuned_bandwidth_int8_and_vendor_references_on_cpus() {
    let req = request(Preset::Quick, 60.0);
    let mut cpu = fake_adapter("cpu");
    cpu.device_type = DeviceType::Cpu;
    let mut backend = FakeBackend::new("cpu", 50.0, 0.01, 1);
    let bandwidth = tune::tune_bandwidth(&mut backend, &req.kernels.ceilings, &req.timing, 3, true);
    assert_eq!(bandwidth.len(), 2, "copy and triad are searched");
    let t = tuned(50.0);
    let rates = Rates::from_tuning(&t, 1e9);
    let p = plan(&req, &cpu, &t, &bandwidth, &rates, 1.0).unwrap();
    let ids = ids(&p);
    for (w, k) in crate::kernels::ceiling_cases(&cpu) {
        if !matches!(k.kernel, Kernel::Copy | Kernel::Triad) {
            let id = CaseSpec {
                workload: w,
                kernel: k,
                seed: 0,
            }
            .id();
            assert!(ids.contains(&id), "{id} missing from {ids:?}");
        }
    }
    for prefix in ["copy_tuned/copy/", "triad_tuned/triad/"] {
        let case = p
            .suite
            .cases
            .iter()
            .find(|c| c.spec.id().starts_with(prefix));
        let case = case.unwrap_or_else(|| panic!("no {prefix} case in {ids:?}"));
        assert_eq!(case.role, CaseRole::Headline);
        assert!(case.tuning.is_some(), "the bandwidth search is kept");
    }
    assert!(
        ids.iter()
            .any(|id| id.starts_with("matmul_tuned/") && id.contains("/i8/")),
        "{ids:?}"
    );
    assert!(!p.suite.vendor.is_empty());
    let planned: Vec<&str> = p.record.cases.iter().map(|c| c.id.as_str()).collect();
    for v in &p.suite.vendor {
        let id = crate::measure::host_refs::host_reference_case_id(&v.workload);
        assert!(
            planned.contains(&id.as_str()),
            "{id} not in the plan record"
        );
        assert_eq!(v.seed, case_seed(7, &id));
    }
    // A GPU adapter's vendor library is measured by a script, not in the plan.
    let gpu = plan(&req, &fake_adapter("gpu"), &t, &bandwidth, &rates, 1.0).unwrap();
    assert!(gpu.suite.vendor.is_empty());
    // The references run after the deadline: it leaves their time inside the budget.
    let vendor_s = p.suite.vendor_estimate_s();
    let deadline = p.suite.deadline_s.unwrap();
    assert!(vendor_s > 0.0);
    assert!(
        deadline + vendor_s <= (60.0 - 1.0) * 0.9 + 1e-9,
        "{deadline} + {vendor_s}"
    );
    assert!(gpu.suite.deadline_s.unwrap() > deadline);
    // A measured host SGEMM speed sets the references' estimates (checks stay O(n²)-cheap).
    let at = |fma_per_s| {
        let r = rates.clone().with_host_sgemm_rate(fma_per_s);
        plan(&req, &cpu, &t, &bandwidth, &r, 1.0).unwrap()
    };
    let (slow, quick) = (at(1e8), at(1e13));
    let sgemm_s = |p: &Planned| -> f64 {
        p.suite
            .vendor
            .iter()
            .filter(|v| v.workload.op == Op::Matmul)
            .map(|v| v.estimate_s)
            .sum()
    };
    assert!(
        sgemm_s(&quick) < sgemm_s(&slow),
        "{} vs {}",
        sgemm_s(&quick),
        sgemm_s(&slow)
    );
    assert_eq!(rates.clone().with_host_sgemm_rate(f64::NAN), rates);
}

#[test]
fn a_default_budget_too_small_gives_way_to_the_smallest_plan_and_says_so() {
    let needed = needed_budget();
    let defaulted = Request {
        budget_chosen: false,
        ..request(Preset::Default, 2.0)
    };
    let planned = make(&defaulted, 40.0, 1e9).unwrap();
    assert_eq!(
        planned.record.cuts.last().unwrap(),
        &format!(
            "budget: the default 2 s cannot hold any plan after 1 s of tuning on this host; the smallest plan runs in about {needed:.0} s (give --budget to make the budget strict)"
        )
    );
    assert_eq!(planned.record.budget_s, needed);
    assert!(!planned.suite.cases.is_empty());
}

#[test]
fn large_shapes_are_charged_the_o_n_squared_check_so_a_fast_gpu_gets_device_sized_shapes() {
    let t = tuned(40_000.0);
    // A slow host: 10^9 multiply-adds per second for both the full and the O(n²) check.
    let rates = Rates::from_tuning(&t, 1e9).with_check_rate(1e9);
    let big = Workload::matmul(Dtype::F32, 8192, 8192, 8192);
    assert!(
        rates.verification_s(&big) < 5.0,
        "{}",
        rates.verification_s(&big)
    );
    let small = Workload::matmul(Dtype::F32, 256, 256, 256);
    assert_eq!(rates.verification_s(&small), 256.0f64.powi(3) / 1e9);
    let adapter = fake_adapter("fake");
    let p = plan(
        &request(Preset::Default, 120.0),
        &adapter,
        &t,
        &[],
        &rates,
        1.0,
    )
    .unwrap();
    for dtype in [Dtype::F32, Dtype::I8] {
        let side = p
            .suite
            .cases
            .iter()
            .filter(|c| c.spec.kernel.tuned && c.spec.workload.dtype == dtype)
            .map(|c| c.spec.workload.m)
            .max()
            .unwrap();
        assert!(side >= 8192, "{dtype}: {side}");
    }
}
