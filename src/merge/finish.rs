//! The passes over the spill that make a merge's report: each case's exact centre, quartiles
//! and interval of the unit medians ([`super::select`]), then every unit's score (written to
//! the spill's `scores` file; the outliers and the units the tables name are kept), then the
//! names of those units.

use super::rows::{read_unit, read_unit_case, write_score, UnitCase, UnitPlace};
use super::select::{select, sort_key, ColumnRange};
use super::spill::{SpillDir, SpillFile, SpillReader};
use super::{CaseSpread, Unit, UnitMedian, UnitScore, MIN_UNITS_FOR_OUTLIERS};
use crate::error::{Error, Result};
use crate::stats::{median_ci_ranks, Interval, QuantileAt, MEDIAN_LEVEL};
use std::collections::{HashMap, HashSet};

/// What the merge knows of one case of one group without reading the spill: counted as units
/// were added.
#[derive(Debug)]
pub(super) struct Column {
    /// The group's index, in the order groups were first seen.
    pub group: usize,
    pub case_id: String,
    /// The rate unit of the last unit added (all agree for one kernel and workload).
    pub rate_unit: String,
    pub units: usize,
    pub samples: usize,
    /// The first unit with the smallest median, and the last with the largest.
    pub slowest: Option<UnitMedian>,
    pub fastest: Option<UnitMedian>,
    /// The smallest and largest median as [`sort_key`]s.
    pub min_key: u64,
    pub max_key: u64,
    /// The pooled samples, kept only for `merge --samples`.
    pub pool: Vec<f64>,
}

impl Column {
    pub(super) fn new(group: usize, case_id: String) -> Self {
        Column {
            group,
            case_id,
            rate_unit: String::new(),
            units: 0,
            samples: 0,
            slowest: None,
            fastest: None,
            min_key: u64::MAX,
            max_key: 0,
            pool: Vec::new(),
        }
    }

    /// Counts one unit's statistics of this case.
    pub(super) fn add(&mut self, case: &UnitCase) {
        let this = UnitMedian {
            unit: case.unit as usize,
            median: case.median,
        };
        self.units += 1;
        self.samples += case.samples as usize;
        if self
            .slowest
            .is_none_or(|s| case.median.total_cmp(&s.median).is_lt())
        {
            self.slowest = Some(this);
        }
        if self
            .fastest
            .is_none_or(|f| case.median.total_cmp(&f.median).is_ge())
        {
            self.fastest = Some(this);
        }
        let key = sort_key(case.median);
        self.min_key = self.min_key.min(key);
        self.max_key = self.max_key.max(key);
    }
}

/// The three quartiles' positions and the centre's interval ranks among `n` unit medians.
struct Ranks {
    quartiles: [QuantileAt; 3],
    interval: (usize, usize),
}

impl Ranks {
    fn of(n: usize) -> Self {
        Ranks {
            quartiles: [0.25, 0.5, 0.75].map(|q| QuantileAt::new(n, q)),
            interval: median_ci_ranks(n, MEDIAN_LEVEL),
        }
    }

    /// Every rank needed, in a fixed order: each quartile's two, then the interval's two.
    fn all(&self) -> [usize; 8] {
        let [a, b, c] = self.quartiles;
        [
            a.lo,
            a.hi,
            b.lo,
            b.hi,
            c.lo,
            c.hi,
            self.interval.0,
            self.interval.1,
        ]
    }
}

/// Each column's spread, in the columns' order: the order statistics of its unit medians are
/// selected exactly from the `stats` file. The pooled samples move into the spread.
pub(super) fn spreads(spill: &SpillDir, columns: &mut [Column]) -> Result<Vec<CaseSpread>> {
    let ranges: Vec<ColumnRange> = columns
        .iter()
        .map(|c| ColumnRange {
            len: c.units,
            min: c.min_key,
            max: c.max_key,
        })
        .collect();
    let ranks: Vec<Ranks> = columns.iter().map(|c| Ranks::of(c.units)).collect();
    let wanted: Vec<(usize, usize)> = ranks
        .iter()
        .enumerate()
        .flat_map(|(column, r)| r.all().map(|rank| (column, rank)))
        .collect();
    let values = select(&ranges, &wanted, |visit| {
        let mut input = spill.open(SpillFile::Stats, 0)?;
        while let Some(case) = read_unit_case(&mut input)? {
            visit(case.column as usize, sort_key(case.median));
        }
        Ok(())
    })?;
    columns
        .iter_mut()
        .zip(ranks)
        .zip(values.chunks(8))
        .map(|((column, ranks), values)| spread(column, &ranks, values))
        .collect()
}

