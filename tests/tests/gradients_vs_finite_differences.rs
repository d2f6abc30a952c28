//! Every layer, activation and loss gradient of the core against central finite differences
//! of an independent float64 reference network, on random small networks.

use embergrad::nn::TargetKind;
use embergrad::{Activation, LayerSpec, Loss, Spec, Target};
use embergrad_tests::{backprop_f64, central_differences, forward_f64, network_loss_f64, rel_err, RefTarget};
use proptest::prelude::*;

/// Step of the central differences: the error is O(h²) ≈ 1e-10 and the f64 rounding
/// O(ε/h) ≈ 1e-10, so both stay far below the tolerance.
const STEP: f64 = 1e-5;

/// The core computes in f32 (about 7 significant digits, less after sums), so its gradients
/// are held to 1e-3 relative (with a floor of 10% of the tensor's scale for small entries).
const TOLERANCE: f64 = 1e-3;

/// Pre-activations closer than this to a ReLU kink make finite differences meaningless there.
const KINK_MARGIN: f64 = 1e-3;

/// Saturation beyond which an f32 derivative computed from the output loses the digits the
/// tolerance needs: tanh' = 1 - y² and sigmoid' = y(1 - y) subtract from 1 an f32 `y` a few
/// ulps (~1e-7) off, so where that factor is 1e-4 the whole gradient behind it is ~1e-3 off
/// (seen: a tanh output with 1 - y² = 9e-5, every weight gradient 5e-4 off). Cases with a
/// factor below 1e-3 are skipped; above it the error stays under ~2.5e-4.
const SATURATION_MARGIN: f64 = 1e-3;

fn activation() -> impl Strategy<Value = Activation> {
    prop::sample::select(Activation::ALL.to_vec())
}

fn loss() -> impl Strategy<Value = Loss> {
    prop::sample::select(Loss::ALL.to_vec())
}

#[derive(Clone, Debug)]
struct Case {
    layers: Vec<LayerSpec>,
    loss: Loss,
    batch: usize,
    params: Vec<f32>,
    input: Vec<f32>,
    values: Vec<f32>,
    classes: Vec<usize>,
}

/// Small networks: every product takes the kernels' direct (unpacked) path.
fn case() -> impl Strategy<Value = Case> {
    case_with(1..=6, 1..=7, 1..=5, 1.0)
}

/// Networks whose products are large enough to take the packed GEMM path. Weights are kept
/// within ±1/√16, as an initialiser would, so pre-activations stay O(1) instead of saturating
/// every tanh (where f32's absolute rounding of a large sum would dominate the comparison).
fn packed_case() -> impl Strategy<Value = Case> {
    case_with(16..=40, 16..=40, 16..=20, 0.25)
}

fn case_with(
    width: std::ops::RangeInclusive<usize>,
    inputs: std::ops::RangeInclusive<usize>,
    batch: std::ops::RangeInclusive<usize>,
    weight_bound: f32,
) -> impl Strategy<Value = Case> {
    (prop::collection::vec((width, activation()), 1..=3), inputs, loss(), batch)
        .prop_flat_map(move |(hidden, inputs, loss, batch)| {
            let mut layers = Vec::new();
            let mut width = inputs;
            for &(out, act) in &hidden {
                layers.push(LayerSpec::new(width, out, act));
                width = out;
            }
            let spec_params = Spec::new(&layers).param_len();
            let outputs = width;
            (
                Just(layers),
                Just(loss),
                Just(batch),
                prop::collection::vec(-weight_bound..weight_bound, spec_params),
                prop::collection::vec(-2.0f32..2.0, batch * inputs),
                prop::collection::vec(0.0f32..1.0, batch * outputs),
                prop::collection::vec(0..outputs, batch),
            )
        })
        .prop_map(|(layers, loss, batch, params, input, values, classes)| Case {
            layers,
            loss,
            batch,
            params,
            input,
            values,
            classes,
        })
}

fn widen(v: &[f32]) -> Vec<f64> {
    v.iter().map(|&x| f64::from(x)).collect()
}

/// Whether the loss has a kink within [`KINK_MARGIN`] of an output: L1's `|y - t|` at
/// `y = t`, where finite differences straddle the corner (seen: a packed case with an output
/// 1e-6 from its target, the output layer's weight gradients 60% off).
fn near_loss_kink(c: &Case, params: &[f64], input: &[f64]) -> bool {
    if c.loss != Loss::L1 {
        return false;
    }
    let outputs = forward_f64(&c.layers, params, input, c.batch);
    outputs.iter().zip(&c.values).any(|(y, &t)| (y - f64::from(t)).abs() < KINK_MARGIN)
}

