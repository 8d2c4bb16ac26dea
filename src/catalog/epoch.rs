//! Import of Epoch AI's "Machine Learning Hardware" dataset (`ml_hardware.csv`) into the catalog
//! schema. Epoch gives FLOP/s, bytes and bytes/s; the catalog keeps TFLOP/s, GB and TB/s. Columns
//! are found by header name, so a reordered or extended export still reads.

use super::entry::CatalogEntry;
use crate::error::{Error, Result};
use crate::results::slug;
use std::path::Path;

/// Epoch column headers this import reads.
mod col {
    pub const NAME: &str = "Hardware name";
    pub const VENDOR: &str = "Manufacturer";
    pub const RELEASE: &str = "Release date";
    pub const BF16: &str = "Tensor-FP16/BF16 performance (FLOP/s)";
    pub const FP8: &str = "FP8 performance (FLOP/s)";
    pub const MEMORY: &str = "Memory (bytes)";
    pub const BANDWIDTH: &str = "Memory bandwidth (byte/s)";
    pub const TDP: &str = "TDP (W)";
    pub const FP64: &str = "FP64 (double precision) performance (FLOP/s)";
    pub const FP32: &str = "FP32 (single precision) performance (FLOP/s)";
    pub const TF32: &str = "TF32 (TensorFloat-32) performance (FLOP/s)";
    pub const INT8: &str = "INT8 performance (OP/s)";
    pub const LINK: &str = "Link to datasheet";
}

/// Reads an Epoch `ml_hardware.csv` file.
pub fn import_epoch(path: &Path) -> Result<Vec<CatalogEntry>> {
    let text = crate::fsio::read_text(path, crate::fsio::EPOCH_CSV)?;
    parse_epoch(path, &text)
}

/// Header positions of the columns used.
struct Columns {
    index: std::collections::HashMap<&'static str, usize>,
}

impl Columns {
    fn find(path: &Path, headers: &csv::StringRecord) -> Result<Columns> {
        let wanted = [
            col::NAME,
            col::VENDOR,
            col::RELEASE,
            col::BF16,
            col::FP8,
            col::MEMORY,
            col::BANDWIDTH,
            col::TDP,
            col::FP64,
            col::FP32,
            col::TF32,
            col::INT8,
            col::LINK,
        ];
        let mut index = std::collections::HashMap::new();
        for name in wanted {
            let Some(i) = headers.iter().position(|h| h.trim() == name) else {
                return Err(Error::parse(
                    path,
                    format!("not an Epoch ml_hardware.csv: no column '{name}'"),
                ));
            };
            index.insert(name, i);
        }
        Ok(Columns { index })
    }

    fn text<'r>(&self, record: &'r csv::StringRecord, name: &str) -> &'r str {
        self.index
            .get(name)
            .and_then(|i| record.get(*i))
            .unwrap_or("")
            .trim()
    }

    /// A number in the column scaled by `scale`; empty means unknown.
    fn number(
        &self,
        record: &csv::StringRecord,
        name: &str,
        scale: f64,
    ) -> Result<Option<f64>, String> {
        let text = self.text(record, name);
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => Ok(Some(v * scale)),
            Ok(_) => Ok(None),
            Err(_) => Err(format!("column '{name}': '{text}' is not a number")),
        }
    }
}

/// Parses Epoch CSV text; `path` names it in errors.
pub fn parse_epoch(path: &Path, text: &str) -> Result<Vec<CatalogEntry>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Error::parse(path, e.to_string()))?
        .clone();
    let columns = Columns::find(path, &headers)?;
    let mut entries = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| Error::parse(path, e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let entry = epoch_entry(&columns, &record)
            .map_err(|m| Error::parse(path, format!("line {line}: {m}")))?;
        entries.extend(entry);
    }
    Ok(entries)
}

fn epoch_entry(c: &Columns, r: &csv::StringRecord) -> Result<Option<CatalogEntry>, String> {
    let name = c.text(r, col::NAME);
    if name.is_empty() {
        return Ok(None);
    }
    let tera = 1e-12;
    let link = c.text(r, col::LINK);
    Ok(Some(CatalogEntry {
        id: slug(name),
        name: name.to_string(),
        vendor: c.text(r, col::VENDOR).to_string(),
        year: c
            .text(r, col::RELEASE)
            .get(..4)
            .and_then(|y| y.parse().ok()),
        fp64_tflops: c.number(r, col::FP64, tera)?,
        fp32_tflops: c.number(r, col::FP32, tera)?,
        tf32_tflops: c.number(r, col::TF32, tera)?,
        bf16_fp16_tensor_tflops: c.number(r, col::BF16, tera)?,
        fp8_tflops: c.number(r, col::FP8, tera)?,
        int8_tops: c.number(r, col::INT8, tera)?,
        memory_gb: c.number(r, col::MEMORY, 1e-9)?,
        bandwidth_tbs: c.number(r, col::BANDWIDTH, tera)?,
        tdp_w: c.number(r, col::TDP, 1.0)?,
        unverified: Vec::new(),
        sources: if link.is_empty() {
            "Epoch AI ml_hardware.csv".to_string()
        } else {
            format!("Epoch AI ml_hardware.csv; {link}")
        },
        notes: String::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/epoch_ml_hardware.csv")
    }

    #[test]
    fn fixture_converts_units_and_keeps_quoted_names() {
        let entries = import_epoch(&fixture()).unwrap();
        assert_eq!(entries.len(), 3);
        let x = &entries[0];
        assert_eq!(x.id, "example-gpu-x100");
        assert_eq!(x.year, Some(2022));
        assert!((x.bf16_fp16_tensor_tflops.unwrap() - 989.4).abs() < 1e-9);
        assert!((x.memory_gb.unwrap() - 80.0).abs() < 1e-9);
        assert!((x.bandwidth_tbs.unwrap() - 3.35).abs() < 1e-9);
        assert_eq!(x.tdp_w, Some(700.0));
        assert!(x.sources.contains("https://example.com/x100.pdf"));
        assert_eq!(entries[1].name, "Example TPU, v2");
        assert_eq!(entries[1].fp32_tflops, None);
        assert_eq!(entries[2].year, None);
    }

    #[test]
    fn other_csv_is_refused_with_the_missing_column() {
        let e = parse_epoch(Path::new("o.csv"), "a,b\n1,2\n").unwrap_err();
        assert!(e.to_string().starts_with("o.csv: not an Epoch"), "{e}");
        let text = std::fs::read_to_string(fixture()).unwrap();
        let broken = text.replace("700.0", "seven hundred");
        let e = parse_epoch(Path::new("b.csv"), &broken).unwrap_err();
        assert!(e.to_string().contains("seven hundred"), "{e}");
    }

    #[test]
    fn shared_copy_imports_when_present() {
        let shared =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/epoch/ml_hardware.csv");
        if !shared.exists() {
            return;
        }
        let entries = import_epoch(&shared).unwrap();
        assert!(entries.len() > 100);
        let h100 = entries
            .iter()
            .find(|e| e.name == "NVIDIA H100 SXM5 80GB")
            .unwrap();
        assert!((h100.bf16_fp16_tensor_tflops.unwrap() - 989.4).abs() < 1e-6);
    }
}
