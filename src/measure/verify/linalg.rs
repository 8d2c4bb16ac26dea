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

/// Rows of a matrix multiplied together against the dense block: each dense entry loaded
/// serves this many rows, so the block is read from cache a quarter as often.
const ROW_BLOCK: usize = 4;

/// `mat` (rows × `cols`, row-major) times `dense` (`cols` rows of `T` values): rows × `T`.
/// Matrix × small block, not repeated matrix × vector: each row of `mat` is read once for all
/// `T` vectors, [`ROW_BLOCK`] rows at a time, into accumulators the compiler keeps in
/// registers (`T` is a constant).
pub(super) fn times_dense<E, S, const T: usize>(
    mat: &[E],
    cols: usize,
    dense: &[[S; T]],
) -> Vec<[S; T]>
where
    E: Copy + Into<S> + Sync,
    S: Acc,
{
    if cols == 0 || dense.len() < cols {
        return Vec::new();
    }
    let rows = mat.len() / cols;
    let mut out = vec![[S::default(); T]; rows];
    let dense = &dense[..cols];
    par_rows(&mut out, 1, |first, chunk| {
        let band = &mat[first * cols..][..chunk.len() * cols];
        simd::dense_band(band, cols, dense, chunk);
    });
    out
}

/// One core's share of [`times_dense`]: `band` holds `out.len()` rows of `cols` values.
#[inline(always)]
fn dense_band<E, S, const T: usize>(band: &[E], cols: usize, dense: &[[S; T]], out: &mut [[S; T]])
where
    E: Copy + Into<S>,
    S: Acc,
{
    let mut blocks = out.chunks_exact_mut(ROW_BLOCK);
    let mut row_blocks = band.chunks_exact(ROW_BLOCK * cols);
    for (block, rows) in (&mut blocks).zip(&mut row_blocks) {
        let rows: [&[E]; ROW_BLOCK] = std::array::from_fn(|r| &rows[r * cols..][..cols]);
        let mut acc = [[S::default(); T]; ROW_BLOCK];
        for (p, d) in dense.iter().enumerate() {
            for r in 0..ROW_BLOCK {
                let v: S = rows[r][p].into();
                for i in 0..T {
                    acc[r][i] += v * d[i];
                }
            }
        }
        block.copy_from_slice(&acc);
    }
    let rest = row_blocks.remainder().chunks_exact(cols);
    for (out_row, row) in blocks.into_remainder().iter_mut().zip(rest) {
        let mut acc = [S::default(); T];
        for (value, d) in row.iter().zip(dense) {
            let v: S = (*value).into();
            for i in 0..T {
                acc[i] += v * d[i];
            }
        }
        *out_row = acc;
    }
}

/// Columns of B handled together by [`product_rows`], their accumulators in registers.
const COLUMN_BLOCK: usize = 4;

/// Rows of B read together by [`product_rows`]: as many sequential streams as a core's
/// prefetchers follow, each read once; the band's accumulators come back from cache once
/// per panel.
const PANEL: usize = 16;

/// Rows `rows` (at most `L`) of the exact product A·B, n entries of `L` lanes: element
/// (rows[s], j) at `[j][s]`; lanes past the sampled rows stay zero. Each core takes a band of
/// B's columns and reads it in panels of [`PANEL`] rows, [`COLUMN_BLOCK`] columns at a time
/// with the accumulators in registers, so B is read once, front to back.
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
    if b.len() < n * k {
        return Vec::new();
    }
    // A's sampled rows transposed: k entries of L lanes.
    let a_rows: Vec<[S; L]> = gather_lanes(k, rows, |p, i| a[i * k + p]);
    let mut out = vec![[S::default(); L]; n];
    par_rows(&mut out, 1, |first, chunk| {
        simd::column_band(b, n, &a_rows, first, chunk)
    });
    out
}

