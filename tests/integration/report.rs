//! `fleetbench report` and `fleetbench completions` end to end, and the chart data behind them,
//! on fake-backend result files (no GPU needed).

use crate::common::{fleetbench, tempdir};
use crate::report_support::{fixture, fixture_path, save, with_ceilings};
use fleetbench::report::{ComparisonChart, Roofline};
use fleetbench::results::CaseStatus;
use std::path::{Path, PathBuf};

#[test]
fn roofline_takes_points_and_best_ceilings_from_passed_cases_only() {
    let mut file = with_ceilings(fixture("fake-a.json"), 480.0, 30.0);
    let mut failed_peak = with_ceilings(file.clone(), 9999.0, 9999.0)
        .cases
        .split_off(file.cases.len());
    for case in &mut failed_peak {
        case.status = CaseStatus::Failed;
    }
    file.cases.extend(failed_peak);
    file.cases[0].status = CaseStatus::Failed;

    let r = Roofline::from_file(&file);
    assert_eq!(r.points.len(), 5, "the failed matmul case is not a point");
    assert!((r.compute.as_ref().unwrap().value - 480.0).abs() < 1e-9);
    assert!((r.bandwidth.as_ref().unwrap().value - 30.0).abs() < 1e-9);
    assert!((r.ridge().unwrap() - 16.0).abs() < 1e-9);
    assert_eq!(r.missing_note(), None);
    for p in &r.points {
        assert!(p.gflops.low <= p.gflops.value && p.gflops.value <= p.gflops.high);
        assert!(p.intensity > 1.0);
    }
}

#[test]
fn roofline_without_ceilings_says_so_in_the_chart() {
    let r = Roofline::from_file(&fixture("fake-a.json"));
    assert!(r.compute.is_none() && r.bandwidth.is_none() && r.ridge().is_none());
    let svg = r.to_svg().unwrap();
    assert!(svg.contains("no ceiling measured"));
    assert!(!svg.contains("compute ceiling"));
}

#[test]
fn comparison_ratios_are_ratios_of_best_medians_with_enclosing_intervals() {
    let a = fixture("fake-a.json");
    let b = fixture("fake-b.json");
    let c = ComparisonChart::new(&a, &b).unwrap();
    let rows = &c.model.rows;
    assert_eq!(rows.len(), 3, "one row per shape");
    assert!(c.model.left_out.is_empty());
    for r in rows {
        // Each file at its best verified kernel at the shape.
        let best = |f: &fleetbench::results::ResultFile| {
            f.cases
                .iter()
                .filter(|x| x.workload == r.workload)
                .map(|x| x.passed_throughput().unwrap().median.value)
                .fold(0.0, f64::max)
        };
        let expected = best(&b) / best(&a);
        assert!((r.ratio.value - expected).abs() < 1e-9 * expected, "{r:?}");
        assert!(r.ratio.low < r.ratio.value && r.ratio.value < r.ratio.high);
    }
    let g = c.model.summaries[0].geomean;
    // The fake devices run at 300 and 120 GFLOP/s with ±2% noise.
    assert!((g.value - 2.5).abs() < 0.1, "{g:?}");
    assert!(g.low < g.value && g.value < g.high);
}

#[test]
fn comparison_lists_shapes_it_cannot_compare() {
    let a = fixture("fake-a.json");
    let mut b = fixture("fake-b.json");
    // Shape 64: both kernels fail; shape 256: absent.
    b.cases[0].status = CaseStatus::Failed;
    b.cases[1].status = CaseStatus::Failed;
    b.cases.truncate(4);
    let c = ComparisonChart::new(&a, &b).unwrap();
    assert_eq!(c.model.rows.len(), 1);
    let table = c.table().render(fleetbench::output::Format::Csv, None);
    assert!(table.contains("not compared,other: failed"), "{table}");
    assert!(table.contains("not compared,other: absent"), "{table}");
}

fn run_report(args: &[&Path], dir: &Path, extra: &[&str]) -> std::process::Output {
    fleetbench()
        .arg("report")
        .args(args)
        .arg("-o")
        .arg(dir)
        .args(extra)
        .output()
        .unwrap()
}

fn svgs_in(dir: &Path) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.path().extension().is_some_and(|x| x == "svg"))
        .map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            (name, std::fs::read_to_string(e.path()).unwrap())
        })
        .collect();
    out.sort();
    out
}

