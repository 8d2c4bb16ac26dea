//! The host arithmetic of a check, split over the machine's cores: a matrix times a few dense
//! vectors, exact rows and columns of a product, and a scan for non-finite values. Generic over
//! the accumulator; every check uses f64 lanes (float inputs, and integer inputs whose sums
//! stay exact in f64; see the integer module).

use super::MatmulShape;
use std::ops::{AddAssign, Mul};

/// An accumulator type: f64, for float checks and for integer checks whose sums stay exact.
pub(super) trait Acc: Copy + Default + Send + Sync + AddAssign + Mul<Output = Self> {
    /// `self + a·b` rounded once (a fused multiply-add).
    fn mul_add_to(self, a: Self, b: Self) -> Self;
}

impl Acc for f64 {
    #[inline(always)]
    fn mul_add_to(self, a: f64, b: f64) -> f64 {
        a.mul_add(b, self)
    }
}

/// `acc + a·b`: one fused instruction where the CPU has them (`FUSED`, the AVX2 and FMA
/// path), else a multiply and an add (`mul_add` without hardware FMA is a slow library call).
/// Either is exact for the integer checks' sums; the fused one rounds once instead of twice.
#[inline(always)]
fn multiply_add<S: Acc, const FUSED: bool>(acc: S, a: S, b: S) -> S {
    if FUSED {
        acc.mul_add_to(a, b)
    } else {
        let mut sum = acc;
        sum += a * b;
        sum
    }
}

/// Values of a row converted to the accumulator type together, before they are used:
/// converting a run of f32 (or i8) at once takes a few vector instructions, where converting
/// each value as it is broadcast to the lanes took two per value (measured: a quarter to a
/// half faster per pass at 8192² on two cores).
const CHUNK: usize = 64;

/// `values` (at most [`CHUNK`]) converted into the front of `into`.
#[inline(always)]
fn convert<E: Copy + Into<S>, S: Acc>(values: &[E], into: &mut [S; CHUNK]) {
    for (out, value) in into.iter_mut().zip(values) {
        *out = (*value).into();
    }
}

/// Cores to split host work over.
fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |p| p.get())
}

/// Splits `out` (rows of `width` values) into one run of whole rows per core and calls
/// `fill(first_row, rows)` on each run in its own thread; returns what each call returned, in
/// row order.
fn par_rows<S: Send, R: Send>(
    out: &mut [S],
    width: usize,
    fill: impl Fn(usize, &mut [S]) -> R + Sync,
) -> Vec<R> {
    let rows = out.len() / width.max(1);
    if rows == 0 {
        return Vec::new();
    }
    let per_thread = rows.div_ceil(threads()).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = out
            .chunks_mut(per_thread * width)
            .enumerate()
            .map(|(index, chunk)| {
                let fill = &fill;
                scope.spawn(move || fill(index * per_thread, chunk))
            })
            .collect();
        handles.into_iter().map(joined).collect()
    })
}

/// A scoped thread's result; a panic in it goes on in the caller.
fn joined<R>(handle: std::thread::ScopedJoinHandle<'_, R>) -> R {
    handle
        .join()
        .unwrap_or_else(|e| std::panic::resume_unwind(e))
}

/// Rows of a matrix multiplied together against the dense block: each dense entry loaded
/// serves this many rows. Four while the accumulators (`ROW_BLOCK`·`T` f64 lanes) fit the
/// sixteen AVX2 registers with the block's own entries; two for wider blocks.
const fn row_block(lanes: usize) -> usize {
    if lanes <= 8 {
        4
    } else {
        2
    }
}

/// `mat` (rows × `cols`, row-major) times `dense` (`cols` rows of `T` values): rows × `T`.
/// Matrix × small block, not repeated matrix × vector: each row of `mat` is read once for all
/// `T` lanes, a few rows at a time, into accumulators the compiler keeps in registers (`T` is
/// a constant).
pub(super) fn times_dense<E, S, const T: usize>(
    mat: &[E],
    cols: usize,
    dense: &[[S; T]],
) -> Vec<[S; T]>
where
    E: Copy + Into<S> + Sync,
    S: Acc,
{
    times_dense_scanned(mat, cols, dense, &|_: &[E]| 0, false).0
}

