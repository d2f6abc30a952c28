//! A minibatch training loop for classifiers, with a per-epoch report.

use embergrad::optim::{Optimizer, Sgd};
use embergrad::{accuracy, Batch, Error, Loss, Mlp, OptimizerState, Rng, Target};

use crate::dataset::Dataset;

/// Settings of [`train_classifier`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassifierConfig {
    /// Passes over the training data.
    pub epochs: usize,
    /// Samples per SGD step (the last step of an epoch may be smaller).
    pub batch_size: usize,
    /// The optimizer and its hyper-parameters.
    pub optimizer: Optimizer,
    /// Seed of the shuffling generator.
    pub seed: u64,
}

impl Default for ClassifierConfig {
    fn default() -> Self {
        ClassifierConfig { epochs: 30, batch_size: 16, optimizer: Optimizer::Sgd(Sgd::new(0.1)), seed: 1 }
    }
}

/// What one epoch did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean of the batch losses over the epoch.
    pub mean_loss: f32,
}

/// Trains `net` with softmax cross-entropy and the configured optimizer, calling `on_epoch`
/// after each epoch.
pub fn train_classifier(
    net: &mut Mlp,
    data: &Dataset,
    config: &ClassifierConfig,
    mut on_epoch: impl FnMut(&EpochReport, &mut Mlp),
) -> Result<(), Error> {
    if config.batch_size == 0 || data.is_empty() {
        return Err(Error::EmptyBatch);
    }
    let mut rng = Rng::new(config.seed);
    let mut optimizer = OptimizerState::new(config.optimizer, net.params().len())?;
    let (mut inputs, mut labels) = (Vec::new(), Vec::new());
    for epoch in 1..=config.epochs {
        let order = data.shuffled_order(&mut rng);
        let mut total = 0.0;
        let mut steps = 0;
        for chunk in order.chunks(config.batch_size) {
            data.gather(chunk, &mut inputs, &mut labels);
            let batch = Batch::new(&inputs, Target::Classes(&labels), chunk.len());
            total += net.train_step(Loss::SoftmaxCrossEntropy, &batch, &mut optimizer)?;
            steps += 1;
        }
        on_epoch(&EpochReport { epoch, mean_loss: total / steps as f32 }, net);
    }
    Ok(())
}

/// Classification accuracy of `net` on `data`, evaluated in chunks to bound the workspace.
pub fn evaluate_accuracy(net: &mut Mlp, data: &Dataset) -> Result<f32, Error> {
    const CHUNK: usize = 256;
    if data.is_empty() {
        return Err(Error::EmptyBatch);
    }
    let classes = net.spec().outputs();
    let mut correct = 0.0;
    for start in (0..data.len()).step_by(CHUNK) {
        let end = (start + CHUNK).min(data.len());
        let outputs = net.forward(&data.inputs[start * data.features..end * data.features], end - start)?;
        correct += accuracy(outputs, classes, &data.labels[start..end])? * (end - start) as f32;
    }
    Ok(correct / data.len() as f32)
}
