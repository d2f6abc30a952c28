//! `embergrad train`: every argument and output path checked first, then the data read and
//! preprocessed (fitted on the training split only), the network trained, and the model saved
//! with its preprocessing before anything else is printed.

use std::path::Path;

use embergrad::io::Task;
use embergrad::{Activation, Init, LayerSpec, Mlp, Rng, Spec};
use embergrad_std::metrics::{evaluate, Metrics};
use embergrad_std::trainer::{thousands, OnDivergence, Trainer, TrainerConfig};
use embergrad_std::{model, Preprocess, Scaling};

use crate::args::{ScalingName, TrainArgs};
use crate::data::{check_against, read, Role};
use crate::paths::{check_writable, same_file};
use crate::{plan, say, Failure};

pub fn train(args: TrainArgs) -> Result<(), Failure> {
    // Arguments and output paths first: a bad one costs no data loading and no training.
    plan::check_numbers(&args).map_err(Failure::usage)?;
    let task = plan::task(&args);
    let loss = plan::loss(&args, task).map_err(Failure::usage)?;
    let optimizer = plan::optimizer(&args).map_err(Failure::usage)?;
    let (schedule, plateau) = plan::schedule(&args, optimizer.lr());
    check_outputs(&args)?;
    if let Some(threads) = args.threads {
        rayon::ThreadPoolBuilder::new().num_threads(threads).build_global().map_err(|e| Failure::run(e.to_string()))?;
    }

    let targets = &args.data.target;
    let data = read(&args.data.data, targets, task, args.max_classes, Role::Train).map_err(Failure::run)?;
    let test_path = if args.data.data.is_dir() { Some(args.data.data.as_path()) } else { args.test.as_deref() };
    let test = match test_path {
        Some(path) => Some((read(path, targets, task, args.max_classes, Role::Test).map_err(Failure::run)?, path)),
        None => None,
    };
    let (mut train, mut validation) = if args.validation > 0.0 {
        let (t, v) = data.split(args.validation, &mut Rng::with_stream(args.seed, u64::MAX));
        if t.is_empty() || v.is_empty() {
            return Err(Failure::usage(format!(
                "--validation {} leaves no samples on one side of {} samples",
                args.validation,
                data.len()
            )));
        }
        (t, Some(v))
    } else {
        (data, None)
    };
    let outputs = if task == Task::Classification { train.classes() } else { train.value_width() };
    // The labels other data may have: the training data's classes (no bound without labels).
    let classes = if task == Task::Classification { outputs } else { usize::MAX };
    if let Some((test, path)) = &test {
        check_against(test, path, train.features, classes).map_err(Failure::run)?;
        if task != Task::Classification && test.value_width() != outputs {
            return Err(Failure::run(format!(
                "{}: {} target columns, the training data has {outputs}",
                path.display(),
                test.value_width()
            )));
        }
    }
    if let Some(v) = &validation {
        check_against(v, &args.data.data, train.features, classes).map_err(Failure::run)?;
    }

    let resumed = match &args.resume {
        Some(path) => Some(model::load_file(path).map_err(|e| Failure::run(e.to_string()))?),
        None => None,
    };
    let preprocess = match resumed.as_ref().and_then(|m| m.preprocess.clone()) {
        Some(p) => p,
        None => Preprocess::fit(&train, task, scaling(&args), outputs),
    };
    preprocess.apply(&mut train);
    if let Some(v) = &mut validation {
        preprocess.apply(v);
    }
    let mut test = test.map(|(mut t, path)| {
        preprocess.apply(&mut t);
        (t, path.to_path_buf())
    });

    let widths = if args.layers.is_empty() { vec![train.features, 32, outputs] } else { args.layers.clone() };
    check_widths(&widths, train.features, outputs, &args)?;
    let layers: Vec<LayerSpec> = widths
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            LayerSpec::new(w[0], w[1], if i + 2 == widths.len() { Activation::Identity } else { args.activation })
        })
        .collect();
    check_memory(&layers, &args, optimizer.state_buffers())?;

    let config = TrainerConfig {
        epochs: args.epochs,
        batch_size: args.batch,
        optimizer,
        schedule,
        plateau,
        loss,
        task,
        preprocess: Some(preprocess.clone()),
        seed: args.seed,
        shards: args.shards,
        threads: args.threads.unwrap_or(0),
        patience: args.patience,
        checkpoint: args.checkpoint.clone(),
        progress: true,
        on_divergence: if args.skip_divergent {
            OnDivergence::SkipBatch { lr_factor: 0.5 }
        } else {
            OnDivergence::Stop
        },
    };
    let (mut trainer, mut net) = match (&args.resume, resumed) {
        (Some(path), Some(model)) => {
            check_resume(&args, &model, &layers)?;
            let (trainer, net) = Trainer::resume(config, path).map_err(|e| Failure::run(e.to_string()))?;
            say!("resumed from {} after epoch {}", path.display(), trainer.epochs_done());
            (trainer, net)
        }
        _ => {
            let net =
                Mlp::new(&layers, Init::Auto, &mut Rng::new(args.seed)).map_err(|e| Failure::run(e.to_string()))?;
            (Trainer::new(config, net.params().len()).map_err(|e| Failure::run(e.to_string()))?, net)
        }
    };
    let shape: Vec<String> = widths.iter().map(|w| w.to_string()).collect();
    let what = match task {
        Task::Classification => format!("{outputs} classes"),
        Task::MultiLabel => format!("{outputs} yes/no targets"),
        Task::Regression => format!("{outputs} target value(s)"),
    };
    say!(
        "training {} ({}, loss {}) on {} samples ({what}){}",
        shape.join("-"),
        plan::task_name(task),
        loss.name(),
        train.len(),
        test.as_ref().map_or(String::new(), |(t, _)| format!(", testing on {}", t.len()))
    );
    let started = std::time::Instant::now();
    let mut test_error = None;
    let fitted = trainer.fit(&mut net, &train, validation.as_ref(), |report, net| {
        let validation = report.validation.map_or(String::new(), |v| format!("  validation {}", v.summary()));
        let test_score = match &mut test {
            Some((t, _)) => match evaluate(net, t, loss, task, Some(&preprocess)) {
                Ok(m) => format!("  test {}", m.summary()),
                Err(e) => {
                    test_error = Some(e);
                    String::new()
                }
            },
            None => String::new(),
        };
        say!(
            "epoch {:>3}  loss {:.4}{validation}{test_score}  ({} samples/s)",
            report.epoch,
            report.train_loss,
            thousands(f64::from(report.samples_per_second))
        );
    });
    // Whatever happened, the model is saved before anything more is printed.
    if let Some(out) = &args.out {
        model::save_file(out, &net.spec(), net.params(), Some(&preprocess), None)
            .map_err(|e| Failure::run(e.to_string()))?;
    }
    fitted.map_err(|e| Failure::run(e.to_string()))?;
    if let Some(e) = test_error {
        return Err(Failure::run(e.to_string()));
    }
    if let Some(plot) = &args.plot {
        embergrad_std::plot::write_curves(plot, trainer.history())
            .map_err(|e| Failure::run(format!("{}: {e}", plot.display())))?;
    }
    let final_score = match &test {
        Some((t, _)) => {
            let m: Metrics =
                evaluate(&mut net, t, loss, task, Some(&preprocess)).map_err(|e| Failure::run(e.to_string()))?;
            format!("final test {}", m.summary())
        }
        None => match trainer.history().last() {
            Some(last) => match last.validation {
                Some(v) => format!("final training loss {:.4}, validation {}", last.train_loss, v.summary()),
                None => format!("final training loss {:.4}", last.train_loss),
            },
            None => "no epoch to run (the checkpoint had them all)".to_string(),
        },
    };
    say!("{final_score} after {:.2?}", started.elapsed());
    if let Some(out) = &args.out {
        say!("saved the model to {}", out.display());
    }
    if let Some(plot) = &args.plot {
        say!("wrote the curves to {}", plot.display());
    }
    Ok(())
}

