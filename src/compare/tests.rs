use super::*;
use crate::kernels::{ceiling_cases, default_matmul_configs, Kernel, KernelConfig};
use crate::measure::backend::{Backend, CaseSpec, TimingConfig};
use crate::measure::fake::{fake_adapter, FakeBackend};
use crate::results::{Case, RunInfo};
use crate::workload::Dtype;

/// One fake case: `kernel` on `workload` at `rate` GFLOP/s (or GB/s) with 3% noise.
fn fake_case(kernel: &KernelConfig, workload: Workload, rate: f64, seed: u64) -> Case {
    let mut backend = FakeBackend::new("fake", rate, 0.03, seed);
    let timing = TimingConfig {
        samples: 15,
        ..TimingConfig::default()
    };
    let spec = CaseSpec {
        workload,
        kernel: kernel.clone(),
        seed,
    };
    backend.run_case(&spec, &timing)
}

/// A loaded fake file of `name` holding `cases`.
fn file_with(name: &str, seed: u64, cases: Vec<Case>) -> LoadedFile {
    let mut run = RunInfo::new(format!("{name}-{seed}"), seed, 15);
    run.complete = true;
    let machine = crate::measure::machine::describe(fake_adapter(name), "test");
    let file = ResultFile {
        cases,
        ..ResultFile::new(machine, run)
    };
    let device = DeviceIdentity {
        id: crate::results::slug(name),
        name: name.to_string(),
        matched: false,
    };
    LoadedFile {
        path: PathBuf::from(format!("{name}-{seed}.json")),
        file,
        device,
    }
}

fn square(side: u64) -> Workload {
    Workload::matmul(Dtype::F32, side, side, side)
}

/// A fake result file: `rate` GFLOP/s with 3% noise on square f32 matmuls of the given sides,
/// with the naive kernel.
pub(crate) fn fake_file(name: &str, rate: f64, seed: u64, sides: &[u64]) -> LoadedFile {
    let kernel = default_matmul_configs().remove(0);
    let cases = sides
        .iter()
        .enumerate()
        .map(|(i, s)| fake_case(&kernel, square(*s), rate, seed * 100 + i as u64))
        .collect();
    file_with(name, seed, cases)
}

fn one(file: LoadedFile) -> Group {
    pool(vec![file]).unwrap()
}

/// Two independent runs of one fake device pooled: the between-run spread is known.
fn two(name: &str, rate: f64, seed: u64, sides: &[u64]) -> Group {
    let runs = vec![
        fake_file(name, rate, seed, sides),
        fake_file(name, rate, seed + 50, sides),
    ];
    pool(runs).unwrap()
}

fn capability(groups: &[Group]) -> Comparison {
    compare(groups, 0, &CompareConfig::default()).unwrap()
}

fn same_code(groups: &[Group], allow_mixed: bool) -> Comparison {
    let config = CompareConfig {
        view: View::SameCode,
        allow_mixed,
        ..CompareConfig::default()
    };
    compare(groups, 0, &config).unwrap()
}

#[test]
fn finds_a_known_ratio_and_no_difference_where_there_is_none() {
    let files = [
        two("a", 100.0, 1, &[64, 128]),
        two("b", 200.0, 2, &[64, 128]),
        two("a", 100.0, 3, &[64, 128]),
    ];
    let c = capability(&files);
    assert_eq!(c.rows.len(), 4);
    assert!(c.left_out.is_empty());
    for r in c.rows.iter().filter(|r| r.file == 1) {
        assert!(r.significant && (r.ratio.value - 2.0).abs() < 0.05, "{r:?}");
        assert_eq!(r.verdict, Verdict::Faster);
    }
    for r in c.rows.iter().filter(|r| r.file == 2) {
        assert!(!r.significant, "{r:?}");
    }
    assert!(c.rows.iter().all(|r| r.coverage == Coverage::BetweenRuns));
    assert!(!c.has_undetermined());
    let g = c.summary(1, Metric::MatmulF32).unwrap();
    assert!((g.geomean.value - 2.0).abs() < 0.05, "{g:?}");
    assert_eq!(g.rows, 2);
    let max = g.max_achievable.as_ref().unwrap();
    assert!((max.ratio.value - 2.0).abs() < 0.1, "{max:?}");
    assert!(c.regressions(0.05).is_empty());
    // Seen from the fast file, the slow ones' geometric means are 50% regressions.
    let back = compare(&files, 1, &CompareConfig::default()).unwrap();
    assert_eq!(back.regressions(0.4).len(), 2);
    assert!(back.regressions(0.6).is_empty());
    // Same seed, same interval.
    assert_eq!(c, capability(&files));
}

