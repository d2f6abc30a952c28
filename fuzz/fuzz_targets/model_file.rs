//! Arbitrary bytes into the model-file loader: it must return an error or a model, never
//! panic, and a model it accepts must re-encode to the same bytes.
#![no_main]

use embergrad::io::{inspect, load_for_spec};
use embergrad::{Activation, LayerSpec, Spec};
use libfuzzer_sys::fuzz_target;

const LAYERS: [LayerSpec; 2] = [LayerSpec::new(2, 8, Activation::Relu), LayerSpec::new(8, 2, Activation::Identity)];

fuzz_target!(|bytes: &[u8]| {
    let _ = inspect(bytes);
    let spec = Spec::new(&LAYERS);
    let mut params = [0.0f32; Spec::new(&LAYERS).param_len()];
    let _ = load_for_spec(bytes, &spec, &mut params, None);
    if let Ok(model) = embergrad_std::model::decode(bytes) {
        let state = model.checkpoint.as_ref().map(|c| c.checkpoint());
        let again = embergrad_std::model::encode(&model.spec(), &model.params, state).expect("a loaded model re-encodes");
        assert_eq!(again, bytes, "a valid file must round-trip bit for bit");
    }
});
