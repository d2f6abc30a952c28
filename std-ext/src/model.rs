//! Model files on disk: the embergrad format written atomically, and PyTorch interop through
//! safetensors.

use std::fmt;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use embergrad::io::{encoded_len_with, load, read_preprocessing, save_with, Checkpoint, ModelInfo, Preprocessing};
use embergrad::optim::Optimizer;
use embergrad::{Activation, LayerSpec, Spec};

use crate::preprocess::Preprocess;

/// A problem with a model file, naming the file.
#[derive(Debug)]
pub struct ModelError {
    /// The file.
    pub path: PathBuf,
    /// What went wrong.
    pub kind: ModelErrorKind,
}

/// The cause of a [`ModelError`].
#[derive(Debug)]
pub enum ModelErrorKind {
    /// Reading or writing the file failed.
    Io(std::io::Error),
    /// The contents are not a usable model (see the core's error).
    Format(embergrad::Error),
    /// A safetensors file that does not hold an `nn.Sequential` of `Linear` layers as expected.
    Safetensors(String),
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ModelErrorKind::Io(e) => write!(f, "{}: {e}", self.path.display()),
            ModelErrorKind::Format(e) => write!(f, "{}: {e}", self.path.display()),
            ModelErrorKind::Safetensors(e) => write!(f, "{}: {e}", self.path.display()),
        }
    }
}

impl std::error::Error for ModelError {}

fn error(path: &Path, kind: ModelErrorKind) -> ModelError {
    ModelError { path: path.to_path_buf(), kind }
}

/// A model read from a file, with its optional checkpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The layers.
    pub layers: Vec<LayerSpec>,
    /// The params, in the core's flat layout.
    pub params: Vec<f32>,
    /// The preprocessing to apply to data before using the model, when the file has it.
    pub preprocess: Option<Preprocess>,
    /// The training state, when the file has it.
    pub checkpoint: Option<TrainingState>,
}

/// An optimizer with its counters and state, as a checkpoint holds them.
#[derive(Clone, Debug, PartialEq)]
pub struct TrainingState {
    /// The optimizer and its hyper-parameters.
    pub optimizer: Optimizer,
    /// Steps taken.
    pub steps: u64,
    /// Epochs completed.
    pub epoch: u64,
    /// The optimizer's state buffer.
    pub state: Vec<f32>,
}

impl TrainingState {
    /// The checkpoint view of this state, for saving.
    pub fn checkpoint(&self) -> Checkpoint<'_> {
        Checkpoint { optimizer: self.optimizer, steps: self.steps, epoch: self.epoch, state: &self.state }
    }
}

impl Model {
    /// The model's spec.
    pub fn spec(&self) -> Spec<'_> {
        Spec::new(&self.layers)
    }
}

/// Encodes a model (with its preprocessing and checkpoint, if given) in the embergrad format.
pub fn encode(
    spec: &Spec<'_>,
    params: &[f32],
    preprocess: Option<&Preprocess>,
    checkpoint: Option<Checkpoint<'_>>,
) -> Result<Vec<u8>, embergrad::Error> {
    let values = preprocess.map(Preprocess::values).unwrap_or_default();
    let core = preprocess.map(|p| p.as_core(&values));
    let mut bytes = vec![0u8; encoded_len_with(spec, core.is_some(), checkpoint.map(|c| c.state.len()))];
    let written = save_with(spec, params, core, checkpoint, &mut bytes)?;
    bytes.truncate(written);
    Ok(bytes)
}

/// Decodes a model file's bytes.
pub fn decode(bytes: &[u8]) -> Result<Model, embergrad::Error> {
    let info: ModelInfo = embergrad::io::inspect(bytes)?;
    let mut layers = vec![LayerSpec::new(1, 1, Activation::Identity); info.layer_count];
    let mut params = vec![0.0; info.param_len];
    let mut state = vec![0.0; info.checkpoint.map_or(0, |c| c.state_len)];
    load(bytes, &mut layers, &mut params, Some(&mut state))?;
    let checkpoint =
        info.checkpoint.map(|c| TrainingState { optimizer: c.optimizer, steps: c.steps, epoch: c.epoch, state });
    let preprocess = match info.task {
        Some(_) => {
            let spec = Spec::new(&layers);
            let (inputs, outputs) = (spec.inputs(), spec.outputs());
            let mut values = vec![0.0; Preprocessing::len(inputs, outputs)];
            let task = read_preprocessing(bytes, &mut values)?;
            Some(Preprocess::from_values(task, inputs, outputs, &values))
        }
        None => None,
    };
    Ok(Model { layers, params, preprocess, checkpoint })
}

