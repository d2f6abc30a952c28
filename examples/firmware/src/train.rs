//! The two training runs, on statically allocated buffers.

use cortex_m::singleton;
use cortex_m_semihosting::hprintln;
#[allow(unused_imports)] // each footprint build uses one of the second optimizers
use embergrad::optim::{Adadelta, Adagrad, Adam, Adamax, NAdam, RAdam, RmsProp, Rprop, Sgd, Step};
use embergrad::{accuracy, init_params, Activation, Batch, Error, Init, LayerSpec, Loss, Rng, Spec, Target};

const XOR_LAYERS: [LayerSpec; 2] = [LayerSpec::new(2, 4, Activation::Tanh), LayerSpec::new(4, 1, Activation::Sigmoid)];
const XOR: Spec<'static> = Spec::new(&XOR_LAYERS);
const XOR_SAMPLES: usize = 4;
/// The four XOR inputs and their targets, for every run on XOR below.
const XOR_INPUT: [f32; XOR_SAMPLES * 2] = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
const XOR_TARGET: [f32; XOR_SAMPLES] = [0.0, 1.0, 1.0, 0.0];

const IRIS_LAYERS: [LayerSpec; 2] =
    [LayerSpec::new(4, 16, Activation::Relu), LayerSpec::new(16, 3, Activation::Identity)];
const IRIS: Spec<'static> = Spec::new(&IRIS_LAYERS);
const IRIS_TRAIN: usize = 120;
const IRIS_TEST: usize = 30;
const FEATURES: usize = 4;
/// Adam keeps two buffers (first and second moments) as long as the params, starting at zero.
const ADAM_STATE: usize = embergrad::optim::Optimizer::Adam(ADAM).state_len(IRIS.param_len());
const BATCH: usize = 8;
const ADAM: Adam = Adam::new(0.01);

/// Bytes of every static buffer below, from the specs' `const fn`s: what RAM the networks
/// need, to compare with the image's `.bss`.
const XOR_BYTES: usize = 4 * (2 * XOR.param_len() + XOR.workspace_len(XOR_SAMPLES));
const IRIS_BYTES: usize = 4 * (2 * IRIS.param_len() + ADAM_STATE + IRIS.workspace_len(IRIS_TRAIN))
    + 4 * (IRIS_TRAIN + IRIS_TEST) * FEATURES
    + core::mem::size_of::<usize>() * (2 * IRIS_TRAIN + IRIS_TEST + BATCH)
    + 4 * BATCH * FEATURES;

/// The network the desktop trained (`data/xor-model.ember`, made by the CLI).
const DESKTOP_LAYERS: [LayerSpec; 2] =
    [LayerSpec::new(2, 8, Activation::Relu), LayerSpec::new(8, 2, Activation::Identity)];
const DESKTOP: Spec<'static> = Spec::new(&DESKTOP_LAYERS);

/// Loads the model trained on the desktop from flash (checked: magic, version, checksum,
/// spec, finite values) and classifies the four XOR inputs with it; true if all are right.
fn predict_with_desktop_model() -> Result<bool, Error> {
    hprintln!("static buffers: desktop model {} bytes", 4 * (DESKTOP.param_len() + DESKTOP.forward_workspace_len(4)));
    let params = singleton!(: [f32; DESKTOP.param_len()] = [0.0; DESKTOP.param_len()]).unwrap();
    let workspace =
        singleton!(: [f32; DESKTOP.forward_workspace_len(4)] = [0.0; DESKTOP.forward_workspace_len(4)]).unwrap();
    embergrad::io::load_for_spec(include_bytes!("../data/xor-model.ember"), &DESKTOP, params, None)?;
    let outputs = DESKTOP.forward(params, &XOR_INPUT, 4, workspace)?;
    let correct = accuracy(outputs, 2, &[0, 1, 1, 0])?;
    hprintln!("desktop-trained model from flash: XOR accuracy {}", correct);
    Ok(correct == 1.0)
}