/// Two devices whose tuners chose different tiles: the same-code view compares nothing at
/// the tuned shapes, the capability view compares each at its best and names both kernels.
#[test]
fn capability_compares_each_file_at_its_best_kernel() {
    let naive = default_matmul_configs().remove(0);
    let tex = |ra: u32| {
        KernelConfig::new(
            Kernel::MatmulTex,
            &[("WG_X", 8), ("WG_Y", 8), ("RA", ra), ("CB", 4)],
        )
    };
    let slow = file_with(
        "slow",
        1,
        vec![
            fake_case(&naive, square(256), 10.0, 1),
            fake_case(&tex(2), square(256), 50.0, 2),
        ],
    );
    let fast = file_with(
        "fast",
        2,
        vec![
            fake_case(&naive, square(256), 30.0, 3),
            fake_case(&tex(4), square(256), 100.0, 4),
        ],
    );
    let groups = [one(slow), one(fast)];
    let c = capability(&groups);
    assert_eq!(c.rows.len(), 1, "{:?}", c.rows);
    let r = &c.rows[0];
    assert_eq!(r.label, "matmul/f32/256x256x256");
    assert!((r.ratio.value - 2.0).abs() < 0.1, "{r:?}");
    assert_eq!(
        (r.verdict, r.coverage),
        (Verdict::Undetermined, Coverage::WithinRun)
    );
    assert_eq!(
        r.baseline.kernels,
        ["matmul_tex(CB=4,KU=1,RA=2,SHARE=0,WG_X=8,WG_Y=8)"]
    );
    assert_eq!(
        r.other.kernels,
        ["matmul_tex(CB=4,KU=1,RA=4,SHARE=0,WG_X=8,WG_Y=8)"]
    );
    let s = same_code(&groups, false);
    assert_eq!(s.rows.len(), 1, "only the naive kernel matches");
    assert!((s.rows[0].ratio.value - 3.0).abs() < 0.15);
    let why = s.left_out[0].per_file[1].as_ref().unwrap();
    assert_eq!(
        why.line(),
        "measured differently (differs in kernel source)"
    );
}

#[test]
fn kernel_limited_figures_are_labelled_with_their_fraction_of_peak() {
    let naive = default_matmul_configs().remove(0);
    let ceilings = ceiling_cases(&fake_adapter("fake"));
    let (peak_w, peak_k) = &ceilings[0];
    let file = |name: &str, matmul: f64, seed: u64| {
        file_with(
            name,
            seed,
            vec![
                fake_case(&naive, square(256), matmul, seed),
                fake_case(peak_k, *peak_w, 1000.0, seed + 1),
            ],
        )
    };
    let groups = [one(file("a", 100.0, 1)), one(file("b", 800.0, 3))];
    let c = capability(&groups);
    let r = c
        .rows
        .iter()
        .find(|r| r.metric == Metric::MatmulF32)
        .unwrap();
    let fraction = r.baseline.fraction_of_peak.unwrap();
    assert!((fraction - 0.1).abs() < 0.01, "{fraction}");
    assert!(r.baseline.kernel_limited);
    assert!(!r.other.kernel_limited && r.other.fraction_of_peak.unwrap() > 0.7);
    let peak = c.rows.iter().find(|r| r.metric == Metric::PeakF32).unwrap();
    assert!(peak.baseline.fraction_of_peak.is_none());
    let text = crate::output::render(&c, crate::output::Format::Text, None).unwrap();
    assert!(
        text.contains("baseline kernel-limited (10% of its measured FMA peak)"),
        "{text}"
    );
}

