//! Ratio bases: which figure turns one device into reference-equivalents.
//!
//! The same fleet is worth different amounts under different bases (FP32 vs tensor peaks,
//! datasheet vs measured, compute-bound vs memory-bound), and showing them side by side is
//! the point of a projection.

use super::{DeviceFigures, Interval, MeasuredRatio, RatioUsed};
use crate::catalog::{DatasheetFigure, Metric};
use serde::Serialize;
use std::fmt;
use std::str::FromStr;

/// What the fleet's compute is used for, which decides where on the roofline it sits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Regime {
    /// Compute-bound (large matmuls): the compute peak decides.
    Training,
    /// Memory-bound LLM decoding: 1 FLOP per byte (batch 1, 16-bit weights: 2 FLOP per
    /// 2-byte weight read).
    Inference,
    /// Any arithmetic intensity in FLOP per byte (> 0).
    Intensity(f64),
}

impl Regime {
    /// Arithmetic intensity in FLOP/byte; `None` means compute-bound.
    pub fn intensity(self) -> Option<f64> {
        match self {
            Regime::Training => None,
            Regime::Inference => Some(1.0),
            Regime::Intensity(x) => Some(x),
        }
    }
}

/// Arithmetic intensities a workload can have, FLOP/byte: a streaming copy is about 0.1, a
/// large matmul a few thousand; outside this a roofline figure is only a wall of digits.
pub const INTENSITY_RANGE: (f64, f64) = (1e-3, 1e5);

impl FromStr for Regime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "training" => Ok(Regime::Training),
            "inference" => Ok(Regime::Inference),
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
                let (least, most) = INTENSITY_RANGE;
                if !(least..=most).contains(&x) {
                    return Err(format!(
                        "workload intensity {} is outside {} to {} FLOP/byte",
                        crate::output::number(x),
                        crate::output::number(least),
                        crate::output::number(most)
                    ));
                }
                Ok(Regime::Intensity(x))
            }
        }
    }
}

/// How a device's count becomes reference-equivalents.
#[derive(Debug, Clone, PartialEq, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Basis {
    /// Ratio of published datasheet figures.
    Published {
        /// The figure compared.
        figure: DatasheetFigure,
    },
    /// Measured ratio from a ratios file; published (of the figure the metric is compared
    /// with) where a device was not measured.
    Calibrated {
        /// The measured metric.
        metric: Metric,
    },
    /// Ratio of attainable throughput on a roofline at an arithmetic intensity, from measured
    /// ratios where known (`calibrated`) or datasheet figures.
    Roofline {
        /// Metric of the compute roof (its datasheet figure when not calibrated).
        metric: Metric,
        /// Arithmetic intensity, FLOP/byte; `None` is compute-bound.
        intensity: Option<f64>,
        /// Whether measured ratios scale the roofs.
        calibrated: bool,
    },
}

impl fmt::Display for Basis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Basis::Published { figure } => write!(f, "published {figure}"),
            Basis::Calibrated { metric } => write!(f, "calibrated {metric}"),
            Basis::Roofline {
                metric,
                intensity,
                calibrated,
            } => {
                let (kind, roof) = if *calibrated {
                    ("calibrated", metric.to_string())
                } else {
                    ("published", metric.figure().to_string())
                };
                match intensity {
                    Some(i) => write!(f, "roofline {roof} @ {i} FLOP/B ({kind})"),
                    None => write!(f, "roofline {roof}, compute-bound ({kind})"),
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
            Basis::Published { figure } => published(device, src.reference, figure),
            Basis::Calibrated { metric } => calibrated(device, src, metric),
            Basis::Roofline {
                metric,
                intensity,
                calibrated,
            } => roofline(device, src, metric, intensity, calibrated),
        }
    }
}

impl Basis {
    /// The datasheet figure the basis compares on (a roofline's compute figure): what its
    /// published baseline is and what unit its throughput has.
    pub fn figure(&self) -> DatasheetFigure {
        match *self {
            Basis::Published { figure } => figure,
            Basis::Calibrated { metric } | Basis::Roofline { metric, .. } => metric.figure(),
        }
    }

    /// What one reference device delivers under this basis, in TFLOP/s (TB/s for bandwidth):
    /// its datasheet figure, or its attainable throughput on the roofline. Multiplying
    /// equivalents by this gives a fleet's throughput.
    pub fn reference_throughput(&self, reference: &DeviceFigures) -> Option<f64> {
        match *self {
            Basis::Published { .. } | Basis::Calibrated { .. } => reference.figure(self.figure()),
            Basis::Roofline {
                metric, intensity, ..
            } => Some(attainable(
                reference.figure(metric.figure())?,
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
    figure: DatasheetFigure,
) -> Option<RatioUsed> {
    let (d, r) = (device.figure(figure)?, reference.figure(figure)?);
    Some(RatioUsed {
        ratio: Interval::exact(d / r),
        provenance: format!("datasheet {figure}: {d} / {r}"),
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
        None => published(device, src.reference, metric.figure()).map(|mut r| {
            r.provenance = format!("not measured, {}", r.provenance);
            r
        }),
    }
}

/// Attainable throughput on a roofline: `min(peak, intensity × bandwidth)`, the peak itself
/// when compute-bound (`None`). With TFLOP/s and TB/s the result is in TFLOP/s.
pub fn attainable(peak: f64, bandwidth: f64, intensity: Option<f64>) -> f64 {
    intensity.map_or(peak, |i| peak.min(i * bandwidth))
}

fn roofline(
    device: &DeviceFigures,
    src: RatioSources,
    metric: Metric,
    intensity: Option<f64>,
    use_measured: bool,
) -> Option<RatioUsed> {
    let pick = |m: Metric| {
        if use_measured {
            calibrated(device, src, m)
        } else {
            published(device, src.reference, m.figure())
        }
    };
    let (compute, memory) = (pick(metric)?, pick(Metric::Bandwidth)?);
    let ref_peak = src.reference.figure(metric.figure())?;
    let ref_bw = src.reference.bandwidth_tbs?;
    let ref_attainable = attainable(ref_peak, ref_bw, intensity);
    let at = |c: f64, b: f64| attainable(c * ref_peak, b * ref_bw, intensity) / ref_attainable;
    let ratio = Interval::new(
        at(compute.ratio.value, memory.ratio.value),
        at(compute.ratio.low, memory.ratio.low),
        at(compute.ratio.high, memory.ratio.high),
        compute.ratio.level.min(memory.ratio.level),
    );
    let memory_bound =
        intensity.is_some_and(|i| i * memory.ratio.value * ref_bw < compute.ratio.value * ref_peak);
    let at_intensity = intensity.map_or("compute-bound".to_string(), |i| {
        let bound = if memory_bound {
            "memory-bound"
        } else {
            "compute-bound"
        };
        format!("{bound} at {i} FLOP/B")
    });
    Some(RatioUsed {
        ratio,
        provenance: format!("{at_intensity}; {}", compute.provenance),
    })
}
