//! The projection as data: what `fleetbench project --format json` prints, what the report's
//! fleet charts draw, and what the text, CSV and Markdown tables are laid out from. Amounts
//! are reference-equivalents as [`Interval`]s; a value that cannot be computed is `None`,
//! never a zero. Rows name their basis by its label, which [`Projection::bases`] resolves.

use super::{Basis, Interval};
use crate::catalog::DatasheetFigure;
use schemars::JsonSchema;
use serde::Serialize;

/// A fleet file projected under a set of bases.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Projection {
    /// Reference device id: every amount is in its equivalents.
    pub reference: String,
    /// The bases shown side by side, in order; the first is the one the command was asked for.
    pub bases: Vec<NamedBasis>,
    /// One row per fleet entry and basis.
    pub entries: Vec<EntryRow>,
    /// One row per fleet and basis.
    pub totals: Vec<BasisTotal>,
    /// Every claim check, in file order.
    pub claims: Vec<ClaimCheck>,
    /// Stock at each acquisition date, for fleets whose every entry is dated.
    pub stock: Vec<StockPoint>,
    /// Whether a measured ratio came from simulated runs (`run --simulate`): then the whole
    /// projection is a test instrument's, never a measurement's. Absent when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub simulated: bool,
}

impl Projection {
    /// The basis a row's label names.
    pub fn basis(&self, label: &str) -> Option<&Basis> {
        self.bases
            .iter()
            .find(|b| b.label == label)
            .map(|b| &b.basis)
    }
}

/// A basis and the label rows refer to it by.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct NamedBasis {
    /// E.g. `published bf16`, `calibrated matmul-f16`.
    pub label: String,
    /// What the basis is.
    pub basis: Basis,
}

/// A throughput at peta scale: equivalents × what one reference delivers under the basis.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, JsonSchema)]
pub struct Throughput {
    /// The amount, with the equivalents' interval.
    pub amount: Interval,
    /// `PFLOP/s`, `POP/s` (INT8) or `PB/s` (bandwidth).
    pub unit: &'static str,
}

/// One fleet entry under one basis.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct EntryRow {
    /// Fleet name.
    pub fleet: String,
    /// The entry as the file describes it (device id, or its label for stated amounts).
    pub entry: String,
    /// Catalog id, `None` for an amount stated in equivalents.
    pub device: Option<String>,
    /// Device count, `None` for an amount stated in equivalents.
    pub count: Option<u64>,
    /// Acquisition date as written in the file.
    pub acquired: Option<String>,
    /// Basis label.
    pub basis: String,
    /// Device / reference under the basis; `None` for a stated amount or a missing figure.
    pub ratio: Option<Interval>,
    /// Where the ratio came from, or why there is none.
    pub provenance: String,
    /// Reference-equivalents; `None` when the basis has no figure for the device.
    pub equivalents: Option<Interval>,
    /// The entry's throughput under the basis, when the reference has the figure.
    pub throughput: Option<Throughput>,
}

/// A difference between two amounts of equivalents.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Difference {
    /// What the amount is compared against (a basis label, or `stated`).
    pub against: String,
    /// The other amount.
    pub base: f64,
    /// This amount minus the other.
    pub amount: f64,
    /// `amount` as a fraction of the other; `None` when the other is zero.
    pub relative: Option<f64>,
}

impl Difference {
    /// `value − base`, against `against`.
    pub fn between(value: f64, base: f64, against: &str) -> Self {
        Difference {
            against: against.to_string(),
            base,
            amount: value - base,
            relative: (base != 0.0).then(|| (value - base) / base),
        }
    }
}

/// One fleet's total under one basis.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct BasisTotal {
    /// Fleet name.
    pub fleet: String,
    /// Basis label.
    pub basis: String,
    /// Reference-equivalents of the entries that have a figure; `None` when it cannot be
    /// computed.
    pub equivalents: Option<Interval>,
    /// Total throughput under the basis, when the reference has the figure.
    pub throughput: Option<Throughput>,
    /// Difference from the published basis of the same figure; `None` for that basis itself.
    pub difference: Option<Difference>,
    /// Device ids left out because the basis has no figure for them.
    pub missing: Vec<String>,
}

/// The stock of one fleet at one acquisition date under one basis.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct StockPoint {
    /// Fleet name.
    pub fleet: String,
    /// Basis label.
    pub basis: String,
    /// The date, `YYYY-MM-DD`.
    pub date: String,
    /// The same date as a fractional year (2023.0 is 1 January 2023), for charts.
    pub year: f64,
    /// Reference-equivalents acquired on or before the date.
    pub stock: Interval,
}

