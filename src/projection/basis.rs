//! Ratio bases: which figure turns one device into reference-equivalents.
//!
//! The same fleet is worth different amounts under different bases (FP32 vs tensor peaks,
//! datasheet vs measured, compute-bound vs memory-bound), and showing them side by side is
//! the point of a projection.

use super::{DeviceFigures, Interval, MeasuredRatio, RatioUsed};
use std::fmt;
use std::str::FromStr;

/// A figure two devices can be compared by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Metric {
    /// FP64 vector peak.
    Fp64,
    /// FP32 vector (non-tensor) peak.
    Fp32,
    /// TF32 tensor peak.
    Tf32,
    /// BF16/FP16 dense tensor peak.
    Bf16,
    /// FP8 dense tensor peak.
    Fp8,
    /// INT8 dense tensor peak (TOPS).
    Int8,
    /// Memory bandwidth (TB/s).
    Bandwidth,
}

impl Metric {
    /// Every metric, in table order.
    pub const ALL: [Metric; 7] = [
        Metric::Fp64,
        Metric::Fp32,
        Metric::Tf32,
        Metric::Bf16,
        Metric::Fp8,
        Metric::Int8,
        Metric::Bandwidth,
    ];

    /// The name used in files and on the command line.
    pub fn label(self) -> &'static str {
        match self {
            Metric::Fp64 => "fp64",
            Metric::Fp32 => "fp32",
            Metric::Tf32 => "tf32",
            Metric::Bf16 => "bf16",
            Metric::Fp8 => "fp8",
            Metric::Int8 => "int8",
            Metric::Bandwidth => "bandwidth",
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        let s = match s.as_str() {
            "bf16_fp16_tensor" | "fp16" | "tensor" => "bf16",
            "bw" | "memory" => "bandwidth",
            other => other,
        };
        Metric::ALL
            .into_iter()
            .find(|m| m.label() == s)
            .ok_or_else(|| {
                format!("unknown metric '{s}' (expected fp64, fp32, tf32, bf16, fp8, int8 or bandwidth)")
            })
    }
}

/// What the fleet's compute is used for, which decides where on the roofline it sits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Workload {
    /// Compute-bound (large matmuls): the compute peak decides.
    Training,
    /// Memory-bound LLM decoding: 1 FLOP per byte (batch 1, 16-bit weights: 2 FLOP per
    /// 2-byte weight read).
    Inference,
    /// Any arithmetic intensity in FLOP per byte (> 0).
    Intensity(f64),
}

impl Workload {
    /// Arithmetic intensity in FLOP/byte; `None` means compute-bound.
    pub fn intensity(self) -> Option<f64> {
        match self {
            Workload::Training => None,
            Workload::Inference => Some(1.0),
            Workload::Intensity(x) => Some(x),
        }
    }
}

impl FromStr for Workload {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "training" => Ok(Workload::Training),
            "inference" => Ok(Workload::Inference),
            other => {
                let value = other.strip_prefix("intensity=").ok_or_else(|| {
                    format!("unknown workload '{s}' (expected training, inference or intensity=N)")
                })?;
                let x: f64 = value
                    .parse()
                    .map_err(|_| format!("workload intensity '{value}' is not a number"))?;
                if !(x.is_finite() && x > 0.0) {
                    return Err(format!(
                        "workload intensity must be a positive FLOP/byte figure, got {value}"
                    ));
                }
                Ok(Workload::Intensity(x))
            }
        }
    }
}

/// How a device's count becomes reference-equivalents.
#[derive(Debug, Clone, PartialEq)]
pub enum Basis {
    /// Ratio of published datasheet figures for one metric.
    Published(Metric),
    /// Measured ratio from a ratios file; published where a device was not measured.
    Calibrated(Metric),
    /// Ratio of attainable throughput on a roofline at this intensity (FLOP/byte), from
    /// measured ratios where known (`calibrated`) or datasheet figures.
    Roofline {
        /// Compute metric of the roof.
        metric: Metric,
        /// Arithmetic intensity, FLOP/byte.
        intensity: f64,
        /// Whether measured ratios scale the roofs.
        calibrated: bool,
    },
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Basis::Published(m) => write!(f, "published {m}"),
            Basis::Calibrated(m) => write!(f, "calibrated {m}"),
            Basis::Roofline {
                metric,
                intensity,
                calibrated,
            } => {
                let kind = if *calibrated {
                    "calibrated"
                } else {
                    "published"
                };
                if intensity.is_finite() {
                    write!(f, "roofline {metric} @ {intensity} FLOP/B ({kind})")
                } else {
                    write!(f, "roofline {metric}, compute-bound ({kind})")
                }
            }
        }
    }
}

