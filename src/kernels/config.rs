//! A kernel with concrete parameter values: its workgroup size, dispatch, shape rules, source
//! and the record a result file keeps of it.

use super::{generate, rules, Kernel, ParamRole};
use crate::results::{AdapterRecord, KernelRecord};
use crate::workload::{Dtype, Workload};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A kernel with concrete values for its parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelConfig {
    /// The kernel.
    pub kernel: Kernel,
    /// Parameter values by name; every parameter the kernel declares is present.
    pub overrides: BTreeMap<String, f64>,
    /// Chosen by the autotuner: the case is named `matmul_tuned/<workload>` so that the best
    /// kernel of each machine is compared across machines, whichever family won.
    pub tuned: bool,
}

impl KernelConfig {
    /// A configuration from `(name, value)` pairs; parameters not named keep their defaults.
    ///
    /// # Panics
    /// When a name is not one of the kernel's parameters: configurations are written in this
    /// crate, and a misspelt name would otherwise be silently ignored.
    pub fn new(kernel: Kernel, values: &[(&str, u32)]) -> Self {
        let mut overrides: BTreeMap<String, f64> = kernel
            .info()
            .params
            .iter()
            .map(|p| (p.name.to_string(), f64::from(p.default)))
            .collect();
        for (name, value) in values {
            assert!(
                kernel.param(name).is_some(),
                "{} has no parameter {name}",
                kernel.id()
            );
            overrides.insert(name.to_string(), f64::from(*value));
        }
        KernelConfig {
            kernel,
            overrides,
            tuned: false,
        }
    }

