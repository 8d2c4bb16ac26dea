//! Published catalog → [`DeviceFigures`]: the one place projection reads the catalog's types.

use super::{DeviceFigures, Metric};
use crate::catalog::{Catalog, CatalogEntry, Precision};

/// The catalog precision behind a compute metric (`None` for bandwidth).
pub fn precision_of(metric: Metric) -> Option<Precision> {
    match metric {
        Metric::Fp64 => Some(Precision::Fp64),
        Metric::Fp32 => Some(Precision::Fp32),
        Metric::Tf32 => Some(Precision::Tf32),
        Metric::Bf16 => Some(Precision::Bf16Fp16Tensor),
        Metric::Fp8 => Some(Precision::Fp8),
        Metric::Int8 => Some(Precision::Int8),
        Metric::Bandwidth => None,
    }
}

/// One catalog entry's dense peaks and bandwidth.
pub fn figures_from_entry(entry: &CatalogEntry) -> DeviceFigures {
    let peaks = Metric::ALL
        .iter()
        .filter_map(|m| Some((*m, entry.dense(precision_of(*m)?)?)))
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
