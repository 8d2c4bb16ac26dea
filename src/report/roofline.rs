//! The roofline of one device: every verified matmul case as a point (arithmetic intensity vs
//! achieved GFLOP/s, with the median's 95% interval) under the ceilings the same file measured —
//! peak FMA throughput (compute roof) and copy bandwidth (memory roof). A file without ceiling
//! cases still gets its points, and the chart says which ceiling is missing instead of drawing
//! a made-up one.

use super::chart::{
    axis_number, colour, draw_svg_with_legend, log_range, DrawResult, LegendEntry, Swatch, HEIGHT,
};
use crate::error::Result;
use crate::results::{RateUnit, ResultFile};
use crate::stats::Interval;
use crate::workload::Op;
use plotters::coord::Shift;
use plotters::prelude::*;

/// A measured ceiling and the case it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Ceiling {
    /// GFLOP/s for the compute roof, GB/s for the bandwidth roof.
    pub value: f64,
    /// Id of the case that reached it.
    pub case_id: String,
}

/// One verified matmul case.
#[derive(Debug, Clone, PartialEq)]
pub struct RooflinePoint {
    /// Case id.
    pub case_id: String,
    /// Kernel id (points of one kernel share a colour).
    pub kernel: String,
    /// FLOP per byte of compulsory memory traffic.
    pub intensity: f64,
    /// Median GFLOP/s with its interval.
    pub gflops: Interval,
}

/// Datasheet ceilings of the device, when the catalog knows it: drawn dashed beside the
/// measured ones, so the gap between promise and measurement is visible.
#[derive(Debug, Clone, PartialEq)]
pub struct PublishedCeilings {
    /// Catalog id the adapter was matched to.
    pub catalog_id: String,
    /// Dense FP32 peak, GFLOP/s.
    pub compute: Option<f64>,
    /// Memory bandwidth, GB/s.
    pub bandwidth: Option<f64>,
}

/// Everything one roofline chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Roofline {
    /// Adapter name and backend, as the title shows them.
    pub device: String,
    /// Verified matmul cases.
    pub points: Vec<RooflinePoint>,
    /// Best verified peak-FMA case, if the file has one.
    pub compute: Option<Ceiling>,
    /// Best verified copy case, if the file has one.
    pub bandwidth: Option<Ceiling>,
    /// Datasheet ceilings, when known.
    pub published: Option<PublishedCeilings>,
}

impl Roofline {
    /// Collects points and ceilings from a result file. Only passed cases count: a wrong
    /// answer's speed is neither a point nor a ceiling.
    pub fn from_file(file: &ResultFile) -> Self {
        let adapter = &file.machine.adapter;
        let mut roofline = Roofline {
            device: format!("{} ({})", adapter.name, adapter.backend),
            points: Vec::new(),
            compute: None,
            bandwidth: None,
            published: None,
        };
        for case in &file.cases {
            let (Some(summary), Some(timing)) = (case.passed_throughput(), &case.timing) else {
                continue;
            };
            let ceiling = Ceiling {
                value: summary.median.value,
                case_id: case.id.clone(),
            };
            match (case.workload.op, timing.unit) {
                (Op::Matmul, RateUnit::Gflops) => roofline.points.push(RooflinePoint {
                    case_id: case.id.clone(),
                    kernel: case.kernel.id.clone(),
                    intensity: case.workload.intensity(),
                    gflops: summary.median,
                }),
                // The roofs are the adapter's own: a vendor reference's copy (on the host or
                // through the driver's memcpy) is a comparison, not a WGSL ceiling.
                _ if case.is_vendor_reference() => {}
                (Op::PeakFma, RateUnit::Gflops) => keep_best(&mut roofline.compute, ceiling),
                (Op::Copy, RateUnit::Gbps) => keep_best(&mut roofline.bandwidth, ceiling),
                _ => {}
            }
        }
        roofline
    }

