//! The allowed range of every numeric flag, in one place, so that whatever `run` accepts gives
//! a file `validate` accepts and no value can overflow a conversion or run for hours. A value
//! outside its range is refused with one line that names the flag and the range.

use anyhow::bail;
use std::ops::RangeInclusive;

/// `run --samples`: two for a spread, and no more than `validate` accepts in a file.
pub const SAMPLES: RangeInclusive<usize> = 2..=fleetbench::validate::MAX_SAMPLES;
/// `run --warmup`, seconds: an hour of warm-up is already far more than any GPU needs.
pub const WARMUP_S: RangeInclusive<f64> = 0.0..=3600.0;
/// `run --gpu-timeout`, seconds: above zero, and at most a day (a case that takes longer is
/// hung, and larger values overflow a `Duration`).
pub const GPU_TIMEOUT_S: RangeInclusive<f64> = 0.001..=86_400.0;
/// `run --max-memory`, bytes: one byte to one pebibyte, far above any adapter's memory.
pub const MAX_MEMORY_BYTES: RangeInclusive<u64> = 1..=(1 << 50);
/// `compare --resamples`: enough for a 95% interval, and few enough to finish in seconds.
pub const RESAMPLES: RangeInclusive<usize> = 100..=100_000;
/// `run --fake NAME:GFLOPS`: the fake reaches this rate on every case, bandwidth cases included
/// (as GB/s), give or take its noise and the tuned variants' spread (a few percent). `validate`
/// accepts at most 1e5 GB/s from a device without a catalog figure, so the top is half that:
/// every file a fake writes validates.
pub const FAKE_GFLOPS: RangeInclusive<f64> = 0.001..=50_000.0;
/// `--threshold` of `compare` and `merge`, percent.
pub const THRESHOLD_PCT: RangeInclusive<f64> = 0.0..=100.0;

/// `value` when `range` holds it; otherwise the one-line error "`flag` VALUE: expected … from A
/// to B". NaN is outside every range.
pub fn check<T>(flag: &str, value: T, range: &RangeInclusive<T>, what: &str) -> anyhow::Result<T>
where
    T: PartialOrd + std::fmt::Display + Copy,
{
    if range.contains(&value) {
        return Ok(value);
    }
    bail!(
        "{flag} {value}: expected {what} from {} to {}",
        range.start(),
        range.end()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_in_range_pass_and_others_name_the_range() {
        assert_eq!(check("--samples", 10, &SAMPLES, "a count").unwrap(), 10);
        let e = check("--samples", 10_001, &SAMPLES, "a count").unwrap_err();
        assert_eq!(
            e.to_string(),
            "--samples 10001: expected a count from 2 to 10000"
        );
        for bad in [f64::NAN, f64::INFINITY, 0.0, -1.0, 1e20] {
            assert!(
                check("--gpu-timeout", bad, &GPU_TIMEOUT_S, "seconds").is_err(),
                "{bad}"
            );
        }
        assert!(check("--threshold", 100.0, &THRESHOLD_PCT, "a percentage").is_ok());
    }

    #[test]
    fn the_largest_timeout_converts_to_a_duration() {
        let _ = std::time::Duration::from_secs_f64(*GPU_TIMEOUT_S.end());
    }
}
