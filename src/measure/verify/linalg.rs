//! The host arithmetic of a check, split over the machine's cores: a matrix times a few dense
//! vectors, exact rows and columns of a product, and a scan for non-finite values. Generic over
//! the accumulator so one code path serves f64 (float inputs) and i64 (integer inputs).

use super::MatmulShape;
use std::ops::{AddAssign, Mul};

/// An accumulator type: f64 for float checks, i64 for exact integer checks.
pub(super) trait Acc: Copy + Default + Send + Sync + AddAssign + Mul<Output = Self> {}
impl<T: Copy + Default + Send + Sync + AddAssign + Mul<Output = T>> Acc for T {}

/// Cores to split host work over.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |p| p.get())
}

/// Splits `out` (rows of `width` values) into one run of whole rows per core and calls
/// `fill(first_row, rows)` on each run in its own thread.
fn par_rows<S: Send>(out: &mut [S], width: usize, fill: impl Fn(usize, &mut [S]) + Sync) {
    let rows = out.len() / width.max(1);
    if rows == 0 {
        return;
    }
    let per_thread = rows.div_ceil(threads()).max(1);
    std::thread::scope(|scope| {
        for (index, chunk) in out.chunks_mut(per_thread * width).enumerate() {
            let fill = &fill;
            scope.spawn(move || fill(index * per_thread, chunk));
        }
    });
}

/// `mat` (rows × `cols`, row-major) times `dense` (`cols` × `t`): rows × `t`. Each row of
/// `mat` is read once, with `t` multiply-adds per element.
pub(super) fn times_dense<E, S>(mat: &[E], cols: usize, dense: &[S], t: usize) -> Vec<S>
where
    E: Copy + Into<S> + Sync,
    S: Acc,
{
    if cols == 0 || t == 0 {
        return Vec::new();
    }
    let rows = mat.len() / cols;
    let mut out = vec![S::default(); rows * t];
    par_rows(&mut out, t, |first, chunk| {
        for (local, acc) in chunk.chunks_mut(t).enumerate() {
            let row = &mat[(first + local) * cols..][..cols];
            for (value, d) in row.iter().zip(dense.chunks_exact(t)) {
                let v: S = (*value).into();
                for (a, x) in acc.iter_mut().zip(d) {
                    *a += v * *x;
                }
            }
        }
    });
    out
}

/// Rows `rows` of the exact product A·B, laid out n × r: element (rows[s], j) at `j·r + s`.
/// B is streamed once, each core taking a band of its columns.
pub(super) fn product_rows<E, S>(a: &[E], b: &[E], shape: MatmulShape, rows: &[usize]) -> Vec<S>
where
    E: Copy + Into<S> + Sync,
    S: Acc,
{
    let (n, k, r) = (shape.n, shape.k, rows.len());
    if r == 0 {
        return Vec::new();
    }
    // A's sampled rows transposed: k × r, so each step of p reads r contiguous values.
    let a_rows: Vec<S> = (0..k)
        .flat_map(|p| rows.iter().map(move |&i| a[i * k + p].into()))
        .collect();
    let mut out = vec![S::default(); n * r];
    par_rows(&mut out, r, |first, chunk| {
        let width = chunk.len() / r;
        for (p, a_p) in a_rows.chunks_exact(r).enumerate() {
            let b_band = &b[p * n + first..][..width];
            for (acc, bv) in chunk.chunks_exact_mut(r).zip(b_band) {
                let bv: S = (*bv).into();
                for (c, av) in acc.iter_mut().zip(a_p) {
                    *c += *av * bv;
                }
            }
        }
    });
    out
}

/// Columns `columns` of the exact product A·B, laid out m × c: element (i, columns[s]) at
/// `i·c + s`. A is streamed once against B's sampled columns.
pub(super) fn product_columns<E, S>(
    a: &[E],
    b: &[E],
    shape: MatmulShape,
    columns: &[usize],
) -> Vec<S>
where
    E: Copy + Into<S> + Sync,
    S: Acc,
{
    let (n, k) = (shape.n, shape.k);
    let b_columns: Vec<S> = (0..k)
        .flat_map(|p| columns.iter().map(move |&j| b[p * n + j].into()))
        .collect();
    times_dense(a, k, &b_columns, columns.len())
}

/// How many values of `values` are NaN or infinite, counted on every core.
pub(super) fn count_non_finite(values: &[f32]) -> u64 {
    let per_thread = values.len().div_ceil(threads()).max(1);
    std::thread::scope(|scope| {
        let counts: Vec<_> = values
            .chunks(per_thread)
            .map(|chunk| scope.spawn(move || chunk.iter().filter(|v| !v.is_finite()).count()))
            .collect();
        counts
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)) as u64)
            .sum()
    })
}

/// A maximum that keeps NaN: an error that cannot be computed must not vanish in a max.
pub(super) fn worst(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// √(diff/norm), 0 when both are 0, infinite when only the reference is 0.
pub(super) fn relative(diff: f64, norm: f64) -> f64 {
    if norm == 0.0 {
        return if diff == 0.0 { 0.0 } else { f64::INFINITY };
    }
    (diff / norm).sqrt()
}

/// Errors of a projection check, `w` against `z` (both m × t): the relative norm of the
/// difference over all vectors, and the worst single component relative to the root mean
/// square of its vector's reference components.
pub(super) fn projection_errors(w: &[f64], z: &[f64], t: usize) -> (f64, f64) {
    let rows = z.len() / t.max(1);
    let mut norms = vec![0.0f64; t];
    let mut diff = 0.0f64;
    for (wr, zr) in w.chunks_exact(t).zip(z.chunks_exact(t)) {
        for v in 0..t {
            norms[v] += zr[v] * zr[v];
            diff += (wr[v] - zr[v]).powi(2);
        }
    }
    let rms: Vec<f64> = norms
        .iter()
        .map(|n| (n / rows.max(1) as f64).sqrt())
        .collect();
    let mut component = 0.0f64;
    for (wr, zr) in w.chunks_exact(t).zip(z.chunks_exact(t)) {
        for v in 0..t {
            let d = (wr[v] - zr[v]).abs();
            component = worst(component, relative(d * d, rms[v] * rms[v]));
        }
    }
    (relative(diff, norms.iter().sum()), component)
}

/// Errors of compared element pairs (got, want): the relative Frobenius error of the set, and
/// the worst single element relative to the root mean square of the wanted values.
pub(super) fn element_errors(pairs: impl Iterator<Item = (f64, f64)>) -> (f64, f64) {
    let (mut diff, mut norm, mut count, mut largest) = (0.0f64, 0.0f64, 0usize, 0.0f64);
    for (g, w) in pairs {
        let d = g - w;
        diff += d * d;
        norm += w * w;
        count += 1;
        largest = worst(largest, d.abs());
    }
    let rms_sq = norm / count.max(1) as f64;
    (relative(diff, norm), relative(largest * largest, rms_sq))
}
