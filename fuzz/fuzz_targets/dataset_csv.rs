//! Arbitrary text into the CSV reader: an error naming the line, or a consistent dataset.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(text) = std::str::from_utf8(bytes) {
        if let Ok(data) = embergrad_std::Dataset::parse_csv(Path::new("fuzz.csv"), text, "label", 1.0) {
            assert_eq!(data.inputs.len(), data.len() * data.features);
            assert!(data.inputs.iter().all(|v| v.is_finite()));
        }
    }
});
