//! In-memory labelled datasets and a CSV reader.

use std::fmt;
use std::path::{Path, PathBuf};

use embergrad::Rng;

/// A problem reading a data file, naming the file and, where it applies, the line.
#[derive(Debug)]
pub struct DataError {
    /// The file that was being read.
    pub path: PathBuf,
    /// 1-based line number, when the problem is on one line.
    pub line: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for DataError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.path.display(), line, self.message),
            None => write!(f, "{}: {}", self.path.display(), self.message),
        }
    }
}

impl std::error::Error for DataError {}

/// Samples with `features` values each and one class label, row-major.
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `len() × features` values.
    pub inputs: Vec<f32>,
    /// One class index per sample.
    pub labels: Vec<usize>,
    /// Number of features per sample.
    pub features: usize,
}

impl Dataset {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.labels.len()
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Number of classes: one more than the largest label (0 when empty).
    pub fn classes(&self) -> usize {
        self.labels.iter().max().map_or(0, |&m| m + 1)
    }

    /// The input row of sample `index`.
    pub fn input(&self, index: usize) -> &[f32] {
        &self.inputs[index * self.features..(index + 1) * self.features]
    }

    /// Reads a CSV file with a header line; the column named `label_column` holds integer
    /// class labels and every other column a numeric feature, multiplied by `scale`.
    pub fn from_csv(path: impl AsRef<Path>, label_column: &str, scale: f32) -> Result<Dataset, DataError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| DataError {
            path: path.to_path_buf(),
            line: None,
            message: e.to_string(),
        })?;
        Dataset::parse_csv(path, &text, label_column, scale)
    }

    /// Parses CSV text as [`Dataset::from_csv`] does; `path` only names the source in errors.
    pub fn parse_csv(path: &Path, text: &str, label_column: &str, scale: f32) -> Result<Dataset, DataError> {
        let fail = |line: Option<usize>, message: String| DataError { path: path.to_path_buf(), line, message };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        let (_, header) = lines.next().ok_or_else(|| fail(None, "the file is empty".into()))?;
        let columns: Vec<&str> = header.split(',').map(str::trim).collect();
        let label_index = columns
            .iter()
            .position(|&c| c == label_column)
            .ok_or_else(|| fail(Some(1), format!("no column named `{label_column}` in the header")))?;
        let features = columns.len() - 1;
        let mut data = Dataset { inputs: Vec::new(), labels: Vec::new(), features };
        for (line_number, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != columns.len() {
                return Err(fail(
                    Some(line_number),
                    format!("{} fields, the header has {}", fields.len(), columns.len()),
                ));
            }
            for (column, field) in fields.iter().enumerate() {
                if column == label_index {
                    let label = field.parse::<usize>().map_err(|_| {
                        fail(Some(line_number), format!("label `{field}` is not a non-negative integer"))
                    })?;
                    data.labels.push(label);
                } else {
                    let value = field.parse::<f32>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                        fail(
                            Some(line_number),
                            format!("`{field}` in column `{}` is not a finite number", columns[column]),
                        )
                    })?;
                    data.inputs.push(value * scale);
                }
            }
        }
        if data.is_empty() {
            return Err(fail(None, "the file has a header but no samples".into()));
        }
        Ok(data)
    }

    /// Reads MNIST-style IDX files, gzipped or not (detected from the content): `images` of
    /// unsigned bytes `[count, rows, cols]` (magic 0x00000803) and `labels` `[count]` (magic
    /// 0x00000801). Pixels are scaled by `scale` (1/255 gives [0, 1]).
    pub fn from_idx(images: impl AsRef<Path>, labels: impl AsRef<Path>, scale: f32) -> Result<Dataset, DataError> {
        let (images, labels) = (images.as_ref(), labels.as_ref());
        let (image_dims, pixels) = read_idx(images, 3)?;
        let (label_dims, label_bytes) = read_idx(labels, 1)?;
        if image_dims[0] != label_dims[0] {
            return Err(DataError {
                path: labels.to_path_buf(),
                line: None,
                message: format!("{} labels for {} images in {}", label_dims[0], image_dims[0], images.display()),
            });
        }
        let features = image_dims[1] * image_dims[2];
        Ok(Dataset {
            inputs: pixels.iter().map(|&p| f32::from(p) * scale).collect(),
            labels: label_bytes.iter().map(|&l| usize::from(l)).collect(),
            features,
        })
    }

    /// Splits off the last `fraction` of the samples (after a shuffle by `rng`) as a
    /// validation set.
    pub fn split(&self, fraction: f32, rng: &mut Rng) -> (Dataset, Dataset) {
        let order = self.shuffled_order(rng);
        let validation = ((self.len() as f32 * fraction.clamp(0.0, 1.0)) as usize).min(self.len());
        let (train, held_out) = order.split_at(self.len() - validation);
        let take = |indices: &[usize]| {
            let (mut inputs, mut labels) = (Vec::new(), Vec::new());
            self.gather(indices, &mut inputs, &mut labels);
            Dataset { inputs, labels, features: self.features }
        };
        (take(train), take(held_out))
    }

    /// Standardises every feature to mean 0 and standard deviation 1 with statistics from
    /// this dataset; returns them (apply them to other data with [`Dataset::apply_standardization`]).
    pub fn standardize(&mut self) -> (Vec<f32>, Vec<f32>) {
        let n = self.len().max(1) as f64;
        let mut mean = vec![0.0f64; self.features];
        let mut square = vec![0.0f64; self.features];
        for row in self.inputs.chunks_exact(self.features) {
            for ((m, s), &x) in mean.iter_mut().zip(&mut square).zip(row) {
                *m += f64::from(x);
                *s += f64::from(x) * f64::from(x);
            }
        }
        let mean: Vec<f32> = mean.iter().map(|m| (m / n) as f32).collect();
        let std: Vec<f32> = square
            .iter()
            .zip(&mean)
            .map(|(s, &m)| ((s / n - f64::from(m) * f64::from(m)).max(0.0).sqrt() as f32).max(1e-6))
            .collect();
        self.apply_standardization(&mean, &std);
        (mean, std)
    }

    /// Applies `(x - mean) / std` feature by feature.
    pub fn apply_standardization(&mut self, mean: &[f32], std: &[f32]) {
        for row in self.inputs.chunks_exact_mut(self.features) {
            for ((x, m), s) in row.iter_mut().zip(mean).zip(std) {
                *x = (*x - m) / s;
            }
        }
    }

    /// Labels as one-hot rows `[len, classes]`.
    pub fn one_hot(&self, classes: usize) -> Vec<f32> {
        let mut out = vec![0.0; self.len() * classes];
        for (row, &label) in out.chunks_exact_mut(classes).zip(&self.labels) {
            if let Some(slot) = row.get_mut(label) {
                *slot = 1.0;
            }
        }
        out
    }

    /// Copies the samples at `indices` (in that order) into contiguous input and label buffers.
    pub fn gather(&self, indices: &[usize], inputs: &mut Vec<f32>, labels: &mut Vec<usize>) {
        inputs.clear();
        labels.clear();
        for &i in indices {
            inputs.extend_from_slice(self.input(i));
            labels.push(self.labels[i]);
        }
    }

    /// The sample order for one epoch: `0..len` shuffled by `rng`.
    pub fn shuffled_order(&self, rng: &mut Rng) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        rng.shuffle(&mut order);
        order
    }
}

