//! Reproduces `tests/fixtures/pytorch/train_run.json`: a 20-step plain-SGD training run of a
//! small MLP in PyTorch; the loss before every step and the final weights must match.

use embergrad::optim::{Optimizer, Sgd};
use embergrad::Step;
use embergrad::{Activation, Batch, LayerSpec, Loss, Spec, Target};
use embergrad_tests::{flatten, pytorch_fixture, rel_err};

#[test]
fn twenty_sgd_steps_match_pytorch() {
    let run = pytorch_fixture("train_run.json");
    let sizes: Vec<usize> = run["sizes"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let layers: Vec<LayerSpec> = sizes
        .windows(2)
        .zip(run["activations"].as_array().unwrap())
        .map(|(w, a)| LayerSpec::new(w[0], w[1], Activation::from_name(a.as_str().unwrap()).unwrap()))
        .collect();
    assert_eq!(run["loss"], "softmax_ce");
    assert_eq!(run["initial_biases"], "zeros");
    let spec = Spec::new(&layers);
    let mut params = Vec::new();
    for (w, layer) in run["initial_weights"].as_array().unwrap().iter().zip(&layers) {
        params.extend(flatten(w).iter().map(|&v| v as f32));
        params.extend(std::iter::repeat_n(0.0f32, layer.outputs));
    }
    assert_eq!(params.len(), spec.param_len());
    let sgd = Optimizer::Sgd(Sgd::new(run["lr"].as_f64().unwrap() as f32));
    let mut steps = 0;
    let mut grads = vec![0.0; spec.param_len()];
    let inputs = run["batches_input"].as_array().unwrap();
    let targets = run["batches_target"].as_array().unwrap();
    let losses = flatten(&run["loss_before_each_step"]);
    assert_eq!(inputs.len(), 20);
    let mut worst_loss = 0.0f64;
    for ((x, y), &expected_loss) in inputs.iter().zip(targets).zip(&losses) {
        let x: Vec<f32> = flatten(x).iter().map(|&v| v as f32).collect();
        let labels: Vec<usize> = flatten(y).iter().map(|&v| v as usize).collect();
        let mut workspace = vec![0.0; spec.workspace_len(labels.len())];
        let batch = Batch::new(&x, Target::Classes(&labels), labels.len());
        let loss =
            spec.loss_and_gradients(&params, &batch, Loss::SoftmaxCrossEntropy, &mut grads, &mut workspace).unwrap();
        let err = rel_err(f64::from(loss), expected_loss, 1e-6);
        assert!(err < 1e-5, "step {steps}: loss {loss} vs PyTorch {expected_loss}");
        worst_loss = worst_loss.max(err);
        sgd.step(&mut steps, &mut params, &grads, &mut []).unwrap();
    }
    // Final weights and biases, layer by layer, relative to each tensor's scale.
    let mut worst_param = 0.0f64;
    let finals = run["final_weights"].as_array().unwrap().iter().zip(run["final_biases"].as_array().unwrap());
    for ((offset, layer), (w, b)) in spec.layer_offsets().zip(finals) {
        let (w, b) = (flatten(w), flatten(b));
        for (ours, theirs) in [
            (&params[offset..offset + layer.weight_len()], &w),
            (&params[offset + layer.weight_len()..offset + layer.param_len()], &b),
        ] {
            let floor = 1e-2 * theirs.iter().fold(0.0f64, |m, v| m.max(v.abs()));
            for (&p, &e) in ours.iter().zip(theirs.iter()) {
                let err = rel_err(f64::from(p), e, floor);
                assert!(err < 1e-4, "final param {p} vs PyTorch {e} (rel err {err:e})");
                worst_param = worst_param.max(err);
            }
        }
    }
    println!("worst relative error: loss {worst_loss:.2e}, final params {worst_param:.2e}");
}
