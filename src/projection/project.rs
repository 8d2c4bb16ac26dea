//! A fleet file projected under a set of bases: entries, totals, claim checks and stock over
//! time, as one [`Projection`]. Pure: figures and ratios in, numbers out; the display strings
//! are [`super::tables`]' business.

use super::basis::RatioSources;
use super::growth::growth_between;
use super::model::{
    BasisTotal, ClaimCheck, ClaimResult, Difference, EntryRow, GrowthVerdict, NamedBasis,
    Projection, StockPoint, Throughput,
};
use super::totals::{entry_equivalents, total, Holding};
use super::{
    check_multiple, check_ratio_claim, solve_remainder, Basis, Dated, DeviceFigures, Interval,
    MeasuredRatio, Regime,
};
use crate::catalog::{DatasheetFigure, Metric, YearFraction};
use crate::fleet::{parse_mixed, Claim, Entry, Fleet, FleetFile};
use std::collections::BTreeMap;

/// The metric a fleet is projected on when neither `--metric` nor the file names one: f16
/// matmul, compared with the dense BF16/FP16 tensor peak.
pub const DEFAULT_METRIC: Metric = Metric::MatmulF16;

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
    /// Bases to show side by side; the first is the one asked for.
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

    /// Equivalents × what one reference delivers under `basis`, in peta-units.
    fn throughput(&self, basis: &Basis, equivalents: Interval) -> Option<Throughput> {
        let tera = basis.reference_throughput(self.reference)?;
        Some(Throughput {
            amount: equivalents.scaled(tera / 1000.0),
            unit: basis.figure().peta_unit(),
        })
    }
}

/// The bases shown side by side: published on the chosen metric's figure first, then for each
/// metric a ratios file speaks for its published and calibrated bases, then the regime's
/// roofline, published and (with ratios) calibrated. A bandwidth metric has no roofline of
/// its own.
pub fn bases_for(metric: Metric, measured: &[MeasuredRatio], regime: Option<Regime>) -> Vec<Basis> {
    let mut bases = vec![Basis::Published {
        figure: metric.figure(),
    }];
    let mut metrics: Vec<Metric> = measured.iter().map(|m| m.metric).collect();
    metrics.dedup();
    for m in metrics {
        let published = Basis::Published { figure: m.figure() };
        if !bases.contains(&published) {
            bases.push(published);
        }
        bases.push(Basis::Calibrated { metric: m });
    }
    if let (Some(regime), false) = (regime, metric == Metric::Bandwidth) {
        let calibrated = !measured.is_empty();
        for use_measured in [false, true].into_iter().filter(|m| !m || calibrated) {
            bases.push(Basis::Roofline {
                metric,
                intensity: regime.intensity(),
                calibrated: use_measured,
            });
        }
    }
    bases
}

/// Projects every fleet of the file: entries, totals, claims and (with dated entries) stock
/// over time.
pub fn project(inputs: Inputs) -> Projection {
    let mut projection = Projection {
        reference: inputs.reference.id.clone(),
        bases: inputs
            .bases
            .iter()
            .map(|b| NamedBasis {
                label: b.to_string(),
                basis: b.clone(),
            })
            .collect(),
        entries: Vec::new(),
        totals: Vec::new(),
        claims: Vec::new(),
        stock: Vec::new(),
        simulated: inputs.measured.iter().any(|m| m.simulated),
    };
    for fleet in &inputs.file.fleets {
        projection.entries.extend(entry_rows(inputs, fleet));
        projection.totals.extend(total_rows(inputs, fleet));
        for claim in &fleet.claims {
            let checks = claim_checks(inputs, fleet, claim);
            projection.claims.extend(checks);
        }
        projection.stock.extend(stock_points(inputs, fleet));
    }
    projection
}

