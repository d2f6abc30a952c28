//! The commands that use a saved model: `eval`, `predict`, `export`, `import`. Data goes
//! through the preprocessing the model carries, so no flag can disagree with training.

use embergrad::io::Task;
use embergrad::{Loss, Mlp};
use embergrad_std::metrics::evaluate;
use embergrad_std::model::{self, Model};
use embergrad_std::{Dataset, Preprocess};

use crate::args::{OutputFormat, PredictArgs, UseArgs};
use crate::data::{read, Role};
use crate::paths::check_writable;
use crate::{say, Failure};

/// The model, and the data read and preprocessed as it expects.
fn load(args: &UseArgs, role: Role) -> Result<(Mlp, Dataset, Task, Option<Preprocess>), Failure> {
    let saved: Model = model::load_file(&args.model).map_err(|e| Failure::run(e.to_string()))?;
    let task = saved.preprocess.as_ref().map_or(Task::Classification, |p| p.task);
    if saved.preprocess.is_some() && args.scale.is_some() {
        return Err(Failure::usage(format!(
            "{} carries the preprocessing it was trained with; --scale would disagree with it",
            args.model.display()
        )));
    }
    let net = Mlp::from_params(&saved.layers, saved.params).map_err(|e| Failure::run(e.to_string()))?;
    let mut data = read(&args.data.data, &args.data.target, task, usize::MAX, role).map_err(Failure::run)?;
    if data.features != net.spec().inputs() {
        return Err(Failure::run(format!(
            "{} has {} features per sample, the model takes {}{}",
            args.data.data.display(),
            data.features,
            net.spec().inputs(),
            if data.features > net.spec().inputs() { " (name the file's target columns with --target)" } else { "" }
        )));
    }
    match &saved.preprocess {
        Some(p) => p.apply(&mut data),
        None => {
            let scale = args.scale.unwrap_or(1.0);
            data.inputs.iter_mut().for_each(|x| *x *= scale);
        }
    }
    Ok((net, data, task, saved.preprocess))
}

/// The loss a model of `task` is scored with.
fn loss_for(task: Task) -> Loss {
    match task {
        Task::Classification => Loss::SoftmaxCrossEntropy,
        Task::MultiLabel => Loss::BceWithLogits,
        Task::Regression => Loss::Mse,
    }
}

pub fn eval(args: UseArgs) -> Result<(), Failure> {
    let (mut net, data, task, preprocess) = load(&args, Role::Test)?;
    let metrics = evaluate(&mut net, &data, loss_for(task), task, preprocess.as_ref())
        .map_err(|e| Failure::run(e.to_string()))?;
    say!("{} samples: {}", data.len(), metrics.summary());
    Ok(())
}

pub fn predict(args: PredictArgs) -> Result<(), Failure> {
    let (mut net, data, task, preprocess) = load(&args.model, Role::Predict)?;
    let width = net.spec().outputs();
    if args.output == OutputFormat::Csv {
        let names: Vec<String> = (0..width)
            .map(|k| match task {
                Task::Classification | Task::MultiLabel => format!("p{k}"),
                Task::Regression => format!("y{k}"),
            })
            .collect();
        let class = if task == Task::Classification { "class," } else { "" };
        say!("{class}{}", names.join(","));
    }
    for start in (0..data.len()).step_by(256) {
        let end = (start + 256).min(data.len());
        let mut outputs = net
            .forward(&data.inputs[start * data.features..end * data.features], end - start)
            .map_err(|e| Failure::run(e.to_string()))?
            .to_vec();
        if let Some(p) = &preprocess {
            p.outputs_to_targets(&mut outputs);
        }
        for row in outputs.chunks_exact_mut(width) {
            let class = embergrad::argmax(row);
            match task {
                Task::Classification => {
                    embergrad::kernels::softmax_in_place(row);
                }
                Task::MultiLabel => embergrad::Activation::Sigmoid.apply_slice(row),
                Task::Regression => {}
            }
            let values: Vec<String> = row.iter().map(|v| v.to_string()).collect();
            let line = match (args.output, task) {
                (OutputFormat::Csv, Task::Classification) => format!("{class},{}", values.join(",")),
                (OutputFormat::Csv, _) | (OutputFormat::Plain, Task::Regression) => values.join(","),
                (OutputFormat::Plain, Task::Classification) => class.to_string(),
                (OutputFormat::Plain, Task::MultiLabel) => {
                    row.iter().map(|&p| if p >= 0.5 { "1" } else { "0" }).collect::<Vec<_>>().join(",")
                }
            };
            if !say!("{line}") {
                return Ok(()); // the reader went away (e.g. `| head`): nothing more to do
            }
        }
    }
    Ok(())
}

pub fn export(model_path: &std::path::Path, out: &std::path::Path) -> Result<(), Failure> {
    check_writable("--out", out, &[model_path]).map_err(Failure::usage)?;
    let saved = model::load_file(model_path).map_err(|e| Failure::run(e.to_string()))?;
    model::save_safetensors(out, &saved.spec(), &saved.params).map_err(|e| Failure::run(e.to_string()))?;
    say!("wrote {} ({} layers) as safetensors to {}", model_path.display(), saved.layers.len(), out.display());
    if saved.preprocess.is_some() {
        say!(
            "note: safetensors holds the weights only; apply the model's preprocessing yourself (see `embergrad eval`)"
        );
    }
    Ok(())
}

pub fn import(from: &std::path::Path, out: &std::path::Path) -> Result<(), Failure> {
    check_writable("--out", out, &[from]).map_err(Failure::usage)?;
    let (layers, params) = model::load_safetensors(from).map_err(|e| Failure::run(e.to_string()))?;
    let spec = embergrad::Spec::new(&layers);
    model::save_file(out, &spec, &params, None, None).map_err(|e| Failure::run(e.to_string()))?;
    say!("wrote {} ({} layers) to {}", from.display(), layers.len(), out.display());
    Ok(())
}
