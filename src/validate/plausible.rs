//! Checks that hold a file to what is physically possible when the catalog cannot: a forged
//! file can be internally consistent (samples, statistics and shape agree), so these bound it by
//! its own ceilings and by what any device of its type can do. The run's clocks are checked
//! too: a run that finishes before it starts or a negative tick length is not a measurement.

use super::{Check, Finding, PeakLookup};
use crate::results::{Case, DeviceType, RateUnit, ResultFile, Timing};
use crate::workload::{Dtype, Op};

/// Longest plausible sample: `run --gpu-timeout` allows at most a day per case.
pub const MAX_SAMPLE_S: f64 = 86_400.0;

/// A matmul may beat the file's own FMA-peak case by noise, not by this factor: both run the
/// same multiply-adds on the same vector units (cooperative-matrix kernels excepted).
pub const OWN_PEAK_SLACK: f64 = 1.5;

/// The stream cases of one file (copy, triad) measure the same memory; their bandwidths differ
/// by the access pattern (lavapipe's triad reaches 1.7× its copy), not by this factor.
pub const STREAM_AGREEMENT: f64 = 4.0;

/// Family of kernels that run on matrix units, which the scalar FMA ceiling does not bound.
const MATRIX_UNIT_FAMILY: &str = "cooperative_matrix";

/// Upper bounds by `device_type` for adapters the catalog does not know, in GFLOP/s and GB/s.
/// Each is ten times or more the fastest device of that type we know of (the catalog's fastest
/// accelerator does about 2.5 PFLOP/s dense BF16 and 8 TB/s; server CPUs reach a few TFLOP/s
/// and well under 1 TB/s; integrated GPUs tens of TFLOP/s and about 0.8 TB/s).
fn type_bound(device_type: DeviceType, unit: RateUnit) -> f64 {
    match (device_type, unit) {
        (DeviceType::Cpu, RateUnit::Gflops) => 1e5,
        (DeviceType::Cpu, RateUnit::Gbps) => 2e4,
        (DeviceType::IntegratedGpu, RateUnit::Gflops) => 5e5,
        (DeviceType::IntegratedGpu, RateUnit::Gbps) => 2e4,
        (_, RateUnit::Gflops) => 1e7,
        (_, RateUnit::Gbps) => 1e5,
    }
}

/// File-level findings: the run's start, finish and tick length.
pub fn file_findings(file: &ResultFile) -> Vec<Finding> {
    let mut out = Vec::new();
    parse_time("machine.created_at", &file.machine.created_at, &mut out);
    let started = parse_time("run.started_at", &file.run.started_at, &mut out);
    if let Some(finished) = &file.run.finished_at {
        let finished = parse_time("run.finished_at", finished, &mut out);
        if let (Some(s), Some(f)) = (started, finished) {
            if f < s {
                out.push(format!(
                    "run.finished_at {} is before run.started_at {}",
                    file.run.finished_at.as_deref().unwrap_or_default(),
                    file.run.started_at
                ));
            }
        }
    }
    if let Some(p) = file.machine.adapter.timestamp_period_ns {
        if !(p.is_finite() && p > 0.0) {
            out.push(format!(
                "timestamp_period_ns {p} is not a positive tick length"
            ));
        }
    }
    out.into_iter()
        .map(|message| Finding {
            case: None,
            check: Check::Run,
            message,
        })
        .collect()
}

fn parse_time(field: &str, text: &str, out: &mut Vec<String>) -> Option<jiff::Timestamp> {
    match text.parse::<jiff::Timestamp>() {
        Ok(t) => Some(t),
        Err(_) => {
            out.push(format!("{field} '{text}' is not an RFC 3339 time"));
            None
        }
    }
}

/// The ceilings a file measured itself, gathered once per file: every case is held to them, so
/// looking them up case by case would make checking a file quadratic in its cases.
#[derive(Debug, Clone, Default)]
pub struct OwnCeilings {
    /// Best FMA-peak throughput per dtype.
    fma_peak: Vec<(Dtype, f64)>,
    /// Best throughput per stream op (copy, triad), with the case id that reached it.
    stream: Vec<(Op, f64, String)>,
}

impl OwnCeilings {
    /// The ceilings of `file`, in one pass over its cases.
    pub fn of(file: &ResultFile) -> OwnCeilings {
        let mut own = OwnCeilings::default();
        // A host reference ran on the CPU, not the adapter: it never bounds the adapter's cases.
        for c in file.cases.iter().filter(|c| !is_host_reference(c)) {
            let Some(max) = c.timing.as_ref().map(|t| t.throughput.max) else {
                continue;
            };
            let op = c.workload.op;
            if op == Op::PeakFma {
                let dtype = c.workload.dtype;
                match own.fma_peak.iter_mut().find(|(d, _)| *d == dtype) {
                    Some((_, best)) => *best = best.max(max),
                    None => own.fma_peak.push((dtype, max)),
                }
            } else if is_stream(op) {
                match own.stream.iter_mut().find(|(o, ..)| *o == op) {
                    Some(entry) if max > entry.1 => *entry = (op, max, c.id.clone()),
                    Some(_) => {}
                    None => own.stream.push((op, max, c.id.clone())),
                }
            }
        }
        own
    }
}

