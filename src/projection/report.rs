//! A fleet file projected under a set of bases, as printable tables: entries, totals, claim
//! checks and stock over time. Pure: figures and ratios in, [`Section`]s out.

use super::basis::RatioSources;
use super::growth::growth_between;
use super::totals::{entry_equivalents, total, Holding};
use super::{
    check_multiple, check_ratio_claim, solve_remainder, Basis, Dated, DeviceFigures, Estimate,
    MeasuredRatio, YearFraction,
};
use crate::fleet::{parse_mixed, Claim, Entry, Fleet, FleetFile};
use crate::table::Table;
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

    fn holding(&self, entry: &Entry) -> Holding<'_> {
        match (&entry.device, entry.equivalents) {
            (Some(id), _) => match self.figures.get(id) {
                Some(figures) => Holding::Devices {
                    figures,
                    count: entry.whole_count(),
                },
                None => Holding::Equivalents(0.0),
            },
            (None, x) => Holding::Equivalents(x.unwrap_or(0.0)),
        }
    }

    fn holdings(&self, fleet: &Fleet) -> Vec<Holding<'_>> {
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
    ]);
    let mut totals = Table::new(&[
        "fleet",
        "basis",
        "equivalents",
        "interval",
        "vs published",
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
            let (ratio, interval, provenance, eq) =
                match entry_equivalents(inputs.holding(entry), basis, inputs.sources()) {
                    Ok(r) => match r.ratio {
                        Some(u) => (
                            num(u.ratio.value, 4),
                            interval(u.ratio, 4),
                            u.provenance,
                            r.equivalents,
                        ),
                        None => (
                            "–".into(),
                            "–".into(),
                            "stated by the source".into(),
                            r.equivalents,
                        ),
                    },
                    Err(id) => {
                        let why = format!("no {basis} figure for {id}");
                        table.push(vec![
                            fleet.name.clone(),
                            entry.display_label(),
                            count_of(entry),
                            acquired_of(entry),
                            basis.to_string(),
                            "–".into(),
                            "–".into(),
                            why,
                            "–".into(),
                            "–".into(),
                        ]);
                        continue;
                    }
                };
            table.push(vec![
                fleet.name.clone(),
                entry.display_label(),
                count_of(entry),
                acquired_of(entry),
                basis.to_string(),
                ratio,
                interval,
                provenance,
                amount(eq.value),
                amount_interval(eq),
            ]);
        }
    }
}

fn total_rows(inputs: Inputs, fleet: &Fleet, table: &mut Table) {
    let holdings = inputs.holdings(fleet);
    let first = inputs
        .bases
        .first()
        .map(|b| total(&holdings, b, inputs.sources()).equivalents.value);
    for basis in inputs.bases {
        let t = total(&holdings, basis, inputs.sources());
        let diff = match first {
            Some(f) if basis != &inputs.bases[0] => signed_with_percent(t.equivalents.value - f, f),
            _ => "baseline".to_string(),
        };
        table.push(vec![
            fleet.name.clone(),
            basis.to_string(),
            amount(t.equivalents.value),
            amount_interval(t.equivalents),
            diff,
            t.missing.join(", "),
        ]);
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
        } => {
            let (Some(d), Some(o)) = (inputs.figures_of(device), inputs.figures_of(of)) else {
                return;
            };
            let pairs: Vec<_> = mixed.iter().filter_map(|m| parse_mixed(m).ok()).collect();
            for check in check_ratio_claim(d, o, *equals, &pairs) {
                let (a, b) = check.metrics;
                let basis = if a == b {
                    format!("datasheet {a}")
                } else {
                    format!("datasheet {a} vs {b} (mixed precision)")
                };
                push(
                    format!("1 {device} = {equals} {of}"),
                    basis,
                    num(*equals, 2),
                    num(check.ratio, 4),
                    format!("{:+.1}% from the claim", 100.0 * check.off_by),
                );
            }
        }
        Claim::Multiple {
            total,
            factor,
            of,
            growth,
            months,
        } => {
            let Some(m) = check_multiple(*total, *factor, growth.zip(*months)) else {
                return;
            };
            let label = format!("{} is {factor}× {of}", num(*total, 0));
            push(
                label.clone(),
                "stated".into(),
                num(*total, 0),
                num(m.implied, 0),
                format!("{of}: {} equivalents", num(m.implied, 0)),
            );
            if let (Some(base), Some(g), Some(mo)) = (m.base, growth, months) {
                let doubling = m
                    .doubling_months
                    .map_or("–".into(), |d| format!("doubling every {d:.2} months"));
                push(
                    label,
                    "stated".into(),
                    format!("{g}× in {mo} months"),
                    num(base, 0),
                    format!("{of}'s implied starting base; {doubling}"),
                );
            }
        }
        Claim::Growth { from, to, at_least } => {
            growth_claim(inputs, fleet, from, to, *at_least, &mut push)
        }
    }
}

type Push<'p> = dyn FnMut(String, String, String, String, String) + 'p;

fn total_claim(inputs: Inputs, fleet: &Fleet, stated: f64, push: &mut Push) {
    let holdings = inputs.holdings(fleet);
    for basis in inputs.bases {
        let t = total(&holdings, basis, inputs.sources()).equivalents;
        let inside = t.lo <= stated && stated <= t.hi;
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
            format!("{} {}", amount(t.value), amount_interval(t)),
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
    let label = format!("remainder of {} in {device}", num(stated, 0));
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
        let (Some(used), t) = (
            basis.ratio(figures, inputs.sources()),
            total(&known, basis, inputs.sources()),
        ) else {
            continue;
        };
        if !t.missing.is_empty() {
            continue;
        }
        let s = solve_remainder(stated, t.equivalents, used.ratio);
        let per = format!(
            "1 {} = {} {device}",
            inputs.reference.id,
            num(1.0 / used.ratio.value, 4)
        );
        push(
            label.clone(),
            basis.to_string(),
            num(s.remainder.value, 0),
            format!("{} {}", num(s.count.value, 0), interval(s.count, 0)),
            per,
        );
    }
    let known_total = total(
        &known,
        &Basis::Published(super::Metric::Bf16),
        inputs.sources(),
    )
    .equivalents;
    for (name, per_reference) in ratios {
        let s = solve_remainder(stated, known_total, Estimate::exact(1.0 / per_reference));
        push(
            label.clone(),
            format!("stated: {name}"),
            num(s.remainder.value, 0),
            num(s.count.value, 0),
            format!("1 {} = {per_reference} {device}", inputs.reference.id),
        );
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
            if f.lo >= x {
                "holds; ".into()
            } else if f.hi < x {
                "fails; ".into()
            } else {
                "undecided within the interval; ".into()
            }
        });
        let computed = format!(
            "{}× {} ({} → {})",
            num(f.value, 3),
            interval(f, 3),
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

fn amount_interval(e: Estimate) -> String {
    interval(e, amount_decimals(e.hi))
}

/// "[lo, hi]", or "–" for an exact value.
pub fn interval(e: Estimate, decimals: usize) -> String {
    if e.has_width() {
        format!("[{}, {}]", num(e.lo, decimals), num(e.hi, decimals))
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
