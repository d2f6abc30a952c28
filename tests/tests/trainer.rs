//! The trainer: resuming from a checkpoint reproduces the uninterrupted run bitwise;
//! divergence (NaN in the data, an absurd learning rate) stops with an error naming the epoch
//! and step and keeps the last good params, or skips and lowers the learning rate; early
//! stopping keeps the best params.

use embergrad::optim::{Adam, Optimizer, Sgd};
use embergrad::Step;
use embergrad::{Activation, Init, LayerSpec, Mlp, Rng};
use embergrad_std::trainer::{OnDivergence, TrainError, Trainer, TrainerConfig};
use embergrad_tests::repo_dataset;

const LAYERS: [LayerSpec; 2] = [LayerSpec::new(64, 24, Activation::Relu), LayerSpec::new(24, 10, Activation::Identity)];

fn config(epochs: usize, checkpoint: Option<std::path::PathBuf>) -> TrainerConfig {
    TrainerConfig {
        epochs,
        batch_size: 32,
        optimizer: Optimizer::Adam(Adam { lr: 3e-3, ..Adam::default() }),
        shards: 2,
        checkpoint,
        progress: false,
        ..TrainerConfig::default()
    }
}

fn temp(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("embergrad-trainer-{}-{name}", std::process::id()))
}

#[test]
fn resuming_from_a_checkpoint_reproduces_the_uninterrupted_run_bitwise() {
    let data = repo_dataset("data/digits/digits_train.csv");
    let mut straight = Mlp::new(&LAYERS, Init::Auto, &mut Rng::new(3)).unwrap();
    let mut trainer = Trainer::new(config(4, None), straight.params().len()).unwrap();
    trainer.fit(&mut straight, &data, None, |_, _| {}).unwrap();

    let path = temp("resume.ember");
    let mut first = Mlp::new(&LAYERS, Init::Auto, &mut Rng::new(3)).unwrap();
    Trainer::new(config(2, Some(path.clone())), first.params().len())
        .unwrap()
        .fit(&mut first, &data, None, |_, _| {})
        .unwrap();
    let (mut resumed_trainer, mut resumed) = Trainer::resume(config(4, None), &path).unwrap();
    assert_eq!(resumed_trainer.epochs_done(), 2);
    resumed_trainer.fit(&mut resumed, &data, None, |_, _| {}).unwrap();
    std::fs::remove_file(&path).unwrap();

    let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(resumed.params()), bits(straight.params()));
    assert_eq!(bits(&resumed_trainer.optimizer().buffer), bits(&trainer.optimizer().buffer));
    assert_eq!(resumed_trainer.optimizer().steps, trainer.optimizer().steps);
}

#[test]
fn nan_in_the_data_stops_with_the_epoch_and_step_and_keeps_the_last_good_params() {
    let mut data = repo_dataset("data/digits/digits_train.csv");
    // Poison one sample; find which step of epoch 1 it lands in (the trainer's shuffle).
    let poisoned = 500;
    data.inputs[poisoned * data.features + 7] = f32::NAN;
    let order = data.shuffled_order(&mut Rng::with_stream(1, 1));
    let step = order.iter().position(|&i| i == poisoned).unwrap() / 32 + 1;

    let mut net = Mlp::new(&LAYERS, Init::Auto, &mut Rng::new(3)).unwrap();
    let mut snapshots = Vec::new();
    let err = Trainer::new(config(3, None), net.params().len())
        .unwrap()
        .fit(&mut net, &data, None, |_, n| snapshots.push(n.params().to_vec()));
    match err {
        Err(TrainError::Diverged { epoch, step: at, .. }) => assert_eq!((epoch, at), (1, step)),
        other => panic!("expected divergence, got {other:?}"),
    }
    assert!(net.params().iter().all(|p| p.is_finite()), "params were touched by the bad step");
    assert!(snapshots.is_empty(), "no epoch completed");
    let message = TrainError::Diverged { epoch: 1, step, lr: 0.003 }.to_string();
    assert!(message.contains(&format!("epoch 1, step {step}")), "{message}");

    // Replaying the epoch's batches by hand up to the poisoned one gives exactly the params
    // the trainer kept: the bad step changed nothing.
    let mut replay = Mlp::new(&LAYERS, Init::Auto, &mut Rng::new(3)).unwrap();
    let layers = replay.spec().layers().to_vec();
    let spec = embergrad::Spec::new(&layers);
    let mut optimizer =
        embergrad::OptimizerState::new(Optimizer::Adam(Adam { lr: 3e-3, ..Adam::default() }), spec.param_len())
            .unwrap();
    let mut sharded = embergrad_std::parallel::ShardedGradients::new(spec.param_len(), 2);
    let mut grads = vec![0.0; spec.param_len()];
    let mut gathered = embergrad_std::Gathered::default();
    for chunk in order.chunks(32).take(step - 1) {
        data.gather(chunk, &mut gathered);
        let batch = embergrad::Batch::new(&gathered.inputs, gathered.target(), chunk.len());
        sharded
            .loss_and_gradients(&spec, replay.params(), &batch, embergrad::Loss::SoftmaxCrossEntropy, &mut grads)
            .unwrap();
        optimizer.optimizer.step(&mut optimizer.steps, replay.params_mut(), &grads, &mut optimizer.buffer).unwrap();
    }
    assert_eq!(replay.params(), net.params());
}