/// Writes `bytes` to `path` atomically: into a temporary file in the same folder, flushed to
/// disk, then renamed over `path`. A crash at any point leaves either the old file or the new
/// one, never a mix.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), ModelError> {
    let io = |e| error(path, ModelErrorKind::Io(e));
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| io(std::io::Error::other("the path has no file name")))?;
    let temporary = folder.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| {
        let mut file = fs::File::create(&temporary)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&temporary, path)?;
        // Make the rename itself durable where the platform allows syncing a folder.
        if let Ok(dir) = fs::File::open(folder) {
            let _ = dir.sync_all();
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temporary);
    }
    result.map_err(io)
}

/// Saves a model (and checkpoint) to `path` in the embergrad format, atomically.
pub fn save_file(
    path: impl AsRef<Path>,
    spec: &Spec<'_>,
    params: &[f32],
    preprocess: Option<&Preprocess>,
    checkpoint: Option<Checkpoint<'_>>,
) -> Result<(), ModelError> {
    let path = path.as_ref();
    let bytes = encode(spec, params, preprocess, checkpoint).map_err(|e| error(path, ModelErrorKind::Format(e)))?;
    write_atomically(path, &bytes)
}

/// Loads a model file in the embergrad format.
pub fn load_file(path: impl AsRef<Path>) -> Result<Model, ModelError> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|e| error(path, ModelErrorKind::Io(e)))?;
    decode(&bytes).map_err(|e| error(path, ModelErrorKind::Format(e)))
}

/// The `nn.Sequential` index of each `Linear` layer: activations other than identity are
/// modules of their own between them (`Linear, ReLU, Linear, ...` → 0, 2, ...).
fn sequential_indices(layers: &[LayerSpec]) -> Vec<usize> {
    let mut index = 0;
    layers
        .iter()
        .map(|layer| {
            let mine = index;
            index += if layer.activation == Activation::Identity { 1 } else { 2 };
            mine
        })
        .collect()
}

/// Encodes a model as safetensors with PyTorch's names for an `nn.Sequential` of `Linear`
/// layers (`0.weight` `[out, in]`, `0.bias` `[out]`, `2.weight`, ...), float32, and the
/// activations as a JSON list in the metadata key `activations`.
pub fn to_safetensors(spec: &Spec<'_>, params: &[f32]) -> Result<Vec<u8>, String> {
    spec.validate().map_err(|e| e.to_string())?;
    if params.len() != spec.param_len() {
        return Err(format!("{} params for a network of {}", params.len(), spec.param_len()));
    }
    let indices = sequential_indices(spec.layers());
    let mut tensors = Vec::new();
    for ((offset, layer), index) in spec.layer_offsets().zip(&indices) {
        let weights = &params[offset..offset + layer.weight_len()];
        let biases = &params[offset + layer.weight_len()..offset + layer.param_len()];
        tensors.push((format!("{index}.weight"), vec![layer.outputs, layer.inputs], bytes_of(weights)));
        tensors.push((format!("{index}.bias"), vec![layer.outputs], bytes_of(biases)));
    }
    let views: Vec<(String, safetensors::tensor::TensorView<'_>)> = tensors
        .iter()
        .map(|(name, shape, data)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), data)
                .map(|view| (name.clone(), view))
                .map_err(|e| e.to_string())
        })
        .collect::<Result<_, _>>()?;
    let names: Vec<&str> = spec.layers().iter().map(|l| l.activation.name()).collect();
    let metadata = std::collections::HashMap::from([(
        "activations".to_string(),
        serde_json::to_string(&names).map_err(|e| e.to_string())?,
    )]);
    safetensors::serialize(views, Some(metadata)).map_err(|e| e.to_string())
}

