//! What a ratio is a ratio of: a measured workload family and the datasheet figure it is
//! compared with. The one metric vocabulary of the crate: `compare` groups its rows by it,
//! `calibrate --metric` and `project --metric` take its names.

use crate::catalog::{CatalogEntry, Precision};
use crate::workload::{Dtype, Op, Workload};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The quantity devices are compared on.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum Metric {
    /// f32 matrix multiply; published figure: FP32 (non-tensor).
    #[serde(rename = "matmul-f32")]
    MatmulF32,
    /// f16 matrix multiply; published figure: BF16/FP16 tensor.
    #[serde(rename = "matmul-f16")]
    MatmulF16,
    /// int8 matrix multiply (i8 inputs packed four to a u32, i32 accumulation); measured only:
    /// datasheet INT8 figures are tensor-core figures, a different engine.
    #[serde(rename = "matmul-int8")]
    MatmulInt8,
    /// f32 FMA ceiling; published figure: FP32 (non-tensor).
    #[serde(rename = "peak-f32")]
    PeakF32,
    /// f16 FMA ceiling; published figure: BF16/FP16 tensor.
    #[serde(rename = "peak-f16")]
    PeakF16,
    /// Memory bandwidth (copy/triad); published figure: memory bandwidth.
    #[serde(rename = "bandwidth")]
    Bandwidth,
}

impl Metric {
    /// Every metric.
    pub const ALL: [Metric; 6] = [
        Metric::MatmulF32,
        Metric::MatmulF16,
        Metric::MatmulInt8,
        Metric::PeakF32,
        Metric::PeakF16,
        Metric::Bandwidth,
    ];

    /// The name on the command line and in files.
    pub fn label(self) -> &'static str {
        match self {
            Metric::MatmulF32 => "matmul-f32",
            Metric::MatmulF16 => "matmul-f16",
            Metric::MatmulInt8 => "matmul-int8",
            Metric::PeakF32 => "peak-f32",
            Metric::PeakF16 => "peak-f16",
            Metric::Bandwidth => "bandwidth",
        }
    }

    /// Whether a measured workload counts towards this metric.
    pub fn covers(self, w: &Workload) -> bool {
        match self {
            Metric::MatmulF32 => w.op == Op::Matmul && w.dtype == Dtype::F32,
            Metric::MatmulF16 => w.op == Op::Matmul && w.dtype == Dtype::F16,
            // The i8 dtype is named by its label: the dtype enum gains the variant with the
            // int8 kernels.
            Metric::MatmulInt8 => w.op == Op::Matmul && w.dtype.to_string() == "i8",
            Metric::PeakF32 => w.op == Op::PeakFma && w.dtype == Dtype::F32,
            Metric::PeakF16 => w.op == Op::PeakFma && w.dtype == Dtype::F16,
            Metric::Bandwidth => matches!(w.op, Op::Copy | Op::Triad),
        }
    }

    /// The metric a workload counts towards, if any.
    pub fn of(w: &Workload) -> Option<Metric> {
        Metric::ALL.into_iter().find(|m| m.covers(w))
    }

    /// The FMA ceiling a matmul metric is set against to tell a kernel's limit from the
    /// hardware's; `None` for the ceilings themselves and for int8 (no int8 FMA ceiling).
    pub fn peak_metric(self) -> Option<Metric> {
        match self {
            Metric::MatmulF32 => Some(Metric::PeakF32),
            Metric::MatmulF16 => Some(Metric::PeakF16),
            _ => None,
        }
    }

    /// The catalog precision the metric is compared with; `None` for bandwidth and for the
    /// measured-only int8 matmul.
    pub fn precision(self) -> Option<Precision> {
        match self {
            Metric::MatmulF32 | Metric::PeakF32 => Some(Precision::Fp32),
            Metric::MatmulF16 | Metric::PeakF16 => Some(Precision::Bf16Fp16Tensor),
            Metric::MatmulInt8 | Metric::Bandwidth => None,
        }
    }

    /// The published figure for this metric in the measured unit (GFLOP/s or GB/s).
    pub fn published(self, entry: &CatalogEntry) -> Option<f64> {
        let tera = match (self, self.precision()) {
            (Metric::MatmulInt8, _) => None,
            (_, Some(p)) => entry.dense(p),
            (_, None) => entry.bandwidth_tbs,
        };
        tera.map(|t| t * 1000.0)
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
        Metric::ALL
            .into_iter()
            .find(|m| m.label() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| {
                let names: Vec<&str> = Metric::ALL.iter().map(|m| m.label()).collect();
                format!(
                    "unknown metric '{s}' (expected one of {})",
                    names.join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn metrics_parse_and_pick_their_datasheet_figure() {
        assert_eq!("matmul-f32".parse::<Metric>(), Ok(Metric::MatmulF32));
        assert!("flops".parse::<Metric>().unwrap_err().contains("bandwidth"));
        let c = Catalog::builtin().unwrap();
        let h100 = c.get("h100-sxm").unwrap();
        assert_eq!(Metric::MatmulF32.published(h100), Some(66900.0));
        assert_eq!(Metric::MatmulF16.published(h100), Some(989400.0));
        assert_eq!(Metric::Bandwidth.published(h100), Some(3350.0));
        assert!(Metric::MatmulF32.covers(&Workload::matmul(Dtype::F32, 8, 8, 8)));
        assert!(!Metric::MatmulF16.covers(&Workload::matmul(Dtype::F32, 8, 8, 8)));
        assert_eq!("matmul-int8".parse::<Metric>(), Ok(Metric::MatmulInt8));
        assert_eq!(Metric::MatmulInt8.published(h100), None);
        assert_eq!(
            Metric::of(&Workload::matmul(Dtype::F16, 8, 8, 8)),
            Some(Metric::MatmulF16)
        );
        assert_eq!(Metric::MatmulF32.peak_metric(), Some(Metric::PeakF32));
    }
}
