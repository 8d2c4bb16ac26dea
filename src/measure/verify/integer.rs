//! The exact check of an integer matmul's output (i8 inputs, i32 outputs): every element for
//! small shapes; above the threshold, Freivalds' check on {0,1} vectors with i64 sums (each
//! vector misses a wrong output with probability at most 1/2) and exact sampled rows and
//! columns. Integer outputs have no NaN; any difference fails.

use super::float::check_lengths;
use super::linalg::{element_errors, product_columns, product_rows, times_dense, worst};
use super::{draw, uses_sampled_check, MatmulShape, INT_VECTORS, SAMPLED_LINES};
use crate::error::Result;
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
    /// {0,1} vectors: n entries of one value per vector.
    x: Vec<[i64; INT_VECTORS]>,
    /// A·(B·x): m entries.
    z: Vec<[i64; INT_VECTORS]>,
    rows: Vec<usize>,
    /// Sampled rows of A·B: n entries of one value per sampled row.
    row_values: Vec<[i64; SAMPLED_LINES]>,
    columns: Vec<usize>,
    /// Sampled columns of A·B: m entries of one value per sampled column.
    column_values: Vec<[i64; SAMPLED_LINES]>,
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
            reference: "cpu_i64_exact".to_string(),
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
        let x = draw::bit_vectors::<INT_VECTORS>(&mut rng, shape.n);
        let rows = draw::lines(&mut rng, shape.m, SAMPLED_LINES);
        let columns = draw::lines(&mut rng, shape.n, SAMPLED_LINES);
        let y: Vec<[i64; INT_VECTORS]> = times_dense(b, shape.n, &x);
        Sampled {
            seed,
            z: times_dense(a, shape.k, &y),
            x,
            row_values: product_rows(a, b, shape, &rows),
            column_values: product_columns(a, b, shape, &columns),
            rows,
            columns,
        }
    }

    fn errors(&self, got: &[i32], shape: MatmulShape, v: &mut Verification) {
        let w: Vec<[i64; INT_VECTORS]> = times_dense(got, shape.n, &self.x);
        let projected = w.iter().flatten().zip(self.z.iter().flatten());
        let projected = projected.map(|(g, z)| (*g as f64, *z as f64));
        let (projected, _) = element_errors(projected);
        let (r, c, n) = (self.rows.len(), self.columns.len(), shape.n);
        let rows = self.rows.iter().enumerate().flat_map(|(s, &i)| {
            (0..n).map(move |j| (got[i * n + j] as f64, self.row_values[j][s] as f64))
        });
        let columns = self.column_values.iter().enumerate();
        let columns = columns.flat_map(|(i, want)| {
            self.columns
                .iter()
                .zip(want)
                .map(move |(&j, w)| (got[i * n + j] as f64, *w as f64))
        });
        let (sampled, element) = element_errors(rows.chain(columns));
        v.method = VerifyMethod::Freivalds;
        v.rel_error = worst(projected, sampled);
        v.element_error = Some(element);
        v.vectors = INT_VECTORS as u64;
        v.check_seed = Some(self.seed);
        v.rows_checked = self.rows.iter().map(|&i| i as u64).collect();
        v.columns_checked = self.columns.iter().map(|&j| j as u64).collect();
        v.checked_elements = (r * n + c * shape.m - r * c) as u64;
    }
}
