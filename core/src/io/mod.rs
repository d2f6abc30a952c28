//! The embergrad model file: a compact binary format for a network's spec, its params and,
//! optionally, the optimizer state and step counter to resume training exactly.
//!
//! Layout, all integers and floats little-endian:
//!
//! | bytes | content |
//! |---|---|
//! | 8 | magic `EMBRGRAD` |
//! | 2 | format version ([`VERSION`]) |
//! | 2 | flags: bit 0 = a checkpoint section follows, bit 1 = a data section follows the params (version 2) |
//! | 4 | number of layers `L` |
//! | 12·L | per layer: inputs (u32), outputs (u32), activation code (u32, [`Activation::file_code`]) |
//! | 4 | number of params `P` (must equal the spec's) |
//! | 4·P | params (f32), the flat layout of [`Spec`] |
//! | 4 | data section only: task (u8, [`Task`]), 3 zero bytes |
//! | 8·(I+O) | data section only: the [`Preprocessing`] values (f32), `I` inputs and `O` outputs of the spec |
//! | 44 | checkpoint only: optimizer kind (u8), flags (u8), 2 zero bytes, 6 hyper-parameters (f32), steps (u64), epochs completed (u64), state length `S` (u32) |
//! | 4·S | checkpoint only: optimizer state (f32) |
//! | 4 | CRC-32 of every byte before it |
//!
//! Version 2 added the data section; version-1 files (which cannot have one) still load.
//!
//! Codes are fixed per member, never a position in a list, and an unknown one is an error.
//! Activations: identity 0, relu 1, leaky_relu 2, sigmoid 3, tanh 4, gelu 5, gelu_tanh 6,
//! silu 7, elu 8, softplus 9, mish 10. Optimizers (kind; flag bits; the six values in order):
//! SGD 0 (Nesterov 1; lr, momentum, dampening, weight decay), Adagrad 1 (lr, lr decay, weight
//! decay, initial accumulator, eps), RMSprop 2 (centered 2; lr, alpha, eps, weight decay,
//! momentum), Adam 3 (AMSGrad 4, decoupled 8; lr, β1, β2, eps, weight decay), NAdam 4
//! (decoupled 8; lr, β1, β2, eps, weight decay, momentum decay), RAdam 5 (decoupled 8; lr, β1,
//! β2, eps, weight decay), Adamax 6 (lr, β1, β2, eps, weight decay), Adadelta 7 (lr, rho, eps,
//! weight decay), Rprop 8 (lr, eta minus, eta plus, step min, step max); unused slots are 0.
//!
//! Loading reads into caller-provided buffers and checks everything first (magic, version,
//! checksum, the spec, every length, every value finite, the optimizer's hyper-parameters), so
//! a corrupt, truncated or foreign file is an [`Error`] and never a half-loaded network.

mod crc32;

pub use crc32::crc32;

use crate::error::{check_len, check_min_len, Error, Result};
use crate::nn::{Activation, LayerSpec, Spec};
use crate::optim::Optimizer;

/// The file's first eight bytes.
pub const MAGIC: [u8; 8] = *b"EMBRGRAD";
/// The format version this build writes (it reads this one and every earlier one).
pub const VERSION: u16 = 2;

const HEADER_LEN: usize = 16;
const LAYER_LEN: usize = 12;
const CHECKPOINT_HEADER_LEN: usize = 4 + 6 * 4 + 8 + 8 + 4;
const FLAG_CHECKPOINT: u16 = 1;
const FLAG_DATA: u16 = 2;
const DATA_HEADER_LEN: usize = 4;

/// What the network's outputs are for: how to train it, how to read its outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Task {
    /// One class per sample: the outputs are logits of mutually exclusive classes.
    Classification,
    /// Independent yes/no targets (binary or multi-label): each output is a logit.
    MultiLabel,
    /// Real-valued targets: each output is a value (in the preprocessing's target units).
    Regression,
}

impl Task {
    /// Every task, in code order.
    pub const ALL: [Task; 3] = [Task::Classification, Task::MultiLabel, Task::Regression];

    /// The task's code in model files.
    pub const fn file_code(self) -> u8 {
        match self {
            Task::Classification => 0,
            Task::MultiLabel => 1,
            Task::Regression => 2,
        }
    }

    /// The task whose [`Task::file_code`] is `code`.
    pub fn from_file_code(code: u8) -> Option<Task> {
        Task::ALL.into_iter().find(|t| t.file_code() == code)
    }
}

