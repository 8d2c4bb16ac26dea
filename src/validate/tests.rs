use super::*;
use crate::kernels::default_matmul_configs;
use crate::measure::backend::{Backend, CaseSpec, TimingConfig};
use crate::measure::fake::FakeBackend;
use crate::results::{DeviceType, RunInfo};
use crate::validate::policy::apply_policy;
use std::path::Path;

/// A consistent two-case file from the deterministic fake backend.
fn clean_file() -> ResultFile {
    let mut backend = FakeBackend::new("fake gpu", 50.0, 0.02, 7);
    let timing = TimingConfig {
        samples: 5,
        ..TimingConfig::default()
    };
    let cases = [64, 96]
        .iter()
        .zip(default_matmul_configs())
        .map(|(side, kernel)| {
            let spec = CaseSpec {
                workload: Workload::matmul(Dtype::F32, *side, *side, *side),
                kernel,
                seed: 1,
            };
            backend.run_case(&spec, &timing)
        })
        .collect();
    let mut run = RunInfo::new("r".into(), 1, 5);
    run.started_at = "2026-01-01T00:00:00Z".into();
    run.finished_at = Some("2026-01-01T00:01:00Z".into());
    run.warmup_s = 0.1;
    run.complete = true;
    let machine = crate::measure::machine::describe(backend.adapter().clone(), "test");
    let mut file = ResultFile {
        cases,
        ..ResultFile::new(machine, run)
    };
    file.machine.env.remove(FAULT_ENV);
    file
}

fn checks(file: &ResultFile) -> Vec<Check> {
    check_file(file, &NoPeaks).iter().map(|f| f.check).collect()
}

fn timing(file: &mut ResultFile, index: usize) -> &mut Timing {
    file.cases[index].timing.as_mut().unwrap()
}

#[test]
fn a_fake_run_is_consistent() {
    let file = clean_file();
    assert_eq!(file.cases.len(), 2);
    assert!(
        check_file(&file, &NoPeaks).is_empty(),
        "{:?}",
        check_file(&file, &NoPeaks)
    );
}

#[test]
fn an_edited_median_is_caught() {
    let mut file = clean_file();
    timing(&mut file, 0).throughput.median.value *= 1.5;
    let found = check_file(&file, &NoPeaks);
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].check, Check::Statistics);
    assert!(
        found[0].message.contains("throughput.median"),
        "{}",
        found[0]
    );
}

#[test]
fn an_edited_shape_no_longer_matches_the_throughput() {
    let mut file = clean_file();
    let case = &mut file.cases[0];
    case.workload.k *= 2; // twice the FLOP, same times: the stored throughput is now wrong
    case.id = format!("{}/{}", case.kernel.id, case.workload.key());
    if let Some(v) = case.verification.as_mut() {
        v.total_elements = case.workload.m * case.workload.n;
    }
    assert_eq!(checks(&file), vec![Check::Statistics]);
}

#[test]
fn bad_samples_are_caught() {
    for bad in [f64::NAN, 0.0, -1e-3, f64::INFINITY] {
        let mut file = clean_file();
        timing(&mut file, 1).host_s[2] = bad;
        let found = check_file(&file, &NoPeaks);
        assert_eq!(found.len(), 1, "{bad}");
        assert_eq!(found[0].check, Check::Samples);
        assert!(found[0].message.contains("host_s[2]"), "{}", found[0]);
    }
    let mut file = clean_file();
    timing(&mut file, 0).gpu_s.as_mut().unwrap().pop();
    assert_eq!(checks(&file), vec![Check::Samples]);
}

#[test]
fn duplicate_cases_are_caught() {
    let mut file = clean_file();
    file.cases.push(file.cases[0].clone());
    assert_eq!(checks(&file), vec![Check::Duplicate]);
}

#[test]
fn status_and_timing_must_agree() {
    let mut file = clean_file();
    file.cases[0].status = CaseStatus::Skipped;
    file.cases[0].reason = Some("too big".into());
    assert_eq!(checks(&file), vec![Check::Status]);
    let mut file = clean_file();
    file.cases[1].verification = None;
    assert_eq!(checks(&file), vec![Check::Status]);
    let mut file = clean_file();
    file.cases[1].status = CaseStatus::Failed;
    assert_eq!(checks(&file), vec![Check::Status]); // failed without a reason
}

#[test]
fn failed_verification_cannot_pass() {
    let mut file = clean_file();
    file.cases[0].verification.as_mut().unwrap().rel_error = 0.5;
    assert_eq!(checks(&file), vec![Check::Verification]);
    let mut file = clean_file();
    file.cases[0].verification.as_mut().unwrap().tolerance = 1.0;
    assert_eq!(checks(&file), vec![Check::Verification]);
}

