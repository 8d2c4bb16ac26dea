//! History charts: each metric's capability figure of a unit (or of a device model's units)
//! over time, with its 95% interval, driver changes and steps (change points) marked. They draw
//! the [`History`] model that `fleetbench store history` prints; nothing is recomputed here.

use super::chart::{axis_number, colour, draw_svg_with_legend, DrawResult, LegendEntry, Swatch};
use super::html::Figure;
use crate::error::{Error, Result};
use crate::output::{Table, Tabular};
use crate::results::slug;
use crate::store::analysis::{History, MetricHistory};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// Height of a history plot, pixels (legend strip excluded).
const PLOT_HEIGHT: u32 = 420;

/// The colour of driver-change marks.
const DRIVER_COLOUR: RGBColor = RGBColor(214, 39, 40);

/// One chart per metric of `history`; `n` numbers the history on the page (ids stay unique).
pub fn figures(history: &History, n: usize) -> Result<Vec<Figure>> {
    history
        .metrics
        .iter()
        .map(|m| {
            Ok(Figure {
                id: format!("history-{n}-{}-{}", slug(&history.subject), slug(&m.metric)),
                kind: "history".into(),
                caption: format!("{}: {} over time", history.subject, m.metric),
                svg: metric_svg(history, m)?,
            })
        })
        .collect()
}

/// The tables `store history` prints, titled as it titles them (steps after the title).
pub fn tables(history: &History) -> Vec<(String, Table)> {
    history
        .sections()
        .into_iter()
        .map(|s| {
            let title = std::iter::once(s.title.unwrap_or_default())
                .chain(s.notes)
                .collect::<Vec<_>>()
                .join("; ");
            (title, s.table)
        })
        .collect()
}

/// Seconds in a day: the time axis counts days since 1970-01-01 (UTC), so its ticks, which
/// plotters puts on round numbers, fall on midnights.
const DAY_S: f64 = 86_400.0;

/// A point of the chart: start time (days since the Unix epoch) and the figure with its
/// interval.
struct Point {
    at: f64,
    value: f64,
    low: f64,
    high: f64,
}

/// Every point with its start time; a time that does not parse (the store derived its own
/// seconds from it, so it cannot happen for a stored run) is an error, not a silent gap.
fn points(m: &MetricHistory) -> Result<Vec<Point>> {
    m.points
        .iter()
        .map(|p| {
            let at = p.started_at.parse::<jiff::Timestamp>().map_err(|e| {
                Error::Render(format!(
                    "history of {}: time '{}': {e}",
                    m.metric, p.started_at
                ))
            })?;
            Ok(Point {
                at: at.as_second() as f64 / DAY_S,
                value: p.figure.value,
                low: p.figure.low,
                high: p.figure.high,
            })
        })
        .collect()
}

fn legend(history: &History, m: &MetricHistory) -> Vec<LegendEntry> {
    let mut entries = vec![LegendEntry::new(
        if history.single_unit {
            "median of each run, 95% interval as whiskers"
        } else {
            "median of each run of every unit, 95% interval as whiskers"
        },
        Swatch::Marker {
            colour: colour(0),
            filled: true,
            radius: 4,
        },
    )];
    let dashed = |colour| Swatch::Line {
        colour,
        width: 2,
        dashed: true,
    };
    if m.points.iter().any(|p| p.driver_changed) {
        let label = "driver changed since the unit's previous run (new driver named above)";
        entries.push(LegendEntry::new(label, dashed(DRIVER_COLOUR)));
    }
    if !m.change_points.is_empty() {
        let label = "step in the series (change point), with after ÷ before";
        entries.push(LegendEntry::new(label, dashed(colour(1))));
    }
    entries
}

fn metric_svg(history: &History, m: &MetricHistory) -> Result<String> {
    let points = points(m)?;
    let legend = legend(history, m);
    draw_svg_with_legend("history chart", PLOT_HEIGHT, &legend, |root| {
        draw(root, history, m, &points)
    })
}

