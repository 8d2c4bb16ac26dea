//! Every fault from the verification notes, planted into a correct output, must fail the
//! check; correct outputs (correctly rounded, or accumulated in f32 as a kernel does) pass.

use super::*;
use crate::results::VerifyMethod;
use crate::workload::{int8_inputs, int8_reference, matmul_inputs, matmul_reference};

const F32_TOL: f64 = 1e-4;

fn shape(m: usize, n: usize, k: usize) -> MatmulShape {
    MatmulShape { m, n, k }
}

/// Inputs, their O(n²) reference and the correctly rounded product.
fn float_case(s: MatmulShape) -> (Vec<f32>, Vec<f32>, FloatReference, Vec<f32>) {
    let (a, b) = matmul_inputs(s.m as u64, s.n as u64, s.k as u64, 11);
    let reference = FloatReference::sampled(&a, &b, s, F32_TOL, 11).unwrap();
    let c = matmul_reference(&a, &b, s.m, s.n, s.k);
    let c: Vec<f32> = c.iter().map(|v| *v as f32).collect();
    (a, b, reference, c)
}

/// The product as a kernel computes it: f32 accumulation in order over k.
fn f32_accumulated(a: &[f32], b: &[f32], s: MatmulShape) -> Vec<f32> {
    let mut c = vec![0.0f32; s.m * s.n];
    for i in 0..s.m {
        for p in 0..s.k {
            let av = a[i * s.k + p];
            for j in 0..s.n {
                c[i * s.n + j] = av.mul_add(b[p * s.n + j], c[i * s.n + j]);
            }
        }
    }
    c
}

fn fails(reference: &FloatReference, got: &[f32], fault: &str) {
    let v = reference.check(got);
    assert!(!v.passed(), "{fault} passed: {v:?}");
}

#[test]
fn correct_outputs_pass_the_sampled_check() {
    let s = shape(160, 96, 512);
    let (a, b, reference, c) = float_case(s);
    let v = reference.check(&c);
    assert!(v.passed(), "{v:?}");
    assert_eq!(v.method, VerifyMethod::Freivalds);
    assert_eq!(v.vectors, FLOAT_VECTORS as u64);
    let lines = FLOAT_LINES;
    assert_eq!(
        (v.rows_checked.len(), v.columns_checked.len()),
        (lines, lines)
    );
    assert_eq!(
        v.checked_elements as usize,
        lines * 96 + lines * 160 - lines * lines
    );
    assert_eq!(v.vector_range, None);
    assert!(v.host_s.unwrap() > 0.0);
    let accumulated = reference.check(&f32_accumulated(&a, &b, s));
    assert!(accumulated.passed(), "{accumulated:?}");
    assert!(accumulated.rel_error > 0.0 && accumulated.rel_error < 1e-6);
}

#[test]
fn every_planted_fault_fails_the_sampled_check() {
    let s = shape(192, 192, 256);
    let (a, b, reference, c) = float_case(s);
    let rms = (c.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / c.len() as f64).sqrt();
    let v = reference.check(&c);
    let sampled_row = v.rows_checked[0] as usize;
    // An element outside every sampled row and column: only the projections can see it.
    let (i, j) = (
        (0..192)
            .find(|r| !v.rows_checked.contains(&(*r as u64)))
            .unwrap(),
        0usize,
    );
    let j = (j..192)
        .find(|c| !v.columns_checked.contains(&(*c as u64)))
        .unwrap();
    let mut one = c.clone();
    one[i * 192 + j] += rms as f32;
    fails(&reference, &one, "one wrong element");
    let mut in_row = c.clone();
    in_row[sampled_row * 192 + 5] += (rms * 0.01) as f32;
    fails(&reference, &in_row, "a small error in a sampled row");
    let mut tile = c.clone();
    for r in 32..48 {
        tile[r * 192 + 64..r * 192 + 80].fill(0.0);
    }
    fails(&reference, &tile, "one wrong 16x16 tile");
    let transposed: Vec<f32> = (0..192 * 192)
        .map(|x| c[(x % 192) * 192 + x / 192])
        .collect();
    fails(&reference, &transposed, "transposed output");
    let short = shape(192, 192, 255);
    let (a_short, b_short) = (drop_last_k(&a, s), b[..255 * 192].to_vec());
    let k_minus_1 = matmul_reference(&a_short, &b_short, short.m, short.n, short.k);
    let k_minus_1: Vec<f32> = k_minus_1.iter().map(|v| *v as f32).collect();
    fails(&reference, &k_minus_1, "product over K-1");
    let scaled: Vec<f32> = c.iter().map(|v| v * (1.0 + 1e-3)).collect();
    fails(&reference, &scaled, "output scaled by 1+1e-3");
    let poisoned = vec![f32::from_bits(u32::MAX); c.len()];
    fails(&reference, &poisoned, "untouched poisoned buffer");
    let mut nan = c.clone();
    nan[1000] = f32::NAN;
    let v = reference.check(&nan);
    assert_eq!(v.non_finite_elements, 1);
    assert!(v.failure().unwrap().contains("NaN or infinite"), "{v:?}");
    fails(&reference, &c[1..], "an output of the wrong length");
}

