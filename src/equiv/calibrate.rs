//! Builds a [`RatiosFile`] from result files and the catalog.
//!
//! For every device the calibrated ratio is, in order of preference:
//! 1. **measured** — the device and the reference ran common shapes of the metric: the
//!    capability view of `compare` (each device at its best verified kernel per shape), its
//!    geometric mean over the common shapes with a two-level bootstrap interval (runs of one
//!    device are resampled as runs); the cell records the shapes, each side's winning kernels,
//!    whether they are kernel-limited, and the max-achievable ratio beside it;
//! 2. **chained** — the device shares shapes with another device `via` that has a published
//!    ratio to the reference: measured(device ÷ via) × published(via ÷ reference), from the
//!    same capability figures;
//! 3. **published_adjusted** — published ratio × (device efficiency ÷ reference efficiency), when
//!    both were measured somewhere (efficiency = best measured throughput ÷ datasheet figure);
//! 4. **published** — the datasheet ratio alone.
//!
//! Several result files of one device are pooled first. Every catalog entry with a figure for
//! the metric gets a row, so a projection can use the table for devices nobody measured.

use super::{CapabilityBasis, CapabilitySide, DeviceRatios, InputRecord, Metric, Provenance};
use super::{RatioCell, RatiosFile, RATIOS_KIND, RATIOS_SCHEMA_VERSION};
use crate::catalog::{Catalog, CatalogEntry};
use crate::compare::{compare, pool, CompareConfig, Figure, Group, LoadedFile, Row};
use crate::error::{Error, Result};
use crate::results::Case;
use crate::stats::{BootstrapConfig, Interval};
use std::collections::BTreeMap;

/// Everything a calibration needs besides the files.
#[derive(Debug, Clone)]
pub struct CalibrateOptions<'a> {
    /// The published table.
    pub catalog: &'a Catalog,
    /// What is compared.
    pub metric: Metric,
    /// Reference: a device id, name or slug from a file, or a catalog id or name.
    pub reference: &'a str,
    /// Bootstrap settings.
    pub bootstrap: BootstrapConfig,
    /// Creation time to record (RFC 3339).
    pub created_at: String,
}

/// One device's runs, restricted to the metric's cases and the ceilings that label them.
struct Measured {
    group: Group,
}

/// The measured devices and the catalog, with the reference resolved.
struct Context<'a> {
    options: &'a CalibrateOptions<'a>,
    measured: BTreeMap<String, Measured>,
    reference: String,
}

/// The files without a verified WGSL case of `metric`: they contribute nothing to its table.
pub fn files_without(files: &[LoadedFile], metric: Metric) -> Vec<&LoadedFile> {
    let has = |f: &LoadedFile| {
        f.file.cases.iter().any(|c| {
            metric.covers(&c.workload)
                && c.kernel.family != crate::kernels::VENDOR_FAMILY
                && c.throughput_samples().is_some()
        })
    };
    files.iter().filter(|f| !has(f)).collect()
}

/// Builds the equivalence table. Refuses, naming the files, when none of them has a verified
/// case of the metric: the table would be the datasheet alone, which is not what was asked.
pub fn calibrate(files: Vec<LoadedFile>, options: &CalibrateOptions) -> Result<RatiosFile> {
    let without = files_without(&files, options.metric);
    if !files.is_empty() && without.len() == files.len() {
        let names: Vec<String> = files.iter().map(|f| f.path.display().to_string()).collect();
        return Err(Error::Incomparable(format!(
            "{}: no verified {} case in any of these files (see `--metric`)",
            names.join(", "),
            options.metric
        )));
    }
    let simulated = files.iter().any(|f| f.file.machine.simulated);
    let inputs = files
        .iter()
        .map(|f| InputRecord {
            path: f.path.display().to_string(),
            device: f.device.id.clone(),
            run_id: f.file.run.run_id.clone(),
        })
        .collect();
    let measured = pool_by_device(files, options.metric)?;
    let reference = resolve_reference(&measured, options)?;
    let ctx = Context {
        options,
        measured,
        reference,
    };
    ctx.check_reference_efficiency()?;
    let devices = ctx.device_ids().iter().map(|id| ctx.row(id)).collect();
    Ok(RatiosFile {
        kind: RATIOS_KIND.to_string(),
        schema_version: RATIOS_SCHEMA_VERSION,
        metric: options.metric,
        reference: ctx.reference.clone(),
        created_at: options.created_at.clone(),
        fleetbench_version: env!("CARGO_PKG_VERSION").to_string(),
        confidence_level: options.bootstrap.level,
        bootstrap_resamples: options.bootstrap.resamples,
        bootstrap_seed: options.bootstrap.seed,
        inputs,
        devices,
        simulated,
    })
}