/// Axis ranges around the data: half a day either side at least, and 10% above and below.
fn ranges(points: &[Point]) -> ((f64, f64), (f64, f64)) {
    let first = points.iter().map(|p| p.at).fold(f64::MAX, f64::min);
    let last = points.iter().map(|p| p.at).fold(f64::MIN, f64::max);
    let pad = ((last - first) * 0.05).max(0.5);
    let low = points
        .iter()
        .map(|p| p.low.min(p.value))
        .fold(f64::MAX, f64::min);
    let high = points
        .iter()
        .map(|p| p.high.max(p.value))
        .fold(0.0, f64::max);
    let y = if low.is_finite() && high > 0.0 && low < f64::MAX {
        ((low * 0.9).max(0.0), high * 1.1)
    } else {
        (0.0, 1.0)
    };
    ((first - pad, last + pad), y)
}

/// A tick's date, with the time of day when the tick is not at midnight.
fn date(days: f64) -> String {
    let format = if (days - days.round()).abs() < 1e-6 {
        "%Y-%m-%d"
    } else {
        "%Y-%m-%d %H:%M"
    };
    jiff::Timestamp::from_second((days * DAY_S).round() as i64)
        .map(|t| t.strftime(format).to_string())
        .unwrap_or_default()
}

fn draw(
    root: &DrawingArea<SVGBackend, plotters::coord::Shift>,
    history: &History,
    m: &MetricHistory,
    points: &[Point],
) -> DrawResult {
    let ((x0, x1), (y0, y1)) = ranges(points);
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("{} of {} over time", m.metric, history.subject),
            ("sans-serif", 20),
        )
        .margin(16)
        .x_label_area_size(48)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    chart
        .configure_mesh()
        .x_desc("run started (UTC date)")
        .y_desc(format!("{} ({})", m.metric, m.unit))
        .x_labels(6)
        .x_label_formatter(&|v| date(*v))
        .y_label_formatter(&|v| axis_number(*v))
        .draw()?;
    let top = y1 - (y1 - y0) * 0.04;
    // A fleet's driver rollout changes many units: each change is a line, each new driver is
    // named once.
    let mut named = std::collections::BTreeSet::new();
    for (p, point) in m
        .points
        .iter()
        .zip(points)
        .filter(|(p, _)| p.driver_changed)
    {
        let style = DRIVER_COLOUR.stroke_width(2);
        chart.draw_series(DashedLineSeries::new(
            [(point.at, y0), (point.at, top)],
            8,
            5,
            style,
        ))?;
        if !named.insert(p.driver.as_str()) {
            continue;
        }
        // Named on the side with room, so a change late in the series stays on the chart.
        let side = if point.at > (x0 + x1) / 2.0 {
            HPos::Right
        } else {
            HPos::Left
        };
        let text = ("sans-serif", 13)
            .into_font()
            .color(&DRIVER_COLOUR)
            .pos(Pos::new(side, VPos::Top));
        chart.draw_series([Text::new(p.driver.clone(), (point.at, y1), text)])?;
    }
    for step in &m.change_points {
        let Some(point) = points.get(step.index) else {
            continue;
        };
        let style = colour(1).stroke_width(2);
        chart.draw_series(DashedLineSeries::new(
            [(point.at, y0), (point.at, top)],
            4,
            4,
            style,
        ))?;
        let text = ("sans-serif", 13).into_font().color(&colour(1));
        let label = format!("×{:.3}", step.ratio);
        chart.draw_series([Text::new(label, (point.at, y0 + (y1 - y0) * 0.06), text)])?;
    }
    draw_points(&mut chart, history.single_unit, points)
}

type TimeChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