/// The scaling `--scale`/`--scaling` ask for, or the default: standardisation for CSV,
/// 1/255 for an MNIST folder's pixels.
fn scaling(args: &TrainArgs) -> Scaling {
    match (args.scale, args.scaling) {
        (Some(factor), _) => Scaling::Constant(factor),
        (None, Some(ScalingName::Standardize)) => Scaling::Standardize,
        (None, Some(ScalingName::Minmax)) => Scaling::MinMax,
        (None, Some(ScalingName::None)) => Scaling::Constant(1.0),
        (None, None) if args.data.data.is_dir() => Scaling::Constant(1.0 / 255.0),
        (None, None) => Scaling::Standardize,
    }
}

/// Every path the run will write: writable, not an input, not each other; an existing
/// checkpoint is kept unless this run resumes from it or `--force` says otherwise.
fn check_outputs(args: &TrainArgs) -> Result<(), Failure> {
    let mut inputs: Vec<&Path> = vec![args.data.data.as_path()];
    inputs.extend(args.test.as_deref());
    for (what, path) in [("--out", &args.out), ("--checkpoint", &args.checkpoint), ("--plot", &args.plot)] {
        if let Some(path) = path {
            check_writable(what, path, &inputs).map_err(Failure::usage)?;
        }
    }
    let outputs = [("--out", &args.out), ("--checkpoint", &args.checkpoint), ("--plot", &args.plot)];
    for (i, (what, a)) in outputs.iter().enumerate() {
        for (other, b) in &outputs[i + 1..] {
            if let (Some(a), Some(b)) = (a, b) {
                if same_file(a, b) {
                    return Err(Failure::usage(format!("{what} and {other} are the same file, {}", a.display())));
                }
            }
        }
    }
    if let Some(checkpoint) = &args.checkpoint {
        let resuming_it = args.resume.as_deref().is_some_and(|r| same_file(r, checkpoint));
        if checkpoint.exists() && !resuming_it && !args.force {
            return Err(Failure::usage(format!(
                "--checkpoint {} exists and this run does not resume from it; pass --force to overwrite it",
                checkpoint.display()
            )));
        }
    }
    Ok(())
}

