//! `fleetbench project` end to end: every scenario's arithmetic against hand-computed values,
//! the calibrated path with intervals, and bad input (one line on stderr, exit 2).
//!
//! Hand computations use the catalog's dense figures: H100 SXM5 BF16 989.4, FP32 66.9, FP64
//! 33.5, INT8 1979 TOPS, 3.35 TB/s; A100 SXM4 80GB BF16 312, FP32 19.5, FP64 9.7, INT8 624,
//! 2.039 TB/s. Tolerances: ±1 device for counts printed as whole numbers, ±0.00005 for ratios
//! printed with four decimals.

use crate::common::{fleetbench, repo_path, tempdir};
use serde_json::Value;
use std::path::Path;

fn project(args: &[&str]) -> Value {
    let out = fleetbench()
        .arg("project")
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn scenario(name: &str) -> String {
    repo_path(&format!("data/scenarios/{name}"))
        .display()
        .to_string()
}

/// The rows of a section of the projection model.
fn rows<'a>(v: &'a Value, section: &str) -> &'a [Value] {
    v[section].as_array().unwrap()
}

/// The only row of `section` that `keep` accepts.
fn only<'a>(v: &'a Value, section: &str, keep: impl Fn(&Value) -> bool) -> &'a Value {
    let found: Vec<&Value> = rows(v, section).iter().filter(|r| keep(r)).collect();
    assert_eq!(found.len(), 1, "{section}: {found:?}");
    found[0]
}

/// A number of the model; every number is a JSON number.
fn num(x: &Value) -> f64 {
    x.as_f64()
        .unwrap_or_else(|| panic!("{x} is not a JSON number"))
}

/// The total of `fleet` (any fleet when `None`) under `basis`.
fn total<'a>(v: &'a Value, fleet: Option<&str>, basis: &str) -> &'a Value {
    only(v, "totals", |r| {
        r["basis"] == basis && fleet.is_none_or(|f| r["fleet"] == f)
    })
}

/// The equivalents of a total, as an interval.
fn equivalents(total: &Value) -> (f64, f64, f64) {
    let e = &total["equivalents"];
    (num(&e["value"]), num(&e["low"]), num(&e["high"]))
}

/// The solved count of a remainder claim under `basis`.
fn solved_under(v: &Value, basis: &str) -> f64 {
    let row = only(v, "claims", |r| {
        r["basis"] == basis && r["claim"].as_str().unwrap().starts_with("remainder")
    });
    let count = &row["result"]["count"];
    count.get("value").map_or_else(|| num(count), num)
}

/// The computed ratio of the ratio claim under `basis`.
fn ratio_under(v: &Value, basis: &str) -> f64 {
    let row = only(v, "claims", |r| r["basis"] == basis);
    assert_eq!(row["result"]["kind"], "ratio");
    num(&row["result"]["ratio"])
}

fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} vs {b} (tolerance {tol})");
}

#[test]
fn meta_remainder_in_a100s_under_each_basis() {
    let v = project(&[&scenario("meta-600k-h100e.toml")]);
    let solved = |basis: &str| solved_under(&v, basis);
    close(solved("published bf16"), 250_000.0 * 989.4 / 312.0, 1.0); // 792788
    close(solved("published tf32"), 250_000.0 * 494.7 / 156.0, 1.0); // 792788
    close(solved("published fp32"), 250_000.0 * 66.9 / 19.5, 1.0); // 857692
    close(solved("published int8"), 250_000.0 * 1979.0 / 624.0, 1.0); // 792869
    close(solved("published bandwidth"), 250_000.0 * 3.35 / 2.039, 1.0); // 410741
    close(solved("stated: claimed 4:1"), 1_000_000.0, 1.0);
    close(
        solved("stated: MLPerf Training v2.1 BERT 6751/2430"),
        694_500.0,
        1.0,
    );
    assert_eq!(v["reference"], "h100-sxm");
    close(
        equivalents(total(&v, None, "published bf16")).0,
        600_000.0,
        1e-6,
    );
    let fp8 = only(&v, "claims", |r| r["basis"] == "published fp8");
    assert_eq!(
        fp8["result"]["count"],
        Value::Null,
        "no FP8 figure: nothing solved"
    );
    assert_eq!(fp8["result"]["missing"][0], "a100-sxm4-80gb");
}

