//! Exact order statistics of many columns of numbers (a fleet's unit medians, one column per
//! group and case) that are read from a spill file in passes rather than held: radix selection
//! on the numbers' bits. Each wanted rank narrows, pass by pass, the range of bit patterns it
//! lies in (eight bits a pass, from a 256-bin histogram of the values in its range); once its
//! range holds few enough values, or values all equal, one more pass collects them and picks
//! the rank. A pass serves as many ranks as fit in [`PASS_BUDGET`] bytes, so memory is bounded
//! whatever the number of values, and the answer is the same value a full sort would give.

use crate::error::{Error, Result};

/// A range of at most this many values is collected and sorted rather than narrowed further.
const COLLECT_LIMIT: usize = 4096;

/// Memory one pass may spend on histograms and collected values, in bytes.
const PASS_BUDGET: usize = 2 << 20;

/// Bytes of one histogram.
const HISTOGRAM_BYTES: usize = 256 * 4;

/// The bits of `v` as an integer that sorts like [`f64::total_cmp`]: negative numbers have
/// every bit flipped, the others only the sign bit.
pub(super) fn sort_key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

/// The inverse of [`sort_key`].
pub(super) fn from_key(key: u64) -> f64 {
    f64::from_bits(if key >> 63 == 1 {
        key & !(1 << 63)
    } else {
        !key
    })
}

/// What is known of a column before any pass: how many values, their smallest and largest key
/// (equal keys need no pass at all).
#[derive(Debug, Clone, Copy)]
pub(super) struct ColumnRange {
    /// How many values the column has.
    pub len: usize,
    /// The smallest [`sort_key`].
    pub min: u64,
    /// The largest [`sort_key`].
    pub max: u64,
}

/// One wanted rank and what is known of it so far.
#[derive(Debug)]
struct Target {
    column: usize,
    /// Its rank among the values of its current range.
    rank: usize,
    /// The top `depth` bits that every value of its range shares.
    prefix: u64,
    depth: u32,
    /// How many values its range holds.
    range_len: usize,
    value: Option<u64>,
}

impl Target {
    fn contains(&self, key: u64) -> bool {
        self.depth == 0 || key >> (64 - self.depth) == self.prefix
    }

    fn cost(&self) -> usize {
        if self.range_len <= COLLECT_LIMIT {
            self.range_len * 8
        } else {
            HISTOGRAM_BYTES
        }
    }
}

/// What one pass gathers for a target.
enum Gathered {
    Histogram(Vec<u32>),
    Values(Vec<u64>),
}

/// A target served by the current pass, with what it gathers and its range's extremes.
struct Work {
    target: usize,
    gathered: Gathered,
    min: u64,
    max: u64,
}

/// The values at `wanted` (column, 0-based rank in the column's sorted order), in that order.
/// `pass` reads every value once, calling its argument with (column, [`sort_key`] of the
/// value), in the same order each time; it is called as often as the ranks need.
pub(super) fn select(
    columns: &[ColumnRange],
    wanted: &[(usize, usize)],
    mut pass: impl FnMut(&mut dyn FnMut(usize, u64)) -> Result<()>,
) -> Result<Vec<f64>> {
    let mut targets = start(columns, wanted)?;
    loop {
        let mut work = plan_pass(&targets);
        if work.is_empty() {
            break;
        }
        let mut by_column: Vec<Vec<usize>> = vec![Vec::new(); columns.len()];
        for (i, w) in work.iter().enumerate() {
            by_column[targets[w.target].column].push(i);
        }
        pass(&mut |column, key| {
            for &i in by_column.get(column).map_or(&[][..], Vec::as_slice) {
                let w = &mut work[i];
                if targets[w.target].contains(key) {
                    gather(w, key, targets[w.target].depth);
                }
            }
        })?;
        for w in work {
            narrow(&mut targets[w.target], w)?;
        }
    }
    Ok(targets
        .iter()
        .map(|t| from_key(t.value.unwrap_or(0)))
        .collect())
}

/// A target per wanted rank; a column whose values are all equal answers at once.
fn start(columns: &[ColumnRange], wanted: &[(usize, usize)]) -> Result<Vec<Target>> {
    wanted
        .iter()
        .map(|&(column, rank)| {
            let range = columns
                .get(column)
                .filter(|c| rank < c.len)
                .ok_or_else(|| inconsistent("a rank outside its column"))?;
            Ok(Target {
                column,
                rank,
                prefix: 0,
                depth: 0,
                range_len: range.len,
                value: (range.min == range.max).then_some(range.min),
            })
        })
        .collect()
}