/// How raw data maps to what the network sees and back, stored with the model so that
/// whoever uses it applies exactly what training applied: per input `x' = (x - offset)·factor`
/// (standardisation, min-max or a constant scale), and per output the same for targets, so a
/// regression output `y` reads `y / factor + offset` in target units.
///
/// `values` is one flat slice, [`Preprocessing::len`] long: input offsets, input factors,
/// output offsets, output factors (`inputs`, `inputs`, `outputs`, `outputs` values). Factors
/// must be finite and non-zero.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Preprocessing<'a> {
    /// What the outputs are for.
    pub task: Task,
    /// The four blocks described above.
    pub values: &'a [f32],
}

impl Preprocessing<'_> {
    /// Values for a network with `inputs` inputs and `outputs` outputs.
    pub const fn len(inputs: usize, outputs: usize) -> usize {
        2 * (inputs + outputs)
    }
}

/// Everything needed to resume training: the optimizer, its step counter and its state.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Checkpoint<'a> {
    /// The optimizer and its hyper-parameters.
    pub optimizer: Optimizer,
    /// Steps taken.
    pub steps: u64,
    /// Epochs completed (for a training loop to resume where it stopped).
    pub epoch: u64,
    /// The optimizer's state buffer.
    pub state: &'a [f32],
}

/// What a model file holds, without its numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ModelInfo {
    /// Number of layers.
    pub layer_count: usize,
    /// Number of params.
    pub param_len: usize,
    /// The checkpoint section, if present.
    pub checkpoint: Option<CheckpointInfo>,
    /// The data section's task, if the file has one (see [`read_preprocessing`]).
    pub task: Option<Task>,
    /// The format version the file was written in.
    pub version: u16,
}

/// The checkpoint section of a model file, without the state's numbers.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CheckpointInfo {
    /// The optimizer and its hyper-parameters.
    pub optimizer: Optimizer,
    /// Steps taken.
    pub steps: u64,
    /// Epochs completed.
    pub epoch: u64,
    /// Length of the optimizer state.
    pub state_len: usize,
}

/// Bytes of a model file for `spec`, with a checkpoint of `state_len` values if given (a
/// `const fn`: a device can reserve exactly this much flash or RAM).
pub const fn encoded_len(spec: &Spec<'_>, state_len: Option<usize>) -> usize {
    encoded_len_with(spec, false, state_len)
}

/// Bytes of a model file for `spec`, with a data section if `preprocessing` and a checkpoint
/// of `state_len` values if given.
pub const fn encoded_len_with(spec: &Spec<'_>, preprocessing: bool, state_len: Option<usize>) -> usize {
    let checkpoint = match state_len {
        Some(n) => CHECKPOINT_HEADER_LEN + 4 * n,
        None => 0,
    };
    let data = if preprocessing { DATA_HEADER_LEN + 4 * Preprocessing::len(spec.inputs(), spec.outputs()) } else { 0 };
    HEADER_LEN + LAYER_LEN * spec.layers().len() + 4 + 4 * spec.param_len() + data + checkpoint + 4
}

/// Writes a model file for `spec` and `params` (and `checkpoint`) into `out`; returns the
/// number of bytes written ([`encoded_len`]). Non-finite values are refused: a diverged
/// network is not saved over a good one.
///
/// ```
/// use embergrad::io::{encoded_len, load_for_spec, save};
/// use embergrad::{Activation, LayerSpec, Spec};
/// const LAYERS: [LayerSpec; 1] = [LayerSpec::new(2, 1, Activation::Sigmoid)];
/// const NET: Spec<'static> = Spec::new(&LAYERS);
/// let params = [0.5f32, -0.25, 0.125];
/// let mut file = [0u8; encoded_len(&NET, None)];
/// save(&NET, &params, None, &mut file).unwrap();
/// let mut loaded = [0.0f32; NET.param_len()];
/// load_for_spec(&file, &NET, &mut loaded, None).unwrap();
/// assert_eq!(loaded, params);
/// ```
pub fn save(spec: &Spec<'_>, params: &[f32], checkpoint: Option<Checkpoint<'_>>, out: &mut [u8]) -> Result<usize> {
    save_with(spec, params, None, checkpoint, out)
}

