//! The model `fleetbench devices` prints: every adapter wgpu reaches, as result files record
//! them. As JSON it is the adapter records themselves (schema `docs/schemas/devices.schema.json`,
//! the same records as a result file's `machine.adapter`); for people, one row per adapter.

use crate::output::{Section, Table, Tabular};
use crate::results::AdapterRecord;
use schemars::JsonSchema;
use serde::Serialize;

/// The adapters of this machine, in wgpu's order (the index `run --device` takes).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(transparent)]
pub struct DeviceList {
    /// One record per adapter.
    pub adapters: Vec<AdapterRecord>,
}

impl Tabular for DeviceList {
    fn sections(&self) -> Vec<Section> {
        let mut t = Table::new(&[
            "index",
            "name",
            "backend",
            "type",
            "vendor",
            "device",
            "driver",
            "features",
            "max storage binding",
            "max workgroup storage",
        ]);
        for a in &self.adapters {
            t.push(vec![
                a.index.to_string(),
                a.name.clone(),
                a.backend.clone(),
                a.device_type.to_string(),
                format!("0x{:04x}", a.vendor_id),
                format!("0x{:04x}", a.device_id),
                format!("{} {}", a.driver, a.driver_info).trim().to_string(),
                a.features.join(" "),
                a.limits.max_storage_buffer_binding_size.to_string(),
                a.limits.max_compute_workgroup_storage_size.to_string(),
            ]);
        }
        vec![Section::untitled(t)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::backend::Backend;
    use crate::measure::fake::FakeBackend;

    #[test]
    fn json_is_the_records_and_text_has_a_row_each() {
        let adapter = FakeBackend::new("gpu", 10.0, 0.0, 1).adapter().clone();
        let list = DeviceList {
            adapters: vec![adapter.clone(), adapter],
        };
        let v = serde_json::to_value(&list).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 2);
        assert!(v[0]["limits"]["max_storage_buffer_binding_size"].is_u64());
        assert_eq!(list.sections()[0].table.rows.len(), 2);
    }
}
