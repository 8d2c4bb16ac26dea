//! Plumbing shared by every chart: an SVG canvas drawn into a string, the palette, axis ranges
//! that leave room around the data, a legend drawn in its own strip under the plot (so it can
//! never cover a bar, a point or a ceiling, whatever the data), and one error type for
//! whatever plotters reports. Charts are drawn without system fonts (plotters' built-in text
//! metrics), so the same data gives the same SVG on every machine and in every locale.

use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Width of every chart, pixels.
pub const WIDTH: u32 = 900;
/// Height of every chart, pixels.
pub const HEIGHT: u32 = 560;

/// What a drawing closure may fail with; turned into [`Error::Render`] by [`draw_svg`].
pub type DrawResult = std::result::Result<(), Box<dyn std::error::Error>>;

/// Colours for series, picked in order; distinguishable and printable.
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The `i`-th palette colour, wrapping around.
pub fn colour(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Draws a `WIDTH`×`HEIGHT` chart with `draw` and returns the SVG text. `what` names the chart
/// in errors.
pub fn draw_svg(
    what: &str,
    height: u32,
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> DrawResult,
) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (WIDTH, height)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| Error::Render(format!("{what}: {e}")))?;
        draw(&root).map_err(|e| Error::Render(format!("{what}: {e}")))?;
        root.present()
            .map_err(|e| Error::Render(format!("{what}: {e}")))?;
    }
    Ok(svg)
}

/// How a legend entry shows the series it names.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Swatch {
    /// A line segment, solid or dashed.
    Line {
        /// Its colour.
        colour: RGBColor,
        /// Stroke width, pixels.
        width: u32,
        /// Whether the series is drawn dashed.
        dashed: bool,
    },
    /// A filled box, as bars are drawn.
    Bar(RGBColor),
    /// A circle marker, filled or a ring.
    Marker {
        /// Its colour.
        colour: RGBColor,
        /// Filled disc (true) or ring.
        filled: bool,
        /// Radius, pixels.
        radius: i32,
    },
    /// No swatch: the label is a warning about the chart (printed in red).
    Warning,
}

/// One line of a legend.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    /// What the series is.
    pub label: String,
    /// How it is drawn.
    pub swatch: Swatch,
}

impl LegendEntry {
    /// An entry for a series drawn with `swatch`.
    pub fn new(label: impl Into<String>, swatch: Swatch) -> Self {
        LegendEntry {
            label: label.into(),
            swatch,
        }
    }
}

/// Height of one legend line, pixels.
const LEGEND_LINE: u32 = 22;

/// The height of the strip a legend of `entries` lines needs (0 without entries).
pub fn legend_height(entries: usize) -> u32 {
    match entries {
        0 => 0,
        n => 12 + LEGEND_LINE * n as u32,
    }
}

/// Draws a chart of `plot_height` pixels with `draw`, and the legend in a strip below it.
pub fn draw_svg_with_legend(
    what: &str,
    plot_height: u32,
    legend: &[LegendEntry],
    draw: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> DrawResult,
) -> Result<String> {
    let height = plot_height + legend_height(legend.len());
    draw_svg(what, height, |root| {
        let (plot, strip) = root.split_vertically(plot_height);
        draw(&plot)?;
        draw_legend(&strip, legend)
    })
}

/// The legend, one entry per line, swatch then label, indented to the plot's left edge.
fn draw_legend(area: &DrawingArea<SVGBackend, Shift>, entries: &[LegendEntry]) -> DrawResult {
    let x = 90;
    for (i, entry) in entries.iter().enumerate() {
        let y = 6 + (LEGEND_LINE as i32) * i as i32 + LEGEND_LINE as i32 / 2;
        let font = ("sans-serif", 15).into_font();
        let text = match entry.swatch {
            Swatch::Warning => font.color(&RED),
            _ => font.color(&BLACK),
        };
        match entry.swatch {
            Swatch::Line {
                colour,
                width,
                dashed,
            } => {
                let style = colour.stroke_width(width);
                if dashed {
                    area.draw(&PathElement::new([(x, y), (x + 8, y)], style))?;
                    area.draw(&PathElement::new([(x + 14, y), (x + 24, y)], style))?;
                } else {
                    area.draw(&PathElement::new([(x, y), (x + 24, y)], style))?;
                }
            }
            Swatch::Bar(colour) => area.draw(&Rectangle::new(
                [(x, y - 6), (x + 24, y + 6)],
                colour.filled(),
            ))?,
            Swatch::Marker {
                colour,
                filled,
                radius,
            } => {
                let style = if filled {
                    colour.filled()
                } else {
                    colour.stroke_width(2)
                };
                area.draw(&Circle::new((x + 12, y), radius, style))?
            }
            Swatch::Warning => {}
        }
        let pos = plotters::style::text_anchor::Pos::new(
            plotters::style::text_anchor::HPos::Left,
            plotters::style::text_anchor::VPos::Center,
        );
        area.draw(&Text::new(entry.label.clone(), (x + 34, y), text.pos(pos)))?;
    }
    Ok(())
}

/// A log-axis range covering every positive finite value in `values`, widened by `pad` (a
/// factor) on both sides; `fallback` when there is none. Lower and upper ends always differ.
pub fn log_range(
    values: impl IntoIterator<Item = f64>,
    pad: f64,
    fallback: (f64, f64),
) -> (f64, f64) {
    let positive: Vec<f64> = values
        .into_iter()
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    let Some(low) = positive.iter().copied().reduce(f64::min) else {
        return fallback;
    };
    let high = positive.iter().copied().fold(low, f64::max);
    let (low, high) = if high / low < 10.0 {
        let mid = (low * high).sqrt();
        (mid / 3.2, mid * 3.2)
    } else {
        (low, high)
    };
    (low / pad, high * pad)
}

/// A number as axis labels print it: plain decimals between 0.01 and 10^5, scientific outside,
/// always with `.` as the separator.
pub fn axis_number(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".to_string()
    } else if !(0.01..100_000.0).contains(&a) {
        format!("{v:.0e}")
    } else if a >= 10.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        trim_zeros(format!("{v:.1}"))
    } else {
        trim_zeros(format!("{v:.2}"))
    }
}

fn trim_zeros(s: String) -> String {
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_range_pads_and_widens_narrow_data() {
        assert_eq!(log_range([1.0, 100.0], 2.0, (1.0, 2.0)), (0.5, 200.0));
        let (lo, hi) = log_range([5.0, 5.0, f64::NAN, -1.0], 1.0, (1.0, 2.0));
        assert!(lo < 5.0 && hi > 5.0 && hi / lo > 10.0);
        assert_eq!(log_range([0.0, f64::INFINITY], 2.0, (1.0, 2.0)), (1.0, 2.0));
    }

    #[test]
    fn axis_numbers_use_a_dot_and_no_noise() {
        assert_eq!(axis_number(0.5), "0.5");
        assert_eq!(axis_number(2.0), "2");
        assert_eq!(axis_number(1.5), "1.5");
        assert_eq!(axis_number(250.0), "250");
        assert_eq!(axis_number(1e6), "1e6");
        assert_eq!(axis_number(0.001), "1e-3");
    }
}
