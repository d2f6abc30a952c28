//! Kill a training process mid-run, resume from its last checkpoint, and get bitwise the
//! weights of a run that was never interrupted; the checkpoint is never half-written.
//! Trains the digits data shipped in the repository (`data/digits`) for 40 short epochs, so
//! the run is still going when its first checkpoint appears.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

/// The repository's digits CSV file `name`.
fn digits(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data/digits").join(name)
}

fn train(extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_embergrad"));
    command
        .args(["train", "--data"])
        .arg(digits("digits_train.csv"))
        .arg("--test")
        .arg(digits("digits_test.csv"))
        .args(["--layers", "64,128,10", "--optimizer", "adam", "--epochs", "40", "--batch", "16", "--seed", "5"])
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
    child.kill().unwrap(); // early in the run: the first checkpoint was just written
    child.wait().unwrap();
    let model = embergrad_std::model::load_file(&checkpoint).expect("the checkpoint is complete and valid");
    let epoch = model.checkpoint.as_ref().unwrap().epoch;
    assert!((1..40).contains(&epoch), "killed after epoch {epoch}");

    let resumed = train(&["--resume", &checkpoint, "--out", &file("resumed.ember")]).output().unwrap();
    assert!(resumed.status.success(), "{}", String::from_utf8_lossy(&resumed.stderr));
    assert!(String::from_utf8_lossy(&resumed.stdout).contains(&format!("after epoch {epoch}")));

    let straight = std::fs::read(file("straight.ember")).unwrap();
    let again = std::fs::read(file("resumed.ember")).unwrap();
    assert_eq!(straight, again, "the resumed run's weights differ from the uninterrupted run's");
    std::fs::remove_dir_all(&dir).unwrap();
}
