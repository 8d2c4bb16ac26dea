//! The int8 packed-dot-product matmul: i8 inputs packed four to a u32 on the host, i32 output
//! checked exactly (every element for small shapes, Freivalds on {0,1} vectors above the
//! threshold; see [`crate::measure::verify`]).

use super::{matmul_bindings, shape_of, Checker, Prepared};
use crate::error::Result;
use crate::gpu::buffers::storage;
use crate::gpu::context::GpuContext;
use crate::kernels::{pack_a_int8, pack_b_int8};
use crate::measure::backend::CaseSpec;
use crate::measure::verify::IntReference;
use crate::workload::int8_inputs;

/// Inputs, packed buffers, pipeline and exact check of an int8 matmul.
pub(super) fn prepare(
    ctx: &GpuContext,
    spec: &CaseSpec,
    checks: bool,
) -> Result<(Prepared, Checker)> {
    let w = spec.workload;
    let (k, n) = (w.k as usize, w.n as usize);
    let (a, b) = int8_inputs(w.m, w.n, w.k, spec.seed);
    let a_buf = storage(ctx, "A", bytemuck::cast_slice(&pack_a_int8(&a, k)));
    let b_buf = storage(ctx, "B", bytemuck::cast_slice(&pack_b_int8(&b, k, n)));
    let prepared = matmul_bindings(ctx, spec, checks, &a_buf, &b_buf);
    let reference = IntReference::new(&a, &b, shape_of(&w), spec.seed)?;
    let check: Checker = Box::new(move |bytes: &[u8]| {
        let got: Vec<i32> = bytemuck::pod_collect_to_vec(bytes);
        reference.check(&got)
    });
    Ok((prepared, check))
}
