//! Catalog types and the embedded datasheet table.

use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::Path;
use std::str::FromStr;

/// The embedded datasheet table (`data/gpu-catalog.csv`).
const BUILTIN_CSV: &str = include_str!("../../data/gpu-catalog.csv");
/// Name used for the embedded table in error messages.
const BUILTIN_NAME: &str = "data/gpu-catalog.csv (embedded)";

/// A precision a datasheet quotes dense throughput for.
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
#[serde(rename_all = "snake_case")]
pub enum Precision {
    /// IEEE double, vector (non-tensor) rate.
    Fp64,
    /// IEEE single, vector (non-tensor) rate.
    Fp32,
    /// TensorFloat-32 on matrix units.
    Tf32,
    /// BF16 or FP16 on matrix units, FP32 accumulation where the vendor distinguishes.
    Bf16Fp16Tensor,
    /// 8-bit floating point on matrix units.
    Fp8,
    /// 8-bit integer on matrix units (TOPS).
    Int8,
}

impl Precision {
    /// Every precision, in table order.
    pub const ALL: [Precision; 6] = [
        Precision::Fp64,
        Precision::Fp32,
        Precision::Tf32,
        Precision::Bf16Fp16Tensor,
        Precision::Fp8,
        Precision::Int8,
    ];

    /// The name used in files and on the command line.
    pub fn label(self) -> &'static str {
        match self {
            Precision::Fp64 => "fp64",
            Precision::Fp32 => "fp32",
            Precision::Tf32 => "tf32",
            Precision::Bf16Fp16Tensor => "bf16_fp16_tensor",
            Precision::Fp8 => "fp8",
            Precision::Int8 => "int8",
        }
    }
}

impl fmt::Display for Precision {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Precision {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Precision::ALL
            .into_iter()
            .find(|p| p.label() == s.trim().to_ascii_lowercase())
            .ok_or_else(|| format!("unknown precision '{s}'"))
    }
}

/// One device's published figures. Throughput is dense TFLOP/s (TOPS for INT8); `None` where the
/// device has no such mode or the sources give no dense figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogEntry {
    /// Stable id, e.g. `h100-sxm`.
    pub id: String,
    /// Marketing name.
    pub name: String,
    /// Vendor.
    pub vendor: String,
    /// Year of release.
    pub year: Option<u32>,
    /// FP64 vector TFLOP/s.
    pub fp64_tflops: Option<f64>,
    /// FP32 vector TFLOP/s.
    pub fp32_tflops: Option<f64>,
    /// TF32 tensor TFLOP/s.
    pub tf32_tflops: Option<f64>,
    /// BF16/FP16 tensor TFLOP/s.
    pub bf16_fp16_tensor_tflops: Option<f64>,
    /// FP8 tensor TFLOP/s.
    pub fp8_tflops: Option<f64>,
    /// INT8 tensor TOPS.
    pub int8_tops: Option<f64>,
    /// Device memory, GB.
    pub memory_gb: Option<f64>,
    /// Memory bandwidth, TB/s.
    pub bandwidth_tbs: Option<f64>,
    /// Board power, W.
    pub tdp_w: Option<f64>,
    /// Precisions whose figure is a vendor number not re-checked (treat as uncertain).
    pub unverified: Vec<Precision>,
    /// Where the figures come from.
    pub sources: String,
    /// Caveats: disagreements between sources, variants, accumulation modes.
    pub notes: String,
}

impl CatalogEntry {
    /// The dense figure for `precision`, TFLOP/s (TOPS for INT8).
    pub fn dense(&self, precision: Precision) -> Option<f64> {
        match precision {
            Precision::Fp64 => self.fp64_tflops,
            Precision::Fp32 => self.fp32_tflops,
            Precision::Tf32 => self.tf32_tflops,
            Precision::Bf16Fp16Tensor => self.bf16_fp16_tensor_tflops,
            Precision::Fp8 => self.fp8_tflops,
            Precision::Int8 => self.int8_tops,
        }
    }

    /// Whether the figure for `precision` is marked uncertain.
    pub fn is_unverified(&self, precision: Precision) -> bool {
        self.unverified.contains(&precision)
    }
}

