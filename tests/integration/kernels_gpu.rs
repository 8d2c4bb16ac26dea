//! The ceiling kernels, the texture-fed and f16 matmuls and the autotuner on a real adapter
//! (lavapipe on CI), at tiny sizes.

use crate::common::{gpu_available, run_into, tempdir};
use fleetbench::results::CaseStatus;

#[test]
fn every_kernel_family_verifies_or_says_why_not() {
    if !gpu_available() {
        return;
    }
    let dir = tempdir();
    let path = dir.path().join("r.json");
    let cache = dir.path().join("tune.json");
    let file = run_into(
        &[
            "--kernels",
            "matmul_tex,matmul_f16,matmul_coop_f16,tuned,peak_fma_f32,peak_fma_f16,copy,triad",
            "--sizes",
            "64,32x48x16",
            "--samples",
            "2",
            "--warmup",
            "0",
            "--quiet",
            "--quick",
            "--tune-size",
            "64",
        ],
        &[("FLEETBENCH_TUNE_CACHE", &cache)],
        &path,
    );
    let adapter = &file.machine.adapter;
    for case in &file.cases {
        let needs_coop = case.kernel.family == "cooperative_matrix";
        let needs_f16 = case.workload.dtype == fleetbench::workload::Dtype::F16;
        let unsupported = (needs_coop && !adapter.has_feature("cooperative_matrix"))
            || (needs_f16 && !adapter.has_feature("shader_f16"));
        if unsupported {
            assert_eq!(case.status, CaseStatus::Unsupported, "{case:?}");
            assert!(case.reason.as_deref().unwrap().starts_with("unsupported: "));
            assert!(case.timing.is_none());
        } else {
            assert_eq!(case.status, CaseStatus::Passed, "{case:?}");
            let v = case.verification.as_ref().unwrap();
            assert!(v.rel_error <= v.tolerance, "{case:?}");
        }
    }
    for id in [
        "peak_fma_f32/",
        "copy_tuned/",
        "triad_tuned/",
        "matmul_tex/",
        "matmul_tuned/matmul/f32/64x64x64",
    ] {
        assert!(
            file.cases.iter().any(|c| c.id.starts_with(id)),
            "{id} missing"
        );
    }
    let copy = file
        .cases
        .iter()
        .find(|c| c.id.starts_with("copy_tuned/"))
        .unwrap();
    let search = copy.tuning.as_ref().unwrap();
    assert_eq!(search.chosen_overrides, copy.kernel.overrides);
    // --quick searches the short list; every variant of it is kept, passed or not.
    let searched =
        fleetbench::measure::tune::quick_bandwidth_candidates(fleetbench::kernels::Kernel::Copy);
    assert_eq!(
        search.trials.len(),
        searched.len(),
        "the whole bandwidth search is kept"
    );
    let int8 = file
        .cases
        .iter()
        .find(|c| c.id.starts_with("matmul_tuned/matmul/i8"))
        .unwrap();
    assert_eq!(int8.verification.as_ref().unwrap().rel_error, 0.0);
    let tuned = file
        .cases
        .iter()
        .find(|c| c.id.starts_with("matmul_tuned/matmul/f32"))
        .unwrap();
    let record = tuned.tuning.as_ref().unwrap();
    assert!(!record.from_cache);
    // Every texture-fed candidate the search could run verified: a variant is never kept
    // out of the ranking by a wrong result (the shared-A ones run on lavapipe's 8 lanes).
    for trial in record.trials.iter().filter(|t| t.kernel == "matmul_tex") {
        let ran = !matches!(trial.status, CaseStatus::Skipped | CaseStatus::Unsupported);
        assert!(
            !ran || trial.status == CaseStatus::Passed,
            "{trial:?} did not verify"
        );
    }
    let shared_ran = record.trials.iter().any(|t| {
        t.kernel == "matmul_tex"
            && t.overrides.get("SHARE") == Some(&8.0)
            && t.status == CaseStatus::Passed
    });
    let lanes_of_8 = adapter.limits.min_subgroup_size == 8 && adapter.limits.max_subgroup_size == 8;
    assert!(
        shared_ran || !(lanes_of_8 && adapter.has_feature("subgroup")),
        "no shared-A candidate ran on an adapter with subgroups of 8"
    );
    assert_eq!(record.chosen_kernel, tuned.kernel.id);
    assert!(cache.exists(), "the tuning cache was not written");
    // A second run reuses the cache instead of searching.
    let again = dir.path().join("again.json");
    let file = run_into(
        &[
            "--kernels",
            "tuned",
            "--sizes",
            "64",
            "--samples",
            "2",
            "--warmup",
            "0",
            "--quiet",
            "--quick",
            "--tune-size",
            "64",
        ],
        &[("FLEETBENCH_TUNE_CACHE", &cache)],
        &again,
    );
    let tuned = file
        .cases
        .iter()
        .find(|c| c.id.starts_with("matmul_tuned/"))
        .unwrap();
    assert!(tuned.tuning.as_ref().unwrap().from_cache);
}

