//! Hand-computed checks of bases and totals, on figures from the published datasheets
//! (H100 SXM5, A100 SXM4 80GB, H200 SXM; dense).

use super::*;
use crate::catalog::Precision;
use crate::catalog::{DatasheetFigure, Metric};

const BF16: DatasheetFigure = DatasheetFigure::Compute(Precision::Bf16Fp16Tensor);
const FP32: DatasheetFigure = DatasheetFigure::Compute(Precision::Fp32);
const FP8: DatasheetFigure = DatasheetFigure::Compute(Precision::Fp8);

fn published_on(figure: DatasheetFigure) -> Basis {
    Basis::Published { figure }
}

fn calibrated_on(metric: Metric) -> Basis {
    Basis::Calibrated { metric }
}

fn device(id: &str, fp32: f64, bf16: f64, bw: f64) -> DeviceFigures {
    DeviceFigures {
        id: id.to_string(),
        peaks: [(Precision::Fp32, fp32), (Precision::Bf16Fp16Tensor, bf16)]
            .into_iter()
            .collect(),
        bandwidth_tbs: Some(bw),
    }
}

fn h100() -> DeviceFigures {
    device("h100-sxm", 66.9, 989.4, 3.35)
}
fn a100() -> DeviceFigures {
    device("a100-sxm4-80gb", 19.5, 312.0, 2.039)
}
fn h200() -> DeviceFigures {
    device("h200-sxm", 66.9, 989.5, 4.8)
}

fn close(a: f64, b: f64, tol: f64) {
    assert!((a - b).abs() <= tol, "{a} vs {b} (tolerance {tol})");
}

#[test]
fn published_ratios_by_metric() {
    let (h, a) = (h100(), a100());
    let src = RatioSources {
        reference: &h,
        measured: &[],
    };
    let r = |f| published_on(f).ratio(&a, src).unwrap().ratio.value;
    close(r(BF16), 312.0 / 989.4, 1e-15); // 0.315343
    close(r(FP32), 19.5 / 66.9, 1e-15); // 0.291480
    close(r(DatasheetFigure::Bandwidth), 2.039 / 3.35, 1e-15); // 0.608657
    assert!(published_on(FP8).ratio(&a, src).is_none());
}

#[test]
fn roofline_separates_h200_from_h100_only_when_memory_bound() {
    let (h, h2) = (h100(), h200());
    let src = RatioSources {
        reference: &h,
        measured: &[],
    };
    let at = |i| {
        Basis::Roofline {
            metric: Metric::MatmulF16,
            intensity: Some(i),
            calibrated: false,
        }
        .ratio(&h2, src)
        .unwrap()
        .ratio
        .value
    };
    // Compute-bound (1000 FLOP/B > ridge 989.4 / 3.35 = 295): 989.5 / 989.4.
    close(at(1000.0), 989.5 / 989.4, 1e-12);
    // Decoding at 1 FLOP/B: 4.8 / 3.35 = 1.432836.
    close(at(1.0), 4.8 / 3.35, 1e-12);
    // Between the ridges (H200's is 206): H200 at its peak 989.5, H100 at 250 × 3.35 = 837.5.
    close(at(250.0), 989.5 / 837.5, 1e-12);
}

#[test]
fn calibrated_uses_measured_with_interval_and_falls_back_to_published() {
    let (h, a, h2) = (h100(), a100(), h200());
    let measured = [MeasuredRatio {
        device: a.id.clone(),
        metric: Metric::MatmulF16,
        ratio: Interval::new(0.35, 0.33, 0.37, 0.95),
        provenance: "test".into(),
        simulated: false,
    }];
    let src = RatioSources {
        reference: &h,
        measured: &measured,
    };
    let used = calibrated_on(Metric::MatmulF16).ratio(&a, src).unwrap();
    assert_eq!(used.ratio, measured[0].ratio);
    // The ratios file's own provenance is shown, not relabelled "measured".
    assert_eq!(used.provenance, "test");
    let fallback = calibrated_on(Metric::MatmulF16).ratio(&h2, src).unwrap();
    close(fallback.ratio.value, 989.5 / 989.4, 1e-15);
    assert!(fallback.provenance.starts_with("not measured"));
    let own = calibrated_on(Metric::MatmulF16).ratio(&h, src).unwrap();
    assert_eq!(own.ratio, Interval::exact(1.0));
}

