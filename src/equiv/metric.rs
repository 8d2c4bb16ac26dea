//! What a ratio is a ratio of: a measured workload family and the datasheet figure it is
//! compared with.

use crate::catalog::{CatalogEntry, Precision};
use crate::workload::{Dtype, Op, Workload};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The quantity devices are compared on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Metric {
    /// f32 matrix multiply; published figure: FP32 (non-tensor).
    #[serde(rename = "matmul-f32")]
    MatmulF32,
    /// f16 matrix multiply; published figure: BF16/FP16 tensor.
    #[serde(rename = "matmul-f16")]
    MatmulF16,
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
    pub const ALL: [Metric; 5] = [
        Metric::MatmulF32,
        Metric::MatmulF16,
        Metric::PeakF32,
        Metric::PeakF16,
        Metric::Bandwidth,
    ];

    /// The name on the command line and in files.
    pub fn label(self) -> &'static str {
        match self {
            Metric::MatmulF32 => "matmul-f32",
            Metric::MatmulF16 => "matmul-f16",
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
            Metric::PeakF32 => w.op == Op::PeakFma && w.dtype == Dtype::F32,
            Metric::PeakF16 => w.op == Op::PeakFma && w.dtype == Dtype::F16,
            Metric::Bandwidth => matches!(w.op, Op::Copy | Op::Triad),
        }
    }

    /// The catalog precision the metric is compared with; `None` for bandwidth.
    pub fn precision(self) -> Option<Precision> {
        match self {
            Metric::MatmulF32 | Metric::PeakF32 => Some(Precision::Fp32),
            Metric::MatmulF16 | Metric::PeakF16 => Some(Precision::Bf16Fp16Tensor),
            Metric::Bandwidth => None,
        }
    }

    /// The published figure for this metric in the measured unit (GFLOP/s or GB/s).
    pub fn published(self, entry: &CatalogEntry) -> Option<f64> {
        let tera = match self.precision() {
            Some(p) => entry.dense(p),
            None => entry.bandwidth_tbs,
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
    }
}