/// The CSV row shape of the catalog file (and of `catalog --format csv`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Row {
    id: String,
    name: String,
    vendor: String,
    year: Option<u32>,
    fp64_tflops: Option<f64>,
    fp32_tflops: Option<f64>,
    tf32_tflops: Option<f64>,
    bf16_fp16_tensor_tflops: Option<f64>,
    fp8_tflops: Option<f64>,
    int8_tops: Option<f64>,
    memory_gb: Option<f64>,
    bandwidth_tbs: Option<f64>,
    tdp_w: Option<f64>,
    unverified: String,
    sources: String,
    notes: String,
}

impl Row {
    fn into_entry(self, path: &Path, line: u64) -> Result<CatalogEntry> {
        let bad = |m: String| Error::invalid(path, format!("line {line}: {m}"));
        let unverified = self
            .unverified
            .split(';')
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.parse::<Precision>().map_err(&bad))
            .collect::<Result<Vec<_>>>()?;
        if self.id.is_empty() || self.sources.trim().is_empty() {
            return Err(bad("every row needs an id and a source".to_string()));
        }
        let entry = CatalogEntry {
            id: self.id,
            name: self.name,
            vendor: self.vendor,
            year: self.year,
            fp64_tflops: self.fp64_tflops,
            fp32_tflops: self.fp32_tflops,
            tf32_tflops: self.tf32_tflops,
            bf16_fp16_tensor_tflops: self.bf16_fp16_tensor_tflops,
            fp8_tflops: self.fp8_tflops,
            int8_tops: self.int8_tops,
            memory_gb: self.memory_gb,
            bandwidth_tbs: self.bandwidth_tbs,
            tdp_w: self.tdp_w,
            unverified,
            sources: self.sources,
            notes: self.notes,
        };
        check_figures(&entry).map_err(bad)?;
        Ok(entry)
    }
}

fn check_figures(entry: &CatalogEntry) -> Result<(), String> {
    let figures = Precision::ALL.iter().map(|p| entry.dense(*p)).chain([
        entry.memory_gb,
        entry.bandwidth_tbs,
        entry.tdp_w,
    ]);
    for value in figures.flatten() {
        if !(value.is_finite() && value > 0.0) {
            return Err(format!("{}: figure {value} is not positive", entry.id));
        }
    }
    Ok(())
}

/// A set of catalog entries with unique ids.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    entries: Vec<CatalogEntry>,
}

impl Catalog {
    /// The table embedded in the binary.
    pub fn builtin() -> Result<Catalog> {
        Catalog::parse_csv(Path::new(BUILTIN_NAME), BUILTIN_CSV)
    }

    /// Parses a catalog CSV (the `data/gpu-catalog.csv` columns); `path` names it in errors.
    pub fn parse_csv(path: &Path, text: &str) -> Result<Catalog> {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let mut entries = Vec::new();
        for (i, row) in reader.deserialize::<Row>().enumerate() {
            let line = i as u64 + 2;
            let row = row.map_err(|e| Error::parse(path, format!("line {line}: {e}")))?;
            entries.push(row.into_entry(path, line)?);
        }
        Catalog::from_entries(entries).map_err(|m| Error::invalid(path, m))
    }

    /// A catalog of these entries; ids must be unique.
    pub fn from_entries(entries: Vec<CatalogEntry>) -> Result<Catalog, String> {
        let mut seen = std::collections::BTreeSet::new();
        for e in &entries {
            if !seen.insert(e.id.as_str()) {
                return Err(format!("catalog id '{}' appears twice", e.id));
            }
        }
        Ok(Catalog { entries })
    }

    /// Every entry, in file order.
    pub fn entries(&self) -> &[CatalogEntry] {
        &self.entries
    }

    /// The entry with this stable id.
    pub fn get(&self, id: &str) -> Option<&CatalogEntry> {
        self.entries.iter().find(|e| e.id == id)
    }

