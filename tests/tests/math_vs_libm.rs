//! The vectorized exp, sigmoid and tanh against float64 references (std's f64 functions,
//! which are libm's): relative error at most 1e-6 for every normal result, no NaN for a
//! finite input, and the right limits at ±inf and for NaN.

use embergrad::kernels::{exp_slice, log_sum_exp, softmax_in_place};
use embergrad::Activation;
use proptest::prelude::*;

const TOLERANCE: f64 = 1e-6;

/// Smallest positive subnormal f32: the spacing of results below f32::MIN_POSITIVE.
const SUBNORMAL_STEP: f64 = 1.401298464324817e-45;

type Kernel = fn(&mut [f32]);
type Reference = fn(f64) -> f64;

fn references() -> [(&'static str, Kernel, Reference); 3] {
    [
        ("exp", exp_slice, f64::exp),
        ("sigmoid", |v| Activation::Sigmoid.apply_slice(v), |x| 1.0 / (1.0 + (-x).exp())),
        ("tanh", |v| Activation::Tanh.apply_slice(v), f64::tanh),
    ]
}

/// Checks one kernel on `inputs` (run as one slice, so values land in lanes and in the tail).
fn check(name: &str, kernel: Kernel, reference: Reference, inputs: &[f32]) -> Result<(), String> {
    let mut values = inputs.to_vec();
    kernel(&mut values);
    for (&x, &y) in inputs.iter().zip(&values) {
        let expected = reference(f64::from(x));
        let ok = if x.is_nan() {
            y.is_nan()
        } else if y.is_nan() {
            false
        } else if expected.abs() < f64::from(f32::MIN_POSITIVE) || expected.abs() > f64::from(f32::MAX) {
            // Subnormal or out-of-range results: within a couple of subnormal steps, or the
            // same infinity.
            (f64::from(y) - expected).abs() <= 2.0 * SUBNORMAL_STEP
                || (y.is_infinite() && expected > f64::from(f32::MAX))
        } else {
            (f64::from(y) - expected).abs() <= TOLERANCE * expected.abs()
        };
        if !ok {
            return Err(format!("{name}({x:e}) = {y:e}, reference {expected:e}"));
        }
    }
    Ok(())
}

#[test]
fn edge_values() {
    let tiny = 1e-30f32;
    let subnormal = 1e-40f32;
    let edges = [
        0.0,
        -0.0,
        tiny,
        -tiny,
        subnormal,
        -subnormal,
        1.0,
        -1.0,
        0.5,
        -0.5,
        2e-4,
        -2e-4,
        9.0,
        -9.0,
        20.0,
        -20.0,
        87.0,
        -87.0,
        88.0,
        -88.0,
        88.7,
        -88.7,
        89.0,
        -89.0,
        100.0,
        -100.0,
        103.0,
        -103.0,
        104.0,
        -104.0,
        1e30,
        -1e30,
        f32::MAX,
        f32::MIN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        f32::NAN,
        f32::MIN_POSITIVE,
        -f32::MIN_POSITIVE,
    ];
    for (name, kernel, reference) in references() {
        check(name, kernel, reference, &edges).unwrap();
        // Each edge value alone too: in the tail path rather than a full vector.
        for &x in &edges {
            check(name, kernel, reference, &[x]).unwrap();
        }
    }
}

#[test]
fn a_dense_sweep_of_the_range_that_matters() {
    // Every 1/1024 from -110 to 110: the whole range where these functions are not constant.
    let inputs: Vec<f32> = (-110 * 1024..=110 * 1024).map(|i| i as f32 / 1024.0).collect();
    for (name, kernel, reference) in references() {
        check(name, kernel, reference, &inputs).unwrap();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_finite_inputs(
        bits in prop::collection::vec(any::<u32>(), 1..40),
        small in prop::collection::vec(-120.0f32..120.0, 1..40),
    ) {
        let any_finite: Vec<f32> = bits.into_iter().map(f32::from_bits).filter(|x| x.is_finite()).collect();
        for (name, kernel, reference) in references() {
            check(name, kernel, reference, &any_finite).map_err(TestCaseError::fail)?;
            check(name, kernel, reference, &small).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn softmax_rows(row in prop::collection::vec(-80.0f32..80.0, 1..50)) {
        let max = row.iter().copied().fold(f64::NEG_INFINITY, |m, v| m.max(f64::from(v)));
        let sum: f64 = row.iter().map(|&v| (f64::from(v) - max).exp()).sum();
        let lse = max + sum.ln();
        prop_assert!((f64::from(log_sum_exp(&row)) - lse).abs() <= 1e-6 * lse.abs().max(1.0));
        let mut probabilities = row.clone();
        softmax_in_place(&mut probabilities);
        for (&p, &x) in probabilities.iter().zip(&row) {
            let expected = (f64::from(x) - lse).exp();
            prop_assert!((f64::from(p) - expected).abs() <= 1e-5 * expected + 1e-30, "{p} vs {expected}");
        }
    }
}

#[test]
fn log_sum_exp_edges() {
    assert!(log_sum_exp(&[1.0, f32::NAN]).is_nan());
    assert_eq!(log_sum_exp(&[f32::INFINITY, 1.0]), f32::INFINITY);
    assert_eq!(log_sum_exp(&[]), f32::NEG_INFINITY);
    // No overflow for large logits.
    assert!((log_sum_exp(&[1000.0, 1000.0]) - (1000.0 + std::f32::consts::LN_2)).abs() < 1e-3);
}