#[test]
fn meta_with_measured_ratios_changes_only_the_calibrated_rows() {
    let ratios = scenario("ratios-mamf-bf16.json");
    let v = project(&[&scenario("meta-600k-h100e.toml"), "--ratios", &ratios]);
    let solved = |basis: &str| solved_under(&v, basis);
    // 250000 / (271.2 / 794.5) = 732393; the published answer is unchanged.
    close(solved("calibrated matmul-f16"), 732_393.0, 1.0);
    close(solved("published bf16"), 792_788.0, 1.0);
}

#[test]
fn one_h100_is_not_four_a100s_on_any_single_metric() {
    let v = project(&[&scenario("one-h100-four-a100.toml")]);
    let ratio = |basis: &str| ratio_under(&v, basis);
    close(ratio("datasheet bf16"), 989.4 / 312.0, 5e-5); // 3.1712
    close(ratio("datasheet fp32"), 66.9 / 19.5, 5e-5); // 3.4308
    close(ratio("datasheet fp64"), 33.5 / 9.7, 5e-5); // 3.4536 (vector FP64)
    close(ratio("datasheet bandwidth"), 3.35 / 2.039, 5e-5); // 1.6430
    close(
        ratio("datasheet fp8 vs bf16 (mixed precision)"),
        1979.0 / 312.0,
        5e-5,
    ); // 6.3429
    let four = equivalents(total(&v, Some("four A100"), "published bf16")).0;
    close(four, 4.0 * 312.0 / 989.4, 1e-12); // 1.261
}

#[test]
fn memory_bound_workload_uses_bandwidth_ratios() {
    let v = project(&[
        &scenario("one-h100-four-a100.toml"),
        "--workload",
        "inference",
    ]);
    let basis = "roofline bf16 @ 1 FLOP/B (published)";
    let row = total(&v, Some("four A100"), basis);
    close(equivalents(row).0, 4.0 * 2.039 / 3.35, 1e-12); // 2.435
    let roofline = &v["bases"][1];
    assert_eq!(roofline["label"], basis);
    assert_eq!(roofline["basis"]["kind"], "roofline");
    assert_eq!(roofline["basis"]["intensity"], 1.0);
}

#[test]
fn tesla_multiple_and_growth_base() {
    let v = project(&[&scenario("tesla-eight-times.toml")]);
    let claims = rows(&v, "claims");
    assert_eq!(claims[0]["result"]["kind"], "multiple");
    close(num(&claims[0]["result"]["implied"]), 75_000.0, 1e-9);
    assert_eq!(claims[1]["result"]["kind"], "growth_base");
    close(num(&claims[1]["result"]["base"]), 3_750.0, 1e-9);
    // 18 × ln 2 / ln 20 = 4.164808 months.
    close(
        num(&claims[1]["result"]["doubling_months"]),
        4.164_808,
        1e-6,
    );
}

#[test]
fn doubling_since_2023_q1() {
    let v = project(&[&scenario("doubling-since-2023q1.toml")]);
    let result = &v["claims"][0]["result"];
    assert_eq!(result["kind"], "growth");
    close(num(&result["factor"]["value"]), 2.4, 1e-12);
    assert_eq!(result["verdict"], "holds");
    // 2023-01-01 → 2024-12-31 is 1 + 365/366 years; × ln 2 / ln 2.4 × 12 = 18.98 months.
    let years = 1.0 + 365.0 / 366.0;
    let months = 12.0 * years * std::f64::consts::LN_2 / 2.4f64.ln();
    close(num(&result["doubling_months"]), months, 1e-9);
}

