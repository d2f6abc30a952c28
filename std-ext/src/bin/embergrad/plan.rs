//! What a `train` command line asks for, checked before any data is read: the task and its
//! loss, the optimizer, the schedule.

use embergrad::io::Task;
use embergrad::nn::TargetKind;
use embergrad::optim::{Anneal, Optimizer, ReduceOnPlateau, Schedule};
use embergrad::Loss;

use crate::args::{TaskName, TrainArgs};

/// The task `--task` names, or the one `--loss` implies, or classification.
pub fn task(args: &TrainArgs) -> Task {
    match (args.task, args.loss) {
        (Some(TaskName::Classify), _) => Task::Classification,
        (Some(TaskName::Multilabel), _) => Task::MultiLabel,
        (Some(TaskName::Regress), _) => Task::Regression,
        (None, Some(Loss::BceWithLogits)) => Task::MultiLabel,
        (None, Some(loss)) if loss.target_kind() == TargetKind::Values => Task::Regression,
        (None, _) => Task::Classification,
    }
}

/// The task's name on the command line.
pub fn task_name(task: Task) -> &'static str {
    match task {
        Task::Classification => "classify",
        Task::MultiLabel => "multilabel",
        Task::Regression => "regress",
    }
}

/// The loss for `task` (`--loss`, or the task's default), with `--label-smoothing` and
/// `--huber-delta` applied; an error if they do not go together.
pub fn loss(args: &TrainArgs, task: Task) -> Result<Loss, String> {
    let default = match task {
        Task::Classification => Loss::SoftmaxCrossEntropy,
        Task::MultiLabel => Loss::BceWithLogits,
        Task::Regression => Loss::Mse,
    };
    let mut loss = args.loss.unwrap_or(default);
    if let Some(smoothing) = args.label_smoothing {
        loss = match loss {
            Loss::SoftmaxCrossEntropy | Loss::LabelSmoothingCrossEntropy { .. } => {
                Loss::LabelSmoothingCrossEntropy { smoothing }
            }
            other => {
                return Err(format!("--label-smoothing applies to the softmax cross-entropy, not `{}`", other.name()))
            }
        };
    }
    if let Some(delta) = args.huber_delta {
        loss = match loss {
            Loss::Huber { .. } => Loss::Huber { delta },
            other => return Err(format!("--huber-delta applies to the huber loss, not `{}`", other.name())),
        };
    }
    loss.validate().map_err(|e| e.to_string())?;
    let fits = match task {
        Task::Classification => loss.target_kind() == TargetKind::Classes,
        Task::MultiLabel => loss == Loss::BceWithLogits,
        Task::Regression => loss.target_kind() == TargetKind::Values && loss != Loss::BceWithLogits,
    };
    if !fits {
        return Err(format!(
            "loss `{}` does not fit --task {} (classify: softmax_ce, softmax_ce_smoothed; multilabel: bce_logits; \
             regress: mse, l1, huber)",
            loss.name(),
            task_name(task)
        ));
    }
    Ok(loss)
}

/// The optimizer `--optimizer` names (SGD by default) with `--lr` if given; plain and
/// momentum SGD default to 0.1, which suits small networks better than PyTorch's 1e-3.
pub fn optimizer(args: &TrainArgs) -> Result<Optimizer, String> {
    let named = args.optimizer.unwrap_or(Optimizer::Sgd(Default::default()));
    let optimizer = match (args.lr, named) {
        (Some(lr), _) => named.with_lr(lr),
        (None, Optimizer::Sgd(_)) => named.with_lr(0.1),
        (None, _) => named,
    };
    optimizer.validate().map_err(|e| e.to_string())?;
    Ok(optimizer)
}

/// A value that lives as long as the process, for a schedule built from the command line
/// that refers to parts (`Schedule::Sequential`, `Schedule::MultiStep`).
fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// The schedule `args.schedule` names, over `args.epochs`, and the plateau detector for
/// `plateau`.
pub fn schedule(args: &TrainArgs, lr: f32) -> (Schedule, Option<ReduceOnPlateau>) {
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

/// The counts and fractions that must be in range: checked before any data is read.
pub fn check_numbers(args: &TrainArgs) -> Result<(), String> {
    if args.epochs == 0 {
        return Err("--epochs must be at least 1 (nothing would be trained)".into());
    }
    if args.batch == 0 {
        return Err("--batch must be at least 1".into());
    }
    if args.shards == 0 {
        return Err("--shards must be at least 1".into());
    }
    if args.threads == Some(0) {
        return Err("--threads must be at least 1".into());
    }
    if !(0.0..1.0).contains(&args.validation) {
        return Err(format!("--validation {} is not a fraction in [0, 1)", args.validation));
    }
    if args.patience.is_some() && args.validation == 0.0 {
        return Err("--patience watches the validation loss: it needs --validation".into());
    }
    if args.schedule == "plateau" && args.plateau_patience == 0 && args.validation == 0.0 {
        return Err("--schedule plateau with --plateau-patience 0 would lower the rate every epoch".into());
    }
    if let Some(scale) = args.scale {
        if !scale.is_finite() || scale == 0.0 {
            return Err(format!("--scale {scale} must be finite and non-zero"));
        }
        if args.scaling.is_some() {
            return Err("--scale and --scaling both choose the scaling: give one".into());
        }
    }
    if args.max_classes == 0 {
        return Err("--max-classes must be at least 1".into());
    }
    Ok(())
}
