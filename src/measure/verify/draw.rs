//! The seeded random choices of a sampled check: projection vectors, rows and columns.

use rand::seq::index;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Mixed into the case seed so the check's draws are independent of the inputs' stream.
const CHECK_SALT: u64 = 0x5EED_C4EC_0F00_D5A1;

/// The random generator of a check on a case with `seed`.
pub(super) fn check_rng(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ CHECK_SALT)
}

/// `T` vectors of length `len` with entries s·(1 + u): a random sign s and u uniform in
/// [0, 1). As `len` entries of `T` lanes (entry `j` of every vector together), the layout the
/// projection loops read. Why these entries: see [`super`] (a density, so no error cancels
/// exactly; |entry| ≥ 1, so one wrong element moves its component by at least its error).
pub(super) fn signed_vectors<const T: usize>(rng: &mut ChaCha8Rng, len: usize) -> Vec<[f64; T]> {
    (0..len)
        .map(|_| {
            std::array::from_fn(|_| {
                let magnitude = 1.0 + rng.random::<f64>();
                if rng.random::<bool>() {
                    magnitude
                } else {
                    -magnitude
                }
            })
        })
        .collect()
}

/// `T` vectors of length `len` with integer entries uniform in `0..range`, as f64 (exact),
/// laid out like [`signed_vectors`].
pub(super) fn range_vectors<const T: usize>(
    rng: &mut ChaCha8Rng,
    len: usize,
    range: u64,
) -> Vec<[f64; T]> {
    let range = range.clamp(1, 1 << 53);
    (0..len)
        .map(|_| std::array::from_fn(|_| rng.random_range(0..range) as f64))
        .collect()
}

/// Up to `count` distinct indices below `len`, sorted.
pub(super) fn lines(rng: &mut ChaCha8Rng, len: usize, count: usize) -> Vec<usize> {
    let mut picked = index::sample(rng, len, count.min(len)).into_vec();
    picked.sort_unstable();
    picked
}
