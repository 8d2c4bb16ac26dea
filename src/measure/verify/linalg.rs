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

/// `mat` (rows × `cols`, row-major) times `dense` (`cols` rows of `T` values): rows × `T`.
/// Each row of `mat` is read once, with `T` multiply-adds per element into accumulators the
/// compiler keeps in registers (`T` is a constant).
pub(super) fn times_dense<E, S, const T: usize>(
    mat: &[E],
    cols: usize,
    dense: &[[S; T]],
) -> Vec<[S; T]>
where
    E: Copy + Into<S> + Sync,
    S: Acc,
{
    if cols == 0 {
        return Vec::new();
    }
    let rows = mat.len() / cols;
    let mut out = vec![[S::default(); T]; rows];
    par_rows(&mut out, 1, |first, chunk| {
        for (local, out_row) in chunk.iter_mut().enumerate() {
            let row = &mat[(first + local) * cols..][..cols];
            let mut acc = [S::default(); T];
            for (value, d) in row.iter().zip(dense) {
                let v: S = (*value).into();
                for i in 0..T {
                    acc[i] += v * d[i];
                }
            }
            *out_row = acc;
        }
    });
    out
}

/// Rows `rows` (at most `L`) of the exact product A·B, n entries of `L` lanes: element
/// (rows[s], j) at `[j][s]`; lanes past the sampled rows stay zero. B is streamed once, each
/// core taking a band of its columns.
pub(super) fn product_rows<E, S, const L: usize>(
    a: &[E],
    b: &[E],
    shape: MatmulShape,
    rows: &[usize],
) -> Vec<[S; L]>
where
    E: Copy + Into<S> + Sync,
    S: Acc,
{
    let (n, k) = (shape.n, shape.k);
    // A's sampled rows transposed: k entries of L lanes.
    let a_rows: Vec<[S; L]> = (0..k)
        .map(|p| {
            let mut lanes = [S::default(); L];
            for (lane, &i) in lanes.iter_mut().zip(rows) {
                *lane = a[i * k + p].into();
            }
            lanes
        })
        .collect();
    let mut out = vec![[S::default(); L]; n];
    par_rows(&mut out, 1, |first, chunk| {
        for (p, a_p) in a_rows.iter().enumerate() {
            let b_band = &b[p * n + first..][..chunk.len()];
            for (acc, bv) in chunk.iter_mut().zip(b_band) {
                let bv: S = (*bv).into();
                for s in 0..L {
                    acc[s] += a_p[s] * bv;
                }
            }
        }
    });
    out
}

/// Columns `columns` (at most `L`) of the exact product A·B, m entries of `L` lanes: element
/// (i, columns[s]) at `[i][s]`. A is streamed once against B's sampled columns.
pub(super) fn product_columns<E, S, const L: usize>(
    a: &[E],
    b: &[E],
    shape: MatmulShape,
    columns: &[usize],
) -> Vec<[S; L]>
where
    E: Copy + Into<S> + Sync,
    S: Acc,
{
    let (n, k) = (shape.n, shape.k);
    let b_columns: Vec<[S; L]> = (0..k)
        .map(|p| {
            let mut lanes = [S::default(); L];
            for (lane, &j) in lanes.iter_mut().zip(columns) {
                *lane = b[p * n + j].into();
            }
            lanes
        })
        .collect();
    times_dense(a, k, &b_columns)
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

/// Errors of a projection check, `w` against `z` (m entries of `T` vectors): the relative
/// norm of the difference over all vectors, and the worst single component relative to the
/// root mean square of its vector's reference components.
pub(super) fn projection_errors<const T: usize>(w: &[[f64; T]], z: &[[f64; T]]) -> (f64, f64) {
    let rows = z.len().max(1) as f64;
    let mut norms = [0.0f64; T];
    let mut diff = 0.0f64;
    for (wr, zr) in w.iter().zip(z) {
        for v in 0..T {
            norms[v] += zr[v] * zr[v];
            diff += (wr[v] - zr[v]).powi(2);
        }
    }
    let mut component = 0.0f64;
    for (wr, zr) in w.iter().zip(z) {
        for v in 0..T {
            let d = wr[v] - zr[v];
            component = worst(component, relative(d * d, norms[v] / rows));
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
