//! The projection laid out for people: one titled table each for entries, totals, claims and
//! stock over time, with amounts rounded the way they are read (whole equivalents from 1000
//! up, three decimals below). Only text, CSV and Markdown pass through here; JSON is the
//! [`Projection`] itself.

use super::model::{
    BasisTotal, ClaimCheck, ClaimResult, Difference, EntryRow, GrowthVerdict, Projection,
    StockPoint, Throughput,
};
use super::Interval;
use crate::output::{Section, Table, Tabular};

impl Tabular for Projection {
    fn sections(&self) -> Vec<Section> {
        let reference = &self.reference;
        [
            (
                format!("entries (in {reference} equivalents)"),
                entries_table(&self.entries),
            ),
            (
                format!("totals (in {reference} equivalents)"),
                totals_table(&self.totals),
            ),
            ("claims".to_string(), claims_table(&self.claims, reference)),
            ("stock over time".to_string(), stock_table(&self.stock)),
        ]
        .into_iter()
        .filter(|(_, t)| !t.is_empty())
        .map(|(title, table)| Section::titled(&title, table))
        .enumerate()
        // A projection from simulated ratios says so under its first table.
        .map(|(i, section)| match self.simulated && i == 0 {
            true => section.with_note(crate::results::SIMULATED_LABEL),
            false => section,
        })
        .collect()
    }
}

const DASH: &str = "–";

fn entries_table(rows: &[EntryRow]) -> Table {
    let mut t = Table::new(&[
        "fleet",
        "entry",
        "count",
        "acquired",
        "basis",
        "ratio",
        "ratio interval",
        "provenance",
        "equivalents",
        "interval",
        "throughput",
    ]);
    for r in rows {
        t.push(vec![
            r.fleet.clone(),
            r.entry.clone(),
            r.count.map_or(DASH.into(), |c| c.to_string()),
            r.acquired.clone().unwrap_or_default(),
            r.basis.clone(),
            r.ratio.map_or(DASH.into(), |x| num(x.value, 4)),
            r.ratio.map_or(DASH.into(), |x| interval(x, 4)),
            r.provenance.clone(),
            r.equivalents.map_or(DASH.into(), |e| amount(e.value)),
            r.equivalents.map_or(DASH.into(), amount_interval),
            throughput(r.throughput),
        ]);
    }
    t
}

fn totals_table(rows: &[BasisTotal]) -> Table {
    let mut t = Table::new(&[
        "fleet",
        "basis",
        "equivalents",
        "interval",
        "throughput",
        "difference",
        "missing",
    ]);
    for r in rows {
        let difference = r.difference.as_ref().map_or("baseline".to_string(), |d| {
            format!("{} vs {}", signed(d), d.against)
        });
        t.push(vec![
            r.fleet.clone(),
            r.basis.clone(),
            r.equivalents
                .map_or("cannot compute".into(), |e| amount(e.value)),
            r.equivalents.map_or(DASH.into(), amount_interval),
            throughput(r.throughput),
            difference,
            r.missing.join(", "),
        ]);
    }
    t
}

fn claims_table(rows: &[ClaimCheck], reference: &str) -> Table {
    let mut t = Table::new(&["fleet", "claim", "basis", "stated", "computed", "result"]);
    for r in rows {
        let [stated, computed, result] = claim_cells(&r.result, reference, &r.basis);
        t.push(vec![
            r.fleet.clone(),
            r.claim.clone(),
            r.basis.clone(),
            stated,
            computed,
            result,
        ]);
    }
    t
}

/// Stated, computed and the verdict in words, for one claim check.
fn claim_cells(result: &ClaimResult, reference: &str, basis: &str) -> [String; 3] {
    match result {
        ClaimResult::Total {
            stated,
            computed,
            inside,
            difference,
        } => {
            let verdict = if *inside {
                "stated total inside the interval".to_string()
            } else {
                format!("computed − stated: {}", signed(difference))
            };
            let computed = with_interval(*computed, amount_decimals(computed.high));
            [amount(*stated), computed, verdict]
        }
        ClaimResult::NotCheckable { stated, missing } => [
            amount(*stated),
            "cannot compute".into(),
            format!(
                "not checkable: no {basis} figure for {}",
                missing.join(", ")
            ),
        ],
        ClaimResult::Remainder { .. } => remainder_cells(result, reference, basis),
        ClaimResult::StatedRemainder {
            remainder,
            count,
            device,
            device_per_reference,
            ..
        } => [
            num(*remainder, 0),
            num(*count, 0),
            format!("1 {reference} = {device_per_reference} {device}"),
        ],
        ClaimResult::Ratio {
            claimed,
            ratio,
            off_by,
            ..
        } => [
            format!("{claimed}"),
            num(*ratio, 4),
            format!("{:+.1}% from the claim", 100.0 * off_by),
        ],
        ClaimResult::RatioNotCheckable {
            claimed, missing, ..
        } => [
            format!("{claimed}"),
            "cannot compute".into(),
            format!(
                "not checkable: no datasheet figure for {}",
                missing.join(", ")
            ),
        ],
        ClaimResult::Multiple {
            total, of, implied, ..
        } => [
            amount(*total),
            amount(*implied),
            format!("{of}: {} equivalents", amount(*implied)),
        ],
        ClaimResult::GrowthBase { .. } => growth_base_cells(result),
        ClaimResult::Growth { .. } => growth_cells(result),
    }
}