#[test]
fn files_that_share_no_metric_are_refused_naming_both() {
    let ceilings = ceiling_cases(&fake_adapter("fake"));
    let (w, k) = &ceilings[0];
    let peak_only = file_with("p", 2, vec![fake_case(k, *w, 1000.0, 1)]);
    let groups = [one(fake_file("m", 100.0, 1, &[64])), one(peak_only)];
    let e = compare(&groups, 0, &CompareConfig::default())
        .unwrap_err()
        .to_string();
    assert!(e.contains("m-1.json and p-2.json share no metric"), "{e}");
    assert!(e.contains("matmul-f32") && e.contains("peak-f32"), "{e}");
}

#[test]
fn a_metric_missing_from_one_file_is_listed_not_dropped() {
    let ceilings = ceiling_cases(&fake_adapter("fake"));
    let (w, k) = &ceilings[0];
    let mut with_peak = fake_file("a", 100.0, 1, &[64]);
    with_peak.file.cases.push(fake_case(k, *w, 1000.0, 9));
    let groups = [one(with_peak), one(fake_file("b", 100.0, 2, &[64]))];
    let c = capability(&groups);
    assert_eq!(c.rows.len(), 1);
    let l = &c.left_out[0];
    assert_eq!((l.metric, l.label.as_str()), (Metric::PeakF32, "peak-f32"));
    assert_eq!(l.per_file[0], None);
    assert_eq!(l.per_file[1].as_ref().unwrap().kind, ReasonKind::Absent);
}

#[test]
fn unmatched_and_differently_measured_cases_are_listed() {
    let base = fake_file("a", 100.0, 1, &[64, 128]);
    let mut other = fake_file("b", 100.0, 2, &[64, 256]);
    other.file.cases[0].kernel.bounds_checks = !other.file.cases[0].kernel.bounds_checks;
    let groups = [one(base), one(other)];
    let c = same_code(&groups, false);
    assert!(c.rows.is_empty());
    let reasons: Vec<String> = c
        .left_out
        .iter()
        .map(|u| format!("{}: {:?}", u.label, u.per_file))
        .collect();
    assert_eq!(c.left_out.len(), 3, "{reasons:?}");
    let first = c.left_out[0].per_file[1].as_ref().unwrap();
    assert_eq!(first.kind, ReasonKind::MeasuredDifferently);
    assert!(first.line().contains("bounds checks"), "{reasons:?}");
    let c = same_code(&groups, true);
    assert_eq!(c.rows.len(), 1);
    assert_eq!(c.rows[0].mixed, [Difference::BoundsChecks]);
    // The capability view ignores how the best kernel was built: the 64 shape matches.
    assert_eq!(capability(&groups).rows.len(), 1);
}

#[test]
fn pooled_runs_stay_apart_and_a_group_of_two_devices_is_refused() {
    let a = fake_file("a", 100.0, 1, &[64]);
    let b = fake_file("a", 100.0, 2, &[64, 128]);
    let group = pool(vec![a.clone(), b]).unwrap();
    assert_eq!(group.label, "a-1.json+a-2.json");
    let c = capability(&[group.clone(), one(fake_file("c", 100.0, 3, &[64, 128]))]);
    let r = &c.rows[0];
    assert_eq!((r.baseline.runs, r.baseline.samples), (2, 30));
    assert_eq!(c.rows[1].baseline.runs, 1);
    assert_eq!(c.files[0].run_ids, ["a-1", "a-2"]);
    let e = pool(vec![a, fake_file("z", 100.0, 4, &[64])])
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("a-1.json+z-4.json") && e.contains("one device"),
        "{e}"
    );
    assert!(pool(Vec::new()).is_err());
}