/// The JSON listing of `report`: charts, then the page, `files` in all, inside `dir`.
fn assert_listing(stdout: &[u8], dir: &Path, files: usize) {
    let listed: serde_json::Value = serde_json::from_slice(stdout).unwrap();
    let written = listed["files"].as_array().unwrap();
    assert_eq!(written.len(), files, "charts and the page");
    let page = &written[files - 1];
    assert_eq!(page["kind"], "page");
    assert_eq!(page["path"], dir.join("index.html").display().to_string());
}

#[test]
fn report_writes_labelled_charts_and_a_self_contained_page() {
    let tmp = tempdir();
    let a = save(
        tmp.path(),
        "a.json",
        &with_ceilings(fixture("fake-a.json"), 480.0, 30.0),
    );
    let dir = tmp.path().join("out");
    let out = run_report(
        &[&a, &fixture_path("fake-b.json")],
        &dir,
        &["--format", "json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_listing(&out.stdout, &dir, 4);

    let svgs = svgs_in(&dir);
    let names: Vec<&str> = svgs.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "comparison-2-fake-gpu-b-vs-fake-gpu-a.svg",
            "roofline-1-fake-gpu-a.svg",
            "roofline-2-fake-gpu-b.svg"
        ]
    );
    let expect = |svg: &str, needles: &[&str]| {
        for n in needles {
            assert!(svg.contains(n), "missing {n:?}");
        }
    };
    let (comparison, roof_a, roof_b) = (&svgs[0].1, &svgs[1].1, &svgs[2].1);
    let roof_axes = ["arithmetic intensity (FLOP/byte)", "throughput (GFLOP/s)"];
    expect(
        roof_a,
        &["Roofline: Fake GPU A (fake)", "compute ceiling 480 GFLOP/s"],
    );
    expect(
        roof_a,
        &[
            "bandwidth ceiling 30 GB/s",
            "matmul_blocked (median, 95% CI)",
        ],
    );
    expect(roof_a, &roof_axes);
    expect(roof_b, &roof_axes);
    expect(
        roof_b,
        &["no ceiling measured", "matmul_naive (median, 95% CI)"],
    );
    expect(
        comparison,
        &["Throughput ratio: Fake GPU B / Fake GPU A", "(×)", "shape"],
    );
    expect(
        comparison,
        &["geometric mean 2.", "95% interval", "parity (1×)"],
    );

    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    for (_, svg) in &svgs {
        assert!(
            html.contains(svg.trim()),
            "every chart is inlined in the page"
        );
    }
    assert_eq!(html.matches("<figure class=\"chart\"").count(), 3);
    let without_svg_namespace = html.replace("xmlns=\"http://www.w3.org/2000/svg\"", "");
    for external in ["http:", "https:", "//", " src=", "<link", "@import", "url("] {
        assert!(
            !without_svg_namespace.contains(external),
            "page refers to {external}"
        );
    }
}

#[test]
fn report_output_does_not_depend_on_the_locale() {
    let tmp = tempdir();
    let inputs = [fixture_path("fake-a.json"), fixture_path("fake-b.json")];
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    let mut pages = Vec::new();
    for locale in ["C", "de_DE.UTF-8"] {
        let dir = tmp.path().join(locale);
        let out = fleetbench()
            .env("LC_ALL", locale)
            .env("LANG", locale)
            .arg("report")
            .args(&inputs)
            .arg("-o")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success());
        pages.push(std::fs::read_to_string(dir.join("index.html")).unwrap());
    }
    assert_eq!(pages[0], pages[1]);
    assert!(
        pages[0].contains("<td>120.09</td>"),
        "decimal point, two places"
    );
}