#[test]
fn totals_carry_intervals_and_report_missing_figures() {
    let (h, a) = (h100(), a100());
    let measured = [MeasuredRatio {
        device: a.id.clone(),
        metric: Metric::MatmulF16,
        ratio: Interval::new(0.35, 0.33, 0.37, 0.95),
        provenance: "test".into(),
        simulated: false,
    }];
    let src = RatioSources {
        reference: &h,
        measured: &measured,
    };
    let fleet = [
        Holding::Devices {
            figures: &h,
            count: 1000,
        },
        Holding::Devices {
            figures: &a,
            count: 2000,
        },
        Holding::Equivalents(500.0),
    ];
    let t = total(&fleet, &calibrated_on(Metric::MatmulF16), src);
    // 1000 + 2000 × 0.35 + 500 = 2200; bounds 1000 + 660 + 500, 1000 + 740 + 500.
    close(t.equivalents.value, 2200.0, 1e-9);
    close(t.equivalents.low, 2160.0, 1e-9);
    close(t.equivalents.high, 2240.0, 1e-9);
    let p = total(&fleet, &published_on(BF16), src);
    // 1000 + 2000 × 312 / 989.4 + 500 = 2130.685264.
    close(p.equivalents.value, 2_130.685_264, 1e-6);
    assert!(!p.equivalents.has_width());
    assert_eq!(p.complete(), Some(p.equivalents));
    // The reference has no FP8 figure: that is what is missing, not the devices', and the
    // total cannot be computed (the stated 500 alone is not the fleet's total).
    let fp8 = total(&fleet, &published_on(FP8), src);
    assert_eq!(fp8.missing, vec!["the reference h100-sxm".to_string()]);
    assert_eq!((fp8.complete(), fp8.counted), (None, 1));
}

#[test]
fn regimes_parse_and_reject_non_positive_intensity() {
    assert_eq!("training".parse::<Regime>(), Ok(Regime::Training));
    assert_eq!(
        "intensity=2.5".parse::<Regime>(),
        Ok(Regime::Intensity(2.5))
    );
    assert!("intensity=0".parse::<Regime>().is_err());
    assert!("intensity=-3".parse::<Regime>().is_err());
    assert!("intensity=inf".parse::<Regime>().is_err());
    assert!("batch".parse::<Regime>().is_err());
    assert_eq!("bf16_fp16_tensor".parse::<DatasheetFigure>(), Ok(BF16));
}

#[test]
fn report_lists_an_unchecked_unknown_device_as_missing_not_zero() {
    let text = "version = 1\n[[fleet]]\nname = \"f\"\n[[fleet.entry]]\ndevice = \"h100-sxm\"\ncount = 10\n[[fleet.entry]]\ndevice = \"nope\"\ncount = 5\n";
    let file = crate::fleet::FleetFile::parse(std::path::Path::new("f.toml"), text).unwrap();
    let h = h100();
    let figures = [(h.id.clone(), h.clone())].into_iter().collect();
    let projection = project(Inputs {
        file: &file,
        figures: &figures,
        reference: &h,
        measured: &[],
        bases: &[published_on(BF16)],
    });
    // A partial sum is not the fleet's total: it cannot be computed.
    let total = &projection.totals[0];
    assert_eq!(total.equivalents, None);
    assert_eq!(total.missing, vec!["nope".to_string()]);
    let unknown = &projection.entries[1];
    assert_eq!(unknown.equivalents, None);
    assert_eq!(unknown.provenance, "no published bf16 figure for nope");
    let sections = crate::output::Tabular::sections(&projection);
    let totals = &sections[1].table;
    assert_eq!(totals.headers[2], "equivalents");
    assert_eq!(totals.rows[0][2], "cannot compute");
    assert_eq!(totals.rows[0][3], "–");
    assert_eq!(totals.rows[0].last().unwrap(), "nope");
}

#[test]
fn a_claim_against_a_total_that_cannot_be_computed_is_not_checkable() {
    let text = "version = 1\n[[fleet]]\nname = \"f\"\n[[fleet.entry]]\ndevice = \"a100-sxm4-80gb\"\ncount = 10\n[[fleet.claim]]\nkind = \"total\"\ntotal = 100\n";
    let file = crate::fleet::FleetFile::parse(std::path::Path::new("f.toml"), text).unwrap();
    let (h, a) = (h100(), a100());
    let figures = [(h.id.clone(), h.clone()), (a.id.clone(), a.clone())]
        .into_iter()
        .collect();
    let projection = project(Inputs {
        file: &file,
        figures: &figures,
        reference: &h,
        measured: &[],
        bases: &[published_on(FP8)],
    });
    assert_eq!(projection.totals[0].equivalents, None);
    let sections = crate::output::Tabular::sections(&projection);
    let entries = &sections[0].table;
    assert_eq!(
        entries.rows[0][7],
        "no published fp8 figure for the reference h100-sxm"
    );
    let totals = &sections[1].table;
    assert_eq!(totals.rows[0][2], "cannot compute");
    let claims = &sections[2].table;
    assert_eq!(claims.rows[0][4], "cannot compute");
    assert_eq!(
        claims.rows[0][5],
        "not checkable: no published fp8 figure for the reference h100-sxm"
    );
    assert!(!claims.rows[0][5].contains("100%"));
}

#[test]
fn training_roofline_is_the_compute_ratio() {
    let (h, a) = (h100(), a100());
    let src = RatioSources {
        reference: &h,
        measured: &[],
    };
    let basis = Basis::Roofline {
        metric: Metric::MatmulF16,
        intensity: Regime::Training.intensity(),
        calibrated: false,
    };
    assert_eq!(
        basis.to_string(),
        "roofline bf16, compute-bound (published)"
    );
    close(
        basis.ratio(&a, src).unwrap().ratio.value,
        312.0 / 989.4,
        1e-15,
    );
    assert_eq!(basis.reference_throughput(&h), Some(989.4));
}
