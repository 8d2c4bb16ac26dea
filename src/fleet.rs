//! The fleet file: one or more fleets, each a list of {device, count, acquired} entries with
//! optional claims to check. TOML, because people write these by hand; see `docs/fleet-files.md` and `data/scenarios/` for examples.
//!
//! Parsing ([`FleetFile::parse`]) checks shape and ranges; [`FleetFile::check_devices`] checks
//! device ids against the catalog and suggests the nearest ids for a typo. Both fail with one
//! line that names the file.

use crate::catalog::{DatasheetFigure, Metric, YearFraction};
use crate::error::{Error, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The fleet-file format version this build reads.
pub const FLEET_VERSION: u32 = 1;
/// More devices than this in one entry is a typo, not a fleet (the largest known fleets hold
/// about a million accelerators in all).
pub const MAX_COUNT: f64 = 10_000_000.0;
/// Upper bound for stated totals and stated equivalents, for the same reason.
pub const MAX_EQUIVALENTS: f64 = 100_000_000.0;

/// A parsed, range-checked fleet file.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FleetFile {
    /// Must be [`FLEET_VERSION`].
    pub version: u32,
    /// Reference device id (default: the command's `--reference`, else `h100-sxm`).
    pub reference: Option<String>,
    /// Default metric for totals, as `calibrate --metric` names it (`matmul-f16`, `bandwidth`,
    /// …; `bf16` and `fp32` name the matmul metric of that precision).
    pub metric: Option<String>,
    /// Where the figures in this file come from.
    #[serde(default)]
    pub source: String,
    /// The fleets.
    #[serde(rename = "fleet")]
    pub fleets: Vec<Fleet>,
    /// The file this was read from, for error messages.
    #[serde(skip)]
    pub path: PathBuf,
}

/// One fleet: entries plus claims to check against them.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    /// Name shown in every table row.
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub notes: String,
    /// The entries.
    #[serde(default, rename = "entry")]
    pub entries: Vec<Entry>,
    /// Claims to check.
    #[serde(default, rename = "claim")]
    pub claims: Vec<Claim>,
}

/// One line of a fleet: `count` devices of a catalog id, or an amount already stated in
/// reference-equivalents (`equivalents`), optionally dated.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Catalog id (e.g. `a100-sxm4-80gb`).
    pub device: Option<String>,
    /// Number of devices: a whole number from 0 to [`MAX_COUNT`].
    pub count: Option<f64>,
    /// Reference-equivalents stated by a source, instead of `device` and `count`.
    pub equivalents: Option<f64>,
    /// A label for the row (default: the device id).
    pub label: Option<String>,
    /// Acquisition date, `YYYY-MM-DD` or `YYYY-Qn` (first day of the quarter).
    pub acquired: Option<String>,
}

/// A claim to check, selected by `kind`.
#[derive(Debug, Clone, PartialEq, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Claim {
    /// "The fleet is worth `total` reference-equivalents." With `remainder_in`, entries whose
    /// worth is left open are solved as a count of that device under every basis, and under
    /// each `stated` ratio (label → how many of that device one reference equals).
    Total {
        /// The stated total, reference-equivalents.
        total: f64,
        /// Device to express the open remainder in.
        remainder_in: Option<String>,
        /// Extra ratios to solve under, e.g. `"claimed 4:1" = 4.0`.
        #[serde(default)]
        stated: BTreeMap<String, f64>,
    },
    /// "One `device` equals `equals` × `of`", checked metric by metric; `mixed` adds
    /// cross-precision pairs written `"fp8/bf16"` (device's metric / other's metric).
    Ratio {
        /// The device on the left.
        device: String,
        /// The device on the right.
        of: String,
        /// The claimed multiple.
        equals: f64,
        /// Cross-precision pairs.
        #[serde(default)]
        mixed: Vec<String>,
    },
    /// "`total` is `factor` times `of`", optionally "`of` grows `growth`× in `months`".
    Multiple {
        /// Our total, reference-equivalents.
        total: f64,
        /// The stated multiple.
        factor: f64,
        /// Who the comparison is with.
        of: String,
        /// Their stated growth factor.
        growth: Option<f64>,
        /// Over how many months.
        months: Option<f64>,
    },
    /// "The stock grew at least `at_least`× from `from` to `to`" (needs dated entries).
    Growth {
        /// Start date.
        from: String,
        /// End date.
        to: String,
        /// Claimed minimum factor.
        at_least: Option<f64>,
    },
}