/// Runs the trainings; true if they learned.
pub fn run() -> bool {
    let xor = match train_xor() {
        Ok(mse) => mse < 0.01,
        Err(e) => {
            hprintln!("xor: error: {}", e);
            false
        }
    };
    hprintln!("static buffers: xor {} bytes", XOR_BYTES);
    if cfg!(feature = "xor-only") {
        return xor;
    }
    if cfg!(feature = "second-optimizer") {
        // The same 2-4-1 network trained once more, with a second optimizer: one MLP, both
        // optimizers linked.
        #[cfg(feature = "second-optimizer")]
        return match train_xor_second() {
            Ok(mse) => xor && mse < 0.01,
            Err(e) => {
                hprintln!("xor ({}): error: {}", SECOND.0, e);
                false
            }
        };
    }
    hprintln!("static buffers: iris {} bytes (of which workspace {})", IRIS_BYTES, 4 * IRIS.workspace_len(IRIS_TRAIN));
    let iris = match train_iris() {
        Ok(train_accuracy) => train_accuracy >= 0.9,
        Err(e) => {
            hprintln!("iris: error: {}", e);
            false
        }
    };
    let desktop = match predict_with_desktop_model() {
        Ok(ok) => ok,
        Err(e) => {
            hprintln!("desktop model: error: {}", e);
            false
        }
    };
    let activations = match check_activations() {
        Ok(ok) => ok,
        Err(e) => {
            hprintln!("activations: error: {}", e);
            false
        }
    };
    let counted = match count_instructions() {
        Ok((batch_path, sample_step)) => {
            hprintln!(
                "instructions per W2 update (2-8-1, one sample, SGD): batch path {}, sample step {}",
                batch_path,
                sample_step
            );
            batch_path > 0 && sample_step > 0
        }
        Err(e) => {
            hprintln!("instruction count: error: {}", e);
            false
        }
    };
    hprintln!(
        "learned: xor {}, iris {}; desktop model correct: {}; activations right: {}",
        xor,
        iris,
        desktop,
        activations
    );
    xor && iris && desktop && activations && counted
}

/// Instructions per per-sample SGD update of W2's network (2-8-1, tanh and sigmoid, MSE, lr
/// 0.5, the four XOR samples in turn), through the batch path at batch 1
/// (`loss_and_gradients` then an SGD step) and through `Spec::sample_step`. Counted with
/// SysTick: under QEMU's `-icount shift=0` one instruction is one nanosecond of virtual time,
/// and SysTick counts the 25 MHz core clock, so a tick is 40 instructions; 2,000 updates make
/// the tick's resolution 0.02 instructions per update. Without `-icount` the figures are
/// host time, not instructions (scripts/firmware.sh runs with it).
fn count_instructions() -> Result<(u32, u32), Error> {
    use cortex_m::peripheral::syst::SystClkSource;
    use cortex_m::peripheral::SYST;
    const LAYERS: [LayerSpec; 2] = [LayerSpec::new(2, 8, Activation::Tanh), LayerSpec::new(8, 1, Activation::Sigmoid)];
    const W2: Spec<'static> = Spec::new(&LAYERS);
    const UPDATES: u32 = 2000;
    let Some(mut peripherals) = cortex_m::Peripherals::take() else {
        return Err(Error::InvalidArgument { name: "peripherals", reason: "already taken" });
    };
    let syst = &mut peripherals.SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(0x00FF_FFFF);
    syst.clear_current();
    syst.enable_counter();
    let params = singleton!(: [f32; W2.param_len()] = [0.0; W2.param_len()]).unwrap();
    let grads = singleton!(: [f32; W2.param_len()] = [0.0; W2.param_len()]).unwrap();
    let workspace = singleton!(: [f32; W2.workspace_len(1)] = [0.0; W2.workspace_len(1)]).unwrap();
    let sample_workspace = singleton!(: [f32; W2.workspace_len(1)] = [0.0; W2.workspace_len(1)]).unwrap();
    // SysTick counts down; the elapsed ticks since `start`, modulo its 24 bits.
    let per_update = |start: u32| (start.wrapping_sub(SYST::get_current()) & 0x00FF_FFFF) * 40 / UPDATES;

    init_params(&W2, params, Init::XavierUniform, &mut Rng::new(7))?;
    let start = SYST::get_current();
    for i in 0..UPDATES as usize {
        let k = i % 4;
        let batch = Batch::new(&XOR_INPUT[2 * k..2 * k + 2], Target::Values(&XOR_TARGET[k..k + 1]), 1);
        W2.loss_and_gradients(params, &batch, Loss::Mse, grads, workspace)?;
        Sgd::new(0.5).step(&mut 0, params, grads, &mut [])?;
    }
    let batch_path = per_update(start);

    init_params(&W2, params, Init::XavierUniform, &mut Rng::new(7))?;
    let mut step = W2.sample_step(sample_workspace)?;
    let start = SYST::get_current();
    for i in 0..UPDATES as usize {
        let k = i % 4;
        step.sgd(params, &XOR_INPUT[2 * k..2 * k + 2], Target::Values(&XOR_TARGET[k..k + 1]), Loss::Mse, 0.5)?;
    }
    let sample_step = per_update(start);
    Ok((batch_path, sample_step))
}

