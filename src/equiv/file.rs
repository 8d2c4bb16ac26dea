//! Versioned serde types of the ratios file, its validation on load, and its table form.
//!
//! Like the result file it is read by the one versioned loader ([`crate::fsio::versioned`]),
//! which rejects unknown fields and checks `kind` and `schema_version` before the shape, so a
//! hand edit or another tool's JSON fails with a message that says so. Bump
//! [`RATIOS_SCHEMA_VERSION`] on any change that alters meaning. Version 2 holds each ratio as
//! the crate's one [`Interval`] (a published ratio is exact); version-1 files, with flat
//! `ratio`, `ci_low` and `ci_high` numbers, are migrated on load.

use super::Metric;
use crate::error::{Error, Result};
use crate::fsio::versioned::{Migration, VersionedFormat};
use crate::output::{number, Section, Table, Tabular};
use crate::stats::Interval;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The version written into every ratios file.
pub const RATIOS_SCHEMA_VERSION: u32 = 2;
/// The `kind` tag of a ratios file.
pub const RATIOS_KIND: &str = "fleetbench-ratios";

/// The ratios file as a versioned format: tagged with [`RATIOS_KIND`]; version 1 (flat ratio
/// and interval numbers) is migrated on load.
pub const RATIOS_FORMAT: VersionedFormat = VersionedFormat {
    file: crate::fsio::RATIOS_FILE,
    kind_tag: Some(RATIOS_KIND),
    version_field: "schema_version",
    current: RATIOS_SCHEMA_VERSION,
    migrations: &[Migration {
        from: 1,
        upgrade: migrate_v1,
    }],
};

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

/// One ratio to the reference, with its interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RatioCell {
    /// Device ÷ reference with its interval; exact (level 1) for a datasheet ratio or a
    /// third-party figure published without one.
    pub ratio: Interval,
    /// Where it came from.
    pub provenance: Provenance,
    /// The intermediate device of a chained ratio.
    pub via: Option<String>,
    /// How it was derived, in one line.
    pub note: String,
    /// For a measured or chained ratio: the capability figures it rests on.
    #[serde(default)]
    pub capability: Option<CapabilityBasis>,
}

/// What a measured ratio was computed from: the capability view of `compare` over the shapes
/// both devices ran, each at its best verified kernel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapabilityBasis {
    /// The common shapes (`op/dtype/MxNxK`) the geometric mean runs over.
    pub shapes: Vec<String>,
    /// The device's side: its winning kernels and whether they are kernel-limited.
    pub device: CapabilitySide,
    /// The other side (the reference, or `via` for a chained ratio).
    pub against: CapabilitySide,
    /// The device's best shape ÷ the other side's best shape, with its interval.
    pub max_achievable: Option<Interval>,
}

