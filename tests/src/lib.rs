//! Helpers shared by the integration tests: where the fixtures and data live (all inside the
//! repository), and an independent f64 reference of the dense network used as the oracle.
#![forbid(unsafe_code)]

pub mod train;

use std::path::PathBuf;

use embergrad::nn::TargetKind;
use embergrad::{Activation, LayerSpec, Loss};

/// The repository's root folder.
pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The PyTorch reference values the tests replay, shipped in the repository
/// (`tests/fixtures/pytorch`, format in its README), so the tests need nothing beside a clone.
pub fn pytorch_fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/pytorch")
}

/// Reads and parses a JSON fixture under `tests/fixtures/pytorch`.
pub fn pytorch_fixture(name: &str) -> serde_json::Value {
    let path = pytorch_fixtures_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()))
}

/// A JSON array (nested to any depth) flattened into f64 values.
pub fn flatten(value: &serde_json::Value) -> Vec<f64> {
    let mut out = Vec::new();
    fn walk(v: &serde_json::Value, out: &mut Vec<f64>) {
        match v {
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            other => out.push(other.as_f64().expect("a number")),
        }
    }
    walk(value, &mut out);
    out
}

/// Relative error `|a - b| / max(|b|, floor)`: relative where the reference is large, absolute
/// (scaled by `floor`) where it is near zero, so tiny gradients don't blow the ratio up.
pub fn rel_err(actual: f64, expected: f64, floor: f64) -> f64 {
    (actual - expected).abs() / expected.abs().max(floor)
}

/// The targets a reference loss compares with.
#[derive(Clone, Debug)]
pub enum RefTarget {
    /// One value per output element.
    Values(Vec<f64>),
    /// One class per sample.
    Classes(Vec<usize>),
}

/// `f(z)` in f64, written independently of the core.
pub fn activation_f64(activation: Activation, z: f64) -> f64 {
    match activation {
        Activation::Identity => z,
        Activation::Relu => z.max(0.0),
        Activation::LeakyRelu => {
            if z > 0.0 {
                z
            } else {
                0.01 * z
            }
        }
        Activation::Sigmoid => 1.0 / (1.0 + (-z).exp()),
        Activation::Tanh => z.tanh(),
        Activation::Gelu => z * normal_cdf_f64(z),
        Activation::GeluTanh => 0.5 * z * (1.0 + gelu_tanh_inner(z).tanh()),
        Activation::Silu => z / (1.0 + (-z).exp()),
        Activation::Elu => {
            if z > 0.0 {
                z
            } else {
                z.exp_m1()
            }
        }
        Activation::Softplus => {
            if z > 20.0 {
                z
            } else {
                z.exp().ln_1p()
            }
        }
        Activation::Mish => z * z.exp().ln_1p().tanh(),
        Activation::Custom(c) => panic!("no f64 reference for the custom activation `{}`", c.name()),
    }
}

/// The standard normal CDF, `(1 + erf(z/√2)) / 2`, from `erfc` in the left tail.
fn normal_cdf_f64(z: f64) -> f64 {
    0.5 * libm::erfc(-z / std::f64::consts::SQRT_2)
}

/// `√(2/π)·(z + 0.044715·z³)`, the argument of GELU's tanh approximation.
fn gelu_tanh_inner(z: f64) -> f64 {
    (2.0 / std::f64::consts::PI).sqrt() * (z + 0.044715 * z.powi(3))
}

/// A layer's weights `[out, in]` and biases `[out]` in the core's flat param layout, the
/// layer's params starting at `offset`.
fn layer_params<'p>(layer: &LayerSpec, params: &'p [f64], offset: usize) -> (&'p [f64], &'p [f64]) {
    let weights = layer.inputs * layer.outputs;
    params[offset..offset + weights + layer.outputs].split_at(weights)
}

/// A layer's pre-activations `z = x·Wᵀ + b` in f64 for `batch` rows of `x`.
fn pre_activations_f64(layer: &LayerSpec, params: &[f64], offset: usize, x: &[f64], batch: usize) -> Vec<f64> {
    let (n_in, n_out) = (layer.inputs, layer.outputs);
    let (w, b) = layer_params(layer, params, offset);
    let mut z = vec![0.0; batch * n_out];
    for s in 0..batch {
        let x_row = &x[s * n_in..(s + 1) * n_in];
        for o in 0..n_out {
            let w_row = &w[o * n_in..(o + 1) * n_in];
            z[s * n_out + o] = x_row.iter().zip(w_row).map(|(a, b)| a * b).sum::<f64>() + b[o];
        }
    }
    z
}

