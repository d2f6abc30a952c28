//! The training loop: epochs of shuffled minibatches on the deterministic data-parallel
//! gradients, any core optimizer and schedule, validation, early stopping, a checkpoint each
//! epoch, resuming, a progress bar, and divergence handling that loses nothing.

use std::fmt;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::time::Instant;

use embergrad::io::Task;
use embergrad::optim::{grad_norm, Optimizer, ReduceOnPlateau, Schedule, Sgd, Step};
use embergrad::{AlignedBuffer, Batch, Error, Loss, Mlp, OptimizerState, Rng, Spec};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::dataset::{Dataset, Gathered};
use crate::metrics::{evaluate, Metrics};
use crate::model::{self, ModelError, TrainingState};
use crate::pace::Pace;
use crate::parallel::ShardedGradients;
use crate::preprocess::Preprocess;
use crate::workers::{default_threads, Workers};

/// What to do when a batch's loss or gradient is NaN or infinite.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OnDivergence {
    /// Stop with [`TrainError::Diverged`]; the params stay as they were before that step.
    Stop,
    /// Skip the batch and multiply the learning rate by `lr_factor` (e.g. 0.5).
    SkipBatch {
        /// Factor applied to the learning rate at each skipped batch.
        lr_factor: f32,
    },
}

/// Settings of a [`Trainer`]. `Default` is 10 epochs of Adam (PyTorch's defaults) in
/// batches of 64 with softmax cross-entropy, the split pass on as many threads as it can use,
/// no early stopping or checkpoints.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainerConfig {
    /// Epochs to train (counting those of a resumed run).
    pub epochs: usize,
    /// Samples per step (the last step of an epoch may be smaller).
    pub batch_size: usize,
    /// The optimizer and its hyper-parameters.
    pub optimizer: Optimizer,
    /// Learning rate per epoch, from the optimizer's learning rate.
    pub schedule: Schedule,
    /// Also lower the learning rate when the epoch's validation loss (the training loss
    /// without validation data) stops improving: its factor multiplies the optimizer's
    /// learning rate (so a checkpoint keeps it); its own starting rate is not used.
    pub plateau: Option<ReduceOnPlateau>,
    /// The loss; its target kind must be the data's (class indices or values).
    pub loss: Loss,
    /// What the outputs are for (how validation is scored).
    pub task: Task,
    /// The preprocessing the data went through, written into each checkpoint so that the
    /// model in it can be used on raw data.
    pub preprocess: Option<Preprocess>,
    /// Seed of the data shuffling (each epoch has its own stream, so a resumed run shuffles
    /// exactly as the uninterrupted one).
    pub seed: u64,
    /// How a minibatch is spread over threads. 1 (the default): one split pass
    /// ([`Spec::loss_and_gradients_split`]), each large product and the optimizer's update
    /// cut into pieces for `threads` threads; more: data parallelism, the batch cut into
    /// this many shards on the rayon pool, whose gradients are then summed. Results depend on
    /// this number, never on the number of threads. The split pass is as fast as the shards or
    /// faster on every workload measured (`benches/benches/parallel.rs`; docs/PARALLEL.md).
    pub shards: usize,
    /// Threads of the split pass, the calling one included; 0 (the default) picks
    /// [`workers::default_threads`](crate::workers::default_threads) for the network and
    /// batch size. (Shards run on the rayon pool, whatever this says.) While training, the
    /// trainer times a few steps on one thread now and then and runs on one while that is
    /// faster ([`crate::pace`]: a virtual machine's second vCPU is not always a core).
    pub threads: usize,
    /// Stop when the validation loss has not improved for this many epochs, and keep the best
    /// params.
    pub patience: Option<usize>,
    /// Write a checkpoint (model + optimizer state + counters) here after every epoch,
    /// atomically.
    pub checkpoint: Option<PathBuf>,
    /// Show a progress bar on a terminal (never when stderr is not one).
    pub progress: bool,
    /// What to do on a non-finite loss or gradient.
    pub on_divergence: OnDivergence,
}

