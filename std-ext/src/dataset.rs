//! In-memory datasets (class labels, target values, or none) and their CSV and IDX readers.

use std::fmt;
use std::path::{Path, PathBuf};

use embergrad::{Rng, Target};

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

/// What a dataset's samples are labelled with.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// No targets (data to predict on).
    None,
    /// One class index per sample.
    Classes(Vec<usize>),
    /// `width` real values per sample, row-major (regression, or 0/1 for multi-label).
    Values {
        /// `len() × width` values.
        values: Vec<f32>,
        /// Values per sample.
        width: usize,
    },
}

/// Which kind of targets to read from a CSV file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TargetKind {
    /// One column of non-negative integer class labels.
    Classes,
    /// One or more columns of finite numbers.
    Values,
}

/// How to read a CSV file: which columns are targets (every other column is a feature).
#[derive(Clone, Debug, PartialEq)]
pub struct CsvOptions {
    /// The target columns, by header name. A column listed here but missing from the file
    /// is an error, unless `targets_optional` (data to predict on).
    pub target_columns: Vec<String>,
    /// How to read them.
    pub kind: TargetKind,
    /// Read a file without the target columns as unlabelled data ([`Targets::None`]).
    pub targets_optional: bool,
    /// The largest class label accepted (labels make the network's width, so an absurd one
    /// is refused before anything is allocated for it).
    pub max_classes: usize,
}

impl CsvOptions {
    /// Class labels from the column `name`, at most 10,000 classes.
    pub fn classes(name: &str) -> Self {
        CsvOptions {
            target_columns: vec![name.to_string()],
            kind: TargetKind::Classes,
            targets_optional: false,
            max_classes: 10_000,
        }
    }

    /// Real values from the columns `names`.
    pub fn values(names: &[&str]) -> Self {
        CsvOptions {
            target_columns: names.iter().map(|n| n.to_string()).collect(),
            kind: TargetKind::Values,
            targets_optional: false,
            max_classes: 10_000,
        }
    }
}

/// Samples with `features` values each, row-major, and their [`Targets`].
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    /// `len() × features` values.
    pub inputs: Vec<f32>,
    /// What the samples are labelled with.
    pub targets: Targets,
    /// Number of features per sample.
    pub features: usize,
}

/// Contiguous copies of some samples, ready to make a [`Batch`](embergrad::Batch) of:
/// [`Dataset::gather`] fills it, [`Gathered::target`] views its targets.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Gathered {
    /// The samples' inputs.
    pub inputs: Vec<f32>,
    /// Their class indices (class data).
    pub classes: Vec<usize>,
    /// Their target values (value data).
    pub values: Vec<f32>,
}

impl Gathered {
    /// The gathered targets, as the loss takes them.
    pub fn target(&self) -> Target<'_> {
        if self.values.is_empty() {
            Target::Classes(&self.classes)
        } else {
            Target::Values(&self.values)
        }
    }
}

