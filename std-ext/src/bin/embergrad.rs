//! `embergrad`: train a classifier on a CSV dataset and report test accuracy.
//!
//! `embergrad train` with no options trains a 64-32-10 network on the digits data shipped in
//! `data/digits/`.

use std::process::ExitCode;

use embergrad::optim::{Optimizer, Sgd};
use embergrad::{Activation, Init, LayerSpec, Mlp, Rng};
use embergrad_std::train::{evaluate_accuracy, train_classifier, ClassifierConfig};
use embergrad_std::Dataset;

const USAGE: &str = "usage: embergrad train [--train CSV] [--test CSV] [--label COLUMN] [--scale S]
                       [--hidden N,N,...] [--epochs N] [--batch N] [--lr X] [--seed N] [--out FILE]

Trains a ReLU MLP with softmax cross-entropy and SGD on a CSV file with a header, then
prints the test accuracy; with --out, saves the trained model (embergrad format, written
atomically). Defaults: the digits data in data/digits/, label column `label`, scale 1/16,
hidden 32, 30 epochs, batch 16, lr 0.1, seed 1.";

struct Options {
    train: String,
    test: String,
    label: String,
    scale: f32,
    hidden: Vec<usize>,
    config: ClassifierConfig,
    out: Option<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        train: "data/digits/digits_train.csv".into(),
        test: "data/digits/digits_test.csv".into(),
        label: "label".into(),
        scale: 1.0 / 16.0,
        hidden: vec![32],
        config: ClassifierConfig::default(),
        out: None,
    };
    match args.first().map(String::as_str) {
        Some("train") => {}
        Some("--help" | "-h") | None => return Err(USAGE.into()),
        Some(other) => return Err(format!("unknown command `{other}`\n\n{USAGE}")),
    }
    let mut rest = args[1..].iter();
    while let Some(flag) = rest.next() {
        let value = rest.next().ok_or_else(|| format!("`{flag}` needs a value\n\n{USAGE}"))?;
        let bad = |what: &str| format!("`{flag} {value}`: expected {what}");
        match flag.as_str() {
            "--train" => options.train = value.clone(),
            "--test" => options.test = value.clone(),
            "--label" => options.label = value.clone(),
            "--scale" => options.scale = value.parse().map_err(|_| bad("a number"))?,
            "--hidden" => {
                options.hidden = value
                    .split(',')
                    .map(|w| w.trim().parse().map_err(|_| bad("comma-separated widths")))
                    .collect::<Result<_, _>>()?
            }
            "--epochs" => options.config.epochs = value.parse().map_err(|_| bad("an integer"))?,
            "--batch" => options.config.batch_size = value.parse().map_err(|_| bad("an integer"))?,
            "--lr" => options.config.optimizer = Optimizer::Sgd(Sgd::new(value.parse().map_err(|_| bad("a number"))?)),
            "--seed" => options.config.seed = value.parse().map_err(|_| bad("an integer"))?,
            "--out" => options.out = Some(value.clone()),
            _ => return Err(format!("unknown option `{flag}`\n\n{USAGE}")),
        }
    }
    Ok(options)
}

fn run(options: &Options) -> Result<(), Box<dyn std::error::Error>> {
    let train = Dataset::from_csv(&options.train, &options.label, options.scale)?;
    let test = Dataset::from_csv(&options.test, &options.label, options.scale)?;
    let classes = train.classes().max(test.classes());
    let mut widths = vec![train.features];
    widths.extend(&options.hidden);
    widths.push(classes);
    let layers: Vec<LayerSpec> = widths
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let activation = if i + 2 == widths.len() { Activation::Identity } else { Activation::Relu };
            LayerSpec::new(w[0], w[1], activation)
        })
        .collect();
    println!(
        "training {} on {} samples ({} classes), testing on {}",
        widths.iter().map(usize::to_string).collect::<Vec<_>>().join("-"),
        train.len(),
        classes,
        test.len()
    );
    let mut net = Mlp::new(&layers, Init::Auto, &mut Rng::new(options.config.seed))?;
    let start = std::time::Instant::now();
    let mut evaluation_error = None;
    train_classifier(&mut net, &train, &options.config, |report, net| match evaluate_accuracy(net, &test) {
        Ok(acc) => {
            println!("epoch {:>3}  loss {:.4}  test accuracy {:.2}%", report.epoch, report.mean_loss, 100.0 * acc)
        }
        Err(e) => evaluation_error = Some(e),
    })?;
    if let Some(e) = evaluation_error {
        return Err(e.into());
    }
    let accuracy = evaluate_accuracy(&mut net, &test)?;
    println!("final test accuracy {:.2}% after {:.2?}", 100.0 * accuracy, start.elapsed());
    if let Some(out) = &options.out {
        embergrad_std::model::save_file(out, &net.spec(), net.params(), None)?;
        println!("saved the model to {out}");
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match run(&options) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
