//! The kernel catalogue: which WGSL kernels exist, how each is configured through its `override`
//! constants, what shapes it accepts and how it is dispatched. Pure data and arithmetic, so the
//! planning of a run is tested without a GPU; `gpu/` only executes what is described here.

use crate::results::{KernelRecord, LimitsRecord};
use crate::workload::{Dtype, Op, Workload};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// A WGSL kernel shipped with fleetbench.
#[derive(Debug, PartialEq, Eq)]
pub struct KernelSpec {
    /// Stable id written into result files.
    pub id: &'static str,
    /// Kernel family: how operands reach the ALUs.
    pub family: &'static str,
    /// Path of the WGSL file inside the repository.
    pub file: &'static str,
    /// The WGSL source, embedded at build time.
    pub source: &'static str,
    /// Operation it computes.
    pub op: Op,
    /// Element type of its inputs.
    pub dtype: Dtype,
}

/// Naive one-output-per-invocation matmul.
pub static MATMUL_NAIVE: KernelSpec = KernelSpec {
    id: "matmul_naive",
    family: "storage_buffer",
    file: "shaders/matmul_naive.wgsl",
    source: include_str!("../shaders/matmul_naive.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::F32,
};

/// Register-blocked, barrier-free matmul with vec4 loads.
pub static MATMUL_BLOCKED: KernelSpec = KernelSpec {
    id: "matmul_blocked",
    family: "storage_buffer",
    file: "shaders/matmul_blocked.wgsl",
    source: include_str!("../shaders/matmul_blocked.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::F32,
};

/// Every kernel shipped, for listing and for shader validation.
pub static ALL_KERNELS: &[&KernelSpec] = &[&MATMUL_NAIVE, &MATMUL_BLOCKED];

/// A kernel with concrete values for its `override` constants.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelConfig {
    /// The kernel.
    pub spec: &'static KernelSpec,
    /// Override constant values by name.
    pub overrides: BTreeMap<String, f64>,
}

impl KernelConfig {
    /// A configuration from `(name, value)` pairs.
    pub fn new(spec: &'static KernelSpec, overrides: &[(&str, u32)]) -> Self {
        let overrides = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), f64::from(*v)))
            .collect();
        KernelConfig { spec, overrides }
    }

    fn get(&self, name: &str, default: u32) -> u32 {
        self.overrides.get(name).map_or(default, |v| *v as u32)
    }

    /// Workgroup size as the shader will see it.
    pub fn workgroup_size(&self) -> [u32; 3] {
        [self.get("WG_X", 1), self.get("WG_Y", 1), 1]
    }

    /// Output elements one invocation computes along x (columns) and y (rows).
    fn per_invocation(&self) -> (u64, u64) {
        match self.spec.id {
            "matmul_blocked" => (4, u64::from(self.get("ROWS", 4))),
            _ => (1, 1),
        }
    }

    /// Workgroups to dispatch for `w`.
    pub fn dispatch(&self, w: &Workload) -> [u32; 3] {
        let [wx, wy, _] = self.workgroup_size();
        let (cols, rows) = self.per_invocation();
        let x = w.n.div_ceil(cols).div_ceil(u64::from(wx));
        let y = w.m.div_ceil(rows).div_ceil(u64::from(wy));
        [saturate_u32(x), saturate_u32(y), 1]
    }

    /// Why this kernel cannot run `w`, if it cannot (shape rules of the kernel itself).
    pub fn shape_problem(&self, w: &Workload) -> Option<String> {
        if w.op != self.spec.op || w.dtype != self.spec.dtype {
            return Some(format!("{} does not compute {}", self.spec.id, w.key()));
        }
        if w.m == 0 || w.n == 0 || w.k == 0 {
            return Some("empty shape".to_string());
        }
        if self.spec.id == "matmul_blocked" && (!w.n.is_multiple_of(4) || !w.k.is_multiple_of(4)) {
            return Some(format!(
                "{} needs N and K to be multiples of 4",
                self.spec.id
            ));
        }
        None
    }

    /// SHA-256 over the WGSL source and the override values: equal hashes mean the same code.
    pub fn source_hash(&self) -> String {
        let mut h = Sha256::new();
        h.update(self.spec.source.as_bytes());
        for (k, v) in &self.overrides {
            h.update(format!("\n{k}={v}").as_bytes());
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The record a result file keeps of this configuration.
    pub fn record(&self, w: &Workload, bounds_checks: bool) -> KernelRecord {
        KernelRecord {
            id: self.spec.id.to_string(),
            family: self.spec.family.to_string(),
            source_hash: self.source_hash(),
            overrides: self.overrides.clone(),
            workgroup_size: self.workgroup_size(),
            dispatch: self.dispatch(w),
            bounds_checks,
            layout_note: None,
        }
    }
}

fn saturate_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Sizes in bytes of the buffers a matmul needs: A, B and C.
pub fn matmul_buffer_bytes(w: &Workload) -> [u64; 3] {
    let s = w.dtype.size();
    [s * w.m * w.k, s * w.k * w.n, 4 * w.m * w.n]
}

/// Why `config` cannot run `w` on an adapter with `limits` under an optional memory cap, if it
/// cannot. Checked before any allocation so an oversized case is skipped, never crashed on.
pub fn resource_problem(
    config: &KernelConfig,
    w: &Workload,
    limits: &LimitsRecord,
    max_memory: Option<u64>,
) -> Option<String> {
    let buffers = matmul_buffer_bytes(w);
    let largest = buffers.iter().copied().max().unwrap_or(0);
    let binding_limit = limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size);
    if largest > binding_limit {
        return Some(format!(
            "needs a {largest}-byte buffer; the adapter allows {binding_limit}"
        ));
    }
    let total: u64 = buffers.iter().sum::<u64>() * 2; // device buffers plus the read-back copy of C
    if let Some(cap) = max_memory.filter(|cap| total > *cap) {
        return Some(format!("needs about {total} bytes; --max-memory is {cap}"));
    }
    let per_dim = limits.max_compute_workgroups_per_dimension;
    let dispatch = config.dispatch(w);
    if dispatch.iter().any(|d| *d > per_dim) {
        return Some(format!(
            "dispatch {dispatch:?} exceeds {per_dim} workgroups per dimension"
        ));
    }
    let [x, y, z] = config.workgroup_size();
    if x * y * z > limits.max_compute_invocations_per_workgroup {
        return Some(format!(
            "workgroup of {} invocations exceeds the adapter's {}",
            x * y * z,
            limits.max_compute_invocations_per_workgroup
        ));
    }
    None
}