/// [`times_dense`] that also scans every block of rows while it is in cache: `scan` returns
/// how many of its values are bad, and the counts are summed. With `skip_flagged` a block
/// with any bad value is not accumulated (its outputs stay zero): integer outputs outside
/// their bound could overflow the sums. One pass over `mat` does both, so a 1 GiB output is
/// read from memory once.
pub(super) fn times_dense_scanned<E, S, const T: usize>(
    mat: &[E],
    cols: usize,
    dense: &[[S; T]],
    scan: &(impl Fn(&[E]) -> u64 + Sync),
    skip_flagged: bool,
) -> (Vec<[S; T]>, u64)
where
    E: Copy + Into<S> + Sync,
    S: Acc,
{
    if cols == 0 || dense.len() < cols {
        return (Vec::new(), 0);
    }
    let rows = mat.len() / cols;
    let mut out = vec![[S::default(); T]; rows];
    let dense = &dense[..cols];
    let bad = par_rows(&mut out, 1, |first, chunk| {
        let band = &mat[first * cols..][..chunk.len() * cols];
        let scanned = Scanned { scan, skip_flagged };
        simd::dense_band(band, cols, dense, chunk, &scanned)
    });
    (out, bad.into_iter().sum())
}

/// How [`times_dense_scanned`] inspects each block of rows.
pub(super) struct Scanned<'a, F> {
    scan: &'a F,
    skip_flagged: bool,
}

/// One core's share of [`times_dense`]: `band` holds `out.len()` rows of `cols` values.
/// Returns the bad values the scan found.
#[inline(always)]
fn dense_band<E, S, F, const T: usize, const FUSED: bool>(
    band: &[E],
    cols: usize,
    dense: &[[S; T]],
    out: &mut [[S; T]],
    scanned: &Scanned<'_, F>,
) -> u64
where
    E: Copy + Into<S>,
    S: Acc,
    F: Fn(&[E]) -> u64,
{
    if row_block(T) == 4 {
        dense_rows::<E, S, F, T, 4, FUSED>(band, cols, dense, out, scanned)
    } else {
        dense_rows::<E, S, F, T, 2, FUSED>(band, cols, dense, out, scanned)
    }
}

/// [`dense_band`] with `R` rows per block.
#[inline(always)]
fn dense_rows<E, S, F, const T: usize, const R: usize, const FUSED: bool>(
    band: &[E],
    cols: usize,
    dense: &[[S; T]],
    out: &mut [[S; T]],
    scanned: &Scanned<'_, F>,
) -> u64
where
    E: Copy + Into<S>,
    S: Acc,
    F: Fn(&[E]) -> u64,
{
    let mut bad = 0;
    for (block, rows) in out.chunks_mut(R).zip(band.chunks(R * cols)) {
        let flagged = (scanned.scan)(rows);
        bad += flagged;
        if flagged > 0 && scanned.skip_flagged {
            continue;
        }
        if block.len() == R {
            let rows: [&[E]; R] = std::array::from_fn(|r| &rows[r * cols..][..cols]);
            block.copy_from_slice(&block_times_dense::<E, S, T, R, FUSED>(rows, dense));
        } else {
            for (out_row, row) in block.iter_mut().zip(rows.chunks_exact(cols)) {
                *out_row = block_times_dense::<E, S, T, 1, FUSED>([row], dense)[0];
            }
        }
    }
    bad
}

/// `R` rows times the dense block, every accumulator in a register; the rows are converted
/// [`CHUNK`] values at a time.
#[inline(always)]
fn block_times_dense<E, S, const T: usize, const R: usize, const FUSED: bool>(
    rows: [&[E]; R],
    dense: &[[S; T]],
) -> [[S; T]; R]
where
    E: Copy + Into<S>,
    S: Acc,
{
    let mut acc = [[S::default(); T]; R];
    let mut converted = [[S::default(); CHUNK]; R];
    for (start, dense) in (0..).step_by(CHUNK).zip(dense.chunks(CHUNK)) {
        for r in 0..R {
            convert(&rows[r][start..start + dense.len()], &mut converted[r]);
        }
        for (p, d) in dense.iter().enumerate() {
            for r in 0..R {
                let v = converted[r][p];
                for i in 0..T {
                    acc[r][i] = multiply_add::<S, FUSED>(acc[r][i], v, d[i]);
                }
            }
        }
    }
    acc
}