/// Above the full-check threshold a real kernel's output is checked in O(n²): Freivalds'
/// vectors, sampled rows and columns, the seed and the host time are in the file, and
/// `validate` accepts it.
#[test]
fn a_large_matmul_is_verified_in_o_n_squared() {
    if !gpu_available() {
        return;
    }
    let dir = tempdir();
    let path = dir.path().join("r.json");
    let file = run_into(
        &[
            "--kernels",
            "matmul_tiled,matmul_int8",
            "--sizes",
            "1024x1024x512",
            "--samples",
            "2",
            "--warmup",
            "0",
            "--quiet",
            "--quick",
        ],
        &[],
        &path,
    );
    assert_eq!(file.cases.len(), 2);
    for case in &file.cases {
        assert_eq!(case.status, CaseStatus::Passed, "{case:?}");
        let v = case.verification.as_ref().unwrap();
        assert_eq!(
            v.method,
            fleetbench::results::VerifyMethod::Freivalds,
            "{v:?}"
        );
        // Integer checks are exact: vectors over 0..2^8 and a few exact lines; float checks
        // project on vectors with entries s·(1+u) and recompute as many rows and columns.
        use fleetbench::measure::verify::{
            FLOAT_LINES, FLOAT_VECTORS, INT_LINES, INT_RANGE, INT_VECTORS,
        };
        let integer = case.workload.dtype == fleetbench::workload::Dtype::I8;
        let (vectors, lines, range) = if integer {
            (INT_VECTORS as u64, INT_LINES, Some(INT_RANGE))
        } else {
            (FLOAT_VECTORS as u64, FLOAT_LINES, None)
        };
        assert!(v.passed() && v.vectors == vectors, "{v:?}");
        assert_eq!((v.rows_checked.len(), v.vector_range), (lines, range));
        assert!(v.checked_elements < v.total_elements && v.check_seed.is_some());
        assert!(v.host_s.is_some_and(|s| s > 0.0), "{v:?}");
    }
}

/// The texture-fed copy and triad (`TEX` 1) move the right elements: one texture row of a few
/// texels short of a workgroup, and three rows of 8192 texels (the row shift and mask in use),
/// with naga's bounds checks on and off.
#[test]
fn texture_fed_copy_and_triad_verify() {
    use fleetbench::gpu::{open_device, AdapterSelector, WgpuBackend};
    use fleetbench::kernels::{Kernel, KernelConfig};
    use fleetbench::measure::backend::CaseSpec;
    use fleetbench::workload::{Op, Workload};
    if !gpu_available() {
        return;
    }
    let backend = WgpuBackend::new(open_device(&AdapterSelector::Best, None).unwrap());
    for (op, kernel) in [(Op::Copy, Kernel::Copy), (Op::Triad, Kernel::Triad)] {
        for (m, per) in [(60, 1), (4 * 8192 * 3, 4)] {
            for bounds_checks in [true, false] {
                let values = [("WG_X", 256), ("VEC", 4), ("PER", per), ("TEX", 1)];
                let spec = CaseSpec {
                    workload: Workload::stream(op, m),
                    kernel: KernelConfig::new(kernel, &values),
                    seed: 9,
                };
                if let Err(e) = backend.prepare_verified(&spec, bounds_checks) {
                    panic!("{} {m} checks {bounds_checks}: {e}", spec.id());
                }
            }
        }
    }
}

/// The 64-bit copy (`VEC` 8: `vec4<u64>` elements holding the f32 words) moves the right
/// words: fewer elements than a workgroup, and three blocks of four per invocation plus a
/// partial one, with naga's bounds checks on and off. An adapter without `shader_int64` says
/// so instead of running it.
#[test]
fn wide_copy_verifies() {
    use fleetbench::gpu::{open_device, AdapterSelector, WgpuBackend};
    use fleetbench::kernels::{Kernel, KernelConfig};
    use fleetbench::measure::backend::{Backend, CaseSpec};
    use fleetbench::workload::{Op, Workload};
    if !gpu_available() {
        return;
    }
    let backend = WgpuBackend::new(open_device(&AdapterSelector::Best, None).unwrap());
    let int64 = backend.adapter().has_feature("shader_int64");
    for (m, per) in [(8 * 60, 1), (8 * (256 * 4 * 3 + 5), 4)] {
        for bounds_checks in [true, false] {
            let values = [("WG_X", 256), ("VEC", 8), ("PER", per)];
            let kernel = KernelConfig::new(Kernel::Copy, &values);
            if !int64 {
                let reason = kernel.unsupported_reason(backend.adapter()).unwrap();
                assert!(reason.contains("shader_int64"), "{reason}");
                continue;
            }
            let spec = CaseSpec {
                workload: Workload::stream(Op::Copy, m),
                kernel,
                seed: 9,
            };
            if let Err(e) = backend.prepare_verified(&spec, bounds_checks) {
                panic!("{} {m} checks {bounds_checks}: {e}", spec.id());
            }
        }
    }
}
