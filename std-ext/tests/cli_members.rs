//! Every activation, loss, optimizer and schedule is reachable from `embergrad train` by the
//! name the core gives it (parsed with the core's `from_name`) and trains a short run on data
//! shipped in the repository; an unknown name, or a loss that does not fit the task, is
//! refused with the valid names before any data is read.

mod common;

use common::{repo_data, run_paths, texts, train_digits as train};
use embergrad::optim::Optimizer;
use embergrad::{Activation, Loss};

fn assert_trains(extra: &[&str]) {
    let out = train(extra);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{extra:?}: {stderr}");
    assert!(stdout.contains("final test") && stdout.contains("accuracy"), "{extra:?}: {stdout}");
}

#[test]
fn the_cli_lists_the_cores_names() {
    assert_eq!(listed_names("--activation"), Activation::names().collect::<Vec<_>>());
    assert_eq!(listed_names("--loss"), Loss::names().collect::<Vec<_>>());
    assert_eq!(listed_names("--optimizer"), Optimizer::NAMES.to_vec());
}

#[test]
fn every_activation_and_optimizer_trains_by_name() {
    for activation in Activation::ALL {
        assert_trains(&["--activation", activation.name()]);
    }
    for name in Optimizer::NAMES.into_iter().chain(["adamw", "momentum"]) {
        assert_trains(&["--optimizer", name]);
    }
}

/// The names an unknown value of `flag` is told to choose from.
fn listed_names(flag: &str) -> Vec<String> {
    let stderr = String::from_utf8(train(&[flag, "no-such-name"]).stderr).unwrap();
    let list = stderr.split("one of: ").nth(1).unwrap_or_else(|| panic!("{flag}: no list in {stderr}"));
    list.lines().next().unwrap().split(", ").map(str::to_string).collect()
}

/// The regression losses train the diabetes data (one value per sample).
#[test]
fn every_value_loss_trains_a_regression() {
    let (train, test) = (repo_data("diabetes/diabetes_train.csv"), repo_data("diabetes/diabetes_test.csv"));
    for loss in
        Loss::ALL.iter().filter(|l| l.target_kind() == embergrad::nn::TargetKind::Values && **l != Loss::BceWithLogits)
    {
        let args = ["train", "--data", train.to_str().unwrap(), "--test", test.to_str().unwrap(), "--target", "target"];
        let out = run_paths(&[&args[..], &["--loss", loss.name(), "--epochs", "3", "--threads", "1"]].concat());
        let (stdout, stderr) = texts(&out);
        assert!(out.status.success() && stdout.contains("R²"), "{}: {stdout} {stderr}", loss.name());
    }
}

#[test]
fn every_schedule_and_the_classification_losses_train() {
    let schedules = listed_names("--schedule");
    assert!(schedules.len() >= 11 && schedules.iter().any(|s| s == "plateau"), "{schedules:?}");
    for schedule in &schedules {
        assert_trains(&["--schedule", schedule]);
    }
    assert_trains(&["--loss", "softmax_ce_smoothed"]);
    assert_trains(&["--label-smoothing", "0.1"]);
}

#[test]
fn bad_names_and_losses_are_refused_with_the_valid_ones() {
    for (flag, value, listed) in [
        ("--activation", "swish", "gelu_tanh"),
        ("--optimizer", "lion", "rprop"),
        ("--schedule", "triangle", "warmup_cosine"),
        ("--loss", "hinge", "huber"),
    ] {
        let out = train(&[flag, value]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains(value) && stderr.contains(listed), "{flag} {value}: {stderr}");
    }
    for (loss, task) in [("mse", "classify"), ("bce_logits", "regress"), ("softmax_ce", "multilabel")] {
        let out = train(&["--loss", loss, "--task", task]);
        let stderr = texts(&out).1;
        assert!(!out.status.success() && stderr.contains("does not fit --task"), "{loss} {task}: {stderr}");
    }
    let out = train(&["--label-smoothing", "1.5"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("smoothing"));
}
