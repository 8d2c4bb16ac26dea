//! The check of a float matmul's output: full for small shapes, O(n²) above
//! [`super::FULL_CHECK_MAX_MACS`].

use super::linalg::{
    element_errors, projection_errors, sampled_products, times_dense_scanned, worst,
};
use super::{
    draw, uses_sampled_check, MatmulShape, ELEMENT_FACTOR, FLOAT_LANES, FLOAT_LINES, FLOAT_VECTORS,
};
use crate::error::{Error, Result};
use crate::results::{Verification, VerifyMethod};
use crate::workload::{matmul_reference, relative_frobenius_error};
use std::cell::Cell;
use std::time::Instant;

/// What a float output is checked against, built once from the inputs (the expensive half of
/// a check) and then applied to outputs.
pub struct FloatReference {
    shape: MatmulShape,
    tolerance: f64,
    kind: Kind,
    /// Host seconds the build took, billed to the first check (a reference reused by several
    /// cases costs its build once).
    unbilled_build_s: Cell<f64>,
}

enum Kind {
    /// The whole product in f64.
    Full(Vec<f64>),
    /// What the O(n²) check needs.
    Sampled(Sampled),
}

/// The reference side of an O(n²) check.
struct Sampled {
    seed: u64,
    /// Projection vectors: n entries of one value per vector.
    x: Vec<[f64; FLOAT_VECTORS]>,
    /// A·(B·x): m entries.
    z: Vec<[f64; FLOAT_VECTORS]>,
    rows: Vec<usize>,
    /// The sampled rows of A·B: n entries of one value per sampled row.
    row_values: Vec<[f64; FLOAT_LINES]>,
    columns: Vec<usize>,
    /// The sampled columns of A·B: m entries of one value per sampled column.
    column_values: Vec<[f64; FLOAT_LINES]>,
}

/// Refuses inputs whose lengths do not match the shape (a caller's bug, reported, not a panic).
pub(super) fn check_lengths(a: usize, b: usize, shape: MatmulShape) -> Result<()> {
    if a != shape.m * shape.k || b != shape.k * shape.n {
        return Err(Error::Config(format!(
            "verification: inputs of {a} and {b} values do not match a {}x{}x{} product",
            shape.m, shape.n, shape.k
        )));
    }
    Ok(())
}

impl FloatReference {
    /// The reference for C = A·B: the full product for small shapes, the O(n²) reference above
    /// the threshold. `tolerance` is the relative Frobenius error allowed (the dtype's).
    pub fn new(
        a: &[f32],
        b: &[f32],
        shape: MatmulShape,
        tolerance: f64,
        seed: u64,
    ) -> Result<Self> {
        if uses_sampled_check(shape) {
            Self::sampled(a, b, shape, tolerance, seed)
        } else {
            Self::full(a, b, shape, tolerance)
        }
    }

    /// The full f64 product, whatever the size.
    pub fn full(a: &[f32], b: &[f32], shape: MatmulShape, tolerance: f64) -> Result<Self> {
        check_lengths(a.len(), b.len(), shape)?;
        let start = Instant::now();
        let want = matmul_reference(a, b, shape.m, shape.n, shape.k);
        Ok(Self::built(shape, tolerance, Kind::Full(want), start))
    }

    /// The O(n²) reference, whatever the size.
    pub fn sampled(
        a: &[f32],
        b: &[f32],
        shape: MatmulShape,
        tolerance: f64,
        seed: u64,
    ) -> Result<Self> {
        check_lengths(a.len(), b.len(), shape)?;
        let start = Instant::now();
        let mut rng = draw::check_rng(seed);
        let x = draw::signed_vectors::<FLOAT_VECTORS>(&mut rng, shape.n);
        let rows = draw::lines(&mut rng, shape.m, FLOAT_LINES);
        let columns = draw::lines(&mut rng, shape.n, FLOAT_LINES);
        let formed = sampled_products::<_, f64, FLOAT_VECTORS, FLOAT_LINES, FLOAT_LANES>(
            a, b, shape, &x, &rows, &columns,
        );
        let sampled = Sampled {
            seed,
            x,
            z: formed.z,
            rows,
            row_values: formed.row_values,
            columns,
            column_values: formed.column_values,
        };
        Ok(Self::built(shape, tolerance, Kind::Sampled(sampled), start))
    }

    fn built(shape: MatmulShape, tolerance: f64, kind: Kind, start: Instant) -> Self {
        FloatReference {
            shape,
            tolerance,
            kind,
            unbilled_build_s: Cell::new(start.elapsed().as_secs_f64()),
        }
    }

    /// Whether this reference checks in O(n²).
    pub fn is_sampled(&self) -> bool {
        matches!(self.kind, Kind::Sampled(_))
    }

    /// Checks an output (row-major m × n). A wrong length fails with a NaN error.
    pub fn check(&self, got: &[f32]) -> Verification {
        let start = Instant::now();
        let total = self.shape.outputs();
        let mut v = Verification {
            rel_error: f64::NAN,
            tolerance: self.tolerance,
            reference: "cpu_f64".to_string(),
            total_elements: total as u64,
            element_tolerance: Some(ELEMENT_FACTOR * self.tolerance),
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

/// Every element against the full product.
fn full_errors(got: &[f32], want: &[f64], v: &mut Verification) {
    v.method = VerifyMethod::Full;
    v.non_finite_elements = got.iter().filter(|g| !g.is_finite()).count() as u64;
    v.rel_error = relative_frobenius_error(got, want);
    let pairs = got.iter().zip(want).map(|(g, w)| (f64::from(*g), *w));
    v.element_error = Some(element_errors(pairs).1);
    v.checked_elements = want.len() as u64;
}

impl Sampled {
    /// Projections of the whole output (the NaN/Inf scan in the same pass), then the sampled
    /// rows and columns element by element.
    fn errors(&self, got: &[f32], shape: MatmulShape, v: &mut Verification) {
        let non_finite = |values: &[f32]| values.iter().filter(|g| !g.is_finite()).count() as u64;
        let (w, bad) = times_dense_scanned(got, shape.n, &self.x, &non_finite, false);
        v.non_finite_elements = bad;
        let (projected, component) = projection_errors(&w, &self.z);
        let (sampled, element) = element_errors(self.sampled_pairs(got, shape.n));
        v.method = VerifyMethod::Freivalds;
        v.rel_error = worst(projected, sampled);
        v.element_error = Some(worst(component, element));
        v.vectors = FLOAT_VECTORS as u64;
        v.check_seed = Some(self.seed);
        v.rows_checked = self.rows.iter().map(|&i| i as u64).collect();
        v.columns_checked = self.columns.iter().map(|&j| j as u64).collect();
        let (r, c) = (self.rows.len(), self.columns.len());
        v.checked_elements = (r * shape.n + c * shape.m - r * c) as u64;
    }

    /// (got, want) for every element of the sampled rows and columns.
    fn sampled_pairs<'a>(
        &'a self,
        got: &'a [f32],
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