    /// Intensity where the two roofs meet, FLOP/byte, when both were measured.
    pub fn ridge(&self) -> Option<f64> {
        match (&self.compute, &self.bandwidth) {
            (Some(c), Some(b)) => Some(c.value / b.value),
            _ => None,
        }
    }

    /// What the chart says about ceilings that were not measured, if any.
    pub fn missing_note(&self) -> Option<&'static str> {
        match (&self.compute, &self.bandwidth) {
            (None, None) => Some("no ceiling measured (no passed peak_fma or copy case)"),
            (None, Some(_)) => Some("no compute ceiling measured (no passed peak_fma case)"),
            (Some(_), None) => Some("no bandwidth ceiling measured (no passed copy case)"),
            (Some(_), Some(_)) => None,
        }
    }

    /// The chart as SVG, its legend in a strip under the plot.
    pub fn to_svg(&self) -> Result<String> {
        draw_svg_with_legend("roofline chart", HEIGHT, &self.legend(), |root| {
            self.draw(root)
        })
    }

    /// What the legend lists, in drawing order: measured ceilings, datasheet ceilings, one
    /// entry per kernel, then what was not measured.
    pub fn legend(&self) -> Vec<LegendEntry> {
        let line = |colour, dashed| Swatch::Line {
            colour,
            width: 2,
            dashed,
        };
        let mut entries = Vec::new();
        if let Some(c) = &self.compute {
            let label = format!("compute ceiling {} GFLOP/s", axis_number(c.value));
            entries.push(LegendEntry::new(label, line(BLACK, false)));
        }
        if let Some(b) = &self.bandwidth {
            let label = format!("bandwidth ceiling {} GB/s", axis_number(b.value));
            entries.push(LegendEntry::new(label, line(BANDWIDTH_GREY, false)));
        }
        if let Some(p) = &self.published {
            if let Some(c) = p.compute {
                let label = format!(
                    "published FP32 peak {} GFLOP/s ({})",
                    axis_number(c),
                    p.catalog_id
                );
                entries.push(LegendEntry::new(label, line(colour(3), true)));
            }
            if let Some(b) = p.bandwidth {
                let label = format!("published bandwidth {} GB/s", axis_number(b));
                entries.push(LegendEntry::new(label, line(colour(3), true)));
            }
        }
        for (i, kernel) in self.kernels().iter().enumerate() {
            let (filled, radius) = kernel_marker(i);
            let marker = Swatch::Marker {
                colour: colour(i),
                filled,
                radius,
            };
            entries.push(LegendEntry::new(
                format!("{kernel} (median, 95% CI)"),
                marker,
            ));
        }
        if let Some(note) = self.missing_note() {
            entries.push(LegendEntry::new(note, Swatch::Warning));
        }
        entries
    }

    /// Kernel ids in sorted order: each has a colour and a marker.
    fn kernels(&self) -> Vec<&str> {
        let mut kernels: Vec<&str> = self.points.iter().map(|p| p.kernel.as_str()).collect();
        kernels.sort_unstable();
        kernels.dedup();
        kernels
    }

    fn axis_ranges(&self) -> ((f64, f64), (f64, f64)) {
        let mut xs: Vec<f64> = self.points.iter().map(|p| p.intensity).collect();
        xs.extend(self.ridge());
        let x = log_range(xs, 3.0, (0.1, 1000.0));
        let mut ys: Vec<f64> = self
            .points
            .iter()
            .flat_map(|p| [p.gflops.low, p.gflops.high])
            .collect();
        ys.extend(self.compute.as_ref().map(|c| c.value));
        ys.extend(self.bandwidth.as_ref().map(|b| b.value * x.0));
        if let Some(p) = &self.published {
            ys.extend(p.compute);
            ys.extend(p.bandwidth.map(|b| b * x.0));
        }
        let y = log_range(ys, 2.0, (0.1, 1000.0));
        (x, y)
    }

    fn draw(&self, root: &DrawingArea<SVGBackend, Shift>) -> DrawResult {
        let ((x0, x1), (y0, y1)) = self.axis_ranges();
        let mut chart = ChartBuilder::on(root)
            .caption(format!("Roofline: {}", self.device), ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(48)
            .y_label_area_size(72)
            .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("arithmetic intensity (FLOP/byte)")
            .y_desc("throughput (GFLOP/s)")
            .light_line_style(WHITE)
            .x_label_formatter(&|v| axis_number(*v))
            .y_label_formatter(&|v| axis_number(*v))
            .draw()?;
        self.draw_ceilings(&mut chart, (x0, x1))?;
        self.draw_published(&mut chart, (x0, x1))?;
        self.draw_points(&mut chart)?;
        Ok(())
    }
}