/// `f(z)` and `f'(z)` at `z` = -1.5, 0.5 and 2 of the activations beyond the five the
/// trainings use, computed in f64 from their definitions (Python's `math`: `erfc`, `tanh`,
/// `expm1`, `log1p`), not by embergrad.
const ACTIVATION_CHECKS: [(Activation, [[f32; 2]; 3]); 6] = [
    (Activation::Gelu, [[-0.100_210_8, -0.127_469_19], [0.345_731_23, 0.867_495_1], [1.954_499_7, 1.085_231_8]]),
    (Activation::GeluTanh, [[-0.100_428_42, -0.127_710_79], [0.345_714, 0.867_369_9], [1.954_597_7, 1.086_099_3]]),
    (Activation::Silu, [[-0.273_638_3, -0.041_294_154], [0.311_229_66, 0.739_961_2], [1.761_594_2, 1.090_784_2]]),
    (Activation::Elu, [[-0.776_869_8, 0.223_130_16], [0.5, 1.0], [2.0, 1.0]]),
    (Activation::Softplus, [[0.201_413_28, 0.182_425_52], [0.974_077, 0.622_459_3], [2.126_928, 0.880_797_1]]),
    (Activation::Mish, [[-0.298_099_74, -0.064_097_82], [0.375_245_2, 0.886_424_4], [1.943_959, 1.069_317_9]]),
];

/// Runs each activation of [`ACTIVATION_CHECKS`] through a 1-to-1 layer (weight 1, bias 0)
/// forward and backward on the device, and compares `f` and `f'` with the table.
fn check_activations() -> Result<bool, Error> {
    const Z: [f32; 3] = [-1.5, 0.5, 2.0];
    let mut ok = true;
    for (activation, expected) in ACTIVATION_CHECKS {
        let layers = [LayerSpec::new(1, 1, activation)];
        let spec = Spec::new(&layers);
        let params = [1.0f32, 0.0];
        let mut workspace = [0.0f32; 32];
        let mut values = [0.0f32; 3];
        values.copy_from_slice(spec.forward(&params, &Z, 3, &mut workspace)?);
        let (mut grads, mut derivatives) = ([0.0f32; 2], [0.0f32; 3]);
        spec.backward(&params, &Z, 3, &mut workspace, &[1.0; 3], &mut grads, Some(&mut derivatives))?;
        for ((&y, &d), [want_y, want_d]) in values.iter().zip(&derivatives).zip(expected) {
            let close = |a: f32, b: f32| (a - b).abs() <= 1e-5 * b.abs() + 1e-6;
            if !(close(y, want_y) && close(d, want_d)) {
                hprintln!("{}: {} and {} where {} and {} are right", activation.name(), y, d, want_y, want_d);
                ok = false;
            }
        }
    }
    Ok(ok)
}