#[test]
fn a_run_measured_differently_inside_a_group_is_left_out_with_the_reason() {
    let a = fake_file("a", 100.0, 1, &[64]);
    let mut b = fake_file("a", 100.0, 2, &[64]);
    b.file.cases[0].kernel.source_hash = "other".to_string();
    let groups = [
        pool(vec![a, b]).unwrap(),
        one(fake_file("c", 100.0, 3, &[64])),
    ];
    let c = same_code(&groups, false);
    assert_eq!(c.rows[0].baseline.runs, 1);
    let why = c.left_out[0].per_file[0].as_ref().unwrap().line();
    assert!(
        why.contains("run a-2.json differs in kernel source from a-1.json"),
        "{why}"
    );
}

#[test]
fn tables_mark_not_significant_differences_with_a_tilde() {
    let groups = [
        one(fake_file("a", 100.0, 1, &[64])),
        one(fake_file("a", 100.0, 2, &[64])),
        one(fake_file("b", 50.0, 3, &[64, 128])),
    ];
    let c = capability(&groups);
    let sections = crate::output::Tabular::sections(&c);
    let verdicts: Vec<&str> = sections[1]
        .table
        .rows
        .iter()
        .map(|r| r[11].as_str())
        .collect();
    assert_eq!(verdicts, ["~", "undetermined"]);
    let geo: Vec<&str> = sections[2]
        .table
        .rows
        .iter()
        .map(|r| r[5].as_str())
        .collect();
    assert_eq!(geo, ["~", "undetermined"]);
    assert!(sections[1]
        .notes
        .iter()
        .any(|n| n.contains(UNDETERMINED_NOTE)));
    assert_eq!(
        sections[3].table.rows,
        [[
            "matmul-f32",
            "matmul/f32/128x128x128",
            "absent",
            "absent",
            "ok"
        ]]
    );
    assert!(sections[0].table.rows[0][1].ends_with("(not in catalog)"));
    let json: serde_json::Value = serde_json::from_str(
        &crate::output::render(&c, crate::output::Format::Json, None).unwrap(),
    )
    .unwrap();
    assert!(json["rows"][0]["ratio"]["low"].is_f64());
    assert_eq!(json["rows"][1]["verdict"], "undetermined");
    assert_eq!(json["rows"][1]["coverage"], "within-run");
    assert_eq!(json["view"], "capability");
}

#[test]
fn vendor_references_are_shown_beside_never_inside_a_capability_figure() {
    let naive = default_matmul_configs().remove(0);
    let file = |name: &str, seed: u64, wgsl: f64| {
        let mut vendor = fake_case(&naive, square(256), 400.0, seed + 1);
        vendor.kernel.family = crate::kernels::VENDOR_FAMILY.to_string();
        vendor.kernel.id = "vendor/gemm-sgemm".to_string();
        vendor.kernel.overrides.clear();
        file_with(
            name,
            seed,
            vec![fake_case(&naive, square(256), wgsl, seed), vendor],
        )
    };
    let groups = [one(file("a", 1, 100.0)), one(file("b", 3, 200.0))];
    let c = capability(&groups);
    assert_eq!(c.rows.len(), 1);
    assert!((c.rows[0].ratio.value - 2.0).abs() < 0.1, "{:?}", c.rows[0]);
    assert_eq!(c.rows[0].other.kernels, ["matmul_naive(WG_X=16,WG_Y=16)"]);
    assert_eq!(c.vendor.len(), 2);
    assert!(
        (c.vendor[0].ratio.value - 0.25).abs() < 0.02,
        "{:?}",
        c.vendor[0]
    );
    assert!(
        (c.vendor[1].ratio.value - 0.5).abs() < 0.03,
        "{:?}",
        c.vendor[1]
    );
    assert_eq!(c.vendor[1].vendor.kernels, ["vendor/gemm-sgemm"]);
}

