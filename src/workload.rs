//! What a case computes: the operation, its element type and shape, how much work that is, and
//! the CPU reference its output is checked against. Work is counted from the shape alone, never
//! from what a kernel happens to do, so two kernels for one workload are compared fairly.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The operation a case performs.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// C[m×n] = A[m×k] · B[k×n].
    Matmul,
    /// `m` invocations each doing `k` fused multiply-adds: the ALU ceiling.
    PeakFma,
    /// Copy of `m` elements: the bandwidth ceiling (read + write).
    Copy,
    /// a = b + s·c over `m` elements (two reads, one write).
    Triad,
}

/// Element type of the inputs. Accumulation is always at least f32.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Dtype {
    /// 32-bit IEEE float.
    F32,
    /// 16-bit IEEE float (inputs), accumulated in f32.
    F16,
    /// 8-bit signed integer (inputs), accumulated exactly in i32.
    I8,
}

impl Dtype {
    /// Bytes per element.
    pub fn size(self) -> u64 {
        match self {
            Dtype::F32 => 4,
            Dtype::F16 => 2,
            Dtype::I8 => 1,
        }
    }

    /// The largest relative Frobenius error a correct kernel of this type may show (none for
    /// integers: their result is exact).
    pub fn tolerance(self) -> f64 {
        match self {
            Dtype::F32 => 1e-4,
            Dtype::F16 => 1e-2,
            Dtype::I8 => 0.0,
        }
    }
}

impl fmt::Display for Dtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Dtype::F32 => "f32",
            Dtype::F16 => "f16",
            Dtype::I8 => "i8",
        })
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Op::Matmul => "matmul",
            Op::PeakFma => "peak_fma",
            Op::Copy => "copy",
            Op::Triad => "triad",
        })
    }
}

/// One workload: operation, element type and shape. For element-wise operations `m` is the
/// element count and `n = k = 1`; for `PeakFma` `m` is the invocation count and `k` the FMAs per
/// invocation.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    /// The operation.
    pub op: Op,
    /// Element type of the inputs.
    pub dtype: Dtype,
    /// Rows of A and C (or element / invocation count).
    pub m: u64,
    /// Columns of B and C.
    pub n: u64,
    /// Inner dimension (or FMAs per invocation).
    pub k: u64,
}

impl Workload {
    /// A matrix multiply of the given shape.
    pub fn matmul(dtype: Dtype, m: u64, n: u64, k: u64) -> Self {
        Workload {
            op: Op::Matmul,
            dtype,
            m,
            n,
            k,
        }
    }

    /// A copy or triad over `elements` f32 values per array (`n` and `k` are 1).
    pub fn stream(op: Op, elements: u64) -> Self {
        Workload {
            op,
            dtype: Dtype::F32,
            m: elements,
            n: 1,
            k: 1,
        }
    }

    /// Arithmetic operations the workload performs (an FMA or integer multiply-accumulate counts
    /// as two); for i8 these are integer operations, not floating-point ones.
    pub fn flops(&self) -> f64 {
        let (m, n, k) = (self.m as f64, self.n as f64, self.k as f64);
        match self.op {
            Op::Matmul => 2.0 * m * n * k,
            Op::PeakFma => 2.0 * m * k,
            Op::Copy => 0.0,
            Op::Triad => 2.0 * m,
        }
    }

    /// Bytes that must cross memory at least once: every input read and every output written.
    pub fn bytes(&self) -> f64 {
        let s = self.dtype.size() as f64;
        let (m, n, k) = (self.m as f64, self.n as f64, self.k as f64);
        match self.op {
            Op::Matmul => s * (m * k + k * n) + 4.0 * m * n,
            Op::PeakFma => 4.0 * m,
            Op::Copy => 2.0 * s * m,
            Op::Triad => 3.0 * s * m,
        }
    }

    /// Arithmetic intensity in FLOP per byte (the roofline's x axis).
    pub fn intensity(&self) -> f64 {
        self.flops() / self.bytes()
    }

    /// A stable key that names the workload across machines, e.g. `matmul/f32/1024x1024x1024`.
    pub fn key(&self) -> String {
        format!(
            "{}/{}/{}x{}x{}",
            self.op, self.dtype, self.m, self.n, self.k
        )
    }
}

/// Seeded stream inputs (copy, triad), cheap to make for hundreds of MiB: a multiplicative
/// hash scaled into [0, 1) with 24 significant bits, so every value is exact in f32. The WGSL
/// kernels and the host bandwidth reference read the same values.
pub fn stream_values(len: u64, seed: u64) -> Vec<f32> {
    (0..len)
        .map(|i| {
            let h = (i ^ seed).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            (h >> 40) as f32 / (1u64 << 24) as f32
        })
        .collect()
}

/// Triad's scale factor: out = b + TRIAD_SCALE·c.
pub const TRIAD_SCALE: f32 = 3.0;

/// Seeded inputs for a matmul: A is m×k and B is k×n, row-major, uniform in [-1, 1).
pub fn matmul_inputs(m: u64, n: u64, k: u64, seed: u64) -> (Vec<f32>, Vec<f32>) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut fill =
        |len: u64| -> Vec<f32> { (0..len).map(|_| rng.random_range(-1.0f32..1.0)).collect() };
    let a = fill(m * k);
    let b = fill(k * n);
    (a, b)
}

/// Seeded i8 inputs for a matmul: A is m×k and B is k×n, row-major, uniform over all 256
/// values, so every sign and the extremes -128 and 127 occur.
pub fn int8_inputs(m: u64, n: u64, k: u64, seed: u64) -> (Vec<i8>, Vec<i8>) {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut fill = |len: u64| -> Vec<i8> { (0..len).map(|_| rng.random::<i8>()).collect() };
    let a = fill(m * k);
    let b = fill(k * n);
    (a, b)
}

