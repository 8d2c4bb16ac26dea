//! Throughput ratios of one result file against a reference file, case by case, with an
//! interval, and their geometric mean, for the comparison chart. The numbers come from
//! [`crate::compare`] — the same matching, ratio of medians and seeded bootstrap intervals as
//! `fleetbench compare` — so the chart and the command never disagree. Cases that cannot be
//! compared are listed with the reason, not guessed at.

use super::chart::{axis_number, colour, draw_svg_with_legend, DrawResult, LegendEntry, Swatch};
use crate::catalog::DeviceIdentity;
use crate::compare::{compare, CompareConfig, LoadedFile};
use crate::error::Result;
use crate::output::Table;
use crate::results::{slug, ResultFile};
use plotters::coord::types::{RangedCoordf64, RangedCoordusize};
use plotters::coord::Shift;
use plotters::prelude::*;

/// One matched case.
#[derive(Debug, Clone, PartialEq)]
pub struct CaseRatio {
    /// Case id (kernel/workload), the same in both files.
    pub case_id: String,
    /// Unit both throughputs are in.
    pub unit: String,
    /// Median throughput of the reference file.
    pub reference: f64,
    /// Median throughput of the other file.
    pub other: f64,
    /// other / reference.
    pub ratio: f64,
    /// Lower end of the ratio's interval.
    pub low: f64,
    /// Upper end of the ratio's interval.
    pub high: f64,
}

/// A ratio with its interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Ratio {
    /// The point estimate.
    pub value: f64,
    /// Lower end of the interval.
    pub low: f64,
    /// Upper end of the interval.
    pub high: f64,
}

/// Every case of `other` measured against `reference`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// Device name of the reference file.
    pub reference: String,
    /// Device name of the compared file.
    pub other: String,
    /// Matched cases, ordered by what was computed.
    pub cases: Vec<CaseRatio>,
    /// Geometric mean of the ratios, with its interval.
    pub geomean: Option<Ratio>,
    /// Case ids present in one file but not comparable (missing, not passed, or different
    /// kernel source), with the reason.
    pub not_compared: Vec<(String, String)>,
}

impl Comparison {
    /// Compares `other` with `reference` as `fleetbench compare` does (default settings).
    pub fn new(reference: &ResultFile, other: &ResultFile) -> Self {
        let loaded = [reference, other].map(|f| LoadedFile {
            path: f.machine.adapter.name.clone().into(),
            file: f.clone(),
            device: DeviceIdentity {
                id: slug(&f.machine.adapter.name),
                name: f.machine.adapter.name.clone(),
                matched: false,
            },
        });
        let found = compare(&loaded, 0, &CompareConfig::default());
        let cases = found
            .cases
            .iter()
            .map(|c| CaseRatio {
                case_id: c.key.label(),
                unit: c.unit.label().to_string(),
                reference: c.baseline_median,
                other: c.median,
                ratio: c.ratio.value,
                low: c.ratio.low,
                high: c.ratio.high,
            })
            .collect();
        let not_compared = found
            .unmatched
            .iter()
            .map(|u| {
                let why = match (&u.per_file[0], &u.per_file[1]) {
                    (Some(r), _) => format!("reference: {r}"),
                    (None, Some(o)) => format!("other: {o}"),
                    (None, None) => "not compared".to_string(),
                };
                (u.key.label(), why)
            })
            .collect();
        Comparison {
            reference: reference.machine.adapter.name.clone(),
            other: other.machine.adapter.name.clone(),
            cases,
            geomean: found.geomeans.get(&1).map(|g| Ratio {
                value: g.value,
                low: g.low,
                high: g.high,
            }),
            not_compared,
        }
    }

    /// Geometric mean of the ratios with its bootstrap interval; `None` when no case matched.
    pub fn geomean(&self) -> Option<Ratio> {
        self.geomean
    }

