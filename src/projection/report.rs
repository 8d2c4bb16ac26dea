//! A fleet file projected under a set of bases, as printable tables: entries, totals, claim
//! checks and stock over time. Pure: figures and ratios in, [`Section`]s out.

use super::basis::RatioSources;
use super::growth::growth_between;
use super::totals::{entry_equivalents, total, Holding};
use super::{
    check_multiple, check_ratio_claim, solve_remainder, Basis, Dated, DeviceFigures, Interval,
    MeasuredRatio, YearFraction,
};
use crate::fleet::{parse_mixed, Claim, Entry, Fleet, FleetFile};
use crate::output::Table;
use std::collections::BTreeMap;

/// A titled table.
#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    /// Short title, also the key in JSON output.
    pub title: String,
    /// The rows.
    pub table: Table,
}

/// Everything a projection reads.
#[derive(Debug, Clone, Copy)]
pub struct Inputs<'a> {
    /// The fleet file (device ids already checked against `figures`).
    pub file: &'a FleetFile,
    /// Figures of every device the file names, and of the reference, by id.
    pub figures: &'a BTreeMap<String, DeviceFigures>,
    /// The reference device.
    pub reference: &'a DeviceFigures,
    /// Measured ratios to the reference (empty without a ratios file).
    pub measured: &'a [MeasuredRatio],
    /// Bases to show side by side; the first is the baseline differences are taken against.
    pub bases: &'a [Basis],
}

impl Inputs<'_> {
    fn sources(&self) -> RatioSources<'_> {
        RatioSources {
            reference: self.reference,
            measured: self.measured,
        }
    }

    fn holding<'s>(&'s self, entry: &'s Entry) -> Holding<'s> {
        match (&entry.device, entry.equivalents) {
            (Some(id), _) => match self.figures.get(id) {
                Some(figures) => Holding::Devices {
                    figures,
                    count: entry.whole_count(),
                },
                None => Holding::Unknown(id),
            },
            (None, x) => Holding::Equivalents(x.unwrap_or(0.0)),
        }
    }

    fn holdings<'s>(&'s self, fleet: &'s Fleet) -> Vec<Holding<'s>> {
        fleet.entries.iter().map(|e| self.holding(e)).collect()
    }

    fn figures_of(&self, id: &str) -> Option<&DeviceFigures> {
        self.figures.get(id)
    }
}

/// Projects every fleet of the file: entries, totals, claims and (with dated entries) stock
/// over time.
pub fn project(inputs: Inputs) -> Vec<Section> {
    let mut entries = Table::new(&[
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
        "PFLOP/s (PB/s for bandwidth)",
    ]);
    let mut totals = Table::new(&[
        "fleet",
        "basis",
        "equivalents",
        "interval",
        "PFLOP/s (PB/s for bandwidth)",
        "difference",
        "missing",
    ]);
    let mut claims = Table::new(&["fleet", "claim", "basis", "stated", "computed", "result"]);
    let mut stock = Table::new(&["fleet", "date", "basis", "stock", "interval"]);
    for fleet in &inputs.file.fleets {
        entry_rows(inputs, fleet, &mut entries);
        total_rows(inputs, fleet, &mut totals);
        for claim in &fleet.claims {
            claim_rows(inputs, fleet, claim, &mut claims);
        }
        stock_rows(inputs, fleet, &mut stock);
    }
    let reference = &inputs.reference.id;
    [
        (format!("entries (in {reference} equivalents)"), entries),
        (format!("totals (in {reference} equivalents)"), totals),
        ("claims".to_string(), claims),
        ("stock over time".to_string(), stock),
    ]
    .into_iter()
    .filter(|(_, t)| !t.rows.is_empty())
    .map(|(title, table)| Section { title, table })
    .collect()
}

fn entry_rows(inputs: Inputs, fleet: &Fleet, table: &mut Table) {
    for entry in &fleet.entries {
        for basis in inputs.bases {
            let mut row = vec![
                fleet.name.clone(),
                entry.display_label(),
                count_of(entry),
                acquired_of(entry),
                basis.to_string(),
            ];
            row.extend(entry_cells(inputs, entry, basis));
            table.push(row);
        }
    }
}