/// One side of a [`CapabilityBasis`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CapabilitySide {
    /// The device id.
    pub device: String,
    /// Every kernel that won a shape on this side, with its overrides.
    pub kernels: Vec<String>,
    /// The best shape's figure ÷ the same files' best measured FMA peak, when measured.
    pub fraction_of_peak: Option<f64>,
    /// The best shape's figure is compute-bound and under half the measured FMA peak: the
    /// ratio speaks for our kernels on this side, not for the hardware.
    pub kernel_limited: bool,
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
    /// True when any input was simulated (`run --simulate`, taken with `--allow-simulated`
    /// beside real files): every ratio is then a test instrument, never a measurement. Absent
    /// (false) in files built from real runs, so their bytes do not change.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub simulated: bool,
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
        let bytes = crate::fsio::read_bounded(path, RATIOS_FORMAT.file)?;
        RatiosFile::parse(path, &bytes)
    }

    /// Parses ratios-file bytes through the one versioned loader, then checks what serde
    /// cannot; `path` names the source in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<RatiosFile> {
        let file: RatiosFile = RATIOS_FORMAT.parse(path, bytes)?;
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
        if self.created_at.parse::<jiff::Timestamp>().is_err() {
            return Err(format!(
                "created_at '{}' is not an RFC 3339 time",
                self.created_at
            ));
        }
        let Some(reference) = self.device(&self.reference) else {
            return Err(format!("reference '{}' has no row", self.reference));
        };
        let mut seen = std::collections::HashSet::new();
        for d in &self.devices {
            if !seen.insert(d.device.as_str()) {
                return Err(format!("device '{}' has more than one row", d.device));
            }
        }
        self.devices.iter().try_for_each(|d| self.check_row(d))?;
        check_reference_row(reference)?;
        self.devices.iter().try_for_each(|d| self.check_chain(d))
    }

    /// A chain of `via`s through the calibrated cells must end at a ratio that is not chained;
    /// `a via b via a` is a ratio defined by itself.
    fn check_chain(&self, start: &DeviceRatios) -> Result<(), String> {
        let mut path = vec![start.device.as_str()];
        let mut cell = start.calibrated.as_ref();
        while let Some(via) = cell
            .filter(|c| c.provenance == Provenance::Chained)
            .and_then(|c| c.via.as_deref())
        {
            let looped = path.contains(&via);
            path.push(via);
            if looped {
                return Err(format!(
                    "{} calibrated: the chain loops ({})",
                    start.device,
                    path.join(" via ")
                ));
            }
            cell = self.device(via).and_then(|d| d.calibrated.as_ref());
        }
        Ok(())
    }

    /// What a projection would silently lose from this file: with no calibrated cell outside
    /// the reference's row, the calibrated basis has nothing to stand on. One line each.
    pub fn warnings(&self) -> Vec<String> {
        let others: Vec<&DeviceRatios> = self
            .devices
            .iter()
            .filter(|d| d.device != self.reference)
            .collect();
        if others.is_empty() || others.iter().any(|d| d.calibrated.is_some()) {
            return Vec::new();
        }
        vec![format!(
            "no device but the reference '{}' has a calibrated ratio ({} other row(s) have none), so the calibrated basis has nothing to project",
            self.reference,
            others.len()
        )]
    }

    fn check_row(&self, d: &DeviceRatios) -> Result<(), String> {
        if let Some(e) = d.efficiency.filter(|e| !(e.is_finite() && *e > 0.0)) {
            return Err(format!(
                "{}: efficiency {} is not positive",
                d.device,
                number(e)
            ));
        }
        if let Some(e) = d.efficiency.filter(|e| *e > MAX_EFFICIENCY) {
            return Err(format!(
                "{}: efficiency {} is above {MAX_EFFICIENCY} (measured throughput over {MAX_EFFICIENCY} times its datasheet figure)",
                d.device,
                number(e)
            ));
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

    /// One row per device, for text, CSV and Markdown.
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
            "kernels",
            "note",
        ]);
        for d in &self.devices {
            t.push(table_row(d));
        }
        t
    }
}

impl Tabular for RatiosFile {
    fn sections(&self) -> Vec<Section> {
        let title = format!(
            "Ratios to {} ({}; calibrated from the capability view)",
            self.reference, self.metric
        );
        let limited: Vec<&str> = self
            .devices
            .iter()
            .filter(|d| d.calibrated.as_ref().is_some_and(RatioCell::kernel_limited))
            .map(|d| d.device.as_str())
            .collect();
        let mut section = Section::titled(&title, self.table());
        if self.simulated {
            section = section.with_note(crate::results::SIMULATED_LABEL);
        }
        if !limited.is_empty() {
            section = section.with_note(&format!(
                "kernel-limited (a winning kernel under half its file's measured FMA peak): {}",
                limited.join(", ")
            ));
        }
        let mut inputs = Table::new(&["path", "device", "run_id"]);
        for i in &self.inputs {
            inputs.push(vec![i.path.clone(), i.device.clone(), i.run_id.clone()]);
        }
        vec![section, Section::titled("Result files used", inputs)]
    }
}

impl RatioCell {
    /// Whether either side of the capability basis is kernel-limited.
    pub fn kernel_limited(&self) -> bool {
        self.capability
            .as_ref()
            .is_some_and(|c| c.device.kernel_limited || c.against.kernel_limited)
    }
}

fn kernels_cell(c: Option<&RatioCell>) -> String {
    let Some(basis) = c.and_then(|c| c.capability.as_ref()) else {
        return String::new();
    };
    let side = |s: &CapabilitySide| {
        let limit = match (s.kernel_limited, s.fraction_of_peak) {
            (true, Some(f)) => format!(" [kernel-limited, {:.0}% of peak]", f * 100.0),
            _ => String::new(),
        };
        format!("{}: {}{limit}", s.device, s.kernels.join(" / "))
    };
    format!(
        "{}; {} ({} shapes)",
        side(&basis.device),
        side(&basis.against),
        basis.shapes.len()
    )
}

