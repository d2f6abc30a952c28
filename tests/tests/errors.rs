//! Every kind of bad input gets its `Error`, and nothing is modified when a call fails.

use embergrad::optim::Sgd;
use embergrad::Step;
use embergrad::{accuracy, init_params, Activation, Batch, Error, Init, LayerSpec, Loss, Mlp, Rng, Spec, Target};
use proptest::prelude::*;

const LAYERS: [LayerSpec; 2] = [LayerSpec::new(3, 5, Activation::Relu), LayerSpec::new(5, 2, Activation::Identity)];
const NET: Spec<'static> = Spec::new(&LAYERS);

fn params() -> Vec<f32> {
    let mut p = vec![0.0; NET.param_len()];
    init_params(&NET, &mut p, Init::Auto, &mut Rng::new(3)).unwrap();
    p
}

#[test]
fn invalid_specs_are_rejected() {
    let empty = Spec::new(&[]);
    assert!(matches!(empty.validate(), Err(Error::InvalidSpec { layer: 0, .. })));
    let zero = [LayerSpec::new(3, 0, Activation::Relu)];
    assert!(matches!(Spec::new(&zero).validate(), Err(Error::InvalidSpec { layer: 0, .. })));
    let broken_chain = [LayerSpec::new(3, 4, Activation::Relu), LayerSpec::new(5, 2, Activation::Identity)];
    let err = Spec::new(&broken_chain).validate().unwrap_err();
    assert!(matches!(err, Error::InvalidSpec { layer: 1, .. }), "{err}");
    assert!(err.to_string().contains("layer 1"), "{err}");
    let mut ws = vec![0.0; 100];
    assert!(Spec::new(&broken_chain).forward(&[0.0; 33], &[0.0; 3], 1, &mut ws).is_err());
    assert!(Mlp::new(&broken_chain, Init::Auto, &mut Rng::new(1)).is_err());
    // Each layer addressable on its own, the network's total not: an error, not an overflow.
    let huge = [LayerSpec::new(1 << 31, 1 << 31, Activation::Relu); 5];
    let err = Spec::new(&huge).validate().unwrap_err();
    assert!(err.to_string().contains("too large"), "{err}");
    assert!(Spec::new(&huge).forward(&[], &[], 1, &mut ws).is_err());
}

#[test]
fn wrong_lengths_name_the_buffer() {
    let p = params();
    let mut ws = vec![0.0; NET.workspace_len(2)];
    let err = NET.forward(&p[1..], &[0.0; 6], 2, &mut ws).unwrap_err();
    assert_eq!(err, Error::LengthMismatch { buffer: "params", expected: NET.param_len(), actual: NET.param_len() - 1 });
    let err = NET.forward(&p, &[0.0; 5], 2, &mut ws).unwrap_err();
    assert_eq!(err, Error::LengthMismatch { buffer: "input", expected: 6, actual: 5 });
    assert!(err.to_string().contains("`input` has length 5, expected 6"), "{err}");
    assert_eq!(NET.forward(&p, &[], 0, &mut ws).unwrap_err(), Error::EmptyBatch);
    // An absurd batch size overflows nothing: it is just a mismatch.
    assert!(matches!(NET.forward(&p, &[0.0; 6], usize::MAX, &mut ws), Err(Error::LengthMismatch { .. })));
}

#[test]
fn a_short_workspace_is_reported_with_the_size_needed() {
    let p = params();
    let mut ws = vec![0.0; NET.forward_workspace_len(2) - 1];
    let err = NET.forward(&p, &[0.0; 6], 2, &mut ws).unwrap_err();
    assert_eq!(
        err,
        Error::BufferTooSmall { buffer: "workspace", needed: NET.forward_workspace_len(2), actual: ws.len() }
    );
    // Forward alone needs less than forward + backward.
    let mut ws = vec![0.0; NET.forward_workspace_len(2)];
    assert!(NET.forward(&p, &[0.0; 6], 2, &mut ws).is_ok());
    let mut grads = vec![0.0; NET.param_len()];
    let batch = Batch::new(&[0.0; 6], Target::Classes(&[0, 1]), 2);
    let err = NET.loss_and_gradients(&p, &batch, Loss::SoftmaxCrossEntropy, &mut grads, &mut ws).unwrap_err();
    assert!(matches!(err, Error::BufferTooSmall { buffer: "workspace", .. }), "{err}");
}

