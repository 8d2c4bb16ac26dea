//! Matmuls with both inputs in storage buffers, f32 or f16 (rounded on the host): the naive,
//! register-blocked, workgroup-tiled and cooperative-matrix families.

use super::{float_checker, matmul_bindings, Checker, Prepared};
use crate::error::Result;
use crate::gpu::buffers::storage;
use crate::gpu::context::GpuContext;
use crate::kernels::round_to_f16;
use crate::measure::backend::CaseSpec;
use crate::workload::{matmul_inputs, Dtype};

/// Inputs, buffers, pipeline and check of a storage-buffer matmul.
pub(super) fn prepare(
    ctx: &GpuContext,
    spec: &CaseSpec,
    checks: bool,
) -> Result<(Prepared, Checker)> {
    let w = spec.workload;
    let (mut a, mut b) = matmul_inputs(w.m, w.n, w.k, spec.seed);
    let (a_buf, b_buf) = if w.dtype == Dtype::F16 {
        let (ha, hb) = (round_to_f16(&mut a), round_to_f16(&mut b));
        (
            storage(ctx, "A", bytemuck::cast_slice(&ha)),
            storage(ctx, "B", bytemuck::cast_slice(&hb)),
        )
    } else {
        (
            storage(ctx, "A", bytemuck::cast_slice(&a)),
            storage(ctx, "B", bytemuck::cast_slice(&b)),
        )
    };
    let prepared = matmul_bindings(ctx, spec, checks, &a_buf, &b_buf);
    Ok((prepared, float_checker(&a, &b, &w, spec.seed)?))
}
