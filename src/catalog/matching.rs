//! Adapter → catalog id, by rules kept in `data/device-match.csv` so they can be read, reviewed
//! and extended without touching code.

use crate::error::{Error, Result};
use crate::results::{slug, AdapterRecord};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The embedded matching rules.
const BUILTIN_RULES: &str = include_str!("../../data/device-match.csv");
/// Name used for the embedded rules in error messages.
const BUILTIN_NAME: &str = "data/device-match.csv (embedded)";

/// One rule: every given condition must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchRule {
    /// PCI vendor id, or any.
    pub vendor_id: Option<u32>,
    /// PCI device id, or any.
    pub device_id: Option<u32>,
    /// Lower-case words that must all appear in the adapter name.
    pub name_words: Vec<String>,
    /// The catalog id this rule maps to.
    pub catalog_id: String,
}

impl MatchRule {
    fn matches(&self, vendor_id: u32, device_id: u32, words: &[String]) -> bool {
        self.vendor_id.is_none_or(|v| v == vendor_id)
            && self.device_id.is_none_or(|d| d == device_id)
            && self.name_words.iter().all(|w| words.contains(w))
    }
}

/// Rules in priority order: the first match wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchRules {
    rules: Vec<MatchRule>,
}

/// What a result file's adapter is, in catalog terms.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceIdentity {
    /// The catalog id when matched, otherwise the slug of the adapter name.
    pub id: String,
    /// The adapter name as reported.
    pub name: String,
    /// Whether `id` is a catalog id.
    pub matched: bool,
}

impl MatchRules {
    /// The rules embedded in the binary.
    pub fn builtin() -> Result<MatchRules> {
        MatchRules::parse(Path::new(BUILTIN_NAME), BUILTIN_RULES)
    }

    /// Parses rules in the `data/device-match.csv` format (`#` lines are comments).
    pub fn parse(path: &Path, text: &str) -> Result<MatchRules> {
        let mut reader = csv::ReaderBuilder::new()
            .comment(Some(b'#'))
            .from_reader(text.as_bytes());
        let mut rules = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| Error::parse(path, e.to_string()))?;
            let line = record.position().map_or(0, |p| p.line());
            let rule = parse_rule(&record)
                .map_err(|m| Error::invalid(path, format!("line {line}: {m}")))?;
            rules.push(rule);
        }
        Ok(MatchRules { rules })
    }

    /// The rules, in priority order.
    pub fn rules(&self) -> &[MatchRule] {
        &self.rules
    }

    /// The catalog id of the first rule that matches, if any.
    pub fn catalog_id(&self, vendor_id: u32, device_id: u32, name: &str) -> Option<&str> {
        let words = name_words(name);
        self.rules
            .iter()
            .find(|r| r.matches(vendor_id, device_id, &words))
            .map(|r| r.catalog_id.as_str())
    }
}

impl MatchRules {
    /// The catalog id of the first rule whose name words all appear in `name`, ignoring vendor
    /// and device ids (for a device named on the command line, where no ids are known).
    pub fn catalog_id_by_name(&self, name: &str) -> Option<&str> {
        let words = name_words(name);
        self.rules
            .iter()
            .find(|r| !r.name_words.is_empty() && r.name_words.iter().all(|w| words.contains(w)))
            .map(|r| r.catalog_id.as_str())
    }
}

fn parse_rule(record: &csv::StringRecord) -> Result<MatchRule, String> {
    let field = |i: usize| record.get(i).unwrap_or("").trim();
    let rule = MatchRule {
        vendor_id: parse_hex(field(0))?,
        device_id: parse_hex(field(1))?,
        name_words: name_words(field(2)),
        catalog_id: field(3).to_string(),
    };
    if rule.catalog_id.is_empty() {
        return Err("no catalog_id".to_string());
    }
    if rule.device_id.is_none() && rule.name_words.is_empty() {
        return Err(format!(
            "rule for {} needs a device_id or name_words",
            rule.catalog_id
        ));
    }
    Ok(rule)
}

fn parse_hex(text: &str) -> Result<Option<u32>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let digits = text.trim_start_matches("0x").trim_start_matches("0X");
    u32::from_str_radix(digits, 16)
        .map(Some)
        .map_err(|_| format!("'{text}' is not a hexadecimal id"))
}

