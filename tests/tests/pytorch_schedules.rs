//! Reproduces `tests/fixtures/pytorch/schedules.json`: every learning rate PyTorch's
//! schedulers gave over 30 steps, from the closed forms of `Schedule` and the state of
//! `ReduceOnPlateau`.

use embergrad::optim::{Anneal, PlateauMode, ReduceOnPlateau, Schedule};
use embergrad_tests::{flatten, pytorch_fixture, rel_err};
use serde_json::Value;

/// Learning rates are held to 1e-5 relative (they are computed in f64 and rounded to f32).
const TOLERANCE: f64 = 1e-5;

/// A value that must live as long as the schedule referring to it.
fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

/// Our schedule for PyTorch's scheduler class and keyword arguments (PyTorch's defaults for
/// the missing ones).
fn schedule(class: &str, kwargs: &Value) -> Schedule {
    let f = |name: &str, default: f64| kwargs.get(name).and_then(Value::as_f64).unwrap_or(default) as f32;
    let u = |name: &str| kwargs[name].as_u64().unwrap_or_else(|| panic!("{class} needs {name}"));
    match class {
        "StepLR" => Schedule::Step { step_size: u("step_size"), gamma: f("gamma", 0.1) },
        "MultiStepLR" => {
            let milestones: Vec<u64> =
                kwargs["milestones"].as_array().unwrap().iter().map(|m| m.as_u64().unwrap()).collect();
            Schedule::MultiStep { milestones: leak(milestones).as_slice(), gamma: f("gamma", 0.1) }
        }
        "ExponentialLR" => Schedule::Exponential { gamma: f("gamma", 0.0) },
        "CosineAnnealingLR" => Schedule::CosineAnnealing { t_max: u("T_max"), eta_min: f("eta_min", 0.0) },
        "CosineAnnealingWarmRestarts" => Schedule::CosineWarmRestarts {
            t_0: u("T_0"),
            t_mult: kwargs.get("T_mult").and_then(Value::as_u64).unwrap_or(1),
            eta_min: f("eta_min", 0.0),
        },
        "LinearLR" => Schedule::Linear {
            start_factor: f("start_factor", 1.0 / 3.0),
            end_factor: f("end_factor", 1.0),
            total_iters: kwargs.get("total_iters").and_then(Value::as_u64).unwrap_or(5),
        },
        "PolynomialLR" => Schedule::Polynomial {
            total_iters: kwargs.get("total_iters").and_then(Value::as_u64).unwrap_or(5),
            power: f("power", 1.0),
        },
        "OneCycleLR" => Schedule::OneCycle {
            max_lr: f("max_lr", f64::NAN),
            total_steps: u("total_steps"),
            pct_start: f("pct_start", 0.3),
            anneal: match kwargs.get("anneal_strategy").and_then(Value::as_str).unwrap_or("cos") {
                "cos" => Anneal::Cosine,
                "linear" => Anneal::Linear,
                other => panic!("anneal strategy {other}"),
            },
            div_factor: f("div_factor", 25.0),
            final_div_factor: f("final_div_factor", 1e4),
        },
        "SequentialLR" => {
            let parts: Vec<Schedule> = kwargs["schedulers"]
                .as_array()
                .unwrap()
                .iter()
                .map(|part| {
                    let (class, kwargs) = part.as_object().unwrap().iter().next().unwrap();
                    schedule(class, kwargs)
                })
                .collect();
            let milestones = kwargs["milestones"].as_array().unwrap();
            assert_eq!((parts.len(), milestones.len()), (2, 1), "two schedulers, one milestone");
            Schedule::Sequential {
                first: leak(parts[0]),
                milestone: milestones[0].as_u64().unwrap(),
                then: leak(parts[1]),
            }
        }
        other => panic!("fixture uses a scheduler we do not map: {other}"),
    }
}

#[test]
fn every_schedule_matches_pytorch() {
    let fixture = pytorch_fixture("schedules.json");
    let cases = fixture["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 10);
    for case in cases {
        let (name, class) = (case["name"].as_str().unwrap(), case["scheduler"].as_str().unwrap());
        let base = case["base_lr"].as_f64().unwrap() as f32;
        let expected = flatten(&case["lr_at_each_step"]);
        let kwargs = &case["kwargs"];
        let actual: Vec<f32> = if class == "ReduceLROnPlateau" {
            let mut plateau = ReduceOnPlateau::new(base);
            plateau.mode = match kwargs["mode"].as_str().unwrap() {
                "min" => PlateauMode::Min,
                _ => PlateauMode::Max,
            };
            plateau.factor = kwargs["factor"].as_f64().unwrap() as f32;
            plateau.patience = kwargs["patience"].as_u64().unwrap() as u32;
            plateau.threshold = kwargs["threshold"].as_f64().unwrap() as f32;
            plateau.relative_threshold = kwargs["threshold_mode"] == "rel";
            plateau.cooldown = kwargs["cooldown"].as_u64().unwrap() as u32;
            plateau.min_lr = kwargs["min_lr"].as_f64().unwrap() as f32;
            let metrics = flatten(&case["metric_after_each_step"]);
            let mut rates = vec![plateau.lr()];
            for &metric in &metrics[..metrics.len() - 1] {
                rates.push(plateau.step(metric as f32).unwrap());
            }
            rates
        } else {
            let schedule = schedule(class, kwargs);
            (0..expected.len() as u64).map(|t| schedule.lr_at(base, t)).collect()
        };
        assert_eq!(actual.len(), expected.len(), "{name}");
        for (t, (&a, &e)) in actual.iter().zip(&expected).enumerate() {
            let err = rel_err(f64::from(a), e, 1e-9);
            assert!(err <= TOLERANCE, "{name} ({class}), step {t}: {a} vs PyTorch {e} (rel err {err:e})");
        }
    }
}