impl Dataset {
    /// A dataset of `features`-wide rows with class labels.
    pub fn with_classes(inputs: Vec<f32>, labels: Vec<usize>, features: usize) -> Self {
        Dataset { inputs, targets: Targets::Classes(labels), features }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.inputs.len().checked_div(self.features).unwrap_or(0)
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The class labels (empty unless the targets are classes).
    pub fn labels(&self) -> &[usize] {
        match &self.targets {
            Targets::Classes(labels) => labels,
            _ => &[],
        }
    }

    /// Target values per sample: 0 for class or no targets.
    pub fn value_width(&self) -> usize {
        match &self.targets {
            Targets::Values { width, .. } => *width,
            _ => 0,
        }
    }

    /// Number of classes: one more than the largest label (0 without class labels).
    pub fn classes(&self) -> usize {
        self.labels().iter().max().map_or(0, |&m| m + 1)
    }

    /// The input row of sample `index`.
    pub fn input(&self, index: usize) -> &[f32] {
        &self.inputs[index * self.features..(index + 1) * self.features]
    }

    /// Reads a CSV file with a header line; the column named `label_column` holds integer
    /// class labels and every other column a numeric feature, multiplied by `scale`.
    pub fn from_csv(path: impl AsRef<Path>, label_column: &str, scale: f32) -> Result<Dataset, DataError> {
        let mut data = Dataset::read_csv(path, &CsvOptions::classes(label_column))?;
        data.inputs.iter_mut().for_each(|x| *x *= scale);
        Ok(data)
    }

    /// Reads a CSV file with a header line as `options` say.
    pub fn read_csv(path: impl AsRef<Path>, options: &CsvOptions) -> Result<Dataset, DataError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| DataError {
            path: path.to_path_buf(),
            line: None,
            message: e.to_string(),
        })?;
        Dataset::parse_csv_with(path, &text, options)
    }

    /// Parses CSV text as [`Dataset::from_csv`] does; `path` only names the source in errors.
    pub fn parse_csv(path: &Path, text: &str, label_column: &str, scale: f32) -> Result<Dataset, DataError> {
        let mut data = Dataset::parse_csv_with(path, text, &CsvOptions::classes(label_column))?;
        data.inputs.iter_mut().for_each(|x| *x *= scale);
        Ok(data)
    }

    /// Parses CSV text as [`Dataset::read_csv`] does; `path` only names the source in errors.
    pub fn parse_csv_with(path: &Path, text: &str, options: &CsvOptions) -> Result<Dataset, DataError> {
        let fail = |line: Option<usize>, message: String| DataError { path: path.to_path_buf(), line, message };
        let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
        let (_, header) = lines.next().ok_or_else(|| fail(None, "the file is empty".into()))?;
        let columns: Vec<&str> = header.split(',').map(str::trim).collect();
        let mut target_indices = Vec::new();
        for name in &options.target_columns {
            match columns.iter().position(|c| c == name) {
                Some(index) => target_indices.push(index),
                None if options.targets_optional => {}
                None => {
                    return Err(fail(
                        Some(1),
                        format!("no column named `{name}` in the header (columns: {})", columns.join(", ")),
                    ))
                }
            }
        }
        let labelled = !target_indices.is_empty();
        if labelled && target_indices.len() != options.target_columns.len() {
            return Err(fail(Some(1), "some target columns are in the header and some are not".into()));
        }
        if options.kind == TargetKind::Classes && target_indices.len() > 1 {
            return Err(fail(None, "class labels come from one column".into()));
        }
        let features = columns.len() - target_indices.len();
        if features == 0 {
            return Err(fail(Some(1), "no feature columns besides the targets".into()));
        }
        let (mut inputs, mut labels, mut values) = (Vec::new(), Vec::new(), Vec::new());
        for (line_number, line) in lines.filter(|(_, l)| !l.trim().is_empty()) {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            if fields.len() != columns.len() {
                return Err(fail(
                    Some(line_number),
                    format!("{} fields, the header has {}", fields.len(), columns.len()),
                ));
            }
            let number = |column: usize| {
                let field = fields[column];
                field.parse::<f32>().ok().filter(|v| v.is_finite()).ok_or_else(|| {
                    fail(Some(line_number), format!("`{field}` in column `{}` is not a finite number", columns[column]))
                })
            };
            for column in (0..columns.len()).filter(|c| !target_indices.contains(c)) {
                inputs.push(number(column)?);
            }
            for &column in &target_indices {
                match options.kind {
                    TargetKind::Values => values.push(number(column)?),
                    TargetKind::Classes => {
                        let field = fields[column];
                        let label = field.parse::<usize>().map_err(|_| {
                            fail(Some(line_number), format!("label `{field}` is not a non-negative integer"))
                        })?;
                        if label >= options.max_classes {
                            return Err(fail(
                                Some(line_number),
                                format!("label {label} makes more than {} classes", options.max_classes),
                            ));
                        }
                        labels.push(label);
                    }
                }
            }
        }
        if inputs.is_empty() {
            return Err(fail(None, "the file has a header but no samples".into()));
        }
        let targets = match (labelled, options.kind) {
            (false, _) => Targets::None,
            (true, TargetKind::Classes) => Targets::Classes(labels),
            (true, TargetKind::Values) => Targets::Values { values, width: target_indices.len() },
        };
        Ok(Dataset { inputs, targets, features })
    }

    /// Reads MNIST-style IDX files, gzipped or not (detected from the content): `images` of
    /// unsigned bytes `[count, rows, cols]` (magic 0x00000803) and `labels` `[count]` (magic
    /// 0x00000801). Pixels are scaled by `scale` (1/255 gives [0, 1]).
    pub fn from_idx(images: impl AsRef<Path>, labels: impl AsRef<Path>, scale: f32) -> Result<Dataset, DataError> {
        let (images, labels) = (images.as_ref(), labels.as_ref());
        let (image_dims, pixels) = read_idx(images, 3)?;
        let (label_dims, label_bytes) = read_idx(labels, 1)?;
        let fail = |path: &Path, message: String| DataError { path: path.to_path_buf(), line: None, message };
        if image_dims[0] != label_dims[0] {
            return Err(fail(
                labels,
                format!("{} labels for {} images in {}", label_dims[0], image_dims[0], images.display()),
            ));
        }
        if image_dims[0] == 0 {
            return Err(fail(images, "the file holds no images".into()));
        }
        let features = image_dims[1] * image_dims[2];
        if features == 0 {
            return Err(fail(images, "the images have no pixels".into()));
        }
        Ok(Dataset {
            inputs: pixels.iter().map(|&p| f32::from(p) * scale).collect(),
            targets: Targets::Classes(label_bytes.iter().map(|&l| usize::from(l)).collect()),
            features,
        })
    }

    /// The samples at `indices`, in that order, as a new dataset.
    pub fn select(&self, indices: &[usize]) -> Dataset {
        let mut gathered = Gathered::default();
        self.gather(indices, &mut gathered);
        let targets = match &self.targets {
            Targets::None => Targets::None,
            Targets::Classes(_) => Targets::Classes(gathered.classes),
            Targets::Values { width, .. } => Targets::Values { values: gathered.values, width: *width },
        };
        Dataset { inputs: gathered.inputs, targets, features: self.features }
    }

    /// Splits off the last `fraction` of the samples (after a shuffle by `rng`) as a
    /// validation set.
    pub fn split(&self, fraction: f32, rng: &mut Rng) -> (Dataset, Dataset) {
        let order = self.shuffled_order(rng);
        let validation = ((self.len() as f32 * fraction.clamp(0.0, 1.0)) as usize).min(self.len());
        let (train, held_out) = order.split_at(self.len() - validation);
        (self.select(train), self.select(held_out))
    }

    /// Standardises every feature to mean 0 and standard deviation 1 with statistics from
    /// this dataset; returns them (apply them to other data with [`Dataset::apply_standardization`]).
    pub fn standardize(&mut self) -> (Vec<f32>, Vec<f32>) {
        let (mean, std) = column_statistics(&self.inputs, self.features);
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
        for (row, &label) in out.chunks_exact_mut(classes).zip(self.labels()) {
            if let Some(slot) = row.get_mut(label) {
                *slot = 1.0;
            }
        }
        out
    }

    /// Copies the samples at `indices` (in that order) into `out`'s contiguous buffers.
    pub fn gather(&self, indices: &[usize], out: &mut Gathered) {
        out.inputs.clear();
        out.classes.clear();
        out.values.clear();
        for &i in indices {
            out.inputs.extend_from_slice(self.input(i));
            match &self.targets {
                Targets::None => {}
                Targets::Classes(labels) => out.classes.push(labels[i]),
                Targets::Values { values, width } => out.values.extend_from_slice(&values[i * width..(i + 1) * width]),
            }
        }
    }

    /// The sample order for one epoch: `0..len` shuffled by `rng`.
    pub fn shuffled_order(&self, rng: &mut Rng) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.len()).collect();
        rng.shuffle(&mut order);
        order
    }
}

