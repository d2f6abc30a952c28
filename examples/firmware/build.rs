//! Puts the board's memory map where cortex-m-rt's link.x looks for `memory.x`, and turns the
//! iris CSV files into little-endian binary (features as f32 scaled by 1/8, labels as u8), so
//! the firmware embeds ready numbers and links no float parser.
use std::{env, fs, path::PathBuf};

fn main() {
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    // A uniquely named source file: a `memory.x` in the package root would shadow this copy.
    fs::copy("memory-mps2-an386.x", out.join("memory.x")).expect("memory map");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=memory-mps2-an386.x");
    println!("cargo:rerun-if-changed=build.rs");
    for name in ["iris_train", "iris_test"] {
        let source = format!("data/{name}.csv");
        println!("cargo:rerun-if-changed={source}");
        let text = fs::read_to_string(&source).unwrap_or_else(|e| panic!("{source}: {e}"));
        let (mut features, mut labels) = (Vec::new(), Vec::new());
        for (number, line) in text.lines().enumerate().skip(1).filter(|(_, l)| !l.trim().is_empty()) {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 5, "{source}:{}: expected 5 fields", number + 1);
            for field in &fields[..4] {
                let value: f32 = field.trim().parse().unwrap_or_else(|_| panic!("{source}:{}: bad number", number + 1));
                features.extend_from_slice(&(value / 8.0).to_le_bytes());
            }
            labels
                .push(fields[4].trim().parse::<u8>().unwrap_or_else(|_| panic!("{source}:{}: bad label", number + 1)));
        }
        fs::write(out.join(format!("{name}_features.bin")), features).expect("write features");
        fs::write(out.join(format!("{name}_labels.bin")), labels).expect("write labels");
    }
}
