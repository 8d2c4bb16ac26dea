//! The int8 packed-dot-product matmul: i8 inputs packed four to a u32 on the host, i32 output
//! checked for exact equality with an integer CPU reference.

use super::{matmul_bindings, Checker, Prepared};
use crate::error::Result;
use crate::gpu::buffers::storage;
use crate::gpu::context::GpuContext;
use crate::kernels::{pack_a_int8, pack_b_int8};
use crate::measure::backend::CaseSpec;
use crate::results::Verification;
use crate::workload::{int8_inputs, int8_reference, Workload};

/// Inputs, packed buffers, pipeline and exact check of an int8 matmul.
pub(super) fn prepare(
    ctx: &GpuContext,
    spec: &CaseSpec,
    checks: bool,
) -> Result<(Prepared, Checker)> {
    let w = spec.workload;
    let (m, n, k) = (w.m as usize, w.n as usize, w.k as usize);
    let (a, b) = int8_inputs(w.m, w.n, w.k, spec.seed);
    let a_buf = storage(ctx, "A", bytemuck::cast_slice(&pack_a_int8(&a, k)));
    let b_buf = storage(ctx, "B", bytemuck::cast_slice(&pack_b_int8(&b, k, n)));
    let prepared = matmul_bindings(ctx, spec, checks, &a_buf, &b_buf);
    let check: Checker = Box::new(move |bytes: &[u8]| {
        let got: Vec<i32> = bytemuck::pod_collect_to_vec(bytes);
        exact_check(&got, &int8_reference(&a, &b, m, n, k), &w)
    });
    Ok((prepared, check))
}

/// Integer outputs must equal the reference: the error reported is the relative Frobenius
/// error of the differences (0 exactly when every element matches), the tolerance 0.
fn exact_check(got: &[i32], want: &[i32], w: &Workload) -> Verification {
    let rel_error = if got.len() != want.len() {
        f64::NAN
    } else {
        let (mut diff, mut norm) = (0.0f64, 0.0f64);
        for (g, r) in got.iter().zip(want) {
            let d = f64::from(*g) - f64::from(*r);
            diff += d * d;
            norm += f64::from(*r) * f64::from(*r);
        }
        match (diff == 0.0, norm == 0.0) {
            (true, _) => 0.0,
            (false, true) => f64::INFINITY,
            (false, false) => (diff / norm).sqrt(),
        }
    };
    Verification {
        rel_error,
        tolerance: 0.0,
        reference: "cpu_i32_exact".to_string(),
        checked_elements: want.len() as u64,
        total_elements: w.m * w.n,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::Dtype;

    #[test]
    fn one_wrong_element_fails_the_exact_check() {
        let w = Workload::matmul(Dtype::I8, 2, 2, 16);
        let want = vec![5, -3, 0, 7];
        assert_eq!(exact_check(&want, &want, &w).rel_error, 0.0);
        let mut got = want.clone();
        got[2] = 1;
        let v = exact_check(&got, &want, &w);
        assert!(v.rel_error > v.tolerance);
        assert!(exact_check(&got[..3], &want, &w).rel_error.is_nan());
    }
}
