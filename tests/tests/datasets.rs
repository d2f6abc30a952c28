//! Dataset readers: real files load with the right shapes; bad files give errors that name
//! the file and the line or byte offset.

use std::path::Path;

use embergrad::Rng;
use embergrad_std::dataset::parse_idx;
use embergrad_std::Dataset;
use flate2::write::GzEncoder;
use std::io::Write;

/// An IDX file: the big-endian header (magic `0x0000_08_<rank>`, then each dimension as a
/// u32) and the bytes, as MNIST's files are laid out.
fn idx_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut bytes = vec![0, 0, 0x08, dims.len() as u8];
    dims.iter().for_each(|d| bytes.extend_from_slice(&d.to_be_bytes()));
    bytes.extend_from_slice(data);
    bytes
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// MNIST-shaped IDX files (28×28 images, labels 0–9), written gzipped and plain, load back
/// to exactly the pixels and labels written, scaled.
#[test]
fn idx_files_load_gzipped_or_not() {
    let count = 37;
    let pixels: Vec<u8> = (0..count * 28 * 28).map(|i| (i * 31 % 256) as u8).collect();
    let labels: Vec<u8> = (0..count).map(|i| (i * 7 % 10) as u8).collect();
    let images = idx_bytes(&[count as u32, 28, 28], &pixels);
    let label_file = idx_bytes(&[count as u32], &labels);
    let dir = std::env::temp_dir().join(format!("embergrad-idx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for gzipped in [true, false] {
        let (images_path, labels_path) = (dir.join(format!("images-{gzipped}")), dir.join(format!("labels-{gzipped}")));
        let encode = |bytes: &[u8]| if gzipped { gzip(bytes) } else { bytes.to_vec() };
        std::fs::write(&images_path, encode(&images)).unwrap();
        std::fs::write(&labels_path, encode(&label_file)).unwrap();
        let data = Dataset::from_idx(&images_path, &labels_path, 1.0 / 255.0).unwrap();
        assert_eq!((data.len(), data.features, data.classes()), (count, 784, 10));
        let expected: Vec<f32> = pixels.iter().map(|&p| f32::from(p) * (1.0 / 255.0)).collect();
        assert_eq!(data.inputs, expected, "gzipped: {gzipped}");
        assert_eq!(data.labels(), labels.iter().map(|&l| usize::from(l)).collect::<Vec<_>>());
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn csv_errors_name_the_file_and_line() {
    let path = Path::new("data.csv");
    let cases = [
        ("a,b,label\n1,2,0\n3,4\n", Some(3), "2 fields"),
        ("a,b,label\n1,x,0\n", Some(2), "`x` in column `b`"),
        ("a,b,label\n1,NaN,0\n", Some(2), "not a finite number"),
        ("a,b,label\n1,2,-1\n", Some(2), "label `-1`"),
        ("a,b,class\n1,2,0\n", Some(1), "no column named `label`"),
        ("a,b,label\n", None, "no samples"),
        ("", None, "empty"),
    ];
    for (text, line, message) in cases {
        let err = Dataset::parse_csv(path, text, "label", 1.0).unwrap_err();
        assert_eq!(err.line, line, "{text:?}: {err}");
        assert!(err.to_string().contains(message), "{text:?}: {err}");
        assert!(err.to_string().starts_with("data.csv"), "{err}");
    }
    let err = Dataset::from_csv("/no/such/file.csv", "label", 1.0).unwrap_err();
    assert!(err.to_string().contains("/no/such/file.csv"), "{err}");
}

#[test]
fn idx_errors_name_the_offset() {
    let path = Path::new("images.idx");
    let header = |kind: u8, rank: u8, dims: &[u32]| {
        let mut b = vec![0, 0, kind, rank];
        for d in dims {
            b.extend_from_slice(&d.to_be_bytes());
        }
        b
    };
    let mut ok = header(8, 1, &[3]);
    ok.extend_from_slice(&[1, 2, 3]);
    assert_eq!(parse_idx(path, &ok, 1).unwrap(), (vec![3], vec![1, 2, 3]));
    let cases = [
        (vec![1, 2, 3], "bad magic"),
        (header(0x0D, 1, &[3]), "element type"),
        (header(8, 3, &[3]), "3 dimensions, expected 1"),
        (vec![0, 0, 8, 1, 0], "truncated header"),
        (header(8, 1, &[5]), "header announces 5"),
        (vec![0x1f, 0x8b, 0, 0], "bad gzip"),
    ];
    for (bytes, message) in cases {
        let err = parse_idx(path, &bytes, 1).unwrap_err();
        assert!(err.to_string().contains(message) && err.to_string().contains("images.idx: at byte"), "{err}");
    }
}

#[test]
fn split_standardize_and_one_hot() {
    let mut data = Dataset::with_classes((0..20).map(|i| i as f32).collect(), vec![0, 1, 2, 1, 0, 2, 1, 0, 1, 2], 2);
    let (train, validation) = data.split(0.3, &mut Rng::new(1));
    assert_eq!((train.len(), validation.len()), (7, 3));
    let mut all: Vec<f32> = train.inputs.iter().chain(&validation.inputs).copied().collect();
    all.sort_by(f32::total_cmp);
    assert_eq!(all, data.inputs);
    let (mean, std) = data.standardize();
    assert_eq!(mean, [9.0, 10.0]);
    assert!((std[0] - 5.744_563).abs() < 1e-4);
    let column_mean: f32 = data.inputs.iter().step_by(2).sum::<f32>() / 10.0;
    assert!(column_mean.abs() < 1e-6);
    assert_eq!(&data.one_hot(3)[..6], &[1.0, 0.0, 0.0, 0.0, 1.0, 0.0]);
}