    /// The kernel's id.
    pub fn id(&self) -> &'static str {
        self.kernel.id()
    }

    /// Element type of the kernel's inputs.
    pub fn dtype(&self) -> Dtype {
        self.kernel.info().dtype
    }

    /// The value of parameter `name` (its declared default when unset).
    pub fn get(&self, name: &str) -> u32 {
        match self.overrides.get(name) {
            Some(v) => *v as u32,
            None => self.kernel.param(name).map_or(0, |p| p.default),
        }
    }

    /// The same configuration, marked as the autotuner's choice.
    pub fn into_tuned(mut self) -> Self {
        self.tuned = true;
        self
    }

    /// The pipeline constants: values of the parameters that are WGSL `override`s.
    pub fn pipeline_constants(&self) -> Vec<(&'static str, f64)> {
        self.kernel
            .info()
            .params
            .iter()
            .filter(|p| p.role == ParamRole::Override)
            .map(|p| (p.name, f64::from(self.get(p.name))))
            .collect()
    }

    /// Workgroup size as the shader will see it.
    pub fn workgroup_size(&self) -> [u32; 3] {
        rules::workgroup_size(self)
    }

    /// Workgroups to dispatch for `w`.
    pub fn dispatch(&self, w: &Workload) -> [u32; 3] {
        rules::dispatch(self, w)
    }

    /// Why this kernel cannot run `w`, if it cannot (shape rules of the kernel itself).
    pub fn shape_problem(&self, w: &Workload) -> Option<String> {
        let info = self.kernel.info();
        if w.op != info.op || w.dtype != info.dtype {
            return Some(format!("{} does not compute {}", info.id, w.key()));
        }
        if w.m == 0 || w.n == 0 || w.k == 0 {
            return Some("empty shape".to_string());
        }
        rules::shape_problem(self, w)
    }

    /// Why the adapter cannot run this configuration, if it lacks a feature or a shape it needs.
    pub fn unsupported_reason(&self, adapter: &AdapterRecord) -> Option<String> {
        let missing: Vec<&str> = self
            .kernel
            .info()
            .needs
            .iter()
            .copied()
            .filter(|f| !adapter.has_feature(f))
            .collect();
        if !missing.is_empty() {
            return Some(format!("adapter lacks {}", missing.join(" and ")));
        }
        rules::adapter_problem(self, adapter)
    }

    /// The host-side layout change this kernel's inputs go through, for the result file.
    pub fn layout_note(&self) -> Option<String> {
        rules::layout_note(self.kernel).map(str::to_string)
    }

    /// The WGSL this configuration compiles: the kernel's file, or for generated families the
    /// variant generated from it.
    pub fn source(&self) -> String {
        generate::source(self)
    }

    /// SHA-256 over the WGSL source and the parameter values: equal hashes mean the same code.
    pub fn source_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.source().as_bytes());
        for (k, v) in &self.overrides {
            h.update(format!("\n{k}={v}").as_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The record a result file keeps of this configuration.
    pub fn record(&self, w: &Workload, bounds_checks: bool) -> KernelRecord {
        KernelRecord {
            id: self.id().to_string(),
            family: self.kernel.info().family.as_str().to_string(),
            source_hash: self.source_hash(),
            overrides: self.overrides.clone(),
            workgroup_size: self.workgroup_size(),
            dispatch: self.dispatch(w),
            bounds_checks,
            layout_note: self.layout_note(),
            library: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{default_matmul_configs, resource_problem};
    use crate::results::LimitsRecord;

    fn limits() -> LimitsRecord {
        LimitsRecord {
            max_storage_buffer_binding_size: 128 << 20,
            max_buffer_size: 256 << 20,
            max_compute_workgroup_storage_size: 16384,
            max_compute_invocations_per_workgroup: 256,
            max_compute_workgroups_per_dimension: 65535,
            max_texture_dimension_2d: 8192,
            min_subgroup_size: 8,
            max_subgroup_size: 8,
        }
    }

    #[test]
    fn dispatch_covers_every_output() {
        let naive = KernelConfig::new(Kernel::MatmulNaive, &[("WG_X", 16), ("WG_Y", 16)]);
        let w = Workload::matmul(Dtype::F32, 100, 33, 7);
        assert_eq!(naive.dispatch(&w), [3, 7, 1]);
        let blocked = KernelConfig::new(
            Kernel::MatmulBlocked,
            &[("WG_X", 8), ("WG_Y", 8), ("ROWS", 8)],
        );
        let w = Workload::matmul(Dtype::F32, 1024, 1024, 1024);
        assert_eq!(blocked.dispatch(&w), [32, 16, 1]);
        let tiled = KernelConfig::new(
            Kernel::MatmulTiled,
            &[("BM", 128), ("BN", 64), ("BK", 16), ("TM", 8), ("TN", 4)],
        );
        assert_eq!(tiled.workgroup_size(), [16, 16, 1]);
        assert_eq!(tiled.dispatch(&w), [16, 8, 1]);
        let copy = KernelConfig::new(Kernel::Copy, &[("WG_X", 64), ("VEC", 2), ("PER", 4)]);
        let stream = Workload::stream(crate::workload::Op::Copy, 1 << 20);
        assert_eq!(copy.dispatch(&stream), [(1 << 20) / 512, 1, 1]);
    }

    #[test]
    fn kernels_reject_shapes_they_cannot_do() {
        let blocked = KernelConfig::new(Kernel::MatmulBlocked, &[("ROWS", 4)]);
        assert!(blocked
            .shape_problem(&Workload::matmul(Dtype::F32, 5, 6, 8))
            .is_some());
        assert!(blocked
            .shape_problem(&Workload::matmul(Dtype::F32, 5, 8, 8))
            .is_none());
        let tiled = KernelConfig::new(Kernel::MatmulTiled, &[]);
        assert!(tiled
            .shape_problem(&Workload::matmul(Dtype::F32, 64, 64, 8))
            .unwrap()
            .contains("K of 16"));
        let bad = KernelConfig::new(Kernel::MatmulTiled, &[("TM", 3)]);
        assert!(bad
            .shape_problem(&Workload::matmul(Dtype::F32, 64, 64, 64))
            .is_some());
        let int8 = KernelConfig::new(Kernel::MatmulInt8, &[]);
        assert!(int8
            .shape_problem(&Workload::matmul(Dtype::I8, 8, 8, 8))
            .is_some());
        assert!(int8
            .shape_problem(&Workload::matmul(Dtype::F32, 8, 8, 16))
            .unwrap()
            .contains("does not compute"));
    }

    #[test]
    fn oversized_cases_are_refused_before_allocation() {
        let c = &default_matmul_configs()[0];
        let huge = Workload::matmul(Dtype::F32, 8192, 8192, 8192); // 256 MiB per matrix
        assert!(resource_problem(c, &huge, &limits(), None)
            .unwrap()
            .contains("buffer"));
        let small = Workload::matmul(Dtype::F32, 256, 256, 256);
        assert!(resource_problem(c, &small, &limits(), None).is_none());
        assert!(resource_problem(c, &small, &limits(), Some(1000))
            .unwrap()
            .contains("--max-memory"));
        let big_tiles = KernelConfig::new(
            Kernel::MatmulTiled,
            &[("BM", 128), ("BN", 128), ("BK", 16), ("TM", 8), ("TN", 8)],
        );
        assert!(resource_problem(&big_tiles, &small, &limits(), None)
            .unwrap()
            .contains("workgroup memory"));
    }

    #[test]
    fn hash_changes_with_parameters_and_defaults_are_filled_in() {
        let a = KernelConfig::new(Kernel::MatmulBlocked, &[("ROWS", 4)]);
        let b = KernelConfig::new(Kernel::MatmulBlocked, &[("ROWS", 8)]);
        assert_ne!(a.source_hash(), b.source_hash());
        assert_eq!(a.source_hash(), a.clone().source_hash());
        assert_eq!(a.source_hash().len(), 64);
        assert_eq!(a.overrides.len(), 3);
        assert_eq!(a.get("WG_X"), 8);
        let tiled = KernelConfig::new(Kernel::MatmulTiled, &[]);
        assert!(
            tiled.pipeline_constants().is_empty(),
            "tile sizes are generated"
        );
    }

    #[test]
    fn texture_blocks_need_whole_iterations_and_shared_ones_one_row_of_subgroups() {
        let tex = |values: &[(&str, u32)]| KernelConfig::new(Kernel::MatmulTex, values);
        let w = Workload::matmul(Dtype::F32, 256, 256, 258);
        assert!(tex(&[("KU", 2)]).shape_problem(&w).is_none());
        assert!(tex(&[("KU", 4)])
            .shape_problem(&w)
            .unwrap()
            .contains("K to be a multiple of KU 4"));
        let shared = [("WG_X", 64), ("WG_Y", 1), ("RA", 8), ("SHARE", 8)];
        assert!(tex(&shared).shape_problem(&w).is_none());
        assert_eq!(tex(&shared).dispatch(&w), [1, 8, 1]);
        assert!(tex(&[("WG_X", 8), ("WG_Y", 8), ("SHARE", 8)])
            .shape_problem(&w)
            .unwrap()
            .contains("WG_Y 1"));
        assert!(tex(&[("WG_X", 12), ("WG_Y", 1), ("SHARE", 8)])
            .shape_problem(&w)
            .is_some());
        let mut adapter = crate::measure::fake::fake_adapter("cpu");
        adapter.limits = limits();
        adapter.features = vec!["subgroup".to_string()];
        assert!(tex(&shared).unsupported_reason(&adapter).is_none());
        adapter.limits.max_subgroup_size = 32;
        assert!(tex(&shared)
            .unsupported_reason(&adapter)
            .unwrap()
            .contains("subgroups of 8"));
        adapter.features.clear();
        assert!(tex(&shared)
            .unsupported_reason(&adapter)
            .unwrap()
            .contains("subgroup feature"));
        assert!(tex(&[]).unsupported_reason(&adapter).is_none());
    }

    #[test]
    fn only_a_copy_moves_64_bit_words_and_only_with_shader_int64() {
        let stream = |op| Workload::stream(op, 1 << 20);
        let wide = |kernel| KernelConfig::new(kernel, &[("VEC", 8), ("PER", 4)]);
        let copy = wide(Kernel::Copy);
        assert!(copy
            .shape_problem(&stream(crate::workload::Op::Copy))
            .is_none());
        assert_eq!(
            copy.dispatch(&stream(crate::workload::Op::Copy)),
            [128, 1, 1]
        );
        let triad = wide(Kernel::Triad).shape_problem(&stream(crate::workload::Op::Triad));
        assert!(triad.unwrap().contains("only a copy"));
        let mut adapter = crate::measure::fake::fake_adapter("cpu");
        adapter.features = vec!["shader_int64".to_string()];
        assert!(copy.unsupported_reason(&adapter).is_none());
        adapter.features.clear();
        let missing = copy.unsupported_reason(&adapter).unwrap();
        assert!(missing.contains("shader_int64"), "{missing}");
        assert!(KernelConfig::new(Kernel::Copy, &[])
            .unsupported_reason(&adapter)
            .is_none());
    }

    #[test]
    #[should_panic(expected = "has no parameter")]
    fn a_misspelt_parameter_is_refused() {
        KernelConfig::new(Kernel::MatmulBlocked, &[("ROW", 4)]);
    }
}