/// Per-case problems: samples beyond a day, a matmul beyond the file's own FMA ceiling, and,
/// without a catalog figure, a throughput beyond any device of the adapter's type. A host
/// reference is held to none of the adapter's ceilings (see [`super::peaks`]).
pub fn case_problems(
    case: &Case,
    file: &ResultFile,
    own: &OwnCeilings,
    peaks: &dyn PeakLookup,
) -> Vec<(Check, String)> {
    let Some(timing) = &case.timing else {
        return Vec::new();
    };
    let mut out = Vec::new();
    out.extend(long_sample(timing).map(|m| (Check::Samples, m)));
    // A host reference is bounded by the host's peak (`peaks::case_peak`), not the adapter's.
    if is_host_reference(case) {
        return out;
    }
    out.extend(above_own_peak(case, timing, own).map(|m| (Check::Peak, m)));
    out.extend(above_own_bandwidth(case, timing, own).map(|m| (Check::Peak, m)));
    let adapter = &file.machine.adapter;
    if peaks
        .peak(adapter, timing.unit, case.workload.dtype)
        .is_none()
    {
        let bound = type_bound(adapter.device_type, timing.unit);
        if timing.throughput.max > bound {
            out.push((
                Check::Peak,
                format!(
                    "throughput {:.3e} {} is beyond any {} device (at most {bound:e})",
                    timing.throughput.max,
                    timing.unit.label(),
                    adapter.device_type
                ),
            ));
        }
    }
    out
}

/// Whether `case` ran on the host CPU (a vendor reference on a CPU adapter), so the adapter's
/// own ceilings in the file do not bound it and it does not bound the adapter's cases.
fn is_host_reference(case: &Case) -> bool {
    case.kernel
        .library
        .as_ref()
        .is_some_and(|l| l.runs_on_host())
}

fn long_sample(timing: &Timing) -> Option<String> {
    let samples = [
        ("host_s", Some(&timing.host_s)),
        ("gpu_s", timing.gpu_s.as_ref()),
    ];
    samples.into_iter().find_map(|(name, values)| {
        let (i, v) = values?
            .iter()
            .enumerate()
            // Infinite and NaN samples are the samples check's to report.
            .find(|(_, v)| v.is_finite() && **v > MAX_SAMPLE_S)?;
        Some(format!(
            "{name}[{i}] is {v:e} s; no sample may exceed {MAX_SAMPLE_S} s (a day)"
        ))
    })
}

fn above_own_peak(case: &Case, timing: &Timing, own: &OwnCeilings) -> Option<String> {
    if case.workload.op != Op::Matmul || case.kernel.family == MATRIX_UNIT_FAMILY {
        return None;
    }
    let dtype = case.workload.dtype;
    let (_, peak) = *own.fma_peak.iter().find(|(d, _)| *d == dtype)?;
    let median = timing.throughput.median.value;
    (median > peak * OWN_PEAK_SLACK).then(|| {
        format!(
            "matmul median {median:.1} GFLOP/s exceeds this file's own FMA peak {peak:.1} by more than {OWN_PEAK_SLACK}x"
        )
    })
}

fn is_stream(op: Op) -> bool {
    matches!(op, Op::Copy | Op::Triad)
}

/// A copy or triad far above the file's other stream case: the bandwidth ceiling the file
/// measured itself contradicts it.
fn above_own_bandwidth(case: &Case, timing: &Timing, own: &OwnCeilings) -> Option<String> {
    if !is_stream(case.workload.op) {
        return None;
    }
    let (_, ceiling, other) = own
        .stream
        .iter()
        .filter(|(op, ..)| *op != case.workload.op)
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    let ceiling = *ceiling;
    let median = timing.throughput.median.value;
    (median > ceiling * STREAM_AGREEMENT).then(|| {
        format!(
            "median {} GB/s is more than {STREAM_AGREEMENT}x this file's own {other} bandwidth {ceiling:.1} GB/s",
            fmt_rate(median)
        )
    })
}

fn fmt_rate(v: f64) -> String {
    if v.abs() >= 1e6 {
        format!("{v:.3e}")
    } else {
        format!("{v:.1}")
    }
}