/// A measured reference below this fraction of its datasheet figure is not that device at
/// work: a wrong catalog match, a throttled or broken run, or a forged file. Every ratio in the
/// table is relative to it, so it is refused rather than inherited by all of them. (Even a
/// naive WGSL matmul reaches over a per cent of a data-centre GPU's FP32 peak; a thousandth
/// leaves a wide margin for slow kernels and still catches an "H100" at 0.04%.)
pub const MIN_REFERENCE_EFFICIENCY: f64 = 0.001;

/// Runs of one device pooled per device id; a device whose files cannot be pooled (one run
/// given twice) is refused by name rather than left out of the table.
fn pool_by_device(files: Vec<LoadedFile>, metric: Metric) -> Result<BTreeMap<String, Measured>> {
    let mut groups: BTreeMap<String, Vec<LoadedFile>> = BTreeMap::new();
    let kept = |m: Option<Metric>| {
        m.is_some_and(|m| m == metric || Some(m) == metric.peak_metric() || m == Metric::Bandwidth)
    };
    for mut f in files {
        f.file.cases.retain(|c| kept(Metric::of(&c.workload)));
        groups.entry(f.device.id.clone()).or_default().push(f);
    }
    groups
        .into_iter()
        .map(|(id, files)| {
            Ok((
                id,
                Measured {
                    group: pool(files)?,
                },
            ))
        })
        .collect()
}

fn resolve_reference(
    measured: &BTreeMap<String, Measured>,
    options: &CalibrateOptions,
) -> Result<String> {
    let wanted = crate::results::slug(options.reference);
    let in_files = measured.iter().find(|(id, m)| {
        **id == options.reference
            || **id == wanted
            || crate::results::slug(&m.group.device.name) == wanted
    });
    if let Some((id, _)) = in_files {
        return Ok(id.clone());
    }
    if let Some(entry) = options.catalog.resolve(options.reference) {
        return Ok(entry.id.clone());
    }
    if let Some(id) = by_words(measured, options)? {
        return Ok(id);
    }
    let by_rule = crate::catalog::MatchRules::builtin()?
        .catalog_id_by_name(options.reference)
        .map(str::to_string);
    if let Some(id) = by_rule.filter(|id| options.catalog.get(id).is_some()) {
        return Ok(measured.keys().find(|k| **k == id).cloned().unwrap_or(id));
    }
    Err(Error::Config(format!(
        "--reference '{}': found neither in any result file nor in the catalog",
        options.reference
    )))
}

/// The reference by the words of its name: first among the measured devices, then among the
/// catalog's. Words that fit several devices are refused with the candidates (A100 SXM and
/// PCIe differ by 30% in bandwidth; H100 SXM and PCIe by 30% in FP32), never guessed.
fn by_words(
    measured: &BTreeMap<String, Measured>,
    options: &CalibrateOptions,
) -> Result<Option<String>> {
    let wanted = options.reference;
    let ambiguous = |ids: Vec<&str>, where_: &str| {
        Error::Config(format!(
            "--reference '{wanted}': the name of more than one device {where_} ({}); give one of these ids",
            ids.join(", ")
        ))
    };
    let names = measured
        .iter()
        .map(|(id, m)| (id.as_str(), m.group.device.name.as_str()));
    match super::names::unique_by_words(wanted, names) {
        Ok(Some(id)) => return Ok(Some(id.to_string())),
        Ok(None) => {}
        Err(ids) => return Err(ambiguous(ids, "in the result files")),
    }
    let entries = options.catalog.entries();
    let names = entries.iter().map(|e| (e.id.as_str(), e.name.as_str()));
    match super::names::unique_by_words(wanted, names) {
        Ok(Some(id)) => Ok(Some(
            measured
                .keys()
                .find(|k| *k == id)
                .cloned()
                .unwrap_or(id.to_string()),
        )),
        Ok(None) => Ok(None),
        Err(ids) => Err(ambiguous(ids, "in the catalog")),
    }
}