fn entry_rows(inputs: Inputs, fleet: &Fleet) -> Vec<EntryRow> {
    let mut rows = Vec::new();
    for entry in &fleet.entries {
        for basis in inputs.bases {
            let mut row = EntryRow {
                fleet: fleet.name.clone(),
                entry: entry.display_label(),
                device: entry.device.clone(),
                count: entry.count.map(|_| entry.whole_count()),
                acquired: entry.acquired.clone(),
                basis: basis.to_string(),
                ratio: None,
                provenance: String::new(),
                equivalents: None,
                throughput: None,
            };
            match entry_equivalents(inputs.holding(entry), basis, inputs.sources()) {
                Ok(result) => {
                    row.provenance = match &result.ratio {
                        Some(used) => used.provenance.clone(),
                        None => "stated by the source".to_string(),
                    };
                    row.ratio = result.ratio.map(|u| u.ratio);
                    row.equivalents = Some(result.equivalents);
                    row.throughput = inputs.throughput(basis, result.equivalents);
                }
                Err(id) => row.provenance = format!("no {basis} figure for {id}"),
            }
            rows.push(row);
        }
    }
    rows
}

fn total_rows(inputs: Inputs, fleet: &Fleet) -> Vec<BasisTotal> {
    let holdings = inputs.holdings(fleet);
    inputs
        .bases
        .iter()
        .map(|basis| {
            let t = total(&holdings, basis, inputs.sources());
            let published = Basis::Published {
                figure: basis.figure(),
            };
            let complete = t.complete();
            let difference = (*basis != published).then_some(()).and_then(|()| {
                let p = total(&holdings, &published, inputs.sources()).complete()?;
                let against = published.to_string();
                Some(Difference::between(complete?.value, p.value, &against))
            });
            BasisTotal {
                fleet: fleet.name.clone(),
                basis: basis.to_string(),
                equivalents: complete,
                throughput: complete.and_then(|e| inputs.throughput(basis, e)),
                difference,
                missing: t.missing,
            }
        })
        .collect()
}

/// A claim check of `fleet`, before it is told which fleet it is for.
fn check(fleet: &Fleet, claim: String, basis: String, result: ClaimResult) -> ClaimCheck {
    ClaimCheck {
        fleet: fleet.name.clone(),
        claim,
        basis,
        result,
    }
}

fn claim_checks(inputs: Inputs, fleet: &Fleet, claim: &Claim) -> Vec<ClaimCheck> {
    match claim {
        Claim::Total {
            total: stated,
            remainder_in,
            stated: ratios,
        } => {
            let mut out = total_claim(inputs, fleet, *stated);
            if let Some(device) = remainder_in.as_deref() {
                out.extend(remainder_claim(inputs, fleet, *stated, device));
                out.extend(stated_remainders(inputs, fleet, *stated, device, ratios));
            }
            out
        }
        Claim::Ratio {
            device,
            of,
            equals,
            mixed,
        } => ratio_claim(inputs, fleet, (device, of), *equals, mixed),
        Claim::Multiple {
            total,
            factor,
            of,
            growth,
            months,
        } => multiple_claim(fleet, *total, *factor, of, growth.zip(*months)),
        Claim::Growth { from, to, at_least } => growth_claim(inputs, fleet, from, to, *at_least),
    }
}

fn ratio_claim(
    inputs: Inputs,
    fleet: &Fleet,
    (device, of): (&str, &str),
    claimed: f64,
    mixed: &[String],
) -> Vec<ClaimCheck> {
    let (Some(d), Some(o)) = (inputs.figures.get(device), inputs.figures.get(of)) else {
        return Vec::new();
    };
    let pairs: Vec<_> = mixed.iter().filter_map(|m| parse_mixed(m).ok()).collect();
    let label = format!("1 {device} = {claimed} {of}");
    let not_checkable: Vec<ClaimCheck> = pairs
        .iter()
        .filter_map(|&pair| mixed_not_checkable((device, d), (of, o), claimed, pair))
        .map(|(basis, result)| check(fleet, label.clone(), basis, result))
        .collect();
    check_ratio_claim(d, o, claimed, &pairs)
        .into_iter()
        .map(|c| {
            let (a, b) = c.figures;
            let basis = if a == b {
                format!("datasheet {a}")
            } else {
                format!("datasheet {a} vs {b} (mixed precision)")
            };
            let result = ClaimResult::Ratio {
                claimed,
                figures: c.figures,
                ratio: c.ratio,
                off_by: c.off_by,
            };
            check(fleet, label.clone(), basis, result)
        })
        .chain(not_checkable)
        .collect()
}