/// A ratios file in the calibrate schema with an interval on the A100's measured ratio.
fn write_ratios(dir: &Path, reference: &str, version: u32) -> String {
    let a100 = ("a100-sxm4-80gb", [0.35, 0.33, 0.37]);
    write_ratios_for(dir, "matmul-f16", reference, version, a100)
}

/// A ratios file for `metric` with one measured device besides the reference.
fn write_ratios_for(
    dir: &Path,
    metric: &str,
    reference: &str,
    version: u32,
    (device, [r, lo, hi]): (&str, [f64; 3]),
) -> String {
    let cell = |r: f64, lo: Option<f64>, hi: Option<f64>, p: &str| serde_json::json!({"ratio": r, "ci_low": lo, "ci_high": hi, "provenance": p, "via": null, "note": "test"});
    let file = serde_json::json!({
        "kind": "fleetbench-ratios", "schema_version": version, "metric": metric,
        "reference": reference, "created_at": "2026-01-01T00:00:00Z", "fleetbench_version": "0",
        "confidence_level": 0.95, "bootstrap_resamples": 1000, "bootstrap_seed": 1, "inputs": [],
        "devices": [
            {"device": reference, "name": "ref", "in_catalog": true, "published": null,
             "measured": null, "efficiency": null, "calibrated": cell(1.0, None, None, "measured")},
            {"device": device, "name": device, "in_catalog": true, "published": null,
             "measured": null, "efficiency": null,
             "calibrated": cell(r, Some(lo), Some(hi), "measured")}
        ]
    });
    let path = dir.join(format!("ratios-{metric}-{reference}-{version}.json"));
    std::fs::write(&path, file.to_string()).unwrap();
    path.display().to_string()
}

fn write_fleet(dir: &Path, entries: &str) -> String {
    let path = dir.join("fleet.toml");
    std::fs::write(
        &path,
        format!("version = 1\n[[fleet]]\nname = \"t\"\n{entries}"),
    )
    .unwrap();
    path.display().to_string()
}

const MIXED: &str = "[[fleet.entry]]\ndevice = \"h100-sxm\"\ncount = 1000\n[[fleet.entry]]\ndevice = \"a100-sxm4-80gb\"\ncount = 2000\n[[fleet.claim]]\nkind = \"total\"\ntotal = 2000\nremainder_in = \"a100-sxm4-80gb\"\n";

#[test]
fn calibrated_totals_and_remainders_carry_the_interval() {
    let dir = tempdir();
    let fleet = write_fleet(dir.path(), MIXED);
    let ratios = write_ratios(dir.path(), "h100-sxm", 1);
    let v = project(&[&fleet, "--ratios", &ratios]);
    let basis = "calibrated matmul-f16";
    // 1000 + 2000 × 0.35 = 1700, interval 1000 + 2000 × [0.33, 0.37] = [1660, 1740].
    let (value, low, high) = equivalents(total(&v, None, basis));
    close(value, 1700.0, 1e-9);
    close(low, 1660.0, 1e-9);
    close(high, 1740.0, 1e-9);
    // Published: 1000 + 2000 × 312 / 989.4 = 1630.685; calibrated − published = +69.315 (+4.25%).
    let diff = &total(&v, None, basis)["difference"];
    assert_eq!(diff["against"], "published bf16");
    close(
        num(&diff["amount"]),
        1700.0 - (1000.0 + 2000.0 * 312.0 / 989.4),
        1e-9,
    );
    close(num(&diff["relative"]), 69.315 / 1630.685, 1e-5);
    // Every device entry is known, so the remainder is 2000 − 1700 = 300, bounds
    // 2000 − 1740 = 260 and 2000 − 1660 = 340; in A100s 300 / 0.35 = 857.1, bounds paired
    // with the opposite ratio ends: 260 / 0.37 = 702.7 and 340 / 0.33 = 1030.3.
    let row = only(&v, "claims", |r| {
        r["basis"] == basis && r["claim"].as_str().unwrap().starts_with("remainder")
    });
    let count = &row["result"]["count"];
    close(num(&count["value"]), 300.0 / 0.35, 1e-9);
    close(num(&count["low"]), 260.0 / 0.37, 1e-9);
    close(num(&count["high"]), 340.0 / 0.33, 1e-9);
    // The tables people read round the same numbers.
    let out = fleetbench()
        .args(["project", &fleet, "--ratios", &ratios, "--format", "csv"])
        .output()
        .unwrap();
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(csv.contains("+69 (+4.3%) vs published bf16"), "{csv}");
    assert!(csv.contains("857 [703, 1030]"), "{csv}");
    assert!(csv.contains("1700,\"[1660, 1740]\""), "{csv}");
}