impl FleetFile {
    /// Reads and range-checks a fleet file.
    pub fn load(path: &Path) -> Result<FleetFile> {
        let text = crate::fsio::read_text(path, crate::fsio::FLEET_FILE)?;
        FleetFile::parse(path, &text)
    }

    /// Parses and range-checks fleet-file text; `path` names it in errors.
    pub fn parse(path: &Path, text: &str) -> Result<FleetFile> {
        let mut file: FleetFile =
            toml::from_str(text).map_err(|e| Error::parse(path, toml_message(text, &e)))?;
        file.path = path.to_path_buf();
        file.check().map_err(|m| Error::invalid(path, m))?;
        Ok(file)
    }

    fn check(&self) -> Result<(), String> {
        if self.version != FLEET_VERSION {
            return Err(format!(
                "fleet file version {} is not supported (this build reads version {FLEET_VERSION})",
                self.version
            ));
        }
        if let Some(m) = &self.metric {
            m.parse::<Metric>()?;
        }
        if self.fleets.is_empty() {
            return Err("no [[fleet]] tables".to_string());
        }
        let mut names = std::collections::HashSet::new();
        if let Some(twice) = self.fleets.iter().find(|f| !names.insert(f.name.as_str())) {
            return Err(format!(
                "two [[fleet]] tables are named '{}'; their rows could not be told apart (give each fleet its own name)",
                twice.name
            ));
        }
        for fleet in &self.fleets {
            fleet
                .check()
                .map_err(|m| format!("fleet '{}': {m}", fleet.name))?;
        }
        Ok(())
    }

    /// Every device id the file names, in entries and claims.
    pub fn device_ids(&self) -> Vec<&str> {
        let mut ids = Vec::new();
        for fleet in &self.fleets {
            ids.extend(fleet.entries.iter().filter_map(|e| e.device.as_deref()));
            for claim in &fleet.claims {
                match claim {
                    Claim::Total {
                        remainder_in: Some(d),
                        ..
                    } => ids.push(d.as_str()),
                    Claim::Ratio { device, of, .. } => ids.extend([device.as_str(), of.as_str()]),
                    _ => {}
                }
            }
        }
        ids
    }

    /// Whether the file states amounts in reference-equivalents (`equivalents` entries, or
    /// totals in claims): those only mean something relative to the file's own reference.
    pub fn states_equivalents(&self) -> bool {
        self.fleets.iter().any(|f| {
            f.entries.iter().any(|e| e.equivalents.is_some())
                || f.claims
                    .iter()
                    .any(|c| matches!(c, Claim::Total { .. } | Claim::Multiple { .. }))
        })
    }

    /// Fails on the first device id not in `known`, suggesting the nearest known ids.
    pub fn check_devices(&self, known: &[&str]) -> Result<()> {
        match self.device_ids().into_iter().find(|id| !known.contains(id)) {
            None => Ok(()),
            Some(id) => Err(Error::invalid(
                &self.path,
                unknown_device_message(id, known),
            )),
        }
    }
}

impl Fleet {
    fn check(&self) -> Result<(), String> {
        if self.entries.is_empty() {
            return Err("no [[fleet.entry]] lines".to_string());
        }
        for (i, entry) in self.entries.iter().enumerate() {
            entry.check().map_err(|m| format!("entry {}: {m}", i + 1))?;
        }
        self.claims.iter().try_for_each(Claim::check)
    }
}

impl Entry {
    fn check(&self) -> Result<(), String> {
        match (&self.device, self.count, self.equivalents) {
            (Some(_), Some(count), None) => check_count(count)?,
            (None, None, Some(x)) => check_amount("equivalents", x)?,
            _ => {
                return Err(
                    "give either device and count, or equivalents (a stated amount)".to_string(),
                )
            }
        }
        self.acquired_at().map(|_| ())
    }

    /// The acquisition date, if given.
    pub fn acquired_at(&self) -> Result<Option<YearFraction>, String> {
        self.acquired.as_deref().map(str::parse).transpose()
    }

    /// The count as a whole number (0 for an `equivalents` entry).
    pub fn whole_count(&self) -> u64 {
        self.count.map_or(0, |c| c as u64)
    }

    /// The row label: `label`, else the device id.
    pub fn display_label(&self) -> String {
        self.label
            .clone()
            .or_else(|| self.device.clone())
            .unwrap_or_else(|| "stated equivalents".to_string())
    }
}