/// [`save`] with a data section: the [`Preprocessing`] that users of the model must apply.
pub fn save_with(
    spec: &Spec<'_>,
    params: &[f32],
    preprocessing: Option<Preprocessing<'_>>,
    checkpoint: Option<Checkpoint<'_>>,
    out: &mut [u8],
) -> Result<usize> {
    spec.validate()?;
    check_len("params", spec.param_len(), params.len())?;
    if let Some(c) = &checkpoint {
        c.optimizer.validate()?;
        check_len("optimizer state", c.optimizer.state_len(params.len()), c.state.len())?;
    }
    const CUSTOM: Error =
        Error::ModelFile { reason: "a custom activation is code and cannot be stored in a model file", offset: 0 };
    if spec.layers().iter().any(|l| l.activation.file_code().is_none()) {
        return Err(CUSTOM);
    }
    if let Some(p) = &preprocessing {
        check_len("preprocessing", Preprocessing::len(spec.inputs(), spec.outputs()), p.values.len())?;
        check_factors(spec, p.values).map_err(|reason| Error::ModelFile { reason, offset: 0 })?;
    }
    let len = encoded_len_with(spec, preprocessing.is_some(), checkpoint.as_ref().map(|c| c.state.len()));
    check_min_len("output", len, out.len())?;
    let mut w = Writer { out: &mut out[..len], pos: 0 };
    w.bytes(&MAGIC);
    w.u16(VERSION);
    let flag = |on: bool, bit: u16| if on { bit } else { 0 };
    w.u16(flag(checkpoint.is_some(), FLAG_CHECKPOINT) | flag(preprocessing.is_some(), FLAG_DATA));
    w.u32(spec.layers().len() as u32);
    for layer in spec.layers() {
        w.u32(layer.inputs as u32);
        w.u32(layer.outputs as u32);
        w.u32(layer.activation.file_code().ok_or(CUSTOM)?);
    }
    w.u32(params.len() as u32);
    w.floats(params)?;
    if let Some(p) = preprocessing {
        w.bytes(&[p.task.file_code(), 0, 0, 0]);
        w.floats(p.values)?;
    }
    if let Some(c) = checkpoint {
        let (kind, flags, values) = c.optimizer.file_parts();
        w.bytes(&[kind, flags, 0, 0]);
        w.floats(&values)?;
        w.u64(c.steps);
        w.u64(c.epoch);
        w.u32(c.state.len() as u32);
        w.floats(c.state)?;
    }
    let checksum = crc32(&w.out[..len - 4]);
    w.u32(checksum);
    Ok(len)
}

