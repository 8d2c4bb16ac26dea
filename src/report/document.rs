//! Assembles the report from loaded result files: one roofline per file, one comparison of
//! every file against the first, run tables, and the HTML page that holds them all. Returns
//! text only; the caller writes it, and prints the [`Listing`] of what it wrote.

use super::fleet;
use super::html::{self, Figure, PageSection};
use super::roofline::PublishedCeilings;
use super::{equivalence, ComparisonChart, Roofline};
use crate::equiv::RatiosFile;
use crate::error::Result;
use crate::output::{Section, Table, Tabular};
use crate::projection::Projection;
use crate::results::{slug, ResultFile};
use crate::store::analysis::History;
use schemars::JsonSchema;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// A result file and the name it is shown under (usually its file name).
#[derive(Debug, Clone)]
pub struct Input {
    /// How the page refers to the file.
    pub label: String,
    /// Its contents.
    pub file: ResultFile,
    /// Datasheet ceilings of its device, when the catalog knows it.
    pub published: Option<PublishedCeilings>,
}

/// One chart, as a stand-alone SVG file and as a figure on the page.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    /// File name to write the SVG under.
    pub file_name: String,
    /// The figure (id, kind, caption, SVG).
    pub figure: Figure,
}

/// Files beside the result files: ratios files (equivalence charts) and, already projected,
/// fleets (fleet charts).
#[derive(Debug, Clone, Default)]
pub struct Extras {
    /// Ratios files with the names they are shown under.
    pub ratios: Vec<(String, RatiosFile)>,
    /// Projected fleets with the name of the fleet file.
    pub fleets: Vec<(String, Projection)>,
    /// Histories from a results store (`report --store`), with the store they came from.
    pub histories: Vec<History>,
    /// The store the histories came from, password hidden.
    pub store: Option<String>,
}

/// Everything `fleetbench report` writes.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Every chart.
    pub charts: Vec<Chart>,
    /// The self-contained page.
    pub html: String,
}

/// The page's file name inside the output directory.
pub const PAGE: &str = "index.html";

/// What `fleetbench report` wrote: the model it prints.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Listing {
    /// The output directory.
    pub directory: PathBuf,
    /// Every file written, charts first, then the page.
    pub files: Vec<Written>,
}

/// One written file.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Written {
    /// Its path.
    pub path: PathBuf,
    /// `roofline`, `comparison`, …, or `page`.
    pub kind: String,
    /// What it shows (the chart's caption).
    pub shows: String,
}

impl Report {
    /// The files this report becomes inside `directory`.
    pub fn listing(&self, directory: &Path) -> Listing {
        let mut files: Vec<Written> = self
            .charts
            .iter()
            .map(|c| Written {
                path: directory.join(&c.file_name),
                kind: c.figure.kind.clone(),
                shows: c.figure.caption.clone(),
            })
            .collect();
        files.push(Written {
            path: directory.join(PAGE),
            kind: "page".into(),
            shows: "charts and tables, self-contained".into(),
        });
        Listing {
            directory: directory.to_path_buf(),
            files,
        }
    }
}

impl Tabular for Listing {
    fn sections(&self) -> Vec<Section> {
        let mut t = Table::new(&["file", "kind", "shows"]);
        for f in &self.files {
            let path = f.path.display().to_string();
            t.push(vec![path, f.kind.clone(), f.shows.clone()]);
        }
        vec![Section::untitled(t)]
    }
}

/// Builds the report. The first input is the comparison reference.
pub fn build(inputs: &[Input], extras: &Extras) -> Result<Report> {
    let mut sections = Vec::new();
    if !extras.histories.is_empty() {
        sections.push(history_section(&extras.histories)?);
    }
    // A report of a store's history alone has no file to draw a roofline of.
    if !inputs.is_empty() {
        sections.extend([roofline_section(inputs)?, comparison_section(inputs)?]);
    }
    if !extras.ratios.is_empty() {
        sections.push(equivalence_section(&extras.ratios)?);
    }
    if !extras.fleets.is_empty() {
        sections.push(fleet_section(&extras.fleets)?);
    }
    if !inputs.is_empty() {
        sections.push(runs_section(inputs));
    }
    let charts = sections
        .iter()
        .flat_map(|s| s.figures.iter())
        .map(|f| Chart {
            file_name: chart_file_name(&f.id),
            figure: f.clone(),
        })
        .collect();
    let labels: Vec<&str> = inputs.iter().map(|i| i.label.as_str()).collect();
    let mut summary = format!(
        "Built from {} result file(s): {}.",
        inputs.len(),
        labels.join(", ")
    );
    if let Some(store) = &extras.store {
        let series: usize = extras.histories.iter().map(|h| h.metrics.len()).sum();
        summary.push_str(&format!(
            " History of {series} series from the store {store}."
        ));
    }
    let html = html::page("fleetbench report", &summary, &sections);
    Ok(Report { charts, html })
}