/// C = A·B exactly in i32 (no overflow below k = 2^17: |a·b| ≤ 2^14), row-major, split over
/// the machine's cores.
pub fn int8_reference(a: &[i8], b: &[i8], m: usize, n: usize, k: usize) -> Vec<i32> {
    let mut c = vec![0i32; m * n];
    if m == 0 || n == 0 {
        return c;
    }
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    let rows_per_chunk = m.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (chunk_index, chunk) in c.chunks_mut(rows_per_chunk * n).enumerate() {
            let first = chunk_index * rows_per_chunk;
            scope.spawn(move || {
                for (local, row) in chunk.chunks_mut(n).enumerate() {
                    let i = first + local;
                    for p in 0..k {
                        let av = i32::from(a[i * k + p]);
                        for (acc, bv) in row.iter_mut().zip(&b[p * n..(p + 1) * n]) {
                            *acc += av * i32::from(*bv);
                        }
                    }
                }
            });
        }
    });
    c
}

/// C = A·B in f64, row-major, split over the machine's cores. The i-k-j loop order streams rows
/// of B so the inner loop vectorises.
pub fn matmul_reference(a: &[f32], b: &[f32], m: usize, n: usize, k: usize) -> Vec<f64> {
    let mut c = vec![0.0f64; m * n];
    if m == 0 || n == 0 {
        return c;
    }
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    let rows_per_chunk = m.div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        for (chunk_index, chunk) in c.chunks_mut(rows_per_chunk * n).enumerate() {
            let first_row = chunk_index * rows_per_chunk;
            scope.spawn(move || reference_rows(a, b, chunk, first_row, n, k));
        }
    });
    c
}

fn reference_rows(a: &[f32], b: &[f32], out: &mut [f64], first_row: usize, n: usize, k: usize) {
    let mut b_row = vec![0.0f64; n];
    for (local, c_row) in out.chunks_mut(n).enumerate() {
        let i = first_row + local;
        for p in 0..k {
            let a_ip = a[i * k + p] as f64;
            for (dst, src) in b_row.iter_mut().zip(&b[p * n..(p + 1) * n]) {
                *dst = *src as f64;
            }
            for (acc, bv) in c_row.iter_mut().zip(&b_row) {
                *acc += a_ip * bv;
            }
        }
    }
}

/// ‖got − want‖_F / ‖want‖_F. NaN anywhere (a poisoned, unwritten output) gives NaN, which every
/// tolerance check rejects.
pub fn relative_frobenius_error(got: &[f32], want: &[f64]) -> f64 {
    if got.len() != want.len() {
        return f64::NAN;
    }
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (g, w) in got.iter().zip(want) {
        let d = *g as f64 - w;
        diff += d * d;
        norm += w * w;
    }
    if norm == 0.0 {
        return if diff == 0.0 { 0.0 } else { f64::INFINITY };
    }
    (diff / norm).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_work_from_the_shape() {
        let w = Workload::matmul(Dtype::F32, 2, 3, 4);
        assert_eq!(w.flops(), 48.0);
        assert_eq!(w.bytes(), 4.0 * (8.0 + 12.0 + 6.0));
        assert_eq!(w.key(), "matmul/f32/2x3x4");
        let copy = Workload::stream(Op::Copy, 1000);
        assert_eq!(copy.bytes(), 8000.0);
        assert_eq!(copy.flops(), 0.0);
        let peak = Workload {
            op: Op::PeakFma,
            dtype: Dtype::F16,
            m: 10,
            n: 1,
            k: 100,
        };
        assert_eq!(peak.flops(), 2000.0);
    }

    #[test]
    fn reference_matches_a_hand_computed_product() {
        // [1 2; 3 4] · [5 6; 7 8] = [19 22; 43 50]
        let c = matmul_reference(&[1.0, 2.0, 3.0, 4.0], &[5.0, 6.0, 7.0, 8.0], 2, 2, 2);
        assert_eq!(c, vec![19.0, 22.0, 43.0, 50.0]);
        // non-square: 1x3 · 3x2
        let c = matmul_reference(&[1.0, 2.0, 3.0], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], 1, 2, 3);
        assert_eq!(c, vec![4.0, 5.0]);
    }

    #[test]
    fn reference_is_the_same_split_over_threads() {
        let (a, b) = matmul_inputs(37, 29, 41, 7);
        let c = matmul_reference(&a, &b, 37, 29, 41);
        let mut naive = vec![0.0f64; 37 * 29];
        for i in 0..37 {
            for j in 0..29 {
                naive[i * 29 + j] = (0..41)
                    .map(|p| a[i * 41 + p] as f64 * b[p * 29 + j] as f64)
                    .sum();
            }
        }
        let err: f64 = c
            .iter()
            .zip(&naive)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f64::max);
        assert!(err < 1e-12);
    }

    #[test]
    fn inputs_are_seeded() {
        assert_eq!(matmul_inputs(4, 4, 4, 1), matmul_inputs(4, 4, 4, 1));
        assert_ne!(matmul_inputs(4, 4, 4, 1), matmul_inputs(4, 4, 4, 2));
    }

    #[test]
    fn frobenius_error_flags_poison_and_mismatch() {
        assert_eq!(relative_frobenius_error(&[1.0, 2.0], &[1.0, 2.0]), 0.0);
        assert!(relative_frobenius_error(&[f32::NAN, 2.0], &[1.0, 2.0]).is_nan());
        let e = relative_frobenius_error(&[3.0, 4.0], &[3.0, 0.0]);
        assert!((e - 4.0 / 3.0).abs() < 1e-12);
        assert!(relative_frobenius_error(&[1.0], &[1.0, 2.0]).is_nan());
    }
}
