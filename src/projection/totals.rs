//! Per-entry equivalents and fleet totals under one basis.

use super::basis::RatioSources;
use super::{Basis, DeviceFigures, Interval, RatioUsed};

/// One fleet entry as the projection sees it.
#[derive(Debug, Clone, Copy)]
pub enum Holding<'a> {
    /// `count` devices of a catalog model.
    Devices {
        /// The device's figures.
        figures: &'a DeviceFigures,
        /// How many.
        count: u64,
    },
    /// An amount already stated in reference-equivalents ("other GPUs worth 250k H100e");
    /// it is the same under every basis.
    Equivalents(f64),
    /// A device with no figures at all (not in the catalog): reported, never counted as zero.
    Unknown(&'a str),
}

/// One entry's result under one basis.
#[derive(Debug, Clone, PartialEq)]
pub struct EntryResult {
    /// The ratio used, `None` for a stated amount of equivalents.
    pub ratio: Option<RatioUsed>,
    /// Reference-equivalents, with interval.
    pub equivalents: Interval,
}

/// A fleet total under one basis.
#[derive(Debug, Clone, PartialEq)]
pub struct Total {
    /// Reference-equivalents, with interval.
    pub equivalents: Interval,
    /// Device ids left out because the basis has no figure for them ("the reference …" when
    /// it is the reference that lacks the figure).
    pub missing: Vec<String>,
    /// How many entries were summed.
    pub counted: usize,
}

impl Total {
    /// The total when every entry could be counted; `None` when any lacks a figure, because a
    /// partial sum is not the fleet's total and must not be compared with a claim as one.
    pub fn complete(&self) -> Option<Interval> {
        self.missing.is_empty().then_some(self.equivalents)
    }
}

/// An entry in reference-equivalents: `count × ratio` (bounds scale with the ratio's). `Err`
/// names what lacks a figure: the device's id, or "the reference ID" when the reference has no
/// figure under the basis (then no device can be counted, and blaming the device would be
/// wrong).
pub fn entry_equivalents(
    holding: Holding,
    basis: &Basis,
    src: RatioSources,
) -> Result<EntryResult, String> {
    match holding {
        Holding::Unknown(id) => Err(id.to_string()),
        Holding::Equivalents(x) => Ok(EntryResult {
            ratio: None,
            equivalents: Interval::exact(x),
        }),
        Holding::Devices { figures, count } => {
            let used = basis
                .ratio(figures, src)
                .ok_or_else(|| lacking_figure(basis, figures, src))?;
            let equivalents = used.ratio.scaled(count as f64);
            Ok(EntryResult {
                ratio: Some(used),
                equivalents,
            })
        }
    }
}

fn lacking_figure(basis: &Basis, device: &DeviceFigures, src: RatioSources) -> String {
    if basis.reference_throughput(src.reference).is_none() {
        format!("the reference {}", src.reference.id)
    } else {
        device.id.clone()
    }
}

/// The fleet total under `basis`: the sum of every entry that has a figure, and the ids of
/// those that do not (so a missing figure is reported, never counted as zero silently).
pub fn total(holdings: &[Holding], basis: &Basis, src: RatioSources) -> Total {
    let mut sum = Interval::exact(0.0);
    let mut missing: Vec<String> = Vec::new();
    let mut counted = 0;
    for h in holdings {
        match entry_equivalents(*h, basis, src) {
            Ok(r) => {
                sum = sum.plus(r.equivalents);
                counted += 1;
            }
            Err(id) if !missing.contains(&id) => missing.push(id),
            Err(_) => {}
        }
    }
    Total {
        equivalents: sum,
        missing,
        counted,
    }
}