fn fails(args: &[&str], expected: &str) {
    let out = fleetbench().arg("project").args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.starts_with("error: ") && stderr.contains(expected),
        "{stderr}"
    );
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(out.stdout.is_empty());
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempdir();
    let d = dir.path();
    let entry = |device: &str, count: &str| {
        write_fleet(
            d,
            &format!("[[fleet.entry]]\ndevice = \"{device}\"\ncount = {count}\n"),
        )
    };
    fails(
        &[&entry("h100-sxm5", "1")],
        "unknown device 'h100-sxm5' (nearest catalog ids: h100-sxm",
    );
    fails(&[&entry("h100-sxm", "-3")], "count -3 is negative");
    fails(
        &[&entry("h100-sxm", "0.5")],
        "count 0.5 is not a whole number",
    );
    fails(&[&entry("h100-sxm", "1e15")], "absurdly large");
    let fleet = write_fleet(d, MIXED);
    fails(
        &[&fleet, "--workload", "intensity=0"],
        "--workload: workload intensity must be a positive",
    );
    fails(
        &[&fleet, "--workload", "intensity=-2"],
        "must be a positive",
    );
    fails(
        &[&fleet, "--reference", "h10"],
        "--reference: unknown device 'h10'",
    );
    fails(&[&fleet, "--metric", "fp7"], "--metric: unknown metric");
    let h100 = ("h100-sxm", [2.8, 2.7, 2.9]);
    let other_ref = write_ratios_for(d, "matmul-f16", "a100-sxm4-80gb", 1, h100);
    fails(
        &[&fleet, "--ratios", &other_ref],
        "ratios are relative to 'a100-sxm4-80gb'",
    );
    let other_version = write_ratios(d, "h100-sxm", 99);
    fails(
        &[&fleet, "--ratios", &other_version],
        "schema_version 99 is not supported",
    );
    let same = write_ratios(d, "h100-sxm", 1);
    fails(
        &[&fleet, "--ratios", &same, "--ratios", &same],
        "a second ratios file for matmul-f16",
    );
    fails(
        &[&d.join("missing.toml").display().to_string()],
        "missing.toml",
    );
}

#[test]
fn h200_equals_h100_in_compute_but_not_when_memory_bound() {
    let dir = tempdir();
    let fleet = write_fleet(
        dir.path(),
        "[[fleet.entry]]\ndevice = \"h200-sxm\"\ncount = 100\n",
    );
    let bandwidth = write_ratios_for(
        dir.path(),
        "bandwidth",
        "h100-sxm",
        1,
        ("h200-sxm", [1.30, 1.25, 1.35]),
    );
    let v = project(&[&fleet, "--workload", "inference", "--ratios", &bandwidth]);
    let eq = |basis: &str| equivalents(total(&v, None, basis));
    // Compute: 100 × 989.5 / 989.4 = 100.010.
    close(eq("published bf16").0, 100.0 * 989.5 / 989.4, 1e-9);
    // 1 FLOP/B, datasheet roofs: 100 × 4.8 / 3.35 = 143.284.
    close(
        eq("roofline bf16 @ 1 FLOP/B (published)").0,
        100.0 * 4.8 / 3.35,
        1e-9,
    );
    // Measured bandwidth ratio 1.30 [1.25, 1.35] on the memory-bound roof: 130 [125, 135].
    let basis = "roofline matmul-f16 @ 1 FLOP/B (calibrated)";
    let (value, low, high) = eq(basis);
    close(value, 130.0, 1e-9);
    close(low, 125.0, 1e-9);
    close(high, 135.0, 1e-9);
    // Throughput of that basis: 130 × min(989.4, 1 × 3.35) TFLOP/s = 0.4355 PFLOP/s.
    let throughput = &total(&v, None, basis)["throughput"];
    assert_eq!(throughput["unit"], "PFLOP/s");
    close(
        num(&throughput["amount"]["value"]),
        130.0 * 3.35 / 1000.0,
        1e-9,
    );
}

