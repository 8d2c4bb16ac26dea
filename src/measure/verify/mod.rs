//! Output checks for matmul cases. A full f64 reference product costs 2·M·N·K host operations:
//! at 8192³ tens of seconds on a 16-core host, while a data-centre GPU computes the product in
//! tens of milliseconds. So small shapes keep the full check, and larger ones get checks that
//! cost O(n²) and still reject every fault a full check rejects in practice:
//!
//! - **Freivalds' check**: for seeded random vectors x, compare w = C·x (from the output)
//!   with z = A·(B·x) (from the inputs, in f64). For x with independent zero-mean entries of
//!   one variance σ², E‖(Ĉ−C)x‖² = σ²‖Ĉ−C‖²_F and E‖Cx‖² = σ²‖C‖²_F, so ‖w−z‖/‖z‖ estimates
//!   the relative Frobenius error of the full check, and is held to the same tolerance. Each
//!   component of w−z is also held to an element tolerance: one wrong element shifts one
//!   component by at least its whole error (every |xⱼ| ≥ 1, below).
//! - **Sampled rows and columns**: whole rows and columns recomputed exactly, every element
//!   held to the element tolerance, for faults too small to move a projection.
//! - **A NaN/Inf scan** of the whole output: a poisoned buffer never passes.
//!
//! **The vectors' entries: s·(1+u)**, a random sign s and u uniform in [0, 1) (σ² = 7/3).
//! ±1 entries would let a fault cancel exactly: two errors of opposite sign in one row vanish
//! from that row's component with probability 1/2 per vector, whatever their size. Entries
//! with a density cannot: for a fixed nonzero error row e, with the other entries fixed, e·x
//! moves linearly with xⱼ, whose density is at most 1/2, so P(|e·x| < t) ≤ t/maxⱼ|eⱼ| — an
//! error row is missed by one vector only with probability its tolerance over its largest
//! error, and by all of them only with that to the power [`FLOAT_VECTORS`]. |xⱼ| ≥ 1 keeps
//! what ±1 entries give a single wrong element.
//!
//! **Why [`FLOAT_VECTORS`] = 4.** The check is bound by host arithmetic, not memory: its cost
//! grows with the lanes of each pass (at 8192², a pass with 8 f64 lanes took 1.6 times one
//! with 1 or 2, with 16 lanes 2.8 times, on two busy cores). With exact cancellation gone,
//! more vectors only concentrate the Frobenius estimate of errors near the tolerance. The
//! worst case is an error of rank one spread over many columns: its estimate is about the
//! true error times √(χ²ₜ/t) with t vectors, so an output whose error is ρ times the
//! tolerance passes with probability P(χ²₄ < 4/ρ²): about 9% at ρ = 2 (8 vectors: 2%) and
//! 2·10⁻⁴ at ρ = 10 (8 vectors: 10⁻⁷). Correct f32 kernels land 100 times below the f32
//! tolerance and a wrong kernel far above it (the planted faults below all fail); an output
//! within a factor of a few of the tolerance is a borderline one the check may pass either way.
//!
//! Integer products are checked exactly: vectors with entries uniform in 0..2⁸, every sum an
//! exact integer in f64, so each vector misses a wrong output with probability at most 2⁻⁸
//! ([`INT_VECTORS`] = 4: 2⁻³²; see the integer module). Vectors, rows and columns are drawn
//! from the case seed and recorded, so a check can be repeated from the result file.
//!
//! **Each matrix is read once per check**, on every core, for all vectors and lines together
//! (matrix × small block, accumulators in registers): B for B·x and the sampled rows, A for
//! A·(B·x) and the sampled columns, and the output C for C·x, the NaN/Inf scan (and, for
//! integers, the bound every correct value keeps). At 16384² each f32 matrix is 1 GiB.
//!
//! **What the sampled rows and columns are for, and so how many.** Freivalds' projections
//! see every fault that moves the output's norm by more than the tolerance, and any single
//! element (or 16×16 tile) whose error is large next to 16·tolerance·‖row‖. A fault too small
//! for both is one confined to a few whole columns or rows (an edge tile's last column, a
//! wrong row of workgroups): every sampled row crosses every wrong column, and every sampled
//! column every wrong row, so one line of each already catches it at the element tolerance;
//! [`FLOAT_LINES`] = 4 of each catch such a fault present in only half the rows (columns) with
//! probability 1 − 2⁻⁴. A fault spread over a fraction f of the rows with errors of δ times
//! the output's root mean square moves the norm by δ·√f, so the projections catch it unless
//! δ·√f is under the tolerance, while lines catch only δ above 16 times it: lines matter only
//! for f < 1/256, and hit such a fault with probability about `lines`·f, a few percent for
//! any affordable count; more of them would buy little, and each costs a lane in the passes
//! over A and B. Integer checks are exact, so the projections alone reject any wrong output;
//! [`INT_LINES`] of each stay as an exact recomputation independent of the projections'
//! reference path.

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

