//! What a ratio is a ratio of: a measured workload family ([`Metric`]) and the datasheet figure
//! it is compared with ([`DatasheetFigure`]). The one metric vocabulary of the crate, kept with
//! the catalog whose figures it names and below every analysis that uses it: `compare` groups
//! its rows by it, `calibrate --metric`, `project --metric` and fleet files take its names
//! through its one parser, and [`Metric::figure`] is the one metric → datasheet mapping.

use super::{CatalogEntry, Precision};
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

    /// The datasheet figure a measured metric is compared with: matmul and FMA-peak ratios
    /// stand for the dense peak of their precision, copy/triad ratios for the memory bandwidth.
    pub fn figure(self) -> DatasheetFigure {
        match self {
            Metric::MatmulF32 | Metric::PeakF32 => DatasheetFigure::Compute(Precision::Fp32),
            Metric::MatmulF16 | Metric::PeakF16 => {
                DatasheetFigure::Compute(Precision::Bf16Fp16Tensor)
            }
            // The datasheet's INT8 is a tensor-core figure and the measured int8 path is the
            // packed dot product: published totals use the former, calibrated ratios the latter.
            Metric::MatmulInt8 => DatasheetFigure::Compute(Precision::Int8),
            Metric::Bandwidth => DatasheetFigure::Bandwidth,
        }
    }

    /// The published figure a measured ratio is checked against, in the measured unit (GFLOP/s
    /// or GB/s); `None` for the int8 matmul, whose datasheet figure is another engine's.
    pub fn published(self, entry: &CatalogEntry) -> Option<f64> {
        if self == Metric::MatmulInt8 {
            return None;
        }
        self.figure().of_entry(entry).map(|t| t * 1000.0)
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// The one parser of metric names, for `calibrate --metric`, `project --metric` and fleet
/// files alike: a metric name (`matmul-f16`, `bandwidth`, …), or the short name of the
/// datasheet figure a matmul metric is compared with (`bf16` is `matmul-f16`, `fp32` is
/// `matmul-f32`), so older fleet files keep their meaning. A figure no metric measures (fp64,
/// tf32, fp8) is refused with the list.
impl FromStr for Metric {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let word = s.trim().to_ascii_lowercase();
        if let Some(metric) = Metric::ALL.into_iter().find(|m| m.label() == word) {
            return Ok(metric);
        }
        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.label()).collect();
        let unknown = format!(
            "unknown metric '{}' (expected one of {}; bf16 and fp32 name the matmul metric)",
            s.trim(),
            names.join(", ")
        );
        let figure: DatasheetFigure = word.parse().map_err(|_| unknown.clone())?;
        let candidates: Vec<Metric> = Metric::ALL
            .into_iter()
            .filter(|m| m.figure() == figure)
            .collect();
        let matmul = candidates.iter().find(|m| m.label().starts_with("matmul"));
        matmul.or(candidates.first()).copied().ok_or_else(|| {
            format!("{unknown}: no measured metric is compared with datasheet {figure}")
        })
    }
}

/// A figure a datasheet states for a device: a dense compute peak at one catalog precision, or
/// the memory bandwidth. Published bases and claim checks compare devices on these; what was
/// *measured* is a [`Metric`], mapped to the figure it is compared with by [`Metric::figure`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DatasheetFigure {
    /// Dense peak at a catalog precision, TFLOP/s (TOPS for INT8).
    Compute(Precision),
    /// Memory bandwidth, TB/s.
    Bandwidth,
}

impl DatasheetFigure {
    /// Every figure, in table order: the catalog's precisions, then bandwidth.
    pub const ALL: [DatasheetFigure; 7] = [
        DatasheetFigure::Compute(Precision::Fp64),
        DatasheetFigure::Compute(Precision::Fp32),
        DatasheetFigure::Compute(Precision::Tf32),
        DatasheetFigure::Compute(Precision::Bf16Fp16Tensor),
        DatasheetFigure::Compute(Precision::Fp8),
        DatasheetFigure::Compute(Precision::Int8),
        DatasheetFigure::Bandwidth,
    ];

    /// The short name in tables and fleet files (`bf16` for the BF16/FP16 tensor peak).
    pub fn label(self) -> &'static str {
        match self {
            DatasheetFigure::Compute(Precision::Bf16Fp16Tensor) => "bf16",
            DatasheetFigure::Compute(p) => p.label(),
            DatasheetFigure::Bandwidth => "bandwidth",
        }
    }

    /// The unit of a fleet's throughput under this figure, at peta scale.
    pub fn peta_unit(self) -> &'static str {
        match self {
            DatasheetFigure::Compute(Precision::Int8) => "POP/s",
            DatasheetFigure::Compute(_) => "PFLOP/s",
            DatasheetFigure::Bandwidth => "PB/s",
        }
    }
}

impl fmt::Display for DatasheetFigure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for DatasheetFigure {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        let s = match s.as_str() {
            "bf16_fp16_tensor" | "fp16" => "bf16",
            other => other,
        };
        DatasheetFigure::ALL
            .into_iter()
            .find(|f| f.label() == s)
            .ok_or_else(|| {
                format!("unknown datasheet figure '{s}' (expected fp64, fp32, tf32, bf16, fp8, int8 or bandwidth)")
            })
    }
}

impl Serialize for DatasheetFigure {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.label())
    }
}

impl schemars::JsonSchema for DatasheetFigure {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "DatasheetFigure".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let labels: Vec<&str> = DatasheetFigure::ALL.iter().map(|f| f.label()).collect();
        schemars::json_schema!({ "type": "string", "enum": labels })
    }
}

impl DatasheetFigure {
    /// This figure of a catalog entry, in TFLOP/s (TOPS for INT8) or TB/s.
    pub fn of_entry(self, entry: &CatalogEntry) -> Option<f64> {
        match self {
            DatasheetFigure::Compute(p) => entry.dense(p),
            DatasheetFigure::Bandwidth => entry.bandwidth_tbs,
        }
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

    #[test]
    fn one_parser_takes_metric_names_and_datasheet_words() {
        assert_eq!("matmul-f16".parse::<Metric>(), Ok(Metric::MatmulF16));
        assert_eq!(" Peak-F32 ".parse::<Metric>(), Ok(Metric::PeakF32));
        assert_eq!("bf16".parse::<Metric>(), Ok(Metric::MatmulF16));
        assert_eq!("fp32".parse::<Metric>(), Ok(Metric::MatmulF32));
        assert_eq!("int8".parse::<Metric>(), Ok(Metric::MatmulInt8));
        assert_eq!("bandwidth".parse::<Metric>(), Ok(Metric::Bandwidth));
        let fp64 = "fp64".parse::<Metric>().unwrap_err();
        assert!(
            fp64.contains("no measured metric is compared with datasheet fp64"),
            "{fp64}"
        );
        assert!("fp7"
            .parse::<Metric>()
            .unwrap_err()
            .starts_with("unknown metric 'fp7'"));
        assert_eq!(Metric::PeakF16.figure().label(), "bf16");
        for m in Metric::ALL {
            assert_eq!(m.label().parse::<Metric>(), Ok(m));
        }
    }
}