/// Whether any ReLU-family pre-activation lies within [`KINK_MARGIN`] of zero, or any tanh
/// or sigmoid derivative is below [`SATURATION_MARGIN`].
fn ill_conditioned(layers: &[LayerSpec], params: &[f64], input: &[f64], batch: usize) -> bool {
    let mut offset = 0;
    let mut x = input.to_vec();
    for layer in layers {
        let identity = [LayerSpec::new(layer.inputs, layer.outputs, Activation::Identity)];
        let p = &params[offset..offset + layer.param_len()];
        let z = forward_f64(&identity, p, &x, batch);
        if matches!(layer.activation, Activation::Relu | Activation::LeakyRelu)
            && z.iter().any(|v| v.abs() < KINK_MARGIN)
        {
            return true;
        }
        let saturated = |&z: &f64| match layer.activation {
            Activation::Tanh => 1.0 - z.tanh().powi(2) < SATURATION_MARGIN,
            Activation::Sigmoid => 1.0 - 1.0 / (1.0 + (-z).exp()) < SATURATION_MARGIN,
            _ => false,
        };
        if z.iter().any(saturated) {
            return true;
        }
        x = forward_f64(&[*layer], p, &x, batch);
        offset += layer.param_len();
    }
    false
}

/// Worst relative error of a tensor. The denominator's floor is the largest of: 10% of the
/// tensor's own scale (entries below it are held to 1e-4 of the scale: f32 sums that cancel
/// leave small entries with errors of that order, e.g. a tanh near saturation, whose
/// `1 - y²` is a few ulps off relative to itself, feeding a dot product whose two terms
/// cancel tenfold: 1.2e-3 relative on an entry at 5% of the scale, 5e-5 of the scale);
/// `global_floor` (for gradients, 1e-3 of the largest gradient anywhere in
/// the network: a saturated sigmoid's derivative `y(1 - y)` with `y` within 1e-6 of 1 is
/// computed in f32 from a `1 - y` that has only a few significant bits, so a whole tensor
/// behind it can be 1e-6 of the rest and 1% off, exactly as in PyTorch's f32 backward); and
/// 1e-6, well above the finite differences' own noise (about 1e-10).
fn worst(actual: &[f32], expected: &[f64], global_floor: f64) -> f64 {
    let scale = expected.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let floor = (scale * 1e-1).max(global_floor).max(1e-6);
    actual.iter().zip(expected).map(|(&a, &e)| rel_err(f64::from(a), e, floor)).fold(0.0, f64::max)
}

/// The largest magnitude of the terms behind any output: the forward pass with every weight,
/// bias and input replaced by its absolute value and no activation. Every activation's slope
/// is at most about 1.13 (GELU's largest), so an f32 rounding error anywhere in the network reaches the output no
/// larger, relative to this, than it was where it arose: an output that is a small
/// difference of large terms carries errors of a few ulps of the terms, not of itself.
fn term_magnitude(layers: &[LayerSpec], params: &[f64], input: &[f64], batch: usize) -> f64 {
    let linear: Vec<LayerSpec> =
        layers.iter().map(|l| LayerSpec::new(l.inputs, l.outputs, Activation::Identity)).collect();
    let abs = |v: &[f64]| v.iter().map(|x| x.abs()).collect::<Vec<f64>>();
    forward_f64(&linear, &abs(params), &abs(input), batch).iter().fold(0.0f64, |m, v| m.max(*v))
}