fn table_row(d: &DeviceRatios) -> Vec<String> {
    let ratio = |c: &Option<RatioCell>| c.as_ref().map_or("-".to_string(), |c| fmt3(c.ratio.value));
    let ci = |c: &Option<RatioCell>| match c {
        Some(c) if c.ratio.has_width() => {
            format!("[{}, {}]", fmt3(c.ratio.low), fmt3(c.ratio.high))
        }
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
        kernels_cell(cal),
        cal.map_or(String::new(), |c| c.note.clone()),
    ]
}

/// A ratio with three significant decimals.
pub(crate) fn fmt3(v: f64) -> String {
    format!("{v:.3}")
}

/// Version 1 → 2: each cell's flat `ratio`, `ci_low`, `ci_high` become one interval at the
/// file's confidence level (exact where there were no bounds). Anything unexpected is left as
/// it is, for serde and validation to name.
fn migrate_v1(value: &mut serde_json::Value) -> Result<(), String> {
    let level = value["confidence_level"].as_f64().unwrap_or(0.95);
    let Some(devices) = value.get_mut("devices").and_then(|d| d.as_array_mut()) else {
        return Ok(());
    };
    for device in devices {
        let name = device["device"].as_str().unwrap_or("?").to_string();
        for key in ["published", "measured", "calibrated"] {
            if let Some(cell) = device.get_mut(key).and_then(|c| c.as_object_mut()) {
                migrate_cell(cell, level).map_err(|m| format!("{name} {key}: {m}"))?;
            }
        }
    }
    Ok(())
}

fn migrate_cell(
    cell: &mut serde_json::Map<String, serde_json::Value>,
    level: f64,
) -> Result<(), String> {
    let Some(ratio) = cell.get("ratio").and_then(|r| r.as_f64()) else {
        return Ok(());
    };
    let low = cell.remove("ci_low").and_then(|v| v.as_f64());
    let high = cell.remove("ci_high").and_then(|v| v.as_f64());
    let interval = match (low, high) {
        (Some(low), Some(high)) => Interval::new(ratio, low, high, level),
        (None, None) => Interval::exact(ratio),
        _ => {
            return Err(
                "half an interval (ci_low and ci_high must both be given or both be null)".into(),
            )
        }
    };
    cell.insert(
        "ratio".to_string(),
        serde_json::to_value(interval).unwrap_or_default(),
    );
    Ok(())
}

/// The most a device's measured throughput may exceed its datasheet figure: boost clocks give
/// some per cent; ten times is a wrong datasheet match or a wrong number.
pub const MAX_EFFICIENCY: f64 = 10.0;

/// The widest a device ratio can be, either way: a million times the reference's throughput
/// spans a phone GPU against a data-centre accelerator many times over; beyond it a projection
/// prints hundred-digit device counts or zero.
pub const RATIO_RANGE: (f64, f64) = (1e-6, 1e6);

/// Every cell of the reference's own row is the unit all ratios are relative to: 1.
fn check_reference_row(reference: &DeviceRatios) -> Result<(), String> {
    let cells = [
        ("published", &reference.published),
        ("measured", &reference.measured),
        ("calibrated", &reference.calibrated),
    ];
    for (slot, cell) in cells {
        let Some(cell) = cell else { continue };
        if (cell.ratio.value - 1.0).abs() > INTERVAL_SLACK {
            return Err(format!(
                "reference '{}' {slot}: ratio {} is not 1 (every ratio is relative to the reference)",
                reference.device,
                number(cell.ratio.value)
            ));
        }
    }
    Ok(())
}

/// Relative slack for "the ratio lies inside its interval": the ends are rounded like the
/// ratio, nothing more.
const INTERVAL_SLACK: f64 = 1e-9;

