//! A new user's journey with `embergrad` on data not made for it: regression with R² on the
//! diabetes data, preprocessing that travels with the model, and every bad input of the
//! desktop-journey issue ending in a clean error (exit code 1 or 2, no panic, no abort)
//! with nothing clobbered.

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::{assert_clean_error, path, repo_data, run, run_paths, scratch, texts, train_digits};
use proptest::prelude::*;

/// The R² a run printed last.
fn last_r2(stdout: &str) -> f32 {
    let line = stdout.lines().rev().find(|l| l.contains("R²")).expect("an R² line");
    line.split("R² ").nth(1).unwrap().split_whitespace().next().unwrap().parse().unwrap()
}

#[test]
fn diabetes_regression_reports_r2_and_predicts_in_target_units() {
    let dir = scratch("diabetes");
    let (train, test) = (repo_data("diabetes/diabetes_train.csv"), repo_data("diabetes/diabetes_test.csv"));
    let model = dir.join("diabetes.ember");
    // A linear model: ordinary least squares reaches R² 0.33 on this split.
    let out = run(&[
        "train",
        "--data",
        path(&train),
        "--test",
        path(&test),
        "--target",
        "target",
        "--task",
        "regress",
        "--layers",
        "10,1",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--epochs",
        "150",
        "--threads",
        "1",
        "--out",
        path(&model),
    ]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    let r2 = last_r2(&stdout);
    assert!(r2 > 0.25, "test R² {r2}: {stdout}");

    // eval applies the preprocessing stored in the model and gives the same scores.
    let eval = run(&["eval", "--model", path(&model), "--data", path(&test), "--target", "target"]);
    let (eval_out, eval_err) = texts(&eval);
    assert!(eval.status.success(), "{eval_err}");
    assert!((last_r2(&eval_out) - r2).abs() < 1e-4, "{eval_out} vs {stdout}");

    // predict, with and without the target column, in target units (25..346 in this data).
    let predict =
        run(&["predict", "--model", path(&model), "--data", path(&test), "--target", "target", "--output", "csv"]);
    let (lines, err) = texts(&predict);
    assert!(predict.status.success(), "{err}");
    let values: Vec<f32> = lines.lines().skip(1).map(|l| l.parse().unwrap()).collect();
    assert_eq!(values.len(), 89);
    let mean = values.iter().sum::<f32>() / values.len() as f32;
    assert!((100.0..200.0).contains(&mean), "mean prediction {mean}");
    let features_only = dir.join("features.csv");
    let text = fs::read_to_string(&test).unwrap();
    let stripped: String = text.lines().map(|l| l.rsplit_once(',').unwrap().0.to_string() + "\n").collect();
    fs::write(&features_only, stripped).unwrap();
    let unlabelled = run(&["predict", "--model", path(&model), "--data", path(&features_only), "--target", "target"]);
    assert!(unlabelled.status.success(), "{}", texts(&unlabelled).1);
    let again: Vec<f32> = texts(&unlabelled).0.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(again, values);

    // A model that carries its preprocessing refuses a --scale that would disagree.
    let scaled = run(&["eval", "--model", path(&model), "--data", path(&test), "--target", "target", "--scale", "2"]);
    assert_clean_error(&scaled, "preprocessing");
}

#[test]
fn classification_predicts_probabilities_and_exports_to_pytorch_and_back() {
    let dir = scratch("export");
    let model = dir.join("digits.ember");
    let out = train_digits(&["--out", path(&model)]);
    assert!(out.status.success(), "{}", texts(&out).1);
    let test = repo_data("digits/digits_test.csv");
    let csv = run(&["predict", "--model", path(&model), "--data", path(&test), "--output", "csv"]);
    let (text, _) = texts(&csv);
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("class,p0,p1,p2,p3,p4,p5,p6,p7,p8,p9"));
    for line in lines {
        let fields: Vec<f32> = line.split(',').map(|f| f.parse().unwrap()).collect();
        let total: f32 = fields[1..].iter().sum();
        assert!(
            (total - 1.0).abs() < 1e-4
                && fields[0]
                    == fields[1..]
                        .iter()
                        .enumerate()
                        .fold((0, f32::MIN), |b, (i, &p)| if p > b.1 { (i, p) } else { b })
                        .0 as f32
        );
    }
    let tensors = dir.join("digits.safetensors");
    let back = dir.join("back.ember");
    assert!(run(&["export", "--model", path(&model), "--out", path(&tensors)]).status.success());
    assert!(run(&["import", "--from", path(&tensors), "--out", path(&back)]).status.success());
    let (a, b) = (embergrad_std::model::load_file(&model).unwrap(), embergrad_std::model::load_file(&back).unwrap());
    assert_eq!((a.layers, a.params), (b.layers, b.params));
}