#[test]
fn a_slightly_wrong_column_is_caught_by_the_sampled_rows() {
    // At n = 1024 an error of 0.25% of the output's RMS in one whole column moves the norm
    // by 0.25%/32, under the 1e-4 tolerance, and each projection by far less than its
    // element bound: only the sampled rows, each crossing that column, can see it.
    let s = shape(1024, 1024, 64);
    let (_, _, reference, c) = float_case(s);
    let rms = (c.iter().map(|v| f64::from(*v).powi(2)).sum::<f64>() / c.len() as f64).sqrt();
    let mut column = c.clone();
    for row in column.chunks_mut(1024) {
        row[1000] += (rms * 2.5e-3) as f32;
    }
    let v = reference.check(&column);
    assert!(v.rel_error < F32_TOL, "{v:?}");
    assert!(v.failure().unwrap().contains("element error"), "{v:?}");
}

/// A (m × k) without its last column: the product over K−1.
fn drop_last_k(a: &[f32], s: MatmulShape) -> Vec<f32> {
    a.chunks(s.k)
        .flat_map(|row| row[..s.k - 1].to_vec())
        .collect()
}

#[test]
fn the_full_check_also_catches_a_single_element() {
    let s = shape(48, 40, 24);
    let (a, b) = matmul_inputs(48, 40, 24, 3);
    let reference = FloatReference::new(&a, &b, s, F32_TOL, 3).unwrap();
    assert!(!reference.is_sampled());
    let c: Vec<f32> = matmul_reference(&a, &b, 48, 40, 24)
        .iter()
        .map(|v| *v as f32)
        .collect();
    let v = reference.check(&c);
    assert!(v.passed() && v.method == VerifyMethod::Full, "{v:?}");
    let mut one = c;
    one[7] += 0.5;
    assert!(!reference.check(&one).passed());
}

#[test]
fn the_method_follows_the_size() {
    assert!(!uses_sampled_check(shape(512, 512, 512)));
    assert!(uses_sampled_check(shape(2048, 2048, 2048)));
    let s = shape(1024, 1024, 512);
    let (a, b) = matmul_inputs(1024, 1024, 512, 5);
    let reference = FloatReference::new(&a, &b, s, F32_TOL, 5).unwrap();
    assert!(reference.is_sampled());
    let zeros = vec![0.0f32; s.outputs()];
    assert!(reference.check(&zeros).host_s.is_some());
    assert!(FloatReference::new(&a[1..], &b, s, F32_TOL, 5).is_err());
}

#[test]
fn draws_are_repeatable_from_the_recorded_seed() {
    let s = shape(160, 96, 64);
    let (a, b) = matmul_inputs(160, 96, 64, 9);
    let one = FloatReference::sampled(&a, &b, s, F32_TOL, 9).unwrap();
    let two = FloatReference::sampled(&a, &b, s, F32_TOL, 9).unwrap();
    let zeros = vec![0.0f32; s.outputs()];
    let (v1, v2) = (one.check(&zeros), two.check(&zeros));
    assert_eq!(v1.rows_checked, v2.rows_checked);
    assert_eq!(v1.check_seed, Some(9));
    let other = FloatReference::sampled(&a, &b, s, F32_TOL, 10).unwrap();
    assert_ne!(other.check(&zeros).rows_checked, v1.rows_checked);
}

fn int_case(s: MatmulShape) -> (Vec<i8>, Vec<i8>, Vec<i32>) {
    let (a, b) = int8_inputs(s.m as u64, s.n as u64, s.k as u64, 4);
    let c = int8_reference(&a, &b, s.m, s.n, s.k);
    (a, b, c)
}

#[test]
fn integer_checks_are_exact_at_every_size() {
    let big = shape(1024, 1024, 320);
    let (a, b) = int8_inputs(1024, 1024, 320, 4);
    assert!(IntReference::new(&a, &b, big, 4).is_ok());
    let s = shape(128, 128, 64);
    let (a, b, c) = int_case(s);
    let full = IntReference::new(&a, &b, s, 4).unwrap();
    assert!(full.check(&c).passed());
    let mut one = c.clone();
    one[77] += 1;
    assert!(!full.check(&one).passed());
}

