//! Per-kernel rules, each an exhaustive match over [`Kernel`]: workgroup size, how much of the
//! output one workgroup covers (hence the dispatch), which shapes a configuration accepts,
//! what the adapter must offer, and what the host does to the inputs.

use super::Kernel;
use super::{CoopShape, KernelConfig, TileShape, PEAK_FMAS_PER_ITER};
use crate::results::{AdapterRecord, CooperativeMatrixShape};
use crate::workload::{Dtype, Workload};

/// What one workgroup covers.
enum Coverage {
    /// A `cols × rows` block of a matmul's C.
    Block { cols: u64, rows: u64 },
    /// `items` consecutive elements (or invocations) of a one-dimensional workload.
    Line { items: u64 },
}

pub(super) fn workgroup_size(c: &KernelConfig) -> [u32; 3] {
    match c.kernel {
        Kernel::MatmulTiled | Kernel::MatmulTiledF16 => {
            let t = TileShape::of(c);
            [t.bn / t.tn.max(1), t.bm / t.tm.max(1), 1]
        }
        Kernel::MatmulCoopF16 => [CoopShape::of(c).threads(), 1, 1],
        Kernel::MatmulNaive
        | Kernel::MatmulBlocked
        | Kernel::MatmulTex
        | Kernel::MatmulF16
        | Kernel::MatmulInt8 => [c.get("WG_X"), c.get("WG_Y"), 1],
        Kernel::PeakFmaF32 | Kernel::PeakFmaF16 | Kernel::Copy | Kernel::Triad => {
            [c.get("WG_X"), 1, 1]
        }
    }
}

fn coverage(c: &KernelConfig) -> Coverage {
    let [wx, wy, _] = workgroup_size(c).map(u64::from);
    let get = |name| u64::from(c.get(name));
    let per_invocation = |cols: u64, rows: u64| Coverage::Block {
        cols: cols * wx,
        rows: rows * wy,
    };
    match c.kernel {
        Kernel::MatmulNaive => per_invocation(1, 1),
        Kernel::MatmulBlocked | Kernel::MatmulF16 | Kernel::MatmulInt8 => {
            per_invocation(4, get("ROWS"))
        }
        Kernel::MatmulTex => per_invocation(4 * get("CB"), 4 * get("RA")),
        Kernel::MatmulTiled | Kernel::MatmulTiledF16 => {
            let t = TileShape::of(c);
            Coverage::Block {
                cols: u64::from(t.bn),
                rows: u64::from(t.bm),
            }
        }
        Kernel::MatmulCoopF16 => {
            let (rows, cols) = CoopShape::of(c).block();
            Coverage::Block {
                cols: u64::from(cols),
                rows: u64::from(rows),
            }
        }
        Kernel::PeakFmaF32 | Kernel::PeakFmaF16 => Coverage::Line { items: wx },
        Kernel::Copy | Kernel::Triad => Coverage::Line {
            items: wx * get("VEC") * get("PER"),
        },
    }
}

pub(super) fn dispatch(c: &KernelConfig, w: &Workload) -> [u32; 3] {
    match coverage(c) {
        Coverage::Block { cols, rows } => [
            saturate_u32(w.n.div_ceil(cols.max(1))),
            saturate_u32(w.m.div_ceil(rows.max(1))),
            1,
        ],
        Coverage::Line { items } => [saturate_u32(w.m.div_ceil(items.max(1))), 1, 1],
    }
}

fn saturate_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// `None` when `ok`, else "`<id>` needs `<rule>`".
fn need(c: &KernelConfig, ok: bool, rule: &str) -> Option<String> {
    (!ok).then(|| format!("{} needs {rule}", c.id()))
}

pub(super) fn shape_problem(c: &KernelConfig, w: &Workload) -> Option<String> {
    match c.kernel {
        Kernel::MatmulNaive => None,
        Kernel::MatmulBlocked | Kernel::MatmulF16 => need(
            c,
            w.n.is_multiple_of(4) && w.k.is_multiple_of(4),
            "N and K to be multiples of 4",
        ),
        Kernel::MatmulInt8 => need(
            c,
            w.n.is_multiple_of(4) && w.k.is_multiple_of(16),
            "N to be a multiple of 4 and K of 16",
        ),
        Kernel::MatmulTex => texture_shape_problem(c, w),
        Kernel::MatmulTiled | Kernel::MatmulTiledF16 => tiled_shape_problem(c, w),
        Kernel::MatmulCoopF16 => coop_shape_problem(c, w),
        Kernel::PeakFmaF32 | Kernel::PeakFmaF16 => peak_shape_problem(c, w),
        Kernel::Copy | Kernel::Triad => stream_shape_problem(c, w),
    }
}

