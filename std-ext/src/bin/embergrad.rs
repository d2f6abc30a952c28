//! `embergrad`: train, evaluate and use classifiers from the command line.
//!
//! `embergrad train` with no options trains a 64-32-10 network on the digits data shipped in
//! `data/digits/` and prints the test accuracy per epoch.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use embergrad::optim::{Adagrad, Adam, Optimizer, RmsProp, Schedule, Sgd};
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
    /// Train a classifier (ReLU hidden layers, softmax cross-entropy).
    Train(TrainArgs),
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

#[derive(Clone, Copy, ValueEnum)]
enum OptimizerName {
    Sgd,
    Momentum,
    Adagrad,
    Rmsprop,
    Adam,
    Adamw,
}

#[derive(Clone, Copy, ValueEnum)]
enum ActivationName {
    Relu,
    LeakyRelu,
    Tanh,
    Sigmoid,
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
    /// Activation of the hidden layers.
    #[arg(long, value_enum, default_value = "relu")]
    activation: ActivationName,
    /// Optimizer (PyTorch's update rules and defaults).
    #[arg(long, value_enum, default_value = "sgd")]
    optimizer: OptimizerName,
    /// Learning rate (default: 0.1 for SGD and momentum, the optimizer's PyTorch default otherwise).
    #[arg(long)]
    lr: Option<f32>,
    /// Cosine-anneal the learning rate to 0 over the epochs.
    #[arg(long)]
    cosine: bool,
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

fn optimizer(name: OptimizerName, lr: Option<f32>) -> Optimizer {
    match name {
        OptimizerName::Sgd => Optimizer::Sgd(Sgd::new(lr.unwrap_or(0.1))),
        OptimizerName::Momentum => Optimizer::Sgd(Sgd { lr: lr.unwrap_or(0.1), momentum: 0.9, ..Sgd::default() }),
        OptimizerName::Adagrad => Optimizer::Adagrad(Adagrad { lr: lr.unwrap_or(1e-2), ..Adagrad::default() }),
        OptimizerName::Rmsprop => Optimizer::RmsProp(RmsProp { lr: lr.unwrap_or(1e-2), ..RmsProp::default() }),
        OptimizerName::Adam => Optimizer::Adam(Adam { lr: lr.unwrap_or(1e-3), ..Adam::default() }),
        OptimizerName::Adamw => Optimizer::Adam(Adam { lr: lr.unwrap_or(1e-3), ..Adam::adamw() }),
    }
}

fn train(args: TrainArgs) -> Result<(), Box<dyn std::error::Error>> {
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
    let hidden = match args.activation {
        ActivationName::Relu => Activation::Relu,
        ActivationName::LeakyRelu => Activation::LeakyRelu,
        ActivationName::Tanh => Activation::Tanh,
        ActivationName::Sigmoid => Activation::Sigmoid,
    };
    let layers: Vec<LayerSpec> = widths
        .windows(2)
        .enumerate()
        .map(|(i, w)| LayerSpec::new(w[0], w[1], if i + 2 == widths.len() { Activation::Identity } else { hidden }))
        .collect();
    let config = TrainerConfig {
        epochs: args.epochs,
        batch_size: args.batch,
        optimizer: optimizer(args.optimizer, args.lr),
        schedule: if args.cosine {
            Schedule::CosineAnnealing { t_max: args.epochs as u64, eta_min: 0.0 }
        } else {
            Schedule::Constant
        },
        loss: Loss::SoftmaxCrossEntropy,
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
        Command::Train(args) => train(args),
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
