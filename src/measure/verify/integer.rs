//! The exact check of an integer matmul's output (i8 inputs, i32 outputs): every element for
//! small shapes; above the threshold, Freivalds' check on vectors with entries uniform in
//! 0..R, R = [`INT_RANGE`] (each vector misses a wrong output with probability at most 1/R),
//! and exact sampled rows and columns. Integer outputs have no NaN; any difference fails.
//!
//! **Exact in f64.** |a|, |b| ≤ 2⁷, so a correct output has |c| ≤ 2¹⁴·k, and every sum of the
//! check — (B·x)ᵢ, (A·B·x)ᵢ and (C·x)ᵢ, and every partial sum on the way — is an integer at
//! most 2¹⁴·k·n·(R−1) in magnitude once every output element is inside that bound (one
//! outside it fails the check, and its rows are left out of the sums). With R = 2⁸ that is
//! below 2⁵³ while k·n ≤ 2³¹, so f64 lanes hold every sum exactly: fused multiply-adds of
//! integers that small round nothing. k·n ≤ 2³¹ is B's 2 GiB, the most a storage binding
//! holds, so no B an adapter can bind comes near it; larger shapes are refused. f64 rather
//! than i64 because x86 vector units multiply f64 lanes in one instruction and i64 lanes only
//! in several (AVX2 has no 64-bit multiply), which made i8 checks the slowest of all. Sampled
//! rows and columns are sums of k products, |·| ≤ 2¹⁴·k; k < 2¹⁷ keeps every correct output
//! inside the i32 the kernel writes, so larger k is refused too.

use super::float::check_lengths;
use super::linalg::{element_errors, sampled_products, times_dense_scanned, worst};
use super::{draw, uses_sampled_check, MatmulShape, INT_LANES, INT_LINES, INT_RANGE, INT_VECTORS};
use crate::error::{Error, Result};
use crate::results::{Verification, VerifyMethod};
use crate::workload::int8_reference;
use std::cell::Cell;
use std::time::Instant;

/// What an integer output is checked against, built once from the inputs.
pub struct IntReference {
    shape: MatmulShape,
    kind: Kind,
    /// Host seconds the build took, billed to the first check.
    unbilled_build_s: Cell<f64>,
}

enum Kind {
    Full(Vec<i32>),
    Sampled(Sampled),
}

struct Sampled {
    seed: u64,
    /// Largest |c| a correct output can hold: 2¹⁴·k.
    bound: i64,
    /// Vectors with integer entries in 0..[`INT_RANGE`]: n entries of one value per vector.
    x: Vec<[f64; INT_VECTORS]>,
    /// A·(B·x), exact: m entries.
    z: Vec<[f64; INT_VECTORS]>,
    rows: Vec<usize>,
    /// Sampled rows of A·B: n entries of one value per sampled row.
    row_values: Vec<[f64; INT_LINES]>,
    columns: Vec<usize>,
    /// Sampled columns of A·B: m entries of one value per sampled column.
    column_values: Vec<[f64; INT_LINES]>,
}

/// Refuses shapes whose check would leave f64's exact integers (k·n > 2³¹) or whose correct
/// outputs could leave the kernel's i32 (k ≥ 2¹⁷); see the module notes.
fn check_headroom(shape: MatmulShape) -> Result<()> {
    // 2¹⁴·k·n·(R−1) < 2⁵³ with R = 2⁸ while k·n ≤ 2³¹.
    const _: () = assert!(INT_RANGE <= 1 << 8);
    let (n, k) = (shape.n as u128, shape.k as u128);
    if k * n > 1 << 31 || k >= 1 << 17 {
        return Err(Error::Config(format!(
            "verification: a {}x{}x{} i8 product is beyond the exact check's integer headroom \
             (k·n ≤ 2^31 and k < 2^17)",
            shape.m, shape.n, shape.k
        )));
    }
    Ok(())
}

impl IntReference {
    /// The reference for C = A·B: the full product for small shapes, the O(n²) one above.
    pub fn new(a: &[i8], b: &[i8], shape: MatmulShape, seed: u64) -> Result<Self> {
        if uses_sampled_check(shape) {
            Self::sampled(a, b, shape, seed)
        } else {
            Self::full(a, b, shape)
        }
    }

    /// The full i32 product, whatever the size.
    pub fn full(a: &[i8], b: &[i8], shape: MatmulShape) -> Result<Self> {
        check_lengths(a.len(), b.len(), shape)?;
        let start = Instant::now();
        let want = int8_reference(a, b, shape.m, shape.n, shape.k);
        Ok(Self::built(shape, Kind::Full(want), start))
    }

    /// The O(n²) reference, whatever the size.
    pub fn sampled(a: &[i8], b: &[i8], shape: MatmulShape, seed: u64) -> Result<Self> {
        check_headroom(shape)?;
        check_lengths(a.len(), b.len(), shape)?;
        let start = Instant::now();
        let sampled = Sampled::build(a, b, shape, seed);
        Ok(Self::built(shape, Kind::Sampled(sampled), start))
    }

