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
        let text = std::str::from_utf8(bytes)
            .map_err(|e| Error::parse(path, format!("not UTF-8 text ({e})")))?;
        let value = crate::fsio::json::parse_strict(text).map_err(|e| {
            if crate::fsio::json::is_duplicate_key(&e) {
                Error::parse(path, format!("not a valid ratios file: {e}"))
            } else {
                Error::parse(path, format!("invalid JSON: {e}"))
            }
        })?;
        check_header(path, &value)?;
        let file: RatiosFile = serde_json::from_value(value)
            .map_err(|e| Error::parse(path, format!("not a valid ratios file: {e}")))?;
        file.validate().map_err(|m| Error::invalid(path, m))?;
        Ok(file)
    }

    /// Checks what serde cannot: a reference row, one row per device, a confidence level and
    /// efficiencies that mean something, and cells that agree with themselves (see
    /// [`check_cell`]) and with the rows they chain through. A file that fails here would
    /// print a projection that contradicts its own numbers.
    pub fn validate(&self) -> Result<(), String> {
        if !(self.confidence_level > 0.0 && self.confidence_level < 1.0) {
            return Err(format!(
                "confidence_level {} is not a level between 0 and 1 (exclusive)",
                self.confidence_level
            ));
        }
        if self.device(&self.reference).is_none() {
            return Err(format!("reference '{}' has no row", self.reference));
        }
        let mut seen = std::collections::HashSet::new();
        for d in &self.devices {
            if !seen.insert(d.device.as_str()) {
                return Err(format!("device '{}' has more than one row", d.device));
            }
        }
        self.devices.iter().try_for_each(|d| self.check_row(d))
    }

    fn check_row(&self, d: &DeviceRatios) -> Result<(), String> {
        if let Some(e) = d.efficiency.filter(|e| !(e.is_finite() && *e > 0.0)) {
            return Err(format!("{}: efficiency {e} is not positive", d.device));
        }
        let slots = [
            ("published", &d.published, Some(Provenance::Published)),
            ("measured", &d.measured, Some(Provenance::Measured)),
            ("calibrated", &d.calibrated, None),
        ];
        for (slot, cell, expected) in slots {
            let Some(cell) = cell else { continue };
            let at = format!("{} {slot}", d.device);
            check_cell(&at, cell)?;
            if let Some(p) = expected.filter(|p| *p != cell.provenance) {
                return Err(format!(
                    "{at}: provenance '{}' in the '{}' cell",
                    cell.provenance.label(),
                    p.label()
                ));
            }
            self.check_via(&at, &d.device, cell)?;
        }
        Ok(())
    }

    /// A chained ratio goes through another device of this file; a `via` on any other cell
    /// would be a provenance that the number does not have.
    fn check_via(&self, at: &str, device: &str, cell: &RatioCell) -> Result<(), String> {
        match (&cell.via, cell.provenance) {
            (None, Provenance::Chained) => Err(format!("{at}: a chained ratio must name 'via'")),
            (Some(via), Provenance::Chained) if via == device => {
                Err(format!("{at}: chained via itself"))
            }
            (Some(via), Provenance::Chained) if self.device(via).is_none() => Err(format!(
                "{at}: chained via '{via}', which has no row in this file"
            )),
            (Some(via), p) if p != Provenance::Chained => Err(format!(
                "{at}: names via '{via}' but its provenance is '{}'",
                p.label()
            )),
            _ => Ok(()),
        }
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

/// Relative slack for "the ratio lies inside its interval": the ends are rounded like the
/// ratio, nothing more.
const INTERVAL_SLACK: f64 = 1e-9;

/// A positive finite ratio; an interval given whole or not at all, ordered, positive, and
/// containing its own ratio.
fn check_cell(at: &str, c: &RatioCell) -> Result<(), String> {
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if !positive(c.ratio) {
        return Err(format!("{at}: ratio {} is not positive", c.ratio));
    }
    match (c.ci_low, c.ci_high) {
        (None, None) => Ok(()),
        (Some(_), None) | (None, Some(_)) => Err(format!(
            "{at}: half an interval (ci_low and ci_high must both be given or both be null)"
        )),
        (Some(lo), Some(hi)) if !(positive(lo) && positive(hi) && lo <= hi) => {
            Err(format!("{at}: interval [{lo}, {hi}] is not ordered"))
        }
        (Some(lo), Some(hi)) => {
            let slack = c.ratio * INTERVAL_SLACK;
            if c.ratio < lo - slack || c.ratio > hi + slack {
                Err(format!(
                    "{at}: ratio {} lies outside its own interval [{lo}, {hi}]",
                    c.ratio
                ))
            } else {
                Ok(())
            }
        }
    }
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
                row("h200-sxm", cell(2.0, Provenance::Published, None)),
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

    /// A change to a ratios file.
    type Edit = dyn FnOnce(&mut RatiosFile);

    /// The message of `example()` after `edit`.
    fn message_after(edit: impl FnOnce(&mut RatiosFile)) -> String {
        let mut f = example();
        edit(&mut f);
        let json = f.to_json().unwrap();
        RatiosFile::parse(Path::new("r.json"), json.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn numbers_that_contradict_the_file_are_refused() {
        let cases: Vec<(Box<Edit>, &str)> = vec![
            (
                Box::new(|f| f.devices[1].calibrated.as_mut().unwrap().ratio = 9.0),
                "ratio 9 lies outside its own interval [2.7",
            ),
            (
                Box::new(|f| f.devices[1].calibrated.as_mut().unwrap().ci_high = None),
                "half an interval",
            ),
            (
                Box::new(|f| {
                    let c = f.devices[1].calibrated.as_mut().unwrap();
                    (c.ci_low, c.ci_high) = (c.ci_high, c.ci_low);
                }),
                "is not ordered",
            ),
            (
                Box::new(|f| f.devices.push(f.devices[1].clone())),
                "device 'h100-sxm' has more than one row",
            ),
            (
                Box::new(|f| f.confidence_level = 7.0),
                "confidence_level 7 is not a level",
            ),
            (
                Box::new(|f| f.devices[0].efficiency = Some(-3.0)),
                "efficiency -3 is not positive",
            ),
            (
                Box::new(|f| f.devices.pop().map(drop).unwrap_or(())),
                "chained via 'h200-sxm', which has no row",
            ),
            (
                Box::new(|f| {
                    f.devices[1].calibrated.as_mut().unwrap().via = Some("h100-sxm".into())
                }),
                "chained via itself",
            ),
            (
                Box::new(|f| {
                    f.devices[2].published = f.devices[1].calibrated.clone();
                }),
                "h200-sxm published: provenance 'chained' in the 'published' cell",
            ),
            (
                Box::new(|f| f.devices[2].calibrated.as_mut().unwrap().via = Some("x".into())),
                "names via 'x' but its provenance is 'published'",
            ),
        ];
        for (edit, phrase) in cases {
            let m = message_after(edit);
            assert!(
                m.starts_with("r.json: ") && m.contains(phrase),
                "{phrase}: {m}"
            );
        }
    }

    #[test]
    fn table_says_provenance_per_row() {
        let md = example().table().render(crate::table::Format::Markdown);
        assert!(md.contains("chained via h200-sxm"), "{md}");
        assert!(md.contains("[2.700, 3.300]"), "{md}");
    }
}