/// Inputs a basis may draw on: the reference's figures and any measured ratios.
#[derive(Debug, Clone, Copy)]
pub struct RatioSources<'a> {
    /// The reference device.
    pub reference: &'a DeviceFigures,
    /// Measured ratios to the reference (empty without a ratios file).
    pub measured: &'a [MeasuredRatio],
}

impl Basis {
    /// The ratio of `device` to the reference under this basis, or `None` where a figure is
    /// missing (the device has no such mode, or the reference lacks it).
    pub fn ratio(&self, device: &DeviceFigures, src: RatioSources) -> Option<RatioUsed> {
        match *self {
            Basis::Published(m) => published(device, src.reference, m),
            Basis::Calibrated(m) => calibrated(device, src, m),
            Basis::Roofline {
                metric,
                intensity,
                calibrated,
            } => roofline(device, src, metric, intensity, calibrated),
        }
    }
}

impl Basis {
    /// The metric the basis compares on (a roofline's compute metric).
    pub fn metric(&self) -> Metric {
        match *self {
            Basis::Published(m) | Basis::Calibrated(m) => m,
            Basis::Roofline { metric, .. } => metric,
        }
    }

    /// What one reference device delivers under this basis, in TFLOP/s (TB/s for bandwidth):
    /// its datasheet figure, or its attainable throughput on the roofline. Multiplying
    /// equivalents by this gives a fleet's throughput.
    pub fn reference_throughput(&self, reference: &DeviceFigures) -> Option<f64> {
        match *self {
            Basis::Published(m) | Basis::Calibrated(m) => reference.figure(m),
            Basis::Roofline {
                metric, intensity, ..
            } => Some(attainable(
                reference.figure(metric)?,
                reference.bandwidth_tbs?,
                intensity,
            )),
        }
    }
}

/// The datasheet ratio of `device` to `reference` for `metric`.
pub fn published(
    device: &DeviceFigures,
    reference: &DeviceFigures,
    metric: Metric,
) -> Option<RatioUsed> {
    let (d, r) = (device.figure(metric)?, reference.figure(metric)?);
    Some(RatioUsed {
        ratio: Interval::exact(d / r),
        provenance: format!("datasheet {metric}: {d} / {r}"),
    })
}

fn calibrated(device: &DeviceFigures, src: RatioSources, metric: Metric) -> Option<RatioUsed> {
    if device.id == src.reference.id {
        return Some(RatioUsed {
            ratio: Interval::exact(1.0),
            provenance: "reference".to_string(),
        });
    }
    let found = src
        .measured
        .iter()
        .find(|m| m.device == device.id && m.metric == metric);
    match found {
        // The ratios file's own provenance word (`measured`, `chained`, `published`, …) leads:
        // a published cell in a ratios file is still a published figure.
        Some(m) => Some(RatioUsed {
            ratio: m.ratio,
            provenance: m.provenance.clone(),
        }),
        None => published(device, src.reference, metric).map(|mut r| {
            r.provenance = format!("not measured, {}", r.provenance);
            r
        }),
    }
}

/// Attainable throughput on a roofline: `min(peak, intensity × bandwidth)`. With TFLOP/s and
/// TB/s the result is in TFLOP/s.
pub fn attainable(peak: f64, bandwidth: f64, intensity: f64) -> f64 {
    peak.min(intensity * bandwidth)
}

fn roofline(
    device: &DeviceFigures,
    src: RatioSources,
    metric: Metric,
    intensity: f64,
    use_measured: bool,
) -> Option<RatioUsed> {
    let pick = |m: Metric| {
        if use_measured {
            calibrated(device, src, m)
        } else {
            published(device, src.reference, m)
        }
    };
    let (compute, memory) = (pick(metric)?, pick(Metric::Bandwidth)?);
    let ref_peak = src.reference.figure(metric)?;
    let ref_bw = src.reference.bandwidth_tbs?;
    let ref_attainable = attainable(ref_peak, ref_bw, intensity);
    let at = |c: f64, b: f64| attainable(c * ref_peak, b * ref_bw, intensity) / ref_attainable;
    let ratio = Interval::new(
        at(compute.ratio.value, memory.ratio.value),
        at(compute.ratio.low, memory.ratio.low),
        at(compute.ratio.high, memory.ratio.high),
        compute.ratio.level.min(memory.ratio.level),
    );
    let bound = if intensity * memory.ratio.value * ref_bw < compute.ratio.value * ref_peak {
        "memory-bound"
    } else {
        "compute-bound"
    };
    Some(RatioUsed {
        ratio,
        provenance: format!("{bound} at {intensity} FLOP/B; {}", compute.provenance),
    })
}