impl Default for TrainerConfig {
    fn default() -> Self {
        TrainerConfig {
            epochs: 10,
            batch_size: 64,
            optimizer: Optimizer::Adam(embergrad::optim::Adam::default()),
            schedule: Schedule::Constant,
            plateau: None,
            loss: Loss::SoftmaxCrossEntropy,
            task: Task::Classification,
            preprocess: None,
            seed: 1,
            shards: 1,
            threads: 0,
            patience: None,
            checkpoint: None,
            progress: true,
            on_divergence: OnDivergence::Stop,
        }
    }
}

impl TrainerConfig {
    /// Plain SGD at `lr`, otherwise the defaults.
    pub fn sgd(lr: f32) -> Self {
        TrainerConfig { optimizer: Optimizer::Sgd(Sgd::new(lr)), ..TrainerConfig::default() }
    }
}

/// What one epoch did.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct EpochReport {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f32,
    /// Scores on the validation data, if there is some.
    pub validation: Option<Metrics>,
    /// The learning rate used.
    pub lr: f32,
    /// Training throughput.
    pub samples_per_second: f32,
    /// Batches skipped because they diverged.
    pub skipped_batches: usize,
}

/// Why training stopped early.
#[derive(Debug)]
pub enum TrainError {
    /// Bad shapes, labels or hyper-parameters.
    Core(Error),
    /// A non-finite loss or gradient, with [`OnDivergence::Stop`]. The params are those of
    /// the last good step.
    Diverged {
        /// 1-based epoch.
        epoch: usize,
        /// 1-based step within the epoch.
        step: usize,
        /// The learning rate at that step.
        lr: f32,
    },
    /// Writing or reading a checkpoint failed.
    Checkpoint(ModelError),
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::Core(e) => write!(f, "{e}"),
            TrainError::Diverged { epoch, step, lr } => write!(
                f,
                "training diverged at epoch {epoch}, step {step} (lr {lr}): non-finite loss or gradient; \
                 the params are those of the last good step (lower the learning rate, or check the data for NaN/Inf)"
            ),
            TrainError::Checkpoint(e) => write!(f, "checkpoint: {e}"),
        }
    }
}

impl std::error::Error for TrainError {}

impl From<Error> for TrainError {
    fn from(e: Error) -> Self {
        TrainError::Core(e)
    }
}

/// Trains an [`Mlp`] on a [`Dataset`] (see [`TrainerConfig`]).
#[derive(Debug)]
pub struct Trainer {
    config: TrainerConfig,
    optimizer: OptimizerState,
    /// The plateau detector's state, as a factor of the learning rate (starts at 1).
    plateau: Option<ReduceOnPlateau>,
    /// Epochs completed so far.
    epoch: usize,
    sharded: ShardedGradients,
    /// The split pass's workspace (grown to the largest batch seen).
    workspace: AlignedBuffer,
    grads: AlignedBuffer,
    history: Vec<EpochReport>,
}

impl Trainer {
    /// A fresh trainer for a network with `param_len` params.
    pub fn new(config: TrainerConfig, param_len: usize) -> Result<Self, TrainError> {
        let optimizer = OptimizerState::new(config.optimizer, param_len)?;
        Ok(Trainer::with_state(config, optimizer, 0, param_len))
    }

    fn with_state(config: TrainerConfig, optimizer: OptimizerState, epoch: usize, param_len: usize) -> Self {
        let sharded = ShardedGradients::new(param_len, config.shards);
        let plateau = config.plateau.map(|mut plateau| {
            plateau.reset(1.0);
            plateau
        });
        let grads = AlignedBuffer::zeroed(param_len);
        let workspace = AlignedBuffer::default();
        Trainer { config, optimizer, plateau, epoch, sharded, workspace, grads, history: Vec::new() }
    }

    /// Resumes from a checkpoint written by a trainer: the network, the optimizer (with the
    /// hyper-parameters it had, e.g. a lowered learning rate), its state and the counters.
    /// Continuing gives bitwise the same result as the run that was never interrupted.
    pub fn resume(config: TrainerConfig, path: impl Into<PathBuf>) -> Result<(Trainer, Mlp), TrainError> {
        let path = path.into();
        let model = model::load_file(&path).map_err(TrainError::Checkpoint)?;
        let Some(TrainingState { optimizer, steps, epoch, state }) = model.checkpoint else {
            return Err(TrainError::Core(Error::ModelFile {
                reason: "the file has no optimizer checkpoint",
                offset: 0,
            }));
        };
        let net = Mlp::from_params(&model.layers, model.params)?;
        let param_len = net.params().len();
        let optimizer = OptimizerState { optimizer, steps, buffer: state };
        Ok((Trainer::with_state(config, optimizer, epoch as usize, param_len), net))
    }

