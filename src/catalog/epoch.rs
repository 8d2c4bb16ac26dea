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

/// Upper bound of a plausible figure per column unit, to refuse absurd values (a typo of a
/// few digits or a 400-digit number) instead of importing them: ten times or more the largest
/// figure in Epoch's data (about 5 PFLOP/s, 288 GB, 80 TB/s, 1.4 kW).
mod limit {
    pub const OPS: f64 = 1e18;
    pub const BYTES: f64 = 1e14;
    pub const BYTES_PER_S: f64 = 1e15;
    pub const WATTS: f64 = 1e5;
}

/// Header positions of the columns used.
struct Columns {
    index: std::collections::HashMap<&'static str, usize>,
    width: usize,
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
            let mut found = headers.iter().enumerate().filter(|(_, h)| h.trim() == name);
            let Some((i, _)) = found.next() else {
                return Err(Error::parse(
                    path,
                    format!("not an Epoch ml_hardware.csv: no column '{name}'"),
                ));
            };
            if found.next().is_some() {
                return Err(Error::parse(
                    path,
                    format!("column '{name}' appears more than once in the header"),
                ));
            }
            index.insert(name, i);
        }
        Ok(Columns {
            index,
            width: headers.len(),
        })
    }

    fn text<'r>(&self, record: &'r csv::StringRecord, name: &str) -> &'r str {
        self.index
            .get(name)
            .and_then(|i| record.get(*i))
            .unwrap_or("")
            .trim()
    }

    /// A number in the column scaled by `scale`; empty means unknown. Anything that is not a
    /// finite positive figure below `max` is an error: importing it would silently change the
    /// catalog.
    fn number(
        &self,
        record: &csv::StringRecord,
        name: &str,
        (scale, max): (f64, f64),
    ) -> Result<Option<f64>, String> {
        let text = self.text(record, name);
        if text.is_empty() {
            return Ok(None);
        }
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 && v <= max => Ok(Some(v * scale)),
            Ok(v) if v.is_finite() && v > max => Err(format!(
                "column '{name}': {text} is absurdly large (more than {max:e})"
            )),
            Ok(_) => Err(format!(
                "column '{name}': {} is not a finite positive figure",
                shown(text)
            )),
            Err(_) => Err(format!("column '{name}': {} is not a number", shown(text))),
        }
    }

    /// The release year of a `YYYY-MM-DD` date (empty means unknown); an impossible date is
    /// an error.
    fn year(&self, record: &csv::StringRecord) -> Result<Option<u32>, String> {
        let text = self.text(record, col::RELEASE);
        if text.is_empty() {
            return Ok(None);
        }
        let date: jiff::civil::Date = text
            .get(..10)
            .unwrap_or(text)
            .parse()
            .map_err(|_| format!("column '{}': '{text}' is not a date", col::RELEASE))?;
        if !(1950..=2100).contains(&date.year()) {
            return Err(format!(
                "column '{}': year {} is not a plausible release year",
                col::RELEASE,
                date.year()
            ));
        }
        Ok(u32::try_from(date.year()).ok())
    }
}

/// A cell quoted for a message, shortened when long so the message stays one readable line.
fn shown(text: &str) -> String {
    const KEEP: usize = 24;
    match text.char_indices().nth(KEEP) {
        Some((cut, _)) => format!("'{}…' ({} characters)", &text[..cut], text.chars().count()),
        None => format!("'{text}'"),
    }
}

/// Parses Epoch CSV text; `path` names it in errors. A damaged file (an unterminated quote, a
/// row with the wrong number of fields, two rows with one id) is an error naming the line,
/// never a silently different catalog.
pub fn parse_epoch(path: &Path, text: &str) -> Result<Vec<CatalogEntry>> {
    if let Some(line) = unterminated_quote(text) {
        return Err(Error::parse(
            path,
            format!("line {line}: a quote that is never closed (is the file truncated?)"),
        ));
    }
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| Error::parse(path, e.to_string()))?
        .clone();
    let columns = Columns::find(path, &headers)?;
    let mut entries: Vec<CatalogEntry> = Vec::new();
    let mut lines: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    for record in reader.records() {
        let record = record.map_err(|e| Error::parse(path, e.to_string()))?;
        let line = record.position().map_or(0, |p| p.line());
        let at = |m: String| Error::parse(path, format!("line {line}: {m}"));
        if record.len() != columns.width {
            return Err(at(format!(
                "{} fields but the header has {} (a ragged or truncated row)",
                record.len(),
                columns.width
            )));
        }
        let Some(entry) = epoch_entry(&columns, &record).map_err(at)? else {
            continue;
        };
        if let Some(first) = lines.insert(entry.id.clone(), line) {
            return Err(at(format!(
                "id '{}' is also the id of line {first}",
                entry.id
            )));
        }
        entries.push(entry);
    }
    Ok(entries)
}

/// The line of a quote opened and never closed, if any: the CSV reader would otherwise end the
/// field at the end of the file and import a truncated row as if it were whole.
fn unterminated_quote(text: &str) -> Option<usize> {
    let (mut open_at, mut line) = (None, 1);
    for c in text.chars() {
        match c {
            '"' => open_at = if open_at.is_some() { None } else { Some(line) },
            '\n' => line += 1,
            _ => {}
        }
    }
    open_at
}

fn epoch_entry(c: &Columns, r: &csv::StringRecord) -> Result<Option<CatalogEntry>, String> {
    let name = c.text(r, col::NAME);
    if name.is_empty() {
        // A blank row is nothing; a row with figures but no name cannot be imported honestly.
        if r.iter().all(|field| field.trim().is_empty()) {
            return Ok(None);
        }
        return Err(format!("no '{}' on a row that has figures", col::NAME));
    }
    let ops = (1e-12, limit::OPS);
    let link = c.text(r, col::LINK);
    Ok(Some(CatalogEntry {
        id: slug(name),
        name: name.to_string(),
        vendor: c.text(r, col::VENDOR).to_string(),
        year: c.year(r)?,
        fp64_tflops: c.number(r, col::FP64, ops)?,
        fp32_tflops: c.number(r, col::FP32, ops)?,
        tf32_tflops: c.number(r, col::TF32, ops)?,
        bf16_fp16_tensor_tflops: c.number(r, col::BF16, ops)?,
        fp8_tflops: c.number(r, col::FP8, ops)?,
        int8_tops: c.number(r, col::INT8, ops)?,
        memory_gb: c.number(r, col::MEMORY, (1e-9, limit::BYTES))?,
        bandwidth_tbs: c.number(r, col::BANDWIDTH, (1e-12, limit::BYTES_PER_S))?,
        tdp_w: c.number(r, col::TDP, (1.0, limit::WATTS))?,
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