/// One core's share of [`product_rows`]: columns `first..first + out.len()` of Bᵀ·A_rowsᵀ.
#[inline(always)]
fn column_band<E, S, const L: usize>(
    b: &[E],
    n: usize,
    a_rows: &[[S; L]],
    first: usize,
    out: &mut [[S; L]],
) where
    E: Copy + Into<S>,
    S: Acc,
{
    for (panel, a_panel) in b.chunks(PANEL * n).zip(a_rows.chunks(PANEL)) {
        let mut blocks = out.chunks_exact_mut(COLUMN_BLOCK);
        let mut j = first;
        for block in &mut blocks {
            panel_block::<E, S, L, COLUMN_BLOCK>(panel, n, a_panel, j, block);
            j += COLUMN_BLOCK;
        }
        for column in blocks.into_remainder().chunks_mut(1) {
            panel_block::<E, S, L, 1>(panel, n, a_panel, j, column);
            j += 1;
        }
    }
}

/// Adds the panel's share to columns `j..j + W` (`block`, W entries).
#[inline(always)]
fn panel_block<E, S, const L: usize, const W: usize>(
    panel: &[E],
    n: usize,
    a_panel: &[[S; L]],
    j: usize,
    block: &mut [[S; L]],
) where
    E: Copy + Into<S>,
    S: Acc,
{
    let mut acc = [[S::default(); L]; W];
    acc.copy_from_slice(block);
    for (b_row, a_p) in panel.chunks_exact(n).zip(a_panel) {
        let segment = &b_row[j..j + W];
        for c in 0..W {
            let bv: S = segment[c].into();
            for s in 0..L {
                acc[c][s] += a_p[s] * bv;
            }
        }
    }
    block.copy_from_slice(&acc);
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
    let b_columns: Vec<[S; L]> = gather_lanes(k, columns, |p, j| b[p * n + j]);
    times_dense(a, k, &b_columns)
}

/// `k` entries of `L` lanes: entry p holds `element(p, picked[s])` in lane s (lanes past
/// `picked` stay zero) — sampled rows or columns laid out so one pass reads them all at once.
fn gather_lanes<E, S, const L: usize>(
    k: usize,
    picked: &[usize],
    element: impl Fn(usize, usize) -> E,
) -> Vec<[S; L]>
where
    E: Into<S>,
    S: Acc,
{
    (0..k)
        .map(|p| {
            let mut lanes = [S::default(); L];
            for (lane, &index) in lanes.iter_mut().zip(picked) {
                *lane = element(p, index).into();
            }
            lanes
        })
        .collect()
}

/// The loops above compiled twice: for any x86-64 (SSE2) and, chosen at run time, for CPUs
/// with AVX2 and FMA (four f64 lanes per instruction instead of two, twice the registers'
/// width for the accumulators), which every data-centre host of the last decade has.
mod simd {
    use super::Acc;

    /// [`super::dense_band`] at the widest vectors the CPU has.
    pub(super) fn dense_band<E, S, const T: usize>(
        band: &[E],
        cols: usize,
        dense: &[[S; T]],
        out: &mut [[S; T]],
    ) where
        E: Copy + Into<S>,
        S: Acc,
    {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            return unsafe { avx2::dense_band(band, cols, dense, out) };
        }
        super::dense_band(band, cols, dense, out)
    }

    /// [`super::column_band`] at the widest vectors the CPU has.
    pub(super) fn column_band<E, S, const L: usize>(
        b: &[E],
        n: usize,
        a_rows: &[[S; L]],
        first: usize,
        out: &mut [[S; L]],
    ) where
        E: Copy + Into<S>,
        S: Acc,
    {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            return unsafe { avx2::column_band(b, n, a_rows, first, out) };
        }
        super::column_band(b, n, a_rows, first, out)
    }

    #[cfg(target_arch = "x86_64")]
    fn has_avx2_fma() -> bool {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }

    #[cfg(target_arch = "x86_64")]
    mod avx2 {
        use super::Acc;

        #[target_feature(enable = "avx2,fma")]
        pub(super) fn dense_band<E, S, const T: usize>(
            band: &[E],
            cols: usize,
            dense: &[[S; T]],
            out: &mut [[S; T]],
        ) where
            E: Copy + Into<S>,
            S: Acc,
        {
            super::super::dense_band(band, cols, dense, out)
        }

        #[target_feature(enable = "avx2,fma")]
        pub(super) fn column_band<E, S, const L: usize>(
            b: &[E],
            n: usize,
            a_rows: &[[S; L]],
            first: usize,
            out: &mut [[S; L]],
        ) where
            E: Copy + Into<S>,
            S: Acc,
        {
            super::super::column_band(b, n, a_rows, first, out)
        }
    }
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
