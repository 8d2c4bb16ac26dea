//! Result files for the report tests: the committed fake-backend fixtures, and the same with
//! ceiling cases added the way ceiling kernels record them.
#![allow(dead_code)]

use crate::common::repo_path;
use fleetbench::kernels::{Kernel, KernelConfig};
use fleetbench::results::{self, derive_timing, RawTiming, ResultFile};
use fleetbench::workload::Op;
use std::path::{Path, PathBuf};

/// Path of a committed report fixture.
pub fn fixture_path(name: &str) -> PathBuf {
    repo_path("tests/fixtures/report").join(name)
}

/// A committed report fixture, loaded.
pub fn fixture(name: &str) -> ResultFile {
    results::load(&fixture_path(name)).unwrap()
}

/// Adds a peak-FMA case at `peak` GFLOP/s and a copy case at `bandwidth` GB/s, made from the
/// first case's samples rescaled to that rate and summarised as a run summarises them, so the
/// file stays consistent for the checking loader.
pub fn with_ceilings(mut file: ResultFile, peak: f64, bandwidth: f64) -> ResultFile {
    let template = file.cases[0].clone();
    for (op, kernel, rate) in [
        (Op::PeakFma, "peak_fma_f32", peak),
        (Op::Copy, "copy", bandwidth),
    ] {
        let mut case = template.clone();
        case.workload.op = op;
        let config = KernelConfig::new(Kernel::from_id(kernel).unwrap(), &[]);
        case.kernel.id = kernel.to_string();
        case.kernel.overrides.clear();
        case.kernel.dispatch = config.dispatch(&case.workload);
        case.id = format!("{kernel}/{}", case.workload.key());
        let timing = case.timing.as_ref().unwrap();
        let raw = |scale: f64| RawTiming {
            host_s: timing.host_s.iter().map(|s| s * scale).collect(),
            gpu_s: timing
                .gpu_s
                .as_ref()
                .map(|g| g.iter().map(|s| s * scale).collect()),
            dispatches_per_sample: timing.dispatches_per_sample,
            warmup_dispatches: timing.warmup_dispatches,
        };
        let unscaled = derive_timing(&case.workload, raw(1.0)).unwrap();
        let scale = unscaled.throughput.median.value / rate;
        case.timing = Some(derive_timing(&case.workload, raw(scale)).unwrap());
        file.cases.push(case);
    }
    file
}

/// Saves `file` as `dir/name`.
pub fn save(dir: &Path, name: &str, file: &ResultFile) -> PathBuf {
    let path = dir.join(name);
    results::save_atomic(&path, file).unwrap();
    path
}