/// The layer widths: the data's inputs first, the task's outputs last, none zero.
fn check_widths(widths: &[usize], features: usize, outputs: usize, args: &TrainArgs) -> Result<(), Failure> {
    let fits = widths.len() >= 2 && widths[0] == features && widths.last() == Some(&outputs) && !widths.contains(&0);
    if fits {
        return Ok(());
    }
    let wanted = if args.layers.is_empty() { String::new() } else { format!("--layers {widths:?}: ") };
    Err(Failure::usage(format!(
        "{wanted}the network must take the data's {features} features and give {outputs} outputs, every width at least 1"
    )))
}

/// The network fits the model file (u32 counts) and this machine's memory: params, grads,
/// the optimizer's buffers and a gradient per shard are reserved once, up front, so a run
/// that cannot fit is an error instead of an abort.
fn check_memory(layers: &[LayerSpec], args: &TrainArgs, state_buffers: usize) -> Result<(), Failure> {
    let params = layers
        .iter()
        .try_fold(0usize, |total, l| l.inputs.checked_add(1)?.checked_mul(l.outputs)?.checked_add(total))
        .filter(|&n| n <= u32::MAX as usize)
        .ok_or_else(|| {
            Failure::usage("the network has more parameters than a model file can hold (2^32)".to_string())
        })?;
    let floats = params.saturating_mul(2 + state_buffers + args.shards);
    let mut probe: Vec<f32> = Vec::new();
    probe.try_reserve_exact(floats).map_err(|_| {
        Failure::run(format!(
            "the network has {params} parameters: with its gradients and optimizer state that is {:.1} GB, more than this machine can hold",
            floats as f64 * 4e-9
        ))
    })?;
    Ok(())
}

/// A resumed run must ask for what the checkpoint holds: a conflicting `--layers`,
/// `--optimizer` or `--lr` is an error that names what differs.
fn check_resume(args: &TrainArgs, model: &model::Model, layers: &[LayerSpec]) -> Result<(), Failure> {
    let differs = |what: &str, ours: String, theirs: String| {
        Failure::usage(format!("{what} {ours} differs from the checkpoint's {theirs}; leave it out to resume"))
    };
    if !args.layers.is_empty() && model.layers != layers {
        let widths =
            |l: &[LayerSpec]| Spec::new(l).layers().iter().map(|l| l.outputs.to_string()).collect::<Vec<_>>().join(",");
        return Err(differs("--layers", format!("{:?}", args.layers), widths(&model.layers)));
    }
    if let Some(checkpoint) = &model.checkpoint {
        if let Some(optimizer) = args.optimizer {
            if optimizer.name() != checkpoint.optimizer.name() {
                return Err(differs("--optimizer", optimizer.name().into(), checkpoint.optimizer.name().into()));
            }
        }
        if let Some(lr) = args.lr {
            if lr != checkpoint.optimizer.lr() {
                return Err(differs("--lr", lr.to_string(), checkpoint.optimizer.lr().to_string()));
            }
        }
    }
    Ok(())
}