#[test]
fn absurd_shapes_and_wrong_ids_are_caught() {
    let mut file = clean_file();
    file.cases[0].workload.m = u64::MAX;
    assert_eq!(checks(&file)[0], Check::Identity);
    let mut file = clean_file();
    file.cases[0].id = "something/else".into();
    assert_eq!(checks(&file), vec![Check::Identity]);
    let mut file = clean_file();
    file.cases[0].kernel.dispatch = [1, 1, 1];
    assert_eq!(checks(&file), vec![Check::Identity]);
}

#[test]
fn gpu_time_beyond_host_time_is_caught() {
    let mut file = clean_file();
    let t = timing(&mut file, 0);
    let (host, gpu) = (t.host_s.clone(), t.gpu_s.clone().unwrap());
    let raw = RawTiming {
        host_s: gpu,
        gpu_s: Some(host.iter().map(|h| h * 2.0).collect()),
        dispatches_per_sample: 1,
        warmup_dispatches: 1,
    };
    let w = file.cases[0].workload;
    file.cases[0].timing = Some(derive_timing(&w, raw).unwrap());
    assert_eq!(checks(&file), vec![Check::Clocks]);
}

#[test]
fn throughput_beyond_the_published_peak_is_caught() {
    let file = clean_file();
    let low = |_: &AdapterRecord, _: RateUnit, _: Dtype| Some(10.0);
    let high = |_: &AdapterRecord, _: RateUnit, _: Dtype| Some(1000.0);
    let found = check_file(&file, &low);
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|f| f.check == Check::Peak));
    assert!(
        found[0].message.contains("published peak 10.0"),
        "{}",
        found[0]
    );
    assert!(check_file(&file, &high).is_empty());
}

#[test]
fn run_section_and_fault_injection_are_file_level() {
    let mut file = clean_file();
    file.run.finished_at = None;
    file.machine.env.insert(FAULT_ENV.into(), "oom@1".into());
    let found = check_file(&file, &NoPeaks);
    assert_eq!(found.len(), 2);
    assert!(found.iter().all(|f| f.case.is_none()));
}

#[test]
fn refuse_policy_names_the_file_and_the_first_problem() {
    let mut file = clean_file();
    timing(&mut file, 0).host.max = 99.0;
    file.cases.push(file.cases[1].clone());
    let err = apply_policy(Path::new("a.json"), file, LoadPolicy::Refuse, &NoPeaks).unwrap_err();
    let msg = err.to_string();
    assert!(msg.starts_with("a.json: inconsistent: "), "{msg}");
    assert!(msg.contains("and 1 more"), "{msg}");
}

#[test]
fn skip_policy_drops_only_inconsistent_cases() {
    let mut file = clean_file();
    timing(&mut file, 0).host.max = 99.0;
    let bad_id = file.cases[0].id.clone();
    let checked = apply_policy(
        Path::new("a.json"),
        file,
        LoadPolicy::SkipInconsistent,
        &NoPeaks,
    )
    .unwrap();
    assert_eq!(checked.file.cases.len(), 1);
    assert_ne!(checked.file.cases[0].id, bad_id);
    assert_eq!(checked.warnings.len(), 1);
    assert!(checked.warnings[0].contains(&bad_id));
    let mut file = clean_file();
    file.run.samples = 1;
    assert!(apply_policy(Path::new("a"), file, LoadPolicy::SkipInconsistent, &NoPeaks).is_err());
}

#[test]
fn zero_or_fractional_overrides_are_findings_not_a_division_by_zero() {
    for bad in [0.0, 0.5, f64::NAN, 1e12] {
        let mut file = clean_file();
        file.cases[0].kernel.overrides.insert("WG_X".into(), bad);
        let found = check_file(&file, &NoPeaks);
        assert_eq!(found.len(), 1, "{bad}");
        assert!(found[0].message.contains("override WG_X"), "{}", found[0]);
    }
}

#[test]
fn consistent_forgeries_are_bounded_by_the_file_and_the_device_type() {
    let mut file = clean_file();
    file.machine.adapter.device_type = DeviceType::Cpu;
    let t = timing(&mut file, 0);
    t.throughput.max = 1e12;
    let found = check_file(&file, &NoPeaks);
    assert!(
        found
            .iter()
            .any(|f| f.message.contains("beyond any cpu device")),
        "{found:?}"
    );
    let mut file = clean_file();
    timing(&mut file, 0).host_s[0] = 1e300;
    let found = check_file(&file, &NoPeaks);
    assert!(
        found
            .iter()
            .any(|f| f.message.contains("no sample may exceed")),
        "{found:?}"
    );
}

#[test]
fn clocks_of_the_run_must_make_sense() {
    let mut file = clean_file();
    file.run.started_at = "2026-11-28T10:00:00Z".to_string();
    file.run.finished_at = Some("2026-11-28T09:00:00Z".to_string());
    file.machine.adapter.timestamp_period_ns = Some(-1.0);
    let messages: Vec<String> = check_file(&file, &NoPeaks)
        .iter()
        .map(|f| f.message.clone())
        .collect();
    let all = messages.join("\n");
    assert!(all.contains("is before run.started_at"), "{all}");
    assert!(
        all.contains("timestamp_period_ns -1 is not a positive"),
        "{all}"
    );
    file.run.started_at = "yesterday".to_string();
    let all = format!("{:?}", check_file(&file, &NoPeaks));
    assert!(all.contains("'yesterday' is not an RFC 3339 time"), "{all}");
}

