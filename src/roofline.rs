//! The device's roofline as measured in one result file: ALU ceilings from the peak-FMA cases,
//! bandwidth from copy and triad; each matmul as a fraction of the ALU ceiling; and the summary
//! of a shape sweep (best and geometric mean). Pure: a result file in, numbers out.

use crate::results::{Case, ResultFile};
use crate::workload::{Dtype, Op};

/// Median throughput of the verified ceiling case of `op` and `dtype`, if the file has one.
pub fn ceiling(file: &ResultFile, op: Op, dtype: Dtype) -> Option<f64> {
    file.cases
        .iter()
        .filter(|c| c.workload.op == op && c.workload.dtype == dtype)
        // A vendor reference (the host's stream, a device memcpy) is not the WGSL ceiling.
        .filter(|c| !c.is_vendor_reference())
        .filter_map(|c| c.passed_throughput().map(|s| s.median.value))
        .reduce(f64::max)
}

/// A verified matmul's median as a fraction of the measured ALU ceiling of its input type
/// (the f32 ceiling when the file has no f16 one, since accumulation is f32).
pub fn efficiency(file: &ResultFile, case: &Case) -> Option<f64> {
    if case.workload.op != Op::Matmul {
        return None;
    }
    let median = case.passed_throughput()?.median.value;
    let peak = ceiling(file, Op::PeakFma, case.workload.dtype)
        .or_else(|| ceiling(file, Op::PeakFma, Dtype::F32))?;
    (peak > 0.0).then(|| median / peak)
}

/// Best and geometric-mean throughput over the verified matmul cases of one kernel prefix
/// (e.g. `matmul_tuned/`) and dtype: the "maximum achievable matmul" view of a shape sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct SweepSummary {
    /// Id of the fastest case.
    pub best_case: String,
    /// Its median throughput.
    pub best: f64,
    /// Geometric mean of the medians.
    pub geomean: f64,
    /// Cases summarised.
    pub count: usize,
}

/// The sweep summary of `prefix` cases of `dtype`; `None` when none passed.
pub fn sweep_summary(file: &ResultFile, prefix: &str, dtype: Dtype) -> Option<SweepSummary> {
    let medians: Vec<(&str, f64)> = file
        .cases
        .iter()
        .filter(|c| c.id.starts_with(prefix) && c.workload.op == Op::Matmul)
        .filter(|c| c.workload.dtype == dtype)
        .filter_map(|c| {
            c.passed_throughput()
                .map(|s| (c.id.as_str(), s.median.value))
        })
        .filter(|(_, m)| *m > 0.0)
        .collect();
    let (best_case, best) = medians.iter().copied().max_by(|a, b| a.1.total_cmp(&b.1))?;
    let values: Vec<f64> = medians.iter().map(|(_, m)| *m).collect();
    Some(SweepSummary {
        best_case: best_case.to_string(),
        best,
        geomean: crate::stats::geometric_mean(&values)?,
        count: medians.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{ceiling_cases, default_matmul_configs};
    use crate::measure::backend::{CaseSpec, Silent, TimingConfig};
    use crate::measure::fake::FakeBackend;
    use crate::measure::rounds::run_suite;
    use crate::results::{ResultFile, RunInfo};
    use crate::workload::Workload;
    use std::sync::atomic::AtomicBool;

    fn fake_file() -> ResultFile {
        let mut backend = FakeBackend::new("fake", 100.0, 0.0, 1);
        let mut plan: Vec<CaseSpec> = ceiling_cases(&crate::measure::fake::fake_adapter("fake"))
            .into_iter()
            .map(|(workload, kernel)| CaseSpec {
                workload,
                kernel,
                seed: 1,
            })
            .collect();
        for n in [64, 128] {
            let kernel = default_matmul_configs()[1].clone().into_tuned();
            let workload = Workload::matmul(Dtype::F32, n, n, n);
            plan.push(CaseSpec {
                workload,
                kernel,
                seed: 1,
            });
        }
        let machine =
            crate::measure::machine::describe(crate::measure::fake::fake_adapter("fake"), "x");
        let mut file = ResultFile::new(machine, RunInfo::new("r".into(), 1, 10));
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        let stop = AtomicBool::new(false);
        let timing = TimingConfig::default();
        run_suite(
            &mut backend,
            &plan,
            &timing,
            &mut file,
            &path,
            &mut Silent,
            &stop,
        )
        .unwrap();
        file
    }

    #[test]
    fn efficiency_is_the_matmul_over_the_alu_ceiling() {
        let file = fake_file();
        let peak = ceiling(&file, Op::PeakFma, Dtype::F32).unwrap();
        let mm = file
            .cases
            .iter()
            .find(|c| c.id.starts_with("matmul_tuned/"))
            .unwrap();
        let e = efficiency(&file, mm).unwrap();
        assert!((e - mm.passed_throughput().unwrap().median.value / peak).abs() < 1e-12);
        let copy = file
            .cases
            .iter()
            .find(|c| c.workload.op == Op::Copy)
            .unwrap();
        assert_eq!(efficiency(&file, copy), None);
    }

    #[test]
    fn sweep_reports_best_and_geometric_mean() {
        let file = fake_file();
        let s = sweep_summary(&file, "matmul_tuned/", Dtype::F32).unwrap();
        assert_eq!(s.count, 2);
        let medians: Vec<f64> = file
            .cases
            .iter()
            .filter(|c| c.id.starts_with("matmul_tuned/"))
            .map(|c| c.passed_throughput().unwrap().median.value)
            .collect();
        assert!((s.geomean - (medians[0] * medians[1]).sqrt()).abs() < 1e-9);
        assert_eq!(s.best, medians[0].max(medians[1]));
        assert!(sweep_summary(&file, "matmul_tuned/", Dtype::F16).is_none());
    }
}
