//! XOR learned by a 2-4-1 network using only the heap-free API: a `const` spec, and params,
//! grads and workspace in `static`-sized stack arrays whose lengths are the spec's `const fn`s.

use embergrad::optim::{Sgd, Step};
use embergrad::{binary_accuracy, init_params, Activation, Batch, Init, LayerSpec, Loss, Rng, Spec, Target};

const LAYERS: [LayerSpec; 2] = [LayerSpec::new(2, 4, Activation::Tanh), LayerSpec::new(4, 1, Activation::Sigmoid)];
const XOR: Spec<'static> = Spec::new(&LAYERS);
const SAMPLES: usize = 4;

static INPUT: [f32; SAMPLES * 2] = [0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0];
static TARGET: [f32; SAMPLES] = [0.0, 1.0, 1.0, 0.0];

/// Trains from `seed` for `steps` full-batch SGD steps and returns (final MSE, outputs).
fn train(seed: u64, steps: usize) -> (f32, [f32; SAMPLES]) {
    let mut params = [0.0f32; XOR.param_len()];
    let mut grads = [0.0f32; XOR.param_len()];
    let mut workspace = [0.0f32; XOR.workspace_len(SAMPLES)];
    init_params(&XOR, &mut params, Init::XavierUniform, &mut Rng::new(seed)).unwrap();
    let batch = Batch::new(&INPUT, Target::Values(&TARGET), SAMPLES);
    for _ in 0..steps {
        XOR.loss_and_gradients(&params, &batch, Loss::Mse, &mut grads, &mut workspace).unwrap();
        Sgd::new(2.0).step(&mut 0, &mut params, &grads, &mut []).unwrap();
    }
    let mut outputs = [0.0; SAMPLES];
    outputs.copy_from_slice(XOR.forward(&params, &INPUT, SAMPLES, &mut workspace).unwrap());
    let mse = Loss::Mse.evaluate(&outputs, SAMPLES, 1, Target::Values(&TARGET), None).unwrap();
    (mse, outputs)
}

#[test]
fn xor_is_learned_from_a_fixed_seed() {
    let (mse, outputs) = train(42, 4000);
    assert!(mse < 0.01, "MSE {mse} after training, outputs {outputs:?}");
    assert_eq!(binary_accuracy(&outputs, &TARGET, 0.5).unwrap(), 1.0, "outputs {outputs:?}");
}

#[test]
fn the_same_seed_gives_the_same_network() {
    assert_eq!(train(7, 50), train(7, 50));
    assert_ne!(train(7, 50), train(8, 50));
}

#[test]
fn buffer_sizes_are_compile_time_constants() {
    // 2·4 + 4 weights and biases in layer 1, 4·1 + 1 in layer 2.
    const PARAMS: usize = XOR.param_len();
    const WORKSPACE: usize = XOR.workspace_len(SAMPLES);
    assert_eq!(PARAMS, 17);
    // Activations 4 + 1 per sample, plus two scratch rows of the widest layer (4).
    assert_eq!(WORKSPACE, SAMPLES * (5 + 2 * 4));
    assert_eq!(XOR.forward_workspace_len(SAMPLES), SAMPLES * 5);
}