fn train_xor() -> Result<f32, Error> {
    let params = singleton!(: [f32; XOR.param_len()] = [0.0; XOR.param_len()]).unwrap();
    let grads = singleton!(: [f32; XOR.param_len()] = [0.0; XOR.param_len()]).unwrap();
    let workspace =
        singleton!(: [f32; XOR.workspace_len(XOR_SAMPLES)] = [0.0; XOR.workspace_len(XOR_SAMPLES)]).unwrap();
    init_params(&XOR, params, Init::XavierUniform, &mut Rng::new(42))?;
    let batch = Batch::new(&XOR_INPUT, Target::Values(&XOR_TARGET), XOR_SAMPLES);
    let mut loss = 0.0;
    for epoch in 1..=8 {
        for _ in 0..500 {
            loss = XOR.loss_and_gradients(params, &batch, Loss::Mse, grads, workspace)?;
            Sgd::new(2.0).step(&mut 0, params, grads, &mut [])?;
        }
        hprintln!("xor epoch {} (500 steps): mse {}", epoch, loss);
    }
    let outputs = XOR.forward(params, &XOR_INPUT, XOR_SAMPLES, workspace)?;
    let mse = Loss::Mse.evaluate(outputs, XOR_SAMPLES, 1, Target::Values(&XOR_TARGET), None)?;
    hprintln!("xor: final mse {}", mse);
    Ok(mse)
}

/// The optimizer an `xor-sgd-<name>` footprint build trains XOR with after SGD: its name, its
/// configuration (learning rates that solve XOR in 2,000 full-batch steps), and its extra
/// flash over the SGD-only build is that optimizer's cost.
#[cfg(feature = "xor-sgd-adam")]
const SECOND: (&str, Adam) = ("adam", Adam::new(0.05));
#[cfg(feature = "xor-sgd-adagrad")]
const SECOND: (&str, Adagrad) = ("adagrad", Adagrad::new(0.5));
#[cfg(feature = "xor-sgd-rmsprop")]
const SECOND: (&str, RmsProp) = ("rmsprop", RmsProp::new(0.01));
#[cfg(feature = "xor-sgd-nadam")]
const SECOND: (&str, NAdam) = ("nadam", NAdam::new(0.05));
#[cfg(feature = "xor-sgd-radam")]
const SECOND: (&str, RAdam) = ("radam", RAdam::new(0.05));
#[cfg(feature = "xor-sgd-adamax")]
const SECOND: (&str, Adamax) = ("adamax", Adamax::new(0.05));
#[cfg(feature = "xor-sgd-adadelta")]
const SECOND: (&str, Adadelta) = ("adadelta", Adadelta::new(10.0));
#[cfg(feature = "xor-sgd-rprop")]
const SECOND: (&str, Rprop) = ("rprop", Rprop::new(0.01));

/// XOR again with the build's second optimizer ([`SECOND`]), full batch, through the
/// optimizer's own `Step` (which links that optimizer alone).
#[cfg(feature = "second-optimizer")]
fn train_xor_second() -> Result<f32, Error> {
    // Room for three buffers, the most any optimizer keeps (AMSGrad).
    const STATE: usize = 3 * XOR.param_len();
    let (name, optimizer) = SECOND;
    let params = singleton!(: [f32; XOR.param_len()] = [0.0; XOR.param_len()]).unwrap();
    let grads = singleton!(: [f32; XOR.param_len()] = [0.0; XOR.param_len()]).unwrap();
    let state = singleton!(: [f32; STATE] = [0.0; STATE]).unwrap();
    let state = &mut state[..optimizer.state_len(XOR.param_len())];
    let workspace =
        singleton!(: [f32; XOR.workspace_len(XOR_SAMPLES)] = [0.0; XOR.workspace_len(XOR_SAMPLES)]).unwrap();
    init_params(&XOR, params, Init::XavierUniform, &mut Rng::new(42))?;
    optimizer.init_state(state)?;
    let batch = Batch::new(&XOR_INPUT, Target::Values(&XOR_TARGET), XOR_SAMPLES);
    let mut steps = 0;
    let mut loss = 0.0;
    for _ in 0..2000 {
        loss = XOR.loss_and_gradients(params, &batch, Loss::Mse, grads, workspace)?;
        optimizer.step(&mut steps, params, grads, state)?;
    }
    hprintln!("xor ({}): mse {}", name, loss);
    Ok(loss)
}

/// Decodes embedded little-endian f32 features and u8 labels (made by build.rs from the CSV
/// files) into `features` and `labels`; false if the sizes do not match.
fn decode(feature_bytes: &[u8], label_bytes: &[u8], features: &mut [f32], labels: &mut [usize]) -> bool {
    if feature_bytes.len() != 4 * features.len() || label_bytes.len() != labels.len() {
        return false;
    }
    for (value, bytes) in features.iter_mut().zip(feature_bytes.chunks_exact(4)) {
        *value = f32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
    }
    for (label, &byte) in labels.iter_mut().zip(label_bytes) {
        *label = usize::from(byte);
    }
    true
}