/// One claim checked under one basis.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ClaimCheck {
    /// Fleet name.
    pub fleet: String,
    /// The claim in words, e.g. `remainder of 600000 in a100-sxm4-80gb`.
    pub claim: String,
    /// Basis label, `datasheet …` for ratio claims, `stated…` for the file's own figures.
    pub basis: String,
    /// What the check found.
    pub result: ClaimResult,
}

/// Whether a growth claim holds, given the factor's interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GrowthVerdict {
    /// The whole interval is at or above the stated factor.
    Holds,
    /// The whole interval is below it.
    Fails,
    /// The interval straddles it.
    Undecided,
}

/// The numbers a claim check produced, by kind of claim.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ClaimResult {
    /// A stated total against the computed one.
    Total {
        /// The stated total.
        stated: f64,
        /// The computed total.
        computed: Interval,
        /// Whether the stated total lies inside a computed interval with width.
        inside: bool,
        /// Computed minus stated.
        difference: Difference,
    },
    /// A stated total (or a remainder of one) that cannot be checked, because the total it is
    /// checked against lacks a figure: a partial sum is not the fleet's total.
    NotCheckable {
        /// The stated total.
        stated: f64,
        /// What lacks the basis's figure ("the reference …" when it is the reference).
        missing: Vec<String>,
    },
    /// The open remainder of a stated total, solved as a count of one device.
    Remainder {
        /// The stated total.
        stated_total: f64,
        /// The device the remainder is solved in.
        device: String,
        /// Stated total minus the known entries; `None` when a figure is missing.
        remainder: Option<Interval>,
        /// How many of `device` make up the remainder; `None` when a figure is missing.
        count: Option<Interval>,
        /// How many of `device` one reference is worth under the basis.
        device_per_reference: Option<f64>,
        /// Ids the basis has no figure for (then nothing is solved).
        missing: Vec<String>,
    },
    /// The remainder solved with a ratio the file itself states.
    StatedRemainder {
        /// The stated total.
        stated_total: f64,
        /// The device the remainder is solved in.
        device: String,
        /// How many of `device` one reference is worth, as stated.
        device_per_reference: f64,
        /// Stated total minus the known entries (under the first basis).
        remainder: f64,
        /// How many of `device` make up the remainder.
        count: f64,
    },
    /// "One X equals N Ys" on one pair of datasheet figures.
    Ratio {
        /// The claimed N.
        claimed: f64,
        /// X's figure and Y's.
        figures: (DatasheetFigure, DatasheetFigure),
        /// X's figure over Y's.
        ratio: f64,
        /// `ratio / claimed − 1`.
        off_by: f64,
    },
    /// A requested mixed-precision pair of a "one X equals N Ys" claim that cannot be checked:
    /// a datasheet lacks the figure (no FP8 for an A100, say). Listed, not dropped.
    RatioNotCheckable {
        /// The claimed N.
        claimed: f64,
        /// X's figure and Y's, as requested.
        figures: (DatasheetFigure, DatasheetFigure),
        /// `device figure` for each side whose datasheet lacks it.
        missing: Vec<String>,
    },
    /// "Our total is F times theirs": their implied total.
    Multiple {
        /// Our total.
        total: f64,
        /// The stated factor F.
        factor: f64,
        /// Whose total is implied.
        of: String,
        /// `total / factor`.
        implied: f64,
    },
    /// "…and they grew G× in M months": their implied starting base.
    GrowthBase {
        /// Whose base is implied.
        of: String,
        /// The stated growth factor G.
        growth: f64,
        /// Over how many months.
        months: f64,
        /// `implied / growth`.
        base: f64,
        /// Doubling time of that growth, months.
        doubling_months: Option<f64>,
    },
    /// Growth of the fleet's stock between two dates.
    Growth {
        /// First date as written.
        from: String,
        /// Second date as written.
        to: String,
        /// The stated minimum factor.
        at_least: Option<f64>,
        /// Stock at both dates; `None` when an entry has no acquisition date.
        stocks: Option<(Interval, Interval)>,
        /// `to / from`; `None` without stock at the first date.
        factor: Option<Interval>,
        /// Doubling time at that growth, months; `None` if it did not grow.
        doubling_months: Option<f64>,
        /// Against `at_least`, when given and a factor exists.
        verdict: Option<GrowthVerdict>,
    },
}