/// Ratio, its interval, provenance, equivalents, their interval and throughput of one entry.
fn entry_cells(inputs: Inputs, entry: &Entry, basis: &Basis) -> Vec<String> {
    let dash = || "–".to_string();
    let result = match entry_equivalents(inputs.holding(entry), basis, inputs.sources()) {
        Ok(r) => r,
        Err(id) => {
            let why = format!("no {basis} figure for {id}");
            return vec![dash(), dash(), why, dash(), dash(), dash()];
        }
    };
    let (ratio, ratio_interval, provenance) = match result.ratio {
        Some(u) => (num(u.ratio.value, 4), interval(u.ratio, 4), u.provenance),
        None => (dash(), dash(), "stated by the source".to_string()),
    };
    vec![
        ratio,
        ratio_interval,
        provenance,
        amount(result.equivalents.value),
        amount_interval(result.equivalents),
        throughput(inputs, basis, result.equivalents.value),
    ]
}

/// Equivalents × the reference's throughput under `basis`, in peta-units (PFLOP/s, or PB/s
/// for bandwidth).
fn throughput(inputs: Inputs, basis: &Basis, equivalents: f64) -> String {
    basis
        .reference_throughput(inputs.reference)
        .map_or("–".to_string(), |tera| {
            amount(equivalents * tera / 1000.0)
        })
}

/// Shown for a total that lacks a figure: never a number that looks like a total.
const CANNOT_COMPUTE: &str = "cannot compute";

fn total_rows(inputs: Inputs, fleet: &Fleet, table: &mut Table) {
    let holdings = inputs.holdings(fleet);
    for basis in inputs.bases {
        let t = total(&holdings, basis, inputs.sources());
        let published = Basis::Published(basis.metric());
        let baseline = total(&holdings, &published, inputs.sources()).complete();
        let diff = match (t.complete(), baseline) {
            _ if *basis == published => "baseline".to_string(),
            (Some(t), Some(p)) => format!(
                "{} vs {published}",
                signed_with_percent(t.value - p.value, p.value)
            ),
            _ => "–".to_string(),
        };
        let (equivalents, interval, flops) = match t.complete() {
            Some(e) => (
                amount(e.value),
                amount_interval(e),
                throughput(inputs, basis, e.value),
            ),
            None => (partial(&t), "–".to_string(), "–".to_string()),
        };
        table.push(vec![
            fleet.name.clone(),
            basis.to_string(),
            equivalents,
            interval,
            flops,
            diff,
            t.missing.join(", "),
        ]);
    }
}

/// "cannot compute", with the sum of what could be counted when anything could.
fn partial(t: &super::Total) -> String {
    if t.counted == 0 {
        CANNOT_COMPUTE.to_string()
    } else {
        format!(
            "{CANNOT_COMPUTE} (the {} counted entries: {})",
            t.counted,
            amount(t.equivalents.value)
        )
    }
}

fn claim_rows(inputs: Inputs, fleet: &Fleet, claim: &Claim, table: &mut Table) {
    let mut push =
        |claim: String, basis: String, stated: String, computed: String, result: String| {
            table.push(vec![
                fleet.name.clone(),
                claim,
                basis,
                stated,
                computed,
                result,
            ]);
        };
    match claim {
        Claim::Total {
            total: stated,
            remainder_in,
            stated: ratios,
        } => {
            total_claim(inputs, fleet, *stated, &mut push);
            if let Some(device) = remainder_in.as_deref() {
                remainder_claim(inputs, fleet, *stated, device, ratios, &mut push);
            }
        }
        Claim::Ratio {
            device,
            of,
            equals,
            mixed,
        } => ratio_claim(inputs, (device, of), *equals, mixed, &mut push),
        Claim::Multiple {
            total,
            factor,
            of,
            growth,
            months,
        } => multiple_claim(*total, *factor, of, growth.zip(*months), &mut push),
        Claim::Growth { from, to, at_least } => {
            growth_claim(inputs, fleet, from, to, *at_least, &mut push)
        }
    }
}

type Push<'p> = dyn FnMut(String, String, String, String, String) + 'p;

fn ratio_claim(
    inputs: Inputs,
    (device, of): (&str, &str),
    equals: f64,
    mixed: &[String],
    push: &mut Push,
) {
    let (Some(d), Some(o)) = (inputs.figures_of(device), inputs.figures_of(of)) else {
        return;
    };
    let pairs: Vec<_> = mixed.iter().filter_map(|m| parse_mixed(m).ok()).collect();
    for check in check_ratio_claim(d, o, equals, &pairs) {
        let (a, b) = check.metrics;
        let basis = if a == b {
            format!("datasheet {a}")
        } else {
            format!("datasheet {a} vs {b} (mixed precision)")
        };
        push(
            format!("1 {device} = {equals} {of}"),
            basis,
            format!("{equals}"),
            num(check.ratio, 4),
            format!("{:+.1}% from the claim", 100.0 * check.off_by),
        );
    }
}