/// Lower-case alphanumeric words of a name.
fn name_words(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// Maps an adapter to a catalog id with `rules`, checking that the id exists in `catalog`; an
/// unknown device keeps the slug of its name and is reported as unmatched.
pub fn identify(
    adapter: &AdapterRecord,
    rules: &MatchRules,
    catalog: &super::Catalog,
) -> DeviceIdentity {
    let found = rules
        .catalog_id(adapter.vendor_id, adapter.device_id, &adapter.name)
        .filter(|id| catalog.get(id).is_some());
    DeviceIdentity {
        id: found.map_or_else(|| slug(&adapter.name), str::to_string),
        name: adapter.name.clone(),
        matched: found.is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    fn lookup(vendor: u32, device: u32, name: &str) -> Option<String> {
        let rules = MatchRules::builtin().unwrap();
        rules.catalog_id(vendor, device, name).map(str::to_string)
    }

    #[test]
    fn names_map_to_the_right_variant() {
        let nv = 0x10de;
        let cases = [
            ("NVIDIA H200", "h200-sxm"),
            ("NVIDIA GH200 480GB", "gh200-96gb"),
            ("NVIDIA GH200 144GB HBM3e", "gh200-144gb"),
            ("NVIDIA H100 80GB HBM3", "h100-sxm"),
            ("NVIDIA H100 PCIe", "h100-pcie"),
            ("NVIDIA H100 NVL", "h100-nvl"),
            ("NVIDIA A100-SXM4-80GB", "a100-sxm4-80gb"),
            ("NVIDIA A100-PCIE-40GB", "a100-pcie-40gb"),
            ("NVIDIA L40S", "l40s"),
            ("NVIDIA L4", "l4"),
            ("Tesla T4", "t4"),
            ("NVIDIA GeForce RTX 4090", "rtx-4090"),
        ];
        for (name, id) in cases {
            assert_eq!(lookup(nv, 0, name).as_deref(), Some(id), "{name}");
        }
        assert_eq!(
            lookup(0x1002, 0, "AMD Instinct MI300X").as_deref(),
            Some("mi300x")
        );
    }

    #[test]
    fn device_ids_win_over_names_and_vendor_is_checked() {
        assert_eq!(
            lookup(0x10de, 0x2335, "NVIDIA Graphics Device").as_deref(),
            Some("h200-sxm")
        );
        assert_eq!(
            lookup(0x1002, 0x74a1, "AMD Radeon Graphics (RADV GFX942)").as_deref(),
            Some("mi300x")
        );
        // "h100" in a non-NVIDIA name is not an H100.
        assert_eq!(lookup(0x10005, 0, "llvmpipe h100"), None);
        // Whole words only: "gh200" is not "h200", "l40" is not "l4".
        assert_eq!(lookup(0x10de, 0, "NVIDIA L40"), None);
    }

    #[test]
    fn unknown_devices_keep_their_slug() {
        let catalog = Catalog::builtin().unwrap();
        let rules = MatchRules::builtin().unwrap();
        let mut adapter = crate::measure::fake::fake_adapter("llvmpipe (LLVM 15.0.6, 256 bits)");
        let id = identify(&adapter, &rules, &catalog);
        assert_eq!(id.id, "llvmpipe-llvm-15-0-6-256-bits");
        assert!(!id.matched);
        adapter.name = "NVIDIA H200".to_string();
        adapter.vendor_id = 0x10de;
        let id = identify(&adapter, &rules, &catalog);
        assert_eq!((id.id.as_str(), id.matched), ("h200-sxm", true));
    }

    #[test]
    fn every_rule_points_into_the_catalog() {
        let catalog = Catalog::builtin().unwrap();
        for rule in MatchRules::builtin().unwrap().rules() {
            assert!(catalog.get(&rule.catalog_id).is_some(), "{rule:?}");
        }
    }

    #[test]
    fn bad_rules_are_errors() {
        let p = Path::new("m.csv");
        let head = "vendor_id,device_id,name_words,catalog_id\n";
        assert!(MatchRules::parse(p, &format!("{head}zz,,a,b\n")).is_err());
        assert!(MatchRules::parse(p, &format!("{head},,,b\n")).is_err());
        assert!(MatchRules::parse(p, &format!("{head},,a,\n")).is_err());
    }
}
