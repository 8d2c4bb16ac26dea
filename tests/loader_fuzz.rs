//! A seeded mutation fuzzer for the result-file loader and the validator that runs on stable Rust
//! (cargo-fuzz needs nightly; its target is in fuzz/). Inputs are the clean fixture and the
//! hostile corpus, mutated by truncation, byte edits, splices and swapping numbers for extreme
//! values; every mutant must load to a value or an error, and every loaded file must validate,
//! without a panic. A few hundred iterations run in `cargo test`; `scripts/fuzz.sh` runs it for
//! longer (FLEETBENCH_FUZZ_ITERS, FLEETBENCH_FUZZ_SECONDS, FLEETBENCH_FUZZ_SEED).

mod common;
use common::repo_path;
use fleetbench::results::store::parse;
use fleetbench::validate::{check_file, NoPeaks};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::path::Path;
use std::time::{Duration, Instant};

/// Replacements for a number: the values loaders and statistics get wrong.
const EXTREMES: &[&str] = &[
    "0",
    "-0",
    "-1",
    "1e-320",
    "1e308",
    "-1e308",
    "1e400",
    "18446744073709551615",
    "18446744073709551616",
    "4294967296",
    "0.5",
    "null",
    "\"x\"",
    "[]",
    "{}",
    "true",
];

fn seeds() -> Vec<Vec<u8>> {
    let mut out = vec![std::fs::read(repo_path("tests/fixtures/validate/clean.json")).unwrap()];
    for entry in std::fs::read_dir(repo_path("tests/hostile")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() && path.extension().is_some_and(|e| e == "json") {
            out.push(std::fs::read(&path).unwrap());
        }
    }
    out
}

/// Byte ranges of the numbers in `bytes`.
fn numbers(bytes: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_digit() || bytes[i] == b'-' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || b"-+.eE".contains(&bytes[i])) {
                i += 1;
            }
            out.push((start, i));
        }
        i += 1;
    }
    out
}

fn mutate(input: &[u8], rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut b = input.to_vec();
    for _ in 0..rng.random_range(1..3) {
        let len = b.len().max(1);
        // Mostly number swaps: they keep the JSON valid, so the mutant reaches the validator.
        match rng.random_range(0..10) {
            0 => b.truncate(rng.random_range(0..len)),
            1 if !b.is_empty() => {
                let i = rng.random_range(0..b.len());
                b[i] = rng.random();
            }
            2 => {
                let (from, to) = (rng.random_range(0..len), rng.random_range(0..len));
                let piece: Vec<u8> = b.get(from.min(to)..from.max(to)).unwrap_or(&[]).to_vec();
                let at = rng.random_range(0..=b.len());
                b.splice(at..at, piece);
            }
            _ => {
                let spots = numbers(&b);
                if !spots.is_empty() {
                    let (s, e) = spots[rng.random_range(0..spots.len())];
                    let value = EXTREMES[rng.random_range(0..EXTREMES.len())];
                    b.splice(s..e, value.bytes());
                }
            }
        }
    }
    b
}

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn mutated_files_never_panic_the_loader_or_the_validator() {
    let iterations = env_number("FLEETBENCH_FUZZ_ITERS", 400);
    let budget = Duration::from_secs(env_number("FLEETBENCH_FUZZ_SECONDS", 3600));
    let mut rng = ChaCha8Rng::seed_from_u64(env_number("FLEETBENCH_FUZZ_SEED", 7));
    let seeds = seeds();
    let start = Instant::now();
    let (mut loaded, mut done) = (0u64, 0u64);
    while done < iterations && start.elapsed() < budget {
        let input = mutate(&seeds[rng.random_range(0..seeds.len())], &mut rng);
        let outcome = std::panic::catch_unwind(|| {
            parse(Path::new("fuzz.json"), &input).map(|file| check_file(&file, &NoPeaks))
        });
        match outcome {
            Ok(result) => loaded += u64::from(result.is_ok()),
            Err(_) => {
                let keep = std::env::temp_dir().join(format!("fleetbench-fuzz-crash-{done}.json"));
                let _ = std::fs::write(&keep, &input);
                panic!("panic on mutant {done}; input saved to {}", keep.display());
            }
        }
        done += 1;
    }
    eprintln!(
        "{done} mutants in {:.1?}, {loaded} of them loaded",
        start.elapsed()
    );
    assert!(
        loaded > 0,
        "no mutant loaded: the mutations never reach the validator"
    );
}
