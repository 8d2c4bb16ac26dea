//! Ceiling kernels: ALU peak (independent FMA chains) and memory bandwidth (copy, triad). Each is
//! verified like a matmul: the peak kernels against a closed-form checksum that every iteration
//! changes, the bandwidth kernels element by element.

use super::texture::texture_view;
use super::{pipeline, Checker, Prepared};
use crate::error::{Error, Result};
use crate::gpu::buffers::{self, entry, AsBinding};
use crate::gpu::context::GpuContext;
use crate::kernels::{stream_texture_extent, PEAK_FMAS_PER_ITER};
use crate::measure::backend::CaseSpec;
use crate::results::{Verification, VerifyMethod};
use crate::workload::{relative_frobenius_error, stream_values, Dtype, Op, Workload, TRIAD_SCALE};

/// The addend of each peak FMA: a power of two so every chain value is exact (see the shaders).
fn peak_addend(dtype: Dtype) -> f32 {
    match dtype {
        Dtype::F32 => 1.0 / 1024.0,
        Dtype::F16 | Dtype::I8 => 1.0 / 256.0,
    }
}

/// What invocation `i` of a peak kernel writes: the sum of its 12 chain lanes after `steps`
/// steps of `x ← x·1 + addend` (8 per loop trip), from the start values the shader gives them.
pub fn peak_expected(dtype: Dtype, i: u64, steps: u64) -> f64 {
    let (s, starts) = match dtype {
        Dtype::F32 => ((i & 255) as f64 / 256.0, 16.5),
        Dtype::F16 | Dtype::I8 => ((i & 3) as f64 / 256.0, 8.25),
    };
    12.0 * s + starts + 12.0 * steps as f64 * f64::from(peak_addend(dtype))
}

/// Buffers, pipeline and check of a ceiling case.
pub(super) fn prepare(
    ctx: &GpuContext,
    spec: &CaseSpec,
    checks: bool,
) -> Result<(Prepared, Checker)> {
    let w = spec.workload;
    let count = u32::try_from(w.m)
        .map_err(|_| Error::Gpu(format!("{}: too many elements for one dispatch", w.key())))?;
    let texture = stream_texture(ctx, spec)?;
    let store = |label, values: &[f32]| -> Box<dyn AsBinding> {
        match texture {
            Some((width, height)) => Box::new(texture_view(ctx, label, values, width, height)),
            None => Box::new(buffers::storage(ctx, label, bytemuck::cast_slice(values))),
        }
    };
    let (inputs, check): (Vec<Box<dyn AsBinding>>, Checker) = match w.op {
        Op::PeakFma => (Vec::new(), peak_checker(w)),
        Op::Copy => {
            let src = stream_values(w.m, spec.seed);
            (vec![store("src", &src)], stream_checker(w, src, None))
        }
        Op::Triad | Op::Matmul => {
            let b = stream_values(w.m, spec.seed);
            let c = stream_values(w.m, spec.seed.wrapping_add(1));
            let bufs = vec![store("b", &b), store("c", &c)];
            (bufs, stream_checker(w, b, Some(c)))
        }
    };
    let params: [u32; 4] = match w.op {
        Op::PeakFma => [
            count,
            (w.k / PEAK_FMAS_PER_ITER) as u32,
            1.0f32.to_bits(),
            peak_addend(w.dtype).to_bits(),
        ],
        // Element counts in the kernel's vector type; texture inputs' row width as a shift.
        _ => [
            count / spec.kernel.get("VEC").max(1),
            texture.map_or(0, |(width, _)| width.ilog2()),
            TRIAD_SCALE.to_bits(),
            0,
        ],
    };
    let params_buf = buffers::uniform(ctx, "params", bytemuck::cast_slice(&params));
    let out_bytes = 4 * w.m;
    let (output, readback) = buffers::output_buffers(ctx, "out", out_bytes);
    let pipeline = pipeline(ctx, spec, checks);
    let mut entries: Vec<wgpu::BindGroupEntry<'_>> = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        entries.push(input.entry(i as u32));
    }
    entries.push(entry(inputs.len() as u32, &output));
    entries.push(entry(inputs.len() as u32 + 1, &params_buf));
    let bind_group = ctx.device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: Some(spec.kernel.id()),
        layout: &pipeline.get_bind_group_layout(0),
        entries: &entries,
    });
    let prepared = Prepared {
        pipeline,
        bind_group,
        output,
        readback,
        out_bytes,
        dispatch: spec.kernel.dispatch(&w),
    };
    Ok((prepared, check))
}