#[test]
fn epoch_int8_factors() {
    let v = project(&[&scenario("epoch-h100e-int8.toml")]);
    let ratio = |claim: &str| {
        let row = only(&v, "claims", |r| {
            r["claim"] == claim && r["basis"] == "datasheet int8"
        });
        let stated: f64 = claim
            .split(" = ")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(num(&row["result"]["claimed"]), stated);
        num(&row["result"]["ratio"])
    };
    close(
        ratio("1 a100-sxm4-80gb = 0.315 h100-sxm"),
        624.0 / 1979.0,
        5e-5,
    ); // 0.3153
    close(ratio("1 mi300x = 1.32 h100-sxm"), 2614.9 / 1979.0, 5e-5); // 1.3213
    close(ratio("1 tpu-v6e = 0.93 h100-sxm"), 1836.0 / 1979.0, 5e-5); // 0.9277
                                                                      // The fleet is totalled on the default metric, matmul-f16: dense BF16/FP16 tensor peaks.
    let one_of_each = equivalents(total(&v, None, "published bf16")).0;
    close(one_of_each, (312.0 + 1307.4 + 918.0) / 989.4, 1e-9); // 2.565
}

#[test]
fn every_format_prints_every_section() {
    let path = scenario("doubling-since-2023q1.toml");
    for (format, marker) in [
        ("text", "claims\n"),
        ("markdown", "### claims\n"),
        ("csv", "# claims\n"),
    ] {
        let out = fleetbench()
            .args(["project", &path, "--format", format])
            .output()
            .unwrap();
        assert!(out.status.success());
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(marker), "{format}: {text}");
        assert!(text.contains("stock over time"), "{format}: {text}");
    }
    let v = project(&[&path]);
    // Stock over time: 250000 from 2022-10-01, 600000 from 2024-10-01.
    let stock = rows(&v, "stock");
    assert_eq!(stock.len(), 2);
    assert_eq!(stock[0]["date"], "2022-10-01");
    assert_eq!(num(&stock[0]["stock"]["value"]), 250_000.0);
    close(num(&stock[0]["year"]), 2022.0 + 273.0 / 365.0, 1e-12);
    assert_eq!(stock[1]["date"], "2024-10-01");
    assert_eq!(num(&stock[1]["stock"]["value"]), 600_000.0);
}

#[test]
fn rebasing_stated_equivalents_is_refused_but_plain_fleets_can_be_rebased() {
    fails(
        &[
            &scenario("meta-600k-h100e.toml"),
            "--reference",
            "a100-sxm4-80gb",
        ],
        "states amounts in h100-sxm-equivalents",
    );
    let v = project(&[
        &scenario("epoch-h100e-int8.toml"),
        "--reference",
        "a100-sxm4-80gb",
    ]);
    assert_eq!(v["reference"], "a100-sxm4-80gb");
    // (312 + 1307.4 + 918) / 312 = 8.133.
    let rebased = equivalents(total(&v, None, "published bf16")).0;
    close(rebased, (312.0 + 1307.4 + 918.0) / 312.0, 1e-9);
}

