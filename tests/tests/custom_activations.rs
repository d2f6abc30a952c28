//! Custom activations written once as a tape expression: the network uses the tape's value
//! and derivative for forward and backward.

use embergrad::graph::{eval_activation, f32x8, gradcheck_tape, VecTape};
use embergrad::{Activation, Batch, CustomActivation, Init, LayerSpec, Loss, Mlp, Rng, Spec, Target};
use embergrad_tests::repo_dataset;
use embergrad_tests::train::{evaluate_accuracy, train_classifier, ClassifierConfig};

fn tape_tanh(z: f32x8) -> (f32x8, f32x8) {
    eval_activation(z, |tape, z| tape.tanh(z))
}

/// swish(z) = z · sigmoid(z)
fn swish(z: f32x8) -> (f32x8, f32x8) {
    eval_activation(z, |tape, z| {
        let s = tape.sigmoid(z)?;
        tape.mul(z, s)
    })
}

const TAPE_TANH: Activation = Activation::Custom(CustomActivation::new("tape-tanh", tape_tanh));
const SWISH: Activation = Activation::Custom(CustomActivation::new("swish", swish));

/// The same network with tanh built in and tanh written on the tape: same outputs, loss and
/// gradients (up to the libm-vs-polynomial tanh), through the stored-derivative path, with
/// batches that fill the 8 lanes and leave a tail.
#[test]
fn a_tape_written_tanh_matches_the_built_in_one() {
    for (batch, widths) in [(1usize, [3usize, 5, 2]), (11, [7, 9, 4]), (33, [20, 24, 10])] {
        let mut rng = Rng::new(batch as u64);
        let build = |hidden: Activation| {
            vec![
                LayerSpec::new(widths[0], widths[1], hidden),
                LayerSpec::new(widths[1], widths[2], Activation::Identity),
            ]
        };
        let (builtin, custom) = (build(Activation::Tanh), build(TAPE_TANH));
        let net = Mlp::new(&builtin, Init::XavierUniform, &mut rng).unwrap();
        let input: Vec<f32> = (0..batch * widths[0]).map(|_| rng.uniform(-2.0, 2.0)).collect();
        let labels: Vec<usize> = (0..batch).map(|_| rng.below(widths[2] as u32) as usize).collect();
        let b = Batch::new(&input, Target::Classes(&labels), batch);
        let run = |layers: &[LayerSpec]| {
            let spec = Spec::new(layers);
            let mut grads = vec![0.0; spec.param_len()];
            let mut ws = vec![0.0; spec.workspace_len(batch)];
            let loss =
                spec.loss_and_gradients(net.params(), &b, Loss::SoftmaxCrossEntropy, &mut grads, &mut ws).unwrap();
            (loss, grads)
        };
        let ((l1, g1), (l2, g2)) = (run(&builtin), run(&custom));
        assert!((l1 - l2).abs() <= 1e-6 * l1.abs(), "loss {l1} vs {l2}");
        let scale = g1.iter().fold(0.0f32, |m, v| m.max(v.abs()));
        for (a, b) in g1.iter().zip(&g2) {
            assert!((a - b).abs() <= 1e-5 * scale, "batch {batch}: {a} vs {b}");
        }
        // The custom layer needs its derivatives stored: more workspace than the built-in one.
        assert_eq!(
            Spec::new(&custom).workspace_len(batch),
            Spec::new(&builtin).workspace_len(batch) + batch * widths[1]
        );
    }
}

/// The derivative a custom activation reports is the tape's, which matches central finite
/// differences of the same expression in f64.
#[test]
fn swish_derivative_matches_finite_differences() {
    let z = [-6.0f32, -2.5, -1.0, -0.1, 0.0, 0.3, 1.7, 5.0];
    let (value, derivative) = swish(f32x8::from(z));
    for ((&zi, &y), &d) in z.iter().zip(&value.to_array()).zip(&derivative.to_array()) {
        let exact = f64::from(zi) / (1.0 + (-f64::from(zi)).exp());
        assert!((f64::from(y) - exact).abs() < 1e-6, "swish({zi}) = {y}, expected {exact}");
        let mut tape = VecTape::<f64>::with_capacity(8);
        let x = tape.input(f64::from(zi)).unwrap();
        let s = tape.sigmoid(x).unwrap();
        let out = tape.mul(x, s).unwrap();
        assert!(gradcheck_tape(&mut tape, out, &[x], 1e-6, 1e-6).unwrap() < 1e-6);
        let h = 1e-6;
        let f = |v: f64| v / (1.0 + (-v).exp());
        let numeric = (f(f64::from(zi) + h) - f(f64::from(zi) - h)) / (2.0 * h);
        assert!((f64::from(d) - numeric).abs() < 1e-5, "swish'({zi}) = {d}, finite differences {numeric}");
    }
}

#[test]
fn a_swish_network_learns_the_digits() {
    let train = repo_dataset("data/digits/digits_train.csv");
    let test = repo_dataset("data/digits/digits_test.csv");
    let layers = [LayerSpec::new(64, 32, SWISH), LayerSpec::new(32, 10, Activation::Identity)];
    let mut net = Mlp::new(&layers, Init::XavierUniform, &mut Rng::new(1)).unwrap();
    let config = ClassifierConfig { epochs: 15, ..ClassifierConfig::default() };
    train_classifier(&mut net, &train, &config, |_, _| {}).unwrap();
    let accuracy = evaluate_accuracy(&mut net, &test).unwrap();
    println!("swish 64-32-10: test accuracy {:.2}%", 100.0 * accuracy);
    assert!(accuracy >= 0.93, "test accuracy {accuracy}");
    // Code cannot go into a model file: a clear error, not a file that loads as something else.
    let err = embergrad_std::model::encode(&net.spec(), net.params(), None, None).unwrap_err();
    assert!(err.to_string().contains("custom activation"), "{err}");
}
