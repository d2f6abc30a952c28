//! Model files: the embergrad format round-trips, rejects every corruption without panicking
//! or half-loading, loads without an allocator from `include_bytes!`; PyTorch's safetensors
//! model loads and predicts PyTorch's outputs; exports parse back with the safetensors crate.

use embergrad::io::{encoded_len, inspect, load, load_for_spec, load_params_for_spec, save, Checkpoint};
use embergrad::optim::{Adadelta, Adagrad, Adam, Adamax, NAdam, Optimizer, RAdam, RmsProp, Rprop, Sgd};
use embergrad::Step;
use embergrad::{Activation, Batch, Error, Init, LayerSpec, Loss, Mlp, Rng, Spec, Target};
use embergrad_std::model::{decode, encode, from_safetensors, load_file, save_file, to_safetensors};
use embergrad_tests::{flatten, pytorch_fixture, pytorch_fixtures_dir};
use proptest::prelude::*;

const LAYERS: [LayerSpec; 2] = [LayerSpec::new(3, 4, Activation::Tanh), LayerSpec::new(4, 2, Activation::Identity)];
const NET: Spec<'static> = Spec::new(&LAYERS);

/// A trained-for-a-few-steps network with an Adam checkpoint.
fn trained() -> (Vec<f32>, Optimizer, u64, Vec<f32>) {
    let mut net = Mlp::new(&LAYERS, Init::Auto, &mut Rng::new(4)).unwrap();
    let adam = Optimizer::Adam(Adam { lr: 0.01, amsgrad: true, ..Adam::default() });
    let mut state = vec![0.0; adam.state_len(NET.param_len())];
    let mut steps = 0;
    let input = [0.1, 0.2, 0.3, -0.4, 0.5, -0.6];
    for _ in 0..5 {
        net.loss_and_gradients(&Batch::new(&input, Target::Classes(&[0, 1]), 2), Loss::SoftmaxCrossEntropy).unwrap();
        let (params, grads) = net.params_and_grads();
        adam.step(&mut steps, params, grads, &mut state).unwrap();
    }
    (net.params().to_vec(), adam, steps, state)
}

#[test]
fn round_trip_with_and_without_checkpoint() {
    let (params, adam, steps, state) = trained();
    let plain = encode(&NET, &params, None, None).unwrap();
    assert_eq!(plain.len(), encoded_len(&NET, None));
    let model = decode(&plain).unwrap();
    assert_eq!(
        (model.layers.as_slice(), model.params.as_slice(), model.checkpoint.is_none()),
        (&LAYERS[..], &params[..], true)
    );

    let checkpoint = Checkpoint { optimizer: adam, steps, epoch: 3, state: &state };
    let full = encode(&NET, &params, None, Some(checkpoint)).unwrap();
    assert_eq!(full.len(), encoded_len(&NET, Some(state.len())));
    let model = decode(&full).unwrap();
    assert_eq!(model.params, params);
    let restored = model.checkpoint.as_ref().unwrap();
    assert_eq!((restored.optimizer, restored.steps, restored.epoch, &restored.state), (adam, steps, 3, &state));
    // Bitwise: the same bytes again.
    assert_eq!(encode(&model.spec(), &model.params, None, Some(checkpoint)).unwrap(), full);
}

/// The activation codes are part of the file format (each layer's third u32): every
/// built-in activation is stored under its documented code, at the documented place, loads
/// back as itself, and a code no activation has is an error.
#[test]
fn every_activation_round_trips_under_its_fixed_code() {
    // The format's table, as docs/ARCHITECTURE.md and `io` document it.
    let documented = [
        (Activation::Identity, 0u32),
        (Activation::Relu, 1),
        (Activation::LeakyRelu, 2),
        (Activation::Sigmoid, 3),
        (Activation::Tanh, 4),
        (Activation::Gelu, 5),
        (Activation::GeluTanh, 6),
        (Activation::Silu, 7),
        (Activation::Elu, 8),
        (Activation::Softplus, 9),
        (Activation::Mish, 10),
    ];
    assert_eq!(documented.len(), Activation::ALL.len(), "a new activation needs a code in this table");
    for (activation, code) in documented {
        let layers = [LayerSpec::new(2, 3, activation), LayerSpec::new(3, 1, Activation::Identity)];
        let spec = Spec::new(&layers);
        let params: Vec<f32> = (0..spec.param_len()).map(|i| i as f32 * 0.25).collect();
        let bytes = encode(&spec, &params, None, None).unwrap();
        // Header: magic (8), version (2), flags (2), layer count (4); then inputs, outputs, code.
        let at = 16 + 8;
        assert_eq!(u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()), code, "{activation:?}");
        assert_eq!(decode(&bytes).unwrap().layers, layers, "{activation:?}");
        // A code no activation has, with the checksum made right again, so only the code
        // is wrong.
        let mut unknown = bytes.clone();
        unknown[at..at + 4].copy_from_slice(&99u32.to_le_bytes());
        let body = unknown.len() - 4;
        let checksum = embergrad::io::crc32(&unknown[..body]).to_le_bytes();
        unknown[body..].copy_from_slice(&checksum);
        let err = inspect(&unknown).unwrap_err();
        assert!(err.to_string().contains("unknown activation code"), "{err}");
    }
}

