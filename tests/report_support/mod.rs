//! Result files for the report tests: the committed fake-backend fixtures, and the same with
//! ceiling cases added the way ceiling kernels record them.
#![allow(dead_code)]

use crate::common::repo_path;
use fleetbench::results::{self, RateUnit, ResultFile};
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

/// Adds a peak-FMA case at `peak` GFLOP/s and a copy case at `bandwidth` GB/s, scaled from the
/// first case's samples, as ceiling kernels would write them.
pub fn with_ceilings(mut file: ResultFile, peak: f64, bandwidth: f64) -> ResultFile {
    let template = file.cases[0].clone();
    for (op, unit, rate) in [
        (Op::PeakFma, RateUnit::Gflops, peak),
        (Op::Copy, RateUnit::Gbps, bandwidth),
    ] {
        let mut case = template.clone();
        case.workload.op = op;
        case.id = format!("{op}/{}", case.workload.key());
        let timing = case.timing.as_mut().unwrap();
        timing.unit = unit;
        let scale = rate / timing.throughput.median.value;
        let t = &mut timing.throughput;
        for v in [
            &mut t.median.value,
            &mut t.min,
            &mut t.max,
            &mut t.median.low,
            &mut t.median.high,
        ] {
            *v *= scale;
        }
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
