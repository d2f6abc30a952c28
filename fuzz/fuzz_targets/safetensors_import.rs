//! Arbitrary bytes into the safetensors import: an error or a usable network, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok((layers, params)) = embergrad_std::model::from_safetensors(bytes) {
        let spec = embergrad::Spec::new(&layers);
        assert_eq!(spec.param_len(), params.len());
        spec.validate().expect("an imported network is valid");
    }
});
