//! Reproduces `tests/fixtures/pytorch/optim_trajectories.json` and `optim_more.json`: for each
//! optimizer setting, PyTorch's parameters after every step, computed here in f32.

use embergrad::optim::{Adadelta, Adagrad, Adam, Adamax, NAdam, Optimizer, RAdam, RmsProp, Rprop, Sgd, Step};
use embergrad_tests::{flatten, pytorch_fixture, rel_err};
use serde_json::Value;

/// Worst relative error allowed per parameter and step.
const TOLERANCE: f64 = 1e-5;

/// Floor of the relative error's denominator, as a fraction of the largest initial parameter.
/// The initial float64 values are rounded to f32 before the first step (up to 6e-8 of their
/// size), and that absolute error rides along as a parameter crosses zero: an entry that
/// shrinks below 1% of the tensor's scale is held to 1e-5 of that 1% instead of to 1e-5 of
/// itself (like `atol` in `torch.allclose`).
const FLOOR_FRACTION: f64 = 1e-2;

/// Builds our optimizer from PyTorch's class name and keyword arguments (missing ones are
/// PyTorch's defaults, which are our `Default`s).
fn optimizer(class: &str, kwargs: &Value) -> Optimizer {
    let f = |name: &str| kwargs.get(name).and_then(Value::as_f64).map(|v| v as f32);
    let b = |name: &str| kwargs.get(name).and_then(Value::as_bool);
    match class {
        "SGD" => {
            let d = Sgd::default();
            Optimizer::Sgd(Sgd {
                lr: f("lr").unwrap_or(d.lr),
                momentum: f("momentum").unwrap_or(d.momentum),
                dampening: f("dampening").unwrap_or(d.dampening),
                weight_decay: f("weight_decay").unwrap_or(d.weight_decay),
                nesterov: b("nesterov").unwrap_or(d.nesterov),
            })
        }
        "Adagrad" => {
            let d = Adagrad::default();
            Optimizer::Adagrad(Adagrad {
                lr: f("lr").unwrap_or(d.lr),
                lr_decay: f("lr_decay").unwrap_or(d.lr_decay),
                weight_decay: f("weight_decay").unwrap_or(d.weight_decay),
                initial_accumulator_value: f("initial_accumulator_value").unwrap_or(d.initial_accumulator_value),
                eps: f("eps").unwrap_or(d.eps),
            })
        }
        "RMSprop" => {
            let d = RmsProp::default();
            Optimizer::RmsProp(RmsProp {
                lr: f("lr").unwrap_or(d.lr),
                alpha: f("alpha").unwrap_or(d.alpha),
                eps: f("eps").unwrap_or(d.eps),
                weight_decay: f("weight_decay").unwrap_or(d.weight_decay),
                momentum: f("momentum").unwrap_or(d.momentum),
                centered: b("centered").unwrap_or(d.centered),
            })
        }
        "Adam" | "AdamW" => {
            let d = if class == "AdamW" { Adam::adamw() } else { Adam::default() };
            let betas = kwargs.get("betas").map(flatten);
            Optimizer::Adam(Adam {
                lr: f("lr").unwrap_or(d.lr),
                beta1: betas.as_ref().map_or(d.beta1, |b| b[0] as f32),
                beta2: betas.as_ref().map_or(d.beta2, |b| b[1] as f32),
                eps: f("eps").unwrap_or(d.eps),
                weight_decay: f("weight_decay").unwrap_or(d.weight_decay),
                amsgrad: b("amsgrad").unwrap_or(d.amsgrad),
                decoupled_weight_decay: d.decoupled_weight_decay,
            })
        }
        "NAdam" => {
            let d = NAdam::default();
            let betas = kwargs.get("betas").map(flatten);
            Optimizer::NAdam(NAdam {
                lr: f("lr").unwrap_or(d.lr),
                beta1: betas.as_ref().map_or(d.beta1, |b| b[0] as f32),
                beta2: betas.as_ref().map_or(d.beta2, |b| b[1] as f32),
                eps: f("eps").unwrap_or(d.eps),
                weight_decay: f("weight_decay").unwrap_or(d.weight_decay),
                momentum_decay: f("momentum_decay").unwrap_or(d.momentum_decay),
                decoupled_weight_decay: b("decoupled_weight_decay").unwrap_or(d.decoupled_weight_decay),
            })
        }
        "RAdam" => {
            let d = RAdam::default();
            let betas = kwargs.get("betas").map(flatten);
            Optimizer::RAdam(RAdam {
                lr: f("lr").unwrap_or(d.lr),
                beta1: betas.as_ref().map_or(d.beta1, |b| b[0] as f32),
                beta2: betas.as_ref().map_or(d.beta2, |b| b[1] as f32),
                eps: f("eps").unwrap_or(d.eps),
                weight_decay: f("weight_decay").unwrap_or(d.weight_decay),
                decoupled_weight_decay: b("decoupled_weight_decay").unwrap_or(d.decoupled_weight_decay),
            })
        }
        "Adamax" => {
            let d = Adamax::default();
            let betas = kwargs.get("betas").map(flatten);
            Optimizer::Adamax(Adamax {
                lr: f("lr").unwrap_or(d.lr),
                beta1: betas.as_ref().map_or(d.beta1, |b| b[0] as f32),
                beta2: betas.as_ref().map_or(d.beta2, |b| b[1] as f32),
                eps: f("eps").unwrap_or(d.eps),
                weight_decay: f("weight_decay").unwrap_or(d.weight_decay),
            })
        }
        "Adadelta" => {
            let d = Adadelta::default();
            Optimizer::Adadelta(Adadelta {
                lr: f("lr").unwrap_or(d.lr),
                rho: f("rho").unwrap_or(d.rho),
                eps: f("eps").unwrap_or(d.eps),
                weight_decay: f("weight_decay").unwrap_or(d.weight_decay),
            })
        }
        "Rprop" => {
            let d = Rprop::default();
            let etas = kwargs.get("etas").map(flatten);
            let sizes = kwargs.get("step_sizes").map(flatten);
            Optimizer::Rprop(Rprop {
                lr: f("lr").unwrap_or(d.lr),
                eta_minus: etas.as_ref().map_or(d.eta_minus, |e| e[0] as f32),
                eta_plus: etas.as_ref().map_or(d.eta_plus, |e| e[1] as f32),
                step_min: sizes.as_ref().map_or(d.step_min, |s| s[0] as f32),
                step_max: sizes.as_ref().map_or(d.step_max, |s| s[1] as f32),
            })
        }
        other => panic!("fixture uses an optimizer we do not map: {other}"),
    }
}

