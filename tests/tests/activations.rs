//! Every built-in activation's value and derivative, as the dense path computes them at the
//! SIMD level in use, against the f64 definitions in `embergrad_tests` (written independently
//! of the core), over a dense sweep, random values and edge values. The values go through a
//! one-input, one-output layer with weight 1 and bias 0, one sample per value, so the forward
//! pass returns `f(z)` and the backward pass's input gradient is `g·f'(z)`, whatever the
//! activation keeps for its derivative (output, input or stored derivative).

use embergrad::{Activation, LayerSpec, Spec};
use embergrad_tests::{activation_derivative_f64, activation_f64};
use proptest::prelude::*;

/// Relative tolerance of values and derivatives, with an absolute floor of [`FLOOR`] (a
/// derivative crosses zero for GELU and Mish, where no relative bound can hold).
const RELATIVE: f64 = 1e-5;
/// Absolute floor: a few ulps of 1, the scale of every derivative here.
const FLOOR: f64 = 5e-7;

/// `(f(z), g·f'(z))` for every `z` as the core computes them.
fn through_a_layer(activation: Activation, z: &[f32], g: &[f32]) -> (Vec<f32>, Vec<f32>) {
    let layers = [LayerSpec::new(1, 1, activation)];
    let spec = Spec::new(&layers);
    let params = [1.0f32, 0.0];
    let batch = z.len();
    let mut workspace = vec![0.0; spec.workspace_len(batch)];
    let outputs = spec.forward(&params, z, batch, &mut workspace).unwrap().to_vec();
    let mut grads = [0.0; 2];
    let mut grad_input = vec![0.0; batch];
    spec.backward(&params, z, batch, &mut workspace, g, &mut grads, Some(&mut grad_input)).unwrap();
    (outputs, grad_input)
}

fn close(actual: f32, expected: f64) -> bool {
    let expected = f64::from(expected as f32); // what f32 can hold
    (f64::from(actual) - expected).abs() <= RELATIVE * expected.abs() + FLOOR
}

/// Checks every activation on `z` (as one batch, so values land in full vectors and the tail).
fn check_all(z: &[f32]) -> Result<(), String> {
    let g: Vec<f32> = (0..z.len()).map(|i| if i % 2 == 0 { 1.0 } else { -0.5 }).collect();
    for activation in Activation::ALL {
        let (values, grads) = through_a_layer(activation, z, &g);
        for ((&zi, &gi), (&y, &d)) in z.iter().zip(&g).zip(values.iter().zip(&grads)) {
            let expected = activation_f64(activation, f64::from(zi));
            if !close(y, expected) {
                return Err(format!("{}({zi:e}) = {y:e}, reference {expected:e}", activation.name()));
            }
            let expected = f64::from(gi) * activation_derivative_f64(activation, f64::from(zi));
            if !close(d, expected) {
                return Err(format!("{}'({zi:e})·{gi} = {d:e}, reference {expected:e}", activation.name()));
            }
        }
    }
    Ok(())
}

#[test]
fn a_dense_sweep() {
    // Every 1/256 from -40 to 40: both saturated tails of every member and all in between.
    let z: Vec<f32> = (-40 * 256..=40 * 256).map(|i| i as f32 / 256.0).collect();
    check_all(&z).unwrap();
}

#[test]
fn edge_values() {
    let edges = [
        0.0, -0.0, 1e-30, -1e-30, 1e-40, -1e-40, 1e-4, -1e-4, 19.99, 20.0, 20.01, -20.0, 80.0, -80.0, 100.0, -100.0,
        1e10, -1e10,
    ];
    check_all(&edges).unwrap();
    for z in edges {
        check_all(&[z]).unwrap();
    }
}

#[test]
fn nan_stays_nan() {
    for activation in Activation::ALL {
        let (values, _) = through_a_layer(activation, &[f32::NAN, 1.0, f32::NAN], &[1.0; 3]);
        assert!(values[0].is_nan() && values[2].is_nan(), "{} hides NaN: {values:?}", activation.name());
    }
}

proptest! {
    #[test]
    fn random_values(z in prop::collection::vec(-50.0f32..50.0, 1..70)) {
        check_all(&z).map_err(TestCaseError::fail)?;
    }
}
