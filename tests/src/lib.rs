//! Helpers shared by the integration tests: where the data lives, and an independent f64
//! reference of the dense network used as the finite-difference oracle.
#![forbid(unsafe_code)]

use std::path::PathBuf;

use embergrad::{Activation, LayerSpec, Loss};

/// The repository's root folder.
pub fn repo_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The project's `shared/` folder (beside the checkout), or `$EMBERGRAD_SHARED`.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("EMBERGRAD_SHARED").map_or_else(|| repo_dir().join("../shared"), PathBuf::from)
}

/// Reads and parses a JSON fixture under `shared/fixtures/pytorch`.
pub fn pytorch_fixture(name: &str) -> serde_json::Value {
    let path = shared_dir().join("fixtures/pytorch").join(name);
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
        Activation::Custom(c) => panic!("no f64 reference for the custom activation `{}`", c.name()),
    }
}

/// Forward pass of a dense network in f64, params in the core's flat layout.
pub fn forward_f64(layers: &[LayerSpec], params: &[f64], input: &[f64], batch: usize) -> Vec<f64> {
    let mut x = input.to_vec();
    let mut offset = 0;
    for layer in layers {
        let (n_in, n_out) = (layer.inputs, layer.outputs);
        let w = &params[offset..offset + n_in * n_out];
        let b = &params[offset + n_in * n_out..offset + (n_in + 1) * n_out];
        let mut y = vec![0.0; batch * n_out];
        for s in 0..batch {
            for o in 0..n_out {
                let z: f64 = (0..n_in).map(|i| x[s * n_in + i] * w[o * n_in + i]).sum::<f64>() + b[o];
                y[s * n_out + o] = activation_f64(layer.activation, z);
            }
        }
        offset += (n_in + 1) * n_out;
        x = y;
    }
    x
}

/// Mean loss in f64 with PyTorch's definitions.
pub fn loss_f64(loss: Loss, output: &[f64], outputs: usize, target: &RefTarget) -> f64 {
    match (loss, target) {
        (Loss::Mse, RefTarget::Values(t)) => {
            output.iter().zip(t).map(|(y, t)| (y - t).powi(2)).sum::<f64>() / output.len() as f64
        }
        (Loss::BceWithLogits, RefTarget::Values(t)) => {
            output.iter().zip(t).map(|(&z, &t)| -(t * log_sigmoid(z) + (1.0 - t) * log_sigmoid(-z))).sum::<f64>()
                / output.len() as f64
        }
        (Loss::SoftmaxCrossEntropy, RefTarget::Classes(labels)) => {
            output
                .chunks(outputs)
                .zip(labels)
                .map(|(row, &l)| {
                    let sum: f64 = row.iter().map(|z| z.exp()).sum();
                    sum.ln() - row[l]
                })
                .sum::<f64>()
                / labels.len() as f64
        }
        _ => panic!("loss and target kind do not match"),
    }
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

/// One case of `shared/fixtures/pytorch/mlp_grads.json`, in the core's flat layouts.
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

/// Every case of the PyTorch gradient fixture.
pub fn mlp_cases() -> Vec<MlpCase> {
    let fixture = pytorch_fixture("mlp_grads.json");
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
            let loss = Loss::from_name(case["loss"].as_str().unwrap()).expect("known loss");
            let interleave = |weights: &str, biases: &str| -> Vec<f64> {
                case[weights]
                    .as_array()
                    .unwrap()
                    .iter()
                    .zip(case[biases].as_array().unwrap())
                    .flat_map(|(w, b)| flatten(w).into_iter().chain(flatten(b)))
                    .collect()
            };
            let (target_values, target_classes) = if loss == Loss::SoftmaxCrossEntropy {
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