#[test]
fn every_trajectory_matches_pytorch() {
    replay("optim_trajectories.json", 11);
}

/// NAdam and RAdam (each with and without weight decay), Adamax, Adadelta and Rprop.
#[test]
fn every_newer_optimizer_matches_pytorch() {
    replay("optim_more.json", 7);
}

/// Every optimizer the enum has is replayed from one fixture or the other.
#[test]
fn every_optimizer_has_a_pytorch_trajectory() {
    let mut classes = Vec::new();
    for file in ["optim_trajectories.json", "optim_more.json"] {
        for case in pytorch_fixture(file)["cases"].as_array().unwrap() {
            let opt = optimizer(case["optimizer"].as_str().unwrap(), &case["hyperparams"]);
            classes.push(std::mem::discriminant(&opt));
        }
    }
    for name in Optimizer::NAMES {
        let opt = Optimizer::from_name(name).unwrap();
        assert!(classes.contains(&std::mem::discriminant(&opt)), "no PyTorch trajectory for {name}");
    }
}

/// Replays every case of a trajectory fixture (which has `count` cases).
fn replay(file: &str, count: usize) {
    let fixture = pytorch_fixture(file);
    let cases = fixture["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), count);
    let mut report = Vec::new();
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let opt = optimizer(case["optimizer"].as_str().unwrap(), &case["hyperparams"]);
        let initial = flatten(&case["initial"]);
        let floor = FLOOR_FRACTION * initial.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        let mut params: Vec<f32> = initial.iter().map(|&v| v as f32).collect();
        let mut state = vec![0.0; opt.state_len(params.len())];
        opt.init_state(&mut state).unwrap();
        let mut steps = 0u64;
        let mut worst = 0.0f64;
        let grads = case["grads"].as_array().unwrap();
        let expected = case["params_after_each_step"].as_array().unwrap();
        assert_eq!(grads.len(), expected.len());
        for (t, (g, want)) in grads.iter().zip(expected).enumerate() {
            let g: Vec<f32> = flatten(g).iter().map(|&v| v as f32).collect();
            opt.step(&mut steps, &mut params, &g, &mut state).unwrap();
            for (i, (&p, &w)) in params.iter().zip(&flatten(want)).enumerate() {
                let err = rel_err(f64::from(p), w, floor);
                assert!(err <= TOLERANCE, "{name}, step {t}, param {i}: {p} vs PyTorch {w} (rel err {err:e})");
                worst = worst.max(err);
            }
        }
        assert_eq!(steps, grads.len() as u64);
        report.push(format!("{name}: {} steps, {} params, worst rel err {worst:.2e}", grads.len(), params.len()));
    }
    println!("{}", report.join("\n"));
}