/// Random vectors per float check (entries s·(1+u); see the module notes for why four).
pub const FLOAT_VECTORS: usize = 4;

/// Rows, and as many columns, recomputed exactly by a float check (see the module notes).
pub const FLOAT_LINES: usize = 4;

/// Lanes of a float check's pass over A: the vectors' and the sampled columns'.
const FLOAT_LANES: usize = FLOAT_VECTORS + FLOAT_LINES;

/// Random vectors per integer check, entries uniform in 0..[`INT_RANGE`]: a wrong output
/// survives all of them with probability at most 2⁻³² (each vector 2⁻⁸: a wrong row of C
/// projects to the right value only on a hyperplane, which holds at most 1/R of the grid).
pub const INT_VECTORS: usize = 4;

/// Entries of the integer check's vectors lie in 0..`INT_RANGE`: small enough that every sum
/// of the check is an exact integer in f64 (see the integer module's notes).
pub const INT_RANGE: u64 = 1 << 8;

/// Rows, and as many columns, recomputed exactly by an integer check (see the module notes).
pub const INT_LINES: usize = 4;

/// Lanes of an integer check's pass over A: the vectors' and the sampled columns'.
const INT_LANES: usize = INT_VECTORS + INT_LINES;

/// The element tolerance as a multiple of the dtype's relative (Frobenius) tolerance. Rounding
/// in a correct f32 or f16-input kernel moves one element by far less than its tolerance
/// times the root mean square of the output; a wrong element moves it by about that RMS.
pub const ELEMENT_FACTOR: f64 = 16.0;

/// Whether a product of `shape` gets the O(n²) check instead of the full one.
pub fn uses_sampled_check(shape: MatmulShape) -> bool {
    shape.macs() > FULL_CHECK_MAX_MACS
}

/// Host multiply-adds the check of a product of `shape` costs: M·N·K for a full check; for
/// the O(n²) check every vector's lane over B, A and C, and every sampled row's lane over B
/// and column's over A (read in the same passes). `integer` checks use [`INT_VECTORS`] and
/// [`INT_LINES`].
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

/// Square side of the product [`measure_check_rates`] times the checks on. A check streams
/// its three matrices from memory at the sizes that matter (1 GiB each at 16384² f32), so the
/// rate must be timed on matrices larger than the host's caches: at 2048² the three f32
/// matrices are 48 MiB. A 512³ product (1 MiB each) was timed before; it ran in cache and in
/// about a tenth of a millisecond, dominated by starting threads, and its float rate came out
/// five to eight times what a 4096³ check reached on the same host.
const RATE_SIDE: usize = 2048;

/// Multiply-adds per second of the O(n²) checks on this host, float and integer (their inputs
/// differ: f32 against i8), each timed on a [`RATE_SIDE`]³ product, reference built and one
/// output checked: what a plan charges each large case's verification at. The inputs are a
/// cheap pattern (a check's speed does not depend on the values) and every page is written
/// before the clock starts, so neither random draws nor first-touch page faults are timed.
pub fn measure_check_rates() -> CheckRates {
    let shape = MatmulShape {
        m: RATE_SIDE,
        n: RATE_SIDE,
        k: RATE_SIDE,
    };
    let pattern = |i: usize| (i % 13) as i8 - 6;
    let inputs: Vec<i8> = (0..shape.m * shape.k).map(pattern).collect();
    let float_inputs: Vec<f32> = inputs.iter().map(|v| f32::from(*v) / 8.0).collect();
    let start = std::time::Instant::now();
    let float = FloatReference::sampled(&float_inputs, &float_inputs, shape, 1e-4, 1)
        .map(|r| std::hint::black_box(r.check(&float_inputs)));
    let float_s = float.map_or(1.0, |_| start.elapsed().as_secs_f64().max(1e-6));
    drop(float_inputs);
    let outputs: Vec<i32> = inputs.iter().map(|v| i32::from(*v)).collect();
    let start = std::time::Instant::now();
    let int = IntReference::sampled(&inputs, &inputs, shape, 1)
        .map(|r| std::hint::black_box(r.check(&outputs)));
    let int_s = int.map_or(1.0, |_| start.elapsed().as_secs_f64().max(1e-6));
    CheckRates {
        float_macs_per_s: host_macs(shape, false) / float_s,
        int_macs_per_s: host_macs(shape, true) / int_s,
    }
}

/// Measured speeds of the O(n²) checks, in the multiply-adds [`host_macs`] counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckRates {
    /// Float checks (f64 lanes).
    pub float_macs_per_s: f64,
    /// Exact integer checks (f64 lanes holding exact integers).
    pub int_macs_per_s: f64,
}