/// Rows of B in one band of [`times_dense_and_rows`]. The bands are fixed by the shape, not
/// by the host's cores, and their partial rows are added in band order, so the result is the
/// same on every host.
const BAND_ROWS: usize = 512;

/// Rows of B read together by [`times_dense_and_rows`]: each pass over the band's partial
/// rows (n entries, from cache) serves this many rows of B.
const ROWS_TOGETHER: usize = 4;

/// One pass over B (k × n, row-major) for two products at once: `B·x` (k entries of `T`
/// lanes, x holding n entries) and the rows `a_rowsᵀ·B` (n entries of `L` lanes, `a_rows`
/// holding k entries) — the projections' first step and the sampled rows of A·B, which
/// would otherwise each stream B from memory. Each core takes bands of [`BAND_ROWS`] rows of
/// B and reads them front to back, [`ROWS_TOGETHER`] at a time: B·x of those rows in
/// registers, their share of the sampled rows added into the band's partial rows. (Banding
/// by columns instead, as an earlier version did, reads B in short strided pieces and was
/// measured a quarter slower.)
fn times_dense_and_rows<E, S, const T: usize, const L: usize>(
    b: &[E],
    n: usize,
    x: &[[S; T]],
    a_rows: &[[S; L]],
) -> (Vec<[S; T]>, Vec<[S; L]>)
where
    E: Copy + Into<S> + Sync,
    S: Acc,
{
    let k = a_rows.len();
    if n == 0 || b.len() < n * k || x.len() < n {
        return (Vec::new(), Vec::new());
    }
    let x = &x[..n];
    let mut y = vec![[S::default(); T]; k];
    let mut partials = vec![vec![[S::default(); L]; n]; k.div_ceil(BAND_ROWS)];
    let per_thread = partials.len().div_ceil(threads()).max(1);
    std::thread::scope(|scope| {
        let work = y
            .chunks_mut(per_thread * BAND_ROWS)
            .zip(partials.chunks_mut(per_thread))
            .enumerate();
        for (index, (y, partials)) in work {
            let first = index * per_thread * BAND_ROWS;
            scope.spawn(move || {
                let bands = y.chunks_mut(BAND_ROWS).zip(partials).enumerate();
                for (band, (y, rows)) in bands {
                    let p = first + band * BAND_ROWS;
                    let b_band = &b[p * n..][..y.len() * n];
                    simd::row_band(b_band, x, &a_rows[p..p + y.len()], y, rows);
                }
            });
        }
    });
    let mut rows = vec![[S::default(); L]; n];
    for partial in &partials {
        for (sum, part) in rows.iter_mut().zip(partial) {
            for s in 0..L {
                sum[s] += part[s];
            }
        }
    }
    (y, rows)
}

/// One band of [`times_dense_and_rows`]: `b_band` holds `y.len()` rows of B (n = `x.len()`
/// values each), `a_band` those rows' entries of A's sampled rows; fills `y` with their
/// share of B·x and adds their share of the sampled rows to `rows`.
#[inline(always)]
fn row_band<E, S, const T: usize, const L: usize, const FUSED: bool>(
    b_band: &[E],
    x: &[[S; T]],
    a_band: &[[S; L]],
    y: &mut [[S; T]],
    rows: &mut [[S; L]],
) where
    E: Copy + Into<S>,
    S: Acc,
{
    const R: usize = ROWS_TOGETHER;
    let n = x.len();
    let blocks = b_band
        .chunks(R * n)
        .zip(y.chunks_mut(R))
        .zip(a_band.chunks(R));
    for ((b_rows, y_block), a_block) in blocks {
        if y_block.len() == R {
            let b_rows: [&[E]; R] = std::array::from_fn(|r| &b_rows[r * n..][..n]);
            let a_block: [[S; L]; R] = std::array::from_fn(|r| a_block[r]);
            y_block.copy_from_slice(&rows_block::<E, S, T, L, R, FUSED>(
                b_rows, x, a_block, rows,
            ));
        } else {
            let rest = b_rows.chunks_exact(n).zip(y_block.iter_mut()).zip(a_block);
            for ((b_row, y_row), a_row) in rest {
                *y_row = rows_block::<E, S, T, L, 1, FUSED>([b_row], x, [*a_row], rows)[0];
            }
        }
    }
}

