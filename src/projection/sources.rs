//! The catalog and the ratios file, turned into projection inputs: the one place projection
//! reads their types ([`DeviceFigures`] from catalog entries, [`MeasuredRatio`]s from a
//! ratios file).

use super::{DeviceFigures, MeasuredRatio};
use crate::catalog::{Catalog, CatalogEntry, Precision};
use crate::equiv::RatiosFile;

/// One catalog entry's dense peaks and bandwidth.
pub fn figures_from_entry(entry: &CatalogEntry) -> DeviceFigures {
    let peaks = Precision::ALL
        .iter()
        .filter_map(|p| Some((*p, entry.dense(*p)?)))
        .collect();
    DeviceFigures {
        id: entry.id.clone(),
        peaks,
        bandwidth_tbs: entry.bandwidth_tbs,
    }
}

/// Every catalog entry's figures, by id.
pub fn figures_from_catalog(
    catalog: &Catalog,
) -> std::collections::BTreeMap<String, DeviceFigures> {
    catalog
        .entries()
        .iter()
        .map(|e| (e.id.clone(), figures_from_entry(e)))
        .collect()
}

/// Every calibrated ratio in a ratios file, with the interval its cell holds (exact for a
/// published figure). The reference's own row is left out: its ratio is 1 by definition.
pub fn measured_from_ratios(file: &RatiosFile) -> Vec<MeasuredRatio> {
    let metric = file.metric;
    file.devices
        .iter()
        .filter(|d| d.device != file.reference)
        .filter_map(|d| {
            let cell = d.calibrated.as_ref()?;
            let ratio = cell.ratio;
            let simulated = if file.simulated { ", simulated" } else { "" };
            let provenance = format!(
                "{} {} ({}{simulated})",
                cell.provenance.label(),
                file.metric,
                cell.note
            );
            Some(MeasuredRatio {
                device: d.device.clone(),
                metric,
                ratio,
                provenance,
                simulated: file.simulated,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{DatasheetFigure, Metric};
    use crate::stats::Interval;

    #[test]
    fn catalog_figures_map_every_precision_and_bandwidth() {
        let catalog = Catalog::builtin().unwrap();
        let figures = figures_from_catalog(&catalog);
        let h100 = &figures["h100-sxm"];
        let figure = |p| DatasheetFigure::Compute(p);
        assert_eq!(h100.figure(figure(Precision::Bf16Fp16Tensor)), Some(989.4));
        assert_eq!(h100.figure(figure(Precision::Int8)), Some(1979.0));
        assert_eq!(h100.figure(DatasheetFigure::Bandwidth), Some(3.35));
        assert_eq!(
            figures["a100-sxm4-80gb"].figure(figure(Precision::Fp8)),
            None
        );
    }

    #[test]
    fn ratios_file_cells_become_measured_ratios() {
        let cell = |r: f64, ci: Option<(f64, f64)>| {
            serde_json::json!({"ratio": r, "ci_low": ci.map(|c| c.0), "ci_high": ci.map(|c| c.1),
                "provenance": "measured", "via": null, "note": "n"})
        };
        let row = |d: &str, c: serde_json::Value| {
            serde_json::json!({"device": d, "name": d, "in_catalog": true, "published": null,
                "measured": null, "efficiency": null, "calibrated": c})
        };
        let json = serde_json::json!({
            "kind": "fleetbench-ratios", "schema_version": 1, "metric": "peak-f32",
            "reference": "h100-sxm", "created_at": "2026-11-28T00:00:00Z", "fleetbench_version": "0",
            "confidence_level": 0.95, "bootstrap_resamples": 10, "bootstrap_seed": 1,
            "inputs": [],
            "devices": [row("h100-sxm", cell(1.0, None)), row("a", cell(0.5, Some((0.4, 0.6)))),
                        row("b", cell(2.0, None))]
        });
        let file =
            RatiosFile::parse(std::path::Path::new("r.json"), json.to_string().as_bytes()).unwrap();
        let measured = measured_from_ratios(&file);
        assert_eq!(measured.len(), 2);
        assert_eq!(measured[0].metric, Metric::PeakF32);
        assert_eq!(measured[0].ratio, Interval::new(0.5, 0.4, 0.6, 0.95));
        assert_eq!(measured[1].ratio, Interval::exact(2.0));
        assert!(measured[0].provenance.starts_with("measured peak-f32"));
        assert!(!measured[0].simulated && !measured[0].provenance.contains("simulated"));
        let mut json = json;
        json["simulated"] = serde_json::Value::Bool(true);
        let file =
            RatiosFile::parse(std::path::Path::new("r.json"), json.to_string().as_bytes()).unwrap();
        let measured = measured_from_ratios(&file);
        assert!(measured.iter().all(|m| m.simulated));
        assert!(
            measured[0].provenance.ends_with(", simulated)"),
            "{measured:?}"
        );
    }
}