/// Forward pass of a dense network in f64, params in the core's flat layout.
pub fn forward_f64(layers: &[LayerSpec], params: &[f64], input: &[f64], batch: usize) -> Vec<f64> {
    let mut x = input.to_vec();
    let mut offset = 0;
    for layer in layers {
        let z = pre_activations_f64(layer, params, offset, &x, batch);
        x = z.into_iter().map(|v| activation_f64(layer.activation, v)).collect();
        offset += layer.param_len();
    }
    x
}

/// The target values of a value loss (panics for class targets: a test's own mistake).
fn values(target: &RefTarget) -> &[f64] {
    match target {
        RefTarget::Values(t) => t,
        RefTarget::Classes(_) => panic!("this loss needs value targets"),
    }
}

/// The labels of a class loss (panics for value targets: a test's own mistake).
fn classes(target: &RefTarget) -> &[usize] {
    match target {
        RefTarget::Classes(labels) => labels,
        RefTarget::Values(_) => panic!("this loss needs class targets"),
    }
}

/// Per element `(term, d term / d y)` of the element-wise losses, `None` for the others.
fn element_term_f64(loss: Loss, y: f64, t: f64) -> Option<(f64, f64)> {
    let d = y - t;
    Some(match loss {
        Loss::Mse => (d * d, 2.0 * d),
        Loss::L1 => (d.abs(), if d == 0.0 { 0.0 } else { d.signum() }),
        Loss::Huber { delta } => {
            let delta = f64::from(delta);
            if d.abs() <= delta {
                (0.5 * d * d, d)
            } else {
                (delta * (d.abs() - 0.5 * delta), delta * d.signum())
            }
        }
        Loss::BceWithLogits => {
            (-(t * log_sigmoid(y) + (1.0 - t) * log_sigmoid(-y)), activation_f64(Activation::Sigmoid, y) - t)
        }
        Loss::SoftmaxCrossEntropy | Loss::LabelSmoothingCrossEntropy { .. } => return None,
    })
}

/// The label smoothing of a class loss.
fn smoothing_f64(loss: Loss) -> f64 {
    match loss {
        Loss::LabelSmoothingCrossEntropy { smoothing } => f64::from(smoothing),
        _ => 0.0,
    }
}

/// Mean loss in f64 with PyTorch's definitions.
pub fn loss_f64(loss: Loss, output: &[f64], outputs: usize, target: &RefTarget) -> f64 {
    if let RefTarget::Values(t) = target {
        if element_term_f64(loss, 0.0, 0.0).is_some() {
            let total: f64 = output.iter().zip(t).map(|(&y, &t)| element_term_f64(loss, y, t).unwrap().0).sum();
            return total / output.len() as f64;
        }
    }
    let labels = classes(target);
    let eps = smoothing_f64(loss);
    output
        .chunks(outputs)
        .zip(labels)
        .map(|(row, &l)| {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let lse = max + row.iter().map(|z| (z - max).exp()).sum::<f64>().ln();
            let mean_z = row.iter().sum::<f64>() / outputs as f64;
            (1.0 - eps) * (lse - row[l]) + eps * (lse - mean_z)
        })
        .sum::<f64>()
        / labels.len() as f64
}

/// `ln σ(z) = -ln(1 + e^-z)`, written so that neither branch overflows or takes ln(0).
fn log_sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        -(-z).exp().ln_1p()
    } else {
        z - z.exp().ln_1p()
    }
}

/// Loss of the f64 reference network for the given params.
pub fn network_loss_f64(
    layers: &[LayerSpec],
    params: &[f64],
    input: &[f64],
    batch: usize,
    loss: Loss,
    target: &RefTarget,
) -> f64 {
    let out = forward_f64(layers, params, input, batch);
    loss_f64(loss, &out, layers.last().unwrap().outputs, target)
}