    fn built(shape: MatmulShape, kind: Kind, start: Instant) -> Self {
        IntReference {
            shape,
            kind,
            unbilled_build_s: Cell::new(start.elapsed().as_secs_f64()),
        }
    }

    /// Checks an output (row-major m × n): every compared value must be equal.
    pub fn check(&self, got: &[i32]) -> Verification {
        let start = Instant::now();
        let total = self.shape.outputs();
        let mut v = Verification {
            rel_error: f64::NAN,
            tolerance: 0.0,
            reference: "cpu_exact_integer".to_string(),
            total_elements: total as u64,
            element_tolerance: Some(0.0),
            ..Verification::default()
        };
        if got.len() == total {
            match &self.kind {
                Kind::Full(want) => full_errors(got, want, &mut v),
                Kind::Sampled(s) => s.errors(got, self.shape, &mut v),
            }
        }
        let build_s = self.unbilled_build_s.replace(0.0);
        v.host_s = Some(build_s + start.elapsed().as_secs_f64());
        v
    }
}

fn full_errors(got: &[i32], want: &[i32], v: &mut Verification) {
    let pairs = got
        .iter()
        .zip(want)
        .map(|(g, w)| (f64::from(*g), f64::from(*w)));
    let (rel, element) = element_errors(pairs);
    v.method = VerifyMethod::Full;
    v.rel_error = rel;
    v.element_error = Some(element);
    v.checked_elements = want.len() as u64;
}

impl Sampled {
    fn build(a: &[i8], b: &[i8], shape: MatmulShape, seed: u64) -> Self {
        let mut rng = draw::check_rng(seed);
        let x = draw::range_vectors::<INT_VECTORS>(&mut rng, shape.n, INT_RANGE);
        let rows = draw::lines(&mut rng, shape.m, INT_LINES);
        let columns = draw::lines(&mut rng, shape.n, INT_LINES);
        let formed = sampled_products::<_, f64, INT_VECTORS, INT_LINES, INT_LANES>(
            a, b, shape, &x, &rows, &columns,
        );
        Sampled {
            seed,
            bound: (1i64 << 14) * shape.k as i64,
            x,
            z: formed.z,
            rows,
            row_values: formed.row_values,
            columns,
            column_values: formed.column_values,
        }
    }

    fn errors(&self, got: &[i32], shape: MatmulShape, v: &mut Verification) {
        v.method = VerifyMethod::Freivalds;
        v.vectors = INT_VECTORS as u64;
        v.vector_range = Some(INT_RANGE);
        v.check_seed = Some(self.seed);
        v.rows_checked = self.rows.iter().map(|&i| i as u64).collect();
        v.columns_checked = self.columns.iter().map(|&j| j as u64).collect();
        let (r, c, n) = (self.rows.len(), self.columns.len(), shape.n);
        v.checked_elements = (r * n + c * shape.m - r * c) as u64;
        // A value no correct output can hold fails the check, and its block of rows is left
        // out of the projections, whose sums it could carry past f64's exact integers (one
        // pass does both).
        let bound = self.bound;
        let out_of_range = |values: &[i32]| {
            values
                .iter()
                .filter(|c| i64::from(**c).abs() > bound)
                .count() as u64
        };
        let (w, beyond) = times_dense_scanned(got, n, &self.x, &out_of_range, true);
        let projected = if beyond > 0 {
            f64::INFINITY
        } else {
            exact_projection_error(&w, &self.z)
        };
        let (sampled, element) = element_errors(self.sampled_pairs(got, n));
        v.rel_error = worst(projected, sampled);
        v.element_error = Some(if beyond > 0 { f64::INFINITY } else { element });
    }

    /// (got, want) for every element of the sampled rows and columns.
    fn sampled_pairs<'a>(
        &'a self,
        got: &'a [i32],
        n: usize,
    ) -> impl Iterator<Item = (f64, f64)> + 'a {
        let rows = self.rows.iter().enumerate().flat_map(move |(s, &i)| {
            (0..n).map(move |j| (f64::from(got[i * n + j]), self.row_values[j][s]))
        });
        let columns = self.column_values.iter().enumerate();
        let columns = columns.flat_map(move |(i, want)| {
            self.columns
                .iter()
                .zip(want)
                .map(move |(&j, w)| (f64::from(got[i * n + j]), *w))
        });
        rows.chain(columns)
    }
}

/// ‖w − z‖ / ‖z‖ over every vector. Both hold exact integers (see the module notes), so a
/// difference is exact; any nonzero one fails the zero tolerance.
fn exact_projection_error<const T: usize>(w: &[[f64; T]], z: &[[f64; T]]) -> f64 {
    let (mut diff, mut norm) = (0.0f64, 0.0f64);
    for (wr, zr) in w.iter().zip(z) {
        for v in 0..T {
            diff += (wr[v] - zr[v]).powi(2);
            norm += zr[v].powi(2);
        }
    }
    super::linalg::relative(diff, norm)
}
