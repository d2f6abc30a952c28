//! The tests' shorthand for training a classifier with one optimizer and no frills, and
//! measuring its accuracy, on `embergrad_std::trainer`.

use embergrad::io::Task;
use embergrad::optim::{Optimizer, Sgd};
use embergrad::{Error, Loss, Mlp};
use embergrad_std::metrics::evaluate;
use embergrad_std::trainer::{EpochReport, TrainError, Trainer, TrainerConfig};
use embergrad_std::Dataset;

/// Settings of [`train_classifier`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassifierConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// Samples per step (the last step of an epoch may be smaller).
    pub batch_size: usize,
    /// The optimizer and its hyper-parameters.
    pub optimizer: Optimizer,
    /// Seed of the shuffling.
    pub seed: u64,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig { epochs: 30, batch_size: 16, optimizer: Optimizer::Sgd(Sgd::new(0.1)), seed: 1 }
    }
}

/// Trains `net` with softmax cross-entropy and the configured optimizer (single shard, no
/// progress bar), calling `on_epoch` with the report and the network after each epoch.
pub fn train_classifier(
    net: &mut Mlp,
    data: &Dataset,
    config: &ClassifierConfig,
    on_epoch: impl FnMut(&EpochReport, &mut Mlp),
) -> Result<(), TrainError> {
    let trainer_config = TrainerConfig {
        epochs: config.epochs,
        batch_size: config.batch_size,
        optimizer: config.optimizer,
        seed: config.seed,
        shards: 1,
        progress: false,
        loss: Loss::SoftmaxCrossEntropy,
        ..TrainerConfig::default()
    };
    Trainer::new(trainer_config, net.params().len())?.fit(net, data, None, on_epoch)
}

/// Classification accuracy of `net` on `data`.
pub fn evaluate_accuracy(net: &mut Mlp, data: &Dataset) -> Result<f32, Error> {
    Ok(evaluate(net, data, Loss::SoftmaxCrossEntropy, Task::Classification, None)?.accuracy.unwrap_or(0.0))
}