/// A requested mixed pair one of whose datasheets lacks the figure: said so, not dropped.
fn mixed_not_checkable(
    (device, d): (&str, &DeviceFigures),
    (of, o): (&str, &DeviceFigures),
    claimed: f64,
    (a, b): (DatasheetFigure, DatasheetFigure),
) -> Option<(String, ClaimResult)> {
    let mut missing = Vec::new();
    if d.figure(a).is_none() {
        missing.push(format!("{device} {a}"));
    }
    if o.figure(b).is_none() {
        missing.push(format!("{of} {b}"));
    }
    if missing.is_empty() {
        return None;
    }
    let basis = format!("datasheet {a} vs {b} (mixed precision)");
    let result = ClaimResult::RatioNotCheckable {
        claimed,
        figures: (a, b),
        missing,
    };
    Some((basis, result))
}

fn multiple_claim(
    fleet: &Fleet,
    total: f64,
    factor: f64,
    of: &str,
    growth: Option<(f64, f64)>,
) -> Vec<ClaimCheck> {
    let Some(m) = check_multiple(total, factor, growth) else {
        return Vec::new();
    };
    let label = format!("{total} is {factor}× {of}");
    let implied = ClaimResult::Multiple {
        total,
        factor,
        of: of.to_string(),
        implied: m.implied,
    };
    let mut out = vec![check(fleet, label.clone(), "stated".into(), implied)];
    if let (Some(base), Some((g, months))) = (m.base, growth) {
        let result = ClaimResult::GrowthBase {
            of: of.to_string(),
            growth: g,
            months,
            base,
            doubling_months: m.doubling_months,
        };
        out.push(check(fleet, label, "stated".into(), result));
    }
    out
}

fn total_claim(inputs: Inputs, fleet: &Fleet, stated: f64) -> Vec<ClaimCheck> {
    let holdings = inputs.holdings(fleet);
    inputs
        .bases
        .iter()
        .map(|basis| {
            let counted = total(&holdings, basis, inputs.sources());
            let result = match counted.complete() {
                Some(t) => ClaimResult::Total {
                    stated,
                    computed: t,
                    inside: t.has_width() && !t.excludes(stated),
                    difference: Difference::between(t.value, stated, "stated"),
                },
                None => ClaimResult::NotCheckable {
                    stated,
                    missing: counted.missing,
                },
            };
            check(fleet, format!("total {stated}"), basis.to_string(), result)
        })
        .collect()
}

/// The known part of a fleet: its device entries (stated amounts are what is being split).
fn known_devices<'a>(inputs: &'a Inputs, fleet: &'a Fleet) -> Vec<Holding<'a>> {
    inputs
        .holdings(fleet)
        .into_iter()
        .filter(|h| matches!(h, Holding::Devices { .. }))
        .collect()
}

/// The remainder of a stated total solved in `device` under every datasheet figure, then under
/// the non-published bases of the projection.
fn remainder_claim(inputs: Inputs, fleet: &Fleet, stated: f64, device: &str) -> Vec<ClaimCheck> {
    let Some(figures) = inputs.figures.get(device) else {
        return Vec::new();
    };
    let known = known_devices(&inputs, fleet);
    let mut bases: Vec<Basis> = DatasheetFigure::ALL
        .iter()
        .map(|f| Basis::Published { figure: *f })
        .collect();
    let measured_bases = inputs
        .bases
        .iter()
        .filter(|b| !matches!(b, Basis::Published { .. }));
    bases.extend(measured_bases.cloned());
    let label = format!("remainder of {stated} in {device}");
    bases
        .iter()
        .map(|basis| {
            let t = total(&known, basis, inputs.sources());
            let used = basis.ratio(figures, inputs.sources());
            let mut missing = t.missing.clone();
            if used.is_none() {
                missing.push(device.to_string());
            }
            let solved = used.filter(|_| missing.is_empty()).map(|u| {
                (
                    solve_remainder(stated, t.equivalents, u.ratio),
                    u.ratio.value,
                )
            });
            let result = ClaimResult::Remainder {
                stated_total: stated,
                device: device.to_string(),
                remainder: solved.map(|(s, _)| s.remainder),
                count: solved.map(|(s, _)| s.count),
                device_per_reference: solved.map(|(_, r)| 1.0 / r),
                missing,
            };
            check(fleet, label.clone(), basis.to_string(), result)
        })
        .collect()
}

