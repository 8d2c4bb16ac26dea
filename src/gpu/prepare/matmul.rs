//! Matmuls with both inputs in storage buffers, f32 or f16 (rounded on the host): the naive,
//! register-blocked, workgroup-tiled and cooperative-matrix families.

use super::{matmul_bindings, verify, Checker, Prepared};
use crate::error::Result;
use crate::gpu::buffers::storage;
use crate::gpu::context::GpuContext;
use crate::kernels::round_to_f16;
use crate::measure::backend::CaseSpec;
use crate::workload::{matmul_inputs, matmul_reference, Dtype};

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
    let check: Checker = Box::new(move |bytes: &[u8]| {
        let got: Vec<f32> = bytemuck::pod_collect_to_vec(bytes);
        let want = matmul_reference(&a, &b, w.m as usize, w.n as usize, w.k as usize);
        verify(&got, &want, &w)
    });
    Ok((prepared, check))
}
