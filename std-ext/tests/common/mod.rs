//! Running the `embergrad` command in the CLI tests.
#![allow(dead_code)] // each test binary uses a part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A file of the repository's `data/` folder.
pub fn repo_data(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../data").join(relative)
}

/// A fresh folder for one test's files.
pub fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("embergrad-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `embergrad` with `args`.
pub fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_embergrad")).args(args).output().unwrap()
}

/// Runs `embergrad` with `args` given as paths or strings.
pub fn run_paths<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_embergrad")).args(args).output().unwrap()
}

/// `embergrad train` on the digits data for two short epochs, with `extra` arguments.
pub fn train_digits(extra: &[&str]) -> Output {
    let (train, test) = (repo_data("digits/digits_train.csv"), repo_data("digits/digits_test.csv"));
    let mut args: Vec<String> = ["train", "--data", path(&train), "--test", path(&test)].map(String::from).to_vec();
    args.extend(["--layers", "64,16,10", "--epochs", "2", "--batch", "64", "--threads", "1"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    run_paths(&args)
}

/// A path as a string argument.
pub fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Standard output and error of a run, as text.
pub fn texts(out: &Output) -> (String, String) {
    (String::from_utf8_lossy(&out.stdout).into_owned(), String::from_utf8_lossy(&out.stderr).into_owned())
}

/// Asserts that a run failed cleanly: exit code 1 or 2 (not a panic's 101 or a signal), an
/// `error:` line naming `needle`, and no panic message.
pub fn assert_clean_error(out: &Output, needle: &str) {
    let (_, stderr) = texts(out);
    let code = out.status.code();
    assert!(matches!(code, Some(1) | Some(2)), "exit {code:?}: {stderr}");
    assert!(stderr.contains("error") && stderr.contains(needle), "expected `{needle}` in: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
