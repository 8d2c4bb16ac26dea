//! Fleet charts: each fleet's total in reference-equivalents under the published and the
//! calibrated basis, with intervals, and — when entries are dated — the stock over time. The
//! arithmetic is the projection's ([`crate::projection`]); this module only collects and draws.

use super::chart::{axis_number, colour, draw_svg, DrawResult, HEIGHT};
use super::html::Figure;
use crate::error::Result;
use crate::fleet::{Fleet, FleetFile};
use crate::output::Table;
use crate::projection::{
    entry_equivalents, stock_at, total, Basis, Dated, DeviceFigures, Holding, Interval,
    MeasuredRatio, Metric, RatioSources,
};
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::prelude::*;
use std::collections::BTreeMap;

/// One fleet's total under one basis.
#[derive(Debug, Clone, PartialEq)]
pub struct BasisTotal {
    /// The basis, as the projection names it ("published bf16", "calibrated bf16").
    pub basis: String,
    /// Reference-equivalents with interval.
    pub total: Interval,
    /// Devices left out for want of a figure.
    pub missing: Vec<String>,
    /// Stock at each acquisition date (fractional year), for dated entries only.
    pub stock: Vec<(f64, Interval)>,
}

/// One fleet under every basis.
#[derive(Debug, Clone, PartialEq)]
pub struct FleetTotals {
    /// Fleet name.
    pub name: String,
    /// One per basis, published first.
    pub bases: Vec<BasisTotal>,
}

/// Every fleet of a fleet file, projected.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FleetProjection {
    /// Reference device id.
    pub reference: String,
    /// The fleets.
    pub fleets: Vec<FleetTotals>,
}

impl FleetProjection {
    /// Projects every fleet under the published basis and, when `measured` is not empty, the
    /// calibrated one.
    pub fn new(
        file: &FleetFile,
        figures: &BTreeMap<String, DeviceFigures>,
        reference: &DeviceFigures,
        measured: &[MeasuredRatio],
        metric: Metric,
    ) -> Self {
        let mut bases = vec![Basis::Published(metric)];
        if !measured.is_empty() {
            bases.push(Basis::Calibrated(metric));
        }
        let src = RatioSources {
            reference,
            measured,
        };
        let fleets = file
            .fleets
            .iter()
            .map(|fleet| FleetTotals {
                name: fleet.name.clone(),
                bases: bases
                    .iter()
                    .map(|b| basis_total(fleet, figures, b, src))
                    .collect(),
            })
            .collect();
        FleetProjection {
            reference: reference.id.clone(),
            fleets,
        }
    }

    /// One row per fleet and basis.
    pub fn totals_table(&self) -> Table {
        let unit = format!("{} equivalents", self.reference);
        let mut t = Table::new(&["fleet", "basis", &unit, "interval", "missing"]);
        for f in &self.fleets {
            for b in &f.bases {
                t.push(vec![
                    f.name.clone(),
                    b.basis.clone(),
                    format!("{:.1}", b.total.value),
                    format!("[{:.1}, {:.1}]", b.total.low, b.total.high),
                    b.missing.join(", "),
                ]);
            }
        }
        t
    }

    /// The totals chart, and a stock chart when any fleet is dated.
    pub fn figures(&self, label: &str) -> Result<Vec<Figure>> {
        let mut figures = vec![Figure {
            id: "totals".into(),
            kind: "fleet-totals".into(),
            caption: format!("{label}: totals by basis"),
            svg: self.totals_svg()?,
        }];
        if self
            .fleets
            .iter()
            .any(|f| f.bases.iter().any(|b| b.stock.len() > 1))
        {
            figures.push(Figure {
                id: "stock".into(),
                kind: "fleet-stock".into(),
                caption: format!("{label}: stock over time"),
                svg: self.stock_svg()?,
            });
        }
        Ok(figures)
    }

    fn bars(&self) -> Vec<(String, usize, Interval)> {
        let mut bars = Vec::new();
        for f in self.fleets.iter().rev() {
            for (i, b) in f.bases.iter().enumerate().rev() {
                bars.push((format!("{} ({})", f.name, b.basis), i, b.total));
            }
        }
        bars
    }