/// Whole register blocks in M and N, whole unrolled iterations in K, and with sharing a
/// one-row workgroup of whole subgroups (the lanes that share A must hold the same rows, and
/// WGSL names a lane only in one-dimensional workgroups).
fn texture_shape_problem(c: &KernelConfig, w: &Workload) -> Option<String> {
    let get = |name| u64::from(c.get(name));
    let (cols, rows, ku, share) = (4 * get("CB"), 4 * get("RA"), get("KU"), get("SHARE"));
    need(
        c,
        w.n.is_multiple_of(cols) && w.m.is_multiple_of(rows),
        &format!("M to be a multiple of {rows} and N of {cols}"),
    )
    .or_else(|| {
        need(
            c,
            ku >= 1 && w.k.is_multiple_of(ku),
            &format!("K to be a multiple of KU {ku}"),
        )
    })
    .or_else(|| {
        need(
            c,
            share == 0 || (get("WG_X").is_multiple_of(share) && get("WG_Y") == 1),
            &format!("WG_X to be a multiple of SHARE {share} and WG_Y 1"),
        )
    })
}

/// Element width 1, 2, 4 or (copies only) 8 dividing the elements, at least one per
/// invocation; texture inputs (`TEX` 1) hold whole vec4 texels. Width 8 is a `vec4<u64>` of
/// the same bytes: a triad computes in f32, so it has no 64-bit form.
fn stream_shape_problem(c: &KernelConfig, w: &Workload) -> Option<String> {
    let get = |name| u64::from(c.get(name));
    let (vec, tex) = (get("VEC"), get("TEX"));
    if tex > 1 || (tex == 1 && vec != 4) {
        return need(
            c,
            false,
            "TEX 0, or TEX 1 with VEC 4 (texture inputs are vec4 texels)",
        );
    }
    if vec == 8 && c.kernel != Kernel::Copy {
        return need(c, false, "VEC 1, 2 or 4 (only a copy moves 64-bit words)");
    }
    need(
        c,
        matches!(vec, 1 | 2 | 4 | 8) && get("PER") >= 1 && w.m.is_multiple_of(vec),
        &format!("a multiple of {vec} elements (VEC 1, 2, 4 or 8, PER at least 1)"),
    )
}

/// The tile shape must be well formed (see [`TileShape::problem`]) and divide the matrices.
fn tiled_shape_problem(c: &KernelConfig, w: &Workload) -> Option<String> {
    let t = TileShape::of(c);
    if let Some(p) = t.problem() {
        return Some(format!("{}: {p}", c.id()));
    }
    let (bm, bn, bk) = (u64::from(t.bm), u64::from(t.bn), u64::from(t.bk));
    need(
        c,
        w.m.is_multiple_of(bm) && w.n.is_multiple_of(bn) && w.k.is_multiple_of(bk),
        &format!("M to be a multiple of {bm}, N of {bn} and K of {bk}"),
    )
}

/// The cooperative tiling must be well formed (see [`CoopShape::problem`]) and divide the
/// matrices into whole workgroup blocks and K steps.
fn coop_shape_problem(c: &KernelConfig, w: &Workload) -> Option<String> {
    let shape = CoopShape::of(c);
    if let Some(p) = shape.problem() {
        return Some(format!("{}: {p}", c.id()));
    }
    let (bm, bn) = shape.block();
    let (bm, bn, bk) = (u64::from(bm), u64::from(bn), u64::from(shape.bk));
    need(
        c,
        w.m.is_multiple_of(bm) && w.n.is_multiple_of(bn) && w.k.is_multiple_of(bk),
        &format!("M to be a multiple of {bm}, N of {bn} and K of {bk}"),
    )
}