fn draw_points(chart: &mut TimeChart, single_unit: bool, points: &[Point]) -> DrawResult {
    if single_unit {
        let line = points.iter().map(|p| (p.at, p.value));
        chart.draw_series(LineSeries::new(line, colour(0).mix(0.5).stroke_width(1)))?;
    }
    chart.draw_series(
        points
            .iter()
            .map(|p| PathElement::new([(p.at, p.low), (p.at, p.high)], colour(0).stroke_width(1))),
    )?;
    chart.draw_series(
        points
            .iter()
            .map(|p| Circle::new((p.at, p.value), 4, colour(0).filled())),
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Interval;
    use crate::store::analysis::{ChangePoint, HistoryPoint};

    fn point(day: usize, value: f64, driver: &str, changed: bool) -> HistoryPoint {
        HistoryPoint {
            run_id: format!("r{day}"),
            started_at: format!("2026-03-{:02}T10:00:00Z", day),
            host: "node<1>".into(),
            gpu_index: 0,
            driver: driver.into(),
            driver_changed: changed,
            shape: "matmul/f32/64x64x64".into(),
            kernel: "tiled".into(),
            figure: Interval::new(value, value * 0.95, value * 1.05, 0.95),
            samples: 10,
        }
    }

    fn unit_history() -> History {
        History {
            subject: "node<1> GPU 0 (fake & co)".into(),
            single_unit: true,
            metrics: vec![MetricHistory {
                metric: "matmul-f32".into(),
                unit: "GFLOP/s".into(),
                points: vec![
                    point(1, 100.0, "d1", false),
                    point(2, 101.0, "d1", false),
                    point(3, 80.0, "d2 <new>", true),
                    point(4, 79.0, "d2 <new>", false),
                ],
                change_points: vec![ChangePoint {
                    index: 2,
                    run_id: "r3".into(),
                    started_at: "2026-03-03T10:00:00Z".into(),
                    before: 100.5,
                    after: 79.5,
                    ratio: 0.791,
                    p: 0.001,
                }],
            }],
        }
    }

    #[test]
    fn a_history_chart_marks_driver_changes_and_steps_and_escapes_names() {
        let figures = figures(&unit_history(), 1).unwrap();
        assert_eq!(figures.len(), 1);
        let svg = &figures[0].svg;
        assert!(
            svg.contains("d2 &lt;new&gt;") && !svg.contains("d2 <new>"),
            "{svg}"
        );
        assert!(svg.contains("driver changed since the unit"));
        assert!(svg.contains("×0.791") && svg.contains("step in the series"));
        assert!(svg.contains("2026-03-0"), "dates on the time axis");
        let mut twice = unit_history();
        twice.metrics[0].points[3].driver_changed = true;
        let svg = &super::figures(&twice, 1).unwrap()[0].svg;
        assert_eq!(
            svg.matches("d2 &lt;new&gt;").count(),
            1,
            "each new driver named once"
        );
        assert_eq!(figures[0].kind, "history");
        let tables = tables(&unit_history());
        assert!(
            tables[0].0.contains("step at 2026-03-03T10:00:00Z"),
            "{}",
            tables[0].0
        );
    }

    #[test]
    fn ticks_read_as_dates_and_a_time_off_midnight() {
        let march_1 = 20_513.0;
        assert_eq!(date(march_1), "2026-03-01");
        assert_eq!(date(march_1 + 1e-9), "2026-03-01");
        assert_eq!(date(march_1 + 0.5), "2026-03-01 12:00");
    }

    #[test]
    fn a_population_without_changes_has_no_marks_and_a_bad_time_is_an_error() {
        let mut h = unit_history();
        h.single_unit = false;
        h.metrics[0].change_points.clear();
        for p in &mut h.metrics[0].points {
            p.driver_changed = false;
        }
        let svg = &figures(&h, 1).unwrap()[0].svg;
        assert!(!svg.contains("driver changed") && !svg.contains("step in the series"));
        h.metrics[0].points[0].started_at = "yesterday".into();
        let e = figures(&h, 1).unwrap_err().to_string();
        assert!(e.contains("'yesterday'"), "{e}");
    }
}
