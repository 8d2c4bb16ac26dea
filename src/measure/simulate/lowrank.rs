//! Inputs of low rank, so the true product is cheap to form at any size: A = U·V and
//! B = P·Q with rank-[`RANK`] integer factors, hence C = U·(V·P)·Q in O(n²·r) exact integer
//! arithmetic. Float inputs are the integers over 32 (exact in f32 and f16, |a| ≤ 1); i8
//! inputs are the integers themselves (|a| ≤ 32).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Rank of the simulated inputs.
pub const RANK: usize = 4;

/// Float inputs are these integers divided by this.
const FLOAT_SCALE: f64 = 32.0;

/// The factors of one product.
struct Factors {
    /// m × r, entries in {-1, 0, 1}.
    u: Vec<i64>,
    /// r × k, entries in -8..=8.
    v: Vec<i64>,
    /// k × r, entries in {-1, 0, 1}.
    p: Vec<i64>,
    /// r × n, entries in -8..=8.
    q: Vec<i64>,
}

fn factors(m: usize, n: usize, k: usize, seed: u64) -> Factors {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut draw = |len: usize, lo: i64, hi: i64| -> Vec<i64> {
        (0..len).map(|_| rng.random_range(lo..=hi)).collect()
    };
    Factors {
        u: draw(m * RANK, -1, 1),
        v: draw(RANK * k, -8, 8),
        p: draw(k * RANK, -1, 1),
        q: draw(RANK * n, -8, 8),
    }
}

/// `left` (rows × r) times `right` (r × cols), row-major, split over the host's cores.
fn times<T: Send + Copy + Default>(
    left: &[i64],
    right: &[i64],
    cols: usize,
    convert: impl Fn(i64) -> T + Sync,
) -> Vec<T> {
    let rows = left.len() / RANK;
    let mut out = vec![T::default(); rows * cols];
    if rows == 0 || cols == 0 {
        return out;
    }
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    let per_thread = rows.div_ceil(threads);
    std::thread::scope(|scope| {
        for (index, chunk) in out.chunks_mut(per_thread * cols).enumerate() {
            let convert = &convert;
            scope.spawn(move || {
                for (local, row) in chunk.chunks_mut(cols).enumerate() {
                    let l = &left[(index * per_thread + local) * RANK..][..RANK];
                    for (j, value) in row.iter_mut().enumerate() {
                        let dot: i64 = (0..RANK).map(|s| l[s] * right[s * cols + j]).sum();
                        *value = convert(dot);
                    }
                }
            });
        }
    });
    out
}

/// (U·V)·P·Q with the inner r × r product formed first: G = U·(V·P), m × r.
fn left_of_product(f: &Factors, k: usize) -> Vec<i64> {
    let mut vp = vec![0i64; RANK * RANK];
    for s in 0..RANK {
        for t in 0..RANK {
            vp[s * RANK + t] = (0..k).map(|p| f.v[s * k + p] * f.p[p * RANK + t]).sum();
        }
    }
    times(&f.u, &vp, RANK, |x| x)
}

/// f32 inputs A (m × k), B (k × n) and their exact product C, correctly rounded to f32.
pub fn float_product(m: usize, n: usize, k: usize, seed: u64) -> [Vec<f32>; 3] {
    let f = factors(m, n, k, seed);
    let scale = |x: i64| (x as f64 / FLOAT_SCALE) as f32;
    let a = times(&f.u, &f.v, k, scale);
    let b = times(&f.p, &f.q, n, scale);
    let c = times(&left_of_product(&f, k), &f.q, n, |x| {
        (x as f64 / (FLOAT_SCALE * FLOAT_SCALE)) as f32
    });
    [a, b, c]
}

/// i8 inputs A (m × k), B (k × n) and their exact i32 product C.
pub fn int_product(m: usize, n: usize, k: usize, seed: u64) -> (Vec<i8>, Vec<i8>, Vec<i32>) {
    let f = factors(m, n, k, seed);
    // |U·V| ≤ r · 8 = 32 fits i8; |C| ≤ k · 32 · 32 fits i32 for k < 2^21.
    let a = times(&f.u, &f.v, k, |x| x as i8);
    let b = times(&f.p, &f.q, n, |x| x as i8);
    let c = times(&left_of_product(&f, k), &f.q, n, |x| x as i32);
    (a, b, c)
}