/// Why a preprocessing block is unusable, if it is: a factor that is zero (the offsets'
/// finiteness is checked where they are written or read).
fn check_factors(spec: &Spec<'_>, values: &[f32]) -> core::result::Result<(), &'static str> {
    let (inputs, outputs) = (spec.inputs(), spec.outputs());
    let input_factors = &values[inputs..2 * inputs];
    let output_factors = &values[2 * inputs + outputs..];
    if input_factors.iter().chain(output_factors).any(|&f| f == 0.0 || !f.is_finite()) {
        return Err("a preprocessing factor is zero or not finite");
    }
    Ok(())
}

/// Reads the data section of a model file into `values` ([`Preprocessing::len`] of the
/// file's spec) after checking the whole file; returns its task. An error if the file has no
/// data section. Nothing is written unless the whole file is valid.
pub fn read_preprocessing(bytes: &[u8], values: &mut [f32]) -> Result<Task> {
    let info = inspect(bytes)?;
    let task = info.task.ok_or(Error::ModelFile { reason: "the file has no data section", offset: 0 })?;
    decode::<true>(bytes, &mut Outputs { preprocessing: Some(values), ..Outputs::none() })?;
    Ok(task)
}

/// Checks a model file completely and describes it, without loading anything.
pub fn inspect(bytes: &[u8]) -> Result<ModelInfo> {
    decode::<true>(bytes, &mut Outputs::none())
}

/// Loads a model file into `layers` (room for at least its layer count; the first
/// `layer_count` entries are written), `params` (exactly its length) and, if the file has a
/// checkpoint and `state` is given, `state` (exactly its length). Nothing is written unless
/// the whole file is valid.
pub fn load(
    bytes: &[u8],
    layers: &mut [LayerSpec],
    params: &mut [f32],
    state: Option<&mut [f32]>,
) -> Result<ModelInfo> {
    let info = inspect(bytes)?;
    check_min_len("layers", info.layer_count, layers.len())?;
    check_len("params", info.param_len, params.len())?;
    let state = check_state(&info, state)?;
    decode::<true>(bytes, &mut Outputs { layers: Some(layers), params: Some(params), state, ..Outputs::none() })
}

/// Loads a model file that must hold exactly the network `spec` (else
/// [`Error::SpecMismatch`]) into `params` and, if present and asked for, `state`. Nothing is
/// written unless the whole file is valid. This is the call for firmware that embeds a model
/// with `include_bytes!`.
pub fn load_for_spec(
    bytes: &[u8],
    spec: &Spec<'_>,
    params: &mut [f32],
    state: Option<&mut [f32]>,
) -> Result<ModelInfo> {
    spec.validate()?;
    let info = decode::<true>(bytes, &mut Outputs { expected: Some(spec.layers()), ..Outputs::none() })?;
    check_len("params", info.param_len, params.len())?;
    let state = check_state(&info, state)?;
    decode::<true>(
        bytes,
        &mut Outputs { params: Some(params), state, expected: Some(spec.layers()), ..Outputs::none() },
    )
}

/// Loads only the params of a model file that must hold exactly the network `spec` (else
/// [`Error::SpecMismatch`]): every check of [`load_for_spec`] but one. A checkpoint
/// section's optimizer (its code, hyper-parameters and state length) is read over, not
/// decoded: the checksum and the section's framing still cover it, and a firmware that loads
/// its model this way links no optimizer's code for it. Nothing is written unless the whole
/// file is valid.
///
/// ```
/// use embergrad::io::{encoded_len, load_params_for_spec, save};
/// use embergrad::{Activation, LayerSpec, Spec};
/// let layers = [LayerSpec::new(2, 3, Activation::Tanh), LayerSpec::new(3, 1, Activation::Sigmoid)];
/// let spec = Spec::new(&layers);
/// let params: Vec<f32> = (0..spec.param_len()).map(|i| i as f32 * 0.1).collect();
/// let mut file = vec![0u8; encoded_len(&spec, None)];
/// save(&spec, &params, None, &mut file)?;
/// let mut loaded = vec![0.0; spec.param_len()];
/// load_params_for_spec(&file, &spec, &mut loaded)?;
/// assert_eq!(loaded, params);
/// # Ok::<(), embergrad::Error>(())
/// ```
pub fn load_params_for_spec(bytes: &[u8], spec: &Spec<'_>, params: &mut [f32]) -> Result<()> {
    spec.validate()?;
    let info = decode::<false>(bytes, &mut Outputs { expected: Some(spec.layers()), ..Outputs::none() })?;
    check_len("params", info.param_len, params.len())?;
    decode::<false>(bytes, &mut Outputs { params: Some(params), expected: Some(spec.layers()), ..Outputs::none() })?;
    Ok(())
}

fn check_state<'s>(info: &ModelInfo, state: Option<&'s mut [f32]>) -> Result<Option<&'s mut [f32]>> {
    match (info.checkpoint, state) {
        (Some(c), Some(s)) => {
            check_len("optimizer state", c.state_len, s.len())?;
            Ok(Some(s))
        }
        _ => Ok(None),
    }
}

/// Where a decoding pass writes (nothing, on the checking pass).
struct Outputs<'o> {
    layers: Option<&'o mut [LayerSpec]>,
    params: Option<&'o mut [f32]>,
    state: Option<&'o mut [f32]>,
    /// The data section's values (checked for length before writing).
    preprocessing: Option<&'o mut [f32]>,
    /// Layers the file must match.
    expected: Option<&'o [LayerSpec]>,
}

impl Outputs<'_> {
    fn none() -> Self {
        Outputs { layers: None, params: None, state: None, preprocessing: None, expected: None }
    }
}