/// Reads an IDX file of unsigned bytes with `rank` dimensions: its dimensions and its data.
fn read_idx(path: &Path, rank: usize) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let raw =
        std::fs::read(path).map_err(|e| DataError { path: path.to_path_buf(), line: None, message: e.to_string() })?;
    parse_idx(path, &raw, rank)
}

/// Parses the contents of an IDX file (gzipped or not) of unsigned bytes with `rank`
/// dimensions: its dimensions and its data. `path` only names the source in errors.
pub fn parse_idx(path: &Path, raw: &[u8], rank: usize) -> Result<(Vec<usize>, Vec<u8>), DataError> {
    let fail = |offset: usize, message: String| DataError {
        path: path.to_path_buf(),
        line: None,
        message: format!("at byte {offset}: {message}"),
    };
    let unzipped;
    let bytes: &[u8] = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(raw), &mut out)
            .map_err(|e| fail(0, format!("bad gzip data: {e}")))?;
        unzipped = out;
        &unzipped
    } else {
        raw
    };
    if bytes.len() < 4 || bytes[0] != 0 || bytes[1] != 0 {
        return Err(fail(0, "not an IDX file (bad magic)".into()));
    }
    if bytes[2] != 0x08 {
        return Err(fail(2, format!("element type {:#04x}, only unsigned bytes (0x08) are supported", bytes[2])));
    }
    if usize::from(bytes[3]) != rank {
        return Err(fail(3, format!("{} dimensions, expected {rank}", bytes[3])));
    }
    let header = 4 + 4 * rank;
    if bytes.len() < header {
        return Err(fail(bytes.len(), "truncated header".into()));
    }
    let dims: Vec<usize> =
        bytes[4..header].chunks_exact(4).map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize).collect();
    let count = dims
        .iter()
        .try_fold(1usize, |total, &d| total.checked_mul(d))
        .ok_or_else(|| fail(4, "dimensions overflow".into()))?;
    if bytes.len() - header != count {
        return Err(fail(header, format!("{} data bytes, the header announces {count}", bytes.len() - header)));
    }
    Ok((dims, bytes[header..].to_vec()))
}
