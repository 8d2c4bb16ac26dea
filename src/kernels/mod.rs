//! The kernel catalogue: which WGSL kernels exist, how each is configured (its parameters and
//! their defaults), what shapes it accepts, how it is dispatched and what its inputs go through
//! on the host. Pure data and arithmetic, so the planning of a run is tested without a GPU;
//! `gpu/` only executes what is described here.
//!
//! Every kernel is a variant of [`Kernel`], and every question about a kernel is an exhaustive
//! `match` on it (no fall-through arm), so adding a kernel is adding one variant and answering
//! what the compiler then asks for: its [`KernelInfo`] here, its shape rule and dispatch in
//! `rules.rs`, its generated source in `generate.rs` and its preparation in `gpu/`.

mod config;
mod generate;
mod plan;
mod resources;
mod rules;

pub use config::KernelConfig;
pub use generate::{
    coop_matmul_source, stream_source, texture_matmul_source, texture_stream_source,
    tiled_matmul_source, CoopShape, TexShape, TileShape,
};
pub use plan::{ceiling_cases, default_matmul_configs, VENDOR_FAMILY};
pub use resources::{
    buffer_bytes, matmul_buffer_bytes, pack_a_int8, pack_b_int8, resource_problem, round_to_f16,
    stream_texture_extent, workgroup_bytes,
};

use crate::workload::{Dtype, Op};

/// Every WGSL kernel fleetbench ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kernel {
    /// One output per invocation, operands straight from storage: the baseline.
    MatmulNaive,
    /// Register-blocked, barrier-free f32 matmul with vec4 buffer loads.
    MatmulBlocked,
    /// Register-blocked f32 matmul fed from storage textures (fast on CPU drivers).
    MatmulTex,
    /// Workgroup-tiled, double-buffered f32 matmul with register tiles (the GPU shape).
    MatmulTiled,
    /// f16-input, f32-accumulating register-blocked matmul.
    MatmulF16,
    /// The workgroup-tiled family on f16 inputs, f32 accumulation.
    MatmulTiledF16,
    /// Cooperative-matrix (tensor-core) f16 matmul with f32 accumulation.
    MatmulCoopF16,
    /// i8 matmul through packed 4×8-bit dot products, i32 accumulation, exact.
    MatmulInt8,
    /// ALU ceiling in f32.
    PeakFmaF32,
    /// ALU ceiling in f16.
    PeakFmaF16,
    /// Bandwidth ceiling: copy.
    Copy,
    /// Bandwidth ceiling: STREAM triad.
    Triad,
}

/// How a kernel family feeds its ALUs; written into result files by [`Family::as_str`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// Operands read from storage buffers by each invocation.
    StorageBuffer,
    /// Operands read from storage textures.
    StorageTexture,
    /// Operands staged through workgroup memory in block tiles.
    WorkgroupTiled,
    /// Cooperative-matrix (tensor-core) operations.
    CooperativeMatrix,
    /// Packed integer dot products.
    PackedDot,
    /// ALU and bandwidth ceilings.
    Ceiling,
    /// A vendor library measured in-process or by a script, never WGSL (see `crate::measure::host_refs`).
    Vendor,
}

impl Family {
    /// The name result files and `--kernels` listings use.
    pub fn as_str(self) -> &'static str {
        match self {
            Family::StorageBuffer => "storage_buffer",
            Family::StorageTexture => "storage_texture",
            Family::WorkgroupTiled => "workgroup_tiled",
            Family::CooperativeMatrix => "cooperative_matrix",
            Family::PackedDot => "packed_dot",
            Family::Ceiling => "ceiling",
            Family::Vendor => VENDOR_FAMILY,
        }
    }
}

/// How a parameter reaches the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamRole {
    /// A WGSL `override`, set as a pipeline constant.
    Override,
    /// Baked into a generated variant of the source (array sizes, unrolled code).
    Generated,
}

/// One tunable parameter of a kernel and its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Param {
    /// Name, as in the WGSL source.
    pub name: &'static str,
    /// Value used when a configuration does not set it (equal to the shader's own default).
    pub default: u32,
    /// How it reaches the kernel.
    pub role: ParamRole,
}