/// `f'(z)` in f64, written independently of the core (0 at ReLU's kink, as PyTorch has it).
pub fn activation_derivative_f64(activation: Activation, z: f64) -> f64 {
    match activation {
        Activation::Identity => 1.0,
        Activation::Relu => f64::from(u8::from(z > 0.0)),
        Activation::LeakyRelu => {
            if z > 0.0 {
                1.0
            } else {
                0.01
            }
        }
        Activation::Sigmoid => {
            let s = activation_f64(Activation::Sigmoid, z);
            s * (1.0 - s)
        }
        Activation::Tanh => 1.0 - z.tanh().powi(2),
        Activation::Gelu => normal_cdf_f64(z) + z * (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt(),
        Activation::GeluTanh => {
            let t = gelu_tanh_inner(z).tanh();
            let slope = (2.0 / std::f64::consts::PI).sqrt() * (1.0 + 3.0 * 0.044715 * z * z);
            0.5 * (1.0 + t) + 0.5 * z * (1.0 - t * t) * slope
        }
        Activation::Silu => {
            let s = 1.0 / (1.0 + (-z).exp());
            s * (1.0 + z * (1.0 - s))
        }
        Activation::Elu => {
            if z > 0.0 {
                1.0
            } else {
                z.exp()
            }
        }
        Activation::Softplus => {
            if z > 20.0 {
                1.0
            } else {
                1.0 / (1.0 + (-z).exp())
            }
        }
        Activation::Mish => {
            let sp = z.exp().ln_1p();
            let t = sp.tanh();
            t + z * (1.0 - t * t) / (1.0 + (-z).exp())
        }
        Activation::Custom(c) => panic!("no f64 reference for the custom activation `{}`", c.name()),
    }
}

/// dLoss/dOutput in f64 for the mean losses of [`loss_f64`] (for the softmax cross-entropies
/// and BCE with logits, the output is the logits).
pub fn loss_gradient_f64(loss: Loss, output: &[f64], outputs: usize, target: &RefTarget) -> Vec<f64> {
    let n = output.len() as f64;
    if element_term_f64(loss, 0.0, 0.0).is_some() {
        let t = values(target);
        return output.iter().zip(t).map(|(&y, &t)| element_term_f64(loss, y, t).unwrap().1 / n).collect();
    }
    let labels = classes(target);
    let eps = smoothing_f64(loss);
    let batch = labels.len() as f64;
    output
        .chunks(outputs)
        .zip(labels)
        .flat_map(|(row, &label)| {
            let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let sum: f64 = row.iter().map(|z| (z - max).exp()).sum();
            row.iter().enumerate().map(move |(j, z)| {
                let q = (1.0 - eps) * f64::from(u8::from(j == label)) + eps / outputs as f64;
                ((z - max).exp() / sum - q) / batch
            })
        })
        .collect()
}

/// What [`backprop_f64`] computes.
#[derive(Clone, Debug)]
pub struct BackpropF64 {
    /// The network's outputs `[batch, outputs]`.
    pub output: Vec<f64>,
    /// The mean loss.
    pub loss: f64,
    /// dLoss/dParams in the core's param layout.
    pub grads: Vec<f64>,
    /// dLoss/dInput `[batch, inputs]`.
    pub grad_input: Vec<f64>,
}

/// Forward pass, loss and backward pass of a dense network in f64: textbook
/// backpropagation with pre-activations kept, written independently of the core (which
/// takes derivatives from the outputs and works in f32), as the oracle for large shapes
/// where finite differences would be too slow. Itself checked against finite differences in
/// `gradients_vs_finite_differences.rs`.
pub fn backprop_f64(
    layers: &[LayerSpec],
    params: &[f64],
    input: &[f64],
    batch: usize,
    loss: Loss,
    target: &RefTarget,
) -> BackpropF64 {
    // Forward, keeping every layer's input and pre-activation.
    let mut inputs = vec![input.to_vec()];
    let mut pre_activations = Vec::new();
    let mut offset = 0;
    for layer in layers {
        let z = pre_activations_f64(layer, params, offset, inputs.last().unwrap(), batch);
        inputs.push(z.iter().map(|&v| activation_f64(layer.activation, v)).collect());
        pre_activations.push(z);
        offset += layer.param_len();
    }
    let output = inputs.pop().unwrap();
    let outputs = layers.last().unwrap().outputs;
    let loss_value = loss_f64(loss, &output, outputs, target);
    // Backward: delta = dLoss/dY of the current layer.
    let mut delta = loss_gradient_f64(loss, &output, outputs, target);
    let mut grads = vec![0.0; params.len()];
    for (index, layer) in layers.iter().enumerate().rev() {
        offset -= layer.param_len();
        let (n_in, n_out) = (layer.inputs, layer.outputs);
        let dz: Vec<f64> = delta
            .iter()
            .zip(&pre_activations[index])
            .map(|(d, &z)| d * activation_derivative_f64(layer.activation, z))
            .collect();
        let x = &inputs[index];
        let (w, _) = layer_params(layer, params, offset);
        let (grad_w, grad_b) = grads[offset..offset + layer.param_len()].split_at_mut(layer.weight_len());
        let mut dx = vec![0.0; batch * n_in];
        for s in 0..batch {
            for o in 0..n_out {
                let g = dz[s * n_out + o];
                grad_b[o] += g;
                for i in 0..n_in {
                    grad_w[o * n_in + i] += g * x[s * n_in + i];
                    dx[s * n_in + i] += g * w[o * n_in + i];
                }
            }
        }
        delta = dx;
    }
    BackpropF64 { output, loss: loss_value, grads, grad_input: delta }
}

/// Central finite differences `(L(p + h) - L(p - h)) / 2h` of `f` at every coordinate of `x`.
pub fn central_differences(x: &[f64], h: f64, mut f: impl FnMut(&[f64]) -> f64) -> Vec<f64> {
    let mut probe = x.to_vec();
    (0..x.len())
        .map(|i| {
            probe[i] = x[i] + h;
            let plus = f(&probe);
            probe[i] = x[i] - h;
            let minus = f(&probe);
            probe[i] = x[i];
            (plus - minus) / (2.0 * h)
        })
        .collect()
}

/// Reads a CSV dataset shipped in the repository's `data/` folder.
pub fn repo_dataset(relative: &str) -> embergrad_std::Dataset {
    embergrad_std::Dataset::from_csv(repo_dir().join(relative), "label", 1.0 / 16.0)
        .expect("dataset shipped in the repo")
}

/// One case of `tests/fixtures/pytorch/mlp_grads.json`, in the core's flat layouts.
#[derive(Clone, Debug)]
pub struct MlpCase {
    /// The case's name.
    pub name: String,
    /// The network.
    pub layers: Vec<LayerSpec>,
    /// The loss.
    pub loss: Loss,
    /// Samples in the batch.
    pub batch: usize,
    /// Weights and biases per layer, the core's param layout.
    pub params: Vec<f64>,
    /// `[batch, inputs]`.
    pub input: Vec<f64>,
    /// `[batch, outputs]` targets (MSE, BCE), empty otherwise.
    pub target_values: Vec<f64>,
    /// Class targets (softmax CE), empty otherwise.
    pub target_classes: Vec<usize>,
    /// PyTorch's outputs after the last activation.
    pub output: Vec<f64>,
    /// PyTorch's mean loss.
    pub loss_value: f64,
    /// PyTorch's gradients in the param layout.
    pub grads: Vec<f64>,
    /// PyTorch's gradient with respect to the input.
    pub grad_input: Vec<f64>,
}

/// Every case of the PyTorch gradient fixture `mlp_grads.json`.
pub fn mlp_cases() -> Vec<MlpCase> {
    mlp_cases_from("mlp_grads.json")
}

/// The loss a fixture names: a [`Loss::name`], or one with its hyper-parameter appended
/// (`huber_delta0.5`, `softmax_ce_label_smoothing0.1`).
pub fn fixture_loss(name: &str) -> Loss {
    if let Some(delta) = name.strip_prefix("huber_delta") {
        return Loss::Huber { delta: delta.parse().expect("delta") };
    }
    if let Some(smoothing) = name.strip_prefix("softmax_ce_label_smoothing") {
        return Loss::LabelSmoothingCrossEntropy { smoothing: smoothing.parse().expect("smoothing") };
    }
    Loss::from_name(name).unwrap_or_else(|| panic!("unknown loss `{name}`"))
}

/// Every case of a fixture in the format of `mlp_grads.json` (`family_grads.json` too).
pub fn mlp_cases_from(file: &str) -> Vec<MlpCase> {
    let fixture = pytorch_fixture(file);
    let cases = fixture["cases"].as_array().expect("cases");
    cases
        .iter()
        .map(|case| {
            let sizes: Vec<usize> =
                case["sizes"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
            let layers = sizes
                .windows(2)
                .zip(case["activations"].as_array().unwrap())
                .map(|(w, a)| LayerSpec::new(w[0], w[1], Activation::from_name(a.as_str().unwrap()).unwrap()))
                .collect();
            let loss = fixture_loss(case["loss"].as_str().unwrap());
            let interleave = |weights: &str, biases: &str| -> Vec<f64> {
                case[weights]
                    .as_array()
                    .unwrap()
                    .iter()
                    .zip(case[biases].as_array().unwrap())
                    .flat_map(|(w, b)| flatten(w).into_iter().chain(flatten(b)))
                    .collect()
            };
            let (target_values, target_classes) = if loss.target_kind() == TargetKind::Classes {
                (Vec::new(), case["target"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect())
            } else {
                (flatten(&case["target"]), Vec::new())
            };
            MlpCase {
                name: case["name"].as_str().unwrap().to_string(),
                layers,
                loss,
                batch: case["batch"].as_u64().unwrap() as usize,
                params: interleave("weights", "biases"),
                input: flatten(&case["input"]),
                target_values,
                target_classes,
                output: flatten(&case["output"]),
                loss_value: case["loss_value"].as_f64().unwrap(),
                grads: interleave("grad_weights", "grad_biases"),
                grad_input: flatten(&case["grad_input"]),
            }
        })
        .collect()
}