    /// One row per case, then the geometric mean, then what could not be compared.
    pub fn table(&self) -> Table {
        let mut t = Table::new(&["case", "unit", "reference", "other", "ratio", "95% CI"]);
        for c in &self.cases {
            t.push(vec![
                c.case_id.clone(),
                c.unit.clone(),
                format!("{:.2}", c.reference),
                format!("{:.2}", c.other),
                format!("{:.3}", c.ratio),
                format!("[{:.3}, {:.3}]", c.low, c.high),
            ]);
        }
        if let Some(g) = self.geomean() {
            let ci = format!("[{:.3}, {:.3}]", g.low, g.high);
            let row = [
                "geometric mean",
                "",
                "",
                "",
                &format!("{:.3}", g.value),
                &ci,
            ];
            t.push(row.iter().map(|s| s.to_string()).collect());
        }
        for (id, why) in &self.not_compared {
            let row = [id.as_str(), "", "", "", "not compared", why.as_str()];
            t.push(row.iter().map(|s| s.to_string()).collect());
        }
        t
    }

    /// The ratio-bar chart as SVG.
    pub fn to_svg(&self) -> Result<String> {
        let height = 120 + 34 * self.cases.len().max(1) as u32;
        draw_svg_with_legend("comparison chart", height, &self.legend(), |root| {
            self.draw(root)
        })
    }

    /// The legend, drawn under the plot so it covers no bar: bars, whiskers, parity, and the
    /// geometric mean when there is one.
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
        if let Some(g) = self.geomean().filter(|_| !self.cases.is_empty()) {
            let label = format!(
                "geometric mean {:.3}× [{:.3}, {:.3}]",
                g.value, g.low, g.high
            );
            entries.push(LegendEntry::new(label, line(colour(3), 3)));
        }
        if self.cases.is_empty() {
            let note = "no case could be compared (see the table)";
            entries.push(LegendEntry::new(note, Swatch::Warning));
        }
        entries
    }

    fn draw(&self, root: &DrawingArea<SVGBackend, Shift>) -> DrawResult {
        let n = self.cases.len();
        let top = self.cases.iter().map(|c| c.high).fold(1.0, f64::max) * 1.4;
        let title = format!("Throughput ratio: {} / {}", self.other, self.reference);
        let mut chart = ChartBuilder::on(root)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(260)
            .build_cartesian_2d(0.0..top, (0..n.max(1) - 1).into_segmented())?;
        let ids: Vec<String> = self.cases.iter().map(|c| c.case_id.clone()).collect();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_desc(format!(
                "throughput ratio {} / {} (×)",
                self.other, self.reference
            ))
            .y_desc("case")
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

impl Comparison {
    fn draw_bars(&self, chart: &mut BarChart) -> DrawResult {
        let fill = colour(0).mix(0.7).filled();
        chart.draw_series(self.cases.iter().enumerate().map(|(i, c)| {
            let mut bar = Rectangle::new(
                [
                    (0.0, SegmentValue::Exact(i)),
                    (c.ratio, SegmentValue::Exact(i + 1)),
                ],
                fill,
            );
            bar.set_margin(6, 6, 0, 0);
            bar
        }))?;
        chart.draw_series(self.cases.iter().enumerate().map(|(i, c)| {
            let y = SegmentValue::CenterOf(i);
            PathElement::new([(c.low, y.clone()), (c.high, y)], BLACK.stroke_width(2))
        }))?;
        Ok(())
    }

    fn draw_markers(&self, chart: &mut BarChart, n: usize) -> DrawResult {
        let span = |x: f64| [(x, SegmentValue::Exact(0)), (x, SegmentValue::Last)];
        chart.draw_series(std::iter::once(PathElement::new(span(1.0), PARITY_GREY)))?;
        if let Some(g) = self.geomean().filter(|_| n > 0) {
            let red = colour(3).stroke_width(3);
            chart.draw_series(std::iter::once(PathElement::new(span(g.value), red)))?;
        }
        Ok(())
    }
}

/// The grey of the parity line.
const PARITY_GREY: RGBColor = RGBColor(128, 128, 128);
