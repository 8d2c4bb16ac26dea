//! The records of the merge's spill files ([`super::spill`]) and the report's per-unit rows
//! read back from them: a group's units and scores are sequences that [`serde`] streams from
//! the spill when the report is printed or written, so a fleet's report is never held whole.

use super::spill::{path_bytes, path_from, Fields, SpillDir, SpillFile, SpillReader, SpillWriter};
use super::{Unit, UnitScore};
use crate::error::Result;
use serde::ser::{Error as _, SerializeSeq};
use serde::{Serialize, Serializer};
use std::sync::Arc;

/// Where a unit's record says it belongs: its group (in the order groups were first seen),
/// its index there, and how many case records it has in the `stats` file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct UnitPlace {
    pub group: u32,
    pub index: u32,
    pub cases: u32,
}

/// Unit records start at multiples of this many bytes, so where one starts, divided by it,
/// fits 32 bits for up to 32 GiB of records (the duplicate check keeps that number).
pub(super) const UNIT_ALIGN: u64 = 8;

/// Appends one unit's record to the `units` file.
pub(super) fn write_unit(out: &mut SpillWriter, place: UnitPlace, unit: &Unit) -> Result<()> {
    out.u32(place.group)?;
    out.u32(place.index)?;
    out.u32(place.cases)?;
    out.u64(unit.device_index as u64)?;
    out.text(unit.host.as_bytes())?;
    out.text(unit.run_id.as_bytes())?;
    out.text(&path_bytes(&unit.path))?;
    out.align(UNIT_ALIGN)
}

/// The next unit of the `units` file, or None at its end.
pub(super) fn read_unit(input: &mut SpillReader) -> Result<Option<(UnitPlace, Unit)>> {
    let Some(group) = input.first_u32()? else {
        return Ok(None);
    };
    let place = UnitPlace {
        group,
        index: input.u32()?,
        cases: input.u32()?,
    };
    let unit = Unit {
        device_index: usize::try_from(input.u64()?).unwrap_or(usize::MAX),
        host: input.string()?,
        run_id: input.string()?,
        path: path_from(input.text()?),
    };
    input.align(UNIT_ALIGN)?;
    Ok(Some((place, unit)))
}

/// What one unit contributes to one case, as the `stats` file holds it: the statistics every
/// group figure is computed from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct UnitCase {
    /// The group's case (an index into the merge's columns).
    pub column: u32,
    /// Index into the group's units.
    pub unit: u32,
    /// The unit's sample count.
    pub samples: u32,
    /// The unit's median throughput.
    pub median: f64,
    /// Upper end of that median's 95% interval: the outlier test asks whether it lies below
    /// the group's centre.
    pub high: f64,
}

/// Bytes of a [`UnitCase`] record.
const UNIT_CASE_BYTES: usize = 32;

/// Appends one record to the `stats` file.
pub(super) fn write_unit_case(out: &mut SpillWriter, case: &UnitCase) -> Result<()> {
    out.u32(case.column)?;
    out.u32(case.unit)?;
    out.u32(case.samples)?;
    out.u32(0)?;
    out.f64(case.median)?;
    out.f64(case.high)
}

/// The next record of the `stats` file, or None at its end.
pub(super) fn read_unit_case(input: &mut SpillReader) -> Result<Option<UnitCase>> {
    let Some(bytes) = input.record::<UNIT_CASE_BYTES>()? else {
        return Ok(None);
    };
    let mut f = Fields::new(&bytes);
    let (column, unit, samples, _) = (f.u32(), f.u32(), f.u32(), f.u32());
    Ok(Some(UnitCase {
        column,
        unit,
        samples,
        median: f.f64(),
        high: f.f64(),
    }))
}

/// Bytes of a score record.
const SCORE_BYTES: usize = 32;