/// One run per side: a 2× difference on the within-run interval is undetermined, not gated by
/// `--threshold`, and said why; the same files pooled with a second run each get a verdict.
#[test]
fn one_run_per_side_gets_no_verdict_and_pooled_runs_do() {
    let single = [
        one(fake_file("a", 100.0, 1, &[64])),
        one(fake_file("a", 50.0, 2, &[64])),
    ];
    let c = capability(&single);
    assert_eq!(c.rows[0].verdict, Verdict::Undetermined);
    assert!(!c.rows[0].significant && c.rows[0].ratio.excludes(1.0));
    assert_eq!(c.summaries[0].verdict, Verdict::Undetermined);
    assert!(c.regressions(0.1).is_empty());
    assert_eq!(c.undetermined_regressions(0.1).len(), 1);
    assert!(c.has_undetermined());
    let same_code = same_code(&single, false);
    assert_eq!(same_code.rows[0].verdict, Verdict::Undetermined);
    assert!(same_code.regressions(0.1).is_empty());
    let pooled = [two("a", 100.0, 1, &[64]), two("a", 50.0, 2, &[64])];
    let c = capability(&pooled);
    assert_eq!(c.rows[0].verdict, Verdict::Slower);
    assert_eq!(c.regressions(0.1).len(), 1);
    // One side pooled, the other a single run: the single run's drift is still unknown.
    let mixed = [
        two("a", 100.0, 1, &[64]),
        one(fake_file("a", 50.0, 2, &[64])),
    ];
    assert_eq!(capability(&mixed).rows[0].verdict, Verdict::Undetermined);
}

#[test]
fn moved_ceilings_of_one_setting_say_the_environment_changed() {
    let ceilings = ceiling_cases(&fake_adapter("fake"));
    let (w, k) = &ceilings[0];
    let with_peak = |seed: u64, peak: f64| {
        let mut f = fake_file("a", 100.0, seed, &[64]);
        f.file.cases.push(fake_case(k, *w, peak, seed + 7));
        f
    };
    let c = capability(&[one(with_peak(1, 1000.0)), one(with_peak(2, 800.0))]);
    assert_eq!(
        c.environment_changes.len(),
        1,
        "{:?}",
        c.environment_changes
    );
    let change = &c.environment_changes[0];
    assert_eq!((change.file, change.metric), (1, Metric::PeakF32));
    assert!((change.percent() + 20.0).abs() < 2.0, "{change:?}");
    let line = &c.environment_lines()[0];
    assert!(
        line.starts_with("environment changed between the runs: a-1.json and a-2.json are the same adapter, driver and settings, but the measured peak-f32 ceiling moved -"),
        "{line}"
    );
    let steady = capability(&[one(with_peak(1, 1000.0)), one(with_peak(2, 1000.0))]);
    assert!(steady.environment_changes.is_empty());
    // Another driver setting (a thread count in the environment) is not the same setting.
    let mut other = with_peak(2, 800.0);
    other
        .file
        .machine
        .env
        .insert("LP_NUM_THREADS".into(), "1".into());
    let c = capability(&[one(with_peak(1, 1000.0)), one(other)]);
    assert!(c.environment_changes.is_empty());
}

#[test]
fn a_group_holding_one_run_twice_is_refused() {
    let a = fake_file("a", 100.0, 1, &[64]);
    let mut copy = a.clone();
    copy.path = PathBuf::from("copy.json");
    let e = pool(vec![a, copy]).unwrap_err().to_string();
    assert_eq!(
        e,
        "a-1.json+copy.json: copy.json is a duplicate of a-1.json (same host, device and run id a-1); a pooled group needs independent runs"
    );
}