/// The remainder solved with each ratio the file states ("1 H100 = 4 A100").
fn stated_remainders(
    inputs: Inputs,
    fleet: &Fleet,
    stated: f64,
    device: &str,
    ratios: &BTreeMap<String, f64>,
) -> Vec<ClaimCheck> {
    if !inputs.figures.contains_key(device) {
        return Vec::new();
    }
    let known = known_devices(&inputs, fleet);
    let primary = inputs.bases.first().cloned().unwrap_or(Basis::Published {
        figure: DEFAULT_METRIC.figure(),
    });
    let known_total = total(&known, &primary, inputs.sources());
    let label = format!("remainder of {stated} in {device}");
    ratios
        .iter()
        .map(|(name, per_reference)| {
            let basis = format!("stated: {name}");
            let Some(known) = known_total.complete() else {
                let result = ClaimResult::NotCheckable {
                    stated,
                    missing: known_total.missing.clone(),
                };
                return check(fleet, label.clone(), basis, result);
            };
            let s = solve_remainder(stated, known, Interval::exact(1.0 / per_reference));
            let result = ClaimResult::StatedRemainder {
                stated_total: stated,
                device: device.to_string(),
                device_per_reference: *per_reference,
                remainder: s.remainder.value,
                count: s.count.value,
            };
            check(fleet, label.clone(), basis, result)
        })
        .collect()
}

fn growth_claim(
    inputs: Inputs,
    fleet: &Fleet,
    from: &str,
    to: &str,
    at_least: Option<f64>,
) -> Vec<ClaimCheck> {
    let (Ok(a), Ok(b)) = (from.parse::<YearFraction>(), to.parse::<YearFraction>()) else {
        return Vec::new();
    };
    let label = format!("growth {from} → {to}");
    let mut out = Vec::new();
    for basis in inputs.bases {
        let dated = dated_entries(inputs, fleet, basis);
        let g = dated.as_ref().map(|d| growth_between(d, a, b));
        let factor = g.and_then(|g| g.factor);
        let verdict = at_least.zip(factor).map(|(x, f)| {
            if f.low >= x {
                GrowthVerdict::Holds
            } else if f.high < x {
                GrowthVerdict::Fails
            } else {
                GrowthVerdict::Undecided
            }
        });
        let result = ClaimResult::Growth {
            from: from.to_string(),
            to: to.to_string(),
            at_least,
            stocks: g.map(|g| (g.from, g.to)),
            factor,
            doubling_months: g.and_then(|g| g.doubling_years).map(|y| 12.0 * y),
            verdict,
        };
        out.push(check(fleet, label.clone(), basis.to_string(), result));
        if dated.is_none() {
            // Undated entries stay undated under every basis: one row says so.
            break;
        }
    }
    out
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

fn stock_points(inputs: Inputs, fleet: &Fleet) -> Vec<StockPoint> {
    let mut points = Vec::new();
    for basis in inputs.bases {
        let Some(dated) = dated_entries(inputs, fleet, basis) else {
            return points;
        };
        let mut dates: Vec<YearFraction> = dated.iter().map(|d| d.acquired).collect();
        dates.sort_by(|a, b| a.years.total_cmp(&b.years));
        dates.dedup_by(|a, b| a.years == b.years);
        for date in dates {
            points.push(StockPoint {
                fleet: fleet.name.clone(),
                basis: basis.to_string(),
                date: date.to_string(),
                year: date.years,
                stock: super::stock_at(&dated, date),
            });
        }
    }
    points
}
