//! Every activation, optimizer and schedule is reachable from `embergrad train` by the name
//! the core gives it (parsed with the core's `from_name`), trains a short run on the digits
//! data shipped in the repository, and an unknown name or an unusable loss is refused with
//! the list of valid names before any data is read.

use std::path::PathBuf;
use std::process::{Command, Output};

use embergrad::optim::Optimizer;
use embergrad::{Activation, Loss};

fn digits(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/digits").join(name)
}

/// A two-epoch run with `extra` arguments.
fn train(extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_embergrad"))
        .args(["train", "--data"])
        .arg(digits("digits_train.csv"))
        .arg("--test")
        .arg(digits("digits_test.csv"))
        .args(["--layers", "64,16,10", "--epochs", "2", "--batch", "64", "--threads", "1"])
        .args(extra)
        .output()
        .unwrap()
}

fn assert_trains(extra: &[&str]) {
    let out = train(extra);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{extra:?}: {}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("final test accuracy"), "{extra:?}: {stdout}");
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
    for loss in Loss::ALL.into_iter().filter(|l| l.target_kind() == embergrad::nn::TargetKind::Values) {
        let out = train(&["--loss", loss.name()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && stderr.contains("needs value targets"), "{}: {stderr}", loss.name());
    }
    let out = train(&["--label-smoothing", "1.5"]);
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("smoothing"));
}
