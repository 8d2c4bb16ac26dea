//! Plumbing shared by every chart: an SVG canvas drawn into a string, the palette, axis ranges
//! that leave room around the data, and one error type for whatever plotters reports. Charts
//! are drawn without system fonts (plotters' built-in text metrics), so the same data gives the
//! same SVG on every machine and in every locale.

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