/// Walks the whole file, checking everything (a checkpoint's optimizer only with
/// `OPTIMIZER`; without it, the info has no checkpoint), and writes into `out` what it asks
/// for.
fn decode<const OPTIMIZER: bool>(bytes: &[u8], out: &mut Outputs<'_>) -> Result<ModelInfo> {
    let mut r = Reader { bytes, pos: 0 };
    if bytes.len() < MAGIC.len() || bytes[..MAGIC.len()] != MAGIC {
        return Err(Error::ModelFile { reason: "not an embergrad model file (wrong magic bytes)", offset: 0 });
    }
    r.pos = MAGIC.len();
    let version = r.u16()?;
    if version == 0 || version > VERSION {
        return Err(Error::UnsupportedVersion { version });
    }
    if bytes.len() < HEADER_LEN + 4 {
        return Err(Error::ModelFile { reason: "truncated header", offset: bytes.len() });
    }
    let body = &bytes[..bytes.len() - 4];
    let stored =
        u32::from_le_bytes([bytes[body.len()], bytes[body.len() + 1], bytes[body.len() + 2], bytes[body.len() + 3]]);
    let computed = crc32(body);
    if stored != computed {
        return Err(Error::ChecksumMismatch { stored, computed });
    }
    r.bytes = body;
    let flags = r.u16()?;
    let known = if version >= 2 { FLAG_CHECKPOINT | FLAG_DATA } else { FLAG_CHECKPOINT };
    if flags & !known != 0 {
        return Err(Error::ModelFile { reason: "unknown flags", offset: 10 });
    }
    let layer_count = r.u32()? as usize;
    if layer_count == 0 {
        return Err(Error::ModelFile { reason: "no layers", offset: 12 });
    }
    if let Some(expected) = out.expected {
        if expected.len() != layer_count {
            return Err(Error::SpecMismatch { layer: expected.len().min(layer_count) });
        }
    }
    let mut param_len = 0usize;
    let mut previous_outputs = None;
    let (mut first_inputs, mut last_outputs) = (0usize, 0usize);
    for index in 0..layer_count {
        let offset = r.pos;
        let inputs = r.u32()? as usize;
        let outputs = r.u32()? as usize;
        let code = r.u32()?;
        let activation = Activation::from_file_code(code)
            .ok_or(Error::ModelFile { reason: "unknown activation code", offset: offset + 8 })?;
        if inputs == 0 || outputs == 0 {
            return Err(Error::ModelFile { reason: "a layer has zero width", offset });
        }
        if previous_outputs.is_some_and(|p| p != inputs) {
            return Err(Error::ModelFile { reason: "layer widths do not chain", offset });
        }
        previous_outputs = Some(outputs);
        if index == 0 {
            first_inputs = inputs;
        }
        last_outputs = outputs;
        let layer = LayerSpec::new(inputs, outputs, activation);
        param_len = inputs
            .checked_add(1)
            .and_then(|i| i.checked_mul(outputs))
            .and_then(|n| n.checked_add(param_len))
            .ok_or(Error::ModelFile { reason: "layer too large", offset })?;
        if let Some(expected) = out.expected {
            if expected[index] != layer {
                return Err(Error::SpecMismatch { layer: index });
            }
        }
        if let Some(layers) = out.layers.as_deref_mut() {
            layers[index] = layer;
        }
    }
    let offset = r.pos;
    if r.u32()? as usize != param_len {
        return Err(Error::ModelFile { reason: "param count differs from the layers' sizes", offset });
    }
    r.floats(param_len, out.params.as_deref_mut())?;
    let task = if flags & FLAG_DATA != 0 {
        let offset = r.pos;
        let head = [r.u8()?, r.u8()?, r.u8()?, r.u8()?];
        let task = Task::from_file_code(head[0]).ok_or(Error::ModelFile { reason: "unknown task", offset })?;
        if head[1..] != [0, 0, 0] {
            return Err(Error::ModelFile { reason: "data section has non-zero reserved bytes", offset: offset + 1 });
        }
        let len = Preprocessing::len(first_inputs, last_outputs);
        let values_offset = r.pos;
        if let Some(values) = out.preprocessing.as_deref() {
            check_len("preprocessing", len, values.len())?;
        }
        r.floats(len, out.preprocessing.as_deref_mut())?;
        // A zero factor is refused on reading as on writing: a file is usable or an error.
        let value_at = |i: usize| {
            let at = values_offset + 4 * i;
            f32::from_le_bytes([body[at], body[at + 1], body[at + 2], body[at + 3]])
        };
        let factors = (first_inputs..2 * first_inputs).chain(2 * first_inputs + last_outputs..len);
        if factors.into_iter().any(|i| value_at(i) == 0.0) {
            return Err(Error::ModelFile { reason: "a preprocessing factor is zero", offset: values_offset });
        }
        Some(task)
    } else {
        None
    };
    let checkpoint = if flags & FLAG_CHECKPOINT != 0 {
        let offset = r.pos;
        let head = [r.u8()?, r.u8()?, r.u8()?, r.u8()?];
        let mut values = [0.0f32; 6];
        for v in &mut values {
            *v = r.f32()?;
        }
        let reserved =
            Error::ModelFile { reason: "optimizer section has unknown flags or non-zero reserved fields", offset };
        // Without `OPTIMIZER` the optimizer is read over: only its reserved bytes are checked.
        let optimizer = if OPTIMIZER {
            let optimizer = Optimizer::from_file_parts(head[0], head[1], &values)
                .ok_or(Error::ModelFile { reason: "unknown optimizer", offset })?;
            // Reserved bytes, unknown flag bits and unused slots must be zero: one model, one
            // encoding (what `save` writes back is bit for bit what was read).
            let (kind, flags, canonical) = optimizer.file_parts();
            let same_values = canonical.iter().zip(&values).all(|(a, b)| a.to_bits() == b.to_bits());
            if head != [kind, flags, 0, 0] || !same_values {
                return Err(reserved);
            }
            optimizer
                .validate()
                .map_err(|_| Error::ModelFile { reason: "invalid optimizer hyper-parameters", offset })?;
            Some(optimizer)
        } else if head[2..] != [0, 0] {
            return Err(reserved);
        } else {
            None
        };
        let steps = r.u64()?;
        let epoch = r.u64()?;
        let state_offset = r.pos;
        let state_len = r.u32()? as usize;
        if optimizer.is_some_and(|o| state_len != o.state_len(param_len)) {
            return Err(Error::ModelFile {
                reason: "optimizer state length does not fit the optimizer",
                offset: state_offset,
            });
        }
        r.floats(state_len, out.state.as_deref_mut())?;
        optimizer.map(|optimizer| CheckpointInfo { optimizer, steps, epoch, state_len })
    } else {
        None
    };
    if r.pos != body.len() {
        return Err(Error::ModelFile { reason: "trailing bytes after the model", offset: r.pos });
    }
    Ok(ModelInfo { layer_count, param_len, checkpoint, task, version })
}