/// The texture extent of a texture-fed copy or triad (`TEX` 1), `None` for buffer inputs.
fn stream_texture(ctx: &GpuContext, spec: &CaseSpec) -> Result<Option<(u32, u32)>> {
    let w = spec.workload;
    let stream = matches!(w.op, Op::Copy | Op::Triad);
    if !stream || spec.kernel.get("TEX") != 1 {
        return Ok(None);
    }
    let side = ctx.record.limits.max_texture_dimension_2d;
    stream_texture_extent(w.m, side)
        .map(Some)
        .ok_or_else(|| Error::Gpu(format!("{}: does not fit textures of side {side}", w.key())))
}

fn peak_checker(w: Workload) -> Checker {
    Box::new(move |bytes: &[u8]| {
        let got: Vec<f32> = bytemuck::pod_collect_to_vec(bytes);
        let steps = w.k / 12; // 3 chains × 4 lanes per step
        let want: Vec<f64> = (0..w.m).map(|i| peak_expected(w.dtype, i, steps)).collect();
        Verification {
            rel_error: relative_frobenius_error(&got, &want),
            tolerance: 1e-5,
            reference: "closed_form_checksum".to_string(),
            checked_elements: w.m,
            total_elements: w.m,
            method: VerifyMethod::Checksum,
            ..Verification::default()
        }
    })
}

/// Copy (`c` absent: out = b) or triad (out = b + scale·c), checked element by element.
fn stream_checker(w: Workload, b: Vec<f32>, c: Option<Vec<f32>>) -> Checker {
    Box::new(move |bytes: &[u8]| {
        let got: Vec<f32> = bytemuck::pod_collect_to_vec(bytes);
        let want: Vec<f64> = match &c {
            None => b.iter().map(|v| f64::from(*v)).collect(),
            Some(c) => b
                .iter()
                .zip(c)
                .map(|(b, c)| f64::from(*b) + f64::from(TRIAD_SCALE) * f64::from(*c))
                .collect(),
        };
        Verification {
            rel_error: relative_frobenius_error(&got, &want),
            tolerance: if c.is_none() { 0.0 } else { 1e-6 },
            reference: "cpu_f64".to_string(),
            checked_elements: w.m,
            total_elements: w.m,
            ..Verification::default()
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Replays the f32 shader's chains on the CPU for a few invocations: the closed form must
    /// equal the step-by-step f32 result exactly.
    #[test]
    fn peak_checksum_matches_a_step_by_step_replay() {
        for dtype in [Dtype::F32, Dtype::F16] {
            for i in [0u64, 1, 3, 255, 1000] {
                let iters = 300;
                let add = peak_addend(dtype);
                let (s, step_c, step_j) = match dtype {
                    Dtype::F32 => ((i & 255) as f32 / 256.0, 1.0f32, 0.25f32),
                    Dtype::F16 | Dtype::I8 => ((i & 3) as f32 / 256.0, 0.5, 0.125),
                };
                let mut sum = 0.0f64;
                for c in 0..3 {
                    for j in 0..4 {
                        let mut x = s + step_j * j as f32 + step_c * c as f32;
                        for _ in 0..iters {
                            x = x.mul_add(1.0, add);
                        }
                        sum += f64::from(x);
                    }
                }
                assert_eq!(sum, peak_expected(dtype, i, iters), "{dtype} {i}");
            }
        }
    }

    #[test]
    fn stream_values_are_seeded_and_exact() {
        let a = stream_values(1000, 7);
        assert_eq!(a, stream_values(1000, 7));
        assert_ne!(a, stream_values(1000, 8));
        assert!(a.iter().all(|v| (0.0..1.0).contains(v)));
    }
}