impl Context<'_> {
    /// Refuses a measured reference far below its own datasheet (see
    /// [`MIN_REFERENCE_EFFICIENCY`]).
    fn check_reference_efficiency(&self) -> Result<()> {
        let Some(efficiency) = self.efficiency(&self.reference) else {
            return Ok(());
        };
        if efficiency >= MIN_REFERENCE_EFFICIENCY {
            return Ok(());
        }
        let files: Vec<String> = self.measured[&self.reference]
            .group
            .files
            .iter()
            .map(|f| f.path.display().to_string())
            .collect();
        Err(Error::Incomparable(format!(
            "{}: the reference '{}' reaches {} of its datasheet {} figure; a reference under {}% of its datasheet is a wrong device match or a broken run, and every ratio would inherit it",
            files.join("+"),
            self.reference,
            percent(efficiency),
            self.options.metric,
            MIN_REFERENCE_EFFICIENCY * 100.0
        )))
    }

    /// The reference first, then measured devices, then every catalog entry with a figure.
    fn device_ids(&self) -> Vec<String> {
        let mut ids = vec![self.reference.clone()];
        let catalog_ids = self
            .options
            .catalog
            .entries()
            .iter()
            .filter(|e| self.options.metric.published(e).is_some())
            .map(|e| e.id.clone());
        for id in self.measured.keys().cloned().chain(catalog_ids) {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        ids
    }

    fn entry(&self, id: &str) -> Option<&CatalogEntry> {
        self.options.catalog.get(id)
    }

    fn row(&self, id: &str) -> DeviceRatios {
        let name = self
            .entry(id)
            .map(|e| e.name.clone())
            .or_else(|| self.measured.get(id).map(|m| m.group.device.name.clone()));
        let published = self.published(id, &self.reference);
        let measured = self.measured_cell(id);
        DeviceRatios {
            device: id.to_string(),
            name: name.unwrap_or_else(|| id.to_string()),
            in_catalog: self.entry(id).is_some(),
            calibrated: self.calibrated(id, &published, &measured),
            efficiency: self.efficiency(id),
            published,
            measured,
        }
    }

    /// Datasheet ratio a ÷ b for the metric.
    fn published_ratio(&self, a: &str, b: &str) -> Option<(f64, f64, f64)> {
        let metric = self.options.metric;
        let fa = metric.published(self.entry(a)?)?;
        let fb = metric.published(self.entry(b)?)?;
        Some((fa / fb, fa, fb))
    }

    fn published(&self, id: &str, reference: &str) -> Option<RatioCell> {
        let (ratio, fa, fb) = self.published_ratio(id, reference)?;
        Some(RatioCell {
            ratio: Interval::exact(ratio),
            provenance: Provenance::Published,
            via: None,
            note: format!("datasheet {fa} / {fb}"),
            capability: None,
        })
    }

    /// The capability geometric mean a ÷ b over their common shapes, and what it rests on.
    fn measured_ratio(&self, a: &str, b: &str) -> Option<(Interval, CapabilityBasis)> {
        let (ma, mb) = (self.measured.get(a)?, self.measured.get(b)?);
        let groups = [mb.group.clone(), ma.group.clone()];
        let config = CompareConfig {
            bootstrap: self.options.bootstrap,
            ..CompareConfig::default()
        };
        let c = compare(&groups, 0, &config).ok()?;
        let metric = self.options.metric;
        let summary = c.summary(1, metric)?;
        let rows: Vec<&Row> = c.rows.iter().filter(|r| r.metric == metric).collect();
        let basis = CapabilityBasis {
            shapes: rows.iter().map(|r| r.label.clone()).collect(),
            device: side(a, rows.iter().map(|r| &r.other)),
            against: side(b, rows.iter().map(|r| &r.baseline)),
            max_achievable: summary.max_achievable.as_ref().map(|m| m.ratio),
        };
        Some((summary.geomean, basis))
    }

    fn measured_cell(&self, id: &str) -> Option<RatioCell> {
        if id == self.reference {
            return None;
        }
        let (e, basis) = self.measured_ratio(id, &self.reference)?;
        Some(RatioCell {
            ratio: e,
            provenance: Provenance::Measured,
            via: None,
            note: format!(
                "capability geometric mean over {} common shape(s){}",
                basis.shapes.len(),
                limited_note(&basis)
            ),
            capability: Some(basis),
        })
    }

    /// Best measured median throughput of the metric's WGSL cases ÷ datasheet figure.
    fn efficiency(&self, id: &str) -> Option<f64> {
        let metric = self.options.metric;
        let published = metric.published(self.entry(id)?)?;
        let best = self
            .measured
            .get(id)?
            .group
            .files
            .iter()
            .flat_map(|f| f.file.cases.iter())
            .filter(|c| metric.covers(&c.workload))
            .filter(|c| c.kernel.family != crate::kernels::VENDOR_FAMILY)
            .filter_map(Case::throughput_samples)
            .filter_map(|(_, values)| crate::stats::Sample::new(&values).ok())
            .map(|s| s.median())
            .reduce(f64::max)?;
        Some(best / published)
    }

    fn calibrated(
        &self,
        id: &str,
        published: &Option<RatioCell>,
        measured: &Option<RatioCell>,
    ) -> Option<RatioCell> {
        if id == self.reference {
            return Some(self.reference_cell());
        }
        if let Some(m) = measured {
            return Some(m.clone());
        }
        self.chained(id)
            .or_else(|| self.adjusted(id, published.as_ref()?))
            .or_else(|| published.clone())
    }

    fn reference_cell(&self) -> RatioCell {
        let measured = self.measured.contains_key(&self.reference);
        RatioCell {
            ratio: Interval::exact(1.0),
            provenance: if measured {
                Provenance::Measured
            } else {
                Provenance::Published
            },
            via: None,
            note: "the reference".to_string(),
            capability: None,
        }
    }

    /// measured(id ÷ via) × published(via ÷ reference), through the measured device sharing
    /// the most shapes with `id`.
    fn chained(&self, id: &str) -> Option<RatioCell> {
        let candidates = self
            .measured
            .keys()
            .filter(|v| *v != id && **v != self.reference);
        let best = candidates
            .filter_map(|via| {
                let (pub_ratio, _, _) = self.published_ratio(via, &self.reference)?;
                let (e, basis) = self.measured_ratio(id, via)?;
                Some((basis.shapes.len(), via, e, basis, pub_ratio))
            })
            .max_by_key(|(n, via, ..)| (*n, std::cmp::Reverse((*via).clone())))?;
        let (n, via, e, basis, pub_ratio) = best;
        Some(RatioCell {
            ratio: e.scaled(pub_ratio),
            provenance: Provenance::Chained,
            via: Some(via.clone()),
            note: format!(
                "capability {:.3} × {via} over {n} shape(s), × published {via} ratio {pub_ratio:.3}{}",
                e.value,
                limited_note(&basis)
            ),
            capability: Some(basis),
        })
    }

    /// Published ratio × (device efficiency ÷ reference efficiency).
    fn adjusted(&self, id: &str, published: &RatioCell) -> Option<RatioCell> {
        let (eff, eff_ref) = (self.efficiency(id)?, self.efficiency(&self.reference)?);
        Some(RatioCell {
            ratio: Interval::exact(published.ratio.value * eff / eff_ref),
            provenance: Provenance::PublishedAdjusted,
            via: None,
            note: format!(
                "published {:.3} × efficiency {:.1}% ÷ reference efficiency {:.1}%",
                published.ratio.value,
                eff * 100.0,
                eff_ref * 100.0
            ),
            capability: None,
        })
    }
}