/// Per-column mean and standard deviation of `width`-wide rows, in f64; a column that does
/// not vary (a deviation below 1e-6) gets 1, so standardising it only centres it, as
/// scikit-learn's `StandardScaler` does, rather than blowing up a value that differs later.
pub fn column_statistics(rows: &[f32], width: usize) -> (Vec<f32>, Vec<f32>) {
    let n = (rows.len() / width.max(1)).max(1) as f64;
    let mut mean = vec![0.0f64; width];
    let mut square = vec![0.0f64; width];
    for row in rows.chunks_exact(width) {
        for ((m, s), &x) in mean.iter_mut().zip(&mut square).zip(row) {
            *m += f64::from(x);
            *s += f64::from(x) * f64::from(x);
        }
    }
    let mean: Vec<f32> = mean.iter().map(|m| (m / n) as f32).collect();
    let std = square
        .iter()
        .zip(&mean)
        .map(|(s, &m)| {
            let std = (s / n - f64::from(m) * f64::from(m)).max(0.0).sqrt() as f32;
            if std < 1e-6 {
                1.0
            } else {
                std
            }
        })
        .collect();
    (mean, std)
}

/// Inflates a gzipped IDX file of `rank` dimensions, but never more than its header
/// announces: the header is inflated first, then at most the announced data and one byte
/// more (to tell a longer file), so a small file that expands to gigabytes is refused
/// without inflating it. Errors carry a byte offset in the inflated data and a message.
fn gunzip_announced(raw: &[u8], rank: usize) -> Result<Vec<u8>, (usize, String)> {
    use std::io::Read;
    let mut decoder = flate2::read::GzDecoder::new(raw);
    let header_len = 4 + 4 * rank;
    let mut out = Vec::new();
    (&mut decoder).take(header_len as u64).read_to_end(&mut out).map_err(|e| (0, format!("bad gzip data: {e}")))?;
    if out.len() < header_len {
        // Too short for a header: the checks after inflating say what is wrong.
        return Ok(out);
    }
    let announced = out[4..header_len]
        .chunks_exact(4)
        .try_fold(1usize, |total, d| total.checked_mul(u32::from_be_bytes([d[0], d[1], d[2], d[3]]) as usize))
        .ok_or((4, "dimensions overflow".to_string()))?;
    let limit = (announced as u64).saturating_add(1);
    out.try_reserve(announced.min(1 << 30))
        .map_err(|_| (4, format!("the header announces {announced} bytes, more than this machine can hold")))?;
    decoder.take(limit).read_to_end(&mut out).map_err(|e| (header_len, format!("bad gzip data: {e}")))?;
    Ok(out)
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
        unzipped = gunzip_announced(raw, rank).map_err(|(offset, message)| fail(offset, message))?;
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