#[test]
fn labels_out_of_range_and_wrong_target_kinds() {
    let p = params();
    let mut grads = vec![7.0; NET.param_len()];
    let mut ws = vec![0.0; NET.workspace_len(2)];
    let batch = Batch::new(&[0.0; 6], Target::Classes(&[0, 2]), 2);
    let err = NET.loss_and_gradients(&p, &batch, Loss::SoftmaxCrossEntropy, &mut grads, &mut ws).unwrap_err();
    assert_eq!(err, Error::LabelOutOfRange { sample: 1, label: 2, classes: 2 });
    assert!(grads.iter().all(|&g| g == 7.0), "grads were modified on error");
    let err = NET.loss_and_gradients(&p, &batch, Loss::Mse, &mut grads, &mut ws).unwrap_err();
    assert!(matches!(err, Error::TargetKindMismatch { loss: "mse", .. }), "{err}");
    let values = Batch::new(&[0.0; 6], Target::Values(&[0.0; 4]), 2);
    let err = NET.loss_and_gradients(&p, &values, Loss::SoftmaxCrossEntropy, &mut grads, &mut ws).unwrap_err();
    assert!(matches!(err, Error::TargetKindMismatch { loss: "softmax_ce", .. }), "{err}");
    let short = Batch::new(&[0.0; 6], Target::Values(&[0.0; 3]), 2);
    let err = NET.loss_and_gradients(&p, &short, Loss::Mse, &mut grads, &mut ws).unwrap_err();
    assert_eq!(err, Error::LengthMismatch { buffer: "target", expected: 4, actual: 3 });
    assert_eq!(
        accuracy(&[0.0; 3], 2, &[0, 1]).unwrap_err(),
        Error::LengthMismatch { buffer: "outputs", expected: 4, actual: 3 }
    );
}

#[test]
fn non_finite_loss_is_an_error_and_leaves_the_network_untouched() {
    let mut net = Mlp::new(&LAYERS, Init::Auto, &mut Rng::new(5)).unwrap();
    let before = net.params().to_vec();
    let input = [f32::NAN, 0.0, 0.0];
    let batch = Batch::new(&input, Target::Classes(&[1]), 1);
    assert_eq!(net.train_step_sgd(&batch, Loss::SoftmaxCrossEntropy, 0.1).unwrap_err(), Error::NonFiniteLoss);
    assert_eq!(net.params(), &before[..]);
    let infinite = [f32::INFINITY, 0.0];
    let err = Loss::Mse.evaluate(&infinite, 1, 2, Target::Values(&[0.0, 0.0]), None).unwrap_err();
    assert_eq!(err, Error::NonFiniteLoss);
}

#[test]
fn bad_learning_rates_and_mismatched_optimizer_buffers() {
    let mut p = params();
    let before = p.clone();
    let g = vec![1.0; p.len()];
    assert!(matches!(
        Sgd::new(f32::NAN).step(&mut 0, &mut p, &g, &mut []),
        Err(Error::InvalidHyperParameter { name: "lr", .. })
    ));
    assert!(matches!(
        Sgd::new(-1.0).step(&mut 0, &mut p, &g, &mut []),
        Err(Error::InvalidHyperParameter { name: "lr", .. })
    ));
    assert!(matches!(
        Sgd::new(0.1).step(&mut 0, &mut p, &g[1..], &mut []),
        Err(Error::LengthMismatch { buffer: "grads", .. })
    ));
    assert_eq!(p, before);
    let mut short = vec![0.0; 3];
    assert!(init_params(&NET, &mut short, Init::Auto, &mut Rng::new(1)).is_err());
}

#[test]
fn backward_checks_its_buffers() {
    let p = params();
    let mut ws = vec![0.0; NET.workspace_len(1)];
    let mut grads = vec![0.0; NET.param_len()];
    let input = [0.1, 0.2, 0.3];
    NET.forward(&p, &input, 1, &mut ws).unwrap();
    let err = NET.backward(&p, &input, 1, &mut ws, &[1.0], &mut grads, None).unwrap_err();
    assert_eq!(err, Error::LengthMismatch { buffer: "grad_output", expected: 2, actual: 1 });
    let err = NET.backward(&p, &input, 1, &mut ws, &[1.0, 0.0], &mut grads, Some(&mut [0.0; 2])).unwrap_err();
    assert_eq!(err, Error::LengthMismatch { buffer: "grad_input", expected: 3, actual: 2 });
    let err = NET.backward(&p, &input, 1, &mut ws, &[1.0, 0.0], &mut grads[1..], None).unwrap_err();
    assert!(matches!(err, Error::LengthMismatch { buffer: "grads", .. }));
}

