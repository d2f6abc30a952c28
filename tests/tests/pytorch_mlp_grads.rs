//! Reproduces `tests/fixtures/pytorch/mlp_grads.json` and `family_grads.json`: outputs, loss
//! and every gradient that PyTorch computed, from the same weights and data, in f32.

use embergrad::nn::TargetKind;
use embergrad::{Activation, Batch, Loss, Spec, Target};
use embergrad_tests::{mlp_cases, mlp_cases_from, rel_err, MlpCase};

/// Worst relative error allowed against PyTorch's float64 values.
const TOLERANCE: f64 = 1e-4;

/// Floor of the relative error's denominator, as a fraction of the tensor's largest magnitude.
/// The fixture's float64 weights and inputs are rounded to f32 before we start (a relative
/// change of up to 6e-8 each); an entry 100x smaller than its tensor's largest comes out of
/// sums that cancel, where that rounding of the large terms alone moves it by more than 1e-4
/// of itself. Such entries are held to 1e-4 of 1% of the tensor's scale instead (like `atol`
/// in `torch.allclose`); every other entry to 1e-4 of itself.
const FLOOR_FRACTION: f64 = 1e-2;

fn worst_error(actual: &[f32], expected: &[f64]) -> f64 {
    assert_eq!(actual.len(), expected.len());
    let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let floor = (scale * FLOOR_FRACTION).max(f64::MIN_POSITIVE);
    actual.iter().zip(expected).map(|(&a, &e)| rel_err(f64::from(a), e, floor)).fold(0.0, f64::max)
}

fn to_f32(values: &[f64]) -> Vec<f32> {
    values.iter().map(|&v| v as f32).collect()
}

#[test]
fn every_case_matches_pytorch() {
    let cases = mlp_cases();
    assert!(cases.len() >= 30, "fixture has {} cases", cases.len());
    check_cases(&cases);
}

/// The newer activations (GELU, GELU-tanh, SiLU, ELU, softplus, Mish) and losses (Huber with
/// two deltas, L1, label smoothing); every built-in member appears in one fixture or the other.
#[test]
fn every_family_case_matches_pytorch() {
    let cases = mlp_cases_from("family_grads.json");
    assert_eq!(cases.len(), 36, "family fixture");
    let mut all = mlp_cases();
    all.extend(cases.iter().cloned());
    for activation in Activation::ALL {
        let used = all.iter().any(|c| c.layers.iter().any(|l| l.activation == activation));
        assert!(used, "no PyTorch case uses {}", activation.name());
    }
    for loss in Loss::ALL {
        let used = all.iter().any(|c| c.loss.name() == loss.name());
        assert!(used, "no PyTorch case uses {}", loss.name());
    }
    check_cases(&cases);
}

fn check_cases(cases: &[MlpCase]) {
    let mut overall_worst = 0.0f64;
    for case in cases {
        let (name, batch, loss) = (&case.name, case.batch, case.loss);
        let spec = Spec::new(&case.layers);
        let params = to_f32(&case.params);
        let input = to_f32(&case.input);
        let values = to_f32(&case.target_values);
        let target = if loss.target_kind() == TargetKind::Classes {
            Target::Classes(&case.target_classes)
        } else {
            Target::Values(&values)
        };

        let mut workspace = vec![0.0; spec.workspace_len(batch)];
        let output = spec.forward(&params, &input, batch, &mut workspace).unwrap().to_vec();
        let mut grad_output = vec![0.0; output.len()];
        let loss_value = loss.evaluate(&output, batch, spec.outputs(), target, Some(&mut grad_output)).unwrap();
        let mut grads = vec![0.0; spec.param_len()];
        let mut grad_input = vec![0.0; input.len()];
        spec.backward(&params, &input, batch, &mut workspace, &grad_output, &mut grads, Some(&mut grad_input)).unwrap();

        let mut errors = vec![
            ("output", worst_error(&output, &case.output)),
            ("loss", rel_err(f64::from(loss_value), case.loss_value, 1e-12)),
            ("grad_input", worst_error(&grad_input, &case.grad_input)),
        ];
        for (offset, layer) in spec.layer_offsets() {
            let weights = offset..offset + layer.weight_len();
            let biases = offset + layer.weight_len()..offset + layer.param_len();
            errors.push(("grad_weights", worst_error(&grads[weights.clone()], &case.grads[weights])));
            errors.push(("grad_biases", worst_error(&grads[biases.clone()], &case.grads[biases])));
        }

        // The same loss and gradients through the fused entry point.
        let mut fused_grads = vec![0.0; spec.param_len()];
        let batch_ref = Batch::new(&input, target, batch);
        let fused_loss = spec.loss_and_gradients(&params, &batch_ref, loss, &mut fused_grads, &mut workspace).unwrap();
        assert_eq!(fused_loss, loss_value, "{name}: fused loss");
        assert_eq!(fused_grads, grads, "{name}: fused gradients");

        for (what, err) in errors {
            assert!(err <= TOLERANCE, "{name}: {what} relative error {err:e} > {TOLERANCE:e}");
            overall_worst = overall_worst.max(err);
        }
    }
    println!("worst relative error over {} cases: {overall_worst:e}", cases.len());
}
