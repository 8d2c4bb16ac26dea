//! The model `fleetbench catalog` prints: a list of entries. As JSON it is the entries
//! themselves (every figure a number or `null`, schema `docs/schemas/catalog.schema.json`);
//! for people, one row per entry with a column per precision.

use super::{CatalogEntry, Precision};
use crate::output::{Section, Table, Tabular};
use schemars::JsonSchema;
use serde::Serialize;

/// Catalog entries to print: the embedded table, or an Epoch import in the same schema.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct CatalogListing {
    /// The entries, in table order.
    pub entries: Vec<CatalogEntry>,
}

impl Tabular for CatalogListing {
    fn sections(&self) -> Vec<Section> {
        let mut headers = vec!["id", "name", "vendor", "year"];
        let labels: Vec<String> = Precision::ALL
            .iter()
            .map(|p| match p {
                Precision::Int8 => "int8 TOPS".to_string(),
                p => format!("{p} TFLOP/s"),
            })
            .collect();
        headers.extend(labels.iter().map(String::as_str));
        headers.extend([
            "memory GB",
            "bandwidth TB/s",
            "TDP W",
            "unverified",
            "sources",
        ]);
        let mut t = Table::new(&headers);
        for e in &self.entries {
            t.push(row(e));
        }
        vec![Section::untitled(t)]
    }
}

/// One entry's cells; a figure the sources do not give is `-`.
fn row(e: &CatalogEntry) -> Vec<String> {
    let num = |v: Option<f64>| v.map_or("-".to_string(), |v| format!("{v}"));
    let mut row = vec![
        e.id.clone(),
        e.name.clone(),
        e.vendor.clone(),
        e.year.map_or("-".to_string(), |y| y.to_string()),
    ];
    row.extend(Precision::ALL.iter().map(|p| num(e.dense(*p))));
    row.extend([num(e.memory_gb), num(e.bandwidth_tbs), num(e.tdp_w)]);
    let unverified: Vec<&str> = e.unverified.iter().map(|p| p.label()).collect();
    row.push(unverified.join(";"));
    row.push(e.sources.clone());
    row
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;

    #[test]
    fn json_is_the_entries_with_numbers_and_text_has_a_row_each() {
        let listing = CatalogListing {
            entries: Catalog::builtin().unwrap().entries().to_vec(),
        };
        let v = serde_json::to_value(&listing).unwrap();
        let h100 = v
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == "h100-sxm")
            .unwrap();
        assert_eq!(h100["bf16_fp16_tensor_tflops"], 989.4);
        let a100 = v
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == "a100-sxm4-80gb");
        assert!(a100.unwrap()["fp8_tflops"].is_null());
        let rows = &listing.sections()[0].table.rows;
        assert_eq!(rows.len(), listing.entries.len());
    }
}