fn remainder_cells(result: &ClaimResult, reference: &str, basis: &str) -> [String; 3] {
    let ClaimResult::Remainder {
        remainder,
        count,
        device,
        device_per_reference,
        missing,
        ..
    } = result
    else {
        return Default::default();
    };
    match (remainder, count, device_per_reference) {
        (Some(r), Some(c), _) if r.value < 0.0 => [
            amount(r.value),
            with_interval(*c, 0),
            format!(
                "the known entries alone exceed the stated total by {}",
                amount(-r.value)
            ),
        ],
        (Some(r), Some(c), Some(per)) => [
            amount(r.value),
            with_interval(*c, 0),
            format!("1 {reference} = {} {device}", num(*per, 4)),
        ],
        _ => [
            DASH.into(),
            DASH.into(),
            format!("no {basis} figure for {}", missing.join(", ")),
        ],
    }
}

fn growth_base_cells(result: &ClaimResult) -> [String; 3] {
    let ClaimResult::GrowthBase {
        of,
        growth,
        months,
        base,
        doubling_months,
    } = result
    else {
        return Default::default();
    };
    let doubling = doubling_months.map_or(DASH.into(), |d| format!("doubling every {d:.2} months"));
    [
        format!("{growth}× in {months} months"),
        amount(*base),
        format!("{of}'s implied starting base; {doubling}"),
    ]
}

fn growth_cells(result: &ClaimResult) -> [String; 3] {
    let ClaimResult::Growth {
        from,
        at_least,
        stocks,
        factor,
        doubling_months,
        verdict,
        ..
    } = result
    else {
        return Default::default();
    };
    let stated = at_least.map_or(DASH.into(), |x| format!("≥ {x}×"));
    let Some((start, end)) = stocks else {
        let why = "needs an acquisition date on every entry".to_string();
        return [String::new(), DASH.into(), why];
    };
    let Some(f) = factor else {
        return [stated, DASH.into(), format!("no stock at {from}")];
    };
    let verdict = match verdict {
        Some(GrowthVerdict::Holds) => "holds; ",
        Some(GrowthVerdict::Fails) => "fails; ",
        Some(GrowthVerdict::Undecided) => "undecided within the interval; ",
        None => "",
    };
    let doubling = doubling_months.map_or("no growth".into(), |m| {
        format!("doubling every {m:.1} months")
    });
    let computed = format!(
        "{} ({} → {})",
        with_interval(*f, 3),
        num(start.value, 0),
        num(end.value, 0)
    );
    [stated, computed, format!("{verdict}{doubling}")]
}

fn stock_table(rows: &[StockPoint]) -> Table {
    let mut t = Table::new(&["fleet", "date", "basis", "stock", "interval"]);
    for r in rows {
        t.push(vec![
            r.fleet.clone(),
            r.date.clone(),
            r.basis.clone(),
            num(r.stock.value, 0),
            interval(r.stock, 0),
        ]);
    }
    t
}

fn throughput(t: Option<Throughput>) -> String {
    t.map_or(DASH.into(), |t| {
        format!("{} {}", amount(t.amount.value), t.unit)
    })
}

/// An amount of equivalents: whole numbers from 1000 up, three decimals below (a fleet of
/// four A100s is 1.261 H100e, not "1").
fn amount(x: f64) -> String {
    num(x, amount_decimals(x))
}

fn amount_decimals(x: f64) -> usize {
    if x.abs() >= 1000.0 {
        0
    } else {
        3
    }
}

fn num(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

fn amount_interval(e: Interval) -> String {
    interval(e, amount_decimals(e.high))
}

/// "value [lo, hi]", or only the value when it is exact.
fn with_interval(e: Interval, decimals: usize) -> String {
    if e.has_width() {
        format!("{} {}", num(e.value, decimals), interval(e, decimals))
    } else {
        num(e.value, decimals)
    }
}

/// "[lo, hi]", or "–" for an exact value.
fn interval(e: Interval, decimals: usize) -> String {
    if e.has_width() {
        format!("[{}, {}]", num(e.low, decimals), num(e.high, decimals))
    } else {
        DASH.to_string()
    }
}

/// "+69 (+4.3%)": the difference with its share of the other amount.
fn signed(d: &Difference) -> String {
    let places = amount_decimals(d.base.abs().max(d.amount.abs()));
    match d.relative {
        Some(r) => format!("{:+.places$} ({:+.1}%)", d.amount, 100.0 * r),
        None => format!("{:+.places$}", d.amount),
    }
}
