//! `embergrad`: train, evaluate and use classifiers from the command line.
//!
//! `embergrad train` with no options trains a 64-32-10 network on the digits data shipped in
//! `data/digits/` and prints the test accuracy per epoch.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use embergrad::nn::TargetKind;
use embergrad::optim::{Anneal, Optimizer, ReduceOnPlateau, Schedule};
use embergrad::{argmax, Activation, Init, LayerSpec, Loss, Mlp, Rng};
use embergrad_std::trainer::{evaluate, OnDivergence, Trainer, TrainerConfig};
use embergrad_std::Dataset;

#[derive(Parser)]
#[command(name = "embergrad", version, about = "Train, evaluate and use dense neural networks.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Train a classifier (ReLU hidden layers and softmax cross-entropy unless told otherwise).
    Train(Box<TrainArgs>),
    /// Evaluate a saved model on a dataset: loss and accuracy.
    Eval {
        /// The model file (embergrad format).
        #[arg(long)]
        model: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Print the predicted class of every sample of a dataset.
    Predict {
        /// The model file (embergrad format).
        #[arg(long)]
        model: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
}

#[derive(clap::Args)]
struct DataArgs {
    /// A CSV file with a header, or a folder with MNIST's IDX files (gzipped or not).
    #[arg(long, default_value = "data/digits/digits_test.csv")]
    data: PathBuf,
    /// The CSV column holding the class label.
    #[arg(long, default_value = "label")]
    label: String,
    /// Factor applied to every CSV feature (IDX pixels are always scaled by 1/255).
    #[arg(long, default_value_t = 1.0 / 16.0)]
    scale: f32,
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
const SCHEDULES: [&str; 11] = [
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

#[derive(clap::Args)]
struct TrainArgs {
    /// Training data: a CSV file with a header, or a folder with MNIST's IDX files.
    #[arg(long, default_value = "data/digits/digits_train.csv")]
    data: PathBuf,
    /// Test data (CSV). For an MNIST folder the t10k files are used.
    #[arg(long, default_value = "data/digits/digits_test.csv")]
    test: PathBuf,
    /// The CSV column holding the class label.
    #[arg(long, default_value = "label")]
    label: String,
    /// Factor applied to every CSV feature (IDX pixels are always scaled by 1/255).
    #[arg(long, default_value_t = 1.0 / 16.0)]
    scale: f32,
    /// Layer widths, input to output, e.g. 784,256,128,10 (default: inputs,32,classes).
    #[arg(long, value_delimiter = ',')]
    layers: Vec<usize>,
    /// Activation of the hidden layers: identity, relu, leaky_relu, sigmoid, tanh, gelu,
    /// gelu_tanh, silu, elu, softplus, mish.
    #[arg(long, value_parser = parse_activation, default_value = "relu")]
    activation: Activation,
    /// Loss: softmax_ce (or softmax_ce_smoothed, see --label-smoothing); this command trains
    /// classifiers, so the losses on value targets (mse, l1, huber, bce_logits) are refused.
    #[arg(long, value_parser = parse_loss, default_value = "softmax_ce")]
    loss: Loss,
    /// Label smoothing of the cross-entropy, in [0, 1] (PyTorch's `label_smoothing`).
    #[arg(long)]
    label_smoothing: Option<f32>,
    /// Optimizer, with PyTorch's update rules and defaults: sgd, momentum (SGD with momentum
    /// 0.9), adagrad, rmsprop, adam, adamw, nadam, radam, adamax, adadelta, rprop.
    #[arg(long, value_parser = parse_optimizer, default_value = "sgd")]
    optimizer: Optimizer,
    /// Learning rate (default: 0.1 for SGD and momentum, the optimizer's PyTorch default otherwise).
    #[arg(long)]
    lr: Option<f32>,
    /// Learning-rate schedule over the epochs: constant; step (x --gamma every --step-size
    /// epochs); multistep (x --gamma at each of --milestones); exponential (x --gamma per
    /// epoch); cosine (to 0 at the last epoch); cosine_restarts (periods of --step-size
    /// epochs, each twice the last); linear (warm-up over --warmup epochs from a tenth);
    /// polynomial (linearly to 0); onecycle (up to --max-lr and down); warmup_cosine
    /// (--warmup epochs of linear warm-up, then cosine); plateau (x --gamma when the
    /// validation loss has not improved for --plateau-patience epochs).
    #[arg(long, value_parser = parse_schedule, default_value = "constant")]
    schedule: String,
    /// Decay factor of the step, multistep, exponential and plateau schedules (default 0.1;
    /// 0.95 for exponential).
    #[arg(long)]
    gamma: Option<f32>,
    /// Epochs between decays (step) or of the first period (cosine_restarts) (default: a
    /// third of the epochs).
    #[arg(long)]
    step_size: Option<u64>,
    /// Epochs at which multistep decays (default: at half and three quarters of the run).
    #[arg(long, value_delimiter = ',')]
    milestones: Vec<u64>,
    /// Warm-up epochs of linear and warmup_cosine (default: a tenth of the epochs, at least 1).
    #[arg(long)]
    warmup: Option<u64>,
    /// Peak learning rate of onecycle (default: ten times --lr).
    #[arg(long)]
    max_lr: Option<f32>,
    /// Epochs without improvement before plateau lowers the rate.
    #[arg(long, default_value_t = 2)]
    plateau_patience: u32,
    #[arg(long, default_value_t = 30)]
    /// Passes over the training data.
    epochs: usize,
    /// Samples per step.
    #[arg(long, default_value_t = 16)]
    batch: usize,
    /// Seed of the initialisation and the shuffling.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Threads for data parallelism (default: all cores). Results do not depend on it.
    #[arg(long)]
    threads: Option<usize>,
    /// Shards per minibatch (results depend on this, not on --threads).
    #[arg(long, default_value_t = 2)]
    shards: usize,
    /// Hold out this fraction of the training data for validation each epoch.
    #[arg(long, default_value_t = 0.0)]
    validation: f32,
    /// Stop when the validation loss has not improved for this many epochs.
    #[arg(long)]
    patience: Option<usize>,
    /// Write the trained model here (embergrad format, atomically).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Write a checkpoint here after every epoch (model and optimizer state).
    #[arg(long)]
    checkpoint: Option<PathBuf>,
    /// Resume from a checkpoint written with --checkpoint.
    #[arg(long)]
    resume: Option<PathBuf>,
    /// On a non-finite loss, skip the batch and halve the learning rate instead of stopping.
    #[arg(long)]
    skip_divergent: bool,
    /// Write loss and accuracy curves to this SVG file.
    #[arg(long)]
    plot: Option<PathBuf>,
}

/// Reads a CSV file, or MNIST's train (or t10k) IDX files from a folder.
fn read_data(path: &Path, label: &str, scale: f32, test: bool) -> Result<Dataset, Box<dyn std::error::Error>> {
    if path.is_dir() {
        let prefix = if test { "t10k" } else { "train" };
        let find = |kind: &str| {
            ["", ".gz"]
                .iter()
                .map(|ext| path.join(format!("{prefix}-{kind}{ext}")))
                .find(|p| p.exists())
                .ok_or_else(|| format!("{}: no {prefix}-{kind}[.gz]", path.display()))
        };
        Ok(Dataset::from_idx(find("images-idx3-ubyte")?, find("labels-idx1-ubyte")?, 1.0 / 255.0)?)
    } else {
        Ok(Dataset::from_csv(path, label, scale)?)
    }
}

/// The optimizer with `--lr` if given; plain and momentum SGD default to 0.1, which suits
/// this command's small classifiers better than PyTorch's 1e-3.
fn optimizer(named: Optimizer, lr: Option<f32>) -> Optimizer {
    match (lr, named) {
        (Some(lr), _) => named.with_lr(lr),
        (None, Optimizer::Sgd(_)) => named.with_lr(0.1),
        (None, _) => named,
    }
}

/// A value that lives as long as the process, for a schedule built from the command line
/// that refers to parts (`Schedule::Sequential`, `Schedule::MultiStep`).
fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// The schedule `args.schedule` names, over `args.epochs`, and the plateau detector for
/// `plateau`.
fn schedule(args: &TrainArgs, lr: f32) -> (Schedule, Option<ReduceOnPlateau>) {
    let epochs = args.epochs as u64;
    let gamma = args.gamma.unwrap_or(0.1);
    let warmup = args.warmup.unwrap_or((epochs / 10).max(1));
    let cosine = |t_max| Schedule::CosineAnnealing { t_max, eta_min: 0.0 };
    let schedule = match args.schedule.as_str() {
        "step" => Schedule::Step { step_size: args.step_size.unwrap_or((epochs / 3).max(1)), gamma },
        "multistep" => {
            let milestones =
                if args.milestones.is_empty() { vec![epochs / 2, epochs * 3 / 4] } else { args.milestones.clone() };
            Schedule::MultiStep { milestones: leak(milestones), gamma }
        }
        "exponential" => Schedule::Exponential { gamma: args.gamma.unwrap_or(0.95) },
        "cosine" => cosine(epochs),
        "cosine_restarts" => {
            Schedule::CosineWarmRestarts { t_0: args.step_size.unwrap_or((epochs / 3).max(1)), t_mult: 2, eta_min: 0.0 }
        }
        "linear" => Schedule::Linear { start_factor: 0.1, end_factor: 1.0, total_iters: warmup },
        "polynomial" => Schedule::Polynomial { total_iters: epochs, power: 1.0 },
        "onecycle" => Schedule::OneCycle {
            max_lr: args.max_lr.unwrap_or(10.0 * lr),
            total_steps: epochs.max(2),
            pct_start: 0.3,
            anneal: Anneal::Cosine,
            div_factor: 25.0,
            final_div_factor: 1e4,
        },
        "warmup_cosine" => Schedule::Sequential {
            first: leak(Schedule::Linear { start_factor: 0.1, end_factor: 1.0, total_iters: warmup }),
            milestone: warmup,
            then: leak(cosine(epochs.saturating_sub(warmup).max(1))),
        },
        _ => Schedule::Constant,
    };
    let plateau = (args.schedule == "plateau").then(|| {
        let mut plateau = ReduceOnPlateau::new(lr);
        plateau.factor = gamma;
        plateau.patience = args.plateau_patience;
        plateau
    });
    (schedule, plateau)
}

/// The loss `--loss` and `--label-smoothing` ask for, if this command can train with it.
fn classification_loss(args: &TrainArgs) -> Result<Loss, String> {
    let loss = match (args.loss, args.label_smoothing) {
        (Loss::SoftmaxCrossEntropy | Loss::LabelSmoothingCrossEntropy { .. }, Some(smoothing)) => {
            Loss::LabelSmoothingCrossEntropy { smoothing }
        }
        (loss, Some(_)) => {
            return Err(format!("--label-smoothing applies to the softmax cross-entropy, not `{}`", loss.name()))
        }
        (loss, None) => loss,
    };
    loss.validate().map_err(|e| e.to_string())?;
    if loss.target_kind() != TargetKind::Classes {
        return Err(format!(
            "loss `{}` needs value targets; `embergrad train` trains classifiers on class labels \
             (use softmax_ce or softmax_ce_smoothed)",
            loss.name()
        ));
    }
    Ok(loss)
}

fn train(args: TrainArgs) -> Result<(), Box<dyn std::error::Error>> {
    // The arguments first, so a bad one costs no data loading.
    let loss = classification_loss(&args)?;
    let optimizer = optimizer(args.optimizer, args.lr);
    optimizer.validate()?;
    let (schedule, plateau) = schedule(&args, optimizer.lr());
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global()?;
    }
    let data = read_data(&args.data, &args.label, args.scale, false)?;
    let test_path = if args.data.is_dir() { &args.data } else { &args.test };
    let test = read_data(test_path, &args.label, args.scale, true)?;
    let (train, validation) = if args.validation > 0.0 {
        let (t, v) = data.split(args.validation, &mut Rng::with_stream(args.seed, u64::MAX));
        (t, Some(v))
    } else {
        (data, None)
    };
    let classes = train.classes().max(test.classes());
    let widths = if args.layers.is_empty() { vec![train.features, 32, classes] } else { args.layers.clone() };
    if widths.len() < 2 || widths[0] != train.features || *widths.last().unwrap_or(&0) < classes {
        return Err(format!(
            "--layers {:?} does not fit the data: {} inputs and {classes} classes",
            widths, train.features
        )
        .into());
    }
    let hidden = args.activation;
    let layers: Vec<LayerSpec> = widths
        .windows(2)
        .enumerate()
        .map(|(i, w)| LayerSpec::new(w[0], w[1], if i + 2 == widths.len() { Activation::Identity } else { hidden }))
        .collect();
    let config = TrainerConfig {
        epochs: args.epochs,
        batch_size: args.batch,
        optimizer,
        schedule,
        plateau,
        loss,
        seed: args.seed,
        shards: args.shards,
        patience: args.patience,
        checkpoint: args.checkpoint.clone(),
        progress: true,
        on_divergence: if args.skip_divergent {
            OnDivergence::SkipBatch { lr_factor: 0.5 }
        } else {
            OnDivergence::Stop
        },
    };
    let (mut trainer, mut net) = match &args.resume {
        Some(path) => {
            let (trainer, net) = Trainer::resume(config, path)?;
            println!("resumed from {} after epoch {}", path.display(), trainer.epochs_done());
            (trainer, net)
        }
        None => {
            let net = Mlp::new(&layers, Init::Auto, &mut Rng::new(args.seed))?;
            (Trainer::new(config, net.params().len())?, net)
        }
    };
    let names: Vec<String> = std::iter::once(net.spec().inputs())
        .chain(net.spec().layers().iter().map(|l| l.outputs))
        .map(|w| w.to_string())
        .collect();
    println!("training {} on {} samples ({classes} classes), testing on {}", names.join("-"), train.len(), test.len());
    let started = std::time::Instant::now();
    let mut test_error = None;
    trainer.fit(&mut net, &train, validation.as_ref(), |report, net| {
        let validation = match (report.validation_loss, report.validation_accuracy) {
            (Some(l), Some(a)) => format!("  validation loss {l:.4} accuracy {:.2}%", 100.0 * a),
            _ => String::new(),
        };
        match evaluate(net, &test, Loss::SoftmaxCrossEntropy) {
            Ok((_, accuracy)) => println!(
                "epoch {:>3}  loss {:.4}{validation}  test accuracy {:.2}%  ({:.0} samples/s)",
                report.epoch,
                report.train_loss,
                100.0 * accuracy,
                report.samples_per_second
            ),
            Err(e) => test_error = Some(e),
        }
    })?;
    if let Some(e) = test_error {
        return Err(e.into());
    }
    let (_, accuracy) = evaluate(&mut net, &test, Loss::SoftmaxCrossEntropy)?;
    println!("final test accuracy {:.2}% after {:.2?}", 100.0 * accuracy, started.elapsed());
    if let Some(out) = &args.out {
        embergrad_std::model::save_file(out, &net.spec(), net.params(), None)?;
        println!("saved the model to {}", out.display());
    }
    if let Some(plot) = &args.plot {
        embergrad_std::plot::write_curves(plot, trainer.history())?;
        println!("wrote the curves to {}", plot.display());
    }
    Ok(())
}

fn load(model: &Path, data: &DataArgs) -> Result<(Mlp, Dataset), Box<dyn std::error::Error>> {
    let saved = embergrad_std::model::load_file(model)?;
    let net = Mlp::from_params(&saved.layers, saved.params)?;
    let dataset = read_data(&data.data, &data.label, data.scale, true)?;
    if dataset.features != net.spec().inputs() {
        return Err(format!(
            "{} has {} features per sample, the model takes {}",
            data.data.display(),
            dataset.features,
            net.spec().inputs()
        )
        .into());
    }
    Ok((net, dataset))
}

fn run(cli: Cli) -> Result<(), Box<dyn std::error::Error>> {
    match cli.command {
        Command::Train(args) => train(*args),
        Command::Eval { model, data } => {
            let (mut net, dataset) = load(&model, &data)?;
            let (loss, accuracy) = evaluate(&mut net, &dataset, Loss::SoftmaxCrossEntropy)?;
            println!("{} samples: loss {loss:.4}, accuracy {:.2}%", dataset.len(), 100.0 * accuracy);
            Ok(())
        }
        Command::Predict { model, data } => {
            let (mut net, dataset) = load(&model, &data)?;
            let classes = net.spec().outputs();
            for start in (0..dataset.len()).step_by(256) {
                let end = (start + 256).min(dataset.len());
                let outputs =
                    net.forward(&dataset.inputs[start * dataset.features..end * dataset.features], end - start)?;
                for row in outputs.chunks_exact(classes) {
                    println!("{}", argmax(row));
                }
            }
            Ok(())
        }
    }
}

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