/// The default matmul configurations measured by `run`.
pub fn default_matmul_configs() -> Vec<KernelConfig> {
    vec![
        KernelConfig::new(&MATMUL_NAIVE, &[("WG_X", 16), ("WG_Y", 16)]),
        KernelConfig::new(&MATMUL_BLOCKED, &[("WG_X", 8), ("WG_Y", 8), ("ROWS", 8)]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let naive = KernelConfig::new(&MATMUL_NAIVE, &[("WG_X", 16), ("WG_Y", 16)]);
        let w = Workload::matmul(Dtype::F32, 100, 33, 7);
        assert_eq!(naive.dispatch(&w), [3, 7, 1]);
        let blocked = KernelConfig::new(&MATMUL_BLOCKED, &[("WG_X", 8), ("WG_Y", 8), ("ROWS", 8)]);
        let w = Workload::matmul(Dtype::F32, 1024, 1024, 1024);
        assert_eq!(blocked.dispatch(&w), [32, 16, 1]);
    }

    #[test]
    fn blocked_kernel_rejects_shapes_it_cannot_do() {
        let blocked = KernelConfig::new(&MATMUL_BLOCKED, &[("ROWS", 4)]);
        assert!(blocked
            .shape_problem(&Workload::matmul(Dtype::F32, 5, 6, 8))
            .is_some());
        assert!(blocked
            .shape_problem(&Workload::matmul(Dtype::F32, 5, 8, 8))
            .is_none());
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
    }

    #[test]
    fn hash_changes_with_overrides() {
        let a = KernelConfig::new(&MATMUL_BLOCKED, &[("ROWS", 4)]);
        let b = KernelConfig::new(&MATMUL_BLOCKED, &[("ROWS", 8)]);
        assert_ne!(a.source_hash(), b.source_hash());
        assert_eq!(a.source_hash(), a.clone().source_hash());
        assert_eq!(a.source_hash().len(), 64);
    }
}