#[test]
fn multilabel_targets_train_with_bce() {
    // Two independent yes/no targets: y1 = (a > 0), y2 = (b > a).
    let dir = scratch("multilabel");
    let mut rng = embergrad::Rng::new(4);
    let mut text = String::from("a,b,y1,y2\n");
    for _ in 0..400 {
        let (a, b) = (rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0));
        text += &format!("{a},{b},{},{}\n", u8::from(a > 0.0), u8::from(b > a));
    }
    let data = dir.join("pairs.csv");
    fs::write(&data, text).unwrap();
    let out = run(&[
        "train",
        "--data",
        path(&data),
        "--target",
        "y1,y2",
        "--task",
        "multilabel",
        "--validation",
        "0.25",
        "--optimizer",
        "adam",
        "--lr",
        "0.02",
        "--epochs",
        "40",
        "--threads",
        "1",
    ]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success(), "{stderr}");
    let last = stdout.lines().rev().find(|l| l.contains("validation")).unwrap();
    let accuracy: f32 = last
        .split("accuracy ")
        .nth(1)
        .unwrap()
        .trim_end_matches(|c: char| !c.is_ascii_digit())
        .split('%')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(accuracy > 90.0, "{last}");
}

#[test]
fn a_version_1_model_still_loads() {
    // The firmware's desktop-trained XOR model was written in format version 1.
    let model = repo_data("../examples/firmware/data/xor-model.ember");
    let info = embergrad::io::inspect(&fs::read(&model).unwrap()).unwrap();
    assert_eq!((info.version, info.task), (1, None));
    let dir = scratch("v1");
    let data = dir.join("xor.csv");
    fs::write(&data, "a,b,label\n0,0,0\n0,1,1\n1,0,1\n1,1,0\n").unwrap();
    let out = run(&["eval", "--model", path(&model), "--data", path(&data)]);
    let (stdout, stderr) = texts(&out);
    assert!(out.status.success() && stdout.contains("accuracy 100.00%"), "{stdout} {stderr}");
}

#[test]
fn bad_output_paths_fail_before_training_and_clobber_nothing() {
    let dir = scratch("paths");
    let train = dir.join("train.csv");
    fs::copy(repo_data("digits/digits_train.csv"), &train).unwrap();
    let original = fs::read(&train).unwrap();
    let base = ["train", "--data", path(&train), "--epochs", "1"];
    let missing = dir.join("no/such/folder/m.ember");
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["--out", path(&missing)], "does not exist"),
        (vec!["--out", path(&dir)], "is a folder"),
        (vec!["--out", path(&train)], "would be overwritten"),
        (vec!["--plot", path(&missing)], "does not exist"),
        (vec!["--out", "same.ember", "--checkpoint", "same.ember"], "same file"),
    ];
    for (extra, needle) in cases {
        let out = run(&[&base[..], &extra[..]].concat());
        assert_clean_error(&out, needle);
        assert!(!texts(&out).0.contains("epoch"), "trained before failing: {extra:?}");
    }
    assert_eq!(fs::read(&train).unwrap(), original, "the training data was changed");

    // An existing checkpoint is kept unless the run resumes from it or --force says so.
    let checkpoint = dir.join("ckpt.ember");
    fs::write(&checkpoint, b"a later run's checkpoint").unwrap();
    assert_clean_error(&run(&[&base[..], &["--checkpoint", path(&checkpoint)]].concat()), "--force");
    assert_eq!(fs::read(&checkpoint).unwrap(), b"a later run's checkpoint");
    let forced = run(&[&base[..], &["--checkpoint", path(&checkpoint), "--force"]].concat());
    assert!(forced.status.success(), "{}", texts(&forced).1);
}