/// The unanswered targets the next pass serves: in order, while they fit the budget (always
/// at least one).
fn plan_pass(targets: &[Target]) -> Vec<Work> {
    let mut spent = 0;
    let mut work = Vec::new();
    for (i, t) in targets
        .iter()
        .enumerate()
        .filter(|(_, t)| t.value.is_none())
    {
        if !work.is_empty() && spent + t.cost() > PASS_BUDGET {
            break;
        }
        spent += t.cost();
        let gathered = if t.range_len <= COLLECT_LIMIT {
            Gathered::Values(Vec::with_capacity(t.range_len))
        } else {
            Gathered::Histogram(vec![0; 256])
        };
        work.push(Work {
            target: i,
            gathered,
            min: u64::MAX,
            max: 0,
        });
    }
    work
}

fn gather(work: &mut Work, key: u64, depth: u32) {
    work.min = work.min.min(key);
    work.max = work.max.max(key);
    match &mut work.gathered {
        Gathered::Values(values) => values.push(key),
        Gathered::Histogram(bins) => bins[((key >> (56 - depth)) & 0xff) as usize] += 1,
    }
}

/// What a pass tells a target: its value, or the narrower range it lies in.
fn narrow(target: &mut Target, work: Work) -> Result<()> {
    if work.min == work.max {
        target.value = Some(work.min);
        return Ok(());
    }
    match work.gathered {
        Gathered::Values(mut values) => {
            values.sort_unstable();
            let value = values.get(target.rank).copied();
            target.value = Some(value.ok_or_else(|| inconsistent("a range lost values"))?);
        }
        Gathered::Histogram(bins) => {
            let mut below = 0usize;
            for (digit, &count) in bins.iter().enumerate() {
                let count = count as usize;
                if target.rank < below + count {
                    target.rank -= below;
                    target.range_len = count;
                    target.prefix = (target.prefix << 8) | digit as u64;
                    target.depth += 8;
                    if target.depth == 64 {
                        target.value = Some(target.prefix);
                    }
                    return Ok(());
                }
                below += count;
            }
            return Err(inconsistent("a range lost values"));
        }
    }
    Ok(())
}

/// The spill read back differently from one pass to the next: a broken temporary file.
fn inconsistent(what: &str) -> Error {
    Error::Samples(format!(
        "merge's temporary file changed while it was read ({what})"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select_all(columns: &[Vec<f64>], wanted: &[(usize, usize)]) -> Vec<f64> {
        let ranges: Vec<ColumnRange> = columns
            .iter()
            .map(|c| ColumnRange {
                len: c.len(),
                min: c.iter().map(|v| sort_key(*v)).min().unwrap_or(0),
                max: c.iter().map(|v| sort_key(*v)).max().unwrap_or(0),
            })
            .collect();
        // The values interleaved across columns, as a spill holds them.
        let longest = columns.iter().map(Vec::len).max().unwrap_or(0);
        select(&ranges, wanted, |visit| {
            for i in 0..longest {
                for (c, column) in columns.iter().enumerate() {
                    if let Some(v) = column.get(i) {
                        visit(c, sort_key(*v));
                    }
                }
            }
            Ok(())
        })
        .unwrap()
    }

    #[test]
    fn keys_sort_like_total_cmp_and_come_back() {
        let mut values = vec![
            -1e300,
            -2.5,
            -0.0,
            0.0,
            1e-310,
            3.0,
            f64::INFINITY,
            -f64::INFINITY,
        ];
        for v in &values {
            assert_eq!(from_key(sort_key(*v)).to_bits(), v.to_bits());
        }
        let mut by_key = values.clone();
        by_key.sort_by_key(|v| sort_key(*v));
        values.sort_by(f64::total_cmp);
        assert_eq!(by_key, values);
    }

    #[test]
    fn every_rank_is_the_sorted_value_whatever_the_spread() {
        // Many values close together (a narrow fleet, past the collect limit), many equal
        // ones, a few far away, and a column of one value.
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let narrow: Vec<f64> = (0..20_000).map(|_| 100.0 + next()).collect();
        let mut tied: Vec<f64> = (0..9_000)
            .map(|i| if i % 3 == 0 { 7.0 } else { 7.5 })
            .collect();
        tied.extend([-3.0, 1e9, 0.0]);
        let wide: Vec<f64> = (0..5_000).map(|_| (next() - 0.5) * 1e6).collect();
        let columns = vec![narrow, tied, wide, vec![42.0]];
        let mut wanted = Vec::new();
        for (c, column) in columns.iter().enumerate() {
            for rank in [0, column.len() / 4, column.len() / 2, column.len() - 1] {
                wanted.push((c, rank));
            }
        }
        let got = select_all(&columns, &wanted);
        for (&(c, rank), value) in wanted.iter().zip(got) {
            let mut sorted = columns[c].clone();
            sorted.sort_by(f64::total_cmp);
            assert_eq!(value, sorted[rank], "column {c} rank {rank}");
        }
    }

    #[test]
    fn equal_values_need_no_pass() {
        let ranges = [ColumnRange {
            len: 3,
            min: sort_key(2.0),
            max: sort_key(2.0),
        }];
        let got = select(&ranges, &[(0, 1)], |_| panic!("no pass needed")).unwrap();
        assert_eq!(got, vec![2.0]);
    }
}