#[test]
fn report_refuses_bad_input_with_one_line_naming_the_file() {
    let tmp = tempdir();
    let missing = tmp.path().join("missing.json");
    let out = run_report(&[&missing], &tmp.path().join("o"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("missing.json"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    assert!(
        !tmp.path().join("o").exists(),
        "nothing written for bad input"
    );

    let not_a_dir = tmp.path().join("file");
    std::fs::write(&not_a_dir, "x").unwrap();
    let out = run_report(&[&fixture_path("fake-a.json")], &not_a_dir, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("is not a directory"));

    // A hand-edited throughput is refused, as `compare` refuses it: the report loads through
    // the same checks.
    let mut edited = fixture("fake-a.json");
    edited.cases[0]
        .timing
        .as_mut()
        .unwrap()
        .throughput
        .median
        .value *= 10.0;
    let edited = save(tmp.path(), "edited.json", &edited);
    let out = run_report(&[&edited], &tmp.path().join("o"), &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("edited.json: inconsistent: case "), "{err}");
    assert!(!tmp.path().join("o").exists(), "nothing written");
}

#[test]
fn report_does_not_overwrite_without_force() {
    let tmp = tempdir();
    let dir = tmp.path().join("out");
    let a = fixture_path("fake-a.json");
    assert!(run_report(&[&a], &dir, &[]).status.success());
    let again = run_report(&[&a], &dir, &[]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    assert!(run_report(&[&a], &dir, &["--force"]).status.success());
}

#[test]
fn completions_come_from_the_command_line_definition() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let out = fleetbench().args(["completions", shell]).output().unwrap();
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8_lossy(&out.stdout);
        for word in ["fleetbench", "report", "completions", "max-memory"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    let out = fleetbench().args(["completions", "tcsh"]).output().unwrap();
    assert!(!out.status.success());
}

const SMALL_FLEET: &str = r#"
version = 1
reference = "h100-sxm"
metric = "bf16"

[[fleet]]
name = "Lab"

[[fleet.entry]]
device = "a100-sxm4-80gb"
count = 4
acquired = "2021-Q1"

[[fleet.entry]]
device = "h100-sxm"
count = 1
acquired = "2023-Q1"
"#;

#[test]
fn fleet_totals_and_stock_match_hand_computation() {
    use fleetbench::equiv::RatiosFile;
    use fleetbench::fleet::FleetFile;
    use fleetbench::projection::{
        bases_for, figures_from_catalog, measured_from_ratios, project, Inputs, Projection,
    };

    let catalog = fleetbench::catalog::Catalog::builtin().unwrap();
    let figures = figures_from_catalog(&catalog);
    let file = FleetFile::parse(Path::new("small.toml"), SMALL_FLEET).unwrap();
    let ratios = RatiosFile::load(&crate::common::repo_path(
        "data/scenarios/ratios-mamf-bf16.json",
    ))
    .unwrap();
    let measured = measured_from_ratios(&ratios);
    let reference = &figures["h100-sxm"];
    let projected = |measured: &[fleetbench::projection::MeasuredRatio]| -> Projection {
        let bases = bases_for(ratios.metric, measured, None);
        project(Inputs {
            file: &file,
            figures: &figures,
            reference,
            measured,
            bases: &bases,
        })
    };
    let p = projected(&measured);
    assert_eq!(p.totals.len(), 2);
    // Datasheet BF16: A100 312, H100 989.4 TFLOP/s; calibrated A100 ratio 0.341347.
    let published = 4.0 * 312.0 / 989.4 + 1.0;
    let calibrated = 4.0 * 0.341347 + 1.0;
    let total = |i: usize| p.totals[i].equivalents.unwrap().value;
    assert!((total(0) - published).abs() < 1e-9, "{:?}", p.totals[0]);
    assert!((total(1) - calibrated).abs() < 1e-9, "{:?}", p.totals[1]);
    let stock: Vec<(f64, f64)> = p
        .stock
        .iter()
        .filter(|s| s.basis == p.totals[1].basis)
        .map(|s| (s.year, s.stock.value))
        .collect();
    assert_eq!(stock.len(), 2);
    assert_eq!(stock[0].0, 2021.0);
    assert!((stock[0].1 - 4.0 * 0.341347).abs() < 1e-9);
    assert_eq!(stock[1].0, 2023.0);
    assert!((stock[1].1 - calibrated).abs() < 1e-9);
    let without = projected(&[]);
    assert_eq!(
        without.totals.len(),
        1,
        "no calibrated basis without ratios"
    );
    let figures = fleetbench::report::fleet::figures(&p, "small").unwrap();
    let kinds: Vec<&str> = figures.iter().map(|f| f.kind.as_str()).collect();
    assert_eq!(kinds, ["fleet-totals", "fleet-stock"]);
}

#[test]
fn report_adds_equivalence_and_fleet_charts() {
    let tmp = tempdir();
    let fleet = tmp.path().join("small.toml");
    std::fs::write(&fleet, SMALL_FLEET).unwrap();
    let ratios = crate::common::repo_path("data/scenarios/ratios-mamf-bf16.json");
    let dir = tmp.path().join("out");
    let out = fleetbench()
        .arg("report")
        .arg(fixture_path("fake-a.json"))
        .arg("--ratios")
        .arg(&ratios)
        .arg("--fleet")
        .arg(&fleet)
        .arg("-o")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svgs = svgs_in(&dir);
    let find = |prefix: &str| {
        let (_, svg) = svgs.iter().find(|(n, _)| n.starts_with(prefix)).unwrap();
        svg.clone()
    };
    let equivalence = find("equivalence-1-");
    for needle in [
        "Equivalence to h100-sxm (matmul-f16)",
        "ratio to h100-sxm (×",
        "published (datasheet)",
    ] {
        assert!(equivalence.contains(needle), "{needle}");
    }
    assert!(equivalence.contains("A100 SXM4 80GB (calibrated, measured)"));
    let totals = find("fleet-1-1-");
    for needle in [
        "Fleet totals in h100-sxm equivalents",
        "total (h100-sxm equivalents)",
        "calibrated basis",
    ] {
        assert!(totals.contains(needle), "{needle}");
    }
    let stock = find("fleet-1-2-");
    for needle in [
        "Stock over time",
        "acquisition date (year)",
        "stock (h100-sxm equivalents)",
        "Lab (calibrated matmul-f16)",
    ] {
        assert!(stock.contains(needle), "{needle}");
    }
    let html = std::fs::read_to_string(dir.join("index.html")).unwrap();
    assert_eq!(html.matches("<figure class=\"chart\"").count(), 4);
    assert!(
        html.contains("<td>2.365</td>"),
        "the calibrated total 4 × 0.341347 + 1 = 2.365, as `fleetbench project` prints it"
    );
}

#[test]
fn report_refuses_a_fleet_whose_reference_no_ratios_file_shares() {
    let tmp = tempdir();
    let fleet = tmp.path().join("f.toml");
    std::fs::write(
        &fleet,
        SMALL_FLEET.replace("reference = \"h100-sxm\"", "reference = \"a100-sxm4-80gb\""),
    )
    .unwrap();
    let out = fleetbench()
        .arg("report")
        .arg(fixture_path("fake-a.json"))
        .arg("--ratios")
        .arg(crate::common::repo_path(
            "data/scenarios/ratios-mamf-bf16.json",
        ))
        .arg("--fleet")
        .arg(&fleet)
        .arg("-o")
        .arg(tmp.path().join("o"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("f.toml") && err.contains("no --ratios file"),
        "{err}"
    );
}

#[test]
fn roofline_of_a_catalog_device_adds_its_published_ceilings() {
    let tmp = tempdir();
    let mut file = fixture("fake-a.json");
    let adapter = &mut file.machine.adapter;
    adapter.name = "NVIDIA H100 80GB HBM3".into();
    adapter.vendor_id = 0x10de;
    adapter.device_id = 0x2330;
    let h100 = save(tmp.path(), "h100.json", &file);
    let dir = tmp.path().join("out");
    let out = run_report(&[&h100, &fixture_path("fake-a.json")], &dir, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let svgs = svgs_in(&dir);
    let roofline = |prefix: &str| &svgs.iter().find(|(n, _)| n.starts_with(prefix)).unwrap().1;
    // Catalog: H100 SXM5 FP32 66.9 TFLOP/s, 3.35 TB/s.
    let h100_svg = roofline("roofline-1-");
    assert!(h100_svg.contains("published FP32 peak 66900 GFLOP/s (h100-sxm)"));
    assert!(h100_svg.contains("published bandwidth 3350 GB/s"));
    assert!(!roofline("roofline-2-").contains("published"));
}

/// The `y` of the SVG text element that holds `needle`.
fn text_y(svg: &str, needle: &str) -> f64 {
    let at = svg.find(needle).unwrap_or_else(|| panic!("no {needle:?}"));
    let open = svg[..at].rfind("<text").unwrap();
    let attrs = &svg[open..at];
    let y = attrs.split(" y=\"").nth(1).unwrap();
    y[..y.find('"').unwrap()].parse().unwrap()
}

/// The lowest top edge of any bar or marker above `limit`, in SVG pixels.
fn lowest_mark(svg: &str, limit: f64) -> f64 {
    let mut lowest: f64 = 0.0;
    for (tag, attr) in [("<rect", " y=\""), ("<circle", " cy=\"")] {
        for part in svg.split(tag).skip(1) {
            let end = part.find('>').unwrap();
            if let Some(v) = part[..end].split(attr).nth(1) {
                let y: f64 = v[..v.find('"').unwrap()].parse().unwrap();
                if y < limit {
                    lowest = lowest.max(y);
                }
            }
        }
    }
    lowest
}

#[test]
fn legends_sit_below_the_plot_and_cover_no_data() {
    let roofline = Roofline::from_file(&with_ceilings(fixture("fake-a.json"), 480.0, 30.0));
    let svg = roofline.to_svg().unwrap();
    let plot = f64::from(fleetbench::report::chart::HEIGHT);
    for label in ["bandwidth ceiling 30 GB/s", "compute ceiling 480 GFLOP/s"] {
        let y = text_y(&svg, label);
        assert!(
            y > plot,
            "{label} at y = {y}, inside the plot (height {plot})"
        );
    }
    let comparison =
        ComparisonChart::new(&fixture("fake-a.json"), &fixture("fake-b.json")).unwrap();
    let svg = comparison.to_svg().unwrap();
    let legend = text_y(&svg, "ratio of medians");
    // Legend swatches start 6 px above their label; everything higher is the plot.
    let bars = lowest_mark(&svg, legend - 6.0);
    assert!(bars > 0.0, "bars were found");
    assert!(
        text_y(&svg, "geometric mean") > legend && legend > bars + 24.0,
        "legend at {legend}, lowest bar starts at {bars}"
    );
}

/// Adapter names come from other machines' files and can be any length: a 300-character one
/// still gives chart files whose names fit the file system, and two such names stay apart.
#[test]
fn a_300_character_adapter_name_still_gives_a_report() {
    let tmp = tempdir();
    let long = |c: &str| {
        let mut file = fixture("fake-a.json");
        file.machine.adapter.name = format!("GPU {}", c.repeat(300));
        file
    };
    let a = save(tmp.path(), "a.json", &long("x"));
    let mut b_file = long("x");
    b_file.machine.adapter.name.push('y');
    b_file.run.run_id = "other-run".to_string();
    let b = save(tmp.path(), "b.json", &b_file);
    let dir = tmp.path().join("out");
    let out = run_report(&[&a, &b], &dir, &["--format", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_listing(&out.stdout, &dir, 4);
    let svgs = svgs_in(&dir);
    assert_eq!(
        svgs.len(),
        3,
        "{:?}",
        svgs.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    for (name, _) in &svgs {
        assert!(name.len() <= 120, "{name}");
    }
    assert!(dir.join("index.html").is_file());
}

#[test]
fn report_notes_a_ratios_file_from_simulated_runs() {
    let tmp = tempdir();
    let source = crate::common::repo_path("data/scenarios/ratios-mamf-bf16.json");
    let mut ratios: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(source).unwrap()).unwrap();
    ratios["simulated"] = serde_json::Value::Bool(true);
    let path = tmp.path().join("simulated-ratios.json");
    std::fs::write(&path, ratios.to_string()).unwrap();
    let out = fleetbench()
        .arg("report")
        .arg(fixture_path("fake-a.json"))
        .arg("--ratios")
        .arg(&path)
        .arg("-o")
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let expected = format!(
        "note: {}: {}",
        path.display(),
        fleetbench::results::SIMULATED_LABEL
    );
    assert!(err.lines().any(|l| l == expected), "{err}");
}

/// The page itself says so, boxed under each heading, for the ratios file and for a fleet
/// projected with it; a real ratios file gets no such label.
#[test]
fn the_report_page_labels_simulated_ratios_and_fleets() {
    let tmp = tempdir();
    let fleet = tmp.path().join("fleet.toml");
    std::fs::write(&fleet, SMALL_FLEET).unwrap();
    let source = crate::common::repo_path("data/scenarios/ratios-mamf-bf16.json");
    let mut ratios: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&source).unwrap()).unwrap();
    ratios["simulated"] = serde_json::Value::Bool(true);
    let simulated = tmp.path().join("simulated-ratios.json");
    std::fs::write(&simulated, ratios.to_string()).unwrap();
    let page = |ratios: &std::path::Path, out: &str| {
        let dir = tmp.path().join(out);
        let run = fleetbench()
            .arg("report")
            .arg(fixture_path("fake-a.json"))
            .arg("--ratios")
            .arg(ratios)
            .arg("--fleet")
            .arg(&fleet)
            .arg("-o")
            .arg(&dir)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&run.stderr).to_string();
        assert!(run.status.success(), "{err}");
        std::fs::read_to_string(dir.join("index.html")).unwrap()
    };
    let html = page(&simulated, "sim");
    let label = fleetbench::results::SIMULATED_LABEL;
    let boxed: Vec<&str> = html
        .lines()
        .filter(|l| l.starts_with("<p class=\"label\">"))
        .collect();
    assert_eq!(boxed.len(), 2, "{boxed:?}");
    assert!(boxed.iter().all(|l| l.contains(label)), "{boxed:?}");
    let sections: Vec<&str> = html.split("<section id=").collect();
    for id in ["\"equivalence\"", "\"fleets\""] {
        let section = sections.iter().find(|s| s.starts_with(id)).unwrap();
        assert!(section.contains("<p class=\"label\">"), "{id}");
    }
    let real = page(&source, "real");
    assert!(!real.contains("<p class=\"label\">"));
}