const fn over(name: &'static str, default: u32) -> Param {
    Param {
        name,
        default,
        role: ParamRole::Override,
    }
}

const fn generated(name: &'static str, default: u32) -> Param {
    Param {
        name,
        default,
        role: ParamRole::Generated,
    }
}

/// A WGSL file of `shaders/` and its text, embedded at build time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shader {
    /// Path inside the repository.
    pub path: &'static str,
    /// The WGSL source as shipped.
    pub source: &'static str,
}

/// The path of a shader written once: the embedded text is read from the same file.
macro_rules! shader {
    ($file:literal) => {
        Shader {
            path: concat!("shaders/", $file),
            source: include_str!(concat!("../../shaders/", $file)),
        }
    };
}

/// What a kernel is: the facts that do not depend on its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelInfo {
    /// Stable id written into result files.
    pub id: &'static str,
    /// How operands reach the ALUs.
    pub family: Family,
    /// Its WGSL file (a template for generated families).
    pub shader: Shader,
    /// Operation it computes.
    pub op: Op,
    /// Element type of its inputs.
    pub dtype: Dtype,
    /// Adapter features it needs, by the names `fleetbench devices` prints.
    pub needs: &'static [&'static str],
    /// Its parameters with their defaults.
    pub params: &'static [Param],
}

const WG_2D: [Param; 2] = [over("WG_X", 16), over("WG_Y", 16)];
const BLOCKED: [Param; 3] = [over("WG_X", 8), over("WG_Y", 8), over("ROWS", 4)];
const TEXTURE: [Param; 6] = [
    over("WG_X", 8),
    over("WG_Y", 8),
    over("RA", 1),
    over("CB", 1),
    generated("KU", 1),
    generated("SHARE", 0),
];
const TILED: [Param; 5] = [
    generated("BM", 64),
    generated("BN", 64),
    generated("BK", 16),
    generated("TM", 4),
    generated("TN", 4),
];
const COOP: [Param; 7] = [
    generated("TILE", 16),
    generated("SG", 32),
    generated("SGM", 1),
    generated("SGN", 1),
    generated("TM", 1),
    generated("TN", 1),
    generated("BK", 16),
];
const PEAK: [Param; 1] = [over("WG_X", 64)];
const STREAM: [Param; 4] = [
    over("WG_X", 256),
    generated("VEC", 4),
    generated("PER", 1),
    generated("TEX", 0),
];

impl Kernel {
    /// Every kernel shipped, for listing and for shader validation.
    pub const ALL: [Kernel; 12] = [
        Kernel::MatmulNaive,
        Kernel::MatmulBlocked,
        Kernel::MatmulTex,
        Kernel::MatmulTiled,
        Kernel::MatmulF16,
        Kernel::MatmulTiledF16,
        Kernel::MatmulCoopF16,
        Kernel::MatmulInt8,
        Kernel::PeakFmaF32,
        Kernel::PeakFmaF16,
        Kernel::Copy,
        Kernel::Triad,
    ];

    /// The kernel's fixed facts (one `const` per kernel, below).
    pub const fn info(self) -> KernelInfo {
        match self {
            Kernel::MatmulNaive => MATMUL_NAIVE,
            Kernel::MatmulBlocked => MATMUL_BLOCKED,
            Kernel::MatmulTex => MATMUL_TEX,
            Kernel::MatmulTiled => MATMUL_TILED,
            Kernel::MatmulF16 => MATMUL_F16,
            Kernel::MatmulTiledF16 => MATMUL_TILED_F16,
            Kernel::MatmulCoopF16 => MATMUL_COOP_F16,
            Kernel::MatmulInt8 => MATMUL_INT8,
            Kernel::PeakFmaF32 => PEAK_FMA_F32,
            Kernel::PeakFmaF16 => PEAK_FMA_F16,
            Kernel::Copy => COPY,
            Kernel::Triad => TRIAD,
        }
    }

    /// Stable id written into result files.
    pub fn id(self) -> &'static str {
        self.info().id
    }

    /// The kernel with this id, if one is shipped.
    pub fn from_id(id: &str) -> Option<Kernel> {
        Kernel::ALL.into_iter().find(|k| k.id() == id)
    }

    /// The parameter called `name`, if the kernel has one.
    pub fn param(self, name: &str) -> Option<Param> {
        self.info().params.iter().copied().find(|p| p.name == name)
    }
}

