//! Equivalence: for every device of a ratios file, the published (datasheet) ratio to the
//! reference beside the calibrated one a projection would use, with its interval when it has
//! one. The gap between the two bars is what measuring changed.

use super::chart::{axis_number, colour, draw_svg_with_legend, DrawResult, LegendEntry, Swatch};
use crate::equiv::{RatioCell, RatiosFile};
use crate::error::Result;
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One bar: which device, which kind of ratio, and the cell.
struct Bar<'a> {
    label: String,
    cell: &'a RatioCell,
    calibrated: bool,
}

type BarChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<RangedCoordf64, plotters::coord::ranged1d::SegmentedCoord<RangedCoordusize>>,
>;

/// The equivalence chart of a ratios file, as SVG.
pub fn to_svg(file: &RatiosFile) -> Result<String> {
    let bars = bars(file);
    let height = 120 + 26 * bars.len().max(1) as u32;
    let whisker = Swatch::Line {
        colour: BLACK,
        width: 2,
        dashed: false,
    };
    let legend = [
        LegendEntry::new("published (datasheet)", Swatch::Bar(PUBLISHED_GREY)),
        LegendEntry::new("calibrated", Swatch::Bar(colour(0))),
        LegendEntry::new("95% interval (where measured)", whisker),
    ];
    draw_svg_with_legend("equivalence chart", height, &legend, |root| {
        draw(file, &bars, root)
    })
}

/// The fill of published bars.
const PUBLISHED_GREY: RGBColor = RGBColor(160, 160, 160);

/// Two bars per device (published above calibrated), bottom-up in file order; a device
/// without a cell gets no bar for it.
fn bars(file: &RatiosFile) -> Vec<Bar<'_>> {
    let mut bars = Vec::new();
    for d in file.devices.iter().rev() {
        if let Some(cell) = &d.calibrated {
            let limited = if cell.kernel_limited() {
                ", kernel-limited"
            } else {
                ""
            };
            let label = format!(
                "{} (calibrated, {}{limited})",
                d.name,
                cell.provenance.label()
            );
            bars.push(Bar {
                label,
                cell,
                calibrated: true,
            });
        }
        if let Some(cell) = &d.published {
            let label = format!("{} (published)", d.name);
            bars.push(Bar {
                label,
                cell,
                calibrated: false,
            });
        }
    }
    bars
}

fn draw(file: &RatiosFile, bars: &[Bar], root: &DrawingArea<SVGBackend, Shift>) -> DrawResult {
    let n = bars.len();
    let top = bars
        .iter()
        .map(|b| b.cell.ratio.high.max(b.cell.ratio.value))
        .fold(1.0, f64::max)
        * 1.5;
    let title = format!(
        "Equivalence to {} ({})",
        file.reference,
        file.metric.label()
    );
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    let mut chart = ChartBuilder::on(root)
        .caption(title, ("sans-serif", 20))
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(300)
        .build_cartesian_2d(0.0..top, (0..n.max(1) - 1).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .x_desc(format!(
            "ratio to {} (×, devices per device)",
            file.reference
        ))
        .y_desc("device (ratio kind)")
        .y_labels(n.max(1))
        .x_label_formatter(&|v| axis_number(*v))
        .y_label_formatter(&|v| match v {
            SegmentValue::CenterOf(i) => labels.get(*i).cloned().unwrap_or_default(),
            _ => String::new(),
        })
        .draw()?;
    draw_bars(&mut chart, bars)?;
    Ok(())
}

fn draw_bars(chart: &mut BarChart, bars: &[Bar]) -> DrawResult {
    for (calibrated, style) in [
        (false, PUBLISHED_GREY.filled()),
        (true, colour(0).mix(0.8).filled()),
    ] {
        chart.draw_series(
            bars.iter()
                .enumerate()
                .filter(|(_, b)| b.calibrated == calibrated)
                .map(|(i, b)| {
                    let corners = [
                        (0.0, SegmentValue::Exact(i)),
                        (b.cell.ratio.value, SegmentValue::Exact(i + 1)),
                    ];
                    let mut bar = Rectangle::new(corners, style);
                    bar.set_margin(3, 3, 0, 0);
                    bar
                }),
        )?;
    }
    let whiskers = bars.iter().enumerate().filter_map(|(i, b)| {
        let ratio = b.cell.ratio;
        if !ratio.has_width() {
            return None;
        }
        let (lo, hi) = (ratio.low, ratio.high);
        let y = SegmentValue::CenterOf(i);
        Some(PathElement::new(
            [(lo, y.clone()), (hi, y)],
            BLACK.stroke_width(2),
        ))
    });
    chart.draw_series(whiskers)?;
    Ok(())
}