/// `R` rows of B: returns their entries of B·x (accumulated in registers) and adds their
/// share of the sampled rows into `rows`, one load and store of each entry for all `R`; the
/// rows are converted [`CHUNK`] values at a time.
#[inline(always)]
fn rows_block<E, S, const T: usize, const L: usize, const R: usize, const FUSED: bool>(
    b_rows: [&[E]; R],
    x: &[[S; T]],
    a_block: [[S; L]; R],
    rows: &mut [[S; L]],
) -> [[S; T]; R]
where
    E: Copy + Into<S>,
    S: Acc,
{
    let mut y = [[S::default(); T]; R];
    let mut converted = [[S::default(); CHUNK]; R];
    let chunks = x.chunks(CHUNK).zip(rows.chunks_mut(CHUNK));
    for (start, (x, rows)) in (0..).step_by(CHUNK).zip(chunks) {
        for r in 0..R {
            convert(&b_rows[r][start..start + x.len()], &mut converted[r]);
        }
        for (j, (x_j, row_j)) in x.iter().zip(rows.iter_mut()).enumerate() {
            let mut acc = *row_j;
            for r in 0..R {
                let bv = converted[r][j];
                for s in 0..L {
                    acc[s] = multiply_add::<S, FUSED>(acc[s], a_block[r][s], bv);
                }
                for v in 0..T {
                    y[r][v] = multiply_add::<S, FUSED>(y[r][v], bv, x_j[v]);
                }
            }
            *row_j = acc;
        }
    }
    y
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

/// The reference side of a sampled check: A·(B·x) (m entries of `T` lanes), the sampled
/// rows of A·B (n entries of `L` lanes: element (rows[s], j) at `[j][s]`) and the sampled
/// columns (m entries of `L` lanes: element (i, columns[s]) at `[i][s]`). Two passes, each
/// matrix read once: B for B·x and the rows together ([`times_dense_and_rows`]), then A for
/// A·(B·x) and the columns together (one [`times_dense`] over `J` = `T` + `L` lanes).
pub(super) fn sampled_products<E, S, const T: usize, const L: usize, const J: usize>(
    a: &[E],
    b: &[E],
    shape: MatmulShape,
    x: &[[S; T]],
    rows: &[usize],
    columns: &[usize],
) -> SampledProducts<S, T, L>
where
    E: Copy + Into<S> + Sync,
    S: Acc,
{
    let (n, k) = (shape.n, shape.k);
    let a_rows: Vec<[S; L]> = gather_lanes(k, rows, |p, i| a[i * k + p]);
    let (y, row_values) = times_dense_and_rows(b, n, x, &a_rows);
    let b_columns: Vec<[S; L]> = gather_lanes(k, columns, |p, j| b[p * n + j]);
    let both = times_dense(a, k, &joined_lanes::<S, T, L, J>(&y, &b_columns));
    let (z, column_values) = split_lanes::<S, T, L, J>(&both);
    SampledProducts {
        z,
        row_values,
        column_values,
    }
}

/// What [`sampled_products`] forms.
pub(super) struct SampledProducts<S, const T: usize, const L: usize> {
    /// A·(B·x): m entries.
    pub z: Vec<[S; T]>,
    /// The sampled rows of A·B: n entries of one value per sampled row.
    pub row_values: Vec<[S; L]>,
    /// The sampled columns of A·B: m entries of one value per sampled column.
    pub column_values: Vec<[S; L]>,
}

/// Entries of `T` lanes and entries of `L` lanes side by side as entries of `J` = `T` + `L`
/// lanes, so one [`times_dense`] pass serves both (A·(B·x) and the sampled columns).
fn joined_lanes<S: Acc, const T: usize, const L: usize, const J: usize>(
    left: &[[S; T]],
    right: &[[S; L]],
) -> Vec<[S; J]> {
    const { assert!(T + L == J) };
    left.iter()
        .zip(right)
        .map(|(l, r)| std::array::from_fn(|i| if i < T { l[i] } else { r[i - T] }))
        .collect()
}

/// The inverse of [`joined_lanes`]: the first `T` lanes and the last `L` of each entry.
fn split_lanes<S: Acc, const T: usize, const L: usize, const J: usize>(
    joined: &[[S; J]],
) -> (Vec<[S; T]>, Vec<[S; L]>) {
    const { assert!(T + L == J) };
    let left = joined.iter().map(|e| std::array::from_fn(|i| e[i]));
    let right = joined.iter().map(|e| std::array::from_fn(|i| e[T + i]));
    (left.collect(), right.collect())
}

/// The loops above compiled twice: for any x86-64 (SSE2, a multiply and an add) and, chosen at
/// run time, for CPUs with AVX2 and FMA (four f64 lanes per instruction instead of two, twice
/// the registers' width for the accumulators, one fused multiply-add), which every
/// data-centre host of the last decade has.
mod simd {
    use super::{Acc, Scanned};

    /// [`super::dense_band`] at the widest vectors the CPU has.
    pub(super) fn dense_band<E, S, F, const T: usize>(
        band: &[E],
        cols: usize,
        dense: &[[S; T]],
        out: &mut [[S; T]],
        scanned: &Scanned<'_, F>,
    ) -> u64
    where
        E: Copy + Into<S>,
        S: Acc,
        F: Fn(&[E]) -> u64,
    {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            return unsafe { avx2::dense_band(band, cols, dense, out, scanned) };
        }
        super::dense_band::<E, S, F, T, false>(band, cols, dense, out, scanned)
    }

    /// [`super::row_band`] at the widest vectors the CPU has.
    pub(super) fn row_band<E, S, const T: usize, const L: usize>(
        b_band: &[E],
        x: &[[S; T]],
        a_band: &[[S; L]],
        y: &mut [[S; T]],
        rows: &mut [[S; L]],
    ) where
        E: Copy + Into<S>,
        S: Acc,
    {
        #[cfg(target_arch = "x86_64")]
        if has_avx2_fma() {
            // SAFETY: the CPU supports AVX2 and FMA, checked just above.
            return unsafe { avx2::row_band(b_band, x, a_band, y, rows) };
        }
        super::row_band::<E, S, T, L, false>(b_band, x, a_band, y, rows)
    }

    #[cfg(target_arch = "x86_64")]
    fn has_avx2_fma() -> bool {
        std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
    }

    #[cfg(target_arch = "x86_64")]
    mod avx2 {
        use super::{Acc, Scanned};

        #[target_feature(enable = "avx2,fma")]
        pub(super) fn dense_band<E, S, F, const T: usize>(
            band: &[E],
            cols: usize,
            dense: &[[S; T]],
            out: &mut [[S; T]],
            scanned: &Scanned<'_, F>,
        ) -> u64
        where
            E: Copy + Into<S>,
            S: Acc,
            F: Fn(&[E]) -> u64,
        {
            super::super::dense_band::<E, S, F, T, true>(band, cols, dense, out, scanned)
        }

        #[target_feature(enable = "avx2,fma")]
        pub(super) fn row_band<E, S, const T: usize, const L: usize>(
            b_band: &[E],
            x: &[[S; T]],
            a_band: &[[S; L]],
            y: &mut [[S; T]],
            rows: &mut [[S; L]],
        ) where
            E: Copy + Into<S>,
            S: Acc,
        {
            super::super::row_band::<E, S, T, L, true>(b_band, x, a_band, y, rows)
        }
    }
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
