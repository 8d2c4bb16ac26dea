//! What a case needs from the adapter before anything is allocated: buffer sizes, texture
//! sides, workgroup memory and dispatch limits; and the host-side packing of inputs.

use super::{CoopShape, Kernel, KernelConfig, TileShape};
use crate::results::LimitsRecord;
use crate::workload::{Op, Workload};

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

fn pack4(q: [i8; 4]) -> u32 {
    u32::from_le_bytes(q.map(|v| v as u8))
}

/// A (`m × k`, row-major, `k` a multiple of 4) packed four consecutive K values per u32, the
/// lowest K in the lowest byte, as `dot4I8Packed` reads them.
pub fn pack_a_int8(a: &[i8], k: usize) -> Vec<u32> {
    a.chunks_exact(k)
        .flat_map(|row| row.chunks_exact(4).map(|q| pack4([q[0], q[1], q[2], q[3]])))
        .collect()
}

/// B (`k × n`, row-major, `k` a multiple of 4 and `n` of 4) packed four consecutive K values of
/// one column per u32 and interleaved by column quads: word (k4, j) at `(k4·n/4 + j/4)·4 + j%4`.
pub fn pack_b_int8(b: &[i8], k: usize, n: usize) -> Vec<u32> {
    let mut out = vec![0u32; k / 4 * n];
    for k4 in 0..k / 4 {
        for j in 0..n {
            let q = [0, 1, 2, 3].map(|e| b[(4 * k4 + e) * n + j]);
            out[k4 * n + j] = pack4(q);
        }
    }
    out
}

/// Sizes in bytes of the buffers a matmul needs: A, B and C (C is f32 or i32).
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

/// Workgroup memory a configuration declares, in bytes.
pub fn workgroup_bytes(c: &KernelConfig) -> u64 {
    match c.kernel {
        Kernel::MatmulTiled | Kernel::MatmulTiledF16 => TileShape::of(c).workgroup_bytes(),
        Kernel::MatmulCoopF16 => CoopShape::of(c).workgroup_bytes(),
        Kernel::MatmulNaive
        | Kernel::MatmulBlocked
        | Kernel::MatmulTex
        | Kernel::MatmulF16
        | Kernel::MatmulInt8
        | Kernel::PeakFmaF32
        | Kernel::PeakFmaF16
        | Kernel::Copy
        | Kernel::Triad => 0,
    }
}

/// Widest texture row a texture-fed bandwidth kernel uses (in texels): rows of 128 KiB.
const STREAM_TEXTURE_WIDTH: u64 = 8192;

/// The `(width, height)` in rgba32float texels of the texture holding `elements` f32 values for
/// a texture-fed copy or triad: the width is the largest power of two up to 8192 and
/// `max_side` that divides the texel count, so element `i` is texel (`i mod width`,
/// `i / width`) with a shift and a mask. `None` when the elements are not whole texels or the
/// height would exceed `max_side`.
pub fn stream_texture_extent(elements: u64, max_side: u32) -> Option<(u32, u32)> {
    if elements == 0 || !elements.is_multiple_of(4) {
        return None;
    }
    let texels = elements / 4;
    let widest = STREAM_TEXTURE_WIDTH.min(u64::from(max_side)).max(1);
    let width = (0..=widest.ilog2())
        .rev()
        .map(|p| 1u64 << p)
        .find(|w| texels.is_multiple_of(*w))
        .unwrap_or(1);
    let height = texels / width;
    (height <= u64::from(max_side)).then_some((width as u32, height as u32))
}

/// Why a texture-fed kernel's operands do not fit the adapter's 2D textures, if they do not.
fn texture_problem(config: &KernelConfig, w: &Workload, limits: &LimitsRecord) -> Option<String> {
    let side = limits.max_texture_dimension_2d;
    let stream = matches!(config.kernel, Kernel::Copy | Kernel::Triad);
    if stream && config.get("TEX") == 1 {
        return stream_texture_extent(w.m, side).is_none().then(|| {
            format!(
                "{} elements do not fit textures of side {side} as whole texels",
                w.m
            )
        });
    }
    if config.kernel != Kernel::MatmulTex {
        return None;
    }
    let side = u64::from(side);
    let largest = w.k.max(w.m / 4).max(w.n / 4);
    (largest > side)
        .then(|| format!("needs a texture side of {largest}; the adapter allows {side}"))
}

/// Why the workgroup does not fit the adapter (invocations or workgroup memory), if it does not.
fn workgroup_problem(config: &KernelConfig, limits: &LimitsRecord) -> Option<String> {
    let [x, y, z] = config.workgroup_size();
    let invocations = u64::from(x) * u64::from(y) * u64::from(z);
    if invocations > u64::from(limits.max_compute_invocations_per_workgroup) {
        return Some(format!(
            "workgroup of {invocations} invocations exceeds the adapter's {}",
            limits.max_compute_invocations_per_workgroup
        ));
    }
    let shared = workgroup_bytes(config);
    let limit = u64::from(limits.max_compute_workgroup_storage_size);
    (shared > limit)
        .then(|| format!("needs {shared} bytes of workgroup memory; the adapter allows {limit}"))
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
    workgroup_problem(config, limits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_textures_are_power_of_two_wide_and_fit_the_side() {
        assert_eq!(stream_texture_extent(32 << 20, 16384), Some((8192, 1024)));
        assert_eq!(stream_texture_extent(32 << 20, 4096), Some((4096, 2048)));
        assert_eq!(stream_texture_extent(4 * 12, 8192), Some((4, 3)));
        assert_eq!(stream_texture_extent(4 * 7, 8192), Some((1, 7)));
        assert_eq!(stream_texture_extent(4 * 7, 4), None, "7 rows of 1 texel");
        assert_eq!(stream_texture_extent(10, 8192), None, "not whole texels");
        assert_eq!(stream_texture_extent(0, 8192), None);
    }

    #[test]
    fn int8_packing_puts_the_lowest_k_in_the_lowest_byte() {
        let a: Vec<i8> = vec![1, -2, 3, -4, 5, 6, 7, 8];
        assert_eq!(pack_a_int8(&a, 8), vec![0xFC03_FE01, 0x0807_0605]);
        // B 4×4: column j holds j*10 + k.
        let b: Vec<i8> = (0..16).map(|i| ((i % 4) * 10 + i / 4) as i8).collect();
        let packed = pack_b_int8(&b, 4, 4);
        assert_eq!(packed[2], u32::from_le_bytes([20, 21, 22, 23]));
    }
}