#[test]
fn absurd_sizes_and_labels_are_errors_not_aborts() {
    let dir = scratch("sizes");
    let write = |name: &str, text: &str| {
        let file = dir.join(name);
        fs::write(&file, text).unwrap();
        file
    };
    let huge_label = write("huge.csv", "a,b,label\n0,1,0\n1,0,4000000000\n");
    assert_clean_error(&run(&["train", "--data", path(&huge_label)]), "more than 10000 classes");
    let million = write("million.csv", "a,b,label\n0,1,0\n1,0,1000000\n");
    assert_clean_error(&run(&["train", "--data", path(&million)]), "more than 10000 classes");
    let digits = repo_data("digits/digits_train.csv");
    for layers in ["64,4000000000,10", "64,100000,100000,10", "64,0,10", "63,10"] {
        assert_clean_error(&run(&["train", "--data", path(&digits), "--layers", layers]), "");
    }
    // A stray test label beyond the training classes: an error naming the test file.
    let two = write("two.csv", "a,b,label\n0,1,0\n1,0,1\n0,0,0\n1,1,1\n");
    let stray = write("stray.csv", "a,b,label\n0,1,5\n");
    assert_clean_error(&run(&["train", "--data", path(&two), "--test", path(&stray)]), "stray.csv");
}

#[test]
fn out_of_range_arguments_are_refused_up_front() {
    let digits = repo_data("digits/digits_train.csv");
    for (extra, needle) in [
        (vec!["--validation", "1.5"], "--validation"),
        (vec!["--epochs", "0"], "--epochs"),
        (vec!["--batch", "0"], "--batch"),
        (vec!["--shards", "0"], "--shards"),
        (vec!["--patience", "3"], "--validation"),
        (vec!["--lr=-1"], "lr"),
        (vec!["--scale", "0"], "--scale"),
        (vec!["--loss", "mse", "--task", "classify"], "does not fit"),
    ] {
        assert_clean_error(&run(&[&["train", "--data", path(&digits)][..], &extra[..]].concat()), needle);
    }
    assert_clean_error(&run(&["train"]), "--data");
    assert_clean_error(&run(&["train", "--data", "/no/such.csv"]), "/no/such.csv");
}

#[test]
fn resuming_with_a_different_network_or_optimizer_says_what_differs() {
    let dir = scratch("resume");
    let checkpoint = dir.join("ckpt.ember");
    let digits = repo_data("digits/digits_train.csv");
    let base = ["train", "--data", path(&digits), "--optimizer", "adam", "--lr", "0.01"];
    let first = run(&[&base[..], &["--epochs", "2", "--checkpoint", path(&checkpoint)]].concat());
    assert!(first.status.success(), "{}", texts(&first).1);
    let resume = ["--resume", path(&checkpoint), "--checkpoint", path(&checkpoint), "--epochs", "3"];
    assert_clean_error(&run(&[&base[..], &resume[..], &["--layers", "64,20,10"]].concat()), "--layers");
    let sgd = ["train", "--data", path(&digits), "--optimizer", "sgd"];
    assert_clean_error(&run(&[&sgd[..], &resume[..]].concat()), "--optimizer");
    let other_lr = ["train", "--data", path(&digits), "--optimizer", "adam", "--lr", "0.5"];
    assert_clean_error(&run(&[&other_lr[..], &resume[..]].concat()), "--lr");
    let fine = run(&[&base[..], &resume[..]].concat());
    assert!(fine.status.success() && texts(&fine).0.contains("resumed"), "{}", texts(&fine).1);
}

