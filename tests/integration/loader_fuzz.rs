//! A seeded mutation fuzzer for the result-file loader and validator, and for the fleet-file,
//! ratios-file and Epoch CSV loaders, that runs on stable Rust (cargo-fuzz needs nightly; its targets are in fuzz/). Inputs
//! are the clean fixture, the example fleets and the hostile corpora, mutated by truncation, byte edits, splices and swapping numbers for extreme
//! values; every mutant must load to a value or an error, and every loaded result file must validate,
//! without a panic. A few hundred iterations run in `cargo test`; `scripts/fuzz.sh` runs it for
//! longer (FLEETBENCH_FUZZ_ITERS, FLEETBENCH_FUZZ_SECONDS, FLEETBENCH_FUZZ_SEED).

use crate::common::repo_path;
use fleetbench::catalog::parse_epoch;
use fleetbench::equiv::RatiosFile;
use fleetbench::fleet::FleetFile;
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

/// Every file with extension `ext` in the given repository folders.
fn seeds(dirs: &[&str], ext: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for dir in dirs {
        for entry in std::fs::read_dir(repo_path(dir)).unwrap() {
            let path = entry.unwrap().path();
            if path.is_file() && path.extension().is_some_and(|e| e == ext) {
                out.push(std::fs::read(&path).unwrap());
            }
        }
    }
    assert!(!out.is_empty(), "no seeds in {dirs:?}");
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

/// Feeds mutants of `seeds` to `load` (true when it accepted the input) until the iteration or
/// time budget is spent; a panic saves the input and fails. Returns (mutants, accepted).
fn fuzz(name: &str, seeds: &[Vec<u8>], load: impl Fn(&[u8]) -> bool) -> (u64, u64) {
    let iterations = env_number("FLEETBENCH_FUZZ_ITERS", 400);
    let budget = Duration::from_secs(env_number("FLEETBENCH_FUZZ_SECONDS", 3600));
    let mut rng = ChaCha8Rng::seed_from_u64(env_number("FLEETBENCH_FUZZ_SEED", 7));
    let start = Instant::now();
    let (mut loaded, mut done) = (0u64, 0u64);
    while done < iterations && start.elapsed() < budget {
        let input = mutate(&seeds[rng.random_range(0..seeds.len())], &mut rng);
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| load(&input))) {
            Ok(accepted) => loaded += u64::from(accepted),
            Err(_) => {
                let keep = std::env::temp_dir().join(format!("fleetbench-fuzz-{name}-{done}"));
                let _ = std::fs::write(&keep, &input);
                panic!(
                    "{name}: panic on mutant {done}; input saved to {}",
                    keep.display()
                );
            }
        }
        done += 1;
    }
    eprintln!(
        "{name}: {done} mutants in {:.1?}, {loaded} accepted",
        start.elapsed()
    );
    (done, loaded)
}

#[test]
fn mutated_result_files_never_panic_the_loader_or_the_validator() {
    let seeds = seeds(&["tests/fixtures/validate", "tests/hostile"], "json");
    let (_, loaded) = fuzz("result", &seeds, |input| {
        parse(Path::new("fuzz.json"), input)
            .map(|file| check_file(&file, &NoPeaks))
            .is_ok()
    });
    assert!(
        loaded > 0,
        "no mutant loaded: the mutations never reach the validator"
    );
}

#[test]
fn mutated_fleet_files_never_panic_the_loader() {
    let seeds = seeds(&["data/scenarios", "tests/hostile-fleet"], "toml");
    let (_, loaded) = fuzz("fleet", &seeds, |input| {
        std::str::from_utf8(input)
            .is_ok_and(|text| FleetFile::parse(Path::new("fuzz.toml"), text).is_ok())
    });
    assert!(
        loaded > 0,
        "no mutant loaded: the mutations never get past the parser"
    );
}

#[test]
fn mutated_ratios_files_never_panic_the_loader() {
    let seeds = seeds(
        &["data/scenarios", "tests/fixtures", "tests/hostile-ratios"],
        "json",
    );
    let (_, loaded) = fuzz("ratios", &seeds, |input| {
        RatiosFile::parse(Path::new("fuzz.json"), input).is_ok()
    });
    assert!(
        loaded > 0,
        "no mutant loaded: the mutations never reach the checks"
    );
}

#[test]
fn mutated_epoch_files_never_panic_the_import() {
    let seeds = seeds(&["tests/fixtures", "tests/hostile-epoch"], "csv");
    let (_, loaded) = fuzz("epoch", &seeds, |input| {
        std::str::from_utf8(input)
            .is_ok_and(|text| parse_epoch(Path::new("fuzz.csv"), text).is_ok())
    });
    assert!(
        loaded > 0,
        "no mutant loaded: the mutations never get past the parser"
    );
}
