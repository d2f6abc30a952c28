//! The command line's arguments (clap) and the parsers that turn names into the core's
//! members.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use embergrad::optim::Optimizer;
use embergrad::{Activation, Loss};

#[derive(Parser)]
#[command(name = "embergrad", version, about = "Train, evaluate and use dense neural networks.")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Train a network: classification, multi-label or regression, from a CSV file or an
    /// MNIST folder.
    Train(Box<TrainArgs>),
    /// Evaluate a saved model on labelled data: loss, and accuracy or MAE/RMSE/R².
    Eval(UseArgs),
    /// Predict with a saved model: a class, probabilities or values per sample.
    Predict(PredictArgs),
    /// Write a model as safetensors with PyTorch's nn.Sequential names.
    Export {
        /// The model file (embergrad format).
        #[arg(long)]
        model: PathBuf,
        /// The format to write (safetensors, the one there is).
        #[arg(long, value_enum, default_value = "safetensors")]
        format: ExportFormat,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// Read a PyTorch nn.Sequential of Linear layers from safetensors into the embergrad format.
    Import {
        /// The safetensors file.
        #[arg(long)]
        from: PathBuf,
        /// The model file to write (embergrad format).
        #[arg(long)]
        out: PathBuf,
    },
}

/// What `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// safetensors with PyTorch's `nn.Sequential` names (`0.weight`, `0.bias`, ...).
    Safetensors,
}

/// What the network's outputs are for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum TaskName {
    /// One class per sample (softmax cross-entropy).
    Classify,
    /// Independent 0/1 targets, one or several columns (BCE with logits).
    Multilabel,
    /// Real-valued targets, one or several columns (MSE, L1 or Huber).
    Regress,
}

/// How the input features are scaled (fitted on the training data, stored in the model).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ScalingName {
    /// Mean 0, standard deviation 1 per feature (the default for CSV).
    Standardize,
    /// [0, 1] per feature.
    Minmax,
    /// Unchanged (or multiplied by --scale).
    None,
}

/// Where the data is and which columns are targets.
#[derive(clap::Args, Clone)]
pub struct DataArgs {
    /// A CSV file with a header, or a folder with MNIST's IDX files (gzipped or not).
    #[arg(long)]
    pub data: PathBuf,
    /// The target column(s) of a CSV file, comma-separated (default `label`).
    #[arg(long, value_delimiter = ',', alias = "label")]
    pub target: Vec<String>,
}

#[derive(clap::Args)]
pub struct UseArgs {
    /// The model file (embergrad format).
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub data: DataArgs,
    /// For a model saved without its preprocessing (format version 1): a factor applied to
    /// every feature. Models that carry their preprocessing refuse it.
    #[arg(long)]
    pub scale: Option<f32>,
}

/// What `predict` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// One line per sample: the class (classification), the 0/1 decisions (multi-label) or
    /// the values (regression).
    Plain,
    /// A CSV file with a header: class and probabilities, probabilities, or values.
    Csv,
}

#[derive(clap::Args)]
pub struct PredictArgs {
    #[command(flatten)]
    pub model: UseArgs,
    /// What to print.
    #[arg(long, value_enum, default_value = "plain")]
    pub output: OutputFormat,
}