/// The optimizer codes are part of the file format too (the checkpoint section's first byte):
/// every optimizer is stored under its documented code, with non-default hyper-parameters
/// and its state, loads back as itself, and a code no optimizer has is an error.
#[test]
fn every_optimizer_round_trips_under_its_fixed_code() {
    let documented = [
        ("sgd", 0u8),
        ("adagrad", 1),
        ("rmsprop", 2),
        ("adam", 3),
        ("nadam", 4),
        ("radam", 5),
        ("adamax", 6),
        ("adadelta", 7),
        ("rprop", 8),
    ];
    assert_eq!(documented.len(), Optimizer::NAMES.len(), "a new optimizer needs a code in this table");
    let variants = [
        Optimizer::Sgd(Sgd { lr: 0.3, momentum: 0.8, dampening: 0.0, weight_decay: 0.01, nesterov: true }),
        Optimizer::Adagrad(Adagrad { lr: 0.2, lr_decay: 0.01, initial_accumulator_value: 0.1, ..Adagrad::default() }),
        Optimizer::RmsProp(RmsProp { momentum: 0.5, centered: true, ..RmsProp::default() }),
        Optimizer::Adam(Adam { amsgrad: true, ..Adam::adamw() }),
        Optimizer::NAdam(NAdam {
            momentum_decay: 0.01,
            decoupled_weight_decay: true,
            weight_decay: 0.1,
            ..NAdam::default()
        }),
        Optimizer::RAdam(RAdam { decoupled_weight_decay: true, weight_decay: 0.1, ..RAdam::default() }),
        Optimizer::Adamax(Adamax { beta1: 0.8, ..Adamax::default() }),
        Optimizer::Adadelta(Adadelta { rho: 0.5, ..Adadelta::default() }),
        Optimizer::Rprop(Rprop { eta_plus: 1.5, step_max: 2.0, ..Rprop::default() }),
    ];
    for ((name, code), optimizer) in documented.into_iter().zip(variants) {
        assert_eq!(
            Optimizer::from_name(name).map(|o| std::mem::discriminant(&o)),
            Some(std::mem::discriminant(&optimizer))
        );
        let (params, _, _, _) = trained();
        let state: Vec<f32> = (0..optimizer.state_len(params.len())).map(|i| i as f32 * 0.5).collect();
        let checkpoint = Checkpoint { optimizer, steps: 17, epoch: 2, state: &state };
        let bytes = encode(&NET, &params, None, Some(checkpoint)).unwrap();
        let at = 16 + 12 * NET.layers().len() + 4 + 4 * params.len();
        assert_eq!(bytes[at], code, "{name}");
        let restored = decode(&bytes).unwrap().checkpoint.unwrap();
        assert_eq!(
            (restored.optimizer, restored.steps, restored.epoch, &restored.state[..]),
            (optimizer, 17, 2, &state[..]),
            "{name}"
        );
        let mut unknown = bytes.clone();
        unknown[at] = 200;
        let body = unknown.len() - 4;
        let checksum = embergrad::io::crc32(&unknown[..body]).to_le_bytes();
        unknown[body..].copy_from_slice(&checksum);
        let err = inspect(&unknown).unwrap_err();
        assert!(err.to_string().contains("unknown optimizer"), "{err}");
    }
}