/// A positive finite ratio inside its own ordered, positive interval.
fn check_cell(at: &str, c: &RatioCell) -> Result<(), String> {
    let r = &c.ratio;
    let positive = |v: f64| v.is_finite() && v > 0.0;
    if !positive(r.value) {
        return Err(format!("{at}: ratio {} is not positive", number(r.value)));
    }
    if !(positive(r.low) && positive(r.high) && r.low <= r.high) {
        return Err(format!(
            "{at}: interval [{}, {}] is not ordered",
            number(r.low),
            number(r.high)
        ));
    }
    let (least, most) = RATIO_RANGE;
    if let Some(v) = [r.value, r.low, r.high]
        .into_iter()
        .find(|v| !(least..=most).contains(v))
    {
        return Err(format!(
            "{at}: ratio {} is outside the range a device ratio can take ({} to {})",
            number(v),
            number(least),
            number(most)
        ));
    }
    if !(r.level > 0.0 && r.level <= 1.0) {
        return Err(format!("{at}: interval level {} is not in (0, 1]", r.level));
    }
    let slack = r.value * INTERVAL_SLACK;
    if r.value < r.low - slack || r.value > r.high + slack {
        return Err(format!(
            "{at}: ratio {} lies outside its own interval [{}, {}]",
            number(r.value),
            number(r.low),
            number(r.high)
        ));
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn example() -> RatiosFile {
        let cell = |ratio, provenance, via: Option<&str>| RatioCell {
            ratio: Interval::new(ratio, ratio * 0.9, ratio * 1.1, 0.95),
            provenance,
            via: via.map(str::to_string),
            note: "test".to_string(),
            capability: None,
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
            simulated: false,
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
        assert_eq!(back.calibrated_ratio("h100-sxm").unwrap().ratio.value, 3.0);
    }

    #[test]
    fn bad_files_say_what_is_wrong() {
        let p = Path::new("r.json");
        let msg = |s: &str| RatiosFile::parse(p, s.as_bytes()).unwrap_err().to_string();
        assert!(msg("{\"schema_version\":1}").contains("not a fleetbench ratios file"));
        assert!(msg("{\"kind\":\"fleetbench-ratios\",\"schema_version\":7}").contains("7 is not"));
        assert!(
            msg("{\"kind\":\"fleetbench-ratios\",\"schema_version\":\"2\"}")
                .contains("schema_version \"2\" must be a number")
        );
        assert!(msg("[").contains("invalid JSON"));
        let mut f = example();
        f.devices[1].calibrated.as_mut().unwrap().via = None;
        assert!(msg(&f.to_json().unwrap()).contains("must name 'via'"));
        let mut f = example();
        f.reference = "x".to_string();
        assert!(msg(&f.to_json().unwrap()).contains("reference 'x' has no row"));
        let mut f = example();
        f.devices[0].calibrated.as_mut().unwrap().ratio.value = -1.0;
        assert!(msg(&f.to_json().unwrap()).contains("not positive"));
        let mut f = example();
        f.devices[0].calibrated.as_mut().unwrap().ratio.low = 2.0;
        assert!(msg(&f.to_json().unwrap()).contains("not ordered"));
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
                Box::new(|f| f.devices[1].calibrated.as_mut().unwrap().ratio.value = 9.0),
                "ratio 9 lies outside its own interval [2.7",
            ),
            (
                Box::new(|f| {
                    let c = f.devices[1].calibrated.as_mut().unwrap();
                    (c.ratio.low, c.ratio.high) = (c.ratio.high, c.ratio.low);
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
        let md = example()
            .table()
            .render(crate::output::Format::Markdown, None);
        assert!(md.contains("chained via h200-sxm"), "{md}");
        assert!(md.contains("[2.700, 3.300]"), "{md}");
    }

    #[test]
    fn version_1_cells_migrate_to_intervals() {
        let cell = |r: f64, lo: Option<f64>, hi: Option<f64>| {
            serde_json::json!({"ratio": r, "ci_low": lo, "ci_high": hi, "provenance": "measured",
                "via": null, "note": "n"})
        };
        let row = |d: &str, c: serde_json::Value| {
            serde_json::json!({"device": d, "name": d, "in_catalog": true, "published": null,
                "measured": null, "efficiency": null, "calibrated": c})
        };
        let v1 = serde_json::json!({
            "kind": "fleetbench-ratios", "schema_version": 1, "metric": "matmul-f32",
            "reference": "a", "created_at": "2026-11-28T00:00:00Z", "fleetbench_version": "0",
            "confidence_level": 0.9, "bootstrap_resamples": 10, "bootstrap_seed": 1,
            "inputs": [],
            "devices": [row("a", cell(1.0, None, None)), row("b", cell(0.5, Some(0.4), Some(0.6)))]
        });
        let f = RatiosFile::parse(Path::new("r.json"), v1.to_string().as_bytes()).unwrap();
        assert_eq!(f.schema_version, RATIOS_SCHEMA_VERSION);
        assert_eq!(f.calibrated_ratio("a").unwrap().ratio, Interval::exact(1.0));
        assert_eq!(
            f.calibrated_ratio("b").unwrap().ratio,
            Interval::new(0.5, 0.4, 0.6, 0.9)
        );
    }
}