fn bytes_of(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Reads a safetensors file written by PyTorch (`safetensors.torch.save_file` of an
/// `nn.Sequential` of `Linear` layers and activations, with the `activations` metadata) or by
/// [`to_safetensors`]: returns the layers and the params in the core's layout.
pub fn from_safetensors(bytes: &[u8]) -> Result<(Vec<LayerSpec>, Vec<f32>), String> {
    let (_, header) = safetensors::SafeTensors::read_metadata(bytes).map_err(|e| format!("not safetensors: {e}"))?;
    let tensors = safetensors::SafeTensors::deserialize(bytes).map_err(|e| format!("not safetensors: {e}"))?;
    let activations_json = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get("activations"))
        .ok_or("no `activations` metadata (a JSON list such as [\"relu\", \"identity\"])")?;
    let names: Vec<String> = serde_json::from_str(activations_json)
        .map_err(|e| format!("`activations` metadata is not a JSON list: {e}"))?;
    let activations: Vec<Activation> = names
        .iter()
        .map(|n| Activation::from_name(n).ok_or_else(|| format!("unknown activation `{n}`")))
        .collect::<Result<_, _>>()?;
    let provisional: Vec<LayerSpec> = activations.iter().map(|&a| LayerSpec::new(1, 1, a)).collect();
    let indices = sequential_indices(&provisional);
    let mut layers = Vec::new();
    let mut params = Vec::new();
    for (&activation, index) in activations.iter().zip(indices) {
        let weight = tensor(&tensors, &format!("{index}.weight"))?;
        let bias = tensor(&tensors, &format!("{index}.bias"))?;
        let (&[outputs, inputs], &[bias_len]) = (weight.0.as_slice(), bias.0.as_slice()) else {
            return Err(format!("`{index}.weight` must be 2-D and `{index}.bias` 1-D"));
        };
        if bias_len != outputs {
            return Err(format!("`{index}.bias` has {bias_len} values for {outputs} outputs"));
        }
        layers.push(LayerSpec::new(inputs, outputs, activation));
        params.extend(weight.1);
        params.extend(bias.1);
    }
    if tensors.len() != 2 * layers.len() {
        return Err(format!(
            "{} tensors for {} layers: expected exactly a weight and a bias per layer",
            tensors.len(),
            layers.len()
        ));
    }
    Spec::new(&layers).validate().map_err(|e| e.to_string())?;
    if let Some(bad) = params.iter().position(|v| !v.is_finite()) {
        return Err(format!("parameter {bad} is not finite"));
    }
    Ok((layers, params))
}

/// Shape and f32 values of a named tensor.
fn tensor(tensors: &safetensors::SafeTensors<'_>, name: &str) -> Result<(Vec<usize>, Vec<f32>), String> {
    let view = tensors.tensor(name).map_err(|_| format!("missing tensor `{name}`"))?;
    if view.dtype() != safetensors::Dtype::F32 {
        return Err(format!("`{name}` is {:?}, expected F32", view.dtype()));
    }
    let values = view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
    Ok((view.shape().to_vec(), values))
}

/// Reads a safetensors model file.
pub fn load_safetensors(path: impl AsRef<Path>) -> Result<(Vec<LayerSpec>, Vec<f32>), ModelError> {
    let path = path.as_ref();
    let bytes = fs::read(path).map_err(|e| error(path, ModelErrorKind::Io(e)))?;
    from_safetensors(&bytes).map_err(|e| error(path, ModelErrorKind::Safetensors(e)))
}

/// Writes a safetensors model file, atomically.
pub fn save_safetensors(path: impl AsRef<Path>, spec: &Spec<'_>, params: &[f32]) -> Result<(), ModelError> {
    let path = path.as_ref();
    let bytes = to_safetensors(spec, params).map_err(|e| error(path, ModelErrorKind::Safetensors(e)))?;
    write_atomically(path, &bytes)
}
