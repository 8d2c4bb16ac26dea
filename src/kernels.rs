//! The kernel catalogue: which WGSL kernels exist, how each is configured through its `override`
//! constants, what shapes it accepts and how it is dispatched. Pure data and arithmetic, so the
//! planning of a run is tested without a GPU; `gpu/` only executes what is described here.

use crate::results::{AdapterRecord, KernelRecord, LimitsRecord};
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
    /// Adapter features it needs, by the names `fleetbench devices` prints.
    pub needs: &'static [&'static str],
}

/// Naive one-output-per-invocation matmul.
pub static MATMUL_NAIVE: KernelSpec = KernelSpec {
    id: "matmul_naive",
    family: "storage_buffer",
    file: "shaders/matmul_naive.wgsl",
    source: include_str!("../shaders/matmul_naive.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::F32,
    needs: &[],
};

/// Register-blocked, barrier-free matmul with vec4 loads.
pub static MATMUL_BLOCKED: KernelSpec = KernelSpec {
    id: "matmul_blocked",
    family: "storage_buffer",
    file: "shaders/matmul_blocked.wgsl",
    source: include_str!("../shaders/matmul_blocked.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::F32,
    needs: &[],
};

/// Register-blocked matmul fed from read-only storage textures, A transposed on the host.
pub static MATMUL_TEX: KernelSpec = KernelSpec {
    id: "matmul_tex",
    family: "storage_texture",
    file: "shaders/matmul_tex.wgsl",
    source: include_str!("../shaders/matmul_tex.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::F32,
    needs: &[],
};

/// f16-input, f32-accumulating register-blocked matmul.
pub static MATMUL_F16: KernelSpec = KernelSpec {
    id: "matmul_f16",
    family: "storage_buffer",
    file: "shaders/matmul_f16.wgsl",
    source: include_str!("../shaders/matmul_f16.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::F16,
    needs: &["shader_f16"],
};

/// Cooperative-matrix (tensor-core) f16 matmul with f32 accumulation, 16×16×16 tiles.
pub static MATMUL_COOP_F16: KernelSpec = KernelSpec {
    id: "matmul_coop_f16",
    family: "cooperative_matrix",
    file: "shaders/matmul_coop_f16.wgsl",
    source: include_str!("../shaders/matmul_coop_f16.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::F16,
    needs: &["shader_f16", "cooperative_matrix"],
};

/// ALU ceiling in f32.
pub static PEAK_FMA_F32: KernelSpec = KernelSpec {
    id: "peak_fma_f32",
    family: "ceiling",
    file: "shaders/peak_fma_f32.wgsl",
    source: include_str!("../shaders/peak_fma_f32.wgsl"),
    op: Op::PeakFma,
    dtype: Dtype::F32,
    needs: &[],
};

/// ALU ceiling in f16.
pub static PEAK_FMA_F16: KernelSpec = KernelSpec {
    id: "peak_fma_f16",
    family: "ceiling",
    file: "shaders/peak_fma_f16.wgsl",
    source: include_str!("../shaders/peak_fma_f16.wgsl"),
    op: Op::PeakFma,
    dtype: Dtype::F16,
    needs: &["shader_f16"],
};

/// Bandwidth ceiling: copy.
pub static COPY: KernelSpec = KernelSpec {
    id: "copy",
    family: "ceiling",
    file: "shaders/copy.wgsl",
    source: include_str!("../shaders/copy.wgsl"),
    op: Op::Copy,
    dtype: Dtype::F32,
    needs: &[],
};

/// Bandwidth ceiling: STREAM triad.
pub static TRIAD: KernelSpec = KernelSpec {
    id: "triad",
    family: "ceiling",
    file: "shaders/triad.wgsl",
    source: include_str!("../shaders/triad.wgsl"),
    op: Op::Triad,
    dtype: Dtype::F32,
    needs: &[],
};

/// Every kernel shipped, for listing and for shader validation.
pub static ALL_KERNELS: &[&KernelSpec] = &[
    &MATMUL_NAIVE,
    &MATMUL_BLOCKED,
    &MATMUL_TEX,
    &MATMUL_F16,
    &MATMUL_COOP_F16,
    &PEAK_FMA_F32,
    &PEAK_FMA_F16,
    &COPY,
    &TRIAD,
];

/// FMAs one invocation of a peak kernel does per loop iteration (8 steps × 3 chains × vec4).
pub const PEAK_FMAS_PER_ITER: u64 = 96;

impl KernelSpec {
    /// Why the adapter cannot run this kernel, if it lacks a feature it needs.
    pub fn unsupported_reason(&self, adapter: &AdapterRecord) -> Option<String> {
        let missing: Vec<&str> = self
            .needs
            .iter()
            .copied()
            .filter(|f| !adapter.has_feature(f))
            .collect();
        if missing.is_empty() {
            return self.coop_shape_problem(adapter);
        }
        Some(format!("adapter lacks {}", missing.join(" and ")))
    }

    /// The cooperative kernel uses 16×16×16 f16→f32 tiles: the adapter must list them.
    fn coop_shape_problem(&self, adapter: &AdapterRecord) -> Option<String> {
        if self.family != "cooperative_matrix" {
            return None;
        }
        let wanted = "16x16x16 f16->f32";
        if adapter.cooperative_matrix.iter().any(|s| s == wanted) {
            return None;
        }
        Some(format!(
            "adapter's cooperative-matrix shapes [{}] lack {wanted}",
            adapter.cooperative_matrix.join(", ")
        ))
    }
}

/// A kernel with concrete values for its `override` constants.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelConfig {
    /// The kernel.
    pub spec: &'static KernelSpec,
    /// Override constant values by name.
    pub overrides: BTreeMap<String, f64>,
    /// Chosen by the autotuner: the case is named `matmul_tuned/<workload>` so that the best
    /// kernel of each machine is compared across machines, whichever family won.
    pub tuned: bool,
}

impl KernelConfig {
    /// A configuration from `(name, value)` pairs.
    pub fn new(spec: &'static KernelSpec, overrides: &[(&str, u32)]) -> Self {
        let overrides = overrides
            .iter()
            .map(|(k, v)| (k.to_string(), f64::from(*v)))
            .collect();
        KernelConfig {
            spec,
            overrides,
            tuned: false,
        }
    }

    fn get(&self, name: &str, default: u32) -> u32 {
        self.overrides.get(name).map_or(default, |v| *v as u32)
    }

    /// The same configuration, marked as the autotuner's choice.
    pub fn into_tuned(mut self) -> Self {
        self.tuned = true;
        self
    }

    /// Workgroup size as the shader will see it.
    pub fn workgroup_size(&self) -> [u32; 3] {
        [self.get("WG_X", 1), self.get("WG_Y", 1), 1]
    }

    /// Output elements one invocation computes along x (columns) and y (rows).
    fn per_invocation(&self) -> (u64, u64) {
        match self.spec.id {
            "matmul_blocked" | "matmul_f16" => (4, u64::from(self.get("ROWS", 4))),
            "matmul_tex" => (
                4 * u64::from(self.get("CB", 4)),
                4 * u64::from(self.get("RA", 4)),
            ),
            _ => (1, 1),
        }
    }

    /// Workgroups to dispatch for `w`.
    pub fn dispatch(&self, w: &Workload) -> [u32; 3] {
        let [wx, wy, _] = self.workgroup_size();
        match w.op {
            Op::PeakFma => return [saturate_u32(w.m.div_ceil(u64::from(wx))), 1, 1],
            Op::Copy | Op::Triad => {
                return [saturate_u32(w.m.div_ceil(4).div_ceil(u64::from(wx))), 1, 1]
            }
            Op::Matmul => {}
        }
        if self.spec.family == "cooperative_matrix" {
            return [saturate_u32(w.n / 16), saturate_u32(w.m / 16), 1];
        }
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
        let id = self.spec.id;
        let need = |ok: bool, rule: &str| (!ok).then(|| format!("{id} needs {rule}"));
        match id {
            "matmul_blocked" | "matmul_f16" => need(
                w.n.is_multiple_of(4) && w.k.is_multiple_of(4),
                "N and K to be multiples of 4",
            ),
            "matmul_tex" => {
                let (cols, rows) = self.per_invocation();
                need(
                    w.n.is_multiple_of(cols) && w.m.is_multiple_of(rows),
                    &format!("M to be a multiple of {rows} and N of {cols}"),
                )
            }
            "matmul_coop_f16" => need(
                [w.m, w.n, w.k].iter().all(|s| s.is_multiple_of(16)),
                "M, N and K to be multiples of 16",
            ),
            "peak_fma_f32" | "peak_fma_f16" => peak_shape_problem(id, w),
            "copy" | "triad" => need(w.m.is_multiple_of(4), "a multiple of 4 elements"),
            _ => None,
        }
    }

    /// The host-side layout change this kernel's inputs go through, for the result file.
    pub fn layout_note(&self) -> Option<String> {
        match self.spec.id {
            "matmul_tex" => Some(
                "A transposed on the host and both inputs uploaded as rgba32float storage \
                 textures before the timed dispatches; not timed"
                    .to_string(),
            ),
            "matmul_f16" | "matmul_coop_f16" => Some(
                "inputs rounded to f16 on the host before upload (the reference uses the \
                 rounded values); not timed"
                    .to_string(),
            ),
            _ => None,
        }
    }

    /// The WGSL this configuration compiles: the kernel's file, or for generated families the
    /// variant generated from it.
    pub fn source(&self) -> String {
        match self.spec.id {
            "matmul_tex" => texture_matmul_source(self.get("RA", 1), self.get("CB", 1)),
            _ => self.spec.source.to_string(),
        }
    }

    /// SHA-256 over the WGSL source and the override values: equal hashes mean the same code.
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
            id: self.spec.id.to_string(),
            family: self.spec.family.to_string(),
            source_hash: self.source_hash(),
            overrides: self.overrides.clone(),
            workgroup_size: self.workgroup_size(),
            dispatch: self.dispatch(w),
            bounds_checks,
            layout_note: self.layout_note(),
        }
    }
}

/// Peak kernels run `k / 128` iterations of 8 steps on 3 vec4 chains; f16 chains stay exact
/// only up to 1024 steps, f32 chains far beyond any useful count.
fn peak_shape_problem(id: &str, w: &Workload) -> Option<String> {
    if !w.k.is_multiple_of(PEAK_FMAS_PER_ITER) {
        return Some(format!(
            "{id} needs FMAs per invocation to be a multiple of {PEAK_FMAS_PER_ITER}"
        ));
    }
    let max_iters: u64 = if w.dtype == Dtype::F16 { 128 } else { 1 << 19 };
    if w.k / PEAK_FMAS_PER_ITER > max_iters {
        return Some(format!(
            "{id} stays exact only up to {} FMAs per invocation",
            max_iters * PEAK_FMAS_PER_ITER
        ));
    }
    None
}

/// The texture matmul with `ra` texels of A and `cb` texels of B per step: the template's
/// `//@DECLARE`, `//@STEP` and `//@STORE` blocks are replaced by fully unrolled code with one
/// named accumulator per 4-wide output, so every accumulator lives in a register.
pub fn texture_matmul_source(ra: u32, cb: u32) -> String {
    let mut declare = String::new();
    let mut step = String::new();
    let mut store = String::new();
    for r in 0..4 * ra {
        for j in 0..cb {
            declare.push_str(&format!("    var acc_{r}_{j} = vec4<f32>(0.0);\n"));
            store.push_str(&format!(
                "    c[(row0 + {r}u) * n4 + col0 + {j}u] = acc_{r}_{j};\n"
            ));
        }
    }
    for j in 0..cb {
        step.push_str(&format!(
            "        let b_{j} = textureLoad(bt, vec2<i32>(i32(col0 + {j}u), i32(p)));\n"
        ));
    }
    for q in 0..ra {
        step.push_str(&format!(
            "        let a_{q} = textureLoad(at, vec2<i32>(i32(row40 + {q}u), i32(p)));\n"
        ));
        for (e, lane) in ["x", "y", "z", "w"].iter().enumerate() {
            let r = 4 * q + e as u32;
            for j in 0..cb {
                step.push_str(&format!(
                    "        acc_{r}_{j} = fma(vec4<f32>(a_{q}.{lane}), b_{j}, acc_{r}_{j});\n"
                ));
            }
        }
    }
    let template = MATMUL_TEX.source;
    let mut out = String::with_capacity(template.len() + step.len() * 2);
    let mut skipping = false;
    for line in template.lines() {
        let t = line.trim();
        let block = match t {
            "//@DECLARE" => Some(&declare),
            "//@STEP" => Some(&step),
            "//@STORE" => Some(&store),
            _ => None,
        };
        if let Some(block) = block {
            out.push_str(block);
            skipping = true;
        } else if t == "//@END" {
            skipping = false;
        } else if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

fn saturate_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Rounds every value to the nearest f16 in place (so the CPU reference sees exactly what the
/// GPU sees) and returns the f16 bit patterns for upload.
pub fn round_to_f16(values: &mut [f32]) -> Vec<u16> {
    values
        .iter_mut()
        .map(|v| {
            let h = half::f16::from_f32(*v);
            *v = h.to_f32();
            h.to_bits()
        })
        .collect()
}

/// Sizes in bytes of the buffers a matmul needs: A, B and C.
pub fn matmul_buffer_bytes(w: &Workload) -> [u64; 3] {
    let s = w.dtype.size();
    [s * w.m * w.k, s * w.k * w.n, 4 * w.m * w.n]
}

/// Sizes in bytes of the device buffers any workload needs.
pub fn buffer_bytes(w: &Workload) -> Vec<u64> {
    let s = w.dtype.size();
    match w.op {
        Op::Matmul => matmul_buffer_bytes(w).to_vec(),
        Op::PeakFma => vec![4 * w.m],
        Op::Copy => vec![s * w.m; 2],
        Op::Triad => vec![s * w.m; 3],
    }
}

/// Why a texture-fed kernel's operands do not fit the adapter's 2D textures, if they do not.
fn texture_problem(config: &KernelConfig, w: &Workload, limits: &LimitsRecord) -> Option<String> {
    if config.spec.family != "storage_texture" {
        return None;
    }
    let side = u64::from(limits.max_texture_dimension_2d);
    let largest = w.k.max(w.m / 4).max(w.n / 4);
    (largest > side)
        .then(|| format!("needs a texture side of {largest}; the adapter allows {side}"))
}

/// Why `config` cannot run `w` on an adapter with `limits` under an optional memory cap, if it
/// cannot. Checked before any allocation so an oversized case is skipped, never crashed on.
pub fn resource_problem(
    config: &KernelConfig,
    w: &Workload,
    limits: &LimitsRecord,
    max_memory: Option<u64>,
) -> Option<String> {
    let buffers = buffer_bytes(w);
    let largest = buffers.iter().copied().max().unwrap_or(0);
    let binding_limit = limits
        .max_storage_buffer_binding_size
        .min(limits.max_buffer_size);
    if largest > binding_limit {
        return Some(format!(
            "needs a {largest}-byte buffer; the adapter allows {binding_limit}"
        ));
    }
    if let Some(problem) = texture_problem(config, w, limits) {
        return Some(problem);
    }
    let output = buffers.last().copied().unwrap_or(0);
    let total: u64 = buffers.iter().sum::<u64>() + output; // device buffers plus the read-back copy
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

/// The ceiling cases of a run: ALU peak (f32, f16) and bandwidth (copy, triad). Buffers are
/// 64 MiB (quick) or 128 MiB each, several times any CPU or GPU last-level cache.
pub fn ceiling_cases(quick: bool) -> Vec<(Workload, KernelConfig)> {
    let (invocations, elements) = if quick {
        (32_768, 16 << 20)
    } else {
        (131_072, 32 << 20)
    };
    let peak = |dtype, iters: u64| Workload {
        op: Op::PeakFma,
        dtype,
        m: invocations,
        n: 1,
        k: iters * PEAK_FMAS_PER_ITER,
    };
    let stream = |op| Workload {
        op,
        dtype: Dtype::F32,
        m: elements,
        n: 1,
        k: 1,
    };
    vec![
        (
            peak(Dtype::F32, 256),
            KernelConfig::new(&PEAK_FMA_F32, &[("WG_X", 64)]),
        ),
        (
            peak(Dtype::F16, 128),
            KernelConfig::new(&PEAK_FMA_F16, &[("WG_X", 64)]),
        ),
        (stream(Op::Copy), KernelConfig::new(&COPY, &[("WG_X", 256)])),
        (
            stream(Op::Triad),
            KernelConfig::new(&TRIAD, &[("WG_X", 256)]),
        ),
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