#[test]
fn every_single_byte_corruption_and_truncation_is_an_error_and_loads_nothing() {
    let (params, adam, steps, state) = trained();
    let file =
        encode(&NET, &params, None, Some(Checkpoint { optimizer: adam, steps, epoch: 1, state: &state })).unwrap();
    let mut out = vec![7.0f32; NET.param_len()];
    let mut out_state = vec![7.0f32; state.len()];
    for position in 0..file.len() {
        for flip in [0x01u8, 0x80, 0xFF] {
            let mut bad = file.clone();
            bad[position] ^= flip;
            let result = load_for_spec(&bad, &NET, &mut out, Some(&mut out_state));
            assert!(result.is_err(), "byte {position} ^ {flip:#x} went unnoticed");
        }
    }
    for length in 0..file.len() {
        assert!(load_for_spec(&file[..length], &NET, &mut out, Some(&mut out_state)).is_err(), "truncated to {length}");
    }
    assert!(out.iter().chain(&out_state).all(|&v| v == 7.0), "a failed load wrote into the buffers");
    let mut extended = file.clone();
    extended.push(0);
    assert!(inspect(&extended).is_err());
}

/// Recomputes the checksum after editing a file, to reach the checks behind it.
fn reseal(bytes: &mut [u8]) {
    let n = bytes.len() - 4;
    let crc = embergrad::io::crc32(&bytes[..n]);
    bytes[n..].copy_from_slice(&crc.to_le_bytes());
}

#[test]
fn each_kind_of_bad_file_says_what_is_wrong() {
    let (params, ..) = trained();
    let file = encode(&NET, &params, None, None).unwrap();
    let mut out = vec![0.0; NET.param_len()];

    let err = inspect(b"PK\x03\x04 a zip file, not a model").unwrap_err();
    assert!(matches!(err, Error::ModelFile { offset: 0, .. }) && err.to_string().contains("magic"), "{err}");

    let mut version = file.clone();
    version[8] = 9;
    assert_eq!(inspect(&version).unwrap_err(), Error::UnsupportedVersion { version: 9 });

    let mut flipped = file.clone();
    flipped[40] ^= 1;
    assert!(matches!(inspect(&flipped).unwrap_err(), Error::ChecksumMismatch { .. }));

    // A NaN parameter with a valid checksum: found, with its offset.
    let mut nan = file.clone();
    let first_param = 16 + 12 * LAYERS.len() + 4;
    nan[first_param..first_param + 4].copy_from_slice(&f32::NAN.to_le_bytes());
    reseal(&mut nan);
    assert_eq!(inspect(&nan).unwrap_err(), Error::ModelFile { reason: "non-finite value", offset: first_param });

    // An unknown activation code and broken layer chaining, with valid checksums.
    let mut activation = file.clone();
    activation[16 + 8] = 99;
    reseal(&mut activation);
    assert!(matches!(inspect(&activation).unwrap_err(), Error::ModelFile { reason: "unknown activation code", .. }));
    let mut chain = file.clone();
    chain[16 + 12] = 5; // second layer's inputs
    reseal(&mut chain);
    assert!(matches!(inspect(&chain).unwrap_err(), Error::ModelFile { reason: "layer widths do not chain", .. }));

    // The right file for the wrong network, and buffers of the wrong size.
    let other = [LayerSpec::new(3, 4, Activation::Relu), LayerSpec::new(4, 2, Activation::Identity)];
    assert_eq!(load_for_spec(&file, &Spec::new(&other), &mut out, None).unwrap_err(), Error::SpecMismatch { layer: 0 });
    let mut short = vec![0.0; 3];
    assert!(matches!(
        load_for_spec(&file, &NET, &mut short, None),
        Err(Error::LengthMismatch { buffer: "params", .. })
    ));
    let mut one_layer = [LayerSpec::new(1, 1, Activation::Identity)];
    assert!(matches!(load(&file, &mut one_layer, &mut out, None), Err(Error::BufferTooSmall { buffer: "layers", .. })));

    // Saving refuses non-finite params and a too-small buffer.
    let mut diverged = params.clone();
    diverged[3] = f32::INFINITY;
    assert!(matches!(encode(&NET, &diverged, None, None), Err(Error::ModelFile { .. })));
    let mut tiny = [0u8; 10];
    assert!(matches!(save(&NET, &params, None, &mut tiny), Err(Error::BufferTooSmall { .. })));
}