fn multiple_claim(total: f64, factor: f64, of: &str, growth: Option<(f64, f64)>, push: &mut Push) {
    let Some(m) = check_multiple(total, factor, growth) else {
        return;
    };
    let label = format!("{} is {factor}× {of}", amount(total));
    let implied = format!("{of}: {} equivalents", amount(m.implied));
    push(
        label.clone(),
        "stated".into(),
        amount(total),
        amount(m.implied),
        implied,
    );
    if let (Some(base), Some((g, months))) = (m.base, growth) {
        let doubling = m
            .doubling_months
            .map_or("–".into(), |d| format!("doubling every {d:.2} months"));
        push(
            label,
            "stated".into(),
            format!("{g}× in {months} months"),
            amount(base),
            format!("{of}'s implied starting base; {doubling}"),
        );
    }
}

fn total_claim(inputs: Inputs, fleet: &Fleet, stated: f64, push: &mut Push) {
    let holdings = inputs.holdings(fleet);
    for basis in inputs.bases {
        let counted = total(&holdings, basis, inputs.sources());
        let Some(t) = counted.complete() else {
            push(
                format!("total {}", amount(stated)),
                basis.to_string(),
                amount(stated),
                CANNOT_COMPUTE.to_string(),
                format!(
                    "not checkable: no {basis} figure for {}",
                    counted.missing.join(", ")
                ),
            );
            continue;
        };
        let inside = t.low <= stated && stated <= t.high;
        let verdict = if inside && t.has_width() {
            "stated total inside the interval".to_string()
        } else {
            format!(
                "computed − stated: {}",
                signed_with_percent(t.value - stated, stated)
            )
        };
        push(
            format!("total {}", amount(stated)),
            basis.to_string(),
            amount(stated),
            with_interval(t, amount_decimals(t.high)),
            verdict,
        );
    }
}

fn remainder_claim(
    inputs: Inputs,
    fleet: &Fleet,
    stated: f64,
    device: &str,
    ratios: &BTreeMap<String, f64>,
    push: &mut Push,
) {
    let Some(figures) = inputs.figures_of(device) else {
        return;
    };
    let known: Vec<Holding> = inputs
        .holdings(fleet)
        .into_iter()
        .filter(|h| matches!(h, Holding::Devices { .. }))
        .collect();
    let label = format!("remainder of {} in {device}", amount(stated));
    let mut bases: Vec<Basis> = super::Metric::ALL
        .iter()
        .map(|m| Basis::Published(*m))
        .collect();
    bases.extend(
        inputs
            .bases
            .iter()
            .filter(|b| !matches!(b, Basis::Published(_)))
            .cloned(),
    );
    for basis in &bases {
        let t = total(&known, basis, inputs.sources());
        let Some(used) = basis
            .ratio(figures, inputs.sources())
            .filter(|_| t.missing.is_empty())
        else {
            let mut lacking = t.missing.clone();
            lacking.push(device.to_string());
            let why = format!("no {basis} figure for {}", lacking.join(", "));
            push(
                label.clone(),
                basis.to_string(),
                "–".into(),
                "–".into(),
                why,
            );
            continue;
        };
        let s = solve_remainder(stated, t.equivalents, used.ratio);
        push(
            label.clone(),
            basis.to_string(),
            amount(s.remainder.value),
            with_interval(s.count, 0),
            remainder_note(&s, &inputs.reference.id, used.ratio.value, device),
        );
    }
    let primary = inputs
        .bases
        .first()
        .cloned()
        .unwrap_or(Basis::Published(super::Metric::Bf16));
    let known_total = total(&known, &primary, inputs.sources());
    for (name, per_reference) in ratios {
        let Some(known_total) = known_total.complete() else {
            let why = format!(
                "not checkable: no {primary} figure for {}",
                known_total.missing.join(", ")
            );
            push(
                label.clone(),
                format!("stated: {name}"),
                "–".into(),
                "–".into(),
                why,
            );
            continue;
        };
        let s = solve_remainder(stated, known_total, Interval::exact(1.0 / per_reference));
        push(
            label.clone(),
            format!("stated: {name}"),
            num(s.remainder.value, 0),
            num(s.count.value, 0),
            format!("1 {} = {per_reference} {device}", inputs.reference.id),
        );
    }
}

