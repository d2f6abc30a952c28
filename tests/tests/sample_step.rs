//! The per-sample path (`Spec::sample_step`) against the batch path: the same outputs, and
//! one fused SGD step equal to `loss_and_gradients` on a batch of one followed by an SGD
//! step, for random small networks with every activation and loss; its errors change nothing.

use embergrad::nn::TargetKind;
use embergrad::optim::{Sgd, Step};
use embergrad::{Activation, Batch, Error, LayerSpec, Loss, Spec, Target};
use embergrad_tests::rel_err;
use proptest::prelude::*;

fn network() -> impl Strategy<Value = (Vec<LayerSpec>, Loss, Vec<f32>, Vec<f32>, Vec<f32>, usize)> {
    let activation = prop::sample::select(Activation::ALL.to_vec());
    (1usize..=20, prop::collection::vec((1usize..=20, activation), 1..=3), prop::sample::select(Loss::ALL.to_vec()))
        .prop_flat_map(|(inputs, hidden, loss)| {
            let mut layers = Vec::new();
            let mut width = inputs;
            for &(out, act) in &hidden {
                layers.push(LayerSpec::new(width, out, act));
                width = out;
            }
            let params = Spec::new(&layers).param_len();
            (
                Just(layers),
                Just(loss),
                prop::collection::vec(-0.7f32..0.7, params),
                prop::collection::vec(-2.0f32..2.0, inputs),
                prop::collection::vec(0.0f32..1.0, width),
                0..width,
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn one_sample_matches_the_batch_path((layers, loss, params, input, values, class) in network()) {
        let spec = Spec::new(&layers);
        let classes = [class];
        let target = if loss.target_kind() == TargetKind::Classes { Target::Classes(&classes) } else { Target::Values(&values) };
        let mut workspace = vec![0.0; spec.workspace_len(1)];
        let batch_output = spec.forward(&params, &input, 1, &mut workspace).unwrap().to_vec();
        let mut grads = vec![0.0; spec.param_len()];
        let batch_loss = spec.loss_and_gradients(&params, &Batch::new(&input, target, 1), loss, &mut grads, &mut workspace);
        let mut expected = params.clone();
        let lr = 0.3;
        Sgd::new(lr).step(&mut 0, &mut expected, &grads, &mut []).unwrap();

        let mut sample_workspace = vec![0.0; spec.workspace_len(1)];
        let mut step = spec.sample_step(&mut sample_workspace).unwrap();
        let output = step.forward(&params, &input).unwrap().to_vec();
        for (a, b) in output.iter().zip(&batch_output) {
            prop_assert!((a - b).abs() <= 2e-6 * b.abs().max(1.0), "forward {a} vs {b}");
        }
        let mut stepped = params.clone();
        let sample_loss = step.sgd(&mut stepped, &input, target, loss, lr);
        match batch_loss {
            Ok(l) => {
                let s = sample_loss.unwrap();
                prop_assert!(rel_err(f64::from(s), f64::from(l), 1e-6) < 1e-4, "loss {s} vs {l}");
                let scale = params.iter().zip(&expected).map(|(p, e)| (p - e).abs()).fold(0.0f32, f32::max).max(1e-3);
                for (i, (a, b)) in stepped.iter().zip(&expected).enumerate() {
                    prop_assert!((a - b).abs() <= 1e-4 * scale + 1e-6, "param {i}: {a} vs {b} (step scale {scale})");
                }
            }
            Err(e) => {
                prop_assert_eq!(sample_loss.unwrap_err(), e);
                prop_assert_eq!(&stepped, &params);
            }
        }
    }
}

#[test]
fn errors_change_nothing() {
    let layers = [LayerSpec::new(2, 3, Activation::Tanh), LayerSpec::new(3, 2, Activation::Identity)];
    let spec = Spec::new(&layers);
    let mut small = vec![0.0; spec.workspace_len(1) - 1];
    assert!(matches!(spec.sample_step(&mut small), Err(Error::BufferTooSmall { .. })));
    let mut workspace = vec![0.0; spec.workspace_len(1)];
    let mut step = spec.sample_step(&mut workspace).unwrap();
    let params: Vec<f32> = (0..spec.param_len()).map(|i| i as f32 * 0.1).collect();
    let mut p = params.clone();
    let ce = Loss::SoftmaxCrossEntropy;
    assert!(matches!(
        step.sgd(&mut p, &[1.0], Target::Classes(&[0]), ce, 0.1),
        Err(Error::LengthMismatch { buffer: "input", .. })
    ));
    assert!(matches!(
        step.sgd(&mut p[1..], &[1.0, 2.0], Target::Classes(&[0]), ce, 0.1),
        Err(Error::LengthMismatch { .. })
    ));
    assert!(matches!(
        step.sgd(&mut p, &[1.0, 2.0], Target::Classes(&[2]), ce, 0.1),
        Err(Error::LabelOutOfRange { .. })
    ));
    assert!(matches!(
        step.sgd(&mut p, &[1.0, 2.0], Target::Values(&[0.0, 1.0]), ce, 0.1),
        Err(Error::TargetKindMismatch { .. })
    ));
    assert!(matches!(
        step.sgd(&mut p, &[1.0, 2.0], Target::Classes(&[0]), ce, f32::NAN),
        Err(Error::InvalidHyperParameter { .. })
    ));
    assert_eq!(step.sgd(&mut p, &[f32::INFINITY, 2.0], Target::Classes(&[0]), ce, 0.1), Err(Error::NonFiniteLoss));
    assert_eq!(p, params, "a failed step changed the params");
}

#[test]
fn custom_activations_are_refused() {
    fn square(z: embergrad::graph::f32x8) -> (embergrad::graph::f32x8, embergrad::graph::f32x8) {
        (z * z, z + z)
    }
    const SQUARE: Activation = Activation::Custom(embergrad::CustomActivation::new("square", square));
    let layers = [LayerSpec::new(2, 3, SQUARE)];
    let spec = Spec::new(&layers);
    let mut workspace = vec![0.0; spec.workspace_len(1)];
    assert!(matches!(spec.sample_step(&mut workspace), Err(Error::InvalidSpec { layer: 0, .. })));
}