/// The cooperative kernel's tile must be one the adapter lists for f16 inputs and f32
/// accumulation, and its subgroups the fixed size the kernel was generated for.
fn coop_adapter_problem(c: &KernelConfig, adapter: &AdapterRecord) -> Option<String> {
    let shape = CoopShape::of(c);
    let t = shape.tile;
    let wanted = CooperativeMatrixShape::square_f16_f32(t);
    if !adapter.cooperative_matrix.contains(&wanted) {
        let listed: Vec<String> = adapter
            .cooperative_matrix
            .iter()
            .map(ToString::to_string)
            .collect();
        return Some(format!(
            "adapter's cooperative-matrix shapes [{}] lack {wanted}",
            listed.join(", ")
        ));
    }
    let (min, max) = (
        adapter.limits.min_subgroup_size,
        adapter.limits.max_subgroup_size,
    );
    (min != shape.sg || max != shape.sg).then(|| {
        format!(
            "generated for subgroups of {}; the adapter's are {min} to {max}",
            shape.sg
        )
    })
}

/// Peak kernels run `k / 96` iterations of 8 steps on 3 vec4 chains; f16 chains stay exact
/// only up to 1024 steps, f32 chains far beyond any useful count.
fn peak_shape_problem(c: &KernelConfig, w: &Workload) -> Option<String> {
    let id = c.id();
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

/// What the adapter must offer beyond features: the cooperative kernel's tile shape must be one
/// the adapter lists, and staged tiles must fit its workgroup memory.
pub(super) fn adapter_problem(c: &KernelConfig, adapter: &AdapterRecord) -> Option<String> {
    match c.kernel {
        Kernel::MatmulCoopF16 => coop_adapter_problem(c, adapter),
        Kernel::MatmulTiled | Kernel::MatmulTiledF16 => {
            let bytes = TileShape::of(c).workgroup_bytes();
            let limit = u64::from(adapter.limits.max_compute_workgroup_storage_size);
            (bytes > limit).then(|| {
                format!("needs {bytes} bytes of workgroup memory; the adapter allows {limit}")
            })
        }
        Kernel::MatmulTex => shared_texture_problem(c, adapter),
        Kernel::Copy | Kernel::Triad => wide_stream_problem(c, adapter),
        Kernel::MatmulNaive
        | Kernel::MatmulBlocked
        | Kernel::MatmulF16
        | Kernel::MatmulInt8
        | Kernel::PeakFmaF32
        | Kernel::PeakFmaF16 => None,
    }
}

/// A stream variant of 64-bit words (`VEC` 8) needs the adapter's `shader_int64`.
fn wide_stream_problem(c: &KernelConfig, adapter: &AdapterRecord) -> Option<String> {
    (c.get("VEC") == 8 && !adapter.has_feature("shader_int64"))
        .then(|| "VEC 8 (64-bit words) needs shader_int64, which the adapter lacks".to_string())
}

/// A texture-fed kernel whose lanes share A needs subgroups of exactly `SHARE` lanes.
fn shared_texture_problem(c: &KernelConfig, adapter: &AdapterRecord) -> Option<String> {
    let share = c.get("SHARE");
    if share == 0 {
        return None;
    }
    if !adapter.has_feature("subgroup") {
        return Some("sharing A across lanes needs the subgroup feature".to_string());
    }
    let (low, high) = (
        adapter.limits.min_subgroup_size,
        adapter.limits.max_subgroup_size,
    );
    (low != share || high != share).then(|| {
        format!("sharing A across {share} lanes needs subgroups of {share}; the adapter has {low} to {high}")
    })
}

pub(super) fn layout_note(kernel: Kernel) -> Option<&'static str> {
    match kernel {
        Kernel::MatmulTex => Some(
            "A transposed on the host and both inputs uploaded as rgba32float storage \
             textures before the timed dispatches; not timed",
        ),
        Kernel::MatmulF16 | Kernel::MatmulTiledF16 | Kernel::MatmulCoopF16 => Some(
            "inputs rounded to f16 on the host before upload (the reference uses the \
             rounded values); not timed",
        ),
        Kernel::MatmulInt8 => Some(
            "i8 inputs packed four to a u32 on the host, B as K quads of each column \
             interleaved by column quads, before upload; not timed",
        ),
        Kernel::MatmulNaive
        | Kernel::MatmulBlocked
        | Kernel::MatmulTiled
        | Kernel::PeakFmaF32
        | Kernel::PeakFmaF16
        | Kernel::Copy
        | Kernel::Triad => None,
    }
}