#[derive(clap::Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Test data (a CSV file like --data). For an MNIST folder its t10k files are used.
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// Hold out this fraction of the training data for validation each epoch (in [0, 1)).
    #[arg(long, default_value_t = 0.0)]
    pub validation: f32,
    /// What the outputs are for (default: from --loss, else classify).
    #[arg(long, value_enum)]
    pub task: Option<TaskName>,
    /// Feature scaling, fitted on the training split and saved with the model (default:
    /// standardize for CSV, none for MNIST, whose pixels are divided by 255).
    #[arg(long, value_enum)]
    pub scaling: Option<ScalingName>,
    /// Multiply every feature by this constant instead of --scaling.
    #[arg(long)]
    pub scale: Option<f32>,
    /// The most classes a label may make (labels make the network's width).
    #[arg(long, default_value_t = 10_000)]
    pub max_classes: usize,
    /// Layer widths, input to output, e.g. 784,256,128,10 (default: inputs,32,outputs).
    #[arg(long, value_delimiter = ',')]
    pub layers: Vec<usize>,
    /// Activation of the hidden layers: identity, relu, leaky_relu, sigmoid, tanh, gelu,
    /// gelu_tanh, silu, elu, softplus, mish.
    #[arg(long, value_parser = parse_activation, default_value = "relu")]
    pub activation: Activation,
    /// Loss (default by task: softmax_ce, bce_logits, mse): softmax_ce, softmax_ce_smoothed,
    /// bce_logits, mse, l1, huber.
    #[arg(long, value_parser = parse_loss)]
    pub loss: Option<Loss>,
    /// Label smoothing of the cross-entropy, in [0, 1] (PyTorch's `label_smoothing`).
    #[arg(long)]
    pub label_smoothing: Option<f32>,
    /// Huber's delta (with --loss huber).
    #[arg(long)]
    pub huber_delta: Option<f32>,
    /// Optimizer, with PyTorch's update rules and defaults (default sgd): sgd, momentum (SGD
    /// with momentum 0.9), adagrad, rmsprop, adam, adamw, nadam, radam, adamax, adadelta, rprop.
    #[arg(long, value_parser = parse_optimizer)]
    pub optimizer: Option<Optimizer>,
    /// Learning rate (default: 0.1 for SGD and momentum, the optimizer's PyTorch default otherwise).
    #[arg(long)]
    pub lr: Option<f32>,
    /// Learning-rate schedule over the epochs: constant; step (x --gamma every --step-size
    /// epochs); multistep (x --gamma at each of --milestones); exponential (x --gamma per
    /// epoch); cosine (to 0 at the last epoch); cosine_restarts (periods of --step-size
    /// epochs, each twice the last); linear (warm-up over --warmup epochs from a tenth);
    /// polynomial (linearly to 0); onecycle (up to --max-lr and down); warmup_cosine
    /// (--warmup epochs of linear warm-up, then cosine); plateau (x --gamma when the
    /// validation loss has not improved for --plateau-patience epochs).
    #[arg(long, value_parser = parse_schedule, default_value = "constant")]
    pub schedule: String,
    /// Decay factor of the step, multistep, exponential and plateau schedules (default 0.1;
    /// 0.95 for exponential).
    #[arg(long)]
    pub gamma: Option<f32>,
    /// Epochs between decays (step) or of the first period (cosine_restarts) (default: a
    /// third of the epochs).
    #[arg(long)]
    pub step_size: Option<u64>,
    /// Epochs at which multistep decays (default: at half and three quarters of the run).
    #[arg(long, value_delimiter = ',')]
    pub milestones: Vec<u64>,
    /// Warm-up epochs of linear and warmup_cosine (default: a tenth of the epochs, at least 1).
    #[arg(long)]
    pub warmup: Option<u64>,
    /// Peak learning rate of onecycle (default: ten times --lr).
    #[arg(long)]
    pub max_lr: Option<f32>,
    /// Epochs without improvement before plateau lowers the rate.
    #[arg(long, default_value_t = 2)]
    pub plateau_patience: u32,
    /// Passes over the training data (at least 1).
    #[arg(long, default_value_t = 30)]
    pub epochs: usize,
    /// Samples per step (at least 1).
    #[arg(long, default_value_t = 16)]
    pub batch: usize,
    /// Seed of the initialisation and the shuffling.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Threads (default: the cores, but only as many as the network's largest products can
    /// use at this batch size, 1 for a small network). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// 1: each step is one pass whose large products are shared out between the threads;
    /// more: the batch is cut into this many shards, one pass each (data parallelism).
    /// Results depend on this, not on --threads.
    #[arg(long, default_value_t = 1)]
    pub shards: usize,
    /// Stop when the validation loss has not improved for this many epochs (needs --validation).
    #[arg(long)]
    pub patience: Option<usize>,
    /// Write the trained model here (embergrad format, atomically; checked before training).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Write a checkpoint here after every epoch (model and optimizer state).
    #[arg(long)]
    pub checkpoint: Option<PathBuf>,
    /// Resume from a checkpoint written with --checkpoint.
    #[arg(long)]
    pub resume: Option<PathBuf>,
    /// Overwrite an existing --checkpoint file that this run did not resume from.
    #[arg(long)]
    pub force: bool,
    /// On a non-finite loss, skip the batch and halve the learning rate instead of stopping.
    #[arg(long)]
    pub skip_divergent: bool,
    /// Write loss and score curves to this SVG file.
    #[arg(long)]
    pub plot: Option<PathBuf>,
}

/// `value` as an activation name ([`Activation::from_name`]).
fn parse_activation(value: &str) -> Result<Activation, String> {
    Activation::from_name(value).ok_or_else(|| unknown("activation", value, Activation::names()))
}

/// `value` as a loss name ([`Loss::from_name`]).
fn parse_loss(value: &str) -> Result<Loss, String> {
    Loss::from_name(value).ok_or_else(|| unknown("loss", value, Loss::names()))
}

/// `value` as an optimizer name ([`Optimizer::from_name`]).
fn parse_optimizer(value: &str) -> Result<Optimizer, String> {
    Optimizer::from_name(value).ok_or_else(|| unknown("optimizer", value, Optimizer::NAMES.into_iter()))
}

/// The schedules `--schedule` takes.
pub const SCHEDULES: [&str; 11] = [
    "constant",
    "step",
    "multistep",
    "exponential",
    "cosine",
    "cosine_restarts",
    "linear",
    "polynomial",
    "onecycle",
    "warmup_cosine",
    "plateau",
];

/// `value` if it names a schedule.
fn parse_schedule(value: &str) -> Result<String, String> {
    if SCHEDULES.contains(&value) {
        Ok(value.to_string())
    } else {
        Err(unknown("schedule", value, SCHEDULES.into_iter()))
    }
}

/// The message for a name that is not one of `names`.
fn unknown<'a>(what: &str, value: &str, names: impl Iterator<Item = &'a str>) -> String {
    format!("unknown {what} `{value}`; one of: {}", names.collect::<Vec<_>>().join(", "))
}
