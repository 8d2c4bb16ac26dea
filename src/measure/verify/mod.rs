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
//! Integer products are checked exactly: vectors with entries uniform in 0..2¹⁶ and i64 sums,
//! so each vector misses a wrong output with probability at most 2⁻¹⁶ (three vectors: 2⁻⁴⁸).
//! Vectors, rows and columns are drawn from the case seed and recorded, so a check can be
//! repeated from the result file. All host work is split over the machine's cores, and each
//! pass reads a matrix once for all vectors or lines (matrix × small block, in registers).
//!
//! **What the sampled rows and columns are for, and so how many.** Freivalds' projections
//! see every fault that moves the output's norm by more than the tolerance, and any single
//! element (or 16×16 tile) whose error is large next to 16·tolerance·‖row‖. A fault too small
//! for both is one confined to a few whole columns or rows (an edge tile's last column, a
//! wrong row of workgroups): every sampled row crosses every wrong column, and every sampled
//! column every wrong row, so one line of each already catches it at the element tolerance;
//! [`FLOAT_LINES`] of each catch such a fault present in only half the rows (columns) with
//! probability 1 − 2⁻⁸. A fault spread over a fraction f of the rows with errors of δ times
//! the output's root mean square moves the norm by δ·√f, so the projections catch it unless
//! δ·√f is under the tolerance, while lines catch only δ above 16 times it: lines matter only
//! for f < 1/256, and hit such a fault with probability about `lines`·f, a few percent for
//! any affordable count; more of them would buy little. Integer checks
//! are exact, so the projections alone reject any wrong output; [`INT_LINES`] of each stay as
//! an exact recomputation independent of the projections' reference path.

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

/// Random ±1 vectors per float check: a few concentrate the Frobenius estimate.
pub const FLOAT_VECTORS: usize = 8;

/// Rows, and as many columns, recomputed exactly by a float check (see the module notes).
pub const FLOAT_LINES: usize = 8;

/// Random vectors per integer check, entries uniform in 0..[`INT_RANGE`]: a wrong output
/// survives all of them with probability at most 2⁻⁴⁸.
pub const INT_VECTORS: usize = 3;

/// Entries of the integer check's vectors lie in 0..`INT_RANGE`.
pub const INT_RANGE: u64 = 1 << 16;

/// Rows, and as many columns, recomputed exactly by an integer check (see the module notes).
pub const INT_LINES: usize = 4;

/// The element tolerance as a multiple of the dtype's relative (Frobenius) tolerance. Rounding
/// in a correct f32 or f16-input kernel moves one element by far less than its tolerance
/// times the root mean square of the output; a wrong element moves it by about that RMS.
pub const ELEMENT_FACTOR: f64 = 16.0;

/// Whether a product of `shape` gets the O(n²) check instead of the full one.
pub fn uses_sampled_check(shape: MatmulShape) -> bool {
    shape.macs() > FULL_CHECK_MAX_MACS
}

/// Host multiply-adds the check of a product of `shape` costs: M·N·K for a full check; for
/// the O(n²) check one pass over B, A and C with every vector's lane, plus one pass over B
/// with every sampled row's lane and over A with every sampled column's. `integer` checks use
/// [`INT_VECTORS`] and [`INT_LINES`].
pub fn host_macs(shape: MatmulShape, integer: bool) -> f64 {
    if !uses_sampled_check(shape) {
        return shape.macs() as f64;
    }
    let (t, lines) = if integer {
        (INT_VECTORS, INT_LINES)
    } else {
        (FLOAT_VECTORS, FLOAT_LINES)
    };
    sampled_macs(shape, t as f64, lines as f64)
}

fn sampled_macs(shape: MatmulShape, vectors: f64, lines: f64) -> f64 {
    let (m, n, k) = (shape.m as f64, shape.n as f64, shape.k as f64);
    vectors * (k * n + m * k + m * n) + lines * (k * n + m * k)
}

/// Multiply-adds per second of the O(n²) checks on this host, float and integer (their
/// arithmetic differs: f64 lanes against i64), each timed on a 512³ product (a few
/// milliseconds): what a plan charges each large case's verification at.
pub fn measure_check_rates() -> CheckRates {
    let shape = MatmulShape {
        m: 512,
        n: 512,
        k: 512,
    };
    let (a, b) = crate::workload::matmul_inputs(512, 512, 512, 1);
    let start = std::time::Instant::now();
    let float = FloatReference::sampled(&a, &b, shape, 1e-4, 1)
        .map(|r| std::hint::black_box(r.check(&vec![0.0f32; shape.outputs()])));
    let float_s = float.map_or(1.0, |_| start.elapsed().as_secs_f64().max(1e-6));
    let (a, b) = crate::workload::int8_inputs(512, 512, 512, 1);
    let start = std::time::Instant::now();
    let int = IntReference::sampled(&a, &b, shape, 1)
        .map(|r| std::hint::black_box(r.check(&vec![0i32; shape.outputs()])));
    let int_s = int.map_or(1.0, |_| start.elapsed().as_secs_f64().max(1e-6));
    CheckRates {
        float_macs_per_s: host_macs(shape, false) / float_s,
        int_macs_per_s: sampled_macs(shape, INT_VECTORS as f64, INT_LINES as f64) / int_s,
    }
}

/// Measured speeds of the O(n²) checks, in the multiply-adds [`host_macs`] counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckRates {
    /// Float checks (f64 lanes).
    pub float_macs_per_s: f64,
    /// Exact integer checks (i64 lanes).
    pub int_macs_per_s: f64,
}