#[test]
fn an_absurd_learning_rate_diverges_or_is_skipped_and_lowered() {
    let data = repo_dataset("data/digits/digits_train.csv");
    let absurd = TrainerConfig { optimizer: Optimizer::Sgd(Sgd::new(1e30)), ..config(3, None) };
    let mut net = Mlp::new(&LAYERS, Init::Auto, &mut Rng::new(3)).unwrap();
    let result = Trainer::new(absurd.clone(), net.params().len()).unwrap().fit(&mut net, &data, None, |_, _| {});
    assert!(matches!(result, Err(TrainError::Diverged { .. })), "{result:?}");
    assert!(net.params().iter().all(|p| p.is_finite()));

    let skipping = TrainerConfig { on_divergence: OnDivergence::SkipBatch { lr_factor: 0.1 }, ..absurd };
    let mut net = Mlp::new(&LAYERS, Init::Auto, &mut Rng::new(3)).unwrap();
    let mut trainer = Trainer::new(skipping, net.params().len()).unwrap();
    trainer.fit(&mut net, &data, None, |_, _| {}).unwrap();
    let skipped: usize = trainer.history().iter().map(|r| r.skipped_batches).sum();
    assert!(skipped > 0);
    assert!(trainer.optimizer().optimizer.lr() < 1e30);
    assert!(net.params().iter().all(|p| p.is_finite()));
}

#[test]
fn early_stopping_keeps_the_best_params() {
    let data = repo_dataset("data/digits/digits_train.csv");
    let (train, validation) = data.split(0.3, &mut Rng::new(8));
    // A large learning rate makes the validation loss bounce, so patience 1 stops early.
    let cfg =
        TrainerConfig { epochs: 40, patience: Some(1), optimizer: Optimizer::Sgd(Sgd::new(0.5)), ..config(40, None) };
    let mut net = Mlp::new(&LAYERS, Init::Auto, &mut Rng::new(3)).unwrap();
    let mut trainer = Trainer::new(cfg, net.params().len()).unwrap();
    trainer.fit(&mut net, &train, Some(&validation), |_, _| {}).unwrap();
    let history = trainer.history();
    assert!(history.len() < 40, "did not stop early");
    let best = history.iter().filter_map(|r| r.validation.map(|v| v.loss)).fold(f32::INFINITY, f32::min);
    let task = embergrad::io::Task::Classification;
    let loss =
        embergrad_std::metrics::evaluate(&mut net, &validation, embergrad::Loss::SoftmaxCrossEntropy, task, None)
            .unwrap()
            .loss;
    assert_eq!(loss, best, "the network does not hold the best epoch's params");
}

#[test]
fn the_split_pass_gives_the_same_weights_on_one_two_and_eight_threads() {
    // Wide enough at batch 64 for the first layer's products to be cut into pieces.
    const WIDE: [LayerSpec; 2] =
        [LayerSpec::new(64, 256, Activation::Relu), LayerSpec::new(256, 10, Activation::Identity)];
    assert!(embergrad::Spec::new(&WIDE).split_pieces(64) > 1, "nothing would be split");
    let data = repo_dataset("data/digits/digits_train.csv");
    let train = |threads: usize| {
        let mut net = Mlp::new(&WIDE, Init::Auto, &mut Rng::new(8)).unwrap();
        let config = TrainerConfig {
            epochs: 2,
            batch_size: 64,
            shards: 1,
            threads,
            progress: false,
            ..TrainerConfig::default()
        };
        Trainer::new(config, net.params().len()).unwrap().fit(&mut net, &data, None, |_, _| {}).unwrap();
        net.params().iter().map(|p| p.to_bits()).collect::<Vec<_>>()
    };
    let one = train(1);
    assert_eq!(train(2), one, "2 threads");
    assert_eq!(train(8), one, "8 threads");
    assert_eq!(train(0), one, "the default thread count");
}