/// The longest chart file name, in bytes: well under the 255 that common file systems allow,
/// so an adapter name of any length (they come from other machines' files) still fits.
pub const MAX_CHART_FILE_NAME: usize = 120;

/// `<id>.svg`, or for a long id its first characters and a hash of the whole id, so two long
/// names that share a beginning still get two files.
pub fn chart_file_name(id: &str) -> String {
    let whole = format!("{id}.svg");
    if whole.len() <= MAX_CHART_FILE_NAME {
        return whole;
    }
    use sha2::Digest;
    let digest = sha2::Sha256::digest(id.as_bytes());
    let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    let keep = MAX_CHART_FILE_NAME - hash.len() - ".svg".len() - 1;
    let mut cut = keep.min(id.len());
    while !id.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}-{hash}.svg", &id[..cut])
}

fn roofline_section(inputs: &[Input]) -> Result<PageSection> {
    let mut section = PageSection {
        id: "rooflines".into(),
        heading: "Rooflines".into(),
        intro: "Verified matmul cases (median GFLOP/s with its 95% interval) against the compute \
                and bandwidth ceilings measured in the same file, log-log."
            .into(),
        ..PageSection::default()
    };
    for (i, input) in inputs.iter().enumerate() {
        let mut roofline = Roofline::from_file(&input.file);
        roofline.published = input.published.clone();
        section.figures.push(Figure {
            id: format!(
                "roofline-{}-{}",
                i + 1,
                slug(&input.file.machine.adapter.name)
            ),
            kind: "roofline".into(),
            caption: format!("{}: {}", input.label, roofline.device),
            svg: roofline.to_svg()?,
        });
        section.tables.push((
            format!("Roofline of {}", input.label),
            roofline_table(&roofline),
        ));
        if let Some(table) = super::comparison::vendor_table(&input.file) {
            section.tables.push((
                format!("WGSL ÷ vendor library per shape in {}", input.label),
                table,
            ));
        }
    }
    Ok(section)
}

fn roofline_table(roofline: &Roofline) -> Table {
    let mut t = Table::new(&["case", "FLOP/byte", "median GFLOP/s", "95% CI"]);
    for p in &roofline.points {
        t.push(vec![
            p.case_id.clone(),
            format!("{:.2}", p.intensity),
            format!("{:.2}", p.gflops.value),
            format!("[{:.2}, {:.2}]", p.gflops.low, p.gflops.high),
        ]);
    }
    let ceilings = [
        ("compute ceiling", "GFLOP/s", &roofline.compute),
        ("bandwidth ceiling", "GB/s", &roofline.bandwidth),
    ];
    for (name, unit, ceiling) in ceilings {
        let value = ceiling.as_ref().map_or("not measured".to_string(), |c| {
            format!("{:.2} {unit} ({})", c.value, c.case_id)
        });
        t.push(vec![name.into(), "-".into(), value, "-".into()]);
    }
    t
}