proptest! {
    /// Random sizes and buffer lengths thrown at the passes: an error or a result, never a panic.
    #[test]
    fn random_lengths_never_panic(
        params_len in 0usize..60, input_len in 0usize..20, batch in 0usize..6,
        ws_len in 0usize..200, grads_len in 0usize..60, labels in prop::collection::vec(0usize..4, 0..6),
    ) {
        let p = vec![0.1; params_len];
        let input = vec![0.5; input_len];
        let mut ws = vec![0.0; ws_len];
        let mut grads = vec![0.0; grads_len];
        let _ = NET.forward(&p, &input, batch, &mut ws);
        let b = Batch::new(&input, Target::Classes(&labels), batch);
        let result = NET.loss_and_gradients(&p, &b, Loss::SoftmaxCrossEntropy, &mut grads, &mut ws);
        let consistent = params_len == NET.param_len() && grads_len == NET.param_len() && batch > 0
            && input_len == batch * 3 && ws_len >= NET.workspace_len(batch)
            && labels.len() == batch && labels.iter().all(|&l| l < 2);
        prop_assert_eq!(result.is_ok(), consistent, "{:?}", result);
    }
}

/// Found by `random_shapes_never_panic_anywhere` in CI: zero classes with an empty output
/// slice passed the length check and then panicked in `chunks_exact(0)`.
#[test]
fn accuracy_with_zero_classes_is_an_error() {
    let err = accuracy(&[], 0, &[0, 1]).unwrap_err();
    assert!(matches!(err, Error::InvalidArgument { name: "classes", .. }), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]

    /// Random sizes and buffer lengths thrown at the rest of the public API: each call returns
    /// an error or a value, never panics.
    #[test]
    fn random_shapes_never_panic_anywhere(
        widths in prop::collection::vec(0usize..6, 0..4),
        batch in 0usize..5,
        lens in prop::collection::vec(0usize..80, 8),
        labels in prop::collection::vec(0usize..8, 0..6),
        lr in prop_oneof![Just(f32::NAN), Just(-1.0f32), 0.0f32..1.0],
        bytes in prop::collection::vec(any::<u8>(), 0..64),
    ) {
        use embergrad::graph::{tape_loss, Node};
        use embergrad::nn::Huber;
        use embergrad::optim::{clip_grad_norm, clip_grad_value, Adam, Optimizer, RmsProp, Sgd};
        let layers: Vec<LayerSpec> = widths.windows(2).map(|w| LayerSpec::new(w[0], w[1], Activation::Tanh)).collect();
        let spec = Spec::new(&layers);
        let buf = |i: usize| vec![0.25f32; lens[i]];
        let (params, input, out) = (buf(0), buf(1), buf(2));
        let (mut ws, mut grads, mut grad_in) = (buf(3), buf(4), buf(5));
        let _ = spec.forward(&params, &input, batch, &mut ws);
        let _ = spec.backward(&params, &input, batch, &mut ws, &out, &mut grads, Some(&mut grad_in));
        let _ = Loss::SoftmaxCrossEntropy.evaluate(&out, batch, lens[6] % 7, Target::Classes(&labels), Some(&mut grads));
        let _ = Loss::BceWithLogits.evaluate(&out, batch, lens[6] % 7, Target::Values(&input), None);
        let _ = accuracy(&out, lens[7] % 5, &labels);
        let _ = init_params(&spec, &mut grads, Init::Auto, &mut Rng::new(1));
        for optimizer in [
            Optimizer::Sgd(Sgd { lr, momentum: 0.9, ..Sgd::default() }),
            Optimizer::RmsProp(RmsProp { lr, centered: true, ..RmsProp::default() }),
            Optimizer::Adam(Adam { lr, amsgrad: true, ..Adam::default() }),
        ] {
            let mut p = buf(0);
            let mut state = buf(7);
            let _ = optimizer.init_state(&mut state);
            let _ = optimizer.step(&mut 0, &mut p, &buf(4), &mut state);
        }
        let _ = clip_grad_norm(&mut grads, lr);
        let _ = clip_grad_value(&mut grads, lr);
        let mut slots = vec![Node::<embergrad::graph::f32x8>::EMPTY; lens[7] % 40];
        let _ = tape_loss(&Huber { delta: 1.0 }, &mut slots, &out, batch, lens[6] % 7, Target::Values(&input), Some(&mut grads));
        let _ = embergrad::io::load(&bytes, &mut [LayerSpec::new(1, 1, Activation::Identity); 2], &mut grads, None);
        let _ = embergrad::io::save(&spec, &params, None, &mut vec![0u8; lens[6]]);
        let mut sharded = embergrad_std::parallel::ShardedGradients::new(lens[4], 1 + lens[7] % 3);
        let b = Batch::new(&input, Target::Classes(&labels), batch);
        let _ = sharded.loss_and_gradients(&spec, &params, &b, Loss::SoftmaxCrossEntropy, &mut grads);
        let _ = Mlp::from_params(&layers, params.clone()).map(|mut net| {
            let _ = net.forward(&input, batch);
            let _ = net.train_step_sgd(&Batch::new(&input, Target::Values(&out), batch), Loss::Mse, lr);
        });
    }
}