#[test]
fn a_closed_pipe_ends_printing_but_the_model_is_saved() {
    let dir = scratch("pipe");
    let model = dir.join("m.ember");
    let mut child = Command::new(env!("CARGO_BIN_EXE_embergrad"))
        .args(["train", "--data", path(&repo_data("digits/digits_train.csv")), "--epochs", "40", "--threads", "1"])
        .args(["--out", path(&model)])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, as `| head -1` would, and close the pipe.
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut stderr).unwrap();
    assert!(first.starts_with("training"), "{first}");
    assert!(status.success() && !stderr.contains("panicked"), "{status:?} {stderr}");
    assert!(embergrad_std::model::load_file(&model).is_ok(), "the model was not saved");
}

#[test]
fn an_idx_file_that_inflates_beyond_its_header_is_refused_without_inflating_it() {
    use std::io::Write;
    // A header announcing 1 label, then 64 MiB of zeros: compressed to about 64 KiB.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&[0, 0, 8, 1, 0, 0, 0, 1]).unwrap();
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        encoder.write_all(&zeros).unwrap();
    }
    let bytes = encoder.finish().unwrap();
    assert!(bytes.len() < 1 << 17);
    let started = std::time::Instant::now();
    let err = embergrad_std::dataset::parse_idx(std::path::Path::new("bomb.idx.gz"), &bytes, 1).unwrap_err();
    assert!(err.to_string().contains("the header announces 1"), "{err}");
    // Inflating the lot would take far longer than reading the announced byte and one more.
    assert!(started.elapsed().as_millis() < 2_000);
    let empty = [0u8, 0, 8, 3, 0, 0, 0, 0, 0, 0, 0, 28, 0, 0, 0, 28];
    let dir = scratch("idx");
    let (images, labels) = (dir.join("images"), dir.join("labels"));
    fs::write(&images, empty).unwrap();
    fs::write(&labels, [0u8, 0, 8, 1, 0, 0, 0, 0]).unwrap();
    let err = embergrad_std::Dataset::from_idx(&images, &labels, 1.0).unwrap_err();
    assert!(err.to_string().contains("no images"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// The argument surface with random values: every run ends in success or a clean error.
    #[test]
    fn random_arguments_never_panic(
        epochs in prop_oneof![Just("0".to_string()), (1u32..3).prop_map(|e| e.to_string())],
        batch in prop_oneof![Just("0".to_string()), (1u32..300).prop_map(|b| b.to_string())],
        validation in prop_oneof![Just("-1".to_string()), Just("0".to_string()), Just("0.3".to_string()), Just("1".to_string()), Just("nan".to_string())],
        shards in 0u32..4,
        lr in prop_oneof![Just("nan".to_string()), Just("-0.1".to_string()), Just("0.05".to_string()), Just("1e30".to_string())],
        layers in prop_oneof![Just("64,10".to_string()), Just("64,0,10".to_string()), Just("64,16,10".to_string()), Just("5,10".to_string()), Just("64,16,3".to_string())],
        schedule in prop::sample::select(vec!["constant", "step", "onecycle", "plateau", "nonsense"]),
        task in prop::sample::select(vec!["classify", "regress", "multilabel", "other"]),
    ) {
        let digits = repo_data("digits/digits_train.csv");
        let out = run(&[
            "train", "--data", path(&digits), "--epochs", &epochs, "--batch", &batch, "--validation", &validation,
            "--shards", &shards.to_string(), "--lr", &lr, "--layers", &layers, "--schedule", schedule,
            "--task", task, "--threads", "1", "--skip-divergent",
        ]);
        let (_, stderr) = texts(&out);
        prop_assert!(matches!(out.status.code(), Some(0..=2)), "exit {:?}: {}", out.status.code(), stderr);
        prop_assert!(!stderr.contains("panicked"), "{}", stderr);
    }
}

/// `run_paths` is shared with the other CLI tests; here it runs the binary with no command.
#[test]
fn no_command_is_a_usage_error() {
    let out = run_paths::<&str>(&[]);
    assert_eq!(out.status.code(), Some(2));
}