proptest! {
    /// Random bytes, and random edits of a real file, never panic the loader.
    #[test]
    fn arbitrary_bytes_never_panic(noise in prop::collection::vec(any::<u8>(), 0..300), edits in prop::collection::vec((any::<usize>(), any::<u8>()), 1..8)) {
        let _ = inspect(&noise);
        let mut file = encode(&NET, &trained().0, None, None).unwrap();
        for (position, value) in edits {
            let n = file.len();
            file[position % n] = value;
        }
        let _ = inspect(&file);
        reseal(&mut file);
        let mut out = vec![0.0; NET.param_len()];
        let _ = load_for_spec(&file, &NET, &mut out, None);
    }
}

#[test]
fn files_are_written_atomically_and_errors_name_the_file() {
    let dir = std::env::temp_dir().join(format!("embergrad-model-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("net.ember");
    let (params, adam, steps, state) = trained();
    save_file(&path, &NET, &params, None, Some(Checkpoint { optimizer: adam, steps, epoch: 1, state: &state }))
        .unwrap();
    save_file(&path, &NET, &params, None, None).unwrap(); // replaces the old file
    assert_eq!(load_file(&path).unwrap().checkpoint, None);
    let leftovers: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(leftovers, vec![std::ffi::OsString::from("net.ember")], "temporary files left behind");
    let missing = dir.join("no-such-folder").join("net.ember");
    let err = save_file(&missing, &NET, &params, None, None).unwrap_err();
    assert!(err.to_string().contains("no-such-folder"), "{err}");
    std::fs::write(dir.join("garbage.ember"), b"garbage").unwrap();
    let err = load_file(dir.join("garbage.ember")).unwrap_err();
    assert!(err.to_string().contains("garbage.ember") && err.to_string().contains("magic"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The firmware path: a model file baked in with `include_bytes!` and loaded into stack
/// buffers sized by `const fn`s, no allocation. The file was made by the CLI
/// (`embergrad train ... --out`, see examples/firmware/data/README.md); the test checks the
/// network it holds classifies XOR.
#[test]
fn a_model_baked_in_with_include_bytes_loads_without_an_allocator() {
    static FILE: &[u8] = include_bytes!("../../examples/firmware/data/xor-model.ember");
    const XOR_LAYERS: [LayerSpec; 2] =
        [LayerSpec::new(2, 8, Activation::Relu), LayerSpec::new(8, 2, Activation::Identity)];
    const XOR: Spec<'static> = Spec::new(&XOR_LAYERS);
    let mut params = [0.0f32; XOR.param_len()];
    let mut workspace = [0.0f32; XOR.forward_workspace_len(4)];
    load_for_spec(FILE, &XOR, &mut params, None).unwrap();
    let outputs = XOR.forward(&params, &[0.0, 0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 1.0], 4, &mut workspace).unwrap();
    assert_eq!(embergrad::accuracy(outputs, 2, &[0, 1, 1, 0]).unwrap(), 1.0, "{outputs:?}");
}

#[test]
fn pytorch_safetensors_model_predicts_pytorchs_outputs() {
    let bytes = std::fs::read(pytorch_fixtures_dir().join("sequential.safetensors")).unwrap();
    let io = pytorch_fixture("sequential_io.json");
    let (layers, params) = from_safetensors(&bytes).unwrap();
    let spec = Spec::new(&layers);
    let sizes: Vec<usize> = std::iter::once(layers[0].inputs).chain(layers.iter().map(|l| l.outputs)).collect();
    assert_eq!(sizes, [20, 32, 16, 5]);
    let input: Vec<f32> = flatten(&io["input"]).iter().map(|&v| v as f32).collect();
    let expected = flatten(&io["output"]);
    let batch = input.len() / 20;
    let mut workspace = vec![0.0; spec.forward_workspace_len(batch)];
    let output = spec.forward(&params, &input, batch, &mut workspace).unwrap();
    for (&y, &e) in output.iter().zip(&expected) {
        assert!((f64::from(y) - e).abs() <= 1e-5 * e.abs().max(1.0), "{y} vs PyTorch {e}");
    }
}

#[test]
fn exports_parse_back_with_pytorch_names_shapes_and_dtypes() {
    let layers = [
        LayerSpec::new(6, 5, Activation::Relu),
        LayerSpec::new(5, 4, Activation::Identity),
        LayerSpec::new(4, 3, Activation::Sigmoid),
        LayerSpec::new(3, 2, Activation::Identity),
    ];
    let net = Mlp::new(&layers, Init::Auto, &mut Rng::new(2)).unwrap();
    let bytes = to_safetensors(&net.spec(), net.params()).unwrap();
    let parsed = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let mut names: Vec<String> = parsed.names().into_iter().map(String::from).collect();
    names.sort();
    // nn.Sequential(Linear, ReLU, Linear, Linear, Sigmoid, Linear): Linear modules at 0, 2, 3, 5.
    assert_eq!(names, ["0.bias", "0.weight", "2.bias", "2.weight", "3.bias", "3.weight", "5.bias", "5.weight"]);
    for (name, shape) in
        [("0.weight", vec![5, 6]), ("0.bias", vec![5]), ("3.weight", vec![3, 4]), ("5.weight", vec![2, 3])]
    {
        let t = parsed.tensor(name).unwrap();
        assert_eq!((t.shape(), t.dtype()), (shape.as_slice(), safetensors::Dtype::F32), "{name}");
    }
    let (_, metadata) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    let activations = metadata.metadata().as_ref().unwrap()["activations"].clone();
    assert_eq!(activations, r#"["relu","identity","sigmoid","identity"]"#);
    let (back_layers, back_params) = from_safetensors(&bytes).unwrap();
    assert_eq!((back_layers.as_slice(), back_params.as_slice()), (&layers[..], net.params()));
    assert!(from_safetensors(b"not safetensors at all").is_err());
}

/// `load_params_for_spec` (the firmware's and the C interface's loader): the params of a file
/// with or without a checkpoint; every corruption or truncation an error that writes nothing;
/// a checkpoint whose optimizer section is nonsense (resealed, so only the optimizer is wrong)
/// refused by `load_for_spec` but read over by `load_params_for_spec`, whose reserved bytes
/// and framing are still checked.
#[test]
fn loading_only_the_params_checks_all_but_the_checkpoints_optimizer() {
    let (params, adam, steps, state) = trained();
    let plain = encode(&NET, &params, None, None).unwrap();
    let full =
        encode(&NET, &params, None, Some(Checkpoint { optimizer: adam, steps, epoch: 2, state: &state })).unwrap();
    for file in [&plain, &full] {
        let mut out = vec![0.0f32; NET.param_len()];
        load_params_for_spec(file, &NET, &mut out).unwrap();
        assert_eq!(out, params);
        let mut untouched = vec![7.0f32; NET.param_len()];
        for position in 0..file.len() {
            let mut bad = file.clone();
            bad[position] ^= 0x21;
            assert!(load_params_for_spec(&bad, &NET, &mut untouched).is_err(), "byte {position} went unnoticed");
        }
        for length in 0..file.len() {
            assert!(load_params_for_spec(&file[..length], &NET, &mut untouched).is_err(), "truncated to {length}");
        }
        assert!(untouched.iter().all(|&v| v == 7.0), "a failed load wrote params");
        let other = [LayerSpec::new(3, 4, Activation::Relu), LayerSpec::new(4, 2, Activation::Identity)];
        let err = load_params_for_spec(file, &Spec::new(&other), &mut untouched).unwrap_err();
        assert!(matches!(err, Error::SpecMismatch { .. }), "{err:?}");
    }
    // The optimizer section starts after the params (no data section here): code 99.
    let optimizer_at = full.len() - 4 - (4 + 24 + 16 + 4 + 4 * state.len());
    let mut unknown = full.clone();
    unknown[optimizer_at] = 99;
    reseal(&mut unknown);
    let mut out = vec![0.0f32; NET.param_len()];
    assert!(load_for_spec(&unknown, &NET, &mut out, None).is_err());
    load_params_for_spec(&unknown, &NET, &mut out).unwrap();
    assert_eq!(out, params);
    let mut reserved = full.clone();
    reserved[optimizer_at + 3] = 1;
    reseal(&mut reserved);
    let err = load_params_for_spec(&reserved, &NET, &mut out).unwrap_err();
    assert!(err.to_string().contains("reserved"), "{err}");
}