fn comparison_section(inputs: &[Input]) -> Result<PageSection> {
    let mut section = PageSection {
        id: "comparisons".into(),
        heading: "Comparisons".into(),
        intro: match inputs.first() {
            Some(first) if inputs.len() > 1 => format!(
                "Throughput of each file relative to {} per shape, each file at its best verified kernel (the capability view of `fleetbench compare`: \
                 ratio of medians with its seeded bootstrap 95% interval; each metric's geometric mean is marked, kernel-limited figures are labelled).",
                first.label
            ),
            _ => "Give two or more result files to compare them.".into(),
        },
        ..PageSection::default()
    };
    let Some((reference, others)) = inputs.split_first() else {
        return Ok(section);
    };
    for (i, other) in others.iter().enumerate() {
        let caption = format!("{} relative to {}", other.label, reference.label);
        let comparison = match ComparisonChart::new(&reference.file, &other.file) {
            Ok(c) => c,
            Err(why) => {
                let mut t = crate::output::Table::new(&["not compared"]);
                t.push(vec![why.to_string()]);
                section.tables.push((caption, t));
                continue;
            }
        };
        section.figures.push(Figure {
            id: format!(
                "comparison-{}-{}-vs-{}",
                i + 2,
                slug(&comparison.other),
                slug(&comparison.reference)
            ),
            kind: "comparison".into(),
            caption: format!("{} relative to {}", other.label, reference.label),
            svg: comparison.to_svg()?,
        });
        section.tables.push((caption, comparison.table()));
    }
    Ok(section)
}

fn runs_section(inputs: &[Input]) -> PageSection {
    PageSection {
        id: "runs".into(),
        heading: "Runs".into(),
        intro: "Every case of every file, as `fleetbench run` summarised it.".into(),
        figures: Vec::new(),
        tables: inputs
            .iter()
            .map(|i| {
                (
                    i.label.clone(),
                    crate::measure::summary::run_summary(&i.file),
                )
            })
            .collect(),
        labels: Vec::new(),
    }
}

fn equivalence_section(ratios: &[(String, RatiosFile)]) -> Result<PageSection> {
    let mut section = PageSection {
        id: "equivalence".into(),
        heading: "Equivalence".into(),
        intro: "Published (datasheet) vs calibrated ratio of each device to the reference, from \
                the ratios files; whiskers are 95% intervals where the ratio was measured."
            .into(),
        ..PageSection::default()
    };
    for (i, (label, file)) in ratios.iter().enumerate() {
        section.figures.push(Figure {
            id: format!("equivalence-{}-{}", i + 1, slug(file.metric.label())),
            kind: "equivalence".into(),
            caption: format!(
                "{label}: {} relative to {}",
                file.metric.label(),
                file.reference
            ),
            svg: equivalence::to_svg(file)?,
        });
        section.tables.push((label.clone(), file.table()));
        if file.simulated {
            let simulated = crate::results::SIMULATED_LABEL;
            section.labels.push(format!("{label}: {simulated}"));
        }
    }
    Ok(section)
}

fn history_section(histories: &[History]) -> Result<PageSection> {
    let mut section = PageSection {
        id: "history".into(),
        heading: "History".into(),
        intro: "Each metric's capability figure (the run's best verified shape) over time, as \
                `fleetbench store history` prints it: the median of each run with its 95% \
                interval; a dashed red line where a unit's driver changed since its previous \
                run, a dashed orange line at a step in one unit's series (change point)."
            .into(),
        ..PageSection::default()
    };
    for (i, history) in histories.iter().enumerate() {
        section
            .figures
            .extend(super::history::figures(history, i + 1)?);
        section.tables.extend(super::history::tables(history));
    }
    Ok(section)
}

fn fleet_section(fleets: &[(String, Projection)]) -> Result<PageSection> {
    let mut section = PageSection {
        id: "fleets".into(),
        heading: "Fleets".into(),
        intro: "Fleet totals in reference-equivalents, published vs calibrated, with intervals; \
                the stock over time for fleets with dated entries."
            .into(),
        ..PageSection::default()
    };
    for (i, (label, projection)) in fleets.iter().enumerate() {
        for (j, figure) in fleet::figures(projection, label)?.into_iter().enumerate() {
            section.figures.push(Figure {
                id: format!("fleet-{}-{}-{}", i + 1, j + 1, figure.kind),
                ..figure
            });
        }
        for (title, table) in fleet::tables(projection) {
            section.tables.push((format!("{label}: {title}"), table));
        }
        if projection.simulated {
            let simulated = crate::results::SIMULATED_LABEL;
            section.labels.push(format!("{label}: {simulated}"));
        }
    }
    Ok(section)
}
