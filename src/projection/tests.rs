//! Hand-computed checks of bases and totals, on figures from the published datasheets
//! (H100 SXM5, A100 SXM4 80GB, H200 SXM; dense).

use super::*;

fn device(id: &str, fp32: f64, bf16: f64, bw: f64) -> DeviceFigures {
    DeviceFigures {
        id: id.to_string(),
        peaks: [(Metric::Fp32, fp32), (Metric::Bf16, bf16)]
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
    let r = |m| Basis::Published(m).ratio(&a, src).unwrap().ratio.value;
    close(r(Metric::Bf16), 312.0 / 989.4, 1e-15); // 0.315343
    close(r(Metric::Fp32), 19.5 / 66.9, 1e-15); // 0.291480
    close(r(Metric::Bandwidth), 2.039 / 3.35, 1e-15); // 0.608657
    assert!(Basis::Published(Metric::Fp8).ratio(&a, src).is_none());
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
            metric: Metric::Bf16,
            intensity: i,
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
        metric: Metric::Bf16,
        ratio: Interval::new(0.35, 0.33, 0.37, 0.95),
        provenance: "test".into(),
    }];
    let src = RatioSources {
        reference: &h,
        measured: &measured,
    };
    let used = Basis::Calibrated(Metric::Bf16).ratio(&a, src).unwrap();
    assert_eq!(used.ratio, measured[0].ratio);
    // The ratios file's own provenance is shown, not relabelled "measured".
    assert_eq!(used.provenance, "test");
    let fallback = Basis::Calibrated(Metric::Bf16).ratio(&h2, src).unwrap();
    close(fallback.ratio.value, 989.5 / 989.4, 1e-15);
    assert!(fallback.provenance.starts_with("not measured"));
    let own = Basis::Calibrated(Metric::Bf16).ratio(&h, src).unwrap();
    assert_eq!(own.ratio, Interval::exact(1.0));
}

#[test]
fn totals_carry_intervals_and_report_missing_figures() {
    let (h, a) = (h100(), a100());
    let measured = [MeasuredRatio {
        device: a.id.clone(),
        metric: Metric::Bf16,
        ratio: Interval::new(0.35, 0.33, 0.37, 0.95),
        provenance: "test".into(),
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
    let t = total(&fleet, &Basis::Calibrated(Metric::Bf16), src);
    // 1000 + 2000 × 0.35 + 500 = 2200; bounds 1000 + 660 + 500, 1000 + 740 + 500.
    close(t.equivalents.value, 2200.0, 1e-9);
    close(t.equivalents.low, 2160.0, 1e-9);
    close(t.equivalents.high, 2240.0, 1e-9);
    let p = total(&fleet, &Basis::Published(Metric::Bf16), src);
    // 1000 + 2000 × 312 / 989.4 + 500 = 2130.685264.
    close(p.equivalents.value, 2_130.685_264, 1e-6);
    assert!(!p.equivalents.has_width());
    assert_eq!(p.complete(), Some(p.equivalents));
    // The reference has no FP8 figure: that is what is missing, not the devices', and the
    // total cannot be computed (the stated 500 alone is not the fleet's total).
    let fp8 = total(&fleet, &Basis::Published(Metric::Fp8), src);
    assert_eq!(fp8.missing, vec!["the reference h100-sxm".to_string()]);
    assert_eq!((fp8.complete(), fp8.counted), (None, 1));
}

#[test]
fn workloads_parse_and_reject_non_positive_intensity() {
    assert_eq!("training".parse::<Workload>(), Ok(Workload::Training));
    assert_eq!(
        "intensity=2.5".parse::<Workload>(),
        Ok(Workload::Intensity(2.5))
    );
    assert!("intensity=0".parse::<Workload>().is_err());
    assert!("intensity=-3".parse::<Workload>().is_err());
    assert!("intensity=inf".parse::<Workload>().is_err());
    assert!("batch".parse::<Workload>().is_err());
    assert_eq!("bf16_fp16_tensor".parse::<Metric>(), Ok(Metric::Bf16));
}

#[test]
fn report_lists_an_unchecked_unknown_device_as_missing_not_zero() {
    let text = "version = 1\n[[fleet]]\nname = \"f\"\n[[fleet.entry]]\ndevice = \"h100-sxm\"\ncount = 10\n[[fleet.entry]]\ndevice = \"nope\"\ncount = 5\n";
    let file = crate::fleet::FleetFile::parse(std::path::Path::new("f.toml"), text).unwrap();
    let h = h100();
    let figures = [(h.id.clone(), h.clone())].into_iter().collect();
    let sections = report::project(report::Inputs {
        file: &file,
        figures: &figures,
        reference: &h,
        measured: &[],
        bases: &[Basis::Published(Metric::Bf16)],
    });
    let totals = &sections[1].table;
    assert_eq!(totals.headers[2], "equivalents");
    assert_eq!(
        totals.rows[0][2],
        "cannot compute (the 1 counted entries: 10.000)"
    );
    assert_eq!(totals.rows[0][3], "–");
    assert_eq!(totals.rows[0].last().unwrap(), "nope");
    let entries = &sections[0].table;
    assert_eq!(entries.rows[1][7], "no published bf16 figure for nope");
}

#[test]
fn a_claim_against_a_total_that_cannot_be_computed_is_not_checkable() {
    let text = "version = 1\n[[fleet]]\nname = \"f\"\n[[fleet.entry]]\ndevice = \"a100-sxm4-80gb\"\ncount = 10\n[[fleet.claim]]\nkind = \"total\"\ntotal = 100\n";
    let file = crate::fleet::FleetFile::parse(std::path::Path::new("f.toml"), text).unwrap();
    let (h, a) = (h100(), a100());
    let figures = [(h.id.clone(), h.clone()), (a.id.clone(), a.clone())]
        .into_iter()
        .collect();
    let sections = report::project(report::Inputs {
        file: &file,
        figures: &figures,
        reference: &h,
        measured: &[],
        bases: &[Basis::Published(Metric::Fp8)],
    });
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
        metric: Metric::Bf16,
        intensity: Workload::Training.intensity().unwrap_or(f64::INFINITY),
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
