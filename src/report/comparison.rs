//! The comparison chart: one result file against a reference file in `compare`'s capability
//! view (each file at its best verified kernel per shape), one bar per shape with its interval
//! and a line per metric's geometric mean. It draws [`crate::compare::Comparison`] itself — the
//! same model `fleetbench compare` prints — so the chart and the command never disagree. Shapes
//! that could not be compared are listed with the reason; kernel-limited figures are labelled.

use super::chart::{axis_number, colour, draw_svg_with_legend, DrawResult, LegendEntry, Swatch};
use crate::catalog::DeviceIdentity;
use crate::compare::{self, CompareConfig, Group, LoadedFile, Row};
use crate::error::Result;
use crate::output::Table;
use crate::results::{slug, ResultFile};
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::coord::Shift;
use plotters::prelude::*;

/// `compare`'s model of one file against a reference, with the device names for the chart.
#[derive(Debug, Clone, PartialEq)]
pub struct ComparisonChart {
    /// Device name of the reference file.
    pub reference: String,
    /// Device name of the compared file.
    pub other: String,
    /// The comparison, reference as baseline (file 0), the other as file 1.
    pub model: compare::Comparison,
}

fn group(f: &ResultFile) -> Group {
    let name = f.machine.adapter.name.clone();
    let device = DeviceIdentity {
        id: slug(&name),
        name: name.clone(),
        matched: false,
    };
    Group {
        label: name.clone(),
        device: device.clone(),
        files: vec![LoadedFile {
            path: name.into(),
            file: f.clone(),
            device,
        }],
    }
}

/// WGSL ÷ vendor library per shape within one file (matmul against SGEMM, copy and triad
/// against the host or device stream reference), as `compare` lists it; `None` when the file
/// ran no vendor reference beside a WGSL case of the same shape.
pub fn vendor_table(file: &ResultFile) -> Option<Table> {
    let caps = [compare::capability::Capability::of(&group(file))];
    let rows = compare::capability::vendor_rows(&caps, &CompareConfig::default());
    if rows.is_empty() {
        return None;
    }
    let mut t = Table::new(&[
        "shape", "unit", "WGSL", "kernel", "vendor", "library", "ratio", "95% CI",
    ]);
    for v in &rows {
        t.push(vec![
            v.label.clone(),
            v.unit.label().to_string(),
            format!("{:.2}", v.wgsl.median),
            v.wgsl.kernels.join(" / "),
            format!("{:.2}", v.vendor.median),
            v.vendor.kernels.join(" / "),
            format!("{:.3}", v.ratio.value),
            format!("[{:.3}, {:.3}]", v.ratio.low, v.ratio.high),
        ]);
    }
    Some(t)
}

impl ComparisonChart {
    /// Compares `other` with `reference` as `fleetbench compare` does (default settings);
    /// fails with the command's message when the files share no metric.
    pub fn new(reference: &ResultFile, other: &ResultFile) -> Result<Self> {
        let groups = [group(reference), group(other)];
        let model = compare::compare(&groups, 0, &CompareConfig::default())?;
        Ok(ComparisonChart {
            reference: reference.machine.adapter.name.clone(),
            other: other.machine.adapter.name.clone(),
            model,
        })
    }

    fn label(r: &Row) -> String {
        let limited = r.other.kernel_limited || r.baseline.kernel_limited;
        let note = if limited { " (kernel-limited)" } else { "" };
        format!("{}{note}", r.label)
    }

