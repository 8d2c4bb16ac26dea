//! Versioned serde types of the ratios file, its validation on load, and its table form.
//!
//! Like the result file it rejects unknown fields and checks `kind` and `schema_version` before
//! the shape, so a hand edit or another tool's JSON fails with a message that says so. Bump
//! [`RATIOS_SCHEMA_VERSION`] on any change that alters meaning.

use super::Metric;
use crate::error::{Error, Result};
use crate::table::Table;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The version written into every ratios file.
pub const RATIOS_SCHEMA_VERSION: u32 = 1;
/// The `kind` tag of a ratios file.
pub const RATIOS_KIND: &str = "fleetbench-ratios";

/// Where a ratio came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Datasheet figures of both devices.
    Published,
    /// Both devices measured on the same cases.
    Measured,
    /// Measured against the device in `via`, times `via`'s published ratio to the reference.
    Chained,
    /// Published ratio × (device efficiency ÷ reference efficiency), efficiency being measured
    /// throughput ÷ datasheet figure.
    PublishedAdjusted,
}

impl Provenance {
    /// The name in files and tables.
    pub fn label(self) -> &'static str {
        match self {
            Provenance::Published => "published",
            Provenance::Measured => "measured",
            Provenance::Chained => "chained",
            Provenance::PublishedAdjusted => "published_adjusted",
        }
    }
}

/// One ratio to the reference, with its interval when it has one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RatioCell {
    /// Device ÷ reference.
    pub ratio: f64,
    /// Lower end of the 95% interval (absent for a published figure).
    pub ci_low: Option<f64>,
    /// Upper end of the 95% interval.
    pub ci_high: Option<f64>,
    /// Where it came from.
    pub provenance: Provenance,
    /// The intermediate device of a chained ratio.
    pub via: Option<String>,
    /// How it was derived, in one line.
    pub note: String,
}

/// Every ratio known for one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceRatios {
    /// Catalog id, or the adapter-name slug of a device the catalog lacks.
    pub device: String,
    /// Human name (catalog name or adapter name).
    pub name: String,
    /// Whether `device` is a catalog id.
    pub in_catalog: bool,
    /// Datasheet ratio.
    pub published: Option<RatioCell>,
    /// Ratio measured against the reference directly.
    pub measured: Option<RatioCell>,
    /// Measured throughput ÷ datasheet figure, when both exist.
    pub efficiency: Option<f64>,
    /// The ratio a projection should use; `None` when nothing is known.
    pub calibrated: Option<RatioCell>,
}

/// A result file that went into the table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InputRecord {
    /// The path as given.
    pub path: String,
    /// The device it was attributed to.
    pub device: String,
    /// Its run id.
    pub run_id: String,
}

/// The equivalence table for one metric and one reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RatiosFile {
    /// Always [`RATIOS_KIND`].
    pub kind: String,
    /// Always [`RATIOS_SCHEMA_VERSION`] for files this build writes.
    pub schema_version: u32,
    /// What is compared.
    pub metric: Metric,
    /// The device every ratio is relative to (ratio 1).
    pub reference: String,
    /// When the table was built (RFC 3339, UTC).
    pub created_at: String,
    /// The fleetbench version that built it.
    pub fleetbench_version: String,
    /// Confidence level of every interval.
    pub confidence_level: f64,
    /// Bootstrap resamples behind each measured interval.
    pub bootstrap_resamples: usize,
    /// Seed of the bootstrap, so the intervals can be reproduced.
    pub bootstrap_seed: u64,
    /// The result files used.
    pub inputs: Vec<InputRecord>,
    /// One row per device, the reference first.
    pub devices: Vec<DeviceRatios>,
}

impl RatiosFile {
    /// The row of a device, by id.
    pub fn device(&self, id: &str) -> Option<&DeviceRatios> {
        self.devices.iter().find(|d| d.device == id)
    }

    /// The calibrated ratio of a device, by id.
    pub fn calibrated_ratio(&self, id: &str) -> Option<&RatioCell> {
        self.device(id).and_then(|d| d.calibrated.as_ref())
    }

    /// Pretty JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self)
            .map(|s| s + "\n")
            .map_err(|e| Error::Config(format!("cannot serialize ratios: {e}")))
    }

    /// Loads and validates a ratios file.
    pub fn load(path: &Path) -> Result<RatiosFile> {
        let bytes = crate::fsio::read_bounded(path, crate::fsio::RATIOS_FILE)?;
        RatiosFile::parse(path, &bytes)
    }

    /// Parses ratios-file bytes; `path` names the source in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<RatiosFile> {
        let value: serde_json::Value = serde_json::from_slice(bytes)
            .map_err(|e| Error::parse(path, format!("invalid JSON: {e}")))?;
        check_header(path, &value)?;
        let file: RatiosFile = serde_json::from_value(value)
            .map_err(|e| Error::parse(path, format!("not a valid ratios file: {e}")))?;
        file.validate().map_err(|m| Error::invalid(path, m))?;
        Ok(file)
    }

    /// Checks what serde cannot: positive finite ratios, ordered intervals, a reference row.
    pub fn validate(&self) -> Result<(), String> {
        if self.device(&self.reference).is_none() {
            return Err(format!("reference '{}' has no row", self.reference));
        }
        for d in &self.devices {
            let cells = [&d.published, &d.measured, &d.calibrated];
            for cell in cells.into_iter().flatten() {
                check_cell(&d.device, cell)?;
            }
        }
        Ok(())
    }

    /// One row per device, for CSV and Markdown.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "device",
            "name",
            "published",
            "measured",
            "measured 95% CI",
            "efficiency",
            "calibrated",
            "calibrated 95% CI",
            "provenance",
            "note",
        ]);
        for d in &self.devices {
            t.push(table_row(d));
        }
        t
    }
}