fn remainder_note(s: &super::Solved, reference: &str, ratio: f64, device: &str) -> String {
    if s.remainder.value < 0.0 {
        format!(
            "the known entries alone exceed the stated total by {}",
            amount(-s.remainder.value)
        )
    } else {
        format!("1 {reference} = {} {device}", num(1.0 / ratio, 4))
    }
}

fn growth_claim(
    inputs: Inputs,
    fleet: &Fleet,
    from: &str,
    to: &str,
    at_least: Option<f64>,
    push: &mut Push,
) {
    let (Ok(a), Ok(b)) = (from.parse::<YearFraction>(), to.parse::<YearFraction>()) else {
        return;
    };
    for basis in inputs.bases {
        let Some(dated) = dated_entries(inputs, fleet, basis) else {
            push(
                format!("growth {from} → {to}"),
                basis.to_string(),
                String::new(),
                "–".into(),
                "needs an acquisition date on every entry".into(),
            );
            return;
        };
        let g = growth_between(&dated, a, b);
        let stated = at_least.map_or("–".into(), |x| format!("≥ {x}×"));
        let Some(f) = g.factor else {
            push(
                format!("growth {from} → {to}"),
                basis.to_string(),
                stated,
                "–".into(),
                format!("no stock at {from}"),
            );
            continue;
        };
        let doubling = g.doubling_years.map_or("no growth".into(), |y| {
            format!("doubling every {:.1} months", 12.0 * y)
        });
        let verdict = at_least.map_or(String::new(), |x| {
            if f.low >= x {
                "holds; ".into()
            } else if f.high < x {
                "fails; ".into()
            } else {
                "undecided within the interval; ".into()
            }
        });
        let computed = format!(
            "{} ({} → {})",
            with_interval(f, 3),
            num(g.from.value, 0),
            num(g.to.value, 0)
        );
        push(
            format!("growth {from} → {to}"),
            basis.to_string(),
            stated,
            computed,
            verdict + &doubling,
        );
    }
}

fn dated_entries(inputs: Inputs, fleet: &Fleet, basis: &Basis) -> Option<Vec<Dated>> {
    fleet
        .entries
        .iter()
        .map(|e| {
            let acquired = e.acquired_at().ok()??;
            let r = entry_equivalents(inputs.holding(e), basis, inputs.sources()).ok()?;
            Some(Dated {
                acquired,
                equivalents: r.equivalents,
            })
        })
        .collect()
}

fn stock_rows(inputs: Inputs, fleet: &Fleet, table: &mut Table) {
    for basis in inputs.bases {
        let Some(dated) = dated_entries(inputs, fleet, basis) else {
            return;
        };
        let mut dates: Vec<YearFraction> = dated.iter().map(|d| d.acquired).collect();
        dates.sort_by(|a, b| a.years.total_cmp(&b.years));
        dates.dedup_by(|a, b| a.years == b.years);
        for date in dates {
            let s = super::stock_at(&dated, date);
            table.push(vec![
                fleet.name.clone(),
                date.to_string(),
                basis.to_string(),
                num(s.value, 0),
                interval(s, 0),
            ]);
        }
    }
}

fn count_of(entry: &Entry) -> String {
    entry
        .count
        .map_or("–".into(), |_| entry.whole_count().to_string())
}

fn acquired_of(entry: &Entry) -> String {
    entry.acquired.clone().unwrap_or_default()
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

/// A number with `decimals` places ("792788", "3.1712").
pub fn num(x: f64, decimals: usize) -> String {
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
pub fn interval(e: Interval, decimals: usize) -> String {
    if e.has_width() {
        format!("[{}, {}]", num(e.low, decimals), num(e.high, decimals))
    } else {
        "–".to_string()
    }
}

fn signed_with_percent(diff: f64, base: f64) -> String {
    let d = amount_decimals(base.abs().max(diff.abs()));
    if base == 0.0 {
        return format!("{diff:+.d$}");
    }
    format!("{diff:+.d$} ({:+.1}%)", 100.0 * diff / base)
}
