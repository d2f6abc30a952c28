//! Data-parallel gradients: bitwise identical with 1, 2 and 8 threads, and equal (up to
//! rounding) to the single-pass gradient.

use embergrad::optim::{Adam, Optimizer};
use embergrad::{Activation, Batch, Init, LayerSpec, Loss, Mlp, OptimizerState, Rng, Spec, Step, Target};
use embergrad_std::parallel::ShardedGradients;
use embergrad_tests::{rel_err, repo_dataset};

const LAYERS: [LayerSpec; 2] = [LayerSpec::new(64, 48, Activation::Relu), LayerSpec::new(48, 10, Activation::Identity)];

/// Trains 20 Adam steps of batch 100 on the digits data with 8 shards on a pool of `threads`.
fn train(threads: usize) -> Vec<f32> {
    let data = repo_dataset("data/digits/digits_train.csv");
    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
    let mut net = Mlp::new(&LAYERS, Init::Auto, &mut Rng::new(11)).unwrap();
    let spec = Spec::new(&LAYERS);
    let mut sharded = ShardedGradients::new(spec.param_len(), 8);
    let mut optimizer = OptimizerState::new(Optimizer::Adam(Adam::default()), spec.param_len()).unwrap();
    let mut grads = vec![0.0; spec.param_len()];
    pool.install(|| {
        for step in 0..20 {
            let start = step * 50;
            let batch = Batch::new(
                &data.inputs[start * 64..(start + 100) * 64],
                Target::Classes(&data.labels()[start..start + 100]),
                100,
            );
            sharded.loss_and_gradients(&spec, net.params(), &batch, Loss::SoftmaxCrossEntropy, &mut grads).unwrap();
            optimizer.optimizer.step(&mut optimizer.steps, net.params_mut(), &grads, &mut optimizer.buffer).unwrap();
        }
    });
    net.params().to_vec()
}

#[test]
fn one_two_and_eight_threads_give_bitwise_identical_weights() {
    let one = train(1);
    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&train(2)), bits(&one));
    assert_eq!(bits(&train(8)), bits(&one));
}

#[test]
fn sharded_gradient_equals_the_single_pass_gradient() {
    let data = repo_dataset("data/digits/digits_train.csv");
    let net = Mlp::new(&LAYERS, Init::Auto, &mut Rng::new(5)).unwrap();
    let spec = Spec::new(&LAYERS);
    for (batch_size, shards) in [(100, 8), (7, 8), (1, 3), (64, 1)] {
        let batch =
            Batch::new(&data.inputs[..batch_size * 64], Target::Classes(&data.labels()[..batch_size]), batch_size);
        let mut single = vec![0.0; spec.param_len()];
        let mut workspace = vec![0.0; spec.workspace_len(batch_size)];
        let loss = spec
            .loss_and_gradients(net.params(), &batch, Loss::SoftmaxCrossEntropy, &mut single, &mut workspace)
            .unwrap();
        let mut sharded = vec![0.0; spec.param_len()];
        let sharded_loss = ShardedGradients::new(spec.param_len(), shards)
            .loss_and_gradients(&spec, net.params(), &batch, Loss::SoftmaxCrossEntropy, &mut sharded)
            .unwrap();
        assert!(rel_err(f64::from(sharded_loss), f64::from(loss), 1e-6) < 1e-5, "loss {sharded_loss} vs {loss}");
        let scale = single.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for (a, b) in sharded.iter().zip(&single) {
            assert!((a - b).abs() <= 1e-5 * scale, "batch {batch_size}, {shards} shards: {a} vs {b}");
        }
    }
}