fn train_iris() -> Result<f32, Error> {
    let train_x = singleton!(: [f32; IRIS_TRAIN * FEATURES] = [0.0; IRIS_TRAIN * FEATURES]).unwrap();
    let train_y = singleton!(: [usize; IRIS_TRAIN] = [0; IRIS_TRAIN]).unwrap();
    let test_x = singleton!(: [f32; IRIS_TEST * FEATURES] = [0.0; IRIS_TEST * FEATURES]).unwrap();
    let test_y = singleton!(: [usize; IRIS_TEST] = [0; IRIS_TEST]).unwrap();
    let train_ok = decode(
        include_bytes!(concat!(env!("OUT_DIR"), "/iris_train_features.bin")),
        include_bytes!(concat!(env!("OUT_DIR"), "/iris_train_labels.bin")),
        train_x,
        train_y,
    );
    let test_ok = decode(
        include_bytes!(concat!(env!("OUT_DIR"), "/iris_test_features.bin")),
        include_bytes!(concat!(env!("OUT_DIR"), "/iris_test_labels.bin")),
        test_x,
        test_y,
    );
    if !(train_ok && test_ok) {
        hprintln!("iris: embedded data has the wrong size");
        return Ok(0.0);
    }

    let params = singleton!(: [f32; IRIS.param_len()] = [0.0; IRIS.param_len()]).unwrap();
    let grads = singleton!(: [f32; IRIS.param_len()] = [0.0; IRIS.param_len()]).unwrap();
    let state = singleton!(: [f32; ADAM_STATE] = [0.0; ADAM_STATE]).unwrap();
    // One workspace big enough for a training minibatch and for evaluating the training set.
    let workspace =
        singleton!(: [f32; IRIS.workspace_len(IRIS_TRAIN)] = [0.0; IRIS.workspace_len(IRIS_TRAIN)]).unwrap();
    let batch_x = singleton!(: [f32; BATCH * FEATURES] = [0.0; BATCH * FEATURES]).unwrap();
    let batch_y = singleton!(: [usize; BATCH] = [0; BATCH]).unwrap();
    let order = singleton!(: [usize; IRIS_TRAIN] = [0; IRIS_TRAIN]).unwrap();
    for (i, slot) in order.iter_mut().enumerate() {
        *slot = i;
    }

    let mut rng = Rng::new(7);
    // He-uniform: the ReLU layer's scale without linking the normal sampler's log/cos.
    init_params(&IRIS, params, Init::HeUniform, &mut rng)?;

    let mut steps = 0u64;
    for epoch in 1..=60 {
        rng.shuffle(order);
        let mut total = 0.0;
        for chunk in order.chunks(BATCH) {
            for (k, &i) in chunk.iter().enumerate() {
                batch_x[k * FEATURES..(k + 1) * FEATURES].copy_from_slice(&train_x[i * FEATURES..(i + 1) * FEATURES]);
                batch_y[k] = train_y[i];
            }
            let n = chunk.len();
            let batch = Batch::new(&batch_x[..n * FEATURES], Target::Classes(&batch_y[..n]), n);
            total += IRIS.loss_and_gradients(params, &batch, Loss::SoftmaxCrossEntropy, grads, workspace)?;
            ADAM.step(&mut steps, params, grads, state)?;
        }
        if epoch % 10 == 0 {
            hprintln!("iris epoch {}: mean loss {}", epoch, total / (IRIS_TRAIN / BATCH) as f32);
        }
    }
    let train_accuracy = accuracy(IRIS.forward(params, train_x, IRIS_TRAIN, workspace)?, 3, train_y)?;
    let test_accuracy = accuracy(IRIS.forward(params, test_x, IRIS_TEST, workspace)?, 3, test_y)?;
    hprintln!("iris: train accuracy {}, test accuracy {}", train_accuracy, test_accuracy);
    Ok(train_accuracy)
}
