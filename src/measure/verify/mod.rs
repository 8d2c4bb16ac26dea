//! Output checks for matmul cases. A full f64 reference product costs 2·M·N·K host operations:
//! at 8192³ tens of seconds on a 16-core host, while a data-centre GPU computes the product in
//! tens of milliseconds. So small shapes keep the full check, and larger ones get checks that
//! cost O(n²) and still reject every fault a full check rejects in practice:
//!
//! - **Freivalds' check**: for seeded random vectors x, compare w = C·x (from the output)
//!   with z = A·(B·x) (from the inputs, in f64). For ±1 entries E‖(Ĉ−C)x‖² = ‖Ĉ−C‖²_F and
//!   E‖Cx‖² = ‖C‖²_F, so ‖w−z‖/‖z‖ estimates the relative Frobenius error of the full check,
//!   and is held to the same tolerance. Each component of w−z is also held to an element
//!   tolerance: one wrong element shifts one component by its whole error.
//! - **Sampled rows and columns**: whole rows and columns recomputed exactly, every element
//!   held to the element tolerance, for faults too small to move a projection.
//! - **A NaN/Inf scan** of the whole output: a poisoned buffer never passes.
//!
//! Integer products are checked exactly: x ∈ {0,1}ⁿ and i64 sums, so each vector misses a
//! wrong output with probability at most 1/2. Vectors, rows and columns are drawn from the
//! case seed and recorded, so a check can be repeated from the result file. All host work is
//! split over the machine's cores.

mod draw;
mod float;
mod integer;
mod linalg;
#[cfg(test)]
mod tests;

pub use float::FloatReference;
pub use integer::IntReference;

/// The shape of a product C[m×n] = A[m×k] · B[k×n], all row-major.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatmulShape {
    /// Rows of A and C.
    pub m: usize,
    /// Columns of B and C.
    pub n: usize,
    /// Columns of A, rows of B.
    pub k: usize,
}

impl MatmulShape {
    /// Multiply-adds of the full product (M·N·K), which decides the method.
    pub fn macs(&self) -> u64 {
        self.m as u64 * self.n as u64 * self.k as u64
    }

    /// Elements of C.
    pub fn outputs(&self) -> usize {
        self.m * self.n
    }
}

/// Products of at most this many multiply-adds get the full O(n³) check (about 645³): it
/// takes well under a second on two cores, and checks every element.
pub const FULL_CHECK_MAX_MACS: u64 = 1 << 28;

/// Random vectors per float check: a few concentrate the Frobenius estimate.
pub const FLOAT_VECTORS: usize = 8;

/// Random {0,1} vectors per integer check: a wrong output survives with probability ≤ 2⁻¹⁶.
pub const INT_VECTORS: usize = 16;

/// Rows, and as many columns, recomputed exactly by a sampled check.
pub const SAMPLED_LINES: usize = 16;

/// The element tolerance as a multiple of the dtype's relative (Frobenius) tolerance. Rounding
/// in a correct f32 or f16-input kernel moves one element by far less than its tolerance
/// times the root mean square of the output; a wrong element moves it by about that RMS.
pub const ELEMENT_FACTOR: f64 = 16.0;

/// Whether a product of `shape` gets the O(n²) check instead of the full one.
pub fn uses_sampled_check(shape: MatmulShape) -> bool {
    shape.macs() > FULL_CHECK_MAX_MACS
}

/// Host multiply-adds the check of a product of `shape` costs: M·N·K for a full check; for
/// the O(n²) check one pass over B, A and C per vector plus one pass over B per sampled row
/// and over A per sampled column. `integer` checks use [`INT_VECTORS`] vectors.
pub fn host_macs(shape: MatmulShape, integer: bool) -> f64 {
    if !uses_sampled_check(shape) {
        return shape.macs() as f64;
    }
    let t = if integer { INT_VECTORS } else { FLOAT_VECTORS } as f64;
    let lines = SAMPLED_LINES as f64;
    let (m, n, k) = (shape.m as f64, shape.n as f64, shape.k as f64);
    t * (k * n + m * k + m * n) + lines * (k * n + m * k)
}

/// Multiply-adds per second of the O(n²) check on this host, timed on a 512³ f32 product
/// (a few milliseconds): what a plan charges each large case's verification at.
pub fn measure_check_rate() -> f64 {
    let shape = MatmulShape {
        m: 512,
        n: 512,
        k: 512,
    };
    let (a, b) = crate::workload::matmul_inputs(512, 512, 512, 1);
    let output = vec![0.0f32; shape.outputs()];
    let start = std::time::Instant::now();
    let seconds = FloatReference::sampled(&a, &b, shape, 1e-4, 1)
        .map(|reference| std::hint::black_box(reference.check(&output)))
        .map_or(1.0, |_| start.elapsed().as_secs_f64().max(1e-6));
    let t = FLOAT_VECTORS as f64;
    let lines = SAMPLED_LINES as f64;
    let (m, n, k) = (512.0f64, 512.0f64, 512.0f64);
    (t * (k * n + m * k + m * n) + lines * (k * n + m * k)) / seconds
}
