//! The texture-fed matmul family: A transposed and B uploaded as rgba32float storage textures
//! (K texels high, M/4 and N/4 wide). On CPU drivers textureLoad avoids the per-lane scalar
//! loop a storage-buffer load compiles to. The transpose happens on the host before any timed
//! dispatch, and the case's `layout_note` says so.

use super::{float_checker, matmul_bindings, Checker, Prepared};
use crate::error::Result;
use crate::gpu::context::GpuContext;
use crate::measure::backend::CaseSpec;
use crate::workload::matmul_inputs;

/// A row-major `rows × cols` matrix transposed to `cols × rows`.
pub fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; values.len()];
    for r in 0..rows {
        for c in 0..cols {
            out[c * rows + r] = values[r * cols + c];
        }
    }
    out
}

/// Textures, pipeline and check of a texture-fed matmul.
pub(super) fn prepare(
    ctx: &GpuContext,
    spec: &CaseSpec,
    checks: bool,
) -> Result<(Prepared, Checker)> {
    let w = spec.workload;
    let (m, n, k) = (w.m as usize, w.n as usize, w.k as usize);
    let (a, b) = matmul_inputs(w.m, w.n, w.k, spec.seed);
    let at = transpose(&a, m, k); // K rows of M values: texel (i4, p) = A[4·i4..][p]
    let a_view = texture_view(ctx, "A^T", &at, (m / 4) as u32, k as u32);
    let b_view = texture_view(ctx, "B", &b, (n / 4) as u32, k as u32);
    let prepared = matmul_bindings(ctx, spec, checks, &a_view, &b_view);
    Ok((prepared, float_checker(&a, &b, &w, spec.seed)?))
}

/// A `width × height` rgba32float storage texture holding `values` row by row (4 floats a
/// texel), as the texture-fed matmul and bandwidth kernels read it.
pub(super) fn texture_view(
    ctx: &GpuContext,
    label: &str,
    values: &[f32],
    width: u32,
    height: u32,
) -> wgpu::TextureView {
    let size = wgpu::Extent3d {
        width,
        height,
        depth_or_array_layers: 1,
    };
    let texture = ctx.device.create_texture(&wgpu::TextureDescriptor {
        label: Some(label),
        size,
        mip_level_count: 1,
        sample_count: 1,
        dimension: wgpu::TextureDimension::D2,
        format: wgpu::TextureFormat::Rgba32Float,
        usage: wgpu::TextureUsages::STORAGE_BINDING | wgpu::TextureUsages::COPY_DST,
        view_formats: &[],
    });
    ctx.queue.write_texture(
        wgpu::TexelCopyTextureInfo {
            texture: &texture,
            mip_level: 0,
            origin: wgpu::Origin3d::ZERO,
            aspect: wgpu::TextureAspect::All,
        },
        bytemuck::cast_slice(values),
        wgpu::TexelCopyBufferLayout {
            offset: 0,
            bytes_per_row: Some(width * 16),
            rows_per_image: Some(height),
        },
        size,
    );
    texture.create_view(&Default::default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transpose_swaps_rows_and_columns() {
        // [1 2 3; 4 5 6] -> [1 4; 2 5; 3 6]
        let t = transpose(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], 2, 3);
        assert_eq!(t, vec![1.0, 4.0, 2.0, 5.0, 3.0, 6.0]);
    }
}