#[test]
fn a_matmul_beyond_the_files_own_fma_peak_is_caught() {
    let mut file = clean_file();
    let peak = &mut file.cases[1];
    peak.workload.op = Op::PeakFma;
    peak.timing.as_mut().unwrap().throughput.max = 10.0;
    let found = check_file(&file, &NoPeaks);
    let case0 = file.cases[0].id.clone();
    assert!(
        found
            .iter()
            .any(|f| f.case.as_deref() == Some(case0.as_str())
                && f.message.contains("exceeds this file's own FMA peak 10.0")),
        "{found:?}"
    );
    file.cases[1].timing.as_mut().unwrap().throughput.max = 1e6;
    let found = check_file(&file, &NoPeaks);
    assert!(
        !found.iter().any(|f| f.message.contains("own FMA peak")),
        "{found:?}"
    );
}

#[test]
fn a_copy_far_above_the_files_own_triad_is_caught() {
    let mut file = clean_file();
    file.cases[0].workload.op = Op::Copy;
    file.cases[1].workload.op = Op::Triad;
    file.cases[1].timing.as_mut().unwrap().throughput.max = 1.0;
    let found = check_file(&file, &NoPeaks);
    assert!(
        found
            .iter()
            .any(|f| f.message.contains("more than 4x this file's own")),
        "{found:?}"
    );
}

/// `clean_file` with its second case turned into the file's FMA-peak case at `peak` GFLOP/s
/// and its first into a host SGEMM reference on `threads` threads.
fn file_with_host_sgemm(peak: f64, threads: Option<u32>) -> ResultFile {
    let mut file = clean_file();
    let fma = &mut file.cases[1];
    fma.workload.op = Op::PeakFma;
    fma.timing.as_mut().unwrap().throughput.max = peak;
    let host = &mut file.cases[0];
    host.kernel.family = "vendor".into();
    host.kernel.library = Some(crate::results::LibraryRecord {
        name: "gemm".into(),
        version: "0.18.2".into(),
        routine: "sgemm".into(),
        notes: String::new(),
        host_threads: threads,
    });
    host.id = host.id.replacen(&host.kernel.id, "vendor/gemm-sgemm", 1);
    host.kernel.id = "vendor/gemm-sgemm".into();
    file
}

#[test]
fn a_host_reference_is_checked_against_the_host_not_the_adapter() {
    // The adapter's FMA kernel is far slower than the host SGEMM on the same cores: fine.
    let of_host = |file: &ResultFile, peaks: &dyn PeakLookup| -> Vec<Finding> {
        let id = file.cases[0].id.clone();
        check_file(file, peaks)
            .into_iter()
            .filter(|f| f.case.as_deref() == Some(id.as_str()))
            .collect()
    };
    let file = file_with_host_sgemm(1e-3, Some(2));
    let found = of_host(&file, &NoPeaks);
    assert!(found.is_empty(), "{found:?}");
    // A catalog figure for the adapter does not bound a host reference either.
    let tiny_peak = |_: &AdapterRecord, _: RateUnit, _: Dtype| Some(1e-3);
    let found = of_host(&file, &tiny_peak);
    assert!(found.is_empty(), "{found:?}");
    // Files written before the thread count was recorded: the host crate's name says it.
    let old = file_with_host_sgemm(1e-3, None);
    let found = of_host(&old, &NoPeaks);
    assert!(found.is_empty(), "{found:?}");
    // The same case as a WGSL kernel is held to the file's FMA peak.
    let mut wgsl = file_with_host_sgemm(1e-3, Some(2));
    wgsl.cases[0].kernel.library = None;
    assert!(!of_host(&wgsl, &NoPeaks).is_empty());
}

#[test]
fn a_host_reference_beyond_what_its_threads_can_do_is_caught() {
    let mut file = file_with_host_sgemm(1e9, Some(1));
    file.cases[0].timing.as_mut().unwrap().throughput.max = 1e6;
    let host_id = file.cases[0].id.clone();
    let peak_findings = |file: &ResultFile| -> Vec<String> {
        check_file(file, &NoPeaks)
            .into_iter()
            .filter(|f| f.check == Check::Peak && f.case.as_deref() == Some(host_id.as_str()))
            .map(|f| f.message)
            .collect()
    };
    let found = peak_findings(&file);
    assert!(
        found
            .iter()
            .any(|m| m.contains("exceeds the host peak of 1 thread(s) 400.0")),
        "{found:?}"
    );
    let lib = file.cases[0].kernel.library.as_mut().unwrap();
    lib.host_threads = Some(4096);
    assert!(peak_findings(&file).is_empty());
}
