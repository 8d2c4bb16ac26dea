//! Fleet charts: each fleet's total in reference-equivalents under every basis of the
//! projection, with intervals, and — when entries are dated — the stock over time. They draw
//! the [`Projection`] model that `fleetbench project` prints; nothing is recomputed here.

use super::chart::{
    axis_number, colour, draw_svg_with_legend, DrawResult, LegendEntry, Swatch, HEIGHT,
};
use super::html::Figure;
use crate::error::Result;
use crate::output::Table;
use crate::output::Tabular;
use crate::projection::{Basis, Interval, Projection};
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::prelude::*;

/// The tables of the projection, titled as `fleetbench project` prints them.
pub fn tables(projection: &Projection) -> Vec<(String, Table)> {
    projection
        .sections()
        .into_iter()
        .map(|s| (s.title.unwrap_or_default(), s.table))
        .collect()
}

/// The totals chart, and a stock chart when any fleet is dated.
pub fn figures(projection: &Projection, label: &str) -> Result<Vec<Figure>> {
    let mut figures = vec![Figure {
        id: "totals".into(),
        kind: "fleet-totals".into(),
        caption: format!("{label}: totals by basis"),
        svg: totals_svg(projection)?,
    }];
    if !stock_series(projection).is_empty() {
        figures.push(Figure {
            id: "stock".into(),
            kind: "fleet-stock".into(),
            caption: format!("{label}: stock over time"),
            svg: stock_svg(projection)?,
        });
    }
    Ok(figures)
}

/// How bars of a kind of basis are filled, and what the legend calls them.
fn basis_style(basis: Option<&Basis>) -> (RGBColor, &'static str) {
    match basis {
        Some(Basis::Published { .. }) => (RGBColor(160, 160, 160), "published basis"),
        Some(Basis::Calibrated { .. }) => (colour(0), "calibrated basis"),
        Some(Basis::Roofline { .. }) => (colour(1), "roofline basis"),
        None => (colour(5), "other basis"),
    }
}

/// One bar of the totals chart: its label, fill and the total.
struct Bar {
    label: String,
    fill: RGBColor,
    total: Interval,
}

/// Bars bottom to top, so the first fleet's first basis reads first from the top. A total
/// that cannot be computed has no bar.
fn bars(projection: &Projection) -> Vec<Bar> {
    projection
        .totals
        .iter()
        .rev()
        .filter_map(|t| {
            let total = t.equivalents?;
            Some(Bar {
                label: format!("{} ({})", t.fleet, t.basis),
                fill: basis_style(projection.basis(&t.basis)).0,
                total,
            })
        })
        .collect()
}

/// The legend of the totals chart: one swatch per kind of basis present, then the whisker.
fn totals_legend(projection: &Projection) -> Vec<LegendEntry> {
    let mut entries: Vec<LegendEntry> = Vec::new();
    for t in projection.totals.iter().filter(|t| t.equivalents.is_some()) {
        let (fill, name) = basis_style(projection.basis(&t.basis));
        if !entries.iter().any(|e| e.label == name) {
            entries.push(LegendEntry::new(name, Swatch::Bar(fill)));
        }
    }
    let whisker = Swatch::Line {
        colour: BLACK,
        width: 2,
        dashed: false,
    };
    entries.push(LegendEntry::new("interval", whisker));
    entries
}

fn totals_svg(projection: &Projection) -> Result<String> {
    let bars = bars(projection);
    let height = 120 + 26 * bars.len().max(1) as u32;
    let legend = totals_legend(projection);
    draw_svg_with_legend("fleet totals chart", height, &legend, |root| {
        let n = bars.len();
        let top = bars
            .iter()
            .map(|b| b.total.high.max(b.total.value))
            .fold(1.0, f64::max)
            * 1.1;
        let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
        let reference = &projection.reference;
        let mut chart = ChartBuilder::on(root)
            .caption(
                format!("Fleet totals in {reference} equivalents"),
                ("sans-serif", 20),
            )
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(300)
            .build_cartesian_2d(0.0..top, (0..n.max(1) - 1).into_segmented())?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(format!("total ({reference} equivalents)"))
            .y_desc("fleet (basis)")
            .y_labels(n.max(1))
            .y_label_style(("sans-serif", 14))
            .x_label_formatter(&|v| axis_number(*v))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()?;
        draw_total_bars(&mut chart, &bars)
    })
}

type BarChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<RangedCoordf64, plotters::coord::ranged1d::SegmentedCoord<RangedCoordusize>>,
>;

fn draw_total_bars(chart: &mut BarChart, bars: &[Bar]) -> DrawResult {
    chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
        let corners = [
            (0.0, SegmentValue::Exact(i)),
            (b.total.value, SegmentValue::Exact(i + 1)),
        ];
        let mut bar = Rectangle::new(corners, b.fill.mix(0.8).filled());
        bar.set_margin(3, 3, 0, 0);
        bar
    }))?;
    chart.draw_series(bars.iter().enumerate().map(|(i, b)| {
        let y = SegmentValue::CenterOf(i);
        PathElement::new(
            [(b.total.low, y.clone()), (b.total.high, y)],
            BLACK.stroke_width(2),
        )
    }))?;
    Ok(())
}

/// One line of the stock chart: `fleet (basis)` and its points (fractional year, stock).
type StockSeries = (String, Vec<(f64, Interval)>);

/// Every fleet and basis with at least two dated points.
fn stock_series(projection: &Projection) -> Vec<StockSeries> {
    let mut series: Vec<StockSeries> = Vec::new();
    for p in &projection.stock {
        let name = format!("{} ({})", p.fleet, p.basis);
        match series.iter_mut().find(|(n, _)| *n == name) {
            Some((_, points)) => points.push((p.year, p.stock)),
            None => series.push((name, vec![(p.year, p.stock)])),
        }
    }
    series.retain(|(_, points)| points.len() > 1);
    series
}

/// The stock as the step function it is: it holds its value until the next acquisition.
fn steps(points: &[(f64, Interval)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(2 * points.len());
    for (i, (x, e)) in points.iter().enumerate() {
        if i > 0 {
            out.push((*x, points[i - 1].1.value));
        }
        out.push((*x, e.value));
    }
    out
}

fn stock_svg(projection: &Projection) -> Result<String> {
    let series = stock_series(projection);
    let legend: Vec<LegendEntry> = series
        .iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let line = Swatch::Line {
                colour: colour(i),
                width: 2,
                dashed: false,
            };
            LegendEntry::new(format!("{name}, interval as whiskers"), line)
        })
        .collect();
    draw_svg_with_legend("fleet stock chart", HEIGHT, &legend, |root| {
        draw_stock(root, &projection.reference, &series)
    })
}

fn draw_stock(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    reference: &str,
    series: &[StockSeries],
) -> DrawResult {
    let (mut x0, mut x1, mut y1) = (f64::MAX, f64::MIN, 1.0f64);
    for (x, e) in series.iter().flat_map(|(_, s)| s.iter()) {
        x0 = x0.min(*x);
        x1 = x1.max(*x);
        y1 = y1.max(e.high).max(e.value);
    }
    let pad = ((x1 - x0) * 0.05).max(0.1);
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("Stock over time in {reference} equivalents"),
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d((x0 - pad)..(x1 + pad), 0.0..y1 * 1.1)?;
    chart
        .configure_mesh()
        .x_desc("acquisition date (year)")
        .y_desc(format!("stock ({reference} equivalents)"))
        .x_label_formatter(&|v| format!("{v:.1}"))
        .y_label_formatter(&|v| axis_number(*v))
        .draw()?;
    for (i, (_, stock)) in series.iter().enumerate() {
        let style = colour(i).stroke_width(2);
        chart.draw_series(LineSeries::new(steps(stock), style))?;
        chart.draw_series(stock.iter().map(|(x, e)| {
            PathElement::new([(*x, e.low), (*x, e.high)], colour(i).stroke_width(1))
        }))?;
    }
    Ok(())
}