// What each kernel is: its id, family, shader, operation, input type, needs and parameters.

const MATMUL_NAIVE: KernelInfo = KernelInfo {
    id: "matmul_naive",
    family: Family::StorageBuffer,
    shader: shader!("matmul_naive.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::F32,
    needs: &[],
    params: &WG_2D,
};

const MATMUL_BLOCKED: KernelInfo = KernelInfo {
    id: "matmul_blocked",
    family: Family::StorageBuffer,
    shader: shader!("matmul_blocked.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::F32,
    needs: &[],
    params: &BLOCKED,
};

const MATMUL_TEX: KernelInfo = KernelInfo {
    id: "matmul_tex",
    family: Family::StorageTexture,
    shader: shader!("matmul_tex.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::F32,
    needs: &[],
    params: &TEXTURE,
};

const MATMUL_TILED: KernelInfo = KernelInfo {
    id: "matmul_tiled",
    family: Family::WorkgroupTiled,
    shader: shader!("matmul_tiled.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::F32,
    needs: &[],
    params: &TILED,
};

const MATMUL_F16: KernelInfo = KernelInfo {
    id: "matmul_f16",
    family: Family::StorageBuffer,
    shader: shader!("matmul_f16.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::F16,
    needs: &["shader_f16"],
    params: &BLOCKED,
};

const MATMUL_TILED_F16: KernelInfo = KernelInfo {
    id: "matmul_tiled_f16",
    family: Family::WorkgroupTiled,
    shader: shader!("matmul_tiled.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::F16,
    needs: &["shader_f16"],
    params: &TILED,
};

const MATMUL_COOP_F16: KernelInfo = KernelInfo {
    id: "matmul_coop_f16",
    family: Family::CooperativeMatrix,
    shader: shader!("matmul_coop_f16.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::F16,
    needs: &["shader_f16", "cooperative_matrix"],
    params: &COOP,
};

const MATMUL_INT8: KernelInfo = KernelInfo {
    id: "matmul_int8",
    family: Family::PackedDot,
    shader: shader!("matmul_int8.wgsl"),
    op: Op::Matmul,
    dtype: Dtype::I8,
    needs: &[],
    params: &BLOCKED,
};

const PEAK_FMA_F32: KernelInfo = KernelInfo {
    id: "peak_fma_f32",
    family: Family::Ceiling,
    shader: shader!("peak_fma_f32.wgsl"),
    op: Op::PeakFma,
    dtype: Dtype::F32,
    needs: &[],
    params: &PEAK,
};

const PEAK_FMA_F16: KernelInfo = KernelInfo {
    id: "peak_fma_f16",
    family: Family::Ceiling,
    shader: shader!("peak_fma_f16.wgsl"),
    op: Op::PeakFma,
    dtype: Dtype::F16,
    needs: &["shader_f16"],
    params: &PEAK,
};

const COPY: KernelInfo = KernelInfo {
    id: "copy",
    family: Family::Ceiling,
    shader: shader!("copy.wgsl"),
    op: Op::Copy,
    dtype: Dtype::F32,
    needs: &[],
    params: &STREAM,
};

const TRIAD: KernelInfo = KernelInfo {
    id: "triad",
    family: Family::Ceiling,
    shader: shader!("triad.wgsl"),
    op: Op::Triad,
    dtype: Dtype::F32,
    needs: &[],
    params: &STREAM,
};

/// FMAs one invocation of a peak kernel does per loop iteration (8 steps × 3 chains × vec4).
pub const PEAK_FMAS_PER_ITER: u64 = 96;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_unique_and_found_again() {
        for k in Kernel::ALL {
            assert_eq!(Kernel::from_id(k.id()), Some(k));
            let names: Vec<_> = k.info().params.iter().map(|p| p.name).collect();
            let mut dedup = names.clone();
            dedup.dedup();
            assert_eq!(names, dedup, "{}", k.id());
        }
        assert_eq!(Kernel::from_id("nope"), None);
    }
}