/// Appends one unit's score, with its group, to the `scores` file.
pub(super) fn write_score(out: &mut SpillWriter, group: u32, score: &UnitScore) -> Result<()> {
    let narrow = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    out.u32(group)?;
    out.u32(narrow(score.unit))?;
    out.u32(narrow(score.cases))?;
    out.u32(narrow(score.significantly_below))?;
    out.f64(score.relative)?;
    out.bytes(&[u8::from(score.outlier), 0, 0, 0, 0, 0, 0, 0])
}

/// The next score of the `scores` file with its group, or None at its end.
fn read_score(input: &mut SpillReader) -> Result<Option<(u32, UnitScore)>> {
    let Some(bytes) = input.record::<SCORE_BYTES>()? else {
        return Ok(None);
    };
    let mut f = Fields::new(&bytes);
    let group = f.u32();
    let (unit, cases, below) = (f.u32(), f.u32(), f.u32());
    let score = UnitScore {
        unit: unit as usize,
        cases: cases as usize,
        significantly_below: below as usize,
        relative: f.f64(),
        outlier: f.u8() != 0,
    };
    Ok(Some((group, score)))
}

/// A group's units, in the order they were merged, read back from the spill: serialised as a
/// list (the report's `units`), or visited one at a time.
#[derive(Debug, Clone)]
pub struct UnitRows {
    pub(super) spill: Arc<SpillDir>,
    pub(super) group: u32,
    pub(super) len: usize,
}

impl UnitRows {
    /// How many units the group has.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the group has none (never, for a group of a report).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Calls `visit` with each unit, in order.
    pub fn for_each(&self, mut visit: impl FnMut(Unit) -> Result<()>) -> Result<()> {
        let mut input = self.spill.open(SpillFile::Units, 0)?;
        while let Some((place, unit)) = read_unit(&mut input)? {
            if place.group == self.group {
                visit(unit)?;
            }
        }
        Ok(())
    }

    /// Every unit at once: for a small fleet, or a test.
    pub fn to_vec(&self) -> Result<Vec<Unit>> {
        let mut units = Vec::with_capacity(self.len);
        self.for_each(|u| {
            units.push(u);
            Ok(())
        })?;
        Ok(units)
    }
}

/// A group's scores, one per unit in the units' order, read back from the spill.
#[derive(Debug, Clone)]
pub struct ScoreRows {
    pub(super) spill: Arc<SpillDir>,
    pub(super) group: u32,
    pub(super) len: usize,
}

impl ScoreRows {
    /// How many scores (one per unit).
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Calls `visit` with each score, in order.
    pub fn for_each(&self, mut visit: impl FnMut(UnitScore) -> Result<()>) -> Result<()> {
        let mut input = self.spill.open(SpillFile::Scores, 0)?;
        while let Some((group, score)) = read_score(&mut input)? {
            if group == self.group {
                visit(score)?;
            }
        }
        Ok(())
    }

    /// Every score at once: for a small fleet, or a test.
    pub fn to_vec(&self) -> Result<Vec<UnitScore>> {
        let mut scores = Vec::with_capacity(self.len);
        self.for_each(|s| {
            scores.push(s);
            Ok(())
        })?;
        Ok(scores)
    }
}

/// Serialises rows as a list, element by element as they are read.
fn serialize_rows<S: Serializer, T: Serialize>(
    serializer: S,
    len: usize,
    for_each: impl FnOnce(&mut dyn FnMut(T) -> Result<()>) -> Result<()>,
) -> std::result::Result<S::Ok, S::Error> {
    let mut seq = serializer.serialize_seq(Some(len))?;
    let mut failed = None;
    let read = for_each(&mut |row| {
        seq.serialize_element(&row).map_err(|e| {
            let message = e.to_string();
            failed = Some(e);
            crate::error::Error::Render(message)
        })
    });
    if let Some(e) = failed {
        return Err(e);
    }
    read.map_err(S::Error::custom)?;
    seq.end()
}

impl Serialize for UnitRows {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serialize_rows(serializer, self.len, |visit| self.for_each(visit))
    }
}

impl Serialize for ScoreRows {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serialize_rows(serializer, self.len, |visit| self.for_each(visit))
    }
}
