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

/// `T` vectors of length `len` with ±1 entries, as `len` entries of `T` lanes (entry `j`
/// of every vector together), the layout the projection loops read.
pub(super) fn sign_vectors<const T: usize>(rng: &mut ChaCha8Rng, len: usize) -> Vec<[f64; T]> {
    (0..len)
        .map(|_| std::array::from_fn(|_| if rng.random::<bool>() { 1.0 } else { -1.0 }))
        .collect()
}

/// `T` vectors of length `len` with entries uniform in `0..range`, laid out like
/// [`sign_vectors`].
pub(super) fn range_vectors<const T: usize>(
    rng: &mut ChaCha8Rng,
    len: usize,
    range: u64,
) -> Vec<[i64; T]> {
    let range = range.clamp(1, i64::MAX as u64) as i64;
    (0..len)
        .map(|_| std::array::from_fn(|_| rng.random_range(0..range)))
        .collect()
}

/// Up to `count` distinct indices below `len`, sorted.
pub(super) fn lines(rng: &mut ChaCha8Rng, len: usize, count: usize) -> Vec<usize> {
    let mut picked = index::sample(rng, len, count.min(len)).into_vec();
    picked.sort_unstable();
    picked
}
