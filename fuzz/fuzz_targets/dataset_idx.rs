//! Arbitrary bytes (plain or gzipped) into the IDX reader: an error naming the offset, or
//! dimensions that account for every data byte.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|bytes: &[u8]| {
    for rank in [1, 3] {
        if let Ok((dims, data)) = embergrad_std::dataset::parse_idx(Path::new("fuzz.idx"), bytes, rank) {
            assert_eq!(dims.len(), rank);
            assert_eq!(dims.iter().product::<usize>(), data.len());
        }
    }
});