/// The grey of the measured bandwidth roof.
const BANDWIDTH_GREY: RGBColor = RGBColor(96, 96, 96);

/// Kernels alternate filled and ring markers (and sizes) so kernels at the same spot stay
/// visible.
fn kernel_marker(i: usize) -> (bool, i32) {
    (i.is_multiple_of(2), 5 + 3 * (i % 2) as i32)
}

type LogChart<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<LogCoord<f64>, LogCoord<f64>>>;

impl Roofline {
    fn draw_ceilings(&self, chart: &mut LogChart, (x0, x1): (f64, f64)) -> DrawResult {
        let ridge = self.ridge();
        if let Some(c) = &self.compute {
            let start = ridge.unwrap_or(x0).max(x0);
            chart.draw_series(LineSeries::new(
                [(start, c.value), (x1, c.value)],
                BLACK.stroke_width(2),
            ))?;
        }
        if let Some(b) = &self.bandwidth {
            let end = ridge.unwrap_or(x1).min(x1);
            chart.draw_series(LineSeries::new(
                [(x0, b.value * x0), (end, b.value * end)],
                BANDWIDTH_GREY.stroke_width(2),
            ))?;
        }
        Ok(())
    }

    fn draw_published(&self, chart: &mut LogChart, (x0, x1): (f64, f64)) -> DrawResult {
        let Some(p) = &self.published else {
            return Ok(());
        };
        let style = colour(3).stroke_width(2);
        let ridge = p.compute.zip(p.bandwidth).map(|(c, b)| c / b);
        if let Some(c) = p.compute {
            let start = ridge.unwrap_or(x0).max(x0);
            let line = DashedLineSeries::new([(start, c), (x1, c)], 8, 5, style);
            chart.draw_series(line)?;
        }
        if let Some(b) = p.bandwidth {
            let end = ridge.unwrap_or(x1).min(x1);
            let line = DashedLineSeries::new([(x0, b * x0), (end, b * end)], 8, 5, style);
            chart.draw_series(line)?;
        }
        Ok(())
    }

    fn draw_points(&self, chart: &mut LogChart) -> DrawResult {
        for (i, kernel) in self.kernels().iter().enumerate() {
            let (filled, radius) = kernel_marker(i);
            let style = if filled {
                colour(i).filled()
            } else {
                colour(i).stroke_width(2)
            };
            let mine: Vec<&RooflinePoint> =
                self.points.iter().filter(|p| p.kernel == *kernel).collect();
            chart.draw_series(mine.iter().map(|p| {
                PathElement::new(
                    [(p.intensity, p.gflops.low), (p.intensity, p.gflops.high)],
                    colour(i),
                )
            }))?;
            chart.draw_series(
                mine.iter()
                    .map(|p| Circle::new((p.intensity, p.gflops.value), radius, style)),
            )?;
        }
        Ok(())
    }
}

fn keep_best(slot: &mut Option<Ceiling>, candidate: Ceiling) {
    if slot.as_ref().is_none_or(|c| candidate.value > c.value) {
        *slot = Some(candidate);
    }
}