    fn totals_svg(&self) -> Result<String> {
        let bars = self.bars();
        let height = 170 + 26 * bars.len().max(1) as u32;
        draw_svg("fleet totals chart", height, |root| {
            let n = bars.len();
            let top = bars
                .iter()
                .map(|b| b.2.high.max(b.2.value))
                .fold(1.0, f64::max)
                * 1.5;
            let labels: Vec<String> = bars.iter().map(|b| b.0.clone()).collect();
            let mut chart = ChartBuilder::on(root)
                .caption(
                    format!("Fleet totals in {} equivalents", self.reference),
                    ("sans-serif", 20),
                )
                .margin(16)
                .x_label_area_size(48)
                .y_label_area_size(300)
                .build_cartesian_2d(0.0..top, (0..n.max(1) - 1).into_segmented())?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .x_desc(format!("total ({} equivalents)", self.reference))
                .y_desc("fleet (basis)")
                .y_labels(n.max(1))
                .x_label_formatter(&|v| axis_number(*v))
                .y_label_formatter(&|v| match v {
                    SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                    _ => String::new(),
                })
                .draw()?;
            draw_total_bars(&mut chart, &bars)?;
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::LowerRight)
                .background_style(WHITE.mix(0.85))
                .border_style(BLACK)
                .draw()?;
            Ok(())
        })
    }

    fn stock_svg(&self) -> Result<String> {
        draw_svg("fleet stock chart", HEIGHT, |root| self.draw_stock(root))
    }

    fn draw_stock(&self, root: &DrawingArea<SVGBackend, plotters::coord::Shift>) -> DrawResult {
        let series: Vec<(String, &[(f64, Interval)])> = self
            .fleets
            .iter()
            .flat_map(|f| {
                f.bases
                    .iter()
                    .map(move |b| (format!("{} ({})", f.name, b.basis), b.stock.as_slice()))
            })
            .filter(|(_, s)| s.len() > 1)
            .collect();
        let points = series.iter().flat_map(|(_, s)| s.iter());
        let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, 1.0f64);
        for (x, e) in points {
            x0 = x0.min(*x);
            x1 = x1.max(*x);
            y1 = y1.max(e.high).max(e.value);
        }
        let pad = ((x1 - x0) * 0.05).max(0.1);
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Stock over time in {} equivalents", self.reference),
                ("sans-serif", 20),
            )
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(80)
            .build_cartesian_2d((x0 - pad)..(x1 + pad), 0.0..y1 * 1.15)?;
        chart
            .configure_mesh()
            .x_desc("acquisition date (year)")
            .y_desc(format!("stock ({} equivalents)", self.reference))
            .x_label_formatter(&|v| format!("{v:.1}"))
            .y_label_formatter(&|v| axis_number(*v))
            .draw()?;
        for (i, (name, stock)) in series.iter().enumerate() {
            let style = colour(i).stroke_width(2);
            chart
                .draw_series(LineSeries::new(
                    stock.iter().map(|(x, e)| (*x, e.value)),
                    style,
                ))?
                .label(format!("{name}, interval as whiskers"))
                .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], style));
            chart.draw_series(stock.iter().map(|(x, e)| {
                PathElement::new([(*x, e.low), (*x, e.high)], colour(i).stroke_width(1))
            }))?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()?;
        Ok(())
    }
}

type BarChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<RangedCoordf64, plotters::coord::ranged1d::SegmentedCoord<RangedCoordusize>>,
>;

fn draw_total_bars(chart: &mut BarChart, bars: &[(String, usize, Interval)]) -> DrawResult {
    for (basis_index, name) in [(0, "published basis"), (1, "calibrated basis")] {
        let style = if basis_index == 0 {
            RGBColor(160, 160, 160).filled()
        } else {
            colour(0).mix(0.8).filled()
        };
        if !bars.iter().any(|b| b.1 == basis_index) {
            continue;
        }
        chart
            .draw_series(
                bars.iter()
                    .enumerate()
                    .filter(|(_, b)| b.1 == basis_index)
                    .map(|(i, b)| {
                        let corners = [
                            (0.0, SegmentValue::Exact(i)),
                            (b.2.value, SegmentValue::Exact(i + 1)),
                        ];
                        let mut bar = Rectangle::new(corners, style);
                        bar.set_margin(3, 3, 0, 0);
                        bar
                    }),
            )?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], style));
    }
    chart
        .draw_series(bars.iter().enumerate().map(|(i, b)| {
            let y = SegmentValue::CenterOf(i);
            PathElement::new([(b.2.low, y.clone()), (b.2.high, y)], BLACK.stroke_width(2))
        }))?
        .label("interval")
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], BLACK.stroke_width(2)));
    Ok(())
}

fn basis_total(
    fleet: &Fleet,
    figures: &BTreeMap<String, DeviceFigures>,
    basis: &Basis,
    src: RatioSources,
) -> BasisTotal {
    let holdings: Vec<Holding> = fleet.entries.iter().map(|e| holding(e, figures)).collect();
    let t = total(&holdings, basis, src);
    let mut dated = Vec::new();
    for (entry, h) in fleet.entries.iter().zip(&holdings) {
        let (Ok(Some(acquired)), Ok(r)) = (entry.acquired_at(), entry_equivalents(*h, basis, src))
        else {
            continue;
        };
        dated.push(Dated {
            acquired,
            equivalents: r.equivalents,
        });
    }
    dated.sort_by(|a, b| a.acquired.years.total_cmp(&b.acquired.years));
    let stock = dated
        .iter()
        .map(|d| (d.acquired.years, stock_at(&dated, d.acquired)))
        .collect();
    BasisTotal {
        basis: basis.to_string(),
        total: t.equivalents,
        missing: t.missing,
        stock,
    }
}

/// A fleet entry as the projection counts it (the same rule as `fleetbench project`).
fn holding<'a>(
    entry: &crate::fleet::Entry,
    figures: &'a BTreeMap<String, DeviceFigures>,
) -> Holding<'a> {
    match (&entry.device, entry.equivalents) {
        (Some(id), _) => match figures.get(id) {
            Some(f) => Holding::Devices {
                figures: f,
                count: entry.whole_count(),
            },
            None => Holding::Equivalents(0.0),
        },
        (None, x) => Holding::Equivalents(x.unwrap_or(0.0)),
    }
}
