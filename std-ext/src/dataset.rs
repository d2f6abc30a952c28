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
        let fail = |line: Option<usize>, message: String| DataError { path: path.to_path_buf(), line, message };
        let text = std::fs::read_to_string(path).map_err(|e| fail(None, e.to_string()))?;
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