/// A fraction as a percentage with the digits that tell small ones apart (0.04%, 12.3%).
fn percent(fraction: f64) -> String {
    let pct = fraction * 100.0;
    if pct >= 1.0 {
        format!("{pct:.1}%")
    } else if pct >= 0.01 {
        format!("{pct:.2}%")
    } else {
        format!("{pct:.1e}%")
    }
}

/// One side of a capability basis: every winning kernel, and the best shape's ceiling label.
fn side<'a>(device: &str, figures: impl Iterator<Item = &'a Figure>) -> CapabilitySide {
    let figures: Vec<&Figure> = figures.collect();
    let mut kernels: Vec<String> = Vec::new();
    for k in figures.iter().flat_map(|f| f.kernels.iter()) {
        if !kernels.contains(k) {
            kernels.push(k.clone());
        }
    }
    let best = figures.iter().max_by(|a, b| a.median.total_cmp(&b.median));
    CapabilitySide {
        device: device.to_string(),
        kernels,
        fraction_of_peak: best.and_then(|f| f.fraction_of_peak),
        kernel_limited: best.is_some_and(|f| f.kernel_limited),
    }
}

/// `; kernel-limited on x (23% of its measured FMA peak)` when a side is.
fn limited_note(basis: &CapabilityBasis) -> String {
    [&basis.device, &basis.against]
        .into_iter()
        .filter(|s| s.kernel_limited)
        .map(|s| {
            let pct = s.fraction_of_peak.unwrap_or(0.0) * 100.0;
            format!(
                "; kernel-limited on {} ({pct:.0}% of its measured FMA peak)",
                s.device
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::tests::fake_file;

    fn device(id: &str, rate: f64, seed: u64, sides: &[u64]) -> LoadedFile {
        let mut f = fake_file(id, rate, seed, sides);
        f.device.id = id.to_string();
        f.device.matched = true;
        f
    }

    fn run(files: Vec<LoadedFile>, reference: &str) -> Result<RatiosFile> {
        let catalog = Catalog::builtin().unwrap();
        let options = CalibrateOptions {
            catalog: &catalog,
            metric: Metric::MatmulF32,
            reference,
            bootstrap: BootstrapConfig::default(),
            created_at: "2026-11-28T00:00:00Z".to_string(),
        };
        calibrate(files, &options)
    }

    fn calibrated(f: &RatiosFile, id: &str) -> RatioCell {
        f.calibrated_ratio(id).unwrap().clone()
    }

    #[test]
    fn measured_ratio_wins_and_files_of_one_device_are_pooled() {
        let files = vec![
            device("a100-sxm4-80gb", 100.0, 1, &[64, 128]),
            device("h100-sxm", 300.0, 2, &[64, 128]),
            device("h100-sxm", 300.0, 3, &[64, 128]),
        ];
        let f = run(files, "a100-sxm4-80gb").unwrap();
        assert_eq!(f.devices[0].device, "a100-sxm4-80gb");
        assert_eq!(f.inputs.len(), 3);
        let h = calibrated(&f, "h100-sxm");
        assert_eq!(h.provenance, Provenance::Measured);
        assert!(h.ratio.low < 3.0 && 3.0 < h.ratio.high, "{h:?}");
        assert!(h.note.contains("2 common shape(s)"), "{}", h.note);
        let basis = h.capability.as_ref().unwrap();
        assert_eq!(basis.shapes.len(), 2);
        assert_eq!(basis.device.kernels, ["matmul_naive(WG_X=16,WG_Y=16)"]);
        let row = f.device("h100-sxm").unwrap();
        assert!((row.published.as_ref().unwrap().ratio.value - 66.9 / 19.5).abs() < 1e-9);
        // 300 GFLOP/s of a 66.9 TFLOP/s datasheet.
        assert!((row.efficiency.unwrap() - 300.0 / 66900.0).abs() < 2e-4);
        f.validate().unwrap();
    }

    #[test]
    fn unmeasured_reference_is_reached_by_chaining_through_a_published_ratio() {
        let files = vec![
            device("h200-sxm", 330.0, 1, &[64, 128]),
            fake_file("llvmpipe", 33.0, 2, &[64, 128]),
        ];
        let f = run(files, "a100-sxm4-80gb").unwrap();
        let x = calibrated(&f, "llvmpipe");
        assert_eq!(x.provenance, Provenance::Chained);
        assert_eq!(x.via.as_deref(), Some("h200-sxm"));
        let expected = 0.1 * 66.9 / 19.5;
        assert!((x.ratio.value - expected).abs() < 0.01 * expected, "{x:?}");
        assert!(!f.device("llvmpipe").unwrap().in_catalog);
        // The H200 itself has no measured partner with a datasheet: published only.
        assert_eq!(calibrated(&f, "h200-sxm").provenance, Provenance::Published);
        assert_eq!(
            calibrated(&f, "a100-sxm4-80gb").provenance,
            Provenance::Published
        );
    }

    #[test]
    fn published_ratio_is_adjusted_by_measured_efficiencies() {
        // No common cases: each device's efficiency is known, their ratio is not measured.
        let files = vec![
            device("a100-sxm4-80gb", 97.5, 1, &[64]),
            device("h100-sxm", 167.25, 2, &[128]),
        ];
        let f = run(files, "a100-sxm4-80gb").unwrap();
        let h = calibrated(&f, "h100-sxm");
        assert_eq!(h.provenance, Provenance::PublishedAdjusted);
        // Efficiencies 0.5% and 0.25%: the published 3.43 is halved.
        assert!((h.ratio.value - 66.9 / 19.5 / 2.0).abs() < 0.05, "{h:?}");
        assert_eq!(calibrated(&f, "mi300x").provenance, Provenance::Published);
    }

    #[test]
    fn files_without_the_metric_are_refused_together_and_named_alone() {
        let files = vec![fake_file("llvmpipe", 33.0, 2, &[64])];
        let catalog = Catalog::builtin().unwrap();
        let options = CalibrateOptions {
            catalog: &catalog,
            metric: Metric::Bandwidth,
            reference: "llvmpipe",
            bootstrap: BootstrapConfig::default(),
            created_at: String::new(),
        };
        let e = calibrate(files.clone(), &options).unwrap_err().to_string();
        assert!(
            e.contains("llvmpipe-2.json: no verified bandwidth case"),
            "{e}"
        );
        assert_eq!(files_without(&files, Metric::MatmulF32).len(), 0);
    }

    #[test]
    fn reference_must_exist_somewhere() {
        let files = vec![fake_file("llvmpipe", 33.0, 2, &[64])];
        let e = run(files.clone(), "no-such-gpu").unwrap_err().to_string();
        assert!(
            e.contains("found neither in any result file nor in the catalog"),
            "{e}"
        );
        // A measured device can be the reference, and a catalog name reaches its entry.
        assert_eq!(
            run(files.clone(), "llvmpipe").unwrap().reference,
            "llvmpipe"
        );
        assert_eq!(
            run(files, "NVIDIA H100 PCIe").unwrap().reference,
            "h100-pcie"
        );
    }

    #[test]
    fn words_that_fit_several_catalog_devices_are_refused_with_the_candidates() {
        let files = vec![fake_file("llvmpipe", 33.0, 2, &[64])];
        let e = run(files.clone(), "a100").unwrap_err().to_string();
        assert_eq!(
            e,
            "--reference 'a100': the name of more than one device in the catalog (a100-sxm4-80gb, a100-pcie-40gb, a100-pcie-80gb); give one of these ids"
        );
        let e = run(files.clone(), "h100").unwrap_err().to_string();
        assert!(e.contains("h100-sxm, h100-pcie, h100-nvl"), "{e}");
        // Words that fit one catalog device still find it.
        assert_eq!(
            run(files, "A100 PCIe 40GB").unwrap().reference,
            "a100-pcie-40gb"
        );
    }

    #[test]
    fn a_reference_far_below_its_datasheet_is_refused() {
        // 27 GFLOP/s of an H100 SXM's 66.9 TFLOP/s FP32: 0.04%.
        let files = vec![
            device("h100-sxm", 27.0, 1, &[64]),
            device("a100-sxm4-80gb", 100.0, 2, &[64]),
        ];
        let e = run(files, "h100-sxm").unwrap_err().to_string();
        assert_eq!(
            e,
            "h100-sxm-1.json: the reference 'h100-sxm' reaches 0.04% of its datasheet matmul-f32 figure; a reference under 0.1% of its datasheet is a wrong device match or a broken run, and every ratio would inherit it"
        );
    }
}