    /// One row per shape, then each metric's geometric mean, then what could not be compared.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&[
            "shape",
            "unit",
            "reference",
            "kernel",
            "other",
            "kernel",
            "ratio",
            "95% CI",
        ]);
        for r in &self.model.rows {
            t.push(vec![
                Self::label(r),
                r.unit.label().to_string(),
                format!("{:.2}", r.baseline.median),
                r.baseline.kernels.join(" / "),
                format!("{:.2}", r.other.median),
                r.other.kernels.join(" / "),
                format!("{:.3}", r.ratio.value),
                format!("[{:.3}, {:.3}]", r.ratio.low, r.ratio.high),
            ]);
        }
        for s in &self.model.summaries {
            let g = s.geomean;
            let mut row = vec![format!("geometric mean ({})", s.metric)];
            row.extend(["", "", "", "", ""].map(String::from));
            row.push(format!("{:.3}", g.value));
            row.push(format!("[{:.3}, {:.3}]", g.low, g.high));
            t.push(row);
        }
        for l in &self.model.left_out {
            let why = match (&l.per_file[0], &l.per_file[1]) {
                (Some(r), _) => format!("reference: {}", r.line()),
                (None, Some(o)) => format!("other: {}", o.line()),
                (None, None) => "not compared".to_string(),
            };
            let mut row = vec![l.label.clone()];
            row.extend(["", "", "", "", ""].map(String::from));
            row.push("not compared".to_string());
            row.push(why);
            t.push(row);
        }
        t
    }

    /// The ratio-bar chart as SVG.
    pub fn to_svg(&self) -> Result<String> {
        let height = 120 + 34 * self.model.rows.len().max(1) as u32;
        draw_svg_with_legend("comparison chart", height, &self.legend(), |root| {
            self.draw(root)
        })
    }

    /// The legend, drawn under the plot so it covers no bar: bars, whiskers, parity, and each
    /// metric's geometric mean when there is one.
    fn legend(&self) -> Vec<LegendEntry> {
        let line = |colour, width| Swatch::Line {
            colour,
            width,
            dashed: false,
        };
        let mut entries = vec![
            LegendEntry::new("ratio of medians", Swatch::Bar(colour(0))),
            LegendEntry::new("95% interval", line(BLACK, 2)),
            LegendEntry::new("parity (1×)", line(PARITY_GREY, 1)),
        ];
        if self.model.rows.is_empty() {
            let note = "no shape could be compared (see the table)";
            entries.push(LegendEntry::new(note, Swatch::Warning));
            return entries;
        }
        for (i, s) in self.model.summaries.iter().enumerate() {
            let g = s.geomean;
            let label = format!(
                "{} geometric mean {:.3}× [{:.3}, {:.3}]",
                s.metric, g.value, g.low, g.high
            );
            entries.push(LegendEntry::new(label, line(colour(3 + i), 3)));
        }
        entries
    }

    fn draw(&self, root: &DrawingArea<SVGBackend, Shift>) -> DrawResult {
        let rows = &self.model.rows;
        let n = rows.len();
        let top = rows.iter().map(|c| c.ratio.high).fold(1.0, f64::max) * 1.4;
        let title = format!("Throughput ratio: {} / {}", self.other, self.reference);
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(300)
            .build_cartesian_2d(0.0..top, (0..n.max(1) - 1).into_segmented())?;
        let ids: Vec<String> = rows.iter().map(Self::label).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(format!(
                "throughput ratio {} / {} (×), each at its best verified kernel",
                self.other, self.reference
            ))
            .y_desc("shape")
            .y_labels(n.max(1))
            .x_label_formatter(&|v| axis_number(*v))
            .y_label_formatter(&|v| match v {
                SegmentValue::CenterOf(i) => ids.get(*i).cloned().unwrap_or_default(),
                _ => String::new(),
            })
            .draw()?;
        self.draw_bars(&mut chart)?;
        self.draw_markers(&mut chart, n)?;
        Ok(())
    }
}

type BarChart<'a, 'b> = ChartContext<
    'a,
    SVGBackend<'b>,
    Cartesian2d<RangedCoordf64, plotters::coord::ranged1d::SegmentedCoord<RangedCoordusize>>,
>;

impl ComparisonChart {
    fn draw_bars(&self, chart: &mut BarChart) -> DrawResult {
        let fill = colour(0).mix(0.7).filled();
        let rows = &self.model.rows;
        chart.draw_series(rows.iter().enumerate().map(|(i, c)| {
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (c.ratio.value, SegmentValue::Exact(i + 1)),
                ],
                fill,
            );
            bar.set_margin(6, 6, 0, 0);
            bar
        }))?;
        chart.draw_series(rows.iter().enumerate().map(|(i, c)| {
            let y = SegmentValue::CenterOf(i);
            PathElement::new(
                [(c.ratio.low, y.clone()), (c.ratio.high, y)],
                BLACK.stroke_width(2),
            )
        }))?;
        Ok(())
    }

    fn draw_markers(&self, chart: &mut BarChart, n: usize) -> DrawResult {
        let span = |x: f64| [(x, SegmentValue::Exact(0)), (x, SegmentValue::Last)];
        chart.draw_series(std::iter::once(PathElement::new(span(1.0), PARITY_GREY)))?;
        if n == 0 {
            return Ok(());
        }
        for (i, s) in self.model.summaries.iter().enumerate() {
            let line = colour(3 + i).stroke_width(3);
            chart.draw_series(std::iter::once(PathElement::new(
                span(s.geomean.value),
                line,
            )))?;
        }
        Ok(())
    }
}

/// The grey of the parity line.
const PARITY_GREY: RGBColor = RGBColor(128, 128, 128);