/// 1e-3 of the largest magnitude in any of `tensors`.
fn network_floor(tensors: &[&[f64]]) -> f64 {
    1e-3 * tensors.iter().flat_map(|t| t.iter()).fold(0.0f64, |m, v| m.max(v.abs()))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn gradients_match_finite_differences(c in case()) {
        check(&c)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn packed_path_gradients_match_finite_differences(c in packed_case()) {
        check(&c)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The f64 backpropagation oracle that `kernel_paths.rs` checks large shapes against is
    /// itself right: its gradients match finite differences of the f64 forward pass, in f64.
    #[test]
    fn f64_backprop_oracle_matches_finite_differences(c in case()) {
        let (params, input) = (widen(&c.params), widen(&c.input));
        prop_assume!(!ill_conditioned(&c.layers, &params, &input, c.batch));
        prop_assume!(!near_loss_kink(&c, &params, &input));
        let target = if c.loss.target_kind() == TargetKind::Classes {
            RefTarget::Classes(c.classes.clone())
        } else {
            RefTarget::Values(widen(&c.values))
        };
        let oracle = backprop_f64(&c.layers, &params, &input, c.batch, c.loss, &target);
        let fd_params = central_differences(&params, STEP, |p| network_loss_f64(&c.layers, p, &input, c.batch, c.loss, &target));
        let fd_input = central_differences(&input, STEP, |x| network_loss_f64(&c.layers, &params, x, c.batch, c.loss, &target));
        let loss = network_loss_f64(&c.layers, &params, &input, c.batch, c.loss, &target);
        prop_assert!(rel_err(oracle.loss, loss, 1e-12) < 1e-12, "loss {} vs {loss}", oracle.loss);
        for (what, ours, fd) in [("params", &oracle.grads, &fd_params), ("input", &oracle.grad_input, &fd_input)] {
            for (i, (a, e)) in ours.iter().zip(fd.iter()).enumerate() {
                prop_assert!((a - e).abs() <= 1e-7 * (1.0 + e.abs()), "{what}[{i}]: {a} vs finite differences {e}");
            }
        }
    }
}

/// Compares the core's f32 gradients for `c` with finite differences of the f64 oracle.
fn check(c: &Case) -> Result<(), TestCaseError> {
    let spec = Spec::new(&c.layers);
    let (params64, input64) = (widen(&c.params), widen(&c.input));
    prop_assume!(!ill_conditioned(&c.layers, &params64, &input64, c.batch));
    prop_assume!(!near_loss_kink(c, &params64, &input64));
    let (target, ref_target) = if c.loss.target_kind() == TargetKind::Classes {
        (Target::Classes(&c.classes), RefTarget::Classes(c.classes.clone()))
    } else {
        (Target::Values(&c.values), RefTarget::Values(widen(&c.values)))
    };

    // The core, in f32.
    let mut workspace = vec![0.0; spec.workspace_len(c.batch)];
    let output = spec.forward(&c.params, &c.input, c.batch, &mut workspace).unwrap().to_vec();
    let mut grad_output = vec![0.0; output.len()];
    let loss = c.loss.evaluate(&output, c.batch, spec.outputs(), target, Some(&mut grad_output)).unwrap();
    let mut grads = vec![0.0; spec.param_len()];
    let mut grad_input = vec![0.0; c.input.len()];
    spec.backward(&c.params, &c.input, c.batch, &mut workspace, &grad_output, &mut grads, Some(&mut grad_input))
        .unwrap();

    // The f64 oracle: forward, loss, and finite differences in params and in inputs.
    let ref_output = forward_f64(&c.layers, &params64, &input64, c.batch);
    // Small outputs are held to 1e-6 of their terms' magnitude (1e-4 relative to a floor of
    // 1e-2 of it: about 8 f32 ulps), as a sum that cancels to 3e-4 from terms near 1 is
    // computed to about 1e-7, 2e-4 of itself.
    let forward_floor = 1e-2 * term_magnitude(&c.layers, &params64, &input64, c.batch);
    prop_assert!(worst(&output, &ref_output, forward_floor) < 1e-4, "forward differs: {output:?} vs {ref_output:?}");
    let ref_loss = network_loss_f64(&c.layers, &params64, &input64, c.batch, c.loss, &ref_target);
    prop_assert!(rel_err(f64::from(loss), ref_loss, 1e-6) < 1e-4, "loss {loss} vs {ref_loss}");
    let fd_params = central_differences(&params64, STEP, |p| {
        network_loss_f64(&c.layers, p, &input64, c.batch, c.loss, &ref_target)
    });
    let fd_input = central_differences(&input64, STEP, |x| {
        network_loss_f64(&c.layers, &params64, x, c.batch, c.loss, &ref_target)
    });
    let global_floor = network_floor(&[&fd_params, &fd_input]);
    // Compare layer by layer (weights and biases separately) so each tensor has its own scale.
    for (offset, layer) in spec.layer_offsets() {
        for (start, end, what) in [
            (offset, offset + layer.weight_len(), "weights"),
            (offset + layer.weight_len(), offset + layer.param_len(), "biases"),
        ] {
            let err = worst(&grads[start..end], &fd_params[start..end], global_floor);
            prop_assert!(
                err < TOLERANCE,
                "{what} of {layer:?}: error {err:e}\n{:?}\n{:?}",
                &grads[start..end],
                &fd_params[start..end]
            );
        }
    }
    let err = worst(&grad_input, &fd_input, global_floor);
    prop_assert!(err < TOLERANCE, "input gradient error {err:e}");
    Ok(())
}