fn run_ok(args: &[&str]) {
    let out = fleetbench().args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Fake result files → `calibrate` → `project`: the remainder under the calibrated basis is
/// the open 250k divided by the calibrated ratio the ratios file holds, its bounds by the
/// interval's ends (low count from the high ratio).
#[test]
fn calibrate_output_feeds_the_projection() {
    let dir = tempdir();
    let p = |name: &str| dir.path().join(name).display().to_string();
    let (h100, a100, ratios) = (p("h100.json"), p("a100.json"), p("ratios.json"));
    let fake = ["--sizes", "32,48", "--samples", "6", "--quiet", "-o"];
    run_ok(&[&["run", "--fake", "h100-sxm:50000"][..], &fake, &[&h100]].concat());
    run_ok(
        &[
            &["run", "--fake", "a100-sxm4-80gb:17000"][..],
            &fake,
            &[&a100],
        ]
        .concat(),
    );
    run_ok(&[
        "calibrate",
        &h100,
        &a100,
        "--reference",
        "h100-sxm",
        "--metric",
        "matmul-f32",
        "-o",
        &ratios,
    ]);
    let file: Value = serde_json::from_str(&std::fs::read_to_string(&ratios).unwrap()).unwrap();
    let row = file["devices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["device"] == "a100-sxm4-80gb")
        .unwrap();
    let cal = &row["calibrated"];
    assert_eq!(cal["provenance"], "measured");
    let (r, lo, hi) = (
        cal["ratio"]["value"].as_f64().unwrap(),
        cal["ratio"]["low"].as_f64().unwrap(),
        cal["ratio"]["high"].as_f64().unwrap(),
    );
    let v = project(&[&scenario("meta-600k-h100e.toml"), "--ratios", &ratios]);
    let row = only(&v, "claims", |r| {
        r["basis"] == "calibrated matmul-f32"
            && r["claim"].as_str().unwrap().starts_with("remainder")
    });
    let count = &row["result"]["count"];
    let relative = |a: f64, b: f64| close(a / b, 1.0, 1e-12);
    relative(num(&count["value"]), 250_000.0 / r);
    relative(num(&count["low"]), 250_000.0 / hi);
    relative(num(&count["high"]), 250_000.0 / lo);
}

#[test]
fn a_ratios_file_from_simulated_runs_is_labelled() {
    let dir = crate::common::tempdir();
    let text = std::fs::read_to_string(scenario("ratios-mamf-bf16.json")).unwrap();
    let mut ratios: Value = serde_json::from_str(&text).unwrap();
    ratios["simulated"] = Value::Bool(true);
    let path = dir.path().join("simulated-ratios.json");
    std::fs::write(&path, ratios.to_string()).unwrap();
    let out = fleetbench()
        .arg("project")
        .arg(scenario("meta-600k-h100e.toml"))
        .arg("--ratios")
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected = format!(
        "note: {}: {}",
        path.display(),
        fleetbench::results::SIMULATED_LABEL
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.lines().any(|l| l == expected), "{err}");
    // The projection itself carries the label: in its JSON and under the first table of the
    // text and Markdown views.
    let project = |format: &str, ratios: &str| {
        let out = fleetbench()
            .arg("project")
            .arg(scenario("meta-600k-h100e.toml"))
            .args(["--ratios", ratios, "--format", format])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let sim = path.display().to_string();
    let json: Value = serde_json::from_str(&project("json", &sim)).unwrap();
    assert_eq!(json["simulated"], Value::Bool(true));
    let label = fleetbench::results::SIMULATED_LABEL;
    for format in ["text", "markdown"] {
        let shown = project(format, &sim);
        assert_eq!(shown.matches(label).count(), 1, "{format}: {shown}");
    }
    let real = scenario("ratios-mamf-bf16.json");
    let json: Value = serde_json::from_str(&project("json", &real)).unwrap();
    assert!(json.get("simulated").is_none());
    assert!(!project("text", &real).contains(label));
}