    /// An entry by id, or by name ignoring case and punctuation ("H100 SXM5" → `h100-sxm`).
    pub fn resolve(&self, query: &str) -> Option<&CatalogEntry> {
        let wanted = crate::results::slug(query);
        self.get(query).or_else(|| self.get(&wanted)).or_else(|| {
            self.entries
                .iter()
                .find(|e| crate::results::slug(&e.name) == wanted)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_table_parses_and_has_the_reference_rows() {
        let c = Catalog::builtin().unwrap();
        assert!(c.entries().len() >= 27, "{}", c.entries().len());
        let h100 = c.get("h100-sxm").unwrap();
        assert_eq!(h100.dense(Precision::Bf16Fp16Tensor), Some(989.4));
        assert_eq!(h100.dense(Precision::Fp8), Some(1979.0));
        let a100 = c.get("a100-sxm4-80gb").unwrap();
        // The dense BF16 ratio H100 SXM : A100 SXM is 3.17, FP32 3.43 (gpu-specs notes).
        let bf16 = h100.bf16_fp16_tensor_tflops.unwrap() / a100.bf16_fp16_tensor_tflops.unwrap();
        assert!((bf16 - 3.17).abs() < 0.01, "{bf16}");
        let fp32 = h100.fp32_tflops.unwrap() / a100.fp32_tflops.unwrap();
        assert!((fp32 - 3.43).abs() < 0.01, "{fp32}");
        for id in [
            "h200-sxm", "mi300x", "tpu-v6e", "gaudi3", "rtx-4090", "l40s",
        ] {
            assert!(c.get(id).is_some(), "{id}");
        }
        assert!(c.get("mi355x").unwrap().is_unverified(Precision::Fp8));
    }

    #[test]
    fn no_sparse_figures_slip_in() {
        // Sparse figures are exactly 2× dense: an H100 SXM BF16 of 1979 would be the sparse one.
        let c = Catalog::builtin().unwrap();
        for e in c.entries() {
            // Consumer cards quote the tensor rate with FP32 accumulation, at half the INT8 rate.
            let half_rate = e.notes.contains("FP32 accumulation");
            if let (Some(bf16), Some(int8), false) =
                (e.bf16_fp16_tensor_tflops, e.int8_tops, half_rate)
            {
                assert!(int8 <= 2.1 * bf16, "{}: int8 {int8} vs bf16 {bf16}", e.id);
            }
            if let (Some(tf32), Some(bf16)) = (e.tf32_tflops, e.bf16_fp16_tensor_tflops) {
                assert!(bf16 <= 2.1 * tf32, "{}", e.id);
            }
            assert!(!e.sources.is_empty(), "{}", e.id);
        }
    }

    #[test]
    fn resolve_accepts_ids_and_names() {
        let c = Catalog::builtin().unwrap();
        assert_eq!(c.resolve("h100-sxm").unwrap().id, "h100-sxm");
        assert_eq!(c.resolve("H100 SXM5").unwrap().id, "h100-sxm");
        assert_eq!(c.resolve("Instinct MI300X").unwrap().id, "mi300x");
        assert!(c.resolve("no such gpu").is_none());
    }

    #[test]
    fn bad_rows_are_errors_naming_the_line() {
        let header = BUILTIN_CSV.lines().next().unwrap();
        let p = Path::new("c.csv");
        let neg = format!("{header}\nx,X,V,2020,-1,,,,,,,,,,src,\n");
        let e = Catalog::parse_csv(p, &neg).unwrap_err().to_string();
        assert!(
            e.contains("c.csv: line 2") && e.contains("not positive"),
            "{e}"
        );
        let dup = format!("{header}\nx,X,V,2020,,,,,,,,,,,src,\nx,X,V,2020,,,,,,,,,,,src,\n");
        assert!(Catalog::parse_csv(p, &dup)
            .unwrap_err()
            .to_string()
            .contains("twice"));
        let nosrc = format!("{header}\nx,X,V,2020,,,,,,,,,,,,\n");
        assert!(Catalog::parse_csv(p, &nosrc).is_err());
        let badp = format!("{header}\nx,X,V,2020,,,,,,,,,,fp9,src,\n");
        assert!(Catalog::parse_csv(p, &badp)
            .unwrap_err()
            .to_string()
            .contains("fp9"));
    }
}