impl Claim {
    fn check(&self) -> Result<(), String> {
        match self {
            Claim::Total { total, stated, .. } => {
                check_amount("claim total", *total)?;
                stated.iter().try_for_each(|(label, r)| {
                    check_positive(&format!("stated ratio '{label}'"), *r)
                })
            }
            Claim::Ratio { equals, mixed, .. } => {
                check_positive("claim equals", *equals)?;
                mixed.iter().try_for_each(|m| parse_mixed(m).map(|_| ()))
            }
            Claim::Multiple {
                total,
                factor,
                growth,
                months,
                ..
            } => {
                check_amount("claim total", *total)?;
                check_positive("claim factor", *factor)?;
                match (growth, months) {
                    (Some(g), Some(m)) => {
                        check_positive("growth", *g).and(check_positive("months", *m))
                    }
                    (None, None) => Ok(()),
                    _ => Err("give growth and months together".to_string()),
                }
            }
            Claim::Growth { from, to, at_least } => {
                let (a, b): (YearFraction, YearFraction) = (from.parse()?, to.parse()?);
                if b.years <= a.years {
                    return Err(format!("growth claim: '{to}' is not after '{from}'"));
                }
                at_least.map_or(Ok(()), |x| check_positive("at_least", x))
            }
        }
    }
}

/// Parses a cross-precision pair `"fp8/bf16"`.
pub fn parse_mixed(pair: &str) -> Result<(DatasheetFigure, DatasheetFigure), String> {
    let (a, b) = pair
        .split_once('/')
        .ok_or_else(|| format!("mixed pair '{pair}' should look like \"fp8/bf16\""))?;
    Ok((a.parse()?, b.parse()?))
}

fn check_count(count: f64) -> Result<(), String> {
    let shown = crate::output::number(count);
    if !count.is_finite() || count < 0.0 {
        return Err(format!("count {shown} is negative or not a number"));
    }
    if count > MAX_COUNT {
        return Err(format!(
            "count {shown} is absurdly large (more than {MAX_COUNT})"
        ));
    }
    if count.fract() != 0.0 {
        return Err(format!("count {shown} is not a whole number of devices"));
    }
    Ok(())
}

fn check_amount(what: &str, x: f64) -> Result<(), String> {
    if !(x.is_finite() && (0.0..=MAX_EQUIVALENTS).contains(&x)) {
        return Err(format!(
            "{what} {} is negative, not a number or absurdly large",
            crate::output::number(x)
        ));
    }
    Ok(())
}

fn check_positive(what: &str, x: f64) -> Result<(), String> {
    if !(x.is_finite() && x > 0.0) {
        return Err(format!(
            "{what} must be a positive number, got {}",
            crate::output::number(x)
        ));
    }
    Ok(())
}

/// "unknown device 'x' (nearest catalog ids: a, b, c)".
pub fn unknown_device_message(id: &str, known: &[&str]) -> String {
    let near = nearest_ids(id, known, 3);
    if near.is_empty() {
        format!("unknown device '{id}'")
    } else {
        format!(
            "unknown device '{id}' (nearest catalog ids: {})",
            near.join(", ")
        )
    }
}

/// The `n` known ids most similar to `id` (Jaro–Winkler on lower-case text), best first.
pub fn nearest_ids<'a>(id: &str, known: &[&'a str], n: usize) -> Vec<&'a str> {
    let id = id.to_ascii_lowercase();
    let mut scored: Vec<(f64, &str)> = known
        .iter()
        .map(|k| (strsim::jaro_winkler(&id, &k.to_ascii_lowercase()), *k))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.into_iter().take(n).map(|(_, k)| k).collect()
}

/// "line N: message" in one line (toml's own rendering spans several lines).
fn toml_message(text: &str, e: &toml::de::Error) -> String {
    let message = e.message().split_whitespace().collect::<Vec<_>>().join(" ");
    match e.span() {
        Some(span) => {
            let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
            let message = date_for_value(text, span, &message).unwrap_or(message);
            format!("line {line}: {message}")
        }
        None => message,
    }
}

/// toml reads a date as a table, so a date where a number belongs reads "invalid type: map";
/// say instead which key holds a date and what it should hold.
fn date_for_value(text: &str, span: std::ops::Range<usize>, message: &str) -> Option<String> {
    let expected = message.strip_prefix("invalid type: map, expected ")?;
    let value = text.get(span.clone())?.trim();
    value.parse::<toml::value::Datetime>().ok()?;
    let line_start = text[..span.start].rfind('\n').map_or(0, |i| i + 1);
    let key = text[line_start..span.start].split('=').next()?.trim();
    let expected = match expected {
        "f64" | "f32" | "u64" | "u32" | "usize" | "i64" => "a number",
        other => other,
    };
    Some(format!("{key} = {value} is a date; expected {expected}"))
}

#[cfg(test)]
mod tests;