    /// Epochs completed.
    pub fn epochs_done(&self) -> usize {
        self.epoch
    }

    /// Reports of the epochs run by this trainer.
    pub fn history(&self) -> &[EpochReport] {
        &self.history
    }

    /// The optimizer with its counters and state.
    pub fn optimizer(&self) -> &OptimizerState {
        &self.optimizer
    }

    /// Trains until `config.epochs` epochs are done (or early stopping), calling `on_epoch`
    /// with the report and the network after each. On an error the network holds the params
    /// of the last good step.
    pub fn fit(
        &mut self,
        net: &mut Mlp,
        train: &Dataset,
        validation: Option<&Dataset>,
        mut on_epoch: impl FnMut(&EpochReport, &mut Mlp),
    ) -> Result<(), TrainError> {
        if self.config.batch_size == 0 || train.is_empty() {
            return Err(Error::EmptyBatch.into());
        }
        let layers = net.spec().layers().to_vec();
        let spec = Spec::new(&layers);
        let base_lr = self.optimizer.optimizer.lr();
        let mut best: Option<(f32, Vec<f32>, usize)> = None;
        let mut gathered = Gathered::default();
        let steps_per_epoch = train.len().div_ceil(self.config.batch_size);
        let threads = match (self.config.shards, self.config.threads) {
            (2.., _) => 1, // the shards run on the rayon pool; the update on this thread
            (_, 0) => default_threads(&spec, self.config.batch_size),
            (_, threads) => threads,
        };
        // Without threads of its own (a system that refuses them), the pass runs its pieces
        // on this thread: the same results, only slower.
        let workers = Workers::new(threads).or_else(|_| Workers::new(1)).expect("no thread is started for 1");
        // Whether the threads pay, timed as training goes (see `pace.rs`); results are the
        // same either way.
        let mut pace = Pace::default();
        while self.epoch < self.config.epochs {
            let epoch = self.epoch + 1;
            let lr = self.config.schedule.lr_at(base_lr, self.epoch as u64) * self.lr_reduction(base_lr);
            let order = train.shuffled_order(&mut Rng::with_stream(self.config.seed, epoch as u64));
            let bar = self.progress_bar(steps_per_epoch as u64, epoch);
            let started = Instant::now();
            let (mut total, mut counted, mut skipped) = (0.0f64, 0usize, 0usize);
            let mut lr_now = lr;
            for (index, chunk) in order.chunks(self.config.batch_size).enumerate() {
                train.gather(chunk, &mut gathered);
                let batch = Batch::new(&gathered.inputs, gathered.target(), chunk.len());
                workers.set_sharing(pace.next_sharing());
                let step_started = Instant::now();
                let outcome = if self.config.shards > 1 {
                    self.sharded.loss_and_gradients(&spec, net.params(), &batch, self.config.loss, &mut self.grads)
                } else {
                    // A workspace too large to count is left as it is: the pass then says so.
                    let needed = spec.split_workspace_len(batch.size);
                    if needed < usize::MAX {
                        self.workspace.ensure_len(needed);
                    }
                    let (params, loss, grads) = (net.params(), self.config.loss, &mut self.grads);
                    spec.loss_and_gradients_split(params, &batch, loss, grads, &mut self.workspace, &workers)
                };
                let diverged = match outcome {
                    Ok(loss) if grad_norm(&self.grads).is_finite() => {
                        let OptimizerState { optimizer, steps, buffer } = &mut self.optimizer;
                        optimizer.step_split(lr_now, steps, net.params_mut(), &self.grads, buffer, &workers)?;
                        // Full batches only: the pace compares steps of one size.
                        if workers.threads() > 1 && chunk.len() == self.config.batch_size {
                            pace.record(step_started.elapsed().as_secs_f64());
                        }
                        total += f64::from(loss);
                        counted += 1;
                        false
                    }
                    Ok(_) | Err(Error::NonFiniteLoss) => true,
                    Err(e) => return Err(e.into()),
                };
                if diverged {
                    match self.config.on_divergence {
                        OnDivergence::Stop => {
                            bar.abandon();
                            return Err(TrainError::Diverged { epoch, step: index + 1, lr: lr_now });
                        }
                        OnDivergence::SkipBatch { lr_factor } => {
                            skipped += 1;
                            lr_now *= lr_factor;
                            self.optimizer.optimizer =
                                self.optimizer.optimizer.with_lr(self.optimizer.optimizer.lr() * lr_factor);
                        }
                    }
                }
                bar.inc(1);
                if counted > 0 {
                    let done = (index * self.config.batch_size + chunk.len()) as f64;
                    let rate = done / started.elapsed().as_secs_f64().max(1e-9);
                    bar.set_message(format!("loss {:.4}, {} samples/s", total / counted as f64, thousands(rate)));
                }
            }
            bar.finish_and_clear();
            let seconds = started.elapsed().as_secs_f32();
            let validation = match validation {
                Some(data) => {
                    let preprocess = self.config.preprocess.as_ref();
                    Some(evaluate(net, data, self.config.loss, self.config.task, preprocess)?)
                }
                None => None,
            };
            let validation_loss = validation.map(|v| v.loss);
            self.epoch = epoch;
            let report = EpochReport {
                epoch,
                train_loss: if counted > 0 { (total / counted as f64) as f32 } else { f32::NAN },
                validation,
                lr: lr_now,
                samples_per_second: train.len() as f32 / seconds.max(1e-9),
                skipped_batches: skipped,
            };
            self.history.push(report);
            if let Some(plateau) = &mut self.plateau {
                let before = plateau.lr();
                let after = plateau.step(validation_loss.unwrap_or(report.train_loss))?;
                if after < before {
                    let optimizer = self.optimizer.optimizer;
                    self.optimizer.optimizer = optimizer.with_lr(optimizer.lr() * (after / before));
                }
            }
            on_epoch(&report, net);
            if let Some(path) = &self.config.checkpoint {
                let state = TrainingState {
                    optimizer: self.optimizer.optimizer,
                    steps: self.optimizer.steps,
                    epoch: self.epoch as u64,
                    state: self.optimizer.buffer.clone(),
                };
                model::save_file(path, &spec, net.params(), self.config.preprocess.as_ref(), Some(state.checkpoint()))
                    .map_err(TrainError::Checkpoint)?;
            }
            if let (Some(patience), Some(loss)) = (self.config.patience, validation_loss) {
                match &mut best {
                    Some((best_loss, params, since)) if loss >= *best_loss => {
                        *since += 1;
                        if *since >= patience {
                            net.params_mut().copy_from_slice(params);
                            break;
                        }
                    }
                    _ => best = Some((loss, net.params().to_vec(), 0)),
                }
            }
        }
        Ok(())
    }

    /// How far divergence handling and the plateau detector have lowered the optimizer's
    /// learning rate below `base`.
    fn lr_reduction(&self, base: f32) -> f32 {
        if base > 0.0 {
            self.optimizer.optimizer.lr() / base
        } else {
            1.0
        }
    }

    fn progress_bar(&self, steps: u64, epoch: usize) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(Some(steps), ProgressDrawTarget::hidden());
        if self.config.progress && std::io::stderr().is_terminal() {
            bar.set_draw_target(ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("epoch {prefix} [{bar:30}] {pos}/{len} batches, {msg}, ETA {eta}")
            {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix(epoch.to_string());
        }
        bar
    }
}

/// A count with thousands separators and no decimals (`12,345`), for rates that vary too
/// much between batches for decimals to mean anything.
pub fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn rates_print_with_thousands_separators() {
        assert_eq!(thousands(1_234_567.8), "1,234,568");
        assert_eq!(thousands(999.4), "999");
        assert_eq!(thousands(1000.0), "1,000");
        assert_eq!(thousands(0.0), "0");
        assert_eq!(thousands(-5.0), "0");
    }
}