fn table_row(d: &DeviceRatios) -> Vec<String> {
    let ratio = |c: &Option<RatioCell>| c.as_ref().map_or("-".to_string(), |c| fmt3(c.ratio));
    let ci = |c: &Option<RatioCell>| match c {
        Some(RatioCell {
            ci_low: Some(lo),
            ci_high: Some(hi),
            ..
        }) => format!("[{}, {}]", fmt3(*lo), fmt3(*hi)),
        _ => "-".to_string(),
    };
    let cal = d.calibrated.as_ref();
    let provenance = cal.map_or("none".to_string(), |c| match &c.via {
        Some(via) => format!("{} via {via}", c.provenance.label()),
        None => c.provenance.label().to_string(),
    });
    vec![
        d.device.clone(),
        d.name.clone(),
        ratio(&d.published),
        ratio(&d.measured),
        ci(&d.measured),
        d.efficiency
            .map_or("-".to_string(), |e| format!("{:.1}%", e * 100.0)),
        ratio(&d.calibrated),
        ci(&d.calibrated),
        provenance,
        cal.map_or(String::new(), |c| c.note.clone()),
    ]
}

/// A ratio with three significant decimals.
pub(crate) fn fmt3(v: f64) -> String {
    format!("{v:.3}")
}

fn check_header(path: &Path, value: &serde_json::Value) -> Result<()> {
    let Some(object) = value.as_object() else {
        return Err(Error::parse(
            path,
            "not a fleetbench ratios file (not an object)",
        ));
    };
    if object.get("kind").and_then(|k| k.as_str()) != Some(RATIOS_KIND) {
        return Err(Error::parse(
            path,
            format!("not a fleetbench ratios file (no \"kind\": \"{RATIOS_KIND}\")"),
        ));
    }
    match object.get("schema_version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(RATIOS_SCHEMA_VERSION) => Ok(()),
        other => Err(Error::parse(
            path,
            format!(
                "ratios schema_version {} is not supported (this build reads {RATIOS_SCHEMA_VERSION})",
                other.map_or("missing".to_string(), |v| v.to_string())
            ),
        )),
    }
}

fn check_cell(device: &str, c: &RatioCell) -> Result<(), String> {
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if !positive(c.ratio) {
        return Err(format!("{device}: ratio {} is not positive", c.ratio));
    }
    if let (Some(lo), Some(hi)) = (c.ci_low, c.ci_high) {
        if !(positive(lo) && lo <= hi) {
            return Err(format!("{device}: interval [{lo}, {hi}] is not ordered"));
        }
    }
    if c.provenance == Provenance::Chained && c.via.is_none() {
        return Err(format!("{device}: a chained ratio must name 'via'"));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn example() -> RatiosFile {
        let cell = |ratio, provenance, via: Option<&str>| RatioCell {
            ratio,
            ci_low: Some(ratio * 0.9),
            ci_high: Some(ratio * 1.1),
            provenance,
            via: via.map(str::to_string),
            note: "test".to_string(),
        };
        let row = |device: &str, calibrated| DeviceRatios {
            device: device.to_string(),
            name: device.to_uppercase(),
            in_catalog: true,
            published: None,
            measured: None,
            efficiency: Some(0.5),
            calibrated: Some(calibrated),
        };
        RatiosFile {
            kind: RATIOS_KIND.to_string(),
            schema_version: RATIOS_SCHEMA_VERSION,
            metric: Metric::MatmulF32,
            reference: "a100-sxm4-80gb".to_string(),
            created_at: "2026-11-28T00:00:00Z".to_string(),
            fleetbench_version: "0.1.0".to_string(),
            confidence_level: 0.95,
            bootstrap_resamples: 2000,
            bootstrap_seed: 1,
            inputs: Vec::new(),
            devices: vec![
                row("a100-sxm4-80gb", cell(1.0, Provenance::Measured, None)),
                row("h100-sxm", cell(3.0, Provenance::Chained, Some("h200-sxm"))),
            ],
        }
    }

    #[test]
    fn round_trips_through_json() {
        let f = example();
        let json = f.to_json().unwrap();
        assert!(json.contains("\"kind\": \"fleetbench-ratios\""));
        assert!(json.contains("\"metric\": \"matmul-f32\""));
        assert!(json.contains("\"provenance\": \"chained\""));
        let back = RatiosFile::parse(Path::new("r.json"), json.as_bytes()).unwrap();
        assert_eq!(back, f);
        assert_eq!(back.calibrated_ratio("h100-sxm").unwrap().ratio, 3.0);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let p = Path::new("r.json");
        let msg = |s: &str| RatiosFile::parse(p, s.as_bytes()).unwrap_err().to_string();
        assert!(msg("{\"schema_version\":1}").contains("not a fleetbench ratios file"));
        assert!(msg("{\"kind\":\"fleetbench-ratios\",\"schema_version\":7}").contains("7 is not"));
        assert!(msg("[").contains("invalid JSON"));
        let mut f = example();
        f.devices[1].calibrated.as_mut().unwrap().via = None;
        assert!(msg(&f.to_json().unwrap()).contains("must name 'via'"));
        let mut f = example();
        f.reference = "x".to_string();
        assert!(msg(&f.to_json().unwrap()).contains("reference 'x' has no row"));
        let mut f = example();
        f.devices[0].calibrated.as_mut().unwrap().ratio = -1.0;
        assert!(msg(&f.to_json().unwrap()).contains("not positive"));
    }

    #[test]
    fn table_says_provenance_per_row() {
        let md = example().table().render(crate::table::Format::Markdown);
        assert!(md.contains("chained via h200-sxm"), "{md}");
        assert!(md.contains("[2.700, 3.300]"), "{md}");
    }
}