/// One column's spread from its selected order statistics (`values` in [`Ranks::all`]'s
/// order): the same numbers `stats::quantile` and `median_ci` give on the sorted medians.
fn spread(column: &mut Column, ranks: &Ranks, values: &[f64]) -> Result<CaseSpread> {
    let (Some(slowest), Some(fastest)) = (column.slowest, column.fastest) else {
        return Err(Error::Samples(format!(
            "case {}: no unit measured it",
            column.case_id
        )));
    };
    let at = |i: usize| ranks.quartiles[i].value(values[2 * i], values[2 * i + 1]);
    let (q1, centre, q3) = (at(0), at(1), at(2));
    Ok(CaseSpread {
        case_id: column.case_id.clone(),
        unit: column.rate_unit.clone(),
        units: column.units,
        samples: column.samples,
        centre: Interval::new(centre, values[6], values[7], MEDIAN_LEVEL),
        pooled_samples: None,
        q1,
        q3,
        iqr: q3 - q1,
        slowest,
        fastest,
    })
}

/// What the scoring pass keeps: per group (in first-seen order), its outliers with their
/// units, and the units of `wanted` (those the tables name: each case's slowest and fastest).
pub(super) struct Scored {
    pub outliers: Vec<Vec<(Unit, UnitScore)>>,
    pub named: HashMap<(u32, u32), Unit>,
}

/// Scores every unit against its group's centre of each case it ran, writing the scores to
/// the spill's `scores` file in the units' order. A unit is an outlier when its median ratio is
/// below `1 - threshold` *and* on most of its cases its whole 95% interval lies below the
/// centre, so one noisy sample cannot name a healthy GPU. `group_units` is each group's unit
/// count: outliers are judged in groups of at least [`MIN_UNITS_FOR_OUTLIERS`].
pub(super) fn score_units(
    spill: &SpillDir,
    spreads: &[CaseSpread],
    group_units: &[u32],
    threshold: f64,
    wanted: &HashSet<(u32, u32)>,
) -> Result<Scored> {
    let mut units = spill.open(SpillFile::Units, 0)?;
    let mut stats = spill.open(SpillFile::Stats, 0)?;
    let mut out = spill.create(SpillFile::Scores)?;
    let mut scored = Scored {
        outliers: vec![Vec::new(); group_units.len()],
        named: HashMap::new(),
    };
    let mut ratios = Vec::new();
    while let Some((place, unit)) = read_unit(&mut units)? {
        let mut score = score_one(&mut stats, place, spreads, &mut ratios)?;
        let judge = group_units[place.group as usize] as usize >= MIN_UNITS_FOR_OUTLIERS;
        score.outlier = judge
            && score.relative < 1.0 - threshold
            && score.significantly_below * 2 > score.cases;
        write_score(&mut out, place.group, &score)?;
        if wanted.contains(&(place.group, place.index)) {
            scored
                .named
                .insert((place.group, place.index), unit.clone());
        }
        if score.outlier {
            scored.outliers[place.group as usize].push((unit, score));
        }
    }
    out.flush()?;
    Ok(scored)
}

/// One unit's score (not yet judged an outlier) from its case records, which follow each
/// other in the `stats` file.
fn score_one(
    stats: &mut SpillReader,
    place: UnitPlace,
    spreads: &[CaseSpread],
    ratios: &mut Vec<f64>,
) -> Result<UnitScore> {
    ratios.clear();
    let mut below = 0usize;
    for _ in 0..place.cases {
        let case = read_unit_case(stats)?
            .filter(|c| c.unit == place.index)
            .ok_or_else(|| Error::Samples("merge's temporary files disagree".to_string()))?;
        let centre = spreads
            .get(case.column as usize)
            .ok_or_else(|| Error::Samples("merge's temporary files disagree".to_string()))?
            .centre
            .value;
        ratios.push(case.median / centre);
        below += usize::from(case.high < centre);
    }
    Ok(UnitScore {
        unit: place.index as usize,
        relative: median(ratios),
        cases: ratios.len(),
        significantly_below: below,
        outlier: false,
    })
}

/// Median of any list (NaN for none); sorts it.
fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    values.sort_by(f64::total_cmp);
    crate::stats::median_of_sorted(values)
}

/// The display names of `units` (group, index, unit): `host:gpuN`, with the run id added where
/// several units of the group share it (a job array on one node, or pods that each see their
/// GPU as adapter 0). One pass over the `units` file counts how many units of each group bear
/// each of those labels.
pub(super) fn names<'a>(
    spill: &SpillDir,
    units: impl Iterator<Item = (u32, u32, &'a Unit)> + Clone,
) -> Result<HashMap<(u32, u32), String>> {
    let mut counts: HashMap<(u32, String), usize> = units
        .clone()
        .map(|(group, _, unit)| ((group, unit.label()), 0))
        .collect();
    let mut input = spill.open(SpillFile::Units, 0)?;
    while let Some((place, unit)) = read_unit(&mut input)? {
        if let Some(count) = counts.get_mut(&(place.group, unit.label())) {
            *count += 1;
        }
    }
    Ok(units
        .map(|(group, index, unit)| {
            let label = unit.label();
            let name = match counts.get(&(group, label.clone())) {
                Some(n) if *n > 1 => format!("{label} ({})", unit.run_id),
                _ => label,
            };
            ((group, index), name)
        })
        .collect())
}