/// Whether no code appears twice in a family's list of model-file codes (the activation and
/// optimizer lists assert it at compile time).
pub(crate) const fn codes_are_unique(codes: &[u32]) -> bool {
    let mut i = 0;
    while i < codes.len() {
        let mut j = i + 1;
        while j < codes.len() {
            if codes[i] == codes[j] {
                return false;
            }
            j += 1;
        }
        i += 1;
    }
    true
}

struct Writer<'o> {
    out: &'o mut [u8],
    pos: usize,
}

impl Writer<'_> {
    fn bytes(&mut self, b: &[u8]) {
        self.out[self.pos..self.pos + b.len()].copy_from_slice(b);
        self.pos += b.len();
    }
    fn u16(&mut self, v: u16) {
        self.bytes(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.bytes(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.bytes(&v.to_le_bytes());
    }
    fn floats(&mut self, values: &[f32]) -> Result<()> {
        for (i, v) in values.iter().enumerate() {
            if !v.is_finite() {
                return Err(Error::ModelFile {
                    reason: "refusing to save a non-finite value",
                    offset: self.pos + 4 * i,
                });
            }
        }
        for v in values {
            self.bytes(&v.to_le_bytes());
        }
        Ok(())
    }
}

struct Reader<'b> {
    bytes: &'b [u8],
    pos: usize,
}

impl<'b> Reader<'b> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let end = self.pos.checked_add(N).filter(|&end| end <= self.bytes.len());
        let end = end.ok_or(Error::ModelFile { reason: "truncated", offset: self.bytes.len() })?;
        let mut out = [0u8; N];
        out.copy_from_slice(&self.bytes[self.pos..end]);
        self.pos = end;
        Ok(out)
    }
    fn u8(&mut self) -> Result<u8> {
        Ok(self.take::<1>()?[0])
    }
    fn u16(&mut self) -> Result<u16> {
        Ok(u16::from_le_bytes(self.take()?))
    }
    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take()?))
    }
    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take()?))
    }
    fn f32(&mut self) -> Result<f32> {
        Ok(f32::from_le_bytes(self.take()?))
    }
    /// Reads `count` finite floats, writing them into `out` if given.
    fn floats(&mut self, count: usize, mut out: Option<&mut [f32]>) -> Result<()> {
        let needed = count.checked_mul(4).ok_or(Error::ModelFile { reason: "length overflows", offset: self.pos })?;
        if self.bytes.len() - self.pos < needed {
            return Err(Error::ModelFile { reason: "truncated", offset: self.bytes.len() });
        }
        for i in 0..count {
            let offset = self.pos;
            let value = self.f32()?;
            if !value.is_finite() {
                return Err(Error::ModelFile { reason: "non-finite value", offset });
            }
            if let Some(out) = out.as_deref_mut() {
                out[i] = value;
            }
        }
        Ok(())
    }
}