#[test]
fn every_planted_fault_fails_the_sampled_integer_check() {
    let s = shape(128, 128, 64);
    let (a, b, c) = int_case(s);
    let reference = IntReference::sampled(&a, &b, s, 4).unwrap();
    let v = reference.check(&c);
    assert!(v.passed() && v.method == VerifyMethod::Freivalds, "{v:?}");
    assert_eq!(v.vectors, INT_VECTORS as u64);
    assert_eq!(v.vector_range, Some(INT_RANGE));
    assert_eq!(v.rows_checked.len(), INT_LINES);
    let bad = |got: &[i32], fault: &str| {
        let v = reference.check(got);
        assert!(!v.passed(), "{fault} passed: {v:?}");
    };
    for index in [0, 5000, 128 * 128 - 1] {
        let mut one = c.clone();
        one[index] += 1;
        bad(&one, "one element off by one");
    }
    let mut tile = c.clone();
    for r in 16..32 {
        tile[r * 128 + 16..r * 128 + 32].fill(0);
    }
    bad(&tile, "one wrong 16x16 tile");
    let transposed: Vec<i32> = (0..128 * 128)
        .map(|x| c[(x % 128) * 128 + x / 128])
        .collect();
    bad(&transposed, "transposed output");
    let a_short: Vec<i8> = a.chunks(64).flat_map(|r| r[..63].to_vec()).collect();
    bad(
        &int8_reference(&a_short, &b[..63 * 128], 128, 128, 63),
        "product over K-1",
    );
    bad(&vec![-1; c.len()], "untouched poisoned buffer");
    let mut beyond = c.clone();
    beyond[300] = i32::MAX;
    bad(&beyond, "a value no correct output can hold");
    let mut offset = c.clone();
    for (index, value) in offset.iter_mut().enumerate() {
        // Off by one where the row and column sums cancel: every row and column sum stays.
        *value += [1, -1][(index / 128 + index % 128) % 2];
    }
    bad(&offset, "a checkerboard of ±1 errors");
}

#[test]
fn integer_checks_refuse_shapes_beyond_their_headroom() {
    // k·n = 2^31 + 2^16: the projections' sums could leave f64's exact integers.
    let err = IntReference::sampled(&[], &[], shape(1, (1 << 15) + 1, 1 << 16), 1);
    assert!(err.err().unwrap().to_string().contains("headroom"));
    // k = 2^17: a correct output could leave i32.
    let err = IntReference::sampled(&[], &[], shape(1, 1, 1 << 17), 1);
    assert!(err.err().unwrap().to_string().contains("headroom"));
    // Just inside: refused only for the inputs' lengths.
    let err = IntReference::sampled(&[], &[], shape(1, 1 << 15, 1 << 16), 1);
    assert!(err.err().unwrap().to_string().contains("do not match"));
}

#[test]
fn old_verification_records_load_as_full_checks() {
    let json = r#"{"rel_error":1e-7,"tolerance":1e-4,"reference":"cpu_f64",
                   "checked_elements":4,"total_elements":4}"#;
    let v: crate::results::Verification = serde_json::from_str(json).unwrap();
    assert_eq!(v.method, VerifyMethod::Full);
    assert!(v.passed() && v.host_s.is_none());
}

#[test]
fn the_fused_passes_form_what_separate_products_would() {
    // k spans three bands of B's rows with a remainder block; n is no multiple of anything.
    let s = shape(37, 53, 1030);
    let (a, b) = matmul_inputs(37, 53, 1030, 21);
    let x: Vec<[f64; 3]> = (0..53)
        .map(|j| [1.0 + j as f64 / 53.0, -1.5, (j % 5) as f64 - 2.0])
        .collect();
    let (rows, columns) = ([0usize, 17, 36], [3usize, 29, 52]);
    let formed = linalg::sampled_products::<_, f64, 3, 3, 6>(&a, &b, s, &x, &rows, &columns);
    let c = matmul_reference(&a, &b, s.m, s.n, s.k);
    let close = |got: f64, want: f64| (got - want).abs() <= 1e-9 * (1.0 + want.abs());
    for i in 0..s.m {
        for (v, got) in formed.z[i].iter().enumerate() {
            let want: f64 = (0..s.n).map(|j| c[i * s.n + j] * x[j][v]).sum();
            assert!(close(*got, want), "z[{i}][{v}]");
        }
        for (lane, &j) in columns.iter().enumerate() {
            assert!(close(formed.column_values[i][lane], c[i * s.n + j]));
        }
    }
    for j in 0..s.n {
        for (lane, &i) in rows.iter().enumerate() {
            assert!(close(formed.row_values[j][lane], c[i * s.n + j]));
        }
    }
}

#[test]
fn two_opposite_errors_in_one_row_do_not_cancel() {
    // With ±1 entries these two errors would vanish from their row's projection whenever the
    // two entries agree (half the vectors); entries s·(1+u) never agree exactly.
    let s = shape(192, 192, 256);
    let (_, _, reference, c) = float_case(s);
    let v = reference.check(&c);
    let outside = |picked: &[u64]| (0..192).find(|r| !picked.contains(&(*r as u64))).unwrap();
    let i = outside(&v.rows_checked);
    let free: Vec<usize> = (0..192)
        .filter(|j| !v.columns_checked.contains(&(*j as u64)))
        .collect();
    for pair in free.windows(2).take(20) {
        let mut pair_fault = c.clone();
        pair_fault[i * 192 + pair[0]] += 8.0;
        pair_fault[i * 192 + pair[1]] -= 8.0;
        fails(&reference, &pair_fault, "two opposite errors in one row");
    }
}
