//! A 64-32-10 network trained on the digits data shipped in the repository reaches at least
//! 95% accuracy on the held-out test split.

use embergrad::optim::{Optimizer, Sgd};
use embergrad::{Activation, Init, LayerSpec, Mlp, Rng};
use embergrad_tests::repo_dataset;
use embergrad_tests::train::{evaluate_accuracy, train_classifier, ClassifierConfig};

#[test]
fn digits_64_32_10_reaches_95_percent_test_accuracy() {
    let train = repo_dataset("data/digits/digits_train.csv");
    let test = repo_dataset("data/digits/digits_test.csv");
    assert_eq!((train.len(), test.len(), train.features, train.classes()), (1437, 360, 64, 10));
    let layers = [LayerSpec::new(64, 32, Activation::Relu), LayerSpec::new(32, 10, Activation::Identity)];
    let mut net = Mlp::new(&layers, Init::Auto, &mut Rng::new(1)).unwrap();
    let config = ClassifierConfig { epochs: 30, batch_size: 16, optimizer: Optimizer::Sgd(Sgd::new(0.1)), seed: 1 };
    let mut losses = Vec::new();
    train_classifier(&mut net, &train, &config, |report, _| losses.push(report.train_loss)).unwrap();
    let accuracy = evaluate_accuracy(&mut net, &test).unwrap();
    println!("digits test accuracy {:.2}%, epoch losses {losses:?}", accuracy * 100.0);
    assert!(losses.last() < losses.first(), "loss did not fall: {losses:?}");
    assert!(accuracy >= 0.95, "test accuracy {accuracy}");
}
