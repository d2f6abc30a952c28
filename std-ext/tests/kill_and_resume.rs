//! Kill a training process mid-epoch, resume from its last checkpoint, and get bitwise the
//! weights of a run that was never interrupted; the checkpoint is never half-written.
//! Trains MNIST (from the project's shared data folder) for 3 short epochs.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

fn mnist() -> PathBuf {
    let shared = std::env::var_os("EMBERGRAD_SHARED")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared"), PathBuf::from);
    shared.join("data/mnist")
}

fn train(extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_embergrad"));
    command
        .args(["train", "--data"])
        .arg(mnist())
        .args(["--layers", "784,64,10", "--optimizer", "adam", "--epochs", "3", "--batch", "256", "--seed", "5"])
        .args(extra);
    command
}

#[test]
fn a_killed_run_resumes_to_the_same_weights() {
    let dir = std::env::temp_dir().join(format!("embergrad-kill-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |name: &str| dir.join(name).to_string_lossy().into_owned();

    let status = train(&["--out", &file("straight.ember")]).output().unwrap();
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));

    let checkpoint = file("checkpoint.ember");
    let mut child = train(&["--checkpoint", &checkpoint]).spawn().unwrap();
    let started = Instant::now();
    while !std::path::Path::new(&checkpoint).exists() {
        assert!(started.elapsed() < Duration::from_secs(120), "no checkpoint appeared");
        assert!(child.try_wait().unwrap().is_none(), "the run ended before it could be killed");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // mid-epoch 2: the first checkpoint was just written
    child.wait().unwrap();
    let model = embergrad_std::model::load_file(&checkpoint).expect("the checkpoint is complete and valid");
    let epoch = model.checkpoint.as_ref().unwrap().epoch;
    assert!((1..3).contains(&epoch), "killed after epoch {epoch}");

    let resumed = train(&["--resume", &checkpoint, "--out", &file("resumed.ember")]).output().unwrap();
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    assert!(String::from_utf8_lossy(&resumed.stdout).contains(&format!("after epoch {epoch}")));

    let straight = std::fs::read(file("straight.ember")).unwrap();
    let again = std::fs::read(file("resumed.ember")).unwrap();
    assert_eq!(straight, again, "the resumed run's weights differ from the uninterrupted run's");
    std::fs::remove_dir_all(&dir).unwrap();
}
